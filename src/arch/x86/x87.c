/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x87 FPU execution unit (P6 class): every D8..DF escape instruction.
 *
 * Specification: Intel SDM Vol. 1 ch. 8 (x87 FPU: stack, tags, exception
 * handling, FSTENV/FSAVE layouts in figures 8-9 to 8-12), Vol. 2 (the
 * instruction pages), Vol. 3A table 9-1 (reset values), Vol. 2 FXSAVE.
 *
 * How the arithmetic is done: on the host's own x87.  This file needs an
 * x86 host (x86-64 or i386) and does not build elsewhere.  For each
 * computational instruction the guest's whole x87 state is put into an
 * FSAVE image, with the guest's control word (precision, rounding and
 * exception masks) unchanged, and loaded into the host FPU with FRSTOR; the
 * host then executes the very same escape opcode and ModRM (register forms
 * verbatim, undocumented aliases mapped to their documented twins, memory
 * forms re-encoded as [eax]/[rax] pointing at a buffer that holds the
 * operand the CPU fetched), and FNSAVE takes the whole state back.  So
 * results, rounding, precision control, denormals, the condition codes,
 * C1, TOP, the tags, stack overflow/underflow, masked and unmasked
 * responses (the re-biased exponent of an unmasked overflow, the operands
 * left alone on an unmasked invalid operation) and the transcendentals
 * are those of real hardware, bit for bit, with no model of ours in
 * between (of the host's hardware, that is: an AMD or a recent Intel FPU
 * may differ from a Pentium II in the last bit of a transcendental).  FCMOVcc and FCOMI run with the guest's CF/ZF/PF loaded into
 * and read back from the host's EFLAGS around the instruction.
 *
 * The guest's exception masks are kept rather than all masked on the
 * host, because the unmasked responses are part of what must be exact.
 * Still, a host FP exception never traps.  The image loaded by FRSTOR has the
 * exception flags, SF, ES and B cleared, so nothing is pending when the
 * guest's instruction (a waiting instruction) runs.  If that instruction
 * raises an exception the guest has unmasked, the host only sets ES: x87
 * exceptions are delivered at the next *waiting* x87 instruction, and the
 * only instruction that follows is FNSAVE, which is non-waiting and
 * re-initialises the FPU (all exceptions masked, nothing pending) before
 * the host's control word is restored.  The guest's sticky flags are then
 * merged back into its status word.
 *
 * Control instructions that depend on the guest's mode or memory layout
 * (FLDENV, FSTENV, FRSTOR, FSAVE, FLDCW, FSTCW, FSTSW, FCLEX, FINIT) and
 * FFREEP are done here in C.
 *
 * The full-state path costs an FRSTOR/FNSAVE pair.  The common case (all
 * exceptions masked, operands present, no overflow) takes a fast path that
 * loads only the one or two operand registers onto an empty host stack
 * under the guest's control word; it keeps TOP and the tags itself and
 * must agree bit for bit with the full-state path, which the tests check
 * on random states (the full path is the oracle, X87_MEM_SLOW forces it).
 */
#include <stddef.h>
#include <string.h>

#include "arch/x86/le.h"
#include "arch/x86/x87.h"

#if !defined(__x86_64__) && !defined(__i386__)
#error "x87.c executes guest x87 instructions on the host FPU: x86 host only"
#endif

/* ---- host stubs: one per escape opcode and ModRM, "op modrm; ret" ---- */

#if defined(__x86_64__)
#define X87_SP "%%rsp"
#define X87_REDZONE "128"
#else
#define X87_SP "%%esp"
#define X87_REDZONE "0"
#endif
#define X87_STUB_SIZE 8

/*
 * 8 x 256 stubs of 8 bytes: ENDBR, the escape opcode, ModRM, RET, INT3.
 * A ModRM with mod 00 and r/m 000 addresses [rax] ([eax] on i386); only
 * those memory encodings are ever called.
 */
__asm__(".pushsection .text\n"
        ".balign 16\n"
        ".globl mimic_x87_stubs\n"
        ".hidden mimic_x87_stubs\n"
        "mimic_x87_stubs:\n"
        ".irp op,0xd8,0xd9,0xda,0xdb,0xdc,0xdd,0xde,0xdf\n"
        ".irp hi,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        ".irp lo,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
#if defined(__x86_64__)
        ".byte 0xf3,0x0f,0x1e,0xfa\n"
#else
        ".byte 0xf3,0x0f,0x1e,0xfb\n"
#endif
        ".byte \\op,(\\hi*16+\\lo),0xc3,0xcc\n"
        ".endr\n"
        ".endr\n"
        ".endr\n"
        ".popsection\n");
extern const uint8_t mimic_x87_stubs[];

/* 32-bit protected-mode FSAVE image, as the host's FNSAVE/FRSTOR use it. */
#define HOST_IMG_SIZE 108
#define EFLAGS_ARITH 0x8d5u

/*
 * Everything the host sequences need, reached through one base register
 * (the other is EAX/RAX, the memory operand of the stub), so that they
 * also fit the register file of an i386 host.
 */
typedef struct X87HostCall {
    const uint8_t *stub;
    uint8_t *img;        /* full path: FSAVE image, in and out */
    const uint8_t *in;   /* fast path: operands, in[0] goes to ST0 */
    uint8_t *out;        /* fast path: what is left, from ST0 up */
    unsigned long nin;
    unsigned long nout;
    unsigned long wf;    /* nonzero: EFLAGS in and out */
    unsigned long flags; /* guest CF PF AF ZF SF OF in, the host's out */
    unsigned long keep;  /* ~EFLAGS_ARITH */
    uint16_t hcw;        /* the host's control word, restored at the end */
    uint16_t gcw;        /* fast path: the guest's */
    uint16_t sw;         /* fast path: status word after the instruction */
    /* Fast path: the host's sticky exception flags may stay set between
       instructions as long as the guest's hold them too (they are ORed
       into the guest's); ginv = the flags the guest does not have: an
       FNCLEX first only if the host has one of them.  ldcw: the guest's
       control word differs from the host's (FLDCW before and after);
       clr_end: the host's unmasks an exception (FNCLEX at the end). */
    uint16_t ginv;
    unsigned long ldcw;
    unsigned long clr_end;
} X87HostCall;

#define HC_OFF(f) [f] "i"(offsetof(X87HostCall, f))

#if defined(__x86_64__)
#define X87_CX "%%rcx"
#else
#define X87_CX "%%ecx"
#endif

/*
 * With c->wf: load the guest's arithmetic flags into EFLAGS, run the stub,
 * read EFLAGS back.  Clobbers CX.  The stack pointer has already been
 * moved past the red zone.
 */
