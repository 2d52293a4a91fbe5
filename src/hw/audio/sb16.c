/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Creative Sound Blaster 16: the DSP (version 4.05) and the CT1745 mixer.
 * References: Creative Labs, "Sound Blaster Series Hardware Programming
 * Guide" (DSP commands, the 0x2xE/0x2xF interrupt acknowledge ports, the
 * mixer's 0x80-0x82 configuration and interrupt status registers); the
 * CT1745 register map (0x30-0x47 with 5-bit volumes in 2 dB steps).
 *
 * Ports at 0x220: 4 mixer index, 5 mixer data, 6 DSP reset, A DSP read
 * data, C DSP command/data (reads: bit 7 = busy), E read-buffer status
 * (bit 7 = data ready; reading acknowledges the 8-bit IRQ), F 16-bit IRQ
 * acknowledge.  OPL2/OPL3 FM synthesis (0x388, 0x220-0x223) is NOT
 * emulated; those ports stay unassigned.  Recording (ADC commands) and
 * ADPCM are not emulated either: logged, and the DSP stays idle.
 *
 * Playback follows virtual time: the DMA stream moves `rate` frames per
 * virtual second through the i8237 (the bounds-checked guest-memory path),
 * pulled by the mixer every tick and by a timer of our own at each block
 * end, where the block's interrupt is raised.  A guest that did not set
 * up its DMA channel gets silence and still its interrupts.
 * The speaker commands 0xD1/0xD3 only set what 0xD8 reports: on a DSP 4.xx
 * they do not gate the output.
 */
#include "hw/audio/sb16.h"

#include "hw/audio/opl3.h"

#include <math.h>
#include <string.h>

#include "hw/board.h"

#include "bus/log.h"

#define SB_BASE 0x220
#define SB_DMA8 1
#define SB_DMA16 5
#define DSP_VERSION_MAJOR 4
#define DSP_VERSION_MINOR 5
#define DAC_RATE 22050 /* rendering rate of the direct DAC (0x10) */

static const char copyright[] = "COPYRIGHT (C) CREATIVE TECHNOLOGY LTD, 1992.";

static void sb16_update_irq(Sb16 *s)
{
    irq_set(s->irq, s->irq_status & 3);
}

static void out_push(Sb16 *s, uint8_t v)
{
    if (s->out_len < SB16_FIFO) {
        s->out[(s->out_head + s->out_len) % SB16_FIFO] = v;
        s->out_len++;
    }
}

static int bytes_per_frame(Sb16 *s)
{
    return (s->dma16 ? 2 : 1) * (s->dma_stereo ? 2 : 1);
}

static void apply_volume(Sb16 *s)
{
    if (!s->voice) {
        return;
    }
    /* 5-bit levels, 0 dB at 31, 2 dB per step: master and voice add. */
    float g[2];
    for (int c = 0; c < 2; c++) {
        int master = s->mix[0x30 + c] >> 3, voice = s->mix[0x32 + c] >> 3;
        float db = -2.0f * ((31 - master) + (31 - voice));
        g[c] = powf(10.0f, db / 20.0f);
    }
    audio_voice_set_volume(s->voice, g[0], g[1], false);
}

static void mixer_reset(Sb16 *s)
{
    memset(s->mix, 0, sizeof(s->mix));
    for (int r = 0x30; r <= 0x35; r++) {
        s->mix[r] = 0xc0; /* master, voice, FM: -14 dB */
    }
    s->mix[0x3c] = 0x1f; /* output switches */
    s->mix[0x3d] = 0x15;
    s->mix[0x3e] = 0x0b;
    for (int r = 0x44; r <= 0x47; r++) {
        s->mix[r] = 0x80; /* treble/bass flat */
    }
    apply_volume(s);
}

static void dma_stop(Sb16 *s)
{
    s->dma_on = false;
    s->dma_paused = false;
    if (s->voice) {
        audio_voice_set_active(s->voice, false);
    }
    if (s->timer) {
        timer_del(s->timer);
    }
}

static void dsp_reset(Sb16 *s)
{
    dma_stop(s);
    s->cmd = 0;
    s->nargs = s->want = 0;
    s->out_head = s->out_len = 0;
    s->speaker = false;
    s->dma_exit_auto = false;
    s->irq_status = 0;
    sb16_update_irq(s);
    out_push(s, 0xaa); /* the DSP is ready */
}

static int64_t now_ns(Sb16 *s)
{
    return clock_now(s->dev.bus->clock);
}

