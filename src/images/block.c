/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * BlockDev over the raw format: a host file read and written with
 * pread/pwrite.  -snapshot keeps written data in memory (a temporary
 * overlay, lost on close) so the image file is never touched.  Other
 * formats (qcow, qcow2) plug in behind the same calls.
 */
#include "images/block.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(mimic-block-error-quark, block_error)

#define OVERLAY_CHUNK 4096

struct BlockDev {
    char *filename;
    int fd;
    bool read_only;
    bool snapshot;
    BlockCache cache;
    int64_t size;
    GHashTable *overlay; /* chunk index -> 4 KiB copy (snapshot mode) */
};

static bool probe_is_raw(int fd, GError **error, const char *name)
{
    uint8_t magic[4] = { 0 };
    if (pread(fd, magic, 4, 0) == 4 &&
        (!memcmp(magic, "QFI\xfb", 4))) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FORMAT,
                    "'%s' is a qcow/qcow2 image, which this build cannot "
                    "open yet", name);
        return false;
    }
    return true;
}

BlockDev *blk_open(const char *filename, const BlockOpenOptions *opts,
                   GError **error)
{
    BlockOpenOptions def = { 0 };
    if (!opts) {
        opts = &def;
    }
    const char *fmt = opts->format;
    if (!fmt && !opts->read_only && !opts->snapshot) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FORMAT,
                    "'%s': a writable image needs its format named "
                    "(format=raw|qcow|qcow2)", filename);
        return NULL;
    }
    if (fmt && strcmp(fmt, "raw") != 0) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FORMAT,
                    "'%s': format '%s' is not available yet", filename, fmt);
        return NULL;
    }
    int flags = (opts->read_only || opts->snapshot ? O_RDONLY : O_RDWR) |
                O_CLOEXEC;
    int fd = open(filename, flags);
    if (fd < 0) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_OPEN,
                    "could not open '%s': %s", filename, g_strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_OPEN,
                    "'%s' is not a regular file", filename);
        close(fd);
        return NULL;
    }
    if (!fmt && !probe_is_raw(fd, error, filename)) {
        close(fd);
        return NULL;
    }
    BlockDev *blk = g_new0(BlockDev, 1);
    blk->filename = g_strdup(filename);
    blk->fd = fd;
    blk->read_only = opts->read_only;
    blk->snapshot = opts->snapshot;
    blk->cache = opts->cache;
    blk->size = st.st_size;
    if (blk->snapshot) {
        blk->overlay = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                             g_free, g_free);
    }
    return blk;
}

void blk_close(BlockDev *blk)
{
    if (!blk) {
        return;
    }
    if (!blk->read_only && !blk->snapshot) {
        fdatasync(blk->fd);
    }
    close(blk->fd);
    if (blk->overlay) {
        g_hash_table_destroy(blk->overlay);
    }
    g_free(blk->filename);
    g_free(blk);
}

static bool range_ok(BlockDev *blk, uint64_t off, size_t len, GError **error)
{
    if (off > (uint64_t)blk->size || len > (uint64_t)blk->size - off) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_RANGE,
                    "access beyond the end of '%s'", blk->filename);
        return false;
    }
    return true;
}

static bool file_read(BlockDev *blk, uint64_t off, uint8_t *buf, size_t len,
                      GError **error)
{
    while (len) {
        ssize_t n = pread(blk->fd, buf, len, off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                memset(buf, 0, len); /* file shorter than its size */
                return true;
            }
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                        "read error on '%s': %s", blk->filename,
                        g_strerror(errno));
            return false;
        }
        buf += n;
        off += n;
        len -= n;
    }
    return true;
}

bool blk_pread(BlockDev *blk, uint64_t off, void *buf, size_t len,
               GError **error)
{
    if (!range_ok(blk, off, len, error)) {
        return false;
    }
    uint8_t *out = buf;
    if (!blk->overlay) {
        return file_read(blk, off, out, len, error);
    }
    while (len) {
        gint64 idx = off / OVERLAY_CHUNK;
        size_t in = off % OVERLAY_CHUNK;
        size_t n = MIN(len, OVERLAY_CHUNK - in);
        uint8_t *chunk = g_hash_table_lookup(blk->overlay, &idx);
        if (chunk) {
            memcpy(out, chunk + in, n);
        } else if (!file_read(blk, off, out, n, error)) {
            return false;
        }
        out += n;
        off += n;
        len -= n;
    }
    return true;
}

bool blk_pwrite(BlockDev *blk, uint64_t off, const void *buf, size_t len,
                GError **error)
{
    if (blk->read_only) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_READ_ONLY,
                    "'%s' is read-only", blk->filename);
        return false;
    }
    if (!range_ok(blk, off, len, error)) {
        return false;
    }
    const uint8_t *in = buf;
    if (blk->overlay) {
        while (len) {
            gint64 idx = off / OVERLAY_CHUNK;
            size_t o = off % OVERLAY_CHUNK;
            size_t n = MIN(len, OVERLAY_CHUNK - o);
            uint8_t *chunk = g_hash_table_lookup(blk->overlay, &idx);
            if (!chunk) {
                chunk = g_malloc(OVERLAY_CHUNK);
                uint64_t base = (uint64_t)idx * OVERLAY_CHUNK;
                size_t avail = MIN((uint64_t)OVERLAY_CHUNK, blk->size - base);
                memset(chunk, 0, OVERLAY_CHUNK);
                if (!file_read(blk, base, chunk, avail, error)) {
                    g_free(chunk);
                    return false;
                }
                g_hash_table_insert(blk->overlay, g_memdup2(&idx, sizeof(idx)),
                                    chunk);
            }
            memcpy(chunk + o, in, n);
            in += n;
            off += n;
            len -= n;
        }
        return true;
    }
    while (len) {
        ssize_t n = pwrite(blk->fd, in, len, off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                        "write error on '%s': %s", blk->filename,
                        g_strerror(errno));
            return false;
        }
        in += n;
        off += n;
        len -= n;
    }
    if (blk->cache == BLOCK_CACHE_WRITETHROUGH) {
        return blk_flush(blk, error);
    }
    return true;
}

bool blk_flush(BlockDev *blk, GError **error)
{
    if (blk->read_only || blk->overlay || blk->cache == BLOCK_CACHE_UNSAFE) {
        return true;
    }
    if (fdatasync(blk->fd) != 0) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                    "flush of '%s' failed: %s", blk->filename,
                    g_strerror(errno));
        return false;
    }
    return true;
}

int64_t blk_get_size(BlockDev *blk)
{
    return blk->size;
}

bool blk_is_read_only(BlockDev *blk)
{
    return blk->read_only;
}

const char *blk_format_name(BlockDev *blk)
{
    return "raw";
}

const char *blk_filename(BlockDev *blk)
{
    return blk->filename;
}
