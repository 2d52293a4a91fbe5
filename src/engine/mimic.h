/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's public API: everything the GUI (and main()) may use.
 *
 * A MimicMachine runs on its own worker thread.  Calls here are safe from
 * any thread: they queue a command for the worker.  Events (state changes,
 * display updates, shutdown) are delivered on the GMainContext given to
 * mimic_machine_set_event_handler(), normally the GTK main loop.
 */
#ifndef MIMIC_ENGINE_MIMIC_H
#define MIMIC_ENGINE_MIMIC_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "bus/config.h"

#define MIMIC_ERROR (mimic_error_quark())
GQuark mimic_error_quark(void);
typedef enum {
    MIMIC_ERROR_FAILED,
    MIMIC_ERROR_CONFIG,   /* a bad option or machine-file value */
    MIMIC_ERROR_FIRMWARE, /* BIOS or option ROM missing/unreadable */
    MIMIC_ERROR_IO,
    MIMIC_ERROR_STATE,       /* -incoming: the saved state was refused */
    MIMIC_ERROR_STATE_DISKS, /* -incoming: a disk changed since the save
                                (-incoming-force resumes anyway) */
} MimicError;

typedef struct MimicMachine MimicMachine;

typedef enum {
    MIMIC_STATE_CREATED,
    MIMIC_STATE_RUNNING,
    MIMIC_STATE_PAUSED,
    MIMIC_STATE_STOPPED, /* powered off or quit: the worker has ended */
} MimicRunState;

typedef enum {
    MIMIC_EVENT_STATE_CHANGED,
    MIMIC_EVENT_DISPLAY_UPDATE, /* x, y, w, h */
    MIMIC_EVENT_DISPLAY_RESIZE, /* w, h */
    MIMIC_EVENT_RESET,
    MIMIC_EVENT_POWERDOWN,
    MIMIC_EVENT_SHUTDOWN, /* the machine stopped; exit_status is valid */
} MimicEventKind;

typedef struct MimicEvent {
    MimicEventKind kind;
    MimicRunState state;
    int x, y, w, h;
} MimicEvent;

typedef void (*MimicEventHandler)(MimicMachine *m, const MimicEvent *ev,
                                  gpointer user_data);

/* Build the machine (devices, firmware, disks); it does not run yet. */
MimicMachine *mimic_machine_new(const MachineConfig *cfg, GError **error);
void mimic_machine_free(MimicMachine *m);
void mimic_machine_set_event_handler(MimicMachine *m, MimicEventHandler fn,
                                     gpointer user_data, GMainContext *ctx);
/* Start the worker; runs at once unless the config says -S. */
bool mimic_machine_start(MimicMachine *m, GError **error);
void mimic_machine_pause(MimicMachine *m);
void mimic_machine_resume(MimicMachine *m);
void mimic_machine_reset(MimicMachine *m);
void mimic_machine_powerdown(MimicMachine *m); /* ACPI power button */
void mimic_machine_quit(MimicMachine *m);
MimicRunState mimic_machine_get_state(MimicMachine *m);
/*
 * Emulation speed, measured on the worker thread over about a second of
 * running and read here without locking (each field atomically): guest
 * instructions per second, and how far guest time advanced per host time
 * in percent (about 100 in real-time mode; with -icount it shows how fast
 * virtual time runs).  false while no measurement is current: not yet
 * running for a second since start or resume, paused, or stopped.
 */
typedef struct MimicSpeed {
    uint64_t insns_per_sec;
    unsigned realtime_percent;
} MimicSpeed;
bool mimic_machine_get_speed(MimicMachine *m, MimicSpeed *out);
/*
 * Network card i (0, 1, ... in creation order): its name as "info
 * network" shows it ("e1000.0", owned by the machine) and the bytes it
 * has received and sent since the machine was made, as of the last speed
 * measurement (about once a second while running).  false: no card i.
 */
bool mimic_machine_get_nic_traffic(MimicMachine *m, int i, const char **name,
                                   uint64_t *rx_bytes, uint64_t *tx_bytes);
