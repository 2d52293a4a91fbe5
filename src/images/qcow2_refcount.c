/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qcow2 refcounts: the two-level refcount structure (refcount table of
 * refcount blocks, refcount_order 0..6), cluster allocation, growth of the
 * refcount table, and the overlap check run before metadata writes.
 * Reference: QEMU docs/interop/qcow2.txt, "Cluster mapping" and "Host
 * cluster management". Ordering: a cluster's refcount is raised before
 * anything references it, and lowered only after the reference is gone,
 * so a crash can leak clusters but never leave a reference uncounted.
 */
#include "images/qcow2.h"
#include "images/be.h"

#include <string.h>

bool qcow2_refcount_load(BlockDev *bs, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t bytes = (uint64_t)s->rt_clusters * s->cluster_size;
    s->rt_entries = bytes / 8;
    s->rt = g_new0(uint64_t, MAX(s->rt_entries, 1));
    uint8_t *buf = g_malloc(bytes ? bytes : 1);
    bool ok = blk_file_pread(bs, s->rt_offset, buf, bytes, error);
    for (uint64_t i = 0; ok && i < s->rt_entries; i++) {
        s->rt[i] = be64_load(buf + i * 8);
    }
    g_free(buf);
    return ok;
}

static uint8_t *rb_load(BlockDev *bs, uint64_t rb_off, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (s->rb_dirty) {
        uint8_t *d = g_hash_table_lookup(s->rb_dirty, &rb_off);
        if (d) {
            return d;
        }
    }
    if (s->rb_cache_off == rb_off) {
        return s->rb_cache;
    }
    if (rb_off & (s->cluster_size - 1) || rb_off == 0) {
        qcow2_signal_corruption(bs, error, "Refcount block offset %#"
                                G_GINT64_MODIFIER "x unaligned", rb_off);
        return NULL;
    }
    s->rb_cache_off = 0;
    if (!blk_file_pread(bs, rb_off, s->rb_cache, s->cluster_size, error)) {
        return NULL;
    }
    s->rb_cache_off = rb_off;
    return s->rb_cache;
}

static uint64_t rb_get(Qcow2 *s, const uint8_t *rb, uint64_t idx)
{
    switch (s->refcount_order) {
    case 0: return (rb[idx / 8] >> (idx % 8)) & 1;
    case 1: return (rb[idx / 4] >> (2 * (idx % 4))) & 3;
    case 2: return (rb[idx / 2] >> (4 * (idx % 2))) & 15;
    case 3: return rb[idx];
    case 4: return be16_load(rb + idx * 2);
    case 5: return be32_load(rb + idx * 4);
    default: return be64_load(rb + idx * 8);
    }
}

/* Store a refcount; returns the byte offset and length touched. */
static void rb_set(Qcow2 *s, uint8_t *rb, uint64_t idx, uint64_t v,
                   uint64_t *boff, uint64_t *blen)
{
    unsigned sh;
    switch (s->refcount_order) {
    case 0:
        sh = idx % 8;
        rb[idx / 8] = (rb[idx / 8] & ~(1u << sh)) | ((v & 1) << sh);
        *boff = idx / 8; *blen = 1;
        break;
    case 1:
        sh = 2 * (idx % 4);
        rb[idx / 4] = (rb[idx / 4] & ~(3u << sh)) | ((v & 3) << sh);
        *boff = idx / 4; *blen = 1;
        break;
    case 2:
        sh = 4 * (idx % 2);
        rb[idx / 2] = (rb[idx / 2] & ~(15u << sh)) | ((v & 15) << sh);
        *boff = idx / 2; *blen = 1;
        break;
    case 3:
        rb[idx] = v; *boff = idx; *blen = 1;
        break;
    case 4:
        be16_store(rb + idx * 2, v); *boff = idx * 2; *blen = 2;
        break;
    case 5:
        be32_store(rb + idx * 4, v); *boff = idx * 4; *blen = 4;
        break;
    default:
        be64_store(rb + idx * 8, v); *boff = idx * 8; *blen = 8;
        break;
    }
}

