/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The human monitor: QEMU's command language on a character device, and
 * monitor_execute() for the GUI.  One command table holds each command's
 * name, argument synopsis, help text and handler.  Input is collected into
 * lines with simple editing (backspace, Ctrl-U) and echoed on terminals.
 * Everything runs on the machine's worker thread.  Malformed input gets a
 * message, never a crash.  Reference: QEMU's "QEMU Monitor" documentation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/lineedit.h"
#include "bus/log.h"
#include "engine/machine.h"
#include "engine/network.h"
#include "engine/savevm.h"

#define PROMPT "(mimic) "

struct Monitor {
    MimicMachine *m;
    CharDev *chr;
    LineEdit *edit;
    bool echo;
};

typedef void (*CmdFn)(MimicMachine *m, gchar **argv, int argc, GString *out);

typedef struct MonCmd {
    const char *name;
    const char *args;
    const char *help;
    CmdFn fn;
} MonCmd;

static const MonCmd *find_cmd(const char *name);
static void cmd_help(MimicMachine *m, gchar **argv, int argc, GString *out);
static void info_block(MimicMachine *m, const char *device, GString *out);

static const char *state_name(MimicRunState s)
{
    switch (s) {
    case MIMIC_STATE_RUNNING:
        return "running";
    case MIMIC_STATE_PAUSED:
    case MIMIC_STATE_CREATED:
        return "paused";
    case MIMIC_STATE_STOPPED:
        return "shutdown";
    }
    return "unknown";
}

/* Mimic extension: the instruction counter of -icount mode. */
static void info_icount(MimicMachine *m, GString *out)
{
    Clock *clk = m->clock;
    if (clk->mode != CLOCK_MODE_ICOUNT) {
        g_string_append(out, "icount: off (real-time clock)\n");
        return;
    }
    g_string_append_printf(out, "icount: %" G_GINT64_FORMAT
                           " instructions, shift %d, virtual time %"
                           G_GINT64_FORMAT " ns\n", clk->icount,
                           clk->icount_shift, clock_now(clk));
    if (m->icount_stop >= 0) {
        g_string_append_printf(out, "stop at: %" G_GINT64_FORMAT "\n",
                               m->icount_stop);
    }
}

/* Mimic extension: SHA-256 of each RAM block, then of all of them in
   order (what a deterministic run must reproduce). */
static void info_ramhash(MimicMachine *m, GString *out)
{
    GChecksum *all = g_checksum_new(G_CHECKSUM_SHA256);
    for (int i = 0; i < m->board.n_ram_blocks; i++) {
        const BoardRamBlock *rb = &m->board.ram_blocks[i];
        GChecksum *one = g_checksum_new(G_CHECKSUM_SHA256);
        g_checksum_update(one, rb->host, rb->size);
        g_checksum_update(all, rb->host, rb->size);
        g_string_append_printf(out, "%s %s\n", rb->name,
                               g_checksum_get_string(one));
        g_checksum_free(one);
    }
    g_string_append_printf(out, "all %s\n", g_checksum_get_string(all));
    g_checksum_free(all);
}

/* The board's devices, as QEMU's "info qtree" lists its device tree:
   here one level, with each device's ports and its saved state. */
static void info_qtree(MimicMachine *m, GString *out)
{
    const BoardType *bi = m->board_info;
    g_string_append_printf(out, "bus: main-system-bus\n  type %s%s%s%s\n",
                           bi->name, bi->description ? " (" : "",
                           bi->description ? bi->description : "",
                           bi->description ? ")" : "");
    guint n = m->devices ? device_list_length(m->devices) : 0;
    for (guint i = 0; i < n; i++) {
        const Device *d = device_list_nth(m->devices, i);
        const DeviceInfo *di = d->info;
        g_string_append_printf(out, "  dev: %s, id \"%s\"\n", di->name,
                               d->id);
        for (const IoRegion *r = di->io; r && r->len; r++) {
            g_string_append_printf(out, "    ioport 0x%04x-0x%04x\n",
                                   r->base, r->base + r->len - 1);
        }
        if (di->state) {
            g_string_append_printf(out, "    state \"%s\" version %d\n",
                                   di->state->name, di->state->version);
        } else {
            g_string_append_printf(out, "    state none (%s)\n",
                                   di->unmigratable ? di->unmigratable
                                                    : "no reason given");
        }
    }
}

/* A Mimic extension for debugging: a device's (or the CPU's) saved-state
   fields with their current values; without an id, the ids. */
static void info_state(MimicMachine *m, const char *id, GString *out)
{
    if (id && !strcmp(id, "cpu") && m->cpu && m->cpu->ops->state) {
        state_dump(m->cpu->ops->state, m->cpu, out);
        return;
    }
    Device *d = id && m->devices ? device_find(m->devices, id) : NULL;
    if (d && d->info->state) {
        state_dump(d->info->state, d, out);
        return;
    }
    if (id) {
        g_string_append_printf(out, "no saved state for '%s'\n", id);
    }
    g_string_append(out, "info state");
    char sep = ' ';
    if (m->cpu && m->cpu->ops->state) {
        g_string_append(out, " cpu");
        sep = '|';
    }
    guint n = m->devices ? device_list_length(m->devices) : 0;
    for (guint i = 0; i < n; i++) {
        const Device *dev = device_list_nth(m->devices, i);
        if (dev->info->state) {
            g_string_append_printf(out, "%c%s", sep, dev->id);
            sep = '|';
        }
    }
    g_string_append_c(out, '\n');
}

