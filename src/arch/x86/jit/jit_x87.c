/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x87 stretches on the host FPU (issue 16).
 *
 * A run of consecutive guest x87 instructions in a block is translated to
 * the same x87 instructions for the host FPU (register forms verbatim,
 * undocumented aliases mapped as x87.c maps them, memory forms as
 * `op [rax]` on the host address that the JIT's TLB fast path found) with
 * the guest's state loaded into the host FPU at the stretch's start and
 * written back at its end, under the guest's control word (precision and
 * rounding control exact).  Two forms of load and write-back:
 *
 * - full (FRSTOR of the state as an FSAVE image, FNSAVE back, the host's
 *   control word restored): exactly x87.c's full-state path for one
 *   instruction without the FNSAVE/FRSTOR pairs in between;
 * - light, when every instruction of the stretch has a fast plan in
 *   x87.c (x87_fast_effect): FLD of the guest's live registers onto the
 *   empty host stack (TOP aligned), FSTP back, the status word merged as
 *   x87.c's fast path merges it (the condition codes the stretch writes
 *   from the host, the others from memory, the sticky flags ORed), and
 *   the registers about to be popped stored first; only a stack that
 *   cannot under- or overflow in the stretch is loaded this way.
 *
 * Either way results are those of the interpreter bit for bit as long as
 * the host never takes an x87 exception: the stretch runs natively only
 * when the guest masks every exception, has none pending (ES) and CR0.EM
 * and CR0.TS are clear (the load returns 0 otherwise and the stretch runs
 * as handler calls).  Nothing inside a native stretch can unmask one: the
 * control instructions (FLDCW, FLDENV, FRSTOR, FNINIT, FNCLEX, FNSTENV,
 * FNSAVE, FNSTCW) and the instructions that touch EFLAGS (FCOMI, FCMOVcc)
 * are not run natively: the state is written back, the instruction's
 * handler runs, and the state is loaded again (which checks again).  A
 * memory operand that misses the TLB fast path (a TLB miss, a page
 * crossing, MMIO, a code page, a limit or right problem) writes the state
 * back as it was before the instruction and runs the rest of the stretch
 * as handler calls, so a #PF or #GP leaves the guest's x87 state exactly
 * as the interpreter would: every fault comes from a handler that runs
 * with the state in memory and the host's control word back.
 *
 * Not precise in Linux user mode: there a guest access to an unmapped
 * page faults on the host inside the fast path; the x87 state is then
 * the one of the stretch's start (see docs/jit.md).
 *
 * Specification: Intel SDM Vol. 1 ch. 8 (x87 state, FSAVE image, stack
 * faults), Vol. 2 (FRSTOR, FNSAVE, FLD, FSTP, FINCSTP, FNSTSW).
 */
#include "arch/x86/jit/jit_x87.h"

#include <stddef.h>

#include "arch/x86/ops.h"
#include "arch/x86/x87.h"

uint64_t x86_jit_x87_stretches, x86_jit_x87_native, x86_jit_x87_loads;

/* The host's control word while a stretch has the guest's loaded, and
   (light form) the stack depth at the segment's start. */
static __thread uint16_t host_cw;
static __thread int seg_k0;

/* x87_enter's argument: the light form and its depth range. */
#define ENTER_LIGHT (1u << 16)
/* x87_leave's: the light form, the condition codes written and the stack
   depth change since the load. */
#define LEAVE_LIGHT (1u << 24)

static unsigned tag_of(const X87State *st, unsigned phys)
{
    return (st->ftw >> (2 * phys)) & 3;
}

/*
 * Load the guest's x87 state into the host FPU, if the segment may run
 * natively: every exception masked, none pending, no #NM.  The full form
 * (FRSTOR) takes any state.  The light form (a few FLDs) needs the guest's
 * stack contiguous (ST0..ST(k-1) full, the rest empty) with kmin <= k <=
 * kmax, so that the segment neither under- nor overflows: it puts the
 * host's TOP where the guest's is, clears the host's sticky exception
 * flags only if it has one the guest has not, and loads the guest's
 * control word only if it differs from the host's.  The status word's
 * condition codes stay in memory; x87_leave merges them.
 */
