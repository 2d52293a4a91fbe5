/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the GUI's machine-file parser (src/gui/
 * machine_file.c has no GTK in it): the input is a machine file.  Checks:
 * no crash, no sanitizer report, and a file that parses writes out as
 * text that parses again and writes out the same (what the GUI saves it
 * can load).  The shell command line for the machine is built too.
 * Built with meson -Dfuzz=true (clang); fuzz-replay.c replays
 * tests/fuzz/corpus-machine-file/ in the normal build.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "gui/machine_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) {
        return 0;
    }
    MimicMachineFile *mf = mimic_machine_file_from_data((const char *)data,
                                                        size, NULL);
    if (!mf) {
        return 0;
    }
    gsize len1, len2;
    g_autofree char *text1 = mimic_machine_file_to_data(mf, &len1);
    g_autofree char *cmd = mimic_machine_file_command_line(mf);
    GError *err = NULL;
    MimicMachineFile *again = mimic_machine_file_from_data(text1, len1, &err);
    if (!again) {
        fprintf(stderr, "saved file does not load: %s\n---\n%s---\n",
                err->message, text1);
        abort();
    }
    g_autofree char *text2 = mimic_machine_file_to_data(again, &len2);
    if (len1 != len2 || memcmp(text1, text2, len1)) {
        fprintf(stderr, "not a fixed point:\n---\n%s---\n%s---\n", text1,
                text2);
        abort();
    }
    mimic_machine_file_free(again);
    mimic_machine_file_free(mf);
    return 0;
}
