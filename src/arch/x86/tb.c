/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Translation blocks: guest code pre-decoded into arrays of X86Insn (a
 * handler pointer plus decoded operands), cached in a hash table keyed by
 * physical address, CS base, EIP and the decode mode.  A block ends at a
 * control transfer or mode-changing instruction, at a page boundary, or
 * after TB_MAX_INSNS instructions.
 *
 * Pages holding blocks are marked in the memory map (memmap_mark_code);
 * the TLB then never holds a direct write pointer for them, so every write
 * reaches x86_code_write(), which invalidates the page's blocks, including
 * the one executing (self-modifying code): the dispatch loop leaves a
 * block whose tb_dirty flag is set after the current instruction.
 *
 * Blocks live in an arena; a full flush (arena full, memory map change)
 * is deferred to the next block boundary so the executing block is never
 * freed under the loop.
 */
#include "arch/x86/ops.h"

#define TB_ARENA_SIZE (24u << 20)

/* No second page. */
#define TB_NO_PAGE (~(uint64_t)0)

static inline unsigned tb_hash(uint64_t phys, uint64_t ip, uint32_t flags)
{
    uint32_t h = (uint32_t)(phys ^ phys >> 32) * 0x9e3779b1u ^
                 (uint32_t)(ip ^ ip >> 32) * 0x85ebca6bu ^ flags;
    return (h ^ (h >> 15)) & (TB_HASH_SIZE - 1);
}

void x86_tb_init(X86Cpu *cpu)
{
    cpu->tb_arena_size = TB_ARENA_SIZE;
    cpu->tb_arena = g_malloc(cpu->tb_arena_size);
    cpu->tb_arena_used = 0;
    cpu->tb_pages = g_hash_table_new(g_direct_hash, g_direct_equal);
    memset(cpu->tb_hash, 0, sizeof(cpu->tb_hash));
}

static void unmark_page(gpointer key, gpointer value, gpointer opaque)
{
    X86Cpu *cpu = opaque;
    memmap_unmark_code(cpu->bus.mem,
                       (uint64_t)GPOINTER_TO_SIZE(key) << 12);
}

static void tb_flush_now(X86Cpu *cpu)
{
    g_hash_table_foreach(cpu->tb_pages, unmark_page, cpu);
    g_hash_table_remove_all(cpu->tb_pages);
    memset(cpu->tb_hash, 0, sizeof(cpu->tb_hash));
    cpu->tb_arena_used = 0;
    cpu->tb_flush_pending = false;
    cpu->tb_gen += 2;
    /* Pages lost their code mark: write tags may come back. */
}

void x86_tb_free(X86Cpu *cpu)
{
    if (cpu->tb_pages) {
        g_hash_table_destroy(cpu->tb_pages);
    }
    g_free(cpu->tb_arena);
}

void x86_tb_flush(X86Cpu *cpu)
{
    /* Invalidate lookups at once; free memory at the next boundary. */
    memset(cpu->tb_hash, 0, sizeof(cpu->tb_hash));
    cpu->tb_flush_pending = true;
    cpu->tb_gen += 2;
    cpu->tb_dirty = true;
}

static void tb_unlink_hash(X86Cpu *cpu, TBlock *tb)
{
    unsigned h = tb_hash(tb->phys, tb->ip, tb->flags);
    TBlock **pp = &cpu->tb_hash[h];
    while (*pp) {
        if (*pp == tb) {
            *pp = tb->hnext;
            return;
        }
        pp = &(*pp)->hnext;
    }
}

static void invalidate_page(X86Cpu *cpu, uint64_t page)
{
    gpointer key = GSIZE_TO_POINTER(page >> 12);
    TBlock *tb = g_hash_table_lookup(cpu->tb_pages, key);
    if (!tb) {
        return;
    }
    g_hash_table_remove(cpu->tb_pages, key);
    memmap_unmark_code(cpu->bus.mem, page);
    while (tb) {
        int which = (tb->phys & ~(uint64_t)0xfff) == page ? 0 : 1;
        TBlock *next = tb->pnext[which];
        if (tb->valid) {
            tb->valid = false;
            tb_unlink_hash(cpu, tb);
            if (tb == cpu->cur_tb) {
                cpu->tb_dirty = true;
            }
        }
        tb = next;
    }
}

