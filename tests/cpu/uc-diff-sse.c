/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Differential single-step tests of the SSE family (src/arch/x86/
 * exec_sse.c) against Unicorn, in 32-bit flat protected mode (-m 32) or
 * 64-bit mode (-m 64, with REX.R/B naming XMM8-15 and REX.W the 64-bit
 * GPR forms): random SSE, SSE2, SSE3, SSSE3, SSE4.1, SSE4.2 and POPCNT
 * instructions with register and memory operands ([base + disp8] into
 * random bytes, 16-byte aligned), XMM registers filled with interesting
 * floats and doubles (zeros, denormals, infinities, NaNs, boundaries of
 * the integer conversions) or random bits, and MXCSR in each rounding
 * mode, some with DAZ (exceptions masked).  The GPRs, XMM registers,
 * the flags the instruction defines and memory must agree; faults (the
 * vector) too.
 *
 * Deviations of Unicorn (QEMU 5.0's TCG), not compared:
 * - MXCSR's exception flags: QEMU 5.0 does not accumulate them for SSE
 *   (SDM Vol. 1 11.5: every SIMD FP instruction sets them); the unit test
 *   x86-sse checks them against the host.
 * - RCPPS/RCPSS/RSQRTPS/RSQRTSS: QEMU computes the exact quotient, the
 *   SDM gives an approximation with relative error <= 1.5 * 2^-12, which
 *   Mimic takes from the host: compared within that bound.
 * - DAZ: QEMU 5.0 ignores MXCSR.DAZ for some conversions (cvt*), and
 *   MIN/MAX return the denormal operand itself where the SDM (11.8.5?,
 *   "denormals-are-zeros") and the host return the zero it stands for,
 *   so DAZ cases are only generated for the other arithmetic.
 * - CMPPS/CMPPD/CMPSS/CMPSD with imm8 8..255: Unicorn raises #UD, the SDM
 *   (legacy SSE forms) ignores bits 7:3; only 0..7 are generated.
 * - PHADDx and PHSUBx with the same register as destination and source:
 *   QEMU 5.0 overwrites the destination before reading the source half.
 * - FTZ: QEMU 5.0 returns the denormal result (DIVSS, CVTPD2PS...)
 *   where the SDM (10.2.3.3) and the host flush it to zero: FTZ is
 *   checked against the host in the unit test x86-sse instead.
 * - RCP/RSQRT of a denormal: the SDM gives infinity (a denormal source
 *   is treated as 0), QEMU a huge finite value; RSQRT(-0) is -infinity
 *   (SDM RSQRTSS), QEMU's a NaN; RCP's tiny results are 0 (SDM RCPSS),
 *   QEMU's denormal.
 * - NaN results: QEMU 5.0 returns its default NaN in cases (an SNaN or
 *   NaNs in both operands) where the SDM (Vol. 1 table 4-7) returns the
 *   first operand's NaN, quieted: any NaN stands for a NaN of Unicorn in
 *   the floating-point arithmetic.
 * - PCMPESTRx: Unicorn crashes on some huge explicit lengths; EAX/EDX
 *   are kept within -20..20; its "equal ordered" aggregation with
 *   explicit lengths differs from the SDM's (and the host's, which
 *   x86-sse compares against), so that one is not generated.
 * - DPPS/DPPD: QEMU 5.0 rounds the partial sums otherwise than the SDM's
 *   DP_primitive and the host (which Mimic uses): host-checked in x86-sse.
 * - POPCNT is not in Unicorn's CPU: unit-tested (x86-sse) instead.
 *
 * usage: uc-diff-sse [-m 32|64] [-n CASES] [-s SEED] [-v]
 * Prints `uc-diff-sse: N passed, M failed, K skipped`; exit 1 on a failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <unicorn/unicorn.h>

#include "x86-rig.h"

#define RAM (8u << 20)
#define GDT 0x1000u
#define IDT 0x1800u
#define STUBS 0x1c00u
#define CODE 0x2100u
#define PML4 0x10000u
#define DATA 0x100000u
#define DATA_LEN 0x400u

#define ARITH 0x8d5u

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t x = rng_state;
    x ^= x >> 29;
    return x * 0xbf58476d1ce4e5b9ull ^ (x >> 32);
}

/* Operand kinds. */
enum {
    XX,     /* xmm, xmm/m */
    XXI,    /* xmm, xmm/m, imm8 */
    XG,     /* xmm, r/m32/64 */
    GX,     /* r32/64, xmm/m (conversions, PMOVMSKB...) */
    GXR,    /* r32, xmm (register only) */
    GXI,    /* r/m, xmm, imm8 (PEXTR*) */
    XGI,    /* xmm, r/m, imm8 (PINSR*) */
    MX,     /* m, xmm (stores) */
    XM,     /* xmm, m (memory only) */
    GG,     /* r, r/m (POPCNT, CRC32) */
    XR,     /* xmm, imm8 shift group (reg form, /n in ModRM.reg) */
    XXR,    /* xmm, xmm (register only) */
    GXN,    /* r/m, xmm (MOVD/MOVQ store forms) */
};

typedef struct Tmpl {
    uint8_t pfx;     /* 0, 0x66, 0xf3, 0xf2 */
    uint8_t map;     /* 0: 0F, 1: 0F 38, 2: 0F 3A */
    uint8_t op;
    uint8_t kind;
    uint8_t ext;     /* XR: ModRM.reg */
    uint16_t flags;  /* EFLAGS bits defined */
    uint8_t approx;  /* 1: RCP/RSQRT (float lanes within 2^-11) */
    const char *name;
} Tmpl;

