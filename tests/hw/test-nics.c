/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The RTL8139C+, the NE2000 (PCI and ISA) and virtio-net on a bare bus:
 * RAM, the PCI bus, the card, and a test port as the other end of the
 * cable.  Functional checks drive each card as its Linux driver does
 * (8139too's EEPROM reads and classic rings, 8139cp's C+ descriptors with
 * checksum offload, lib8390's remote DMA and receive ring, virtio_net's
 * virtqueues through both the legacy and the modern interface), then a
 * bounded-time fuzz per card: random register writes of every width,
 * descriptor rings and buffers pointing anywhere (outside RAM, onto the
 * card's own registers), NE2000 ring registers at their boundary values,
 * broken virtqueues (indices past the ring, looping chains), frames of
 * any size from the wire.  Under ASan in make check.  The fuzz prints its
 * seed; MIMIC_FUZZ_SEED=N replays a run and MIMIC_FUZZ_SECONDS=S changes
 * its length (2 s per card by default).
 */
#include <string.h>
#include <glib.h>
#include <zlib.h>

#include "bus/device.h"
#include "bus/net.h"
#include "hw/net/ne2000.h"
#include "hw/net/nic_util.h"
#include "hw/net/rtl8139.h"
#include "hw/net/virtio_net.h"
#include "hw/pci/pci.h"

#define RAM_SIZE (4u << 20)
#define MMIO 0xfe000000u
#define IOBAR 0xc000u
#define DEVFN (3 << 3)

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

typedef enum { RTL, NE_PCI, NE_ISA, VIRTIO } Kind;

typedef struct Rig {
    MemMap *mem;
    IoSpace *io;
    Clock *clock;
    MachineBuses bus;
    DeviceList *devs;
    PciBus *pci;
    uint8_t *ram;
    Device *dev;
    NetPort *nic;
    IrqLine *irq;
    bool level;
    NetPort *peer;
    GPtrArray *frames; /* GBytes received by the peer */
    uint64_t total;
    bool answer; /* the peer answers each frame at once, as slirp does */
} Rig;

static void on_irq(void *opaque, int n, bool level)
{
    ((Rig *)opaque)->level = level;
}

static bool peer_receive(void *opaque, const uint8_t *buf, size_t len)
{
    Rig *r = opaque;
    r->total++;
    if (r->frames->len < 10000) {
        g_ptr_array_add(r->frames, g_bytes_new(buf, len));
    }
    if (r->answer) {
        uint8_t reply[600];
        memset(reply, 0xee, sizeof(reply));
        memcpy(reply, MAC, 6);
        net_send(r->peer, reply, sizeof(reply));
    }
    return true;
}

static const NetPortOps peer_ops = { .receive = peer_receive };

static Rig *rig_new(Kind kind)
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
    switch (kind) {
    case RTL: {
        Rtl8139 *d = (Rtl8139 *)device_new(r->devs, &rtl8139_info, &r->bus,
                                           "rtl8139.0");
        d->bus = r->pci;
        d->devfn = DEVFN;
        d->irq = r->irq;
        memcpy(d->mac, MAC, 6);
        r->dev = DEVICE(d);
        break;
    }
    case NE_PCI: case NE_ISA: {
        Ne2k *d = (Ne2k *)device_new(r->devs, kind == NE_PCI
                                     ? &ne2k_pci_info : &ne2k_isa_info,
                                     &r->bus, "ne2k.0");
        d->pci_bus = kind == NE_PCI ? r->pci : NULL;
        d->devfn = DEVFN;
        d->iobase = IOBAR;
        d->irq = r->irq;
        memcpy(d->mac, MAC, 6);
        r->dev = DEVICE(d);
        break;
    }
    case VIRTIO: {
        VirtioNet *d = (VirtioNet *)device_new(r->devs, &virtio_net_info,
                                               &r->bus, "virtio-net.0");
        d->bus = r->pci;
        d->devfn = DEVFN;
        d->irq = r->irq;
        memcpy(d->mac, MAC, 6);
        r->dev = DEVICE(d);
        break;
    }
    }
    g_assert_true(device_realize(r->dev, NULL));
    device_list_reset(r->devs);
    r->nic = kind == RTL ? ((Rtl8139 *)r->dev)->port
           : kind == VIRTIO ? ((VirtioNet *)r->dev)->port
           : ((Ne2k *)r->dev)->port;
    r->frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    r->peer = net_port_new("peer", &peer_ops, r);
    net_port_connect(r->nic, r->peer);
    if (kind != NE_ISA) {
        pci_config_write(r->pci, DEVFN, PCI_BAR0, IOBAR, 4);
        pci_config_write(r->pci, DEVFN, PCI_BAR0 + 4, MMIO, 4);
        pci_config_write(r->pci, DEVFN, PCI_BAR0 + 16, MMIO, 4);
        pci_config_write(r->pci, DEVFN, PCI_COMMAND, 7, 2);
    }
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

static void outb(Rig *r, unsigned off, uint32_t v)
{
    ioport_write(r->io, IOBAR + off, v, 1);
}

static void outw(Rig *r, unsigned off, uint32_t v)
{
    ioport_write(r->io, IOBAR + off, v, 2);
}

static void outl(Rig *r, unsigned off, uint32_t v)
{
    ioport_write(r->io, IOBAR + off, v, 4);
}

static uint32_t inb(Rig *r, unsigned off)
{
    return ioport_read(r->io, IOBAR + off, 1);
}

static uint32_t inw(Rig *r, unsigned off)
{
    return ioport_read(r->io, IOBAR + off, 2);
}

static uint32_t inl(Rig *r, unsigned off)
{
    return ioport_read(r->io, IOBAR + off, 4);
}

static const uint8_t *frame_at(Rig *r, guint i, gsize *len)
{
    g_assert_cmpuint(r->frames->len, >, i);
    return g_bytes_get_data(r->frames->pdata[i], len);
}

/* An IPv4/TCP frame to MAC with its checksums left zero, payload n. */
static size_t tcp_frame(uint8_t *p, size_t n)
{
    memcpy(p, MAC, 6);
    memcpy(p + 6, "\x52\x54\x00\x12\x35\x02", 6);
    nic_put_be16(p + 12, 0x0800);
    uint8_t *ip = p + 14;
    memset(ip, 0, 40);
    ip[0] = 0x45;
    nic_put_be16(ip + 2, 40 + n);
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
    nic_put_be16(ip + 20, 1234);
    nic_put_be16(ip + 22, 80);
    ip[32] = 5 << 4;
    ip[33] = 0x18;
    for (size_t i = 0; i < n; i++) {
        ip[40 + i] = i * 13 + 1;
    }
    return 14 + 40 + n;
}

/* Both checksums of an IPv4/TCP frame verify. */
static void assert_checksums(const uint8_t *p, size_t len)
{
    const uint8_t *ip = p + 14;
    g_assert_cmphex(nic_csum_fold(nic_csum_add(0, ip, 20)), ==, 0xffff);
    size_t tl = nic_be16(ip + 2) - 20;
    g_assert_cmpuint(14 + 20 + tl, <=, len);
    uint32_t sum = nic_csum_add(0, ip + 12, 8) + 6 + tl;
    g_assert_cmphex(nic_csum_fold(nic_csum_add(sum, ip + 20, tl)), ==,
                    0xffff);
}

/* ================= RTL8139 ================= */

/* 8139too's read_eeprom: leading zeros, then READ, addr_len bits. */
static uint16_t rtl_ee_read(Rig *r, unsigned loc, int addr_len)
{
    unsigned cmd = loc | 6u << addr_len;
    outb(r, 0x50, 0x80);
    outb(r, 0x50, 0x88);
    for (int i = 4 + addr_len; i >= 0; i--) {
        unsigned d = (cmd >> i) & 1 ? 0x02 : 0;
        outb(r, 0x50, 0x88 | d);
        outb(r, 0x50, 0x8c | d);
    }
    outb(r, 0x50, 0x88);
    uint16_t v = 0;
    for (int i = 0; i < 16; i++) {
        outb(r, 0x50, 0x8c);
        v = v << 1 | (inb(r, 0x50) & 1);
        outb(r, 0x50, 0x88);
    }
    outb(r, 0x50, 0x80 & ~0x08);
    return v;
}

static void test_rtl_eeprom(void)
{
    Rig *r = rig_new(RTL);
    /* 8139cp's probe for the address width: a 93C46 answers 0x8129 at
       word 0 only with six address bits. */
    g_assert_cmphex(rtl_ee_read(r, 0, 8), !=, 0x8129);
    g_assert_cmphex(rtl_ee_read(r, 0, 6), ==, 0x8129);
    for (int i = 0; i < 3; i++) {
        g_assert_cmphex(rtl_ee_read(r, 7 + i, 6), ==,
                        MAC[2 * i] | MAC[2 * i + 1] << 8);
    }
    for (int i = 0; i < 6; i++) {
        g_assert_cmphex(inb(r, i), ==, MAC[i]);
    }
    /* TCR's hardware version: an RTL8139C+. */
    g_assert_cmphex(inl(r, 0x40) & 0x7cc00000, ==, 0x74800000);
    /* The MMIO BAR reaches the same registers. */
    g_assert_cmphex(memmap_read_sized(r->mem, MMIO + 0x40, 4), ==,
                    inl(r, 0x40));
    /* PHY: link up, autonegotiation complete. */
    g_assert_cmphex(inw(r, 0x64) & 0x24, ==, 0x24);
    rig_free(r);
}

#define RXRING_ADDR 0x10000u
#define TXBUF_ADDR 0x30000u

static void test_rtl_classic(void)
{
    Rig *r = rig_new(RTL);
    outb(r, 0x37, 0x10); /* reset */
    outb(r, 0x37, 0x0c); /* RE, TE */
    outl(r, 0x44, 0x0f); /* accept all, 8 KiB ring, wrap at the end */
    outl(r, 0x30, RXRING_ADDR);
    outw(r, 0x3c, 0xffff);
    g_assert_cmphex(inb(r, 0x37) & 1, ==, 1); /* buffer empty */
    /* Transmit through descriptor 2. */
    uint8_t frame[200];
    size_t flen = tcp_frame(frame, 100);
    memcpy(r->ram + TXBUF_ADDR, frame, flen);
    outl(r, 0x28, TXBUF_ADDR);
    outl(r, 0x18, flen);
    gsize len;
    const uint8_t *got = frame_at(r, 0, &len);
    g_assert_cmpmem(got, len, frame, flen);
    g_assert_cmphex(inl(r, 0x18) & 0xa000, ==, 0xa000); /* OWN, TOK */
    g_assert_cmphex(inw(r, 0x60) & 0x4004, ==, 0x4004);
    g_assert_true(r->level);
    outw(r, 0x3e, 0x0004);
    g_assert_false(r->level);
    /* Receive frames of 1000 bytes until the 8 KiB ring wraps, reading
       each one back as 8139too does. */
    uint32_t cur = 0;
    for (int n = 0; n < 20; n++) {
        uint8_t in[1000];
        memcpy(in, MAC, 6);
        for (size_t i = 6; i < sizeof(in); i++) {
            in[i] = n + i;
        }
        net_send(r->peer, in, sizeof(in));
        g_assert_cmphex(inb(r, 0x37) & 1, ==, 0);
        uint8_t *ring = r->ram + RXRING_ADDR;
        uint32_t hdr = nic_le32(ring + cur);
        g_assert_cmphex(hdr & 0xffff, ==, 0x4001); /* ROK, PAM */
        g_assert_cmpuint(hdr >> 16, ==, sizeof(in) + 4);
        uint8_t back[1004];
        for (size_t i = 0; i < sizeof(back); i++) {
            back[i] = ring[(cur + 4 + i) % 8192];
        }
        g_assert_cmpmem(back, sizeof(in), in, sizeof(in));
        g_assert_cmphex(nic_le32(back + sizeof(in)), ==,
                        (uint32_t)crc32(0, in, sizeof(in)));
        cur = (cur + 4 + (hdr >> 16) + 3) & ~3u;
        cur %= 8192;
        outw(r, 0x38, (cur - 16) & 0xffff);
        g_assert_cmphex(inb(r, 0x37) & 1, ==, 1);
        g_assert_cmpuint(inw(r, 0x3a), ==, cur);
    }
    /* A full ring holds frames back until CAPR moves. */
    uint8_t small[64];
    memcpy(small, BCAST, 6);
    for (int n = 0; n < 200; n++) {
        net_send(r->peer, small, sizeof(small));
    }
    uint32_t cbr = inw(r, 0x3a);
    g_assert_cmpuint((cbr + 8192 - cur) % 8192, >, 8192 - 80);
    outw(r, 0x38, (cbr - 16) & 0xffff);
    g_assert_cmpuint(inw(r, 0x3a), !=, cbr);
    /* ROK stays while unread packets remain (8139too acks it after each
       packet), and goes once the driver has read them all. */
    outw(r, 0x3e, 0x0001);
    g_assert_cmphex(inw(r, 0x3e) & 1, ==, 1);
    g_assert_true(r->level);
    for (int n = 0; n < 100 && !(inb(r, 0x37) & 1); n++) {
        outw(r, 0x38, (inw(r, 0x3a) - 16) & 0xffff);
    }
    g_assert_cmphex(inb(r, 0x37) & 1, ==, 1); /* all 200 read */
    outw(r, 0x3e, 0x0001);
    g_assert_cmphex(inw(r, 0x3e) & 1, ==, 0);
    g_assert_false(r->level);
    rig_free(r);
}

#define CP_TXRING 0x50000u
#define CP_RXRING 0x51000u
#define CP_BUF 0x60000u

static void test_rtl_cplus(void)
{
    Rig *r = rig_new(RTL);
    outb(r, 0x37, 0x10);
    outw(r, 0xe0, 0x0003); /* C+ receive and transmit */
    outl(r, 0x20, CP_TXRING);
    outl(r, 0x24, 0);
    outl(r, 0xe4, CP_RXRING);
    outl(r, 0xe8, 0);
    outb(r, 0x37, 0x0c);
    outl(r, 0x44, 0x0a); /* physical match, broadcast */
    outw(r, 0x3c, 0xffff);
    /* Four receive buffers of 1536 bytes, the last one ends the ring. */
    for (int i = 0; i < 4; i++) {
        uint8_t *d = r->ram + CP_RXRING + 16 * i;
        nic_put_le32(d, 1u << 31 | (i == 3 ? 1u << 30 : 0) | 1536);
        nic_put_le32(d + 4, 0);
        nic_put_le32(d + 8, CP_BUF + 2048 * i);
        nic_put_le32(d + 12, 0);
    }
    /* A frame in two fragments with IP and TCP checksum offload. */
    uint8_t frame[400];
    size_t flen = tcp_frame(frame, 300);
    memcpy(r->ram + CP_BUF + 0x10000, frame, 100);
    memcpy(r->ram + CP_BUF + 0x11000, frame + 100, flen - 100);
    uint8_t *t = r->ram + CP_TXRING;
    nic_put_le32(t, 1u << 31 | 1u << 29 | 1u << 18 | 1u << 16 | 100);
    nic_put_le32(t + 8, CP_BUF + 0x10000);
    nic_put_le32(t + 16, 1u << 31 | 1u << 28 | 1u << 18 | 1u << 16 |
                 (flen - 100));
    nic_put_le32(t + 24, CP_BUF + 0x11000);
    outb(r, 0xd9, 0x40);
    gsize len;
    const uint8_t *got = frame_at(r, 0, &len);
    g_assert_cmpuint(len, ==, flen);
    assert_checksums(got, len);
    g_assert_cmpmem(got + 54, len - 54, frame + 54, flen - 54);
    g_assert_cmphex(nic_le32(t) >> 31, ==, 0);
    g_assert_cmphex(nic_le32(t + 16) >> 31, ==, 0);
    g_assert_cmphex(inw(r, 0x3e) & 0x04, ==, 0x04);
    /* Large send: segments of 100 bytes of payload. */
    flen = tcp_frame(frame, 250);
    memcpy(r->ram + CP_BUF + 0x10000, frame, flen);
    nic_put_le32(t + 32, 1u << 31 | 3u << 28 | 1u << 27 | 100u << 16 | flen);
    nic_put_le32(t + 40, CP_BUF + 0x10000);
    outb(r, 0xd9, 0x40);
    g_assert_cmpuint(r->frames->len, ==, 4);
    for (int i = 1; i < 4; i++) {
        got = frame_at(r, i, &len);
        g_assert_cmpuint(len, ==, 54 + (i < 3 ? 100 : 50));
        assert_checksums(got, len);
    }
    /* Receive: FS|LS, length with the CRC, ownership back. */
    uint8_t in[300];
    memcpy(in, MAC, 6);
    memset(in + 6, 0x5a, sizeof(in) - 6);
    net_send(r->peer, in, sizeof(in));
    uint32_t o = nic_le32(r->ram + CP_RXRING);
    g_assert_cmphex(o & 0xf0000000u, ==, 0x30000000u);
    g_assert_cmpuint(o & 0x1fff, ==, sizeof(in) + 4);
    g_assert_cmpmem(r->ram + CP_BUF, sizeof(in), in, sizeof(in));
    /* A frame over one buffer spans two descriptors. */
    uint8_t big[2000];
    memcpy(big, BCAST, 6);
    memset(big + 6, 0x33, sizeof(big) - 6);
    net_send(r->peer, big, sizeof(big));
    g_assert_cmphex(nic_le32(r->ram + CP_RXRING + 16) >> 28, ==, 2); /* FS */
    o = nic_le32(r->ram + CP_RXRING + 32);
    g_assert_cmphex(o >> 28, ==, 1); /* LS */
    g_assert_cmpuint(o & 0x1fff, ==, sizeof(big) + 4);
    /* No descriptor left: RxEmpty, the frame waits for a refill. */
    net_send(r->peer, in, sizeof(in)); /* takes the last one (ring end) */
    net_send(r->peer, in, sizeof(in));
    g_assert_cmphex(inw(r, 0x3e) & 0x10, ==, 0x10);
    nic_put_le32(r->ram + CP_RXRING, 1u << 31 | 1536);
    outw(r, 0x3e, 0xffff);
    g_assert_cmphex(nic_le32(r->ram + CP_RXRING) >> 31, ==, 0);
    rig_free(r);
}

/* ================= NE2000 ================= */

static void ne_init(Rig *r)
{
    inb(r, 0x1f); /* reset */
    g_assert_cmphex(inb(r, 0x07) & 0x80, ==, 0x80);
    outb(r, 0x00, 0x21); /* page 0, no DMA, stop */
    outb(r, 0x0e, 0x49); /* word-wide */
    outb(r, 0x0a, 0);
    outb(r, 0x0b, 0);
    outb(r, 0x0c, 0x04 | 0x02); /* broadcast */
    outb(r, 0x0d, 0x02); /* loopback while setting up */
    outb(r, 0x04, 0x40); /* transmit page */
    outb(r, 0x01, 0x46); /* PSTART */
    outb(r, 0x03, 0x46); /* BNRY */
    outb(r, 0x02, 0x60); /* PSTOP: a small ring of 26 pages */
    outb(r, 0x07, 0xff);
    outb(r, 0x0f, 0x3f);
    outb(r, 0x00, 0x61); /* page 1 */
    for (int i = 0; i < 6; i++) {
        outb(r, 1 + i, MAC[i]);
    }
    outb(r, 0x07, 0x47); /* CURR */
    outb(r, 0x00, 0x22); /* page 0, start */
    outb(r, 0x0d, 0x00); /* normal transmit */
}

static void ne_dma(Rig *r, uint16_t addr, uint16_t count, bool write)
{
    outb(r, 0x0a, count & 0xff);
    outb(r, 0x0b, count >> 8);
    outb(r, 0x08, addr & 0xff);
    outb(r, 0x09, addr >> 8);
    outb(r, 0x00, write ? 0x12 : 0x0a);
}

static void test_ne_prom(gconstpointer data)
{
    Rig *r = rig_new(GPOINTER_TO_INT(data));
    inb(r, 0x1f);
    outb(r, 0x00, 0x21);
    /* ne.c: byte-wide reads see each byte twice, "WW" at the end. */
    outb(r, 0x0e, 0x48);
    ne_dma(r, 0, 32, false);
    uint8_t prom[32];
    for (int i = 0; i < 32; i++) {
        prom[i] = inb(r, 0x10);
    }
    for (int i = 0; i < 6; i++) {
        g_assert_cmphex(prom[2 * i], ==, MAC[i]);
        g_assert_cmphex(prom[2 * i + 1], ==, MAC[i]);
    }
    g_assert_cmphex(prom[28], ==, 0x57);
    g_assert_cmphex(prom[30], ==, 0x57);
    g_assert_cmphex(inb(r, 0x07) & 0x40, ==, 0x40); /* remote DMA done */
    /* ne2k-pci: word-wide, each byte read takes a word. */
    outb(r, 0x0e, 0x49);
    ne_dma(r, 0, 32, false);
    for (int i = 0; i < 6; i++) {
        g_assert_cmphex(inb(r, 0x10), ==, MAC[i]);
    }
    /* The CNTR0 probe of ne.c reads 0. */
    g_assert_cmphex(inb(r, 0x0d), ==, 0);
    rig_free(r);
}

static void test_ne_tx_rx(gconstpointer data)
{
    Rig *r = rig_new(GPOINTER_TO_INT(data));
    ne_init(r);
    /* Transmit: the frame into card memory at page 0x40, then TXP. */
    uint8_t frame[200];
    size_t flen = tcp_frame(frame, 140);
    ne_dma(r, 0x4000, flen, true);
    for (size_t i = 0; i < flen; i += 2) {
        outw(r, 0x10, frame[i] | frame[i + 1] << 8);
    }
    outb(r, 0x05, flen & 0xff);
    outb(r, 0x06, flen >> 8);
    outb(r, 0x00, 0x20); /* Linux's trigger_send: page 0 without STA */
    outb(r, 0x00, 0x26); /* TXP, STA */
    gsize len;
    const uint8_t *got = frame_at(r, 0, &len);
    g_assert_cmpmem(got, len, frame, flen);
    g_assert_cmphex(inb(r, 0x07) & 0x02, ==, 0x02);
    g_assert_true(r->level);
    outb(r, 0x07, 0xff);
    g_assert_false(r->level);
    /* Receive until the ring is full; then frames wait. */
    uint8_t in[600];
    memcpy(in, MAC, 6);
    int sent = 0;
    for (; sent < 20; sent++) {
        for (size_t i = 6; i < sizeof(in); i++) {
            in[i] = sent + i;
        }
        net_send(r->peer, in, sizeof(in));
    }
    g_assert_true(r->level);
    /* Read the frames back as lib8390 does, one header at a time. */
    int seen = 0;
    for (int round = 0; round < 100 && seen < sent; round++) {
        outb(r, 0x00, 0x62);
        unsigned curr = inb(r, 0x07);
        outb(r, 0x00, 0x22);
        unsigned frame_pg = inb(r, 0x03) + 1;
        if (frame_pg >= 0x60) {
            frame_pg = 0x46;
        }
        if (frame_pg == curr) {
            outb(r, 0x07, 0x01); /* ack: nothing pending, no new PRX */
            g_assert_cmphex(inb(r, 0x07) & 0x01, ==, 0);
            break;
        }
        ne_dma(r, frame_pg << 8, 4, false);
        uint32_t hdr = inl(r, 0x10);
        unsigned next = (hdr >> 8) & 0xff, count = hdr >> 16;
        g_assert_cmphex(hdr & 0xff, ==, 0x01);
        g_assert_cmpuint(count, ==, sizeof(in) + 4);
        uint8_t back[600];
        unsigned addr = (frame_pg << 8) + 4;
        for (size_t i = 0; i < sizeof(back); i++) {
            if (addr >= 0x6000) {
                addr = 0x4600;
            }
            ne_dma(r, addr, 1, false);
            outb(r, 0x0e, 0x48);
            back[i] = inb(r, 0x10);
            outb(r, 0x0e, 0x49);
            addr++;
        }
        for (size_t i = 6; i < sizeof(in); i++) {
            g_assert_cmphex(back[i], ==, (uint8_t)(seen + i));
        }
        seen++;
        outb(r, 0x03, next - 1 < 0x46 ? 0x5f : next - 1);
        if (seen % 3 == 0) {
            /* ack after a few frames: PRX again while frames wait */
            outb(r, 0x07, 0x01);
            g_assert_cmphex(inb(r, 0x07) & 0x01, ==, 0x01);
        }
    }
    g_assert_cmpint(seen, ==, sent);
    rig_free(r);
}

/* ================= virtio-net ================= */

#define VQ_RX 0x100000u
#define VQ_TX 0x200000u
#define VBUF 0x300000u
#define QN 256

typedef struct Vq {
    uint64_t desc, avail, used;
    uint16_t avail_idx, used_seen;
} Vq;

static void vq_layout(Vq *q, uint64_t base)
{
    q->desc = base;
    q->avail = base + 16 * QN;
    q->used = (q->avail + 6 + 2 * QN + 4095) & ~4095ull;
    q->avail_idx = q->used_seen = 0;
}

static void vq_add(Rig *r, Vq *q, unsigned head, const uint64_t *addr,
                   const uint32_t *len, const bool *write, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t *d = r->ram + q->desc + 16 * ((head + i) % QN);
        nic_put_le32(d, addr[i]);
        nic_put_le32(d + 4, 0);
        nic_put_le32(d + 8, len[i]);
        nic_put_le16(d + 12, (i + 1 < n ? 1 : 0) | (write[i] ? 2 : 0));
        nic_put_le16(d + 14, (head + i + 1) % QN);
    }
    nic_put_le16(r->ram + q->avail + 4 + 2 * (q->avail_idx % QN), head);
    q->avail_idx++;
    nic_put_le16(r->ram + q->avail + 2, q->avail_idx);
}

