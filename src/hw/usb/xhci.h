/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qemu-xhci: a USB 3 xHCI host controller with QEMU's PCI identity
 * (1b36:000d, class 0c0330), four USB2 and four USB3 root ports paired
 * as QEMU pairs them (-device ...,port=N: a SuperSpeed device takes USB3
 * port 4+N, any other USB2 port N), one interrupter (MSI or INTA#), its
 * registers in a 16 KiB memory BAR 0 (see xhci.c).
 */
#ifndef MIMIC_HW_USB_XHCI_H
#define MIMIC_HW_USB_XHCI_H

#include "bus/device.h"
#include "hw/pci/pci.h"
#include "hw/usb/usb.h"

#define XHCI_PAIRS 4                /* the UsbPorts "1".."4" */
#define XHCI_PORTS (2 * XHCI_PAIRS) /* 1-4 USB2, 5-8 USB3 */
#define XHCI_SLOTS 16
#define XHCI_EPS 31                 /* device context indices 1-31 */
#define XHCI_MAX_TRB_LEN 0x10000    /* a TRB moves at most 64 KiB */

typedef struct XhciEp {
    uint8_t state;    /* EP_* (the endpoint context's state) */
    uint8_t type;     /* the context's EP Type */
    uint8_t dcs;      /* the ring's consumer cycle state */
    uint8_t nak;      /* waiting at a TRB the device NAKed */
    uint8_t dir_in;   /* EP0: the data stage's direction */
    uint16_t maxp;
    uint64_t dequeue; /* the ring's next TRB */
    uint32_t edtla;   /* event data transfer length accumulator */
} XhciEp;

typedef struct XhciSlot {
    uint8_t enabled;
    uint8_t state;    /* SLOT_* */
    uint8_t port;     /* root hub port 1-8, 0: none yet */
    uint64_t ctx;     /* the output device context */
    XhciEp ep[XHCI_EPS];
} XhciSlot;

typedef struct Xhci {
    Device dev;
    PciFunc pci;
    /* Wiring, set by the board before realize. */
    PciBus *bus;
    uint8_t devfn;
    void (*set_irq)(void *opaque, bool level);
    void *irq_opaque;
    /* Guest-visible state (saved). */
    uint32_t usbcmd, usbsts, dnctrl, config;
    uint64_t dcbaap;
    uint64_t crcr;      /* the command ring's next TRB */
    uint8_t ccs, crr;   /* its cycle state; running */
    uint32_t portsc[XHCI_PORTS];
    uint32_t iman, imod, erstsz;
    uint64_t erstba, erdp;
    /* The event ring's producer: segment, its base and size, the TRB. */
    uint32_t er_seg, er_seg_size, er_idx;
    uint64_t er_seg_base;
    uint8_t er_pcs, er_full;
    uint32_t mfindex;   /* while halted */
    int64_t mfindex_ns; /* the clock when MFINDEX was 0 (running) */
    XhciSlot slot[XHCI_SLOTS];
    /* Not saved. */
    UsbPort ports[XHCI_PAIRS];
    MemRegion *mmio;
    Timer *timer;
    bool irq_level;
    uint32_t kick_trbs; /* TRBs walked in this doorbell or pass */
    uint8_t buf[XHCI_MAX_TRB_LEN];
    uint64_t events, trbs; /* statistics */
} Xhci;

extern const DeviceInfo xhci_info;

/* Run every endpoint waiting on a NAK once now, as the timer does. */
void xhci_run_pass(Xhci *s);

#endif
