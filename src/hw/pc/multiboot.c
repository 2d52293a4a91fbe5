/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Multiboot version 1 kernels for -kernel (Multiboot Specification
 * 0.6.96): the kernel image is loaded at the addresses its header gives
 * (the "a.out kludge", flag 16) or, without them, at its ELF32 program
 * headers' physical addresses; modules (-initrd "file args,file args")
 * follow it, each page-aligned; the information structure gives the
 * memory sizes, the boot device, the command line ("KERNEL APPEND", as
 * QEMU passes it), the modules, the BIOS memory map (filled in by the ROM
 * from INT 15h E820) and the boot loader's name.  pc/rom/multiboot.asm
 * does the copying and the jump at boot.
 */
#include "hw/pc/loader.h"

#include <string.h>

#define MB_MAGIC 0x1badb002u
#define MB_BOOT_MAGIC 0x2badb002u
#define MB_SEARCH 8192

/* Header flags: what the kernel requires (bits 0-15) or offers. */
#define MB_PAGE_ALIGN (1u << 0)
#define MB_MEMORY_INFO (1u << 1)
#define MB_VIDEO_MODE (1u << 2)
#define MB_AOUT_KLUDGE (1u << 16)
#define MB_KNOWN_REQUIRED (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE)

/* Information structure flags. */
#define MBI_MEMORY (1u << 0)
#define MBI_BOOT_DEVICE (1u << 1)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

/* The low block (keep in step with rom/multiboot.asm). */
#define MB_LOW 0x8000u
#define MB_GDTR (MB_LOW + 0x18)
#define MB_STUB (MB_LOW + 0x20)
#define MB_INFO (MB_LOW + 0x100)
#define MB_MODS (MB_LOW + 0x200)     /* module entries, 16 bytes each */
#define MB_MAX_MODS 64
#define MB_MMAP 0x9000u
#define MB_MMAP_MAX 64
#define MB_STRINGS (MB_MMAP + MB_MMAP_MAX * 24)
#define MB_LOW_END 0x9f000u          /* below the EBDA */

#define MB_KERNEL_MIN 0x100000u      /* kernels load at 1 MiB or above */
#define MB_TOP_RESERVE 0x20000u      /* firmware tables below the top */

extern const uint8_t multiboot_rom[];
extern const size_t multiboot_rom_len;

static uint16_t rd16(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

void loader_install_rom(FwCfg *f, BoardInstance *ctx, const char *file,
                        const uint8_t *rom_in, size_t len)
{
    uint8_t *rom = g_memdup2(rom_in, len);
    uint8_t sum = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        sum += rom[i];
    }
    rom[len - 1] = -sum;
    g_autofree char *path = g_strdup_printf("genroms/%s", file);
    fw_cfg_add_file(f, path, rom, len);
    board_add_rom(ctx, file, rom, len);
    g_autofree char *order = g_strdup_printf("/rom@%s\n", path);
    size_t olen = strlen(order);
    fw_cfg_add_file(f, "bootorder", g_memdup2(order, olen), olen);
}

long multiboot_header_offset(const uint8_t *kern, size_t len)
{
    size_t end = MIN(len, (size_t)MB_SEARCH);
    for (size_t off = 0; off + 12 <= end; off += 4) {
        if (loader_le32(kern + off) == MB_MAGIC &&
            (uint32_t)(loader_le32(kern + off) + loader_le32(kern + off + 4) +
                       loader_le32(kern + off + 8)) == 0) {
            return (long)off;
        }
    }
    return -1;
}

static bool bad(GError **error, const char *path, const char *what)
{
    g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                "-kernel: '%s': Multiboot kernel %s", path, what);
    return false;
}

