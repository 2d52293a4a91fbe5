/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with the
 * REP/REPE/REPNE prefixes and 16/32-bit address sizes.
 *
 * A repeated instruction runs at most REP_CHUNK iterations per dispatch,
 * then re-executes itself (EIP stays on the instruction), so interrupts
 * and exit requests are seen during a long copy, and a fault in the middle
 * leaves registers consistent for the restart (SDM Vol. 2, REP prefix).
 * Forward MOVS/STOS between RAM pages copy page runs through the TLB's
 * host pointers.
 */
#include "arch/x86/ops.h"

/* Single-stepping (TF) and data breakpoints trap after the iteration. */
#define REP_CHUNK \
    (G_UNLIKELY((cpu->eflags & F_TF) || cpu->dbg_watch) ? 1u : 65536u)

static inline uint32_t getr(X86Cpu *cpu, int r, uint32_t m)
{
    return cpu->regs[r] & m;
}

static inline void setr(X86Cpu *cpu, int r, uint32_t v, uint32_t m)
{
    cpu->regs[r] = (cpu->regs[r] & ~m) | (v & m);
}

/* One dispatch of a string instruction: the address-size mask, the
   element size and direction, the iterations left (ECX, or 1 without a
   REP prefix) and those done in this round. */
typedef struct Rep {
    uint32_t m;
    unsigned sz;
    int step;
    uint32_t n, done;
} Rep;

static inline Rep rep_begin(X86Cpu *cpu, const X86Insn *in)
{
    Rep r = { .m = in->asz32 ? 0xffffffffu : 0xffffu, .sz = in->osz };
    r.step = (cpu->eflags & F_DF) ? -(int)r.sz : (int)r.sz;
    r.n = in->rep ? getr(cpu, R_ECX, r.m) : 1;
    return r;
}

/* Another iteration in this round? */
static inline bool rep_more(X86Cpu *cpu, const Rep *r)
{
    return r->n > 0 && r->done < REP_CHUNK;
}

/* k iterations done: count them (ECX with a REP prefix). */
static inline void rep_advance(X86Cpu *cpu, const X86Insn *in, Rep *r,
                               uint32_t k)
{
    r->n -= k;
    r->done += k;
    if (in->rep) {
        setr(cpu, R_ECX, r->n, r->m);
    }
}

/* After a round: if ECX is still non-zero, restart the instruction. */
static inline void rep_end(X86Cpu *cpu, const X86Insn *in, const Rep *r)
{
    if (in->rep && r->n > 0) {
        cpu->rip = in->ip;
        cpu->block_end = true;
        /* An event between iterations pushes RF=1, so the restarted insn
           does not hit its instruction breakpoint again (SDM Vol. 3B
           17.3.1.1) */
        cpu->eflags |= F_RF;
    }
}

/* Host pointer for a run of bytes at lin within its page, or NULL. */
static uint8_t *host_run(X86Cpu *cpu, uint64_t lin, bool write)
{
    TlbEntry *e = &cpu->tlb[cpu->tlb_user][(lin >> 12) & (TLB_SIZE - 1)];
    uint64_t tag = write ? e->tag_w : e->tag_r;
    if (tag == (lin & ~(uint64_t)0xfff)) {
        return (uint8_t *)(e->addend + lin);
    }
    return NULL;
}

/* A forward run of *k > 1 elements written at ES:di that stays in one
   page, the ES segment and the address wrap: its host pointer (*k
   trimmed), or NULL when there is none (then one element at a time). */
static uint8_t *dest_run(X86Cpu *cpu, const Rep *r, uint32_t di,
                         uint32_t *k, uint32_t *lin)
{
    if (r->step < 0 || r->n < 2 || REP_CHUNK < 2) {
        return NULL;
    }
    uint32_t dl = x86_seg_check(cpu, S_ES, di, r->sz, true);
    uint32_t n = (0x1000 - (dl & 0xfff)) / r->sz;
    n = n > r->n ? r->n : n;
    uint32_t last = di + n * r->sz - 1;
    if (n < 2 || last > r->m || last > cpu->seg[S_ES].hi) {
        return NULL;
    }
    *k = n;
    *lin = dl;
    return host_run(cpu, dl, true);
}

