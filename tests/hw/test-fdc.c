/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The 82078 floppy controller on a tiny ISA board (1 MiB of RAM, the 8237
 * pair, IRQ 6 counted here), driven through its ports as a BIOS or the
 * Linux driver does: reset and SENSE INTERRUPT, seeks, DMA and non-DMA
 * transfers, write protection, FORMAT TRACK, READ ID, invalid commands,
 * media change, and hostile DMA set-ups.
 */
#include <string.h>
#include <glib/gstdio.h>

#include "bus/ioport.h"
#include "bus/memory.h"
#include "hw/isa/fdc.h"
#include "hw/isa/i8237.h"
#include "state/state.h"

#define RAM_SIZE (1 << 20)
#define SZ_144 (80 * 2 * 18 * 512)
#define SZ_288 (80 * 2 * 36 * 512)

typedef struct Fixture {
    char *dir, *img0, *img1;
    MemMap *mem;
    IoSpace *io;
    Clock *clock;
    MachineBuses bus;
    DeviceList *devs;
    uint8_t *ram;
    IrqLine *irq;
    int irqs;
    bool level;
    I8237 *dma;
    Fdc *fdc;
    BlockDev *b0, *b1;
} Fixture;

/* Byte `i` of sector `lba` in the test images. */
static uint8_t pattern(uint32_t lba, uint32_t i)
{
    return (uint8_t)(lba * 7 + (i ^ (lba >> 8)) + 1);
}

static char *make_image(const char *dir, const char *name, size_t size)
{
    char *path = g_build_filename(dir, name, NULL);
    uint8_t *b = g_malloc(size);
    for (size_t i = 0; i < size; i++) {
        b[i] = pattern(i / 512, i % 512);
    }
    g_assert_true(g_file_set_contents(path, (char *)b, size, NULL));
    g_free(b);
    return path;
}

static void on_irq(void *opaque, int n, bool level)
{
    Fixture *f = opaque;
    if (level && !f->level) {
        f->irqs++;
    }
    f->level = level;
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("mimic-fdc-XXXXXX", NULL);
    f->img0 = make_image(f->dir, "a.img", SZ_144);
    f->img1 = make_image(f->dir, "b.img", SZ_288);
    f->mem = memmap_new();
    f->io = ioport_new();
    f->clock = clock_new(CLOCK_MODE_ICOUNT, 0);
    f->bus = (MachineBuses){ .mem = f->mem, .io = f->io, .clock = f->clock };
    f->ram = g_malloc0(RAM_SIZE);
    memmap_add_ram(f->mem, "ram", 0, RAM_SIZE, f->ram, 0);
    f->devs = device_list_new();
    f->irq = irq_new(on_irq, f, 6);
    f->dma = (I8237 *)device_new(f->devs, &i8237_info, &f->bus, "dma");
    g_assert_true(device_realize(DEVICE(f->dma), NULL));
    f->fdc = (Fdc *)device_new(f->devs, &fdc_info, &f->bus, "fdc");
    f->fdc->irq = f->irq;
    f->fdc->dma = f->dma;
    f->fdc->dma_channel = 2;
    BlockOpenOptions rw = { .format = "raw" };
    BlockOpenOptions ro = { .format = "raw", .read_only = true };
    f->b0 = blk_open(f->img0, &rw, NULL);
    f->b1 = blk_open(f->img1, &ro, NULL);
    g_assert_nonnull(f->b0);
    g_assert_nonnull(f->b1);
    GError *err = NULL;
    g_assert_true(fdc_attach(f->fdc, 0, f->b0, &err));
    g_assert_true(fdc_attach(f->fdc, 1, f->b1, &err));
    g_assert_no_error(err);
    g_assert_true(device_realize(DEVICE(f->fdc), NULL));
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    device_list_free(f->devs);
    blk_close(f->b0);
    blk_close(f->b1);
    irq_free(f->irq);
    ioport_free(f->io);
    memmap_free(f->mem);
    clock_free(f->clock);
    g_free(f->ram);
    g_unlink(f->img0);
    g_unlink(f->img1);
    g_rmdir(f->dir);
    g_free(f->img0);
    g_free(f->img1);
    g_free(f->dir);
}

static void out(Fixture *f, uint16_t port, uint8_t v)
{
    ioport_write(f->io, port, v, 1);
}

static uint8_t in(Fixture *f, uint16_t port)
{
    return ioport_read(f->io, port, 1);
}

static uint8_t msr(Fixture *f)
{
    return in(f, 0x3f4);
}

/* Send a command; every byte must find RQM set and DIO clear. */
static void cmd(Fixture *f, int n, const uint8_t *bytes)
{
    for (int i = 0; i < n; i++) {
        g_assert_cmphex(msr(f) & 0xc0, ==, 0x80);
        out(f, 0x3f5, bytes[i]);
    }
}

