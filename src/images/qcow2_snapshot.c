/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qcow2 internal snapshots: the snapshot table (QEMU docs/interop/qcow2.txt
 * "Snapshots"), create/apply/delete/list, and the VM state area that
 * savevm fills. The VM state lives in the guest address space of the
 * image right after the last L1 entry needed by the disk; a snapshot
 * captures it, and the active state drops it afterwards, as QEMU does.
 */
#include "images/qcow2.h"
#include "images/be.h"

#include <string.h>
#include <time.h>

#define QCOW2_MAX_SNAPSHOTS_BYTES (64u << 20)

void qcow2_snapshots_free(Qcow2 *s)
{
    for (uint32_t i = 0; s->snapshots && i < s->nb_snapshots; i++) {
        g_free(s->snapshots[i].id);
        g_free(s->snapshots[i].name);
        g_free(s->snapshots[i].extra);
    }
    g_free(s->snapshots);
    s->snapshots = NULL;
}

/*
 * Read the snapshot table. Like QEMU, only a table that cannot be located
 * (unaligned offset; the count is limited in qcow2_open) refuses the open;
 * the table is read with zeros past the end of the file, and damage inside
 * entries (L1 offsets, sizes, missing extra data) is left to
 * qcow2_check, so that `check -r all` can open and repair the image.
 * Extra data over 1 KiB refuses the open unless it is for a repair, which
 * drops it (s->snap_fixes counts such repairs for the check).
 */
bool qcow2_snapshots_load(BlockDev *bs, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint32_t n = s->nb_snapshots;
    s->snapshots = NULL;
    s->snapshots_size = 0;
    s->snap_incomplete = 0;
    s->snap_fixes = 0;
    if (!n) {
        return true;
    }
    if (s->snapshots_offset & (s->cluster_size - 1)) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "%s: snapshot table offset invalid", bs->filename);
        return false;
    }
    s->snapshots = g_new0(Qcow2Snapshot, n);
    uint64_t off = s->snapshots_offset;
    uint64_t end = off;
    uint8_t h[40];
    for (uint32_t i = 0; i < n; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        if (off - s->snapshots_offset > QCOW2_MAX_SNAPSHOTS_BYTES) {
            if (bs->repair) {
                /* Discard the overhanging snapshots. */
                s->nb_snapshots = i;
                s->snap_fixes++;
                break;
            }
            s->nb_snapshots = i;
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                        "%s: snapshot table too large; 'mimic-img check -r "
                        "all' can discard the overhanging snapshots",
                        bs->filename);
            return false;
        }
        if (!blk_file_pread(bs, off, h, 40, error)) {
            s->nb_snapshots = i;
            return false;
        }
        sn->l1_offset = be64_load(h);
        sn->l1_size = be32_load(h + 8);
        uint32_t id_len = be16_load(h + 12);
        uint32_t name_len = be16_load(h + 14);
        sn->date_sec = be32_load(h + 16);
        sn->date_nsec = be32_load(h + 20);
        sn->vm_clock_nsec = be64_load(h + 24);
        sn->vm_state_size = be32_load(h + 32);
        sn->extra_size = be32_load(h + 36);
        sn->disk_size = bs->size;
        off += 40;
        uint32_t keep = sn->extra_size;
        if (sn->extra_size > 1024) {
            if (!bs->repair) {
                s->nb_snapshots = i + 1;
                g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                            "%s: too much extra metadata in snapshot table "
                            "entry %u; 'mimic-img check -r all' can remove "
                            "it", bs->filename, i);
                return false;
            }
            keep = 0;
            s->snap_fixes++;
        }
        uint64_t var = (uint64_t)sn->extra_size + id_len + name_len;
        uint8_t *v = g_malloc0(var + 1);
        if (!blk_file_pread(bs, off, v, var, error)) {
            g_free(v);
            s->nb_snapshots = i + 1;
            return false;
        }
        sn->extra_size = keep;
        sn->extra = g_memdup2(v, keep ? keep : 1);
        if (keep >= 16) {
            sn->disk_size = be64_load(v + 8);
        } else if (s->version >= 3) {
            /* Version 3 needs vm_state_size_large and disk_size. */
            s->snap_incomplete++;
        }
        uint64_t skip = var - id_len - name_len;
        sn->id = g_strndup((const char *)v + skip, id_len);
        sn->name = g_strndup((const char *)v + skip + id_len, name_len);
        g_free(v);
        off += var;
        end = off;
        off = (off + 7) & ~7ULL;
    }
    s->snapshots_size = end - s->snapshots_offset;
    return true;
}