static void voice_format(Sb16 *s)
{
    AudioFormat f = s->dma16 ? (s->dma_signed ? AUDIO_FMT_S16 : AUDIO_FMT_U16)
                             : (s->dma_signed ? AUDIO_FMT_S8 : AUDIO_FMT_U8);
    audio_voice_set_format(s->voice, s->rate, f, s->dma_stereo ? 2 : 1);
}

/* Arm the timer for the end of the current block. */
static void dma_arm(Sb16 *s)
{
    if (!s->dma_on || s->dma_paused) {
        timer_del(s->timer);
        return;
    }
    int bpf = bytes_per_frame(s);
    int64_t frames = s->dma_frames + (s->dma_left + bpf - 1) / bpf;
    int64_t t = s->dma_t0 + (frames * 1000000000LL + s->rate - 1) / s->rate;
    timer_mod(s->timer, MAX(t, now_ns(s) + 1000));
}

/* Move what the time since the last run is worth. */
static void dma_run(Sb16 *s)
{
    if (!s->dma_on || s->dma_paused) {
        return;
    }
    int64_t now = now_ns(s);
    int64_t due = (now - s->dma_t0) * s->rate / 1000000000LL - s->dma_frames;
    if (due <= 0) {
        return;
    }
    if (due > s->rate) { /* over a second without a run: catch up once */
        s->dma_t0 = now;
        s->dma_frames = 0;
        due = s->rate / 10;
    }
    int bpf = bytes_per_frame(s);
    int64_t bytes = due * bpf;
    uint8_t buf[4096];
    while (bytes > 0 && s->dma_on) {
        int chunk = (int)MIN(MIN(bytes, (int64_t)s->dma_left),
                             (int64_t)sizeof(buf));
        int moved = i8237_transfer(s->dma, s->dma16 ? SB_DMA16 : SB_DMA8,
                                   buf, chunk, false);
        if (moved < chunk) {
            /* The guest's DMA channel ran out or is masked: silence. */
            uint8_t zero = s->dma_signed ? 0 : 0x80;
            for (int i = moved; i < chunk; i++) {
                buf[i] = (s->dma16 && (i & 1) == 0) ? 0 : zero;
            }
        }
        audio_voice_write(s->voice, buf, chunk);
        s->dma_left -= chunk;
        bytes -= chunk;
        if (s->dma_left == 0) {
            s->irq_status |= s->dma16 ? 2 : 1;
            sb16_update_irq(s);
            if (s->dma_auto && !s->dma_exit_auto) {
                s->dma_left = s->dma_block;
            } else {
                s->dma_exit_auto = false;
                s->dma_on = false;
                audio_voice_set_active(s->voice, false);
            }
        }
    }
    s->dma_frames += due;
    if (s->dma_frames >= s->rate) {
        s->dma_t0 += 1000000000LL;
        s->dma_frames -= s->rate;
    }
}

static void sb16_timer(void *opaque)
{
    Sb16 *s = opaque;
    dma_run(s);
    dma_arm(s);
}

static void sb16_pull(void *opaque)
{
    Sb16 *s = opaque;
    if (s->dma_on) {
        dma_run(s);
        dma_arm(s);
    } else if (audio_voice_active(s->voice)) {
        /* The direct DAC: hold the last value until now, then go idle
           when the guest stopped writing. */
        int64_t now = now_ns(s);
        int64_t n = (now - s->dac_time) * DAC_RATE / 1000000000LL;
        if (n > 0) {
            uint8_t buf[512];
            memset(buf, s->dac_last, sizeof(buf));
            n = MIN(n, (int64_t)DAC_RATE / 10);
            for (int64_t done = 0; done < n;) {
                int k = (int)MIN(n - done, (int64_t)sizeof(buf));
                audio_voice_write(s->voice, buf, k);
                done += k;
            }
            s->dac_time += n * 1000000000LL / DAC_RATE;
        }
        if (now - s->dac_time > 50000000LL || n == DAC_RATE / 10) {
            audio_voice_set_active(s->voice, false);
        }
    }
}

static void dma_start(Sb16 *s, bool dma16, bool autoinit, bool stereo,
                      bool is_signed, uint32_t block_bytes)
{
    dma_run(s); /* finish what an earlier stream owed */
    s->dma16 = dma16;
    s->dma_auto = autoinit;
    s->dma_stereo = stereo;
    s->dma_signed = is_signed;
    s->dma_block = block_bytes ? block_bytes : 1;
    s->dma_left = s->dma_block;
    s->dma_exit_auto = false;
    s->dma_on = true;
    s->dma_paused = false;
    s->dma_t0 = now_ns(s);
    s->dma_frames = 0;
    voice_format(s);
    audio_voice_set_active(s->voice, true);
    dma_arm(s);
}

