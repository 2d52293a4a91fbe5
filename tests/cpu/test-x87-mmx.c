/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the MMX unit (src/arch/x86/mmx.c).  The expected values were
 * worked out by hand from the Operation sections of the Intel SDM Vol. 2
 * instruction pages; the x87 side effects follow SDM Vol. 1 9.5.  A
 * last test compares every binary operation with the host's MMX unit.
 */
#include <mmintrin.h>
#include <string.h>

#include <glib.h>

#include "arch/x86/x87.h"

typedef struct TestMem {
    uint8_t bytes[256];
    unsigned last_len;
} TestMem;

static void tm_load(void *ctx, uint32_t ea, void *buf, unsigned len)
{
    TestMem *m = ctx;

    g_assert_cmpuint((uint64_t)ea + len, <=, sizeof(m->bytes));
    memcpy(buf, m->bytes + ea, len);
    m->last_len = len;
}

static void tm_store(void *ctx, uint32_t ea, const void *buf, unsigned len)
{
    TestMem *m = ctx;

    g_assert_cmpuint((uint64_t)ea + len, <=, sizeof(m->bytes));
    memcpy(m->bytes + ea, buf, len);
    m->last_len = len;
}

static TestMem tmem;
static const X87Mem xmem = {
    .ctx = &tmem, .load = tm_load, .store = tm_store,
    .flags = X87_MEM_OP32 | X87_MEM_PMODE,
};
static uint64_t gpr[16];

#define EA 0x40

static void init(X87State *st)
{
    x87_reset(st);
    x87_finit(st);
    memset(&tmem, 0, sizeof(tmem));
    memset(gpr, 0, sizeof(gpr));
}

/* mm0 = a, mm1 = b, op mm0, mm1; returns mm0 */
static uint64_t binop(uint8_t op, uint64_t a, uint64_t b)
{
    X87State st;

    init(&st);
    st.r[0].mant = a;
    st.r[1].mant = b;
    g_assert_cmpint(mmx_exec(&st, op, 0xc1, &xmem, 0, gpr, 0), ==, X87_OK);
    g_assert_cmphex(st.r[1].mant, ==, b);
    return st.r[0].mant;
}

/* mm2 = a, op mm2, imm */
static uint64_t shiftimm(uint8_t op, unsigned reg, uint64_t a, uint8_t imm)
{
    X87State st;

    init(&st);
    st.r[2].mant = a;
    g_assert_true(mmx_has_imm8(op));
    g_assert_cmpint(mmx_exec(&st, op, (uint8_t)(0xc2 | reg << 3), &xmem, 0,
                             gpr, imm), ==, X87_OK);
    return st.r[2].mant;
}

