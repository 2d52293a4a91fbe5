/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 CPU object behind CpuOps ("pentium2"): creation, reset, the
 * dispatch loop over translation blocks, interrupts (INTR, NMI), exception
 * unwinding (longjmp to the loop), double and triple faults, icount
 * accounting, saved state and the monitor helpers.
 *
 * Specification: SDM Vol. 3A 9.1 (processor state after reset), 6.15
 * (exception classes, double fault), 6.8.3 (interrupt shadow after STI and
 * MOV SS).
 */
#include "arch/x86/ops.h"
#include "arch/x86/jit/jit.h"

/* Capstone is linked when meson's capstone_dep is found (HAVE_CAPSTONE);
   the layer rules keep config.h out of arch/, so test for the header. */
#if defined(__has_include)
#if __has_include(<capstone/capstone.h>)
#include <capstone/capstone.h>
#define USE_CAPSTONE 1
#endif
#endif

extern const CpuOps x86_cpu_ops;

/* The models (-cpu NAME).  pentium2 is the core's own name and the
   default; the 64-bit ones add long mode and what goes with it.  CPUID
   shows exactly these features (x86_cpuid; the SSE family as far as
   exec_sse.c implements it, x86_sse_features). */
#define X86F_ALL64 (X86F_LM | X86F_NX | X86F_SYSCALL | X86F_LAHF_LM)
#define X86F_SSE_V2 (X86F_SSE | X86F_SSE2 | X86F_SSE3 | X86F_SSSE3 | \
                     X86F_SSE41 | X86F_SSE42 | X86F_POPCNT)
const X86Model x86_models[] = {
    { "pentium2", "Intel Pentium II class IA-32 CPU (P6, MMX)", 0, 0x652,
      36 },
    { "pentium3", "Intel Pentium III class IA-32 CPU (P6, MMX, SSE)",
      X86F_SSE, 0x673, 36 },
    { "pentium4", "Intel Pentium 4 class IA-32 CPU (SSE, SSE2)",
      X86F_SSE | X86F_SSE2, 0xf29, 36 },
    { "qemu64", "x86-64 CPU: long mode, NX, SYSCALL, SSE to SSE3",
      X86F_ALL64 | X86F_SSE | X86F_SSE2 | X86F_SSE3, 0x663, 40 },
    { "Nehalem", "Intel Core i7 class x86-64 CPU (SSE to SSE4.2, POPCNT)",
      X86F_ALL64 | X86F_SSE_V2, 0x106a2, 40 },
    { "max", "every feature the core implements (Nehalem plus 1 GiB "
      "pages, RDTSCP, XSAVE, FSGSBASE)", X86F_ALL64 | X86F_PDPE1GB |
      X86F_RDTSCP | X86F_SSE_V2 | X86F_XSAVE | X86F_FSGSBASE, 0x663, 40 },
};
const unsigned x86_n_models = G_N_ELEMENTS(x86_models);
static const char *const x86_model_names[] = {
    "pentium3", "pentium4", "qemu64", "Nehalem", "max", "x86_64", NULL,
};

static const X86Model *x86_model_find(const char *name)
{
    if (!name) {
        return &x86_models[0];
    }
    if (!strcmp(name, "x86_64")) {
        name = "qemu64";
    }
    for (unsigned i = 0; i < x86_n_models; i++) {
        if (!strcmp(x86_models[i].name, name)) {
            return &x86_models[i];
        }
    }
    return NULL;
}

static inline X86Cpu *x86_cpu_of(Cpu *c)
{
    return (X86Cpu *)c;
}

G_NORETURN void x86_raise(X86Cpu *cpu, int vec, uint32_t err)
{
    if (cpu->cur && !cpu->eip_fixed) {
        cpu->rip = cpu->cur->ip;
    }
    cpu->eip_fixed = false;
    cpu->exc_vec = vec;
    cpu->exc_err = err;
    longjmp(cpu->jb, 1);
}

static bool has_error_code(int vec)
{
    return vec == EX_DF || (vec >= EX_TS && vec <= EX_PF) || vec == EX_AC;
}

static bool contributory(int vec)
{
    return vec == EX_DE || (vec >= EX_TS && vec <= EX_GP);
}

static void x86_reset(Cpu *c)
{
    X86Cpu *cpu = x86_cpu_of(c);
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EDX] = cpu->model->cpuid1_eax;
    cpu->rip = 0xfff0;
    cpu->eflags = 2;
    cpu->lf_op = LF_NONE;
    for (int s = 0; s < 6; s++) {
        SegCache *sc = &cpu->seg[s];
        sc->sel = 0;
        sc->base = 0;
        sc->limit = 0xffff;
        sc->flags = 0x93;
        sc->lo = 0;
        sc->hi = 0xffff;
        sc->wok = sc->rok = true;
    }
    cpu->seg[S_CS].sel = 0xf000;
    cpu->seg[S_CS].base = 0xffff0000u;
    cpu->seg[S_CS].flags = 0x9b;
    cpu->gdt.base = 0;
    cpu->gdt.limit = 0xffff;
    cpu->idt.base = 0;
    cpu->idt.limit = 0xffff;
    memset(&cpu->ldt, 0, sizeof(cpu->ldt));
    cpu->ldt.limit = 0xffff;
    cpu->ldt.flags = 0x82;
    memset(&cpu->tr, 0, sizeof(cpu->tr));
    cpu->tr.limit = 0xffff;
    cpu->tr.flags = 0x8b;
    cpu->cr0 = 0x60000010;
    cpu->cr2 = cpu->cr3 = cpu->cr4 = 0;
    memset(cpu->dr, 0, sizeof(cpu->dr));
    cpu->dr[6] = 0xffff0ff0;
    cpu->dr[7] = 0x400;
    cpu->tsc_offset = -(uint64_t)clock_now(cpu->bus.clock);
    cpu->apic_base = 0xfee00900ull;
    cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
    cpu->mtrr_cap_def = 0;
    memset(cpu->mtrr_fixed, 0, sizeof(cpu->mtrr_fixed));
    memset(cpu->mtrr_var, 0, sizeof(cpu->mtrr_var));
    cpu->pat = 0x0007040600070406ull;
    cpu->misc_enable = 1;
    cpu->efer = 0;
    cpu->lma = false;
    cpu->star = cpu->lstar = cpu->cstar = cpu->sfmask = 0;
    cpu->kernel_gs_base = cpu->tsc_aux = 0;
    x87_reset(&cpu->fpu);
    memset(cpu->xmm, 0, sizeof(cpu->xmm));
    cpu->xcr0 = 1;
    cpu->halted = false;
    cpu->nmi_pending = false;
    cpu->nmi_blocked = false;
    cpu->inhibit = false;
    cpu->ferr = false; /* the board's FERR#/IGNNE# logic resets too */
    cpu->ignne = false;
    cpu->undone = false;
    cpu->shutdown = false;
    cpu->dbg_pending = 0;
    cpu->dbg_defer = false;
    cpu->eip_fixed = false;
    x86_dbg_update(cpu);
    cpu->a20_mask = ~(uint64_t)0;
    cpu->lin_mask = 0xffffffffu;
    cpu->cur = NULL;
    x86_update_mode(cpu);
    x86_mmu_mode_changed(cpu);
    x86_tb_flush(cpu);
}

