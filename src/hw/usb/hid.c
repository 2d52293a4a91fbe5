/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * USB HID devices: usb-tablet (absolute pointer), usb-mouse (relative,
 * boot protocol capable) and usb-kbd (boot keyboard).
 * Reference: Device Class Definition for HID 1.11: 7.1-7.2 (class
 * descriptors and requests GET/SET_REPORT, GET/SET_IDLE,
 * GET/SET_PROTOCOL), appendix B (boot protocol reports), 6.2.2 (report
 * descriptor items); HID Usage Tables 1.12, chapter 10 (keyboard
 * usages).
 *
 * Each device has one interrupt IN endpoint (1).  An IN poll with
 * nothing new is NAKed; the pointer devices send their state when it
 * changed, the keyboard applies one queued key event per report so that
 * a press and release between two polls both reach the guest.
 */
#include "hw/usb/hid.h"

#include <string.h>

#define HID_REQ_GET_REPORT 0x01
#define HID_REQ_GET_IDLE 0x02
#define HID_REQ_GET_PROTOCOL 0x03
#define HID_REQ_SET_REPORT 0x09
#define HID_REQ_SET_IDLE 0x0a
#define HID_REQ_SET_PROTOCOL 0x0b

/* Device descriptors: USB 1.1, 8-byte EP0 (at high speed: USB 2.0,
   64-byte EP0), vendor 0627 product 0001 (the IDs QEMU's HID devices
   have, which guests' quirk tables know). */
#define HID_DEV_DESC(product, usb_minor, ep0) {                          \
    18, USB_DT_DEVICE, (usb_minor), (usb_minor) == 0 ? 2 : 1, 0, 0, 0,   \
    (ep0), 0x27, 0x06,                                                   \
    (product) & 0xff, (product) >> 8, 0x00, 0x00, 1, 2, 3, 1 }

static const uint8_t hid_dev_desc[18] = HID_DEV_DESC(0x0001, 0x10, 8);
static const uint8_t hid_hs_dev_desc[18] = HID_DEV_DESC(0x0001, 0x00, 64);

/* Configuration + interface + HID + endpoint descriptors. */
#define HID_CFG_DESC(subclass, protocol, report_len, maxpkt, interval) { \
    9, USB_DT_CONFIG, 34, 0, 1, 1, 0, 0xa0, 50,                          \
    9, USB_DT_INTERFACE, 0, 0, 1, 3, (subclass), (protocol), 0,          \
    9, USB_DT_HID, 0x01, 0x01, 0, 1, USB_DT_REPORT,                      \
    (report_len) & 0xff, (report_len) >> 8,                              \
    7, USB_DT_ENDPOINT, 0x81, 0x03, (maxpkt), 0, (interval) }

/* Polling intervals: 10 ms at full speed; 2^(7-1) microframes = 8 ms at
   high speed. */
#define HID_FS_INTERVAL 10
#define HID_HS_INTERVAL 7

/* Buttons 1-3, X and Y absolute 0..32767 (16 bits), wheel relative. */
static const uint8_t tablet_report[] = {
    0x05, 0x01, 0x09, 0x02, 0xa1, 0x01, 0x09, 0x01, 0xa1, 0x00,
    0x05, 0x09, 0x19, 0x01, 0x29, 0x03, 0x15, 0x00, 0x25, 0x01,
    0x95, 0x03, 0x75, 0x01, 0x81, 0x02, 0x95, 0x01, 0x75, 0x05,
    0x81, 0x01,
    0x05, 0x01, 0x09, 0x30, 0x09, 0x31, 0x15, 0x00, 0x26, 0xff, 0x7f,
    0x35, 0x00, 0x46, 0xff, 0x7f, 0x75, 0x10, 0x95, 0x02, 0x81, 0x02,
    0x05, 0x01, 0x09, 0x38, 0x15, 0x81, 0x25, 0x7f, 0x35, 0x00,
    0x45, 0x00, 0x75, 0x08, 0x95, 0x01, 0x81, 0x06,
    0xc0, 0xc0,
};

/* Buttons 1-3, X, Y and wheel relative (-127..127, 8 bits each); the
   first three bytes are the boot protocol's report. */
