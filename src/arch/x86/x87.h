/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x87 FPU and MMX execution unit of the IA-32 CPU (P6 class).
 *
 * The unit is independent of the CPU's decoder: the CPU decodes prefixes,
 * ModRM/SIB and the effective address, checks CR0.EM/CR0.TS (#NM) itself,
 * and hands the escape opcode (D8..DF) or the MMX opcode (the byte after
 * 0F) with its ModRM byte to x87_exec() / mmx_exec().  Memory goes through
 * the CPU's callbacks in X87Mem, which apply the segment, check limits and
 * paging and may longjmp out on a fault.  The unit performs every load
 * before it modifies any state and commits its state only after the last
 * store returned, so an instruction that faults can simply be restarted.
 *
 * Specification: Intel 64 and IA-32 Architectures Software Developer's
 * Manual, Vol. 1 ch. 8 (x87 FPU), ch. 9 (MMX), Vol. 2 (instruction
 * reference), Vol. 3A table 9-1 (state after reset), 10.5 (FXSAVE area).
 */
#ifndef MIMIC_ARCH_X86_X87_H
#define MIMIC_ARCH_X86_X87_H

#include <stdbool.h>
#include <stdint.h>

#include "state/state.h"

/* One 80-bit extended-precision register (same bytes as the FSAVE image). */
typedef struct X87Reg {
    uint64_t mant;  /* significand, bit 63 is the explicit integer bit */
    uint16_t sexp;  /* bit 15 sign, bits 14..0 biased exponent */
} X87Reg;

typedef struct X87State {
    uint16_t fcw;   /* control word */
    uint16_t fsw;   /* status word, TOP in bits 13..11 */
    uint16_t ftw;   /* full tag word, 2 bits per physical register */
    uint16_t fop;   /* last non-control opcode, 11 bits */
    uint32_t fip;   /* last non-control instruction offset */
    uint32_t fdp;   /* last memory operand offset */
    uint16_t fcs;   /* its code selector */
    uint16_t fds;   /* memory operand's segment selector */
    uint32_t mxcsr; /* only carried through FXSAVE/FXRSTOR (no SSE yet) */
    X87Reg r[8];    /* physical registers R0..R7; ST(i) = r[(TOP+i)&7],
                       MMi = r[i].mant */
} X87State;

/* Control word */
#define X87_CW_IM 0x0001
#define X87_CW_DM 0x0002
#define X87_CW_ZM 0x0004
#define X87_CW_OM 0x0008
#define X87_CW_UM 0x0010
#define X87_CW_PM 0x0020
#define X87_CW_PC 0x0300 /* 00 single, 10 double, 11 extended */
#define X87_CW_RC 0x0C00 /* 00 nearest, 01 down, 10 up, 11 chop */
#define X87_CW_X 0x1000  /* infinity control, ignored since the 387 */

/* Status word */
#define X87_SW_IE 0x0001
#define X87_SW_DE 0x0002
#define X87_SW_ZE 0x0004
#define X87_SW_OE 0x0008
#define X87_SW_UE 0x0010
#define X87_SW_PE 0x0020
#define X87_SW_SF 0x0040 /* stack fault (with IE; C1 = 1 overflow) */
#define X87_SW_ES 0x0080 /* error summary */
#define X87_SW_C0 0x0100
#define X87_SW_C1 0x0200
#define X87_SW_C2 0x0400
#define X87_SW_TOP 0x3800
#define X87_SW_TOP_SHIFT 11
#define X87_SW_C3 0x4000
#define X87_SW_B 0x8000 /* busy, mirrors ES */

/* Tags */
#define X87_TAG_VALID 0
#define X87_TAG_ZERO 1
#define X87_TAG_SPECIAL 2
#define X87_TAG_EMPTY 3

/* Return codes of x87_exec() and mmx_exec(). */
enum {
    X87_OK = 0,
    X87_UD = 1, /* invalid encoding: raise #UD, nothing changed */
    X87_MF = 2, /* unmasked exception pending (FSW.ES) before this
                 * instruction, which was not executed: raise #MF if
                 * CR0.NE, else signal FERR# (IRQ13) and either wait or
                 * re-execute with X87_MEM_IGNNE */
    X87_GP = 3, /* FXRSTOR: reserved MXCSR bits set: raise #GP(0) */
};

/* X87Mem.flags */
#define X87_MEM_OP32 0x1  /* 32-bit operand size: FSTENV/FSAVE layouts */
#define X87_MEM_PMODE 0x2 /* protected mode and not virtual-8086 */
#define X87_MEM_IGNNE 0x4 /* execute even if an exception is pending */
#define X87_MEM_SLOW 0x8  /* tests: never take the fast path (the full-state
                           * path is the oracle it is compared against) */

