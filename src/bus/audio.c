/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audio mixer, voices, and the wav and none backends (see audio.h).
 * WAV: Microsoft RIFF "WAVE" with a PCM "fmt " chunk (format tag 1,
 * 16 bits, 2 channels); the sizes are patched every second and at close,
 * so a killed emulator leaves a readable file.
 */
#include "bus/audio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include <speex/speex_resampler.h>

#include "bus/audio_int.h"
#include "bus/log.h"

G_DEFINE_QUARK(mimic-audio-error-quark, audio_error)

/* Silence put in front of a voice that starts, so that the rounding of
   its frame counts per tick never leaves the mixer short: 5 ms. */
#define PRIME_FRAMES (AUDIO_OUT_RATE / 200)
/* More than this queued in a voice means its device ran ahead: drop.
   One second, the mixer's own limit (beyond it the timeline restarts):
   after a host stall (real-time mode on a loaded host) a device's timer
   may catch up before the mixer's, and what it made is due at once. */
#define MAX_QUEUED AUDIO_OUT_RATE
/* Quality 5: PulseAudio's "speex-float-5"-like default, cheap enough. */
#define RESAMPLER_QUALITY 5

struct AudioVoice {
    Audio *audio;
    char *name;
    AudioPullFn pull;
    void *opaque;
    int rate, channels;
    AudioFormat fmt;
    int frame_bytes;
    bool active;
    float gain_l, gain_r;
    bool mute;
    GByteArray *in;           /* raw frames in the voice's format */
    SpeexResamplerState *rs;  /* NULL until the first conversion */
    int rs_rate;
    int16_t *out;             /* resampled stereo frames at out rate */
    int out_len, out_cap;     /* in frames */
    int16_t *conv;            /* scratch: input as S16 stereo */
    int conv_cap;
};

struct Audio {
    char *id;
    Clock *clock;
    Timer *timer;
    AudioBackend *be;
    GPtrArray *voices;
    int64_t t0;          /* virtual time of frame `base` */
    int64_t frames;      /* frames produced since t0 */
    bool synced;
    int32_t *mix;
    int16_t *mix16;
    int mix_cap;
    uint64_t frames_out, voice_underruns;
    uint64_t host_stalls, stall_ms; /* mixes 30 ms or more late */
    uint32_t epoch;      /* audio_resync() count */
    gint muted;          /* audio_set_muted(), atomic */
    /* Recording source: a WAV file as S16 stereo at in_rate. */
    int16_t *in_file;
    size_t in_frames;
    int in_rate;
    GPtrArray *inputs;
};

struct AudioIn {
    Audio *audio;
    char *name;
    int rate;
    size_t pos;               /* next frame of the input file */
    SpeexResamplerState *rs;
    int rs_in, rs_out;
    uint64_t frames;          /* frames delivered */
    int16_t carry[2 * 1024];  /* source frames the resampler left */
    int ncarry;
};

/* ---- the none and wav backends ---- */

static void none_write(AudioBackend *be, const int16_t *f, int n)
{
}

static void none_close(AudioBackend *be)
{
    g_free(be);
}

static AudioBackend *none_open(void)
{
    AudioBackend *be = g_new0(AudioBackend, 1);
    be->name = "none";
    be->write = none_write;
    be->close = none_close;
    return be;
}

typedef struct WavBackend {
    AudioBackend be;
    FILE *f;
    char *path;
    uint64_t data_bytes;
    uint64_t since_patch;
    bool failed;
} WavBackend;

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    put_le16(p, v);
    put_le16(p + 2, v >> 16);
}

static void wav_header(uint8_t h[44], uint64_t data_bytes, int rate)
{
    /* A RIFF chunk is limited to 4 GiB: stop counting there. */
    uint32_t data = data_bytes > 0xffffffffu - 36 ? 0xffffffffu - 36
                                                  : (uint32_t)data_bytes;
    memcpy(h, "RIFF", 4);
    put_le32(h + 4, 36 + data);
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le32(h + 16, 16);        /* fmt chunk size */
    put_le16(h + 20, 1);         /* WAVE_FORMAT_PCM */
    put_le16(h + 22, 2);         /* channels */
    put_le32(h + 24, rate);
    put_le32(h + 28, rate * 4);  /* byte rate */
    put_le16(h + 32, 4);         /* block align */
    put_le16(h + 34, 16);        /* bits per sample */
    memcpy(h + 36, "data", 4);
    put_le32(h + 40, data);
}