static const uint8_t mouse_report[] = {
    0x05, 0x01, 0x09, 0x02, 0xa1, 0x01, 0x09, 0x01, 0xa1, 0x00,
    0x05, 0x09, 0x19, 0x01, 0x29, 0x03, 0x15, 0x00, 0x25, 0x01,
    0x95, 0x03, 0x75, 0x01, 0x81, 0x02, 0x95, 0x01, 0x75, 0x05,
    0x81, 0x01,
    0x05, 0x01, 0x09, 0x30, 0x09, 0x31, 0x09, 0x38, 0x15, 0x81,
    0x25, 0x7f, 0x75, 0x08, 0x95, 0x03, 0x81, 0x06,
    0xc0, 0xc0,
};

/* The boot keyboard of HID 1.11 appendix B.1: modifiers, a reserved
   byte, six key usages; five LED outputs. */
static const uint8_t kbd_report[] = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0,
    0x29, 0xe7, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08,
    0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x01, 0x95, 0x05,
    0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02,
    0x95, 0x01, 0x75, 0x03, 0x91, 0x01, 0x95, 0x06, 0x75, 0x08,
    0x15, 0x00, 0x25, 0xff, 0x05, 0x07, 0x19, 0x00, 0x29, 0xff,
    0x81, 0x00, 0xc0,
};

static const uint8_t tablet_cfg[] =
    HID_CFG_DESC(0, 0, sizeof(tablet_report), 8, HID_FS_INTERVAL);
static const uint8_t mouse_cfg[] =
    HID_CFG_DESC(1, 2, sizeof(mouse_report), 4, HID_FS_INTERVAL);
static const uint8_t kbd_cfg[] =
    HID_CFG_DESC(1, 1, sizeof(kbd_report), 8, HID_FS_INTERVAL);
static const uint8_t tablet_hs_cfg[] =
    HID_CFG_DESC(0, 0, sizeof(tablet_report), 8, HID_HS_INTERVAL);
static const uint8_t mouse_hs_cfg[] =
    HID_CFG_DESC(1, 2, sizeof(mouse_report), 4, HID_HS_INTERVAL);
static const uint8_t kbd_hs_cfg[] =
    HID_CFG_DESC(1, 1, sizeof(kbd_report), 8, HID_HS_INTERVAL);

static const char *const tablet_strings[] = { "QEMU", "QEMU USB Tablet",
                                              "@serial" };
static const char *const mouse_strings[] = { "QEMU", "QEMU USB Mouse",
                                             "@serial" };
static const char *const kbd_strings[] = { "QEMU", "QEMU USB Keyboard",
                                           "@serial" };

/* Linux evdev key code -> HID keyboard usage (0: none). */
static const uint8_t evdev_to_hid[128] = {
    [1] = 0x29, [2] = 0x1e, [3] = 0x1f, [4] = 0x20, [5] = 0x21,
    [6] = 0x22, [7] = 0x23, [8] = 0x24, [9] = 0x25, [10] = 0x26,
    [11] = 0x27, [12] = 0x2d, [13] = 0x2e, [14] = 0x2a, [15] = 0x2b,
    [16] = 0x14, [17] = 0x1a, [18] = 0x08, [19] = 0x15, [20] = 0x17,
    [21] = 0x1c, [22] = 0x18, [23] = 0x0c, [24] = 0x12, [25] = 0x13,
    [26] = 0x2f, [27] = 0x30, [28] = 0x28, [29] = 0xe0, [30] = 0x04,
    [31] = 0x16, [32] = 0x07, [33] = 0x09, [34] = 0x0a, [35] = 0x0b,
    [36] = 0x0d, [37] = 0x0e, [38] = 0x0f, [39] = 0x33, [40] = 0x34,
    [41] = 0x35, [42] = 0xe1, [43] = 0x31, [44] = 0x1d, [45] = 0x1b,
    [46] = 0x06, [47] = 0x19, [48] = 0x05, [49] = 0x11, [50] = 0x10,
    [51] = 0x36, [52] = 0x37, [53] = 0x38, [54] = 0xe5, [55] = 0x55,
    [56] = 0xe2, [57] = 0x2c, [58] = 0x39, [59] = 0x3a, [60] = 0x3b,
    [61] = 0x3c, [62] = 0x3d, [63] = 0x3e, [64] = 0x3f, [65] = 0x40,
    [66] = 0x41, [67] = 0x42, [68] = 0x43, [69] = 0x53, [70] = 0x47,
    [71] = 0x5f, [72] = 0x60, [73] = 0x61, [74] = 0x56, [75] = 0x5c,
    [76] = 0x5d, [77] = 0x5e, [78] = 0x57, [79] = 0x59, [80] = 0x5a,
    [81] = 0x5b, [82] = 0x62, [83] = 0x63, [86] = 0x64, [87] = 0x44,
    [88] = 0x45, [96] = 0x58, [97] = 0xe4, [98] = 0x54, [99] = 0x46,
    [100] = 0xe6, [102] = 0x4a, [103] = 0x52, [104] = 0x4b, [105] = 0x50,
    [106] = 0x4f, [107] = 0x4d, [108] = 0x51, [109] = 0x4e, [110] = 0x49,
    [111] = 0x4c, [119] = 0x48, [125] = 0xe3, [126] = 0xe7, [127] = 0x65,
};

