/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SSE, SSE2, SSE3, SSSE3, SSE4.1, SSE4.2 and POPCNT in every mode (the
 * 64-bit forms too: REX.R/B name XMM8-15, REX.W the 64-bit GPR forms),
 * the MMX-register forms of the SSE integer instructions, and group 15
 * (FXSAVE/FXRSTOR in the legacy and 64-bit layouts, LDMXCSR/STMXCSR,
 * XSAVE/XRSTOR with the x87 and SSE components, the fences, CLFLUSH).
 *
 * Floating point runs on the host's SSE unit, which is bit-exact for
 * these IEEE operations: the host MXCSR gets the guest's rounding, FTZ
 * and DAZ with every exception masked, and the flags the host raised are
 * folded into the guest's MXCSR (an unmasked one raises #XM, or #UD when
 * CR4.OSXMMEXCPT is clear, with the destination unchanged).  Integer
 * operations are plain C, lane by lane, from the instruction pages'
 * Operation sections.  RCPPS/RSQRTPS give the host's approximation.
 *
 * Specification: SDM Vol. 1 ch. 10-12 (SSE, SSE2, SSE3 and later; 11.5
 * SIMD floating-point exceptions; 10.5 FXSAVE), Vol. 1 13 (XSAVE), Vol.
 * 2 instruction pages, Vol. 2 appendix A (opcode maps with mandatory
 * prefixes), Vol. 3A 2.5 (CR4.OSFXSR/OSXMMEXCPT/OSXSAVE), 13.
 */
#include "arch/x86/le.h"
#include "arch/x86/ops.h"

#if !defined(__x86_64__) && !defined(__i386__)
#error "exec_sse.c runs SSE arithmetic on an x86 host"
#endif

#define MXCSR_IE 0x1u
#define MXCSR_DE 0x2u
#define MXCSR_ZE 0x4u
#define MXCSR_FLAGS 0x3fu
#define MXCSR_UE_BIT 0x10u
#define MXCSR_DAZ 0x40u
#define MXCSR_MASKS 0x1f80u
#define MXCSR_RC 0x6000u
#define MXCSR_FZ 0x8000u
/* The bits LDMXCSR/FXRSTOR accept (DAZ included), FXSAVE's MXCSR_MASK. */
#define MXCSR_SUPPORTED 0xffffu

typedef long long V2 __attribute__((vector_size(16)));

/* What the core implements of the SSE family; SSE4.1's ROUND*, DPP* and
   the SSE3 ops run on the host's instructions, so those levels need the
   host to have them. */
#define SSE_DONE (X86F_SSE | X86F_SSE2 | X86F_SSE3 | X86F_SSSE3 | \
                  X86F_SSE41 | X86F_SSE42 | X86F_POPCNT | X86F_XSAVE)

uint32_t x86_sse_features(const X86Cpu *cpu)
{
    /* What the host runs: a constant of the process, found once. */
    static gsize host_once;
    if (g_once_init_enter(&host_once)) {
        gsize h = X86F_SSE | X86F_SSE2 | X86F_SSSE3 | X86F_POPCNT |
                  X86F_SSE42 | X86F_XSAVE;
        __builtin_cpu_init();
        if (__builtin_cpu_supports("sse3")) {
            h |= X86F_SSE3;
        }
        if (__builtin_cpu_supports("sse4.1")) {
            h |= X86F_SSE41;
        }
        g_once_init_leave(&host_once, h | 0x80000000u);
    }
    uint32_t host = (uint32_t)host_once;
    uint32_t f = cpu->model->features & SSE_DONE & host;
    /* Each level needs the ones below it. */
    static const uint32_t chain[] = { X86F_SSE, X86F_SSE2, X86F_SSE3,
                                      X86F_SSSE3, X86F_SSE41, X86F_SSE42 };
    for (unsigned i = 1; i < G_N_ELEMENTS(chain); i++) {
        if (!(f & chain[i - 1])) {
            f &= ~chain[i];
        }
    }
    if (!(f & X86F_SSE2)) {
        f &= ~X86F_XSAVE;
    }
    return f;
}

/* ---- the decoder's view (decode.c) ---- */

enum {
    P0 = 1, P66 = 2, PF3 = 4, PF2 = 8, /* allowed mandatory prefixes */
    PALL = 15,
    K_IMM = 0x10,  /* imm8 follows */
    K_MEM = 0x20,  /* memory operand only */
    K_REG = 0x40,  /* register operand only */
    K_P66MEM = 0x80, /* with 66: memory only (MOVLPD/MOVHPD) */
};

/* The MMX-register SSE integer extensions (no prefix; SSE, or SSE2 for
   PADDQ/PSUBQ/PMULUDQ). */
static bool mmx_ext(unsigned op)
{
    switch (op) {
    case 0x170: case 0x1c4: case 0x1c5: case 0x1d4: case 0x1d7: case 0x1da:
    case 0x1de: case 0x1e0: case 0x1e3: case 0x1e4: case 0x1e7: case 0x1ea:
    case 0x1ee: case 0x1f4: case 0x1f6: case 0x1f7: case 0x1fb:
        return true;
    }
    return false;
}

static unsigned sse_kind(unsigned op)
{
    switch (op) {
    case 0x110: case 0x111: case 0x151: case 0x158: case 0x159:
    case 0x15a: case 0x15c ... 0x15f: case 0x12a: case 0x12c: case 0x12d:
        return PALL;
    case 0x112: return P0 | P66 | PF3 | PF2 | K_P66MEM;
    case 0x116: return P0 | P66 | PF3 | K_P66MEM;
    case 0x113: case 0x117: case 0x12b: return P0 | P66 | K_MEM;
    case 0x114: case 0x115: case 0x128: case 0x129: case 0x12e: case 0x12f:
    case 0x154 ... 0x157:
        return P0 | P66;
    case 0x150: return P0 | P66 | K_REG;
    case 0x152: case 0x153: return P0 | PF3;
    case 0x15b: return P0 | P66 | PF3;
    case 0x160 ... 0x16b: case 0x174 ... 0x176: case 0x16e:
    case 0x1d1 ... 0x1d5: case 0x1d8 ... 0x1df: case 0x1e0 ... 0x1e5:
    case 0x1e8 ... 0x1ef: case 0x1f1 ... 0x1f6: case 0x1f8 ... 0x1fe:
        return P0 | P66;
    case 0x16c: case 0x16d: return P66;
    case 0x16f: case 0x17e: case 0x17f: return P0 | P66 | PF3;
    case 0x170: return PALL | K_IMM;
    case 0x171 ... 0x173: return P0 | P66 | K_IMM | K_REG;
    case 0x177: return P0;
    case 0x17c: case 0x17d: case 0x1d0: return P66 | PF2;
    case 0x1c2: return PALL | K_IMM;
    case 0x1c3: return P0 | K_MEM;
    case 0x1c4: case 0x1c6: return P0 | P66 | K_IMM;
    case 0x1c5: return P0 | P66 | K_IMM | K_REG;
    case 0x1d6: return P66 | PF3 | PF2;
    case 0x1d7: case 0x1f7: return P0 | P66 | K_REG;
    case 0x1e6: return P66 | PF3 | PF2;
    case 0x1e7: return P0 | P66 | K_MEM;
    case 0x1f0: return PF2 | K_MEM;
    case 0x1b8: return PF3;
    /* 0F 38: SSSE3 (MMX and XMM forms), SSE4.1, SSE4.2 */
    case 0x200 ... 0x20b: case 0x21c ... 0x21e: return P0 | P66;
    case 0x210: case 0x214: case 0x215: case 0x217: case 0x220 ... 0x225:
    case 0x228: case 0x229: case 0x22b: case 0x230 ... 0x235:
    case 0x237 ... 0x241:
        return P66;
    case 0x22a: return P66 | K_MEM;
    case 0x2f0: case 0x2f1: return PF2;
    /* 0F 3A */
    case 0x30f: return P0 | P66 | K_IMM;
    case 0x308 ... 0x30e: case 0x314 ... 0x317: case 0x320 ... 0x322:
    case 0x340 ... 0x342: case 0x360 ... 0x363:
        return P66 | K_IMM;
    }
    return 0;
}

int x86_sse_decode(unsigned op, unsigned pfx, uint8_t modrm)
{
    bool reg = modrm >= 0xc0;
    unsigned r = (modrm >> 3) & 7;
    if (op == 0x1ae) {
        if (!reg) {
            /* FXSAVE FXRSTOR LDMXCSR STMXCSR XSAVE XRSTOR - CLFLUSH */
            return (r == 6 || pfx > 1 || (r == 7 && pfx)) ? -1 : 0;
        }
        /* LFENCE MFENCE SFENCE; F3: RD/WR FS/GS BASE (exec_64.c) */
        return (r >= 5 && pfx == 0) || (r <= 3 && pfx == 2) ? 0 : -1;
    }
    unsigned k = sse_kind(op);
    if (!(k & (1u << pfx))) {
        return -1;
    }
    if (pfx == 0 && ((op >= 0x160 && op <= 0x17f) || op >= 0x1d0) &&
        op < 0x200 && !mmx_is_opcode(op & 0xff) && !mmx_ext(op)) {
        return -1;
    }
    if (((k & K_MEM) && reg) || ((k & K_REG) && !reg) ||
        ((k & K_P66MEM) && pfx == 1 && reg)) {
        return -1;
    }
    if (op >= 0x171 && op <= 0x173) {
        /* Shift groups: /2 /4 /6; 73 has no /4 but /3 and /7 with 66. */
        bool ok = r == 2 || r == 6 || (r == 4 && op != 0x173) ||
                  (op == 0x173 && pfx == 1 && (r == 3 || r == 7));
        if (!ok) {
            return -1;
        }
    }
    return (k & K_IMM) ? 1 : 0;
}

/* ---- one instruction's context ---- */

typedef struct Sse {
    X86Cpu *cpu;
    const X86Insn *in;
    unsigned op;  /* 0x100-0x3ff */
    unsigned pfx;
    unsigned r;   /* ModRM.reg with REX.R */
    unsigned m;   /* ModRM.rm with REX.B */
    bool reg;     /* register operand (mod == 3) */
    bool mm;      /* the MMX-register form */
} Sse;

static G_NORETURN void ud(X86Cpu *cpu)
{
    x86_raise(cpu, EX_UD, 0);
}

static void need(X86Cpu *cpu, uint32_t feat)
{
    if ((x86_sse_features(cpu) & feat) != feat) {
        ud(cpu);
    }
}

/* #UD/#NM rules of SSE instructions (SDM Vol. 3A 13.1 and table 2-?):
   CR0.EM or CR4.OSFXSR clear: #UD; CR0.TS: #NM. */
static void sse_avail(X86Cpu *cpu)
{
    if ((cpu->cr0 & CR0_EM) || !(cpu->cr4 & CR4_OSFXSR)) {
        ud(cpu);
    }
    if (cpu->cr0 & CR0_TS) {
        x86_raise(cpu, EX_NM, 0);
    }
}

