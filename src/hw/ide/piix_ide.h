/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PIIX3 IDE function (00:01.1, 8086:7010): two legacy-mode channels
 * (0x1f0/0x3f6 on IRQ14, 0x170/0x376 on IRQ15) and the bus-master DMA
 * registers in BAR 4.
 */
#ifndef MIMIC_HW_IDE_PIIX_IDE_H
#define MIMIC_HW_IDE_PIIX_IDE_H

#include "bus/device.h"
#include "hw/ide/ide.h"
#include "hw/pci/pci.h"

typedef struct BmChannel {
    uint8_t cmd, status;
    uint32_t prd;
} BmChannel;

typedef struct PiixIde {
    Device dev;
    PciFunc pci;
    PciBus *bus;
    IdeChannel ch[2];
    BmChannel bm[2];
    IrqLine *irq[2];
    IoRegion io[4];
} PiixIde;

extern const DeviceInfo piix_ide_info;

#endif
