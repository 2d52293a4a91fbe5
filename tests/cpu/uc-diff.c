/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Differential single-step tests of the x86 core against Unicorn (a CPU
 * engine derived from QEMU, Debian's libunicorn-dev) in 32-bit flat
 * protected mode: random but valid integer instructions (ALU, shifts and
 * rotates, multiply/divide, BCD, bit operations, string instructions with
 * REP, CMOV/SETcc, XADD/CMPXCHG/CMPXCHG8B, moves with sign/zero extension,
 * stack operations, 16-bit operand-size forms, 16-bit addressing through
 * the 67 prefix: every ModRM form, disp16, wrap at 64 KiB, string
 * instructions on SI/DI/CX, XLAT, moffs) run one at a time on both
 * engines from the same random registers and memory; registers, the flags
 * each instruction defines, and memory must agree.
 *
 * usage: uc-diff [-n CASES] [-s SEED] [-k MAXSEQ] [-v]
 * (-k: sequences of up to MAXSEQ instructions, so lazy flags carry over)
 * Prints the failures per template and, last, `uc-diff: N passed, M failed`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <unicorn/unicorn.h>

#include "x86-rig.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x1000u
#define DATA 0x10000u
#define DATA_LEN 0x30000u   /* SIB sums of two pointers stay inside */
#define IDT 0x900u
#define GDT 0x800u
#define EXC_STUBS 0x2000u

/* Operand kinds of a template. */
enum {
    K_NONE,     /* opcode bytes only */
    K_MODRM,    /* ModRM (register or memory) */
    K_MODRM_M,  /* ModRM, memory only */
    K_MODRM_R,  /* ModRM, register only */
};

enum { I_NONE, I_B, I_V, I_W };  /* immediate: none, byte, osz, word */

typedef struct Tmpl {
    const char *name;
    uint8_t op[3];
    uint8_t nop;       /* opcode bytes */
    uint8_t kind;
    int8_t reg;        /* fixed ModRM.reg, or -1 */
    uint8_t imm;
    uint32_t undef;    /* flags left undefined */
    uint8_t flags;     /* T_* */
} Tmpl;

#define T_O16 1        /* also try with the 66 prefix */
#define T_STR 2        /* string op: small ECX, REP variants */
#define T_SHIFT 4      /* OF undefined unless count == 1 */
#define T_ONLY16 8     /* only with 66 */
#define T_BYTE 16
#define T_MOFFS 32     /* MOV with a moffs address (A0..A3) */
#define T_FAULT 64     /* faults or traps (never inside a sequence) */

#define A F_AF
#define ALLF (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
#define SZAP (F_SF | F_ZF | F_AF | F_PF)

static const Tmpl tmpls[] = {
    /* ALU r/m,r ; r,r/m ; acc,imm */
#define ALU(n, b) \
    { n " rm8,r8", { b }, 1, K_MODRM, -1, I_NONE, 0, T_BYTE }, \
    { n " rm,r", { b + 1 }, 1, K_MODRM, -1, I_NONE, 0, T_O16 }, \
    { n " r8,rm8", { b + 2 }, 1, K_MODRM, -1, I_NONE, 0, T_BYTE }, \
    { n " r,rm", { b + 3 }, 1, K_MODRM, -1, I_NONE, 0, T_O16 }, \
    { n " al,ib", { b + 4 }, 1, K_NONE, -1, I_B, 0, T_BYTE }, \
    { n " eax,iv", { b + 5 }, 1, K_NONE, -1, I_V, 0, T_O16 }
    ALU("add", 0x00), ALU("adc", 0x10), ALU("sub", 0x28), ALU("sbb", 0x18),
    ALU("cmp", 0x38),
#undef ALU
#define LOGIC(n, b) \
    { n " rm8,r8", { b }, 1, K_MODRM, -1, I_NONE, A, T_BYTE }, \
    { n " rm,r", { b + 1 }, 1, K_MODRM, -1, I_NONE, A, T_O16 }, \
    { n " r8,rm8", { b + 2 }, 1, K_MODRM, -1, I_NONE, A, T_BYTE }, \
    { n " r,rm", { b + 3 }, 1, K_MODRM, -1, I_NONE, A, T_O16 }, \
    { n " al,ib", { b + 4 }, 1, K_NONE, -1, I_B, A, T_BYTE }, \
    { n " eax,iv", { b + 5 }, 1, K_NONE, -1, I_V, A, T_O16 }
    LOGIC("or", 0x08), LOGIC("and", 0x20), LOGIC("xor", 0x30),
#undef LOGIC
    { "grp1 rm8,ib", { 0x80 }, 1, K_MODRM, -1, I_B, A, T_BYTE },
    { "grp1 rm,iv", { 0x81 }, 1, K_MODRM, -1, I_V, A, T_O16 },
    { "grp1 rm,ib", { 0x83 }, 1, K_MODRM, -1, I_B, A, T_O16 },
    { "test rm8,r8", { 0x84 }, 1, K_MODRM, -1, I_NONE, A, T_BYTE },
    { "test rm,r", { 0x85 }, 1, K_MODRM, -1, I_NONE, A, T_O16 },
    { "test al,ib", { 0xa8 }, 1, K_NONE, -1, I_B, A, T_BYTE },
    { "test eax,iv", { 0xa9 }, 1, K_NONE, -1, I_V, A, T_O16 },
    { "xchg rm8,r8", { 0x86 }, 1, K_MODRM, -1, I_NONE, 0, T_BYTE },
    { "xchg rm,r", { 0x87 }, 1, K_MODRM, -1, I_NONE, 0, T_O16 },
    { "mov rm8,r8", { 0x88 }, 1, K_MODRM, -1, I_NONE, 0, T_BYTE },
    { "mov rm,r", { 0x89 }, 1, K_MODRM, -1, I_NONE, 0, T_O16 },
    { "mov r8,rm8", { 0x8a }, 1, K_MODRM, -1, I_NONE, 0, T_BYTE },
    { "mov r,rm", { 0x8b }, 1, K_MODRM, -1, I_NONE, 0, T_O16 },
    { "lea", { 0x8d }, 1, K_MODRM_M, -1, I_NONE, 0, T_O16 },
    { "mov rm8,ib", { 0xc6 }, 1, K_MODRM, 0, I_B, 0, T_BYTE },
    { "mov rm,iv", { 0xc7 }, 1, K_MODRM, 0, I_V, 0, T_O16 },
    { "inc/dec r", { 0x40 }, 1, K_NONE, -1, I_NONE, 0, T_O16 },
    { "xchg eax,r", { 0x90 }, 1, K_NONE, -1, I_NONE, 0, T_O16 },
    { "mov r,iv", { 0xb8 }, 1, K_NONE, -1, I_V, 0, T_O16 },
    { "mov r8,ib", { 0xb0 }, 1, K_NONE, -1, I_B, 0, T_BYTE },
    { "push r", { 0x50 }, 1, K_NONE, -1, I_NONE, 0, T_O16 },
    { "pop r", { 0x58 }, 1, K_NONE, -1, I_NONE, 0, T_O16 },
    { "pusha", { 0x60 }, 1, K_NONE, -1, I_NONE, 0, T_O16 },
    { "popa", { 0x61 }, 1, K_NONE, -1, I_NONE, 0, T_O16 },
    { "push iv", { 0x68 }, 1, K_NONE, -1, I_V, 0, T_O16 },
    { "push ib", { 0x6a }, 1, K_NONE, -1, I_B, 0, T_O16 },
    { "imul r,rm,iv", { 0x69 }, 1, K_MODRM, -1, I_V, SZAP, T_O16 },
    { "imul r,rm,ib", { 0x6b }, 1, K_MODRM, -1, I_B, SZAP, T_O16 },
    { "cbw/cwde", { 0x98 }, 1, K_NONE, -1, I_NONE, 0, T_O16 },
    { "cwd/cdq", { 0x99 }, 1, K_NONE, -1, I_NONE, 0, T_O16 },
    { "sahf", { 0x9e }, 1, K_NONE, -1, I_NONE, 0, 0 },
    { "lahf", { 0x9f }, 1, K_NONE, -1, I_NONE, 0, 0 },
    { "daa", { 0x27 }, 1, K_NONE, -1, I_NONE, F_OF, 0 },
    { "das", { 0x2f }, 1, K_NONE, -1, I_NONE, F_OF, 0 },
    { "aaa", { 0x37 }, 1, K_NONE, -1, I_NONE, F_OF | F_SF | F_ZF | F_PF, 0 },
    { "aas", { 0x3f }, 1, K_NONE, -1, I_NONE, F_OF | F_SF | F_ZF | F_PF, 0 },
    { "aam", { 0xd4 }, 1, K_NONE, -1, I_B, F_OF | F_AF | F_CF, 0 },
    { "aad", { 0xd5 }, 1, K_NONE, -1, I_B, F_OF | F_AF | F_CF, 0 },
    { "shift rm8,ib", { 0xc0 }, 1, K_MODRM, -1, I_B, A, T_SHIFT | T_BYTE },
    { "shift rm,ib", { 0xc1 }, 1, K_MODRM, -1, I_B, A, T_SHIFT | T_O16 },
    { "shift rm8,1", { 0xd0 }, 1, K_MODRM, -1, I_NONE, A, T_SHIFT | T_BYTE },
    { "shift rm,1", { 0xd1 }, 1, K_MODRM, -1, I_NONE, A, T_SHIFT | T_O16 },
    { "shift rm8,cl", { 0xd2 }, 1, K_MODRM, -1, I_NONE, A, T_SHIFT | T_BYTE },
    { "shift rm,cl", { 0xd3 }, 1, K_MODRM, -1, I_NONE, A, T_SHIFT | T_O16 },
    { "test rm8,ib", { 0xf6 }, 1, K_MODRM, 0, I_B, A, T_BYTE },
    { "test rm,iv", { 0xf7 }, 1, K_MODRM, 0, I_V, A, T_O16 },
    { "not rm8", { 0xf6 }, 1, K_MODRM, 2, I_NONE, 0, T_BYTE },
    { "not rm", { 0xf7 }, 1, K_MODRM, 2, I_NONE, 0, T_O16 },
    { "neg rm8", { 0xf6 }, 1, K_MODRM, 3, I_NONE, 0, T_BYTE },
    { "neg rm", { 0xf7 }, 1, K_MODRM, 3, I_NONE, 0, T_O16 },
    { "mul rm8", { 0xf6 }, 1, K_MODRM, 4, I_NONE, SZAP, T_BYTE },
    { "mul rm", { 0xf7 }, 1, K_MODRM, 4, I_NONE, SZAP, T_O16 },
    { "imul rm8", { 0xf6 }, 1, K_MODRM, 5, I_NONE, SZAP, T_BYTE },
    { "imul rm", { 0xf7 }, 1, K_MODRM, 5, I_NONE, SZAP, T_O16 },
    { "div rm8", { 0xf6 }, 1, K_MODRM, 6, I_NONE, ALLF, T_BYTE },
    { "div rm", { 0xf7 }, 1, K_MODRM, 6, I_NONE, ALLF, T_O16 },
    { "idiv rm8", { 0xf6 }, 1, K_MODRM, 7, I_NONE, ALLF, T_BYTE },
    { "idiv rm", { 0xf7 }, 1, K_MODRM, 7, I_NONE, ALLF, T_O16 },
    { "inc rm8", { 0xfe }, 1, K_MODRM, 0, I_NONE, 0, T_BYTE },
    { "dec rm8", { 0xfe }, 1, K_MODRM, 1, I_NONE, 0, T_BYTE },
    { "inc rm", { 0xff }, 1, K_MODRM, 0, I_NONE, 0, T_O16 },
    { "dec rm", { 0xff }, 1, K_MODRM, 1, I_NONE, 0, T_O16 },
    { "push rm", { 0xff }, 1, K_MODRM, 6, I_NONE, 0, T_O16 },
    { "pop rm", { 0x8f }, 1, K_MODRM, 0, I_NONE, 0, T_O16 },
    { "cmc", { 0xf5 }, 1, K_NONE, -1, I_NONE, 0, 0 },
    { "clc", { 0xf8 }, 1, K_NONE, -1, I_NONE, 0, 0 },
    { "stc", { 0xf9 }, 1, K_NONE, -1, I_NONE, 0, 0 },
    { "cld", { 0xfc }, 1, K_NONE, -1, I_NONE, 0, 0 },
    { "std", { 0xfd }, 1, K_NONE, -1, I_NONE, 0, 0 },
    { "leave", { 0xc9 }, 1, K_NONE, -1, I_NONE, 0, T_O16 },
    { "enter", { 0xc8 }, 1, K_NONE, -1, I_W, 0, T_O16 },
    { "movsb", { 0xa4 }, 1, K_NONE, -1, I_NONE, 0, T_STR | T_BYTE },
    { "movs", { 0xa5 }, 1, K_NONE, -1, I_NONE, 0, T_STR | T_O16 },
    { "cmpsb", { 0xa6 }, 1, K_NONE, -1, I_NONE, 0, T_STR | T_BYTE },
    { "cmps", { 0xa7 }, 1, K_NONE, -1, I_NONE, 0, T_STR | T_O16 },
    { "stosb", { 0xaa }, 1, K_NONE, -1, I_NONE, 0, T_STR | T_BYTE },
    { "stos", { 0xab }, 1, K_NONE, -1, I_NONE, 0, T_STR | T_O16 },
    { "lodsb", { 0xac }, 1, K_NONE, -1, I_NONE, 0, T_STR | T_BYTE },
    { "lods", { 0xad }, 1, K_NONE, -1, I_NONE, 0, T_STR | T_O16 },
    { "scasb", { 0xae }, 1, K_NONE, -1, I_NONE, 0, T_STR | T_BYTE },
    { "scas", { 0xaf }, 1, K_NONE, -1, I_NONE, 0, T_STR | T_O16 },
    { "xlat", { 0xd7 }, 1, K_NONE, -1, I_NONE, 0, 0 },
    { "ud2", { 0x0f, 0x0b }, 2, K_NONE, -1, I_NONE, 0, T_FAULT },
    { "bound", { 0x62 }, 1, K_MODRM_M, -1, I_NONE, 0, T_FAULT | T_O16 },
    { "into", { 0xce }, 1, K_NONE, -1, I_NONE, 0, T_FAULT },
    { "int3", { 0xcc }, 1, K_NONE, -1, I_NONE, 0, T_FAULT },
    { "mov al,moffs", { 0xa0 }, 1, K_NONE, -1, I_NONE, 0, T_MOFFS | T_BYTE },
    { "mov eax,moffs", { 0xa1 }, 1, K_NONE, -1, I_NONE, 0, T_MOFFS | T_O16 },
    { "mov moffs,al", { 0xa2 }, 1, K_NONE, -1, I_NONE, 0, T_MOFFS | T_BYTE },
    { "mov moffs,eax", { 0xa3 }, 1, K_NONE, -1, I_NONE, 0, T_MOFFS | T_O16 },
    { "cmovcc", { 0x0f, 0x40 }, 2, K_MODRM, -1, I_NONE, 0, T_O16 },
    { "setcc", { 0x0f, 0x90 }, 2, K_MODRM, 0, I_NONE, 0, 0 },
    { "bt rm,r", { 0x0f, 0xa3 }, 2, K_MODRM, -1, I_NONE,
      F_OF | F_SF | F_AF | F_PF | F_ZF, T_O16 },
    { "bts rm,r", { 0x0f, 0xab }, 2, K_MODRM, -1, I_NONE,
      F_OF | F_SF | F_AF | F_PF | F_ZF, T_O16 },
    { "btr rm,r", { 0x0f, 0xb3 }, 2, K_MODRM, -1, I_NONE,
      F_OF | F_SF | F_AF | F_PF | F_ZF, T_O16 },
    { "btc rm,r", { 0x0f, 0xbb }, 2, K_MODRM, -1, I_NONE,
      F_OF | F_SF | F_AF | F_PF | F_ZF, T_O16 },
    { "bt* rm,ib", { 0x0f, 0xba }, 2, K_MODRM, -1, I_B,
      F_OF | F_SF | F_AF | F_PF | F_ZF, T_O16 },
    { "bsf", { 0x0f, 0xbc }, 2, K_MODRM, -1, I_NONE,
      F_OF | F_SF | F_AF | F_PF | F_CF, T_O16 },
    { "bsr", { 0x0f, 0xbd }, 2, K_MODRM, -1, I_NONE,
      F_OF | F_SF | F_AF | F_PF | F_CF, T_O16 },
    { "shld ib", { 0x0f, 0xa4 }, 2, K_MODRM, -1, I_B, A, T_SHIFT | T_O16 },
    { "shld cl", { 0x0f, 0xa5 }, 2, K_MODRM, -1, I_NONE, A,
      T_SHIFT | T_O16 },
    { "shrd ib", { 0x0f, 0xac }, 2, K_MODRM, -1, I_B, A, T_SHIFT | T_O16 },
    { "shrd cl", { 0x0f, 0xad }, 2, K_MODRM, -1, I_NONE, A,
      T_SHIFT | T_O16 },
    { "imul r,rm", { 0x0f, 0xaf }, 2, K_MODRM, -1, I_NONE, SZAP, T_O16 },
    { "cmpxchg rm8", { 0x0f, 0xb0 }, 2, K_MODRM, -1, I_NONE, 0, T_BYTE },
    { "cmpxchg rm", { 0x0f, 0xb1 }, 2, K_MODRM, -1, I_NONE, 0, T_O16 },
    { "xadd rm8", { 0x0f, 0xc0 }, 2, K_MODRM, -1, I_NONE, 0, T_BYTE },
    { "xadd rm", { 0x0f, 0xc1 }, 2, K_MODRM, -1, I_NONE, 0, T_O16 },
    { "movzx r,rm8", { 0x0f, 0xb6 }, 2, K_MODRM, -1, I_NONE, 0, T_O16 },
    { "movzx r,rm16", { 0x0f, 0xb7 }, 2, K_MODRM, -1, I_NONE, 0, 0 },
    { "movsx r,rm8", { 0x0f, 0xbe }, 2, K_MODRM, -1, I_NONE, 0, T_O16 },
    { "movsx r,rm16", { 0x0f, 0xbf }, 2, K_MODRM, -1, I_NONE, 0, 0 },
    { "bswap", { 0x0f, 0xc8 }, 2, K_NONE, -1, I_NONE, 0, 0 },
    { "cmpxchg8b", { 0x0f, 0xc7 }, 2, K_MODRM_M, 1, I_NONE, 0, 0 },
};

typedef struct Rng { uint64_t s; } Rng;

static uint32_t rnd(Rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s >> 16);
}