static UsbHid *hid_of(UsbDevice *d)
{
    return (UsbHid *)d;
}

static int hid_report_desc(UsbHid *h, const uint8_t **desc)
{
    switch (h->kind) {
    case USB_HID_TABLET:
        *desc = tablet_report;
        return sizeof(tablet_report);
    case USB_HID_MOUSE:
        *desc = mouse_report;
        return sizeof(mouse_report);
    default:
        *desc = kbd_report;
        return sizeof(kbd_report);
    }
}

static int clamp8(int *acc)
{
    int v = CLAMP(*acc, -127, 127);
    *acc -= v;
    return v;
}

/* Build the next input report; returns its length (0: nothing new). */
static int hid_build_report(UsbHid *h, uint8_t *buf, bool force)
{
    switch (h->kind) {
    case USB_HID_TABLET:
        if (!h->changed && !force) {
            return 0;
        }
        h->changed = 0;
        buf[0] = h->buttons & 7;
        buf[1] = h->x;
        buf[2] = h->x >> 8;
        buf[3] = h->y;
        buf[4] = h->y >> 8;
        buf[5] = (uint8_t)clamp8(&h->dz);
        h->changed = h->dz != 0;
        return 6;
    case USB_HID_MOUSE: {
        if (!h->changed && !force) {
            return 0;
        }
        buf[0] = h->buttons & 7;
        buf[1] = (uint8_t)clamp8(&h->dx);
        buf[2] = (uint8_t)clamp8(&h->dy);
        buf[3] = (uint8_t)clamp8(&h->dz);
        h->changed = h->dx || h->dy || h->dz;
        return h->protocol == 0 ? 3 : 4;
    }
    default:
        if (h->q_count) {
            uint8_t ev = h->queue[h->q_head];
            h->q_head = (h->q_head + 1) % USB_HID_QUEUE;
            h->q_count--;
            uint8_t usage = ev & 0x7f ? evdev_to_hid[ev & 0x7f] : 0;
            bool down = !(ev & 0x80);
            if (usage >= 0xe0) {
                uint8_t bit = 1u << (usage - 0xe0);
                h->modifiers = down ? h->modifiers | bit
                                    : h->modifiers & ~bit;
            } else if (usage) {
                int free_slot = -1, have = -1;
                for (int i = 0; i < 6; i++) {
                    if (h->keys[i] == usage) {
                        have = i;
                    } else if (!h->keys[i] && free_slot < 0) {
                        free_slot = i;
                    }
                }
                if (down && have < 0 && free_slot >= 0) {
                    h->keys[free_slot] = usage;
                } else if (!down && have >= 0) {
                    h->keys[have] = 0;
                }
            }
        } else if (!force) {
            return 0;
        }
        buf[0] = h->modifiers;
        buf[1] = 0;
        memcpy(buf + 2, h->keys, 6);
        return 8;
    }
}

