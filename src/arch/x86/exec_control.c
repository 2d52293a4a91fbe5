/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Control transfer and stack instructions: Jcc, JMP, CALL, RET, LOOP,
 * JCXZ, PUSH/POP (incl. PUSHA/POPA, PUSHF/POPF with the IOPL rules),
 * ENTER/LEAVE, BOUND, INT n/INT3/INTO/INT1, IRET, far transfers, HLT,
 * CLI/STI.  While a handler runs, cpu->rip already holds the address of
 * the next instruction.
 *
 * Specification: SDM Vol. 2 (instruction reference), Vol. 3A chapter 6
 * (interrupts) and 5.8 (privilege level checking for control transfers).
 */
#include "arch/x86/ops.h"

void x86_grp5_incdec(X86Cpu *cpu, const X86Insn *in);

void x86_h_jcc(X86Cpu *cpu, const X86Insn *in)
{
    if (x86_cond(cpu, in->op & 0xf)) {
        x86_jump(cpu, cpu->rip + in->imm, in->osz);
    }
}

void x86_h_jmp_rel(X86Cpu *cpu, const X86Insn *in)
{
    x86_jump(cpu, cpu->rip + in->imm, in->osz);
}

void x86_h_call_rel(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t t = cpu->rip + in->imm;
    if (in->osz == 2) {
        t &= 0xffff;
    }
    if (t > cpu->seg[S_CS].limit) {
        GP0(cpu);
    }
    x86_push(cpu, cpu->rip, in->osz);
    cpu->rip = t;
}

void x86_h_ret_near(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t mask = x86_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & mask;
    uint32_t t = x86_rd(cpu, S_SS, sp, in->osz);
    if (t > cpu->seg[S_CS].limit) {
        GP0(cpu);
    }
    sp += in->osz + (in->op == 0xc2 ? in->imm : 0);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
    cpu->rip = t;
}

void x86_h_loop(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t m = in->asz32 ? 0xffffffffu : 0xffffu;
    uint32_t c = (cpu->regs[R_ECX] - 1) & m;
    cpu->regs[R_ECX] = (cpu->regs[R_ECX] & ~m) | c;
    bool take = c != 0;
    if (in->op == 0xe0) {
        take = take && !x86_zf(cpu);
    } else if (in->op == 0xe1) {
        take = take && x86_zf(cpu);
    }
    if (take) {
        x86_jump(cpu, cpu->rip + in->imm, in->osz);
    }
}

void x86_h_jcxz(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t m = in->asz32 ? 0xffffffffu : 0xffffu;
    if ((cpu->regs[R_ECX] & m) == 0) {
        x86_jump(cpu, cpu->rip + in->imm, in->osz);
    }
}

void x86_h_push_r(X86Cpu *cpu, const X86Insn *in)
{
    /* PUSH ESP pushes the value before the decrement (386+). */
    x86_push(cpu, x86_getreg(cpu, in->op & 7, in->osz), in->osz);
}

void x86_h_pop_r(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t v = x86_pop(cpu, in->osz);
    x86_setreg(cpu, in->op & 7, v, in->osz);
}

void x86_h_push_imm(X86Cpu *cpu, const X86Insn *in)
{
    x86_push(cpu, in->imm, in->osz);
}

void x86_h_pop_rm(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t mask = x86_sp_mask(cpu);
    uint32_t old = cpu->regs[R_ESP];
    uint32_t v = x86_rd(cpu, S_SS, old & mask, in->osz);
    uint32_t sp = (old & ~mask) | ((old + in->osz) & mask);
    cpu->regs[R_ESP] = sp;
    if (in->mod == 3) {
        x86_setreg(cpu, in->rm, v, in->osz);
        return;
    }
    /* The effective address is computed with the incremented ESP, but a
       fault of the store (segment limit, either page of a straddling
       operand) leaves ESP as it was (SDM vol. 2 POP). */
    uint32_t ea = x86_ea(cpu, in);
    cpu->regs[R_ESP] = old;
    x86_wr(cpu, in->seg, ea, v, in->osz);
    cpu->regs[R_ESP] = sp;
}

