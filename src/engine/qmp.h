/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QMP server (qmp.c): QEMU's JSON control protocol on a character
 * device.  Internal to the engine; runs on the worker thread.
 */
#ifndef MIMIC_ENGINE_QMP_H
#define MIMIC_ENGINE_QMP_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "bus/chardev.h"
#include "engine/mimic.h"

typedef struct Qmp Qmp;

/* On chr; or, with chr NULL (tests), replies are appended to capture. */
Qmp *qmp_new(MimicMachine *m, CharDev *chr, GString *capture);
void qmp_free(Qmp *q);
/* Bytes from the client. */
void qmp_input(Qmp *q, const uint8_t *data, size_t len);
/* A machine event, turned into a QMP event for a negotiated client. */
void qmp_machine_event(Qmp *q, const MimicEvent *ev);
/* data: serialized JSON object or NULL. */
void qmp_send_event(Qmp *q, const char *name, const char *data);

#endif
