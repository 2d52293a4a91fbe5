/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Robustness of the image drivers: hostile qcow2/qcow headers (fields out
 * of range, tables too large or past EOF, offsets into metadata,
 * unaligned entries, backing-chain loops, truncation at every 512-byte
 * boundary) must give a clear error, never a crash, hang or unbounded
 * allocation; and crash consistency: a writer killed with SIGKILL at
 * seeded points between its host writes leaves an image qemu-img check
 * accepts (leaks at most) in which every flushed write reads back.
 */
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "images/be.h"
#include "images/block.h"

#define QEMU_IMG "/usr/bin/qemu-img"

static char *tmpdir;

static char *tpath(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static uint8_t *make_image(const char *path, int compat, gsize *len)
{
    BlockCreateOptions co = { .format = "qcow2", .size = 4 << 20,
                              .cluster_size = 4096, .compat = compat };
    g_assert_true(blk_create(path, &co, NULL));
    BlockOpenOptions oo = { .format = "qcow2" };
    BlockDev *b = blk_open(path, &oo, NULL);
    g_assert_nonnull(b);
    uint8_t buf[10000];
    memset(buf, 0x33, sizeof(buf));
    g_assert_true(blk_pwrite(b, 5000, buf, sizeof(buf), NULL));
    g_assert_true(blk_pwrite(b, 3 << 20, buf, sizeof(buf), NULL));
    blk_close(b);
    char *data;
    g_assert_true(g_file_get_contents(path, &data, len, NULL));
    return (uint8_t *)data;
}

/* Open + read everything + check; must fail cleanly or succeed. */
static void exercise(const char *path)
{
    GError *err = NULL;
    BlockOpenOptions ro = { .format = "qcow2", .read_only = true };
    BlockDev *b = blk_open(path, &ro, &err);
    if (!b) {
        g_assert_nonnull(err);
        g_assert_true(err->domain == BLOCK_ERROR);
        g_assert_cmpuint(strlen(err->message), >, 0);
        g_clear_error(&err);
        return;
    }
    uint8_t *buf = g_malloc(65536);
    uint64_t size = blk_get_size(b);
    for (uint64_t off = 0; off < size && off < (64u << 20); off += 65536) {
        if (!blk_pread(b, off, buf, MIN(65536, size - off), &err)) {
            g_assert_nonnull(err);
            g_clear_error(&err);
        }
    }
    BlockCheckResult r;
    if (!blk_check(b, BLOCK_CHECK_NONE, &r, &err)) {
        g_clear_error(&err);
    }
    g_free(buf);
    blk_close(b);
}

static void mutate(const char *path, const uint8_t *img, gsize len,
                   size_t off, const uint8_t *val, size_t vlen)
{
    uint8_t *c = g_memdup2(img, len);
    memcpy(c + off, val, vlen);
    g_assert_true(g_file_set_contents(path, (char *)c, len, NULL));
    g_free(c);
}

static void put32(const char *path, const uint8_t *img, gsize len,
                  size_t off, uint32_t v)
{
    uint8_t b[4];
    be32_store(b, v);
    mutate(path, img, len, off, b, 4);
}

static void put64(const char *path, const uint8_t *img, gsize len,
                  size_t off, uint64_t v)
{
    uint8_t b[8];
    be64_store(b, v);
    mutate(path, img, len, off, b, 8);
}

static bool opens(const char *path)
{
    GError *err = NULL;
    BlockOpenOptions ro = { .format = "qcow2", .read_only = true };
    BlockDev *b = blk_open(path, &ro, &err);
    if (b) {
        blk_close(b);
        return true;
    }
    g_assert_nonnull(err);
    g_clear_error(&err);
    return false;
}

static void test_hostile_header(void)
{
    g_autofree char *good = tpath("good.qcow2");
    g_autofree char *bad = tpath("bad.qcow2");
    gsize len;
    uint8_t *img = make_image(good, 3, &len);
    g_assert_true(opens(good));
    /* Field out of range: each must be refused at open. */
    put32(bad, img, len, 20, 8);            /* cluster_bits too small */
    g_assert_false(opens(bad));
    put32(bad, img, len, 20, 40);           /* cluster_bits too large */
    g_assert_false(opens(bad));
    put32(bad, img, len, 4, 7);             /* version */
    g_assert_false(opens(bad));
    put32(bad, img, len, 36, 0x7fffffff);   /* L1 too large */
    g_assert_false(opens(bad));
    put64(bad, img, len, 40, 1ULL << 50);   /* L1 past EOF */
    g_assert_false(opens(bad));
    put64(bad, img, len, 40, 4097);         /* L1 unaligned */
    g_assert_false(opens(bad));
    put32(bad, img, len, 56, 0x7fffffff);   /* refcount table too big */
    g_assert_false(opens(bad));
    put64(bad, img, len, 48, 1ULL << 50);   /* refcount table past EOF */
    g_assert_false(opens(bad));
    put64(bad, img, len, 24, 1ULL << 62);   /* size needs a bigger L1 */
    g_assert_false(opens(bad));
    put32(bad, img, len, 96, 9);            /* refcount order */
    g_assert_false(opens(bad));
    put64(bad, img, len, 72, 1ULL << 40);   /* unknown incompat bit */
    g_assert_false(opens(bad));
    put32(bad, img, len, 32, 1);            /* encryption */
    g_assert_false(opens(bad));
    put32(bad, img, len, 60, 1000000);      /* too many snapshots */
    g_assert_false(opens(bad));
    /* Entries pointing into metadata or unaligned: reads fail cleanly. */
    uint64_t l1off = be64_load(img + 40);
    put64(bad, img, len, l1off, 0x8000000000000000ULL | 0);
    exercise(bad);
    put64(bad, img, len, l1off, 0x8000000000000000ULL | (4096 * 2 + 8));
    exercise(bad);
    put64(bad, img, len, l1off, 0x8000000000000000ULL | (1ULL << 45));
    exercise(bad);
    /* A writable open refuses to write into metadata and marks the image
     * corrupt, as QEMU does. */
    uint64_t l2off = be64_load(img + l1off) & 0x00fffffffffffe00ULL;
    put64(bad, img, len, l2off + 8, 0x8000000000000000ULL | l1off);
    BlockOpenOptions rw = { .format = "qcow2" };
    GError *err = NULL;
    BlockDev *b = blk_open(bad, &rw, &err);
    g_assert_no_error(err);
    uint8_t data[512] = { 1 };
    g_assert_false(blk_pwrite(b, 4096 + 10, data, sizeof(data), &err));
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_CORRUPT);
    g_clear_error(&err);
    blk_close(b);
    b = blk_open(bad, &rw, &err);
    g_assert_null(b);
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_CORRUPT);
    g_clear_error(&err);
    g_free(img);
    g_unlink(good);
    g_unlink(bad);
}

