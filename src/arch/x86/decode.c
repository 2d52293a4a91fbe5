/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 decoder: prefixes, the one- and two-byte opcode maps (one table),
 * ModRM/SIB/displacement and immediates, producing a pre-decoded X86Insn
 * with its handler.  Used by the translation-block builder and by the
 * length/validity conformance test.
 *
 * Specification: SDM Vol. 2, chapter 2 (instruction format) and appendix A
 * (opcode map), restricted to the P6 (Pentium II) integer, x87 and MMX
 * instruction set.
 */
#include "arch/x86/ops.h"

enum {
    D_M = 1u << 0,     /* ModRM follows */
    D_B = 1u << 1,     /* byte operation */
    D_IB = 1u << 2,    /* imm8 */
    D_IW = 1u << 3,    /* imm16 */
    D_IZ = 1u << 4,    /* imm16/32 by operand size */
    D_MOFFS = 1u << 5, /* moffs by address size */
    D_FAR = 1u << 6,   /* ptr16:16/32 */
    D_END = 1u << 7,   /* ends the block */
    D_LOCK = 1u << 8,  /* LOCK allowed (with a memory operand) */
    D_SX = 1u << 9,    /* imm8 sign-extended to operand size */
    D_MEM = 1u << 10,  /* ModRM must be a memory operand */
    D_REG = 1u << 11,  /* ModRM must be a register (mod == 3) */
    D_PFX = 1u << 12,  /* prefix byte (handled by the loop) */
    D_IBW = 1u << 13,  /* imm16 + imm8 (ENTER) */
};

typedef struct OpInfo {
    X86Handler fn;
    uint16_t flags;
} OpInfo;

#define H(n) x86_h_##n
#define ALU(o)                                                              \
    [o + 0] = { H(alu_rm_r), D_M | D_B | D_LOCK },                          \
    [o + 1] = { H(alu_rm_r), D_M | D_LOCK },                                \
    [o + 2] = { H(alu_r_rm), D_M | D_B },                                   \
    [o + 3] = { H(alu_r_rm), D_M },                                         \
    [o + 4] = { H(alu_a_imm), D_B | D_IB },                                 \
    [o + 5] = { H(alu_a_imm), D_IZ }
#define R8(o, h, f)                                                         \
    [o] = { H(h), f }, [o + 1] = { H(h), f }, [o + 2] = { H(h), f },        \
    [o + 3] = { H(h), f }, [o + 4] = { H(h), f }, [o + 5] = { H(h), f },    \
    [o + 6] = { H(h), f }, [o + 7] = { H(h), f }
#define R16(o, h, f) R8(o, h, f), R8(o + 8, h, f)

