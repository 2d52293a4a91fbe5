/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Character devices: the host ends of serial ports and monitors.
 *
 * Backends, in QEMU's spellings: "stdio", "null", "none", "file:PATH",
 * "pty", "unix:PATH[,server=on|off][,wait=on|off]", "tcp:HOST:PORT[,...]"
 * (the older bare "server" and "nowait" flags too), "mon:stdio" (stdio
 * shared between a serial port and the monitor, switched with Ctrl-A c as
 * QEMU does), and "vc" (a terminal supplied by the GUI through a pipe).
 *
 * Input is read on the GMainContext given at creation (the machine's
 * worker context), so frontends (UART, monitor) are called on the worker
 * thread.  Writes never block the guest for long: a peer that does not
 * read loses output rather than stalling the machine.
 */
#ifndef MIMIC_BUS_CHARDEV_H
#define MIMIC_BUS_CHARDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

typedef struct CharDev CharDev;

enum {
    CHARDEV_EVENT_OPENED,
    CHARDEV_EVENT_CLOSED,
};

typedef struct CharFrontend {
    /* How many bytes the frontend can take now (0 pauses input). */
    int (*can_read)(void *opaque);
    void (*read)(void *opaque, const uint8_t *buf, int len);
    void (*event)(void *opaque, int event);
} CharFrontend;

/* Parse and open a backend; NULL with an error naming the spec. */
CharDev *chardev_new(const char *spec, GMainContext *ctx, GError **error);
void chardev_free(CharDev *chr);
/* A "mon:" backend hands out a second frontend slot for the monitor;
   the returned handle belongs to chr and is freed with it. */
CharDev *chardev_mux_monitor(CharDev *chr);
void chardev_set_frontend(CharDev *chr, const CharFrontend *fe,
                          void *opaque);
/* Returns bytes written (all of them unless the backend is gone). */
int chardev_write(CharDev *chr, const void *buf, int len);
/* Write bypassing mux focus (internal to chardev.c). */
int chardev_write_raw_(CharDev *chr, const void *buf, int len);
void chardev_printf(CharDev *chr, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Tell the backend the frontend can take input again after can_read==0. */
void chardev_accept_input(CharDev *chr);
/* Is the host end a terminal (line editing in the monitor)? */
bool chardev_is_tty(CharDev *chr);
const char *chardev_spec(CharDev *chr);
/* pty backends: the slave path, for "info chardev". */
const char *chardev_pty_path(CharDev *chr);
/* "vc": the GUI side's file descriptor (a socketpair end), else -1. */
int chardev_vc_fd(CharDev *chr);

#endif
