/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 JIT in 64-bit mode (CS.L = 1, docs/jit.md "64-bit code"): the
 * hot instructions of exec_64.c emitted inline, with the handler call as
 * the path for anything unusual.  jit.c's translation loop asks
 * x86_jit64_emit() first for every instruction of a block decoded in
 * 64-bit mode; what is not handled here is a handler call, as before.
 *
 * Guest registers stay in cpu->regs (all 16; the register cache of jit.c
 * is not used in 64-bit blocks), so a handler on a slow path and an
 * exception see them as the interpreter leaves them.  Flags are the lazy
 * fields as exec_64.c's alu() writes them (lf_op, lf_size 4 or 8, lf_res,
 * lf_a, lf_b, operands masked to the size).  Memory accesses go through
 * the TLB inline: the linear address (FS/GS base added; no other segment
 * has one in 64-bit mode) must hit the entry's tag, which is never a
 * non-canonical address, and not cross a page; anything else is the
 * handler, which redoes the instruction with every rule (canonical #GP or
 * #SS, #PF, MMIO, code pages, page crossing).  The fast paths change no
 * guest state before they are sure to complete.
 *
 * Specification: SDM Vol. 2 (the instruction pages), Vol. 1 3.2.1 and
 * 3.5.1.2 (64-bit operands, zero extension of 32-bit results, RIP-
 * relative addressing).
 */
#include "arch/x86/jit/jit64.h"

#if defined(__x86_64__) && defined(__linux__)

#include <stddef.h>

#include "arch/x86/ops.h"

#define J_CPU(field) ((int32_t)offsetof(X86Cpu, field))
#define J_REG(r) (J_CPU(regs) + 8 * (int32_t)(r))
#define J_SEG(s, f) (J_CPU(seg) + (int32_t)((s) * sizeof(SegCache) + \
                                           offsetof(SegCache, f)))

G_STATIC_ASSERT(sizeof(TlbEntry) == 32);
G_STATIC_ASSERT(sizeof(((X86Cpu *)0)->tlb[0]) == 32 * TLB_SIZE);

/* What an instruction does to the flags, for the Jcc that ends a block. */
enum { K_NONE, K_ADD, K_SUB, K_LOGIC, K_INC, K_DEC, K_EAGER, K_OTHER };

static bool canonical(uint64_t v)
{
    return x86_canonical(v);
}

/* The sign-extended 32-bit immediate (exec_64.c's imm()). */
static uint64_t simm(const X86Insn *in)
{
    return (uint64_t)(int64_t)(int32_t)in->imm;
}

/* dst = guest register g (64 bits, or 32 zero-extended). */
static void ldreg(Asm *a, int dst, int g, unsigned sz)
{
    a_op_mem(a, sz == 8, 0x8b, dst, H_RBX, J_REG(g));
}

/* guest register g = src; a 32-bit result is zero-extended (the host's
   32-bit operations already left it so). */
static void streg(Asm *a, int g, int src)
{
    a_st64(a, H_RBX, J_REG(g), src);
}

/* cpu->cur and cpu->rip as the loop leaves them before insn i's handler. */
static void cur_rip(Asm *a, const TBlock *tb, int i)
{
    const X86Insn *in = &tb->insn[i];
    a_op_mem(a, true, 0x8d, H_RSI, H_R12, (int32_t)(i * sizeof(X86Insn)));
    a_st64(a, H_RBX, J_CPU(cur), H_RSI);
    a_mov_ri(a, H_RAX, in->ip + in->len);
    a_st64(a, H_RBX, J_CPU(rip), H_RAX);
}

static void set_cur(Asm *a, int i)
{
    a_op_mem(a, true, 0x8d, H_RSI, H_R12, (int32_t)(i * sizeof(X86Insn)));
    a_st64(a, H_RBX, J_CPU(cur), H_RSI);
}

/* The handler call for insn i (the slow path), then the check of the
   loop for tb_dirty / block_end unless it is the last. */
static void call_insn(Asm *a, const TBlock *tb, int i, AsmFixup *out,
                      int *nout)
{
    cur_rip(a, tb, i);
    a_st8_imm(a, H_RBX, J_CPU(jit_hcall), 1);
    a_mov_rr(a, H_RDI, H_RBX);
    a_call(a, (const void *)tb->insn[i].fn);
    if (i + 1 < tb->n) {
        a_cmp16_mem_imm8(a, H_RBX, J_CPU(tb_dirty), 0);
        out[(*nout)++] = a_jcc_fwd(a, CC_NE);
    }
}

/* A register operand the helpers below can take as it is: 32 or 64 bits
   (8/16-bit registers and AH..BH are the handler's). */
static bool size_ok(const X86Insn *in)
{
    return in->osz == 4 || in->osz == 8;
}

/* An instruction of exec_64.c's one-byte or 0F map (x86_exec64_pick's
   handler), not one of the SSE handler's (0F 38 / 0F 3A maps share the
   opcode bytes): the only kind the forms below may match. */
static bool plain(const X86Insn *in)
{
    return in->map == 0 && in->fn != x86_h_sse;
}

/* RAX = the linear address of in's memory operand: base + index << scale
   + disp (RIP-relative: the next instruction's address), truncated to 32
   bits with a 67 prefix, plus the FS/GS base. */
static void emit_lin(Asm *a, const X86Insn *in, bool add_seg)
{
    uint64_t disp = (uint64_t)(int64_t)in->disp;
    if (in->base == X86_R_RIP) {
        disp += in->ip + in->len;
    }
    a_mov_ri(a, H_RAX, disp);
    if (in->base < X86_R_NONE) {
        a_op_mem(a, true, 0x03, H_RAX, H_RBX, J_REG(in->base));
    }
    if (in->index < X86_R_NONE) {
        ldreg(a, H_RCX, in->index, 8);
        if (in->scale) {
            a_rex(a, true, 0, 0, H_RCX, false);
            a_byte(a, 0xc1);
            a_byte(a, 0xe0 | (H_RCX & 7)); /* shl rcx, scale */
            a_byte(a, in->scale);
        }
        a_op_rr(a, true, 0x01, H_RCX, H_RAX);
    }
    if (in->asz == 4) {
        a_op_rr(a, false, 0x89, H_RAX, H_RAX); /* mov eax, eax */
    }
    if (add_seg && (in->seg == S_FS || in->seg == S_GS)) {
        a_op_mem(a, true, 0x03, H_RAX, H_RBX, J_SEG(in->seg, base));
    }
}

