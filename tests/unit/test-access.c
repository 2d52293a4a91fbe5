/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bus access adapter (bus/access.c): splitting, widening and the end
 * of a region, in both byte orders, against a model device that records
 * what it was asked.
 */
#include <glib.h>
#include <string.h>

#include "bus/access.h"

typedef struct Dev {
    uint8_t mem[16];
    bool be;
    int reads, writes;
    unsigned last_size;
    uint64_t last_off;
} Dev;

static uint64_t dev_read(void *ctx, uint64_t off, unsigned size)
{
    Dev *d = ctx;
    d->reads++;
    d->last_size = size;
    d->last_off = off;
    g_assert_cmpuint(off + size, <=, sizeof(d->mem));
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)d->mem[off + i] << (8 * (d->be ? size - 1 - i : i));
    }
    return v;
}

static void dev_write(void *ctx, uint64_t off, uint64_t v, unsigned size)
{
    Dev *d = ctx;
    d->writes++;
    d->last_size = size;
    d->last_off = off;
    g_assert_cmpuint(off + size, <=, sizeof(d->mem));
    for (unsigned i = 0; i < size; i++) {
        d->mem[off + i] = v >> (8 * (d->be ? size - 1 - i : i));
    }
}

static uint64_t outside_seen;

static uint64_t out_read(void *ctx, uint64_t off, unsigned size)
{
    outside_seen++;
    return 0x5a;
}

static BusAccess make(Dev *d, unsigned min, unsigned max, bool be)
{
    for (unsigned i = 0; i < sizeof(d->mem); i++) {
        d->mem[i] = 0x10 + i;
    }
    d->be = be;
    d->reads = d->writes = 0;
    return (BusAccess){ .read = dev_read, .write = dev_write, .ctx = d,
                        .len = sizeof(d->mem), .min = min, .max = max,
                        .big_endian = be };
}

static void test_little(void)
{
    Dev d;
    /* A 1-byte device read 4 bytes wide: four reads, LE lanes. */
    BusAccess a = make(&d, 1, 1, false);
    g_assert_cmphex(bus_access_read(&a, 4, 4), ==, 0x17161514);
    g_assert_cmpint(d.reads, ==, 4);
    /* An 8-byte read of a 4-byte device: two reads. */
    a = make(&d, 1, 4, false);
    g_assert_cmphex(bus_access_read(&a, 0, 8), ==, 0x1716151413121110ull);
    g_assert_cmpint(d.reads, ==, 2);
    /* A byte of a 4-byte-only device: widened to the aligned dword. */
    a = make(&d, 4, 4, false);
    g_assert_cmphex(bus_access_read(&a, 6, 1), ==, 0x16);
    g_assert_cmpuint(d.last_off, ==, 4);
    g_assert_cmpuint(d.last_size, ==, 4);
    /* A narrow write is a read-modify-write of the dword. */
    bus_access_write(&a, 5, 0xaabb, 2);
    g_assert_cmphex(d.mem[4], ==, 0x14);
    g_assert_cmphex(d.mem[5], ==, 0xbb);
    g_assert_cmphex(d.mem[6], ==, 0xaa);
    g_assert_cmphex(d.mem[7], ==, 0x17);
    g_assert_cmpint(d.writes, ==, 1);
    g_assert_cmpuint(d.last_size, ==, 4);
}

static void test_big(void)
{
    Dev d;
    BusAccess a = make(&d, 1, 1, true);
    /* Big-endian: the byte at the lowest offset is the most significant. */
    g_assert_cmphex(bus_access_read(&a, 4, 4), ==, 0x14151617);
    a = make(&d, 1, 4, true);
    g_assert_cmphex(bus_access_read(&a, 0, 8), ==, 0x1011121314151617ull);
    a = make(&d, 4, 4, true);
    g_assert_cmphex(bus_access_read(&a, 6, 1), ==, 0x16);
    g_assert_cmphex(bus_access_read(&a, 4, 2), ==, 0x1415);
    bus_access_write(&a, 6, 0xaabb, 2);
    g_assert_cmphex(d.mem[6], ==, 0xaa);
    g_assert_cmphex(d.mem[7], ==, 0xbb);
    g_assert_cmphex(d.mem[4], ==, 0x14);
    a = make(&d, 1, 2, true);
    bus_access_write(&a, 0, 0x01020304, 4);
    g_assert_cmphex(d.mem[0], ==, 1);
    g_assert_cmphex(d.mem[3], ==, 4);
    g_assert_cmpint(d.writes, ==, 2);
}

static void test_end(void)
{
    Dev d;
    BusAccess a = make(&d, 1, 4, false);
    /* Past the end with no outside: all ones for those bytes. */
    g_assert_cmphex(bus_access_read(&a, 14, 4), ==, 0xffff1f1e);
    bus_access_write(&a, 15, 0x11223344, 4);
    g_assert_cmphex(d.mem[15], ==, 0x44);
    /* With an outside, the bytes past the end go there. */
    a.outside_read = out_read;
    outside_seen = 0;
    g_assert_cmphex(bus_access_read(&a, 15, 2), ==, 0x5a44);
    g_assert_cmpuint(outside_seen, ==, 1);
    /* No read handler: all ones, nothing called. */
    a = make(&d, 1, 4, false);
    a.read = NULL;
    g_assert_cmphex(bus_access_read(&a, 0, 4), ==, 0xffffffff);
    g_assert_cmpint(d.reads, ==, 0);
    /* Widening at the very end that does not fit: all ones. */
    a = make(&d, 4, 4, false);
    a.len = 14;
    g_assert_cmphex(bus_access_read(&a, 13, 1), ==, 0xff);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/bus/access/little-endian", test_little);
    g_test_add_func("/bus/access/big-endian", test_big);
    g_test_add_func("/bus/access/region-end", test_end);
    return g_test_run();
}
