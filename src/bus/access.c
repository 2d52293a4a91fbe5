/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bus access adapter (see access.h), shared by the port space and the
 * memory map. */
#include "bus/access.h"

/* Where the piece of `width` bytes at byte `pos` of a `size`-byte value
 * sits, as a shift. */
static unsigned lane(const BusAccess *a, unsigned pos, unsigned width,
                     unsigned size)
{
    return 8 * (a->big_endian ? size - pos - width : pos);
}

static uint64_t outside_read(const BusAccess *a, uint64_t off)
{
    return a->outside_read ? a->outside_read(a->outside_ctx, off, 1) & 0xff
                           : 0xff;
}

uint64_t bus_access_read(const BusAccess *a, uint64_t off, unsigned size)
{
    uint64_t mask = bus_size_mask(size);
    if (!a->read) {
        return mask;
    }
    if (off >= a->len) {
        return outside_read(a, off);
    }
    if (size > a->max) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i += a->max) {
            v |= bus_access_read(a, off + i, a->max) <<
                 lane(a, i, a->max, size);
        }
        return v;
    }
    if (off + size > a->len) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            uint64_t b = off + i < a->len ? bus_access_read(a, off + i, 1)
                                          : outside_read(a, off + i);
            v |= b << lane(a, i, 1, size);
        }
        return v;
    }
    if (size < a->min) {
        uint64_t aligned = off & ~(uint64_t)(a->min - 1);
        if (aligned + a->min > a->len) {
            return mask;
        }
        uint64_t v = a->read(a->ctx, aligned, a->min);
        return (v >> lane(a, (unsigned)(off - aligned), size, a->min)) &
               mask;
    }
    return a->read(a->ctx, off, size) & mask;
}

void bus_access_write(const BusAccess *a, uint64_t off, uint64_t value,
                      unsigned size)
{
    if (off >= a->len) {
        if (a->outside_write) {
            a->outside_write(a->outside_ctx, off, value & 0xff, 1);
        }
        return;
    }
    if (!a->write) {
        return;
    }
    if (size > a->max) {
        for (unsigned i = 0; i < size; i += a->max) {
            bus_access_write(a, off + i,
                             value >> lane(a, i, a->max, size), a->max);
        }
        return;
    }
    if (off + size > a->len) {
        for (unsigned i = 0; i < size; i++) {
            bus_access_write(a, off + i, value >> lane(a, i, 1, size), 1);
        }
        return;
    }
    uint64_t mask = bus_size_mask(size);
    if (size < a->min) {
        /* Read-modify-write of the smallest access the device takes. */
        uint64_t aligned = off & ~(uint64_t)(a->min - 1);
        if (aligned + a->min > a->len) {
            return;
        }
        unsigned shift = lane(a, (unsigned)(off - aligned), size, a->min);
        uint64_t v = a->read ? a->read(a->ctx, aligned, a->min)
                             : bus_size_mask(a->min);
        v &= ~(mask << shift);
        v |= (value & mask) << shift;
        a->write(a->ctx, aligned, v & bus_size_mask(a->min), a->min);
        return;
    }
    a->write(a->ctx, off, value & mask, size);
}
