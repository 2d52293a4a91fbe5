/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HPET (see hpet.h).  Registers (HPET spec 1.0a, 2.3): 0x000 capabilities
 * and ID, 0x010 general configuration (ENABLE_CNF bit 0, LEG_RT_CNF bit
 * 1), 0x020 general interrupt status (write 1 to clear), 0x0F0 main
 * counter; timer N at 0x100 + 0x20 * N: +0x00 configuration and
 * capabilities, +0x08 comparator, +0x10 FSB route (not implemented).
 */
#include "hw/timer/hpet.h"

#include "bus/log.h"

#define PERIOD_FS 10000000ull /* 10 ns */
#define NS_PER_TICK 10
/* Timer configuration bits (spec 2.3.8). */
#define TN_LEVEL (1ull << 1)
#define TN_ENABLE (1ull << 2)
#define TN_PERIODIC (1ull << 3)
#define TN_PERIODIC_CAP (1ull << 4)
#define TN_SIZE_CAP (1ull << 5)
#define TN_SETVAL (1ull << 6)
#define TN_32BIT (1ull << 8)
#define TN_ROUTE_SHIFT 9
#define TN_ROUTE_CAP (0x00f00000ull << 32) /* I/O APIC pins 20-23 */
#define TN_WMASK (TN_LEVEL | TN_ENABLE | TN_PERIODIC | TN_SETVAL | TN_32BIT | \
                  (0x1full << TN_ROUTE_SHIFT))
#define CFG_ENABLE 1ull
#define CFG_LEGACY 2ull

static int64_t now(Hpet *s)
{
    return clock_now(s->dev.bus->clock);
}

bool hpet_legacy(const Hpet *s)
{
    return s && (s->config & CFG_LEGACY);
}

static bool running(const Hpet *s)
{
    return s->config & CFG_ENABLE;
}

static uint64_t counter(Hpet *s)
{
    if (!running(s)) {
        return s->counter;
    }
    int64_t d = now(s) - s->offset_ns;
    return d < 0 ? 0 : (uint64_t)d / NS_PER_TICK;
}

static int route(const Hpet *s, int n)
{
    if (s->config & CFG_LEGACY) {
        if (n == 0) {
            return 0;
        }
        if (n == 1) {
            return 8;
        }
    }
    return (s->t[n].config >> TN_ROUTE_SHIFT) & 0x1f;
}

static void set_out(Hpet *s, int n, bool level)
{
    s->t[n].level = level;
    if (s->set_line) {
        s->set_line(s->opaque, route(s, n), level);
    }
}

static bool wide(const HpetTimer *t)
{
    return (t->config & TN_SIZE_CAP) && !(t->config & TN_32BIT);
}

static void schedule(Hpet *s, int n)
{
    HpetTimer *t = &s->t[n];
    if (!running(s)) {
        timer_del(s->timer[n]);
        return;
    }
    uint64_t cur = counter(s);
    uint64_t delta = wide(t) ? t->cmp - cur : (uint32_t)(t->cmp - cur);
    if (delta == 0) {
        delta = wide(t) ? 0 : 1ull << 32; /* matched: next wrap */
    }
    if (delta > (uint64_t)(INT64_MAX / 2 / NS_PER_TICK)) {
        timer_del(s->timer[n]);
        return;
    }
    /* The time the counter reaches cmp: a tick boundary. */
    int64_t at = s->offset_ns + (int64_t)(cur + delta) * NS_PER_TICK;
    timer_mod(s->timer[n], at);
}

static void fire(Hpet *s, int n)
{
    HpetTimer *t = &s->t[n];
    if ((t->config & TN_PERIODIC) && t->period) {
        uint64_t cur = counter(s);
        t->cmp += t->period;
        if (wide(t) ? (int64_t)(cur - t->cmp) >= 0
                    : (int32_t)(uint32_t)(cur - t->cmp) >= 0) {
            /* Far behind (host stall): the next period from now, not a
               burst. */
            t->cmp = cur + t->period - (cur - t->cmp) % t->period;
        }
        if (!wide(t)) {
            t->cmp = (uint32_t)t->cmp;
        }
    }
    if (t->config & TN_ENABLE) {
        if (t->config & TN_LEVEL) {
            s->isr |= 1ull << n;
            set_out(s, n, true);
        } else {
            set_out(s, n, true);
            set_out(s, n, false);
        }
    }
}

static void timer_cb0(void *opaque)
{
    Hpet *s = opaque;
    fire(s, 0);
    schedule(s, 0);
}

static void timer_cb1(void *opaque)
{
    Hpet *s = opaque;
    fire(s, 1);
    schedule(s, 1);
}

