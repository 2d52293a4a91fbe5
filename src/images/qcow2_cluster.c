/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qcow2 cluster mapping: the L1/L2 tables, reading guest data (normal,
 * zero, compressed, backing), allocating writes with copy-on-write, and
 * compressed writes. Reference: QEMU docs/interop/qcow2.txt, "Cluster
 * mapping" and "Compressed Clusters Descriptor".
 * Order of a cluster allocation: refcount (qcow2_alloc_clusters) -> data ->
 * L2 entry -> L1 entry -> release of the old cluster's refcount.
 */
#include "images/qcow2.h"
#include "images/be.h"

#include <string.h>
#include <zlib.h>

void qcow2_l2_cache_drop(Qcow2 *s)
{
    for (int i = 0; i < QCOW2_L2_CACHE; i++) {
        s->l2c[i].offset = 0;
    }
    qcow2_overlap_cache_drop(s);
}

uint8_t *qcow2_l2_load(BlockDev *bs, uint64_t l2_offset, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    int victim = 0;
    for (int i = 0; i < QCOW2_L2_CACHE; i++) {
        if (s->l2c[i].offset == l2_offset) {
            s->l2c[i].lru = ++s->lru_clock;
            return s->l2c[i].data;
        }
        if (s->l2c[i].lru < s->l2c[victim].lru) {
            victim = i;
        }
    }
    if (l2_offset & (s->cluster_size - 1)) {
        qcow2_signal_corruption(bs, error, "L2 table offset %#"
                                G_GINT64_MODIFIER "x unaligned", l2_offset);
        return NULL;
    }
    if (l2_offset < s->cluster_size) {
        qcow2_signal_corruption(bs, error, "L2 table at the header");
        return NULL;
    }
    Qcow2L2Cache *c = &s->l2c[victim];
    c->offset = 0;
    if (!c->data) {
        c->data = g_malloc(s->cluster_size);
    }
    if (!blk_file_pread(bs, l2_offset, c->data, s->cluster_size, error)) {
        return NULL;
    }
    c->offset = l2_offset;
    c->lru = ++s->lru_clock;
    return c->data;
}

bool qcow2_get_l2_entry(BlockDev *bs, uint64_t vcluster, uint64_t *entry,
                        GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t l1i = vcluster >> s->l2_bits;
    *entry = 0;
    if (l1i >= s->l1_size) {
        return true;
    }
    uint64_t l2_off = s->l1[l1i] & QCOW2_OFFSET_MASK;
    if (!l2_off) {
        return true;
    }
    uint8_t *l2 = qcow2_l2_load(bs, l2_off, error);
    if (!l2) {
        return false;
    }
    *entry = be64_load(l2 + (vcluster & (s->l2_entries - 1)) * 8);
    return true;
}

void qcow2_compressed_range(Qcow2 *s, uint64_t entry, uint64_t *off,
                            uint64_t *len)
{
    unsigned x = 62 - (s->cluster_bits - 8);
    uint64_t mask = (1ULL << x) - 1;
    uint64_t sectors = ((entry >> x) & ((1ULL << (s->cluster_bits - 8)) - 1))
                       + 1;
    *off = entry & mask;
    *len = sectors * 512 - (*off & 511);
}

bool qcow2_decompress(Qcow2 *s, BlockDev *bs, uint64_t entry, uint8_t *out,
                      GError **error)
{
    uint64_t off, len;
    qcow2_compressed_range(s, entry, &off, &len);
    len = MIN(len, 2 * s->cluster_size);
    if (!blk_file_pread(bs, off, s->zbuf, len, error)) {
        return false;
    }
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, -12) != Z_OK) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FAILED, "zlib init");
        return false;
    }
    z.next_in = s->zbuf;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)s->cluster_size;
    int r = inflate(&z, Z_FINISH);
    bool ok = (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK) &&
              z.avail_out == 0;
    inflateEnd(&z);
    if (!ok) {
        return qcow2_signal_corruption(bs, error, "Compressed cluster at %#"
                                       G_GINT64_MODIFIER "x does not "
                                       "decompress", off);
    }
    return true;
}

