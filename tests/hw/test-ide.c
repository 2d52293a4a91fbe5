/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IDE channel: ATA PIO/DMA on a raw disk, ATAPI packets on a CD image. */
#include <string.h>
#include <glib/gstdio.h>

#include "hw/ide/ide.h"

typedef struct Fixture {
    char *dir, *disk, *cd;
    MemMap *mem;
    uint8_t *ram;
    IrqLine *irq;
    int irqs;
    IdeChannel *ch;
    BlockDev *hd, *cdb;
} Fixture;

static void on_irq(void *opaque, int n, bool level)
{
    Fixture *f = opaque;
    if (level) {
        f->irqs++;
    }
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("mimic-ide-XXXXXX", NULL);
    f->disk = g_build_filename(f->dir, "d.img", NULL);
    f->cd = g_build_filename(f->dir, "c.iso", NULL);
    GByteArray *b = g_byte_array_sized_new(64 * 512);
    for (int i = 0; i < 64 * 512; i++) {
        uint8_t v = (i / 512) ^ (i & 0xff);
        g_byte_array_append(b, &v, 1);
    }
    g_file_set_contents(f->disk, (char *)b->data, b->len, NULL);
    g_byte_array_set_size(b, 16 * 2048);
    for (int i = 0; i < 16 * 2048; i++) {
        b->data[i] = (i / 2048) + 0x40;
    }
    g_file_set_contents(f->cd, (char *)b->data, b->len, NULL);
    g_byte_array_free(b, TRUE);
    f->mem = memmap_new();
    f->ram = g_malloc0(1 << 20);
    memmap_add_ram(f->mem, "ram", 0, 1 << 20, f->ram, 0);
    f->irq = irq_new(on_irq, f, 0);
    f->ch = g_new0(IdeChannel, 1);
    ide_channel_init(f->ch, f->mem, f->irq);
    BlockOpenOptions o = { .format = "raw" };
    f->hd = blk_open(f->disk, &o, NULL);
    BlockOpenOptions ro = { .format = "raw", .read_only = true };
    f->cdb = blk_open(f->cd, &ro, NULL);
    g_assert_nonnull(f->hd);
    ide_attach(f->ch, 0, IDE_HD, f->hd, "QM00001");
    ide_attach(f->ch, 1, IDE_CD, f->cdb, "QM00002");
    ide_channel_reset(f->ch);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    blk_close(f->hd);
    blk_close(f->cdb);
    g_free(f->ch);
    irq_free(f->irq);
    memmap_free(f->mem);
    g_free(f->ram);
    g_unlink(f->disk);
    g_unlink(f->cd);
    g_rmdir(f->dir);
    g_free(f->disk);
    g_free(f->cd);
    g_free(f->dir);
}

static uint8_t status(Fixture *f)
{
    return ide_cmd_read(f->ch, 7, 1);
}

static void read_words(Fixture *f, uint8_t *out, int bytes)
{
    for (int i = 0; i < bytes; i += 2) {
        uint16_t w = ide_cmd_read(f->ch, 0, 2);
        out[i] = w;
        out[i + 1] = w >> 8;
    }
}

static void select_lba(Fixture *f, int dev, uint32_t lba, uint8_t count)
{
    ide_cmd_write(f->ch, 6, 0xe0 | (dev << 4) | ((lba >> 24) & 0xf), 1);
    ide_cmd_write(f->ch, 2, count, 1);
    ide_cmd_write(f->ch, 3, lba, 1);
    ide_cmd_write(f->ch, 4, lba >> 8, 1);
    ide_cmd_write(f->ch, 5, lba >> 16, 1);
}