/* Can the snapshot's L1 table be used (apply, delete)? */
static bool snapshot_l1_ok(BlockDev *bs, const Qcow2Snapshot *sn,
                           GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t bytes = (uint64_t)sn->l1_size * 8;
    if (bytes > QCOW2_MAX_L1_BYTES || (sn->l1_offset & (s->cluster_size - 1))
        || (bytes && (!sn->l1_offset ||
                      sn->l1_offset + bytes > blk_file_size(bs)))) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_CORRUPT,
                    "%s: snapshot '%s' has an invalid L1 table; see "
                    "'mimic-img check'", bs->filename, sn->name);
        return false;
    }
    return true;
}

static Qcow2Snapshot *find_snapshot(Qcow2 *s, const char *name, int *idx)
{
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if (!strcmp(s->snapshots[i].id, name)) {
            *idx = (int)i;
            return &s->snapshots[i];
        }
    }
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if (!strcmp(s->snapshots[i].name, name)) {
            *idx = (int)i;
            return &s->snapshots[i];
        }
    }
    return NULL;
}

/* Write the table for snaps[0..n) to new clusters and switch the header;
 * *switched tells whether the header was switched, even on failure. */
static bool write_table(BlockDev *bs, Qcow2Snapshot *snaps, uint32_t n,
                        bool free_old, bool *switched, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    GByteArray *t = g_byte_array_new();
    for (uint32_t i = 0; i < n; i++) {
        Qcow2Snapshot *sn = &snaps[i];
        uint8_t h[40];
        uint32_t extra = MAX(sn->extra_size, s->version >= 3 ? 16u : 0u);
        uint8_t *ex = g_malloc0(MAX(extra, 16));
        if (sn->extra_size) {
            memcpy(ex, sn->extra, sn->extra_size);
        }
        if (extra >= 16) {
            be64_store(ex, sn->vm_state_size);
            be64_store(ex + 8, sn->disk_size);
        }
        be64_store(h, sn->l1_offset);
        be32_store(h + 8, sn->l1_size);
        be16_store(h + 12, (uint16_t)strlen(sn->id));
        be16_store(h + 14, (uint16_t)strlen(sn->name));
        be32_store(h + 16, sn->date_sec);
        be32_store(h + 20, sn->date_nsec);
        be64_store(h + 24, sn->vm_clock_nsec);
        be32_store(h + 32, sn->vm_state_size);
        be32_store(h + 36, extra);
        g_byte_array_append(t, h, 40);
        g_byte_array_append(t, ex, extra);
        g_byte_array_append(t, (const uint8_t *)sn->id, strlen(sn->id));
        g_byte_array_append(t, (const uint8_t *)sn->name, strlen(sn->name));
        static const uint8_t pad[8];
        g_byte_array_append(t, pad, (8 - t->len % 8) % 8);
        g_free(ex);
    }
    uint64_t noff = 0;
    bool ok = true;
    if (t->len) {
        uint64_t ncl = (t->len + s->cluster_size - 1) >> s->cluster_bits;
        noff = qcow2_alloc_clusters(bs, ncl, error);
        ok = noff && qcow2_check_overlap(bs, noff, t->len, 0, error) &&
             blk_file_pwrite(bs, noff, t->data, t->len, error) &&
             blk_file_sync(bs, error);
    }
    uint64_t old_off = s->snapshots_offset, old_size = s->snapshots_size;
    uint32_t old_n = s->nb_snapshots;
    *switched = false;
    if (ok) {
        uint8_t hdr[12];
        be32_store(hdr, n);
        be64_store(hdr + 4, noff);
        ok = qcow2_write_header_field(bs, QH_NB_SNAPSHOTS, hdr, 12, error);
    }
    uint64_t new_size = t->len;
    g_byte_array_free(t, true);
    if (!ok) {
        return false;
    }
    /* The file has the new header now (a failed sync below only means it
       may not be durable): the state in memory follows the file. */
    *switched = true;
    s->snapshots_offset = noff;
    s->snapshots_size = new_size;
    s->nb_snapshots = n;
    if (!blk_file_sync(bs, error)) {
        return false;
    }
    if (free_old && old_n && old_size) {
        return qcow2_free_clusters(bs, old_off, old_size, error);
    }
    return true;
}