static Cpu *x86_create(const CpuWiring *bus, GError **error)
{
    const X86Model *model = x86_model_find(bus->model);
    if (!model) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "x86: unknown CPU model '%s'", bus->model);
        return NULL;
    }
    X86Cpu *cpu = g_malloc0(sizeof(*cpu));
    cpu->base.ops = &x86_cpu_ops;
    cpu->model = model;
    cpu->phys_mask = (1ull << model->phys_bits) - 1;
    cpu->bus = *bus;
    x86_tb_init(cpu);
    if (bus->engine != CPU_ENGINE_INTERP) {
        cpu->jit = x86_jit_new(X86_JIT_THRESHOLD);
    }
    memmap_add_listener(bus->mem, x86_mem_listener, cpu);
    memmap_set_code_write_hook(bus->mem, x86_code_write, cpu);
    x86_reset(&cpu->base);
    return &cpu->base;
}

static void x86_destroy(Cpu *c)
{
    X86Cpu *cpu = x86_cpu_of(c);
    memmap_set_code_write_hook(cpu->bus.mem, NULL, NULL);
    x86_tb_free(cpu);
    x86_jit_free(cpu->jit);
    g_free(cpu);
}

/* Called after longjmp: deliver the pending exception, escalating to a
   double fault or shutdown. */
static void deliver_exception(X86Cpu *cpu)
{
    int vec = cpu->exc_vec;
    uint32_t err = cpu->exc_err;
    cpu->cur = NULL;
    if (cpu->delivering) {
        int first = cpu->deliver_vec;
        if (first == EX_DF) {
            mimic_log_guest("x86: triple fault at %04x:%08x\n",
                            cpu->seg[S_CS].sel, (uint32_t)cpu->rip);
            cpu->delivering = false;
            cpu->shutdown = true;
            return;
        }
        if ((contributory(first) && contributory(vec)) ||
            (first == EX_PF && (vec == EX_PF || contributory(vec)))) {
            vec = EX_DF;
            err = 0;
        }
    }
    cpu->delivering = true;
    cpu->deliver_vec = vec;
    if (vec != EX_DB && vec != EX_DF) {
        /* Faults push EFLAGS with RF set so that the restarted
           instruction does not hit its instruction breakpoint again
           (SDM Vol. 3B 17.3.1.1). */
        cpu->eflags |= F_RF;
    }
    x86_interrupt(cpu, vec, 0, has_error_code(vec), err, cpu->rip);
    cpu->delivering = false;
}

/* Deliver the #DB traps collected in dbg_pending (EIP is the next
   instruction's). */
static void deliver_debug_trap(X86Cpu *cpu)
{
    uint32_t bits = cpu->dbg_pending;
    cpu->dbg_pending = 0;
    cpu->halted = false; /* a trap after HLT runs its handler */
    cpu->dr[6] = (cpu->dr[6] & ~0xfu) | bits;
    cpu->exc_vec = EX_DB;
    cpu->exc_err = 0;
    deliver_exception(cpu);
}

/* Before an instruction: pending #DB traps, then instruction breakpoints
   (faults, unless RF).  Both come before fetching the instruction and its
   faults (SDM Vol. 3A 6.9, table 6-2: priority 4 before 6), so the loop
   also calls this before translating a block.  True if it delivered. */
static bool debug_before_insn(X86Cpu *cpu)
{
    if (cpu->dbg_pending && !cpu->dbg_defer) {
        deliver_debug_trap(cpu); /* e.g. the TSS T bit after a switch */
        return true;
    }
    if (cpu->dbg_exec && !(cpu->eflags & F_RF)) {
        unsigned hits = x86_dbg_exec_match(cpu, cpu->seg[S_CS].base +
                                                cpu->rip);
        if (hits) {
            cpu->dr[6] = (cpu->dr[6] & ~0xfu) | hits;
            cpu->exc_vec = EX_DB;
            cpu->exc_err = 0;
            deliver_exception(cpu);
            return true;
        }
    }
    return false;
}

/* One instruction with the debug checks: those before it
   (debug_before_insn), then the single-step and data breakpoint traps
   after it, deferred past an instruction that loads SS.  Returns the
   number of instructions completed (0 or 1). */
static int run_debug_insn(X86Cpu *cpu, TBlock *tb)
{
    const X86Insn *in = tb->insn;
    if (debug_before_insn(cpu)) {
        return 0;
    }
    bool tf = cpu->eflags & F_TF;
    cpu->eflags &= ~F_RF;
    cpu->soft_int = false;
    cpu->dbg_hits = 0;
    cpu->cur = in;
    cpu->rip = in->ip + in->len;
    in->fn(cpu, in);
    cpu->cur = NULL;
    if (G_UNLIKELY(cpu->undone)) {
        cpu->undone = false; /* stopped before it (FERR#): no trap yet */
        return 0;
    }
    if (tf && !cpu->soft_int) {
        cpu->dbg_pending |= DR6_BS;
    }
    cpu->dbg_pending |= cpu->dbg_hits;
    bool ss_load = (in->fn == x86_h_mov_sreg_rm && in->reg == S_SS) ||
                   (in->fn == x86_h_pop_sreg && !in->op0f && in->op == 0x17);
    cpu->dbg_defer = ss_load;
    if (cpu->dbg_pending && !ss_load) {
        deliver_debug_trap(cpu);
    }
    return 1;
}

