/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qcow2 consistency check and repair (mimic-img check): rebuilds the
 * reference count of every host cluster from the metadata (header, L1 and
 * L2 tables of the active state and of every snapshot, refcount table and
 * blocks, snapshot table) and compares with the stored refcounts.
 * Classification as in qemu-img: stored > counted is a leak, stored <
 * counted (or a reference outside the file) is a corruption.
 */
#include "images/qcow2.h"
#include "images/be.h"

#include <string.h>

#define QCOW2_CHECK_MAX_CLUSTERS (1ULL << 28)

typedef struct CheckCtx {
    BlockDev *bs;
    Qcow2 *s;
    uint32_t *refs;
    uint64_t ncl;
    BlockCheckResult *res;
} CheckCtx;

static void add_ref(CheckCtx *c, uint64_t off, uint64_t len)
{
    if (!len) {
        return;
    }
    uint64_t first = off >> c->s->cluster_bits;
    uint64_t last = (off + len - 1) >> c->s->cluster_bits;
    for (uint64_t i = first; i <= last; i++) {
        if (i >= c->ncl) {
            /* Reference past the end of the file. */
            c->res->corruptions++;
            return;
        }
        if (c->refs[i] < UINT32_MAX) {
            c->refs[i]++;
        }
    }
}

/* Walk one L1 table; active tells whether COPIED flags are checked. */
static bool walk_l1(CheckCtx *c, const uint64_t *l1, uint32_t l1_size,
                    bool active, BlockCheckFix fix, GError **error)
{
    Qcow2 *s = c->s;
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l2off = l1[i] & QCOW2_OFFSET_MASK;
        if (!l2off) {
            continue;
        }
        if (l2off & (s->cluster_size - 1) ||
            (l2off >> s->cluster_bits) >= c->ncl) {
            c->res->corruptions++;
            continue;
        }
        add_ref(c, l2off, s->cluster_size);
        uint8_t *l2 = qcow2_l2_load(c->bs, l2off, error);
        if (!l2) {
            return false;
        }
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint64_t e = be64_load(l2 + j * 8);
            if (e & QCOW2_OFLAG_COMPRESSED) {
                uint64_t off, len;
                qcow2_compressed_range(s, e, &off, &len);
                add_ref(c, off, len);
                continue;
            }
            uint64_t off = e & QCOW2_OFFSET_MASK;
            if (!off) {
                continue;
            }
            if (off & (s->cluster_size - 1)) {
                c->res->corruptions++;
                continue;
            }
            add_ref(c, off, s->cluster_size);
        }
    }
    return true;
}

/* Second pass over the active L1: COPIED flags must match refcount 1. */
static bool check_copied(CheckCtx *c, BlockCheckFix fix, GError **error)
{
    Qcow2 *s = c->s;
    BlockDev *bs = c->bs;
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l2off = s->l1[i] & QCOW2_OFFSET_MASK;
        if (!l2off || (l2off & (s->cluster_size - 1)) ||
            (l2off >> s->cluster_bits) >= c->ncl) {
            continue;
        }
        uint64_t rc;
        if (!qcow2_get_refcount(bs, l2off >> s->cluster_bits, &rc, error)) {
            return false;
        }
        bool want = rc == 1;
        if (want != !!(s->l1[i] & QCOW2_OFLAG_COPIED)) {
            c->res->corruptions++;
            if (fix & BLOCK_CHECK_FIX_ERRORS) {
                s->l1[i] = l2off | (want ? QCOW2_OFLAG_COPIED : 0);
                if (!qcow2_write_l1_entry(bs, i, error)) {
                    return false;
                }
                c->res->corruptions_fixed++;
            }
        }
        uint8_t *l2 = qcow2_l2_load(bs, l2off, error);
        if (!l2) {
            return false;
        }
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint64_t e = be64_load(l2 + j * 8);
            uint64_t off = e & QCOW2_OFFSET_MASK;
            if ((e & QCOW2_OFLAG_COMPRESSED) || !off ||
                (off & (s->cluster_size - 1)) ||
                (off >> s->cluster_bits) >= c->ncl) {
                continue;
            }
            if (!qcow2_get_refcount(bs, off >> s->cluster_bits, &rc,
                                    error)) {
                return false;
            }
            l2 = qcow2_l2_load(bs, l2off, error);
            if (!l2) {
                return false;
            }
            bool w = rc == 1;
            if (w != !!(e & QCOW2_OFLAG_COPIED)) {
                c->res->corruptions++;
                if (fix & BLOCK_CHECK_FIX_ERRORS) {
                    uint64_t ne = w ? (e | QCOW2_OFLAG_COPIED)
                                    : (e & ~QCOW2_OFLAG_COPIED);
                    be64_store(l2 + j * 8, ne);
                    if (!blk_file_pwrite(bs, l2off + j * 8, l2 + j * 8, 8,
                                         error)) {
                        return false;
                    }
                    c->res->corruptions_fixed++;
                }
            }
        }
    }
    return true;
}