#define F ARITH
static const Tmpl tmpl[] = {
    { 0, 0, 0x10, XX, 0, 0, 0, "movups" }, { 0xf3, 0, 0x10, XX, 0, 0, 0, "movss" },
    { 0xf2, 0, 0x10, XX, 0, 0, 0, "movsd" }, { 0x66, 0, 0x10, XX, 0, 0, 0, "movupd" },
    { 0, 0, 0x11, MX, 0, 0, 0, "movups st" }, { 0xf3, 0, 0x11, XX, 0, 0, 0, "movss st" },
    { 0, 0, 0x12, XX, 0, 0, 0, "movlps/movhlps" }, { 0x66, 0, 0x12, XM, 0, 0, 0, "movlpd" },
    { 0xf3, 0, 0x12, XX, 0, 0, 0, "movsldup" }, { 0xf2, 0, 0x12, XX, 0, 0, 0, "movddup" },
    { 0, 0, 0x13, MX, 0, 0, 0, "movlps st" }, { 0, 0, 0x14, XX, 0, 0, 0, "unpcklps" },
    { 0x66, 0, 0x15, XX, 0, 0, 0, "unpckhpd" }, { 0, 0, 0x16, XX, 0, 0, 0, "movhps" },
    { 0xf3, 0, 0x16, XX, 0, 0, 0, "movshdup" }, { 0x66, 0, 0x17, MX, 0, 0, 0, "movhpd st" },
    { 0, 0, 0x28, XX, 0, 0, 0, "movaps" }, { 0x66, 0, 0x29, MX, 0, 0, 0, "movapd st" },
    { 0xf3, 0, 0x2a, XG, 0, 0, 0, "cvtsi2ss" }, { 0xf2, 0, 0x2a, XG, 0, 0, 0, "cvtsi2sd" },
    { 0, 0, 0x2b, MX, 0, 0, 0, "movntps" },
    { 0xf3, 0, 0x2c, GX, 0, 0, 0, "cvttss2si" }, { 0xf2, 0, 0x2c, GX, 0, 0, 0, "cvttsd2si" },
    { 0xf3, 0, 0x2d, GX, 0, 0, 0, "cvtss2si" }, { 0xf2, 0, 0x2d, GX, 0, 0, 0, "cvtsd2si" },
    { 0, 0, 0x2e, XX, 0, F, 0, "ucomiss" }, { 0x66, 0, 0x2e, XX, 0, F, 0, "ucomisd" },
    { 0, 0, 0x2f, XX, 0, F, 0, "comiss" }, { 0x66, 0, 0x2f, XX, 0, F, 0, "comisd" },
    { 0, 0, 0x50, GXR, 0, 0, 0, "movmskps" }, { 0x66, 0, 0x50, GXR, 0, 0, 0, "movmskpd" },
    { 0, 0, 0x51, XX, 0, 0, 0, "sqrtps" }, { 0x66, 0, 0x51, XX, 0, 0, 0, "sqrtpd" },
    { 0xf3, 0, 0x51, XX, 0, 0, 0, "sqrtss" }, { 0xf2, 0, 0x51, XX, 0, 0, 0, "sqrtsd" },
    { 0, 0, 0x52, XX, 0, 0, 1, "rsqrtps" }, { 0xf3, 0, 0x53, XX, 0, 0, 1, "rcpss" },
    { 0, 0, 0x54, XX, 0, 0, 0, "andps" }, { 0x66, 0, 0x55, XX, 0, 0, 0, "andnpd" },
    { 0, 0, 0x56, XX, 0, 0, 0, "orps" }, { 0x66, 0, 0x57, XX, 0, 0, 0, "xorpd" },
    { 0, 0, 0x58, XX, 0, 0, 0, "addps" }, { 0x66, 0, 0x58, XX, 0, 0, 0, "addpd" },
    { 0xf3, 0, 0x58, XX, 0, 0, 0, "addss" }, { 0xf2, 0, 0x58, XX, 0, 0, 0, "addsd" },
    { 0, 0, 0x59, XX, 0, 0, 0, "mulps" }, { 0xf2, 0, 0x59, XX, 0, 0, 0, "mulsd" },
    { 0, 0, 0x5a, XX, 0, 0, 0, "cvtps2pd" }, { 0x66, 0, 0x5a, XX, 0, 0, 0, "cvtpd2ps" },
    { 0xf3, 0, 0x5a, XX, 0, 0, 0, "cvtss2sd" }, { 0xf2, 0, 0x5a, XX, 0, 0, 0, "cvtsd2ss" },
    { 0, 0, 0x5b, XX, 0, 0, 0, "cvtdq2ps" }, { 0x66, 0, 0x5b, XX, 0, 0, 0, "cvtps2dq" },
    { 0xf3, 0, 0x5b, XX, 0, 0, 0, "cvttps2dq" },
    { 0, 0, 0x5c, XX, 0, 0, 0, "subps" }, { 0xf2, 0, 0x5c, XX, 0, 0, 0, "subsd" },
    { 0, 0, 0x5d, XX, 0, 0, 0, "minps" }, { 0x66, 0, 0x5d, XX, 0, 0, 0, "minpd" },
    { 0xf3, 0, 0x5d, XX, 0, 0, 0, "minss" }, { 0xf2, 0, 0x5f, XX, 0, 0, 0, "maxsd" },
    { 0, 0, 0x5e, XX, 0, 0, 0, "divps" }, { 0x66, 0, 0x5e, XX, 0, 0, 0, "divpd" },
    { 0xf3, 0, 0x5e, XX, 0, 0, 0, "divss" }, { 0, 0, 0x5f, XX, 0, 0, 0, "maxps" },
    { 0x66, 0, 0x60, XX, 0, 0, 0, "punpcklbw" }, { 0x66, 0, 0x61, XX, 0, 0, 0, "punpcklwd" },
    { 0x66, 0, 0x62, XX, 0, 0, 0, "punpckldq" }, { 0x66, 0, 0x63, XX, 0, 0, 0, "packsswb" },
    { 0x66, 0, 0x64, XX, 0, 0, 0, "pcmpgtb" }, { 0x66, 0, 0x65, XX, 0, 0, 0, "pcmpgtw" },
    { 0x66, 0, 0x66, XX, 0, 0, 0, "pcmpgtd" }, { 0x66, 0, 0x67, XX, 0, 0, 0, "packuswb" },
    { 0x66, 0, 0x68, XX, 0, 0, 0, "punpckhbw" }, { 0x66, 0, 0x69, XX, 0, 0, 0, "punpckhwd" },
    { 0x66, 0, 0x6a, XX, 0, 0, 0, "punpckhdq" }, { 0x66, 0, 0x6b, XX, 0, 0, 0, "packssdw" },
    { 0x66, 0, 0x6c, XX, 0, 0, 0, "punpcklqdq" }, { 0x66, 0, 0x6d, XX, 0, 0, 0, "punpckhqdq" },
    { 0x66, 0, 0x6e, XG, 0, 0, 0, "movd/q xmm,r" }, { 0x66, 0, 0x6f, XX, 0, 0, 0, "movdqa" },
    { 0xf3, 0, 0x6f, XX, 0, 0, 0, "movdqu" },
    { 0x66, 0, 0x70, XXI, 0, 0, 0, "pshufd" }, { 0xf3, 0, 0x70, XXI, 0, 0, 0, "pshufhw" },
    { 0xf2, 0, 0x70, XXI, 0, 0, 0, "pshuflw" },
    { 0x66, 0, 0x71, XR, 2, 0, 0, "psrlw i" }, { 0x66, 0, 0x71, XR, 4, 0, 0, "psraw i" },
    { 0x66, 0, 0x71, XR, 6, 0, 0, "psllw i" }, { 0x66, 0, 0x72, XR, 2, 0, 0, "psrld i" },
    { 0x66, 0, 0x72, XR, 4, 0, 0, "psrad i" }, { 0x66, 0, 0x72, XR, 6, 0, 0, "pslld i" },
    { 0x66, 0, 0x73, XR, 2, 0, 0, "psrlq i" }, { 0x66, 0, 0x73, XR, 3, 0, 0, "psrldq" },
    { 0x66, 0, 0x73, XR, 6, 0, 0, "psllq i" }, { 0x66, 0, 0x73, XR, 7, 0, 0, "pslldq" },
    { 0x66, 0, 0x74, XX, 0, 0, 0, "pcmpeqb" }, { 0x66, 0, 0x75, XX, 0, 0, 0, "pcmpeqw" },
    { 0x66, 0, 0x76, XX, 0, 0, 0, "pcmpeqd" },
    { 0x66, 0, 0x7c, XX, 0, 0, 0, "haddpd" }, { 0xf2, 0, 0x7c, XX, 0, 0, 0, "haddps" },
    { 0x66, 0, 0x7d, XX, 0, 0, 0, "hsubpd" }, { 0xf2, 0, 0x7d, XX, 0, 0, 0, "hsubps" },
    { 0x66, 0, 0x7e, GXN, 0, 0, 0, "movd/q r,xmm" }, { 0xf3, 0, 0x7e, XX, 0, 0, 0, "movq xmm" },
    { 0x66, 0, 0x7f, MX, 0, 0, 0, "movdqa st" }, { 0xf3, 0, 0x7f, MX, 0, 0, 0, "movdqu st" },
    { 0, 0, 0xc2, XXI, 0, 0, 0, "cmpps" }, { 0x66, 0, 0xc2, XXI, 0, 0, 0, "cmppd" },
    { 0xf3, 0, 0xc2, XXI, 0, 0, 0, "cmpss" }, { 0xf2, 0, 0xc2, XXI, 0, 0, 0, "cmpsd" },
    { 0x66, 0, 0xc4, XGI, 0, 0, 0, "pinsrw" }, { 0x66, 0, 0xc5, GXI, 0, 0, 0, "pextrw" },
    { 0, 0, 0xc6, XXI, 0, 0, 0, "shufps" }, { 0x66, 0, 0xc6, XXI, 0, 0, 0, "shufpd" },
    { 0x66, 0, 0xd0, XX, 0, 0, 0, "addsubpd" }, { 0xf2, 0, 0xd0, XX, 0, 0, 0, "addsubps" },
    { 0x66, 0, 0xd1, XX, 0, 0, 0, "psrlw" }, { 0x66, 0, 0xd2, XX, 0, 0, 0, "psrld" },
    { 0x66, 0, 0xd3, XX, 0, 0, 0, "psrlq" }, { 0x66, 0, 0xd4, XX, 0, 0, 0, "paddq" },
    { 0x66, 0, 0xd5, XX, 0, 0, 0, "pmullw" }, { 0x66, 0, 0xd6, MX, 0, 0, 0, "movq st" },
    { 0x66, 0, 0xd7, GXR, 0, 0, 0, "pmovmskb" },
    { 0x66, 0, 0xd8, XX, 0, 0, 0, "psubusb" }, { 0x66, 0, 0xd9, XX, 0, 0, 0, "psubusw" },
    { 0x66, 0, 0xda, XX, 0, 0, 0, "pminub" }, { 0x66, 0, 0xdb, XX, 0, 0, 0, "pand" },
    { 0x66, 0, 0xdc, XX, 0, 0, 0, "paddusb" }, { 0x66, 0, 0xdd, XX, 0, 0, 0, "paddusw" },
    { 0x66, 0, 0xde, XX, 0, 0, 0, "pmaxub" }, { 0x66, 0, 0xdf, XX, 0, 0, 0, "pandn" },
    { 0x66, 0, 0xe0, XX, 0, 0, 0, "pavgb" }, { 0x66, 0, 0xe1, XX, 0, 0, 0, "psraw" },
    { 0x66, 0, 0xe2, XX, 0, 0, 0, "psrad" }, { 0x66, 0, 0xe3, XX, 0, 0, 0, "pavgw" },
    { 0x66, 0, 0xe4, XX, 0, 0, 0, "pmulhuw" }, { 0x66, 0, 0xe5, XX, 0, 0, 0, "pmulhw" },
    { 0x66, 0, 0xe6, XX, 0, 0, 0, "cvttpd2dq" }, { 0xf3, 0, 0xe6, XX, 0, 0, 0, "cvtdq2pd" },
    { 0xf2, 0, 0xe6, XX, 0, 0, 0, "cvtpd2dq" }, { 0x66, 0, 0xe7, MX, 0, 0, 0, "movntdq" },
    { 0x66, 0, 0xe8, XX, 0, 0, 0, "psubsb" }, { 0x66, 0, 0xe9, XX, 0, 0, 0, "psubsw" },
    { 0x66, 0, 0xea, XX, 0, 0, 0, "pminsw" }, { 0x66, 0, 0xeb, XX, 0, 0, 0, "por" },
    { 0x66, 0, 0xec, XX, 0, 0, 0, "paddsb" }, { 0x66, 0, 0xed, XX, 0, 0, 0, "paddsw" },
    { 0x66, 0, 0xee, XX, 0, 0, 0, "pmaxsw" }, { 0x66, 0, 0xef, XX, 0, 0, 0, "pxor" },
    { 0xf2, 0, 0xf0, XM, 0, 0, 0, "lddqu" },
    { 0x66, 0, 0xf1, XX, 0, 0, 0, "psllw" }, { 0x66, 0, 0xf2, XX, 0, 0, 0, "pslld" },
    { 0x66, 0, 0xf3, XX, 0, 0, 0, "psllq" }, { 0x66, 0, 0xf4, XX, 0, 0, 0, "pmuludq" },
    { 0x66, 0, 0xf5, XX, 0, 0, 0, "pmaddwd" }, { 0x66, 0, 0xf6, XX, 0, 0, 0, "psadbw" },
    { 0x66, 0, 0xf8, XX, 0, 0, 0, "psubb" }, { 0x66, 0, 0xf9, XX, 0, 0, 0, "psubw" },
    { 0x66, 0, 0xfa, XX, 0, 0, 0, "psubd" }, { 0x66, 0, 0xfb, XX, 0, 0, 0, "psubq" },
    { 0x66, 0, 0xfc, XX, 0, 0, 0, "paddb" }, { 0x66, 0, 0xfd, XX, 0, 0, 0, "paddw" },
    { 0x66, 0, 0xfe, XX, 0, 0, 0, "paddd" },
    /* SSSE3 */
    { 0x66, 1, 0x00, XX, 0, 0, 0, "pshufb" }, { 0x66, 1, 0x01, XX, 0, 0, 0, "phaddw" },
    { 0x66, 1, 0x02, XX, 0, 0, 0, "phaddd" }, { 0x66, 1, 0x03, XX, 0, 0, 0, "phaddsw" },
    { 0x66, 1, 0x04, XX, 0, 0, 0, "pmaddubsw" }, { 0x66, 1, 0x05, XX, 0, 0, 0, "phsubw" },
    { 0x66, 1, 0x06, XX, 0, 0, 0, "phsubd" }, { 0x66, 1, 0x07, XX, 0, 0, 0, "phsubsw" },
    { 0x66, 1, 0x08, XX, 0, 0, 0, "psignb" }, { 0x66, 1, 0x09, XX, 0, 0, 0, "psignw" },
    { 0x66, 1, 0x0a, XX, 0, 0, 0, "psignd" }, { 0x66, 1, 0x0b, XX, 0, 0, 0, "pmulhrsw" },
    { 0x66, 1, 0x1c, XX, 0, 0, 0, "pabsb" }, { 0x66, 1, 0x1d, XX, 0, 0, 0, "pabsw" },
    { 0x66, 1, 0x1e, XX, 0, 0, 0, "pabsd" }, { 0x66, 2, 0x0f, XXI, 0, 0, 0, "palignr" },
    /* SSE4.1 */
    { 0x66, 1, 0x10, XX, 0, 0, 0, "pblendvb" }, { 0x66, 1, 0x14, XX, 0, 0, 0, "blendvps" },
    { 0x66, 1, 0x15, XX, 0, 0, 0, "blendvpd" }, { 0x66, 1, 0x17, XX, 0, F, 0, "ptest" },
    { 0x66, 1, 0x20, XX, 0, 0, 0, "pmovsxbw" }, { 0x66, 1, 0x21, XX, 0, 0, 0, "pmovsxbd" },
    { 0x66, 1, 0x22, XX, 0, 0, 0, "pmovsxbq" }, { 0x66, 1, 0x23, XX, 0, 0, 0, "pmovsxwd" },
    { 0x66, 1, 0x24, XX, 0, 0, 0, "pmovsxwq" }, { 0x66, 1, 0x25, XX, 0, 0, 0, "pmovsxdq" },
    { 0x66, 1, 0x28, XX, 0, 0, 0, "pmuldq" }, { 0x66, 1, 0x29, XX, 0, 0, 0, "pcmpeqq" },
    { 0x66, 1, 0x2a, XM, 0, 0, 0, "movntdqa" }, { 0x66, 1, 0x2b, XX, 0, 0, 0, "packusdw" },
    { 0x66, 1, 0x30, XX, 0, 0, 0, "pmovzxbw" }, { 0x66, 1, 0x31, XX, 0, 0, 0, "pmovzxbd" },
    { 0x66, 1, 0x32, XX, 0, 0, 0, "pmovzxbq" }, { 0x66, 1, 0x33, XX, 0, 0, 0, "pmovzxwd" },
    { 0x66, 1, 0x34, XX, 0, 0, 0, "pmovzxwq" }, { 0x66, 1, 0x35, XX, 0, 0, 0, "pmovzxdq" },
    { 0x66, 1, 0x37, XX, 0, 0, 0, "pcmpgtq" },
    { 0x66, 1, 0x38, XX, 0, 0, 0, "pminsb" }, { 0x66, 1, 0x39, XX, 0, 0, 0, "pminsd" },
    { 0x66, 1, 0x3a, XX, 0, 0, 0, "pminuw" }, { 0x66, 1, 0x3b, XX, 0, 0, 0, "pminud" },
    { 0x66, 1, 0x3c, XX, 0, 0, 0, "pmaxsb" }, { 0x66, 1, 0x3d, XX, 0, 0, 0, "pmaxsd" },
    { 0x66, 1, 0x3e, XX, 0, 0, 0, "pmaxuw" }, { 0x66, 1, 0x3f, XX, 0, 0, 0, "pmaxud" },
    { 0x66, 1, 0x40, XX, 0, 0, 0, "pmulld" }, { 0x66, 1, 0x41, XX, 0, 0, 0, "phminposuw" },
    { 0x66, 2, 0x08, XXI, 0, 0, 0, "roundps" }, { 0x66, 2, 0x09, XXI, 0, 0, 0, "roundpd" },
    { 0x66, 2, 0x0a, XXI, 0, 0, 0, "roundss" }, { 0x66, 2, 0x0b, XXI, 0, 0, 0, "roundsd" },
    { 0x66, 2, 0x0c, XXI, 0, 0, 0, "blendps" }, { 0x66, 2, 0x0d, XXI, 0, 0, 0, "blendpd" },
    { 0x66, 2, 0x0e, XXI, 0, 0, 0, "pblendw" },
    { 0x66, 2, 0x14, GXI, 0, 0, 0, "pextrb" }, { 0x66, 2, 0x15, GXI, 0, 0, 0, "pextrw m" },
    { 0x66, 2, 0x16, GXI, 0, 0, 0, "pextrd/q" }, { 0x66, 2, 0x17, GXI, 0, 0, 0, "extractps" },
    { 0x66, 2, 0x20, XGI, 0, 0, 0, "pinsrb" }, { 0x66, 2, 0x21, XXI, 0, 0, 0, "insertps" },
    { 0x66, 2, 0x22, XGI, 0, 0, 0, "pinsrd/q" },
    { 0x66, 2, 0x42, XXI, 0, 0, 0, "mpsadbw" },
    /* SSE4.2 */
    { 0x66, 2, 0x60, XXI, 0, F, 0, "pcmpestrm" }, { 0x66, 2, 0x61, XXI, 0, F, 0, "pcmpestri" },
    { 0x66, 2, 0x62, XXI, 0, F, 0, "pcmpistrm" }, { 0x66, 2, 0x63, XXI, 0, F, 0, "pcmpistri" },
    { 0xf2, 1, 0xf0, GG, 0, 0, 0, "crc32 b" }, { 0xf2, 1, 0xf1, GG, 0, 0, 0, "crc32" },
};