static void check_interrupts(X86Cpu *cpu)
{
    if (cpu->nmi_pending && !cpu->nmi_blocked) {
        cpu->nmi_pending = false;
        cpu->nmi_blocked = true;
        cpu->halted = false;
        cpu->delivering = true;
        cpu->deliver_vec = EX_NMI;
        x86_interrupt(cpu, EX_NMI, 2, false, 0, cpu->rip);
        cpu->delivering = false;
        return;
    }
    if (cpu->irq_line && (cpu->eflags & F_IF)) {
        int vec = cpu->bus.intr_ack(cpu->bus.intr_opaque);
        cpu->halted = false;
        if (vec < 0) {
            return;
        }
        cpu->delivering = true;
        cpu->deliver_vec = -1;
        x86_interrupt(cpu, vec & 0xff, 2, false, 0, cpu->rip);
        cpu->delivering = false;
    }
}

static int64_t x86_run(Cpu *c, int64_t budget, CpuExit *why)
{
    X86Cpu *cpu = x86_cpu_of(c);
    Clock *clk = cpu->bus.clock;
    bool icount = clk && clk->mode == CLOCK_MODE_ICOUNT;
    volatile int64_t executed = 0;
    CpuExit r = CPU_EXIT_BUDGET;
    bool log_exec = mimic_log_enabled(LOG_EXEC);
    bool log_cpu = mimic_log_enabled(LOG_CPU);
    TBlock *prev = NULL; /* last block run (successor cache) */
    volatile bool in_jit = false; /* translated code runs (statistics) */

    if (cpu->jit) {
        x86_jit_check_fork(cpu);
    }

    if (setjmp(cpu->jb)) {
        /* An exception inside a block or during delivery. */
        TBlock *tb = cpu->cur_tb;
        if (tb && cpu->cur) {
            int64_t done = cpu->cur - tb->insn; /* faulting insn not done */
            executed += done;
        }
        if (in_jit) {
            in_jit = false;
            cpu->jit->exits[JIT_EXIT_FAULT]++;
            executed += cpu->jit_done; /* chained blocks before it */
            cpu->jit_done = 0;
        }
        c->progress = executed;
        cpu->cur_tb = NULL;
        prev = NULL;
        deliver_exception(cpu);
    }
    for (;;) {
        cpu->cur = NULL;
        cpu->cur_tb = NULL;
        if (cpu->shutdown) {
            cpu->shutdown = false;
            if (cpu->bus.shutdown) {
                cpu->bus.shutdown(cpu->bus.shutdown_opaque);
            }
            r = CPU_EXIT_SHUTDOWN;
            break;
        }
        /* A plain load first: the exchange is a locked bus cycle on the
           host, far too dear for every block. */
        if (G_UNLIKELY(atomic_load_explicit(&cpu->exit_req,
                                            memory_order_relaxed)) &&
            atomic_exchange(&cpu->exit_req, 0)) {
            r = CPU_EXIT_REQUEST;
            break;
        }
        bool shadow = cpu->inhibit;
        if (cpu->inhibit) {
            cpu->inhibit = false;
        } else if ((cpu->irq_line && (cpu->eflags & F_IF)) ||
                   (cpu->nmi_pending && !cpu->nmi_blocked)) {
            check_interrupts(cpu);
        }
        if (cpu->halted) {
            r = CPU_EXIT_HALTED;
            break;
        }
        if (executed >= budget) {
            r = CPU_EXIT_BUDGET;
            break;
        }
        TBlock *tb = NULL;
        uint32_t key = cpu->tb_gen | cpu->tlb_user;
        unsigned slot = 0;
        if (prev) {
            /* Successor cache: the same (EIP, CS base, mode) under the
               same TLB generation and privilege is the same block as
               x86_tb_find would return, without the hash walk. */
            slot = cpu->rip != prev->ip_next;
            TBlock *nt = prev->link[slot].tb;
            if (nt && prev->link[slot].key == key && nt->cb.valid &&
                nt->ip == cpu->rip &&
                nt->cs_base == cpu->seg[S_CS].base &&
                nt->flags == x86_tb_mode(cpu) &&
                (cpu->code64 || cpu->rip <= cpu->seg[S_CS].limit) &&
                !cpu->code.flush_pending) {
                tb = nt;
            }
        }
        if (!tb) {
            if (G_UNLIKELY(cpu->dbg_exec || cpu->dbg_pending) &&
                debug_before_insn(cpu)) {
                prev = NULL; /* not before the fetch's #PF (or #GP) */
                continue;
            }
            tb = x86_tb_find(cpu);
            /* A flush inside the lookup may have freed prev. */
            if (prev && cpu->tb_gen == (key & ~1u)) {
                prev->link[slot].tb = tb;
                prev->link[slot].key = key;
            }
        }
        prev = NULL;
        int n = tb->n;
        if (G_UNLIKELY((cpu->eflags & (F_TF | F_RF)) || cpu->dbg_exec ||
                       cpu->dbg_watch || cpu->dbg_io || cpu->dbg_pending)) {
            /* Debug features on: one instruction at a time. */
            c->progress = executed + 1;
            cpu->cur_tb = tb;
            cpu->tb_dirty = false;
            cpu->block_end = false;
            int done = run_debug_insn(cpu, tb);
            executed += done;
            c->progress = executed;
            continue;
        }
        if (shadow) {
            /* The STI / MOV SS shadow covers one instruction only: stop
               after it so that a pending interrupt is taken before the
               next (SeaBIOS waits with "sti; nop; rep nop; cli"). */
            n = 1;
        }
        if (icount && executed + n > budget) {
            n = budget - executed;
        }
        if (icount) {
            c->progress = executed + n;
        }
        /* The JIT runs whole blocks; a block cut short (shadow, icount
           budget) or not yet hot runs in the interpreter. */
        bool jit = false;
        if (cpu->jit) {
            jit = n == tb->n &&
                  (tb->host || (tb->runs++ >= cpu->jit->threshold &&
                                x86_jit_translate(cpu, tb)));
            cpu->jit->interp_runs += !jit;
        }
        cpu->cur_tb = tb;
        cpu->tb_dirty = false;
        cpu->block_end = false;
        const X86Insn *in = tb->insn;
        const X86Insn *end = in + n;
        if (G_UNLIKELY(log_exec | log_cpu)) {
            if (log_exec) {
                mimic_log("x86: exec %04x:%08x\n", cpu->seg[S_CS].sel,
                          (uint32_t)cpu->rip);
            }
            if (log_cpu) {
                x86_log_state(cpu);
            }
        }
        if (jit) {
            /* Chained blocks (jit.c) complete up to the budget; not with
               -icount (blocks cut at the budget) nor per-block logs. */
            cpu->jit_done = 0;
            cpu->jit_limit = icount || log_exec || log_cpu
                             ? 0 : budget - executed;
            cpu->jit_hcall = true;
            in_jit = true;
            x86_jit_run(cpu, tb);
            in_jit = false;
            /* The block it left from (cur_tb) and those before it. */
            tb = cpu->cur_tb;
            executed += cpu->jit_done;
            cpu->jit_done = 0;
            end = tb->insn + tb->n;
            in = cpu->cur + 1;
            X86Jit *j = cpu->jit;
            j->runs++;
            j->exits[cpu->tb_dirty  ? JIT_EXIT_DIRTY
                     : in == end    ? JIT_EXIT_END
                                    : JIT_EXIT_BLOCK_END]++;
        } else {
            while (in < end) {
                cpu->cur = in;
                cpu->rip = in->ip + in->len;
                in->fn(cpu, in);
                in++;
                if (G_UNLIKELY(cpu->block_end | cpu->tb_dirty)) {
                    break;
                }
            }
        }
        int done = in - tb->insn;
        if (G_UNLIKELY(cpu->undone)) {
            cpu->undone = false; /* stopped before it (FERR#) */
            done--;
        }
        executed += done;
        prev = tb;
        if (icount) {
            c->progress = executed;
        }
    }
    c->progress = 0;
    cpu->cur = NULL;
    cpu->cur_tb = NULL;
    *why = r;
    return executed;
}

