/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the SSE unit (src/arch/x86/exec_sse.c):
 * - host-oracle: random register-form SSE..SSE4.2 instructions with random
 *   operands and random MXCSR (every rounding mode, FTZ, DAZ, and unmasked
 *   exceptions) run in Mimic's CPU and natively on the host (the same
 *   bytes, in an executable buffer): XMM0-2, EAX/ECX/EDX, the arithmetic
 *   flags and the whole MXCSR (its exception flags too) must agree, and an
 *   unmasked exception must be #XM in Mimic where the host raised SIGFPE;
 * - fxsave-layout: the FXSAVE image (SDM Vol. 1 table 10-2), MXCSR_MASK,
 *   FXRSTOR of it, and #GP for a misaligned area and reserved MXCSR bits;
 * - rules: #UD without CR4.OSFXSR or with CR0.EM, #NM with CR0.TS, #UD
 *   for an unmasked exception without CR4.OSXMMEXCPT, #GP(0) for LDMXCSR
 *   with reserved bits and for a misaligned MOVAPS, #UD on pentium2;
 * - xsave: XSETBV/XGETBV, XSAVE's header and XRSTOR of an init state.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <glib.h>

#include "x86-rig.h"

#define RAM (1u << 20)
#define GDT 0x1000u
#define IDT 0x1800u
#define STUBS 0x1c00u
#define CODE 0x2000u
#define DATA 0x10000u

#define MXCSR_ALL_MASKED 0x1f80u

/* ---- the native side ---- */

typedef struct Native {
    uint8_t x[3][16];  /* XMM0-2 */
    uint32_t mxcsr;
    uint32_t eax, ecx, edx;
    uint64_t flags;
} Native;

static uint8_t *native_buf;
static sigjmp_buf native_jb;
static volatile uint32_t native_fault_mxcsr;

static void on_sigfpe(int sig, siginfo_t *si, void *uctx)
{
    ucontext_t *uc = uctx;
    native_fault_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
    /* back to a sane MXCSR (the handler's return would re-fault) */
    uc->uc_mcontext.fpregs->mxcsr = MXCSR_ALL_MASKED;
    siglongjmp(native_jb, 1);
}

/* Run insn natively on st; false if it raised SIGFPE (st->mxcsr then
   holds MXCSR at the fault). */
static bool native_run(const uint8_t *insn, int len, Native *st)
{
    static const uint8_t pre[] = {
        0xf3, 0x0f, 0x6f, 0x07, 0xf3, 0x0f, 0x6f, 0x4f, 0x10,
        0xf3, 0x0f, 0x6f, 0x57, 0x20, 0x0f, 0xae, 0x57, 0x30,
        0x8b, 0x47, 0x34, 0x8b, 0x4f, 0x38, 0x8b, 0x57, 0x3c,
    };
    static const uint8_t post[] = {
        0xf3, 0x0f, 0x7f, 0x07, 0xf3, 0x0f, 0x7f, 0x4f, 0x10,
        0xf3, 0x0f, 0x7f, 0x57, 0x20, 0x0f, 0xae, 0x5f, 0x30,
        0x89, 0x47, 0x34, 0x89, 0x4f, 0x38, 0x89, 0x57, 0x3c,
        0x9c, 0x58, 0x48, 0x89, 0x47, 0x40,
        0xb8, 0x80, 0x1f, 0x00, 0x00, 0x89, 0x44, 0x24, 0xfc,
        0x0f, 0xae, 0x54, 0x24, 0xfc, /* ldmxcsr 1F80h via the red zone */
        0xc3,
    };
    uint8_t *p = native_buf;
    memcpy(p, pre, sizeof(pre));
    p += sizeof(pre);
    memcpy(p, insn, len);
    p += len;
    memcpy(p, post, sizeof(post));
    __builtin___clear_cache((char *)native_buf,
                            (char *)p + sizeof(post));
    uint32_t saved;
    __asm__ volatile("stmxcsr %0" : "=m"(saved));
    bool ok = true;
    if (sigsetjmp(native_jb, 1)) {
        ok = false;
        st->mxcsr = native_fault_mxcsr;
    } else {
        ((void (*)(Native *))(void *)native_buf)(st);
    }
    __asm__ volatile("ldmxcsr %0" : : "m"(saved));
    return ok;
}

