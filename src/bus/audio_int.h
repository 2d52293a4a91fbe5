/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Audio backends as seen by the mixer (audio.c): each takes signed 16-bit
 * little-endian stereo frames at AUDIO_OUT_RATE on the worker thread.
 */
#ifndef MIMIC_ENGINE_AUDIO_INT_H
#define MIMIC_ENGINE_AUDIO_INT_H

#include <stdint.h>
#include <glib.h>

typedef struct AudioBackend AudioBackend;
struct AudioBackend {
    const char *name;
    void (*write)(AudioBackend *be, const int16_t *frames, int n);
    void (*close)(AudioBackend *be); /* frees be */
    void (*stats)(AudioBackend *be, uint64_t *underruns, uint64_t *dropped);
    /* Recording, optional: up to n frames at the backend's rate captured
       since the last call; returns how many. */
    int (*read)(AudioBackend *be, int16_t *frames, int n);
};

/* PulseAudio (audio_pa.c); NULL with *error set when no server answers. */
AudioBackend *audio_pa_open(const char *server, int rate, GError **error);

#endif
