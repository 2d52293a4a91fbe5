/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The USB core (see usb.h): control transfers on endpoint 0 and the
 * standard requests.
 * Reference: USB 2.0 specification, 8.5.3 (control transfers: setup,
 * optional data and status stages), 9.4 (standard device requests) and
 * 9.6 (standard descriptors).
 *
 * A control transfer is a small state machine per device: a SETUP packet
 * starts one (and aborts any other), IN requests are answered at once
 * into ctrl_buf and read out by the IN data packets, OUT data is
 * collected in ctrl_buf and acted on at the status stage, and so is a
 * request without data (SET_ADDRESS must only take effect once its
 * status stage is over).  Everything a packet carries is bounded by
 * USB_CTRL_BUF.
 */
#include "hw/usb/usb.h"

#include <string.h>

#include "bus/log.h"

static void setup_decode(const uint8_t *b, UsbSetup *s)
{
    s->type = b[0];
    s->request = b[1];
    s->value = usb_le16(b + 2);
    s->index = usb_le16(b + 4);
    s->length = usb_le16(b + 6);
}

/* A string descriptor: index 0 is the list of languages (US English). */
static int string_desc(UsbDevice *d, unsigned index, uint8_t *buf,
                       size_t room)
{
    if (index == 0) {
        static const uint8_t langs[] = { 4, USB_DT_STRING, 0x09, 0x04 };
        memcpy(buf, langs, MIN(room, sizeof(langs)));
        return MIN(room, sizeof(langs));
    }
    const char *str = NULL;
    char serial[24];
    if ((int)index <= d->cls->n_strings) {
        str = d->cls->strings[index - 1];
    }
    if (str && !strcmp(str, "@serial")) {
        /* Distinct serial numbers per device id (Linux wants one on
           mass storage). */
        g_snprintf(serial, sizeof(serial), "%08X",
                   g_str_hash(d->dev.id ? d->dev.id : "usb"));
        str = serial;
    }
    if (!str) {
        return USB_RET_STALL;
    }
    size_t n = MIN(strlen(str), 126);
    size_t len = 2 + 2 * n;
    uint8_t tmp[256];
    tmp[0] = len;
    tmp[1] = USB_DT_STRING;
    for (size_t i = 0; i < n; i++) {
        tmp[2 + 2 * i] = (uint8_t)str[i];
        tmp[3 + 2 * i] = 0;
    }
    len = MIN(len, room);
    memcpy(buf, tmp, len);
    return len;
}

static int copy_desc(const uint8_t *desc, size_t len, uint8_t *buf,
                     size_t room)
{
    len = MIN(len, room);
    memcpy(buf, desc, len);
    return len;
}

/* An endpoint address from wIndex: bit 7 direction, bits 3:0 number. */
static void set_halt(UsbDevice *d, uint16_t ep, bool on)
{
    uint16_t bit = 1u << (ep & 15);
    uint16_t *h = &d->halted[(ep & USB_DIR_IN) ? 1 : 0];
    *h = on ? (*h | bit) : (*h & ~bit);
}

/* Answer a request; IN requests fill buf.  Returns the data length or
   USB_RET_STALL. */
