/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Segmentation: descriptor tables, segment register loads with their
 * protection checks, far JMP/CALL/RET, IRET and interrupt/exception
 * delivery through the IVT (real mode) or the IDT (interrupt, trap and
 * task gates), including the inner-stack switch through the TSS.
 *
 * Specification: SDM Vol. 3A chapters 3 (segmentation), 5 (protection),
 * 6 (interrupt and exception handling) and 7 (task management).
 */
#include "arch/x86/ops.h"

/* Recompute the derived limit window of a segment cache. */
static void seg_derive(X86Cpu *cpu, SegCache *sc, bool real)
{
    if (real) {
        sc->lo = 0;
        sc->hi = sc->limit;
        sc->wok = sc->rok = true;
        return;
    }
    if (!(sc->flags & SEGF_P) || !(sc->flags & SEGF_S)) {
        /* Null or unusable: every access faults. */
        sc->lo = 1;
        sc->hi = 0;
        sc->wok = sc->rok = false;
        return;
    }
    unsigned type = sc->flags & 0xf;
    if (type & 8) {
        /* code: readable if R, never writable */
        sc->lo = 0;
        sc->hi = sc->limit;
        sc->rok = (type & 2) != 0;
        sc->wok = false;
    } else {
        if (type & 4) {
            sc->lo = sc->limit + 1;
            sc->hi = (sc->flags & SEGF_DB) ? 0xffffffffu : 0xffffu;
        } else {
            sc->lo = 0;
            sc->hi = sc->limit;
        }
        sc->rok = true;
        sc->wok = (type & 2) != 0;
    }
}

void x86_update_mode(X86Cpu *cpu)
{
    cpu->pe = cpu->cr0 & CR0_PE;
    bool vm = cpu->eflags & F_VM;
    /* CPL is state of its own: it changes only with CS loads in protected
       mode (load_cs, SYSENTER/SYSEXIT, interrupts), never when PE is set
       (the real-mode CS selector's low bits mean nothing). */
    if (!cpu->pe) {
        cpu->cpl = 0;
    } else if (vm) {
        cpu->cpl = 3;
    }
    cpu->code32 = cpu->pe && !vm && (cpu->seg[S_CS].flags & SEGF_DB);
    cpu->ss32 = cpu->pe && !vm && (cpu->seg[S_SS].flags & SEGF_DB);
    if (!cpu->pe) {
        /* Real mode keeps the cached D bits ("unreal" mode)? No: on P6 the
           B/D bits stay as loaded, but SeaBIOS never relies on that. */
        cpu->code32 = cpu->seg[S_CS].flags & SEGF_DB;
        cpu->ss32 = cpu->seg[S_SS].flags & SEGF_DB;
    }
    /* Long mode: CS.L selects 64-bit mode (D must then be 0), else
       compatibility mode, which runs as legacy protected mode. */
    cpu->code64 = cpu->lma && !vm && (cpu->seg[S_CS].flags & SEGF_L);
    if (cpu->code64) {
        /* Default operand size 32 (the decoder widens addresses and the
           default-64 operations itself).  CS's base means nothing in
           64-bit mode (SDM Vol. 3A 3.4.4): keep it 0, which the block
           cache and the fetch use. */
        cpu->code32 = true;
        cpu->ss32 = true;
        cpu->seg[S_CS].base = 0;
    }
    cpu->lin_mask = cpu->code64 ? ~(uint64_t)0 : 0xffffffffu;
    int user = cpu->cpl == 3;
    cpu->tlb_user = user;
}

uint64_t x86_seg_check_slow(X86Cpu *cpu, int s, uint32_t off, unsigned size,
                            bool write)
{
    x86_seg_fault(cpu, s);
}

G_NORETURN void x86_seg_fault(X86Cpu *cpu, int seg)
{
    x86_raise(cpu, seg == S_SS ? EX_SS : EX_GP, 0);
}

void x86_seg_set_real(X86Cpu *cpu, int s, uint16_t sel)
{
    SegCache *sc = &cpu->seg[s];
    sc->sel = sel;
    sc->base = (uint32_t)sel << 4;
    if (cpu->eflags & F_VM) {
        sc->limit = 0xffff;
        sc->flags = 0xf3 | (s == S_CS ? 0x8 : 0);
    }
    /* Real mode: limit and attributes keep their cached values. */
    seg_derive(cpu, sc, true);
    if (s == S_CS || s == S_SS) {
        x86_update_mode(cpu);
    }
}

void x86_desc_to_cache(SegCache *sc, uint16_t sel, uint32_t lo, uint32_t hi)
{
    sc->sel = sel;
    sc->base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
    uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);
    if (hi & 0x800000) {
        limit = (limit << 12) | 0xfff;
    }
    sc->limit = limit;
    sc->flags = (hi >> 8) & 0xf0ff;
}

bool x86_read_desc(X86Cpu *cpu, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    uint64_t base; /* 64-bit in long mode (the GDT of a 64-bit kernel) */
    uint32_t limit;
    if (sel & 4) {
        if (!(cpu->ldt.flags & SEGF_P) || cpu->ldt.sel < 4) {
            return false;
        }
        base = cpu->ldt.base;
        limit = cpu->ldt.limit;
    } else {
        base = cpu->gdt.base;
        limit = cpu->gdt.limit;
    }
    uint32_t idx = sel & ~7u;
    if (idx + 7 > limit) {
        return false;
    }
    *lo = x86_sys_read(cpu, base + idx, 4);
    *hi = x86_sys_read(cpu, base + idx + 4, 4);
    return true;
}

/* Set the accessed bit of a loaded descriptor. */
static void desc_set_accessed(X86Cpu *cpu, uint16_t sel, uint32_t hi)
{
    if (hi & 0x100) {
        return;
    }
    uint64_t base = (sel & 4) ? cpu->ldt.base : cpu->gdt.base;
    x86_sys_write(cpu, base + (sel & ~7u) + 5, ((hi >> 8) & 0xff) | 1, 1);
}

static void load_cache(X86Cpu *cpu, int s, uint16_t sel, uint32_t lo,
                       uint32_t hi)
{
    SegCache *sc = &cpu->seg[s];
    desc_set_accessed(cpu, sel, hi);
    x86_desc_to_cache(sc, sel, lo, hi | 0x100);
    seg_derive(cpu, sc, false);
}

