/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the x87 FPU unit (src/arch/x86/x87.c) through its public
 * interface: arithmetic against the host's long double, precision and
 * rounding control, stack faults, FXAM classes, packed BCD, the
 * FSTENV/FSAVE layouts of Intel SDM Vol. 1 figures 8-9..8-12, FXSAVE,
 * transcendentals against libm, FCOMI/FCMOV, restartable stores.
 */
#include <math.h>
#include <setjmp.h>
#include <string.h>

#include <glib.h>

#include "arch/x86/x87.h"

/* ---- a flat test memory ---- */

typedef struct TestMem {
    uint8_t bytes[4096];
    unsigned loads, stores;
    bool fault_store;
    jmp_buf fault;
} TestMem;

static void tm_load(void *ctx, uint32_t ea, void *buf, unsigned len)
{
    TestMem *m = ctx;

    g_assert_cmpuint((uint64_t)ea + len, <=, sizeof(m->bytes));
    memcpy(buf, m->bytes + ea, len);
    m->loads++;
}

static void tm_store(void *ctx, uint32_t ea, const void *buf, unsigned len)
{
    TestMem *m = ctx;

    g_assert_cmpuint((uint64_t)ea + len, <=, sizeof(m->bytes));
    if (m->fault_store) {
        longjmp(m->fault, 1);
    }
    memcpy(m->bytes + ea, buf, len);
    m->stores++;
}

static TestMem tmem;
static X87Mem xmem = {
    .ctx = &tmem, .load = tm_load, .store = tm_store,
    .flags = X87_MEM_OP32 | X87_MEM_PMODE,
    .fip = 0x1234, .fcs = 0x08, .fds = 0x10,
};

#define EA 0x100 /* scratch operand */

static int run(X87State *st, uint8_t op, uint8_t modrm)
{
    uint32_t fl = 0;

    return x87_exec(st, op, modrm, &xmem, EA, NULL, &fl);
}

static void ok(X87State *st, uint8_t op, uint8_t modrm)
{
    g_assert_cmpint(run(st, op, modrm), ==, X87_OK);
}

static void put_ld(uint32_t ea, long double v)
{
    memcpy(tmem.bytes + ea, &v, 10);
}

static long double get_ld(uint32_t ea)
{
    long double v = 0;

    memcpy(&v, tmem.bytes + ea, 10);
    return v;
}

static void push(X87State *st, long double v) /* FLD m80 */
{
    put_ld(EA, v);
    ok(st, 0xdb, 0x28);
}

static long double pop(X87State *st) /* FSTP m80 */
{
    ok(st, 0xdb, 0x38);
    return get_ld(EA);
}

static long double st_i(const X87State *st, unsigned i)
{
    X87Reg r = x87_get_st(st, i);
    long double v = 0;

    memcpy(&v, &r.mant, 8);
    memcpy((uint8_t *)&v + 8, &r.sexp, 2);
    return v;
}

static unsigned tag_of(const X87State *st, unsigned sti)
{
    unsigned phys = (x87_top(st) + sti) & 7;

    return (st->ftw >> (2 * phys)) & 3;
}

static void init(X87State *st)
{
    x87_reset(st);
    x87_finit(st);
    memset(&tmem.bytes, 0, sizeof(tmem.bytes));
    tmem.fault_store = false;
}

/* Field by field: X87Reg has padding that struct copies need not keep. */
static void assert_same_state(const X87State *a, const X87State *b)
{
    g_assert_cmphex(a->fcw, ==, b->fcw);
    g_assert_cmphex(a->fsw, ==, b->fsw);
    g_assert_cmphex(a->ftw, ==, b->ftw);
    g_assert_cmphex(a->fop, ==, b->fop);
    g_assert_cmphex(a->fip, ==, b->fip);
    g_assert_cmphex(a->fdp, ==, b->fdp);
    g_assert_cmphex(a->fcs, ==, b->fcs);
    g_assert_cmphex(a->fds, ==, b->fds);
    g_assert_cmphex(a->mxcsr, ==, b->mxcsr);
    for (unsigned i = 0; i < 8; i++) {
        g_assert_cmphex(a->r[i].mant, ==, b->r[i].mant);
        g_assert_cmphex(a->r[i].sexp, ==, b->r[i].sexp);
    }
}

static bool same_ld(long double a, long double b)
{
    return memcmp(&a, &b, 10) == 0;
}

static void assert_ld(long double got, long double want)
{
    if (!same_ld(got, want)) {
        g_test_message("got %La want %La", got, want);
    }
    g_assert_true(same_ld(got, want));
}

/* ---- reset values ---- */

static void test_reset(void)
{
    X87State st;

    memset(&st, 0xa5, sizeof(st));
    x87_reset(&st);
    g_assert_cmphex(st.fcw, ==, 0x0040);
    g_assert_cmphex(st.fsw, ==, 0);
    g_assert_cmphex(st.ftw, ==, 0x5555);
    g_assert_cmphex(st.fip | st.fdp | st.fcs | st.fds | st.fop, ==, 0);
    for (unsigned i = 0; i < 8; i++) {
        g_assert_cmphex(st.r[i].mant | st.r[i].sexp, ==, 0);
    }
    st.r[3].mant = 42;
    st.fsw = 0x3fff;
    x87_finit(&st);
    g_assert_cmphex(st.fcw, ==, 0x037f);
    g_assert_cmphex(st.fsw, ==, 0);
    g_assert_cmphex(st.ftw, ==, 0xffff);
    g_assert_cmphex(st.r[3].mant, ==, 42); /* FINIT keeps registers */

    /* DB E3 FNINIT through the dispatcher */
    st.fcw = 0;
    st.fsw = X87_SW_ES | X87_SW_IE;
    ok(&st, 0xdb, 0xe3);
    g_assert_cmphex(st.fcw, ==, 0x037f);
    g_assert_cmphex(st.fsw, ==, 0);
}

/* ---- arithmetic against the host ---- */

static const long double arith_vals[] = {
    1.0L, -2.5L, 3.0L, 0.1L, 1e300L, -7e-310L, 123456789.0L, 1e-4000L,
};

typedef long double (*BinOp)(long double, long double);
static long double op_add(long double a, long double b) { return a + b; }
static long double op_mul(long double a, long double b) { return a * b; }
static long double op_sub(long double a, long double b) { return a - b; }
static long double op_subr(long double a, long double b) { return b - a; }
static long double op_div(long double a, long double b) { return a / b; }
static long double op_divr(long double a, long double b) { return b / a; }

/* D8 reg field order: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR */
static const BinOp d8_ops[8] = {
    op_add, op_mul, NULL, NULL, op_sub, op_subr, op_div, op_divr,
};

static void test_arith(void)
{
    X87State st;
    size_t n = G_N_ELEMENTS(arith_vals);

    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            long double a = arith_vals[i], b = arith_vals[j];

            for (unsigned op = 0; op < 8; op++) {
                volatile long double want;

                if (!d8_ops[op]) {
                    continue;
                }
                want = d8_ops[op](a, b);

                /* D8 /op ST(0), ST(1): ST0 = ST0 op ST1 */
                init(&st);
                push(&st, b);
                push(&st, a);
                ok(&st, 0xd8, (uint8_t)(0xc1 | op << 3));
                assert_ld(st_i(&st, 0), want);
                assert_ld(st_i(&st, 1), b);

                /* DC /op ST(1), ST(0): ST1 = ST1 op ST0, with the
                 * well-known DC reversal of SUB/SUBR and DIV/DIVR */
                init(&st);
                push(&st, a);
                push(&st, b);
                ok(&st, 0xdc, (uint8_t)(0xc1 | (op ^ (op >= 4)) << 3));
                assert_ld(st_i(&st, 1), want);

                /* DE /op: the same, then pop */
                init(&st);
                push(&st, a);
                push(&st, b);
                ok(&st, 0xde, (uint8_t)(0xc1 | (op ^ (op >= 4)) << 3));
                assert_ld(st_i(&st, 0), want);
                g_assert_cmpuint(x87_top(&st), ==, 7);
                g_assert_cmpuint(tag_of(&st, 1), ==, X87_TAG_EMPTY);

                /* DC /op m64: ST0 = ST0 op (double)b */
                {
                    double bd = (double)b;
                    volatile long double wd = d8_ops[op](a, (long double)bd);

                    init(&st);
                    push(&st, a);
                    memcpy(tmem.bytes + EA, &bd, 8);
                    ok(&st, 0xdc, (uint8_t)(op << 3));
                    assert_ld(st_i(&st, 0), wd);
                }
            }
        }
    }
}

