/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The physical address map (see memory.h for the model).
 *
 * Implementation: a list of regions and a two-level page table derived
 * from it.  The first level is indexed by paddr >> 22 and points to blocks
 * of 1024 page entries, allocated when a region first covers them.  Each
 * entry records, separately for reads and writes, either a host pointer to
 * the page (RAM/ROM) or the region whose callbacks serve it.  The table is
 * recomputed over a range whenever a region in that range is added,
 * removed, moved or has its access changed; the CPU is told through the
 * listeners so that it can flush its TLB.
 */
#include "bus/memory.h"

#include "bus/access.h"

#include <string.h>

#include "bus/log.h"

#define L2_BITS 10
#define L2_SIZE (1u << L2_BITS)
#define L1_SIZE (1u << (MEM_PHYS_BITS - MEM_PAGE_BITS - L2_BITS))

struct MemRegion {
    MemRegionKind kind;
    char *name;
    uint64_t base, size;
    uint8_t *host;
    const MemOps *ops;
    void *opaque;
    MemRegion *target;
    uint64_t target_offset;
    int priority;
    MemAccess access;
    unsigned seq; /* insertion order: later wins at equal priority */
};

typedef struct PageEntry {
    uint8_t *rd, *wr;       /* host page base, or NULL for the slow path */
    MemRegion *rmr, *wmr;   /* region serving the slow path (or NULL) */
    uint64_t roff, woff;    /* offset of this page within rmr / wmr */
    uint8_t code;           /* page holds translated code */
} PageEntry;

typedef struct Listener {
    MemMapListener fn;
    void *opaque;
} Listener;

struct MemMap {
    PageEntry *l1[L1_SIZE];
    GPtrArray *regions;
    GArray *listeners;
    uint64_t generation;
    unsigned next_seq;
    MemCodeWriteFn code_write;
    void *code_opaque;
    bool big_endian;   /* the machine's byte order (RAM values, MMIO) */
};

static const PageEntry unassigned_page;

MemMap *memmap_new(void)
{
    MemMap *map = g_new0(MemMap, 1);
    map->regions = g_ptr_array_new();
    map->listeners = g_array_new(FALSE, FALSE, sizeof(Listener));
    return map;
}

static void region_free(MemRegion *mr)
{
    g_free(mr->name);
    g_free(mr);
}

void memmap_free(MemMap *map)
{
    if (!map) {
        return;
    }
    for (unsigned i = 0; i < L1_SIZE; i++) {
        g_free(map->l1[i]);
    }
    for (unsigned i = 0; i < map->regions->len; i++) {
        region_free(g_ptr_array_index(map->regions, i));
    }
    g_ptr_array_free(map->regions, TRUE);
    g_array_free(map->listeners, TRUE);
    g_free(map);
}

static inline const PageEntry *page_lookup(const MemMap *map, uint64_t paddr)
{
    if (G_UNLIKELY(paddr >= MEM_PHYS_LIMIT)) {
        return &unassigned_page;
    }
    uint64_t pn = paddr >> MEM_PAGE_BITS;
    const PageEntry *blk = map->l1[pn >> L2_BITS];
    return blk ? &blk[pn & (L2_SIZE - 1)] : &unassigned_page;
}

static PageEntry *page_lookup_alloc(MemMap *map, uint64_t pn)
{
    PageEntry **blk = &map->l1[pn >> L2_BITS];
    if (!*blk) {
        *blk = g_new0(PageEntry, L2_SIZE);
    }
    return &(*blk)[pn & (L2_SIZE - 1)];
}

/* Follow aliases to a concrete region; *off is adjusted. */
static MemRegion *resolve(MemRegion *mr, uint64_t *off)
{
    int depth = 0;
    while (mr->kind == MEM_REGION_ALIAS && depth++ < 8) {
        *off += mr->target_offset;
        mr = mr->target;
    }
    if (*off >= mr->size) {
        return NULL;
    }
    return mr;
}

static bool covers(const MemRegion *mr, uint64_t paddr)
{
    return paddr >= mr->base && paddr - mr->base < mr->size;
}

static bool better(const MemRegion *a, const MemRegion *b)
{
    if (!b) {
        return true;
    }
    if (a->priority != b->priority) {
        return a->priority > b->priority;
    }
    return a->seq > b->seq;
}