void x86_load_seg(X86Cpu *cpu, int s, uint16_t sel)
{
    if (!cpu->pe || (cpu->eflags & F_VM)) {
        x86_seg_set_real(cpu, s, sel);
        return;
    }
    SegCache *sc = &cpu->seg[s];
    if ((sel & ~3u) == 0) {
        if (s == S_SS) {
            GP0(cpu);
        }
        sc->sel = sel;
        sc->base = 0;
        sc->limit = 0;
        sc->flags = 0;
        seg_derive(cpu, sc, false);
        return;
    }
    uint32_t lo, hi;
    if (!x86_read_desc(cpu, sel, &lo, &hi)) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    unsigned rpl = sel & 3, dpl = (hi >> 13) & 3;
    unsigned type = (hi >> 8) & 0x1f;
    if (s == S_SS) {
        /* writable data, RPL == DPL == CPL */
        if ((type & 0x1a) != 0x12 || rpl != cpu->cpl || dpl != cpu->cpl) {
            x86_raise(cpu, EX_GP, sel & ~3u);
        }
        if (!(hi & 0x8000)) {
            x86_raise(cpu, EX_SS, sel & ~3u);
        }
    } else {
        /* data or readable code */
        if (!(type & 0x10) || (type & 0x1a) == 0x18) {
            x86_raise(cpu, EX_GP, sel & ~3u);
        }
        /* non-conforming: DPL >= max(CPL, RPL) */
        if ((type & 0x1c) != 0x1c &&
            (dpl < cpu->cpl || dpl < rpl)) {
            x86_raise(cpu, EX_GP, sel & ~3u);
        }
        if (!(hi & 0x8000)) {
            x86_raise(cpu, EX_NP, sel & ~3u);
        }
    }
    load_cache(cpu, s, sel, lo, hi);
    if (s == S_SS) {
        x86_update_mode(cpu);
    }
}

/* Load CS for a transfer to sel:off at privilege cpl. */
static void load_cs(X86Cpu *cpu, uint16_t sel, uint32_t lo, uint32_t hi,
                    unsigned cpl)
{
    load_cache(cpu, S_CS, (sel & ~3u) | cpl, lo, hi);
    x86_update_mode(cpu);
    cpu->cpl = cpl;
    cpu->tlb_user = cpl == 3;
}

/* Check a code-segment descriptor target for JMP/CALL. */
static void check_code(X86Cpu *cpu, uint16_t sel, uint32_t hi)
{
    unsigned dpl = (hi >> 13) & 3, rpl = sel & 3;
    if ((hi & 0x1800) != 0x1800) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    if (hi & 0x400) {
        if (dpl > cpu->cpl) {
            x86_raise(cpu, EX_GP, sel & ~3u);
        }
    } else if (rpl > cpu->cpl || dpl != cpu->cpl) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    if (!(hi & 0x8000)) {
        x86_raise(cpu, EX_NP, sel & ~3u);
    }
}

/* Inner stack from the TSS for privilege level dpl; ext: the EXT bit of
   the error codes (delivering an external event, SDM Vol. 3A 6.13). */
static void tss_stack(X86Cpu *cpu, unsigned dpl, uint16_t *ss, uint32_t *sp,
                      unsigned ext)
{
    if (!(cpu->tr.flags & SEGF_P)) {
        x86_raise(cpu, EX_TS, (cpu->tr.sel & ~3u) | ext);
    }
    if ((cpu->tr.flags & 0x8) != 0) {
        uint32_t off = 4 + dpl * 8;
        if (off + 5 > cpu->tr.limit) {
            x86_raise(cpu, EX_TS, (cpu->tr.sel & ~3u) | ext);
        }
        *sp = x86_sys_read(cpu, cpu->tr.base + off, 4);
        *ss = x86_sys_read(cpu, cpu->tr.base + off + 4, 2);
    } else {
        uint32_t off = 2 + dpl * 4;
        if (off + 3 > cpu->tr.limit) {
            x86_raise(cpu, EX_TS, (cpu->tr.sel & ~3u) | ext);
        }
        *sp = x86_sys_read(cpu, cpu->tr.base + off, 2);
        *ss = x86_sys_read(cpu, cpu->tr.base + off + 2, 2);
    }
}

/* Validate and load a new SS for an inner-level transfer. */
static void load_inner_ss(X86Cpu *cpu, uint16_t ss, unsigned dpl,
                          unsigned ext)
{
    uint32_t lo, hi;
    if ((ss & ~3u) == 0 || !x86_read_desc(cpu, ss, &lo, &hi)) {
        x86_raise(cpu, EX_TS, (ss & ~3u) | ext);
    }
    if ((ss & 3) != dpl || ((hi >> 13) & 3) != dpl ||
        ((hi >> 8) & 0x1a) != 0x12) {
        x86_raise(cpu, EX_TS, (ss & ~3u) | ext);
    }
    if (!(hi & 0x8000)) {
        x86_raise(cpu, EX_SS, (ss & ~3u) | ext);
    }
    load_cache(cpu, S_SS, ss, lo, hi);
}

/* A stack switch (interrupt, call gate) with the new SS loaded but nothing
   else committed: a #PF while pushing the frame must find the old context
   (CPL, SS:ESP) unchanged, so that its delivery switches stacks again (and
   faults again: #DF), SDM Vol. 3A 6.12.1.  A frame (n bytes) beyond the
   new SS limit is #SS(new SS, EXT) with nothing committed (SDM Vol. 2A
   INT n, CALL: "new stack does not have room").  Then probe the pages of
   the first push and of the frame's lowest byte with the old SS back in
   place. */
