/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * High Precision Event Timer at 0xFED00000: a 64-bit main counter at
 * 100 MHz (period 10 ns, from the machine clock) and three comparators,
 * timer 0 periodic-capable.  Legacy replacement routing (GEN_CONF bit 1)
 * sends timer 0 to IRQ0 and timer 1 to IRQ8 and cuts the PIT's and the
 * RTC's lines (the board asks hpet_legacy()); otherwise each timer goes to
 * the I/O APIC pin of its INT_ROUTE_CNF (pins 20-23 allowed).  No FSB
 * (MSI) delivery.  Reference: IA-PC HPET Specification 1.0a, 2.3
 * "Register descriptions".
 */
#ifndef MIMIC_HW_TIMER_HPET_H
#define MIMIC_HW_TIMER_HPET_H

#include "bus/device.h"

#define HPET_BASE 0xfed00000u
#define HPET_TIMERS 3

typedef struct HpetTimer {
    uint64_t config;
    uint64_t cmp;
    uint64_t period;
    bool level; /* output line now */
} HpetTimer;

typedef struct Hpet {
    Device dev;
    /* wiring: set_line(opaque, n, level): n < 16 an ISA IRQ (legacy
       routing: 0 and 8), else an I/O APIC pin (20-23) */
    void (*set_line)(void *opaque, int gsi, bool level);
    /* Legacy replacement routing switched (before the timers' lines are
       driven on their new routes). */
    void (*legacy_changed)(void *opaque, bool on);
    void *opaque;
    struct Timer *timer[HPET_TIMERS];
    /* state */
    uint64_t config;
    uint64_t isr;
    uint64_t counter;   /* while halted */
    int64_t offset_ns;  /* while running: counter = (now - offset) / 10 */
    HpetTimer t[HPET_TIMERS];
} Hpet;

extern const DeviceInfo hpet_info;

/* Legacy replacement routing on: the PIT's IRQ0 and the RTC's IRQ8 lines
   are not connected. */
bool hpet_legacy(const Hpet *s);

#endif
