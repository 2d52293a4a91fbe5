/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Realtek RTL8139C+ Fast Ethernet controller (see rtl8139.h).
 * Reference: Realtek RTL8139C(L)+ data sheet (register table, transmit
 * status registers, the receive buffer's packet header, C+ mode
 * descriptors, CpCmd, the 9346CR register) and the 93C46 serial EEPROM
 * data sheet (READ: start bit, opcode 10, six address bits, a dummy zero,
 * sixteen data bits).
 *
 * Everything the guest supplies is checked here: transmit sizes are
 * bounded by the 13-bit size fields and the frame buffer, receive buffer
 * positions are reduced modulo the ring size, C+ descriptor walks stop
 * after RING_MAX descriptors, and guest memory is reached only through
 * memmap_read/memmap_write, which bound every access to what exists.  A
 * C+ frame is gathered only once its last fragment is owned by the chip,
 * so no half-built frame outlives a register write.
 */
#include "hw/net/rtl8139.h"

#include <string.h>
#include <zlib.h>

#include "bus/log.h"
#include "hw/net/nic_util.h"

enum {
    IDR0 = 0x00, MAR0 = 0x08, TSD0 = 0x10, TSAD0 = 0x20, RBSTART = 0x30,
    CR = 0x37, CAPR = 0x38, CBR = 0x3a, IMR = 0x3c, ISR = 0x3e, TCR = 0x40,
    RCR = 0x44, TCTR = 0x48, MPC = 0x4c, CR9346 = 0x50, CONFIG0 = 0x51,
    CONFIG1 = 0x52, TIMERINT = 0x54, MSR = 0x58, CONFIG3 = 0x59,
    TSAD = 0x60, BMCR = 0x62, BMSR = 0x64, ANAR = 0x66, ANLPAR = 0x68,
    ANER = 0x6a, TXPOLL = 0xd9, RXMAXSIZE = 0xda, CPCMD = 0xe0,
    RXRING = 0xe4,
    /* C+ mode names of the classic registers */
    DTCCR = 0x10, TXRING = 0x20,
};

#define CR_BUFE 0x01
#define CR_TE 0x04
#define CR_RE 0x08
#define CR_RST 0x10

#define INT_ROK 0x0001
#define INT_TOK 0x0004
#define INT_RXOVW 0x0010 /* C+: RxEmpty, no descriptor */
#define INT_LINKCHG 0x0020

#define TSD_SIZE 0x1fff
#define TSD_OWN 0x2000
#define TSD_TOK 0x8000

#define RCR_AAP 0x01
#define RCR_APM 0x02
#define RCR_AM 0x04
#define RCR_AB 0x08
#define RCR_WRAP 0x80

#define CPCMD_TX 0x0001
#define CPCMD_RX 0x0002

#define DESC_OWN (1u << 31)
#define DESC_EOR (1u << 30)
#define DESC_FS (1u << 29)
#define DESC_LS (1u << 28)
#define TXD_LGSEN (1u << 27)
#define TXD_IPCS (1u << 18)
#define TXD_UDPCS (1u << 17)
#define TXD_TCPCS (1u << 16)
#define TXD_TAGC (1u << 17) /* in opts2 */

#define HWVER_CPLUS 0x74800000u
#define HWVER_C 0x74000000u
#define HWVER_MASK 0x7cc00000u

#define RING_MAX 1024          /* C+ descriptors per ring, at most */
#define LEGACY_RX_MAX 1518     /* what 8139too accepts in its ring */
#define BUF_SIZE (NET_MAX_FRAME + 64)

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint16_t r16(const Rtl8139 *s, unsigned off)
{
    return nic_le16(s->regs + off);
}

static uint32_t r32(const Rtl8139 *s, unsigned off)
{
    return nic_le32(s->regs + off);
}

static void w16(Rtl8139 *s, unsigned off, uint16_t v)
{
    nic_put_le16(s->regs + off, v);
}

static void w32(Rtl8139 *s, unsigned off, uint32_t v)
{
    nic_put_le32(s->regs + off, v);
}

static void update_irq(Rtl8139 *s)
{
    irq_set(s->irq, (r16(s, ISR) & r16(s, IMR)) != 0);
}