#define CMD(f, ...)                                                        \
    do {                                                                   \
        const uint8_t b_[] = { __VA_ARGS__ };                              \
        cmd(f, sizeof(b_), b_);                                            \
    } while (0)

/* Read the result phase, which must be exactly n bytes long. */
static void result(Fixture *f, int n, uint8_t *out_bytes)
{
    for (int i = 0; i < n; i++) {
        g_assert_cmphex(msr(f), ==, 0xd0);
        out_bytes[i] = in(f, 0x3f5);
    }
    g_assert_cmphex(msr(f), ==, 0x80);
}

static void dma_setup(Fixture *f, uint32_t addr, uint16_t count, bool read)
{
    out(f, 0x0a, 0x06); /* mask channel 2 */
    out(f, 0x0c, 0);
    out(f, 0x04, addr);
    out(f, 0x04, addr >> 8);
    out(f, 0x0c, 0);
    out(f, 0x05, count);
    out(f, 0x05, count >> 8);
    out(f, 0x0b, read ? 0x46 : 0x4a); /* single, to / from memory */
    out(f, 0x81, addr >> 16);
    out(f, 0x0a, 0x02); /* unmask */
}

static void sense_int(Fixture *f, uint8_t st0, uint8_t pcn)
{
    uint8_t r[2];
    CMD(f, 0x08);
    result(f, 2, r);
    g_assert_cmphex(r[0], ==, st0);
    g_assert_cmpuint(r[1], ==, pcn);
}

/* Reset through the DOR as SeaBIOS does, then drain the four statuses. */
static void reset_controller(Fixture *f)
{
    out(f, 0x3f2, 0x08);
    g_assert_cmphex(msr(f), ==, 0x00);
    int before = f->irqs;
    out(f, 0x3f2, 0x0c);
    g_assert_cmpint(f->irqs, ==, before + 1);
    for (int i = 0; i < 4; i++) {
        sense_int(f, 0xc0 | i, 0);
        g_assert_false(f->level);
    }
}

static void seek(Fixture *f, int unit, int head, int track)
{
    int before = f->irqs;
    CMD(f, 0x0f, head << 2 | unit, track);
    g_assert_cmpint(f->irqs, ==, before + 1);
    sense_int(f, 0x20 | unit, track); /* no head bit */
}

/* The state saved now loads back and saves the same. */
static void state_roundtrip(Fixture *f)
{
    const StateDesc *st = fdc_info.state;
    GByteArray *a = g_byte_array_new(), *b = g_byte_array_new();
    state_save(st, f->fdc, a);
    GError *err = NULL;
    g_assert_true(state_load(st, f->fdc, st->version, a->data, a->len, NULL,
                             &err));
    g_assert_no_error(err);
    state_save(st, f->fdc, b);
    g_assert_cmpmem(a->data, a->len, b->data, b->len);
    g_byte_array_free(a, TRUE);
    g_byte_array_free(b, TRUE);
}

static uint32_t lba144(int c, int h, int r)
{
    return (c * 2 + h) * 18 + r - 1;
}

static void check_sectors(Fixture *f, uint32_t addr, uint32_t lba, int n)
{
    for (int s = 0; s < n; s++) {
        for (int i = 0; i < 512; i++) {
            if (f->ram[addr + s * 512 + i] != pattern(lba + s, i)) {
                g_error("sector %u byte %d: %02x, expected %02x", lba + s, i,
                        f->ram[addr + s * 512 + i], pattern(lba + s, i));
            }
        }
    }
}