/* The DSP makes 5-45 kHz; anything else is clamped to what the mixer
   takes.  A running stream keeps its timeline across the change. */
static void set_rate(Sb16 *s, uint32_t r)
{
    dma_run(s);
    s->rate = CLAMP(r, 1000, 48000);
    s->dma_t0 = now_ns(s);
    s->dma_frames = 0;
    if (s->dma_on) {
        voice_format(s);
        dma_arm(s);
    }
}

/* The 8-bit commands of older DSPs: rate from 0x40/0x41, stereo from the
   SB Pro mixer bit (0x0E bit 1), which halves the time-constant rate. */
static void dma_start_legacy(Sb16 *s, bool autoinit, uint32_t bytes)
{
    bool stereo = s->mix[0x0e] & 2;
    dma_start(s, false, autoinit, stereo, false, bytes);
}

static int dsp_args_needed(uint8_t cmd)
{
    if ((cmd & 0xf0) == 0xb0 || (cmd & 0xf0) == 0xc0) {
        return 3; /* mode, length low, length high */
    }
    switch (cmd) {
    case 0x10: case 0x40: case 0xe0: case 0xe4:
        return 1;
    case 0x14: case 0x41: case 0x42: case 0x48: case 0x80:
        return 2;
    default:
        return 0;
    }
}

static void dsp_command(Sb16 *s)
{
    uint8_t *a = s->args;
    uint8_t c = s->cmd;
    if ((c & 0xf0) == 0xb0 || (c & 0xf0) == 0xc0) {
        /* DSP 4.xx: bit 3 input, bit 2 auto-init, bit 1 FIFO; the mode
           byte: bit 4 signed, bit 5 stereo; the length counts samples
           (words for 16-bit, both channels counted) minus one. */
        if (c & 8) {
            mimic_log_unimp("sb16: recording (DSP command 0x%02x)", c);
            return;
        }
        bool dma16 = (c & 0xf0) == 0xb0;
        uint32_t samples = (uint32_t)(a[1] | a[2] << 8) + 1;
        dma_start(s, dma16, c & 4, a[0] & 0x20, a[0] & 0x10,
                  samples * (dma16 ? 2 : 1));
        return;
    }
    switch (c) {
    case 0x10: /* direct DAC, 8-bit */
        if (!s->dma_on) {
            int64_t now = now_ns(s);
            if (!audio_voice_active(s->voice)) {
                audio_voice_set_format(s->voice, DAC_RATE, AUDIO_FMT_U8, 1);
                audio_voice_set_active(s->voice, true);
                s->dac_time = now;
            }
            sb16_pull(s); /* the old value up to now */
            s->dac_last = a[0];
        }
        break;
    case 0x14: /* 8-bit single-cycle DMA output */
        dma_start_legacy(s, false, (uint32_t)(a[0] | a[1] << 8) + 1);
        break;
    case 0x1c: /* 8-bit auto-init DMA output */
    case 0x90: /* high-speed auto-init */
        dma_start_legacy(s, true, (uint32_t)s->block_len + 1);
        break;
    case 0x91: /* high-speed single-cycle */
        dma_start_legacy(s, false, (uint32_t)s->block_len + 1);
        break;
    case 0x40: { /* time constant: rate = 1 MHz / (256 - tc) */
        uint32_t r = 1000000 / (256 - a[0]);
        set_rate(s, (s->mix[0x0e] & 2) ? r / 2 : r);
        break;
    }
    case 0x41: /* output rate, high byte first */
    case 0x42: /* input rate (used for output too on a 4.xx DSP) */
        set_rate(s, a[0] << 8 | a[1]);
        break;
    case 0x48:
        s->block_len = a[0] | a[1] << 8;
        break;
    case 0x80: /* silence for length+1 samples, then the 8-bit IRQ */
        mimic_log_unimp("sb16: DSP silence command 0x80 (IRQ only)");
        s->irq_status |= 1;
        sb16_update_irq(s);
        break;
    case 0xd0: /* pause 8-bit DMA */
    case 0xd5: /* pause 16-bit DMA */
        dma_run(s);
        s->dma_paused = true;
        timer_del(s->timer);
        break;
    case 0xd4: /* continue 8-bit DMA */
    case 0xd6: /* continue 16-bit DMA */
    case 0x45: /* continue auto-init 8-bit */
    case 0x47: /* continue auto-init 16-bit */
        if (s->dma_paused) {
            s->dma_paused = false;
            s->dma_t0 = now_ns(s);
            s->dma_frames = 0;
        }
        if (c == 0x45 || c == 0x47) {
            s->dma_exit_auto = false;
        }
        dma_arm(s);
        break;
    case 0xd1:
        s->speaker = true;
        break;
    case 0xd3:
        s->speaker = false;
        break;
    case 0xd8:
        out_push(s, s->speaker ? 0xff : 0x00);
        break;
    case 0xd9: /* exit 16-bit auto-init after this block */
    case 0xda: /* exit 8-bit auto-init after this block */
        s->dma_exit_auto = true;
        break;
    case 0xe0:
        out_push(s, ~a[0]);
        break;
    case 0xe1:
        out_push(s, DSP_VERSION_MAJOR);
        out_push(s, DSP_VERSION_MINOR);
        break;
    case 0xe3:
        for (size_t i = 0; i < sizeof(copyright); i++) {
            out_push(s, (uint8_t)copyright[i]); /* with its NUL */
        }
        break;
    case 0xe4:
        s->test_reg = a[0];
        break;
    case 0xe8:
        out_push(s, s->test_reg);
        break;
    case 0xf2:
        s->irq_status |= 1;
        sb16_update_irq(s);
        break;
    case 0xf3:
        s->irq_status |= 2;
        sb16_update_irq(s);
        break;
    case 0xf8:
        out_push(s, 0);
        break;
    default:
        mimic_log_unimp("sb16: DSP command 0x%02x", c);
        break;
    }
}

