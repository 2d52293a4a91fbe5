/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integer arithmetic, logic, shifts/rotates, multiply/divide, BCD, bit
 * operations and data moves of the x86 core, with lazy flags.
 *
 * Specification: SDM Vol. 2 (instruction reference), Vol. 1 3.4.3
 * (EFLAGS) and appendix A of Vol. 1 (flag effects).
 */
#include "arch/x86/ops.h"

const uint8_t x86_parity[256] = {
#define P2(n) n, n ^ 4, n ^ 4, n
#define P4(n) P2(n), P2(n ^ 4), P2(n ^ 4), P2(n)
#define P6(n) P4(n), P4(n ^ 4), P4(n ^ 4), P4(n)
    P6(4), P6(0), P6(0), P6(4)
#undef P2
#undef P4
#undef P6
};

/* ---- lazy flags ---- */

/* Masks by operand size up to 8 bytes (64-bit mode's lazy flags). */
static inline uint64_t lmask(unsigned size)
{
    return size == 8 ? ~(uint64_t)0 : ((uint64_t)1 << (size * 8)) - 1;
}

static inline uint64_t lsign(unsigned size)
{
    return (uint64_t)1 << (size * 8 - 1);
}

static uint32_t lazy_cf(X86Cpu *cpu)
{
    uint64_t m = lmask(cpu->lf_size);
    uint64_t res = cpu->lf_res & m, a = cpu->lf_a & m, b = cpu->lf_b & m;
    switch (cpu->lf_op) {
    case LF_ADD:
        return res < a;
    case LF_ADC:
        return (res < a) || (res == a && b != 0 && cpu->lf_cf) ||
               (cpu->lf_cf && b == m);
    case LF_SUB:
        return a < b;
    case LF_SBB:
        return a < b || (cpu->lf_cf && a == b) ||
               (cpu->lf_cf && b == m);
    case LF_LOGIC:
        return 0;
    case LF_INC:
    case LF_DEC:
        return cpu->lf_cf;
    }
    return cpu->eflags & F_CF;
}

static uint32_t lazy_of(X86Cpu *cpu)
{
    uint64_t s = lsign(cpu->lf_size);
    uint64_t res = cpu->lf_res, a = cpu->lf_a, b = cpu->lf_b;
    switch (cpu->lf_op) {
    case LF_ADD:
    case LF_ADC:
        return ((a ^ res) & (b ^ res) & s) != 0;
    case LF_SUB:
    case LF_SBB:
        return ((a ^ b) & (a ^ res) & s) != 0;
    case LF_LOGIC:
        return 0;
    case LF_INC:
        return (res & lmask(cpu->lf_size)) == s;
    case LF_DEC:
        return (res & lmask(cpu->lf_size)) == s - 1;
    }
    return (cpu->eflags & F_OF) != 0;
}

static uint32_t szp(uint32_t res, unsigned size);

uint32_t x86_get_eflags(X86Cpu *cpu)
{
    if (cpu->lf_op == LF_NONE) {
        return cpu->eflags;
    }
    uint64_t res = cpu->lf_res & lmask(cpu->lf_size);
    if (cpu->lf_op == LF_LOGIC) { /* CF = OF = 0, AF cleared */
        return (cpu->eflags & ~F_ARITH) | x86_parity[res & 0xff] |
               (res == 0 ? F_ZF : 0) |
               (res & lsign(cpu->lf_size) ? F_SF : 0);
    }
    uint32_t f = cpu->eflags & ~F_ARITH;
    if (lazy_cf(cpu)) {
        f |= F_CF;
    }
    f |= x86_parity[res & 0xff];
    if (cpu->lf_op != LF_LOGIC) {
        f |= (cpu->lf_a ^ cpu->lf_b ^ cpu->lf_res) & F_AF;
    }
    if (cpu->lf_op == LF_INC || cpu->lf_op == LF_DEC) {
        /* b is 1 */
    }
    if (res == 0) {
        f |= F_ZF;
    }
    if (res & lsign(cpu->lf_size)) {
        f |= F_SF;
    }
    if (lazy_of(cpu)) {
        f |= F_OF;
    }
    return f;
}

void x86_set_eflags(X86Cpu *cpu, uint32_t v, uint32_t mask)
{
    x86_flags_flush(cpu);
    uint32_t old = cpu->eflags;
    cpu->eflags = (cpu->eflags & ~mask) | (v & mask);
    cpu->eflags |= 2;
    cpu->eflags &= ~(0x8 | 0x20 | 0x8000);
    if (G_UNLIKELY((old ^ cpu->eflags) & F_AC) && (cpu->cr0 & CR0_AM)) {
        x86_tlb_flush(cpu, true); /* alignment checks on or off (mmu.c) */
    }
}

bool x86_cf(X86Cpu *cpu)
{
    switch (cpu->lf_op) {
    case LF_NONE:
        return (cpu->eflags & F_CF) != 0;
    case LF_LOGIC:
        return false;
    case LF_INC:
    case LF_DEC:
        return cpu->lf_cf;
    default:
        return lazy_cf(cpu) != 0;
    }
}

bool x86_zf(X86Cpu *cpu)
{
    return cpu->lf_op == LF_NONE ? (cpu->eflags & F_ZF) != 0
                                 : (cpu->lf_res & lmask(cpu->lf_size)) == 0;
}

bool x86_sf(X86Cpu *cpu)
{
    return cpu->lf_op == LF_NONE ? (cpu->eflags & F_SF) != 0
                                 : (cpu->lf_res & lsign(cpu->lf_size)) != 0;
}

bool x86_of(X86Cpu *cpu)
{
    return cpu->lf_op == LF_NONE ? (cpu->eflags & F_OF) != 0
                                 : lazy_of(cpu) != 0;
}

bool x86_pf(X86Cpu *cpu)
{
    return cpu->lf_op == LF_NONE ? (cpu->eflags & F_PF) != 0
                                 : x86_parity[cpu->lf_res & 0xff] != 0;
}

/* cc (0..15) from a full EFLAGS image. */
static inline bool cond_flags(uint32_t f, int cc)
{
    bool r;
    switch (cc >> 1) {
    case 0: r = f & F_OF; break;
    case 1: r = f & F_CF; break;
    case 2: r = f & F_ZF; break;
    case 3: r = f & (F_CF | F_ZF); break;
    case 4: r = f & F_SF; break;
    case 5: r = f & F_PF; break;
    case 6: r = !(f & F_SF) != !(f & F_OF); break;
    default: r = (f & F_ZF) || (!(f & F_SF) != !(f & F_OF)); break;
    }
    return r ^ (cc & 1);
}

/* Jcc/SETcc/CMOVcc: after CMP/SUB (LF_SUB) the unsigned and signed
   orders of the operands are the conditions themselves (B = a < b,
   BE = a <= b, L = SF != OF = a < b signed, LE = a <= b signed); after
   logic ops CF = OF = 0.  Anything else goes through the flags image. */