void x86_h_movs(X86Cpu *cpu, const X86Insn *in)
{
    Rep r = rep_begin(cpu, in);
    uint32_t m = r.m, sz = r.sz;
    while (rep_more(cpu, &r)) {
        uint32_t si = getr(cpu, R_ESI, m), di = getr(cpu, R_EDI, m);
        uint32_t k, dl, sl = 0;
        uint8_t *d = NULL;
        if (r.step > 0 && r.n > 1 && REP_CHUNK > 1) {
            /* The source is checked first, as the element path does. */
            sl = x86_seg_check(cpu, in->seg, si, sz, false);
            d = dest_run(cpu, &r, di, &k, &dl);
        }
        if (d) {
            /* Bulk copy within one page on each side: the run ends at
               whichever page end comes first, inside the source segment
               and the address wrap too. */
            uint32_t so = sl & 0xfff, dof = dl & 0xfff;
            uint32_t room = (0x1000 - (so > dof ? so : dof)) / sz;
            k = room < k ? room : k;
            uint8_t *s = host_run(cpu, sl, false);
            d = host_run(cpu, dl, true);
            if (k > 1 && si + k * sz - 1 <= m &&
                si + k * sz - 1 <= cpu->seg[in->seg].hi && s && d) {
                uint32_t bytes = k * sz;
                if (d > s && d < s + bytes) {
                    /* Forward overlap: element by element, each read
                       whole before it is written (a MOVSD with EDI =
                       ESI + 1 copies 4 bytes per step, not 1). */
                    for (uint32_t i = 0; i < bytes; i += sz) {
                        uint8_t t[4];
                        memcpy(t, s + i, sz);
                        memcpy(d + i, t, sz);
                    }
                } else {
                    memmove(d, s, bytes);
                }
                setr(cpu, R_ESI, si + bytes, m);
                setr(cpu, R_EDI, di + bytes, m);
                rep_advance(cpu, in, &r, k);
                continue;
            }
        }
        uint32_t v = x86_rd(cpu, in->seg, si, sz);
        x86_wr(cpu, S_ES, di, v, sz);
        setr(cpu, R_ESI, si + r.step, m);
        setr(cpu, R_EDI, di + r.step, m);
        rep_advance(cpu, in, &r, 1);
        if (cpu->tb_dirty) {
            break;
        }
    }
    rep_end(cpu, in, &r);
}

void x86_h_stos(X86Cpu *cpu, const X86Insn *in)
{
    Rep r = rep_begin(cpu, in);
    uint32_t m = r.m, sz = r.sz;
    uint32_t v = x86_getreg(cpu, R_EAX, sz);
    while (rep_more(cpu, &r)) {
        uint32_t di = getr(cpu, R_EDI, m);
        uint32_t k, dl;
        uint8_t *d = dest_run(cpu, &r, di, &k, &dl);
        if (d) {
            if (sz == 1) {
                memset(d, v, k);
            } else {
                for (uint32_t i = 0; i < k; i++) {
                    x86_st_host(d + i * sz, v, sz);
                }
            }
            setr(cpu, R_EDI, di + k * sz, m);
            rep_advance(cpu, in, &r, k);
            continue;
        }
        x86_wr(cpu, S_ES, di, v, sz);
        setr(cpu, R_EDI, di + r.step, m);
        rep_advance(cpu, in, &r, 1);
        if (cpu->tb_dirty) {
            break;
        }
    }
    rep_end(cpu, in, &r);
}

void x86_h_lods(X86Cpu *cpu, const X86Insn *in)
{
    Rep r = rep_begin(cpu, in);
    while (rep_more(cpu, &r)) {
        uint32_t si = getr(cpu, R_ESI, r.m);
        x86_setreg(cpu, R_EAX, x86_rd(cpu, in->seg, si, r.sz), r.sz);
        setr(cpu, R_ESI, si + r.step, r.m);
        rep_advance(cpu, in, &r, 1);
    }
    rep_end(cpu, in, &r);
}

/* CMPS and SCAS: compare, then REPE/REPNE stop on (in)equality. */
static bool cmp_step(X86Cpu *cpu, const X86Insn *in, Rep *r, uint32_t a,
                     uint32_t b)
{
    x86_set_lazy(cpu, LF_SUB, r->sz, (a - b) & x86_mask(r->sz), a, b);
    rep_advance(cpu, in, r, 1);
    return in->rep && (in->rep == 0xf3) == (a == b);
}

