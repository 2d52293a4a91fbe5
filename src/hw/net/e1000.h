/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 82540EM Gigabit Ethernet controller ("e1000"), a PCI function
 * with a 128 KiB register BAR, an I/O BAR (IOADDR/IODATA window onto the
 * same registers), a Microwire EEPROM holding the MAC address, an M88E1011
 * PHY behind MDIC, legacy and extended (context/data, checksum offload and
 * TCP segmentation) transmit descriptors and legacy receive descriptors.
 */
#ifndef MIMIC_HW_NET_E1000_H
#define MIMIC_HW_NET_E1000_H

#include "bus/net.h"
#include "bus/device.h"
#include "hw/pci/pci.h"

#define E1000_REG_WORDS (0x6000 / 4) /* modelled register file, 0-0x5fff */
#define E1000_EEPROM_WORDS 64
#define E1000_PHY_REGS 32

typedef struct E1000TxCtx {
    uint8_t ipcss, ipcso, tucss, tucso;
    uint16_t ipcse, tucse;
    uint32_t paylen;
    uint8_t tucmd, hdrlen;
    uint16_t mss;
} E1000TxCtx;

typedef struct E1000 {
    Device dev;
    PciFunc pci;
    /* Wiring, set by the board before realize. */
    PciBus *bus;
    uint8_t devfn;
    IrqLine *irq;     /* INTA# of the slot */
    NetPort *port;    /* created by realize; the board connects it */
    uint8_t mac[6];
    bool mitigation;  /* honour ITR, RDTR/RADV, TIDV/TADV (default off) */
    /* Guest-visible state. */
    uint32_t regs[E1000_REG_WORDS];
    uint16_t eeprom[E1000_EEPROM_WORDS];
    uint16_t phy[E1000_PHY_REGS];
    uint32_t ioaddr;
    /* Microwire EEPROM shift state. */
    uint32_t ee_in;       /* bits shifted in */
    uint8_t ee_nbits;     /* how many */
    uint8_t ee_reading;   /* a READ command is being answered */
    uint16_t ee_addr;     /* word being read */
    uint8_t ee_bit;       /* next data bit (0 = bit 15) */
    uint8_t ee_do;        /* DO output */
    E1000TxCtx txctx;
    /* Interrupt moderation (virtual ns; CLOCK_NEVER: not pending). */
    int64_t itr_next;     /* the line may rise again from this time */
    int64_t rx_due, rx_abs; /* RXT0 held back by RDTR, capped by RADV */
    int64_t tx_due, tx_abs; /* TXDW held back by TIDV, capped by TADV */
    Timer *mod_timer;     /* fires at the earliest of the above */
    bool irq_up;          /* the line as last set */
    /* Not saved: the frame under construction never outlives a TDT
       write (see tx_run). */
    MemRegion *mmio;
    IoRegion io;
    uint8_t *txbuf;
    uint8_t *rxbuf;
    bool in_rx, in_tx; /* DMA re-entry guards */
} E1000;

extern const DeviceInfo e1000_info;

#endif