/* A value biased toward edge cases. */
static uint32_t rnd_val(Rng *r)
{
    static const uint32_t edge[] = { 0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000,
                                     0xffff, 0x7fffffff, 0x80000000u,
                                     0xffffffffu, 0x10, 0x1f, 0x20, 0x21 };
    switch (rnd(r) % 4) {
    case 0:
        return edge[rnd(r) % G_N_ELEMENTS(edge)];
    case 1:
        return rnd(r) % 64;
    default:
        return rnd(r) ^ (rnd(r) << 16);
    }
}

/*
 * 16-bit addressing (the 67 prefix in 32-bit code): the last instruction
 * of a case may use it.  Its memory operands land in the low 64 KiB, in
 * LOW16..0xffff (below LOW16 are the tables and the code): the generator
 * picks BX, SI, DI and BP (random upper halves, which the address must
 * ignore) until the 16-bit effective address, wrapped at 64 KiB, does.
 * Such cases compare the low 64 KiB of memory too.
 */
#define LOW16 0x4000u

typedef struct Case {
    uint8_t code[128];
    int len;
    uint32_t regs[8];
    uint32_t eflags;
    uint32_t undef;
    bool a16;          /* the last instruction has the 67 prefix */
    bool a16_mem;      /* ... and a ModRM memory operand: */
    uint8_t a16_modrm;
    uint16_t a16_disp;
} Case;

