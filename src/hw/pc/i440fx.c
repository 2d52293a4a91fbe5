/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * i440FX host bridge (see i440fx.h).
 * Reference: Intel 440FX PCIset data sheet (82441FX), section 3.2:
 * PAM0-PAM6 at 0x59-0x5f (bit 0 read enable, bit 1 write enable per
 * segment; PAM0 bits 4-5 cover 0xf0000-0xfffff, each later nibble one
 * 16 KiB segment from 0xc0000 up), SMRAM at 0x72.  When a segment's read
 * or write enable is clear, that access goes to the PCI/ISA side: the
 * BIOS ROM for 0xe0000-0xfffff, nothing (reads zero) below it.
 */
#include "hw/pc/i440fx.h"

#include <string.h>

#define PAM_BASE 0x59

static void segment(int i, uint32_t *base, uint32_t *size, int *reg,
                    int *shift)
{
    if (i == 0) {
        *base = 0xf0000;
        *size = 0x10000;
        *reg = PAM_BASE;
        *shift = 4;
    } else {
        *base = 0xc0000 + (i - 1) * 0x4000;
        *size = 0x4000;
        *reg = PAM_BASE + 1 + (i - 1) / 2;
        *shift = ((i - 1) & 1) ? 4 : 0;
    }
}

static void pam_update(I440fx *s)
{
    MemMap *mem = s->dev.bus->mem;
    for (int i = 0; i < PAM_SEGMENTS; i++) {
        if (!s->pam_rom[i]) {
            continue;
        }
        uint32_t base, size;
        int reg, shift;
        segment(i, &base, &size, &reg, &shift);
        uint8_t p = (s->pci.config[reg] >> shift) & 3;
        MemAccess a = (!(p & 1) ? MEM_ACCESS_READ : 0) |
                      (!(p & 2) ? MEM_ACCESS_WRITE : 0);
        memmap_set_access(mem, s->pam_rom[i], a);
    }
}

static void i440fx_config_written(PciFunc *f, uint32_t addr, uint32_t val,
                                  unsigned len)
{
    I440fx *s = f->owner;
    if (addr < PAM_BASE + 7 && addr + len > PAM_BASE) {
        pam_update(s);
    }
}

void i440fx_init_pam(I440fx *s, MemRegion *bios)
{
    MemMap *mem = s->dev.bus->mem;
    uint64_t bsize = memregion_size(bios);
    s->cseg_rom = g_malloc0(0x20000);
    MemRegion *cseg = NULL;
    for (int i = 0; i < PAM_SEGMENTS; i++) {
        uint32_t base, size;
        int reg, shift;
        segment(i, &base, &size, &reg, &shift);
        g_autofree char *name = g_strdup_printf("pam-%05x", base);
        if (base >= 0xe0000) {
            /* isa-bios: the last 128 KiB of the firmware. */
            s->pam_rom[i] = memmap_add_alias(mem, name, base, size, bios,
                                             bsize - 0x20000 +
                                             (base - 0xe0000), 2);
        } else {
            if (!cseg) {
                cseg = memmap_add_rom(mem, "pci-cseg", 0xfff00000, 0x20000,
                                      s->cseg_rom, -1);
                memmap_set_access(mem, cseg, MEM_ACCESS_NONE);
            }
            s->pam_rom[i] = memmap_add_alias(mem, name, base, size, cseg,
                                             base - 0xc0000, 2);
        }
    }
    pam_update(s);
}

static bool i440fx_realize(Device *dev, GError **error)
{
    I440fx *s = (I440fx *)dev;
    s->pci.config_written = i440fx_config_written;
    pci_add_function(s->bus, &s->pci, 0, 0x8086, 0x1237, 0x06000002, s);
    for (int r = PAM_BASE; r < PAM_BASE + 7; r++) {
        s->pci.wmask[r] = r == PAM_BASE ? 0x30 : 0x33;
    }
    s->pci.wmask[0x72] = 0x78; /* SMRAM: enable bits only */
    s->pci.wmask[0x57] = 0xff; /* DRAM control */
    return true;
}

static void i440fx_reset(Device *dev)
{
    I440fx *s = (I440fx *)dev;
    memset(s->pci.config + PAM_BASE, 0, 7);
    s->pci.config[0x72] = 0x02;
    pci_set_word(s->pci.config + PCI_COMMAND, 0x0006);
    pci_set_word(s->pci.config + PCI_STATUS, 0x0280);
    pam_update(s);
}

static void i440fx_finalize(Device *dev)
{
    I440fx *s = (I440fx *)dev;
    g_free(s->cseg_rom);
}

static int i440fx_pre_save(void *obj)
{
    I440fx *s = obj;
    pci_bus_get_regs(s->bus, &s->cf8, &s->cf9);
    return 0;
}

static bool i440fx_post_load(void *obj, GError **error)
{
    I440fx *s = obj;
    pam_update(s);
    /* Any address is harmless (config cycles check it).  A version-1
       state has no such fields: cf8/cf9 then hold the values of this
       machine's last save or 0, which only disables config cycles until
       the guest writes 0xcf8 again. */
    pci_bus_set_regs(s->bus, s->cf8, s->cf9);
    return true;
}

static const StateDesc i440fx_state = {
    .name = "i440fx", .version = 2, .min_version = 1,
    .pre_save = i440fx_pre_save,
    .post_load = i440fx_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(I440fx, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        { .name = "cf8", .offset = offsetof(I440fx, cf8),
          .type = STATE_T_U32, .count = 1, .version = 2 },
        { .name = "cf9", .offset = offsetof(I440fx, cf9),
          .type = STATE_T_U8, .count = 1, .version = 2 },
        STATE_END },
};

const DeviceInfo i440fx_info = {
    .name = "i440fx", .size = sizeof(I440fx), .state = &i440fx_state,
    .realize = i440fx_realize, .reset = i440fx_reset,
    .finalize = i440fx_finalize,
};
