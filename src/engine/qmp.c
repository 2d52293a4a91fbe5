/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QMP, QEMU's JSON control protocol, on a character device
 * (-qmp unix:PATH,server,nowait or tcp:...).
 *
 * A client gets the greeting, must send qmp_capabilities, then may run
 * commands ({"execute": NAME, "arguments": {...}, "id": ANY}); replies are
 * {"return": ...} or {"error": {"class": ..., "desc": ...}} with the id
 * echoed.  Events (STOP, RESUME, RESET, POWERDOWN, SHUTDOWN) go to a
 * negotiated client.  The input stream is split into messages by tracking
 * brackets and strings; each message goes to the strict parser in json.c.
 * Oversized, too deeply nested or malformed input gets an error reply and
 * the stream resynchronizes at the next newline.  Runs on the worker
 * thread.  Reference: QEMU's "QMP specification" (docs/interop/qmp-spec).
 */
#include "engine/qmp.h"

#include <string.h>

#include "engine/json.h"
#include "engine/machine.h"
#include "engine/network.h"
#include "engine/savevm.h"
#include "mimic-config.h"

#define QMP_MAX_MESSAGE (1u << 20)

struct Qmp {
    MimicMachine *m;
    CharDev *chr;
    GString *capture; /* tests: output goes here when chr is NULL */
    bool negotiated;
    GString *buf;     /* the message being collected */
    int depth;
    bool in_string, escape;
    bool junk;        /* non-JSON bytes at the top level */
    bool discard;     /* after an oversized message: skip to a newline */
};

static void send_text(Qmp *q, GString *s)
{
    g_string_append(s, "\r\n");
    if (q->chr) {
        chardev_write(q->chr, s->str, s->len);
    } else if (q->capture) {
        g_string_append_len(q->capture, s->str, s->len);
    }
}

static void send_error(Qmp *q, const JsonValue *id, const char *cls,
                       const char *desc)
{
    GString *s = g_string_new("{\"error\": {\"class\": ");
    json_write_string(s, cls);
    g_string_append(s, ", \"desc\": ");
    json_write_string(s, desc);
    g_string_append(s, "}");
    if (id) {
        g_string_append(s, ", \"id\": ");
        json_write(id, s);
    }
    g_string_append(s, "}");
    send_text(q, s);
    g_string_free(s, TRUE);
}

/* ret: serialized JSON of the return value. */
static void send_return(Qmp *q, const JsonValue *id, const char *ret)
{
    GString *s = g_string_new("{\"return\": ");
    g_string_append(s, ret);
    if (id) {
        g_string_append(s, ", \"id\": ");
        json_write(id, s);
    }
    g_string_append(s, "}");
    send_text(q, s);
    g_string_free(s, TRUE);
}

static void send_greeting(Qmp *q)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "{\"QMP\": {\"version\": {\"qemu\": "
                           "{\"micro\": 0, \"minor\": 2, \"major\": 7}, "
                           "\"package\": ");
    g_autofree char *pkg = g_strdup_printf("Mimic %s", MIMIC_VERSION);
    json_write_string(s, pkg);
    g_string_append(s, "}, \"capabilities\": []}}");
    send_text(q, s);
    g_string_free(s, TRUE);
}

void qmp_send_event(Qmp *q, const char *name, const char *data)
{
    if (!q || !q->negotiated) {
        return;
    }
    gint64 t = g_get_real_time();
    GString *s = g_string_new("{\"timestamp\": ");
    g_string_append_printf(s, "{\"seconds\": %" G_GINT64_FORMAT ", "
                           "\"microseconds\": %" G_GINT64_FORMAT "}, "
                           "\"event\": ", t / 1000000, t % 1000000);
    json_write_string(s, name);
    if (data) {
        g_string_append_printf(s, ", \"data\": %s", data);
    }
    g_string_append(s, "}");
    send_text(q, s);
    g_string_free(s, TRUE);
}

static const char *status_name(MimicMachine *m)
{
    switch (m->run_state) {
    case MIMIC_STATE_RUNNING:
        return "running";
    case MIMIC_STATE_CREATED:
        return "prelaunch";
    case MIMIC_STATE_PAUSED:
        return m->postmigrate ? "postmigrate" : "paused";
    case MIMIC_STATE_STOPPED:
        return "shutdown";
    }
    return "paused";
}

static const char *const commands[] = {
    "qmp_capabilities", "query-status", "query-version", "query-commands",
    "stop", "cont", "system_reset", "system_powerdown", "quit",
    "human-monitor-command", "migrate", "eject", "blockdev-change-medium",
    "device_add", "device_del", "netdev_add", "netdev_del",
};

