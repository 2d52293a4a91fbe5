/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qemu-xhci on a bare bus: RAM, the PCI bus, the controller with a
 * usb-tablet on port pair 1 (USB2 port 1) and a usb-storage disk (a raw
 * image in a temporary file) on pair 3 (USB3 port 7).  The test plays
 * the host driver: capability and port registers, the command ring
 * (No-op, Enable Slot, Address Device, Configure Endpoint, Stop
 * Endpoint, Set TR Dequeue, Reset Endpoint) across a link TRB that
 * toggles the cycle, the event ring through its segment table with a
 * wrap, control transfers on EP0 (SuperSpeed descriptors), bulk-only
 * WRITE(10) and READ(10) whose data is a TD of chained TRBs through a
 * link TRB, a short packet with ISP, a STALL that halts the endpoint.
 * Then guest abuse: link TRB loops on the command and transfer rings,
 * an ERST larger than ERST Max and segments outside RAM, contexts
 * outside RAM, oversized TRBs, stray doorbells, random register writes:
 * every doorbell returns within its TRB budget.
 */
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "bus/device.h"
#include "hw/pci/pci.h"
#include "hw/usb/hid.h"
#include "hw/usb/storage.h"
#include "hw/usb/xhci.h"
#include "images/block.h"

#define RAM_SIZE (1u << 20)
#define MMIO 0xfeb00000u
#define OP (MMIO + 0x40)
#define RT (MMIO + 0x1000)
#define DB (MMIO + 0x2000)
#define DCBAA 0x10000
#define CMDR 0x11000  /* 16 TRBs, the last a link */
#define ERST 0x12000
#define EVR 0x13000   /* 16 event TRBs */
#define INCTX 0x14000
#define OUTCTX 0x15000
#define EP0R 0x16000  /* 64 TRBs */
#define INR 0x17000
#define OUTR 0x18000
#define BUF 0x20000
#define DISK_SECTORS 512
#define CMD_TRBS 8
#define EV_TRBS 16

typedef struct Rig {
    MemMap *mem;
    IoSpace *io;
    Clock *clock;
    MachineBuses bus;
    DeviceList *devs;
    PciBus *pci;
    uint8_t *ram;
    Xhci *x;
    UsbHid *tablet;
    UsbStorage *disk;
    BlockDev *blk;
    char *path;
    bool level;
    /* The driver's ring positions. */
    int cmd_i, ev_i;
    uint32_t cmd_c, ev_c;
    int ring_i[32];
    uint32_t ring_c[32];
} Rig;

static void on_irq(void *opaque, bool level)
{
    ((Rig *)opaque)->level = level;
}

static void put32(Rig *r, uint64_t a, uint32_t v)
{
    memmap_write_sized(r->mem, a, v, 4);
}

static uint32_t get32(Rig *r, uint64_t a)
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
    r->x = (Xhci *)device_new(r->devs, &xhci_info, &r->bus, "xhci");
    r->x->bus = r->pci;
    r->x->devfn = 4 << 3;
    r->x->set_irq = on_irq;
    r->x->irq_opaque = r;
    g_assert_true(device_realize(DEVICE(r->x), NULL));
    r->tablet = (UsbHid *)device_new(r->devs, &usb_hid_info, &r->bus,
                                     "tablet");
    r->tablet->kind = USB_HID_TABLET;
    g_assert_true(device_realize(DEVICE(&r->tablet->usb), NULL));
    int fd = g_file_open_tmp("mimic-xhci-XXXXXX", &r->path, NULL);
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
    usb_port_attach(&r->x->ports[0], &r->tablet->usb);
    usb_port_attach(&r->x->ports[2], &r->disk->usb);
    pci_config_write(r->pci, r->x->devfn, 0x10, MMIO, 4);
    pci_config_write(r->pci, r->x->devfn, PCI_COMMAND, 6, 2);
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