static void probe_new_stack(X86Cpu *cpu, const SegCache *old, uint32_t nsp,
                            unsigned n, unsigned gsz, unsigned ext)
{
    SegCache new_ss = cpu->seg[S_SS];
    uint32_t smask = (new_ss.flags & SEGF_DB) ? 0xffffffffu : 0xffffu;
    uint32_t bottom = (nsp - n) & smask;
    if (bottom < new_ss.lo || bottom > new_ss.hi ||
        new_ss.hi - bottom < n - 1 || ((nsp - 1) & smask) < bottom) {
        cpu->seg[S_SS] = *old;
        x86_raise(cpu, EX_SS, (new_ss.sel & ~3u) | ext);
    }
    if (!cpu->paging) {
        return;
    }
    uint32_t first = new_ss.base + ((nsp - gsz) & smask);
    uint32_t last = new_ss.base + bottom;
    cpu->seg[S_SS] = *old;
    x86_translate(cpu, first, 1, false);
    if ((first ^ last) & ~0xfffu) {
        x86_translate(cpu, last, 1, false);
    }
    cpu->seg[S_SS] = new_ss;
}

static void push_at(X86Cpu *cpu, uint32_t *sp, uint32_t v, unsigned sz)
{
    uint32_t mask = x86_sp_mask(cpu);
    *sp = (*sp - sz) & mask;
    x86_wr(cpu, S_SS, *sp, v, sz);
}

void x86_far_jump(X86Cpu *cpu, uint16_t sel, uint32_t off, int osz,
                  bool call, uint32_t ret_eip)
{
    if (osz == 2) {
        off &= 0xffff;
    }
    if (!cpu->pe || (cpu->eflags & F_VM)) {
        if (call) {
            uint32_t mask = x86_sp_mask(cpu);
            uint32_t sp = cpu->regs[R_ESP];
            push_at(cpu, &sp, cpu->seg[S_CS].sel, osz);
            push_at(cpu, &sp, ret_eip, osz);
            cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
        }
        x86_seg_set_real(cpu, S_CS, sel);
        cpu->rip = off;
        return;
    }
    if ((sel & ~3u) == 0) {
        GP0(cpu);
    }
    uint32_t lo, hi;
    if (!x86_read_desc(cpu, sel, &lo, &hi)) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    if (hi & 0x1000) {
        check_code(cpu, sel, hi);
        SegCache tmp;
        x86_desc_to_cache(&tmp, sel, lo, hi);
        if (off > tmp.limit) {
            GP0(cpu);
        }
        if (call) {
            uint32_t mask = x86_sp_mask(cpu);
            uint32_t sp = cpu->regs[R_ESP];
            push_at(cpu, &sp, cpu->seg[S_CS].sel, osz);
            push_at(cpu, &sp, ret_eip, osz);
            cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
        }
        load_cs(cpu, sel, lo, hi, cpu->cpl);
        cpu->rip = off;
        return;
    }
    /* System descriptor: call gate, task gate or TSS. */
    unsigned type = (hi >> 8) & 0xf;
    unsigned dpl = (hi >> 13) & 3;
    if (dpl < cpu->cpl || dpl < (sel & 3)) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    if (!(hi & 0x8000)) {
        x86_raise(cpu, EX_NP, sel & ~3u);
    }
    if (type == 1 || type == 9) {
        x86_task_switch(cpu, sel, call ? TS_CALL : TS_JMP, ret_eip);
        return;
    }
    if (type == 5) {
        /* Task gate: the TSS it names is checked by the switch (its DPL
           is not; the gate's was). */
        x86_task_switch(cpu, lo >> 16, call ? TS_CALL : TS_JMP, ret_eip);
        return;
    }
    if (type != 4 && type != 12) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    /* Call gate */
    bool gate32 = type == 12;
    uint16_t csel = lo >> 16;
    uint32_t goff = (lo & 0xffff) | (gate32 ? (hi & 0xffff0000u) : 0);
    unsigned pcount = hi & 0x1f;
    uint32_t clo, chi;
    if ((csel & ~3u) == 0 || !x86_read_desc(cpu, csel, &clo, &chi)) {
        x86_raise(cpu, EX_GP, csel & ~3u);
    }
    unsigned cdpl = (chi >> 13) & 3;
    if ((chi & 0x1800) != 0x1800 || cdpl > cpu->cpl) {
        x86_raise(cpu, EX_GP, csel & ~3u);
    }
    if (!(chi & 0x8000)) {
        x86_raise(cpu, EX_NP, csel & ~3u);
    }
    unsigned gsz = gate32 ? 4 : 2;
    if (!call) {
        if (!(chi & 0x400) && cdpl != cpu->cpl) {
            x86_raise(cpu, EX_GP, csel & ~3u);
        }
        load_cs(cpu, csel, clo, chi, cpu->cpl);
        cpu->rip = goff;
        return;
    }
    if (!(chi & 0x400) && cdpl < cpu->cpl) {
        /* To an inner level: switch stacks, copy parameters. */
        uint16_t oss = cpu->seg[S_SS].sel;
        uint32_t oesp = cpu->regs[R_ESP];
        uint32_t omask = x86_sp_mask(cpu);
        uint32_t params[32];
        for (unsigned i = 0; i < pcount; i++) {
            params[i] = x86_rd(cpu, S_SS, (oesp + i * gsz) & omask, gsz);
        }
        uint16_t nss;
        uint32_t nsp;
        tss_stack(cpu, cdpl, &nss, &nsp, 0);
        SegCache old_ss = cpu->seg[S_SS];
        load_inner_ss(cpu, nss, cdpl, 0);
        probe_new_stack(cpu, &old_ss, nsp, (4 + pcount) * gsz, gsz, 0);
        cpu->ss32 = (cpu->seg[S_SS].flags & SEGF_DB) != 0;
        uint32_t sp = nsp;
        cpu->cpl = cdpl;
        cpu->tlb_user = cdpl == 3;
        push_at(cpu, &sp, oss, gsz);
        push_at(cpu, &sp, oesp, gsz);
        for (int i = pcount - 1; i >= 0; i--) {
            push_at(cpu, &sp, params[i], gsz);
        }
        push_at(cpu, &sp, cpu->seg[S_CS].sel, gsz);
        push_at(cpu, &sp, ret_eip, gsz);
        cpu->regs[R_ESP] = cpu->ss32 ? sp
                                     : (cpu->regs[R_ESP] & ~0xffffu) |
                                           (sp & 0xffff);
        load_cs(cpu, csel, clo, chi, cdpl);
        cpu->rip = goff;
        return;
    }
    uint32_t mask = x86_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP];
    push_at(cpu, &sp, cpu->seg[S_CS].sel, gsz);
    push_at(cpu, &sp, ret_eip, gsz);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
    load_cs(cpu, csel, clo, chi, cpu->cpl);
    cpu->rip = goff;
}

