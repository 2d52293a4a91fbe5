/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usb-ehci on a bare bus: RAM, the PCI bus, the controller with a
 * usb-tablet on port 1 and a usb-storage disk (a raw image in a temporary
 * file) on port 3.  The test plays the host driver: it resets the ports,
 * enumerates the devices at high speed with control transfers on the
 * asynchronous schedule, writes and reads the disk with bulk-only
 * commands whose data spans 20 KiB qTDs and page boundaries, and polls
 * the tablet through an interrupt queue head of the periodic schedule.
 * Then the classes of QEMU's EHCI CVEs: queue-head loops that miss the
 * ring's head, qTD rings, periodic lists that loop through iTDs and
 * queue heads, schedules and buffers outside RAM, zero-length and
 * oversized qTDs: every pass ends within its descriptor budget.
 */
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "bus/device.h"
#include "hw/pci/pci.h"
#include "hw/usb/ehci.h"
#include "hw/usb/hid.h"
#include "hw/usb/storage.h"
#include "images/block.h"

#define RAM_SIZE (1u << 20)
#define MMIO 0xfeb00000u
#define OP (MMIO + 0x20)
#define PFL 0x10000  /* periodic frame list */
#define AQH 0x20000  /* the async ring's queue head */
#define IQH 0x20100  /* an interrupt queue head */
#define QTD 0x21000  /* qTD i at QTD + 32 * i */
#define BUF 0x30000
#define DISK_SECTORS 512

#define ACTIVE (1u << 7)
#define HALTED (1u << 6)
#define BUFERR (1u << 5)
#define XACT (1u << 3)
#define IOC (1u << 15)
#define PID_OUT 0
#define PID_IN 1
#define PID_SETUP 2

typedef struct Rig {
    MemMap *mem;
    IoSpace *io;
    Clock *clock;
    MachineBuses bus;
    DeviceList *devs;
    PciBus *pci;
    uint8_t *ram;
    Ehci *ehci;
    UsbHid *tablet;
    UsbStorage *disk;
    BlockDev *blk;
    char *path;
    bool level;
} Rig;

static void on_irq(void *opaque, bool level)
{
    ((Rig *)opaque)->level = level;
}

static void put32(Rig *r, uint32_t a, uint32_t v)
{
    memmap_write_sized(r->mem, a, v, 4);
}

static uint32_t get32(Rig *r, uint32_t a)
{
    return memmap_read_sized(r->mem, a, 4);
}

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
    r->ehci = (Ehci *)device_new(r->devs, &ehci_info, &r->bus, "ehci");
    r->ehci->bus = r->pci;
    r->ehci->devfn = 3 << 3;
    r->ehci->set_irq = on_irq;
    r->ehci->irq_opaque = r;
    g_assert_true(device_realize(DEVICE(r->ehci), NULL));
    r->tablet = (UsbHid *)device_new(r->devs, &usb_hid_info, &r->bus,
                                     "tablet");
    r->tablet->kind = USB_HID_TABLET;
    g_assert_true(device_realize(DEVICE(&r->tablet->usb), NULL));
    int fd = g_file_open_tmp("mimic-ehci-XXXXXX", &r->path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, DISK_SECTORS * 512), ==, 0);
    close(fd);
    BlockOpenOptions o = { .format = "raw" };
    GError *err = NULL;
    r->blk = blk_open(r->path, &o, &err);
    g_assert_no_error(err);
    r->disk = (UsbStorage *)device_new(r->devs, &usb_storage_info, &r->bus,
                                       "disk");
    r->disk->blk = r->blk;
    g_assert_true(device_realize(DEVICE(&r->disk->usb), NULL));
    usb_port_attach(&r->ehci->ports[0], &r->tablet->usb);
    usb_port_attach(&r->ehci->ports[2], &r->disk->usb);
    pci_config_write(r->pci, r->ehci->devfn, 0x10, MMIO, 4);
    pci_config_write(r->pci, r->ehci->devfn, PCI_COMMAND, 6, 2);
    return r;
}

static void rig_free(Rig *r)
{
    device_list_free(r->devs);
    blk_close(r->blk);
    g_unlink(r->path);
    g_free(r->path);
    pci_bus_free(r->pci);
    clock_free(r->clock);
    ioport_free(r->io);
    memmap_free(r->mem);
    g_free(r->ram);
    g_free(r);
}

