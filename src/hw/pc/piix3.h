/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 82371SB (PIIX3) function 0: the PCI-to-ISA bridge at 00:01.0 with
 * the PIRQ routing registers that steer PCI INTA-D# to ISA IRQs.
 */
#ifndef MIMIC_HW_PC_PIIX3_H
#define MIMIC_HW_PC_PIIX3_H

#include "bus/device.h"
#include "hw/pci/pci.h"

typedef struct Piix3 {
    Device dev;
    PciFunc pci;
    PciBus *bus;
    IrqLine **isa_irqs; /* the 16 PIC inputs */
    uint8_t pirq_level; /* bit n: PIRQn asserted */
} Piix3;

extern const DeviceInfo piix3_info;

/* A PCI device's INTx line: pirq 0-3 (INTA-INTD after swizzling). */
void piix3_set_pirq(Piix3 *s, int pirq, bool level);

#endif