/* ---- the Mimic side ---- */

static void setup(Rig *r, const char *model)
{
    rig_init_model(r, RAM, model);
    rig_flat(r, GDT, 0);
    rig_idt_hlt(r, IDT, STUBS, 32);
    r->x->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
}

/* Run code at CODE until HLT; the exception vector taken or -1. */
static int run(Rig *r, const uint8_t *code, int len)
{
    uint8_t buf[64];
    memcpy(buf, code, len);
    buf[len] = 0xf4;
    rig_load(r, CODE, buf, len + 1);
    r->x->rip = CODE;
    r->x->halted = false;
    g_assert_cmpint(rig_run(r, 1000), ==, CPU_EXIT_HALTED);
    return rig_stub_vector(r, STUBS, 32);
}

/* ---- host-oracle ---- */

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint32_t f32(void)
{
    static const uint32_t sp[] = {
        0, 0x80000000u, 0x3f800000u, 0xbf800000u, 0x7f800000u, 0xff800000u,
        0x7fc00000u, 0x7fa00000u, 1, 0x807fffffu, 0x00800000u, 0x4f000000u,
        0xcf000000u, 0x3f000000u, 0x7f7fffffu, 0x00400000u, 0x0c000000u,
        0x72000000u, 0x4b000001u, 0x3effffffu,
    };
    uint64_t r = rnd();
    if (r % 3 == 0) {
        return sp[(r >> 8) % G_N_ELEMENTS(sp)];
    }
    return r % 3 == 1 ? (uint32_t)(rnd() & 0x8fffffffu) | 0x30000000u
                      : (uint32_t)rnd();
}

static uint64_t f64(void)
{
    static const uint64_t sp[] = {
        0, 1ull << 63, 0x3ff0000000000000ull, 0x7ff0000000000000ull,
        0x7ff8000000000000ull, 0x7ff4000000000000ull, 1,
        0x000fffffffffffffull, 0x0010000000000000ull,
        0x41e0000000000000ull, 0xc1e0000000000000ull,
        0x43e0000000000000ull, 0x7fefffffffffffffull, 0x3fe0000000000000ull,
        0x36a0000000000000ull, 0x4330000000000001ull,
    };
    uint64_t r = rnd();
    if (r % 3 == 0) {
        return sp[(r >> 8) % G_N_ELEMENTS(sp)];
    }
    return r % 3 == 1 ? (rnd() & 0x83ffffffffffffffull) | 0x3800000000000000ull
                      : rnd();
}

static void xrand(uint8_t x[16])
{
    uint64_t q[2];
    switch (rnd() % 4) {
    case 0:
        q[0] = f64();
        q[1] = f64();
        break;
    case 1:
        q[0] = f32() | (uint64_t)f32() << 32;
        q[1] = f32() | (uint64_t)f32() << 32;
        break;
    case 2:
        for (int i = 0; i < 16; i++) {
            ((uint8_t *)q)[i] = rnd() % 4 == 0 ? 0 : 'a' + rnd() % 3;
        }
        break;
    default:
        q[0] = rnd();
        q[1] = rnd();
        break;
    }
    memcpy(x, q, 16);
}

/* Instructions: prefix, map (0 0F, 1 0F38, 2 0F3A), opcode, imm8?,
   operands: 0 xmm1, xmm2; 1 eax, xmm2 (cvt to GPR); 2 xmm1, eax;
   3 eax, ecx (POPCNT, CRC32). */
typedef struct Op {
    uint8_t pfx, map, op, imm, kind;
} Op;

