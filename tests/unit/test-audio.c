/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audio mixer (src/engine/audio.c) through the WAV backend on a
 * deterministic clock: the file's header, the timeline (frames out follow
 * virtual time), format conversion, the resampler (a tone keeps its
 * frequency; the images that nearest-sample or linear upsampling leave
 * are far down), volume and mute, and the voice priming.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "bus/audio.h"
#include "bus/clock.h"

typedef struct Tone {
    AudioVoice *v;
    Clock *clock;
    int rate, channels;
    AudioFormat fmt;
    double hz, amp; /* amp: fraction of full scale */
    double phase;
    int64_t t0, made;
} Tone;

/* The device side: write what the time since t0 is worth. */
static void tone_pull(void *opaque)
{
    Tone *t = opaque;
    int64_t due = (clock_now(t->clock) - t->t0) * t->rate / 1000000000LL -
                  t->made;
    for (int64_t i = 0; i < due; i++) {
        double x = t->amp * sin(2 * M_PI * t->phase);
        t->phase += t->hz / t->rate;
        t->phase -= floor(t->phase);
        uint8_t frame[4];
        int n = 0;
        for (int c = 0; c < t->channels; c++) {
            switch (t->fmt) {
            case AUDIO_FMT_U8:
                frame[n++] = (uint8_t)lrint(128 + 127 * x);
                break;
            case AUDIO_FMT_S8:
                frame[n++] = (uint8_t)(int8_t)lrint(127 * x);
                break;
            case AUDIO_FMT_U16: {
                uint16_t u = (uint16_t)lrint(32768 + 32767 * x);
                frame[n++] = u;
                frame[n++] = u >> 8;
                break;
            }
            case AUDIO_FMT_S16: {
                uint16_t u = (uint16_t)(int16_t)lrint(32767 * x);
                frame[n++] = u;
                frame[n++] = u >> 8;
                break;
            }
            }
        }
        audio_voice_write(t->v, frame, n);
    }
    t->made += due;
}

typedef struct Rec {
    int rate, channels, bits;
    int16_t *s; /* interleaved stereo */
    size_t frames;
} Rec;

static uint32_t le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void read_wav(const char *path, Rec *r)
{
    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    const uint8_t *p = (const uint8_t *)data;
    g_assert_cmpuint(len, >=, 44);
    g_assert_cmpmem(p, 4, "RIFF", 4);
    g_assert_cmpuint(le32(p + 4), ==, len - 8);
    g_assert_cmpmem(p + 8, 8, "WAVEfmt ", 8);
    g_assert_cmpuint(le32(p + 16), ==, 16);
    g_assert_cmpuint(p[20] | p[21] << 8, ==, 1); /* PCM */
    r->channels = p[22] | p[23] << 8;
    r->rate = le32(p + 24);
    g_assert_cmpuint(le32(p + 28), ==, (uint32_t)r->rate * 4);
    r->bits = p[34] | p[35] << 8;
    g_assert_cmpmem(p + 36, 4, "data", 4);
    g_assert_cmpuint(le32(p + 40), ==, len - 44);
    r->frames = (len - 44) / 4;
    r->s = g_new(int16_t, 2 * r->frames);
    for (size_t i = 0; i < 2 * r->frames; i++) {
        r->s[i] = (int16_t)(p[44 + 2 * i] | p[45 + 2 * i] << 8);
    }
    g_free(data);
}

/* Power of channel c at hz over frames [a, b) (Goertzel), normalised so
   that a full-scale sine gives 0.5. */