static void test_reset_and_ids(Fixture *f, gconstpointer data)
{
    uint8_t r[10];
    g_assert_cmphex(msr(f), ==, 0x80);
    g_assert_cmphex(in(f, 0x3f2), ==, 0x0c);
    reset_controller(f);
    /* Nothing pending: SENSE INTERRUPT is an invalid command. */
    CMD(f, 0x08);
    result(f, 1, r);
    g_assert_cmphex(r[0], ==, 0x80);
    /* A software reset through the DSR interrupts again. */
    int before = f->irqs;
    out(f, 0x3f4, 0x80);
    g_assert_cmpint(f->irqs, ==, before + 1);
    sense_int(f, 0xc0, 0);
    CMD(f, 0x10);
    result(f, 1, r);
    g_assert_cmphex(r[0], ==, 0x90);
    CMD(f, 0x18);
    result(f, 1, r);
    g_assert_cmphex(r[0], ==, 0x41);
    /* SPECIFY, CONFIGURE and PERPENDICULAR MODE show in DUMPREG. */
    CMD(f, 0x03, 0xaf, 0x02);
    CMD(f, 0x13, 0x00, 0x57, 0x05);
    CMD(f, 0x12, 0x80 | 0x08);
    g_assert_cmphex(msr(f), ==, 0x80);
    seek(f, 1, 0, 9);
    CMD(f, 0x0e);
    result(f, 10, r);
    const uint8_t expect[10] = { 0, 9, 0, 0, 0xaf, 0x02, 0, 0x08, 0x57,
                                 0x05 };
    g_assert_cmpmem(r, 10, expect, 10);
    /* A reset restores CONFIGURE unless it is locked. */
    out(f, 0x3f4, 0x80);
    sense_int(f, 0xc0, 0);
    CMD(f, 0x0e);
    result(f, 10, r);
    g_assert_cmphex(r[8], ==, 0x60);
    g_assert_cmphex(r[9], ==, 0);
    CMD(f, 0x13, 0x00, 0x57, 0x05);
    CMD(f, 0x94); /* LOCK */
    result(f, 1, r);
    g_assert_cmphex(r[0], ==, 0x10);
    out(f, 0x3f4, 0x80);
    sense_int(f, 0xc0, 0);
    CMD(f, 0x0e);
    result(f, 10, r);
    g_assert_cmphex(r[7] & 0x80, ==, 0x80);
    g_assert_cmphex(r[8], ==, 0x57);
    CMD(f, 0x14); /* UNLOCK */
    result(f, 1, r);
    g_assert_cmphex(r[0], ==, 0);
}

static void test_seek_and_status(Fixture *f, gconstpointer data)
{
    uint8_t r[2];
    reset_controller(f);
    /* Both drives report a changed disk until a step. */
    out(f, 0x3f2, 0x1c);
    g_assert_cmphex(in(f, 0x3f7), ==, 0x80);
    seek(f, 0, 0, 5);
    g_assert_cmphex(in(f, 0x3f7), ==, 0x00);
    out(f, 0x3f2, 0x2d);
    g_assert_cmphex(in(f, 0x3f7), ==, 0x80);
    out(f, 0x3f2, 0x1c);
    /* SENSE DRIVE STATUS: ready, two-sided, track 0, write protect. */
    CMD(f, 0x04, 0x00);
    result(f, 1, r);
    g_assert_cmphex(r[0], ==, 0x28);
    CMD(f, 0x04, 0x05);
    result(f, 1, r);
    g_assert_cmphex(r[0], ==, 0x40 | 0x20 | 0x10 | 0x08 | 0x04 | 0x01);
    int before = f->irqs;
    CMD(f, 0x07, 0x00);
    g_assert_cmpint(f->irqs, ==, before + 1);
    sense_int(f, 0x20, 0);
    CMD(f, 0x04, 0x00);
    result(f, 1, r);
    g_assert_cmphex(r[0], ==, 0x38);
    /* RELATIVE SEEK in and out. */
    CMD(f, 0xcf, 0x00, 10);
    sense_int(f, 0x20, 10);
    CMD(f, 0x8f, 0x00, 3);
    sense_int(f, 0x20, 7);
    CMD(f, 0x8f, 0x00, 200);
    sense_int(f, 0x20, 0);
    /* A drive that is not there fails to find track 0. */
    CMD(f, 0x07, 0x02);
    sense_int(f, 0x70 | 0x02, 0);
    /* With the DMA gate bit off the INT line stays low. */
    out(f, 0x3f2, 0x14);
    before = f->irqs;
    CMD(f, 0x0f, 0x00, 3);
    g_assert_cmpint(f->irqs, ==, before);
    out(f, 0x3f2, 0x1c);
    g_assert_cmpint(f->irqs, ==, before + 1);
    sense_int(f, 0x20, 3);
}

