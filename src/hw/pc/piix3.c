/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PIIX3 PCI-to-ISA bridge (see piix3.h).
 * Reference: Intel 82371FB/SB data sheet, section 2.2: PIRQRC[A:D] at
 * 0x60-0x63 (bit 7 disables routing, bits 3:0 the ISA IRQ; 0-2, 8 and 13
 * are reserved), TOM at 0x69, and the device's reset values.
 */
#include "hw/pc/piix3.h"

static void route(Piix3 *s)
{
    bool level[16] = { false };
    bool touched[16] = { false };
    for (int p = 0; p < 4; p++) {
        uint8_t r = s->pci.config[0x60 + p];
        if (r & 0x80) {
            continue;
        }
        int irq = r & 0x0f;
        if (irq < 3 || irq == 8 || irq == 13) {
            continue; /* reserved values route nowhere */
        }
        touched[irq] = true;
        level[irq] |= (s->pirq_level >> p) & 1;
    }
    for (int i = 0; i < 16; i++) {
        if (touched[i] && s->isa_irqs) {
            irq_set(s->isa_irqs[i], level[i]);
        }
    }
}

void piix3_set_pirq(Piix3 *s, int pirq, bool level)
{
    if (pirq < 0 || pirq > 3) {
        return;
    }
    if (level) {
        s->pirq_level |= 1 << pirq;
    } else {
        s->pirq_level &= ~(1 << pirq);
    }
    route(s);
}

static void piix3_config_written(PciFunc *f, uint32_t addr, uint32_t val,
                                 unsigned len)
{
    if (addr < 0x64 && addr + len > 0x60) {
        route(f->owner);
    }
}

static bool piix3_realize(Device *dev, GError **error)
{
    Piix3 *s = (Piix3 *)dev;
    s->pci.config_written = piix3_config_written;
    pci_add_function(s->bus, &s->pci, 1 << 3, 0x8086, 0x7000, 0x06010000, s);
    s->pci.config[PCI_HEADER_TYPE] = 0x80; /* multi-function */
    for (int r = 0x60; r < 0x64; r++) {
        s->pci.wmask[r] = 0x8f;
    }
    s->pci.wmask[0x69] = 0xfe; /* top of memory */
    s->pci.wmask[0x4c] = 0xff;
    s->pci.wmask[0x4e] = 0xff;
    s->pci.wmask[0x4f] = 0xff;
    s->pci.wmask[0x6a] = 0xff;
    s->pci.wmask[0x70] = 0xff;
    s->pci.wmask[0x76] = 0xff;
    s->pci.wmask[0x77] = 0xff;
    s->pci.wmask[0x78] = 0xff;
    s->pci.wmask[0x79] = 0xff;
    s->pci.wmask[0x80] = 0xff;
    s->pci.wmask[0x82] = 0xff;
    s->pci.wmask[0xa0] = 0xff;
    return true;
}

static void piix3_reset(Device *dev)
{
    Piix3 *s = (Piix3 *)dev;
    uint8_t *c = s->pci.config;
    pci_set_word(c + PCI_COMMAND, 0x0007);
    pci_set_word(c + PCI_STATUS, 0x0200);
    c[0x4c] = 0x4d;
    c[0x4e] = 0x03;
    c[0x4f] = 0x00;
    c[0x60] = c[0x61] = c[0x62] = c[0x63] = 0x80;
    c[0x69] = 0x02;
    c[0x70] = 0x80;
    c[0x76] = c[0x77] = 0x0c;
    c[0x78] = 0x02;
    c[0xa0] = 0x08;
    s->pirq_level = 0;
}

static bool piix3_post_load(void *obj, GError **error)
{
    route(obj);
    return true;
}

static const StateDesc piix3_state = {
    .name = "piix3", .version = 1, .min_version = 1,
    .post_load = piix3_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(Piix3, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_U8(Piix3, pirq_level), STATE_END },
};

const DeviceInfo piix3_info = {
    .name = "piix3", .size = sizeof(Piix3), .state = &piix3_state,
    .realize = piix3_realize, .reset = piix3_reset,
};
