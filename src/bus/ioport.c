/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The I/O port space (see ioport.h).  A flat table of 65536 slots, each
 * naming the region and opaque that own the port; dispatch splits or
 * widens accesses to the sizes the region accepts.
 */
#include "bus/ioport.h"

#include "bus/log.h"

typedef struct IoSlot {
    const IoRegion *region;
    void *opaque;
    uint16_t base; /* where the region is registered (may differ) */
} IoSlot;

struct IoSpace {
    IoSlot slots[65536];
    uint64_t generation;   /* bumped by every (un)registration */
};

IoSpace *ioport_new(void)
{
    return g_new0(IoSpace, 1);
}

void ioport_free(IoSpace *io)
{
    g_free(io);
}

void ioport_register_at(IoSpace *io, const IoRegion *region, uint16_t base,
                        void *opaque)
{
    for (unsigned i = 0; i < region->len; i++) {
        unsigned port = base + i;
        if (port > 0xffff) {
            break;
        }
        io->slots[port] = (IoSlot){ region, opaque, base };
    }
    io->generation++;
}

void ioport_register(IoSpace *io, const IoRegion *region, void *opaque)
{
    ioport_register_at(io, region, region->base, opaque);
}

void ioport_register_table(IoSpace *io, const IoRegion *table, void *opaque)
{
    for (; table->len; table++) {
        ioport_register(io, table, opaque);
    }
}

void ioport_unregister(IoSpace *io, const IoRegion *region, void *opaque)
{
    for (unsigned p = 0; p < 65536; p++) {
        if (io->slots[p].region == region && io->slots[p].opaque == opaque) {
            io->slots[p] = (IoSlot){ 0 };
        }
    }
    io->generation++;
}

uint64_t ioport_generation(const IoSpace *io)
{
    return io->generation;
}

static unsigned rmin(const IoRegion *r)
{
    return r->min ? r->min : 1;
}

static unsigned rmax(const IoRegion *r)
{
    return r->max ? r->max : 4;
}

static uint32_t mask_of(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

uint32_t ioport_read(IoSpace *io, uint16_t port, unsigned size)
{
    const IoSlot *s = &io->slots[port];
    const IoRegion *r = s->region;
    if (!r || !r->read) {
        if (size > 1 && r == NULL && io->slots[(uint16_t)(port + 1)].region) {
            /* Straddles into an assigned port: byte-wise. */
            uint32_t v = 0;
            for (unsigned i = 0; i < size; i++) {
                v |= ioport_read(io, port + i, 1) << (8 * i);
            }
            return v;
        }
        return mask_of(size);
    }
    uint16_t off = port - s->base;
    if (size > rmax(r) || off + size > r->len) {
        /* Too wide: split at the device's width; straddling the region's
           end: byte by byte (each byte then finds its own owner). */
        uint32_t v = 0;
        unsigned step = size > rmax(r) ? rmax(r) : 1;
        for (unsigned i = 0; i < size; i += step) {
            unsigned sz = MIN(step, size - i);
            v |= (ioport_read(io, port + i, sz) & mask_of(sz)) << (8 * i);
        }
        return v;
    }
    if (size < rmin(r)) {
        unsigned lo = rmin(r);
        uint16_t aligned = off & ~(lo - 1);
        if (aligned + lo > r->len) {
            return mask_of(size);
        }
        uint32_t v = r->read(s->opaque, aligned, lo);
        return (v >> (8 * (off - aligned))) & mask_of(size);
    }
    return r->read(s->opaque, off, size) & mask_of(size);
}

void ioport_write(IoSpace *io, uint16_t port, uint32_t value, unsigned size)
{
    const IoSlot *s = &io->slots[port];
    const IoRegion *r = s->region;
    if (!r || !r->write) {
        if (size > 1) {
            for (unsigned i = 1; i < size; i++) {
                if (io->slots[(uint16_t)(port + i)].region) {
                    for (unsigned j = 0; j < size; j++) {
                        ioport_write(io, port + j, value >> (8 * j), 1);
                    }
                    return;
                }
            }
        }
        if (mimic_log_enabled(LOG_IOPORT)) {
            mimic_log("ioport: unassigned write 0x%04x <- 0x%x (%u)\n", port,
                      value, size);
        }
        return;
    }
    uint16_t off = port - s->base;
    if (size > rmax(r) || off + size > r->len) {
        unsigned step = size > rmax(r) ? rmax(r) : 1;
        for (unsigned i = 0; i < size; i += step) {
            ioport_write(io, port + i, value >> (8 * i), MIN(step, size - i));
        }
        return;
    }
    if (size < rmin(r)) {
        unsigned lo = rmin(r);
        uint16_t aligned = off & ~(lo - 1);
        if (aligned + lo > r->len || !r->read) {
            return;
        }
        unsigned shift = 8 * (off - aligned);
        uint32_t v = r->read(s->opaque, aligned, lo);
        v = (v & ~(mask_of(size) << shift)) |
            ((value & mask_of(size)) << shift);
        r->write(s->opaque, aligned, v, lo);
        return;
    }
    r->write(s->opaque, off, value & mask_of(size), size);
}

void ioport_foreach(IoSpace *io, IoRangeFn fn, void *opaque)
{
    unsigned p = 0;
    while (p < 65536) {
        const IoSlot *s = &io->slots[p];
        if (!s->region) {
            p++;
            continue;
        }
        unsigned q = p;
        while (q + 1 < 65536 && io->slots[q + 1].region == s->region &&
               io->slots[q + 1].opaque == s->opaque) {
            q++;
        }
        fn(opaque, (uint16_t)p, q - p + 1,
           s->region->name ? s->region->name : "?");
        p = q + 1;
    }
}

static void dump_one(void *opaque, uint16_t base, unsigned len,
                     const char *name)
{
    g_string_append_printf(opaque, "  %04x-%04x: %s\n", base,
                           base + len - 1, name);
}

void ioport_dump(IoSpace *io, GString *out)
{
    g_string_append(out, "address-space: I/O\n");
    ioport_foreach(io, dump_one, out);
}