/* RAX (a linear address) = its host address if the TLB entry maps it
   for the access and the access stays within the page; else a jump to
   one of the fixups added to slow.  Clobbers RCX, RDX. */
static void emit_tlb(Asm *a, bool store, unsigned size, AsmFixup *slow,
                     int *ns)
{
    /* rcx = &tlb[tlb_user][(lin >> 12) & 1023] - &tlb[0][0] + cpu */
    a_mov_rr(a, H_RCX, H_RAX);
    a_rex(a, true, 0, 0, H_RCX, false);
    a_byte(a, 0xc1);
    a_byte(a, 0xe8 | (H_RCX & 7)); /* shr rcx, 12 */
    a_byte(a, 12);
    a_alu_ri(a, false, 4, H_RCX, TLB_SIZE - 1);
    a_shl32_ri(a, H_RCX, 5);
    a_ld32(a, H_RDX, H_RBX, J_CPU(tlb_user));
    a_shl32_ri(a, H_RDX, 5 + TLB_BITS);
    a_op_rr(a, true, 0x01, H_RDX, H_RCX);
    a_op_rr(a, true, 0x01, H_RBX, H_RCX);
    /* tag compare: the linear page (never a non-canonical one) */
    a_mov_rr(a, H_RDX, H_RAX);
    a_alu_ri(a, true, 4, H_RDX, -4096);
    a_op_mem(a, true, 0x3b, H_RDX, H_RCX,
             J_CPU(tlb) + (int32_t)(store ? offsetof(TlbEntry, tag_w)
                                          : offsetof(TlbEntry, tag_r)));
    slow[(*ns)++] = a_jcc_fwd(a, CC_NE);
    if (size > 1) {
        a_op_rr(a, false, 0x89, H_RAX, H_RDX); /* mov edx, eax */
        a_alu_ri(a, false, 4, H_RDX, 0xfff);
        a_alu_ri(a, false, 7, H_RDX, 0x1000 - (int32_t)size);
        slow[(*ns)++] = a_jcc_fwd(a, CC_A);
    }
    a_op_mem(a, true, 0x03, H_RAX, H_RCX,
             J_CPU(tlb) + (int32_t)offsetof(TlbEntry, addend));
}

/* dst = sz bytes at [base] zero-extended (sz 1, 2, 4, 8). */
static void ld_host(Asm *a, int dst, int base, unsigned sz)
{
    switch (sz) {
    case 1:
        a_ldzx8(a, dst, base, 0);
        break;
    case 2:
        a_ldzx16(a, dst, base, 0);
        break;
    default:
        a_op_mem(a, sz == 8, 0x8b, dst, base, 0);
        break;
    }
}

/* [base] = the low sz bytes of src (sz 4 or 8). */
static void st_host(Asm *a, int base, int src, unsigned sz)
{
    a_op_mem(a, sz == 8, 0x89, src, base, 0);
}

/* The lazy flags of alu() in exec_64.c after RAX = RAX op RCX: op 0 ADD,
   1 OR, 4 AND, 5 SUB, 6 XOR, 7 CMP, 8 TEST; a and b are masked to the
   size already (32-bit loads zero-extend). */
static void emit_alu(Asm *a, int op, unsigned sz)
{
    static const uint8_t host_op[9] = {
        [0] = 0x01, [1] = 0x09, [4] = 0x21, [5] = 0x29, [6] = 0x31,
        [7] = 0x29, [8] = 0x21,
    };
    bool w = sz == 8;
    bool arith = op == 0 || op == 5 || op == 7;
    if (arith) {
        a_st64(a, H_RBX, J_CPU(lf_a), H_RAX);
        a_st64(a, H_RBX, J_CPU(lf_b), H_RCX);
    }
    a_op_rr(a, w, host_op[op], H_RCX, H_RAX);
    if (sz < 4) {
        /* movzx eax, al / ax: the result masked to the size */
        a_byte(a, 0x0f);
        a_byte(a, sz == 1 ? 0xb6 : 0xb7);
        a_byte(a, 0xc0);
    }
    if (arith) {
        a_st32_imm(a, H_RBX, J_CPU(lf_op), op == 0 ? LF_ADD : LF_SUB);
    } else {
        a_st64_imm(a, H_RBX, J_CPU(lf_a), 0);
        a_st64_imm(a, H_RBX, J_CPU(lf_b), 0);
        a_st32_imm(a, H_RBX, J_CPU(lf_op), LF_LOGIC);
    }
    a_st64(a, H_RBX, J_CPU(lf_res), H_RAX);
    a_st8_imm(a, H_RBX, J_CPU(lf_size), (uint8_t)sz);
}

static int alu_kind(int op)
{
    return op == 0 ? K_ADD : op == 5 || op == 7 ? K_SUB : K_LOGIC;
}

/* The ALU forms: op (0 ADD 1 OR 4 AND 5 SUB 6 XOR 7 CMP 8 TEST; ADC and
   SBB are the handler's), where the destination is (dst_mem: the memory
   operand, else register dst) and the source (src_mem: the memory
   operand; src >= 0 a register; else the immediate).  -1: not one. */
typedef struct AluForm {
    int op;
    bool dst_mem, src_mem;
    int dst, src;
    uint64_t imm;
} AluForm;

static bool alu_form(const X86Insn *in, AluForm *f)
{
    if (in->op0f || !size_ok(in)) {
        return false;
    }
    unsigned op = in->op;
    bool mem = in->mod != 3;
    f->imm = in->osz == 8 ? simm(in) : (uint32_t)in->imm;
    f->src_mem = f->dst_mem = false;
    if (op < 0x40 && ((op & 7) == 1 || (op & 7) == 3 || (op & 7) == 5)) {
        f->op = op >> 3;
        if (f->op == 2 || f->op == 3) {
            return false;
        }
        if ((op & 7) == 5) { /* eAX, imm */
            f->dst = R_EAX;
            f->src = -1;
            return true;
        }
        if (op & 2) { /* reg op= r/m */
            f->dst = in->reg;
            f->src = mem ? -1 : in->rm;
            f->src_mem = mem;
        } else { /* r/m op= reg */
            f->dst = mem ? -1 : in->rm;
            f->dst_mem = mem;
            f->src = in->reg;
        }
        return true;
    }
    if (op == 0x81 || op == 0x83) {
        f->op = in->reg;
        if (f->op == 2 || f->op == 3) {
            return false;
        }
        f->dst = mem ? -1 : in->rm;
        f->dst_mem = mem;
        f->src = -1;
        return true;
    }
    if (op == 0x85) { /* TEST r/m, reg */
        f->op = 8;
        f->dst = mem ? -1 : in->rm;
        f->dst_mem = mem;
        f->src = in->reg;
        return true;
    }
    if (op == 0xa9 || (op == 0xf7 && in->reg == 0)) { /* TEST, imm */
        f->op = 8;
        f->dst = op == 0xa9 ? R_EAX : mem ? -1 : in->rm;
        f->dst_mem = op == 0xf7 && mem;
        f->src = -1;
        return true;
    }
    return false;
}