/* The kernel image as one blob at *load (bss zeroed), its entry point. */
static bool image_aout(const uint8_t *k, size_t klen, long hoff,
                       const char *path, uint64_t top, uint32_t *load,
                       uint8_t **blob, size_t *blen, uint32_t *entry,
                       GError **error)
{
    if ((size_t)hoff + 32 > klen) {
        return bad(error, path, "header is truncated");
    }
    const uint8_t *h = k + hoff;
    uint32_t header_addr = loader_le32(h + 12), load_addr = loader_le32(h + 16);
    uint32_t load_end = loader_le32(h + 20), bss_end = loader_le32(h + 24);
    *entry = loader_le32(h + 28);
    if (load_addr > header_addr ||
        header_addr - load_addr > (uint32_t)hoff) {
        return bad(error, path, "has a load address after its header");
    }
    uint64_t file_off = (uint64_t)hoff - (header_addr - load_addr);
    uint64_t size = load_end ? (uint64_t)load_end - load_addr
                             : klen - file_off;
    if (load_end && load_end < load_addr) {
        return bad(error, path, "ends before it starts");
    }
    if (file_off + size > klen) {
        return bad(error, path, "is shorter than its header says");
    }
    uint64_t mem = size;
    if (bss_end) {
        if ((uint64_t)bss_end < load_addr + size) {
            return bad(error, path, "has its bss before its end");
        }
        mem = (uint64_t)bss_end - load_addr;
    }
    if (mem == 0) {
        return bad(error, path, "loads nothing");
    }
    if (load_addr < MB_KERNEL_MIN || load_addr + mem > top) {
        return bad(error, path, "does not fit in RAM above 1 MiB");
    }
    *load = load_addr;
    *blen = (size_t)mem;
    *blob = g_malloc0(*blen);
    memcpy(*blob, k + file_off, (size_t)size);
    return true;
}

static bool image_elf(const uint8_t *k, size_t klen, const char *path,
                      uint64_t top, uint32_t *load, uint8_t **blob,
                      size_t *blen, uint32_t *entry, GError **error)
{
    if (klen < 52 || memcmp(k, "\x7f" "ELF", 4) || k[4] != 1 || k[5] != 1 ||
        rd16(k + 18) != 3) {
        return bad(error, path, "is neither an ELF32 i386 file nor marked "
                   "with load addresses (flag 16)");
    }
    uint32_t phoff = loader_le32(k + 28);
    unsigned phentsize = rd16(k + 42), phnum = rd16(k + 44);
    *entry = loader_le32(k + 24);
    if (phentsize < 32 || phnum == 0 || phnum > 64 ||
        phoff > klen || (uint64_t)phentsize * phnum > klen - phoff) {
        return bad(error, path, "has invalid program headers");
    }
    uint64_t lo = UINT64_MAX, hi = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = k + phoff + (size_t)i * phentsize;
        if (loader_le32(ph) != 1 || !loader_le32(ph + 20)) {   /* PT_LOAD, p_memsz */
            continue;
        }
        uint64_t pa = loader_le32(ph + 12), filesz = loader_le32(ph + 16);
        uint64_t memsz = loader_le32(ph + 20), off = loader_le32(ph + 4);
        if (filesz > memsz || off > klen || filesz > klen - off) {
            return bad(error, path, "has a segment outside the file");
        }
        lo = MIN(lo, pa);
        hi = MAX(hi, pa + memsz);
    }
    if (lo == UINT64_MAX) {
        return bad(error, path, "has nothing to load");
    }
    if (lo < MB_KERNEL_MIN || hi > top) {
        return bad(error, path, "does not fit in RAM above 1 MiB");
    }
    *load = (uint32_t)lo;
    *blen = (size_t)(hi - lo);
    *blob = g_malloc0(*blen);
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = k + phoff + (size_t)i * phentsize;
        if (loader_le32(ph) == 1 && loader_le32(ph + 20)) {
            memcpy(*blob + (loader_le32(ph + 12) - lo), k + loader_le32(ph + 4),
                   loader_le32(ph + 16));
        }
    }
    return true;
}

/* Split -initrd at single commas (",," stands for a comma). */
static GPtrArray *split_modules(const char *s)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    GString *cur = g_string_new(NULL);
    for (const char *p = s; ; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(cur, ',');
            p++;
        } else if (*p == ',' || !*p) {
            g_ptr_array_add(a, g_string_free(cur, FALSE));
            if (!*p) {
                break;
            }
            cur = g_string_new(NULL);
        } else {
            g_string_append_c(cur, *p);
        }
    }
    return a;
}

/* Strings of the low block, from MB_STRINGS up. */
static bool put_string(uint8_t *low, uint32_t *next, const char *s,
                       uint32_t *addr, GError **error)
{
    size_t n = strlen(s) + 1;
    if (*next + n > MB_LOW_END) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "-kernel: the Multiboot command lines are too long");
        return false;
    }
    memcpy(low + (*next - MB_LOW), s, n);
    *addr = *next;
    *next += (uint32_t)n;
    return true;
}