bool qcow2_check(BlockDev *bs, BlockCheckFix fix, BlockCheckResult *res,
                 GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    memset(res, 0, sizeof(*res));
    qcow2_overlap_cache_drop(s);
    if (!qcow2_refcount_writeback(bs, error)) {
        return false;
    }
    uint64_t fsize = blk_file_size(bs);
    uint64_t ncl = (fsize + s->cluster_size - 1) >> s->cluster_bits;
    if (ncl > QCOW2_CHECK_MAX_CLUSTERS) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "%s: image too large to check", bs->filename);
        return false;
    }
    CheckCtx c = { .bs = bs, .s = s, .ncl = ncl, .res = res };
    c.refs = g_new0(uint32_t, MAX(ncl, 1));
    bool ok = true;
    add_ref(&c, 0, s->cluster_size);
    add_ref(&c, s->l1_offset, (uint64_t)s->l1_size * 8);
    add_ref(&c, s->rt_offset, (uint64_t)s->rt_clusters * s->cluster_size);
    if (s->nb_snapshots) {
        add_ref(&c, s->snapshots_offset, s->snapshots_size);
    }
    for (uint64_t i = 0; i < s->rt_entries; i++) {
        uint64_t o = s->rt[i] & QCOW2_OFFSET_MASK;
        if (!o) {
            continue;
        }
        if ((o & (s->cluster_size - 1)) || (o >> s->cluster_bits) >= ncl) {
            res->corruptions++;
            if (fix & BLOCK_CHECK_FIX_ERRORS) {
                /* Drop the bad block; its refcounts are rebuilt below. */
                uint8_t z[8] = { 0 };
                s->rt[i] = 0;
                ok = blk_file_pwrite(bs, s->rt_offset + i * 8, z, 8, error);
                res->corruptions_fixed++;
            }
            continue;
        }
        add_ref(&c, o, s->cluster_size);
    }
    ok = ok && walk_l1(&c, s->l1, s->l1_size, true, fix, error);
    for (uint32_t k = 0; ok && k < s->nb_snapshots; k++) {
        Qcow2Snapshot *sn = &s->snapshots[k];
        add_ref(&c, sn->l1_offset, (uint64_t)sn->l1_size * 8);
        uint64_t bytes = (uint64_t)sn->l1_size * 8;
        if (bytes > QCOW2_MAX_L1_BYTES || (sn->l1_offset & 511) ||
            sn->l1_offset + bytes > fsize) {
            res->corruptions++;
            continue;
        }
        uint64_t *l1 = g_new0(uint64_t, MAX(sn->l1_size, 1));
        uint8_t *b = g_malloc0(MAX(bytes, 1));
        ok = blk_file_pread(bs, sn->l1_offset, b, bytes, error);
        for (uint32_t i = 0; i < sn->l1_size; i++) {
            l1[i] = be64_load(b + (uint64_t)i * 8);
        }
        g_free(b);
        ok = ok && walk_l1(&c, l1, sn->l1_size, false, fix, error);
        g_free(l1);
    }
    /* Compare; also look at refcounts stored for clusters past EOF. */
    uint64_t last_rc = MIN(s->rt_entries * s->rb_entries,
                           QCOW2_CHECK_MAX_CLUSTERS);
    uint64_t end = 0;
    for (uint64_t i = 0; ok && i < MAX(ncl, last_rc); i++) {
        if (i >= ncl && !(s->rt[i / s->rb_entries] & QCOW2_OFFSET_MASK)) {
            i = (i / s->rb_entries + 1) * s->rb_entries - 1;
            continue;
        }
        uint64_t rc;
        if (!qcow2_get_refcount(bs, i, &rc, error)) {
            ok = false;
            break;
        }
        uint64_t want = i < ncl ? c.refs[i] : 0;
        if (want) {
            res->allocated_clusters++;
            end = i + 1;
        }
        if (rc == want) {
            continue;
        }
        bool leak = rc > want;
        if (leak) {
            res->leaks++;
        } else {
            res->corruptions++;
        }
        BlockCheckFix need = leak ? BLOCK_CHECK_FIX_LEAKS
                                  : BLOCK_CHECK_FIX_ERRORS;
        if (fix & need) {
            uint64_t r = i / s->rb_entries;
            if (!(s->rt[r] & QCOW2_OFFSET_MASK)) {
                /* Needs a new refcount block: allocate after the walk. */
                continue;
            }
            if (want > s->refcount_max) {
                want = s->refcount_max;
            }
            if (!qcow2_set_refcount(bs, i, want, error)) {
                ok = false;
                break;
            }
            if (leak) {
                res->leaks_fixed++;
            } else {
                res->corruptions_fixed++;
            }
        }
    }
    if (ok && (fix & BLOCK_CHECK_FIX_ERRORS)) {
        ok = check_copied(&c, fix, error);
    } else if (ok) {
        ok = check_copied(&c, BLOCK_CHECK_NONE, error);
    }
    res->total_clusters = (bs->size + s->cluster_size - 1) >>
                          s->cluster_bits;
    res->image_end_offset = end << s->cluster_bits;
    g_free(c.refs);
    if (ok && (fix & BLOCK_CHECK_FIX_ERRORS) &&
        res->corruptions == res->corruptions_fixed && !bs->read_only) {
        /* Repaired: clear the corrupt bit. */
        if (s->incompat & QCOW2_INCOMPAT_CORRUPT) {
            uint8_t b[8];
            s->incompat &= ~QCOW2_INCOMPAT_CORRUPT;
            be64_store(b, s->incompat);
            ok = blk_file_pwrite(bs, QH_INCOMPAT, b, 8, error);
        }
        s->corrupt = false;
    }
    return ok;
}
