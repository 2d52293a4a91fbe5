/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 I/O port space: 64 Ki ports, each owned by at most one region.
 *
 * A region declares the access sizes its device accepts (min..max); wider
 * accesses are split into little-endian pieces and narrower ones are
 * widened, so a device handler never sees an odd width and always gets
 * offset < len.  Unassigned ports read as all ones and ignore writes.
 */
#ifndef MIMIC_BUS_IOPORT_H
#define MIMIC_BUS_IOPORT_H

#include <stdint.h>
#include <glib.h>

typedef struct IoSpace IoSpace;

typedef struct IoRegion {
    uint16_t base;
    uint16_t len; /* 0 ends a table */
    uint8_t min, max; /* 0 means 1 and 4 */
    uint32_t (*read)(void *opaque, uint16_t offset, unsigned size);
    void (*write)(void *opaque, uint16_t offset, uint32_t value,
                  unsigned size);
    const char *name;
} IoRegion;

IoSpace *ioport_new(void);
void ioport_free(IoSpace *io);
/* Register one region; the struct must outlive the registration. */
void ioport_register(IoSpace *io, const IoRegion *region, void *opaque);
/* Register a table ended by an entry with len == 0. */
void ioport_register_table(IoSpace *io, const IoRegion *table, void *opaque);
/* Register region at a different base (PCI I/O BARs). */
void ioport_register_at(IoSpace *io, const IoRegion *region, uint16_t base,
                        void *opaque);
void ioport_unregister(IoSpace *io, const IoRegion *region, void *opaque);

uint32_t ioport_read(IoSpace *io, uint16_t port, unsigned size);
void ioport_write(IoSpace *io, uint16_t port, uint32_t value, unsigned size);

void ioport_dump(IoSpace *io, GString *out);
/* Every assigned range of ports, in order (the monitor, the fuzzers). */
typedef void (*IoRangeFn)(void *opaque, uint16_t base, unsigned len,
                          const char *name);
void ioport_foreach(IoSpace *io, IoRangeFn fn, void *opaque);
/* Changes whenever a region is registered or unregistered. */
uint64_t ioport_generation(const IoSpace *io);

#endif