void qcow2_rb_store(Qcow2 *s, uint8_t *rb, uint64_t idx, uint64_t v)
{
    uint64_t bo, bl;
    rb_set(s, rb, idx, v, &bo, &bl);
}

bool qcow2_get_refcount(BlockDev *bs, uint64_t cluster, uint64_t *rc,
                        GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t rti = cluster / s->rb_entries;
    *rc = 0;
    if (rti >= s->rt_entries) {
        return true;
    }
    uint64_t rb_off = s->rt[rti] & QCOW2_OFFSET_MASK;
    if (!rb_off) {
        return true;
    }
    uint8_t *rb = rb_load(bs, rb_off, error);
    if (!rb) {
        return false;
    }
    *rc = rb_get(s, rb, cluster % s->rb_entries);
    return true;
}

bool qcow2_set_refcount(BlockDev *bs, uint64_t cluster, uint64_t value,
                        GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t rti = cluster / s->rb_entries;
    if (rti >= s->rt_entries || !(s->rt[rti] & QCOW2_OFFSET_MASK)) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FAILED,
                    "No refcount block for cluster %" G_GUINT64_FORMAT,
                    cluster);
        return false;
    }
    uint64_t rb_off = s->rt[rti] & QCOW2_OFFSET_MASK;
    uint8_t *rb = rb_load(bs, rb_off, error);
    if (!rb) {
        return false;
    }
    uint64_t boff, blen;
    if (s->dirty_set) {
        /* Lazy refcounts: the dirty bit is on disk, so an open after a
           crash rebuilds refcounts; keep the block in memory. */
        if (!s->rb_dirty) {
            s->rb_dirty = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                                g_free, g_free);
        }
        if (!g_hash_table_contains(s->rb_dirty, &rb_off)) {
            uint8_t *d = g_memdup2(rb, s->cluster_size);
            g_hash_table_insert(s->rb_dirty, g_memdup2(&rb_off, 8), d);
            rb = d;
        }
        rb_set(s, rb, cluster % s->rb_entries, value, &boff, &blen);
    } else {
        rb_set(s, rb, cluster % s->rb_entries, value, &boff, &blen);
        if (!blk_file_pwrite(bs, rb_off + boff, rb + boff, blen, error)) {
            s->rb_cache_off = 0;
            return false;
        }
    }
    if (value == 0 && cluster < s->free_hint) {
        s->free_hint = cluster;
    }
    return true;
}

bool qcow2_update_refcount(BlockDev *bs, uint64_t cluster, int64_t delta,
                           GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t rc;
    if (!qcow2_get_refcount(bs, cluster, &rc, error)) {
        return false;
    }
    if ((delta < 0 && rc < (uint64_t)-delta) ||
        (delta > 0 && s->refcount_max - rc < (uint64_t)delta)) {
        return qcow2_signal_corruption(bs, error, "Refcount of cluster %"
                                       G_GUINT64_FORMAT " out of range",
                                       cluster);
    }
    return qcow2_set_refcount(bs, cluster, rc + delta, error);
}

void qcow2_refcount_dirty_free(Qcow2 *s)
{
    if (s->rb_dirty) {
        g_hash_table_destroy(s->rb_dirty);
        s->rb_dirty = NULL;
    }
}

bool qcow2_refcount_writeback(BlockDev *bs, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (!s->rb_dirty || !g_hash_table_size(s->rb_dirty)) {
        return true;
    }
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->rb_dirty);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        uint64_t off = *(uint64_t *)k;
        if (!blk_file_pwrite(bs, off, v, s->cluster_size, error)) {
            return false;   /* kept: a later flush retries */
        }
        g_hash_table_iter_remove(&it);
    }
    s->rb_cache_off = 0;    /* may hold an older copy */
    return true;
}

