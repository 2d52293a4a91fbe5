/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small strict JSON parser and writer (RFC 8259) for QMP.
 *
 * The input is untrusted: it must be valid UTF-8, nesting is limited to
 * JSON_MAX_DEPTH, strings may not contain NUL, and anything malformed
 * (trailing commas, leading zeros, bare words, unpaired surrogates,
 * trailing garbage) gives NULL and an error, never a crash.
 */
#ifndef MIMIC_ENGINE_JSON_H
#define MIMIC_ENGINE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define JSON_MAX_DEPTH 64

typedef enum {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} JsonType;

typedef struct JsonValue JsonValue;
struct JsonValue {
    JsonType type;
    bool boolean;
    double number;
    bool is_int;      /* an integer that fits int64 */
    int64_t integer;
    char *string;     /* JSON_STRING: UTF-8, NUL-free */
    GPtrArray *items; /* JSON_ARRAY: values; JSON_OBJECT: members */
    char *key;        /* a member of an object: its name */
};

JsonValue *json_parse(const char *text, size_t len, GError **error);
void json_free(JsonValue *v);
/* Object member by name (the last one when repeated), or NULL. */
JsonValue *json_get(const JsonValue *obj, const char *key);
const char *json_get_string(const JsonValue *obj, const char *key);
/* Compact serialization. */
void json_write(const JsonValue *v, GString *out);
void json_write_string(GString *out, const char *s);

#endif
