/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer entry point for the ELF loader of Linux user mode
 * (src/user/elf.c): the input is a program file; its class and byte order
 * pick the MIPS flavour, EM_386 picks i386 (so most inputs reach the
 * program headers), it is
 * loaded into a fresh guest address space with an empty -L sysroot (a
 * PT_INTERP never reaches the host's files), and the space is dropped.
 * A malformed file must be one clean error: no host fault, no hang.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "user/user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *empty_root;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!empty_root) {
        empty_root = g_dir_make_tmp("fuzz-elf-XXXXXX", NULL);
        g_assert(empty_root);
    }
    int fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
    g_assert(fd >= 0);
    g_assert(write(fd, data, size) == (ssize_t)size);
    g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);

    bool is64 = size > 4 && data[4] == 2;
    bool be = size > 5 && data[5] == 2;
    UserProc *p = g_new0(UserProc, 1);
    p->arch = is64 ? (be ? &user_arch_mips64 : &user_arch_mips64el)
                   : (be ? &user_arch_mips : &user_arch_mipsel);
    if (!is64 && !be && size > 19 && data[18] == 3 && data[19] == 0) {
        p->arch = &user_arch_i386; /* EM_386 */
    }
    if (is64 && !be && size > 19 && data[18] == 62 && data[19] == 0) {
        p->arch = &user_arch_x86_64; /* EM_X86_64 */
    }
    p->sysroot = empty_root;
    GError *err = NULL;
    g_assert(user_mem_init(p, &err));
    char *argv[] = { (char *)"prog", (char *)"arg", NULL };
    char *envp[] = { (char *)"A=B", NULL };
    uint64_t pc, sp;
    if (user_load(p, path, argv, envp, NULL, &pc, &sp, &err)) {
        g_assert(user_range_ok(p, sp, 16));
    } else {
        g_assert(err && err->message[0]);
        g_error_free(err);
    }
    munmap(p->guest_base, p->reserve_size);
    for (guint i = 0; i < p->maps->len; i++) {
        g_free(g_array_index(p->maps, UserMap, i).name);
    }
    g_array_free(p->maps, true);
    g_mutex_clear(&p->mm_lock);
    g_hash_table_destroy(p->code_pages);
    g_mutex_clear(&p->code_lock);
    g_free(p);
    close(fd);
    return 0;
}
