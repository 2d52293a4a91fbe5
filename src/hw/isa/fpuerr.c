/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PC/AT coprocessor error logic, as the PIIX3 keeps it: the CPU's
 * FERR# (an unmasked x87 error with CR0.NE=0) raises IRQ13 on the slave
 * PIC; a write of any value to port 0xF0 drops IRQ13 and asserts IGNNE#,
 * which stays asserted until FERR# goes away (FNCLEX, FNINIT...).  A write
 * with FERR# deasserted does nothing.
 *
 * References: Intel 82371SB (PIIX3) data sheet, "Coprocessor Error"
 * (FERR#/IGNNE#, port F0h); SDM Vol. 1 Appendix D.2 (MS-DOS compatibility
 * sub-mode, the PC's external FERR# logic).
 */
#include "hw/isa/fpuerr.h"

static void fpuerr_update(FpuErr *s)
{
    irq_set(s->irq13, s->irq);
    if (s->set_ignne) {
        s->set_ignne(s->opaque, s->ignne);
    }
}

void fpuerr_set_ferr(void *opaque, bool level)
{
    FpuErr *s = opaque;
    if (level == s->ferr) {
        return;
    }
    s->ferr = level;
    s->irq = level;
    if (!level) {
        s->ignne = 0;
    }
    fpuerr_update(s);
}

static uint32_t fpuerr_read(void *opaque, uint16_t off, unsigned size)
{
    return 0xff; /* no register to read */
}

static void fpuerr_write(void *opaque, uint16_t off, uint32_t v,
                         unsigned size)
{
    FpuErr *s = opaque;
    if (!s->ferr) {
        return;
    }
    s->irq = 0;
    s->ignne = 1;
    fpuerr_update(s);
}

static void fpuerr_reset(Device *dev)
{
    FpuErr *s = (FpuErr *)dev;
    s->ferr = s->irq = s->ignne = 0;
    irq_set(s->irq13, false);
}

static bool fpuerr_post_load(void *obj, GError **error)
{
    FpuErr *s = obj;
    if (s->ferr > 1 || s->irq > 1 || s->ignne > 1 ||
        ((s->irq || s->ignne) && !s->ferr) || (s->irq && s->ignne)) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "fpuerr: inconsistent state (ferr %u irq %u ignne %u)",
                    s->ferr, s->irq, s->ignne);
        return false;
    }
    /* The PIC keeps its own copy of the line; the CPU saved IGNNE#. */
    return true;
}

static const IoRegion fpuerr_io[] = {
    { .base = 0xf0, .len = 1, .min = 1, .max = 1, .read = fpuerr_read,
      .write = fpuerr_write, .name = "fpu-error" },
    { 0 },
};

static const StateDesc fpuerr_state = {
    .name = "fpuerr", .version = 1, .min_version = 1,
    .post_load = fpuerr_post_load,
    .fields = (const StateField[]) {
        STATE_U8(FpuErr, ferr), STATE_U8(FpuErr, irq),
        STATE_U8(FpuErr, ignne), STATE_END },
};

const DeviceInfo fpuerr_info = {
    .name = "fpuerr", .size = sizeof(FpuErr), .io = fpuerr_io,
    .state = &fpuerr_state, .reset = fpuerr_reset,
};