static uint16_t used_idx(Rig *r, Vq *q)
{
    return nic_le16(r->ram + q->used + 2);
}

/* Find a virtio vendor capability of a type in config space. */
static unsigned find_cap(Rig *r, unsigned type, uint32_t *offset)
{
    unsigned p = pci_config_read(r->pci, DEVFN, 0x34, 1);
    for (int guard = 0; p && guard < 48; guard++) {
        if (pci_config_read(r->pci, DEVFN, p, 1) == 0x09 &&
            pci_config_read(r->pci, DEVFN, p + 3, 1) == type) {
            g_assert_cmpuint(pci_config_read(r->pci, DEVFN, p + 4, 1), ==, 4);
            *offset = pci_config_read(r->pci, DEVFN, p + 8, 4);
            return p;
        }
        p = pci_config_read(r->pci, DEVFN, p + 1, 1);
    }
    g_assert_not_reached();
}

static void vnet_exchange(Rig *r, Vq *rx, Vq *tx, size_t hl,
                          void (*kick)(Rig *, unsigned))
{
    /* Receive buffers: header and frame in one writable descriptor. */
    for (int i = 0; i < 4; i++) {
        uint64_t a = VBUF + 0x1000 * i;
        uint32_t l = 1526;
        bool w = true;
        vq_add(r, rx, i, &a, &l, &w, 1);
    }
    kick(r, 0);
    uint8_t in[1000];
    memcpy(in, MAC, 6);
    for (size_t i = 6; i < sizeof(in); i++) {
        in[i] = i;
    }
    net_send(r->peer, in, sizeof(in));
    g_assert_cmpuint(used_idx(r, rx), ==, 1);
    g_assert_cmpuint(nic_le32(r->ram + rx->used + 4), ==, 0);
    g_assert_cmpuint(nic_le32(r->ram + rx->used + 8), ==, hl + sizeof(in));
    g_assert_cmpmem(r->ram + VBUF + hl, sizeof(in), in, sizeof(in));
    if (hl == 12) {
        g_assert_cmpuint(nic_le16(r->ram + VBUF + 10), ==, 1);
    }
    g_assert_true(r->level);
    /* Transmit: the header in one descriptor, the frame in two, with a
       partial checksum to finish (the pseudo-header sum in place). */
    uint8_t frame[300];
    size_t flen = tcp_frame(frame, 200);
    uint8_t *ip = frame + 14;
    uint32_t ph = nic_csum_add(0, ip + 12, 8) + 6 + 20 + 200;
    nic_put_be16(ip + 36, nic_csum_fold(ph));
    nic_put_be16(ip + 10, ~nic_csum_fold(nic_csum_add(0, ip, 20)));
    uint8_t hdr[12] = { 1 };
    nic_put_le16(hdr + 6, 34);
    nic_put_le16(hdr + 8, 16);
    memcpy(r->ram + VBUF + 0x10000, hdr, hl);
    memcpy(r->ram + VBUF + 0x11000, frame, 50);
    memcpy(r->ram + VBUF + 0x12000, frame + 50, flen - 50);
    uint64_t a[3] = { VBUF + 0x10000, VBUF + 0x11000, VBUF + 0x12000 };
    uint32_t l[3] = { hl, 50, flen - 50 };
    bool w[3] = { false, false, false };
    vq_add(r, tx, 0, a, l, w, 3);
    kick(r, 1);
    gsize len;
    const uint8_t *got = frame_at(r, 0, &len);
    g_assert_cmpuint(len, ==, flen);
    assert_checksums(got, len);
    g_assert_cmpuint(used_idx(r, tx), ==, 1);
    if (hl != 12) {
        return;
    }
    /* TSO (negotiated by the modern test) to a peer that answers each
       segment at once, into the receive buffers: the segments still to
       cut must not change. */
    uint8_t big[400];
    flen = tcp_frame(big, 280);
    hdr[1] = 1; /* GSO_TCPV4 */
    nic_put_le16(hdr + 4, 100); /* gso_size */
    memcpy(r->ram + VBUF + 0x10000, hdr, hl);
    memcpy(r->ram + VBUF + 0x11000, big, flen);
    vq_add(r, tx, 1, a, (uint32_t[]){ hl, flen }, w, 2);
    r->answer = true;
    kick(r, 1);
    r->answer = false;
    g_assert_cmpuint(r->frames->len, ==, 4);
    for (int i = 0; i < 3; i++) {
        got = frame_at(r, 1 + i, &len);
        size_t n = i < 2 ? 100 : 80;
        g_assert_cmpuint(len, ==, 54 + n);
        assert_checksums(got, len);
        g_assert_cmpmem(got + 54, n, big + 54 + 100 * i, n);
    }
    g_assert_cmpuint(used_idx(r, rx), ==, 4); /* three answers received */
}