static void test_read_dma(Fixture *f, gconstpointer data)
{
    uint8_t r[7];
    reset_controller(f);
    CMD(f, 0x03, 0xaf, 0x02);
    out(f, 0x3f7, 0x00); /* 500 kbit/s */
    /* Two sectors from C1 H1 R3 by DMA, ending on terminal count. */
    dma_setup(f, 0x12000, 2 * 512 - 1, true);
    int before = f->irqs;
    CMD(f, 0x46, 0x04, 1, 1, 3, 2, 18, 0x1b, 0xff);
    g_assert_cmpint(f->irqs, ==, before + 1);
    result(f, 7, r);
    g_assert_false(f->level);
    const uint8_t ok[7] = { 0x04, 0, 0, 1, 1, 5, 2 };
    g_assert_cmpmem(r, 7, ok, 7);
    check_sectors(f, 0x12000, lba144(1, 1, 3), 2);
    g_assert_cmphex(in(f, 0x08) & 0x04, ==, 0x04); /* TC on channel 2 */
    /* Multi-track: R17-18 of head 0 then R1-2 of head 1; SeaBIOS's
       implied seek to cylinder 4. */
    dma_setup(f, 0x20000, 4 * 512 - 1, true);
    CMD(f, 0xe6, 0x00, 4, 0, 17, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    const uint8_t mt[7] = { 0x04, 0, 0, 4, 1, 3, 2 }; /* ends on head 1 */
    g_assert_cmpmem(r, 7, mt, 7);
    check_sectors(f, 0x20000, lba144(4, 0, 17), 4);
    /* EOT without terminal count: end of cylinder, C+1 and R1. */
    memset(f->ram + 0x30000, 0, 0x2000);
    dma_setup(f, 0x30000, 0x1fff, true);
    CMD(f, 0x46, 0x00, 7, 0, 16, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    const uint8_t eoc[7] = { 0x40, 0x80, 0, 8, 0, 1, 2 };
    g_assert_cmpmem(r, 7, eoc, 7);
    check_sectors(f, 0x30000, lba144(7, 0, 16), 3);
    g_assert_cmphex(f->ram[0x30000 + 3 * 512], ==, 0);
    /* The 2.88 MB drive at 1 Mbit/s; at 500 kbit/s its sectors are not
       found (SeaBIOS's media sense relies on that). */
    dma_setup(f, 0x40000, 511, true);
    CMD(f, 0x46, 0x05, 79, 1, 36, 2, 36, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x45);
    g_assert_cmphex(r[1], ==, 0x01);
    out(f, 0x3f7, 0x03);
    dma_setup(f, 0x40000, 511, true);
    CMD(f, 0x46, 0x05, 79, 1, 36, 2, 36, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x05);
    check_sectors(f, 0x40000, (79 * 2 + 1) * 36 + 35, 1);
}

static void test_write_dma(Fixture *f, gconstpointer data)
{
    uint8_t r[7];
    reset_controller(f);
    CMD(f, 0x03, 0xaf, 0x02);
    out(f, 0x3f7, 0x00);
    for (int i = 0; i < 1024; i++) {
        f->ram[0x5000 + i] = (uint8_t)(i * 3 + 0x11);
    }
    dma_setup(f, 0x5000, 1023, false);
    CMD(f, 0xc5, 0x04, 2, 1, 7, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x04);
    g_assert_cmpuint(r[5], ==, 9);
    g_autofree char *img = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(f->img0, &img, &len, NULL));
    g_assert_cmpuint(len, ==, SZ_144);
    g_assert_cmpmem(img + lba144(2, 1, 7) * 512, 1024, f->ram + 0x5000,
                    1024);
    /* Read back to another place. */
    dma_setup(f, 0x8000, 1023, true);
    CMD(f, 0xe6, 0x04, 2, 1, 7, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x04);
    g_assert_cmpmem(f->ram + 0x8000, 1024, f->ram + 0x5000, 1024);
    /* Terminal count inside a sector: the rest is written as zeros. */
    dma_setup(f, 0x5000, 99, false);
    CMD(f, 0xc5, 0x00, 3, 0, 1, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x00);
    g_clear_pointer(&img, g_free);
    g_assert_true(g_file_get_contents(f->img0, &img, &len, NULL));
    g_assert_cmpmem(img + lba144(3, 0, 1) * 512, 100, f->ram + 0x5000, 100);
    for (int i = 100; i < 512; i++) {
        g_assert_cmphex((uint8_t)img[lba144(3, 0, 1) * 512 + i], ==, 0);
    }
    /* The read-only image on drive B: not writable, nothing moves. */
    out(f, 0x3f7, 0x03);
    dma_setup(f, 0x5000, 511, false);
    CMD(f, 0xc5, 0x01, 0, 0, 1, 2, 36, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x41);
    g_assert_cmphex(r[1], ==, 0x02);
    g_clear_pointer(&img, g_free);
    g_assert_true(g_file_get_contents(f->img1, &img, &len, NULL));
    g_assert_cmphex((uint8_t)img[0], ==, pattern(0, 0));
    g_assert_cmphex(i8237_remaining(f->dma, 2), ==, 512);
}

static void test_non_dma(Fixture *f, gconstpointer data)
{
    uint8_t r[7];
    reset_controller(f);
    CMD(f, 0x03, 0xaf, 0x03); /* ND: no DMA */
    out(f, 0x3f7, 0x00);
    int before = f->irqs;
    CMD(f, 0x46, 0x00, 5, 0, 17, 2, 18, 0x1b, 0xff);
    g_assert_cmpint(f->irqs, ==, before + 1);
    uint8_t buf[1024];
    for (int i = 0; i < 1024; i++) {
        g_assert_cmphex(msr(f), ==, 0xf0); /* RQM DIO NDMA CB */
        buf[i] = in(f, 0x3f5);
    }
    g_assert_cmpint(f->irqs, ==, before + 2); /* the result phase */
    state_roundtrip(f);
    result(f, 7, r);
    /* No terminal count without DMA: end of cylinder, as Linux expects. */
    const uint8_t eoc[7] = { 0x40, 0x80, 0, 6, 0, 1, 2 };
    g_assert_cmpmem(r, 7, eoc, 7);
    for (int i = 0; i < 1024; i++) {
        g_assert_cmphex(buf[i], ==, pattern(lba144(5, 0, 17) + i / 512,
                                            i % 512));
    }
    /* Non-DMA write of one sector (EOT = R). */
    CMD(f, 0x45, 0x04, 6, 1, 4, 2, 4, 0x1b, 0xff);
    for (int i = 0; i < 512; i++) {
        g_assert_cmphex(msr(f), ==, 0xb0); /* RQM NDMA CB */
        out(f, 0x3f5, (uint8_t)(0xa0 ^ i));
    }
    state_roundtrip(f);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x44);
    g_assert_cmphex(r[1], ==, 0x80);
    g_autofree char *img = NULL;
    g_assert_true(g_file_get_contents(f->img0, &img, NULL, NULL));
    for (int i = 0; i < 512; i++) {
        g_assert_cmphex((uint8_t)img[lba144(6, 1, 4) * 512 + i], ==,
                        (uint8_t)(0xa0 ^ i));
    }
}

