/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The e1000 (82540EM) on a bare bus: RAM, the PCI bus, the device with
 * its register BAR, and a test port as the other end of the cable.
 * Functional checks (EEPROM through the Microwire pins as Linux drives
 * them, PHY through MDIC, transmit and receive rings, interrupts, TCP
 * segmentation with checksums) and a bounded-time fuzz of registers,
 * descriptor rings, DMA addresses outside RAM (and onto the device's own
 * registers) and incoming frames of any size; under ASan in make check.
 * The fuzz prints its seed; MIMIC_FUZZ_SEED=N replays one run and
 * MIMIC_FUZZ_SECONDS=S changes its length (8 s by default).
 */
#include <string.h>
#include <glib.h>

#include "bus/net.h"
#include "bus/device.h"
#include "hw/net/e1000.h"
#include "hw/pci/pci.h"

#define RAM_SIZE (4u << 20)
#define BAR 0xfe000000u
#define IOBAR 0xc000u

typedef struct Rig {
    MemMap *mem;
    IoSpace *io;
    Clock *clock;
    MachineBuses bus;
    DeviceList *devs;
    PciBus *pci;
    uint8_t *ram;
    E1000 *nic;
    IrqLine *irq;
    bool level;
    NetPort *peer;
    GPtrArray *frames; /* GBytes received by the peer */
    uint64_t total;    /* frames the peer ever received */
} Rig;

static void on_irq(void *opaque, int n, bool level)
{
    ((Rig *)opaque)->level = level;
}

static bool peer_receive(void *opaque, const uint8_t *buf, size_t len)
{
    Rig *r = opaque;
    r->total++;
    if (r->frames->len < 100000) {
        g_ptr_array_add(r->frames, g_bytes_new(buf, len));
    }
    return true;
}

static const NetPortOps peer_ops = { .receive = peer_receive };

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static Rig *rig_new(void)
{
    Rig *r = g_new0(Rig, 1);
    r->mem = memmap_new();
    r->io = ioport_new();
    r->clock = clock_new(CLOCK_MODE_ICOUNT, 0);
    r->bus = (MachineBuses){ .mem = r->mem, .io = r->io, .clock = r->clock };
    r->ram = g_malloc0(RAM_SIZE);
    memmap_add_ram(r->mem, "ram", 0, RAM_SIZE, r->ram, 0);
    r->devs = device_list_new();
    r->pci = pci_bus_new(&r->bus);
    r->irq = irq_new(on_irq, r, 0);
    r->nic = (E1000 *)device_new(r->devs, &e1000_info, &r->bus, "e1000.0");
    r->nic->bus = r->pci;
    r->nic->devfn = 3 << 3;
    r->nic->irq = r->irq;
    memcpy(r->nic->mac, MAC, 6);
    g_assert_true(device_realize(DEVICE(r->nic), NULL));
    device_list_reset(r->devs);
    r->frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    r->peer = net_port_new("peer", &peer_ops, r);
    net_port_connect(r->nic->port, r->peer);
    pci_config_write(r->pci, 3 << 3, PCI_BAR0, BAR, 4);
    pci_config_write(r->pci, 3 << 3, PCI_BAR0 + 4, IOBAR, 4);
    pci_config_write(r->pci, 3 << 3, PCI_COMMAND, 7, 2);
    return r;
}

static void rig_free(Rig *r)
{
    net_port_free(r->peer);
    device_list_free(r->devs);
    pci_bus_free(r->pci);
    irq_free(r->irq);
    g_ptr_array_free(r->frames, TRUE);
    clock_free(r->clock);
    ioport_free(r->io);
    memmap_free(r->mem);
    g_free(r->ram);
    g_free(r);
}

static void wr(Rig *r, uint32_t reg, uint32_t v)
{
    memmap_write_sized(r->mem, BAR + reg, v, 4);
}

static uint32_t rd(Rig *r, uint32_t reg)
{
    return memmap_read_sized(r->mem, BAR + reg, 4);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, v);
    put32(p + 4, v >> 32);
}