static bool rt_write_entry(BlockDev *bs, uint64_t idx, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint8_t b[8];
    be64_store(b, s->rt[idx]);
    qcow2_overlap_cache_drop(s);
    return blk_file_pwrite(bs, s->rt_offset + idx * 8, b, 8, error);
}

/*
 * Lowest run of n free clusters at or after the hint.  Clusters past the
 * end of the file are not free by position alone: a writer killed between
 * its refcount update and its data write leaves counted clusters there.
 * The walk ends where the refcount blocks end (counts read as zero).
 */
static bool find_free(BlockDev *bs, uint64_t n, uint64_t *start,
                      GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t i = s->free_hint, run = 0;
    for (;;) {
        uint64_t rc = 0;
        if (!qcow2_get_refcount(bs, i, &rc, error)) {
            return false;
        }
        if (rc == 0) {
            if (++run == n) {
                *start = i + 1 - n;
                return true;
            }
        } else {
            run = 0;
        }
        i++;
    }
}

/*
 * Grow the refcount table so it has at least min_entries entries. The new
 * table and any refcount blocks needed to describe it go to the end of the
 * file; the header switches to it only once it is complete, then the old
 * table is freed.
 */
static bool grow_rt(BlockDev *bs, uint64_t min_entries, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t per_cl = s->cluster_size / 8;
    uint64_t t = (s->file_end + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t entries = MAX(min_entries, s->rt_entries * 2);
    uint64_t tc, k = 0;
    for (int iter = 0;; iter++) {
        tc = (entries + per_cl - 1) / per_cl;
        uint64_t last = t + tc + k;   /* exclusive end */
        uint64_t nk = 0;
        for (uint64_t r = t / s->rb_entries; r <= (last - 1) / s->rb_entries;
             r++) {
            if (r >= s->rt_entries || !(s->rt[r] & QCOW2_OFFSET_MASK)) {
                nk++;
            }
        }
        uint64_t need = (last + nk - 1) / s->rb_entries + 1;
        if (nk == k && need <= entries) {
            break;
        }
        k = nk;
        entries = MAX(entries, need);
        if (iter > 64) {
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FAILED,
                        "Could not grow the refcount table");
            return false;
        }
    }
    if (tc * s->cluster_size > QCOW2_MAX_RT_BYTES * 8ULL) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FAILED,
                    "Refcount table would become too large");
        return false;
    }
    entries = tc * per_cl;
    uint64_t *nrt = g_new0(uint64_t, entries);
    memcpy(nrt, s->rt, s->rt_entries * 8);
    uint64_t end = t + tc + k;
    uint64_t next_rb = t + tc;
    uint8_t *blk = g_malloc0(s->cluster_size);
    bool ok = true;
    /* New refcount blocks: they describe [t, end) where no block existed. */
    for (uint64_t r = t / s->rb_entries; ok && r <= (end - 1) / s->rb_entries;
         r++) {
        if (r < s->rt_entries && (s->rt[r] & QCOW2_OFFSET_MASK)) {
            continue;
        }
        memset(blk, 0, s->cluster_size);
        uint64_t lo = MAX(t, r * s->rb_entries);
        uint64_t hi = MIN(end, (r + 1) * s->rb_entries);
        for (uint64_t c = lo; c < hi; c++) {
            uint64_t bo, bl;
            rb_set(s, blk, c - r * s->rb_entries, 1, &bo, &bl);
        }
        nrt[r] = next_rb << s->cluster_bits;
        ok = blk_file_pwrite(bs, nrt[r], blk, s->cluster_size, error);
        next_rb++;
    }
    g_free(blk);
    /* Clusters of [t, end) covered by existing blocks get counted there. */
    for (uint64_t c = t; ok && c < end; c++) {
        uint64_t r = c / s->rb_entries;
        if (r < s->rt_entries && (s->rt[r] & QCOW2_OFFSET_MASK)) {
            ok = qcow2_set_refcount(bs, c, 1, error);
        }
    }
    if (ok) {
        uint8_t *tb = g_malloc0(tc * s->cluster_size);
        for (uint64_t i = 0; i < entries; i++) {
            be64_store(tb + i * 8, nrt[i]);
        }
        ok = blk_file_pwrite(bs, t << s->cluster_bits, tb,
                             tc * s->cluster_size, error);
        g_free(tb);
    }
    if (ok) {
        ok = blk_file_sync(bs, error);
    }
    uint8_t hdr[12];
    be64_store(hdr, t << s->cluster_bits);
    be32_store(hdr + 8, (uint32_t)tc);
    if (ok) {
        ok = qcow2_write_header_field(bs, QH_RT_OFFSET, hdr, 12, error);
    }
    if (!ok) {
        g_free(nrt);
        return false;
    }
    uint64_t old_off = s->rt_offset, old_cl = s->rt_clusters;
    g_free(s->rt);
    s->rt = nrt;
    s->rt_entries = entries;
    s->rt_offset = t << s->cluster_bits;
    s->rt_clusters = (uint32_t)tc;
    s->file_end = MAX(s->file_end, end << s->cluster_bits);
    return qcow2_free_clusters(bs, old_off, old_cl << s->cluster_bits, error);
}

