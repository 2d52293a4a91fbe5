/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NE2000 (see ne2000.h).
 * Reference: National Semiconductor DP8390D data sheet (register pages,
 * the receive ring of 256-byte pages between PSTART and PSTOP with CURR
 * and BNRY, the 4-byte receive header, remote DMA, interrupt status) and
 * the Realtek RTL8029AS data sheet (the PCI NE2000, its ID registers).
 *
 * The guest owns every ring register, so each one is checked before use:
 * PSTART/PSTOP must describe a ring inside card memory and CURR must lie
 * in it (otherwise frames are dropped), remote DMA addresses outside card
 * memory read 0xff and drop writes, the transmit length is cut at the end
 * of card memory.  Guest RAM is never touched: the card does no bus DMA.
 */
#include "hw/net/ne2000.h"

#include <string.h>

#include "hw/net/nic_util.h"

#define CR_STP 0x01
#define CR_STA 0x02
#define CR_TXP 0x04
#define CR_RD_MASK 0x38
#define CR_RD_ABORT 0x20

#define ISR_PRX 0x01
#define ISR_PTX 0x02
#define ISR_OVW 0x10
#define ISR_RDC 0x40
#define ISR_RST 0x80

#define RCR_AB 0x04
#define RCR_AM 0x08
#define RCR_PRO 0x10

#define DCR_WTS 0x01 /* word-wide transfers */

#define MEM_END (NE2K_MEM_START + NE2K_MEM_SIZE)

static void update_irq(Ne2k *s)
{
    irq_set(s->irq, (s->isr & s->imr & 0x7f) != 0);
}

static void prom_init(Ne2k *s)
{
    memset(s->prom, 0, sizeof(s->prom));
    for (int i = 0; i < 6; i++) {
        s->prom[2 * i] = s->prom[2 * i + 1] = s->mac[i];
    }
    /* "WW": an NE2000 (not an NE1000), in both byte and word reads */
    s->prom[28] = s->prom[29] = s->prom[30] = s->prom[31] = 0x57;
}

static void soft_reset(Ne2k *s)
{
    s->cmd = CR_STP | CR_RD_ABORT;
    s->isr = ISR_RST;
    s->imr = 0;
    s->dcr = 0;
    s->rcr = 0;
    s->tcr = 0;
    update_irq(s);
}

/* ---- card memory ---- */

static uint8_t mem_read8(Ne2k *s, uint32_t a)
{
    if (a < NE2K_MEM_START) {
        return s->prom[a & 31];
    }
    if (a < MEM_END) {
        return s->mem[a - NE2K_MEM_START];
    }
    return 0xff;
}

static void mem_write8(Ne2k *s, uint32_t a, uint8_t v)
{
    if (a >= NE2K_MEM_START && a < MEM_END) {
        s->mem[a - NE2K_MEM_START] = v;
    }
}

/* The ring is usable when it lies in card memory and CURR is inside. */
static bool ring_ok(const Ne2k *s)
{
    return s->pstart < s->pstop && s->pstart >= (NE2K_MEM_START >> 8) &&
           s->pstop <= (MEM_END >> 8) && s->curr >= s->pstart &&
           s->curr < s->pstop;
}

/* ---- receive ---- */

/* Frames wait in the ring: the page after BNRY is not CURR. */
static bool rx_pending(const Ne2k *s)
{
    if (!ring_ok(s)) {
        return false;
    }
    unsigned next = s->bnry + 1u;
    if (next >= s->pstop || next < s->pstart) {
        next = s->pstart;
    }
    return next != s->curr;
}

static bool rx_accept(const Ne2k *s, const uint8_t *buf)
{
    if (s->rcr & RCR_PRO) {
        return true;
    }
    if (buf[0] & 1) {
        static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        if (!memcmp(buf, bc, 6)) {
            return s->rcr & RCR_AB;
        }
        unsigned bit = nic_ether_crc_be(buf) >> 26;
        return (s->rcr & RCR_AM) && (s->mar[bit >> 3] >> (bit & 7) & 1);
    }
    return !memcmp(buf, s->par, 6);
}