bool qcow2_snapshots_rewrite(BlockDev *bs, GError **error)
{
    /* The old table is not freed: the check that follows rebuilds its
       refcounts (it may lie past the end of the file). */
    Qcow2 *s = qcow2_state(bs);
    bool sw;
    if (!write_table(bs, s->snapshots, s->nb_snapshots, false, &sw,
                     error)) {
        return false;
    }
    s->snap_incomplete = 0;
    s->snap_fixes = 0;
    return true;
}

static bool read_l1(BlockDev *bs, uint64_t off, uint32_t n, uint64_t **out,
                    GError **error)
{
    uint8_t *b = g_malloc0(MAX((uint64_t)n * 8, 1));
    uint64_t *l1 = g_new0(uint64_t, MAX(n, 1));
    bool ok = blk_file_pread(bs, off, b, (uint64_t)n * 8, error);
    for (uint32_t i = 0; i < n; i++) {
        l1[i] = be64_load(b + (uint64_t)i * 8);
    }
    g_free(b);
    if (!ok) {
        g_free(l1);
        return false;
    }
    *out = l1;
    return true;
}

/* Add delta to every cluster an L1 tree references (L2 tables, data). */
static bool update_tree(BlockDev *bs, const uint64_t *l1, uint32_t n,
                        int delta, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint8_t *copy = g_malloc(s->cluster_size);
    bool ok = true;
    for (uint32_t i = 0; ok && i < n; i++) {
        uint64_t l2off = l1[i] & QCOW2_OFFSET_MASK;
        if (!l2off) {
            continue;
        }
        uint8_t *l2 = qcow2_l2_load(bs, l2off, error);
        if (!l2) {
            ok = false;
            break;
        }
        memcpy(copy, l2, s->cluster_size);
        for (uint64_t j = 0; ok && j < s->l2_entries; j++) {
            uint64_t e = be64_load(copy + j * 8);
            if (e & QCOW2_OFLAG_COMPRESSED) {
                uint64_t off, len;
                qcow2_compressed_range(s, e, &off, &len);
                for (uint64_t c = off >> s->cluster_bits;
                     ok && c <= (off + len - 1) >> s->cluster_bits; c++) {
                    ok = qcow2_update_refcount(bs, c, delta, error);
                }
            } else if (e & QCOW2_OFFSET_MASK) {
                ok = qcow2_update_refcount(bs, (e & QCOW2_OFFSET_MASK) >>
                                           s->cluster_bits, delta, error);
            }
        }
        if (ok) {
            ok = qcow2_update_refcount(bs, l2off >> s->cluster_bits, delta,
                                       error);
        }
    }
    g_free(copy);
    return ok;
}

/* Set COPIED flags of the active tree from the refcounts. */
static bool fix_copied(BlockDev *bs, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l2off = s->l1[i] & QCOW2_OFFSET_MASK;
        if (!l2off) {
            continue;
        }
        uint64_t rc;
        if (!qcow2_get_refcount(bs, l2off >> s->cluster_bits, &rc, error)) {
            return false;
        }
        uint64_t ne = l2off | (rc == 1 ? QCOW2_OFLAG_COPIED : 0);
        if (ne != s->l1[i]) {
            uint64_t was = s->l1[i];
            s->l1[i] = ne;
            if (!qcow2_write_l1_entry(bs, i, error)) {
                s->l1[i] = was;     /* memory follows the file */
                return false;
            }
        }
        /* Entries of a shared table are fixed too (QEMU does the same):
         * their COPIED flags must drop once the clusters are shared. */
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint8_t *l2 = qcow2_l2_load(bs, l2off, error);
            if (!l2) {
                return false;
            }
            uint64_t e = be64_load(l2 + j * 8);
            uint64_t off = e & QCOW2_OFFSET_MASK;
            if ((e & QCOW2_OFLAG_COMPRESSED) || !off) {
                continue;
            }
            if (!qcow2_get_refcount(bs, off >> s->cluster_bits, &rc,
                                    error)) {
                return false;
            }
            uint64_t ne2 = rc == 1 ? (e | QCOW2_OFLAG_COPIED)
                                   : (e & ~QCOW2_OFLAG_COPIED);
            if (ne2 != e) {
                l2 = qcow2_l2_load(bs, l2off, error);
                if (!l2) {
                    return false;
                }
                be64_store(l2 + j * 8, ne2);
                if (!qcow2_check_overlap(bs, l2off + j * 8, 8, l2off,
                                         error) ||
                    !blk_file_pwrite(bs, l2off + j * 8, l2 + j * 8, 8,
                                     error)) {
                    return false;
                }
            }
        }
    }
    return true;
}