/* The count of a shift or rotate of a register by a constant (C1, D1:
   ROL ROR SHL SHR SAL SAR at 32 or 64 bits), masked as the CPU masks it;
   -1 when not such an instruction. */
static int shift_count(const X86Insn *in)
{
    if (in->op0f || in->mod != 3 || !size_ok(in) || in->reg == 2 ||
        in->reg == 3 || (in->op != 0xc1 && in->op != 0xd1)) {
        return -1;
    }
    unsigned cnt = in->op == 0xd1 ? 1 : in->imm & 0xff;
    return (int)(cnt & (in->osz == 8 ? 0x3f : 0x1f));
}

/* CMP and TEST at 8 and 16 bits (they only read their operands): CMP
   r/m,imm (80 /7; 81/83 /7 with 66), CMP r/m,r and r,r/m (38-3B), CMP
   AL/AX,imm (3C, 3D), TEST r/m,r (84, 85), TEST r/m,imm (F6/F7 /0),
   TEST AL/AX,imm (A8, A9).  a - b or a & b; a is the r/m operand except
   for 3A/3B (the register) and 3C/3D/A8/A9 (AL/AX). */
typedef struct SmallCmp {
    int op;          /* 7 CMP, 8 TEST */
    bool a_rm;       /* a is the r/m operand (else the register areg) */
    bool b_rm;       /* b is the r/m operand */
    int areg, breg;  /* registers, -1 if not one; b < 0 and !b_rm: imm */
    uint32_t imm;
} SmallCmp;

static bool small_cmp(const X86Insn *in, SmallCmp *c)
{
    unsigned op = in->op;
    if (in->op0f || (in->osz != 1 && in->osz != 2)) {
        return false;
    }
    uint32_t m = in->osz == 1 ? 0xff : 0xffff;
    c->imm = in->imm & m;
    c->a_rm = c->b_rm = false;
    c->areg = c->breg = -1;
    switch (op) {
    case 0x80: case 0x81: case 0x83:
        if (in->reg != 7) {
            return false;
        }
        c->op = 7;
        c->a_rm = true;
        return true;
    case 0xf6: case 0xf7:
        if (in->reg != 0) {
            return false;
        }
        c->op = 8;
        c->a_rm = true;
        return true;
    case 0x38: case 0x39: case 0x84: case 0x85:
        c->op = op >= 0x84 ? 8 : 7;
        c->a_rm = true;
        c->breg = in->reg;
        return true;
    case 0x3a: case 0x3b:
        c->op = 7;
        c->areg = in->reg;
        c->b_rm = true;
        return true;
    case 0x3c: case 0x3d: case 0xa8: case 0xa9:
        c->op = op >= 0xa8 ? 8 : 7;
        c->areg = R_EAX;
        return true;
    }
    return false;
}

/* The offset in cpu of an 8-bit register (AH..BH without REX) or of a
   16-bit one. */
static int32_t small_reg_off(const X86Insn *in, int r, unsigned sz)
{
    if (sz == 1 && !in->rex && r >= 4 && r < 8) {
        return J_REG(r - 4) + 1;
    }
    return J_REG(r);
}

/* op at the operand size sz: op8 for bytes, op with 66 for words, op
   with REX.W for 64 bits (reg, [base + disp]). */
static void op_sized_mem(Asm *a, unsigned sz, uint8_t op8, uint8_t op,
                         int reg, int base, int32_t disp)
{
    if (sz == 2) {
        a_byte(a, 0x66);
    }
    a_op_mem(a, sz == 8, sz == 1 ? op8 : op, reg, base, disp);
}

/* The Jcc of a block's end: the kind and size of the flags it reads, if
   the last flag-writing instruction before it in the block is one of the
   inline ALU forms and only inline instructions that leave the flags
   alone stand between (their slow paths call handlers that do too). */
static int flags_before(const TBlock *tb, int i, unsigned *sz)
{
    for (int k = i - 1; k >= 0; k--) {
        const X86Insn *in = &tb->insn[k];
        AluForm f;
        if (in->lock || in->rep || !plain(in)) {
            return K_OTHER;
        }
        if (alu_form(in, &f)) {
            *sz = in->osz;
            return alu_kind(f.op);
        }
        SmallCmp c;
        if (small_cmp(in, &c)) {
            *sz = in->osz;
            return c.op == 7 ? K_SUB : K_LOGIC;
        }
        unsigned op = in->op0f ? 0x100 | in->op : in->op;
        if (shift_count(in) > 0 && in->reg >= 4) {
            return K_EAGER; /* SHL/SHR/SAR: eager flags in eflags */
        }
        if (op == 0xff && in->mod == 3 && in->reg <= 1 && size_ok(in)) {
            *sz = in->osz;
            return in->reg ? K_DEC : K_INC;
        }
        switch (op) {
        case 0x88: case 0x89: case 0x8b: case 0x8d: case 0x63: case 0xc7:
        case 0xc6: case 0x50 ... 0x5f: case 0xb8 ... 0xbf:
        case 0x140 ... 0x14f: case 0x190 ... 0x19f: /* CMOVcc, SETcc */
        case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf:
            continue; /* MOV, LEA, MOVSXD, PUSH, POP, MOVZX/MOVSX */
        }
        return K_OTHER;
    }
    return K_OTHER;
}

/* Host flags for guest condition cc before insn i: recomputed from the
   lazy fields when the last flag setter before it in the block is known
   (flags_before), else x86_cond() (a C call; AL tested).  Returns the
   host condition that holds exactly when the guest's does.  Clobbers
   the caller-saved registers. */
