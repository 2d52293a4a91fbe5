/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Raw image driver: the device's bytes are the file's bytes. Files are
 * created sparse; discard punches holes where the host supports it.
 */
#include "images/block_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int raw_probe(const uint8_t *buf, size_t len)
{
    return 1;  /* anything is a raw image, as a last resort */
}

static bool raw_open(BlockDev *bs, GError **error)
{
    bs->size = blk_file_size(bs);
    return true;
}

static bool raw_create(const char *filename, const BlockCreateOptions *opts,
                       GError **error)
{
    if (opts->backing_file) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "raw images do not support backing files");
        return false;
    }
    int fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                    "Could not create '%s': %s", filename, g_strerror(errno));
        return false;
    }
    bool ok = ftruncate(fd, (off_t)opts->size) == 0;
    if (ok && opts->prealloc == BLOCK_PREALLOC_FULL) {
        ok = posix_fallocate(fd, 0, (off_t)opts->size) == 0;
    }
    if (!ok) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                    "Could not size '%s': %s", filename, g_strerror(errno));
    }
    close(fd);
    return ok;
}

static bool raw_read(BlockDev *bs, uint64_t off, uint8_t *buf, size_t len,
                     GError **error)
{
    return blk_file_pread(bs, off, buf, len, error);
}

static bool raw_write(BlockDev *bs, uint64_t off, const uint8_t *buf,
                      size_t len, GError **error)
{
    return blk_file_pwrite(bs, off, buf, len, error);
}

static bool raw_discard(BlockDev *bs, uint64_t off, uint64_t len,
                        GError **error)
{
#ifdef FALLOC_FL_PUNCH_HOLE
    /* Advisory: failure to punch a hole leaves the data as it was. */
    (void)fallocate(bs->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    (off_t)off, (off_t)len);
#endif
    return true;
}

static bool raw_truncate(BlockDev *bs, uint64_t size, GError **error)
{
    if (ftruncate(bs->fd, (off_t)size) < 0) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO, "%s: resize: %s",
                    bs->filename, g_strerror(errno));
        return false;
    }
    bs->size = size;
    return true;
}

static uint64_t raw_block_status(BlockDev *bs, uint64_t off, uint64_t len,
                                 int *flags, GError **error)
{
#ifdef SEEK_DATA
    off_t d = lseek(bs->fd, (off_t)off, SEEK_DATA);
    if (d < 0 && errno == ENXIO) {
        *flags = BLOCK_MAP_ZERO;
        return len;
    }
    if (d >= 0 && (uint64_t)d > off) {
        *flags = BLOCK_MAP_ZERO;
        return MIN(len, (uint64_t)d - off);
    }
    if (d >= 0) {
        off_t h = lseek(bs->fd, (off_t)off, SEEK_HOLE);
        *flags = BLOCK_MAP_DATA;
        if (h > (off_t)off) {
            return MIN(len, (uint64_t)h - off);
        }
    }
#endif
    *flags = BLOCK_MAP_DATA;
    return len;
}

const BlockDriver block_raw_driver = {
    .name = "raw",
    .probe = raw_probe,
    .open = raw_open,
    .create = raw_create,
    .read = raw_read,
    .write = raw_write,
    .discard = raw_discard,
    .truncate = raw_truncate,
    .block_status = raw_block_status,
};
