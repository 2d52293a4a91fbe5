/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The USB stack on a bare bus: RAM, the PCI bus, the PIIX3 UHCI with a
 * usb-tablet on port 1 and a usb-storage disk (a raw image in a
 * temporary file) on port 2.  The test plays the host driver: it builds
 * frame lists, queue heads and transfer descriptors in RAM, enumerates
 * the devices with control transfers, moves the tablet, and reads and
 * writes the disk through bulk-only CBW/CSW; then the schedule classes
 * of QEMU's USB CVEs (queue-head and TD loops, pointers outside RAM,
 * oversized and zero-length TDs) must end each frame, and a bounded
 * fuzz throws random registers and schedules at it (MIMIC_FUZZ_SEED=N
 * replays one run, MIMIC_FUZZ_SECONDS=S sets its length, 2 s by
 * default).
 */
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "bus/device.h"
#include "hw/pci/pci.h"
#include "hw/usb/hid.h"
#include "hw/usb/hub.h"
#include "hw/usb/storage.h"
#include "hw/usb/uhci.h"
#include "images/block.h"

#define RAM_SIZE (1u << 20)
#define IOBAR 0xc000
#define FL 0x10000     /* frame list */
#define QH 0x20000
#define TDS 0x21000    /* TD i at TDS + 32 * i */
#define BUF 0x30000
#define DISK_SECTORS 256

typedef struct Rig {
    MemMap *mem;
    IoSpace *io;
    Clock *clock;
    MachineBuses bus;
    DeviceList *devs;
    PciBus *pci;
    uint8_t *ram;
    Uhci *uhci;
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

static Rig *rig_new(bool read_only)
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
    r->uhci = (Uhci *)device_new(r->devs, &uhci_info, &r->bus, "uhci");
    r->uhci->bus = r->pci;
    r->uhci->devfn = 1 << 3 | 2;
    r->uhci->set_irq = on_irq;
    r->uhci->irq_opaque = r;
    g_assert_true(device_realize(DEVICE(r->uhci), NULL));
    r->tablet = (UsbHid *)device_new(r->devs, &usb_hid_info, &r->bus,
                                     "tablet");
    r->tablet->kind = USB_HID_TABLET;
    g_assert_true(device_realize(DEVICE(&r->tablet->usb), NULL));
    int fd = g_file_open_tmp("mimic-usb-XXXXXX", &r->path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, DISK_SECTORS * 512), ==, 0);
    close(fd);
    BlockOpenOptions o = { .format = "raw", .read_only = read_only };
    GError *err = NULL;
    r->blk = blk_open(r->path, &o, &err);
    g_assert_no_error(err);
    r->disk = (UsbStorage *)device_new(r->devs, &usb_storage_info, &r->bus,
                                       "disk");
    r->disk->blk = r->blk;
    g_assert_true(device_realize(DEVICE(&r->disk->usb), NULL));
    usb_port_attach(&r->uhci->ports[0], &r->tablet->usb);
    usb_port_attach(&r->uhci->ports[1], &r->disk->usb);
    pci_config_write(r->pci, r->uhci->devfn, 0x20, IOBAR, 4);
    pci_config_write(r->pci, r->uhci->devfn, PCI_COMMAND, 5, 2);
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

static void put32(Rig *r, uint32_t a, uint32_t v)
{
    memmap_write_sized(r->mem, a, v, 4);
}

static uint32_t get32(Rig *r, uint32_t a)
{
    return memmap_read_sized(r->mem, a, 4);
}

static void outw(Rig *r, int reg, uint16_t v)
{
    ioport_write(r->io, IOBAR + reg, v, 2);
}

static uint16_t inw(Rig *r, int reg)
{
    return ioport_read(r->io, IOBAR + reg, 2);
}

/* Run n frames (1 ms of virtual time each). */
static void frames(Rig *r, int n)
{
    for (int i = 0; i < n; i++) {
        r->clock->icount += 1000000;
        clock_run_timers(r->clock);
    }
}

/* The controller running with every frame pointing at QH, and both
   ports reset and enabled. */
