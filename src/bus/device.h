/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Devices: one DeviceInfo per device type declares its size, its I/O
 * ports, its saved state and its life-cycle hooks, all in one place.
 *
 * A board creates a device with device_new(), fills in its wiring (IRQ
 * lines, character device, block device) in the device's own struct, and
 * calls device_realize(), which registers the static I/O ports and runs
 * the device's realize hook.  Devices only see the bus (memory map, port
 * space, clock, IRQ lines) and the backends, never the GUI.
 */
#ifndef MIMIC_BUS_DEVICE_H
#define MIMIC_BUS_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

#include "bus/clock.h"
#include "bus/ioport.h"
#include "bus/irq.h"
#include "bus/memory.h"
#include "state/state.h"

typedef struct Device Device;
typedef struct DeviceList DeviceList;

/* What a device may reach: the machine's buses. */
typedef struct MachineBuses {
    MemMap *mem;
    IoSpace *io;
    Clock *clock;
} MachineBuses;

typedef struct DeviceInfo {
    const char *name;
    size_t size; /* of the device struct, which starts with Device */
    const IoRegion *io; /* static ports, table ended by len == 0 */
    const StateDesc *state;
    const char *unmigratable; /* reason, when state is NULL */
    bool (*realize)(Device *dev, GError **error);
    void (*reset)(Device *dev);
    void (*finalize)(Device *dev);
} DeviceInfo;

struct Device {
    const DeviceInfo *info;
    char *id; /* instance name, unique in the machine ("serial0") */
    MachineBuses *bus;
    DeviceList *list;
    bool realized;
};

DeviceList *device_list_new(void);
/* Finalizes and frees every device, in reverse creation order. */
void device_list_free(DeviceList *list);
/* Zero-allocates info->size bytes; id NULL means info->name. */
Device *device_new(DeviceList *list, const DeviceInfo *info, MachineBuses *bus,
                   const char *id);
bool device_realize(Device *dev, GError **error);
/* Hot unplug: finalize, take out of its list and free the device. */
void device_remove(Device *dev);
void device_list_reset(DeviceList *list);
Device *device_find(DeviceList *list, const char *id);
/* In creation order. */
guint device_list_length(DeviceList *list);
Device *device_list_nth(DeviceList *list, guint n);

#define DEVICE(obj) (&(obj)->dev)

#endif
