/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PS/2 device side: the byte queue a PS/2 device (keyboard or mouse)
 * fills and the i8042 drains into its output buffer, one byte at a time.
 * Reference: IBM PS/2 Hardware Interface Technical Reference, "Keyboard
 * and Auxiliary Device Controller".
 */
#ifndef MIMIC_HW_ISA_PS2_H
#define MIMIC_HW_ISA_PS2_H

#include <stdbool.h>
#include <stdint.h>

#define PS2_QUEUE 64

typedef struct Ps2Queue {
    uint8_t data[PS2_QUEUE];
    uint8_t head, count;
} Ps2Queue;

static inline void ps2_queue_push(Ps2Queue *q, uint8_t v)
{
    if (q->count < PS2_QUEUE) {
        q->data[(q->head + q->count) % PS2_QUEUE] = v;
        q->count++;
    }
}

static inline int ps2_queue_pop(Ps2Queue *q)
{
    if (!q->count) {
        return -1;
    }
    uint8_t v = q->data[q->head];
    q->head = (q->head + 1) % PS2_QUEUE;
    q->count--;
    return v;
}

static inline unsigned ps2_queue_space(const Ps2Queue *q)
{
    return PS2_QUEUE - q->count;
}

static inline bool ps2_queue_valid(const Ps2Queue *q)
{
    return q->head < PS2_QUEUE && q->count <= PS2_QUEUE;
}

#endif