void x86_code_write(void *opaque, uint64_t paddr, unsigned len)
{
    X86Cpu *cpu = opaque;
    uint64_t first = paddr & ~0xfffull;
    uint64_t last = (paddr + len - 1) & ~0xfffull;
    invalidate_page(cpu, first);
    if (last != first) {
        invalidate_page(cpu, last);
    }
}

/* Drop write tags that point at a page now holding code. */
static void tlb_protect_phys(X86Cpu *cpu, uint64_t page)
{
    for (int u = 0; u < 2; u++) {
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            if (cpu->tlb[u][i].phys == page) {
                cpu->tlb[u][i].tag_w = TLB_INVALID;
            }
        }
    }
}

static void mark_page(X86Cpu *cpu, TBlock *tb, uint64_t page, int which)
{
    gpointer key = GSIZE_TO_POINTER(page >> 12);
    TBlock *head = g_hash_table_lookup(cpu->tb_pages, key);
    tb->pnext[which] = head;
    g_hash_table_insert(cpu->tb_pages, key, tb);
    if (!head) {
        memmap_mark_code(cpu->bus.mem, page);
        tlb_protect_phys(cpu, page);
    }
}

/* Decoder fetch: byte at CS offset off.  Bytes of the block's first page
   come from its physical page; a byte beyond it is fetched with a full
   translation only for the block's first instruction (a fault belongs to
   it); otherwise the decoder is told to stop (tb_fetch_cross). */
static uint32_t tb_fetch(void *ctx, uint64_t off)
{
    X86Cpu *cpu = ctx;
    if (off > cpu->seg[S_CS].limit) {
        if (cpu->tb_fetch_first) {
            GP0(cpu);
        }
        cpu->tb_fetch_cross = true;
        return 0x90;
    }
    uint64_t lin = (cpu->seg[S_CS].base + off) & cpu->lin_mask;
    if ((lin & ~(uint64_t)0xfff) == cpu->tb_fetch_lpage) {
        return memmap_read_sized(cpu->bus.mem,
                                 cpu->tb_fetch_page | (lin & 0xfff), 1);
    }
    if (!cpu->tb_fetch_first) {
        cpu->tb_fetch_cross = true;
        return 0x90;
    }
    uint64_t pa = x86_translate(cpu, lin, 2, cpu->cpl == 3);
    cpu->tb_page2 = pa & ~(uint64_t)0xfff;
    return memmap_read_sized(cpu->bus.mem, pa, 1);
}