static const Op ops[] = {
    /* SSE/SSE2 floating point, every form */
    { 0, 0, 0x51, 0, 0 }, { 0x66, 0, 0x51, 0, 0 }, { 0xf3, 0, 0x51, 0, 0 },
    { 0xf2, 0, 0x51, 0, 0 }, { 0, 0, 0x58, 0, 0 }, { 0x66, 0, 0x58, 0, 0 },
    { 0xf3, 0, 0x58, 0, 0 }, { 0xf2, 0, 0x58, 0, 0 }, { 0, 0, 0x59, 0, 0 },
    { 0x66, 0, 0x59, 0, 0 }, { 0xf3, 0, 0x59, 0, 0 }, { 0xf2, 0, 0x59, 0, 0 },
    { 0, 0, 0x5c, 0, 0 }, { 0x66, 0, 0x5c, 0, 0 }, { 0xf3, 0, 0x5c, 0, 0 },
    { 0xf2, 0, 0x5c, 0, 0 }, { 0, 0, 0x5e, 0, 0 }, { 0x66, 0, 0x5e, 0, 0 },
    { 0xf3, 0, 0x5e, 0, 0 }, { 0xf2, 0, 0x5e, 0, 0 }, { 0, 0, 0x5d, 0, 0 },
    { 0x66, 0, 0x5d, 0, 0 }, { 0xf3, 0, 0x5f, 0, 0 }, { 0xf2, 0, 0x5f, 0, 0 },
    { 0, 0, 0x5a, 0, 0 }, { 0x66, 0, 0x5a, 0, 0 }, { 0xf3, 0, 0x5a, 0, 0 },
    { 0xf2, 0, 0x5a, 0, 0 }, { 0, 0, 0x5b, 0, 0 }, { 0x66, 0, 0x5b, 0, 0 },
    { 0xf3, 0, 0x5b, 0, 0 }, { 0x66, 0, 0xe6, 0, 0 }, { 0xf3, 0, 0xe6, 0, 0 },
    { 0xf2, 0, 0xe6, 0, 0 }, { 0, 0, 0xc2, 1, 0 }, { 0x66, 0, 0xc2, 1, 0 },
    { 0xf3, 0, 0xc2, 1, 0 }, { 0xf2, 0, 0xc2, 1, 0 }, { 0, 0, 0x52, 0, 0 },
    { 0xf3, 0, 0x53, 0, 0 }, { 0, 0, 0x2e, 0, 0 }, { 0x66, 0, 0x2f, 0, 0 },
    { 0xf3, 0, 0x2d, 0, 1 }, { 0xf2, 0, 0x2c, 0, 1 }, { 0xf3, 0, 0x2c, 0, 1 },
    { 0xf2, 0, 0x2d, 0, 1 }, { 0xf3, 0, 0x2a, 0, 2 }, { 0xf2, 0, 0x2a, 0, 2 },
    /* SSE3 */
    { 0x66, 0, 0xd0, 0, 0 }, { 0xf2, 0, 0xd0, 0, 0 }, { 0x66, 0, 0x7c, 0, 0 },
    { 0xf2, 0, 0x7c, 0, 0 }, { 0x66, 0, 0x7d, 0, 0 }, { 0xf2, 0, 0x7d, 0, 0 },
    /* SSE4.1 */
    { 0x66, 2, 0x08, 1, 0 }, { 0x66, 2, 0x09, 1, 0 }, { 0x66, 2, 0x0a, 1, 0 },
    { 0x66, 2, 0x0b, 1, 0 }, { 0x66, 2, 0x40, 1, 0 }, { 0x66, 2, 0x41, 1, 0 },
    { 0x66, 1, 0x17, 0, 0 }, { 0x66, 2, 0x21, 1, 0 }, { 0x66, 1, 0x41, 0, 0 },
    { 0x66, 2, 0x42, 1, 0 },
    /* SSE4.2, POPCNT */
    { 0x66, 2, 0x60, 1, 0 }, { 0x66, 2, 0x61, 1, 0 }, { 0x66, 2, 0x62, 1, 0 },
    { 0x66, 2, 0x63, 1, 0 }, { 0xf2, 1, 0xf0, 0, 3 }, { 0xf2, 1, 0xf1, 0, 3 },
    { 0xf3, 0, 0xb8, 0, 3 }, { 0x66, 1, 0x37, 0, 0 },
};

