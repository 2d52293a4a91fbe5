/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 8042 keyboard controller (ports 0x60/0x64) with a PS/2 keyboard
 * on IRQ1 and a PS/2 mouse port on IRQ12; the output port's A20 and reset
 * lines go to the board.
 */
#ifndef MIMIC_HW_ISA_I8042_H
#define MIMIC_HW_ISA_I8042_H

#include "hw/device.h"

#define PS2_QUEUE 64

typedef struct Ps2Queue {
    uint8_t data[PS2_QUEUE];
    uint8_t head, count;
} Ps2Queue;

typedef struct I8042 {
    Device dev;
    uint8_t status, mode, outport;
    uint8_t pending_cmd; /* controller command awaiting its data byte */
    uint8_t out, out_aux; /* current output byte, from aux? */
    uint8_t kbd_cmd, aux_cmd; /* device command awaiting a parameter */
    bool kbd_enabled, aux_enabled;
    uint8_t leds, scancode_set;
    Ps2Queue kbd, aux;
    IrqLine *irq_kbd, *irq_aux;
    void (*set_a20)(void *opaque, bool on);
    void (*reset)(void *opaque);
    void *opaque;
} I8042;

extern const DeviceInfo i8042_info;

/* A key (Linux evdev code) went down or up. */
void i8042_key(I8042 *s, unsigned evdev, bool down);

#endif
