/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Strict JSON (see json.h): a recursive-descent parser bounded by
 * JSON_MAX_DEPTH, and a compact writer.
 */
#include "engine/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JSON_ERROR (json_error_quark())
static G_DEFINE_QUARK(mimic-json-error-quark, json_error)

typedef struct Parser {
    const char *p, *end, *start;
    int depth;
    GError **error;
} Parser;

static bool fail(Parser *ps, const char *what)
{
    if (ps->error && !*ps->error) {
        g_set_error(ps->error, JSON_ERROR, 0, "JSON parse error at offset "
                    "%td: %s", ps->p - ps->start, what);
    }
    return false;
}

static void skip_ws(Parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
                               *ps->p == '\n' || *ps->p == '\r')) {
        ps->p++;
    }
}

static JsonValue *value_new(JsonType t)
{
    JsonValue *v = g_new0(JsonValue, 1);
    v->type = t;
    return v;
}

void json_free(JsonValue *v)
{
    if (!v) {
        return;
    }
    if (v->items) {
        g_ptr_array_unref(v->items);
    }
    g_free(v->string);
    g_free(v->key);
    g_free(v);
}

static JsonValue *parse_value(Parser *ps);

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = g_ascii_xdigit_value(p[i]);
        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

static char *parse_string_raw(Parser *ps)
{
    if (ps->p >= ps->end || *ps->p != '"') {
        fail(ps, "expected a string");
        return NULL;
    }
    ps->p++;
    GString *s = g_string_new(NULL);
    while (ps->p < ps->end) {
        unsigned char c = *ps->p++;
        if (c == '"') {
            return g_string_free(s, FALSE);
        }
        if (c < 0x20) {
            fail(ps, "control character in a string");
            break;
        }
        if (c != '\\') {
            g_string_append_c(s, c);
            continue;
        }
        if (ps->p >= ps->end) {
            break;
        }
        c = *ps->p++;
        switch (c) {
        case '"': case '\\': case '/':
            g_string_append_c(s, c);
            continue;
        case 'b': g_string_append_c(s, '\b'); continue;
        case 'f': g_string_append_c(s, '\f'); continue;
        case 'n': g_string_append_c(s, '\n'); continue;
        case 'r': g_string_append_c(s, '\r'); continue;
        case 't': g_string_append_c(s, '\t'); continue;
        case 'u': {
            if (ps->end - ps->p < 4) {
                fail(ps, "truncated \\u escape");
                goto bad;
            }
            int u = hex4(ps->p);
            ps->p += 4;
            if (u < 0) {
                fail(ps, "bad \\u escape");
                goto bad;
            }
            gunichar ch = u;
            if (u >= 0xd800 && u < 0xdc00) {
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' ||
                    ps->p[1] != 'u') {
                    fail(ps, "unpaired surrogate");
                    goto bad;
                }
                int lo = hex4(ps->p + 2);
                if (lo < 0xdc00 || lo > 0xdfff) {
                    fail(ps, "unpaired surrogate");
                    goto bad;
                }
                ps->p += 6;
                ch = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            } else if (u >= 0xdc00 && u <= 0xdfff) {
                fail(ps, "unpaired surrogate");
                goto bad;
            } else if (u == 0) {
                fail(ps, "NUL in a string");
                goto bad;
            }
            g_string_append_unichar(s, ch);
            continue;
        }
        default:
            fail(ps, "bad escape");
            goto bad;
        }
    }
    fail(ps, "unterminated string");
bad:
    g_string_free(s, TRUE);
    return NULL;
}

static JsonValue *parse_number(Parser *ps)
{
    const char *b = ps->p, *p = ps->p;
    if (p < ps->end && *p == '-') {
        p++;
    }
    if (p >= ps->end || !g_ascii_isdigit(*p)) {
        fail(ps, "bad number");
        return NULL;
    }
    if (*p == '0') {
        p++;
        if (p < ps->end && g_ascii_isdigit(*p)) {
            fail(ps, "leading zero");
            return NULL;
        }
    } else {
        while (p < ps->end && g_ascii_isdigit(*p)) {
            p++;
        }
    }
    bool integral = true;
    if (p < ps->end && *p == '.') {
        integral = false;
        p++;
        if (p >= ps->end || !g_ascii_isdigit(*p)) {
            ps->p = p;
            fail(ps, "bad fraction");
            return NULL;
        }
        while (p < ps->end && g_ascii_isdigit(*p)) {
            p++;
        }
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        integral = false;
        p++;
        if (p < ps->end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= ps->end || !g_ascii_isdigit(*p)) {
            ps->p = p;
            fail(ps, "bad exponent");
            return NULL;
        }
        while (p < ps->end && g_ascii_isdigit(*p)) {
            p++;
        }
    }
    if (p - b > 64) {
        fail(ps, "number too long");
        return NULL;
    }
    char tmp[80];
    memcpy(tmp, b, p - b);
    tmp[p - b] = 0;
    ps->p = p;
    JsonValue *v = value_new(JSON_NUMBER);
    v->number = g_ascii_strtod(tmp, NULL);
    if (integral) {
        errno = 0;
        char *e;
        long long ll = strtoll(tmp, &e, 10);
        if (errno == 0 && *e == 0) {
            v->is_int = true;
            v->integer = ll;
        }
    }
    return v;
}