/* After returning to an outer level, null data segments the new CPL may
   not use (SDM Vol. 3A 5.8.6). */
static void outer_fixup(X86Cpu *cpu)
{
    static const int segs[] = { S_ES, S_DS, S_FS, S_GS };
    for (int i = 0; i < 4; i++) {
        SegCache *sc = &cpu->seg[segs[i]];
        unsigned dpl = (sc->flags & SEGF_DPL) >> 5;
        bool conf_code = (sc->flags & 0x1c) == 0x1c;
        if ((sc->flags & SEGF_S) && !conf_code && dpl < cpu->cpl) {
            sc->sel = 0;
            sc->flags = 0;
            seg_derive(cpu, sc, false);
        }
    }
}

/* The checks of the code segment a far RET or an IRET returns to (SDM
   Vol. 2, RET and IRET, protected mode): a non-null selector of a present
   code segment at the selector's RPL or outer (conforming: DPL <= RPL,
   else DPL == RPL); faults #GP/#NP with the selector. */
static void check_return_cs(X86Cpu *cpu, uint16_t sel, uint32_t *lo,
                            uint32_t *hi)
{
    if ((sel & ~3u) == 0) {
        GP0(cpu);
    }
    if (!x86_read_desc(cpu, sel, lo, hi)) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    unsigned rpl = sel & 3, dpl = (*hi >> 13) & 3;
    if ((*hi & 0x1800) != 0x1800 || rpl < cpu->cpl ||
        ((*hi & 0x400) ? dpl > rpl : dpl != rpl)) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    if (!(*hi & 0x8000)) {
        x86_raise(cpu, EX_NP, sel & ~3u);
    }
}

void x86_far_ret(X86Cpu *cpu, int osz, uint16_t pop)
{
    uint32_t mask = x86_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP];
    uint32_t off = x86_rd(cpu, S_SS, sp & mask, osz);
    uint16_t sel = x86_rd(cpu, S_SS, (sp + osz) & mask, 2);
    if (osz == 2) {
        off &= 0xffff;
    }
    if (!cpu->pe || (cpu->eflags & F_VM)) {
        x86_seg_set_real(cpu, S_CS, sel);
        cpu->rip = off;
        sp += 2 * osz + pop;
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
        return;
    }
    uint32_t lo, hi;
    check_return_cs(cpu, sel, &lo, &hi);
    unsigned rpl = sel & 3;
    if (rpl == cpu->cpl) {
        load_cs(cpu, sel, lo, hi, rpl);
        cpu->rip = off;
        sp += 2 * osz + pop;
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
        return;
    }
    /* Return to an outer level. */
    uint32_t nsp = x86_rd(cpu, S_SS, (sp + 2 * osz + pop) & mask, osz);
    uint16_t nss = x86_rd(cpu, S_SS, (sp + 3 * osz + pop) & mask, 2);
    load_cs(cpu, sel, lo, hi, rpl);
    x86_load_seg(cpu, S_SS, nss);
    cpu->rip = off;
    nsp += pop;
    if (cpu->ss32) {
        cpu->regs[R_ESP] = nsp;
    } else {
        x86_setreg(cpu, R_ESP, nsp, 2);
    }
    outer_fixup(cpu);
}

/* VME: VIF and VIP both set at the start of a V86 instruction (only
   possible right after an IRET or a task switch into V86) is #GP(0) in
   V86 context, for the monitor to deliver the pending interrupt. */
static void v86_vip_check(X86Cpu *cpu)
{
    uint32_t m = F_VM | F_VIF | F_VIP;
    if ((cpu->cr4 & CR4_VME) && (cpu->eflags & m) == m &&
        ((cpu->eflags & F_IOPL) >> 12) < 3) {
        cpu->eip_fixed = true;
        x86_raise(cpu, EX_GP, 0);
    }
}