static void test_mem_operands(void)
{
    X87State st;
    float f = 1.5f;
    double d = -0.3;
    int16_t i16 = -1234;
    int32_t i32 = 7654321;
    int64_t i64 = -123456789012345LL;

    init(&st);
    memcpy(tmem.bytes + EA, &f, 4);
    ok(&st, 0xd9, 0x00); /* FLD m32 */
    assert_ld(st_i(&st, 0), 1.5L);
    memcpy(tmem.bytes + EA, &d, 8);
    ok(&st, 0xdd, 0x00); /* FLD m64 */
    assert_ld(st_i(&st, 0), (long double)d);
    memcpy(tmem.bytes + EA, &i16, 2);
    ok(&st, 0xdf, 0x00); /* FILD m16 */
    assert_ld(st_i(&st, 0), -1234.0L);
    memcpy(tmem.bytes + EA, &i32, 4);
    ok(&st, 0xdb, 0x00); /* FILD m32 */
    assert_ld(st_i(&st, 0), 7654321.0L);
    memcpy(tmem.bytes + EA, &i64, 8);
    ok(&st, 0xdf, 0x28); /* FILD m64 */
    assert_ld(st_i(&st, 0), -123456789012345.0L);

    /* DA /0 FIADD m32: ST0 += i32 */
    memcpy(tmem.bytes + EA, &i32, 4);
    ok(&st, 0xda, 0x00);
    assert_ld(st_i(&st, 0), -123456789012345.0L + 7654321.0L);
    /* DE /6 FIDIV m16 */
    memcpy(tmem.bytes + EA, &i16, 2);
    ok(&st, 0xde, 0x30);
    {
        volatile long double w =
            (-123456789012345.0L + 7654321.0L) / -1234.0L;
        assert_ld(st_i(&st, 0), w);
    }

    /* stores: FISTP m64, FIST m32, FST m32, FSTP m64 */
    init(&st);
    push(&st, -2.5L);
    ok(&st, 0xdf, 0x38); /* FISTP m64: round to nearest even -> -2 */
    memcpy(&i64, tmem.bytes + EA, 8);
    g_assert_cmpint(i64, ==, -2);
    g_assert_cmpuint(x87_top(&st), ==, 0);
    push(&st, 3.5L);
    ok(&st, 0xdb, 0x10); /* FIST m32 -> 4 */
    memcpy(&i32, tmem.bytes + EA, 4);
    g_assert_cmpint(i32, ==, 4);
    ok(&st, 0xd9, 0x10); /* FST m32 */
    memcpy(&f, tmem.bytes + EA, 4);
    g_assert_true(f == 3.5f);
    ok(&st, 0xdd, 0x18); /* FSTP m64 */
    memcpy(&d, tmem.bytes + EA, 8);
    g_assert_true(d == 3.5);
    g_assert_cmpuint(tag_of(&st, 0), ==, X87_TAG_EMPTY);

    /* FIST m16 out of range: masked IE stores the integer indefinite */
    push(&st, 40000.0L);
    ok(&st, 0xdf, 0x10);
    memcpy(&i16, tmem.bytes + EA, 2);
    g_assert_cmphex((uint16_t)i16, ==, 0x8000);
    g_assert_true(st.fsw & X87_SW_IE);
    g_assert_false(st.fsw & X87_SW_ES);
}

/* ---- precision and rounding control ---- */

static void set_cw(X87State *st, uint16_t cw)
{
    memcpy(tmem.bytes + EA + 64, &cw, 2);
    g_assert_cmpint(x87_exec(st, 0xd9, 0x28, &xmem, EA + 64, NULL, NULL),
                    ==, X87_OK);
}

static long double third(uint16_t cw, long double num)
{
    X87State st;

    init(&st);
    set_cw(&st, cw);
    push(&st, 3.0L);
    push(&st, num);
    ok(&st, 0xde, 0xf9); /* FDIVP: ST1 = ST1 / ST0... then pop */
    return st_i(&st, 0);
}

static void test_precision_rounding(void)
{
    volatile long double ext = 1.0L / 3.0L;
    long double down, up, chop, near;

    /* FDIVP ST(1), ST(0) computes ST1 / ST0 = 3 / num; use num = 9 too */
    g_assert_true(third(0x037f, 9.0L) == 3.0L / 9.0L);

    /* precision control: 24, 53, 64 bits (round to nearest) */
    g_assert_true(third(0x007f, 9.0L) == (long double)(float)ext);
    g_assert_true(third(0x027f, 9.0L) == (long double)(double)ext);
    g_assert_true(third(0x037f, 9.0L) == ext);
    g_assert_true((long double)(float)ext != ext);

    /* rounding control at extended precision */
    near = third(0x037f, 9.0L);
    down = third(0x077f, 9.0L);
    up = third(0x0b7f, 9.0L);
    chop = third(0x0f7f, 9.0L);
    g_assert_true(down < up);
    g_assert_true(nextafterl(down, 1.0L) == up);
    g_assert_true(chop == down);
    g_assert_true(near == down || near == up);
    /* negative: chop goes toward zero, i.e. equals rounding up */
    g_assert_true(third(0x0f7f, -9.0L) == third(0x0b7f, -9.0L));
    g_assert_true(third(0x077f, -9.0L) < third(0x0b7f, -9.0L));
    /* rounding up sets C1 (the result was rounded away from zero) */
    {
        X87State st;

        init(&st);
        set_cw(&st, 0x0b7f);
        push(&st, 3.0L);
        push(&st, 9.0L);
        ok(&st, 0xde, 0xf9);
        g_assert_true(st.fsw & X87_SW_PE);
        g_assert_true(st.fsw & X87_SW_C1);
    }
}

/* ---- stack faults ---- */

static void test_stack_faults(void)
{
    X87State st;
    X87Reg r;
    uint16_t ax = 0;

    /* overflow: the ninth push */
    init(&st);
    for (int i = 0; i < 8; i++) {
        ok(&st, 0xd9, 0xe8); /* FLD1 */
    }
    g_assert_cmpuint(x87_top(&st), ==, 0);
    g_assert_cmphex(st.fsw & 0x7f, ==, 0);
    ok(&st, 0xd9, 0xeb); /* FLDPI */
    g_assert_cmphex(st.fsw & (X87_SW_IE | X87_SW_SF | X87_SW_C1), ==,
                    X87_SW_IE | X87_SW_SF | X87_SW_C1);
    g_assert_false(st.fsw & X87_SW_ES);
    r = x87_get_st(&st, 0); /* masked response: QNaN indefinite */
    g_assert_cmphex(r.sexp, ==, 0xffff);
    g_assert_cmphex(r.mant, ==, 0xc000000000000000ull);

    /* underflow: FADD on an empty stack */
    init(&st);
    ok(&st, 0xd8, 0xc1);
    g_assert_cmphex(st.fsw & (X87_SW_IE | X87_SW_SF | X87_SW_C1), ==,
                    X87_SW_IE | X87_SW_SF);
    r = x87_get_st(&st, 0);
    g_assert_cmphex(r.sexp, ==, 0xffff);
    g_assert_cmphex(r.mant, ==, 0xc000000000000000ull);
    g_assert_cmpuint(tag_of(&st, 0), ==, X87_TAG_SPECIAL);

    /* unmasked: ES set, the stack left alone, #MF at the next insn */
    init(&st);
    set_cw(&st, 0x037e); /* IM = 0 */
    ok(&st, 0xd8, 0xc1);
    g_assert_true(st.fsw & X87_SW_ES);
    g_assert_true(st.fsw & X87_SW_B);
    g_assert_true(x87_pending_exception(&st));
    g_assert_cmpuint(tag_of(&st, 0), ==, X87_TAG_EMPTY);
    g_assert_cmpint(run(&st, 0xd9, 0xe8), ==, X87_MF);
    g_assert_cmpuint(x87_top(&st), ==, 0); /* not executed */
    /* no-wait forms still run */
    g_assert_cmpint(x87_exec(&st, 0xdf, 0xe0, &xmem, 0, &ax, NULL), ==,
                    X87_OK);
    g_assert_cmphex(ax, ==, st.fsw);
    g_assert_true(x87_is_nowait(0xdf, 0xe0));
    g_assert_false(x87_is_nowait(0xd9, 0x28));
    /* IGNNE: runs anyway, ES stays */
    xmem.flags |= X87_MEM_IGNNE;
    ok(&st, 0xd9, 0xe8);
    xmem.flags &= ~X87_MEM_IGNNE;
    g_assert_cmpuint(x87_top(&st), ==, 7);
    g_assert_true(st.fsw & X87_SW_ES);
    ok(&st, 0xdb, 0xe2); /* FNCLEX */
    g_assert_cmphex(st.fsw & 0x80ff, ==, 0);
    ok(&st, 0xd9, 0xe8);
    g_assert_cmpuint(x87_top(&st), ==, 6);

    /* FLDCW unmasking a pending flag sets ES, masking it clears ES */
    init(&st);
    ok(&st, 0xd8, 0xc1);
    g_assert_false(st.fsw & X87_SW_ES);
    set_cw(&st, 0x037e);
    g_assert_true(st.fsw & X87_SW_ES);
    g_assert_cmpint(run(&st, 0xd9, 0x28), ==, X87_MF); /* FLDCW waits */
    ok(&st, 0xdb, 0xe2);
    set_cw(&st, 0x037f);
    g_assert_false(st.fsw & X87_SW_ES);

    /* FFREE, FINCSTP, FDECSTP, FXCH, FFREEP */
    init(&st);
    push(&st, 1.0L);
    push(&st, 2.0L);
    ok(&st, 0xd9, 0xc9); /* FXCH ST1 */
    assert_ld(st_i(&st, 0), 1.0L);
    assert_ld(st_i(&st, 1), 2.0L);
    ok(&st, 0xdd, 0xc1); /* FFREE ST1 */
    g_assert_cmpuint(tag_of(&st, 1), ==, X87_TAG_EMPTY);
    ok(&st, 0xd9, 0xf7); /* FINCSTP */
    g_assert_cmpuint(x87_top(&st), ==, 7);
    ok(&st, 0xd9, 0xf6); /* FDECSTP */
    g_assert_cmpuint(x87_top(&st), ==, 6);
    ok(&st, 0xdf, 0xc0); /* FFREEP ST0 */
    g_assert_cmpuint(x87_top(&st), ==, 7);
    g_assert_cmphex(st.ftw, ==, 0xffff);
}

