/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Machine files: one GKeyFile per machine under
 * g_get_user_data_dir()/mimic/machines/NAME.mimic, and the MachineConfig
 * it stands for.  No GTK here, so tests use it without a display.
 *
 * Format (docs/gui.md, "Machine files"): group [Machine] with name, os,
 * memory (MiB), cpus, boot, sound, nic, net, full-screen; group [Drives]
 * with hda..hdd (+ hdX-format), cdrom, fda/fdb.  Every value is checked;
 * a bad one rejects the file with a message naming the key.
 */
#ifndef MIMIC_GUI_MACHINE_FILE_H
#define MIMIC_GUI_MACHINE_FILE_H

#include <stdbool.h>
#include <glib.h>

#include "bus/config.h"

#define MIMIC_MACHINE_FILE_ERROR (mimic_machine_file_error_quark())
GQuark mimic_machine_file_error_quark(void);
typedef enum {
    MIMIC_MACHINE_FILE_ERROR_INVALID, /* a bad or unknown value */
    MIMIC_MACHINE_FILE_ERROR_EXISTS,
    MIMIC_MACHINE_FILE_ERROR_IO,
} MimicMachineFileError;

typedef enum {
    MIMIC_OS_LINUX,
    MIMIC_OS_DOS,
    MIMIC_OS_WIN9X,
    MIMIC_OS_WINNT, /* Windows 2000 / XP */
    MIMIC_OS_OTHER,
    MIMIC_OS_COUNT,
} MimicOsType;

/* Defaults an OS preset gives a new machine. */
typedef struct MimicPreset {
    MimicOsType os;
    const char *id;        /* "linux", "dos", ... as written to the file */
    const char *label;     /* untranslated; wrap with _() to show */
    unsigned memory_mib;
    unsigned disk_mib;     /* 0: no hard disk by default */
    /* Sound card and NIC model in order of preference (comma-separated
       QEMU names); the machine gets the first the engine emulates. */
    const char *sound;     /* NULL: none */
    const char *nic;       /* NULL: no network */
    const char *cpu;
    bool tablet;           /* a USB tablet: the pointer needs no grab */
} MimicPreset;

/* The preset's sound card / NIC model among those the engine emulates
   (mimic_sound_cards(), mimic_nic_models()); NULL: none. */
const char *mimic_preset_sound(const MimicPreset *p);
const char *mimic_preset_nic(const MimicPreset *p);

/*
 * Port forwards of user networking, each as QEMU's hostfwd value
 * "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT".  Stored in the
 * machine file as the list key port-forwards and given to the engine as
 * the user back end's hostfwd= options.
 */
bool mimic_port_forward_valid(const char *rule, GError **error);
/* The machine's sound card (NULL: none) and NIC model (NULL: no
   network; with user networking otherwise), as the dialogs set them. */
void mimic_machine_set_sound(MachineConfig *cfg, const char *card);
void mimic_machine_set_nic(MachineConfig *cfg, const char *model);
/* The host's memory in MiB (0 if unknown), for the dialogs' limits. */
unsigned mimic_host_memory_mib(void);

/* The rules of cfg's user network (NULL-terminated, free with g_strfreev). */
char **mimic_machine_port_forwards(const MachineConfig *cfg);
/* Replace them; false (cfg unchanged) with error for a bad rule. */
bool mimic_machine_set_port_forwards(MachineConfig *cfg,
                                     const char *const *rules,
                                     GError **error);

const MimicPreset *mimic_preset_get(MimicOsType os);
const MimicPreset *mimic_preset_find(const char *id);

/* A machine as the library knows it. */
typedef struct MimicMachineFile {
    MimicOsType os;
    MachineConfig *cfg; /* cfg->name is the machine's name */
} MimicMachineFile;

MimicMachineFile *mimic_machine_file_new(const char *name, MimicOsType os);
void mimic_machine_file_free(MimicMachineFile *mf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MimicMachineFile, mimic_machine_file_free)

/* Apply the preset's memory, sound card and NIC (disks are the caller's). */
void mimic_machine_file_apply_preset(MimicMachineFile *mf, MimicOsType os);

bool mimic_machine_name_valid(const char *name, GError **error);

/* Keyfile text <-> model.  from_data validates every value. */
char *mimic_machine_file_to_data(const MimicMachineFile *mf, gsize *len);
MimicMachineFile *mimic_machine_file_from_data(const char *data, gsize len,
                                               GError **error);
