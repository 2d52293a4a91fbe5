/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pc board, driven through its ports and memory as a CPU would.
 * A stand-in CPU core (this file's x86_cpu_ops, which takes the place of
 * the registry's weak reference) records what the board tells the CPU.
 */
#include <string.h>
#include <glib/gstdio.h>

#include "engine/machine.h"
#include "state/state.h"

typedef struct FakeCpu {
    Cpu cpu;
    bool intr;
    bool a20;
    bool ignne;
    int resets;
    CpuWiring bus;
} FakeCpu;

static FakeCpu *fake;

static Cpu *fake_create(const CpuWiring *bus, GError **error)
{
    fake = g_new0(FakeCpu, 1);
    extern const CpuOps x86_cpu_ops;
    fake->cpu.ops = &x86_cpu_ops;
    fake->bus = *bus;
    fake->a20 = true;
    return &fake->cpu;
}

static void fake_destroy(Cpu *cpu)
{
    g_free(cpu);
    fake = NULL;
}

static void fake_reset(Cpu *cpu)
{
    ((FakeCpu *)cpu)->resets++;
}

static int64_t fake_run(Cpu *cpu, int64_t budget, CpuExit *why)
{
    *why = CPU_EXIT_HALTED;
    return 0;
}

static void fake_set_line(Cpu *cpu, unsigned line, bool level)
{
    FakeCpu *f = (FakeCpu *)cpu;
    if (line == CPU_X86_INTR) {
        f->intr = level;
    } else if (line == CPU_X86_A20) {
        f->a20 = level;
    } else if (line == CPU_X86_IGNNE) {
        f->ignne = level;
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

static char *serial_path;

static MimicMachine *make_machine(bool nographic)
{
    MachineConfig cfg;
    machine_config_init(&cfg);
    cfg.ram_size = 64 << 20;
    cfg.icount_shift = 0;
    cfg.display = nographic ? DISPLAY_NOGRAPHIC : DISPLAY_NONE;
    g_free(cfg.serial[0]);
    cfg.serial[0] = g_strconcat("file:", serial_path, NULL);
    GError *err = NULL;
    MimicMachine *m = mimic_machine_new(&cfg, &err);
    g_assert_no_error(err);
    machine_config_clear(&cfg);
    return m;
}

static uint32_t pci_read(MimicMachine *m, int devfn, int reg, int size)
{
    ioport_write(m->io, 0xcf8, 0x80000000 | devfn << 8 | (reg & 0xfc), 4);
    return ioport_read(m->io, 0xcfc + (reg & 3), size);
}

static void pci_write(MimicMachine *m, int devfn, int reg, uint32_t v,
                      int size)
{
    ioport_write(m->io, 0xcf8, 0x80000000 | devfn << 8 | (reg & 0xfc), 4);
    ioport_write(m->io, 0xcfc + (reg & 3), v, size);
}

static void test_pci_and_pam(void)
{
    MimicMachine *m = make_machine(false);
    g_assert_cmphex(pci_read(m, 0, 0, 4), ==, 0x12378086);
    g_assert_cmphex(pci_read(m, 1 << 3, 0, 4), ==, 0x70008086);
    g_assert_cmphex(pci_read(m, 5 << 3, 0, 4), ==, 0xffffffff);
    /* The reset vector reads the firmware's last bytes, through both the
       high mapping and the 0xf0000 shadow window. */
    uint32_t hi = memmap_read_sized(m->mem, 0xfffffff0, 4);
    uint32_t lo = memmap_read_sized(m->mem, 0xffff0, 4);
    g_assert_cmphex(hi, ==, lo);
    g_assert_cmphex(hi & 0xff, ==, 0xea); /* far jmp */
    /* ROM: writes are dropped. */
    memmap_write_sized(m->mem, 0xffff0, 0x12345678, 4);
    g_assert_cmphex(memmap_read_sized(m->mem, 0xffff0, 4), ==, lo);
    /* PAM0 = 0x30: RAM read/write; the RAM below is fresh (zero). */
    pci_write(m, 0, 0x59, 0x30, 1);
    g_assert_cmphex(pci_read(m, 0, 0x59, 1), ==, 0x30);
    g_assert_cmphex(memmap_read_sized(m->mem, 0xffff0, 4), ==, 0);
    memmap_write_sized(m->mem, 0xffff0, 0x12345678, 4);
    g_assert_cmphex(memmap_read_sized(m->mem, 0xffff0, 4), ==, 0x12345678);
    /* PAM0 = 0x20 (write-only RAM): reads see the ROM again. */
    pci_write(m, 0, 0x59, 0x20, 1);
    g_assert_cmphex(memmap_read_sized(m->mem, 0xffff0, 4), ==, lo);
    /* The VGA window is the VGA's, not RAM: with the text-mode memory map
       (graphics controller misc = 0x0e) a character written at 0xb8000
       lands in plane 0 and never in RAM. */
    ioport_write(m->io, 0x3ce, 0x06, 1);
    ioport_write(m->io, 0x3cf, 0x0e, 1);
    ioport_write(m->io, 0x3c4, 0x04, 1);
    ioport_write(m->io, 0x3c5, 0x02, 1); /* odd/even */
    ioport_write(m->io, 0x3c4, 0x02, 1);
    ioport_write(m->io, 0x3c5, 0x03, 1); /* planes 0 and 1 */
    memmap_write_sized(m->mem, 0xb8000, 0x0741, 2);
    g_assert_cmphex(memmap_read_sized(m->mem, 0xb8000, 2), ==, 0x0741);
    memmap_write_sized(m->mem, 0x100000, 0xabcd, 2);
    g_assert_cmphex(memmap_read_sized(m->mem, 0x100000, 2), ==, 0xabcd);
    mimic_machine_free(m);
}

static uint8_t cmos(MimicMachine *m, int i)
{
    ioport_write(m->io, 0x70, i, 1);
    return ioport_read(m->io, 0x71, 1);
}

static void test_cmos_fw_cfg(void)
{
    MimicMachine *m = make_machine(true);
    /* 64 MiB: 63 MiB of extended memory, 48 MiB above 16 MiB. */
    g_assert_cmpuint(cmos(m, 0x17) | cmos(m, 0x18) << 8, ==, 63 * 1024);
    g_assert_cmpuint(cmos(m, 0x34) | cmos(m, 0x35) << 8, ==, 48 * 16);
    g_assert_cmphex(cmos(m, 0x0d), ==, 0x80);
    /* Boot order "cad": disk, floppy, CD. */
    g_assert_cmphex(cmos(m, 0x3d), ==, 0x12);
    /* fw_cfg: signature, then the file directory. */
    ioport_write(m->io, 0x510, 0, 2);
    char sig[5] = { 0 };
    for (int i = 0; i < 4; i++) {
        sig[i] = ioport_read(m->io, 0x511, 1);
    }
    g_assert_cmpstr(sig, ==, "QEMU");
    ioport_write(m->io, 0x510, 0x19, 2);
    uint32_t count = 0;
    for (int i = 0; i < 4; i++) {
        count = count << 8 | ioport_read(m->io, 0x511, 1);
    }
    g_assert_cmpuint(count, >=, 3);
    GString *names = g_string_new(NULL);
    for (uint32_t e = 0; e < count; e++) {
        uint8_t ent[64];
        for (int i = 0; i < 64; i++) {
            ent[i] = ioport_read(m->io, 0x511, 1);
        }
        g_string_append_printf(names, "%s;", (char *)ent + 8);
    }
    g_assert_nonnull(strstr(names->str, "etc/e820;"));
    g_assert_nonnull(strstr(names->str, "etc/sercon-port;"));
    g_string_free(names, TRUE);
    /* DMA: read the 8-byte RAM size item into guest memory at 0x2000. */
    uint8_t desc[16] = { 0 };
    uint32_t ctl = (0x03 << 16) | 0x08 | 0x02;
    for (int i = 0; i < 4; i++) {
        desc[i] = ctl >> (24 - 8 * i);
    }
    desc[7] = 8;
    desc[14] = 0x20;
    memmap_write(m->mem, 0x1000, desc, 16);
    ioport_write(m->io, 0x514, 0, 4);
    ioport_write(m->io, 0x518, __builtin_bswap32(0x1000), 4);
    g_assert_cmphex(memmap_read_sized(m->mem, 0x1000, 4), ==, 0);
    g_assert_cmphex(memmap_read_sized(m->mem, 0x2000, 8), ==, 64 << 20);
    /* A descriptor pointing outside RAM changes nothing on the host. */
    desc[8] = 0xff;
    memmap_write(m->mem, 0x1000, desc, 16);
    ioport_write(m->io, 0x514, 0, 4);
    ioport_write(m->io, 0x518, __builtin_bswap32(0x1000), 4);
    /* The DMA register reads back "QEMU CFG". */
    g_assert_cmphex(ioport_read(m->io, 0x514, 1), ==, 'Q');
    mimic_machine_free(m);
}

/* The legacy x87 error path: FERR# raises IRQ13 (vector 0x75 behind the
   slave PIC); a write to port 0xF0 drops it and asserts IGNNE#, until
   FERR# goes away; a write without FERR# does nothing. */
static void test_ferr_irq13(void)
{
    MimicMachine *m = make_machine(false);
    const uint8_t icw[] = { 0x11, 0x08, 0x04, 0x01 };
    const uint8_t icw2[] = { 0x11, 0x70, 0x02, 0x01 };
    for (int i = 0; i < 4; i++) {
        ioport_write(m->io, i ? 0x21 : 0x20, icw[i], 1);
        ioport_write(m->io, i ? 0xa1 : 0xa0, icw2[i], 1);
    }
    ioport_write(m->io, 0x21, 0xfb, 1); /* cascade only */
    ioport_write(m->io, 0xa1, 0xdf, 1); /* IRQ13 only */
    g_assert_nonnull(fake->bus.output);
    ioport_write(m->io, 0xf0, 0, 1);
    g_assert_false(fake->ignne);
    g_assert_false(fake->intr);
    fake->bus.output(fake->bus.output_opaque, CPU_X86_OUT_FERR, true);
    g_assert_true(fake->intr);
    g_assert_false(fake->ignne);
    g_assert_cmpint(fake->bus.intr_ack(fake->bus.intr_opaque), ==, 0x75);
    ioport_write(m->io, 0xa0, 0x20, 1); /* EOIs */
    ioport_write(m->io, 0x20, 0x20, 1);
    g_assert_false(fake->intr);
    ioport_write(m->io, 0xf0, 0, 1);
    g_assert_true(fake->ignne);
    /* IRR is clear: the line went down with the port write. */
    ioport_write(m->io, 0xa0, 0x0a, 1);
    g_assert_cmphex(ioport_read(m->io, 0xa0, 1) & 0x20, ==, 0);
    fake->bus.output(fake->bus.output_opaque, CPU_X86_OUT_FERR, false);
    g_assert_false(fake->ignne);
    g_assert_false(fake->intr);
    /* The next error raises IRQ13 again; a reset clears everything. */
    fake->bus.output(fake->bus.output_opaque, CPU_X86_OUT_FERR, true);
    g_assert_true(fake->intr);
    ioport_write(m->io, 0xa0, 0x0a, 1);
    g_assert_cmphex(ioport_read(m->io, 0xa0, 1) & 0x20, ==, 0x20);
    mimic_machine_free(m);
}

static void test_irq_path_and_serial(void)
{
    MimicMachine *m = make_machine(false);
    /* Program the PICs as a BIOS does; unmask IRQ0 and IRQ4. */
    const uint8_t icw[] = { 0x11, 0x08, 0x04, 0x01 };
    const uint8_t icw2[] = { 0x11, 0x70, 0x02, 0x01 };
    for (int i = 0; i < 4; i++) {
        ioport_write(m->io, i ? 0x21 : 0x20, icw[i], 1);
        ioport_write(m->io, i ? 0xa1 : 0xa0, icw2[i], 1);
    }
    ioport_write(m->io, 0x21, 0xee, 1);
    /* PIT channel 0, mode 2, count 1193 (~1 ms). */
    ioport_write(m->io, 0x43, 0x34, 1);
    ioport_write(m->io, 0x40, 1193 & 0xff, 1);
    ioport_write(m->io, 0x40, 1193 >> 8, 1);
    g_assert_false(fake->intr);
    m->clock->icount = 2000000; /* 2 ms of virtual time */
    clock_run_timers(m->clock);
    g_assert_true(fake->intr);
    g_assert_cmpint(fake->bus.intr_ack(fake->bus.intr_opaque), ==, 0x08);
    g_assert_false(fake->intr);
    ioport_write(m->io, 0x20, 0x20, 1); /* EOI */
    /* Serial: THR empty interrupt on IRQ4 once enabled, output to file. */
    ioport_write(m->io, 0x3f9, 0x02, 1);
    ioport_write(m->io, 0x3fc, 0x08, 1); /* OUT2 */
    g_assert_true(fake->intr);
    g_assert_cmpint(fake->bus.intr_ack(fake->bus.intr_opaque), ==, 0x0c);
    const char *msg = "SeaBIOS-like output\n";
    for (const char *p = msg; *p; p++) {
        ioport_write(m->io, 0x3f8, *p, 1);
    }
    g_assert_cmphex(ioport_read(m->io, 0x3fd, 1) & 0x60, ==, 0x60);
    /* Fast A20 and reset through port 0x92 and 0xcf9. */
    ioport_write(m->io, 0x92, 0x02, 1);
    g_assert_true(fake->a20);
    g_assert_cmphex(ioport_read(m->io, 0x92, 1), ==, 0x02);
    ioport_write(m->io, 0x92, 0x00, 1);
    g_assert_false(fake->a20);
    ioport_write(m->io, 0xcf9, 0x06, 1);
    g_assert_true(m->reset_requested);
    mimic_machine_free(m);
    gchar *out;
    g_assert_true(g_file_get_contents(serial_path, &out, NULL, NULL));
    g_assert_cmpstr(out, ==, msg);
    g_free(out);
}

static void test_keyboard(void)
{
    MimicMachine *m = make_machine(false);
    /* Controller self-test, then a key press and release through IRQ1. */
    ioport_write(m->io, 0x64, 0xaa, 1);
    g_assert_cmphex(ioport_read(m->io, 0x64, 1) & 1, ==, 1);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0x55);
    ioport_write(m->io, 0x60, 0xf2, 1); /* identify */
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0xfa);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0xab);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0x41); /* translated */
    m->board_info->send_key(&m->board, 30, true);  /* 'a' */
    m->board_info->send_key(&m->board, 103, false); /* up, released */
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0x1e);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0xe0);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0xc8);
    g_assert_cmphex(ioport_read(m->io, 0x64, 1) & 1, ==, 0);
    /* Output port: A20 off and on. */
    ioport_write(m->io, 0x64, 0xd1, 1);
    ioport_write(m->io, 0x60, 0x01, 1);
    g_assert_false(fake->a20);
    ioport_write(m->io, 0x64, 0xd1, 1);
    ioport_write(m->io, 0x60, 0x03, 1);
    g_assert_true(fake->a20);
    /* Pulsing the reset line asks the machine for a reset. */
    ioport_write(m->io, 0x64, 0xfe, 1);
    g_assert_true(m->reset_requested);
    mimic_machine_free(m);
}

