/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI bus 0 and configuration mechanism #1 (see pci.h).  BAR sizing works
 * as the specification says: writing all ones reads back the size mask
 * because the low address bits are not writable.  A BAR is mapped only
 * while its decode bit is set in the command register; addresses a guest
 * programs outside the 32-bit space or over RAM are still confined to the
 * memory map's own bounds checks.
 */
#include "hw/pci/pci.h"

#include <string.h>

#include "bus/log.h"

struct PciBus {
    MachineBuses *bus;
    PciFunc *funcs[256];
    uint32_t config_address;
    uint8_t rcr;
    void (*rcr_write)(void *opaque, uint8_t v);
    void *rcr_opaque;
    void (*msi)(void *opaque, uint64_t addr, uint32_t data);
    void *msi_opaque;
};

void pci_bus_set_msi_handler(PciBus *pb,
                             void (*fn)(void *, uint64_t addr, uint32_t data),
                             void *opaque)
{
    pb->msi = fn;
    pb->msi_opaque = opaque;
}

void pci_bus_set_rcr_handler(PciBus *pb, void (*fn)(void *, uint8_t),
                             void *opaque)
{
    pb->rcr_write = fn;
    pb->rcr_opaque = opaque;
}

PciBus *pci_bus_new(MachineBuses *bus)
{
    PciBus *pb = g_new0(PciBus, 1);
    pb->bus = bus;
    return pb;
}

void pci_bus_free(PciBus *pb)
{
    g_free(pb);
}

static int bar_offset(int n)
{
    return n == 6 ? PCI_ROM_ADDRESS : PCI_BAR0 + 4 * n;
}

void pci_add_function(PciBus *pb, PciFunc *f, uint8_t devfn,
                      uint16_t vendor, uint16_t device, uint32_t class_rev,
                      void *owner)
{
    f->bus = pb;
    f->devfn = devfn;
    f->owner = owner;
    pci_set_word(f->config + PCI_VENDOR_ID, vendor);
    pci_set_word(f->config + PCI_DEVICE_ID, device);
    pci_set_long(f->config + PCI_REVISION, class_rev);
    /* Command register: I/O, memory, bus master, parity, SERR, INTx. */
    pci_set_word(f->wmask + PCI_COMMAND, 0x0547);
    f->wmask[PCI_INTERRUPT_LINE] = 0xff;
    f->wmask[0x0c] = 0xff; /* cache line size */
    f->wmask[0x0d] = 0xff; /* latency timer */
    pb->funcs[devfn] = f;
}

void pci_set_bar_mem(PciFunc *f, int n, MemRegion *mr)
{
    PciBar *b = &f->bar[n];
    b->size = memregion_size(mr);
    b->io = false;
    b->mr = mr;
    uint32_t mask = ~(b->size - 1);
    if (n == 6) {
        mask |= 1; /* ROM enable bit */
    }
    pci_set_long(f->wmask + bar_offset(n), mask & (n == 6 ? ~0x7feu : ~0xfu));
    memmap_set_access(f->bus->bus->mem, mr, MEM_ACCESS_NONE);
}

void pci_set_bar_io(PciFunc *f, int n, uint32_t size, const IoRegion *io,
                    void *opaque)
{
    PciBar *b = &f->bar[n];
    b->size = size;
    b->io = true;
    b->io_region = io;
    b->io_opaque = opaque;
    pci_set_long(f->wmask + bar_offset(n), ~(size - 1) & ~3u);
    pci_set_long(f->config + bar_offset(n), 1);
}