#define X87_CALL_STUB                                                       \
    "cmp" X87_SUFFIX " $0, %c[wf](%[c])\n\t"                                \
    "je 5f\n\t"                                                             \
    "pushf\n\t"                                                             \
    "mov %c[keep](%[c]), " X87_CX "\n\t"                                    \
    "and " X87_CX ", (" X87_SP ")\n\t"                                      \
    "mov %c[flags](%[c]), " X87_CX "\n\t"                                   \
    "or " X87_CX ", (" X87_SP ")\n\t"                                       \
    "popf\n\t"                                                              \
    "call *%c[stub](%[c])\n\t"                                              \
    "pushf\n\t"                                                             \
    "pop " X87_CX "\n\t"                                                    \
    "mov " X87_CX ", %c[flags](%[c])\n\t"                                   \
    "jmp 6f\n"                                                              \
    "5:\n\t"                                                                \
    "call *%c[stub](%[c])\n"                                                 \
    "6:\n\t"

#if defined(__x86_64__)
#define X87_SUFFIX "q"
#else
#define X87_SUFFIX "l"
#endif

/*
 * Full path: load c->img into the host FPU, run the stub, save the FPU
 * back to c->img.  FNSAVE is non-waiting and re-initialises the FPU, so a
 * guest exception the instruction raised never reaches the host.
 */
