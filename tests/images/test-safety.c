/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The block layer against images and guests that try to reach the host
 * (issue 15, items 1-3 and 5):
 *  - an image whose format was guessed raw refuses guest writes that would
 *    give its first sector another format's magic (CVE-2008-2004 class);
 *  - a recognised magic never falls back to raw: a qcow2 image that cannot
 *    be opened is refused, and the file stays as it was;
 *  - /proc, devices, FIFOs and directories are refused as backing files
 *    (and the special ones as images), without hanging;
 *  - backing loops through other spellings of a path are found, in one
 *    line;
 *  - OFD locks in QEMU's layout: two writers, or a writer and a reader,
 *    never share an image; readers do; locking=off and force_share do.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/be.h"
#include "images/block.h"

static char *tmpdir;

static char *tpath(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static void make_raw(const char *path, size_t size, uint8_t fill)
{
    g_autofree uint8_t *b = g_malloc(size);
    memset(b, fill, size);
    g_assert_true(g_file_set_contents(path, (char *)b, (gssize)size, NULL));
}

static void make_qcow2(const char *path, const char *backing,
                       const char *backing_fmt)
{
    BlockCreateOptions co = { .format = "qcow2", .size = 1 << 20,
                              .backing_file = backing,
                              .backing_format = backing_fmt };
    g_assert_true(blk_create(path, &co, NULL));
}

/* A qcow2 header (the first 512 bytes of a real image) naming `backing`. */
static void qcow2_sector0(uint8_t sec[512], const char *backing)
{
    g_autofree char *p = tpath("hdr.qcow2");
    BlockCreateOptions co = { .format = "qcow2", .size = 1 << 20 };
    g_assert_true(blk_create(p, &co, NULL));
    FILE *f = fopen(p, "rb");
    g_assert_nonnull(f);
    g_assert_cmpuint(fread(sec, 1, 512, f), ==, 512);
    fclose(f);
    g_unlink(p);
    if (backing) {
        size_t n = strlen(backing);
        be64_store(sec + 8, 400);
        be32_store(sec + 16, (uint32_t)n);
        memcpy(sec + 400, backing, n);
    }
}

static void assert_file_starts(const char *path, uint8_t fill, size_t n)
{
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_cmpuint(len, >=, n);
    for (size_t i = 0; i < n; i++) {
        g_assert_cmpuint((uint8_t)data[i], ==, fill);
    }
}

static void test_probed_raw_sector0(void)
{
    g_autofree char *img = tpath("guest.img");
    make_raw(img, 64 * 1024, 0);
    BlockOpenOptions o = { .probe_writable = true };
    GError *err = NULL;
    BlockDev *b = blk_open(img, &o, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(blk_format_name(b), ==, "raw");

    uint8_t sec[512];
    qcow2_sector0(sec, "/etc/passwd");
    /* The whole header at once, at offset 0. */
    g_assert_false(blk_pwrite(b, 0, sec, sizeof(sec), &err));
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_DENIED);
    g_clear_error(&err);
    /* The magic alone, as a sub-sector write. */
    g_assert_false(blk_pwrite(b, 0, sec, 8, &err));
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_DENIED);
    g_clear_error(&err);
    /* Several sectors starting at 0. */
    g_autofree uint8_t *big = g_malloc0(4096);
    memcpy(big, sec, sizeof(sec));
    g_assert_false(blk_pwrite(b, 0, big, 4096, &err));
    g_clear_error(&err);
    /* qcow version 1's magic too. */
    uint8_t q1[8] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 1 };
    g_assert_false(blk_pwrite(b, 0, q1, sizeof(q1), &err));
    g_clear_error(&err);
    assert_file_starts(img, 0, 512);

    /* An ordinary boot sector, and anything past sector 0, are fine. */
    uint8_t mbr[512] = { 0xeb, 0x3c, 0x90 };
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    g_assert_true(blk_pwrite(b, 0, mbr, sizeof(mbr), &err));
    g_assert_no_error(err);
    g_assert_true(blk_pwrite(b, 512, sec, sizeof(sec), &err));
    g_assert_no_error(err);
    blk_close(b);

    /* The magic written in two steps (bytes 4..7, then 0..3) is caught
     * at the step that completes it. */
    b = blk_open(img, &o, NULL);
    g_assert_true(blk_pwrite(b, 4, sec + 4, 4, NULL));
    g_assert_false(blk_pwrite(b, 0, sec, 4, &err));
    g_clear_error(&err);
    blk_close(b);
    {
        GError *e2 = NULL;
        const char *fmt = blk_probe_format(img, &e2);
        g_assert_no_error(e2);
        g_assert_cmpstr(fmt, ==, "raw");
    }

    /* Named raw, the user has said what the image is: allowed. */
    BlockOpenOptions named = { .format = "raw" };
    b = blk_open(img, &named, NULL);
    g_assert_true(blk_pwrite(b, 0, sec, sizeof(sec), &err));
    g_assert_no_error(err);
    blk_close(b);
    g_unlink(img);
}