/* n microframes of virtual time. */
static void uframes(Rig *r, int n)
{
    for (int i = 0; i < n; i++) {
        r->clock->icount += 125000;
        clock_run_timers(r->clock);
    }
}

static void port_reset(Rig *r, int port)
{
    uint32_t a = OP + 0x44 + 4 * port;
    put32(r, a, 0x100);
    g_assert_cmphex(get32(r, a) & 4, ==, 0);
    put32(r, a, 0);
    g_assert_cmphex(get32(r, a) & 0x107, ==, 0x7); /* CCS, CSC, PE */
    put32(r, a, 6);                                /* clear CSC */
    g_assert_cmphex(get32(r, a) & 0x3007, ==, 0x1005);
}

/* Configured, running, the async ring one queue head (AQH, linked to
   itself) and every frame list entry pointing at IQH. */
static void start(Rig *r)
{
    g_assert_cmphex(get32(r, MMIO) & 0xff, ==, 0x20);
    g_assert_cmphex(get32(r, MMIO + 4) & 0xf, ==, EHCI_PORTS);
    g_assert_cmphex(memmap_read_sized(r->mem, MMIO + 2, 2), ==, 0x100);
    put32(r, OP + 0x40, 1); /* CONFIGFLAG: the ports are ours */
    for (int i = 0; i < 1024; i++) {
        put32(r, PFL + 4 * i, IQH | 2);
    }
    memset(r->ram + AQH, 0, 48);
    put32(r, AQH, AQH | 2);
    put32(r, AQH + 16, 1);
    put32(r, AQH + 20, 1);
    memset(r->ram + IQH, 0, 48);
    put32(r, IQH, 1);
    put32(r, IQH + 16, 1);
    put32(r, IQH + 20, 1);
    put32(r, OP + 0x14, PFL);
    put32(r, OP + 0x18, AQH);
    put32(r, OP + 8, 0x3f);
    put32(r, OP, 0x00010031); /* RS, PSE, ASE, ITC 1 */
    g_assert_cmphex(get32(r, OP + 4) & 0xd000, ==, 0xc000);
    port_reset(r, 0);
    port_reset(r, 2);
}

/* qTD i: len bytes at buf (any offset), next qTD i + 1 unless last. */
static void qtd(Rig *r, int i, bool last, int pid, uint32_t len,
                uint32_t buf)
{
    uint32_t a = QTD + 32 * i;
    put32(r, a, last ? 1 : QTD + 32 * (i + 1));
    put32(r, a + 4, 1);
    put32(r, a + 8, ACTIVE | pid << 8 | 3u << 10 | (last ? IOC : 0) |
          len << 16);
    for (int k = 0; k < 5; k++) {
        put32(r, a + 12 + 4 * k, k ? (buf & ~0xfffu) + 0x1000 * k : buf);
    }
}

static uint32_t qtd_token(Rig *r, int i)
{
    return get32(r, QTD + 32 * i + 8);
}

/* Point queue head qh at endpoint (addr, ep) and qTD 0; run until qTD
   last is done (or max microframes). */
static void run_qh(Rig *r, uint32_t qh, int addr, int ep, int maxp,
                   bool dtc, int last, int max)
{
    put32(r, qh + 4, addr | ep << 8 | 2u << 12 | (dtc ? 1u << 14 : 0) |
          (uint32_t)maxp << 16 | (qh == AQH ? 1u << 15 : 0));
    put32(r, qh + 8, 1u << 30 | (qh == IQH ? 1 : 0));
    put32(r, qh + 16, QTD);
    put32(r, qh + 20, 1);
    put32(r, qh + 24, 0);
    for (int i = 0; i < max && (qtd_token(r, last) & ACTIVE); i++) {
        uframes(r, 1);
    }
}

/* A control transfer: setup, one data qTD, status.  Returns the bytes
   of the data stage. */