/* After MIMIC_EVENT_SHUTDOWN: 0 for a clean power-off or quit. */
int mimic_machine_exit_status(MimicMachine *m);
/* Block until the worker ends; returns the exit status. */
int mimic_machine_wait(MimicMachine *m);
const MachineConfig *mimic_machine_config(MimicMachine *m);

/*
 * Input: Linux evdev key codes; relative pointer motion in mouse counts
 * (dx right, dy down, dz > 0 the wheel turned up, away from the user) and
 * the buttons held (bit 0 left, 1 right, 2 middle, 3 side, 4 extra, as
 * QEMU's mouse_button values).
 */
void mimic_machine_send_key(MimicMachine *m, unsigned evdev_code, bool down);
void mimic_machine_send_pointer_rel(MimicMachine *m, int dx, int dy,
                                    int dz, unsigned buttons);

/* Display: the front surface (XRGB8888), read under the lock. */
typedef struct MimicSurface {
    const uint32_t *data;
    int width, height, stride;
} MimicSurface;
bool mimic_machine_display_lock(MimicMachine *m, MimicSurface *out);
void mimic_machine_display_unlock(MimicMachine *m);
bool mimic_machine_screendump(MimicMachine *m, const char *path,
                              GError **error);

/*
 * Run a human-monitor command line; the reply is delivered to cb on the
 * event context.
 */
typedef void (*MimicMonitorReply)(MimicMachine *m, const char *output,
                                  gpointer user_data);
void mimic_machine_monitor_command(MimicMachine *m, const char *cmdline,
                                   MimicMonitorReply cb, gpointer user_data);

/* "vc" consoles: the GUI end's fd of a serial port or the monitor. */
int mimic_machine_console_fd(MimicMachine *m, const char *name);

/*
 * The typed engine API (api.c): what the GUI, the human monitor and QMP
 * do to a running machine, as functions with a GError. Each runs on the
 * machine's worker thread between slices; `done` is called afterwards on
 * the front end's main context with error NULL on success (done may be
 * NULL). No caller parses monitor text.
 */
typedef void (*MimicDone)(MimicMachine *m, const GError *error,
                          gpointer user_data);

/* Save the whole machine to a state file (the machine stays paused after
 * a successful save; Resume or -incoming continues it). */
void mimic_machine_save_state(MimicMachine *m, const char *path,
                              MimicDone done, gpointer user_data);
/* Internal snapshots in the machine's qcow2 disks (savevm/loadvm/delvm). */
void mimic_machine_snapshot_save(MimicMachine *m, const char *name,
                                 MimicDone done, gpointer user_data);
void mimic_machine_snapshot_load(MimicMachine *m, const char *name,
                                 MimicDone done, gpointer user_data);
void mimic_machine_snapshot_delete(MimicMachine *m, const char *name,
                                   MimicDone done, gpointer user_data);

typedef struct MimicSnapshot {
    char *id;
    char *name;
    guint64 vm_state_size;
    gint64 date_sec;          /* Unix time */
    guint64 vm_clock_nsec;
} MimicSnapshot;
void mimic_snapshot_free(MimicSnapshot *s);
/* The snapshots present on every disk (as `info snapshots`); `snapshots`
 * holds MimicSnapshot* and is freed after the call. */
typedef void (*MimicSnapshotsDone)(MimicMachine *m, GPtrArray *snapshots,
                                   const GError *error, gpointer user_data);
void mimic_machine_snapshot_list(MimicMachine *m, MimicSnapshotsDone done,
                                 gpointer user_data);

/* Removable media: device "ide1-cd0", "floppy0"... (as `info block`). */
void mimic_machine_change_media(MimicMachine *m, const char *device,
                                const char *path, const char *format,
                                MimicDone done, gpointer user_data);
void mimic_machine_eject_media(MimicMachine *m, const char *device,
                               bool force, MimicDone done,
                               gpointer user_data);

/*
 * The pointer as a tablet: x, y in pixels of the guest's display (clamped
 * to it), dz and buttons as mimic_machine_send_pointer_rel().  Reaches a
 * USB tablet when the machine has one (MimicIoStatus.pointer_absolute);
 * otherwise only the buttons are sent, to the relative mouse.
 */