static inline __attribute__((always_inline))
bool cond_eval(X86Cpu *cpu, int cc)
{
    bool r;
    switch (cpu->lf_op) {
    case LF_NONE:
        return cond_flags(cpu->eflags, cc);
    case LF_SUB: {
        /* Operands shifted to the top of 64 bits: compare whole. */
        unsigned sh = 64 - cpu->lf_size * 8;
        uint64_t a = cpu->lf_a << sh, b = cpu->lf_b << sh;
        switch (cc >> 1) {
        case 1: r = a < b; break;
        case 2: r = a == b; break;
        case 3: r = a <= b; break;
        case 6: r = (int64_t)a < (int64_t)b; break;
        case 7: r = (int64_t)a <= (int64_t)b; break;
        default: return cond_flags(x86_get_eflags(cpu), cc);
        }
        return r ^ (cc & 1);
    }
    case LF_LOGIC: {
        unsigned sh = 64 - cpu->lf_size * 8;
        int64_t v = (int64_t)(cpu->lf_res << sh);
        switch (cc >> 1) {
        case 0: r = false; break;
        case 1: r = false; break;
        case 2: r = v == 0; break;
        case 3: r = v == 0; break;
        case 4: r = v < 0; break;
        case 6: r = v < 0; break;
        case 7: r = v <= 0; break;
        default: return cond_flags(x86_get_eflags(cpu), cc);
        }
        return r ^ (cc & 1);
    }
    default:
        if ((cc >> 1) == 2) { /* ZF: the result is zero */
            unsigned sh = 64 - cpu->lf_size * 8;
            return ((cpu->lf_res << sh) == 0) ^ (cc & 1);
        }
        return cond_flags(x86_get_eflags(cpu), cc);
    }
}

bool x86_cond(X86Cpu *cpu, int cc)
{
    return cond_eval(cpu, cc);
}

/* Set the arithmetic flags eagerly. */
static void set_arith(X86Cpu *cpu, uint32_t f)
{
    cpu->lf_op = LF_NONE;
    cpu->eflags = (cpu->eflags & ~F_ARITH) | (f & F_ARITH);
}

static uint32_t szp(uint32_t res, unsigned size)
{
    uint32_t f = x86_parity[res & 0xff];
    res &= x86_mask(size);
    if (res == 0) {
        f |= F_ZF;
    }
    if (res & x86_sign(size)) {
        f |= F_SF;
    }
    return f;
}

/* ---- ALU core ---- */

static inline __attribute__((always_inline))
uint32_t alu(X86Cpu *cpu, int op, uint32_t a, uint32_t b, unsigned size)
{
    uint32_t m = x86_mask(size), r, c;
    switch (op) {
    case 0: /* ADD */
        r = (a + b) & m;
        x86_set_lazy(cpu, LF_ADD, size, r, a, b);
        return r;
    case 1: /* OR */
        r = a | b;
        x86_set_lazy(cpu, LF_LOGIC, size, r, 0, 0);
        return r;
    case 2: /* ADC */
        c = x86_cf(cpu);
        r = (a + b + c) & m;
        x86_set_lazy(cpu, LF_ADC, size, r, a, b);
        cpu->lf_cf = c;
        return r;
    case 3: /* SBB */
        c = x86_cf(cpu);
        r = (a - b - c) & m;
        x86_set_lazy(cpu, LF_SBB, size, r, a, b);
        cpu->lf_cf = c;
        return r;
    case 4: /* AND */
        r = a & b;
        x86_set_lazy(cpu, LF_LOGIC, size, r, 0, 0);
        return r;
    case 5: /* SUB */
    case 7: /* CMP */
        r = (a - b) & m;
        x86_set_lazy(cpu, LF_SUB, size, r, a, b);
        return r;
    default: /* XOR */
        r = a ^ b;
        x86_set_lazy(cpu, LF_LOGIC, size, r, 0, 0);
        return r;
    }
}

void x86_h_alu_rm_r(X86Cpu *cpu, const X86Insn *in)
{
    int op = (in->op >> 3) & 7;
    unsigned sz = in->osz;
    uint32_t b = x86_getreg(cpu, in->reg, sz);
    if (in->mod == 3) {
        uint32_t r = alu(cpu, op, x86_getreg(cpu, in->rm, sz), b, sz);
        if (op != 7) {
            x86_setreg(cpu, in->rm, r, sz);
        }
        return;
    }
    uint32_t ea = x86_ea(cpu, in);
    uint32_t lin = x86_seg_check(cpu, in->seg, ea, sz, op != 7);
    uint32_t r = alu(cpu, op, x86_read_lin(cpu, lin, sz), b, sz);
    if (op != 7) {
        x86_write_lin(cpu, lin, r, sz);
    }
}

void x86_h_alu_r_rm(X86Cpu *cpu, const X86Insn *in)
{
    int op = (in->op >> 3) & 7;
    unsigned sz = in->osz;
    uint32_t b = x86_rm_read(cpu, in, sz);
    uint32_t r = alu(cpu, op, x86_getreg(cpu, in->reg, sz), b, sz);
    if (op != 7) {
        x86_setreg(cpu, in->reg, r, sz);
    }
}

void x86_h_alu_a_imm(X86Cpu *cpu, const X86Insn *in)
{
    int op = (in->op >> 3) & 7;
    unsigned sz = in->osz;
    uint32_t r = alu(cpu, op, x86_getreg(cpu, R_EAX, sz), in->imm, sz);
    if (op != 7) {
        x86_setreg(cpu, R_EAX, r, sz);
    }
}

void x86_h_alu_rm_imm(X86Cpu *cpu, const X86Insn *in)
{
    int op = in->reg;
    unsigned sz = in->osz;
    uint32_t b = in->imm & x86_mask(sz);
    if (in->mod == 3) {
        uint32_t r = alu(cpu, op, x86_getreg(cpu, in->rm, sz), b, sz);
        if (op != 7) {
            x86_setreg(cpu, in->rm, r, sz);
        }
        return;
    }
    uint32_t lin = x86_seg_check(cpu, in->seg, x86_ea(cpu, in), sz, op != 7);
    uint32_t r = alu(cpu, op, x86_read_lin(cpu, lin, sz), b, sz);
    if (op != 7) {
        x86_write_lin(cpu, lin, r, sz);
    }
}

void x86_h_test_rm_r(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t r = x86_rm_read(cpu, in, in->osz) &
                 x86_getreg(cpu, in->reg, in->osz);
    x86_set_lazy(cpu, LF_LOGIC, in->osz, r, 0, 0);
}

void x86_h_test_a_imm(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t r = x86_getreg(cpu, R_EAX, in->osz) & in->imm;
    x86_set_lazy(cpu, LF_LOGIC, in->osz, r, 0, 0);
}

static uint32_t do_inc(X86Cpu *cpu, uint32_t v, unsigned sz, bool dec)
{
    uint8_t c = x86_cf(cpu);
    uint32_t r = (dec ? v - 1 : v + 1) & x86_mask(sz);
    x86_set_lazy(cpu, dec ? LF_DEC : LF_INC, sz, r, v, 1);
    cpu->lf_cf = c;
    return r;
}

void x86_h_inc_r(X86Cpu *cpu, const X86Insn *in)
{
    int r = in->op & 7;
    x86_setreg(cpu, r, do_inc(cpu, x86_getreg(cpu, r, in->osz), in->osz,
                              false), in->osz);
}

void x86_h_dec_r(X86Cpu *cpu, const X86Insn *in)
{
    int r = in->op & 7;
    x86_setreg(cpu, r, do_inc(cpu, x86_getreg(cpu, r, in->osz), in->osz,
                              true), in->osz);
}

