/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The strict JSON parser, the QMP server (on a machine without a board,
 * replies captured) and, fuzz-style, both the JSON parser and the HMP
 * line parser fed random, truncated and mutated input: every malformed
 * input gets an error, never a crash (this suite also runs under ASan).
 */
#include <string.h>

#include "engine/json.h"
#include "engine/machine.h"
#include "engine/qmp.h"

static const BoardType no_board = { .name = "none" };

static MimicMachine *fake_machine(void)
{
    MimicMachine *m = g_new0(MimicMachine, 1);
    m->mem = memmap_new();
    m->io = ioport_new();
    m->clock = clock_new(CLOCK_MODE_ICOUNT, 0);
    m->display = display_new();
    m->devices = device_list_new();
    m->board_info = &no_board;
    g_mutex_init(&m->lock);
    g_cond_init(&m->cond);
    m->run_state = MIMIC_STATE_RUNNING;
    static uint8_t ram[65536];
    memmap_add_ram(m->mem, "ram", 0, sizeof(ram), ram, 0);
    return m;
}

static void fake_free(MimicMachine *m)
{
    device_list_free(m->devices);
    display_free(m->display);
    clock_free(m->clock);
    ioport_free(m->io);
    memmap_free(m->mem);
    g_mutex_clear(&m->lock);
    g_cond_clear(&m->cond);
    g_free(m);
}

static JsonValue *parse(const char *s)
{
    GError *err = NULL;
    JsonValue *v = json_parse(s, strlen(s), &err);
    if (!v) {
        g_assert_nonnull(err);
        g_error_free(err);
    } else {
        g_assert_null(err);
    }
    return v;
}

static void test_json_valid(void)
{
    static const char *const ok[] = {
        "{}", "[]", "0", "-0", "1.5e3", "-12.25E-2", "true", "false",
        "null", "\"\"", " {\"a\" : [1, 2, {\"b\": null}], \"c\": \"x\"} ",
        "\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\"", "9223372036854775807",
        "[[[[[[[[[[]]]]]]]]]]", "\"caf\xc3\xa9\"",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
        JsonValue *v = parse(ok[i]);
        if (!v) {
            g_error("valid JSON refused: %s", ok[i]);
        }
        /* What we write, we read back identically. */
        GString *a = g_string_new(NULL), *b = g_string_new(NULL);
        json_write(v, a);
        JsonValue *w = parse(a->str);
        g_assert_nonnull(w);
        json_write(w, b);
        g_assert_cmpstr(a->str, ==, b->str);
        g_string_free(a, TRUE);
        g_string_free(b, TRUE);
        json_free(v);
        json_free(w);
    }
    JsonValue *v = parse("{\"execute\": \"x\", \"n\": 42, \"execute\": \"y\"}");
    g_assert_cmpstr(json_get_string(v, "execute"), ==, "y");
    g_assert_true(json_get(v, "n")->is_int);
    g_assert_cmpint(json_get(v, "n")->integer, ==, 42);
    g_assert_null(json_get(v, "none"));
    json_free(v);
    v = parse("\"\\ud83d\\ude00\"");
    g_assert_cmpstr(v->string, ==, "\xf0\x9f\x98\x80");
    json_free(v);
}

static void test_json_invalid(void)
{
    static const char *const bad[] = {
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "{'a':1}", "01",
        "1.", ".5", "1e", "-", "+1", "tru", "nul", "True", "\"abc", "\"\\x\"",
        "\"\\u12\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\u0000\"", "\"a\nb\"",
        "[1 2]", "{\"a\" 1}", "1 2", "{} x", "\xff", "\"\xc3\"", "[", "[[",
        "{\"a\":}", "NaN", "Infinity", "[1,,2]",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        JsonValue *v = parse(bad[i]);
        if (v) {
            g_error("invalid JSON accepted: %s", bad[i]);
        }
    }
    /* Nesting is bounded. */
    GString *deep = g_string_new(NULL);
    for (int i = 0; i < JSON_MAX_DEPTH + 1; i++) {
        g_string_append_c(deep, '[');
    }
    for (int i = 0; i < JSON_MAX_DEPTH + 1; i++) {
        g_string_append_c(deep, ']');
    }
    g_assert_null(parse(deep->str));
    g_string_erase(deep, 0, 1);
    g_string_truncate(deep, deep->len - 1);
    JsonValue *v = parse(deep->str);
    g_assert_nonnull(v);
    json_free(v);
    g_string_free(deep, TRUE);
    /* A million brackets: refused, no stack overflow. */
    char *huge = g_strnfill(1000000, '[');
    g_assert_null(parse(huge));
    g_free(huge);
}

