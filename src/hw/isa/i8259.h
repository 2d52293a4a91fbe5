/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two cascaded Intel 8259A programmable interrupt controllers (master at
 * 0x20, slave at 0xa0 on the master's IR2) with the PIIX edge/level
 * control registers (ELCR, 0x4d0/0x4d1).
 */
#ifndef MIMIC_HW_ISA_I8259_H
#define MIMIC_HW_ISA_I8259_H

#include "bus/device.h"

typedef struct PicUnit {
    uint8_t irr, imr, isr;
    uint8_t last_irr; /* for edge detection */
    uint8_t priority_add;
    uint8_t irq_base;
    uint8_t read_reg_select; /* 0 IRR, 1 ISR */
    bool poll;
    bool special_mask;
    uint8_t init_state; /* 0 ready, 1..3 expecting ICW2..4 */
    bool auto_eoi;
    bool rotate_on_auto_eoi;
    bool special_fully_nested;
    bool init4;
    bool single;
    uint8_t elcr, elcr_mask;
} PicUnit;

typedef struct I8259 {
    Device dev;
    PicUnit pic[2];
    /* Output to the CPU's INTR pin. */
    void (*set_intr)(void *opaque, bool level);
    void *intr_opaque;
    bool intr;
} I8259;

extern const DeviceInfo i8259_info;

/* Input line n (0-15) changed level. */
void i8259_set_irq(I8259 *s, int n, bool level);
/* IrqHandler-compatible wrapper: opaque is the I8259. */
void i8259_irq_handler(void *opaque, int n, bool level);
/* INTA cycle: the vector of the highest pending interrupt. */
int i8259_intr_ack(void *opaque);

#endif