/* ---- EEPROM, as Linux's e1000_read_eeprom drives a Microwire part ---- */

static void ee_clock(Rig *r, uint32_t eecd)
{
    wr(r, 0x10, eecd | 1);
    wr(r, 0x10, eecd);
}

static uint16_t ee_read_word(Rig *r, unsigned addr)
{
    uint32_t eecd = 0x40 | 0x2; /* REQ, CS */
    wr(r, 0x10, eecd);
    uint32_t cmd = 6u << 6 | addr;
    for (int i = 8; i >= 0; i--) {
        uint32_t di = (cmd >> i) & 1 ? 0x4 : 0;
        wr(r, 0x10, eecd | di);
        ee_clock(r, eecd | di);
    }
    uint16_t v = 0;
    for (int i = 0; i < 16; i++) {
        wr(r, 0x10, eecd | 1);
        v = v << 1 | !!(rd(r, 0x10) & 0x8);
        wr(r, 0x10, eecd);
    }
    wr(r, 0x10, 0x40); /* CS low: standby */
    return v;
}

static void test_eeprom(void)
{
    Rig *r = rig_new();
    wr(r, 0x10, 0x40);
    g_assert_cmphex(rd(r, 0x10) & 0x80, ==, 0x80); /* GNT after REQ */
    uint16_t sum = 0;
    for (unsigned i = 0; i < 64; i++) {
        uint16_t w = ee_read_word(r, i);
        if (i < 3) {
            g_assert_cmphex(w, ==, MAC[2 * i] | MAC[2 * i + 1] << 8);
        }
        sum += w;
    }
    g_assert_cmphex(sum, ==, 0xbaba);
    /* Receive address 0 holds the MAC after reset, marked valid. */
    g_assert_cmphex(rd(r, 0x5400), ==, 0x12005452);
    g_assert_cmphex(rd(r, 0x5404), ==, 0x80005634);
    rig_free(r);
}

static void test_phy(void)
{
    Rig *r = rig_new();
    wr(r, 0x20, 2u << 26 | 1u << 21 | 2u << 16); /* read PHY 1 reg 2 */
    uint32_t v = rd(r, 0x20);
    g_assert_true(v & (1u << 28));
    g_assert_false(v & (1u << 30));
    g_assert_cmphex(v & 0xffff, ==, 0x0141);
    wr(r, 0x20, 2u << 26 | 1u << 21 | 1u << 16); /* status: link up */
    g_assert_cmphex(rd(r, 0x20) & 0x24, ==, 0x24);
    wr(r, 0x20, 2u << 26 | 2u << 21 | 2u << 16); /* no PHY at address 2 */
    g_assert_true(rd(r, 0x20) & (1u << 30));
    g_assert_cmphex(rd(r, 0x08) & 3, ==, 3); /* STATUS: FD, LU */
    /* The I/O BAR reaches the same registers. */
    ioport_write(r->io, IOBAR, 0x08, 4);
    g_assert_cmphex(ioport_read(r->io, IOBAR + 4, 4), ==, rd(r, 0x08));
    rig_free(r);
}

/* ---- rings ---- */

#define TXRING 0x10000u
#define RXRING 0x20000u
#define TXBUF 0x30000u
#define RXBUF 0x40000u

static void setup_rings(Rig *r, unsigned n)
{
    wr(r, 0x3800, TXRING);
    wr(r, 0x3804, 0);
    wr(r, 0x3808, n * 16);
    wr(r, 0x3810, 0);
    wr(r, 0x3818, 0);
    wr(r, 0x400, 0x2); /* TCTL.EN */
    for (unsigned i = 0; i < n; i++) {
        put64(r->ram + RXRING + 16 * i, RXBUF + 2048 * i);
    }
    wr(r, 0x2800, RXRING);
    wr(r, 0x2804, 0);
    wr(r, 0x2808, n * 16);
    wr(r, 0x2810, 0);
    wr(r, 0x2818, n - 1);
    wr(r, 0x100, 0x2 | 0x8000); /* RCTL.EN, BAM, 2 KiB buffers */
    wr(r, 0xd0, 0x1 | 0x80);    /* IMS: TXDW, RXT0 */
}

