/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usb-storage: a bulk-only mass-storage disk on a BlockDev (see
 * storage.c).  The board sets blk (which it keeps and closes) and
 * read_only before realize.
 */
#ifndef MIMIC_HW_USB_STORAGE_H
#define MIMIC_HW_USB_STORAGE_H

#include "hw/usb/usb.h"
#include "images/block.h"

#define USB_MSD_BUF (64 * 1024)

typedef struct UsbStorage {
    UsbDevice usb;
    BlockDev *blk;
    bool read_only;
    bool removable;
    /* Saved. */
    uint8_t mode;       /* CBW, data in, data out, CSW */
    uint8_t op;         /* the data phase moves: nothing, a READ, a WRITE */
    uint8_t status;     /* for the CSW: 0 passed, 1 failed, 2 phase error */
    uint8_t dir_in;
    uint8_t sense_key, sense_asc;
    uint32_t tag;
    uint32_t h_left;    /* bytes of the host's transfer length left */
    uint64_t lba, sectors_left;
    uint32_t buf_len, buf_pos;
    uint8_t *buf;       /* USB_MSD_BUF bytes */
} UsbStorage;

extern const DeviceInfo usb_storage_info;
extern const UsbDeviceClass usb_storage_class;

#endif
