/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PC speaker as a sound source: PIT channel 2's OUT2 AND port 0x61
 * bit 1 drive the cone; rendered into an audio voice (see pcspk.c).
 */
#ifndef MIMIC_HW_AUDIO_PCSPK_H
#define MIMIC_HW_AUDIO_PCSPK_H

#include "bus/audio.h"
#include "bus/device.h"
#include "hw/isa/i8254.h"

typedef struct PcSpk {
    Device dev;
    /* Wiring, set by the board before realize. */
    I8254 *pit;
    Audio *audio;
    /* private */
    AudioVoice *voice;
    PcSpeakerState st;   /* the state in force since the last render */
    int64_t t0;          /* virtual time of sample `frames` below */
    int64_t frames;      /* samples rendered since t0 */
    bool synced;
    uint32_t epoch;      /* audio_epoch() the timeline belongs to */
    double phase;        /* of the square wave, in periods */
    float hp_x, hp_y;    /* DC blocker memory */
} PcSpk;

extern const DeviceInfo pcspk_info;

#endif
