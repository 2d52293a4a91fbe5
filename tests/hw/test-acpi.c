/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PIIX4 power-management function of the pc board (ACPI), driven
 * through PCI configuration and its ports as SeaBIOS and an ACPI OS do:
 * PM timer rate under -icount, S5 power-off, the power button and its SCI
 * on IRQ 9, the APM port that turns SCI_EN on, GPE0, reset.
 */
#include "pc-rig.h"

#include "hw/pc/piix4_pm.h"

#define PM_BASE 0xb000
#define PM1_STS (PM_BASE + 0)
#define PM1_EN (PM_BASE + 2)
#define PM1_CNT (PM_BASE + 4)
#define PM_TMR (PM_BASE + 8)
#define NS 1000000000LL

static Piix4Pm *pm_of(MimicMachine *m)
{
    Device *d = device_find(m->devices, "piix4-pm");
    g_assert_nonnull(d);
    return (Piix4Pm *)d;
}

/* What SeaBIOS's PIIX4 PM set-up does. */
static void program_pm(MimicMachine *m)
{
    rig_pci_write(m, PIIX4_PM_DEVFN, 0x3c, 9, 1);
    rig_pci_write(m, PIIX4_PM_DEVFN, 0x40, PM_BASE | 1, 4);
    rig_pci_write(m, PIIX4_PM_DEVFN, 0x80, 0x01, 1);
}

static void test_config(void)
{
    MimicMachine *m = rig_new(NULL);
    int fn = PIIX4_PM_DEVFN;
    g_assert_cmphex(rig_pci_read(m, fn, 0x00, 4), ==, 0x71138086);
    g_assert_cmphex(rig_pci_read(m, fn, 0x08, 4), ==, 0x06800003);
    g_assert_cmphex(rig_pci_read(m, fn, 0x3d, 1), ==, 1);
    /* The PIIX3 says it is multi-function, so firmware scans 00:01.3. */
    g_assert_cmphex(rig_pci_read(m, 1 << 3, 0x0e, 1) & 0x80, ==, 0x80);
    /* APMC_EN reads as set (and stays set): SeaBIOS skips SMM set-up. */
    g_assert_cmphex(rig_pci_read(m, fn, 0x58, 4) & (1u << 25), !=, 0);
    rig_pci_write(m, fn, 0x58, 0, 4);
    g_assert_cmphex(rig_pci_read(m, fn, 0x58, 4) & (1u << 25), !=, 0);
    /* PMBA: bit 0 hard-wired, 64-byte granularity. */
    g_assert_cmphex(rig_pci_read(m, fn, 0x40, 4), ==, 1);
    rig_pci_write(m, fn, 0x40, 0xffffffff, 4);
    g_assert_cmphex(rig_pci_read(m, fn, 0x40, 4), ==, 0xffc1);
    /* Nothing decodes until PMIOSE is set. */
    rig_pci_write(m, fn, 0x40, PM_BASE | 1, 4);
    g_assert_cmphex(ioport_read(m->io, PM_TMR, 4), ==, 0xffffffff);
    rig_pci_write(m, fn, 0x80, 1, 1);
    g_assert_cmphex(ioport_read(m->io, PM_TMR, 4) >> 24, ==, 0);
    g_assert_cmphex(ioport_read(m->io, PM1_CNT, 2), ==, 0);
    /* Moving the block moves the decode. */
    rig_pci_write(m, fn, 0x40, 0x600 | 1, 4);
    g_assert_cmphex(ioport_read(m->io, PM1_CNT, 2), ==, 0xffff);
    g_assert_cmphex(ioport_read(m->io, 0x604, 2), ==, 0);
    /* A reset puts the function back: no decode. */
    machine_do_reset(m);
    g_assert_cmphex(rig_pci_read(m, fn, 0x40, 4), ==, 1);
    g_assert_cmphex(ioport_read(m->io, 0x604, 2), ==, 0xffff);
    mimic_machine_free(m);
}