static void x87_host_run(X87HostCall *c, void *buf)
{
    __asm__ volatile("lea -" X87_REDZONE "(" X87_SP "), " X87_SP "\n\t"
                     "fnstcw %c[hcw](%[c])\n\t"
                     "fnclex\n\t"
                     "mov %c[img](%[c]), " X87_CX "\n\t"
                     "frstor (" X87_CX ")\n\t"
                     X87_CALL_STUB
                     "mov %c[img](%[c]), " X87_CX "\n\t"
                     "fnsave (" X87_CX ")\n\t"
                     "fldcw %c[hcw](%[c])\n\t"
                     "lea " X87_REDZONE "(" X87_SP "), " X87_SP "\n\t"
                     :
                     : [c] "r"(c), "a"(buf), HC_OFF(stub), HC_OFF(img),
                       HC_OFF(wf), HC_OFF(flags), HC_OFF(keep), HC_OFF(hcw)
                     : "memory", "cc", "ecx", "st", "st(1)", "st(2)",
                       "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
}

/* ---- little-endian helpers ---- */

static X87Reg get_reg80(const uint8_t *p)
{
    X87Reg r;

    r.mant = (uint64_t)le_get32(p) | (uint64_t)le_get32(p + 4) << 32;
    r.sexp = le_get16(p + 8);
    return r;
}

static void put_reg80(uint8_t *p, X87Reg r)
{
    le_put32(p, (uint32_t)r.mant);
    le_put32(p + 4, (uint32_t)(r.mant >> 32));
    le_put16(p + 8, r.sexp);
}

/* ---- registers and tags ---- */

unsigned x87_top(const X87State *st)
{
    return (st->fsw & X87_SW_TOP) >> X87_SW_TOP_SHIFT;
}

X87Reg x87_get_st(const X87State *st, unsigned i)
{
    return st->r[(x87_top(st) + i) & 7];
}

unsigned x87_classify_tag(X87Reg r)
{
    unsigned exp = r.sexp & 0x7fff;

    if (exp == 0) {
        return r.mant == 0 ? X87_TAG_ZERO : X87_TAG_SPECIAL;
    }
    if (exp == 0x7fff || !(r.mant >> 63)) {
        return X87_TAG_SPECIAL; /* NaN, infinity, unnormal */
    }
    return X87_TAG_VALID;
}

/* Full tags from the empty/non-empty information and the contents. */
static uint16_t x87_full_tags(const X87State *st, uint16_t ftw)
{
    uint16_t out = 0;

    for (unsigned j = 0; j < 8; j++) {
        unsigned t = (ftw >> (2 * j)) & 3;

        if (t != X87_TAG_EMPTY) {
            t = x87_classify_tag(st->r[j]);
        }
        out |= (uint16_t)(t << (2 * j));
    }
    return out;
}

/* FLDCW keeps the bits the P6 implements; bit 6 reads as 1. */
static uint16_t x87_cw_sanitize(uint16_t cw)
{
    return (uint16_t)((cw & 0x1f3f) | 0x0040);
}

/* ES and B follow the unmasked flags (FLDCW, FLDENV, FRSTOR). */
static void x87_update_es(X87State *st)
{
    if (st->fsw & ~st->fcw & 0x3f) {
        st->fsw |= X87_SW_ES | X87_SW_B;
    } else {
        st->fsw &= (uint16_t)~(X87_SW_ES | X87_SW_B);
    }
}

bool x87_pending_exception(const X87State *st)
{
    return (st->fsw & X87_SW_ES) != 0;
}

void x87_finit(X87State *st)
{
    st->fcw = 0x037f;
    st->fsw = 0;
    st->ftw = 0xffff;
    st->fop = 0;
    st->fip = 0;
    st->fdp = 0;
    st->fcs = 0;
    st->fds = 0;
}

void x87_reset(X87State *st)
{
    memset(st, 0, sizeof(*st));
    st->fcw = 0x0040;
    st->ftw = 0x5555;
    st->mxcsr = 0x1f80;
}

void x87_dump(const X87State *st, GString *out)
{
    static const char tag_names[4][5] = { "vald", "zero", "spec", "empt" };
    unsigned top = x87_top(st);

    g_string_append_printf(out,
                           "FCW=%04x FSW=%04x FTW=%04x TOP=%u FOP=%03x "
                           "FIP=%04x:%08x FDP=%04x:%08x\n",
                           st->fcw, st->fsw, st->ftw, top, st->fop, st->fcs,
                           st->fip, st->fds, st->fdp);
    for (unsigned i = 0; i < 8; i++) {
        unsigned phys = (top + i) & 7;
        X87Reg r = st->r[phys];
        long double v = 0;

        /* the host's long double is the same 80-bit format */
        memcpy(&v, &r.mant, 8);
        memcpy((uint8_t *)&v + 8, &r.sexp, 2);
        g_string_append_printf(out, "ST%u=R%u %04x %016llx %s %.20Lg\n", i,
                               phys, r.sexp, (unsigned long long)r.mant,
                               tag_names[(st->ftw >> (2 * phys)) & 3], v);
    }
}

void x87_post_load(X87State *st)
{
    st->fcw = x87_cw_sanitize(st->fcw);
    st->ftw = x87_full_tags(st, st->ftw);
    st->fop &= 0x7ff;
}

static const StateField x87_reg_fields[] = {
    STATE_U64(X87Reg, mant),
    STATE_U16(X87Reg, sexp),
    STATE_END,
};

const StateField x87_state_fields[] = {
    STATE_U16(X87State, fcw),
    STATE_U16(X87State, fsw),
    STATE_U16(X87State, ftw),
    STATE_U16(X87State, fop),
    STATE_U32(X87State, fip),
    STATE_U32(X87State, fdp),
    STATE_U16(X87State, fcs),
    STATE_U16(X87State, fds),
    STATE_U32(X87State, mxcsr),
    STATE_STRUCT_ARRAY(X87State, r, 8, x87_reg_fields),
    STATE_END,
};

/* ---- decoding ---- */

typedef enum {
    K_UD = 0,
    K_HOST,       /* register form run on the host */
    K_HOST_LOAD,  /* memory operand read, then run on the host */
    K_HOST_STORE, /* run on the host, then memory operand written */
    K_FCOMI,      /* K_HOST that writes EFLAGS */
    K_FCMOV,      /* K_HOST that reads EFLAGS */
    K_FFREEP,
    K_LDENV,
    K_LDCW,
    K_STENV,
    K_STCW,
    K_RSTOR,
    K_SAVE,
    K_STSW_M,
    K_STSW_AX,
    K_CLEX,
    K_INIT,
    K_LEGACY_NOP, /* FENI, FDISI, FSETPM: ignored since the 387 */
} X87Kind;

typedef struct X87Decoded {
    X87Kind kind;
    unsigned len;   /* memory operand bytes */
    uint8_t hop;    /* opcode and ModRM the host runs */
    uint8_t hmodrm;
} X87Decoded;

/* Memory forms by escape (low 3 bits) and reg field: kind, operand size. */
static const struct {
    uint8_t kind;
    uint8_t len;
} x87_mem_forms[8][8] = {
    /* D8: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR m32fp */
    { { K_HOST_LOAD, 4 }, { K_HOST_LOAD, 4 }, { K_HOST_LOAD, 4 },
      { K_HOST_LOAD, 4 }, { K_HOST_LOAD, 4 }, { K_HOST_LOAD, 4 },
      { K_HOST_LOAD, 4 }, { K_HOST_LOAD, 4 } },
    /* D9: FLD m32, -, FST m32, FSTP m32, FLDENV, FLDCW, FNSTENV, FNSTCW */
    { { K_HOST_LOAD, 4 }, { K_UD, 0 }, { K_HOST_STORE, 4 },
      { K_HOST_STORE, 4 }, { K_LDENV, 0 }, { K_LDCW, 2 }, { K_STENV, 0 },
      { K_STCW, 2 } },
    /* DA: FIADD FIMUL FICOM FICOMP FISUB FISUBR FIDIV FIDIVR m32int */
    { { K_HOST_LOAD, 4 }, { K_HOST_LOAD, 4 }, { K_HOST_LOAD, 4 },
      { K_HOST_LOAD, 4 }, { K_HOST_LOAD, 4 }, { K_HOST_LOAD, 4 },
      { K_HOST_LOAD, 4 }, { K_HOST_LOAD, 4 } },
    /* DB: FILD m32, FISTTP (SSE3), FIST m32, FISTP m32, -, FLD m80, -,
     * FSTP m80 */
    { { K_HOST_LOAD, 4 }, { K_UD, 0 }, { K_HOST_STORE, 4 },
      { K_HOST_STORE, 4 }, { K_UD, 0 }, { K_HOST_LOAD, 10 }, { K_UD, 0 },
      { K_HOST_STORE, 10 } },
    /* DC: arithmetic m64fp */
    { { K_HOST_LOAD, 8 }, { K_HOST_LOAD, 8 }, { K_HOST_LOAD, 8 },
      { K_HOST_LOAD, 8 }, { K_HOST_LOAD, 8 }, { K_HOST_LOAD, 8 },
      { K_HOST_LOAD, 8 }, { K_HOST_LOAD, 8 } },
    /* DD: FLD m64, FISTTP (SSE3), FST m64, FSTP m64, FRSTOR, -, FNSAVE,
     * FNSTSW m16 */
    { { K_HOST_LOAD, 8 }, { K_UD, 0 }, { K_HOST_STORE, 8 },
      { K_HOST_STORE, 8 }, { K_RSTOR, 0 }, { K_UD, 0 }, { K_SAVE, 0 },
      { K_STSW_M, 2 } },
    /* DE: arithmetic m16int */
    { { K_HOST_LOAD, 2 }, { K_HOST_LOAD, 2 }, { K_HOST_LOAD, 2 },
      { K_HOST_LOAD, 2 }, { K_HOST_LOAD, 2 }, { K_HOST_LOAD, 2 },
      { K_HOST_LOAD, 2 }, { K_HOST_LOAD, 2 } },
    /* DF: FILD m16, FISTTP (SSE3), FIST m16, FISTP m16, FBLD, FILD m64,
     * FBSTP, FISTP m64 */
    { { K_HOST_LOAD, 2 }, { K_UD, 0 }, { K_HOST_STORE, 2 },
      { K_HOST_STORE, 2 }, { K_HOST_LOAD, 10 }, { K_HOST_LOAD, 8 },
      { K_HOST_STORE, 10 }, { K_HOST_STORE, 8 } },
};

static bool x87_decode(uint8_t opcode, uint8_t modrm, X87Decoded *d)
{
    unsigned esc = opcode & 7;
    unsigned reg = (modrm >> 3) & 7;
    unsigned i = modrm & 7;

    d->hop = opcode;
    d->hmodrm = modrm;
    d->len = 0;
    d->kind = K_UD;
    if (opcode < 0xd8) {
        return false;
    }
    if (modrm < 0xc0) {
        d->kind = x87_mem_forms[esc][reg].kind;
        d->len = x87_mem_forms[esc][reg].len;
        d->hmodrm = (uint8_t)(reg << 3); /* [eax] / [rax] */
        return d->kind != K_UD;
    }
    d->kind = K_HOST;
    switch (esc) {
    case 0: /* D8: all eight arithmetic/compare rows */
        return true;
    case 1: /* D9 */
        switch (reg) {
        case 0: /* FLD ST(i) */
        case 1: /* FXCH */
            return true;
        case 2:
            return modrm == 0xd0; /* FNOP */
        case 3: /* FSTP1 alias */
            d->hop = 0xdd;
            d->hmodrm = (uint8_t)(0xd8 + i);
            return true;
        case 4: /* FCHS FABS - - FTST FXAM - - */
            return i == 0 || i == 1 || i == 4 || i == 5;
        case 5: /* constants */
            return i != 7;
        default: /* F0..FF: all defined */
            return true;
        }
    case 2: /* DA */
        if (reg < 4) {
            d->kind = K_FCMOV;
            return true;
        }
        return modrm == 0xe9; /* FUCOMPP */
    case 3: /* DB */
        if (reg < 4) {
            d->kind = K_FCMOV;
            return true;
        }
        if (reg == 5 || reg == 6) {
            d->kind = K_FCOMI; /* FUCOMI, FCOMI */
            return true;
        }
        if (reg == 4) {
            switch (i) {
            case 0: /* FENI */
            case 1: /* FDISI */
            case 4: /* FSETPM */
                d->kind = K_LEGACY_NOP;
                return true;
            case 2:
                d->kind = K_CLEX;
                return true;
            case 3:
                d->kind = K_INIT;
                return true;
            default:
                break;
            }
        }
        d->kind = K_UD;
        return false;
    case 4: /* DC */
        if (reg == 2 || reg == 3) { /* FCOM2/FCOMP3 aliases */
            d->hop = 0xd8;
        }
        return true;
    case 5: /* DD */
        if (reg == 1) { /* FXCH4 alias */
            d->hop = 0xd9;
            return true;
        }
        if (reg >= 6) {
            d->kind = K_UD;
            return false;
        }
        return true; /* FFREE FST FSTP FUCOM FUCOMP */
    case 6: /* DE */
        if (reg == 2) { /* FCOMP5 alias */
            d->hop = 0xd8;
            d->hmodrm = (uint8_t)(0xd8 + i);
            return true;
        }
        if (reg == 3) {
            if (modrm == 0xd9) {
                return true; /* FCOMPP */
            }
            d->kind = K_UD;
            return false;
        }
        return true;
    default: /* DF */
        switch (reg) {
        case 0:
            d->kind = K_FFREEP;
            return true;
        case 1: /* FXCH7 alias */
            d->hop = 0xd9;
            return true;
        case 2: /* FSTP8, FSTP9 aliases */
        case 3:
            d->hop = 0xdd;
            d->hmodrm = (uint8_t)(0xd8 + i);
            return true;
        case 4:
            if (i == 0) {
                d->kind = K_STSW_AX;
                return true;
            }
            d->kind = K_UD;
            return false;
        case 5: /* FUCOMIP */
        case 6: /* FCOMIP */
            d->kind = K_FCOMI;
            return true;
        default:
            d->kind = K_UD;
            return false;
        }
    }
}

static bool x87_kind_nowait(X87Kind k)
{
    switch (k) {
    case K_STENV:
    case K_STCW:
    case K_SAVE:
    case K_STSW_M:
    case K_STSW_AX:
    case K_CLEX:
    case K_INIT:
    case K_LEGACY_NOP:
        return true;
    default:
        return false;
    }
}

unsigned x87_eflags_use(uint8_t opcode, uint8_t modrm)
{
    X87Decoded d;

    if (!x87_decode(opcode, modrm, &d)) {
        return 0;
    }
    if (d.kind == K_FCMOV) {
        return X87_EFLAGS_READ;
    }
    if (d.kind == K_FCOMI) {
        return X87_EFLAGS_WRITE;
    }
    return 0;
}

bool x87_is_nowait(uint8_t opcode, uint8_t modrm)
{
    X87Decoded d;

    return x87_decode(opcode, modrm, &d) && x87_kind_nowait(d.kind);
}

/* ---- computational instructions on the host ---- */

/*
 * Run d on the host against st, leaving the result in *ns.  buf holds the
 * memory operand (in and out).  Returns false if an unmasked exception
 * suppressed the store of a memory destination.
 */
static bool x87_run(const X87State *st, X87State *ns, const X87Decoded *d,
                    uint8_t *buf, uint32_t *eflags)
{
    uint8_t img[HOST_IMG_SIZE];
    unsigned top = x87_top(st);
    X87HostCall c = {
        .stub = mimic_x87_stubs +
                ((d->hop & 7) * 256u + d->hmodrm) * X87_STUB_SIZE,
        .img = img,
        .wf = d->kind == K_FCOMI || d->kind == K_FCMOV,
        .flags = eflags ? (*eflags & EFLAGS_ARITH) : 0,
        .keep = ~(unsigned long)EFLAGS_ARITH,
    };
    uint16_t hsw, raised;

    memset(img, 0, sizeof(img));
    le_put16(img + 0, st->fcw);
    le_put16(img + 4, st->fsw & (uint16_t)~(0x7f | X87_SW_ES | X87_SW_B));
    le_put16(img + 8, st->ftw);
    for (unsigned i = 0; i < 8; i++) {
        put_reg80(img + 28 + 10 * i, st->r[(top + i) & 7]);
    }

    x87_host_run(&c, buf);

    *ns = *st;
    hsw = le_get16(img + 4);
    raised = hsw & 0x7f;
    ns->fsw = (uint16_t)((hsw & ~(X87_SW_ES | X87_SW_B)) | (st->fsw & 0x7f));
    if ((st->fsw & X87_SW_ES) || (raised & ~st->fcw & 0x3f)) {
        ns->fsw |= X87_SW_ES | X87_SW_B;
    }
    ns->ftw = le_get16(img + 8);
    top = (hsw & X87_SW_TOP) >> X87_SW_TOP_SHIFT;
    for (unsigned i = 0; i < 8; i++) {
        ns->r[(top + i) & 7] = get_reg80(img + 28 + 10 * i);
    }
    if (d->kind == K_FCOMI && eflags) {
        *eflags = (*eflags & ~EFLAGS_ARITH) |
                  ((uint32_t)c.flags & EFLAGS_ARITH);
    }
    /* An unmasked exception other than precision cancels the store. */
    return !(raised & ~st->fcw & 0x1f);
}

/* ---- the fast path: only the operands go to the host ---- */

/*
 * With every exception masked (the common case) and no stack fault
 * possible, the instructions below need only one or two registers: they
 * are loaded onto an empty host stack with the guest's control word, the
 * instruction runs with ST(i) re-encoded as ST(1), and what is left on the
 * host stack is stored back.  TOP and the tags are done here; C1 and the
 * exception flags come from the host, C0/C2/C3 too for the compares and
 * are otherwise left alone (as the full-state path shows the hardware
 * does; tests/cpu/test-x87.c compares the two paths on random states).
 */

#define FAST_NONE 127 /* discard this host output */

typedef struct X87FastPlan {
    uint8_t nin, nout;
    int8_t in[2];     /* guest ST index loaded as host ST0, ST1 */
    int8_t out[2];    /* guest ST index (old TOP) host ST0, ST1 go to */
    int8_t pops;      /* -1: a push */
    bool cmp;         /* C0, C2, C3 are results */
    bool c2;          /* C2 is a result (FSIN, FCOS: operand out of range) */
    uint8_t wf;       /* 1: reads EFLAGS (FCMOV), 2: and writes (FCOMI) */
    bool c1_kept;     /* C1 only changes on a stack fault (FCMOV, FCOMI) */
    uint8_t hmodrm;   /* re-encoded register form */
} X87FastPlan;

static bool x87_fast_plan(uint8_t opcode, uint8_t modrm, X87FastPlan *p)
{
    unsigned reg = (modrm >> 3) & 7, i = modrm & 7;
    bool mem = modrm < 0xc0;

    memset(p, 0, sizeof(*p));
    p->in[0] = 0;
    p->in[1] = (int8_t)i;
    p->out[0] = p->out[1] = FAST_NONE;
    p->hmodrm = mem ? (uint8_t)(reg << 3) : (uint8_t)((modrm & 0xf8) | 1);

    if (mem) {
        switch (opcode) {
        case 0xd8: case 0xda: case 0xdc: case 0xde: /* arith, compare m */
            p->nin = 1;
            if (reg == 2 || reg == 3) {
                p->cmp = true;
                p->nout = reg == 2;
                p->pops = reg == 3;
            } else {
                p->nout = 1;
                p->out[0] = 0;
            }
            return true;
        case 0xd9: case 0xdd: case 0xdb: case 0xdf:
            if (reg == 0 || (opcode == 0xdb && reg == 5) ||
                (opcode == 0xdf && reg == 5)) { /* FLD, FILD */
                p->nout = 1;
                p->out[0] = -1;
                p->pops = -1;
                return true;
            }
            if (reg == 2 || reg == 3 || (reg == 7 && opcode != 0xd9 &&
                                         opcode != 0xdd)) {
                /* FST(P) m32/m64/m80, FIST(P) m16/m32/m64 */
                bool pop = reg != 2;

                p->nin = 1;
                p->nout = !pop;
                p->pops = pop;
                return true;
            }
            return false;
        default:
            return false;
        }
    }
    switch (opcode) {
    case 0xd8: /* ST0 op STi */
        p->nin = 2;
        if (reg == 2 || reg == 3) {
            p->cmp = true;
            p->nout = reg == 2 ? 2 : 1;
            p->pops = reg == 3;
        } else {
            p->nout = 2;
            p->out[0] = 0;
        }
        return true;
    case 0xdc: /* STi op ST0 */
        if (reg == 2 || reg == 3) {
            return false;
        }
        p->nin = 2;
        p->nout = 2;
        p->out[1] = (int8_t)i;
        return true;
    case 0xde: /* STi op ST0, pop */
        if (reg == 2) {
            return false;
        }
        p->nin = 2;
        if (reg == 3) {
            if (i != 1) {
                return false;
            }
            p->cmp = true; /* FCOMPP */
            p->pops = 2;
            return true;
        }
        p->nout = 1;
        p->out[0] = (int8_t)i;
        p->pops = 1;
        return true;
    case 0xdd:
        if (reg == 2 || reg == 3) { /* FST, FSTP ST(i) */
            p->nin = 2;
            if (reg == 2) {
                p->nout = 2;
                p->out[1] = (int8_t)i;
            } else {
                p->nout = 1;
                p->out[0] = (int8_t)i;
                p->pops = 1;
            }
            return true;
        }
        if (reg == 4 || reg == 5) { /* FUCOM, FUCOMP */
            p->nin = 2;
            p->cmp = true;
            p->nout = reg == 4 ? 2 : 1;
            p->pops = reg == 5;
            return true;
        }
        return false;
    case 0xda:
    case 0xdb:
        if (reg < 4) { /* FCMOVcc */
            p->nin = 2;
            p->nout = 2;
            p->out[0] = 0;
            p->wf = 1;
            p->c1_kept = true;
            return true;
        }
        if (opcode == 0xdb && (reg == 5 || reg == 6)) { /* FUCOMI, FCOMI */
            p->nin = 2;
            p->nout = 2;
            p->wf = 2;
            p->c1_kept = true;
            return true;
        }
        if (modrm == 0xe9) { /* FUCOMPP */
            p->nin = 2;
            p->cmp = true;
            p->pops = 2;
            return true;
        }
        return false;
    case 0xdf:
        if (reg == 5 || reg == 6) { /* FUCOMIP, FCOMIP */
            p->nin = 2;
            p->nout = 1;
            p->pops = 1;
            p->wf = 2;
            p->c1_kept = true;
            return true;
        }
        return false;
    case 0xd9:
        if (reg == 0) { /* FLD ST(i): host FLD ST(0) of a copy */
            p->nin = 1;
            p->in[0] = (int8_t)i;
            p->nout = 2;
            p->out[0] = -1;
            p->pops = -1;
            p->hmodrm = 0xc0;
            return true;
        }
        if (reg == 1) { /* FXCH */
            p->nin = 2;
            p->nout = 2;
            p->out[0] = 0;
            p->out[1] = (int8_t)i;
            return true;
        }
        p->hmodrm = modrm;
        switch (modrm) {
        case 0xe0: /* FCHS */
        case 0xe1: /* FABS */
            p->nin = 1;
            p->nout = 1;
            p->out[0] = 0;
            return true;
        case 0xe4: /* FTST */
        case 0xe5: /* FXAM */
            p->nin = 1;
            p->nout = 1;
            p->cmp = true;
            return true;
        case 0xe8: case 0xe9: case 0xea: case 0xeb:
        case 0xec: case 0xed: case 0xee: /* constants */
            p->nout = 1;
            p->out[0] = -1;
            p->pops = -1;
            return true;
        case 0xfe: /* FSIN */
        case 0xff: /* FCOS */
            p->c2 = true;
            /* fall through */
        case 0xf0: /* F2XM1 */
        case 0xfa: /* FSQRT */
        case 0xfc: /* FRNDINT */
            p->nin = 1;
            p->nout = 1;
            p->out[0] = 0;
            return true;
        case 0xf4: /* FXTRACT: exponent in ST0, then push the significand */
            p->nin = 1;
            p->nout = 2;
            p->out[0] = -1;
            p->out[1] = 0;
            p->pops = -1;
            return true;
        /* not FPREM, FPREM1: on special operands they leave C0 C1 C3 as
         * they were, which the fast path's host stack does not know */
        case 0xfd: /* FSCALE */
            p->in[1] = 1;
            p->nin = 2;
            p->nout = 2;
            p->out[0] = 0;
            return true;
        case 0xf1: /* FYL2X */
        case 0xf3: /* FPATAN */
        case 0xf9: /* FYL2XP1 */
            p->in[1] = 1;
            p->nin = 2;
            p->nout = 1;
            p->out[0] = 1;
            p->pops = 1;
            return true;
        default:
            return false;
        }
    default:
        return false;
    }
}

/* ---- for the JIT (x87.h) ---- */

bool x87_native_form(uint8_t opcode, uint8_t modrm, uint8_t *hop,
                     uint8_t *hmodrm, unsigned *len, bool *store)
{
    X87Decoded d;

    if (!x87_decode(opcode, modrm, &d)) {
        return false;
    }
    if (d.kind != K_HOST && d.kind != K_HOST_LOAD && d.kind != K_HOST_STORE) {
        return false;
    }
    *hop = d.hop;
    *hmodrm = d.hmodrm;
    *len = d.len;
    *store = d.kind == K_HOST_STORE;
    return true;
}

bool x87_fast_effect(uint8_t opcode, uint8_t modrm, unsigned *need,
                     int *pops, uint16_t *cbits)
{
    X87FastPlan p;
    X87Decoded d;

    if (!x87_decode(opcode, modrm, &d) ||
        (d.kind != K_HOST && d.kind != K_HOST_LOAD &&
         d.kind != K_HOST_STORE) ||
        !x87_fast_plan(opcode, modrm, &p) || p.wf) {
        return false;
    }
    *need = 0;
    for (unsigned k = 0; k < p.nin; k++) {
        *need = MAX(*need, (unsigned)p.in[k] + 1);
    }
    *pops = p.pops;
    *cbits = (uint16_t)((p.c1_kept ? 0 : X87_SW_C1) |
                        (p.cmp ? X87_SW_C0 | X87_SW_C2 | X87_SW_C3 : 0) |
                        (p.c2 ? X87_SW_C2 : 0));
    return true;
}

void x87_to_fsave(const X87State *st, uint8_t img[X87_FSAVE_SIZE])
{
    unsigned top = x87_top(st);

    memset(img, 0, X87_FSAVE_SIZE);
    le_put16(img + 0, st->fcw);
    le_put16(img + 4, st->fsw);
    le_put16(img + 8, st->ftw);
    for (unsigned i = 0; i < 8; i++) {
        put_reg80(img + 28 + 10 * i, st->r[(top + i) & 7]);
    }
}

void x87_from_fsave(X87State *st, const uint8_t img[X87_FSAVE_SIZE])
{
    unsigned top;

    st->fsw = le_get16(img + 4);
    st->ftw = le_get16(img + 8);
    top = x87_top(st);
    for (unsigned i = 0; i < 8; i++) {
        st->r[(top + i) & 7] = get_reg80(img + 28 + 10 * i);
    }
}

/*
 * Fast path: load c->nin registers (in[1] first, so in[0] ends up in
 * ST0), run the stub under the guest's control word, take the status word,
 * store c->nout values from ST0 upwards: exactly what is left, so the host
 * stack ends empty.  Every exception is masked in the guest's control
 * word; the flags are cleared first so that c->sw shows this instruction's.
 */
static void x87_host_mini(X87HostCall *c, void *buf)
{
    __asm__ volatile("lea -" X87_REDZONE "(" X87_SP "), " X87_SP "\n\t"
                     "fnstsw %c[sw](%[c])\n\t"
                     "movzwl %c[sw](%[c]), %%ecx\n\t"
                     "testw %%cx, %c[ginv](%[c])\n\t"
                     "jz 7f\n\t"
                     "fnclex\n"
                     "7:\n\t"
                     "cmp" X87_SUFFIX " $0, %c[ldcw](%[c])\n\t"
                     "je 8f\n\t"
                     "fldcw %c[gcw](%[c])\n"
                     "8:\n\t"
                     "mov %c[in](%[c]), " X87_CX "\n\t"
                     "cmp" X87_SUFFIX " $2, %c[nin](%[c])\n\t"
                     "jb 1f\n\t"
                     "fldt 10(" X87_CX ")\n"
                     "1:\n\t"
                     "cmp" X87_SUFFIX " $1, %c[nin](%[c])\n\t"
                     "jb 2f\n\t"
                     "fldt (" X87_CX ")\n"
                     "2:\n\t"
                     X87_CALL_STUB
                     "fnstsw %c[sw](%[c])\n\t"
                     "mov %c[out](%[c]), " X87_CX "\n\t"
                     "cmp" X87_SUFFIX " $1, %c[nout](%[c])\n\t"
                     "jb 3f\n\t"
                     "fstpt (" X87_CX ")\n\t"
                     "cmp" X87_SUFFIX " $2, %c[nout](%[c])\n\t"
                     "jb 3f\n\t"
                     "fstpt 10(" X87_CX ")\n"
                     "3:\n\t"
                     "cmp" X87_SUFFIX " $0, %c[clr_end](%[c])\n\t"
                     "je 9f\n\t"
                     "fnclex\n"
                     "9:\n\t"
                     "cmp" X87_SUFFIX " $0, %c[ldcw](%[c])\n\t"
                     "je 10f\n\t"
                     "fldcw %c[hcw](%[c])\n"
                     "10:\n\t"
                     "lea " X87_REDZONE "(" X87_SP "), " X87_SP "\n\t"
                     :
                     : [c] "r"(c), "a"(buf), HC_OFF(stub), HC_OFF(in),
                       HC_OFF(out), HC_OFF(nin), HC_OFF(nout), HC_OFF(wf),
                       HC_OFF(flags), HC_OFF(keep), HC_OFF(hcw), HC_OFF(gcw),
                       HC_OFF(sw), HC_OFF(ginv), HC_OFF(ldcw),
                       HC_OFF(clr_end)
                     : "memory", "cc", "ecx", "st", "st(1)", "st(2)",
                       "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
}

static bool x87_st_empty(const X87State *st, int i)
{
    unsigned phys = (x87_top(st) + (unsigned)i) & 7;

    return ((st->ftw >> (2 * phys)) & 3) == X87_TAG_EMPTY;
}

static void x87_set_phys(X87State *st, unsigned phys, X87Reg r)
{
    st->r[phys] = r;
    st->ftw = (uint16_t)((st->ftw & ~(3u << (2 * phys))) |
                         x87_classify_tag(r) << (2 * phys));
}

/* Try the fast path; false: use the full-state path. */
static bool x87_fast(const X87State *st, X87State *ns, uint8_t opcode,
                     uint8_t modrm, uint8_t *buf, uint32_t *eflags)
{
    X87FastPlan p;
    uint8_t in[20], out[20];
    unsigned top = x87_top(st);
    uint16_t hsw, keep;
    X87HostCall c;

    if ((st->fcw & 0x3f) != 0x3f || !x87_fast_plan(opcode, modrm, &p)) {
        return false;
    }
    for (unsigned k = 0; k < p.nin; k++) {
        if (x87_st_empty(st, p.in[k])) {
            return false;
        }
        put_reg80(in + 10 * k, st->r[(top + p.in[k]) & 7]);
    }
    if (p.pops < 0 && !x87_st_empty(st, -1)) {
        return false; /* would overflow */
    }

    memset(&c, 0, sizeof(c));
    c.stub = mimic_x87_stubs + ((opcode & 7) * 256u + p.hmodrm) * X87_STUB_SIZE;
    c.in = in;
    c.out = out;
    c.nin = p.nin;
    c.nout = p.nout;
    c.wf = p.wf;
    c.flags = eflags ? (*eflags & EFLAGS_ARITH) : 0;
    c.keep = ~(unsigned long)EFLAGS_ARITH;
    c.gcw = st->fcw;
    __asm__ volatile("fnstcw %0" : "=m"(c.hcw));
    c.ldcw = c.gcw != c.hcw;
    c.clr_end = (c.hcw & 0x3f) != 0x3f;
    c.ginv = c.clr_end ? 0x3f : (uint16_t)(~st->fsw & 0x3f);
    x87_host_mini(&c, buf);
    hsw = c.sw;
    if (p.wf == 2 && eflags) {
        *eflags = (*eflags & ~EFLAGS_ARITH) |
                  ((uint32_t)c.flags & EFLAGS_ARITH);
    }

    *ns = *st;
    for (unsigned k = 0; k < p.nout; k++) {
        if (p.out[k] != FAST_NONE) {
            x87_set_phys(ns, (top + (unsigned)p.out[k]) & 7,
                         get_reg80(out + 10 * k));
        }
    }
    for (int k = 0; k < p.pops; k++) {
        ns->ftw |= (uint16_t)(3u << (2 * ((top + (unsigned)k) & 7)));
    }
    top = (top + (unsigned)p.pops) & 7;
    keep = p.cmp ? 0 : (X87_SW_C0 | X87_SW_C2 | X87_SW_C3);
    if (p.c2) {
        keep &= (uint16_t)~X87_SW_C2;
    }
    if (p.c1_kept) {
        keep |= X87_SW_C1;
    }
    ns->fsw = (uint16_t)((st->fsw & (keep | 0xff | X87_SW_B)) |
                         (hsw & ~keep & (X87_SW_C0 | X87_SW_C1 | X87_SW_C2 |
                                         X87_SW_C3)) |
                         (hsw & 0x3f) | top << X87_SW_TOP_SHIFT);
    return true;
}

/* ---- environment layouts (SDM Vol. 1 figures 8-9 to 8-12) ---- */

static unsigned x87_env_len(uint32_t flags)
{
    return (flags & X87_MEM_OP32) ? 28 : 14;
}

static void x87_env_build(const X87State *st, uint32_t flags, uint8_t *b)
{
    uint16_t ftw = x87_full_tags(st, st->ftw);

    if (flags & X87_MEM_OP32) {
        memset(b, 0xff, 28);
        le_put16(b + 0, st->fcw);
        le_put16(b + 4, st->fsw);
        le_put16(b + 8, ftw);
        if (flags & X87_MEM_PMODE) {
            le_put32(b + 12, st->fip);
            le_put32(b + 16, st->fcs | (uint32_t)(st->fop & 0x7ff) << 16);
            le_put32(b + 20, st->fdp);
            le_put16(b + 24, st->fds);
        } else {
            uint32_t ip = st->fip + ((uint32_t)st->fcs << 4);
            uint32_t dp = st->fdp + ((uint32_t)st->fds << 4);

            le_put16(b + 12, (uint16_t)ip);
            le_put32(b + 16, (ip >> 16) << 12 | (st->fop & 0x7ff));
            le_put16(b + 20, (uint16_t)dp);
            le_put32(b + 24, (dp >> 16) << 12);
        }
    } else {
        le_put16(b + 0, st->fcw);
        le_put16(b + 2, st->fsw);
        le_put16(b + 4, ftw);
        if (flags & X87_MEM_PMODE) {
            le_put16(b + 6, (uint16_t)st->fip);
            le_put16(b + 8, st->fcs);
            le_put16(b + 10, (uint16_t)st->fdp);
            le_put16(b + 12, st->fds);
        } else {
            uint32_t ip = st->fip + ((uint32_t)st->fcs << 4);
            uint32_t dp = st->fdp + ((uint32_t)st->fds << 4);

            le_put16(b + 6, (uint16_t)ip);
            le_put16(b + 8, (uint16_t)(((ip >> 16) & 0xf) << 12 |
                                    (st->fop & 0x7ff)));
            le_put16(b + 10, (uint16_t)dp);
            le_put16(b + 12, (uint16_t)(((dp >> 16) & 0xf) << 12));
        }
    }
}

/* Parse an environment into st (registers must already be in place). */
static void x87_env_parse(X87State *st, uint32_t flags, const uint8_t *b)
{
    uint16_t tw;

    if (flags & X87_MEM_OP32) {
        st->fcw = x87_cw_sanitize(le_get16(b + 0));
        st->fsw = le_get16(b + 4);
        tw = le_get16(b + 8);
        if (flags & X87_MEM_PMODE) {
            st->fip = le_get32(b + 12);
            st->fcs = le_get16(b + 16);
            st->fop = (le_get32(b + 16) >> 16) & 0x7ff;
            st->fdp = le_get32(b + 20);
            st->fds = le_get16(b + 24);
        } else {
            st->fip = le_get16(b + 12) | ((le_get32(b + 16) >> 12) & 0xffff) << 16;
            st->fop = le_get32(b + 16) & 0x7ff;
            st->fdp = le_get16(b + 20) | ((le_get32(b + 24) >> 12) & 0xffff) << 16;
            st->fcs = 0;
            st->fds = 0;
        }
    } else {
        st->fcw = x87_cw_sanitize(le_get16(b + 0));
        st->fsw = le_get16(b + 2);
        tw = le_get16(b + 4);
        if (flags & X87_MEM_PMODE) {
            st->fip = le_get16(b + 6);
            st->fcs = le_get16(b + 8);
            st->fop = 0;
            st->fdp = le_get16(b + 10);
            st->fds = le_get16(b + 12);
        } else {
            st->fip = le_get16(b + 6) | (uint32_t)(le_get16(b + 8) >> 12) << 16;
            st->fop = le_get16(b + 8) & 0x7ff;
            st->fdp = le_get16(b + 10) | (uint32_t)(le_get16(b + 12) >> 12) << 16;
            st->fcs = 0;
            st->fds = 0;
        }
    }
    /* Only "empty" counts; the other tags come from the contents. */
    st->ftw = x87_full_tags(st, tw);
    x87_update_es(st);
}

/* ---- the dispatcher ---- */

int x87_exec(X87State *st, uint8_t opcode, uint8_t modrm, const X87Mem *mem,
             uint32_t ea, uint16_t *ax, uint32_t *eflags)
{
    X87Decoded d;
    X87State ns;
    uint8_t buf[HOST_IMG_SIZE];
    unsigned top, n;
    bool store_ok;
    bool fast = !(mem->flags & X87_MEM_SLOW);

    if (!x87_decode(opcode, modrm, &d)) {
        return X87_UD;
    }
    if (!x87_kind_nowait(d.kind) && (st->fsw & X87_SW_ES) &&
        !(mem->flags & X87_MEM_IGNNE)) {
        return X87_MF;
    }
    switch (d.kind) {
    case K_HOST:
    case K_FCOMI:
    case K_FCMOV:
        if (!fast || !x87_fast(st, &ns, opcode, modrm, buf, eflags)) {
            x87_run(st, &ns, &d, buf, eflags);
        }
        break;
    case K_HOST_LOAD:
        mem->load(mem->ctx, ea, buf, d.len);
        if (!fast || !x87_fast(st, &ns, opcode, modrm, buf, eflags)) {
            x87_run(st, &ns, &d, buf, eflags);
        }
        break;
    case K_HOST_STORE:
        store_ok = true;
        if (!fast || !x87_fast(st, &ns, opcode, modrm, buf, eflags)) {
            store_ok = x87_run(st, &ns, &d, buf, eflags);
        }
        if (store_ok) {
            mem->store(mem->ctx, ea, buf, d.len);
        }
        break;
    case K_FFREEP:
        ns = *st;
        top = x87_top(st);
        ns.ftw |= (uint16_t)(3u << (2 * ((top + (modrm & 7)) & 7)));
        ns.fsw = (uint16_t)((ns.fsw & ~X87_SW_TOP) |
                            ((top + 1) & 7) << X87_SW_TOP_SHIFT);
        break;
    case K_LDCW:
        mem->load(mem->ctx, ea, buf, 2);
        st->fcw = x87_cw_sanitize(le_get16(buf));
        x87_update_es(st);
        return X87_OK;
    case K_STCW:
        le_put16(buf, st->fcw);
        mem->store(mem->ctx, ea, buf, 2);
        return X87_OK;
    case K_STSW_M:
        le_put16(buf, st->fsw);
        mem->store(mem->ctx, ea, buf, 2);
        return X87_OK;
    case K_STSW_AX:
        if (ax) {
            *ax = st->fsw;
        }
        return X87_OK;
    case K_CLEX:
        st->fsw &= (uint16_t)~(0x7f | X87_SW_ES | X87_SW_B);
        return X87_OK;
    case K_INIT:
        x87_finit(st);
        return X87_OK;
    case K_LEGACY_NOP:
        return X87_OK;
    case K_LDENV:
        n = x87_env_len(mem->flags);
        mem->load(mem->ctx, ea, buf, n);
        ns = *st;
        x87_env_parse(&ns, mem->flags, buf);
        *st = ns;
        return X87_OK;
    case K_STENV:
        n = x87_env_len(mem->flags);
        x87_env_build(st, mem->flags, buf);
        mem->store(mem->ctx, ea, buf, n);
        st->fcw |= 0x3f; /* FNSTENV masks all exceptions afterwards */
        return X87_OK;
    case K_RSTOR:
        n = x87_env_len(mem->flags);
        mem->load(mem->ctx, ea, buf, n + 80);
        ns = *st;
        for (unsigned i = 0; i < 8; i++) {
            /* the registers are in ST order relative to the new TOP */
            unsigned t = (le_get16(buf + ((mem->flags & X87_MEM_OP32) ? 4 : 2))
                          & X87_SW_TOP) >> X87_SW_TOP_SHIFT;

            ns.r[(t + i) & 7] = get_reg80(buf + n + 10 * i);
        }
        x87_env_parse(&ns, mem->flags, buf);
        *st = ns;
        return X87_OK;
    case K_SAVE:
        n = x87_env_len(mem->flags);
        x87_env_build(st, mem->flags, buf);
        top = x87_top(st);
        for (unsigned i = 0; i < 8; i++) {
            put_reg80(buf + n + 10 * i, st->r[(top + i) & 7]);
        }
        mem->store(mem->ctx, ea, buf, n + 80);
        x87_finit(st);
        return X87_OK;
    default:
        return X87_UD;
    }

    /* Non-control instruction: record where it was and what it touched. */
    ns.fop = (uint16_t)((opcode & 7) << 8 | modrm);
    ns.fip = mem->fip;
    ns.fcs = mem->fcs;
    if (modrm < 0xc0) {
        ns.fdp = ea;
        ns.fds = mem->fds;
    }
    *st = ns;
    return X87_OK;
}

/* ---- FXSAVE / FXRSTOR (SDM Vol. 2 FXSAVE, table 3-53 non-64-bit) ---- */

void x87_fxsave(const X87State *st, uint8_t area[512], uint32_t mxcsr_mask)
{
    unsigned top = x87_top(st);
    uint8_t abridged = 0;

    memset(area, 0, 464);
    for (unsigned j = 0; j < 8; j++) {
        if (((st->ftw >> (2 * j)) & 3) != X87_TAG_EMPTY) {
            abridged |= (uint8_t)(1u << j);
        }
    }
    le_put16(area + 0, st->fcw);
    le_put16(area + 2, st->fsw);
    area[4] = abridged;
    le_put16(area + 6, st->fop & 0x7ff);
    le_put32(area + 8, st->fip);
    le_put16(area + 12, st->fcs);
    le_put32(area + 16, st->fdp);
    le_put16(area + 20, st->fds);
    le_put32(area + 24, mxcsr_mask ? st->mxcsr : 0);
    le_put32(area + 28, mxcsr_mask);
    for (unsigned i = 0; i < 8; i++) {
        put_reg80(area + 32 + 16 * i, st->r[(top + i) & 7]);
    }
}

int x87_fxrstor(X87State *st, const uint8_t area[512], uint32_t mxcsr_mask)
{
    X87State ns = *st;
    uint32_t mxcsr = le_get32(area + 24);
    uint16_t tw = 0;
    unsigned top;

    if (mxcsr_mask && (mxcsr & ~mxcsr_mask)) {
        return X87_GP;
    }
    ns.fcw = x87_cw_sanitize(le_get16(area + 0));
    ns.fsw = le_get16(area + 2);
    for (unsigned j = 0; j < 8; j++) {
        if (!(area[4] & (1u << j))) {
            tw |= (uint16_t)(X87_TAG_EMPTY << (2 * j));
        }
    }
    ns.fop = le_get16(area + 6) & 0x7ff;
    ns.fip = le_get32(area + 8);
    ns.fcs = le_get16(area + 12);
    ns.fdp = le_get32(area + 16);
    ns.fds = le_get16(area + 20);
    if (mxcsr_mask) {
        ns.mxcsr = mxcsr;
    }
    top = x87_top(&ns);
    for (unsigned i = 0; i < 8; i++) {
        ns.r[(top + i) & 7] = get_reg80(area + 32 + 16 * i);
    }
    ns.ftw = x87_full_tags(&ns, tw);
    if (ns.fsw & X87_SW_ES) {
        ns.fsw |= X87_SW_B;
    } else {
        ns.fsw &= (uint16_t)~X87_SW_B;
    }
    *st = ns;
    return X87_OK;
}

int x87_fxsave_mem(const X87State *st, const X87Mem *mem, uint32_t ea,
                   uint32_t mxcsr_mask)
{
    uint8_t area[512];

    x87_fxsave(st, area, mxcsr_mask);
    mem->store(mem->ctx, ea, area, 464);
    return X87_OK;
}

int x87_fxrstor_mem(X87State *st, const X87Mem *mem, uint32_t ea,
                    uint32_t mxcsr_mask)
{
    uint8_t area[512];

    mem->load(mem->ctx, ea, area, 512);
    return x87_fxrstor(st, area, mxcsr_mask);
}