static void fill_side(MemRegion *top, uint64_t paddr, bool write,
                      uint8_t **host, MemRegion **mr_out, uint64_t *off_out)
{
    *host = NULL;
    *mr_out = NULL;
    *off_out = 0;
    if (!top) {
        return;
    }
    uint64_t off = paddr - top->base;
    MemRegion *mr = resolve(top, &off);
    if (!mr) {
        return;
    }
    *mr_out = mr;
    *off_out = off;
    if (mr->kind == MEM_REGION_RAM ||
        (mr->kind == MEM_REGION_ROM && !write)) {
        *host = mr->host + off;
    }
}

static void rebuild(MemMap *map, uint64_t start, uint64_t len)
{
    uint64_t end = start + len;
    if (end > MEM_PHYS_LIMIT) {
        end = MEM_PHYS_LIMIT;
    }
    /* Only the regions that meet the range can win one of its pages. */
    g_autoptr(GPtrArray) near = g_ptr_array_new();
    for (unsigned i = 0; i < map->regions->len; i++) {
        MemRegion *mr = g_ptr_array_index(map->regions, i);
        if (mr->base < end && mr->base + mr->size > (start & MEM_PAGE_MASK)) {
            g_ptr_array_add(near, mr);
        }
    }
    for (uint64_t a = start & MEM_PAGE_MASK; a < end; a += MEM_PAGE_SIZE) {
        MemRegion *rtop = NULL, *wtop = NULL;
        for (unsigned i = 0; i < near->len; i++) {
            MemRegion *mr = g_ptr_array_index(near, i);
            if (!covers(mr, a)) {
                continue;
            }
            if ((mr->access & MEM_ACCESS_READ) && better(mr, rtop)) {
                rtop = mr;
            }
            if ((mr->access & MEM_ACCESS_WRITE) && better(mr, wtop)) {
                wtop = mr;
            }
        }
        uint64_t pn = a >> MEM_PAGE_BITS;
        if (!rtop && !wtop && !map->l1[pn >> L2_BITS]) {
            continue;
        }
        PageEntry *pe = page_lookup_alloc(map, pn);
        fill_side(rtop, a, false, &pe->rd, &pe->rmr, &pe->roff);
        fill_side(wtop, a, true, &pe->wr, &pe->wmr, &pe->woff);
    }
    map->generation++;
    for (unsigned i = 0; i < map->listeners->len; i++) {
        Listener *l = &g_array_index(map->listeners, Listener, i);
        l->fn(l->opaque, start, len);
    }
}

static MemRegion *add_region(MemMap *map, MemRegionKind kind,
                             const char *name, uint64_t base, uint64_t size,
                             int priority)
{
    if ((base | size) & (MEM_PAGE_SIZE - 1) || size == 0 ||
        base + size > MEM_PHYS_LIMIT || base + size < base) {
        g_error("memory region %s [0x%" G_GINT64_MODIFIER "x, +0x%"
                G_GINT64_MODIFIER "x) is not page aligned or out of range",
                name, base, size);
    }
    MemRegion *mr = g_new0(MemRegion, 1);
    mr->kind = kind;
    mr->name = g_strdup(name);
    mr->base = base;
    mr->size = size;
    mr->priority = priority;
    mr->access = MEM_ACCESS_RW;
    mr->seq = map->next_seq++;
    return mr;
}

static MemRegion *commit_region(MemMap *map, MemRegion *mr)
{
    g_ptr_array_add(map->regions, mr);
    rebuild(map, mr->base, mr->size);
    return mr;
}

MemRegion *memmap_add_ram(MemMap *map, const char *name, uint64_t base,
                          uint64_t size, uint8_t *host, int priority)
{
    MemRegion *mr = add_region(map, MEM_REGION_RAM, name, base, size,
                               priority);
    mr->host = host;
    return commit_region(map, mr);
}

MemRegion *memmap_add_rom(MemMap *map, const char *name, uint64_t base,
                          uint64_t size, uint8_t *host, int priority)
{
    MemRegion *mr = add_region(map, MEM_REGION_ROM, name, base, size,
                               priority);
    mr->host = host;
    return commit_region(map, mr);
}

