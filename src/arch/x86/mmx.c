/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MMX execution unit (Pentium II instruction set: no SSE integer forms).
 *
 * The eight 64-bit MMX registers alias the significands of the x87
 * physical registers R0..R7.  Every MMX instruction sets TOP to 0 and,
 * except EMMS, all tags to valid; writing MMi sets bits 79..64 of Ri to all
 * ones; EMMS empties every tag.  Nothing else of the x87 state changes (no
 * FIP/FDP/FOP either).  An x87 exception pending (FSW.ES) makes any MMX
 * instruction fault with #MF first.  The arithmetic is plain C, lane by
 * lane, from the instruction pages' Operation sections.
 *
 * Specification: Intel SDM Vol. 1 ch. 9 (MMX technology, 9.5 "Compatibility
 * with x87 FPU architecture"), Vol. 2 instruction pages (MOVD, MOVQ,
 * PACKSSWB ... PXOR), Vol. 2 appendix A (0F opcode map).
 */
#include <string.h>

#include "arch/x86/x87.h"

/* ---- lane helpers ---- */

static unsigned lane(uint64_t v, unsigned bits, unsigned i)
{
    return (unsigned)((v >> (bits * i)) & ((1ull << bits) - 1));
}

static int64_t lane_s(uint64_t v, unsigned bits, unsigned i)
{
    uint64_t u = lane(v, bits, i);
    uint64_t sign = 1ull << (bits - 1);

    return (int64_t)((u ^ sign) - sign);
}

static uint64_t set_lane(uint64_t v, unsigned bits, unsigned i, uint64_t x)
{
    uint64_t mask = ((bits == 64) ? ~0ull : ((1ull << bits) - 1)) << (bits * i);

    return (v & ~mask) | ((x << (bits * i)) & mask);
}

static int64_t sat_s(int64_t x, unsigned bits)
{
    int64_t max = (1ll << (bits - 1)) - 1;
    int64_t min = -(1ll << (bits - 1));

    return x > max ? max : x < min ? min : x;
}

static int64_t sat_u(int64_t x, unsigned bits)
{
    int64_t max = (1ll << bits) - 1;

    return x > max ? max : x < 0 ? 0 : x;
}

typedef enum {
    OP_WRAP,
    OP_SSAT,
    OP_USAT,
} SatMode;

static uint64_t lanes_addsub(uint64_t a, uint64_t b, unsigned bits, bool sub,
                             SatMode m)
{
    uint64_t r = 0;

    for (unsigned i = 0; i < 64 / bits; i++) {
        int64_t x;

        if (m == OP_SSAT) {
            x = sub ? lane_s(a, bits, i) - lane_s(b, bits, i)
                    : lane_s(a, bits, i) + lane_s(b, bits, i);
            x = sat_s(x, bits);
        } else {
            x = sub ? (int64_t)lane(a, bits, i) - lane(b, bits, i)
                    : (int64_t)lane(a, bits, i) + lane(b, bits, i);
            if (m == OP_USAT) {
                x = sat_u(x, bits);
            }
        }
        r = set_lane(r, bits, i, (uint64_t)x);
    }
    return r;
}

static uint64_t lanes_cmp(uint64_t a, uint64_t b, unsigned bits, bool gt)
{
    uint64_t r = 0;

    for (unsigned i = 0; i < 64 / bits; i++) {
        bool t = gt ? lane_s(a, bits, i) > lane_s(b, bits, i)
                    : lane(a, bits, i) == lane(b, bits, i);

        r = set_lane(r, bits, i, t ? ~0ull : 0);
    }
    return r;
}

/* PACKSS*, PACKUS*: a's lanes go low, b's high. */
static uint64_t lanes_pack(uint64_t a, uint64_t b, unsigned bits, bool uns)
{
    unsigned n = 64 / bits, half = bits / 2;
    uint64_t r = 0;

    for (unsigned i = 0; i < n; i++) {
        int64_t x = lane_s(a, bits, i), y = lane_s(b, bits, i);

        x = uns ? sat_u(x, half) : sat_s(x, half);
        y = uns ? sat_u(y, half) : sat_s(y, half);
        r = set_lane(r, half, i, (uint64_t)x);
        r = set_lane(r, half, i + n, (uint64_t)y);
    }
    return r;
}