static const OpInfo optab[512] = {
    ALU(0x00), ALU(0x08), ALU(0x10), ALU(0x18),
    ALU(0x20), ALU(0x28), ALU(0x30), ALU(0x38),
    [0x06] = { H(push_sreg), 0 }, [0x07] = { H(pop_sreg), D_END },
    [0x0e] = { H(push_sreg), 0 },
    [0x16] = { H(push_sreg), 0 }, [0x17] = { H(pop_sreg), D_END },
    [0x1e] = { H(push_sreg), 0 }, [0x1f] = { H(pop_sreg), D_END },
    [0x26] = { NULL, D_PFX }, [0x2e] = { NULL, D_PFX },
    [0x36] = { NULL, D_PFX }, [0x3e] = { NULL, D_PFX },
    [0x27] = { H(daa), 0 }, [0x2f] = { H(das), 0 },
    [0x37] = { H(aaa), 0 }, [0x3f] = { H(aas), 0 },
    R8(0x40, inc_r, 0), R8(0x48, dec_r, 0),
    R8(0x50, push_r, 0), R8(0x58, pop_r, 0),
    [0x60] = { H(pusha), 0 }, [0x61] = { H(popa), 0 },
    [0x62] = { H(bound), D_M | D_MEM }, [0x63] = { H(arpl), D_M },
    [0x64] = { NULL, D_PFX }, [0x65] = { NULL, D_PFX },
    [0x66] = { NULL, D_PFX }, [0x67] = { NULL, D_PFX },
    [0x68] = { H(push_imm), D_IZ }, [0x69] = { H(imul3), D_M | D_IZ },
    [0x6a] = { H(push_imm), D_IB | D_SX },
    [0x6b] = { H(imul3), D_M | D_IB | D_SX },
    [0x6c] = { H(ins), D_B }, [0x6d] = { H(ins), 0 },
    [0x6e] = { H(outs), D_B }, [0x6f] = { H(outs), 0 },
    R16(0x70, jcc, D_IB | D_SX | D_END),
    [0x80] = { H(grp1), D_M | D_B | D_IB | D_LOCK },
    [0x81] = { H(grp1), D_M | D_IZ | D_LOCK },
    [0x82] = { H(grp1), D_M | D_B | D_IB | D_LOCK },
    [0x83] = { H(grp1), D_M | D_IB | D_SX | D_LOCK },
    [0x84] = { H(test_rm_r), D_M | D_B }, [0x85] = { H(test_rm_r), D_M },
    [0x86] = { H(xchg_rm_r), D_M | D_B | D_LOCK },
    [0x87] = { H(xchg_rm_r), D_M | D_LOCK },
    [0x88] = { H(mov_rm_r), D_M | D_B }, [0x89] = { H(mov_rm_r), D_M },
    [0x8a] = { H(mov_r_rm), D_M | D_B }, [0x8b] = { H(mov_r_rm), D_M },
    [0x8c] = { H(mov_rm_sreg), D_M }, [0x8d] = { H(lea), D_M | D_MEM },
    [0x8e] = { H(mov_sreg_rm), D_M | D_END }, [0x8f] = { H(pop_rm), D_M },
    R8(0x90, xchg_a, 0),
    [0x98] = { H(cbw), 0 }, [0x99] = { H(cwd), 0 },
    [0x9a] = { H(call_far), D_FAR | D_END }, [0x9b] = { H(fwait), 0 },
    [0x9c] = { H(pushf), 0 }, [0x9d] = { H(popf), D_END },
    [0x9e] = { H(sahf), 0 }, [0x9f] = { H(lahf), 0 },
    [0xa0] = { H(mov_a_moffs), D_B | D_MOFFS },
    [0xa1] = { H(mov_a_moffs), D_MOFFS },
    [0xa2] = { H(mov_moffs_a), D_B | D_MOFFS },
    [0xa3] = { H(mov_moffs_a), D_MOFFS },
    [0xa4] = { H(movs), D_B }, [0xa5] = { H(movs), 0 },
    [0xa6] = { H(cmps), D_B }, [0xa7] = { H(cmps), 0 },
    [0xa8] = { H(test_a_imm), D_B | D_IB }, [0xa9] = { H(test_a_imm), D_IZ },
    [0xaa] = { H(stos), D_B }, [0xab] = { H(stos), 0 },
    [0xac] = { H(lods), D_B }, [0xad] = { H(lods), 0 },
    [0xae] = { H(scas), D_B }, [0xaf] = { H(scas), 0 },
    R8(0xb0, mov_r_imm, D_B | D_IB), R8(0xb8, mov_r_imm, D_IZ),
    [0xc0] = { H(grp2), D_M | D_B | D_IB }, [0xc1] = { H(grp2), D_M | D_IB },
    [0xc2] = { H(ret_near), D_IW | D_END }, [0xc3] = { H(ret_near), D_END },
    [0xc4] = { H(les), D_M | D_MEM }, [0xc5] = { H(les), D_M | D_MEM },
    [0xc6] = { H(mov_rm_imm), D_M | D_B | D_IB },
    [0xc7] = { H(mov_rm_imm), D_M | D_IZ },
    [0xc8] = { H(enter), D_IBW }, [0xc9] = { H(leave), 0 },
    [0xca] = { H(ret_far), D_IW | D_END }, [0xcb] = { H(ret_far), D_END },
    [0xcc] = { H(int3), D_END }, [0xcd] = { H(int_imm), D_IB | D_END },
    [0xce] = { H(into), D_END }, [0xcf] = { H(iret), D_END },
    [0xd0] = { H(grp2), D_M | D_B }, [0xd1] = { H(grp2), D_M },
    [0xd2] = { H(grp2), D_M | D_B }, [0xd3] = { H(grp2), D_M },
    [0xd4] = { H(aam), D_IB }, [0xd5] = { H(aad), D_IB },
    [0xd6] = { H(salc), 0 }, [0xd7] = { H(xlat), 0 },
    R8(0xd8, esc, D_M),
    [0xe0] = { H(loop), D_IB | D_SX | D_END },
    [0xe1] = { H(loop), D_IB | D_SX | D_END },
    [0xe2] = { H(loop), D_IB | D_SX | D_END },
    [0xe3] = { H(jcxz), D_IB | D_SX | D_END },
    [0xe4] = { H(in_imm), D_B | D_IB }, [0xe5] = { H(in_imm), D_IB },
    [0xe6] = { H(out_imm), D_B | D_IB | D_END },
    [0xe7] = { H(out_imm), D_IB | D_END },
    [0xe8] = { H(call_rel), D_IZ | D_END },
    [0xe9] = { H(jmp_rel), D_IZ | D_END },
    [0xea] = { H(jmp_far), D_FAR | D_END },
    [0xeb] = { H(jmp_rel), D_IB | D_SX | D_END },
    [0xec] = { H(in_dx), D_B }, [0xed] = { H(in_dx), 0 },
    [0xee] = { H(out_dx), D_B | D_END }, [0xef] = { H(out_dx), D_END },
    [0xf0] = { NULL, D_PFX }, [0xf1] = { H(int1), D_END },
    [0xf2] = { NULL, D_PFX }, [0xf3] = { NULL, D_PFX },
    [0xf4] = { H(hlt), D_END }, [0xf5] = { H(cmc), 0 },
    [0xf6] = { H(grp3), D_M | D_B | D_LOCK },
    [0xf7] = { H(grp3), D_M | D_LOCK },
    [0xf8] = { H(clc), 0 }, [0xf9] = { H(stc), 0 },
    [0xfa] = { H(cli), D_END }, [0xfb] = { H(sti), D_END },
    [0xfc] = { H(cld), 0 }, [0xfd] = { H(std), 0 },
    [0xfe] = { H(grp4), D_M | D_B | D_LOCK },
    [0xff] = { H(grp5), D_M | D_LOCK },

    /* Two-byte opcodes (0F xx) at 0x100 + xx. */
    [0x100] = { H(grp6), D_M | D_END }, [0x101] = { H(grp7), D_M | D_END },
    [0x102] = { H(lar), D_M }, [0x103] = { H(lsl), D_M },
    [0x106] = { H(clts), 0 }, [0x108] = { H(invd), 0 },
    [0x109] = { H(invd), 0 }, [0x10b] = { H(ud), D_END },
    [0x10d] = { H(nop_rm), D_M },   /* PREFETCHW's slot: a NOP, as QEMU */
    /* 0F 18-1F: the hint-NOP space. A P6 executes all of it as a NOP
       with a ModRM operand it never accesses (PREFETCHh, and on later
       CPUs ENDBR32/ENDBR64, BNDx, CLDEMOTE live here; gcc's
       -fcf-protection puts ENDBR32 = F3 0F 1E FB at every function). */
    [0x118] = { H(nop_rm), D_M }, [0x119] = { H(nop_rm), D_M },
    [0x11a] = { H(nop_rm), D_M }, [0x11b] = { H(nop_rm), D_M },
    [0x11c] = { H(nop_rm), D_M }, [0x11d] = { H(nop_rm), D_M },
    [0x11e] = { H(nop_rm), D_M }, [0x11f] = { H(nop_rm), D_M },
    [0x120] = { H(mov_r_cr), D_M | D_REG },
    [0x121] = { H(mov_r_dr), D_M | D_REG },
    [0x122] = { H(mov_cr_r), D_M | D_REG | D_END },
    [0x123] = { H(mov_dr_r), D_M | D_REG | D_END },
    [0x130] = { H(wrmsr), D_END }, [0x131] = { H(rdtsc), 0 },
    [0x132] = { H(rdmsr), 0 }, [0x133] = { H(rdpmc), 0 },
    [0x134] = { H(sysenter), D_END }, [0x135] = { H(sysexit), D_END },
    R16(0x140, cmov, D_M),
    R16(0x160, mmx, D_M),
    [0x170] = { H(mmx), D_M }, [0x171] = { H(mmx), D_M },
    [0x172] = { H(mmx), D_M }, [0x173] = { H(mmx), D_M },
    [0x174] = { H(mmx), D_M }, [0x175] = { H(mmx), D_M },
    [0x176] = { H(mmx), D_M },
    [0x177] = { H(mmx), 0 }, /* EMMS: no ModRM */
    R8(0x178, mmx, D_M),
    R16(0x180, jcc, D_IZ | D_END),
    R16(0x190, setcc, D_M | D_B),
    [0x1a0] = { H(push_sreg), 0 }, [0x1a1] = { H(pop_sreg), D_END },
    [0x1a2] = { H(cpuid), 0 }, [0x1a3] = { H(bt), D_M },
    [0x1a4] = { H(shld), D_M | D_IB }, [0x1a5] = { H(shld), D_M },
    [0x1a8] = { H(push_sreg), 0 }, [0x1a9] = { H(pop_sreg), D_END },
    [0x1aa] = { H(rsm), D_END }, [0x1ab] = { H(bt), D_M | D_LOCK },
    [0x1ac] = { H(shrd), D_M | D_IB }, [0x1ad] = { H(shrd), D_M },
    [0x1ae] = { H(fxsave), D_M }, [0x1af] = { H(imul2), D_M },
    [0x1b0] = { H(cmpxchg), D_M | D_B | D_LOCK },
    [0x1b1] = { H(cmpxchg), D_M | D_LOCK },
    [0x1b2] = { H(les), D_M | D_MEM }, [0x1b3] = { H(bt), D_M | D_LOCK },
    [0x1b4] = { H(les), D_M | D_MEM }, [0x1b5] = { H(les), D_M | D_MEM },
    [0x1b6] = { H(movzx), D_M }, [0x1b7] = { H(movzx), D_M },
    [0x1b9] = { H(ud), D_M | D_END },
    [0x1ba] = { H(grp8), D_M | D_IB | D_LOCK }, [0x1bb] = { H(bt), D_M | D_LOCK },
    [0x1bc] = { H(bsf), D_M }, [0x1bd] = { H(bsr), D_M },
    [0x1be] = { H(movsx), D_M }, [0x1bf] = { H(movsx), D_M },
    [0x1c0] = { H(xadd), D_M | D_B | D_LOCK },
    [0x1c1] = { H(xadd), D_M | D_LOCK },
    [0x1c7] = { H(grp9), D_M | D_MEM | D_LOCK },
    R8(0x1c8, bswap, 0),
    R16(0x1d0, mmx, D_M), R16(0x1e0, mmx, D_M), R16(0x1f0, mmx, D_M),
};