void x86_iret(X86Cpu *cpu, int osz)
{
    uint32_t mask = x86_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP];
    cpu->nmi_blocked = false;
    if (!cpu->pe) {
        uint32_t off = x86_rd(cpu, S_SS, sp & mask, osz);
        uint16_t sel = x86_rd(cpu, S_SS, (sp + osz) & mask, 2);
        uint32_t fl = x86_rd(cpu, S_SS, (sp + 2 * osz) & mask, osz);
        if (osz == 2) {
            off &= 0xffff;
            fl = (x86_get_eflags(cpu) & 0xffff0000u) | (fl & 0xffff);
        }
        x86_seg_set_real(cpu, S_CS, sel);
        cpu->rip = off;
        uint32_t fmask = F_ARITH | F_TF | F_IF | F_DF | F_IOPL | F_NT;
        if (osz == 4) {
            fmask |= F_AC | F_ID | F_RF;
        }
        x86_set_eflags(cpu, fl, fmask);
        sp += 3 * osz;
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
        return;
    }
    if (cpu->eflags & F_VM) {
        if (((cpu->eflags & F_IOPL) >> 12) < 3) {
            if (!(cpu->cr4 & CR4_VME) || osz != 2) {
                GP0(cpu);
            }
            /* VME: FLAGS.IF goes to VIF; IOPL and IF stay (SDM IRET) */
            uint32_t off = x86_rd(cpu, S_SS, sp & mask, 2);
            uint16_t sel = x86_rd(cpu, S_SS, (sp + 2) & mask, 2);
            uint32_t fl = x86_rd(cpu, S_SS, (sp + 4) & mask, 2);
            if (((fl & F_IF) && (cpu->eflags & F_VIP)) || (fl & F_TF)) {
                GP0(cpu);
            }
            x86_seg_set_real(cpu, S_CS, sel);
            cpu->rip = off;
            x86_set_eflags(cpu, fl, F_ARITH | F_DF | F_NT);
            cpu->eflags = (cpu->eflags & ~F_VIF) | ((fl & F_IF) ? F_VIF : 0);
            sp += 6;
            cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
            return;
        }
        uint32_t off = x86_rd(cpu, S_SS, sp & mask, osz);
        uint16_t sel = x86_rd(cpu, S_SS, (sp + osz) & mask, 2);
        uint32_t fl = x86_rd(cpu, S_SS, (sp + 2 * osz) & mask, osz);
        x86_seg_set_real(cpu, S_CS, sel);
        cpu->rip = osz == 2 ? off & 0xffff : off;
        uint32_t fmask = F_ARITH | F_TF | F_IF | F_DF | F_NT;
        if (osz == 4) {
            fmask |= F_AC | F_ID | F_RF;
        }
        x86_set_eflags(cpu, fl, fmask);
        sp += 3 * osz;
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
        return;
    }
    if (cpu->eflags & F_NT) {
        /* Return to the task in the back link of this TSS. */
        uint16_t back = x86_sys_read(cpu, cpu->tr.base, 2);
        x86_task_switch(cpu, back, TS_IRET, cpu->rip);
        return;
    }
    uint32_t off = x86_rd(cpu, S_SS, sp & mask, osz);
    uint16_t sel = x86_rd(cpu, S_SS, (sp + osz) & mask, 2);
    uint32_t fl = x86_rd(cpu, S_SS, (sp + 2 * osz) & mask, osz);
    if (osz == 2) {
        off &= 0xffff;
    }
    if (osz == 4 && (fl & F_VM) && cpu->cpl == 0) {
        /* Return to virtual-8086 mode. */
        uint32_t nesp = x86_rd(cpu, S_SS, (sp + 12) & mask, 4);
        uint16_t nss = x86_rd(cpu, S_SS, (sp + 16) & mask, 2);
        uint16_t nes = x86_rd(cpu, S_SS, (sp + 20) & mask, 2);
        uint16_t nds = x86_rd(cpu, S_SS, (sp + 24) & mask, 2);
        uint16_t nfs = x86_rd(cpu, S_SS, (sp + 28) & mask, 2);
        uint16_t ngs = x86_rd(cpu, S_SS, (sp + 32) & mask, 2);
        x86_set_eflags(cpu, fl, 0x3f7fd5);
        static const int order[] = { S_CS, S_SS, S_ES, S_DS, S_FS, S_GS };
        uint16_t sels[] = { sel, nss, nes, nds, nfs, ngs };
        for (int i = 0; i < 6; i++) {
            SegCache *sc = &cpu->seg[order[i]];
            sc->sel = sels[i];
            sc->base = sels[i] << 4;
            sc->limit = 0xffff;
            sc->flags = 0xf3 | (order[i] == S_CS ? 0x8 : 0);
            seg_derive(cpu, sc, true);
        }
        cpu->regs[R_ESP] = nesp;
        cpu->rip = off & 0xffff;
        x86_update_mode(cpu);
        v86_vip_check(cpu);
        return;
    }
    uint32_t lo, hi;
    check_return_cs(cpu, sel, &lo, &hi);
    unsigned rpl = sel & 3;
    unsigned old_cpl = cpu->cpl;
    uint32_t fmask = F_ARITH | F_TF | F_DF | F_NT;
    if (osz == 4) {
        fmask |= F_AC | F_ID | F_RF;
    }
    if (old_cpl <= ((cpu->eflags & F_IOPL) >> 12)) {
        fmask |= F_IF;
    }
    if (old_cpl == 0) {
        fmask |= F_IOPL | F_IF;
        if (osz == 4) {
            fmask |= F_VIF | F_VIP;
        }
    }
    if (osz == 2) {
        fmask &= 0xffff;
    }
    if (rpl == old_cpl) {
        load_cs(cpu, sel, lo, hi, rpl);
        cpu->rip = off;
        x86_set_eflags(cpu, fl, fmask);
        sp += 3 * osz;
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
        return;
    }
    uint32_t nsp = x86_rd(cpu, S_SS, (sp + 3 * osz) & mask, osz);
    uint16_t nss = x86_rd(cpu, S_SS, (sp + 4 * osz) & mask, 2);
    load_cs(cpu, sel, lo, hi, rpl);
    x86_load_seg(cpu, S_SS, nss);
    cpu->rip = off;
    x86_set_eflags(cpu, fl, fmask);
    if (cpu->ss32) {
        cpu->regs[R_ESP] = nsp;
    } else {
        x86_setreg(cpu, R_ESP, nsp, 2);
    }
    outer_fixup(cpu);
}

/* -d int: QEMU's layout (a sequence number, vector, error code, whether
   software, CPL, CS:EIP, linear PC, SS:ESP, CR2 for #PF), then the
   state. */
static void log_interrupt(X86Cpu *cpu, int vec, int kind, uint32_t err)
{
    static int count;
    if (kind == 2) {
        mimic_log("Servicing hardware INT=0x%02x\n", vec);
    }
    bool soft = kind == 1 || kind == 3;
    /* Faults: EIP is the faulting instruction already; INT n: show the
       INT itself, as QEMU does; hardware interrupts: the next one. */
    uint32_t eip = soft && cpu->cur ? cpu->cur->ip : cpu->rip;
    mimic_log("%6d: v=%02x e=%04x i=%d cpl=%d IP=%04x:%08x pc=%08x "
              "SP=%04x:%08x %s=%08x\n", count++, vec, err, soft, cpu->cpl,
              cpu->seg[S_CS].sel, eip, (uint32_t)(cpu->seg[S_CS].base + eip),
              cpu->seg[S_SS].sel, (uint32_t)cpu->regs[R_ESP],
              vec == EX_PF && kind == 0 ? "CR2" : "EAX",
              (uint32_t)(vec == EX_PF && kind == 0 ? cpu->cr2
                                                    : cpu->regs[R_EAX]));
    x86_log_state(cpu);
}

/*
 * Deliver an interrupt.  kind: 0 exception (hardware-generated), 1 INT n /
 * INT3 / INTO (DPL checked), 2 external interrupt or NMI, 3 INT1.
 * next_eip is the return address pushed.
 */