static void test_tx_rx(void)
{
    Rig *r = rig_new();
    setup_rings(r, 8);
    uint8_t frame[100];
    for (size_t i = 0; i < sizeof(frame); i++) {
        frame[i] = i * 7;
    }
    memcpy(r->ram + TXBUF, frame, sizeof(frame));
    uint8_t *d = r->ram + TXRING;
    put64(d, TXBUF);
    put32(d + 8, sizeof(frame) | 1u << 24 | 1u << 27); /* EOP, RS */
    g_assert_false(r->level);
    wr(r, 0x3818, 1);
    g_assert_cmpuint(r->frames->len, ==, 1);
    gsize len;
    const uint8_t *got = g_bytes_get_data(r->frames->pdata[0], &len);
    g_assert_cmpuint(len, ==, sizeof(frame));
    g_assert_cmpmem(got, len, frame, sizeof(frame));
    g_assert_cmphex(d[12] & 1, ==, 1); /* DD written back */
    g_assert_cmpuint(rd(r, 0x3810), ==, 1);
    g_assert_true(r->level);
    g_assert_cmphex(rd(r, 0xc0) & 1, ==, 1); /* ICR.TXDW, read clears */
    g_assert_false(r->level);
    g_assert_cmphex(rd(r, 0xc0), ==, 0);

    /* Receive: to our MAC, then broadcast; the FCS follows the data. */
    uint8_t in[70];
    memset(in, 0xab, sizeof(in));
    memcpy(in, MAC, 6);
    net_send(r->peer, in, sizeof(in));
    uint8_t *rd0 = r->ram + RXRING;
    g_assert_cmpuint(rd0[8] | rd0[9] << 8, ==, sizeof(in) + 4);
    g_assert_cmphex(rd0[12] & 3, ==, 3); /* DD, EOP */
    g_assert_cmpmem(r->ram + RXBUF, sizeof(in), in, sizeof(in));
    g_assert_true(r->level);
    g_assert_cmphex(rd(r, 0xc0) & 0x80, ==, 0x80);
    in[0] = 0x52 ^ 0x02; /* another station: filtered out */
    net_send(r->peer, in, sizeof(in));
    g_assert_cmpuint(rd(r, 0x2810), ==, 1);
    /* Short frames are padded to 60 bytes. */
    memset(in, 0xff, 6);
    net_send(r->peer, in, 20);
    g_assert_cmpuint(r->ram[RXRING + 16 + 8], ==, 64);
    g_assert_cmpuint(rd(r, 0x2810), ==, 2);

    /* Ring full: the frame waits until the driver gives buffers. */
    for (int i = 0; i < 5; i++) {
        net_send(r->peer, in, 60);
    }
    g_assert_cmpuint(rd(r, 0x2810), ==, 7); /* RDH == RDT: full */
    net_send(r->peer, in, 61);
    g_assert_cmpuint(rd(r, 0x2810), ==, 7);
    wr(r, 0x2818, 2);
    g_assert_cmpuint(rd(r, 0x2810), ==, 0);
    g_assert_cmpuint(r->ram[RXRING + 7 * 16 + 8], ==, 65);
    rig_free(r);
}

static void advance(Rig *r, int64_t ns)
{
    r->clock->icount += ns;
    clock_run_timers(r->clock);
}

/* Interrupt moderation, in virtual time (the rig's icount clock: 1 ns
   per count): ITR spaces the rising edges, RDTR/RADV hold RXT0 back,
   FPD ends the wait, TIDV holds TXDW back for descriptors with IDE. */