/* MMX-register forms: EM #UD, TS #NM, a pending x87 exception #MF (or,
   with CR0.NE clear, FERR#: false when the instruction must wait). */
static bool mmx_avail(X86Cpu *cpu)
{
    if (cpu->cr0 & CR0_EM) {
        ud(cpu);
    }
    if (cpu->cr0 & CR0_TS) {
        x86_raise(cpu, EX_NM, 0);
    }
    if (x87_pending_exception(&cpu->fpu)) {
        return x86_fpu_mf(cpu);
    }
    return true;
}

/* The x87 side of writing MMi (or reading only: i < 0). */
static void mmx_touch(X86Cpu *cpu, int i, uint64_t v)
{
    cpu->fpu.fsw &= (uint16_t)~X87_SW_TOP;
    cpu->fpu.ftw = 0;
    if (i >= 0) {
        cpu->fpu.r[i].mant = v;
        cpu->fpu.r[i].sexp = 0xffff;
    }
}

/* ---- memory ---- */

static uint64_t lin_addr(X86Cpu *cpu, const X86Insn *in, unsigned size,
                         bool write)
{
    if (cpu->code64) {
        uint64_t a = (uint64_t)(int64_t)in->disp;
        if (in->base < X86_R_NONE) {
            a += cpu->regs[in->base];
        } else if (in->base == X86_R_RIP) {
            a += in->ip + in->len;
        }
        if (in->index < X86_R_NONE) {
            a += cpu->regs[in->index] << in->scale;
        }
        if (in->asz == 4) {
            a = (uint32_t)a;
        }
        if (in->seg == S_FS || in->seg == S_GS) {
            a += cpu->seg[in->seg].base;
        }
        if (!x86_canonical(a) || !x86_canonical(a + size - 1)) {
            x86_raise(cpu, (in->base == R_ESP || in->base == R_EBP) ?
                      EX_SS : EX_GP, 0);
        }
        return a;
    }
    return x86_seg_check(cpu, in->seg, x86_ea(cpu, in), size, write);
}

static void mem_read(X86Cpu *cpu, uint64_t lin, void *buf, unsigned n)
{
    uint8_t *b = buf;
    unsigned i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t v = x86_read_lin(cpu, lin + i, 4);
        memcpy(b + i, &v, 4);
    }
    for (; i < n; i++) {
        b[i] = x86_read_lin(cpu, lin + i, 1);
    }
}

static void mem_write(X86Cpu *cpu, uint64_t lin, const void *buf,
                      unsigned n)
{
    const uint8_t *b = buf;
    /* Both ends first, so that a fault comes before any byte is written
       (the 4-byte pieces below check their own page crossings). */
    uint64_t last = lin + n - 1;
    if (((lin ^ last) & ~(uint64_t)0xfff) && n > 4) {
        x86_translate(cpu, lin & cpu->lin_mask, 1, cpu->tlb_user);
        x86_translate(cpu, last & cpu->lin_mask, 1, cpu->tlb_user);
    }
    unsigned i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t v;
        memcpy(&v, b + i, 4);
        x86_write_lin(cpu, lin + i, v, 4);
    }
    for (; i < n; i++) {
        x86_write_lin(cpu, lin + i, b[i], 1);
    }
}

/* The memory operand of s: its linear address, #GP(0) if align and the
   address is not a multiple of it. */
static uint64_t maddr(Sse *s, unsigned size, bool write, unsigned align)
{
    uint64_t a = lin_addr(s->cpu, s->in, size, write);
    if (align > 1 && (a & (align - 1))) {
        GP0(s->cpu);
    }
    return a;
}

/* The source operand: a register (XMM or MMX) or size bytes of memory
   (zero-extended to 16); align: the legacy SSE 16-byte rule. */
static void src(Sse *s, X86Xmm *v, unsigned size, bool align)
{
    memset(v, 0, sizeof(*v));
    if (s->reg) {
        if (s->mm) {
            v->q[0] = s->cpu->fpu.r[s->m & 7].mant;
        } else {
            *v = s->cpu->xmm[s->m];
        }
        return;
    }
    mem_read(s->cpu, maddr(s, size, false, align && size == 16 ? 16 : 1),
             v, size);
}

static void dst_get(Sse *s, X86Xmm *v)
{
    memset(v, 0, sizeof(*v));
    if (s->mm) {
        v->q[0] = s->cpu->fpu.r[s->r & 7].mant;
    } else {
        *v = s->cpu->xmm[s->r];
    }
}

static void dst_set(Sse *s, const X86Xmm *v)
{
    if (s->mm) {
        mmx_touch(s->cpu, s->r & 7, v->q[0]);
    } else {
        s->cpu->xmm[s->r] = *v;
    }
}

static void store(Sse *s, const void *v, unsigned size, unsigned align)
{
    mem_write(s->cpu, maddr(s, size, true, align), v, size);
}

/* r/m32 or r/m64 (REX.W in 64-bit mode) GPR source. */
static uint64_t gpr_src(Sse *s, bool w)
{
    if (s->reg) {
        return w ? s->cpu->regs[s->m] : (uint32_t)s->cpu->regs[s->m];
    }
    uint64_t v = 0;
    mem_read(s->cpu, maddr(s, w ? 8 : 4, false, 1), &v, w ? 8 : 4);
    return v;
}

static void gpr_set(X86Cpu *cpu, unsigned r, uint64_t v, bool w)
{
    cpu->regs[r] = w ? v : (uint32_t)v;
}

static bool rex_w(const Sse *s)
{
    return s->cpu->code64 && (s->in->rex & 8);
}

/* ---- floating point on the host ---- */

static uint32_t fp_begin(X86Cpu *cpu)
{
    uint32_t h, g = (cpu->fpu.mxcsr & (MXCSR_RC | MXCSR_FZ | MXCSR_DAZ)) |
                    MXCSR_MASKS;
    __asm__ volatile("stmxcsr %0" : "=m"(h));
    __asm__ volatile("ldmxcsr %0" : : "m"(g));
    return h;
}

/* Fold the host's flags into MXCSR; an unmasked one faults before the
   destination is written (SDM Vol. 1 11.5.1: an unmasked
   pre-computation exception (IE DE ZE) leaves the post-computation ones
   unreported). */
/* keep: the flags of earlier steps of the instruction (DPPS/DPPD's
   products), which stay when a later step faults. */
static void fp_end_extra(X86Cpu *cpu, uint32_t h, uint32_t extra,
                         uint32_t keep)
{
    uint32_t f;
    __asm__ volatile("stmxcsr %0" : "=m"(f));
    __asm__ volatile("ldmxcsr %0" : : "m"(h));
    f = (f | extra | keep) & MXCSR_FLAGS;
    uint32_t unmasked = f & ~(cpu->fpu.mxcsr >> 7) & MXCSR_FLAGS;
    if (unmasked) {
        uint32_t pre = MXCSR_IE | MXCSR_DE | MXCSR_ZE;
        if (unmasked & pre) {
            f = (f & pre) | keep;
        } else if (unmasked & MXCSR_UE_BIT) {
            /* An unmasked underflow: PE tells whether the result rounded
               with an unbounded exponent is inexact, which the masked
               host run (denormal rounding) does not give; the exact
               case (no PE) is taken.  A known deviation for an inexact
               tiny result with UM clear (docs/x86.md). */
            f = (f & ~0x20u) | keep;
        } else if ((unmasked & 0x8u) && (unmasked & 0x20u)) {
            /* An unmasked overflow with PE unmasked too reports no PE
               for that lane (PE masked: it does), as the host does; PE
               of the other lanes is not told apart (a known deviation
               with OM clear, docs/x86.md). */
            f = (f & ~0x20u) | keep;
        }
        cpu->fpu.mxcsr |= f;
        x86_raise(cpu, (cpu->cr4 & CR4_OSXMMEXCPT) ? EX_XM : EX_UD, 0);
    }
    cpu->fpu.mxcsr |= f;
}

static void fp_end(X86Cpu *cpu, uint32_t h)
{
    fp_end_extra(cpu, h, 0, 0);
}

/* With underflow unmasked, a tiny result raises #XM even when exact
   (SDM Vol. 1 11.5.2.4), which a masked host run does not flag: run the
   operation again with FTZ, which flags UE for every tiny result. */
#define MXCSR_UM 0x800u
#define MXCSR_UE 0x10u
static uint32_t fp_tiny_flag(X86Cpu *cpu)
{
    return (cpu->fpu.mxcsr & MXCSR_UM) ? 0 : MXCSR_UE;
}

static uint32_t fp_begin_ftz(X86Cpu *cpu)
{
    uint32_t h, g = (cpu->fpu.mxcsr & (MXCSR_RC | MXCSR_DAZ)) | MXCSR_FZ |
                    MXCSR_MASKS;
    __asm__ volatile("stmxcsr %0" : "=m"(h));
    __asm__ volatile("ldmxcsr %0" : : "m"(g));
    return h;
}

static uint32_t fp_end_probe(uint32_t h)
{
    uint32_t f;
    __asm__ volatile("stmxcsr %0" : "=m"(f));
    __asm__ volatile("ldmxcsr %0" : : "m"(h));
    return f & MXCSR_UE;
}

static V2 tov(const X86Xmm *x)
{
    V2 v;
    memcpy(&v, x, 16);
    return v;
}

static void fromv(X86Xmm *x, V2 v)
{
    memcpy(x, &v, 16);
}

