/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine state file's format (docs/state-format.md): header,
 * checksummed sections, the end marker, RAM block records (zstd frames or
 * stored pages, encoded and decoded on up to four threads), the form of
 * text sections, and writing a file atomically.  A serializer only: which
 * sections a machine has, and what their payloads mean, is the engine's
 * (src/engine/savevm.c).
 */
#ifndef MIMIC_STATE_STATEFILE_H
#define MIMIC_STATE_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "state/state.h"

#define STATE_FILE_MAGIC "\x89MIMIC\r\n"
#define STATE_FILE_VERSION 1
/* ram/ sections: version 3 holds zstd frames, and a record whose length
   is its pages' size holds them as they are (1 and 2, zlib, are
   refused). */
#define STATE_RAM_VERSION 3

/* Little-endian integers. */
void state_put_u16(GByteArray *b, uint16_t v);
void state_put_u32(GByteArray *b, uint32_t v);
void state_put_u64(GByteArray *b, uint64_t v);
uint16_t state_get_u16(const uint8_t *p);
uint32_t state_get_u32(const uint8_t *p);
uint64_t state_get_u64(const uint8_t *p);

/* ---- writing ---- */

/* The 16-byte header. */
void state_file_begin(GByteArray *f);
/* One section with its framing and checksum. */
void state_section_add(GByteArray *f, const char *name, uint32_t version,
                       const uint8_t *data, size_t len);
/* The "end" section, after nsect others. */
void state_file_finish(GByteArray *f, unsigned nsect);

/* A RAM block: section "ram/NAME". */
typedef struct StateRamBlock {
    const char *name;
    uint8_t *host;
    uint64_t size;  /* a multiple of 4 KiB */
    bool anonymous; /* a private anonymous mapping (zero gaps dropped) */
} StateRamBlock;

void state_ram_save(GByteArray *f, const StateRamBlock *rb);

/* Write data to path through a temporary file, fsync and rename. */
bool state_file_write_atomic(const char *path, const void *data, size_t len,
                             GError **error);

/* ---- reading ---- */

typedef struct StateSection {
    char name[256];
    uint32_t version;
    const uint8_t *data; /* borrowed from the file's buffer */
    uint64_t len;
    bool used;
} StateSection;

/* Walk the file: header, every section's framing and checksum, the end
   marker (its version, count, offset), nothing after it, no section
   twice.  Fills secs (StateSection, borrowing buf). */
bool state_file_parse(const uint8_t *buf, size_t len, GArray *secs,
                      GError **error);
StateSection *state_section_find(GArray *secs, const char *name);
/* A text section: printable lines "key=value", each ended by a newline,
   nothing after the last. */
bool state_text_check(const StateSection *s, GError **error);

/* STATE_ERROR_INVALID with a message; returns false. */
bool state_invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* STATE_ERROR_VERSION: section name has version, this Mimic reads want. */
bool state_bad_version(GError **error, const char *name, uint32_t version,
                       uint32_t want);

/* Loading RAM: check every block's records (the blocks are not touched),
   optionally decode every zstd frame into scratch memory, then commit.
   After state_ram_decode() the commit cannot fail; without it, frames are
   decoded straight into the blocks (faster, less memory), and one that
   does not decode fails the commit with the blocks half written: only for
   a machine that is discarded when its load fails. */
typedef struct StateRamLoad StateRamLoad;
StateRamLoad *state_ram_load_new(void);
bool state_ram_check(StateRamLoad *l, const StateRamBlock *rb,
                     const StateSection *s, GError **error);
bool state_ram_decode(StateRamLoad *l, GError **error);
bool state_ram_commit(StateRamLoad *l, GError **error);
void state_ram_load_free(StateRamLoad *l);

#endif