MimicMachineFile *mimic_machine_file_load(const char *path, GError **error);
/* Atomic (g_file_set_contents); creates the directory. */
bool mimic_machine_file_save(const MimicMachineFile *mf, const char *dir,
                             GError **error);

/* The library directory: $XDG_DATA_HOME/mimic/machines (newly allocated). */
char *mimic_library_dir(void);
char *mimic_machine_file_path(const char *dir, const char *name);
/*
 * Load every NAME.mimic in dir.  Good machines go to the returned array
 * (of MimicMachineFile*, sorted by name); each bad file adds a message to
 * errors (file name: reason) and is left alone on disk.
 */
GPtrArray *mimic_library_load(const char *dir, GPtrArray *errors);

/*
 * What the new-machine wizard asks; fields left 0/NULL take the OS
 * preset's value.  disk_path NULL: no hard disk.  cdrom "" : an empty
 * CD-ROM drive; NULL: none.
 */
typedef struct MimicNewMachine {
    const char *name;
    MimicOsType os;
    unsigned memory_mib;
    const char *disk_path;
    const char *disk_format;
    const char *cdrom;
    const char *boot; /* SeaBIOS letters, e.g. "dc" */
    /* Sound card and NIC model: NULL the preset's, "none" none. */
    const char *sound;
    const char *nic;
    /* CPU model: NULL the preset's (OS detection proposes "qemu64" for
       a 64-bit system). */
    const char *cpu;
} MimicNewMachine;

MimicMachineFile *mimic_machine_file_new_from_choices(
    const MimicNewMachine *c, GError **error);
/* Where the wizard puts a new machine's disk: .../mimic/disks/NAME.FMT */
char *mimic_default_disk_path(const char *name, const char *format);

/*
 * The demo machine `make run` offers: Debian i686 Linux booting from the
 * demo ISO (scripts/guests/build.sh), 256 MiB, CD first, no hard disk.
 */
#define MIMIC_DEMO_MACHINE_NAME "Debian Linux (demo)"
MimicMachineFile *mimic_demo_machine_new(const char *iso, GError **error);
/*
 * Make sure dir holds the demo machine: written when it is missing; when
 * it exists and loads but its CD image is gone, its cdrom is pointed at
 * iso (nothing else of the person's changes is touched).  A demo file
 * that does not load is left alone (the library reports it).  *written
 * (if given) says whether a file was written.
 */
bool mimic_library_ensure_demo(const char *dir, const char *iso,
                               bool *written, GError **error);

/*
 * Saved states (Machine -> Save state): the state of a stopped machine is
 * one file next to its machine file, dir/NAME.state, written by the
 * engine's `migrate file:` (atomically) and read by `-incoming file:`.
 */
char *mimic_machine_state_path(const char *dir, const char *name);
bool mimic_machine_has_state(const char *dir, const char *name);
/* Remove the saved state (none is not an error). */
bool mimic_machine_discard_state(const char *dir, const char *name,
                                 GError **error);
/*
 * The configuration that resumes mf from its saved state: a copy of
 * mf->cfg with incoming = "file:PATH" (and incoming_force if force).
 */
MachineConfig *mimic_machine_resume_config(const MimicMachineFile *mf,
                                           const char *dir, bool force);
/*
 * Whether changing a machine from a to b makes a saved state of it
 * unusable: every setting counts except the OS type and full screen,
 * which the engine never sees.
 */
bool mimic_machine_file_changes_state(const MimicMachineFile *a,
                                      const MimicMachineFile *b);

/*
 * The system an installation CD is for, from its ISO 9660 volume ID
 * (sector 16, bytes 40..71): MIMIC_OS_COUNT when unknown.  *volume_id
 * (if given) gets the ID, trimmed, whenever the image has one.
 */
MimicOsType mimic_detect_os(const char *iso_path, char **volume_id);

/* The equivalent `mimic` command line (for the settings dialog). */
char *mimic_machine_file_command_line(const MimicMachineFile *mf);

/* The machine file's "tablet": a usb-tablet among cfg's USB devices
   (the engine adds a USB controller for it). */
bool mimic_machine_config_has_tablet(const MachineConfig *cfg);
void mimic_machine_config_set_tablet(MachineConfig *cfg, bool on);

#endif
