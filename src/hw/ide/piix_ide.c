/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PIIX3 IDE controller (see piix_ide.h).
 * Reference: Intel 82371SB data sheet, section 2.6 (IDE configuration:
 * legacy mode addresses, BMIBA at 0x20) and "Bus Master IDE Registers"
 * (BMICx command: bit 0 start/stop, bit 3 read/write; BMISx status: bit 0
 * active, bit 1 error, bit 2 interrupt, write-one-to-clear; BMIDTPx the
 * PRD table address, dword aligned).  DMA completes synchronously when
 * the guest starts the bus master.
 */
#include "hw/ide/piix_ide.h"

#include <string.h>

#include "hw/ide/ide_internal.h"

static uint32_t cmd_read(void *opaque, uint16_t off, unsigned size)
{
    return ide_cmd_read(opaque, off, size);
}

static void cmd_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    ide_cmd_write(opaque, off, v, size);
}

static uint32_t ctl_read(void *opaque, uint16_t off, unsigned size)
{
    return ide_ctl_read(opaque);
}

static void ctl_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    ide_ctl_write(opaque, v);
}

static void bm_try(PiixIde *s, int c)
{
    BmChannel *bm = &s->bm[c];
    bool to_mem;
    if (!(bm->cmd & 1) || !ide_dma_pending(&s->ch[c], &to_mem)) {
        return;
    }
    if (to_mem != !!(bm->cmd & 8)) {
        return; /* direction mismatch: the transfer does not start */
    }
    bm->status |= 1;
    if (ide_dma_run(&s->ch[c], bm->prd)) {
        bm->status = (bm->status & ~1) | 4;
    }
}

static uint32_t bm_read(void *opaque, uint16_t off, unsigned size)
{
    PiixIde *s = opaque;
    BmChannel *bm = &s->bm[off >> 3];
    switch (off & 7) {
    case 0:
        return bm->cmd;
    case 2:
        return bm->status;
    case 4: case 5: case 6: case 7:
        return (bm->prd >> (8 * ((off & 7) - 4))) & (size == 4 ? 0xffffffff :
               size == 2 ? 0xffff : 0xff);
    }
    return 0;
}

static void bm_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    PiixIde *s = opaque;
    int c = off >> 3;
    BmChannel *bm = &s->bm[c];
    switch (off & 7) {
    case 0:
        bm->cmd = v & 0x09;
        if (!(v & 1)) {
            bm->status &= ~1;
        }
        bm_try(s, c);
        return;
    case 2:
        /* Bits 1 and 2 clear when written with one; 5-6 are R/W. */
        bm->status = (bm->status & ~(v & 0x06)) & ~0x60;
        bm->status |= v & 0x60;
        return;
    case 4:
        if (size == 4) {
            bm->prd = v & ~3u;
        } else {
            bm->prd = (bm->prd & 0xffff0000) | (v & 0xfffc);
        }
        return;
    case 6:
        bm->prd = (bm->prd & 0xffff) | (v << 16);
        return;
    }
}

static const IoRegion bm_io = {
    .len = 16, .min = 1, .max = 4, .read = bm_read, .write = bm_write,
    .name = "piix-bmdma",
};

static bool piix_ide_realize(Device *dev, GError **error)
{
    PiixIde *s = (PiixIde *)dev;
    static const uint16_t cmd_base[2] = { 0x1f0, 0x170 };
    static const uint16_t ctl_base[2] = { 0x3f6, 0x376 };
    for (int c = 0; c < 2; c++) {
        s->io[2 * c] = (IoRegion){ .base = cmd_base[c], .len = 8, .min = 1,
                                   .max = 4, .read = cmd_read,
                                   .write = cmd_write, .name = "ide" };
        s->io[2 * c + 1] = (IoRegion){ .base = ctl_base[c], .len = 1,
                                       .min = 1, .max = 1, .read = ctl_read,
                                       .write = ctl_write, .name = "ide-ctl" };
        ioport_register(dev->bus->io, &s->io[2 * c], &s->ch[c]);
        ioport_register(dev->bus->io, &s->io[2 * c + 1], &s->ch[c]);
    }
    pci_add_function(s->bus, &s->pci, (1 << 3) | 1, 0x8086, 0x7010,
                     0x01018000, s);
    pci_set_bar_io(&s->pci, 4, 16, &bm_io, s);
    s->pci.wmask[0x40] = s->pci.wmask[0x41] = 0xff; /* IDE timing */
    s->pci.wmask[0x42] = s->pci.wmask[0x43] = 0xff;
    s->pci.wmask[0x44] = 0xff;
    return true;
}

static void piix_ide_reset(Device *dev)
{
    PiixIde *s = (PiixIde *)dev;
    for (int c = 0; c < 2; c++) {
        ide_channel_reset(&s->ch[c]);
        s->bm[c] = (BmChannel){ 0 };
    }
    pci_reset_function(&s->pci);
    pci_set_word(s->pci.config + PCI_STATUS, 0x0280);
}

static bool piix_ide_post_load(void *obj, GError **error)
{
    PiixIde *s = obj;
    for (int c = 0; c < 2; c++) {
        if (!ide_channel_post_load(&s->ch[c], error)) {
            return false;
        }
    }
    pci_update_mappings(&s->pci);
    return true;
}

static const StateField bm_fields[] = {
    STATE_U8(BmChannel, cmd), STATE_U8(BmChannel, status),
    STATE_U32(BmChannel, prd), STATE_END,
};

#define MEDIA_EVENT(c, u)                                                \
    { .name = "media_event" #c #u,                                       \
      .offset = offsetof(PiixIde, ch[c].drive[u].media_event),           \
      .type = STATE_T_U8, .count = 1, .version = 2 }

static const StateDesc piix_ide_state = {
    .name = "piix-ide", .version = 2, .min_version = 1,
    .post_load = piix_ide_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(PiixIde, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_STRUCT_ARRAY(PiixIde, ch, 2, ide_channel_fields),
        STATE_STRUCT_ARRAY(PiixIde, bm, 2, bm_fields),
        /* Version 2: pending media events of the four drives. */
        MEDIA_EVENT(0, 0), MEDIA_EVENT(0, 1), MEDIA_EVENT(1, 0),
        MEDIA_EVENT(1, 1),
        STATE_END },
};

const DeviceInfo piix_ide_info = {
    .name = "piix-ide", .size = sizeof(PiixIde), .state = &piix_ide_state,
    .realize = piix_ide_realize, .reset = piix_ide_reset,
};