static void legacy_kick(Rig *r, unsigned q)
{
    outw(r, 0x10, q);
}

static void test_virtio_legacy(void)
{
    Rig *r = rig_new(VIRTIO);
    g_assert_cmphex(pci_config_read(r->pci, DEVFN, 0, 4), ==, 0x10001af4);
    g_assert_cmphex(pci_config_read(r->pci, DEVFN, PCI_SUBSYS_ID, 2), ==, 1);
    outb(r, 0x12, 0);
    outb(r, 0x12, 1 | 2);
    uint32_t f = inl(r, 0x00);
    g_assert_cmphex(f & (1u << 5), !=, 0); /* MAC */
    outl(r, 0x04, f & ((1u << 5) | (1u << 16) | 1u));
    for (int i = 0; i < 6; i++) {
        g_assert_cmphex(inb(r, 0x14 + i), ==, MAC[i]);
    }
    g_assert_cmphex(inw(r, 0x1a), ==, 1); /* link up */
    Vq rx, tx;
    vq_layout(&rx, VQ_RX);
    vq_layout(&tx, VQ_TX);
    outw(r, 0x0e, 0);
    g_assert_cmpuint(inw(r, 0x0c), ==, QN);
    outl(r, 0x08, VQ_RX >> 12);
    outw(r, 0x0e, 1);
    outl(r, 0x08, VQ_TX >> 12);
    outb(r, 0x12, 1 | 2 | 4);
    vnet_exchange(r, &rx, &tx, 10, legacy_kick);
    g_assert_cmphex(inb(r, 0x13) & 1, ==, 1); /* ISR: read clears */
    g_assert_false(r->level);
    /* A broken ring: more available entries than it holds. */
    nic_put_le16(r->ram + tx.avail + 2, tx.avail_idx + 1000);
    outw(r, 0x10, 1);
    g_assert_cmphex(inb(r, 0x12) & 0x40, ==, 0x40); /* NEEDS_RESET */
    outb(r, 0x12, 0);
    g_assert_cmphex(inb(r, 0x12), ==, 0);
    rig_free(r);
}