/* Give refcount block index r a block. */
static bool create_refblock(BlockDev *bs, uint64_t r, int depth,
                            GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (depth > 8) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FAILED,
                    "Refcount block allocation does not converge");
        return false;
    }
    if (r >= s->rt_entries) {
        return grow_rt(bs, r + 1, error);
    }
    uint64_t f;
    if (!find_free(bs, 1, &f, error)) {
        return false;
    }
    uint64_t fr = f / s->rb_entries;
    uint8_t *blk = g_malloc0(s->cluster_size);
    bool ok = true;
    if (fr == r) {
        /* The block describes itself. */
        uint64_t bo, bl;
        rb_set(s, blk, f % s->rb_entries, 1, &bo, &bl);
    } else if (fr >= s->rt_entries || !(s->rt[fr] & QCOW2_OFFSET_MASK)) {
        g_free(blk);
        if (!create_refblock(bs, fr, depth + 1, error)) {
            return false;
        }
        return create_refblock(bs, r, depth + 1, error);
    } else {
        ok = qcow2_set_refcount(bs, f, 1, error);
    }
    if (ok) {
        ok = qcow2_check_overlap(bs, f << s->cluster_bits, s->cluster_size,
                                 0, error) &&
             blk_file_pwrite(bs, f << s->cluster_bits, blk, s->cluster_size,
                             error);
    }
    g_free(blk);
    if (!ok) {
        return false;
    }
    s->file_end = MAX(s->file_end, (f + 1) << s->cluster_bits);
    s->rt[r] = f << s->cluster_bits;
    qcow2_overlap_cache_drop(s);
    if (!rt_write_entry(bs, r, error)) {
        s->rt[r] = 0;
        return false;
    }
    return true;
}

