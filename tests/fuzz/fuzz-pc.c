/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The generic device fuzzer: libFuzzer drives the whole pc board as a
 * hostile guest would, through a byte stream decoded into operations:
 *
 *   port reads and writes   in the port ranges devices registered
 *   MMIO reads and writes   in the MMIO regions of the memory map (VGA,
 *                           PCI BARs wherever the stream moved them, the
 *                           local APIC, I/O APIC and HPET windows)
 *   PCI configuration       reads and writes of the devices present
 *   guest RAM writes        DMA descriptors, rings, PRD tables, buffers
 *   DMA-shaped RAM words    pointers into RAM, near its end and past it
 *   time                    virtual time advances, timers fire
 *   interrupt acknowledge   as the CPU would take a pending INTR (through
 *                           the local APIC, ExtINT from the 8259)
 *
 * Each input gets a fresh machine (16 MiB, a raw IDE disk, a CD-ROM
 * drive, a floppy, every network card (e1000, RTL8139, NE2000 PCI and
 * ISA, virtio-net) on one hub with user networking, the PC speaker,
 * a Sound Blaster 16 and an AC'97 on a silent audio back end, the PIIX3
 * UHCI with a usb-tablet and a usb-storage disk, a usb-ehci with another
 * tablet and disk, a qemu-xhci with a tablet (USB2) and a disk (USB3); the disk images are emptied first, so a run depends
 * on its input only) whose PCI devices have been given BARs and enabled
 * as firmware would.  Every device on the board is reached without
 * naming it: a device added later is fuzzed as soon as it registers
 * ports or MMIO.
 *
 * The anchor is QEMU's generic-fuzz (docs/devel/fuzzing.rst): same idea,
 * independent code.  Built with clang -fsanitize=fuzzer (scripts/check.sh,
 * `make fuzz-pc`); in the normal build, fuzz-replay.c runs the corpus in
 * tests/fuzz/corpus-pc through the same entry point.
 */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../hw/pc-rig.h"

#define FUZZ_RAM (16u << 20)
#define MAX_OPS 4096
#define DISK_SIZE (2u << 20)
#define FLOPPY_SIZE 1474560u

typedef struct Stream {
    const uint8_t *p;
    size_t left;
} Stream;

static uint32_t take(Stream *s, unsigned bytes)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        v |= (uint32_t)(s->left ? (s->left--, *s->p++) : 0) << (8 * i);
    }
    return v;
}

static unsigned take_size(Stream *s)
{
    return 1u << (take(s, 1) % 3);
}

/* ---- what the board offers, collected afresh before each access ---- */

typedef struct Range {
    uint64_t base, len;
} Range;

typedef struct Ranges {
    Range r[256];
    unsigned n;
    uint64_t generation;   /* of the space it was collected from, + 1 */
} Ranges;

static void add_io(void *opaque, uint16_t base, unsigned len,
                   const char *name)
{
    Ranges *rs = opaque;
    if (rs->n < G_N_ELEMENTS(rs->r)) {
        rs->r[rs->n++] = (Range){ base, len };
    }
}

static void add_mmio(void *opaque, const MemRegion *mr)
{
    Ranges *rs = opaque;
    if (memregion_kind(mr) == MEM_REGION_MMIO && memregion_enabled(mr) &&
        rs->n < G_N_ELEMENTS(rs->r)) {
        rs->r[rs->n++] = (Range){ memregion_base(mr), memregion_size(mr) };
    }
}

static void refresh_io(MimicMachine *m, Ranges *rs)
{
    uint64_t g = ioport_generation(m->io) + 1;
    if (rs->generation != g) {
        rs->n = 0;
        ioport_foreach(m->io, add_io, rs);
        rs->generation = g;
    }
}

static void refresh_mmio(MimicMachine *m, Ranges *rs)
{
    uint64_t g = memmap_generation(m->mem) + 1;
    if (rs->generation != g) {
        rs->n = 0;
        memmap_foreach(m->mem, add_mmio, rs);
        rs->generation = g;
    }
}

