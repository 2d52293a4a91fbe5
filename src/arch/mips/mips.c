/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MIPS interpreter: fetch, decode by the major opcode and its function
 * fields, execute; branch delay slots through the pc/npc pair (a taken
 * branch replaces npc, so the delay slot at pc runs first).
 *
 * Reference: MIPS32/MIPS64 Volume II-A (MD00086, MD00087) for every
 * instruction's operation section; the opcode tables of their appendix A.
 * 32-bit results are kept sign-extended in the 64-bit registers, as the
 * MIPS64 architecture defines, so MIPS32 is MIPS64 without the
 * doubleword instructions.
 */
#include "arch/mips/mips.h"
#include "arch/mips/mips_int.h"

#include <string.h>

/* Capstone for disassembly when it is installed (the layer rules keep
   config.h out of arch/, so test for the header, as the x86 core does). */
#if defined(__has_include)
#if __has_include(<capstone/capstone.h>)
#include <capstone/capstone.h>
#define USE_CAPSTONE 1
#endif
#endif

static const MipsModel mips_models[] = {
    { "24Kf", "MIPS32r2 with FPU (24Kf)", false, true, 0x00739300,
      0x00019300 },
    { "4Kc", "MIPS32r2 without FPU (4Kc)", false, false, 0, 0x00018000 },
    { "5KEf", "MIPS64r2 with FPU (5KEf)", true, true, 0x00f70000 | 0x8900,
      0x00018900 },
    { "5KEc", "MIPS64r2 without FPU (5KEc)", true, false, 0, 0x00018900 },
    { "MIPS64R2-generic", "MIPS64r2 with FPU", true, true,
      0x00f70000 | 0x8900, 0x00010000 },
};

const MipsModel *mips_model_find(const char *name, bool is64)
{
    for (size_t i = 0; i < G_N_ELEMENTS(mips_models); i++) {
        const MipsModel *m = &mips_models[i];
        if (!is64 && m->is64) {
            continue;
        }
        if (!name ? (m->is64 == is64) : !g_ascii_strcasecmp(name, m->name)) {
            return m;
        }
    }
    return NULL;
}

void mips_model_list(GString *out, bool is64)
{
    for (size_t i = 0; i < G_N_ELEMENTS(mips_models); i++) {
        const MipsModel *m = &mips_models[i];
        if (!is64 && m->is64) {
            continue;
        }
        g_string_append_printf(out, "  %-18s %s\n", m->name, m->description);
    }
}

void mips_init(MipsCpu *cpu, const MipsModel *model, bool big_endian)
{
    MipsCpu tmp = { 0 };
    tmp.model = model;
    tmp.is64 = model->is64;
    tmp.big_endian = big_endian;
    tmp.fir = model->fir;
    tmp.fr = model->is64; /* n64 runs with FR = 1, o32 with FR = 0 */
    tmp.pc = 0;
    tmp.npc = 4;
    memcpy(cpu, &tmp, offsetof(MipsCpu, jmp));
}

void mips_set_pc(MipsCpu *cpu, uint64_t addr)
{
    cpu->pc = addr;
    cpu->npc = addr + 4;
    cpu->in_delay = false;
}

G_NORETURN void mips_raise(MipsCpu *cpu, int code, uint64_t badvaddr)
{
    cpu->exc_code = code;
    cpu->exc_badvaddr = badvaddr;
    cpu->exc_bd = cpu->cur_delay;
    cpu->exc_epc = cpu->cur_delay ? cpu->cur_pc - 4 : cpu->cur_pc;
    siglongjmp(cpu->jmp, 1);
}

G_NORETURN void mips_fault_from_signal(MipsCpu *cpu, uint64_t addr,
                                       bool write)
{
    mips_raise(cpu, write ? MIPS_EXC_TLBS : MIPS_EXC_TLBL, addr);
}

/* ---- memory ---- */

/* The address translation: user mode's flat window.  The system parts
   (KSEG0/KSEG1 unmapped segments, the TLB) hook in here. */
static inline uint8_t *mips_translate(MipsCpu *cpu, uint64_t addr,
                                      unsigned size, bool write)
{
    if (!cpu->is64) {
        addr = (uint32_t)addr;
    }
    if (G_UNLIKELY(addr >= cpu->mem_limit ||
                   cpu->mem_limit - addr < size)) {
        mips_raise(cpu, write ? MIPS_EXC_ADES : MIPS_EXC_ADEL, addr);
    }
    return cpu->mem_base + addr;
}

static inline void check_align(MipsCpu *cpu, uint64_t addr, unsigned size,
                               bool write)
{
    if (G_UNLIKELY(addr & (size - 1))) {
        mips_raise(cpu, write ? MIPS_EXC_ADES : MIPS_EXC_ADEL,
                   cpu->is64 ? addr : (uint64_t)(int64_t)(int32_t)addr);
    }
}

