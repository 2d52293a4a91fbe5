/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Interrupt lines (see irq.h). */
#include "bus/irq.h"

#include <glib.h>

IrqLine *irq_new(IrqHandler handler, void *opaque, int n)
{
    IrqLine *irq = g_new0(IrqLine, 1);
    irq->handler = handler;
    irq->opaque = opaque;
    irq->n = n;
    return irq;
}

IrqLine **irq_new_array(IrqHandler handler, void *opaque, int count)
{
    IrqLine **lines = g_new0(IrqLine *, count);
    for (int i = 0; i < count; i++) {
        lines[i] = irq_new(handler, opaque, i);
    }
    return lines;
}

void irq_free(IrqLine *irq)
{
    g_free(irq);
}

void irq_free_array(IrqLine **lines, int count)
{
    if (!lines) {
        return;
    }
    for (int i = 0; i < count; i++) {
        irq_free(lines[i]);
    }
    g_free(lines);
}

void irq_set(IrqLine *irq, bool level)
{
    if (!irq) {
        return;
    }
    irq->level = level;
    if (irq->handler) {
        irq->handler(irq->opaque, irq->n, level);
    }
}
