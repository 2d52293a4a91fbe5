/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A pc board with a stand-in CPU for device tests (as in test-pc.c):
 * this header defines x86_cpu_ops, which takes the place of the real
 * core, so include it in exactly one file per test program.  The stand-in
 * can play a tiny guest: rig_guest, when set, runs on the worker thread
 * each time the machine runs the CPU.
 */
#ifndef MIMIC_TESTS_HW_PC_RIG_H
#define MIMIC_TESTS_HW_PC_RIG_H

#include <string.h>

#include "engine/machine.h"

typedef struct FakeCpu {
    Cpu cpu;
    bool intr;
    CpuWiring bus;
} FakeCpu;

static FakeCpu *fake;
static MimicMachine *rig_m;
/* Called from the stand-in's run (worker thread); returns false when the
   guest program is done. */
static bool (*rig_guest)(MimicMachine *m, int calls);
static int rig_calls;

static Cpu *fake_create(const CpuWiring *bus, GError **error)
{
    fake = g_new0(FakeCpu, 1);
    extern const CpuOps x86_cpu_ops;
    fake->cpu.ops = &x86_cpu_ops;
    fake->bus = *bus;
    return &fake->cpu;
}

static void fake_destroy(Cpu *cpu)
{
    g_free(cpu);
    fake = NULL;
}

static void fake_reset(Cpu *cpu)
{
}

static int64_t fake_run(Cpu *cpu, int64_t budget, CpuExit *why)
{
    *why = CPU_EXIT_HALTED;
    if (rig_guest && !rig_guest(rig_m, rig_calls++)) {
        rig_guest = NULL;
    }
    return 0;
}

static void fake_set_line(Cpu *cpu, unsigned line, bool level)
{
    if (line == CPU_X86_INTR) {
        ((FakeCpu *)cpu)->intr = level;
    }
}

static void fake_exit_request(Cpu *cpu)
{
}

const CpuOps x86_cpu_ops = {
    .name = "pentium2", .description = "test stand-in",
    .create = fake_create, .destroy = fake_destroy, .reset = fake_reset,
    .run = fake_run, .set_line = fake_set_line,
    .exit_request = fake_exit_request,
};

/* A 64 MiB pc in -icount 0 mode (1 ns per instruction); configure() may
   adjust the config first. */
static MimicMachine *rig_new(void (*configure)(MachineConfig *cfg))
{
    MachineConfig cfg;
    machine_config_init(&cfg);
    cfg.ram_size = 64 << 20;
    cfg.icount_shift = 0;
    cfg.display = DISPLAY_NONE;
    if (configure) {
        configure(&cfg);
    }
    GError *err = NULL;
    MimicMachine *m = mimic_machine_new(&cfg, &err);
    g_assert_no_error(err);
    machine_config_clear(&cfg);
    rig_m = m;
    rig_guest = NULL;
    rig_calls = 0;
    return m;
}

static inline uint32_t rig_pci_read(MimicMachine *m, int devfn, int reg, int size)
{
    ioport_write(m->io, 0xcf8, 0x80000000 | devfn << 8 | (reg & 0xfc), 4);
    return ioport_read(m->io, 0xcfc + (reg & 3), size);
}

static inline void rig_pci_write(MimicMachine *m, int devfn, int reg,
                                 uint32_t v, int size)
{
    ioport_write(m->io, 0xcf8, 0x80000000 | devfn << 8 | (reg & 0xfc), 4);
    ioport_write(m->io, 0xcfc + (reg & 3), v, size);
}

/* Program both 8259s as a BIOS does (vectors 0x08 and 0x70) and unmask
   the given IRQs (and the cascade). */
static inline void rig_pic_init(MimicMachine *m, uint16_t unmask)
{
    const uint8_t icw[] = { 0x11, 0x08, 0x04, 0x01 };
    const uint8_t icw2[] = { 0x11, 0x70, 0x02, 0x01 };
    for (int i = 0; i < 4; i++) {
        ioport_write(m->io, i ? 0x21 : 0x20, icw[i], 1);
        ioport_write(m->io, i ? 0xa1 : 0xa0, icw2[i], 1);
    }
    if (unmask & 0xff00) {
        unmask |= 1 << 2;
    }
    ioport_write(m->io, 0x21, ~unmask & 0xff, 1);
    ioport_write(m->io, 0xa1, ~unmask >> 8 & 0xff, 1);
}

/* Acknowledge the pending interrupt: its vector, with EOIs sent. */
static inline int rig_pic_ack(MimicMachine *m)
{
    int v = fake->bus.intr_ack(fake->bus.intr_opaque);
    if (v >= 0x70) {
        ioport_write(m->io, 0xa0, 0x20, 1);
    }
    ioport_write(m->io, 0x20, 0x20, 1);
    return v;
}

/* Advance virtual time by ns and fire the timers that fall due, one
   deadline at a time (as the worker does while the CPU is halted). */
static inline void rig_advance(MimicMachine *m, int64_t ns)
{
    int64_t end = clock_now(m->clock) + ns;
    for (;;) {
        int64_t d = clock_next_deadline(m->clock);
        if (d > end) {
            break;
        }
        if (d > clock_now(m->clock)) {
            m->clock->icount += d - clock_now(m->clock);
        }
        clock_run_timers(m->clock);
    }
    m->clock->icount += end - clock_now(m->clock);
    clock_run_timers(m->clock);
}

/* A WAV file in the temporary directory (the caller frees the path): 0.1 s
   at 48 kHz, 16-bit stereo, constant left and right levels (a recording
   source whose samples the tests can check exactly). */
static inline char *rig_dc_wav(const char *name, int16_t left,
                               int16_t right)
{
    char *path = g_build_filename(g_get_tmp_dir(), name, NULL);
    uint8_t h[44 + 4 * 4800] = { 'R', 'I', 'F', 'F' };
    uint32_t data = 4 * 4800, riff = 36 + data, rate = 48000,
             brate = 4 * 48000;
    memcpy(h + 4, &riff, 4);
    memcpy(h + 8, "WAVEfmt \x10\0\0\0\x01\0\x02\0", 16);
    memcpy(h + 24, &rate, 4);
    memcpy(h + 28, &brate, 4);
    memcpy(h + 32, "\x04\0\x10\0data", 8);
    memcpy(h + 40, &data, 4);
    for (int i = 0; i < 4800; i++) {
        h[44 + 4 * i] = (uint8_t)left;
        h[45 + 4 * i] = (uint8_t)((uint16_t)left >> 8);
        h[46 + 4 * i] = (uint8_t)right;
        h[47 + 4 * i] = (uint8_t)((uint16_t)right >> 8);
    }
    g_assert_true(g_file_set_contents(path, (char *)h, sizeof(h), NULL));
    return path;
}

#endif