static void wav_patch(WavBackend *w)
{
    uint8_t h[44];
    wav_header(h, w->data_bytes, AUDIO_OUT_RATE);
    long pos = ftell(w->f);
    if (fseek(w->f, 0, SEEK_SET) == 0) {
        fwrite(h, 1, sizeof(h), w->f);
    }
    fseek(w->f, pos, SEEK_SET);
    fflush(w->f);
    w->since_patch = 0;
}

static void wav_write(AudioBackend *be, const int16_t *frames, int n)
{
    WavBackend *w = (WavBackend *)be;
    if (w->failed) {
        return;
    }
    uint8_t buf[4096];
    for (int i = 0; i < n;) {
        int chunk = MIN(n - i, (int)sizeof(buf) / 4);
        for (int k = 0; k < chunk; k++) {
            put_le16(buf + 4 * k, frames[2 * (i + k)]);
            put_le16(buf + 4 * k + 2, frames[2 * (i + k) + 1]);
        }
        if (fwrite(buf, 4, chunk, w->f) != (size_t)chunk) {
            g_printerr("mimic: warning: audio: writing '%s' failed: %s; "
                       "the recording stops here\n", w->path,
                       g_strerror(errno));
            w->failed = true;
            return;
        }
        i += chunk;
    }
    w->data_bytes += 4 * (uint64_t)n;
    w->since_patch += n;
    if (w->since_patch >= AUDIO_OUT_RATE) {
        wav_patch(w);
    }
}

static void wav_close(AudioBackend *be)
{
    WavBackend *w = (WavBackend *)be;
    wav_patch(w);
    fclose(w->f);
    g_free(w->path);
    g_free(w);
}

static AudioBackend *wav_open(const char *path, GError **error)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        g_set_error(error, AUDIO_ERROR, 0,
                    "-audiodev wav: cannot create '%s': %s", path,
                    g_strerror(errno));
        return NULL;
    }
    WavBackend *w = g_new0(WavBackend, 1);
    w->be.name = "wav";
    w->be.write = wav_write;
    w->be.close = wav_close;
    w->f = f;
    w->path = g_strdup(path);
    uint8_t h[44];
    wav_header(h, 0, AUDIO_OUT_RATE);
    if (fwrite(h, 1, sizeof(h), f) != sizeof(h) || fflush(f) != 0) {
        g_set_error(error, AUDIO_ERROR, 0,
                    "-audiodev wav: cannot write '%s': %s", path,
                    g_strerror(errno));
        fclose(f);
        g_free(w->path);
        g_free(w);
        return NULL;
    }
    return &w->be;
}

/* ---- the mixer ---- */

static void audio_tick(void *opaque)
{
    Audio *a = opaque;
    audio_mix_now(a);
    timer_mod(a->timer, clock_now(a->clock) + AUDIO_TICK_NS);
}

Audio *audio_new(Clock *clock, const char *id, const char *driver,
                 const char *path, const char *server, GError **error)
{
    AudioBackend *be = NULL;
    if (!driver || !strcmp(driver, "none")) {
        be = none_open();
    } else if (!strcmp(driver, "wav")) {
        be = wav_open(path ? path : "mimic.wav", error);
        if (!be) {
            return NULL;
        }
    } else if (!strcmp(driver, "pa")) {
        g_autoptr(GError) err = NULL;
        be = audio_pa_open(server, AUDIO_OUT_RATE, &err);
        if (!be) {
            g_printerr("mimic: warning: audio: %s; the machine runs mute\n",
                       err->message);
            be = none_open();
        }
    } else {
        g_set_error(error, AUDIO_ERROR, 0,
                    "-audiodev: unknown driver '%s' (pa, wav, none)", driver);
        return NULL;
    }
    Audio *a = g_new0(Audio, 1);
    a->id = g_strdup(id ? id : "audio0");
    a->clock = clock;
    a->be = be;
    a->voices = g_ptr_array_new();
    a->inputs = g_ptr_array_new();
    a->in_rate = AUDIO_OUT_RATE;
    /* The timer runs from the start, so that the output (a recording)
       keeps the guest's timeline, silence included. */
    a->t0 = clock_now(clock);
    a->synced = true;
    a->timer = timer_new(clock, audio_tick, a);
    timer_mod(a->timer, a->t0 + AUDIO_TICK_NS);
    return a;
}

