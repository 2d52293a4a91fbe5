/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The physical address map: RAM, ROM, MMIO regions and aliases.
 *
 * Regions are page-granular (4 KiB).  The map keeps a two-level page table
 * (40-bit physical addresses: PAE's 36 bits and the 40 that x86-64
 * CPUs such as QEMU's qemu64 report; the first level is 2 MiB of pointers,
 * untouched until used) where each page says where reads
 * and where writes go: a host pointer for RAM-backed pages, or a region with
 * callbacks.  Reads and writes are separate so that the i440FX PAM registers
 * can route them differently (read ROM / write RAM while SeaBIOS shadows
 * itself).  The CPU caches these host pointers in its TLB and registers a
 * listener to flush it whenever the map changes.
 *
 * Pages that hold translated code are marked in a byte map; any write that
 * reaches such a page through memmap_write() calls the code-write hook so
 * the translation cache can drop the blocks (self-modifying code, DMA into
 * code).  The CPU's own fast path checks the same byte map.
 *
 * Accesses outside every region read as all ones and writes are dropped,
 * as on a PC's open bus.  No access ever leaves the host buffers that
 * regions declare.
 */
#ifndef MIMIC_BUS_MEMORY_H
#define MIMIC_BUS_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define MEM_PAGE_BITS 12
#define MEM_PAGE_SIZE (1u << MEM_PAGE_BITS)
#define MEM_PAGE_MASK (~(uint64_t)(MEM_PAGE_SIZE - 1))
#define MEM_PHYS_BITS 40
#define MEM_PHYS_LIMIT (1ull << MEM_PHYS_BITS)

typedef struct MemMap MemMap;
typedef struct MemRegion MemRegion;

/*
 * MMIO callbacks.  The map guarantees offset < region size and
 * min <= size <= max (wider accesses are split, narrower ones widened and
 * the bytes extracted), with size in {1, 2, 4, 8}.
 */
typedef struct MemOps {
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value,
                  unsigned size);
    uint8_t min, max; /* 0 means 1 and 4 */
    bool big_endian;  /* byte lanes when accesses are split or widened */
} MemOps;

typedef enum {
    MEM_REGION_RAM,   /* read/write host memory */
    MEM_REGION_ROM,   /* read host memory, writes dropped */
    MEM_REGION_MMIO,  /* callbacks */
    MEM_REGION_ALIAS, /* a window onto part of another region */
} MemRegionKind;

/* Routing of a region that can be switched at run time (PAM, BAR on/off). */
typedef enum {
    MEM_ACCESS_NONE = 0, /* region invisible: lower priority shows */
    MEM_ACCESS_READ = 1,
    MEM_ACCESS_WRITE = 2,
    MEM_ACCESS_RW = 3,
} MemAccess;

MemMap *memmap_new(void);
/* The machine's byte order for the values of memmap_read_sized() and
 * memmap_write_sized() in RAM (little-endian unless a board says so;
 * MMIO regions declare their own in MemOps). */
void memmap_set_big_endian(MemMap *map, bool big_endian);
bool memmap_is_big_endian(const MemMap *map);
void memmap_free(MemMap *map);

/*
 * Add a region.  base and size must be page aligned (a board-construction
 * error otherwise, reported through g_error()).  Higher priority wins where
 * regions overlap.  host must stay valid for the region's lifetime.
 */
MemRegion *memmap_add_ram(MemMap *map, const char *name, uint64_t base,
                          uint64_t size, uint8_t *host, int priority);
MemRegion *memmap_add_rom(MemMap *map, const char *name, uint64_t base,
                          uint64_t size, uint8_t *host, int priority);
MemRegion *memmap_add_mmio(MemMap *map, const char *name, uint64_t base,
                           uint64_t size, const MemOps *ops, void *opaque,
                           int priority);
MemRegion *memmap_add_alias(MemMap *map, const char *name, uint64_t base,
                            uint64_t size, MemRegion *target,
                            uint64_t target_offset, int priority);
void memmap_remove(MemMap *map, MemRegion *mr);
/* Move a region (PCI BAR programming); size stays. */
void memmap_move(MemMap *map, MemRegion *mr, uint64_t new_base);
/* Which accesses the region claims (RW by default). */
void memmap_set_access(MemMap *map, MemRegion *mr, MemAccess access);

/* Every region of the map, in address order (the fuzzers). */
typedef void (*MemRegionFn)(void *opaque, const MemRegion *mr);
void memmap_foreach(MemMap *map, MemRegionFn fn, void *opaque);
MemRegionKind memregion_kind(const MemRegion *mr);
bool memregion_enabled(const MemRegion *mr);
uint64_t memregion_base(const MemRegion *mr);
uint64_t memregion_size(const MemRegion *mr);
const char *memregion_name(const MemRegion *mr);
uint8_t *memregion_host(const MemRegion *mr); /* NULL for MMIO */

/* Listener told after the map's layout changed in [start, start+len). */
typedef void (*MemMapListener)(void *opaque, uint64_t start, uint64_t len);
void memmap_add_listener(MemMap *map, MemMapListener fn, void *opaque);
/* Bumped at every layout change. */
uint64_t memmap_generation(const MemMap *map);

/*
 * Page lookup for the CPU's TLB fill: host pointer of the page holding
 * paddr for reads / for writes, or NULL when the access must take the slow
 * path (MMIO, ROM writes, unassigned, or a code page for writes).
 */
uint8_t *memmap_page_read_ptr(MemMap *map, uint64_t paddr);
uint8_t *memmap_page_write_ptr(MemMap *map, uint64_t paddr);

/* Slow-path accessors; size 1, 2, 4 or 8, little-endian, any alignment. */
uint64_t memmap_read_sized(MemMap *map, uint64_t paddr, unsigned size);
void memmap_write_sized(MemMap *map, uint64_t paddr, uint64_t value,
                        unsigned size);
/* Bulk copies (DMA, loaders, the monitor); bounds-checked, MMIO-safe. */
void memmap_read(MemMap *map, uint64_t paddr, void *buf, size_t len);
void memmap_write(MemMap *map, uint64_t paddr, const void *buf, size_t len);
/* Writes into ROM too (firmware loading by the board). */
void memmap_write_rom(MemMap *map, uint64_t paddr, const void *buf,
                      size_t len);

/*
 * Translated-code tracking.  code_write is called with the physical range
 * written whenever a write lands on a page marked as holding code.
 */
typedef void (*MemCodeWriteFn)(void *opaque, uint64_t paddr, unsigned len);
void memmap_set_code_write_hook(MemMap *map, MemCodeWriteFn fn, void *opaque);
void memmap_mark_code(MemMap *map, uint64_t paddr);
void memmap_unmark_code(MemMap *map, uint64_t paddr);
bool memmap_is_code(const MemMap *map, uint64_t paddr);

/* "info mtree" */
void memmap_dump(MemMap *map, GString *out);

#endif