static void dsp_write(Sb16 *s, uint8_t v)
{
    if (s->want == 0) {
        s->cmd = v;
        s->nargs = 0;
        s->want = dsp_args_needed(v);
        if (s->want == 0) {
            dsp_command(s);
            s->cmd = 0;
        }
        return;
    }
    s->args[s->nargs++] = v;
    if (s->nargs == s->want) {
        s->want = 0;
        dsp_command(s);
        s->cmd = 0;
        s->nargs = 0;
    }
}

static void mixer_write(Sb16 *s, uint8_t r, uint8_t v)
{
    switch (r) {
    case 0x00:
        mixer_reset(s);
        return;
    case 0x04: /* SB Pro voice volume: left nibble, right nibble */
        s->mix[0x32] = (v & 0xf0) | 0x08;
        s->mix[0x33] = (v << 4) | 0x08;
        break;
    case 0x22: /* SB Pro master volume */
        s->mix[0x30] = (v & 0xf0) | 0x08;
        s->mix[0x31] = (v << 4) | 0x08;
        break;
    case 0x80: /* IRQ and DMA select: the board wires 5 and 1/5 */
    case 0x81:
    case 0x82: /* interrupt status: read-only */
        return;
    default:
        break;
    }
    s->mix[r] = v;
    apply_volume(s);
}

static uint8_t mixer_read(Sb16 *s, uint8_t r)
{
    switch (r) {
    case 0x04:
        return (s->mix[0x32] & 0xf0) | s->mix[0x33] >> 4;
    case 0x22:
        return (s->mix[0x30] & 0xf0) | s->mix[0x31] >> 4;
    case 0x80:
        return 0x02; /* IRQ 5 */
    case 0x81:
        return 1 << SB_DMA8 | 1 << SB_DMA16; /* DMA 1 and 5 */
    case 0x82:
        return s->irq_status & 3;
    default:
        return s->mix[r];
    }
}

static uint32_t sb16_read(void *opaque, uint16_t off, unsigned size)
{
    Sb16 *s = opaque;
    if (s->opl && (off < 4 || off == 8 || off == 9)) {
        return opl3_io_read(s->opl, off & 3); /* the FM mirror */
    }
    switch (off) {
    case 0x5:
        return mixer_read(s, s->mix_index);
    case 0x4:
        return s->mix_index;
    case 0xa: {
        if (!s->out_len) {
            return s->out[(s->out_head + SB16_FIFO - 1) % SB16_FIFO];
        }
        uint8_t v = s->out[s->out_head];
        s->out_head = (s->out_head + 1) % SB16_FIFO;
        s->out_len--;
        return v;
    }
    case 0xc:
        return 0x7f; /* bit 7 clear: ready for a command */
    case 0xe:
        s->irq_status &= ~1;
        sb16_update_irq(s);
        return s->out_len ? 0xff : 0x7f;
    case 0xf:
        s->irq_status &= ~2;
        sb16_update_irq(s);
        return 0xff;
    default:
        return 0xff;
    }
}

