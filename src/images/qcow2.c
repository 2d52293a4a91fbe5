/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qcow2 driver: header parsing and validation, feature bit rules, header
 * extensions, image creation, and the BlockDriver table. Follows QEMU's
 * docs/interop/qcow2.txt (versions 2 and 3). Mapping lives in
 * qcow2_cluster.c, allocation in qcow2_refcount.c, checks in
 * qcow2_check.c and internal snapshots in qcow2_snapshot.c.
 */
#include "images/qcow2.h"
#include "images/be.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

bool qcow2_read(BlockDev *bs, uint64_t off, uint8_t *buf, size_t len,
                GError **error);

static int qcow2_probe(const uint8_t *buf, size_t len)
{
    /* Every version but qcow's 1: an unknown version is a qcow2 image
     * this build cannot open, never a raw one. */
    if (len >= 8 && be32_load(buf) == QCOW2_MAGIC &&
        be32_load(buf + 4) != 1) {
        return 100;
    }
    return 0;
}

bool qcow2_write_header_field(BlockDev *bs, uint64_t off, const void *buf,
                              size_t len, GError **error)
{
    return blk_file_pwrite(bs, off, buf, len, error);
}

bool qcow2_signal_corruption(BlockDev *bs, GError **error, const char *fmt,
                             ...)
{
    Qcow2 *s = qcow2_state(bs);
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!bs->read_only && !s->corrupt && s->version >= 3) {
        /* As QEMU does: mark the image corrupt so nothing writes to it
         * again until it has been checked and repaired. */
        uint8_t b[8];
        s->incompat |= QCOW2_INCOMPAT_CORRUPT;
        be64_store(b, s->incompat);
        (void)blk_file_pwrite(bs, QH_INCOMPAT, b, 8, NULL);
        (void)blk_file_sync(bs, NULL);
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_CORRUPT,
                    "%s: image is corrupt: %s; further access is refused",
                    bs->filename, msg);
    } else {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_CORRUPT,
                    "%s: image is corrupt: %s", bs->filename, msg);
    }
    if (!bs->read_only) {
        s->corrupt = true;
    }
    return false;
}

bool qcow2_mark_dirty(BlockDev *bs, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (s->version < 3 || (s->incompat & QCOW2_INCOMPAT_DIRTY)) {
        return true;    /* v2 has no dirty bit; or it is set already */
    }
    uint8_t b[8];
    be64_store(b, s->incompat | QCOW2_INCOMPAT_DIRTY);
    if (!blk_file_pwrite(bs, QH_INCOMPAT, b, 8, error)) {
        return false;
    }
    /* The file has the bit (a failed sync only makes that uncertain):
       flush or close clear it again. */
    s->incompat |= QCOW2_INCOMPAT_DIRTY;
    s->dirty_op = true;
    return blk_file_sync(bs, error);
}

bool qcow2_mark_clean(BlockDev *bs, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (!s->dirty_op) {
        return true;
    }
    if (s->needs_repair) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                    "%s: a failed metadata update is not repaired yet",
                    bs->filename);
        return false;
    }
    if (s->dirty_set) {
        /* Lazy refcounts hold the bit until close. */
        s->dirty_op = false;
        return true;
    }
    uint8_t b[8];
    be64_store(b, s->incompat & ~QCOW2_INCOMPAT_DIRTY);
    if (!blk_file_sync(bs, error) ||
        !blk_file_pwrite(bs, QH_INCOMPAT, b, 8, error)) {
        return false;
    }
    s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
    s->dirty_op = false;
    return true;
}

bool qcow2_recover(BlockDev *bs)
{
    Qcow2 *s = qcow2_state(bs);
    if (s->corrupt || bs->read_only) {
        return false;
    }
    BlockCheckResult r;
    GError *err = NULL;
    bool ok = qcow2_check(bs, BLOCK_CHECK_FIX_ALL, &r, &err) &&
              r.corruptions == r.corruptions_fixed && !r.check_errors;
    s->needs_repair = !ok;
    if (ok) {
        /* If the bit cannot be cleared now, flush or close will. */
        (void)qcow2_mark_clean(bs, NULL);
    }
    g_clear_error(&err);
    return ok;
}

static bool invalid(GError **error, const char *fn, const char *what)
{
    g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                "%s: invalid qcow2 image: %s", fn, what);
    return false;
}