void x86_h_incdec_rm8(X86Cpu *cpu, const X86Insn *in)
{
    if (in->mod == 3) {
        x86_setreg(cpu, in->rm, do_inc(cpu, x86_getreg(cpu, in->rm, 1), 1,
                                       in->reg), 1);
        return;
    }
    uint32_t lin = x86_seg_check(cpu, in->seg, x86_ea(cpu, in), 1, true);
    x86_write_lin(cpu, lin, do_inc(cpu, x86_read_lin(cpu, lin, 1), 1,
                                   in->reg), 1);
}

/* INC/DEC Ev for grp5 (exec_control.c handles the rest). */
void x86_grp5_incdec(X86Cpu *cpu, const X86Insn *in);
void x86_grp5_incdec(X86Cpu *cpu, const X86Insn *in)
{
    unsigned sz = in->osz;
    if (in->mod == 3) {
        x86_setreg(cpu, in->rm, do_inc(cpu, x86_getreg(cpu, in->rm, sz), sz,
                                       in->reg), sz);
        return;
    }
    uint32_t lin = x86_seg_check(cpu, in->seg, x86_ea(cpu, in), sz, true);
    x86_write_lin(cpu, lin, do_inc(cpu, x86_read_lin(cpu, lin, sz), sz,
                                   in->reg), sz);
}

/* ---- shifts and rotates ---- */

static inline __attribute__((always_inline))
uint32_t shift_op(X86Cpu *cpu, int op, uint32_t v, unsigned cnt, unsigned sz)
{
    unsigned bits = sz * 8;
    uint32_t m = x86_mask(sz), s = x86_sign(sz);
    cnt &= 0x1f;
    if (cnt == 0) {
        return v;
    }
    /* SHL/SHR/SAR replace every arithmetic flag: no need to evaluate
       the lazy ones (eflags holds the others whatever lf_op). */
    uint32_t f = op >= 4 ? cpu->eflags : x86_get_eflags(cpu);
    uint32_t r = v, cf;
    switch (op) {
    case 0: { /* ROL */
        unsigned c = cnt % bits;
        r = ((v << c) | (c ? v >> (bits - c) : 0)) & m;
        cf = r & 1;
        f = (f & ~(F_CF | F_OF)) | (cf ? F_CF : 0);
        if (((r & s) != 0) ^ cf) {
            f |= F_OF;
        }
        break;
    }
    case 1: { /* ROR */
        unsigned c = cnt % bits;
        r = ((v >> c) | (c ? v << (bits - c) : 0)) & m;
        cf = (r & s) != 0;
        f = (f & ~(F_CF | F_OF)) | (cf ? F_CF : 0);
        if (((r & s) != 0) ^ ((r & (s >> 1)) != 0)) {
            f |= F_OF;
        }
        break;
    }
    case 2: { /* RCL */
        unsigned c = cnt % (bits + 1);
        uint64_t x = ((uint64_t)(f & F_CF) << bits) | v;
        for (unsigned i = 0; i < c; i++) {
            x = ((x << 1) | (x >> bits)) & ((2ull << (bits)) - 1);
        }
        r = x & m;
        cf = (x >> bits) & 1;
        f = (f & ~(F_CF | F_OF)) | (cf ? F_CF : 0);
        if (((r & s) != 0) ^ cf) {
            f |= F_OF;
        }
        break;
    }
    case 3: { /* RCR */
        unsigned c = cnt % (bits + 1);
        uint64_t x = ((uint64_t)(f & F_CF) << bits) | v;
        for (unsigned i = 0; i < c; i++) {
            x = ((x >> 1) | ((x & 1) << bits));
        }
        r = x & m;
        cf = (x >> bits) & 1;
        f = (f & ~(F_CF | F_OF)) | (cf ? F_CF : 0);
        if (((r & s) != 0) ^ ((r & (s >> 1)) != 0)) {
            f |= F_OF;
        }
        break;
    }
    case 4: case 6: /* SHL/SAL */
        if (cnt > bits) {
            r = 0;
            cf = 0;
        } else {
            r = ((uint64_t)v << cnt) & m;
            cf = ((uint64_t)v >> (bits - cnt)) & 1;
        }
        f = (f & ~F_ARITH) | szp(r, sz) | (cf ? F_CF : 0);
        if (((r & s) != 0) ^ cf) {
            f |= F_OF;
        }
        break;
    case 5: /* SHR */
        if (cnt > bits) {
            r = 0;
            cf = 0;
        } else {
            r = (uint32_t)((uint64_t)v >> cnt);
            cf = ((uint64_t)v >> (cnt - 1)) & 1;
        }
        f = (f & ~F_ARITH) | szp(r, sz) | (cf ? F_CF : 0);
        /* OF = MSB(orig) for count 1; for larger counts (undefined) the
           hardware gives the top two result bits XORed. */
        if (cnt == 1 ? (v & s) : ((r ^ (r << 1)) & s)) {
            f |= F_OF;
        }
        break;
    default: { /* SAR */
        int64_t sv = (v & s) ? (int64_t)(v | ~(uint64_t)m) : v;
        unsigned c = cnt > bits ? bits : cnt;
        r = (uint32_t)(sv >> c) & m;
        cf = (sv >> (c - 1)) & 1;
        f = (f & ~F_ARITH) | szp(r, sz) | (cf ? F_CF : 0);
        break;
    }
    }
    cpu->lf_op = LF_NONE;
    cpu->eflags = f;
    return r;
}

void x86_h_shift_rm(X86Cpu *cpu, const X86Insn *in)
{
    unsigned cnt;
    if (in->op == 0xd0 || in->op == 0xd1) {
        cnt = 1;
    } else if (in->op == 0xd2 || in->op == 0xd3) {
        cnt = cpu->regs[R_ECX] & 0xff;
    } else {
        cnt = in->imm & 0xff;
    }
    unsigned sz = in->osz;
    if (in->mod == 3) {
        x86_setreg(cpu, in->rm, shift_op(cpu, in->reg,
                   x86_getreg(cpu, in->rm, sz), cnt, sz), sz);
        return;
    }
    uint32_t lin = x86_seg_check(cpu, in->seg, x86_ea(cpu, in), sz, true);
    uint32_t v = x86_read_lin(cpu, lin, sz);
    x86_write_lin(cpu, lin, shift_op(cpu, in->reg, v, cnt, sz), sz);
}