static void build_stub(uint8_t *low, uint32_t entry)
{
    /* Flat 4 GiB code (0x08) and data (0x10) segments. */
    static const uint8_t gdt[24] = {
        0, 0, 0, 0, 0, 0, 0, 0,
        0xff, 0xff, 0, 0, 0, 0x9a, 0xcf, 0,
        0xff, 0xff, 0, 0, 0, 0x92, 0xcf, 0,
    };
    memcpy(low, gdt, sizeof(gdt));
    uint8_t *gdtr = low + (MB_GDTR - MB_LOW);
    gdtr[0] = sizeof(gdt) - 1;
    gdtr[1] = 0;
    loader_put_le32(gdtr + 2, MB_LOW);
    uint8_t *c = low + (MB_STUB - MB_LOW);
    static const uint8_t segs[] = {
        0x66, 0xb8, 0x10, 0x00,     /* mov ax, 0x10 */
        0x8e, 0xd8, 0x8e, 0xc0,     /* mov ds, ax; mov es, ax */
        0x8e, 0xe0, 0x8e, 0xe8,     /* mov fs, ax; mov gs, ax */
        0x8e, 0xd0,                 /* mov ss, ax */
    };
    memcpy(c, segs, sizeof(segs));
    c += sizeof(segs);
    *c++ = 0xbc;                    /* mov esp, 0x7c00 */
    loader_put_le32(c, 0x7c00);
    c += 4;
    *c++ = 0xb8;                    /* mov eax, MB_BOOT_MAGIC */
    loader_put_le32(c, MB_BOOT_MAGIC);
    c += 4;
    *c++ = 0xbb;                    /* mov ebx, MB_INFO */
    loader_put_le32(c, MB_INFO);
    c += 4;
    *c++ = 0xb9;                    /* mov ecx, entry */
    loader_put_le32(c, entry);
    c += 4;
    *c++ = 0xff;                    /* jmp ecx */
    *c++ = 0xe1;
}