static void test_pm_timer_rate(void)
{
    MimicMachine *m = rig_new(NULL);
    program_pm(m);
    /* Over 10 s of virtual time in 1 s steps the 24-bit timer advances
       3579545 (or, from rounding, 3579546) ticks a second, 35795450 in
       all (each step and the total taken modulo 2^24). */
    uint32_t first = ioport_read(m->io, PM_TMR, 4);
    g_assert_cmphex(first >> 24, ==, 0);
    uint32_t prev = first;
    for (int i = 0; i < 10; i++) {
        m->clock->icount += NS;
        uint32_t v = ioport_read(m->io, PM_TMR, 4);
        g_assert_cmphex(v >> 24, ==, 0);
        uint32_t d = (v - prev) & 0xffffff;
        g_assert_cmpuint(d, >=, 3579545);
        g_assert_cmpuint(d, <=, 3579546);
        prev = v;
    }
    uint32_t total = (prev - first) & 0xffffff;
    uint32_t want = 35795450 & 0xffffff;
    g_assert_cmpuint(total, >=, want - 1);
    g_assert_cmpuint(total, <=, want + 1);
    /* 1 us is 3.58 ticks: 3 or 4.  Byte reads see the same value. */
    uint32_t a = ioport_read(m->io, PM_TMR, 4);
    m->clock->icount += 1000;
    uint32_t b = ioport_read(m->io, PM_TMR, 4);
    g_assert_cmpuint((b - a) & 0xffffff, >=, 3);
    g_assert_cmpuint((b - a) & 0xffffff, <=, 4);
    uint32_t bytes = 0;
    for (int i = 0; i < 4; i++) {
        bytes |= ioport_read(m->io, PM_TMR + i, 1) << (8 * i);
    }
    g_assert_cmphex(bytes, ==, b);
    /* Deterministic: a second machine at the same instruction count reads
       the same value. */
    int64_t icount = m->clock->icount;
    MimicMachine *m2 = rig_new(NULL);
    program_pm(m2);
    m2->clock->icount = icount;
    g_assert_cmphex(ioport_read(m2->io, PM_TMR, 4), ==, b);
    mimic_machine_free(m2);
    mimic_machine_free(m);
}

static void realtime(MachineConfig *cfg)
{
    cfg->icount_shift = -1;
}

/* In real time a 32-bit read of PM_TMR is one sample: taken as four byte
   reads at four instants it could step back by up to 255 ticks after a
   carry, and SeaBIOS, extending the 24-bit timer, takes a step back for
   a wrap (4.7 s at once), which timed out its USB disk polls.  Reads
   follow each other within microseconds, so every step is forward and
   far below half the range. */
static void test_pm_timer_monotonic(void)
{
    MimicMachine *m = rig_new(realtime);
    program_pm(m);
    clock_resume(m->clock); /* a stopped machine's clock stands still */
    uint32_t first = ioport_read(m->io, PM_TMR, 4);
    uint32_t prev = ioport_read(m->io, PM_TMR, 4);
    for (int i = 0; i < 200000; i++) {
        uint32_t v = ioport_read(m->io, PM_TMR, 4);
        g_assert_cmphex((v - prev) & 0xffffff, <, 0x800000);
        prev = v;
    }
    g_assert_cmphex(prev, !=, first); /* time went on */
    mimic_machine_free(m);
}

