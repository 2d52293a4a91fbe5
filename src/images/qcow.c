/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qcow version 1 driver: create, read, write (clusters appended at the end
 * of the file, no refcounts), backing files, and reading zlib-compressed
 * clusters. Layout per the original QEMU qcow format: 48-byte big-endian
 * header (magic "QFI\xfb", version 1, backing file offset/size, mtime,
 * size, cluster_bits, l2_bits, crypt_method, l1_table_offset), a flat L1
 * table of L2 table offsets, L2 tables of cluster offsets; bit 63 of an L2
 * entry marks a compressed cluster whose size sits above the offset.
 */
#include "images/block_int.h"
#include "images/be.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define QCOW_MAGIC 0x514649fbu
#define QCOW_OFLAG_COMPRESSED (1ULL << 63)
#define QCOW_HEADER_SIZE 48

typedef struct Qcow {
    uint32_t cluster_bits, l2_bits;
    uint64_t cluster_size, l2_size;
    uint64_t l1_offset;
    uint32_t l1_size;
    uint64_t *l1;
    uint8_t *l2;            /* one cached L2 table */
    uint64_t l2_cached;     /* its offset, 0 = none */
    uint8_t *cbuf, *zbuf;
    uint64_t file_end;
    char *backing_file;
} Qcow;

static int qcow_probe(const uint8_t *buf, size_t len)
{
    if (len >= 8 && be32_load(buf) == QCOW_MAGIC && be32_load(buf + 4) == 1) {
        return 100;
    }
    return 0;
}

static void qcow_free(Qcow *s)
{
    if (s) {
        g_free(s->l1);
        g_free(s->l2);
        g_free(s->cbuf);
        g_free(s->zbuf);
        g_free(s->backing_file);
        g_free(s);
    }
}

static bool qcow_bad(GError **error, BlockDev *bs, const char *what)
{
    g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                "%s: invalid qcow image: %s", bs->filename, what);
    return false;
}

static bool qcow_open(BlockDev *bs, GError **error)
{
    uint8_t h[QCOW_HEADER_SIZE];
    uint64_t fsize = blk_file_size(bs);
    if (fsize < QCOW_HEADER_SIZE) {
        return qcow_bad(error, bs, "file too short");
    }
    if (!blk_file_pread(bs, 0, h, sizeof(h), error)) {
        return false;
    }
    if (be32_load(h) != QCOW_MAGIC || be32_load(h + 4) != 1) {
        return qcow_bad(error, bs, "bad magic or version");
    }
    Qcow *s = g_new0(Qcow, 1);
    bs->opaque = s;
    uint64_t boff = be64_load(h + 8);
    uint32_t bsz = be32_load(h + 16);
    bs->size = be64_load(h + 24);
    s->cluster_bits = h[32];
    s->l2_bits = h[33];
    uint32_t crypt = be32_load(h + 36);
    s->l1_offset = be64_load(h + 40);
    if (crypt) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "%s: encrypted qcow images are not supported",
                    bs->filename);
        goto fail;
    }
    if (s->cluster_bits < 9 || s->cluster_bits > 16 || s->l2_bits < 6 ||
        s->l2_bits > 16 || s->cluster_bits + s->l2_bits > 30) {
        qcow_bad(error, bs, "cluster or L2 size out of range");
        goto fail;
    }
    s->cluster_size = 1ULL << s->cluster_bits;
    s->l2_size = 1ULL << s->l2_bits;
    uint32_t shift = s->cluster_bits + s->l2_bits;
    if (bs->size > (1ULL << 62) ||
        ((bs->size + (1ULL << shift) - 1) >> shift) > (32u << 20) / 8) {
        qcow_bad(error, bs, "image size too large");
        goto fail;
    }
    s->l1_size = (uint32_t)((bs->size + (1ULL << shift) - 1) >> shift);
    if (s->l1_offset & 7 || s->l1_offset > fsize ||
        (uint64_t)s->l1_size * 8 > fsize - s->l1_offset) {
        qcow_bad(error, bs, "L1 table outside the file");
        goto fail;
    }
    s->l1 = g_new0(uint64_t, MAX(s->l1_size, 1));
    uint8_t *b = g_malloc0(MAX((uint64_t)s->l1_size * 8, 1));
    bool ok = blk_file_pread(bs, s->l1_offset, b, (uint64_t)s->l1_size * 8,
                             error);
    for (uint32_t i = 0; i < s->l1_size; i++) {
        s->l1[i] = be64_load(b + (uint64_t)i * 8);
    }
    g_free(b);
    if (!ok) {
        goto fail;
    }
    s->l2 = g_malloc(s->l2_size * 8);
    s->cbuf = g_malloc(s->cluster_size);
    s->zbuf = g_malloc(s->cluster_size * 2);
    s->file_end = fsize;
    if (boff) {
        if (bsz == 0 || bsz > 1023 || boff > fsize || bsz > fsize - boff) {
            qcow_bad(error, bs, "backing file name out of range");
            goto fail;
        }
        s->backing_file = g_malloc0(bsz + 1);
        if (!blk_file_pread(bs, boff, s->backing_file, bsz, error)) {
            goto fail;
        }
        if (!bs->no_backing) {
            bs->backing = blk_open_backing(bs, s->backing_file, NULL,
                                           error);
            if (!bs->backing) {
                goto fail;
            }
        }
    }
    return true;