static int hid_get_descriptor(UsbDevice *d, const UsbSetup *s, uint8_t *buf,
                              size_t room)
{
    UsbHid *h = hid_of(d);
    const uint8_t *desc;
    int len = hid_report_desc(h, &desc);
    if ((s->value >> 8) == USB_DT_REPORT) {
        len = MIN((size_t)len, room);
        memcpy(buf, desc, len);
        return len;
    }
    if ((s->value >> 8) == USB_DT_HID) {
        len = MIN(9, room);
        memcpy(buf, d->cls->cfg_desc + 18, len);
        return len;
    }
    return USB_RET_STALL;
}

static int hid_control(UsbDevice *d, const UsbSetup *s, uint8_t *buf,
                       size_t room)
{
    UsbHid *h = hid_of(d);
    if ((s->type & USB_TYPE_MASK) != USB_TYPE_CLASS) {
        return USB_RET_STALL;
    }
    switch (s->request) {
    case HID_REQ_GET_REPORT: {
        uint8_t r[8];
        int n = hid_build_report(h, r, true);
        n = MIN((size_t)n, room);
        memcpy(buf, r, n);
        return n;
    }
    case HID_REQ_SET_REPORT:
        if (h->kind == USB_HID_KBD && room >= 1) {
            h->leds = buf[0];
        }
        return 0;
    case HID_REQ_GET_IDLE:
        buf[0] = h->idle;
        return MIN(room, 1);
    case HID_REQ_SET_IDLE:
        h->idle = s->value >> 8;
        return 0;
    case HID_REQ_GET_PROTOCOL:
        buf[0] = h->protocol;
        return MIN(room, 1);
    case HID_REQ_SET_PROTOCOL:
        h->protocol = s->value ? 1 : 0;
        return 0;
    default:
        return USB_RET_STALL;
    }
}

static int hid_data(UsbDevice *d, UsbPacket *p)
{
    UsbHid *h = hid_of(d);
    if (p->pid != USB_TOKEN_IN || p->ep != 1) {
        return USB_RET_STALL;
    }
    uint8_t r[8];
    int n = hid_build_report(h, r, false);
    if (n == 0) {
        return USB_RET_NAK;
    }
    p->actual = MIN((size_t)n, p->len);
    memcpy(p->data, r, p->actual);
    return USB_RET_SUCCESS;
}

static void hid_class_reset(UsbDevice *d)
{
    UsbHid *h = hid_of(d);
    h->protocol = 1;
    h->idle = 0;
    h->leds = 0;
    h->dx = h->dy = h->dz = 0;
    h->changed = 0;
    h->q_head = h->q_count = 0;
    h->modifiers = 0;
    memset(h->keys, 0, sizeof(h->keys));
}

const UsbDeviceClass usb_tablet_class = {
    .name = "usb-tablet", .product = "QEMU USB Tablet",
    .speed = USB_SPEED_FULL, .dev_desc = hid_dev_desc,
    .cfg_desc = tablet_cfg, .cfg_len = sizeof(tablet_cfg),
    .hs_dev_desc = hid_hs_dev_desc, .hs_cfg_desc = tablet_hs_cfg,
    .hs_cfg_len = sizeof(tablet_hs_cfg),
    .strings = tablet_strings, .n_strings = 3,
    .get_descriptor = hid_get_descriptor, .control = hid_control,
    .data = hid_data, .reset = hid_class_reset,
};

const UsbDeviceClass usb_mouse_class = {
    .name = "usb-mouse", .product = "QEMU USB Mouse",
    .speed = USB_SPEED_FULL, .dev_desc = hid_dev_desc,
    .cfg_desc = mouse_cfg, .cfg_len = sizeof(mouse_cfg),
    .hs_dev_desc = hid_hs_dev_desc, .hs_cfg_desc = mouse_hs_cfg,
    .hs_cfg_len = sizeof(mouse_hs_cfg),
    .strings = mouse_strings, .n_strings = 3,
    .get_descriptor = hid_get_descriptor, .control = hid_control,
    .data = hid_data, .reset = hid_class_reset,
};

