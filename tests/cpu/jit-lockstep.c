/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lock-step differential test of the x86 JIT against the interpreter.
 *
 * Two CPUs, each on its own RAM, run the same -bios ROM (bench/cpu.asm
 * assembled with small counts: 32-bit protected mode, paging, integer,
 * memory and x87 phases, COM1 output): one with the JIT translating
 * every block on its first run, one interpreting.  Both run one block per
 * run() call (a real-time clock: blocks are never cut by a budget), and
 * after every block the instruction counts, the integer registers, EIP,
 * EFLAGS, the segment registers and the control registers must agree;
 * the whole RAM is compared every RAM_EVERY blocks and at the end, and
 * the COM1 output at the end.  A divergence fails with the block's
 * address.
 *
 * A second ROM, tests/cpu/jcc-lockstep.asm, puts every Jcc condition
 * after each inlined flag-setting form at operand edges; a third,
 * tests/cpu/chain-lockstep.asm, runs loops that make chained blocks
 * stale (code writes into the next and the running block, a page
 * remapped under a CR3 reload or INVLPG) and takes interrupts in a
 * chained loop: raised by an OUT to port 0x80 inside a block, and by
 * the test between two run() calls.
 *
 * Each ROM runs twice: block by block, then with budgets of 1 to 512
 * instructions (a fixed pseudo-random sequence) per run() call, so that
 * the JIT chains blocks and stops its chains where the interpreter's
 * loop stops (the first block boundary at or past the budget); the
 * state is compared after every call.
 *
 * usage: jit-lockstep ROM...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "arch/cpu.h"
#include "arch/x86/jit/jit.h"
#include "arch/x86/jit/jit_x87.h"
#include "arch/x86/x86.h"
#include "bus/clock.h"
#include "bus/ioport.h"
#include "bus/memory.h"

#define RAM_SIZE (12u << 20)
#define ROM_SIZE (128u << 10)
#define RAM_EVERY 4096
#define MAX_BLOCKS 20000000

typedef struct Side {
    const char *name;
    bool line;          /* the INTR line (vector 0x20 when acknowledged) */
    MemMap *mem;
    uint8_t *ram, *rom;
    IoSpace *io;
    Clock *clk;
    Cpu *cpu;
    X86Cpu *x;
    GString *com1;
} Side;

/* INTR: raised by a write to port 0x80 (during an instruction, as a
   device would) or by the test between two run() calls; the
   acknowledge gives vector 0x20 and lowers it. */
static int intr_ack(void *opaque)
{
    Side *s = opaque;
    if (!s->line) {
        return -1;
    }
    s->line = false;
    s->cpu->ops->set_line(s->cpu, CPU_X86_INTR, false);
    return 0x20;
}

static void raise_intr(Side *s)
{
    s->line = true;
    s->cpu->ops->set_line(s->cpu, CPU_X86_INTR, true);
}

static uint32_t post_read(void *opaque, uint16_t off, unsigned size)
{
    return 0;
}

static void post_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    raise_intr(opaque);
}

static const IoRegion post_io = {
    .base = 0x80, .len = 1, .min = 1, .max = 1,
    .read = post_read, .write = post_write, .name = "intr",
};

/* COM1: the transmitter is always empty; bytes written go to com1. */
static uint32_t com1_read(void *opaque, uint16_t off, unsigned size)
{
    return off == 5 ? 0x60 : 0;
}

static void com1_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    Side *s = opaque;
    if (off == 0) {
        g_string_append_c(s->com1, (char)v);
    }
}

static const IoRegion com1_io = {
    .base = 0x3f8, .len = 8, .min = 1, .max = 1,
    .read = com1_read, .write = com1_write, .name = "com1",
};

static void side_init(Side *s, const char *name, int engine,
                      const uint8_t *rom)
{
    s->name = name;
    s->mem = memmap_new();
    s->ram = g_malloc0(RAM_SIZE);
    s->rom = g_memdup2(rom, ROM_SIZE);
    memmap_add_ram(s->mem, "ram", 0, RAM_SIZE, s->ram, 0);
    memmap_add_ram(s->mem, "rom", 0x100000000ull - ROM_SIZE, ROM_SIZE,
                   s->rom, 0);
    /* The ROM's alias below 1 MiB, as the board's shadow RAM holds it. */
    memcpy(s->ram + 0x100000 - ROM_SIZE, rom, ROM_SIZE);
    s->io = ioport_new();
    ioport_register(s->io, &com1_io, s);
    ioport_register(s->io, &post_io, s);
    s->com1 = g_string_new(NULL);
    s->clk = clock_new(CLOCK_MODE_REALTIME, 0);
    /* "max": the SSE ROM (sse-lockstep.asm) needs SSE4.2; the others
       run the same on any model. */
    CpuWiring bus = { .mem = s->mem, .io = s->io, .clock = s->clk,
                      .intr_ack = intr_ack, .intr_opaque = s,
                      .engine = engine, .model = "max" };
    GError *err = NULL;
    s->cpu = cpu_find("pentium2")->create(&bus, &err);
    g_assert_no_error(err);
    s->x = (X86Cpu *)s->cpu;
    clock_set_progress(s->clk, &s->cpu->progress);
}