/* The full content of one guest cluster given its L2 entry. */
bool qcow2_read_cluster_data(BlockDev *bs, uint64_t vcluster,
                             uint64_t entry, uint8_t *buf, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t voff = vcluster << s->cluster_bits;
    if (entry & QCOW2_OFLAG_COMPRESSED) {
        return qcow2_decompress(s, bs, entry, buf, error);
    }
    if (s->version >= 3 && (entry & QCOW2_OFLAG_ZERO)) {
        memset(buf, 0, s->cluster_size);
        return true;
    }
    uint64_t off = entry & QCOW2_OFFSET_MASK;
    if (!off) {
        return blk_read_backing(bs, voff, buf, s->cluster_size, error);
    }
    if (off & (s->cluster_size - 1)) {
        return qcow2_signal_corruption(bs, error, "Data cluster offset %#"
                                       G_GINT64_MODIFIER "x unaligned", off);
    }
    return blk_file_pread(bs, off, buf, s->cluster_size, error);
}

static bool qcow2_read_piece(BlockDev *bs, uint64_t vcl, uint64_t in_off,
                             uint8_t *buf, size_t n, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t entry;
    if (!qcow2_get_l2_entry(bs, vcl, &entry, error)) {
        return false;
    }
    uint64_t off = entry & QCOW2_OFFSET_MASK;
    if (!(entry & QCOW2_OFLAG_COMPRESSED)) {
        if (s->version >= 3 && (entry & QCOW2_OFLAG_ZERO)) {
            memset(buf, 0, n);
            return true;
        }
        if (!off) {
            return blk_read_backing(bs, (vcl << s->cluster_bits) + in_off,
                                    buf, n, error);
        }
        if (off & (s->cluster_size - 1)) {
            return qcow2_signal_corruption(bs, error, "Data cluster offset "
                                           "%#" G_GINT64_MODIFIER "x "
                                           "unaligned", off);
        }
        return blk_file_pread(bs, off + in_off, buf, n, error);
    }
    if (!qcow2_decompress(s, bs, entry, s->cbuf, error)) {
        return false;
    }
    memcpy(buf, s->cbuf + in_off, n);
    return true;
}

bool qcow2_read(BlockDev *bs, uint64_t off, uint8_t *buf, size_t len,
                GError **error);
bool qcow2_read(BlockDev *bs, uint64_t off, uint8_t *buf, size_t len,
                GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    while (len) {
        uint64_t vcl = off >> s->cluster_bits;
        uint64_t in = off & (s->cluster_size - 1);
        size_t n = (size_t)MIN((uint64_t)len, s->cluster_size - in);
        if (!qcow2_read_piece(bs, vcl, in, buf, n, error)) {
            return false;
        }
        off += n;
        buf += n;
        len -= n;
    }
    return true;
}

bool qcow2_write_l1_entry(BlockDev *bs, uint32_t idx, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint8_t b[8];
    be64_store(b, s->l1[idx]);
    qcow2_overlap_cache_drop(s);
    return blk_file_pwrite(bs, s->l1_offset + (uint64_t)idx * 8, b, 8, error);
}