const UsbDeviceClass usb_kbd_class = {
    .name = "usb-kbd", .product = "QEMU USB Keyboard",
    .speed = USB_SPEED_FULL, .dev_desc = hid_dev_desc,
    .cfg_desc = kbd_cfg, .cfg_len = sizeof(kbd_cfg),
    .hs_dev_desc = hid_hs_dev_desc, .hs_cfg_desc = kbd_hs_cfg,
    .hs_cfg_len = sizeof(kbd_hs_cfg),
    .strings = kbd_strings, .n_strings = 3,
    .get_descriptor = hid_get_descriptor, .control = hid_control,
    .data = hid_data, .reset = hid_class_reset,
};

void usb_hid_pointer_abs(UsbHid *h, int x, int y, int dz, unsigned buttons)
{
    h->x = CLAMP(x, 0, 0x7fff);
    h->y = CLAMP(y, 0, 0x7fff);
    h->dz = CLAMP(h->dz + dz, -10000, 10000);
    h->buttons = buttons;
    h->changed = 1;
    usb_wakeup(&h->usb);
}

void usb_hid_pointer_rel(UsbHid *h, int dx, int dy, int dz,
                         unsigned buttons)
{
    h->dx = CLAMP(h->dx + dx, -100000, 100000);
    h->dy = CLAMP(h->dy + dy, -100000, 100000);
    h->dz = CLAMP(h->dz + dz, -10000, 10000);
    h->buttons = buttons;
    h->changed = 1;
    usb_wakeup(&h->usb);
}

void usb_hid_key(UsbHid *h, unsigned evdev, bool down)
{
    if (evdev >= 128 || !evdev_to_hid[evdev] ||
        h->q_count >= USB_HID_QUEUE) {
        return; /* a key without a usage, or a full queue: dropped */
    }
    h->queue[(h->q_head + h->q_count) % USB_HID_QUEUE] =
        evdev | (down ? 0 : 0x80);
    h->q_count++;
    usb_wakeup(&h->usb);
}

static bool hid_realize(Device *dev, GError **error)
{
    UsbHid *h = (UsbHid *)dev;
    h->usb.cls = h->kind == USB_HID_TABLET ? &usb_tablet_class
               : h->kind == USB_HID_MOUSE ? &usb_mouse_class
               : &usb_kbd_class;
    hid_class_reset(&h->usb);
    return true;
}

static void hid_reset(Device *dev)
{
    usb_device_reset((UsbDevice *)dev);
}

static bool hid_post_load(void *obj, GError **error)
{
    UsbHid *h = obj;
    if (!usb_device_post_load(&h->usb, error)) {
        return false;
    }
    if (h->q_head >= USB_HID_QUEUE || h->q_count > USB_HID_QUEUE ||
        h->protocol > 1 || h->changed > 1 || h->x > 0x7fff ||
        h->y > 0x7fff) {
        g_set_error(error, STATE_ERROR, 0, "%s: invalid HID state",
                    h->usb.cls->name);
        return false;
    }
    h->dx = CLAMP(h->dx, -100000, 100000);
    h->dy = CLAMP(h->dy, -100000, 100000);
    h->dz = CLAMP(h->dz, -10000, 10000);
    return true;
}

static const StateDesc usb_hid_state = {
    .name = "usb-hid", .version = 1, .post_load = hid_post_load,
    .fields = (const StateField[]) {
        USB_DEVICE_STATE_FIELDS(UsbHid),
        STATE_U8(UsbHid, protocol), STATE_U8(UsbHid, idle),
        STATE_U8(UsbHid, leds), STATE_U8(UsbHid, changed),
        STATE_U32(UsbHid, buttons), STATE_U16(UsbHid, x),
        STATE_U16(UsbHid, y), STATE_I32(UsbHid, dx), STATE_I32(UsbHid, dy),
        STATE_I32(UsbHid, dz), STATE_U8(UsbHid, modifiers),
        STATE_BYTES(UsbHid, keys, 6),
        STATE_BYTES(UsbHid, queue, USB_HID_QUEUE),
        STATE_U8(UsbHid, q_head), STATE_U8(UsbHid, q_count),
        STATE_END },
};

const DeviceInfo usb_hid_info = {
    .name = "usb-hid", .size = sizeof(UsbHid), .state = &usb_hid_state,
    .realize = hid_realize, .reset = hid_reset,
};