static void test_truncation(void)
{
    g_autofree char *good = tpath("t.qcow2");
    g_autofree char *bad = tpath("tb.qcow2");
    gsize len;
    uint8_t *img = make_image(good, 3, &len);
    for (gsize cut = 0; cut < len; cut += 512) {
        g_assert_true(g_file_set_contents(bad, (char *)img, cut, NULL));
        exercise(bad);
    }
    g_free(img);
    g_unlink(good);
    g_unlink(bad);
}

static void test_backing_loop(void)
{
    g_autofree char *a = tpath("la.qcow2");
    g_autofree char *b = tpath("lb.qcow2");
    BlockCreateOptions co = { .format = "qcow2", .size = 1 << 20 };
    g_assert_true(blk_create(a, &co, NULL));
    co.backing_file = "la.qcow2";
    co.backing_format = "qcow2";
    g_assert_true(blk_create(b, &co, NULL));
    /* Now point a at b: a -> b -> a -> ... */
    BlockOpenOptions rw = { .format = "qcow2" };
    BlockDev *d = blk_open(a, &rw, NULL);
    g_assert_nonnull(d);
    g_assert_true(blk_change_backing(d, "lb.qcow2", "qcow2", NULL));
    blk_close(d);
    GError *err = NULL;
    BlockOpenOptions ro = { .format = "qcow2", .read_only = true };
    g_assert_null(blk_open(a, &ro, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_unlink(a);
    g_unlink(b);
}

/* Deterministic op i of the crash workload. */
static void crash_op(GRand *r, uint64_t size, uint64_t *off, size_t *len,
                     uint8_t *v, bool *flush)
{
    *off = g_rand_int_range(r, 0, (gint32)size);
    uint64_t want = g_rand_int_range(r, 1, 20000);
    *len = MIN(want, size - *off);
    *v = g_rand_int_range(r, 1, 256);
    *flush = g_rand_int_range(r, 0, 4) == 0;
}

#define CRASH_OPS 60
#define CRASH_SIZE (2u << 20)

static void test_crash(void)
{
    if (!g_file_test(QEMU_IMG, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("*** qemu-img missing: crash test needs it ***");
        return;
    }
    g_autofree char *img = tpath("crash.qcow2");
    GRand *pick = g_rand_new_with_seed(77);
    uint8_t *model = g_malloc(CRASH_SIZE);
    uint8_t *unknown = g_malloc(CRASH_SIZE);
    uint8_t *buf = g_malloc(CRASH_SIZE);
    int killed = 0;
    for (int iter = 0; iter < 100; iter++) {
        guint32 seed = g_rand_int(pick);
        int crash_after = g_rand_int_range(pick, 0, 400);
        BlockCreateOptions co = { .format = "qcow2", .size = CRASH_SIZE,
                                  .cluster_size = 4096 << (iter % 3),
                                  .compat = iter % 4 ? 3 : 2 };
        g_assert_true(blk_create(img, &co, NULL));
        int fds[2];
        g_assert_cmpint(pipe(fds), ==, 0);
        pid_t pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
            close(fds[0]);
            g_autofree char *n = g_strdup_printf("%d", crash_after);
            g_setenv("MIMIC_BLOCK_CRASH_AFTER", n, TRUE);
            BlockOpenOptions oo = { .format = "qcow2" };
            BlockDev *b = blk_open(img, &oo, NULL);
            if (!b) {
                _exit(3);
            }
            GRand *r = g_rand_new_with_seed(seed);
            for (int i = 0; i < CRASH_OPS; i++) {
                uint64_t off;
                size_t len;
                uint8_t v;
                bool fl;
                crash_op(r, CRASH_SIZE, &off, &len, &v, &fl);
                memset(buf, v, len);
                GError *e = NULL;
                if (!blk_pwrite(b, off, buf, len, &e)) {
                    fprintf(stderr, "writer: %s\n", e->message);
                    _exit(4);
                }
                if (fl) {
                    if (!blk_flush(b, NULL)) {
                        _exit(5);
                    }
                    int32_t done = i;
                    if (write(fds[1], &done, 4) != 4) {
                        _exit(6);
                    }
                }
            }
            _exit(0);   /* finished before the crash point */
        }
        close(fds[1]);
        int32_t done = -1, x;
        while (read(fds[0], &x, 4) == 4) {
            done = x;
        }
        close(fds[0]);
        int st;
        g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
        if (WIFEXITED(st) && WEXITSTATUS(st)) {
            g_test_message("writer exit %d", WEXITSTATUS(st));
        }
        g_assert_true((WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) ||
                      (WIFEXITED(st) && WEXITSTATUS(st) == 0));
        killed += WIFSIGNALED(st);
        /* Replay: model up to the last reported flush; bytes of later ops
         * (up to and including the next flush) are unknown. */
        memset(model, 0, CRASH_SIZE);
        memset(unknown, 0, CRASH_SIZE);
        GRand *r = g_rand_new_with_seed(seed);
        bool past_next_flush = false;
        for (int i = 0; i < CRASH_OPS && !past_next_flush; i++) {
            uint64_t off;
            size_t len;
            uint8_t v;
            bool fl;
            crash_op(r, CRASH_SIZE, &off, &len, &v, &fl);
            if (i <= done) {
                memset(model + off, v, len);
            } else {
                memset(unknown + off, 1, len);
                past_next_flush = fl;
            }
        }
        g_rand_free(r);
        g_autofree char *cmd = g_strdup_printf(QEMU_IMG " check -q -f qcow2"
                                               " %s >/dev/null 2>&1", img);
        int cst = system(cmd);
        g_assert_true(WIFEXITED(cst));
        int rc = WEXITSTATUS(cst);
        if (rc != 0 && rc != 3) {
            g_test_message("crash iteration %d (seed %u, after %d writes): "
                           "qemu-img check exit %d", iter, seed, crash_after,
                           rc);
        }
        g_assert_true(rc == 0 || rc == 3);
        BlockOpenOptions ro = { .format = "qcow2", .read_only = true };
        GError *err = NULL;
        BlockDev *b = blk_open(img, &ro, &err);
        g_assert_no_error(err);
        g_assert_true(blk_pread(b, 0, buf, CRASH_SIZE, NULL));
        blk_close(b);
        for (uint64_t k = 0; k < CRASH_SIZE; k++) {
            if (!unknown[k] && buf[k] != model[k]) {
                g_test_message("iteration %d: byte %" G_GUINT64_FORMAT
                               " lost", iter, k);
                g_assert_cmphex(buf[k], ==, model[k]);
            }
        }
        g_unlink(img);
    }
    /* Most iterations must really have been killed mid-way. */
    g_assert_cmpint(killed, >, 50);
    g_rand_free(pick);
    g_free(model);
    g_free(unknown);
    g_free(buf);
}

/*
 * The overlap check remembers data clusters it found clear; metadata that
 * later lands on such a cluster must still be caught. An uncounted data
 * cluster (refcount 0, patched in) is written (remembered), then becomes
 * a new L2 table; writing the old mapping again must mark the image
 * corrupt instead of overwriting the table.
 */
static void test_overlap_cache(void)
{
    char *path = tpath("ovl.qcow2");
    BlockCreateOptions co = { .format = "qcow2", .size = 4 << 20,
                              .cluster_size = 4096, .compat = 3 };
    g_assert_true(blk_create(path, &co, NULL));
    BlockOpenOptions oo = { .format = "qcow2" };
    BlockDev *b = blk_open(path, &oo, NULL);
    g_assert_nonnull(b);
    uint8_t buf[4096];
    memset(buf, 0x44, sizeof(buf));
    g_assert_true(blk_pwrite(b, 0, buf, sizeof(buf), NULL));
    blk_close(b);

    gsize len;
    char *d;
    g_assert_true(g_file_get_contents(path, &d, &len, NULL));
    uint8_t *img = (uint8_t *)d;
    uint64_t l1 = be64_load(img + 40), rt = be64_load(img + 48);
    g_assert_cmpuint(be32_load(img + 96), ==, 4);
    uint64_t l2 = be64_load(img + l1) & 0x00fffffffffffe00ULL;
    uint64_t data = be64_load(img + l2) & 0x00fffffffffffe00ULL;
    uint64_t rb = be64_load(img + rt) & 0x00fffffffffffe00ULL;
    g_assert_cmpuint(data, !=, 0);
    g_assert_cmpuint(be16_load(img + rb + 2 * (data >> 12)), ==, 1);
    be16_store(img + rb + 2 * (data >> 12), 0);
    /* Nothing free below the data cluster, so it is the next allocation. */
    for (uint64_t c = 0; c < data >> 12; c++) {
        g_assert_cmpuint(be16_load(img + rb + 2 * c), !=, 0);
    }
    g_assert_true(g_file_set_contents(path, d, (gssize)len, NULL));
    g_free(d);

    b = blk_open(path, &oo, NULL);
    g_assert_nonnull(b);
    GError *err = NULL;
    memset(buf, 0x55, sizeof(buf));
    g_assert_true(blk_pwrite(b, 0, buf, sizeof(buf), &err));
    g_assert_no_error(err);
    /* A new L2 table (the second 2 MiB) takes the uncounted cluster. */
    g_assert_true(blk_pwrite(b, 3 << 20, buf, sizeof(buf), &err));
    g_assert_no_error(err);
    g_assert_false(blk_pwrite(b, 0, buf, sizeof(buf), &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "active L2 table"));
    g_clear_error(&err);
    blk_close(b);
    g_free(path);
}

/*
 * Lazy refcounts: with the dirty bit set, refcount updates stay in memory
 * until flush/close. A writer killed after allocating past its last flush
 * leaves refcounts that qemu-img check calls corrupt; Mimic's writable
 * open repairs them, after which qemu-img check is clean and every write
 * reads back (the page cache survives SIGKILL).
 */
#define LAZY_SIZE (4 << 20)
static void lazy_writes(uint8_t *model, BlockDev *b, int from, int to)
{
    for (int i = from; i < to; i++) {
        uint64_t off = ((uint64_t)i * 7919 * 4096 + i * 333) % (LAZY_SIZE - 9000);
        uint8_t buf[9000];
        memset(buf, 0x10 + i, sizeof(buf));
        if (b) {
            GError *e = NULL;
            if (!blk_pwrite(b, off, buf, sizeof(buf), &e)) {
                fprintf(stderr, "writer: %s\n", e->message);
                _exit(4);
            }
        }
        memcpy(model + off, buf, sizeof(buf));
    }
}

static void test_lazy_refcounts(void)
{
    if (!g_file_test(QEMU_IMG, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("*** " QEMU_IMG " missing: lazy refcounts NOT tested ***");
        return;
    }
    g_autofree char *img = tpath("lazy.qcow2");
    BlockCreateOptions co = { .format = "qcow2", .size = LAZY_SIZE,
                              .cluster_size = 4096, .compat = 3,
                              .lazy_refcounts = true };
    g_assert_true(blk_create(img, &co, NULL));
    uint8_t *model = g_malloc0(LAZY_SIZE);
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        BlockOpenOptions oo = { .format = "qcow2" };
        BlockDev *b = blk_open(img, &oo, NULL);
        if (!b) {
            _exit(3);
        }
        lazy_writes(model, b, 0, 40);
        if (!blk_flush(b, NULL)) {
            _exit(5);
        }
        lazy_writes(model, b, 40, 120);
        kill(getpid(), SIGKILL);
        _exit(6);
    }
    int st;
    g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
    g_assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    lazy_writes(model, NULL, 0, 120);

    gsize len;
    char *d;
    g_assert_true(g_file_get_contents(img, &d, &len, NULL));
    g_assert_true(be64_load((uint8_t *)d + 72) & 1);   /* dirty */
    g_free(d);
    /* Refcounts of the clusters allocated after the flush were held back. */
    g_autofree char *cmd = g_strdup_printf(QEMU_IMG " check -f qcow2 %s "
                                           ">/dev/null 2>&1", img);
    int qs = system(cmd);
    g_assert_true(WIFEXITED(qs));
    g_assert_cmpint(WEXITSTATUS(qs), ==, 2);

    BlockOpenOptions oo = { .format = "qcow2" };
    BlockDev *b = blk_open(img, &oo, NULL);
    g_assert_nonnull(b);
    uint8_t *back = g_malloc(LAZY_SIZE);
    g_assert_true(blk_pread(b, 0, back, LAZY_SIZE, NULL));
    g_assert_cmpmem(back, LAZY_SIZE, model, LAZY_SIZE);
    /* More lazy writes after the repair, then a clean close. */
    lazy_writes(model, b, 120, 160);
    blk_close(b);
    g_assert_true(g_file_get_contents(img, &d, &len, NULL));
    g_assert_false(be64_load((uint8_t *)d + 72) & 1);
    g_free(d);
    qs = system(cmd);
    g_assert_true(WIFEXITED(qs));
    g_assert_cmpint(WEXITSTATUS(qs), ==, 0);
    b = blk_open(img, &oo, NULL);
    g_assert_nonnull(b);
    g_assert_true(blk_pread(b, 0, back, LAZY_SIZE, NULL));
    g_assert_cmpmem(back, LAZY_SIZE, model, LAZY_SIZE);
    blk_close(b);
    g_free(back);
    g_free(model);
    g_unlink(img);
}

/*
 * A writer killed between counting new clusters and writing them leaves
 * clusters past the end of the file with refcount 1 (a leak).  The next
 * writer must allocate around them: counted clusters past EOF are not
 * free (it once looped on them: "Cluster allocation does not converge").
 */
static void test_counted_past_eof(void)
{
    g_autofree char *img = tpath("past-eof.qcow2");
    gsize len;
    uint8_t *d = make_image(img, 3, &len);
    g_assert_cmpuint(len % 4096, ==, 0);
    uint64_t rt = be64_load(d + 48);
    uint32_t order = be32_load(d + 96);
    g_assert_cmpuint(order, ==, 4);                    /* 16-bit counts */
    uint64_t rb = be64_load(d + rt);
    g_assert_cmpuint(rb, !=, 0);
    /* Count the 3 clusters just past EOF, as a killed writer leaves them. */
    uint64_t eof_cl = len / 4096;
    for (uint64_t c = eof_cl; c < eof_cl + 3; c++) {
        g_assert_cmpuint(c, <, 2048);                  /* in block 0 */
        d[rb + c * 2] = 0;
        d[rb + c * 2 + 1] = 1;
    }
    g_assert_true(g_file_set_contents(img, (char *)d, len, NULL));
    g_free(d);

    BlockOpenOptions oo = { .format = "qcow2" };
    GError *err = NULL;
    BlockDev *b = blk_open(img, &oo, &err);
    g_assert_no_error(err);
    uint8_t buf[4096];
    for (int i = 0; i < 8; i++) {
        memset(buf, 0x40 + i, sizeof(buf));
        g_assert_true(blk_pwrite(b, (1 << 20) + i * 65536, buf, sizeof(buf),
                                 &err));
        g_assert_no_error(err);
    }
    for (int i = 0; i < 8; i++) {
        uint8_t back[4096];
        g_assert_true(blk_pread(b, (1 << 20) + i * 65536, back, sizeof(back),
                                NULL));
        memset(buf, 0x40 + i, sizeof(buf));
        g_assert_cmpmem(back, sizeof(back), buf, sizeof(buf));
    }
    blk_close(b);
    if (g_file_test(QEMU_IMG, G_FILE_TEST_IS_EXECUTABLE)) {
        /* The three stay leaked (status 3); nothing is corrupt. */
        g_autofree char *cmd = g_strdup_printf(QEMU_IMG " check -f qcow2 %s "
                                               ">/dev/null 2>&1", img);
        int qs = system(cmd);
        g_assert_true(WIFEXITED(qs));
        g_assert_cmpint(WEXITSTATUS(qs), ==, 3);
    }
    g_unlink(img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("mimic-robust-XXXXXX", NULL);
    g_test_add_func("/images/qcow2/hostile-header", test_hostile_header);
    g_test_add_func("/images/qcow2/truncation", test_truncation);
    g_test_add_func("/images/qcow2/backing-loop", test_backing_loop);
    g_test_add_func("/images/qcow2/crash-consistency", test_crash);
    g_test_add_func("/images/qcow2/overlap-cache", test_overlap_cache);
    g_test_add_func("/images/qcow2/lazy-refcounts", test_lazy_refcounts);
    g_test_add_func("/images/qcow2/counted-past-eof", test_counted_past_eof);
    int ret = g_test_run();
    g_rmdir(tmpdir);
    return ret;
}
