/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine: internal view shared by the engine's own files (worker
 * loop, monitor, state).  Outside the engine, use engine/mimic.h.
 */
#ifndef MIMIC_ENGINE_MACHINE_H
#define MIMIC_ENGINE_MACHINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <glib.h>

#include "arch/cpu.h"
#include "bus/chardev.h"
#include "bus/clock.h"
#include "bus/config.h"
#include "bus/display.h"
#include "bus/ioport.h"
#include "bus/memory.h"
#include "engine/drives.h"
#include "engine/mimic.h"
#include "hw/board.h"
#include "bus/device.h"

typedef struct Monitor Monitor;
typedef struct MachineNet MachineNet;

struct MimicMachine {
    MachineConfig *cfg;
    /* Buses and hardware. */
    MachineBuses bus;
    MemMap *mem;
    IoSpace *io;
    Clock *clock;
    DeviceList *devices;
    Display *display;
    const BoardType *board_info;
    BoardInstance board;
    Cpu *cpu;
    CharDev *serial[MIMIC_MAX_SERIAL];
    Audio *audio[MIMIC_MAX_AUDIODEV + 1]; /* one per audiodev in use */
    int n_audio;
    MachineNet *net; /* back ends and hubs (network.c) */
    Drives *drives;  /* the named drives and their images (drives.c) */
    CharDev *monitor_chr;
    bool monitor_chr_owned; /* false when it is a mux of serial0 */
    Monitor *monitor;
    CharDev *qmp_chr;
    struct Qmp *qmp;

    /* Worker thread. */
    GThread *thread;
    GMainContext *ctx; /* worker's context: chardev input, commands */
    GArray *pollfds;   /* GPollFD, reused by every poll (worker only) */
    GAsyncQueue *commands;
    GMutex lock; /* run_state, exit_status */
    GCond cond;
    MimicRunState run_state;
    int exit_status;
    bool quit_requested;
    bool reset_requested;
    bool poweroff_requested;
    unsigned mouse_buttons; /* last pointer button state (worker side) */
    /* sendkey's keys held until the timer releases them (monitor.c). */
    Timer *sendkey_timer;
    unsigned sendkey_codes[8];
    int sendkey_n;
    bool postmigrate; /* paused after a completed migrate, as QEMU */
    bool guest_request; /* the reset/shutdown under way is the guest's */
    /* -icount: stop when clock->icount reaches this (icount_stop); -1 none. */
    int64_t icount_stop;

    /* Speed (mimic_machine_get_speed): worker-only window, atomic result. */
    int64_t speed_host0, speed_guest0, speed_insns; /* host0 0: restart */
    _Atomic uint64_t speed_ips;
    _Atomic unsigned speed_percent;
    _Atomic bool speed_valid;
    /* Each network card's bytes received and sent, copied from its port
       with each speed measurement (mimic_machine_get_nic_traffic). */
    _Atomic uint64_t nic_rx[MIMIC_MAX_NICS], nic_tx[MIMIC_MAX_NICS];

    /* Events to the front end. */
    MimicEventHandler event_fn;
    gpointer event_data;
    GMainContext *event_ctx;
    MimicCaps caps;         /* what the machine can do (api.c) */
};

/* Worker-thread side, for the monitor: */
void machine_do_stop(MimicMachine *m);
void machine_do_cont(MimicMachine *m);
void machine_do_reset(MimicMachine *m);
void machine_do_quit(MimicMachine *m, int status);
void machine_do_powerdown(MimicMachine *m);
void machine_do_pointer(MimicMachine *m, int dx, int dy, int dz,
                        unsigned buttons);
void machine_emit(MimicMachine *m, const MimicEvent *ev);
/*
 * -icount: run a machine whose worker thread is not started on the
 * calling thread, slice by slice exactly as the worker does, until the
 * instruction counter reaches until (icount_stop); the machine is then
 * paused.  false if it stopped short (quit, power-off) or cannot run.
 * For tests that need the worker's timing without its thread.
 */
bool machine_run_to_icount(MimicMachine *m, int64_t until);

/* Monitor (monitor.c): runs on the worker thread. */
Monitor *monitor_new(MimicMachine *m, CharDev *chr);
void monitor_free(Monitor *mon);
/* Execute one command line, output appended to out. */
void monitor_execute(MimicMachine *m, const char *cmdline, GString *out);

/*
 * Run fn(m, args) on the worker thread between slices (as a monitor
 * command runs), then done on the front end's main context with the error
 * fn set (NULL on success); args are freed with free_args after done.
 * The typed engine API (api.c) is built on this.
 */
typedef bool (*MachineCallFn)(MimicMachine *m, gpointer args,
                              GError **error);
typedef void (*MachineCallDone)(MimicMachine *m, const GError *error,
                                gpointer args, gpointer user_data);
void machine_call(MimicMachine *m, MachineCallFn fn, gpointer args,
                  GDestroyNotify free_args, MachineCallDone done,
                  gpointer user_data);
/* Removable media, for every front end (api.c; worker thread). */
bool machine_change_media(MimicMachine *m, const char *device,
                          const char *path, const char *format,
                          GError **error);
bool machine_eject_media(MimicMachine *m, const char *device, bool force,
                         GError **error);
/* A -drive option string (options.c; drive_add too): what names the
   option in messages; *d's strings are the caller's on success. */
bool options_parse_drive(const char *what, const char *arg, DriveConfig *d,
                         GError **error);
/* The capabilities of a machine just built (api.c). */
MimicCaps machine_compute_caps(MimicMachine *m);

#endif