typedef struct Case {
    uint8_t code[16];
    int len;
    const Tmpl *t;
    int base;        /* memory operand's base register, -1 if none */
} Case;

static bool mode64;

static void gen(Case *c)
{
    const Tmpl *t = &tmpl[rnd() % G_N_ELEMENTS(tmpl)];
    c->t = t;
    c->len = 0;
    c->base = -1;
    unsigned rex = mode64 ? 0x40 | (rnd() & 0xd) : 0; /* W R B */
    bool mem;
    switch (t->kind) {
    case MX: case XM: mem = true; break;
    case GXR: case XR: case XXR: mem = false; break;
    default: mem = rnd() % 3 == 0; break;
    }
    if (t->pfx) {
        c->code[c->len++] = t->pfx;
    }
    if (t->op == 0xf1 && t->map == 1 && rnd() % 3 == 0) {
        c->code[c->len++] = 0x66; /* CRC32 r32, r/m16 */
    }
    unsigned reg = rnd() % 8, rm = rnd() % 8;
    if (mem) {
        rm = rnd() % 8;
        while (rm == 4 || rm == 5) {
            rm = rnd() % 8; /* no SIB, no RIP/disp32 */
        }
        c->base = rm | (rex & 1 ? 8 : 0);
    }
    if (t->map == 1 && t->op <= 0x07 && !mem) {
        while (rm == reg) {
            rm = rnd() % 8; /* Unicorn: PHADD/PHSUB with dest == source */
        }
    }
    if (t->kind == XR) {
        reg = t->ext;
        rex &= ~4u;
    }
    /* GPR destinations never RSP/ESP (the stack stays put). */
    if (t->kind == GX || t->kind == GXR || t->kind == GG) {
        while ((reg | (rex & 4 ? 8 : 0)) == 4) {
            reg = rnd() % 8;
        }
    }
    if (t->kind == GXI || t->kind == GXN) {
        if (!mem) {
            while ((rm | (rex & 1 ? 8 : 0)) == 4) {
                rm = rnd() % 8;
            }
        }
    }
    if (mode64 && rex != 0x40) {
        c->code[c->len++] = rex;
    } else if (mode64 && rnd() % 2) {
        c->code[c->len++] = rex;
    }
    c->code[c->len++] = 0x0f;
    if (t->map == 1) {
        c->code[c->len++] = 0x38;
    } else if (t->map == 2) {
        c->code[c->len++] = 0x3a;
    }
    c->code[c->len++] = t->op;
    if (mem) {
        c->code[c->len++] = 0x40 | reg << 3 | rm;
        c->code[c->len++] = (rnd() % 8) * 16;
    } else {
        c->code[c->len++] = 0xc0 | reg << 3 | rm;
    }
    if (t->kind == XXI || t->kind == GXI || t->kind == XGI || t->kind == XR) {
        uint8_t imm = rnd();
        if (t->kind == XR && rnd() % 2) {
            imm %= 20;
        }
        if (t->map == 2 && (t->op == 0x60 || t->op == 0x61) &&
            (imm & 0x0c) == 0x0c) {
            imm &= ~0x04; /* see PCMPESTRx above */
        }
        if (t->map == 0 && t->op == 0xc2) {
            imm &= 7; /* Unicorn: #UD for 8..255 (bits 7:3 ignored, SDM) */
        }
        c->code[c->len++] = imm;
    }
}