static void shxd(X86Cpu *cpu, const X86Insn *in, bool left)
{
    unsigned cnt = ((in->op & 1) ? cpu->regs[R_ECX] : in->imm) & 0x1f;
    unsigned sz = in->osz, bits = sz * 8;
    uint32_t lin = 0;
    uint32_t d;
    if (in->mod == 3) {
        d = x86_getreg(cpu, in->rm, sz);
    } else {
        lin = x86_seg_check(cpu, in->seg, x86_ea(cpu, in), sz, true);
        d = x86_read_lin(cpu, lin, sz);
    }
    if (cnt == 0) {
        return;
    }
    uint32_t s = x86_getreg(cpu, in->reg, sz);
    uint32_t r, cf;
    uint64_t x;
    if (sz == 2) {
        /* 16-bit: the 32-bit pattern d:s repeats for counts > 16. */
        x = ((uint64_t)d << 32) | ((uint64_t)s << 16) | d;
        if (left) {
            x <<= cnt;
            r = (x >> 32) & 0xffff;
            cf = (x >> 48) & 1;
        } else {
            x = ((uint64_t)d << 32) | ((uint64_t)s << 16) | d;
            x = ((uint64_t)s << 16 | d) | ((uint64_t)d << 32);
            uint64_t y = ((uint64_t)d) | ((uint64_t)s << 16) |
                         ((uint64_t)d << 32);
            r = (y >> cnt) & 0xffff;
            cf = (y >> (cnt - 1)) & 1;
        }
    } else {
        if (left) {
            x = ((uint64_t)d << 32) | s;
            r = (uint32_t)((x << cnt) >> 32);
            cf = (d >> (32 - cnt)) & 1;
        } else {
            x = ((uint64_t)s << 32) | d;
            r = (uint32_t)(x >> cnt);
            cf = (d >> (cnt - 1)) & 1;
        }
    }
    (void)bits;
    uint32_t f = (x86_get_eflags(cpu) & ~F_ARITH) | szp(r, sz) |
                 (cf ? F_CF : 0);
    if ((r ^ d) & x86_sign(sz)) {
        f |= F_OF;
    }
    cpu->lf_op = LF_NONE;
    cpu->eflags = f;
    if (in->mod == 3) {
        x86_setreg(cpu, in->rm, r, sz);
    } else {
        x86_write_lin(cpu, lin, r, sz);
    }
}

void x86_h_shld(X86Cpu *cpu, const X86Insn *in)
{
    shxd(cpu, in, true);
}

void x86_h_shrd(X86Cpu *cpu, const X86Insn *in)
{
    shxd(cpu, in, false);
}

/* ---- multiply / divide ---- */

static void mul_flags(X86Cpu *cpu, bool ovf, uint32_t low, unsigned sz)
{
    uint32_t f = szp(low, sz);
    if (ovf) {
        f |= F_CF | F_OF;
    }
    set_arith(cpu, f);
}

void x86_h_unary_rm(X86Cpu *cpu, const X86Insn *in)
{
    unsigned sz = in->osz;
    uint32_t m = x86_mask(sz);
    switch (in->reg) {
    case 0:
    case 1: {
        uint32_t r = x86_rm_read(cpu, in, sz) & in->imm;
        x86_set_lazy(cpu, LF_LOGIC, sz, r, 0, 0);
        return;
    }
    case 2:
    case 3: {
        uint32_t lin = 0, v;
        if (in->mod == 3) {
            v = x86_getreg(cpu, in->rm, sz);
        } else {
            lin = x86_seg_check(cpu, in->seg, x86_ea(cpu, in), sz, true);
            v = x86_read_lin(cpu, lin, sz);
        }
        uint32_t r;
        if (in->reg == 2) {
            r = ~v & m;
        } else {
            r = (0 - v) & m;
            x86_set_lazy(cpu, LF_SUB, sz, r, 0, v);
        }
        if (in->mod == 3) {
            x86_setreg(cpu, in->rm, r, sz);
        } else {
            x86_write_lin(cpu, lin, r, sz);
        }
        return;
    }
    }
    uint32_t src = x86_rm_read(cpu, in, sz);
    switch (in->reg) {
    case 4: /* MUL */
        if (sz == 1) {
            uint32_t r = (cpu->regs[R_EAX] & 0xff) * src;
            x86_setreg(cpu, R_EAX, r, 2);
            mul_flags(cpu, r >> 8, r, 1);
        } else if (sz == 2) {
            uint32_t r = (cpu->regs[R_EAX] & 0xffff) * src;
            x86_setreg(cpu, R_EAX, r, 2);
            x86_setreg(cpu, R_EDX, r >> 16, 2);
            mul_flags(cpu, r >> 16, r, 2);
        } else {
            uint64_t r = (uint64_t)(uint32_t)cpu->regs[R_EAX] * src;
            cpu->regs[R_EAX] = (uint32_t)r;
            cpu->regs[R_EDX] = r >> 32;
            mul_flags(cpu, r >> 32, r, 4);
        }
        return;
    case 5: /* IMUL */
        if (sz == 1) {
            int32_t r = (int8_t)cpu->regs[R_EAX] * (int8_t)src;
            x86_setreg(cpu, R_EAX, r, 2);
            mul_flags(cpu, r != (int8_t)r, r, 1);
        } else if (sz == 2) {
            int32_t r = (int16_t)cpu->regs[R_EAX] * (int16_t)src;
            x86_setreg(cpu, R_EAX, r, 2);
            x86_setreg(cpu, R_EDX, (uint32_t)r >> 16, 2);
            mul_flags(cpu, r != (int16_t)r, r, 2);
        } else {
            int64_t r = (int64_t)(int32_t)cpu->regs[R_EAX] * (int32_t)src;
            cpu->regs[R_EAX] = (uint32_t)r;
            cpu->regs[R_EDX] = (uint64_t)r >> 32;
            mul_flags(cpu, r != (int32_t)r, r, 4);
        }
        return;
    case 6: /* DIV */
        if (src == 0) {
            x86_raise(cpu, EX_DE, 0);
        }
        if (sz == 1) {
            uint32_t a = cpu->regs[R_EAX] & 0xffff;
            uint32_t q = a / src;
            if (q > 0xff) {
                x86_raise(cpu, EX_DE, 0);
            }
            x86_setreg(cpu, R_EAX, q | (a % src) << 8, 2);
        } else if (sz == 2) {
            uint32_t a = (cpu->regs[R_EDX] & 0xffff) << 16 |
                         (cpu->regs[R_EAX] & 0xffff);
            uint32_t q = a / src;
            if (q > 0xffff) {
                x86_raise(cpu, EX_DE, 0);
            }
            x86_setreg(cpu, R_EAX, q, 2);
            x86_setreg(cpu, R_EDX, a % src, 2);
        } else {
            uint64_t a = (uint64_t)(uint32_t)cpu->regs[R_EDX] << 32 |
                         (uint32_t)cpu->regs[R_EAX];
            uint64_t q = a / src;
            if (q > 0xffffffffu) {
                x86_raise(cpu, EX_DE, 0);
            }
            cpu->regs[R_EAX] = (uint32_t)q;
            cpu->regs[R_EDX] = (uint32_t)(a % src);
        }
        return;
    default: /* IDIV */
        if (src == 0) {
            x86_raise(cpu, EX_DE, 0);
        }
        if (sz == 1) {
            int32_t a = (int16_t)cpu->regs[R_EAX];
            int32_t d = (int8_t)src;
            int32_t q = a / d;
            if (q != (int8_t)q) {
                x86_raise(cpu, EX_DE, 0);
            }
            x86_setreg(cpu, R_EAX, (q & 0xff) | ((a % d) & 0xff) << 8, 2);
        } else if (sz == 2) {
            int32_t a = (int32_t)((cpu->regs[R_EDX] & 0xffff) << 16 |
                                  (cpu->regs[R_EAX] & 0xffff));
            int32_t d = (int16_t)src;
            if (a == INT32_MIN && d == -1) {
                x86_raise(cpu, EX_DE, 0);
            }
            int32_t q = a / d;
            if (q != (int16_t)q) {
                x86_raise(cpu, EX_DE, 0);
            }
            x86_setreg(cpu, R_EAX, q, 2);
            x86_setreg(cpu, R_EDX, a % d, 2);
        } else {
            int64_t a = (int64_t)((uint64_t)(uint32_t)cpu->regs[R_EDX] << 32 |
                                  (uint32_t)cpu->regs[R_EAX]);
            int64_t d = (int32_t)src;
            if (a == INT64_MIN && d == -1) {
                x86_raise(cpu, EX_DE, 0);
            }
            int64_t q = a / d;
            if (q != (int32_t)q) {
                x86_raise(cpu, EX_DE, 0);
            }
            cpu->regs[R_EAX] = (uint32_t)q;
            cpu->regs[R_EDX] = (uint32_t)(a % d);
        }
        return;
    }
}