static uint32_t common_off, notify_off;

static void modern_kick(Rig *r, unsigned q)
{
    memmap_write_sized(r->mem, MMIO + notify_off + 4 * q, q, 2);
}

static void cw(Rig *r, unsigned off, uint32_t v, unsigned size)
{
    memmap_write_sized(r->mem, MMIO + common_off + off, v, size);
}

static uint32_t cr(Rig *r, unsigned off, unsigned size)
{
    return memmap_read_sized(r->mem, MMIO + common_off + off, size);
}

static void test_virtio_modern(void)
{
    Rig *r = rig_new(VIRTIO);
    uint32_t devcfg, isr;
    find_cap(r, 1, &common_off);
    find_cap(r, 2, &notify_off);
    find_cap(r, 3, &isr);
    find_cap(r, 4, &devcfg);
    cw(r, 0x14, 0, 1);
    cw(r, 0x14, 1 | 2, 1);
    cw(r, 0x00, 1, 4);
    g_assert_cmphex(cr(r, 0x04, 4) & 1, ==, 1); /* VERSION_1 */
    cw(r, 0x08, 0, 4);
    cw(r, 0x0c, (1u << 5) | (1u << 16) | (1u << 11) | 1u, 4);
    cw(r, 0x08, 1, 4);
    cw(r, 0x0c, 1, 4);
    cw(r, 0x14, 1 | 2 | 8, 1);
    g_assert_cmphex(cr(r, 0x14, 1) & 8, ==, 8); /* FEATURES_OK kept */
    g_assert_cmpuint(cr(r, 0x12, 2), ==, 2);
    for (int i = 0; i < 6; i++) {
        g_assert_cmphex(memmap_read_sized(r->mem, MMIO + devcfg + i, 1), ==,
                        MAC[i]);
    }
    /* The PCI configuration access capability (iPXE requires it): reads
       and writes of the BAR through its data field. */
    uint32_t unused;
    unsigned cfg = find_cap(r, 5, &unused);
    g_assert_cmpuint(pci_config_read(r->pci, DEVFN, cfg + 2, 1), ==, 20);
    pci_config_write(r->pci, DEVFN, cfg + 12, 1, 4);
    for (int i = 0; i < 6; i++) {
        pci_config_write(r->pci, DEVFN, cfg + 8, devcfg + i, 4);
        g_assert_cmphex(pci_config_read(r->pci, DEVFN, cfg + 16, 1), ==,
                        MAC[i]);
    }
    pci_config_write(r->pci, DEVFN, cfg + 8, common_off + 0x16, 4);
    pci_config_write(r->pci, DEVFN, cfg + 12, 2, 4);
    pci_config_write(r->pci, DEVFN, cfg + 16, 1, 2); /* queue_select */
    g_assert_cmpuint(cr(r, 0x16, 2), ==, 1);
    g_assert_cmpuint(pci_config_read(r->pci, DEVFN, cfg + 16, 2), ==, 1);
    pci_config_write(r->pci, DEVFN, cfg + 8, 0x10000, 4); /* outside */
    g_assert_cmpuint(pci_config_read(r->pci, DEVFN, cfg + 16, 2), ==, 0);
    pci_config_write(r->pci, DEVFN, cfg + 8, common_off + 0x17, 4);
    pci_config_write(r->pci, DEVFN, cfg + 16, 0xffff, 2); /* unaligned */
    g_assert_cmpuint(cr(r, 0x16, 2), ==, 1);
    Vq q[2];
    for (int i = 0; i < 2; i++) {
        vq_layout(&q[i], i ? VQ_TX : VQ_RX);
        cw(r, 0x16, i, 2);
        g_assert_cmpuint(cr(r, 0x18, 2), ==, QN);
        cw(r, 0x20, q[i].desc, 4);
        cw(r, 0x24, 0, 4);
        cw(r, 0x28, q[i].avail, 4);
        cw(r, 0x2c, 0, 4);
        cw(r, 0x30, q[i].used, 4);
        cw(r, 0x34, 0, 4);
        cw(r, 0x1c, 1, 2);
    }
    cw(r, 0x14, 1 | 2 | 8 | 4, 1);
    vnet_exchange(r, &q[0], &q[1], 12, modern_kick);
    g_assert_cmphex(memmap_read_sized(r->mem, MMIO + isr, 1) & 1, ==, 1);
    g_assert_false(r->level);
    /* A chain that loops on itself ends after the ring's length. */
    uint8_t *d = r->ram + q[1].desc + 16 * 5;
    nic_put_le32(d, VBUF);
    nic_put_le32(d + 8, 64);
    nic_put_le16(d + 12, 1);
    nic_put_le16(d + 14, 5);
    nic_put_le16(r->ram + q[1].avail + 4 + 2 * (q[1].avail_idx % QN), 5);
    nic_put_le16(r->ram + q[1].avail + 2, ++q[1].avail_idx);
    modern_kick(r, 1);
    g_assert_cmphex(cr(r, 0x14, 1) & 0x40, ==, 0x40);
    rig_free(r);
}

