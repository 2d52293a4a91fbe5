/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 82801AA AC'97 audio controller (PCI 8086:2415) with an AC'97 2.3
 * codec (Sigmatel STAC9700 identity) - see ac97.c.
 */
#ifndef MIMIC_HW_AUDIO_AC97_H
#define MIMIC_HW_AUDIO_AC97_H

#include "bus/audio.h"
#include "bus/device.h"
#include "hw/pci/pci.h"

/* One bus-master box: PCM in (0), PCM out (1), mic in (2). */
typedef struct Ac97Box {
    uint32_t bdbar;
    uint8_t civ, lvi, piv, cr;
    uint16_t sr, picb;
    uint32_t buf_addr;   /* current buffer's address (from its entry) */
    uint16_t buf_flags;  /* current entry's IOC/BUP flags */
} Ac97Box;

typedef struct Ac97 {
    Device dev;
    PciFunc pci;
    /* Wiring, set by the board before realize. */
    PciBus *bus;
    uint8_t devfn;
    void (*set_irq)(void *opaque, bool level); /* INTA# */
    void *irq_opaque;
    Audio *audio;
    /* Codec (mixer) registers 0x00-0x7E, by word. */
    uint16_t codec[64];
    Ac97Box box[3];
    uint32_t glob_cnt;
    uint8_t cas;
    /* PCM out timeline. */
    int64_t t0, frames;
    bool running;        /* PCM out moving data */
    /* PCM in timeline (state version 2). */
    int64_t in_t0, in_frames;
    bool in_running;
    /* private */
    AudioVoice *voice;
    AudioIn *ain;
    struct Timer *timer, *in_timer;
    bool irq_level;
} Ac97;

extern const DeviceInfo ac97_info;

#endif
