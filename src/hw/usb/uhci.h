/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PIIX3 USB function (piix3-usb-uhci): a UHCI host controller with two
 * root-hub ports, 32 bytes of registers in I/O BAR 4 (see uhci.c).
 */
#ifndef MIMIC_HW_USB_UHCI_H
#define MIMIC_HW_USB_UHCI_H

#include "bus/device.h"
#include "hw/pci/pci.h"
#include "hw/usb/usb.h"

#define UHCI_PORTS 2

typedef struct Uhci {
    Device dev;
    PciFunc pci;
    /* Wiring, set by the board before realize. */
    PciBus *bus;
    uint8_t devfn;
    void (*set_irq)(void *opaque, bool level);
    void *irq_opaque;
    int bus_index; /* "usb-bus.N" */
    /* Guest-visible state (saved). */
    uint16_t cmd, sts, intr, frnum;
    uint32_t flbase;
    uint8_t sof;
    uint8_t pending; /* interrupt causes of the frame being run */
    uint16_t portsc[UHCI_PORTS];
    int64_t frame_deadline;
    /* Not saved. */
    UsbPort ports[UHCI_PORTS];
    IoRegion io;
    Timer *frame_timer;
    uint64_t frames_run, tds_run; /* statistics */
    /* The frame being run: bytes moved and TDs retired (not saved: a
       frame runs whole between two instructions). */
    uint32_t frame_bytes, frame_tds;
} Uhci;

extern const DeviceInfo uhci_info;

#endif