void x86_h_push_sreg(X86Cpu *cpu, const X86Insn *in)
{
    int s;
    switch (in->op0f ? 0x100 | in->op : in->op) {
    case 0x06: s = S_ES; break;
    case 0x0e: s = S_CS; break;
    case 0x16: s = S_SS; break;
    case 0x1e: s = S_DS; break;
    case 0x1a0: s = S_FS; break;
    default: s = S_GS; break;
    }
    if (in->osz == 4) {
        /* P6 writes only the low word of the 32-bit slot. */
        uint32_t mask = x86_sp_mask(cpu);
        uint32_t sp = (cpu->regs[R_ESP] - 4) & mask;
        x86_seg_check(cpu, S_SS, sp, 4, true);
        x86_wr(cpu, S_SS, sp, cpu->seg[s].sel, 2);
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | sp;
    } else {
        x86_push(cpu, cpu->seg[s].sel, 2);
    }
}

void x86_h_pop_sreg(X86Cpu *cpu, const X86Insn *in)
{
    int s;
    switch (in->op0f ? 0x100 | in->op : in->op) {
    case 0x07: s = S_ES; break;
    case 0x17: s = S_SS; break;
    case 0x1f: s = S_DS; break;
    case 0x1a1: s = S_FS; break;
    default: s = S_GS; break;
    }
    uint32_t mask = x86_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & mask;
    uint16_t v = x86_rd(cpu, S_SS, sp, in->osz);
    x86_load_seg(cpu, s, v);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | ((sp + in->osz) & mask);
    if (s == S_SS) {
        cpu->inhibit = true;
    }
}

void x86_h_pusha(X86Cpu *cpu, const X86Insn *in)
{
    unsigned sz = in->osz;
    uint32_t mask = x86_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP];
    for (int r = 0; r < 8; r++) {
        uint32_t v = r == R_ESP ? sp : cpu->regs[r];
        uint32_t a = (sp - (r + 1) * sz) & mask;
        x86_wr(cpu, S_SS, a, v, sz);
    }
    cpu->regs[R_ESP] = (sp & ~mask) | ((sp - 8 * sz) & mask);
}

void x86_h_popa(X86Cpu *cpu, const X86Insn *in)
{
    unsigned sz = in->osz;
    uint32_t mask = x86_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP];
    uint32_t v[8];
    for (int r = 7; r >= 0; r--) {
        v[r] = x86_rd(cpu, S_SS, (sp + (7 - r) * sz) & mask, sz);
    }
    for (int r = 0; r < 8; r++) {
        if (r != R_ESP) {
            x86_setreg(cpu, r, v[r], sz);
        }
    }
    cpu->regs[R_ESP] = (sp & ~mask) | ((sp + 8 * sz) & mask);
}

void x86_h_enter(X86Cpu *cpu, const X86Insn *in)
{
    unsigned sz = in->osz;
    uint32_t mask = x86_sp_mask(cpu);
    unsigned level = in->imm2 & 31;
    uint32_t sp = cpu->regs[R_ESP];
    uint32_t bp = cpu->regs[R_EBP];
    sp -= sz;
    x86_wr(cpu, S_SS, sp & mask, bp, sz);
    uint32_t frame = sp;
    if (level > 0) {
        for (unsigned i = 1; i < level; i++) {
            bp -= sz;
            uint32_t v = x86_rd(cpu, S_SS, bp & mask, sz);
            sp -= sz;
            x86_wr(cpu, S_SS, sp & mask, v, sz);
        }
        sp -= sz;
        x86_wr(cpu, S_SS, sp & mask, frame, sz);
    }
    sp -= in->imm & 0xffff;
    /* Touch the new stack top so a fault comes before any update. */
    x86_seg_check(cpu, S_SS, sp & mask, 1, true);
    /* The stack size, not the operand size, picks BP or EBP (SDM vol. 2,
       ENTER: "IF StackSize = 32 THEN EBP <- FrameTemp"). */
    cpu->regs[R_EBP] = (cpu->regs[R_EBP] & ~mask) | (frame & mask);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
}

