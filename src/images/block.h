/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The block layer: BlockDev is what devices hold; a BlockDriver per image
 * format does the work.  Opening a writable image needs its format from
 * the configuration (never probed from content); read-only opens may
 * probe.  Byte-granular pread/pwrite; flush reaches the disk (fdatasync).
 */
#ifndef MIMIC_IMAGES_BLOCK_H
#define MIMIC_IMAGES_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define BLOCK_ERROR (block_error_quark())
GQuark block_error_quark(void);
typedef enum {
    BLOCK_ERROR_OPEN,
    BLOCK_ERROR_FORMAT,
    BLOCK_ERROR_IO,
    BLOCK_ERROR_RANGE,
    BLOCK_ERROR_READ_ONLY,
} BlockError;

typedef enum {
    BLOCK_CACHE_WRITEBACK,
    BLOCK_CACHE_WRITETHROUGH,
    BLOCK_CACHE_NONE,
    BLOCK_CACHE_UNSAFE,
} BlockCache;

typedef struct BlockOpenOptions {
    const char *format; /* NULL: probe (read-only opens only) */
    bool read_only;
    bool snapshot;      /* writes go to a temporary overlay */
    BlockCache cache;
} BlockOpenOptions;

typedef struct BlockDev BlockDev;

BlockDev *blk_open(const char *filename, const BlockOpenOptions *opts,
                   GError **error);
void blk_close(BlockDev *blk);
bool blk_pread(BlockDev *blk, uint64_t offset, void *buf, size_t len,
               GError **error);
bool blk_pwrite(BlockDev *blk, uint64_t offset, const void *buf, size_t len,
                GError **error);
bool blk_flush(BlockDev *blk, GError **error);
int64_t blk_get_size(BlockDev *blk);
bool blk_is_read_only(BlockDev *blk);
const char *blk_format_name(BlockDev *blk);
const char *blk_filename(BlockDev *blk);

#endif
