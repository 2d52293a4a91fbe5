/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the human monitor: the input is what a client
 * types (bytes through the line editor, with echo, as on a terminal);
 * each finished line runs through monitor_execute on a machine without a
 * board (fuzz-monitor.h), except lines that could name a command with
 * effects outside the process.  Checks: no crash, no sanitizer report,
 * the line editor's text and cursor stay in bounds.  Built with meson
 * -Dfuzz=true (clang); fuzz-replay.c replays tests/fuzz/corpus-hmp/ in
 * the normal build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "engine/lineedit.h"
#include "fuzz-monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384) {
        return 0;
    }
    MimicMachine *m = fuzz_machine();
    LineEdit *le = lineedit_new("(mimic) ");
    GString *echo = g_string_new(NULL);
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < size; i++) {
        const char *line = lineedit_feed(le, data[i], echo);
        if (strlen(lineedit_text(le)) >= LINEEDIT_MAX ||
            lineedit_cursor(le) < 0 ||
            (size_t)lineedit_cursor(le) > strlen(lineedit_text(le))) {
            abort();
        }
        if (echo->len > 65536) {
            g_string_truncate(echo, 0);
        }
        if (!line || fuzz_unsafe((const uint8_t *)line, strlen(line))) {
            continue;
        }
        g_string_truncate(out, 0);
        monitor_execute(m, line, out);
    }
    g_string_free(out, TRUE);
    g_string_free(echo, TRUE);
    lineedit_free(le);
    return 0;
}
