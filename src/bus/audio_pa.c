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
 *
 * Recording: the first time a device records, a record stream on the
 * default source is connected (not earlier, so that an idle machine shows
 * no recording in the desktop's indicators; that one time the worker takes
 * the mainloop lock briefly and does not wait for the stream).  Its read
 * callback appends to a second ring; the worker takes from it once 150 ms
 * are queued, getting silence before and whenever it runs dry; more
 * than 500 ms queued drops the oldest to 250 ms (sources may deliver in
 * large blocks).
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
/* Recording: a source may deliver in blocks of 200 ms and more (the
   server's fragment size is a wish), so the input ring is larger and
   only more than 500 ms queued drops the oldest, down to 250 ms. */
#define IN_RING_MS 1000
#define IN_HIGH_MS 500
#define IN_TARGET_MS 250
/* Before the first frames the guest gets silence until this much is
   queued: a cushion for the host's scheduling and the virtual clock's
   steps. */
#define IN_PRIME_MS 150

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
    /* Recording (under lock too). */
    pa_stream *rec;
    bool rec_tried;        /* worker thread only */
    bool primed;           /* enough queued to start handing out */
    int16_t *iring;
    size_t icap, ihead, ilen;
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

/* Captured data, on the mainloop's thread: into the input ring. */
static void pa_rec_ready(pa_stream *s, size_t nbytes, void *opaque)
{
    PaBackend *p = opaque;
    for (int guard = 0; guard < 64 && pa_stream_readable_size(s) > 0;
         guard++) {
        const void *data;
        size_t len;
        if (pa_stream_peek(s, &data, &len) < 0 || len == 0) {
            return;
        }
                if (data) { /* NULL: a hole, skipped */
            const int16_t *f = data;
            size_t n = len / 4;
            g_mutex_lock(&p->lock);
            for (size_t i = 0; i < n; i++) {
                if (p->ilen == p->icap) {
                    p->ihead = (p->ihead + 1) % p->icap;
                    p->ilen--;
                }
                size_t k = (p->ihead + p->ilen) % p->icap;
                p->iring[2 * k] = f[2 * i];
                p->iring[2 * k + 1] = f[2 * i + 1];
                p->ilen++;
            }
            g_mutex_unlock(&p->lock);
        }
        pa_stream_drop(s);
    }
}

/* The first recording: connect a record stream, without waiting. */
static void pa_rec_open(PaBackend *p)
{
    pa_threaded_mainloop_lock(p->ml);
    pa_sample_spec ss = { .format = PA_SAMPLE_S16LE, .rate = p->rate,
                          .channels = 2 };
    pa_stream *s = pa_stream_new(p->ctx, "Mimic guest recording", &ss,
                                 NULL);
    if (s) {
        pa_buffer_attr attr = {
            .maxlength = (uint32_t)-1,
            .tlength = (uint32_t)-1,
            .prebuf = (uint32_t)-1,
            .minreq = (uint32_t)-1,
            .fragsize = pa_usec_to_bytes(10000, &ss),
        };
        pa_stream_set_read_callback(s, pa_rec_ready, p);
        if (pa_stream_connect_record(s, NULL, &attr,
                                     PA_STREAM_ADJUST_LATENCY) < 0) {
            g_printerr("mimic: warning: audio: PulseAudio recording: %s; "
                       "the guest records silence\n",
                       pa_strerror(pa_context_errno(p->ctx)));
            pa_stream_set_read_callback(s, NULL, NULL);
            pa_stream_unref(s);
            s = NULL;
        }
    }
    p->rec = s;
    pa_threaded_mainloop_unlock(p->ml);
}

static int pa_read(AudioBackend *be, int16_t *frames, int n)
{
    PaBackend *p = (PaBackend *)be;
    if (!p->rec_tried) {
        p->rec_tried = true;
        pa_rec_open(p);
    }
    g_mutex_lock(&p->lock);
    size_t high = (size_t)p->rate * IN_HIGH_MS / 1000;
    if (p->ilen > high) {
        size_t drop = p->ilen - (size_t)p->rate * IN_TARGET_MS / 1000;
        p->ihead = (p->ihead + drop) % p->icap;
        p->ilen -= drop;
    }
    if (!p->primed && p->ilen >= (size_t)p->rate * IN_PRIME_MS / 1000) {
        p->primed = true;
    }
    size_t have = p->primed ? MIN((size_t)MAX(n, 0), p->ilen) : 0;
    for (size_t i = 0; i < have; i++) {
        size_t k = (p->ihead + i) % p->icap;
        frames[2 * i] = p->iring[2 * k];
        frames[2 * i + 1] = p->iring[2 * k + 1];
    }
    p->ihead = (p->ihead + have) % p->icap;
    p->ilen -= have;
    g_mutex_unlock(&p->lock);
    return (int)have;
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
        if (p->rec) {
            pa_stream_set_read_callback(p->rec, NULL, NULL);
            pa_stream_disconnect(p->rec);
            pa_stream_unref(p->rec);
        }
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
    g_free(p->iring);
    g_free(p);
}

AudioBackend *audio_pa_open(const char *server, int rate, GError **error)
{
    PaBackend *p = g_new0(PaBackend, 1);
    p->be.name = "pa";
    p->be.write = pa_write;
    p->be.close = pa_close;
    p->be.stats = pa_stats;
    p->be.read = pa_read;
    p->rate = rate;
    g_mutex_init(&p->lock);
    p->cap = (size_t)rate * RING_MS / 1000;
    p->ring = g_new0(int16_t, 2 * p->cap);
    p->icap = (size_t)rate * IN_RING_MS / 1000;
    p->iring = g_new0(int16_t, 2 * p->icap);

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