static void set_isr(Rtl8139 *s, uint16_t bits)
{
    w16(s, ISR, r16(s, ISR) | bits);
    update_irq(s);
}

static bool cplus_rx(const Rtl8139 *s)
{
    return r16(s, CPCMD) & CPCMD_RX;
}

static bool cplus_tx(const Rtl8139 *s)
{
    return r16(s, CPCMD) & CPCMD_TX;
}

/* ---- 93C46 EEPROM behind 9346CR (program mode: EEM = 10) ---- */

static void eeprom_init(Rtl8139 *s)
{
    memset(s->eeprom, 0, sizeof(s->eeprom));
    s->eeprom[0] = 0x8129;
    s->eeprom[1] = 0x10ec;
    s->eeprom[2] = 0x8139;
    for (int i = 0; i < 3; i++) {
        s->eeprom[7 + i] = s->mac[2 * i] | s->mac[2 * i + 1] << 8;
    }
}

static void eeprom_pins(Rtl8139 *s, uint8_t v, uint8_t old)
{
    bool cs = v & 0x08, sk = v & 0x04, di = v & 0x02;
    if (!cs) {
        s->ee_nbits = 0;
        s->ee_in = 0;
        s->ee_reading = 0;
        s->ee_do = 1;
        return;
    }
    if (!sk || (old & 0x04)) {
        return; /* rising clock edges only */
    }
    if (s->ee_reading) {
        s->ee_do = (s->eeprom[s->ee_addr] >> (15 - s->ee_bit)) & 1;
        if (++s->ee_bit == 16) {
            s->ee_bit = 0;
            s->ee_addr = (s->ee_addr + 1) % RTL8139_EEPROM_WORDS;
        }
        return;
    }
    if (s->ee_nbits == 0 && !di) {
        return; /* zeros before the start bit */
    }
    s->ee_in = s->ee_in << 1 | di;
    s->ee_do = 1;
    if (++s->ee_nbits == 9) { /* start, opcode (2), address (6) */
        if (((s->ee_in >> 6) & 7) == 6) {
            s->ee_reading = 1;
            s->ee_addr = s->ee_in & 0x3f;
            s->ee_bit = 0;
            s->ee_do = 0; /* the dummy zero */
        }
        s->ee_nbits = 0;
        s->ee_in = 0;
    }
}

/* ---- reset and link ---- */

static void link_apply(Rtl8139 *s, bool up)
{
    uint16_t bmsr = r16(s, BMSR);
    w16(s, BMSR, up ? (bmsr | 0x0024) : (bmsr & ~0x0024));
    s->regs[MSR] = up ? 0x00 : 0x04; /* LINKB: 1 = link failed */
}

static void soft_reset(Rtl8139 *s)
{
    /* The command reset leaves the MAC and the EEPROM alone. */
    memset(s->regs + MAR0, 0, 0x100 - MAR0);
    memcpy(s->regs + IDR0, s->mac, 6);
    s->regs[CR] = CR_BUFE;
    w16(s, CAPR, 0xfff0);
    w32(s, TCR, s->revision >= 0x20 ? HWVER_CPLUS : HWVER_C);
    s->regs[CONFIG1] = 0x0d;
    w16(s, BMCR, 0x3100);
    w16(s, BMSR, 0x782d);
    w16(s, ANAR, 0x05e1);
    w16(s, ANLPAR, 0x45e1);
    w16(s, ANER, 0x0001);
    w16(s, RXMAXSIZE, 0x05ef);
    s->cp_tx_index = s->cp_rx_index = 0;
    s->tctr_base = clock_now(s->dev.bus->clock);
    link_apply(s, !s->port || net_port_link(s->port));
    update_irq(s);
}

/* ---- receive ---- */

static bool rx_accept(Rtl8139 *s, const uint8_t *buf, uint16_t *status)
{
    uint8_t rcr = s->regs[RCR];
    if (!memcmp(buf, bcast, 6)) {
        *status = 0x2000; /* BAR */
        return rcr & (RCR_AB | RCR_AAP);
    }
    if (buf[0] & 1) {
        *status = 0x8000; /* MAR */
        if (rcr & RCR_AAP) {
            return true;
        }
        unsigned bit = nic_ether_crc_be(buf) >> 26;
        return (rcr & RCR_AM) && (s->regs[MAR0 + bit / 8] >> (bit & 7) & 1);
    }
    *status = 0x4000; /* PAM */
    if (!memcmp(buf, s->regs + IDR0, 6)) {
        return rcr & (RCR_APM | RCR_AAP);
    }
    *status = 0;
    return rcr & RCR_AAP;
}

