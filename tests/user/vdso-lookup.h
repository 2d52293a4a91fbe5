/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The vDSO tests' symbol lookup (vdso.c, vdso64.c): a dynamic symbol of
 * the vDSO image at eh, found through DT_HASH as a dynamic loader does,
 * in the program's own ELF class (glibc's ElfW).
 */
#ifndef MIMIC_TESTS_USER_VDSO_LOOKUP_H
#define MIMIC_TESTS_USER_VDSO_LOOKUP_H

#include <elf.h>
#include <link.h>
#include <string.h>

/* (ELF32_ST_TYPE and ELF64_ST_TYPE are the same: the low 4 bits.) */
static unsigned long lookup(const ElfW(Ehdr) *eh, const char *name)
{
    const ElfW(Phdr) *ph = (const void *)((const char *)eh + eh->e_phoff);
    unsigned long base = (unsigned long)eh, load = 0;
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && !load) {
            load = base - ph[i].p_vaddr + ph[i].p_offset;
        } else if (ph[i].p_type == PT_DYNAMIC) {
            dyn = (const void *)(ph[i].p_offset + base);
        }
    }
    const ElfW(Word) *hash = NULL;
    const ElfW(Sym) *sym = NULL;
    const char *str = NULL;
    for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_HASH) {
            hash = (const void *)(dyn->d_un.d_ptr + load);
        } else if (dyn->d_tag == DT_SYMTAB) {
            sym = (const void *)(dyn->d_un.d_ptr + load);
        } else if (dyn->d_tag == DT_STRTAB) {
            str = (const void *)(dyn->d_un.d_ptr + load);
        }
    }
    if (!hash || !sym || !str) {
        return 0;
    }
    for (ElfW(Word) i = 1; i < hash[1]; i++) {
        if (sym[i].st_shndx != SHN_UNDEF &&
            ELF64_ST_TYPE(sym[i].st_info) == STT_FUNC &&
            !strcmp(str + sym[i].st_name, name)) {
            return sym[i].st_value + load;
        }
    }
    return 0;
}

#endif