void x86_h_cmps(X86Cpu *cpu, const X86Insn *in)
{
    Rep r = rep_begin(cpu, in);
    while (rep_more(cpu, &r)) {
        uint32_t si = getr(cpu, R_ESI, r.m), di = getr(cpu, R_EDI, r.m);
        uint32_t a = x86_rd(cpu, in->seg, si, r.sz);
        uint32_t b = x86_rd(cpu, S_ES, di, r.sz);
        setr(cpu, R_ESI, si + r.step, r.m);
        setr(cpu, R_EDI, di + r.step, r.m);
        if (!cmp_step(cpu, in, &r, a, b)) {
            return;
        }
    }
    rep_end(cpu, in, &r);
}

void x86_h_scas(X86Cpu *cpu, const X86Insn *in)
{
    Rep r = rep_begin(cpu, in);
    uint32_t a = x86_getreg(cpu, R_EAX, r.sz);
    while (rep_more(cpu, &r)) {
        uint32_t di = getr(cpu, R_EDI, r.m);
        uint32_t b = x86_rd(cpu, S_ES, di, r.sz);
        setr(cpu, R_EDI, di + r.step, r.m);
        if (!cmp_step(cpu, in, &r, a, b)) {
            return;
        }
    }
    rep_end(cpu, in, &r);
}

/* I/O permission: CPL <= IOPL, else the TSS bitmap (SDM Vol. 1 18.5). */
void x86_io_check(X86Cpu *cpu, uint16_t port, unsigned size);
void x86_io_check(X86Cpu *cpu, uint16_t port, unsigned size)
{
    if (G_UNLIKELY(cpu->dbg_io)) {
        x86_dbg_io(cpu, port, size); /* a trap: reported after the insn */
    }
    if (!cpu->pe) {
        return;
    }
    if (!(cpu->eflags & F_VM) &&
        cpu->cpl <= ((cpu->eflags & F_IOPL) >> 12)) {
        return;
    }
    /* 32-bit TSS with an I/O bitmap */
    if ((cpu->tr.flags & 0xd) != 0x9 || cpu->tr.limit < 0x67) {
        GP0(cpu);
    }
    uint32_t base = x86_sys_read(cpu, cpu->tr.base + 0x66, 2);
    uint32_t off = base + (port >> 3);
    if (off + 1 > cpu->tr.limit) {
        GP0(cpu);
    }
    uint32_t bits = x86_sys_read(cpu, cpu->tr.base + off, 2);
    if ((bits >> (port & 7)) & ((1u << size) - 1)) {
        GP0(cpu);
    }
}

void x86_h_ins(X86Cpu *cpu, const X86Insn *in)
{
    uint16_t port = cpu->regs[R_EDX];
    x86_io_check(cpu, port, in->osz);
    Rep r = rep_begin(cpu, in);
    uint32_t m = r.m, sz = r.sz;
    while (rep_more(cpu, &r)) {
        uint32_t di = getr(cpu, R_EDI, m);
        uint32_t k, dl;
        uint8_t *d = dest_run(cpu, &r, di, &k, &dl);
        if (d) {
            /* fw_cfg streams kernels with REP INSB: fill page runs. */
            for (uint32_t i = 0; i < k; i++) {
                x86_st_host(d + i * sz, ioport_read(cpu->bus.io, port, sz),
                            sz);
            }
            setr(cpu, R_EDI, di + k * sz, m);
            rep_advance(cpu, in, &r, k);
            continue;
        }
        /* Check the destination before the port read has side effects. */
        uint32_t lin = x86_seg_check(cpu, S_ES, di, sz, true);
        x86_write_lin(cpu, lin, x86_read_lin(cpu, lin, sz), sz);
        uint32_t v = ioport_read(cpu->bus.io, port, sz);
        x86_write_lin(cpu, lin, v, sz);
        setr(cpu, R_EDI, di + r.step, m);
        rep_advance(cpu, in, &r, 1);
        if (cpu->tb_dirty) {
            break;
        }
    }
    rep_end(cpu, in, &r);
}

void x86_h_outs(X86Cpu *cpu, const X86Insn *in)
{
    uint16_t port = cpu->regs[R_EDX];
    x86_io_check(cpu, port, in->osz);
    Rep r = rep_begin(cpu, in);
    while (rep_more(cpu, &r)) {
        uint32_t si = getr(cpu, R_ESI, r.m);
        uint32_t v = x86_rd(cpu, in->seg, si, r.sz);
        ioport_write(cpu->bus.io, port, v, r.sz);
        setr(cpu, R_ESI, si + r.step, r.m);
        rep_advance(cpu, in, &r, 1);
    }
    rep_end(cpu, in, &r);
    cpu->block_end = true;
}