static uint32_t x87_enter(X86Cpu *cpu, uint32_t arg)
{
    const X87State *st = &cpu->fpu;
    uint8_t img[X87_FSAVE_SIZE];

    if ((cpu->cr0 & (CR0_EM | CR0_TS)) || (st->fcw & 0x3f) != 0x3f ||
        (st->fsw & X87_SW_ES)) {
        return 0;
    }
    if (!(arg & ENTER_LIGHT)) {
        x87_to_fsave(st, img);
        __asm__ volatile("fnstcw %0\n\t"
                         "frstor %1"
                         : "=m"(host_cw)
                         : "m"(*(const uint8_t(*)[X87_FSAVE_SIZE])img));
        x86_jit_x87_loads++;
        return 1;
    }
    unsigned top = x87_top(st);
    int k = 0;
    while (k < 8 && tag_of(st, (top + k) & 7) != X87_TAG_EMPTY) {
        k++;
    }
    for (int j = k; j < 8; j++) {
        if (tag_of(st, (top + j) & 7) != X87_TAG_EMPTY) {
            return 0;
        }
    }
    if (k < (int)(arg & 0xff) || k > (int)((arg >> 8) & 0xff)) {
        return 0;
    }
    uint16_t hsw;
    __asm__ volatile("fnstsw %0\n\t"
                     "fnstcw %1"
                     : "=m"(hsw), "=m"(host_cw));
    if (hsw & 0x7f & ~st->fsw) {
        __asm__ volatile("fnclex");
    }
    if (st->fcw != host_cw) {
        __asm__ volatile("fldcw %0" : : "m"(st->fcw));
    }
    /* The host's stack is empty: TOP to where k pushes end at the
       guest's TOP. */
    for (unsigned h = (hsw >> 11) & 7; h != ((top + k) & 7); h = (h + 1) & 7) {
        __asm__ volatile("fincstp");
    }
    for (int i = k - 1; i >= 0; i--) {
        __asm__ volatile("fldt %0" : : "m"(st->r[(top + i) & 7]));
    }
    seg_k0 = k;
    x86_jit_x87_loads++;
    return 1;
}

/* Take the state back and restore the host's control word.  Full form:
   FNSAVE (which leaves the host FPU initialised).  Light form: the status
   word (the condition codes the segment wrote from the host, the others
   as they were, the sticky flags ORed), then FSTP of what is on the
   stack, which leaves it empty.  nc: the last non-control instruction run
   natively since the load, mem: the last with a memory operand (its FDP
   was stored by the generated code). */
static void x87_leave(X86Cpu *cpu, const X86Insn *nc, const X86Insn *mem,
                      uint32_t arg)
{
    X87State *st = &cpu->fpu;
    uint8_t img[X87_FSAVE_SIZE];

    if (!(arg & LEAVE_LIGHT)) {
        __asm__ volatile("fnsave %0\n\t"
                         "fldcw %1"
                         : "=m"(*(uint8_t(*)[X87_FSAVE_SIZE])img)
                         : "m"(host_cw));
        x87_from_fsave(st, img);
    } else {
        uint16_t hsw, w = (uint16_t)arg;
        int depth = seg_k0 + (int)((arg >> 16) & 0xff) - 8;
        __asm__ volatile("fnstsw %0" : "=m"(hsw));
        unsigned top = (hsw >> 11) & 7;
        uint16_t ftw = 0xffff;
        for (int i = 0; i < depth; i++) {
            unsigned phys = (top + i) & 7;
            __asm__ volatile("fstpt %0" : "=m"(st->r[phys]));
            ftw = (uint16_t)((ftw & ~(3u << (2 * phys))) |
                             x87_classify_tag(st->r[phys]) << (2 * phys));
        }
        st->ftw = ftw;
        st->fsw = (uint16_t)((hsw & (w | X87_SW_TOP | 0x3f)) |
                             (st->fsw & ~(w | X87_SW_TOP)));
        if (st->fcw != host_cw) {
            __asm__ volatile("fldcw %0" : : "m"(host_cw));
        }
    }
    if (nc) {
        st->fop = (uint16_t)((nc->op & 7) << 8 | nc->modrm);
        st->fip = (uint32_t)nc->ip;
        st->fcs = cpu->seg[S_CS].sel;
    }
    if (mem) {
        st->fds = cpu->seg[mem->seg].sel;
    }
}

static bool is_x87(const TBlock *tb, const X86Insn *in)
{
    return (tb->flags & ~7u) == 0 && !in->op0f && in->op >= 0xd8 &&
           in->op <= 0xdf && in->fn == x86_h_esc && !in->lock;
}

/* FNSTSW AX: the host's status word is (mostly) the guest's. */
static bool is_fnstsw_ax(const X86Insn *in)
{
    return in->op == 0xdf && in->modrm == 0xe0;
}

static bool native(const JitX87Helpers *h, const X86Insn *in, uint8_t *hop,
                   uint8_t *hmodrm, unsigned *len, bool *store)
{
    if (is_fnstsw_ax(in)) {
        *hop = 0xdf;
        *hmodrm = 0xe0;
        *len = 0;
        *store = false;
        return true;
    }
    if (!x87_native_form(in->op, in->modrm, hop, hmodrm, len, store)) {
        return false;
    }
    return *len == 0 || (h->ea_ok(in) && in->seg < 6);
}

#define CPU_OFF(f) ((int32_t)offsetof(X86Cpu, f))
#define FPU_OFF(f) (CPU_OFF(fpu) + (int32_t)offsetof(X87State, f))

