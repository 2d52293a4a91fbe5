/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PC/AT coprocessor error logic: FERR# -> IRQ13, port 0xF0 -> IGNNE#. */
#ifndef MIMIC_HW_ISA_FPUERR_H
#define MIMIC_HW_ISA_FPUERR_H

#include "bus/irq.h"
#include "bus/device.h"

typedef struct FpuErr {
    Device dev;
    uint8_t ferr;  /* FERR# from the CPU */
    uint8_t irq;   /* IRQ13 asserted */
    uint8_t ignne; /* IGNNE# to the CPU asserted */
    IrqLine *irq13;
    void (*set_ignne)(void *opaque, bool level);
    void *opaque;
} FpuErr;

extern const DeviceInfo fpuerr_info;

/* The CPU's FERR# pin changed (CpuWiring.ferr). */
void fpuerr_set_ferr(void *opaque, bool level);

#endif
