/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small x86-64 assembler for the JIT (docs/jit.md): just the
 * instructions the translator emits, into a buffer whose bytes are
 * written through one mapping and executed through another (the code
 * buffer's RW and RX views, `delta` apart).  Forward branches are emitted
 * with a 32-bit displacement and patched when their label is bound.
 *
 * Encoding reference: Intel SDM Vol. 2, chapter 2 (ModR/M, SIB, REX) and
 * the instruction pages of the opcodes used.
 */
#ifndef MIMIC_ARCH_X86_JIT_ASM_H
#define MIMIC_ARCH_X86_JIT_ASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Host registers in encoding order. */
enum {
    H_RAX, H_RCX, H_RDX, H_RBX, H_RSP, H_RBP, H_RSI, H_RDI,
    H_R8, H_R9, H_R10, H_R11, H_R12, H_R13, H_R14, H_R15,
};

/* Condition codes (the low nibble of Jcc/SETcc). */
enum {
    CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A,
    CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G,
};

typedef struct Asm {
    uint8_t *p;       /* next byte (RW view) */
    uint8_t *end;     /* end of the room */
    ptrdiff_t delta;  /* RX address - RW address */
    bool full;        /* ran out of room: the output is garbage */
} Asm;

/* A forward branch to patch: the offset of its rel32 in the RW view. */
typedef uint8_t *AsmFixup;

static inline void a_byte(Asm *a, uint8_t b)
{
    if (a->p < a->end) {
        *a->p++ = b;
    } else {
        a->full = true;
    }
}

static inline void a_u32(Asm *a, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        a_byte(a, v >> (8 * i));
    }
}

static inline void a_u64(Asm *a, uint64_t v)
{
    a_u32(a, (uint32_t)v);
    a_u32(a, (uint32_t)(v >> 32));
}

/* The RX address of the next byte. */
static inline uintptr_t a_here(const Asm *a)
{
    return (uintptr_t)a->p + a->delta;
}

/* REX prefix if any bit is needed (w: 64-bit operand; r, x, b: high
   register numbers of ModRM.reg, SIB.index, ModRM.rm/SIB.base). */
static inline void a_rex(Asm *a, bool w, int r, int x, int b, bool force)
{
    uint8_t rex = 0x40 | (w << 3) | ((r >> 3) & 1) << 2 |
                  ((x >> 3) & 1) << 1 | ((b >> 3) & 1);
    if (rex != 0x40 || force) {
        a_byte(a, rex);
    }
}

/* ModRM (and SIB, displacement) for [base + disp]. */
static inline void a_mem(Asm *a, int reg, int base, int32_t disp)
{
    int mod = disp == 0 && (base & 7) != H_RBP ? 0
              : disp >= -128 && disp < 128     ? 1
                                               : 2;
    a_byte(a, mod << 6 | (reg & 7) << 3 | (base & 7));
    if ((base & 7) == H_RSP) {
        a_byte(a, 0x24); /* SIB: no index, base */
    }
    if (mod == 1) {
        a_byte(a, (uint8_t)disp);
    } else if (mod == 2) {
        a_u32(a, (uint32_t)disp);
    }
}

/* op reg, [base + disp] (or the reverse direction, by opcode). */
static inline void a_op_mem(Asm *a, bool w, uint8_t op, int reg, int base,
                            int32_t disp)
{
    a_rex(a, w, reg, 0, base, false);
    a_byte(a, op);
    a_mem(a, reg, base, disp);
}

/* op r/m, reg between registers. */
static inline void a_op_rr(Asm *a, bool w, uint8_t op, int reg, int rm)
{
    a_rex(a, w, reg, 0, rm, false);
    a_byte(a, op);
    a_byte(a, 0xc0 | (reg & 7) << 3 | (rm & 7));
}

static inline void a_push(Asm *a, int r)
{
    a_rex(a, false, 0, 0, r, false);
    a_byte(a, 0x50 | (r & 7));
}

static inline void a_pop(Asm *a, int r)
{
    a_rex(a, false, 0, 0, r, false);
    a_byte(a, 0x58 | (r & 7));
}

static inline void a_ret(Asm *a)
{
    a_byte(a, 0xc3);
}

/* mov dst, src (64-bit). */
static inline void a_mov_rr(Asm *a, int dst, int src)
{
    a_op_rr(a, true, 0x89, src, dst);
}

/* mov r, imm: the shortest form for the value (zero-extended 32-bit,
   sign-extended 32-bit, or movabs). */
static inline void a_mov_ri(Asm *a, int r, uint64_t v)
{
    if (v <= 0xffffffffu) {
        a_rex(a, false, 0, 0, r, false);
        a_byte(a, 0xb8 | (r & 7));
        a_u32(a, (uint32_t)v);
    } else if ((int64_t)v == (int32_t)v) {
        a_rex(a, true, 0, 0, r, false);
        a_byte(a, 0xc7);
        a_byte(a, 0xc0 | (r & 7));
        a_u32(a, (uint32_t)v);
    } else {
        a_rex(a, true, 0, 0, r, false);
        a_byte(a, 0xb8 | (r & 7));
        a_u64(a, v);
    }
}

