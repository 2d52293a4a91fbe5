/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NE2000: a National DP8390 network interface controller with 32 KiB of
 * card memory reached by remote DMA through a data port, and a station
 * address PROM.  Two front ends: "ne2k_pci" (a Realtek RTL8029 PCI
 * function, Linux ne2k-pci) and "ne2k_isa" (an ISA card at iobase/irq,
 * Linux ne).
 */
#ifndef MIMIC_HW_NET_NE2000_H
#define MIMIC_HW_NET_NE2000_H

#include "bus/net.h"
#include "bus/device.h"
#include "hw/pci/pci.h"

#define NE2K_MEM_START 0x4000
#define NE2K_MEM_SIZE 0x8000 /* pages 0x40-0xbf */

typedef struct Ne2k {
    Device dev;
    PciFunc pci;
    /* Wiring, set by the board before realize. */
    PciBus *pci_bus; /* NULL: the ISA card */
    uint8_t devfn;
    uint16_t iobase; /* ISA only */
    IrqLine *irq;
    NetPort *port;
    uint8_t mac[6];
    /* Guest-visible state. */
    uint8_t cmd, pstart, pstop, bnry, tpsr, isr, rcr, tcr, dcr, imr;
    uint8_t tsr, rsr, curr;
    uint16_t tbcr, rsar, rbcr;
    uint8_t par[6], mar[8];
    uint8_t prom[32];
    uint8_t mem[NE2K_MEM_SIZE];
    /* Not saved. */
    IoRegion io;
    bool in_tx;
} Ne2k;

extern const DeviceInfo ne2k_pci_info;
extern const DeviceInfo ne2k_isa_info;

#endif
