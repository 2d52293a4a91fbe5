/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state serializer (see state.h).  Fields are written in table order,
 * little-endian, without padding or names: the table is the schema, and
 * its version says which fields are present.  Loading never trusts the
 * input: lengths are checked before every read and booleans must be 0/1.
 */
#include "state/state.h"

#include <string.h>

G_DEFINE_QUARK(mimic-state-error-quark, state_error)

static unsigned type_size(StateType t)
{
    switch (t) {
    case STATE_T_U8:
    case STATE_T_BOOL:
    case STATE_T_BYTES:
    case STATE_T_BUFFER:
        return 1;
    case STATE_T_U16:
        return 2;
    case STATE_T_U32:
        return 4;
    case STATE_T_U64:
        return 8;
    default:
        return 0;
    }
}

static bool field_present(const StateField *f, int version)
{
    return f->version <= version && (!f->until || version <= f->until);
}

static void save_fields(const StateField *fields, const uint8_t *base,
                        GByteArray *out, int version)
{
    for (const StateField *f = fields; f->type != STATE_T_END; f++) {
        if (!field_present(f, version)) {
            continue;
        }
        const uint8_t *p = base + f->offset;
        if (f->type == STATE_T_STRUCT) {
            for (uint32_t i = 0; i < f->count; i++) {
                /* Sub-structures carry every field (version 0). */
                save_fields(f->sub, p + i * f->elem_size, out, INT32_MAX);
            }
            continue;
        }
        if (f->type == STATE_T_BUFFER) {
            g_byte_array_append(out, *(uint8_t *const *)p, f->count);
            continue;
        }
        unsigned sz = type_size(f->type);
        for (uint32_t i = 0; i < f->count; i++) {
            uint64_t v = 0;
            switch (sz) {
            case 1:
                v = p[i];
                break;
            case 2: {
                uint16_t x;
                memcpy(&x, p + 2 * i, 2);
                v = x;
                break;
            }
            case 4: {
                uint32_t x;
                memcpy(&x, p + 4 * i, 4);
                v = x;
                break;
            }
            case 8:
                memcpy(&v, p + 8 * i, 8);
                break;
            }
            if (f->type == STATE_T_BOOL) {
                v = *(const bool *)(p + i) ? 1 : 0;
            }
            uint8_t le[8];
            for (unsigned b = 0; b < sz; b++) {
                le[b] = v >> (8 * b);
            }
            g_byte_array_append(out, le, sz);
        }
    }
}

void state_save(const StateDesc *desc, void *obj, GByteArray *out)
{
    state_save_version(desc, obj, desc->version, out);
}

void state_save_version(const StateDesc *desc, void *obj, int version,
                        GByteArray *out)
{
    if (desc->pre_save) {
        desc->pre_save(obj);
    }
    save_fields(desc->fields, obj, out, version);
}

static bool load_fields(const StateField *fields, uint8_t *base,
                        const uint8_t *buf, size_t len, size_t *pos,
                        int version, const char *section, GError **error)
{
    for (const StateField *f = fields; f->type != STATE_T_END; f++) {
        if (!field_present(f, version)) {
            continue;
        }
        uint8_t *p = base + f->offset;
        if (f->type == STATE_T_STRUCT) {
            for (uint32_t i = 0; i < f->count; i++) {
                if (!load_fields(f->sub, p + i * f->elem_size, buf, len, pos,
                                 INT32_MAX, section, error)) {
                    return false;
                }
            }
            continue;
        }
        unsigned sz = type_size(f->type);
        if (len - *pos < (size_t)sz * f->count) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_TRUNCATED,
                        "state section '%s' is truncated at field '%s'",
                        section, f->name);
            return false;
        }
        if (f->type == STATE_T_BUFFER) {
            memcpy(*(uint8_t **)p, buf + *pos, f->count);
            *pos += f->count;
            continue;
        }
        for (uint32_t i = 0; i < f->count; i++) {
            uint64_t v = 0;
            for (unsigned b = 0; b < sz; b++) {
                v |= (uint64_t)buf[*pos + b] << (8 * b);
            }
            *pos += sz;
            switch (f->type) {
            case STATE_T_BOOL:
                if (v > 1) {
                    g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                                "state section '%s': field '%s' is not a "
                                "boolean", section, f->name);
                    return false;
                }
                ((bool *)p)[i] = v;
                break;
            case STATE_T_U8:
            case STATE_T_BYTES:
                p[i] = v;
                break;
            case STATE_T_U16: {
                uint16_t x = v;
                memcpy(p + 2 * i, &x, 2);
                break;
            }
            case STATE_T_U32: {
                uint32_t x = v;
                memcpy(p + 4 * i, &x, 4);
                break;
            }
            case STATE_T_U64:
                memcpy(p + 8 * i, &v, 8);
                break;
            default:
                break;
            }
        }
    }
    return true;
}