static void bar_update(PciFunc *f, int n)
{
    PciBar *b = &f->bar[n];
    if (!b->size) {
        return;
    }
    uint16_t cmd = f->config[PCI_COMMAND] | f->config[PCI_COMMAND + 1] << 8;
    uint32_t v = pci_get_long(f->config + bar_offset(n));
    uint32_t addr;
    bool enabled;
    if (b->io) {
        addr = v & ~3u;
        enabled = (cmd & PCI_COMMAND_IO) && addr && addr + b->size <= 0x10000;
    } else {
        addr = v & (n == 6 ? ~0x7ffu : ~0xfu);
        enabled = (cmd & PCI_COMMAND_MEMORY) && addr &&
                  addr != (uint32_t)~(b->size - 1) && (n != 6 || (v & 1));
    }
    uint32_t target = enabled ? addr : 0;
    if (target == b->mapped) {
        return;
    }
    MemMap *mem = f->bus->bus->mem;
    if (b->io) {
        if (b->mapped) {
            ioport_unregister(f->bus->bus->io, b->io_region, b->io_opaque);
        }
        if (target) {
            ioport_register_at(f->bus->bus->io, b->io_region, target,
                               b->io_opaque);
        }
    } else {
        if (target) {
            memmap_move(mem, b->mr, target);
            memmap_set_access(mem, b->mr, MEM_ACCESS_RW);
        } else {
            memmap_set_access(mem, b->mr, MEM_ACCESS_NONE);
        }
    }
    b->mapped = target;
}

void pci_update_mappings(PciFunc *f)
{
    for (int n = 0; n < PCI_NUM_BARS; n++) {
        bar_update(f, n);
    }
}

void pci_reset_function(PciFunc *f)
{
    pci_set_word(f->config + PCI_COMMAND, 0);
    if (f->msi_cap) {   /* MSI off; address and data are undefined */
        f->config[f->msi_cap + 2] &= ~0x71;
    }
    for (int n = 0; n < PCI_NUM_BARS; n++) {
        if (f->bar[n].size) {
            pci_set_long(f->config + bar_offset(n), f->bar[n].io ? 1 : 0);
        }
    }
    pci_update_mappings(f);
}

void pci_add_capability(PciFunc *f, uint8_t id, uint8_t off, uint8_t len)
{
    g_assert(off >= 0x40 && !(off & 3) && off + len <= 256);
    f->config[off] = id;
    f->config[off + 1] = 0;
    if (!(f->config[PCI_STATUS] & PCI_STATUS_CAP_LIST)) {
        f->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
        f->config[PCI_CAPABILITY_LIST] = off;
        return;
    }
    /* Our own list: at most 48 entries fit above 0x40. */
    uint8_t p = f->config[PCI_CAPABILITY_LIST];
    for (int n = 0; n < 48 && f->config[p + 1]; n++) {
        p = f->config[p + 1];
    }
    g_assert(!f->config[p + 1]);
    f->config[p + 1] = off;
}

void pci_msi_init(PciFunc *f, uint8_t off)
{
    pci_add_capability(f, PCI_CAP_ID_MSI, off, 14);
    f->msi_cap = off;
    /* Message control: 64-bit capable, one vector requested (MMC 0);
       the guest writes enable (bit 0) and multiple message enable. */
    pci_set_word(f->config + off + 2, 0x0080);
    pci_set_word(f->wmask + off + 2, 0x0071);
    pci_set_long(f->wmask + off + 4, 0xfffffffc);
    pci_set_long(f->wmask + off + 8, 0xffffffff);
    pci_set_word(f->wmask + off + 12, 0xffff);
}

bool pci_msi_enabled(const PciFunc *f)
{
    return f->msi_cap && (f->config[f->msi_cap + 2] & 1);
}

bool pci_msi_control_written(const PciFunc *f, uint32_t addr, unsigned len)
{
    return f->msi_cap && addr <= f->msi_cap + 2u &&
           addr + len > f->msi_cap + 2u;
}

void pci_msi_notify(PciFunc *f)
{
    if (!pci_msi_enabled(f) || !f->bus || !f->bus->msi ||
        !(f->config[PCI_COMMAND] & PCI_COMMAND_MASTER)) {
        return;
    }
    const uint8_t *c = f->config + f->msi_cap;
    uint64_t addr = pci_get_long(c + 4) |
                    (uint64_t)pci_get_long(c + 8) << 32;
    uint32_t data = c[12] | c[13] << 8;
    f->bus->msi(f->bus->msi_opaque, addr, data);
}

uint32_t pci_config_read(PciBus *pb, uint8_t devfn, uint32_t addr,
                         unsigned len)
{
    PciFunc *f = pb->funcs[devfn];
    if (!f || addr + len > 256) {
        return len >= 4 ? 0xffffffff : (1u << (8 * len)) - 1;
    }
    if (f->config_reading) {
        f->config_reading(f, addr, len);
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < len; i++) {
        v |= (uint32_t)f->config[addr + i] << (8 * i);
    }
    return v;
}

