/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * 64-bit mode (IA-32e, CS.L = 1): the first slice of its instructions.
 *
 * The legacy handlers compute in 32 bits; until they are widened, every
 * instruction decoded in 64-bit mode runs here (x86_h_exec64, one switch
 * over the opcode) with 64-bit operands, REX registers, RIP-relative and
 * 64-bit addresses with the canonical check, and eager flags.  What is
 * not here raises #UD with a log line naming the opcode (docs/x86.md
 * lists the set).  Also: the long-mode interrupt delivery (16-byte IDT
 * gates, IST and RSPn stacks from the 64-bit TSS, IRETQ), SYSCALL/SYSRET
 * and SWAPGS.
 *
 * Specification: SDM Vol. 1 3.2.1 and Vol. 2 (the 64-bit forms), Vol. 3A
 * 2.2.1, 5.8.8 (SYSCALL/SYSRET), 6.14 (64-bit interrupt handling), 7.7
 * (64-bit TSS).
 */
#include "arch/x86/ops.h"

static uint64_t msk(unsigned size)
{
    return size == 8 ? ~(uint64_t)0 : ((uint64_t)1 << (size * 8)) - 1;
}

static uint64_t sbit(unsigned size)
{
    return (uint64_t)1 << (size * 8 - 1);
}

static uint64_t sext(uint64_t v, unsigned size)
{
    unsigned sh = 64 - size * 8;
    return (uint64_t)((int64_t)(v << sh) >> sh);
}

/* ---- registers: with a REX prefix byte registers 4..7 are SPL..DIL ---- */

static uint64_t get(X86Cpu *cpu, const X86Insn *in, unsigned r,
                    unsigned size)
{
    if (size == 1 && !in->rex && r >= 4 && r < 8) {
        return (cpu->regs[r - 4] >> 8) & 0xff;
    }
    return cpu->regs[r] & msk(size);
}

static void set(X86Cpu *cpu, const X86Insn *in, unsigned r, uint64_t v,
                unsigned size)
{
    if (size == 8) {
        cpu->regs[r] = v;
    } else if (size == 4) {
        cpu->regs[r] = (uint32_t)v; /* zero-extends */
    } else if (size == 1 && !in->rex && r >= 4 && r < 8) {
        cpu->regs[r - 4] = (cpu->regs[r - 4] & ~(uint64_t)0xff00) |
                           ((v & 0xff) << 8);
    } else {
        cpu->regs[r] = (cpu->regs[r] & ~msk(size)) | (v & msk(size));
    }
}

/* ---- memory ---- */

static uint64_t ea(X86Cpu *cpu, const X86Insn *in)
{
    uint64_t a = (uint64_t)(int64_t)in->disp;
    if (in->base < X86_R_NONE) {
        a += cpu->regs[in->base];
    } else if (in->base == X86_R_RIP) {
        a += in->ip + in->len;
    }
    if (in->index < X86_R_NONE) {
        a += cpu->regs[in->index] << in->scale;
    }
    return in->asz == 4 ? (uint32_t)a : a;
}

/* The linear address of seg:off (FS and GS have bases, the others none);
   a non-canonical one is #SS(0) for the stack, else #GP(0). */
static uint64_t lin(X86Cpu *cpu, int seg, uint64_t off)
{
    uint64_t a = off;
    if (seg == S_FS || seg == S_GS) {
        a += cpu->seg[seg].base;
    }
    if (!x86_canonical(a)) {
        x86_raise(cpu, seg == S_SS ? EX_SS : EX_GP, 0);
    }
    return a;
}

static uint64_t rd(X86Cpu *cpu, uint64_t a, unsigned size)
{
    if (size <= 4) {
        return x86_read_lin(cpu, a, size);
    }
    uint64_t lo = x86_read_lin(cpu, a, 4);
    return lo | (uint64_t)x86_read_lin(cpu, a + 4, 4) << 32;
}

static void wr(X86Cpu *cpu, uint64_t a, uint64_t v, unsigned size)
{
    if (size <= 4) {
        x86_write_lin(cpu, a, v, size);
        return;
    }
    if ((a & 0xfff) > 0xff8) {
        /* Both pages writable before anything is written. */
        x86_translate(cpu, a, 1, cpu->tlb_user);
        x86_translate(cpu, a + 7, 1, cpu->tlb_user);
    }
    x86_write_lin(cpu, a, (uint32_t)v, 4);
    x86_write_lin(cpu, a + 4, v >> 32, 4);
}

static uint64_t mem_addr(X86Cpu *cpu, const X86Insn *in)
{
    return lin(cpu, in->seg, ea(cpu, in));
}

static uint64_t rm_read(X86Cpu *cpu, const X86Insn *in, unsigned size)
{
    if (in->mod == 3) {
        return get(cpu, in, in->rm, size);
    }
    return rd(cpu, mem_addr(cpu, in), size);
}

static void rm_write(X86Cpu *cpu, const X86Insn *in, uint64_t v,
                     unsigned size)
{
    if (in->mod == 3) {
        set(cpu, in, in->rm, v, size);
    } else {
        wr(cpu, mem_addr(cpu, in), v, size);
    }
}

static void push(X86Cpu *cpu, uint64_t v, unsigned size)
{
    uint64_t sp = cpu->regs[R_ESP] - size;
    wr(cpu, lin(cpu, S_SS, sp), v, size);
    cpu->regs[R_ESP] = sp;
}

static uint64_t pop(X86Cpu *cpu, unsigned size)
{
    uint64_t sp = cpu->regs[R_ESP];
    uint64_t v = rd(cpu, lin(cpu, S_SS, sp), size);
    cpu->regs[R_ESP] = sp + size;
    return v;
}

/* ---- flags (eager: lf_op stays LF_NONE) ---- */

static void set_flags(X86Cpu *cpu, uint32_t f, uint32_t mask)
{
    x86_flags_flush(cpu);
    cpu->eflags = (cpu->eflags & ~mask) | (f & mask);
}

static uint32_t szp(uint64_t r, unsigned size)
{
    r &= msk(size);
    return (r == 0 ? F_ZF : 0) | (r & sbit(size) ? F_SF : 0) |
           (x86_parity[r & 0xff] ? F_PF : 0);
}

static bool cf(X86Cpu *cpu)
{
    return x86_cf(cpu);
}

/* op: 0 add, 1 or, 2 adc, 3 sbb, 4 and, 5 sub, 6 xor, 7 cmp. */
static uint64_t alu(X86Cpu *cpu, unsigned op, uint64_t a, uint64_t b,
                    unsigned size)
{
    uint64_t m = msk(size), r;
    uint32_t f;
    a &= m;
    b &= m;
    /* ADD, SUB/CMP and the logic ops leave lazy flags (exec_alu.c
       evaluates them at any size); ADC/SBB compute them at once. */
    switch (op) {
    case 0:
        r = (a + b) & m;
        x86_set_lazy(cpu, LF_ADD, size, r, a, b);
        return r;
    case 5: case 7:
        r = (a - b) & m;
        x86_set_lazy(cpu, LF_SUB, size, r, a, b);
        return r;
    case 1: case 4: case 6:
        r = op == 1 ? a | b : op == 4 ? a & b : a ^ b;
        x86_set_lazy(cpu, LF_LOGIC, size, r, 0, 0);
        return r;
    }
    if (op == 0 || op == 2) {
        uint64_t c = op == 2 && cf(cpu);
        r = (a + b + c) & m;
        bool carry = r < a || (c && r == a);
        f = szp(r, size) | (carry ? F_CF : 0) |
            (((a ^ r) & (b ^ r) & sbit(size)) ? F_OF : 0) |
            ((a ^ b ^ r) & 0x10 ? F_AF : 0);
    } else if (op == 3 || op == 5 || op == 7) {
        uint64_t c = op == 3 && cf(cpu);
        r = (a - b - c) & m;
        bool borrow = c ? a <= b : a < b;
        f = szp(r, size) | (borrow ? F_CF : 0) |
            (((a ^ b) & (a ^ r) & sbit(size)) ? F_OF : 0) |
            ((a ^ b ^ r) & 0x10 ? F_AF : 0);
    } else {
        r = op == 1 ? a | b : op == 4 ? a & b : a ^ b;
        f = szp(r, size);
    }
    set_flags(cpu, f, F_ARITH);
    return r;
}