void x86_interrupt(X86Cpu *cpu, int vec, int kind, bool has_err,
                   uint32_t err, uint32_t next_eip)
{
    if (mimic_log_enabled(LOG_INT)) {
        log_interrupt(cpu, vec, kind, err);
    }
    if (kind == 1 || kind == 3) {
        cpu->soft_int = true; /* no single-step trap after INT n */
    }
    if (cpu->lma) {
        x86_interrupt64(cpu, vec, kind, has_err, err);
        return;
    }
    uint32_t fl = x86_get_eflags(cpu);
    if (!cpu->pe) {
        if (vec * 4 + 3 > cpu->idt.limit) {
            x86_raise(cpu, EX_GP, vec * 8 + 2);
        }
        uint32_t ent = x86_read_lin(cpu, cpu->idt.base + vec * 4, 4);
        uint32_t mask = x86_sp_mask(cpu);
        uint32_t sp = cpu->regs[R_ESP];
        push_at(cpu, &sp, fl, 2);
        push_at(cpu, &sp, cpu->seg[S_CS].sel, 2);
        push_at(cpu, &sp, next_eip, 2);
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
        cpu->eflags &= ~(F_IF | F_TF | F_AC | F_RF);
        x86_seg_set_real(cpu, S_CS, ent >> 16);
        cpu->rip = ent & 0xffff;
        return;
    }
    unsigned ext = kind == 0 || kind == 2 ? 1 : 0;
    if (vec * 8 + 7 > cpu->idt.limit) {
        x86_raise(cpu, EX_GP, vec * 8 + 2 + ext);
    }
    uint32_t lo = x86_sys_read(cpu, cpu->idt.base + vec * 8, 4);
    uint32_t hi = x86_sys_read(cpu, cpu->idt.base + vec * 8 + 4, 4);
    unsigned type = (hi >> 8) & 0x1f;
    unsigned gdpl = (hi >> 13) & 3;
    if (type != 5 && type != 6 && type != 7 && type != 14 && type != 15) {
        x86_raise(cpu, EX_GP, vec * 8 + 2 + ext);
    }
    if (kind == 1 && gdpl < cpu->cpl) {
        x86_raise(cpu, EX_GP, vec * 8 + 2);
    }
    if (!(hi & 0x8000)) {
        x86_raise(cpu, EX_NP, vec * 8 + 2 + ext);
    }
    if (type == 5) {
        x86_task_switch(cpu, lo >> 16, ext ? TS_INT_EXT : TS_INT, next_eip);
        if (has_err) {
            /* On the new task's stack, sized by the new TSS; faults here
               belong to the new task. */
            cpu->eip_fixed = true;
            x86_push(cpu, err, (cpu->tr.flags & 8) ? 4 : 2);
            cpu->eip_fixed = false;
        }
        return;
    }
    bool gate32 = type & 8;
    unsigned gsz = gate32 ? 4 : 2;
    uint16_t csel = lo >> 16;
    uint32_t off = (lo & 0xffff) | (gate32 ? (hi & 0xffff0000u) : 0);
    uint32_t clo, chi;
    if ((csel & ~3u) == 0 || !x86_read_desc(cpu, csel, &clo, &chi)) {
        x86_raise(cpu, EX_GP, (csel & ~3u) + ext);
    }
    unsigned cdpl = (chi >> 13) & 3;
    if ((chi & 0x1800) != 0x1800 || cdpl > cpu->cpl) {
        x86_raise(cpu, EX_GP, (csel & ~3u) + ext);
    }
    if (!(chi & 0x8000)) {
        x86_raise(cpu, EX_NP, (csel & ~3u) + ext);
    }
    bool vm = fl & F_VM;
    if (!(chi & 0x400) && cdpl < cpu->cpl) {
        uint16_t nss;
        uint32_t nsp;
        tss_stack(cpu, cdpl, &nss, &nsp, ext);
        uint16_t oss = cpu->seg[S_SS].sel;
        uint32_t oesp = cpu->regs[R_ESP];
        if (vm && cdpl != 0) {
            x86_raise(cpu, EX_GP, (csel & ~3u) + ext);
        }
        SegCache old_ss = cpu->seg[S_SS];
        load_inner_ss(cpu, nss, cdpl, ext);
        probe_new_stack(cpu, &old_ss, nsp,
                        (5 + (vm ? 4 : 0) + (has_err ? 1 : 0)) * gsz, gsz,
                        ext);
        cpu->ss32 = (cpu->seg[S_SS].flags & SEGF_DB) != 0;
        cpu->cpl = cdpl;
        cpu->tlb_user = cdpl == 3;
        uint32_t sp = nsp;
        if (vm) {
            push_at(cpu, &sp, cpu->seg[S_GS].sel, gsz);
            push_at(cpu, &sp, cpu->seg[S_FS].sel, gsz);
            push_at(cpu, &sp, cpu->seg[S_DS].sel, gsz);
            push_at(cpu, &sp, cpu->seg[S_ES].sel, gsz);
        }
        push_at(cpu, &sp, oss, gsz);
        push_at(cpu, &sp, oesp, gsz);
        push_at(cpu, &sp, fl, gsz);
        push_at(cpu, &sp, cpu->seg[S_CS].sel, gsz);
        push_at(cpu, &sp, next_eip, gsz);
        if (has_err) {
            push_at(cpu, &sp, err, gsz);
        }
        if (cpu->ss32) {
            cpu->regs[R_ESP] = sp;
        } else {
            x86_setreg(cpu, R_ESP, sp, 2);
        }
        if (vm) {
            static const int ds[] = { S_ES, S_DS, S_FS, S_GS };
            for (int i = 0; i < 4; i++) {
                SegCache *sc = &cpu->seg[ds[i]];
                sc->sel = 0;
                sc->flags = 0;
                seg_derive(cpu, sc, false);
            }
        }
    } else {
        if (vm) {
            x86_raise(cpu, EX_GP, (csel & ~3u) + ext);
        }
        uint32_t mask = x86_sp_mask(cpu);
        uint32_t sp = cpu->regs[R_ESP];
        push_at(cpu, &sp, fl, gsz);
        push_at(cpu, &sp, cpu->seg[S_CS].sel, gsz);
        push_at(cpu, &sp, next_eip, gsz);
        if (has_err) {
            push_at(cpu, &sp, err, gsz);
        }
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
        cdpl = (chi & 0x400) ? cpu->cpl : cdpl;
    }
    x86_flags_flush(cpu);
    cpu->eflags &= ~(F_TF | F_NT | F_RF | F_VM);
    if (!(type & 1)) {
        cpu->eflags &= ~F_IF;
    }
    load_cs(cpu, csel, clo, chi, cdpl);
    cpu->rip = off;
}