static void test_invalid_and_errors(Fixture *f, gconstpointer data)
{
    uint8_t r[7];
    reset_controller(f);
    CMD(f, 0x03, 0xaf, 0x02);
    out(f, 0x3f7, 0x00);
    static const uint8_t bad[] = { 0x00, 0x01, 0x1f, 0xff, 0x16, 0x0c, 0x11,
                                   0x2e, 0x17, 0x9f };
    for (size_t i = 0; i < sizeof(bad); i++) {
        int before = f->irqs;
        out(f, 0x3f5, bad[i]);
        g_assert_cmpint(f->irqs, ==, before);
        result(f, 1, r);
        g_assert_cmphex(r[0], ==, 0x80);
    }
    /* The data port gives nothing outside a result or read phase, and a
       command byte during the result phase is ignored. */
    (void)in(f, 0x3f5);
    g_assert_cmphex(msr(f), ==, 0x80);
    CMD(f, 0x10);
    out(f, 0x3f5, 0x08);
    result(f, 1, r);
    g_assert_cmphex(r[0], ==, 0x90);
    /* Sector 19 on an 18-sector track: no data. */
    dma_setup(f, 0x1000, 511, true);
    CMD(f, 0x46, 0x00, 0, 0, 19, 2, 19, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x40);
    g_assert_cmphex(r[1], ==, 0x04);
    /* 1024-byte sectors, a head ID that disagrees, sector 0: no data. */
    static const uint8_t nd[][3] = { { 0, 1, 3 }, { 1, 1, 2 }, { 0, 0, 2 } };
    for (size_t i = 0; i < G_N_ELEMENTS(nd); i++) {
        CMD(f, 0x46, 0x00, 0, nd[i][0], nd[i][1], nd[i][2], 18, 0x1b, 0xff);
        result(f, 7, r);
        g_assert_cmphex(r[0], ==, 0x40);
        g_assert_cmphex(r[1], ==, 0x04);
    }
    /* FM recording, a wrong data rate, a cylinder past the medium, a
       drive that is not there: no address mark. */
    CMD(f, 0x06, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[1], ==, 0x01);
    out(f, 0x3f7, 0x02);
    CMD(f, 0x46, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[1], ==, 0x01);
    out(f, 0x3f7, 0x00);
    CMD(f, 0x46, 0x00, 85, 0, 1, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[1], ==, 0x01);
    CMD(f, 0x46, 0x03, 0, 0, 1, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x43);
    g_assert_cmphex(r[1], ==, 0x01);
    /* Commands are ignored while the controller is held in reset. */
    out(f, 0x3f2, 0x08);
    out(f, 0x3f5, 0x10);
    out(f, 0x3f2, 0x0c);
    sense_int(f, 0xc0, 0);
    g_assert_cmphex(msr(f), ==, 0x80);
}