/* The classic receive ring: packets one after another, each behind a
   4-byte header (status, length with CRC), 4-byte aligned; the driver
   frees space by moving CAPR (16 bytes behind its read position). */
static bool rx_legacy(Rtl8139 *s, size_t flen, uint16_t status)
{
    uint32_t size = 8192u << ((r32(s, RCR) >> 11) & 3);
    uint32_t cbr = r16(s, CBR) % size;
    uint32_t capr = (r16(s, CAPR) + 16u) % size;
    uint32_t used = (cbr + size - capr) % size;
    uint32_t need = (4 + flen + 3) & ~3u;
    if (need + 4 >= size) {
        return true; /* can never fit: dropped */
    }
    if (used + need + 4 >= size) {
        return false; /* full: waits until the driver moves CAPR */
    }
    uint8_t hdr[4];
    nic_put_le16(hdr, status | 0x0001);
    nic_put_le16(hdr + 2, flen);
    uint64_t base = r32(s, RBSTART);
    MemMap *mem = s->dev.bus->mem;
    memmap_write(mem, base + cbr, hdr, 4);
    uint32_t pos = (cbr + 4) % size;
    if ((s->regs[RCR] & RCR_WRAP) || pos + flen <= size) {
        /* WRAP: the chip runs past the end (the driver's slack). */
        memmap_write(mem, base + pos, s->rxbuf, flen);
    } else {
        uint32_t first = size - pos;
        memmap_write(mem, base + pos, s->rxbuf, first);
        memmap_write(mem, base, s->rxbuf + first, flen - first);
    }
    w16(s, CBR, (cbr + need) % size);
    s->regs[CR] &= ~CR_BUFE;
    set_isr(s, INT_ROK);
    return true;
}

static uint64_t cp_desc_addr(const Rtl8139 *s, unsigned ring, unsigned idx)
{
    uint64_t base = (uint64_t)r32(s, ring + 4) << 32 | r32(s, ring);
    return base + (uint64_t)idx * 16;
}

/* C+ mode: the frame fills descriptors the driver owns to the chip. */
static bool rx_cplus(Rtl8139 *s, size_t flen)
{
    MemMap *mem = s->dev.bus->mem;
    /* Enough owned descriptors first, so that none is half used. */
    unsigned idx = s->cp_rx_index, n = 0;
    size_t room = 0;
    while (room < flen && n < 64) {
        uint8_t d[16];
        memmap_read(mem, cp_desc_addr(s, RXRING, idx), d, 16);
        uint32_t o = nic_le32(d);
        if (!(o & DESC_OWN)) {
            set_isr(s, INT_RXOVW); /* RxEmpty: the driver refills */
            return false;
        }
        room += o & 0x1fff;
        n++;
        idx = (o & DESC_EOR) || idx + 1 >= RING_MAX ? 0 : idx + 1;
    }
    if (room < flen) {
        return true; /* more than 64 buffers: dropped */
    }
    size_t done = 0;
    idx = s->cp_rx_index;
    for (unsigned i = 0; i < n; i++) {
        uint64_t da = cp_desc_addr(s, RXRING, idx);
        uint8_t d[16];
        memmap_read(mem, da, d, 16);
        uint32_t o = nic_le32(d);
        size_t chunk = MIN((size_t)(o & 0x1fff), flen - done);
        memmap_write(mem, nic_le64(d + 8), s->rxbuf + done, chunk);
        done += chunk;
        uint32_t w = (o & DESC_EOR) | (i == 0 ? DESC_FS : 0) |
                     (i == n - 1 ? DESC_LS | flen : chunk);
        uint8_t wb[8];
        nic_put_le32(wb, w);
        nic_put_le32(wb + 4, 0);
        memmap_write(mem, da, wb, 8);
        idx = (o & DESC_EOR) || idx + 1 >= RING_MAX ? 0 : idx + 1;
    }
    s->cp_rx_index = idx;
    set_isr(s, INT_ROK);
    return true;
}

