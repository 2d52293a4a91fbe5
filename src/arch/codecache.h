/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cache of translated code any CPU core can use: blocks in an arena,
 * a hash table the core keys as it likes, and code-page tracking.
 *
 * A core's block type starts with a CodeBlock.  A page of guest physical
 * memory that holds blocks is marked in the memory map
 * (memmap_mark_code), so every write to it reaches the core's code-write
 * hook, which calls codecache_code_write: the page's blocks become
 * invalid (self-modifying code), the one executing included
 * (codecache_code_write says so, and the core leaves it after the current
 * instruction).  When a page becomes code, page_marked tells the core to
 * drop its direct write pointers to it (a TLB entry, say).
 *
 * A flush (the arena is full, the memory map changed) is deferred to the
 * next block boundary (codecache_flush / codecache_flush_pending) so the
 * executing block is never freed under the core.  Not thread-safe: one
 * CPU thread owns its cache.
 */
#ifndef MIMIC_ARCH_CODECACHE_H
#define MIMIC_ARCH_CODECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "bus/memory.h"

/* No second page. */
#define CODE_NO_PAGE (~(uint64_t)0)

typedef struct CodeBlock CodeBlock;
struct CodeBlock {
    uint64_t phys;       /* physical address of the first byte */
    uint64_t page2;      /* the second page it covers, or CODE_NO_PAGE */
    CodeBlock *hnext;    /* hash chain */
    CodeBlock *pnext[2]; /* chains of the blocks of its pages */
    uint32_t hash;       /* the core's hash of its key */
    bool valid;
};

typedef struct CodeCache {
    MemMap *mem;
    CodeBlock **hash;
    unsigned hash_size;  /* a power of two */
    GHashTable *pages;   /* physical page number -> chain head */
    uint8_t *arena;
    size_t used, size;
    bool flush_pending;
    /* Counters: flushes carried out (a JIT empties its code buffer
       when this moves), blocks invalidated by code writes. */
    unsigned flushes;
    uint64_t invalidated;
    void (*page_marked)(void *opaque, uint64_t page);
    void *opaque;
} CodeCache;

void codecache_init(CodeCache *cc, MemMap *mem, size_t arena_size,
                    unsigned hash_size,
                    void (*page_marked)(void *opaque, uint64_t page),
                    void *opaque);
void codecache_destroy(CodeCache *cc);

/* Drop every block: lookups miss at once, the memory goes at the next
   codecache_flush_pending (a block boundary). */
void codecache_flush(CodeCache *cc);
/* At a block boundary: carry out a deferred flush (true if it did). */
bool codecache_flush_pending(CodeCache *cc);

/* Room for a block of size bytes (flushing first when the arena is full:
   only at a block boundary). */
void *codecache_alloc(CodeCache *cc, size_t size);
/* Enter a block filled in by the core (phys, page2) under hash h, and
   mark its pages as code. */
void codecache_insert(CodeCache *cc, CodeBlock *b, uint32_t h);
/* The chain of hash h (follow hnext; invalidated blocks are unlinked). */
static inline CodeBlock *codecache_bucket(CodeCache *cc, uint32_t h)
{
    return cc->hash[h & (cc->hash_size - 1)];
}

/* A write to guest physical [paddr, paddr+len): invalidate the blocks of
   the pages it touches.  True if `running` was one of them. */
bool codecache_code_write(CodeCache *cc, uint64_t paddr, unsigned len,
                          const CodeBlock *running);

#endif