/* ================= fuzz ================= */

static uint64_t fuzz_addr(GRand *g)
{
    switch (g_rand_int_range(g, 0, 6)) {
    case 0: return g_rand_int_range(g, 0, RAM_SIZE);
    case 1: return RAM_SIZE - g_rand_int_range(g, 0, 4096);
    case 2: return MMIO + g_rand_int_range(g, 0, 0x4000);
    case 3: return (uint64_t)g_rand_int(g) << 32 | g_rand_int(g);
    case 4: return 0xfffff000u + g_rand_int_range(g, 0, 4096);
    default: return g_rand_int(g);
    }
}

static uint32_t fuzz_value(GRand *g)
{
    switch (g_rand_int_range(g, 0, 5)) {
    case 0: return 0;
    case 1: return 0xffffffffu;
    case 2: return 1u << g_rand_int_range(g, 0, 32);
    case 3: return (uint32_t)fuzz_addr(g);
    default: return g_rand_int(g);
    }
}

static void fuzz_ram(Rig *r, GRand *g)
{
    /* Descriptors and ring entries: plausible shapes at random places,
       and in the rings the tests above use. */
    static const uint32_t spots[] = { CP_TXRING, CP_RXRING, VQ_RX, VQ_TX,
                                      VQ_RX + 16 * QN, VQ_TX + 16 * QN,
                                      VQ_RX + 0x2000, VQ_TX + 0x2000 };
    uint32_t base = g_rand_boolean(g)
        ? spots[g_rand_int_range(g, 0, G_N_ELEMENTS(spots))]
        : (uint32_t)g_rand_int_range(g, 0, RAM_SIZE / 16) * 16;
    int n = g_rand_int_range(g, 1, 32);
    for (int i = 0; i < n && base + 16 * (i + 1) <= RAM_SIZE; i++) {
        uint8_t *d = r->ram + base + 16 * i;
        uint64_t a = fuzz_addr(g);
        nic_put_le32(d, g_rand_boolean(g) ? (uint32_t)a : fuzz_value(g));
        nic_put_le32(d + 4, g_rand_boolean(g) ? 0 : a >> 32);
        nic_put_le32(d + 8, g_rand_boolean(g) ? (uint32_t)a : fuzz_value(g));
        nic_put_le32(d + 12, fuzz_value(g));
        if (g_rand_boolean(g)) {
            d[3] |= 0x80; /* owned by the card */
            nic_put_le16(d + 14, g_rand_int_range(g, 0, QN + 4));
        }
    }
}