static uint64_t vm_state_offset(Qcow2 *s, BlockDev *bs)
{
    uint64_t cover = s->cluster_size << s->l2_bits;
    return (bs->size + cover - 1) / cover * cover;
}

bool qcow2_vmstate_rw(BlockDev *bs, uint64_t off, uint8_t *buf, size_t len,
                      bool write, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t base = vm_state_offset(s, bs);
    if (off > (1ULL << 40) || len > (1ULL << 40)) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_RANGE,
                    "VM state offset out of range");
        return false;
    }
    if (write) {
        if (s->corrupt) {
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_CORRUPT,
                        "%s: image is corrupt", bs->filename);
            return false;
        }
        return qcow2_write_clusterwise(bs, base + off, buf, len, error);
    }
    bool qcow2_read(BlockDev *b, uint64_t o, uint8_t *p, size_t l,
                    GError **e);
    /* The backing file has no VM state: read only this image. */
    BlockDev *backing = bs->backing;
    bs->backing = NULL;
    bool ok = qcow2_read(bs, base + off, buf, len, error);
    bs->backing = backing;
    return ok;
}

static bool snapshot_create(BlockDev *bs, const char *name,
                           uint64_t vm_clock_nsec, uint64_t vm_state_size,
                           GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    int dummy;
    if (s->corrupt) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_CORRUPT,
                    "%s: image is corrupt", bs->filename);
        return false;
    }
    if (!name || !*name || strlen(name) > 1024 ||
        find_snapshot(s, name, &dummy)) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Snapshot name '%s' is invalid or already in use",
                    name ? name : "");
        return false;
    }
    if (s->nb_snapshots >= QCOW2_MAX_SNAPSHOTS - 1 ||
        vm_state_size > UINT32_MAX) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Too many snapshots or VM state too large");
        return false;
    }
    /* Make the L1 cover the VM state so the snapshot captures it. */
    if (vm_state_size) {
        uint64_t end = vm_state_offset(s, bs) + vm_state_size;
        uint64_t cover = s->cluster_size << s->l2_bits;
        if (!qcow2_grow_l1(bs, (end + cover - 1) / cover, error)) {
            return false;
        }
    }
    /* 1. Count the new references first (a crash leaks, no more). */
    if (!update_tree(bs, s->l1, s->l1_size, 1, error) ||
        !fix_copied(bs, error)) {
        return false;
    }
    /* 2. The snapshot's own copy of the L1 table. */
    uint64_t bytes = (uint64_t)s->l1_size * 8;
    uint64_t l1off = 0;
    if (bytes) {
        l1off = qcow2_alloc_clusters(bs, (bytes + s->cluster_size - 1) >>
                                     s->cluster_bits, error);
        if (!l1off) {
            return false;
        }
        uint8_t *b = g_malloc0(bytes);
        for (uint32_t i = 0; i < s->l1_size; i++) {
            be64_store(b + (uint64_t)i * 8, s->l1[i] & QCOW2_OFFSET_MASK);
        }
        bool ok = qcow2_check_overlap(bs, l1off, bytes, 0, error) &&
                  blk_file_pwrite(bs, l1off, b, bytes, error);
        g_free(b);
        if (!ok) {
            return false;
        }
    }
    /* 3. The new table, then the header. */
    uint32_t n = s->nb_snapshots;
    Qcow2Snapshot *snaps = g_new0(Qcow2Snapshot, n + 1);
    if (n) {
        memcpy(snaps, s->snapshots, sizeof(*snaps) * n);
    }
    uint64_t max_id = 0;
    for (uint32_t i = 0; i < n; i++) {
        max_id = MAX(max_id, g_ascii_strtoull(snaps[i].id, NULL, 10));
    }
    Qcow2Snapshot *sn = &snaps[n];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    sn->l1_offset = l1off;
    sn->l1_size = s->l1_size;
    sn->id = g_strdup_printf("%" G_GUINT64_FORMAT, max_id + 1);
    sn->name = g_strdup(name);
    sn->date_sec = (uint32_t)ts.tv_sec;
    sn->date_nsec = (uint32_t)ts.tv_nsec;
    sn->vm_clock_nsec = vm_clock_nsec;
    sn->vm_state_size = (uint32_t)vm_state_size;
    sn->disk_size = bs->size;
    sn->extra = g_malloc0(1);
    bool sw;
    bool ok = write_table(bs, snaps, n + 1, true, &sw, error);
    if (!sw) {
        g_free(sn->id);
        g_free(sn->name);
        g_free(sn->extra);
        g_free(snaps);
        return false;
    }
    g_free(s->snapshots);
    s->snapshots = snaps;
    if (!ok) {
        return false;
    }
    /* 4. The active state no longer needs the VM state. */
    if (vm_state_size) {
        return qcow2_discard_range(bs, vm_state_offset(s, bs),
                                   (vm_state_size + s->cluster_size - 1) &
                                   ~(s->cluster_size - 1), false, error);
    }
    return true;
}