static uint64_t fval64(void)
{
    static const uint64_t sp[] = {
        0, 0x8000000000000000ull, 0x3ff0000000000000ull,
        0xbff0000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
        0x7ff8000000000000ull, 0x7ff4000000000000ull, 0xfff8000000000001ull,
        0x0000000000000001ull, 0x000fffffffffffffull, 0x0010000000000000ull,
        0x41dfffffffc00000ull, 0x41e0000000000000ull, 0xc1e0000000000000ull,
        0x43e0000000000000ull, 0x3fe0000000000000ull, 0x3ff8000000000000ull,
        0x7fefffffffffffffull, 0x4000000000000001ull,
    };
    uint64_t r = rnd();
    if (r % 3 == 0) {
        return sp[(r >> 8) % G_N_ELEMENTS(sp)];
    }
    if (r % 3 == 1) {
        /* a moderate double */
        double d = (double)(int64_t)(rnd() % 2000001 - 1000000) /
                   (double)(1 + rnd() % 1000);
        uint64_t v;
        memcpy(&v, &d, 8);
        return v;
    }
    return rnd();
}

static uint32_t fval32(void)
{
    static const uint32_t sp[] = {
        0, 0x80000000u, 0x3f800000u, 0xbf800000u, 0x7f800000u, 0xff800000u,
        0x7fc00000u, 0x7fa00000u, 0xffc00001u, 1, 0x007fffffu, 0x00800000u,
        0x4effffffu, 0x4f000000u, 0xcf000000u, 0x3f000000u, 0x3fc00000u,
        0x7f7fffffu, 0x40000001u, 0x5f000000u,
    };
    uint64_t r = rnd();
    if (r % 3 == 0) {
        return sp[(r >> 8) % G_N_ELEMENTS(sp)];
    }
    if (r % 3 == 1) {
        float f = (float)(int32_t)(rnd() % 200001 - 100000) /
                  (float)(1 + rnd() % 1000);
        uint32_t v;
        memcpy(&v, &f, 4);
        return v;
    }
    return rnd();
}

