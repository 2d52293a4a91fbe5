/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for QMP as a socket client drives it: the input is
 * the byte stream (split in two writes at a point the first byte picks,
 * so that message framing across reads is exercised) fed to qmp_input on
 * a machine without a board (fuzz-monitor.h).  Inputs that could name a
 * command with effects outside the process are skipped.  Checks: no
 * crash, no sanitizer report, and every line QMP sends back is one JSON
 * object (what a client parses).  Built with meson -Dfuzz=true (clang);
 * fuzz-replay.c replays tests/fuzz/corpus-qmp/ in the normal build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "engine/json.h"
#include "engine/qmp.h"
#include "fuzz-monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536 || fuzz_unsafe(data, size)) {
        return 0;
    }
    MimicMachine *m = fuzz_machine();
    GString *capture = g_string_new(NULL);
    Qmp *q = qmp_new(m, NULL, capture);
    size_t cut = size > 1 ? data[0] % size : 0;
    qmp_input(q, data + 1, cut > 0 ? cut - 1 : 0);
    qmp_input(q, data + MAX(cut, 1), size - MAX(cut, 1));
    qmp_free(q);
    /* Every reply and event is one JSON object on its own line. */
    gchar **lines = g_strsplit(capture->str, "\r\n", -1);
    for (int i = 0; lines[i]; i++) {
        if (!*lines[i]) {
            continue;
        }
        JsonValue *v = json_parse(lines[i], strlen(lines[i]), NULL);
        if (!v || v->type != JSON_OBJECT) {
            abort();
        }
        json_free(v);
    }
    g_strfreev(lines);
    g_string_free(capture, TRUE);
    return 0;
}