/* The result of a typed engine call (engine/api.c, savevm.c) as QMP's. */
static void send_result(Qmp *q, const JsonValue *id, bool ok, GError *err)
{
    if (ok) {
        send_return(q, id, "{}");
    } else {
        send_error(q, id, "GenericError", err ? err->message : "failed");
        g_clear_error(&err);
    }
}

/* QEMU names a drive by device= (its qdev name, "ide1-cd0") or id=. */
static const char *drive_arg(const JsonValue *args)
{
    const char *d = json_get_string(args, "device");
    return d ? d : json_get_string(args, "id");
}

static void execute(Qmp *q, const char *cmd, const JsonValue *args,
                    const JsonValue *id)
{
    MimicMachine *m = q->m;
    if (!strcmp(cmd, "qmp_capabilities")) {
        if (q->negotiated) {
            send_error(q, id, "CommandNotFound", "Capabilities negotiation "
                       "is already complete, command ignored");
            return;
        }
        q->negotiated = true;
        send_return(q, id, "{}");
        return;
    }
    if (!q->negotiated) {
        send_error(q, id, "CommandNotFound", "Expecting capabilities "
                   "negotiation with 'qmp_capabilities'");
        return;
    }
    if (!strcmp(cmd, "query-status")) {
        g_autofree char *r = g_strdup_printf(
            "{\"status\": \"%s\", \"singlestep\": false, \"running\": %s}",
            status_name(m),
            m->run_state == MIMIC_STATE_RUNNING ? "true" : "false");
        send_return(q, id, r);
    } else if (!strcmp(cmd, "query-version")) {
        GString *s = g_string_new("{\"qemu\": {\"micro\": 0, \"minor\": 2, "
                                  "\"major\": 7}, \"package\": ");
        g_autofree char *pkg = g_strdup_printf("Mimic %s", MIMIC_VERSION);
        json_write_string(s, pkg);
        g_string_append(s, "}");
        send_return(q, id, s->str);
        g_string_free(s, TRUE);
    } else if (!strcmp(cmd, "query-commands")) {
        GString *s = g_string_new("[");
        for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
            g_string_append_printf(s, "%s{\"name\": \"%s\"}", i ? ", " : "",
                                   commands[i]);
        }
        g_string_append(s, "]");
        send_return(q, id, s->str);
        g_string_free(s, TRUE);
    } else if (!strcmp(cmd, "stop")) {
        machine_do_stop(m);
        send_return(q, id, "{}");
    } else if (!strcmp(cmd, "cont")) {
        machine_do_cont(m);
        send_return(q, id, "{}");
    } else if (!strcmp(cmd, "system_reset")) {
        send_return(q, id, "{}");
        machine_do_reset(m);
    } else if (!strcmp(cmd, "system_powerdown")) {
        send_return(q, id, "{}");
        machine_do_powerdown(m);
    } else if (!strcmp(cmd, "quit")) {
        send_return(q, id, "{}");
        machine_do_quit(m, 0);
    } else if (!strcmp(cmd, "migrate")) {
        const char *uri = json_get_string(args, "uri");
        GError *err = NULL;
        if (!uri) {
            send_error(q, id, "GenericError", "Parameter 'uri' is missing");
            return;
        }
        bool ok = machine_migrate(m, uri, &err);
        send_result(q, id, ok, err);
    } else if (!strcmp(cmd, "eject")) {
        const char *dev = drive_arg(args);
        const JsonValue *force = json_get(args, "force");
        GError *err = NULL;
        if (!dev) {
            send_error(q, id, "GenericError", "Parameter 'device' is "
                       "missing");
            return;
        }
        bool ok = machine_eject_media(m, dev, force &&
                                      force->type == JSON_BOOL &&
                                      force->boolean, &err);
        send_result(q, id, ok, err);
    } else if (!strcmp(cmd, "blockdev-change-medium")) {
        const char *dev = drive_arg(args);
        const char *file = json_get_string(args, "filename");
        GError *err = NULL;
        if (!dev || !file) {
            send_error(q, id, "GenericError", dev ? "Parameter 'filename' "
                       "is missing" : "Parameter 'device' is missing");
            return;
        }
        bool ok = machine_change_media(m, dev, file,
                                       json_get_string(args, "format"),
                                       &err);
        send_result(q, id, ok, err);
    } else if (!strcmp(cmd, "device_add") || !strcmp(cmd, "device_del")) {
        /* The board's USB devices: -device syntax from the arguments. */
        static const char *const props[] = { "id", "bus", "port", "drive",
                                             "removable" };
        bool add = !strcmp(cmd, "device_add");
        const char *key = json_get_string(args, add ? "driver" : "id");
        GError *err = NULL;
        if (!key) {
            send_error(q, id, "GenericError", add ? "Parameter 'driver' is "
                       "missing" : "Parameter 'id' is missing");
            return;
        }
        if (!(add ? m->board_info->device_add : m->board_info->device_del)) {
            send_error(q, id, "GenericError", "this machine cannot add or "
                       "remove devices");
            return;
        }
        GString *spec = g_string_new(key);
        for (size_t i = 0; add && i < G_N_ELEMENTS(props); i++) {
            const char *v = json_get_string(args, props[i]);
            if (v) {
                g_string_append_printf(spec, ",%s=%s", props[i], v);
            }
        }
        bool ok = add ? m->board_info->device_add(&m->board, spec->str, &err)
                      : m->board_info->device_del(&m->board, key, &err);
        g_string_free(spec, TRUE);
        send_result(q, id, ok, err);
    } else if (!strcmp(cmd, "netdev_add")) {
        /* Flat arguments: type, id and the back end's own parameters. */
        const char *type = json_get_string(args, "type");
        const char *nid = json_get_string(args, "id");
        if (!type || !nid) {
            send_error(q, id, "GenericError", type ? "Parameter 'id' is "
                       "missing" : "Parameter 'type' is missing");
            return;
        }
        GString *spec = g_string_new(type);
        for (guint i = 0; args && i < args->items->len; i++) {
            const JsonValue *mv = g_ptr_array_index(args->items, i);
            if (!strcmp(mv->key, "type")) {
                continue;
            }
            if (mv->type == JSON_STRING) {
                g_string_append_printf(spec, ",%s=%s", mv->key, mv->string);
            } else if (mv->type == JSON_BOOL) {
                g_string_append_printf(spec, ",%s=%s", mv->key,
                                       mv->boolean ? "on" : "off");
            } else if (mv->type == JSON_NUMBER && mv->is_int) {
                g_string_append_printf(spec, ",%s=%" G_GINT64_FORMAT,
                                       mv->key, mv->integer);
            }
        }
        GError *err = NULL;
        bool ok = machine_net_netdev_add(m->net, spec->str, &err);
        g_string_free(spec, TRUE);
        send_result(q, id, ok, err);
    } else if (!strcmp(cmd, "netdev_del")) {
        const char *nid = json_get_string(args, "id");
        GError *err = NULL;
        if (!nid) {
            send_error(q, id, "GenericError", "Parameter 'id' is missing");
            return;
        }
        bool ok = machine_net_netdev_del(m->net, &m->board, nid, &err);
        send_result(q, id, ok, err);
    } else if (!strcmp(cmd, "human-monitor-command")) {
        const char *line = json_get_string(args, "command-line");
        if (!line) {
            send_error(q, id, "GenericError", "Parameter 'command-line' is "
                       "missing");
            return;
        }
        GString *out = g_string_new(NULL);
        monitor_execute(m, line, out);
        GString *r = g_string_new(NULL);
        json_write_string(r, out->str);
        send_return(q, id, r->str);
        g_string_free(r, TRUE);
        g_string_free(out, TRUE);
    } else {
        g_autofree char *d = g_strdup_printf("The command %s has not been "
                                             "found", cmd);
        send_error(q, id, "CommandNotFound", d);
    }
}