static void side_free(Side *s)
{
    clock_set_progress(s->clk, NULL);
    s->cpu->ops->destroy(s->cpu);
    ioport_free(s->io);
    memmap_free(s->mem);
    clock_free(s->clk);
    g_free(s->ram);
    g_free(s->rom);
    g_string_free(s->com1, TRUE);
}

/* The first difference of the architectural state, or NULL. */
static const char *state_diff(X86Cpu *a, X86Cpu *b)
{
    static char why[128];
    for (int r = 0; r < X86_NREGS; r++) {
        if (a->regs[r] != b->regs[r]) {
            snprintf(why, sizeof(why), "register %d: %#llx vs %#llx", r,
                     (unsigned long long)a->regs[r],
                     (unsigned long long)b->regs[r]);
            return why;
        }
    }
    if (a->rip != b->rip) {
        return "EIP";
    }
    if (x86_get_eflags(a) != x86_get_eflags(b)) {
        snprintf(why, sizeof(why), "EFLAGS %#x vs %#x", x86_get_eflags(a),
                 x86_get_eflags(b));
        return why;
    }
    for (int s = 0; s < 6; s++) {
        if (a->seg[s].sel != b->seg[s].sel ||
            a->seg[s].base != b->seg[s].base ||
            a->seg[s].limit != b->seg[s].limit ||
            a->seg[s].flags != b->seg[s].flags) {
            snprintf(why, sizeof(why), "segment register %d", s);
            return why;
        }
    }
    if (a->cr0 != b->cr0 || a->cr2 != b->cr2 || a->cr3 != b->cr3 ||
        a->cr4 != b->cr4 || a->cpl != b->cpl || a->halted != b->halted) {
        return "control registers, CPL or HLT";
    }
    if (a->fpu.fcw != b->fpu.fcw || a->fpu.fsw != b->fpu.fsw ||
        a->fpu.ftw != b->fpu.ftw) {
        return "x87 control, status or tag word";
    }
    if (a->fpu.fip != b->fpu.fip || a->fpu.fcs != b->fpu.fcs ||
        a->fpu.fop != b->fpu.fop || a->fpu.fdp != b->fpu.fdp ||
        a->fpu.fds != b->fpu.fds) {
        return "x87 FIP, FDP or FOP";
    }
    for (int i = 0; i < 8; i++) {
        if (a->fpu.r[i].mant != b->fpu.r[i].mant ||
            a->fpu.r[i].sexp != b->fpu.r[i].sexp) {
            snprintf(why, sizeof(why), "x87 register R%d", i);
            return why;
        }
    }
    if (memcmp(a->xmm, b->xmm, sizeof(a->xmm)) ||
        a->fpu.mxcsr != b->fpu.mxcsr) {
        return "XMM registers or MXCSR";
    }
    return NULL;
}

/* Chains the JIT took in the chained runs (some must be). */
static uint64_t chains_taken;
static bool have_jit;