static void fuzz_frame(Rig *r, GRand *g, uint8_t *frame)
{
    size_t len = g_rand_int_range(g, 0, 8)
        ? g_rand_int_range(g, 0, 1600)
        : g_rand_int_range(g, 0, NET_MAX_FRAME + 8);
    for (size_t i = 0; i < len; i += 4) {
        guint32 v = g_rand_int(g);
        memcpy(frame + i, &v, 4);
    }
    if (len >= 6 && g_rand_int_range(g, 0, 4)) {
        memcpy(frame, g_rand_boolean(g) ? MAC : BCAST, 6);
    }
    if (len >= 54 && g_rand_boolean(g)) {
        tcp_frame(frame, len - 54);
    }
    net_send(r->peer, frame, len);
}

static void fuzz_regs(Rig *r, Kind kind, GRand *g)
{
    unsigned size = 1u << g_rand_int_range(g, 0, 3);
    unsigned span = kind == RTL ? 0x100 : kind == VIRTIO ? 0x40 : 0x20;
    unsigned off = g_rand_int_range(g, 0, span) & ~(size - 1);
    if (kind == NE_PCI || kind == NE_ISA) {
        /* ring registers at their edges (the 8390 CVE classes) */
        if (g_rand_int_range(g, 0, 4) == 0) {
            static const uint8_t edge[] = { 0, 1, 0x3f, 0x40, 0x41, 0x7f,
                                            0x80, 0xbf, 0xc0, 0xff };
            outb(r, 0, (g_rand_int_range(g, 0, 2) << 6) | 0x22);
            outb(r, g_rand_int_range(g, 1, 8),
                 edge[g_rand_int_range(g, 0, G_N_ELEMENTS(edge))]);
            return;
        }
    }
    if (kind == VIRTIO && g_rand_boolean(g)) {
        unsigned w = g_rand_int_range(g, 0, 0x4000) & ~(size - 1);
        if (g_rand_boolean(g)) {
            memmap_write_sized(r->mem, MMIO + w, fuzz_value(g), size);
        } else {
            memmap_read_sized(r->mem, MMIO + w, size);
        }
        return;
    }
    if (kind == RTL && g_rand_int_range(g, 0, 4) == 0) {
        memmap_write_sized(r->mem, MMIO + off, fuzz_value(g), size);
        return;
    }
    if (g_rand_int_range(g, 0, 3)) {
        ioport_write(r->io, IOBAR + off, fuzz_value(g), size);
    } else {
        ioport_read(r->io, IOBAR + off, size);
    }
}