static uint64_t shift(X86Cpu *cpu, unsigned op, uint64_t a, unsigned cnt,
                      unsigned size)
{
    unsigned bits = size * 8;
    cnt &= size == 8 ? 0x3f : 0x1f;
    a &= msk(size);
    if (cnt == 0) {
        return a;
    }
    uint64_t r = a;
    uint32_t f = 0;
    bool c;
    switch (op) {
    case 0: /* ROL */
    case 1: /* ROR */ {
        unsigned k = cnt % bits;
        r = k == 0 ? a : op == 0 ? ((a << k) | (a >> (bits - k)))
                                 : ((a >> k) | (a << (bits - k)));
        r &= msk(size);
        c = op == 0 ? r & 1 : (r & sbit(size)) != 0;
        bool o = op == 0 ? ((r & sbit(size)) != 0) ^ c
                         : ((r ^ (r << 1)) & sbit(size)) != 0;
        set_flags(cpu, (c ? F_CF : 0) | (o ? F_OF : 0), F_CF | F_OF);
        return r;
    }
    case 4: /* SHL */
    case 6:
        r = cnt >= 64 ? 0 : (a << cnt) & msk(size);
        c = cnt <= bits && ((a >> (bits - cnt)) & 1);
        f = szp(r, size) | (c ? F_CF : 0) |
            ((((r & sbit(size)) != 0) ^ c) ? F_OF : 0);
        break;
    case 5: /* SHR */
        r = cnt >= 64 ? 0 : a >> cnt;
        c = cnt <= bits && ((a >> (cnt - 1)) & 1);
        f = szp(r, size) | (c ? F_CF : 0) | (a & sbit(size) ? F_OF : 0);
        break;
    case 7: { /* SAR */
        int64_t s = (int64_t)sext(a, size);
        unsigned k = cnt > 63 ? 63 : cnt;
        r = (uint64_t)(s >> k) & msk(size);
        c = (s >> (k - 1)) & 1;
        f = szp(r, size) | (c ? F_CF : 0);
        break;
    }
    default: { /* RCL (2), RCR (3): through CF, bits + 1 wide */
        unsigned k = cnt % (bits + 1);
        bool c0 = cf(cpu);
        r = a;
        c = c0;
        for (unsigned i = 0; i < k; i++) {
            bool out;
            if (op == 2) {
                out = (r & sbit(size)) != 0;
                r = ((r << 1) | c) & msk(size);
            } else {
                out = r & 1;
                r = (r >> 1) | (c ? sbit(size) : 0);
            }
            c = out;
        }
        bool o = op == 2 ? ((r & sbit(size)) != 0) ^ c
                         : ((r ^ (r << 1)) & sbit(size)) != 0;
        set_flags(cpu, (c ? F_CF : 0) | (o ? F_OF : 0), F_CF | F_OF);
        return r;
    }
    }
    set_flags(cpu, f, F_ARITH);
    return r;
}

/* String instructions (SDM Vol. 2B MOVS...): RSI/RDI/RCX by address
   size, DS (or the override) for the source, ES (base 0) for the
   destination.  REP runs at most 64 Ki iterations per dispatch, then
   restarts the instruction with RF set, as exec_string.c does, so a
   huge RCX cannot hold the CPU (interrupts and exit requests come
   between rounds); one iteration under TF or a data breakpoint. */
static uint64_t areg(X86Cpu *cpu, const X86Insn *in, int r)
{
    return in->asz == 4 ? (uint32_t)cpu->regs[r] : cpu->regs[r];
}

static void aset(X86Cpu *cpu, const X86Insn *in, int r, uint64_t v)
{
    cpu->regs[r] = in->asz == 4 ? (uint32_t)v : v;
}

void x86_io_check(X86Cpu *cpu, uint16_t port, unsigned size);

static void string_op(X86Cpu *cpu, const X86Insn *in, unsigned op)
{
    unsigned sz = in->osz;
    uint16_t port = cpu->regs[R_EDX];
    if (op >= 0x6c && op <= 0x6f) { /* INS/OUTS: at most 32 bits */
        sz = sz == 8 ? 4 : sz;
        x86_io_check(cpu, port, sz);
    }
    int64_t step = (cpu->eflags & F_DF) ? -(int64_t)sz : (int64_t)sz;
    bool rep = in->rep != 0;
    unsigned kind = (op & 0xfe); /* a4 movs, a6 cmps, aa stos, ac lods,
                                    ae scas, 6c ins, 6e outs */
    unsigned chunk = (cpu->eflags & F_TF) || cpu->dbg_watch ? 1 : 65536;
    for (unsigned done = 0;; done++) {
        if (rep && areg(cpu, in, R_ECX) == 0) {
            return;
        }
        if (done == chunk) {
            cpu->rip = in->ip; /* the rest in the next round */
            cpu->block_end = true;
            cpu->eflags |= F_RF;
            return;
        }
        uint64_t si = areg(cpu, in, R_ESI), di = areg(cpu, in, R_EDI);
        bool zf = false;
        switch (kind) {
        case 0xa4:
            wr(cpu, lin(cpu, S_ES, di), rd(cpu, lin(cpu, in->seg, si), sz),
               sz);
            aset(cpu, in, R_ESI, si + step);
            aset(cpu, in, R_EDI, di + step);
            break;
        case 0xa6: {
            uint64_t a = rd(cpu, lin(cpu, in->seg, si), sz);
            uint64_t b = rd(cpu, lin(cpu, S_ES, di), sz);
            alu(cpu, 7, a, b, sz);
            zf = x86_zf(cpu);
            aset(cpu, in, R_ESI, si + step);
            aset(cpu, in, R_EDI, di + step);
            break;
        }
        case 0xaa:
            wr(cpu, lin(cpu, S_ES, di), get(cpu, in, R_EAX, sz), sz);
            aset(cpu, in, R_EDI, di + step);
            break;
        case 0xac:
            set(cpu, in, R_EAX, rd(cpu, lin(cpu, in->seg, si), sz), sz);
            aset(cpu, in, R_ESI, si + step);
            break;
        case 0x6c: {
            /* The destination is checked before the port read. */
            uint64_t a = lin(cpu, S_ES, di);
            wr(cpu, a, rd(cpu, a, sz), sz);
            wr(cpu, a, ioport_read(cpu->bus.io, port, sz), sz);
            aset(cpu, in, R_EDI, di + step);
            break;
        }
        case 0x6e:
            ioport_write(cpu->bus.io, port,
                         rd(cpu, lin(cpu, in->seg, si), sz), sz);
            aset(cpu, in, R_ESI, si + step);
            break;
        default: {
            uint64_t b = rd(cpu, lin(cpu, S_ES, di), sz);
            alu(cpu, 7, get(cpu, in, R_EAX, sz), b, sz);
            zf = x86_zf(cpu);
            aset(cpu, in, R_EDI, di + step);
            break;
        }
        }
        if (!rep) {
            return;
        }
        aset(cpu, in, R_ECX, areg(cpu, in, R_ECX) - 1);
        if (kind == 0x6c || kind == 0x6e) {
            cpu->block_end = true; /* a device may want the CPU out */
            if (cpu->tb_dirty) {
                return;
            }
        }
        if ((kind == 0xa6 || kind == 0xae) &&
            (in->rep == 0xf3 ? !zf : zf)) {
            return;
        }
    }
}

/* BT/BTS/BTR/BTC: a register bit offset addresses memory beyond the
   operand (signed, in operand-size units). */
static void bit_op(X86Cpu *cpu, const X86Insn *in, unsigned kind,
                   uint64_t off, bool reg_off)
{
    unsigned sz = in->osz;
    unsigned bits = sz * 8;
    uint64_t v, a = 0;
    if (in->mod == 3) {
        v = get(cpu, in, in->rm, sz);
        off %= bits;
    } else {
        int64_t so = reg_off ? (int64_t)sext(off, sz) : (int64_t)(off % bits);
        a = lin(cpu, in->seg, ea(cpu, in) +
                (uint64_t)((so >> (bits == 64 ? 6 : bits == 32 ? 5 : 4)) *
                           (int64_t)sz));
        off = (uint64_t)so & (bits - 1);
        v = rd(cpu, a, sz);
    }
    bool c = (v >> off) & 1;
    set_flags(cpu, c ? F_CF : 0, F_CF);
    if (kind == 0) {
        return;
    }
    uint64_t m = (uint64_t)1 << off;
    v = kind == 1 ? v | m : kind == 2 ? v & ~m : v ^ m;
    if (in->mod == 3) {
        set(cpu, in, in->rm, v, sz);
    } else {
        wr(cpu, a, v, sz);
    }
}

/* ---- control transfers ---- */

static void jump(X86Cpu *cpu, uint64_t target, unsigned osz)
{
    if (osz == 2) {
        target &= 0xffff;
    } else if (osz == 4) {
        target = (uint32_t)target;
    }
    if (!x86_canonical(target)) {
        GP0(cpu);
    }
    cpu->rip = target;
}

static uint64_t imm(const X86Insn *in)
{
    return (uint64_t)(int64_t)(int32_t)in->imm;
}