/* PUNPCKL* (high = false) / PUNPCKH*: interleave a's and b's lanes. */
static uint64_t lanes_unpack(uint64_t a, uint64_t b, unsigned bits, bool high)
{
    unsigned n = 32 / bits, base = high ? n : 0;
    uint64_t r = 0;

    for (unsigned i = 0; i < n; i++) {
        r = set_lane(r, bits, 2 * i, lane(a, bits, base + i));
        r = set_lane(r, bits, 2 * i + 1, lane(b, bits, base + i));
    }
    return r;
}

typedef enum {
    SH_LEFT,
    SH_RIGHT,
    SH_ARITH,
} ShiftKind;

static uint64_t lanes_shift(uint64_t a, uint64_t count, unsigned bits,
                            ShiftKind k)
{
    uint64_t r = 0;

    if (count > bits - 1) {
        if (k != SH_ARITH) {
            return 0;
        }
        count = bits - 1; /* fills with the sign */
    }
    if (bits == 64) {
        return k == SH_LEFT ? a << count : a >> count;
    }
    for (unsigned i = 0; i < 64 / bits; i++) {
        uint64_t x;

        switch (k) {
        case SH_LEFT:
            x = (uint64_t)lane(a, bits, i) << count;
            break;
        case SH_RIGHT:
            x = lane(a, bits, i) >> count;
            break;
        default:
            x = (uint64_t)(lane_s(a, bits, i) >> count);
            break;
        }
        r = set_lane(r, bits, i, x);
    }
    return r;
}

static uint64_t op_pmul(uint64_t a, uint64_t b, bool high)
{
    uint64_t r = 0;

    for (unsigned i = 0; i < 4; i++) {
        int32_t p = (int32_t)(lane_s(a, 16, i) * lane_s(b, 16, i));

        r = set_lane(r, 16, i, (uint64_t)(uint32_t)(high ? p >> 16 : p));
    }
    return r;
}

static uint64_t op_pmaddwd(uint64_t a, uint64_t b)
{
    uint64_t r = 0;

    for (unsigned i = 0; i < 2; i++) {
        /* 8000h * 8000h twice wraps to 80000000h, as documented */
        uint32_t s = (uint32_t)(lane_s(a, 16, 2 * i) * lane_s(b, 16, 2 * i)) +
                     (uint32_t)(lane_s(a, 16, 2 * i + 1) *
                                lane_s(b, 16, 2 * i + 1));

        r = set_lane(r, 32, i, s);
    }
    return r;
}

/* ---- decoding ---- */

typedef enum {
    M_UD = 0,
    M_BINARY,  /* mm <- f(mm, mm/m64) */
    M_UNPACKL, /* mm <- f(mm, mm/m32) */
    M_SHIFTI,  /* 71/72/73: mm <- f(mm, imm8), register form only */
    M_MOVD_LD, /* 6E */
    M_MOVQ_LD, /* 6F */
    M_MOVD_ST, /* 7E */
    M_MOVQ_ST, /* 7F */
    M_EMMS,    /* 77 */
} MmxKind;

static MmxKind mmx_kind(uint8_t op)
{
    switch (op) {
    case 0x60:
    case 0x61:
    case 0x62:
        return M_UNPACKL;
    case 0x63:
    case 0x64:
    case 0x65:
    case 0x66:
    case 0x67:
    case 0x68:
    case 0x69:
    case 0x6a:
    case 0x6b:
    case 0x74:
    case 0x75:
    case 0x76:
    case 0xd1:
    case 0xd2:
    case 0xd3:
    case 0xd5:
    case 0xd8:
    case 0xd9:
    case 0xdb:
    case 0xdc:
    case 0xdd:
    case 0xdf:
    case 0xe1:
    case 0xe2:
    case 0xe5:
    case 0xe8:
    case 0xe9:
    case 0xeb:
    case 0xec:
    case 0xed:
    case 0xef:
    case 0xf1:
    case 0xf2:
    case 0xf3:
    case 0xf5:
    case 0xf8:
    case 0xf9:
    case 0xfa:
    case 0xfc:
    case 0xfd:
    case 0xfe:
        return M_BINARY;
    case 0x71:
    case 0x72:
    case 0x73:
        return M_SHIFTI;
    case 0x6e:
        return M_MOVD_LD;
    case 0x6f:
        return M_MOVQ_LD;
    case 0x7e:
        return M_MOVD_ST;
    case 0x7f:
        return M_MOVQ_ST;
    case 0x77:
        return M_EMMS;
    default:
        return M_UD;
    }
}

