/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Yamaha YMF262 (OPL3) FM synthesizer, OPL2 (YM3812) compatible, at ports
 * 0x388-0x38B (and through the Sound Blaster 16's 0x220-0x223 / 0x228-0x229)
 * - see opl3.c.
 */
#ifndef MIMIC_HW_AUDIO_OPL3_H
#define MIMIC_HW_AUDIO_OPL3_H

#include "bus/audio.h"
#include "bus/device.h"

#define OPL3_RATE 49716 /* 14.31818 MHz / 288 */

typedef struct OplOp {
    uint32_t phase;  /* 2^20 per cycle */
    uint32_t env;    /* attenuation, dB * 2^20 (0: loudest) */
    uint8_t stage;   /* OPL_EG_* */
} OplOp;

typedef struct Opl3 {
    Device dev;
    /* Wiring, set by the board before realize. */
    Audio *audio;
    uint16_t base;   /* 0x388 */
    /* Registers: bank 0 (0x388/0x389) and bank 1 (0x38A/0x38B). */
    uint8_t reg[2][256];
    uint8_t index[2];
    OplOp op[36];    /* bank 0: 0-17, bank 1: 18-35 */
    uint16_t fb[36]; /* each channel's first operator, last two outputs
                        (int16 values) */
    uint32_t lfo;    /* samples since reset (tremolo, vibrato) */
    uint32_t noise;  /* the rhythm section's 23-bit LFSR (never 0) */
    uint8_t status;  /* timer flags */
    int64_t t1_start, t2_start; /* virtual time a running timer started */
    int64_t t0, frames; /* the output's timeline */
    /* private */
    AudioVoice *voice;
    uint32_t epoch;
} Opl3;

extern const DeviceInfo opl3_info;

/* Register access from another card's ports (the SB16's FM mirror):
   off 0-3 as at 0x388-0x38B. */
uint8_t opl3_io_read(Opl3 *s, unsigned off);
void opl3_io_write(Opl3 *s, unsigned off, uint8_t v);

#endif
