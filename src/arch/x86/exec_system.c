/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * System instructions: descriptor-table registers, LAR/LSL/VERR/VERW/ARPL,
 * control and debug registers, MSRs, TSC, CPUID, SYSENTER/SYSEXIT, port
 * I/O, and the glue to the x87/MMX unit (x87.h) with the #NM checks.
 *
 * Specification: SDM Vol. 2 (instruction reference), Vol. 3A 2.5 (control
 * registers), 9.11 (MTRRs), 11.12 (PAT), Vol. 4 (MSRs), and the
 * "Intel Processor Identification and the CPUID Instruction" note (AP-485)
 * for the Pentium II signature.
 */
#include "arch/x86/ops.h"

void x86_io_check(X86Cpu *cpu, uint16_t port, unsigned size);

void x86_op_unimpl64(X86Cpu *cpu, const X86Insn *in)
{
    mimic_log_unimp("x86: #UD at %016llx: %sopcode %s%02x /%u not "
                    "implemented in 64-bit mode\n",
                    (unsigned long long)in->ip,
                    in->rep == 0xf3 ? "F3 " : in->rep == 0xf2 ? "F2 " : "",
                    in->op0f ? "0F " : "", in->op, (in->modrm >> 3) & 7);
    x86_raise(cpu, EX_UD, 0);
}

void x86_op_ud(X86Cpu *cpu, const X86Insn *in)
{
    uint8_t bytes[15];
    unsigned n = in->len ? in->len : 1;
    for (unsigned i = 0; i < n && i < 15; i++) {
        uint32_t lin = cpu->seg[S_CS].base + in->ip + i;
        uint64_t pa;
        bytes[i] = x86_translate_probe(cpu, lin, &pa)
                       ? memmap_read_sized(cpu->bus.mem, pa, 1) : 0xff;
    }
    mimic_log_unimp("x86: #UD at %04x:%08x: %02x %02x %02x %02x %02x\n",
                    cpu->seg[S_CS].sel, (uint32_t)in->ip, bytes[0],
                    n > 1 ? bytes[1] : 0, n > 2 ? bytes[2] : 0,
                    n > 3 ? bytes[3] : 0, n > 4 ? bytes[4] : 0);
    x86_raise(cpu, EX_UD, 0);
}

G_NORETURN void x86_ud(X86Cpu *cpu)
{
    x86_raise(cpu, EX_UD, 0);
}

void x86_h_ud(X86Cpu *cpu, const X86Insn *in)
{
    x86_raise(cpu, EX_UD, 0);
}

void x86_h_rsm(X86Cpu *cpu, const X86Insn *in)
{
    x86_raise(cpu, EX_UD, 0);
}


static void need_pm(X86Cpu *cpu)
{
    if (!cpu->pe || (cpu->eflags & F_VM)) {
        x86_raise(cpu, EX_UD, 0);
    }
}

static void need_cpl0(X86Cpu *cpu)
{
    if (cpu->pe && cpu->cpl != 0) {
        GP0(cpu);
    }
}

/* ---- descriptor table registers ---- */

/* Long mode: LDT and TSS descriptors are 16 bytes (SDM Vol. 3A 7.2.3);
   the second half holds base bits 63:32 and a type field that must be
   0.  Returns those base bits, #GP(sel) when the half is outside the GDT
   or its type is not 0. */
static uint64_t sys_desc_upper(X86Cpu *cpu, uint16_t sel)
{
    uint32_t idx = sel & ~7u;
    if (idx + 15 > cpu->gdt.limit) {
        x86_raise(cpu, EX_GP, idx);
    }
    uint64_t a = cpu->gdt.base + idx + 8;
    uint32_t b = x86_sys_read(cpu, a, 4), t = x86_sys_read(cpu, a + 4, 4);
    if (t & 0x1f00) {
        x86_raise(cpu, EX_GP, idx);
    }
    return (uint64_t)b << 32;
}

void x86_h_sys_ldt_tr(X86Cpu *cpu, const X86Insn *in)
{
    need_pm(cpu);
    switch (in->reg) {
    case 0: /* SLDT */
        x86_rm_write(cpu, in, cpu->ldt.sel, in->mod == 3 ? in->osz : 2);
        return;
    case 1: /* STR */
        x86_rm_write(cpu, in, cpu->tr.sel, in->mod == 3 ? in->osz : 2);
        return;
    case 2: { /* LLDT */
        need_cpl0(cpu);
        uint16_t sel = x86_rm_read(cpu, in, 2);
        if ((sel & ~3u) == 0) {
            cpu->ldt.sel = sel;
            cpu->ldt.flags = 0;
            cpu->ldt.base = 0;
            cpu->ldt.limit = 0;
            return;
        }
        uint32_t lo, hi;
        if ((sel & 4) || !x86_read_desc(cpu, sel, &lo, &hi) ||
            ((hi >> 8) & 0x1f) != 2) {
            x86_raise(cpu, EX_GP, sel & ~3u);
        }
        if (!(hi & 0x8000)) {
            x86_raise(cpu, EX_NP, sel & ~3u);
        }
        uint64_t upper = cpu->lma ? sys_desc_upper(cpu, sel) : 0;
        x86_desc_to_cache(&cpu->ldt, sel, lo, hi);
        cpu->ldt.base |= upper;
        return;
    }
    case 3: { /* LTR */
        need_cpl0(cpu);
        uint16_t sel = x86_rm_read(cpu, in, 2);
        uint32_t lo, hi;
        if ((sel & ~3u) == 0) {
            GP0(cpu);
        }
        if ((sel & 4) || !x86_read_desc(cpu, sel, &lo, &hi)) {
            x86_raise(cpu, EX_GP, sel & ~3u);
        }
        unsigned type = (hi >> 8) & 0x1f;
        /* Long mode has only the 64-bit TSS (type 9). */
        if (type != 9 && (type != 1 || cpu->lma)) {
            x86_raise(cpu, EX_GP, sel & ~3u);
        }
        if (!(hi & 0x8000)) {
            x86_raise(cpu, EX_NP, sel & ~3u);
        }
        uint64_t upper = cpu->lma ? sys_desc_upper(cpu, sel) : 0;
        x86_sys_write(cpu, cpu->gdt.base + (sel & ~7u) + 5,
                      ((hi >> 8) & 0xff) | 2, 1);
        x86_desc_to_cache(&cpu->tr, sel, lo, hi | 0x200);
        cpu->tr.base |= upper;
        return;
    }
    default: { /* VERR / VERW */
        uint16_t sel = x86_rm_read(cpu, in, 2);
        uint32_t lo, hi;
        bool ok = false;
        if ((sel & ~3u) && x86_read_desc(cpu, sel, &lo, &hi) &&
            (hi & 0x1000)) {
            unsigned dpl = (hi >> 13) & 3;
            unsigned type = (hi >> 8) & 0xf;
            bool conf = (type & 0xc) == 0xc;
            bool priv = conf || (dpl >= cpu->cpl && dpl >= (sel & 3));
            if (in->reg == 4) {
                ok = priv && (!(type & 8) || (type & 2));
            } else {
                ok = priv && !(type & 8) && (type & 2);
            }
        }
        x86_flags_flush(cpu);
        cpu->eflags = ok ? cpu->eflags | F_ZF : cpu->eflags & ~F_ZF;
        return;
    }
    }
}

