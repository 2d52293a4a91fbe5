/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The firmware debug port (0x402): SeaBIOS writes its log there. */
#ifndef MIMIC_HW_ISA_DEBUGCON_H
#define MIMIC_HW_ISA_DEBUGCON_H

#include "bus/device.h"

typedef struct Debugcon {
    Device dev;
    bool enabled; /* MIMIC_DEBUG_BIOS set: copy to stderr */
} Debugcon;

extern const DeviceInfo debugcon_info;

#endif