static void timer_cb2(void *opaque)
{
    Hpet *s = opaque;
    fire(s, 2);
    schedule(s, 2);
}

static uint64_t reg_read(Hpet *s, uint64_t off)
{
    switch (off) {
    case 0x000:
        /* rev 1, 3 timers, 64-bit counter, legacy routing capable,
           vendor 0x8086, 10 ns period */
        return 0x01 | ((HPET_TIMERS - 1) << 8) | (1u << 13) | (1u << 15) |
               (0x8086u << 16) | (PERIOD_FS << 32);
    case 0x010: return s->config;
    case 0x020: return s->isr;
    case 0x0f0: return counter(s);
    default:
        if (off >= 0x100 && off < 0x100 + 0x20 * HPET_TIMERS) {
            HpetTimer *t = &s->t[(off - 0x100) / 0x20];
            switch (off & 0x1f) {
            case 0x00: return t->config | TN_ROUTE_CAP;
            case 0x08: return t->cmp;
            default: return 0;
            }
        }
        return 0;
    }
}

static void timer_write_config(Hpet *s, int n, uint64_t v)
{
    HpetTimer *t = &s->t[n];
    bool was_level = t->level;
    int old_route = route(s, n);
    uint64_t ro = t->config & ~TN_WMASK;
    if (!(t->config & TN_PERIODIC_CAP)) {
        v &= ~TN_PERIODIC;
    }
    unsigned r = (v >> TN_ROUTE_SHIFT) & 0x1f;
    if (!((TN_ROUTE_CAP >> 32) & (1u << r))) {
        v &= ~(0x1full << TN_ROUTE_SHIFT); /* not a pin this timer has */
        v |= t->config & (0x1full << TN_ROUTE_SHIFT);
    }
    t->config = (v & TN_WMASK) | ro;
    if (!(t->config & TN_SIZE_CAP) || (t->config & TN_32BIT)) {
        t->cmp = (uint32_t)t->cmp;
        t->period = (uint32_t)t->period;
    }
    if (was_level && (!(t->config & TN_ENABLE) || !(t->config & TN_LEVEL) ||
                      route(s, n) != old_route)) {
        /* Disabled or moved: drop the old line. */
        t->level = false;
        if (s->set_line) {
            s->set_line(s->opaque, old_route, false);
        }
        s->isr &= ~(1ull << n);
    }
    schedule(s, n);
}

static void timer_write_cmp(Hpet *s, int n, uint64_t v, uint64_t mask)
{
    HpetTimer *t = &s->t[n];
    if (!wide(t)) {
        v = (uint32_t)v;
        mask = (uint32_t)mask;
    }
    if (!(t->config & TN_PERIODIC) || (t->config & TN_SETVAL)) {
        t->cmp = (t->cmp & ~mask) | (v & mask);
    }
    if (t->config & TN_PERIODIC) {
        t->period = (t->period & ~mask) | (v & mask);
    }
    t->config &= ~TN_SETVAL;
    schedule(s, n);
}

static void reg_write(Hpet *s, uint64_t off, uint64_t v, uint64_t mask)
{
    switch (off) {
    case 0x010: {
        uint64_t old = s->config;
        uint64_t cur = counter(s);
        s->config = (s->config & ~mask) | (v & mask & (CFG_ENABLE |
                                                       CFG_LEGACY));
        if ((old ^ s->config) & CFG_ENABLE) {
            if (running(s)) {
                s->offset_ns = now(s) - (int64_t)(cur * NS_PER_TICK);
            } else {
                s->counter = cur;
            }
        }
        if ((old ^ s->config) & CFG_LEGACY) {
            if (s->legacy_changed) {
                s->legacy_changed(s->opaque, s->config & CFG_LEGACY);
            }
            for (int n = 0; n < 2; n++) {
                if (s->t[n].level) {
                    /* Move a held level to the new route. */
                    uint64_t keep = s->config;
                    s->config = old;
                    set_out(s, n, false);
                    s->config = keep;
                    set_out(s, n, true);
                }
            }
        }
        for (int n = 0; n < HPET_TIMERS; n++) {
            schedule(s, n);
        }
        break;
    }
    case 0x020: {
        uint64_t clr = v & mask & s->isr;
        for (int n = 0; n < HPET_TIMERS; n++) {
            if (clr & (1ull << n)) {
                s->isr &= ~(1ull << n);
                set_out(s, n, false);
            }
        }
        break;
    }
    case 0x0f0: {
        if (running(s)) {
            mimic_log_guest("hpet: main counter written while running\n");
        }
        uint64_t c = (counter(s) & ~mask) | (v & mask);
        s->counter = c;
        s->offset_ns = now(s) - (int64_t)(c * NS_PER_TICK);
        for (int n = 0; n < HPET_TIMERS; n++) {
            schedule(s, n);
        }
        break;
    }
    default:
        if (off >= 0x100 && off < 0x100 + 0x20 * HPET_TIMERS) {
            int n = (off - 0x100) / 0x20;
            switch (off & 0x1f) {
            case 0x00:
                timer_write_config(s, n, (s->t[n].config & ~mask) |
                                             (v & mask));
                break;
            case 0x08:
                timer_write_cmp(s, n, v, mask);
                break;
            default:
                break;
            }
        }
        break;
    }
}