void x86_h_sys_desc_tables(X86Cpu *cpu, const X86Insn *in)
{
    switch (in->reg) {
    case 0:
    case 1: { /* SGDT / SIDT */
        DescTable *t = in->reg ? &cpu->idt : &cpu->gdt;
        uint32_t ea = x86_ea(cpu, in);
        uint32_t base = t->base;
        if (in->osz == 2) {
            base &= 0x00ffffff; /* P6 stores zero in the high byte */
        }
        /* #AC: the 6-byte operand needs 4-byte alignment as a whole
           (SDM Vol. 3A table 6-7), so the base goes as two words. */
        uint32_t m = in->asz32 ? ~0u : 0xffffu;
        x86_ac_check(cpu, cpu->seg[in->seg].base + (ea & m), 4);
        x86_wr(cpu, in->seg, ea, t->limit, 2);
        x86_wr(cpu, in->seg, (ea + 2) & m, base & 0xffff, 2);
        x86_wr(cpu, in->seg, (ea + 4) & m, base >> 16, 2);
        return;
    }
    case 2:
    case 3: { /* LGDT / LIDT */
        need_cpl0(cpu);
        if (cpu->eflags & F_VM) {
            GP0(cpu);
        }
        uint32_t ea = x86_ea(cpu, in);
        uint32_t limit = x86_rd(cpu, in->seg, ea, 2);
        uint32_t base = x86_rd(cpu, in->seg,
                               (ea + 2) & (in->asz32 ? ~0u : 0xffffu), 4);
        if (in->osz == 2) {
            base &= 0x00ffffff;
        }
        DescTable *t = in->reg == 3 ? &cpu->idt : &cpu->gdt;
        t->base = base;
        t->limit = limit;
        return;
    }
    case 4: /* SMSW */
        if (in->mod == 3) {
            x86_setreg(cpu, in->rm, cpu->cr0, in->osz);
        } else {
            x86_wr(cpu, in->seg, x86_ea(cpu, in), cpu->cr0, 2);
        }
        return;
    case 6: { /* LMSW: cannot clear PE */
        need_cpl0(cpu);
        if (cpu->eflags & F_VM) {
            GP0(cpu);
        }
        uint32_t v = x86_rm_read(cpu, in, 2) & 0xf;
        uint32_t cr0 = (cpu->cr0 & ~0xeu) | v | (cpu->cr0 & CR0_PE);
        x86_set_cr0(cpu, cr0);
        return;
    }
    case 7: /* INVLPG; RDTSCP (0F 01 F9, the only register form) */
        if (in->mod == 3) {
            x86_rdtscp(cpu);
            return;
        }
        need_cpl0(cpu);
        x86_tlb_flush_page(cpu, cpu->seg[in->seg].base + x86_ea(cpu, in));
        return;
    }
    x86_raise(cpu, EX_UD, 0);
}

static bool lar_lsl_desc(X86Cpu *cpu, uint16_t sel, bool lsl, uint32_t *lo,
                         uint32_t *hi)
{
    if ((sel & ~3u) == 0 || !x86_read_desc(cpu, sel, lo, hi)) {
        return false;
    }
    unsigned type = (*hi >> 8) & 0x1f;
    unsigned dpl = (*hi >> 13) & 3;
    if (type & 0x10) {
        if ((type & 0x1c) != 0x1c && (dpl < cpu->cpl || dpl < (sel & 3))) {
            return false;
        }
        return true;
    }
    static const uint8_t lar_ok[16] = { 0, 1, 1, 1, 1, 1, 0, 0,
                                        0, 1, 0, 1, 1, 0, 0, 0 };
    static const uint8_t lsl_ok[16] = { 0, 1, 1, 1, 0, 0, 0, 0,
                                        0, 1, 0, 1, 0, 0, 0, 0 };
    if (!(lsl ? lsl_ok : lar_ok)[type & 0xf]) {
        return false;
    }
    return dpl >= cpu->cpl && dpl >= (sel & 3);
}

void x86_h_lar(X86Cpu *cpu, const X86Insn *in)
{
    need_pm(cpu);
    uint16_t sel = x86_rm_read(cpu, in, 2);
    uint32_t lo, hi;
    x86_flags_flush(cpu);
    if (!lar_lsl_desc(cpu, sel, false, &lo, &hi)) {
        cpu->eflags &= ~F_ZF;
        return;
    }
    cpu->eflags |= F_ZF;
    x86_setreg(cpu, in->reg, hi & 0x00f0ff00u, in->osz);
}