fail:
    qcow_free(s);
    bs->opaque = NULL;
    return false;
}

static void qcow_close(BlockDev *bs)
{
    if (!bs->read_only) {
        (void)blk_file_sync(bs, NULL);
    }
    qcow_free(bs->opaque);
    bs->opaque = NULL;
}

static bool load_l2(BlockDev *bs, uint64_t off, GError **error)
{
    Qcow *s = bs->opaque;
    if (s->l2_cached == off) {
        return true;
    }
    if (off & 7 || off < QCOW_HEADER_SIZE) {
        return qcow_bad(error, bs, "L2 table offset invalid");
    }
    s->l2_cached = 0;
    if (!blk_file_pread(bs, off, s->l2, s->l2_size * 8, error)) {
        return false;
    }
    s->l2_cached = off;
    return true;
}

static bool get_entry(BlockDev *bs, uint64_t vcl, uint64_t *e,
                      GError **error)
{
    Qcow *s = bs->opaque;
    uint64_t l1i = vcl >> s->l2_bits;
    *e = 0;
    if (l1i >= s->l1_size || !s->l1[l1i]) {
        return true;
    }
    if (!load_l2(bs, s->l1[l1i], error)) {
        return false;
    }
    *e = be64_load(s->l2 + (vcl & (s->l2_size - 1)) * 8);
    return true;
}

static bool decompress(BlockDev *bs, uint64_t e, uint8_t *out,
                       GError **error)
{
    Qcow *s = bs->opaque;
    uint32_t sh = 63 - s->cluster_bits;
    uint64_t csize = (e >> sh) & (s->cluster_size - 1);
    uint64_t off = e & ((1ULL << sh) - 1);
    csize = MIN(csize ? csize : s->cluster_size, 2 * s->cluster_size);
    if (!blk_file_pread(bs, off, s->zbuf, csize, error)) {
        return false;
    }
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, -12) != Z_OK) {
        return qcow_bad(error, bs, "zlib");
    }
    z.next_in = s->zbuf;
    z.avail_in = (uInt)csize;
    z.next_out = out;
    z.avail_out = (uInt)s->cluster_size;
    int r = inflate(&z, Z_FINISH);
    bool ok = (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK) &&
              z.avail_out == 0;
    inflateEnd(&z);
    return ok ? true : qcow_bad(error, bs, "bad compressed cluster");
}

static bool cluster_data(BlockDev *bs, uint64_t vcl, uint64_t e,
                         uint8_t *out, GError **error)
{
    Qcow *s = bs->opaque;
    if (e & QCOW_OFLAG_COMPRESSED) {
        return decompress(bs, e, out, error);
    }
    if (!e) {
        return blk_read_backing(bs, vcl << s->cluster_bits, out,
                                s->cluster_size, error);
    }
    return blk_file_pread(bs, e, out, s->cluster_size, error);
}

static bool qcow_read(BlockDev *bs, uint64_t off, uint8_t *buf, size_t len,
                      GError **error)
{
    Qcow *s = bs->opaque;
    while (len) {
        uint64_t vcl = off >> s->cluster_bits;
        uint64_t in = off & (s->cluster_size - 1);
        size_t n = (size_t)MIN((uint64_t)len, s->cluster_size - in);
        uint64_t e;
        if (!get_entry(bs, vcl, &e, error)) {
            return false;
        }
        if (e & QCOW_OFLAG_COMPRESSED) {
            if (!decompress(bs, e, s->cbuf, error)) {
                return false;
            }
            memcpy(buf, s->cbuf + in, n);
        } else if (!e) {
            if (!blk_read_backing(bs, off, buf, n, error)) {
                return false;
            }
        } else if (!blk_file_pread(bs, e + in, buf, n, error)) {
            return false;
        }
        off += n;
        buf += n;
        len -= n;
    }
    return true;
}

static uint64_t append_alloc(Qcow *s, uint64_t bytes)
{
    uint64_t off = (s->file_end + s->cluster_size - 1) &
                   ~(s->cluster_size - 1);
    s->file_end = off + bytes;
    return off;
}