MemRegion *memmap_add_mmio(MemMap *map, const char *name, uint64_t base,
                           uint64_t size, const MemOps *ops, void *opaque,
                           int priority)
{
    MemRegion *mr = add_region(map, MEM_REGION_MMIO, name, base, size,
                               priority);
    mr->ops = ops;
    mr->opaque = opaque;
    return commit_region(map, mr);
}

MemRegion *memmap_add_alias(MemMap *map, const char *name, uint64_t base,
                            uint64_t size, MemRegion *target,
                            uint64_t target_offset, int priority)
{
    MemRegion *mr = add_region(map, MEM_REGION_ALIAS, name, base, size,
                               priority);
    mr->target = target;
    mr->target_offset = target_offset;
    return commit_region(map, mr);
}

void memmap_remove(MemMap *map, MemRegion *mr)
{
    if (g_ptr_array_remove(map->regions, mr)) {
        uint64_t base = mr->base, size = mr->size;
        /* Aliases pointing at mr would dangle: drop them too. */
        for (unsigned i = 0; i < map->regions->len;) {
            MemRegion *a = g_ptr_array_index(map->regions, i);
            if (a->kind == MEM_REGION_ALIAS && a->target == mr) {
                g_ptr_array_remove_index(map->regions, i);
                rebuild(map, a->base, a->size);
                region_free(a);
            } else {
                i++;
            }
        }
        rebuild(map, base, size);
        region_free(mr);
    }
}

void memmap_move(MemMap *map, MemRegion *mr, uint64_t new_base)
{
    if (new_base == mr->base) {
        return;
    }
    if ((new_base & (MEM_PAGE_SIZE - 1)) ||
        new_base + mr->size > MEM_PHYS_LIMIT || new_base + mr->size < new_base) {
        /* A guest-programmed BAR out of range: unmap instead of crashing. */
        mimic_log_guest("memory: region %s moved out of range to 0x%"
                        G_GINT64_MODIFIER "x", mr->name, new_base);
        memmap_set_access(map, mr, MEM_ACCESS_NONE);
        return;
    }
    uint64_t old = mr->base;
    mr->base = new_base;
    rebuild(map, old, mr->size);
    rebuild(map, new_base, mr->size);
}

void memmap_set_access(MemMap *map, MemRegion *mr, MemAccess access)
{
    if (mr->access != access) {
        mr->access = access;
        rebuild(map, mr->base, mr->size);
    }
}

uint64_t memregion_base(const MemRegion *mr)
{
    return mr->base;
}

uint64_t memregion_size(const MemRegion *mr)
{
    return mr->size;
}

const char *memregion_name(const MemRegion *mr)
{
    return mr->name;
}

uint8_t *memregion_host(const MemRegion *mr)
{
    return mr->host;
}

void memmap_add_listener(MemMap *map, MemMapListener fn, void *opaque)
{
    Listener l = { fn, opaque };
    g_array_append_val(map->listeners, l);
}

uint64_t memmap_generation(const MemMap *map)
{
    return map->generation;
}

uint8_t *memmap_page_read_ptr(MemMap *map, uint64_t paddr)
{
    return page_lookup(map, paddr)->rd;
}

uint8_t *memmap_page_write_ptr(MemMap *map, uint64_t paddr)
{
    const PageEntry *pe = page_lookup(map, paddr);
    return pe->code ? NULL : pe->wr;
}

/* A value in RAM, in the machine's byte order. */
static inline uint64_t load_val(const MemMap *map, const uint8_t *p,
                                unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned lane = map->big_endian ? size - 1 - i : i;
        v |= (uint64_t)p[i] << (8 * lane);
    }
    return v;
}

static inline void store_val(const MemMap *map, uint8_t *p, uint64_t v,
                             unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        unsigned lane = map->big_endian ? size - 1 - i : i;
        p[i] = v >> (8 * lane);
    }
}

static unsigned ops_min(const MemOps *ops)
{
    return ops->min ? ops->min : 1;
}

static unsigned ops_max(const MemOps *ops)
{
    return ops->max ? ops->max : 4;
}

/* An MMIO access, fitted to the region's declared sizes (bus/access.c);
   bytes past the region's end read as all ones, writes to them vanish. */
