/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CPU interface every guest architecture implements.
 *
 * A board picks a core by name (cpu_find("pentium2")) and creates it on a
 * CpuWiring: the memory map, the port space (x86), the clock and the
 * interrupt-acknowledge callback into the board's interrupt controller.
 * The machine's worker thread calls run() with an instruction budget; run()
 * returns when the budget is spent, the CPU halts, an exit was requested
 * (from a device, the monitor or another thread), or the machine must shut
 * down (triple fault with -no-reboot, a fatal guest error).
 */
#ifndef MIMIC_ARCH_CPU_H
#define MIMIC_ARCH_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "bus/clock.h"
#include "bus/ioport.h"
#include "bus/memory.h"
#include "state/state.h"

typedef struct Cpu Cpu;
typedef struct CpuOps CpuOps;

typedef struct CpuWiring {
    MemMap *mem;
    IoSpace *io; /* NULL on architectures without port I/O */
    Clock *clock;
    /* Vectored interrupts (x86's INTA cycle): the vector of the highest
       pending interrupt of the board's controller; NULL where the CPU
       reads the cause itself (MIPS, ...). */
    int (*intr_ack)(void *opaque);
    void *intr_opaque;
    /* Triple fault / shutdown cycle: the board resets or powers off. */
    void (*shutdown)(void *opaque);
    void *shutdown_opaque;
    /* The CPU's output pins (x86: CPU_X86_OUT_FERR); NULL if unwired. */
    void (*output)(void *opaque, unsigned line, bool level);
    void *output_opaque;
    /* The CPU model ("qemu64") when the core implements several (see
       CpuOps.models); NULL: the core's own name, its default model. */
    const char *model;
    /* The execution engine (CPU_ENGINE_*; 0: the core's default). */
    int engine;
    /* System registers the board implements, NULL if none: x86, the
       local APIC's MSRs IA32_APIC_BASE (0x1B) and IA32_TSC_DEADLINE
       (0x6E0, passed as clock nanoseconds: the CPU converts from and to
       its TSC), and CPUID advertises the APIC only with it.  False means
       the register does not exist (#GP on x86). */
    bool (*sysreg)(void *opaque, uint32_t idx, uint64_t *val, bool wr);
    void *sysreg_opaque;
} CpuWiring;

/* CpuWiring.engine: a core without a JIT always interprets. */
enum {
    CPU_ENGINE_DEFAULT = 0,
    CPU_ENGINE_INTERP = 1,
    CPU_ENGINE_JIT = 2,
};

/*
 * Input and output pins, numbered per architecture.  x86: INTR (the
 * 8259's output), NMI (edge: raising it latches one NMI), A20 (the gate:
 * level true = address bit 20 passes), IGNNE# (asserted = ignore a pending
 * x87 error); FERR# out.  A MIPS core will number its six hardware
 * interrupt lines IP2..IP7 the same way.
 */
enum {
    CPU_X86_INTR = 0,
    CPU_X86_NMI = 1,
    CPU_X86_A20 = 2,
    CPU_X86_IGNNE = 3,
};
enum {
    CPU_X86_OUT_FERR = 0,
};

typedef enum {
    CPU_EXIT_BUDGET,   /* instruction budget used up */
    CPU_EXIT_HALTED,   /* HLT with nothing pending */
    CPU_EXIT_REQUEST,  /* cpu_exit_request() */
    CPU_EXIT_SHUTDOWN, /* triple fault handled by bus->shutdown */
} CpuExit;

struct CpuOps {
    const char *name;        /* "pentium2" */
    const char *description; /* one line for -cpu help */
    Cpu *(*create)(const CpuWiring *bus, GError **error);
    void (*destroy)(Cpu *cpu);
    void (*reset)(Cpu *cpu);
    /* Execute up to budget instructions; returns the number executed
       (the engine adds it to the clock's icount).  While it runs, the
       core keeps Cpu.progress at the instructions done plus those of the
       block it executes (for devices that read the time). */
    int64_t (*run)(Cpu *cpu, int64_t budget, CpuExit *why);
    /* Drive an input pin (CPU_X86_*: the board's wiring). */
    void (*set_line)(Cpu *cpu, unsigned line, bool level);
    /* Any thread: make run() return soon. */
    void (*exit_request)(Cpu *cpu);
    bool (*is_halted)(Cpu *cpu);
    /* Monitor support. */
    void (*dump_registers)(Cpu *cpu, GString *out);
    /* Translate a virtual address with the CPU's current paging; false if
       not mapped. */
    bool (*virt_to_phys)(Cpu *cpu, uint64_t vaddr, uint64_t *paddr);
    /* Disassemble one instruction at a virtual address (phys: physical),
       in the current code size; returns its length (0: not readable). */
    int (*disassemble)(Cpu *cpu, uint64_t addr, bool phys, GString *out);
    uint64_t (*get_pc)(Cpu *cpu); /* linear address of next instruction */
    const StateDesc *state;
    /* Debugging/tests: drop every translated block. */
    void (*flush_code)(Cpu *cpu);
    /* Other model names the core answers to (cpu_find), NULL-terminated;
       the board passes the name in CpuWiring.model.  May be NULL. */
    const char *const *models;
    /* "info jit": the execution engine and its statistics (optional). */
    void (*engine_info)(Cpu *cpu, GString *out);
};

struct Cpu {
    const CpuOps *ops;
    /* Instructions of the current run() so far, the executing block
       counted whole; 0 outside run() (see run above). */
    int64_t progress;
};

/* Registry of the cores linked into this binary. */
const CpuOps *cpu_find(const char *name);
void cpu_list(GString *out);

#endif
