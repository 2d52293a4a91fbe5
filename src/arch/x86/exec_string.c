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

static inline uint32_t amask(const X86Insn *in)
{
    return in->asz32 ? 0xffffffffu : 0xffffu;
}

static inline uint32_t getr(X86Cpu *cpu, int r, uint32_t m)
{
    return cpu->regs[r] & m;
}

static inline void setr(X86Cpu *cpu, int r, uint32_t v, uint32_t m)
{
    cpu->regs[r] = (cpu->regs[r] & ~m) | (v & m);
}

/* Count for this round; 0 means nothing to do. */
static inline uint32_t rep_count(X86Cpu *cpu, const X86Insn *in, uint32_t m)
{
    if (!in->rep) {
        return 1;
    }
    return getr(cpu, R_ECX, m);
}

/* After a chunk: if ECX is still non-zero, restart the instruction. */
static inline void rep_again(X86Cpu *cpu, const X86Insn *in)
{
    cpu->rip = in->ip;
    cpu->block_end = true;
    /* An event between iterations pushes RF=1, so the restarted insn
       does not hit its instruction breakpoint again (SDM Vol. 3B 17.3.1.1) */
    cpu->eflags |= F_RF;
}

/* Host pointer for a run of n bytes at lin, or NULL. */
static uint8_t *host_run(X86Cpu *cpu, uint32_t lin, bool write)
{
    TlbEntry *e = &cpu->tlb[cpu->tlb_user][(lin >> 12) & (TLB_SIZE - 1)];
    uint32_t tag = write ? e->tag_w : e->tag_r;
    if (tag == (lin & ~0xfffu)) {
        return (uint8_t *)(e->addend + lin);
    }
    return NULL;
}

void x86_h_movs(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t m = amask(in);
    unsigned sz = in->osz;
    uint32_t n = rep_count(cpu, in, m);
    if (n == 0) {
        return;
    }
    int step = (cpu->eflags & F_DF) ? -(int)sz : (int)sz;
    uint32_t done = 0;
    while (n > 0 && done < REP_CHUNK) {
        uint32_t si = getr(cpu, R_ESI, m), di = getr(cpu, R_EDI, m);
        if (step > 0 && n > 1 && REP_CHUNK > 1) {
            /* Bulk copy within one page on each side. */
            uint32_t sl = x86_seg_check(cpu, in->seg, si, sz, false);
            uint32_t dl = x86_seg_check(cpu, S_ES, di, sz, true);
            /* the run ends at whichever page end comes first */
            uint32_t so = sl & 0xfff, dof = dl & 0xfff;
            uint32_t room = 0x1000 - (so > dof ? so : dof);
            uint32_t k = room / sz;
            if (k > n) {
                k = n;
            }
            /* stay inside both segments and the address wrap */
            if (k > 1 && si + k * sz - 1 <= m && di + k * sz - 1 <= m &&
                si + k * sz - 1 <= cpu->seg[in->seg].hi &&
                di + k * sz - 1 <= cpu->seg[S_ES].hi) {
                uint8_t *s = host_run(cpu, sl, false);
                uint8_t *d = host_run(cpu, dl, true);
                if (s && d) {
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
                    n -= k;
                    done += k;
                    if (in->rep) {
                        setr(cpu, R_ECX, n, m);
                    }
                    continue;
                }
            }
        }
        uint32_t v = x86_rd(cpu, in->seg, si, sz);
        x86_wr(cpu, S_ES, di, v, sz);
        setr(cpu, R_ESI, si + step, m);
        setr(cpu, R_EDI, di + step, m);
        n--;
        done++;
        if (in->rep) {
            setr(cpu, R_ECX, n, m);
        }
        if (cpu->tb_dirty) {
            break;
        }
    }
    if (in->rep && n > 0) {
        rep_again(cpu, in);
    }
}

void x86_h_stos(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t m = amask(in);
    unsigned sz = in->osz;
    uint32_t n = rep_count(cpu, in, m);
    if (n == 0) {
        return;
    }
    int step = (cpu->eflags & F_DF) ? -(int)sz : (int)sz;
    uint32_t v = x86_getreg(cpu, R_EAX, sz);
    uint32_t done = 0;
    while (n > 0 && done < REP_CHUNK) {
        uint32_t di = getr(cpu, R_EDI, m);
        if (step > 0 && n > 1 && REP_CHUNK > 1) {
            uint32_t dl = x86_seg_check(cpu, S_ES, di, sz, true);
            uint32_t k = (0x1000 - (dl & 0xfff)) / sz;
            if (k > n) {
                k = n;
            }
            uint8_t *d;
            if (k > 1 && di + k * sz - 1 <= m &&
                di + k * sz - 1 <= cpu->seg[S_ES].hi &&
                (d = host_run(cpu, dl, true))) {
                if (sz == 1) {
                    memset(d, v, k);
                } else {
                    for (uint32_t i = 0; i < k; i++) {
                        x86_st_host(d + i * sz, v, sz);
                    }
                }
                setr(cpu, R_EDI, di + k * sz, m);
                n -= k;
                done += k;
                if (in->rep) {
                    setr(cpu, R_ECX, n, m);
                }
                continue;
            }
        }
        x86_wr(cpu, S_ES, di, v, sz);
        setr(cpu, R_EDI, di + step, m);
        n--;
        done++;
        if (in->rep) {
            setr(cpu, R_ECX, n, m);
        }
        if (cpu->tb_dirty) {
            break;
        }
    }
    if (in->rep && n > 0) {
        rep_again(cpu, in);
    }
}

