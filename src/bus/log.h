/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Diagnostic logging for the engine, devices and CPUs.
 *
 * Guest misdeeds (a register written with a value the hardware ignores, an
 * unimplemented feature used) are logged through mimic_log_guest() and
 * mimic_log_unimp(), which rate-limit per call site so that a guest cannot
 * flood the host's terminal.  Trace categories (-d in_asm,int,cpu) are
 * selected once at start-up by main().
 */
#ifndef MIMIC_BUS_LOG_H
#define MIMIC_BUS_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

enum {
    LOG_GUEST_ERROR = 1u << 0, /* guest did something hardware ignores */
    LOG_UNIMP = 1u << 1,       /* feature not implemented by Mimic */
    LOG_IN_ASM = 1u << 2,      /* each translated block */
    LOG_INT = 1u << 3,         /* interrupts and exceptions */
    LOG_CPU = 1u << 4,         /* CPU state before each block */
    LOG_EXEC = 1u << 5,        /* each executed block */
    LOG_IOPORT = 1u << 6,      /* unassigned port accesses */
};

/* Parse "-d" categories ("in_asm,int,cpu", "help"); false on unknown. */
bool mimic_log_parse(const char *spec, uint32_t *mask, GError **error);
/* "-d help" listing. */
void mimic_log_help(GString *out);
void mimic_log_set_mask(uint32_t mask);
uint32_t mimic_log_get_mask(void);
/* NULL logs to stderr. */
bool mimic_log_set_file(const char *path, GError **error);
bool mimic_log_enabled(uint32_t category);
void mimic_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/*
 * Rate-limited messages: each call site prints at most a few times.
 * They are printed to stderr only when the category is enabled or when
 * MIMIC_DEBUG is set in the environment; otherwise they are counted.
 */
#define mimic_log_guest(...)                                                  \
    do {                                                                      \
        static unsigned mimic_log_count_;                                     \
        mimic_log_limited_(&mimic_log_count_, LOG_GUEST_ERROR, __VA_ARGS__);  \
    } while (0)
#define mimic_log_unimp(...)                                                  \
    do {                                                                      \
        static unsigned mimic_log_count_;                                     \
        mimic_log_limited_(&mimic_log_count_, LOG_UNIMP, __VA_ARGS__);        \
    } while (0)
/* Host-side failures the user must see (a disk write the host refused):
   always printed, rate-limited the same way. */
#define mimic_log_host(...)                                                   \
    do {                                                                      \
        static unsigned mimic_log_count_;                                     \
        mimic_log_limited_(&mimic_log_count_, 0, __VA_ARGS__);                \
    } while (0)
void mimic_log_limited_(unsigned *count, uint32_t category, const char *fmt,
                        ...) G_GNUC_PRINTF(3, 4);

#endif