static void test_timer_overflow_sci(void)
{
    MimicMachine *m = rig_new(NULL);
    program_pm(m);
    rig_pic_init(m, 1 << 9);
    Piix4Pm *pm = pm_of(m);
    ioport_write(m->io, PM1_STS, 0xffff, 2);
    g_assert_cmphex(ioport_read(m->io, PM1_STS, 2) & PM1_TMR_STS, ==, 0);
    /* ACPI on (through the FADT's SMI_CMD value), TMR_EN: the SCI comes
       when bit 23 of the timer toggles, every 2^23 ticks (2.34 s). */
    ioport_write(m->io, 0xb2, 0xf1, 1);
    g_assert_cmphex(ioport_read(m->io, PM1_CNT, 2) & PM1_SCI_EN, ==, 1);
    ioport_write(m->io, PM1_EN, PM1_TMR_STS, 2);
    g_assert_false(pm->sci->level);
    rig_advance(m, 2400000000LL);
    g_assert_true(pm->sci->level);
    g_assert_true(fake->intr);
    g_assert_cmphex(rig_pic_ack(m), ==, 0x71);
    g_assert_cmphex(ioport_read(m->io, PM1_STS, 2) & PM1_TMR_STS, ==,
                    PM1_TMR_STS);
    ioport_write(m->io, PM1_STS, PM1_TMR_STS, 2);
    g_assert_false(pm->sci->level);
    /* ACPI off again: no SCI. */
    ioport_write(m->io, 0xb2, 0xf0, 1);
    rig_advance(m, 2400000000LL);
    g_assert_false(pm->sci->level);
    mimic_machine_free(m);
}

static void test_power_button(void)
{
    MimicMachine *m = rig_new(NULL);
    program_pm(m);
    rig_pic_init(m, 1 << 9);
    Piix4Pm *pm = pm_of(m);
    /* Before the guest enables ACPI: the status bit, no SCI. */
    GString *out = g_string_new(NULL);
    monitor_execute(m, "system_powerdown", out);
    g_assert_cmphex(ioport_read(m->io, PM1_STS, 2) & PM1_PWRBTN_STS, ==,
                    PM1_PWRBTN_STS);
    g_assert_false(pm->sci->level);
    g_assert_false(fake->intr);
    ioport_write(m->io, PM1_STS, PM1_PWRBTN_STS, 2);
    /* An ACPI OS: SCI_EN through SMI_CMD, PWRBTN_EN. */
    ioport_write(m->io, 0xb2, 0xf1, 1);
    ioport_write(m->io, PM1_EN, PM1_PWRBTN_STS, 2);
    g_assert_false(pm->sci->level);
    g_string_truncate(out, 0);
    monitor_execute(m, "system_powerdown", out);
    g_assert_cmphex(ioport_read(m->io, PM1_STS, 2) & PM1_PWRBTN_STS, ==,
                    PM1_PWRBTN_STS);
    g_assert_true(pm->sci->level);
    g_assert_true(fake->intr);
    g_assert_cmphex(rig_pic_ack(m), ==, 0x71);
    /* The OS clears the status (write one): the SCI drops.  Writing the
       other bits' zeros changes nothing. */
    ioport_write(m->io, PM1_STS, 0, 2);
    g_assert_true(pm->sci->level);
    ioport_write(m->io, PM1_STS + 1, PM1_PWRBTN_STS >> 8, 1);
    g_assert_false(pm->sci->level);
    g_assert_false(m->poweroff_requested);
    /* GPE0: status bits (set by hardware; none here) are cleared by
       writing ones, enables read back; no SCI without a status. */
    ioport_write(m->io, PIIX4_GPE0_BASE + 2, 0xffff, 2);
    g_assert_cmphex(ioport_read(m->io, PIIX4_GPE0_BASE, 4), ==, 0xffff0000);
    g_assert_false(pm->sci->level);
    g_string_free(out, TRUE);
    mimic_machine_free(m);
}

static bool guest_s5(MimicMachine *m, int calls)
{
    if (calls == 0) {
        program_pm(m);
        ioport_write(m->io, 0xb2, 0xf1, 1);
        /* SLP_TYP alone does nothing; a sleep type that is not modelled
           wakes at once; SLP_TYP 0 (soft off) with SLP_EN powers off. */
        ioport_write(m->io, PM1_CNT, 1 | 0 << 10, 2);
        ioport_write(m->io, PM1_CNT, 1 | 1 << 10 | PM1_SLP_EN, 2);
        g_assert_cmphex(ioport_read(m->io, PM1_STS, 2) & PM1_WAK_STS, ==,
                        PM1_WAK_STS);
        g_assert_false(m->poweroff_requested);
        /* SLP_EN reads back as zero. */
        g_assert_cmphex(ioport_read(m->io, PM1_CNT, 2), ==, 1 | 1 << 10);
        ioport_write(m->io, PM1_CNT, 1 | 0 << 10 | PM1_SLP_EN, 2);
        return true;
    }
    if (calls > 1000) {
        machine_do_quit(m, 99); /* the power-off never happened */
        return false;
    }
    return true;
}