static bool sets_flags(const Op *o)
{
    return (o->map == 0 && (o->op == 0x2e || o->op == 0x2f ||
                            o->op == 0xb8)) ||
           (o->map == 1 && o->op == 0x17) ||
           (o->map == 2 && o->op >= 0x60 && o->op <= 0x63);
}

static int encode(const Op *o, uint8_t *b)
{
    int n = 0;
    if (o->pfx) {
        b[n++] = o->pfx;
    }
    b[n++] = 0x0f;
    if (o->map) {
        b[n++] = o->map == 1 ? 0x38 : 0x3a;
    }
    b[n++] = o->op;
    switch (o->kind) {
    case 0: b[n++] = 0xca; break; /* xmm1, xmm2 */
    case 1: b[n++] = 0xc2; break; /* eax, xmm2 */
    case 2: b[n++] = 0xc8; break; /* xmm1, eax */
    default: b[n++] = 0xc1; break; /* eax, ecx */
    }
    if (o->imm) {
        uint8_t imm = rnd();
        if (o->map == 0) {
            imm &= 7; /* CMPPS & co.: 3-bit predicate */
        }
        b[n++] = imm;
    }
    return n;
}

static void test_host_oracle(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("sse4.2") ||
        !__builtin_cpu_supports("popcnt")) {
        g_test_skip("the host has no SSE4.2/POPCNT");
        return;
    }
    native_buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (native_buf == MAP_FAILED) {
        g_test_skip("no executable memory");
        return;
    }
    struct sigaction sa = { 0 }, old;
    sa.sa_sigaction = on_sigfpe;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGFPE, &sa, &old);
    Rig r;
    setup(&r, "max");
    X86Cpu *x = r.x;
    uint64_t esp0 = x->regs[R_ESP];
    unsigned faults = 0, n = 50000;
    for (unsigned k = 0; k < n; k++) {
        const Op *o = &ops[rnd() % G_N_ELEMENTS(ops)];
        uint8_t code[16];
        int len = encode(o, code);
        Native st;
        for (int i = 0; i < 3; i++) {
            xrand(st.x[i]);
        }
        st.mxcsr = MXCSR_ALL_MASKED | (uint32_t)(rnd() % 4) << 13;
        if (rnd() % 4 == 0) {
            st.mxcsr |= 0x8000; /* FTZ */
        }
        if (rnd() % 4 == 0) {
            st.mxcsr |= 0x40;   /* DAZ */
        }
        if (rnd() % 5 == 0) {
            /* unmask some of IM DM ZM PM (not OM, UM: PE's rules for a
               faulting overflow or underflow are per lane, exec_sse.c) */
            st.mxcsr &= ~((uint32_t)(rnd() & 0x27) << 7);
        }
        st.eax = rnd() % 2 ? (uint32_t)rnd() : (uint32_t)(rnd() % 41) - 20;
        st.edx = rnd() % 2 ? (uint32_t)rnd() : (uint32_t)(rnd() % 41) - 20;
        st.ecx = rnd();
        st.flags = 0;
        Native in = st;
        bool ok = native_run(code, len, &st);
        /* Mimic */
        memcpy(&x->xmm[0], in.x[0], 16);
        memcpy(&x->xmm[1], in.x[1], 16);
        memcpy(&x->xmm[2], in.x[2], 16);
        x->fpu.mxcsr = in.mxcsr;
        x->regs[R_EAX] = in.eax;
        x->regs[R_ECX] = in.ecx;
        x->regs[R_EDX] = in.edx;
        x->regs[R_ESP] = esp0; /* after an exception's frame */
        x->lf_op = LF_NONE;
        x->eflags = 2;
        int vec = run(&r, code, len);
        bool bad = false;
        if (!ok) {
            faults++;
            bad = vec != EX_XM || x->fpu.mxcsr != st.mxcsr ||
                  memcmp(&x->xmm[1], in.x[1], 16);
        } else {
            bad = vec != -1 || memcmp(&x->xmm[0], st.x[0], 16) ||
                  memcmp(&x->xmm[1], st.x[1], 16) ||
                  memcmp(&x->xmm[2], st.x[2], 16) ||
                  x->fpu.mxcsr != st.mxcsr ||
                  (uint32_t)x->regs[R_EAX] != st.eax ||
                  (uint32_t)x->regs[R_ECX] != st.ecx ||
                  (uint32_t)x->regs[R_EDX] != st.edx ||
                  (sets_flags(o) && ((x86_get_eflags(x) ^ st.flags) & 0x8d5));
        }
        if (bad) {
            printf("# mismatch:");
            for (int i = 0; i < len; i++) {
                printf(" %02x", code[i]);
            }
            printf(" mxcsr in %04x host %04x (%s) mimic %04x (vector %d)\n",
                   in.mxcsr, st.mxcsr, ok ? "ok" : "SIGFPE", x->fpu.mxcsr,
                   vec);
            for (int i = 0; i < 3; i++) {
                uint64_t a[2], b[2], c[2];
                memcpy(a, in.x[i], 16);
                memcpy(b, st.x[i], 16);
                memcpy(c, &x->xmm[i], 16);
                printf("#  xmm%d in %016" PRIx64 "%016" PRIx64 " host %016"
                       PRIx64 "%016" PRIx64 " mimic %016" PRIx64 "%016"
                       PRIx64 "\n", i, a[1], a[0], b[1], b[0], c[1], c[0]);
            }
            printf("#  eax %08x/%08x ecx %08x/%08x edx in %08x flags "
                   "%03x/%03x\n", st.eax, (uint32_t)x->regs[R_EAX], st.ecx,
                   (uint32_t)x->regs[R_ECX], in.edx,
                   (unsigned)st.flags & 0x8d5, x86_get_eflags(x) & 0x8d5);
        }
        g_assert_false(bad);
    }
    g_assert_cmpuint(faults, >, 0); /* unmasked exceptions were tried */
    rig_free(&r);
    sigaction(SIGFPE, &old, NULL);
    munmap(native_buf, 4096);
}

