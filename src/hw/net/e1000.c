/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 82540EM Gigabit Ethernet controller (see e1000.h).
 * Reference: Intel PCI/PCI-X Family of Gigabit Ethernet Controllers
 * Software Developer's Manual (8254x), chapters 3 (receive and transmit
 * descriptors, context descriptors, TCP segmentation), 5 (EEPROM map,
 * Microwire interface), 13 (register descriptions) and the M88E1011 PHY
 * register map of its appendix.
 *
 * Interrupt moderation as the 8254x has it (manual 3.2.7 and 3.4, the
 * ITR, RDTR, RADV, TIDV and TADV registers): ITR is the shortest time
 * between two rising edges of the line (256 ns units; causes gather in
 * ICR meanwhile), RDTR holds RXT0 back after each frame (1.024 us units,
 * restarted by every frame, RADV caps the wait from the first one; FPD
 * in an RDTR write ends it at once), TIDV/TADV do the same for TXDW
 * after descriptors with IDE.  All of them are 0 after reset (no
 * moderation: every cause raises the line at once).  Only with
 * `mitigation` set (off by default, as bench/net.py measured: Linux's
 * TIDV makes TXDW an interrupt of its own instead of one shared with the
 * RXT0 of slirp's answer, and the guest's download costs more CPU); off,
 * the registers are stored and every cause is immediate.
 *
 * Everything guest-supplied is checked here: ring lengths, head/tail
 * indices, descriptor lengths, offsets inside frames.  Guest memory is
 * reached only through memmap_read/memmap_write, which bound every access
 * to the regions that exist.  A transmit frame is gathered only once its
 * end-of-packet descriptor is owned by the device, so no half-built frame
 * outlives a register write (nothing to save for it).
 */
#include "hw/net/e1000.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "bus/log.h"
#include "hw/net/nic_util.h"

/* Register offsets (byte addresses / 4). */
enum {
    CTRL = 0x0000 / 4, STATUS = 0x0008 / 4, EECD = 0x0010 / 4,
    EERD = 0x0014 / 4, CTRL_EXT = 0x0018 / 4, MDIC = 0x0020 / 4,
    ICR = 0x00c0 / 4, ITR = 0x00c4 / 4, ICS = 0x00c8 / 4, IMS = 0x00d0 / 4,
    IMC = 0x00d8 / 4, RCTL = 0x0100 / 4, TCTL = 0x0400 / 4,
    LEDCTL = 0x0e00 / 4, PBA = 0x1000 / 4,
    RDBAL = 0x2800 / 4, RDBAH = 0x2804 / 4, RDLEN = 0x2808 / 4,
    RDH = 0x2810 / 4, RDT = 0x2818 / 4,
    TDBAL = 0x3800 / 4, TDBAH = 0x3804 / 4, TDLEN = 0x3808 / 4,
    TDH = 0x3810 / 4, TDT = 0x3818 / 4,
    STATS_FIRST = 0x4000 / 4, STATS_LAST = 0x40fc / 4,
    GPRC = 0x4074 / 4, GPTC = 0x4080 / 4, GORCL = 0x4088 / 4,
    GORCH = 0x408c / 4, GOTCL = 0x4090 / 4, GOTCH = 0x4094 / 4,
    TORL = 0x40c0 / 4, TORH = 0x40c4 / 4, TOTL = 0x40c8 / 4,
    TOTH = 0x40cc / 4, TPR = 0x40d0 / 4, TPT = 0x40d4 / 4,
    BPRC = 0x4078 / 4, MPRC = 0x407c / 4,
    MTA = 0x5200 / 4, RA = 0x5400 / 4, VET = 0x0038 / 4,
    RXCSUM = 0x5000 / 4,
    RDTR = 0x2820 / 4, RADV = 0x282c / 4, TIDV = 0x3820 / 4,
    TADV = 0x382c / 4,
};

#define CTRL_RST (1u << 26)
#define CTRL_VME (1u << 30)
#define CTRL_PHY_RST (1u << 31)
#define STATUS_FD 0x1
#define STATUS_LU 0x2
#define STATUS_SPEED_1000 0x80
#define EECD_SK 0x1
#define EECD_CS 0x2
#define EECD_DI 0x4
#define EECD_DO 0x8
#define EECD_REQ 0x40
#define EECD_GNT 0x80
#define EECD_PRES 0x100
#define MDIC_READY (1u << 28)
#define MDIC_INT (1u << 29)
#define MDIC_ERROR (1u << 30)
#define ICR_TXDW 0x1
#define ICR_TXQE 0x2
#define ICR_LSC 0x4
#define ICR_RXDMT0 0x10
#define ICR_RXO 0x40
#define ICR_RXT0 0x80
#define ICR_MDAC 0x200
#define RCTL_EN 0x2
#define RCTL_UPE 0x8
#define RCTL_MPE 0x10
#define RCTL_LPE 0x20
#define RCTL_BAM 0x8000
#define RCTL_BSEX (1u << 25)
#define RCTL_SECRC (1u << 26)
#define TCTL_EN 0x2
#define RAH_AV (1u << 31)