#define A2(ins) __asm__ volatile(ins " %1, %0" : "+x"(a) : "x"(b))
#define A2I(ins, i) \
    __asm__ volatile(ins " $" #i ", %1, %0" : "+x"(a) : "x"(b))

/* op with the 4 forms (ps, pd, ss, sd by pfx). */
#define FORMS(base)                                        \
    switch (pfx) {                                         \
    case 0: A2(base "ps"); break;                          \
    case 1: A2(base "pd"); break;                          \
    case 2: A2(base "ss"); break;                          \
    default: A2(base "sd"); break;                         \
    }

#define CMP8(ins)                                          \
    switch (imm & 7) {                                     \
    case 0: A2I(ins, 0); break;                            \
    case 1: A2I(ins, 1); break;                            \
    case 2: A2I(ins, 2); break;                            \
    case 3: A2I(ins, 3); break;                            \
    case 4: A2I(ins, 4); break;                            \
    case 5: A2I(ins, 5); break;                            \
    case 6: A2I(ins, 6); break;                            \
    default: A2I(ins, 7); break;                           \
    }

#define ROUND16(ins)                                       \
    switch (imm & 15) {                                    \
    case 0: A2I(ins, 0); break; case 1: A2I(ins, 1); break; \
    case 2: A2I(ins, 2); break; case 3: A2I(ins, 3); break; \
    case 4: A2I(ins, 4); break; case 5: A2I(ins, 5); break; \
    case 6: A2I(ins, 6); break; case 7: A2I(ins, 7); break; \
    case 8: A2I(ins, 8); break; case 9: A2I(ins, 9); break; \
    case 10: A2I(ins, 10); break; case 11: A2I(ins, 11); break; \
    case 12: A2I(ins, 12); break; case 13: A2I(ins, 13); break; \
    case 14: A2I(ins, 14); break; default: A2I(ins, 15); break; \
    }

/* a = a OP b for the float arithmetic of the 0F map (and 0F 3A 08-0B);
   returns false for other opcodes. */
static bool fp_arith(unsigned op, unsigned pfx, unsigned imm, V2 *pa,
                     V2 bb)
{
    V2 a = *pa, b = bb;
    switch (op) {
    case 0x151: FORMS("sqrt"); break;
    case 0x152: if (pfx == 0) { A2("rsqrtps"); } else { A2("rsqrtss"); }
        break;
    case 0x153: if (pfx == 0) { A2("rcpps"); } else { A2("rcpss"); }
        break;
    case 0x158: FORMS("add"); break;
    case 0x159: FORMS("mul"); break;
    case 0x15c: FORMS("sub"); break;
    case 0x15d: FORMS("min"); break;
    case 0x15e: FORMS("div"); break;
    case 0x15f: FORMS("max"); break;
    case 0x15a:
        switch (pfx) {
        case 0: A2("cvtps2pd"); break;
        case 1: A2("cvtpd2ps"); break;
        case 2: A2("cvtss2sd"); break;
        default: A2("cvtsd2ss"); break;
        }
        break;
    case 0x15b:
        switch (pfx) {
        case 0: A2("cvtdq2ps"); break;
        case 1: A2("cvtps2dq"); break;
        default: A2("cvttps2dq"); break;
        }
        break;
    case 0x1e6:
        switch (pfx) {
        case 1: A2("cvttpd2dq"); break;
        case 2: A2("cvtdq2pd"); break;
        default: A2("cvtpd2dq"); break;
        }
        break;
    case 0x1c2:
        switch (pfx) {
        case 0: CMP8("cmpps"); break;
        case 1: CMP8("cmppd"); break;
        case 2: CMP8("cmpss"); break;
        default: CMP8("cmpsd"); break;
        }
        break;
    case 0x1d0: if (pfx == 1) { A2("addsubpd"); } else { A2("addsubps"); }
        break;
    case 0x17c: if (pfx == 1) { A2("haddpd"); } else { A2("haddps"); }
        break;
    case 0x17d: if (pfx == 1) { A2("hsubpd"); } else { A2("hsubps"); }
        break;
    case 0x308: ROUND16("roundps"); break;
    case 0x309: ROUND16("roundpd"); break;
    case 0x30a: ROUND16("roundss"); break;
    case 0x30b: ROUND16("roundsd"); break;
    default:
        return false;
    }
    *pa = a;
    return true;
}

/* ---- integer lanes ---- */

static int64_t sl(const X86Xmm *v, unsigned w, unsigned i)
{
    switch (w) {
    case 1: return (int8_t)v->b[i];
    case 2: return (int16_t)v->w[i];
    case 4: return (int32_t)v->d[i];
    default: return (int64_t)v->q[i];
    }
}

static uint64_t ul(const X86Xmm *v, unsigned w, unsigned i)
{
    switch (w) {
    case 1: return v->b[i];
    case 2: return v->w[i];
    case 4: return v->d[i];
    default: return v->q[i];
    }
}

static void put(X86Xmm *v, unsigned w, unsigned i, uint64_t x)
{
    switch (w) {
    case 1: v->b[i] = x; break;
    case 2: v->w[i] = x; break;
    case 4: v->d[i] = x; break;
    default: v->q[i] = x; break;
    }
}

static int64_t sat_s(int64_t x, unsigned w)
{
    int64_t max = ((int64_t)1 << (w * 8 - 1)) - 1;
    return x > max ? max : x < -max - 1 ? -max - 1 : x;
}

static int64_t sat_u(int64_t x, unsigned w)
{
    int64_t max = ((int64_t)1 << (w * 8)) - 1;
    return x > max ? max : x < 0 ? 0 : x;
}

enum { ADD, SUB, ADDS, SUBS, ADDUS, SUBUS, MINS, MAXS, MINU, MAXU, AVG,
       EQ, GT, MULLO, MULHS, MULHU, ABS, SIGN, GTU };

static void lanes(X86Xmm *r, const X86Xmm *a, const X86Xmm *b, unsigned w,
                  unsigned n, int kind)
{
    X86Xmm t;
    memset(&t, 0, sizeof(t));
    for (unsigned i = 0; i < n / w; i++) {
        int64_t x = sl(a, w, i), y = sl(b, w, i);
        uint64_t ux = ul(a, w, i), uy = ul(b, w, i);
        int64_t v;
        switch (kind) {
        case ADD: v = (int64_t)(ux + uy); break;
        case SUB: v = (int64_t)(ux - uy); break;
        case ADDS: v = sat_s(x + y, w); break;
        case SUBS: v = sat_s(x - y, w); break;
        case ADDUS: v = sat_u((int64_t)(ux + uy), w); break;
        case SUBUS: v = sat_u((int64_t)ux - (int64_t)uy, w); break;
        case MINS: v = x < y ? x : y; break;
        case MAXS: v = x > y ? x : y; break;
        case MINU: v = (int64_t)(ux < uy ? ux : uy); break;
        case MAXU: v = (int64_t)(ux > uy ? ux : uy); break;
        case AVG: v = (int64_t)((ux + uy + 1) >> 1); break;
        case EQ: v = ux == uy ? -1 : 0; break;
        case GT: v = x > y ? -1 : 0; break;
        case GTU: v = ux > uy ? -1 : 0; break;
        case MULLO: v = x * y; break;
        case MULHS: v = (x * y) >> (w * 8); break;
        case MULHU: v = (int64_t)((ux * uy) >> (w * 8)); break;
        case ABS: v = y < 0 ? -y : y; break;
        default: /* SIGN */
            v = y < 0 ? -x : y == 0 ? 0 : x;
            break;
        }
        put(&t, w, i, (uint64_t)v);
    }
    *r = t;
}

static void shift(X86Xmm *r, const X86Xmm *a, uint64_t cnt, unsigned w,
                  unsigned n, int dir /* 0 left, 1 logical, 2 arith */)
{
    X86Xmm t;
    memset(&t, 0, sizeof(t));
    unsigned bits = w * 8;
    for (unsigned i = 0; i < n / w; i++) {
        uint64_t v;
        if (cnt >= bits) {
            v = dir == 2 ? (uint64_t)(sl(a, w, i) < 0 ? -1 : 0) : 0;
        } else if (dir == 0) {
            v = ul(a, w, i) << cnt;
        } else if (dir == 1) {
            v = ul(a, w, i) >> cnt;
        } else {
            v = (uint64_t)(sl(a, w, i) >> cnt);
        }
        put(&t, w, i, v);
    }
    *r = t;
}

/* Byte shifts of the whole register (PSRLDQ/PSLLDQ, PALIGNR). */
static void bshift(X86Xmm *r, const X86Xmm *a, unsigned cnt, bool left)
{
    X86Xmm t;
    for (unsigned i = 0; i < 16; i++) {
        int j = left ? (int)i - (int)cnt : (int)(i + cnt);
        t.b[i] = (j >= 0 && j < 16) ? a->b[j] : 0;
    }
    *r = t;
}

static void unpack(X86Xmm *r, const X86Xmm *a, const X86Xmm *b, unsigned w,
                   unsigned n, bool high)
{
    X86Xmm t;
    memset(&t, 0, sizeof(t));
    unsigned half = n / w / 2, base = high ? half : 0;
    for (unsigned i = 0; i < half; i++) {
        put(&t, w, 2 * i, ul(a, w, base + i));
        put(&t, w, 2 * i + 1, ul(b, w, base + i));
    }
    *r = t;
}

static void pack(X86Xmm *r, const X86Xmm *a, const X86Xmm *b, unsigned w,
                 unsigned n, bool uns)
{
    X86Xmm t;
    memset(&t, 0, sizeof(t));
    unsigned k = n / w, h = w / 2;
    for (unsigned i = 0; i < k; i++) {
        int64_t x = sl(a, w, i), y = sl(b, w, i);
        put(&t, h, i, (uint64_t)(uns ? sat_u(x, h) : sat_s(x, h)));
        put(&t, h, i + k, (uint64_t)(uns ? sat_u(y, h) : sat_s(y, h)));
    }
    *r = t;
}

/* Horizontal add/sub (PHADD*, PHSUB*): pairs of a, then pairs of b. */
static void hop(X86Xmm *r, const X86Xmm *a, const X86Xmm *b, unsigned w,
                unsigned n, bool sub, bool sat)
{
    X86Xmm t;
    memset(&t, 0, sizeof(t));
    unsigned k = n / w / 2;
    for (unsigned i = 0; i < 2 * k; i++) {
        const X86Xmm *s = i < k ? a : b;
        unsigned j = (i % k) * 2;
        int64_t v = sub ? sl(s, w, j) - sl(s, w, j + 1)
                        : sl(s, w, j) + sl(s, w, j + 1);
        put(&t, w, i, (uint64_t)(sat ? sat_s(v, w) : v));
    }
    *r = t;
}

/* The integer operations that take (dest, source) of n bytes (8 for the
   MMX forms, 16 for XMM); false if op is not one. */
static bool int_binop(unsigned op, X86Xmm *r, const X86Xmm *a,
                      const X86Xmm *b, unsigned n)
{
    X86Xmm t;
    switch (op) {
    case 0x160: unpack(r, a, b, 1, n, false); break;
    case 0x161: unpack(r, a, b, 2, n, false); break;
    case 0x162: unpack(r, a, b, 4, n, false); break;
    case 0x16c: unpack(r, a, b, 8, n, false); break;
    case 0x168: unpack(r, a, b, 1, n, true); break;
    case 0x169: unpack(r, a, b, 2, n, true); break;
    case 0x16a: unpack(r, a, b, 4, n, true); break;
    case 0x16d: unpack(r, a, b, 8, n, true); break;
    case 0x163: pack(r, a, b, 2, n, false); break;
    case 0x167: pack(r, a, b, 2, n, true); break;
    case 0x16b: pack(r, a, b, 4, n, false); break;
    case 0x22b: pack(r, a, b, 4, n, true); break;
    case 0x164: lanes(r, a, b, 1, n, GT); break;
    case 0x165: lanes(r, a, b, 2, n, GT); break;
    case 0x166: lanes(r, a, b, 4, n, GT); break;
    case 0x237: lanes(r, a, b, 8, n, GT); break;
    case 0x174: lanes(r, a, b, 1, n, EQ); break;
    case 0x175: lanes(r, a, b, 2, n, EQ); break;
    case 0x176: lanes(r, a, b, 4, n, EQ); break;
    case 0x229: lanes(r, a, b, 8, n, EQ); break;
    case 0x1d1: shift(r, a, b->q[0], 2, n, 1); break;
    case 0x1d2: shift(r, a, b->q[0], 4, n, 1); break;
    case 0x1d3: shift(r, a, b->q[0], 8, n, 1); break;
    case 0x1e1: shift(r, a, b->q[0], 2, n, 2); break;
    case 0x1e2: shift(r, a, b->q[0], 4, n, 2); break;
    case 0x1f1: shift(r, a, b->q[0], 2, n, 0); break;
    case 0x1f2: shift(r, a, b->q[0], 4, n, 0); break;
    case 0x1f3: shift(r, a, b->q[0], 8, n, 0); break;
    case 0x1d4: lanes(r, a, b, 8, n, ADD); break;
    case 0x1fb: lanes(r, a, b, 8, n, SUB); break;
    case 0x1d5: lanes(r, a, b, 2, n, MULLO); break;
    case 0x240: lanes(r, a, b, 4, n, MULLO); break;
    case 0x1e5: lanes(r, a, b, 2, n, MULHS); break;
    case 0x1e4: lanes(r, a, b, 2, n, MULHU); break;
    case 0x1f4: case 0x228:
        memset(&t, 0, sizeof(t));
        for (unsigned i = 0; i < n / 8; i++) {
            t.q[i] = op == 0x1f4 ? (uint64_t)a->d[2 * i] * b->d[2 * i]
                     : (uint64_t)((int64_t)(int32_t)a->d[2 * i] *
                                  (int32_t)b->d[2 * i]);
        }
        *r = t;
        break;
    case 0x1f5:
        memset(&t, 0, sizeof(t));
        for (unsigned i = 0; i < n / 4; i++) {
            t.d[i] = (uint32_t)((int32_t)(int16_t)a->w[2 * i] *
                                (int16_t)b->w[2 * i]) +
                     (uint32_t)((int32_t)(int16_t)a->w[2 * i + 1] *
                                (int16_t)b->w[2 * i + 1]);
        }
        *r = t;
        break;
    case 0x1f6:
        memset(&t, 0, sizeof(t));
        for (unsigned i = 0; i < n / 8; i++) {
            unsigned s = 0;
            for (unsigned j = 0; j < 8; j++) {
                int d = a->b[8 * i + j] - b->b[8 * i + j];
                s += d < 0 ? -d : d;
            }
            t.q[i] = s;
        }
        *r = t;
        break;
    case 0x1d8: lanes(r, a, b, 1, n, SUBUS); break;
    case 0x1d9: lanes(r, a, b, 2, n, SUBUS); break;
    case 0x1dc: lanes(r, a, b, 1, n, ADDUS); break;
    case 0x1dd: lanes(r, a, b, 2, n, ADDUS); break;
    case 0x1e8: lanes(r, a, b, 1, n, SUBS); break;
    case 0x1e9: lanes(r, a, b, 2, n, SUBS); break;
    case 0x1ec: lanes(r, a, b, 1, n, ADDS); break;
    case 0x1ed: lanes(r, a, b, 2, n, ADDS); break;
    case 0x1f8: lanes(r, a, b, 1, n, SUB); break;
    case 0x1f9: lanes(r, a, b, 2, n, SUB); break;
    case 0x1fa: lanes(r, a, b, 4, n, SUB); break;
    case 0x1fc: lanes(r, a, b, 1, n, ADD); break;
    case 0x1fd: lanes(r, a, b, 2, n, ADD); break;
    case 0x1fe: lanes(r, a, b, 4, n, ADD); break;
    case 0x1da: lanes(r, a, b, 1, n, MINU); break;
    case 0x1de: lanes(r, a, b, 1, n, MAXU); break;
    case 0x1ea: lanes(r, a, b, 2, n, MINS); break;
    case 0x1ee: lanes(r, a, b, 2, n, MAXS); break;
    case 0x238: lanes(r, a, b, 1, n, MINS); break;
    case 0x239: lanes(r, a, b, 4, n, MINS); break;
    case 0x23a: lanes(r, a, b, 2, n, MINU); break;
    case 0x23b: lanes(r, a, b, 4, n, MINU); break;
    case 0x23c: lanes(r, a, b, 1, n, MAXS); break;
    case 0x23d: lanes(r, a, b, 4, n, MAXS); break;
    case 0x23e: lanes(r, a, b, 2, n, MAXU); break;
    case 0x23f: lanes(r, a, b, 4, n, MAXU); break;
    case 0x1e0: lanes(r, a, b, 1, n, AVG); break;
    case 0x1e3: lanes(r, a, b, 2, n, AVG); break;
    case 0x1db: r->q[0] = a->q[0] & b->q[0]; r->q[1] = a->q[1] & b->q[1];
        break;
    case 0x1df: r->q[0] = ~a->q[0] & b->q[0];
        r->q[1] = ~a->q[1] & b->q[1];
        break;
    case 0x1eb: r->q[0] = a->q[0] | b->q[0]; r->q[1] = a->q[1] | b->q[1];
        break;
    case 0x1ef: r->q[0] = a->q[0] ^ b->q[0]; r->q[1] = a->q[1] ^ b->q[1];
        break;
    /* SSSE3 */
    case 0x200:
        memset(&t, 0, sizeof(t));
        for (unsigned i = 0; i < n; i++) {
            uint8_t c = b->b[i];
            t.b[i] = (c & 0x80) ? 0 : a->b[c & (n - 1)];
        }
        *r = t;
        break;
    case 0x201: hop(r, a, b, 2, n, false, false); break;
    case 0x202: hop(r, a, b, 4, n, false, false); break;
    case 0x203: hop(r, a, b, 2, n, false, true); break;
    case 0x205: hop(r, a, b, 2, n, true, false); break;
    case 0x206: hop(r, a, b, 4, n, true, false); break;
    case 0x207: hop(r, a, b, 2, n, true, true); break;
    case 0x204:
        memset(&t, 0, sizeof(t));
        for (unsigned i = 0; i < n / 2; i++) {
            int32_t v = a->b[2 * i] * (int8_t)b->b[2 * i] +
                        a->b[2 * i + 1] * (int8_t)b->b[2 * i + 1];
            t.w[i] = (uint16_t)sat_s(v, 2);
        }
        *r = t;
        break;
    case 0x208: lanes(r, a, b, 1, n, SIGN); break;
    case 0x209: lanes(r, a, b, 2, n, SIGN); break;
    case 0x20a: lanes(r, a, b, 4, n, SIGN); break;
    case 0x20b:
        memset(&t, 0, sizeof(t));
        for (unsigned i = 0; i < n / 2; i++) {
            int32_t p = (int16_t)a->w[i] * (int16_t)b->w[i];
            t.w[i] = (uint16_t)(((p >> 14) + 1) >> 1);
        }
        *r = t;
        break;
    case 0x21c: lanes(r, a, b, 1, n, ABS); break;
    case 0x21d: lanes(r, a, b, 2, n, ABS); break;
    case 0x21e: lanes(r, a, b, 4, n, ABS); break;
    default:
        return false;
    }
    if (n == 8) {
        r->q[1] = 0;
    }
    return true;
}

/* ---- SSE4.2 string compares (PCMPESTRx/PCMPISTRx) ---- */

static unsigned str_len(const X86Xmm *v, bool words, bool imp, int64_t reg)
{
    unsigned n = words ? 8 : 16;
    if (!imp) {
        int64_t l = reg < 0 ? (reg == INT64_MIN ? INT64_MAX : -reg) : reg;
        return l > (int64_t)n ? n : (unsigned)l;
    }
    for (unsigned i = 0; i < n; i++) {
        if ((words ? v->w[i] : v->b[i]) == 0) {
            return i;
        }
    }
    return n;
}

static int64_t str_el(const X86Xmm *v, unsigned mode, unsigned i)
{
    switch (mode & 3) {
    case 0: return v->b[i];
    case 1: return v->w[i];
    case 2: return (int8_t)v->b[i];
    default: return (int16_t)v->w[i];
    }
}

/* Returns IntRes2 and sets the flags (CF ZF SF OF; AF PF clear). */
static unsigned pcmpstr(X86Cpu *cpu, const X86Xmm *a, const X86Xmm *b,
                        unsigned imm, bool imp, int64_t la, int64_t lb)
{
    bool words = imm & 1;
    unsigned n = words ? 8 : 16;
    unsigned alen = str_len(a, words, imp, la), blen = str_len(b, words,
                                                               imp, lb);
    unsigned agg = (imm >> 2) & 3, res = 0;
    for (unsigned j = 0; j < n; j++) {     /* b's elements */
        bool bit = false;
        switch (agg) {
        case 0: /* equal any */
            for (unsigned i = 0; i < alen && j < blen; i++) {
                bit |= str_el(a, imm, i) == str_el(b, imm, j);
            }
            break;
        case 1: /* ranges */
            for (unsigned i = 0; i + 1 < alen && j < blen; i += 2) {
                int64_t x = str_el(b, imm, j);
                bit |= x >= str_el(a, imm, i) && x <= str_el(a, imm, i + 1);
            }
            break;
        case 2: /* equal each */
            if (j < alen && j < blen) {
                bit = str_el(a, imm, j) == str_el(b, imm, j);
            } else {
                bit = j >= alen && j >= blen;
            }
            break;
        default: /* equal ordered */
            bit = true;
            for (unsigned i = 0; i < n - j && i < alen; i++) {
                if (j + i >= blen) {
                    bit = false;
                    break;
                }
                if (str_el(a, imm, i) != str_el(b, imm, j + i)) {
                    bit = false;
                    break;
                }
            }
            break;
        }
        res |= (unsigned)bit << j;
    }
    unsigned mask = (1u << n) - 1, r2 = res;
    switch ((imm >> 4) & 3) {
    case 1: r2 = res ^ mask; break;
    case 3: r2 = res ^ (mask & ((1u << blen) - 1)); break;
    }
    uint32_t f = (r2 ? F_CF : 0) | (blen < n ? F_ZF : 0) |
                 (alen < n ? F_SF : 0) | ((r2 & 1) ? F_OF : 0);
    x86_set_eflags(cpu, f, F_ARITH);
    return r2;
}

/* ---- group 15 (0F AE) ---- */

/* The FXSAVE image (SDM Vol. 1 10.5.1, tables 10-2/10-3): the x87 part
   from x87.c, then XMM0-7 (XMM0-15 in 64-bit mode) at 160; FXSAVE64
   (REX.W) has 64-bit FIP/FDP in place of the selectors. */
static void fx_image(X86Cpu *cpu, uint8_t area[512], bool w64)
{
    x87_fxsave(&cpu->fpu, area, MXCSR_SUPPORTED);
    if (w64) {
        le_put32(area + 12, 0);
        le_put32(area + 20, 0);
    }
    unsigned n = cpu->code64 ? 16 : 8;
    for (unsigned i = 0; i < n; i++) {
        memcpy(area + 160 + 16 * i, &cpu->xmm[i], 16);
    }
}

static void fx_restore(X86Cpu *cpu, const uint8_t area[512], bool w64)
{
    uint8_t a[512];
    memcpy(a, area, 512);
    if (w64) {
        le_put32(a + 12, 0);
        le_put32(a + 20, 0);
    }
    if (x87_fxrstor(&cpu->fpu, a, MXCSR_SUPPORTED) == X87_GP) {
        GP0(cpu);
    }
    unsigned n = cpu->code64 ? 16 : 8;
    for (unsigned i = 0; i < n; i++) {
        memcpy(&cpu->xmm[i], a + 160 + 16 * i, 16);
    }
}

#define XSAVE_HDR 512
#define XCR0_SUPPORTED 3u /* x87, SSE */

static void grp15(Sse *s)
{
    X86Cpu *cpu = s->cpu;
    unsigned r = (s->in->modrm >> 3) & 7;
    bool w64 = rex_w(s);
    if (s->reg && r <= 3) {
        x86_fsgsbase(cpu, r, s->m, w64);
        return;
    }
    if (s->reg) {
        /* LFENCE, MFENCE (SSE2), SFENCE (SSE): one CPU, in order. */
        need(cpu, r == 7 ? X86F_SSE : X86F_SSE2);
        return;
    }
    switch (r) {
    case 0: case 1: {
        if (cpu->cr0 & (CR0_EM | CR0_TS)) {
            x86_raise(cpu, EX_NM, 0);
        }
        uint64_t a = maddr(s, 512, r == 0, 16);
        uint8_t area[512];
        if (r == 0) {
            fx_image(cpu, area, w64);
            mem_write(cpu, a, area, 464);
        } else {
            mem_read(cpu, a, area, 512);
            fx_restore(cpu, area, w64);
            if (cpu->ferr && !x87_pending_exception(&cpu->fpu)) {
                x86_set_ferr(cpu, false);
            }
        }
        return;
    }
    case 2: case 3: {
        need(cpu, X86F_SSE);
        sse_avail(cpu);
        uint64_t a = maddr(s, 4, r == 3, 1);
        if (r == 2) {
            uint32_t v;
            mem_read(cpu, a, &v, 4);
            if (v & ~MXCSR_SUPPORTED) {
                GP0(cpu);
            }
            cpu->fpu.mxcsr = v;
        } else {
            mem_write(cpu, a, &cpu->fpu.mxcsr, 4);
        }
        return;
    }
    case 4: case 5: {
        /* XSAVE/XRSTOR (SDM Vol. 1 13.7, 13.8): #UD without
           CR4.OSXSAVE, #NM with TS, 64-byte alignment. */
        need(cpu, X86F_XSAVE);
        if (!(cpu->cr4 & CR4_OSXSAVE)) {
            ud(cpu);
        }
        if (cpu->cr0 & CR0_TS) {
            x86_raise(cpu, EX_NM, 0);
        }
        uint64_t rfbm = ((uint64_t)(uint32_t)cpu->regs[R_EDX] << 32 |
                         (uint32_t)cpu->regs[R_EAX]) & cpu->xcr0;
        uint64_t a = maddr(s, 576, r == 4, 64);
        uint8_t area[576];
        if (r == 4) {
            mem_read(cpu, a, area, 576);
            uint8_t img[512];
            fx_image(cpu, img, w64);
            if (rfbm & 1) {
                memcpy(area, img, 24);
                memcpy(area + 32, img + 32, 128);
            }
            if (rfbm & 2) {
                memcpy(area + 160, img + 160, 256);
            }
            if (rfbm & 2) {
                memcpy(area + 24, img + 24, 8); /* MXCSR, MXCSR_MASK */
            }
            uint64_t bv;
            memcpy(&bv, area + XSAVE_HDR, 8);
            bv = (bv & ~rfbm) | (rfbm & 3);
            memcpy(area + XSAVE_HDR, &bv, 8);
            mem_write(cpu, a, area, 576);
        } else {
            mem_read(cpu, a, area, 576);
            uint64_t bv, xc;
            memcpy(&bv, area + XSAVE_HDR, 8);
            memcpy(&xc, area + XSAVE_HDR + 8, 8);
            if ((bv & ~cpu->xcr0) || xc) {
                GP0(cpu); /* compacted form not supported */
            }
            for (unsigned i = 16; i < 64; i++) {
                if (area[XSAVE_HDR + i]) {
                    GP0(cpu);
                }
            }
            uint32_t mx = le_get32(area + 24);
            if ((rfbm & 2) && (mx & ~MXCSR_SUPPORTED)) {
                GP0(cpu);
            }
            uint8_t img[512];
            fx_image(cpu, img, w64);
            if (rfbm & 1) {
                if (bv & 1) {
                    memcpy(img, area, 24);
                    memcpy(img + 32, area + 32, 128);
                } else {
                    /* the x87 initial state (FNINIT, registers 0) */
                    memset(img, 0, 24);
                    memset(img + 32, 0, 128);
                    img[0] = 0x7f;
                    img[1] = 0x03;
                }
            }
            if (rfbm & 2) {
                if (bv & 2) {
                    memcpy(img + 160, area + 160, 256);
                } else {
                    memset(img + 160, 0, 256);
                }
            }
            if (rfbm & 2) {
                le_put32(img + 24, mx);
            }
            fx_restore(cpu, img, w64);
        }
        return;
    }
    case 7:
        /* CLFLUSH: a memory byte access's checks (a read of one byte). */
        need(cpu, X86F_SSE2);
        maddr(s, 1, false, 1);
        x86_read_lin(cpu, maddr(s, 1, false, 1), 1);
        return;
    default:
        ud(cpu);
    }
}

/* ---- XGETBV / XSETBV (0F 01 D0/D1), called from the 0F 01 group ---- */

bool x86_xgetbv(X86Cpu *cpu)
{
    if (!(x86_sse_features(cpu) & X86F_XSAVE) ||
        !(cpu->cr4 & CR4_OSXSAVE)) {
        ud(cpu);
    }
    if ((uint32_t)cpu->regs[R_ECX] != 0) {
        GP0(cpu);
    }
    cpu->regs[R_EAX] = (uint32_t)cpu->xcr0;
    cpu->regs[R_EDX] = (uint32_t)(cpu->xcr0 >> 32);
    return true;
}

bool x86_xsetbv(X86Cpu *cpu)
{
    if (!(x86_sse_features(cpu) & X86F_XSAVE) ||
        !(cpu->cr4 & CR4_OSXSAVE)) {
        ud(cpu);
    }
    uint64_t v = (uint64_t)(uint32_t)cpu->regs[R_EDX] << 32 |
                 (uint32_t)cpu->regs[R_EAX];
    if (cpu->cpl != 0 || (uint32_t)cpu->regs[R_ECX] != 0 ||
        (v & ~(uint64_t)XCR0_SUPPORTED) || !(v & 1)) {
        GP0(cpu);
    }
    cpu->xcr0 = v;
    return true;
}

/* ---- the handler ---- */

static uint32_t crc32c(uint32_t crc, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++) {
        crc ^= (uint8_t)(v >> (8 * i));
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
        }
    }
    return crc;
}