/* A line raised by the instruction executing (an I/O or MMIO write) ends
   its block, so the interrupt is taken at the next instruction boundary
   whatever the block layout: a run resumed from a state file, whose
   blocks are cut differently, takes it at the same instruction. */
static void x86_set_line(Cpu *c, unsigned line, bool level)
{
    X86Cpu *cpu = x86_cpu_of(c);
    switch (line) {
    case CPU_X86_INTR:
        cpu->irq_line = level;
        cpu->jit_hcall = true; /* chained JIT code: look at the lines */
        if (level && cpu->cur) {
            cpu->block_end = true;
        }
        break;
    case CPU_X86_NMI:
        if (level) {
            cpu->nmi_pending = true;
            cpu->jit_hcall = true;
            if (cpu->cur) {
                cpu->block_end = true;
            }
        }
        break;
    case CPU_X86_A20: {
        uint64_t m = level ? ~(uint64_t)0 : ~(uint64_t)(1u << 20);
        if (m != cpu->a20_mask) {
            cpu->a20_mask = m;
            x86_tlb_flush(cpu, true);
            x86_tb_flush(cpu);
        }
        break;
    }
    case CPU_X86_IGNNE:
        cpu->ignne = level;
        break;
    }
}

static void x86_exit_request(Cpu *c)
{
    atomic_store(&x86_cpu_of(c)->exit_req, 1);
}

static bool x86_is_halted(Cpu *c)
{
    return x86_cpu_of(c)->halted;
}

static void dump_seg(GString *out, const char *name, const SegCache *sc)
{
    g_string_append_printf(out, "%-3s=%04x %08x %08x %08x\n", name, sc->sel,
                           (uint32_t)sc->base, sc->limit, (uint32_t)sc->flags << 8);
}

static void dump_seg64(GString *out, const char *name, const SegCache *sc)
{
    g_string_append_printf(out, "%-3s=%04x %016" G_GINT64_MODIFIER "x %08x "
                           "%08x\n", name, sc->sel, sc->base, sc->limit,
                           (uint32_t)sc->flags << 8);
}

static void dump_flags(GString *out, uint32_t f)
{
    static const char *const fl = "ODITSZ-A-P-C";
    for (int i = 0; i < 12; i++) {
        bool set = (f >> (11 - i)) & 1;
        g_string_append_c(out, fl[i] == '-' ? '-' : set ? fl[i] : '-');
    }
}

/* Long mode (EFER.LMA): QEMU's 64-bit layout, RAX..R15, RIP, 64-bit
   bases, EFER, and the FS/GS/KERNEL_GS bases on a line of their own. */
static void dump_state64(X86Cpu *cpu, GString *out)
{
    static const char *const rn[16] = {
        "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP",
        "R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15" };
    static const int ri[16] = { R_EAX, R_EBX, R_ECX, R_EDX, R_ESI, R_EDI,
                                R_EBP, R_ESP, 8, 9, 10, 11, 12, 13, 14, 15 };
    uint32_t f = x86_get_eflags(cpu);
    for (int i = 0; i < 16; i++) {
        g_string_append_printf(out, "%s=%016" G_GINT64_MODIFIER "x%c", rn[i],
                               cpu->regs[ri[i]], i % 4 == 3 ? '\n' : ' ');
    }
    g_string_append_printf(out, "RIP=%016" G_GINT64_MODIFIER "x RFL=%08x [",
                           cpu->rip, f);
    dump_flags(out, f);
    g_string_append_printf(out, "] CPL=%d II=%d A20=%d HLT=%d\n", cpu->cpl,
                           cpu->inhibit, !(~cpu->a20_mask & (1u << 20)),
                           cpu->halted);
    static const char *const names[] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    for (int s = 0; s < 6; s++) {
        dump_seg64(out, names[s], &cpu->seg[s]);
    }
    dump_seg64(out, "LDT", &cpu->ldt);
    dump_seg64(out, "TR", &cpu->tr);
    g_string_append_printf(out,
        "GDT=     %016" G_GINT64_MODIFIER "x %08x\n"
        "IDT=     %016" G_GINT64_MODIFIER "x %08x\n",
        cpu->gdt.base, cpu->gdt.limit, cpu->idt.base, cpu->idt.limit);
    g_string_append_printf(out,
        "CR0=%08x CR2=%016" G_GINT64_MODIFIER "x CR3=%016" G_GINT64_MODIFIER
        "x CR4=%08x\n", (uint32_t)cpu->cr0, cpu->cr2, cpu->cr3,
        (uint32_t)cpu->cr4);
    for (int i = 0; i < 4; i++) {
        g_string_append_printf(out, "DR%d=%016" G_GINT64_MODIFIER "x%c", i,
                               cpu->dr[i], i == 3 ? '\n' : ' ');
    }
    g_string_append_printf(out,
        "DR6=%016" G_GINT64_MODIFIER "x DR7=%016" G_GINT64_MODIFIER "x\n"
        "EFER=%016" G_GINT64_MODIFIER "x\n"
        "FS_BASE=%016" G_GINT64_MODIFIER "x GS_BASE=%016" G_GINT64_MODIFIER
        "x KERNEL_GS_BASE=%016" G_GINT64_MODIFIER "x\n",
        cpu->dr[6], cpu->dr[7], cpu->efer, cpu->seg[S_FS].base,
        cpu->seg[S_GS].base, cpu->kernel_gs_base);
}