static void test_add_sub(void)
{
    /* PADDB wraps: 0xFF + 0x01 = 0x00, 0x7F + 0x01 = 0x80 */
    g_assert_cmphex(binop(0xfc, 0x0000000000007fffull, 0x0000000000000101ull),
                    ==, 0x0000000000008000ull);
    /* PADDW: 0xFFFF + 1 = 0; 0x1234 + 0x1111 = 0x2345 */
    g_assert_cmphex(binop(0xfd, 0x12340000ffffull, 0x111100000001ull), ==,
                    0x234500000000ull);
    /* PADDD: 0xFFFFFFFF + 2 = 1, carry does not cross lanes */
    g_assert_cmphex(binop(0xfe, 0x00000001ffffffffull, 0x0000000100000002ull),
                    ==, 0x0000000200000001ull);
    /* PADDSB: 7F+01 = 7F, 80+FF = 80, 10+20 = 30, F0+F0 = E0 */
    g_assert_cmphex(binop(0xec, 0xf010807full, 0xf020ff01ull), ==,
                    0xe030807full);
    /* PADDSW: 7FFF+0001 = 7FFF, 8000+8000 = 8000 */
    g_assert_cmphex(binop(0xed, 0x80007fffull, 0x80000001ull), ==,
                    0x80007fffull);
    /* PADDUSB: FF+01 = FF, 80+80 = FF, 01+02 = 03 */
    g_assert_cmphex(binop(0xdc, 0x0180ffull, 0x028001ull), ==, 0x03ffffull);
    /* PADDUSW: FFFF+0001 = FFFF */
    g_assert_cmphex(binop(0xdd, 0x0001ffffull, 0x00010001ull), ==,
                    0x0002ffffull);
    /* PSUBB: 00-01 = FF */
    g_assert_cmphex(binop(0xf8, 0x0500ull, 0x0201ull), ==, 0x03ffull);
    /* PSUBW, PSUBD wrap */
    g_assert_cmphex(binop(0xf9, 0x0000ull, 0x0001ull), ==, 0xffffull);
    g_assert_cmphex(binop(0xfa, 0x1ull, 0x2ull), ==, 0xffffffffull);
    /* PSUBSB: 80-01 = 80 (-128 saturates), 7F-FF = 7F (127+1 saturates) */
    g_assert_cmphex(binop(0xe8, 0x7f80ull, 0xff01ull), ==, 0x7f80ull);
    /* PSUBSW: 8000-0001 = 8000, 0005-0007 = FFFE */
    g_assert_cmphex(binop(0xe9, 0x00058000ull, 0x00070001ull), ==,
                    0xfffe8000ull);
    /* PSUBUSB: 01-02 = 00, 80-01 = 7F */
    g_assert_cmphex(binop(0xd8, 0x8001ull, 0x0102ull), ==, 0x7f00ull);
    /* PSUBUSW: 0001-FFFF = 0000, FFFF-0001 = FFFE */
    g_assert_cmphex(binop(0xd9, 0xffff0001ull, 0x0001ffffull), ==,
                    0xfffe0000ull);
}

static void test_mul(void)
{
    /* PMULLW / PMULHW: 4000h*4000h = 1000 0000h; FFFFh*0001h = -1;
     * 8000h*8000h = 4000 0000h; 1234h*0010h = 0001 2340h */
    uint64_t a = 0x12348000ffff4000ull, b = 0x0010800000014000ull;

    g_assert_cmphex(binop(0xd5, a, b), ==, 0x23400000ffff0000ull);
    g_assert_cmphex(binop(0xe5, a, b), ==, 0x00014000ffff1000ull);
    /* PMADDWD: [1,2,3,4].[5,6,7,8] = [1*5+2*6, 3*7+4*8] = [17, 53] */
    g_assert_cmphex(binop(0xf5, 0x0004000300020001ull,
                          0x0008000700060005ull), ==,
                    0x0000003500000011ull);
    /* words a = [FFFF 0003 8000 8000], b = [0002 FFFC 8000 8000]:
     * -1*2 + 3*-4 = -14 = FFFF FFF2h; 4000 0000h + 4000 0000h wraps to
     * 8000 0000h (the one documented wrap) */
    g_assert_cmphex(binop(0xf5, 0x800080000003ffffull,
                          0x80008000fffc0002ull), ==,
                    0x80000000fffffff2ull);
}

static void test_compare(void)
{
    /* PCMPEQB/W/D */
    g_assert_cmphex(binop(0x74, 0x1122334455667788ull, 0x1100334400667700ull),
                    ==, 0xff00ffff00ffff00ull);
    g_assert_cmphex(binop(0x75, 0x1122334455667788ull, 0x1122000055667789ull),
                    ==, 0xffff0000ffff0000ull);
    g_assert_cmphex(binop(0x76, 0x1122334455667788ull, 0x1122334455667789ull),
                    ==, 0xffffffff00000000ull);
    /* PCMPGTB signed: 80 > 7F no; 01 > FF yes; 05 > 05 no; 7F > 80 yes */
    g_assert_cmphex(binop(0x64, 0x7f050180ull, 0x8005ff7full), ==,
                    0xff00ff00ull);
    /* PCMPGTW: 8000 > 7FFF no, 0000 > FFFF yes */
    g_assert_cmphex(binop(0x65, 0x00008000ull, 0xffff7fffull), ==,
                    0xffff0000ull);
    /* PCMPGTD: 80000000 > 7FFFFFFF no, 1 > 0 yes */
    g_assert_cmphex(binop(0x66, 0x0000000180000000ull,
                          0x000000007fffffffull), ==,
                    0xffffffff00000000ull);
}