static void start(Rig *r)
{
    for (int i = 0; i < 1024; i++) {
        put32(r, FL + 4 * i, QH | 2);
    }
    put32(r, QH, 1);
    put32(r, QH + 4, 1);
    ioport_write(r->io, IOBAR + 8, FL, 4);
    outw(r, 4, 0xf);
    for (int p = 0; p < 2; p++) {
        outw(r, 0x10 + 2 * p, 0x200);
        outw(r, 0x10 + 2 * p, 0x000);
        outw(r, 0x10 + 2 * p, 0x00e); /* enable, clear the changes */
        g_assert_cmphex(inw(r, 0x10 + 2 * p), ==, 0x95);
    }
    outw(r, 0, 1);
    g_assert_cmphex(inw(r, 2) & 0x20, ==, 0);
}

#define PID_SETUP 0x2d
#define PID_IN 0x69
#define PID_OUT 0xe1
#define ACTIVE (1u << 23)
#define IOC (1u << 24)
#define SPD (1u << 29)

/* TD i: a transfer of len bytes at buf; linked depth-first to TD i+1
   unless last. */
static void td(Rig *r, int i, bool last, uint8_t pid, int addr, int ep,
               int len, uint32_t buf)
{
    uint32_t a = TDS + 32 * i;
    put32(r, a, last ? 1 : (TDS + 32 * (i + 1)) | 4);
    put32(r, a + 4, ACTIVE | (last ? IOC : 0) | (3u << 27));
    put32(r, a + 8, pid | addr << 8 | ep << 15 |
          (uint32_t)((len - 1) & 0x7ff) << 21);
    put32(r, a + 12, buf);
}

static uint32_t td_status(Rig *r, int i)
{
    return get32(r, TDS + 32 * i + 4);
}

/* Queue TDs 0..last and run until the queue is done (or max frames).
   A short packet stops the queue (SPD): go on with the last TD, as a
   driver does for the status stage or the CSW. */
static void run_queue(Rig *r, int last, int max)
{
    put32(r, QH + 4, TDS);
    for (int i = 0; i < max && !(get32(r, QH + 4) & 1); i++) {
        uint32_t elem = get32(r, QH + 4) & ~0xfu;
        if (!(get32(r, elem + 4) & ACTIVE)) {
            put32(r, QH + 4, TDS + 32 * last);
        }
        frames(r, 1);
    }
}

/* A control transfer: setup, IN or OUT data in pieces of 8, status. */
static int control(Rig *r, int addr, const uint8_t setup[8], uint8_t *data,
                   int len)
{
    memcpy(r->ram + BUF, setup, 8);
    int n = 0;
    td(r, n++, false, PID_SETUP, addr, 0, 8, BUF);
    bool in = setup[0] & 0x80;
    for (int off = 0; off < len; off += 8) {
        if (!in) {
            memcpy(r->ram + BUF + 0x100 + off, data + off, MIN(8, len - off));
        }
        td(r, n++, false, in ? PID_IN : PID_OUT, addr, 0,
           MIN(8, len - off), BUF + 0x100 + off);
    }
    td(r, n++, true, in ? PID_OUT : PID_IN, addr, 0, 0, 0);
    run_queue(r, n - 1, 10);
    int got = 0;
    for (int i = 0; i < n; i++) {
        uint32_t st = td_status(r, i);
        g_assert_cmphex(st & (0xffu << 16), ==, 0);
        if (i > 0 && i < n - 1) {
            got += ((st & 0x7ff) + 1) & 0x7ff;
        }
    }
    if (in) {
        memcpy(data, r->ram + BUF + 0x100, len);
    }
    return got;
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
    Rig *r = rig_new(false);
    start(r);
    uint8_t d[18];
    const uint8_t get_dev[8] = { 0x80, 6, 0, 1, 0, 0, 18, 0 };
    /* Port 1 (the tablet) answers address 0 first. */
    g_assert_cmpint(control(r, 0, get_dev, d, 18), ==, 18);
    g_assert_cmphex(d[0], ==, 18);
    g_assert_cmphex(d[8] | d[9] << 8, ==, 0x0627);
    g_assert_true(r->level); /* IOC */
    g_assert_cmphex(inw(r, 2) & 1, ==, 1);
    outw(r, 2, 1);
    g_assert_false(r->level);
    set_address(r, 1);
    set_address(r, 2);
    g_assert_cmpint(r->tablet->usb.addr, ==, 1);
    g_assert_cmpint(r->disk->usb.addr, ==, 2);
    g_assert_cmpint(control(r, 2, get_dev, d, 18), ==, 18);
    g_assert_cmphex(d[8] | d[9] << 8, ==, 0x46f4);
    /* The tablet's report descriptor and a position. */
    uint8_t rep[80];
    const uint8_t get_rep[8] = { 0x81, 6, 0, 0x22, 0, 0, 74, 0 };
    g_assert_cmpint(control(r, 1, get_rep, rep, 74), ==, 74);
    g_assert_cmphex(rep[0], ==, 0x05);
    td(r, 0, true, PID_IN, 1, 1, 8, BUF);
    put32(r, QH + 4, TDS);
    frames(r, 3);
    g_assert_cmphex(td_status(r, 0) & ACTIVE, ==, ACTIVE); /* NAK */
    usb_hid_pointer_abs(r->tablet, 0x1234, 0x4321, 0, 1);
    frames(r, 1);
    g_assert_cmphex(td_status(r, 0) & (ACTIVE | 0x7ff), ==, 5);
    const uint8_t want[6] = { 1, 0x34, 0x12, 0x21, 0x43, 0 };
    g_assert_cmpmem(r->ram + BUF, 6, want, 6);
    rig_free(r);
}

