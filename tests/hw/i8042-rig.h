/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A lone i8042 on its own port space and deterministic clock, with its two
 * interrupt lines recorded: the rig of the keyboard and mouse tests.
 */
#ifndef MIMIC_TESTS_HW_I8042_RIG_H
#define MIMIC_TESTS_HW_I8042_RIG_H

#include <string.h>

#include "hw/isa/i8042.h"

typedef struct Rig {
    MachineBuses bus;
    DeviceList *list;
    I8042 *kbc;
    IrqLine *irq1, *irq12;
    bool level[16];
    int raised[16];
} Rig;

static inline void rig_irq(void *opaque, int n, bool level)
{
    Rig *r = opaque;
    if (level && !r->level[n]) {
        r->raised[n]++;
    }
    r->level[n] = level;
}

static inline Rig *rig_new(void)
{
    Rig *r = g_new0(Rig, 1);
    r->bus.mem = memmap_new();
    r->bus.io = ioport_new();
    r->bus.clock = clock_new(CLOCK_MODE_ICOUNT, 0);
    r->list = device_list_new();
    r->irq1 = irq_new(rig_irq, r, 1);
    r->irq12 = irq_new(rig_irq, r, 12);
    r->kbc = (I8042 *)device_new(r->list, &i8042_info, &r->bus, NULL);
    r->kbc->irq_kbd = r->irq1;
    r->kbc->irq_aux = r->irq12;
    g_assert_true(device_realize(DEVICE(r->kbc), NULL));
    device_list_reset(r->list);
    return r;
}

static inline void rig_free(Rig *r)
{
    device_list_free(r->list);
    irq_free(r->irq1);
    irq_free(r->irq12);
    clock_free(r->bus.clock);
    ioport_free(r->bus.io);
    memmap_free(r->bus.mem);
    g_free(r);
}

static inline uint8_t rig_status(Rig *r)
{
    return ioport_read(r->bus.io, 0x64, 1);
}

static inline void rig_cmd(Rig *r, uint8_t v)
{
    ioport_write(r->bus.io, 0x64, v, 1);
}

static inline void rig_data(Rig *r, uint8_t v)
{
    ioport_write(r->bus.io, 0x60, v, 1);
}

/* Read everything waiting, at most n bytes; returns how many. */
static inline int rig_drain(Rig *r, uint8_t *out, int n)
{
    int got = 0;
    while ((rig_status(r) & 1) && got < n) {
        out[got++] = ioport_read(r->bus.io, 0x60, 1);
    }
    return got;
}

/* Expect exactly the bytes want[0..n) and then an empty output buffer. */
#define rig_expect(r, ...)                                                 \
    do {                                                                   \
        static const uint8_t want_[] = { __VA_ARGS__ };                    \
        uint8_t got_[256];                                                 \
        int n_ = rig_drain((r), got_, sizeof(got_));                       \
        g_assert_cmpmem(got_, n_, want_, sizeof(want_));                   \
    } while (0)

#define rig_expect_none(r) g_assert_cmphex(rig_status(r) & 1, ==, 0)

/* Advance virtual time by ns, firing each timer at its own deadline. */
static inline void rig_advance(Rig *r, int64_t ns)
{
    int64_t end = clock_now(r->bus.clock) + ns;
    for (;;) {
        int64_t d = clock_next_deadline(r->bus.clock);
        if (d > end) {
            break;
        }
        clock_warp_to(r->bus.clock, d);
        clock_run_timers(r->bus.clock);
    }
    clock_warp_to(r->bus.clock, end);
}

#endif
