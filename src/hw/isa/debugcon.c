/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Debug console port 0x402 (QEMU's isa-debugcon convention that SeaBIOS
 * uses): bytes written go to stderr when MIMIC_DEBUG_BIOS is set in the
 * environment, otherwise they are discarded.  Reads return 0xe9, the
 * value SeaBIOS checks to detect the port.
 */
#include "hw/isa/debugcon.h"

#include <stdio.h>

static uint32_t debugcon_read(void *opaque, uint16_t off, unsigned size)
{
    return 0xe9;
}

static void debugcon_write(void *opaque, uint16_t off, uint32_t v,
                           unsigned size)
{
    Debugcon *s = opaque;
    if (s->enabled) {
        fputc(v & 0xff, stderr);
    }
}

static bool debugcon_realize(Device *dev, GError **error)
{
    Debugcon *s = (Debugcon *)dev;
    s->enabled = g_getenv("MIMIC_DEBUG_BIOS") != NULL;
    return true;
}

static const IoRegion debugcon_io[] = {
    { .base = 0x402, .len = 1, .min = 1, .max = 1, .read = debugcon_read,
      .write = debugcon_write, .name = "debugcon" },
    { 0 },
};

const DeviceInfo debugcon_info = {
    .name = "debugcon", .size = sizeof(Debugcon), .io = debugcon_io,
    .unmigratable = "write-only log port without guest-visible state",
    .realize = debugcon_realize,
};