/* Damage a fresh qcow2 image at one header field; the open must fail with
 * an error naming the image, also when the format was guessed, and the
 * file must be left byte for byte as it was. */
static void refused(const char *name, void (*damage)(uint8_t *hdr),
                    const char *expect)
{
    g_autofree char *img = tpath(name);
    make_qcow2(img, NULL, NULL);
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(img, &data, &len, NULL));
    damage((uint8_t *)data);
    g_assert_true(g_file_set_contents(img, data, (gssize)len, NULL));

    GError *err = NULL;
    GError *perr = NULL;
    const char *fmt = blk_probe_format(img, &perr);
    g_assert_no_error(perr);
    g_assert_cmpstr(fmt, !=, "raw");
    BlockOpenOptions o = { .probe_writable = true };
    BlockDev *b = blk_open(img, &o, &err);
    g_assert_null(b);
    g_assert_nonnull(err);
    if (!strstr(err->message, expect) || !strstr(err->message, name)) {
        g_error("%s: '%s' lacks '%s' or the image's name", name,
                err->message, expect);
    }
    g_clear_error(&err);
    g_autofree char *after = NULL;
    gsize alen;
    g_assert_true(g_file_get_contents(img, &after, &alen, NULL));
    g_assert_cmpmem(data, len, after, alen);
    g_unlink(img);
}

static void bad_version(uint8_t *h) { be32_store(h + 4, 9); }
static void version0(uint8_t *h) { be32_store(h + 4, 0); }
static void encrypted(uint8_t *h) { be32_store(h + 32, 1); }
static void ext_l2(uint8_t *h) { be64_store(h + 72, 1ull << 4); }
static void broken_l1(uint8_t *h) { be64_store(h + 40, 0x7fffffffffffffffull); }

static void test_no_raw_fallback(void)
{
    refused("version9.qcow2", bad_version, "version");
    refused("version0.qcow2", version0, "version");
    refused("encrypted.qcow2", encrypted, "encrypt");
    refused("extl2.qcow2", ext_l2, "");
    refused("brokenl1.qcow2", broken_l1, "");
}

static void test_missing_backing(void)
{
    g_autofree char *top = tpath("orphan.qcow2");
    make_qcow2(top, "gone.img", "raw");
    GError *err = NULL;
    BlockOpenOptions o = { .probe_writable = true };
    g_assert_null(blk_open(top, &o, &err));
    g_assert_nonnull(strstr(err->message, "gone.img"));
    g_clear_error(&err);
    g_unlink(top);
}

static void expect_backing_refused(const char *backing, const char *fmt)
{
    g_autofree char *top = tpath("evil.qcow2");
    make_qcow2(top, NULL, NULL);
    BlockOpenOptions rw = { .format = "qcow2" };
    BlockDev *b = blk_open(top, &rw, NULL);
    g_assert_nonnull(b);
    /* Point it at the target without opening the target. */
    GError *err = NULL;
    if (!blk_change_backing(b, backing, fmt, &err)) {
        g_clear_error(&err);
    }
    blk_close(b);
    BlockOpenOptions ro = { .format = "qcow2", .read_only = true };
    b = blk_open(top, &ro, &err);
    if (b) {
        g_error("'%s' was accepted as a backing file", backing);
    }
    g_assert_nonnull(err);
    g_test_message("%s: %s", backing, err->message);
    g_clear_error(&err);
    g_unlink(top);
}