static void uframes(Rig *r, int n)
{
    for (int i = 0; i < n; i++) {
        r->clock->icount += 125000;
        clock_run_timers(r->clock);
    }
}

static void trb(Rig *r, uint64_t a, uint64_t param, uint32_t status,
                uint32_t ctrl)
{
    put32(r, a, (uint32_t)param);
    put32(r, a + 4, (uint32_t)(param >> 32));
    put32(r, a + 8, status);
    put32(r, a + 12, ctrl);
}

/* Queue a command; the ring's last TRB links back with toggle. */
static uint64_t cmd(Rig *r, uint64_t param, uint32_t ctrl)
{
    uint64_t a = CMDR + 16 * r->cmd_i;
    trb(r, a, param, 0, ctrl | r->cmd_c);
    if (++r->cmd_i == CMD_TRBS - 1) {
        trb(r, CMDR + 16 * r->cmd_i, CMDR, 0, 6u << 10 | 2 | r->cmd_c);
        r->cmd_i = 0;
        r->cmd_c ^= 1;
    }
    return a;
}

/* The next event, or false; ev[4] its dwords.  ERDP follows. */
static bool event(Rig *r, uint32_t *ev)
{
    uint64_t a = EVR + 16 * r->ev_i;
    if ((get32(r, a + 12) & 1) != r->ev_c) {
        return false;
    }
    for (int i = 0; i < 4; i++) {
        ev[i] = get32(r, a + 4 * i);
    }
    if (++r->ev_i == EV_TRBS) {
        r->ev_i = 0;
        r->ev_c ^= 1;
    }
    put32(r, RT + 0x38, (EVR + 16 * r->ev_i) | 8); /* clear EHB */
    put32(r, RT + 0x3c, 0);
    return true;
}

static void expect_event(Rig *r, unsigned type, unsigned cc, uint64_t ptr,
                         uint32_t *ev)
{
    uint32_t e[4];
    g_assert_true(event(r, e));
    g_assert_cmpuint((e[3] >> 10) & 0x3f, ==, type);
    g_assert_cmpuint(e[2] >> 24, ==, cc);
    if (ptr) {
        g_assert_cmphex(e[0] | (uint64_t)e[1] << 32, ==, ptr);
    }
    if (ev) {
        memcpy(ev, e, sizeof(e));
    }
}

static void run_cmd(Rig *r, uint64_t param, uint32_t ctrl, unsigned cc,
                    uint32_t *ev)
{
    uint64_t a = cmd(r, param, ctrl);
    put32(r, DB, 0);
    expect_event(r, 33, cc, a, ev);
}