/* The integer state in QEMU's "info registers" / -d cpu layout. */
void x86_dump_state(X86Cpu *cpu, GString *out)
{
    if (cpu->lma) {
        dump_state64(cpu, out);
        return;
    }
    uint32_t f = x86_get_eflags(cpu);
    g_string_append_printf(out,
        "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n"
        "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n"
        "EIP=%08x EFL=%08x [", (uint32_t)cpu->regs[R_EAX],
        (uint32_t)cpu->regs[R_EBX], (uint32_t)cpu->regs[R_ECX],
        (uint32_t)cpu->regs[R_EDX], (uint32_t)cpu->regs[R_ESI],
        (uint32_t)cpu->regs[R_EDI], (uint32_t)cpu->regs[R_EBP],
        (uint32_t)cpu->regs[R_ESP], (uint32_t)cpu->rip, f);
    dump_flags(out, f);
    g_string_append_printf(out, "] CPL=%d II=%d A20=%d HLT=%d\n", cpu->cpl,
                           cpu->inhibit, !(~cpu->a20_mask & (1u << 20)),
                           cpu->halted);
    static const char *const names[] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    for (int s = 0; s < 6; s++) {
        dump_seg(out, names[s], &cpu->seg[s]);
    }
    dump_seg(out, "LDT", &cpu->ldt);
    dump_seg(out, "TR", &cpu->tr);
    g_string_append_printf(out, "GDT=     %08x %08x\nIDT=     %08x %08x\n",
                           (uint32_t)cpu->gdt.base, cpu->gdt.limit,
                           (uint32_t)cpu->idt.base, cpu->idt.limit);
    g_string_append_printf(out,
        "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n"
        "DR0=%08x DR1=%08x DR2=%08x DR3=%08x\nDR6=%08x DR7=%08x\n",
        (uint32_t)cpu->cr0, (uint32_t)cpu->cr2, (uint32_t)cpu->cr3,
        (uint32_t)cpu->cr4, (uint32_t)cpu->dr[0], (uint32_t)cpu->dr[1],
        (uint32_t)cpu->dr[2], (uint32_t)cpu->dr[3], (uint32_t)cpu->dr[6],
        (uint32_t)cpu->dr[7]);
}

void x86_log_state(X86Cpu *cpu)
{
    g_autoptr(GString) out = g_string_new(NULL);
    x86_dump_state(cpu, out);
    mimic_log("%s", out->str);
}

static void x86_dump_registers(Cpu *c, GString *out)
{
    X86Cpu *cpu = x86_cpu_of(c);
    x86_dump_state(cpu, out);
    x87_dump(&cpu->fpu, out);
    x86_sse_dump(cpu, out);
}

static bool x86_virt_to_phys(Cpu *c, uint64_t vaddr, uint64_t *paddr)
{
    X86Cpu *cpu = x86_cpu_of(c);
    return x86_translate_probe(cpu, vaddr & cpu->lin_mask, paddr);
}

static uint64_t x86_get_pc(Cpu *c)
{
    X86Cpu *cpu = x86_cpu_of(c);
    return (cpu->seg[S_CS].base + cpu->rip) & cpu->lin_mask;
}

/* Up to 16 code bytes at a linear (phys: physical) address; the number
   readable (0 when the first is not mapped). */
static int fetch_code(X86Cpu *cpu, uint64_t addr, bool phys, uint8_t *buf)
{
    int avail = 0;
    for (int i = 0; i < 16; i++) {
        uint64_t pa = addr + i;
        if (!phys && !x86_translate_probe(cpu, (addr + i) & cpu->lin_mask,
                                          &pa)) {
            break;
        }
        buf[i] = memmap_read_sized(cpu->bus.mem, pa, 1);
        avail++;
    }
    return avail;
}

/*
 * Disassemble one instruction from buf (in the current code size) as
 * "mnemonic operands" (Capstone, Intel syntax); with bytes, the encoding
 * first, QEMU's in_asm layout.  Returns its length (at least 1).
 */
static int disas_buf(X86Cpu *cpu, const uint8_t *buf, int avail,
                     uint64_t addr, bool bytes, GString *out)
{
    bool valid;
    int len = x86_decode_buf(buf, avail,
                             cpu->code64 ? X86_MODE64 : cpu->code32, &valid);
    GString *text = g_string_new(NULL);
#ifdef USE_CAPSTONE
    csh h;
    bool done = false;
    if (cs_open(CS_ARCH_X86, cpu->code64 ? CS_MODE_64
                             : cpu->code32 ? CS_MODE_32 : CS_MODE_16, &h) ==
        CS_ERR_OK) {
        cs_insn *insn;
        size_t n = cs_disasm(h, buf, avail, addr, 1, &insn);
        if (n > 0) {
            if (insn[0].op_str[0]) {
                g_string_append_printf(text, "%-7s %s", insn[0].mnemonic,
                                       insn[0].op_str);
            } else {
                g_string_append(text, insn[0].mnemonic);
            }
            /* Mimic's own decoder decides what the CPU executes: show
               it when the two disagree on the length. */
            if (!valid || len != (int)insn[0].size) {
                g_string_append_printf(text, "  ; mimic: %s, %d bytes",
                                       valid ? "valid" : "#UD", len);
            }
            len = insn[0].size;
            cs_free(insn, n);
            done = true;
        }
        cs_close(&h);
    }
    if (!done)
#endif
    {
        if (!valid) {
            g_string_append(text, "(bad)");
            len = len > 0 ? len : 1;
        } else {
            g_string_append(text, ".byte");
            for (int i = 0; i < len; i++) {
                g_string_append_printf(text, "%s0x%02x", i ? "," : " ",
                                       buf[i]);
            }
        }
    }
    if (len > avail) {
        len = avail;
    }
    if (len < 1) {
        len = 1;
    }
    if (bytes) {
        GString *hex = g_string_new(NULL);
        for (int i = 0; i < len; i++) {
            g_string_append_printf(hex, "%02x ", buf[i]);
        }
        g_string_append_printf(out, "%-24s ", hex->str);
        g_string_free(hex, TRUE);
    }
    g_string_append(out, text->str);
    g_string_free(text, TRUE);
    return len;
}

