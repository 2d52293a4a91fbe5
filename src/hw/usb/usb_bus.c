/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A machine's USB (see usb_bus.h): one PIIX3 UHCI controller, "usb-bus.0",
 * with its two root ports named "1" and "2" as QEMU names them, and the
 * devices of the configuration, which are strings in QEMU's -device
 * syntax ("usb-tablet,id=t,port=1", "usb-storage,drive=d0").  Devices
 * added while the machine runs go through the same parser.
 */
#include "hw/usb/usb_bus.h"

#include <stdlib.h>
#include <string.h>

#include "hw/usb/hid.h"
#include "hw/usb/hub.h"
#include "hw/usb/storage.h"
#include "hw/usb/uhci.h"

#define USB_BUS_SLOTS (UHCI_PORTS + USB_HUB_PORTS)

typedef struct UsbSlot {
    UsbPort *port; /* NULL: a free slot */
    UsbDevice *dev;
    BlockDev *blk; /* usb-storage: the image, closed at unplug */
} UsbSlot;

struct UsbBus {
    BoardInstance *ctx;
    UsbBusWiring w;
    Uhci *uhci;
    UsbHub *hub; /* added when the root ports run out, as QEMU does */
    UsbSlot slot[USB_BUS_SLOTS];
};

/* The n-th port of the bus: the root ports, then the hub's. */
static UsbPort *nth_port(UsbBus *ub, int n)
{
    if (n < UHCI_PORTS) {
        return &ub->uhci->ports[n];
    }
    n -= UHCI_PORTS;
    return ub->hub && n < USB_HUB_PORTS ? &ub->hub->ports[n] : NULL;
}

static UsbSlot *free_slot(UsbBus *ub)
{
    for (int i = 0; i < USB_BUS_SLOTS; i++) {
        if (!ub->slot[i].port) {
            return &ub->slot[i];
        }
    }
    return NULL;
}

static void plug(UsbBus *ub, UsbPort *port, UsbDevice *dev, BlockDev *blk)
{
    UsbSlot *sl = free_slot(ub); /* there is one per port */
    sl->port = port;
    sl->dev = dev;
    sl->blk = blk;
    usb_port_attach(port, dev);
}

/* The hub on root port p (its ports are "P.1".."P.8"). */
static bool add_hub(UsbBus *ub, int p, GError **error)
{
    char id[32];
    g_snprintf(id, sizeof(id), "usb-hub.%d", p);
    UsbHub *h = (UsbHub *)device_new(ub->ctx->devices, &usb_hub_info,
                                     ub->ctx->bus, id);
    if (!device_realize(DEVICE(&h->usb), error)) {
        device_remove(DEVICE(&h->usb));
        return false;
    }
    for (int i = 0; i < USB_HUB_PORTS; i++) {
        g_snprintf(h->ports[i].path, sizeof(h->ports[i].path), "%d.%d",
                   p + 1, i + 1);
    }
    ub->hub = h;
    plug(ub, &ub->uhci->ports[p], &h->usb, NULL);
    return true;
}

static const char *const usb_drivers[] = {
    "usb-tablet", "usb-mouse", "usb-kbd", "usb-storage", NULL,
};

bool usb_bus_wanted(const MachineConfig *cfg)
{
    return cfg->usb || cfg->n_usb_devices > 0;
}

static bool bad(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool bad(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, BOARD_ERROR, BOARD_ERROR_CONFIG, msg);
    return false;
}

static void uhci_irq(void *opaque, bool level)
{
    UsbBus *ub = opaque;
    ub->w.set_irq(ub->w.opaque, level);
}

/* A free instance name "DRIVER.N". */
static char *auto_id(UsbBus *ub, const char *driver)
{
    for (int n = 0;; n++) {
        char *id = g_strdup_printf("%s.%d", driver, n);
        if (!device_find(ub->ctx->devices, id)) {
            return id;
        }
        g_free(id);
    }
}

