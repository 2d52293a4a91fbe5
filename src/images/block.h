/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mimic's block layer: the public API devices and the engine use to access
 * disk images (raw, qcow version 1, qcow2 v2/v3). Byte-granular reads and
 * writes at any offset; a BlockDriver per format behind a BlockDev.
 * Formats follow QEMU's docs/interop/qcow2.txt and the qcow v1 layout.
 */
#ifndef MIMIC_IMAGES_BLOCK_H
#define MIMIC_IMAGES_BLOCK_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOCK_ERROR (block_error_quark())
GQuark block_error_quark(void);

typedef enum {
    BLOCK_ERROR_OPEN,         /* the file cannot be opened */
    BLOCK_ERROR_FORMAT,       /* no/unknown format, or format not allowed */
    BLOCK_ERROR_IO,           /* host I/O error */
    BLOCK_ERROR_RANGE,        /* access past the end of the device */
    BLOCK_ERROR_READ_ONLY,    /* write to a read-only device */
    BLOCK_ERROR_INVALID,      /* bad argument or malformed image */
    BLOCK_ERROR_UNSUPPORTED,  /* feature/format not supported */
    BLOCK_ERROR_CORRUPT,      /* image metadata is corrupt */
    BLOCK_ERROR_NOT_FOUND,    /* snapshot or file not found */
    BLOCK_ERROR_FAILED,       /* anything else */
    BLOCK_ERROR_LOCKED,       /* another user holds a conflicting lock */
    BLOCK_ERROR_DENIED,       /* a write refused to protect the host */
} BlockError;

typedef enum {
    BLOCK_CACHE_WRITEBACK = 0, /* default: host page cache, flush on demand */
    BLOCK_CACHE_WRITETHROUGH,  /* every write is followed by fdatasync */
    BLOCK_CACHE_NONE,          /* O_DIRECT where the host allows it */
    BLOCK_CACHE_UNSAFE,        /* flushes are ignored */
} BlockCacheMode;
typedef BlockCacheMode BlockCache;

typedef struct BlockOpenOptions {
    /*
     * NULL = guess from the content. A recognised magic opens that format
     * or fails (never raw); without probe_writable only read-only opens
     * may guess.
     */
    const char *format;
    /*
     * A writable open with format NULL (QEMU's -hda without format=): an
     * image guessed raw then refuses writes that would give its first
     * sector another format's magic (the CVE-2008-2004 class).
     */
    bool probe_writable;
    bool read_only;
    bool no_locking;      /* file.locking=off: take no OFD image locks */
    bool force_share;     /* mimic-img -U: lock nothing away from others */
    bool snapshot;        /* temporary qcow2 overlay, discarded on close */
    BlockCacheMode cache;
    bool repair;          /* mimic-img check -r: open even if marked corrupt */
    bool no_backing;      /* do not open the backing chain (rebase -u) */
} BlockOpenOptions;

typedef enum {
    BLOCK_PREALLOC_OFF = 0,
    BLOCK_PREALLOC_METADATA,
    BLOCK_PREALLOC_FULL,
} BlockPrealloc;

typedef struct BlockCreateOptions {
    const char *format;          /* "raw", "qcow", "qcow2" */
    uint64_t size;               /* virtual size in bytes (0 = backing's) */
    const char *backing_file;    /* NULL = none */
    const char *backing_format;  /* NULL = probe backing at open */
    uint32_t cluster_size;       /* 0 = format default */
    BlockPrealloc prealloc;
    bool lazy_refcounts;
    int compat;                  /* qcow2: 2 (0.10) or 3 (1.1); 0 = 3 */
    int refcount_bits;           /* qcow2: 0 = 16 */
} BlockCreateOptions;

typedef struct BlockInfo {
    char *format;
    uint64_t virtual_size;
    uint64_t disk_size;          /* bytes allocated on the host */
    uint32_t cluster_size;       /* 0 if not applicable */
    char *backing_file;
    char *backing_format;
    int version;                 /* qcow/qcow2 version, 0 for raw */
    bool lazy_refcounts;
    bool corrupt;
    bool dirty;
    int refcount_bits;
    int nb_snapshots;
} BlockInfo;

typedef enum {
    BLOCK_CHECK_NONE = 0,
    BLOCK_CHECK_FIX_LEAKS = 1,
    BLOCK_CHECK_FIX_ERRORS = 2,
    BLOCK_CHECK_FIX_ALL = 3,
} BlockCheckFix;