static char *mon(MimicMachine *m, const char *line)
{
    GString *out = g_string_new(NULL);
    monitor_execute(m, line, out);
    return g_string_free(out, FALSE);
}

#define assert_mon(m, line, want)                                          \
    do {                                                                   \
        g_autofree char *o_ = mon((m), (line));                            \
        g_assert_cmpstr(o_, ==, (want));                                   \
    } while (0)

#define assert_mon_has(m, line, want)                                      \
    do {                                                                   \
        g_autofree char *o_ = mon((m), (line));                            \
        if (!strstr(o_, (want))) {                                         \
            g_error("'%s' gave '%s', wanted '%s'", (line), o_, (want));    \
        }                                                                  \
    } while (0)

/* An ATAPI packet without data to the secondary master; returns the
   sense key of the result (0: good). */
static int cd_packet(MimicMachine *m, const uint8_t cdb[12])
{
    ioport_write(m->io, 0x176, 0xa0, 1);
    ioport_write(m->io, 0x171, 0, 1);
    ioport_write(m->io, 0x174, 0x00, 1);
    ioport_write(m->io, 0x175, 0x08, 1);
    ioport_write(m->io, 0x177, 0xa0, 1);
    for (int i = 0; i < 12; i += 2) {
        ioport_write(m->io, 0x170, cdb[i] | cdb[i + 1] << 8, 2);
    }
    for (int i = 0; i < 4096 && (ioport_read(m->io, 0x177, 1) & 0x08); i++) {
        ioport_read(m->io, 0x170, 2);
    }
    uint8_t st = ioport_read(m->io, 0x177, 1);
    return st & 1 ? ioport_read(m->io, 0x171, 1) >> 4 : 0;
}

