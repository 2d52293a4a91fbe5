/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The USB core: a device model shared by every host controller.
 *
 * A UsbDevice is a Device (so it has an id, a reset and saved state) that
 * a host controller's port holds.  The controller turns its descriptor
 * lists into UsbPackets (one token: SETUP, IN or OUT to an endpoint) and
 * hands them to usb_handle_packet(), which answers endpoint 0 itself from
 * the device's descriptors (the standard requests of chapter 9) and passes
 * class requests and the other endpoints to the device type.
 *
 * Every packet completes synchronously: the device answers with data, a
 * NAK (nothing yet: the controller retries in a later frame) or a STALL.
 * Reference: Universal Serial Bus Specification 2.0, chapter 9 (device
 * framework: standard requests, descriptors).
 */
#ifndef MIMIC_HW_USB_USB_H
#define MIMIC_HW_USB_USB_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/device.h"

#define USB_TOKEN_SETUP 0x2d
#define USB_TOKEN_IN 0x69
#define USB_TOKEN_OUT 0xe1

/* Packet results. */
#define USB_RET_SUCCESS 0
#define USB_RET_NAK (-1)
#define USB_RET_STALL (-2)
#define USB_RET_BABBLE (-3)
#define USB_RET_NODEV (-4)

#define USB_SPEED_LOW 0
#define USB_SPEED_FULL 1
#define USB_SPEED_HIGH 2
#define USB_SPEED_SUPER 3

/* Descriptor types and standard requests. */
#define USB_DT_DEVICE 1
#define USB_DT_CONFIG 2
#define USB_DT_STRING 3
#define USB_DT_INTERFACE 4
#define USB_DT_ENDPOINT 5
#define USB_DT_BOS 15
#define USB_DT_HID 0x21
#define USB_DT_REPORT 0x22

#define USB_REQ_GET_STATUS 0
#define USB_REQ_CLEAR_FEATURE 1
#define USB_REQ_SET_FEATURE 3
#define USB_REQ_SET_ADDRESS 5
#define USB_REQ_GET_DESCRIPTOR 6
#define USB_REQ_GET_CONFIGURATION 8
#define USB_REQ_SET_CONFIGURATION 9
#define USB_REQ_GET_INTERFACE 10
#define USB_REQ_SET_INTERFACE 11
#define USB_REQ_SET_SEL 48
#define USB_REQ_SET_ISOCH_DELAY 49

#define USB_DIR_IN 0x80
#define USB_TYPE_MASK 0x60
#define USB_TYPE_STANDARD 0x00
#define USB_TYPE_CLASS 0x20
#define USB_RECIP_MASK 0x1f
#define USB_RECIP_DEVICE 0
#define USB_RECIP_INTERFACE 1
#define USB_RECIP_ENDPOINT 2

#define USB_CTRL_BUF 1024 /* the largest control data stage we answer */

typedef struct UsbDevice UsbDevice;

typedef struct UsbPacket {
    uint8_t pid;     /* USB_TOKEN_* */
    uint8_t ep;      /* endpoint number 0-15 */
    uint8_t *data;   /* the controller's buffer */
    size_t len;      /* IN: room in data; OUT/SETUP: bytes in data */
    size_t actual;   /* bytes transferred (set by the device) */
} UsbPacket;

typedef struct UsbSetup {
    uint8_t type, request;
    uint16_t value, index, length;
} UsbSetup;