/* The classic MMX instructions in 64-bit mode: x87.c's unit with memory
   at a linear address computed here. */
typedef struct MmxMem {
    X86Cpu *cpu;
    uint64_t lin;
} MmxMem;

static void mmx_load(void *ctx, uint32_t ea, void *buf, unsigned len)
{
    MmxMem *m = ctx;
    mem_read(m->cpu, m->lin, buf, len);
}

static void mmx_store(void *ctx, uint32_t ea, const void *buf, unsigned len)
{
    MmxMem *m = ctx;
    mem_write(m->cpu, m->lin, buf, len);
}

static void mmx64(Sse *s)
{
    X86Cpu *cpu = s->cpu;
    if (!mmx_avail(cpu)) {
        return;
    }
    unsigned op = s->op & 0xff;
    if (op == 0x6e || op == 0x7e) { /* MOVD/MOVQ with any GPR */
        bool w = rex_w(s);
        if (op == 0x6e) {
            mmx_touch(cpu, s->r & 7, gpr_src(s, w));
        } else if (s->reg) {
            gpr_set(cpu, s->m, cpu->fpu.r[s->r & 7].mant, w);
            mmx_touch(cpu, -1, 0);
        } else {
            uint64_t v = cpu->fpu.r[s->r & 7].mant;
            store(s, &v, w ? 8 : 4, 1);
            mmx_touch(cpu, -1, 0);
        }
        return;
    }
    MmxMem mm = { cpu, 0 };
    if (!s->reg) {
        bool wr = op == 0x7f;
        mm.lin = maddr(s, (op >= 0x60 && op <= 0x62) ? 4 : 8, wr, 1);
    }
    X87Mem m = { .ctx = &mm, .load = mmx_load, .store = mmx_store,
                 .flags = X87_MEM_IGNNE | X87_MEM_OP32 | X87_MEM_PMODE };
    uint8_t modrm = s->in->modrm;
    if (mmx_exec(&cpu->fpu, op, modrm, &m, 0, cpu->regs, s->in->imm) !=
        X87_OK) {
        ud(cpu);
    }
}