static uint32_t cd_sense(MimicMachine *m)
{
    uint8_t b[18];
    ioport_write(m->io, 0x176, 0xa0, 1);
    ioport_write(m->io, 0x171, 0, 1);
    ioport_write(m->io, 0x174, 18, 1);
    ioport_write(m->io, 0x175, 0, 1);
    ioport_write(m->io, 0x177, 0xa0, 1);
    static const uint8_t rs[12] = { 0x03, 0, 0, 0, 18 };
    for (int i = 0; i < 12; i += 2) {
        ioport_write(m->io, 0x170, rs[i] | rs[i + 1] << 8, 2);
    }
    for (int i = 0; i < 18; i += 2) {
        uint16_t w = ioport_read(m->io, 0x170, 2);
        b[i] = w;
        b[i + 1] = w >> 8;
    }
    return (uint32_t)b[2] << 16 | b[12] << 8 | b[13];
}

static void write_iso(const char *path, int blocks, uint8_t fill)
{
    g_autofree char *data = g_malloc(blocks * 2048);
    memset(data, fill, blocks * 2048);
    g_assert_true(g_file_set_contents(path, data, blocks * 2048, NULL));
}

static void test_monitor_block(void)
{
    g_autofree char *dir = g_dir_make_tmp("mimic-blk-XXXXXX", NULL);
    g_autofree char *disk = g_build_filename(dir, "d.img", NULL);
    g_autofree char *a = g_build_filename(dir, "a.iso", NULL);
    g_autofree char *b = g_build_filename(dir, "b.iso", NULL);
    write_iso(disk, 512, 0);
    write_iso(a, 4, 0xaa);
    write_iso(b, 8, 0xbb);

    MachineConfig cfg;
    machine_config_init(&cfg);
    cfg.ram_size = 64 << 20;
    cfg.icount_shift = 0;
    cfg.display = DISPLAY_NONE;
    g_free(cfg.serial[0]);
    cfg.serial[0] = g_strconcat("file:", serial_path, NULL);
    cfg.drives[0] = (DriveConfig){ .file = g_strdup(disk),
        .format = g_strdup("raw"), .interface = DRIVE_IF_IDE, .index = 0,
        .media = DRIVE_MEDIA_DISK };
    cfg.drives[1] = (DriveConfig){ .file = g_strdup(a),
        .format = g_strdup("raw"), .interface = DRIVE_IF_IDE, .index = 2,
        .media = DRIVE_MEDIA_CDROM, .readonly = true };
    cfg.n_drives = 2;
    GError *err = NULL;
    MimicMachine *m = mimic_machine_new(&cfg, &err);
    g_assert_no_error(err);
    machine_config_clear(&cfg);

    g_autofree char *hd_line = g_strdup_printf(
        "ide0-hd0 (#block100): %s (raw)\n", disk);
    g_autofree char *cd_a = g_strdup_printf(
        "ide1-cd0 (#block101): %s (raw, read-only)\n", a);
    g_autofree char *info = mon(m, "info block");
    g_assert_nonnull(strstr(info, hd_line));
    g_assert_nonnull(strstr(info, cd_a));
    g_assert_nonnull(strstr(info, "Removable device: not locked, tray "
                                  "closed\n"));
    g_autofree char *one = mon(m, "info block ide1-cd0");
    g_assert_true(g_str_has_prefix(one, cd_a));
    g_assert_null(strstr(one, "ide0-hd0"));
    assert_mon(m, "info block ide9-cd9", "Device 'ide9-cd9' not found\n");

    static const uint8_t tur[12] = { 0x00 };
    static const uint8_t lock[12] = { 0x1e, 0, 0, 0, 1 };
    g_assert_cmpint(cd_packet(m, tur), ==, 0);

    /* change: the guest sees UNIT ATTENTION, then a ready drive. */
    g_autofree char *chg = g_strdup_printf("change ide1-cd0 %s", b);
    assert_mon(m, chg, "");
    g_autofree char *cd_b = g_strdup_printf(
        "ide1-cd0 (#block102): %s (raw, read-only)\n", b);
    assert_mon_has(m, "info block ide1-cd0", cd_b);
    g_assert_cmpint(cd_packet(m, tur), ==, 6);
    g_assert_cmphex(cd_sense(m), ==, 0x062800);
    g_assert_cmpint(cd_packet(m, tur), ==, 0);

    /* Failures leave the medium in. */
    g_autofree char *missing = g_build_filename(dir, "missing.iso", NULL);
    g_autofree char *chg_missing = g_strdup_printf("change ide1-cd0 %s",
                                                   missing);
    assert_mon_has(m, chg_missing, "Could not open");
    g_autofree char *chg_fmt = g_strdup_printf("change ide1-cd0 %s qcow2",
                                               a);
    g_autofree char *fmt_err = mon(m, chg_fmt);
    g_assert_cmpstr(fmt_err, !=, "");
    g_autofree char *chg_nofmt = g_strdup_printf("change ide1-cd0 %s frob",
                                                 a);
    g_autofree char *nofmt_err = mon(m, chg_nofmt);
    g_assert_cmpstr(nofmt_err, !=, "");
    assert_mon_has(m, "info block ide1-cd0", cd_b);
    g_assert_cmpint(cd_packet(m, tur), ==, 0);
    g_autofree char *chg_hd = g_strdup_printf("change ide0-hd0 %s", a);
    assert_mon(m, chg_hd, "Device 'ide0-hd0' is not removable\n");
    assert_mon(m, "eject ide0-hd0", "Device 'ide0-hd0' is not removable\n");
    assert_mon(m, "eject nosuch", "Device 'nosuch' not found\n");
    g_autofree char *chg_no = g_strdup_printf("change nosuch %s", a);
    assert_mon(m, chg_no, "Device 'nosuch' not found\n");

    /* The guest locks the tray: eject needs -f. */
    g_assert_cmpint(cd_packet(m, lock), ==, 0);
    assert_mon_has(m, "info block ide1-cd0", "Removable device: locked, "
                   "tray closed");
    assert_mon(m, "eject ide1-cd0", "Device 'ide1-cd0' is locked and force "
               "was not specified, wait for tray to open and try again\n");
    g_autofree char *chg_locked = mon(m, chg);
    g_assert_nonnull(strstr(chg_locked, "is locked"));
    g_assert_cmpint(cd_packet(m, tur), ==, 0);
    assert_mon(m, "eject -f ide1-cd0", "");
    assert_mon_has(m, "info block ide1-cd0", "ide1-cd0: [not inserted]\n"
                   "    Attached to:      ide.1 unit 0\n"
                   "    Removable device: not locked, tray open\n");
    g_assert_cmpint(cd_packet(m, tur), ==, 2);
    g_assert_cmphex(cd_sense(m), ==, 0x023a00);
    /* An empty drive ejects again without complaint; a new medium closes
       the tray. */
    assert_mon(m, "eject ide1-cd0", "");
    g_autofree char *chg_a = g_strdup_printf("change ide1-cd0 %s raw", a);
    assert_mon(m, chg_a, "");
    assert_mon_has(m, "info block ide1-cd0", "not locked, tray closed");
    g_assert_cmpint(cd_packet(m, tur), ==, 6);
    g_assert_cmpint(cd_packet(m, tur), ==, 0);

    /* Hostile lines. */
    assert_mon_has(m, "change", "usage");
    assert_mon_has(m, "change ide1-cd0", "usage");
    assert_mon_has(m, "change a b c d", "usage");
    assert_mon_has(m, "eject", "usage");
    assert_mon_has(m, "eject -f", "usage");
    assert_mon_has(m, "eject -f ide1-cd0 extra", "usage");
    assert_mon(m, "eject %s%n%x", "Device '%s%n%x' not found\n");
    GString *longname = g_string_new("eject ");
    for (int i = 0; i < 900; i++) {
        g_string_append_c(longname, 'x');
    }
    assert_mon_has(m, longname->str, "not found");
    g_string_free(longname, TRUE);
    g_autofree char *empty = mon(m, "change ide1-cd0 ''");
    g_assert_cmpstr(empty, !=, "");
    assert_mon_has(m, "info block ide1-cd0", "ide1-cd0");

    mimic_machine_free(m);
    g_unlink(disk);
    g_unlink(a);
    g_unlink(b);
    g_rmdir(dir);
}