void x86_h_lsl(X86Cpu *cpu, const X86Insn *in)
{
    need_pm(cpu);
    uint16_t sel = x86_rm_read(cpu, in, 2);
    uint32_t lo, hi;
    x86_flags_flush(cpu);
    if (!lar_lsl_desc(cpu, sel, true, &lo, &hi)) {
        cpu->eflags &= ~F_ZF;
        return;
    }
    SegCache sc;
    x86_desc_to_cache(&sc, sel, lo, hi);
    cpu->eflags |= F_ZF;
    x86_setreg(cpu, in->reg, sc.limit, in->osz);
}

void x86_h_arpl(X86Cpu *cpu, const X86Insn *in)
{
    need_pm(cpu);
    uint32_t lin = 0;
    uint16_t d;
    if (in->mod == 3) {
        d = x86_getreg(cpu, in->rm, 2);
    } else {
        lin = x86_seg_check(cpu, in->seg, x86_ea(cpu, in), 2, true);
        d = x86_read_lin(cpu, lin, 2);
    }
    uint16_t s = x86_getreg(cpu, in->reg, 2);
    x86_flags_flush(cpu);
    if ((d & 3) < (s & 3)) {
        d = (d & ~3) | (s & 3);
        cpu->eflags |= F_ZF;
        if (in->mod == 3) {
            x86_setreg(cpu, in->rm, d, 2);
        } else {
            x86_write_lin(cpu, lin, d, 2);
        }
    } else {
        cpu->eflags &= ~F_ZF;
    }
}

void x86_h_clts(X86Cpu *cpu, const X86Insn *in)
{
    need_cpl0(cpu);
    cpu->cr0 &= ~CR0_TS;
}

void x86_h_invd(X86Cpu *cpu, const X86Insn *in)
{
    need_cpl0(cpu);
}

/* ---- control registers ---- */

void x86_set_cr0(X86Cpu *cpu, uint64_t v)
{
    v |= CR0_ET;
    if ((v & CR0_PG) && !(v & CR0_PE)) {
        GP0(cpu);
    }
    if ((v & CR0_NW) && !(v & CR0_CD)) {
        GP0(cpu);
    }
    if (v >> 32) {
        GP0(cpu); /* bits 63:32 are reserved (64-bit mode only) */
    }
    /* Long mode (SDM Vol. 3A 10.8.5): setting PG with EFER.LME activates
       it (LMA), which needs CR4.PAE; clearing PG leaves it, which 64-bit
       code cannot do. */
    bool pg_on = (v & CR0_PG) && !(cpu->cr0 & CR0_PG);
    bool pg_off = !(v & CR0_PG) && (cpu->cr0 & CR0_PG);
    bool to_lma = cpu->lma;
    if (pg_on && (cpu->efer & EFER_LME)) {
        if (!(cpu->cr4 & CR4_PAE) || (cpu->seg[S_CS].flags & SEGF_L)) {
            GP0(cpu);
        }
        to_lma = true;
    } else if (pg_off && cpu->lma) {
        if (cpu->code64) {
            GP0(cpu);
        }
        to_lma = false;
    }
    /* PAE paging after the write, CD/NW/PG changed: the PDPTEs load
       (not in long mode, which has no PDPTE registers). */
    if ((v & CR0_PG) && (cpu->cr4 & CR4_PAE) && !to_lma &&
        ((v ^ cpu->cr0) & (CR0_PG | CR0_CD | CR0_NW)) &&
        !x86_pdptes_ok(cpu, cpu->cr3)) {
        GP0(cpu);
    }
    uint32_t old = cpu->cr0;
    cpu->cr0 = v & 0xe005003fu;
    if (to_lma != cpu->lma) {
        cpu->lma = to_lma;
        cpu->efer = to_lma ? cpu->efer | EFER_LMA : cpu->efer & ~EFER_LMA;
    }
    if ((old ^ cpu->cr0) & (CR0_PE | CR0_PG | CR0_WP | CR0_AM)) {
        x86_mmu_mode_changed(cpu);
        x86_update_mode(cpu);
        if (!(cpu->cr0 & CR0_PE)) {
            /* Back to real mode: CS keeps its cache, CPL is 0. */
            cpu->cpl = 0;
            cpu->tlb_user = 0;
        }
        for (int s = 0; s < 6; s++) {
            SegCache *sc = &cpu->seg[s];
            if (!(cpu->cr0 & CR0_PE)) {
                sc->lo = 0;
                sc->hi = sc->limit;
                sc->wok = sc->rok = true;
            }
        }
    }
    cpu->block_end = true;
}

void x86_h_mov_r_cr(X86Cpu *cpu, const X86Insn *in)
{
    need_cpl0(cpu);
    if (cpu->eflags & F_VM) {
        GP0(cpu);
    }
    uint64_t v;
    switch (in->reg) {
    case 0: v = cpu->cr0; break;
    case 2: v = cpu->cr2; break;
    case 3: v = cpu->cr3; break;
    case 4: v = cpu->cr4; break;
    default: x86_raise(cpu, EX_UD, 0);
    }
    /* 64-bit operands in 64-bit mode, else 32 (SDM MOV CRn). */
    cpu->regs[in->rm] = cpu->code64 ? v : (uint32_t)v;
}

/* The CR4 bits of the features CPUID claims (MCE is not claimed: no
   machine-check architecture; OSXMMEXCPT with SSE and OSXSAVE with XSAVE
   are added by the model); the others are reserved (#GP). */
#define CR4_SUPPORTED (CR4_VME | CR4_PVI | CR4_DE | CR4_PSE | CR4_PAE | \
                       CR4_PGE | CR4_PCE | CR4_TSD | CR4_OSFXSR)