static void comis(X86Cpu *cpu, const X86Xmm *a, const X86Xmm *b, bool dbl,
                  bool sig)
{
    V2 x = tov(a), y = tov(b);
    bool z, p, c;
    uint32_t h = fp_begin(cpu);
    if (dbl) {
        if (sig) {
            __asm__ volatile("comisd %3, %4" : "=@ccz"(z), "=@ccp"(p),
                             "=@ccc"(c) : "x"(y), "x"(x));
        } else {
            __asm__ volatile("ucomisd %3, %4" : "=@ccz"(z), "=@ccp"(p),
                             "=@ccc"(c) : "x"(y), "x"(x));
        }
    } else if (sig) {
        __asm__ volatile("comiss %3, %4" : "=@ccz"(z), "=@ccp"(p),
                         "=@ccc"(c) : "x"(y), "x"(x));
    } else {
        __asm__ volatile("ucomiss %3, %4" : "=@ccz"(z), "=@ccp"(p),
                         "=@ccc"(c) : "x"(y), "x"(x));
    }
    fp_end(cpu, h);
    x86_set_eflags(cpu, (z ? F_ZF : 0) | (p ? F_PF : 0) | (c ? F_CF : 0),
                   F_ARITH);
}

/* CVT(T)SS2SI / CVT(T)SD2SI to a 32- or 64-bit GPR. */
static uint64_t cvt2si(X86Cpu *cpu, const X86Xmm *b, bool dbl, bool trunc,
                       bool w)
{
    V2 x = tov(b);
    uint64_t r;
    uint32_t h = fp_begin(cpu);
    if (w) {
        int64_t v;
        if (dbl) {
            if (trunc) {
                __asm__ volatile("cvttsd2si %1, %0" : "=r"(v) : "x"(x));
            } else {
                __asm__ volatile("cvtsd2si %1, %0" : "=r"(v) : "x"(x));
            }
        } else if (trunc) {
            __asm__ volatile("cvttss2si %1, %0" : "=r"(v) : "x"(x));
        } else {
            __asm__ volatile("cvtss2si %1, %0" : "=r"(v) : "x"(x));
        }
        r = (uint64_t)v;
    } else {
        int32_t v;
        if (dbl) {
            if (trunc) {
                __asm__ volatile("cvttsd2si %1, %0" : "=r"(v) : "x"(x));
            } else {
                __asm__ volatile("cvtsd2si %1, %0" : "=r"(v) : "x"(x));
            }
        } else if (trunc) {
            __asm__ volatile("cvttss2si %1, %0" : "=r"(v) : "x"(x));
        } else {
            __asm__ volatile("cvtss2si %1, %0" : "=r"(v) : "x"(x));
        }
        r = (uint32_t)v;
    }
    fp_end(cpu, h);
    return r;
}

