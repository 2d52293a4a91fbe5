/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usb-hub: a full-speed hub with USB_HUB_PORTS downstream ports, which
 * the machine puts on its last free root port when the devices would
 * not fit otherwise (as QEMU does); its ports are named "N.1".."N.8".
 * Reference: USB 2.0 specification, 11.23 (hub descriptor), 11.24 (hub
 * class requests: GET_STATUS, SET/CLEAR_FEATURE of ports), 11.12.4 (the
 * status change endpoint's bitmap).
 */
#include "hw/usb/hub.h"

#include <string.h>

#define PORT_CONNECTION 0x0001
#define PORT_ENABLE 0x0002
#define PORT_SUSPEND 0x0004
#define PORT_RESET 0x0010
#define PORT_POWER 0x0100

/* Feature selectors; the C_ ones are the change bits (bit n - 16). */
#define F_PORT_ENABLE 1
#define F_PORT_SUSPEND 2
#define F_PORT_RESET 4
#define F_PORT_POWER 8
#define F_C_PORT_CONNECTION 16

static const uint8_t hub_dev_desc[18] = {
    18, USB_DT_DEVICE, 0x10, 0x01, 0x09, 0, 0, 8, 0x09, 0x04, 0xaa, 0x55,
    0x01, 0x01, 0, 1, 0, 1,
};

static const uint8_t hub_cfg_desc[] = {
    9, USB_DT_CONFIG, 25, 0, 1, 1, 0, 0xe0, 0,
    9, USB_DT_INTERFACE, 0, 0, 1, 0x09, 0, 0, 0,
    7, USB_DT_ENDPOINT, 0x81, 0x03, 2, 0, 0xff,
};

static const char *const hub_strings[] = { "QEMU USB Hub" };

static UsbHub *hub_of(UsbDevice *d)
{
    return (UsbHub *)d;
}

static void port_attach(UsbPort *port)
{
    UsbHub *h = port->owner;
    h->status[port->index] |= PORT_CONNECTION;
    h->change[port->index] |= PORT_CONNECTION;
}

static void port_detach(UsbPort *port)
{
    UsbHub *h = port->owner;
    int i = port->index;
    if (h->status[i] & PORT_ENABLE) {
        h->change[i] |= PORT_ENABLE;
    }
    h->status[i] &= ~(PORT_CONNECTION | PORT_ENABLE | PORT_SUSPEND);
    h->change[i] |= PORT_CONNECTION;
}

static UsbDevice *hub_find(UsbDevice *d, uint8_t addr)
{
    UsbHub *h = hub_of(d);
    for (int i = 0; i < USB_HUB_PORTS; i++) {
        UsbDevice *c = h->ports[i].dev;
        if (c && (h->status[i] & PORT_ENABLE) && c->addr == addr) {
            return c; /* one level: no hub behind a hub */
        }
    }
    return NULL;
}

static int hub_control(UsbDevice *d, const UsbSetup *s, uint8_t *buf,
                       size_t room)
{
    UsbHub *h = hub_of(d);
    unsigned recip = s->type & USB_RECIP_MASK;
    int i = (int)s->index - 1;
    bool port_ok = recip == 3 && i >= 0 && i < USB_HUB_PORTS;
    if ((s->type & USB_TYPE_MASK) != USB_TYPE_CLASS) {
        return USB_RET_STALL;
    }
    switch (s->request) {
    case USB_REQ_GET_DESCRIPTOR:
        if ((s->value >> 8) == 0x29) {
            const uint8_t desc[9] = { 9, 0x29, USB_HUB_PORTS, 0x0a, 0, 1, 0,
                                      0x00, 0xff };
            size_t n = MIN(room, sizeof(desc));
            memcpy(buf, desc, n);
            return n;
        }
        return USB_RET_STALL;
    case USB_REQ_GET_STATUS:
        if (room < 4) {
            return USB_RET_STALL;
        }
        memset(buf, 0, 4);
        if (port_ok) {
            buf[0] = h->status[i];
            buf[1] = h->status[i] >> 8;
            buf[2] = h->change[i];
            buf[3] = h->change[i] >> 8;
        } else if (recip != 0) {
            return USB_RET_STALL;
        }
        return 4;
    case USB_REQ_SET_FEATURE:
        if (!port_ok) {
            return recip == 0 ? 0 : USB_RET_STALL;
        }
        switch (s->value) {
        case F_PORT_SUSPEND:
            h->status[i] |= PORT_SUSPEND;
            return 0;
        case F_PORT_RESET:
            if (h->ports[i].dev) {
                usb_device_reset(h->ports[i].dev);
                h->status[i] |= PORT_ENABLE;
                h->change[i] |= PORT_RESET;
            }
            return 0;
        case F_PORT_POWER:
            h->status[i] |= PORT_POWER;
            return 0;
        default:
            return 0;
        }
    case USB_REQ_CLEAR_FEATURE:
        if (!port_ok) {
            return recip == 0 ? 0 : USB_RET_STALL;
        }
        if (s->value == F_PORT_ENABLE) {
            h->status[i] &= ~PORT_ENABLE;
        } else if (s->value == F_PORT_SUSPEND) {
            h->status[i] &= ~PORT_SUSPEND;
        } else if (s->value == F_PORT_POWER) {
            h->status[i] &= ~PORT_POWER;
        } else if (s->value >= F_C_PORT_CONNECTION && s->value <= 20) {
            h->change[i] &= ~(1u << (s->value - F_C_PORT_CONNECTION));
        }
        return 0;
    default:
        return USB_RET_STALL;
    }
}

static int hub_data(UsbDevice *d, UsbPacket *p)
{
    UsbHub *h = hub_of(d);
    if (p->pid != USB_TOKEN_IN || p->ep != 1) {
        return USB_RET_STALL;
    }
    unsigned map = 0;
    for (int i = 0; i < USB_HUB_PORTS; i++) {
        if (h->change[i]) {
            map |= 1u << (i + 1);
        }
    }
    if (!map) {
        return USB_RET_NAK;
    }
    size_t n = MIN(p->len, (size_t)2);
    for (size_t k = 0; k < n; k++) {
        p->data[k] = map >> (8 * k);
    }
    p->actual = n;
    return USB_RET_SUCCESS;
}

static void hub_class_reset(UsbDevice *d)
{
    UsbHub *h = hub_of(d);
    for (int i = 0; i < USB_HUB_PORTS; i++) {
        if (h->ports[i].dev) {
            usb_device_reset(h->ports[i].dev); /* the reset goes down */
        }
        h->status[i] = h->ports[i].dev ? PORT_CONNECTION : 0;
        h->change[i] = h->ports[i].dev ? PORT_CONNECTION : 0;
    }
}

const UsbDeviceClass usb_hub_class = {
    .name = "usb-hub", .product = "QEMU USB Hub", .speed = USB_SPEED_FULL,
    .dev_desc = hub_dev_desc, .cfg_desc = hub_cfg_desc,
    .cfg_len = sizeof(hub_cfg_desc), .strings = hub_strings, .n_strings = 1,
    .control = hub_control, .data = hub_data, .reset = hub_class_reset,
    .find = hub_find,
};

static bool hub_realize(Device *dev, GError **error)
{
    UsbHub *h = (UsbHub *)dev;
    h->usb.cls = &usb_hub_class;
    for (int i = 0; i < USB_HUB_PORTS; i++) {
        UsbPort *p = &h->ports[i];
        p->owner = h;
        p->index = i;
        p->attach = port_attach;
        p->detach = port_detach;
    }
    return true;
}

static void hub_reset(Device *dev)
{
    usb_device_reset((UsbDevice *)dev);
}

static bool hub_post_load(void *obj, GError **error)
{
    UsbHub *h = obj;
    if (!usb_device_post_load(&h->usb, error)) {
        return false;
    }
    for (int i = 0; i < USB_HUB_PORTS; i++) {
        if (!h->ports[i].dev) {
            h->status[i] &= ~(PORT_CONNECTION | PORT_ENABLE);
        }
    }
    return true;
}

static const StateDesc usb_hub_state = {
    .name = "usb-hub", .version = 1, .post_load = hub_post_load,
    .fields = (const StateField[]) {
        USB_DEVICE_STATE_FIELDS(UsbHub),
        STATE_U16_ARRAY(UsbHub, status, USB_HUB_PORTS),
        STATE_U16_ARRAY(UsbHub, change, USB_HUB_PORTS),
        STATE_END },
};

const DeviceInfo usb_hub_info = {
    .name = "usb-hub", .size = sizeof(UsbHub), .state = &usb_hub_state,
    .realize = hub_realize, .reset = hub_reset,
};