/* ---- FXAM, FTST, compares ---- */

#define CC_MASK (X87_SW_C0 | X87_SW_C1 | X87_SW_C2 | X87_SW_C3)

static uint16_t fxam_of(X87Reg r, bool empty)
{
    X87State st;

    init(&st);
    if (!empty) {
        memcpy(tmem.bytes + EA, &r.mant, 8);
        memcpy(tmem.bytes + EA + 8, &r.sexp, 2);
        ok(&st, 0xdb, 0x28);
    }
    ok(&st, 0xd9, 0xe5);
    return st.fsw & CC_MASK;
}

static void test_fxam(void)
{
    const uint16_t C0 = X87_SW_C0, C1 = X87_SW_C1, C2 = X87_SW_C2,
                   C3 = X87_SW_C3;

    /* SDM FXAM table: C3 C2 C0 class, C1 sign */
    g_assert_cmphex(fxam_of((X87Reg){ 0, 0 }, false), ==, C3);
    g_assert_cmphex(fxam_of((X87Reg){ 0, 0x8000 }, false), ==, C3 | C1);
    g_assert_cmphex(fxam_of((X87Reg){ 1ull << 63, 0x3fff }, false), ==, C2);
    g_assert_cmphex(fxam_of((X87Reg){ 1ull << 63, 0xbfff }, false), ==,
                    C2 | C1);
    g_assert_cmphex(fxam_of((X87Reg){ 1, 0 }, false), ==, C3 | C2);
    g_assert_cmphex(fxam_of((X87Reg){ 1ull << 63, 0x7fff }, false), ==,
                    C2 | C0);
    g_assert_cmphex(fxam_of((X87Reg){ 1ull << 63, 0xffff }, false), ==,
                    C2 | C1 | C0);
    g_assert_cmphex(fxam_of((X87Reg){ 3ull << 62, 0x7fff }, false), ==, C0);
    g_assert_cmphex(fxam_of((X87Reg){ 0, 0 }, true) & ~C1, ==, C3 | C0);
    /* unnormal (FLD m80 loads it as it is): "unsupported", all clear */
    g_assert_cmphex(fxam_of((X87Reg){ 1, 0x3fff }, false), ==, 0);
    g_assert_cmphex(fxam_of((X87Reg){ 1, 0xbfff }, false), ==, C1);
}

static uint16_t fcom_cc(long double a, long double b, uint8_t op,
                        uint8_t modrm, uint16_t *sw)
{
    X87State st;

    init(&st);
    push(&st, b);
    push(&st, a);
    ok(&st, op, modrm);
    *sw = st.fsw;
    return st.fsw & (X87_SW_C0 | X87_SW_C2 | X87_SW_C3);
}

static void test_compare(void)
{
    const uint16_t C0 = X87_SW_C0, C2 = X87_SW_C2, C3 = X87_SW_C3;
    uint16_t sw;
    X87State st;
    uint32_t fl;

    g_assert_cmphex(fcom_cc(1.0L, 2.0L, 0xd8, 0xd1, &sw), ==, C0);
    g_assert_cmphex(fcom_cc(2.0L, 1.0L, 0xd8, 0xd1, &sw), ==, 0);
    g_assert_cmphex(fcom_cc(2.0L, 2.0L, 0xd8, 0xd1, &sw), ==, C3);
    g_assert_cmphex(fcom_cc(NAN, 2.0L, 0xd8, 0xd1, &sw), ==, C3 | C2 | C0);
    g_assert_true(sw & X87_SW_IE); /* FCOM: QNaN is invalid */
    g_assert_cmphex(fcom_cc(NAN, 2.0L, 0xdd, 0xe1, &sw), ==, C3 | C2 | C0);
    g_assert_false(sw & X87_SW_IE); /* FUCOM: QNaN is not */
    /* FCOMPP pops both; DE D8 is not an instruction */
    init(&st);
    push(&st, 1.0L);
    push(&st, 1.0L);
    ok(&st, 0xde, 0xd9);
    g_assert_cmphex(st.ftw, ==, 0xffff);
    g_assert_cmpint(run(&st, 0xde, 0xd8), ==, X87_UD);
    /* FTST */
    init(&st);
    push(&st, -0.5L);
    ok(&st, 0xd9, 0xe4);
    g_assert_cmphex(st.fsw & (C0 | C2 | C3), ==, C0);

    /* FCOMI family writes ZF PF CF and clears OF SF AF */
    init(&st);
    push(&st, 2.0L);
    push(&st, 1.0L);
    fl = 0xffffffffu & ~X87_EFLAGS_CF;
    g_assert_cmpuint(x87_eflags_use(0xdb, 0xf1), ==, X87_EFLAGS_WRITE);
    g_assert_cmpint(x87_exec(&st, 0xdb, 0xf1, &xmem, 0, NULL, &fl), ==,
                    X87_OK);
    g_assert_cmphex(fl & 0x8d5, ==, X87_EFLAGS_CF); /* 1 < 2 */
    g_assert_cmphex(fl & ~0x8d5u, ==, 0xffffffffu & ~0x8d5u);
    fl = 0;
    g_assert_cmpint(x87_exec(&st, 0xdf, 0xe9, &xmem, 0, NULL, &fl), ==,
                    X87_OK); /* FUCOMIP ST1 */
    g_assert_cmphex(fl, ==, X87_EFLAGS_CF);
    g_assert_cmpuint(x87_top(&st), ==, 7);
    push(&st, 2.0L);
    g_assert_cmpint(x87_exec(&st, 0xdf, 0xf1, &xmem, 0, NULL, &fl), ==,
                    X87_OK); /* FCOMIP: equal */
    g_assert_cmphex(fl, ==, X87_EFLAGS_ZF);
    push(&st, NAN);
    g_assert_cmpint(x87_exec(&st, 0xdb, 0xe9, &xmem, 0, NULL, &fl), ==,
                    X87_OK); /* FUCOMI: unordered */
    g_assert_cmphex(fl, ==, X87_EFLAGS_ZF | X87_EFLAGS_PF | X87_EFLAGS_CF);
}

static void test_fcmov(void)
{
    /* cc order: DA B E BE U, DB NB NE NBE NU */
    static const struct {
        uint8_t op, reg;
        uint32_t flags;
        bool moves;
    } cases[] = {
        { 0xda, 0, X87_EFLAGS_CF, true },  { 0xda, 0, 0, false },
        { 0xda, 1, X87_EFLAGS_ZF, true },  { 0xda, 1, X87_EFLAGS_CF, false },
        { 0xda, 2, X87_EFLAGS_ZF, true },  { 0xda, 2, 0, false },
        { 0xda, 3, X87_EFLAGS_PF, true },  { 0xda, 3, X87_EFLAGS_ZF, false },
        { 0xdb, 0, 0, true },              { 0xdb, 0, X87_EFLAGS_CF, false },
        { 0xdb, 1, X87_EFLAGS_CF, true },  { 0xdb, 1, X87_EFLAGS_ZF, false },
        { 0xdb, 2, X87_EFLAGS_PF, true },  { 0xdb, 2, X87_EFLAGS_CF, false },
        { 0xdb, 3, X87_EFLAGS_CF, true },  { 0xdb, 3, X87_EFLAGS_PF, false },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        X87State st;
        uint32_t fl = cases[i].flags;
        uint8_t modrm = (uint8_t)(0xc1 | cases[i].reg << 3);

        init(&st);
        push(&st, 5.0L);
        push(&st, 7.0L);
        g_assert_cmpuint(x87_eflags_use(cases[i].op, modrm), ==,
                         X87_EFLAGS_READ);
        g_assert_cmpint(x87_exec(&st, cases[i].op, modrm, &xmem, 0, NULL,
                                 &fl), ==, X87_OK);
        g_assert_cmphex(fl, ==, cases[i].flags);
        assert_ld(st_i(&st, 0), cases[i].moves ? 5.0L : 7.0L);
    }
}