/* The 16-bit effective address of the case's ModRM operand. */
static uint32_t a16_ea(const Case *c)
{
    const uint32_t *g = c->regs;
    uint16_t bx = g[R_EBX], bp = g[R_EBP], si = g[R_ESI], di = g[R_EDI];
    int mod = c->a16_modrm >> 6, rm = c->a16_modrm & 7;
    if (mod == 0 && rm == 6) {
        return c->a16_disp;
    }
    static const int8_t b[8] = { 3, 3, 5, 5, -1, -1, 5, 3 };
    static const int8_t i[8] = { 6, 7, 6, 7, 6, 7, -1, -1 };
    uint16_t ea = mod ? c->a16_disp : 0;
    ea += b[rm] == 3 ? bx : b[rm] == 5 ? bp : 0;
    ea += i[rm] == 6 ? si : i[rm] == 7 ? di : 0;
    return ea;
}

/* ModRM with a 16-bit memory operand (all eight forms, disp8 sign-
   extended, disp16), or a register. */
static int gen_modrm16(Rng *r, Case *c, uint8_t *p, int reg, int kind)
{
    bool mem = kind == K_MODRM_M || (kind == K_MODRM && rnd(r) % 2);
    if (!mem) {
        p[0] = 0xc0 | (reg << 3) | (rnd(r) % 8);
        return 1;
    }
    int mod = rnd(r) % 3, rm = rnd(r) % 8;
    int n = 1;
    uint16_t disp = 0;
    if (mod == 0 && rm == 6) {
        disp = LOW16 + rnd(r) % (0x10000 - LOW16);
        memcpy(p + 1, &disp, 2);
        n = 3;
    } else if (mod == 1) {
        p[1] = rnd(r);
        disp = (int8_t)p[1];
        n = 2;
    } else if (mod == 2) {
        disp = rnd(r);
        memcpy(p + 1, &disp, 2);
        n = 3;
    }
    p[0] = (mod << 6) | (reg << 3) | rm;
    c->a16_mem = true;
    c->a16_modrm = p[0];
    c->a16_disp = disp;
    return n;
}