void audio_free(Audio *a)
{
    if (!a) {
        return;
    }
    /* Voices belong to their devices, which are freed before us. */
    while (a->voices->len) {
        audio_voice_free(g_ptr_array_index(a->voices, 0));
    }
    g_ptr_array_free(a->voices, TRUE);
    while (a->inputs->len) {
        audio_in_free(g_ptr_array_index(a->inputs, 0));
    }
    g_ptr_array_free(a->inputs, TRUE);
    g_free(a->in_file);
    timer_free(a->timer);
    a->be->close(a->be);
    g_free(a->mix);
    g_free(a->mix16);
    g_free(a->id);
    g_free(a);
}

const char *audio_id(const Audio *a)
{
    return a->id;
}

const char *audio_driver(const Audio *a)
{
    return a->be->name;
}

void audio_get_stats(Audio *a, AudioStats *st)
{
    memset(st, 0, sizeof(*st));
    st->frames_out = a->frames_out;
    st->voice_underruns = a->voice_underruns;
    st->host_stalls = a->host_stalls;
    st->stall_ms = a->stall_ms;
    if (a->be->stats) {
        a->be->stats(a->be, &st->backend_underruns, &st->backend_dropped);
    }
}

void audio_info(Audio *a, GString *out)
{
    AudioStats st;
    audio_get_stats(a, &st);
    g_string_append_printf(out, "audiodev %s: driver %s, %d Hz s16 stereo, "
                           "%" G_GUINT64_FORMAT " frames out, %"
                           G_GUINT64_FORMAT " underruns, %" G_GUINT64_FORMAT
                           " frames dropped, %" G_GUINT64_FORMAT
                           " host stalls (%" G_GUINT64_FORMAT " ms)%s\n",
                           a->id, a->be->name,
                           AUDIO_OUT_RATE, st.frames_out,
                           st.backend_underruns + st.voice_underruns,
                           st.backend_dropped, st.host_stalls, st.stall_ms,
                           audio_muted(a) ? ", muted" : "");
    for (guint i = 0; i < a->voices->len; i++) {
        AudioVoice *v = g_ptr_array_index(a->voices, i);
        g_string_append_printf(out, "  voice %s: %s, %d Hz, %d-bit %s, "
                               "volume %d%%/%d%%%s\n", v->name,
                               v->active ? "playing" : "idle", v->rate,
                               v->frame_bytes / v->channels * 8,
                               v->channels == 2 ? "stereo" : "mono",
                               (int)(v->gain_l * 100 + 0.5),
                               (int)(v->gain_r * 100 + 0.5),
                               v->mute ? ", muted" : "");
    }
    for (guint i = 0; i < a->inputs->len; i++) {
        AudioIn *in = g_ptr_array_index(a->inputs, i);
        g_string_append_printf(out, "  input %s: %d Hz from %s, %"
                               G_GUINT64_FORMAT " frames in\n", in->name,
                               in->rate, a->in_file ? "a WAV file"
                               : a->be->read ? a->be->name : "silence",
                               in->frames);
    }
}

AudioVoice *audio_voice_new(Audio *a, const char *name, AudioPullFn pull,
                            void *opaque)
{
    AudioVoice *v = g_new0(AudioVoice, 1);
    v->audio = a;
    v->name = g_strdup(name);
    v->pull = pull;
    v->opaque = opaque;
    v->gain_l = v->gain_r = 1.0f;
    v->in = g_byte_array_new();
    audio_voice_set_format(v, 44100, AUDIO_FMT_S16, 2);
    g_ptr_array_add(a->voices, v);
    return v;
}

void audio_voice_free(AudioVoice *v)
{
    if (!v) {
        return;
    }
    g_ptr_array_remove(v->audio->voices, v);
    if (v->rs) {
        speex_resampler_destroy(v->rs);
    }
    g_byte_array_free(v->in, TRUE);
    g_free(v->out);
    g_free(v->conv);
    g_free(v->name);
    g_free(v);
}

