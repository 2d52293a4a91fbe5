/* SPDX-License-Identifier: GPL-2.0-or-later */
/* System control port A (0x92): fast A20 gate and reset. */
#ifndef MIMIC_HW_ISA_PORT92_H
#define MIMIC_HW_ISA_PORT92_H

#include "bus/device.h"

typedef struct Port92 {
    Device dev;
    uint8_t value;
    void (*set_a20)(void *opaque, bool on);
    void (*reset)(void *opaque);
    void *opaque;
} Port92;

extern const DeviceInfo port92_info;

#endif