static void test_mouse_path(void)
{
    MimicMachine *m = make_machine(false);
    /* Enable the mouse as a driver would. */
    ioport_write(m->io, 0x64, 0xd4, 1);
    ioport_write(m->io, 0x60, 0xf4, 1);
    g_assert_cmphex(ioport_read(m->io, 0x64, 1) & 0x21, ==, 0x21);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0xfa);
    assert_mon(m, "mouse_button 1", "");
    g_assert_cmphex(ioport_read(m->io, 0x64, 1) & 0x21, ==, 0x21);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0x09);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0);
    /* mouse_move keeps the buttons held; dy is down on the screen. */
    assert_mon(m, "mouse_move 5 -3", "");
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0x09);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 5);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 3);
    assert_mon(m, "mouse_button 0", "");
    for (int i = 0; i < 3; i++) {
        ioport_read(m->io, 0x60, 1);
    }
    assert_mon(m, "mouse_move -2 1 1", "");
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0x38);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0xfe);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0xff);
    g_assert_cmphex(ioport_read(m->io, 0x64, 1) & 1, ==, 0);
    /* Hostile lines: nothing reaches the guest. */
    assert_mon_has(m, "mouse_move", "usage");
    assert_mon_has(m, "mouse_move 1", "usage");
    assert_mon_has(m, "mouse_move 1 2 3 4", "usage");
    assert_mon_has(m, "mouse_move a 2", "invalid number 'a'");
    assert_mon_has(m, "mouse_move 1 99999999999999999999", "invalid number");
    assert_mon_has(m, "mouse_move 1 2 -99999999999", "invalid number");
    assert_mon_has(m, "mouse_move 0x 2", "invalid number");
    assert_mon_has(m, "mouse_button", "usage");
    assert_mon_has(m, "mouse_button 32", "invalid button state");
    assert_mon_has(m, "mouse_button -1", "invalid button state");
    assert_mon_has(m, "mouse_button 1e9", "invalid button state");
    g_assert_cmphex(ioport_read(m->io, 0x64, 1) & 1, ==, 0);
    /* Huge but valid numbers are clamped by the mouse. */
    assert_mon(m, "mouse_move 2147483647 -2147483648 2147483647", "");
    g_assert_cmphex(ioport_read(m->io, 0x64, 1) & 0x21, ==, 0x21);
    mimic_machine_free(m);
}

