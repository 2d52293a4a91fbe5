/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 8254 programmable interval timer (ports 0x40-0x43), channel 0 on
 * IRQ0, channel 2 gated by port 0x61 (the PC speaker / NMI status port,
 * also modelled here with its refresh-toggle bit that firmware polls).
 * Port 0x61: bit 0 drives channel 2's gate, bit 1 enables the speaker
 * data (the speaker sounds OUT2 AND bit 1), bit 4 toggles with the DRAM
 * refresh, bit 5 reads OUT2.  The speaker itself is a sound device's job:
 * it registers speaker_changed and reads the state with
 * i8254_speaker_get().
 */
#ifndef MIMIC_HW_ISA_I8254_H
#define MIMIC_HW_ISA_I8254_H

#include "bus/device.h"

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
    /* PC speaker listener (an audio device), called after port 0x61's
       gate or data bit or channel 2's mode or count changes; may be NULL. */
    void (*speaker_changed)(void *opaque);
    void *speaker_opaque;
    struct Timer *timer;
} I8254;

extern const DeviceInfo i8254_info;

typedef struct PcSpeakerState {
    bool gate;      /* port 0x61 bit 0: channel 2 counts */
    bool data;      /* port 0x61 bit 1: OUT2 reaches the speaker */
    bool out2;      /* channel 2's output now */
    uint8_t mode;   /* channel 2's mode, 0-5 */
    uint32_t count; /* channel 2's reload value, 1-65536 */
    double tone_hz; /* square-wave frequency when sounding, else 0 */
} PcSpeakerState;

void i8254_speaker_get(I8254 *s, PcSpeakerState *st);

#define PIT_FREQ 1193182

#endif