/* Grow the active L1 table to at least min_size entries (new copy). */
bool qcow2_grow_l1(BlockDev *bs, uint64_t min_size, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (min_size <= s->l1_size) {
        return true;
    }
    if (min_size * 8 > QCOW2_MAX_L1_BYTES) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "L1 table would become too large");
        return false;
    }
    uint64_t bytes = (min_size * 8 + s->cluster_size - 1) &
                     ~(s->cluster_size - 1);
    uint64_t noff = qcow2_alloc_clusters(bs, bytes >> s->cluster_bits, error);
    if (!noff) {
        return false;
    }
    uint8_t *buf = g_malloc0(bytes);
    for (uint32_t i = 0; i < s->l1_size; i++) {
        be64_store(buf + (uint64_t)i * 8, s->l1[i]);
    }
    bool ok = blk_file_pwrite(bs, noff, buf, bytes, error) &&
              blk_file_sync(bs, error);
    g_free(buf);
    if (!ok) {
        return false;
    }
    uint8_t hdr[12];
    be32_store(hdr, (uint32_t)min_size);
    be64_store(hdr + 4, noff);
    if (!qcow2_write_header_field(bs, QH_L1_SIZE, hdr, 12, error)) {
        return false;
    }
    uint64_t old_off = s->l1_offset;
    uint64_t old_bytes = ((uint64_t)s->l1_size * 8 + s->cluster_size - 1) &
                         ~(s->cluster_size - 1);
    s->l1 = g_renew(uint64_t, s->l1, min_size);
    memset(s->l1 + s->l1_size, 0, (min_size - s->l1_size) * 8);
    s->l1_size = (uint32_t)min_size;
    s->l1_offset = noff;
    if (old_off && old_bytes) {
        return qcow2_free_clusters(bs, old_off, old_bytes, error);
    }
    return true;
}

/*
 * Make sure vcluster has a writable (refcount 1) L2 table; returns its
 * offset or 0 on error.
 */
static uint64_t l2_for_write(BlockDev *bs, uint64_t vcl, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t l1i = vcl >> s->l2_bits;
    if (l1i >= s->l1_size && !qcow2_grow_l1(bs, l1i + 1, error)) {
        return 0;
    }
    uint64_t e = s->l1[l1i];
    uint64_t old = e & QCOW2_OFFSET_MASK;
    if (old && (e & QCOW2_OFLAG_COPIED)) {
        return old;
    }
    if (old) {
        uint64_t rc;
        if (!qcow2_get_refcount(bs, old >> s->cluster_bits, &rc, error)) {
            return 0;
        }
        if (rc == 1) {
            /* A missing COPIED flag on an unshared table: just set it. */
            s->l1[l1i] = old | QCOW2_OFLAG_COPIED;
            if (!qcow2_write_l1_entry(bs, (uint32_t)l1i, error)) {
                s->l1[l1i] = e;
                return 0;
            }
            return old;
        }
    }
    uint64_t noff = qcow2_alloc_clusters(bs, 1, error);
    if (!noff) {
        return 0;
    }
    uint8_t *tbl = g_malloc0(s->cluster_size);
    if (old) {
        uint8_t *src = qcow2_l2_load(bs, old, error);
        if (!src) {
            g_free(tbl);
            return 0;
        }
        memcpy(tbl, src, s->cluster_size);
        /* Entries of a shared table are shared too: no COPIED flags. */
        for (uint64_t i = 0; i < s->l2_entries; i++) {
            uint64_t x = be64_load(tbl + i * 8);
            be64_store(tbl + i * 8, x & ~QCOW2_OFLAG_COPIED);
        }
    }
    bool ok = qcow2_check_overlap(bs, noff, s->cluster_size, 0, error) &&
              blk_file_pwrite(bs, noff, tbl, s->cluster_size, error);
    g_free(tbl);
    /* The new table may reuse a freed cluster whose old content (a table
       dropped by a snapshot apply) is still cached. */
    qcow2_l2_cache_drop(s);
    if (!ok) {
        return 0;
    }
    s->l1[l1i] = noff | QCOW2_OFLAG_COPIED;
    if (!qcow2_write_l1_entry(bs, (uint32_t)l1i, error)) {
        /* The file still has the old entry: so must memory, or later
           writes would go to a table nothing on disk points to. The new
           table leaks. */
        s->l1[l1i] = e;
        return 0;
    }
    if (old && !qcow2_update_refcount(bs, old >> s->cluster_bits, -1,
                                      error)) {
        return 0;
    }
    return noff;
}

