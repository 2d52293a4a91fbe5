/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 82801AA (ICH) AC'97 audio controller and its codec.
 * References: Intel 82801AA/AB I/O Controller Hub data sheet, "AC'97
 * Audio Controller Registers" (NAMBAR: the codec's mixer registers,
 * NABMBAR: the bus-master boxes PCM in 0x00, PCM out 0x10, mic 0x20 with
 * BDBAR, CIV, LVI, SR, PICB, PIV, CR; GLOB_CNT 0x2C, GLOB_STA 0x30, CAS
 * 0x34; buffer descriptors of 8 bytes: address, length in samples,
 * IOC bit 31, BUP bit 30); Intel "Audio Codec '97" revision 2.3 (mixer
 * registers 0x00-0x7E, variable rate audio through 0x28/0x2A/0x2C).
 *
 * PCM out plays 16-bit stereo at the codec's front DAC rate (48 kHz
 * unless the guest enables VRA), following virtual time: the mixer's pull
 * and a timer at the end of each buffer move what the elapsed time is
 * worth through the bounds-checked memmap_read().  PCM in records the
 * audio device's input (audio_in_read()) at the L/R ADC rate, 16-bit
 * stereo, through the record gain (0x1C: mute, 1.5 dB steps), into its
 * buffers with memmap_write(), in virtual time the same way; whatever the
 * record select (0x1A) says, the one input is recorded.  Mic in keeps its
 * registers but halts at once.  Master (0x02) and PCM out (0x18) volumes
 * and mutes reach the voice.
 */
#include "hw/audio/ac97.h"

#include <math.h>
#include <string.h>

#include "bus/log.h"
#include "hw/board.h"

/* Codec registers (AC'97 2.3). */
#define AC97_RESET 0x00
#define AC97_MASTER 0x02
#define AC97_HEADPHONE 0x04
#define AC97_MONO 0x06
#define AC97_PCM_OUT 0x18
#define AC97_REC_GAIN 0x1c
#define AC97_POWERDOWN 0x26
#define AC97_EXT_ID 0x28
#define AC97_EXT_CTRL 0x2a
#define AC97_FRONT_RATE 0x2c
#define AC97_LR_ADC_RATE 0x32
#define AC97_MIC_RATE 0x34
#define AC97_VENDOR1 0x7c
#define AC97_VENDOR2 0x7e

/* Bus-master registers. */
#define BOX_PI 0
#define BOX_PO 1
#define SR_DCH 0x01
#define SR_CELV 0x02
#define SR_LVBCI 0x04
#define SR_BCIS 0x08
#define SR_FIFOE 0x10
#define CR_RPBM 0x01
#define CR_RR 0x02
#define CR_LVBIE 0x04
#define CR_FEIE 0x08
#define CR_IOCE 0x10
#define GLOB_CNT 0x2c
#define GLOB_STA 0x30
#define CAS 0x34
#define STA_PCR 0x100 /* primary codec ready */
#define BD_IOC 0x8000
#define BD_BUP 0x4000

#define PCI_COMMAND_MASTER 0x4

static void ac97_update_irq(Ac97 *s)
{
    bool level = false;
    for (int i = 0; i < 3; i++) {
        Ac97Box *b = &s->box[i];
        level |= ((b->sr & SR_BCIS) && (b->cr & CR_IOCE)) ||
                 ((b->sr & SR_LVBCI) && (b->cr & CR_LVBIE)) ||
                 ((b->sr & SR_FIFOE) && (b->cr & CR_FEIE));
    }
    if (level != s->irq_level) {
        s->irq_level = level;
        if (s->set_irq) {
            s->set_irq(s->irq_opaque, level);
        }
    }
}

static uint32_t glob_sta(Ac97 *s)
{
    uint32_t v = STA_PCR;
    static const uint32_t bit[3] = { 1 << 5, 1 << 6, 1 << 7 };
    for (int i = 0; i < 3; i++) {
        if (s->box[i].sr & (SR_BCIS | SR_LVBCI | SR_FIFOE)) {
            v |= bit[i];
        }
    }
    return v;
}

