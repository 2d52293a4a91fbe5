/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging (see log.h).  The category mask and the log file are set once by
 * main() before any machine starts; they are process-wide diagnostics
 * settings, not machine state.
 */
#include "bus/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>

static uint32_t log_mask;
static FILE *log_file;
static GMutex log_lock;

static const struct {
    const char *name;
    uint32_t bit;
    const char *help;
} log_items[] = {
    { "guest_errors", LOG_GUEST_ERROR, "guest accesses hardware ignores" },
    { "unimp", LOG_UNIMP, "features Mimic does not implement" },
    { "in_asm", LOG_IN_ASM, "guest code of each translated block" },
    { "int", LOG_INT, "interrupts and exceptions" },
    { "cpu", LOG_CPU, "CPU state before each block" },
    { "exec", LOG_EXEC, "each executed block" },
    { "ioport", LOG_IOPORT, "unassigned I/O port accesses" },
};

bool mimic_log_parse(const char *spec, uint32_t *mask, GError **error)
{
    uint32_t m = 0;
    gchar **items = g_strsplit(spec, ",", -1);
    bool ok = true;
    for (gchar **it = items; *it; it++) {
        bool found = false;
        if (strcmp(*it, "all") == 0) {
            m = ~0u;
            continue;
        }
        for (size_t i = 0; i < G_N_ELEMENTS(log_items); i++) {
            if (strcmp(*it, log_items[i].name) == 0) {
                m |= log_items[i].bit;
                found = true;
            }
        }
        if (!found) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "-d: unknown log item '%s' (try -d help)", *it);
            ok = false;
            break;
        }
    }
    g_strfreev(items);
    if (ok) {
        *mask = m;
    }
    return ok;
}

void mimic_log_help(GString *out)
{
    g_string_append(out, "Log items (comma separated):\n");
    for (size_t i = 0; i < G_N_ELEMENTS(log_items); i++) {
        g_string_append_printf(out, "%-14s %s\n", log_items[i].name,
                               log_items[i].help);
    }
}

void mimic_log_set_mask(uint32_t mask)
{
    log_mask = mask;
}

uint32_t mimic_log_get_mask(void)
{
    return log_mask;
}

bool mimic_log_set_file(const char *path, GError **error)
{
    FILE *f = NULL;
    if (path) {
        f = fopen(path, "w");
        if (!f) {
            g_set_error(error, G_FILE_ERROR,
                        g_file_error_from_errno(errno),
                        "-D: cannot open log file '%s': %s", path,
                        g_strerror(errno));
            return false;
        }
        setvbuf(f, NULL, _IOLBF, 0);
    }
    if (log_file) {
        fclose(log_file);
    }
    log_file = f;
    return true;
}

bool mimic_log_enabled(uint32_t category)
{
    return (log_mask & category) != 0;
}

static void log_vprintf(const char *fmt, va_list ap)
{
    g_mutex_lock(&log_lock);
    vfprintf(log_file ? log_file : stderr, fmt, ap);
    g_mutex_unlock(&log_lock);
}

void mimic_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vprintf(fmt, ap);
    va_end(ap);
}

void mimic_log_limited_(unsigned *count, uint32_t category, const char *fmt,
                        ...)
{
    static int debug_env = -1;
    if (debug_env < 0) {
        debug_env = g_getenv("MIMIC_DEBUG") != NULL;
    }
    if (category && !(log_mask & category) && !debug_env) {
        return;
    }
    unsigned n = __atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
    if (n >= 5) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    g_mutex_lock(&log_lock);
    FILE *f = log_file ? log_file : stderr;
    fputs(category == LOG_UNIMP ? "mimic: unimplemented: "
          : category ? "mimic: guest error: " : "mimic: ", f);
    vfprintf(f, fmt, ap);
    if (fmt[0] && fmt[strlen(fmt) - 1] != '\n') {
        fputc('\n', f);
    }
    if (n == 4) {
        fputs("mimic: (further messages of this kind suppressed)\n", f);
    }
    g_mutex_unlock(&log_lock);
    va_end(ap);
}