static bool pick(Stream *s, const Ranges *rs, uint64_t *addr)
{
    if (!rs->n) {
        return false;
    }
    const Range *r = &rs->r[take(s, 1) % rs->n];
    *addr = r->base + (r->len ? take(s, 4) % r->len : 0);
    return true;
}

/* ---- firmware's part: BARs and command bits ---- */

static int devfns[256];
static int n_devfns;

static void assign_bars(MimicMachine *m)
{
    uint32_t mmio = 0xe0000000u, io = 0xc000;
    n_devfns = 0;
    for (int devfn = 0; devfn < 256; devfn++) {
        if ((rig_pci_read(m, devfn, 0, 4) & 0xffff) == 0xffff) {
            continue;
        }
        devfns[n_devfns++] = devfn;
        for (int bar = 0; bar < 6; bar++) {
            int reg = 0x10 + 4 * bar;
            uint32_t old = rig_pci_read(m, devfn, reg, 4);
            rig_pci_write(m, devfn, reg, 0xffffffffu, 4);
            uint32_t mask = rig_pci_read(m, devfn, reg, 4);
            rig_pci_write(m, devfn, reg, old, 4);
            if (!mask || mask == 0xffffffffu) {
                continue;
            }
            if (mask & 1) {
                uint32_t size = ~(mask & ~3u) + 1;
                size &= 0xffff;
                if (!size) {
                    continue;
                }
                io = (io + size - 1) & ~(size - 1);
                rig_pci_write(m, devfn, reg, io, 4);
                io += size;
            } else {
                uint32_t size = ~(mask & ~15u) + 1;
                if (!size) {
                    continue;
                }
                mmio = (mmio + size - 1) & ~(size - 1);
                rig_pci_write(m, devfn, reg, mmio, 4);
                mmio += size;
                if ((mask & 6) == 4) {
                    bar++;      /* the upper half of a 64-bit BAR */
                }
            }
        }
        /* I/O, memory, bus master. */
        rig_pci_write(m, devfn, 4, rig_pci_read(m, devfn, 4, 2) | 7, 2);
    }
}

/* ---- the machine of one input ---- */

static char *disk_path, *floppy_path, *usb_path, *ehci_path, *xhci_path;

static void empty_image(const char *path, off_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (ftruncate(fd, size) < 0) {
            perror(path);
        }
        close(fd);
    }
}

static void add_drive(MachineConfig *cfg, DriveInterface iface, int index,
                      DriveMedia media, const char *file)
{
    DriveConfig *d = &cfg->drives[cfg->n_drives++];
    memset(d, 0, sizeof(*d));
    d->file = file ? g_strdup(file) : NULL;
    d->format = g_strdup("raw");
    d->interface = iface;
    d->index = index;
    d->media = media;
    d->readonly = media == DRIVE_MEDIA_CDROM;
    d->cache = DRIVE_CACHE_UNSAFE;
}

