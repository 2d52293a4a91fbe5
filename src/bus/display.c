/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest display (see display.h): a back surface the display device
 * draws into on the worker thread and a front surface that readers see
 * under a mutex.  display_flush() copies the dirty box from back to front
 * and notifies listeners.  Screendumps are written as binary PPM (P6) or
 * PNG (8-bit RGB, zlib-compressed, one filter byte per row).
 */
#include "bus/display.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

typedef struct Listener {
    const DisplayListener *l;
    void *opaque;
} Listener;

struct Display {
    DisplaySurface back, front;
    GMutex lock;
    int dx0, dy0, dx1, dy1; /* dirty box, empty when dx0 >= dx1 */
    bool resized;
    GArray *listeners;
    void (*refresh)(void *opaque);
    void *refresh_opaque;
};

#define MAX_DIM 8192

static void surface_alloc(DisplaySurface *s, int w, int h)
{
    g_free(s->data);
    s->width = w;
    s->height = h;
    s->stride = w * 4;
    s->data = g_new0(uint32_t, (size_t)w * h);
}

Display *display_new(void)
{
    Display *d = g_new0(Display, 1);
    g_mutex_init(&d->lock);
    d->listeners = g_array_new(FALSE, FALSE, sizeof(Listener));
    surface_alloc(&d->back, 640, 480);
    surface_alloc(&d->front, 640, 480);
    return d;
}

void display_free(Display *d)
{
    if (!d) {
        return;
    }
    g_free(d->back.data);
    g_free(d->front.data);
    g_array_free(d->listeners, TRUE);
    g_mutex_clear(&d->lock);
    g_free(d);
}

DisplaySurface *display_back(Display *d)
{
    return &d->back;
}

void display_resize(Display *d, int w, int h)
{
    w = CLAMP(w, 1, MAX_DIM);
    h = CLAMP(h, 1, MAX_DIM);
    if (w == d->back.width && h == d->back.height) {
        return;
    }
    surface_alloc(&d->back, w, h);
    d->resized = true;
    d->dx0 = 0;
    d->dy0 = 0;
    d->dx1 = w;
    d->dy1 = h;
}

void display_mark_dirty(Display *d, int x, int y, int w, int h)
{
    int x1 = MIN(x + w, d->back.width), y1 = MIN(y + h, d->back.height);
    x = MAX(x, 0);
    y = MAX(y, 0);
    if (x >= x1 || y >= y1) {
        return;
    }
    if (d->dx0 >= d->dx1) {
        d->dx0 = x;
        d->dy0 = y;
        d->dx1 = x1;
        d->dy1 = y1;
    } else {
        d->dx0 = MIN(d->dx0, x);
        d->dy0 = MIN(d->dy0, y);
        d->dx1 = MAX(d->dx1, x1);
        d->dy1 = MAX(d->dy1, y1);
    }
}

void display_flush(Display *d)
{
    bool resized = d->resized;
    if (d->dx0 >= d->dx1 && !resized) {
        return;
    }
    g_mutex_lock(&d->lock);
    if (resized) {
        surface_alloc(&d->front, d->back.width, d->back.height);
        memcpy(d->front.data, d->back.data,
               (size_t)d->back.stride * d->back.height);
    } else {
        for (int y = d->dy0; y < d->dy1; y++) {
            memcpy(d->front.data + (size_t)y * d->front.width + d->dx0,
                   d->back.data + (size_t)y * d->back.width + d->dx0,
                   (size_t)(d->dx1 - d->dx0) * 4);
        }
    }
    g_mutex_unlock(&d->lock);
    int x = d->dx0, y = d->dy0, w = d->dx1 - d->dx0, h = d->dy1 - d->dy0;
    d->resized = false;
    d->dx0 = d->dx1 = 0;
    for (unsigned i = 0; i < d->listeners->len; i++) {
        Listener *l = &g_array_index(d->listeners, Listener, i);
        if (resized && l->l->resize) {
            l->l->resize(l->opaque, d->back.width, d->back.height);
        }
        if (l->l->update) {
            l->l->update(l->opaque, x, y, w, h);
        }
    }
}

void display_set_refresh_hook(Display *d, void (*fn)(void *opaque),
                              void *opaque)
{
    d->refresh = fn;
    d->refresh_opaque = opaque;
}