void pci_config_write(PciBus *pb, uint8_t devfn, uint32_t addr, uint32_t val,
                      unsigned len)
{
    PciFunc *f = pb->funcs[devfn];
    if (!f || addr + len > 256) {
        return;
    }
    for (unsigned i = 0; i < len; i++) {
        uint8_t m = f->wmask[addr + i];
        uint8_t b = val >> (8 * i);
        f->config[addr + i] = (f->config[addr + i] & ~m) | (b & m);
    }
    if (addr < 0x34 && addr + len > PCI_COMMAND) {
        pci_update_mappings(f);
    }
    if (f->config_written) {
        f->config_written(f, addr, val, len);
    }
}

/* 0xcf8 as a dword is the address register; 0xcf9 as a byte is the
   PIIX reset control register; other narrow accesses hit nothing. */
static uint32_t cf8_read(void *opaque, uint16_t off, unsigned size)
{
    PciBus *pb = opaque;
    if (off == 0 && size == 4) {
        return pb->config_address;
    }
    if (off == 1 && size == 1) {
        return pb->rcr;
    }
    return (1u << (8 * size)) - 1;
}

static void cf8_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    PciBus *pb = opaque;
    if (off == 0 && size == 4) {
        pb->config_address = v & 0x80fffffc;
    } else if (off == 1 && size == 1) {
        pb->rcr = v & 0x0e;
        if ((v & 4) && pb->rcr_write) {
            pb->rcr_write(pb->rcr_opaque, v);
        }
    }
}

static bool decode(PciBus *pb, uint16_t off, uint8_t *devfn, uint32_t *addr)
{
    uint32_t a = pb->config_address;
    if (!(a & 0x80000000) || ((a >> 16) & 0xff) != 0) {
        return false; /* disabled, or a bus that does not exist */
    }
    *devfn = (a >> 8) & 0xff;
    *addr = (a & 0xfc) + off;
    return true;
}

static uint32_t cfc_read(void *opaque, uint16_t off, unsigned size)
{
    PciBus *pb = opaque;
    uint8_t devfn;
    uint32_t addr;
    if (!decode(pb, off, &devfn, &addr)) {
        return 0xffffffff;
    }
    return pci_config_read(pb, devfn, addr, size);
}

static void cfc_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    PciBus *pb = opaque;
    uint8_t devfn;
    uint32_t addr;
    if (decode(pb, off, &devfn, &addr)) {
        pci_config_write(pb, devfn, addr, v, size);
    }
}

static const IoRegion pci_io[] = {
    { .base = 0xcf8, .len = 4, .min = 1, .max = 4, .read = cf8_read,
      .write = cf8_write, .name = "pci-conf-addr" },
    { .base = 0xcfc, .len = 4, .min = 1, .max = 4, .read = cfc_read,
      .write = cfc_write, .name = "pci-conf-data" },
    { 0 },
};

void pci_bus_register_ports(PciBus *pb, IoSpace *io)
{
    ioport_register_table(io, pci_io, pb);
}

void pci_dump(PciBus *pb, GString *out)
{
    for (int d = 0; d < 256; d++) {
        PciFunc *f = pb->funcs[d];
        if (!f) {
            continue;
        }
        g_string_append_printf(out, "  Bus 0, device %2d, function %d: "
                               "%04x:%04x class %02x%02x\n", d >> 3, d & 7,
                               f->config[0] | f->config[1] << 8,
                               f->config[2] | f->config[3] << 8,
                               f->config[0x0b], f->config[0x0a]);
    }
}

void pci_bus_get_regs(PciBus *pb, uint32_t *config_address, uint8_t *rcr)
{
    *config_address = pb->config_address;
    *rcr = pb->rcr;
}

void pci_bus_set_regs(PciBus *pb, uint32_t config_address, uint8_t rcr)
{
    pb->config_address = config_address & 0x80fffffc;
    pb->rcr = rcr & 0x0e;
}