/* ---- codec ---- */

static float vol_gain(uint16_t v, int shift, bool master)
{
    int x = (v >> shift) & 0x1f;
    /* Master: attenuation in 1.5 dB steps; PCM out: gain, 0x08 = 0 dB. */
    float dbs = master ? -1.5f * (float)x : 1.5f * (8 - x);
    return powf(10.0f, dbs / 20.0f);
}

static void apply_volume(Ac97 *s)
{
    if (!s->voice) {
        return;
    }
    uint16_t m = s->codec[AC97_MASTER / 2], p = s->codec[AC97_PCM_OUT / 2];
    float l = vol_gain(m, 8, true) * vol_gain(p, 8, false);
    float r = vol_gain(m, 0, true) * vol_gain(p, 0, false);
    audio_voice_set_volume(s->voice, l, r, (m & 0x8000) || (p & 0x8000));
}

static int pcm_rate(Ac97 *s)
{
    if (s->codec[AC97_EXT_CTRL / 2] & 1) { /* VRA */
        return s->codec[AC97_FRONT_RATE / 2];
    }
    return 48000;
}

static void codec_reset(Ac97 *s)
{
    memset(s->codec, 0, sizeof(s->codec));
    s->codec[AC97_MASTER / 2] = 0x8000;
    s->codec[AC97_HEADPHONE / 2] = 0x8000;
    s->codec[AC97_MONO / 2] = 0x8000;
    s->codec[0x0c / 2] = 0x8008; /* phone */
    s->codec[0x0e / 2] = 0x8008; /* mic */
    s->codec[0x10 / 2] = 0x8808; /* line in */
    s->codec[0x12 / 2] = 0x8808; /* CD */
    s->codec[0x14 / 2] = 0x8808; /* video */
    s->codec[0x16 / 2] = 0x8808; /* aux */
    s->codec[AC97_PCM_OUT / 2] = 0x8808;
    s->codec[0x1c / 2] = 0x8000; /* record gain */
    s->codec[AC97_POWERDOWN / 2] = 0x000f; /* ADC, DAC, analog, ref ready */
    s->codec[AC97_EXT_ID / 2] = 0x0001;     /* VRA */
    s->codec[AC97_FRONT_RATE / 2] = 48000;
    s->codec[AC97_LR_ADC_RATE / 2] = 48000;
    s->codec[AC97_MIC_RATE / 2] = 48000;
    s->codec[AC97_VENDOR1 / 2] = 0x8384;   /* Sigmatel STAC9700 */
    s->codec[AC97_VENDOR2 / 2] = 0x7600;
    apply_volume(s);
}

static void box_run(Ac97 *s, int i);
static void box_arm(Ac97 *s, int i);

static void codec_write(Ac97 *s, uint8_t reg, uint16_t v)
{
    switch (reg) {
    case AC97_RESET:
        codec_reset(s);
        return;
    case AC97_POWERDOWN:
        /* Power-down requests in the high byte; the ready bits stay. */
        s->codec[reg / 2] = (v & 0xff00) | 0x000f;
        return;
    case AC97_MASTER:
    case AC97_HEADPHONE:
    case AC97_PCM_OUT:
        /* 5-bit volumes: the optional sixth bits (5, 13) read back 0,
           which is how drivers tell the width. */
        s->codec[reg / 2] = v & 0x9f1f;
        break;
    case AC97_MONO:
        s->codec[reg / 2] = v & 0x801f;
        break;
    case AC97_EXT_ID:
    case AC97_VENDOR1:
    case AC97_VENDOR2:
        return; /* read-only */
    case AC97_EXT_CTRL:
        s->codec[reg / 2] = v & 0x0001; /* VRA only */
        break;
    case AC97_FRONT_RATE:
    case AC97_LR_ADC_RATE:
    case AC97_MIC_RATE:
        if (!(s->codec[AC97_EXT_CTRL / 2] & 1)) {
            return; /* fixed at 48 kHz without VRA */
        }
        s->codec[reg / 2] = CLAMP(v, 8000, 48000);
        break;
    default:
        s->codec[reg / 2] = v;
        break;
    }
    if (reg == AC97_EXT_CTRL || reg == AC97_FRONT_RATE) {
        /* A rate change re-bases the stream's timeline. */
        box_run(s, BOX_PO);
        s->t0 = clock_now(s->dev.bus->clock);
        s->frames = 0;
        audio_voice_set_format(s->voice, pcm_rate(s), AUDIO_FMT_S16, 2);
        box_arm(s, BOX_PO);
    }
    if (reg == AC97_EXT_CTRL || reg == AC97_LR_ADC_RATE) {
        box_run(s, BOX_PI);
        s->in_t0 = clock_now(s->dev.bus->clock);
        s->in_frames = 0;
        box_arm(s, BOX_PI);
    }
    apply_volume(s);
}