static uint64_t hpet_read(void *opaque, uint64_t off, unsigned size)
{
    Hpet *s = opaque;
    uint64_t v = reg_read(s, off & ~7ull);
    if (size == 4) {
        v = (off & 4) ? v >> 32 : (uint32_t)v;
    }
    return v;
}

static void hpet_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    Hpet *s = opaque;
    uint64_t mask = ~0ull;
    if (size == 4) {
        unsigned sh = (off & 4) * 8;
        mask = 0xffffffffull << sh;
        v = (v & 0xffffffffull) << sh;
    }
    reg_write(s, off & ~7ull, v, mask);
}

static const MemOps hpet_ops = {
    .read = hpet_read, .write = hpet_write, .min = 4, .max = 8,
};

static void hpet_reset(Device *dev)
{
    Hpet *s = (Hpet *)dev;
    for (int n = 0; n < HPET_TIMERS; n++) {
        if (s->t[n].level) {
            set_out(s, n, false);
        }
        s->t[n] = (HpetTimer){
            .config = TN_SIZE_CAP | (n == 0 ? TN_PERIODIC_CAP : 0) |
                      (20ull << TN_ROUTE_SHIFT),
            .cmp = ~0ull,
        };
        timer_del(s->timer[n]);
    }
    s->config = 0;
    s->isr = 0;
    s->counter = 0;
    s->offset_ns = now(s);
}

static bool hpet_realize(Device *dev, GError **error)
{
    Hpet *s = (Hpet *)dev;
    static const TimerCallback cb[HPET_TIMERS] = {
        timer_cb0, timer_cb1, timer_cb2 };
    for (int n = 0; n < HPET_TIMERS; n++) {
        s->timer[n] = timer_new(dev->bus->clock, cb[n], s);
    }
    memmap_add_mmio(dev->bus->mem, "hpet", HPET_BASE, 0x1000, &hpet_ops, s,
                    2);
    return true;
}

static void hpet_finalize(Device *dev)
{
    Hpet *s = (Hpet *)dev;
    for (int n = 0; n < HPET_TIMERS; n++) {
        timer_free(s->timer[n]);
    }
}

static bool hpet_post_load(void *obj, GError **error)
{
    Hpet *s = obj;
    s->config &= CFG_ENABLE | CFG_LEGACY;
    s->isr &= (1u << HPET_TIMERS) - 1;
    for (int n = 0; n < HPET_TIMERS; n++) {
        HpetTimer *t = &s->t[n];
        unsigned r = (t->config >> TN_ROUTE_SHIFT) & 0x1f;
        t->config &= TN_WMASK;
        if (!((TN_ROUTE_CAP >> 32) & (1u << r))) {
            t->config &= ~(0x1full << TN_ROUTE_SHIFT);
            t->config |= 20ull << TN_ROUTE_SHIFT;
        }
        t->config |= TN_SIZE_CAP | (n == 0 ? TN_PERIODIC_CAP : 0);
        if (n != 0) {
            t->config &= ~TN_PERIODIC;
        }
    }
    return true;
}

static const StateField hpet_timer_fields[] = {
    STATE_U64(HpetTimer, config), STATE_U64(HpetTimer, cmp),
    STATE_U64(HpetTimer, period), STATE_BOOL(HpetTimer, level), STATE_END,
};

static const StateDesc hpet_state = {
    .name = "hpet", .version = 1, .post_load = hpet_post_load,
    .fields = (const StateField[]) {
        STATE_U64(Hpet, config), STATE_U64(Hpet, isr),
        STATE_U64(Hpet, counter), STATE_I64(Hpet, offset_ns),
        STATE_STRUCT_ARRAY(Hpet, t, HPET_TIMERS, hpet_timer_fields),
        STATE_END },
};

const DeviceInfo hpet_info = {
    .name = "hpet", .size = sizeof(Hpet), .state = &hpet_state,
    .reset = hpet_reset, .realize = hpet_realize,
    .finalize = hpet_finalize,
};