/* The front end's pointer events reach the mouse on the worker thread,
   in order with the other commands (quit comes after them). */
static void test_pointer_through_worker(void)
{
    MimicMachine *m = make_machine(false);
    ioport_write(m->io, 0x64, 0xd4, 1);
    ioport_write(m->io, 0x60, 0xf4, 1);
    g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, 0xfa);
    GError *err = NULL;
    g_assert_true(mimic_machine_start(m, &err));
    g_assert_no_error(err);
    mimic_machine_send_pointer_rel(m, 7, -2, 0, 0x01);
    mimic_machine_send_pointer_rel(m, 0, 0, 0, 0x00);
    mimic_machine_quit(m);
    g_assert_cmpint(mimic_machine_wait(m), ==, 0);
    static const uint8_t want[] = { 0x09, 7, 2, 0x08, 0, 0 };
    for (size_t i = 0; i < sizeof(want); i++) {
        g_assert_cmphex(ioport_read(m->io, 0x64, 1) & 0x21, ==, 0x21);
        g_assert_cmphex(ioport_read(m->io, 0x60, 1), ==, want[i]);
    }
    g_assert_cmphex(ioport_read(m->io, 0x64, 1) & 1, ==, 0);
    mimic_machine_free(m);
}

static void advance(MimicMachine *m, int64_t ns)
{
    int64_t end = clock_now(m->clock) + ns;
    for (;;) {
        int64_t d = clock_next_deadline(m->clock);
        if (d > end) {
            break;
        }
        clock_warp_to(m->clock, d);
        clock_run_timers(m->clock);
    }
    clock_warp_to(m->clock, end);
}

