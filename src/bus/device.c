/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The device list: creation, realization, reset and lookup of devices. */
#include "bus/device.h"

#include <string.h>

struct DeviceList {
    GPtrArray *devices;
};

DeviceList *device_list_new(void)
{
    DeviceList *l = g_new0(DeviceList, 1);
    l->devices = g_ptr_array_new();
    return l;
}

void device_list_free(DeviceList *list)
{
    if (!list) {
        return;
    }
    for (guint i = list->devices->len; i-- > 0;) {
        Device *dev = g_ptr_array_index(list->devices, i);
        if (dev->realized && dev->info->finalize) {
            dev->info->finalize(dev);
        }
        g_free(dev->id);
        g_free(dev);
    }
    g_ptr_array_free(list->devices, TRUE);
    g_free(list);
}

Device *device_new(DeviceList *list, const DeviceInfo *info, MachineBuses *bus,
                   const char *id)
{
    g_assert(info->size >= sizeof(Device));
    Device *dev = g_malloc0(info->size);
    dev->info = info;
    dev->id = g_strdup(id ? id : info->name);
    dev->bus = bus;
    dev->list = list;
    g_ptr_array_add(list->devices, dev);
    return dev;
}

void device_remove(Device *dev)
{
    if (!dev) {
        return;
    }
    if (dev->realized && dev->info->io && dev->bus && dev->bus->io) {
        for (const IoRegion *r = dev->info->io; r->len; r++) {
            ioport_unregister(dev->bus->io, r, dev);
        }
    }
    if (dev->realized && dev->info->finalize) {
        dev->info->finalize(dev);
    }
    g_ptr_array_remove(dev->list->devices, dev);
    g_free(dev->id);
    g_free(dev);
}

bool device_realize(Device *dev, GError **error)
{
    if (dev->info->io && dev->bus && dev->bus->io) {
        ioport_register_table(dev->bus->io, dev->info->io, dev);
    }
    if (dev->info->realize && !dev->info->realize(dev, error)) {
        return false;
    }
    dev->realized = true;
    if (dev->info->reset) {
        dev->info->reset(dev);
    }
    return true;
}

void device_list_reset(DeviceList *list)
{
    for (guint i = 0; i < list->devices->len; i++) {
        Device *dev = g_ptr_array_index(list->devices, i);
        if (dev->realized && dev->info->reset) {
            dev->info->reset(dev);
        }
    }
}

Device *device_find(DeviceList *list, const char *id)
{
    for (guint i = 0; i < list->devices->len; i++) {
        Device *dev = g_ptr_array_index(list->devices, i);
        if (strcmp(dev->id, id) == 0) {
            return dev;
        }
    }
    return NULL;
}

guint device_list_length(DeviceList *list)
{
    return list->devices->len;
}

Device *device_list_nth(DeviceList *list, guint n)
{
    return n < list->devices->len ? g_ptr_array_index(list->devices, n)
                                  : NULL;
}