/* CS from a checked code descriptor, with RPL = cpl, and the CPL. */
static void cs64_cache(X86Cpu *cpu, uint16_t sel, uint32_t lo, uint32_t hi,
                       unsigned cpl)
{
    x86_desc_to_cache(&cpu->seg[S_CS], (sel & ~3u) | cpl, lo, hi);
    SegCache *sc = &cpu->seg[S_CS];
    sc->lo = 0;
    sc->hi = sc->limit;
    sc->rok = true;
    sc->wok = false;
    cpu->cpl = cpl;
}

/* Load CS for long mode from a selector of the GDT/LDT (no checks but
   presence: the IDT gate, IRETQ and SYSRET paths check what they need). */
static void load_cs64(X86Cpu *cpu, uint16_t sel, unsigned cpl)
{
    uint32_t lo, hi;
    if ((sel & ~3u) == 0 || !x86_read_desc(cpu, sel, &lo, &hi)) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    if (!(hi & 0x8000) || !(hi & 0x800)) {
        x86_raise(cpu, (hi & 0x8000) ? EX_GP : EX_NP, sel & ~3u);
    }
    cs64_cache(cpu, sel, lo, hi, cpl);
    x86_update_mode(cpu);
}

static void flat_ss(X86Cpu *cpu, uint16_t sel, unsigned dpl)
{
    SegCache *sc = &cpu->seg[S_SS];
    uint32_t hi = 0x00cf9300 | (dpl << 13);
    x86_desc_to_cache(sc, sel, 0x0000ffff, hi);
    sc->lo = 0;
    sc->hi = 0xffffffffu;
    sc->rok = sc->wok = true;
}

static void flat_cs(X86Cpu *cpu, uint16_t sel, unsigned dpl, bool l)
{
    uint32_t hi = 0x00009b00 | (dpl << 13) | (l ? 0x00a00000 : 0x00cf0000);
    x86_desc_to_cache(&cpu->seg[S_CS], sel, 0x0000ffff, hi);
    SegCache *sc = &cpu->seg[S_CS];
    sc->lo = 0;
    sc->hi = 0xffffffffu;
    sc->rok = true;
    sc->wok = false;
    cpu->cpl = dpl;
    x86_update_mode(cpu);
}

/* Long-mode interrupt/exception delivery (SDM Vol. 3A 6.14): 16-byte
   interrupt and trap gates to 64-bit code, the IST or RSPn stack of the
   64-bit TSS, a frame of SS, RSP, RFLAGS, CS, RIP (and the error code),
   each 8 bytes, on a 16-byte aligned stack. */
void x86_interrupt64(X86Cpu *cpu, int vec, int kind, bool has_err,
                     uint32_t err)
{
    unsigned ext = kind == 0 || kind == 2 ? 1 : 0;
    if (vec * 16 + 15 > cpu->idt.limit) {
        x86_raise(cpu, EX_GP, vec * 8 + 2 + ext);
    }
    uint64_t g = cpu->idt.base + vec * 16;
    uint32_t w0 = x86_sys_read(cpu, g, 4), w1 = x86_sys_read(cpu, g + 4, 4);
    uint32_t w2 = x86_sys_read(cpu, g + 8, 4);
    unsigned type = (w1 >> 8) & 0x1f;
    if (type != 14 && type != 15) {
        x86_raise(cpu, EX_GP, vec * 8 + 2 + ext);
    }
    if (kind == 1 && ((w1 >> 13) & 3) < cpu->cpl) {
        x86_raise(cpu, EX_GP, vec * 8 + 2);
    }
    if (!(w1 & 0x8000)) {
        x86_raise(cpu, EX_NP, vec * 8 + 2 + ext);
    }
    uint16_t csel = w0 >> 16;
    uint64_t off = (w0 & 0xffff) | (w1 & 0xffff0000u) | (uint64_t)w2 << 32;
    unsigned ist = w1 & 7;
    uint32_t lo, hi;
    if ((csel & ~3u) == 0 || !x86_read_desc(cpu, csel, &lo, &hi)) {
        x86_raise(cpu, EX_GP, (csel & ~3u) + ext);
    }
    unsigned dpl = (hi >> 13) & 3;
    /* A present 64-bit code segment (L=1, D=0) at DPL <= CPL. */
    if ((hi & 0x1800) != 0x1800 || !(hi & 0x200000) || (hi & 0x400000) ||
        dpl > cpu->cpl) {
        x86_raise(cpu, EX_GP, (csel & ~3u) + ext);
    }
    if (!(hi & 0x8000)) {
        x86_raise(cpu, EX_NP, (csel & ~3u) + ext);
    }
    if (!x86_canonical(off)) {
        x86_raise(cpu, EX_GP, ext);
    }
    bool conforming = hi & 0x400;
    unsigned ncpl = conforming ? cpu->cpl : dpl;
    uint64_t old_ss = cpu->seg[S_SS].sel, old_rsp = cpu->regs[R_ESP];
    uint64_t rsp = old_rsp;
    if (ist || ncpl < cpu->cpl) {
        unsigned at = ist ? 0x24 + (ist - 1) * 8 : 4 + ncpl * 8;
        if (at + 7 > cpu->tr.limit) {
            x86_raise(cpu, EX_TS, (cpu->tr.sel & ~3u) + ext);
        }
        rsp = x86_sys_read(cpu, cpu->tr.base + at, 4) |
              (uint64_t)x86_sys_read(cpu, cpu->tr.base + at + 4, 4) << 32;
        if (!x86_canonical(rsp)) {
            x86_raise(cpu, EX_SS, ext);
        }
    }
    rsp &= ~(uint64_t)0xf;
    uint32_t fl = x86_get_eflags(cpu);
    uint64_t frame[6] = { cpu->rip, cpu->seg[S_CS].sel, fl, old_rsp,
                          old_ss, err };
    /* Write the frame at the new stack, highest first, as supervisor
       accesses when the privilege changes. */
    int save = cpu->tlb_user;
    cpu->tlb_user = ncpl == 3;
    unsigned nf = has_err ? 6 : 5;
    static const int order[6] = { 4, 3, 2, 1, 0, 5 };
    for (unsigned i = 0; i < nf; i++) {
        rsp -= 8;
        wr(cpu, lin(cpu, S_SS, rsp), frame[order[i]], 8);
    }
    cpu->tlb_user = save;
    if (ncpl != cpu->cpl) {
        flat_ss(cpu, ncpl, ncpl); /* a null SS with RPL = the new CPL */
    }
    cs64_cache(cpu, csel, lo, hi, ncpl);
    cpu->regs[R_ESP] = rsp;
    cpu->eflags &= ~(F_TF | F_NT | F_RF | F_VM);
    if (type == 14) {
        cpu->eflags &= ~F_IF;
    }
    cpu->rip = off;
    x86_update_mode(cpu);
}

/* IRETQ (and IRETD/IRET in 64-bit mode): pops RIP, CS, RFLAGS, RSP, SS
   always (SDM Vol. 2A IRET, IA-32e mode). */
static void iret64(X86Cpu *cpu, unsigned osz)
{
    uint64_t rip = pop(cpu, osz);
    uint16_t cs = pop(cpu, osz);
    uint32_t fl = pop(cpu, osz);
    uint64_t rsp = pop(cpu, osz);
    uint16_t ss = pop(cpu, osz);
    unsigned rpl = cs & 3;
    if (rpl < cpu->cpl) {
        x86_raise(cpu, EX_GP, cs & ~3u);
    }
    uint32_t mask = F_ARITH | F_TF | F_DF | F_NT | F_RF | F_AC | F_ID;
    if (cpu->cpl == 0) {
        mask |= F_IOPL | F_VIF | F_VIP;
    }
    if (cpu->cpl <= ((cpu->eflags & F_IOPL) >> 12)) {
        mask |= F_IF;
    }
    load_cs64(cpu, cs, rpl);
    x86_set_eflags(cpu, fl, mask);
    if ((ss & ~3u) == 0) {
        if (!cpu->code64 || rpl == 3) {
            x86_raise(cpu, EX_GP, 0);
        }
        flat_ss(cpu, ss, rpl);
    } else {
        x86_load_seg(cpu, S_SS, ss);
    }
    cpu->regs[R_ESP] = cpu->code64 ? rsp : (uint32_t)rsp;
    jump(cpu, rip, cpu->code64 ? 8 : 4);
    cpu->block_end = true;
}

