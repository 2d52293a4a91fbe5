/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 82441FX (i440FX) PCI and memory controller: host bridge 00:00.0,
 * owner of the PCI configuration ports and of the PAM registers that
 * switch 0xc0000-0xfffff between shadow RAM and the ROMs.
 */
#ifndef MIMIC_HW_PC_I440FX_H
#define MIMIC_HW_PC_I440FX_H

#include "bus/device.h"
#include "hw/pci/pci.h"

#define PAM_SEGMENTS 13

typedef struct I440fx {
    Device dev;
    PciFunc pci;
    PciBus *bus;
    /* PAM: "PCI side" of each segment (ROM or empty); RAM lies beneath. */
    MemRegion *pam_rom[PAM_SEGMENTS];
    uint8_t *cseg_rom; /* 0xc0000-0xdffff when shadowing is off */
    /* Saved state: the bus's 0xcf8 and 0xcf9 registers (version 2). */
    uint32_t cf8;
    uint8_t cf9;
} I440fx;

extern const DeviceInfo i440fx_info;

/* After realize: map the PAM windows; bios is the firmware ROM region
   (its last 128 KiB appear at 0xe0000). */
void i440fx_init_pam(I440fx *s, MemRegion *bios);

#endif
