/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 JIT's 64-bit-mode emitters (jit64.c, docs/jit.md "64-bit
 * code"), called by the translation loop of jit.c for blocks decoded in
 * 64-bit mode (TBlock.flags & X86_TB_CODE64).
 */
#ifndef MIMIC_ARCH_X86_JIT_JIT64_H
#define MIMIC_ARCH_X86_JIT_JIT64_H

#include "arch/x86/jit/asm.h"
#include "arch/x86/jit/jit.h"

/* TBlock.flags bit of a block decoded in 64-bit mode (x86_tb_mode). */
#define X86_TB_CODE64 8u

enum {
    JIT64_NO,     /* not handled: the caller emits the handler call */
    JIT64_INLINE, /* emitted; the fall-through leaves cur and rip unset
                     (as after an inlined instruction) */
    JIT64_END,    /* emitted; ends the block with cur and rip set */
};

/* Emit tb->insn[i] (a 64-bit-mode block) inline if it is one of the
   forms jit64.c knows.  A slow path that calls the handler in the middle
   of the block adds its "leave the block" branch to out[*nout] (and
   increments *nout); the caller binds those to its exit.  Uses rax, rcx,
   rdx, rsi, rdi, r13 and the frame of jit.c (rbx = cpu, r12 = tb->insn);
   guest registers stay in cpu->regs. */
int x86_jit64_emit(Asm *a, const TBlock *tb, int i, AsmFixup *out,
                   int *nout);

#endif