static void configure(MachineConfig *cfg)
{
    cfg->ram_size = FUZZ_RAM;
    for (int i = 0; i < cfg->n_serial; i++) {
        g_free(cfg->serial[i]);
        cfg->serial[i] = g_strdup("null");
    }
    /* Every sound card. */
    cfg->audiodevs[0].driver = g_strdup("none");
    cfg->audiodevs[0].id = g_strdup("a0");
    cfg->n_audiodevs = 1;
    static const char *const cards[] = { "pcspk", "sb16", "ac97", "hda" };
    for (size_t i = 0; i < G_N_ELEMENTS(cards); i++) {
        cfg->soundhw[cfg->n_soundhw] = g_strdup(cards[i]);
        cfg->soundhw_audiodev[cfg->n_soundhw++] = g_strdup("a0");
    }
    /* Every network card, all on hub 0 with one user back end, so that
       one card's frames (of any size the stream makes) reach the others'
       receive paths. */
    static const char *const nics[] = { "e1000", "rtl8139", "ne2k_pci",
                                        "ne2k_isa", "virtio-net-pci" };
    for (size_t i = 0; i < G_N_ELEMENTS(nics); i++) {
        cfg->nics[cfg->n_nics].model = g_strdup(nics[i]);
        cfg->nics[cfg->n_nics++].vlan = 0;
    }
    cfg->netdevs[0].kind = g_strdup("user");
    cfg->netdevs[0].options = g_strdup("");
    cfg->netdevs[0].vlan = 0;
    cfg->n_netdevs = 1;
    add_drive(cfg, DRIVE_IF_IDE, 0, DRIVE_MEDIA_DISK, disk_path);
    add_drive(cfg, DRIVE_IF_IDE, 2, DRIVE_MEDIA_CDROM, NULL);
    add_drive(cfg, DRIVE_IF_FLOPPY, 0, DRIVE_MEDIA_DISK, floppy_path);
    /* USB: the PIIX3 UHCI with a tablet and a usb-storage disk. */
    add_drive(cfg, DRIVE_IF_NONE, 0, DRIVE_MEDIA_DISK, usb_path);
    cfg->drives[cfg->n_drives - 1].id = g_strdup("usbd");
    cfg->usb = true;
    cfg->usb_devices[cfg->n_usb_devices++] = g_strdup("usb-tablet");
    cfg->usb_devices[cfg->n_usb_devices++] =
        g_strdup("usb-storage,drive=usbd");
    /* A usb-ehci with a tablet and a disk at high speed. */
    add_drive(cfg, DRIVE_IF_NONE, 0, DRIVE_MEDIA_DISK, ehci_path);
    cfg->drives[cfg->n_drives - 1].id = g_strdup("ehcid");
    cfg->usb_devices[cfg->n_usb_devices++] = g_strdup("usb-ehci,id=ehci");
    cfg->usb_devices[cfg->n_usb_devices++] =
        g_strdup("usb-tablet,bus=ehci.0");
    cfg->usb_devices[cfg->n_usb_devices++] =
        g_strdup("usb-storage,drive=ehcid,bus=ehci.0");
    /* A qemu-xhci: a tablet on a USB2 port, a disk on a USB3 port. */
    add_drive(cfg, DRIVE_IF_NONE, 0, DRIVE_MEDIA_DISK, xhci_path);
    cfg->drives[cfg->n_drives - 1].id = g_strdup("xhcid");
    cfg->usb_devices[cfg->n_usb_devices++] = g_strdup("qemu-xhci,id=xhci");
    cfg->usb_devices[cfg->n_usb_devices++] =
        g_strdup("usb-tablet,bus=xhci.0");
    cfg->usb_devices[cfg->n_usb_devices++] =
        g_strdup("usb-storage,drive=xhcid,bus=xhci.0");
}

static void setup_once(void)
{
    static bool done;
    if (done) {
        return;
    }
    done = true;
    g_autofree char *dir = g_dir_make_tmp("mimic-fuzz-pc-XXXXXX", NULL);
    disk_path = g_build_filename(dir, "disk.img", NULL);
    floppy_path = g_build_filename(dir, "floppy.img", NULL);
    usb_path = g_build_filename(dir, "usb.img", NULL);
    ehci_path = g_build_filename(dir, "ehci.img", NULL);
    xhci_path = g_build_filename(dir, "xhci.img", NULL);
}