static uint32_t nam_read(void *opaque, uint16_t off, unsigned size)
{
    Ac97 *s = opaque;
    s->cas = 0;
    uint16_t w = s->codec[(off >> 1) & 63];
    if (size == 1) {
        return (off & 1) ? w >> 8 : w & 0xff;
    }
    if (size == 4) {
        return w | (uint32_t)s->codec[((off >> 1) + 1) & 63] << 16;
    }
    return w;
}

static void nam_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    Ac97 *s = opaque;
    s->cas = 0;
    if (size == 1) {
        mimic_log_guest("ac97: byte write to codec register 0x%02x", off);
        return;
    }
    codec_write(s, off & 0x7e, v & 0xffff);
    if (size == 4) {
        codec_write(s, (off + 2) & 0x7e, v >> 16);
    }
}

/* ---- bus master ---- */

/* Load descriptor CIV of box b. */
static void box_fetch(Ac97 *s, Ac97Box *b)
{
    uint8_t bd[8];
    memmap_read(s->dev.bus->mem, b->bdbar + 8u * b->civ, bd, sizeof(bd));
    b->buf_addr = (bd[0] | bd[1] << 8 | bd[2] << 16 |
                   (uint32_t)bd[3] << 24) & ~1u;
    b->picb = bd[4] | bd[5] << 8;
    b->buf_flags = bd[6] | bd[7] << 8;
    b->piv = (b->civ + 1) & 31;
}

static void box_reset(Ac97 *s, int i)
{
    Ac97Box *b = &s->box[i];
    *b = (Ac97Box){ .sr = SR_DCH };
    if (i == BOX_PO) {
        s->running = false;
        if (s->voice) {
            audio_voice_set_active(s->voice, false);
        }
        if (s->timer) {
            timer_del(s->timer);
        }
    }
    if (i == BOX_PI) {
        s->in_running = false;
        if (s->in_timer) {
            timer_del(s->in_timer);
        }
    }
}

/* The current buffer ran out: interrupt, next descriptor or halt. */
static void box_buffer_done(Ac97 *s, Ac97Box *b)
{
    if (b->buf_flags & BD_IOC) {
        b->sr |= SR_BCIS;
    }
    if (b->civ == b->lvi) {
        b->sr |= SR_LVBCI | SR_DCH | SR_CELV;
        if (b == &s->box[BOX_PI]) {
            s->in_running = false;
        } else {
            s->running = false;
            audio_voice_set_active(s->voice, false);
        }
    } else {
        b->civ = (b->civ + 1) & 31;
        box_fetch(s, b);
    }
    ac97_update_irq(s);
}

/* ---- PCM in ---- */

static int adc_rate(Ac97 *s)
{
    if (s->codec[AC97_EXT_CTRL / 2] & 1) { /* VRA */
        return s->codec[AC97_LR_ADC_RATE / 2];
    }
    return 48000;
}

