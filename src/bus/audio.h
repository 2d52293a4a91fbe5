/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Audio: voices, the mixer and its backends.
 *
 * A sound device opens a voice (its own rate, sample format and channel
 * count) and writes frames into it as the guest produces them.  The mixer
 * runs on the machine's worker thread from a timer on the virtual clock:
 * every tick it first asks each voice's device to catch up to the current
 * virtual time (the pull callback: a DMA engine moves what the elapsed
 * time is worth), converts each voice to signed 16-bit stereo, resamples
 * it to the backend's rate with libspeexdsp's polyphase windowed-sinc
 * resampler (the one PulseAudio itself uses), applies the voice's volume
 * and sums the voices.  So the amount of audio follows virtual time: with
 * -icount a WAV recording is reproducible bit for bit.
 *
 * Backends: "wav" (a RIFF file, for tests and recording), "pa" (PulseAudio
 * through the threaded mainloop: the worker thread only copies into a ring
 * buffer under a short lock and never waits for the server; underruns are
 * filled with silence and counted) and "none" (the mixer still runs, the
 * frames are dropped).
 */
#ifndef MIMIC_BUS_AUDIO_H
#define MIMIC_BUS_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "bus/clock.h"

typedef enum {
    AUDIO_FMT_U8,
    AUDIO_FMT_S8,
    AUDIO_FMT_U16, /* little-endian */
    AUDIO_FMT_S16, /* little-endian */
} AudioFormat;

typedef struct Audio Audio;
typedef struct AudioVoice AudioVoice;

/* Called on the worker thread before each mix: write what is due now. */
typedef void (*AudioPullFn)(void *opaque);

#define AUDIO_ERROR (audio_error_quark())
GQuark audio_error_quark(void);

/* The backend's output format: signed 16-bit stereo at this rate. */
#define AUDIO_OUT_RATE 48000
/* Mixer period in virtual nanoseconds. */
#define AUDIO_TICK_NS 10000000LL

/*
 * Open the audio device "driver" (pa, wav, none) with QEMU's -audiodev
 * options (path= for wav, server= for pa).  A wav file that cannot be
 * created is an error; a PulseAudio server that cannot be reached prints
 * one warning and gives a mute "none" device.
 */
Audio *audio_new(Clock *clock, const char *id, const char *driver,
                 const char *path, const char *server, GError **error);
void audio_free(Audio *a);
const char *audio_id(const Audio *a);
const char *audio_driver(const Audio *a); /* what runs: "pa", "wav", "none" */
/* "info audio": backend, rate, voices, underruns. */
void audio_info(Audio *a, GString *out);

AudioVoice *audio_voice_new(Audio *a, const char *name, AudioPullFn pull,
                            void *opaque);
void audio_voice_free(AudioVoice *v);
/* rate 1000..192000 Hz, channels 1 or 2; out-of-range values are clamped. */
void audio_voice_set_format(AudioVoice *v, int rate, AudioFormat fmt,
                            int channels);
/* A voice that is not active contributes silence and is not expected to
   produce; going active primes it with a little silence. */
void audio_voice_set_active(AudioVoice *v, bool on);
bool audio_voice_active(const AudioVoice *v);
/* Whole frames in the voice's format; a trailing partial frame is kept. */
void audio_voice_write(AudioVoice *v, const void *buf, size_t bytes);
/* Gains 0.0 .. 1.0 per channel (the card's mixer), and mute. */
void audio_voice_set_volume(AudioVoice *v, float left, float right,
                            bool mute);

/*
 * Recording.  A device that records opens an AudioIn and reads frames of
 * signed 16-bit stereo at its own rate as its DMA engine needs them (so
 * the input follows virtual time, as the output does).  The source is the
 * WAV file of audio_set_input_file() (-audiodev ...,in.path=F: any rate,
 * 8/16-bit, mono/stereo; silence after its end), else the backend's own
 * (PulseAudio's default source), else silence; it is resampled with the
 * same libspeexdsp resampler.
 */
typedef struct AudioIn AudioIn;
AudioIn *audio_in_new(Audio *a, const char *name);
void audio_in_free(AudioIn *in);
void audio_in_set_rate(AudioIn *in, int rate); /* 1000..192000 Hz */
void audio_in_read(AudioIn *in, int16_t *frames, size_t n);
bool audio_set_input_file(Audio *a, const char *path, GError **error);

/* Counters (tests, "info audio"). */
typedef struct AudioStats {
    uint64_t frames_out;      /* frames handed to the backend */
    uint64_t backend_underruns; /* pa: times the server found no data */
    uint64_t backend_dropped; /* pa: frames dropped when the ring was full */
    uint64_t voice_underruns; /* active voices short of data at a mix */
    uint64_t host_stalls;     /* mixes 30 ms or more late (real time) */
    uint64_t stall_ms;        /* and by how much in all */
} AudioStats;
void audio_get_stats(Audio *a, AudioStats *st);

/*
 * Mute the whole output (the window's mute toggle): the mixer goes on at
 * the same pace and hands silence to the backend.  Any thread may call
 * these (an atomic flag read by the mixer on the worker thread).
 */
void audio_set_muted(Audio *a, bool muted);
bool audio_muted(Audio *a);

/* Mix now up to the current virtual time (the timer does this itself). */
void audio_mix_now(Audio *a);

/*
 * Virtual time jumped (a state was loaded): restart the mixer's timeline
 * at the current time and drop what the voices had queued, so the output
 * goes on from the restored instant without a burst or a gap.  Devices
 * that keep a timeline of their own outside their saved state compare
 * audio_epoch() with the value they saw last and restart theirs.
 */
void audio_resync(Audio *a);
uint32_t audio_epoch(const Audio *a);

#endif
