/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal state of the qcow2 driver (QEMU docs/interop/qcow2.txt),
 * shared by qcow2.c (header, open, create, read/write), qcow2_cluster.c
 * (L1/L2 mapping), qcow2_refcount.c (allocation), qcow2_check.c and
 * qcow2_snapshot.c.
 */
#ifndef MIMIC_IMAGES_QCOW2_H
#define MIMIC_IMAGES_QCOW2_H

#include "images/block_int.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_OFLAG_COPIED (1ULL << 63)
#define QCOW2_OFLAG_COMPRESSED (1ULL << 62)
#define QCOW2_OFLAG_ZERO 1ULL
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ULL
#define QCOW2_L1E_RESERVED 0x7f000000000001ffULL

#define QCOW2_INCOMPAT_DIRTY (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ULL << 4)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ULL << 0)

#define QCOW2_EXT_END 0
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u

/* Limits against hostile images (same magnitudes as QEMU's). */
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_RT_BYTES (8u << 20)
#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_L2_CACHE 32
#define QCOW2_OVL_CACHE 1024  /* clusters known clear of metadata */

/* Header field offsets. */
#define QH_BACKING_OFFSET 8
#define QH_BACKING_SIZE 16
#define QH_CLUSTER_BITS 20
#define QH_SIZE 24
#define QH_CRYPT 32
#define QH_L1_SIZE 36
#define QH_L1_OFFSET 40
#define QH_RT_OFFSET 48
#define QH_RT_CLUSTERS 56
#define QH_NB_SNAPSHOTS 60
#define QH_SNAPSHOTS_OFFSET 64
#define QH_INCOMPAT 72
#define QH_COMPAT 80
#define QH_AUTOCLEAR 88
#define QH_REFCOUNT_ORDER 96
#define QH_HEADER_LENGTH 100

typedef struct Qcow2Snapshot {
    uint64_t l1_offset;
    uint32_t l1_size;
    char *id;
    char *name;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint32_t vm_state_size;
    uint64_t disk_size;      /* from extra data, or the image size */
    uint8_t *extra;          /* extra data preserved as is */
    uint32_t extra_size;
} Qcow2Snapshot;

typedef struct Qcow2L2Cache {
    uint64_t offset;         /* 0 = empty slot */
    uint64_t lru;
    uint8_t *data;
} Qcow2L2Cache;

typedef struct Qcow2 {
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint32_t l2_bits;        /* log2 of entries per L2 table */
    uint64_t l2_entries;
    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t *l1;
    uint64_t rt_offset;
    uint32_t rt_clusters;
    uint64_t rt_entries;
    uint64_t *rt;
    uint32_t refcount_order;
    uint32_t refcount_bits;
    uint64_t rb_entries;     /* refcounts per refcount block */
    uint64_t refcount_max;
    uint64_t incompat, compat, autoclear;
    uint32_t header_length;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t snapshots_size; /* bytes of the snapshot table */
    Qcow2Snapshot *snapshots;
    uint32_t snap_incomplete; /* v3 entries without 16 bytes extra data */
    uint32_t snap_fixes;     /* table damage dropped by a repair open */
    char *backing_file;
    char *backing_format;
    uint64_t free_hint;      /* lowest possibly free cluster index */
    uint64_t file_end;       /* bytes: end of all allocated clusters */
    Qcow2L2Cache l2c[QCOW2_L2_CACHE];
    uint64_t lru_clock;
    uint8_t *rb_cache;
    uint64_t rb_cache_off;
    /* Cluster offsets that passed qcow2_check_overlap, direct-mapped by
       cluster index; emptied whenever metadata moves or grows (any
       allocation, L1/refcount-table entry write, L2 cache drop). */
    uint64_t ovl_ok[QCOW2_OVL_CACHE];
    uint8_t *cbuf;           /* a cluster of scratch */
    uint8_t *zbuf;           /* compressed-data scratch (2 clusters) */
    bool corrupt;
    bool dirty_set;          /* lazy refcounts: dirty bit is on disk */
    bool dirty_op;           /* dirty bit set around a tree update */
    bool needs_repair;       /* such an update failed, not repaired yet */
    /* Lazy refcounts: refcount blocks changed in memory only while the
       dirty bit is set (offset -> cluster), written by
       qcow2_refcount_writeback() on flush and close. */
    GHashTable *rb_dirty;
} Qcow2;

/* qcow2.c */
bool qcow2_signal_corruption(BlockDev *bs, GError **error, const char *fmt,
                             ...) G_GNUC_PRINTF(3, 4);
bool qcow2_write_header_field(BlockDev *bs, uint64_t off, const void *buf,
                              size_t len, GError **error);