static bool read_extensions(BlockDev *bs, const uint8_t *hdr, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t off = s->version >= 3 ? s->header_length : 72;
    uint64_t end = s->backing_file ? be64_load(hdr + QH_BACKING_OFFSET)
                                   : s->cluster_size;
    if (end > s->cluster_size || end < off) {
        end = s->cluster_size;
    }
    while (off + 8 <= end) {
        uint32_t type = be32_load(hdr + off);
        uint32_t len = be32_load(hdr + off + 4);
        off += 8;
        if (type == QCOW2_EXT_END) {
            break;
        }
        if (len > end - off) {
            return invalid(error, bs->filename,
                           "header extension past the header");
        }
        if (type == QCOW2_EXT_BACKING_FORMAT && len > 0 && len < 64) {
            g_free(s->backing_format);
            s->backing_format = g_strndup((const char *)hdr + off, len);
        }
        off += (len + 7) & ~7u;
    }
    return true;
}

/* Name of an incompatible feature bit from the feature name table. */
static char *feature_names(const uint8_t *hdr, Qcow2 *s, uint64_t bits)
{
    GString *out = g_string_new(NULL);
    uint64_t off = s->version >= 3 ? s->header_length : 72;
    for (int b = 0; b < 64; b++) {
        if (!(bits & (1ULL << b))) {
            continue;
        }
        const char *name = NULL;
        uint64_t o = off;
        while (o + 8 <= s->cluster_size && !name) {
            uint32_t type = be32_load(hdr + o);
            uint32_t len = be32_load(hdr + o + 4);
            o += 8;
            if (type == 0 || len > s->cluster_size - o) {
                break;
            }
            if (type == QCOW2_EXT_FEATURE_TABLE) {
                for (uint32_t i = 0; i + 48 <= len; i += 48) {
                    if (hdr[o + i] == 0 && hdr[o + i + 1] == b) {
                        static char nm[47];
                        memcpy(nm, hdr + o + i + 2, 46);
                        nm[46] = 0;
                        name = nm;
                        break;
                    }
                }
            }
            o += (len + 7) & ~7u;
        }
        if (out->len) {
            g_string_append(out, ", ");
        }
        if (name) {
            g_string_append(out, name);
        } else {
            g_string_append_printf(out, "Unknown incompatible feature: %"
                                   G_GINT64_MODIFIER "x",
                                   (guint64)1 << b);
        }
    }
    return g_string_free(out, false);
}

static void qcow2_free_state(Qcow2 *s)
{
    if (!s) {
        return;
    }
    g_free(s->l1);
    g_free(s->rt);
    for (int i = 0; i < QCOW2_L2_CACHE; i++) {
        g_free(s->l2c[i].data);
    }
    g_free(s->rb_cache);
    qcow2_refcount_dirty_free(s);
    g_free(s->cbuf);
    g_free(s->zbuf);
    g_free(s->backing_file);
    g_free(s->backing_format);
    qcow2_snapshots_free(s);
    g_free(s);
}

static bool table_in_file(BlockDev *bs, uint64_t off, uint64_t len,
                          uint64_t fsize)
{
    return off <= fsize && len <= fsize - off;
}