/* ---- FXSAVE / FXRSTOR ---- */

static void test_fxsave_layout(void)
{
    Rig r;
    setup(&r, "max");
    X86Cpu *x = r.x;
    for (int i = 0; i < 8; i++) {
        memset(&x->xmm[i], 0x11 * (i + 1), 16);
    }
    x->fpu.mxcsr = 0x1f80 | 0x6000 | 0x21; /* RC chop, PE IE */
    x->fpu.fcw = 0x027f;
    /* fxsave [DATA]; fninit; xorps xmm3, xmm3; ldmxcsr [mx]; fxrstor */
    static const uint8_t save[] = { 0x0f, 0xae, 0x05, 0x00, 0x00, 0x01, 0x00 };
    g_assert_cmpint(run(&r, save, sizeof(save)), ==, -1);
    const uint8_t *a = r.ram + DATA;
    uint32_t v;
    memcpy(&v, a + 24, 4);
    g_assert_cmphex(v, ==, 0x7fa1);        /* MXCSR */
    memcpy(&v, a + 28, 4);
    g_assert_cmphex(v, ==, 0xffff);        /* MXCSR_MASK: DAZ supported */
    g_assert_cmphex(a[0] | a[1] << 8, ==, 0x027f);
    for (int i = 0; i < 8; i++) {
        g_assert_cmphex(a[160 + 16 * i], ==, 0x11 * (i + 1));
        g_assert_cmphex(a[160 + 16 * i + 15], ==, 0x11 * (i + 1));
    }
    /* Change everything, restore, compare. */
    memset(x->xmm, 0, sizeof(x->xmm));
    x->fpu.mxcsr = 0x1f80;
    static const uint8_t rstor[] = { 0x0f, 0xae, 0x0d, 0x00, 0x00, 0x01, 0x00 };
    g_assert_cmpint(run(&r, rstor, sizeof(rstor)), ==, -1);
    g_assert_cmphex(x->fpu.mxcsr, ==, 0x7fa1);
    g_assert_cmphex(x->xmm[7].b[3], ==, 0x88);
    /* Reserved MXCSR bits in the image: #GP, nothing changed. */
    r.ram[DATA + 26] = 0x01;
    g_assert_cmpint(run(&r, rstor, sizeof(rstor)), ==, EX_GP);
    rig_free(&r);
    /* Misaligned: #GP(0). */
    setup(&r, "max");
    static const uint8_t mis[] = { 0x0f, 0xae, 0x05, 0x08, 0x00, 0x01, 0x00 };
    g_assert_cmpint(run(&r, mis, sizeof(mis)), ==, EX_GP);
    rig_free(&r);
}