static void imul_common(X86Cpu *cpu, const X86Insn *in, uint32_t a,
                        uint32_t b)
{
    unsigned sz = in->osz;
    if (sz == 2) {
        int32_t r = (int16_t)a * (int16_t)b;
        x86_setreg(cpu, in->reg, r, 2);
        mul_flags(cpu, r != (int16_t)r, r, 2);
    } else {
        int64_t r = (int64_t)(int32_t)a * (int32_t)b;
        cpu->regs[in->reg] = (uint32_t)r;
        mul_flags(cpu, r != (int32_t)r, r, 4);
    }
}

void x86_h_imul3(X86Cpu *cpu, const X86Insn *in)
{
    imul_common(cpu, in, x86_rm_read(cpu, in, in->osz), in->imm);
}

void x86_h_imul2(X86Cpu *cpu, const X86Insn *in)
{
    imul_common(cpu, in, x86_rm_read(cpu, in, in->osz),
                x86_getreg(cpu, in->reg, in->osz));
}

/* ---- BCD ---- */

void x86_h_daa(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t f = x86_get_eflags(cpu);
    uint8_t al = cpu->regs[R_EAX], old = al;
    bool cf = f & F_CF, af = false;
    if ((al & 0xf) > 9 || (f & F_AF)) {
        cf = cf || al > 0xf9;
        al += 6;
        af = true;
    }
    if (old > 0x99 || (f & F_CF)) {
        al += 0x60;
        cf = true;
    }
    x86_setreg(cpu, R_EAX, al, 1);
    f = szp(al, 1) | (cf ? F_CF : 0) | (af ? F_AF : 0);
    set_arith(cpu, f);
}

void x86_h_das(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t f = x86_get_eflags(cpu);
    uint8_t al = cpu->regs[R_EAX], old = al;
    bool cf = f & F_CF, af = false;
    if ((al & 0xf) > 9 || (f & F_AF)) {
        cf = cf || al < 6;
        al -= 6;
        af = true;
    }
    if (old > 0x99 || (f & F_CF)) {
        al -= 0x60;
        cf = true;
    }
    x86_setreg(cpu, R_EAX, al, 1);
    f = szp(al, 1) | (cf ? F_CF : 0) | (af ? F_AF : 0);
    set_arith(cpu, f);
}

static void aaa_aas(X86Cpu *cpu, bool sub)
{
    uint32_t f = x86_get_eflags(cpu);
    uint32_t ax = cpu->regs[R_EAX] & 0xffff;
    if ((ax & 0xf) > 9 || (f & F_AF)) {
        if (sub) {
            ax = (ax - 6) & 0xffff;
            ax = (ax & 0xff) | ((((ax >> 8) - 1) & 0xff) << 8);
        } else {
            ax += 0x106;
        }
        f = (f & ~F_ARITH) | F_AF | F_CF;
    } else {
        f &= ~(F_AF | F_CF);
    }
    ax &= 0xff0f;
    x86_setreg(cpu, R_EAX, ax, 2);
    f = (f & ~(F_ZF | F_SF | F_PF | F_OF)) | szp(ax & 0xff, 1);
    set_arith(cpu, f);
}

void x86_h_aaa(X86Cpu *cpu, const X86Insn *in)
{
    aaa_aas(cpu, false);
}

void x86_h_aas(X86Cpu *cpu, const X86Insn *in)
{
    aaa_aas(cpu, true);
}

void x86_h_aam(X86Cpu *cpu, const X86Insn *in)
{
    uint8_t base = in->imm;
    if (base == 0) {
        x86_raise(cpu, EX_DE, 0);
    }
    uint8_t al = cpu->regs[R_EAX];
    uint32_t ax = ((al / base) << 8) | (al % base);
    x86_setreg(cpu, R_EAX, ax, 2);
    set_arith(cpu, szp(ax & 0xff, 1));
}

void x86_h_aad(X86Cpu *cpu, const X86Insn *in)
{
    uint8_t al = cpu->regs[R_EAX], ah = cpu->regs[R_EAX] >> 8;
    uint8_t r = al + ah * (uint8_t)in->imm;
    x86_setreg(cpu, R_EAX, r, 2);
    alu(cpu, 0, al, (uint8_t)(ah * (uint8_t)in->imm), 1);
    x86_flags_flush(cpu);
}

void x86_h_salc(X86Cpu *cpu, const X86Insn *in)
{
    x86_setreg(cpu, R_EAX, x86_cf(cpu) ? 0xff : 0, 1);
}

/* ---- moves and conversions ---- */

void x86_h_mov_rm_r(X86Cpu *cpu, const X86Insn *in)
{
    x86_rm_write(cpu, in, x86_getreg(cpu, in->reg, in->osz), in->osz);
}

void x86_h_mov_r_rm(X86Cpu *cpu, const X86Insn *in)
{
    x86_setreg(cpu, in->reg, x86_rm_read(cpu, in, in->osz), in->osz);
}

void x86_h_mov_rm_imm(X86Cpu *cpu, const X86Insn *in)
{
    x86_rm_write(cpu, in, in->imm, in->osz);
}

void x86_h_mov_r_imm(X86Cpu *cpu, const X86Insn *in)
{
    x86_setreg(cpu, in->op & 7, in->imm, in->osz);
}

void x86_h_mov_a_moffs(X86Cpu *cpu, const X86Insn *in)
{
    x86_setreg(cpu, R_EAX, x86_rd(cpu, in->seg, in->imm, in->osz), in->osz);
}

void x86_h_mov_moffs_a(X86Cpu *cpu, const X86Insn *in)
{
    x86_wr(cpu, in->seg, in->imm, x86_getreg(cpu, R_EAX, in->osz), in->osz);
}

void x86_h_lea(X86Cpu *cpu, const X86Insn *in)
{
    x86_setreg(cpu, in->reg, x86_ea(cpu, in), in->osz);
}

void x86_h_xchg_rm_r(X86Cpu *cpu, const X86Insn *in)
{
    unsigned sz = in->osz;
    uint32_t r = x86_getreg(cpu, in->reg, sz);
    if (in->mod == 3) {
        x86_setreg(cpu, in->reg, x86_getreg(cpu, in->rm, sz), sz);
        x86_setreg(cpu, in->rm, r, sz);
        return;
    }
    uint32_t lin = x86_seg_check(cpu, in->seg, x86_ea(cpu, in), sz, true);
    uint32_t v = x86_read_lin(cpu, lin, sz);
    x86_write_lin(cpu, lin, r, sz);
    x86_setreg(cpu, in->reg, v, sz);
}

void x86_h_xchg_a(X86Cpu *cpu, const X86Insn *in)
{
    int r = in->op & 7;
    uint32_t t = x86_getreg(cpu, r, in->osz);
    x86_setreg(cpu, r, x86_getreg(cpu, R_EAX, in->osz), in->osz);
    x86_setreg(cpu, R_EAX, t, in->osz);
}