/* ---- packed BCD ---- */

static void test_bcd(void)
{
    /* -123456789012345678: digits little-endian, sign in byte 9 */
    static const uint8_t bcd[10] = { 0x78, 0x56, 0x34, 0x12, 0x90,
                                     0x78, 0x56, 0x34, 0x12, 0x80 };
    X87State st;

    init(&st);
    memcpy(tmem.bytes + EA, bcd, 10);
    ok(&st, 0xdf, 0x20); /* FBLD */
    assert_ld(st_i(&st, 0), -123456789012345678.0L);
    memset(tmem.bytes + EA, 0xee, 10);
    ok(&st, 0xdf, 0x30); /* FBSTP */
    g_assert_cmpmem(tmem.bytes + EA, 10, bcd, 10);
    g_assert_cmpuint(tag_of(&st, 0), ==, X87_TAG_EMPTY);

    /* FBSTP rounds by RC: 12.5 -> 12 (nearest even), 13 (up) */
    push(&st, 12.5L);
    ok(&st, 0xdf, 0x30);
    g_assert_cmphex(tmem.bytes[EA], ==, 0x12);
    g_assert_cmphex(tmem.bytes[EA + 9], ==, 0);
    set_cw(&st, 0x0b7f);
    push(&st, 12.5L);
    ok(&st, 0xdf, 0x30);
    g_assert_cmphex(tmem.bytes[EA], ==, 0x13);
    /* out of range: masked IE stores the BCD indefinite */
    push(&st, 1e19L);
    ok(&st, 0xdf, 0x30);
    g_assert_true(st.fsw & X87_SW_IE);
    g_assert_cmphex(tmem.bytes[EA + 9], ==, 0xff);
    g_assert_cmphex(tmem.bytes[EA + 8], ==, 0xff);
    g_assert_cmphex(tmem.bytes[EA + 7], ==, 0xc0);
}

/* ---- FSTENV / FSAVE layouts ---- */

static void make_state(X87State *st)
{
    init(st);
    push(st, 1.0L);
    push(st, -0.0L);
    push(st, 3.25L);
    push(st, INFINITY);
    ok(st, 0xd9, 0xe4); /* FTST: sets C0..C3 */
    st->fip = 0x12345;
    st->fcs = 0x1234;
    st->fdp = 0x6789a;
    st->fds = 0x2345;
    st->fop = 0x5e5;
    st->fsw |= X87_SW_PE | X87_SW_UE;
    st->fcw = 0x0b7f;
}

static const uint32_t layout_flags[4] = {
    X87_MEM_OP32 | X87_MEM_PMODE, X87_MEM_OP32, X87_MEM_PMODE, 0,
};

static void test_fsave_layout(void)
{
    for (unsigned k = 0; k < 4; k++) {
        uint32_t flags = layout_flags[k];
        bool op32 = flags & X87_MEM_OP32, pm = flags & X87_MEM_PMODE;
        unsigned envlen = op32 ? 28 : 14;
        X87State st, orig, st2;
        uint8_t img[108], img2[108];
        X87Mem m = xmem;
        const uint8_t *b;

        m.flags = flags;
        make_state(&st);
        orig = st;
        memset(tmem.bytes + EA, 0xcc, 200);
        g_assert_cmpint(x87_exec(&st, 0xdd, 0x30, &m, EA, NULL, NULL), ==,
                        X87_OK); /* FNSAVE */
        memcpy(img, tmem.bytes + EA, envlen + 80);
        g_assert_cmphex(tmem.bytes[EA + envlen + 80], ==, 0xcc);
        b = img;
        /* known fields: CW, SW, TW (R7 = 1.0 valid, R6 = -0 zero, R5 = 3.25
         * valid, R4 = inf special, the rest empty) */
        if (op32) {
            g_assert_cmphex(b[0] | b[1] << 8, ==, 0x0b7f);
            g_assert_cmphex(b[4] | b[5] << 8, ==, orig.fsw);
            g_assert_cmphex(b[8] | b[9] << 8, ==, 0x12ff);
        } else {
            g_assert_cmphex(b[0] | b[1] << 8, ==, 0x0b7f);
            g_assert_cmphex(b[2] | b[3] << 8, ==, orig.fsw);
            g_assert_cmphex(b[4] | b[5] << 8, ==, 0x12ff);
        }
        if (op32 && pm) {
            g_assert_cmphex(b[12] | b[13] << 8 | b[14] << 16, ==, 0x12345);
            g_assert_cmphex(b[16] | b[17] << 8, ==, 0x1234);
            g_assert_cmphex(b[18] | b[19] << 8, ==, 0x5e5);
            g_assert_cmphex(b[20] | b[21] << 8 | b[22] << 16, ==, 0x6789a);
            g_assert_cmphex(b[24] | b[25] << 8, ==, 0x2345);
        } else if (op32) {
            /* real mode: 32-bit linear pointers split 16/16 */
            uint32_t ip = 0x12345 + 0x12340, dp = 0x6789a + 0x23450;
            uint32_t w16 = b[16] | b[17] << 8 | b[18] << 16 | b[19] << 24;
            uint32_t w24 = b[24] | b[25] << 8 | b[26] << 16 | b[27] << 24;

            g_assert_cmphex(b[12] | b[13] << 8, ==, ip & 0xffff);
            g_assert_cmphex(w16, ==, (ip >> 16) << 12 | 0x5e5);
            g_assert_cmphex(b[20] | b[21] << 8, ==, dp & 0xffff);
            g_assert_cmphex(w24, ==, (dp >> 16) << 12);
        } else if (pm) {
            g_assert_cmphex(b[6] | b[7] << 8, ==, 0x2345);
            g_assert_cmphex(b[8] | b[9] << 8, ==, 0x1234);
            g_assert_cmphex(b[10] | b[11] << 8, ==, 0x789a);
            g_assert_cmphex(b[12] | b[13] << 8, ==, 0x2345);
        } else {
            uint32_t ip = 0x12345 + 0x12340, dp = 0x6789a + 0x23450;

            g_assert_cmphex(b[6] | b[7] << 8, ==, ip & 0xffff);
            g_assert_cmphex(b[8] | b[9] << 8, ==,
                            ((ip >> 16) & 0xf) << 12 | 0x5e5);
            g_assert_cmphex(b[10] | b[11] << 8, ==, dp & 0xffff);
            g_assert_cmphex(b[12] | b[13] << 8, ==, ((dp >> 16) & 0xf) << 12);
        }
        /* registers in ST order: ST0 = inf */
        {
            long double v;

            memcpy(&v, img + envlen, 10);
            g_assert_true(isinf(v));
            memcpy(&v, img + envlen + 30, 10);
            g_assert_true(v == 1.0L);
        }
        /* FNSAVE re-initialised */
        g_assert_cmphex(st.fcw, ==, 0x037f);
        g_assert_cmphex(st.ftw, ==, 0xffff);
        g_assert_cmphex(st.fsw, ==, 0);

        /* FRSTOR brings the state back; FNSAVE again: same bytes */
        g_assert_cmpint(x87_exec(&st, 0xdd, 0x20, &m, EA, NULL, NULL), ==,
                        X87_OK);
        g_assert_cmphex(st.fcw, ==, orig.fcw);
        g_assert_cmphex(st.fsw, ==, orig.fsw);
        g_assert_cmphex(st.ftw, ==, orig.ftw);
        for (unsigned i = 0; i < 8; i++) {
            g_assert_cmphex(st.r[i].mant, ==, orig.r[i].mant);
            g_assert_cmphex(st.r[i].sexp, ==, orig.r[i].sexp);
        }
        if (pm) {
            g_assert_cmphex(st.fip, ==, op32 ? orig.fip : orig.fip & 0xffff);
            g_assert_cmphex(st.fcs, ==, orig.fcs);
            g_assert_cmphex(st.fds, ==, orig.fds);
        }
        st2 = st;
        g_assert_cmpint(x87_exec(&st2, 0xdd, 0x30, &m, EA + 200, NULL, NULL),
                        ==, X87_OK);
        memcpy(img2, tmem.bytes + EA + 200, envlen + 80);
        g_assert_cmpmem(img, envlen + 80, img2, envlen + 80);

        /* FNSTENV / FLDENV: same environment, FNSTENV masks everything */
        st = orig;
        st.fcw = 0x0b40; /* all unmasked, no flags pending but PE, UE */
        st.fsw &= (uint16_t)~0x3f;
        g_assert_cmpint(x87_exec(&st, 0xd9, 0x30, &m, EA, NULL, NULL), ==,
                        X87_OK);
        g_assert_cmphex(st.fcw, ==, 0x0b7f);
        st2 = orig;
        x87_finit(&st2);
        g_assert_cmpint(x87_exec(&st2, 0xd9, 0x20, &m, EA, NULL, NULL), ==,
                        X87_OK);
        g_assert_cmphex(st2.fcw, ==, 0x0b40);
        g_assert_cmphex(st2.ftw, ==, orig.ftw);
        g_assert_cmphex(st2.fsw, ==, orig.fsw & ~0x3f);
    }
}