static void test_pack_unpack(void)
{
    /* PACKSSWB: dest words 0100 FF00 0012 FFFE -> 7F 80 12 FE (low half),
     * src words 7FFF 8000 0000 0080 -> 7F 80 00 7F (high half) */
    g_assert_cmphex(binop(0x63, 0xfffe0012ff000100ull, 0x0080000080007fffull),
                    ==, 0x7f00807ffe12807full);
    /* PACKUSWB: 0100 -> FF, FF00 -> 00, 0080 -> 80, 0001 -> 01 */
    g_assert_cmphex(binop(0x67, 0x00010080ff000100ull, 0), ==,
                    0x00000000018000ffull);
    /* PACKSSDW: 00010000 -> 7FFF, FFFF0000 -> 8000 | src 00001234 -> 1234,
     * 80000000 -> 8000 */
    g_assert_cmphex(binop(0x6b, 0xffff000000010000ull, 0x8000000000001234ull),
                    ==, 0x8000123480007fffull);

    /* unpacks: dest 07..00, src 0F..08 */
    g_assert_cmphex(binop(0x60, 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull),
                    ==, 0x0b030a0209010800ull);
    g_assert_cmphex(binop(0x68, 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull),
                    ==, 0x0f070e060d050c04ull);
    g_assert_cmphex(binop(0x61, 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull),
                    ==, 0x0b0a030209080100ull);
    g_assert_cmphex(binop(0x69, 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull),
                    ==, 0x0f0e07060d0c0504ull);
    g_assert_cmphex(binop(0x62, 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull),
                    ==, 0x0b0a090803020100ull);
    g_assert_cmphex(binop(0x6a, 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull),
                    ==, 0x0f0e0d0c07060504ull);
}

static void test_logic(void)
{
    uint64_t a = 0xff00f0f0aaaa1234ull, b = 0x0ff0ff0055550f0full;

    g_assert_cmphex(binop(0xdb, a, b), ==, 0x0f00f00000000204ull); /* PAND */
    g_assert_cmphex(binop(0xdf, a, b), ==, 0x00f00f0055550d0bull); /* PANDN */
    g_assert_cmphex(binop(0xeb, a, b), ==, 0xfff0fff0ffff1f3full); /* POR */
    g_assert_cmphex(binop(0xef, a, b), ==, 0xf0f00ff0ffff1d3bull); /* PXOR */
}