void x86_h_lods(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t m = amask(in);
    unsigned sz = in->osz;
    uint32_t n = rep_count(cpu, in, m);
    int step = (cpu->eflags & F_DF) ? -(int)sz : (int)sz;
    uint32_t done = 0;
    while (n > 0 && done < REP_CHUNK) {
        uint32_t si = getr(cpu, R_ESI, m);
        x86_setreg(cpu, R_EAX, x86_rd(cpu, in->seg, si, sz), sz);
        setr(cpu, R_ESI, si + step, m);
        n--;
        done++;
        if (in->rep) {
            setr(cpu, R_ECX, n, m);
        }
    }
    if (in->rep && n > 0) {
        rep_again(cpu, in);
    }
}

static void cmp_set(X86Cpu *cpu, uint32_t a, uint32_t b, unsigned sz)
{
    x86_set_lazy(cpu, LF_SUB, sz, (a - b) & x86_mask(sz), a, b);
}

void x86_h_cmps(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t m = amask(in);
    unsigned sz = in->osz;
    uint32_t n = rep_count(cpu, in, m);
    int step = (cpu->eflags & F_DF) ? -(int)sz : (int)sz;
    uint32_t done = 0;
    while (n > 0 && done < REP_CHUNK) {
        uint32_t si = getr(cpu, R_ESI, m), di = getr(cpu, R_EDI, m);
        uint32_t a = x86_rd(cpu, in->seg, si, sz);
        uint32_t b = x86_rd(cpu, S_ES, di, sz);
        cmp_set(cpu, a, b, sz);
        setr(cpu, R_ESI, si + step, m);
        setr(cpu, R_EDI, di + step, m);
        n--;
        done++;
        if (!in->rep) {
            return;
        }
        setr(cpu, R_ECX, n, m);
        if ((in->rep == 0xf3) != (a == b)) {
            return;
        }
    }
    if (n > 0) {
        rep_again(cpu, in);
    }
}

void x86_h_scas(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t m = amask(in);
    unsigned sz = in->osz;
    uint32_t n = rep_count(cpu, in, m);
    int step = (cpu->eflags & F_DF) ? -(int)sz : (int)sz;
    uint32_t a = x86_getreg(cpu, R_EAX, sz);
    uint32_t done = 0;
    while (n > 0 && done < REP_CHUNK) {
        uint32_t di = getr(cpu, R_EDI, m);
        uint32_t b = x86_rd(cpu, S_ES, di, sz);
        cmp_set(cpu, a, b, sz);
        setr(cpu, R_EDI, di + step, m);
        n--;
        done++;
        if (!in->rep) {
            return;
        }
        setr(cpu, R_ECX, n, m);
        if ((in->rep == 0xf3) != (a == b)) {
            return;
        }
    }
    if (n > 0) {
        rep_again(cpu, in);
    }
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
    uint32_t m = amask(in);
    unsigned sz = in->osz;
    uint16_t port = cpu->regs[R_EDX];
    x86_io_check(cpu, port, sz);
    uint32_t n = rep_count(cpu, in, m);
    int step = (cpu->eflags & F_DF) ? -(int)sz : (int)sz;
    uint32_t done = 0;
    while (n > 0 && done < REP_CHUNK) {
        uint32_t di = getr(cpu, R_EDI, m);
        if (step > 0 && n > 1 && REP_CHUNK > 1) {
            /* fw_cfg streams kernels with REP INSB: fill page runs. */
            uint32_t dl = x86_seg_check(cpu, S_ES, di, sz, true);
            uint32_t k = (0x1000 - (dl & 0xfff)) / sz;
            if (k > n) {
                k = n;
            }
            uint8_t *d;
            if (k > 1 && di + k * sz - 1 <= m &&
                di + k * sz - 1 <= cpu->seg[S_ES].hi &&
                (d = host_run(cpu, dl, true))) {
                for (uint32_t i = 0; i < k; i++) {
                    x86_st_host(d + i * sz, ioport_read(cpu->bus.io, port, sz),
                                sz);
                }
                setr(cpu, R_EDI, di + k * sz, m);
                n -= k;
                done += k;
                if (in->rep) {
                    setr(cpu, R_ECX, n, m);
                }
                continue;
            }
        }
        /* Check the destination before the port read has side effects. */
        uint32_t lin = x86_seg_check(cpu, S_ES, di, sz, true);
        x86_write_lin(cpu, lin, x86_read_lin(cpu, lin, sz), sz);
        uint32_t v = ioport_read(cpu->bus.io, port, sz);
        x86_write_lin(cpu, lin, v, sz);
        setr(cpu, R_EDI, di + step, m);
        n--;
        done++;
        if (in->rep) {
            setr(cpu, R_ECX, n, m);
        }
        if (cpu->tb_dirty) {
            break;
        }
    }
    if (in->rep && n > 0) {
        rep_again(cpu, in);
    }
}

void x86_h_outs(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t m = amask(in);
    unsigned sz = in->osz;
    uint16_t port = cpu->regs[R_EDX];
    x86_io_check(cpu, port, sz);
    uint32_t n = rep_count(cpu, in, m);
    int step = (cpu->eflags & F_DF) ? -(int)sz : (int)sz;
    uint32_t done = 0;
    while (n > 0 && done < REP_CHUNK) {
        uint32_t si = getr(cpu, R_ESI, m);
        uint32_t v = x86_rd(cpu, in->seg, si, sz);
        ioport_write(cpu->bus.io, port, v, sz);
        setr(cpu, R_ESI, si + step, m);
        n--;
        done++;
        if (in->rep) {
            setr(cpu, R_ECX, n, m);
        }
    }
    if (in->rep && n > 0) {
        rep_again(cpu, in);
    }
    cpu->block_end = true;
}
