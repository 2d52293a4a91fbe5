/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The instruction handlers of the x86 core, listed once (X-macro) so the
 * opcode table in decode.c and the exec_*.c files agree on their names.
 * Each handler executes one pre-decoded instruction (struct X86Insn).
 */
#ifndef MIMIC_ARCH_X86_OPS_H
#define MIMIC_ARCH_X86_OPS_H

#include "arch/x86/x86.h"

#define X86_HANDLERS(X)                                                     \
    X(alu_rm_r) X(alu_r_rm) X(alu_a_imm) X(grp1) X(push_sreg) X(pop_sreg)  \
    X(daa) X(das) X(aaa) X(aas) X(inc_r) X(dec_r) X(push_r) X(pop_r)       \
    X(pusha) X(popa) X(bound) X(arpl) X(push_imm) X(imul3) X(ins) X(outs)  \
    X(jcc) X(test_rm_r) X(xchg_rm_r) X(mov_rm_r) X(mov_r_rm)              \
    X(mov_rm_sreg) X(lea) X(mov_sreg_rm) X(pop_rm) X(xchg_a) X(nop)       \
    X(cbw) X(cwd) X(call_far) X(fwait) X(pushf) X(popf) X(sahf) X(lahf)   \
    X(mov_a_moffs) X(mov_moffs_a) X(movs) X(cmps) X(test_a_imm) X(stos)  \
    X(lods) X(scas) X(mov_r_imm) X(grp2) X(ret_near) X(les) X(mov_rm_imm) \
    X(enter) X(leave) X(ret_far) X(int3) X(int_imm) X(into) X(iret)       \
    X(aam) X(aad) X(salc) X(xlat) X(esc) X(loop) X(jcxz) X(in_imm)       \
    X(out_imm) X(call_rel) X(jmp_rel) X(jmp_far) X(in_dx) X(out_dx)       \
    X(int1) X(hlt) X(cmc) X(grp3) X(clc) X(stc) X(cli) X(sti) X(cld)      \
    X(std) X(grp4) X(grp5) X(grp6) X(grp7) X(lar) X(lsl) X(clts) X(invd)  \
    X(ud) X(nop_rm) X(mov_r_cr) X(mov_cr_r) X(mov_r_dr) X(mov_dr_r)       \
    X(wrmsr) X(rdtsc) X(rdmsr) X(rdpmc) X(sysenter) X(sysexit) X(cmov)    \
    X(mmx) X(setcc) X(cpuid) X(bt) X(shld) X(shrd) X(imul2) X(cmpxchg)    \
    X(movzx) X(movsx) X(grp8) X(bsf) X(bsr) X(xadd) X(grp9) X(bswap)      \
    X(fxsave) X(rsm)                                                         \
    /* Specialised forms picked by x86_specialise() (exec_alu.c). */       \
    X(mov_rr32) X(mov_load32) X(mov_store32) X(alu_rr32) X(alu_mr32)      \
    X(alu_rm32) X(movzx_rr) X(movzx_load)

#define X86_DECLARE_HANDLER(n) void x86_h_##n(X86Cpu *cpu, const X86Insn *in);
X86_HANDLERS(X86_DECLARE_HANDLER)

/* Swap in->fn for a faster handler of the same instruction, if any. */
void x86_specialise(X86Insn *in);

#endif
