/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host I/O errors, power loss and the metadata overlap check of the qcow2
 * driver (QEMU's blkdebug and qcow2 overlap-check tests are the model;
 * layouts from docs/interop/qcow2.txt).
 *
 * - io-error: a qcow2 workload (allocating, partial and compressed writes,
 *   L1 growth, refcount block and refcount table growth, snapshot create
 *   and delete, discard, flushes) runs once per host operation N with the
 *   Nth host write or flush failing (EIO or ENOSPC, once or for good, via
 *   blk_set_fault_inject). The workload carries on after errors as a
 *   guest would. Then the image must check without corruption (leaks
 *   allowed) by Mimic and by qemu-img, must not be marked corrupt, and
 *   every acknowledged write must read back.
 * - power-loss: the same workload without errors; at every successful
 *   host sync a copy of the file is taken (a power cut drops every write
 *   not yet flushed). Each copy must check clean but for leaks with both
 *   tools, and hold every write acknowledged before that sync.
 * - overlap: L1/L2 entries patched to point at metadata (L1, refcount
 *   table and block, other L2 tables, snapshot table and L1), or
 *   metadata given refcount 0 so that the allocator hands it out: a guest
 *   write through it must be refused, the metadata left intact and the
 *   image marked corrupt.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "images/be.h"
#include "images/block_int.h"

#define QEMU_IMG "/usr/bin/qemu-img"
#define OFF_MASK 0x00fffffffffffe00ULL
#define COPIED (1ULL << 63)

static char *tmpdir;