void x86_h_leave(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t mask = x86_sp_mask(cpu);
    uint32_t bp = cpu->regs[R_EBP] & mask;
    uint32_t v = x86_rd(cpu, S_SS, bp, in->osz);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | ((bp + in->osz) & mask);
    x86_setreg(cpu, R_EBP, v, in->osz);
}

void x86_h_bound(X86Cpu *cpu, const X86Insn *in)
{
    unsigned sz = in->osz;
    uint32_t ea = x86_ea(cpu, in);
    uint32_t lo = x86_rd(cpu, in->seg, ea, sz);
    uint32_t hi = x86_rd(cpu, in->seg, (ea + sz) & (in->asz32 ? ~0u : 0xffff),
                         sz);
    int32_t v = sz == 2 ? (int16_t)cpu->regs[in->reg]
                        : (int32_t)cpu->regs[in->reg];
    int32_t l = sz == 2 ? (int16_t)lo : (int32_t)lo;
    int32_t h = sz == 2 ? (int16_t)hi : (int32_t)hi;
    if (v < l || v > h) {
        x86_raise(cpu, EX_BR, 0);
    }
}

/* ---- flags register ---- */

/* CLI/STI at CPL > IOPL act on VIF: in V86 mode with CR4.VME, at CPL 3
   with CR4.PVI (SDM Vol. 3B 20.3, 20.4). */
static bool virtual_if(X86Cpu *cpu)
{
    if (cpu->eflags & F_VM) {
        return cpu->cr4 & CR4_VME;
    }
    return cpu->cpl == 3 && (cpu->cr4 & CR4_PVI);
}

void x86_h_pushf(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t f = x86_get_eflags(cpu);
    if ((f & F_VM) && ((f & F_IOPL) >> 12) < 3) {
        if (!(cpu->cr4 & CR4_VME) || in->osz != 2) {
            GP0(cpu);
        }
        /* VME: the 8086 program sees VIF as IF, and IOPL 3 */
        f = (f & ~F_IF) | F_IOPL | ((f & F_VIF) ? F_IF : 0);
    }
    x86_push(cpu, f & ~(F_VM | F_RF), in->osz);
}

void x86_h_popf(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t f = x86_get_eflags(cpu);
    if ((f & F_VM) && ((f & F_IOPL) >> 12) < 3) {
        if (!(cpu->cr4 & CR4_VME) || in->osz != 2) {
            GP0(cpu);
        }
        /* VME: IF goes to VIF; setting it with VIP pending, or TF, is
           the monitor's business. */
        uint32_t sp = cpu->regs[R_ESP] & 0xffff;
        uint32_t v = x86_rd(cpu, S_SS, sp, 2);
        if (((v & F_IF) && (f & F_VIP)) || (v & F_TF)) {
            GP0(cpu);
        }
        x86_pop(cpu, 2);
        x86_set_eflags(cpu, v, F_ARITH | F_DF | F_NT);
        cpu->eflags = (cpu->eflags & ~F_VIF) | ((v & F_IF) ? F_VIF : 0);
        return;
    }
    uint32_t v = x86_pop(cpu, in->osz);
    uint32_t mask = F_ARITH | F_TF | F_DF | F_NT;
    if (in->osz == 4) {
        mask |= F_AC | F_ID;
    }
    unsigned iopl = (f & F_IOPL) >> 12;
    if (!cpu->pe || cpu->cpl == 0) {
        mask |= F_IOPL | F_IF;
    } else if (cpu->cpl <= iopl) {
        mask |= F_IF;
    }
    x86_set_eflags(cpu, v, mask);
}

void x86_h_cli(X86Cpu *cpu, const X86Insn *in)
{
    if (cpu->pe && cpu->cpl > ((cpu->eflags & F_IOPL) >> 12)) {
        if (!virtual_if(cpu)) {
            GP0(cpu);
        }
        cpu->eflags &= ~F_VIF;
        return;
    }
    cpu->eflags &= ~F_IF;
}

