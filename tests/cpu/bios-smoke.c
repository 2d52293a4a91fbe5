/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bios-smoke: run SeaBIOS (bios-256k.bin) on the bare x86 core with a
 * minimal fake board and print what it writes to the debug port 0x402.
 * A bring-up aid to find missing instructions before the PC board exists.
 *
 * Map: RAM below 0xE0000 and from 1 MiB to the RAM size, the BIOS image
 * at 0xFFFC0000 and its last 128 KiB at 0xE0000 (ROM; --ram makes the
 * low copy writable, as if shadowed).  CMOS 0x70/0x71 answers the memory
 * size; every other port reads as all ones.
 *
 * With --vgabios FILE it instead calls SeaVGABIOS's init entry directly,
 * then INT 10h set-mode and teletype, and passes when it returns to HLT.
 *
 * Usage: bios-smoke [--ram] [-d] [-t] [--max N] [--vgabios FILE] [BIOS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "arch/cpu.h"
#include "bus/clock.h"
#include "bus/ioport.h"
#include "bus/log.h"
#include "arch/x86/x86.h"
#include "bus/memory.h"

typedef struct Smoke {
    GString *out;
    uint8_t cmos_idx;
    uint64_t ram_size;
} Smoke;

static uint32_t dbg_read(void *opaque, uint16_t off, unsigned size)
{
    return 0xe9;
}

static void dbg_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    Smoke *s = opaque;
    putchar(v & 0xff);
    fflush(stdout);
    g_string_append_c(s->out, v & 0xff);
}

static uint32_t cmos_read(void *opaque, uint16_t off, unsigned size)
{
    Smoke *s = opaque;
    if (off == 0) {
        return 0xff;
    }
    uint64_t ext = s->ram_size > (16u << 20) ? (s->ram_size - (16u << 20)) >> 16
                                             : 0;
    switch (s->cmos_idx & 0x7f) {
    case 0x0a: return 0x26;
    case 0x0b: return 0x02;
    case 0x0d: return 0x80;
    case 0x15: return 0x80;
    case 0x16: return 0x02;
    case 0x17: case 0x30: return 0xff;
    case 0x18: case 0x31: return 0xff;
    case 0x34: return ext & 0xff;
    case 0x35: return (ext >> 8) & 0xff;
    case 0x5b: case 0x5c: case 0x5d: return 0;
    }
    return 0;
}

static void cmos_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    Smoke *s = opaque;
    if (off == 0) {
        s->cmos_idx = v;
    }
}

static const IoRegion smoke_io[] = {
    { .base = 0x402, .len = 1, .min = 1, .max = 1, .read = dbg_read,
      .write = dbg_write, .name = "debugcon" },
    { .base = 0x70, .len = 2, .min = 1, .max = 1, .read = cmos_read,
      .write = cmos_write, .name = "cmos" },
    { 0 },
};

/* Real mode at 0000:ip with a stack at 0000:7000 (the core's internals:
   only this bring-up harness pokes them). */
static void vga_start(Cpu *c, uint16_t ip)
{
    X86Cpu *x = (X86Cpu *)c;
    x->seg[S_CS].sel = 0;
    x->seg[S_CS].base = 0;
    x->seg[S_CS].limit = 0xffff;
    x->seg[S_CS].hi = 0xffff;
    x->regs[R_ESP] = 0x7000;
    x->rip = ip;
}

/* A crude timer: every halt is woken by IRQ0 (vector 8, the PIC's
   default base in SeaBIOS). */
static Cpu *smoke_cpu;

static int timer_intr(void *opaque)
{
    smoke_cpu->ops->set_line(smoke_cpu, CPU_X86_INTR, false);
    return 0x08;
}

static void on_shutdown(void *opaque)
{
    fprintf(stderr, "bios-smoke: shutdown (triple fault)\n");
}