static void syscall64(X86Cpu *cpu)
{
    if (!(cpu->efer & EFER_SCE)) {
        x86_ud(cpu);
    }
    uint16_t sel = (cpu->star >> 32) & 0xfffc;
    cpu->regs[R_ECX] = cpu->rip;
    cpu->regs[11] = x86_get_eflags(cpu);
    x86_flags_flush(cpu);
    cpu->eflags &= ~(uint32_t)cpu->sfmask;
    cpu->eflags &= ~F_RF;
    flat_cs(cpu, sel, 0, true);
    flat_ss(cpu, sel + 8, 0);
    cpu->rip = cpu->lstar;
    cpu->block_end = true;
}

static void sysret64(X86Cpu *cpu, const X86Insn *in)
{
    if (!(cpu->efer & EFER_SCE)) {
        x86_ud(cpu);
    }
    if (cpu->cpl != 0) {
        GP0(cpu);
    }
    bool to64 = in->osz == 8;
    if (to64 && !x86_canonical(cpu->regs[R_ECX])) {
        GP0(cpu);
    }
    uint16_t base = (cpu->star >> 48) & 0xfffc;
    x86_flags_flush(cpu);
    x86_set_eflags(cpu, (cpu->regs[11] & 0x3c7fd7) | 2, ~0u);
    flat_cs(cpu, (to64 ? base + 16 : base) | 3, 3, to64);
    flat_ss(cpu, (base + 8) | 3, 3);
    cpu->rip = to64 ? cpu->regs[R_ECX] : (uint32_t)cpu->regs[R_ECX];
    cpu->block_end = true;
}

/* Far RET and far JMP/CALL through memory in 64-bit mode (SDM Vol. 2A,
   IA-32e mode): a code segment of the same privilege (conforming: DPL <=
   CPL), 64-bit or compatibility; RETF to an outer ring pops RSP and SS
   too.  Call gates: far_gate64. */