void x86_h_sti(X86Cpu *cpu, const X86Insn *in)
{
    if (cpu->pe && cpu->cpl > ((cpu->eflags & F_IOPL) >> 12)) {
        if (!virtual_if(cpu) || (cpu->eflags & F_VIP)) {
            GP0(cpu);
        }
        cpu->eflags |= F_VIF;
        return;
    }
    if (!(cpu->eflags & F_IF)) {
        cpu->inhibit = true;
    }
    cpu->eflags |= F_IF;
}

void x86_h_hlt(X86Cpu *cpu, const X86Insn *in)
{
    if (cpu->pe && cpu->cpl != 0) {
        GP0(cpu);
    }
    cpu->halted = true;
    cpu->block_end = true;
}

/* ---- software interrupts ---- */

/* VME: the interrupt redirection bitmap (32 bytes below the I/O bitmap
   of the 32-bit TSS) has a clear bit for vec: the 8086 program's own
   handler (IVT at linear 0) takes it. */
static bool v86_redirected(X86Cpu *cpu, unsigned vec)
{
    if ((cpu->tr.flags & 0xd) != 0x9 || cpu->tr.limit < 0x67) {
        GP0(cpu);
    }
    uint32_t base = x86_sys_read(cpu, cpu->tr.base + 0x66, 2);
    uint32_t off = base - 32 + vec / 8;
    if (base < 32 || off > cpu->tr.limit) {
        GP0(cpu);
    }
    return !((x86_sys_read(cpu, cpu->tr.base + off, 1) >> (vec & 7)) & 1);
}

/* Methods 5 and 6 of SDM Vol. 3B Table 20-2: a real-mode style INT in
   V86 mode; with IOPL < 3 the pushed FLAGS carry VIF as IF and IOPL 3,
   and VIF rather than IF is cleared. */
static void v86_int_redirect(X86Cpu *cpu, unsigned vec)
{
    uint32_t f = x86_get_eflags(cpu);
    bool virt = ((f & F_IOPL) >> 12) < 3;
    uint32_t ent = x86_read_lin(cpu, vec * 4, 4);
    uint32_t pushed = f & 0xffff;
    if (virt) {
        pushed = (pushed & ~F_IF) | F_IOPL | ((f & F_VIF) ? F_IF : 0);
    }
    uint32_t sp = cpu->regs[R_ESP];
    uint32_t a = (sp - 2) & 0xffff, b = (sp - 4) & 0xffff,
             c = (sp - 6) & 0xffff;
    x86_wr(cpu, S_SS, a, pushed, 2);
    x86_wr(cpu, S_SS, b, cpu->seg[S_CS].sel, 2);
    x86_wr(cpu, S_SS, c, cpu->rip, 2);
    cpu->regs[R_ESP] = (sp & ~0xffffu) | c;
    cpu->eflags &= ~(F_TF | F_RF | (virt ? F_VIF : F_IF));
    cpu->soft_int = true;
    x86_seg_set_real(cpu, S_CS, ent >> 16);
    cpu->rip = ent & 0xffff;
}

void x86_h_int_imm(X86Cpu *cpu, const X86Insn *in)
{
    unsigned vec = in->imm & 0xff;
    if (vec == 0x80 && cpu->user_host && !cpu->lma &&
        !(cpu->eflags & (F_VM | F_TF))) {
        /* Linux user mode's system call (user.c): run() returns after
           this instruction, as it would from the gate's ring-0 stub. */
        cpu->user_int80 = true;
        cpu->block_end = true;
        atomic_store(&cpu->exit_req, 1);
        return;
    }
    if (cpu->eflags & F_VM) {
        bool iopl3 = ((cpu->eflags & F_IOPL) >> 12) == 3;
        if ((cpu->cr4 & CR4_VME) && v86_redirected(cpu, vec)) {
            v86_int_redirect(cpu, vec);
            return;
        }
        if (!iopl3) {
            GP0(cpu);
        }
    }
    x86_interrupt(cpu, vec, 1, false, 0, cpu->rip);
}