static bool snapshot_apply(BlockDev *bs, const char *name, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    int idx;
    Qcow2Snapshot *sn = find_snapshot(s, name, &idx);
    if (!sn) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_NOT_FOUND,
                    "Snapshot '%s' not found", name);
        return false;
    }
    if (s->corrupt) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_CORRUPT,
                    "%s: image is corrupt", bs->filename);
        return false;
    }
    if (sn->disk_size != bs->size) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "Snapshot '%s' has a different disk size", name);
        return false;
    }
    uint64_t *sl1;
    if (!snapshot_l1_ok(bs, sn, error) ||
        !read_l1(bs, sn->l1_offset, sn->l1_size, &sl1, error)) {
        return false;
    }
    bool ok = qcow2_grow_l1(bs, sn->l1_size, error);
    uint64_t *old = NULL;
    uint32_t old_n = s->l1_size;
    if (ok) {
        old = g_memdup2(s->l1, (gsize)old_n * 8);
        ok = update_tree(bs, sl1, sn->l1_size, 1, error);
    }
    if (ok) {
        uint8_t *b = g_malloc0((uint64_t)s->l1_size * 8);
        for (uint32_t i = 0; i < s->l1_size; i++) {
            uint64_t e = i < sn->l1_size ? sl1[i] & QCOW2_OFFSET_MASK : 0;
            be64_store(b + (uint64_t)i * 8, e);
        }
        ok = blk_file_pwrite(bs, s->l1_offset, b,
                             (uint64_t)s->l1_size * 8, error);
        if (ok) {
            /* Memory follows the file, even if the sync fails. */
            for (uint32_t i = 0; i < s->l1_size; i++) {
                s->l1[i] = be64_load(b + (uint64_t)i * 8);
            }
            ok = blk_file_sync(bs, error);
        }
        g_free(b);
        qcow2_l2_cache_drop(s);
    }
    if (ok) {
        ok = update_tree(bs, old, old_n, -1, error) && fix_copied(bs, error);
    }
    g_free(old);
    g_free(sl1);
    return ok;
}

