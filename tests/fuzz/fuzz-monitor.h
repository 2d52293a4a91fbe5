/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the monitor fuzz harnesses (fuzz-hmp.c, fuzz-qmp.c): a machine
 * without a board (as tests/unit/test-monitor.c builds it) and the filter
 * that keeps commands with effects outside the process (migrate exec:
 * runs a shell, screendump and savevm write files, change/eject open
 * files) away from the fuzzer.
 */
#ifndef MIMIC_TESTS_FUZZ_MONITOR_H
#define MIMIC_TESTS_FUZZ_MONITOR_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/machine.h"

static const BoardType fuzz_no_board = { .name = "none" };

static inline MimicMachine *fuzz_machine_new(void)
{
    static uint8_t ram[65536];
    MimicMachine *m = g_new0(MimicMachine, 1);
    m->mem = memmap_new();
    m->io = ioport_new();
    m->clock = clock_new(CLOCK_MODE_ICOUNT, 0);
    m->display = display_new();
    m->devices = device_list_new();
    m->board_info = &fuzz_no_board;
    g_mutex_init(&m->lock);
    g_cond_init(&m->cond);
    m->run_state = MIMIC_STATE_PAUSED;
    memcpy(ram + 0x100, "Mimic!\x01\x02", 8);
    memmap_add_ram(m->mem, "ram", 0, sizeof(ram), ram, 0);
    return m;
}

/* One machine for the whole run (building one costs more than most
   inputs): what a command may have changed is put back before each. */
static inline MimicMachine *fuzz_machine(void)
{
    static MimicMachine *m;
    if (!m) {
        m = fuzz_machine_new();
    }
    m->run_state = MIMIC_STATE_PAUSED;
    m->quit_requested = false;
    m->guest_request = false;
    m->icount_stop = 0;
    return m;
}

static inline void fuzz_machine_free(MimicMachine *m)
{
    device_list_free(m->devices);
    display_free(m->display);
    clock_free(m->clock);
    ioport_free(m->io);
    memmap_free(m->mem);
    g_mutex_clear(&m->lock);
    g_cond_clear(&m->cond);
    g_free(m);
}

/* Whether text might spell a command with outside effects.  An over-
   approximation: JSON \uXXXX escapes are decoded (ASCII), then every
   quote and backslash is dropped (shell quoting only glues pieces), and
   the names are searched anywhere. */
static inline bool fuzz_unsafe(const uint8_t *data, size_t size)
{
    static const char *const deny[] = {
        "migrate", "screendump", "savevm", "loadvm", "delvm", "change",
        "eject", "memsave", "pmemsave", "dump", "drive", "block", NULL
    };
    GString *s = g_string_sized_new(size);
    for (size_t i = 0; i < size; i++) {
        uint8_t c = data[i];
        if (c == '\\' && i + 5 < size && data[i + 1] == 'u') {
            char hex[5] = { data[i + 2], data[i + 3], data[i + 4],
                            data[i + 5], 0 };
            char *end;
            unsigned long cp = strtoul(hex, &end, 16);
            if (end == hex + 4) {
                if (cp > 0x20 && cp < 0x80 && cp != '\\' && cp != '"' &&
                    cp != '\'') {
                    g_string_append_c(s, (char)cp);
                }
                i += 5;
                continue;
            }
        }
        if (c == '\\' && i + 1 < size && strchr("nrtbf", data[i + 1])) {
            i++; /* a JSON escape of white space: dropped, as below */
            continue;
        }
        /* Quotes, backslashes and white space dropped: gluing more
           together only finds more. */
        if (c <= 0x20 || c == '\\' || c == '"' || c == '\'') {
            continue;
        }
        g_string_append_c(s, (char)c);
    }
    bool bad = false;
    for (int k = 0; deny[k] && !bad; k++) {
        bad = strstr(s->str, deny[k]) != NULL;
    }
    g_string_free(s, TRUE);
    return bad;
}

#endif