void x86_h_int3(X86Cpu *cpu, const X86Insn *in)
{
    x86_interrupt(cpu, EX_BP, 1, false, 0, cpu->rip);
}

void x86_h_int1(X86Cpu *cpu, const X86Insn *in)
{
    x86_interrupt(cpu, EX_DB, 3, false, 0, cpu->rip);
}

void x86_h_into(X86Cpu *cpu, const X86Insn *in)
{
    if (x86_of(cpu)) {
        x86_interrupt(cpu, EX_OF, 1, false, 0, cpu->rip);
    }
}

void x86_h_iret(X86Cpu *cpu, const X86Insn *in)
{
    x86_iret(cpu, in->osz);
}

/* ---- far transfers ---- */

void x86_h_call_far(X86Cpu *cpu, const X86Insn *in)
{
    x86_far_jump(cpu, in->imm2, in->imm, in->osz, true, cpu->rip);
}

void x86_h_jmp_far(X86Cpu *cpu, const X86Insn *in)
{
    x86_far_jump(cpu, in->imm2, in->imm, in->osz, false, cpu->rip);
}

void x86_h_ret_far(X86Cpu *cpu, const X86Insn *in)
{
    x86_far_ret(cpu, in->osz, in->op == 0xca ? in->imm : 0);
}

void x86_h_incdec_call_jmp_push_rm(X86Cpu *cpu, const X86Insn *in)
{
    unsigned sz = in->osz;
    switch (in->reg) {
    case 0:
    case 1:
        x86_grp5_incdec(cpu, in);
        return;
    case 2: { /* CALL near Ev */
        uint32_t t = x86_rm_read(cpu, in, sz);
        if (sz == 2) {
            t &= 0xffff;
        }
        if (t > cpu->seg[S_CS].limit) {
            GP0(cpu);
        }
        x86_push(cpu, cpu->rip, sz);
        cpu->rip = t;
        return;
    }
    case 4: /* JMP near Ev */
        x86_jump(cpu, x86_rm_read(cpu, in, sz), sz);
        return;
    case 3:
    case 5: { /* CALL/JMP far Mp */
        uint32_t ea = x86_ea(cpu, in);
        uint32_t off = x86_rd(cpu, in->seg, ea, sz);
        uint16_t sel = x86_rd(cpu, in->seg,
                              (ea + sz) & (in->asz32 ? ~0u : 0xffffu), 2);
        x86_far_jump(cpu, sel, off, sz, in->reg == 3, cpu->rip);
        return;
    }
    default: /* PUSH Ev */
        x86_push(cpu, x86_rm_read(cpu, in, sz), sz);
        return;
    }
}

/* LES/LDS/LSS/LFS/LGS */
void x86_h_les(X86Cpu *cpu, const X86Insn *in)
{
    int s;
    if (!in->op0f) {
        s = in->op == 0xc4 ? S_ES : S_DS;
    } else {
        s = in->op == 0xb2 ? S_SS : in->op == 0xb4 ? S_FS : S_GS;
    }
    uint32_t ea = x86_ea(cpu, in);
    uint32_t off = x86_rd(cpu, in->seg, ea, in->osz);
    uint16_t sel = x86_rd(cpu, in->seg,
                          (ea + in->osz) & (in->asz32 ? ~0u : 0xffffu), 2);
    x86_load_seg(cpu, s, sel);
    x86_setreg(cpu, in->reg, off, in->osz);
}

void x86_h_mov_rm_sreg(X86Cpu *cpu, const X86Insn *in)
{
    uint16_t v = cpu->seg[in->reg].sel;
    if (in->mod == 3) {
        /* 32-bit register destination gets the zero-extended selector. */
        x86_setreg(cpu, in->rm, v, in->osz);
    } else {
        x86_wr(cpu, in->seg, x86_ea(cpu, in), v, 2);
    }
}

void x86_h_mov_sreg_rm(X86Cpu *cpu, const X86Insn *in)
{
    uint16_t v = x86_rm_read(cpu, in, 2);
    x86_load_seg(cpu, in->reg, v);
    if (in->reg == S_SS) {
        cpu->inhibit = true;
    }
}