/* A Mimic extension: the machine clock's timers (creation index, time
   left until the deadline). */
static void info_timers(MimicMachine *m, GString *out)
{
    Clock *clk = m->clock;
    int64_t now = clock_now(clk);
    g_string_append_printf(out, "clock %s, now %" G_GINT64_FORMAT " ns\n",
                           clk->mode == CLOCK_MODE_ICOUNT ? "icount"
                                                          : "realtime",
                           now);
    for (int i = 0; i < clock_timer_count(clk); i++) {
        int64_t t = timer_expire_time(clock_timer_nth(clk, i));
        if (t == CLOCK_NEVER) {
            g_string_append_printf(out, "timer %d: idle\n", i);
        } else {
            g_string_append_printf(out, "timer %d: in %" G_GINT64_FORMAT
                                   " ns\n", i, t - now);
        }
    }
}

static void info_roms(MimicMachine *m, GString *out)
{
    for (int i = 0; i < m->board.n_roms; i++) {
        const BoardRom *r = &m->board.roms[i];
        g_string_append_printf(out, "name=\"%s\" size=0x%06zx sha256=%s\n",
                               r->name, r->size, r->sha256);
    }
}

static void info_network(MimicMachine *m, GString *out)
{
    machine_net_info(m->net, &m->board, out);
}

static void info_cpus(MimicMachine *m, GString *out)
{
    if (!m->cpu) {
        g_string_append(out, "no CPU\n");
        return;
    }
    g_string_append_printf(out, "* CPU #0: pc=0x%08" G_GINT64_MODIFIER "x%s "
                           "thread_id=%d\n",
                           (guint64)(m->cpu->ops->get_pc
                                         ? m->cpu->ops->get_pc(m->cpu)
                                         : 0),
                           m->cpu->ops->is_halted &&
                                   m->cpu->ops->is_halted(m->cpu)
                               ? " (halted)"
                               : "",
                           (int)getpid());
}

static void cmd_info(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "status")) {
        g_string_append_printf(out, "VM status: %s%s\n",
                               state_name(m->run_state),
                               m->postmigrate &&
                                       m->run_state == MIMIC_STATE_PAUSED
                                   ? " (postmigrate)"
                                   : "");
    } else if (!strcmp(what, "version")) {
        g_string_append_printf(out, "%s\n", mimic_version());
    } else if (!strcmp(what, "mtree")) {
        memmap_dump(m->mem, out);
    } else if (!strcmp(what, "ioports")) {
        ioport_dump(m->io, out);
    } else if (!strcmp(what, "registers")) {
        if (m->cpu && m->cpu->ops->dump_registers) {
            m->cpu->ops->dump_registers(m->cpu, out);
        } else {
            g_string_append(out, "no CPU\n");
        }
    } else if (!strcmp(what, "block")) {
        info_block(m, argc > 2 ? argv[2] : NULL, out);
    } else if (!strcmp(what, "chardev")) {
        for (int i = 0; i < MIMIC_MAX_SERIAL; i++) {
            if (m->serial[i]) {
                const char *pty = chardev_pty_path(m->serial[i]);
                g_string_append_printf(out, "serial%d: filename=%s\n", i,
                                       pty ? pty : chardev_spec(m->serial[i]));
            }
        }
        if (m->monitor_chr) {
            g_string_append_printf(out, "monitor: filename=%s\n",
                                   chardev_spec(m->monitor_chr));
        }
    } else if (!strcmp(what, "snapshots")) {
        machine_info_snapshots(m, out);
    } else if (!strcmp(what, "qtree")) {
        info_qtree(m, out);
    } else if (!strcmp(what, "roms")) {
        info_roms(m, out);
    } else if (!strcmp(what, "state")) {
        info_state(m, argc > 2 ? argv[2] : NULL, out);
    } else if (!strcmp(what, "timers")) {
        info_timers(m, out);
    } else if (!strcmp(what, "network")) {
        info_network(m, out);
    } else if (!strcmp(what, "audio")) {
        /* A Mimic extension: backends, voices and underrun counters. */
        for (int i = 0; i < m->n_audio; i++) {
            audio_info(m->audio[i], out);
        }
        if (!m->n_audio) {
            g_string_append(out, "no audio device\n");
        }
    } else if (!strcmp(what, "cpus")) {
        info_cpus(m, out);
    } else if (!strcmp(what, "jit")) {
        if (m->cpu && m->cpu->ops->engine_info) {
            m->cpu->ops->engine_info(m->cpu, out);
        } else {
            g_string_append(out, "no JIT\n");
        }
    } else if (!strcmp(what, "icount")) {
        info_icount(m, out);
    } else if (!strcmp(what, "ramhash")) {
        info_ramhash(m, out);
    } else if (!strcmp(what, "usb")) {
        if (m->board_info->usb_info) {
            m->board_info->usb_info(&m->board, out);
        }
    } else {
        g_string_append(out, "info status|version|registers|cpus|mtree|"
                        "ioports|qtree|roms|network|chardev|block|"
                        "snapshots|usb|icount|ramhash|state|timers\n");
    }
}