/* Samples recorded, through the record gain, as 16-bit stereo bytes. */
static void pi_record(Ac97 *s, uint8_t *buf, int samples)
{
    uint16_t rg = s->codec[AC97_REC_GAIN / 2];
    float gl = (rg & 0x8000) ? 0.0f
                             : powf(10.0f, 1.5f * ((rg >> 8) & 15) / 20.0f);
    float gr = (rg & 0x8000) ? 0.0f : powf(10.0f, 1.5f * (rg & 15) / 20.0f);
    int16_t in[2 * 512];
    audio_in_set_rate(s->ain, adc_rate(s));
    for (int done = 0; done < samples;) {
        int frames = MIN((samples - done) / 2, 512);
        audio_in_read(s->ain, in, frames);
        for (int k = 0; k < 2 * frames; k++) {
            int v = (int)lrintf(in[k] * ((k & 1) ? gr : gl));
            v = CLAMP(v, -32768, 32767);
            buf[2 * (done + k)] = v;
            buf[2 * (done + k) + 1] = v >> 8;
        }
        done += 2 * frames;
    }
}

/* ---- the DMA engine of PCM out and PCM in ---- */

/* A box's timeline in virtual time: frames moved since t0. */
typedef struct {
    int64_t *t0, *frames;
    bool *running;
    Timer *timer;
    int rate;
} BoxClock;

static BoxClock box_clock(Ac97 *s, int i)
{
    if (i == BOX_PI) {
        return (BoxClock){ &s->in_t0, &s->in_frames, &s->in_running,
                           s->in_timer, adc_rate(s) };
    }
    return (BoxClock){ &s->t0, &s->frames, &s->running, s->timer,
                       pcm_rate(s) };
}

static bool box_can_run(Ac97 *s, int i)
{
    Ac97Box *b = &s->box[i];
    return (i == BOX_PO || i == BOX_PI) && *box_clock(s, i).running &&
           (b->cr & CR_RPBM) && !(b->sr & SR_DCH) &&
           (pci_get_long(s->pci.config + PCI_COMMAND) & PCI_COMMAND_MASTER);
}

/* Catch box i (PCM out or PCM in) up to now: move what the elapsed time
   is worth, 16-bit stereo, between its buffers and the voice or input. */
static void box_run(Ac97 *s, int i)
{
    if (!box_can_run(s, i)) {
        return;
    }
    Ac97Box *b = &s->box[i];
    BoxClock c = box_clock(s, i);
    int64_t now = clock_now(s->dev.bus->clock);
    int64_t due = (now - *c.t0) * c.rate / 1000000000LL - *c.frames;
    if (due <= 0) {
        return;
    }
    if (due > c.rate) {
        *c.t0 = now;
        *c.frames = 0;
        due = c.rate / 10;
    }
    *c.frames += due;
    int64_t samples = 2 * due; /* 2 samples a frame */
    uint8_t buf[4096];
    /* A guest may queue 32 empty buffers: bound the loop. */
    for (int guard = 0; samples > 0 && *c.running && guard < 64; guard++) {
        if (b->picb < 2) {
            /* Buffers hold whole frames; a stray odd sample is skipped. */
            b->picb = 0;
            box_buffer_done(s, b);
            continue;
        }
        int n = (int)MIN(MIN(samples, (int64_t)(b->picb & ~1)),
                         (int64_t)sizeof(buf) / 2);
        if (i == BOX_PI) {
            pi_record(s, buf, n);
            memmap_write(s->dev.bus->mem, b->buf_addr, buf, 2 * (size_t)n);
        } else {
            memmap_read(s->dev.bus->mem, b->buf_addr, buf, 2 * (size_t)n);
            audio_voice_write(s->voice, buf, 2 * (size_t)n);
        }
        b->buf_addr += 2 * n;
        b->picb -= n;
        samples -= n;
        guard = 0;
        if (b->picb == 0) {
            box_buffer_done(s, b);
        }
    }
    if (*c.frames >= c.rate) {
        *c.t0 += 1000000000LL;
        *c.frames -= c.rate;
    }
}

