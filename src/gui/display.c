/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MimicDisplay: a GtkDrawingArea that shows the engine's display surface.
 *
 * The engine's front surface is XRGB8888, which is cairo's
 * CAIRO_FORMAT_RGB24 on a little-endian host, so updates are plain row
 * copies (taken under mimic_machine_display_lock()) into a cairo image
 * surface we own.  Only the dirty rectangle of MIMIC_EVENT_DISPLAY_UPDATE
 * is copied and queued for redraw, mapped through the current scale.
 */
#include "gui/gui_internal.h"

#include <math.h>
#include <string.h>

struct _MimicDisplay {
    GtkDrawingArea parent;
    MimicMachine *machine;
    cairo_surface_t *surface; /* our copy of the guest's screen */
    int width, height;
    MimicScaleMode mode;
    char *overlay; /* View -> Statistics */
};

G_DEFINE_TYPE(MimicDisplay, mimic_display, GTK_TYPE_DRAWING_AREA)

typedef MimicPlacement Placement;

static void display_place(MimicDisplay *d, Placement *p)
{
    mimic_scale_place(d->mode, d->width, d->height,
                      gtk_widget_get_allocated_width(GTK_WIDGET(d)),
                      gtk_widget_get_allocated_height(GTK_WIDGET(d)), p);
}

static gboolean display_draw(GtkWidget *w, cairo_t *cr)
{
    MimicDisplay *d = MIMIC_DISPLAY(w);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_paint(cr);
    if (!d->surface) {
        return TRUE;
    }
    Placement p;
    display_place(d, &p);
    cairo_save(cr);
    cairo_translate(cr, p.x0, p.y0);
    cairo_scale(cr, p.scale, p.scale);
    cairo_set_source_surface(cr, d->surface, 0, 0);
    /* Whole multiples stay crisp; other factors are smoothed. */
    bool whole = p.scale == (double)(int)p.scale;
    cairo_pattern_set_filter(cairo_get_source(cr), whole ? CAIRO_FILTER_NEAREST
                                                         : CAIRO_FILTER_GOOD);
    cairo_rectangle(cr, 0, 0, d->width, d->height);
    cairo_fill(cr);
    cairo_restore(cr);
    if (d->overlay) {
        /* In widget coordinates, whatever the scale: a dark box, light
           monospace text. */
        PangoLayout *pl = gtk_widget_create_pango_layout(w, d->overlay);
        PangoFontDescription *fd = pango_font_description_from_string(
            "Monospace 9");
        pango_layout_set_font_description(pl, fd);
        pango_font_description_free(fd);
        int tw, th;
        pango_layout_get_pixel_size(pl, &tw, &th);
        cairo_set_source_rgba(cr, 0, 0, 0, 0.7);
        cairo_rectangle(cr, 4, 4, tw + 12, th + 8);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.6, 1.0, 0.6);
        cairo_move_to(cr, 10, 8);
        pango_cairo_show_layout(cr, pl);
        g_object_unref(pl);
    }
    return TRUE;
}

const char *mimic_display_get_overlay(MimicDisplay *d)
{
    return d->overlay;
}

void mimic_display_set_overlay(MimicDisplay *d, const char *text)
{
    if (!g_strcmp0(text, d->overlay)) {
        return;
    }
    g_free(d->overlay);
    d->overlay = g_strdup(text);
    gtk_widget_queue_draw(GTK_WIDGET(d));
}

static void display_get_preferred_width(GtkWidget *w, int *min, int *nat)
{
    MimicDisplay *d = MIMIC_DISPLAY(w);
    *min = 160;
    *nat = d->width > 0 ? d->width : 640;
    if (d->mode == MIMIC_SCALE_ONE) {
        *min = MAX(*min, d->width);
    }
}

static void display_get_preferred_height(GtkWidget *w, int *min, int *nat)
{
    MimicDisplay *d = MIMIC_DISPLAY(w);
    *min = 100;
    *nat = d->height > 0 ? d->height : 480;
    if (d->mode == MIMIC_SCALE_ONE) {
        *min = MAX(*min, d->height);
    }
}

static void display_finalize(GObject *obj)
{
    MimicDisplay *d = MIMIC_DISPLAY(obj);
    g_clear_pointer(&d->surface, cairo_surface_destroy);
    g_clear_pointer(&d->overlay, g_free);
    G_OBJECT_CLASS(mimic_display_parent_class)->finalize(obj);
}

static void mimic_display_class_init(MimicDisplayClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->finalize = display_finalize;
    wc->draw = display_draw;
    wc->get_preferred_width = display_get_preferred_width;
    wc->get_preferred_height = display_get_preferred_height;
    gtk_widget_class_set_css_name(wc, "mimic-display");
}