void x86_h_mov_cr_r(X86Cpu *cpu, const X86Insn *in)
{
    need_cpl0(cpu);
    if (cpu->eflags & F_VM) {
        GP0(cpu);
    }
    uint64_t v = cpu->code64 ? cpu->regs[in->rm]
                             : (uint32_t)cpu->regs[in->rm];
    switch (in->reg) {
    case 0:
        x86_set_cr0(cpu, v);
        return;
    case 2:
        cpu->cr2 = v;
        return;
    case 3:
        if (cpu->lma) {
            if (v & ~cpu->phys_mask) {
                GP0(cpu); /* bits above MAXPHYADDR (SDM 4.5) */
            }
        } else if (cpu->paging && (cpu->cr4 & CR4_PAE) &&
                   !x86_pdptes_ok(cpu, v)) {
            GP0(cpu); /* reserved bits in a present PDPTE (SDM 4.4.1) */
        }
        cpu->cr3 = v;
        x86_tlb_flush(cpu, false);
        return;
    case 4:
        if (v & ~(uint64_t)(CR4_SUPPORTED |
                (x86_sse_features(cpu) & X86F_SSE ? CR4_OSXMMEXCPT : 0) |
                (x86_sse_features(cpu) & X86F_XSAVE ? CR4_OSXSAVE : 0) |
                (cpu->model->features & X86F_FSGSBASE ? CR4_FSGSBASE : 0))) {
            GP0(cpu);
        }
        if (cpu->lma && !(v & CR4_PAE)) {
            GP0(cpu); /* long mode needs PAE (SDM 10.8.5) */
        }
        if (cpu->paging && !cpu->lma && (v & CR4_PAE) &&
            ((v ^ cpu->cr4) & (CR4_PAE | CR4_PGE | CR4_PSE)) &&
            !x86_pdptes_ok(cpu, cpu->cr3)) {
            GP0(cpu);
        }
        cpu->cr4 = v;
        x86_tlb_flush(cpu, true);
        x86_dbg_update(cpu); /* CR4.DE qualifies I/O breakpoints */
        return;
    default:
        x86_raise(cpu, EX_UD, 0);
    }
}

/* DR7.GD: any debug register access is a #DB fault with DR6.BD; the
   handler runs with GD clear (SDM Vol. 3B 17.2.4). */
static void dr_general_detect(X86Cpu *cpu)
{
    if (cpu->dr[7] & DR7_GD) {
        cpu->dr[7] &= ~DR7_GD;
        cpu->dr[6] |= DR6_BD;
        x86_dbg_update(cpu);
        x86_raise(cpu, EX_DB, 0);
    }
}

void x86_h_mov_r_dr(X86Cpu *cpu, const X86Insn *in)
{
    need_cpl0(cpu);
    unsigned r = in->reg;
    if ((r == 4 || r == 5) && (cpu->cr4 & CR4_DE)) {
        x86_raise(cpu, EX_UD, 0);
    }
    if (r == 4 || r == 5) {
        r += 2;
    }
    dr_general_detect(cpu);
    cpu->regs[in->rm] = cpu->dr[r];
}

void x86_h_mov_dr_r(X86Cpu *cpu, const X86Insn *in)
{
    need_cpl0(cpu);
    unsigned r = in->reg;
    if ((r == 4 || r == 5) && (cpu->cr4 & CR4_DE)) {
        x86_raise(cpu, EX_UD, 0);
    }
    if (r == 4 || r == 5) {
        r += 2;
    }
    dr_general_detect(cpu);
    uint32_t v = cpu->regs[in->rm];
    if (r == 6) {
        v = (v & 0xf00f) | 0xffff0ff0u;
    } else if (r == 7) {
        v = (v & ~0xd800u) | 0x400;
    }
    cpu->dr[r] = v;
    if (r != 6) {
        x86_dbg_update(cpu);
    }
}

/* ---- TSC, MSRs ---- */

uint64_t x86_rdtsc(X86Cpu *cpu)
{
    /* The TSC counts at 1 GHz of virtual time. */
    return (uint64_t)clock_now(cpu->bus.clock) + cpu->tsc_offset;
}

void x86_h_rdtsc(X86Cpu *cpu, const X86Insn *in)
{
    if ((cpu->cr4 & CR4_TSD) && cpu->pe && cpu->cpl != 0) {
        GP0(cpu);
    }
    uint64_t t = x86_rdtsc(cpu);
    cpu->regs[R_EAX] = (uint32_t)t;
    cpu->regs[R_EDX] = t >> 32;
}

/* RDTSCP (0F 01 F9): the TSC as RDTSC, and IA32_TSC_AUX in ECX (upper
   halves cleared in 64-bit mode); #UD on a model without it. */
void x86_rdtscp(X86Cpu *cpu)
{
    if (!(cpu->model->features & X86F_RDTSCP)) {
        x86_raise(cpu, EX_UD, 0);
    }
    if ((cpu->cr4 & CR4_TSD) && cpu->pe && cpu->cpl != 0) {
        GP0(cpu);
    }
    uint64_t t = x86_rdtsc(cpu);
    cpu->regs[R_EAX] = (uint32_t)t;
    cpu->regs[R_EDX] = t >> 32;
    cpu->regs[R_ECX] = (uint32_t)cpu->tsc_aux;
}

void x86_h_rdpmc(X86Cpu *cpu, const X86Insn *in)
{
    if (!(cpu->cr4 & CR4_PCE) && cpu->pe && cpu->cpl != 0) {
        GP0(cpu);
    }
    if (cpu->regs[R_ECX] > 1) {
        GP0(cpu);
    }
    cpu->regs[R_EAX] = 0;
    cpu->regs[R_EDX] = 0;
}