static void test_fldenv_es(void)
{
    X87State st;
    uint8_t env[28];

    /* loading unmasked pending flags sets ES and B */
    init(&st);
    g_assert_cmpint(x87_exec(&st, 0xd9, 0x30, &xmem, EA, NULL, NULL), ==,
                    X87_OK);
    memcpy(env, tmem.bytes + EA, 28);
    env[0] = 0x7b; /* ZM clear */
    env[4] = X87_SW_ZE;
    env[8] = 0x00; /* tags: R0..R3 "valid" but R0 holds +0 */
    memcpy(tmem.bytes + EA, env, 28);
    st.r[0].mant = 0;
    st.r[0].sexp = 0;
    st.r[1].mant = 1ull << 63;
    st.r[1].sexp = 0x3fff;
    g_assert_cmpint(x87_exec(&st, 0xd9, 0x20, &xmem, EA, NULL, NULL), ==,
                    X87_OK);
    g_assert_cmphex(st.fsw, ==, X87_SW_ZE | X87_SW_ES | X87_SW_B);
    /* tags recomputed from the contents; only "empty" is taken */
    g_assert_cmphex(st.ftw & 0xf, ==, X87_TAG_ZERO | X87_TAG_VALID << 2);
    g_assert_cmphex(st.ftw >> 8, ==, 0xff);
}

/* ---- FXSAVE / FXRSTOR ---- */

static void test_fxsave(void)
{
    X87State st, orig;
    uint8_t area[512];

    make_state(&st);
    orig = st;
    memset(area, 0x77, sizeof(area));
    x87_fxsave(&st, area, 0);
    g_assert_cmphex(area[0] | area[1] << 8, ==, 0x0b7f);
    g_assert_cmphex(area[2] | area[3] << 8, ==, orig.fsw);
    g_assert_cmphex(area[4], ==, 0xf0); /* R4..R7 in use */
    g_assert_cmphex(area[6] | area[7] << 8, ==, 0x5e5);
    g_assert_cmphex(area[8] | area[9] << 8 | area[10] << 16, ==, 0x12345);
    g_assert_cmphex(area[12] | area[13] << 8, ==, 0x1234);
    g_assert_cmphex(area[16] | area[17] << 8 | area[18] << 16, ==, 0x6789a);
    g_assert_cmphex(area[20] | area[21] << 8, ==, 0x2345);
    g_assert_cmphex(area[464], ==, 0x77); /* software area untouched */
    {
        long double v;

        memcpy(&v, area + 32 + 16 * 3, 10);
        g_assert_true(v == 1.0L);
    }
    x87_finit(&st);
    memset(st.r, 0, sizeof(st.r));
    g_assert_cmpint(x87_fxrstor(&st, area, 0), ==, X87_OK);
    assert_same_state(&st, &orig);

    /* with SSE: reserved MXCSR bits fault, nothing changes */
    st.mxcsr = 0x1f80;
    x87_fxsave(&st, area, 0xffff);
    g_assert_cmphex(area[24] | area[25] << 8, ==, 0x1f80);
    area[26] = 1;
    g_assert_cmpint(x87_fxrstor(&st, area, 0xffff), ==, X87_GP);
    assert_same_state(&st, &orig);
}

/* ---- transcendentals against libm (within 1 ulp) ---- */

/* got is within n ulps of want */
static void assert_ulps(long double got, long double want, int n)
{
    long double lo = want, hi = want;

    for (int i = 0; i < n; i++) {
        lo = nextafterl(lo, -INFINITY);
        hi = nextafterl(hi, INFINITY);
    }
    if (!(got >= lo && got <= hi)) {
        g_test_message("got %La want %La", got, want);
        g_assert_not_reached();
    }
}

static void assert_ulp(long double got, long double want)
{
    assert_ulps(got, want, 1);
}

static long double unary(uint8_t modrm, long double x, long double *st1)
{
    X87State st;

    init(&st);
    push(&st, x);
    ok(&st, 0xd9, modrm);
    if (st1) {
        *st1 = st_i(&st, 1);
    }
    return st_i(&st, 0);
}

static long double binary(uint8_t modrm, long double y, long double x)
{
    X87State st;

    init(&st);
    push(&st, y);
    push(&st, x);
    ok(&st, 0xd9, modrm);
    g_assert_cmpuint(x87_top(&st), ==, 7);
    return st_i(&st, 0);
}

static void test_transcendental(void)
{
    static const long double xs[] = { 0.5L, -0.25L, 1.0L, 0.001L, 0.75L };
    long double s;

    for (size_t i = 0; i < G_N_ELEMENTS(xs); i++) {
        long double x = xs[i];

        assert_ulp(unary(0xfe, x, NULL), sinl(x));          /* FSIN */
        assert_ulp(unary(0xff, x, NULL), cosl(x));          /* FCOS */
        assert_ulp(unary(0xfa, x * x, NULL), fabsl(x));     /* FSQRT */
        g_assert_true(unary(0xf2, x, &s) == 1.0L);          /* FPTAN */
        assert_ulp(s, tanl(x));
        assert_ulp(unary(0xfb, x, &s), cosl(x));            /* FSINCOS */
        assert_ulp(s, sinl(x));
        /* the references of these are themselves rounded twice */
        assert_ulps(unary(0xf0, x, NULL),                    /* F2XM1 */
                    expm1l(x * 0.693147180559945309417232121458176568L), 2);
        assert_ulp(binary(0xf3, x, 2.0L), atan2l(x, 2.0L)); /* FPATAN */
        assert_ulps(binary(0xf1, 3.0L, fabsl(x)),            /* FYL2X */
                    3.0L * log2l(fabsl(x)), 2);
        assert_ulps(binary(0xf9, 3.0L, x / 4),               /* FYL2XP1 */
                    3.0L * (log1pl(x / 4) /
                            0.693147180559945309417232121458176568L), 3);
    }
}