void x86_h_nop_rm(X86Cpu *cpu, const X86Insn *in)
{
}

void x86_h_cbw(X86Cpu *cpu, const X86Insn *in)
{
    if (in->osz == 2) {
        x86_setreg(cpu, R_EAX, (uint32_t)(int8_t)cpu->regs[R_EAX], 2);
    } else {
        cpu->regs[R_EAX] = (uint32_t)(int16_t)cpu->regs[R_EAX];
    }
}

void x86_h_cwd(X86Cpu *cpu, const X86Insn *in)
{
    if (in->osz == 2) {
        x86_setreg(cpu, R_EDX, (cpu->regs[R_EAX] & 0x8000) ? 0xffff : 0, 2);
    } else {
        cpu->regs[R_EDX] = (cpu->regs[R_EAX] & 0x80000000u) ? ~0u : 0;
    }
}

void x86_h_sahf(X86Cpu *cpu, const X86Insn *in)
{
    x86_set_eflags(cpu, (cpu->regs[R_EAX] >> 8) & 0xff,
                   F_CF | F_PF | F_AF | F_ZF | F_SF);
}

void x86_h_lahf(X86Cpu *cpu, const X86Insn *in)
{
    x86_setreg(cpu, 4, (x86_get_eflags(cpu) & 0xd5) | 2, 1);
}

void x86_h_xlat(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t a = cpu->regs[R_EBX] + (cpu->regs[R_EAX] & 0xff);
    if (!in->asz32) {
        a &= 0xffff;
    }
    x86_setreg(cpu, R_EAX, x86_rd(cpu, in->seg, a, 1), 1);
}

void x86_h_movzx(X86Cpu *cpu, const X86Insn *in)
{
    unsigned ssz = (in->op & 1) ? 2 : 1;
    x86_setreg(cpu, in->reg, x86_rm_read(cpu, in, ssz), in->osz);
}

void x86_h_movsx(X86Cpu *cpu, const X86Insn *in)
{
    unsigned ssz = (in->op & 1) ? 2 : 1;
    uint32_t v = x86_rm_read(cpu, in, ssz);
    v = ssz == 1 ? (uint32_t)(int8_t)v : (uint32_t)(int16_t)v;
    x86_setreg(cpu, in->reg, v, in->osz);
}

void x86_h_cmov(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t v = x86_rm_read(cpu, in, in->osz);
    if (x86_cond(cpu, in->op & 0xf)) {
        x86_setreg(cpu, in->reg, v, in->osz);
    }
}

void x86_h_setcc(X86Cpu *cpu, const X86Insn *in)
{
    x86_rm_write(cpu, in, x86_cond(cpu, in->op & 0xf), 1);
}

void x86_h_bswap(X86Cpu *cpu, const X86Insn *in)
{
    int r = in->op & 7;
    if (in->osz == 2) {
        /* Undefined; real CPUs clear the low word. */
        x86_setreg(cpu, r, 0, 2);
        return;
    }
    cpu->regs[r] = __builtin_bswap32(cpu->regs[r]);
}

void x86_h_xadd(X86Cpu *cpu, const X86Insn *in)
{
    unsigned sz = in->osz;
    uint32_t s = x86_getreg(cpu, in->reg, sz);
    if (in->mod == 3) {
        uint32_t d = x86_getreg(cpu, in->rm, sz);
        uint32_t r = alu(cpu, 0, d, s, sz);
        x86_setreg(cpu, in->reg, d, sz);
        x86_setreg(cpu, in->rm, r, sz);
        return;
    }
    uint32_t lin = x86_seg_check(cpu, in->seg, x86_ea(cpu, in), sz, true);
    uint32_t d = x86_read_lin(cpu, lin, sz);
    uint32_t r = alu(cpu, 0, d, s, sz);
    x86_write_lin(cpu, lin, r, sz);
    x86_setreg(cpu, in->reg, d, sz);
}

void x86_h_cmpxchg(X86Cpu *cpu, const X86Insn *in)
{
    unsigned sz = in->osz;
    uint32_t lin = 0, d;
    if (in->mod == 3) {
        d = x86_getreg(cpu, in->rm, sz);
    } else {
        lin = x86_seg_check(cpu, in->seg, x86_ea(cpu, in), sz, true);
        d = x86_read_lin(cpu, lin, sz);
    }
    uint32_t a = x86_getreg(cpu, R_EAX, sz);
    alu(cpu, 7, a, d, sz);
    uint32_t w = (a == d) ? x86_getreg(cpu, in->reg, sz) : d;
    if (in->mod == 3) {
        x86_setreg(cpu, in->rm, w, sz);
    } else {
        x86_write_lin(cpu, lin, w, sz); /* always written, as on hardware */
    }
    if (a != d) {
        x86_setreg(cpu, R_EAX, d, sz);
    }
}

void x86_h_cmpxchg8b(X86Cpu *cpu, const X86Insn *in)
{
    /* CMPXCHG8B m64 */
    uint32_t ea = x86_ea(cpu, in);
    uint32_t lo_lin = x86_seg_check(cpu, in->seg, ea, 8, true);
    x86_ac_check(cpu, lo_lin, 8);
    uint32_t lo = x86_read_lin(cpu, lo_lin, 4);
    uint32_t hi = x86_read_lin(cpu, lo_lin + 4, 4);
    x86_flags_flush(cpu);
    if (lo == cpu->regs[R_EAX] && hi == cpu->regs[R_EDX]) {
        x86_write_lin(cpu, lo_lin, cpu->regs[R_EBX], 4);
        x86_write_lin(cpu, lo_lin + 4, cpu->regs[R_ECX], 4);
        cpu->eflags |= F_ZF;
    } else {
        x86_write_lin(cpu, lo_lin, lo, 4);
        x86_write_lin(cpu, lo_lin + 4, hi, 4);
        cpu->regs[R_EAX] = lo;
        cpu->regs[R_EDX] = hi;
        cpu->eflags &= ~F_ZF;
    }
}

/* ---- bit operations ---- */

static void bt_common(X86Cpu *cpu, const X86Insn *in, int op, uint32_t bit,
                      bool imm)
{
    unsigned sz = in->osz, bits = sz * 8;
    uint32_t lin = 0, v;
    if (in->mod == 3) {
        bit &= bits - 1;
        v = x86_getreg(cpu, in->rm, sz);
    } else {
        uint32_t ea = x86_ea(cpu, in);
        if (imm) {
            bit &= bits - 1;
        } else {
            int32_t sbit = sz == 2 ? (int16_t)bit : (int32_t)bit;
            ea += (sbit >> (sz == 2 ? 4 : 5)) * (int32_t)sz;
            if (!in->asz32) {
                ea &= 0xffff;
            }
            bit = sbit & (bits - 1);
        }
        lin = x86_seg_check(cpu, in->seg, ea, sz, op != 0);
        v = x86_read_lin(cpu, lin, sz);
    }
    x86_flags_flush(cpu);
    cpu->eflags = (cpu->eflags & ~F_CF) | ((v >> bit) & 1);
    if (op == 0) {
        return;
    }
    if (op == 1) {
        v |= 1u << bit;
    } else if (op == 2) {
        v &= ~(1u << bit);
    } else {
        v ^= 1u << bit;
    }
    if (in->mod == 3) {
        x86_setreg(cpu, in->rm, v, sz);
    } else {
        x86_write_lin(cpu, lin, v, sz);
    }
}