static void test_moderation(void)
{
    Rig *r = rig_new();
    setup_rings(r, 8);
    /* Off by default: every cause at once, whatever the registers say. */
    wr(r, 0xc4, 100);
    wr(r, 0x3820, 8);
    wr(r, 0xc8, 0x1);
    g_assert_true(r->level);
    g_assert_cmphex(rd(r, 0xc0), ==, 0x1);
    wr(r, 0xc8, 0x1);
    g_assert_true(r->level);
    g_assert_cmphex(rd(r, 0xc0), ==, 0x1);
    wr(r, 0x3820, 0);
    r->nic->mitigation = true;
    /* ITR 100: edges at least 25.6 us apart; causes gather meanwhile. */
    wr(r, 0xc4, 100);
    wr(r, 0xc8, 0x1); /* ICS.TXDW: the first edge is not held back */
    g_assert_true(r->level);
    g_assert_cmphex(rd(r, 0xc0), ==, 0x1);
    g_assert_false(r->level);
    wr(r, 0xc8, 0x1);
    g_assert_false(r->level);
    advance(r, 25600 - 1);
    g_assert_false(r->level);
    advance(r, 1);
    g_assert_true(r->level);
    g_assert_cmphex(rd(r, 0xc0), ==, 0x1);
    wr(r, 0xc4, 0);

    /* RDTR 10 (10.24 us) restarted by each frame, RADV 15 caps it. */
    wr(r, 0x2820, 10);
    wr(r, 0x282c, 15);
    uint8_t in[64];
    memset(in, 0xff, sizeof(in));
    net_send(r->peer, in, sizeof(in));
    g_assert_false(r->level);
    advance(r, 5000);
    net_send(r->peer, in, sizeof(in)); /* due 15240 from the first */
    advance(r, 5000);
    net_send(r->peer, in, sizeof(in)); /* RADV: due 15360, not 20240 */
    g_assert_cmpuint(rd(r, 0x2810), ==, 3);
    g_assert_false(r->level);
    advance(r, 5359);
    g_assert_false(r->level);
    advance(r, 1);
    g_assert_true(r->level);
    g_assert_cmphex(rd(r, 0xc0) & 0x80, ==, 0x80);
    /* FPD flushes a pending delay at once. */
    net_send(r->peer, in, sizeof(in));
    g_assert_false(r->level);
    wr(r, 0x2820, 10 | 1u << 31);
    g_assert_true(r->level);
    g_assert_cmphex(rd(r, 0xc0) & 0x80, ==, 0x80);
    g_assert_cmpuint(rd(r, 0x2820), ==, 10);
    advance(r, 20000); /* nothing left to fire */
    g_assert_false(r->level);
    g_assert_cmphex(rd(r, 0xc0), ==, 0);

    /* TIDV 8 (8.192 us) for a descriptor with IDE; none without it. */
    wr(r, 0x3820, 8);
    uint8_t *d = r->ram + TXRING;
    put64(d, TXBUF);
    put32(d + 8, 60 | 1u << 24 | 1u << 27 | 1u << 31); /* EOP RS IDE */
    wr(r, 0x3818, 1);
    g_assert_cmpuint(r->frames->len, ==, 1);
    g_assert_false(r->level);
    advance(r, 8191);
    g_assert_false(r->level);
    advance(r, 1);
    g_assert_true(r->level);
    g_assert_cmphex(rd(r, 0xc0) & 1, ==, 1);
    put64(d + 16, TXBUF);
    put32(d + 24, 60 | 1u << 24 | 1u << 27); /* no IDE */
    wr(r, 0x3818, 2);
    g_assert_true(r->level);
    g_assert_cmphex(rd(r, 0xc0) & 1, ==, 1);
    rig_free(r);
}

static uint16_t be16(const uint8_t *p)
{
    return p[0] << 8 | p[1];
}

