/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The instruction handlers of the x86 core, declared from the opcode map
 * (opcodes.def) so that decode.c's table and the exec_*.c files agree on
 * their names.
 * Each handler executes one pre-decoded instruction (struct X86Insn).
 */
#ifndef MIMIC_ARCH_X86_OPS_H
#define MIMIC_ARCH_X86_OPS_H

#include "arch/x86/x86.h"

/* Every handler of the opcode map (opcodes.def) ... */
#define OP(first, last, handler, flags, mnemonic) \
    void x86_h_##handler(X86Cpu *cpu, const X86Insn *in);
#define x86_h_NULL x86_h_prefix_unused
#include "arch/x86/opcodes.def"
#undef OP
#undef x86_h_NULL

/* ... and the specialised forms picked by x86_specialise() (exec_alu.c). */
#define X86_SPECIALISED(X)                                                  \
    X(mov_rr32) X(mov_load32) X(mov_store32) X(alu_rr32) X(alu_mr32)      \
    X(alu_rm32) X(movzx_rr) X(movzx_load)
#define X86_DECLARE_HANDLER(n) void x86_h_##n(X86Cpu *cpu, const X86Insn *in);
X86_SPECIALISED(X86_DECLARE_HANDLER)

/* Swap in->fn for a faster handler of the same instruction, if any. */
void x86_specialise(X86Insn *in);

#endif