static void cmd_stop(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    machine_do_stop(m);
}

static void cmd_cont(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    machine_do_cont(m);
}

/* Mimic extension: stop when the -icount instruction counter reaches N
   (exactly: the CPU ends its slice there); no argument clears it. */
static void cmd_icount_stop(MimicMachine *m, gchar **argv, int argc,
                            GString *out)
{
    if (m->clock->mode != CLOCK_MODE_ICOUNT) {
        g_string_append(out, "Error: icount_stop needs -icount\n");
        return;
    }
    if (argc < 2) {
        m->icount_stop = -1;
        return;
    }
    char *end;
    errno = 0;
    gint64 n = g_ascii_strtoll(argv[1], &end, 0);
    if (argc > 2 || errno || end == argv[1] || *end || n < 0) {
        g_string_append_printf(out, "Error: icount_stop: '%s' is not an "
                               "instruction count\n", argv[1]);
        return;
    }
    if (n <= m->clock->icount) {
        g_string_append_printf(out, "Error: icount_stop: the counter is "
                               "already at %" G_GINT64_FORMAT "\n",
                               m->clock->icount);
        return;
    }
    m->icount_stop = n;
}

static void cmd_reset(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    machine_do_reset(m);
}

static void cmd_powerdown(MimicMachine *m, gchar **argv, int argc,
                          GString *out)
{
    machine_do_powerdown(m);
}

static void cmd_quit(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    machine_do_quit(m, 0);
}

static void report(GString *out, bool ok, GError *err)
{
    if (!ok) {
        g_string_append_printf(out, "Error: %s\n", err->message);
        g_error_free(err);
    }
}

static void cmd_migrate(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    GError *err = NULL;
    int ai = 1;
    while (ai < argc && argv[ai][0] == '-') {
        ai++; /* -d (detach) and friends: migration is synchronous here */
    }
    if (ai >= argc) {
        g_string_append(out, "migrate: missing URI (file:PATH or "
                        "\"exec:COMMAND\")\n");
        return;
    }
    bool ok = machine_migrate(m, argv[ai], &err);
    report(out, ok, err);
}

static void cmd_savevm(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    GError *err = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *name = argc > 1 ? g_strdup(argv[1])
        : g_date_time_format(now, "vm-%Y%m%d%H%M%S");
    bool ok = machine_savevm(m, name, &err);
    report(out, ok, err);
}

static void cmd_loadvm(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    GError *err = NULL;
    if (argc < 2) {
        g_string_append(out, "loadvm: missing snapshot name\n");
        return;
    }
    bool ok = machine_loadvm(m, argv[1], &err);
    report(out, ok, err);
}

static void cmd_delvm(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    GError *err = NULL;
    if (argc < 2) {
        g_string_append(out, "delvm: missing snapshot name\n");
        return;
    }
    bool ok = machine_delvm(m, argv[1], &err);
    report(out, ok, err);
}

static void cmd_screendump(MimicMachine *m, gchar **argv, int argc,
                           GString *out)
{
    GError *err = NULL;
    if (argc < 2) {
        g_string_append(out, "screendump: missing file name\n");
        return;
    }
    display_refresh(m->display);
    if (!display_save(m->display, argv[1], &err)) {
        g_string_append_printf(out, "%s\n", err->message);
        g_error_free(err);
    }
}

/* Parse "/NFMT" of x and xp: count, format letter, unit size. */
static bool parse_fmt(const char *s, long *count, char *fmt, int *size)
{
    *count = 1;
    *fmt = 'x';
    *size = 4;
    if (*s != '/') {
        return false;
    }
    s++;
    if (g_ascii_isdigit(*s)) {
        char *end;
        *count = strtol(s, &end, 10);
        s = end;
    }
    for (; *s; s++) {
        switch (*s) {
        case 'x': case 'd': case 'u': case 'o': case 'c': case 'i':
            *fmt = *s;
            if (*s == 'c') {
                *size = 1;
            }
            break;
        case 'b':
            *size = 1;
            break;
        case 'h':
            *size = 2;
            break;
        case 'w':
            *size = 4;
            break;
        case 'g':
            *size = 8;
            break;
        default:
            return false;
        }
    }
    return *count > 0 && *count <= 65536;
}

