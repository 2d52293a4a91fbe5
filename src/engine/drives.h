/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine's drives (drives.c): the named table of QEMU's block
 * devices ("ide0-hd0", "ide1-cd0", "floppy0", the id of an if=none
 * drive), the images they hold, and the monitor's block commands.  Board
 * neutral: a board reaches it through BoardDrives (hw/drive.h).
 */
#ifndef MIMIC_ENGINE_DRIVES_H
#define MIMIC_ENGINE_DRIVES_H

#include <stdbool.h>
#include <glib.h>

#include "bus/config.h"
#include "hw/drive.h"
#include "images/block.h"

typedef struct Drives Drives;

/* The table of cfg's drives (nothing is opened yet: the board asks for
   the drives it wires, a USB disk for its if=none drive).  cfg must
   outlive the table. */
Drives *drives_new(const MachineConfig *cfg);
/* Closes every image; after the devices that used them are gone. */
void drives_free(Drives *dr);
/* The hooks a board calls (BoardInstance.drives). */
BoardDrives drives_board(Drives *dr);

/* The medium now in cfg->drives[index] (NULL: none, or not opened): the
   disks a saved state is bound to and snapshots are taken of. */
BlockDev *drives_image(Drives *dr, int index);

/* Whether the board attached a drive with removable media. */
bool drives_have_removable(Drives *dr);

/* "info block [device]": appends nothing when device is unknown. */
void drives_info(Drives *dr, const char *device, GString *out);
/* Put file in a removable drive (format NULL: probe).  The new image
   opens first: on any failure the old medium stays in.  A tray the guest
   locked refuses and asks the guest to open it. */
bool drives_change(Drives *dr, const char *device, const char *file,
                   const char *format, GError **error);
/* Take the medium out; a locked tray needs force. */
bool drives_eject(Drives *dr, const char *device, bool force,
                  GError **error);
/* drive_add: a new if=none drive (d's strings are copied), its image
   opened now so that a bad file is refused here, for a later device_add
   usb-storage,drive=ID. */
bool drives_add(Drives *dr, const DriveConfig *d, GError **error);

#endif
