/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The test rig shared by the x86 core's tests (test-x86, test-x86-sys,
 * uc-diff, user-diff/x86-user): a pentium2 CPU on a MemMap with RAM at 0,
 * an empty I/O space and an icount clock, plus helpers that write
 * descriptors and gates and put the CPU in 32-bit flat protected mode.
 *
 * Flat protected mode (rig_flat): GDT at `gdt` with 0x08 a flat 32-bit
 * code segment and 0x10 a flat data segment (both DPL 0, 4 GiB); every
 * segment register loaded (CS 0x08, the others 0x10), CPL 0, CR0 = PE|ET,
 * plus PG with CR3 = `cr3` when cr3 is not 0.  The caller places the IDT
 * (rig_idt_gate) and anything else.
 */
#ifndef MIMIC_TESTS_X86_RIG_H
#define MIMIC_TESTS_X86_RIG_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "arch/x86/x86.h"
#include "bus/clock.h"
#include "bus/ioport.h"
#include "bus/memory.h"

typedef struct Rig {
    MemMap *mem;
    uint8_t *ram;
    uint32_t ram_size;
    IoSpace *io;
    Clock *clk;
    Cpu *cpu;
    X86Cpu *x;
} Rig;

/* A fresh CPU with ram_size bytes of zeroed RAM; aborts on failure. */
void rig_init(Rig *r, uint32_t ram_size);
/* The same with a CPU model ("qemu64", "max"; NULL: pentium2). */
void rig_init_model(Rig *r, uint32_t ram_size, const char *model);
void rig_free(Rig *r);
/* One run() of at most budget instructions; returns why it stopped. */
CpuExit rig_run(Rig *r, int64_t budget);

void rig_put8(Rig *r, uint32_t a, uint8_t v);
void rig_put16(Rig *r, uint32_t a, uint16_t v);
void rig_put32(Rig *r, uint32_t a, uint32_t v);
uint16_t rig_get16(Rig *r, uint32_t a);
uint32_t rig_get32(Rig *r, uint32_t a);
void rig_load(Rig *r, uint32_t at, const void *p, size_t n);

/* The descriptor at gdt + (sel & ~7): access byte (P DPL S type) and
   flags nibble (G D/B 0 AVL). */
void rig_desc_set(Rig *r, uint32_t gdt, unsigned sel, uint32_t base,
                  uint32_t limit, uint8_t access, uint8_t flags);
/* IDT gate for vec at idt: type 0xe interrupt, 0xf trap, 0x5 task. */
void rig_idt_gate(Rig *r, uint32_t idt, unsigned vec, uint16_t sel,
                  uint32_t off, unsigned type, unsigned dpl);
/* IDTR = idt, n vectors, each an interrupt gate (CS 0x08, DPL 0) to a
   HLT at stubs + v. */
void rig_idt_hlt(Rig *r, uint32_t idt, uint32_t stubs, unsigned n);
/* The vector whose rig_idt_hlt stub the CPU halted in, or -1. */
int rig_stub_vector(Rig *r, uint32_t stubs, unsigned n);
/* Load segment register s from the GDT descriptor of sel (no checks). */
void rig_load_seg(Rig *r, int s, uint16_t sel);
/* 32-bit flat protected mode, see above; GDTR limit 23. */
void rig_flat(Rig *r, uint32_t gdt, uint32_t cr3);

#endif