static bool qcow_write(BlockDev *bs, uint64_t off, const uint8_t *buf,
                       size_t len, GError **error)
{
    Qcow *s = bs->opaque;
    while (len) {
        uint64_t vcl = off >> s->cluster_bits;
        uint64_t in = off & (s->cluster_size - 1);
        size_t n = (size_t)MIN((uint64_t)len, s->cluster_size - in);
        uint64_t e;
        if (!get_entry(bs, vcl, &e, error)) {
            return false;
        }
        if (e && !(e & QCOW_OFLAG_COMPRESSED)) {
            if (!blk_file_pwrite(bs, e + in, buf, n, error)) {
                return false;
            }
        } else {
            if (n < s->cluster_size &&
                !cluster_data(bs, vcl, e, s->cbuf, error)) {
                return false;
            }
            memcpy(s->cbuf + in, buf, n);
            uint64_t l1i = vcl >> s->l2_bits;
            if (!s->l1[l1i]) {
                /* New L2 table first, then the L1 entry pointing to it. */
                uint64_t l2off = append_alloc(s, s->l2_size * 8);
                uint8_t *z = g_malloc0(s->l2_size * 8);
                bool ok = blk_file_pwrite(bs, l2off, z, s->l2_size * 8,
                                          error);
                g_free(z);
                uint8_t b[8];
                be64_store(b, l2off);
                if (!ok || !blk_file_pwrite(bs, s->l1_offset + l1i * 8, b, 8,
                                            error)) {
                    return false;
                }
                s->l1[l1i] = l2off;
                s->l2_cached = 0;
            }
            uint64_t doff = append_alloc(s, s->cluster_size);
            if (!blk_file_pwrite(bs, doff, s->cbuf, s->cluster_size, error)) {
                return false;
            }
            if (!load_l2(bs, s->l1[l1i], error)) {
                return false;
            }
            uint64_t idx = vcl & (s->l2_size - 1);
            be64_store(s->l2 + idx * 8, doff);
            if (!blk_file_pwrite(bs, s->l1[l1i] + idx * 8, s->l2 + idx * 8, 8,
                                 error)) {
                s->l2_cached = 0;
                return false;
            }
        }
        off += n;
        buf += n;
        len -= n;
    }
    return true;
}

static bool qcow_create(const char *filename, const BlockCreateOptions *o,
                        GError **error)
{
    uint32_t cbits = 12, l2bits = 9;
    if (o->cluster_size) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "qcow does not support a cluster_size option");
        return false;
    }
    if (o->prealloc != BLOCK_PREALLOC_OFF) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "qcow does not support preallocation");
        return false;
    }
    uint64_t size = o->size;
    if (o->backing_file && !size) {
        BlockDev tmp = { .filename = (char *)filename, .fd = -1 };
        BlockDev *b = blk_open_backing(&tmp, o->backing_file,
                                       o->backing_format, error);
        if (!b) {
            return false;
        }
        size = b->size;
        blk_close(b);
    }
    uint32_t shift = cbits + l2bits;
    uint64_t l1_size = (size + (1ULL << shift) - 1) >> shift;
    if (size > (1ULL << 62) || l1_size * 8 > (32u << 20)) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Image size too large for qcow");
        return false;
    }
    size_t blen = o->backing_file ? strlen(o->backing_file) : 0;
    if (blen > 1023) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Backing file name too long");
        return false;
    }
    uint64_t hsize = (QCOW_HEADER_SIZE + blen + 7) & ~7ULL;
    uint64_t total = hsize + ((l1_size * 8 + 511) & ~511ULL);
    uint8_t *buf = g_malloc0(total);
    be32_store(buf, QCOW_MAGIC);
    be32_store(buf + 4, 1);
    if (blen) {
        be64_store(buf + 8, QCOW_HEADER_SIZE);
        be32_store(buf + 16, (uint32_t)blen);
        memcpy(buf + QCOW_HEADER_SIZE, o->backing_file, blen);
    }
    be64_store(buf + 24, size);
    buf[32] = cbits;
    buf[33] = l2bits;
    be64_store(buf + 40, hsize);
    int fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        g_free(buf);
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                    "Could not create '%s': %s", filename, g_strerror(errno));
        return false;
    }
    BlockDev tmp = { .fd = fd, .filename = (char *)filename };
    bool ok = blk_file_pwrite(&tmp, 0, buf, total, error);
    g_free(buf);
    if (ok && fdatasync(fd) < 0) {
        ok = false;
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO, "sync: %s",
                    g_strerror(errno));
    }
    close(fd);
    return ok;
}

static bool qcow_info(BlockDev *bs, BlockInfo *info, GError **error)
{
    Qcow *s = bs->opaque;
    info->cluster_size = (uint32_t)s->cluster_size;
    info->backing_file = g_strdup(s->backing_file);
    info->version = 1;
    return true;
}

static uint64_t qcow_block_status(BlockDev *bs, uint64_t off, uint64_t len,
                                  int *flags, GError **error)
{
    Qcow *s = bs->opaque;
    uint64_t e;
    if (!get_entry(bs, off >> s->cluster_bits, &e, error)) {
        *flags = 0;
        return 0;
    }
    *flags = e ? BLOCK_MAP_DATA :
             bs->backing ? BLOCK_MAP_BACKING : BLOCK_MAP_ZERO;
    return MIN(len, s->cluster_size - (off & (s->cluster_size - 1)));
}

const BlockDriver block_qcow_driver = {
    .name = "qcow",
    .probe = qcow_probe,
    .open = qcow_open,
    .create = qcow_create,
    .read = qcow_read,
    .write = qcow_write,
    .info = qcow_info,
    .block_status = qcow_block_status,
    .close = qcow_close,
};