static void test_special_backing(void)
{
    expect_backing_refused("/proc/self/environ", "raw");
    expect_backing_refused("/proc/self/mem", "raw");
    expect_backing_refused("/dev/zero", "raw");
    expect_backing_refused("/dev/null", NULL);
    expect_backing_refused("/sys/kernel/mm/transparent_hugepage/enabled",
                           "raw");
    expect_backing_refused(tmpdir, "raw");   /* a directory */
    g_autofree char *fifo = tpath("fifo");
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    expect_backing_refused(fifo, "raw");      /* and no hang */
    /* A FIFO or /proc file as the image itself. */
    GError *err = NULL;
    BlockOpenOptions o = { .format = "raw" };
    g_assert_null(blk_open(fifo, &o, &err));
    g_clear_error(&err);
    g_assert_null(blk_open("/proc/self/environ", &o, &err));
    g_clear_error(&err);
    g_unlink(fifo);
}

static void test_loop_spellings(void)
{
    g_autofree char *a = tpath("ra.qcow2");
    make_qcow2(a, NULL, NULL);
    BlockOpenOptions rw = { .format = "qcow2" };
    BlockDev *b = blk_open(a, &rw, NULL);
    g_assert_true(blk_change_backing(b, "./ra.qcow2", "qcow2", NULL));
    blk_close(b);
    GError *err = NULL;
    BlockOpenOptions ro = { .format = "qcow2", .read_only = true };
    g_assert_null(blk_open(a, &ro, &err));
    g_assert_nonnull(strstr(err->message, "loop"));
    /* One line, one mention of the problem. */
    g_assert_null(strchr(err->message, '\n'));
    g_clear_error(&err);

    /* a -> ./sub/../rb -> a through a symlink. */
    g_autofree char *rb = tpath("rb.qcow2");
    g_autofree char *link = tpath("ra-link.qcow2");
    make_qcow2(rb, "ra-link.qcow2", "qcow2");
    g_assert_cmpint(symlink("ra.qcow2", link), ==, 0);
    BlockOpenOptions rebase = { .format = "qcow2", .no_backing = true };
    b = blk_open(a, &rebase, NULL);
    g_assert_nonnull(b);
    g_assert_true(blk_change_backing(b, "rb.qcow2", "qcow2", NULL));
    blk_close(b);
    g_assert_null(blk_open(a, &ro, &err));
    g_assert_nonnull(strstr(err->message, "loop"));
    g_assert_null(strchr(err->message, '\n'));
    g_clear_error(&err);
    g_unlink(link);
    g_unlink(rb);
    g_unlink(a);
}

