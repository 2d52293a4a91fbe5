/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * -kernel, -initrd and -append on the pc board: Linux bzImages (below) and
 * Multiboot kernels (multiboot.c), each started by an option ROM of ours.
 */
#include "hw/pc/loader.h"

#include <string.h>

extern const uint8_t linuxboot_rom[];
extern const size_t linuxboot_rom_len;

#define LINUX_SETUP_ADDR 0x10000
#define LINUX_CMDLINE_ADDR 0x20000
#define LINUX_KERNEL_ADDR 0x100000

/*
 * -kernel: a Linux bzImage here; a Multiboot kernel goes to multiboot.c.
 * Direct Linux boot (-kernel/-initrd/-append), Linux x86 boot protocol
 * 2.02 or later (Documentation/arch/x86/boot.rst): the real-mode setup
 * code goes to 0x10000 with its header filled in (loader type, heap,
 * command line at 0x20000, initrd at the top of low memory below
 * initrd_addr_max), the protected-mode kernel to 1 MiB.  Our loader ROM
 * (pc/rom/linuxboot.asm) copies the pieces through fw_cfg DMA and starts
 * the setup code; SeaBIOS boots it first through the bootorder file.
 */
bool loader_setup(FwCfg *f, BoardInstance *ctx, uint64_t below_4g,
                  GError **error)
{
    const MachineConfig *cfg = ctx->cfg;
    uint8_t *kern;
    size_t klen;
    /* Neither the kernel nor the initrd can be larger than low RAM. */
    if (!board_load_file("-kernel", cfg->kernel, below_4g, &kern, &klen,
                         error)) {
        return false;
    }
    gchar *k = (gchar *)kern;
    board_add_rom(ctx, "kernel", kern, klen);
    bool bzimage = klen >= 0x1000 && !memcmp(kern + 0x202, "HdrS", 4);
    if (!bzimage && multiboot_header_offset(kern, klen) >= 0) {
        MultibootArgs mb = {
            .kernel_path = cfg->kernel, .append = cfg->append,
            .modules = cfg->initrd, .below_4g = below_4g,
        };
        bool ok = multiboot_setup(f, ctx, kern, klen, &mb, error);
        g_free(k);
        return ok;
    }
    if (klen < 0x1000 || memcmp(kern + 0x202, "HdrS", 4) != 0 ||
        (kern[0x206] | kern[0x207] << 8) < 0x202 ||
        !(kern[0x211] & 1)) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "-kernel: '%s' is neither a bzImage with boot protocol "
                    "2.02 or later nor a Multiboot kernel", cfg->kernel);
        g_free(k);
        return false;
    }
    uint16_t protocol = kern[0x206] | kern[0x207] << 8;
    unsigned setup_sects = kern[0x1f1] ? kern[0x1f1] : 4;
    size_t setup_size = (setup_sects + 1) * 512;
    if (setup_size >= klen || setup_size > 0x8000 + 512) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "-kernel: '%s' has an invalid setup size", cfg->kernel);
        g_free(k);
        return false;
    }
    size_t kernel_size = klen - setup_size;
    if (LINUX_KERNEL_ADDR + kernel_size > below_4g) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "-kernel: the kernel does not fit in %" G_GUINT64_FORMAT
                    " MiB of RAM", ctx->cfg->ram_size >> 20);
        g_free(k);
        return false;
    }
    uint8_t *setup = g_memdup2(kern, setup_size);
    setup[0x210] = 0xb0; /* type_of_loader: "other" */
    setup[0x211] |= 0x80; /* CAN_USE_HEAP */
    setup[0x224] = (LINUX_CMDLINE_ADDR - LINUX_SETUP_ADDR - 0x200) & 0xff;
    setup[0x225] = (LINUX_CMDLINE_ADDR - LINUX_SETUP_ADDR - 0x200) >> 8;
    loader_put_le32(setup + 0x228, LINUX_CMDLINE_ADDR);

    const char *append = cfg->append ? cfg->append : "";
    /* vga= is the boot loader's business (boot.rst, vid_mode at 0x1fa):
       the kernel's real-mode setup code then sets the mode through the
       VGA BIOS. */
    const char *vga = strstr(append, "vga=");
    if (vga && (vga == append || vga[-1] == ' ')) {
        const char *v = vga + 4;
        uint16_t mode = 0;
        bool ok = true;
        if (g_str_has_prefix(v, "normal")) {
            mode = 0xffff;
        } else if (g_str_has_prefix(v, "ext")) {
            mode = 0xfffe;
        } else if (g_str_has_prefix(v, "ask")) {
            mode = 0xfffd;
        } else {
            char *end;
            unsigned long n = strtoul(v, &end, 0);
            ok = end != v && n <= 0xffff;
            mode = n;
        }
        if (ok) {
            setup[0x1fa] = mode & 0xff;
            setup[0x1fb] = mode >> 8;
        }
    }
    size_t cmdline_len = strlen(append) + 1;
    uint32_t cmdline_max = protocol >= 0x206 ? loader_le32(kern + 0x238) : 255;
    if (cmdline_len - 1 > cmdline_max || cmdline_len > 0xf000) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "-append: the command line is longer than the kernel's "
                    "limit of %u bytes", cmdline_max);
        g_free(setup);
        g_free(k);
        return false;
    }
    if (cfg->initrd) {
        uint8_t *initrd;
        size_t ilen;
        if (!board_load_file("-initrd", cfg->initrd, below_4g, &initrd,
                             &ilen, error)) {
            g_free(setup);
            g_free(k);
            return false;
        }
        uint64_t max = protocol >= 0x203 ? loader_le32(kern + 0x22c) : 0x37ffffff;
        /* Keep 128 KiB below the top of low RAM for firmware tables. */
        max = MIN(max, below_4g - 0x20000 - 1);
        if (ilen > max || max - ilen < LINUX_KERNEL_ADDR + kernel_size) {
            g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                        "-initrd: '%s' (%zu bytes) does not fit in RAM "
                        "beside the kernel", cfg->initrd, (size_t)ilen);
            g_free(initrd);
            g_free(setup);
            g_free(k);
            return false;
        }
        uint32_t addr = (max - ilen) & ~0xfffu;
        loader_put_le32(setup + 0x218, addr);
        loader_put_le32(setup + 0x21c, ilen);
        fw_cfg_add_i32(f, FW_CFG_INITRD_ADDR, addr);
        fw_cfg_add_i32(f, FW_CFG_INITRD_SIZE, ilen);
        fw_cfg_add(f, FW_CFG_INITRD_DATA, initrd, ilen);
    } else {
        fw_cfg_add_i32(f, FW_CFG_INITRD_ADDR, 0);
        fw_cfg_add_i32(f, FW_CFG_INITRD_SIZE, 0);
    }
    fw_cfg_add_i32(f, FW_CFG_KERNEL_ADDR, LINUX_KERNEL_ADDR);
    fw_cfg_add_i32(f, FW_CFG_KERNEL_SIZE, kernel_size);
    fw_cfg_add(f, FW_CFG_KERNEL_DATA, g_memdup2(kern + setup_size,
                                                kernel_size), kernel_size);
    fw_cfg_add_i32(f, FW_CFG_CMDLINE_ADDR, LINUX_CMDLINE_ADDR);
    fw_cfg_add_i32(f, FW_CFG_CMDLINE_SIZE, cmdline_len);
    fw_cfg_add(f, FW_CFG_CMDLINE_DATA, g_strdup(append), cmdline_len);
    fw_cfg_add_i32(f, FW_CFG_SETUP_ADDR, LINUX_SETUP_ADDR);
    fw_cfg_add_i32(f, FW_CFG_SETUP_SIZE, setup_size);
    fw_cfg_add(f, FW_CFG_SETUP_DATA, setup, setup_size);
    g_free(k);

    loader_install_rom(f, ctx, "linuxboot.bin", linuxboot_rom,
                       linuxboot_rom_len);
    return true;
}