static void test_read_id_and_format(Fixture *f, gconstpointer data)
{
    uint8_t r[7];
    reset_controller(f);
    CMD(f, 0x03, 0xaf, 0x02);
    out(f, 0x3f7, 0x00);
    seek(f, 0, 1, 3);
    CMD(f, 0x4a, 0x04);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x04);
    g_assert_cmpuint(r[3], ==, 3);
    g_assert_cmpuint(r[4], ==, 1);
    uint8_t first = r[5];
    CMD(f, 0x4a, 0x04);
    result(f, 7, r);
    g_assert_cmpuint(r[5], ==, first % 18 + 1);
    g_assert_cmpuint(r[6], ==, 2);
    /* No medium at the wrong rate. */
    out(f, 0x3f7, 0x03);
    CMD(f, 0x4a, 0x00);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x40);
    g_assert_cmphex(r[1], ==, 0x01);
    out(f, 0x3f7, 0x00);
    /* FORMAT TRACK: cylinder 3, head 1, 18 sectors filled with 0xe5. */
    for (int s = 0; s < 18; s++) {
        uint8_t id[4] = { 3, 1, s + 1, 2 };
        memcpy(f->ram + 0x6000 + 4 * s, id, 4);
    }
    dma_setup(f, 0x6000, 18 * 4 - 1, false);
    int before = f->irqs;
    CMD(f, 0x4d, 0x04, 2, 18, 0x6c, 0xe5);
    g_assert_cmpint(f->irqs, ==, before + 1);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x04);
    g_autofree char *img = NULL;
    g_assert_true(g_file_get_contents(f->img0, &img, NULL, NULL));
    for (int i = 0; i < 18 * 512; i++) {
        g_assert_cmphex((uint8_t)img[lba144(3, 1, 1) * 512 + i], ==, 0xe5);
    }
    /* The neighbours are untouched. */
    g_assert_cmphex((uint8_t)img[lba144(3, 0, 18) * 512 + 511], ==,
                    pattern(lba144(3, 0, 18), 511));
    g_assert_cmphex((uint8_t)img[lba144(4, 0, 1) * 512], ==,
                    pattern(lba144(4, 0, 1), 0));
    /* Formatting the read-only drive fails. */
    out(f, 0x3f7, 0x03);
    CMD(f, 0x4d, 0x01, 2, 36, 0x6c, 0xe5);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x41);
    g_assert_cmphex(r[1], ==, 0x02);
}