/* Run one ROM in lock step; 0 if the two engines agree throughout. */
static int lockstep(const char *path, bool chained)
{
    gchar *rom = NULL;
    gsize len = 0;
    GError *err = NULL;
    if (!g_file_get_contents(path, &rom, &len, &err) || len != ROM_SIZE) {
        fprintf(stderr, "jit-lockstep: %s: %s\n", path,
                err ? err->message : "not a 128 KiB ROM");
        return 1;
    }
    Side jit, interp;
    side_init(&jit, "jit", CPU_ENGINE_JIT, (const uint8_t *)rom);
    side_init(&interp, "interp", CPU_ENGINE_INTERP, (const uint8_t *)rom);
    int rc = 1;
    if (!jit.x->jit) {
        printf("jit-lockstep: no JIT on this host\n");
        rc = 0;
        goto out;
    }
    have_jit = true;
    jit.x->jit->threshold = 0; /* translate every block on its first run */
    g_assert_null(interp.x->jit);

    uint64_t blocks = 0, insns = 0;
    uint32_t seed = 12345;
    for (; blocks < MAX_BLOCKS; blocks++) {
        uint64_t at = (jit.x->seg[S_CS].base + jit.x->rip) & 0xffffffffu;
        CpuExit wj, wi;
        int64_t budget = 1;
        if (chained) {
            seed = seed * 1103515245u + 12345u;
            budget = 1 + (seed >> 16) % 512;
        }
        if (blocks % 37 == 36 && (jit.x->eflags & F_IF)) {
            /* an interrupt from outside, between two calls, when the
               ROM has enabled interrupts (the same state both sides) */
            raise_intr(&jit);
            raise_intr(&interp);
        }
        int64_t nj = jit.cpu->ops->run(jit.cpu, budget, &wj);
        int64_t ni = interp.cpu->ops->run(interp.cpu, budget, &wi);
        insns += nj;
        const char *d = nj != ni ? "instruction count"
                        : wj != wi ? "exit reason"
                                   : state_diff(jit.x, interp.x);
        if (!d && (blocks % RAM_EVERY == 0 || wj == CPU_EXIT_HALTED) &&
            memcmp(jit.ram, interp.ram, RAM_SIZE)) {
            d = "RAM";
        }
        if (d) {
            fprintf(stderr, "jit-lockstep: %s: divergence after run %"
                    G_GUINT64_FORMAT " at %#" G_GINT64_MODIFIER "x: %s\n",
                    path, blocks, (guint64)at, d);
            if (!strncmp(d, "x87", 3)) {
                GString *dj = g_string_new(NULL), *di = g_string_new(NULL);
                x87_dump(&jit.x->fpu, dj);
                x87_dump(&interp.x->fpu, di);
                fprintf(stderr, "jit:\n%sinterp:\n%s", dj->str, di->str);
                g_string_free(dj, TRUE);
                g_string_free(di, TRUE);
            }
            goto out;
        }
        if (wj == CPU_EXIT_HALTED) {
            break;
        }
    }
    if (strcmp(jit.com1->str, interp.com1->str) ||
        !strstr(jit.com1->str, "DONE\n")) {
        fprintf(stderr, "jit-lockstep: %s: COM1 output:\njit: %s\n"
                "interp: %s\n", path, jit.com1->str, interp.com1->str);
        goto out;
    }
    X86Jit *j = jit.x->jit;
    chains_taken += jit.x->jit_chains;
    if (!chained && jit.x->jit_chains != 0) {
        fprintf(stderr, "jit-lockstep: %s: %" G_GUINT64_FORMAT
                " chains taken\n", path, jit.x->jit_chains);
        goto out;
    }
    if (j->blocks == 0 || (!chained && j->runs < blocks / 2)) {
        fprintf(stderr, "jit-lockstep: %s: the JIT ran %" G_GUINT64_FORMAT
                " of %" G_GUINT64_FORMAT " blocks\n", path, j->runs, blocks);
        goto out;
    }
    GString *info = g_string_new(NULL);
    x86_jit_info(j, jit.x, info);
    printf("jit-lockstep: %s (%s): %" G_GUINT64_FORMAT " runs, %"
           G_GUINT64_FORMAT " instructions agree\n%s%s", path,
           chained ? "chained" : "block by block", blocks, insns,
           jit.com1->str, info->str);
    g_string_free(info, TRUE);
    rc = 0;
out:
    side_free(&jit);
    side_free(&interp);
    g_free(rom);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: jit-lockstep ROM...\n");
        return 2;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        rc |= lockstep(argv[i], false);
        rc |= lockstep(argv[i], true);
    }
    if (!rc && have_jit && !chains_taken) {
        fprintf(stderr, "jit-lockstep: no block was chained\n");
        rc = 1;
    }
    /* The x87 ROMs must have run stretches on the host FPU (jit_x87.c),
       unless MIMIC_JIT_X87=0 turns them off. */
    const char *x87 = getenv("MIMIC_JIT_X87");
    if (!rc && have_jit && !(x87 && !strcmp(x87, "0")) &&
        !x86_jit_x87_loads) {
        fprintf(stderr, "jit-lockstep: no x87 stretch ran natively\n");
        rc = 1;
    }
    return rc;
}