static void fuzz_setup(Rig *r, Kind kind, GRand *g)
{
    switch (kind) {
    case RTL:
        outb(r, 0x37, 0x10);
        if (g_rand_boolean(g)) {
            outw(r, 0xe0, 3);
            outl(r, 0x20, CP_TXRING);
            outl(r, 0xe4, CP_RXRING);
        } else {
            outl(r, 0x30, RXRING_ADDR);
            outl(r, 0x44, 0x8f);
        }
        outb(r, 0x37, 0x0c);
        outw(r, 0x3c, 0xffff);
        break;
    case NE_PCI: case NE_ISA:
        ne_init(r);
        break;
    case VIRTIO:
        memset(r->ram + VQ_RX, 0, 0x3000);
        memset(r->ram + VQ_TX, 0, 0x3000);
        outb(r, 0x12, 0);
        outw(r, 0x0e, 0);
        outl(r, 0x08, VQ_RX >> 12);
        outw(r, 0x0e, 1);
        outl(r, 0x08, VQ_TX >> 12);
        outl(r, 0x04, g_rand_int(g));
        outb(r, 0x12, 7);
        break;
    }
}

static void test_fuzz(gconstpointer data)
{
    Kind kind = GPOINTER_TO_INT(data);
    const char *seed_env = g_getenv("MIMIC_FUZZ_SEED");
    guint32 seed = seed_env ? (guint32)g_ascii_strtoull(seed_env, NULL, 10)
                            : (guint32)g_test_rand_int();
    double budget = g_test_slow() ? 30.0 : 2.0;
    const char *env = g_getenv("MIMIC_FUZZ_SECONDS");
    if (env) {
        budget = g_ascii_strtod(env, NULL);
    }
    g_test_message("seed %u, %.0f s", seed, budget);
    GRand *g = g_rand_new_with_seed(seed);
    Rig *r = rig_new(kind);
    fuzz_setup(r, kind, g);
    uint8_t *frame = g_malloc(NET_MAX_FRAME + 16);
    GTimer *t = g_timer_new();
    uint64_t ops = 0, rx_before = net_port_stats(r->nic)->rx_frames;
    while (g_timer_elapsed(t, NULL) < budget) {
        for (int k = 0; k < 256; k++, ops++) {
            switch (g_rand_int_range(g, 0, 8)) {
            case 0: case 1: case 2:
                fuzz_regs(r, kind, g);
                break;
            case 3:
                fuzz_ram(r, g);
                break;
            case 4: case 5:
                fuzz_frame(r, g, frame);
                break;
            case 6:
                /* kick the transmitters */
                if (kind == RTL) {
                    outb(r, 0xd9, 0x40);
                    outl(r, 0x10 + 4 * g_rand_int_range(g, 0, 4),
                         g_rand_int(g) & 0x1fff);
                } else if (kind == VIRTIO) {
                    /* a plausible chain: header and frame, lengths and
                       addresses from anywhere */
                    Vq q;
                    bool tx = g_rand_boolean(g);
                    vq_layout(&q, tx ? VQ_TX : VQ_RX);
                    q.avail_idx = nic_le16(r->ram + q.avail + 2);
                    uint64_t a[2] = { VBUF, g_rand_boolean(g)
                                      ? VBUF + 0x1000 : fuzz_addr(g) };
                    uint32_t l[2] = { 12, g_rand_boolean(g)
                                      ? g_rand_int_range(g, 0, 2000)
                                      : fuzz_value(g) };
                    bool w[2] = { !tx, !tx };
                    if (tx && l[1] < 2000) {
                        memset(r->ram + VBUF, 0, 12);
                        r->ram[VBUF] = g_rand_int_range(g, 0, 2);
                        r->ram[VBUF + 1] = g_rand_int_range(g, 0, 2);
                        nic_put_le16(r->ram + VBUF + 4,
                                     g_rand_int_range(g, 0, 1500));
                        nic_put_le16(r->ram + VBUF + 6,
                                     g_rand_int_range(g, 0, 100));
                        nic_put_le16(r->ram + VBUF + 8,
                                     g_rand_int_range(g, 0, 40));
                        if (l[1] >= 54) {
                            tcp_frame(r->ram + VBUF + 0x1000, l[1] - 54);
                        }
                    }
                    vq_add(r, &q, g_rand_int_range(g, 0, QN), a, l, w, 2);
                    outw(r, 0x10, tx ? 1 : g_rand_int_range(g, 0, 3));
                } else {
                    outb(r, 0x00, 0x26);
                }
                break;
            default:
                if (kind == NE_PCI || kind == NE_ISA) {
                    ioport_read(r->io, IOBAR + 0x10,
                                1u << g_rand_int_range(g, 0, 3));
                } else {
                    fuzz_regs(r, kind, g);
                }
                break;
            }
        }
        g_ptr_array_set_size(r->frames, 0);
        if (g_rand_int_range(g, 0, 4) == 0) {
            fuzz_setup(r, kind, g); /* sane again */
        }
    }
    uint64_t rx = net_port_stats(r->nic)->rx_frames - rx_before;
    g_test_message("%" G_GUINT64_FORMAT " operations, %" G_GUINT64_FORMAT
                   " frames sent by the card, %" G_GUINT64_FORMAT
                   " taken by it", ops, r->total, rx);
    /* The fuzz must reach both directions, or it tests nothing. */
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
    g_test_add_func("/hw/rtl8139/eeprom", test_rtl_eeprom);
    g_test_add_func("/hw/rtl8139/classic", test_rtl_classic);
    g_test_add_func("/hw/rtl8139/cplus", test_rtl_cplus);
    g_test_add_data_func("/hw/ne2k_pci/prom", GINT_TO_POINTER(NE_PCI),
                         test_ne_prom);
    g_test_add_data_func("/hw/ne2k_isa/prom", GINT_TO_POINTER(NE_ISA),
                         test_ne_prom);
    g_test_add_data_func("/hw/ne2k_pci/tx-rx", GINT_TO_POINTER(NE_PCI),
                         test_ne_tx_rx);
    g_test_add_data_func("/hw/ne2k_isa/tx-rx", GINT_TO_POINTER(NE_ISA),
                         test_ne_tx_rx);
    g_test_add_func("/hw/virtio-net/legacy", test_virtio_legacy);
    g_test_add_func("/hw/virtio-net/modern", test_virtio_modern);
    g_test_add_data_func("/hw/rtl8139/fuzz", GINT_TO_POINTER(RTL), test_fuzz);
    g_test_add_data_func("/hw/ne2k_pci/fuzz", GINT_TO_POINTER(NE_PCI),
                         test_fuzz);
    g_test_add_data_func("/hw/ne2k_isa/fuzz", GINT_TO_POINTER(NE_ISA),
                         test_fuzz);
    g_test_add_data_func("/hw/virtio-net/fuzz", GINT_TO_POINTER(VIRTIO),
                         test_fuzz);
    return g_test_run();
}