/* ---- #UD/#NM/#XM/#GP rules ---- */

static void test_rules(void)
{
    static const uint8_t addps[] = { 0x0f, 0x58, 0xc1 };
    static const uint8_t divps[] = { 0x0f, 0x5e, 0xc1 };
    Rig r;
    setup(&r, "max");
    r.x->cr4 &= ~CR4_OSFXSR;
    g_assert_cmpint(run(&r, addps, 3), ==, EX_UD);
    rig_free(&r);
    setup(&r, "max");
    r.x->cr0 |= CR0_EM;
    g_assert_cmpint(run(&r, addps, 3), ==, EX_UD);
    rig_free(&r);
    setup(&r, "max");
    r.x->cr0 |= CR0_TS;
    g_assert_cmpint(run(&r, addps, 3), ==, EX_NM);
    rig_free(&r);
    /* 1/0 with ZE unmasked: #XM, or #UD without OSXMMEXCPT. */
    setup(&r, "max");
    for (int i = 0; i < 4; i++) {
        r.x->xmm[0].f[i] = 1.0f;
    }
    r.x->fpu.mxcsr = 0x1f80 & ~0x200u;
    g_assert_cmpint(run(&r, divps, 3), ==, EX_XM);
    g_assert_cmphex(r.x->fpu.mxcsr & 0x3f, ==, 0x4);
    g_assert_true(r.x->xmm[0].f[0] == 1.0f); /* destination kept */
    rig_free(&r);
    setup(&r, "max");
    r.x->cr4 &= ~CR4_OSXMMEXCPT;
    r.x->xmm[0].f[0] = 1.0f;
    r.x->fpu.mxcsr = 0x1f80 & ~0x200u;
    g_assert_cmpint(run(&r, divps, 3), ==, EX_UD);
    rig_free(&r);
    /* LDMXCSR with a reserved bit: #GP(0); a good value loads. */
    setup(&r, "max");
    static const uint8_t ldmx[] = { 0x0f, 0xae, 0x15, 0x00, 0x00, 0x01, 0x00 };
    rig_put32(&r, DATA, 0x10000);
    g_assert_cmpint(run(&r, ldmx, sizeof(ldmx)), ==, EX_GP);
    rig_put32(&r, DATA, 0xffc0);
    g_assert_cmpint(run(&r, ldmx, sizeof(ldmx)), ==, -1);
    g_assert_cmphex(r.x->fpu.mxcsr, ==, 0xffc0);
    rig_free(&r);
    /* MOVAPS from a misaligned address: #GP(0); MOVUPS is fine. */
    setup(&r, "max");
    static const uint8_t movaps[] = { 0x0f, 0x28, 0x05, 0x08, 0x00, 0x01, 0x00 };
    static const uint8_t movups[] = { 0x0f, 0x10, 0x05, 0x08, 0x00, 0x01, 0x00 };
    g_assert_cmpint(run(&r, movaps, sizeof(movaps)), ==, EX_GP);
    rig_free(&r);
    setup(&r, "max");
    rig_put32(&r, DATA + 8, 0x12345678);
    g_assert_cmpint(run(&r, movups, sizeof(movups)), ==, -1);
    g_assert_cmphex(r.x->xmm[0].d[0], ==, 0x12345678);
    rig_free(&r);
    /* pentium2 has no SSE: #UD (and CPUID says so). */
    setup(&r, NULL);
    g_assert_cmpint(run(&r, addps, 3), ==, EX_UD);
    rig_free(&r);
    /* pentium4 has SSE2 but no SSE3. */
    setup(&r, "pentium4");
    static const uint8_t paddq[] = { 0x66, 0x0f, 0xd4, 0xc1 };
    static const uint8_t haddps[] = { 0xf2, 0x0f, 0x7c, 0xc1 };
    g_assert_cmpint(run(&r, paddq, 4), ==, -1);
    g_assert_cmpint(run(&r, haddps, 4), ==, EX_UD);
    rig_free(&r);
}