static bool literal(Parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
        return fail(ps, "unexpected character");
    }
    ps->p += n;
    return true;
}

static JsonValue *parse_container(Parser *ps, bool object)
{
    if (++ps->depth > JSON_MAX_DEPTH) {
        fail(ps, "nested too deeply");
        return NULL;
    }
    ps->p++; /* '{' or '[' */
    JsonValue *v = value_new(object ? JSON_OBJECT : JSON_ARRAY);
    v->items = g_ptr_array_new_with_free_func((GDestroyNotify)json_free);
    char close = object ? '}' : ']';
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (object) {
            key = parse_string_raw(ps);
            if (!key) {
                goto bad;
            }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                g_free(key);
                fail(ps, "expected ':'");
                goto bad;
            }
            ps->p++;
        }
        JsonValue *item = parse_value(ps);
        if (!item) {
            g_free(key);
            goto bad;
        }
        item->key = key;
        g_ptr_array_add(v->items, item);
        skip_ws(ps);
        if (ps->p >= ps->end) {
            fail(ps, "unterminated container");
            goto bad;
        }
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            ps->depth--;
            return v;
        }
        fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto bad;
    }
bad:
    json_free(v);
    return NULL;
}

static JsonValue *parse_value(Parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end of input");
        return NULL;
    }
    switch (*ps->p) {
    case '{':
        return parse_container(ps, true);
    case '[':
        return parse_container(ps, false);
    case '"': {
        char *s = parse_string_raw(ps);
        if (!s) {
            return NULL;
        }
        JsonValue *v = value_new(JSON_STRING);
        v->string = s;
        return v;
    }
    case 't':
    case 'f': {
        bool t = *ps->p == 't';
        if (!literal(ps, t ? "true" : "false")) {
            return NULL;
        }
        JsonValue *v = value_new(JSON_BOOL);
        v->boolean = t;
        return v;
    }
    case 'n':
        return literal(ps, "null") ? value_new(JSON_NULL) : NULL;
    default:
        if (*ps->p == '-' || g_ascii_isdigit(*ps->p)) {
            return parse_number(ps);
        }
        fail(ps, "unexpected character");
        return NULL;
    }
}

JsonValue *json_parse(const char *text, size_t len, GError **error)
{
    Parser ps = { .p = text, .end = text + len, .start = text,
                  .error = error };
    if (!g_utf8_validate_len(text, len, NULL)) {
        fail(&ps, "invalid UTF-8");
        return NULL;
    }
    JsonValue *v = parse_value(&ps);
    if (!v) {
        return NULL;
    }
    skip_ws(&ps);
    if (ps.p != ps.end) {
        fail(&ps, "trailing characters");
        json_free(v);
        return NULL;
    }
    return v;
}

JsonValue *json_get(const JsonValue *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT) {
        return NULL;
    }
    for (guint i = obj->items->len; i-- > 0;) {
        JsonValue *m = g_ptr_array_index(obj->items, i);
        if (!strcmp(m->key, key)) {
            return m;
        }
    }
    return NULL;
}

const char *json_get_string(const JsonValue *obj, const char *key)
{
    JsonValue *v = json_get(obj, key);
    return v && v->type == JSON_STRING ? v->string : NULL;
}

void json_write_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                g_string_append_printf(out, "\\u%04x", *p);
            } else {
                g_string_append_c(out, *p);
            }
        }
    }
    g_string_append_c(out, '"');
}

void json_write(const JsonValue *v, GString *out)
{
    switch (v->type) {
    case JSON_NULL:
        g_string_append(out, "null");
        break;
    case JSON_BOOL:
        g_string_append(out, v->boolean ? "true" : "false");
        break;
    case JSON_NUMBER:
        if (v->is_int) {
            g_string_append_printf(out, "%" G_GINT64_FORMAT, v->integer);
        } else if (isfinite(v->number)) {
            char buf[G_ASCII_DTOSTR_BUF_SIZE];
            g_string_append(out, g_ascii_dtostr(buf, sizeof(buf), v->number));
        } else {
            g_string_append(out, "null");
        }
        break;
    case JSON_STRING:
        json_write_string(out, v->string);
        break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        g_string_append_c(out, v->type == JSON_ARRAY ? '[' : '{');
        for (guint i = 0; i < v->items->len; i++) {
            const JsonValue *m = g_ptr_array_index(v->items, i);
            if (i) {
                g_string_append(out, ", ");
            }
            if (v->type == JSON_OBJECT) {
                json_write_string(out, m->key);
                g_string_append(out, ": ");
            }
            json_write(m, out);
        }
        g_string_append_c(out, v->type == JSON_ARRAY ? ']' : '}');
        break;
    }
}
