/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest display: an XRGB8888 surface owned by the engine.
 *
 * The display device renders into the back surface on the worker thread
 * and marks dirty rectangles; display_flush() copies them to the front
 * surface under a lock and tells listeners, which may run on another
 * thread (the GUI) and read the front surface with display_lock().
 */
#ifndef MIMIC_BUS_DISPLAY_H
#define MIMIC_BUS_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

typedef struct DisplaySurface {
    uint32_t *data; /* XRGB8888, native endian */
    int width, height;
    int stride; /* in bytes */
} DisplaySurface;

typedef struct Display Display;

typedef struct DisplayListener {
    /* Called (on the worker thread) after a flush with the dirty box. */
    void (*update)(void *opaque, int x, int y, int w, int h);
    void (*resize)(void *opaque, int w, int h);
} DisplayListener;

Display *display_new(void);
void display_free(Display *d);
/* Back surface for the device; valid until the next resize. */
DisplaySurface *display_back(Display *d);
void display_resize(Display *d, int width, int height);
void display_mark_dirty(Display *d, int x, int y, int w, int h);
void display_flush(Display *d);
/*
 * The display device's "render the current frame now" (worker thread):
 * display_refresh() calls it, then flushes; screendump uses it so that the
 * picture is not one refresh period old.
 */
void display_set_refresh_hook(Display *d, void (*fn)(void *opaque),
                              void *opaque);
void display_refresh(Display *d);
void display_add_listener(Display *d, const DisplayListener *l, void *opaque);
void display_remove_listener(Display *d, const DisplayListener *l,
                             void *opaque);
/* Front surface access from any thread. */
const DisplaySurface *display_lock(Display *d);
void display_unlock(Display *d);
/* Screendump of the front surface: PNG if the name ends in .png, else PPM. */
bool display_save(Display *d, const char *path, GError **error);

#endif