static void handle_message(Qmp *q, const char *text, size_t len)
{
    GError *err = NULL;
    JsonValue *v = json_parse(text, len, &err);
    if (!v) {
        send_error(q, NULL, "GenericError", err->message);
        g_error_free(err);
        return;
    }
    const JsonValue *id = json_get(v, "id");
    if (v->type != JSON_OBJECT) {
        send_error(q, NULL, "GenericError", "QMP input must be a JSON "
                   "object");
        json_free(v);
        return;
    }
    for (guint i = 0; i < v->items->len; i++) {
        const JsonValue *mbr = g_ptr_array_index(v->items, i);
        if (strcmp(mbr->key, "execute") && strcmp(mbr->key, "arguments") &&
            strcmp(mbr->key, "id")) {
            g_autofree char *d = g_strdup_printf("QMP input member '%s' is "
                                                 "unexpected", mbr->key);
            send_error(q, id, "GenericError", d);
            json_free(v);
            return;
        }
    }
    const JsonValue *exec = json_get(v, "execute");
    const JsonValue *args = json_get(v, "arguments");
    if (!exec || exec->type != JSON_STRING) {
        send_error(q, id, "GenericError", exec ? "QMP input member "
                   "'execute' must be a string" : "QMP input lacks member "
                   "'execute'");
    } else if (args && args->type != JSON_OBJECT) {
        send_error(q, id, "GenericError", "QMP input member 'arguments' "
                   "must be an object");
    } else {
        execute(q, exec->string, args, id);
    }
    json_free(v);
}