static int emit_cond(Asm *a, const TBlock *tb, int i, int cc)
{
    unsigned sz = 0;
    int kind = flags_before(tb, i, &sz);
    bool w = sz == 8;
    if (kind == K_OTHER ||
        ((kind == K_INC || kind == K_DEC) &&
         (cc == CC_B || cc == CC_AE || cc == CC_BE || cc == CC_A))) {
        /* (after INC/DEC, CF is lf_cf) */
        a_mov_rr(a, H_RDI, H_RBX);
        a_mov_ri(a, H_RSI, (uint64_t)cc);
        a_call(a, (const void *)x86_cond);
        a_op_rr(a, false, 0x84, H_RAX, H_RAX); /* test al, al */
        return CC_NE;
    }
    switch (kind) {
    case K_ADD:
        a_ld64(a, H_RAX, H_RBX, J_CPU(lf_a));
        op_sized_mem(a, sz, 0x02, 0x03, H_RAX, H_RBX, J_CPU(lf_b));
        break;
    case K_SUB:
        a_ld64(a, H_RAX, H_RBX, J_CPU(lf_a));
        op_sized_mem(a, sz, 0x3a, 0x3b, H_RAX, H_RBX, J_CPU(lf_b));
        break;
    case K_EAGER:
        /* eflags holds them (lf_op LF_NONE): into the host's */
        a_ld32(a, H_RAX, H_RBX, J_CPU(eflags));
        a_alu_ri(a, false, 4, H_RAX, F_ARITH);
        a_push(a, H_RAX);
        a_byte(a, 0x9d); /* popfq */
        break;
    case K_INC:
    case K_DEC:
        /* INC/DEC of lf_a again: OF SF ZF PF as the guest's */
        a_ld64(a, H_RAX, H_RBX, J_CPU(lf_a));
        a_rex(a, w, 0, 0, H_RAX, false);
        a_byte(a, 0xff);
        a_byte(a, kind == K_INC ? 0xc0 : 0xc8);
        break;
    default:
        a_ld64(a, H_RAX, H_RBX, J_CPU(lf_res));
        if (sz == 2) {
            a_byte(a, 0x66);
        }
        a_op_rr(a, w, sz == 1 ? 0x84 : 0x85, H_RAX, H_RAX);
        break;
    }
    return cc;
}

/* Jcc ending the block: the condition inline (emit_cond).  Taken: RIP =
   the target (a constant; not canonical: the handler raises #GP). */
static bool emit_jcc(Asm *a, const TBlock *tb, int i)
{
    const X86Insn *in = &tb->insn[i];
    uint64_t target = in->ip + in->len + simm(in);
    if (i + 1 != tb->n || !canonical(target)) {
        return false;
    }
    cur_rip(a, tb, i); /* the not-taken state */
    int hcc = emit_cond(a, tb, i, in->op & 0xf);
    AsmFixup not_taken = a_jcc_fwd(a, hcc ^ 1);
    a_mov_ri(a, H_RAX, target);
    a_st64(a, H_RBX, J_CPU(rip), H_RAX);
    a_bind(a, not_taken);
    return true;
}

/* CMOVcc r, r and SETcc r8 (32/64-bit; SETcc not AH..BH... any byte
   register): the condition inline. */
static bool emit_cmov_setcc(Asm *a, const TBlock *tb, int i)
{
    const X86Insn *in = &tb->insn[i];
    if (!in->op0f || in->mod != 3) {
        return false;
    }
    int cc = in->op & 0xf;
    if ((in->op & 0xf0) == 0x40 && size_ok(in)) {
        bool w = in->osz == 8;
        int hcc = emit_cond(a, tb, i, cc);
        ldreg(a, H_RAX, in->reg, in->osz);
        ldreg(a, H_RCX, in->rm, in->osz);
        a_rex(a, w, H_RAX, 0, H_RCX, false);
        a_byte(a, 0x0f);
        a_byte(a, 0x40 | hcc);
        a_byte(a, 0xc0 | (H_RAX & 7) << 3 | (H_RCX & 7));
        streg(a, in->reg, H_RAX); /* 32-bit: zero-extended either way */
        return true;
    }
    if ((in->op & 0xf0) == 0x90) {
        int hcc = emit_cond(a, tb, i, cc);
        a_setcc(a, hcc, H_RAX);
        a_op_mem(a, false, 0x88, H_RAX, H_RBX, small_reg_off(in, in->rm, 1));
        return true;
    }
    return false;
}

/* ---- Flag liveness (as jit.c's for 32-bit code) ----

   An instruction's flag results are dead when an inline instruction
   that writes all six arithmetic flags, reads none and cannot fault
   comes after it before anything that could read them (a handler, a
   possible fault: the exception frame holds RFLAGS; the block's end).
   Dead, the inline code computes only the result. */
enum {
    FC_OTHER, /* may read the flags or fault, or a handler call */
    FC_NONE,  /* inline, cannot fault, reads no flag; writes none, or
                 only some (ROL/ROR: CF OF; INC/DEC: all but CF) */
    FC_WRITE, /* inline, cannot fault, writes all six, reads none */
};

static int flag_class(const X86Insn *in)
{
    if (in->lock || in->rep || !plain(in)) {
        return FC_OTHER;
    }
    unsigned op = in->op0f ? 0x100 | in->op : in->op;
    AluForm f;
    if (alu_form(in, &f)) {
        return f.dst_mem || f.src_mem ? FC_OTHER : FC_WRITE;
    }
    SmallCmp c;
    if (small_cmp(in, &c)) {
        return c.a_rm || c.b_rm ? (in->mod == 3 ? FC_WRITE : FC_OTHER)
                                : FC_WRITE;
    }
    int cnt = shift_count(in);
    if (cnt >= 0) {
        return cnt == 0 || in->reg < 4 ? FC_NONE : FC_WRITE;
    }
    if (in->mod == 3 && size_ok(in)) {
        switch (op) {
        case 0x89: case 0x8b: case 0x63: case 0x1b7: case 0x1bf:
        case 0xb8 ... 0xbf:
            return FC_NONE;
        case 0x1b6: case 0x1be:
            return in->rex || in->rm < 4 ? FC_NONE : FC_OTHER;
        case 0xc7:
            return in->reg == 0 ? FC_NONE : FC_OTHER;
        case 0xf7:
            return in->reg == 2 ? FC_NONE : in->reg == 3 ? FC_WRITE
                                                         : FC_OTHER;
        case 0xff:
            return in->reg <= 1 ? FC_NONE : FC_OTHER;
        case 0x1af: case 0x69: case 0x6b:
            return FC_WRITE;
        }
    }
    if (op == 0x8d && in->mod != 3 && size_ok(in)) {
        return FC_NONE;
    }
    if (op >= 0x1c8 && op <= 0x1cf && size_ok(in)) {
        return FC_NONE; /* BSWAP */
    }
    return FC_OTHER;
}

