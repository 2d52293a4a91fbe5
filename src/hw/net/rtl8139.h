/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Realtek RTL8139C+ Fast Ethernet controller ("rtl8139"), a PCI function
 * with its 256 registers behind an I/O BAR and a memory BAR, a 93C46
 * serial EEPROM holding the MAC address, the classic transmit (four
 * status/address register pairs) and receive (one ring buffer) paths
 * that Linux's 8139too drives, and the C+ mode descriptor rings with
 * checksum offload, large send and VLAN insertion that 8139cp drives.
 */
#ifndef MIMIC_HW_NET_RTL8139_H
#define MIMIC_HW_NET_RTL8139_H

#include "bus/net.h"
#include "bus/device.h"
#include "hw/pci/pci.h"

#define RTL8139_EEPROM_WORDS 64

typedef struct Rtl8139 {
    Device dev;
    PciFunc pci;
    /* Wiring, set by the board before realize. */
    PciBus *bus;
    uint8_t devfn;
    IrqLine *irq;
    NetPort *port; /* created by realize */
    uint8_t mac[6];
    uint8_t revision; /* 0x20: a C+ chip (8139cp); 0x10: 8139too */
    /* Guest-visible state. */
    uint8_t regs[256];
    uint16_t eeprom[RTL8139_EEPROM_WORDS];
    uint32_t ee_in;
    uint8_t ee_nbits, ee_reading, ee_addr, ee_bit, ee_do;
    uint16_t cp_tx_index, cp_rx_index; /* C+ ring positions */
    int64_t tctr_base; /* virtual ns when the timer counter was 0 */
    /* Not saved. */
    MemRegion *mmio;
    IoRegion io;
    uint8_t *buf;   /* transmit: a frame gathered from guest memory */
    uint8_t *rxbuf; /* receive: apart, since a frame sent may be answered
                       (slirp replies at once) while buf is still read */
    bool in_rx, in_tx;
} Rtl8139;

extern const DeviceInfo rtl8139_info;

#endif