static bool qcow2_open(BlockDev *bs, GError **error)
{
    Qcow2 *s = g_new0(Qcow2, 1);
    bs->opaque = s;
    uint8_t h[104];
    uint64_t fsize = blk_file_size(bs);
    memset(h, 0, sizeof(h));
    if (fsize < 72) {
        invalid(error, bs->filename, "file too short for a qcow2 header");
        goto fail;
    }
    if (!blk_file_pread(bs, 0, h, sizeof(h), error)) {
        goto fail;
    }
    if (be32_load(h) != QCOW2_MAGIC) {
        invalid(error, bs->filename, "bad magic");
        goto fail;
    }
    s->version = be32_load(h + 4);
    if (s->version != 2 && s->version != 3) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "%s: unsupported qcow2 version %u", bs->filename,
                    s->version);
        goto fail;
    }
    s->cluster_bits = be32_load(h + QH_CLUSTER_BITS);
    if (s->cluster_bits < 9 || s->cluster_bits > 21) {
        invalid(error, bs->filename, "cluster size out of range");
        goto fail;
    }
    s->cluster_size = 1ULL << s->cluster_bits;
    s->l2_bits = s->cluster_bits - 3;
    s->l2_entries = s->cluster_size / 8;
    bs->size = be64_load(h + QH_SIZE);
    if (be32_load(h + QH_CRYPT)) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "%s: encrypted qcow2 images are not supported",
                    bs->filename);
        goto fail;
    }
    s->l1_size = be32_load(h + QH_L1_SIZE);
    s->l1_offset = be64_load(h + QH_L1_OFFSET);
    s->rt_offset = be64_load(h + QH_RT_OFFSET);
    s->rt_clusters = be32_load(h + QH_RT_CLUSTERS);
    s->nb_snapshots = be32_load(h + QH_NB_SNAPSHOTS);
    s->snapshots_offset = be64_load(h + QH_SNAPSHOTS_OFFSET);
    if (s->version >= 3) {
        s->incompat = be64_load(h + QH_INCOMPAT);
        s->compat = be64_load(h + QH_COMPAT);
        s->autoclear = be64_load(h + QH_AUTOCLEAR);
        s->refcount_order = be32_load(h + QH_REFCOUNT_ORDER);
        s->header_length = be32_load(h + QH_HEADER_LENGTH);
        if (s->header_length < 104 || s->header_length > s->cluster_size ||
            s->header_length % 8) {
            invalid(error, bs->filename, "header length out of range");
            goto fail;
        }
    } else {
        s->refcount_order = 4;
        s->header_length = 72;
    }
    if (s->refcount_order > 6) {
        invalid(error, bs->filename, "refcount order out of range");
        goto fail;
    }
    s->refcount_bits = 1u << s->refcount_order;
    s->refcount_max = s->refcount_bits == 64 ? INT64_MAX
                                             : (1ULL << s->refcount_bits) - 1;
    s->rb_entries = s->cluster_size * 8 / s->refcount_bits;
    if (bs->size > (1ULL << 62) ||
        bs->size / s->cluster_size / s->l2_entries > QCOW2_MAX_L1_BYTES / 8) {
        invalid(error, bs->filename, "virtual size too large");
        goto fail;
    }
    uint64_t need_l1 = (bs->size + (s->cluster_size << s->l2_bits) - 1) >>
                       (s->cluster_bits + s->l2_bits);
    if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        invalid(error, bs->filename, "L1 table too large");
        goto fail;
    }
    if (s->l1_size < need_l1) {
        invalid(error, bs->filename, "L1 table too small for the size");
        goto fail;
    }
    if (s->l1_size && ((s->l1_offset & (s->cluster_size - 1)) ||
                       s->l1_offset == 0)) {
        invalid(error, bs->filename, "L1 table offset unaligned");
        goto fail;
    }
    if (!table_in_file(bs, s->l1_offset, (uint64_t)s->l1_size * 8, fsize)) {
        invalid(error, bs->filename, "L1 table past the end of the file");
        goto fail;
    }
    if (s->rt_clusters == 0 ||
        (uint64_t)s->rt_clusters * s->cluster_size > QCOW2_MAX_RT_BYTES) {
        invalid(error, bs->filename, "refcount table size out of range");
        goto fail;
    }
    if ((s->rt_offset & (s->cluster_size - 1)) || s->rt_offset == 0) {
        invalid(error, bs->filename, "refcount table offset unaligned");
        goto fail;
    }
    if (!table_in_file(bs, s->rt_offset,
                       (uint64_t)s->rt_clusters * s->cluster_size, fsize)) {
        invalid(error, bs->filename,
                "refcount table past the end of the file");
        goto fail;
    }
    uint8_t *hdr = g_malloc0(s->cluster_size);
    if (!blk_file_pread(bs, 0, hdr, s->cluster_size, error)) {
        g_free(hdr);
        goto fail;
    }
    uint64_t known = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT;
    if (s->incompat & QCOW2_INCOMPAT_COMPRESSION) {
        if (s->header_length >= 105 && hdr[104] == 0) {
            known |= QCOW2_INCOMPAT_COMPRESSION;  /* zlib: fine */
        }
    }
    if (s->incompat & ~known) {
        g_autofree char *names = feature_names(hdr, s, s->incompat & ~known);
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "%s: unsupported qcow2 feature(s): %s", bs->filename,
                    names);
        g_free(hdr);
        goto fail;
    }
    if ((s->incompat & QCOW2_INCOMPAT_CORRUPT) && !bs->read_only &&
        !bs->repair) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_CORRUPT,
                    "%s: image is marked corrupt; it can be opened "
                    "read-only or repaired with 'mimic-img check -r all'",
                    bs->filename);
        g_free(hdr);
        goto fail;
    }
    uint64_t boff = be64_load(h + QH_BACKING_OFFSET);
    uint32_t bsz = be32_load(h + QH_BACKING_SIZE);
    if (boff) {
        if (bsz == 0 || bsz > 1023 || boff > s->cluster_size ||
            bsz > s->cluster_size - boff) {
            g_free(hdr);
            invalid(error, bs->filename, "backing file name out of range");
            goto fail;
        }
        s->backing_file = g_strndup((const char *)hdr + boff, bsz);
    }
    if (!read_extensions(bs, hdr, error)) {
        g_free(hdr);
        goto fail;
    }
    g_free(hdr);
    if (s->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
        invalid(error, bs->filename, "too many snapshots");
        goto fail;
    }
    s->l1 = g_new0(uint64_t, MAX(s->l1_size, 1));
    if (s->l1_size) {
        uint8_t *b = g_malloc((uint64_t)s->l1_size * 8);
        bool ok = blk_file_pread(bs, s->l1_offset, b,
                                 (uint64_t)s->l1_size * 8, error);
        for (uint32_t i = 0; ok && i < s->l1_size; i++) {
            s->l1[i] = be64_load(b + (uint64_t)i * 8);
        }
        g_free(b);
        if (!ok) {
            goto fail;
        }
    }
    if (!qcow2_refcount_load(bs, error)) {
        goto fail;
    }
    s->rb_cache = g_malloc(s->cluster_size);
    s->cbuf = g_malloc(s->cluster_size);
    s->zbuf = g_malloc(2 * s->cluster_size);
    s->file_end = (fsize + s->cluster_size - 1) & ~(s->cluster_size - 1);
    if (!qcow2_snapshots_load(bs, error)) {
        goto fail;
    }
    if (s->backing_file && !bs->no_backing) {
        if (!strcmp(s->backing_file, bs->filename)) {
            invalid(error, bs->filename, "image is its own backing file");
            goto fail;
        }
        bs->backing = blk_open_backing(bs, s->backing_file,
                                       s->backing_format, error);
        if (!bs->backing) {
            goto fail;
        }
    }
    if (!bs->read_only) {
        if ((s->incompat & QCOW2_INCOMPAT_DIRTY) && !bs->repair) {
            /* Lazy refcounts were in use when the writer stopped: rebuild
             * the refcounts before anything allocates. */
            BlockCheckResult res;
            if (!qcow2_check(bs, BLOCK_CHECK_FIX_ALL, &res, error)) {
                goto fail;
            }
            s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
            uint8_t b[8];
            be64_store(b, s->incompat);
            if (!blk_file_pwrite(bs, QH_INCOMPAT, b, 8, error)) {
                goto fail;
            }
        }
        if (s->autoclear) {
            /* We support no autoclear feature: clear them, as required. */
            uint8_t b[8] = { 0 };
            s->autoclear = 0;
            if (!blk_file_pwrite(bs, QH_AUTOCLEAR, b, 8, error)) {
                goto fail;
            }
        }
    }
    return true;