static BusAccess mmio_access(const MemRegion *mr)
{
    return (BusAccess){
        .read = mr->ops->read, .write = mr->ops->write, .ctx = mr->opaque,
        .len = mr->size, .min = ops_min(mr->ops), .max = ops_max(mr->ops),
        .big_endian = mr->ops->big_endian,
    };
}

static uint64_t mmio_read(MemRegion *mr, uint64_t off, unsigned size)
{
    BusAccess a = mmio_access(mr);
    return bus_access_read(&a, off, size);
}

static void mmio_write(MemRegion *mr, uint64_t off, uint64_t val,
                       unsigned size)
{
    BusAccess a = mmio_access(mr);
    bus_access_write(&a, off, val, size);
}

uint64_t memmap_read_sized(MemMap *map, uint64_t paddr, unsigned size)
{
    unsigned in_page = MEM_PAGE_SIZE - (paddr & (MEM_PAGE_SIZE - 1));
    if (size > in_page) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            v |= memmap_read_sized(map, paddr + i, 1) << (8 * i);
        }
        return v;
    }
    const PageEntry *pe = page_lookup(map, paddr);
    uint64_t pofs = paddr & (MEM_PAGE_SIZE - 1);
    if (pe->rd) {
        return load_val(map, pe->rd + pofs, size);
    }
    if (pe->rmr && pe->rmr->kind == MEM_REGION_MMIO) {
        return mmio_read(pe->rmr, pe->roff + pofs, size);
    }
    return bus_size_mask(size);
}

static void code_check(MemMap *map, const PageEntry *pe, uint64_t paddr,
                       unsigned len)
{
    if (pe->code && map->code_write) {
        map->code_write(map->code_opaque, paddr, len);
    }
}

void memmap_write_sized(MemMap *map, uint64_t paddr, uint64_t value,
                        unsigned size)
{
    unsigned in_page = MEM_PAGE_SIZE - (paddr & (MEM_PAGE_SIZE - 1));
    if (size > in_page) {
        for (unsigned i = 0; i < size; i++) {
            memmap_write_sized(map, paddr + i, value >> (8 * i), 1);
        }
        return;
    }
    const PageEntry *pe = page_lookup(map, paddr);
    uint64_t pofs = paddr & (MEM_PAGE_SIZE - 1);
    if (pe->wr) {
        store_val(map, pe->wr + pofs, value, size);
        code_check(map, pe, paddr, size);
        return;
    }
    if (pe->wmr && pe->wmr->kind == MEM_REGION_MMIO) {
        mmio_write(pe->wmr, pe->woff + pofs, value, size);
    }
}

void memmap_read(MemMap *map, uint64_t paddr, void *buf, size_t len)
{
    uint8_t *out = buf;
    while (len) {
        uint64_t pofs = paddr & (MEM_PAGE_SIZE - 1);
        size_t chunk = MIN(len, MEM_PAGE_SIZE - pofs);
        const PageEntry *pe = page_lookup(map, paddr);
        if (pe->rd) {
            memcpy(out, pe->rd + pofs, chunk);
        } else if (!pe->rmr || pe->rmr->kind != MEM_REGION_MMIO) {
            memset(out, 0xff, chunk); /* open bus */
        } else {
            for (size_t i = 0; i < chunk; i++) {
                out[i] = memmap_read_sized(map, paddr + i, 1);
            }
        }
        out += chunk;
        paddr += chunk;
        len -= chunk;
    }
}

void memmap_write(MemMap *map, uint64_t paddr, const void *buf, size_t len)
{
    const uint8_t *in = buf;
    while (len) {
        uint64_t pofs = paddr & (MEM_PAGE_SIZE - 1);
        size_t chunk = MIN(len, MEM_PAGE_SIZE - pofs);
        const PageEntry *pe = page_lookup(map, paddr);
        if (pe->wr) {
            memcpy(pe->wr + pofs, in, chunk);
            code_check(map, pe, paddr, chunk);
        } else if (pe->wmr && pe->wmr->kind == MEM_REGION_MMIO) {
            for (size_t i = 0; i < chunk; i++) {
                memmap_write_sized(map, paddr + i, in[i], 1);
            }
        } /* else: ROM or nothing there, the write is dropped */
        in += chunk;
        paddr += chunk;
        len -= chunk;
    }
}

