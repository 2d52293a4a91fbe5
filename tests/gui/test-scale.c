/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Display scaling (src/gui/scale.c): zoom to fit keeps the aspect ratio
 * and fills one dimension, 1:1 is 1:1 and centred, integer scaling picks
 * the largest whole factor that fits and never crops.
 */
#include <math.h>

#include <glib.h>

#include "gui/scale.h"

typedef struct Case {
    MimicScaleMode mode;
    int gw, gh, ww, wh;
    double scale, x0, y0;
} Case;

static const Case cases[] = {
    /* 640x480 (4:3) in a wide window: height limits, bars left/right. */
    { MIMIC_SCALE_FIT, 640, 480, 1280, 720, 1.5, 160, 0 },
    /* 720x400 text mode in a tall window: width limits. */
    { MIMIC_SCALE_FIT, 720, 400, 720, 800, 1.0, 0, 200 },
    { MIMIC_SCALE_FIT, 800, 600, 400, 300, 0.5, 0, 0 },
    { MIMIC_SCALE_ONE, 640, 480, 1280, 720, 1.0, 320, 120 },
    /* 1:1 larger than the window: offset goes negative (scrolled off). */
    { MIMIC_SCALE_ONE, 1024, 768, 800, 600, 1.0, -112, -84 },
    { MIMIC_SCALE_INTEGER, 640, 480, 1280, 720, 1.0, 320, 120 },
    { MIMIC_SCALE_INTEGER, 320, 200, 1280, 720, 3.0, 160, 60 },
    /* Integer scaling of a screen larger than the window shrinks. */
    { MIMIC_SCALE_INTEGER, 800, 600, 400, 300, 0.5, 0, 0 },
    /* No screen yet. */
    { MIMIC_SCALE_FIT, 0, 0, 640, 480, 1.0, 320, 240 },
};

static void test_case(gconstpointer data)
{
    const Case *c = data;
    MimicPlacement p;
    mimic_scale_place(c->mode, c->gw, c->gh, c->ww, c->wh, &p);
    g_assert_cmpfloat_with_epsilon(p.scale, c->scale, 1e-9);
    g_assert_cmpfloat_with_epsilon(p.x0, c->x0, 1e-9);
    g_assert_cmpfloat_with_epsilon(p.y0, c->y0, 1e-9);
}

/* Fit: across many sizes the image fits, touches two edges, keeps 4:3. */
static void test_fit_sweep(void)
{
    for (int ww = 100; ww <= 2000; ww += 37) {
        for (int wh = 100; wh <= 1500; wh += 41) {
            MimicPlacement p;
            mimic_scale_place(MIMIC_SCALE_FIT, 640, 480, ww, wh, &p);
            double w = 640 * p.scale, h = 480 * p.scale;
            g_assert_cmpfloat(w, <=, ww + 1e-9);
            g_assert_cmpfloat(h, <=, wh + 1e-9);
            g_assert_true(fabs(w - ww) < 1e-6 || fabs(h - wh) < 1e-6);
            g_assert_cmpfloat(p.x0, >=, 0);
            g_assert_cmpfloat(p.y0, >=, 0);
            mimic_scale_place(MIMIC_SCALE_INTEGER, 640, 480, ww, wh, &p);
            g_assert_cmpfloat(640 * p.scale, <=, ww + 1e-9);
            g_assert_cmpfloat(480 * p.scale, <=, wh + 1e-9);
            if (p.scale >= 1) {
                g_assert_cmpfloat(p.scale, ==, floor(p.scale));
            }
        }
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/gui/scale/case-%zu", i);
        g_test_add_data_func(path, &cases[i], test_case);
    }
    g_test_add_func("/gui/scale/sweep", test_fit_sweep);
    return g_test_run();
}