/*
 * What the CPU supplies for one instruction.  load/store may longjmp out;
 * len is at most 512 and never 0; a buffer may cross a page.  fip/fcs is
 * the address of the instruction (its first prefix), fds the selector of
 * the memory operand's segment (after overrides); the unit copies them
 * into FIP/FCS/FDS (and ea into FDP) for non-control instructions.
 */
typedef struct X87Mem {
    void *ctx;
    void (*load)(void *ctx, uint32_t ea, void *buf, unsigned len);
    void (*store)(void *ctx, uint32_t ea, const void *buf, unsigned len);
    uint32_t flags; /* X87_MEM_* */
    uint32_t fip;
    uint16_t fcs;
    uint16_t fds;
} X87Mem;

/* EFLAGS bits x87_exec() reads (FCMOVcc) and writes (FCOMI family). */
#define X87_EFLAGS_CF 0x0001
#define X87_EFLAGS_PF 0x0004
#define X87_EFLAGS_AF 0x0010
#define X87_EFLAGS_ZF 0x0040
#define X87_EFLAGS_SF 0x0080
#define X87_EFLAGS_OF 0x0800

/*
 * Execute one x87 instruction: opcode is D8..DF, modrm its ModRM byte, ea
 * the effective address (offset within the segment) when mod != 3.
 * mem is needed for register forms too (flags, FIP/FCS).
 * ax receives FNSTSW AX (DF E0); it may be NULL otherwise.
 * eflags: FCMOVcc reads CF/ZF/PF; FCOMI/FCOMIP/FUCOMI/FUCOMIP set ZF/PF/CF
 * and clear OF/SF/AF; every other instruction leaves it alone.  It may be
 * NULL when x87_eflags_use() says 0.
 * Returns X87_OK, X87_UD or X87_MF (nothing changed for UD and MF).  An
 * unmasked exception raised by this instruction sets FSW.ES; #MF comes at
 * the next waiting instruction (x87_exec/mmx_exec return X87_MF, WAIT
 * checks x87_pending_exception()), as on hardware.
 */
int x87_exec(X87State *st, uint8_t opcode, uint8_t modrm, const X87Mem *mem,
             uint32_t ea, uint16_t *ax, uint32_t *eflags);

/* x87_eflags_use() result bits. */
#define X87_EFLAGS_READ 0x1  /* FCMOVcc */
#define X87_EFLAGS_WRITE 0x2 /* FCOMI family */
unsigned x87_eflags_use(uint8_t opcode, uint8_t modrm);

/* True for FNINIT, FNCLEX, FNSTSW, FNSTCW, FNSTENV, FNSAVE: the no-wait
 * forms that do not check for pending exceptions (FLDCW, FLDENV, FRSTOR
 * are control instructions too but do wait). */
bool x87_is_nowait(uint8_t opcode, uint8_t modrm);

/* FWAIT/WAIT: an unmasked exception is pending (FSW.ES). */
bool x87_pending_exception(const X87State *st);

/* RESET/power-on values (SDM Vol. 3A table 9-1): FCW 0040h, FTW 5555h,
 * FSW 0, pointers 0, registers +0.0, MXCSR 1F80h. */
void x87_reset(X87State *st);
/* FNINIT: FCW 037Fh, FSW 0, FTW FFFFh, pointers 0; registers kept. */
void x87_finit(X87State *st);

/*
 * FXSAVE/FXRSTOR images (SDM Vol. 1 10.5.1, non-64-bit layout).
 * x87_fxsave fills bytes 0..159 (control, pointers, MXCSR, MXCSR_MASK =
 * mxcsr_mask, ST0..ST7) and 160..463 with zeros; it never writes 464..511.
 * x87_fxrstor returns X87_GP (nothing changed) if MXCSR has bits outside
 * mxcsr_mask (pass 0 on a CPU without SSE: MXCSR is then kept).
 * The _mem forms do the memory access (ea must be 16-byte aligned; the CPU
 * checks that and raises #GP itself).
 */