static int control(Rig *r, int addr, const uint8_t setup[8], uint8_t *data,
                   int len)
{
    memcpy(r->ram + BUF, setup, 8);
    bool in = setup[0] & 0x80;
    int n = 0;
    qtd(r, n++, false, PID_SETUP, 8, BUF);
    if (len) {
        if (!in) {
            memcpy(r->ram + BUF + 0x100, data, len);
        }
        qtd(r, n++, false, in ? PID_IN : PID_OUT, len, BUF + 0x100);
    }
    qtd(r, n++, true, in ? PID_OUT : PID_IN, 0, 0);
    run_qh(r, AQH, addr, 0, 64, true, n - 1, 16);
    for (int i = 0; i < n; i++) {
        g_assert_cmphex(qtd_token(r, i) & 0xff, ==, 0);
    }
    if (in && len) {
        memcpy(data, r->ram + BUF + 0x100, len);
    }
    return len ? len - (qtd_token(r, 1) >> 16 & 0x7fff) : 0;
}

static void set_address(Rig *r, int addr)
{
    const uint8_t s[8] = { 0, 5, addr, 0, 0, 0, 0, 0 };
    control(r, 0, s, NULL, 0);
    const uint8_t c[8] = { 0, 9, 1, 0, 0, 0, 0, 0 };
    control(r, addr, c, NULL, 0);
}

static void test_enumerate(void)
{
    Rig *r = rig_new();
    uint8_t d[64];
    start(r);
    const uint8_t get_dev[8] = { 0x80, 6, 0, 1, 0, 0, 18, 0 };
    /* Both ports are enabled: the tablet is the device at address 0
       first (ports in order). */
    g_assert_cmpint(control(r, 0, get_dev, d, 18), ==, 18);
    g_assert_cmphex(d[2] | d[3] << 8, ==, 0x200);
    g_assert_cmpint(d[7], ==, 64);
    g_assert_cmphex(d[8] | d[9] << 8, ==, 0x0627);
    g_assert_true(r->level); /* IOC */
    g_assert_cmphex(get32(r, OP + 4) & 1, ==, 1);
    put32(r, OP + 4, 1);
    g_assert_true(r->level); /* PCD: the ports' connections */
    g_assert_cmphex(get32(r, OP + 4) & 0x3f, ==, 4);
    put32(r, OP + 4, 4);
    g_assert_false(r->level);
    set_address(r, 1);
    set_address(r, 2);
    g_assert_cmpint(r->tablet->usb.addr, ==, 1);
    g_assert_cmpint(r->disk->usb.addr, ==, 2);
    /* The disk's high-speed configuration: 512-byte bulk packets. */
    const uint8_t get_cfg[8] = { 0x80, 6, 0, 2, 0, 0, 32, 0 };
    g_assert_cmpint(control(r, 2, get_cfg, d, 32), ==, 32);
    g_assert_cmphex(d[18 + 4] | d[18 + 5] << 8, ==, 512);
    /* A data stage longer than the answer: short, its bytes left. */
    const uint8_t get_dev64[8] = { 0x80, 6, 0, 1, 0, 0, 64, 0 };
    g_assert_cmpint(control(r, 2, get_dev64, d, 64), ==, 18);
    /* The tablet through the periodic schedule: NAKed while nothing
       moves, then the report. */
    qtd(r, 0, true, PID_IN, 8, BUF + 0x200);
    run_qh(r, IQH, 1, 1, 8, false, 0, 24);
    g_assert_cmphex(qtd_token(r, 0) & 0xff, ==, ACTIVE);
    usb_hid_pointer_abs(r->tablet, 0x1234, 0x4321, 0, 1);
    uframes(r, 9);
    g_assert_cmphex(qtd_token(r, 0) & 0xff, ==, 0);
    g_assert_cmphex(qtd_token(r, 0) >> 16 & 0x7fff, ==, 2);
    const uint8_t want[6] = { 1, 0x34, 0x12, 0x21, 0x43, 0 };
    g_assert_cmpmem(r->ram + BUF + 0x200, 6, want, 6);
    /* FRINDEX counts microframes. */
    uint32_t f0 = get32(r, OP + 0x0c);
    uframes(r, 8);
    g_assert_cmpuint((get32(r, OP + 0x0c) - f0) & 0x3fff, ==, 8);
    rig_free(r);
}

/* A bulk-only command with its data in qTDs of at most 20 KiB from
   buffer offset 0x123 (every qTD crosses pages).  The CSW status. */