static bool set_l2_entry(BlockDev *bs, uint64_t l2_off, uint64_t vcl,
                         uint64_t entry, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint8_t *l2 = qcow2_l2_load(bs, l2_off, error);
    if (!l2) {
        return false;
    }
    uint64_t idx = vcl & (s->l2_entries - 1);
    be64_store(l2 + idx * 8, entry);
    if (!qcow2_check_overlap(bs, l2_off + idx * 8, 8, l2_off, error)) {
        return false;
    }
    if (!blk_file_pwrite(bs, l2_off + idx * 8, l2 + idx * 8, 8, error)) {
        qcow2_l2_cache_drop(s);
        return false;
    }
    return true;
}

/* Drop the refcount of what an L2 entry pointed to. */
static bool release_entry(BlockDev *bs, uint64_t entry, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (entry & QCOW2_OFLAG_COMPRESSED) {
        uint64_t off, len;
        qcow2_compressed_range(s, entry, &off, &len);
        return qcow2_free_clusters(bs, off, len, error);
    }
    uint64_t off = entry & QCOW2_OFFSET_MASK;
    if (!off) {
        return true;
    }
    return qcow2_update_refcount(bs, off >> s->cluster_bits, -1, error);
}

static bool write_piece(BlockDev *bs, uint64_t vcl, uint64_t in,
                        const uint8_t *buf, size_t n, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t entry;
    if (!qcow2_get_l2_entry(bs, vcl, &entry, error)) {
        return false;
    }
    uint64_t off = entry & QCOW2_OFFSET_MASK;
    bool zero = s->version >= 3 && (entry & QCOW2_OFLAG_ZERO);
    if (off && !zero && !(entry & QCOW2_OFLAG_COMPRESSED) &&
        (entry & QCOW2_OFLAG_COPIED) &&
        (s->l1[vcl >> s->l2_bits] & QCOW2_OFLAG_COPIED)) {
        if (off & (s->cluster_size - 1)) {
            return qcow2_signal_corruption(bs, error, "Data cluster offset "
                                           "%#" G_GINT64_MODIFIER "x "
                                           "unaligned", off);
        }
        if (!qcow2_check_overlap(bs, off, s->cluster_size, 0, error)) {
            return false;
        }
        return blk_file_pwrite(bs, off + in, buf, n, error);
    }
    /* Copy-on-write into a newly allocated cluster. */
    if (n < s->cluster_size) {
        if (!qcow2_read_cluster_data(bs, vcl, entry, s->cbuf, error)) {
            return false;
        }
    }
    memcpy(s->cbuf + in, buf, n);
    uint64_t l2_off = l2_for_write(bs, vcl, error);
    if (!l2_off) {
        return false;
    }
    /* The L2 table may have been copied: reread the entry from it. */
    if (!qcow2_get_l2_entry(bs, vcl, &entry, error)) {
        return false;
    }
    uint64_t noff = qcow2_alloc_clusters(bs, 1, error);
    if (!noff) {
        return false;
    }
    if (!qcow2_check_overlap(bs, noff, s->cluster_size, 0, error) ||
        !blk_file_pwrite(bs, noff, s->cbuf, s->cluster_size, error)) {
        return false;
    }
    if (!set_l2_entry(bs, l2_off, vcl, noff | QCOW2_OFLAG_COPIED, error)) {
        return false;
    }
    return release_entry(bs, entry, error);
}

bool qcow2_write_clusterwise(BlockDev *bs, uint64_t off, const uint8_t *buf,
                             size_t len, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    while (len) {
        uint64_t vcl = off >> s->cluster_bits;
        uint64_t in = off & (s->cluster_size - 1);
        size_t n = (size_t)MIN((uint64_t)len, s->cluster_size - in);
        if (!write_piece(bs, vcl, in, buf, n, error)) {
            return false;
        }
        off += n;
        buf += n;
        len -= n;
    }
    return true;
}