static void sb16_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    Sb16 *s = opaque;
    if (s->opl && (off < 4 || off == 8 || off == 9)) {
        opl3_io_write(s->opl, off & 3, v); /* the FM mirror */
        return;
    }
    switch (off) {
    case 0x4:
        s->mix_index = v;
        break;
    case 0x5:
        mixer_write(s, s->mix_index, v);
        break;
    case 0x6:
        if ((s->reset_latch & 1) && !(v & 1)) {
            dsp_reset(s);
        } else if (v & 1) {
            dma_stop(s);
        }
        s->reset_latch = v;
        break;
    case 0xc:
        dsp_write(s, v);
        break;
    default:
        break;
    }
}

static const IoRegion sb16_io[] = {
    { .base = SB_BASE, .len = 16, .min = 1, .max = 1, .read = sb16_read,
      .write = sb16_write, .name = "sb16" },
    { 0 },
};

static void sb16_reset(Device *dev)
{
    Sb16 *s = (Sb16 *)dev;
    s->rate = 11025;
    s->block_len = 0x7ff;
    s->reset_latch = 0;
    s->test_reg = 0;
    s->mix_index = 0;
    mixer_reset(s);
    dsp_reset(s);
    s->out_head = s->out_len = 0; /* no 0xAA without a software reset */
}

static bool sb16_realize(Device *dev, GError **error)
{
    Sb16 *s = (Sb16 *)dev;
    if (!s->dma || !s->audio) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "sb16: not wired to a DMA controller and an audio "
                    "device");
        return false;
    }
    s->voice = audio_voice_new(s->audio, "sb16", sb16_pull, s);
    s->timer = timer_new(dev->bus->clock, sb16_timer, s);
    sb16_reset(dev);
    return true;
}

static void sb16_finalize(Device *dev)
{
    Sb16 *s = (Sb16 *)dev;
    timer_free(s->timer);
    audio_voice_free(s->voice);
}

static bool sb16_post_load(void *obj, GError **error)
{
    Sb16 *s = obj;
    if (s->out_head >= SB16_FIFO || s->out_len > SB16_FIFO ||
        s->nargs > sizeof(s->args) || s->want > sizeof(s->args) ||
        s->nargs > s->want || s->rate < 1000 || s->rate > 48000 ||
        s->dma_left > s->dma_block ||
        (s->dma_on && s->dma_block == 0)) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "sb16: inconsistent DSP state");
        return false;
    }
    if (s->voice) {
        voice_format(s);
        audio_voice_set_active(s->voice, s->dma_on);
        apply_volume(s);
    }
    sb16_update_irq(s);
    return true;
}

static const StateDesc sb16_state = {
    .name = "sb16", .version = 1, .min_version = 1,
    .post_load = sb16_post_load,
    .fields = (const StateField[]) {
        STATE_U8(Sb16, cmd), STATE_U8_ARRAY(Sb16, args, 4),
        STATE_U8(Sb16, nargs), STATE_U8(Sb16, want),
        STATE_U8_ARRAY(Sb16, out, SB16_FIFO), STATE_U8(Sb16, out_head),
        STATE_U8(Sb16, out_len), STATE_U8(Sb16, reset_latch),
        STATE_U8(Sb16, test_reg), STATE_BOOL(Sb16, speaker),
        STATE_U16(Sb16, rate), STATE_U16(Sb16, block_len),
        STATE_BOOL(Sb16, dma_on), STATE_BOOL(Sb16, dma_paused),
        STATE_BOOL(Sb16, dma16), STATE_BOOL(Sb16, dma_auto),
        STATE_BOOL(Sb16, dma_stereo), STATE_BOOL(Sb16, dma_signed),
        STATE_BOOL(Sb16, dma_exit_auto), STATE_U32(Sb16, dma_block),
        STATE_U32(Sb16, dma_left), STATE_I64(Sb16, dma_t0),
        STATE_I64(Sb16, dma_frames), STATE_U8(Sb16, dac_last),
        STATE_I64(Sb16, dac_time), STATE_U8(Sb16, mix_index),
        STATE_U8_ARRAY(Sb16, mix, 256), STATE_U8(Sb16, irq_status),
        STATE_END },
};

const DeviceInfo sb16_info = {
    .name = "sb16", .size = sizeof(Sb16), .io = sb16_io,
    .state = &sb16_state, .reset = sb16_reset, .realize = sb16_realize,
    .finalize = sb16_finalize,
};