typedef struct BlockCheckResult {
    uint64_t corruptions;
    uint64_t leaks;
    uint64_t check_errors;
    uint64_t corruptions_fixed;
    uint64_t leaks_fixed;
    uint64_t allocated_clusters;
    uint64_t total_clusters;
    uint64_t image_end_offset;
} BlockCheckResult;

typedef struct BlockSnapshotInfo {
    char *id;
    char *name;
    uint64_t vm_state_size;
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t disk_size;
} BlockSnapshotInfo;

typedef enum {
    BLOCK_MAP_DATA = 1,   /* extent has data in this image */
    BLOCK_MAP_ZERO = 2,   /* extent reads as zeros */
    BLOCK_MAP_BACKING = 4,/* extent comes from the backing chain */
} BlockMapFlags;

typedef struct BlockDev BlockDev;

BlockDev *blk_open(const char *filename, const BlockOpenOptions *opts,
                   GError **error);
void blk_close(BlockDev *bs);
bool blk_create(const char *filename, const BlockCreateOptions *opts,
                GError **error);
/* Probe an image's format by content (for read-only use and tools): a
 * recognised magic gives that format, anything else "raw". */
const char *blk_probe_format(const char *filename, GError **error);

bool blk_pread(BlockDev *bs, uint64_t offset, void *buf, size_t len,
               GError **error);
bool blk_pwrite(BlockDev *bs, uint64_t offset, const void *buf, size_t len,
                GError **error);
/* The bytes blk_pread/blk_pwrite moved since the image opened. */
void blk_io_counters(const BlockDev *bs, uint64_t *rd, uint64_t *wr);
/* Write one whole cluster compressed (qcow2); offset cluster-aligned,
 * len the cluster size (or the tail of the device). */
bool blk_pwrite_compressed(BlockDev *bs, uint64_t offset, const void *buf,
                           size_t len, GError **error);
/* Point the image at another backing file (rebase -u); NULL/"" = none. */
bool blk_change_backing(BlockDev *bs, const char *backing,
                        const char *backing_fmt, GError **error);
bool blk_flush(BlockDev *bs, GError **error);
bool blk_discard(BlockDev *bs, uint64_t offset, uint64_t len, GError **error);
bool blk_truncate(BlockDev *bs, uint64_t size, GError **error);

int64_t blk_get_size(BlockDev *bs);
bool blk_is_read_only(BlockDev *bs);
const char *blk_format_name(BlockDev *bs);
const char *blk_filename(BlockDev *bs);
BlockDev *blk_backing(BlockDev *bs);

/*
 * A fingerprint of the image's state (size, header, modification time and
 * an in-process write generation), for the snapshot code to record and
 * compare later. Changes whenever the content may have changed.
 */
uint64_t blk_fingerprint(BlockDev *bs);

bool blk_get_info(BlockDev *bs, BlockInfo *info, GError **error);
void blk_info_clear(BlockInfo *info);
bool blk_check(BlockDev *bs, BlockCheckFix fix, BlockCheckResult *res,
               GError **error);
/*
 * Allocation status of [offset, offset+len): returns the number of bytes
 * from offset that share the same *flags (at least 1 unless at the end).
 */
uint64_t blk_block_status(BlockDev *bs, uint64_t offset, uint64_t len,
                          int *flags, GError **error);

/* Internal snapshots (qcow2 only). */
bool blk_snapshot_create(BlockDev *bs, const char *name,
                         uint64_t vm_clock_nsec, uint64_t vm_state_size,
                         GError **error);
bool blk_snapshot_apply(BlockDev *bs, const char *name_or_id, GError **error);
bool blk_snapshot_delete(BlockDev *bs, const char *name_or_id,
                         GError **error);
/* Returns the number of snapshots (>= 0) or -1 on error. */
int blk_snapshot_list(BlockDev *bs, BlockSnapshotInfo **list, GError **error);
void blk_snapshot_list_free(BlockSnapshotInfo *list, int n);
/* The VM state area (savevm): byte-addressed, beyond the virtual disk. */
bool blk_vmstate_write(BlockDev *bs, uint64_t offset, const void *buf,
                       size_t len, GError **error);
bool blk_vmstate_read(BlockDev *bs, uint64_t offset, void *buf, size_t len,
                      GError **error);

/* Parse sizes like "500M", "1.5G", "4096" (k/K/M/G/T suffixes). */
bool blk_parse_size(const char *s, uint64_t *out);

#endif