static void start(Rig *r)
{
    g_assert_cmphex(get32(r, MMIO) & 0xff, ==, 0x40);
    g_assert_cmphex(get32(r, MMIO) >> 16, ==, 0x100);
    g_assert_cmphex(get32(r, MMIO + 4), ==, 16 | 1 << 8 | 8u << 24);
    g_assert_cmphex(get32(r, MMIO + 0x14), ==, 0x2000);
    g_assert_cmphex(get32(r, MMIO + 0x18), ==, 0x1000);
    /* The two Supported Protocol capabilities. */
    uint32_t x = (get32(r, MMIO + 0x10) >> 16) * 4;
    g_assert_cmphex(get32(r, MMIO + x), ==, 0x02000402);
    g_assert_cmphex(get32(r, MMIO + x + 8) & 0xffff, ==, 0x0401);
    g_assert_cmphex(get32(r, MMIO + x + 16) & 0xff0000ff, ==, 0x03000002);
    g_assert_cmphex(get32(r, MMIO + x + 24) & 0xffff, ==, 0x0405);
    put32(r, OP, 2); /* HCRST */
    g_assert_cmphex(get32(r, OP + 4) & 0x801, ==, 1); /* HCH, not CNR */
    /* Tablet: connected on USB2 port 1, disabled, high speed. */
    g_assert_cmphex(get32(r, OP + 0x400) & 0x3c03, ==, 0x0c01);
    /* Disk: USB3 port 7, enabled in U0, SuperSpeed. */
    g_assert_cmphex(get32(r, OP + 0x460) & 0x3fe3, ==, 0x1203);
    g_assert_cmphex(get32(r, OP + 0x420) & 1, ==, 0); /* port 3 empty */
    put32(r, OP + 0x38, 4);           /* MaxSlotsEn */
    put32(r, OP + 0x30, DCBAA);
    put32(r, OP + 0x34, 0);
    put32(r, OP + 0x18, CMDR | 1);
    put32(r, OP + 0x1c, 0);
    r->cmd_c = 1;
    r->ev_c = 1;
    put32(r, ERST, EVR);
    put32(r, ERST + 4, 0);
    put32(r, ERST + 8, EV_TRBS);
    put32(r, RT + 0x28, 1);
    put32(r, RT + 0x38, EVR);
    put32(r, RT + 0x3c, 0);
    put32(r, RT + 0x30, ERST);
    put32(r, RT + 0x34, 0);
    put32(r, RT + 0x20, 2);           /* IE */
    put32(r, OP, 5);                  /* RS, INTE */
    g_assert_cmphex(get32(r, OP + 4) & 1, ==, 0);
    /* Port 1 reset: enabled, PRC, a port status change event. */
    put32(r, OP + 0x400, 0x10 | 0x200);
    g_assert_cmphex(get32(r, OP + 0x400) & 0x200003, ==, 0x200003);
    uint32_t ev[4];
    expect_event(r, 34, 1, 0, ev);
    g_assert_cmpuint(ev[0] >> 24, ==, 1);
    g_assert_true(r->level);
    put32(r, RT + 0x20, 3); /* clear IP */
    g_assert_false(r->level);
    put32(r, OP + 0x400, 0x200 | 0x220000); /* clear CSC, PRC */
    g_assert_cmphex(get32(r, OP + 0x400) & 0xfe0000, ==, 0);
}

/* Enable a slot and address the device on root port port. */
static unsigned address(Rig *r, unsigned port, unsigned maxp0)
{
    uint32_t ev[4];
    run_cmd(r, 0, 9u << 10, 1, ev);
    unsigned slot = ev[3] >> 24;
    g_assert_cmpuint(slot, >=, 1);
    put32(r, DCBAA + 8 * slot, OUTCTX);
    put32(r, DCBAA + 8 * slot + 4, 0);
    memset(r->ram + INCTX, 0, 0x1000);
    memset(r->ram + OUTCTX, 0xee, 0x400);
    put32(r, INCTX + 4, 3);                          /* A0, A1 */
    put32(r, INCTX + 32, 1u << 27);                  /* one entry */
    put32(r, INCTX + 36, port << 16);
    put32(r, INCTX + 64 + 4, 3u << 1 | 4u << 3 | maxp0 << 16);
    put32(r, INCTX + 64 + 8, EP0R | 1);
    memset(r->ram + EP0R, 0, 0x400);
    r->ring_i[1] = 0;
    r->ring_c[1] = 1;
    run_cmd(r, INCTX, 11u << 10 | slot << 24, 1, NULL);
    g_assert_cmphex(get32(r, OUTCTX + 12) >> 27, ==, 2);  /* Addressed */
    g_assert_cmphex(get32(r, OUTCTX + 12) & 0xff, ==, slot);
    g_assert_cmphex(get32(r, OUTCTX + 32) & 7, ==, 1);    /* Running */
    return slot;
}

static void ring_trb(Rig *r, unsigned dci, uint64_t base, uint64_t param,
                     uint32_t status, uint32_t ctrl)
{
    trb(r, base + 16 * r->ring_i[dci], param, status,
        ctrl | r->ring_c[dci]);
    r->ring_i[dci]++;
}

/* GET_DESCRIPTOR(type) of len bytes into BUF, through setup, data and
   status TRBs. */
