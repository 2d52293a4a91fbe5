/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A machine's USB: the host controller on its PCI bus, the devices of
 * the configuration (-usbdevice, -device usb-*), hot plug and unplug,
 * "info usb", and the input that USB HID devices take over from the
 * PS/2 ones.  Boards call this; see usb_bus.c.
 */
#ifndef MIMIC_HW_USB_USB_BUS_H
#define MIMIC_HW_USB_USB_BUS_H

#include "hw/board.h"
#include "hw/pci/pci.h"

typedef struct UsbBus UsbBus;

typedef struct UsbBusWiring {
    PciBus *pci;
    uint8_t devfn; /* the UHCI's */
    void (*set_irq)(void *opaque, bool level);
    void *opaque;
    /* The usb-ehci's place and INTA# (when usb_bus_has_ehci()). */
    uint8_t ehci_devfn;
    void (*ehci_set_irq)(void *opaque, bool level);
    /* The qemu-xhci's (when usb_bus_has_xhci()). */
    uint8_t xhci_devfn;
    void (*xhci_set_irq)(void *opaque, bool level);
} UsbBusWiring;

/* Whether the configuration asks for USB at all. */
bool usb_bus_wanted(const MachineConfig *cfg);
/* Whether it has a -device usb-ehci (the board gives it a PCI slot). */
bool usb_bus_has_ehci(const MachineConfig *cfg);
/* Whether it has a -device qemu-xhci. */
bool usb_bus_has_xhci(const MachineConfig *cfg);
/* The controller and the configured devices; NULL with an error.  A
   usb-storage disk takes its drive=ID from the drive layer
   (ctx->drives: claim, and release at unplug). */
UsbBus *usb_bus_create(BoardInstance *ctx, const UsbBusWiring *w,
                       GError **error);
void usb_bus_free(UsbBus *ub);

/* Input: true when a USB device took it. */
bool usb_bus_key(UsbBus *ub, unsigned evdev, bool down);
bool usb_bus_pointer_rel(UsbBus *ub, int dx, int dy, int dz,
                         unsigned buttons);
bool usb_bus_has_tablet(UsbBus *ub);
/* x, y in 0..0x7fff. */
void usb_bus_pointer_abs(UsbBus *ub, int x, int y, int dz,
                         unsigned buttons);

void usb_bus_info(UsbBus *ub, GString *out);
/* SeaBIOS's "bootorder" fw_cfg file for the disks given bootindex=N, in
   bootindex order (QEMU's device paths); NULL when none has one. */
char *usb_bus_bootorder(UsbBus *ub);
/* device_add DRIVER,... / device_del ID for USB devices. */
bool usb_bus_device_add(UsbBus *ub, const char *spec, GError **error);
bool usb_bus_device_del(UsbBus *ub, const char *id, GError **error);

#endif
