/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PC speaker, rendered from the PIT (IBM PC Technical Reference,
 * "Speaker": the 8253/8254 channel 2 output, gated by port 0x61 bit 0,
 * ANDed with port 0x61 bit 1, drives the speaker through a transistor).
 *
 * Rendering: 48 kHz signed 16-bit mono into an audio voice, following the
 * machine's virtual time.  Whenever the i8254 reports a change (gate,
 * data, channel 2's mode or count) the samples up to that instant are
 * rendered with the old state first, so the timing of beeps and of
 * bit-banged audio is kept to one sample; the mixer's pull renders the
 * rest of each tick.  A mode-3 tone is a square wave whose samples are the
 * exact average of the ideal wave over the sample period (a box filter:
 * far less aliasing than point sampling; tones above the Nyquist
 * frequency are inaudible to us as to the real cone, and become silence).
 * Otherwise the cone sits where OUT2 AND data put it.  A one-pole DC
 * blocker (the speaker's AC coupling, about 10 Hz) turns a cone held at
 * one position into silence.
 * Limits: OUT2 edges that the PIT produces on its own in modes 0/1/4/5
 * (no notification) are seen at the next change or tick only.
 * No guest-visible state of its own: the PIT and port 0x61 hold it.
 */
#include "hw/audio/pcspk.h"

#include <math.h>
#include <string.h>

#include "hw/board.h"

#define SPK_RATE 48000
#define SPK_AMPLITUDE 8192.0f /* -12 dBFS peak */
#define DC_POLE 0.9987f       /* 1 - 2*pi*10 Hz / 48 kHz */

/* Measure of [0, x) spent high by a square wave high in [k, k + 0.5). */
static double high_time(double x)
{
    double k = floor(x);
    return k * 0.5 + fmin(x - k, 0.5);
}

/* Where the cone sits when no tone plays: OUT2 AND data. */
static float still_level(const PcSpk *s)
{
    return (s->st.data && s->st.out2) ? 1.0f : -1.0f;
}

static void pcspk_render_to(PcSpk *s, int64_t now)
{
    if (s->epoch != audio_epoch(s->audio)) {
        s->epoch = audio_epoch(s->audio);
        s->synced = false; /* a state was loaded: start from now */
    }
    if (!s->synced || now < s->t0) {
        s->t0 = now;
        s->frames = 0;
        s->synced = true;
        return;
    }
    int64_t due = (now - s->t0) * SPK_RATE / 1000000000LL - s->frames;
    if (due <= 0) {
        return;
    }
    if (due > SPK_RATE) { /* no mix for a second: start afresh */
        s->t0 = now;
        s->frames = 0;
        return;
    }
    int16_t buf[512];
    double step = s->st.tone_hz / SPK_RATE; /* periods per sample */
    bool tone = s->st.tone_hz > 0 && step < 0.5;
    float still = still_level(s);
    if (s->st.tone_hz > 0 && !tone) {
        still = 0.0f; /* ultrasonic: the cone averages to the middle */
    }
    for (int64_t done = 0; done < due;) {
        int n = (int)MIN(due - done, (int64_t)G_N_ELEMENTS(buf));
        for (int i = 0; i < n; i++) {
            float x = still;
            if (tone) {
                double a = s->phase, b = s->phase + step;
                x = (float)(2.0 * (high_time(b) - high_time(a)) / step - 1.0);
                s->phase = b - floor(b);
            }
            float y = x - s->hp_x + DC_POLE * s->hp_y;
            s->hp_x = x;
            s->hp_y = y;
            buf[i] = (int16_t)lrintf(CLAMP(y, -2.0f, 2.0f) * SPK_AMPLITUDE);
        }
        audio_voice_write(s->voice, buf, 2 * (size_t)n);
        done += n;
    }
    s->frames += due;
    if (s->frames >= SPK_RATE) {
        s->t0 += 1000000000LL;
        s->frames -= SPK_RATE;
    }
}

static void pcspk_pull(void *opaque)
{
    PcSpk *s = opaque;
    pcspk_render_to(s, clock_now(s->dev.bus->clock));
    /* OUT2 may have moved on its own (one-shot modes): take it now. */
    bool was_tone = s->st.tone_hz > 0;
    i8254_speaker_get(s->pit, &s->st);
    if (!was_tone && s->st.tone_hz > 0) {
        s->phase = 0;
    }
}

static void pcspk_changed(void *opaque)
{
    pcspk_pull(opaque);
}

static bool pcspk_realize(Device *dev, GError **error)
{
    PcSpk *s = (PcSpk *)dev;
    if (!s->pit || !s->audio) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "pcspk: not wired to a PIT and an audio device");
        return false;
    }
    s->voice = audio_voice_new(s->audio, "pcspk", pcspk_pull, s);
    audio_voice_set_format(s->voice, SPK_RATE, AUDIO_FMT_S16, 1);
    audio_voice_set_active(s->voice, true);
    s->pit->speaker_changed = pcspk_changed;
    s->pit->speaker_opaque = s;
    i8254_speaker_get(s->pit, &s->st);
    /* The cone rests where power-on put it: no click at the start (the
       DC blocker would turn the first sample's step into one, 60 ms
       long, before the guest did anything). */
    s->hp_x = still_level(s);
    s->hp_y = 0.0f;
    s->t0 = clock_now(dev->bus->clock);
    s->synced = true;
    s->epoch = audio_epoch(s->audio);
    return true;
}

static void pcspk_finalize(Device *dev)
{
    PcSpk *s = (PcSpk *)dev;
    if (s->pit && s->pit->speaker_opaque == s) {
        s->pit->speaker_changed = NULL;
    }
    audio_voice_free(s->voice);
}

const DeviceInfo pcspk_info = {
    .name = "pcspk", .size = sizeof(PcSpk),
    .unmigratable = "no guest-visible state: the PIT and port 0x61 hold it",
    .realize = pcspk_realize, .finalize = pcspk_finalize,
};
