/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 8237A DMA controllers as wired in the PC/AT (see i8237.h).
 * Reference: Intel 8237A data sheet ("Register Description", "Mode
 * Register", "Software Commands"); IBM PC/AT technical reference for the
 * page register ports 0x81-0x8f.  Addresses wrap within the 64 KiB (8-bit)
 * or 128 KiB (16-bit) page as on real hardware; every memory access goes
 * through the memory map, so guest addresses never reach host memory
 * outside guest RAM.
 */
#include "hw/isa/i8237.h"

#include "bus/log.h"

#define MODE_XFER(m) (((m) >> 2) & 3) /* 0 verify, 1 write, 2 read */
#define MODE_AUTOINIT 0x10
#define MODE_DOWN 0x20

/* Channel of each page register port, indexed by port - 0x80 (the
   regions start at 0x81 and 0x481, so an offset is port - 0x81). */
static const int8_t page_port_chan[16] = {
    -1, 2, 3, 1, -1, -1, -1, 0, -1, 6, 7, 5, -1, -1, -1, 4,
};

static DmaChannel *chan(I8237 *d, int n)
{
    return &d->c[n >> 2].ch[n & 3];
}

static uint32_t ctrl_read(DmaController *c, unsigned reg)
{
    if (reg < 8) {
        DmaChannel *ch = &c->ch[reg >> 1];
        uint16_t v = (reg & 1) ? ch->cur_count : ch->cur_addr;
        bool hi = c->flipflop;
        c->flipflop = !c->flipflop;
        return hi ? v >> 8 : v & 0xff;
    }
    switch (reg) {
    case 8: { /* status: reading clears the TC bits */
        uint8_t s = c->status;
        c->status &= 0xf0;
        return s;
    }
    case 13: /* temporary register */
        return 0;
    case 15:
        return c->mask | 0xf0;
    }
    return 0xff;
}

static void ctrl_write(DmaController *c, unsigned reg, uint8_t v)
{
    if (reg < 8) {
        DmaChannel *ch = &c->ch[reg >> 1];
        uint16_t *base = (reg & 1) ? &ch->base_count : &ch->base_addr;
        uint16_t *curv = (reg & 1) ? &ch->cur_count : &ch->cur_addr;
        if (c->flipflop) {
            *base = (*base & 0x00ff) | (v << 8);
        } else {
            *base = (*base & 0xff00) | v;
        }
        *curv = *base;
        c->flipflop = !c->flipflop;
        return;
    }
    switch (reg) {
    case 8:
        c->command = v;
        break;
    case 9:
        if (v & 4) {
            c->request |= 1 << (v & 3);
        } else {
            c->request &= ~(1 << (v & 3));
        }
        break;
    case 10:
        if (v & 4) {
            c->mask |= 1 << (v & 3);
        } else {
            c->mask &= ~(1 << (v & 3));
        }
        break;
    case 11:
        c->ch[v & 3].mode = v;
        break;
    case 12:
        c->flipflop = false;
        break;
    case 13: /* master clear */
        c->command = 0;
        c->status = 0;
        c->request = 0;
        c->flipflop = false;
        c->mask = 0x0f;
        break;
    case 14:
        c->mask = 0;
        break;
    case 15:
        c->mask = v & 0x0f;
        break;
    }
}

static uint32_t dma1_read(void *opaque, uint16_t off, unsigned size)
{
    I8237 *d = opaque;
    return ctrl_read(&d->c[0], off);
}

static void dma1_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    I8237 *d = opaque;
    ctrl_write(&d->c[0], off, v);
}

static uint32_t dma2_read(void *opaque, uint16_t off, unsigned size)
{
    I8237 *d = opaque;
    return (off & 1) ? 0xff : ctrl_read(&d->c[1], off >> 1);
}

static void dma2_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    I8237 *d = opaque;
    if (!(off & 1)) {
        ctrl_write(&d->c[1], off >> 1, v);
    }
}

static uint32_t page_read(void *opaque, uint16_t off, unsigned size)
{
    I8237 *d = opaque;
    int n = page_port_chan[(off + 1) & 15];
    return n < 0 ? 0xff : chan(d, n)->page;
}

static void page_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    I8237 *d = opaque;
    int n = page_port_chan[(off + 1) & 15];
    if (n >= 0) {
        chan(d, n)->page = v;
    }
}

static uint32_t hpage_read(void *opaque, uint16_t off, unsigned size)
{
    I8237 *d = opaque;
    int n = page_port_chan[(off + 1) & 15];
    return n < 0 ? 0xff : chan(d, n)->hpage;
}