/* Templates whose memory operand may take a 16-bit address. */
static bool a16_ok(const Tmpl *t)
{
    if (t->nop == 2 && (t->op[1] & 0xc7) == 0x83) {
        return false;   /* bt* rm,r: the bit offset moves the address */
    }
    return t->kind == K_MODRM || t->kind == K_MODRM_M ||
           (t->flags & (T_STR | T_MOFFS)) || t->op[0] == 0xd7;
}

/* ModRM with a memory operand inside DATA: bases are EBX, ESI, EDI (set
   to DATA + offset), or a SIB with base EBX and index ESI/EDI scaled. */
static int gen_modrm(Rng *r, uint8_t *p, int reg, int kind, bool a16)
{
    bool mem = kind == K_MODRM_M || (kind == K_MODRM && rnd(r) % 2);
    if (!mem) {
        p[0] = 0xc0 | (reg << 3) | (rnd(r) % 8);
        return 1;
    }
    (void)a16;
    static const uint8_t bases[] = { 3, 6, 7 };
    int b = bases[rnd(r) % 3];
    switch (rnd(r) % 4) {
    case 0:
        p[0] = 0x00 | (reg << 3) | b;
        return 1;
    case 1:
        p[0] = 0x40 | (reg << 3) | b;
        p[1] = rnd(r);
        return 2;
    case 2:
        p[0] = 0x80 | (reg << 3) | b;
        uint32_t d = rnd(r) % 0x800;
        memcpy(p + 1, &d, 4);
        return 5;
    default:
        p[0] = 0x44 | (reg << 3);
        p[1] = ((rnd(r) % 2) << 6) | ((rnd(r) % 2 ? 6 : 7) << 3) | 3;
        p[2] = rnd(r);
        return 3;
    }
}