/* A device type. */
typedef struct UsbDeviceClass {
    const char *name;        /* "usb-tablet" */
    const char *product;     /* for "info usb" */
    int speed;               /* USB_SPEED_FULL */
    const uint8_t *dev_desc; /* 18 bytes */
    const uint8_t *cfg_desc; /* the whole configuration */
    size_t cfg_len;
    /* The same at high speed (64-byte EP0, 512-byte bulk packets,
       intervals in microframes); NULL: a full-speed-only device. */
    const uint8_t *hs_dev_desc;
    const uint8_t *hs_cfg_desc;
    size_t hs_cfg_len;
    /* The same at SuperSpeed (an xHCI's USB3 port): bcdUSB 3.00, the
       endpoint companions, and the BOS; NULL: no SuperSpeed. */
    const uint8_t *ss_dev_desc;
    const uint8_t *ss_cfg_desc;
    size_t ss_cfg_len;
    const uint8_t *bos_desc;
    size_t bos_len;
    const char *const *strings; /* index 1.. (0 is the language list) */
    int n_strings;
    /* Descriptors the core does not know (HID report); length or
       USB_RET_STALL. */
    int (*get_descriptor)(UsbDevice *d, const UsbSetup *s, uint8_t *buf,
                          size_t room);
    /* A class/vendor request: IN requests fill buf (room bytes) and
       return its length; OUT requests get the data stage in buf (len
       s->length); USB_RET_STALL refuses. */
    int (*control)(UsbDevice *d, const UsbSetup *s, uint8_t *buf,
                   size_t room);
    /* A packet to an endpoint other than 0: fill p->actual, return
       USB_RET_*. */
    int (*data)(UsbDevice *d, UsbPacket *p);
    void (*reset)(UsbDevice *d); /* a bus reset of the port */
    /* A hub: the device with this address behind it, or NULL. */
    UsbDevice *(*find)(UsbDevice *d, uint8_t addr);
} UsbDeviceClass;

typedef struct UsbPort UsbPort;

struct UsbDevice {
    Device dev;
    const UsbDeviceClass *cls;
    UsbPort *port;   /* NULL while not plugged in */
    bool high_speed; /* on a high-speed port (set when plugged in) */
    bool super_speed; /* on a SuperSpeed-capable port, with SS descriptors */
    /* Saved. */
    uint8_t addr;
    uint8_t config;  /* the configuration value set, 0: unconfigured */
    uint8_t remote_wakeup;
    uint8_t ctrl_state; /* USB_CTRL_* */
    uint8_t setup[8];
    uint16_t ctrl_len, ctrl_pos;
    uint8_t ctrl_buf[USB_CTRL_BUF];
    uint16_t halted[2]; /* endpoint halt bits: [0] OUT, [1] IN, bit n */
};

enum { USB_CTRL_IDLE, USB_CTRL_DATA_IN, USB_CTRL_DATA_OUT,
       USB_CTRL_STATUS_IN, USB_CTRL_STATUS_OUT };

/* A root-hub (or hub) port a controller owns. */
struct UsbPort {
    UsbDevice *dev;
    void *owner;
    int index;      /* 0-based */
    char path[16];  /* QEMU's port name: "1", "1.2" */
    bool high_speed; /* an EHCI root port: devices run at high speed */
    bool super_speed; /* an xHCI port pair: SuperSpeed devices use USB3 */
    /* Told when a device is plugged in (dev set) or pulled out. */
    void (*attach)(UsbPort *port);
    void (*detach)(UsbPort *port);
    /* A device with new data for an interrupt endpoint (no-op allowed). */
    void (*wakeup)(UsbPort *port);
};

/* The state table fields every device type includes first. */
#define USB_DEVICE_STATE_FIELDS(st)                                      \
    STATE_U8(st, usb.addr), STATE_U8(st, usb.config),                    \
    STATE_U8(st, usb.remote_wakeup), STATE_U8(st, usb.ctrl_state),       \
    STATE_BYTES(st, usb.setup, 8), STATE_U16(st, usb.ctrl_len),          \
    STATE_U16(st, usb.ctrl_pos),                                         \
    STATE_BYTES(st, usb.ctrl_buf, USB_CTRL_BUF),                         \
    STATE_U16_ARRAY(st, usb.halted, 2)

int usb_handle_packet(UsbDevice *d, UsbPacket *p);
/* d itself or a device behind it (hubs) with address addr. */
UsbDevice *usb_find_device(UsbDevice *d, uint8_t addr);
/* A bus reset (port reset): address 0, unconfigured, class reset. */
void usb_device_reset(UsbDevice *d);
/* Validate the core's loaded fields. */
bool usb_device_post_load(UsbDevice *d, GError **error);

void usb_port_attach(UsbPort *port, UsbDevice *d);
void usb_port_detach(UsbPort *port);
void usb_wakeup(UsbDevice *d);

/* Little-endian helpers for descriptors and wrappers. */
static inline uint16_t usb_le16(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

static inline uint32_t usb_le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void usb_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
}

#endif