static void test_shifts(void)
{
    /* immediate forms: 71 /2 PSRLW, /4 PSRAW, /6 PSLLW on the words
     * 7FFF 8001 0001 8000 */
    g_assert_cmphex(shiftimm(0x71, 2, 0x8000000180017fffull, 4), ==,
                    0x08000000080007ffull);
    g_assert_cmphex(shiftimm(0x71, 4, 0x8000000180017fffull, 4), ==,
                    0xf8000000f80007ffull);
    g_assert_cmphex(shiftimm(0x71, 4, 0x8000000180017fffull, 200), ==,
                    0xffff0000ffff0000ull);
    g_assert_cmphex(shiftimm(0x71, 6, 0x8000000180017fffull, 4), ==,
                    0x000000100010fff0ull);
    g_assert_cmphex(shiftimm(0x71, 2, 0xffffffffffffffffull, 16), ==, 0);
    /* 72: PSRLD, PSRAD, PSLLD */
    g_assert_cmphex(shiftimm(0x72, 2, 0x80000000deadbeefull, 8), ==,
                    0x0080000000deadbeull);
    g_assert_cmphex(shiftimm(0x72, 4, 0x80000000deadbeefull, 8), ==,
                    0xff800000ffdeadbeull);
    g_assert_cmphex(shiftimm(0x72, 6, 0x80000000deadbeefull, 8), ==,
                    0x00000000adbeef00ull);
    g_assert_cmphex(shiftimm(0x72, 4, 0x80000000deadbeefull, 32), ==,
                    0xffffffffffffffffull);
    /* 73: PSRLQ, PSLLQ; 73 /4 is invalid */
    g_assert_cmphex(shiftimm(0x73, 2, 0x8000000000000001ull, 63), ==, 1);
    g_assert_cmphex(shiftimm(0x73, 6, 0x8000000000000001ull, 63), ==,
                    0x8000000000000000ull);
    g_assert_cmphex(shiftimm(0x73, 6, 0x8000000000000001ull, 64), ==, 0);

    /* register count forms: the whole 64-bit count matters */
    g_assert_cmphex(binop(0xf1, 0x0001000100010001ull, 15), ==,
                    0x8000800080008000ull); /* PSLLW */
    g_assert_cmphex(binop(0xf1, 0x0001000100010001ull, 0x100000000ull), ==,
                    0); /* count 2^32: not taken modulo */
    g_assert_cmphex(binop(0xe1, 0x8000800080008000ull, 1ull << 40), ==,
                    0xffffffffffffffffull); /* PSRAW by a huge count */
    g_assert_cmphex(binop(0xe2, 0x4000000080000000ull, 1), ==,
                    0x20000000c0000000ull); /* PSRAD */
    g_assert_cmphex(binop(0xd1, 0x8000800080008000ull, 3), ==,
                    0x1000100010001000ull); /* PSRLW */
    g_assert_cmphex(binop(0xd2, 0x8000000080000000ull, 31), ==,
                    0x0000000100000001ull); /* PSRLD */
    g_assert_cmphex(binop(0xd3, 0xf000000000000000ull, 60), ==,
                    0xfull); /* PSRLQ */
    g_assert_cmphex(binop(0xf2, 0x0000000100000001ull, 31), ==,
                    0x8000000080000000ull); /* PSLLD */
    g_assert_cmphex(binop(0xf3, 1, 63), ==, 0x8000000000000000ull);
    g_assert_cmphex(binop(0xf3, 1, 64), ==, 0); /* PSLLQ */
}

