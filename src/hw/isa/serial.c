/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NS16550A UART (see serial.h).
 * Reference: National Semiconductor PC16550D data sheet: register map
 * (RBR/THR/DLL, IER/DLM, IIR/FCR, LCR, MCR, LSR, MSR, SCR), interrupt
 * priorities (line status > receive data > THR empty > modem status),
 * FIFO mode, loopback.  Transmission is immediate: THR empties at once,
 * which guests accept as a very fast line.
 */
#include "hw/isa/serial.h"

#include "bus/log.h"

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define IIR_NO_INT 0x01
#define IIR_RLSI 0x06
#define IIR_RDI 0x04
#define IIR_THRI 0x02
#define IIR_MSI 0x00
#define MCR_LOOP 0x10
#define MCR_OUT2 0x08

static void update_irq(Serial *s)
{
    uint8_t iir = IIR_NO_INT;
    if ((s->ier & IER_RLSI) && (s->lsr & LSR_OE)) {
        iir = IIR_RLSI;
    } else if ((s->ier & IER_RDI) && (s->lsr & LSR_DR)) {
        iir = IIR_RDI;
    } else if ((s->ier & IER_THRI) && s->thr_ipending) {
        iir = IIR_THRI;
    } else if ((s->ier & IER_MSI) && (s->msr & 0x0f)) {
        iir = IIR_MSI;
    }
    s->iir = iir | (s->fcr & 1 ? 0xc0 : 0);
    irq_set(s->irq, iir != IIR_NO_INT);
}

static void rx_push(Serial *s, uint8_t c)
{
    int cap = (s->fcr & 1) ? SERIAL_FIFO : 1;
    if (s->rx_count >= cap) {
        s->lsr |= LSR_OE;
        return;
    }
    s->rx_fifo[(s->rx_head + s->rx_count) % SERIAL_FIFO] = c;
    s->rx_count++;
    s->lsr |= LSR_DR;
}