static void memory_dump(MimicMachine *m, gchar **argv, int argc, GString *out,
                        bool phys)
{
    long count;
    char fmt;
    int size;
    int ai = 1;
    if (argc > 1 && argv[1][0] == '/') {
        if (!parse_fmt(argv[1], &count, &fmt, &size)) {
            g_string_append_printf(out, "invalid format '%s'\n", argv[1]);
            return;
        }
        ai = 2;
    } else {
        count = 1;
        fmt = 'x';
        size = 4;
    }
    if (ai >= argc) {
        g_string_append(out, "missing address\n");
        return;
    }
    char *end;
    uint64_t addr;
    if (!strcmp(argv[ai], "$pc")) {
        /* The next instruction's address, as QEMU's $pc (linear). */
        if (!m->cpu || !m->cpu->ops->get_pc) {
            g_string_append(out, "no CPU\n");
            return;
        }
        addr = m->cpu->ops->get_pc(m->cpu);
    } else {
        addr = g_ascii_strtoull(argv[ai], &end, 0);
        if (*end || end == argv[ai]) {
            g_string_append_printf(out, "invalid address '%s'\n", argv[ai]);
            return;
        }
    }
    if (fmt == 'i') {
        if (!m->cpu || !m->cpu->ops->disassemble) {
            g_string_append(out, "no disassembler\n");
            return;
        }
        for (long i = 0; i < count; i++) {
            g_string_append_printf(out, "0x%08" G_GINT64_MODIFIER "x:  ",
                                   addr);
            int len = m->cpu->ops->disassemble(m->cpu, addr, phys, out);
            if (len <= 0) {
                g_string_append(out, "Cannot access memory\n");
                break;
            }
            g_string_append_c(out, '\n');
            addr += len;
        }
        return;
    }
    int per_line = fmt == 'c' ? 16 : 16 / size;
    for (long i = 0; i < count; i++) {
        uint64_t a = addr + (uint64_t)i * size;
        if (i % per_line == 0) {
            g_string_append_printf(out, "%s%016" G_GINT64_MODIFIER "x:",
                                   i ? "\n" : "", a);
        }
        uint64_t pa = a;
        if (!phys) {
            if (!m->cpu || !m->cpu->ops->virt_to_phys ||
                !m->cpu->ops->virt_to_phys(m->cpu, a, &pa)) {
                g_string_append(out, " Cannot access memory");
                break;
            }
        }
        uint64_t v = memmap_read_sized(m->mem, pa, size);
        switch (fmt) {
        case 'x':
            g_string_append_printf(out, " 0x%0*" G_GINT64_MODIFIER "x",
                                   size * 2, v);
            break;
        case 'u':
            g_string_append_printf(out, " %" G_GUINT64_FORMAT, v);
            break;
        case 'd': {
            int64_t sv = size == 8 ? (int64_t)v :
                         (int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size);
            g_string_append_printf(out, " %" G_GINT64_FORMAT, sv);
            break;
        }
        case 'o':
            g_string_append_printf(out, " %#" G_GINT64_MODIFIER "o", v);
            break;
        case 'c':
            if (v >= 32 && v < 127) {
                g_string_append_printf(out, " '%c'", (char)v);
            } else {
                g_string_append_printf(out, " '\\x%02x'", (unsigned)v);
            }
            break;
        }
    }
    g_string_append_c(out, '\n');
}

static void cmd_xp(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    memory_dump(m, argv, argc, out, true);
}

static void cmd_x(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    memory_dump(m, argv, argc, out, false);
}

/* QEMU key names to Linux evdev codes. */
static const struct {
    const char *name;
    unsigned code;
} key_names[] = {
    { "esc", 1 }, { "1", 2 }, { "2", 3 }, { "3", 4 }, { "4", 5 }, { "5", 6 },
    { "6", 7 }, { "7", 8 }, { "8", 9 }, { "9", 10 }, { "0", 11 },
    { "minus", 12 }, { "equal", 13 }, { "backspace", 14 }, { "tab", 15 },
    { "q", 16 }, { "w", 17 }, { "e", 18 }, { "r", 19 }, { "t", 20 },
    { "y", 21 }, { "u", 22 }, { "i", 23 }, { "o", 24 }, { "p", 25 },
    { "bracket_left", 26 }, { "bracket_right", 27 }, { "ret", 28 },
    { "ctrl", 29 }, { "a", 30 }, { "s", 31 }, { "d", 32 }, { "f", 33 },
    { "g", 34 }, { "h", 35 }, { "j", 36 }, { "k", 37 }, { "l", 38 },
    { "semicolon", 39 }, { "apostrophe", 40 }, { "grave_accent", 41 },
    { "shift", 42 }, { "backslash", 43 }, { "z", 44 }, { "x", 45 },
    { "c", 46 }, { "v", 47 }, { "b", 48 }, { "n", 49 }, { "m", 50 },
    { "comma", 51 }, { "dot", 52 }, { "slash", 53 }, { "shift_r", 54 },
    { "asterisk", 55 }, { "alt", 56 }, { "spc", 57 }, { "caps_lock", 58 },
    { "f1", 59 }, { "f2", 60 }, { "f3", 61 }, { "f4", 62 }, { "f5", 63 },
    { "f6", 64 }, { "f7", 65 }, { "f8", 66 }, { "f9", 67 }, { "f10", 68 },
    { "num_lock", 69 }, { "scroll_lock", 70 }, { "f11", 87 }, { "f12", 88 },
    { "kp_enter", 96 }, { "ctrl_r", 97 }, { "alt_r", 100 }, { "home", 102 },
    { "up", 103 }, { "pgup", 104 }, { "left", 105 }, { "right", 106 },
    { "end", 107 }, { "down", 108 }, { "pgdn", 109 }, { "insert", 110 },
    { "delete", 111 }, { "meta_l", 125 }, { "menu", 139 },
};