static void reset_stream(Qmp *q)
{
    g_string_truncate(q->buf, 0);
    q->depth = 0;
    q->in_string = q->escape = false;
}

void qmp_input(Qmp *q, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (q->discard) {
            if (c == '\n') {
                q->discard = false;
            }
            continue;
        }
        if (q->depth == 0) {
            if (c == '{' || c == '[') {
                if (q->junk) {
                    send_error(q, NULL, "GenericError", "JSON parse error: "
                               "expected a JSON object");
                    q->junk = false;
                }
                g_string_append_c(q->buf, c);
                q->depth = 1;
            } else if (c == '\n' || c == '\r') {
                if (q->junk) {
                    send_error(q, NULL, "GenericError", "JSON parse error: "
                               "expected a JSON object");
                    q->junk = false;
                }
            } else if (c != ' ' && c != '\t') {
                q->junk = true;
            }
            continue;
        }
        g_string_append_c(q->buf, c);
        if (q->in_string) {
            if (q->escape) {
                q->escape = false;
            } else if (c == '\\') {
                q->escape = true;
            } else if (c == '"') {
                q->in_string = false;
            }
        } else if (c == '"') {
            q->in_string = true;
        } else if (c == '{' || c == '[') {
            q->depth++;
        } else if (c == '}' || c == ']') {
            if (--q->depth == 0) {
                handle_message(q, q->buf->str, q->buf->len);
                reset_stream(q);
                if (q->m->quit_requested) {
                    /* Nothing after quit. */
                    q->discard = true;
                }
                continue;
            }
        }
        if (q->buf->len > QMP_MAX_MESSAGE || q->depth > JSON_MAX_DEPTH + 1) {
            send_error(q, NULL, "GenericError", q->depth > JSON_MAX_DEPTH + 1
                       ? "JSON parse error: nested too deeply"
                       : "JSON parse error: message too large");
            reset_stream(q);
            q->discard = true;
        }
    }
}

void qmp_machine_event(Qmp *q, const MimicEvent *ev)
{
    MimicMachine *m = q->m;
    switch (ev->kind) {
    case MIMIC_EVENT_STATE_CHANGED:
        if (ev->state == MIMIC_STATE_RUNNING) {
            qmp_send_event(q, "RESUME", NULL);
        } else if (ev->state == MIMIC_STATE_PAUSED) {
            qmp_send_event(q, "STOP", NULL);
        }
        break;
    case MIMIC_EVENT_RESET:
        qmp_send_event(q, "RESET", m->guest_request
                       ? "{\"guest\": true, \"reason\": \"guest-reset\"}"
                       : "{\"guest\": false, \"reason\": "
                         "\"host-qmp-system-reset\"}");
        break;
    case MIMIC_EVENT_POWERDOWN:
        qmp_send_event(q, "POWERDOWN", NULL);
        break;
    case MIMIC_EVENT_SHUTDOWN:
        qmp_send_event(q, "SHUTDOWN", m->guest_request
                       ? "{\"guest\": true, \"reason\": \"guest-shutdown\"}"
                       : "{\"guest\": false, \"reason\": "
                         "\"host-qmp-quit\"}");
        break;
    default:
        break;
    }
}

static int qmp_can_read(void *opaque)
{
    return 4096;
}

static void qmp_read(void *opaque, const uint8_t *buf, int len)
{
    qmp_input(opaque, buf, len);
}

static void qmp_event(void *opaque, int event)
{
    Qmp *q = opaque;
    q->negotiated = false;
    q->junk = q->discard = false;
    reset_stream(q);
    if (event == CHARDEV_EVENT_OPENED) {
        send_greeting(q);
    }
}

static const CharFrontend qmp_frontend = {
    .can_read = qmp_can_read,
    .read = qmp_read,
    .event = qmp_event,
};

Qmp *qmp_new(MimicMachine *m, CharDev *chr, GString *capture)
{
    Qmp *q = g_new0(Qmp, 1);
    q->m = m;
    q->chr = chr;
    q->capture = capture;
    q->buf = g_string_new(NULL);
    if (chr) {
        chardev_set_frontend(chr, &qmp_frontend, q);
    } else {
        send_greeting(q);
    }
    return q;
}

void qmp_free(Qmp *q)
{
    if (q) {
        if (q->chr) {
            chardev_set_frontend(q->chr, NULL, NULL);
        }
        g_string_free(q->buf, TRUE);
        g_free(q);
    }
}