/* Around metadata updates that cannot keep the image consistent at every
 * step (v3): the dirty bit on disk first; cleared after a sync. */
bool qcow2_mark_dirty(BlockDev *bs, GError **error);
bool qcow2_mark_clean(BlockDev *bs, GError **error);
/* After such an update failed: repair now if the image can be written
 * (the dirty bit is cleared then); if not, flush and close try again and
 * the dirty bit leaves it to the next open. */
bool qcow2_recover(BlockDev *bs);

/* qcow2_refcount.c */
bool qcow2_refcount_load(BlockDev *bs, GError **error);
bool qcow2_refcount_writeback(BlockDev *bs, GError **error);
/* Store refcount v at index idx of a refcount block in memory. */
void qcow2_rb_store(Qcow2 *s, uint8_t *rb, uint64_t idx, uint64_t v);
void qcow2_refcount_dirty_free(Qcow2 *s);
bool qcow2_get_refcount(BlockDev *bs, uint64_t cluster, uint64_t *rc,
                        GError **error);
bool qcow2_update_refcount(BlockDev *bs, uint64_t cluster, int64_t delta,
                           GError **error);
bool qcow2_set_refcount(BlockDev *bs, uint64_t cluster, uint64_t value,
                        GError **error);
/* Allocate n contiguous clusters with refcount 1; returns the byte offset
 * or 0 on error. */
uint64_t qcow2_alloc_clusters(BlockDev *bs, uint64_t n, GError **error);
bool qcow2_free_clusters(BlockDev *bs, uint64_t offset, uint64_t bytes,
                         GError **error);
/* Is [off, off+len) clear of the image's metadata (header, L1, refcount
 * table and blocks, L2 tables of the active L1, snapshot table)? */
bool qcow2_check_overlap(BlockDev *bs, uint64_t off, uint64_t len,
                         uint64_t ignore_off, GError **error);

/* qcow2_cluster.c */
bool qcow2_get_l2_entry(BlockDev *bs, uint64_t vcluster, uint64_t *entry,
                        GError **error);
bool qcow2_read_cluster_data(BlockDev *bs, uint64_t vcluster,
                             uint64_t entry, uint8_t *buf, GError **error);
bool qcow2_write_clusterwise(BlockDev *bs, uint64_t off, const uint8_t *buf,
                             size_t len, GError **error);
bool qcow2_prealloc_cluster(BlockDev *bs, uint64_t vcluster, GError **error);
bool qcow2_write_compressed(BlockDev *bs, uint64_t vcluster,
                            const uint8_t *buf, GError **error);
bool qcow2_discard_range(BlockDev *bs, uint64_t off, uint64_t len,
                         bool zero, GError **error);
uint8_t *qcow2_l2_load(BlockDev *bs, uint64_t l2_offset, GError **error);
void qcow2_l2_cache_drop(Qcow2 *s);
void qcow2_overlap_cache_drop(Qcow2 *s);
bool qcow2_decompress(Qcow2 *s, BlockDev *bs, uint64_t entry, uint8_t *out,
                      GError **error);
void qcow2_compressed_range(Qcow2 *s, uint64_t entry, uint64_t *off,
                            uint64_t *len);
bool qcow2_grow_l1(BlockDev *bs, uint64_t min_size, GError **error);
bool qcow2_write_l1_entry(BlockDev *bs, uint32_t idx, GError **error);

/* qcow2_check.c */
bool qcow2_check(BlockDev *bs, BlockCheckFix fix, BlockCheckResult *res,
                 GError **error);

/* qcow2_snapshot.c */
bool qcow2_snapshots_load(BlockDev *bs, GError **error);
/* Rewrite the snapshot table from s->snapshots (check -r all). */
bool qcow2_snapshots_rewrite(BlockDev *bs, GError **error);
void qcow2_snapshots_free(Qcow2 *s);
bool qcow2_snapshot_create(BlockDev *bs, const char *name,
                           uint64_t vm_clock_nsec, uint64_t vm_state_size,
                           GError **error);
bool qcow2_snapshot_apply(BlockDev *bs, const char *name, GError **error);
bool qcow2_snapshot_delete(BlockDev *bs, const char *name, GError **error);
int qcow2_snapshot_list(BlockDev *bs, BlockSnapshotInfo **list,
                        GError **error);
bool qcow2_vmstate_rw(BlockDev *bs, uint64_t off, uint8_t *buf, size_t len,
                      bool write, GError **error);

static inline Qcow2 *qcow2_state(BlockDev *bs)
{
    return bs->opaque;
}

#endif
