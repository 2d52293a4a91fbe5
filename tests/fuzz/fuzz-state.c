/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the state-file loader (issue 15, item 12): the
 * input is a state file, loaded into a fresh pc machine (8 MiB, -icount 3,
 * no disks, no NIC) as -incoming or Resume would load it.  Every input is
 * refused with a message or loaded; a refused one must leave the machine
 * as it was (its state saved again is byte for byte the same).
 *
 * Seeds: a state of this very machine, written by the harness itself
 * when MIMIC_FUZZ_STATE_SEED names a file (scripts/fuzz.sh does this
 * first, so that the fuzzer starts past the configuration check whatever
 * the host's firmware build), and the files of tests/fuzz/corpus-state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../hw/pc-rig.h"
#include "engine/savevm.h"

static void configure(MachineConfig *cfg)
{
    cfg->ram_size = 8 << 20;
    cfg->icount_shift = 3;
    cfg->net_none = true;
    for (int i = 0; i < cfg->n_serial; i++) {
        g_free(cfg->serial[i]);
        cfg->serial[i] = g_strdup("null");
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *seed = g_getenv("MIMIC_FUZZ_STATE_SEED");
    if (seed) {
        MimicMachine *m = rig_new(configure);
        GByteArray *st = machine_state_save(m, false, NULL);
        g_assert_nonnull(st);
        g_assert_true(g_file_set_contents(seed, (const char *)st->data,
                                          (gssize)st->len, NULL));
        g_byte_array_unref(st);
        mimic_machine_free(m);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MimicMachine *m = rig_new(configure);
    GByteArray *before = machine_state_save(m, false, NULL);
    GError *err = NULL;
    if (!machine_state_load(m, data, size, STATE_LOAD_CHECK_DISKS, &err)) {
        g_assert(err && err->message[0]);
        g_clear_error(&err);
        GByteArray *after = machine_state_save(m, false, NULL);
        if (before->len != after->len ||
            memcmp(before->data, after->data, before->len)) {
            /* The time of saving is in the file: compare all but it? The
               loader restores the clock too, so the saves are equal. */
            g_error("a refused state changed the machine");
        }
        g_byte_array_unref(after);
    }
    g_byte_array_unref(before);
    mimic_machine_free(m);
    return 0;
}