/* dead[i] for the block being translated (x86_jit64_emit is called for
   every instruction in order; computed at the first). */
static __thread bool live_dead[TB_MAX_INSNS];

static void flag_liveness(const TBlock *tb)
{
    bool overwritten = false; /* at the block's end: live */
    for (int i = tb->n - 1; i >= 0; i--) {
        live_dead[i] = overwritten;
        switch (flag_class(&tb->insn[i])) {
        case FC_WRITE:
            overwritten = true;
            break;
        case FC_OTHER:
            overwritten = false;
            break;
        }
    }
}

/* lf_cf = CF before insn i: from the lazy fields when the setter is
   known (flags_before), else x86_cf() (a C call). */
static void emit_save_cf(Asm *a, const TBlock *tb, int i)
{
    unsigned sz = 0;
    int kind = flags_before(tb, i, &sz);
    bool w = sz == 8;
    switch (kind) {
    case K_INC:
    case K_DEC:
        return; /* lf_cf holds it */
    case K_LOGIC:
        a_st8_imm(a, H_RBX, J_CPU(lf_cf), 0);
        return;
    case K_SUB: /* CF = a < b */
        a_ld64(a, H_RAX, H_RBX, J_CPU(lf_a));
        a_op_mem(a, w, 0x3b, H_RAX, H_RBX, J_CPU(lf_b));
        break;
    case K_ADD: /* CF = res < a */
        a_ld64(a, H_RAX, H_RBX, J_CPU(lf_res));
        a_op_mem(a, w, 0x3b, H_RAX, H_RBX, J_CPU(lf_a));
        break;
    default:
        a_mov_rr(a, H_RDI, H_RBX);
        a_call(a, (const void *)x86_cf);
        break;
    }
    if (kind == K_SUB || kind == K_ADD) {
        a_setcc(a, CC_B, H_RAX);
    }
    a_op_mem(a, false, 0x88, H_RAX, H_RBX, J_CPU(lf_cf)); /* mov al */
}

/* Forms inline only without their flags (dead): shifts and rotates by
   a constant, INC/DEC, IMUL; and NOT (no flags), BSWAP. */
static bool emit_noflags(Asm *a, const TBlock *tb, int i, bool dead)
{
    const X86Insn *in = &tb->insn[i];
    unsigned op = in->op0f ? 0x100 | in->op : in->op;
    unsigned sz = in->osz;
    bool w = sz == 8;
    if (!size_ok(in)) {
        return false;
    }
    int cnt = shift_count(in);
    if (cnt == 0) {
        /* a count of 0 (after masking): the flags are unaffected, but
           exec_64.c writes the operand back, which zero-extends a
           32-bit register (as the CPU does) */
        if (!w) {
            ldreg(a, H_RAX, in->rm, 4);
            streg(a, in->rm, H_RAX);
        }
        return true;
    }
    if (cnt > 0 && dead) {
        ldreg(a, H_RAX, in->rm, sz);
        a_rex(a, w, 0, 0, H_RAX, false);
        a_byte(a, 0xc1);
        a_byte(a, 0xc0 | (in->reg == 6 ? 4 : in->reg) << 3);
        a_byte(a, (uint8_t)cnt);
        streg(a, in->rm, H_RAX);
        return true;
    }
    if (cnt > 0 && in->reg >= 4) {
        /* SHL/SHR/SAR with live flags: exec_64.c's shift() sets them
           eagerly (lf_op LF_NONE): CF PF ZF SF from the host's shift,
           AF 0, OF by its formula (the host's is undefined for counts
           above 1): SHL MSB(r) ^ CF, SHR MSB(a), SAR 0. */
        unsigned bits = sz * 8;
        ldreg(a, H_RAX, in->rm, sz);
        a_mov_rr(a, H_RDX, H_RAX);
        a_rex(a, w, 0, 0, H_RAX, false);
        a_byte(a, 0xc1);
        a_byte(a, 0xc0 | (in->reg == 6 ? 4 : in->reg) << 3);
        a_byte(a, (uint8_t)cnt);
        a_byte(a, 0x9c); /* pushfq */
        a_pop(a, H_RCX);
        streg(a, in->rm, H_RAX);
        a_alu_ri(a, false, 4, H_RCX, F_CF | F_PF | F_ZF | F_SF);
        if (in->reg != 7) {
            /* rdx = MSB(a) (SHR) or MSB(r) ^ CF (SHL) */
            if (in->reg != 5) {
                a_mov_rr(a, H_RDX, H_RAX);
            }
            a_rex(a, true, 0, 0, H_RDX, false);
            a_byte(a, 0xc1);
            a_byte(a, 0xe8 | (H_RDX & 7)); /* shr rdx, bits - 1 */
            a_byte(a, (uint8_t)(bits - 1));
            a_alu_ri(a, false, 4, H_RDX, 1);
            if (in->reg != 5) {
                a_op_rr(a, false, 0x31, H_RCX, H_RDX); /* ^ CF (bit 0) */
                a_alu_ri(a, false, 4, H_RDX, 1);
            }
            a_shl32_ri(a, H_RDX, 11); /* OF */
            a_op_rr(a, false, 0x09, H_RDX, H_RCX);
        }
        a_ld32(a, H_RDX, H_RBX, J_CPU(eflags));
        a_alu_ri(a, false, 4, H_RDX, (int32_t)~F_ARITH);
        a_op_rr(a, false, 0x09, H_RCX, H_RDX);
        a_st32(a, H_RBX, J_CPU(eflags), H_RDX);
        a_st32_imm(a, H_RBX, J_CPU(lf_op), LF_NONE);
        return true;
    }
    if (in->mod == 3 && op == 0xf7 && in->reg == 2) { /* NOT */
        ldreg(a, H_RAX, in->rm, sz);
        a_rex(a, w, 0, 0, H_RAX, false);
        a_byte(a, 0xf7);
        a_byte(a, 0xd0);
        streg(a, in->rm, H_RAX);
        return true;
    }
    if (in->mod == 3 && op == 0xf7 && in->reg == 3) { /* NEG: 0 - a */
        a_op_rr(a, false, 0x31, H_RAX, H_RAX);
        ldreg(a, H_RCX, in->rm, sz);
        if (dead) {
            a_op_rr(a, w, 0x29, H_RCX, H_RAX);
        } else {
            emit_alu(a, 5, sz);
        }
        streg(a, in->rm, H_RAX);
        return true;
    }
    if (in->mod == 3 && op == 0xff && in->reg <= 1 && dead) { /* INC/DEC */
        ldreg(a, H_RAX, in->rm, sz);
        a_alu_ri(a, w, in->reg ? 5 : 0, H_RAX, 1);
        streg(a, in->rm, H_RAX);
        return true;
    }
    if (in->mod == 3 && op == 0xff && in->reg <= 1) {
        /* INC/DEC with live flags: lazy LF_INC/LF_DEC (exec_alu.c's
           form) with lf_cf = CF before it, which the interpreter's eager
           flags give the same EFLAGS as. */
        emit_save_cf(a, tb, i);
        ldreg(a, H_RAX, in->rm, sz);
        a_st64(a, H_RBX, J_CPU(lf_a), H_RAX);
        a_alu_ri(a, w, in->reg ? 5 : 0, H_RAX, 1);
        streg(a, in->rm, H_RAX);
        a_st64(a, H_RBX, J_CPU(lf_res), H_RAX);
        a_st64_imm(a, H_RBX, J_CPU(lf_b), 1);
        a_st32_imm(a, H_RBX, J_CPU(lf_op), in->reg ? LF_DEC : LF_INC);
        a_st8_imm(a, H_RBX, J_CPU(lf_size), (uint8_t)sz);
        return true;
    }
    if (in->mod == 3 && dead && (op == 0x1af || op == 0x69 || op == 0x6b)) {
        /* IMUL r, r/m (, imm): the low half is the same signed or not */
        ldreg(a, H_RCX, in->rm, sz);
        if (op == 0x1af) {
            ldreg(a, H_RAX, in->reg, sz);
            a_rex(a, w, H_RAX, 0, H_RCX, false);
            a_byte(a, 0x0f);
            a_byte(a, 0xaf);
            a_byte(a, 0xc0 | (H_RAX & 7) << 3 | (H_RCX & 7));
        } else {
            a_rex(a, w, H_RAX, 0, H_RCX, false);
            a_byte(a, 0x69);
            a_byte(a, 0xc0 | (H_RAX & 7) << 3 | (H_RCX & 7));
            a_u32(a, in->imm);
        }
        streg(a, in->reg, H_RAX);
        return true;
    }
    if (op >= 0x1c8 && op <= 0x1cf) { /* BSWAP */
        int r = (op & 7) | (in->rex & 1 ? 8 : 0);
        ldreg(a, H_RAX, r, sz);
        a_rex(a, w, 0, 0, H_RAX, false);
        a_byte(a, 0x0f);
        a_byte(a, 0xc8);
        streg(a, r, H_RAX);
        return true;
    }
    return false;
}

