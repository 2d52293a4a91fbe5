/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 8254 programmable interval timer (ports 0x40-0x43), channel 0 on
 * IRQ0, channel 2 gated by port 0x61 (the PC speaker / NMI status port,
 * also modelled here with its refresh-toggle bit that firmware polls).
 */
#ifndef MIMIC_HW_ISA_I8254_H
#define MIMIC_HW_ISA_I8254_H

#include "hw/device.h"

typedef struct PitChannel {
    uint32_t count; /* reload value, 1..65536 */
    uint16_t latched_count;
    uint8_t count_latched; /* rw mode of the pending latch, 0 = none */
    uint8_t status_latched;
    uint8_t status;
    uint8_t read_state, write_state;
    uint8_t write_latch;
    uint8_t rw_mode, mode, bcd;
    bool gate;
    bool null_count;
    int64_t count_load_time;
    int64_t next_irq_time;
    bool irq_level;
} PitChannel;

typedef struct I8254 {
    Device dev;
    PitChannel ch[3];
    uint8_t port61; /* speaker data enable (bit 1) */
    IrqLine *irq0;
    struct Timer *timer;
} I8254;

extern const DeviceInfo i8254_info;

#define PIT_FREQ 1193182

#endif