static double power_at(const Rec *r, int c, size_t a, size_t b, double hz)
{
    double w = 2 * M_PI * hz / r->rate, k = 2 * cos(w);
    double s1 = 0, s2 = 0;
    for (size_t i = a; i < b; i++) {
        double s0 = r->s[2 * i + c] / 32768.0 + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double n = (double)(b - a);
    double p = s1 * s1 + s2 * s2 - k * s1 * s2;
    return 2 * p / (n * n);
}

static double power_total(const Rec *r, int c, size_t a, size_t b)
{
    double e = 0;
    for (size_t i = a; i < b; i++) {
        double x = r->s[2 * i + c] / 32768.0;
        e += x * x;
    }
    return e / (double)(b - a);
}

static double db(double p)
{
    return 10 * log10(p > 1e-20 ? p : 1e-20);
}

/* Zero-crossing frequency of channel c over [a, b). */
static double zc_freq(const Rec *r, int c, size_t a, size_t b)
{
    double first = -1, last = -1;
    int n = 0;
    for (size_t i = a + 1; i < b; i++) {
        int x0 = r->s[2 * (i - 1) + c], x1 = r->s[2 * i + c];
        if (x0 < 0 && x1 >= 0) {
            double t = (double)(i - 1) + (double)-x0 / (x1 - x0);
            if (first < 0) {
                first = t;
            }
            last = t;
            n++;
        }
    }
    return n > 2 ? (n - 1) * r->rate / (last - first) : 0;
}

/* play() mutes the whole output (the window's toggle). */
static bool play_all_muted;

/* Play a tone for `secs` of virtual time into a WAV file and read it. */
static void play(Tone *t, double secs, float gain, bool mute, Rec *r,
                 AudioStats *st)
{
    g_autofree char *dir = g_dir_make_tmp("audio-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "out.wav", NULL);
    Clock *clock = clock_new(CLOCK_MODE_ICOUNT, 0);
    GError *err = NULL;
    Audio *a = audio_new(clock, "a0", "wav", path, NULL, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(audio_driver(a), ==, "wav");
    t->clock = clock;
    t->v = audio_voice_new(a, "tone", tone_pull, t);
    audio_voice_set_format(t->v, t->rate, t->fmt, t->channels);
    audio_voice_set_volume(t->v, gain, gain, mute);
    audio_set_muted(a, play_all_muted);
    g_assert_true(audio_muted(a) == play_all_muted);
    /* Start in the middle of a mixer period, as a device does. */
    clock->icount += AUDIO_TICK_NS / 3;
    clock_run_timers(clock);
    t->t0 = clock_now(clock);
    t->made = 0;
    audio_voice_set_active(t->v, true);
    int64_t end = t->t0 + (int64_t)(secs * 1e9);
    while (clock_now(clock) < end) {
        int64_t next = MIN(clock_next_deadline(clock), end);
        clock->icount += next - clock_now(clock);
        clock_run_timers(clock);
    }
    audio_get_stats(a, st);
    audio_free(a);
    clock_free(clock);
    read_wav(path, r);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_timeline(void)
{
    Tone t = { .rate = 48000, .channels = 2, .fmt = AUDIO_FMT_S16,
               .hz = 1000, .amp = 0.5 };
    Rec r;
    AudioStats st;
    play(&t, 2.0, 1.0f, false, &r, &st);
    g_assert_cmpint(r.rate, ==, AUDIO_OUT_RATE);
    g_assert_cmpint(r.channels, ==, 2);
    g_assert_cmpint(r.bits, ==, 16);
    /* 2 s plus the third of a tick before the start, to within a tick. */
    double want = (2.0 + AUDIO_TICK_NS / 3 / 1e9) * AUDIO_OUT_RATE;
    g_assert_cmpfloat(fabs((double)r.frames - want), <=,
                      AUDIO_OUT_RATE * AUDIO_TICK_NS / 1e9);
    g_assert_cmpuint(st.frames_out, ==, r.frames);
    g_assert_cmpuint(st.voice_underruns, ==, 0);
    g_free(r.s);
}

typedef struct FmtCase {
    int rate, channels;
    AudioFormat fmt;
} FmtCase;

/* Every format and rate: the tone's frequency within 0.1%, its level
   within 0.5 dB, and (almost) nothing else in the output. */
static void test_formats(void)
{
    static const FmtCase cases[] = {
        { 8000, 1, AUDIO_FMT_U8 }, { 11025, 2, AUDIO_FMT_S8 },
        { 22050, 1, AUDIO_FMT_U16 }, { 44100, 2, AUDIO_FMT_S16 },
        { 48000, 1, AUDIO_FMT_S16 }, { 16000, 2, AUDIO_FMT_U8 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const FmtCase *c = &cases[i];
        Tone t = { .rate = c->rate, .channels = c->channels, .fmt = c->fmt,
                   .hz = 1000, .amp = 0.5 };
        Rec r;
        AudioStats st;
        play(&t, 1.0, 1.0f, false, &r, &st);
        size_t a = r.frames / 10, b = r.frames - r.frames / 10;
        for (int ch = 0; ch < 2; ch++) {
            double hz = zc_freq(&r, ch, a, b);
            double tone = power_at(&r, ch, a, b, 1000);
            double total = power_total(&r, ch, a, b);
            if (g_test_verbose()) {
                g_printerr("%d Hz fmt %d ch %d: %.3f Hz, %.2f dB, "
                           "rest %.1f dB\n", c->rate, c->fmt, ch, hz,
                           db(tone), db(total - tone) - db(tone));
            }
            g_assert_cmpfloat(fabs(hz - 1000), <, 1.0);
            g_assert_cmpfloat(fabs(db(tone) - db(0.125)), <, 0.5);
            /* 8-bit quantisation noise is about -45 dB at this level. */
            g_assert_cmpfloat(db(total - tone) - db(tone), <,
                              c->fmt <= AUDIO_FMT_S8 ? -35 : -50);
        }
        g_assert_cmpuint(st.voice_underruns, ==, 0);
        g_free(r.s);
    }
}

/* 3.5 kHz at 8 kHz: zero-order hold (nearest sample) upsampling leaves
   an image at 8 - 3.5 = 4.5 kHz only about 3 dB under the tone, linear
   interpolation about -19 dB; the windowed-sinc resampler must put it
   more than 50 dB down. */
static void test_no_images(void)
{
    Tone t = { .rate = 8000, .channels = 1, .fmt = AUDIO_FMT_S16,
               .hz = 3500, .amp = 0.5 };
    Rec r;
    AudioStats st;
    play(&t, 1.0, 1.0f, false, &r, &st);
    size_t a = r.frames / 10, b = r.frames - r.frames / 10;
    double tone = power_at(&r, 0, a, b, 3500);
    double image = power_at(&r, 0, a, b, 4500);
    double image2 = power_at(&r, 0, a, b, 11500);
    if (g_test_verbose()) {
        g_printerr("tone %.1f dB, images %.1f, %.1f dB\n", db(tone),
                   db(image) - db(tone), db(image2) - db(tone));
    }
    g_assert_cmpfloat(db(tone), >, db(0.125) - 1);
    g_assert_cmpfloat(db(image) - db(tone), <, -50);
    g_assert_cmpfloat(db(image2) - db(tone), <, -50);
    g_free(r.s);
}

static void test_volume(void)
{
    Tone t = { .rate = 44100, .channels = 2, .fmt = AUDIO_FMT_S16,
               .hz = 440, .amp = 0.5 };
    Rec r;
    AudioStats st;
    play(&t, 0.5, 0.5f, false, &r, &st);
    size_t a = r.frames / 10, b = r.frames - r.frames / 10;
    g_assert_cmpfloat(fabs(db(power_at(&r, 0, a, b, 440)) -
                           db(0.125 / 4)), <, 0.3);
    g_free(r.s);
    t.phase = 0;
    play(&t, 0.5, 1.0f, true, &r, &st);
    for (size_t i = 0; i < 2 * r.frames; i++) {
        g_assert_cmpint(r.s[i], ==, 0);
    }
    g_free(r.s);
    /* The global mute: silence of the same length. */
    t.phase = 0;
    play_all_muted = true;
    play(&t, 0.5, 1.0f, false, &r, &st);
    play_all_muted = false;
    g_assert_cmpuint(r.frames, >=, AUDIO_OUT_RATE / 2 - AUDIO_OUT_RATE / 50);
    for (size_t i = 0; i < 2 * r.frames; i++) {
        g_assert_cmpint(r.s[i], ==, 0);
    }
    g_free(r.s);
}

static void test_bad_path(void)
{
    Clock *clock = clock_new(CLOCK_MODE_ICOUNT, 0);
    GError *err = NULL;
    Audio *a = audio_new(clock, "a0", "wav", "/nonexistent-dir/x.wav", NULL,
                         &err);
    g_assert_null(a);
    g_assert_error(err, AUDIO_ERROR, 0);
    g_assert_nonnull(strstr(err->message, "cannot create"));
    g_clear_error(&err);
    a = audio_new(clock, "a0", "oss", NULL, NULL, &err);
    g_assert_null(a);
    g_clear_error(&err);
    a = audio_new(clock, "a0", "none", NULL, NULL, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(audio_driver(a), ==, "none");
    audio_free(a);
    clock_free(clock);
}

/* A WAV file of `secs` of hz at amp (fraction of full scale). */
static void write_tone_wav(const char *path, int rate, int channels,
                           int bits, double hz, double amp, double secs)
{
    int n = (int)(secs * rate), fb = channels * bits / 8;
    GByteArray *b = g_byte_array_new();
    uint8_t h[44] = { 0 };
    memcpy(h, "RIFF", 4);
    uint32_t data = (uint32_t)(n * fb);
    uint32_t v32[] = { 36 + data };
    memcpy(h + 4, v32, 4);
    memcpy(h + 8, "WAVEfmt ", 8);
    h[16] = 16;
    h[20] = 1;
    h[22] = channels;
    h[24] = rate & 0xff;
    h[25] = rate >> 8 & 0xff;
    h[26] = rate >> 16 & 0xff;
    h[32] = fb;
    h[34] = bits;
    memcpy(h + 36, "data", 4);
    memcpy(h + 40, &data, 4);
    g_byte_array_append(b, h, 44);
    for (int i = 0; i < n; i++) {
        double x = amp * sin(2 * M_PI * hz * i / rate);
        for (int c = 0; c < channels; c++) {
            if (bits == 8) {
                uint8_t u = (uint8_t)lrint(128 + 127 * x);
                g_byte_array_append(b, &u, 1);
            } else {
                int16_t v = (int16_t)lrint(32767 * x);
                uint8_t le[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
                g_byte_array_append(b, le, 2);
            }
        }
    }
    g_assert_true(g_file_set_contents(path, (const char *)b->data, b->len,
                                      NULL));
    g_byte_array_free(b, TRUE);
}

/* A device records from a WAV file at its own rate: the tone's frequency
   and level survive the resampling; after the file, silence. */
static void test_input_file(void)
{
    g_autofree char *dir = g_dir_make_tmp("audio-in-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "in.wav", NULL);
    Clock *clock = clock_new(CLOCK_MODE_ICOUNT, 0);
    GError *err = NULL;
    Audio *a = audio_new(clock, "a0", "none", NULL, NULL, &err);
    g_assert_no_error(err);
    static const struct { int rate, channels, bits, dev_rate; } c[] = {
        { 44100, 2, 16, 8000 }, { 22050, 1, 8, 48000 },
        { 48000, 2, 16, 48000 },
    };
    for (size_t k = 0; k < G_N_ELEMENTS(c); k++) {
        write_tone_wav(path, c[k].rate, c[k].channels, c[k].bits, 440, 0.5,
                       1.0);
        g_assert_true(audio_set_input_file(a, path, &err));
        g_assert_no_error(err);
        AudioIn *in = audio_in_new(a, "rec");
        audio_in_set_rate(in, c[k].dev_rate);
        Rec r = { .rate = c[k].dev_rate, .channels = 2, .bits = 16 };
        r.frames = (size_t)c[k].dev_rate * 3 / 2;
        r.s = g_new(int16_t, 2 * r.frames);
        for (size_t i = 0; i < r.frames; i += 100) {
            audio_in_read(in, r.s + 2 * i, MIN(100, r.frames - i));
        }
        size_t lo = r.frames / 10, hi = r.frames * 6 / 10;
        for (int ch = 0; ch < 2; ch++) {
            double hz = zc_freq(&r, ch, lo, hi);
            g_assert_cmpfloat(fabs(hz - 440), <, 440 * 0.005);
            g_assert_cmpfloat(fabs(db(power_total(&r, ch, lo, hi)) -
                                   db(0.125)), <, 0.5);
        }
        /* The file lasted 1 s: the end is silent. */
        for (size_t i = r.frames * 3 / 4; i < r.frames; i++) {
            g_assert_cmpint(r.s[2 * i], ==, 0);
        }
        g_free(r.s);
        audio_in_free(in);
    }
    /* Bad sources: one clear error each, the old source stays. */
    g_assert_false(audio_set_input_file(a, dir, &err));
    g_assert_nonnull(strstr(err->message, "not a regular file"));
    g_clear_error(&err);
    g_assert_false(audio_set_input_file(a, "/nonexistent/in.wav", &err));
    g_assert_error(err, AUDIO_ERROR, 0);
    g_clear_error(&err);
    g_assert_true(g_file_set_contents(path, "RIFF\0\0\0\0WAVEjunk", 16,
                                      NULL));
    g_assert_false(audio_set_input_file(a, path, &err));
    g_assert_nonnull(strstr(err->message, "not a PCM WAV file"));
    g_clear_error(&err);
    /* Without a source: silence. */
    Audio *b = audio_new(clock, "a1", "none", NULL, NULL, &err);
    AudioIn *in = audio_in_new(b, "rec");
    int16_t f[64];
    memset(f, 0x55, sizeof(f));
    audio_in_read(in, f, 32);
    for (int i = 0; i < 64; i++) {
        g_assert_cmpint(f[i], ==, 0);
    }
    audio_free(b); /* frees its inputs */
    audio_free(a);
    clock_free(clock);
    g_unlink(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/audio/wav/timeline", test_timeline);
    g_test_add_func("/audio/mixer/formats", test_formats);
    g_test_add_func("/audio/mixer/no-images", test_no_images);
    g_test_add_func("/audio/mixer/volume", test_volume);
    g_test_add_func("/audio/backend/bad", test_bad_path);
    g_test_add_func("/audio/input/wav-file", test_input_file);
    return g_test_run();
}
