/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The shared x86 test rig (see x86-rig.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "x86-rig.h"

static int no_intr(void *opaque)
{
    return -1;
}

void rig_init(Rig *r, uint32_t ram_size)
{
    rig_init_model(r, ram_size, NULL);
}

void rig_init_model(Rig *r, uint32_t ram_size, const char *model)
{
    r->ram_size = ram_size;
    r->mem = memmap_new();
    r->ram = g_malloc0(ram_size);
    memmap_add_ram(r->mem, "ram", 0, ram_size, r->ram, 0);
    r->io = ioport_new();
    r->clk = clock_new(CLOCK_MODE_ICOUNT, 0);
    CpuWiring bus = { .mem = r->mem, .io = r->io, .clock = r->clk,
                   .intr_ack = no_intr, .model = model };
    GError *err = NULL;
    r->cpu = cpu_find("pentium2")->create(&bus, &err);
    if (!r->cpu) {
        fprintf(stderr, "x86 rig: %s\n", err ? err->message : "no CPU");
        abort();
    }
    r->x = (X86Cpu *)r->cpu;
    clock_set_progress(r->clk, &r->cpu->progress);
}

void rig_free(Rig *r)
{
    clock_set_progress(r->clk, NULL);
    r->cpu->ops->destroy(r->cpu);
    ioport_free(r->io);
    memmap_free(r->mem);
    clock_free(r->clk);
    g_free(r->ram);
}

CpuExit rig_run(Rig *r, int64_t budget)
{
    CpuExit why = CPU_EXIT_BUDGET;
    /* As the engine does: the count run() returns goes to the clock. */
    r->clk->icount += r->cpu->ops->run(r->cpu, budget, &why);
    return why;
}

void rig_put8(Rig *r, uint32_t a, uint8_t v)
{
    memmap_write_sized(r->mem, a, v, 1);
}

void rig_put16(Rig *r, uint32_t a, uint16_t v)
{
    memmap_write_sized(r->mem, a, v, 2);
}

void rig_put32(Rig *r, uint32_t a, uint32_t v)
{
    memmap_write_sized(r->mem, a, v, 4);
}

uint16_t rig_get16(Rig *r, uint32_t a)
{
    return memmap_read_sized(r->mem, a, 2);
}

uint32_t rig_get32(Rig *r, uint32_t a)
{
    return memmap_read_sized(r->mem, a, 4);
}

void rig_load(Rig *r, uint32_t at, const void *p, size_t n)
{
    memmap_write(r->mem, at, p, n);
}

void rig_desc_set(Rig *r, uint32_t gdt, unsigned sel, uint32_t base,
                  uint32_t limit, uint8_t access, uint8_t flags)
{
    uint32_t lo = (limit & 0xffff) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xff) | ((uint32_t)access << 8) |
                  (limit & 0xf0000) | ((uint32_t)(flags & 0xf) << 20) |
                  (base & 0xff000000u);
    rig_put32(r, gdt + (sel & ~7u), lo);
    rig_put32(r, gdt + (sel & ~7u) + 4, hi);
}

void rig_idt_gate(Rig *r, uint32_t idt, unsigned vec, uint16_t sel,
                  uint32_t off, unsigned type, unsigned dpl)
{
    rig_put32(r, idt + vec * 8, (off & 0xffff) | ((uint32_t)sel << 16));
    rig_put32(r, idt + vec * 8 + 4,
              (off & 0xffff0000u) | 0x8000 | (dpl << 13) | (type << 8));
}

void rig_idt_hlt(Rig *r, uint32_t idt, uint32_t stubs, unsigned n)
{
    for (unsigned v = 0; v < n; v++) {
        rig_idt_gate(r, idt, v, 0x08, stubs + v, 0xe, 0);
        rig_put8(r, stubs + v, 0xf4);
    }
    r->x->idt.base = idt;
    r->x->idt.limit = n * 8 - 1;
}

int rig_stub_vector(Rig *r, uint32_t stubs, unsigned n)
{
    uint32_t at = r->x->seg[S_CS].base + r->x->rip - 1;
    return at >= stubs && at < stubs + n ? (int)(at - stubs) : -1;
}

void rig_load_seg(Rig *r, int s, uint16_t sel)
{
    uint32_t d = r->x->gdt.base + (sel & ~7u);
    x86_desc_to_cache(&r->x->seg[s], sel, rig_get32(r, d),
                      rig_get32(r, d + 4));
}

void rig_flat(Rig *r, uint32_t gdt, uint32_t cr3)
{
    X86Cpu *x = r->x;
    rig_desc_set(r, gdt, 0x08, 0, 0xfffff, 0x9a, 0xc);
    rig_desc_set(r, gdt, 0x10, 0, 0xfffff, 0x92, 0xc);
    x->gdt.base = gdt;
    x->gdt.limit = 23;
    x->cr0 = CR0_PE | CR0_ET;
    if (cr3) {
        x->cr3 = cr3;
        x->cr0 |= CR0_PG;
    }
    x->cpl = 0;
    for (int s = 0; s < 6; s++) {
        rig_load_seg(r, s, s == S_CS ? 0x08 : 0x10);
    }
    x86_mmu_mode_changed(x);
    x86_post_load_fixup(x);
}