static void get_descriptor(Rig *r, unsigned slot, unsigned type,
                           unsigned len)
{
    uint64_t setup = 0x80 | 6u << 8 | (uint64_t)type << 24 |
                     (uint64_t)len << 48;
    ring_trb(r, 1, EP0R, setup, 8, 2u << 10 | 1u << 6 | 3u << 16);
    ring_trb(r, 1, EP0R, BUF, len, 3u << 10 | 1u << 16);
    uint64_t st = EP0R + 16 * r->ring_i[1];
    ring_trb(r, 1, EP0R, 0, 0, 4u << 10 | 1u << 5);
    put32(r, DB + 4 * slot, 1);
    expect_event(r, 32, 1, st, NULL);
}

static void test_enumerate(void)
{
    Rig *r = rig_new();
    start(r);
    run_cmd(r, 0, 23u << 10, 1, NULL); /* No-op */
    unsigned slot = address(r, 7, 512);
    memset(r->ram + BUF, 0, 64);
    get_descriptor(r, slot, 1, 18);
    g_assert_cmphex(r->ram[BUF + 2] | r->ram[BUF + 3] << 8, ==, 0x0300);
    g_assert_cmpuint(r->ram[BUF + 7], ==, 9);
    get_descriptor(r, slot, 15, 22); /* BOS */
    g_assert_cmpuint(r->ram[BUF + 1], ==, 15);
    g_assert_cmpuint(r->ram[BUF + 4], ==, 2);
    /* The tablet on port 1 at high speed; port 5 (its USB3 twin) and an
       empty port fail Address Device with a transaction error. */
    uint32_t ev[4];
    unsigned t = address(r, 1, 64);
    get_descriptor(r, t, 1, 18);
    g_assert_cmphex(r->ram[BUF + 2] | r->ram[BUF + 3] << 8, ==, 0x0200);
    run_cmd(r, 0, 9u << 10, 1, ev);
    put32(r, INCTX + 36, 5u << 16);
    run_cmd(r, INCTX, 11u << 10 | (ev[3] >> 24) << 24, 4, NULL);
    /* Slots run out at MaxSlotsEn (4). */
    run_cmd(r, 0, 9u << 10, 1, NULL);
    run_cmd(r, 0, 9u << 10, 9, NULL);
    /* A disabled slot. */
    run_cmd(r, 0, 10u << 10 | 4u << 24, 1, NULL);
    run_cmd(r, 0, 10u << 10 | 4u << 24, 11, NULL);
    /* MFINDEX counts microframes while running. */
    uint32_t m = get32(r, RT);
    uframes(r, 10);
    g_assert_cmpuint((get32(r, RT) - m) & 0x3fff, ==, 10);
    rig_free(r);
}

/* Configure bulk IN (DCI 3) and OUT (DCI 4) of the disk. */
static void configure_bulk(Rig *r, unsigned slot)
{
    memset(r->ram + INCTX, 0, 0x1000);
    put32(r, INCTX + 4, 1u << 0 | 1u << 3 | 1u << 4);
    put32(r, INCTX + 32, 4u << 27);
    put32(r, INCTX + 36, 7u << 16);
    put32(r, INCTX + 32 * 4 + 4, 3u << 1 | 6u << 3 | 1024u << 16);
    put32(r, INCTX + 32 * 4 + 8, INR | 1);
    put32(r, INCTX + 32 * 5 + 4, 3u << 1 | 2u << 3 | 1024u << 16);
    put32(r, INCTX + 32 * 5 + 8, OUTR | 1);
    memset(r->ram + INR, 0, 0x1000);
    memset(r->ram + OUTR, 0, 0x1000);
    r->ring_i[3] = r->ring_i[4] = 0;
    r->ring_c[3] = r->ring_c[4] = 1;
    run_cmd(r, INCTX, 12u << 10 | slot << 24, 1, NULL);
    /* SET_CONFIGURATION 1: setup and status TRBs. */
    ring_trb(r, 1, EP0R, 9u << 8 | 1u << 16, 8, 2u << 10 | 1u << 6);
    uint64_t st = EP0R + 16 * r->ring_i[1];
    ring_trb(r, 1, EP0R, 0, 0, 4u << 10 | 1u << 5 | 1u << 16);
    put32(r, DB + 4 * slot, 1);
    expect_event(r, 32, 1, st, NULL);
    g_assert_cmphex(get32(r, OUTCTX + 12) >> 27, ==, 3); /* Configured */
    g_assert_cmphex(get32(r, OUTCTX) >> 27, ==, 4);
    g_assert_cmphex(get32(r, OUTCTX + 32 * 3) & 7, ==, 1);
}