static void test_identify_and_pio(Fixture *f, gconstpointer data)
{
    uint8_t buf[1024];
    g_assert_cmphex(status(f), ==, 0x50);
    select_lba(f, 0, 0, 0);
    ide_cmd_write(f->ch, 7, 0xec, 1);
    g_assert_cmphex(status(f) & 0x08, ==, 0x08);
    read_words(f, buf, 512);
    g_assert_cmphex(status(f), ==, 0x50);
    /* Model string, byte-swapped per word. */
    g_assert_cmpmem(buf + 54, 6, "IMIM C", 6);
    g_assert_cmpuint(buf[120] | buf[121] << 8, ==, 64); /* LBA28 sectors */
    /* READ SECTORS: 2 sectors from LBA 5. */
    select_lba(f, 0, 5, 2);
    f->irqs = 0;
    ide_cmd_write(f->ch, 7, 0x20, 1);
    read_words(f, buf, 1024);
    g_assert_cmpint(f->irqs, ==, 2); /* one per DRQ block */
    for (int i = 0; i < 1024; i++) {
        g_assert_cmphex(buf[i], ==, (uint8_t)((5 + i / 512) ^ (i & 0xff)));
    }
    /* WRITE SECTORS then read back from the file. */
    select_lba(f, 0, 9, 1);
    ide_cmd_write(f->ch, 7, 0x30, 1);
    for (int i = 0; i < 256; i++) {
        ide_cmd_write(f->ch, 0, 0xa5a5, 2);
    }
    g_assert_cmphex(status(f), ==, 0x50);
    g_autofree char *contents = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(f->disk, &contents, &len, NULL));
    g_assert_cmphex((uint8_t)contents[9 * 512 + 17], ==, 0xa5);
    /* Out of range: IDNF. */
    select_lba(f, 0, 63, 2);
    ide_cmd_write(f->ch, 7, 0x20, 1);
    g_assert_cmphex(status(f), ==, 0x41);
    g_assert_cmphex(ide_cmd_read(f->ch, 1, 1), ==, 0x10);
    /* Unknown command: ABRT. */
    ide_cmd_write(f->ch, 7, 0xfe, 1);
    g_assert_cmphex(status(f), ==, 0x41);
    g_assert_cmphex(ide_cmd_read(f->ch, 1, 1), ==, 0x04);
}

static void test_dma(Fixture *f, gconstpointer data)
{
    /* PRD table at 0x1000: 512 bytes to 0x2000, 512 bytes to 0x8000. */
    uint8_t prd[16] = { 0x00, 0x20, 0, 0, 0x00, 0x02, 0, 0,
                        0x00, 0x80, 0, 0, 0x00, 0x02, 0, 0x80 };
    memcpy(f->ram + 0x1000, prd, 16);
    select_lba(f, 0, 3, 2);
    ide_cmd_write(f->ch, 7, 0xc8, 1);
    bool to_mem;
    g_assert_true(ide_dma_pending(f->ch, &to_mem));
    g_assert_true(to_mem);
    g_assert_true(ide_dma_run(f->ch, 0x1000));
    g_assert_cmphex(status(f), ==, 0x50);
    g_assert_cmphex(f->ram[0x2000 + 7], ==, 3 ^ 7);
    g_assert_cmphex(f->ram[0x8000 + 9], ==, 4 ^ 9);
    /* A PRD table pointing outside RAM is harmless. */
    uint8_t bad[8] = { 0, 0, 0, 0xf0, 0, 0, 0, 0x80 };
    memcpy(f->ram + 0x1000, bad, 8);
    select_lba(f, 0, 0, 32);
    ide_cmd_write(f->ch, 7, 0xc8, 1);
    g_assert_true(ide_dma_run(f->ch, 0x1000));
}

static void packet(Fixture *f, const uint8_t cdb[12], uint16_t limit)
{
    ide_cmd_write(f->ch, 6, 0xb0, 1);
    ide_cmd_write(f->ch, 1, 0, 1);
    ide_cmd_write(f->ch, 4, limit, 1);
    ide_cmd_write(f->ch, 5, limit >> 8, 1);
    ide_cmd_write(f->ch, 7, 0xa0, 1);
    g_assert_cmphex(ide_cmd_read(f->ch, 2, 1), ==, 1); /* CoD */
    for (int i = 0; i < 12; i += 2) {
        ide_cmd_write(f->ch, 0, cdb[i] | cdb[i + 1] << 8, 2);
    }
}