void x86_h_bt(X86Cpu *cpu, const X86Insn *in)
{
    int op = in->op == 0xa3 ? 0 : in->op == 0xab ? 1 : in->op == 0xb3 ? 2
                                                                      : 3;
    bt_common(cpu, in, op, x86_getreg(cpu, in->reg, in->osz), false);
}

void x86_h_bt_imm(X86Cpu *cpu, const X86Insn *in)
{
    bt_common(cpu, in, in->reg - 4, in->imm & 0xff, true);
}

void x86_h_bsf(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t v = x86_rm_read(cpu, in, in->osz);
    x86_flags_flush(cpu);
    if (v == 0) {
        cpu->eflags |= F_ZF;
        return;
    }
    cpu->eflags &= ~F_ZF;
    x86_setreg(cpu, in->reg, __builtin_ctz(v), in->osz);
}

void x86_h_bsr(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t v = x86_rm_read(cpu, in, in->osz);
    x86_flags_flush(cpu);
    if (v == 0) {
        cpu->eflags |= F_ZF;
        return;
    }
    cpu->eflags &= ~F_ZF;
    x86_setreg(cpu, in->reg, 31 - __builtin_clz(v), in->osz);
}

/* ---- flag instructions ---- */

void x86_h_cmc(X86Cpu *cpu, const X86Insn *in)
{
    x86_flags_flush(cpu);
    cpu->eflags ^= F_CF;
}

void x86_h_clc(X86Cpu *cpu, const X86Insn *in)
{
    x86_flags_flush(cpu);
    cpu->eflags &= ~F_CF;
}

void x86_h_stc(X86Cpu *cpu, const X86Insn *in)
{
    x86_flags_flush(cpu);
    cpu->eflags |= F_CF;
}

void x86_h_cld(X86Cpu *cpu, const X86Insn *in)
{
    cpu->eflags &= ~F_DF;
}

void x86_h_std(X86Cpu *cpu, const X86Insn *in)
{
    cpu->eflags |= F_DF;
}

/* ---- specialised forms ----
 * The hottest instructions of a Linux boot in their commonest shapes
 * (32-bit operands, register or plain memory operand), with the size
 * and operand kind fixed at decode time instead of tested per execution.
 * Same semantics as the generic handlers above. */

void x86_h_mov_rr32(X86Cpu *cpu, const X86Insn *in)
{
    /* 89 /r: rm <- reg; 8B /r: reg <- rm (mod == 3). */
    if (in->op == 0x89) {
        cpu->regs[in->rm] = cpu->regs[in->reg];
    } else {
        cpu->regs[in->reg] = cpu->regs[in->rm];
    }
}

void x86_h_mov_load32(X86Cpu *cpu, const X86Insn *in)
{
    cpu->regs[in->reg] = x86_rd(cpu, in->seg, x86_ea(cpu, in), 4);
}

void x86_h_mov_store32(X86Cpu *cpu, const X86Insn *in)
{
    x86_wr(cpu, in->seg, x86_ea(cpu, in), cpu->regs[in->reg], 4);
}

void x86_h_alu_rr32(X86Cpu *cpu, const X86Insn *in)
{
    /* 01/09/.../39 with mod == 3: rm op= reg. */
    int op = (in->op >> 3) & 7;
    uint32_t r = alu(cpu, op, cpu->regs[in->rm], cpu->regs[in->reg], 4);
    if (op != 7) {
        cpu->regs[in->rm] = r;
    }
}

void x86_h_alu_mr32(X86Cpu *cpu, const X86Insn *in)
{
    /* 01/09/.../39 with a memory operand: [m] op= reg. */
    int op = (in->op >> 3) & 7;
    uint32_t lin = x86_seg_check(cpu, in->seg, x86_ea(cpu, in), 4, op != 7);
    uint32_t r = alu(cpu, op, x86_read_lin(cpu, lin, 4), cpu->regs[in->reg],
                     4);
    if (op != 7) {
        x86_write_lin(cpu, lin, r, 4);
    }
}

void x86_h_alu_rm32(X86Cpu *cpu, const X86Insn *in)
{
    /* 03/0B/.../3B: reg op= rm (register or memory). */
    int op = (in->op >> 3) & 7;
    uint32_t b = in->mod == 3 ? cpu->regs[in->rm]
                              : x86_rd(cpu, in->seg, x86_ea(cpu, in), 4);
    uint32_t r = alu(cpu, op, cpu->regs[in->reg], b, 4);
    if (op != 7) {
        cpu->regs[in->reg] = r;
    }
}

void x86_h_movzx_rr(X86Cpu *cpu, const X86Insn *in)
{
    /* 0F B6/B7, 32-bit destination, register source. */
    cpu->regs[in->reg] = x86_getreg(cpu, in->rm, (in->op & 1) ? 2 : 1);
}

void x86_h_movzx_load(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t ea = x86_ea(cpu, in);
    cpu->regs[in->reg] = (in->op & 1) ? x86_rd(cpu, in->seg, ea, 2)
                                      : x86_rd(cpu, in->seg, ea, 1);
}

/* The ALU forms once more with the operation fixed too (ADC and SBB,
   rarer, keep the handlers above): rm op= reg (01.., mod 3), reg op= rm
   (03.., mod 3), rm op= imm (81/83, mod 3), EAX op= imm (05..). */
#define ALU_SPECIALISED(X) X(0, add) X(1, or) X(4, and) X(5, sub) X(6, xor) \
    X(7, cmp)
#define ALU_HANDLERS(opn, name)                                             \
    static void x86_h_##name##_rr32(X86Cpu *cpu, const X86Insn *in)        \
    {                                                                       \
        uint32_t r = alu(cpu, opn, cpu->regs[in->rm], cpu->regs[in->reg], 4); \
        if (opn != 7) {                                                     \
            cpu->regs[in->rm] = r;                                          \
        }                                                                   \
    }                                                                       \
    static void x86_h_##name##_rr32r(X86Cpu *cpu, const X86Insn *in)       \
    {                                                                       \
        uint32_t r = alu(cpu, opn, cpu->regs[in->reg], cpu->regs[in->rm], 4); \
        if (opn != 7) {                                                     \
            cpu->regs[in->reg] = r;                                         \
        }                                                                   \
    }                                                                       \
    static void x86_h_##name##_ri32(X86Cpu *cpu, const X86Insn *in)        \
    {                                                                       \
        uint32_t r = alu(cpu, opn, cpu->regs[in->rm], in->imm, 4);          \
        if (opn != 7) {                                                     \
            cpu->regs[in->rm] = r;                                          \
        }                                                                   \
    }                                                                       \
    static void x86_h_##name##_ai32(X86Cpu *cpu, const X86Insn *in)        \
    {                                                                       \
        uint32_t r = alu(cpu, opn, cpu->regs[R_EAX], in->imm, 4);           \
        if (opn != 7) {                                                     \
            cpu->regs[R_EAX] = r;                                           \
        }                                                                   \
    }
ALU_SPECIALISED(ALU_HANDLERS)
#undef ALU_HANDLERS