bool mmx_is_opcode(uint8_t opcode2)
{
    return mmx_kind(opcode2) != M_UD;
}

bool mmx_has_imm8(uint8_t opcode2)
{
    return mmx_kind(opcode2) == M_SHIFTI;
}

static uint64_t mmx_binary(uint8_t op, uint64_t a, uint64_t b)
{
    switch (op) {
    case 0x60:
        return lanes_unpack(a, b, 8, false);
    case 0x61:
        return lanes_unpack(a, b, 16, false);
    case 0x62:
        return lanes_unpack(a, b, 32, false);
    case 0x63:
        return lanes_pack(a, b, 16, false);
    case 0x64:
        return lanes_cmp(a, b, 8, true);
    case 0x65:
        return lanes_cmp(a, b, 16, true);
    case 0x66:
        return lanes_cmp(a, b, 32, true);
    case 0x67:
        return lanes_pack(a, b, 16, true);
    case 0x68:
        return lanes_unpack(a, b, 8, true);
    case 0x69:
        return lanes_unpack(a, b, 16, true);
    case 0x6a:
        return lanes_unpack(a, b, 32, true);
    case 0x6b:
        return lanes_pack(a, b, 32, false);
    case 0x74:
        return lanes_cmp(a, b, 8, false);
    case 0x75:
        return lanes_cmp(a, b, 16, false);
    case 0x76:
        return lanes_cmp(a, b, 32, false);
    case 0xd1:
        return lanes_shift(a, b, 16, SH_RIGHT);
    case 0xd2:
        return lanes_shift(a, b, 32, SH_RIGHT);
    case 0xd3:
        return lanes_shift(a, b, 64, SH_RIGHT);
    case 0xd5:
        return op_pmul(a, b, false);
    case 0xd8:
        return lanes_addsub(a, b, 8, true, OP_USAT);
    case 0xd9:
        return lanes_addsub(a, b, 16, true, OP_USAT);
    case 0xdb:
        return a & b;
    case 0xdc:
        return lanes_addsub(a, b, 8, false, OP_USAT);
    case 0xdd:
        return lanes_addsub(a, b, 16, false, OP_USAT);
    case 0xdf:
        return ~a & b;
    case 0xe1:
        return lanes_shift(a, b, 16, SH_ARITH);
    case 0xe2:
        return lanes_shift(a, b, 32, SH_ARITH);
    case 0xe5:
        return op_pmul(a, b, true);
    case 0xe8:
        return lanes_addsub(a, b, 8, true, OP_SSAT);
    case 0xe9:
        return lanes_addsub(a, b, 16, true, OP_SSAT);
    case 0xeb:
        return a | b;
    case 0xec:
        return lanes_addsub(a, b, 8, false, OP_SSAT);
    case 0xed:
        return lanes_addsub(a, b, 16, false, OP_SSAT);
    case 0xef:
        return a ^ b;
    case 0xf1:
        return lanes_shift(a, b, 16, SH_LEFT);
    case 0xf2:
        return lanes_shift(a, b, 32, SH_LEFT);
    case 0xf3:
        return lanes_shift(a, b, 64, SH_LEFT);
    case 0xf5:
        return op_pmaddwd(a, b);
    case 0xf8:
        return lanes_addsub(a, b, 8, true, OP_WRAP);
    case 0xf9:
        return lanes_addsub(a, b, 16, true, OP_WRAP);
    case 0xfa:
        return lanes_addsub(a, b, 32, true, OP_WRAP);
    case 0xfc:
        return lanes_addsub(a, b, 8, false, OP_WRAP);
    case 0xfd:
        return lanes_addsub(a, b, 16, false, OP_WRAP);
    default: /* 0xfe */
        return lanes_addsub(a, b, 32, false, OP_WRAP);
    }
}

