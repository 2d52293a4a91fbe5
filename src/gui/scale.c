/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scaling the guest's screen into the display widget (see scale.h).
 * Fit keeps the guest's aspect ratio (pixels are taken as square, as
 * QEMU's GTK display does); integer scaling falls back to fit when even
 * 1:1 does not fit, so the whole screen always stays visible.
 */
#include "gui/scale.h"

#include <math.h>

void mimic_scale_place(MimicScaleMode mode, int guest_w, int guest_h,
                       int widget_w, int widget_h, MimicPlacement *p)
{
    double s = 1.0;
    if (guest_w > 0 && guest_h > 0 && widget_w > 0 && widget_h > 0) {
        double fit = fmin((double)widget_w / guest_w,
                          (double)widget_h / guest_h);
        switch (mode) {
        case MIMIC_SCALE_FIT:
            s = fit;
            break;
        case MIMIC_SCALE_ONE:
            s = 1.0;
            break;
        case MIMIC_SCALE_INTEGER:
            s = fit >= 1.0 ? floor(fit) : fit;
            break;
        }
    }
    if (!(s > 0)) {
        s = 1.0;
    }
    p->scale = s;
    p->x0 = floor((widget_w - guest_w * s) / 2);
    p->y0 = floor((widget_h - guest_h * s) / 2);
}
