/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The APIC board on the pc, driven as a guest does (MMIO, MSRs through the
 * CPU's wiring) in -icount mode: the local APIC timer in one-shot,
 * periodic and TSC-deadline modes, TPR masking, EOI; the I/O APIC's edge
 * and level routing with Remote IRR and EOI broadcast, ISA IRQ0 on pin 2;
 * the 8259 through LINT0 (ExtINT); the HPET's legacy replacement routing;
 * and the PIC-only board of -machine apic=off.
 */
#include "pc-rig.h"

#include "hw/intc/ioapic.h"

#define LAPIC 0xfee00000ull
#define IOAPIC 0xfec00000ull
#define HPET 0xfed00000ull

static uint32_t rd32(MimicMachine *m, uint64_t a)
{
    return (uint32_t)memmap_read_sized(m->mem, a, 4);
}

static void wr32(MimicMachine *m, uint64_t a, uint32_t v)
{
    memmap_write_sized(m->mem, a, v, 4);
}

static void redir(MimicMachine *m, int pin, uint32_t lo)
{
    wr32(m, IOAPIC, 0x10 + 2 * pin + 1);
    wr32(m, IOAPIC + 0x10, 0); /* destination APIC 0 */
    wr32(m, IOAPIC, 0x10 + 2 * pin);
    wr32(m, IOAPIC + 0x10, lo);
}

static uint32_t redir_lo(MimicMachine *m, int pin)
{
    wr32(m, IOAPIC, 0x10 + 2 * pin);
    return rd32(m, IOAPIC + 0x10);
}

static int ack(void)
{
    return fake->bus.intr_ack(fake->bus.intr_opaque);
}

static void eoi(MimicMachine *m)
{
    wr32(m, LAPIC + 0xb0, 0);
}

static MimicMachine *apic_machine(void)
{
    MimicMachine *m = rig_new(NULL);
    g_assert_nonnull(fake->bus.sysreg);
    g_assert_cmphex(rd32(m, LAPIC + 0x350), ==, 0x700); /* LINT0 ExtINT */
    wr32(m, LAPIC + 0xf0, 0x1ff); /* software enable, spurious 0xff */
    /* The 8259 is left unprogrammed: keep its INTR out (LINT0 masked). */
    wr32(m, LAPIC + 0x350, 0x10700);
    return m;
}

static void test_registers(void)
{
    MimicMachine *m = apic_machine();
    uint64_t base = 0;
    g_assert_true(fake->bus.sysreg(fake->bus.sysreg_opaque, 0x1b, &base,
                                     false));
    g_assert_cmphex(base, ==, 0xfee00900);
    g_assert_cmphex(rd32(m, LAPIC + 0x30), ==, 0x50014);
    wr32(m, LAPIC + 0x80, 0x35);
    g_assert_cmphex(rd32(m, LAPIC + 0x80), ==, 0x35);
    g_assert_cmphex(rd32(m, LAPIC + 0xa0), ==, 0x35); /* PPR */
    /* IOAPIC version: 24 pins, 0x11 */
    wr32(m, IOAPIC, 1);
    g_assert_cmphex(rd32(m, IOAPIC + 0x10), ==, 0x170011);
    /* A reserved MSR value faults. */
    uint64_t bad = 0xfee00900ull | 1;
    g_assert_false(fake->bus.sysreg(fake->bus.sysreg_opaque, 0x1b, &bad,
                                      true));
    mimic_machine_free(m);
}

static void test_timer_oneshot(void)
{
    MimicMachine *m = apic_machine();
    wr32(m, LAPIC + 0x3e0, 0xb);     /* divide by 1 */
    wr32(m, LAPIC + 0x320, 0x40);    /* one-shot, vector 0x40 */
    wr32(m, LAPIC + 0x380, 1000);
    rig_advance(m, 400);
    g_assert_cmpuint(rd32(m, LAPIC + 0x390), ==, 600);
    rig_advance(m, 599);
    g_assert_false(fake->intr);
    rig_advance(m, 1);
    g_assert_true(fake->intr);
    g_assert_cmpuint(rd32(m, LAPIC + 0x390), ==, 0);
    g_assert_cmpint(ack(), ==, 0x40);
    g_assert_false(fake->intr);
    g_assert_cmphex(rd32(m, LAPIC + 0x100 + 0x20), ==, 1); /* ISR 0x40 */
    eoi(m);
    g_assert_cmphex(rd32(m, LAPIC + 0x120), ==, 0);
    rig_advance(m, 10000);
    g_assert_false(fake->intr);
    /* Divide by 16: 100 counts are 1600 ns. */
    wr32(m, LAPIC + 0x3e0, 0x3);
    wr32(m, LAPIC + 0x380, 100);
    rig_advance(m, 1599);
    g_assert_false(fake->intr);
    rig_advance(m, 1);
    g_assert_true(fake->intr);
    mimic_machine_free(m);
}

static void test_timer_periodic(void)
{
    MimicMachine *m = apic_machine();
    wr32(m, LAPIC + 0x3e0, 0x0);               /* divide by 2 */
    wr32(m, LAPIC + 0x320, (1u << 17) | 0x41); /* periodic */
    wr32(m, LAPIC + 0x380, 500);               /* 1000 ns */
    int n = 0;
    for (int i = 0; i < 10; i++) {
        rig_advance(m, 250);
        if (fake->intr) {
            g_assert_cmpint(ack(), ==, 0x41);
            eoi(m);
            n++;
        }
    }
    g_assert_cmpint(n, ==, 2);
    rig_advance(m, 250); /* 2750 ns: counting down again */
    g_assert_cmpuint(rd32(m, LAPIC + 0x390), ==, 125);
    /* Masked: counts, no interrupt. */
    wr32(m, LAPIC + 0x320, (1u << 17) | (1u << 16) | 0x41);
    rig_advance(m, 5000);
    g_assert_false(fake->intr);
    mimic_machine_free(m);
}

static void test_timer_tsc_deadline(void)
{
    MimicMachine *m = apic_machine();
    wr32(m, LAPIC + 0x320, (2u << 17) | 0x42);
    uint64_t d = (uint64_t)clock_now(m->clock) + 2000;
    g_assert_true(fake->bus.sysreg(fake->bus.sysreg_opaque, 0x6e0, &d,
                                     true));
    wr32(m, LAPIC + 0x380, 5); /* ignored in this mode */
    rig_advance(m, 1999);
    g_assert_false(fake->intr);
    rig_advance(m, 1);
    g_assert_true(fake->intr);
    uint64_t v = 1;
    g_assert_true(fake->bus.sysreg(fake->bus.sysreg_opaque, 0x6e0, &v,
                                     false));
    g_assert_cmpuint(v, ==, 0); /* disarmed when it fires */
    g_assert_cmpint(ack(), ==, 0x42);
    eoi(m);
    /* Writing 0 disarms. */
    d = (uint64_t)clock_now(m->clock) + 100;
    fake->bus.sysreg(fake->bus.sysreg_opaque, 0x6e0, &d, true);
    d = 0;
    fake->bus.sysreg(fake->bus.sysreg_opaque, 0x6e0, &d, true);
    rig_advance(m, 1000);
    g_assert_false(fake->intr);
    mimic_machine_free(m);
}

static void test_tpr_and_priority(void)
{
    MimicMachine *m = apic_machine();
    wr32(m, LAPIC + 0x80, 0x50);
    wr32(m, LAPIC + 0x300, (1u << 18) | 0x45); /* self IPI 0x45 */
    g_assert_false(fake->intr);
    g_assert_cmphex(rd32(m, LAPIC + 0x200 + 0x20), ==, 1u << 5); /* IRR */
    wr32(m, LAPIC + 0x80, 0x30);
    g_assert_true(fake->intr);
    g_assert_cmpint(ack(), ==, 0x45);
    /* In service 0x45: 0x44 (same class) waits, 0x61 preempts. */
    wr32(m, LAPIC + 0x300, (1u << 18) | 0x44);
    g_assert_false(fake->intr);
    wr32(m, LAPIC + 0x300, (1u << 18) | 0x61);
    g_assert_true(fake->intr);
    g_assert_cmpint(ack(), ==, 0x61);
    eoi(m); /* 0x61 */
    g_assert_false(fake->intr);
    eoi(m); /* 0x45 */
    g_assert_true(fake->intr);
    g_assert_cmpint(ack(), ==, 0x44);
    eoi(m);
    /* An illegal vector sets the error register, not IRR. */
    wr32(m, LAPIC + 0x300, (1u << 18) | 0x05);
    wr32(m, LAPIC + 0x280, 0);
    g_assert_cmphex(rd32(m, LAPIC + 0x280), ==, 0x40);
    mimic_machine_free(m);
}

static void test_ioapic_routing(void)
{
    MimicMachine *m = apic_machine();
    Ioapic *io = (Ioapic *)device_find(m->devices, "ioapic");
    g_assert_nonnull(io);
    g_assert_cmphex(redir_lo(m, 5), ==, 0x10000); /* masked at reset */
    ioapic_set_irq(io, 5, true);
    g_assert_false(fake->intr);
    ioapic_set_irq(io, 5, false);
    /* Edge pin 5 -> 0x51: one message per rising edge. */
    redir(m, 5, 0x51);
    ioapic_set_irq(io, 5, true);
    g_assert_true(fake->intr);
    g_assert_cmpint(ack(), ==, 0x51);
    eoi(m);
    g_assert_false(fake->intr);
    ioapic_set_irq(io, 5, false);
    /* Level pin 10 -> 0x5a (logical destination 1, flat model). */
    wr32(m, LAPIC + 0xd0, 1u << 24);
    wr32(m, IOAPIC, 0x10 + 2 * 10 + 1);
    wr32(m, IOAPIC + 0x10, 1u << 24);
    wr32(m, IOAPIC, 0x10 + 2 * 10);
    wr32(m, IOAPIC + 0x10, (1u << 15) | (1u << 11) | 0x5a);
    ioapic_set_irq(io, 10, true);
    g_assert_true(fake->intr);
    g_assert_cmphex(redir_lo(m, 10) & (1u << 14), !=, 0); /* Remote IRR */
    g_assert_cmpint(ack(), ==, 0x5a);
    g_assert_cmphex(rd32(m, LAPIC + 0x180 + 0x20), ==, 1u << 26); /* TMR */
    eoi(m); /* still asserted: sent again */
    g_assert_true(fake->intr);
    g_assert_cmpint(ack(), ==, 0x5a);
    ioapic_set_irq(io, 10, false);
    eoi(m);
    g_assert_cmphex(redir_lo(m, 10) & (1u << 14), ==, 0);
    g_assert_false(fake->intr);
    /* A wrong destination is not delivered. */
    wr32(m, IOAPIC, 0x10 + 2 * 10 + 1);
    wr32(m, IOAPIC + 0x10, 2u << 24);
    ioapic_set_irq(io, 10, true);
    g_assert_false(fake->intr);
    mimic_machine_free(m);
}

/* The PIT's IRQ0 through the board: I/O APIC pin 2, and the 8259 through
   LINT0 in ExtINT mode. */
static void test_pit_routes(void)
{
    MimicMachine *m = apic_machine();
    wr32(m, LAPIC + 0x350, 0x700);
    rig_pic_init(m, 1 << 0);
    /* PIT channel 0, mode 2, 1193 counts (about 1 ms). */
    ioport_write(m->io, 0x43, 0x34, 1);
    ioport_write(m->io, 0x40, 1193 & 0xff, 1);
    ioport_write(m->io, 0x40, 1193 >> 8, 1);
    rig_advance(m, 1100000);
    g_assert_true(fake->intr);
    g_assert_cmpint(rig_pic_ack(m), ==, 0x08); /* ExtINT: the 8259 */
    /* The I/O APIC: mask LINT0 and the 8259, route pin 2. */
    wr32(m, LAPIC + 0x350, 0x10700);
    ioport_write(m->io, 0x21, 0xff, 1);
    redir(m, 2, 0x30);
    int n = 0;
    for (int i = 0; i < 10; i++) {
        rig_advance(m, 1000000);
        if (fake->intr) {
            g_assert_cmpint(ack(), ==, 0x30);
            eoi(m);
            n++;
        }
    }
    g_assert_cmpint(n, >=, 9);
    mimic_machine_free(m);
}

static void test_hpet_legacy(void)
{
    MimicMachine *m = apic_machine();
    g_assert_cmphex(rd32(m, HPET) >> 16, ==, 0x8086);
    g_assert_cmpuint(rd32(m, HPET + 4), ==, 10000000); /* 10 ns */
    /* Timer 0: periodic, 100 us, legacy routing to IRQ0 = pin 2, in
       32-bit mode (as 32-bit Linux, which writes only the low half). */
    redir(m, 2, 0x31);
    wr32(m, HPET + 0x100, (1u << 2) | (1u << 3) | (1u << 6) | (1u << 8));
    wr32(m, HPET + 0x108, 10000);
    wr32(m, HPET + 0x108, 10000);
    wr32(m, HPET + 0x10, 3); /* enable, legacy */
    /* The PIT no longer reaches IRQ0. */
    ioport_write(m->io, 0x43, 0x34, 1);
    ioport_write(m->io, 0x40, 10, 1);
    ioport_write(m->io, 0x40, 0, 1);
    int n = 0;
    for (int i = 0; i < 40; i++) {
        rig_advance(m, 25000);
        if (fake->intr) {
            g_assert_cmpint(ack(), ==, 0x31);
            eoi(m);
            n++;
        }
    }
    g_assert_cmpint(n, ==, 10);
    uint32_t c = rd32(m, HPET + 0xf0);
    g_assert_cmpuint(c, >=, 100000);
    g_assert_cmpuint(c, <, 100100);
    mimic_machine_free(m);
}

static void configure_noapic(MachineConfig *cfg)
{
    cfg->no_apic = true;
    cfg->no_hpet = true;
}

static void test_pic_only(void)
{
    MimicMachine *m = rig_new(configure_noapic);
    g_assert_null(fake->bus.sysreg);
    g_assert_null(device_find(m->devices, "lapic"));
    g_assert_null(device_find(m->devices, "hpet"));
    g_assert_cmphex(rd32(m, LAPIC + 0x30), ==, 0xffffffff); /* nothing */
    rig_pic_init(m, 1 << 0);
    ioport_write(m->io, 0x43, 0x34, 1);
    ioport_write(m->io, 0x40, 1193 & 0xff, 1);
    ioport_write(m->io, 0x40, 1193 >> 8, 1);
    rig_advance(m, 1100000);
    g_assert_true(fake->intr);
    g_assert_cmpint(rig_pic_ack(m), ==, 0x08);
    mimic_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_file_test("/usr/share/seabios/bios-256k.bin", G_FILE_TEST_EXISTS)) {
        g_printerr("SKIP: Debian's seabios package is not installed\n");
        return 77;
    }
    g_test_add_func("/hw/apic/registers", test_registers);
    g_test_add_func("/hw/apic/timer-oneshot", test_timer_oneshot);
    g_test_add_func("/hw/apic/timer-periodic", test_timer_periodic);
    g_test_add_func("/hw/apic/timer-tsc-deadline", test_timer_tsc_deadline);
    g_test_add_func("/hw/apic/tpr-and-priority", test_tpr_and_priority);
    g_test_add_func("/hw/apic/ioapic-routing", test_ioapic_routing);
    g_test_add_func("/hw/apic/pit-routes", test_pit_routes);
    g_test_add_func("/hw/apic/hpet-legacy", test_hpet_legacy);
    g_test_add_func("/hw/apic/pic-only", test_pic_only);
    return g_test_run();
}