static int do_request(UsbDevice *d, const UsbSetup *s, uint8_t *buf,
                      size_t room, bool at_status)
{
    const UsbDeviceClass *c = d->cls;
    if ((s->type & USB_TYPE_MASK) != USB_TYPE_STANDARD) {
        return c->control ? c->control(d, s, buf, room) : USB_RET_STALL;
    }
    unsigned recip = s->type & USB_RECIP_MASK;
    switch (s->request) {
    case USB_REQ_GET_DESCRIPTOR:
        if (!(s->type & USB_DIR_IN)) {
            return USB_RET_STALL;
        }
        switch (s->value >> 8) {
        case USB_DT_DEVICE:
            return copy_desc(d->super_speed ? c->ss_dev_desc
                             : d->high_speed ? c->hs_dev_desc : c->dev_desc,
                             18, buf, room);
        case USB_DT_CONFIG:
            if ((s->value & 0xff) != 0) {
                return USB_RET_STALL;
            }
            if (d->super_speed) {
                return copy_desc(c->ss_cfg_desc, c->ss_cfg_len, buf, room);
            }
            if (d->high_speed) {
                return copy_desc(c->hs_cfg_desc, c->hs_cfg_len, buf, room);
            }
            return copy_desc(c->cfg_desc, c->cfg_len, buf, room);
        case USB_DT_BOS:
            if (!d->super_speed || !c->bos_desc) {
                return USB_RET_STALL;
            }
            return copy_desc(c->bos_desc, c->bos_len, buf, room);
        case USB_DT_STRING:
            return string_desc(d, s->value & 0xff, buf, room);
        default:
            return c->get_descriptor ? c->get_descriptor(d, s, buf, room)
                                     : USB_RET_STALL;
        }
    case USB_REQ_SET_ADDRESS:
        if (s->value > 127) {
            return USB_RET_STALL;
        }
        if (at_status) {
            d->addr = s->value;
        }
        return 0;
    case USB_REQ_GET_CONFIGURATION:
        buf[0] = d->config;
        return MIN(room, 1);
    case USB_REQ_SET_CONFIGURATION: {
        unsigned v = s->value & 0xff;
        if (v != 0 && v != c->cfg_desc[5]) {
            return USB_RET_STALL;
        }
        d->config = v;
        d->halted[0] = d->halted[1] = 0;
        return 0;
    }
    case USB_REQ_GET_INTERFACE:
        buf[0] = 0;
        return MIN(room, 1);
    case USB_REQ_SET_INTERFACE:
        return s->value == 0 ? 0 : USB_RET_STALL;
    case USB_REQ_GET_STATUS: {
        uint16_t st = 0;
        if (recip == USB_RECIP_DEVICE) {
            /* bit 0 self-powered (bmAttributes bit 6), bit 1 wakeup */
            st = ((c->cfg_desc[7] & 0x40) ? 1 : 0) |
                 (d->remote_wakeup ? 2 : 0);
        } else if (recip == USB_RECIP_ENDPOINT) {
            unsigned ep = s->index;
            st = (d->halted[(ep & USB_DIR_IN) ? 1 : 0] >> (ep & 15)) & 1;
        }
        buf[0] = st;
        buf[1] = 0;
        return MIN(room, 2);
    }
    case USB_REQ_CLEAR_FEATURE:
    case USB_REQ_SET_FEATURE: {
        bool on = s->request == USB_REQ_SET_FEATURE;
        if (recip == USB_RECIP_DEVICE && s->value == 1) {
            d->remote_wakeup = on;
            return 0;
        }
        if (recip == USB_RECIP_ENDPOINT && s->value == 0) {
            if (at_status) {
                set_halt(d, s->index, on);
            }
            return 0;
        }
        return USB_RET_STALL;
    }
    case USB_REQ_SET_SEL:
    case USB_REQ_SET_ISOCH_DELAY:
        /* SuperSpeed link timing: nothing to time here. */
        return d->super_speed ? 0 : USB_RET_STALL;
    default:
        return USB_RET_STALL;
    }
}