/* A bulk-only command: CBW, data (IN or OUT, in 64-byte packets), CSW.
   Returns the CSW status. */
static int bot(Rig *r, const uint8_t *cb, int cb_len, bool in, uint8_t *data,
               int len)
{
    static uint32_t tag = 1;
    uint8_t cbw[31] = { 'U', 'S', 'B', 'C' };
    cbw[4] = tag;
    cbw[8] = len;
    cbw[9] = len >> 8;
    cbw[10] = len >> 16;
    cbw[12] = in ? 0x80 : 0;
    cbw[14] = cb_len;
    memcpy(cbw + 15, cb, cb_len);
    memcpy(r->ram + BUF, cbw, 31);
    int n = 0;
    td(r, n++, false, PID_OUT, 2, 2, 31, BUF);
    for (int off = 0; off < len; off += 64) {
        if (!in) {
            memcpy(r->ram + BUF + 0x1000 + off, data + off,
                   MIN(64, len - off));
        }
        td(r, n, false, in ? PID_IN : PID_OUT, 2, in ? 1 : 2,
           MIN(64, len - off), BUF + 0x1000 + off);
        if (in) {
            put32(r, TDS + 32 * n + 4, td_status(r, n) | SPD);
        }
        n++;
    }
    td(r, n++, true, PID_IN, 2, 1, 13, BUF + 0x800);
    run_queue(r, n - 1, 200);
    g_assert_cmphex(get32(r, QH + 4), ==, 1);
    if (in) {
        memcpy(data, r->ram + BUF + 0x1000, len);
    }
    const uint8_t *csw = r->ram + BUF + 0x800;
    g_assert_cmpmem(csw, 4, "USBS", 4);
    g_assert_cmpint(csw[4], ==, (uint8_t)tag);
    tag++;
    return csw[12];
}

/* Bandwidth reclamation: a queue head linked to itself whose TDs are
   linked breadth-first (one TD a visit) is gone round again while the
   frame has moved under 1280 bytes: a 4 KiB read (66 TDs) takes a few
   frames, not one frame a TD, and no frame moves more than 1280 bytes
   and the packet that crosses the mark. */