static void far_target(X86Cpu *cpu, uint16_t sel, bool ret)
{
    uint32_t lo, hi;
    if ((sel & ~3u) == 0 || !x86_read_desc(cpu, sel, &lo, &hi)) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    unsigned dpl = (hi >> 13) & 3, rpl = sel & 3;
    bool code = (hi & 0x1800) == 0x1800, conf = hi & 0x400;
    if (!code || (hi & 0x600000) == 0x600000) { /* L and D both set */
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    if (ret ? (rpl < cpu->cpl || (conf ? dpl > rpl : dpl != rpl))
            : (conf ? dpl > cpu->cpl : (dpl != cpu->cpl || rpl > cpu->cpl))) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    if (!(hi & 0x8000)) {
        x86_raise(cpu, EX_NP, sel & ~3u);
    }
}

static void far_ret64(X86Cpu *cpu, const X86Insn *in)
{
    unsigned sz = in->osz;
    uint64_t rip = pop(cpu, sz);
    uint16_t cs = pop(cpu, sz);
    cpu->regs[R_ESP] += in->op == 0xca ? (in->imm & 0xffff) : 0;
    far_target(cpu, cs, true);
    unsigned rpl = cs & 3;
    if (rpl > cpu->cpl) {
        uint64_t rsp = pop(cpu, sz);
        uint16_t ss = pop(cpu, sz);
        load_cs64(cpu, cs, rpl);
        if ((ss & ~3u) == 0 && cpu->code64 && rpl < 3) {
            flat_ss(cpu, ss, rpl);
        } else {
            x86_load_seg(cpu, S_SS, ss);
        }
        cpu->regs[R_ESP] = rsp + (in->op == 0xca ? (in->imm & 0xffff) : 0);
    } else {
        load_cs64(cpu, cs, cpu->cpl);
    }
    jump(cpu, rip, cpu->code64 ? 8 : 4);
    cpu->block_end = true;
}

/* Far CALL/JMP through a call gate in 64-bit mode (SDM Vol. 2A CALL and
   JMP, IA-32e mode; Vol. 3A 5.8.3.1): the 16-byte gate (type 12, the
   upper half's type field zero) names a 64-bit code segment and a 64-bit
   offset; CALL to a more privileged non-conforming segment takes RSPn of
   the 64-bit TSS and a null SS with RPL = n, and pushes SS, RSP, CS, RIP
   as 8 bytes each (no parameters are copied); otherwise CS and RIP are
   pushed on the current stack.  JMP keeps the privilege level.  Nothing
   changes before the last check and write have passed. */
static void far_gate64(X86Cpu *cpu, uint16_t sel, uint32_t lo, uint32_t hi,
                       bool call)
{
    unsigned type = (hi >> 8) & 0x1f, gdpl = (hi >> 13) & 3;
    if (type != 12 || gdpl < cpu->cpl || gdpl < (sel & 3)) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    if (!(hi & 0x8000)) {
        x86_raise(cpu, EX_NP, sel & ~3u);
    }
    uint32_t w2, w3;
    if (!x86_read_desc(cpu, sel + 8, &w2, &w3) || ((w3 >> 8) & 0x1f)) {
        x86_raise(cpu, EX_GP, sel & ~3u);
    }
    uint16_t csel = lo >> 16;
    uint64_t off = (lo & 0xffff) | (hi & 0xffff0000u) | (uint64_t)w2 << 32;
    uint32_t clo, chi;
    if ((csel & ~3u) == 0) {
        GP0(cpu);
    }
    if (!x86_read_desc(cpu, csel, &clo, &chi)) {
        x86_raise(cpu, EX_GP, csel & ~3u);
    }
    unsigned cdpl = (chi >> 13) & 3;
    bool conf = chi & 0x400;
    /* A 64-bit code segment (L = 1, D = 0). */
    if ((chi & 0x1800) != 0x1800 || (chi & 0x600000) != 0x200000 ||
        (call || conf ? cdpl > cpu->cpl : cdpl != cpu->cpl)) {
        x86_raise(cpu, EX_GP, csel & ~3u);
    }
    if (!(chi & 0x8000)) {
        x86_raise(cpu, EX_NP, csel & ~3u);
    }
    if (!x86_canonical(off)) {
        GP0(cpu);
    }
    unsigned ncpl = call && !conf ? cdpl : cpu->cpl;
    uint64_t rsp = cpu->regs[R_ESP];
    if (call) {
        uint64_t frame[4] = { cpu->rip, cpu->seg[S_CS].sel, rsp,
                              cpu->seg[S_SS].sel };
        unsigned n = 2;
        if (ncpl < cpu->cpl) {
            unsigned at = 4 + ncpl * 8;
            if (at + 7 > cpu->tr.limit) {
                x86_raise(cpu, EX_TS, cpu->tr.sel & ~3u);
            }
            rsp = x86_sys_read(cpu, cpu->tr.base + at, 4) |
                  (uint64_t)x86_sys_read(cpu, cpu->tr.base + at + 4, 4)
                      << 32;
            n = 4;
        }
        /* Highest first, as accesses of the new privilege level. */
        int save = cpu->tlb_user;
        cpu->tlb_user = ncpl == 3;
        for (unsigned i = n; i-- > 0;) {
            wr(cpu, lin(cpu, S_SS, rsp - (n - i) * 8), frame[i], 8);
        }
        cpu->tlb_user = save;
        rsp -= n * 8;
        if (ncpl < cpu->cpl) {
            flat_ss(cpu, ncpl, ncpl); /* a null SS with RPL = the new CPL */
        }
    }
    cs64_cache(cpu, csel, clo, chi, ncpl);
    cpu->regs[R_ESP] = rsp;
    cpu->rip = off;
    x86_update_mode(cpu);
    cpu->block_end = true;
}

static void far_jmp_call64(X86Cpu *cpu, const X86Insn *in, bool call)
{
    unsigned sz = in->osz == 8 ? 8 : in->osz;
    uint64_t a = mem_addr(cpu, in);
    uint64_t off = rd(cpu, a, sz);
    uint16_t sel = rd(cpu, a + sz, 2);
    uint32_t lo, hi;
    if ((sel & ~3u) && x86_read_desc(cpu, sel, &lo, &hi) &&
        !(hi & 0x1000)) {
        far_gate64(cpu, sel, lo, hi, call); /* the offset is ignored */
        return;
    }
    far_target(cpu, sel, false);
    if (call) {
        push(cpu, cpu->seg[S_CS].sel, sz);
        push(cpu, cpu->rip, sz);
    }
    load_cs64(cpu, sel, cpu->cpl);
    jump(cpu, off, cpu->code64 ? 8 : 4);
    cpu->block_end = true;
}

/* RDFSBASE, RDGSBASE, WRFSBASE, WRGSBASE (SDM Vol. 2C): 64-bit mode
   with CR4.FSGSBASE, else #UD; 32-bit operands zero-extend; a written
   base must be canonical (#GP(0)). */
void x86_fsgsbase(X86Cpu *cpu, unsigned r, unsigned reg, bool w)
{
    if (!cpu->code64 || !(cpu->cr4 & CR4_FSGSBASE)) {
        x86_ud(cpu);
    }
    SegCache *sc = &cpu->seg[r & 1 ? S_GS : S_FS];
    if (r < 2) {
        cpu->regs[reg] = w ? sc->base : (uint32_t)sc->base;
        return;
    }
    uint64_t v = w ? cpu->regs[reg] : (uint32_t)cpu->regs[reg];
    if (!x86_canonical(v)) {
        GP0(cpu);
    }
    sc->base = v;
}

/* ---- the legacy handlers in 64-bit mode ----
   Handlers that compute no address themselves, or only one memory
   operand through x86_ea() and in->seg (x87, MMX, the descriptor-table
   and LAR/LSL/VERR/VERW forms, and the SSE handlers of exec_sse*.c), run
   in 64-bit mode through this bridge: the 64-bit linear address of the
   operand (FS/GS base, canonical check) is put in in->seg's cache as a
   base, the instruction gets a plain displacement of the low 16 bits, so
   that x86_ea() + base is the address and no operand (up to 64 KiB)
   wraps; the cache is restored after the handler, also when it faults.
   mem: the opcode has a ModRM byte; narrow: REX.W means nothing to the
   handler (it sees 32 bits). */
static void legacy64(X86Cpu *cpu, const X86Insn *in, unsigned op,
                     bool mem, bool narrow)
{
    X86Handler fn = x86_legacy_handler(op);
    X86Insn l = *in;
    if (!fn) {
        x86_op_unimpl64(cpu, in);
    }
    if (narrow && l.osz == 8) {
        l.osz = 4;
    }
    if (!mem || in->mod == 3) {
        fn(cpu, &l);
        return;
    }
    uint64_t a = mem_addr(cpu, in);
    int s = in->seg;
    SegCache save = cpu->seg[s];
    jmp_buf outer;
    memcpy(outer, cpu->jb, sizeof(jmp_buf));
    SegCache *sc = &cpu->seg[s];
    sc->base = a & ~(uint64_t)0xffff;
    sc->lo = 0;
    sc->hi = 0xffffffffu;
    sc->rok = sc->wok = true;
    l.base = X86_R_NONE;
    l.index = X86_R_NONE;
    l.disp = (int32_t)(a & 0xffff);
    l.asz32 = 1;
    l.asz = 4;
    if (setjmp(cpu->jb)) {
        cpu->seg[s] = save;
        memcpy(cpu->jb, outer, sizeof(jmp_buf));
        longjmp(cpu->jb, 1);
    }
    fn(cpu, &l);
    cpu->seg[s] = save;
    memcpy(cpu->jb, outer, sizeof(jmp_buf));
}

/* SHLD/SHRD (SDM Vol. 2B): the count masked to 5 bits (6 with REX.W);
   a 16-bit count above 16 leaves the result undefined (Intel CPUs shift
   through the 32-bit concatenation, as QEMU does). */
static void shxd64(X86Cpu *cpu, const X86Insn *in, bool left, unsigned cnt)
{
    unsigned sz = in->osz, bits = sz * 8;
    cnt &= sz == 8 ? 63 : 31;
    if (cnt == 0) {
        if (in->mod == 3 && sz == 4) {
            cpu->regs[in->rm] = (uint32_t)cpu->regs[in->rm];
        }
        return;
    }
    uint64_t d = rm_read(cpu, in, sz), s = get(cpu, in, in->reg, sz);
    unsigned __int128 w;
    uint64_t r;
    bool c;
    if (sz == 2) {
        /* 16-bit: the 48-bit d:s:d (left) or d:s:d (right, from bit 0) */
        uint64_t x = (d << 32) | (s << 16) | d;
        if (left) {
            c = (x >> (48 - cnt)) & 1;
            r = (x << cnt >> 32) & 0xffff;
        } else {
            c = (x >> (cnt - 1)) & 1;
            r = (x >> cnt) & 0xffff;
        }
    } else if (left) {
        w = ((unsigned __int128)d << bits) | s;
        c = (d >> (bits - cnt)) & 1;
        r = (uint64_t)(w << cnt >> bits) & msk(sz);
    } else {
        w = ((unsigned __int128)s << bits) | d;
        c = (d >> (cnt - 1)) & 1;
        r = (uint64_t)(w >> cnt) & msk(sz);
    }
    bool o = ((r ^ d) & sbit(sz)) != 0;
    set_flags(cpu, szp(r, sz) | (c ? F_CF : 0) | (o ? F_OF : 0), F_ARITH);
    rm_write(cpu, in, r, sz);
}

/* CR8: the local APIC's TPR bits 7:4 (SDM Vol. 3A 10.8.6.1), through the
   board's system-register hook (0x808, the x2APIC TPR number; not an MSR
   the guest can reach: msr_access() does not route it). */
static void mov_cr8(X86Cpu *cpu, const X86Insn *in, bool to_cr)
{
    if (cpu->cpl != 0) {
        GP0(cpu);
    }
    uint64_t tpr = 0;
    if (to_cr) {
        uint64_t v = cpu->regs[in->rm];
        if (v >> 4) {
            GP0(cpu); /* reserved bits 63:4 */
        }
        tpr = v << 4;
        if (!cpu->bus.sysreg ||
            !cpu->bus.sysreg(cpu->bus.sysreg_opaque, 0x808, &tpr, true)) {
            cpu->cr8 = v;
        }
        cpu->block_end = true; /* a lower priority may unmask one */
        return;
    }
    if (cpu->bus.sysreg &&
        cpu->bus.sysreg(cpu->bus.sysreg_opaque, 0x808, &tpr, false)) {
        cpu->regs[in->rm] = (tpr >> 4) & 0xf;
    } else {
        cpu->regs[in->rm] = cpu->cr8;
    }
}

/* ---- the instructions ---- */

static inline __attribute__((always_inline))
void alu_forms(X86Cpu *cpu, const X86Insn *in, unsigned op, unsigned sz)
{
    unsigned o = op >> 3;
    if ((op & 7) >= 4) { /* AL/eAX, imm */
        uint64_t r = alu(cpu, o, get(cpu, in, R_EAX, sz),
                         sz == 1 ? in->imm : imm(in), sz);
        if (o != 7) {
            set(cpu, in, R_EAX, r, sz);
        }
    } else if (op & 2) { /* reg, r/m */
        uint64_t r = alu(cpu, o, get(cpu, in, in->reg, sz),
                         rm_read(cpu, in, sz), sz);
        if (o != 7) {
            set(cpu, in, in->reg, r, sz);
        }
    } else { /* r/m, reg */
        uint64_t r = alu(cpu, o, rm_read(cpu, in, sz),
                         get(cpu, in, in->reg, sz), sz);
        if (o != 7) {
            rm_write(cpu, in, r, sz);
        }
    }
}

/* The most frequent instructions have handlers of their own (picked by
   x86_exec64_pick() at decode time): the JIT calls them directly, which
   spares the switch's indirect jump. */
static void h64_alu(X86Cpu *cpu, const X86Insn *in)
{
    alu_forms(cpu, in, in->op, in->osz);
}

static void h64_mov_store(X86Cpu *cpu, const X86Insn *in) /* 88, 89 */
{
    rm_write(cpu, in, get(cpu, in, in->reg, in->osz), in->osz);
}

static void h64_mov_load(X86Cpu *cpu, const X86Insn *in) /* 8A, 8B */
{
    set(cpu, in, in->reg, rm_read(cpu, in, in->osz), in->osz);
}

static void h64_lea(X86Cpu *cpu, const X86Insn *in)
{
    set(cpu, in, in->reg, ea(cpu, in), in->osz);
}

static void h64_jcc(X86Cpu *cpu, const X86Insn *in)
{
    if (x86_cond(cpu, in->op & 0xf)) {
        jump(cpu, cpu->rip + imm(in), 8);
    }
}

static void h64_test(X86Cpu *cpu, const X86Insn *in) /* 84, 85 */
{
    alu(cpu, 4, rm_read(cpu, in, in->osz), get(cpu, in, in->reg, in->osz),
        in->osz);
}

X86Handler x86_exec64_pick(const X86Insn *in)
{
    unsigned op = in->op0f ? 0x100 | in->op : in->op;
    if (op < 0x40 && (op & 7) < 6) {
        return h64_alu;
    }
    switch (op) {
    case 0x88: case 0x89:
        return h64_mov_store;
    case 0x8a: case 0x8b:
        return h64_mov_load;
    case 0x8d:
        return h64_lea;
    case 0x84: case 0x85:
        return h64_test;
    case 0x70 ... 0x7f: case 0x180 ... 0x18f:
        return h64_jcc;
    }
    return x86_h_exec64;
}


void x86_h_exec64(X86Cpu *cpu, const X86Insn *in)
{
    unsigned op = in->op0f ? 0x100 | in->op : in->op;
    unsigned sz = in->osz;
    switch (op) {
    case 0x00 ... 0x05: case 0x08 ... 0x0d: case 0x10 ... 0x15:
    case 0x18 ... 0x1d: case 0x20 ... 0x25: case 0x28 ... 0x2d:
    case 0x30 ... 0x35: case 0x38 ... 0x3d:
        alu_forms(cpu, in, op, sz);
        return;
    case 0x50 ... 0x57:
        push(cpu, get(cpu, in, (op & 7) | (in->rex & 1 ? 8 : 0), sz), sz);
        return;
    case 0x58 ... 0x5f: {
        uint64_t v = pop(cpu, sz);
        set(cpu, in, (op & 7) | (in->rex & 1 ? 8 : 0), v, sz);
        return;
    }
    case 0x63: /* MOVSXD */
        set(cpu, in, in->reg, sz == 8 ? sext(rm_read(cpu, in, 4), 4)
                                      : rm_read(cpu, in, sz), sz);
        return;
    case 0x68: case 0x6a:
        push(cpu, sz == 2 ? in->imm & 0xffff : imm(in), sz);
        return;
    case 0x69: case 0x6b: case 0x1af: {
        int64_t a = (int64_t)sext(rm_read(cpu, in, sz), sz);
        int64_t b = op == 0x1af ? (int64_t)sext(get(cpu, in, in->reg, sz), sz)
                                : (int64_t)imm(in);
        __int128 p = (__int128)a * b;
        uint64_t r = (uint64_t)p & msk(sz);
        bool o = (__int128)(int64_t)sext(r, sz) != p;
        set_flags(cpu, (o ? F_CF | F_OF : 0) | szp(r, sz), F_ARITH);
        set(cpu, in, in->reg, r, sz);
        return;
    }
    case 0x70 ... 0x7f: case 0x180 ... 0x18f:
        if (x86_cond(cpu, op & 0xf)) {
            jump(cpu, cpu->rip + imm(in), 8);
        }
        return;
    case 0x80: case 0x81: case 0x83: {
        uint64_t b = op == 0x80 ? in->imm & 0xff : imm(in);
        uint64_t r = alu(cpu, in->reg, rm_read(cpu, in, sz), b, sz);
        if (in->reg != 7) {
            rm_write(cpu, in, r, sz);
        }
        return;
    }
    case 0x84: case 0x85:
        alu(cpu, 4, rm_read(cpu, in, sz), get(cpu, in, in->reg, sz), sz);
        return;
    case 0xa8: case 0xa9:
        alu(cpu, 4, get(cpu, in, R_EAX, sz), sz == 1 ? in->imm : imm(in),
            sz);
        return;
    case 0x86: case 0x87: {
        uint64_t a = rm_read(cpu, in, sz);
        rm_write(cpu, in, get(cpu, in, in->reg, sz), sz);
        set(cpu, in, in->reg, a, sz);
        return;
    }
    case 0x88: case 0x89:
        rm_write(cpu, in, get(cpu, in, in->reg, sz), sz);
        return;
    case 0x8a: case 0x8b:
        set(cpu, in, in->reg, rm_read(cpu, in, sz), sz);
        return;
    case 0x8d:
        set(cpu, in, in->reg, ea(cpu, in), sz);
        return;
    case 0x8f:
        rm_write(cpu, in, pop(cpu, sz), sz);
        return;
    case 0x90 ... 0x97: {
        unsigned r = (op & 7) | (in->rex & 1 ? 8 : 0);
        if (r == 0) {
            return; /* NOP (and PAUSE) */
        }
        uint64_t a = get(cpu, in, R_EAX, sz);
        set(cpu, in, R_EAX, get(cpu, in, r, sz), sz);
        set(cpu, in, r, a, sz);
        return;
    }
    case 0x98: /* CBW/CWDE/CDQE */
        set(cpu, in, R_EAX, sext(cpu->regs[R_EAX], sz / 2), sz);
        return;
    case 0x99: /* CWD/CDQ/CQO */
        set(cpu, in, R_EDX,
            (cpu->regs[R_EAX] & sbit(sz)) ? ~(uint64_t)0 : 0, sz);
        return;
    case 0x9c:
        push(cpu, x86_get_eflags(cpu) & ~(F_RF | F_VM), sz);
        return;
    case 0x9d: {
        uint32_t mask = F_ARITH | F_TF | F_DF | F_NT | F_AC | F_ID;
        if (cpu->cpl == 0) {
            mask |= F_IOPL;
        }
        if (cpu->cpl <= ((cpu->eflags & F_IOPL) >> 12)) {
            mask |= F_IF;
        }
        x86_set_eflags(cpu, pop(cpu, sz), mask & (sz == 2 ? 0xffff : ~0u));
        cpu->block_end = true;
        return;
    }
    case 0x9e: case 0x9f: case 0xf4: case 0xf5: case 0xf8 ... 0xfd:
    case 0x131: case 0x1a2:
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:
    case 0xec: case 0xed: case 0xee: case 0xef:
    case 0x130: case 0x132: case 0x120: case 0x122:
    case 0x8c: case 0x8e: case 0x100: case 0x106: case 0x108: case 0x109:
    case 0x133:
        if (op == 0x8c && in->mod != 3) { /* MOV m16, Sreg */
            wr(cpu, mem_addr(cpu, in), cpu->seg[in->reg].sel, 2);
            return;
        }
        if (op == 0x8e) { /* MOV Sreg, r/m16 */
            uint16_t sel = in->mod == 3 ? cpu->regs[in->rm]
                                        : rd(cpu, mem_addr(cpu, in), 2);
            if (in->reg == S_SS && (sel & ~3u) == 0 && cpu->cpl < 3 &&
                (sel & 3) == cpu->cpl) {
                /* 64-bit mode takes a null SS below ring 3 (SDM Vol. 2B
                   MOV, 64-bit mode exceptions). */
                flat_ss(cpu, sel, cpu->cpl);
            } else {
                x86_load_seg(cpu, in->reg, sel);
            }
            if (in->reg == S_SS) {
                cpu->inhibit = true;
            }
            return;
        }
        if (op == 0x100 && in->mod != 3) {
            legacy64(cpu, in, op, true, true); /* the m16 forms */
            return;
        }
        if ((op == 0x120 || op == 0x122) && in->reg == 8) {
            mov_cr8(cpu, in, op == 0x122);
            return;
        }
        /* These legacy handlers touch no address and only the low 32
           bits of RAX..RDX (zero-extended writes) or are 64-bit aware
           (MOV CRn): SAHF/LAHF, HLT, CMC, CLC/STC/CLI/STI/CLD/STD, RDTSC,
           CPUID, IN/OUT, RDMSR/WRMSR, CLTS, INVD, WBINVD, RDPMC; MOV Sreg and SLDT/STR/LLDT/LTR/
           VERR/VERW with a register operand (descriptors below 4 GiB,
           8-byte system descriptors: the upper base half is not read). */
        {
            X86Insn l = *in;
            if (l.osz == 8) {
                l.osz = 4; /* REX.W means nothing to these */
            }
            x86_legacy_handler(op)(cpu, &l);
        }
        return;
    case 0xb0 ... 0xb7:
        set(cpu, in, (op & 7) | (in->rex & 1 ? 8 : 0), in->imm, 1);
        return;
    case 0xb8 ... 0xbf: {
        uint64_t v = sz == 8 ? in->imm | (uint64_t)in->imm2 << 32 : in->imm;
        set(cpu, in, (op & 7) | (in->rex & 1 ? 8 : 0), v, sz);
        return;
    }
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        unsigned cnt = op <= 0xc1 ? in->imm & 0xff
                       : op <= 0xd1 ? 1 : cpu->regs[R_ECX] & 0xff;
        uint64_t a = rm_read(cpu, in, sz);
        rm_write(cpu, in, shift(cpu, in->reg, a, cnt, sz), sz);
        return;
    }
    case 0xc2: case 0xc3: {
        uint64_t t = pop(cpu, 8);
        cpu->regs[R_ESP] += op == 0xc2 ? (in->imm & 0xffff) : 0;
        jump(cpu, t, 8);
        return;
    }
    case 0xc6: case 0xc7:
        rm_write(cpu, in, sz == 1 ? in->imm : imm(in), sz);
        return;
    case 0xc9: /* LEAVE */
        cpu->regs[R_ESP] = cpu->regs[R_EBP];
        set(cpu, in, R_EBP, pop(cpu, sz), sz);
        return;
    case 0xcc:
        x86_interrupt(cpu, EX_BP, 1, false, 0, cpu->rip);
        cpu->block_end = true;
        return;
    case 0xcd:
        x86_interrupt(cpu, in->imm & 0xff, 1, false, 0, cpu->rip);
        cpu->block_end = true;
        return;
    case 0xcf:
        iret64(cpu, sz);
        return;
    case 0xe3:
        if ((in->asz == 4 ? (uint32_t)cpu->regs[R_ECX]
                          : cpu->regs[R_ECX]) == 0) {
            jump(cpu, cpu->rip + imm(in), 8);
        }
        return;
    case 0xe8:
        push(cpu, cpu->rip, 8);
        jump(cpu, cpu->rip + imm(in), 8);
        return;
    case 0xe9: case 0xeb:
        jump(cpu, cpu->rip + imm(in), 8);
        return;
    case 0xf6: case 0xf7: {
        uint64_t a = rm_read(cpu, in, sz);
        switch (in->reg) {
        case 0: case 1:
            alu(cpu, 4, a, sz == 1 ? in->imm : imm(in), sz);
            return;
        case 2:
            rm_write(cpu, in, ~a, sz);
            return;
        case 3:
            rm_write(cpu, in, alu(cpu, 5, 0, a, sz), sz);
            return;
        case 4: case 5: { /* MUL, IMUL */
            unsigned bits = sz * 8;
            unsigned __int128 p;
            bool o;
            if (in->reg == 4) {
                p = (unsigned __int128)(get(cpu, in, R_EAX, sz)) * a;
                o = (p >> bits) != 0;
            } else {
                __int128 s = (__int128)(int64_t)sext(get(cpu, in, R_EAX, sz),
                                                     sz) *
                             (int64_t)sext(a, sz);
                p = (unsigned __int128)s;
                o = s != (__int128)(int64_t)sext((uint64_t)s, sz);
            }
            uint64_t lo = (uint64_t)p & msk(sz);
            uint64_t hi = (uint64_t)(p >> bits) & msk(sz);
            if (sz == 1) {
                set(cpu, in, R_EAX, lo | hi << 8, 2);
            } else {
                set(cpu, in, R_EAX, lo, sz);
                set(cpu, in, R_EDX, hi, sz);
            }
            set_flags(cpu, (o ? F_CF | F_OF : 0) | szp(lo, sz), F_ARITH);
            return;
        }
        default: { /* DIV, IDIV */
            unsigned bits = sz * 8;
            if ((a & msk(sz)) == 0) {
                x86_raise(cpu, EX_DE, 0);
            }
            unsigned __int128 n;
            if (sz == 1) {
                n = cpu->regs[R_EAX] & 0xffff;
            } else {
                n = (unsigned __int128)get(cpu, in, R_EDX, sz) << bits |
                    get(cpu, in, R_EAX, sz);
            }
            uint64_t q, r;
            if (in->reg == 6) {
                unsigned __int128 qq = n / (a & msk(sz));
                if (qq >> bits) {
                    x86_raise(cpu, EX_DE, 0);
                }
                q = (uint64_t)qq;
                r = (uint64_t)(n % (a & msk(sz)));
            } else {
                __int128 sn = (__int128)(n << (128 - 2 * bits)) >>
                              (128 - 2 * bits);
                __int128 d = (int64_t)sext(a, sz);
                __int128 qq = sn / d;
                if (qq != (__int128)(int64_t)sext((uint64_t)qq, sz)) {
                    x86_raise(cpu, EX_DE, 0);
                }
                q = (uint64_t)qq & msk(sz);
                r = (uint64_t)(sn % d) & msk(sz);
            }
            if (sz == 1) {
                set(cpu, in, R_EAX, q | r << 8, 2);
            } else {
                set(cpu, in, R_EAX, q, sz);
                set(cpu, in, R_EDX, r, sz);
            }
            return;
        }
        }
    }
    case 0xfe: case 0xff:
        switch (in->reg) {
        case 0: case 1: { /* INC, DEC: CF kept */
            bool c = cf(cpu);
            uint64_t r = alu(cpu, in->reg ? 5 : 0, rm_read(cpu, in, sz), 1,
                             sz);
            set_flags(cpu, c ? F_CF : 0, F_CF);
            rm_write(cpu, in, r, sz);
            return;
        }
        case 2: { /* CALL r/m64 */
            uint64_t t = rm_read(cpu, in, 8);
            push(cpu, cpu->rip, 8);
            jump(cpu, t, 8);
            return;
        }
        case 4:
            jump(cpu, rm_read(cpu, in, 8), 8);
            return;
        case 3: case 5:
            if (in->mod != 3) {
                far_jmp_call64(cpu, in, in->reg == 3);
                return;
            }
            break;
        case 6:
            push(cpu, rm_read(cpu, in, sz), sz);
            return;
        }
        break;
    case 0x101:
        if (in->mod == 3 && in->reg == 7) {
            if ((in->rm & 7) == 0) { /* SWAPGS */
                if (cpu->cpl != 0) {
                    GP0(cpu);
                }
                uint64_t t = cpu->seg[S_GS].base;
                cpu->seg[S_GS].base = cpu->kernel_gs_base;
                cpu->kernel_gs_base = t;
                return;
            }
            x86_rdtscp(cpu); /* RDTSCP */
            return;
        }
        if (in->reg == 4) { /* SMSW: r64 takes all of CR0, m16 */
            if (in->mod == 3) {
                set(cpu, in, in->rm, cpu->cr0, sz == 8 ? 8 : sz);
            } else {
                wr(cpu, mem_addr(cpu, in), cpu->cr0 & 0xffff, 2);
            }
            return;
        }
        if (in->reg == 6) { /* LMSW */
            legacy64(cpu, in, op, true, true);
            return;
        }
        if (in->mod != 3 && (in->reg == 0 || in->reg == 1)) {
            /* SGDT/SIDT: limit and the 64-bit base. */
            const DescTable *t = in->reg == 0 ? &cpu->gdt : &cpu->idt;
            uint64_t a = mem_addr(cpu, in);
            wr(cpu, a, t->limit, 2);
            wr(cpu, a + 2, t->base, 8);
            return;
        }
        if (in->mod != 3 && in->reg == 7) { /* INVLPG */
            if (cpu->cpl != 0) {
                GP0(cpu);
            }
            uint64_t a = ea(cpu, in);
            if (in->seg == S_FS || in->seg == S_GS) {
                a += cpu->seg[in->seg].base;
            }
            if (x86_canonical(a)) { /* a non-canonical one is a no-op */
                x86_tlb_flush_page(cpu, a);
            }
            return;
        }
        if (in->mod != 3 && (in->reg == 2 || in->reg == 3)) {
            /* LGDT/LIDT: a 10-byte operand (limit, 64-bit base). */
            if (cpu->cpl != 0) {
                GP0(cpu);
            }
            uint64_t a = mem_addr(cpu, in);
            DescTable *t = in->reg == 2 ? &cpu->gdt : &cpu->idt;
            uint32_t limit = rd(cpu, a, 2);
            uint64_t base = rd(cpu, a + 2, 8);
            if (!x86_canonical(base)) {
                GP0(cpu);
            }
            t->limit = limit;
            t->base = base;
            return;
        }
        break;
    case 0x105:
        syscall64(cpu);
        return;
    case 0x107:
        sysret64(cpu, in);
        return;
    case 0x140 ... 0x14f: {
        uint64_t v = rm_read(cpu, in, sz);
        if (x86_cond(cpu, op & 0xf)) {
            set(cpu, in, in->reg, v, sz);
        } else if (sz == 4) {
            cpu->regs[in->reg] = (uint32_t)cpu->regs[in->reg];
        }
        return;
    }
    case 0x190 ... 0x19f:
        rm_write(cpu, in, x86_cond(cpu, op & 0xf), 1);
        return;
    case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf: {
        unsigned ss = op & 1 ? 2 : 1;
        uint64_t v = rm_read(cpu, in, ss);
        set(cpu, in, in->reg, op >= 0x1be ? sext(v, ss) : v, sz);
        return;
    }
    case 0x1c7:
        if (in->reg == 1 && in->mod != 3) { /* CMPXCHG8B/16B */
            unsigned h = sz == 8 ? 8 : 4;
            uint64_t a = mem_addr(cpu, in);
            if (h == 8 && (a & 15)) {
                GP0(cpu);
            }
            uint64_t lo = rd(cpu, a, h), hi = rd(cpu, a + h, h);
            bool eq = lo == get(cpu, in, R_EAX, h) &&
                      hi == get(cpu, in, R_EDX, h);
            if (eq) {
                wr(cpu, a, get(cpu, in, R_EBX, h), h);
                wr(cpu, a + h, get(cpu, in, R_ECX, h), h);
            } else {
                wr(cpu, a, lo, h); /* the write cycle happens anyway */
                set(cpu, in, R_EAX, lo, h);
                set(cpu, in, R_EDX, hi, h);
            }
            set_flags(cpu, eq ? F_ZF : 0, F_ZF);
            return;
        }
        break;
    case 0xca: case 0xcb:
        far_ret64(cpu, in);
        return;
    case 0xc8: { /* ENTER imm16, imm8 */
        unsigned level = in->imm2 & 31;
        uint64_t fp;
        push(cpu, get(cpu, in, R_EBP, sz), sz);
        fp = cpu->regs[R_ESP];
        for (unsigned i = 1; i < level; i++) {
            uint64_t bp = cpu->regs[R_EBP] - i * sz;
            push(cpu, rd(cpu, lin(cpu, S_SS, bp), sz), sz);
        }
        if (level) {
            push(cpu, fp, sz);
        }
        set(cpu, in, R_EBP, fp, sz);
        cpu->regs[R_ESP] -= in->imm & 0xffff;
        return;
    }
    case 0xe0: case 0xe1: case 0xe2: { /* LOOPNE, LOOPE, LOOP */
        uint64_t c = areg(cpu, in, R_ECX) - 1;
        aset(cpu, in, R_ECX, c);
        bool go = c != 0 && (op == 0xe2 || (op == 0xe1) == x86_zf(cpu));
        if (go) {
            jump(cpu, cpu->rip + imm(in), 8);
        }
        return;
    }
    case 0x1a0: case 0x1a8: /* PUSH FS, PUSH GS */
        push(cpu, cpu->seg[op == 0x1a0 ? S_FS : S_GS].sel, sz);
        return;
    case 0x1a1: case 0x1a9: { /* POP FS, POP GS */
        uint64_t sp = cpu->regs[R_ESP];
        uint16_t v = rd(cpu, lin(cpu, S_SS, sp), sz);
        x86_load_seg(cpu, op == 0x1a1 ? S_FS : S_GS, v);
        cpu->regs[R_ESP] = sp + sz;
        return;
    }
    case 0xa4 ... 0xa7: case 0xaa ... 0xaf:
        string_op(cpu, in, op);
        return;
    case 0xa0 ... 0xa3: { /* MOV AL/eAX, moffs (64-bit address) */
        uint64_t off = in->imm | (in->asz == 8 ? (uint64_t)in->imm2 << 32
                                               : 0);
        uint64_t a = lin(cpu, in->seg, off);
        if (op <= 0xa1) {
            set(cpu, in, R_EAX, rd(cpu, a, sz), sz);
        } else {
            wr(cpu, a, get(cpu, in, R_EAX, sz), sz);
        }
        return;
    }
    case 0x1a3: case 0x1ab: case 0x1b3: case 0x1bb:
        bit_op(cpu, in, op == 0x1a3 ? 0 : op == 0x1ab ? 1
                        : op == 0x1b3 ? 2 : 3,
               get(cpu, in, in->reg, sz), true);
        return;
    case 0x1ba:
        if (in->reg >= 4) {
            bit_op(cpu, in, in->reg - 4, in->imm & 0xff, false);
            return;
        }
        break;
    case 0x1bc: case 0x1bd: { /* BSF, BSR: ZF; destination kept if 0 */
        uint64_t v = rm_read(cpu, in, sz);
        if (v == 0) {
            /* The destination is undefined (SDM); it keeps its value,
               zero-extended for 32 bits as Unicorn/QEMU do. */
            set_flags(cpu, F_ZF, F_ZF);
            if (sz == 4) {
                cpu->regs[in->reg] = (uint32_t)cpu->regs[in->reg];
            }
            return;
        }
        set_flags(cpu, 0, F_ZF);
        set(cpu, in, in->reg, op == 0x1bc ? (uint64_t)__builtin_ctzll(v)
                                          : (uint64_t)(63 -
                                                       __builtin_clzll(v)),
            sz);
        return;
    }
    case 0x1b0: case 0x1b1: { /* CMPXCHG */
        uint64_t d = rm_read(cpu, in, sz);
        uint64_t acc = get(cpu, in, R_EAX, sz);
        alu(cpu, 7, acc, d, sz);
        if (acc == d) {
            /* The accumulator is not written: with a 32-bit operand RAX
               keeps its upper half (hardware and qemu-x86_64 agree;
               user-diff64 compares with the host CPU). */
            rm_write(cpu, in, get(cpu, in, in->reg, sz), sz);
        } else {
            /* Memory gets the write cycle (SDM CMPXCHG); a register
               destination is not written at all, so a 32-bit one keeps
               its upper half. */
            if (in->mod != 3) {
                rm_write(cpu, in, d, sz);
            }
            set(cpu, in, R_EAX, d, sz);
        }
        return;
    }
    case 0x1c0: case 0x1c1: { /* XADD: the store before the register
                                    (which may be the base) changes */
        uint64_t s = get(cpu, in, in->reg, sz);
        if (in->mod == 3) {
            uint64_t d = get(cpu, in, in->rm, sz);
            uint64_t r = alu(cpu, 0, d, s, sz);
            set(cpu, in, in->reg, d, sz);
            set(cpu, in, in->rm, r, sz);
        } else {
            uint64_t a = mem_addr(cpu, in);
            uint64_t d = rd(cpu, a, sz);
            uint64_t r = alu(cpu, 0, d, s, sz);
            wr(cpu, a, r, sz);
            set(cpu, in, in->reg, d, sz);
        }
        return;
    }
    case 0x1c8 ... 0x1cf: {
        unsigned r = (op & 7) | (in->rex & 1 ? 8 : 0);
        uint64_t v = cpu->regs[r];
        set(cpu, in, r, sz == 8 ? __builtin_bswap64(v)
                                : __builtin_bswap32((uint32_t)v), sz);
        return;
    }
    case 0x6c ... 0x6f: /* INS, OUTS */
        string_op(cpu, in, op);
        return;
    case 0xd7: { /* XLAT: [RBX + AL] */
        uint64_t off = areg(cpu, in, R_EBX) + (cpu->regs[R_EAX] & 0xff);
        off = in->asz == 4 ? (uint32_t)off : off;
        set(cpu, in, R_EAX, rd(cpu, lin(cpu, in->seg, off), 1), 1);
        return;
    }
    case 0xf1: case 0x9b: /* INT1, FWAIT */
        legacy64(cpu, in, op, false, true);
        return;
    case 0xd8 ... 0xdf: /* x87 */
        legacy64(cpu, in, op, true, true);
        return;
    case 0x10b: case 0x1b9: /* UD2, UD1 */
    case 0x1aa: /* RSM: not in SMM */
        x86_ud(cpu);
    case 0x10d: case 0x118 ... 0x11f: /* hint NOPs, PREFETCHh: no access */
        return;
    case 0x121: case 0x123: /* MOV r64, DRn / MOV DRn, r64 */
        if (in->reg > 7) {
            x86_ud(cpu); /* REX.R: DR8..DR15 do not exist */
        }
        if (op == 0x123 && (in->reg == 6 || in->reg == 7 ||
                            ((in->reg == 4 || in->reg == 5) &&
                             !(cpu->cr4 & CR4_DE))) &&
            (cpu->regs[in->rm] >> 32) && cpu->cpl == 0) {
            GP0(cpu); /* DR6/DR7 bits 63:32 must be zero */
        }
        legacy64(cpu, in, op, false, false);
        return;
    case 0x102: case 0x103: /* LAR, LSL */
        legacy64(cpu, in, op, true, true);
        return;
    case 0x1a4: case 0x1a5: case 0x1ac: case 0x1ad:
        shxd64(cpu, in, op < 0x1ac,
               (op & 1) ? cpu->regs[R_ECX] & 0xff : in->imm & 0xff);
        return;
    case 0x1b2: case 0x1b4: case 0x1b5: { /* LSS, LFS, LGS m16:16/32/64 */
        if (in->mod == 3) {
            x86_ud(cpu);
        }
        uint64_t a = mem_addr(cpu, in);
        uint64_t off = rd(cpu, a, sz);
        uint16_t sel = rd(cpu, lin(cpu, in->seg, ea(cpu, in) + sz), 2);
        int s = op == 0x1b2 ? S_SS : op == 0x1b4 ? S_FS : S_GS;
        if (s == S_SS && (sel & ~3u) == 0 && cpu->cpl < 3) {
            flat_ss(cpu, sel, cpu->cpl); /* a null SS in 64-bit mode */
        } else {
            x86_load_seg(cpu, s, sel);
        }
        set(cpu, in, in->reg, off, sz);
        return;
    }
    }
    x86_op_unimpl64(cpu, in);
}