bool multiboot_setup(FwCfg *f, BoardInstance *ctx, const uint8_t *kern,
                     size_t klen, const MultibootArgs *a, GError **error)
{
    long hoff = multiboot_header_offset(kern, klen);
    if (hoff < 0) {
        return bad(error, a->kernel_path, "header not found");
    }
    uint32_t flags = loader_le32(kern + hoff + 4);
    if (flags & 0xffff & ~MB_KNOWN_REQUIRED) {
        g_autofree char *why = g_strdup_printf(
            "requires features this loader lacks (flags 0x%08x)", flags);
        return bad(error, a->kernel_path, why);
    }
    uint64_t top = MIN(a->below_4g, (uint64_t)0xffffffffu) - MB_TOP_RESERVE;
    uint32_t load, entry;
    uint8_t *image = NULL;
    size_t ilen;
    bool ok = (flags & MB_AOUT_KLUDGE)
                  ? image_aout(kern, klen, hoff, a->kernel_path, top, &load,
                               &image, &ilen, &entry, error)
                  : image_elf(kern, klen, a->kernel_path, top, &load,
                              &image, &ilen, &entry, error);
    if (!ok) {
        return false;
    }

    uint8_t *low = g_malloc0(MB_LOW_END - MB_LOW);
    uint32_t next_str = MB_STRINGS;
    uint8_t *mbi = low + (MB_INFO - MB_LOW);
    uint32_t mbi_flags = MBI_MEMORY | MBI_BOOT_DEVICE | MBI_CMDLINE |
                         MBI_MMAP | MBI_LOADER_NAME;
    /* mem_lower, mem_upper: the ROM sets them from the E820 map. */
    loader_put_le32(mbi + 4, 639);
    loader_put_le32(mbi + 8, (uint32_t)((MIN(a->below_4g, (uint64_t)0xffffffffu) -
                              0x100000) / 1024));        /* mem_upper */
    loader_put_le32(mbi + 12, 0x8000ffffu);     /* boot_device: first hard disk */
    uint32_t addr;
    g_autofree char *cmdline = g_strdup_printf(
        "%s%s%s", a->kernel_path, a->append ? " " : "",
        a->append ? a->append : "");
    ok = put_string(low, &next_str, cmdline, &addr, error);
    loader_put_le32(mbi + 16, addr);
    ok = ok && put_string(low, &next_str, "Mimic", &addr, error);
    loader_put_le32(mbi + 64, addr);
    loader_put_le32(mbi + 48, MB_MMAP);         /* mmap_addr; the ROM sets length */

    /* Modules: after the kernel, page-aligned, one blob. */
    GByteArray *mods = g_byte_array_new();
    uint32_t mods_base = (uint32_t)((load + ilen + 0xfff) & ~0xfffu);
    int nmods = 0;
    if (ok && a->modules && *a->modules) {
        g_autoptr(GPtrArray) list = split_modules(a->modules);
        for (guint i = 0; ok && i < list->len; i++) {
            const char *spec = g_ptr_array_index(list, i);
            g_autofree char *file = g_strndup(spec, strcspn(spec, " "));
            if (!*file || nmods == MB_MAX_MODS) {
                g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                            *file ? "-initrd: more than %d modules"
                                  : "-initrd: an empty module name",
                            MB_MAX_MODS);
                ok = false;
                break;
            }
            uint64_t start = mods_base + (uint64_t)mods->len;
            uint8_t *data = NULL;
            size_t dlen = 0;
            if (start >= top ||
                !board_load_file("-initrd", file, (size_t)(top - start),
                                 &data, &dlen, error)) {
                if (start >= top) {
                    g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                                "-initrd: the modules do not fit in RAM");
                }
                ok = false;
                break;
            }
            g_byte_array_append(mods, data, (guint)dlen);
            g_free(data);
            uint8_t *e = low + (MB_MODS - MB_LOW) + nmods * 16;
            loader_put_le32(e, (uint32_t)start);
            loader_put_le32(e + 4, (uint32_t)(start + dlen));
            ok = put_string(low, &next_str, spec, &addr, error);
            loader_put_le32(e + 8, addr);
            nmods++;
            /* The next one starts on a page boundary. */
            guint pad = (guint)(((mods->len + 0xfff) & ~0xfffu) - mods->len);
            static const uint8_t zero[4096];
            g_byte_array_append(mods, zero, pad);
        }
        if (ok && (uint64_t)mods_base + mods->len > top) {
            g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                        "-initrd: the modules do not fit in RAM");
            ok = false;
        }
    }
    if (!ok) {
        g_byte_array_unref(mods);
        g_free(low);
        g_free(image);
        return false;
    }
    if (nmods) {
        mbi_flags |= MBI_MODS;
    }
    loader_put_le32(mbi + 20, nmods);
    loader_put_le32(mbi + 24, MB_MODS);
    loader_put_le32(mbi, mbi_flags);
    build_stub(low, entry);

    fw_cfg_add_i32(f, FW_CFG_SETUP_ADDR, MB_LOW);
    fw_cfg_add_i32(f, FW_CFG_SETUP_SIZE, MB_LOW_END - MB_LOW);
    fw_cfg_add(f, FW_CFG_SETUP_DATA, low, MB_LOW_END - MB_LOW);
    fw_cfg_add_i32(f, FW_CFG_KERNEL_ADDR, load);
    fw_cfg_add_i32(f, FW_CFG_KERNEL_SIZE, (uint32_t)ilen);
    fw_cfg_add_i32(f, FW_CFG_KERNEL_ENTRY, entry);
    fw_cfg_add(f, FW_CFG_KERNEL_DATA, image, (uint32_t)ilen);
    guint mlen = mods->len;
    fw_cfg_add_i32(f, FW_CFG_INITRD_ADDR, mlen ? mods_base : 0);
    fw_cfg_add_i32(f, FW_CFG_INITRD_SIZE, mlen);
    fw_cfg_add(f, FW_CFG_INITRD_DATA, g_byte_array_free(mods, FALSE), mlen);
    fw_cfg_add_i32(f, FW_CFG_CMDLINE_ADDR, 0);
    fw_cfg_add_i32(f, FW_CFG_CMDLINE_SIZE, 0);
    loader_install_rom(f, ctx, "multiboot.bin", multiboot_rom,
                       multiboot_rom_len);
    return true;
}
