/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI bus 0 with configuration mechanism #1 (0xcf8 address, 0xcfc data).
 * A PCI function is a PciFunc embedded in its device: 256 bytes of
 * configuration space, a write mask, and BARs that the bus maps into the
 * memory map or the port space when the guest programs them and enables
 * decoding in the command register.
 * Reference: PCI Local Bus Specification 2.1, chapter 6 (configuration
 * space, base address registers) and 3.2.2.3.2 (mechanism #1); PCI Local
 * Bus Specification 3.0, 6.7 (capabilities list) and 6.8.1 (MSI).
 */
#ifndef MIMIC_HW_PCI_PCI_H
#define MIMIC_HW_PCI_PCI_H

#include "bus/device.h"

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_MSI 0x05
#define PCI_NUM_BARS 7 /* 6 + expansion ROM */

typedef struct PciFunc PciFunc;
typedef struct PciBus PciBus;

typedef struct PciBar {
    uint32_t size; /* 0: unused */
    bool io;
    /* Memory BAR: the region to move; I/O BAR: the port table entry. */
    MemRegion *mr;
    const IoRegion *io_region;
    void *io_opaque;
    uint32_t mapped; /* current address, 0 when unmapped */
} PciBar;

struct PciFunc {
    uint8_t config[256];
    uint8_t wmask[256];
    PciBar bar[PCI_NUM_BARS];
    uint8_t devfn;
    PciBus *bus;
    void *owner;
    /* Called after a guest write has been merged into config[]. */
    void (*config_written)(PciFunc *f, uint32_t addr, uint32_t val,
                           unsigned len);
    /* Called before a guest read of config[addr, addr + len), so that a
       window such as virtio's PCI configuration access capability can
       fill in its bytes.  NULL: config[] as it is. */
    void (*config_reading)(PciFunc *f, uint32_t addr, unsigned len);
    /* Offset of the MSI capability, 0: none (pci_msi_init). */
    uint8_t msi_cap;
};

PciBus *pci_bus_new(MachineBuses *bus);
void pci_bus_free(PciBus *pb);
/* The PIIX reset control register at 0xcf9 (byte access). */
void pci_bus_set_rcr_handler(PciBus *pb, void (*fn)(void *, uint8_t),
                             void *opaque);
/* Register the bus's 0xcf8/0xcfc ports. */
void pci_bus_register_ports(PciBus *pb, IoSpace *io);
/* The 0xcf8 address register and the reset control register (saved by
   the host bridge, which owns them). */
void pci_bus_get_regs(PciBus *pb, uint32_t *config_address, uint8_t *rcr);
void pci_bus_set_regs(PciBus *pb, uint32_t config_address, uint8_t rcr);
/* Add a function at devfn (device << 3 | function). */
void pci_add_function(PciBus *pb, PciFunc *f, uint8_t devfn,
                      uint16_t vendor, uint16_t device, uint32_t class_rev,
                      void *owner);
void pci_set_bar_mem(PciFunc *f, int n, MemRegion *mr);
void pci_set_bar_io(PciFunc *f, int n, uint32_t size, const IoRegion *io,
                    void *opaque);
/*
 * Message signalled interrupts: the bus hands each message (a dword write
 * of data to addr) to the board, which routes it (the pc: to the local
 * APIC at 0xfee00000).
 */
void pci_bus_set_msi_handler(PciBus *pb,
                             void (*fn)(void *, uint64_t addr, uint32_t data),
                             void *opaque);
/* Append a capability (id at off, len bytes) to the function's list. */
void pci_add_capability(PciFunc *f, uint8_t id, uint8_t off, uint8_t len);
/* A 64-bit MSI capability with one vector at off (14 bytes). */
void pci_msi_init(PciFunc *f, uint8_t off);
/* MSI enabled by the guest (the device then leaves INTx alone). */
bool pci_msi_enabled(const PciFunc *f);
/* Send the message, if enabled and the function may master the bus. */
void pci_msi_notify(PciFunc *f);
/* A config write touched the MSI capability's control word. */
bool pci_msi_control_written(const PciFunc *f, uint32_t addr, unsigned len);
uint32_t pci_config_read(PciBus *pb, uint8_t devfn, uint32_t addr,
                         unsigned len);
void pci_config_write(PciBus *pb, uint8_t devfn, uint32_t addr, uint32_t val,
                      unsigned len);
/* Re-map every BAR from config space (after a state load or reset). */
void pci_update_mappings(PciFunc *f);
void pci_reset_function(PciFunc *f);
void pci_dump(PciBus *pb, GString *out);

static inline void pci_set_word(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static inline void pci_set_long(uint8_t *p, uint32_t v)
{
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
}

static inline uint32_t pci_get_long(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