static const char *const samples[] = {
    "{\"execute\": \"qmp_capabilities\"}",
    "{\"execute\": \"human-monitor-command\", \"arguments\": "
    "{\"command-line\": \"info status\"}, \"id\": [1, {\"x\": -2.5e-3}]}",
    "[\"\\ud83d\\ude00\", true, false, null, 0, -1, 3.25, \"\\\"\\\\\"]",
};

/* Parse; if accepted, it must write and re-parse. */
static void fuzz_one(const char *s, size_t len)
{
    GError *err = NULL;
    JsonValue *v = json_parse(s, len, &err);
    if (!v) {
        g_assert_nonnull(err);
        g_error_free(err);
        return;
    }
    GString *out = g_string_new(NULL);
    json_write(v, out);
    JsonValue *w = json_parse(out->str, out->len, NULL);
    g_assert_nonnull(w);
    json_free(w);
    json_free(v);
    g_string_free(out, TRUE);
}

static void test_json_fuzz(void)
{
    GRand *r = g_rand_new_with_seed(12345);
    char buf[256];
    static const char alphabet[] = "{}[]\":,\\ \n0123456789-+.eEtrufalsn"
                                   "u\xc3\xa9\xff";
    for (int i = 0; i < 40000; i++) {
        size_t n = g_rand_int_range(r, 0, sizeof(buf));
        bool structured = i & 1;
        for (size_t k = 0; k < n; k++) {
            buf[k] = structured
                ? alphabet[g_rand_int_range(r, 0, sizeof(alphabet) - 1)]
                : (char)g_rand_int_range(r, 0, 256);
        }
        fuzz_one(buf, n);
    }
    int accepted = 0;
    for (size_t s = 0; s < G_N_ELEMENTS(samples); s++) {
        size_t len = strlen(samples[s]);
        for (size_t k = 0; k < len; k++) {
            fuzz_one(samples[s], k); /* every truncation */
        }
        for (int i = 0; i < 5000; i++) {
            char *m = g_strdup(samples[s]);
            int flips = g_rand_int_range(r, 1, 4);
            for (int f = 0; f < flips; f++) {
                m[g_rand_int_range(r, 0, len)] = g_rand_int_range(r, 1, 256);
            }
            GError *err = NULL;
            JsonValue *v = json_parse(m, len, &err);
            accepted += v != NULL;
            json_free(v);
            g_clear_error(&err);
            fuzz_one(m, len);
            g_free(m);
        }
    }
    g_test_message("%d mutated samples were still valid JSON", accepted);
    g_rand_free(r);
}

/* Each reply line must be a JSON object; returns them. */
static GPtrArray *replies(GString *cap)
{
    GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)json_free);
    gchar **lines = g_strsplit(cap->str, "\r\n", -1);
    for (int i = 0; lines[i]; i++) {
        if (!*lines[i]) {
            continue;
        }
        JsonValue *v = json_parse(lines[i], strlen(lines[i]), NULL);
        if (!v || v->type != JSON_OBJECT) {
            g_error("QMP sent a line that is not a JSON object: %s",
                    lines[i]);
        }
        g_ptr_array_add(a, v);
    }
    g_strfreev(lines);
    g_string_truncate(cap, 0);
    return a;
}

static void feed(Qmp *q, const char *s)
{
    qmp_input(q, (const uint8_t *)s, strlen(s));
}

static const char *err_class(JsonValue *v)
{
    return json_get_string(json_get(v, "error"), "class");
}