static int fmt_bytes(AudioFormat f)
{
    return f == AUDIO_FMT_U8 || f == AUDIO_FMT_S8 ? 1 : 2;
}

void audio_voice_set_format(AudioVoice *v, int rate, AudioFormat fmt,
                            int channels)
{
    rate = CLAMP(rate, 1000, 192000);
    channels = channels == 2 ? 2 : 1;
    if (fmt > AUDIO_FMT_S16) {
        fmt = AUDIO_FMT_S16;
    }
    int fb = fmt_bytes(fmt) * channels;
    if (fb != v->frame_bytes && v->in->len) {
        /* Bytes queued in the old format would be misread. */
        g_byte_array_set_size(v->in, 0);
    }
    v->rate = rate;
    v->fmt = fmt;
    v->channels = channels;
    v->frame_bytes = fb;
}

static void out_reserve(AudioVoice *v, int frames)
{
    if (v->out_len + frames > v->out_cap) {
        v->out_cap = MAX(v->out_cap * 2, v->out_len + frames);
        v->out = g_renew(int16_t, v->out, 2 * (size_t)v->out_cap);
    }
}

void audio_voice_set_active(AudioVoice *v, bool on)
{
    if (on == v->active) {
        return;
    }
    v->active = on;
    if (on) {
        /* Prime: silence for the part of the coming mix that lies before
           this instant (so the first frame plays when it was made), and a
           little more to absorb the rounding of frame counts. */
        Audio *a = v->audio;
        int64_t since = 0;
        if (a->synced) {
            since = (clock_now(a->clock) - a->t0) * AUDIO_OUT_RATE /
                    1000000000LL - a->frames;
            since = CLAMP(since, 0, AUDIO_OUT_RATE / 10);
        }
        int want = PRIME_FRAMES + (int)since;
        if (v->out_len < want) {
            int add = want - v->out_len;
            out_reserve(v, add);
            memmove(v->out + 2 * add, v->out, 4 * (size_t)v->out_len);
            memset(v->out, 0, 4 * (size_t)add);
            v->out_len += add;
        }
    }
}

bool audio_voice_active(const AudioVoice *v)
{
    return v->active;
}

void audio_voice_write(AudioVoice *v, const void *buf, size_t bytes)
{
    /* A device far ahead of the mixer (no mix for a long time) must not
       grow memory without bound: one second is plenty. */
    if (v->in->len + bytes > (size_t)v->rate * v->frame_bytes) {
        return;
    }
    g_byte_array_append(v->in, buf, bytes);
}

void audio_voice_set_volume(AudioVoice *v, float left, float right,
                            bool mute)
{
    v->gain_l = CLAMP(left, 0.0f, 1.0f);
    v->gain_r = CLAMP(right, 0.0f, 1.0f);
    v->mute = mute;
}

/* The voice's queued input, as S16 stereo in v->conv; returns frames. */
static int voice_convert(AudioVoice *v)
{
    int n = v->in->len / v->frame_bytes;
    if (n > v->conv_cap) {
        v->conv_cap = n;
        v->conv = g_renew(int16_t, v->conv, 2 * (size_t)n);
    }
    const uint8_t *p = v->in->data;
    int per = fmt_bytes(v->fmt);
    for (int i = 0; i < n; i++) {
        int16_t s[2];
        for (int c = 0; c < v->channels; c++) {
            const uint8_t *q = p + (size_t)i * v->frame_bytes + c * per;
            switch (v->fmt) {
            case AUDIO_FMT_U8:
                s[c] = (int16_t)((q[0] - 128) << 8);
                break;
            case AUDIO_FMT_S8:
                s[c] = (int16_t)((int8_t)q[0] * 256);
                break;
            case AUDIO_FMT_U16:
                s[c] = (int16_t)((q[0] | q[1] << 8) - 32768);
                break;
            default:
                s[c] = (int16_t)(q[0] | q[1] << 8);
                break;
            }
        }
        v->conv[2 * i] = s[0];
        v->conv[2 * i + 1] = v->channels == 2 ? s[1] : s[0];
    }
    g_byte_array_remove_range(v->in, 0, n * v->frame_bytes);
    return n;
}