static int read_kbd(MimicMachine *m, uint8_t *b, int max)
{
    int n = 0;
    while (n < max && (ioport_read(m->io, 0x64, 1) & 1)) {
        b[n++] = ioport_read(m->io, 0x60, 1);
    }
    return n;
}

/* sendkey holds its keys for hold_ms of machine time; held long enough,
   the keyboard's typematic repeat (500 ms, then every 91.7 ms) runs. */
static void test_sendkey_hold(void)
{
    MimicMachine *m = make_machine(false);
    uint8_t b[64];
    assert_mon(m, "sendkey a 1000", "");
    g_assert_cmpint(read_kbd(m, b, 64), ==, 1);
    g_assert_cmphex(b[0], ==, 0x1e);
    advance(m, 999 * 1000000LL);
    int n = read_kbd(m, b, 64);
    g_assert_cmpint(n, ==, 6); /* at 500, 592, 683, 775, 867, 958 ms */
    for (int i = 0; i < n; i++) {
        g_assert_cmphex(b[i], ==, 0x1e);
    }
    advance(m, 1000000LL);
    g_assert_cmpint(read_kbd(m, b, 64), ==, 1);
    g_assert_cmphex(b[0], ==, 0x9e);
    advance(m, 1000 * 1000000LL);
    g_assert_cmpint(read_kbd(m, b, 64), ==, 0);
    /* The default hold is short of the typematic delay; the next sendkey
       releases the previous keys first. */
    assert_mon(m, "sendkey ctrl-c", "");
    assert_mon(m, "sendkey b", "");
    static const uint8_t want[] = { 0x1d, 0x2e, 0xae, 0x9d, 0x30 };
    g_assert_cmpint(read_kbd(m, b, 64), ==, sizeof(want));
    g_assert_cmpmem(b, sizeof(want), want, sizeof(want));
    advance(m, 100 * 1000000LL);
    g_assert_cmpint(read_kbd(m, b, 64), ==, 1);
    g_assert_cmphex(b[0], ==, 0xb0);
    assert_mon(m, "sendkey x 0", "");
    g_assert_cmpint(read_kbd(m, b, 64), ==, 2);
    assert_mon_has(m, "sendkey a -5", "invalid hold time");
    assert_mon_has(m, "sendkey a 99999999999999", "invalid hold time");
    assert_mon_has(m, "sendkey a 1x", "invalid hold time");
    g_assert_cmpint(read_kbd(m, b, 64), ==, 0);
    mimic_machine_free(m);
}

