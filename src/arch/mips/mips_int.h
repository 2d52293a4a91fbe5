/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the MIPS core: what the interpreter (mips.c) and the FPU
 * (fpu.c) share.
 */
#ifndef MIMIC_ARCH_MIPS_INT_H
#define MIMIC_ARCH_MIPS_INT_H

#include "arch/mips/mips.h"

uint64_t mips_load(MipsCpu *cpu, uint64_t addr, unsigned size);
void mips_store(MipsCpu *cpu, uint64_t addr, unsigned size, uint64_t val);

/* FCSR condition code n: FCC0 is bit 23, FCC1..7 bits 25..31. */
static inline uint32_t mips_fcc_bit(unsigned n)
{
    return n ? 1u << (24 + n) : FCSR_FCC0;
}

void mips_fpu_cop1(MipsCpu *cpu, uint32_t insn);
void mips_fpu_cop1x(MipsCpu *cpu, uint32_t insn);
void mips_fpu_ldst(MipsCpu *cpu, uint32_t insn, uint64_t addr);

#endif