static void test_qmp_session(void)
{
    MimicMachine *m = fake_machine();
    GString *cap = g_string_new(NULL);
    Qmp *q = qmp_new(m, NULL, cap);
    m->qmp = q;
    GPtrArray *r = replies(cap);
    g_assert_cmpuint(r->len, ==, 1);
    g_assert_nonnull(json_get(json_get(r->pdata[0], "QMP"), "version"));
    g_ptr_array_unref(r);

    feed(q, "{\"execute\": \"query-status\"}");
    r = replies(cap);
    g_assert_cmpstr(err_class(r->pdata[0]), ==, "CommandNotFound");
    g_ptr_array_unref(r);

    /* Split across chunks, byte by byte. */
    const char *neg = "{\"execute\": \"qmp_capabilities\", \"id\": \"a}\"}";
    for (const char *p = neg; *p; p++) {
        qmp_input(q, (const uint8_t *)p, 1);
    }
    r = replies(cap);
    g_assert_cmpuint(r->len, ==, 1);
    g_assert_nonnull(json_get(r->pdata[0], "return"));
    g_assert_cmpstr(json_get_string(r->pdata[0], "id"), ==, "a}");
    g_ptr_array_unref(r);

    feed(q, "{\"execute\": \"query-status\", \"id\": 5}");
    r = replies(cap);
    JsonValue *ret = json_get(r->pdata[0], "return");
    g_assert_cmpstr(json_get_string(ret, "status"), ==, "running");
    g_assert_true(json_get(ret, "running")->boolean);
    g_assert_cmpint(json_get(r->pdata[0], "id")->integer, ==, 5);
    g_ptr_array_unref(r);

    feed(q, "{\"execute\": \"stop\"}");
    r = replies(cap);
    g_assert_cmpuint(r->len, ==, 2);
    g_assert_cmpstr(json_get_string(r->pdata[0], "event"), ==, "STOP");
    g_assert_nonnull(json_get(r->pdata[0], "timestamp"));
    g_assert_nonnull(json_get(r->pdata[1], "return"));
    g_assert_cmpint(m->run_state, ==, MIMIC_STATE_PAUSED);
    g_ptr_array_unref(r);

    feed(q, "{\"execute\": \"human-monitor-command\", \"arguments\": "
         "{\"command-line\": \"info status\"}}");
    r = replies(cap);
    g_assert_cmpstr(json_get_string(r->pdata[0], "return"), ==,
                    "VM status: paused\n");
    g_ptr_array_unref(r);

    feed(q, "{\"execute\": \"cont\"} {\"execute\": \"system_reset\"}\n"
         "{\"execute\": \"system_powerdown\"}");
    r = replies(cap);
    /* As QEMU: reset and power button act after the reply. */
    const char *want[] = { "RESUME", NULL, NULL, "RESET", NULL, "POWERDOWN" };
    g_assert_cmpuint(r->len, ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < r->len; i++) {
        if (want[i]) {
            g_assert_cmpstr(json_get_string(r->pdata[i], "event"), ==,
                            want[i]);
        } else {
            g_assert_nonnull(json_get(r->pdata[i], "return"));
        }
    }
    g_ptr_array_unref(r);

    /* Errors, each with a reply, and the session goes on. */
    static const char *const bad[] = {
        "{\"execute\": \"no-such\", \"id\": 1}",
        "{\"execute\": 3}", "{\"arguments\": {}}", "[1, 2]",
        "{\"execute\": \"stop\", \"bogus\": 1}",
        "{\"execute\": \"human-monitor-command\"}",
        "{\"execute\": \"human-monitor-command\", \"arguments\": 7}",
        "{\"execute\": \"stop\",}", "hello\n", "{\"a\": \"\\ud800\"}",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        feed(q, bad[i]);
        r = replies(cap);
        if (r->len != 1 || !err_class(r->pdata[0])) {
            g_error("no error reply for %s", bad[i]);
        }
        g_ptr_array_unref(r);
    }
    /* Too deep for the stream: an error, then resync at the newline. */
    char *deep = g_strnfill(200, '[');
    feed(q, deep);
    feed(q, "]]] garbage\n{\"execute\": \"query-status\", \"id\": 9}");
    r = replies(cap);
    g_assert_cmpuint(r->len, ==, 2);
    g_assert_nonnull(err_class(r->pdata[0]));
    g_assert_cmpint(json_get(r->pdata[1], "id")->integer, ==, 9);
    g_ptr_array_unref(r);
    g_free(deep);

    feed(q, "{\"execute\": \"quit\"}{\"execute\": \"stop\"}");
    r = replies(cap);
    g_assert_cmpuint(r->len, ==, 1);
    g_assert_true(m->quit_requested);
    g_ptr_array_unref(r);
    qmp_free(q);
    g_string_free(cap, TRUE);
    fake_free(m);
}