static inline __attribute__((always_inline)) uint64_t load_inl(MipsCpu *cpu,
                                                     uint64_t addr,
                                                     unsigned size)
{
    check_align(cpu, addr, size, false);
    uint8_t *p = mips_translate(cpu, addr, size, false);
    switch (size) {
    case 1:
        return *p;
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return cpu->big_endian ? GUINT16_FROM_BE(v) : GUINT16_FROM_LE(v);
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return cpu->big_endian ? GUINT32_FROM_BE(v) : GUINT32_FROM_LE(v);
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return cpu->big_endian ? GUINT64_FROM_BE(v) : GUINT64_FROM_LE(v);
    }
    }
}

static inline __attribute__((always_inline)) void store_inl(MipsCpu *cpu,
                                                  uint64_t addr,
                                                  unsigned size,
                                                  uint64_t val)
{
    check_align(cpu, addr, size, true);
    uint8_t *p = mips_translate(cpu, addr, size, true);
    switch (size) {
    case 1:
        *p = (uint8_t)val;
        break;
    case 2: {
        uint16_t v = cpu->big_endian ? GUINT16_TO_BE((uint16_t)val)
                                     : GUINT16_TO_LE((uint16_t)val);
        memcpy(p, &v, 2);
        break;
    }
    case 4: {
        uint32_t v = cpu->big_endian ? GUINT32_TO_BE((uint32_t)val)
                                     : GUINT32_TO_LE((uint32_t)val);
        memcpy(p, &v, 4);
        break;
    }
    default: {
        uint64_t v = cpu->big_endian ? GUINT64_TO_BE(val)
                                     : GUINT64_TO_LE(val);
        memcpy(p, &v, 8);
        break;
    }
    }
}

uint64_t mips_load(MipsCpu *cpu, uint64_t addr, unsigned size)
{
    return load_inl(cpu, addr, size);
}

void mips_store(MipsCpu *cpu, uint64_t addr, unsigned size, uint64_t val)
{
    store_inl(cpu, addr, size, val);
}

/* SC/SCD: succeeds when the word still holds the value LL saw (the
   linked-load monitor of a uniprocessor, made atomic for guest
   threads). */