static bool msr_access(X86Cpu *cpu, uint32_t idx, uint64_t *val, bool wr)
{
    uint64_t *p = NULL;
    switch (idx) {
    case 0x10: /* TSC */
        if (wr) {
            cpu->tsc_offset = *val - (uint64_t)clock_now(cpu->bus.clock);
        } else {
            *val = x86_rdtsc(cpu);
        }
        return true;
    case 0x1b: /* APIC_BASE */
        if (cpu->bus.sysreg) {
            return cpu->bus.sysreg(cpu->bus.sysreg_opaque, idx, val, wr);
        }
        if (wr) {
            cpu->apic_base = (*val & 0xfffff0900ull);
        } else {
            *val = cpu->apic_base;
        }
        return true;
    case 0x6e0: /* TSC_DEADLINE: the APIC keeps it in clock ns */
        if (!cpu->bus.sysreg) {
            return false;
        }
        if (wr) {
            int64_t ns = (int64_t)(*val - cpu->tsc_offset);
            uint64_t d = *val == 0 ? 0 : ns < 1 ? 1 : (uint64_t)ns;
            return cpu->bus.sysreg(cpu->bus.sysreg_opaque, idx, &d, true);
        } else {
            uint64_t d = 0;
            if (!cpu->bus.sysreg(cpu->bus.sysreg_opaque, idx, &d, false)) {
                return false;
            }
            *val = d ? d + cpu->tsc_offset : 0;
        }
        return true;
    case 0x1d9: /* DEBUGCTL */
    case 0x1db: case 0x1dc: case 0x1dd: case 0x1de: /* LBR */
    case 0x17: /* PLATFORM_ID */
    case 0x8b: /* BIOS_SIGN_ID */
    case 0x2a: /* EBL_CR_POWERON */
    case 0x79: /* BIOS_UPDT_TRIG */
    case 0x11e: /* BBL_CR_CTL3 */
    case 0x186: case 0x187: /* PERFEVTSEL */
    case 0xc1: case 0xc2: /* PERFCTR */
    case 0x179: case 0x17a: case 0x17b: /* MCG */
        if (!wr) {
            *val = 0;
        }
        return true;
    case MSR_EFER:
        if (!(cpu->model->features & (X86F_LM | X86F_SYSCALL | X86F_NX))) {
            return false;
        }
        if (!wr) {
            *val = cpu->efer;
            return true;
        }
        {
            uint64_t ok = EFER_LMA; /* read-only: a write leaves it */
            if (cpu->model->features & X86F_SYSCALL) {
                ok |= EFER_SCE;
            }
            if (cpu->model->features & X86F_LM) {
                ok |= EFER_LME;
            }
            if (cpu->model->features & X86F_NX) {
                ok |= EFER_NXE;
            }
            if (*val & ~ok) {
                return false;
            }
            /* LME cannot change while paging is on (SDM 10.8.5). */
            if (((*val ^ cpu->efer) & EFER_LME) && (cpu->cr0 & CR0_PG)) {
                return false;
            }
            uint64_t old = cpu->efer;
            cpu->efer = (*val & ~(uint64_t)EFER_LMA) | (old & EFER_LMA);
            if ((old ^ cpu->efer) & EFER_NXE) {
                x86_tlb_flush(cpu, true);
            }
        }
        return true;
    case 0xc0000081: /* STAR */
    case 0xc0000082: /* LSTAR */
    case 0xc0000083: /* CSTAR */
    case 0xc0000084: /* SFMASK */
    case 0xc0000100: /* FS_BASE */
    case 0xc0000101: /* GS_BASE */
    case 0xc0000102: /* KERNEL_GS_BASE */
        if (!(cpu->model->features & X86F_LM)) {
            return false;
        }
        switch (idx) {
        case 0xc0000081: p = &cpu->star; break;
        case 0xc0000082: p = &cpu->lstar; break;
        case 0xc0000083: p = &cpu->cstar; break;
        case 0xc0000084: p = &cpu->sfmask; break;
        case 0xc0000100: p = &cpu->seg[S_FS].base; break;
        case 0xc0000101: p = &cpu->seg[S_GS].base; break;
        default: p = &cpu->kernel_gs_base; break;
        }
        /* Addresses must be canonical (SDM Vol. 4, WRMSR #GP). */
        if (wr && idx != 0xc0000081 && idx != 0xc0000084 &&
            !x86_canonical(*val)) {
            return false;
        }
        if (wr && idx == 0xc0000084) {
            *val &= 0xffffffffu; /* SFMASK: bits 63:32 reserved, ignored */
        }
        break;
    case 0xc0000103: /* TSC_AUX */
        if (!(cpu->model->features & X86F_RDTSCP)) {
            return false;
        }
        if (wr && (*val >> 32)) {
            return false;
        }
        p = &cpu->tsc_aux;
        break;
    case 0x174: p = &cpu->sysenter_cs; break;
    case 0x175: p = &cpu->sysenter_esp; break;
    case 0x176: p = &cpu->sysenter_eip; break;
    case 0x1a0: p = &cpu->misc_enable; break;
    case 0x277: p = &cpu->pat; break;
    case 0xfe: /* MTRRcap: 8 variable, fixed, WC */
        if (wr) {
            return false;
        }
        *val = 0x508;
        return true;
    case 0x2ff: p = &cpu->mtrr_cap_def; break;
    case 0x250: p = &cpu->mtrr_fixed[0]; break;
    case 0x258: p = &cpu->mtrr_fixed[1]; break;
    case 0x259: p = &cpu->mtrr_fixed[2]; break;
    default:
        if (idx >= 0x268 && idx <= 0x26f) {
            p = &cpu->mtrr_fixed[3 + idx - 0x268];
        } else if (idx >= 0x200 && idx <= 0x20f) {
            p = &cpu->mtrr_var[idx - 0x200];
        } else if (idx >= 0x400 && idx < 0x400 + 5 * 4) {
            if (!wr) {
                *val = 0;
            }
            return true;
        } else {
            return false;
        }
    }
    if (wr) {
        *p = *val;
    } else {
        *val = *p;
    }
    return true;
}

void x86_h_rdmsr(X86Cpu *cpu, const X86Insn *in)
{
    need_cpl0(cpu);
    uint64_t v = 0;
    if (!msr_access(cpu, cpu->regs[R_ECX], &v, false)) {
        mimic_log_guest("x86: rdmsr %08x unknown\n",
                        (uint32_t)cpu->regs[R_ECX]);
        GP0(cpu);
    }
    cpu->regs[R_EAX] = (uint32_t)v;
    cpu->regs[R_EDX] = v >> 32;
}

