/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Declarative device state.
 *
 * Each device describes its saved fields once, in a table next to its state
 * struct: name, offset, type, element count and the first section version
 * that has the field.  state_save() writes the fields in table order as
 * little-endian integers; state_load() reads them back for a given section
 * version and then calls post_load, which validates everything (a state
 * file is untrusted input).  The serializer knows field tables, nothing of
 * the engine.
 */
#ifndef MIMIC_STATE_STATE_H
#define MIMIC_STATE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define STATE_ERROR (state_error_quark())
GQuark state_error_quark(void);
typedef enum {
    STATE_ERROR_TRUNCATED,
    STATE_ERROR_INVALID,
    STATE_ERROR_VERSION,
    STATE_ERROR_IO,         /* reading or writing a state file */
} StateError;

typedef enum {
    STATE_T_END = 0,
    STATE_T_U8,
    STATE_T_U16,
    STATE_T_U32,
    STATE_T_U64,
    STATE_T_BOOL,   /* stored as one byte, must be 0 or 1 */
    STATE_T_BYTES,  /* count raw bytes */
    STATE_T_STRUCT, /* count elements of sub-table, stride elem_size */
    STATE_T_BUFFER, /* a uint8_t * to count raw bytes (large device memory) */
} StateType;

typedef struct StateField {
    const char *name;
    size_t offset;
    StateType type;
    uint32_t count;     /* array elements (1 for scalars), bytes for BYTES */
    size_t elem_size;   /* STRUCT stride */
    const struct StateField *sub;
    int version;        /* first version that has the field */
    int until;          /* last version that has it (0: every later one) */
} StateField;

typedef struct StateDesc {
    const char *name;
    int version;             /* current version, written by state_save */
    int min_version;         /* oldest version state_load accepts */
    const StateField *fields;
    int (*pre_save)(void *obj);
    /* Before the fields are read: give the fields an older version lacks
       their defaults (they keep whatever the last save left otherwise). */
    void (*pre_load)(void *obj);
    /* Validate and recompute derived state; false + error rejects. */
    bool (*post_load)(void *obj, GError **error);
} StateDesc;

/* The oldest version a table reads: min_version, or only its own version
   when it does not say (a version 0 never exists). */
static inline int state_min_version(const StateDesc *desc)
{
    return desc->min_version > 0 ? desc->min_version : desc->version;
}

/* Each field macro takes optional extra designated initializers, such as
 * STATE_V(2) for a field that versions before 2 lack, or STATE_UNTIL(2)
 * for one that later versions dropped:
 *     STATE_U8(X86Cpu, st.ferr, STATE_V(2)) */
#define STATE_SCALAR_(st, f, t, n, ...) \
    { .name = #f, .offset = offsetof(st, f), .type = (t), .count = (n), \
      __VA_ARGS__ }
#define STATE_U8(st, f, ...) STATE_SCALAR_(st, f, STATE_T_U8, 1, __VA_ARGS__)
#define STATE_U16(st, f, ...) \
    STATE_SCALAR_(st, f, STATE_T_U16, 1, __VA_ARGS__)
#define STATE_U32(st, f, ...) \
    STATE_SCALAR_(st, f, STATE_T_U32, 1, __VA_ARGS__)
#define STATE_U64(st, f, ...) \
    STATE_SCALAR_(st, f, STATE_T_U64, 1, __VA_ARGS__)
#define STATE_I32(st, f, ...) \
    STATE_SCALAR_(st, f, STATE_T_U32, 1, __VA_ARGS__)
#define STATE_I64(st, f, ...) \
    STATE_SCALAR_(st, f, STATE_T_U64, 1, __VA_ARGS__)
#define STATE_BOOL(st, f, ...) \
    STATE_SCALAR_(st, f, STATE_T_BOOL, 1, __VA_ARGS__)
#define STATE_U8_ARRAY(st, f, n, ...) \
    STATE_SCALAR_(st, f, STATE_T_U8, n, __VA_ARGS__)
#define STATE_U16_ARRAY(st, f, n, ...) \
    STATE_SCALAR_(st, f, STATE_T_U16, n, __VA_ARGS__)
#define STATE_U32_ARRAY(st, f, n, ...) \
    STATE_SCALAR_(st, f, STATE_T_U32, n, __VA_ARGS__)
#define STATE_U64_ARRAY(st, f, n, ...) \
    STATE_SCALAR_(st, f, STATE_T_U64, n, __VA_ARGS__)
#define STATE_BYTES(st, f, n, ...) \
    STATE_SCALAR_(st, f, STATE_T_BYTES, n, __VA_ARGS__)
/* The field is a pointer to n bytes the device allocated (VRAM). */
#define STATE_BUFFER(st, f, n, ...) \
    STATE_SCALAR_(st, f, STATE_T_BUFFER, n, __VA_ARGS__)
#define STATE_STRUCT_ARRAY(st, f, n, subfields, ...)                    \
    { .name = #f, .offset = offsetof(st, f), .type = STATE_T_STRUCT,     \
      .count = (n), .elem_size = sizeof(((st *)0)->f[0]),               \
      .sub = (subfields), __VA_ARGS__ }
#define STATE_STRUCT(st, f, subfields, ...)                             \
    { .name = #f, .offset = offsetof(st, f), .type = STATE_T_STRUCT,     \
      .count = 1, .elem_size = sizeof(((st *)0)->f), .sub = (subfields), \
      __VA_ARGS__ }
/* Field present from version v on (an extra argument of a field macro). */
#define STATE_V(v) .version = (v)
/* Field present up to version v only (replaced by another field later, as
   the x86 CPU's 32-bit registers by their 64-bit forms in version 3). */
#define STATE_UNTIL(v) .until = (v)
#define STATE_END { .name = NULL, .type = STATE_T_END }

/* Append the object's fields to out. */
void state_save(const StateDesc *desc, void *obj, GByteArray *out);
/* The fields an older version of the section had (tests of the loading
   side: what an older Mimic wrote, as far as the table describes it). */
void state_save_version(const StateDesc *desc, void *obj, int version,
                        GByteArray *out);
/*
 * Load fields written by state_save() with section version `version` from
 * buf[0..len).  *used receives the bytes consumed.  Calls post_load.
 */
bool state_load(const StateDesc *desc, void *obj, int version,
                const uint8_t *buf, size_t len, size_t *used,
                GError **error);
/* Serialized size for a version (fixed: tables have no variable parts). */
size_t state_size(const StateDesc *desc, int version);
/* Human-readable dump of the table layout (tests/state/ golden files). */
void state_describe(const StateDesc *desc, GString *out);
/* The object's current field values, one line each (pre_save first, as
   a save would): the monitor's "info state". */
void state_dump(const StateDesc *desc, void *obj, GString *out);

#endif
