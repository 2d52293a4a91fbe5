/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-net as a transitional PCI device ("virtio-net-pci"): the legacy
 * I/O BAR interface of virtio 0.9.5 and the modern virtio 1.0 interface
 * (vendor capabilities pointing at common, notify, ISR and device
 * configuration windows in a memory BAR), split virtqueues (receive 0,
 * transmit 1), INTx interrupts, MAC and link status in the device
 * configuration, checksum offload and TCP segmentation on transmit.
 */
#ifndef MIMIC_HW_NET_VIRTIO_NET_H
#define MIMIC_HW_NET_VIRTIO_NET_H

#include "bus/net.h"
#include "bus/device.h"
#include "hw/pci/pci.h"

#define VIRTIO_NET_QUEUES 2
#define VIRTIO_NET_QUEUE_MAX 256

typedef struct VirtQueue {
    uint64_t desc, avail, used; /* guest physical addresses */
    uint16_t num;               /* ring size; 0: not set up */
    uint16_t enabled;
    uint16_t last_avail, used_idx;
    /* Not saved: the used index at the last interrupt decision
       (EVENT_IDX); invalid after a reset or a load. */
    uint16_t signalled, signalled_valid;
} VirtQueue;

typedef struct VirtioNet {
    Device dev;
    PciFunc pci;
    /* Wiring, set by the board before realize. */
    PciBus *bus;
    uint8_t devfn;
    IrqLine *irq;
    NetPort *port;
    uint8_t mac[6];
    /* Guest-visible state. */
    uint64_t guest_features;
    uint32_t dfselect, gfselect;
    uint16_t queue_sel;
    uint8_t status, isr, generation;
    uint16_t link; /* VIRTIO_NET_S_LINK_UP or 0 */
    VirtQueue vq[VIRTIO_NET_QUEUES];
    /* Not saved. */
    MemRegion *mmio;
    IoRegion io;
    uint8_t *buf;   /* transmit: a chain gathered from guest memory */
    /* Receive coalescing (virtio_net.c): the TCP frame being merged, apart
       from buf since a frame sent may be answered (slirp replies at once)
       while buf is still read.  Never kept past the back end's burst
       unless the guest has no buffers; lost on a save like a frame on the
       wire. */
    uint8_t *lro;
    size_t lro_len, lro_hdr;
    unsigned lro_segs, lro_mss;
    uint32_t lro_next_seq;
    bool lro_closed;
    bool in_rx, in_tx;
} VirtioNet;

extern const DeviceInfo virtio_net_info;

#endif