static void sendkey_release(MimicMachine *m)
{
    int n = m->sendkey_n;
    m->sendkey_n = 0;
    if (m->sendkey_timer) {
        timer_del(m->sendkey_timer);
    }
    for (int i = n - 1; i >= 0; i--) {
        m->board_info->send_key(&m->board, m->sendkey_codes[i], false);
    }
}

static void sendkey_timer_cb(void *opaque)
{
    sendkey_release(opaque);
}

static void cmd_sendkey(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    if (argc < 2) {
        g_string_append(out, "sendkey: missing key (e.g. ctrl-alt-delete)\n");
        return;
    }
    gchar **keys = g_strsplit(argv[1], "-", 8);
    unsigned codes[8];
    int n = 0;
    for (gchar **k = keys; *k; k++) {
        const char *name = !strcmp(*k, "delete") || !strcmp(*k, "del")
                           ? "delete" : *k;
        unsigned code = 0;
        for (size_t i = 0; i < G_N_ELEMENTS(key_names); i++) {
            if (!g_ascii_strcasecmp(name, key_names[i].name)) {
                code = key_names[i].code;
            }
        }
        if (!code && !strncmp(name, "0x", 2)) {
            code = strtoul(name, NULL, 16);
        }
        if (!code || code > 767) {
            g_string_append_printf(out, "unknown key: '%s'\n", *k);
            g_strfreev(keys);
            return;
        }
        codes[n++] = code;
    }
    g_strfreev(keys);
    /* As QEMU: the keys are held for hold_ms (default 100) of machine
       time, long enough for the guest to see them down, and a longer hold
       lets the keyboard's typematic repeat run. */
    gint64 hold = 100;
    if (argc > 2 && !g_ascii_string_to_signed(argv[2], 10, 0, 600000, &hold,
                                              NULL)) {
        g_string_append_printf(out, "sendkey: invalid hold time '%s' "
                               "(0-600000 ms)\n", argv[2]);
        return;
    }
    if (!m->board_info->send_key) {
        g_string_append(out, "sendkey: this machine has no keyboard yet\n");
        return;
    }
    sendkey_release(m); /* the previous sendkey's keys come up first */
    for (int i = 0; i < n; i++) {
        m->board_info->send_key(&m->board, codes[i], true);
        m->sendkey_codes[i] = codes[i];
    }
    m->sendkey_n = n;
    if (hold == 0) {
        sendkey_release(m);
        return;
    }
    if (!m->sendkey_timer) {
        m->sendkey_timer = timer_new(m->clock, sendkey_timer_cb, m);
    }
    timer_mod(m->sendkey_timer, clock_now(m->clock) + hold * 1000000);
}

static bool parse_int(const char *str, int *out)
{
    gint64 v;
    if (!g_ascii_string_to_signed(str, 10, G_MININT, G_MAXINT, &v, NULL)) {
        return false;
    }
    *out = v;
    return true;
}

static void cmd_mouse_move(MimicMachine *m, gchar **argv, int argc,
                           GString *out)
{
    int d[3] = { 0, 0, 0 };
    if (argc < 3 || argc > 4) {
        g_string_append(out, "mouse_move: usage: mouse_move dx dy [dz]\n");
        return;
    }
    for (int i = 1; i < argc; i++) {
        if (!parse_int(argv[i], &d[i - 1])) {
            g_string_append_printf(out, "mouse_move: invalid number '%s'\n",
                                   argv[i]);
            return;
        }
    }
    if (m->board_info->pointer_absolute &&
        m->board_info->pointer_absolute(&m->board)) {
        /* A tablet: dx dy are the position in pixels, as in QEMU. */
        m->board_info->send_pointer_abs(&m->board, d[0], d[1], d[2],
                                        m->mouse_buttons);
        return;
    }
    if (!m->board_info->send_pointer) {
        g_string_append(out, "mouse_move: this machine has no mouse\n");
        return;
    }
    machine_do_pointer(m, d[0], d[1], d[2], m->mouse_buttons);
}

static void cmd_mouse_button(MimicMachine *m, gchar **argv, int argc,
                             GString *out)
{
    int state;
    if (argc != 2) {
        g_string_append(out, "mouse_button: usage: mouse_button state\n");
        return;
    }
    if (!parse_int(argv[1], &state) || state < 0 || state > 31) {
        g_string_append_printf(out, "mouse_button: invalid button state "
                               "'%s' (0-31: 1 left, 2 right, 4 middle)\n",
                               argv[1]);
        return;
    }
    if (!m->board_info->send_pointer) {
        g_string_append(out, "mouse_button: this machine has no mouse\n");
        return;
    }
    machine_do_pointer(m, 0, 0, 0, state);
}

