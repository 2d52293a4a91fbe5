/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PulseAudio backend: libpulse's asynchronous API on a threaded
 * mainloop (PulseAudio's "Asynchronous API" and "Threaded main loop"
 * documentation).  The worker thread only appends frames to a ring buffer
 * under a mutex of its own and never takes the mainloop lock after the
 * stream is up, so it never waits for the server.  The stream's write
 * callback, on the mainloop's thread, copies from the ring; when the ring
 * has less than the server asks for, the rest is silence and the underrun
 * is counted.  When the ring is fuller than its bound (the guest ran ahead
 * of the host, e.g. with -icount) the oldest frames are dropped and
 * counted.  Server buffer: tlength 40 ms, minreq 10 ms, prebuf 0 (a
 * prebuffer larger than the first request would stall the stream).
 */
#include "mimic-config.h"

#include <string.h>

#include "bus/audio.h"
#include "bus/audio_int.h"

#ifdef HAVE_PULSE

#include <pulse/pulseaudio.h>

#define RING_MS 200
/* Latency bounds of the ring: more than HIGH queued (a burst, e.g. the
   guest's first mix after a slow start) drops the oldest down to TARGET,
   so that the sound stays within ~30 ms (+ the server's 40 ms) of the
   picture.  Both sides run on the host's clock, so this happens once. */
#define HIGH_MS 80
#define TARGET_MS 30

typedef struct PaBackend {
    AudioBackend be;
    pa_threaded_mainloop *ml;
    pa_context *ctx;
    pa_stream *stream;
    int rate;
    GMutex lock; /* ring and counters */
    int16_t *ring;
    size_t cap, head, len; /* frames */
    bool started;          /* real frames arrived once */
    uint64_t underruns, dropped;
} PaBackend;

static void pa_ctx_state(pa_context *c, void *opaque)
{
    PaBackend *p = opaque;
    pa_threaded_mainloop_signal(p->ml, 0);
}

static void pa_stream_state(pa_stream *s, void *opaque)
{
    PaBackend *p = opaque;
    pa_threaded_mainloop_signal(p->ml, 0);
}

static void pa_stream_want(pa_stream *s, size_t nbytes, void *opaque)
{
    PaBackend *p = opaque;
    while (nbytes >= 4) {
        void *data;
        size_t len = nbytes;
        if (pa_stream_begin_write(s, &data, &len) < 0 || len < 4) {
            return;
        }
        size_t frames = len / 4;
        int16_t *out = data;
        g_mutex_lock(&p->lock);
        size_t have = MIN(frames, p->len);
        for (size_t i = 0; i < have; i++) {
            size_t k = (p->head + i) % p->cap;
            out[2 * i] = p->ring[2 * k];
            out[2 * i + 1] = p->ring[2 * k + 1];
        }
        p->head = (p->head + have) % p->cap;
        p->len -= have;
        if (have < frames && p->started) {
            p->underruns++;
        }
        g_mutex_unlock(&p->lock);
        memset(out + 2 * have, 0, 4 * (frames - have));
        pa_stream_write(s, data, frames * 4, NULL, 0, PA_SEEK_RELATIVE);
        nbytes -= frames * 4;
    }
}

static void pa_write(AudioBackend *be, const int16_t *frames, int n)
{
    PaBackend *p = (PaBackend *)be;
    g_mutex_lock(&p->lock);
    p->started = true;
    for (int i = 0; i < n; i++) {
        if (p->len == p->cap) {
            p->head = (p->head + 1) % p->cap; /* drop the oldest */
            p->len--;
            p->dropped++;
        }
        size_t k = (p->head + p->len) % p->cap;
        p->ring[2 * k] = frames[2 * i];
        p->ring[2 * k + 1] = frames[2 * i + 1];
        p->len++;
    }
    size_t high = (size_t)p->rate * HIGH_MS / 1000;
    if (p->len > high) {
        size_t drop = p->len - (size_t)p->rate * TARGET_MS / 1000;
        p->head = (p->head + drop) % p->cap;
        p->len -= drop;
        p->dropped += drop;
    }
    g_mutex_unlock(&p->lock);
}

static void pa_stats(AudioBackend *be, uint64_t *underruns, uint64_t *dropped)
{
    PaBackend *p = (PaBackend *)be;
    g_mutex_lock(&p->lock);
    *underruns = p->underruns;
    *dropped = p->dropped;
    g_mutex_unlock(&p->lock);
}