static bool is_mmx_valid(uint8_t op)
{
    return mmx_is_opcode(op);
}

/* Decode one instruction.  fetch(ctx, off) returns the byte at cs:off and
   longjmps on a fault; cpu may be NULL (tests). */
void x86_decode(X86Cpu *cpu, X86Insn *in, uint32_t eip, bool code32,
                uint32_t (*fetch)(void *ctx, uint32_t off), void *ctx,
                bool *ends_block)
{
    memset(in, 0, sizeof(*in));
    in->eip = eip;
    in->seg = S_NONE;
    in->base = in->index = 8;
    bool opsz = false, adsz = false;
    unsigned n = 0;
    unsigned op;
    bool invalid = false;

    for (;;) {
        op = fetch(ctx, eip + n);
        n++;
        if (n > 15) {
            invalid = true;
            break;
        }
        switch (op) {
        case 0x26: case 0x2e: case 0x36: case 0x3e:
            in->seg = (op >> 3) & 3;
            in->seg_ovr = 1;
            continue;
        case 0x64: case 0x65:
            in->seg = op - 0x64 + S_FS;
            in->seg_ovr = 1;
            continue;
        case 0x66: opsz = true; continue;
        case 0x67: adsz = true; continue;
        case 0xf0: in->lock = 1; continue;
        case 0xf2: case 0xf3: in->rep = op; continue;
        }
        break;
    }
    if (!invalid && op == 0x0f) {
        op = 0x100 | fetch(ctx, eip + n);
        n++;
        in->op0f = 1;
    }
    in->op = op & 0xff;
    const OpInfo *oi = &optab[op & 0x1ff];
    unsigned f = oi->flags;
    if (!oi->fn) {
        invalid = true;
    }
    bool big = code32 ^ opsz;
    in->asz32 = code32 ^ adsz;
    in->osz = (f & D_B) ? 1 : (big ? 4 : 2);
    if (!invalid && (f & D_M)) {
        uint8_t m = fetch(ctx, eip + n);
        n++;
        in->modrm = m;
        in->mod = m >> 6;
        in->reg = (m >> 3) & 7;
        in->rm = m & 7;
        if (f & D_REG) {
            /* MOV CR/DR ignore mod: always a register. */
            in->mod = 3;
        }
        if (in->mod != 3) {
            unsigned def = S_DS;
            if (in->asz32) {
                unsigned rm = in->rm;
                if (rm == 4) {
                    uint8_t sib = fetch(ctx, eip + n);
                    n++;
                    in->scale = sib >> 6;
                    in->index = (sib >> 3) & 7;
                    if (in->index == 4) {
                        in->index = 8;
                    }
                    rm = sib & 7;
                    if (rm == 5 && in->mod == 0) {
                        in->base = 8;
                        in->disp = (int32_t)(fetch(ctx, eip + n) |
                            fetch(ctx, eip + n + 1) << 8 |
                            fetch(ctx, eip + n + 2) << 16 |
                            fetch(ctx, eip + n + 3) << 24);
                        n += 4;
                    } else {
                        in->base = rm;
                    }
                } else if (rm == 5 && in->mod == 0) {
                    in->disp = (int32_t)(fetch(ctx, eip + n) |
                        fetch(ctx, eip + n + 1) << 8 |
                        fetch(ctx, eip + n + 2) << 16 |
                        fetch(ctx, eip + n + 3) << 24);
                    n += 4;
                } else {
                    in->base = rm;
                }
                if (in->base == R_ESP || in->base == R_EBP) {
                    def = S_SS;
                }
                if (in->mod == 1) {
                    in->disp = (int8_t)fetch(ctx, eip + n);
                    n++;
                } else if (in->mod == 2) {
                    in->disp = (int32_t)(fetch(ctx, eip + n) |
                        fetch(ctx, eip + n + 1) << 8 |
                        fetch(ctx, eip + n + 2) << 16 |
                        fetch(ctx, eip + n + 3) << 24);
                    n += 4;
                }
            } else {
                static const uint8_t b16[8] = { R_EBX, R_EBX, R_EBP, R_EBP,
                                                R_ESI, R_EDI, R_EBP, R_EBX };
                static const uint8_t i16[8] = { R_ESI, R_EDI, R_ESI, R_EDI,
                                                8, 8, 8, 8 };
                if (in->mod == 0 && in->rm == 6) {
                    in->disp = (int16_t)(fetch(ctx, eip + n) |
                                         fetch(ctx, eip + n + 1) << 8);
                    n += 2;
                } else {
                    in->base = b16[in->rm];
                    in->index = i16[in->rm];
                    if (in->rm == 2 || in->rm == 3 || in->rm == 6) {
                        def = S_SS;
                    }
                    if (in->mod == 1) {
                        in->disp = (int8_t)fetch(ctx, eip + n);
                        n++;
                    } else if (in->mod == 2) {
                        in->disp = (int16_t)(fetch(ctx, eip + n) |
                                             fetch(ctx, eip + n + 1) << 8);
                        n += 2;
                    }
                }
            }
            if (in->seg == S_NONE) {
                in->seg = def;
            }
        }
        if ((f & D_MEM) && in->mod == 3) {
            invalid = true;
        }
    }
    if (in->seg == S_NONE) {
        in->seg = S_DS;
    }
    if (invalid) {
        goto bad;
    }
    /* Per-opcode validity the table cannot express. */
    switch (op) {
    case 0x8c: case 0x8e:
        if (in->reg > 5 || (op == 0x8e && in->reg == S_CS)) {
            goto bad;
        }
        break;
    case 0xfe:
        if (in->reg > 1) {
            goto bad;
        }
        break;
    case 0xff:
        if (in->reg == 7 || ((in->reg == 3 || in->reg == 5) &&
                             in->mod == 3)) {
            goto bad;
        }
        if (in->reg >= 2 && in->reg <= 5) {
            f |= D_END;
        }
        if (in->reg >= 2) {
            f &= ~D_LOCK;
        }
        break;
    case 0xc6: case 0xc7:
        if (in->reg != 0) {
            goto bad;
        }
        break;
    case 0x8f:
        if (in->reg != 0) {
            goto bad;
        }
        break;
    case 0xf6: case 0xf7:
        if (in->reg < 2) {
            f |= (op == 0xf6) ? D_IB : D_IZ;
        }
        if (in->reg != 2 && in->reg != 3) {
            f &= ~D_LOCK;
        }
        if (in->reg >= 6) {
            f |= D_END; /* may raise #DE */
        }
        break;
    case 0x38: case 0x39:
        f &= ~D_LOCK; /* CMP does not write */
        break;
    case 0x80: case 0x81: case 0x82: case 0x83:
        if (in->reg == 7) {
            f &= ~D_LOCK;
        }
        break;
    case 0x100:
        if (in->reg >= 6) {
            goto bad;
        }
        if ((in->reg == 2 || in->reg == 3) && !cpu) {
            break;
        }
        break;
    case 0x101:
        if (in->reg == 5) {
            goto bad;
        }
        if (in->mod == 3 && in->reg != 4 && in->reg != 6) {
            goto bad;
        }
        break;
    case 0x120: case 0x122:
        if (in->reg == 1 || in->reg > 4) {
            goto bad;
        }
        break;
    case 0x1ae:
        /* FXSAVE/FXRSTOR (FXSR); the rest of group 15 (LDMXCSR,
           STMXCSR, CLFLUSH, the fences) is SSE/SSE2. */
        if (in->mod == 3 || in->reg > 1) {
            goto bad;
        }
        break;
    case 0x1ba:
        if (in->reg < 4) {
            goto bad;
        }
        if (in->reg == 4) {
            f &= ~D_LOCK;
        }
        break;
    case 0x1c7:
        if (in->reg != 1) {
            goto bad;
        }
        break;
    case 0x1a3:
        f &= ~D_LOCK;
        break;
    case 0xdb:
        if (in->modrm >= 0xe5 && in->modrm <= 0xe7) {
            goto bad;
        }
        break;
    case 0xdf:
        if (in->modrm >= 0xe1 && in->modrm <= 0xe7) {
            goto bad;
        }
        break;
    default:
        if ((op & 0x1f0) == 0x160 || (op & 0x1f0) == 0x170 ||
            op >= 0x1d0) {
            if (!is_mmx_valid(op & 0xff) || in->rep || opsz) {
                goto bad;
            }
            if (mmx_has_imm8(op & 0xff)) {
                f |= D_IB;
            }
        }
        break;
    }
    if (in->lock && (!(f & D_LOCK) || in->mod == 3)) {
        goto bad;
    }
    /* Immediates. */
    if (f & (D_IB | D_IW | D_IZ | D_MOFFS | D_FAR | D_IBW)) {
        if (f & D_IB) {
            uint32_t v = fetch(ctx, eip + n);
            n++;
            if (f & D_SX) {
                v = (uint32_t)(int32_t)(int8_t)v;
            }
            in->imm = v;
        } else if (f & D_IW) {
            in->imm = fetch(ctx, eip + n) | fetch(ctx, eip + n + 1) << 8;
            n += 2;
        } else if (f & D_IBW) {
            in->imm = fetch(ctx, eip + n) | fetch(ctx, eip + n + 1) << 8;
            in->imm2 = fetch(ctx, eip + n + 2);
            n += 3;
        } else {
            unsigned sz = (f & D_MOFFS) ? (in->asz32 ? 4 : 2)
                          : (big ? 4 : 2);
            uint32_t v = 0;
            for (unsigned i = 0; i < sz; i++) {
                v |= fetch(ctx, eip + n + i) << (8 * i);
            }
            n += sz;
            if ((f & D_IZ) && sz == 2 && (op == 0x68 || op == 0x69 ||
                                          op == 0xe8 || op == 0xe9 ||
                                          (op & 0x1f0) == 0x180)) {
                v = (uint32_t)(int32_t)(int16_t)v;
            }
            in->imm = v;
            if (f & D_FAR) {
                in->imm2 = fetch(ctx, eip + n) | fetch(ctx, eip + n + 1) << 8;
                n += 2;
            }
        }
    }
    if (n > 15) {
        goto bad;
    }
    in->len = n;
    in->fn = oi->fn;
    x86_specialise(in);
    if (ends_block) {
        *ends_block = (f & D_END) != 0;
    }
    return;
bad:
    in->len = n > 15 ? 15 : n;
    in->fn = x86_op_ud;
    if (ends_block) {
        *ends_block = true;
    }
}

typedef struct BufCtx {
    const uint8_t *buf;
    int len;
    bool over;
} BufCtx;

static uint32_t buf_fetch(void *ctx, uint32_t off)
{
    BufCtx *b = ctx;
    if ((int)off >= b->len) {
        b->over = true;
        return 0;
    }
    return b->buf[off];
}

int x86_decode_buf(const uint8_t *buf, int len, bool code32, bool *valid)
{
    BufCtx b = { buf, len, false };
    X86Insn in;
    x86_decode(NULL, &in, 0, code32, buf_fetch, &b, NULL);
    *valid = in.fn != x86_op_ud && !b.over;
    if (in.fn == x86_h_ud) {
        *valid = false;
    }
    return in.len;
}
