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

static inline unsigned tb_hash(uint64_t phys, uint64_t ip, uint32_t flags)
{
    uint32_t h = (uint32_t)(phys ^ phys >> 32) * 0x9e3779b1u ^
                 (uint32_t)(ip ^ ip >> 32) * 0x85ebca6bu ^ flags;
    return h ^ (h >> 15);
}

/* Drop write tags that point at a page now holding code. */
static void tlb_protect_phys(void *opaque, uint64_t page)
{
    X86Cpu *cpu = opaque;
    for (int u = 0; u < 2; u++) {
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            if (TLB_PHYS(&cpu->tlb[u][i]) == page) {
                cpu->tlb[u][i].tag_w = TLB_INVALID;
            }
        }
    }
}

void x86_tb_init(X86Cpu *cpu)
{
    codecache_init(&cpu->code, cpu->bus.mem, TB_ARENA_SIZE, TB_HASH_SIZE,
                   tlb_protect_phys, cpu);
}

void x86_tb_free(X86Cpu *cpu)
{
    codecache_destroy(&cpu->code);
}

void x86_tb_flush(X86Cpu *cpu)
{
    /* Invalidate lookups at once; free memory at the next boundary. */
    codecache_flush(&cpu->code);
    cpu->tb_gen += 2;
    cpu->tb_dirty = true;
}

void x86_code_write(void *opaque, uint64_t paddr, unsigned len)
{
    X86Cpu *cpu = opaque;
    if (codecache_code_write(&cpu->code, paddr, len,
                             cpu->cur_tb ? &cpu->cur_tb->cb : NULL)) {
        cpu->tb_dirty = true;
    }
}

/* Decoder fetch: byte at CS offset off.  Bytes of the block's first page
   come from its physical page; a byte beyond it is fetched with a full
   translation only for the block's first instruction (a fault belongs to
   it); otherwise the decoder is told to stop (tb_fetch_cross). */
static uint32_t tb_fetch(void *ctx, uint64_t off)
{
    X86Cpu *cpu = ctx;
    if (off > cpu->seg[S_CS].limit && !cpu->code64) {
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
    uint64_t eip = cpu->rip;
    uint64_t cs_base = cpu->code64 ? 0 : cpu->seg[S_CS].base;
    uint64_t lmask = cpu->lin_mask & ~(uint64_t)0xfff;
    cpu->tb_fetch_page = phys & ~(uint64_t)0xfff;
    cpu->tb_fetch_lpage = (cs_base + eip) & lmask;
    cpu->tb_page2 = CODE_NO_PAGE;
    int n = 0;
    while (n < TB_MAX_INSNS) {
        bool end = false;
        cpu->tb_fetch_first = n == 0;
        cpu->tb_fetch_cross = false;
        X86Insn *in = &cpu->scratch[n];
        x86_decode(cpu, in, eip, cpu->code64 ? X86_MODE64 : cpu->code32,
                   tb_fetch, cpu, &end);
        if (cpu->tb_fetch_cross) {
            break;
        }
        n++;
        eip += in->len;
        if (end && cpu->code32 && in->osz == 4 && cpu->tb_page2 == CODE_NO_PAGE &&
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
        if (end || cpu->tb_page2 != CODE_NO_PAGE ||
            ((cs_base + eip) & lmask) != cpu->tb_fetch_lpage) {
            break;
        }
    }
    size_t used = cpu->code.used;
    TBlock *tb = codecache_alloc(&cpu->code,
                                 sizeof(TBlock) + n * sizeof(X86Insn));
    if (cpu->code.used < used) {
        cpu->tb_gen += 2; /* the arena was full: every block went */
    }
    tb->cb.phys = phys;
    tb->cs_base = cs_base;
    tb->ip = cpu->rip;
    tb->flags = flags;
    tb->n = n;
    tb->cb.page2 = cpu->tb_page2;
    tb->ip_next = eip;
    tb->link[0].tb = tb->link[1].tb = NULL;
    tb->host = NULL;
    tb->runs = 0;
    memcpy(tb->insn, cpu->scratch, n * sizeof(X86Insn));
    codecache_insert(&cpu->code, &tb->cb, tb_hash(phys, tb->ip, flags));
    if (mimic_log_enabled(LOG_IN_ASM)) {
        x86_log_block(cpu, tb);
    }
    return tb;
}

TBlock *x86_tb_find(X86Cpu *cpu)
{
    if (codecache_flush_pending(&cpu->code)) {
        cpu->tb_gen += 2; /* pages lost their code mark: write tags may
                             come back */
    }
    if (cpu->rip > cpu->seg[S_CS].limit && !cpu->code64) {
        GP0(cpu);
    }
    uint64_t lin = (cpu->seg[S_CS].base + cpu->rip) & cpu->lin_mask;
    TlbEntry *e = &cpu->tlb[cpu->tlb_user][(lin >> 12) & (TLB_SIZE - 1)];
    uint64_t phys;
    if (G_LIKELY(e->tag_r == (lin & ~(uint64_t)0xfff) &&
                 !(e->phys & TLB_NX))) {
        phys = TLB_PHYS(e) | (lin & 0xfff);
    } else {
        phys = x86_tlb_fill(cpu, lin, 2, cpu->tlb_user, e);
    }
    uint32_t flags = x86_tb_mode(cpu);
    unsigned h = tb_hash(phys, cpu->rip, flags);
    for (CodeBlock *b = codecache_bucket(&cpu->code, h); b; b = b->hnext) {
        TBlock *tb = (TBlock *)b;
        if (b->phys == phys && tb->ip == cpu->rip &&
            tb->flags == flags && tb->cs_base == cpu->seg[S_CS].base) {
            if (b->page2 != CODE_NO_PAGE) {
                /* The second page's mapping may have changed. */
                uint64_t l2 = (lin & ~(uint64_t)0xfff) + 0x1000;
                uint64_t p2;
                if (!x86_translate_probe(cpu, l2, &p2) ||
                    (p2 & ~0xfffull) != b->page2) {
                    continue;
                }
            }
            return tb;
        }
    }
    return tb_translate(cpu, phys, flags);
}