static char *tpath(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static bool have_qemu_img(void)
{
    return g_file_test(QEMU_IMG, G_FILE_TEST_IS_EXECUTABLE);
}

/* qemu-img check exit status (0 clean, 2 corrupt, 3 leaks, 1 failed). */
static int qemu_check(const char *path)
{
    char *argv[] = { QEMU_IMG, "check", "-q", (char *)path, NULL };
    int status;
    GError *err = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
                      G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                      &status, &err)) {
        g_error("qemu-img: %s", err->message);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- the model of what the guest may read back ---- */

#define MAX_SIZE (6u << 20)

typedef struct Model {
    uint8_t *data;           /* content of acknowledged writes */
    uint8_t *unknown;        /* 1: a failed or in-flight write touched it */
    uint64_t size;           /* virtual size the guest sees */
} Model;

static void model_init(Model *m, uint64_t size)
{
    m->data = g_malloc0(MAX_SIZE);
    m->unknown = g_malloc0(MAX_SIZE);
    m->size = size;
}

static void model_copy(Model *dst, const Model *src)
{
    dst->data = g_memdup2(src->data, MAX_SIZE);
    dst->unknown = g_memdup2(src->unknown, MAX_SIZE);
    dst->size = src->size;
}

static void model_free(Model *m)
{
    g_free(m->data);
    g_free(m->unknown);
}

/* Compare an image with the model; returns the first differing offset
 * or -1. */
static int64_t model_verify(const Model *m, const char *path)
{
    BlockOpenOptions ro = { .format = "qcow2", .read_only = true };
    GError *err = NULL;
    BlockDev *b = blk_open(path, &ro, &err);
    g_assert_no_error(err);
    uint64_t size = (uint64_t)blk_get_size(b);
    uint8_t *buf = g_malloc(size);
    g_assert_true(blk_pread(b, 0, buf, size, &err));
    g_assert_no_error(err);
    blk_close(b);
    int64_t bad = -1;
    for (uint64_t i = 0; i < MIN(size, m->size) && bad < 0; i++) {
        if (!m->unknown[i] && buf[i] != m->data[i]) {
            bad = (int64_t)i;
        }
    }
    g_free(buf);
    return bad;
}

/* ---- the workload ---- */

typedef enum {
    OP_WRITE, OP_WRITE_COMPRESSED, OP_FLUSH, OP_DISCARD, OP_GROW,
    OP_SNAP_CREATE, OP_SNAP_DELETE,
} OpKind;

typedef struct Op {
    OpKind kind;
    uint64_t off, len;
} Op;

/* 512-byte clusters and 64-bit refcounts: an L2 table maps 32 KiB, a
 * refcount block covers 32 KiB of file, the one-cluster refcount table
 * 2 MiB of file. */
#define WL_CLUSTER 512
#define WL_SIZE (4u << 20)

/* Snapshots, COW, compressed writes, L1 growth, discard, on an image
 * with a little data. */
static const Op ops_snapshots[] = {
    { OP_WRITE, 0, 8192 },
    { OP_FLUSH, 0, 0 },
    { OP_WRITE, 20000 + 123, 1000 },
    { OP_WRITE_COMPRESSED, 65536, 512 },
    { OP_GROW, 5u << 20, 0 },               /* L1 table moves */
    { OP_FLUSH, 0, 0 },
    { OP_SNAP_CREATE, 0, 0 },
    { OP_WRITE, 1000, 3000 },               /* COW of shared L2 and data */
    { OP_WRITE, 9000, 2000 },               /* same L2 table again */
    { OP_DISCARD, 4096, 4096 },
    { OP_WRITE, 30000, 1000 },
    { OP_FLUSH, 0, 0 },
    { OP_WRITE, (2u << 20) + 512, 6000 },   /* new L2 tables */
    { OP_SNAP_DELETE, 0, 0 },
    { OP_WRITE, (1u << 20) - 4096, 8192 },
    { OP_FLUSH, 0, 0 },
};

/* Refcount blocks and the refcount table grow (the base image fills the
 * file to just under 2 MiB). */
static const Op ops_growth[] = {
    { OP_WRITE, 0, 4096 },
    { OP_FLUSH, 0, 0 },
    { OP_GROW, 5u << 20, 0 },
    { OP_WRITE, (4u << 20) + 512, 60 * 1024 },
    { OP_FLUSH, 0, 0 },
    { OP_WRITE, 100000, 30000 },
    { OP_FLUSH, 0, 0 },
};

typedef struct Workload {
    const char *name;
    const Op *ops;
    size_t n_ops;
    uint64_t fill;           /* bytes of data in the base image at 2 MiB */
    bool grows_rt;           /* the refcount table must move */
    int modes;               /* MODES_* */
    int compat;              /* qcow2 version */
} Workload;

enum {
    MODES_ALTERNATE,         /* every third N fails for good, others once */
    MODES_BOTH,              /* every N fails once and, again, for good */
    MODES_ONCE,              /* v2: no dirty bit to survive lasting errors
                                during snapshot operations */
};

static const Workload workloads[] = {
    { "snapshots", ops_snapshots, G_N_ELEMENTS(ops_snapshots), 0, false,
      MODES_BOTH, 3 },
    { "growth", ops_growth, G_N_ELEMENTS(ops_growth), 1920 * 1024, true,
      MODES_ALTERNATE, 3 },
    { "snapshots-v2", ops_snapshots, G_N_ELEMENTS(ops_snapshots), 0, false,
      MODES_ONCE, 2 },
};

static uint8_t pattern(uint64_t off, int op)
{
    return (uint8_t)(off * 7 + op * 31 + 1);
}

static const char *const op_names[] = {
    "write", "compressed write", "flush", "discard", "grow",
    "snapshot create", "snapshot delete",
};

/* Run the workload on b, updating the model; errors are carried on.
 * *first_failed: index of the first operation that failed (or -1). */
static int run_workload(const Workload *w, BlockDev *b, Model *m,
                        int *first_failed)
{
    int failures = 0;
    *first_failed = -1;
    uint8_t *buf = g_malloc(64 * 1024);
    for (size_t i = 0; i < w->n_ops; i++) {
        const Op *op = &w->ops[i];
        GError *err = NULL;
        bool ok = true;
        switch (op->kind) {
        case OP_WRITE:
        case OP_WRITE_COMPRESSED:
            for (uint64_t k = 0; k < op->len; k++) {
                buf[k] = pattern(op->off + k, (int)i);
            }
            /* In flight: unknown until acknowledged. */
            memset(m->unknown + op->off, 1, op->len);
            ok = op->kind == OP_WRITE
                 ? blk_pwrite(b, op->off, buf, op->len, &err)
                 : blk_pwrite_compressed(b, op->off, buf, op->len, &err);
            if (ok) {
                memcpy(m->data + op->off, buf, op->len);
                memset(m->unknown + op->off, 0, op->len);
            }
            break;
        case OP_DISCARD:
            /* Discarded data is undefined whether it worked or not. */
            memset(m->unknown + op->off, 1, op->len);
            ok = blk_discard(b, op->off, op->len, &err);
            break;
        case OP_FLUSH:
            ok = blk_flush(b, &err);
            break;
        case OP_GROW:
            ok = blk_truncate(b, op->off, &err);
            if (ok) {
                m->size = op->off;
            }
            break;
        case OP_SNAP_CREATE:
            ok = blk_snapshot_create(b, "s1", 0, 0, &err);
            break;
        case OP_SNAP_DELETE:
            ok = blk_snapshot_delete(b, "s1", &err);
            break;
        }
        if (!ok) {
            g_assert_nonnull(err);
            if (!failures) {
                *first_failed = (int)i;
            }
            failures++;
            g_clear_error(&err);
        }
    }
    g_free(buf);
    return failures;
}

static char *make_base(const Workload *w)
{
    g_autofree char *name = g_strdup_printf("base-%s.qcow2", w->name);
    char *path = tpath(name);
    BlockCreateOptions co = { .format = "qcow2", .size = WL_SIZE,
                              .cluster_size = WL_CLUSTER,
                              .compat = w->compat,
                              .refcount_bits = w->compat >= 3 ? 64 : 16 };
    GError *err = NULL;
    g_assert_true(blk_create(path, &co, &err));
    g_assert_no_error(err);
    BlockOpenOptions oo = { .format = "qcow2" };
    BlockDev *b = blk_open(path, &oo, &err);
    g_assert_no_error(err);
    /* Fill the file to just under what the refcount table covers. */
    uint8_t *buf = g_malloc(64 * 1024);
    memset(buf, 0x5a, 64 * 1024);
    for (uint64_t off = 2u << 20; off < (2u << 20) + w->fill;
         off += 64 * 1024) {
        g_assert_true(blk_pwrite(b, off, buf, 64 * 1024, &err));
    }
    g_assert_no_error(err);
    g_free(buf);
    blk_close(b);
    return path;
}

static void model_from_image(Model *m, const char *path)
{
    BlockOpenOptions ro = { .format = "qcow2", .read_only = true };
    BlockDev *b = blk_open(path, &ro, NULL);
    g_assert_nonnull(b);
    model_init(m, (uint64_t)blk_get_size(b));
    g_assert_true(blk_pread(b, 0, m->data, m->size, NULL));
    blk_close(b);
}

static void copy_file(const char *from, const char *to)
{
    gchar *d;
    gsize len;
    g_assert_true(g_file_get_contents(from, &d, &len, NULL));
    g_assert_true(g_file_set_contents(to, d, (gssize)len, NULL));
    g_free(d);
}

/* Mimic's check: corruptions (or -1 if the check failed). */
static int64_t mimic_corruptions(const char *path, bool *marked_corrupt)
{
    BlockOpenOptions ro = { .format = "qcow2", .read_only = true };
    GError *err = NULL;
    BlockDev *b = blk_open(path, &ro, &err);
    if (!b) {
        g_test_message("open: %s", err->message);
        g_clear_error(&err);
        return -1;
    }
    BlockInfo info;
    memset(&info, 0, sizeof(info));
    g_assert_true(blk_get_info(b, &info, NULL));
    *marked_corrupt = info.corrupt;
    blk_info_clear(&info);
    BlockCheckResult r;
    bool ok = blk_check(b, BLOCK_CHECK_NONE, &r, &err);
    blk_close(b);
    if (!ok) {
        g_test_message("check: %s", err->message);
        g_clear_error(&err);
        return -1;
    }
    return r.check_errors ? -1 : (int64_t)r.corruptions;
}

static uint64_t header_u64(const char *path, size_t off);

/* The verdicts an image must get: no corruption, leaks allowed. An image
 * left with the dirty bit (an update of refcounts and COPIED flags cut
 * short) is first opened for writing, which repairs it, as the next
 * user's open (Mimic's or QEMU's) would. */
static bool image_ok(const char *path, const Model *m, const char *what,
                     bool *was_dirty)
{
    /* Version 3 only: a v2 header ends at byte 72. */
    *was_dirty = (header_u64(path, 0) & 0xffffffff) >= 3 &&
                 (header_u64(path, 72) & 1);
    if (*was_dirty) {
        BlockOpenOptions oo = { .format = "qcow2" };
        GError *err = NULL;
        BlockDev *b = blk_open(path, &oo, &err);
        if (!b) {
            g_test_message("%s: repairing open: %s", what, err->message);
            g_clear_error(&err);
            return false;
        }
        blk_close(b);
        if (header_u64(path, 72) & 1) {
            g_test_message("%s: still dirty after a writable open", what);
            return false;
        }
    }
    bool marked = false;
    int64_t mc = mimic_corruptions(path, &marked);
    int qc = have_qemu_img() ? qemu_check(path) : 0;
    int64_t bad = mc == 0 ? model_verify(m, path) : -1;
    if (mc != 0 || marked || (qc != 0 && qc != 3) || bad >= 0) {
        g_test_message("%s: mimic corruptions %" G_GINT64_FORMAT
                       ", marked corrupt %d, qemu-img check exit %d, "
                       "first lost byte %" G_GINT64_FORMAT, what, mc,
                       marked, qc, bad);
        return false;
    }
    return true;
}

static uint64_t header_u64(const char *path, size_t off)
{
    gchar *d;
    gsize len;
    g_assert_true(g_file_get_contents(path, &d, &len, NULL));
    uint64_t v = be64_load((uint8_t *)d + off);
    g_free(d);
    return v;
}

/* Host operations of one error-free run; also proves the workload reaches
 * the metadata it is meant to (L1 move, refcount table growth). */
static uint64_t count_ops(const Workload *w, const char *base)
{
    g_autofree char *img = tpath("count.qcow2");
    copy_file(base, img);
    BlockOpenOptions oo = { .format = "qcow2" };
    BlockDev *b = blk_open(img, &oo, NULL);
    g_assert_nonnull(b);
    BlockFaultInject fi = { .ops = BLK_INJECT_WRITE | BLK_INJECT_FLUSH,
                            .nth = -1 };
    blk_set_fault_inject(b, &fi);
    Model m;
    model_from_image(&m, base);
    int ff;
    g_assert_cmpint(run_workload(w, b, &m, &ff), ==, 0);
    uint64_t n = fi.count;
    blk_close(b);
    g_assert_cmphex(header_u64(img, 40), !=, header_u64(base, 40));
    if (w->grows_rt) {
        g_assert_cmphex(header_u64(img, 48), !=, header_u64(base, 48));
    }
    bool dirty;
    g_assert_true(image_ok(img, &m, "error-free run", &dirty));
    g_assert_false(dirty);
    model_free(&m);
    g_unlink(img);
    return n;
}

static void test_io_error(gconstpointer data)
{
    const Workload *w = data;
    g_autofree char *base = make_base(w);
    uint64_t total = count_ops(w, base);
    g_test_message("workload: %" G_GUINT64_FORMAT " host writes and "
                   "flushes", total);
    g_assert_cmpuint(total, >, 100);
    g_autofree char *img = tpath("ioerr.qcow2");
    Model start;
    model_from_image(&start, base);
    int bad = 0;
    uint64_t hit = 0, dirty_left = 0, absorbed = 0;
    /* Every host operation; the error alternates between EIO and
     * ENOSPC; each fails once and for good (the long workload: one of
     * the two in turn; v2: once). */
    uint64_t runs = w->modes == MODES_BOTH ? 2 * total : total;
    for (uint64_t k = 0; k < runs; k++) {
        uint64_t n = w->modes == MODES_BOTH ? k / 2 : k;
        bool sticky = w->modes == MODES_BOTH ? k % 2
                      : w->modes == MODES_ALTERNATE ? n % 3 == 0 : false;
        copy_file(base, img);
        BlockOpenOptions oo = { .format = "qcow2" };
        BlockDev *b = blk_open(img, &oo, NULL);
        g_assert_nonnull(b);
        BlockFaultInject fi = {
            .ops = BLK_INJECT_WRITE | BLK_INJECT_FLUSH, .nth = (int64_t)n,
            .err = n % 2 ? ENOSPC : EIO, .sticky = sticky };
        blk_set_fault_inject(b, &fi);
        Model m;
        model_copy(&m, &start);
        int ff;
        int failures = run_workload(w, b, &m, &ff);
        blk_close(b);
        hit += fi.failed > 0;
        /* A failure may be absorbed: clearing the dirty bit after a
         * snapshot operation is retried at the next flush. */
        absorbed += failures == 0;
        char what[128];
        snprintf(what, sizeof(what), "host op %" G_GUINT64_FORMAT " fails "
                 "(%s, %s) in op %d (%s)", n, n % 2 ? "ENOSPC" : "EIO",
                 sticky ? "for good" : "once", ff,
                 ff < 0 ? "retried later" : op_names[w->ops[ff].kind]);
        bool dirty;
        if (!image_ok(img, &m, what, &dirty)) {
            bad++;
        } else if (dirty && !fi.sticky) {
            /* A single failure must be repaired in the same process. */
            g_test_message("%s: left dirty", what);
            bad++;
        }
        dirty_left += dirty;
        model_free(&m);
    }
    model_free(&start);
    g_test_message("%" G_GUINT64_FORMAT " runs left the dirty bit (a "
                   "lasting error during a snapshot operation); %"
                   G_GUINT64_FORMAT " failures were absorbed", dirty_left,
                   absorbed);
    g_assert_cmpuint(absorbed, <, runs / 10);
    g_assert_cmpuint(hit, ==, runs);
    g_assert_cmpint(bad, ==, 0);
}

/* ---- power loss: copies at every sync ---- */

typedef struct PowerCtx {
    const Model *live;
    GPtrArray *files;
    GArray *models;          /* Model copies, one per file */
} PowerCtx;

static void on_sync(BlockDev *bs, void *opaque)
{
    PowerCtx *p = opaque;
    char name[32];
    snprintf(name, sizeof(name), "power-%u.qcow2", p->files->len);
    char *path = tpath(name);
    copy_file(blk_filename(bs), path);
    g_ptr_array_add(p->files, path);
    Model m;
    model_copy(&m, p->live);
    g_array_append_val(p->models, m);
}

static void test_power_loss(gconstpointer data)
{
    const Workload *w = data;
    g_autofree char *base = make_base(w);
    g_autofree char *img = tpath("power.qcow2");
    copy_file(base, img);
    Model m;
    model_from_image(&m, base);
    PowerCtx p = { .live = &m, .files = g_ptr_array_new_with_free_func(g_free),
                   .models = g_array_new(false, false, sizeof(Model)) };
    BlockOpenOptions oo = { .format = "qcow2" };
    BlockDev *b = blk_open(img, &oo, NULL);
    g_assert_nonnull(b);
    BlockFaultInject fi = { .ops = BLK_INJECT_FLUSH, .nth = -1,
                            .on_sync = on_sync, .opaque = &p };
    blk_set_fault_inject(b, &fi);
    int ff;
    g_assert_cmpint(run_workload(w, b, &m, &ff), ==, 0);
    blk_set_fault_inject(b, NULL);
    blk_close(b);
    g_test_message("%u sync points", p.files->len);
    g_assert_cmpuint(p.files->len, >=, 4);
    int bad = 0;
    for (guint i = 0; i < p.files->len; i++) {
        char what[48];
        snprintf(what, sizeof(what), "power cut after sync %u", i);
        const char *f = g_ptr_array_index(p.files, i);
        bool dirty;
        if (!image_ok(f, &g_array_index(p.models, Model, i), what,
                      &dirty)) {
            bad++;
        }
        g_unlink(f);
        model_free(&g_array_index(p.models, Model, i));
    }
    g_ptr_array_free(p.files, true);
    g_array_free(p.models, true);
    model_free(&m);
    g_assert_cmpint(bad, ==, 0);
}

/* ---- power loss with the writes between two syncs reordered ---- */

typedef struct WriteRec {
    uint64_t off;
    GBytes *data;
} WriteRec;

typedef struct ReorderCtx {
    PowerCtx p;
    GPtrArray *intervals;    /* per sync point: the writes that follow */
} ReorderCtx;

static void wr_free(gpointer x)
{
    WriteRec *w = x;
    g_bytes_unref(w->data);
    g_free(w);
}

static void reorder_on_sync(BlockDev *bs, void *opaque)
{
    ReorderCtx *r = opaque;
    on_sync(bs, &r->p);
    g_ptr_array_add(r->intervals, g_ptr_array_new_with_free_func(wr_free));
}

static void reorder_on_write(BlockDev *bs, uint64_t off, const void *buf,
                             size_t len, void *opaque)
{
    ReorderCtx *r = opaque;
    (void)bs;
    if (!r->intervals->len) {
        return;
    }
    WriteRec *w = g_new(WriteRec, 1);
    w->off = off;
    w->data = g_bytes_new(buf, len);
    g_ptr_array_add(g_ptr_array_index(r->intervals, r->intervals->len - 1),
                    w);
}

/*
 * A disk may persist any subset of the writes issued since the last
 * flush. For each sync point, random subsets of the writes that follow
 * it are applied to the copy taken there: no corruption (leaks allowed)
 * and every write acknowledged before that sync must read back. Mimic
 * orders refcount -> data -> L2 -> L1 by issue order only (no barrier
 * between them, docs/images.md), so this fails today: opt-in with
 * MIMIC_TEST_REORDER=1 until the allocation path has barriers.
 */
static void test_power_loss_reordered(gconstpointer data)
{
    const Workload *w = data;
    g_autofree char *base = make_base(w);
    g_autofree char *img = tpath("reorder.qcow2");
    g_autofree char *trial = tpath("reorder-trial.qcow2");
    copy_file(base, img);
    Model m;
    model_from_image(&m, base);
    ReorderCtx r = {
        .p = { .live = &m, .files = g_ptr_array_new_with_free_func(g_free),
               .models = g_array_new(false, false, sizeof(Model)) },
        .intervals = g_ptr_array_new_with_free_func(
            (GDestroyNotify)g_ptr_array_unref) };
    BlockOpenOptions oo = { .format = "qcow2" };
    BlockDev *b = blk_open(img, &oo, NULL);
    g_assert_nonnull(b);
    BlockFaultInject fi = { .ops = BLK_INJECT_FLUSH, .nth = -1,
                            .on_sync = reorder_on_sync,
                            .on_write = reorder_on_write, .opaque = &r };
    blk_set_fault_inject(b, &fi);
    int ff;
    g_assert_cmpint(run_workload(w, b, &m, &ff), ==, 0);
    blk_set_fault_inject(b, NULL);
    blk_close(b);
    GRand *rnd = g_rand_new_with_seed(20261207);
    int bad = 0, trials = 0;
    for (guint i = 0; i < r.p.files->len; i++) {
        GPtrArray *ws = g_ptr_array_index(r.intervals, i);
        for (int t = 0; t < 8 && ws->len; t++) {
            gchar *d;
            gsize len;
            g_assert_true(g_file_get_contents(
                g_ptr_array_index(r.p.files, i), &d, &len, NULL));
            GByteArray *f = g_byte_array_new_take((guint8 *)d, len);
            for (guint k = 0; k < ws->len; k++) {
                if (g_rand_boolean(rnd)) {
                    WriteRec *wr = g_ptr_array_index(ws, k);
                    gsize dl;
                    const uint8_t *p = g_bytes_get_data(wr->data, &dl);
                    if (wr->off + dl > f->len) {
                        g_byte_array_set_size(f, (guint)(wr->off + dl));
                    }
                    memcpy(f->data + wr->off, p, dl);
                }
            }
            g_assert_true(g_file_set_contents(trial, (char *)f->data,
                                              f->len, NULL));
            g_byte_array_free(f, true);
            char what[64];
            snprintf(what, sizeof(what), "sync %u, subset %d", i, t);
            bool dirty;
            trials++;
            if (!image_ok(trial, &g_array_index(r.p.models, Model, i), what,
                          &dirty)) {
                bad++;
            }
        }
    }
    g_test_message("%d of %d reordered power cuts broke the image", bad,
                   trials);
    g_rand_free(rnd);
    for (guint i = 0; i < r.p.files->len; i++) {
        g_unlink(g_ptr_array_index(r.p.files, i));
        model_free(&g_array_index(r.p.models, Model, i));
    }
    g_ptr_array_free(r.p.files, true);
    g_array_free(r.p.models, true);
    g_ptr_array_free(r.intervals, true);
    model_free(&m);
    g_unlink(trial);
    g_assert_cmpint(bad, ==, 0);
}

/* ---- the overlap check ---- */

typedef struct Layout {
    uint64_t l1, rt, rb0, l2a, l2b, snap_table, snap_l1;
} Layout;

/* 4 KiB clusters, 16-bit refcounts; L2 tables for [0, 2M) and [2M, 4M),
 * one snapshot (so a snapshot table and L1), then both L2 tables made
 * private again by writes. */
static char *overlap_image(Layout *lay)
{
    char *path = tpath("ovl-base.qcow2");
    BlockCreateOptions co = { .format = "qcow2", .size = 4 << 20,
                              .cluster_size = 4096, .compat = 3 };
    g_assert_true(blk_create(path, &co, NULL));
    BlockOpenOptions oo = { .format = "qcow2" };
    BlockDev *b = blk_open(path, &oo, NULL);
    g_assert_nonnull(b);
    uint8_t buf[4096];
    memset(buf, 0x11, sizeof(buf));
    g_assert_true(blk_pwrite(b, 0, buf, sizeof(buf), NULL));
    g_assert_true(blk_pwrite(b, 2 << 20, buf, sizeof(buf), NULL));
    g_assert_true(blk_snapshot_create(b, "s", 0, 0, NULL));
    memset(buf, 0x22, sizeof(buf));
    g_assert_true(blk_pwrite(b, 0, buf, sizeof(buf), NULL));
    g_assert_true(blk_pwrite(b, 2 << 20, buf, sizeof(buf), NULL));
    blk_close(b);
    gchar *d;
    gsize len;
    g_assert_true(g_file_get_contents(path, &d, &len, NULL));
    const uint8_t *p = (const uint8_t *)d;
    lay->l1 = be64_load(p + 40);
    lay->rt = be64_load(p + 48);
    lay->rb0 = be64_load(p + lay->rt) & OFF_MASK;
    lay->l2a = be64_load(p + lay->l1) & OFF_MASK;
    lay->l2b = be64_load(p + lay->l1 + 8) & OFF_MASK;
    lay->snap_table = be64_load(p + 64);
    lay->snap_l1 = be64_load(p + lay->snap_table);
    g_assert_cmpuint(be32_load(p + 60), ==, 1);
    g_assert_true(lay->l2a && lay->l2b && lay->rb0 && lay->snap_l1);
    g_assert_true(be64_load(p + lay->l1) & COPIED);
    g_assert_true(be64_load(p + lay->l2a) & COPIED);
    g_free(d);
    return path;
}

typedef enum { VIA_L2, VIA_L1, VIA_REFCOUNT } OvlVia;

typedef struct OvlCase {
    const char *name;
    OvlVia via;
    int target;              /* index into Layout as uint64_t[] */
    uint64_t guest_off;      /* where the guest writes */
    const char *what;        /* expected in the error message */
} OvlCase;

enum { T_L1, T_RT, T_RB0, T_L2A, T_L2B, T_SNAP_TABLE, T_SNAP_L1 };

static const OvlCase ovl_cases[] = {
    { "l2-entry-to-l1", VIA_L2, T_L1, 0, "L1 table" },
    { "l2-entry-to-refcount-table", VIA_L2, T_RT, 0, "refcount table" },
    { "l2-entry-to-refcount-block", VIA_L2, T_RB0, 0, "refcount block" },
    { "l2-entry-to-other-l2", VIA_L2, T_L2B, 0, "L2 table" },
    { "l2-entry-to-own-l2", VIA_L2, T_L2A, 0, "L2 table" },
    { "l2-entry-to-snapshot-table", VIA_L2, T_SNAP_TABLE, 0,
      "snapshot table" },
    { "l2-entry-to-snapshot-l1", VIA_L2, T_SNAP_L1, 0, "L1 table" },
    /* Entry 0 of the "L2 table" is L1[0]: the data write hits L2 A. */
    { "l1-entry-to-l1", VIA_L1, T_L1, 2 << 20, "L2 table" },
    { "l1-entry-to-refcount-table", VIA_L1, T_RT, 2 << 20,
      "refcount table" },
    { "l1-entry-to-refcount-block", VIA_L1, T_RB0, 2 << 20,
      "refcount block" },
    { "l1-entry-to-snapshot-table", VIA_L1, T_SNAP_TABLE, 2 << 20,
      "snapshot table" },
    { "alloc-on-l1", VIA_REFCOUNT, T_L1, 3 << 20, "L1 table" },
    { "alloc-on-refcount-block", VIA_REFCOUNT, T_RB0, 3 << 20,
      "refcount block" },
    { "alloc-on-l2", VIA_REFCOUNT, T_L2A, 3 << 20, "L2 table" },
};

static void test_overlap(gconstpointer data)
{
    const OvlCase *c = data;
    Layout lay;
    g_autofree char *base = overlap_image(&lay);
    g_autofree char *path = tpath("ovl.qcow2");
    const uint64_t *t = (const uint64_t *)&lay;
    uint64_t target = t[c->target];
    gchar *d;
    gsize len;
    g_assert_true(g_file_get_contents(base, &d, &len, NULL));
    uint8_t *p = (uint8_t *)d;
    switch (c->via) {
    case VIA_L2:
        be64_store(p + lay.l2a, COPIED | target);
        break;
    case VIA_L1:
        be64_store(p + lay.l1 + 8, COPIED | target);
        break;
    case VIA_REFCOUNT: {
        /* Every cluster below the target stays in use, so the next
         * allocation is the target. */
        be16_store(p + lay.rb0 + 2 * (target >> 12), 0);
        for (uint64_t cl = 0; cl < target >> 12; cl++) {
            g_assert_cmpuint(be16_load(p + lay.rb0 + 2 * cl), !=, 0);
        }
        break;
    }
    }
    g_assert_true(g_file_set_contents(path, d, (gssize)len, NULL));
    /* What the metadata holds before the write (the cluster itself). */
    uint8_t *before = g_memdup2(p + (target & ~4095ULL), 4096);
    g_free(d);

    BlockOpenOptions oo = { .format = "qcow2" };
    GError *err = NULL;
    BlockDev *b = blk_open(path, &oo, &err);
    g_assert_no_error(err);
    uint8_t buf[512];
    memset(buf, 0xee, sizeof(buf));
    bool ok = blk_pwrite(b, c->guest_off, buf, sizeof(buf), &err);
    if (ok) {
        g_test_message("%s: the write went through", c->name);
    }
    g_assert_false(ok);
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_CORRUPT);
    if (!strstr(err->message, c->what)) {
        g_test_message("%s: %s", c->name, err->message);
    }
    g_assert_nonnull(strstr(err->message, c->what));
    g_clear_error(&err);
    /* Further writes are refused too. */
    g_assert_false(blk_pwrite(b, 1 << 20, buf, sizeof(buf), &err));
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_CORRUPT);
    g_clear_error(&err);
    blk_close(b);

    g_assert_true(g_file_get_contents(path, &d, &len, NULL));
    p = (uint8_t *)d;
    /* The bytes the guest write (or the L2 entry for it) would have hit
     * are unchanged; an allocation may legitimately update refcounts,
     * including the one patched to 0 when the target is the block. */
    size_t win = c->via == VIA_L1 ? 8 : sizeof(buf);
    uint8_t *after = g_memdup2(p + (target & ~4095ULL), win);
    if (c->via == VIA_REFCOUNT && target == lay.rb0) {
        memcpy(after + 2 * (target >> 12), before + 2 * (target >> 12), 2);
    }
    g_assert_cmpmem(after, win, before, win);
    g_free(after);
    g_assert_true(be64_load(p + 72) & 2);     /* incompatible: corrupt */
    g_free(d);
    g_free(before);
    if (have_qemu_img()) {
        /* The patched pointer is still there; a refcount patched to 0
         * was raised again by the refused allocation. */
        int qc = qemu_check(path);
        if (c->via == VIA_REFCOUNT) {
            g_assert_true(qc == 0 || qc == 2);
        } else {
            g_assert_cmpint(qc, ==, 2);
        }
    }
    g_unlink(path);
    g_unlink(base);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("mimic-ioerror-XXXXXX", NULL);
    if (!have_qemu_img()) {
        g_printerr("*** %s missing: images NOT checked with qemu-img ***\n",
                   QEMU_IMG);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(workloads); i++) {
        char *name = g_strdup_printf("/images/qcow2/io-error/%s",
                                     workloads[i].name);
        g_test_add_data_func(name, &workloads[i], test_io_error);
        g_free(name);
        name = g_strdup_printf("/images/qcow2/power-loss/%s",
                               workloads[i].name);
        g_test_add_data_func(name, &workloads[i], test_power_loss);
        g_free(name);
        if (g_getenv("MIMIC_TEST_REORDER")) {
            name = g_strdup_printf("/images/qcow2/power-loss-reordered/%s",
                                   workloads[i].name);
            g_test_add_data_func(name, &workloads[i],
                                 test_power_loss_reordered);
            g_free(name);
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(ovl_cases); i++) {
        char *name = g_strdup_printf("/images/qcow2/overlap/%s",
                                     ovl_cases[i].name);
        g_test_add_data_func(name, &ovl_cases[i], test_overlap);
        g_free(name);
    }
    int ret = g_test_run();
    g_rmdir(tmpdir);
    return ret;
}