void x86_h_wrmsr(X86Cpu *cpu, const X86Insn *in)
{
    need_cpl0(cpu);
    uint64_t v = (uint64_t)cpu->regs[R_EDX] << 32 | cpu->regs[R_EAX];
    if (!msr_access(cpu, cpu->regs[R_ECX], &v, true)) {
        mimic_log_guest("x86: wrmsr %08x unknown\n",
                        (uint32_t)cpu->regs[R_ECX]);
        GP0(cpu);
    }
}

/* ---- SYSENTER / SYSEXIT (SDM Vol. 2B) ---- */

static void flat_seg(X86Cpu *cpu, int s, uint16_t sel, unsigned dpl,
                     bool code)
{
    uint32_t lo = 0x0000ffff;
    uint32_t hi = 0x00cf9300 | (dpl << 13) | (code ? 0x800 : 0);
    x86_desc_to_cache(&cpu->seg[s], sel, lo, hi);
    SegCache *sc = &cpu->seg[s];
    sc->lo = 0;
    sc->hi = 0xffffffffu;
    sc->rok = true;
    sc->wok = !code;
}

void x86_h_sysenter(X86Cpu *cpu, const X86Insn *in)
{
    uint16_t cs = cpu->sysenter_cs;
    if (!cpu->pe || (cs & 0xfffc) == 0) {
        GP0(cpu);
    }
    x86_flags_flush(cpu);
    cpu->eflags &= ~(F_VM | F_IF | F_RF);
    flat_seg(cpu, S_CS, cs & 0xfffc, 0, true);
    flat_seg(cpu, S_SS, (cs + 8) & 0xfffc, 0, false);
    cpu->regs[R_ESP] = (uint32_t)cpu->sysenter_esp;
    cpu->rip = (uint32_t)cpu->sysenter_eip;
    cpu->cpl = 0;
    x86_update_mode(cpu);
}

void x86_h_sysexit(X86Cpu *cpu, const X86Insn *in)
{
    uint16_t cs = cpu->sysenter_cs;
    if (!cpu->pe || cpu->cpl != 0 || (cs & 0xfffc) == 0) {
        GP0(cpu);
    }
    flat_seg(cpu, S_CS, ((cs + 16) & 0xfffc) | 3, 3, true);
    flat_seg(cpu, S_SS, ((cs + 24) & 0xfffc) | 3, 3, false);
    cpu->regs[R_ESP] = cpu->regs[R_ECX];
    cpu->rip = cpu->regs[R_EDX];
    cpu->cpl = 3;
    x86_update_mode(cpu);
}

/* ---- CPUID ---- */

void x86_cpuid(X86Cpu *cpu)
{
    uint32_t leaf = cpu->regs[R_EAX];
    uint32_t a = 0, b = 0, c = 0, d = 0;
    switch (leaf) {
    case 0:
        /* Leaf 0Dh (XSAVE) with XSAVE, 7 with FSGSBASE, else up to 2. */
        a = x86_sse_features(cpu) & X86F_XSAVE ? 0xd :
            cpu->model->features & X86F_FSGSBASE ? 7 : 2;
        b = 0x756e6547; /* "Genu" */
        d = 0x49656e69; /* "ineI" */
        c = 0x6c65746e; /* "ntel" */
        break;
    case 1:
        /* pentium2: family 6, model 5 (Pentium II Deschutes), stepping 2 */
        a = cpu->model->cpuid1_eax;
        /* FPU VME DE PSE TSC MSR PAE CX8 SEP MTRR PGE CMOV MMX FXSR
           (tests/cpu/test-x86-aids.c has a check for each) */
        d = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) |
            (1u << 5) | (1u << 6) | (1u << 8) | (1u << 11) | (1u << 12) |
            (1u << 13) | (1u << 15) | (1u << 23) | (1u << 24);
        if (cpu->bus.sysreg) {
            /* APIC, only when the board has one.  Not the TSC-deadline
               timer (ECX bit 24), which the APIC implements: Linux
               follows its LVT write with MFENCE, an SSE2 instruction
               this CPU lacks. */
            d |= 1u << 9;
        }
        {
            /* The SSE family as the model has it and the core implements
               it (exec_sse.c); CLFLUSH (line size 8 qwords) with SSE2;
               the TSC-deadline timer with SSE2 (Linux's MFENCE). */
            uint32_t sf = x86_sse_features(cpu);
            d |= (sf & X86F_SSE ? 1u << 25 : 0) |
                 (sf & X86F_SSE2 ? 1u << 26 | 1u << 19 : 0);
            c = (sf & X86F_SSE3 ? 1u << 0 : 0) |
                (sf & X86F_SSSE3 ? 1u << 9 : 0) |
                (sf & X86F_SSE41 ? 1u << 19 : 0) |
                (sf & X86F_SSE42 ? 1u << 20 : 0) |
                (sf & X86F_POPCNT ? 1u << 23 : 0) |
                /* CMPXCHG16B: 64-bit mode (exec_64.c) */
                (cpu->model->features & X86F_LM_DONE ? 1u << 13 : 0) |
                (sf & X86F_XSAVE ? 1u << 26 : 0) |
                (cpu->cr4 & CR4_OSXSAVE ? 1u << 27 : 0);
            if (sf & X86F_SSE2) {
                b = 8u << 8;
                if (cpu->bus.sysreg) {
                    c |= 1u << 24;
                }
            }
        }
        break;
    case 7:
        /* Structured extended features, subleaf 0: FSGSBASE (EBX bit 0)
           only; EAX = 0, no further subleaves. */
        if ((uint32_t)cpu->regs[R_ECX] == 0 &&
            (cpu->model->features & X86F_FSGSBASE)) {
            b = 1;
        }
        break;
    case 0xd:
        /* XSAVE: x87 and SSE, the standard 576-byte area. */
        if (x86_sse_features(cpu) & X86F_XSAVE &&
            (uint32_t)cpu->regs[R_ECX] == 0) {
            a = 3;
            b = 576;
            c = 576;
        }
        break;
    case 2:
        a = 0x03020101;
        d = 0x0c040843;
        break;
    default:
        break;
    }
    /* Extended leaves: only on the 64-bit models (pentium2 has none, as
       the real one).  80000001h claims what the model implements. */
    uint32_t f = cpu->model->features;
    if ((f & X86F_LM) && leaf >= 0x80000000u) {
        a = b = c = d = 0;
        switch (leaf) {
        case 0x80000000u:
            a = 0x80000008u;
            break;
        case 0x80000001u:
            d = (f & X86F_SYSCALL_DONE ? 1u << 11 : 0) |
                (f & X86F_NX ? 1u << 20 : 0) |
                (f & X86F_PDPE1GB ? 1u << 26 : 0) |
                (f & X86F_RDTSCP ? 1u << 27 : 0) |
                (f & X86F_LM_DONE ? 1u << 29 : 0);
            c = f & X86F_LAHF_LM_DONE ? 1u : 0;
            break;
        case 0x80000008u:
            a = cpu->model->phys_bits | (48u << 8);
            break;
        }
    }
    cpu->regs[R_EAX] = a;
    cpu->regs[R_EBX] = b;
    cpu->regs[R_ECX] = c;
    cpu->regs[R_EDX] = d;
}

