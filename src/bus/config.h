/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MachineConfig: everything needed to build a machine, as a plain struct.
 *
 * The command-line parser (options.c) and the GUI's machine files both
 * produce one; the board function reads it.  Strings are owned by the
 * config (g_free'd by machine_config_free()).
 */
#ifndef MIMIC_BUS_CONFIG_H
#define MIMIC_BUS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#define MIMIC_MAX_DRIVES 8
#define MIMIC_MAX_SERIAL 4
#define MIMIC_MAX_NICS 8
#define MIMIC_MAX_SOUNDHW 8
#define MIMIC_MAX_AUDIODEV 4
#define MIMIC_MAX_USBDEV 8
#define MIMIC_MAX_BIOS_DIRS 4

typedef enum {
    DRIVE_IF_IDE,
    DRIVE_IF_FLOPPY,
    DRIVE_IF_NONE,
} DriveInterface;

typedef enum {
    DRIVE_MEDIA_DISK,
    DRIVE_MEDIA_CDROM,
} DriveMedia;

typedef enum {
    DRIVE_CACHE_WRITEBACK,
    DRIVE_CACHE_WRITETHROUGH,
    DRIVE_CACHE_NONE,
    DRIVE_CACHE_UNSAFE,
} DriveCache;

typedef struct DriveConfig {
    char *file;   /* NULL: empty drive (a CD-ROM without media) */
    char *format; /* "raw", "qcow", "qcow2"; NULL probes (read-only use) */
    DriveInterface interface;
    int index;    /* IDE: 0..3 (bus*2+unit); floppy: 0..1 */
    DriveMedia media;
    bool snapshot;
    bool readonly;
    bool no_locking;  /* file.locking=off */
    DriveCache cache;
    char *id;     /* id= (a -device's drive=ID names it) */
} DriveConfig;

typedef enum {
    DISPLAY_DEFAULT, /* gtk when a display is reachable, else none */
    DISPLAY_GTK,
    DISPLAY_NONE,
    DISPLAY_NOGRAPHIC, /* none, and serial+monitor on stdio */
} DisplayKind;

typedef enum {
    ACCEL_TCG,    /* the CPU core's default engine (the JIT on x86) */
    ACCEL_KVM,
    ACCEL_JIT,    /* -accel jit: the translating engine */
    ACCEL_INTERP, /* -accel interp: the interpreter */
} AccelKind;

typedef struct NicConfig {
    char *model; /* "e1000"; NULL: the board's default */
    char *macaddr;
    int vlan;     /* -net hub number; ignored when netdev is set */
    char *netdev; /* back end id (-nic, -device), or NULL */
    int iobase, irq; /* ne2k_isa; 0: the defaults 0x300 and 9 */
    int revision; /* rtl8139's PCI revision; 0: 0x20 (a C+ chip) */
} NicConfig;

typedef struct NetBackendConfig {
    char *kind; /* "user" */
    char *options; /* the rest of the option string, e.g. "hostfwd=..." */
    int vlan;   /* -net hub number (id NULL) */
    char *id;   /* -netdev id, or NULL for a -net back end */
} NetBackendConfig;

/* -object filter-dump,id=ID,netdev=NETDEV,file=PATH[,maxlen=N] */
typedef struct NetFilterConfig {
    char *id;
    char *netdev;
    char *file;
    uint32_t maxlen; /* 0: 65536 */
} NetFilterConfig;

/* -audiodev DRIVER,id=ID[,path=F][,server=S] */
typedef struct AudioDevConfig {
    char *driver; /* "pa", "wav", "none" */
    char *id;
    char *path;   /* wav */
    char *server; /* pa; NULL: the default server */
    char *in_path; /* in.path=: a WAV file as the recording source */
} AudioDevConfig;

typedef struct MachineConfig {
    char *name;
    char *machine_type; /* "pc" */
    char *cpu_model;    /* "pentium2" */
    uint64_t ram_size;  /* bytes */
    int smp;

    DriveConfig drives[MIMIC_MAX_DRIVES];
    int n_drives;
    bool snapshot; /* -snapshot: every drive gets a temporary overlay */

    char boot_order[8]; /* SeaBIOS letters: a, c, d, n; "" = "cad" */
    char boot_once[8];
    bool boot_menu;

    char *bios_dirs[MIMIC_MAX_BIOS_DIRS]; /* -L, searched first */
    int n_bios_dirs;
    char *bios_file; /* -bios */

    bool rtc_localtime;
    char *rtc_base; /* NULL, "utc", "localtime" or an ISO date */

    DisplayKind display;
    bool full_screen;

    char *soundhw[MIMIC_MAX_SOUNDHW]; /* card models: "pcspk", "sb16" */
    int n_soundhw;
    /* The audiodev id each card plays through (-device X,audiodev=ID);
       NULL: the first -audiodev, or the default backend (pa). */
    char *soundhw_audiodev[MIMIC_MAX_SOUNDHW];
    AudioDevConfig audiodevs[MIMIC_MAX_AUDIODEV];
    int n_audiodevs;
    bool usb;
    /* pc: no local/I/O APIC (-machine apic=off), no HPET (-no-hpet,
       -machine hpet=off): the 1990s PIC-only board. */
    bool no_apic;
    bool no_hpet;
    char *usb_devices[MIMIC_MAX_USBDEV];
    int n_usb_devices;

    NicConfig nics[MIMIC_MAX_NICS];
    int n_nics;
    NetBackendConfig netdevs[MIMIC_MAX_NICS];
    int n_netdevs;
    NetFilterConfig filters[MIMIC_MAX_NICS];
    int n_filters;
    bool net_none; /* -net none */

    char *serial[MIMIC_MAX_SERIAL]; /* chardev specs; NULL = none */
    int n_serial;
    char *monitor; /* chardev spec or NULL */
    char *qmp;     /* chardev spec or NULL */

    int icount_shift; /* -1: real time */
    AccelKind accel;

    char *kernel;
    char *initrd;
    char *append;

    bool no_reboot;
    bool no_shutdown;
    bool start_paused; /* -S */
    char *incoming;    /* -incoming URI (file:PATH, exec:COMMAND) */
    bool incoming_force; /* -incoming-force: even if the disks changed */
    char *loadvm;      /* -loadvm */

    char *log_items; /* -d */
    char *log_file;  /* -D */
} MachineConfig;

void machine_config_init(MachineConfig *cfg);
void machine_config_nic_clear(NicConfig *nic);
/* Frees a drive's strings. */
void drive_config_clear(DriveConfig *d);
void machine_config_clear(MachineConfig *cfg);
MachineConfig *machine_config_copy(const MachineConfig *cfg);
void machine_config_free(MachineConfig *cfg);

#endif
