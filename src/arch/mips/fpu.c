/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MIPS FPU (coprocessor 1): formats S, D, W and L; arithmetic on the
 * host's IEEE 754 unit under the guest's FCSR rounding mode, the host's
 * exception flags mapped to FCSR causes; a cause whose enable is set
 * raises the floating-point exception (and leaves the flags alone).
 *
 * Reference: MIPS64 Volume I-A ("Floating-Point Exceptions", "FCSR"),
 * Volume II-A (each COP1/COP1X instruction).  NaNs follow the legacy
 * (pre-2008) encoding of release 2: a quiet NaN has the top fraction bit
 * clear; an invalid operation produces the default NaN 0x7fbfffff /
 * 0x7ff7ffffffffffff; a signalling NaN operand gives the default NaN and
 * the invalid flag; a quiet NaN operand is passed through.  This file is
 * built with -frounding-math so the compiler keeps every operation at run
 * time under the mode set here.
 */
#include "arch/mips/mips_int.h"

#include <fenv.h>
#include <math.h>
#include <string.h>

#define S_DEFAULT_NAN 0x7fbfffffu
#define D_DEFAULT_NAN 0x7ff7ffffffffffffull

/* ---- registers ---- */

static uint32_t get_s(MipsCpu *cpu, unsigned i)
{
    if (!cpu->fr && (i & 1)) {
        return (uint32_t)(cpu->fpr[i & ~1u] >> 32);
    }
    return (uint32_t)cpu->fpr[i];
}

static void set_s(MipsCpu *cpu, unsigned i, uint32_t v)
{
    if (!cpu->fr && (i & 1)) {
        uint64_t *p = &cpu->fpr[i & ~1u];
        *p = (*p & 0xffffffffull) | ((uint64_t)v << 32);
    } else {
        cpu->fpr[i] = (cpu->fpr[i] & ~0xffffffffull) | v;
    }
}

static uint64_t get_d(MipsCpu *cpu, unsigned i)
{
    if (!cpu->fr && (i & 1)) {
        mips_raise(cpu, MIPS_EXC_RI, 0);
    }
    return cpu->fpr[i];
}

static void set_d(MipsCpu *cpu, unsigned i, uint64_t v)
{
    if (!cpu->fr && (i & 1)) {
        mips_raise(cpu, MIPS_EXC_RI, 0);
    }
    cpu->fpr[i] = v;
}