/* mov [base + disp], r (64-bit) / mov r, [base + disp]. */
static inline void a_st64(Asm *a, int base, int32_t disp, int r)
{
    a_op_mem(a, true, 0x89, r, base, disp);
}

static inline void a_ld64(Asm *a, int r, int base, int32_t disp)
{
    a_op_mem(a, true, 0x8b, r, base, disp);
}

/* mov [base + disp], r (32-bit) / mov r32, [base + disp]. */
static inline void a_st32(Asm *a, int base, int32_t disp, int r)
{
    a_op_mem(a, false, 0x89, r, base, disp);
}

static inline void a_ld32(Asm *a, int r, int base, int32_t disp)
{
    a_op_mem(a, false, 0x8b, r, base, disp);
}

/* mov qword [base + disp], simm32. */
static inline void a_st64_imm(Asm *a, int base, int32_t disp, int32_t v)
{
    a_op_mem(a, true, 0xc7, 0, base, disp);
    a_u32(a, (uint32_t)v);
}

/* movzx r32, word [base + disp]. */
static inline void a_ldzx16(Asm *a, int r, int base, int32_t disp)
{
    a_rex(a, false, r, 0, base, false);
    a_byte(a, 0x0f);
    a_byte(a, 0xb7);
    a_mem(a, r, base, disp);
}

/* cmp word [base + disp], imm8 (sign-extended). */
static inline void a_cmp16_mem_imm8(Asm *a, int base, int32_t disp,
                                    int8_t v)
{
    a_byte(a, 0x66);
    a_op_mem(a, false, 0x83, 7, base, disp);
    a_byte(a, (uint8_t)v);
}

/* mov byte [base + disp], imm8 / mov dword [base + disp], imm32. */
static inline void a_st8_imm(Asm *a, int base, int32_t disp, uint8_t v)
{
    a_op_mem(a, false, 0xc6, 0, base, disp);
    a_byte(a, v);
}

static inline void a_st32_imm(Asm *a, int base, int32_t disp, uint32_t v)
{
    a_op_mem(a, false, 0xc7, 0, base, disp);
    a_u32(a, v);
}

/* 32-bit ALU between registers: op is the "r/m op= reg" opcode (0x01
   ADD, 0x09 OR, 0x21 AND, 0x29 SUB, 0x31 XOR, 0x39 CMP, 0x85 TEST). */
static inline void a_alu32_rr(Asm *a, uint8_t op, int dst, int src)
{
    a_op_rr(a, false, op, src, dst);
}

/* op r32, [base + disp] with the "reg op= r/m" opcode (0x03 ADD...). */
static inline void a_alu32_rm(Asm *a, uint8_t op, int r, int base,
                              int32_t disp)
{
    a_op_mem(a, false, op, r, base, disp);
}

/* shl r32, imm8 / shr r64, imm8. */
static inline void a_shl32_ri(Asm *a, int r, uint8_t n)
{
    a_rex(a, false, 0, 0, r, false);
    a_byte(a, 0xc1);
    a_byte(a, 0xe0 | (r & 7));
    a_byte(a, n);
}

/* Group-1 ALU with an immediate on a register: ext is ModRM.reg (0 ADD,
   4 AND, 5 SUB, 7 CMP); w: 64-bit (the immediate sign-extends). */
static inline void a_alu_ri(Asm *a, bool w, int ext, int r, int32_t v)
{
    a_rex(a, w, 0, 0, r, false);
    if (v >= -128 && v < 128) {
        a_byte(a, 0x83);
        a_byte(a, 0xc0 | ext << 3 | (r & 7));
        a_byte(a, (uint8_t)v);
    } else {
        a_byte(a, 0x81);
        a_byte(a, 0xc0 | ext << 3 | (r & 7));
        a_u32(a, (uint32_t)v);
    }
}

/* shr r32, imm8. */
static inline void a_shr32_ri(Asm *a, int r, uint8_t n)
{
    a_rex(a, false, 0, 0, r, false);
    a_byte(a, 0xc1);
    a_byte(a, 0xe8 | (r & 7));
    a_byte(a, n);
}

/* imul dst32, src32, imm32. */
static inline void a_imul32_rri(Asm *a, int dst, int src, int32_t v)
{
    a_rex(a, false, dst, 0, src, false);
    a_byte(a, 0x69);
    a_byte(a, 0xc0 | (dst & 7) << 3 | (src & 7));
    a_u32(a, (uint32_t)v);
}

/* cmp byte [base + disp], imm8. */
static inline void a_cmp8_mem_imm(Asm *a, int base, int32_t disp, uint8_t v)
{
    a_op_mem(a, false, 0x80, 7, base, disp);
    a_byte(a, v);
}

