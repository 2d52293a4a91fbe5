/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The I/O APIC (Intel 82093AA: version 0x11, 24 pins) at 0xFEC00000:
 * IOREGSEL at +0x00, IOWIN at +0x10.  Pins are driven with ioapic_set_irq
 * (the board's GSI lines: on the pc, ISA IRQ n is pin n but IRQ0, the
 * timer, is pin 2); each redirection entry sends an interrupt message to
 * the local APIC through deliver.  Level-triggered pins hold Remote IRR
 * until the local APIC broadcasts the EOI of their vector
 * (ioapic_eoi).  The pins take the board's logical levels (asserted =
 * true): the polarity bit is stored for the guest but not applied, as the
 * board's lines are already active-high.
 * Reference: Intel 82093AA I/O APIC datasheet, 3.2 "Register
 * descriptions".
 */
#ifndef MIMIC_HW_INTC_IOAPIC_H
#define MIMIC_HW_INTC_IOAPIC_H

#include "bus/device.h"

#define IOAPIC_PINS 24
#define IOAPIC_DEFAULT_BASE 0xfec00000u

typedef struct Ioapic {
    Device dev;
    void (*deliver)(void *opaque, uint8_t dest, bool logical, unsigned mode,
                    uint8_t vector, bool level_trig);
    void *opaque;
    uint32_t id;
    uint32_t sel;
    uint32_t level; /* pins asserted */
    uint64_t redir[IOAPIC_PINS];
} Ioapic;

extern const DeviceInfo ioapic_info;

void ioapic_set_irq(Ioapic *s, int pin, bool level);
void ioapic_eoi(void *opaque, uint8_t vector);

#endif