/* Timer at the end of box i's current buffer (its interrupt on time). */
static void box_arm(Ac97 *s, int i)
{
    BoxClock c = box_clock(s, i);
    if (!c.timer) {
        return;
    }
    if (!box_can_run(s, i)) {
        timer_del(c.timer);
        return;
    }
    int64_t frames = *c.frames + (s->box[i].picb + 1) / 2;
    int64_t t = *c.t0 + (frames * 1000000000LL + c.rate - 1) / c.rate;
    timer_mod(c.timer, MAX(t, clock_now(s->dev.bus->clock) + 1000));
}

static void ac97_timer(void *opaque)
{
    Ac97 *s = opaque;
    box_run(s, BOX_PO);
    box_arm(s, BOX_PO);
}

static void ac97_pull(void *opaque)
{
    ac97_timer(opaque);
}

static void ac97_in_timer(void *opaque)
{
    Ac97 *s = opaque;
    box_run(s, BOX_PI);
    box_arm(s, BOX_PI);
}

/* Run bit set, or LVI moved past a halted CIV: go (again). */
static void box_start(Ac97 *s, int i)
{
    Ac97Box *b = &s->box[i];
    if (i != BOX_PO && i != BOX_PI) {
        /* The mic box does not record: it halts at once. */
        mimic_log_unimp("ac97: mic recording");
        b->sr |= SR_DCH;
        return;
    }
    if (b->sr & SR_CELV) {
        if (b->civ == b->lvi) {
            return;
        }
        b->civ = (b->civ + 1) & 31;
    }
    b->sr &= ~(SR_DCH | SR_CELV);
    box_fetch(s, b);
    if (i == BOX_PI) {
        s->in_running = true;
        s->in_t0 = clock_now(s->dev.bus->clock);
        s->in_frames = 0;
        box_arm(s, BOX_PI);
        return;
    }
    s->running = true;
    s->t0 = clock_now(s->dev.bus->clock);
    s->frames = 0;
    audio_voice_set_format(s->voice, pcm_rate(s), AUDIO_FMT_S16, 2);
    audio_voice_set_active(s->voice, true);
    box_arm(s, BOX_PO);
}

static uint8_t nabm_read_byte(Ac97 *s, uint16_t off)
{
    if (off < 0x2c) {
        Ac97Box *b = &s->box[off >> 4];
        switch (off & 0xf) {
        case 0: case 1: case 2: case 3:
            return b->bdbar >> (8 * (off & 3));
        case 4:
            return b->civ;
        case 5:
            return b->lvi;
        case 6: case 7:
            return b->sr >> (8 * (off & 1));
        case 8: case 9:
            return b->picb >> (8 * (off & 1));
        case 0xa:
            return b->piv;
        case 0xb:
            return b->cr;
        default:
            return 0;
        }
    }
    if (off >= GLOB_CNT && off < GLOB_CNT + 4) {
        return s->glob_cnt >> (8 * (off - GLOB_CNT));
    }
    if (off >= GLOB_STA && off < GLOB_STA + 4) {
        return glob_sta(s) >> (8 * (off - GLOB_STA));
    }
    if (off == CAS) {
        uint8_t v = s->cas;
        s->cas = 1; /* the semaphore is taken until a codec access */
        return v;
    }
    return 0;
}

