/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The JIT's x87 stretches: consecutive guest x87 instructions run as the
 * same instructions on the host FPU, loaded with the guest's state once
 * per stretch (jit_x87.c, docs/jit.md "x87 stretches on the host FPU").
 */
#ifndef MIMIC_ARCH_X86_JIT_JIT_X87_H
#define MIMIC_ARCH_X86_JIT_JIT_X87_H

#include "arch/x86/jit/asm.h"
#include "arch/x86/x86.h"

/* What jit.c lends the stretch translator (its register cache, address
   and TLB fast paths, the interpreter's handler call). */
typedef struct JitX87Helpers {
    void (*flush_regs)(Asm *a); /* write back and forget cached GPRs */
    bool (*ea_ok)(const X86Insn *in); /* emit_ea32 knows this form */
    void (*ea32)(Asm *a, const X86Insn *in); /* EAX = offset */
    void (*fast_host)(Asm *a, int s, bool store, AsmFixup *slow, int *ns,
                      unsigned size); /* RAX = host address, or slow */
    void (*call_insn)(Asm *a, const TBlock *tb, int i);
} JitX87Helpers;

/*
 * Translate the stretch of x87 instructions that starts at tb->insn[i],
 * if one does: returns how many instructions it took (0: none, the
 * caller translates insn i itself).  *out gets a branch to bind to the
 * block's exit (an instruction of the stretch ended the block), or NULL.
 * Uses RAX RCX RDX RSI RDI R13 and calls; the register cache is empty
 * after it.
 */
int x86_jit_x87_stretch(Asm *a, const TBlock *tb, int i,
                        const JitX87Helpers *h, AsmFixup *out);

/* Stretches translated, the instructions in them translated to host x87
   code, and loads of the guest's state into the host FPU at run time
   (process-wide, for info jit and the tests). */
extern uint64_t x86_jit_x87_stretches, x86_jit_x87_native, x86_jit_x87_loads;

#endif