void x87_fxsave(const X87State *st, uint8_t area[512], uint32_t mxcsr_mask);
int x87_fxrstor(X87State *st, const uint8_t area[512], uint32_t mxcsr_mask);
int x87_fxsave_mem(const X87State *st, const X87Mem *mem, uint32_t ea,
                   uint32_t mxcsr_mask);
int x87_fxrstor_mem(X87State *st, const X87Mem *mem, uint32_t ea,
                    uint32_t mxcsr_mask);

/* Human-readable state for the monitor and -d cpu (appended to out). */
void x87_dump(const X87State *st, GString *out);

/* ST(i) access for debuggers, the monitor and tests. */
X87Reg x87_get_st(const X87State *st, unsigned i);
unsigned x87_top(const X87State *st);
/* The tag a register's contents call for (never X87_TAG_EMPTY). */
unsigned x87_classify_tag(X87Reg r);

/*
 * Saved state: embed with STATE_STRUCT(CpuState, fpu, x87_state_fields).
 * After loading, call x87_post_load(), which makes the tags consistent
 * with the register contents (a state file is untrusted input; every
 * other bit pattern is a legal machine state).
 */
extern const StateField x87_state_fields[];
void x87_post_load(X87State *st);

/*
 * For the JIT's host-x87 stretches (jit/jit_x87.c): whether the instruction
 * is one the host can run as is on a host FPU holding the guest's state
 * (all exceptions masked): the register forms and the memory loads and
 * stores x87_exec() itself runs on the host, but FCOMI and FCMOVcc (EFLAGS)
 * and the control instructions.  *hop and *hmodrm get the host encoding
 * (undocumented aliases mapped; memory forms as [rax]/[eax]), *len the
 * memory operand's size (0 for a register form), *store whether it is
 * written (else read).
 */
bool x87_native_form(uint8_t opcode, uint8_t modrm, uint8_t *hop,
                     uint8_t *hmodrm, unsigned *len, bool *store);
/*
 * For the same: whether x87_exec() runs the instruction by its fast path
 * when the registers it reads are full and a push has room (all exceptions
 * masked), and then what it does to the stack: *need = how many registers
 * from ST0 up it reads, *pops = registers popped (-1: a push), *cbits =
 * the condition codes (C0..C3) it writes, the others being kept.
 */
bool x87_fast_effect(uint8_t opcode, uint8_t modrm, unsigned *need,
                     int *pops, uint16_t *cbits);
/* The guest's state as the host's 108-byte FSAVE image (32-bit protected
   mode layout, pointers zero) and back (the status and tag words and the
   registers; the control word, the pointers and FOP are left alone). */
#define X87_FSAVE_SIZE 108
void x87_to_fsave(const X87State *st, uint8_t img[X87_FSAVE_SIZE]);
void x87_from_fsave(X87State *st, const uint8_t img[X87_FSAVE_SIZE]);

/* ---- MMX (SDM Vol. 1 ch. 9) ---- */

/*
 * Execute one MMX instruction: opcode2 is the byte after 0F, modrm its
 * ModRM, ea the effective address when mod != 3, gpr the general (64-bit)
 * general registers in encoding order (EAX, ECX, EDX, EBX, ESP, EBP, ESI,
 * EDI) for MOVD, imm the immediate of 0F 71/72/73.  The CPU must not call
 * this with a 66/F2/F3 prefix (those are SSE forms).
 * Every MMX instruction sets TOP = 0 and, but EMMS, all tags valid; a
 * write of MMi sets r[i].sexp = FFFFh.  EMMS sets all tags empty.
 * Returns X87_OK, X87_UD (not an MMX opcode/encoding) or X87_MF.
 */
int mmx_exec(X87State *st, uint8_t opcode2, uint8_t modrm, const X87Mem *mem,
             uint32_t ea, uint64_t *gpr, uint8_t imm);
/* Is 0F opcode2 an MMX instruction (with 0F 71/72/73 it needs imm8)? */
bool mmx_is_opcode(uint8_t opcode2);
bool mmx_has_imm8(uint8_t opcode2);

#endif