static void test_media_change(Fixture *f, gconstpointer data)
{
    uint8_t r[7];
    reset_controller(f);
    CMD(f, 0x03, 0xaf, 0x02);
    out(f, 0x3f7, 0x00);
    out(f, 0x3f2, 0x1c);
    seek(f, 0, 0, 1);
    g_assert_cmphex(in(f, 0x3f7), ==, 0x00);
    g_assert_true(fdc_change_media(f->fdc, 0, NULL, NULL));
    g_assert_cmphex(in(f, 0x3f7), ==, 0x80);
    /* No medium: steps do not clear the line, reads find nothing. */
    seek(f, 0, 0, 2);
    g_assert_cmphex(in(f, 0x3f7), ==, 0x80);
    dma_setup(f, 0x1000, 511, true);
    CMD(f, 0x46, 0x00, 2, 0, 1, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x40);
    g_assert_cmphex(r[1], ==, 0x01);
    CMD(f, 0x04, 0x00);
    result(f, 1, r);
    g_assert_cmphex(r[0] & 0x40, ==, 0x40);
    g_assert_true(fdc_change_media(f->fdc, 0, f->b0, NULL));
    g_assert_cmphex(in(f, 0x3f7), ==, 0x80);
    seek(f, 0, 0, 3);
    g_assert_cmphex(in(f, 0x3f7), ==, 0x00);
    GError *err = NULL;
    g_assert_false(fdc_change_media(f->fdc, 2, f->b0, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
}

static void test_hostile_dma(Fixture *f, gconstpointer data)
{
    uint8_t r[7];
    reset_controller(f);
    CMD(f, 0x03, 0xaf, 0x02);
    out(f, 0x3f7, 0x00);
    /* Masked channel: overrun, nothing written. */
    memset(f->ram, 0x5a, 0x2000);
    dma_setup(f, 0x0000, 0x1fff, true);
    out(f, 0x0a, 0x06);
    CMD(f, 0x46, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x40);
    g_assert_cmphex(r[1], ==, 0x10);
    g_assert_cmphex(f->ram[0], ==, 0x5a);
    /* Channel programmed for the other direction: overrun. */
    dma_setup(f, 0x0000, 0x1fff, false);
    CMD(f, 0x46, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[1], ==, 0x10);
    g_assert_cmphex(f->ram[0], ==, 0x5a);
    /* A 64 KiB count with EOT 255: the track ends at sector 18 (no data
       beyond), and the address wraps inside its 64 KiB page. */
    memset(f->ram + 0x70000, 0, 0x10000);
    dma_setup(f, 0x7f000, 0xffff, true);
    CMD(f, 0x46, 0x00, 9, 0, 1, 2, 255, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[0], ==, 0x40);
    g_assert_cmphex(r[1], ==, 0x04);
    g_assert_cmpuint(r[5], ==, 19);
    check_sectors(f, 0x7f000, lba144(9, 0, 1), 8);
    check_sectors(f, 0x70000, lba144(9, 0, 9), 10);
    g_assert_cmphex(f->ram[0x70000 + 10 * 512], ==, 0);
    /* A page beyond RAM: the writes go nowhere, the host is unharmed. */
    dma_setup(f, 0xff0000, 0xffff, true);
    CMD(f, 0xe6, 0x00, 9, 0, 1, 2, 18, 0x1b, 0xff);
    result(f, 7, r);
    g_assert_cmphex(r[0] & 0xc0, ==, 0x40);
    /* FORMAT with 255 sectors of IDs nobody can store. */
    memset(f->ram + 0x9000, 0xff, 1024);
    dma_setup(f, 0x9000, 1023, false);
    CMD(f, 0x4d, 0x00, 7, 255, 0x6c, 0xe5);
    result(f, 7, r);
    g_assert_cmphex(r[0] & 0xc0, ==, 0x00);
    /* Random port traffic and DMA set-ups never crash. */
    GRand *rnd = g_rand_new_with_seed(4);
    static const uint16_t ports[] = { 0x3f0, 0x3f1, 0x3f2, 0x3f3, 0x3f4,
                                      0x3f5, 0x3f5, 0x3f5, 0x3f5, 0x3f7,
                                      0x04, 0x05, 0x0a, 0x0b, 0x0c, 0x81 };
    for (int i = 0; i < 200000; i++) {
        uint16_t p = ports[g_rand_int_range(rnd, 0, G_N_ELEMENTS(ports))];
        uint8_t v = g_rand_int(rnd);
        if (p == 0x3f2 && g_rand_int_range(rnd, 0, 8)) {
            v |= 0x0c;
        }
        if (g_rand_boolean(rnd)) {
            out(f, p, v);
        } else {
            (void)in(f, p);
        }
        if ((i & 1023) == 0) {
            state_roundtrip(f);
        }
    }
    g_rand_free(rnd);
}

static void test_state(Fixture *f, gconstpointer data)
{
    reset_controller(f);
    CMD(f, 0x03, 0xaf, 0x03);
    out(f, 0x3f7, 0x00);
    CMD(f, 0x46, 0x00, 0, 0, 1, 2, 2, 0x1b, 0xff);
    for (int i = 0; i < 100; i++) {
        (void)in(f, 0x3f5);
    }
    GByteArray *a = g_byte_array_new();
    state_save(fdc_info.state, f->fdc, a);
    uint8_t first[20], again[20];
    for (int i = 0; i < 20; i++) {
        first[i] = in(f, 0x3f5);
    }
    GError *err = NULL;
    g_assert_true(state_load(fdc_info.state, f->fdc, 1, a->data, a->len,
                             NULL, &err));
    g_assert_no_error(err);
    for (int i = 0; i < 20; i++) {
        again[i] = in(f, 0x3f5);
    }
    g_assert_cmpmem(first, 20, again, 20);
    g_assert_cmphex(first[0], ==, pattern(0, 100));
    /* An impossible phase (the fourth field, after dor, dsr and tdr) is
       refused. */
    a->data[3] = 7;
    g_assert_false(state_load(fdc_info.state, f->fdc, 1, a->data, a->len,
                              NULL, &err));
    g_assert_error(err, STATE_ERROR, STATE_ERROR_INVALID);
    g_clear_error(&err);
    g_byte_array_free(a, TRUE);
}

/* Saved states with random fields: post_load refuses what it cannot use,
   and what it accepts never leads the controller out of its buffers. */
static void test_hostile_state(Fixture *f, gconstpointer data)
{
    const StateDesc *st = fdc_info.state;
    GByteArray *good = g_byte_array_new();
    state_save(st, f->fdc, good);
    GRand *rnd = g_rand_new_with_seed(11);
    int accepted = 0;
    for (int round = 0; round < 3000; round++) {
        GByteArray *a = g_byte_array_new();
        g_byte_array_append(a, good->data, good->len);
        int flips = g_rand_int_range(rnd, 1, 8);
        for (int k = 0; k < flips; k++) {
            /* Mostly the small fields before the sector buffer. */
            guint at = g_rand_boolean(rnd) ? g_rand_int_range(rnd, 0, 80)
                                           : g_rand_int_range(rnd, 0,
                                                              a->len);
            a->data[at] = g_rand_int(rnd);
        }
        GError *err = NULL;
        if (state_load(st, f->fdc, st->version, a->data, a->len, NULL,
                       &err)) {
            accepted++;
            for (int i = 0; i < 600; i++) {
                if (g_rand_int_range(rnd, 0, 3)) {
                    (void)in(f, 0x3f5);
                } else {
                    out(f, 0x3f5, g_rand_int(rnd));
                }
            }
        } else {
            g_clear_error(&err);
        }
        g_byte_array_free(a, TRUE);
    }
    g_assert_cmpint(accepted, >, 0);
    g_rand_free(rnd);
    g_byte_array_free(good, TRUE);
}

typedef struct GeomCase {
    size_t size;
    uint8_t cmos;
    uint8_t rate, c, h, spt;
} GeomCase;

static void test_geometry(void)
{
    static const GeomCase cases[] = {
        { 40 * 2 * 9 * 512, 2, 1, 39, 1, 9 },     /* 360 KB */
        { 80 * 2 * 9 * 512, 4, 2, 79, 1, 9 },     /* 720 KB */
        { 80 * 2 * 15 * 512, 2, 0, 79, 1, 15 },   /* 1.2 MB */
        { SZ_144, 4, 0, 79, 1, 18 },              /* 1.44 MB */
        { 80 * 2 * 21 * 512, 4, 0, 79, 1, 21 },   /* 1.68 MB */
        { SZ_288, 5, 3, 79, 1, 36 },              /* 2.88 MB */
        { 1000000, 4, 0, 79, 1, 18 },             /* odd: 1.44 MB */
    };
    g_autofree char *dir = g_dir_make_tmp("mimic-fdc-XXXXXX", NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        Fixture fx = { 0 }, *f = &fx;
        f->mem = memmap_new();
        f->io = ioport_new();
        f->clock = clock_new(CLOCK_MODE_ICOUNT, 0);
        f->bus = (MachineBuses){ .mem = f->mem, .io = f->io, .clock = f->clock };
        f->ram = g_malloc0(RAM_SIZE);
        memmap_add_ram(f->mem, "ram", 0, RAM_SIZE, f->ram, 0);
        f->devs = device_list_new();
        f->dma = (I8237 *)device_new(f->devs, &i8237_info, &f->bus, NULL);
        g_assert_true(device_realize(DEVICE(f->dma), NULL));
        f->fdc = (Fdc *)device_new(f->devs, &fdc_info, &f->bus, NULL);
        f->fdc->dma = f->dma;
        f->fdc->dma_channel = 2;
        g_autofree char *path = make_image(dir, "g.img", cases[i].size);
        BlockOpenOptions o = { .format = "raw" };
        BlockDev *b = blk_open(path, &o, NULL);
        g_assert_true(fdc_attach(f->fdc, 0, b, NULL));
        g_assert_true(device_realize(DEVICE(f->fdc), NULL));
        g_assert_cmpuint(fdc_cmos_type(f->fdc, 0), ==, cases[i].cmos);
        g_assert_cmpuint(fdc_cmos_type(f->fdc, 1), ==, 0);
        /* The last sector of the medium, at its data rate. */
        out(f, 0x3f7, cases[i].rate);
        dma_setup(f, 0x1000, 511, true);
        CMD(f, 0x46, cases[i].h << 2, cases[i].c, cases[i].h, cases[i].spt,
            2, cases[i].spt, 0x1b, 0xff);
        uint8_t r[7];
        result(f, 7, r);
        g_assert_cmphex(r[0], ==, cases[i].h << 2);
        uint32_t lba = (cases[i].c * 2 + cases[i].h) * cases[i].spt +
                       cases[i].spt - 1;
        if ((uint64_t)lba * 512 < cases[i].size) {
            check_sectors(f, 0x1000, lba, 1);
        } else {
            g_assert_cmphex(f->ram[0x1000], ==, 0); /* past a short image */
        }
        device_list_free(f->devs);
        blk_close(b);
        ioport_free(f->io);
        memmap_free(f->mem);
        clock_free(f->clock);
        g_free(f->ram);
        g_unlink(path);
    }
    /* Larger than any floppy: refused. */
    Fdc *fdc = g_new0(Fdc, 1);
    g_autofree char *big = make_image(dir, "big.img", SZ_288 + 512);
    BlockOpenOptions o = { .format = "raw" };
    BlockDev *b = blk_open(big, &o, NULL);
    GError *err = NULL;
    g_assert_false(fdc_attach(fdc, 0, b, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    blk_close(b);
    g_free(fdc);
    g_unlink(big);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn)                                                       \
    g_test_add("/hw/fdc/" name, Fixture, NULL, fixture_setup, fn,          \
               fixture_teardown)
    ADD("reset-version-dumpreg-lock", test_reset_and_ids);
    ADD("seek-recalibrate-sense", test_seek_and_status);
    ADD("read-dma", test_read_dma);
    ADD("write-dma-readback-protect", test_write_dma);
    ADD("non-dma", test_non_dma);
    ADD("invalid-commands-and-errors", test_invalid_and_errors);
    ADD("read-id-format-track", test_read_id_and_format);
    ADD("media-change", test_media_change);
    ADD("hostile-dma", test_hostile_dma);
    ADD("state-mid-transfer", test_state);
    ADD("hostile-state", test_hostile_state);
    g_test_add_func("/hw/fdc/geometry-from-size", test_geometry);
    return g_test_run();
}