static void test_device_states(void)
{
    MimicMachine *m = make_machine(false);
    guint n = device_list_length(m->devices);
    g_assert_cmpuint(n, >=, 9);
    for (guint i = 0; i < n; i++) {
        Device *d = device_list_nth(m->devices, i);
        const StateDesc *st = d->info->state;
        if (!st) {
            /* Every device saves its state or says why it need not. */
            g_assert_nonnull(d->info->unmigratable);
            continue;
        }
        GByteArray *a = g_byte_array_new(), *b = g_byte_array_new();
        state_save(st, d, a);
        GError *err = NULL;
        g_assert_true(state_load(st, d, st->version, a->data, a->len, NULL,
                                 &err));
        g_assert_no_error(err);
        state_save(st, d, b);
        g_assert_cmpmem(a->data, a->len, b->data, b->len);
        /* Truncation is refused. */
        if (a->len) {
            g_assert_false(state_load(st, d, st->version, a->data,
                                      a->len - 1, NULL, &err));
            g_clear_error(&err);
        }
        g_byte_array_free(a, TRUE);
        g_byte_array_free(b, TRUE);
    }
    mimic_machine_free(m);
}

static void test_port_fuzz(void)
{
    MimicMachine *m = make_machine(false);
    GRand *r = g_rand_new_with_seed(99);
    static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x40, 0x41,
                                      0x42, 0x43, 0x61, 0x70, 0x71, 0x3f8,
                                      0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd,
                                      0x510, 0x511, 0x514, 0x518, 0xcf8,
                                      0xcfc, 0xcfd, 0x0, 0x8, 0xc0, 0x81,
                                      0x4d0, 0x4d1, 0x402, 0x60, 0x64,
                                      0x3f2, 0x3f4, 0x3f5, 0x3f7 };
    for (int i = 0; i < 100000; i++) {
        uint16_t p = ports[g_rand_int_range(r, 0, G_N_ELEMENTS(ports))];
        unsigned size = 1u << g_rand_int_range(r, 0, 3);
        uint32_t v = g_rand_int(r);
        if (p == 0xcf9 || p == 0x92 || p == 0x64) {
            continue;
        }
        if (p == 0x518 && (v & 1)) {
            v = __builtin_bswap32(g_rand_int_range(r, 0, 64 << 20));
        }
        if (g_rand_boolean(r)) {
            ioport_write(m->io, p, v, size);
        } else {
            (void)ioport_read(m->io, p, size);
        }
        if ((i & 1023) == 0) {
            m->clock->icount += g_rand_int_range(r, 0, 10000000);
            clock_run_timers(m->clock);
        }
    }
    g_rand_free(r);
    mimic_machine_free(m);
}

/* The floppy controller on the board: CMOS drive types from the media,
   -boot a in the CMOS boot order, and a sector read through IRQ 6 and
   DMA channel 2 as SeaBIOS does it. */