static void test_bandwidth_rounds(void)
{
    Rig *r = rig_new(false);
    start(r);
    set_address(r, 1);
    set_address(r, 2);
    uint8_t cbw[31] = { 'U', 'S', 'B', 'C', 0x77 };
    cbw[9] = 0x10;          /* 4096 bytes */
    cbw[12] = 0x80;         /* in */
    cbw[14] = 10;
    const uint8_t rd10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0 };
    memcpy(cbw + 15, rd10, 10);
    memcpy(r->ram + BUF, cbw, 31);
    int n = 0;
    td(r, n++, false, PID_OUT, 2, 2, 31, BUF);
    for (int off = 0; off < 4096; off += 64) {
        td(r, n++, false, PID_IN, 2, 1, 64, BUF + 0x1000 + off);
    }
    td(r, n++, true, PID_IN, 2, 1, 13, BUF + 0x800);
    for (int i = 0; i < n - 1; i++) {
        put32(r, TDS + 32 * i, get32(r, TDS + 32 * i) & ~4u);
    }
    put32(r, QH, QH | 2);
    put32(r, QH + 4, TDS);
    int nframes = 0;
    while (!(get32(r, QH + 4) & 1) && nframes < 100) {
        frames(r, 1);
        nframes++;
        g_assert_cmpuint(r->uhci->frame_bytes, <=, 1280 + 64);
    }
    g_assert_cmphex(get32(r, QH + 4), ==, 1);
    g_assert_cmpint(nframes, <=, 6);
    g_assert_cmpmem(r->ram + BUF + 0x800, 4, "USBS", 4);
    g_assert_cmphex(r->ram[BUF + 0x800 + 12], ==, 0);
    /* The queue is empty: the loop ends the frame at once. */
    uint64_t before = r->uhci->tds_run;
    frames(r, 3);
    g_assert_cmpuint(r->uhci->tds_run, ==, before);
    put32(r, QH, 1);
    rig_free(r);
}

static void test_storage(void)
{
    Rig *r = rig_new(false);
    start(r);
    set_address(r, 1);
    set_address(r, 2);
    uint8_t buf[4096];
    const uint8_t inquiry[6] = { 0x12, 0, 0, 0, 36, 0 };
    g_assert_cmpint(bot(r, inquiry, 6, true, buf, 36), ==, 0);
    g_assert_cmpmem(buf + 8, 8, "QEMU    ", 8);
    const uint8_t cap[10] = { 0x25 };
    g_assert_cmpint(bot(r, cap, 10, true, buf, 8), ==, 0);
    g_assert_cmphex(buf[3], ==, DISK_SECTORS - 1);
    g_assert_cmphex(buf[6], ==, 2); /* 512-byte blocks */
    /* WRITE(10) 4 sectors at LBA 10, READ(16) them back, on the image. */
    uint8_t pat[2048];
    for (int i = 0; i < 2048; i++) {
        pat[i] = i * 7 + 3;
    }
    const uint8_t wr10[10] = { 0x2a, 0, 0, 0, 0, 10, 0, 0, 4, 0 };
    g_assert_cmpint(bot(r, wr10, 10, false, pat, 2048), ==, 0);
    const uint8_t rd16[16] = { 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 10,
                               0, 0, 0, 4, 0, 0 };
    memset(buf, 0, sizeof(buf));
    g_assert_cmpint(bot(r, rd16, 16, true, buf, 2048), ==, 0);
    g_assert_cmpmem(buf, 2048, pat, 2048);
    uint8_t file[2048];
    g_assert_true(blk_pread(r->blk, 10 * 512, file, 2048, NULL));
    g_assert_cmpmem(file, 2048, pat, 2048);
    /* Past the end: CHECK CONDITION, then ILLEGAL REQUEST / 0x21. */
    const uint8_t rd_end[10] = { 0x28, 0, 0, 0, 0, 0xff, 0, 0, 2, 0 };
    g_assert_cmpint(bot(r, rd_end, 10, true, buf, 1024), ==, 1);
    const uint8_t sense[6] = { 0x03, 0, 0, 0, 18, 0 };
    g_assert_cmpint(bot(r, sense, 6, true, buf, 18), ==, 0);
    g_assert_cmphex(buf[2], ==, 5);
    g_assert_cmphex(buf[12], ==, 0x21);
    const uint8_t sync[10] = { 0x35 };
    g_assert_cmpint(bot(r, sync, 10, false, NULL, 0), ==, 0);
    const uint8_t tur[6] = { 0 };
    g_assert_cmpint(bot(r, tur, 6, false, NULL, 0), ==, 0);
    rig_free(r);
}