bool qcow2_write_compressed(BlockDev *bs, uint64_t vcl, const uint8_t *buf,
                            GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FAILED, "zlib init");
        return false;
    }
    z.next_in = (uint8_t *)buf;
    z.avail_in = (uInt)s->cluster_size;
    z.next_out = s->zbuf;
    z.avail_out = (uInt)s->cluster_size - 1;
    int r = deflate(&z, Z_FINISH);
    uint64_t clen = s->cluster_size - 1 - z.avail_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) {
        /* Does not compress: store it normally. */
        return qcow2_write_clusterwise(bs, vcl << s->cluster_bits, buf,
                                       s->cluster_size, error);
    }
    uint64_t entry;
    if (!qcow2_get_l2_entry(bs, vcl, &entry, error)) {
        return false;
    }
    uint64_t l2_off = l2_for_write(bs, vcl, error);
    if (!l2_off || !qcow2_get_l2_entry(bs, vcl, &entry, error)) {
        return false;
    }
    /* One cluster of its own per compressed cluster keeps the allocator
     * simple; the descriptor still names only the sectors used. */
    uint64_t noff = qcow2_alloc_clusters(bs, 1, error);
    if (!noff) {
        return false;
    }
    if (!qcow2_check_overlap(bs, noff, s->cluster_size, 0, error) ||
        !blk_file_pwrite(bs, noff, s->zbuf, clen, error)) {
        return false;
    }
    unsigned x = 62 - (s->cluster_bits - 8);
    uint64_t sectors = (clen + 511) / 512;
    uint64_t desc = QCOW2_OFLAG_COMPRESSED | ((sectors - 1) << x) | noff;
    if (!set_l2_entry(bs, l2_off, vcl, desc, error)) {
        return false;
    }
    return release_entry(bs, entry, error);
}

/* Discard (or zero, on v3) whole clusters inside [off, off+len). */
bool qcow2_discard_range(BlockDev *bs, uint64_t off, uint64_t len, bool zero,
                         GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t first = (off + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t end = (off + len) >> s->cluster_bits;
    if (off + len == bs->size) {
        end = (off + len + s->cluster_size - 1) >> s->cluster_bits;
    }
    for (uint64_t vcl = first; vcl < end; vcl++) {
        uint64_t entry;
        if (!qcow2_get_l2_entry(bs, vcl, &entry, error)) {
            return false;
        }
        /* With a backing file an unallocated cluster would show the
         * backing data: mark it zero (v3) or leave it alone (v2). */
        uint64_t ne = 0;
        if (bs->backing || zero) {
            if (s->version < 3) {
                continue;
            }
            ne = QCOW2_OFLAG_ZERO;
        }
        if (entry == ne) {
            continue;
        }
        uint64_t l2_off = l2_for_write(bs, vcl, error);
        if (!l2_off || !qcow2_get_l2_entry(bs, vcl, &entry, error) ||
            !set_l2_entry(bs, l2_off, vcl, ne, error) ||
            !release_entry(bs, entry, error)) {
            return false;
        }
    }
    return true;
}

/* preallocation=metadata: map a cluster without writing its data. */
bool qcow2_prealloc_cluster(BlockDev *bs, uint64_t vcl, GError **error)
{
    uint64_t entry;
    if (!qcow2_get_l2_entry(bs, vcl, &entry, error)) {
        return false;
    }
    if (entry & QCOW2_OFFSET_MASK) {
        return true;
    }
    uint64_t l2_off = l2_for_write(bs, vcl, error);
    if (!l2_off) {
        return false;
    }
    uint64_t noff = qcow2_alloc_clusters(bs, 1, error);
    return noff && set_l2_entry(bs, l2_off, vcl, noff | QCOW2_OFLAG_COPIED,
                                error);
}