void memmap_write_rom(MemMap *map, uint64_t paddr, const void *buf,
                      size_t len)
{
    const uint8_t *in = buf;
    while (len) {
        uint64_t pofs = paddr & (MEM_PAGE_SIZE - 1);
        size_t chunk = MIN(len, MEM_PAGE_SIZE - pofs);
        const PageEntry *pe = page_lookup(map, paddr);
        if (pe->rmr && pe->rmr->host) {
            memcpy(pe->rmr->host + pe->roff + pofs, in, chunk);
            code_check(map, pe, paddr, chunk);
        }
        in += chunk;
        paddr += chunk;
        len -= chunk;
    }
}

void memmap_set_code_write_hook(MemMap *map, MemCodeWriteFn fn, void *opaque)
{
    map->code_write = fn;
    map->code_opaque = opaque;
}

void memmap_mark_code(MemMap *map, uint64_t paddr)
{
    if (paddr < MEM_PHYS_LIMIT) {
        page_lookup_alloc(map, paddr >> MEM_PAGE_BITS)->code = 1;
    }
}

void memmap_unmark_code(MemMap *map, uint64_t paddr)
{
    if (paddr < MEM_PHYS_LIMIT && map->l1[paddr >> (MEM_PAGE_BITS + L2_BITS)]) {
        page_lookup_alloc(map, paddr >> MEM_PAGE_BITS)->code = 0;
    }
}

bool memmap_is_code(const MemMap *map, uint64_t paddr)
{
    return page_lookup(map, paddr)->code;
}

static const char *kind_name(MemRegionKind k)
{
    switch (k) {
    case MEM_REGION_RAM:
        return "ram";
    case MEM_REGION_ROM:
        return "rom";
    case MEM_REGION_MMIO:
        return "i/o";
    case MEM_REGION_ALIAS:
        return "alias";
    }
    return "?";
}

static gint region_cmp(gconstpointer a, gconstpointer b)
{
    const MemRegion *x = *(MemRegion *const *)a, *y = *(MemRegion *const *)b;
    if (x->base != y->base) {
        return x->base < y->base ? -1 : 1;
    }
    return y->priority - x->priority;
}

void memmap_foreach(MemMap *map, MemRegionFn fn, void *opaque)
{
    GPtrArray *sorted = g_ptr_array_copy(map->regions, NULL, NULL);
    g_ptr_array_sort(sorted, region_cmp);
    for (unsigned i = 0; i < sorted->len; i++) {
        fn(opaque, g_ptr_array_index(sorted, i));
    }
    g_ptr_array_free(sorted, TRUE);
}

void memmap_set_big_endian(MemMap *map, bool big_endian)
{
    map->big_endian = big_endian;
}

bool memmap_is_big_endian(const MemMap *map)
{
    return map->big_endian;
}

MemRegionKind memregion_kind(const MemRegion *mr)
{
    return mr->kind;
}

bool memregion_enabled(const MemRegion *mr)
{
    return mr->access != MEM_ACCESS_NONE;
}

void memmap_dump(MemMap *map, GString *out)
{
    GPtrArray *sorted = g_ptr_array_copy(map->regions, NULL, NULL);
    g_ptr_array_sort(sorted, region_cmp);
    g_string_append(out, "address-space: memory\n");
    for (unsigned i = 0; i < sorted->len; i++) {
        MemRegion *mr = g_ptr_array_index(sorted, i);
        g_string_append_printf(out,
            "  %016" G_GINT64_MODIFIER "x-%016" G_GINT64_MODIFIER
            "x (prio %d, %s%s): %s", mr->base, mr->base + mr->size - 1,
            mr->priority, kind_name(mr->kind),
            mr->access == MEM_ACCESS_RW ? "" :
            mr->access == MEM_ACCESS_READ ? ", read-only" :
            mr->access == MEM_ACCESS_WRITE ? ", write-only" : ", disabled",
            mr->name);
        if (mr->kind == MEM_REGION_ALIAS) {
            g_string_append_printf(out, " @%s %016" G_GINT64_MODIFIER "x",
                                   mr->target->name, mr->target_offset);
        }
        g_string_append_c(out, '\n');
    }
    g_ptr_array_free(sorted, TRUE);
}