static void test_moves_and_state(void)
{
    X87State st;
    uint64_t v;

    init(&st);
    /* an x87 stack with TOP = 6 and two values */
    st.fsw = 6 << X87_SW_TOP_SHIFT;
    st.ftw = 0x0fff;
    st.r[0].sexp = 0x3fff;
    /* MOVD mm0, eax: zero-extends; TOP = 0, all tags valid, exponent FFFF */
    gpr[0] = 0x89abcdef;
    g_assert_cmpint(mmx_exec(&st, 0x6e, 0xc0, &xmem, 0, gpr, 0), ==, X87_OK);
    g_assert_cmphex(st.r[0].mant, ==, 0x89abcdef);
    g_assert_cmphex(st.r[0].sexp, ==, 0xffff);
    g_assert_cmphex(st.fsw & X87_SW_TOP, ==, 0);
    g_assert_cmphex(st.ftw, ==, 0);
    /* MOVQ mm3, mm0 / MOVQ m64, mm3 / MOVQ mm4, m64 */
    g_assert_cmpint(mmx_exec(&st, 0x6f, 0xd8, &xmem, 0, gpr, 0), ==, X87_OK);
    g_assert_cmphex(st.r[3].mant, ==, 0x89abcdef);
    st.r[3].mant = 0x0123456789abcdefull;
    g_assert_cmpint(mmx_exec(&st, 0x7f, 0x18, &xmem, EA, gpr, 0), ==, X87_OK);
    g_assert_cmpuint(tmem.last_len, ==, 8);
    memcpy(&v, tmem.bytes + EA, 8);
    g_assert_cmphex(v, ==, 0x0123456789abcdefull);
    g_assert_cmpint(mmx_exec(&st, 0x6f, 0x20, &xmem, EA, gpr, 0), ==, X87_OK);
    g_assert_cmphex(st.r[4].mant, ==, 0x0123456789abcdefull);
    g_assert_cmphex(st.r[4].sexp, ==, 0xffff);
    /* MOVD m32, mm3 stores the low half only; MOVD edi, mm3 */
    memset(tmem.bytes + EA, 0xaa, 8);
    g_assert_cmpint(mmx_exec(&st, 0x7e, 0x18, &xmem, EA, gpr, 0), ==, X87_OK);
    g_assert_cmpuint(tmem.last_len, ==, 4);
    memcpy(&v, tmem.bytes + EA, 8);
    g_assert_cmphex(v, ==, 0xaaaaaaaa89abcdefull);
    g_assert_cmpint(mmx_exec(&st, 0x7e, 0xdf, &xmem, 0, gpr, 0), ==, X87_OK);
    g_assert_cmphex(gpr[7], ==, 0x89abcdef);
    /* MOVD mm5, m32 */
    g_assert_cmpint(mmx_exec(&st, 0x6e, 0x28, &xmem, EA, gpr, 0), ==, X87_OK);
    g_assert_cmphex(st.r[5].mant, ==, 0x89abcdef);
    /* MOVQ mm6, mm4 via 7F with a register destination */
    g_assert_cmpint(mmx_exec(&st, 0x7f, 0xe6, &xmem, 0, gpr, 0), ==, X87_OK);
    g_assert_cmphex(st.r[6].mant, ==, 0x0123456789abcdefull);
    /* PUNPCKLBW mm0, m32 reads a doubleword only */
    g_assert_cmpint(mmx_exec(&st, 0x60, 0x00, &xmem, EA, gpr, 0), ==, X87_OK);
    g_assert_cmpuint(tmem.last_len, ==, 4);
    /* PADDB mm0, m64 reads a quadword */
    g_assert_cmpint(mmx_exec(&st, 0xfc, 0x00, &xmem, EA, gpr, 0), ==, X87_OK);
    g_assert_cmpuint(tmem.last_len, ==, 8);

    /* EMMS: all tags empty, TOP = 0, nothing else */
    st.fsw = 0x0100 | 5 << X87_SW_TOP_SHIFT;
    st.fip = 0x1234;
    g_assert_cmpint(mmx_exec(&st, 0x77, 0, &xmem, 0, gpr, 0), ==, X87_OK);
    g_assert_cmphex(st.ftw, ==, 0xffff);
    g_assert_cmphex(st.fsw, ==, 0x0100);
    g_assert_cmphex(st.fip, ==, 0x1234);
}