/* Transmit descriptor bits (in the second dword, "lower"). */
#define TXD_EOP (1u << 24)
#define TXD_IFCS (1u << 25)
#define TXD_IC (1u << 26)  /* legacy: insert checksum */
#define TXD_TSE (1u << 26) /* extended data: TCP segmentation */
#define TXD_RS (1u << 27)
#define TXD_DEXT (1u << 29)
#define TXD_VLE (1u << 30)
#define TXD_IDE (1u << 31)
#define TXD_DTYP_D (1u << 20)
#define TXD_DTYP_MASK (0xfu << 20)
#define TUCMD_TCP 0x01
#define TUCMD_IP 0x02
#define POPTS_IXSM 0x01
#define POPTS_TXSM 0x02

#define RXD_DD 0x01
#define RXD_EOP 0x02
#define RXD_IXSM 0x04
#define RXD_TCPCS 0x20
#define RXD_IPCS 0x40
#define RXE_TCPE 0x20
#define RXE_IPE 0x40
#define RXCSUM_IPOFL 0x100
#define RXCSUM_TUOFL 0x200

#define RDTR_FPD (1u << 31)
#define DELAY_UNIT_NS 1024 /* RDTR, RADV, TIDV, TADV */
#define ITR_UNIT_NS 256

#define PHY_ADDR 1
#define MAX_TX (NET_MAX_FRAME + 64)
#define MAX_RX 16384