static void test_atapi(Fixture *f, gconstpointer data)
{
    uint8_t buf[4096];
    /* Signature of the slave. */
    ide_cmd_write(f->ch, 6, 0xb0, 1);
    ide_cmd_write(f->ch, 7, 0x08, 1);
    g_assert_cmphex(ide_cmd_read(f->ch, 4, 1), ==, 0x14);
    g_assert_cmphex(ide_cmd_read(f->ch, 5, 1), ==, 0xeb);
    /* IDENTIFY DEVICE is aborted on a packet device. */
    ide_cmd_write(f->ch, 7, 0xec, 1);
    g_assert_cmphex(status(f) & 1, ==, 1);
    ide_cmd_write(f->ch, 7, 0xa1, 1);
    read_words(f, buf, 512);
    g_assert_cmphex(buf[1], ==, 0x85);
    /* INQUIRY */
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
    packet(f, inq, 0xfffe);
    g_assert_cmphex(ide_cmd_read(f->ch, 2, 1), ==, 2); /* data in */
    g_assert_cmpuint(ide_cmd_read(f->ch, 4, 1), ==, 36);
    read_words(f, buf, 36);
    g_assert_cmphex(buf[0], ==, 5);
    g_assert_cmpmem(buf + 16, 5, "MIMIC", 5);
    g_assert_cmphex(status(f), ==, 0x50);
    g_assert_cmphex(ide_cmd_read(f->ch, 2, 1), ==, 3); /* completion */
    /* READ CAPACITY */
    uint8_t cap[12] = { 0x25 };
    packet(f, cap, 8);
    read_words(f, buf, 8);
    g_assert_cmpuint(buf[3], ==, 15);
    g_assert_cmpuint(buf[6], ==, 0x08);
    /* READ(10): 3 blocks from LBA 2 with a 2048-byte DRQ limit. */
    uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 2, 0, 0, 3 };
    packet(f, rd, 2048);
    for (int blk = 0; blk < 3; blk++) {
        g_assert_cmphex(status(f) & 0x08, ==, 0x08);
        g_assert_cmpuint(ide_cmd_read(f->ch, 4, 1) |
                         ide_cmd_read(f->ch, 5, 1) << 8, ==, 2048);
        read_words(f, buf, 2048);
        g_assert_cmphex(buf[100], ==, 0x40 + 2 + blk);
    }
    g_assert_cmphex(status(f), ==, 0x50);
    /* Out of range and unknown commands: CHECK CONDITION + sense. */
    uint8_t far[12] = { 0x28, 0, 0, 0, 0, 20, 0, 0, 1 };
    packet(f, far, 2048);
    g_assert_cmphex(status(f) & 1, ==, 1);
    g_assert_cmphex(ide_cmd_read(f->ch, 1, 1) >> 4, ==, 5);
    uint8_t rs[12] = { 0x03, 0, 0, 0, 18 };
    packet(f, rs, 18);
    read_words(f, buf, 18);
    g_assert_cmphex(buf[2], ==, 5);
    g_assert_cmphex(buf[12], ==, 0x21);
    /* Eject: no medium afterwards. */
    g_assert_true(ide_cd_change(f->ch, 1, NULL));
    uint8_t tur[12] = { 0x00 };
    packet(f, tur, 0);
    g_assert_cmphex(ide_cmd_read(f->ch, 1, 1) >> 4, ==, 6); /* UA first */
    packet(f, tur, 0);
    g_assert_cmphex(ide_cmd_read(f->ch, 1, 1) >> 4, ==, 2); /* not ready */
}

/* Run a command without data (or drain its data); returns the status. */
static uint8_t packet_nodata(Fixture *f, const uint8_t cdb[12])
{
    uint8_t junk[4096];
    packet(f, cdb, 2048);
    while (status(f) & 0x08) {
        read_words(f, junk, 2);
    }
    return status(f);
}

/* REQUEST SENSE: key, ASC, ASCQ packed as 0xKKAAQQ. */
static uint32_t sense(Fixture *f)
{
    uint8_t rs[12] = { 0x03, 0, 0, 0, 18 }, b[18];
    packet(f, rs, 18);
    read_words(f, b, 18);
    g_assert_cmphex(status(f) & 1, ==, 0);
    return (uint32_t)b[2] << 16 | b[12] << 8 | b[13];
}

/* GET EVENT STATUS NOTIFICATION, media class: event << 8 | status. */
static uint16_t media_event(Fixture *f)
{
    uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 }, b[8];
    packet(f, gesn, 8);
    read_words(f, b, 8);
    g_assert_cmphex(b[2] & 0x07, ==, 0x04); /* media class */
    return b[4] << 8 | b[5];
}