static void test_invalid_and_pending(void)
{
    static const uint8_t bad[] = { 0x6c, 0x6d, 0x70, 0x78, 0x7c, 0xd4, 0xd7,
                                   0xda, 0xde, 0xe0, 0xe3, 0xe4, 0xe7, 0xea,
                                   0xee, 0xf4, 0xf6, 0xf7, 0xfb, 0xff };
    X87State st;

    init(&st);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(mmx_is_opcode(bad[i]));
        g_assert_cmpint(mmx_exec(&st, bad[i], 0xc0, &xmem, 0, gpr, 0), ==,
                        X87_UD);
    }
    /* shift-immediate groups: only /2 /4 /6 (not 73 /4), register only */
    g_assert_cmpint(mmx_exec(&st, 0x73, 0xe0, &xmem, 0, gpr, 1), ==, X87_UD);
    g_assert_cmpint(mmx_exec(&st, 0x71, 0xc0, &xmem, 0, gpr, 1), ==, X87_UD);
    g_assert_cmpint(mmx_exec(&st, 0x72, 0xd8, &xmem, 0, gpr, 1), ==, X87_UD);
    g_assert_cmpint(mmx_exec(&st, 0x71, 0x10, &xmem, 0, gpr, 1), ==, X87_UD);
    g_assert_cmphex(st.ftw, ==, 0xffff); /* nothing happened */
    g_assert_true(mmx_is_opcode(0x77));
    g_assert_false(mmx_has_imm8(0x77));

    /* a pending x87 exception faults first, EMMS included */
    st.fsw = X87_SW_IE | X87_SW_ES | X87_SW_B;
    st.fcw = 0x037e;
    g_assert_cmpint(mmx_exec(&st, 0x77, 0xc0, &xmem, 0, gpr, 0), ==, X87_MF);
    g_assert_cmpint(mmx_exec(&st, 0xfc, 0xc0, &xmem, 0, gpr, 0), ==, X87_MF);
    g_assert_cmphex(st.ftw, ==, 0xffff);
}

/* ---- against the host's own MMX unit, on random operands ---- */

#define HOST_OP(name)                                                       \
    static uint64_t host_##name(uint64_t a, uint64_t b)                    \
    {                                                                       \
        __m64 r = name((__m64)a, (__m64)b);                                 \
        uint64_t v;                                                         \
                                                                            \
        memcpy(&v, &r, 8);                                                  \
        _mm_empty();                                                        \
        return v;                                                           \
    }
HOST_OP(_mm_unpacklo_pi8)
HOST_OP(_mm_unpacklo_pi16)
HOST_OP(_mm_unpacklo_pi32)
HOST_OP(_mm_packs_pi16)
HOST_OP(_mm_cmpgt_pi8)
HOST_OP(_mm_cmpgt_pi16)
HOST_OP(_mm_cmpgt_pi32)
HOST_OP(_mm_packs_pu16)
HOST_OP(_mm_unpackhi_pi8)
HOST_OP(_mm_unpackhi_pi16)
HOST_OP(_mm_unpackhi_pi32)
HOST_OP(_mm_packs_pi32)
HOST_OP(_mm_cmpeq_pi8)
HOST_OP(_mm_cmpeq_pi16)
HOST_OP(_mm_cmpeq_pi32)
HOST_OP(_mm_srl_pi16)
HOST_OP(_mm_srl_pi32)
HOST_OP(_mm_srl_si64)
HOST_OP(_mm_mullo_pi16)
HOST_OP(_mm_subs_pu8)
HOST_OP(_mm_subs_pu16)
HOST_OP(_mm_and_si64)
HOST_OP(_mm_adds_pu8)
HOST_OP(_mm_adds_pu16)
HOST_OP(_mm_andnot_si64)
HOST_OP(_mm_sra_pi16)
HOST_OP(_mm_sra_pi32)
HOST_OP(_mm_mulhi_pi16)
HOST_OP(_mm_subs_pi8)
HOST_OP(_mm_subs_pi16)
HOST_OP(_mm_or_si64)
HOST_OP(_mm_adds_pi8)
HOST_OP(_mm_adds_pi16)
HOST_OP(_mm_xor_si64)
HOST_OP(_mm_sll_pi16)
HOST_OP(_mm_sll_pi32)
HOST_OP(_mm_sll_si64)
HOST_OP(_mm_madd_pi16)
HOST_OP(_mm_sub_pi8)
HOST_OP(_mm_sub_pi16)
HOST_OP(_mm_sub_pi32)
HOST_OP(_mm_add_pi8)
HOST_OP(_mm_add_pi16)
HOST_OP(_mm_add_pi32)

static uint64_t rnd_state = 88172645463325252ull;