static void xval(uint64_t q[2])
{
    switch (rnd() % 4) {
    case 0:
        q[0] = fval64();
        q[1] = fval64();
        break;
    case 1:
        q[0] = fval32() | (uint64_t)fval32() << 32;
        q[1] = fval32() | (uint64_t)fval32() << 32;
        break;
    case 2: {
        /* short strings for PCMPxSTRx: small bytes and zeros */
        uint8_t b[16];
        for (int i = 0; i < 16; i++) {
            b[i] = rnd() % 5 == 0 ? 0 : 'a' + rnd() % 4;
        }
        memcpy(q, b, 16);
        break;
    }
    default:
        q[0] = rnd();
        q[1] = rnd();
        break;
    }
}

static uint64_t gval(void)
{
    static const uint64_t sp[] = {
        0, 1, 5, 16, 17, 0x7fffffff, 0x80000000, 0xffffffff, ~0ull,
        0x8000000000000000ull, 0xfffffffffffffff0ull,
    };
    uint64_t r = rnd();
    uint64_t v = r % 2 ? sp[(r >> 8) % G_N_ELEMENTS(sp)] : rnd();
    return mode64 ? v : (uint32_t)v;
}

static const int uc_gpr[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
    UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
    UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};
static const int uc_gpr32[8] = {
    UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
    UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI,
};