static bool ne2k_receive(void *opaque, const uint8_t *buf, size_t len)
{
    Ne2k *s = opaque;
    if ((s->cmd & CR_STP) || !(s->cmd & CR_STA) || len < 6) {
        return true;
    }
    if ((s->tcr & 0x06) || !ring_ok(s) || !rx_accept(s, buf)) {
        return true; /* loopback modes, a broken ring, not for us */
    }
    size_t flen = MAX(len, 60);
    unsigned ring_pages = s->pstop - s->pstart;
    unsigned need = (flen + 4 + 255) / 256;
    if (need >= ring_pages) {
        return true; /* can never fit */
    }
    unsigned bnry = s->bnry;
    if (bnry < s->pstart || bnry >= s->pstop) {
        bnry = s->pstart;
    }
    unsigned free_pages = bnry > s->curr ? bnry - s->curr
                          : ring_pages - (s->curr - bnry);
    if (need >= free_pages) {
        return false; /* full: waits until the driver moves BNRY */
    }
    unsigned next = s->curr + need;
    if (next >= s->pstop) {
        next -= ring_pages;
    }
    uint32_t a = s->curr * 256u;
    uint8_t hdr[4] = { 0x01 | ((buf[0] & 1) ? 0x20 : 0), next,
                       (flen + 4) & 0xff, (flen + 4) >> 8 };
    for (size_t i = 0; i < flen + 4; i++) {
        mem_write8(s, a, i < 4 ? hdr[i] : i - 4 < len ? buf[i - 4] : 0);
        if (++a >= s->pstop * 256u) {
            a = s->pstart * 256u;
        }
    }
    s->curr = next;
    s->rsr = hdr[0];
    s->isr |= ISR_PRX;
    update_irq(s);
    return true;
}

static const NetPortOps ne2k_port_ops = { .receive = ne2k_receive };

/* ---- transmit ---- */

static void transmit(Ne2k *s)
{
    uint32_t a = s->tpsr * 256u;
    size_t len = s->tbcr;
    if (a < NE2K_MEM_START || a >= MEM_END) {
        len = 0;
    } else {
        len = MIN(len, (size_t)(MEM_END - a));
    }
    if (len && !(s->tcr & 0x06)) {
        net_send(s->port, s->mem + (a - NE2K_MEM_START), len);
        net_batch_end(s->port);
    }
    s->tsr = 0x01; /* PTX */
    s->isr |= ISR_PTX;
    s->cmd &= ~CR_TXP;
    update_irq(s);
}

/* ---- registers ---- */

static uint8_t reg_read(Ne2k *s, unsigned r)
{
    unsigned page = s->cmd >> 6;
    if (r == 0) {
        return s->cmd;
    }
    if (page == 1) {
        return r < 7 ? s->par[r - 1] : r == 7 ? s->curr : s->mar[r - 8];
    }
    if (page == 2) {
        switch (r) {
        case 1: return s->pstart;
        case 2: return s->pstop;
        case 4: return s->tpsr;
        case 0xc: return s->rcr;
        case 0xd: return s->tcr;
        case 0xe: return s->dcr;
        case 0xf: return s->imr;
        default: return 0;
        }
    }
    if (page == 3) {
        return 0;
    }
    switch (r) {
    case 3: return s->bnry;
    case 4: return s->tsr;
    case 7: return s->isr;
    case 8: return s->rsar & 0xff;
    case 9: return s->rsar >> 8;
    case 0xa: return s->pci_bus ? 0x50 : 0; /* RTL8029 ID: 'P' */
    case 0xb: return s->pci_bus ? 0x43 : 0; /* 'C' */
    case 0xc: return s->rsr;
    default: return 0; /* counters: never an error */
    }
}