static void info_block(MimicMachine *m, const char *device, GString *out)
{
    gsize before = out->len;
    drives_info(m->drives, device, out);
    if (device && out->len == before) {
        g_string_append_printf(out, "Device '%s' not found\n", device);
    }
}

static void cmd_change(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    GError *err = NULL;
    if (argc < 3 || argc > 4) {
        g_string_append(out, "change: usage: change device filename "
                        "[format]\n");
        return;
    }
    if (!machine_change_media(m, argv[1], argv[2],
                              argc > 3 ? argv[3] : NULL, &err)) {
        g_string_append_printf(out, "%s\n", err->message);
        g_error_free(err);
    }
}

static void cmd_eject(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    GError *err = NULL;
    bool force = false;
    int ai = 1;
    if (argc > 1 && !strcmp(argv[1], "-f")) {
        force = true;
        ai = 2;
    }
    if (ai != argc - 1) {
        g_string_append(out, "eject: usage: eject [-f] device\n");
        return;
    }
    if (!machine_eject_media(m, argv[ai], force, &err)) {
        g_string_append_printf(out, "%s\n", err->message);
        g_error_free(err);
    }
}

/* hostfwd_add [netdev] RULE / hostfwd_remove [netdev] RULE (QEMU's) */
static void hostfwd(MimicMachine *m, gchar **argv, int argc, GString *out,
                    bool add)
{
    if (argc < 2 || argc > 3) {
        g_string_append_printf(out, "Error: usage: %s [netdev_id] "
                               "[tcp|udp]:[hostaddr]:hostport%s\n", argv[0],
                               add ? "-[guestaddr]:guestport" : "");
        return;
    }
    GError *err = NULL;
    if (!machine_net_hostfwd(m->net, argc == 3 ? argv[1] : NULL,
                             argv[argc - 1], add, &err)) {
        g_string_append_printf(out, "Error: %s\n", err->message);
        g_error_free(err);
    }
}

static void cmd_hostfwd_add(MimicMachine *m, gchar **argv, int argc,
                            GString *out)
{
    hostfwd(m, argv, argc, out, true);
}

static void cmd_hostfwd_remove(MimicMachine *m, gchar **argv, int argc,
                               GString *out)
{
    hostfwd(m, argv, argc, out, false);
}

/* netdev_add TYPE,id=ID[,...] / netdev_del ID (QEMU's) */
static void cmd_netdev_add(MimicMachine *m, gchar **argv, int argc,
                           GString *out)
{
    GError *err = NULL;
    if (argc != 2) {
        g_string_append(out, "Error: usage: netdev_add "
                        "user|tap,id=str[,prop=value][,...]\n");
    } else if (!machine_net_netdev_add(m->net, argv[1], &err)) {
        g_string_append_printf(out, "Error: %s\n", err->message);
        g_error_free(err);
    }
}

static void cmd_netdev_del(MimicMachine *m, gchar **argv, int argc,
                           GString *out)
{
    GError *err = NULL;
    if (argc != 2) {
        g_string_append(out, "Error: usage: netdev_del id\n");
    } else if (!machine_net_netdev_del(m->net, &m->board, argv[1], &err)) {
        g_string_append_printf(out, "Error: %s\n", err->message);
        g_error_free(err);
    }
}

static void cmd_set_link(MimicMachine *m, gchar **argv, int argc,
                         GString *out)
{
    if (argc != 3 || (strcmp(argv[2], "on") && strcmp(argv[2], "off"))) {
        g_string_append(out, "Error: usage: set_link name on|off\n");
        return;
    }
    GError *err = NULL;
    if (!machine_net_set_link(m->net, &m->board, argv[1],
                              !strcmp(argv[2], "on"), &err)) {
        g_string_append_printf(out, "Error: %s\n", err->message);
        g_error_free(err);
    }
}

/* Mimic extension: audio_jack JACK on|off plugs or pulls a jack of the
   sound card (the HDA codec's line-out / line-in). */
static void cmd_audio_jack(MimicMachine *m, gchar **argv, int argc,
                           GString *out)
{
    if (argc != 3 || (strcmp(argv[2], "on") && strcmp(argv[2], "off"))) {
        g_string_append(out, "Error: usage: audio_jack line-out|line-in "
                        "on|off\n");
        return;
    }
    GError *err = NULL;
    if (!m->board_info->audio_jack) {
        g_string_append(out, "Error: this machine has no audio jacks\n");
    } else if (!m->board_info->audio_jack(&m->board, argv[1],
                                          !strcmp(argv[2], "on"), &err)) {
        g_string_append_printf(out, "Error: %s\n", err->message);
        g_error_free(err);
    }
}