static void test_exact_ops(void)
{
    X87State st;
    long double sig;

    init(&st);
    push(&st, 3.7L);
    push(&st, 1.5L);
    ok(&st, 0xd9, 0xfd); /* FSCALE: 1.5 * 2^trunc(3.7) */
    assert_ld(st_i(&st, 0), 12.0L);
    assert_ld(st_i(&st, 1), 3.7L);

    init(&st);
    push(&st, -40.0L);
    ok(&st, 0xd9, 0xf4); /* FXTRACT: ST1 = exponent, ST0 = significand */
    sig = st_i(&st, 0);
    assert_ld(sig, -1.25L);
    assert_ld(st_i(&st, 1), 5.0L);

    init(&st);
    push(&st, 2.5L);
    ok(&st, 0xd9, 0xfc); /* FRNDINT, nearest even */
    assert_ld(st_i(&st, 0), 2.0L);
    ok(&st, 0xd9, 0xe0); /* FCHS */
    assert_ld(st_i(&st, 0), -2.0L);
    ok(&st, 0xd9, 0xe1); /* FABS */
    assert_ld(st_i(&st, 0), 2.0L);

    /* FPREM: 7 rem 3 = 1, quotient 2 -> C1 = q0 = 0, C3 = q1 = 1, C0 = q2 */
    init(&st);
    push(&st, 3.0L);
    push(&st, 7.0L);
    ok(&st, 0xd9, 0xf8);
    assert_ld(st_i(&st, 0), 1.0L);
    g_assert_cmphex(st.fsw & CC_MASK, ==, X87_SW_C3);
    /* FPREM1: 8 rem 3 (IEEE) = -1, quotient 3 -> C1 = 1, C3 = 1 */
    init(&st);
    push(&st, 3.0L);
    push(&st, 8.0L);
    ok(&st, 0xd9, 0xf5);
    assert_ld(st_i(&st, 0), -1.0L);
    g_assert_cmphex(st.fsw & CC_MASK, ==, X87_SW_C3 | X87_SW_C1);

    /* constants: exact values for the ones C can write exactly */
    init(&st);
    ok(&st, 0xd9, 0xee);
    assert_ld(st_i(&st, 0), 0.0L);
    ok(&st, 0xd9, 0xe8);
    assert_ld(st_i(&st, 0), 1.0L);
    ok(&st, 0xd9, 0xeb);
    assert_ulp(st_i(&st, 0), 3.14159265358979323846264338327950288L);
    ok(&st, 0xd9, 0xea);
    assert_ulp(st_i(&st, 0), 1.44269504088896340735992468100189214L);
    ok(&st, 0xd9, 0xe9);
    assert_ulp(st_i(&st, 0), 3.32192809488736234787031942948939018L);
    ok(&st, 0xd9, 0xec);
    assert_ulp(st_i(&st, 0), 0.301029995663981195213738894724493027L);
    ok(&st, 0xd9, 0xed);
    assert_ulp(st_i(&st, 0), 0.693147180559945309417232121458176568L);
    /* FPTAN/FSIN out of range (|x| >= 2^63): C2 = 1, operand kept, no push */
    init(&st);
    push(&st, 0x1p63L);
    ok(&st, 0xd9, 0xf2);
    g_assert_true(st.fsw & X87_SW_C2);
    g_assert_cmpuint(x87_top(&st), ==, 7);
    assert_ld(st_i(&st, 0), 0x1p63L);
    ok(&st, 0xd9, 0xfe);
    g_assert_true(st.fsw & X87_SW_C2);
    assert_ld(st_i(&st, 0), 0x1p63L);
    ok(&st, 0xd9, 0xe0); /* FCHS: C2 stays ("undefined", kept) */
    /* in range again: C2 cleared */
    init(&st);
    push(&st, 0.5L);
    ok(&st, 0xd9, 0xfe);
    g_assert_false(st.fsw & X87_SW_C2);
    /* FPREM of a huge dividend: partial remainder, C2 = 1 */
    init(&st);
    push(&st, 3.0L);
    push(&st, 0x1p200L);
    ok(&st, 0xd9, 0xf8);
    g_assert_true(st.fsw & X87_SW_C2);
    /* FILD m64 of INT64_MIN, FISTP m32 of 2^31: indefinite */
    init(&st);
    {
        int64_t q = INT64_MIN;
        int32_t d;

        memcpy(tmem.bytes + EA, &q, 8);
        ok(&st, 0xdf, 0x28);
        assert_ld(st_i(&st, 0), -0x1p63L);
        push(&st, 0x1p31L);
        ok(&st, 0xdb, 0x18);
        memcpy(&d, tmem.bytes + EA, 4);
        g_assert_cmphex((uint32_t)d, ==, 0x80000000u);
        g_assert_true(st.fsw & X87_SW_IE);
    }
    /* FDIV by zero: masked ZE gives infinity */
    init(&st);
    ok(&st, 0xd9, 0xee);
    ok(&st, 0xd9, 0xe8);
    ok(&st, 0xd8, 0xf1);
    g_assert_true(isinf(st_i(&st, 0)));
    g_assert_true(st.fsw & X87_SW_ZE);
}

/* ---- masked and unmasked numeric exceptions ---- */

static void test_exceptions(void)
{
    X87State st;
    X87Reg r;
    float f;

    /* masked overflow of FMUL: infinity, OE and PE */
    init(&st);
    push(&st, 1e4000L);
    push(&st, 1e4000L);
    ok(&st, 0xd8, 0xc9);
    g_assert_true(isinf(st_i(&st, 0)));
    g_assert_cmphex(st.fsw & 0x3f, ==, X87_SW_OE | X87_SW_PE);

    /* unmasked overflow: exponent re-biased by 24576, ES set */
    init(&st);
    set_cw(&st, 0x0377);
    push(&st, 0x1p16000L);
    push(&st, 0x1p16000L);
    ok(&st, 0xd8, 0xc9);
    r = x87_get_st(&st, 0);
    g_assert_cmphex(r.sexp, ==, 32000 + 0x3fff - 24576);
    g_assert_true(st.fsw & X87_SW_OE);
    g_assert_true(st.fsw & X87_SW_ES);

    /* unmasked overflow on FST m32: nothing stored, nothing popped */
    init(&st);
    set_cw(&st, 0x0377);
    push(&st, 1e300L);
    memset(tmem.bytes + EA, 0x5a, 4);
    ok(&st, 0xd9, 0x18);
    g_assert_cmphex(tmem.bytes[EA], ==, 0x5a);
    g_assert_cmpuint(x87_top(&st), ==, 7);
    g_assert_true(st.fsw & X87_SW_ES);
    /* masked: infinity stored */
    init(&st);
    push(&st, 1e300L);
    ok(&st, 0xd9, 0x18);
    memcpy(&f, tmem.bytes + EA, 4);
    g_assert_true(isinf(f));

    /* denormal operand: DE (masked) */
    init(&st);
    push(&st, 1.0L);
    {
        double dn = 1e-310;

        memcpy(tmem.bytes + EA, &dn, 8);
    }
    ok(&st, 0xdc, 0x00);
    g_assert_true(st.fsw & X87_SW_DE);
    /* sticky: a clean op keeps the flags */
    ok(&st, 0xd9, 0xe8);
    g_assert_true(st.fsw & X87_SW_DE);

    /* invalid: sqrt(-1) gives the indefinite */
    init(&st);
    push(&st, -1.0L);
    ok(&st, 0xd9, 0xfa);
    r = x87_get_st(&st, 0);
    g_assert_cmphex(r.sexp, ==, 0xffff);
    g_assert_cmphex(r.mant, ==, 0xc000000000000000ull);
    g_assert_true(st.fsw & X87_SW_IE);
    g_assert_false(st.fsw & X87_SW_SF);
}

/* ---- bookkeeping: FIP/FDP/FOP, #UD, restartable stores ---- */

static void test_pointers(void)
{
    X87State st;

    init(&st);
    push(&st, 2.0L);
    g_assert_cmphex(st.fop, ==, 0x328); /* DB 28 */
    g_assert_cmphex(st.fip, ==, 0x1234);
    g_assert_cmphex(st.fcs, ==, 0x08);
    g_assert_cmphex(st.fdp, ==, EA);
    g_assert_cmphex(st.fds, ==, 0x10);
    xmem.fip = 0x5678;
    ok(&st, 0xd9, 0xe0); /* FCHS: no memory operand, FDP kept */
    g_assert_cmphex(st.fop, ==, 0x1e0);
    g_assert_cmphex(st.fip, ==, 0x5678);
    g_assert_cmphex(st.fdp, ==, EA);
    xmem.fip = 0x9999;
    set_cw(&st, 0x037f); /* control instruction: nothing recorded */
    ok(&st, 0xdb, 0xe2);
    g_assert_cmphex(st.fip, ==, 0x5678);
    g_assert_cmphex(st.fop, ==, 0x1e0);
    xmem.fip = 0x1234;
}

static void test_invalid(void)
{
    static const uint8_t bad[][2] = {
        { 0xd9, 0xd1 }, { 0xd9, 0xd7 }, { 0xd9, 0xe2 }, { 0xd9, 0xe3 },
        { 0xd9, 0xe6 }, { 0xd9, 0xe7 }, { 0xd9, 0xef }, { 0xda, 0xe0 },
        { 0xda, 0xe8 }, { 0xda, 0xea }, { 0xda, 0xf0 }, { 0xdb, 0xe5 },
        { 0xdb, 0xe7 }, { 0xdb, 0xf8 }, { 0xdd, 0xf0 }, { 0xdd, 0xff },
        { 0xde, 0xd8 }, { 0xde, 0xda }, { 0xdf, 0xe1 }, { 0xdf, 0xf8 },
        { 0xd9, 0x08 }, { 0xdb, 0x08 }, { 0xdb, 0x20 }, { 0xdb, 0x30 },
        { 0xdd, 0x08 }, { 0xdd, 0x28 }, { 0xdf, 0x08 }, { 0x9b, 0x00 },
    };
    X87State st, orig;

    init(&st);
    push(&st, 1.0L);
    orig = st;
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_cmpint(run(&st, bad[i][0], bad[i][1]), ==, X87_UD);
        assert_same_state(&st, &orig);
    }
    /* the undocumented aliases do work */
    ok(&st, 0xdd, 0xc8);       /* FXCH4 */
    ok(&st, 0xd9, 0xd8);       /* FSTP1 ST0 */
    g_assert_cmphex(st.ftw, ==, 0xffff);
    ok(&st, 0xdb, 0xe4);       /* FSETPM: ignored */
}

