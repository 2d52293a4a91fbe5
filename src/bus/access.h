/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one access adapter of the bus: fits an access of any size (1, 2, 4
 * or 8 bytes) at any offset to what a region's device accepts.
 *
 * - wider than the device's largest access: split into pieces of that
 *   width;
 * - narrower than its smallest: widened to the aligned access around it
 *   (a read extracts the bytes; a write reads, merges and writes back);
 * - running past the region's end: byte by byte, and each byte past the
 *   end goes to `outside` (the port space looks for its owner; the memory
 *   map reads all ones and drops writes, as an open bus does).
 *
 * Byte lanes follow the region's endianness: a little-endian region (the
 * PC) holds the least significant byte at the lowest offset, a big-endian
 * one (PowerPC, SPARC, big-endian MIPS boards) the most significant.
 * Values are passed in host order either way; the device sees whole
 * values of the sizes it declared, never a byte lane.
 */
#ifndef MIMIC_BUS_ACCESS_H
#define MIMIC_BUS_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t (*BusReadFn)(void *ctx, uint64_t off, unsigned size);
typedef void (*BusWriteFn)(void *ctx, uint64_t off, uint64_t value,
                           unsigned size);

typedef struct BusAccess {
    BusReadFn read;     /* NULL: reads as all ones */
    BusWriteFn write;   /* NULL: writes are dropped */
    void *ctx;
    uint64_t len;       /* the region's size in bytes */
    unsigned min, max;  /* access sizes the device takes (1..8) */
    bool big_endian;
    /* Bytes past len, at offsets >= len (NULL: all ones / dropped). */
    BusReadFn outside_read;
    BusWriteFn outside_write;
    void *outside_ctx;
} BusAccess;

uint64_t bus_access_read(const BusAccess *a, uint64_t off, unsigned size);
void bus_access_write(const BusAccess *a, uint64_t off, uint64_t value,
                      unsigned size);

static inline uint64_t bus_size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

#endif