/* Append one instruction of template t at c->code + c->len; a16 allows
   a 67 prefix. */
static void gen_insn(Rng *r, Case *c, const Tmpl *t, bool a16)
{
    int n = c->len;
    bool o16 = (t->flags & T_ONLY16) || ((t->flags & T_O16) && rnd(r) % 3 == 0);
    c->a16 = a16 && a16_ok(t) && rnd(r) % 3 == 0;
    if (c->a16) {
        c->code[n++] = 0x67;
    }
    if (o16) {
        c->code[n++] = 0x66;
    }
    if ((t->flags & T_STR) && rnd(r) % 2) {
        c->code[n++] = rnd(r) % 2 ? 0xf3 : 0xf2;
    }
    for (int i = 0; i < t->nop; i++) {
        c->code[n++] = t->op[i];
    }
    /* register-in-opcode forms */
    if (t->kind == K_NONE && (t->op[0] == 0x40 || t->op[0] == 0x90 ||
                              t->op[0] == 0xb8 || t->op[0] == 0xb0 ||
                              t->op[0] == 0x50 || t->op[0] == 0x58)) {
        int lim = t->op[0] == 0x40 ? 16 : 8;
        c->code[n - 1] += rnd(r) % lim;
        if (c->code[n - 1] == 0x5c) {
            c->code[n - 1] = 0x5d;  /* pop esp would aim the stack anywhere */
        }
    }
    if (t->nop == 2 && (t->op[1] == 0x40 || t->op[1] == 0x90)) {
        c->code[n - 1] += rnd(r) % 16;
    }
    if (t->nop == 2 && t->op[1] == 0xc8) {
        c->code[n - 1] += rnd(r) % 8;
    }
    if (t->kind != K_NONE) {
        int reg = t->reg >= 0 ? t->reg : (int)(rnd(r) % 8);
        if (t->nop == 2 && t->op[1] == 0xba) {
            reg = 4 + rnd(r) % 4;
        }
        n += c->a16 ? gen_modrm16(r, c, c->code + n, reg, t->kind)
                    : gen_modrm(r, c->code + n, reg, t->kind, false);
    }
    if (t->flags & T_MOFFS) {
        if (c->a16) {
            uint16_t a = LOW16 + rnd(r) % (0x10000 - LOW16 - 3);
            memcpy(c->code + n, &a, 2);
            n += 2;
        } else {
            uint32_t a = DATA + rnd(r) % 0x8000;
            memcpy(c->code + n, &a, 4);
            n += 4;
        }
    }
    unsigned osz = (t->flags & T_BYTE) ? 1 : o16 ? 2 : 4;
    switch (t->imm) {
    case I_B:
        c->code[n++] = rnd_val(r);
        break;
    case I_W: {
        uint16_t w = rnd(r) % 64;
        memcpy(c->code + n, &w, 2);
        n += 2;
        c->code[n++] = rnd(r) % 4;   /* ENTER nesting level */
        break;
    }
    case I_V: {
        uint32_t v = rnd_val(r);
        memcpy(c->code + n, &v, osz == 2 ? 2 : 4);
        n += osz == 2 ? 2 : 4;
        break;
    }
    }
    c->len = n;
}

