/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Direct kernel boot on the pc board (-kernel, -initrd, -append): the
 * board prepares the pieces behind fw_cfg and installs a small option ROM
 * of ours that SeaBIOS boots first; the ROM copies the pieces into place
 * and starts the kernel.  Linux bzImages use linuxboot.asm (pc.c);
 * Multiboot version 1 kernels, a.out-kludge or ELF, use multiboot.asm
 * (multiboot.c).
 */
#ifndef MIMIC_HW_PC_LOADER_H
#define MIMIC_HW_PC_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "hw/board.h"
#include "hw/isa/fw_cfg.h"

/* -kernel (with -initrd, -append) of the configuration: a Linux bzImage
 * or a Multiboot kernel, prepared behind fw_cfg (linux.c). */
bool loader_setup(FwCfg *f, BoardInstance *ctx, uint64_t below_4g,
                  GError **error);

/* Little-endian fields of boot headers. */
static inline uint32_t loader_le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void loader_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
}

/* Install a boot option ROM as genroms/FILE, first in the boot order; its
 * last byte is set so that all its bytes sum to 0. */
void loader_install_rom(FwCfg *f, BoardInstance *ctx, const char *file,
                        const uint8_t *rom, size_t len);

/* The offset of a valid Multiboot v1 header in the first 8 KiB, or -1. */
long multiboot_header_offset(const uint8_t *kern, size_t len);

typedef struct MultibootArgs {
    const char *kernel_path;  /* for the kernel's command line */
    const char *append;       /* -append, or NULL */
    const char *modules;      /* -initrd: "file args,file args" (",," is a
                                 comma), or NULL */
    uint64_t below_4g;        /* RAM below 4 GiB */
} MultibootArgs;

/* Prepare a Multiboot kernel (kern stays the caller's). */
bool multiboot_setup(FwCfg *f, BoardInstance *ctx, const uint8_t *kern,
                     size_t klen, const MultibootArgs *a, GError **error);

#endif