static uint16_t csum(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += be16(p + i);
    }
    if (len & 1) {
        sum += p[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

/* TSO as Linux's e1000_tso sets it up: a context descriptor, the header
   with zero IP length/checksum and the TCP pseudo-header sum without
   the length, then data descriptors with TSE. */
static void tso_run(bool large)
{
    Rig *r = rig_new();
    setup_rings(r, 8);
    net_port_set_takes_large(r->peer, large);
    enum { ETH = 14, IP = 20, TCP = 20, HDR = ETH + IP + TCP,
           PAY = 2500, MSS = 1000 };
    uint8_t *p = r->ram + TXBUF;
    memset(p, 0, HDR);
    memcpy(p, "\x52\x55\x0a\x00\x02\x02", 6);
    memcpy(p + 6, MAC, 6);
    p[12] = 0x08;
    uint8_t *ip = p + ETH, *tcp = ip + IP;
    ip[0] = 0x45;
    ip[4] = 0x12;
    ip[5] = 0x34; /* id */
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
    tcp[0] = 0x1f;
    tcp[1] = 0x90;
    tcp[3] = 80;
    memcpy(tcp + 4, "\xff\x02\x03\x04", 4); /* seq 0xff020304 */
    tcp[12] = 0x50;
    tcp[13] = 0x18 | 0x01; /* ACK, PSH, FIN */
    uint16_t pseudo = csum(6, ip + 12, 8);
    tcp[16] = pseudo >> 8;
    tcp[17] = pseudo;
    for (int i = 0; i < PAY; i++) {
        p[HDR + i] = i * 13 + 1;
    }
    uint8_t *d = r->ram + TXRING;
    memset(d, 0, 48);
    d[0] = ETH;
    d[1] = ETH + 10;
    d[2] = ETH + IP - 1; /* ipcse */
    d[4] = ETH + IP;
    d[5] = ETH + IP + 16;
    put32(d + 8, PAY | 0x20000000u | (0x01 | 0x02 | 0x04) << 24);
    d[13] = HDR;
    d[14] = MSS & 0xff;
    d[15] = MSS >> 8;
    /* data: header + first 1000 payload bytes, then the rest */
    put64(d + 16, TXBUF);
    put32(d + 24, (HDR + 1000) | 0x00100000u | 0x20000000u | 0x04000000u);
    d[29] = 0x3; /* POPTS: IXSM, TXSM */
    put64(d + 32, TXBUF + HDR + 1000);
    put32(d + 40, (PAY - 1000) | 0x00100000u | 0x20000000u | 0x04000000u |
          1u << 24 | 1u << 27);
    wr(r, 0x3818, 3);
    /* A peer that takes large frames (slirp) gets one segment. */
    unsigned n = large ? 1 : 3, mss = large ? PAY : MSS;
    g_assert_cmpuint(r->frames->len, ==, n);
    for (unsigned s = 0; s < n; s++) {
        gsize len;
        const uint8_t *f = g_bytes_get_data(r->frames->pdata[s], &len);
        size_t chunk = s < n - 1 ? mss : PAY - (n - 1) * mss;
        g_assert_cmpuint(len, ==, HDR + chunk);
        const uint8_t *fi = f + ETH, *ft = fi + IP;
        g_assert_cmpuint(be16(fi + 2), ==, IP + TCP + chunk);
        g_assert_cmpuint(be16(fi + 4), ==, 0x1234 + s);
        g_assert_cmphex(csum(0, fi, IP), ==, 0xffff);
        uint32_t seq = (uint32_t)be16(ft + 4) << 16 | be16(ft + 6);
        g_assert_cmphex(seq, ==, 0xff020304u + s * mss);
        g_assert_cmphex(ft[13], ==, s < n - 1 ? 0x10 : 0x19);
        uint32_t ps = csum(6 + TCP + chunk, fi + 12, 8);
        g_assert_cmphex(csum(ps, ft, TCP + chunk), ==, 0xffff);
        g_assert_cmpmem(ft + TCP, chunk, p + HDR + s * mss, chunk);
    }
    rig_free(r);
}

static void test_tso(void)
{
    tso_run(false);
    tso_run(true);
}

/* Receive checksum offload (RXCSUM.IPOFL/TUOFL): a TCP frame with right
   checksums is reported checked and good (IPCS, TCPCS), one with a
   broken TCP checksum checked and bad (TCPE); without RXCSUM the
   status says to ignore the indication (IXSM). */
static void test_rx_csum(void)
{
    Rig *r = rig_new();
    setup_rings(r, 8);
    enum { ETH = 14, IP = 20, TCP = 20, PAY = 300 };
    uint8_t f[ETH + IP + TCP + PAY] = { 0 };
    memcpy(f, MAC, 6);
    memcpy(f + 6, "\x52\x55\x0a\x00\x02\x02", 6);
    f[12] = 0x08;
    uint8_t *ip = f + ETH, *tcp = ip + IP;
    ip[0] = 0x45;
    ip[2] = (IP + TCP + PAY) >> 8;
    ip[3] = (IP + TCP + PAY) & 0xff;
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, "\x0a\x00\x02\x02\x0a\x00\x02\x0f", 8);
    uint16_t c = ~csum(0, ip, IP);
    ip[10] = c >> 8;
    ip[11] = c;
    tcp[1] = 80;
    tcp[12] = 0x50;
    tcp[13] = 0x10;
    for (int i = 0; i < PAY; i++) {
        tcp[TCP + i] = i * 31 + 7;
    }
    c = ~csum(csum(6 + TCP + PAY, ip + 12, 8), tcp, TCP + PAY);
    tcp[16] = c >> 8;
    tcp[17] = c;
    wr(r, 0x5000, 0x300); /* RXCSUM: IPOFL, TUOFL */
    net_send(r->peer, f, sizeof(f));
    const uint8_t *d = r->ram + RXRING;
    /* DD, EOP, TCPCS, IPCS */
    g_assert_cmphex(d[12], ==, 0x01 | 0x02 | 0x20 | 0x40);
    g_assert_cmphex(d[13], ==, 0);
    tcp[TCP + 5] ^= 1;
    net_send(r->peer, f, sizeof(f));
    g_assert_cmphex(d[16 + 12], ==, 0x01 | 0x02 | 0x20 | 0x40);
    g_assert_cmphex(d[16 + 13], ==, 0x20); /* TCPE */
    ip[8] = 63; /* now the IP header checksum is wrong too */
    net_send(r->peer, f, sizeof(f));
    g_assert_cmphex(d[32 + 13], ==, 0x20 | 0x40); /* TCPE, IPE */
    wr(r, 0x5000, 0);
    net_send(r->peer, f, sizeof(f));
    g_assert_cmphex(d[48 + 12], ==, 0x01 | 0x02 | 0x04); /* DD EOP IXSM */
    g_assert_cmphex(d[48 + 13], ==, 0);
    rig_free(r);
}

/* set_link: STATUS.LU, the PHY's link bits and an LSC interrupt; no
   frames cross while the link is down. */
static void test_link(void)
{
    Rig *r = rig_new();
    setup_rings(r, 8);
    wr(r, 0xd0, 0x4); /* IMS.LSC */
    net_port_set_link(r->nic->port, false);
    g_assert_cmphex(rd(r, 0x08) & 2, ==, 0);
    g_assert_true(r->level);
    g_assert_cmphex(rd(r, 0xc0) & 4, ==, 4);
    wr(r, 0x20, 2u << 26 | 1u << 21 | 1u << 16);
    g_assert_cmphex(rd(r, 0x20) & 0x4, ==, 0);
    uint8_t in[64];
    memset(in, 0xff, sizeof(in));
    net_send(r->peer, in, sizeof(in));
    g_assert_cmpuint(rd(r, 0x2810), ==, 0);
    memcpy(r->ram + TXBUF, in, sizeof(in));
    put64(r->ram + TXRING, TXBUF);
    put32(r->ram + TXRING + 8, sizeof(in) | 1u << 24 | 1u << 27);
    wr(r, 0x3818, 1);
    g_assert_cmpuint(r->frames->len, ==, 0);
    net_port_set_link(r->nic->port, true);
    g_assert_cmphex(rd(r, 0x08) & 2, ==, 2);
    g_assert_cmphex(rd(r, 0xc0) & 4, ==, 4);
    net_send(r->peer, in, sizeof(in));
    g_assert_cmpuint(rd(r, 0x2810), ==, 1);
    /* A device reset keeps the cable's state. */
    net_port_set_link(r->nic->port, false);
    wr(r, 0x0, 1u << 26);
    g_assert_cmphex(rd(r, 0x08) & 2, ==, 0);
    rig_free(r);
}

/* ---- fuzz ---- */

static const uint32_t fuzz_regs[] = {
    0x0000, 0x0008, 0x0010, 0x0014, 0x0018, 0x0020, 0x00c0, 0x00c8, 0x00d0,
    0x00d8, 0x0100, 0x0400, 0x2800, 0x2804, 0x2808, 0x2810, 0x2818, 0x3800,
    0x3804, 0x3808, 0x3810, 0x3818, 0x5200, 0x5400, 0x5404, 0x4074, 0x0038,
    0x00c4, 0x2820, 0x282c, 0x3820, 0x382c, /* moderation */
};

static uint64_t fuzz_addr(GRand *g)
{
    switch (g_rand_int_range(g, 0, 7)) {
    case 0:
        return g_rand_int_range(g, 0, RAM_SIZE);
    case 1:
        return RAM_SIZE - g_rand_int_range(g, 0, 64);
    case 2:
        return BAR + (g_rand_int(g) & 0x1fffc); /* our own registers */
    case 3:
        return 0xfffffff0u + g_rand_int_range(g, 0, 16);
    case 4:
        return (uint64_t)g_rand_int(g) << 32 | g_rand_int(g);
    case 5:
        return ~(uint64_t)0 - g_rand_int_range(g, 0, 64);
    default:
        return g_rand_int(g);
    }
}

static uint32_t fuzz_value(GRand *g)
{
    switch (g_rand_int_range(g, 0, 5)) {
    case 0:
        return g_rand_int_range(g, 0, 64);
    case 1:
        return g_rand_int_range(g, 0, 0x10000);
    case 2:
        return 0xffffffffu - g_rand_int_range(g, 0, 16);
    case 3:
        return (uint32_t)fuzz_addr(g);
    default:
        return g_rand_int(g);
    }
}

static void fuzz_descriptors(Rig *r, GRand *g)
{
    uint32_t base = g_rand_int_range(g, 0, RAM_SIZE / 16) * 16;
    int n = g_rand_int_range(g, 1, 64);
    for (int i = 0; i < n && base + 16 * (i + 1) <= RAM_SIZE; i++) {
        uint8_t *d = r->ram + base + 16 * i;
        put64(d, fuzz_addr(g));
        put32(d + 8, g_rand_int(g));
        put32(d + 12, g_rand_int(g));
        if (g_rand_boolean(g)) {
            /* plausible: a context or data descriptor with big lengths */
            put32(d + 8, (g_rand_int(g) & 0xfff0ffff) |
                  (g_rand_boolean(g) ? 0x00100000u : 0) | 0x20000000u);
            d[13] = g_rand_int(g);
            d[14] = g_rand_int(g);
            d[15] = g_rand_int_range(g, 0, 4);
        }
    }
    if (g_rand_boolean(g)) {
        wr(r, g_rand_boolean(g) ? 0x3800 : 0x2800, base);
    }
}

static void test_fuzz(void)
{
    const char *seed_env = g_getenv("MIMIC_FUZZ_SEED");
    guint32 seed = seed_env ? (guint32)g_ascii_strtoull(seed_env, NULL, 10)
                            : (guint32)g_test_rand_int();
    double budget = g_test_slow() ? 60.0 : 8.0;
    const char *env = g_getenv("MIMIC_FUZZ_SECONDS");
    if (env) {
        budget = g_ascii_strtod(env, NULL);
    }
    g_test_message("seed %u, %.0f s", seed, budget);
    GRand *g = g_rand_new_with_seed(seed);
    Rig *r = rig_new();
    r->nic->mitigation = true; /* the moderation timers are fuzzed too */
    setup_rings(r, 8);
    uint8_t *frame = g_malloc(NET_MAX_FRAME + 16);
    GTimer *t = g_timer_new();
    uint64_t ops = 0, rx = 0;
    while (g_timer_elapsed(t, NULL) < budget) {
        for (int k = 0; k < 256; k++, ops++) {
            switch (g_rand_int_range(g, 0, 10)) {
            case 0: case 1: case 2: {
                uint32_t reg = g_rand_int_range(g, 0, 4)
                    ? fuzz_regs[g_rand_int_range(g, 0,
                                                 G_N_ELEMENTS(fuzz_regs))]
                    : g_rand_int(g) & 0x1fffc;
                wr(r, reg, fuzz_value(g));
                break;
            }
            case 3:
                rd(r, g_rand_int(g) & 0x1fffc);
                break;
            case 4:
                fuzz_descriptors(r, g);
                break;
            case 5: {
                /* the producer side: tails, ring lengths */
                wr(r, 0x3818, g_rand_int_range(g, 0, 300));
                wr(r, 0x2818, g_rand_int_range(g, 0, 300));
                if (g_rand_int_range(g, 0, 8) == 0) {
                    wr(r, g_rand_boolean(g) ? 0x3808 : 0x2808,
                       g_rand_int_range(g, 0, 0x100000));
                }
                break;
            }
            case 6: case 7: {
                size_t len = g_rand_int_range(g, 0, 8)
                    ? g_rand_int_range(g, 0, 1600)
                    : g_rand_int_range(g, 0, NET_MAX_FRAME + 8);
                for (size_t i = 0; i < len; i += 4) {
                    guint32 v = g_rand_int(g);
                    memcpy(frame + i, &v, 4);
                }
                if (len >= 6 && g_rand_boolean(g)) {
                    memcpy(frame, g_rand_boolean(g) ? MAC
                           : (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 6);
                }
                uint32_t before = rd(r, 0x2810);
                net_send(r->peer, frame, len);
                rx += rd(r, 0x2810) != before;
                break;
            }
            case 8:
                ioport_write(r->io, IOBAR, fuzz_value(g), 4);
                ioport_write(r->io, IOBAR + 4, fuzz_value(g), 4);
                break;
            default:
                wr(r, 0x400, g_rand_int(g) | 2);
                wr(r, 0x100, (g_rand_int(g) & ~0x06000000u) | 2);
                break;
            }
        }
        g_ptr_array_set_size(r->frames, 0);
        /* virtual time: the moderation timer's deadlines come and go */
        advance(r, g_rand_int_range(g, 0, 1 << 20));
        if (g_rand_boolean(g)) {
            setup_rings(r, g_rand_int_range(g, 1, 64) * 8); /* sane again */
        }
    }
    g_test_message("%" G_GUINT64_FORMAT " operations, %" G_GUINT64_FORMAT
                   " frames sent by the device, %" G_GUINT64_FORMAT
                   " frames received into the ring", ops,
                   r->total, rx);
    /* The fuzz must reach both rings, or it tests nothing. */
    g_assert_cmpuint(r->total, >, 0);
    g_assert_cmpuint(rx, >, 0);
    g_timer_destroy(t);
    g_free(frame);
    rig_free(r);
    g_rand_free(g);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/e1000/eeprom", test_eeprom);
    g_test_add_func("/hw/e1000/phy", test_phy);
    g_test_add_func("/hw/e1000/tx-rx", test_tx_rx);
    g_test_add_func("/hw/e1000/tso", test_tso);
    g_test_add_func("/hw/e1000/rx-csum", test_rx_csum);
    g_test_add_func("/hw/e1000/link", test_link);
    g_test_add_func("/hw/e1000/moderation", test_moderation);
    g_test_add_func("/hw/e1000/fuzz", test_fuzz);
    return g_test_run();
}