static void gen_regs(Rng *r, Case *c, const Tmpl *t)
{
    for (int i = 0; i < 8; i++) {
        c->regs[i] = rnd_val(r);
    }
    c->regs[R_EBX] = DATA + 0x1000 + rnd(r) % 0x3000;
    c->regs[R_ESI] = DATA + 0x1000 + rnd(r) % 0x3000;
    c->regs[R_EDI] = DATA + 0x1000 + rnd(r) % 0x3000;
    c->regs[R_ESP] = DATA + 0xc000 + (rnd(r) % 0x400) * 4;
    c->regs[R_EBP] = rnd(r) % 2 ? DATA + 0xa000 + rnd(r) % 0x1000
                                : c->regs[R_EBP];
    if (t->flags & T_STR) {
        c->regs[R_ECX] = rnd(r) % 12;
    }
    /* For the 16-bit bt/bts/... register forms the bit offset may reach
       far; keep the low-register bit offsets inside DATA. */
    if (t->nop == 2 && (t->op[1] & 0xc7) == 0x83) {
        for (int i = 0; i < 8; i++) {
            if (i != R_EBX && i != R_ESI && i != R_EDI && i != R_ESP) {
                c->regs[i] = (int32_t)(rnd(r) % 0x4000) - 0x2000;
            }
        }
    }
    c->eflags = 0x2 | (rnd(r) & (F_ARITH | F_DF));
    c->undef = t->undef;
    if (!c->a16) {
        return;
    }
    /* 16-bit addressing: pointers in the low 64 KiB, see LOW16 */
    static const int ptr[4] = { R_EBX, R_EBP, R_ESI, R_EDI };
    for (int tries = 0; tries < 1000; tries++) {
        for (int i = 0; i < 4; i++) {
            uint32_t lo = rnd(r) % 8 ? LOW16 + rnd(r) % (0x10000 - LOW16)
                                     : rnd(r) & 0xffff;
            c->regs[ptr[i]] = (rnd(r) << 16) | lo;
        }
        if (t->flags & T_STR) {
            /* SI/DI may wrap to 0 (nothing lives at 0..0x7ff) */
            c->regs[R_ECX] = (rnd(r) << 16) | (rnd(r) % 12);
            for (int i = 2; i < 4; i++) {
                c->regs[ptr[i]] = (c->regs[ptr[i]] & 0xffff0000u) |
                                  (rnd(r) % 8 ? LOW16 + rnd(r) % 0xb000
                                              : 0xfff0 + rnd(r) % 16);
            }
            return;
        }
        if (t->op[0] == 0xd7) {  /* xlat: BX + AL */
            c->regs[R_EBX] = (c->regs[R_EBX] & 0xffff0000u) |
                             (LOW16 + rnd(r) % (0xff00 - LOW16));
            return;
        }
        if (!c->a16_mem || (a16_ea(c) >= LOW16 && a16_ea(c) <= 0xfff0)) {
            return;
        }
    }
    c->a16_mem = false;   /* unreachable in practice */
}

/* Templates that may come before another one in a sequence: they leave no
   flag undefined (the next instruction may read any flag) and do not
   fault. */
static bool seq_ok(const Tmpl *t)
{
    return t->undef == 0 && !(t->flags & (T_SHIFT | T_STR | T_FAULT)) &&
           t->op[0] != 0xc8 &&
           t->op[0] != 0x61;
}

/* ---- Mimic ---- */

/* GDT: null, flat code (0x08), flat data (0x10); IDT: interrupt gates
   for vectors 0..31 to HLTs at EXC_STUBS + v. */
static void mimic_setup(Rig *r, const Case *c, const uint8_t *data,
                        const uint8_t *low)
{
    X86Cpu *x = r->x;
    memset(r->ram, 0, RAM_SIZE);
    memcpy(r->ram + CODE, c->code, c->len);
    r->ram[CODE + c->len] = 0xf4;
    memcpy(r->ram + DATA, data, DATA_LEN);
    memcpy(r->ram + LOW16, low, 0x10000 - LOW16);
    rig_flat(r, GDT, 0);
    rig_idt_hlt(r, IDT, EXC_STUBS, 32);
    for (int i = 0; i < 8; i++) {
        x->regs[i] = c->regs[i];
    }
    x->lf_op = LF_NONE;
    x->eflags = c->eflags;
    x->rip = CODE;
    x->halted = false;
    x->shutdown = false;
    x86_post_load_fixup(x);
}

/* ---- Unicorn ---- */

typedef struct UcRun {
    uc_engine *uc;
    uc_hook hook;
    int intno;
    uint32_t eip;        /* at the exception: the faulting instruction */
    uint32_t regs[8];    /* ... and the registers it did not commit */
} UcRun;

static const int uc_regs[8];

static void uc_intr(uc_engine *uc, uint32_t intno, void *user)
{
    UcRun *u = user;
    u->intno = intno;
    uc_reg_read(uc, UC_X86_REG_EIP, &u->eip);
    for (int i = 0; i < 8; i++) {
        uc_reg_read(uc, uc_regs[i], &u->regs[i]);
    }
    uc_emu_stop(uc);
}

/* A fresh engine: after an exception Unicorn keeps internal state that
   turns the next run's faults into others, so each fault reopens it. */
static bool uc_reopen(UcRun *u)
{
    if (u->uc) {
        uc_close(u->uc);
        u->uc = NULL;
    }
    if (uc_open(UC_ARCH_X86, UC_MODE_32, &u->uc) != UC_ERR_OK) {
        return false;
    }
    uc_mem_map(u->uc, 0, RAM_SIZE, UC_PROT_ALL);
    uc_hook_add(u->uc, &u->hook, UC_HOOK_INTR, (void *)uc_intr, u, 1, 0);
    return true;
}

static const int uc_regs[8] = {
    UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
    UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI,
};