static bool rx_frame(Rtl8139 *s, const uint8_t *buf, size_t len)
{
    if (!(s->regs[CR] & CR_RE) || !net_port_link(s->port) || len < 14) {
        return true;
    }
    uint16_t status;
    if (!rx_accept(s, buf, &status)) {
        return true;
    }
    bool cp = cplus_rx(s);
    if (len > (cp ? (size_t)NET_MAX_FRAME : (size_t)LEGACY_RX_MAX)) {
        return true;
    }
    /* The frame as the wire had it: padded to 60 bytes, then the CRC. */
    size_t flen = MAX(len, 60);
    memcpy(s->rxbuf, buf, len);
    memset(s->rxbuf + len, 0, flen - len);
    uint32_t crc = crc32(0, s->rxbuf, flen);
    nic_put_le32(s->rxbuf + flen, crc);
    flen += 4;
    return cp ? rx_cplus(s, flen) : rx_legacy(s, flen, status);
}

static bool rtl_receive(void *opaque, const uint8_t *buf, size_t len)
{
    Rtl8139 *s = opaque;
    if (s->in_rx) {
        return false; /* DMA aimed at our own registers: later */
    }
    s->in_rx = true;
    bool r = rx_frame(s, buf, len);
    s->in_rx = false;
    return r;
}

static void rtl_link_changed(void *opaque, bool up)
{
    Rtl8139 *s = opaque;
    link_apply(s, up);
    set_isr(s, INT_LINKCHG);
}

static const NetPortOps rtl_port_ops = {
    .receive = rtl_receive, .link_changed = rtl_link_changed,
};

/* ---- transmit ---- */

static void emit(void *opaque, uint8_t *p, size_t len)
{
    Rtl8139 *s = opaque;
    net_send(s->port, p, len);
}

static void tx_legacy(Rtl8139 *s, unsigned n)
{
    uint32_t tsd = r32(s, TSD0 + 4 * n);
    if (!(s->regs[CR] & CR_TE) || (tsd & TSD_OWN)) {
        return;
    }
    size_t len = tsd & TSD_SIZE;
    memmap_read(s->dev.bus->mem, r32(s, TSAD0 + 4 * n), s->buf, len);
    if (len) {
        net_send(s->port, s->buf, len);
    }
    w32(s, TSD0 + 4 * n, tsd | TSD_OWN | TSD_TOK);
    set_isr(s, INT_TOK);
}

static void tx_cplus(Rtl8139 *s)
{
    if (!(s->regs[CR] & CR_TE) || !cplus_tx(s)) {
        return;
    }
    MemMap *mem = s->dev.bus->mem;
    bool sent = false;
    for (unsigned guard = 0; guard < RING_MAX; guard++) {
        /* Find the last fragment among the descriptors we own. */
        unsigned idx = s->cp_tx_index, count = 0;
        bool found = false;
        while (count < RING_MAX) {
            uint8_t d[16];
            memmap_read(mem, cp_desc_addr(s, TXRING, idx), d, 16);
            uint32_t o = nic_le32(d);
            if (!(o & DESC_OWN)) {
                break;
            }
            count++;
            idx = (o & DESC_EOR) || idx + 1 >= RING_MAX ? 0 : idx + 1;
            if (o & DESC_LS) {
                found = true;
                break;
            }
        }
        if (!found) {
            break;
        }
        size_t len = 0;
        bool oversize = false;
        uint32_t first = 0, opts2 = 0;
        idx = s->cp_tx_index;
        for (unsigned i = 0; i < count; i++) {
            uint64_t da = cp_desc_addr(s, TXRING, idx);
            uint8_t d[16];
            memmap_read(mem, da, d, 16);
            uint32_t o = nic_le32(d);
            size_t blen = o & 0xffff;
            if (i == 0) {
                first = o;
                opts2 = nic_le32(d + 4);
            }
            if (len + blen > NET_MAX_FRAME) {
                oversize = true;
            } else {
                memmap_read(mem, nic_le64(d + 8), s->buf + 4 + len, blen);
                len += blen;
            }
            uint8_t wb[4];
            nic_put_le32(wb, o & ~DESC_OWN);
            memmap_write(mem, da, wb, 4);
            idx = (o & DESC_EOR) || idx + 1 >= RING_MAX ? 0 : idx + 1;
        }
        s->cp_tx_index = idx;
        sent = true;
        uint8_t *p = s->buf + 4;
        if (oversize) {
            mimic_log_guest("rtl8139: transmit frame over %d bytes dropped",
                            NET_MAX_FRAME);
            continue;
        }
        if ((opts2 & TXD_TAGC) && len >= 12) {
            memmove(s->buf, p, 12); /* make room for the 802.1Q tag */
            p = s->buf;
            nic_put_be16(p + 12, 0x8100);
            p[14] = opts2 & 0xff; /* the tag is stored byte-swapped */
            p[15] = (opts2 >> 8) & 0xff;
            len += 4;
        }
        if (len == 0) {
            continue;
        }
        if (first & TXD_LGSEN) {
            if (!nic_tcp_segment(p, len, (first >> 16) & 0x7ff, emit, s)) {
                net_send(s->port, p, len);
            }
            continue;
        }
        if (first & (TXD_IPCS | TXD_TCPCS | TXD_UDPCS)) {
            nic_ipv4_checksums(p, len, first & TXD_IPCS,
                               first & (TXD_TCPCS | TXD_UDPCS));
        }
        net_send(s->port, p, len);
    }
    if (sent) {
        set_isr(s, INT_TOK);
    }
}