/* A device far ahead of the mixer: keep the newest half of the bound. */
static void voice_bound(AudioVoice *v)
{
    if (v->out_len > MAX_QUEUED) {
        int drop = v->out_len - MAX_QUEUED / 2;
        memmove(v->out, v->out + 2 * drop, 4 * (size_t)(v->out_len - drop));
        v->out_len -= drop;
    }
}

/* Move the voice's input through the resampler into v->out. */
static void voice_resample(AudioVoice *v)
{
    int n = voice_convert(v);
    if (n == 0) {
        return;
    }
    if (v->rate == AUDIO_OUT_RATE) {
        /* Already at the output rate (the PC speaker, 48 kHz streams):
           no filter to run. */
        out_reserve(v, n);
        memcpy(v->out + 2 * v->out_len, v->conv, 4 * (size_t)n);
        v->out_len += n;
        voice_bound(v);
        return;
    }
    if (!v->rs || v->rs_rate != v->rate) {
        if (v->rs) {
            speex_resampler_set_rate(v->rs, v->rate, AUDIO_OUT_RATE);
        } else {
            int err;
            v->rs = speex_resampler_init(2, v->rate, AUDIO_OUT_RATE,
                                         RESAMPLER_QUALITY, &err);
            if (!v->rs) {
                return;
            }
        }
        v->rs_rate = v->rate;
    }
    /* The resampler may keep a few frames in its history; ask for all
       it can give. */
    int room = (int)((int64_t)n * AUDIO_OUT_RATE / v->rate) + 64;
    out_reserve(v, room);
    spx_uint32_t in_len = n, out_len = room;
    speex_resampler_process_interleaved_int(v->rs, v->conv, &in_len,
                                            v->out + 2 * v->out_len,
                                            &out_len);
    v->out_len += out_len;
    voice_bound(v);
}

void audio_set_muted(Audio *a, bool muted)
{
    g_atomic_int_set(&a->muted, muted);
}

bool audio_muted(Audio *a)
{
    return g_atomic_int_get(&a->muted);
}

uint32_t audio_epoch(const Audio *a)
{
    return a->epoch;
}

void audio_resync(Audio *a)
{
    a->t0 = clock_now(a->clock);
    a->frames = 0;
    a->synced = true;
    a->epoch++;
    for (guint i = 0; i < a->voices->len; i++) {
        AudioVoice *v = g_ptr_array_index(a->voices, i);
        g_byte_array_set_size(v->in, 0);
        v->out_len = 0;
        if (v->active) {
            v->active = false;
            audio_voice_set_active(v, true); /* primed again */
        }
    }
}

void audio_mix_now(Audio *a)
{
    int64_t now = clock_now(a->clock);
    for (guint i = 0; i < a->voices->len; i++) {
        AudioVoice *v = g_ptr_array_index(a->voices, i);
        if (v->active && v->pull) {
            v->pull(v->opaque); /* the devices catch up to now */
        }
    }
    /* A mix due every tick found 30 ms more than a tick due: the host
       did not run the emulator (or its timers) for that long (real-time
       mode on a loaded host; never with -icount).  Counted, so that
       tests and `info audio` can tell a stall's gap from a fault. */
    int64_t tick_ns = AUDIO_TICK_NS, late_ns =
        now - a->t0 - a->frames * 1000000000LL / AUDIO_OUT_RATE - tick_ns;
    if (a->synced && now >= a->t0 && late_ns >= 30000000LL) {
        a->host_stalls++;
        a->stall_ms += (uint64_t)(late_ns / 1000000);
    }
    if (!a->synced || now < a->t0 ||
        now - a->t0 > 2000000000LL) {
        /* First mix, or virtual time jumped (a restored state). */
        a->t0 = now;
        a->frames = 0;
        a->synced = true;
        return;
    }
    int64_t due = (now - a->t0) * AUDIO_OUT_RATE / 1000000000LL - a->frames;
    if (due <= 0) {
        return;
    }
    if (due > AUDIO_OUT_RATE) {
        /* Time ran on without mixes (a long pause in a timer-less
           state): restart the timeline rather than emit a burst. */
        a->t0 = now;
        a->frames = 0;
        return;
    }
    int n = (int)due;
    if (n > a->mix_cap) {
        a->mix_cap = n;
        a->mix = g_renew(int32_t, a->mix, 2 * (size_t)n);
        a->mix16 = g_renew(int16_t, a->mix16, 2 * (size_t)n);
    }
    memset(a->mix, 0, 8 * (size_t)n);
    for (guint i = 0; i < a->voices->len; i++) {
        AudioVoice *v = g_ptr_array_index(a->voices, i);
        voice_resample(v);
        int take = MIN(n, v->out_len);
        if (take < n && v->active) {
            a->voice_underruns++;
        }
        if (!v->mute) {
            int gl = (int)(v->gain_l * 65536.0f);
            int gr = (int)(v->gain_r * 65536.0f);
            for (int k = 0; k < take; k++) {
                a->mix[2 * k] += (int32_t)(((int64_t)v->out[2 * k] * gl)
                                           >> 16);
                a->mix[2 * k + 1] += (int32_t)(((int64_t)v->out[2 * k + 1] *
                                                gr) >> 16);
            }
        }
        if (v->out_len > take) {
            memmove(v->out, v->out + 2 * take,
                    4 * (size_t)(v->out_len - take));
        }
        v->out_len -= take;
    }
    bool muted = g_atomic_int_get(&a->muted);
    for (int k = 0; k < 2 * n; k++) {
        a->mix16[k] = muted ? 0 : (int16_t)CLAMP(a->mix[k], -32768, 32767);
    }
    a->be->write(a->be, a->mix16, n);
    a->frames += n;
    a->frames_out += n;
    /* Keep the products above far from overflow. */
    if (a->frames >= AUDIO_OUT_RATE) {
        a->t0 += 1000000000LL;
        a->frames -= AUDIO_OUT_RATE;
    }
}