static int uc_xmm(int i)
{
    return i < 8 ? UC_X86_REG_XMM0 + i : UC_X86_REG_XMM8 + (i - 8);
}

typedef struct UcRun {
    uc_engine *uc;
    uc_hook hook;
    int intno;
} UcRun;

static void uc_intr(uc_engine *uc, uint32_t intno, void *user)
{
    UcRun *u = user;
    u->intno = intno;
    uc_emu_stop(uc);
}

static bool uc_reopen(UcRun *u)
{
    if (u->uc) {
        uc_close(u->uc);
        u->uc = NULL;
    }
    if (uc_open(UC_ARCH_X86, mode64 ? UC_MODE_64 : UC_MODE_32, &u->uc) !=
        UC_ERR_OK) {
        return false;
    }
    uc_mem_map(u->uc, 0, 0x200000, UC_PROT_ALL);
    uc_hook_add(u->uc, &u->hook, UC_HOOK_INTR, (void *)uc_intr, u, 1, 0);
    return true;
}

static void mimic_setup(Rig *r)
{
    rig_init_model(r, RAM, "max");
    rig_flat(r, GDT, 0);
    X86Cpu *x = r->x;
    x->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    rig_idt_hlt(r, IDT, STUBS, 32);
    if (!mode64) {
        return;
    }
    rig_put32(r, PML4, (PML4 + 0x1000) | 3);
    rig_put32(r, PML4 + 0x1000, (PML4 + 0x2000) | 3);
    rig_put32(r, PML4 + 0x2000, 0x83);
    x->cr4 |= CR4_PAE;
    x->efer = EFER_LME;
    x->cr3 = PML4;
    x86_set_cr0(x, x->cr0 | CR0_PG);
    x->gdt.limit = 0x1f;
    rig_desc_set(r, GDT, 0x18, 0, 0xfffff, 0x9a, 0xa);
    rig_load_seg(r, S_CS, 0x18);
    x86_update_mode(x);
    g_assert_true(x->code64);
    /* 64-bit IDT gates: the rig wrote 8-byte ones; no fault is expected
       to be delivered in 64-bit mode cases (see below). */
}