/* DPPS/DPPD on the host (its rounding of the partial sums and its NaN
   choice are the hardware's): one instruction per imm8. */
#define DP1(i) case i: A2I(ins, i); break;
#define DP4(i) DP1(i) DP1(i + 1) DP1(i + 2) DP1(i + 3)
#define DP16(i) DP4(i) DP4(i + 4) DP4(i + 8) DP4(i + 12)
#define DP64(i) DP16(i) DP16(i + 16) DP16(i + 32) DP16(i + 48)

static V2 dpps(V2 a, V2 b, unsigned imm)
{
#define ins "dpps"
    switch (imm & 0xff) {
    DP64(0) DP64(64) DP64(128) DP64(192)
    }
#undef ins
    return a;
}

static V2 dppd(V2 a, V2 b, unsigned imm)
{
#define ins "dppd"
    switch (imm & 0xff) {
    DP64(0) DP64(64) DP64(128) DP64(192)
    }
#undef ins
    return a;
}

static void dpp(X86Cpu *cpu, X86Xmm *a, const X86Xmm *b, unsigned imm,
                bool dbl)
{
    V2 va = tov(a), vb = tov(b);
    uint32_t extra = 0, keep = 0;
    if ((cpu->fpu.mxcsr & MXCSR_MASKS) != MXCSR_MASKS) {
        /* An exception may be unmasked: the products are a step of their
           own (their unmasked exception ends the instruction, their
           flags stay when a sum faults).  Excluded lanes are +0 * +0. */
        X86Xmm x = *a, y = *b;
        for (unsigned i = 0; i < (dbl ? 2u : 4u); i++) {
            if (!(imm & (0x10u << i))) {
                if (dbl) {
                    x.q[i] = y.q[i] = 0;
                } else {
                    x.d[i] = y.d[i] = 0;
                }
            }
        }
        V2 px = tov(&x), py = tov(&y);
        uint32_t h = fp_begin(cpu);
        if (dbl) {
            __asm__ volatile("mulpd %1, %0" : "+x"(px) : "x"(py));
        } else {
            __asm__ volatile("mulps %1, %0" : "+x"(px) : "x"(py));
        }
        uint32_t f;
        __asm__ volatile("stmxcsr %0" : "=m"(f));
        __asm__ volatile("ldmxcsr %0" : : "m"(h));
        keep = f & MXCSR_FLAGS;
        if (keep & ~(cpu->fpu.mxcsr >> 7)) {
            h = fp_begin(cpu);
            fp_end_extra(cpu, h, keep, 0); /* faults */
        }
    }
    if (fp_tiny_flag(cpu)) {
        uint32_t h = fp_begin_ftz(cpu);
        V2 t = dbl ? dppd(va, vb, imm) : dpps(va, vb, imm);
        (void)t;
        extra = fp_end_probe(h);
    }
    uint32_t h = fp_begin(cpu);
    va = dbl ? dppd(va, vb, imm) : dpps(va, vb, imm);
    fp_end_extra(cpu, h, extra, keep);
    fromv(a, va);
}

