/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interrupt lines: a level and a sink callback.  Boards wire a device's
 * output line to an interrupt controller input; edge-triggered sinks look
 * at the transitions.  irq_raise/lower/pulse are conveniences.
 */
#ifndef MIMIC_BUS_IRQ_H
#define MIMIC_BUS_IRQ_H

#include <stdbool.h>

typedef void (*IrqHandler)(void *opaque, int n, bool level);

typedef struct IrqLine {
    IrqHandler handler;
    void *opaque;
    int n;
    bool level;
} IrqLine;

IrqLine *irq_new(IrqHandler handler, void *opaque, int n);
/* n consecutive lines n = 0..count-1 to one handler. */
IrqLine **irq_new_array(IrqHandler handler, void *opaque, int count);
void irq_free(IrqLine *irq);
void irq_free_array(IrqLine **lines, int count);
void irq_set(IrqLine *irq, bool level); /* NULL line: no-op */

static inline void irq_raise(IrqLine *irq)
{
    irq_set(irq, true);
}
static inline void irq_lower(IrqLine *irq)
{
    irq_set(irq, false);
}
static inline void irq_pulse(IrqLine *irq)
{
    irq_set(irq, true);
    irq_set(irq, false);
}

#endif
