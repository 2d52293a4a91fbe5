/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PS/2 keyboard behind the i8042: scan code sets 1, 2 and 3, the
 * controller's set 2 to set 1 translation, the keyboard commands, and
 * typematic repeat driven by the (deterministic) machine clock.
 */
#include "i8042-rig.h"
#include "state/state.h"

#define MS 1000000LL

static void kbd(Rig *r, uint8_t v)
{
    rig_data(r, v);
}

static void set_xlate(Rig *r, bool on)
{
    rig_cmd(r, 0x60);
    rig_data(r, on ? 0x47 : 0x07);
}

static void key(Rig *r, unsigned code, bool down)
{
    i8042_key(r->kbc, code, down);
}

static void test_set2_raw(void)
{
    Rig *r = rig_new();
    set_xlate(r, false);
    key(r, 30, true);               /* a */
    key(r, 30, false);
    rig_expect(r, 0x1c, 0xf0, 0x1c);
    key(r, 103, true);              /* up */
    key(r, 103, false);
    rig_expect(r, 0xe0, 0x75, 0xe0, 0xf0, 0x75);
    key(r, 65, true);               /* F7, the one make code above 0x7f */
    rig_expect(r, 0x83);
    key(r, 1, true);                /* esc */
    rig_expect(r, 0x76);
    key(r, 97, true);               /* right ctrl */
    rig_expect(r, 0xe0, 0x14);
    key(r, 119, true);              /* pause: no break code */
    key(r, 119, false);
    rig_expect(r, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
    key(r, 99, true);               /* print screen */
    key(r, 99, false);
    rig_expect(r, 0xe0, 0x12, 0xe0, 0x7c, 0xe0, 0xf0, 0x7c, 0xe0, 0xf0,
               0x12);
    /* Identify and get-set answer untranslated. */
    kbd(r, 0xf2);
    rig_expect(r, 0xfa, 0xab, 0x83);
    kbd(r, 0xf0);
    kbd(r, 0x00);
    rig_expect(r, 0xfa, 0xfa, 0x02);
    rig_free(r);
}

static void test_set2_translated(void)
{
    Rig *r = rig_new(); /* translation is on after reset */
    key(r, 30, true);
    key(r, 30, false);
    rig_expect(r, 0x1e, 0x9e);
    key(r, 103, true);
    key(r, 103, false);
    rig_expect(r, 0xe0, 0x48, 0xe0, 0xc8);
    key(r, 65, true);
    rig_expect(r, 0x41);
    key(r, 119, true);
    rig_expect(r, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
    key(r, 99, true);
    key(r, 99, false);
    rig_expect(r, 0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa);
    /* Replies go through the translation too, as on real controllers. */
    kbd(r, 0xf2);
    rig_expect(r, 0xfa, 0xab, 0x41);
    kbd(r, 0xf0);
    kbd(r, 0x00);
    rig_expect(r, 0xfa, 0xfa, 0x41);
    rig_free(r);
}

/* Every key: set 2 through the translation equals set 1 untranslated. */
static void test_translation_matches_set1(void)
{
    Rig *r = rig_new();
    int keys = 0;
    for (unsigned code = 1; code < 256; code++) {
        uint8_t t[32], s1[32];
        int nt, n1;
        set_xlate(r, true);
        kbd(r, 0xf0);
        kbd(r, 2);
        rig_drain(r, t, sizeof(t));
        key(r, code, true);
        key(r, code, false);
        nt = rig_drain(r, t, sizeof(t));
        set_xlate(r, false);
        kbd(r, 0xf0);
        kbd(r, 1);
        rig_drain(r, s1, sizeof(s1));
        key(r, code, true);
        key(r, code, false);
        n1 = rig_drain(r, s1, sizeof(s1));
        g_assert_cmpmem(t, nt, s1, n1);
        if (n1) {
            keys++;
            /* A set 1 break code has bit 7 (after any 0xe0/0xe1). */
            g_assert_cmphex(s1[n1 - 1] & 0x80, ==, 0x80);
        }
    }
    g_assert_cmpint(keys, >=, 100);
    rig_free(r);
}

static void test_set3_and_set1(void)
{
    Rig *r = rig_new();
    set_xlate(r, false);
    kbd(r, 0xf0);
    kbd(r, 3);
    rig_expect(r, 0xfa, 0xfa);
    kbd(r, 0xf0);
    kbd(r, 0);
    rig_expect(r, 0xfa, 0xfa, 0x03);
    key(r, 30, true);
    key(r, 30, false);
    rig_expect(r, 0x1c, 0xf0, 0x1c);
    key(r, 1, true);                /* esc */
    key(r, 103, true);              /* up: no 0xe0 in set 3 */
    key(r, 59, true);               /* F1 */
    key(r, 97, true);               /* right ctrl */
    rig_expect(r, 0x08, 0x63, 0x07, 0x58);
    kbd(r, 0xf0);
    kbd(r, 1);
    rig_expect(r, 0xfa, 0xfa);
    key(r, 30, true);
    key(r, 103, false);
    rig_expect(r, 0x1e, 0xe0, 0xc8);
    /* A set that does not exist: resend, the set stays. */
    kbd(r, 0xf0);
    kbd(r, 4);
    rig_expect(r, 0xfa, 0xfe);
    kbd(r, 0xf0);
    kbd(r, 0);
    rig_expect(r, 0xfa, 0xfa, 0x01);
    /* Reset brings back set 2. */
    kbd(r, 0xff);
    rig_expect(r, 0xfa, 0xaa);
    key(r, 30, true);
    rig_expect(r, 0x1c);
    rig_free(r);
}

static void test_commands(void)
{
    Rig *r = rig_new();
    kbd(r, 0xed);
    kbd(r, 0x05);
    rig_expect(r, 0xfa, 0xfa);
    g_assert_cmpuint(r->kbc->leds, ==, 5);
    kbd(r, 0xee);
    rig_expect(r, 0xee);
    /* 0xf5: defaults and no scanning; 0xf4 scans again. */
    kbd(r, 0xf5);
    rig_expect(r, 0xfa);
    g_assert_cmpuint(r->kbc->leds, ==, 0);
    key(r, 30, true);
    rig_expect_none(r);
    kbd(r, 0xf4);
    rig_expect(r, 0xfa);
    key(r, 30, true);
    rig_expect(r, 0x1e);
    /* 0xf6: defaults, still scanning. */
    kbd(r, 0xf0);
    kbd(r, 3);
    kbd(r, 0xf3);
    kbd(r, 0x7f);
    rig_expect(r, 0xfa, 0xfa, 0xfa, 0xfa);
    kbd(r, 0xf6);
    rig_expect(r, 0xfa);
    g_assert_cmpuint(r->kbc->scancode_set, ==, 2);
    g_assert_cmphex(r->kbc->typematic, ==, 0x2b);
    key(r, 30, true);
    rig_expect(r, 0x1e);
    kbd(r, 0x01);                   /* not a command */
    rig_expect(r, 0xfe);
    /* Keyboard interrupt follows command byte bit 0. */
    key(r, 31, true);
    g_assert_true(r->level[1]);
    rig_expect(r, 0x1f);
    rig_cmd(r, 0x60);
    rig_data(r, 0x46);
    key(r, 31, false);
    g_assert_false(r->level[1]);
    rig_expect(r, 0x9f);
    rig_free(r);
}

static void test_typematic_timing(void)
{
    /* The data sheet's extremes and the default. */
    g_assert_cmpint(i8042_typematic_period_ns(0x00), ==, 33333333);
    g_assert_cmpint(i8042_typematic_period_ns(0x1f), ==, 500 * MS);
    g_assert_cmpint(i8042_typematic_period_ns(0x0b), ==, 91666666);
    g_assert_cmpint(i8042_typematic_delay_ns(0x00), ==, 250 * MS);
    g_assert_cmpint(i8042_typematic_delay_ns(0x2b), ==, 500 * MS);
    g_assert_cmpint(i8042_typematic_delay_ns(0x60), ==, 1000 * MS);
}

static void test_typematic_repeat(void)
{
    Rig *r = rig_new();
    /* Default: 500 ms, then every 91.7 ms. */
    key(r, 30, true);
    rig_expect(r, 0x1e);
    rig_advance(r, 499 * MS);
    rig_expect_none(r);
    rig_advance(r, 1 * MS);
    rig_expect(r, 0x1e);
    rig_advance(r, 91 * MS);
    rig_expect_none(r);
    rig_advance(r, 1 * MS);
    rig_expect(r, 0x1e);
    /* Another key takes over the repeat; releasing the first does not
       stop it. */
    key(r, 31, true);
    key(r, 30, false);
    rig_expect(r, 0x1f, 0x9e);
    rig_advance(r, 500 * MS);
    rig_expect(r, 0x1f);
    key(r, 31, false);
    rig_expect(r, 0x9f);
    rig_advance(r, 2000 * MS);
    rig_expect_none(r);
    /* 0xf3 0x00: 250 ms, then 30 per second; ten repeats in 550 ms. */
    kbd(r, 0xf3);
    kbd(r, 0x00);
    rig_expect(r, 0xfa, 0xfa);
    key(r, 103, true);
    rig_expect(r, 0xe0, 0x48);
    rig_advance(r, 250 * MS + 9 * 33333333 + 1);
    uint8_t b[64];
    g_assert_cmpint(rig_drain(r, b, sizeof(b)), ==, 20);
    for (int i = 0; i < 20; i += 2) {
        g_assert_cmphex(b[i], ==, 0xe0);
        g_assert_cmphex(b[i + 1], ==, 0x48);
    }
    key(r, 103, false);
    rig_expect(r, 0xe0, 0xc8);
    /* A late host (one jump of time, the timers run once) sees the same
       repeats: the cadence follows the deadlines. */
    kbd(r, 0xf3);
    kbd(r, 0x2b);
    rig_expect(r, 0xfa, 0xfa);
    key(r, 30, true);
    clock_warp_to(r->bus.clock, clock_now(r->bus.clock) + 999 * MS);
    clock_run_timers(r->bus.clock);
    g_assert_cmpint(rig_drain(r, b, sizeof(b)), ==, 7); /* 1 + 6 */
    key(r, 103, true);
    rig_expect(r, 0xe0, 0x48);
    /* Disabling the keyboard stops the repeat. */
    kbd(r, 0xf5);
    rig_expect(r, 0xfa);
    rig_advance(r, 1000 * MS);
    rig_expect_none(r);
    g_assert_cmpint(clock_next_deadline(r->bus.clock), ==, CLOCK_NEVER);
    rig_free(r);
}

static void test_typematic_state(void)
{
    Rig *r = rig_new();
    kbd(r, 0xf3);
    kbd(r, 0x20);                   /* 500 ms, 30/s */
    rig_expect(r, 0xfa, 0xfa);
    key(r, 30, true);
    rig_expect(r, 0x1e);
    rig_advance(r, 300 * MS);
    const StateDesc *st = i8042_info.state;
    g_assert_cmpint(st->version, >=, 2);
    GByteArray *a = g_byte_array_new();
    state_save(st, r->kbc, a);
    Rig *r2 = rig_new();
    clock_set_now(r2->bus.clock, clock_now(r->bus.clock));
    GError *err = NULL;
    g_assert_true(state_load(st, r2->kbc, st->version, a->data, a->len,
                             NULL, &err));
    g_assert_no_error(err);
    rig_advance(r2, 199 * MS);
    rig_expect_none(r2);
    rig_advance(r2, 1 * MS);
    rig_expect(r2, 0x1e);
    /* A version-1 section (no typematic fields) still loads. */
    size_t v1 = state_size(st, 1);
    g_assert_cmpuint(v1, <, a->len);
    Rig *r3 = rig_new();
    g_assert_true(state_load(st, r3->kbc, 1, a->data, v1, NULL, &err));
    g_assert_no_error(err);
    /* A bad scan code set is refused. */
    r->kbc->scancode_set = 9;
    g_byte_array_set_size(a, 0);
    state_save(st, r->kbc, a);
    g_assert_false(state_load(st, r3->kbc, st->version, a->data, a->len,
                              NULL, &err));
    g_clear_error(&err);
    g_byte_array_free(a, TRUE);
    rig_free(r);
    rig_free(r2);
    rig_free(r3);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/ps2kbd/set2-raw", test_set2_raw);
    g_test_add_func("/hw/ps2kbd/set2-translated", test_set2_translated);
    g_test_add_func("/hw/ps2kbd/translation-matches-set1",
                    test_translation_matches_set1);
    g_test_add_func("/hw/ps2kbd/set3-and-set1", test_set3_and_set1);
    g_test_add_func("/hw/ps2kbd/commands", test_commands);
    g_test_add_func("/hw/ps2kbd/typematic-timing", test_typematic_timing);
    g_test_add_func("/hw/ps2kbd/typematic-repeat", test_typematic_repeat);
    g_test_add_func("/hw/ps2kbd/typematic-state", test_typematic_state);
    return g_test_run();
}