static int x86_disassemble(Cpu *c, uint64_t addr, bool phys, GString *out)
{
    X86Cpu *cpu = x86_cpu_of(c);
    uint8_t buf[16];
    int avail = fetch_code(cpu, addr, phys, buf);
    if (avail == 0) {
        return 0;
    }
    return disas_buf(cpu, buf, avail, addr, false, out);
}

/* -d in_asm: a new block, QEMU's "IN:" layout (linear addresses). */
void x86_log_block(X86Cpu *cpu, const TBlock *tb)
{
    g_autoptr(GString) out = g_string_new("----------------\nIN: \n");
    for (int i = 0; i < tb->n; i++) {
        const X86Insn *in = &tb->insn[i];
        uint64_t lin = (tb->cs_base + in->ip) & cpu->lin_mask;
        uint8_t buf[16];
        int avail = fetch_code(cpu, lin, false, buf);
        g_string_append_printf(out, cpu->code64 ? "0x%016" G_GINT64_MODIFIER
                               "x:  " : "0x%08" G_GINT64_MODIFIER "x:  ",
                               lin);
        if (avail == 0) {
            g_string_append(out, "(not mapped)\n");
            continue;
        }
        disas_buf(cpu, buf, MIN(avail, in->len), lin, true, out);
        g_string_append_c(out, '\n');
    }
    g_string_append_c(out, '\n');
    mimic_log("%s", out->str);
}

static void x86_flush_code(Cpu *c)
{
    x86_tb_flush(x86_cpu_of(c));
}

static void x86_engine_info(Cpu *c, GString *out)
{
    X86Cpu *cpu = x86_cpu_of(c);
    x86_jit_info(cpu->jit, cpu, out);
}

/* ---- saved state ---- */

static int x86_pre_save(void *obj)
{
    X86Cpu *cpu = obj;
    X86State *s = &cpu->st;
    memcpy(s->regs64, cpu->regs, sizeof(s->regs64));
    s->rip64 = cpu->rip;
    s->eflags = x86_get_eflags(cpu);
    for (int i = 0; i < 6; i++) {
        s->seg_sel[i] = cpu->seg[i].sel;
        s->seg_base64[i] = cpu->seg[i].base;
        s->seg_limit[i] = cpu->seg[i].limit;
        s->seg_flags[i] = cpu->seg[i].flags;
    }
    s->gdt_base64 = cpu->gdt.base;
    s->gdt_limit = cpu->gdt.limit;
    s->idt_base64 = cpu->idt.base;
    s->idt_limit = cpu->idt.limit;
    s->ldt_sel = cpu->ldt.sel;
    s->ldt_base64 = cpu->ldt.base;
    s->ldt_limit = cpu->ldt.limit;
    s->ldt_flags = cpu->ldt.flags;
    s->tr_sel = cpu->tr.sel;
    s->tr_base64 = cpu->tr.base;
    s->tr_limit = cpu->tr.limit;
    s->tr_flags = cpu->tr.flags;
    s->cr64[0] = cpu->cr0;
    s->cr64[1] = cpu->cr2;
    s->cr64[2] = cpu->cr3;
    s->cr64[3] = cpu->cr4;
    memcpy(s->dr64, cpu->dr, sizeof(s->dr64));
    s->tsc_offset = cpu->tsc_offset;
    s->apic_base = cpu->apic_base;
    s->sysenter_cs = cpu->sysenter_cs;
    s->sysenter_esp = cpu->sysenter_esp;
    s->sysenter_eip = cpu->sysenter_eip;
    s->mtrr_cap_def = cpu->mtrr_cap_def;
    memcpy(s->mtrr_fixed, cpu->mtrr_fixed, sizeof(s->mtrr_fixed));
    memcpy(s->mtrr_var, cpu->mtrr_var, sizeof(s->mtrr_var));
    s->pat = cpu->pat;
    s->misc_enable = cpu->misc_enable;
    /* The A20 gate as versions 1 and 2 wrote it. */
    s->a20_mask = (cpu->a20_mask & (1u << 20)) ? 0xffffffffu : 0xffefffffu;
    s->halted = cpu->halted;
    s->nmi_pending = cpu->nmi_pending;
    s->irq_line = cpu->irq_line;
    s->inhibit = cpu->inhibit;
    s->ferr = cpu->ferr;
    s->ignne = cpu->ignne;
    s->wide = 1;
    s->efer = cpu->efer;
    s->star = cpu->star;
    s->lstar = cpu->lstar;
    s->cstar = cpu->cstar;
    s->sfmask = cpu->sfmask;
    s->kernel_gs_base = cpu->kernel_gs_base;
    s->tsc_aux = cpu->tsc_aux;
    /* The 32-bit fields of versions 1 and 2 (state_save_version). */
    for (int i = 0; i < 8; i++) {
        s->regs[i] = (uint32_t)s->regs64[i];
        s->dr[i] = (uint32_t)s->dr64[i];
    }
    s->eip = (uint32_t)s->rip64;
    for (int i = 0; i < 6; i++) {
        s->seg_base[i] = (uint32_t)s->seg_base64[i];
    }
    s->gdt_base = (uint32_t)s->gdt_base64;
    s->idt_base = (uint32_t)s->idt_base64;
    s->ldt_base = (uint32_t)s->ldt_base64;
    s->tr_base = (uint32_t)s->tr_base64;
    s->cr0 = (uint32_t)s->cr64[0];
    s->cr2 = (uint32_t)s->cr64[1];
    s->cr3 = (uint32_t)s->cr64[2];
    s->cr4 = (uint32_t)s->cr64[3];
    return 0;
}

/* A version 1 or 2 file: its 32-bit fields are the low halves of the
   64-bit layout (the upper halves are zero outside 64-bit mode). */