static void test_locking(void)
{
    g_autofree char *img = tpath("locked.qcow2");
    g_autofree char *raw = tpath("locked.img");
    make_qcow2(img, NULL, NULL);
    make_raw(raw, 64 * 1024, 0);
    BlockOpenOptions rw = { .format = "qcow2" };
    BlockOpenOptions ro = { .format = "qcow2", .read_only = true };
    GError *err = NULL;

    BlockDev *w = blk_open(img, &rw, &err);
    g_assert_no_error(err);
    /* A second writer, and a reader that refuses others' writes. */
    g_assert_null(blk_open(img, &rw, &err));
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_LOCKED);
    g_assert_nonnull(strstr(err->message, "\"write\" lock"));
    g_clear_error(&err);
    g_assert_null(blk_open(img, &ro, &err));
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_LOCKED);
    g_assert_nonnull(strstr(err->message, "shared \"write\" lock"));
    g_clear_error(&err);
    /* Forced sharing (mimic-img -U) and locking=off get through. */
    BlockOpenOptions shared = { .format = "qcow2", .read_only = true,
                                .force_share = true };
    BlockDev *s = blk_open(img, &shared, &err);
    g_assert_no_error(err);
    blk_close(s);
    BlockOpenOptions nolock = { .format = "qcow2", .no_locking = true };
    BlockDev *n = blk_open(img, &nolock, &err);
    g_assert_no_error(err);
    blk_close(n);
    blk_close(w);

    /* Readers share; a writer then waits for them all to close. */
    BlockDev *r1 = blk_open(img, &ro, &err);
    g_assert_no_error(err);
    BlockDev *r2 = blk_open(img, &ro, &err);
    g_assert_no_error(err);
    g_assert_null(blk_open(img, &rw, &err));
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_LOCKED);
    g_clear_error(&err);
    blk_close(r1);
    g_assert_null(blk_open(img, &rw, &err));
    g_clear_error(&err);
    blk_close(r2);
    w = blk_open(img, &rw, &err);
    g_assert_no_error(err);
    blk_close(w);

    /* A qcow2 overlay locks its backing file against writers; a second
     * overlay on the same backing file is fine (both only read it). */
    g_autofree char *o1 = tpath("ov1.qcow2");
    g_autofree char *o2 = tpath("ov2.qcow2");
    make_qcow2(o1, "locked.img", "raw");
    make_qcow2(o2, "locked.img", "raw");
    BlockDev *v1 = blk_open(o1, &rw, &err);
    g_assert_no_error(err);
    BlockDev *v2 = blk_open(o2, &rw, &err);
    g_assert_no_error(err);
    BlockOpenOptions rawrw = { .format = "raw" };
    g_assert_null(blk_open(raw, &rawrw, &err));
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_LOCKED);
    g_clear_error(&err);
    blk_close(v1);
    blk_close(v2);

    /* -snapshot: the image is only read, by any number of users. */
    BlockOpenOptions snap = { .format = "raw", .snapshot = true };
    BlockDev *s1 = blk_open(raw, &snap, &err);
    g_assert_no_error(err);
    BlockDev *s2 = blk_open(raw, &snap, &err);
    g_assert_no_error(err);
    g_assert_null(blk_open(raw, &rawrw, &err));
    g_clear_error(&err);
    blk_close(s1);
    blk_close(s2);
    g_unlink(o1);
    g_unlink(o2);
    g_unlink(raw);
    g_unlink(img);
}

/* The lock bytes are QEMU's: qemu-img sees Mimic's lock and says so. */
static void test_locking_qemu(void)
{
    if (!g_file_test("/usr/bin/qemu-img", G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("qemu-img (qemu-utils) is not installed");
        return;
    }
    g_autofree char *img = tpath("q.qcow2");
    make_qcow2(img, NULL, NULL);
    BlockOpenOptions rw = { .format = "qcow2" };
    BlockDev *w = blk_open(img, &rw, NULL);
    g_assert_nonnull(w);
    const char *argv[] = { "/usr/bin/qemu-img", "info", img, NULL };
    g_autofree char *out = NULL, *errs = NULL;
    int status = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL,
                               &out, &errs, &status, NULL));
    g_assert_false(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(errs, "lock"));
    blk_close(w);
    g_free(errs);
    g_free(out);
    errs = out = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL,
                               &out, &errs, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_unlink(img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("mimic-safety-XXXXXX", NULL);
    g_test_add_func("/images/safety/probed-raw-sector0",
                    test_probed_raw_sector0);
    g_test_add_func("/images/safety/no-raw-fallback", test_no_raw_fallback);
    g_test_add_func("/images/safety/missing-backing", test_missing_backing);
    g_test_add_func("/images/safety/special-backing", test_special_backing);
    g_test_add_func("/images/safety/loop-spellings", test_loop_spellings);
    g_test_add_func("/images/safety/locking", test_locking);
    g_test_add_func("/images/safety/locking-qemu", test_locking_qemu);
    int ret = g_test_run();
    g_rmdir(tmpdir);
    return ret;
}