void x86_h_cpuid(X86Cpu *cpu, const X86Insn *in)
{
    x86_cpuid(cpu);
}

/* ---- port I/O ---- */

void x86_h_in_imm(X86Cpu *cpu, const X86Insn *in)
{
    uint16_t port = in->imm & 0xff;
    x86_io_check(cpu, port, in->osz);
    x86_setreg(cpu, R_EAX, ioport_read(cpu->bus.io, port, in->osz), in->osz);
}

void x86_h_out_imm(X86Cpu *cpu, const X86Insn *in)
{
    uint16_t port = in->imm & 0xff;
    x86_io_check(cpu, port, in->osz);
    ioport_write(cpu->bus.io, port, x86_getreg(cpu, R_EAX, in->osz), in->osz);
}

void x86_h_in_dx(X86Cpu *cpu, const X86Insn *in)
{
    uint16_t port = cpu->regs[R_EDX];
    x86_io_check(cpu, port, in->osz);
    x86_setreg(cpu, R_EAX, ioport_read(cpu->bus.io, port, in->osz), in->osz);
}

void x86_h_out_dx(X86Cpu *cpu, const X86Insn *in)
{
    uint16_t port = cpu->regs[R_EDX];
    x86_io_check(cpu, port, in->osz);
    ioport_write(cpu->bus.io, port, x86_getreg(cpu, R_EAX, in->osz), in->osz);
}

/* ---- x87 / MMX glue ---- */

/* The alignment an x87/MMX operand of len bytes needs for #AC (SDM Vol.
   3A table 6-7): words 2, dwords 4, 64- and 80-bit operands 8, the
   FSTENV/FSAVE areas 4 or 2 by operand size. */
static void fpu_ac_check(X86Cpu *cpu, uint32_t ea, unsigned len)
{
    const X86Insn *in = cpu->cur;
    unsigned align = len == 2 || len == 4 ? len
                     : len == 8 || len == 10 ? 8
                     : in->osz == 4 ? 4 : 2;
    x86_ac_check(cpu, cpu->seg[in->seg].base + ea, align);
}

static void fpu_load(void *ctx, uint32_t ea, void *buf, unsigned len)
{
    X86Cpu *cpu = ctx;
    const X86Insn *in = cpu->cur;
    uint8_t *b = buf;
    uint32_t m = in->asz32 ? ~0u : 0xffffu;
    x86_seg_check(cpu, in->seg, ea & m, 1, false); /* #GP before #AC */
    x86_seg_check(cpu, in->seg, (ea + len - 1) & m, 1, false);
    fpu_ac_check(cpu, ea & m, len);
    /* Within one page that the TLB maps for reading: one copy (what the
       byte loop below would read). */
    uint64_t lin = cpu->seg[in->seg].base + (ea & m);
    TlbEntry *e = &cpu->tlb[cpu->tlb_user][(lin >> 12) & (TLB_SIZE - 1)];
    if ((ea & m) + (uint64_t)len - 1 <= m && (lin & 0xfff) + len <= 0x1000 &&
        e->tag_r == (lin & ~(uint64_t)0xfff)) {
        memcpy(b, (const uint8_t *)(e->addend + lin), len);
        return;
    }
    for (unsigned i = 0; i < len; i++) {
        b[i] = x86_rd(cpu, in->seg, (ea + i) & (in->asz32 ? ~0u : 0xffffu),
                      1);
    }
}

static void fpu_store(void *ctx, uint32_t ea, const void *buf, unsigned len)
{
    X86Cpu *cpu = ctx;
    const X86Insn *in = cpu->cur;
    const uint8_t *b = buf;
    /* Probe first and last byte so a fault comes before any write. */
    uint32_t m = in->asz32 ? ~0u : 0xffffu;
    uint64_t l0 = x86_seg_check(cpu, in->seg, ea & m, 1, true);
    uint64_t l1 = x86_seg_check(cpu, in->seg, (ea + len - 1) & m, 1, true);
    fpu_ac_check(cpu, ea & m, len);
    /* Within one page that the TLB maps for writing (never a code page
       nor MMIO): one copy. */
    TlbEntry *e = &cpu->tlb[cpu->tlb_user][(l0 >> 12) & (TLB_SIZE - 1)];
    if (l1 == l0 + len - 1 && (l0 & 0xfff) + len <= 0x1000 &&
        e->tag_w == (l0 & ~(uint64_t)0xfff)) {
        memcpy((uint8_t *)(e->addend + l0), b, len);
        return;
    }
    x86_write_lin(cpu, l0, x86_read_lin(cpu, l0, 1), 1);
    x86_write_lin(cpu, l1, x86_read_lin(cpu, l1, 1), 1);
    for (unsigned i = 0; i < len; i++) {
        x86_wr(cpu, in->seg, (ea + i) & m, b[i], 1);
    }
}

