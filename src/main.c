/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mimic: the program.  Parses QEMU-style options into a MachineConfig,
 * then either hands over to the GTK front end or runs the machine
 * headless (-nographic, -display none, or no display reachable), waiting
 * on a GLib main loop until the machine stops.
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <glib-unix.h>

#include "mimic-config.h"
#include "engine/mimic.h"
#ifdef HAVE_GUI
#include "gui/gui.h"
#endif

typedef struct Headless {
    GMainLoop *loop;
    MimicMachine *m;
} Headless;

static void on_event(MimicMachine *m, const MimicEvent *ev, gpointer data)
{
    Headless *h = data;
    if (ev->kind == MIMIC_EVENT_SHUTDOWN) {
        g_main_loop_quit(h->loop);
    }
}

static gboolean on_signal(gpointer data)
{
    Headless *h = data;
    mimic_machine_quit(h->m);
    return G_SOURCE_CONTINUE;
}

static int run_headless(MachineConfig *cfg)
{
    GError *err = NULL;
    Headless h = { 0 };
    h.m = mimic_machine_new(cfg, &err);
    if (!h.m) {
        fprintf(stderr, "mimic: %s\n", err->message);
        g_error_free(err);
        return 1;
    }
    h.loop = g_main_loop_new(NULL, FALSE);
    mimic_machine_set_event_handler(h.m, on_event, &h, NULL);
    g_unix_signal_add(SIGINT, on_signal, &h);
    g_unix_signal_add(SIGTERM, on_signal, &h);
    g_unix_signal_add(SIGHUP, on_signal, &h);
    if (!mimic_machine_start(h.m, &err)) {
        fprintf(stderr, "mimic: %s\n", err->message);
        g_error_free(err);
        mimic_machine_free(h.m);
        return 1;
    }
    g_main_loop_run(h.loop);
    int status = mimic_machine_wait(h.m);
    mimic_machine_free(h.m);
    g_main_loop_unref(h.loop);
    return status;
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    /* A monitor, QMP or serial client (socket, pipe, terminal) that goes
       away is an EPIPE for the character device to handle, never a reason
       to die (QEMU ignores SIGPIPE too). */
    signal(SIGPIPE, SIG_IGN);
    MachineConfig cfg;
    machine_config_init(&cfg);
    GString *out = g_string_new(NULL);
    GError *err = NULL;
    MimicParseResult res = MIMIC_PARSE_OK;
    if (!mimic_parse_args(argc, argv, &cfg, &res, out, &err)) {
        fputs(out->str, stdout);
        fprintf(stderr, "mimic: %s\n", err->message);
        g_error_free(err);
        machine_config_clear(&cfg);
        g_string_free(out, TRUE);
        return 1;
    }
    fputs(out->str, stdout);
    g_string_free(out, TRUE);
    if (res == MIMIC_PARSE_EXIT) {
        machine_config_clear(&cfg);
        return 0;
    }
    int status;
#ifdef HAVE_GUI
    if (cfg.display == DISPLAY_GTK ||
        (cfg.display == DISPLAY_DEFAULT && mimic_gui_available())) {
        /* No arguments at all: the machine library; else that machine. */
        status = mimic_gui_main(argc, argv, argc > 1 ? &cfg : NULL);
        machine_config_clear(&cfg);
        return status;
    }
#endif
    if (cfg.display == DISPLAY_GTK) {
        fprintf(stderr, "mimic: -display gtk: this build has no GUI\n");
        machine_config_clear(&cfg);
        return 1;
    }
    status = run_headless(&cfg);
    machine_config_clear(&cfg);
    return status;
}