static void test_aliases(void)
{
    X87State st;

    /* DC D0+i FCOM2, DC D8+i FCOMP3, DE D0+i FCOMP5: compare like FCOM */
    init(&st);
    push(&st, 2.0L);
    push(&st, 1.0L);
    ok(&st, 0xdc, 0xd1);
    g_assert_cmphex(st.fsw & CC_MASK, ==, X87_SW_C0);
    g_assert_cmpuint(x87_top(&st), ==, 6);
    ok(&st, 0xdc, 0xd9);
    g_assert_cmpuint(x87_top(&st), ==, 7);
    push(&st, 2.0L);
    ok(&st, 0xde, 0xd1);
    g_assert_cmphex(st.fsw & CC_MASK, ==, X87_SW_C3);
    g_assert_cmpuint(x87_top(&st), ==, 7);
    /* DF C8+i FXCH7, DF D0+i FSTP8, DF D8+i FSTP9 */
    push(&st, 5.0L);
    ok(&st, 0xdf, 0xc9);
    assert_ld(st_i(&st, 0), 2.0L);
    assert_ld(st_i(&st, 1), 5.0L);
    ok(&st, 0xdf, 0xd1); /* ST1 = ST0, pop */
    assert_ld(st_i(&st, 0), 2.0L);
    g_assert_cmpuint(x87_top(&st), ==, 7);
    push(&st, 9.0L);
    ok(&st, 0xdf, 0xd9);
    assert_ld(pop(&st), 9.0L);
    g_assert_cmphex(st.ftw, ==, 0xffff);
}

static void test_control(void)
{
    X87State st;
    uint16_t w;

    init(&st);
    /* FLDCW keeps the implemented bits; bit 6 reads as one */
    set_cw(&st, 0xffff);
    g_assert_cmphex(st.fcw, ==, 0x1f7f);
    set_cw(&st, 0x0000);
    g_assert_cmphex(st.fcw, ==, 0x0040);
    ok(&st, 0xd9, 0x38); /* FNSTCW m16 */
    memcpy(&w, tmem.bytes + EA, 2);
    g_assert_cmphex(w, ==, 0x0040);
    set_cw(&st, 0x037f);
    ok(&st, 0xd9, 0xe8);
    ok(&st, 0xd9, 0xe8);
    ok(&st, 0xdd, 0x38); /* FNSTSW m16 */
    memcpy(&w, tmem.bytes + EA, 2);
    g_assert_cmphex(w, ==, 6 << X87_SW_TOP_SHIFT);
    ok(&st, 0xd9, 0xd0); /* FNOP */
    g_assert_cmphex(st.fsw, ==, 6 << X87_SW_TOP_SHIFT);
    g_assert_cmphex(st.fop, ==, 0x1d0);
}

/* The fast path leaves the host's sticky exception flags set between
   instructions while the guest's hold them too: after a guest FNCLEX an
   exact operation must not show the inexact flag of the one before. */
static void test_sticky_flags(void)
{
    X87State st;

    init(&st);
    push(&st, 3.0L);
    push(&st, 1.0L);
    ok(&st, 0xd8, 0xf1); /* FDIV ST0, ST1: 1/3 is inexact */
    g_assert_cmphex(st.fsw & 0x3f, ==, X87_SW_PE);
    ok(&st, 0xdb, 0xe2); /* FNCLEX */
    g_assert_cmphex(st.fsw & 0x3f, ==, 0);
    ok(&st, 0xd8, 0xc0); /* FADD ST0, ST0: exact */
    g_assert_cmphex(st.fsw & 0x3f, ==, 0);
    push(&st, 0.0L);
    ok(&st, 0xd8, 0xf2); /* FDIV ST0, ST2: 0/3 is exact */
    g_assert_cmphex(st.fsw & 0x3f, ==, 0);
    /* and a control word other than the host's comes and goes */
    set_cw(&st, 0x007f); /* single precision */
    ok(&st, 0xd9, 0xe8); /* FLD1 */
    ok(&st, 0xd8, 0xf3); /* FDIV ST0, ST3: 1/3 rounded to 24 bits */
    assert_ld(st_i(&st, 0), (long double)(1.0f / 3.0f));
    g_assert_cmphex(st.fsw & 0x3f, ==, X87_SW_PE);
    uint16_t hcw;
    __asm__ volatile("fnstcw %0" : "=m"(hcw));
    g_assert_cmphex(hcw, ==, 0x037f);
}

static void test_restart(void)
{
    X87State st, orig;

    init(&st);
    push(&st, 6.0L);
    orig = st;
    tmem.fault_store = true;
    if (setjmp(tmem.fault) == 0) {
        run(&st, 0xdd, 0x18); /* FSTP m64 faults in the store */
        g_assert_not_reached();
    }
    assert_same_state(&st, &orig);
    if (setjmp(tmem.fault) == 0) {
        run(&st, 0xdd, 0x30); /* FNSAVE */
        g_assert_not_reached();
    }
    assert_same_state(&st, &orig);
    tmem.fault_store = false;
    ok(&st, 0xdd, 0x18);
    g_assert_cmpuint(x87_top(&st), ==, 0);
}

static void test_dump(void)
{
    X87State st;
    GString *s = g_string_new(NULL);

    init(&st);
    push(&st, 2.5L);
    x87_dump(&st, s);
    g_assert_nonnull(strstr(s->str, "FCW=037f FSW=3800 FTW=3fff TOP=7"));
    g_assert_nonnull(strstr(s->str, "ST0=R7 4000 a000000000000000 vald 2.5\n"));
    g_assert_nonnull(strstr(s->str, "ST1=R0 0000 0000000000000000 empt 0\n"));
    g_string_free(s, TRUE);
}

static void test_state_table(void)
{
    X87State st, st2;
    GByteArray *out = g_byte_array_new();
    size_t used = 0;
    GError *err = NULL;
    static const StateDesc desc = {
        .name = "x87", .version = 1, .min_version = 1,
        .fields = x87_state_fields,
    };

    make_state(&st);
    state_save(&desc, &st, out);
    g_assert_cmpuint(out->len, ==, state_size(&desc, 1));
    memset(&st2, 0, sizeof(st2));
    g_assert_true(state_load(&desc, &st2, 1, out->data, out->len, &used,
                             &err));
    g_assert_no_error(err);
    x87_post_load(&st2);
    assert_same_state(&st, &st2);
    g_byte_array_unref(out);
}

/* ---- the fast path against the full-state path ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Normals of small and huge exponents, and every special class. */
static X87Reg random_reg(void)
{
    static const uint16_t exps[] = { 0x3fff, 0x4000, 0x3ffe, 0x401e, 0x0001,
                                     0x7ffe, 0x0000, 0x7fff, 0x3fbf, 0x43fe };
    uint64_t r = rng();
    X87Reg x;

    x.sexp = (uint16_t)(exps[r % G_N_ELEMENTS(exps)] | (r & 0x8000));
    x.mant = rng();
    switch ((r >> 16) % 8) {
    case 0:
        x.mant = 0; /* zero, infinity's unnormal twin */
        break;
    case 1:
        x.mant |= 1ull << 63;
        x.mant &= ~0xffffffffull; /* short significand: exact results */
        break;
    case 2:
        x.mant &= ~(1ull << 63); /* unnormal, denormal, pseudo-NaN */
        break;
    case 3:
        x.mant = 1ull << 63; /* power of two, infinity */
        break;
    default:
        x.mant |= 1ull << 63;
        break;
    }
    return x;
}

static void random_state(X87State *st)
{
    static const uint16_t cws[] = { 0x037f, 0x027f, 0x007f, 0x017f,
                                    0x077f, 0x0b7f, 0x0f7f, 0x0e7f, 0x0c3f };
    uint64_t r = rng();

    x87_reset(st);
    for (unsigned j = 0; j < 8; j++) {
        st->r[j] = random_reg();
    }
    st->fcw = cws[r % G_N_ELEMENTS(cws)];
    if ((r >> 8) % 8 == 0) {
        st->fcw &= (uint16_t)~(1u << ((r >> 12) % 6)); /* one unmasked */
    }
    st->fsw = (uint16_t)(rng() & 0x4700 & ~X87_SW_TOP);
    st->fsw |= (uint16_t)(((r >> 16) & 7) << X87_SW_TOP_SHIFT);
    st->fsw |= (uint16_t)((r >> 20) & 0x3f & st->fcw); /* masked flags */
    st->ftw = (uint16_t)rng();
    if ((r >> 28) & 1) {
        st->ftw &= 0x5555; /* mostly full */
    }
    x87_post_load(st);
}

