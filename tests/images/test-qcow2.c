/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qcow2/qcow block drivers: seeded random write workloads checked against
 * an in-memory model, then against Debian's qemu-img (check exit 0,
 * compare identical with the expected raw content); images created by
 * qemu-img (cluster sizes, compat levels, compressed, backing files,
 * internal snapshots) read back byte for byte. Without /usr/bin/qemu-img
 * the interoperability tests say so loudly and the program exits 77.
 */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "images/block.h"
#include "images/block_int.h"

#define QEMU_IMG "/usr/bin/qemu-img"

static char *tmpdir;

static char *tpath(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static int run(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static int run(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *full = g_strdup_printf("%s >/dev/null 2>&1", cmd);
    int st = system(full);
    if (st == -1 || !WIFEXITED(st)) {
        return -1;
    }
    return WEXITSTATUS(st);
}

static void write_raw(const char *path, const uint8_t *data, size_t len)
{
    g_assert_true(g_file_set_contents(path, (const char *)data, len, NULL));
}

typedef struct Case {
    const char *format;
    uint32_t cluster_size;
    int compat;
    uint64_t size;
} Case;

/* Random writes through the block layer, verified with the model. */
static void workload(BlockDev *b, uint8_t *model, uint64_t size,
                     guint32 seed, int nops)
{
    GRand *r = g_rand_new_with_seed(seed);
    uint8_t *buf = g_malloc(300000);
    for (int i = 0; i < nops; i++) {
        uint64_t off = g_rand_int_range(r, 0, (gint32)size);
        size_t len = g_rand_int_range(r, 1, 70000);
        if (g_rand_int_range(r, 0, 4) == 0) {
            len = g_rand_int_range(r, 1, 300000);
        }
        len = MIN(len, size - off);
        if (g_rand_boolean(r)) {
            uint8_t v = g_rand_int(r);
            for (size_t k = 0; k < len; k++) {
                buf[k] = v + k * 13;
            }
            GError *err = NULL;
            g_assert_true(blk_pwrite(b, off, buf, len, &err));
            g_assert_no_error(err);
            memcpy(model + off, buf, len);
        } else {
            g_assert_true(blk_pread(b, off, buf, len, NULL));
            g_assert_cmpmem(buf, len, model + off, len);
        }
    }
    g_free(buf);
    g_rand_free(r);
}

static bool have_qemu(void)
{
    if (g_file_test(QEMU_IMG, G_FILE_TEST_IS_EXECUTABLE)) {
        return true;
    }
    g_test_skip("*** " QEMU_IMG " is missing: qemu interoperability NOT "
                "tested ***");
    return false;
}

static void test_workload(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *img = tpath("w.img");
    g_autofree char *raw = tpath("w.raw");
    BlockCreateOptions co = { .format = c->format, .size = c->size,
                              .cluster_size = c->cluster_size,
                              .compat = c->compat };
    GError *err = NULL;
    g_assert_true(blk_create(img, &co, &err));
    g_assert_no_error(err);
    BlockOpenOptions oo = { .format = c->format };
    BlockDev *b = blk_open(img, &oo, &err);
    g_assert_no_error(err);
    uint8_t *model = g_malloc0(c->size);
    workload(b, model, c->size, 1234 + c->cluster_size, 150);
    g_assert_true(blk_flush(b, NULL));
    blk_close(b);
    /* Reopen and read everything back. */
    b = blk_open(img, &oo, &err);
    g_assert_no_error(err);
    uint8_t *back = g_malloc(c->size);
    g_assert_true(blk_pread(b, 0, back, c->size, NULL));
    g_assert_cmpmem(back, c->size, model, c->size);
    if (!strcmp(c->format, "qcow2")) {
        BlockCheckResult res;
        g_assert_true(blk_check(b, BLOCK_CHECK_NONE, &res, &err));
        g_assert_cmpuint(res.corruptions, ==, 0);
        g_assert_cmpuint(res.leaks, ==, 0);
    }
    blk_close(b);
    if (have_qemu()) {
        write_raw(raw, model, c->size);
        if (!strcmp(c->format, "qcow2")) {
            g_assert_cmpint(run(QEMU_IMG " check -f qcow2 %s", img), ==, 0);
        }
        g_assert_cmpint(run(QEMU_IMG " compare -f %s -F raw %s %s",
                            c->format, img, raw), ==, 0);
    }
    g_free(model);
    g_free(back);
    g_unlink(img);
    g_unlink(raw);
}

/* Images qemu-img writes read back byte for byte. */
static void test_qemu_images(gconstpointer data)
{
    const Case *c = data;
    if (!have_qemu()) {
        return;
    }
    g_autofree char *raw = tpath("q.raw");
    g_autofree char *img = tpath("q.img");
    g_autofree char *cimg = tpath("qc.img");
    uint64_t size = c->size;
    uint8_t *model = g_malloc0(size);
    GRand *r = g_rand_new_with_seed(c->cluster_size);
    for (int i = 0; i < 40; i++) {
        uint64_t off = g_rand_int_range(r, 0, (gint32)size);
        uint64_t want = g_rand_int_range(r, 1, 40000);
        size_t len = MIN(want, size - off);
        uint8_t v = g_rand_int(r);
        for (size_t k = 0; k < len; k++) {
            model[off + k] = (k % 64 < 32) ? v : (uint8_t)(v + k);
        }
    }
    g_rand_free(r);
    write_raw(raw, model, size);
    const char *compat = c->compat == 2 ? "0.10" : "1.1";
    if (!strcmp(c->format, "qcow2")) {
        g_assert_cmpint(run(QEMU_IMG " convert -f raw -O qcow2 -o "
                            "cluster_size=%u,compat=%s %s %s",
                            c->cluster_size, compat, raw, img), ==, 0);
        g_assert_cmpint(run(QEMU_IMG " convert -c -f raw -O qcow2 -o "
                            "cluster_size=%u,compat=%s %s %s",
                            c->cluster_size, compat, raw, cimg), ==, 0);
    } else {
        g_assert_cmpint(run(QEMU_IMG " convert -f raw -O qcow %s %s", raw,
                            img), ==, 0);
    }
    const char *files[] = { img, cimg };
    uint8_t *back = g_malloc(size);
    uint8_t *orig = g_memdup2(model, size);
    int nfiles = !strcmp(c->format, "qcow2") ? 2 : 1;
    for (int i = 0; i < nfiles; i++) {
        memcpy(model, orig, size);
        GError *err = NULL;
        BlockOpenOptions oo = { .format = c->format, .read_only = true };
        BlockDev *b = blk_open(files[i], &oo, &err);
        g_assert_no_error(err);
        g_assert_cmpuint(blk_get_size(b), ==, size);
        g_assert_true(blk_pread(b, 0, back, size, &err));
        g_assert_no_error(err);
        g_assert_cmpmem(back, size, model, size);
        if (!strcmp(c->format, "qcow2")) {
            BlockCheckResult res;
            g_assert_true(blk_check(b, BLOCK_CHECK_NONE, &res, &err));
            g_assert_cmpuint(res.corruptions, ==, 0);
            g_assert_cmpuint(res.leaks, ==, 0);
        }
        blk_close(b);
        /* Then write through Mimic and let qemu-img judge. */
        BlockOpenOptions rw = { .format = c->format };
        b = blk_open(files[i], &rw, &err);
        g_assert_no_error(err);
        workload(b, model, size, 99 + i, 60);
        blk_close(b);
        write_raw(raw, model, size);
        if (!strcmp(c->format, "qcow2")) {
            g_assert_cmpint(run(QEMU_IMG " check -f qcow2 %s", files[i]),
                            ==, 0);
        }
        g_assert_cmpint(run(QEMU_IMG " compare -f %s -F raw %s %s",
                            c->format, files[i], raw), ==, 0);
    }
    g_free(back);
    g_free(orig);
    g_free(model);
    g_unlink(raw);
    g_unlink(img);
    g_unlink(cimg);
}

/* Backing files and internal snapshots made by qemu-img. */
static void test_qemu_backing_snapshots(void)
{
    if (!have_qemu()) {
        return;
    }
    g_autofree char *base = tpath("base.qcow2");
    g_autofree char *top = tpath("top.qcow2");
    g_assert_cmpint(run(QEMU_IMG " create -f qcow2 %s 4M", base), ==, 0);
    g_assert_cmpint(run(QEMU_IMG " create -f qcow2 -b %s -F qcow2 %s",
                        base, top), ==, 0);
    GError *err = NULL;
    BlockOpenOptions rw = { .format = "qcow2" };
    BlockDev *b = blk_open(top, &rw, &err);
    g_assert_no_error(err);
    uint8_t buf[4096], pat[4096];
    memset(pat, 0x5a, sizeof(pat));
    g_assert_true(blk_pwrite(b, 8192, pat, sizeof(pat), NULL));
    g_assert_true(blk_snapshot_create(b, "one", 0, 0, &err));
    g_assert_no_error(err);
    memset(pat, 0xa5, sizeof(pat));
    g_assert_true(blk_pwrite(b, 8192, pat, sizeof(pat), NULL));
    blk_close(b);
    g_assert_cmpint(run(QEMU_IMG " check %s", top), ==, 0);
    g_assert_cmpint(run(QEMU_IMG " snapshot -c two %s", top), ==, 0);
    b = blk_open(top, &rw, &err);
    g_assert_no_error(err);
    BlockSnapshotInfo *l;
    int n = blk_snapshot_list(b, &l, &err);
    g_assert_cmpint(n, ==, 2);
    blk_snapshot_list_free(l, n);
    g_assert_true(blk_snapshot_apply(b, "one", &err));
    g_assert_no_error(err);
    g_assert_true(blk_pread(b, 8192, buf, sizeof(buf), NULL));
    g_assert_cmphex(buf[0], ==, 0x5a);
    g_assert_true(blk_snapshot_delete(b, "two", &err));
    g_assert_no_error(err);
    blk_close(b);
    g_assert_cmpint(run(QEMU_IMG " check %s", top), ==, 0);
    g_unlink(top);
    g_unlink(base);
}

/* savevm/loadvm: VM state stored with a snapshot and restored by apply. */
static void test_vmstate(void)
{
    g_autofree char *img = tpath("vm.qcow2");
    BlockCreateOptions co = { .format = "qcow2", .size = 3 << 20,
                              .cluster_size = 4096 };
    GError *err = NULL;
    g_assert_true(blk_create(img, &co, &err));
    BlockOpenOptions rw = { .format = "qcow2" };
    BlockDev *b = blk_open(img, &rw, &err);
    g_assert_no_error(err);
    uint8_t state[10000], disk[512], back[10000];
    for (size_t i = 0; i < sizeof(state); i++) {
        state[i] = i * 31 + 7;
    }
    memset(disk, 0x11, sizeof(disk));
    g_assert_true(blk_pwrite(b, 0, disk, sizeof(disk), NULL));
    g_assert_true(blk_vmstate_write(b, 0, state, sizeof(state), &err));
    g_assert_no_error(err);
    g_assert_true(blk_snapshot_create(b, "vm1", 123456789, sizeof(state),
                                      &err));
    g_assert_no_error(err);
    memset(disk, 0x22, sizeof(disk));
    g_assert_true(blk_pwrite(b, 0, disk, sizeof(disk), NULL));
    g_assert_true(blk_snapshot_apply(b, "vm1", &err));
    g_assert_no_error(err);
    g_assert_true(blk_pread(b, 0, disk, sizeof(disk), NULL));
    g_assert_cmphex(disk[0], ==, 0x11);
    g_assert_true(blk_vmstate_read(b, 0, back, sizeof(back), &err));
    g_assert_no_error(err);
    g_assert_cmpmem(back, sizeof(back), state, sizeof(state));
    /* The guest runs on after loadvm: a write that copies the L2 table
       (it may land in the cluster of a table the apply freed). */
    memset(disk, 0x33, sizeof(disk));
    g_assert_true(blk_pwrite(b, 0, disk, sizeof(disk), NULL));
    BlockSnapshotInfo *l;
    int n = blk_snapshot_list(b, &l, &err);
    g_assert_cmpint(n, ==, 1);
    g_assert_cmpuint(l[0].vm_state_size, ==, sizeof(state));
    g_assert_cmpuint(l[0].vm_clock_nsec, ==, 123456789);
    blk_snapshot_list_free(l, n);
    BlockCheckResult res;
    g_assert_true(blk_check(b, BLOCK_CHECK_NONE, &res, &err));
    g_assert_cmpuint(res.corruptions + res.leaks, ==, 0);
    blk_close(b);
    if (have_qemu()) {
        g_assert_cmpint(run(QEMU_IMG " check %s", img), ==, 0);
    }
    g_unlink(img);
}

static const Case cases[] = {
    { "qcow2", 65536, 3, 8 << 20 },
    { "qcow2", 512, 3, 2 << 20 },
    { "qcow2", 4096, 2, 6 << 20 },
    { "qcow2", 2 << 20, 3, 9 << 20 },
    { "qcow2", 16384, 2, 5 << 20 },
    { "qcow", 0, 0, 3 << 20 },
    { "raw", 0, 0, 3 << 20 },
};

/* Can this file be opened and read with O_DIRECT here? */
static bool host_allows_direct(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECT);
    if (fd < 0) {
        return false;
    }
    void *p = NULL;
    bool ok = !posix_memalign(&p, 4096, 4096) && pread(fd, p, 4096, 0) >= 0;
    free(p);
    close(fd);
    return ok;
}

/*
 * cache=none: the fd has O_DIRECT where the filesystem allows it, and the
 * unaligned I/O of the drivers (metadata entries, partial clusters, a raw
 * image whose size is no multiple of 4 KiB) goes through bounce buffers.
 */
static void test_cache_none(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *img = tpath("d.img");
    g_autofree char *raw = tpath("d.raw");
    BlockCreateOptions co = { .format = c->format, .size = c->size,
                              .cluster_size = c->cluster_size,
                              .compat = c->compat };
    GError *err = NULL;
    g_assert_true(blk_create(img, &co, &err));
    g_assert_no_error(err);
    uint64_t size0 = 0;
    struct stat st;
    g_assert_cmpint(stat(img, &st), ==, 0);
    size0 = (uint64_t)st.st_size;
    BlockOpenOptions oo = { .format = c->format, .cache = BLOCK_CACHE_NONE };
    BlockDev *b = blk_open(img, &oo, &err);
    g_assert_no_error(err);
    int fl = fcntl(b->fd, F_GETFL);
    if (host_allows_direct(img)) {
        g_assert_true(fl & O_DIRECT);
        g_assert_true(b->direct);
    } else {
        g_printerr("*** %s: the filesystem refuses O_DIRECT: the O_DIRECT "
                   "flag is NOT checked, only the buffered fallback ***\n",
                   tmpdir);
        g_assert_false(fl & O_DIRECT);
        g_test_skip("O_DIRECT refused by the test filesystem");
    }
    uint8_t *model = g_malloc0(c->size);
    workload(b, model, c->size, 99 + c->cluster_size, 120);
    g_assert_true(blk_flush(b, NULL));
    blk_close(b);
    if (!strcmp(c->format, "raw")) {
        g_assert_cmpint(stat(img, &st), ==, 0);
        g_assert_cmpuint((uint64_t)st.st_size, ==, size0);
    }
    b = blk_open(img, &oo, &err);
    g_assert_no_error(err);
    uint8_t *back = g_malloc(c->size);
    g_assert_true(blk_pread(b, 0, back, c->size, NULL));
    g_assert_cmpmem(back, c->size, model, c->size);
    blk_close(b);
    if (have_qemu()) {
        write_raw(raw, model, c->size);
        if (!strcmp(c->format, "qcow2")) {
            g_assert_cmpint(run(QEMU_IMG " check -f qcow2 %s", img), ==, 0);
        }
        g_assert_cmpint(run(QEMU_IMG " compare -f %s -F raw %s %s",
                            c->format, img, raw), ==, 0);
    }
    g_free(model);
    g_free(back);
    g_unlink(img);
    g_unlink(raw);
}

static const Case direct_cases[] = {
    { "qcow2", 65536, 3, 8 << 20 },
    { "qcow2", 512, 2, 2 << 20 },
    { "qcow", 0, 0, 3 << 20 },
    { "raw", 0, 0, (3 << 20) + 1000 },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("mimic-qcow2-XXXXXX", NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const Case *c = &cases[i];
        g_autofree char *p = g_strdup_printf("/images/%s/workload/c%u-v%d",
                                             c->format, c->cluster_size,
                                             c->compat);
        g_test_add_data_func(p, c, test_workload);
        if (strcmp(c->format, "raw")) {
            g_autofree char *q = g_strdup_printf(
                "/images/%s/qemu-made/c%u-v%d", c->format, c->cluster_size,
                c->compat);
            g_test_add_data_func(q, c, test_qemu_images);
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(direct_cases); i++) {
        const Case *c = &direct_cases[i];
        g_autofree char *p = g_strdup_printf("/images/%s/cache-none/c%u-v%d",
                                             c->format, c->cluster_size,
                                             c->compat);
        g_test_add_data_func(p, c, test_cache_none);
    }
    g_test_add_func("/images/qcow2/vmstate-snapshot", test_vmstate);
    g_test_add_func("/images/qcow2/qemu-backing-snapshots",
                    test_qemu_backing_snapshots);
    int ret = g_test_run();
    g_rmdir(tmpdir);
    if (!g_file_test(QEMU_IMG, G_FILE_TEST_IS_EXECUTABLE)) {
        fprintf(stderr, "*** qemu-img missing: interop tests skipped ***\n");
        return ret ? ret : 77;
    }
    return ret;
}