static void cbw(Rig *r, unsigned slot, uint32_t tag, uint32_t len, bool in,
                const uint8_t *cdb, int cdb_len)
{
    uint8_t b[31] = { 'U', 'S', 'B', 'C' };
    usb_put_le32(b + 4, tag);
    usb_put_le32(b + 8, len);
    b[12] = in ? 0x80 : 0;
    b[14] = cdb_len;
    memcpy(b + 15, cdb, cdb_len);
    memcpy(r->ram + BUF + 0x8000, b, 31);
    uint64_t a = OUTR + 16 * r->ring_i[4];
    ring_trb(r, 4, OUTR, BUF + 0x8000, 31, 1u << 10 | 1u << 5);
    put32(r, DB + 4 * slot, 4);
    expect_event(r, 32, 1, a, NULL);
}

/* The CSW into a 512-byte TRB with ISP: a short packet of 13. */
static void csw(Rig *r, unsigned slot, uint32_t tag)
{
    uint32_t ev[4];
    uint64_t a = INR + 16 * r->ring_i[3];
    ring_trb(r, 3, INR, BUF + 0x9000, 512, 1u << 10 | 1u << 5 | 1u << 2);
    put32(r, DB + 4 * slot, 3);
    expect_event(r, 32, 13, a, ev);
    g_assert_cmpuint(ev[2] & 0xffffff, ==, 512 - 13);
    g_assert_cmpuint(ev[3] >> 24, ==, slot);
    g_assert_cmpuint((ev[3] >> 16) & 0x1f, ==, 3);
    g_assert_cmphex(usb_le32(r->ram + BUF + 0x9000), ==, 0x53425355);
    g_assert_cmphex(usb_le32(r->ram + BUF + 0x9004), ==, tag);
    g_assert_cmpuint(r->ram[BUF + 0x900c], ==, 0);
}