static int control_packet(UsbDevice *d, UsbPacket *p)
{
    UsbSetup s;
    setup_decode(d->setup, &s);
    switch (p->pid) {
    case USB_TOKEN_SETUP: {
        if (p->len != 8) {
            return USB_RET_STALL;
        }
        memcpy(d->setup, p->data, 8);
        setup_decode(d->setup, &s);
        d->ctrl_pos = 0;
        if (s.type & USB_DIR_IN) {
            int n = do_request(d, &s, d->ctrl_buf,
                               MIN(s.length, USB_CTRL_BUF), false);
            if (n < 0) {
                d->ctrl_state = USB_CTRL_IDLE;
                return n;
            }
            d->ctrl_len = n;
            d->ctrl_state = s.length ? USB_CTRL_DATA_IN
                                     : USB_CTRL_STATUS_OUT;
        } else if (s.length) {
            if (s.length > USB_CTRL_BUF) {
                d->ctrl_state = USB_CTRL_IDLE;
                return USB_RET_STALL;
            }
            d->ctrl_len = s.length;
            d->ctrl_state = USB_CTRL_DATA_OUT;
        } else {
            d->ctrl_len = 0;
            d->ctrl_state = USB_CTRL_STATUS_IN;
        }
        p->actual = 8;
        return USB_RET_SUCCESS;
    }
    case USB_TOKEN_IN:
        if (d->ctrl_state == USB_CTRL_DATA_IN) {
            size_t n = MIN(p->len, (size_t)(d->ctrl_len - d->ctrl_pos));
            memcpy(p->data, d->ctrl_buf + d->ctrl_pos, n);
            d->ctrl_pos += n;
            p->actual = n;
            return USB_RET_SUCCESS;
        }
        if (d->ctrl_state == USB_CTRL_STATUS_IN ||
            d->ctrl_state == USB_CTRL_DATA_OUT) {
            /* The status stage of an OUT request: act on it now. */
            if (d->ctrl_state == USB_CTRL_DATA_OUT &&
                d->ctrl_pos < d->ctrl_len) {
                d->ctrl_len = d->ctrl_pos; /* the host sent less */
            }
            d->ctrl_state = USB_CTRL_IDLE;
            int n = do_request(d, &s, d->ctrl_buf, d->ctrl_len, true);
            p->actual = 0;
            return n < 0 ? n : USB_RET_SUCCESS;
        }
        return USB_RET_STALL;
    case USB_TOKEN_OUT:
        if (d->ctrl_state == USB_CTRL_DATA_OUT) {
            size_t n = MIN(p->len, (size_t)(d->ctrl_len - d->ctrl_pos));
            memcpy(d->ctrl_buf + d->ctrl_pos, p->data, n);
            d->ctrl_pos += n;
            p->actual = n;
            return USB_RET_SUCCESS;
        }
        if (d->ctrl_state == USB_CTRL_DATA_IN ||
            d->ctrl_state == USB_CTRL_STATUS_OUT) {
            d->ctrl_state = USB_CTRL_IDLE; /* status stage of an IN */
            p->actual = 0;
            return USB_RET_SUCCESS;
        }
        return USB_RET_STALL;
    default:
        return USB_RET_STALL;
    }
}

int usb_handle_packet(UsbDevice *d, UsbPacket *p)
{
    p->actual = 0;
    if (p->ep == 0) {
        return control_packet(d, p);
    }
    if (p->pid == USB_TOKEN_SETUP || p->ep > 15 || !d->config) {
        return USB_RET_STALL;
    }
    unsigned dir = p->pid == USB_TOKEN_IN ? 1 : 0;
    if (d->halted[dir] & (1u << p->ep)) {
        return USB_RET_STALL;
    }
    return d->cls->data ? d->cls->data(d, p) : USB_RET_STALL;
}

UsbDevice *usb_find_device(UsbDevice *d, uint8_t addr)
{
    if (d->addr == addr) {
        return d;
    }
    return d->cls->find ? d->cls->find(d, addr) : NULL;
}

void usb_device_reset(UsbDevice *d)
{
    d->addr = 0;
    d->config = 0;
    d->remote_wakeup = 0;
    d->ctrl_state = USB_CTRL_IDLE;
    d->ctrl_len = d->ctrl_pos = 0;
    d->halted[0] = d->halted[1] = 0;
    if (d->cls->reset) {
        d->cls->reset(d);
    }
}

bool usb_device_post_load(UsbDevice *d, GError **error)
{
    if (d->addr > 127 || d->ctrl_state > USB_CTRL_STATUS_OUT ||
        d->ctrl_len > USB_CTRL_BUF || d->ctrl_pos > d->ctrl_len ||
        d->remote_wakeup > 1) {
        g_set_error(error, STATE_ERROR, 0, "%s: invalid USB device state",
                    d->cls->name);
        return false;
    }
    return true;
}

void usb_port_attach(UsbPort *port, UsbDevice *d)
{
    port->dev = d;
    d->port = port;
    d->high_speed = port->high_speed && d->cls->hs_cfg_desc;
    d->super_speed = port->super_speed && d->cls->ss_cfg_desc;
    if (port->attach) {
        port->attach(port);
    }
}

void usb_port_detach(UsbPort *port)
{
    UsbDevice *d = port->dev;
    if (!d) {
        return;
    }
    if (port->detach) {
        port->detach(port);
    }
    d->port = NULL;
    port->dev = NULL;
}

void usb_wakeup(UsbDevice *d)
{
    if (d->port && d->port->wakeup) {
        d->port->wakeup(d->port);
    }
}