static void x86_state_widen(X86State *s)
{
    memset(s->regs64, 0, sizeof(s->regs64));
    for (int i = 0; i < 8; i++) {
        s->regs64[i] = s->regs[i];
    }
    s->rip64 = s->eip;
    for (int i = 0; i < 6; i++) {
        s->seg_base64[i] = s->seg_base[i];
    }
    s->gdt_base64 = s->gdt_base;
    s->idt_base64 = s->idt_base;
    s->ldt_base64 = s->ldt_base;
    s->tr_base64 = s->tr_base;
    s->cr64[0] = s->cr0;
    s->cr64[1] = s->cr2;
    s->cr64[2] = s->cr3;
    s->cr64[3] = s->cr4;
    for (int i = 0; i < 8; i++) {
        s->dr64[i] = s->dr[i];
    }
}

static void x86_pre_load(void *obj)
{
    X86State *s = &((X86Cpu *)obj)->st;
    s->wide = 0;            /* a version 3 file sets it */
    s->efer = s->star = s->lstar = s->cstar = s->sfmask = 0; /* version 4 */
    s->kernel_gs_base = s->tsc_aux = 0;
    s->ferr = s->ignne = 0; /* a version 1 file has no pins: none asserted */
    X86Cpu *cpu = obj;      /* version 5: SSE */
    memset(cpu->xmm, 0, sizeof(cpu->xmm));
    cpu->xcr0 = 1;
}

static bool x86_post_load(void *obj, GError **error)
{
    X86Cpu *cpu = obj;
    X86State *s = &cpu->st;
    if (!s->wide) {
        x86_state_widen(s);
    }
    /* A model without long mode keeps the upper halves zero: a state with
       64-bit values (from a 64-bit model, or a damaged file) must not
       leave ones that its 32-bit paths would misread. */
    bool lm = cpu->model->features & X86F_LM;
    for (int i = 0; i < X86_NREGS && !lm; i++) {
        if (s->regs64[i] >> 32 || (i >= 8 && s->regs64[i])) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                        "cpu-x86: register %d has a 64-bit value (CPU "
                        "model %s has no long mode)", i, cpu->model->name);
            return false;
        }
    }
    if (!lm && (s->rip64 >> 32 || s->efer || s->star || s->lstar ||
                s->cstar || s->sfmask || s->kernel_gs_base)) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "cpu-x86: long-mode state for CPU model %s, which has "
                    "no long mode", cpu->model->name);
        return false;
    }
    if ((cpu->xcr0 & ~(uint64_t)3) || !(cpu->xcr0 & 1) ||
        (cpu->xcr0 != 1 && !(x86_sse_features(cpu) & X86F_XSAVE)) ||
        (cpu->fpu.mxcsr & ~0xffffu)) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "cpu-x86: invalid SSE state (XCR0 %#" PRIx64
                    ", MXCSR %#x)", cpu->xcr0, cpu->fpu.mxcsr);
        return false;
    }
    uint64_t efer_ok = EFER_LMA | EFER_LME | EFER_SCE | EFER_NXE;
    if ((s->efer & ~efer_ok) || s->tsc_aux >> 32 ||
        (s->efer & EFER_LMA && (!(s->efer & EFER_LME) ||
                                !(s->cr64[0] & CR0_PG) ||
                                !(s->cr64[3] & CR4_PAE))) ||
        !x86_canonical(s->lstar) || !x86_canonical(s->cstar) ||
        !x86_canonical(s->kernel_gs_base)) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "cpu-x86: inconsistent long-mode state (EFER %#" PRIx64
                    ")", s->efer);
        return false;
    }
    cpu->efer = s->efer;
    cpu->lma = s->efer & EFER_LMA;
    cpu->star = s->star;
    cpu->lstar = s->lstar;
    cpu->cstar = s->cstar;
    cpu->sfmask = s->sfmask & 0xffffffffu;
    cpu->kernel_gs_base = s->kernel_gs_base;
    cpu->tsc_aux = s->tsc_aux;
    memcpy(cpu->regs, s->regs64, sizeof(cpu->regs));
    cpu->rip = s->rip64;
    cpu->lf_op = LF_NONE;
    cpu->eflags = (s->eflags & 0x3f7fd5) | 2;
    cpu->cr0 = (uint32_t)s->cr64[0] | CR0_ET;
    cpu->cr2 = lm ? s->cr64[1] : (uint32_t)s->cr64[1];
    cpu->cr3 = lm ? s->cr64[2] & cpu->phys_mask : (uint32_t)s->cr64[2];
    cpu->cr4 = s->cr64[3] & CR4_SUPPORTED_MASK;
    for (int i = 0; i < 6; i++) {
        SegCache *sc = &cpu->seg[i];
        sc->sel = s->seg_sel[i];
        sc->base = lm ? s->seg_base64[i] : (uint32_t)s->seg_base64[i];
        sc->limit = s->seg_limit[i];
        sc->flags = s->seg_flags[i] & 0xf0ff;
    }
    cpu->gdt.base = lm ? s->gdt_base64 : (uint32_t)s->gdt_base64;
    cpu->gdt.limit = s->gdt_limit & 0xffff;
    cpu->idt.base = lm ? s->idt_base64 : (uint32_t)s->idt_base64;
    cpu->idt.limit = s->idt_limit & 0xffff;
    cpu->ldt = (SegCache){ .sel = s->ldt_sel,
                           .base = lm ? s->ldt_base64
                                      : (uint32_t)s->ldt_base64,
                           .limit = s->ldt_limit, .flags = s->ldt_flags };
    cpu->tr = (SegCache){ .sel = s->tr_sel,
                          .base = lm ? s->tr_base64 : (uint32_t)s->tr_base64,
                          .limit = s->tr_limit, .flags = s->tr_flags };
    for (int i = 0; i < 8; i++) {
        cpu->dr[i] = lm ? s->dr64[i] : (uint32_t)s->dr64[i];
    }
    cpu->tsc_offset = s->tsc_offset;
    cpu->apic_base = s->apic_base;
    cpu->sysenter_cs = s->sysenter_cs;
    cpu->sysenter_esp = s->sysenter_esp;
    cpu->sysenter_eip = s->sysenter_eip;
    cpu->mtrr_cap_def = s->mtrr_cap_def;
    memcpy(cpu->mtrr_fixed, s->mtrr_fixed, sizeof(s->mtrr_fixed));
    memcpy(cpu->mtrr_var, s->mtrr_var, sizeof(s->mtrr_var));
    cpu->pat = s->pat;
    cpu->misc_enable = s->misc_enable;
    cpu->a20_mask = s->a20_mask == 0xffefffffu ? ~(uint64_t)(1u << 20)
                                                : ~(uint64_t)0;
    cpu->lin_mask = 0xffffffffu;
    cpu->halted = s->halted;
    cpu->nmi_pending = s->nmi_pending;
    cpu->irq_line = s->irq_line;
    cpu->inhibit = s->inhibit;
    /* The pins as saved; the board restores its side of the FERR#/IGNNE#
       logic itself. */
    cpu->ferr = s->ferr != 0;
    cpu->ignne = s->ignne != 0;
    x86_post_load_fixup(cpu);
    cpu->dbg_pending = 0;
    cpu->dbg_defer = false;
    x86_dbg_update(cpu);
    x87_post_load(&cpu->fpu);
    return true;
}