static void test_storage_read_only(void)
{
    Rig *r = rig_new(true);
    start(r);
    set_address(r, 1);
    set_address(r, 2);
    uint8_t buf[512] = { 0 };
    const uint8_t ms[6] = { 0x1a, 0, 0x3f, 0, 64, 0 };
    g_assert_cmpint(bot(r, ms, 6, true, buf, 64), ==, 0);
    g_assert_cmphex(buf[2] & 0x80, ==, 0x80); /* write protected */
    const uint8_t wr10[10] = { 0x2a, 0, 0, 0, 0, 1, 0, 0, 1, 0 };
    memset(buf, 0xab, sizeof(buf));
    g_assert_cmpint(bot(r, wr10, 10, false, buf, 512), ==, 1);
    const uint8_t sense[6] = { 0x03, 0, 0, 0, 18, 0 };
    g_assert_cmpint(bot(r, sense, 6, true, buf, 18), ==, 0);
    g_assert_cmphex(buf[2], ==, 7); /* DATA PROTECT */
    g_assert_cmphex(buf[12], ==, 0x27);
    uint8_t file[512];
    g_assert_true(blk_pread(r->blk, 512, file, 512, NULL));
    for (int i = 0; i < 512; i++) {
        g_assert_cmphex(file[i], ==, 0);
    }
    rig_free(r);
}

/* A hub on port 2 with the disk behind it on its port 3. */
static void test_hub(void)
{
    Rig *r = rig_new(false);
    usb_port_detach(&r->uhci->ports[1]);
    UsbHub *hub = (UsbHub *)device_new(r->devs, &usb_hub_info, &r->bus,
                                       "hub");
    g_assert_true(device_realize(DEVICE(&hub->usb), NULL));
    usb_port_attach(&r->uhci->ports[1], &hub->usb);
    usb_port_attach(&hub->ports[2], &r->disk->usb);
    start(r);
    set_address(r, 1);  /* the tablet */
    set_address(r, 2);  /* the hub */
    uint8_t d[18];
    const uint8_t get_hub[8] = { 0xa0, 6, 0, 0x29, 0, 0, 9, 0 };
    g_assert_cmpint(control(r, 2, get_hub, d, 9), ==, 9);
    g_assert_cmpint(d[2], ==, USB_HUB_PORTS);
    /* The status change endpoint reports port 3 (bit 3). */
    td(r, 0, true, PID_IN, 2, 1, 2, BUF);
    run_queue(r, 0, 3);
    g_assert_cmphex(r->ram[BUF], ==, 1 << 3);
    const uint8_t power[8] = { 0x23, 3, 8, 0, 3, 0, 0, 0 };
    const uint8_t reset[8] = { 0x23, 3, 4, 0, 3, 0, 0, 0 };
    const uint8_t status[8] = { 0xa3, 0, 0, 0, 3, 0, 4, 0 };
    control(r, 2, power, NULL, 0);
    control(r, 2, reset, NULL, 0);
    g_assert_cmpint(control(r, 2, status, d, 4), ==, 4);
    g_assert_cmphex(d[0] | d[1] << 8, ==, 0x103); /* power, enable, conn */
    g_assert_cmphex(d[2], ==, 0x11); /* connection and reset changed */
    set_address(r, 3); /* behind the hub */
    const uint8_t get_dev[8] = { 0x80, 6, 0, 1, 0, 0, 18, 0 };
    g_assert_cmpint(control(r, 3, get_dev, d, 18), ==, 18);
    g_assert_cmphex(d[8] | d[9] << 8, ==, 0x46f4);
    usb_port_detach(&hub->ports[2]);
    g_assert_cmpint(control(r, 2, status, d, 4), ==, 4);
    g_assert_cmphex(d[0] & 3, ==, 0);
    rig_free(r);
}