/* Random bytes into the QMP stream: only well-formed replies come out. */
static void test_qmp_fuzz(void)
{
    MimicMachine *m = fake_machine();
    GString *cap = g_string_new(NULL);
    Qmp *q = qmp_new(m, NULL, cap);
    feed(q, "{\"execute\": \"qmp_capabilities\"}");
    GRand *r = g_rand_new_with_seed(777);
    static const char alphabet[] = "{}[]\":,\\ \n\rabcdeinoqrstux-_0123456789";
    uint8_t buf[512];
    for (int i = 0; i < 20000; i++) {
        size_t n = g_rand_int_range(r, 1, sizeof(buf));
        for (size_t k = 0; k < n; k++) {
            buf[k] = i & 1 ? g_rand_int_range(r, 0, 256)
                           : alphabet[g_rand_int_range(r, 0,
                                                       sizeof(alphabet) - 1)];
        }
        qmp_input(q, buf, n);
        m->quit_requested = false;
        m->run_state = MIMIC_STATE_RUNNING;
        if (cap->len > 65536) {
            g_ptr_array_unref(replies(cap));
        }
    }
    g_ptr_array_unref(replies(cap));
    g_rand_free(r);
    qmp_free(q);
    g_string_free(cap, TRUE);
    fake_free(m);
}

/* The HMP line parser with random lines: a message, never a crash. */
static void test_hmp_fuzz(void)
{
    MimicMachine *m = fake_machine();
    GRand *r = g_rand_new_with_seed(4242);
    /* Commands that do not write files or quit. */
    static const char *const words[] = {
        "info", "status", "registers", "mtree", "snapshots", "chardev",
        "version", "x", "xp", "/4xb", "/9999999999xg", "/3c", "/2i", "0",
        "0x100", "-1", "0xffffffffffffffff", "sendkey", "ctrl-alt-delete",
        "shift-a-b-c-d-e-f-g-h-i-j", "stop", "cont", "help", "?", "loadvm",
        "delvm", "migrate", "\"", "'", "\\", "$HOME", "\t", "", "--",
    };
    for (int i = 0; i < 20000; i++) {
        GString *line = g_string_new(NULL);
        int n = g_rand_int_range(r, 0, 6);
        for (int k = 0; k < n; k++) {
            if (g_rand_int_range(r, 0, 4) == 0) {
                for (int c = g_rand_int_range(r, 0, 12); c > 0; c--) {
                    g_string_append_c(line, (char)g_rand_int_range(r, 1,
                                                                   256));
                }
            } else {
                g_string_append(line,
                                words[g_rand_int_range(r, 0,
                                                       G_N_ELEMENTS(words))]);
            }
            g_string_append_c(line, ' ');
        }
        if (g_str_has_prefix(line->str, "migrate ") &&
            line->len > strlen("migrate ")) {
            g_string_free(line, TRUE);
            continue; /* might name a real file */
        }
        GString *out = g_string_new(NULL);
        monitor_execute(m, line->str, out);
        g_string_free(out, TRUE);
        g_string_free(line, TRUE);
    }
    g_rand_free(r);
    fake_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json/valid", test_json_valid);
    g_test_add_func("/json/invalid", test_json_invalid);
    g_test_add_func("/json/fuzz", test_json_fuzz);
    g_test_add_func("/qmp/session", test_qmp_session);
    g_test_add_func("/qmp/fuzz", test_qmp_fuzz);
    g_test_add_func("/hmp/fuzz", test_hmp_fuzz);
    return g_test_run();
}