static void hpage_write(void *opaque, uint16_t off, uint32_t v,
                        unsigned size)
{
    I8237 *d = opaque;
    int n = page_port_chan[(off + 1) & 15];
    if (n >= 0) {
        chan(d, n)->hpage = v;
    }
}

bool i8237_channel_ready(I8237 *d, int n)
{
    if (n < 0 || n > 7) {
        return false;
    }
    DmaController *c = &d->c[n >> 2];
    return !(c->mask & (1 << (n & 3))) && !(c->command & 4);
}

int i8237_remaining(I8237 *d, int n)
{
    if (n < 0 || n > 7) {
        return 0;
    }
    int unit = n >= 4 ? 2 : 1;
    return ((int)chan(d, n)->cur_count + 1) * unit;
}

int i8237_transfer(I8237 *d, int n, uint8_t *buf, int len, bool to_memory)
{
    if (!i8237_channel_ready(d, n) || len <= 0) {
        return 0;
    }
    DmaController *c = &d->c[n >> 2];
    DmaChannel *ch = chan(d, n);
    int xfer = MODE_XFER(ch->mode);
    bool wide = n >= 4;
    int unit = wide ? 2 : 1;
    int moved = 0;
    MemMap *mem = d->dev.bus->mem;

    if ((xfer == 1) != to_memory && xfer != 0) {
        mimic_log_guest("i8237: channel %d programmed for the other direction",
                        n);
        return 0;
    }
    while (moved + unit <= len) {
        uint64_t addr;
        if (wide) {
            addr = ((uint64_t)(ch->page & 0xfe) << 16) |
                   ((uint32_t)ch->cur_addr << 1);
        } else {
            addr = ((uint64_t)ch->page << 16) | ch->cur_addr;
        }
        addr |= (uint64_t)ch->hpage << 24;
        if (xfer == 1) {
            memmap_write(mem, addr, buf + moved, unit);
        } else if (xfer == 2) {
            memmap_read(mem, addr, buf + moved, unit);
        }
        moved += unit;
        ch->cur_addr += (ch->mode & MODE_DOWN) ? -1 : 1;
        if (ch->cur_count-- == 0) {
            c->status |= 1 << (n & 3); /* terminal count */
            if (ch->mode & MODE_AUTOINIT) {
                ch->cur_addr = ch->base_addr;
                ch->cur_count = ch->base_count;
            } else {
                c->mask |= 1 << (n & 3);
                break;
            }
        }
    }
    return moved;
}

static void i8237_reset(Device *dev)
{
    I8237 *d = (I8237 *)dev;
    for (int i = 0; i < 2; i++) {
        ctrl_write(&d->c[i], 13, 0);
    }
}

static const IoRegion i8237_io[] = {
    { .base = 0x00, .len = 16, .min = 1, .max = 1, .read = dma1_read,
      .write = dma1_write, .name = "dma1" },
    { .base = 0xc0, .len = 32, .min = 1, .max = 1, .read = dma2_read,
      .write = dma2_write, .name = "dma2" },
    { .base = 0x81, .len = 15, .min = 1, .max = 1, .read = page_read,
      .write = page_write, .name = "dma-page" },
    { .base = 0x481, .len = 15, .min = 1, .max = 1, .read = hpage_read,
      .write = hpage_write, .name = "dma-hpage" },
    { 0 },
};

static const StateField dma_chan_fields[] = {
    STATE_U16(DmaChannel, base_addr), STATE_U16(DmaChannel, base_count),
    STATE_U16(DmaChannel, cur_addr), STATE_U16(DmaChannel, cur_count),
    STATE_U8(DmaChannel, mode), STATE_U8(DmaChannel, page),
    STATE_U8(DmaChannel, hpage), STATE_END,
};

static const StateField dma_ctrl_fields[] = {
    STATE_STRUCT_ARRAY(DmaController, ch, 4, dma_chan_fields),
    STATE_U8(DmaController, command), STATE_U8(DmaController, status),
    STATE_U8(DmaController, mask), STATE_U8(DmaController, request),
    STATE_BOOL(DmaController, flipflop), STATE_END,
};

static const StateDesc i8237_state = {
    .name = "i8237", .version = 1, .min_version = 1,
    .fields = (const StateField[]) {
        STATE_STRUCT_ARRAY(I8237, c, 2, dma_ctrl_fields), STATE_END },
};

const DeviceInfo i8237_info = {
    .name = "i8237", .size = sizeof(I8237), .io = i8237_io,
    .state = &i8237_state, .reset = i8237_reset,
};
