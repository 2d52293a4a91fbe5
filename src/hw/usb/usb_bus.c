/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A machine's USB (see usb_bus.h): the PIIX3 UHCI controller,
 * "usb-bus.0", with its two root ports named "1" and "2" as QEMU names
 * them, and/or a usb-ehci with six ports (its bus "ID.0" for
 * -device usb-ehci,id=ID, else "usb-bus.N", N its place among the
 * buses, as QEMU names them), and/or a qemu-xhci (the same naming;
 * its four port pairs "1".."4"); and the devices of the configuration,
 * which are strings in QEMU's -device syntax ("usb-tablet,id=t,port=1",
 * "usb-storage,drive=d0,bus=ehci.0").  A device without bus= goes to the
 * first bus.  The UHCI is there with -usb (or -device piix3-usb-uhci)
 * or when there is neither a usb-ehci nor a qemu-xhci.  Devices added
 * while the machine runs go through the same parser.
 */
#include "hw/usb/usb_bus.h"

#include <stdlib.h>
#include <string.h>

#include "hw/usb/ehci.h"
#include "hw/usb/hid.h"
#include "hw/usb/hub.h"
#include "hw/usb/storage.h"
#include "hw/usb/uhci.h"
#include "hw/usb/xhci.h"

#define USB_BUS_SLOTS (UHCI_PORTS + USB_HUB_PORTS + EHCI_PORTS + \
                       XHCI_PAIRS)
#define USB_MAX_HOSTS 3

/* A controller's root ports, as the -device bus= option names them. */
typedef struct UsbHost {
    char name[48]; /* "usb-bus.0", "ehci.0" */
    UsbPort *ports;
    int n_ports;
    uint8_t devfn;
    bool hs; /* high-speed root ports (EHCI, xHCI): no hub */
} UsbHost;

typedef struct UsbSlot {
    UsbPort *port; /* NULL: a free slot */
    int host;      /* index in UsbBus.host */
    UsbDevice *dev;
    BlockDev *blk; /* usb-storage: the image, closed at unplug */
    int bootindex; /* usb-storage bootindex=N; -1: none */
} UsbSlot;

struct UsbBus {
    BoardInstance *ctx;
    UsbBusWiring w;
    Uhci *uhci;
    Ehci *ehci;
    Xhci *xhci;
    UsbHub *hub; /* added when the UHCI's ports run out, as QEMU does */
    int hub_host;
    UsbHost host[USB_MAX_HOSTS];
    int n_hosts;
    UsbSlot slot[USB_BUS_SLOTS];
};

/* The n-th port of the machine: each controller's root ports, the
   hub's after those of the controller it is on; *host gets the
   controller's index. */