static void test_atapi_media_change(Fixture *f, gconstpointer data)
{
    static const uint8_t tur[12] = { 0x00 };
    static const uint8_t lock[12] = { 0x1e, 0, 0, 0, 1 };
    static const uint8_t unlock[12] = { 0x1e, 0, 0, 0, 0 };
    static const uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 1, 0, 0, 2 };
    uint8_t buf[2048];
    ide_cmd_write(f->ch, 6, 0xb0, 1);
    g_assert_cmphex(packet_nodata(f, tur) & 1, ==, 0);
    /* A new medium: the media event may be polled first without using
       up the unit attention, then UNIT ATTENTION 06/28/00 once. */
    BlockOpenOptions ro = { .format = "raw", .read_only = true };
    BlockDev *n = blk_open(f->cd, &ro, NULL);
    g_assert_true(ide_cd_change(f->ch, 1, n));
    g_assert_cmphex(media_event(f), ==, 0x0202); /* new media, present */
    g_assert_cmphex(media_event(f), ==, 0x0002); /* reported once */
    g_assert_cmphex(packet_nodata(f, tur) & 1, ==, 1);
    g_assert_cmphex(ide_cmd_read(f->ch, 1, 1) >> 4, ==, 6);
    g_assert_cmphex(sense(f), ==, 0x062800);
    g_assert_cmphex(packet_nodata(f, tur) & 1, ==, 0);
    g_assert_cmphex(sense(f), ==, 0);
    /* The guest locks the tray: eject is refused, the guest hears an
       eject request, the medium stays readable. */
    g_assert_cmphex(packet_nodata(f, lock) & 1, ==, 0);
    g_assert_false(ide_cd_eject(f->ch, 1, false));
    g_assert_cmphex(media_event(f), ==, 0x0102);
    g_assert_cmphex(packet_nodata(f, tur) & 1, ==, 0);
    g_assert_true(f->ch->drive[1].locked);
    /* Unlocked, an eject opens the tray: NOT READY 02/3A/00. */
    g_assert_cmphex(packet_nodata(f, unlock) & 1, ==, 0);
    g_assert_true(ide_cd_eject(f->ch, 1, false));
    g_assert_cmphex(media_event(f), ==, 0x0301); /* removal, tray open */
    g_assert_cmphex(packet_nodata(f, tur) & 1, ==, 1);
    g_assert_cmphex(ide_cmd_read(f->ch, 1, 1) >> 4, ==, 2);
    g_assert_cmphex(sense(f), ==, 0x023a00);
    g_assert_cmphex(packet_nodata(f, rd) & 1, ==, 1);
    g_assert_cmphex(sense(f), ==, 0x023a00);
    blk_close(n);
    /* Forced eject of a locked tray, in the middle of a READ. */
    n = blk_open(f->cd, &ro, NULL);
    g_assert_true(ide_cd_change(f->ch, 1, n));
    packet_nodata(f, tur);
    g_assert_cmphex(sense(f), ==, 0x062800);
    g_assert_cmphex(packet_nodata(f, lock) & 1, ==, 0);
    uint8_t big[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 12 };
    packet(f, big, 2048);
    read_words(f, buf, 2048);
    g_assert_false(ide_cd_eject(f->ch, 1, false));
    g_assert_true(ide_cd_eject(f->ch, 1, true));
    g_assert_false(f->ch->drive[1].locked);
    blk_close(n);
    for (int i = 0; i < 64 && (status(f) & 0x08); i++) {
        read_words(f, buf, 2048);
    }
    g_assert_cmphex(status(f) & 0x08, ==, 0);
    g_assert_cmphex(packet_nodata(f, tur) & 1, ==, 1);
    g_assert_cmphex(sense(f) >> 8, ==, 0x023a);
    /* A hard disk has no media to change. */
    g_assert_false(ide_cd_eject(f->ch, 0, true));
    g_assert_false(ide_cd_change(f->ch, 0, NULL));
}

static void test_register_fuzz(Fixture *f, gconstpointer data)
{
    GRand *r = g_rand_new_with_seed(1234);
    for (int i = 0; i < 200000; i++) {
        unsigned off = g_rand_int_range(r, 0, 9);
        uint32_t v = g_rand_int(r);
        int op = g_rand_int_range(r, 0, 4);
        if (off == 8) {
            if (op == 0) {
                ide_ctl_write(f->ch, v & 0xff);
            } else {
                ide_ctl_read(f->ch);
            }
        } else if (op == 0) {
            ide_cmd_write(f->ch, off, off == 0 ? v & 0xffff : v & 0xff,
                          off == 0 ? 2 : 1);
        } else if (op == 1 && off == 6) {
            bool m;
            if (ide_dma_pending(f->ch, &m)) {
                ide_dma_run(f->ch, g_rand_int(r) & 0xfffff);
            }
        } else {
            ide_cmd_read(f->ch, off, off == 0 ? 4 : 1);
        }
    }
    g_rand_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/hw/ide/identify-and-pio", Fixture, NULL, fixture_setup,
               test_identify_and_pio, fixture_teardown);
    g_test_add("/hw/ide/dma", Fixture, NULL, fixture_setup, test_dma,
               fixture_teardown);
    g_test_add("/hw/ide/atapi", Fixture, NULL, fixture_setup, test_atapi,
               fixture_teardown);
    g_test_add("/hw/ide/atapi-media-change", Fixture, NULL, fixture_setup,
               test_atapi_media_change, fixture_teardown);
    g_test_add("/hw/ide/register-fuzz", Fixture, NULL, fixture_setup,
               test_register_fuzz, fixture_teardown);
    return g_test_run();
}
