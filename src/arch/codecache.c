/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The translated-code cache shared by the CPU cores (codecache.h).
 */
#include "arch/codecache.h"

#include <string.h>

void codecache_init(CodeCache *cc, MemMap *mem, size_t arena_size,
                    unsigned hash_size,
                    void (*page_marked)(void *opaque, uint64_t page),
                    void *opaque)
{
    g_assert(hash_size && !(hash_size & (hash_size - 1)));
    memset(cc, 0, sizeof(*cc));
    cc->mem = mem;
    cc->hash_size = hash_size;
    cc->hash = g_new0(CodeBlock *, hash_size);
    cc->pages = g_hash_table_new(g_direct_hash, g_direct_equal);
    cc->size = arena_size;
    cc->arena = g_malloc(arena_size);
    cc->page_marked = page_marked;
    cc->opaque = opaque;
}

void codecache_destroy(CodeCache *cc)
{
    if (cc->pages) {
        g_hash_table_destroy(cc->pages);
    }
    g_free(cc->hash);
    g_free(cc->arena);
    memset(cc, 0, sizeof(*cc));
}

static void unmark_page(gpointer key, gpointer value, gpointer opaque)
{
    CodeCache *cc = opaque;
    memmap_unmark_code(cc->mem, (uint64_t)GPOINTER_TO_SIZE(key) << 12);
}

static void flush_now(CodeCache *cc)
{
    g_hash_table_foreach(cc->pages, unmark_page, cc);
    g_hash_table_remove_all(cc->pages);
    memset(cc->hash, 0, cc->hash_size * sizeof(*cc->hash));
    cc->used = 0;
    cc->flush_pending = false;
    cc->flushes++;
}

void codecache_flush(CodeCache *cc)
{
    memset(cc->hash, 0, cc->hash_size * sizeof(*cc->hash));
    cc->flush_pending = true;
}

bool codecache_flush_pending(CodeCache *cc)
{
    if (!cc->flush_pending) {
        return false;
    }
    flush_now(cc);
    return true;
}

void *codecache_alloc(CodeCache *cc, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    g_assert(size <= cc->size);
    if (cc->used + size > cc->size) {
        flush_now(cc);
    }
    void *p = cc->arena + cc->used;
    cc->used += size;
    return p;
}

static void mark_page(CodeCache *cc, CodeBlock *b, uint64_t page, int which)
{
    gpointer key = GSIZE_TO_POINTER(page >> 12);
    CodeBlock *head = g_hash_table_lookup(cc->pages, key);
    b->pnext[which] = head;
    g_hash_table_insert(cc->pages, key, b);
    if (!head) {
        memmap_mark_code(cc->mem, page);
        if (cc->page_marked) {
            cc->page_marked(cc->opaque, page);
        }
    }
}

void codecache_insert(CodeCache *cc, CodeBlock *b, uint32_t h)
{
    CodeBlock **bucket = &cc->hash[h & (cc->hash_size - 1)];
    uint64_t page = b->phys & ~(uint64_t)0xfff;
    b->valid = true;
    b->hash = h;
    b->hnext = *bucket;
    *bucket = b;
    b->pnext[0] = b->pnext[1] = NULL;
    mark_page(cc, b, page, 0);
    if (b->page2 != CODE_NO_PAGE && b->page2 != page) {
        mark_page(cc, b, b->page2, 1);
    }
}

static void unlink_hash(CodeCache *cc, CodeBlock *b)
{
    CodeBlock **pp = &cc->hash[b->hash & (cc->hash_size - 1)];
    while (*pp) {
        if (*pp == b) {
            *pp = b->hnext;
            return;
        }
        pp = &(*pp)->hnext;
    }
}

static bool invalidate_page(CodeCache *cc, uint64_t page,
                            const CodeBlock *running)
{
    gpointer key = GSIZE_TO_POINTER(page >> 12);
    CodeBlock *b = g_hash_table_lookup(cc->pages, key);
    bool hit = false;
    if (!b) {
        return false;
    }
    g_hash_table_remove(cc->pages, key);
    memmap_unmark_code(cc->mem, page);
    while (b) {
        int which = (b->phys & ~(uint64_t)0xfff) == page ? 0 : 1;
        CodeBlock *next = b->pnext[which];
        if (b->valid) {
            b->valid = false;
            cc->invalidated++;
            unlink_hash(cc, b);
            hit |= b == running;
        }
        b = next;
    }
    return hit;
}

bool codecache_code_write(CodeCache *cc, uint64_t paddr, unsigned len,
                          const CodeBlock *running)
{
    uint64_t first = paddr & ~(uint64_t)0xfff;
    uint64_t last = (paddr + len - 1) & ~(uint64_t)0xfff;
    bool hit = invalidate_page(cc, first, running);
    if (last != first) {
        hit |= invalidate_page(cc, last, running);
    }
    return hit;
}