void mimic_machine_send_pointer_abs(MimicMachine *m, int x, int y, int dz,
                                    unsigned buttons);

/* What the window polls: whether the pointer is absolute now (a tablet
   may be hot-plugged) and the machine's I/O counters since it started
   (disks: the guest's reads and writes of the configured drives; network:
   the bytes the NICs sent and received; have_network false without a
   NIC).  Run on the worker thread, so race-free. */
typedef struct MimicIoStatus {
    bool pointer_absolute;
    bool have_network;
    guint64 disk_read_bytes, disk_written_bytes;
    guint64 net_rx_bytes, net_tx_bytes;
} MimicIoStatus;
typedef void (*MimicIoStatusDone)(MimicMachine *m, const MimicIoStatus *st,
                                  const GError *error, gpointer user_data);
void mimic_machine_query_io_status(MimicMachine *m, MimicIoStatusDone done,
                                   gpointer user_data);

/* Hot-plug a disk image as a USB stick (drive_add + device_add
   usb-storage): format as mimic_image_format() says, NULL probes; the
   guest sees a new disk.  The error says why not (no USB controller,
   no free port, an unreadable file). */
void mimic_machine_usb_disk_connect(MimicMachine *m, const char *path,
                                    const char *format, bool read_only,
                                    MimicDone done, gpointer user_data);

/* What this machine can do; fixed once it is built. */
typedef enum {
    MIMIC_CAP_SAVE_STATE = 1 << 0,
    MIMIC_CAP_SNAPSHOTS = 1 << 1,   /* every writable disk is qcow2 */
    MIMIC_CAP_CHANGE_MEDIA = 1 << 2,
    MIMIC_CAP_EJECT_MEDIA = 1 << 3,
    MIMIC_CAP_NETWORK = 1 << 4, /* a NIC: mimic_machine_set_link() */
    MIMIC_CAP_SOUND = 1 << 5,   /* a sound card: mimic_machine_set_mute() */
    MIMIC_CAP_USB = 1 << 6,     /* a USB controller: usb_disk_connect() */
} MimicCaps;

/* Plug or unplug the cable of every NIC (as `set_link NAME on|off`). */
void mimic_machine_set_link(MimicMachine *m, bool up, MimicDone done,
                            gpointer user_data);
/* Mute or unmute the machine's sound output (the cards go on playing),
   queued like the other calls: done runs after it took effect.  The
   same as mimic_machine_set_audio_muted() below, which acts at once. */
void mimic_machine_set_mute(MimicMachine *m, bool mute, MimicDone done,
                            gpointer user_data);
MimicCaps mimic_machine_capabilities(MimicMachine *m);

/* Sound: mute every audio output of the machine (the window's toggle);
   the guest goes on playing, silently.  Any thread. */
void mimic_machine_set_audio_muted(MimicMachine *m, bool muted);
bool mimic_machine_get_audio_muted(MimicMachine *m);

/* Command line: QEMU-style options into a config (options.c). */
typedef enum {
    MIMIC_PARSE_OK,
    MIMIC_PARSE_EXIT, /* -h, -version, "help" listings: exit 0 */
} MimicParseResult;
bool mimic_parse_args(int argc, char **argv, MachineConfig *cfg,
                      MimicParseResult *result, GString *out,
                      GError **error);

const char *mimic_version(void);

/*
 * The devices this build emulates, by QEMU's names, for the GUI's
 * choices (NULL-terminated, static): NIC models (the first is the pc
 * board's default) and sound cards (-soundhw names).  The description is
 * the card's full name, or NULL for a name not in the list.
 */
const char *const *mimic_nic_models(void);
const char *const *mimic_sound_cards(void);
const char *mimic_sound_card_description(const char *name);

/*
 * The format a disk image's content says it has ("qcow2", "qcow" or, when
 * no known magic is there, "raw"), so that the GUI stores an explicit
 * format instead of guessing from the name. NULL with error if unreadable.
 */
const char *mimic_image_format(const char *path, GError **error);

#endif
