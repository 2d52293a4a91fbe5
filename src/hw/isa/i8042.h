/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 8042 keyboard controller (ports 0x60/0x64) with a PS/2 keyboard
 * on IRQ1 and a PS/2 mouse (ps2mouse.c) on IRQ12; the output port's A20
 * and reset lines go to the board.
 */
#ifndef MIMIC_HW_ISA_I8042_H
#define MIMIC_HW_ISA_I8042_H

#include "bus/device.h"
#include "hw/isa/ps2.h"
#include "hw/isa/ps2mouse.h"

typedef struct I8042 {
    Device dev;
    uint8_t status, mode, outport;
    uint8_t pending_cmd; /* controller command awaiting its data byte */
    uint8_t out, out_aux; /* current output byte, from aux? */
    uint8_t kbd_cmd; /* keyboard command awaiting a parameter */
    uint8_t aux_cmd; /* unused since state version 2 (see mouse) */
    bool kbd_enabled;
    bool aux_enabled; /* unused since state version 2 (see mouse) */
    uint8_t leds, scancode_set;
    Ps2Queue kbd, aux;
    /* Typematic: rate/delay byte (0xf3), the key that repeats and when. */
    uint8_t typematic;
    uint16_t repeat_key; /* evdev code, 0 when no key repeats */
    int64_t repeat_at;   /* deadline of repeat_timer, -1 if idle */
    Timer *repeat_timer;
    bool xlate_break;    /* translation: an 0xf0 prefix was swallowed */
    Ps2Mouse mouse;
    IrqLine *irq_kbd, *irq_aux;
    void (*set_a20)(void *opaque, bool on);
    void (*reset)(void *opaque);
    void *opaque;
} I8042;

extern const DeviceInfo i8042_info;

/* A key (Linux evdev code) went down or up. */
void i8042_key(I8042 *s, unsigned evdev, bool down);
/* Relative pointer motion for the PS/2 mouse (see ps2mouse_event()). */
void i8042_pointer(I8042 *s, int dx, int dy, int dz, unsigned buttons);
/* Typematic timing of a rate/delay byte, in nanoseconds. */
int64_t i8042_typematic_delay_ns(uint8_t v);
int64_t i8042_typematic_period_ns(uint8_t v);

#endif