enum {
    OP_IN, OP_OUT, OP_MMIO_READ, OP_MMIO_WRITE, OP_PCI_READ, OP_PCI_WRITE,
    OP_RAM_WRITE, OP_RAM_POINTER, OP_TIME, OP_INTR_ACK, OP_RESET_DEV,
    N_OPS
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    empty_image(disk_path, DISK_SIZE);
    empty_image(floppy_path, FLOPPY_SIZE);
    empty_image(usb_path, 64 * 1024);
    empty_image(ehci_path, 64 * 1024);
    empty_image(xhci_path, 64 * 1024);
    MimicMachine *m = rig_new(configure);
    assign_bars(m);
    Stream s = { data, size };
    Ranges io = { .generation = 0 }, mmio = { .generation = 0 };
    uint8_t buf[256];
    for (int ops = 0; s.left && ops < MAX_OPS; ops++) {
        uint64_t addr;
        unsigned sz;
        switch (take(&s, 1) % N_OPS) {
        case OP_IN:
            refresh_io(m, &io);
            if (pick(&s, &io, &addr)) {
                (void)ioport_read(m->io, (uint16_t)addr, take_size(&s));
            }
            break;
        case OP_OUT:
            refresh_io(m, &io);
            if (pick(&s, &io, &addr)) {
                sz = take_size(&s);
                ioport_write(m->io, (uint16_t)addr, take(&s, sz), sz);
            }
            break;
        case OP_MMIO_READ:
            refresh_mmio(m, &mmio);
            if (pick(&s, &mmio, &addr)) {
                (void)memmap_read_sized(m->mem, addr, take_size(&s));
            }
            break;
        case OP_MMIO_WRITE:
            refresh_mmio(m, &mmio);
            if (pick(&s, &mmio, &addr)) {
                sz = take_size(&s);
                memmap_write_sized(m->mem, addr, take(&s, sz), sz);
            }
            break;
        case OP_PCI_READ:
            if (n_devfns) {
                int devfn = devfns[take(&s, 1) % n_devfns];
                int reg = take(&s, 1);
                sz = take_size(&s);
                (void)rig_pci_read(m, devfn, reg & ~(int)(sz - 1), sz);
            }
            break;
        case OP_PCI_WRITE:
            if (n_devfns) {
                int devfn = devfns[take(&s, 1) % n_devfns];
                int reg = take(&s, 1);
                sz = take_size(&s);
                rig_pci_write(m, devfn, reg & ~(int)(sz - 1), take(&s, sz),
                              sz);
            }
            break;
        case OP_RAM_WRITE: {
            /* Mostly the first megabyte and the end of RAM, where rings
               and their edge cases live. */
            uint32_t a = take(&s, 4);
            a = (a & 1) ? a % (1u << 20) : FUZZ_RAM - 1 - a % (1u << 16);
            unsigned len = take(&s, 1);
            for (unsigned i = 0; i < len; i++) {
                buf[i] = (uint8_t)take(&s, 1);
            }
            memmap_write(m->mem, a, buf, len);
            break;
        }
        case OP_RAM_POINTER: {
            /* A 32-bit word that is itself an address: near 0, inside
               RAM, at its very end, or just past it. */
            static const uint32_t bases[] = {
                0, 0x1000, 0x10000, FUZZ_RAM - 0x1000, FUZZ_RAM - 1,
                FUZZ_RAM, 0xfffff000u, 0xe0000000u,
            };
            uint32_t a = take(&s, 4) % (1u << 20);
            uint32_t v = bases[take(&s, 1) % G_N_ELEMENTS(bases)] +
                         (take(&s, 2) & 0xfff);
            memmap_write(m->mem, a & ~3u, &v, 4);
            break;
        }
        case OP_TIME:
            rig_advance(m, (int64_t)take(&s, 2) * 1000);
            break;
        case OP_INTR_ACK:
            if (fake->intr) {
                (void)rig_pic_ack(m);
            }
            break;
        case OP_RESET_DEV:
            /* The port-0xcf9 reset and the A20/fast-reset port. */
            ioport_write(m->io, take(&s, 1) & 1 ? 0xcf9 : 0x92,
                         take(&s, 1), 1);
            break;
        }
    }
    mimic_machine_free(m);
    return 0;
}