fail:
    qcow2_free_state(s);
    bs->opaque = NULL;
    return false;
}

static void qcow2_close(BlockDev *bs)
{
    Qcow2 *s = qcow2_state(bs);
    if (s && !bs->read_only && s->dirty_set && !s->corrupt) {
        GError *err = NULL;
        if (qcow2_refcount_writeback(bs, &err) && blk_file_sync(bs, &err)) {
            uint8_t b[8];
            s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
            be64_store(b, s->incompat);
            (void)blk_file_pwrite(bs, QH_INCOMPAT, b, 8, NULL);
        }
        g_clear_error(&err);
    }
    if (s && !bs->read_only && !s->corrupt) {
        if (s->needs_repair) {
            (void)qcow2_recover(bs);
        } else if (s->dirty_op) {
            (void)qcow2_mark_clean(bs, NULL);
        }
    }
    if (s && !bs->read_only) {
        (void)blk_file_sync(bs, NULL);
    }
    qcow2_free_state(s);
    bs->opaque = NULL;
}

static bool writable(BlockDev *bs, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (s->corrupt) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_CORRUPT,
                    "%s: image is corrupt; further writes are refused",
                    bs->filename);
        return false;
    }
    if (!s->dirty_set && s->version >= 3 &&
        (s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) && !bs->read_only) {
        /* Lazy refcounts: the dirty bit reaches the disk before any
           refcount update is held back in memory. */
        uint8_t b[8];
        be64_store(b, s->incompat | QCOW2_INCOMPAT_DIRTY);
        if (!blk_file_pwrite(bs, QH_INCOMPAT, b, 8, error) ||
            !blk_file_sync(bs, error)) {
            return false;
        }
        s->incompat |= QCOW2_INCOMPAT_DIRTY;
        s->dirty_set = true;
    }
    return true;
}

