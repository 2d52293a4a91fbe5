/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine's drives as a board sees them.
 *
 * The engine's drive layer (engine/drives.c) owns every drive: it opens the
 * images of the configuration by the machine's rules (format probing,
 * -snapshot, cache mode, read-only, image locking), names the drives as
 * QEMU does ("ide1-cd0", "floppy0", a -drive id) and carries out the
 * monitor's "info block", "change" and "eject".  A board only asks for a
 * drive's BlockDev, hands it to its device (an IDE position, a floppy
 * drive, a USB disk) and tells the layer what that device does with
 * removable media through DriveMediaOps.  BlockDevs stay the layer's: a
 * device never closes one.
 */
#ifndef MIMIC_HW_DRIVE_H
#define MIMIC_HW_DRIVE_H

#include <stdbool.h>
#include <glib.h>

#include "images/block.h"

/* What a device with removable media does when the user changes it;
   dev is the device's own pointer given to attach. */
typedef struct DriveMediaOps {
    /* Open the tray and take the medium out.  A tray the guest locked
       stays shut unless force: the device tells the guest an eject was
       requested and returns false. */
    bool (*eject)(void *dev, bool force);
    /* Put blk in (the tray closes; the guest sees a media change).  May
       refuse a medium the drive cannot take (a floppy image of no floppy
       size): false with an error, the old medium stays. */
    bool (*insert)(void *dev, BlockDev *blk, GError **error);
    /* The guest's tray lock (PREVENT ALLOW MEDIUM REMOVAL); NULL: none. */
    bool (*locked)(void *dev);
    /* A change refused by the lock asks the guest to open the tray. */
    void (*eject_request)(void *dev);
    /* For "info block": "tray open" or "closed"; NULL: no tray line. */
    bool (*tray_open)(void *dev);
} DriveMediaOps;

/* The drive layer's offer to a board (BoardInstance.drives). */
typedef struct BoardDrives {
    void *opaque;
    /* The image of cfg->drives[index], opened once by the layer's rules;
       *blk NULL (and true) for a drive without a file. */
    bool (*open)(void *opaque, int index, BlockDev **blk, GError **error);
    /* The board's device for drive index (-1: a drive of the board's own
       that the configuration does not name, such as the pc's default
       CD-ROM; then name is its name, else NULL).  where reads "ide.1
       unit 0" in "info block"; media NULL for a fixed disk. */
    void (*attach)(void *opaque, int index, const char *name,
                   const char *where, const DriveMediaOps *media, void *dev);
    /* A USB disk's drive=ID: a drive of if=none (-drive, or drive_add
       at run time), opened and marked in use; release at unplug closes
       it again. */
    bool (*claim)(void *opaque, const char *id, BlockDev **blk,
                  bool *read_only, GError **error);
    void (*release)(void *opaque, BlockDev *blk);
} BoardDrives;

#endif