static inline uint16_t be16(const uint8_t *p)
{
    return p[0] << 8 | p[1];
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static inline uint32_t le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ---- interrupts ---- */

static void mod_arm(E1000 *s)
{
    int64_t t = MIN(s->rx_due, s->tx_due);
    if ((s->regs[ICR] & s->regs[IMS]) && !s->irq_up) {
        t = MIN(t, s->itr_next); /* a rising edge waits for ITR */
    }
    if (t == CLOCK_NEVER) {
        timer_del(s->mod_timer);
    } else if (timer_expire_time(s->mod_timer) != t) {
        timer_mod(s->mod_timer, t);
    }
}

static void update_irq(E1000 *s)
{
    if (!(s->regs[ICR] & s->regs[IMS])) {
        s->irq_up = false;
        irq_set(s->irq, false);
    } else if (!s->irq_up) {
        uint32_t itr = s->mitigation ? s->regs[ITR] & 0xffff : 0;
        int64_t now = clock_now(s->dev.bus->clock);
        if (itr && now < s->itr_next) {
            mod_arm(s);
            return;
        }
        s->irq_up = true;
        irq_set(s->irq, true);
        s->itr_next = itr ? now + (int64_t)itr * ITR_UNIT_NS : 0;
    }
    mod_arm(s);
}

static void mod_tick(void *opaque)
{
    E1000 *s = opaque;
    int64_t now = clock_now(s->dev.bus->clock);
    if (s->rx_due <= now) {
        s->rx_due = s->rx_abs = CLOCK_NEVER;
        s->regs[ICR] |= ICR_RXT0;
    }
    if (s->tx_due <= now) {
        s->tx_due = s->tx_abs = CLOCK_NEVER;
        s->regs[ICR] |= ICR_TXDW;
    }
    update_irq(s);
}

/* A cause held back by a delay timer (rdtr/tidv) capped by an absolute
   one (radv/tadv); due and abs are the device's pair of deadlines. */
static void delay_cause(E1000 *s, uint32_t cause, uint32_t delay,
                        uint32_t absolute, int64_t *due, int64_t *abs)
{
    if (!delay || !s->mitigation) {
        *due = *abs = CLOCK_NEVER;
        s->regs[ICR] |= cause;
        update_irq(s);
        return;
    }
    int64_t now = clock_now(s->dev.bus->clock);
    if (absolute && *abs == CLOCK_NEVER) {
        *abs = now + (int64_t)absolute * DELAY_UNIT_NS;
    }
    *due = MIN(now + (int64_t)delay * DELAY_UNIT_NS, *abs);
    update_irq(s); /* other causes (RXDMT0) are not held back */
}

static void set_ics(E1000 *s, uint32_t cause)
{
    s->regs[ICR] |= cause;
    update_irq(s);
}

/* ---- EEPROM (Microwire, 64 x 16 bits) and PHY ---- */

static void eeprom_init(E1000 *s)
{
    memset(s->eeprom, 0, sizeof(s->eeprom));
    for (int i = 0; i < 3; i++) {
        s->eeprom[i] = s->mac[2 * i] | s->mac[2 * i + 1] << 8;
    }
    s->eeprom[0x0a] = 0x6401; /* init control 1: "valid" signature 01b */
    s->eeprom[0x0b] = 0x001e; /* subsystem ID */
    s->eeprom[0x0c] = 0x8086; /* subsystem vendor */
    s->eeprom[0x0d] = 0x100e; /* device ID */
    s->eeprom[0x0e] = 0x8086; /* vendor */
    s->eeprom[0x0f] = 0x3000; /* init control 2: no pause frames */
    uint16_t sum = 0;
    for (int i = 0; i < 0x3f; i++) {
        sum += s->eeprom[i];
    }
    s->eeprom[0x3f] = 0xbaba - sum; /* words 0-0x3f sum to 0xbaba */
}

static void eecd_write(E1000 *s, uint32_t v)
{
    uint32_t old = s->regs[EECD];
    s->regs[EECD] = (v & (EECD_SK | EECD_CS | EECD_DI | EECD_REQ)) |
                    (old & ~(uint32_t)(EECD_SK | EECD_CS | EECD_DI |
                                       EECD_REQ));
    if (!(v & EECD_CS)) {
        s->ee_nbits = 0;
        s->ee_in = 0;
        s->ee_reading = 0;
        s->ee_do = 1;
        return;
    }
    if (!(v & EECD_SK) || (old & EECD_SK)) {
        return; /* act on the rising edge of the clock only */
    }
    if (s->ee_reading) {
        s->ee_do = (s->eeprom[s->ee_addr] >> (15 - s->ee_bit)) & 1;
        if (++s->ee_bit == 16) { /* sequential read: the next word */
            s->ee_bit = 0;
            s->ee_addr = (s->ee_addr + 1) % E1000_EEPROM_WORDS;
        }
        return;
    }
    s->ee_in = s->ee_in << 1 | !!(v & EECD_DI);
    s->ee_nbits++;
    s->ee_do = 1;
    if (s->ee_nbits == 9) { /* start bit, 2 opcode bits, 6 address bits */
        if ((s->ee_in >> 6) == 6) { /* 1 10: READ */
            s->ee_reading = 1;
            s->ee_addr = s->ee_in & 0x3f;
            s->ee_bit = 0;
            s->ee_do = 0; /* the dummy zero before the data */
        }
        s->ee_nbits = 0;
        s->ee_in = 0;
    }
}

static uint32_t eecd_read(E1000 *s)
{
    uint32_t v = s->regs[EECD] & (EECD_SK | EECD_CS | EECD_DI | EECD_REQ);
    v |= EECD_PRES;
    if (v & EECD_REQ) {
        v |= EECD_GNT;
    }
    if (s->ee_do) {
        v |= EECD_DO;
    }
    return v;
}

static void phy_reset(E1000 *s)
{
    memset(s->phy, 0, sizeof(s->phy));
    s->phy[0x00] = 0x1140; /* autonegotiation, full duplex, 1000 Mb/s */
    s->phy[0x01] = 0x796d; /* link up, autonegotiation complete */
    s->phy[0x02] = 0x0141; /* Marvell M88E1011 */
    s->phy[0x03] = 0x0c20;
    s->phy[0x04] = 0x01e1;
    s->phy[0x05] = 0x41e1; /* link partner: 10/100 both duplexes, ack */
    s->phy[0x06] = 0x0001;
    s->phy[0x09] = 0x0e00;
    s->phy[0x0a] = 0x3c00; /* partner 1000 full/half, receivers OK */
    s->phy[0x0f] = 0x3000;
    s->phy[0x10] = 0x0068;
    s->phy[0x11] = 0xac00; /* 1000 Mb/s, full duplex, resolved, link */
    s->phy[0x14] = 0x0c60;
}

static void mdic_write(E1000 *s, uint32_t v)
{
    unsigned reg = (v >> 16) & 0x1f, phy = (v >> 21) & 0x1f;
    unsigned op = (v >> 26) & 3;
    uint32_t r = v & 0x03ffffff;
    if (phy != PHY_ADDR || (op != 1 && op != 2)) {
        r |= MDIC_ERROR;
    } else if (op == 2) {
        r = (r & ~0xffffu) | s->phy[reg];
    } else {
        uint16_t d = v & 0xffff;
        switch (reg) {
        case 0x00:
            /* Reset and restart-autonegotiation complete at once. */
            s->phy[0] = d & ~0x8200;
            break;
        case 0x01: case 0x02: case 0x03: case 0x05: case 0x06: case 0x0a:
        case 0x0f: case 0x11:
            break; /* read-only */
        default:
            s->phy[reg] = d;
            break;
        }
    }
    s->regs[MDIC] = r | MDIC_READY;
    if (v & MDIC_INT) {
        set_ics(s, ICR_MDAC);
    }
}

/* ---- reset ---- */

static void link_apply(E1000 *s, bool up);

static void regs_reset(E1000 *s)
{
    memset(s->regs, 0, sizeof(s->regs));
    s->regs[CTRL] = 0x00000240 | STATUS_FD; /* SLU, speed 1000, FD */
    s->regs[STATUS] = STATUS_FD | STATUS_LU | STATUS_SPEED_1000;
    s->regs[LEDCTL] = 0x07068302;
    s->regs[PBA] = 0x00100030;
    s->regs[VET] = 0x8100;
    s->regs[RA] = s->mac[0] | s->mac[1] << 8 | s->mac[2] << 16 |
                  (uint32_t)s->mac[3] << 24;
    s->regs[RA + 1] = s->mac[4] | s->mac[5] << 8 | RAH_AV;
    s->ee_nbits = s->ee_in = 0;
    s->ee_reading = 0;
    s->ee_do = 1;
    memset(&s->txctx, 0, sizeof(s->txctx));
    s->itr_next = 0;
    s->rx_due = s->rx_abs = s->tx_due = s->tx_abs = CLOCK_NEVER;
    phy_reset(s);
    if (s->port) {
        link_apply(s, net_port_link(s->port));
    }
    update_irq(s);
}

/* ---- receive ---- */

static bool rx_accept(E1000 *s, const uint8_t *buf, size_t len)
{
    uint32_t rctl = s->regs[RCTL];
    if (len < 6) {
        return false;
    }
    if (buf[0] & 1) {
        static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        if (!memcmp(buf, bcast, 6)) {
            return (rctl & (RCTL_BAM | RCTL_MPE)) != 0;
        }
        if (rctl & RCTL_MPE) {
            return true;
        }
        static const int shift[4] = { 4, 3, 2, 0 };
        unsigned mo = (rctl >> 12) & 3;
        unsigned h = ((buf[4] >> shift[mo]) | (buf[5] << (8 - shift[mo])))
                     & 0xfff;
        return (s->regs[MTA + (h >> 5)] >> (h & 31)) & 1;
    }
    if (rctl & RCTL_UPE) {
        return true;
    }
    for (int i = 0; i < 16; i++) {
        uint32_t lo = s->regs[RA + 2 * i], hi = s->regs[RA + 2 * i + 1];
        if ((hi & RAH_AV) && buf[0] == (lo & 0xff) &&
            buf[1] == ((lo >> 8) & 0xff) && buf[2] == ((lo >> 16) & 0xff) &&
            buf[3] == (lo >> 24) && buf[4] == (hi & 0xff) &&
            buf[5] == ((hi >> 8) & 0xff)) {
            return true;
        }
    }
    return false;
}

static unsigned rx_buf_size(uint32_t rctl)
{
    unsigned bsize = (rctl >> 16) & 3;
    if (rctl & RCTL_BSEX) {
        static const unsigned ext[4] = { 2048, 16384, 8192, 4096 };
        return ext[bsize];
    }
    static const unsigned std[4] = { 2048, 1024, 512, 256 };
    return std[bsize];
}

static void stat_add64(E1000 *s, int lo, uint64_t n)
{
    uint64_t v = s->regs[lo] | (uint64_t)s->regs[lo + 1] << 32;
    v += n;
    s->regs[lo] = v;
    s->regs[lo + 1] = v >> 32;
}

static bool rx_frame(E1000 *s, const uint8_t *buf, size_t len);

/* A guest can point DMA at the device's own registers: a receive or a
   transmit started from inside another one waits instead of recursing. */
static bool e1000_receive(void *opaque, const uint8_t *buf, size_t len)
{
    E1000 *s = opaque;
    if (s->in_rx) {
        return false;
    }
    s->in_rx = true;
    bool r = rx_frame(s, buf, len);
    s->in_rx = false;
    return r;
}

static bool rx_frame(E1000 *s, const uint8_t *buf, size_t len)
{
    uint32_t rctl = s->regs[RCTL];
    if (!(rctl & RCTL_EN) || !(s->regs[STATUS] & STATUS_LU)) {
        return true; /* dropped, as by a stopped receiver */
    }
    size_t max = (rctl & RCTL_LPE) ? MAX_RX - 4 : 1518;
    if (len > max || !rx_accept(s, buf, len)) {
        return true;
    }
    /* The frame as the wire had it: padded to 60 bytes, then the FCS
       (kept in memory unless SECRC strips it). */
    size_t flen = MAX(len, 60);
    memcpy(s->rxbuf, buf, len);
    memset(s->rxbuf + len, 0, flen - len);
    if (!(rctl & RCTL_SECRC)) {
        uint32_t crc = crc32(0, s->rxbuf, flen);
        for (int i = 0; i < 4; i++) {
            s->rxbuf[flen + i] = crc >> (8 * i);
        }
        flen += 4;
    }
    uint32_t n = s->regs[RDLEN] / 16;
    uint32_t head = s->regs[RDH], tail = s->regs[RDT];
    if (n == 0 || head >= n || tail >= n) {
        return false; /* no usable ring yet: wait for the driver */
    }
    unsigned bsize = rx_buf_size(rctl);
    uint32_t need = (flen + bsize - 1) / bsize;
    uint32_t avail = (tail + n - head) % n;
    if (need > n - 1) {
        set_ics(s, ICR_RXO);
        return true; /* can never fit this ring: dropped, not queued */
    }
    if (avail < need) {
        set_ics(s, ICR_RXO);
        return false; /* queued until the driver gives buffers (RDT) */
    }
    /* Receive checksum offload (RXCSUM): the IPv4 header's and the TCP or
       UDP checksum are checked here, so the driver need not; without it,
       or for other frames, the status says "ignore the indication". */
    uint8_t st = RXD_IXSM, err = 0;
    uint32_t rxcsum = s->regs[RXCSUM];
    if (rxcsum & (RXCSUM_IPOFL | RXCSUM_TUOFL)) {
        NicRxCsum c;
        nic_rx_checksums(buf, len, &c);
        st = 0;
        if (c.ip && (rxcsum & RXCSUM_IPOFL)) {
            st |= RXD_IPCS;
            err |= c.ip_ok ? 0 : RXE_IPE;
        }
        if (c.l4 && (rxcsum & RXCSUM_TUOFL)) {
            st |= RXD_TCPCS;
            err |= c.l4_ok ? 0 : RXE_TCPE;
        }
    }
    uint64_t base = (uint64_t)s->regs[RDBAH] << 32 | s->regs[RDBAL];
    size_t done = 0;
    while (done < flen) {
        uint64_t da = base + (uint64_t)head * 16;
        uint8_t d[16];
        memmap_read(s->dev.bus->mem, da, d, 16);
        size_t chunk = MIN((size_t)bsize, flen - done);
        memmap_write(s->dev.bus->mem, le64(d), s->rxbuf + done, chunk);
        done += chunk;
        bool eop = done == flen;
        uint8_t wb[8] = { chunk & 0xff, chunk >> 8, 0, 0,
                          RXD_DD | (eop ? RXD_EOP | st : RXD_IXSM),
                          eop ? err : 0, 0, 0 };
        memmap_write(s->dev.bus->mem, da + 8, wb, 8);
        head = (head + 1) % n;
    }
    s->regs[RDH] = head;
    s->regs[GPRC]++;
    s->regs[TPR]++;
    stat_add64(s, GORCL, flen);
    stat_add64(s, TORL, flen);
    if (buf[0] & 1) {
        s->regs[(buf[0] == 0xff && buf[1] == 0xff) ? BPRC : MPRC]++;
    }
    uint32_t left = (s->regs[RDT] + n - head) % n;
    unsigned rdmts = (rctl >> 8) & 3;
    if (rdmts < 3 && left <= (n >> (rdmts + 1))) {
        s->regs[ICR] |= ICR_RXDMT0;
    }
    delay_cause(s, ICR_RXT0, s->regs[RDTR] & 0xffff, s->regs[RADV] & 0xffff,
                &s->rx_due, &s->rx_abs);
    return true;
}

/* set_link: the PHY loses (or finds) its partner; the driver hears of
   it through a link status change interrupt. */
static void link_apply(E1000 *s, bool up)
{
    if (up) {
        s->regs[STATUS] |= STATUS_LU;
        s->phy[0x01] |= 0x0024;
        s->phy[0x11] |= 0x0400;
    } else {
        s->regs[STATUS] &= ~STATUS_LU;
        s->phy[0x01] &= ~0x0024;
        s->phy[0x11] &= ~0x0400;
    }
}

static void e1000_link_changed(void *opaque, bool up)
{
    E1000 *s = opaque;
    link_apply(s, up);
    set_ics(s, ICR_LSC);
}

static const NetPortOps e1000_port_ops = {
    .receive = e1000_receive, .link_changed = e1000_link_changed,
};

/* ---- transmit ---- */

/* Sum bytes [css, cse] (cse 0: to the end) and store the complement at
   cso; offsets outside the frame leave it alone. */
static void put_csum(uint8_t *p, size_t len, unsigned css, unsigned cse,
                     unsigned cso)
{
    size_t end = (cse == 0 || cse >= len) ? len : (size_t)cse + 1;
    if (css >= end || (size_t)cso + 2 > len) {
        return;
    }
    put_be16(p + cso, ~nic_csum_fold(nic_csum_add(0, p + css, end - css)));
}

static void tx_emit(E1000 *s, uint8_t *p, size_t len, bool vle,
                    uint16_t vlan)
{
    if (vle && (s->regs[CTRL] & CTRL_VME) && len >= 12 &&
        len + 4 <= MAX_TX) {
        memmove(p + 16, p + 12, len - 12);
        put_be16(p + 12, s->regs[VET] & 0xffff);
        put_be16(p + 14, vlan);
        len += 4;
    }
    s->regs[GPTC]++;
    s->regs[TPT]++;
    stat_add64(s, GOTCL, len);
    stat_add64(s, TOTL, len);
    net_send(s->port, p, len);
}

/* One frame gathered from its descriptors: offloads, then out. */
static void tx_frame(E1000 *s, uint8_t *p, size_t len, bool ext, bool tse,
                     uint8_t popts, bool legacy_ic, uint8_t css, uint8_t cso,
                     bool vle, uint16_t vlan)
{
    const E1000TxCtx *c = &s->txctx;
    if (!ext) {
        if (legacy_ic) {
            put_csum(p, len, css, 0, cso);
        }
        tx_emit(s, p, len, vle, vlan);
        return;
    }
    if (!tse) {
        if (popts & POPTS_IXSM) {
            put_csum(p, len, c->ipcss, c->ipcse, c->ipcso);
        }
        if (popts & POPTS_TXSM) {
            put_csum(p, len, c->tucss, c->tucse, c->tucso);
        }
        tx_emit(s, p, len, vle, vlan);
        return;
    }
    /* TCP segmentation: the header (hdrlen bytes) is repeated in front
       of each mss-sized piece of the payload, with the IP length and
       identification, the TCP sequence number and flags, and both
       checksums fixed up per segment. */
    unsigned hdrlen = c->hdrlen, mss = c->mss;
    if (hdrlen == 0 || mss == 0 || hdrlen >= len ||
        (size_t)c->ipcss + 20 > hdrlen || (size_t)c->tucss + 20 > hdrlen ||
        (size_t)c->ipcso + 2 > hdrlen || (size_t)c->tucso + 2 > hdrlen) {
        tx_emit(s, p, len, vle, vlan); /* nonsense context: send as is */
        return;
    }
    size_t payload = len - hdrlen;
    /* A back end that takes large frames (slirp) gets one IPv4 TCP
       segment with everything: the same bytes, fewer frames (and ACKs). */
    if ((c->tucmd & (TUCMD_IP | TUCMD_TCP)) == (TUCMD_IP | TUCMD_TCP) &&
        len - c->ipcss <= 65535 && net_port_peer_takes_large(s->port)) {
        mss = payload;
    }
    uint8_t *seg = g_malloc(hdrlen + mss + 4);
    uint16_t ip_id = be16(p + c->ipcss + 4);
    uint32_t seq = be16(p + c->tucss + 4) << 16 | be16(p + c->tucss + 6);
    uint16_t pseudo = be16(p + c->tucso);
    unsigned i = 0;
    for (size_t off = 0; off < payload; off += mss, i++) {
        size_t chunk = MIN((size_t)mss, payload - off);
        size_t flen = hdrlen + chunk;
        bool last = off + chunk >= payload;
        memcpy(seg, p, hdrlen);
        memcpy(seg + hdrlen, p + hdrlen + off, chunk);
        if (c->tucmd & TUCMD_IP) {
            put_be16(seg + c->ipcss + 2, flen - c->ipcss);
            put_be16(seg + c->ipcss + 4, ip_id + i);
        } else {
            /* IPv6: payload length after the 40-byte header. */
            put_be16(seg + c->ipcss + 4, flen - c->ipcss - 40);
        }
        if (c->tucmd & TUCMD_TCP) {
            uint32_t sq = seq + off;
            put_be16(seg + c->tucss + 4, sq >> 16);
            put_be16(seg + c->tucss + 6, sq);
            if (!last) {
                seg[c->tucss + 13] &= ~0x09; /* FIN, PSH: last one only */
            }
        } else {
            put_be16(seg + c->tucss + 4, flen - c->tucss); /* UDP length */
        }
        if ((popts & POPTS_IXSM) && (c->tucmd & TUCMD_IP)) {
            put_be16(seg + c->ipcso, 0);
            put_csum(seg, flen, c->ipcss, c->ipcse, c->ipcso);
        }
        if (popts & POPTS_TXSM) {
            /* The driver left the pseudo-header sum without the length. */
            put_be16(seg + c->tucso,
                     nic_csum_fold((uint32_t)pseudo + (flen - c->tucss)));
            put_csum(seg, flen, c->tucss, 0, c->tucso);
        }
        tx_emit(s, seg, flen, vle, vlan);
    }
    g_free(seg);
}

static void tx_ring(E1000 *s);

static void tx_run(E1000 *s)
{
    if (s->in_tx) {
        return;
    }
    s->in_tx = true;
    tx_ring(s);
    s->in_tx = false;
    net_batch_end(s->port);
}

static void tx_ring(E1000 *s)
{
    MemMap *mem = s->dev.bus->mem;
    uint32_t n = s->regs[TDLEN] / 16;
    uint32_t head = s->regs[TDH], tail = s->regs[TDT];
    if (!(s->regs[TCTL] & TCTL_EN) || n == 0 || head >= n || tail >= n) {
        return;
    }
    uint64_t base = (uint64_t)s->regs[TDBAH] << 32 | s->regs[TDBAL];
    bool sent = false, now = false; /* now: a descriptor without IDE */
    while (head != tail) {
        uint8_t d[16];
        memmap_read(mem, base + (uint64_t)head * 16, d, 16);
        uint32_t lower = le32(d + 8);
        if ((lower & TXD_DEXT) && !(lower & TXD_DTYP_MASK)) {
            /* Context descriptor: offload parameters for what follows. */
            E1000TxCtx *c = &s->txctx;
            c->ipcss = d[0];
            c->ipcso = d[1];
            c->ipcse = d[2] | d[3] << 8;
            c->tucss = d[4];
            c->tucso = d[5];
            c->tucse = d[6] | d[7] << 8;
            c->paylen = lower & 0xfffff;
            c->tucmd = lower >> 24;
            c->hdrlen = d[13];
            c->mss = d[14] | d[15] << 8;
            if (lower & TXD_RS) {
                now |= !(lower & TXD_IDE);
                uint8_t dd = 1;
                memmap_write(mem, base + (uint64_t)head * 16 + 12, &dd, 1);
            }
            head = (head + 1) % n;
            sent = true;
            continue;
        }
        /* A frame: find its end-of-packet descriptor first. */
        uint32_t end = head, count = 0;
        bool found = false;
        while (end != tail && count < n) {
            uint8_t e[16];
            memmap_read(mem, base + (uint64_t)end * 16, e, 16);
            count++;
            if (le32(e + 8) & TXD_EOP) {
                found = true;
                break;
            }
            end = (end + 1) % n;
        }
        if (!found) {
            break; /* the rest of the frame is not ours yet */
        }
        size_t len = 0;
        bool oversize = false, ext = false, tse = false, ic = false;
        bool vle = false;
        uint8_t popts = 0, css = 0, cso = 0;
        uint16_t vlan = 0;
        for (uint32_t i = 0; i < count; i++) {
            uint32_t idx = (head + i) % n;
            uint64_t da = base + (uint64_t)idx * 16;
            uint8_t e[16];
            memmap_read(mem, da, e, 16);
            uint32_t lo = le32(e + 8);
            bool dext = (lo & TXD_DEXT) != 0;
            size_t blen = dext ? (lo & 0xfffff) : (lo & 0xffff);
            if (i == 0) {
                ext = dext;
                tse = dext && (lo & TXD_TSE);
                ic = !dext && (lo & TXD_IC);
                popts = e[13];
                css = e[13];
                cso = e[10];
            }
            if (lo & TXD_EOP) {
                vle = (lo & TXD_VLE) != 0;
                vlan = e[14] | e[15] << 8;
            }
            if (!(dext && !(lo & TXD_DTYP_MASK))) { /* skip stray contexts */
                if (len + blen > MAX_TX - 4) {
                    oversize = true;
                } else {
                    memmap_read(mem, le64(e), s->txbuf + len, blen);
                    len += blen;
                }
            }
            if (lo & TXD_RS) {
                now |= !(lo & TXD_IDE);
                uint8_t dd = 1;
                memmap_write(mem, da + 12, &dd, 1);
            }
        }
        if (oversize) {
            mimic_log_guest("e1000: transmit frame over %d bytes dropped",
                            MAX_TX - 4);
        } else if (len) {
            tx_frame(s, s->txbuf, len, ext, tse, popts, ic, css, cso, vle,
                     vlan);
        }
        head = (end + 1) % n;
        sent = true;
    }
    s->regs[TDH] = head;
    if (sent) {
        s->regs[ICR] |= head == tail ? ICR_TXQE : 0;
        delay_cause(s, ICR_TXDW, now ? 0 : s->regs[TIDV] & 0xffff,
                    s->regs[TADV] & 0xffff, &s->tx_due, &s->tx_abs);
    }
}

/* ---- register access ---- */

static uint32_t reg_read(E1000 *s, uint32_t off)
{
    uint32_t r = off >> 2;
    if (r >= E1000_REG_WORDS) {
        return 0;
    }
    switch (r) {
    case ICR: {
        uint32_t v = s->regs[ICR];
        s->regs[ICR] = 0;
        update_irq(s);
        return v;
    }
    case EECD:
        return eecd_read(s);
    case IMC: case ICS: case ITR + 0:
        return r == ITR ? s->regs[ITR] : 0;
    default:
        break;
    }
    if (r >= STATS_FIRST && r <= STATS_LAST) {
        uint32_t v = s->regs[r];
        s->regs[r] = 0; /* statistics clear on read */
        return v;
    }
    return s->regs[r];
}

static void reg_write(E1000 *s, uint32_t off, uint32_t v)
{
    uint32_t r = off >> 2;
    if (r >= E1000_REG_WORDS) {
        return;
    }
    switch (r) {
    case CTRL:
        if (v & CTRL_RST) {
            regs_reset(s);
            return;
        }
        s->regs[CTRL] = v & ~(CTRL_RST | CTRL_PHY_RST);
        if (v & CTRL_PHY_RST) {
            phy_reset(s);
            link_apply(s, net_port_link(s->port));
        }
        return;
    case STATUS:
        return;
    case EECD:
        eecd_write(s, v);
        return;
    case EERD:
        if (v & 1) {
            unsigned a = (v >> 8) & 0xff;
            uint16_t d = a < E1000_EEPROM_WORDS ? s->eeprom[a] : 0;
            s->regs[EERD] = (uint32_t)d << 16 | (a << 8) | 0x10;
        }
        return;
    case MDIC:
        mdic_write(s, v);
        return;
    case ICR:
        s->regs[ICR] &= ~v;
        update_irq(s);
        return;
    case ICS:
        set_ics(s, v);
        return;
    case IMS:
        s->regs[IMS] |= v;
        update_irq(s);
        return;
    case IMC:
        s->regs[IMS] &= ~v;
        update_irq(s);
        return;
    case RCTL:
        s->regs[RCTL] = v;
        if (v & RCTL_EN) {
            net_port_flush(s->port);
        }
        return;
    case RDLEN: case TDLEN:
        s->regs[r] = v & 0xfff80;
        return;
    case RDBAL: case TDBAL:
        s->regs[r] = v & ~0xfu;
        return;
    case RDH: case TDH:
        s->regs[r] = v & 0xffff;
        return;
    case RDTR:
        s->regs[RDTR] = v & 0xffff;
        if ((v & RDTR_FPD) && s->rx_due != CLOCK_NEVER) {
            s->rx_due = s->rx_abs = CLOCK_NEVER;
            s->regs[ICR] |= ICR_RXT0;
            update_irq(s);
        }
        return;
    case RDT:
        s->regs[RDT] = v & 0xffff;
        net_port_flush(s->port);
        return;
    case TDT:
        s->regs[TDT] = v & 0xffff;
        tx_run(s);
        return;
    case TCTL:
        s->regs[TCTL] = v;
        tx_run(s);
        return;
    default:
        if (r >= STATS_FIRST && r <= STATS_LAST) {
            return; /* read-only counters */
        }
        s->regs[r] = v;
        return;
    }
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    return reg_read(opaque, off & ~3u);
}

static void mmio_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    reg_write(opaque, off & ~3u, v);
}