/* ---- recording ---- */

static uint32_t get_le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Largest input file: ten minutes of 48 kHz stereo 16-bit and a bit. */
#define IN_FILE_MAX (128u << 20)

bool audio_set_input_file(Audio *a, const char *path, GError **error)
{
    gchar *data = NULL;
    gsize len = 0;
    GError *err = NULL;
    struct stat st;
    if (g_stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        g_set_error(error, AUDIO_ERROR, 0,
                    "-audiodev in.path: '%s' is not a regular file", path);
        return false;
    }
    if (g_stat(path, &st) == 0 && st.st_size > IN_FILE_MAX) {
        g_set_error(error, AUDIO_ERROR, 0,
                    "-audiodev in.path: '%s' is larger than %u MiB", path,
                    IN_FILE_MAX >> 20);
        return false;
    }
    if (!g_file_get_contents(path, &data, &len, &err)) {
        g_set_error(error, AUDIO_ERROR, 0, "-audiodev in.path: %s",
                    err->message);
        g_error_free(err);
        return false;
    }
    const uint8_t *p = (const uint8_t *)data;
    int channels = 0, bits = 0, rate = 0;
    const uint8_t *pcm = NULL;
    size_t pcm_len = 0;
    bool ok = len >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WAVE", 4);
    /* The chunks: "fmt " then "data", others skipped. */
    for (size_t off = 12; ok && off + 8 <= len;) {
        uint32_t csize = get_le32(p + off + 4);
        size_t body = off + 8;
        size_t avail = len - body;
        if (!memcmp(p + off, "fmt ", 4) && csize >= 16 && avail >= 16) {
            unsigned tag = p[body] | p[body + 1] << 8;
            channels = p[body + 2] | p[body + 3] << 8;
            rate = (int)get_le32(p + body + 4);
            bits = p[body + 14] | p[body + 15] << 8;
            if (tag != 1 && tag != 0xfffe) {
                ok = false;
            }
        } else if (!memcmp(p + off, "data", 4)) {
            pcm = p + body;
            pcm_len = MIN((size_t)csize, avail);
            break;
        }
        off = body + (size_t)csize + (csize & 1);
    }
    if (!ok || !pcm || (channels != 1 && channels != 2) ||
        (bits != 8 && bits != 16) || rate < 1000 || rate > 192000) {
        g_set_error(error, AUDIO_ERROR, 0,
                    "-audiodev in.path: '%s' is not a PCM WAV file of 8 or "
                    "16 bits, mono or stereo, 1-192 kHz", path);
        g_free(data);
        return false;
    }
    size_t fb = (size_t)channels * bits / 8;
    size_t n = pcm_len / fb;
    int16_t *s = g_new(int16_t, 2 * MAX(n, 1));
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 2; c++) {
            const uint8_t *q = pcm + i * fb + (channels == 2 ? c : 0) *
                               (bits / 8);
            s[2 * i + c] = bits == 8 ? (int16_t)((q[0] - 128) << 8)
                                     : (int16_t)(q[0] | q[1] << 8);
        }
    }
    g_free(data);
    g_free(a->in_file);
    a->in_file = s;
    a->in_frames = n;
    a->in_rate = rate;
    for (guint i = 0; i < a->inputs->len; i++) {
        AudioIn *in = g_ptr_array_index(a->inputs, i);
        in->pos = 0;
        in->ncarry = 0;
    }
    return true;
}