static void test_floppy(void)
{
    g_autofree char *dir = g_dir_make_tmp("mimic-pc-fd-XXXXXX", NULL);
    g_autofree char *a = g_build_filename(dir, "a.img", NULL);
    g_autofree char *b = g_build_filename(dir, "b.img", NULL);
    size_t sa = 1474560, sb = 2949120;
    uint8_t *img = g_malloc(sb);
    for (size_t i = 0; i < sb; i++) {
        img[i] = (uint8_t)(i / 512 + i * 13);
    }
    g_assert_true(g_file_set_contents(a, (char *)img, sa, NULL));
    g_assert_true(g_file_set_contents(b, (char *)img, sb, NULL));
    MachineConfig cfg;
    machine_config_init(&cfg);
    cfg.ram_size = 64 << 20;
    cfg.icount_shift = 0;
    cfg.display = DISPLAY_NONE;
    const char *files[2] = { a, b };
    for (int i = 0; i < 2; i++) {
        DriveConfig *d = &cfg.drives[cfg.n_drives++];
        d->file = g_strdup(files[i]);
        d->format = g_strdup("raw");
        d->interface = DRIVE_IF_FLOPPY;
        d->index = i;
    }
    g_strlcpy(cfg.boot_order, "a", sizeof(cfg.boot_order));
    GError *err = NULL;
    MimicMachine *m = mimic_machine_new(&cfg, &err);
    g_assert_no_error(err);
    machine_config_clear(&cfg);
    g_assert_cmphex(cmos(m, 0x10), ==, 0x45); /* A: 1.44 MB, B: 2.88 MB */
    g_assert_cmphex(cmos(m, 0x14) & 0xc1, ==, 0x41); /* two drives */
    g_assert_cmphex(cmos(m, 0x3d) & 0x0f, ==, 1); /* floppy first */
    /* PICs as a BIOS sets them, IRQ 6 unmasked. */
    const uint8_t icw[] = { 0x11, 0x08, 0x04, 0x01 };
    for (int i = 0; i < 4; i++) {
        ioport_write(m->io, i ? 0x21 : 0x20, icw[i], 1);
    }
    ioport_write(m->io, 0x21, 0xbf, 1);
    /* Controller reset: IRQ 6 (vector 0x0e), then SENSE INTERRUPT. */
    ioport_write(m->io, 0x3f2, 0x08, 1);
    ioport_write(m->io, 0x3f2, 0x0c, 1);
    g_assert_true(fake->intr);
    g_assert_cmpint(fake->bus.intr_ack(fake->bus.intr_opaque), ==, 0x0e);
    ioport_write(m->io, 0x20, 0x20, 1);
    ioport_write(m->io, 0x3f5, 0x08, 1);
    g_assert_cmphex(ioport_read(m->io, 0x3f5, 1), ==, 0xc0);
    g_assert_cmphex(ioport_read(m->io, 0x3f5, 1), ==, 0);
    /* DMA channel 2 to 0x23400 (page 2), three sectors from C1 H0 R5 of
       drive B at 1 Mbit/s. */
    const uint8_t dma[][2] = { { 0x0a, 0x06 }, { 0x0c, 0 }, { 0x04, 0x00 },
                               { 0x04, 0x34 }, { 0x0c, 0 }, { 0x05, 0xff },
                               { 0x05, 0x05 }, { 0x0b, 0x46 },
                               { 0x81, 0x02 }, { 0x0a, 0x02 } };
    for (size_t i = 0; i < G_N_ELEMENTS(dma); i++) {
        ioport_write(m->io, dma[i][0], dma[i][1], 1);
    }
    ioport_write(m->io, 0x3f2, 0x2d, 1);
    ioport_write(m->io, 0x3f7, 0x03, 1);
    const uint8_t rd[] = { 0xe6, 0x01, 1, 0, 5, 2, 36, 0x1b, 0xff };
    for (size_t i = 0; i < sizeof(rd); i++) {
        g_assert_cmphex(ioport_read(m->io, 0x3f4, 1) & 0xc0, ==, 0x80);
        ioport_write(m->io, 0x3f5, rd[i], 1);
    }
    g_assert_true(fake->intr);
    g_assert_cmpint(fake->bus.intr_ack(fake->bus.intr_opaque), ==, 0x0e);
    uint8_t res[7];
    for (int i = 0; i < 7; i++) {
        res[i] = ioport_read(m->io, 0x3f5, 1);
    }
    const uint8_t ok[7] = { 0x01, 0, 0, 1, 0, 8, 2 };
    g_assert_cmpmem(res, 7, ok, 7);
    uint8_t got[3 * 512];
    memmap_read(m->mem, 0x23400, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), img + (72 + 4) * 512, sizeof(got));
    mimic_machine_free(m);
    g_free(img);
    g_unlink(a);
    g_unlink(b);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_file_test("/usr/share/seabios/bios-256k.bin", G_FILE_TEST_EXISTS)) {
        g_printerr("SKIP: Debian's seabios package is not installed\n");
        return 77;
    }
    g_autofree char *dir = g_dir_make_tmp("mimic-pc-XXXXXX", NULL);
    serial_path = g_build_filename(dir, "serial.txt", NULL);
    g_test_add_func("/hw/pc/pci-and-pam", test_pci_and_pam);
    g_test_add_func("/hw/pc/cmos-and-fw_cfg", test_cmos_fw_cfg);
    g_test_add_func("/hw/pc/irq-path-and-serial", test_irq_path_and_serial);
    g_test_add_func("/hw/pc/ferr-irq13", test_ferr_irq13);
    g_test_add_func("/hw/pc/keyboard", test_keyboard);
    g_test_add_func("/hw/pc/floppy", test_floppy);
    g_test_add_func("/hw/pc/monitor-block", test_monitor_block);
    g_test_add_func("/hw/pc/mouse-path", test_mouse_path);
    g_test_add_func("/hw/pc/sendkey-hold", test_sendkey_hold);
    g_test_add_func("/hw/pc/pointer-through-worker",
                    test_pointer_through_worker);
    g_test_add_func("/hw/pc/device-states", test_device_states);
    g_test_add_func("/hw/pc/port-fuzz", test_port_fuzz);
    int rc = g_test_run();
    g_unlink(serial_path);
    g_rmdir(dir);
    return rc;
}