/* drive_add ADDR if=none,id=ID,file=...: a drive for a later device_add
   usb-storage,drive=ID.  ADDR (a PCI slot in QEMU's syntax) means
   nothing to an if=none drive and is ignored, as QEMU does. */
static void cmd_drive_add(MimicMachine *m, gchar **argv, int argc,
                          GString *out)
{
    if (argc != 3) {
        g_string_append(out, "Error: usage: drive_add addr "
                        "if=none,id=ID,file=FILE[,format=...]\n");
        return;
    }
    GError *err = NULL;
    DriveConfig d;
    if (!options_parse_drive("drive_add", argv[2], &d, &err)) {
        g_string_append_printf(out, "Error: %s\n", err->message);
        g_error_free(err);
        return;
    }
    if (drives_add(m->drives, &d, &err)) {
        g_string_append(out, "OK\n");
    } else {
        g_string_append_printf(out, "Error: %s\n", err->message);
        g_error_free(err);
    }
    drive_config_clear(&d);
}

/* device_add DRIVER,... / device_del ID (the board's USB devices) */
static void cmd_device_add(MimicMachine *m, gchar **argv, int argc,
                           GString *out)
{
    if (argc != 2) {
        g_string_append(out, "Error: usage: device_add driver[,prop=value]"
                        "...\n");
        return;
    }
    GError *err = NULL;
    if (!m->board_info->device_add) {
        g_string_append(out, "Error: this machine cannot add devices\n");
    } else if (!m->board_info->device_add(&m->board, argv[1], &err)) {
        g_string_append_printf(out, "Error: %s\n", err->message);
        g_error_free(err);
    }
}

static void cmd_device_del(MimicMachine *m, gchar **argv, int argc,
                           GString *out)
{
    if (argc != 2) {
        g_string_append(out, "Error: usage: device_del id\n");
        return;
    }
    GError *err = NULL;
    if (!m->board_info->device_del) {
        g_string_append(out, "Error: this machine cannot remove devices\n");
    } else if (!m->board_info->device_del(&m->board, argv[1], &err)) {
        g_string_append_printf(out, "Error: %s\n", err->message);
        g_error_free(err);
    }
}

static const MonCmd commands[] = {
    { "help", "[cmd]", "show the help", cmd_help },
    { "?", "[cmd]", "show the help", cmd_help },
    { "info", "subcommand", "show machine state (status, version, registers, "
      "cpus, mtree, ioports, qtree, roms, network, chardev, "
      "block [device], snapshots, usb; Mimic "
      "extensions: icount, ramhash, audio)", cmd_info },
    { "stop", "", "stop emulation", cmd_stop },
    { "icount_stop", "[count]", "stop when the -icount instruction counter "
      "reaches count; no count: clear (Mimic extension)", cmd_icount_stop },
    { "cont", "", "resume emulation", cmd_cont },
    { "c", "", "resume emulation", cmd_cont },
    { "x", "/fmt addr", "virtual memory dump starting at 'addr'", cmd_x },
    { "xp", "/fmt addr", "physical memory dump starting at 'addr'", cmd_xp },
    { "screendump", "filename", "save the screen as PNG (.png) or PPM",
      cmd_screendump },
    { "sendkey", "keys [hold_ms]", "send keys to the guest (e.g. "
      "ctrl-alt-delete), held for hold_ms (100)",
      cmd_sendkey },
    { "mouse_move", "dx dy [dz]", "send mouse move events (dy down, dz > 0 "
      "the wheel up)", cmd_mouse_move },
    { "mouse_button", "state", "change the mouse button state (1=L, 2=R, "
      "4=M)", cmd_mouse_button },
    { "change", "device filename [format]", "change a removable medium "
      "(e.g. change ide1-cd0 /path/demo.iso raw)", cmd_change },
    { "eject", "[-f] device", "eject a removable medium (-f: even if the "
      "guest locked it)", cmd_eject },
    { "system_reset", "", "reset the machine", cmd_reset },
    { "system_powerdown", "", "press the power button", cmd_powerdown },
    { "migrate", "uri", "save the machine to file:PATH or \"exec:COMMAND\" "
      "(the machine stays paused)", cmd_migrate },
    { "savevm", "[tag]", "save a VM snapshot in the qcow2 disks", cmd_savevm },
    { "loadvm", "tag", "restore a VM snapshot", cmd_loadvm },
    { "delvm", "tag", "delete a VM snapshot", cmd_delvm },
    { "hostfwd_add", "[netdev_id] [tcp|udp]:[hostaddr]:hostport-"
      "[guestaddr]:guestport", "redirect a host port to the guest",
      cmd_hostfwd_add },
    { "hostfwd_remove", "[netdev_id] [tcp|udp]:[hostaddr]:hostport",
      "remove a port redirection", cmd_hostfwd_remove },
    { "netdev_add", "user|tap,id=str[,prop=value][,...]", "add a network "
      "back end", cmd_netdev_add },
    { "netdev_del", "id", "remove a network back end", cmd_netdev_del },
    { "set_link", "name on|off", "change the link status of a network "
      "card or back end", cmd_set_link },
    { "drive_add", "addr if=none,id=ID,file=FILE[,format=...]", "add a "
      "drive for device_add usb-storage,drive=ID", cmd_drive_add },
    { "device_add", "driver[,prop=value][,...]", "add a USB device "
      "(usb-tablet, usb-mouse, usb-kbd, usb-storage,drive=ID)",
      cmd_device_add },
    { "device_del", "id", "remove a USB device", cmd_device_del },
    { "audio_jack", "line-out|line-in on|off", "plug or pull a jack of "
      "the HDA codec", cmd_audio_jack },
    { "quit", "", "quit the emulator", cmd_quit },
    { "q", "", "quit the emulator", cmd_quit },
};