static void exec(Sse *s)
{
    X86Cpu *cpu = s->cpu;
    const X86Insn *in = s->in;
    unsigned op = s->op, pfx = s->pfx, imm = in->imm & 0xff;
    unsigned n = s->mm ? 8 : 16;
    /* The packed-single/no-prefix forms are SSE, the rest SSE2 (minus the
       later sets, checked where they are). */
    X86Xmm a, b, r;
    V2 va;

    switch (op) {
    case 0x110: case 0x111: { /* MOVUPS MOVUPD MOVSS MOVSD */
        unsigned sz = pfx == 2 ? 4 : pfx == 3 ? 8 : 16;
        if (op == 0x110) {
            src(s, &b, sz, false);
            if (s->reg && sz < 16) {
                dst_get(s, &a);
                memcpy(&a, &b, sz);
                b = a;
            }
            dst_set(s, &b);
        } else if (s->reg) {
            a = cpu->xmm[s->m];
            memcpy(&a, &cpu->xmm[s->r], sz);
            cpu->xmm[s->m] = a;
        } else {
            store(s, &cpu->xmm[s->r], sz, 1);
        }
        return;
    }
    case 0x112: case 0x116: /* MOVLPS/MOVHLPS MOVHPS/MOVLHPS MOVSLDUP... */
        dst_get(s, &a);
        if (pfx == 2) {
            need(cpu, X86F_SSE3);
            src(s, &b, 16, true);
            unsigned o = op == 0x116;
            a.d[0] = a.d[1] = b.d[o];
            a.d[2] = a.d[3] = b.d[2 + o];
        } else if (pfx == 3) {
            need(cpu, X86F_SSE3);
            src(s, &b, 8, false);
            a.q[0] = a.q[1] = b.q[0];
        } else if (s->reg) {
            b = cpu->xmm[s->m];
            if (op == 0x112) {
                a.q[0] = b.q[1];
            } else {
                a.q[1] = b.q[0];
            }
        } else {
            src(s, &b, 8, false);
            a.q[op == 0x116] = b.q[0];
        }
        dst_set(s, &a);
        return;
    case 0x113: case 0x117:
        store(s, &cpu->xmm[s->r].q[op == 0x117], 8, 1);
        return;
    case 0x114: case 0x115:
        dst_get(s, &a);
        src(s, &b, 16, true);
        unpack(&r, &a, &b, pfx ? 8 : 4, 16, op == 0x115);
        dst_set(s, &r);
        return;
    case 0x128: case 0x16f: /* MOVAPS/MOVAPD, MOVQ mm/MOVDQA/MOVDQU */
        src(s, &b, n, !(op == 0x16f && pfx == 2));
        dst_set(s, &b);
        return;
    case 0x129: case 0x17f: case 0x12b: case 0x1e7:
        if (s->reg) {
            if (s->mm) {
                mmx_touch(cpu, s->m & 7, cpu->fpu.r[s->r & 7].mant);
            } else {
                cpu->xmm[s->m] = cpu->xmm[s->r];
            }
        } else if (s->mm) {
            uint64_t v = cpu->fpu.r[s->r & 7].mant;
            store(s, &v, 8, 1);
            mmx_touch(cpu, -1, 0);
        } else {
            store(s, &cpu->xmm[s->r], 16,
                  (op == 0x17f && pfx == 2) ? 1 : 16);
        }
        return;
    case 0x12a: /* CVTPI2PS CVTPI2PD CVTSI2SS CVTSI2SD */
        dst_get(s, &a);
        if (pfx >= 2) {
            bool w = rex_w(s);
            uint64_t v = gpr_src(s, w);
            va = tov(&a);
            uint32_t h = fp_begin(cpu);
            if (pfx == 2) {
                if (w) {
                    __asm__ volatile("cvtsi2ssq %1, %0" : "+x"(va)
                                     : "r"(v));
                } else {
                    __asm__ volatile("cvtsi2ssl %1, %0" : "+x"(va)
                                     : "r"((uint32_t)v));
                }
            } else if (w) {
                __asm__ volatile("cvtsi2sdq %1, %0" : "+x"(va) : "r"(v));
            } else {
                __asm__ volatile("cvtsi2sdl %1, %0" : "+x"(va)
                                 : "r"((uint32_t)v));
            }
            fp_end(cpu, h);
            fromv(&a, va);
        } else {
            if (s->reg) {
                if (!mmx_avail(cpu)) {
                    return;
                }
                b.q[0] = cpu->fpu.r[s->m & 7].mant;
                b.q[1] = 0;
                mmx_touch(cpu, -1, 0);
            } else {
                src(s, &b, 8, false);
            }
            va = tov(&b);
            V2 z = va;
            uint32_t h = fp_begin(cpu);
            if (pfx == 0) {
                __asm__ volatile("cvtdq2ps %1, %0" : "=x"(z) : "x"(va));
            } else {
                __asm__ volatile("cvtdq2pd %1, %0" : "=x"(z) : "x"(va));
            }
            fp_end(cpu, h);
            fromv(&r, z);
            if (pfx == 0) {
                a.q[0] = r.q[0];
            } else {
                a = r;
            }
        }
        dst_set(s, &a);
        return;
    case 0x12c: case 0x12d: /* CVT(T)PS2PI CVT(T)PD2PI CVT(T)SS2SI ... */
        if (pfx >= 2) {
            src(s, &b, pfx == 2 ? 4 : 8, false);
            bool w = rex_w(s);
            gpr_set(cpu, s->r, cvt2si(cpu, &b, pfx == 3, op == 0x12c, w),
                    w);
            return;
        }
        if (!mmx_avail(cpu)) {
            return;
        }
        src(s, &b, pfx ? 16 : 8, pfx == 1);
        if (!pfx) {
            b.q[1] = 0;
        }
        va = tov(&b);
        {
            V2 z;
            uint32_t h = fp_begin(cpu);
            if (pfx == 0) {
                if (op == 0x12c) {
                    __asm__ volatile("cvttps2dq %1, %0" : "=x"(z) : "x"(va));
                } else {
                    __asm__ volatile("cvtps2dq %1, %0" : "=x"(z) : "x"(va));
                }
            } else if (op == 0x12c) {
                __asm__ volatile("cvttpd2dq %1, %0" : "=x"(z) : "x"(va));
            } else {
                __asm__ volatile("cvtpd2dq %1, %0" : "=x"(z) : "x"(va));
            }
            fp_end(cpu, h);
            fromv(&r, z);
        }
        mmx_touch(cpu, s->r & 7, r.q[0]);
        return;
    case 0x12e: case 0x12f:
        src(s, &b, pfx ? 8 : 4, false);
        comis(cpu, &cpu->xmm[s->r], &b, pfx == 1, op == 0x12f);
        return;
    case 0x150: { /* MOVMSKPS/PD */
        uint32_t m = 0;
        a = cpu->xmm[s->m];
        if (pfx) {
            m = (a.q[0] >> 63) | (a.q[1] >> 63) << 1;
        } else {
            for (unsigned i = 0; i < 4; i++) {
                m |= (a.d[i] >> 31) << i;
            }
        }
        gpr_set(cpu, s->r, m, false);
        return;
    }
    case 0x154: case 0x155: case 0x156: case 0x157:
        dst_get(s, &a);
        src(s, &b, 16, true);
        for (unsigned i = 0; i < 2; i++) {
            a.q[i] = op == 0x154 ? a.q[i] & b.q[i]
                     : op == 0x155 ? ~a.q[i] & b.q[i]
                     : op == 0x156 ? a.q[i] | b.q[i] : a.q[i] ^ b.q[i];
        }
        dst_set(s, &a);
        return;
    case 0x151: case 0x152: case 0x153: case 0x158: case 0x159:
    case 0x15a: case 0x15b: case 0x15c ... 0x15f: case 0x1c2: case 0x1d0:
    case 0x17c: case 0x17d: case 0x1e6: case 0x308 ... 0x30b: {
        unsigned sz = 16;
        bool scalar = (pfx >= 2 && op >= 0x151 && op <= 0x15f &&
                       op != 0x15b) || (pfx >= 2 && op == 0x1c2) ||
                      op == 0x30a || op == 0x30b;
        if (scalar) {
            sz = (pfx == 2 || op == 0x30a) ? 4 : 8;
        }
        if ((op == 0x15a && pfx == 0) || (op == 0x1e6 && pfx == 2)) {
            sz = 8; /* CVTPS2PD, CVTDQ2PD read 64 bits */
        }
        if (op == 0x15a && pfx == 2) {
            sz = 4;
        }
        if (op == 0x15a && pfx == 3) {
            sz = 8;
        }
        dst_get(s, &a);
        src(s, &b, sz, sz == 16);
        va = tov(&a);
        uint32_t extra = 0;
        if (fp_tiny_flag(cpu)) {
            V2 t = va;
            uint32_t h = fp_begin_ftz(cpu);
            fp_arith(op, pfx, imm, &t, tov(&b));
            extra = fp_end_probe(h);
        }
        uint32_t h = fp_begin(cpu);
        fp_arith(op, pfx, imm, &va, tov(&b));
        fp_end_extra(cpu, h, extra, 0);
        fromv(&a, va);
        dst_set(s, &a);
        return;
    }
    case 0x16e: /* MOVD/MOVQ xmm, r/m */
        memset(&a, 0, sizeof(a));
        a.q[0] = gpr_src(s, rex_w(s));
        dst_set(s, &a);
        return;
    case 0x17e:
        if (pfx == 2) { /* MOVQ xmm, xmm/m64 */
            src(s, &b, 8, false);
            b.q[1] = 0;
            dst_set(s, &b);
        } else {
            bool w = rex_w(s);
            uint64_t v = cpu->xmm[s->r].q[0];
            if (s->reg) {
                gpr_set(cpu, s->m, v, w);
            } else {
                store(s, &v, w ? 8 : 4, 1);
            }
        }
        return;
    case 0x1d6:
        if (pfx == 1) { /* MOVQ xmm/m64, xmm */
            if (s->reg) {
                a.q[0] = cpu->xmm[s->r].q[0];
                a.q[1] = 0;
                cpu->xmm[s->m] = a;
            } else {
                store(s, &cpu->xmm[s->r].q[0], 8, 1);
            }
        } else {
            if (!mmx_avail(cpu)) {
                return;
            }
            if (pfx == 2) { /* MOVQ2DQ xmm, mm */
                a.q[0] = cpu->fpu.r[s->m & 7].mant;
                a.q[1] = 0;
                cpu->xmm[s->r] = a;
                mmx_touch(cpu, -1, 0);
            } else { /* MOVDQ2Q mm, xmm */
                mmx_touch(cpu, s->r & 7, cpu->xmm[s->m].q[0]);
            }
        }
        return;
    case 0x170: /* PSHUFW PSHUFD PSHUFHW PSHUFLW */
        src(s, &b, n, true);
        r = b;
        if (s->mm) {
            for (unsigned i = 0; i < 4; i++) {
                r.w[i] = b.w[(imm >> (2 * i)) & 3];
            }
        } else if (pfx == 1) {
            for (unsigned i = 0; i < 4; i++) {
                r.d[i] = b.d[(imm >> (2 * i)) & 3];
            }
        } else {
            unsigned o = pfx == 2 ? 4 : 0;
            for (unsigned i = 0; i < 4; i++) {
                r.w[o + i] = b.w[o + ((imm >> (2 * i)) & 3)];
            }
        }
        dst_set(s, &r);
        return;
    case 0x171: case 0x172: case 0x173: {
        unsigned g = (in->modrm >> 3) & 7;
        unsigned w = op == 0x171 ? 2 : op == 0x172 ? 4 : 8;
        /* the register is ModRM.rm */
        Sse t = *s;
        t.r = s->m;
        dst_get(&t, &a);
        if (g == 3 || g == 7) {
            bshift(&r, &a, imm > 16 ? 16 : imm, g == 7);
        } else {
            shift(&r, &a, imm, w, n, g == 6 ? 0 : g == 2 ? 1 : 2);
        }
        if (n == 8) {
            r.q[1] = 0;
        }
        dst_set(&t, &r);
        return;
    }
    case 0x1c3: { /* MOVNTI */
        bool w = rex_w(s);
        store(s, &cpu->regs[s->r], w ? 8 : 4, 1);
        return;
    }
    case 0x1c4: { /* PINSRW */
        dst_get(s, &a);
        uint16_t v;
        if (s->reg) {
            v = cpu->regs[s->m];
        } else {
            mem_read(cpu, maddr(s, 2, false, 1), &v, 2);
        }
        a.w[imm & (n / 2 - 1)] = v;
        dst_set(s, &a);
        return;
    }
    case 0x1c5: { /* PEXTRW r32, mm/xmm */
        Sse t = *s;
        t.r = s->m;
        dst_get(&t, &a);
        gpr_set(cpu, s->r, a.w[imm & (n / 2 - 1)], false);
        if (s->mm) {
            mmx_touch(cpu, -1, 0);
        }
        return;
    }
    case 0x1c6:
        dst_get(s, &a);
        src(s, &b, 16, true);
        if (pfx) {
            r.q[0] = a.q[imm & 1];
            r.q[1] = b.q[(imm >> 1) & 1];
        } else {
            r.d[0] = a.d[imm & 3];
            r.d[1] = a.d[(imm >> 2) & 3];
            r.d[2] = b.d[(imm >> 4) & 3];
            r.d[3] = b.d[(imm >> 6) & 3];
        }
        dst_set(s, &r);
        return;
    case 0x1d7: case 0x1f7: { /* PMOVMSKB, MASKMOVQ/MASKMOVDQU */
        Sse t = *s;
        t.r = s->m;
        dst_get(&t, &b);
        if (op == 0x1d7) {
            uint32_t m = 0;
            for (unsigned i = 0; i < n; i++) {
                m |= (uint32_t)(b.b[i] >> 7) << i;
            }
            gpr_set(cpu, s->r, m, false);
            if (s->mm) {
                mmx_touch(cpu, -1, 0);
            }
            return;
        }
        dst_get(s, &a);
        /* DS:rDI (segment override allowed), byte by byte. */
        X86Insn di = *in;
        di.mod = 0;
        di.base = R_EDI;
        di.index = X86_R_NONE;
        di.disp = 0;
        Sse u = *s;
        u.in = &di;
        for (unsigned i = 0; i < n; i++) {
            if (b.b[i] & 0x80) {
                di.disp = i;
                store(&u, &a.b[i], 1, 1);
            }
        }
        if (s->mm) {
            mmx_touch(cpu, -1, 0);
        }
        return;
    }
    case 0x1f0: /* LDDQU */
        src(s, &b, 16, false);
        dst_set(s, &b);
        return;
    /* ---- 0F 38 ---- */
    case 0x210: case 0x214: case 0x215: { /* blendv, xmm0 the mask */
        dst_get(s, &a);
        src(s, &b, 16, true);
        X86Xmm m0 = cpu->xmm[0];
        unsigned w = op == 0x210 ? 1 : op == 0x214 ? 4 : 8;
        for (unsigned i = 0; i < 16 / w; i++) {
            if (sl(&m0, w, i) < 0) {
                put(&a, w, i, ul(&b, w, i));
            }
        }
        dst_set(s, &a);
        return;
    }
    case 0x217: { /* PTEST */
        dst_get(s, &a);
        src(s, &b, 16, true);
        bool z = !((a.q[0] & b.q[0]) | (a.q[1] & b.q[1]));
        bool c = !((~a.q[0] & b.q[0]) | (~a.q[1] & b.q[1]));
        x86_set_eflags(cpu, (z ? F_ZF : 0) | (c ? F_CF : 0), F_ARITH);
        return;
    }
    case 0x220 ... 0x225: case 0x230 ... 0x235: { /* PMOVSX/ZX */
        static const uint8_t from[6] = { 1, 1, 1, 2, 2, 4 };
        static const uint8_t to[6] = { 2, 4, 8, 4, 8, 8 };
        unsigned k = op & 7, f = from[k], t = to[k];
        src(s, &b, 16 / t * f, false);
        memset(&r, 0, sizeof(r));
        for (unsigned i = 0; i < 16 / t; i++) {
            put(&r, t, i, op < 0x230 ? (uint64_t)sl(&b, f, i) : ul(&b, f, i));
        }
        dst_set(s, &r);
        return;
    }
    case 0x22a: /* MOVNTDQA */
        src(s, &b, 16, true);
        dst_set(s, &b);
        return;
    case 0x241: { /* PHMINPOSUW */
        src(s, &b, 16, true);
        unsigned mi = 0;
        for (unsigned i = 1; i < 8; i++) {
            if (b.w[i] < b.w[mi]) {
                mi = i;
            }
        }
        memset(&r, 0, sizeof(r));
        r.w[0] = b.w[mi];
        r.w[1] = mi;
        dst_set(s, &r);
        return;
    }
    /* ---- 0F 3A ---- */
    case 0x30c: case 0x30d: case 0x30e: {
        dst_get(s, &a);
        src(s, &b, 16, true);
        unsigned w = op == 0x30c ? 4 : op == 0x30d ? 8 : 2;
        for (unsigned i = 0; i < 16 / w; i++) {
            if (imm & (1u << i)) {
                put(&a, w, i, ul(&b, w, i));
            }
        }
        dst_set(s, &a);
        return;
    }
    case 0x30f: { /* PALIGNR */
        dst_get(s, &a);
        src(s, &b, n, true);
        uint8_t cat[32];
        memset(cat, 0, sizeof(cat));
        memcpy(cat, &b, n);
        memcpy(cat + n, &a, n);
        memset(&r, 0, sizeof(r));
        for (unsigned i = 0; i < n; i++) {
            r.b[i] = imm + i < 2 * n ? cat[imm + i] : 0;
        }
        dst_set(s, &r);
        return;
    }
    case 0x314: case 0x315: case 0x316: case 0x317: {
        static const uint8_t wid[4] = { 1, 2, 4, 4 };
        bool w = op == 0x316 && rex_w(s);
        unsigned sz = w ? 8 : wid[op & 3];
        a = cpu->xmm[s->r];
        uint64_t v = ul(&a, sz, imm & (16 / sz - 1));
        if (s->reg) {
            gpr_set(cpu, s->m, v, w);
        } else {
            store(s, &v, sz, 1);
        }
        return;
    }
    case 0x320: case 0x322: {
        bool w = op == 0x322 && rex_w(s);
        unsigned sz = op == 0x320 ? 1 : w ? 8 : 4;
        uint64_t v = 0;
        if (s->reg) {
            v = cpu->regs[s->m];
        } else {
            mem_read(cpu, maddr(s, sz, false, 1), &v, sz);
        }
        dst_get(s, &a);
        put(&a, sz, imm & (16 / sz - 1), v);
        dst_set(s, &a);
        return;
    }
    case 0x321: { /* INSERTPS */
        dst_get(s, &a);
        uint32_t v;
        if (s->reg) {
            v = cpu->xmm[s->m].d[(imm >> 6) & 3];
        } else {
            mem_read(cpu, maddr(s, 4, false, 1), &v, 4);
        }
        a.d[(imm >> 4) & 3] = v;
        for (unsigned i = 0; i < 4; i++) {
            if (imm & (1u << i)) {
                a.d[i] = 0;
            }
        }
        dst_set(s, &a);
        return;
    }
    case 0x340: case 0x341:
        dst_get(s, &a);
        src(s, &b, 16, true);
        dpp(cpu, &a, &b, imm, op == 0x341);
        dst_set(s, &a);
        return;
    case 0x342: { /* MPSADBW */
        dst_get(s, &a);
        src(s, &b, 16, true);
        unsigned ao = ((imm >> 2) & 1) * 4, bo = (imm & 3) * 4;
        for (unsigned i = 0; i < 8; i++) {
            unsigned sum = 0;
            for (unsigned j = 0; j < 4; j++) {
                int d = a.b[ao + i + j] - b.b[bo + j];
                sum += d < 0 ? -d : d;
            }
            r.w[i] = sum;
        }
        dst_set(s, &r);
        return;
    }
    case 0x360 ... 0x363: {
        bool imp = op >= 0x362, idx = op & 1;
        src(s, &b, 16, false);
        a = cpu->xmm[s->r];
        bool w = rex_w(s);
        int64_t la = w ? (int64_t)cpu->regs[R_EAX]
                       : (int32_t)cpu->regs[R_EAX];
        int64_t lb = w ? (int64_t)cpu->regs[R_EDX]
                       : (int32_t)cpu->regs[R_EDX];
        unsigned res = pcmpstr(cpu, &a, &b, imm, imp, la, lb);
        unsigned ne = (imm & 1) ? 8 : 16;
        if (idx) {
            unsigned i;
            if (!res) {
                i = ne;
            } else if (imm & 0x40) {
                i = 31 - __builtin_clz(res);
            } else {
                i = __builtin_ctz(res);
            }
            cpu->regs[R_ECX] = i;
        } else {
            memset(&r, 0, sizeof(r));
            if (imm & 0x40) {
                for (unsigned i = 0; i < ne; i++) {
                    if (res & (1u << i)) {
                        put(&r, ne == 8 ? 2 : 1, i, ~0ull);
                    }
                }
            } else {
                r.d[0] = res;
            }
            cpu->xmm[0] = r;
        }
        return;
    }
    }
    /* The integer (dest, source) operations. */
    unsigned sz = n;
    if (s->mm && op >= 0x160 && op <= 0x162) {
        sz = 4;
    }
    dst_get(s, &a);
    src(s, &b, sz, true);
    if (!int_binop(op, &r, &a, &b, n)) {
        ud(cpu);
    }
    dst_set(s, &r);
}