static bool snapshot_delete(BlockDev *bs, const char *name, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    int idx;
    Qcow2Snapshot *sn = find_snapshot(s, name, &idx);
    if (!sn) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_NOT_FOUND,
                    "Snapshot '%s' not found", name);
        return false;
    }
    if (s->corrupt) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_CORRUPT,
                    "%s: image is corrupt", bs->filename);
        return false;
    }
    if (!snapshot_l1_ok(bs, sn, error)) {
        return false;
    }
    Qcow2Snapshot gone = *sn;
    uint32_t n = s->nb_snapshots;
    Qcow2Snapshot *snaps = g_new0(Qcow2Snapshot, n);
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        if ((int)i != idx) {
            snaps[k++] = s->snapshots[i];
        }
    }
    /* 1. Drop the entry; 2. then its references (a crash leaks). */
    bool sw;
    bool ok = write_table(bs, snaps, n - 1, true, &sw, error);
    if (!sw) {
        g_free(snaps);
        return false;
    }
    g_free(s->snapshots);
    s->snapshots = snaps;
    if (!ok) {
        /* The entry is gone; its clusters stay counted (leaks). */
        g_free(gone.id);
        g_free(gone.name);
        g_free(gone.extra);
        return false;
    }
    uint64_t *l1;
    ok = read_l1(bs, gone.l1_offset, gone.l1_size, &l1, error);
    if (ok) {
        ok = update_tree(bs, l1, gone.l1_size, -1, error);
        g_free(l1);
    }
    if (ok && gone.l1_size) {
        ok = qcow2_free_clusters(bs, gone.l1_offset,
                                 (uint64_t)gone.l1_size * 8, error);
    }
    g_free(gone.id);
    g_free(gone.name);
    g_free(gone.extra);
    return ok && fix_copied(bs, error);
}

/*
 * Snapshot create, apply and delete change the refcounts and COPIED flags
 * of a whole tree; no order of those writes keeps every intermediate
 * state consistent (a cluster's refcount and its L2 entry's COPIED flag
 * are in different clusters). So the dirty bit goes to disk first (v3):
 * an update cut short by a crash or a lasting I/O error is repaired by
 * the next writable open, Mimic's or QEMU's; one that fails while the
 * image can still be written is repaired at once.
 */
typedef struct SnapshotArgs {
    const char *name;
    uint64_t vm_clock_nsec, vm_state_size;
    bool (*op)(BlockDev *bs, const struct SnapshotArgs *a, GError **error);
} SnapshotArgs;

static bool guarded(BlockDev *bs, const SnapshotArgs *a, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (s->corrupt || bs->read_only) {
        return a->op(bs, a, error);
    }
    if (!qcow2_mark_dirty(bs, error)) {
        return false;
    }
    uint64_t writes = bs->host_writes;
    if (!a->op(bs, a, error)) {
        if (bs->host_writes != writes) {
            (void)qcow2_recover(bs);
        } else {
            (void)qcow2_mark_clean(bs, NULL);
        }
        return false;
    }
    /* Done; if the bit cannot be cleared now, flush or close will. */
    (void)qcow2_mark_clean(bs, NULL);
    return true;
}

static bool create_op(BlockDev *bs, const SnapshotArgs *a, GError **error)
{
    return snapshot_create(bs, a->name, a->vm_clock_nsec, a->vm_state_size,
                           error);
}

static bool apply_op(BlockDev *bs, const SnapshotArgs *a, GError **error)
{
    return snapshot_apply(bs, a->name, error);
}

static bool delete_op(BlockDev *bs, const SnapshotArgs *a, GError **error)
{
    return snapshot_delete(bs, a->name, error);
}

bool qcow2_snapshot_create(BlockDev *bs, const char *name,
                           uint64_t vm_clock_nsec, uint64_t vm_state_size,
                           GError **error)
{
    SnapshotArgs a = { name, vm_clock_nsec, vm_state_size, create_op };
    return guarded(bs, &a, error);
}

bool qcow2_snapshot_apply(BlockDev *bs, const char *name, GError **error)
{
    SnapshotArgs a = { .name = name, .op = apply_op };
    return guarded(bs, &a, error);
}

bool qcow2_snapshot_delete(BlockDev *bs, const char *name, GError **error)
{
    SnapshotArgs a = { .name = name, .op = delete_op };
    return guarded(bs, &a, error);
}

int qcow2_snapshot_list(BlockDev *bs, BlockSnapshotInfo **list,
                        GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    BlockSnapshotInfo *l = g_new0(BlockSnapshotInfo, MAX(s->nb_snapshots,
                                                         1));
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        l[i].id = g_strdup(sn->id);
        l[i].name = g_strdup(sn->name);
        l[i].vm_state_size = sn->vm_state_size;
        l[i].date_sec = sn->date_sec;
        l[i].date_nsec = sn->date_nsec;
        l[i].vm_clock_nsec = sn->vm_clock_nsec;
        l[i].disk_size = sn->disk_size;
    }
    *list = l;
    return (int)s->nb_snapshots;
}