static bool qcow2_write(BlockDev *bs, uint64_t off, const uint8_t *buf,
                        size_t len, GError **error)
{
    return writable(bs, error) &&
           qcow2_write_clusterwise(bs, off, buf, len, error);
}

static bool qcow2_flush(BlockDev *bs, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (s->dirty_set && !qcow2_refcount_writeback(bs, error)) {
        return false;
    }
    if (!blk_file_sync(bs, error)) {
        return false;
    }
    /* A failed tree update not repaired yet, or a dirty bit that could
       not be cleared: try again now. */
    if (s->needs_repair) {
        (void)qcow2_recover(bs);
    } else if (s->dirty_op) {
        (void)qcow2_mark_clean(bs, NULL);
    }
    return true;
}

static bool qcow2_discard(BlockDev *bs, uint64_t off, uint64_t len,
                          GError **error)
{
    return writable(bs, error) &&
           qcow2_discard_range(bs, off, len, false, error);
}

static bool qcow2_truncate(BlockDev *bs, uint64_t size, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (!writable(bs, error)) {
        return false;
    }
    if (size < bs->size) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "Shrinking qcow2 images is not supported");
        return false;
    }
    if (s->nb_snapshots) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "Cannot resize an image with internal snapshots");
        return false;
    }
    uint64_t need = (size + (s->cluster_size << s->l2_bits) - 1) >>
                    (s->cluster_bits + s->l2_bits);
    /* The grown L1 table must be durable before the header gives the
       size that needs it (else a power cut can leave an image whose L1
       table is too small for its size, which nothing opens). */
    if (!qcow2_grow_l1(bs, need, error) || !blk_file_sync(bs, error)) {
        return false;
    }
    uint8_t b[8];
    be64_store(b, size);
    if (!qcow2_write_header_field(bs, QH_SIZE, b, 8, error)) {
        return false;
    }
    bs->size = size;
    return true;
}

static bool qcow2_info(BlockDev *bs, BlockInfo *info, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    info->cluster_size = (uint32_t)s->cluster_size;
    info->backing_file = g_strdup(s->backing_file);
    info->backing_format = g_strdup(s->backing_format);
    info->version = (int)s->version;
    info->lazy_refcounts = !!(s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS);
    info->corrupt = !!(s->incompat & QCOW2_INCOMPAT_CORRUPT);
    info->dirty = !!(s->incompat & QCOW2_INCOMPAT_DIRTY);
    info->refcount_bits = (int)s->refcount_bits;
    info->nb_snapshots = (int)s->nb_snapshots;
    return true;
}

static uint64_t qcow2_block_status(BlockDev *bs, uint64_t off, uint64_t len,
                                   int *flags, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    uint64_t done = 0;
    int first = -1;
    while (done < len) {
        uint64_t vcl = (off + done) >> s->cluster_bits;
        uint64_t in = (off + done) & (s->cluster_size - 1);
        uint64_t e;
        int f;
        if (!qcow2_get_l2_entry(bs, vcl, &e, error)) {
            *flags = 0;
            return 0;
        }
        if (e & QCOW2_OFLAG_COMPRESSED) {
            f = BLOCK_MAP_DATA;
        } else if (s->version >= 3 && (e & QCOW2_OFLAG_ZERO)) {
            f = BLOCK_MAP_ZERO;
        } else if (e & QCOW2_OFFSET_MASK) {
            f = BLOCK_MAP_DATA;
        } else {
            f = bs->backing ? BLOCK_MAP_BACKING : BLOCK_MAP_ZERO;
        }
        if (first < 0) {
            first = f;
        } else if (f != first) {
            break;
        }
        done += MIN(len - done, s->cluster_size - in);
    }
    *flags = first;
    return done;
}