/* The feature an instruction needs (its mandatory prefix chooses). */
static uint32_t feature_of(unsigned op, unsigned pfx, bool mm)
{
    if (op >= 0x300) {
        return op == 0x30f ? X86F_SSSE3 : op >= 0x360 ? X86F_SSE42
               : X86F_SSE41;
    }
    if (op >= 0x200) {
        if (op <= 0x20b || (op >= 0x21c && op <= 0x21e)) {
            return X86F_SSSE3;
        }
        return op == 0x237 || op >= 0x2f0 ? X86F_SSE42 : X86F_SSE41;
    }
    switch (op) {
    case 0x17c: case 0x17d: case 0x1d0: case 0x1f0:
        return X86F_SSE3;
    case 0x112: case 0x116:
        if (pfx >= 2) {
            return X86F_SSE3;
        }
        break;
    case 0x1d4: case 0x1fb: case 0x1f4: case 0x1c3: case 0x15a: case 0x15b:
        return X86F_SSE2;
    }
    if (mm) {
        return X86F_SSE; /* the MMX-register extensions */
    }
    bool sse1_op = (op >= 0x110 && op <= 0x15f) || op == 0x1c2 ||
                   op == 0x1c6;
    return sse1_op && (pfx == 0 || pfx == 2) ? X86F_SSE : X86F_SSE2;
}

void x86_h_sse(X86Cpu *cpu, const X86Insn *in)
{
    Sse s = { .cpu = cpu, .in = in, .pfx = in->pfx,
              .reg = in->mod == 3 };
    s.op = (in->map == 1 ? 0x200 : in->map == 2 ? 0x300 : 0x100) | in->op;
    s.r = ((in->modrm >> 3) & 7) | (in->rex & 4 ? 8 : 0);
    s.m = (in->modrm & 7) | (in->rex & 1 ? 8 : 0);
    unsigned op = s.op;
    if (op == 0x101) { /* XGETBV, XSETBV (0F 01 D0/D1) */
        if (in->modrm == 0xd0) {
            x86_xgetbv(cpu);
        } else {
            x86_xsetbv(cpu);
        }
        return;
    }
    if (op == 0x10d || (op >= 0x118 && op <= 0x11f)) {
        return; /* PREFETCHh and the hint NOPs in 64-bit mode */
    }
    if (op == 0x1ae) {
        grp15(&s);
        return;
    }
    if (op == 0x1b8) { /* POPCNT */
        need(cpu, X86F_POPCNT);
        unsigned sz = in->osz;
        uint64_t v;
        if (s.reg) {
            v = cpu->regs[s.m];
        } else {
            v = 0;
            mem_read(cpu, maddr(&s, sz, false, 1), &v, sz);
        }
        v &= sz == 8 ? ~0ull : (1ull << (sz * 8)) - 1;
        unsigned c = __builtin_popcountll(v);
        if (sz == 2) {
            cpu->regs[s.r] = (cpu->regs[s.r] & ~0xffffull) | c;
        } else {
            gpr_set(cpu, s.r, c, sz == 8);
        }
        x86_set_eflags(cpu, v ? 0 : F_ZF, F_ARITH);
        return;
    }
    if (op == 0x2f0 || op == 0x2f1) { /* CRC32 */
        need(cpu, X86F_SSE42);
        unsigned sz = op == 0x2f0 ? 1 : in->osz;
        uint64_t v = 0;
        if (s.reg) {
            v = sz == 1 && !in->rex && s.m >= 4 && s.m < 8
                ? cpu->regs[s.m - 4] >> 8 : cpu->regs[s.m];
        } else {
            mem_read(cpu, maddr(&s, sz, false, 1), &v, sz);
        }
        uint32_t c = crc32c((uint32_t)cpu->regs[s.r], v, sz);
        gpr_set(cpu, s.r, c, false);
        return;
    }
    if (op == 0x1c3) { /* MOVNTI: a GPR store */
        need(cpu, X86F_SSE2);
        exec(&s);
        return;
    }
    bool mmx_form = s.pfx == 0 && ((op >= 0x160 && op <= 0x17f) ||
                                   (op >= 0x1c4 && op <= 0x1c5) ||
                                   (op >= 0x1d0 && op <= 0x1ff) ||
                                   (op >= 0x200 && op <= 0x21e) ||
                                   op == 0x30f);
    if (mmx_form && mmx_is_opcode(op & 0xff) && op < 0x200) {
        /* The Pentium II's MMX instructions. */
        if (!cpu->code64) {
            x86_h_mmx(cpu, in);
            return;
        }
        mmx64(&s);
        return;
    }
    need(cpu, feature_of(op, s.pfx, mmx_form));
    if (mmx_form) {
        /* (MMX registers are s.r & 7 and s.m & 7; a GPR operand keeps
           its REX bit.) */
        s.mm = true;
        if (!mmx_avail(cpu)) {
            return;
        }
    } else {
        /* CVT*PI* and MOVQ2DQ/MOVDQ2Q check the MMX side themselves. */
        sse_avail(cpu);
    }
    exec(&s);
}

/* FISTTP (SSE3, SDM Vol. 2A): FISTP (DF /3, DB /3, DF /7) with the
   rounding control at chop for this one instruction; the destination is
   probed first, so that no fault leaves FCW changed (an x87 exception
   pending goes through the FISTP path unchanged: it faults or waits
   before doing anything). */
void x86_fisttp(X86Cpu *cpu, const X86Insn *in)
{
    X86Insn t = *in;
    unsigned size = in->op == 0xdf ? 2 : in->op == 0xdb ? 4 : 8;
    t.op = in->op == 0xdd ? 0xdf : in->op;
    t.modrm = (in->modrm & 0xc7) | ((in->op == 0xdd ? 7 : 3) << 3);
    t.reg = (t.modrm >> 3) & 7;
    if (x87_pending_exception(&cpu->fpu)) {
        x86_h_esc(cpu, &t);
        return;
    }
    Sse s = { .cpu = cpu, .in = in };
    uint64_t a = maddr(&s, size, true, 1);
    x86_translate(cpu, a & cpu->lin_mask, 1, cpu->tlb_user);
    x86_translate(cpu, (a + size - 1) & cpu->lin_mask, 1, cpu->tlb_user);
    uint16_t fcw = cpu->fpu.fcw;
    cpu->fpu.fcw |= X87_CW_RC;
    x86_h_esc(cpu, &t);
    cpu->fpu.fcw = fcw;
}

void x86_sse_dump(X86Cpu *cpu, GString *out)
{
    if (!(x86_sse_features(cpu) & X86F_SSE)) {
        return;
    }
    unsigned n = cpu->model->features & X86F_LM ? 16 : 8;
    for (unsigned i = 0; i < n; i++) {
        g_string_append_printf(out, "XMM%02u=%016" G_GINT64_MODIFIER "x"
                               "%016" G_GINT64_MODIFIER "x%s", i,
                               cpu->xmm[i].q[1], cpu->xmm[i].q[0],
                               (i & 1) ? "\n" : " ");
    }
    g_string_append_printf(out, "MXCSR=%08x\n", cpu->fpu.mxcsr);
}