/* Equal, or NaN where Unicorn has a NaN (in 32- or 64-bit lanes). */
static bool nan_equiv(const uint64_t a[2], const uint64_t b[2])
{
    bool ok32 = true, ok64 = true;
    for (int i = 0; i < 4; i++) {
        uint32_t x = a[i / 2] >> (32 * (i % 2)), y = b[i / 2] >> (32 * (i % 2));
        bool nx = (x & 0x7f800000u) == 0x7f800000u && (x & 0x7fffffu);
        bool ny = (y & 0x7f800000u) == 0x7f800000u && (y & 0x7fffffu);
        ok32 = ok32 && (x == y || (nx && ny));
    }
    for (int i = 0; i < 2; i++) {
        uint64_t m = 0x7ff0000000000000ull;
        bool nx = (a[i] & m) == m && (a[i] << 12);
        bool ny = (b[i] & m) == m && (b[i] << 12);
        ok64 = ok64 && (a[i] == b[i] || (nx && ny));
    }
    return ok32 || ok64;
}

/* The floating-point arithmetic (NaN results compared as NaNs). */
static bool is_fp(const Tmpl *t)
{
    if (t->map == 2) {
        return t->op <= 0x0b || t->op == 0x40 || t->op == 0x41;
    }
    return t->map == 0 && ((t->op >= 0x51 && t->op <= 0x5f &&
                            (t->op < 0x54 || t->op > 0x57)) ||
                           t->op == 0x7c || t->op == 0x7d ||
                           t->op == 0xd0);
}