uint64_t qcow2_alloc_clusters(BlockDev *bs, uint64_t n, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    for (int iter = 0; iter < 1000; iter++) {
        uint64_t start;
        if (!find_free(bs, n, &start, error)) {
            return 0;
        }
        if (((start + n) << s->cluster_bits) >> s->cluster_bits !=
            start + n || ((start + n) << s->cluster_bits) >
            QCOW2_OFFSET_MASK) {
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FAILED,
                        "Image file is full");
            return 0;
        }
        bool again = false;
        for (uint64_t r = start / s->rb_entries;
             r <= (start + n - 1) / s->rb_entries; r++) {
            if (r >= s->rt_entries || !(s->rt[r] & QCOW2_OFFSET_MASK)) {
                if (!create_refblock(bs, r, 0, error)) {
                    return 0;
                }
                again = true;
                break;
            }
        }
        if (again) {
            continue;
        }
        for (uint64_t i = 0; i < n; i++) {
            uint64_t rc;
            if (!qcow2_get_refcount(bs, start + i, &rc, error)) {
                return 0;
            }
            if (rc) {
                again = true;   /* taken meanwhile by a refcount block */
                break;
            }
        }
        if (again) {
            continue;
        }
        for (uint64_t i = 0; i < n; i++) {
            if (!qcow2_set_refcount(bs, start + i, 1, error)) {
                return 0;
            }
        }
        if (n == 1 || start == s->free_hint) {
            s->free_hint = start + n;
        }
        s->file_end = MAX(s->file_end, (start + n) << s->cluster_bits);
        qcow2_overlap_cache_drop(s);
        return start << s->cluster_bits;
    }
    g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FAILED,
                "Cluster allocation does not converge");
    return 0;
}

bool qcow2_free_clusters(BlockDev *bs, uint64_t offset, uint64_t bytes,
                         GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + bytes - 1) >> s->cluster_bits;
    if (!bytes) {
        return true;
    }
    for (uint64_t c = first; c <= last; c++) {
        if (!qcow2_update_refcount(bs, c, -1, error)) {
            return false;
        }
    }
    return true;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

void qcow2_overlap_cache_drop(Qcow2 *s)
{
    memset(s->ovl_ok, 0, sizeof(s->ovl_ok));
}

bool qcow2_check_overlap(BlockDev *bs, uint64_t off, uint64_t len,
                         uint64_t ignore_off, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    const char *what = NULL;
    /* Whole data clusters are checked on every write: remember the ones
       found clear (offset 0 is the header, never cached). */
    bool cacheable = off && len == s->cluster_size && !ignore_off &&
                     !(off & (s->cluster_size - 1));
    uint64_t *slot = &s->ovl_ok[(off >> s->cluster_bits) %
                                QCOW2_OVL_CACHE];
    if (cacheable && *slot == off) {
        return true;
    }
    if (overlaps(off, len, 0, s->cluster_size)) {
        what = "the header";
    } else if (overlaps(off, len, s->l1_offset, (uint64_t)s->l1_size * 8)) {
        what = "the active L1 table";
    } else if (overlaps(off, len, s->rt_offset,
                        (uint64_t)s->rt_clusters * s->cluster_size)) {
        what = "the refcount table";
    } else if (s->nb_snapshots &&
               overlaps(off, len, s->snapshots_offset, s->snapshots_size)) {
        what = "the snapshot table";
    }
    /* ignore_off (the L2 table an entry is written into) is exempt only
       as an L2 table: an L2 table that is also a refcount block is
       corrupt, and writing the entry would change refcounts. */
    for (uint64_t i = 0; !what && i < s->rt_entries; i++) {
        uint64_t o = s->rt[i] & QCOW2_OFFSET_MASK;
        if (o && overlaps(off, len, o, s->cluster_size)) {
            what = "a refcount block";
        }
    }
    for (uint32_t i = 0; !what && i < s->l1_size; i++) {
        uint64_t o = s->l1[i] & QCOW2_OFFSET_MASK;
        if (o && o != ignore_off && overlaps(off, len, o, s->cluster_size)) {
            what = "an active L2 table";
        }
    }
    for (uint32_t i = 0; !what && i < s->nb_snapshots; i++) {
        if (overlaps(off, len, s->snapshots[i].l1_offset,
                     (uint64_t)s->snapshots[i].l1_size * 8)) {
            what = "a snapshot's L1 table";
        }
    }
    if (!what) {
        if (cacheable) {
            *slot = off;
        }
        return true;
    }
    return qcow2_signal_corruption(bs, error, "Preventing invalid write on "
                                   "metadata (overlaps with %s) at %#"
                                   G_GINT64_MODIFIER "x", what, off);
}