static TBlock *tb_translate(X86Cpu *cpu, uint64_t phys, uint32_t flags)
{
    uint32_t eip = cpu->rip;
    uint64_t cs_base = cpu->seg[S_CS].base;
    uint64_t lmask = cpu->lin_mask & ~(uint64_t)0xfff;
    cpu->tb_fetch_page = phys & ~(uint64_t)0xfff;
    cpu->tb_fetch_lpage = (cs_base + eip) & lmask;
    cpu->tb_page2 = TB_NO_PAGE;
    int n = 0;
    while (n < TB_MAX_INSNS) {
        bool end = false;
        cpu->tb_fetch_first = n == 0;
        cpu->tb_fetch_cross = false;
        X86Insn *in = &cpu->scratch[n];
        x86_decode(cpu, in, eip, cpu->code32, tb_fetch, cpu, &end);
        if (cpu->tb_fetch_cross) {
            break;
        }
        n++;
        eip += in->len;
        if (end && cpu->code32 && in->osz == 4 && cpu->tb_page2 == TB_NO_PAGE &&
            (in->fn == x86_h_jmp_rel || in->fn == x86_h_call_rel)) {
            /* A direct JMP/CALL to the same linear page: the block goes
               on at the target (its bytes are on the page the block
               already covers; the handler still checks the CS limit). */
            uint32_t target = eip + in->imm;
            if (target <= cpu->seg[S_CS].limit &&
                ((cs_base + target) & lmask) == cpu->tb_fetch_lpage) {
                eip = target;
                continue;
            }
        }
        if (!cpu->code32) {
            /* 16-bit IP wraps; keep the block from running past it. */
            if (eip > 0xffff) {
                break;
            }
        }
        if (end || cpu->tb_page2 != TB_NO_PAGE ||
            ((cs_base + eip) & lmask) != cpu->tb_fetch_lpage) {
            break;
        }
    }
    size_t size = sizeof(TBlock) + n * sizeof(X86Insn);
    size = (size + 15) & ~(size_t)15;
    if (cpu->tb_arena_used + size > cpu->tb_arena_size) {
        tb_flush_now(cpu);
    }
    TBlock *tb = (TBlock *)(cpu->tb_arena + cpu->tb_arena_used);
    cpu->tb_arena_used += size;
    tb->phys = phys;
    tb->cs_base = cs_base;
    tb->ip = cpu->rip;
    tb->flags = flags;
    tb->n = n;
    tb->valid = true;
    tb->page2 = cpu->tb_page2;
    tb->ip_next = eip;
    tb->link[0].tb = tb->link[1].tb = NULL;
    tb->pnext[0] = tb->pnext[1] = NULL;
    memcpy(tb->insn, cpu->scratch, n * sizeof(X86Insn));
    unsigned h = tb_hash(phys, tb->ip, flags);
    tb->hnext = cpu->tb_hash[h];
    cpu->tb_hash[h] = tb;
    mark_page(cpu, tb, phys & ~(uint64_t)0xfff, 0);
    if (tb->page2 != TB_NO_PAGE && tb->page2 != (phys & ~(uint64_t)0xfff)) {
        mark_page(cpu, tb, tb->page2, 1);
    }
    if (mimic_log_enabled(LOG_IN_ASM)) {
        x86_log_block(cpu, tb);
    }
    return tb;
}

TBlock *x86_tb_find(X86Cpu *cpu)
{
    if (cpu->tb_flush_pending) {
        tb_flush_now(cpu);
    }
    if (cpu->rip > cpu->seg[S_CS].limit) {
        GP0(cpu);
    }
    uint64_t lin = (cpu->seg[S_CS].base + cpu->rip) & cpu->lin_mask;
    TlbEntry *e = &cpu->tlb[cpu->tlb_user][(lin >> 12) & (TLB_SIZE - 1)];
    uint64_t phys;
    if (G_LIKELY(e->tag_r == (lin & ~(uint64_t)0xfff))) {
        phys = e->phys | (lin & 0xfff);
    } else {
        phys = x86_tlb_fill(cpu, lin, 2, cpu->tlb_user, e);
    }
    uint32_t flags = cpu->code32 | (cpu->pe << 1) |
                     (((cpu->eflags & F_VM) != 0) << 2);
    unsigned h = tb_hash(phys, cpu->rip, flags);
    for (TBlock *tb = cpu->tb_hash[h]; tb; tb = tb->hnext) {
        if (tb->phys == phys && tb->ip == cpu->rip &&
            tb->flags == flags && tb->cs_base == cpu->seg[S_CS].base) {
            if (tb->page2 != TB_NO_PAGE) {
                /* The second page's mapping may have changed. */
                uint64_t l2 = (lin & ~(uint64_t)0xfff) + 0x1000;
                uint64_t p2;
                if (!x86_translate_probe(cpu, l2, &p2) ||
                    (p2 & ~0xfffull) != tb->page2) {
                    continue;
                }
            }
            return tb;
        }
    }
    return tb_translate(cpu, phys, flags);
}