/* Drive the FERR# pin. */
void x86_set_ferr(X86Cpu *cpu, bool level)
{
    if (cpu->ferr != level) {
        cpu->ferr = level;
        if (cpu->bus.output) {
            cpu->bus.output(cpu->bus.output_opaque, CPU_X86_OUT_FERR, level);
        }
    }
}

/* After an x87/MMX instruction: FERR# follows FSW.ES once asserted, so
   FNCLEX, FNINIT, FRSTOR, FLDENV... deassert it (and the PC's IGNNE#
   logic with it). */
static void fpu_sync_ferr(X86Cpu *cpu)
{
    if (cpu->ferr && !x87_pending_exception(&cpu->fpu)) {
        x86_set_ferr(cpu, false);
    }
}

/*
 * A waiting x87/MMX instruction or WAIT found an unmasked exception
 * pending (SDM Vol. 1 8.7, Appendix D.2.1).  CR0.NE=1: #MF, a fault on
 * this instruction.  CR0.NE=0 (MS-DOS compatibility): the P6 asserts FERR#
 * now, at the next waiting instruction; with IGNNE# asserted the
 * instruction runs as if nothing were pending (returns true), otherwise
 * the processor stops before it and waits for an interrupt (the PC's
 * IRQ13), whose return address is the waiting instruction.
 */
static bool fpu_mf(X86Cpu *cpu)
{
    if (cpu->cr0 & CR0_NE) {
        x86_raise(cpu, EX_MF, 0);
    }
    x86_set_ferr(cpu, true);
    if (cpu->ignne) {
        return true;
    }
    cpu->rip = cpu->cur->ip;
    cpu->halted = true;
    cpu->block_end = true;
    cpu->undone = true;
    return false;
}

static void fpu_mem(X86Cpu *cpu, const X86Insn *in, X87Mem *m)
{
    m->ctx = cpu;
    m->load = fpu_load;
    m->store = fpu_store;
    m->flags = (in->osz == 4 ? X87_MEM_OP32 : 0) |
               (cpu->pe && !(cpu->eflags & F_VM) ? X87_MEM_PMODE : 0);
    m->fip = in->ip;
    m->fcs = cpu->seg[S_CS].sel;
    m->fds = cpu->seg[in->seg].sel;
}

void x86_h_esc(X86Cpu *cpu, const X86Insn *in)
{
    if (cpu->cr0 & (CR0_EM | CR0_TS)) {
        x86_raise(cpu, EX_NM, 0);
    }
    if (in->mod != 3 && ((in->modrm >> 3) & 7) == 1 &&
        (in->op == 0xdb || in->op == 0xdd || in->op == 0xdf) &&
        (x86_sse_features(cpu) & X86F_SSE3)) {
        x86_fisttp(cpu, in); /* SSE3 (exec_sse.c) */
        return;
    }
    X87Mem m;
    fpu_mem(cpu, in, &m);
    uint32_t ea = in->mod == 3 ? 0 : x86_ea(cpu, in);
    uint16_t ax = cpu->regs[R_EAX];
    unsigned use = x87_eflags_use(in->op, in->modrm);
    uint32_t fl = 0;
    if (use) {
        fl = x86_get_eflags(cpu);
    }
    int r = x87_exec(&cpu->fpu, in->op, in->modrm, &m, ea, &ax,
                     use ? &fl : NULL);
    if (r == X87_MF) {
        if (!fpu_mf(cpu)) {
            return;
        }
        m.flags |= X87_MEM_IGNNE;
        r = x87_exec(&cpu->fpu, in->op, in->modrm, &m, ea, &ax,
                     use ? &fl : NULL);
    }
    fpu_sync_ferr(cpu);
    if (r == X87_UD) {
        x86_raise(cpu, EX_UD, 0);
    }
    if (r == X87_GP) {
        GP0(cpu);
    }
    if (in->op == 0xdf && in->modrm == 0xe0) {
        x86_setreg(cpu, R_EAX, ax, 2);
    }
    if (use & X87_EFLAGS_WRITE) {
        x86_set_eflags(cpu, fl, F_ARITH);
    }
}

void x86_h_fwait(X86Cpu *cpu, const X86Insn *in)
{
    if ((cpu->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) {
        x86_raise(cpu, EX_NM, 0);
    }
    if (x87_pending_exception(&cpu->fpu)) {
        fpu_mf(cpu);
    }
}

bool x86_fpu_mf(X86Cpu *cpu)
{
    return fpu_mf(cpu);
}

void x86_h_mmx(X86Cpu *cpu, const X86Insn *in)
{
    if (cpu->cr0 & CR0_EM) {
        x86_raise(cpu, EX_UD, 0);
    }
    if (cpu->cr0 & CR0_TS) {
        x86_raise(cpu, EX_NM, 0);
    }
    X87Mem m;
    fpu_mem(cpu, in, &m);
    uint32_t ea = in->mod == 3 ? 0 : x86_ea(cpu, in);
    int r = mmx_exec(&cpu->fpu, in->op, in->modrm, &m, ea, cpu->regs,
                     in->imm);
    if (r == X87_MF) {
        if (!fpu_mf(cpu)) {
            return;
        }
        m.flags |= X87_MEM_IGNNE;
        r = mmx_exec(&cpu->fpu, in->op, in->modrm, &m, ea, cpu->regs,
                     in->imm);
    }
    fpu_sync_ferr(cpu);
    if (r == X87_UD) {
        x86_raise(cpu, EX_UD, 0);
    }
}