/* The light form's depth range for the segment of native instructions
   from k: the loaded stack must hold what they read and leave room for
   what they push (and for the copy emit_save_popped pushes). */
static uint32_t light_range(const JitX87Helpers *h, const TBlock *tb, int k,
                            int end)
{
    int d = 0, kmin = 0, kmax = 8;
    uint8_t hop, hmodrm;
    unsigned len, need;
    bool store;
    int pops;
    uint16_t cb;

    for (; k < end && native(h, &tb->insn[k], &hop, &hmodrm, &len, &store);
         k++) {
        const X86Insn *in = &tb->insn[k];
        if (is_fnstsw_ax(in) ||
            !x87_fast_effect(in->op, in->modrm, &need, &pops, &cb)) {
            continue;
        }
        kmin = MAX(kmin, (int)need - d);
        if (pops != 0) {
            /* a push needs room, and so does a pop: emit_save_popped
               pushes a copy first */
            kmax = MIN(kmax, 7 - d);
        }
        d -= pops;
    }
    if (kmin > kmax) {
        kmin = 9; /* never: the handler calls */
    }
    return ENTER_LIGHT | (uint32_t)kmin | (uint32_t)kmax << 8;
}

G_STATIC_ASSERT(sizeof(X87Reg) == 16);

/*
 * Light form, before an instruction that pops: a popped register keeps its
 * contents (FSAVE shows them), and the light leave stores only what is
 * still on the stack, so the registers about to be popped go to the
 * guest's now: ST(j) is physical register (TOP at the load - d + j) & 7.
 * (FLD ST(j) needs a free register: light_range sees to it; FLD ST(j) and
 * FSTP m80 raise nothing, and the instruction that follows sets C1.)
 */
static void emit_save_popped(Asm *a, int d, int pops)
{
    for (int j = 0; j < pops; j++) {
        a_ldzx16(a, H_RAX, H_RBX, FPU_OFF(fsw));
        a_shr32_ri(a, H_RAX, X87_SW_TOP_SHIFT);
        a_alu_ri(a, false, 0, H_RAX, 16 - d + j);
        a_alu_ri(a, false, 4, H_RAX, 7);
        a_shl32_ri(a, H_RAX, 4);
        a_lea_bi(a, H_RAX, H_RBX, H_RAX, FPU_OFF(r));
        a_byte(a, 0xd9); /* fld st(j) */
        a_byte(a, (uint8_t)(0xc0 + j));
        a_byte(a, 0xdb); /* fstp tword [rax] */
        a_byte(a, 0x38);
    }
}

static void emit_enter(Asm *a, uint32_t arg, AsmFixup *fail)
{
    a_mov_rr(a, H_RDI, H_RBX);
    a_mov_ri(a, H_RSI, arg);
    a_call(a, (const void *)x87_enter);
    a_op_rr(a, false, 0x85, H_RAX, H_RAX); /* test eax, eax */
    *fail = a_jcc_fwd(a, CC_E);
}

static void emit_leave(Asm *a, const X86Insn *nc, const X86Insn *mem,
                       uint32_t arg)
{
    a_mov_rr(a, H_RDI, H_RBX);
    a_mov_ri(a, H_RSI, (uint64_t)(uintptr_t)nc);
    a_mov_ri(a, H_RDX, (uint64_t)(uintptr_t)mem);
    a_mov_ri(a, H_RCX, arg);
    a_call(a, (const void *)x87_leave);
}

/* After a handler call inside a block: leave it if the instruction asked
   to (tb_dirty, block_end), as jit.c does. */
static void emit_exit_check(Asm *a, const TBlock *tb, int k, AsmFixup *ex,
                            int *nex)
{
    if (k + 1 < tb->n) {
        a_cmp16_mem_imm8(a, H_RBX, CPU_OFF(tb_dirty), 0);
        ex[(*nex)++] = a_jcc_fwd(a, CC_NE);
    }
}

