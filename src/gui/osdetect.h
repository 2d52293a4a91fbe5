/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What an installation disc is for (the wizard's OS detection): libosinfo
 * (Debian's libosinfo-1.0-0 with its database, osinfo-db) identifies the
 * medium from its volume descriptor; the result maps to one of Mimic's
 * presets with the database's resources (memory, disk) and devices.
 * When libosinfo is not built in, or does not know the medium, the
 * volume ID table of mimic_detect_os() answers.  No GTK here: the tests
 * use it in process.
 */
#ifndef MIMIC_GUI_OSDETECT_H
#define MIMIC_GUI_OSDETECT_H

#include <stdbool.h>
#include <glib.h>
#include <gio/gio.h>

#include "gui/machine_file.h"

#define MIMIC_OS_DETECT_ERROR (mimic_os_detect_error_quark())
GQuark mimic_os_detect_error_quark(void);
typedef enum {
    MIMIC_OS_DETECT_ERROR_READ,   /* the file cannot be read */
    MIMIC_OS_DETECT_ERROR_NOT_ISO, /* no ISO 9660 volume descriptor */
} MimicOsDetectError;

/* A proposal for a new machine; fields 0 / NULL: the preset's. */
typedef struct MimicOsGuess {
    MimicOsType os;      /* MIMIC_OS_COUNT: not recognised */
    char *name;          /* "Debian 11", NULL when only the preset is known */
    char *short_id;      /* libosinfo's, "debian11" */
    char *codename;      /* "bullseye" */
    char *arch;          /* the medium's, "i686", "x86_64" */
    char *volume_id;     /* the disc's, trimmed (NULL: none) */
    bool from_osinfo;    /* libosinfo recognised it (else the table) */
    unsigned memory_mib;
    unsigned disk_mib;
    const char *cpu;     /* a CPU model of the engine */
    const char *sound;   /* a sound card the OS has a driver for */
    const char *nic;     /* a NIC the OS has a driver for */
} MimicOsGuess;

void mimic_os_guess_free(MimicOsGuess *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MimicOsGuess, mimic_os_guess_free)

/*
 * Read path (blocking: call it from a thread) and say what it is.  NULL
 * with an error when the file cannot be read or is not an ISO 9660
 * image; a guess with os == MIMIC_OS_COUNT for a disc nobody knows.
 */
MimicOsGuess *mimic_os_identify(const char *path, GError **error);
/* The same in a GTask thread; the result is a MimicOsGuess*. */
void mimic_os_identify_async(const char *path, GCancellable *cancellable,
                             GAsyncReadyCallback done, gpointer user_data);
MimicOsGuess *mimic_os_identify_finish(GAsyncResult *res, GError **error);

/* "Debian 11 (bullseye) i686", untranslated parts as the database says. */
char *mimic_os_guess_describe(const MimicOsGuess *g);

/* Whether path has an ISO 9660 primary volume descriptor (sector 16). */
bool mimic_file_has_iso_pvd(const char *path);

/* Whether this build reads the libosinfo database. */
bool mimic_os_detect_has_osinfo(void);

#ifdef HAVE_LIBOSINFO
#include <osinfo/osinfo.h>
/*
 * The mapping itself (tested in process): an OS from the database and
 * the medium's architecture (NULL: any) to a guess: the preset from its
 * distro and family, memory and disk from its recommended (else minimum)
 * resources within Mimic's limits, the first sound card and NIC of the
 * preset's order the OS lists a driver for, a 64-bit CPU for x86_64.
 */
MimicOsGuess *mimic_os_guess_from_osinfo(OsinfoOs *os, const char *arch);
#endif

#endif