/* Register-only forms that cannot fault. */
static bool emit_reg(Asm *a, const X86Insn *in, bool dead)
{
    unsigned op = in->op0f ? 0x100 | in->op : in->op;
    unsigned sz = in->osz;
    bool w = sz == 8;
    AluForm f;
    if (alu_form(in, &f) && !f.dst_mem && !f.src_mem) {
        if (dead && (f.op == 7 || f.op == 8)) {
            return true; /* CMP/TEST whose flags nothing reads */
        }
        ldreg(a, H_RAX, f.dst, sz);
        if (f.src >= 0) {
            ldreg(a, H_RCX, f.src, sz);
        } else {
            a_mov_ri(a, H_RCX, f.imm);
        }
        if (dead) {
            static const uint8_t host_op[7] = {
                [0] = 0x01, [1] = 0x09, [4] = 0x21, [5] = 0x29, [6] = 0x31,
            };
            a_op_rr(a, w, host_op[f.op], H_RCX, H_RAX);
        } else {
            emit_alu(a, f.op, sz);
        }
        if (f.op != 7 && f.op != 8) {
            streg(a, f.dst, H_RAX);
        }
        return true;
    }
    switch (op) {
    case 0x89: case 0x8b: /* MOV r, r */
        if (in->mod != 3 || !size_ok(in)) {
            return false;
        }
        ldreg(a, H_RAX, op == 0x89 ? in->reg : in->rm, sz);
        streg(a, op == 0x89 ? in->rm : in->reg, H_RAX);
        return true;
    case 0xb8 ... 0xbf: /* MOV r, imm32 / imm64 */
        if (!size_ok(in)) {
            return false;
        }
        a_mov_ri(a, H_RAX, w ? in->imm | (uint64_t)in->imm2 << 32 : in->imm);
        streg(a, (op & 7) | (in->rex & 1 ? 8 : 0), H_RAX);
        return true;
    case 0xc7: /* MOV r, simm32 */
        if (in->mod != 3 || in->reg != 0 || !size_ok(in)) {
            return false;
        }
        a_mov_ri(a, H_RAX, w ? simm(in) : in->imm);
        streg(a, in->rm, H_RAX);
        return true;
    case 0x8d: /* LEA */
        if (in->mod == 3 || !size_ok(in)) {
            return false;
        }
        emit_lin(a, in, false);
        if (!w) {
            a_op_rr(a, false, 0x89, H_RAX, H_RAX);
        }
        streg(a, in->reg, H_RAX);
        return true;
    case 0x63: /* MOVSXD r64, r32 (without REX.W a plain 32-bit MOV) */
        if (in->mod != 3 || !size_ok(in)) {
            return false;
        }
        if (w) {
            a_rex(a, true, H_RAX, 0, H_RAX, false);
            a_byte(a, 0x63);
            a_mem(a, H_RAX, H_RBX, J_REG(in->rm)); /* movsxd rax, [] */
        } else {
            ldreg(a, H_RAX, in->rm, 4);
        }
        streg(a, in->reg, H_RAX);
        return true;
    case 0x1b7: case 0x1bf: /* MOVZX/MOVSX r, r16 */
        if (in->mod != 3 || !size_ok(in)) {
            return false;
        }
        a_rex(a, w, H_RAX, 0, H_RBX, false);
        a_byte(a, 0x0f);
        a_byte(a, op & 0xff);
        a_mem(a, H_RAX, H_RBX, J_REG(in->rm));
        streg(a, in->reg, H_RAX);
        return true;
    case 0x1b6: case 0x1be: /* MOVZX/MOVSX r, r8 (not AH..BH) */
        if (in->mod != 3 || !size_ok(in) || (!in->rex && in->rm >= 4)) {
            return false;
        }
        a_rex(a, w, H_RAX, 0, H_RBX, false);
        a_byte(a, 0x0f);
        a_byte(a, op & 0xff);
        a_mem(a, H_RAX, H_RBX, J_REG(in->rm));
        streg(a, in->reg, H_RAX);
        return true;
    }
    return false;
}