int x86_jit_x87_stretch(Asm *a, const TBlock *tb, int i,
                        const JitX87Helpers *h, AsmFixup *out)
{
    uint8_t hop, hmodrm;
    unsigned len, need;
    bool store;
    int pops;
    uint16_t cb;
    int end = i; /* one past the last native instruction */
    bool light = true;

    *out = NULL;
    if (!is_x87(tb, &tb->insn[i]) ||
        !native(h, &tb->insn[i], &hop, &hmodrm, &len, &store)) {
        return 0;
    }
    for (int k = i; k < tb->n && is_x87(tb, &tb->insn[k]); k++) {
        const X86Insn *in = &tb->insn[k];
        if (native(h, in, &hop, &hmodrm, &len, &store)) {
            end = k + 1;
            light = light && (is_fnstsw_ax(in) ||
                              x87_fast_effect(in->op, in->modrm, &need,
                                              &pops, &cb));
        }
    }

    /* Per instruction k of the stretch: the branches to its handler-call
       version (the load refused, or a memory operand off the fast path),
       and exits from the block. */
    AsmFixup fb[TB_MAX_INSNS + 1][2];
    int nfb[TB_MAX_INSNS + 1] = { 0 };
    AsmFixup ex[2 * TB_MAX_INSNS];
    int nex = 0;
    const X86Insn *nc = NULL, *mem = NULL;
    uint16_t w = 0; /* light: condition codes written since the load */
    int d = 0;      /* light: stack depth change since the load */
#define LEAVE_ARG (light ? LEAVE_LIGHT | (uint32_t)(d + 8) << 16 | w : 0)

    h->flush_regs(a);
    emit_enter(a, light ? light_range(h, tb, i, end) : 0, &fb[i][nfb[i]++]);
    for (int k = i; k < end; k++) {
        const X86Insn *in = &tb->insn[k];
        if (!native(h, in, &hop, &hmodrm, &len, &store)) {
            /* In the handler, with the state in memory. */
            emit_leave(a, nc, mem, LEAVE_ARG);
            h->call_insn(a, tb, k);
            emit_exit_check(a, tb, k, ex, &nex);
            emit_enter(a, light ? light_range(h, tb, k + 1, end) : 0,
                       &fb[k + 1][nfb[k + 1]++]);
            h->flush_regs(a);
            nc = mem = NULL;
            w = 0;
            d = 0;
            continue;
        }
        x86_jit_x87_native++;
        uint16_t w_before = w;
        int d_before = d;
        if (light && !is_fnstsw_ax(in)) {
            x87_fast_effect(in->op, in->modrm, &need, &pops, &cb);
            emit_save_popped(a, d, pops);
            w |= cb;
            d -= pops;
        }
        if (is_fnstsw_ax(in)) {
            a_byte(a, 0xdf);
            a_byte(a, 0xe0);
            if (light) {
                /* the condition codes not written yet from memory */
                uint16_t m = w | X87_SW_TOP;
                a_alu_ri(a, false, 4, H_RAX, m | 0x3f);
                a_ldzx16(a, H_RDX, H_RBX, FPU_OFF(fsw));
                a_alu_ri(a, false, 4, H_RDX, (uint16_t)~m);
                a_alu32_rr(a, 0x09, H_RAX, H_RDX);
            }
            a_byte(a, 0x66); /* mov [cpu->regs[EAX]], ax */
            a_op_mem(a, false, 0x89, H_RAX, H_RBX, CPU_OFF(regs));
            h->flush_regs(a); /* a cached EAX is stale */
            continue;
        }
        if (len == 0) {
            a_byte(a, hop);
            a_byte(a, hmodrm);
            nc = in;
            continue;
        }
        /* A memory operand: the TLB fast path, the instruction on
           [rax], FDP = the offset; else the state goes back to memory
           and the rest of the stretch runs as handler calls. */
        AsmFixup slow[8];
        int ns = 0;
        h->ea32(a, in);
        a_mov_rr(a, H_R13, H_RAX);
        h->fast_host(a, in->seg, store, slow, &ns, len);
        a_byte(a, hop);
        a_byte(a, hmodrm); /* [rax] */
        a_st32(a, H_RBX, FPU_OFF(fdp), H_R13);
        AsmFixup done = a_jmp_fwd(a);
        for (int s = 0; s < ns; s++) {
            a_bind(a, slow[s]);
        }
        /* (the state before this instruction) */
        emit_leave(a, nc, mem, light ? LEAVE_LIGHT |
                   (uint32_t)(d_before + 8) << 16 | w_before : 0);
        fb[k][nfb[k]++] = a_jmp_fwd(a);
        a_bind(a, done);
        h->flush_regs(a);
        nc = mem = in;
    }
    emit_leave(a, nc, mem, LEAVE_ARG);
#undef LEAVE_ARG
    AsmFixup done = a_jmp_fwd(a);

    /* The stretch as handler calls, from wherever the native code
       stopped. */
    for (int k = i; k < end; k++) {
        for (int f = 0; f < nfb[k]; f++) {
            a_bind(a, fb[k][f]);
        }
        h->call_insn(a, tb, k);
        emit_exit_check(a, tb, k, ex, &nex);
    }
    for (int f = 0; f < nfb[end]; f++) {
        a_bind(a, fb[end][f]);
    }
    if (nex) {
        AsmFixup over = a_jmp_fwd(a);
        for (int e = 0; e < nex; e++) {
            a_bind(a, ex[e]);
        }
        *out = a_jmp_fwd(a);
        a_bind(a, over);
    }
    a_bind(a, done);
    h->flush_regs(a);
    x86_jit_x87_stretches++;
    return end - i;
}
