/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Creative Sound Blaster 16 (ISA): DSP 4.05 and the CT1745 mixer at
 * 0x220, IRQ 5, 8-bit DMA 1, 16-bit DMA 5 (see sb16.c).
 */
#ifndef MIMIC_HW_AUDIO_SB16_H
#define MIMIC_HW_AUDIO_SB16_H

#include "bus/audio.h"
#include "bus/device.h"
#include "hw/isa/i8237.h"

#define SB16_FIFO 64

typedef struct Sb16 {
    Device dev;
    /* Wiring, set by the board before realize. */
    IrqLine *irq;
    I8237 *dma;
    Audio *audio;
    struct Opl3 *opl; /* the FM part, mirrored at 0x220-0x223, 0x228-9 */
    /* DSP */
    uint8_t cmd;           /* command awaiting arguments, 0: none */
    uint8_t args[4];
    uint8_t nargs, want;   /* arguments received / needed */
    uint8_t out[SB16_FIFO];/* bytes for the host to read at 0x22A */
    uint8_t out_head, out_len;
    uint8_t reset_latch;   /* last value written to the reset port */
    uint8_t test_reg;
    bool speaker;
    uint16_t rate;         /* frames per second */
    uint16_t block_len;    /* 0x48: block length - 1 (bytes) */
    /* The DMA stream. */
    bool dma_on;           /* a transfer is programmed */
    bool dma_paused;
    bool dma16;            /* 16-bit samples on DMA 5, else 8-bit on DMA 1 */
    bool dma_auto;         /* auto-init */
    bool dma_stereo, dma_signed;
    bool dma_exit_auto;    /* 0xD9/0xDA: stop at the end of this block */
    uint32_t dma_block;    /* bytes per block */
    uint32_t dma_left;     /* bytes left in the current block */
    int64_t dma_t0;        /* virtual time of frame dma_frames */
    int64_t dma_frames;
    uint8_t dac_last;      /* direct DAC (0x10) output */
    int64_t dac_time;
    /* Mixer and interrupts. */
    uint8_t mix_index;
    uint8_t mix[256];
    uint8_t irq_status;    /* mixer 0x82: bit 0 8-bit DMA, bit 1 16-bit */
    /* private */
    AudioVoice *voice;
    struct Timer *timer;
} Sb16;

extern const DeviceInfo sb16_info;

#endif