static void tx_run_cplus(Rtl8139 *s)
{
    if (s->in_tx) {
        return;
    }
    s->in_tx = true;
    tx_cplus(s);
    s->in_tx = false;
    net_batch_end(s->port);
}

static void tx_run_legacy(Rtl8139 *s, unsigned n)
{
    if (s->in_tx) {
        return;
    }
    s->in_tx = true;
    tx_legacy(s, n);
    s->in_tx = false;
    net_batch_end(s->port);
}

/* C+ "dump tally counters": 64 bytes of statistics to guest memory. */
static void dump_counters(Rtl8139 *s)
{
    uint8_t c[64] = { 0 };
    const NetStats *st = net_port_stats(s->port);
    uint64_t tx = st->tx_frames, rx = st->rx_frames;
    for (int i = 0; i < 8; i++) {
        c[i] = tx >> (8 * i);
        c[8 + i] = rx >> (8 * i);
    }
    uint64_t a = ((uint64_t)r32(s, DTCCR + 4) << 32 | r32(s, DTCCR)) & ~63ull;
    memmap_write(s->dev.bus->mem, a, c, sizeof(c));
    s->regs[DTCCR] &= ~0x08;
}

/* ---- registers ---- */

/* The classic ring holds nothing the driver has not read. */
static bool ring_empty(const Rtl8139 *s)
{
    return (r16(s, CAPR) + 16u) % (8192u << ((s->regs[RCR + 1] >> 3) & 3)) ==
           r16(s, CBR);
}

static uint8_t reg_read8(Rtl8139 *s, unsigned off)
{
    switch (off) {
    case CR: {
        uint8_t v = s->regs[CR] & (CR_TE | CR_RE);
        if (cplus_rx(s) || ring_empty(s)) {
            v |= CR_BUFE;
        }
        return v;
    }
    case TCTR: case TCTR + 1: case TCTR + 2: case TCTR + 3: {
        int64_t ns = clock_now(s->dev.bus->clock) - s->tctr_base;
        uint32_t t = (uint64_t)MAX(ns, 0) * 33 / 1000;
        return t >> (8 * (off - TCTR));
    }
    case CR9346:
        return (s->regs[CR9346] & 0xce) | (s->ee_do ? 1 : 0);
    case TSAD: case TSAD + 1: {
        uint16_t v = 0;
        for (int i = 0; i < 4; i++) {
            uint32_t t = r32(s, TSD0 + 4 * i);
            v |= (t & TSD_OWN ? 1 : 0) << i;
            v |= (t & TSD_TOK ? 1 : 0) << (12 + i);
        }
        return v >> (8 * (off - TSAD));
    }
    case TXPOLL:
        return 0;
    default:
        return s->regs[off];
    }
}

