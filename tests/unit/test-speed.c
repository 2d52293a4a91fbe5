/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mimic_machine_get_speed(): a real pc (SeaBIOS, the x86 core) reports a
 * speed once it has run for its measuring period, none while paused, and
 * a new one after resuming.  mimic_machine_get_nic_traffic(): the default
 * e1000 is card 0, and with nothing else to boot SeaBIOS runs its iPXE
 * ROM, whose DHCP requests show as bytes sent.  Waits poll with a generous
 * deadline; no figure depends on how fast the host is, only that the
 * guest ran.
 */
#include <glib.h>

#include "engine/mimic.h"

#define DEADLINE_US (120 * G_USEC_PER_SEC)

static bool wait_speed(MimicMachine *m, MimicSpeed *sp)
{
    gint64 end = g_get_monotonic_time() + DEADLINE_US;
    while (g_get_monotonic_time() < end) {
        if (mimic_machine_get_speed(m, sp)) {
            return true;
        }
        g_usleep(20000);
    }
    return false;
}

static void wait_state(MimicMachine *m, MimicRunState want)
{
    gint64 end = g_get_monotonic_time() + DEADLINE_US;
    while (mimic_machine_get_state(m) != want) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(10000);
    }
}

static void test_speed(gconstpointer icount)
{
    MachineConfig cfg;
    machine_config_init(&cfg);
    cfg.display = DISPLAY_NONE;
    if (icount) {
        cfg.icount_shift = 0;
    }
    g_autoptr(GError) err = NULL;
    MimicMachine *m = mimic_machine_new(&cfg, &err);
    g_assert_no_error(err);
    MimicSpeed sp;
    g_assert_false(mimic_machine_get_speed(m, &sp)); /* not started */
    g_assert_true(mimic_machine_start(m, &err));
    g_assert_true(wait_speed(m, &sp));
    g_test_message("%s: %" G_GUINT64_FORMAT " instructions/s, %u%% of "
                   "real time", icount ? "icount" : "real time",
                   sp.insns_per_sec, sp.realtime_percent);
    /* SeaBIOS is running (or has halted waiting for a boot device). */
    g_assert_cmpuint(sp.insns_per_sec, >, 0);
    if (!icount) {
        /* Guest time is host time while running (loosely: the worker may
           be descheduled on a loaded machine; tests never fail on
           timing). */
        g_assert_cmpuint(sp.realtime_percent, >, 0);
        g_assert_cmpuint(sp.realtime_percent, <=, 1000);
    }
    /* With -icount the percentage is the host's speed (1 ns of guest time
       per instruction at shift 0): a slow sanitizer build rounds it to 0,
       so nothing is asserted about it. */
    const char *name;
    guint64 rx, tx;
    g_assert_true(mimic_machine_get_nic_traffic(m, 0, &name, &rx, &tx));
    g_assert_cmpstr(name, ==, "e1000.0");
    g_assert_false(mimic_machine_get_nic_traffic(m, 1, &name, &rx, &tx));
    if (!icount) {
        gint64 end = g_get_monotonic_time() + DEADLINE_US;
        while (mimic_machine_get_nic_traffic(m, 0, &name, &rx, &tx) &&
               tx == 0 && g_get_monotonic_time() < end) {
            g_usleep(50000);
        }
        g_test_message("e1000.0: %" G_GUINT64_FORMAT " bytes in, %"
                       G_GUINT64_FORMAT " out", rx, tx);
        g_assert_cmpuint(tx, >, 0);
    }
    mimic_machine_pause(m);
    wait_state(m, MIMIC_STATE_PAUSED);
    g_assert_false(mimic_machine_get_speed(m, &sp));
    mimic_machine_resume(m);
    wait_state(m, MIMIC_STATE_RUNNING);
    g_assert_true(wait_speed(m, &sp));
    mimic_machine_quit(m);
    g_assert_cmpint(mimic_machine_wait(m), ==, 0);
    g_assert_false(mimic_machine_get_speed(m, &sp));
    mimic_machine_free(m);
    machine_config_clear(&cfg);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/engine/speed/realtime", NULL, test_speed);
    g_test_add_data_func("/engine/speed/icount", (gpointer)1, test_speed);
    return g_test_run();
}