AudioIn *audio_in_new(Audio *a, const char *name)
{
    AudioIn *in = g_new0(AudioIn, 1);
    in->audio = a;
    in->name = g_strdup(name);
    in->rate = 48000;
    g_ptr_array_add(a->inputs, in);
    return in;
}

void audio_in_free(AudioIn *in)
{
    if (!in) {
        return;
    }
    g_ptr_array_remove(in->audio->inputs, in);
    if (in->rs) {
        speex_resampler_destroy(in->rs);
    }
    g_free(in->name);
    g_free(in);
}

void audio_in_set_rate(AudioIn *in, int rate)
{
    in->rate = CLAMP(rate, 1000, 192000);
}

/* n frames of the source at its own rate (silence where it has none). */
static void in_source(AudioIn *in, int16_t *buf, int n)
{
    Audio *a = in->audio;
    int got = 0;
    if (a->in_file) {
        if (in->pos < a->in_frames) {
            got = (int)MIN((size_t)n, a->in_frames - in->pos);
            memcpy(buf, a->in_file + 2 * in->pos, 4 * (size_t)got);
            in->pos += got;
        }
    } else if (a->be->read) {
        got = a->be->read(a->be, buf, n);
        got = CLAMP(got, 0, n);
    }
    memset(buf + 2 * got, 0, 4 * (size_t)(n - got));
}

void audio_in_read(AudioIn *in, int16_t *out, size_t n)
{
    Audio *a = in->audio;
    int src_rate = a->in_file ? a->in_rate : AUDIO_OUT_RATE;
    int16_t scratch[2 * 1024];
    size_t got = 0;
    in->frames += n;
    if (src_rate == in->rate) {
        while (got < n) {
            int k = (int)MIN(n - got, (size_t)1024);
            in_source(in, out + 2 * got, k);
            got += k;
        }
        return;
    }
    if (!in->rs || in->rs_in != src_rate || in->rs_out != in->rate) {
        if (in->rs) {
            speex_resampler_set_rate(in->rs, src_rate, in->rate);
        } else {
            int err;
            in->rs = speex_resampler_init(2, src_rate, in->rate,
                                          RESAMPLER_QUALITY, &err);
        }
        in->rs_in = src_rate;
        in->rs_out = in->rate;
        in->ncarry = 0;
    }
    /* Bounded: each round gives most of what is asked (the filter's delay
       holds back a few frames the first time).  What the resampler did
       not take waits in carry for the next round: a source (PulseAudio's)
       cannot be read twice. */
    for (int guard = 0; in->rs && got < n && guard < 64 + (int)(n / 256);
         guard++) {
        size_t want = n - got;
        int need = (int)MIN(want * (size_t)src_rate / (size_t)in->rate + 1,
                            (size_t)1024);
        need = MAX(need, in->ncarry);
        memcpy(scratch, in->carry, 4 * (size_t)in->ncarry);
        if (need > in->ncarry) {
            in_source(in, scratch + 2 * in->ncarry, need - in->ncarry);
        }
        spx_uint32_t in_len = need, out_len = want;
        speex_resampler_process_interleaved_int(in->rs, scratch, &in_len,
                                                out + 2 * got, &out_len);
        got += out_len;
        in->ncarry = need - (int)MIN(in_len, (spx_uint32_t)need);
        memcpy(in->carry, scratch + 2 * (need - in->ncarry),
               4 * (size_t)in->ncarry);
    }
    memset(out + 2 * got, 0, 4 * (n - got));
}