bool state_load(const StateDesc *desc, void *obj, int version,
                const uint8_t *buf, size_t len, size_t *used, GError **error)
{
    if (version > desc->version || version < state_min_version(desc)) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_VERSION,
                    "state section '%s' has version %d; this Mimic reads "
                    "versions %d to %d", desc->name, version,
                    state_min_version(desc), desc->version);
        return false;
    }
    size_t pos = 0;
    if (desc->pre_load) {
        desc->pre_load(obj);
    }
    if (!load_fields(desc->fields, obj, buf, len, &pos, version, desc->name,
                     error)) {
        return false;
    }
    if (used) {
        *used = pos;
    }
    if (desc->post_load && !desc->post_load(obj, error)) {
        return false;
    }
    return true;
}

static size_t fields_size(const StateField *fields, int version)
{
    size_t n = 0;
    for (const StateField *f = fields; f->type != STATE_T_END; f++) {
        if (!field_present(f, version)) {
            continue;
        }
        if (f->type == STATE_T_STRUCT) {
            n += f->count * fields_size(f->sub, INT32_MAX);
        } else {
            n += (size_t)type_size(f->type) * f->count;
        }
    }
    return n;
}

size_t state_size(const StateDesc *desc, int version)
{
    return fields_size(desc->fields, version);
}

static const char *type_name(StateType t)
{
    static const char *const names[] = { "end", "u8", "u16", "u32", "u64",
                                         "bool", "bytes", "struct",
                                         "buffer" };
    return t < G_N_ELEMENTS(names) ? names[t] : "?";
}

static void describe_fields(const StateField *fields, GString *out,
                            int indent)
{
    for (const StateField *f = fields; f->type != STATE_T_END; f++) {
        g_string_append_printf(out, "%*s%s %s[%u] v%d", indent, "",
                               type_name(f->type), f->name, f->count,
                               f->version);
        if (f->until) {
            g_string_append_printf(out, "-%d", f->until);
        }
        g_string_append_c(out, '\n');
        if (f->type == STATE_T_STRUCT) {
            describe_fields(f->sub, out, indent + 2);
        }
    }
}

void state_describe(const StateDesc *desc, GString *out)
{
    g_string_append_printf(out, "%s version %d (min %d)\n", desc->name,
                           desc->version, state_min_version(desc));
    describe_fields(desc->fields, out, 2);
}

/* Values of the fields, for "info state": scalars in hex, arrays of up to
   16 elements whole (longer ones cut), raw bytes and buffers by length
   and their first 16 bytes. */
static void dump_fields(const StateField *fields, const uint8_t *base,
                        GString *out, const char *prefix)
{
    for (const StateField *f = fields; f->type != STATE_T_END; f++) {
        const uint8_t *p = base + f->offset;
        if (f->type == STATE_T_STRUCT) {
            for (uint32_t i = 0; i < f->count; i++) {
                g_autofree char *sub = f->count > 1
                    ? g_strdup_printf("%s%s[%u].", prefix, f->name, i)
                    : g_strdup_printf("%s%s.", prefix, f->name);
                dump_fields(f->sub, p + i * f->elem_size, out, sub);
            }
            continue;
        }
        g_string_append_printf(out, "%s%s =", prefix, f->name);
        if (f->type == STATE_T_BYTES || f->type == STATE_T_BUFFER) {
            const uint8_t *b = p;
            if (f->type == STATE_T_BUFFER) {
                memcpy(&b, p, sizeof(b));
            }
            g_string_append_printf(out, " (%u bytes)", f->count);
            for (uint32_t i = 0; b && i < MIN(f->count, 16u); i++) {
                g_string_append_printf(out, " %02x", b[i]);
            }
            g_string_append_c(out, '\n');
            continue;
        }
        unsigned sz = type_size(f->type);
        for (uint32_t i = 0; i < MIN(f->count, 16u); i++) {
            uint64_t v = 0;
            switch (sz) {
            case 1: v = p[i]; break;
            case 2: { uint16_t x; memcpy(&x, p + 2 * i, 2); v = x; break; }
            case 4: { uint32_t x; memcpy(&x, p + 4 * i, 4); v = x; break; }
            default: memcpy(&v, p + 8 * i, 8); break;
            }
            g_string_append_printf(out, " 0x%" G_GINT64_MODIFIER "x", v);
        }
        g_string_append(out, f->count > 16 ? " ...\n" : "\n");
    }
}

void state_dump(const StateDesc *desc, void *obj, GString *out)
{
    if (desc->pre_save) {
        desc->pre_save(obj);
    }
    g_string_append_printf(out, "%s version %d\n", desc->name,
                           desc->version);
    dump_fields(desc->fields, obj, out, "  ");
}