/* ---- XSAVE ---- */

static void test_xsave(void)
{
    Rig r;
    setup(&r, "max");
    X86Cpu *x = r.x;
    /* XGETBV without CR4.OSXSAVE: #UD. */
    static const uint8_t xgetbv[] = { 0x0f, 0x01, 0xd0 };
    static const uint8_t xsetbv[] = { 0x0f, 0x01, 0xd1 };
    x->regs[R_ECX] = 0;
    g_assert_cmpint(run(&r, xgetbv, 3), ==, EX_UD);
    rig_free(&r);
    setup(&r, "max");
    x = r.x;
    x->cr4 |= CR4_OSXSAVE;
    x->regs[R_ECX] = 0;
    x->regs[R_EAX] = 3;
    x->regs[R_EDX] = 0;
    g_assert_cmpint(run(&r, xsetbv, 3), ==, -1);
    x->regs[R_EAX] = 0;
    g_assert_cmpint(run(&r, xgetbv, 3), ==, -1);
    g_assert_cmphex(x->regs[R_EAX], ==, 3);
    /* XSAVE [DATA] with EDX:EAX = 3, then XRSTOR of the init state. */
    memset(&x->xmm[5], 0x5a, 16);
    x->fpu.mxcsr = 0x3f80;
    x->regs[R_EAX] = 3;
    static const uint8_t xsave[] = { 0x0f, 0xae, 0x25, 0x00, 0x00, 0x01, 0x00 };
    static const uint8_t xrstor[] = { 0x0f, 0xae, 0x2d, 0x00, 0x00, 0x01, 0x00 };
    g_assert_cmpint(run(&r, xsave, sizeof(xsave)), ==, -1);
    g_assert_cmphex(r.ram[DATA + 160 + 5 * 16], ==, 0x5a);
    g_assert_cmphex(r.ram[DATA + 512], ==, 3); /* XSTATE_BV */
    memset(&x->xmm[5], 0, 16);
    g_assert_cmpint(run(&r, xrstor, sizeof(xrstor)), ==, -1);
    g_assert_cmphex(x->xmm[5].b[0], ==, 0x5a);
    g_assert_cmphex(x->fpu.mxcsr, ==, 0x3f80);
    r.ram[DATA + 512] = 1;  /* SSE in its init state */
    g_assert_cmpint(run(&r, xrstor, sizeof(xrstor)), ==, -1);
    g_assert_cmphex(x->xmm[5].b[0], ==, 0);
    r.ram[DATA + 520] = 1;  /* XCOMP_BV: compacted form unsupported */
    g_assert_cmpint(run(&r, xrstor, sizeof(xrstor)), ==, EX_GP);
    rig_free(&r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86/sse/host-oracle", test_host_oracle);
    g_test_add_func("/x86/sse/fxsave-layout", test_fxsave_layout);
    g_test_add_func("/x86/sse/rules", test_rules);
    g_test_add_func("/x86/sse/xsave", test_xsave);
    return g_test_run();
}