static int bot(Rig *r, const uint8_t *cb, int cb_len, bool in,
               uint8_t *data, uint32_t len)
{
    static uint32_t tag = 1;
    uint8_t cbw[31] = { 'U', 'S', 'B', 'C' };
    usb_put_le32(cbw + 4, tag);
    usb_put_le32(cbw + 8, len);
    cbw[12] = in ? 0x80 : 0;
    cbw[14] = cb_len;
    memcpy(cbw + 15, cb, cb_len);
    memcpy(r->ram + BUF, cbw, 31);
    qtd(r, 0, true, PID_OUT, 31, BUF);
    run_qh(r, AQH, 2, 2, 512, false, 0, 8);
    g_assert_cmphex(qtd_token(r, 0) & 0xff, ==, 0);
    int n = 0;
    uint32_t base = 0x40000 + 0x123;
    if (!in) {
        memcpy(r->ram + base, data, len);
    }
    for (uint32_t off = 0; off < len; off += 0x4000) {
        uint32_t k = MIN(0x4000u, len - off);
        qtd(r, n, off + k >= len, in ? PID_IN : PID_OUT, k, base + off);
        n++;
    }
    run_qh(r, AQH, 2, in ? 1 : 2, 512, false, n - 1, 8);
    for (int i = 0; i < n; i++) {
        g_assert_cmphex(qtd_token(r, i) & 0xff, ==, 0);
        g_assert_cmphex(qtd_token(r, i) >> 16 & 0x7fff, ==, 0);
    }
    if (in) {
        memcpy(data, r->ram + base, len);
    }
    qtd(r, 0, true, PID_IN, 13, BUF + 0x800);
    run_qh(r, AQH, 2, 1, 512, false, 0, 8);
    const uint8_t *csw = r->ram + BUF + 0x800;
    g_assert_cmpmem(csw, 4, "USBS", 4);
    g_assert_cmpuint(usb_le32(csw + 4), ==, tag);
    tag++;
    return csw[12];
}

static void test_storage(void)
{
    Rig *r = rig_new();
    start(r);
    set_address(r, 1);
    set_address(r, 2);
    /* 100 KiB: the storage's 64 KiB buffer refills inside a qTD. */
    uint32_t len = 200 * 512;
    uint8_t *out = g_malloc(len), *back = g_malloc0(len);
    for (uint32_t i = 0; i < len; i++) {
        out[i] = i * 7 + (i >> 9);
    }
    const uint8_t wr[10] = { 0x2a, 0, 0, 0, 0, 10, 0, 0, 200, 0 };
    g_assert_cmpint(bot(r, wr, 10, false, out, len), ==, 0);
    const uint8_t rd[10] = { 0x28, 0, 0, 0, 0, 10, 0, 0, 200, 0 };
    g_assert_cmpint(bot(r, rd, 10, true, back, len), ==, 0);
    g_assert_cmpmem(back, len, out, len);
    GError *err = NULL;
    g_assert_true(blk_pread(r->blk, 10 * 512, back, len, &err));
    g_assert_cmpmem(back, len, out, len);
    g_free(out);
    g_free(back);
    rig_free(r);
}

