/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usb-ehci: a USB 2.0 EHCI host controller as Intel's 82801DB (ICH4)
 * USB2 function (8086:24cd), six high-speed root-hub ports and no
 * companion controllers, its registers in a 4 KiB memory BAR 0 (see
 * ehci.c).
 */
#ifndef MIMIC_HW_USB_EHCI_H
#define MIMIC_HW_USB_EHCI_H

#include "bus/device.h"
#include "hw/pci/pci.h"
#include "hw/usb/usb.h"

#define EHCI_PORTS 6

typedef struct Ehci {
    Device dev;
    PciFunc pci;
    /* Wiring, set by the board before realize. */
    PciBus *bus;
    uint8_t devfn;
    void (*set_irq)(void *opaque, bool level);
    void *irq_opaque;
    /* Guest-visible state (saved). */
    uint32_t usbcmd, usbsts, usbintr, frindex;
    uint32_t periodiclistbase, asynclistaddr, configflag;
    uint32_t portsc[EHCI_PORTS];
    int64_t frindex_ns;   /* the clock when frindex was last brought up */
    uint8_t iaa_pending;  /* the doorbell rang: STS_IAA at the next pass */
    uint8_t busy;         /* microframe passes left after a completion */
    /* Not saved. */
    UsbPort ports[EHCI_PORTS];
    MemRegion *mmio;
    Timer *timer;
    uint32_t pending;     /* USBSTS bits of the pass being run */
    uint32_t pass_bytes, pass_steps;
    uint64_t passes, qtds_run; /* statistics */
} Ehci;

extern const DeviceInfo ehci_info;

/* Run the schedules once now, as a timer tick does (tests). */
void ehci_run_pass(Ehci *s);

#endif