int main(int argc, char **argv)
{
    const char *path = "/usr/share/seabios/bios-256k.bin";
    bool ram_shadow = false;
    int64_t max = 400000000;
    const char *vgabios = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ram")) {
            ram_shadow = true;
        } else if (!strcmp(argv[i], "-d")) {
            mimic_log_set_mask(LOG_INT | LOG_UNIMP | LOG_GUEST_ERROR);
        } else if (!strcmp(argv[i], "-t")) {
            mimic_log_set_mask(LOG_INT | LOG_UNIMP | LOG_GUEST_ERROR | LOG_EXEC);
        } else if (!strcmp(argv[i], "--vgabios") && i + 1 < argc) {
            vgabios = argv[++i];
        } else if (!strcmp(argv[i], "--max") && i + 1 < argc) {
            max = g_ascii_strtoll(argv[++i], NULL, 0);
        } else {
            path = argv[i];
        }
    }
    gchar *bios;
    gsize len;
    GError *err = NULL;
    if (!g_file_get_contents(path, &bios, &len, &err)) {
        fprintf(stderr, "bios-smoke: %s\n", err->message);
        return 77;
    }
    if (len != 256 * 1024) {
        fprintf(stderr, "bios-smoke: %s is not a 256 KiB image\n", path);
        return 1;
    }
    Smoke s = { .out = g_string_new(NULL), .ram_size = 64u << 20 };
    MemMap *mem = memmap_new();
    uint8_t *ram = g_malloc0(s.ram_size);
    memmap_add_ram(mem, "ram-low", 0, ram_shadow ? 0xc0000 : 0xe0000, ram,
                   0);
    memmap_add_ram(mem, "ram-high", 0x100000, s.ram_size - 0x100000,
                   ram + 0x100000, 0);
    uint8_t *low = (uint8_t *)bios + 128 * 1024;
    if (ram_shadow) {
        /* What the shadowing through the PAM registers would leave: the
           whole image in RAM at 0xC0000 (SeaBIOS links its init code
           there and copies it from the high mapping after unlocking). */
        memcpy(ram + 0xc0000, bios, 256 * 1024);
        memmap_add_ram(mem, "bios-low", 0xc0000, 0x40000, ram + 0xc0000, 1);
    } else {
        memmap_add_rom(mem, "bios-low", 0xe0000, 0x20000, low, 1);
    }
    memmap_add_rom(mem, "bios", 0xfffc0000u, 0x40000, (uint8_t *)bios, 1);
    IoSpace *io = ioport_new();
    ioport_register_table(io, smoke_io, &s);
    Clock *clk = clock_new(CLOCK_MODE_ICOUNT, 0);
    CpuWiring bus = { .mem = mem, .io = io, .clock = clk, .intr_ack = timer_intr,
                   .shutdown = on_shutdown };
    const CpuOps *ops = cpu_find("pentium2");
    Cpu *cpu = ops->create(&bus, &err);
    clock_set_progress(clk, &cpu->progress);
    smoke_cpu = cpu;
    int halts = 0;
    int64_t total = 0;
    int rc = 1;
    if (vgabios) {
        /* Call the option ROM's init entry (C000:0003) directly, as
           SeaBIOS would, with a far return to an HLT at 0000:0500. */
        gchar *rom;
        gsize rlen;
        if (!g_file_get_contents(vgabios, &rom, &rlen, &err) ||
            rlen > 0x10000) {
            fprintf(stderr, "bios-smoke: cannot load %s: SKIPPED\n",
                    vgabios);
            return 77;
        }
        memcpy(ram + 0xc0000, rom, rlen);
        static const uint8_t stub[] = {
            0x9a, 0x03, 0x00, 0x00, 0xc0, /* call far c000:0003 */
            0xb8, 0x03, 0x00,             /* mov ax, 3 */
            0xcd, 0x10,                   /* int 10h (set mode 3) */
            0xb8, 0x41, 0x0e,             /* mov ax, 0e41h */
            0xcd, 0x10,                   /* int 10h (teletype 'A') */
            0xf4 };                       /* hlt */
        memcpy(ram + 0x500, stub, sizeof(stub));
        ops->reset(cpu);
        vga_start(cpu, 0x500);
        CpuExit why;
        total = ops->run(cpu, 50000000, &why);
        clk->icount += total;
        fprintf(stderr, "\nbios-smoke: vgabios exit %d\n", why);
        rc = why == CPU_EXIT_HALTED ? 0 : 1;
        max = 0;
    }
    while (total < max) {
        CpuExit why;
        int64_t n = ops->run(cpu, 1000000, &why);
        total += n;
        clk->icount += n; /* as the engine does */
        if (strstr(s.out->str, "No bootable device")) {
            rc = 0;
            break;
        }
        if (why == CPU_EXIT_HALTED) {
            /* No interrupt source: a halt with nothing to wake it. */
            clock_warp_to(clk, clock_next_deadline(clk) == CLOCK_NEVER
                                   ? clock_now(clk) + 1000000
                                   : clock_next_deadline(clk));
            if (++halts > 100000) {
                fprintf(stderr, "\nbios-smoke: halted for good\n");
                break;
            }
            ops->set_line(cpu, CPU_X86_INTR, true);
        }
        if (why == CPU_EXIT_SHUTDOWN) {
            break;
        }
    }
    GString *regs = g_string_new(NULL);
    ops->dump_registers(cpu, regs);
    fprintf(stderr, "\nbios-smoke: %" G_GINT64_FORMAT " instructions\n%s",
            total, regs->str);
    GString *dis = g_string_new(NULL);
    ops->disassemble(cpu, ops->get_pc(cpu), false, dis);
    fprintf(stderr, "at pc: %s\n", dis->str);
    return rc;
}
