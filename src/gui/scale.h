/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the guest's screen goes in the display widget: the scale factor
 * and offset for each scaling mode.  Pure arithmetic (no GTK), so the
 * in-process tests check it.
 */
#ifndef MIMIC_GUI_SCALE_H
#define MIMIC_GUI_SCALE_H

typedef enum {
    MIMIC_SCALE_FIT,     /* largest size that keeps the aspect ratio */
    MIMIC_SCALE_ONE,     /* 1:1 */
    MIMIC_SCALE_INTEGER, /* largest whole multiple that fits (>= 1) */
} MimicScaleMode;

typedef struct MimicPlacement {
    double scale; /* widget pixels per guest pixel, > 0 */
    double x0, y0; /* top-left of the guest's screen in the widget */
} MimicPlacement;

/* guest_w/h or widget_w/h may be 0 (no screen yet): scale 1, centred. */
void mimic_scale_place(MimicScaleMode mode, int guest_w, int guest_h,
                       int widget_w, int widget_h, MimicPlacement *p);

#endif