static uint32_t serial_read(void *opaque, uint16_t off, unsigned size)
{
    Serial *s = opaque;
    uint8_t v = 0xff;
    switch (off) {
    case 0:
        if (s->lcr & 0x80) {
            return s->divider & 0xff;
        }
        v = 0;
        if (s->rx_count) {
            v = s->rx_fifo[s->rx_head];
            s->rx_head = (s->rx_head + 1) % SERIAL_FIFO;
            s->rx_count--;
        }
        if (!s->rx_count) {
            s->lsr &= ~LSR_DR;
            if (s->chr && !(s->mcr & MCR_LOOP)) {
                chardev_accept_input(s->chr);
            }
        }
        update_irq(s);
        return v;
    case 1:
        return (s->lcr & 0x80) ? s->divider >> 8 : s->ier;
    case 2:
        v = s->iir;
        if ((v & 0x0f) == IIR_THRI) {
            s->thr_ipending = false;
            update_irq(s);
        }
        return v;
    case 3:
        return s->lcr;
    case 4:
        return s->mcr;
    case 5:
        v = s->lsr;
        s->lsr &= ~LSR_OE;
        update_irq(s);
        return v;
    case 6:
        if (s->mcr & MCR_LOOP) {
            /* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
            v = ((s->mcr & 0x0c) << 4) | ((s->mcr & 0x02) << 3) |
                ((s->mcr & 0x01) << 5);
        } else {
            v = s->msr;
        }
        s->msr &= 0xf0;
        update_irq(s);
        return v;
    case 7:
        return s->scr;
    }
    return 0xff;
}

static void serial_write(void *opaque, uint16_t off, uint32_t val,
                         unsigned size)
{
    Serial *s = opaque;
    uint8_t v = val;
    switch (off) {
    case 0:
        if (s->lcr & 0x80) {
            s->divider = (s->divider & 0xff00) | v;
            return;
        }
        if (s->mcr & MCR_LOOP) {
            rx_push(s, v);
        } else if (s->chr) {
            chardev_write(s->chr, &v, 1);
        }
        s->thr_ipending = true;
        s->lsr |= LSR_THRE | LSR_TEMT;
        update_irq(s);
        return;
    case 1:
        if (s->lcr & 0x80) {
            s->divider = (s->divider & 0x00ff) | (v << 8);
            return;
        }
        /* Enabling THRE interrupts with THR empty raises one at once. */
        if (!(s->ier & IER_THRI) && (v & IER_THRI) && (s->lsr & LSR_THRE)) {
            s->thr_ipending = true;
        }
        s->ier = v & 0x0f;
        update_irq(s);
        return;
    case 2:
        if ((v ^ s->fcr) & 1) {
            s->rx_count = 0; /* toggling FIFO mode clears the FIFOs */
        }
        if (v & 2) {
            s->rx_count = 0;
            s->lsr &= ~LSR_DR;
        }
        s->fcr = v & 0xc9;
        update_irq(s);
        return;
    case 3:
        s->lcr = v;
        return;
    case 4:
        s->mcr = v & 0x1f;
        return;
    case 5:
    case 6:
        return; /* read-only (factory test) */
    case 7:
        s->scr = v;
        return;
    }
}

static int serial_can_read(void *opaque)
{
    Serial *s = opaque;
    if (s->mcr & MCR_LOOP) {
        return 0;
    }
    int cap = (s->fcr & 1) ? SERIAL_FIFO : 1;
    return cap - s->rx_count;
}

static void serial_receive(void *opaque, const uint8_t *buf, int len)
{
    Serial *s = opaque;
    for (int i = 0; i < len; i++) {
        rx_push(s, buf[i]);
    }
    update_irq(s);
}

static const CharFrontend serial_frontend = {
    .can_read = serial_can_read,
    .read = serial_receive,
};

static void serial_reset(Device *dev)
{
    Serial *s = (Serial *)dev;
    s->divider = 12; /* 9600 baud */
    s->rbr = 0;
    s->ier = 0;
    s->iir = IIR_NO_INT;
    s->lcr = 0;
    s->mcr = MCR_OUT2;
    s->lsr = LSR_TEMT | LSR_THRE;
    s->msr = 0xb0; /* DCD, DSR, CTS */
    s->scr = 0;
    s->fcr = 0;
    s->rx_count = 0;
    s->rx_head = 0;
    s->thr_ipending = false;
    irq_lower(s->irq);
}

static bool serial_realize(Device *dev, GError **error)
{
    Serial *s = (Serial *)dev;
    s->io = (IoRegion){ .base = s->base, .len = 8, .min = 1, .max = 1,
                        .read = serial_read, .write = serial_write,
                        .name = dev->id };
    ioport_register(dev->bus->io, &s->io, s);
    if (s->chr) {
        chardev_set_frontend(s->chr, &serial_frontend, s);
    }
    return true;
}

static void serial_finalize(Device *dev)
{
    Serial *s = (Serial *)dev;
    if (s->chr) {
        chardev_set_frontend(s->chr, NULL, NULL);
    }
}

static bool serial_post_load(void *obj, GError **error)
{
    Serial *s = obj;
    if (s->rx_head >= SERIAL_FIFO || s->rx_count > SERIAL_FIFO) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "serial: receive FIFO state out of range");
        return false;
    }
    update_irq(s);
    return true;
}

static const StateDesc serial_state = {
    .name = "serial", .version = 1, .min_version = 1,
    .post_load = serial_post_load,
    .fields = (const StateField[]) {
        STATE_U16(Serial, divider), STATE_U8(Serial, rbr),
        STATE_U8(Serial, ier), STATE_U8(Serial, iir), STATE_U8(Serial, lcr),
        STATE_U8(Serial, mcr), STATE_U8(Serial, lsr), STATE_U8(Serial, msr),
        STATE_U8(Serial, scr), STATE_U8(Serial, fcr),
        STATE_U8_ARRAY(Serial, rx_fifo, SERIAL_FIFO),
        STATE_U8(Serial, rx_head), STATE_U8(Serial, rx_count),
        STATE_BOOL(Serial, thr_ipending), STATE_END },
};

const DeviceInfo serial_info = {
    .name = "serial", .size = sizeof(Serial), .state = &serial_state,
    .reset = serial_reset, .realize = serial_realize,
    .finalize = serial_finalize,
};