static void nabm_write_byte(Ac97 *s, uint16_t off, uint8_t v)
{
    if (off < 0x2c) {
        int i = off >> 4;
        Ac97Box *b = &s->box[i];
        switch (off & 0xf) {
        case 0: case 1: case 2: case 3: {
            unsigned sh = 8 * (off & 3);
            b->bdbar = (b->bdbar & ~(0xffu << sh)) | ((uint32_t)v << sh);
            b->bdbar &= ~7u;
            break;
        }
        case 5:
            b->lvi = v & 31;
            if ((b->cr & CR_RPBM) && (b->sr & SR_CELV)) {
                box_start(s, i);
            }
            break;
        case 6:
            b->sr &= ~(v & (SR_LVBCI | SR_BCIS | SR_FIFOE));
            ac97_update_irq(s);
            break;
        case 0xb:
            if (v & CR_RR) {
                box_reset(s, i);
                ac97_update_irq(s);
                return;
            }
            if ((v & CR_RPBM) && !(b->cr & CR_RPBM)) {
                b->cr = v & 0x1d;
                box_start(s, i);
            } else {
                b->cr = v & 0x1d;
                if (!(v & CR_RPBM)) {
                    b->sr |= SR_DCH;
                    if (i == BOX_PO) {
                        s->running = false;
                        audio_voice_set_active(s->voice, false);
                    } else if (i == BOX_PI) {
                        s->in_running = false;
                    }
                }
            }
            ac97_update_irq(s);
            break;
        default:
            break; /* CIV, PICB, PIV: read-only */
        }
        if (i == BOX_PO) {
            box_arm(s, BOX_PO);
        } else if (i == BOX_PI) {
            box_arm(s, BOX_PI);
        }
        return;
    }
    if (off >= GLOB_CNT && off < GLOB_CNT + 4) {
        unsigned sh = 8 * (off - GLOB_CNT);
        uint32_t old = s->glob_cnt;
        s->glob_cnt = (s->glob_cnt & ~(0xffu << sh)) | ((uint32_t)v << sh);
        s->glob_cnt &= 0x0030007f;
        if ((old & 2) && !(s->glob_cnt & 2)) {
            /* Cold reset asserted: the whole link and the codec. */
            for (int i = 0; i < 3; i++) {
                box_reset(s, i);
            }
            codec_reset(s);
            ac97_update_irq(s);
        }
        return;
    }
    /* GLOB_STA's write-one-to-clear bits (resume, GPI) are not modelled. */
}

static uint32_t nabm_read(void *opaque, uint16_t off, unsigned size)
{
    Ac97 *s = opaque;
    uint32_t v = 0;
    if (off >> 4 == BOX_PO) {
        /* PICB and CIV as of now, once per access: a word read must not
           see its two bytes at two different instants. */
        box_run(s, BOX_PO);
    } else if (off >> 4 == BOX_PI) {
        box_run(s, BOX_PI);
    }
    for (unsigned i = 0; i < size; i++) {
        v |= (uint32_t)nabm_read_byte(s, off + i) << (8 * i);
    }
    return v;
}

static void nabm_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    Ac97 *s = opaque;
    if (off >> 4 == BOX_PO) {
        box_run(s, BOX_PO);
    } else if (off >> 4 == BOX_PI) {
        box_run(s, BOX_PI);
    }
    for (unsigned i = 0; i < size; i++) {
        nabm_write_byte(s, off + i, v >> (8 * i));
    }
}

static const IoRegion nam_io = {
    .len = 256, .min = 1, .max = 4, .read = nam_read, .write = nam_write,
    .name = "ac97-nam",
};

static const IoRegion nabm_io = {
    .len = 64, .min = 1, .max = 4, .read = nabm_read, .write = nabm_write,
    .name = "ac97-nabm",
};

static void ac97_config_written(PciFunc *f, uint32_t addr, uint32_t val,
                                unsigned len)
{
    Ac97 *s = f->owner;
    if (addr <= PCI_COMMAND + 1 && addr + len > PCI_COMMAND) {
        box_arm(s, BOX_PO); /* bus mastering may have been switched */
        box_arm(s, BOX_PI);
    }
}

static bool ac97_realize(Device *dev, GError **error)
{
    Ac97 *s = (Ac97 *)dev;
    if (!s->bus || !s->audio) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "ac97: not wired to a PCI bus and an audio device");
        return false;
    }
    /* 82801AA AC'97 audio: class 0x0401 (multimedia audio), rev 1. */
    pci_add_function(s->bus, &s->pci, s->devfn, 0x8086, 0x2415, 0x04010001,
                     s);
    /* Subsystem 1af4:1100, the ID QEMU-like virtual machines give their
       emulated AC'97: Linux's snd-intel8x0 then knows it runs in a VM and
       trusts the codec's 48 kHz instead of timing DMA against its clock
       source, which on a loaded host (real-time mode) measured 49975 Hz
       and played 4% sharp. */
    pci_set_word(s->pci.config + PCI_SUBSYS_VENDOR, 0x1af4);
    pci_set_word(s->pci.config + PCI_SUBSYS_ID, 0x1100);
    s->pci.config[PCI_INTERRUPT_PIN] = 1; /* INTA# */
    pci_set_bar_io(&s->pci, 0, 256, &nam_io, s);
    pci_set_bar_io(&s->pci, 1, 64, &nabm_io, s);
    s->pci.config_written = ac97_config_written;
    s->voice = audio_voice_new(s->audio, "ac97", ac97_pull, s);
    s->timer = timer_new(dev->bus->clock, ac97_timer, s);
    s->ain = audio_in_new(s->audio, "ac97");
    s->in_timer = timer_new(dev->bus->clock, ac97_in_timer, s);
    return true;
}