static uint32_t reg_read(Rtl8139 *s, unsigned off, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size && off + i < 256; i++) {
        v |= (uint32_t)reg_read8(s, off + i) << (8 * i);
    }
    return v;
}

static void reg_write8(Rtl8139 *s, unsigned off, uint8_t v)
{
    uint8_t old = s->regs[off];
    switch (off) {
    case CR:
        if (v & CR_RST) {
            soft_reset(s);
            return;
        }
        if ((v & CR_RE) && !(old & CR_RE)) {
            w16(s, CBR, 0); /* the receiver starts at the ring's start */
            w16(s, CAPR, 0xfff0);
        }
        s->regs[CR] = v & (CR_TE | CR_RE);
        return;
    case RXMAXSIZE: case RXMAXSIZE + 1:
        /* Read-only here: only an RTL8169 keeps what is written (iPXE
           tells the two apart by it). */
        return;
    case CBR: case CBR + 1: case TSAD: case TSAD + 1: case MSR:
    case BMSR: case BMSR + 1: case ANLPAR: case ANLPAR + 1:
        return; /* read-only */
    case ISR: case ISR + 1:
        s->regs[off] &= ~v;
        if (off == ISR && !cplus_rx(s) && !ring_empty(s)) {
            /* ROK stays while the ring holds unread packets.  8139too
               acks ROK after each packet and polls again only while ROK
               is set: had its budget run out with packets left (this
               device refills the ring from its queue as CAPR moves),
               they would wait for the next frame from the wire. */
            s->regs[ISR] |= INT_ROK;
        }
        update_irq(s);
        return;
    case IMR: case IMR + 1:
        s->regs[off] = v;
        update_irq(s);
        return;
    case TCR + 2: case TCR + 3: {
        uint32_t m = HWVER_MASK >> (8 * (off - TCR));
        s->regs[off] = (v & ~m) | (old & m);
        return;
    }
    case TCTR: case TCTR + 1: case TCTR + 2: case TCTR + 3:
        s->tctr_base = clock_now(s->dev.bus->clock);
        return;
    case MPC: case MPC + 1: case MPC + 2: case MPC + 3:
        s->regs[off] = 0;
        return;
    case CR9346:
        s->regs[CR9346] = v & 0xce;
        eeprom_pins(s, (v >> 6) == 2 ? v : 0, old); /* CS only in mode 10 */
        if ((v >> 6) == 1) {
            /* auto-load: the MAC address comes from the EEPROM again */
            for (int i = 0; i < 3; i++) {
                s->regs[IDR0 + 2 * i] = s->eeprom[7 + i];
                s->regs[IDR0 + 2 * i + 1] = s->eeprom[7 + i] >> 8;
            }
            s->regs[CR9346] = 0;
        }
        return;
    case BMCR + 1:
        s->regs[off] = v & ~0x82; /* reset, restart: done at once */
        return;
    default:
        s->regs[off] = v;
        return;
    }
}

static void reg_write(Rtl8139 *s, unsigned off, uint32_t v, unsigned size)
{
    for (unsigned i = 0; i < size && off + i < 256; i++) {
        reg_write8(s, off + i, v >> (8 * i));
    }
    unsigned end = off + size;
    if (off < TSD0 + 16 && end > TSD0) {
        if (cplus_tx(s) || cplus_rx(s)) {
            if (off <= DTCCR && end > DTCCR && (s->regs[DTCCR] & 0x08)) {
                dump_counters(s);
            }
        } else {
            tx_run_legacy(s, (off - TSD0) / 4 % 4);
        }
    }
    if (off <= TXPOLL && end > TXPOLL && (v >> (8 * (TXPOLL - off)) & 0x40)) {
        tx_run_cplus(s);
    }
    if ((off < CAPR + 2 && end > CAPR) || (off < ISR + 2 && end > IMR) ||
        (off <= CR && end > CR) || (off < RCR + 4 && end > RCR) ||
        (off < CPCMD + 2 && end > CPCMD)) {
        net_port_flush(s->port); /* the receiver may have room now */
    }
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    return off < 256 ? reg_read(opaque, off, size) : 0;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    if (off < 256) {
        reg_write(opaque, off, v, size);
    }
}

static const MemOps rtl_mmio_ops = {
    .read = mmio_read, .write = mmio_write, .min = 1, .max = 4,
};