static const MonCmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (!strcmp(commands[i].name, name)) {
            return &commands[i];
        }
    }
    return NULL;
}

static void cmd_help(MimicMachine *m, gchar **argv, int argc, GString *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        const MonCmd *c = &commands[i];
        if (argc > 1 && strcmp(argv[1], c->name)) {
            continue;
        }
        g_string_append_printf(out, "%s %s -- %s\n", c->name, c->args,
                               c->help);
    }
}

void monitor_execute(MimicMachine *m, const char *cmdline, GString *out)
{
    gchar **argv = NULL;
    int argc = 0;
    if (!g_utf8_validate(cmdline, -1, NULL)) {
        /* Junk from a terminal or socket: refused whole, never read as
           the command its ASCII part spells; not echoed either. */
        g_string_append(out, "invalid UTF-8 in the command line: "
                             "refused\n");
        return;
    }
    g_autofree char *line = g_strstrip(g_strdup(cmdline));
    if (!*line) {
        return;
    }
    /* "x/3i addr" as QEMU writes it: the format joined to the name. */
    size_t name_len = strcspn(line, " \t");
    char *slash = memchr(line, '/', name_len);
    if (slash && slash != line) {
        char *split = g_strdup_printf("%.*s %s", (int)(slash - line), line,
                                      slash);
        g_free(line);
        line = split;
    }
    if (!g_shell_parse_argv(line, &argc, &argv, NULL)) {
        g_string_append_printf(out, "could not parse: '%s'\n", line);
        return;
    }
    const MonCmd *c = find_cmd(argv[0]);
    if (!c) {
        g_string_append_printf(out, "unknown command: '%s'\n", argv[0]);
    } else {
        c->fn(m, argv, argc, out);
    }
    g_strfreev(argv);
}

static void mon_puts(Monitor *mon, const char *s)
{
    /* Terminals want CR LF. */
    GString *o = g_string_new(NULL);
    for (; *s; s++) {
        if (*s == '\n') {
            g_string_append_c(o, '\r');
        }
        g_string_append_c(o, *s);
    }
    chardev_write(mon->chr, o->str, o->len);
    g_string_free(o, TRUE);
}

static int mon_can_read(void *opaque)
{
    return 256;
}

static void mon_read(void *opaque, const uint8_t *buf, int len)
{
    Monitor *mon = opaque;
    GString *echo = g_string_new(NULL);
    for (int i = 0; i < len; i++) {
        const char *line = lineedit_feed(mon->edit, buf[i],
                                         mon->echo ? echo : NULL);
        if (!line) {
            continue;
        }
        if (mon->echo) {
            g_string_append_c(echo, '\n');
        }
        mon_puts(mon, echo->str);
        g_string_truncate(echo, 0);
        GString *out = g_string_new(NULL);
        monitor_execute(mon->m, line, out);
        mon_puts(mon, out->str);
        g_string_free(out, TRUE);
        if (!mon->m->quit_requested) {
            mon_puts(mon, PROMPT);
        }
    }
    mon_puts(mon, echo->str);
    g_string_free(echo, TRUE);
}

static void mon_event(void *opaque, int event)
{
    Monitor *mon = opaque;
    if (event == CHARDEV_EVENT_CLOSED) {
        /* The next client must not inherit half a line of the last. */
        lineedit_reset(mon->edit);
    } else if (event == CHARDEV_EVENT_OPENED) {
        g_autofree char *banner = g_strdup_printf(
            "Mimic %s monitor - type 'help' for more information\n" PROMPT,
            mimic_version());
        mon_puts(mon, banner);
    }
}

static const CharFrontend monitor_frontend = {
    .can_read = mon_can_read,
    .read = mon_read,
    .event = mon_event,
};

Monitor *monitor_new(MimicMachine *m, CharDev *chr)
{
    Monitor *mon = g_new0(Monitor, 1);
    mon->m = m;
    mon->chr = chr;
    mon->echo = chardev_is_tty(chr);
    mon->edit = lineedit_new(PROMPT);
    chardev_set_frontend(chr, &monitor_frontend, mon);
    return mon;
}

void monitor_free(Monitor *mon)
{
    if (mon) {
        chardev_set_frontend(mon->chr, NULL, NULL);
        lineedit_free(mon->edit);
        g_free(mon);
    }
}
