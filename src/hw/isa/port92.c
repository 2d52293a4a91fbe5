/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * System control port A (0x92): bit 1 gates A20 ("fast A20"), bit 0
 * pulses a CPU reset.  Reference: PIIX/PS/2 system control port A.
 */
#include "hw/isa/port92.h"

static uint32_t port92_read(void *opaque, uint16_t off, unsigned size)
{
    Port92 *s = opaque;
    return s->value;
}

static void port92_write(void *opaque, uint16_t off, uint32_t v,
                         unsigned size)
{
    Port92 *s = opaque;
    uint8_t old = s->value;
    s->value = v & ~1;
    if ((old ^ v) & 2 && s->set_a20) {
        s->set_a20(s->opaque, v & 2);
    }
    if ((v & 1) && !(old & 1) && s->reset) {
        s->reset(s->opaque);
    }
}

static void port92_reset(Device *dev)
{
    Port92 *s = (Port92 *)dev;
    s->value = 0;
}

static const IoRegion port92_io[] = {
    { .base = 0x92, .len = 1, .min = 1, .max = 1, .read = port92_read,
      .write = port92_write, .name = "port92" },
    { 0 },
};

static const StateDesc port92_state = {
    .name = "port92", .version = 1, .min_version = 1,
    .fields = (const StateField[]) { STATE_U8(Port92, value), STATE_END },
};

const DeviceInfo port92_info = {
    .name = "port92", .size = sizeof(Port92), .io = port92_io,
    .state = &port92_state, .reset = port92_reset,
};