/* Parse and plug one device; spec in -device syntax. */
static bool add_device(UsbBus *ub, const char *spec, GError **error)
{
    g_auto(GStrv) items = g_strsplit(spec, ",", -1);
    const char *driver = items[0];
    bool known = false;
    for (int i = 0; usb_drivers[i]; i++) {
        known |= !strcmp(driver, usb_drivers[i]);
    }
    if (!known) {
        return bad(error, "'%s' is not a USB device (usb-tablet, usb-mouse, "
                   "usb-kbd, usb-storage)", driver);
    }
    const char *id = NULL, *bus = NULL, *port = NULL, *drive = NULL;
    bool removable = false;
    for (int i = 1; items[i]; i++) {
        char *eq = strchr(items[i], '=');
        if (!eq) {
            return bad(error, "%s: parameter '%s' has no value", driver,
                       items[i]);
        }
        *eq = 0;
        const char *k = items[i], *v = eq + 1;
        bool storage = !strcmp(driver, "usb-storage");
        if (!strcmp(k, "id")) {
            id = v;
        } else if (!strcmp(k, "bus")) {
            bus = v;
        } else if (!strcmp(k, "port")) {
            port = v;
        } else if (storage && !strcmp(k, "drive")) {
            drive = v;
        } else if (storage && !strcmp(k, "removable")) {
            removable = !strcmp(v, "on") || !strcmp(v, "true");
        } else {
            return bad(error, "%s: unknown parameter '%s'", driver, k);
        }
    }
    if (id && (!*id || device_find(ub->ctx->devices, id))) {
        return bad(error, "%s: id '%s' is %s", driver, id,
                   *id ? "in use" : "empty");
    }
    if (bus && strcmp(bus, "usb-bus.0")) {
        return bad(error, "%s: bus '%s' not found (the machine has "
                   "usb-bus.0)", driver, bus);
    }
    UsbPort *up = NULL;
    if (port) {
        for (int i = 0; i < USB_BUS_SLOTS && !up; i++) {
            UsbPort *c = nth_port(ub, i);
            if (c && !strcmp(c->path, port)) {
                up = c;
            }
        }
        if (!up) {
            return bad(error, "%s: port '%s' does not exist on usb-bus.0 "
                       "(ports 1-%d%s)", driver, port, UHCI_PORTS,
                       ub->hub ? " and the hub's" : ", no hub");
        }
        if (up->dev) {
            return bad(error, "%s: port %s of usb-bus.0 is in use (by %s)",
                       driver, port, up->dev->dev.id);
        }
    } else {
        int nfree = 0, last = -1;
        for (int i = 0; i < UHCI_PORTS; i++) {
            if (!ub->uhci->ports[i].dev) {
                nfree++;
                last = i;
            }
        }
        /* The last free root port takes a hub first (as QEMU). */
        if (nfree == 1 && !ub->hub && !add_hub(ub, last, error)) {
            return false;
        }
        for (int i = 0; i < USB_BUS_SLOTS && !up; i++) {
            UsbPort *c = nth_port(ub, i);
            if (c && !c->dev) {
                up = c;
            }
        }
        if (!up) {
            return bad(error, "%s: no free port on usb-bus.0", driver);
        }
    }
    BlockDev *blk = NULL;
    bool read_only = false;
    if (!strcmp(driver, "usb-storage")) {
        if (!drive) {
            return bad(error, "usb-storage: drive=ID is needed (the id of "
                       "a -drive if=none,id=ID,file=...)");
        }
        const BoardDrives *dr = &ub->ctx->drives;
        if (!dr->claim(dr->opaque, drive, &blk, &read_only, error)) {
            g_prefix_error(error, "usb-storage: ");
            return false;
        }
    }
    g_autofree char *aid = id ? g_strdup(id) : auto_id(ub, driver);
    Device *dev;
    if (blk) {
        UsbStorage *s = (UsbStorage *)device_new(
            ub->ctx->devices, &usb_storage_info, ub->ctx->bus, aid);
        s->blk = blk;
        s->read_only = read_only;
        s->removable = removable;
        dev = DEVICE(&s->usb);
    } else {
        UsbHid *h = (UsbHid *)device_new(ub->ctx->devices, &usb_hid_info,
                                         ub->ctx->bus, aid);
        h->kind = !strcmp(driver, "usb-tablet") ? USB_HID_TABLET
                : !strcmp(driver, "usb-mouse") ? USB_HID_MOUSE
                : USB_HID_KBD;
        dev = DEVICE(&h->usb);
    }
    if (!device_realize(dev, error)) {
        device_remove(dev);
        if (blk) {
            ub->ctx->drives.release(ub->ctx->drives.opaque, blk);
        }
        return false;
    }
    plug(ub, up, (UsbDevice *)dev, blk);
    return true;
}