/* The schedule classes of QEMU's UHCI CVEs: each frame must end. */
static void test_schedule_abuse(void)
{
    Rig *r = rig_new(false);
    start(r);
    set_address(r, 1);
    /* A queue head linked to itself, whose element is a TD linked to
       itself depth-first, NAKed by the idle tablet. */
    put32(r, QH, QH | 2);
    td(r, 0, false, PID_IN, 1, 1, 8, BUF);
    put32(r, TDS, TDS | 4);
    put32(r, QH + 4, TDS);
    uint16_t fr = inw(r, 6);
    frames(r, 5);
    g_assert_cmpint(inw(r, 6), ==, (fr + 5) & 0x7ff);
    /* Bare TDs in a ring, all retired: the walk is bounded. */
    for (int i = 0; i < 1024; i++) {
        put32(r, FL + 4 * i, TDS);
    }
    put32(r, TDS, TDS + 32);
    put32(r, TDS + 4, 0);
    put32(r, TDS + 32, TDS);
    put32(r, TDS + 36, 0);
    frames(r, 3);
    /* Pointers outside RAM: frame list, TDs, buffers. */
    put32(r, FL, 0xfff00000u | 2);
    for (int i = 0; i < 1024; i++) {
        put32(r, FL + 4 * i, i & 1 ? (0xfff00000u | 2) : TDS);
    }
    td(r, 0, true, PID_IN, 1, 0, 64, 0xfffff000u);
    frames(r, 4);
    ioport_write(r->io, IOBAR + 8, 0xfffff000u, 4);
    frames(r, 2);
    ioport_write(r->io, IOBAR + 8, FL, 4);
    /* Oversized (MaxLen 0x7fe: 2047 bytes) and zero-length TDs. */
    for (int i = 0; i < 1024; i++) {
        put32(r, FL + 4 * i, TDS);
    }
    td(r, 0, false, PID_OUT, 1, 0, 2047, BUF);
    td(r, 1, true, PID_OUT, 1, 0, 0, BUF);
    put32(r, TDS, TDS + 32);
    frames(r, 1);
    g_assert_cmphex(td_status(r, 0) & (1u << 20), ==, 1u << 20); /* babble */
    g_assert_cmphex(td_status(r, 1) & ACTIVE, ==, 0);
    rig_free(r);
}

/* Random register writes and schedules; the frame walk and the devices
   must survive anything (the sanitizer build checks the accesses). */
