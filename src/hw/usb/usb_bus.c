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
#include "hw/usb/storage.h"
#include "hw/usb/uhci.h"

typedef struct UsbSlot {
    UsbDevice *dev;
    BlockDev *blk; /* usb-storage: the image, closed at unplug */
} UsbSlot;

struct UsbBus {
    BoardContext *ctx;
    UsbBusWiring w;
    Uhci *uhci;
    UsbSlot slot[UHCI_PORTS];
};

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

static int find_drive(const MachineConfig *cfg, const char *id)
{
    for (int i = 0; i < cfg->n_drives; i++) {
        if (cfg->drives[i].id && !strcmp(cfg->drives[i].id, id)) {
            return i;
        }
    }
    return -1;
}

static bool drive_in_use(UsbBus *ub, int index)
{
    BlockDev *blk = ub->ctx->blk[index];
    for (int i = 0; blk && i < UHCI_PORTS; i++) {
        if (ub->slot[i].blk == blk) {
            return true;
        }
    }
    return false;
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
    int p = -1;
    if (port) {
        char *end;
        long n = strtol(port, &end, 10);
        if (*end || end == port || n < 1 || n > UHCI_PORTS) {
            return bad(error, "%s: port '%s' does not exist on usb-bus.0 "
                       "(ports 1-%d, no hub)", driver, port, UHCI_PORTS);
        }
        p = n - 1;
        if (ub->slot[p].dev) {
            return bad(error, "%s: port %s of usb-bus.0 is in use (by %s)",
                       driver, port, ub->slot[p].dev->dev.id);
        }
    } else {
        for (int i = 0; i < UHCI_PORTS && p < 0; i++) {
            if (!ub->slot[i].dev) {
                p = i;
            }
        }
        if (p < 0) {
            return bad(error, "%s: no free port on usb-bus.0 (it has %d)",
                       driver, UHCI_PORTS);
        }
    }
    int di = -1;
    if (!strcmp(driver, "usb-storage")) {
        if (!drive) {
            return bad(error, "usb-storage: drive=ID is needed (the id of "
                       "a -drive if=none,id=ID,file=...)");
        }
        di = find_drive(ub->ctx->cfg, drive);
        if (di < 0 || ub->ctx->cfg->drives[di].interface != DRIVE_IF_NONE) {
            return bad(error, "usb-storage: drive '%s' not found (define "
                       "it with -drive if=none,id=%s,file=...)", drive,
                       drive);
        }
        if (drive_in_use(ub, di)) {
            return bad(error, "usb-storage: drive '%s' is in use", drive);
        }
    }
    BlockDev *blk = NULL;
    if (di >= 0) {
        if (!ub->w.open_drive(ub->w.opaque, di, &blk, error)) {
            return false;
        }
        if (!blk) {
            return bad(error, "usb-storage: drive '%s' has no image", drive);
        }
    }
    g_autofree char *aid = id ? g_strdup(id) : auto_id(ub, driver);
    Device *dev;
    if (di >= 0) {
        UsbStorage *s = (UsbStorage *)device_new(
            ub->ctx->devices, &usb_storage_info, ub->ctx->bus, aid);
        s->blk = blk;
        s->read_only = ub->ctx->cfg->drives[di].readonly;
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
            ub->w.close_drive(ub->w.opaque, blk);
        }
        return false;
    }
    ub->slot[p].dev = (UsbDevice *)dev;
    ub->slot[p].blk = blk;
    usb_port_attach(&ub->uhci->ports[p], (UsbDevice *)dev);
    return true;
}

UsbBus *usb_bus_create(BoardContext *ctx, const UsbBusWiring *w,
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
    for (int i = 0; i < UHCI_PORTS; i++) {
        if (ub->slot[i].blk) {
            ub->w.close_drive(ub->w.opaque, ub->slot[i].blk);
        }
    }
    g_free(ub);
}

static UsbHid *find_hid(UsbBus *ub, UsbHidKind kind)
{
    for (int i = 0; ub && i < UHCI_PORTS; i++) {
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
    for (int i = 0; ub && i < UHCI_PORTS; i++) {
        UsbDevice *d = ub->slot[i].dev;
        if (!d) {
            continue;
        }
        g_string_append_printf(out, "  Device 0.%u, Port %s, Speed 12 Mb/s, "
                               "Product %s, ID: %s\n", d->addr,
                               ub->uhci->ports[i].path, d->cls->product,
                               d->dev.id);
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
    for (int i = 0; ub && i < UHCI_PORTS; i++) {
        UsbDevice *d = ub->slot[i].dev;
        if (!d || strcmp(d->dev.id, id)) {
            continue;
        }
        usb_port_detach(&ub->uhci->ports[i]);
        device_remove(DEVICE(d));
        if (ub->slot[i].blk) {
            ub->w.close_drive(ub->w.opaque, ub->slot[i].blk);
        }
        ub->slot[i].dev = NULL;
        ub->slot[i].blk = NULL;
        return true;
    }
    return bad(error, "Device '%s' not found", id);
}