static float f_of(uint32_t v)
{
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static uint32_t bits_f(float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    return v;
}

static double d_of(uint64_t v)
{
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static uint64_t bits_d(double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    return v;
}

static bool s_is_nan(uint32_t v)
{
    return (v & 0x7f800000u) == 0x7f800000u && (v & 0x007fffffu);
}

static bool d_is_nan(uint64_t v)
{
    return (v & 0x7ff0000000000000ull) == 0x7ff0000000000000ull &&
           (v & 0x000fffffffffffffull);
}

/* Legacy encoding: the top fraction bit set means signalling. */
static bool s_is_snan(uint32_t v)
{
    return s_is_nan(v) && (v & 0x00400000u);
}

static bool d_is_snan(uint64_t v)
{
    return d_is_nan(v) && (v & 0x0008000000000000ull);
}

/* ---- FCSR ---- */

static void fp_begin(MipsCpu *cpu)
{
    static const int modes[4] = { FE_TONEAREST, FE_TOWARDZERO, FE_UPWARD,
                                  FE_DOWNWARD };
    fesetround(modes[cpu->fcsr & FCSR_RM_MASK]);
    feclearexcept(FE_ALL_EXCEPT);
}

static unsigned host_flags(void)
{
    int e = fetestexcept(FE_ALL_EXCEPT);
    unsigned c = 0;
    if (e & FE_INEXACT) {
        c |= FP_I;
    }
    if (e & FE_UNDERFLOW) {
        c |= FP_U;
    }
    if (e & FE_OVERFLOW) {
        c |= FP_O;
    }
    if (e & FE_DIVBYZERO) {
        c |= FP_Z;
    }
    if (e & FE_INVALID) {
        c |= FP_V;
    }
    return c;
}

/* The end of an arithmetic operation: Cause gets its exceptions; an
   enabled one traps, the others accumulate in Flags. */
static void fp_end(MipsCpu *cpu, unsigned cause)
{
    fesetround(FE_TONEAREST);
    cpu->fcsr &= ~(0x3fu << FCSR_CAUSE_SHIFT);
    cpu->fcsr |= cause << FCSR_CAUSE_SHIFT;
    unsigned enables = ((cpu->fcsr >> FCSR_ENABLES_SHIFT) & 0x1f) | FP_E;
    if (cause & enables) {
        mips_raise(cpu, MIPS_EXC_FPE, 0);
    }
    cpu->fcsr |= (cause & 0x1f) << FCSR_FLAGS_SHIFT;
}

/* ---- arithmetic ---- */

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_SQRT, OP_RECIP, OP_RSQRT };

/* NaN operands give the default NaN (V for a signalling one): release 2
   cores in the legacy NaN mode do not propagate NaN payloads here, as
   QEMU's model of them does not.  Returns true when it decided. */
static bool s_nan_in(uint32_t a, uint32_t b, bool two, uint32_t *res,
                     unsigned *cause)
{
    if (!s_is_nan(a) && !(two && s_is_nan(b))) {
        return false;
    }
    if (s_is_snan(a) || (two && s_is_snan(b))) {
        *cause |= FP_V;
    }
    *res = S_DEFAULT_NAN;
    return true;
}

static bool d_nan_in(uint64_t a, uint64_t b, bool two, uint64_t *res,
                     unsigned *cause)
{
    if (!d_is_nan(a) && !(two && d_is_nan(b))) {
        return false;
    }
    if (d_is_snan(a) || (two && d_is_snan(b))) {
        *cause |= FP_V;
    }
    *res = D_DEFAULT_NAN;
    return true;
}

static uint32_t s_arith(int op, uint32_t a, uint32_t b, unsigned *cause)
{
    uint32_t res;
    bool two = op <= OP_DIV;
    if (s_nan_in(a, b, two, &res, cause)) {
        return res;
    }
    volatile float x = f_of(a), y = f_of(b);
    float r;
    feclearexcept(FE_ALL_EXCEPT);
    switch (op) {
    case OP_ADD:
        r = x + y;
        break;
    case OP_SUB:
        r = x - y;
        break;
    case OP_MUL:
        r = x * y;
        break;
    case OP_DIV:
        r = x / y;
        break;
    case OP_SQRT:
        r = __builtin_sqrtf(x);
        break;
    case OP_RECIP:
        r = 1.0f / x;
        break;
    default: { /* RSQRT: the square root, then its reciprocal */
        volatile float s = __builtin_sqrtf(x);
        r = 1.0f / s;
        break;
    }
    }
    *cause |= host_flags();
    res = bits_f(r);
    return s_is_nan(res) ? S_DEFAULT_NAN : res;
}

static uint64_t d_arith(int op, uint64_t a, uint64_t b, unsigned *cause)
{
    uint64_t res;
    bool two = op <= OP_DIV;
    if (d_nan_in(a, b, two, &res, cause)) {
        return res;
    }
    volatile double x = d_of(a), y = d_of(b);
    double r;
    feclearexcept(FE_ALL_EXCEPT);
    switch (op) {
    case OP_ADD:
        r = x + y;
        break;
    case OP_SUB:
        r = x - y;
        break;
    case OP_MUL:
        r = x * y;
        break;
    case OP_DIV:
        r = x / y;
        break;
    case OP_SQRT:
        r = __builtin_sqrt(x);
        break;
    case OP_RECIP:
        r = 1.0 / x;
        break;
    default: {
        volatile double s = __builtin_sqrt(x);
        r = 1.0 / s;
        break;
    }
    }
    *cause |= host_flags();
    res = bits_d(r);
    return d_is_nan(res) ? D_DEFAULT_NAN : res;
}

/* ---- conversions ---- */

/* To an integer of 32 or 64 bits with a rounding mode (-1: FCSR's);
   an invalid conversion gives the largest positive integer. */
static uint64_t to_int(MipsCpu *cpu, double x, bool nan, int rm, bool l,
                       unsigned *cause)
{
    static const int modes[4] = { FE_TONEAREST, FE_TOWARDZERO, FE_UPWARD,
                                  FE_DOWNWARD };
    uint64_t max = l ? INT64_MAX : INT32_MAX;
    if (nan) {
        *cause |= FP_V;
        return max;
    }
    fesetround(modes[rm < 0 ? (int)(cpu->fcsr & 3) : rm]);
    feclearexcept(FE_ALL_EXCEPT);
    volatile double v = x;
    double r = nearbyint(v);
    bool exact = r == v;
    fesetround(FE_TONEAREST);
    if (l ? (r < -9223372036854775808.0 || r >= 9223372036854775808.0)
          : (r < -2147483648.0 || r > 2147483647.0)) {
        *cause |= FP_V;
        return max;
    }
    if (!exact) {
        *cause |= FP_I;
    }
    return l ? (uint64_t)(int64_t)r : (uint32_t)(int32_t)r;
}

static void fcc_set(MipsCpu *cpu, unsigned cc, bool v)
{
    if (v) {
        cpu->fcsr |= mips_fcc_bit(cc);
    } else {
        cpu->fcsr &= ~mips_fcc_bit(cc);
    }
}

static bool fcc_get(MipsCpu *cpu, unsigned cc)
{
    return (cpu->fcsr & mips_fcc_bit(cc)) != 0;
}

static void need_fpu(MipsCpu *cpu)
{
    if (!cpu->model->has_fpu) {
        mips_raise(cpu, MIPS_EXC_CPU, 0);
    }
}

static void need_fr(MipsCpu *cpu)
{
    if (!cpu->fr) {
        mips_raise(cpu, MIPS_EXC_RI, 0);
    }
}

/* ---- COP1 with fmt S/D/W/L ---- */

/* Format-generic views of an S (single) or D (double) value held in the
   low bits of a uint64_t, so that one body serves both formats. */
static uint64_t get_fmt(MipsCpu *cpu, unsigned i, bool dbl)
{
    return dbl ? get_d(cpu, i) : get_s(cpu, i);
}

static void set_fmt(MipsCpu *cpu, unsigned i, uint64_t v, bool dbl)
{
    if (dbl) {
        set_d(cpu, i, v);
    } else {
        set_s(cpu, i, (uint32_t)v);
    }
}

static bool is_nan_fmt(uint64_t v, bool dbl)
{
    return dbl ? d_is_nan(v) : s_is_nan((uint32_t)v);
}

static bool is_snan_fmt(uint64_t v, bool dbl)
{
    return dbl ? d_is_snan(v) : s_is_snan((uint32_t)v);
}

/* The value as a host double (a float widens exactly). */
static double double_of_fmt(uint64_t v, bool dbl)
{
    return dbl ? d_of(v) : (double)f_of((uint32_t)v);
}

/* fmt S (dbl false) or D: arithmetic, moves, conversions, compares.  An
   odd register with FR=0 in fmt D raises RI when it is read (get_d), so
   ft is read only by the operations that take it. */
static void cop1_fmt(MipsCpu *cpu, uint32_t insn, bool dbl)
{
    unsigned ft = (insn >> 16) & 31, fs = (insn >> 11) & 31;
    unsigned fd = (insn >> 6) & 31, fn = insn & 63;
    unsigned cause = 0;
    uint64_t sign = dbl ? 1ull << 63 : 1ull << 31;
    uint64_t a = get_fmt(cpu, fs, dbl);

    switch (fn) {
    case 0x00: case 0x01: case 0x02: case 0x03:
    case 0x04: case 0x15: case 0x16: { /* ADD SUB MUL DIV SQRT RECIP RSQRT */
        int op = fn <= 4 ? (int)fn : fn == 0x15 ? OP_RECIP : OP_RSQRT;
        uint64_t b = fn <= 3 ? get_fmt(cpu, ft, dbl) : 0;
        fp_begin(cpu);
        uint64_t r = dbl ? d_arith(op, a, b, &cause)
                         : s_arith(op, (uint32_t)a, (uint32_t)b, &cause);
        fp_end(cpu, cause);
        set_fmt(cpu, fd, r, dbl);
        return;
    }
    case 0x05: /* ABS */
        set_fmt(cpu, fd, a & ~sign, dbl);
        return;
    case 0x06: /* MOV */
        set_fmt(cpu, fd, a, dbl);
        return;
    case 0x07: /* NEG */
        set_fmt(cpu, fd, a ^ sign, dbl);
        return;
    case 0x08: case 0x09: case 0x0a: case 0x0b: /* ROUND/TRUNC/CEIL/FLOOR.L */
    case 0x0c: case 0x0d: case 0x0e: case 0x0f: /* .W */
    case 0x24: case 0x25: { /* CVT.W, CVT.L */
        bool l = fn < 0x0c || fn == 0x25;
        int rm = fn >= 0x24 ? -1 : (int)(fn & 3);
        if (l) {
            need_fr(cpu);
        }
        fp_begin(cpu);
        uint64_t r = to_int(cpu, double_of_fmt(a, dbl), is_nan_fmt(a, dbl),
                            rm, l, &cause);
        fp_end(cpu, cause);
        if (l) {
            set_d(cpu, fd, r);
        } else {
            set_s(cpu, fd, (uint32_t)r);
        }
        return;
    }
    case 0x11: /* MOVF / MOVT */
        if (fcc_get(cpu, (insn >> 18) & 7) == ((insn >> 16) & 1)) {
            set_fmt(cpu, fd, a, dbl);
        }
        return;
    case 0x12: /* MOVZ */
        if (cpu->gpr[ft] == 0) {
            set_fmt(cpu, fd, a, dbl);
        }
        return;
    case 0x13: /* MOVN */
        if (cpu->gpr[ft] != 0) {
            set_fmt(cpu, fd, a, dbl);
        }
        return;
    case 0x20: /* CVT.S.D (CVT.S.S is reserved) */
    case 0x21: { /* CVT.D.S (CVT.D.D is reserved) */
        bool to_dbl = fn == 0x21;
        if (to_dbl == dbl) {
            break;
        }
        uint64_t r;
        fp_begin(cpu);
        if (is_nan_fmt(a, dbl)) {
            if (is_snan_fmt(a, dbl)) {
                cause |= FP_V;
            }
            r = to_dbl ? D_DEFAULT_NAN : S_DEFAULT_NAN;
        } else if (to_dbl) {
            volatile float x = f_of((uint32_t)a);
            r = bits_d((double)x);
            cause |= host_flags();
        } else {
            volatile double x = d_of(a);
            r = bits_f((float)x);
            cause |= host_flags();
        }
        fp_end(cpu, cause);
        set_fmt(cpu, fd, r, to_dbl);
        return;
    }
    default:
        break;
    }
    if (fn >= 0x30) { /* C.cond */
        uint64_t b = get_fmt(cpu, ft, dbl);
        unsigned cond = fn & 15;
        fp_begin(cpu);
        bool un = is_nan_fmt(a, dbl) || is_nan_fmt(b, dbl);
        double x = double_of_fmt(a, dbl), y = double_of_fmt(b, dbl);
        if (is_snan_fmt(a, dbl) || is_snan_fmt(b, dbl) ||
            (un && (cond & 8))) {
            cause |= FP_V;
        }
        bool r = ((cond & 1) && un) || ((cond & 2) && !un && x == y) ||
                 ((cond & 4) && !un && x < y);
        fp_end(cpu, cause);
        fcc_set(cpu, (insn >> 8) & 7, r);
        return;
    }
    mips_raise(cpu, MIPS_EXC_RI, 0);
}

/* CVT.S/CVT.D from W (32-bit) or L (64-bit) integers. */
static void cop1_int(MipsCpu *cpu, uint32_t insn, bool l)
{
    unsigned fs = (insn >> 11) & 31, fd = (insn >> 6) & 31, fn = insn & 63;
    unsigned cause = 0;
    if (l) {
        need_fr(cpu);
    }
    int64_t v = l ? (int64_t)get_d(cpu, fs) : (int32_t)get_s(cpu, fs);
    volatile int64_t vv = v;
    if (fn == 0x20) {
        fp_begin(cpu);
        float r = (float)vv;
        cause = host_flags();
        fp_end(cpu, cause);
        set_s(cpu, fd, bits_f(r));
    } else if (fn == 0x21) {
        fp_begin(cpu);
        double r = (double)vv;
        cause = host_flags();
        fp_end(cpu, cause);
        set_d(cpu, fd, bits_d(r));
    } else {
        mips_raise(cpu, MIPS_EXC_RI, 0);
    }
}

void mips_fpu_cop1(MipsCpu *cpu, uint32_t insn)
{
    unsigned rs = (insn >> 21) & 31, rt = (insn >> 16) & 31;
    unsigned fs = (insn >> 11) & 31;

    need_fpu(cpu);
    switch (rs) {
    case 0x00: /* MFC1 */
        cpu->gpr[rt] = (uint64_t)(int64_t)(int32_t)get_s(cpu, fs);
        return;
    case 0x01: /* DMFC1 */
        if (!cpu->is64) {
            break;
        }
        cpu->gpr[rt] = get_d(cpu, fs);
        return;
    case 0x02: /* CFC1 */
        switch (fs) {
        case 0:
            cpu->gpr[rt] = (uint64_t)(int64_t)(int32_t)cpu->fir;
            return;
        case 25: /* FCCR */
            cpu->gpr[rt] = ((cpu->fcsr >> 24) & 0xfe) |
                           ((cpu->fcsr >> 23) & 1);
            return;
        case 26: /* FEXR */
            cpu->gpr[rt] = cpu->fcsr & 0x0003f07c;
            return;
        case 28: /* FENR */
            cpu->gpr[rt] = (cpu->fcsr & 0x00000f83) |
                           ((cpu->fcsr >> 22) & 4);
            return;
        case 31:
            cpu->gpr[rt] = (uint64_t)(int64_t)(int32_t)cpu->fcsr;
            return;
        default:
            break;
        }
        break;
    case 0x03: /* MFHC1 */
        cpu->gpr[rt] = (uint64_t)(int64_t)(int32_t)(get_d(cpu, fs) >> 32);
        return;
    case 0x04: /* MTC1 */
        set_s(cpu, fs, (uint32_t)cpu->gpr[rt]);
        return;
    case 0x05: /* DMTC1 */
        if (!cpu->is64) {
            break;
        }
        set_d(cpu, fs, cpu->gpr[rt]);
        return;
    case 0x06: { /* CTC1 */
        uint32_t v = (uint32_t)cpu->gpr[rt];
        switch (fs) {
        case 25:
            if (v & 0xffffff00u) {
                return;
            }
            cpu->fcsr = (cpu->fcsr & 0x017fffffu) | ((v & 0xfe) << 24) |
                        ((v & 1) << 23);
            break;
        case 26:
            if (v & 0xfffc0f83u) {
                return;
            }
            cpu->fcsr = (cpu->fcsr & 0xfffc0f83u) | (v & 0x0003f07cu);
            break;
        case 28:
            if (v & 0xfffff07cu) {
                return;
            }
            cpu->fcsr = (cpu->fcsr & 0xfefff07cu) | (v & 0x00000f83u) |
                        ((v & 4) << 22);
            break;
        case 31:
            cpu->fcsr = v & 0xfe83ffffu;
            break;
        default:
            return;
        }
        /* Writing a cause bit whose enable is set traps at once. */
        unsigned cause = (cpu->fcsr >> FCSR_CAUSE_SHIFT) & 0x3f;
        unsigned en = ((cpu->fcsr >> FCSR_ENABLES_SHIFT) & 0x1f) | FP_E;
        if (cause & en) {
            mips_raise(cpu, MIPS_EXC_FPE, 0);
        }
        return;
    }
    case 0x07: { /* MTHC1 */
        uint64_t d = get_d(cpu, fs);
        set_d(cpu, fs, (d & 0xffffffffull) | (cpu->gpr[rt] << 32));
        return;
    }
    case 0x08: { /* BC1F, BC1T, BC1FL, BC1TL */
        bool cond = fcc_get(cpu, (insn >> 18) & 7) == (insn & 0x10000) >> 16;
        if (cond) {
            cpu->npc = cpu->cur_pc + 4 +
                       ((uint64_t)(int64_t)(int16_t)insn << 2);
            cpu->in_delay = true;
        } else if (insn & 0x20000) {
            cpu->pc = cpu->npc;
            cpu->npc = cpu->pc + 4;
        }
        return;
    }
    case 0x10:
        cop1_fmt(cpu, insn, false);
        return;
    case 0x11:
        cop1_fmt(cpu, insn, true);
        return;
    case 0x14:
        cop1_int(cpu, insn, false);
        return;
    case 0x15:
        cop1_int(cpu, insn, true);
        return;
    default:
        break;
    }
    mips_raise(cpu, MIPS_EXC_RI, 0);
}

void mips_fpu_cop1x(MipsCpu *cpu, uint32_t insn)
{
    unsigned base = (insn >> 21) & 31, idx = (insn >> 16) & 31;
    unsigned fs = (insn >> 11) & 31, fd = (insn >> 6) & 31;
    uint64_t addr = cpu->gpr[base] + cpu->gpr[idx];

    need_fpu(cpu);
    switch (insn & 63) {
    case 0x00: /* LWXC1 */
        set_s(cpu, fd, (uint32_t)mips_load(cpu, addr, 4));
        return;
    case 0x01: /* LDXC1 */
        set_d(cpu, fd, mips_load(cpu, addr, 8));
        return;
    case 0x05: /* LUXC1 */
        set_d(cpu, fd, mips_load(cpu, addr & ~7ull, 8));
        return;
    case 0x08: /* SWXC1 */
        mips_store(cpu, addr, 4, get_s(cpu, fs));
        return;
    case 0x09: /* SDXC1 */
        mips_store(cpu, addr, 8, get_d(cpu, fs));
        return;
    case 0x0d: /* SUXC1 */
        mips_store(cpu, addr & ~7ull, 8, get_d(cpu, fs));
        return;
    case 0x0f: /* PREFX */
        return;
    case 0x20: case 0x28: case 0x30: case 0x38: { /* (N)MADD/(N)MSUB.S */
        unsigned fr = base, ft = idx, fn = insn & 63, cause = 0;
        uint32_t x = get_s(cpu, fs), y = get_s(cpu, ft), z = get_s(cpu, fr);
        fp_begin(cpu);
        uint32_t p = s_arith(OP_MUL, x, y, &cause);
        uint32_t r = s_arith((fn & 8) ? OP_SUB : OP_ADD, p, z, &cause);
        if (fn & 0x10) {
            r ^= 0x80000000u;
        }
        fp_end(cpu, cause);
        set_s(cpu, fd, r);
        return;
    }
    case 0x21: case 0x29: case 0x31: case 0x39: {
        unsigned fr = base, ft = idx, fn = insn & 63, cause = 0;
        uint64_t x = get_d(cpu, fs), y = get_d(cpu, ft), z = get_d(cpu, fr);
        fp_begin(cpu);
        uint64_t p = d_arith(OP_MUL, x, y, &cause);
        uint64_t r = d_arith((fn & 8) ? OP_SUB : OP_ADD, p, z, &cause);
        if (fn & 0x10) {
            r ^= 1ull << 63;
        }
        fp_end(cpu, cause);
        set_d(cpu, fd, r);
        return;
    }
    default:
        break;
    }
    mips_raise(cpu, MIPS_EXC_RI, 0);
}

void mips_fpu_ldst(MipsCpu *cpu, uint32_t insn, uint64_t addr)
{
    unsigned ft = (insn >> 16) & 31;

    need_fpu(cpu);
    switch (insn >> 26) {
    case 0x31: /* LWC1 */
        set_s(cpu, ft, (uint32_t)mips_load(cpu, addr, 4));
        break;
    case 0x35: /* LDC1 */
        set_d(cpu, ft, mips_load(cpu, addr, 8));
        break;
    case 0x39: /* SWC1 */
        mips_store(cpu, addr, 4, get_s(cpu, ft));
        break;
    default: /* SDC1 */
        mips_store(cpu, addr, 8, get_d(cpu, ft));
        break;
    }
}