static void pa_close(AudioBackend *be)
{
    PaBackend *p = (PaBackend *)be;
    if (p->ml) {
        pa_threaded_mainloop_lock(p->ml);
        if (p->stream) {
            pa_stream_set_write_callback(p->stream, NULL, NULL);
            pa_stream_set_state_callback(p->stream, NULL, NULL);
            pa_stream_disconnect(p->stream);
            pa_stream_unref(p->stream);
        }
        if (p->ctx) {
            pa_context_set_state_callback(p->ctx, NULL, NULL);
            pa_context_disconnect(p->ctx);
            pa_context_unref(p->ctx);
        }
        pa_threaded_mainloop_unlock(p->ml);
        pa_threaded_mainloop_stop(p->ml);
        pa_threaded_mainloop_free(p->ml);
    }
    g_mutex_clear(&p->lock);
    g_free(p->ring);
    g_free(p);
}

AudioBackend *audio_pa_open(const char *server, int rate, GError **error)
{
    PaBackend *p = g_new0(PaBackend, 1);
    p->be.name = "pa";
    p->be.write = pa_write;
    p->be.close = pa_close;
    p->be.stats = pa_stats;
    p->rate = rate;
    g_mutex_init(&p->lock);
    p->cap = (size_t)rate * RING_MS / 1000;
    p->ring = g_new0(int16_t, 2 * p->cap);

    p->ml = pa_threaded_mainloop_new();
    if (!p->ml || pa_threaded_mainloop_start(p->ml) < 0) {
        g_set_error(error, AUDIO_ERROR, 0, "PulseAudio: no main loop");
        pa_close(&p->be);
        return NULL;
    }
    pa_threaded_mainloop_lock(p->ml);
    p->ctx = pa_context_new(pa_threaded_mainloop_get_api(p->ml), "Mimic");
    pa_context_set_state_callback(p->ctx, pa_ctx_state, p);
    const char *why = NULL;
    if (pa_context_connect(p->ctx, server, PA_CONTEXT_NOAUTOSPAWN,
                           NULL) < 0) {
        why = pa_strerror(pa_context_errno(p->ctx));
    }
    while (!why) {
        pa_context_state_t st = pa_context_get_state(p->ctx);
        if (st == PA_CONTEXT_READY) {
            break;
        }
        if (!PA_CONTEXT_IS_GOOD(st)) {
            why = pa_strerror(pa_context_errno(p->ctx));
            break;
        }
        pa_threaded_mainloop_wait(p->ml);
    }
    if (!why) {
        pa_sample_spec ss = { .format = PA_SAMPLE_S16LE, .rate = rate,
                              .channels = 2 };
        p->stream = pa_stream_new(p->ctx, "Mimic guest", &ss, NULL);
        pa_buffer_attr attr = {
            .maxlength = (uint32_t)-1,
            .tlength = pa_usec_to_bytes(40000, &ss),
            .prebuf = 0, /* start at once; never wait for a refill */
            .minreq = pa_usec_to_bytes(10000, &ss),
            .fragsize = (uint32_t)-1,
        };
        pa_stream_set_state_callback(p->stream, pa_stream_state, p);
        pa_stream_set_write_callback(p->stream, pa_stream_want, p);
        if (pa_stream_connect_playback(p->stream, NULL, &attr,
                                       PA_STREAM_ADJUST_LATENCY, NULL,
                                       NULL) < 0) {
            why = pa_strerror(pa_context_errno(p->ctx));
        }
        while (!why) {
            pa_stream_state_t st = pa_stream_get_state(p->stream);
            if (st == PA_STREAM_READY) {
                break;
            }
            if (!PA_STREAM_IS_GOOD(st)) {
                why = pa_strerror(pa_context_errno(p->ctx));
                break;
            }
            pa_threaded_mainloop_wait(p->ml);
        }
    }
    pa_threaded_mainloop_unlock(p->ml);
    if (why) {
        g_set_error(error, AUDIO_ERROR, 0,
                    "cannot connect to the PulseAudio server%s%s: %s",
                    server ? " " : "", server ? server : "", why);
        pa_close(&p->be);
        return NULL;
    }
    return &p->be;
}

#else

AudioBackend *audio_pa_open(const char *server, int rate, GError **error)
{
    g_set_error(error, AUDIO_ERROR, 0,
                "this build has no PulseAudio support (libpulse-dev)");
    return NULL;
}

#endif