static uint32_t io_read(void *opaque, uint16_t off, unsigned size)
{
    return reg_read(opaque, off, size);
}

static void io_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    reg_write(opaque, off, v, size);
}

/* ---- device ---- */

static bool rtl_realize(Device *dev, GError **error)
{
    Rtl8139 *s = (Rtl8139 *)dev;
    if (!s->revision) {
        s->revision = 0x20;
    }
    s->buf = g_malloc(BUF_SIZE);
    s->rxbuf = g_malloc(BUF_SIZE);
    pci_add_function(s->bus, &s->pci, s->devfn, 0x10ec, 0x8139,
                     0x02000000 | s->revision, s);
    pci_set_word(s->pci.config + PCI_SUBSYS_VENDOR, 0x10ec);
    pci_set_word(s->pci.config + PCI_SUBSYS_ID, 0x8139);
    s->pci.config[PCI_INTERRUPT_PIN] = 1;
    s->io = (IoRegion){ .len = 0x100, .min = 1, .max = 4, .read = io_read,
                        .write = io_write, .name = "rtl8139-io" };
    pci_set_bar_io(&s->pci, 0, 0x100, &s->io, s);
    g_autofree char *name = g_strdup_printf("%s.mmio", dev->id);
    s->mmio = memmap_add_mmio(dev->bus->mem, name, 0xfc000000ull +
                              (uint64_t)(s->devfn >> 3) * 0x20000, 0x1000,
                              &rtl_mmio_ops, s, 3);
    pci_set_bar_mem(&s->pci, 1, s->mmio);
    s->port = net_port_new(dev->id, &rtl_port_ops, s);
    g_autofree char *info = g_strdup_printf(
        "type=nic,model=rtl8139,macaddr=%02x:%02x:%02x:%02x:%02x:%02x",
        s->mac[0], s->mac[1], s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
    net_port_set_info(s->port, info);
    eeprom_init(s);
    return true;
}

static void rtl_reset(Device *dev)
{
    Rtl8139 *s = (Rtl8139 *)dev;
    pci_reset_function(&s->pci);
    s->ee_nbits = s->ee_reading = 0;
    s->ee_in = 0;
    s->ee_do = 1;
    soft_reset(s);
}

static void rtl_finalize(Device *dev)
{
    Rtl8139 *s = (Rtl8139 *)dev;
    net_port_free(s->port);
    g_free(s->buf);
    g_free(s->rxbuf);
}

static bool rtl_post_load(void *obj, GError **error)
{
    Rtl8139 *s = obj;
    if (s->ee_nbits > 9 || s->ee_addr >= RTL8139_EEPROM_WORDS ||
        s->ee_reading > 1 || s->ee_do > 1 || s->ee_bit > 15 ||
        s->cp_tx_index >= RING_MAX || s->cp_rx_index >= RING_MAX) {
        g_set_error(error, STATE_ERROR, 0, "rtl8139: invalid state");
        return false;
    }
    net_port_init_link(s->port, !(s->regs[MSR] & 0x04));
    pci_update_mappings(&s->pci);
    update_irq(s);
    net_port_flush(s->port);
    return true;
}

static const StateDesc rtl_state = {
    .name = "rtl8139", .version = 1, .min_version = 1,
    .post_load = rtl_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(Rtl8139, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_BYTES(Rtl8139, regs, 256),
        STATE_U16_ARRAY(Rtl8139, eeprom, RTL8139_EEPROM_WORDS),
        STATE_U32(Rtl8139, ee_in), STATE_U8(Rtl8139, ee_nbits),
        STATE_U8(Rtl8139, ee_reading), STATE_U8(Rtl8139, ee_addr),
        STATE_U8(Rtl8139, ee_bit), STATE_U8(Rtl8139, ee_do),
        STATE_U16(Rtl8139, cp_tx_index), STATE_U16(Rtl8139, cp_rx_index),
        STATE_I64(Rtl8139, tctr_base),
        STATE_END },
};

const DeviceInfo rtl8139_info = {
    .name = "rtl8139", .size = sizeof(Rtl8139), .state = &rtl_state,
    .realize = rtl_realize, .reset = rtl_reset, .finalize = rtl_finalize,
};