static void put_ext(uint8_t *hdr, uint64_t *off, uint32_t type,
                    const void *data, uint32_t len)
{
    be32_store(hdr + *off, type);
    be32_store(hdr + *off + 4, len);
    memcpy(hdr + *off + 8, data, len);
    *off += 8 + ((len + 7) & ~7u);
}

static bool qcow2_write_compressed_op(BlockDev *bs, uint64_t off,
                                      const uint8_t *buf, size_t len,
                                      GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (!writable(bs, error)) {
        return false;
    }
    if ((off & (s->cluster_size - 1)) || len > s->cluster_size) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Compressed writes must be whole, aligned clusters");
        return false;
    }
    if (len < s->cluster_size) {
        /* The tail cluster: pad with zeros. */
        uint8_t *tmp = g_malloc0(s->cluster_size);
        memcpy(tmp, buf, len);
        bool ok = qcow2_write_compressed(bs, off >> s->cluster_bits, tmp,
                                         error);
        g_free(tmp);
        return ok;
    }
    return qcow2_write_compressed(bs, off >> s->cluster_bits, buf, error);
}

/*
 * Rewrite the header extensions and backing file name (rebase). Unknown
 * extensions are preserved; the backing format extension is replaced.
 */
static bool qcow2_change_backing(BlockDev *bs, const char *backing,
                                 const char *fmt, GError **error)
{
    Qcow2 *s = qcow2_state(bs);
    if (!writable(bs, error)) {
        return false;
    }
    if (backing && !*backing) {
        backing = NULL;
    }
    uint8_t *hdr = g_malloc0(s->cluster_size);
    uint8_t *nh = g_malloc0(s->cluster_size);
    bool ok = blk_file_pread(bs, 0, hdr, s->cluster_size, error);
    uint64_t start = s->version >= 3 ? s->header_length : 72;
    uint64_t off = start, noff = start;
    uint64_t old_bo = be64_load(hdr + QH_BACKING_OFFSET);
    uint64_t end = old_bo && old_bo <= s->cluster_size ? old_bo
                                                      : s->cluster_size;
    memcpy(nh, hdr, start);
    while (ok && off + 8 <= end) {
        uint32_t type = be32_load(hdr + off);
        uint32_t len = be32_load(hdr + off + 4);
        if (type == QCOW2_EXT_END || len > end - off - 8) {
            break;
        }
        uint64_t total = 8 + ((len + 7) & ~7u);
        if (type != QCOW2_EXT_BACKING_FORMAT && noff + total <=
            s->cluster_size) {
            memcpy(nh + noff, hdr + off, MIN(total, end - off));
            noff += total;
        }
        off += total;
    }
    if (backing && fmt) {
        size_t fl = strlen(fmt);
        if (noff + 8 + ((fl + 7) & ~7u) <= s->cluster_size && fl < 64) {
            put_ext(nh, &noff, QCOW2_EXT_BACKING_FORMAT, fmt, (uint32_t)fl);
        }
    }
    noff += 8;
    size_t bl = backing ? strlen(backing) : 0;
    if (bl > 1023 || noff + bl > s->cluster_size) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Backing file name too long");
        ok = false;
    }
    if (ok) {
        memcpy(nh + noff, backing ? backing : "", bl);
        be64_store(nh + QH_BACKING_OFFSET, bl ? noff : 0);
        be32_store(nh + QH_BACKING_SIZE, (uint32_t)bl);
        ok = blk_file_pwrite(bs, 0, nh, s->cluster_size, error) &&
             blk_file_sync(bs, error);
    }
    if (ok) {
        g_free(s->backing_file);
        g_free(s->backing_format);
        s->backing_file = g_strdup(backing);
        s->backing_format = backing ? g_strdup(fmt) : NULL;
    }
    g_free(hdr);
    g_free(nh);
    return ok;
}

/* ---- creation ---- */