static void test_storage(void)
{
    Rig *r = rig_new();
    start(r);
    unsigned slot = address(r, 7, 512);
    configure_bulk(r, slot);
    /* WRITE(10) of 16 sectors at LBA 8: a TD of three chained TRBs. */
    for (int i = 0; i < 8192; i++) {
        r->ram[BUF + i] = (uint8_t)(i * 7 + 3);
    }
    static const uint8_t wr[10] = { 0x2a, 0, 0, 0, 0, 8, 0, 0, 16, 0 };
    cbw(r, slot, 1, 8192, false, wr, 10);
    ring_trb(r, 4, OUTR, BUF, 1000, 1u << 10 | 1u << 4);
    ring_trb(r, 4, OUTR, BUF + 1000, 4000, 1u << 10 | 1u << 4);
    uint64_t last = OUTR + 16 * r->ring_i[4];
    ring_trb(r, 4, OUTR, BUF + 5000, 3192, 1u << 10 | 1u << 5);
    put32(r, DB + 4 * slot, 4);
    expect_event(r, 32, 1, last, NULL);
    csw(r, slot, 1);
    /* READ(10) of the same into BUF + 0x4000: the TD crosses a link TRB
       that toggles the IN ring's cycle. */
    memset(r->ram + BUF + 0x4000, 0, 8192);
    static const uint8_t rd[10] = { 0x28, 0, 0, 0, 0, 8, 0, 0, 16, 0 };
    cbw(r, slot, 2, 8192, true, rd, 10);
    ring_trb(r, 3, INR, BUF + 0x4000, 4096, 1u << 10 | 1u << 4 | 1u << 2);
    trb(r, INR + 16 * r->ring_i[3], INR, 0,
        6u << 10 | 2 | 1u << 4 | r->ring_c[3]);
    r->ring_i[3] = 0;
    r->ring_c[3] ^= 1;
    last = INR;
    ring_trb(r, 3, INR, BUF + 0x5000, 4096, 1u << 10 | 1u << 5 | 1u << 2);
    put32(r, DB + 4 * slot, 3);
    expect_event(r, 32, 1, last, NULL);
    g_assert_cmpmem(r->ram + BUF + 0x4000, 8192, r->ram + BUF, 8192);
    csw(r, slot, 2);
    /* A CBW with a bad signature stalls: the endpoint halts; Reset
       Endpoint, Set TR Dequeue and a doorbell run it again. */
    uint64_t a = OUTR + 16 * r->ring_i[4];
    memset(r->ram + BUF + 0x8000, 0, 31);
    ring_trb(r, 4, OUTR, BUF + 0x8000, 31, 1u << 10 | 1u << 5);
    put32(r, DB + 4 * slot, 4);
    expect_event(r, 32, 6, a, NULL);
    g_assert_cmphex(get32(r, OUTCTX + 32 * 4) & 7, ==, 2); /* Halted */
    run_cmd(r, 0, 16u << 10 | 4u << 16 | slot << 24, 19, NULL);
    run_cmd(r, 0, 14u << 10 | 4u << 16 | slot << 24, 1, NULL);
    g_assert_cmphex(get32(r, OUTCTX + 32 * 4) & 7, ==, 3); /* Stopped */
    run_cmd(r, OUTR | r->ring_c[4], 16u << 10 | 4u << 16 | slot << 24, 1,
            NULL);
    g_assert_cmphex(get32(r, OUTCTX + 32 * 4 + 8), ==,
                    OUTR | r->ring_c[4]);
    /* Stop Endpoint on a stopped one: a context state error. */
    run_cmd(r, 0, 15u << 10 | 4u << 16 | slot << 24, 19, NULL);
    rig_free(r);
}

/* Events wrap through the 16-entry ring many times; a full ring drops
   events rather than overwriting (the driver catches up). */
static void test_event_ring(void)
{
    Rig *r = rig_new();
    start(r);
    for (int i = 0; i < 100; i++) {
        run_cmd(r, 0, 23u << 10, 1, NULL);
    }
    /* Twenty commands without reading events: fifteen fit. */
    for (int i = 0; i < 20; i++) {
        cmd(r, 0, 23u << 10);
        put32(r, DB, 0);
    }
    uint32_t ev[4];
    int n = 0;
    while (event(r, ev)) {
        n++;
    }
    g_assert_cmpint(n, ==, EV_TRBS - 1);
    rig_free(r);
}

