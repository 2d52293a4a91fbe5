/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the display surfaces and screendumps. */
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "bus/display.h"

static int updates;
static void on_update(void *o, int x, int y, int w, int h)
{
    updates++;
    g_assert_cmpint(x, ==, 10);
    g_assert_cmpint(w, ==, 5);
}
static const DisplayListener listener = { .update = on_update };

static void test_flush_and_dump(void)
{
    Display *d = display_new();
    display_resize(d, 32, 16);
    display_flush(d);
    display_add_listener(d, &listener, NULL);
    DisplaySurface *s = display_back(d);
    s->data[3 * 32 + 12] = 0x00ff8000;
    display_mark_dirty(d, 10, 3, 5, 1);
    display_flush(d);
    g_assert_cmpint(updates, ==, 1);
    display_flush(d); /* nothing dirty */
    g_assert_cmpint(updates, ==, 1);
    const DisplaySurface *f = display_lock(d);
    g_assert_cmphex(f->data[3 * 32 + 12], ==, 0x00ff8000);
    display_unlock(d);

    g_autofree char *dir = g_dir_make_tmp("mimic-disp-XXXXXX", NULL);
    g_autofree char *ppm = g_build_filename(dir, "s.ppm", NULL);
    g_autofree char *png = g_build_filename(dir, "s.png", NULL);
    g_assert_true(display_save(d, ppm, NULL));
    g_assert_true(display_save(d, png, NULL));
    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(ppm, &data, &len, NULL));
    g_assert_true(g_str_has_prefix(data, "P6\n32 16\n255\n"));
    size_t hdr = strlen("P6\n32 16\n255\n");
    g_assert_cmpuint(len, ==, hdr + 32 * 16 * 3);
    const uint8_t *px = (const uint8_t *)data + hdr + (3 * 32 + 12) * 3;
    g_assert_cmphex(px[0], ==, 0xff);
    g_assert_cmphex(px[1], ==, 0x80);
    g_free(data);
    g_assert_true(g_file_get_contents(png, &data, &len, NULL));
    g_assert_cmpmem(data, 4, "\x89PNG", 4);
    g_free(data);
    g_unlink(ppm);
    g_unlink(png);
    g_rmdir(dir);
    GError *err = NULL;
    g_assert_false(display_save(d, "/nonexistent-dir/x.ppm", &err));
    g_assert_nonnull(err);
    g_error_free(err);
    display_free(d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/display/flush-and-dump", test_flush_and_dump);
    return g_test_run();
}