static bool qcow2_create(const char *filename, const BlockCreateOptions *o,
                         GError **error)
{
    uint64_t cs = o->cluster_size ? o->cluster_size : 65536;
    int version = o->compat ? o->compat : 3;
    int rbits = o->refcount_bits ? o->refcount_bits : 16;
    int rorder = 0;
    while ((1 << rorder) < rbits) {
        rorder++;
    }
    if (cs < 512 || cs > (2u << 20) || (cs & (cs - 1))) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Cluster size must be a power of two between 512 and "
                    "2M");
        return false;
    }
    if (version != 2 && version != 3) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Invalid compat level");
        return false;
    }
    if ((1 << rorder) != rbits || rorder > 6 ||
        (version == 2 && rbits != 16)) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Invalid refcount width");
        return false;
    }
    if (o->lazy_refcounts && version < 3) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Lazy refcounts require compat=1.1");
        return false;
    }
    if (o->backing_file && o->prealloc != BLOCK_PREALLOC_OFF) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Backing file and preallocation cannot be combined");
        return false;
    }
    uint64_t size = o->size;
    if (o->backing_file && !size) {
        /* Size from the backing file, opened relative to the image. */
        BlockDev tmp = { .filename = (char *)filename, .fd = -1 };
        BlockDev *b = blk_open_backing(&tmp, o->backing_file,
                                       o->backing_format, error);
        if (!b) {
            return false;
        }
        size = b->size;
        blk_close(b);
    }
    unsigned cbits = 0;
    while ((1ULL << cbits) < cs) {
        cbits++;
    }
    uint64_t l2_cover = cs * (cs / 8);
    uint64_t l1_size = (size + l2_cover - 1) / l2_cover;
    if (size > (1ULL << 62) || l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Image size too large for this cluster size");
        return false;
    }
    int fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                    "Could not create '%s': %s", filename, g_strerror(errno));
        return false;
    }
    /* Layout: header, refcount table, one refcount block, L1 table. The
     * block covers these clusters as long as the L1 fits; bigger L1
     * tables are placed by the allocator after a reopen. */
    uint64_t rb_entries = cs * 8 / rbits;
    uint64_t l1_clusters = (l1_size * 8 + cs - 1) / cs;
    bool l1_now = 3 + l1_clusters <= rb_entries;
    uint8_t *hdr = g_malloc0(cs);
    be32_store(hdr, QCOW2_MAGIC);
    be32_store(hdr + 4, version);
    be32_store(hdr + QH_CLUSTER_BITS, cbits);
    be64_store(hdr + QH_SIZE, l1_now ? size : 0);
    be32_store(hdr + QH_L1_SIZE, l1_now ? l1_size : 0);
    be64_store(hdr + QH_L1_OFFSET, l1_now ? 3 * cs : 0);
    be64_store(hdr + QH_RT_OFFSET, cs);
    be32_store(hdr + QH_RT_CLUSTERS, 1);
    uint64_t off = 72;
    if (version >= 3) {
        be64_store(hdr + QH_COMPAT, o->lazy_refcounts ?
                   QCOW2_COMPAT_LAZY_REFCOUNTS : 0);
        be32_store(hdr + QH_REFCOUNT_ORDER, rorder);
        be32_store(hdr + QH_HEADER_LENGTH, 104);
        off = 104;
    }
    if (o->backing_format) {
        put_ext(hdr, &off, QCOW2_EXT_BACKING_FORMAT, o->backing_format,
                (uint32_t)strlen(o->backing_format));
    }
    if (version >= 3) {
        static const struct { uint8_t type, bit; const char *name; } ft[] = {
            { 0, 0, "dirty bit" }, { 0, 1, "corrupt bit" },
            { 0, 2, "external data file" }, { 0, 3, "compression type" },
            { 0, 4, "extended L2 entries" }, { 1, 0, "lazy refcounts" },
            { 2, 0, "bitmaps" }, { 2, 1, "raw external data" },
        };
        uint8_t tbl[G_N_ELEMENTS(ft) * 48];
        memset(tbl, 0, sizeof(tbl));
        for (size_t i = 0; i < G_N_ELEMENTS(ft); i++) {
            tbl[i * 48] = ft[i].type;
            tbl[i * 48 + 1] = ft[i].bit;
            memcpy(tbl + i * 48 + 2, ft[i].name, strlen(ft[i].name));
        }
        if (off + 8 + sizeof(tbl) + 16 + 1024 <= cs) {
            put_ext(hdr, &off, QCOW2_EXT_FEATURE_TABLE, tbl, sizeof(tbl));
        }
    }
    off += 8;   /* end-of-extensions marker (zeros) */
    if (o->backing_file) {
        size_t bl = strlen(o->backing_file);
        if (bl > 1023 || off + bl > cs) {
            g_free(hdr);
            close(fd);
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                        "Backing file name too long");
            return false;
        }
        memcpy(hdr + off, o->backing_file, bl);
        be64_store(hdr + QH_BACKING_OFFSET, off);
        be32_store(hdr + QH_BACKING_SIZE, (uint32_t)bl);
    }
    uint8_t *rt = g_malloc0(cs);
    be64_store(rt, 2 * cs);
    uint8_t *rb = g_malloc0(cs);
    uint64_t ncl = l1_now ? 3 + l1_clusters : 3;
    BlockDev tmp = { .fd = fd, .filename = (char *)filename, .opaque = NULL };
    Qcow2 st = { .refcount_order = rorder };
    for (uint64_t i = 0; i < ncl; i++) {
        uint64_t bo, bl;
        (void)bo; (void)bl;
        /* Same bit layout as rb_set; written out for the fixed widths. */
        uint64_t bit = i * rbits;
        if (rbits >= 8) {
            rb[bit / 8 + rbits / 8 - 1] = 1;
        } else {
            rb[bit / 8] |= 1 << (bit % 8);
        }
    }
    (void)st;
    bool ok = blk_file_pwrite(&tmp, 0, hdr, cs, error) &&
              blk_file_pwrite(&tmp, cs, rt, cs, error) &&
              blk_file_pwrite(&tmp, 2 * cs, rb, cs, error);
    if (ok && l1_now && l1_clusters) {
        uint8_t *z = g_malloc0(l1_clusters * cs);
        ok = blk_file_pwrite(&tmp, 3 * cs, z, l1_clusters * cs, error);
        g_free(z);
    }
    g_free(hdr);
    g_free(rt);
    g_free(rb);
    if (ok && fdatasync(fd) < 0) {
        ok = false;
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO, "%s: sync: %s",
                    filename, g_strerror(errno));
    }
    close(fd);
    if (!ok) {
        return false;
    }
    if (l1_now && o->prealloc == BLOCK_PREALLOC_OFF) {
        return true;
    }
    /* Finish with the driver itself: big L1 tables, preallocation. */
    BlockOpenOptions oo = { .format = "qcow2" };
    BlockDev *bs = blk_open(filename, &oo, error);
    if (!bs) {
        return false;
    }
    Qcow2 *s = qcow2_state(bs);
    ok = true;
    if (!l1_now) {
        uint8_t b[8];
        be64_store(b, size);
        ok = qcow2_grow_l1(bs, l1_size, error) &&
             qcow2_write_header_field(bs, QH_SIZE, b, 8, error);
        bs->size = size;
    }
    if (ok && o->prealloc != BLOCK_PREALLOC_OFF) {
        uint64_t nvcl = (size + cs - 1) / cs;
        uint8_t *z = g_malloc0(cs);
        bool full = o->prealloc == BLOCK_PREALLOC_FULL;
        for (uint64_t v = 0; ok && v < nvcl; v++) {
            ok = full ? qcow2_write_clusterwise(bs, v * cs, z, cs, error)
                      : qcow2_prealloc_cluster(bs, v, error);
        }
        g_free(z);
        if (ok && !full) {
            /* Data clusters are allocated but left sparse on the host. */
            ok = ftruncate(bs->fd, (off_t)s->file_end) == 0;
        }
    }
    blk_close(bs);
    return ok;
}

const BlockDriver block_qcow2_driver = {
    .name = "qcow2",
    .probe = qcow2_probe,
    .open = qcow2_open,
    .create = qcow2_create,
    .read = qcow2_read,
    .write = qcow2_write,
    .write_compressed = qcow2_write_compressed_op,
    .change_backing = qcow2_change_backing,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .truncate = qcow2_truncate,
    .info = qcow2_info,
    .check = qcow2_check,
    .block_status = qcow2_block_status,
    .close = qcow2_close,
    .snapshot_create = qcow2_snapshot_create,
    .snapshot_apply = qcow2_snapshot_apply,
    .snapshot_delete = qcow2_snapshot_delete,
    .snapshot_list = qcow2_snapshot_list,
    .vmstate_rw = qcow2_vmstate_rw,
};