#define ST_U32(f) STATE_U32(X86Cpu, st.f)
#define ST_U32_OLD(f) STATE_U32(X86Cpu, st.f, STATE_UNTIL(2))
#define ST_U64_NEW(f) STATE_U64(X86Cpu, st.f, STATE_V(3))
static const StateField x86_state_fields[] = {
    STATE_U32_ARRAY(X86Cpu, st.regs, 8, STATE_UNTIL(2)),
    ST_U32_OLD(eip),
    STATE_U32(X86Cpu, st.eflags),
    STATE_U16_ARRAY(X86Cpu, st.seg_sel, 6),
    STATE_U32_ARRAY(X86Cpu, st.seg_base, 6, STATE_UNTIL(2)),
    STATE_U32_ARRAY(X86Cpu, st.seg_limit, 6),
    STATE_U16_ARRAY(X86Cpu, st.seg_flags, 6),
    ST_U32_OLD(gdt_base), ST_U32(gdt_limit),
    ST_U32_OLD(idt_base), ST_U32(idt_limit),
    STATE_U16(X86Cpu, st.ldt_sel), STATE_U16(X86Cpu, st.tr_sel),
    ST_U32_OLD(ldt_base), ST_U32(ldt_limit),
    ST_U32_OLD(tr_base), ST_U32(tr_limit),
    STATE_U16(X86Cpu, st.ldt_flags), STATE_U16(X86Cpu, st.tr_flags),
    ST_U32_OLD(cr0), ST_U32_OLD(cr2), ST_U32_OLD(cr3), ST_U32_OLD(cr4),
    STATE_U32_ARRAY(X86Cpu, st.dr, 8, STATE_UNTIL(2)),
    STATE_U64(X86Cpu, st.tsc_offset),
    STATE_U64(X86Cpu, st.apic_base),
    STATE_U64(X86Cpu, st.sysenter_cs),
    STATE_U64(X86Cpu, st.sysenter_esp),
    STATE_U64(X86Cpu, st.sysenter_eip),
    STATE_U64(X86Cpu, st.mtrr_cap_def),
    STATE_U64_ARRAY(X86Cpu, st.mtrr_fixed, 11),
    STATE_U64_ARRAY(X86Cpu, st.mtrr_var, 16),
    STATE_U64(X86Cpu, st.pat),
    STATE_U64(X86Cpu, st.misc_enable),
    ST_U32(a20_mask),
    STATE_U8(X86Cpu, st.halted),
    STATE_U8(X86Cpu, st.nmi_pending),
    STATE_U8(X86Cpu, st.irq_line),
    STATE_U8(X86Cpu, st.inhibit),
    STATE_STRUCT(X86Cpu, fpu, x87_state_fields),
    STATE_U8(X86Cpu, st.ferr, STATE_V(2)),
    STATE_U8(X86Cpu, st.ignne, STATE_V(2)),
    STATE_U64_ARRAY(X86Cpu, st.regs64, X86_NREGS, STATE_V(3)),
    ST_U64_NEW(rip64),
    STATE_U64_ARRAY(X86Cpu, st.seg_base64, 6, STATE_V(3)),
    ST_U64_NEW(gdt_base64), ST_U64_NEW(idt_base64),
    ST_U64_NEW(ldt_base64), ST_U64_NEW(tr_base64),
    STATE_U64_ARRAY(X86Cpu, st.cr64, 4, STATE_V(3)),
    STATE_U64_ARRAY(X86Cpu, st.dr64, 8, STATE_V(3)),
    STATE_U8(X86Cpu, st.wide, STATE_V(3)),
    STATE_U64(X86Cpu, st.efer, STATE_V(4)),
    STATE_U64(X86Cpu, st.star, STATE_V(4)),
    STATE_U64(X86Cpu, st.lstar, STATE_V(4)),
    STATE_U64(X86Cpu, st.cstar, STATE_V(4)),
    STATE_U64(X86Cpu, st.sfmask, STATE_V(4)),
    STATE_U64(X86Cpu, st.kernel_gs_base, STATE_V(4)),
    STATE_U64(X86Cpu, st.tsc_aux, STATE_V(4)),
    /* version 5: SSE (MXCSR is in the x87 state since version 1) */
    STATE_BYTES(X86Cpu, xmm, 256, STATE_V(5)),
    STATE_U64(X86Cpu, xcr0, STATE_V(5)),
    STATE_END
};

static const StateDesc x86_state_desc = {
    .name = "cpu-x86",
    .version = 5,
    .min_version = 1,
    .fields = x86_state_fields,
    .pre_save = x86_pre_save,
    .pre_load = x86_pre_load,
    .post_load = x86_post_load,
};

const CpuOps x86_cpu_ops = {
    .name = "pentium2",
    .description = "Intel Pentium II class IA-32 CPU (P6, MMX)",
    .create = x86_create,
    .destroy = x86_destroy,
    .reset = x86_reset,
    .run = x86_run,
    .set_line = x86_set_line,
    .exit_request = x86_exit_request,
    .is_halted = x86_is_halted,
    .dump_registers = x86_dump_registers,
    .virt_to_phys = x86_virt_to_phys,
    .disassemble = x86_disassemble,
    .get_pc = x86_get_pc,
    .state = &x86_state_desc,
    .flush_code = x86_flush_code,
    .models = x86_model_names,
    .engine_info = x86_engine_info,
};