static const struct {
    X86Handler rr, rrr, ri, ai;
} alu_special[8] = {
#define ALU_ENTRY(opn, name)                                                \
    [opn] = { x86_h_##name##_rr32, x86_h_##name##_rr32r,                    \
              x86_h_##name##_ri32, x86_h_##name##_ai32 },
    ALU_SPECIALISED(ALU_ENTRY)
#undef ALU_ENTRY
};

/* Shifts and rotates of a 32-bit register by an immediate (C1 /r ib). */
#define SHIFT_SPECIALISED(X) X(0, rol) X(1, ror) X(4, shl) X(5, shr) X(7, sar)
#define SHIFT_HANDLER(opn, name)                                            \
    static void x86_h_##name##_ri32(X86Cpu *cpu, const X86Insn *in)        \
    {                                                                       \
        cpu->regs[in->rm] = shift_op(cpu, opn, cpu->regs[in->rm],           \
                                     in->imm & 0xff, 4);                    \
    }
SHIFT_SPECIALISED(SHIFT_HANDLER)
#undef SHIFT_HANDLER

static const X86Handler shift_special[8] = {
#define SHIFT_ENTRY(opn, name) [opn] = x86_h_##name##_ri32,
    SHIFT_SPECIALISED(SHIFT_ENTRY)
#undef SHIFT_ENTRY
};

/* Jcc with 32-bit operand size, one handler per condition. */
#define JCC_HANDLER(cc)                                                     \
    static void x86_h_jcc32_##cc(X86Cpu *cpu, const X86Insn *in)           \
    {                                                                       \
        if (cond_eval(cpu, cc)) {                                           \
            x86_jump(cpu, cpu->rip + in->imm, 4);                           \
        }                                                                   \
    }
JCC_HANDLER(0) JCC_HANDLER(1) JCC_HANDLER(2) JCC_HANDLER(3)
JCC_HANDLER(4) JCC_HANDLER(5) JCC_HANDLER(6) JCC_HANDLER(7)
JCC_HANDLER(8) JCC_HANDLER(9) JCC_HANDLER(10) JCC_HANDLER(11)
JCC_HANDLER(12) JCC_HANDLER(13) JCC_HANDLER(14) JCC_HANDLER(15)
#undef JCC_HANDLER

static const X86Handler jcc_special[16] = {
    x86_h_jcc32_0, x86_h_jcc32_1, x86_h_jcc32_2, x86_h_jcc32_3,
    x86_h_jcc32_4, x86_h_jcc32_5, x86_h_jcc32_6, x86_h_jcc32_7,
    x86_h_jcc32_8, x86_h_jcc32_9, x86_h_jcc32_10, x86_h_jcc32_11,
    x86_h_jcc32_12, x86_h_jcc32_13, x86_h_jcc32_14, x86_h_jcc32_15,
};

/* IMUL r32, r32, imm (69/6B, mod 3) and IMUL r32, r32 (0F AF, mod 3). */
static void x86_h_imul3_rr32(X86Cpu *cpu, const X86Insn *in)
{
    int64_t r = (int64_t)(int32_t)cpu->regs[in->rm] * (int32_t)in->imm;
    cpu->regs[in->reg] = (uint32_t)r;
    mul_flags(cpu, r != (int32_t)r, r, 4);
}

static void x86_h_imul2_rr32(X86Cpu *cpu, const X86Insn *in)
{
    int64_t r = (int64_t)(int32_t)cpu->regs[in->rm] *
                (int32_t)cpu->regs[in->reg];
    cpu->regs[in->reg] = (uint32_t)r;
    mul_flags(cpu, r != (int32_t)r, r, 4);
}

/* INC/DEC r32 (40+r, 48+r). */
static void x86_h_inc_r32(X86Cpu *cpu, const X86Insn *in)
{
    int r = in->op & 7;
    uint8_t c = x86_cf(cpu);
    uint32_t v = cpu->regs[r];
    cpu->regs[r] = v + 1;
    x86_set_lazy(cpu, LF_INC, 4, v + 1, v, 1);
    cpu->lf_cf = c;
}

static void x86_h_dec_r32(X86Cpu *cpu, const X86Insn *in)
{
    int r = in->op & 7;
    uint8_t c = x86_cf(cpu);
    uint32_t v = cpu->regs[r];
    cpu->regs[r] = v - 1;
    x86_set_lazy(cpu, LF_DEC, 4, v - 1, v, 1);
    cpu->lf_cf = c;
}

/* MOV r/m8, imm8 to memory (C6 /0), the byte store of loops over
   arrays. */
static void x86_h_mov_store8_imm(X86Cpu *cpu, const X86Insn *in)
{
    x86_wr(cpu, in->seg, x86_ea(cpu, in), in->imm, 1);
}

void x86_specialise(X86Insn *in)
{
    if (in->lock) {
        return;
    }
    if (in->fn == x86_h_mov_rm_imm && in->osz == 1 && in->mod != 3) {
        in->fn = x86_h_mov_store8_imm;
        return;
    }
    if (in->osz != 4) {
        return;
    }
    bool reg = in->mod == 3;
    int aop = (in->op >> 3) & 7;
    if (!in->op0f && in->op < 0x40 && (in->op & 7) <= 5 &&
        alu_special[aop].rr) {
        /* 00..3D without the byte forms. */
        if (in->fn == x86_h_alu_rm_r && reg) {
            in->fn = alu_special[aop].rr;
            return;
        }
        if (in->fn == x86_h_alu_r_rm && reg) {
            in->fn = alu_special[aop].rrr;
            return;
        }
        if (in->fn == x86_h_alu_a_imm) {
            in->fn = alu_special[aop].ai;
            return;
        }
    }
    if (in->fn == x86_h_alu_rm_imm && reg && (in->op == 0x81 || in->op == 0x83) &&
        alu_special[in->reg].rr) {
        in->fn = alu_special[in->reg].ri;
        return;
    }
    if (in->fn == x86_h_shift_rm && reg && in->op == 0xc1 &&
        shift_special[in->reg]) {
        in->fn = shift_special[in->reg];
        return;
    }
    if (in->fn == x86_h_imul3 && reg) {
        in->fn = x86_h_imul3_rr32;
        return;
    }
    if (in->fn == x86_h_imul2 && reg) {
        in->fn = x86_h_imul2_rr32;
        return;
    }
    if (in->fn == x86_h_jcc) {
        in->fn = jcc_special[in->op & 0xf];
        return;
    }
    if (in->fn == x86_h_inc_r) {
        in->fn = x86_h_inc_r32;
        return;
    }
    if (in->fn == x86_h_dec_r) {
        in->fn = x86_h_dec_r32;
        return;
    }
    if (in->fn == x86_h_mov_rm_r) {
        in->fn = reg ? x86_h_mov_rr32 : x86_h_mov_store32;
    } else if (in->fn == x86_h_mov_r_rm) {
        in->fn = reg ? x86_h_mov_rr32 : x86_h_mov_load32;
    } else if (in->fn == x86_h_alu_rm_r) {
        in->fn = reg ? x86_h_alu_rr32 : x86_h_alu_mr32;
    } else if (in->fn == x86_h_alu_r_rm) {
        in->fn = x86_h_alu_rm32;
    } else if (in->fn == x86_h_movzx) {
        in->fn = reg ? x86_h_movzx_rr : x86_h_movzx_load;
    }
}