/* Schedules a hostile driver builds: each pass ends, within budget. */
static void test_schedule_abuse(void)
{
    Rig *r = rig_new();
    start(r);
    set_address(r, 1);
    set_address(r, 2);
    Ehci *s = r->ehci;
    /* Oversized: 0x7fff bytes; a buffer past the fifth page. */
    qtd(r, 0, true, PID_IN, 0x7fff, BUF);
    run_qh(r, AQH, 2, 1, 512, false, 0, 4);
    g_assert_cmphex(qtd_token(r, 0) & 0xff, ==, HALTED | BUFERR);
    g_assert_cmphex(get32(r, OP + 4) & 2, ==, 2); /* USBERRINT */
    qtd(r, 0, true, PID_IN, 0x5000, BUF + 0x10);
    run_qh(r, AQH, 2, 1, 512, false, 0, 4);
    g_assert_cmphex(qtd_token(r, 0) & 0xff, ==, HALTED | BUFERR);
    /* Zero-length to a device nobody has: a transaction error. */
    qtd(r, 0, true, PID_OUT, 0, 0);
    run_qh(r, AQH, 77, 1, 512, false, 0, 4);
    g_assert_cmphex(qtd_token(r, 0) & 0xff, ==, HALTED | XACT);
    /* Buffers outside RAM: the DMA reads ones and drops writes. */
    const uint8_t get_dev[8] = { 0x80, 6, 0, 1, 0, 0, 18, 0 };
    memcpy(r->ram + BUF, get_dev, 8);
    qtd(r, 0, false, PID_SETUP, 8, BUF);
    qtd(r, 1, true, PID_IN, 18, 0xfffffff0u);
    run_qh(r, AQH, 2, 0, 64, true, 1, 4);
    g_assert_cmphex(qtd_token(r, 1) & 0xff, ==, 0);
    /* A qTD ring of SETUPs: each runs once, the ring ends. */
    for (int i = 0; i < 8; i++) {
        qtd(r, i, false, PID_SETUP, 8, BUF);
    }
    put32(r, QTD + 32 * 7, QTD);
    uint64_t before = s->qtds_run;
    run_qh(r, AQH, 2, 0, 64, true, 7, 4);
    g_assert_cmpuint(s->qtds_run - before, ==, 8);
    /* Queue heads looping without the ring's head (A -> B -> C -> B),
       qTD pointers outside RAM, the ring leaving RAM. */
    uint32_t qa = 0x50000, qb = 0x50100, qc = 0x50200;
    for (uint32_t q = qa; q <= qc; q += 0x100) {
        memset(r->ram + q, 0, 48);
        put32(r, q + 4, 2 | 2u << 12 | 64u << 16);
        put32(r, q + 16, 0xffffffe0u); /* next qTD outside RAM */
        put32(r, q + 20, 1);
    }
    put32(r, qa, qb | 2);
    put32(r, qb, qc | 2);
    put32(r, qc, qb | 2);
    put32(r, OP + 0x18, qa);
    before = s->passes;
    uframes(r, 8);
    g_assert_cmpuint(s->passes, >, before);
    g_assert_cmpuint(s->pass_steps, <=, 4096 + 64);
    put32(r, OP + 0x18, 0xfffff000u);
    uframes(r, 8);
    /* A ring of active qTDs that the device keeps NAKing (the tablet's
       interrupt endpoint) through a queue head ring of 200 heads. */
    for (int i = 0; i < 200; i++) {
        uint32_t q = 0x60000 + 64 * i;
        memset(r->ram + q, 0, 48);
        put32(r, q, (0x60000 + 64 * ((i + 1) % 200)) | 2);
        put32(r, q + 4, 1 | 1u << 8 | 2u << 12 | 8u << 16);
        put32(r, q + 16, QTD);
        put32(r, q + 20, 1);
    }
    qtd(r, 0, true, PID_IN, 8, BUF);
    put32(r, OP + 0x18, 0x60000);
    uframes(r, 8);
    g_assert_cmpuint(s->pass_steps, <=, 4096 + 64);
    /* Periodic lists: an iTD linked to itself, a queue-head loop. */
    put32(r, 0x70000, 0x70000); /* iTD, next: itself */
    put32(r, 0x70100, 0x70200 | 2);
    put32(r, 0x70200, 0x70100 | 2);
    for (int i = 0; i < 1024; i++) {
        put32(r, PFL + 4 * i, i & 1 ? 0x70000 : 0x70100 | 2);
    }
    uframes(r, 32);
    /* The periodic list outside RAM. */
    put32(r, OP + 0x14, 0xfffff000u);
    uframes(r, 16);
    /* Registers: a halt stops the passes, HCRESET restores defaults. */
    put32(r, OP, 0);
    g_assert_cmphex(get32(r, OP + 4) & 0x1000, ==, 0x1000);
    before = s->passes;
    uframes(r, 16);
    g_assert_cmpuint(s->passes, ==, before);
    put32(r, OP, 2);
    g_assert_cmphex(get32(r, OP), ==, 0x00080000);
    g_assert_cmphex(get32(r, OP + 0x44) & 0x3001, ==, 0x3001);
    rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/usb/ehci-enumerate", test_enumerate);
    g_test_add_func("/hw/usb/ehci-storage", test_storage);
    g_test_add_func("/hw/usb/ehci-schedule-abuse", test_schedule_abuse);
    return g_test_run();
}