/* Returns false when Unicorn could not run the case (unmapped access). */
/* The engine starts from image, Mimic's memory before it runs. */
static bool uc_case(UcRun *u, const Case *c, const uint8_t *image,
                    uint32_t *regs, uint32_t *eflags, uint8_t *mem_out,
                    uint8_t *low_out)
{
    uc_engine *uc = u->uc;
    uc_mem_write(uc, 0, image, RAM_SIZE);
    for (int i = 0; i < 8; i++) {
        uc_reg_write(uc, uc_regs[i], &c->regs[i]);
    }
    uint32_t fl = c->eflags;
    uc_reg_write(uc, UC_X86_REG_EFLAGS, &fl);
    u->intno = -1;
    uc_err e = uc_emu_start(uc, CODE, CODE + c->len, 0, 1000);
    if (e == UC_ERR_INSN_INVALID && u->intno < 0) {
        /* Unicorn reports #UD as this error, not through the hook */
        uc_intr(uc, 6, u);
        e = UC_ERR_OK;
    }
    if (e != UC_ERR_OK) {
        uc_reopen(u);
        return false;
    }
    for (int i = 0; i < 8; i++) {
        uc_reg_read(uc, uc_regs[i], &regs[i]);
    }
    uc_reg_read(uc, UC_X86_REG_EFLAGS, eflags);
    uc_mem_read(uc, DATA, mem_out, DATA_LEN);
    if (c->a16) {
        uc_mem_read(uc, 0, low_out, 0x10000);
    }
    if (u->intno >= 0) {
        uc_reopen(u);   /* uc is closed from here on */
    }
    return true;
}

/* ---- main ---- */

typedef struct Stat { int pass, fail; } Stat;

static const char *reg_names[8] = { "eax", "ecx", "edx", "ebx",
                                    "esp", "ebp", "esi", "edi" };

static void dump_case(const Tmpl *t, const Case *c)
{
    fprintf(stderr, "FAIL %s: bytes", t->name);
    for (int i = 0; i < c->len; i++) {
        fprintf(stderr, " %02x", c->code[i]);
    }
    fprintf(stderr, "\n  in :");
    for (int i = 0; i < 8; i++) {
        fprintf(stderr, " %s=%08x", reg_names[i], c->regs[i]);
    }
    fprintf(stderr, " fl=%08x\n", c->eflags);
}

