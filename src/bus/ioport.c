/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The I/O port space (see ioport.h).  A flat table of 65536 slots, each
 * naming the region and opaque that own the port; dispatch splits or
 * widens accesses to the sizes the region accepts.
 */
#include "bus/ioport.h"

#include "bus/access.h"
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

static uint32_t mask_of(unsigned size)
{
    return (uint32_t)bus_size_mask(size > 4 ? 4 : size);
}

/* A region's device behind the bus access adapter (bus/access.c): the
 * adapter speaks 64-bit offsets and values, the port handlers 16 and 32. */
typedef struct IoCtx {
    IoSpace *io;
    const IoSlot *slot;
    uint16_t port0;      /* the port of offset 0 of the region */
} IoCtx;

static uint64_t ctx_read(void *opaque, uint64_t off, unsigned size)
{
    IoCtx *c = opaque;
    return c->slot->region->read(c->slot->opaque, (uint16_t)off, size);
}

static void ctx_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    IoCtx *c = opaque;
    c->slot->region->write(c->slot->opaque, (uint16_t)off, (uint32_t)v,
                           size);
}

/* Bytes past the region's end belong to whoever owns those ports. */
static uint64_t space_read(void *opaque, uint64_t off, unsigned size)
{
    IoCtx *c = opaque;
    return ioport_read(c->io, (uint16_t)(c->port0 + off), size);
}

static void space_write(void *opaque, uint64_t off, uint64_t v,
                        unsigned size)
{
    IoCtx *c = opaque;
    ioport_write(c->io, (uint16_t)(c->port0 + off), (uint32_t)v, size);
}

static BusAccess io_access(IoCtx *c)
{
    const IoRegion *r = c->slot->region;
    return (BusAccess){
        .read = r->read ? ctx_read : NULL,
        .write = r->write ? ctx_write : NULL,
        .ctx = c, .len = r->len,
        .min = r->min ? r->min : 1, .max = r->max ? r->max : 4,
        .outside_read = space_read, .outside_write = space_write,
        .outside_ctx = c,
    };
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
    IoCtx c = { io, s, s->base };
    BusAccess a = io_access(&c);
    return (uint32_t)bus_access_read(&a, (uint16_t)(port - s->base), size);
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
    IoCtx c = { io, s, s->base };
    BusAccess a = io_access(&c);
    bus_access_write(&a, (uint16_t)(port - s->base), value, size);
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
