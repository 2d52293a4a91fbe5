/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PS/2 mouse behind the i8042's auxiliary port: the standard 3-byte
 * protocol, the IntelliMouse (ID 3, wheel) and IntelliMouse Explorer (ID 4,
 * wheel and buttons 4/5) extensions, stream and remote modes.  The mouse
 * is part of the i8042 device: its fields are saved in the i8042's state
 * and its bytes go to the controller's aux queue.
 */
#ifndef MIMIC_HW_ISA_PS2MOUSE_H
#define MIMIC_HW_ISA_PS2MOUSE_H

#include "hw/isa/ps2.h"
#include "state/state.h"

/* Status byte (0xe9 reply, first byte) bits. */
#define PS2M_STATUS_REMOTE 0x40
#define PS2M_STATUS_ENABLED 0x20
#define PS2M_STATUS_SCALE21 0x10

/* Button bits, in the packet's order (as QEMU's mouse_button values). */
#define PS2M_BUTTON_LEFT 0x01
#define PS2M_BUTTON_RIGHT 0x02
#define PS2M_BUTTON_MIDDLE 0x04
#define PS2M_BUTTON_SIDE 0x08  /* 4th button, IntelliMouse Explorer */
#define PS2M_BUTTON_EXTRA 0x10 /* 5th button */

typedef struct Ps2Mouse {
    uint8_t status;       /* PS2M_STATUS_*, buttons not included */
    uint8_t resolution;   /* 0..3: 1, 2, 4, 8 counts/mm */
    uint8_t sample_rate;  /* reports/s */
    uint8_t type;         /* device ID: 0, 3 (IntelliMouse), 4 (Explorer) */
    uint8_t detect;       /* progress through the sample-rate knock */
    uint8_t cmd;          /* command awaiting its parameter byte, or 0 */
    bool wrap;            /* echo mode */
    uint8_t buttons;      /* PS2M_BUTTON_* */
    int32_t dx, dy, dz;   /* motion not yet reported; dy up, dz as sent */
} Ps2Mouse;

void ps2mouse_reset(Ps2Mouse *m);
/* A byte from the host (i8042 command 0xd4); replies go to q. */
void ps2mouse_write(Ps2Mouse *m, Ps2Queue *q, uint8_t v);
/*
 * Motion from the user: dx right, dy down (screen convention, as the
 * engine's pointer events), dz > 0 wheel turned up (away from the user),
 * buttons PS2M_BUTTON_*.  In stream mode, packets go to q.
 */
void ps2mouse_event(Ps2Mouse *m, Ps2Queue *q, int dx, int dy, int dz,
                    unsigned buttons);
/* Room in q again: send motion left over from a large movement. */
void ps2mouse_drain(Ps2Mouse *m, Ps2Queue *q);
bool ps2mouse_post_load(Ps2Mouse *m);

extern const StateField ps2mouse_fields[];

#endif