int main(int argc, char **argv)
{
    long cases = 20000;
    uint64_t seed = 1;
    int verbose_max = 3;
    int seq = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) {
            cases = atol(argv[++i]);
        } else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "-k") && i + 1 < argc) {
            seq = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "-v")) {
            verbose_max = 1000000;
        } else {
            fprintf(stderr, "usage: uc-diff [-n CASES] [-s SEED] [-k MAXSEQ] [-v]\n");
            return 2;
        }
    }
    Rig rig;
    rig_init(&rig, RAM_SIZE);
    UcRun u = { 0 };
    if (!uc_reopen(&u)) {
        fprintf(stderr, "uc-diff: cannot open Unicorn\n");
        return 1;
    }

    size_t nt = G_N_ELEMENTS(tmpls);
    Stat *st = g_new0(Stat, nt);
    Rng rng = { seed * 0x9e3779b97f4a7c15ull + 12345 };
    uint8_t *data = g_malloc(DATA_LEN);
    uint8_t *umem = g_malloc(DATA_LEN);
    uint8_t *low = g_malloc0(0x10000 - LOW16);
    uint8_t *ulow = g_malloc(0x10000);
    long pass = 0, fail = 0, skipped = 0, n_a16 = 0, n_exc = 0;
    for (long k = 0; k < cases; k++) {
        Case c;
        memset(&c, 0, sizeof(c));
        int ninsn = 1 + (seq > 1 ? rnd(&rng) % seq : 0);
        size_t ti;
        const Tmpl *t;
        for (int j = 0; j < ninsn - 1; j++) {
            do {
                ti = rnd(&rng) % nt;
            } while (!seq_ok(&tmpls[ti]));
            gen_insn(&rng, &c, &tmpls[ti], false);
        }
        ti = rnd(&rng) % nt;
        t = &tmpls[ti];
        if (t->flags & T_STR) {
            c.len = 0;   /* a prefix may have made ECX huge */
        }
        gen_insn(&rng, &c, t, ninsn == 1);
        gen_regs(&rng, &c, t);
        /* the string templates need a small ECX whatever came first */
        memset(data, 0, DATA_LEN);
        for (uint32_t i = 0; i < 0x10000; i += 4) {
            uint32_t v = rnd_val(&rng);
            memcpy(data + i, &v, 4);
        }
        if (c.a16) {
            n_a16++;
            for (uint32_t i = 0; i < 0x10000 - LOW16; i += 4) {
                uint32_t v = rnd_val(&rng);
                memcpy(low + i, &v, 4);
            }
        }
        uint32_t uregs[8], ufl;
        mimic_setup(&rig, &c, data, low);
        if (c.a16) {
            memset(low, 0, 0x10000 - LOW16);
        }
        if (!uc_case(&u, &c, rig.ram, uregs, &ufl, umem, ulow)) {
            skipped++;
            continue;
        }
        CpuExit why = CPU_EXIT_BUDGET;
        rig.cpu->ops->run(rig.cpu, 5000, &why);
        X86Cpu *x = rig.x;
        uint32_t mfl = x86_get_eflags(x);
        int mexc = -1;
        uint32_t end = x->rip;
        if (end >= EXC_STUBS + 1 && end <= EXC_STUBS + 32) {
            mexc = end - EXC_STUBS - 1;
        }
        bool bad = false;
        char why_s[256] = "";
        if (u.intno >= 0 || mexc >= 0) {
            /* A sequence that aimed ESP outside DATA (LEAVE, MOV ESP)
               makes Mimic deliver the exception onto a stack that may
               overlap the tables: nothing to compare. */
            uint32_t esp0 = x->regs[R_ESP];
            if (mexc < 0 && (esp0 < DATA || esp0 >= DATA + DATA_LEN)) {
                skipped++;
                continue;
            }
            if (u.intno != mexc) {
                bad = true;
                snprintf(why_s, sizeof(why_s), "exception uc=%d mimic=%d",
                         u.intno, mexc);
            }
            /* Both faulted the same way: the saved EIP is the faulting
               instruction's, the registers are as it found them (ESP
               below Mimic's frame: [error code,] EIP, CS, EFLAGS), and
               memory outside that frame agrees. */
            uint32_t fsz = 12;
            if (!bad && (mexc == 8 || (mexc >= 10 && mexc <= 14) ||
                         mexc == 17)) {
                fsz = 16;
            }
            uint32_t sp = x->regs[R_ESP];
            if (!bad && (sp < DATA || sp > DATA + DATA_LEN - fsz)) {
                /* an earlier instruction aimed ESP elsewhere: the frame
                   went where nothing is compared */
                st[ti].pass++;
                pass++;
                continue;
            }
            uint32_t feip = rig_get32(&rig, sp + fsz - 12);
            if (!bad && feip != u.eip) {
                bad = true;
                snprintf(why_s, sizeof(why_s), "saved eip mimic=%08x "
                         "uc=%08x (vector %d, mimic esp %08x)", feip, u.eip,
                         mexc, sp);
            }
            for (int i = 0; !bad && i < 8; i++) {
                uint32_t mv = i == R_ESP ? sp + fsz : x->regs[i];
                if (mv != u.regs[i]) {
                    bad = true;
                    snprintf(why_s, sizeof(why_s), "at the fault %s "
                             "mimic=%08x uc=%08x (vector %d)", reg_names[i],
                             mv, u.regs[i], mexc);
                }
            }
            for (uint32_t i = 0; !bad && i < DATA_LEN; i++) {
                uint32_t a = DATA + i;
                if ((a < sp || a >= sp + fsz) && rig.ram[a] != umem[i]) {
                    bad = true;
                    snprintf(why_s, sizeof(why_s), "at the fault memory %08x "
                             "mimic=%02x uc=%02x", a, rig.ram[a], umem[i]);
                }
            }
            if (!bad) {
                st[ti].pass++;
                pass++;
                n_exc++;
                continue;
            }
        }
        if (!bad && (why != CPU_EXIT_HALTED || end != CODE + c.len + 1)) {
            bad = true;
            snprintf(why_s, sizeof(why_s), "mimic stopped at %08x (exit %d)",
                     end, why);
        }
        uint32_t mask = F_ARITH | F_DF | F_IF | F_TF;
        if (!bad) {
            uint32_t und = c.undef;
            /* shifts: OF undefined unless the count is 1 (rotates too,
               as QEMU computes it differently for larger counts) */
            if (t->flags & T_SHIFT) {
                und |= F_OF;
            }
            mask &= ~und;
            for (int i = 0; i < 8; i++) {
                if (x->regs[i] != uregs[i]) {
                    bad = true;
                    snprintf(why_s, sizeof(why_s),
                             "%s mimic=%08x uc=%08x", reg_names[i],
                             (uint32_t)x->regs[i], uregs[i]);
                    break;
                }
            }
        }
        if (!bad && ((mfl ^ ufl) & mask)) {
            bad = true;
            snprintf(why_s, sizeof(why_s), "eflags mimic=%08x uc=%08x "
                     "(diff %03x)", mfl, ufl, (mfl ^ ufl) & mask);
        }
        if (!bad && memcmp(rig.ram + DATA, umem, DATA_LEN)) {
            for (uint32_t i = 0; i < DATA_LEN; i++) {
                if (rig.ram[DATA + i] != umem[i]) {
                    snprintf(why_s, sizeof(why_s),
                             "memory at %08x mimic=%02x uc=%02x (was %02x)",
                             DATA + i, rig.ram[DATA + i], umem[i], data[i]);
                    break;
                }
            }
            bad = true;
        }
        if (!bad && c.a16 && memcmp(rig.ram, ulow, 0x10000)) {
            for (uint32_t i = 0; i < 0x10000; i++) {
                if (rig.ram[i] != ulow[i]) {
                    snprintf(why_s, sizeof(why_s),
                             "memory at %08x mimic=%02x uc=%02x", i,
                             rig.ram[i], ulow[i]);
                    break;
                }
            }
            bad = true;
        }
        if (bad) {
            if (st[ti].fail < verbose_max) {
                dump_case(t, &c);
                fprintf(stderr, "  %s\n", why_s);
            }
            st[ti].fail++;
            fail++;
        } else {
            st[ti].pass++;
            pass++;
        }
    }
    for (size_t i = 0; i < nt; i++) {
        if (st[i].fail) {
            printf("%-16s %6d passed %6d failed\n", tmpls[i].name,
                   st[i].pass, st[i].fail);
        }
    }
    if (skipped) {
        printf("uc-diff: %ld cases Unicorn could not run (skipped)\n",
               skipped);
    }
    printf("uc-diff: %ld cases with 16-bit addressing, %ld exceptions "
           "compared\n", n_a16, n_exc);
    printf("uc-diff: %ld passed, %ld failed\n", pass, fail);
    uc_close(u.uc);
    rig_free(&rig);
    g_free(st);
    g_free(data);
    g_free(umem);
    g_free(low);
    g_free(ulow);
    return fail ? 1 : 0;
}
