/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MIPS core: MIPS32 release 2 and MIPS64 release 2 (4Kc/24Kf and
 * 5KEf-class), both endiannesses, the integer set with branch delay slots
 * and the FPU (single, double, word and long formats) with FCSR rounding
 * modes, flags, causes and enables.
 *
 * Reference: "MIPS Architecture For Programmers Volume II-A: The MIPS32
 * Instruction Set" (MD00086) and "Volume II-A: The MIPS64 Instruction
 * Set" (MD00087), revision 2.x; Volume I-A for the FPU and FCSR layout;
 * Volume III (MD00090) for the exception codes and segments.
 *
 * The core is an interpreter.  Memory is reached either through a flat
 * host window (user mode: guest address A lives at mem_base + A, below
 * mem_limit) or, when mem_base is NULL, through the bus memory map
 * (system mode, with the CP0/TLB translation to come with the Malta board:
 * mips_translate() is the one place that will grow KSEG0/1 and TLB
 * lookups).  Exceptions unwind to mips_run() with longjmp and leave the
 * Cause code, BadVAddr and the EPC of the faulting instruction (the branch
 * when it sits in a delay slot, with cpu->exc_bd set) in the MipsCpu, so a
 * caller (the Linux user layer, later the CP0 exception entry) decides
 * what happens next.
 */
#ifndef MIMIC_ARCH_MIPS_H
#define MIMIC_ARCH_MIPS_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "bus/memory.h"

/* Cause.ExcCode values (Volume III, table "Cause Register ExcCode"). */
enum {
    MIPS_EXC_INT = 0,
    MIPS_EXC_MOD = 1,
    MIPS_EXC_TLBL = 2,
    MIPS_EXC_TLBS = 3,
    MIPS_EXC_ADEL = 4,
    MIPS_EXC_ADES = 5,
    MIPS_EXC_IBE = 6,
    MIPS_EXC_DBE = 7,
    MIPS_EXC_SYS = 8,
    MIPS_EXC_BP = 9,
    MIPS_EXC_RI = 10,
    MIPS_EXC_CPU = 11,
    MIPS_EXC_OV = 12,
    MIPS_EXC_TR = 13,
    MIPS_EXC_FPE = 15,
};

/* FCSR fields (Volume I-A, "Floating Point Control and Status"). */
#define FCSR_RM_MASK 0x3u
#define FCSR_FLAGS_SHIFT 2
#define FCSR_ENABLES_SHIFT 7
#define FCSR_CAUSE_SHIFT 12
#define FCSR_FCC0 (1u << 23)
#define FCSR_FS (1u << 24)
/* Exception bits inside the flags/enables/cause groups. */
#define FP_I 0x01u
#define FP_U 0x02u
#define FP_O 0x04u
#define FP_Z 0x08u
#define FP_V 0x10u
#define FP_E 0x20u /* unimplemented operation: cause only */

typedef struct MipsModel {
    const char *name;
    const char *description;
    bool is64;     /* MIPS64: 64-bit registers and instructions */
    bool has_fpu;
    uint32_t fir;  /* FIR (CP1 register 0) */
    uint32_t prid; /* CP0 PRId */
} MipsModel;

typedef struct MipsCpu {
    uint64_t gpr[32];
    uint64_t hi, lo;
    uint64_t pc;  /* the instruction to run next */
    uint64_t npc; /* the one after it (a branch target once taken) */
    bool in_delay; /* pc is the delay slot of a taken branch */

    /* FPU: 64-bit registers; with Status.FR = 0 (o32) a double lives in
       an even/odd pair (the even register's 64 bits here, see fpr_*). */
    uint64_t fpr[32];
    uint32_t fcsr;
    uint32_t fir;
    bool fr; /* Status.FR */

    /* LL/SC: the linked address and the value seen (SC compares it). */
    uint64_t ll_addr;
    uint64_t ll_val;
    bool ll_bit;

    uint64_t userlocal; /* the TLS pointer read by RDHWR $29 */
    uint64_t count;     /* instructions executed (RDHWR $2 CC) */

    const MipsModel *model;
    bool is64;
    bool big_endian;

    /* Memory: a flat host window (user mode) or the bus memory map. */
    uint8_t *mem_base;
    uint64_t mem_limit;
    MemMap *mem;

    /* The last exception: code, BadVAddr, EPC and whether it hit a delay
       slot (EPC then names the branch). */
    int exc_code;
    uint64_t exc_badvaddr;
    uint64_t exc_epc;
    bool exc_bd;
    uint32_t exc_insn; /* the instruction (BREAK/TRAP codes, RI) */

    /* Debugging: called before the first instruction of each run of
       straight-line code (after a taken branch or a jump in). */
    void (*trace_block)(struct MipsCpu *cpu, uint64_t pc);
    void *trace_opaque;

    /* Set from any thread to make mips_run() return soon. */
    volatile int exit_request;

    /* Per-run: the instruction being executed (for faults). */
    uint64_t cur_pc;
    bool cur_delay;
    sigjmp_buf jmp;
} MipsCpu;

typedef enum {
    MIPS_RUN_BUDGET,    /* budget used up */
    MIPS_RUN_EXCEPTION, /* an exception: exc_code and friends are set */
    MIPS_RUN_REQUEST,   /* exit_request */
} MipsRunExit;

const MipsModel *mips_model_find(const char *name, bool is64);
void mips_model_list(GString *out, bool is64);

void mips_init(MipsCpu *cpu, const MipsModel *model, bool big_endian);

/* Run up to budget instructions; *executed counts them. */
MipsRunExit mips_run(MipsCpu *cpu, int64_t budget, int64_t *executed);

/* Raise an exception from inside mips_run (memory callbacks, the user
   layer's fault handler must use mips_fault_from_signal instead). */
G_NORETURN void mips_raise(MipsCpu *cpu, int code, uint64_t badvaddr);

/* The user layer's SIGSEGV handler: the guest touched an unmapped or
   protected page of the host window at guest address addr; unwinds
   mips_run() with a TLB load/store exception (the run loop must be active
   on this thread). */
G_NORETURN void mips_fault_from_signal(MipsCpu *cpu, uint64_t addr,
                                       bool write);

/* Continue at addr (not in a delay slot). */
void mips_set_pc(MipsCpu *cpu, uint64_t addr);

/* Debug aids. */
void mips_dump_registers(MipsCpu *cpu, GString *out);
/* One instruction word at addr as "mnemonic operands" (Capstone when it
   is linked, else ".word"). */
void mips_disassemble(MipsCpu *cpu, uint32_t insn, uint64_t addr,
                      GString *out);
/* Does the instruction end straight-line code (a branch or jump; its
   delay slot follows)? */
bool mips_is_branch(uint32_t insn);

#endif