UsbBus *usb_bus_create(BoardInstance *ctx, const UsbBusWiring *w,
                       GError **error)
{
    UsbBus *ub = g_new0(UsbBus, 1);
    ub->ctx = ctx;
    ub->w = *w;
    Uhci *u = (Uhci *)device_new(ctx->devices, &uhci_info, ctx->bus,
                                 "piix3-usb-uhci");
    u->bus = w->pci;
    u->devfn = w->devfn;
    u->set_irq = uhci_irq;
    u->irq_opaque = ub;
    ub->uhci = u;
    if (!device_realize(DEVICE(u), error)) {
        usb_bus_free(ub);
        return NULL;
    }
    for (int i = 0; i < ctx->cfg->n_usb_devices; i++) {
        if (!add_device(ub, ctx->cfg->usb_devices[i], error)) {
            g_prefix_error(error, "-device ");
            usb_bus_free(ub);
            return NULL;
        }
    }
    return ub;
}

void usb_bus_free(UsbBus *ub)
{
    if (!ub) {
        return;
    }
    for (int i = 0; i < USB_BUS_SLOTS; i++) {
        if (ub->slot[i].blk) {
            ub->ctx->drives.release(ub->ctx->drives.opaque,
                                   ub->slot[i].blk);
        }
    }
    g_free(ub);
}

static UsbHid *find_hid(UsbBus *ub, UsbHidKind kind)
{
    for (int i = 0; ub && i < USB_BUS_SLOTS; i++) {
        UsbDevice *d = ub->slot[i].dev;
        if (d && d->dev.info == &usb_hid_info &&
            ((UsbHid *)d)->kind == kind) {
            return (UsbHid *)d;
        }
    }
    return NULL;
}

bool usb_bus_key(UsbBus *ub, unsigned evdev, bool down)
{
    UsbHid *h = find_hid(ub, USB_HID_KBD);
    if (h) {
        usb_hid_key(h, evdev, down);
    }
    return h != NULL;
}

bool usb_bus_pointer_rel(UsbBus *ub, int dx, int dy, int dz,
                         unsigned buttons)
{
    UsbHid *h = find_hid(ub, USB_HID_MOUSE);
    if (h) {
        usb_hid_pointer_rel(h, dx, dy, -dz, buttons);
    }
    return h != NULL;
}

bool usb_bus_has_tablet(UsbBus *ub)
{
    return find_hid(ub, USB_HID_TABLET) != NULL;
}

void usb_bus_pointer_abs(UsbBus *ub, int x, int y, int dz, unsigned buttons)
{
    UsbHid *h = find_hid(ub, USB_HID_TABLET);
    if (h) {
        usb_hid_pointer_abs(h, x, y, -dz, buttons);
    }
}

void usb_bus_info(UsbBus *ub, GString *out)
{
    for (int n = 0; ub && n < USB_BUS_SLOTS; n++) {
        UsbPort *port = nth_port(ub, n);
        UsbDevice *d = port ? port->dev : NULL;
        if (!d) {
            continue;
        }
        g_string_append_printf(out, "  Device 0.%u, Port %s, Speed 12 Mb/s, "
                               "Product %s, ID: %s\n", d->addr, port->path,
                               d->cls->product, d->dev.id);
    }
}

bool usb_bus_device_add(UsbBus *ub, const char *spec, GError **error)
{
    if (!ub) {
        return bad(error, "the machine has no USB controller (start it with "
                   "-usb)");
    }
    return add_device(ub, spec, error);
}

bool usb_bus_device_del(UsbBus *ub, const char *id, GError **error)
{
    for (int i = 0; ub && i < USB_BUS_SLOTS; i++) {
        UsbSlot *sl = &ub->slot[i];
        if (!sl->dev || strcmp(sl->dev->dev.id, id)) {
            continue;
        }
        if (ub->hub && sl->dev == &ub->hub->usb) {
            return bad(error, "Device '%s' is the bus's hub: it stays", id);
        }
        usb_port_detach(sl->port);
        device_remove(DEVICE(sl->dev));
        if (sl->blk) {
            ub->ctx->drives.release(ub->ctx->drives.opaque, sl->blk);
        }
        *sl = (UsbSlot){ 0 };
        return true;
    }
    return bad(error, "Device '%s' not found", id);
}