/* call target: rel32 when in range, else through rax. */
static inline void a_call(Asm *a, const void *target)
{
    intptr_t rel = (intptr_t)target - (intptr_t)(a_here(a) + 5);
    if (rel == (int32_t)rel) {
        a_byte(a, 0xe8);
        a_u32(a, (uint32_t)rel);
    } else {
        a_mov_ri(a, H_RAX, (uint64_t)(uintptr_t)target);
        a_byte(a, 0xff);
        a_byte(a, 0xd0); /* call rax */
    }
}

/* jcc rel32 / jmp rel32 to a label bound later (a_bind). */
static inline AsmFixup a_jcc_fwd(Asm *a, int cc)
{
    a_byte(a, 0x0f);
    a_byte(a, 0x80 | cc);
    AsmFixup f = a->p;
    a_u32(a, 0);
    return f;
}

static inline AsmFixup a_jmp_fwd(Asm *a)
{
    a_byte(a, 0xe9);
    AsmFixup f = a->p;
    a_u32(a, 0);
    return f;
}

/* Point the branch f at the next byte. */
static inline void a_bind(Asm *a, AsmFixup f)
{
    if (a->full || !f) {
        return;
    }
    int32_t rel = (int32_t)(a->p - (f + 4));
    memcpy(f, &rel, 4);
}

/* op r/m, imm32 on memory: ext is ModRM.reg (0 ADD, 7 CMP), w 64-bit
   (the immediate sign-extends). */
static inline void a_alu_mem_imm(Asm *a, bool w, int ext, int base,
                                 int32_t disp, int32_t v)
{
    if (v >= -128 && v < 128) {
        a_op_mem(a, w, 0x83, ext, base, disp);
        a_byte(a, (uint8_t)v);
    } else {
        a_op_mem(a, w, 0x81, ext, base, disp);
        a_u32(a, (uint32_t)v);
    }
}

/* test dword [base + disp], imm32. */
static inline void a_test32_mem_imm(Asm *a, int base, int32_t disp,
                                    uint32_t v)
{
    a_op_mem(a, false, 0xf7, 0, base, disp);
    a_u32(a, v);
}

/* setcc r8 (r below 4 or a REX register: no high-byte alias). */
static inline void a_setcc(Asm *a, int cc, int r)
{
    a_rex(a, false, 0, 0, r, r >= 4);
    a_byte(a, 0x0f);
    a_byte(a, 0x90 | cc);
    a_byte(a, 0xc0 | (r & 7));
}

/* lea r, [base + index + disp] (64-bit; index not RSP). */
static inline void a_lea_bi(Asm *a, int r, int base, int index, int32_t disp)
{
    a_rex(a, true, r, index, base, false);
    a_byte(a, 0x8d);
    int mod = disp == 0 && (base & 7) != H_RBP ? 0
              : disp >= -128 && disp < 128     ? 1
                                               : 2;
    a_byte(a, mod << 6 | (r & 7) << 3 | 4);
    a_byte(a, (index & 7) << 3 | (base & 7));
    if (mod == 1) {
        a_byte(a, (uint8_t)disp);
    } else if (mod == 2) {
        a_u32(a, (uint32_t)disp);
    }
}

/* jmp r64. */
static inline void a_jmp_r(Asm *a, int r)
{
    a_rex(a, false, 0, 0, r, false);
    a_byte(a, 0xff);
    a_byte(a, 0xe0 | (r & 7));
}

/* jmp rel32 to a known RX address (in the same buffer). */
static inline void a_jmp_to(Asm *a, uintptr_t target)
{
    a_byte(a, 0xe9);
    a_u32(a, (uint32_t)(int32_t)(target - (a_here(a) + 4)));
}

/* Group-2 shift or rotate of r32 by imm8: ext is ModRM.reg (0 ROL, 1 ROR,
   4 SHL, 5 SHR, 6 SAL, 7 SAR). */
static inline void a_shift32_ri(Asm *a, int ext, int r, uint8_t n)
{
    a_rex(a, false, 0, 0, r, false);
    a_byte(a, 0xc1);
    a_byte(a, 0xc0 | ext << 3 | (r & 7));
    a_byte(a, n);
}

/* movzx r32, byte [base + disp]. */
static inline void a_ldzx8(Asm *a, int r, int base, int32_t disp)
{
    a_rex(a, false, r, 0, base, false);
    a_byte(a, 0x0f);
    a_byte(a, 0xb6);
    a_mem(a, r, base, disp);
}

/* imul dst32, src32. */
static inline void a_imul32_rr(Asm *a, int dst, int src)
{
    a_rex(a, false, dst, 0, src, false);
    a_byte(a, 0x0f);
    a_byte(a, 0xaf);
    a_byte(a, 0xc0 | (dst & 7) << 3 | (src & 7));
}

#endif