/* Forms with a memory access or a stack operation: the fast path inline,
   the handler as the slow path.  *end: the instruction ended the block
   with cur and rip set (CALL, JMP, RET as the last). */
static bool emit_mem(Asm *a, const TBlock *tb, int i, AsmFixup *out,
                     int *nout, bool *end)
{
    const X86Insn *in = &tb->insn[i];
    unsigned op = in->op0f ? 0x100 | in->op : in->op;
    unsigned sz = in->osz;
    bool w = sz == 8;
    bool last = i + 1 == tb->n;
    AluForm f;
    AsmFixup slow[8];
    int ns = 0;
    *end = false;
    bool is_alu = alu_form(in, &f) && (f.dst_mem || f.src_mem);
    if (!is_alu) {
        switch (op) {
        case 0x89: case 0x8b: case 0x63:
        case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf:
            if (in->mod == 3 || !size_ok(in)) {
                return false;
            }
            break;
        case 0xc6:
            if (in->mod == 3 || in->reg != 0 || sz != 1) {
                return false;
            }
            break;
        case 0xc7:
            if (in->mod == 3 || in->reg != 0 || !size_ok(in)) {
                return false;
            }
            break;
        case 0x50 ... 0x5f: case 0x68: case 0x6a:
            if (sz != 8) {
                return false;
            }
            break;
        case 0xe8: case 0xe9: case 0xeb: {
            uint64_t target = in->ip + in->len + simm(in);
            if (!canonical(target) || (op == 0xe9 && !last) ||
                (op == 0xeb && !last)) {
                return false;
            }
            if (op != 0xe8) { /* JMP rel ending the block */
                cur_rip(a, tb, i);
                a_mov_ri(a, H_RAX, target);
                a_st64(a, H_RBX, J_CPU(rip), H_RAX);
                *end = true;
                return true;
            }
            break;
        }
        case 0xc2: case 0xc3:
            if (!last) {
                return false;
            }
            break;
        default:
            return false;
        }
    }
    if (in->lock) {
        return false;
    }
    /* cur first: in Linux user mode a host fault on guest memory raises
       #PF from inside the fast path (x86_user_host_fault). */
    set_cur(a, i);
    if (is_alu) {
        /* reg op= [m]; [m] op= reg/imm (read-modify-write: the write
           tag, which implies the read right); CMP/TEST only read. */
        bool rmw = f.dst_mem && f.op != 7 && f.op != 8;
        emit_lin(a, in, true);
        emit_tlb(a, rmw, sz, slow, &ns);
        a_mov_rr(a, H_RSI, H_RAX);
        if (f.dst_mem) {
            ld_host(a, H_RAX, H_RSI, sz);
            if (f.src >= 0) {
                ldreg(a, H_RCX, f.src, sz);
            } else {
                a_mov_ri(a, H_RCX, f.imm);
            }
        } else {
            ld_host(a, H_RCX, H_RSI, sz);
            ldreg(a, H_RAX, f.dst, sz);
        }
        emit_alu(a, f.op, sz);
        if (f.op != 7 && f.op != 8) {
            if (f.dst_mem) {
                st_host(a, H_RSI, H_RAX, sz);
            } else {
                streg(a, f.dst, H_RAX);
            }
        }
    } else {
        switch (op) {
        case 0x8b: case 0x63: case 0x1b6: case 0x1b7: case 0x1be:
        case 0x1bf: {
            unsigned msz = op == 0x8b ? sz : op == 0x63 ? 4
                           : (op & 1) ? 2 : 1;
            emit_lin(a, in, true);
            emit_tlb(a, false, msz, slow, &ns);
            if (op == 0x63 && w) {
                a_op_mem(a, true, 0x63, H_RAX, H_RAX, 0); /* movsxd */
            } else if (op == 0x1be || op == 0x1bf) {
                a_rex(a, w, H_RAX, 0, H_RAX, false);
                a_byte(a, 0x0f);
                a_byte(a, op & 0xff);
                a_mem(a, H_RAX, H_RAX, 0);
            } else {
                ld_host(a, H_RAX, H_RAX, msz);
            }
            streg(a, in->reg, H_RAX);
            break;
        }
        case 0x89:
            emit_lin(a, in, true);
            emit_tlb(a, true, sz, slow, &ns);
            ldreg(a, H_RCX, in->reg, sz);
            st_host(a, H_RAX, H_RCX, sz);
            break;
        case 0xc6:
            emit_lin(a, in, true);
            emit_tlb(a, true, 1, slow, &ns);
            a_st8_imm(a, H_RAX, 0, (uint8_t)in->imm);
            break;
        case 0xc7:
            emit_lin(a, in, true);
            emit_tlb(a, true, sz, slow, &ns);
            if (w) {
                a_st64_imm(a, H_RAX, 0, (int32_t)in->imm);
            } else {
                a_st32_imm(a, H_RAX, 0, in->imm);
            }
            break;
        case 0x50 ... 0x57: case 0x68: case 0x6a: case 0xe8: {
            /* push: write below RSP, then RSP -= 8 (PUSH RSP stores the
               old value); CALL: the return address, then RIP. */
            a_ld64(a, H_RAX, H_RBX, J_REG(R_ESP));
            a_alu_ri(a, true, 5, H_RAX, 8);
            a_mov_rr(a, H_R13, H_RAX);
            emit_tlb(a, true, 8, slow, &ns);
            if (op == 0xe8) {
                a_mov_ri(a, H_RCX, in->ip + in->len);
            } else if (op >= 0x50 && op <= 0x57) {
                ldreg(a, H_RCX, (op & 7) | (in->rex & 1 ? 8 : 0), 8);
            } else {
                a_mov_ri(a, H_RCX, simm(in));
            }
            st_host(a, H_RAX, H_RCX, 8);
            a_st64(a, H_RBX, J_REG(R_ESP), H_R13);
            if (op == 0xe8 && last) {
                cur_rip(a, tb, i);
                a_mov_ri(a, H_RAX, in->ip + in->len + simm(in));
                a_st64(a, H_RBX, J_CPU(rip), H_RAX);
                *end = true;
            }
            break;
        }
        case 0x58 ... 0x5f:
            /* read at RSP, RSP += 8, then the register (POP RSP keeps
               the value read) */
            a_ld64(a, H_RAX, H_RBX, J_REG(R_ESP));
            emit_tlb(a, false, 8, slow, &ns);
            a_ld64(a, H_RCX, H_RAX, 0);
            a_alu_mem_imm(a, true, 0, H_RBX, J_REG(R_ESP), 8);
            streg(a, (op & 7) | (in->rex & 1 ? 8 : 0), H_RCX);
            break;
        case 0xc2: case 0xc3:
            /* read at RSP; the target canonical (else the handler's
               #GP), RSP += 8 (+ imm16), RIP = target */
            a_ld64(a, H_RAX, H_RBX, J_REG(R_ESP));
            emit_tlb(a, false, 8, slow, &ns);
            a_ld64(a, H_R13, H_RAX, 0);
            a_mov_rr(a, H_RCX, H_R13);
            a_rex(a, true, 0, 0, H_RCX, false);
            a_byte(a, 0xc1);
            a_byte(a, 0xe0 | (H_RCX & 7)); /* shl rcx, 16 */
            a_byte(a, 16);
            a_rex(a, true, 0, 0, H_RCX, false);
            a_byte(a, 0xc1);
            a_byte(a, 0xf8 | (H_RCX & 7)); /* sar rcx, 16 */
            a_byte(a, 16);
            a_op_rr(a, true, 0x39, H_R13, H_RCX);
            slow[ns++] = a_jcc_fwd(a, CC_NE);
            a_alu_mem_imm(a, true, 0, H_RBX, J_REG(R_ESP),
                          8 + (op == 0xc2 ? (int32_t)(in->imm & 0xffff)
                                          : 0));
            cur_rip(a, tb, i);
            a_st64(a, H_RBX, J_CPU(rip), H_R13);
            *end = true;
            break;
        }
    }
    AsmFixup done = a_jmp_fwd(a);
    for (int k = 0; k < ns; k++) {
        a_bind(a, slow[k]);
    }
    call_insn(a, tb, i, out, nout);
    a_bind(a, done);
    return true;
}