static void test_abuse(void)
{
    Rig *r = rig_new();
    start(r);
    uint32_t ev[4];
    /* A command ring link TRB to itself without toggle: the doorbell
       returns; so does one whose target is outside RAM. */
    trb(r, CMDR + 16 * r->cmd_i, CMDR + 16 * r->cmd_i, 0,
        6u << 10 | r->cmd_c);
    put32(r, DB, 0);
    g_assert_false(event(r, ev));
    trb(r, CMDR + 16 * r->cmd_i, 0xfff00000u, 0, 6u << 10 | r->cmd_c);
    put32(r, DB, 0);
    uframes(r, 8);
    /* A fresh command ring. */
    put32(r, OP, 1 | 4);
    put32(r, OP + 0x18, 4); /* abort */
    while (event(r, ev)) {
    }
    g_assert_cmphex(get32(r, OP + 0x18) & 8, ==, 0);
    memset(r->ram + CMDR, 0, 0x1000);
    r->cmd_i = 0;
    r->cmd_c = 1;
    put32(r, OP + 0x18, CMDR | 1);
    put32(r, OP + 0x1c, 0);
    run_cmd(r, 0, 23u << 10, 1, NULL);
    /* Contexts outside RAM: the device context base and input context
       far away; the commands complete. */
    run_cmd(r, 0, 9u << 10, 1, ev);
    unsigned slot = ev[3] >> 24;
    put32(r, DCBAA + 8 * slot, 0xfffff000u);
    put32(r, DCBAA + 8 * slot + 4, 0x7fff);
    run_cmd(r, 0xffffffff00ull, 11u << 10 | slot << 24, 17, NULL);
    put32(r, DCBAA + 8 * slot, OUTCTX);
    put32(r, DCBAA + 8 * slot + 4, 0);
    slot = address(r, 7, 512);
    /* A transfer ring that links to itself; a TRB of 128 KiB; a TRB
       type the ring does not take; a buffer outside RAM. */
    trb(r, EP0R, EP0R, 0, 6u << 10 | 1);
    put32(r, DB + 4 * slot, 1);
    uframes(r, 4);
    g_assert_false(event(r, ev));
    configure_bulk(r, slot);
    ring_trb(r, 3, INR, BUF, 0x1ffff, 1u << 10 | 1u << 5);
    put32(r, DB + 4 * slot, 3);
    expect_event(r, 32, 5, 0, NULL);
    run_cmd(r, 0, 14u << 10 | 3u << 16 | slot << 24, 1, NULL);
    ring_trb(r, 4, OUTR, 0xfffffff000ull, 31, 1u << 10 | 1u << 5);
    put32(r, DB + 4 * slot, 4);
    expect_event(r, 32, 6, 0, NULL); /* all ones: not a CBW */
    /* Stray doorbells: slots and targets that do not exist. */
    put32(r, DB + 4 * 9, 1);
    put32(r, DB + 4 * slot, 31);
    put32(r, DB + 4 * slot, 0);
    put32(r, DB, 5);
    /* ERSTSZ over ERST Max, segments outside RAM or of size 0. */
    put32(r, RT + 0x28, 0xffff);
    g_assert_cmpuint(get32(r, RT + 0x28), ==, 16);
    for (int i = 0; i < 16; i++) {
        put32(r, ERST + 16 * i, i & 1 ? 0xffffffc0u : EVR);
        put32(r, ERST + 16 * i + 4, 0);
        put32(r, ERST + 16 * i + 8, i & 2 ? 0 : 0xffff);
    }
    put32(r, RT + 0x30, ERST);
    for (int i = 0; i < 200; i++) {
        cmd(r, 0, 23u << 10);
        put32(r, DB, 0);
    }
    /* Random writes over the whole register window, with doorbells
       between: nothing hangs or crashes. */
    GRand *rand = g_rand_new_with_seed(20261208);
    for (int i = 0; i < 20000; i++) {
        uint32_t off = g_rand_int_range(rand, 0, 0x4000) & ~3u;
        uint32_t v = g_rand_int(rand);
        if (g_rand_boolean(rand)) {
            v &= 0xfffff; /* addresses inside RAM more often */
        }
        if (off == 0x40 && (v & 2)) {
            v &= ~2u;
        }
        put32(r, MMIO + off, v);
        if (i % 64 == 0) {
            put32(r, OP, 5);
            put32(r, DB + 4 * g_rand_int_range(rand, 0, 17),
                  g_rand_int_range(rand, 0, 32));
            uframes(r, 1);
        }
    }
    g_rand_free(rand);
    rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/usb/xhci-enumerate", test_enumerate);
    g_test_add_func("/hw/usb/xhci-storage", test_storage);
    g_test_add_func("/hw/usb/xhci-event-ring", test_event_ring);
    g_test_add_func("/hw/usb/xhci-abuse", test_abuse);
    return g_test_run();
}