static void test_s5_poweroff(void)
{
    MimicMachine *m = rig_new(NULL);
    rig_guest = guest_s5;
    GError *err = NULL;
    g_assert_true(mimic_machine_start(m, &err));
    g_assert_no_error(err);
    g_assert_cmpint(mimic_machine_wait(m), ==, 0);
    g_assert_cmpint(rig_calls, <, 10);
    mimic_machine_free(m);
}

static bool guest_cf9(MimicMachine *m, int calls)
{
    if (calls == 0) {
        program_pm(m);
        ioport_write(m->io, 0xcf9, 0x02, 1);
        g_assert_false(m->reset_requested);
        ioport_write(m->io, 0xcf9, 0x06, 1); /* hard reset */
        return true;
    }
    /* After the reset the PM function is back at its power-on state. */
    g_assert_cmphex(rig_pci_read(m, PIIX4_PM_DEVFN, 0x40, 4), ==, 1);
    machine_do_quit(m, 7);
    return false;
}

static void test_reset(void)
{
    MimicMachine *m = rig_new(NULL);
    rig_guest = guest_cf9;
    GError *err = NULL;
    g_assert_true(mimic_machine_start(m, &err));
    g_assert_cmpint(mimic_machine_wait(m), ==, 7);
    mimic_machine_free(m);
}

static void test_port_fuzz(void)
{
    MimicMachine *m = rig_new(NULL);
    program_pm(m);
    GRand *r = g_rand_new_with_seed(4);
    for (int i = 0; i < 50000; i++) {
        uint16_t p;
        switch (g_rand_int_range(r, 0, 4)) {
        case 0:
            p = PM_BASE + g_rand_int_range(r, 0, 64);
            break;
        case 1:
            p = PIIX4_GPE0_BASE + g_rand_int_range(r, 0, 4);
            break;
        case 2:
            p = 0xb2 + g_rand_int_range(r, 0, 2);
            break;
        default:
            /* configuration space, PMBA and PMREGMISC included */
            rig_pci_write(m, PIIX4_PM_DEVFN, g_rand_int_range(r, 0, 256),
                          g_rand_int(r), 1);
            continue;
        }
        unsigned size = 1u << g_rand_int_range(r, 0, 3);
        if (g_rand_boolean(r)) {
            ioport_write(m->io, p, g_rand_int(r), size);
        } else {
            (void)ioport_read(m->io, p, size);
        }
        if ((i & 255) == 0) {
            rig_advance(m, g_rand_int_range(r, 0, 100000000));
        }
    }
    g_rand_free(r);
    mimic_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_file_test("/usr/share/seabios/bios-256k.bin", G_FILE_TEST_EXISTS)) {
        g_printerr("SKIP: Debian's seabios package is not installed\n");
        return 77;
    }
    g_test_add_func("/hw/acpi/config", test_config);
    g_test_add_func("/hw/acpi/pm-timer-rate", test_pm_timer_rate);
    g_test_add_func("/hw/acpi/pm-timer-monotonic", test_pm_timer_monotonic);
    g_test_add_func("/hw/acpi/timer-overflow-sci", test_timer_overflow_sci);
    g_test_add_func("/hw/acpi/power-button", test_power_button);
    g_test_add_func("/hw/acpi/s5-poweroff", test_s5_poweroff);
    g_test_add_func("/hw/acpi/reset", test_reset);
    g_test_add_func("/hw/acpi/port-fuzz", test_port_fuzz);
    return g_test_run();
}
