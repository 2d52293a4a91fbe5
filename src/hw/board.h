/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Boards: a function that builds a whole machine's hardware from a
 * MachineConfig on the buses the engine provides.
 *
 * The engine allocates the buses, opens the character devices named by the
 * config and the display, then calls the board's init.  The board creates
 * RAM, loads firmware, creates and wires devices, and creates the CPU.
 * Requests that only the engine can carry out (reset the machine, power it
 * off) go through the callbacks in BoardRequests.
 */
#ifndef MIMIC_HW_BOARD_H
#define MIMIC_HW_BOARD_H

#include <stdbool.h>
#include <glib.h>

#include "arch/cpu.h"
#include "bus/audio.h"
#include "bus/chardev.h"
#include "bus/display.h"
#include "bus/config.h"
#include "bus/device.h"
#include "bus/net.h"
#include "hw/drive.h"
#include "images/block.h"

#define BOARD_ERROR (board_error_quark())
GQuark board_error_quark(void);
typedef enum {
    BOARD_ERROR_CONFIG,
    BOARD_ERROR_FIRMWARE,
    BOARD_ERROR_IO,
} BoardError;

typedef struct BoardRequests {
    void *opaque;
    void (*request_reset)(void *opaque);    /* from the guest or a fault */
    void (*request_poweroff)(void *opaque); /* ACPI S5, -no-reboot reset */
} BoardRequests;

typedef struct BoardPrivate BoardPrivate;

/* Saved state: guest memory blocks and the identity of loaded firmware. */
#define BOARD_MAX_RAM_BLOCKS 4
#define BOARD_MAX_ROMS 8
typedef struct BoardRamBlock {
    const char *name; /* "pc.ram", "vga.vram" */
    uint8_t *host;
    uint64_t size;    /* a multiple of 4 KiB */
    /* host is a private anonymous mmap: madvise(MADV_DONTNEED) zeroes
       ranges of it without touching them (state restore). */
    bool anonymous;
} BoardRamBlock;
typedef struct BoardRom {
    const char *name;  /* "bios" */
    size_t size;       /* bytes, as loaded */
    char sha256[65];   /* of the image as loaded */
} BoardRom;

/* A network card the engine asks for: the board creates it, connects its
   port to peer (a back end or a hub port; NULL: no cable) and records the
   card's own port. */
typedef struct BoardNic {
    const char *model; /* "e1000", "rtl8139", "ne2k_pci", "ne2k_isa",
                          "virtio-net-pci" */
    uint8_t mac[6];
    int iobase, irq;   /* ne2k_isa; 0: 0x300 and 9 */
    int revision;      /* rtl8139; 0: 0x20 */
    NetPort *peer;
    NetPort *port;     /* filled in by the board */
} BoardNic;

typedef struct BoardInstance {
    const MachineConfig *cfg;
    MachineBuses *bus;
    DeviceList *devices;
    Display *display;
    CharDev *serial[MIMIC_MAX_SERIAL]; /* NULL where not configured */
    BoardNic nics[MIMIC_MAX_NICS];
    int n_nics;
    BoardRequests host;
    /* The mixer each configured sound card (cfg->soundhw[i]) plays to. */
    Audio *audio[MIMIC_MAX_SOUNDHW];
    /* The engine's drive layer: the board opens and attaches its drives
       through it and closes none (hw/drive.h). */
    BoardDrives drives;
    /* Filled in by the board. */
    Cpu *cpu;
    uint8_t *ram;
    uint64_t ram_size;
    BoardPrivate *board; /* the board's private state */
    BoardRamBlock ram_blocks[BOARD_MAX_RAM_BLOCKS];
    int n_ram_blocks;
    BoardRom roms[BOARD_MAX_ROMS];
    int n_roms;
} BoardInstance;

/* For boards: record a RAM block / a firmware image's identity. */
void board_add_ram_block(BoardInstance *ctx, const char *name, uint8_t *host,
                         uint64_t size);
void board_add_rom(BoardInstance *ctx, const char *name, const void *data,
                   size_t len);

typedef struct BoardType {
    const char *name; /* "pc" */
    const char *description;
    bool (*init)(BoardInstance *ctx, GError **error);
    void (*reset)(BoardInstance *ctx); /* after devices and CPU reset */
    /* Frees the CPU and the board's own allocations (not the devices). */
    void (*destroy)(BoardInstance *ctx);
    /* Monitor/front-end hooks (may be NULL). */
    void (*send_key)(BoardInstance *ctx, unsigned evdev_code, bool down);
    /* Relative pointer (see mimic_machine_send_pointer_rel()). */
    void (*send_pointer)(BoardInstance *ctx, int dx, int dy, int dz,
                         unsigned buttons);
    void (*powerdown)(BoardInstance *ctx); /* ACPI power button */
    /* USB (may be NULL): "info usb", device_add/device_del of USB
       devices (QEMU's -device syntax), and the absolute pointer of a
       USB tablet (x, y in pixels of the guest's display). */
    void (*usb_info)(BoardInstance *ctx, GString *out);
    bool (*device_add)(BoardInstance *ctx, const char *spec, GError **error);
    bool (*device_del)(BoardInstance *ctx, const char *id, GError **error);
    bool (*pointer_absolute)(BoardInstance *ctx);
    void (*send_pointer_abs)(BoardInstance *ctx, int x, int y, int dz,
                             unsigned buttons);
    /* Sound: plug or pull a jack of the sound card ("line-out",
       "line-in" of the HDA codec), with the codec's unsolicited response
       (may be NULL). */
    bool (*audio_jack)(BoardInstance *ctx, const char *jack, bool plugged,
                       GError **error);
} BoardType;

const BoardType *board_find(const char *name);
void board_list(GString *out);

/* Find firmware: -L dirs, MIMIC_DATADIR, /usr/share/seabios, /usr/share/qemu.
   Returns a newly allocated path or NULL with an error. */
char *board_find_firmware(const MachineConfig *cfg, const char *name,
                          GError **error);

/* Read a whole file the user named (what: "-bios", "-kernel", ...) into
   *data (g_free it).  Refuses, with one line naming what and path, a file
   that is not a regular file (device, FIFO, directory: /dev/zero would
   never end, a FIFO would block) or is larger than max bytes, before
   reading any of it. */
bool board_load_file(const char *what, const char *path, size_t max,
                     uint8_t **data, size_t *len, GError **error);

#endif