static UsbPort *nth_port(UsbBus *ub, int n, int *host)
{
    for (int h = 0; h < ub->n_hosts; h++) {
        *host = h;
        if (n < ub->host[h].n_ports) {
            return &ub->host[h].ports[n];
        }
        n -= ub->host[h].n_ports;
        if (ub->hub && ub->hub_host == h) {
            if (n < USB_HUB_PORTS) {
                return &ub->hub->ports[n];
            }
            n -= USB_HUB_PORTS;
        }
    }
    return NULL;
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

static void plug(UsbBus *ub, int host, UsbPort *port, UsbDevice *dev,
                 BlockDev *blk, int bootindex)
{
    UsbSlot *sl = free_slot(ub); /* there is one per port */
    sl->port = port;
    sl->host = host;
    sl->dev = dev;
    sl->blk = blk;
    sl->bootindex = bootindex;
    usb_port_attach(port, dev);
}

/* The hub on the UHCI's root port p (its ports are "P.1".."P.8"). */
static bool add_hub(UsbBus *ub, int host, int p, GError **error)
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
    ub->hub_host = host;
    plug(ub, host, &ub->host[host].ports[p], &h->usb, NULL, -1);
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
    if (!strcmp(driver, "usb-ehci") || !strcmp(driver, "qemu-xhci")) {
        return bad(error, "%s: a controller is not hot-plugged (give "
                   "-device %s at start)", driver, driver);
    }
    if (!known) {
        return bad(error, "'%s' is not a USB device (usb-tablet, usb-mouse, "
                   "usb-kbd, usb-storage)", driver);
    }
    const char *id = NULL, *bus = NULL, *port = NULL, *drive = NULL;
    bool removable = false;
    int bootindex = -1;
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
        } else if (storage && !strcmp(k, "bootindex")) {
            char *end;
            long n = strtol(v, &end, 10);
            if (!*v || *end || n < 0 || n > 0xffff) {
                return bad(error, "%s: bootindex '%s' is not a number "
                           "0-65535", driver, v);
            }
            for (int j = 0; j < USB_BUS_SLOTS; j++) {
                if (ub->slot[j].dev && ub->slot[j].bootindex == n) {
                    return bad(error, "%s: bootindex %ld is used by %s",
                               driver, n, ub->slot[j].dev->dev.id);
                }
            }
            bootindex = (int)n;
        } else {
            return bad(error, "%s: unknown parameter '%s'", driver, k);
        }
    }
    if (id && (!*id || device_find(ub->ctx->devices, id))) {
        return bad(error, "%s: id '%s' is %s", driver, id,
                   *id ? "in use" : "empty");
    }
    int hi = 0;
    if (bus) {
        for (hi = 0; hi < ub->n_hosts && strcmp(bus, ub->host[hi].name);
             hi++) {
        }
        if (hi == ub->n_hosts) {
            g_autoptr(GString) names = g_string_new(NULL);
            for (int j = 0; j < ub->n_hosts; j++) {
                g_string_append_printf(names, "%s%s",
                                       j == 0 ? ""
                                       : j == ub->n_hosts - 1 ? " and "
                                       : ", ", ub->host[j].name);
            }
            return bad(error, "%s: bus '%s' not found (the machine has "
                       "%s)", driver, bus, names->str);
        }
    }
    UsbHost *host = &ub->host[hi];
    UsbPort *up = NULL;
    if (port) {
        for (int i = 0, h; i < USB_BUS_SLOTS && !up; i++) {
            UsbPort *c = nth_port(ub, i, &h);
            if (c && h == hi && !strcmp(c->path, port)) {
                up = c;
            }
        }
        if (!up) {
            return bad(error, "%s: port '%s' does not exist on %s "
                       "(ports 1-%d%s)", driver, port, host->name,
                       host->n_ports, host->hs ? ""
                       : ub->hub ? " and the hub's" : ", no hub");
        }
        if (up->dev) {
            return bad(error, "%s: port %s of %s is in use (by %s)",
                       driver, port, host->name, up->dev->dev.id);
        }
    } else {
        int nfree = 0, last = -1;
        for (int i = 0; i < host->n_ports; i++) {
            if (!host->ports[i].dev) {
                nfree++;
                last = i;
            }
        }
        /* The UHCI's last free root port takes a hub first (as QEMU).
           The hub is full speed only: EHCI ports do not get one. */
        if (nfree == 1 && !host->hs && !ub->hub &&
            !add_hub(ub, hi, last, error)) {
            return false;
        }
        for (int i = 0, h; i < USB_BUS_SLOTS && !up; i++) {
            UsbPort *c = nth_port(ub, i, &h);
            if (c && h == hi && !c->dev) {
                up = c;
            }
        }
        if (!up) {
            return bad(error, "%s: no free port on %s", driver, host->name);
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
    plug(ub, hi, up, (UsbDevice *)dev, blk, bootindex);
    return true;
}

static void ehci_irq(void *opaque, bool level)
{
    UsbBus *ub = opaque;
    ub->w.ehci_set_irq(ub->w.opaque, level);
}

/* The configuration's controller NAME (usb-ehci, qemu-xhci): its id
   (maybe NULL) in *id; false when there is none. */
static bool is_driver(const char *spec, const char *name)
{
    size_t n = strlen(name);
    return !strncmp(spec, name, n) && (spec[n] == 0 || spec[n] == ',');
}

static bool find_hc(const MachineConfig *cfg, const char *name, char **id)
{
    for (int i = 0; i < cfg->n_usb_devices; i++) {
        const char *d = cfg->usb_devices[i];
        if (is_driver(d, name)) {
            const char *p = strstr(d, ",id=");
            *id = p ? g_strndup(p + 4, strcspn(p + 4, ",")) : NULL;
            return true;
        }
    }
    return false;
}

static bool find_ehci(const MachineConfig *cfg, char **id)
{
    return find_hc(cfg, "usb-ehci", id);
}

bool usb_bus_has_ehci(const MachineConfig *cfg)
{
    g_autofree char *id = NULL;
    return find_ehci(cfg, &id);
}

bool usb_bus_has_xhci(const MachineConfig *cfg)
{
    g_autofree char *id = NULL;
    return find_hc(cfg, "qemu-xhci", &id);
}

static void xhci_irq(void *opaque, bool level)
{
    UsbBus *ub = opaque;
    ub->w.xhci_set_irq(ub->w.opaque, level);
}

/* The root ports of a new controller as bus "ID.0" or "usb-bus.N". */
static void add_host(UsbBus *ub, const char *id, UsbPort *ports, int n,
                     uint8_t devfn)
{
    UsbHost *h = &ub->host[ub->n_hosts];
    if (id) {
        g_snprintf(h->name, sizeof(h->name), "%s.0", id);
    } else {
        g_snprintf(h->name, sizeof(h->name), "usb-bus.%d", ub->n_hosts);
    }
    h->ports = ports;
    h->n_ports = n;
    h->devfn = devfn;
    h->hs = true;
    ub->n_hosts++;
}

static bool create_xhci(UsbBus *ub, const char *id, GError **error)
{
    if (id && (!*id || device_find(ub->ctx->devices, id))) {
        return bad(error, "qemu-xhci: id '%s' is %s", id,
                   *id ? "in use" : "empty");
    }
    Xhci *x = (Xhci *)device_new(ub->ctx->devices, &xhci_info, ub->ctx->bus,
                                 id ? id : "qemu-xhci");
    x->bus = ub->w.pci;
    x->devfn = ub->w.xhci_devfn;
    x->set_irq = xhci_irq;
    x->irq_opaque = ub;
    ub->xhci = x;
    if (!device_realize(DEVICE(x), error)) {
        return false;
    }
    add_host(ub, id, x->ports, XHCI_PAIRS, ub->w.xhci_devfn);
    return true;
}

static bool create_ehci(UsbBus *ub, const char *id, GError **error)
{
    if (id && (!*id || device_find(ub->ctx->devices, id))) {
        return bad(error, "usb-ehci: id '%s' is %s", id,
                   *id ? "in use" : "empty");
    }
    Ehci *e = (Ehci *)device_new(ub->ctx->devices, &ehci_info, ub->ctx->bus,
                                 id ? id : "usb-ehci");
    e->bus = ub->w.pci;
    e->devfn = ub->w.ehci_devfn;
    e->set_irq = ehci_irq;
    e->irq_opaque = ub;
    ub->ehci = e;
    if (!device_realize(DEVICE(e), error)) {
        return false;
    }
    add_host(ub, id, e->ports, EHCI_PORTS, ub->w.ehci_devfn);
    return true;
}

UsbBus *usb_bus_create(BoardInstance *ctx, const UsbBusWiring *w,
                       GError **error)
{
    UsbBus *ub = g_new0(UsbBus, 1);
    ub->ctx = ctx;
    ub->w = *w;
    g_autofree char *ehci_id = NULL, *xhci_id = NULL;
    bool ehci = find_ehci(ctx->cfg, &ehci_id);
    bool xhci = find_hc(ctx->cfg, "qemu-xhci", &xhci_id);
    if (ctx->cfg->usb || (!ehci && !xhci)) {
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
        UsbHost *h = &ub->host[ub->n_hosts++];
        g_strlcpy(h->name, "usb-bus.0", sizeof(h->name));
        h->ports = u->ports;
        h->n_ports = UHCI_PORTS;
        h->devfn = w->devfn;
    }
    if (ehci && !create_ehci(ub, ehci_id, error)) {
        g_prefix_error(error, "-device ");
        usb_bus_free(ub);
        return NULL;
    }
    if (xhci && !create_xhci(ub, xhci_id, error)) {
        g_prefix_error(error, "-device ");
        usb_bus_free(ub);
        return NULL;
    }
    for (int i = 0; i < ctx->cfg->n_usb_devices; i++) {
        const char *spec = ctx->cfg->usb_devices[i];
        if (is_driver(spec, "usb-ehci") || is_driver(spec, "qemu-xhci")) {
            continue;
        }
        if (!add_device(ub, spec, error)) {
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

/* The Open Firmware path SeaBIOS matches for a disk on port "P[.Q]":
   /pci@i0cf8/usb@SLOT[,FN][/hub@P]/storage@N/channel@0/disk@0,0. */
static void boot_path(UsbBus *ub, const UsbSlot *sl, GString *out)
{
    const UsbPort *port = sl->port;
    uint8_t devfn = ub->host[sl->host].devfn;
    g_string_append_printf(out, "/pci@i0cf8/usb@%x", devfn >> 3);
    if (devfn & 7) {
        g_string_append_printf(out, ",%x", devfn & 7);
    }
    g_auto(GStrv) parts = g_strsplit(port->path, ".", -1);
    for (int i = 0; parts[i]; i++) {
        g_string_append_printf(out, parts[i + 1] ? "/hub@%s" : "/storage@%s",
                               parts[i]);
    }
    g_string_append(out, "/channel@0/disk@0,0\n");
}

char *usb_bus_bootorder(UsbBus *ub)
{
    GString *out = g_string_new(NULL);
    /* Lowest bootindex first; at most USB_BUS_SLOTS passes. */
    int last = -1;
    for (int pass = 0; ub && pass < USB_BUS_SLOTS; pass++) {
        UsbSlot *best = NULL;
        for (int i = 0; i < USB_BUS_SLOTS; i++) {
            UsbSlot *sl = &ub->slot[i];
            if (sl->dev && sl->bootindex > last &&
                (!best || sl->bootindex < best->bootindex)) {
                best = sl;
            }
        }
        if (!best) {
            break;
        }
        boot_path(ub, best, out);
        last = best->bootindex;
    }
    if (!out->len) {
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}

void usb_bus_info(UsbBus *ub, GString *out)
{
    for (int n = 0, h; ub && n < USB_BUS_SLOTS; n++) {
        UsbPort *port = nth_port(ub, n, &h);
        UsbDevice *d = port ? port->dev : NULL;
        if (!d) {
            continue;
        }
        g_string_append_printf(out, "  Device %d.%u, Port %s, Speed %s Mb/s, "
                               "Product %s, ID: %s\n", h, d->addr,
                               port->path, d->super_speed ? "5000"
                               : d->high_speed ? "480" : "12",
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