void display_refresh(Display *d)
{
    if (d->refresh) {
        d->refresh(d->refresh_opaque);
    }
    display_flush(d);
}

void display_add_listener(Display *d, const DisplayListener *l, void *opaque)
{
    Listener e = { l, opaque };
    g_array_append_val(d->listeners, e);
}

void display_remove_listener(Display *d, const DisplayListener *l,
                             void *opaque)
{
    for (unsigned i = 0; i < d->listeners->len; i++) {
        Listener *e = &g_array_index(d->listeners, Listener, i);
        if (e->l == l && e->opaque == opaque) {
            g_array_remove_index(d->listeners, i);
            return;
        }
    }
}

const DisplaySurface *display_lock(Display *d)
{
    g_mutex_lock(&d->lock);
    return &d->front;
}

void display_unlock(Display *d)
{
    g_mutex_unlock(&d->lock);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static bool png_chunk(FILE *f, const char *type, const uint8_t *data,
                      uint32_t len)
{
    uint8_t hdr[8];
    put_be32(hdr, len);
    memcpy(hdr + 4, type, 4);
    uLong crc = crc32(0, (const Bytef *)type, 4);
    if (len) {
        crc = crc32(crc, data, len);
    }
    uint8_t tail[4];
    put_be32(tail, crc);
    return fwrite(hdr, 1, 8, f) == 8 &&
           (len == 0 || fwrite(data, 1, len, f) == len) &&
           fwrite(tail, 1, 4, f) == 4;
}

static bool write_png(FILE *f, const DisplaySurface *s)
{
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
                                    '\n' };
    uint8_t ihdr[13];
    put_be32(ihdr, s->width);
    put_be32(ihdr + 4, s->height);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 2;  /* colour type RGB */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* no interlace */
    size_t rowlen = (size_t)s->width * 3 + 1;
    size_t rawlen = rowlen * s->height;
    uint8_t *raw = g_malloc(rawlen);
    for (int y = 0; y < s->height; y++) {
        uint8_t *row = raw + rowlen * y;
        const uint32_t *px = s->data + (size_t)y * (s->stride / 4);
        row[0] = 0;
        for (int x = 0; x < s->width; x++) {
            row[1 + 3 * x] = px[x] >> 16;
            row[2 + 3 * x] = px[x] >> 8;
            row[3 + 3 * x] = px[x];
        }
    }
    uLongf zlen = compressBound(rawlen);
    uint8_t *z = g_malloc(zlen);
    bool ok = compress2(z, &zlen, raw, rawlen, 6) == Z_OK &&
              fwrite(sig, 1, 8, f) == 8 && png_chunk(f, "IHDR", ihdr, 13) &&
              png_chunk(f, "IDAT", z, zlen) && png_chunk(f, "IEND", NULL, 0);
    g_free(raw);
    g_free(z);
    return ok;
}

static bool write_ppm(FILE *f, const DisplaySurface *s)
{
    if (fprintf(f, "P6\n%d %d\n255\n", s->width, s->height) < 0) {
        return false;
    }
    uint8_t *row = g_malloc((size_t)s->width * 3);
    bool ok = true;
    for (int y = 0; y < s->height && ok; y++) {
        const uint32_t *px = s->data + (size_t)y * (s->stride / 4);
        for (int x = 0; x < s->width; x++) {
            row[3 * x] = px[x] >> 16;
            row[3 * x + 1] = px[x] >> 8;
            row[3 * x + 2] = px[x];
        }
        ok = fwrite(row, 1, (size_t)s->width * 3, f) == (size_t)s->width * 3;
    }
    g_free(row);
    return ok;
}

bool display_save(Display *d, const char *path, GError **error)
{
    g_autofree char *tmp = g_strdup_printf("%s.tmp-XXXXXX", path);
    int fd = g_mkstemp(tmp);
    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "screendump: cannot create '%s': %s", path,
                    g_strerror(errno));
        return false;
    }
    FILE *f = fdopen(fd, "wb");
    const DisplaySurface *s = display_lock(d);
    bool png = g_str_has_suffix(path, ".png") || g_str_has_suffix(path, ".PNG");
    bool ok = png ? write_png(f, s) : write_ppm(f, s);
    display_unlock(d);
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp, path) != 0) {
        ok = false;
    }
    if (!ok) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "screendump: cannot write '%s': %s", path,
                    g_strerror(errno));
        unlink(tmp);
    }
    return ok;
}
