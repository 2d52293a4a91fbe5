/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The translated-code cache any core can use (src/arch/codecache.h):
 * blocks enter their hash chain and mark their pages as code; a write to
 * a code page invalidates that page's blocks (and says whether the
 * running one was among them); a flush drops everything at the next
 * boundary; a full arena flushes itself.
 */
#include <glib.h>

#include "arch/codecache.h"

#define RAM (64 << 10)

typedef struct Blk {
    CodeBlock cb;
    int id;
} Blk;

static int marked;
static uint64_t last_marked;

static void on_mark(void *opaque, uint64_t page)
{
    marked++;
    last_marked = page;
}

static Blk *add(CodeCache *cc, uint64_t phys, uint64_t page2, int id)
{
    Blk *b = codecache_alloc(cc, sizeof(Blk));
    b->cb.phys = phys;
    b->cb.page2 = page2;
    b->id = id;
    codecache_insert(cc, &b->cb, (uint32_t)id);
    return b;
}

static bool in_bucket(CodeCache *cc, Blk *b)
{
    for (CodeBlock *c = codecache_bucket(cc, (uint32_t)b->id); c;
         c = c->hnext) {
        if (c == &b->cb) {
            return true;
        }
    }
    return false;
}

static void test_pages(void)
{
    MemMap *mem = memmap_new();
    uint8_t *ram = g_malloc0(RAM);
    memmap_add_ram(mem, "ram", 0, RAM, ram, 0);
    CodeCache cc;
    codecache_init(&cc, mem, 4096, 16, on_mark, NULL);
    marked = 0;
    Blk *a = add(&cc, 0x1010, CODE_NO_PAGE, 1);
    Blk *b = add(&cc, 0x1ff0, 0x2000, 2);   /* straddles into page 2 */
    Blk *c = add(&cc, 0x3000, CODE_NO_PAGE, 17); /* same bucket as a */
    g_assert_cmpint(marked, ==, 3);         /* pages 1, 2 and 3, once */
    g_assert_true(memmap_is_code(mem, 0x1000));
    g_assert_true(memmap_is_code(mem, 0x2000));
    g_assert_true(memmap_is_code(mem, 0x3000));
    g_assert_false(memmap_is_code(mem, 0x4000));
    g_assert_true(in_bucket(&cc, a) && in_bucket(&cc, b) &&
                  in_bucket(&cc, c));
    /* A write into page 2 kills b only (through its second page); the
       running block was a. */
    g_assert_false(codecache_code_write(&cc, 0x2004, 4, &a->cb));
    g_assert_false(b->cb.valid);
    g_assert_true(a->cb.valid && c->cb.valid);
    g_assert_false(in_bucket(&cc, b));
    g_assert_false(memmap_is_code(mem, 0x2000));
    /* A write across pages 0/1 kills a, the running block. */
    g_assert_true(codecache_code_write(&cc, 0xffe, 4, &a->cb));
    g_assert_false(a->cb.valid);
    g_assert_true(c->cb.valid && in_bucket(&cc, c));
    /* A write to a page without code changes nothing. */
    g_assert_false(codecache_code_write(&cc, 0x8000, 1, &c->cb));
    /* A flush: lookups miss at once, pages unmarked at the boundary. */
    codecache_flush(&cc);
    g_assert_null(codecache_bucket(&cc, 17));
    g_assert_true(memmap_is_code(mem, 0x3000));
    g_assert_true(codecache_flush_pending(&cc));
    g_assert_false(memmap_is_code(mem, 0x3000));
    g_assert_false(codecache_flush_pending(&cc));
    g_assert_cmpuint(cc.used, ==, 0);
    codecache_destroy(&cc);
    memmap_free(mem);
    g_free(ram);
}

/* A full arena flushes itself: the old blocks' pages are unmarked. */
static void test_full(void)
{
    MemMap *mem = memmap_new();
    uint8_t *ram = g_malloc0(RAM);
    memmap_add_ram(mem, "ram", 0, RAM, ram, 0);
    CodeCache cc;
    codecache_init(&cc, mem, 4 * 64, 4, NULL, NULL);
    for (int i = 0; i < 4; i++) {
        add(&cc, 0x1000 * (i + 1), CODE_NO_PAGE, i);
    }
    g_assert_true(memmap_is_code(mem, 0x1000));
    Blk *e = add(&cc, 0x8000, CODE_NO_PAGE, 5);
    g_assert_false(memmap_is_code(mem, 0x1000));
    g_assert_true(memmap_is_code(mem, 0x8000));
    g_assert_true(in_bucket(&cc, e));
    g_assert_null(codecache_bucket(&cc, 0));
    codecache_destroy(&cc);
    memmap_free(mem);
    g_free(ram);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu/codecache/pages", test_pages);
    g_test_add_func("/cpu/codecache/full", test_full);
    return g_test_run();
}
