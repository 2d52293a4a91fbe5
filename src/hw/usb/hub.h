/* SPDX-License-Identifier: GPL-2.0-or-later */
/* usb-hub: a hub with USB_HUB_PORTS downstream ports (see hub.c). */
#ifndef MIMIC_HW_USB_HUB_H
#define MIMIC_HW_USB_HUB_H

#include "hw/usb/usb.h"

#define USB_HUB_PORTS 8

typedef struct UsbHub {
    UsbDevice usb;
    UsbPort ports[USB_HUB_PORTS];
    /* Saved: wPortStatus and wPortChange of each port. */
    uint16_t status[USB_HUB_PORTS], change[USB_HUB_PORTS];
} UsbHub;

extern const DeviceInfo usb_hub_info;
extern const UsbDeviceClass usb_hub_class;

#endif