static void reg_write(Ne2k *s, unsigned r, uint8_t v)
{
    if (r == 0) {
        /* STA and STP are commands: a write with neither keeps the
           state (Linux's trigger_send writes page 0 without STA). */
        uint8_t run = s->cmd & (CR_STA | CR_STP);
        if (v & CR_STP) {
            run = CR_STP;
            s->isr |= ISR_RST;
        } else if (v & CR_STA) {
            run = CR_STA;
            s->isr &= ~ISR_RST;
        }
        s->cmd = (v & ~(CR_STA | CR_STP)) | run;
        if (run & CR_STP) {
            s->cmd &= ~CR_TXP;
        }
        if ((v & CR_RD_MASK) == 0x08 || (v & CR_RD_MASK) == 0x10) {
            if (s->rbcr == 0) {
                s->isr |= ISR_RDC;
            }
        }
        if ((v & CR_TXP) && (run & CR_STA) && !s->in_tx) {
            s->in_tx = true;
            transmit(s);
            s->in_tx = false;
        }
        update_irq(s);
        if (v & CR_STA) {
            net_port_flush(s->port);
        }
        return;
    }
    unsigned page = s->cmd >> 6;
    if (page == 1) {
        if (r < 7) {
            s->par[r - 1] = v;
        } else if (r == 7) {
            s->curr = v;
        } else {
            s->mar[r - 8] = v;
        }
        return;
    }
    if (page != 0) {
        return;
    }
    switch (r) {
    case 1: s->pstart = v; break;
    case 2: s->pstop = v; break;
    case 3:
        s->bnry = v;
        net_port_flush(s->port);
        break;
    case 4: s->tpsr = v; break;
    case 5: s->tbcr = (s->tbcr & 0xff00) | v; break;
    case 6: s->tbcr = (s->tbcr & 0x00ff) | v << 8; break;
    case 7:
        s->isr &= ~v;
        update_irq(s);
        if ((v & ISR_PRX) && rx_pending(s)) {
            /* Linux's ei_receive takes at most ten frames, then acks:
               what is left must interrupt again (an edge on ISA). */
            s->isr |= ISR_PRX;
            update_irq(s);
        }
        net_port_flush(s->port);
        break;
    case 8: s->rsar = (s->rsar & 0xff00) | v; break;
    case 9: s->rsar = (s->rsar & 0x00ff) | v << 8; break;
    case 0xa: s->rbcr = (s->rbcr & 0xff00) | v; break;
    case 0xb: s->rbcr = (s->rbcr & 0x00ff) | v << 8; break;
    case 0xc: s->rcr = v; break;
    case 0xd: s->tcr = v; break;
    case 0xe: s->dcr = v; break;
    case 0xf:
        s->imr = v;
        update_irq(s);
        break;
    }
}

/* Remote DMA through the data port: one byte, or a word in word mode
   (a byte access then moves a whole word, as the card does). */
static void dma_step(Ne2k *s, unsigned n)
{
    s->rsar += n;
    if (s->pstop > s->pstart && s->rsar == s->pstop * 256u) {
        s->rsar = s->pstart * 256u; /* the ring wraps for the driver */
    }
    s->rbcr = s->rbcr > n ? s->rbcr - n : 0;
    if (s->rbcr == 0) {
        s->isr |= ISR_RDC;
        update_irq(s);
    }
}

static uint32_t data_read(Ne2k *s, unsigned size)
{
    uint32_t v = 0;
    unsigned unit = (s->dcr & DCR_WTS) ? 2 : 1;
    unsigned units = MAX(size / unit, 1u);
    for (unsigned i = 0; i < units; i++) {
        uint32_t a = s->rsar & ~(unit - 1);
        uint32_t w = mem_read8(s, a);
        if (unit == 2) {
            w |= mem_read8(s, a + 1) << 8;
        }
        v |= w << (8 * unit * i);
        dma_step(s, unit);
    }
    return v;
}

static void data_write(Ne2k *s, uint32_t v, unsigned size)
{
    unsigned unit = (s->dcr & DCR_WTS) ? 2 : 1;
    unsigned units = MAX(size / unit, 1u);
    for (unsigned i = 0; i < units; i++) {
        uint32_t a = s->rsar & ~(unit - 1);
        uint32_t w = v >> (8 * unit * i);
        mem_write8(s, a, w);
        if (unit == 2) {
            mem_write8(s, a + 1, w >> 8);
        }
        dma_step(s, unit);
    }
}

