/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NS16550A UART attached to a character device (COM1-COM4). */
#ifndef MIMIC_HW_ISA_SERIAL_H
#define MIMIC_HW_ISA_SERIAL_H

#include "bus/chardev.h"
#include "bus/device.h"

#define SERIAL_FIFO 16

typedef struct Serial {
    Device dev;
    uint16_t divider;
    uint8_t rbr, ier, iir, lcr, mcr, lsr, msr, scr, fcr;
    uint8_t rx_fifo[SERIAL_FIFO];
    uint8_t rx_head, rx_count;
    bool thr_ipending;
    /* wiring */
    uint16_t base;
    IrqLine *irq;
    CharDev *chr;
    IoRegion io;
} Serial;

extern const DeviceInfo serial_info;

#endif
