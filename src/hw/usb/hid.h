/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * USB HID devices: usb-tablet, usb-mouse, usb-kbd (see hid.c).  The board
 * sets kind before realize and feeds input through the functions below
 * (worker thread).
 */
#ifndef MIMIC_HW_USB_HID_H
#define MIMIC_HW_USB_HID_H

#include "hw/usb/usb.h"

#define USB_HID_QUEUE 32

typedef enum { USB_HID_TABLET, USB_HID_MOUSE, USB_HID_KBD } UsbHidKind;

typedef struct UsbHid {
    UsbDevice usb;
    UsbHidKind kind;
    /* Saved. */
    uint8_t protocol; /* 0 boot, 1 report */
    uint8_t idle;
    uint8_t leds;
    uint8_t changed;
    uint32_t buttons;
    uint16_t x, y;     /* tablet: 0..0x7fff */
    int32_t dx, dy, dz; /* motion not reported yet */
    uint8_t modifiers;
    uint8_t keys[6];
    uint8_t queue[USB_HID_QUEUE]; /* evdev code | 0x80 for a release */
    uint8_t q_head, q_count;
} UsbHid;

extern const DeviceInfo usb_hid_info;
extern const UsbDeviceClass usb_tablet_class, usb_mouse_class,
    usb_kbd_class;

/* x, y in 0..0x7fff; buttons bit 0 left, 1 right, 2 middle. */
void usb_hid_pointer_abs(UsbHid *h, int x, int y, int dz, unsigned buttons);
void usb_hid_pointer_rel(UsbHid *h, int dx, int dy, int dz,
                         unsigned buttons);
void usb_hid_key(UsbHid *h, unsigned evdev, bool down);

#endif