/* Random lanes, biased towards the saturation edges. */
static uint64_t rnd(void)
{
    uint64_t v;

    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    v = rnd_state;
    switch (v & 7) {
    case 0:
        return 0x8000800080008000ull ^ (v >> 40);
    case 1:
        return v | 0x7f7f7f7f7f7f7f7full;
    case 2:
        return v & 0x00ff00ff00ff00ffull;
    case 3:
        return v & 0x4f; /* shift counts */
    default:
        return v;
    }
}

static void test_host(void)
{
    static const struct {
        uint8_t op;
        uint64_t (*f)(uint64_t, uint64_t);
    } ops[] = {
        { 0x60, host__mm_unpacklo_pi8 },
        { 0x61, host__mm_unpacklo_pi16 },
        { 0x62, host__mm_unpacklo_pi32 },
        { 0x63, host__mm_packs_pi16 },
        { 0x64, host__mm_cmpgt_pi8 },
        { 0x65, host__mm_cmpgt_pi16 },
        { 0x66, host__mm_cmpgt_pi32 },
        { 0x67, host__mm_packs_pu16 },
        { 0x68, host__mm_unpackhi_pi8 },
        { 0x69, host__mm_unpackhi_pi16 },
        { 0x6a, host__mm_unpackhi_pi32 },
        { 0x6b, host__mm_packs_pi32 },
        { 0x74, host__mm_cmpeq_pi8 },
        { 0x75, host__mm_cmpeq_pi16 },
        { 0x76, host__mm_cmpeq_pi32 },
        { 0xd1, host__mm_srl_pi16 },
        { 0xd2, host__mm_srl_pi32 },
        { 0xd3, host__mm_srl_si64 },
        { 0xd5, host__mm_mullo_pi16 },
        { 0xd8, host__mm_subs_pu8 },
        { 0xd9, host__mm_subs_pu16 },
        { 0xdb, host__mm_and_si64 },
        { 0xdc, host__mm_adds_pu8 },
        { 0xdd, host__mm_adds_pu16 },
        { 0xdf, host__mm_andnot_si64 },
        { 0xe1, host__mm_sra_pi16 },
        { 0xe2, host__mm_sra_pi32 },
        { 0xe5, host__mm_mulhi_pi16 },
        { 0xe8, host__mm_subs_pi8 },
        { 0xe9, host__mm_subs_pi16 },
        { 0xeb, host__mm_or_si64 },
        { 0xec, host__mm_adds_pi8 },
        { 0xed, host__mm_adds_pi16 },
        { 0xef, host__mm_xor_si64 },
        { 0xf1, host__mm_sll_pi16 },
        { 0xf2, host__mm_sll_pi32 },
        { 0xf3, host__mm_sll_si64 },
        { 0xf5, host__mm_madd_pi16 },
        { 0xf8, host__mm_sub_pi8 },
        { 0xf9, host__mm_sub_pi16 },
        { 0xfa, host__mm_sub_pi32 },
        { 0xfc, host__mm_add_pi8 },
        { 0xfd, host__mm_add_pi16 },
        { 0xfe, host__mm_add_pi32 },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(ops); i++) {
        for (int n = 0; n < 3000; n++) {
            uint64_t a = rnd(), b = rnd();

            g_assert_cmphex(binop(ops[i].op, a, b), ==, ops[i].f(a, b));
        }
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu/mmx/add-sub", test_add_sub);
    g_test_add_func("/cpu/mmx/mul", test_mul);
    g_test_add_func("/cpu/mmx/compare", test_compare);
    g_test_add_func("/cpu/mmx/pack-unpack", test_pack_unpack);
    g_test_add_func("/cpu/mmx/logic", test_logic);
    g_test_add_func("/cpu/mmx/shifts", test_shifts);
    g_test_add_func("/cpu/mmx/moves-state", test_moves_and_state);
    g_test_add_func("/cpu/mmx/invalid-pending", test_invalid_and_pending);
    g_test_add_func("/cpu/mmx/host", test_host);
    return g_test_run();
}