static void ac97_reset(Device *dev)
{
    Ac97 *s = (Ac97 *)dev;
    pci_reset_function(&s->pci);
    pci_set_word(s->pci.config + PCI_STATUS, 0x0280);
    for (int i = 0; i < 3; i++) {
        box_reset(s, i);
    }
    s->glob_cnt = 0;
    s->cas = 0;
    codec_reset(s);
    ac97_update_irq(s);
}

static void ac97_finalize(Device *dev)
{
    Ac97 *s = (Ac97 *)dev;
    timer_free(s->timer);
    timer_free(s->in_timer);
    audio_voice_free(s->voice);
    audio_in_free(s->ain);
}

static bool ac97_post_load(void *obj, GError **error)
{
    Ac97 *s = obj;
    for (int i = 0; i < 3; i++) {
        Ac97Box *b = &s->box[i];
        if (b->civ > 31 || b->lvi > 31 || b->piv > 31) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                        "ac97: descriptor index out of range");
            return false;
        }
    }
    for (int k = 0; k < 2; k++) {
        int reg = k ? AC97_LR_ADC_RATE : AC97_FRONT_RATE;
        uint16_t r = s->codec[reg / 2];
        if (r < 8000 || r > 48000) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                        "ac97: %s rate %u out of range",
                        k ? "ADC" : "front DAC", r);
            return false;
        }
    }
    pci_update_mappings(&s->pci);
    if (s->voice) {
        audio_voice_set_format(s->voice, pcm_rate(s), AUDIO_FMT_S16, 2);
        audio_voice_set_active(s->voice, s->running);
        apply_volume(s);
    }
    box_arm(s, BOX_PO);
    box_arm(s, BOX_PI);
    s->irq_level = !s->irq_level; /* force the line to be driven */
    ac97_update_irq(s);
    return true;
}

static const StateField box_fields[] = {
    STATE_U32(Ac97Box, bdbar), STATE_U8(Ac97Box, civ), STATE_U8(Ac97Box, lvi),
    STATE_U8(Ac97Box, piv), STATE_U8(Ac97Box, cr), STATE_U16(Ac97Box, sr),
    STATE_U16(Ac97Box, picb), STATE_U32(Ac97Box, buf_addr),
    STATE_U16(Ac97Box, buf_flags), STATE_END,
};

static const StateDesc ac97_state = {
    .name = "ac97", .version = 2, .min_version = 1,
    .post_load = ac97_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(Ac97, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_U16_ARRAY(Ac97, codec, 64),
        STATE_STRUCT_ARRAY(Ac97, box, 3, box_fields),
        STATE_U32(Ac97, glob_cnt), STATE_U8(Ac97, cas),
        STATE_I64(Ac97, t0), STATE_I64(Ac97, frames),
        STATE_BOOL(Ac97, running),
        STATE_I64(Ac97, in_t0, STATE_V(2)),
        STATE_I64(Ac97, in_frames, STATE_V(2)),
        STATE_BOOL(Ac97, in_running, STATE_V(2)), STATE_END },
};

const DeviceInfo ac97_info = {
    .name = "ac97", .size = sizeof(Ac97), .state = &ac97_state,
    .realize = ac97_realize, .reset = ac97_reset, .finalize = ac97_finalize,
};