/* ---- hardware task switching (SDM Vol. 3A chapter 7) ---- */

/* Set or clear the busy bit of the TSS descriptor sel in the GDT. */
static void tss_set_busy(X86Cpu *cpu, uint16_t sel, bool busy)
{
    uint32_t a = cpu->gdt.base + (sel & ~7u) + 5;
    uint32_t b = x86_sys_read(cpu, a, 1);
    x86_sys_write(cpu, a, busy ? (b | 2) : (b & ~2u), 1);
}

/* A fault while loading the new task's state belongs to the new task:
   its EIP is the one saved, and it is no double fault. */
static G_NORETURN void task_fault(X86Cpu *cpu, int vec, uint16_t sel)
{
    cpu->eip_fixed = true;
    x86_raise(cpu, vec, sel & ~3u);
}

/* Load segment register s of the new task (CPL already the new one)
   with the checks of SDM Vol. 3A Table 7-1: #TS(sel) for an invalid
   selector or descriptor, #NP(sel) (#SS(sel) for SS) when not present. */
static void task_load_seg(X86Cpu *cpu, int s, uint16_t sel)
{
    SegCache *sc = &cpu->seg[s];
    unsigned cpl = cpu->cpl;
    if ((sel & ~3u) == 0) {
        if (s == S_CS || s == S_SS) {
            task_fault(cpu, EX_TS, sel);
        }
        sc->sel = sel;
        sc->base = 0;
        sc->limit = 0;
        sc->flags = 0;
        seg_derive(cpu, sc, false);
        return;
    }
    uint32_t lo, hi;
    if (!x86_read_desc(cpu, sel, &lo, &hi)) {
        task_fault(cpu, EX_TS, sel);
    }
    unsigned type = (hi >> 8) & 0x1f, dpl = (hi >> 13) & 3, rpl = sel & 3;
    bool bad;
    int np = EX_NP;
    if (s == S_CS) {
        /* code; conforming: DPL <= RPL, else DPL == RPL (== CPL) */
        bad = (type & 0x18) != 0x18 || ((type & 4) ? dpl > rpl : dpl != rpl);
    } else if (s == S_SS) {
        bad = (type & 0x1a) != 0x12 || dpl != cpl || rpl != cpl;
        np = EX_SS;
    } else {
        /* data or readable code; DPL >= max(CPL, RPL) unless conforming */
        bad = !(type & 0x10) || (type & 0x1a) == 0x18 ||
              ((type & 0x1c) != 0x1c && (dpl < cpl || dpl < rpl));
    }
    if (bad) {
        task_fault(cpu, EX_TS, sel);
    }
    if (!(hi & 0x8000)) {
        task_fault(cpu, np, sel);
    }
    load_cache(cpu, s, sel, lo, hi);
}

/*
 * Switch to the task whose TSS descriptor (in the GDT) sel selects.
 * reason: TS_JMP, TS_CALL (nesting: back link, NT), TS_IRET (return to
 * the back-linked task), TS_INT / TS_INT_EXT (an IDT task gate; nesting;
 * EXT in error codes).  next_eip is the EIP saved in the old task.
 * Checks before the switch fault in the old task (#GP/#TS for a wrong
 * type or busy state, #NP, #TS for a short TSS); errors while loading
 * the new state fault in the new task.
 */