static bool close_approx(uint64_t a, uint64_t b)
{
    for (int i = 0; i < 2; i++) {
        uint32_t x = a >> (32 * i), y = b >> (32 * i);
        float fx, fy;
        memcpy(&fx, &x, 4);
        memcpy(&fy, &y, 4);
        if (x == y || (isnan(fx) && isnan(fy))) {
            continue;
        }
        if (isinf(fx) && (fabsf(fy) >= 0x1p63f || (fx < 0 && isnan(fy)))) {
            continue; /* a denormal source, RSQRT(-0): the SDM's infinity */
        }
        if (fx == 0 && fpclassify(fy) == FP_SUBNORMAL) {
            continue; /* RCP: tiny results are flushed to zero (SDM) */
        }
        if (!isfinite(fx) || !isfinite(fy) ||
            fabsf(fx - fy) > fabsf(fy) * (1.5f / 4096.0f)) {
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    long cases = 20000;
    uint64_t seed = 1;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) {
            cases = atol(argv[++i]);
        } else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "-m") && i + 1 < argc) {
            mode64 = atoi(argv[++i]) == 64;
        } else if (!strcmp(argv[i], "-v")) {
            verbose = true;
        } else {
            fprintf(stderr, "usage: uc-diff-sse [-m 32|64] [-n CASES] "
                    "[-s SEED] [-v]\n");
            return 2;
        }
    }
    rng_state = seed;
    UcRun u = { 0 };
    if (!uc_reopen(&u)) {
        printf("uc-diff-sse: Unicorn has no x86 engine: skipped\n");
        return 77;
    }
    Rig r;
    mimic_setup(&r);
    unsigned nx = mode64 ? 16 : 8, ng = mode64 ? 16 : 8;
    long passed = 0, failed = 0, skipped = 0;
    for (long n = 0; n < cases; n++) {
        X86Cpu *x = r.x;
        Case c;
        gen(&c);
        uint64_t regs[16] = { 0 }, xmm[16][2];
        for (unsigned i = 0; i < ng; i++) {
            regs[i] = gval();
        }
        regs[R_ESP] = DATA + 0x3f0;
        if (c.t->map == 2 && (c.t->op == 0x60 || c.t->op == 0x61)) {
            /* explicit lengths: Unicorn crashes on some huge ones */
            regs[R_EAX] = (uint64_t)(int64_t)((int)(rnd() % 41) - 20);
            regs[R_EDX] = (uint64_t)(int64_t)((int)(rnd() % 41) - 20);
            if (!mode64) {
                regs[R_EAX] = (uint32_t)regs[R_EAX];
                regs[R_EDX] = (uint32_t)regs[R_EDX];
            }
        }
        if (c.base >= 0) {
            regs[c.base] = DATA + 0x100 + (rnd() % 8) * 16;
        }
        for (unsigned i = 0; i < nx; i++) {
            xval(xmm[i]);
        }
        bool arith = c.t->kind == XX || c.t->kind == XXI;
        uint32_t mxcsr = 0x1f80 | (uint32_t)(rnd() % 4) << 13;
        bool cvt = c.t->map == 0 && (c.t->op == 0x5a || c.t->op == 0x5b ||
                                     c.t->op == 0xe6);
        (void)cvt; /* FTZ: see the deviations above */
        if (arith && rnd() % 4 == 0 && c.t->map == 0 &&
            (c.t->op & 0xf0) == 0x50 && c.t->op != 0x5a && c.t->op != 0x5b &&
            c.t->op != 0x5d && c.t->op != 0x5f) {
            mxcsr |= 0x40; /* DAZ */
        }
        uint64_t fl = 2 | (rnd() & ARITH);
        uint8_t data[DATA_LEN];
        for (unsigned i = 0; i < DATA_LEN; i++) {
            data[i] = rnd();
        }
        for (unsigned i = 0; i + 8 <= DATA_LEN && rnd() % 2; i += 8) {
            uint64_t v = fval64();
            memcpy(data + 0x100 + (i % 0x200), &v, 8);
        }
        /* Unicorn */
        uc_engine *uc = u.uc;
        uc_mem_write(uc, DATA, data, DATA_LEN);
        uc_mem_write(uc, CODE, c.code, c.len);
        for (unsigned i = 0; i < ng; i++) {
            if (mode64) {
                uc_reg_write(uc, uc_gpr[i], &regs[i]);
            } else {
                uint32_t v = regs[i];
                uc_reg_write(uc, uc_gpr32[i], &v);
            }
        }
        for (unsigned i = 0; i < nx; i++) {
            uc_reg_write(uc, uc_xmm(i), xmm[i]);
        }
        uc_reg_write(uc, UC_X86_REG_MXCSR, &mxcsr);
        uc_reg_write(uc, UC_X86_REG_EFLAGS, &fl);
        u.intno = -1;
        uc_err e = uc_emu_start(uc, CODE, CODE + c.len, 0, 1);
        if (e == UC_ERR_INSN_INVALID && u.intno < 0) {
            u.intno = 6;
            e = UC_ERR_OK;
        }
        if (e != UC_ERR_OK) {
            skipped++;
            uc_reopen(&u);
            continue;
        }
        uint64_t ur[16] = { 0 }, ux[16][2], uf = 0;
        uint32_t umx = 0;
        for (unsigned i = 0; i < ng; i++) {
            if (mode64) {
                uc_reg_read(uc, uc_gpr[i], &ur[i]);
            } else {
                uint32_t v = 0;
                uc_reg_read(uc, uc_gpr32[i], &v);
                ur[i] = v;
            }
        }
        for (unsigned i = 0; i < nx; i++) {
            uc_reg_read(uc, uc_xmm(i), ux[i]);
        }
        uc_reg_read(uc, UC_X86_REG_EFLAGS, &uf);
        uc_reg_read(uc, UC_X86_REG_MXCSR, &umx);
        uint8_t umem[DATA_LEN];
        uc_mem_read(uc, DATA, umem, DATA_LEN);
        int uexc = u.intno;
        if (uexc >= 0) {
            uc_reopen(&u);
        }
        /* Mimic */
        uint8_t code[17];
        memcpy(code, c.code, c.len);
        code[c.len] = 0xf4;
        rig_load(&r, CODE, code, c.len + 1);
        rig_load(&r, DATA, data, DATA_LEN);
        memcpy(x->regs, regs, sizeof(regs));
        memcpy(x->xmm, xmm, sizeof(x->xmm));
        x->fpu.mxcsr = mxcsr;
        x->lf_op = LF_NONE;
        x->eflags = (uint32_t)fl;
        x->rip = CODE;
        x->halted = false;
        CpuExit why = CPU_EXIT_BUDGET;
        r.cpu->ops->run(r.cpu, 10, &why);
        int mexc = -1;
        if (!mode64 && x->rip >= STUBS + 1 && x->rip <= STUBS + 32) {
            mexc = (int)(x->rip - STUBS - 1);
        } else if (x->rip != CODE + c.len + 1u) {
            mexc = 99; /* 64-bit: no IDT for the long mode */
        }
        bool bad = false;
        if (uexc >= 0 || mexc >= 0) {
            bad = uexc != mexc;
            if (mode64 && uexc >= 0 && mexc == 99) {
                bad = false;
            }
        } else {
            for (unsigned i = 0; i < ng && !bad; i++) {
                bad = x->regs[i] != ur[i];
            }
            for (unsigned i = 0; i < nx && !bad; i++) {
                if (c.t->approx) {
                    bad = !close_approx(x->xmm[i].q[0], ux[i][0]) ||
                          !close_approx(x->xmm[i].q[1], ux[i][1]);
                } else if (is_fp(c.t)) {
                    bad = !nan_equiv(x->xmm[i].q, ux[i]);
                } else {
                    bad = x->xmm[i].q[0] != ux[i][0] ||
                          x->xmm[i].q[1] != ux[i][1];
                }
            }
            bad = bad || ((x86_get_eflags(x) ^ (uint32_t)uf) & c.t->flags);
            bad = bad || memcmp(umem, r.ram + DATA, DATA_LEN) != 0;
            /* MXCSR's control bits (the flags are not compared). */
            bad = bad || ((x->fpu.mxcsr ^ umx) & ~0x3fu);
        }
        if (!bad) {
            passed++;
            continue;
        }
        failed++;
        if (failed <= 30 || verbose) {
            printf("FAIL %s:", c.t->name);
            for (int i = 0; i < c.len; i++) {
                printf(" %02x", c.code[i]);
            }
            printf("  mxcsr %04x exc mimic %d unicorn %d\n", mxcsr, mexc,
                   uexc);
            for (unsigned i = 0; i < ng; i++) {
                if (x->regs[i] != ur[i]) {
                    printf("  r%u in %016" PRIx64 " mimic %016" PRIx64
                           " unicorn %016" PRIx64 "\n", i, regs[i],
                           x->regs[i], ur[i]);
                }
            }
            for (unsigned i = 0; i < nx; i++) {
                if (x->xmm[i].q[0] != ux[i][0] ||
                    x->xmm[i].q[1] != ux[i][1] || verbose) {
                    printf("  xmm%u in %016" PRIx64 "%016" PRIx64
                           " mimic %016" PRIx64 "%016" PRIx64
                           " unicorn %016" PRIx64 "%016" PRIx64 "\n", i,
                           xmm[i][1], xmm[i][0], x->xmm[i].q[1],
                           x->xmm[i].q[0], ux[i][1], ux[i][0]);
                }
            }
            printf("  flags mimic %03x unicorn %03x; mxcsr mimic %04x "
                   "unicorn %04x%s\n", x86_get_eflags(x) & ARITH,
                   (unsigned)uf & ARITH, x->fpu.mxcsr, umx,
                   memcmp(umem, r.ram + DATA, DATA_LEN) ? " memory differs"
                                                        : "");
        }
        rig_free(&r);
        mimic_setup(&r);
    }
    printf("uc-diff-sse: %ld passed, %ld failed, %ld skipped\n", passed,
           failed, skipped);
    rig_free(&r);
    if (u.uc) {
        uc_close(u.uc);
    }
    return failed ? 1 : 0;
}
