/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Saving and resuming whole machines (docs/state-format.md).
 *
 * machine_state_save() serializes a stopped machine into the state file
 * format; machine_state_load() parses and validates a whole file before
 * it touches the machine, then restores it.  On top of these: migrate and
 * -incoming (file: and exec: URIs), and savevm/loadvm/delvm with the VM
 * state stored in a qcow2 internal snapshot.  Everything runs on the
 * machine's worker thread (or before it starts).
 */
#ifndef MIMIC_ENGINE_SAVEVM_H
#define MIMIC_ENGINE_SAVEVM_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "engine/machine.h"
#include "state/statefile.h"

#define MIMIC_STATE_MAGIC STATE_FILE_MAGIC
#define MIMIC_STATE_FORMAT_VERSION STATE_FILE_VERSION

typedef enum {
    STATE_LOAD_CHECK_DISKS = 1, /* compare the disks' fingerprints */
    STATE_LOAD_FORCE = 2,       /* ... but only warn when they differ */
    /* The caller discards the machine when the load fails (-incoming,
       -loadvm): RAM is decoded in place, without scratch memory or a way
       back.  Without it a refused load leaves the machine as it was. */
    STATE_LOAD_DISCARD_ON_FAILURE = 4,
} StateLoadFlags;

/* The machine must not be running.  with_disks: record the disks'
   fingerprints (flushing them first). */
GByteArray *machine_state_save(MimicMachine *m, bool with_disks,
                               GError **error);
bool machine_state_load(MimicMachine *m, const uint8_t *buf, size_t len,
                        unsigned flags, GError **error);

/* state_file_write_atomic() with the engine's MIMIC_ERROR_IO. */
bool state_write_file_atomic(const char *path, const void *data, size_t len,
                             GError **error);

/* "file:PATH" or "exec:COMMAND" (QEMU's migration URIs). */
bool machine_migrate(MimicMachine *m, const char *uri, GError **error);
bool machine_incoming(MimicMachine *m, const char *uri, bool force,
                      GError **error);

/* Named snapshots in the qcow2 disks. */
bool machine_savevm(MimicMachine *m, const char *name, GError **error);
bool machine_loadvm(MimicMachine *m, const char *name, GError **error);
bool machine_delvm(MimicMachine *m, const char *name, GError **error);
void machine_info_snapshots(MimicMachine *m, GString *out);
/* The disks that hold internal snapshots (every qcow2 drive); -1 with an
 * error when a writable drive cannot, or none can. */
int machine_snapshot_disks(MimicMachine *m, BlockDev **out, GError **error);

#endif
