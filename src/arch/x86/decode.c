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

/* The opcode map (opcodes.def), with GNU range designators for runs. */
#define x86_h_NULL NULL
#define OP(first, last, handler, flags, mnemonic) \
    [first ... last] = { x86_h_##handler, flags },
static const OpInfo optab[1024] = {
#include "arch/x86/opcodes.def"
};
#undef OP
#undef x86_h_NULL

/* The mnemonics of the map, for messages and tests. */
#define OP(first, last, handler, flags, mnemonic) \
    [first ... last] = mnemonic,
static const char *const opnames[1024] = {
#include "arch/x86/opcodes.def"
};
#undef OP

X86Handler x86_legacy_handler(unsigned op)
{
    return op < 1024 ? optab[op].fn : NULL;
}

const char *x86_opcode_name(unsigned op)
{
    return op < 1024 && opnames[op] ? opnames[op] : NULL;
}

/* ModRM.reg is an opcode extension or a non-GPR register (REX.R does not
   apply). */
static bool reg_is_ext(unsigned op)
{
    switch (op) {
    case 0x80 ... 0x83: case 0x8c: case 0x8e: case 0x8f: case 0xc0:
    case 0xc1: case 0xc6: case 0xc7: case 0xd0 ... 0xd3: case 0xd8 ... 0xdf:
    case 0xf6: case 0xf7: case 0xfe: case 0xff: case 0x100: case 0x101:
    case 0x10d: case 0x118 ... 0x11f: case 0x1ae: case 0x1ba: case 0x1c7:
    case 0x160 ... 0x17f: case 0x1d0 ... 0x1ff:
        return true;
    }
    return false;
}

/* ModRM.rm with mod = 3 names an x87 or MMX register (REX.B does not
   apply; MOVD/MOVQ between MMX and GPRs, 0F 6E/7E, take GPRs there). */
static bool rm_not_gpr(unsigned op)
{
    if (op == 0x16e || op == 0x17e) {
        return false;
    }
    return (op >= 0xd8 && op <= 0xdf) || (op >= 0x160 && op <= 0x17f) ||
           op >= 0x1d0;
}

/* One-byte opcodes that do not exist in 64-bit mode (SDM Vol. 2 A.2.5,
   "i64"): PUSH/POP ES CS SS DS, the BCD adjusts, PUSHA/POPA, BOUND, the
   far pointer forms, LES/LDS (VEX there), INTO, AAM/AAD, SALC, 82. */
static bool invalid64(unsigned op)
{
    switch (op) {
    case 0x06: case 0x07: case 0x0e: case 0x16: case 0x17: case 0x1e:
    case 0x1f: case 0x27: case 0x2f: case 0x37: case 0x3f: case 0x60:
    case 0x61: case 0x62: case 0x82: case 0x9a: case 0xc4: case 0xc5:
    case 0xce: case 0xd4: case 0xd5: case 0xd6: case 0xea:
        return true;
    }
    return false;
}

/* Operand size 64 by default in 64-bit mode ("d64": 66 gives 16, REX.W
   is not needed; SDM Vol. 2 A.2.5 and table 2-5), and the near branches
   ("f64", which ignore 66 on Intel CPUs). */
static bool default64(unsigned op, unsigned reg)
{
    switch (op) {
    case 0x50 ... 0x5f: case 0x68: case 0x6a: case 0x8f: case 0x9c:
    case 0x9d: case 0xc8: case 0xc9: case 0x1a0: case 0x1a1: case 0x1a8:
    case 0x1a9:
        return true;
    case 0xff:
        return reg == 6;
    }
    return false;
}

static bool force64(unsigned op, unsigned reg)
{
    switch (op) {
    case 0x70 ... 0x7f: case 0xc2: case 0xc3: case 0xe0 ... 0xe3:
    case 0xe8: case 0xe9: case 0xeb: case 0x180 ... 0x18f:
        return true;
    case 0xff:
        return reg == 2 || reg == 4;
    }
    return false;
}

/* Decode one instruction.  fetch(ctx, off) returns the byte at cs:off and
   longjmps on a fault; cpu may be NULL (tests).  mode: X86_MODE16/32
   (the code segment's D bit, so a bool code32 still means it) or
   X86_MODE64. */
void x86_decode(X86Cpu *cpu, X86Insn *in, uint64_t eip, unsigned mode,
                uint32_t (*fetch)(void *ctx, uint64_t off), void *ctx,
                bool *ends_block)
{
    memset(in, 0, sizeof(*in));
    in->ip = eip;
    in->seg = S_NONE;
    in->base = in->index = X86_R_NONE;
    bool opsz = false, adsz = false;
    bool m64 = mode == X86_MODE64;
    bool code32 = mode != X86_MODE16;
    unsigned rex = 0;
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
        if (m64 && (op & 0xf0) == 0x40) {
            rex = op; /* REX: must come last; another prefix drops it */
            continue;
        }
        if (optab[op].flags & D_PFX) {
            rex = 0;
        }
        switch (op) {
        case 0x26: case 0x2e: case 0x36: case 0x3e:
            if (!m64) { /* null prefixes in 64-bit mode */
                in->seg = (op >> 3) & 3;
                in->seg_ovr = 1;
            }
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
        if (op == 0x138 || op == 0x13a) {
            /* The three-byte maps 0F 38 and 0F 3A (SSSE3, SSE4). */
            in->map = op == 0x138 ? 1 : 2;
            op = (op == 0x138 ? 0x200 : 0x300) | fetch(ctx, eip + n);
            n++;
        }
    }
    /* The SSE mandatory prefix: F2/F3 (the last one) before 66. */
    in->pfx = in->rep == 0xf3 ? 2 : in->rep == 0xf2 ? 3 : opsz ? 1 : 0;
    in->op = op & 0xff;
    const OpInfo *oi = &optab[op & 0x3ff];
    unsigned f = oi->flags;
    /* SYSCALL and SYSRET: in the 64-bit map only (not in opcodes.def
       yet, which is the legacy map). */
    bool sys64 = m64 && (op == 0x105 || op == 0x107);
    if (sys64) {
        f = D_END;
    } else if (!oi->fn) {
        invalid = true;
    }
    bool big = code32 ^ opsz;
    in->rex = rex;
    if (m64) {
        in->asz = adsz ? 4 : 8;
        if (!in->op0f && invalid64(op)) {
            invalid = true;
        }
    } else {
        in->asz = (code32 ^ adsz) ? 4 : 2;
    }
    in->asz32 = in->asz != 2;
    in->osz = (f & D_B) ? 1 : (big ? 4 : 2);
    if (m64 && !(f & D_B) && (rex & 8)) {
        in->osz = 8;
    }
    if (m64 && !(f & D_M) && !(f & D_B) && default64(op, 0)) {
        in->osz = opsz ? 2 : 8;
    }
    if (m64 && !(f & D_M) && force64(op, 0)) {
        in->osz = 8;
    }
    if (!invalid && (f & D_M)) {
        uint8_t m = fetch(ctx, eip + n);
        n++;
        in->modrm = m;
        in->mod = m >> 6;
        /* REX.R extends reg where it names a GPR (or CR8), REX.B rm
           where rm names a GPR; an opcode extension (groups, x87) or an
           MMX or segment register keeps its 3 bits. */
        bool ext = reg_is_ext(op);
        in->reg = ((m >> 3) & 7) | (rex & 4 && !ext ? 8 : 0);
        in->rm = (m & 7) | (rex & 1 && !rm_not_gpr(op) ? 8 : 0);
        if (f & D_REG) {
            /* MOV CR/DR ignore mod: always a register. */
            in->mod = 3;
        }
        if (m64 && !(f & D_B) && default64(op, (m >> 3) & 7)) {
            in->osz = opsz ? 2 : 8;
        }
        if (m64 && force64(op, (m >> 3) & 7)) {
            in->osz = 8;
        }
        if (in->mod != 3) {
            unsigned def = S_DS;
            if (in->asz32) {
                unsigned rm = m & 7;
                if (rm == 4) {
                    uint8_t sib = fetch(ctx, eip + n);
                    n++;
                    in->scale = sib >> 6;
                    in->index = ((sib >> 3) & 7) | (rex & 2 ? 8 : 0);
                    if (in->index == 4) {
                        in->index = X86_R_NONE; /* r12 is an index */
                    }
                    rm = sib & 7;
                    if (rm == 5 && in->mod == 0) {
                        in->base = X86_R_NONE;
                        in->disp = (int32_t)(fetch(ctx, eip + n) |
                            fetch(ctx, eip + n + 1) << 8 |
                            fetch(ctx, eip + n + 2) << 16 |
                            fetch(ctx, eip + n + 3) << 24);
                        n += 4;
                    } else {
                        in->base = rm | (rex & 1 ? 8 : 0);
                    }
                } else if (rm == 5 && in->mod == 0) {
                    /* disp32; RIP-relative in 64-bit mode. */
                    in->disp = (int32_t)(fetch(ctx, eip + n) |
                        fetch(ctx, eip + n + 1) << 8 |
                        fetch(ctx, eip + n + 2) << 16 |
                        fetch(ctx, eip + n + 3) << 24);
                    n += 4;
                    if (m64) {
                        in->base = X86_R_RIP;
                    }
                } else {
                    in->base = rm | (rex & 1 ? 8 : 0);
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
                                                X86_R_NONE, X86_R_NONE,
                                                X86_R_NONE, X86_R_NONE };
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
        /* SWAPGS (64-bit mode only) and RDTSCP: 0F 01 F8/F9. */
        if (in->mod == 3 && in->reg == 7 &&
            ((in->rm & 7) == 1 || (m64 && (in->rm & 7) == 0))) {
            break;
        }
        /* XGETBV/XSETBV: 0F 01 D0/D1 (exec_sse.c). */
        if (in->modrm == 0xd0 || in->modrm == 0xd1) {
            if (in->pfx) {
                goto bad;
            }
            break;
        }
        if (in->mod == 3 && in->reg != 4 && in->reg != 6) {
            goto bad;
        }
        break;
    case 0x120: case 0x122:
        if (in->reg == 1 || (in->reg > 4 && !(m64 && in->reg == 8))) {
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
        if (oi->fn == x86_h_sse) {
            /* MMX, SSE..SSE4.2 and group 15: by mandatory prefix. */
            int r = x86_sse_decode(op, in->pfx, in->modrm);
            if (r < 0) {
                goto bad;
            }
            if (r) {
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
            unsigned sz = (f & D_MOFFS) ? in->asz
                          : (in->osz == 2 ? 2 : 4);
            if (m64 && in->osz == 8 && (op & 0x1f8) == 0xb8) {
                sz = 8; /* MOV r64, imm64 */
            }
            uint32_t v = 0;
            for (unsigned i = 0; i < sz && i < 4; i++) {
                v |= fetch(ctx, eip + n + i) << (8 * i);
            }
            if (sz == 8) {
                /* imm64 / moffs64: the upper half in imm2. */
                in->imm2 = 0;
                for (unsigned i = 4; i < 8; i++) {
                    in->imm2 |= fetch(ctx, eip + n + i) << (8 * (i - 4));
                }
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
    if (op == 0x101 && (in->modrm == 0xd0 || in->modrm == 0xd1)) {
        in->fn = x86_h_sse;
    }
    if (m64 && (op == 0x10d || (op >= 0x118 && op <= 0x11f))) {
        in->fn = x86_h_sse; /* PREFETCHh, hint NOPs: no access */
    }
    if (m64 && in->fn != x86_h_sse) {
        /* The legacy handlers compute in 32 bits: 64-bit mode runs
           exec_64.c's subset (issue 17, docs/x86.md); the SSE handler
           (exec_sse.c) knows both. */
        in->fn = x86_exec64_pick(in);
        if (ends_block) {
            /* Blocks as in the other modes (the handler sets block_end
               where a mode or IF changes; the JIT calls x86_h_exec64 as
               any handler and leaves on block_end or tb_dirty). */
            *ends_block = (f & D_END) || !cpu;
        }
        return;
    }
    if (m64) {
        if (ends_block) {
            *ends_block = true;
        }
        return;
    }
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

static uint32_t buf_fetch(void *ctx, uint64_t off)
{
    BufCtx *b = ctx;
    if ((int)off >= b->len) {
        b->over = true;
        return 0;
    }
    return b->buf[off];
}

int x86_decode_buf(const uint8_t *buf, int len, unsigned mode, bool *valid)
{
    BufCtx b = { buf, len, false };
    X86Insn in;
    x86_decode(NULL, &in, 0, mode, buf_fetch, &b, NULL);
    *valid = in.fn != x86_op_ud && !b.over;
    if (in.fn == x86_h_ud) {
        *valid = false;
    }
    return in.len;
}