/* 71/72/73 by reg field: 2 = PSRL, 4 = PSRA, 6 = PSLL; 73 /4 is invalid. */
static bool mmx_shift_imm(uint8_t op, unsigned reg, uint64_t a, uint8_t imm,
                          uint64_t *out)
{
    unsigned bits = op == 0x71 ? 16 : op == 0x72 ? 32 : 64;

    switch (reg) {
    case 2:
        *out = lanes_shift(a, imm, bits, SH_RIGHT);
        return true;
    case 4:
        if (bits == 64) {
            return false;
        }
        *out = lanes_shift(a, imm, bits, SH_ARITH);
        return true;
    case 6:
        *out = lanes_shift(a, imm, bits, SH_LEFT);
        return true;
    default:
        return false;
    }
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < 8; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* The x87 side effects of an MMX instruction; write < 0: no MM written. */
static void mmx_commit(X87State *st, int write, uint64_t value)
{
    st->fsw &= (uint16_t)~X87_SW_TOP;
    st->ftw = 0;
    if (write >= 0) {
        st->r[write].mant = value;
        st->r[write].sexp = 0xffff;
    }
}

int mmx_exec(X87State *st, uint8_t opcode2, uint8_t modrm, const X87Mem *mem,
             uint32_t ea, uint64_t *gpr, uint8_t imm)
{
    MmxKind k = mmx_kind(opcode2);
    unsigned reg = (modrm >> 3) & 7, rm = modrm & 7;
    bool is_reg = modrm >= 0xc0;
    uint8_t buf[8];
    uint64_t src = 0, res;

    if (k == M_UD) {
        return X87_UD;
    }
    if (k == M_SHIFTI) {
        if (!is_reg || !mmx_shift_imm(opcode2, reg, 0, 0, &res)) {
            return X87_UD;
        }
    }
    if ((st->fsw & X87_SW_ES) && !(mem->flags & X87_MEM_IGNNE)) {
        return X87_MF;
    }

    memset(buf, 0, sizeof(buf));
    switch (k) {
    case M_EMMS: /* TOP = 0 as well (SDM Vol. 3 table 12-2) */
        st->fsw &= (uint16_t)~X87_SW_TOP;
        st->ftw = 0xffff;
        return X87_OK;
    case M_SHIFTI:
        mmx_shift_imm(opcode2, reg, st->r[rm].mant, imm, &res);
        mmx_commit(st, (int)rm, res);
        return X87_OK;
    case M_BINARY:
    case M_UNPACKL:
        if (is_reg) {
            src = st->r[rm].mant;
        } else {
            /* the low-unpacks read only a doubleword from memory */
            mem->load(mem->ctx, ea, buf, k == M_UNPACKL ? 4 : 8);
            src = le64(buf);
        }
        mmx_commit(st, (int)reg, mmx_binary(opcode2, st->r[reg].mant, src));
        return X87_OK;
    case M_MOVD_LD:
        if (is_reg) {
            src = gpr[rm];
        } else {
            mem->load(mem->ctx, ea, buf, 4);
            src = le64(buf);
        }
        mmx_commit(st, (int)reg, src);
        return X87_OK;
    case M_MOVQ_LD:
        if (is_reg) {
            src = st->r[rm].mant;
        } else {
            mem->load(mem->ctx, ea, buf, 8);
            src = le64(buf);
        }
        mmx_commit(st, (int)reg, src);
        return X87_OK;
    case M_MOVD_ST:
        if (is_reg) {
            gpr[rm] = (uint32_t)st->r[reg].mant;
        } else {
            put_le64(buf, st->r[reg].mant);
            mem->store(mem->ctx, ea, buf, 4);
        }
        mmx_commit(st, -1, 0);
        return X87_OK;
    case M_MOVQ_ST:
        if (is_reg) {
            mmx_commit(st, (int)rm, st->r[reg].mant);
        } else {
            put_le64(buf, st->r[reg].mant);
            mem->store(mem->ctx, ea, buf, 8);
            mmx_commit(st, -1, 0);
        }
        return X87_OK;
    default:
        return X87_UD;
    }
}