static uint32_t io_read(void *opaque, uint16_t off, unsigned size)
{
    Ne2k *s = opaque;
    if (off < 0x10) {
        return reg_read(s, off);
    }
    if (off < 0x18) {
        return data_read(s, size);
    }
    soft_reset(s); /* reading the reset port resets the card */
    return 0;
}

static void io_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    Ne2k *s = opaque;
    if (off < 0x10) {
        reg_write(s, off, v);
    } else if (off < 0x18) {
        data_write(s, v, size);
    }
}

/* ---- device ---- */

static bool ne2k_realize(Device *dev, GError **error)
{
    Ne2k *s = (Ne2k *)dev;
    s->io = (IoRegion){ .len = 0x20, .min = 1, .max = 4, .read = io_read,
                        .write = io_write, .name = "ne2000" };
    if (s->pci_bus) {
        pci_add_function(s->pci_bus, &s->pci, s->devfn, 0x10ec, 0x8029,
                         0x02000000, s);
        s->pci.config[PCI_INTERRUPT_PIN] = 1;
        pci_set_bar_io(&s->pci, 0, 0x20, &s->io, s);
    } else {
        s->io.base = s->iobase;
        ioport_register(dev->bus->io, &s->io, s);
    }
    s->port = net_port_new(dev->id, &ne2k_port_ops, s);
    g_autofree char *info = g_strdup_printf(
        "type=nic,model=%s,macaddr=%02x:%02x:%02x:%02x:%02x:%02x",
        s->pci_bus ? "ne2k_pci" : "ne2k_isa", s->mac[0], s->mac[1],
        s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
    net_port_set_info(s->port, info);
    prom_init(s);
    return true;
}

static void ne2k_reset(Device *dev)
{
    Ne2k *s = (Ne2k *)dev;
    if (s->pci_bus) {
        pci_reset_function(&s->pci);
    }
    soft_reset(s);
}

static void ne2k_finalize(Device *dev)
{
    net_port_free(((Ne2k *)dev)->port);
}

static bool ne2k_post_load(void *obj, GError **error)
{
    Ne2k *s = obj;
    if (s->pci_bus) {
        pci_update_mappings(&s->pci);
    }
    update_irq(s);
    net_port_flush(s->port);
    return true; /* every value is checked where it is used */
}

static const StateDesc ne2k_state = {
    .name = "ne2000", .version = 1, .min_version = 1,
    .post_load = ne2k_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(Ne2k, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_U8(Ne2k, cmd), STATE_U8(Ne2k, pstart), STATE_U8(Ne2k, pstop),
        STATE_U8(Ne2k, bnry), STATE_U8(Ne2k, tpsr), STATE_U8(Ne2k, isr),
        STATE_U8(Ne2k, rcr), STATE_U8(Ne2k, tcr), STATE_U8(Ne2k, dcr),
        STATE_U8(Ne2k, imr), STATE_U8(Ne2k, tsr), STATE_U8(Ne2k, rsr),
        STATE_U8(Ne2k, curr), STATE_U16(Ne2k, tbcr), STATE_U16(Ne2k, rsar),
        STATE_U16(Ne2k, rbcr), STATE_BYTES(Ne2k, par, 6),
        STATE_BYTES(Ne2k, mar, 8), STATE_BYTES(Ne2k, prom, 32),
        STATE_BYTES(Ne2k, mem, NE2K_MEM_SIZE),
        STATE_END },
};

const DeviceInfo ne2k_pci_info = {
    .name = "ne2k_pci", .size = sizeof(Ne2k), .state = &ne2k_state,
    .realize = ne2k_realize, .reset = ne2k_reset, .finalize = ne2k_finalize,
};

const DeviceInfo ne2k_isa_info = {
    .name = "ne2k_isa", .size = sizeof(Ne2k), .state = &ne2k_state,
    .realize = ne2k_realize, .reset = ne2k_reset, .finalize = ne2k_finalize,
};