static void mimic_display_init(MimicDisplay *d)
{
    GtkWidget *w = GTK_WIDGET(d);
    gtk_widget_set_can_focus(w, TRUE);
    gtk_widget_add_events(w, GDK_KEY_PRESS_MASK | GDK_KEY_RELEASE_MASK |
                                 GDK_BUTTON_PRESS_MASK |
                                 GDK_BUTTON_RELEASE_MASK |
                                 GDK_POINTER_MOTION_MASK | GDK_SCROLL_MASK |
                                 GDK_SMOOTH_SCROLL_MASK);
    gtk_widget_set_hexpand(w, TRUE);
    gtk_widget_set_vexpand(w, TRUE);
    d->mode = MIMIC_SCALE_FIT;
}

GtkWidget *mimic_display_new(void)
{
    return g_object_new(MIMIC_TYPE_DISPLAY, NULL);
}

void mimic_display_set_machine(MimicDisplay *d, MimicMachine *m)
{
    d->machine = m;
    if (m) {
        MimicSurface s;
        if (mimic_machine_display_lock(m, &s)) {
            int w = s.width, h = s.height;
            mimic_machine_display_unlock(m);
            mimic_display_resize(d, w, h);
        }
    }
}

void mimic_display_set_scale_mode(MimicDisplay *d, MimicScaleMode mode)
{
    d->mode = mode;
    gtk_widget_queue_resize(GTK_WIDGET(d));
}

MimicScaleMode mimic_display_get_scale_mode(MimicDisplay *d)
{
    return d->mode;
}

void mimic_display_get_guest_size(MimicDisplay *d, int *w, int *h)
{
    *w = d->width;
    *h = d->height;
}

void mimic_display_resize(MimicDisplay *d, int w, int h)
{
    if (w <= 0 || h <= 0 || w > 16384 || h > 16384) {
        return;
    }
    if (w != d->width || h != d->height || !d->surface) {
        g_clear_pointer(&d->surface, cairo_surface_destroy);
        d->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
        d->width = w;
        d->height = h;
        gtk_widget_queue_resize(GTK_WIDGET(d));
    }
    mimic_display_update(d, 0, 0, w, h);
}

void mimic_display_update(MimicDisplay *d, int x, int y, int w, int h)
{
    if (!d->machine || !d->surface) {
        return;
    }
    MimicSurface s;
    if (!mimic_machine_display_lock(d->machine, &s)) {
        return;
    }
    if (s.width != d->width || s.height != d->height) {
        /* A resize event is on its way; it copies everything. */
        mimic_machine_display_unlock(d->machine);
        return;
    }
    /* Clip: the rectangle comes from another thread's device model. */
    int x1 = CLAMP(x, 0, s.width), y1 = CLAMP(y, 0, s.height);
    int x2 = CLAMP(x + w, 0, s.width), y2 = CLAMP(y + h, 0, s.height);
    cairo_surface_flush(d->surface);
    uint8_t *dst = cairo_image_surface_get_data(d->surface);
    int dstride = cairo_image_surface_get_stride(d->surface);
    for (int row = y1; row < y2 && s.data; row++) {
        const uint8_t *src = (const uint8_t *)s.data + (size_t)row * s.stride;
        memcpy(dst + (size_t)row * dstride + (size_t)x1 * 4, src + x1 * 4,
               (size_t)(x2 - x1) * 4);
    }
    mimic_machine_display_unlock(d->machine);
    cairo_surface_mark_dirty_rectangle(d->surface, x1, y1, x2 - x1, y2 - y1);

    Placement p;
    display_place(d, &p);
    int rx = (int)floor(p.x0 + x1 * p.scale) - 1;
    int ry = (int)floor(p.y0 + y1 * p.scale) - 1;
    int rw = (int)ceil((x2 - x1) * p.scale) + 3;
    int rh = (int)ceil((y2 - y1) * p.scale) + 3;
    gtk_widget_queue_draw_area(GTK_WIDGET(d), rx, ry, rw, rh);
}

bool mimic_display_to_guest(MimicDisplay *d, double wx, double wy, int *gx,
                            int *gy)
{
    Placement p;
    display_place(d, &p);
    double x = (wx - p.x0) / p.scale, y = (wy - p.y0) / p.scale;
    *gx = (int)x;
    *gy = (int)y;
    return x >= 0 && y >= 0 && x < d->width && y < d->height;
}

GdkPixbuf *mimic_display_snapshot(MimicDisplay *d, int max_width)
{
    if (!d->surface || d->width <= 0) {
        return NULL;
    }
    GdkPixbuf *full = gdk_pixbuf_get_from_surface(d->surface, 0, 0, d->width,
                                                  d->height);
    if (!full || max_width <= 0 || d->width <= max_width) {
        return full;
    }
    int h = MAX(1, d->height * max_width / d->width);
    GdkPixbuf *small = gdk_pixbuf_scale_simple(full, max_width, h,
                                               GDK_INTERP_BILINEAR);
    g_object_unref(full);
    return small;
}
