/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internals of the block layer shared by the format drivers: the BlockDev
 * structure and the BlockDriver table each format provides.
 */
#ifndef MIMIC_IMAGES_BLOCK_INT_H
#define MIMIC_IMAGES_BLOCK_INT_H

#include "images/block.h"

typedef struct BlockFaultInject BlockFaultInject;

typedef struct BlockDriver {
    const char *name;
    /* Score 0..100 for the first bytes of a file; 0 = not this format. */
    int (*probe)(const uint8_t *buf, size_t len);
    bool (*open)(BlockDev *bs, GError **error);
    bool (*create)(const char *filename, const BlockCreateOptions *opts,
                   GError **error);
    bool (*read)(BlockDev *bs, uint64_t off, uint8_t *buf, size_t len,
                 GError **error);
    bool (*write)(BlockDev *bs, uint64_t off, const uint8_t *buf, size_t len,
                  GError **error);
    bool (*write_compressed)(BlockDev *bs, uint64_t off, const uint8_t *buf,
                             size_t len, GError **error);
    bool (*change_backing)(BlockDev *bs, const char *backing,
                           const char *fmt, GError **error);
    bool (*flush)(BlockDev *bs, GError **error);
    bool (*discard)(BlockDev *bs, uint64_t off, uint64_t len, GError **error);
    bool (*truncate)(BlockDev *bs, uint64_t size, GError **error);
    bool (*info)(BlockDev *bs, BlockInfo *info, GError **error);
    bool (*check)(BlockDev *bs, BlockCheckFix fix, BlockCheckResult *res,
                  GError **error);
    uint64_t (*block_status)(BlockDev *bs, uint64_t off, uint64_t len,
                             int *flags, GError **error);
    void (*close)(BlockDev *bs);
    bool (*snapshot_create)(BlockDev *bs, const char *name,
                            uint64_t vm_clock_nsec, uint64_t vm_state_size,
                            GError **error);
    bool (*snapshot_apply)(BlockDev *bs, const char *name, GError **error);
    bool (*snapshot_delete)(BlockDev *bs, const char *name, GError **error);
    int (*snapshot_list)(BlockDev *bs, BlockSnapshotInfo **list,
                         GError **error);
    bool (*vmstate_rw)(BlockDev *bs, uint64_t off, uint8_t *buf, size_t len,
                       bool write, GError **error);
} BlockDriver;

/* Offset, length and memory alignment for O_DIRECT I/O (covers 512-byte
 * and 4 KiB logical sectors). */
#define BLOCK_DIRECT_ALIGN 4096

struct BlockDev {
    const BlockDriver *drv;
    void *opaque;
    int fd;
    char *filename;
    uint64_t size;          /* virtual size */
    bool read_only;
    BlockCacheMode cache;
    bool direct;            /* fd has O_DIRECT: I/O goes through aligned
                               bounce buffers (BLOCK_DIRECT_ALIGN) */
    BlockDev *backing;
    int chain_depth;
    uint64_t generation;    /* bumped on every write */
    char *overlay_path;
    bool repair;
    bool no_backing;        /* do not open the backing chain */
    bool probed_raw;        /* format guessed raw: guard sector 0 */
    bool locked;            /* holds OFD locks (file_lock.c) */
    uint64_t dev, ino;      /* the host file, for backing-loop checks */
    BlockDev *child;        /* the image this one backs (NULL at the top) */
    BlockFaultInject *inject; /* test-only fault injection, or NULL */
    uint64_t host_writes;   /* blk_file_pwrite calls (tried writes) */
    uint64_t rd_bytes, wr_bytes; /* what blk_pread/blk_pwrite moved */
};

/*
 * Test-only fault injection, in the manner of QEMU's blkdebug driver:
 * host writes (blk_file_pwrite) and flushes (blk_file_sync, when it would
 * really sync) of one BlockDev are counted from 0 in one sequence; the one
 * numbered `nth` fails with `err` (EIO, ENOSPC, ...) and, if `sticky`,
 * every later one too, as a disk that went away does. Nothing is written
 * by a failed write. `on_sync` runs after every successful sync (power-loss
 * tests take a copy of the file there: what a crash may not lose).
 */
typedef enum {
    BLK_INJECT_WRITE = 1,
    BLK_INJECT_FLUSH = 2,
} BlkInjectOps;

struct BlockFaultInject {
    unsigned ops;           /* BlkInjectOps the counter and failure cover */
    int64_t nth;            /* -1: never fail, only count */
    int err;
    bool sticky;
    uint64_t count;         /* operations seen so far */
    uint64_t failed;        /* operations failed so far */
    void (*on_sync)(BlockDev *bs, void *opaque);
    /* After every successful host write (power-loss tests that reorder
       the writes between two syncs). */
    void (*on_write)(BlockDev *bs, uint64_t off, const void *buf,
                     size_t len, void *opaque);
    void *opaque;
};

/* Attach (or with NULL detach) an injector; the caller owns it. */
void blk_set_fault_inject(BlockDev *bs, BlockFaultInject *fi);

/* Image lock permissions (QEMU's bit numbers, see file_lock.c). */
enum {
    BLK_PERM_READ = 1,
    BLK_PERM_WRITE = 2,
    BLK_PERM_WRITE_UNCHANGED = 4,
    BLK_PERM_RESIZE = 8,
    BLK_PERM_ALL = 15,
};
bool blk_file_lock(BlockDev *bs, unsigned perm, unsigned shared,
                   GError **error);
void blk_file_unlock(BlockDev *bs);

/* Bytes of an image's start that probing looks at (QEMU's too). */
#define BLOCK_PROBE_SIZE 512

extern const BlockDriver block_raw_driver;
extern const BlockDriver block_qcow_driver;
extern const BlockDriver block_qcow2_driver;

/* Host file helpers: full-length pread/pwrite with a GError. */
bool blk_file_pread(BlockDev *bs, uint64_t off, void *buf, size_t len,
                    GError **error);
bool blk_file_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len,
                     GError **error);
bool blk_file_sync(BlockDev *bs, GError **error);
uint64_t blk_file_size(BlockDev *bs);
/* Open a backing file relative to the image it belongs to (read-only). */
BlockDev *blk_open_backing(BlockDev *bs, const char *backing,
                           const char *backing_fmt, GError **error);
/* Read from the backing chain, zero past its end or without one. */
bool blk_read_backing(BlockDev *bs, uint64_t off, uint8_t *buf, size_t len,
                      GError **error);
const BlockDriver *blk_find_driver(const char *name);

#define BLOCK_MAX_CHAIN 64

#endif