/* dst = the r/m operand of a small compare: a register, or sz bytes at
   the host address in rsi. */
static void small_ld(Asm *a, const X86Insn *in, int dst, int reg,
                     bool host)
{
    unsigned sz = in->osz;
    if (host) {
        ld_host(a, dst, H_RSI, sz);
    } else if (sz == 1) {
        a_ldzx8(a, dst, H_RBX, small_reg_off(in, reg, 1));
    } else {
        a_ldzx16(a, dst, H_RBX, J_REG(reg));
    }
}

/* The 8/16-bit CMP/TEST forms (small_cmp) and MOV stores (88, 89 and C7
   with 66): the r/m operand in memory through the TLB fast path. */
static bool emit_small(Asm *a, const TBlock *tb, int i, AsmFixup *out,
                       int *nout, bool dead)
{
    const X86Insn *in = &tb->insn[i];
    unsigned sz = in->osz;
    bool mem = in->mod != 3;
    SmallCmp c;
    bool cmp = small_cmp(in, &c);
    bool store = !in->op0f && mem &&
                 ((in->op == 0x88 && sz == 1) ||
                  (in->op == 0x89 && sz == 2) ||
                  (in->op == 0xc7 && in->reg == 0 && sz == 2));
    if (!cmp && !store) {
        return false;
    }
    if (cmp && dead && (!mem || (!c.a_rm && !c.b_rm))) {
        return true; /* nothing reads its flags, it cannot fault */
    }
    AsmFixup slow[4];
    int ns = 0;
    bool in_mem = mem && (c.a_rm || c.b_rm || store);
    if (in_mem) {
        set_cur(a, i);
        emit_lin(a, in, true);
        emit_tlb(a, store, sz, slow, &ns);
        a_mov_rr(a, H_RSI, H_RAX);
    }
    if (store) {
        if (in->op == 0xc7) {
            a_byte(a, 0x66);
            a_op_mem(a, false, 0xc7, 0, H_RSI, 0);
            a_byte(a, (uint8_t)in->imm);
            a_byte(a, (uint8_t)(in->imm >> 8));
        } else {
            small_ld(a, in, H_RCX, in->reg, false);
            op_sized_mem(a, sz, 0x88, 0x89, H_RCX, H_RSI, 0);
        }
    } else {
        if (c.a_rm) {
            small_ld(a, in, H_RAX, in->rm, mem);
        } else {
            small_ld(a, in, H_RAX, c.areg, false);
        }
        if (c.b_rm) {
            small_ld(a, in, H_RCX, in->rm, mem);
        } else if (c.breg >= 0) {
            small_ld(a, in, H_RCX, c.breg, false);
        } else {
            a_mov_ri(a, H_RCX, c.imm);
        }
        emit_alu(a, c.op, sz);
    }
    if (in_mem) {
        AsmFixup done = a_jmp_fwd(a);
        for (int k = 0; k < ns; k++) {
            a_bind(a, slow[k]);
        }
        call_insn(a, tb, i, out, nout);
        a_bind(a, done);
    }
    return true;
}

int x86_jit64_emit(Asm *a, const TBlock *tb, int i, AsmFixup *out,
                   int *nout)
{
    const X86Insn *in = &tb->insn[i];
    bool end;
    if (i == 0) {
        flag_liveness(tb);
    }
    if (in->lock || in->rep || !plain(in)) {
        return JIT64_NO;
    }
    bool jcc = in->op0f ? (in->op & 0xf0) == 0x80 : (in->op & 0xf0) == 0x70;
    if (jcc) {
        return emit_jcc(a, tb, i) ? JIT64_END : JIT64_NO;
    }
    if (emit_reg(a, in, live_dead[i]) ||
        emit_noflags(a, tb, i, live_dead[i])) {
        return JIT64_INLINE;
    }
    if (emit_mem(a, tb, i, out, nout, &end)) {
        return end ? JIT64_END : JIT64_INLINE;
    }
    if (emit_cmov_setcc(a, tb, i)) {
        return JIT64_INLINE;
    }
    if (emit_small(a, tb, i, out, nout, live_dead[i])) {
        return JIT64_INLINE;
    }
    return JIT64_NO;
}

#endif