static const MemOps e1000_mmio_ops = {
    .read = mmio_read, .write = mmio_write, .min = 4, .max = 4,
};

/* I/O BAR: IOADDR at 0 selects a register, IODATA at 4 reaches it. */
static uint32_t io_read(void *opaque, uint16_t off, unsigned size)
{
    E1000 *s = opaque;
    if (off == 0) {
        return s->ioaddr;
    }
    if (off == 4) {
        return reg_read(s, s->ioaddr & 0x1fffc);
    }
    return 0xffffffff;
}

static void io_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    E1000 *s = opaque;
    if (off == 0) {
        s->ioaddr = v & 0x1fffc;
    } else if (off == 4) {
        reg_write(s, s->ioaddr & 0x1fffc, v);
    }
}

/* ---- device ---- */

static bool e1000_realize(Device *dev, GError **error)
{
    E1000 *s = (E1000 *)dev;
    MemMap *mem = dev->bus->mem;
    s->txbuf = g_malloc(MAX_TX + 4);
    s->rxbuf = g_malloc(MAX_RX + 64);
    pci_add_function(s->bus, &s->pci, s->devfn, 0x8086, 0x100e, 0x02000003,
                     s);
    pci_set_word(s->pci.config + PCI_SUBSYS_VENDOR, 0x8086);
    pci_set_word(s->pci.config + PCI_SUBSYS_ID, 0x001e);
    s->pci.config[PCI_INTERRUPT_PIN] = 1;
    g_autofree char *name = g_strdup_printf("%s.mmio", dev->id);
    s->mmio = memmap_add_mmio(mem, name, 0xfc000000ull +
                              (uint64_t)(s->devfn >> 3) * 0x20000, 0x20000,
                              &e1000_mmio_ops, s, 3);
    pci_set_bar_mem(&s->pci, 0, s->mmio);
    s->io = (IoRegion){ .len = 0x40, .min = 4, .max = 4, .read = io_read,
                        .write = io_write, .name = "e1000-io" };
    pci_set_bar_io(&s->pci, 1, 0x40, &s->io, s);
    s->port = net_port_new(dev->id, &e1000_port_ops, s);
    s->mod_timer = timer_new(dev->bus->clock, mod_tick, s);
    g_autofree char *info = g_strdup_printf(
        "type=nic,model=e1000,macaddr=%02x:%02x:%02x:%02x:%02x:%02x", s->mac[0],
        s->mac[1], s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
    net_port_set_info(s->port, info);
    eeprom_init(s);
    return true;
}

static void e1000_reset(Device *dev)
{
    E1000 *s = (E1000 *)dev;
    pci_reset_function(&s->pci);
    s->ioaddr = 0;
    regs_reset(s);
}

static void e1000_finalize(Device *dev)
{
    E1000 *s = (E1000 *)dev;
    net_port_free(s->port);
    timer_free(s->mod_timer);
    g_free(s->txbuf);
    g_free(s->rxbuf);
}

/* Version 1 had no moderation: nothing pending. */
static void e1000_pre_load(void *obj)
{
    E1000 *s = obj;
    s->itr_next = 0;
    s->rx_due = s->rx_abs = s->tx_due = s->tx_abs = CLOCK_NEVER;
    s->irq_up = false;
}

static bool e1000_post_load(void *obj, GError **error)
{
    E1000 *s = obj;
    if (s->ee_nbits > 9 || s->ee_addr >= E1000_EEPROM_WORDS ||
        s->ee_reading > 1 || s->ee_do > 1 || s->ee_bit > 15) {
        g_set_error(error, STATE_ERROR, 0, "e1000: invalid EEPROM state");
        return false;
    }
    s->ioaddr &= 0x1fffc;
    irq_set(s->irq, s->irq_up); /* update_irq below corrects it */
    net_port_init_link(s->port, s->regs[STATUS] & STATUS_LU);
    pci_update_mappings(&s->pci);
    update_irq(s);
    net_port_flush(s->port);
    return true;
}

static const StateField e1000_txctx_fields[] = {
    STATE_U8(E1000TxCtx, ipcss), STATE_U8(E1000TxCtx, ipcso),
    STATE_U8(E1000TxCtx, tucss), STATE_U8(E1000TxCtx, tucso),
    STATE_U16(E1000TxCtx, ipcse), STATE_U16(E1000TxCtx, tucse),
    STATE_U32(E1000TxCtx, paylen), STATE_U8(E1000TxCtx, tucmd),
    STATE_U8(E1000TxCtx, hdrlen), STATE_U16(E1000TxCtx, mss), STATE_END,
};

static const StateDesc e1000_state = {
    .name = "e1000", .version = 2, .min_version = 1,
    .pre_load = e1000_pre_load, .post_load = e1000_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(E1000, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_U32_ARRAY(E1000, regs, E1000_REG_WORDS),
        STATE_U16_ARRAY(E1000, eeprom, E1000_EEPROM_WORDS),
        STATE_U16_ARRAY(E1000, phy, E1000_PHY_REGS),
        STATE_U32(E1000, ioaddr),
        STATE_U32(E1000, ee_in), STATE_U8(E1000, ee_nbits),
        STATE_U8(E1000, ee_reading), STATE_U16(E1000, ee_addr),
        STATE_U8(E1000, ee_bit), STATE_U8(E1000, ee_do),
        STATE_STRUCT(E1000, txctx, e1000_txctx_fields),
        STATE_I64(E1000, itr_next, STATE_V(2)),
        STATE_I64(E1000, rx_due, STATE_V(2)),
        STATE_I64(E1000, rx_abs, STATE_V(2)),
        STATE_I64(E1000, tx_due, STATE_V(2)),
        STATE_I64(E1000, tx_abs, STATE_V(2)),
        STATE_BOOL(E1000, irq_up, STATE_V(2)),
        STATE_END },
};

const DeviceInfo e1000_info = {
    .name = "e1000", .size = sizeof(E1000), .state = &e1000_state,
    .realize = e1000_realize, .reset = e1000_reset,
    .finalize = e1000_finalize,
};