static const uint8_t diff_ops[][2] = {
    { 0xd8, 0xc0 }, { 0xd8, 0xc8 }, { 0xd8, 0xd0 }, { 0xd8, 0xd8 },
    { 0xd8, 0xe0 }, { 0xd8, 0xe8 }, { 0xd8, 0xf0 }, { 0xd8, 0xf8 },
    { 0xdc, 0xc0 }, { 0xdc, 0xc8 }, { 0xdc, 0xe0 }, { 0xdc, 0xe8 },
    { 0xdc, 0xf0 }, { 0xdc, 0xf8 }, { 0xde, 0xc0 }, { 0xde, 0xc8 },
    { 0xde, 0xe0 }, { 0xde, 0xe8 }, { 0xde, 0xf0 }, { 0xde, 0xf8 },
    { 0xde, 0xd9 }, { 0xda, 0xe9 }, { 0xdd, 0xd0 }, { 0xdd, 0xd8 },
    { 0xdd, 0xe0 }, { 0xdd, 0xe8 }, { 0xd9, 0xc0 }, { 0xd9, 0xc8 },
    { 0xd9, 0xe0 }, { 0xd9, 0xe1 }, { 0xd9, 0xe4 }, { 0xd9, 0xe5 },
    { 0xd9, 0xe8 }, { 0xd9, 0xe9 }, { 0xd9, 0xea }, { 0xd9, 0xeb },
    { 0xd9, 0xec }, { 0xd9, 0xed }, { 0xd9, 0xee }, { 0xd9, 0xf0 },
    { 0xd9, 0xf1 }, { 0xd9, 0xf3 }, { 0xd9, 0xf4 }, { 0xd9, 0xf5 },
    { 0xd9, 0xf8 }, { 0xd9, 0xf9 }, { 0xd9, 0xfa }, { 0xd9, 0xfc },
    { 0xd9, 0xfd }, { 0xd9, 0xfe }, { 0xd9, 0xff }, { 0xd9, 0xf2 },
    { 0xd9, 0xfb }, { 0xdb, 0xe8 }, { 0xdb, 0xf0 }, { 0xdf, 0xe8 },
    { 0xdf, 0xf0 }, { 0xda, 0xc0 }, { 0xdb, 0xd8 }, { 0xdf, 0x20 },
    { 0xda, 0xc8 }, { 0xda, 0xd0 }, { 0xda, 0xd8 }, { 0xdb, 0xc0 },
    { 0xdb, 0xc8 }, { 0xdb, 0xd0 },
    { 0xdf, 0x30 }, { 0xdd, 0xc0 }, { 0xdf, 0xc0 },
    /* memory forms (ModRM reg field only) */
    { 0xd8, 0x00 }, { 0xd8, 0x08 }, { 0xd8, 0x10 }, { 0xd8, 0x18 },
    { 0xd8, 0x20 }, { 0xd8, 0x28 }, { 0xd8, 0x30 }, { 0xd8, 0x38 },
    { 0xdc, 0x00 }, { 0xdc, 0x18 }, { 0xdc, 0x28 }, { 0xdc, 0x38 },
    { 0xda, 0x00 }, { 0xda, 0x10 }, { 0xda, 0x30 }, { 0xde, 0x08 },
    { 0xde, 0x18 }, { 0xde, 0x20 }, { 0xd9, 0x00 }, { 0xdd, 0x00 },
    { 0xdb, 0x00 }, { 0xdb, 0x28 }, { 0xdf, 0x00 }, { 0xdf, 0x28 },
    { 0xd9, 0x10 }, { 0xd9, 0x18 }, { 0xdd, 0x10 }, { 0xdd, 0x18 },
    { 0xdb, 0x10 }, { 0xdb, 0x18 }, { 0xdb, 0x38 }, { 0xdf, 0x10 },
    { 0xdf, 0x18 }, { 0xdf, 0x38 },
};

/* The host's x87 stack must be left empty (the ABI relies on it). */
static void assert_host_fpu_clean(void)
{
    uint8_t env[28];

    __asm__ volatile("fnstenv %0\n\tfldcw %0" : "=m"(env));
    g_assert_cmphex(env[8] | env[9] << 8, ==, 0xffff);
    g_assert_cmphex(env[0] | env[1] << 8, ==, 0x037f);
}

static void test_fast_vs_full(void)
{
    for (unsigned n = 0; n < 40000; n++) {
        unsigned k = (unsigned)(rng() % G_N_ELEMENTS(diff_ops));
        uint8_t op = diff_ops[k][0], modrm = diff_ops[k][1];
        X87State a, b;
        X87Mem slow = xmem, fast = xmem;
        uint8_t operand[10], out_a[16], out_b[16];
        uint64_t r = rng();
        uint32_t fa = (uint32_t)(r >> 32) & 0x8d5, fb = fa;
        X87Reg m = random_reg();

        if (modrm >= 0xc0 && (modrm & 7) == 0 &&
            !(op == 0xd9 && modrm >= 0xd0)) {
            modrm = (uint8_t)(modrm | ((r >> 40) % 8)); /* ST(i) */
        }
        /* operand: random bits or a random extended value */
        memcpy(operand, &r, 8);
        operand[8] = (uint8_t)m.sexp;
        operand[9] = (uint8_t)(m.sexp >> 8);
        if ((r & 3) == 0) {
            memcpy(operand, &m.mant, 8);
        }
        random_state(&a);
        if ((r >> 50) % 8 == 0) { /* pending, run under IGNNE# */
            a.fsw |= X87_SW_ES | X87_SW_B;
        }
        b = a;
        fast.flags |= X87_MEM_IGNNE;
        slow.flags |= X87_MEM_SLOW | X87_MEM_IGNNE;

        memset(tmem.bytes + EA, 0xdb, 16);
        memcpy(tmem.bytes + EA, operand, 10);
        g_assert_cmpint(x87_exec(&a, op, modrm, &fast, EA, NULL, &fa), ==,
                        X87_OK);
        assert_host_fpu_clean();
        memcpy(out_a, tmem.bytes + EA, 16);
        memset(tmem.bytes + EA, 0xdb, 16);
        memcpy(tmem.bytes + EA, operand, 10);
        g_assert_cmpint(x87_exec(&b, op, modrm, &slow, EA, NULL, &fb), ==,
                        X87_OK);
        assert_host_fpu_clean();
        memcpy(out_b, tmem.bytes + EA, 16);
        if (memcmp(out_a, out_b, 16) != 0 || a.fsw != b.fsw) {
            g_test_message("op %02x %02x cw %04x sw %04x/%04x", op, modrm,
                           a.fcw, a.fsw, b.fsw);
        }
        g_assert_cmpmem(out_a, 16, out_b, 16);
        g_assert_cmphex(fa, ==, fb);
        assert_same_state(&a, &b);
    }
}

/* Our FNSAVE image (32-bit protected mode) against the host's own: the
 * host recomputes the tags from the register contents as a P6 does. */
static void test_fsave_vs_host(void)
{
    for (unsigned n = 0; n < 2000; n++) {
        X87State st;
        uint8_t mine[108], host[108];
        uint16_t hcw = 0;

        random_state(&st);
        st.fsw &= (uint16_t)~(0x3f | X87_SW_ES | X87_SW_B);
        st.fcw |= 0x3f;
        g_assert_cmpint(x87_exec(&st, 0xdd, 0x30, &xmem, EA, NULL, NULL),
                        ==, X87_OK);
        memcpy(mine, tmem.bytes + EA, 108);
        memcpy(host, mine, 108);
        __asm__ volatile("fnstcw %1\n\t"
                         "frstor %0\n\t"
                         "fnsave %0\n\t"
                         "fldcw %1"
                         : "+m"(host), "+m"(hcw));
        g_assert_cmpmem(mine, 12, host, 12);   /* CW, SW, TW */
        g_assert_cmpmem(mine + 28, 80, host + 28, 80);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu/x87/reset", test_reset);
    g_test_add_func("/cpu/x87/arith", test_arith);
    g_test_add_func("/cpu/x87/mem-operands", test_mem_operands);
    g_test_add_func("/cpu/x87/precision-rounding", test_precision_rounding);
    g_test_add_func("/cpu/x87/stack-faults", test_stack_faults);
    g_test_add_func("/cpu/x87/fxam", test_fxam);
    g_test_add_func("/cpu/x87/compare", test_compare);
    g_test_add_func("/cpu/x87/fcmov", test_fcmov);
    g_test_add_func("/cpu/x87/bcd", test_bcd);
    g_test_add_func("/cpu/x87/fsave-layout", test_fsave_layout);
    g_test_add_func("/cpu/x87/fldenv-es", test_fldenv_es);
    g_test_add_func("/cpu/x87/fxsave", test_fxsave);
    g_test_add_func("/cpu/x87/transcendental", test_transcendental);
    g_test_add_func("/cpu/x87/exact-ops", test_exact_ops);
    g_test_add_func("/cpu/x87/exceptions", test_exceptions);
    g_test_add_func("/cpu/x87/pointers", test_pointers);
    g_test_add_func("/cpu/x87/sticky-flags", test_sticky_flags);
    g_test_add_func("/cpu/x87/invalid", test_invalid);
    g_test_add_func("/cpu/x87/aliases", test_aliases);
    g_test_add_func("/cpu/x87/control", test_control);
    g_test_add_func("/cpu/x87/restart", test_restart);
    g_test_add_func("/cpu/x87/state-table", test_state_table);
    g_test_add_func("/cpu/x87/dump", test_dump);
    g_test_add_func("/cpu/x87/fsave-vs-host", test_fsave_vs_host);
    g_test_add_func("/cpu/x87/fast-vs-full", test_fast_vs_full);
    return g_test_run();
}