static void test_fuzz(void)
{
    const char *seed_env = g_getenv("MIMIC_FUZZ_SEED");
    guint32 seed = seed_env ? (guint32)g_ascii_strtoull(seed_env, NULL, 10)
                            : (guint32)g_test_rand_int();
    const char *env = g_getenv("MIMIC_FUZZ_SECONDS");
    double budget = env ? g_ascii_strtod(env, NULL) : 2.0;
    g_test_message("seed %u, %.0f s", seed, budget);
    GRand *g = g_rand_new_with_seed(seed);
    Rig *r = rig_new(false);
    start(r);
    set_address(r, 1);
    set_address(r, 2);
    gint64 end = g_get_monotonic_time() + (gint64)(budget * 1e6);
    uint64_t rounds = 0;
    while (g_get_monotonic_time() < end) {
        rounds++;
        /* Descriptors with random fields: links to the TDs and QHs of
           the schedule area (loops included), mostly plausible tokens,
           buffers in RAM or anywhere. */
        for (int i = 0; i < 8; i++) {
            uint32_t link[2];
            for (int k = 0; k < 2; k++) {
                switch (g_rand_int_range(g, 0, 4)) {
                case 0:
                    link[k] = (TDS + g_rand_int_range(g, 0, 64) * 16) |
                              g_rand_int_range(g, 0, 2) * 4;
                    break;
                case 1:
                    link[k] = (QH + g_rand_int_range(g, 0, 16) * 16) | 2;
                    break;
                case 2:
                    link[k] = 1;
                    break;
                default:
                    link[k] = g_rand_int(g);
                    break;
                }
            }
            if (g_rand_boolean(g)) {
                uint32_t a = QH + g_rand_int_range(g, 0, 16) * 16;
                put32(r, a, link[0]);
                put32(r, a + 4, link[1]);
                continue;
            }
            static const uint8_t pids[] = { PID_SETUP, PID_IN, PID_OUT };
            uint32_t a = TDS + g_rand_int_range(g, 0, 64) * 16;
            uint32_t len = g_rand_int_range(g, 0, 8) ? g_rand_int_range(g, 0, 65)
                                                      : g_rand_int_range(g, 0, 0x800);
            uint32_t token = g_rand_int_range(g, 0, 8)
                ? pids[g_rand_int_range(g, 0, 3)] : g_rand_int_range(g, 0, 256);
            token |= g_rand_int_range(g, 0, 4) << 8 |
                     g_rand_int_range(g, 0, 3) << 15 |
                     ((len - 1) & 0x7ff) << 21;
            put32(r, a, link[0]);
            put32(r, a + 4, ACTIVE | (g_rand_int(g) & 0x3f000000u));
            put32(r, a + 8, token);
            put32(r, a + 12, g_rand_int_range(g, 0, 8)
                  ? BUF + g_rand_int_range(g, 0, 0x10000) : g_rand_int(g));
            if (g_rand_int_range(g, 0, 4) == 0) {
                /* A setup packet or a CBW to parse. */
                uint32_t buf = get32(r, a + 12);
                if (buf < RAM_SIZE - 64) {
                    for (int k = 0; k < 32; k++) {
                        r->ram[buf + k] = g_rand_int(g);
                    }
                    if (g_rand_boolean(g)) {
                        memcpy(r->ram + buf, "USBC", 4);
                    }
                }
            }
        }
        for (int i = 0; i < 4; i++) {
            uint32_t v;
            switch (g_rand_int_range(g, 0, 3)) {
            case 0:
                v = (QH + g_rand_int_range(g, 0, 16) * 16) | 2;
                break;
            case 1:
                v = TDS + g_rand_int_range(g, 0, 64) * 16;
                break;
            default:
                v = g_rand_int(g);
                break;
            }
            put32(r, FL + 4 * g_rand_int_range(g, 0, 1024), v);
        }
        if (g_rand_int_range(g, 0, 16) == 0) {
            int reg = g_rand_int_range(g, 0, 16) * 2;
            if (reg != 0 || g_rand_boolean(g)) {
                outw(r, reg, g_rand_int(g));
            } else {
                inw(r, reg);
            }
            outw(r, 0, 1); /* keep it running most of the time */
        }
        if (g_rand_int_range(g, 0, 64) == 0) {
            ioport_write(r->io, IOBAR + 8, FL, 4); /* after a reset */
            outw(r, 0x10, 0x4);
            outw(r, 0x12, 0x4);
            outw(r, 0, 1);
        }
        if (g_rand_int_range(g, 0, 64) == 0) {
            usb_hid_pointer_abs(r->tablet, g_rand_int_range(g, 0, 0x8000),
                                g_rand_int_range(g, 0, 0x8000), 0, 0);
        }
        frames(r, g_rand_int_range(g, 1, 4));
    }
    g_test_message("%" G_GUINT64_FORMAT " rounds, %" G_GUINT64_FORMAT
                   " frames, %" G_GUINT64_FORMAT " TDs", rounds,
                   r->uhci->frames_run, r->uhci->tds_run);
    g_assert_cmpuint(r->uhci->tds_run, >, 0);
    rig_free(r);
    g_rand_free(g);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/usb/uhci-enumerate", test_enumerate);
    g_test_add_func("/hw/usb/storage", test_storage);
    g_test_add_func("/hw/usb/uhci-bandwidth-rounds", test_bandwidth_rounds);
    g_test_add_func("/hw/usb/storage-read-only", test_storage_read_only);
    g_test_add_func("/hw/usb/hub", test_hub);
    g_test_add_func("/hw/usb/uhci-schedule-abuse", test_schedule_abuse);
    g_test_add_func("/hw/usb/fuzz", test_fuzz);
    return g_test_run();
}