void x86_task_switch(X86Cpu *cpu, uint16_t sel, int reason,
                     uint32_t next_eip)
{
    uint32_t ext = reason == TS_INT_EXT;
    uint32_t err = (sel & ~3u) | ext;
    bool iret = reason == TS_IRET;
    bool nest = reason == TS_CALL || reason == TS_INT || reason == TS_INT_EXT;
    if (mimic_log_enabled(LOG_INT)) {
        mimic_log("x86: task switch %04x -> %04x reason %d\n", cpu->tr.sel,
                  sel, reason);
    }
    if ((sel & 4) || (sel & ~3u) == 0 || (sel & ~7u) + 7 > cpu->gdt.limit) {
        x86_raise(cpu, iret ? EX_TS : EX_GP, err);
    }
    uint32_t lo = x86_sys_read(cpu, cpu->gdt.base + (sel & ~7u), 4);
    uint32_t hi = x86_sys_read(cpu, cpu->gdt.base + (sel & ~7u) + 4, 4);
    unsigned type = (hi >> 8) & 0x1f;
    /* IRET returns to a busy TSS; the others need an available one. */
    if (iret ? (type != 0x03 && type != 0x0b)
             : (type != 0x01 && type != 0x09)) {
        x86_raise(cpu, iret ? EX_TS : EX_GP, err);
    }
    if (!(hi & 0x8000)) {
        x86_raise(cpu, EX_NP, err);
    }
    SegCache ntr;
    x86_desc_to_cache(&ntr, sel, lo, hi);
    bool n32 = type & 8;
    if (ntr.limit < (n32 ? 0x67u : 0x2bu)) {
        x86_raise(cpu, EX_TS, err);
    }
    bool o32 = cpu->tr.flags & 8;
    uint32_t ob = cpu->tr.base, nb = ntr.base;
    if (cpu->tr.limit < (o32 ? 0x5fu : 0x29u)) {
        x86_raise(cpu, EX_TS, (cpu->tr.sel & ~3u) | ext);
    }
    /* Page faults on the old TSS (and the new one's back link) come
       before anything changes. */
    x86_translate(cpu, ob, 1, false);
    x86_translate(cpu, ob + (o32 ? 0x5f : 0x29), 1, false);
    if (nest) {
        x86_translate(cpu, ntr.base, 1, false);
    }

    /* The new task's state, read before anything is written. */
    uint32_t ncr3 = 0, neip, nfl, nregs[8];
    uint16_t nsegs[6], nldt;
    bool trap = false;
    if (n32) {
        ncr3 = x86_sys_read(cpu, nb + 0x1c, 4);
        neip = x86_sys_read(cpu, nb + 0x20, 4);
        nfl = x86_sys_read(cpu, nb + 0x24, 4);
        for (int i = 0; i < 8; i++) {
            nregs[i] = x86_sys_read(cpu, nb + 0x28 + i * 4, 4);
        }
        for (int i = 0; i < 6; i++) {
            nsegs[i] = x86_sys_read(cpu, nb + 0x48 + i * 4, 2);
        }
        nldt = x86_sys_read(cpu, nb + 0x60, 2);
        trap = x86_sys_read(cpu, nb + 0x64, 2) & 1;
    } else {
        neip = x86_sys_read(cpu, nb + 0x0e, 2);
        nfl = x86_sys_read(cpu, nb + 0x10, 2);
        for (int i = 0; i < 8; i++) {
            nregs[i] = x86_sys_read(cpu, nb + 0x12 + i * 2, 2);
        }
        /* ES, CS, SS, DS: the encoding order; a 286 TSS has no FS/GS */
        for (int i = 0; i < 4; i++) {
            nsegs[i] = x86_sys_read(cpu, nb + 0x22 + i * 2, 2);
        }
        nsegs[S_FS] = nsegs[S_GS] = 0;
        nldt = x86_sys_read(cpu, nb + 0x2a, 2);
    }

    /* Leave the old task: busy bit, NT in its saved EFLAGS, its state. */
    uint32_t fl = x86_get_eflags(cpu);
    if (reason == TS_JMP || iret) {
        tss_set_busy(cpu, cpu->tr.sel, false);
    }
    if (iret) {
        fl &= ~F_NT;
    }
    if (o32) {
        x86_sys_write(cpu, ob + 0x20, next_eip, 4);
        x86_sys_write(cpu, ob + 0x24, fl, 4);
        for (int i = 0; i < 8; i++) {
            x86_sys_write(cpu, ob + 0x28 + i * 4, cpu->regs[i], 4);
        }
        for (int i = 0; i < 6; i++) {
            x86_sys_write(cpu, ob + 0x48 + i * 4, cpu->seg[i].sel, 2);
        }
    } else {
        x86_sys_write(cpu, ob + 0x0e, next_eip, 2);
        x86_sys_write(cpu, ob + 0x10, fl, 2);
        for (int i = 0; i < 8; i++) {
            x86_sys_write(cpu, ob + 0x12 + i * 2, cpu->regs[i], 2);
        }
        for (int i = 0; i < 4; i++) {
            x86_sys_write(cpu, ob + 0x22 + i * 2, cpu->seg[i].sel, 2);
        }
    }
    if (nest) {
        x86_sys_write(cpu, nb, cpu->tr.sel, 2);
        nfl |= F_NT;
    }
    if (!iret) {
        tss_set_busy(cpu, sel, true);
    }
    cpu->tr = ntr;
    cpu->tr.flags |= 2; /* busy */
    cpu->cr0 |= CR0_TS;

    /* Enter the new task: from here on faults are the new task's (no
       rewinding of EIP, no double fault). */
    cpu->delivering = false;
    cpu->eip_fixed = true;
    if (n32 && cpu->paging) {
        cpu->cr3 = ncr3;
        x86_tlb_flush(cpu, false);
    }
    cpu->rip = neip;
    if (!n32) {
        nfl &= 0xffff;
    }
    x86_set_eflags(cpu, nfl, 0x3f7fd5);
    for (int i = 0; i < 8; i++) {
        if (n32) {
            cpu->regs[i] = nregs[i];
        } else {
            x86_setreg(cpu, i, nregs[i], 2);
        }
    }
    /* Selectors first, so that a fault while loading one shows the new
       task's selectors (SDM Vol. 3A 7.3, step 13). */
    for (int s = 0; s < 6; s++) {
        cpu->seg[s].sel = nsegs[s];
    }
    if ((nldt & ~3u) == 0) {
        cpu->ldt = (SegCache){ .sel = nldt };
    } else {
        uint32_t llo, lhi;
        if ((nldt & 4) || (nldt & ~7u) + 7 > cpu->gdt.limit) {
            task_fault(cpu, EX_TS, nldt);
        }
        llo = x86_sys_read(cpu, cpu->gdt.base + (nldt & ~7u), 4);
        lhi = x86_sys_read(cpu, cpu->gdt.base + (nldt & ~7u) + 4, 4);
        if (((lhi >> 8) & 0x1f) != 0x02 || !(lhi & 0x8000)) {
            task_fault(cpu, EX_TS, nldt);
        }
        x86_desc_to_cache(&cpu->ldt, nldt, llo, lhi);
    }
    if (cpu->eflags & F_VM) {
        cpu->cpl = 3;
        for (int s = 0; s < 6; s++) {
            x86_seg_set_real(cpu, s, nsegs[s]);
        }
    } else {
        cpu->cpl = nsegs[S_CS] & 3;
        cpu->tlb_user = cpu->cpl == 3;
        static const int order[] = { S_CS, S_SS, S_DS, S_ES, S_FS, S_GS };
        for (int i = 0; i < 6; i++) {
            task_load_seg(cpu, order[i], nsegs[order[i]]);
        }
    }
    x86_update_mode(cpu);
    cpu->tlb_user = cpu->cpl == 3;
    cpu->block_end = true;
    if (cpu->rip > cpu->seg[S_CS].limit) {
        task_fault(cpu, EX_GP, 0);
    }
    cpu->eip_fixed = false;
    v86_vip_check(cpu);
    if (trap) {
        cpu->dbg_pending |= DR6_BT; /* the TSS T bit: #DB in the new task */
        cpu->dbg_defer = false;
    }
}

/* Recompute derived state after a state load or mode change. */
void x86_post_load_fixup(X86Cpu *cpu)
{
    bool real = !(cpu->cr0 & CR0_PE) || (cpu->eflags & F_VM);
    for (int s = 0; s < 6; s++) {
        seg_derive(cpu, &cpu->seg[s], real);
    }
    cpu->cpl = cpu->seg[S_CS].sel & 3; /* CS.RPL is the CPL in PM */
    x86_update_mode(cpu);
    x86_mmu_mode_changed(cpu);
    x86_tb_flush(cpu);
}
