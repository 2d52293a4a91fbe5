/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel High Definition Audio controller (ICH6, PCI 8086:2668) with one
 * generic codec (line out, and line in for the duplex model) - see hda.c.
 */
#ifndef MIMIC_HW_AUDIO_HDA_H
#define MIMIC_HW_AUDIO_HDA_H

#include "bus/audio.h"
#include "bus/device.h"
#include "hw/pci/pci.h"

#define HDA_ISS 4 /* input stream descriptors: 0..3 */
#define HDA_OSS 4 /* output stream descriptors: 4..7 */
#define HDA_NSD (HDA_ISS + HDA_OSS)

typedef struct HdaStream {
    uint32_t ctl;      /* SDnCTL, 24 bits */
    uint8_t sts;       /* SDnSTS */
    uint32_t lpib, cbl;
    uint16_t lvi, fmt;
    uint32_t bdpl, bdpu;
    /* The DMA engine: current buffer descriptor and the offset in it. */
    uint16_t bde;
    uint32_t bde_off;
    uint64_t bde_addr;
    uint32_t bde_len;
    uint32_t bde_ioc;
    int64_t t0, frames; /* timeline: frames moved since t0 */
    bool running;
    /* private: a frame split across two buffers */
    uint8_t stage[64];
    uint8_t staged;
} HdaStream;

/* The codec's widgets (see hda.c for the node layout). */
typedef struct HdaCodec {
    uint16_t dac_fmt, adc_fmt;
    uint8_t dac_chan, adc_chan;  /* stream tag << 4 | channel */
    uint8_t dac_amp[2], adc_amp[2]; /* L, R: mute << 7 | gain */
    uint8_t pinctl[2];          /* out pin, in pin */
    uint8_t power;              /* AFG power state */
    uint8_t unsol[2], eapd;
    uint32_t config[2];         /* pin configuration defaults */
    uint32_t subsys;
} HdaCodec;

typedef struct Hda {
    Device dev;
    PciFunc pci;
    /* Wiring, set by the board before realize. */
    PciBus *bus;
    uint8_t devfn;
    bool duplex;         /* hda-duplex (line in) rather than hda-output */
    bool msi;            /* offer an MSI capability (boards with an APIC) */
    void (*set_irq)(void *opaque, bool level); /* INTA# */
    void *irq_opaque;
    Audio *audio;
    /* Global registers. */
    uint32_t gctl, intctl;
    uint16_t wakeen, statests, gsts;
    uint32_t ssync;
    uint32_t corblbase, corbubase, rirblbase, rirbubase;
    uint16_t corbwp, corbrp, rirbwp, rintcnt;
    uint8_t corbctl, corbsts, corbsize, rirbctl, rirbsts, rirbsize;
    uint16_t rirb_count; /* responses since the last RINTFL */
    uint32_t icoi, irii;
    uint16_t icis;
    uint32_t dplbase, dpubase;
    HdaStream sd[HDA_NSD];
    HdaCodec codec;
    uint8_t unplugged[2]; /* the jacks of line out and line in: 1 empty */
    /* private */
    MemRegion *mmio;
    AudioVoice *voice;
    AudioIn *ain;        /* hda-duplex: the line in */
    struct Timer *timer[HDA_NSD];
    bool irq_level;
    bool in_corb;        /* re-entry guard: CORB DMA aimed at ourselves */
} Hda;

extern const DeviceInfo hda_info;

/* Plug (true) or pull a jack: pin 0 line out, 1 line in. */
void hda_set_jack(Hda *s, int pin, bool plugged);

#endif
