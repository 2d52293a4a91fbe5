/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Differential single-step tests of 64-bit mode (src/arch/x86/exec_64.c)
 * against Unicorn in UC_MODE_64: random register-operand integer
 * instructions with REX prefixes (R8-R15, SPL..DIL, AH..BH without REX),
 * 8/16/32/64-bit operand sizes (32-bit writes zero-extend), immediates,
 * ALU, shifts and rotates (also through CF), MUL/IMUL/DIV/IDIV (cases
 * where Unicorn raises #DE are skipped), MOVSXD, CDQE/CQO, BSWAP,
 * NEG/NOT, INC/DEC, XCHG/XADD/CMPXCHG, CMOVcc/SETcc, BT*, BSF/BSR,
 * MOVZX/MOVSX and LEA with SIB and RIP-relative forms; a third of them
 * with a memory operand ([base + disp8] into 1 KiB of random bytes; BT
 * with a register offset reaches past the operand); PUSH/POP/LEAVE on a
 * stack in that area; MOVS/CMPS/STOS/LODS/SCAS with REP/REPNE, DF and
 * the 66/REX.W/67 prefixes.  The 16 registers,
 * the flags each instruction defines and the memory must agree.
 *
 * Deviation of Unicorn (QEMU 5.0's TCG), not compared: a 32-bit CMPXCHG
 * with a register destination whose comparison fails leaves that
 * register alone on hardware (the accumulator gets its value; the
 * register is not written, so its upper half stays), Unicorn
 * zero-extends it.  user-diff64 checks this case against the host CPU.
 *
 * usage: uc-diff64 [-n CASES] [-s SEED] [-v]
 * Prints `uc-diff64: N passed, M failed, K skipped`; exit 1 on a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <unicorn/unicorn.h>

#include "x86-rig.h"

#define RAM (8u << 20)
#define GDT 0x1000u
#define CODE 0x2100u
#define PML4 0x10000u
#define DATA 0x100000u   /* 1 KiB of random bytes; memory operands */
#define DATA_LEN 0x400u

static const int uc_regs[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
    UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
    UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

#define ARITH 0x8d5u /* OF SF ZF AF PF CF */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t x = rng_state;
    x ^= x >> 29;
    return x * 0xbf58476d1ce4e5b9ull ^ (x >> 32);
}

/* Interesting values: small, boundaries, random. */
static uint64_t rval(void)
{
    static const uint64_t special[] = {
        0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
        0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull,
        0x8000000000000000ull, ~0ull, 63, 64, 31, 32,
    };
    uint64_t r = rnd();
    switch (r % 4) {
    case 0:
        return special[(r >> 8) % G_N_ELEMENTS(special)];
    case 1:
        return (r >> 8) & 0xffff;
    default:
        return rnd();
    }
}

typedef struct Case {
    uint8_t code[16];
    int len;
    uint32_t defined; /* flags compared */
    const char *name;
    bool mem;         /* ModRM operands are [base + disp8] */
    bool stack;       /* RSP into the data area */
    bool str;         /* RSI/RDI into the data area, small RCX, DF */
    unsigned base;
    int8_t disp;
    int cmpxchg32_rm; /* a 32-bit CMPXCHG's register destination, or -1 */
} Case;

static void emit(Case *c, uint8_t b)
{
    c->code[c->len++] = b;
}

/* Prefixes and a register-register ModRM for an operation of size sz
   (1, 2, 4, 8); reg/rm 0..15.  Without REX a byte register 4..7 is
   AH..BH; a REX forces SPL..DIL. */
static void modrm_rr(Case *c, unsigned sz, unsigned reg, unsigned rm,
                     bool force_rex, const uint8_t *op, int oplen)
{
    if (sz == 2) {
        emit(c, 0x66);
    }
    if (c->mem) {
        rm = c->base;
    }
    unsigned rex = (sz == 8 ? 8 : 0) | (reg & 8 ? 4 : 0) | (rm & 8 ? 1 : 0);
    if (rex || force_rex) {
        emit(c, 0x40 | rex);
    }
    for (int i = 0; i < oplen; i++) {
        emit(c, op[i]);
    }
    if (c->mem) {
        emit(c, 0x40 | (reg & 7) << 3 | (c->base & 7));
        emit(c, (uint8_t)c->disp);
        return;
    }
    emit(c, 0xc0 | (reg & 7) << 3 | (rm & 7));
}

static unsigned rsize(void)
{
    static const unsigned s[] = { 1, 2, 4, 8, 8, 4 };
    return s[rnd() % 6];
}

static void gen(Case *c)
{
    memset(c, 0, sizeof(*c));
    c->cmpxchg32_rm = -1;
    c->mem = rnd() % 3 == 0;
    do {
        c->base = rnd() % 16;
    } while ((c->base & 7) == 4); /* RSP/R12 need a SIB byte */
    c->disp = rnd();
    unsigned reg = rnd() % 16, rm = rnd() % 16;
    bool rexb = rnd() % 2;
    unsigned k = rnd() % 22;
    unsigned sz = rsize();
    unsigned b = sz == 1 ? 0 : 1; /* the byte/word bit of the opcode */
    switch (k) {
    case 0: case 1: { /* ALU r/m, r and r, r/m */
        unsigned op = rnd() % 8;
        uint8_t o = op << 3 | (k ? 2 : 0) | b;
        modrm_rr(c, sz, reg, rm, rexb, &o, 1);
        c->defined = op == 1 || op == 4 || op == 6 ? ARITH & ~0x10u : ARITH;
        c->name = "alu";
        break;
    }
    case 2: { /* ALU r/m, imm (80/81/83) */
        unsigned op = rnd() % 8;
        uint8_t o = sz == 1 ? 0x80 : (rnd() % 2 ? 0x81 : 0x83);
        modrm_rr(c, sz, op, rm, rexb, &o, 1);
        unsigned n = o == 0x81 ? (sz == 2 ? 2 : 4) : 1;
        for (unsigned i = 0; i < n; i++) {
            emit(c, rnd());
        }
        c->defined = op == 1 || op == 4 || op == 6 ? ARITH & ~0x10u : ARITH;
        c->name = "alu-imm";
        break;
    }
    case 3: { /* shifts and rotates by imm8, 1, CL */
        unsigned op = rnd() % 8;
        if (op == 6) {
            op = 4;
        }
        unsigned form = rnd() % 3;
        uint8_t o = (form == 0 ? 0xc0 : form == 1 ? 0xd0 : 0xd2) | b;
        modrm_rr(c, sz, op, rm, rexb, &o, 1);
        if (form == 0) {
            emit(c, rnd() % 70);
        }
        /* OF only for counts of 1; AF never; rotates touch CF/OF only. */
        c->defined = op < 4 ? 0x1u : ARITH & ~0x10u & ~0x800u;
        if (form == 1) {
            c->defined |= 0x800;
        }
        c->name = op < 2 ? "rol/ror" : op < 4 ? "rcl/rcr" : "shift";
        break;
    }
    case 4: { /* MUL, IMUL, DIV, IDIV, NEG, NOT */
        unsigned op = 2 + rnd() % 6;
        uint8_t o = 0xf6 | b;
        modrm_rr(c, sz, op, rm, rexb, &o, 1);
        c->defined = op == 2 ? 0 : op == 3 ? ARITH : op < 6 ? 0x801u : 0;
        c->name = op < 4 ? "neg/not" : op < 6 ? "mul" : "div";
        break;
    }
    case 5: { /* IMUL r, r/m; IMUL r, r/m, imm8 */
        if (sz == 1) {
            sz = 8;
        }
        if (rnd() % 2) {
            static const uint8_t o[2] = { 0x0f, 0xaf };
            modrm_rr(c, sz, reg, rm, rexb, o, 2);
        } else {
            uint8_t o = 0x6b;
            modrm_rr(c, sz, reg, rm, rexb, &o, 1);
            emit(c, rnd());
        }
        c->defined = 0x801;
        c->name = "imul";
        break;
    }
    case 6: { /* MOVSXD, MOVZX, MOVSX */
        static const uint8_t ops[5][2] = {
            { 0x63 }, { 0x0f, 0xb6 }, { 0x0f, 0xb7 }, { 0x0f, 0xbe },
            { 0x0f, 0xbf },
        };
        unsigned w = rnd() % 5;
        if (sz == 1) {
            sz = 4;
        }
        modrm_rr(c, sz, reg, rm, rexb, ops[w], w ? 2 : 1);
        c->name = "movx";
        break;
    }
    case 7: { /* CBW/CWDE/CDQE, CWD/CDQ/CQO, BSWAP */
        if (sz == 1) {
            sz = 8;
        }
        unsigned w = rnd() % 3;
        if (sz == 2 && w == 2) {
            sz = 4; /* BSWAP r16 is undefined */
        }
        if (sz == 2) {
            emit(c, 0x66);
        }
        unsigned rex = (sz == 8 ? 8 : 0) | (w == 2 && (rm & 8) ? 1 : 0);
        if (rex) {
            emit(c, 0x40 | rex);
        }
        if (w == 2) {
            emit(c, 0x0f);
            emit(c, 0xc8 | (rm & 7));
        } else {
            emit(c, 0x98 + w);
        }
        c->name = "cbw/cwd/bswap";
        break;
    }
    case 8: { /* INC, DEC */
        uint8_t o = 0xfe | b;
        modrm_rr(c, sz, rnd() % 2, rm, rexb, &o, 1);
        c->defined = ARITH;
        c->name = "inc/dec";
        break;
    }
    case 9: { /* XCHG, XADD, CMPXCHG */
        unsigned w = rnd() % 3;
        uint8_t o[2] = { 0x86 | b };
        if (w) {
            o[0] = 0x0f;
            o[1] = (w == 1 ? 0xc0 : 0xb0) | b;
        }
        modrm_rr(c, sz, reg, rm, rexb, o, w ? 2 : 1);
        c->defined = w ? ARITH : 0;
        c->name = "xchg/xadd/cmpxchg";
        if (w == 2 && sz == 4 && !c->mem) {
            c->cmpxchg32_rm = (int)rm;
        }
        break;
    }
    case 10: { /* CMOVcc */
        if (sz == 1) {
            sz = 8;
        }
        uint8_t o[2] = { 0x0f, 0x40 | (rnd() % 16) };
        modrm_rr(c, sz, reg, rm, rexb, o, 2);
        c->name = "cmov";
        break;
    }
    case 11: { /* SETcc */
        uint8_t o[2] = { 0x0f, 0x90 | (rnd() % 16) };
        modrm_rr(c, 1, 0, rm, rexb, o, 2);
        c->name = "setcc";
        break;
    }
    case 12: { /* BT/BTS/BTR/BTC r, r and imm8 */
        if (sz == 1) {
            sz = 8;
        }
        if (rnd() % 2) {
            uint8_t o[2] = { 0x0f, 0xa3 | (rnd() % 4) << 3 };
            modrm_rr(c, sz, reg, rm, rexb, o, 2);
        } else {
            uint8_t o[2] = { 0x0f, 0xba };
            modrm_rr(c, sz, 4 + rnd() % 4, rm, rexb, o, 2);
            emit(c, rnd());
        }
        c->defined = 0x1;
        c->name = "bt";
        break;
    }
    case 13: { /* BSF, BSR: ZF; the destination is kept for 0 (as Intel
                  CPUs do, and QEMU) */
        if (sz == 1) {
            sz = 8;
        }
        uint8_t o[2] = { 0x0f, 0xbc | (rnd() % 2) };
        modrm_rr(c, sz, reg, rm, rexb, o, 2);
        c->defined = 0x40;
        c->name = "bsf/bsr";
        break;
    }
    case 14: { /* LEA with SIB or RIP-relative, 64/32-bit address */
        if (sz == 1) {
            sz = 8;
        }
        if (rnd() % 3 == 0) {
            emit(c, 0x67);
        }
        if (sz == 2) {
            emit(c, 0x66);
        }
        unsigned base = rnd() % 16, index = rnd() % 16;
        bool rip = rnd() % 4 == 0;
        unsigned rex = (sz == 8 ? 8 : 0) | (reg & 8 ? 4 : 0) |
                       (!rip && index & 8 ? 2 : 0) |
                       (!rip && base & 8 ? 1 : 0);
        if (rex) {
            emit(c, 0x40 | rex);
        }
        emit(c, 0x8d);
        if (rip) {
            emit(c, (reg & 7) << 3 | 5);
            for (int i = 0; i < 4; i++) {
                emit(c, rnd());
            }
        } else {
            unsigned mod = 1 + rnd() % 2;
            emit(c, mod << 6 | (reg & 7) << 3 | 4);
            emit(c, (rnd() % 4) << 6 | (index & 7) << 3 | (base & 7));
            for (unsigned i = 0; i < (mod == 1 ? 1u : 4u); i++) {
                emit(c, rnd());
            }
        }
        c->name = "lea";
        break;
    }
    case 15: { /* PUSH/POP r (16 or 64 bits), PUSH imm, POP r/m, LEAVE */
        c->stack = true;
        unsigned w = rnd() % 5;
        bool o16 = rnd() % 4 == 0;
        if (w == 3) {
            uint8_t o = 0x8f;
            modrm_rr(c, o16 ? 2 : 4, 0, rm, false, &o, 1);
        } else {
            if (o16) {
                emit(c, 0x66);
            }
            if (w < 2 && (rm & 8)) {
                emit(c, 0x41);
            }
            if (w == 0) {
                emit(c, 0x50 | (rm & 7));
            } else if (w == 1) {
                emit(c, 0x58 | (rm & 7));
            } else if (w == 2) {
                emit(c, 0x6a);
                emit(c, rnd());
            } else {
                emit(c, 0xc9);
                c->mem = false;
            }
        }
        c->name = "push/pop";
        break;
    }
    case 16: case 17: { /* string instructions, REP, DF, 66/REX.W/67 */
        static const uint8_t ops[] = { 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab,
                                       0xac, 0xad, 0xae, 0xaf };
        uint8_t op = ops[rnd() % sizeof(ops)];
        c->str = true;
        c->mem = false;
        if (rnd() % 2) {
            emit(c, (op & 0xf6) == 0xa6 && rnd() % 2 ? 0xf2 : 0xf3);
        }
        if (rnd() % 4 == 0) {
            emit(c, 0x67);
        }
        if ((op & 1) && rnd() % 3 == 0) {
            emit(c, 0x66);
        } else if ((op & 1) && rnd() % 2) {
            emit(c, 0x48);
        }
        emit(c, op);
        c->defined = (op & 0xf6) == 0xa6 ? ARITH : 0;
        c->name = "string";
        break;
    }
    default: { /* MOV r, r / r, imm (imm64 too) */
        if (rnd() % 2) {
            uint8_t o = 0x88 | b | (rnd() % 2 ? 2 : 0);
            modrm_rr(c, sz, reg, rm, rexb, &o, 1);
        } else {
            if (sz == 2) {
                emit(c, 0x66);
            }
            unsigned rex = (sz == 8 ? 8 : 0) | (rm & 8 ? 1 : 0);
            if (rex || rexb) {
                emit(c, 0x40 | rex);
            }
            emit(c, (sz == 1 ? 0xb0 : 0xb8) | (rm & 7));
            for (unsigned i = 0; i < sz; i++) {
                emit(c, rnd());
            }
        }
        c->name = "mov";
        break;
    }
    }
}

static uc_engine *uc_setup(void)
{
    uc_engine *uc;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK) {
        return NULL;
    }
    uc_mem_map(uc, 0, 0x200000, UC_PROT_ALL);
    return uc;
}

/* Mimic in 64-bit mode: 4-level identity paging of 0-2 MiB, a 64-bit
   code segment, CPL 0. */
static void mimic_setup(Rig *r)
{
    rig_init_model(r, RAM, "max");
    rig_flat(r, GDT, 0);
    X86Cpu *x = r->x;
    rig_put32(r, PML4, (PML4 + 0x1000) | 3);
    rig_put32(r, PML4 + 0x1000, (PML4 + 0x2000) | 3);
    rig_put32(r, PML4 + 0x2000, 0x83); /* 2 MiB at 0 */
    x->cr4 |= CR4_PAE;
    x->efer = EFER_LME;
    x->cr3 = PML4;
    x86_set_cr0(x, x->cr0 | CR0_PG);
    g_assert_true(x->lma);
    x->gdt.limit = 0x1f;
    rig_desc_set(r, GDT, 0x18, 0, 0xfffff, 0x9a, 0xa);
    rig_load_seg(r, S_CS, 0x18);
    x86_update_mode(x);
    g_assert_true(x->code64);
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
        } else if (!strcmp(argv[i], "-v")) {
            verbose = true;
        } else {
            fprintf(stderr, "usage: uc-diff64 [-n CASES] [-s SEED] [-v]\n");
            return 2;
        }
    }
    rng_state = seed;
    uc_engine *uc = uc_setup();
    if (!uc) {
        printf("uc-diff64: Unicorn has no x86-64 engine: skipped\n");
        return 77;
    }
    Rig r;
    mimic_setup(&r);
    X86Cpu *x = r.x;
    long passed = 0, failed = 0, skipped = 0;
    for (long n = 0; n < cases; n++) {
        Case c;
        gen(&c);
        uint64_t regs[16];
        for (int i = 0; i < 16; i++) {
            regs[i] = rval();
        }
        uint64_t fl = 2 | (rnd() & ARITH);
        if (c.mem) {
            regs[c.base] = DATA + 0x180 + rnd() % 0x100;
        }
        if (c.stack) {
            regs[R_ESP] = DATA + 0x200 + (rnd() % 0x40) * 2;
            regs[R_EBP] = DATA + 0x100 + (rnd() % 0x40) * 8;
        }
        if (c.str) {
            regs[R_ESI] = DATA + 0x100 + rnd() % 0x40;
            regs[R_EDI] = DATA + 0x280 + rnd() % 0x40;
            regs[R_ECX] = rnd() % 9;
            fl |= rnd() % 2 ? 0x400 : 0; /* DF */
        }
        uint8_t data[DATA_LEN];
        for (unsigned i = 0; i < DATA_LEN; i++) {
            data[i] = rnd();
        }
        uc_mem_write(uc, DATA, data, DATA_LEN);
        rig_load(&r, DATA, data, DATA_LEN);
        /* Unicorn */
        uc_mem_write(uc, CODE, c.code, c.len);
        for (int i = 0; i < 16; i++) {
            uc_reg_write(uc, uc_regs[i], &regs[i]);
        }
        uc_reg_write(uc, UC_X86_REG_EFLAGS, &fl);
        uc_err e = uc_emu_start(uc, CODE, CODE + c.len, 0, 0);
        if (e != UC_ERR_OK) {
            skipped++; /* #DE (divide) */
            continue;
        }
        uint64_t ur[16], uf = 0, urip = 0;
        for (int i = 0; i < 16; i++) {
            uc_reg_read(uc, uc_regs[i], &ur[i]);
        }
        uc_reg_read(uc, UC_X86_REG_EFLAGS, &uf);
        uc_reg_read(uc, UC_X86_REG_RIP, &urip);
        if (urip != CODE + (uint64_t)c.len) {
            skipped++;
            continue;
        }
        /* Mimic: the instruction, then HLT. */
        uint8_t code[17];
        memcpy(code, c.code, c.len);
        code[c.len] = 0xf4;
        rig_load(&r, CODE, code, c.len + 1);
        memcpy(x->regs, regs, sizeof(regs));
        x->lf_op = LF_NONE;
        x->eflags = (uint32_t)fl;
        x->rip = CODE;
        x->halted = false;
        CpuExit why = rig_run(&r, 10);
        bool bad = why != CPU_EXIT_HALTED || x->rip != CODE + c.len + 1u;
        uint32_t mf = x86_get_eflags(x);
        if (c.cmpxchg32_rm >= 0 && !(mf & 0x40) &&
            x->regs[c.cmpxchg32_rm] == regs[c.cmpxchg32_rm] &&
            ur[c.cmpxchg32_rm] == (uint32_t)regs[c.cmpxchg32_rm]) {
            ur[c.cmpxchg32_rm] = regs[c.cmpxchg32_rm]; /* see the top */
        }
        for (int i = 0; i < 16 && !bad; i++) {
            bad = x->regs[i] != ur[i];
        }
        bad = bad || ((mf ^ (uint32_t)uf) & c.defined);
        uint8_t ud[DATA_LEN];
        uc_mem_read(uc, DATA, ud, DATA_LEN);
        bool mem_bad = memcmp(ud, r.ram + DATA, DATA_LEN) != 0;
        bad = bad || mem_bad;
        if (!bad) {
            passed++;
            continue;
        }
        failed++;
        if (failed <= 30 || verbose) {
            printf("FAIL %s:", c.name);
            for (int i = 0; i < c.len; i++) {
                printf(" %02x", c.code[i]);
            }
            printf("  (exit %d rip %#" PRIx64 ")\n", why, x->rip);
            for (int i = 0; i < 16; i++) {
                if (x->regs[i] != ur[i] || verbose) {
                    printf("  r%d in %016" PRIx64 " mimic %016" PRIx64
                           " unicorn %016" PRIx64 "\n", i, regs[i],
                           x->regs[i], ur[i]);
                }
            }
            printf("  flags in %03" PRIx64 " mimic %03x unicorn %03" PRIx64
                   " (compared %03x)%s\n", fl, mf & ARITH, uf & ARITH,
                   c.defined, mem_bad ? " memory differs" : "");
        }
        /* Start the next case from a sane CPU. */
        rig_free(&r);
        mimic_setup(&r);
        x = r.x;
    }
    printf("uc-diff64: %ld passed, %ld failed, %ld skipped\n", passed,
           failed, skipped);
    rig_free(&r);
    uc_close(uc);
    return failed ? 1 : 0;
}