static bool mips_store_cond(MipsCpu *cpu, uint64_t addr, unsigned size,
                            uint64_t val)
{
    check_align(cpu, addr, size, true);
    uint8_t *p = mips_translate(cpu, addr, size, true);
    if (!cpu->ll_bit || cpu->ll_addr != addr) {
        cpu->ll_bit = false;
        return false;
    }
    cpu->ll_bit = false;
    if (size == 4) {
        uint32_t exp = (uint32_t)cpu->ll_val, nv = (uint32_t)val;
        if (cpu->big_endian) {
            exp = GUINT32_TO_BE(exp);
            nv = GUINT32_TO_BE(nv);
        }
        return __atomic_compare_exchange_n((uint32_t *)p, &exp, nv, false,
                                           __ATOMIC_SEQ_CST,
                                           __ATOMIC_SEQ_CST);
    }
    uint64_t exp = cpu->ll_val, nv = val;
    if (cpu->big_endian) {
        exp = GUINT64_TO_BE(exp);
        nv = GUINT64_TO_BE(nv);
    }
    return __atomic_compare_exchange_n((uint64_t *)p, &exp, nv, false,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static uint32_t mips_fetch(MipsCpu *cpu, uint64_t pc)
{
    if (G_UNLIKELY(pc & 3)) {
        mips_raise(cpu, MIPS_EXC_ADEL, pc);
    }
    return (uint32_t)load_inl(cpu, pc, 4);
}

/* ---- helpers ---- */

#define RS(i) (((i) >> 21) & 31)
#define RT(i) (((i) >> 16) & 31)
#define RD(i) (((i) >> 11) & 31)
#define SA(i) (((i) >> 6) & 31)
#define FUNCT(i) ((i) & 63)
#define SIMM(i) ((int64_t)(int16_t)(i))
#define UIMM(i) ((uint64_t)(uint16_t)(i))

static inline uint64_t sx32(uint64_t v)
{
    return (uint64_t)(int64_t)(int32_t)(uint32_t)v;
}

static inline G_NORETURN void reserved(MipsCpu *cpu)
{
    mips_raise(cpu, MIPS_EXC_RI, 0);
}

static inline void need64(MipsCpu *cpu)
{
    if (!cpu->is64) {
        reserved(cpu);
    }
}

static inline void branch(MipsCpu *cpu, uint64_t target)
{
    cpu->npc = target;
    cpu->in_delay = true;
}

/* A branch-likely not taken nullifies its delay slot. */
static inline void skip_delay(MipsCpu *cpu)
{
    cpu->pc = cpu->npc;
    cpu->npc = cpu->pc + 4;
}

static inline uint64_t bits_mask(unsigned n)
{
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

static unsigned clz64(uint64_t v)
{
    return v ? (unsigned)__builtin_clzll(v) : 64;
}

/* ---- the SPECIAL group (opcode 0) ---- */

static void exec_special(MipsCpu *cpu, uint32_t insn)
{
    uint64_t *r = cpu->gpr;
    unsigned rs = RS(insn), rt = RT(insn), rd = RD(insn), sa = SA(insn);
    uint64_t a = r[rs], b = r[rt];

    switch (FUNCT(insn)) {
    case 0x00: /* SLL (NOP, SSNOP, EHB) */
        r[rd] = sx32((uint32_t)b << sa);
        break;
    case 0x01: /* MOVF/MOVT */
        if (!cpu->model->has_fpu) {
            mips_raise(cpu, MIPS_EXC_CPU, 0);
        }
        if (((cpu->fcsr & mips_fcc_bit((insn >> 18) & 7)) != 0) ==
            ((insn >> 16) & 1)) {
            r[rd] = a;
        }
        break;
    case 0x02: /* SRL, ROTR */
        if (rs == 1) {
            uint32_t v = (uint32_t)b;
            r[rd] = sx32(sa ? (v >> sa) | (v << (32 - sa)) : v);
        } else {
            r[rd] = sx32((uint32_t)b >> sa);
        }
        break;
    case 0x03: /* SRA */
        r[rd] = sx32((uint32_t)((int32_t)b >> sa));
        break;
    case 0x04: /* SLLV */
        r[rd] = sx32((uint32_t)b << (a & 31));
        break;
    case 0x06: { /* SRLV, ROTRV */
        unsigned s = a & 31;
        uint32_t v = (uint32_t)b;
        if (sa == 1) {
            r[rd] = sx32(s ? (v >> s) | (v << (32 - s)) : v);
        } else {
            r[rd] = sx32(v >> s);
        }
        break;
    }
    case 0x07: /* SRAV */
        r[rd] = sx32((uint32_t)((int32_t)b >> (a & 31)));
        break;
    case 0x08: /* JR, JR.HB */
        branch(cpu, a);
        break;
    case 0x09: /* JALR, JALR.HB */
        r[rd] = cpu->cur_pc + 8;
        branch(cpu, a);
        break;
    case 0x0a: /* MOVZ */
        if (b == 0) {
            r[rd] = a;
        }
        break;
    case 0x0b: /* MOVN */
        if (b != 0) {
            r[rd] = a;
        }
        break;
    case 0x0c: /* SYSCALL */
        cpu->exc_insn = insn;
        mips_raise(cpu, MIPS_EXC_SYS, 0);
    case 0x0d: /* BREAK */
        cpu->exc_insn = insn;
        mips_raise(cpu, MIPS_EXC_BP, 0);
    case 0x0f: /* SYNC */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        break;
    case 0x10: /* MFHI */
        r[rd] = cpu->hi;
        break;
    case 0x11: /* MTHI */
        cpu->hi = a;
        break;
    case 0x12: /* MFLO */
        r[rd] = cpu->lo;
        break;
    case 0x13: /* MTLO */
        cpu->lo = a;
        break;
    case 0x14: /* DSLLV */
        need64(cpu);
        r[rd] = b << (a & 63);
        break;
    case 0x16: /* DSRLV, DROTRV */
        need64(cpu);
        if (sa == 1) {
            unsigned s = a & 63;
            r[rd] = s ? (b >> s) | (b << (64 - s)) : b;
        } else {
            r[rd] = b >> (a & 63);
        }
        break;
    case 0x17: /* DSRAV */
        need64(cpu);
        r[rd] = (uint64_t)((int64_t)b >> (a & 63));
        break;
    case 0x18: { /* MULT */
        int64_t p = (int64_t)(int32_t)a * (int64_t)(int32_t)b;
        cpu->lo = sx32((uint64_t)p);
        cpu->hi = sx32((uint64_t)p >> 32);
        break;
    }
    case 0x19: { /* MULTU */
        uint64_t p = (uint64_t)(uint32_t)a * (uint32_t)b;
        cpu->lo = sx32(p);
        cpu->hi = sx32(p >> 32);
        break;
    }
    case 0x1a: { /* DIV: a zero divisor (UNPREDICTABLE) divides by 1 */
        int32_t n = (int32_t)a, d = (int32_t)b;
        if (d == 0 || (n == INT32_MIN && d == -1)) {
            d = 1;
        }
        cpu->lo = sx32((uint32_t)(n / d));
        cpu->hi = sx32((uint32_t)(n % d));
        break;
    }
    case 0x1b: { /* DIVU */
        uint32_t n = (uint32_t)a, d = (uint32_t)b;
        if (d == 0) {
            d = 1;
        }
        cpu->lo = sx32(n / d);
        cpu->hi = sx32(n % d);
        break;
    }
    case 0x1c: { /* DMULT */
        need64(cpu);
        __int128 p = (__int128)(int64_t)a * (int64_t)b;
        cpu->lo = (uint64_t)p;
        cpu->hi = (uint64_t)(p >> 64);
        break;
    }
    case 0x1d: { /* DMULTU */
        need64(cpu);
        unsigned __int128 p = (unsigned __int128)a * b;
        cpu->lo = (uint64_t)p;
        cpu->hi = (uint64_t)(p >> 64);
        break;
    }
    case 0x1e: { /* DDIV */
        need64(cpu);
        int64_t n = (int64_t)a, d = (int64_t)b;
        if (d == 0 || (n == INT64_MIN && d == -1)) {
            d = 1;
        }
        cpu->lo = (uint64_t)(n / d);
        cpu->hi = (uint64_t)(n % d);
        break;
    }
    case 0x1f: { /* DDIVU */
        need64(cpu);
        uint64_t d = b ? b : 1;
        cpu->lo = a / d;
        cpu->hi = a % d;
        break;
    }
    case 0x20: { /* ADD */
        int32_t s;
        if (__builtin_add_overflow((int32_t)a, (int32_t)b, &s)) {
            mips_raise(cpu, MIPS_EXC_OV, 0);
        }
        r[rd] = sx32((uint32_t)s);
        break;
    }
    case 0x21: /* ADDU */
        r[rd] = sx32(a + b);
        break;
    case 0x22: { /* SUB */
        int32_t s;
        if (__builtin_sub_overflow((int32_t)a, (int32_t)b, &s)) {
            mips_raise(cpu, MIPS_EXC_OV, 0);
        }
        r[rd] = sx32((uint32_t)s);
        break;
    }
    case 0x23: /* SUBU */
        r[rd] = sx32(a - b);
        break;
    case 0x24:
        r[rd] = a & b;
        break;
    case 0x25:
        r[rd] = a | b;
        break;
    case 0x26:
        r[rd] = a ^ b;
        break;
    case 0x27:
        r[rd] = ~(a | b);
        break;
    case 0x2a: /* SLT */
        r[rd] = (int64_t)a < (int64_t)b;
        break;
    case 0x2b: /* SLTU */
        r[rd] = a < b;
        break;
    case 0x2c: { /* DADD */
        need64(cpu);
        int64_t s;
        if (__builtin_add_overflow((int64_t)a, (int64_t)b, &s)) {
            mips_raise(cpu, MIPS_EXC_OV, 0);
        }
        r[rd] = (uint64_t)s;
        break;
    }
    case 0x2d: /* DADDU */
        need64(cpu);
        r[rd] = a + b;
        break;
    case 0x2e: { /* DSUB */
        need64(cpu);
        int64_t s;
        if (__builtin_sub_overflow((int64_t)a, (int64_t)b, &s)) {
            mips_raise(cpu, MIPS_EXC_OV, 0);
        }
        r[rd] = (uint64_t)s;
        break;
    }
    case 0x2f: /* DSUBU */
        need64(cpu);
        r[rd] = a - b;
        break;
    case 0x30: /* TGE */
        if ((int64_t)a >= (int64_t)b) {
            goto trap;
        }
        break;
    case 0x31: /* TGEU */
        if (a >= b) {
            goto trap;
        }
        break;
    case 0x32: /* TLT */
        if ((int64_t)a < (int64_t)b) {
            goto trap;
        }
        break;
    case 0x33: /* TLTU */
        if (a < b) {
            goto trap;
        }
        break;
    case 0x34: /* TEQ */
        if (a == b) {
            goto trap;
        }
        break;
    case 0x36: /* TNE */
        if (a != b) {
            goto trap;
        }
        break;
    case 0x38: /* DSLL */
        need64(cpu);
        r[rd] = b << sa;
        break;
    case 0x3a: /* DSRL, DROTR */
        need64(cpu);
        if (rs == 1) {
            r[rd] = sa ? (b >> sa) | (b << (64 - sa)) : b;
        } else {
            r[rd] = b >> sa;
        }
        break;
    case 0x3b: /* DSRA */
        need64(cpu);
        r[rd] = (uint64_t)((int64_t)b >> sa);
        break;
    case 0x3c: /* DSLL32 */
        need64(cpu);
        r[rd] = b << (sa + 32);
        break;
    case 0x3e: /* DSRL32, DROTR32 */
        need64(cpu);
        if (rs == 1) {
            unsigned s = sa + 32;
            r[rd] = (b >> s) | (b << (64 - s));
        } else {
            r[rd] = b >> (sa + 32);
        }
        break;
    case 0x3f: /* DSRA32 */
        need64(cpu);
        r[rd] = (uint64_t)((int64_t)b >> (sa + 32));
        break;
    default:
        reserved(cpu);
    }
    return;
trap:
    cpu->exc_insn = insn;
    mips_raise(cpu, MIPS_EXC_TR, 0);
}

/* ---- REGIMM (opcode 1) ---- */

static void exec_regimm(MipsCpu *cpu, uint32_t insn)
{
    int64_t a = (int64_t)cpu->gpr[RS(insn)];
    uint64_t target = cpu->cur_pc + 4 + (SIMM(insn) << 2);
    int64_t imm = SIMM(insn);
    unsigned rt = RT(insn);
    bool cond;

    switch (rt) {
    case 0x00: case 0x02: case 0x10: case 0x12: /* BLTZ(L), BLTZAL(L) */
        cond = a < 0;
        break;
    case 0x01: case 0x03: case 0x11: case 0x13: /* BGEZ(L), BGEZAL(L) */
        cond = a >= 0;
        break;
    case 0x08: /* TGEI */
        cond = a >= imm;
        goto trap;
    case 0x09: /* TGEIU */
        cond = (uint64_t)a >= (uint64_t)imm;
        goto trap;
    case 0x0a: /* TLTI */
        cond = a < imm;
        goto trap;
    case 0x0b: /* TLTIU */
        cond = (uint64_t)a < (uint64_t)imm;
        goto trap;
    case 0x0c: /* TEQI */
        cond = a == imm;
        goto trap;
    case 0x0e: /* TNEI */
        cond = a != imm;
        goto trap;
    case 0x1f: /* SYNCI: caches are coherent here */
        return;
    default:
        reserved(cpu);
    }
    if (rt & 0x10) {
        cpu->gpr[31] = cpu->cur_pc + 8;
    }
    if (cond) {
        branch(cpu, target);
    } else if (rt & 2) {
        skip_delay(cpu);
    }
    return;
trap:
    if (cond) {
        cpu->exc_insn = insn;
        mips_raise(cpu, MIPS_EXC_TR, 0);
    }
}

/* ---- SPECIAL2 (opcode 0x1c) ---- */

static void exec_special2(MipsCpu *cpu, uint32_t insn)
{
    uint64_t *r = cpu->gpr;
    uint64_t a = r[RS(insn)], b = r[RT(insn)];
    unsigned rd = RD(insn);
    uint64_t acc = ((uint64_t)(uint32_t)cpu->hi << 32) | (uint32_t)cpu->lo;

    switch (FUNCT(insn)) {
    case 0x00: /* MADD */
        acc += (uint64_t)((int64_t)(int32_t)a * (int64_t)(int32_t)b);
        break;
    case 0x01: /* MADDU */
        acc += (uint64_t)(uint32_t)a * (uint32_t)b;
        break;
    case 0x02: /* MUL */
        r[rd] = sx32((uint64_t)((int64_t)(int32_t)a * (int32_t)b));
        return;
    case 0x04: /* MSUB */
        acc -= (uint64_t)((int64_t)(int32_t)a * (int64_t)(int32_t)b);
        break;
    case 0x05: /* MSUBU */
        acc -= (uint64_t)(uint32_t)a * (uint32_t)b;
        break;
    case 0x20: /* CLZ */
        r[rd] = (uint32_t)a ? (unsigned)__builtin_clz((uint32_t)a) : 32;
        return;
    case 0x21: /* CLO */
        r[rd] = ~(uint32_t)a ? (unsigned)__builtin_clz(~(uint32_t)a) : 32;
        return;
    case 0x24: /* DCLZ */
        need64(cpu);
        r[rd] = clz64(a);
        return;
    case 0x25: /* DCLO */
        need64(cpu);
        r[rd] = clz64(~a);
        return;
    case 0x3f: /* SDBBP */
        cpu->exc_insn = insn;
        mips_raise(cpu, MIPS_EXC_BP, 0);
    default:
        reserved(cpu);
    }
    cpu->lo = sx32(acc);
    cpu->hi = sx32(acc >> 32);
}

/* ---- SPECIAL3 (opcode 0x1f): release 2 bit fields, BSHFL, RDHWR ---- */

static void exec_special3(MipsCpu *cpu, uint32_t insn)
{
    uint64_t *r = cpu->gpr;
    unsigned rt = RT(insn), rd = RD(insn), sa = SA(insn);
    uint64_t a = r[RS(insn)], b = r[rt];
    unsigned msb = rd, lsb = sa;

    switch (FUNCT(insn)) {
    case 0x00: /* EXT: size msbd + 1 */
        if (lsb + msb + 1 > 32) {
            reserved(cpu); /* UNPREDICTABLE */
        }
        r[rt] = sx32((a >> lsb) & bits_mask(msb + 1));
        break;
    case 0x01: /* DEXTM: size msbd + 33 */
        need64(cpu);
        r[rt] = (a >> lsb) & bits_mask(msb + 33);
        break;
    case 0x02: /* DEXTU: pos lsb + 32 */
        need64(cpu);
        r[rt] = (a >> (lsb + 32)) & bits_mask(msb + 1);
        break;
    case 0x03: /* DEXT */
        need64(cpu);
        r[rt] = (a >> lsb) & bits_mask(msb + 1);
        break;
    case 0x04: { /* INS: msb is the field's top bit */
        if (msb < lsb) {
            reserved(cpu);
        }
        uint64_t m = bits_mask(msb - lsb + 1) << lsb;
        r[rt] = sx32((b & ~m) | ((a << lsb) & m));
        break;
    }
    case 0x05: /* DINSM: msb + 32 */
    case 0x06: /* DINSU: lsb + 32, msb + 32 */
    case 0x07: { /* DINS */
        need64(cpu);
        unsigned lo = lsb, hi = msb;
        if (FUNCT(insn) == 0x05) {
            hi += 32;
        } else if (FUNCT(insn) == 0x06) {
            lo += 32;
            hi += 32;
        }
        if (hi < lo) {
            reserved(cpu);
        }
        uint64_t m = bits_mask(hi - lo + 1) << lo;
        r[rt] = (b & ~m) | ((a << lo) & m);
        break;
    }
    case 0x20: /* BSHFL */
        switch (sa) {
        case 0x02: { /* WSBH */
            uint32_t v = (uint32_t)b;
            r[rd] = sx32(((v & 0x00ff00ffu) << 8) | ((v >> 8) & 0x00ff00ffu));
            break;
        }
        case 0x10: /* SEB */
            r[rd] = (uint64_t)(int64_t)(int8_t)b;
            break;
        case 0x18: /* SEH */
            r[rd] = (uint64_t)(int64_t)(int16_t)b;
            break;
        default:
            reserved(cpu);
        }
        break;
    case 0x24: /* DBSHFL */
        need64(cpu);
        switch (sa) {
        case 0x02: /* DSBH */
            r[rd] = ((b & 0x00ff00ff00ff00ffull) << 8) |
                    ((b >> 8) & 0x00ff00ff00ff00ffull);
            break;
        case 0x05: { /* DSHD */
            uint64_t v = ((b & 0x0000ffff0000ffffull) << 16) |
                         ((b >> 16) & 0x0000ffff0000ffffull);
            r[rd] = (v << 32) | (v >> 32);
            break;
        }
        default:
            reserved(cpu);
        }
        break;
    case 0x3b: /* RDHWR */
        switch (rd) {
        case 0: /* CPUNum */
            r[rt] = 0;
            break;
        case 1: /* SYNCI_Step */
            r[rt] = 32;
            break;
        case 2: /* CC */
            r[rt] = sx32(cpu->count);
            break;
        case 3: /* CCRes */
            r[rt] = 1;
            break;
        case 29: /* UserLocal */
            r[rt] = cpu->userlocal;
            break;
        default:
            reserved(cpu);
        }
        break;
    default:
        reserved(cpu);
    }
}

/* ---- unaligned word/doubleword halves (LWL/LWR/SWL/SWR/LDL...) ---- */

/* k is the byte offset seen big-endian: the formulas of the big-endian
   operation sections then serve both byte orders. */
static void exec_lwlr(MipsCpu *cpu, uint32_t insn, unsigned op)
{
    uint64_t addr = cpu->gpr[RS(insn)] + SIMM(insn);
    unsigned rt = RT(insn);
    bool dword = op == 0x1a || op == 0x1b || op == 0x2c || op == 0x2d;
    unsigned n = dword ? 8 : 4;
    unsigned off = addr & (n - 1);
    unsigned k = cpu->big_endian ? off : n - 1 - off;
    uint64_t base = addr & ~(uint64_t)(n - 1);
    uint64_t full = dword ? ~0ull : 0xffffffffull;
    uint64_t reg = cpu->gpr[rt] & full;

    switch (op) {
    case 0x22: case 0x1a: { /* LWL, LDL */
        uint64_t w = mips_load(cpu, base, n);
        unsigned sh = k * 8;
        uint64_t v = ((w << sh) | (reg & bits_mask(sh))) & full;
        cpu->gpr[rt] = dword ? v : sx32(v);
        break;
    }
    case 0x26: case 0x1b: { /* LWR, LDR */
        uint64_t w = mips_load(cpu, base, n);
        unsigned sh = (n - 1 - k) * 8;
        uint64_t v = (w >> sh) | (reg & ~(full >> sh));
        v &= full;
        if (dword) {
            cpu->gpr[rt] = v;
        } else if (cpu->is64 && sh) {
            /* MIPS64: bits 63..32 stay when the word is not complete */
            cpu->gpr[rt] = (cpu->gpr[rt] & ~0xffffffffull) | v;
            cpu->gpr[rt] = sx32(cpu->gpr[rt]);
        } else {
            cpu->gpr[rt] = sx32(v);
        }
        break;
    }
    case 0x2a: case 0x2c: { /* SWL, SDL */
        uint64_t w = mips_load(cpu, base, n);
        unsigned sh = k * 8;
        w = (w & ~(full >> sh)) | (reg >> sh);
        mips_store(cpu, base, n, w);
        break;
    }
    default: { /* SWR, SDR */
        uint64_t w = mips_load(cpu, base, n);
        unsigned sh = (n - 1 - k) * 8;
        w = ((w & bits_mask(sh)) | (reg << sh)) & full;
        mips_store(cpu, base, n, w);
        break;
    }
    }
}

/* ---- one instruction ---- */

static void mips_step(MipsCpu *cpu, uint32_t insn)
{
    uint64_t *r = cpu->gpr;
    unsigned op = insn >> 26;
    unsigned rs = RS(insn), rt = RT(insn);
    uint64_t a = r[rs], b = r[rt];
    uint64_t target = cpu->cur_pc + 4 + (SIMM(insn) << 2);
    bool cond;

    switch (op) {
    case 0x00:
        exec_special(cpu, insn);
        break;
    case 0x01:
        exec_regimm(cpu, insn);
        break;
    case 0x02: /* J */
    case 0x03: /* JAL */
        if (op == 3) {
            r[31] = cpu->cur_pc + 8;
        }
        branch(cpu, ((cpu->cur_pc + 4) & ~0x0fffffffull) |
                        ((uint64_t)(insn & 0x03ffffff) << 2));
        break;
    case 0x04: case 0x14: /* BEQ, BEQL */
        cond = a == b;
        goto cond_branch;
    case 0x05: case 0x15: /* BNE, BNEL */
        cond = a != b;
        goto cond_branch;
    case 0x06: case 0x16: /* BLEZ, BLEZL */
        cond = (int64_t)a <= 0;
        goto cond_branch;
    case 0x07: case 0x17: /* BGTZ, BGTZL */
        cond = (int64_t)a > 0;
        goto cond_branch;
    case 0x08: { /* ADDI */
        int32_t s;
        if (__builtin_add_overflow((int32_t)a, (int32_t)SIMM(insn), &s)) {
            mips_raise(cpu, MIPS_EXC_OV, 0);
        }
        r[rt] = sx32((uint32_t)s);
        break;
    }
    case 0x09: /* ADDIU */
        r[rt] = sx32(a + SIMM(insn));
        break;
    case 0x0a: /* SLTI */
        r[rt] = (int64_t)a < SIMM(insn);
        break;
    case 0x0b: /* SLTIU */
        r[rt] = a < (uint64_t)SIMM(insn);
        break;
    case 0x0c:
        r[rt] = a & UIMM(insn);
        break;
    case 0x0d:
        r[rt] = a | UIMM(insn);
        break;
    case 0x0e:
        r[rt] = a ^ UIMM(insn);
        break;
    case 0x0f: /* LUI */
        r[rt] = sx32(UIMM(insn) << 16);
        break;
    case 0x10: /* COP0: user mode has no access */
        mips_raise(cpu, MIPS_EXC_CPU, 0);
    case 0x11: /* COP1 */
        mips_fpu_cop1(cpu, insn);
        break;
    case 0x13: /* COP1X */
        mips_fpu_cop1x(cpu, insn);
        break;
    case 0x18: { /* DADDI */
        need64(cpu);
        int64_t s;
        if (__builtin_add_overflow((int64_t)a, SIMM(insn), &s)) {
            mips_raise(cpu, MIPS_EXC_OV, 0);
        }
        r[rt] = (uint64_t)s;
        break;
    }
    case 0x19: /* DADDIU */
        need64(cpu);
        r[rt] = a + SIMM(insn);
        break;
    case 0x1a: case 0x1b: case 0x2c: case 0x2d: /* LDL LDR SDL SDR */
        need64(cpu);
        exec_lwlr(cpu, insn, op);
        break;
    case 0x1c:
        exec_special2(cpu, insn);
        break;
    case 0x1f:
        exec_special3(cpu, insn);
        break;
    case 0x20: /* LB */
        r[rt] = (uint64_t)(int64_t)(int8_t)load_inl(cpu, a + SIMM(insn), 1);
        break;
    case 0x21: /* LH */
        r[rt] = (uint64_t)(int64_t)(int16_t)load_inl(cpu, a + SIMM(insn), 2);
        break;
    case 0x22: case 0x26: case 0x2a: case 0x2e: /* LWL LWR SWL SWR */
        exec_lwlr(cpu, insn, op);
        break;
    case 0x23: /* LW */
        r[rt] = sx32(load_inl(cpu, a + SIMM(insn), 4));
        break;
    case 0x24: /* LBU */
        r[rt] = load_inl(cpu, a + SIMM(insn), 1);
        break;
    case 0x25: /* LHU */
        r[rt] = load_inl(cpu, a + SIMM(insn), 2);
        break;
    case 0x27: /* LWU */
        need64(cpu);
        r[rt] = load_inl(cpu, a + SIMM(insn), 4);
        break;
    case 0x28: /* SB */
        store_inl(cpu, a + SIMM(insn), 1, b);
        break;
    case 0x29: /* SH */
        store_inl(cpu, a + SIMM(insn), 2, b);
        break;
    case 0x2b: /* SW */
        store_inl(cpu, a + SIMM(insn), 4, b);
        break;
    case 0x2f: /* CACHE: privileged */
        mips_raise(cpu, MIPS_EXC_CPU, 0);
    case 0x30: /* LL */
    case 0x34: { /* LLD */
        unsigned n = op == 0x30 ? 4 : 8;
        if (n == 8) {
            need64(cpu);
        }
        uint64_t addr = a + SIMM(insn);
        uint64_t v = load_inl(cpu, addr, n);
        cpu->ll_addr = addr;
        cpu->ll_val = v;
        cpu->ll_bit = true;
        r[rt] = n == 4 ? sx32(v) : v;
        break;
    }
    case 0x31: /* LWC1 */
    case 0x35: /* LDC1 */
    case 0x39: /* SWC1 */
    case 0x3d: /* SDC1 */
        mips_fpu_ldst(cpu, insn, a + SIMM(insn));
        break;
    case 0x33: /* PREF */
        break;
    case 0x37: /* LD */
        need64(cpu);
        r[rt] = load_inl(cpu, a + SIMM(insn), 8);
        break;
    case 0x38: /* SC */
    case 0x3c: { /* SCD */
        unsigned n = op == 0x38 ? 4 : 8;
        if (n == 8) {
            need64(cpu);
        }
        r[rt] = mips_store_cond(cpu, a + SIMM(insn), n, b);
        break;
    }
    case 0x3f: /* SD */
        need64(cpu);
        store_inl(cpu, a + SIMM(insn), 8, b);
        break;
    default:
        reserved(cpu);
    }
    return;

cond_branch:
    if (rt && (op & 7) >= 6) {
        reserved(cpu); /* BLEZ/BGTZ with rt != 0 */
    }
    if (cond) {
        branch(cpu, target);
    } else if (op & 0x10) {
        skip_delay(cpu);
    }
}

MipsRunExit mips_run(MipsCpu *cpu, int64_t budget, int64_t *executed)
{
    volatile int64_t n = 0;

    if (sigsetjmp(cpu->jmp, 0)) {
        /* An exception: the instruction at cur_pc did not complete;
           resume (after the handler) at the EPC, the branch for a delay
           slot. */
        cpu->gpr[0] = 0;
        cpu->pc = cpu->exc_epc;
        cpu->npc = cpu->pc + 4;
        cpu->in_delay = false;
        *executed = n;
        return MIPS_RUN_EXCEPTION;
    }
    uint64_t last = cpu->pc - 8; /* the first instruction starts a block */
    while (n < budget) {
        if (G_UNLIKELY(cpu->trace_block) && cpu->pc != last + 4) {
            cpu->trace_block(cpu, cpu->pc);
        }
        last = cpu->pc;
        if (G_UNLIKELY(cpu->exit_request)) {
            cpu->exit_request = 0;
            *executed = n;
            return MIPS_RUN_REQUEST;
        }
        cpu->cur_pc = cpu->pc;
        cpu->cur_delay = cpu->in_delay;
        uint32_t insn = mips_fetch(cpu, cpu->pc);
        cpu->pc = cpu->npc;
        cpu->npc += 4;
        cpu->in_delay = false;
        mips_step(cpu, insn);
        cpu->gpr[0] = 0;
        if (!cpu->is64) {
            cpu->pc = sx32(cpu->pc);
            cpu->npc = sx32(cpu->npc);
        }
        cpu->count++;
        n++;
    }
    *executed = n;
    return MIPS_RUN_BUDGET;
}

bool mips_is_branch(uint32_t insn)
{
    unsigned op = insn >> 26;
    switch (op) {
    case 0x00:
        return FUNCT(insn) == 0x08 || FUNCT(insn) == 0x09;
    case 0x01:
        return (RT(insn) & 0x0c) == 0; /* BLTZ..BGEZALL, not traps */
    case 0x02: case 0x03: case 0x04: case 0x05: case 0x06: case 0x07:
    case 0x14: case 0x15: case 0x16: case 0x17:
        return true;
    case 0x11:
        return RS(insn) == 0x08; /* BC1 */
    default:
        return false;
    }
}

void mips_disassemble(MipsCpu *cpu, uint32_t insn, uint64_t addr,
                      GString *out)
{
#ifdef USE_CAPSTONE
    csh h;
    int mode = (cpu->is64 ? CS_MODE_MIPS64 : CS_MODE_MIPS32) |
               (cpu->big_endian ? CS_MODE_BIG_ENDIAN
                                : CS_MODE_LITTLE_ENDIAN);
    if (cs_open(CS_ARCH_MIPS, mode, &h) == CS_ERR_OK) {
        uint8_t b[4];
        uint32_t v = cpu->big_endian ? GUINT32_TO_BE(insn)
                                     : GUINT32_TO_LE(insn);
        memcpy(b, &v, 4);
        cs_insn *ci;
        size_t n = cs_disasm(h, b, 4, addr, 1, &ci);
        if (n > 0) {
            g_string_append_printf(out, "%-8s%s", ci[0].mnemonic,
                                   ci[0].op_str);
            cs_free(ci, n);
            cs_close(&h);
            return;
        }
        cs_close(&h);
    }
#endif
    g_string_append_printf(out, ".word   0x%08x", insn);
}

void mips_dump_registers(MipsCpu *cpu, GString *out)
{
    static const char *const names[32] = {
        "zero", "at", "v0", "v1", "a0", "a1", "a2", "a3",
        "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7",
        "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7",
        "t8", "t9", "k0", "k1", "gp", "sp", "s8", "ra" };
    int w = cpu->is64 ? 16 : 8;
    uint64_t m = cpu->is64 ? ~0ull : 0xffffffffull;
    g_string_append_printf(out, "pc=%0*" G_GINT64_MODIFIER "x hi=%0*"
                           G_GINT64_MODIFIER "x lo=%0*" G_GINT64_MODIFIER
                           "x\n", w, cpu->pc & m, w, cpu->hi & m, w,
                           cpu->lo & m);
    for (int i = 0; i < 32; i++) {
        g_string_append_printf(out, "%-4s=%0*" G_GINT64_MODIFIER "x%s",
                               names[i], w, cpu->gpr[i] & m,
                               (i % 4) == 3 ? "\n" : " ");
    }
    g_string_append_printf(out, "fcsr=%08x\n", cpu->fcsr);
}
