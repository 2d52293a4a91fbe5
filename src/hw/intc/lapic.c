/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Local APIC (see lapic.h).  Reference: Intel SDM Vol. 3A chapter 11:
 * 11.4 (IA32_APIC_BASE, the register map of table 11-1), 11.5 (LVT,
 * timer, divide configuration, error register), 11.6 (ICR), 11.8
 * (IRR/ISR/TMR, TPR/PPR, EOI), 11.9 (spurious vector).
 */
#include "hw/intc/lapic.h"

#include "bus/log.h"

enum {
    LVT_TIMER = 0, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR,
};

#define LVT_MASKED (1u << 16)
#define LVT_LEVEL (1u << 15)
#define SVR_ENABLE (1u << 8)
#define BASE_EN (1ull << 11)
#define BASE_BSP (1ull << 8)
#define TIMER_MODE(lvt) (((lvt) >> 17) & 3)
enum { TIMER_ONESHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2 };
/* ESR bits (SDM 11.5.3). */
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define ESR_ILLEGAL_REG (1u << 7)

/* Writable bits of each LVT entry (SDM figure 11-8). */
static const uint32_t lvt_wmask[LAPIC_LVT_COUNT] = {
    [LVT_TIMER] = 0x000700ff, [LVT_THERMAL] = 0x000107ff,
    [LVT_PERF] = 0x000107ff, [LVT_LINT0] = 0x0001a7ff,
    [LVT_LINT1] = 0x0001a7ff, [LVT_ERROR] = 0x000100ff,
};

static int64_t now(Lapic *s)
{
    return clock_now(s->dev.bus->clock);
}

static bool hw_enabled(const Lapic *s)
{
    return s->base_msr & BASE_EN;
}

static bool sw_enabled(const Lapic *s)
{
    return hw_enabled(s) && (s->svr & SVR_ENABLE);
}

static int highest(const uint32_t *v)
{
    for (int i = 7; i >= 0; i--) {
        if (v[i]) {
            return i * 32 + 31 - __builtin_clz(v[i]);
        }
    }
    return -1;
}

static void set_bit(uint32_t *v, int n)
{
    v[n >> 5] |= 1u << (n & 31);
}

static void clear_bit(uint32_t *v, int n)
{
    v[n >> 5] &= ~(1u << (n & 31));
}

static bool test_bit(const uint32_t *v, int n)
{
    return v[n >> 5] & (1u << (n & 31));
}

static uint32_t ppr(const Lapic *s)
{
    int isrv = highest(s->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (s->tpr & 0xf0) >= isr_class ? s->tpr & 0xff : isr_class;
}

/* The highest requested vector the processor priority lets through. */
static int deliverable(const Lapic *s)
{
    int v = highest(s->irr);
    if (v < 0 || (uint32_t)(v & 0xf0) <= (ppr(s) & 0xf0)) {
        return -1;
    }
    return v;
}

/* LINT0 in ExtINT mode passes the 8259's request (or the APIC is off and
   the 8259 drives INTR directly, SDM 11.4.3). */
static bool pic_passes(const Lapic *s)
{
    if (!hw_enabled(s)) {
        return true;
    }
    uint32_t l = s->lvt[LVT_LINT0];
    return !(l & LVT_MASKED) && ((l >> 8) & 7) == APIC_DM_EXTINT;
}

static void update_intr(Lapic *s)
{
    bool level = (pic_passes(s) && s->lint0) ||
                 (hw_enabled(s) && (s->extint_pending ||
                                    deliverable(s) >= 0));
    /* Driven on every update, not only on a change: the CPU may have
       been created (or reset) after the level last moved. */
    s->intr = level;
    if (s->set_intr) {
        s->set_intr(s->opaque, level);
    }
}

static void raise_error(Lapic *s, uint32_t bits)
{
    s->esr_pending |= bits;
    uint32_t l = s->lvt[LVT_ERROR];
    if (!(l & LVT_MASKED) && sw_enabled(s) && (l & 0xff) >= 16) {
        set_bit(s->irr, l & 0xff);
        clear_bit(s->tmr, l & 0xff);
    }
}

/* Accept a fixed interrupt into IRR (SDM 11.8.3). */
static void accept(Lapic *s, uint8_t vector, bool level_trig)
{
    if (!hw_enabled(s)) {
        return;
    }
    if (vector < 16) {
        raise_error(s, ESR_RECV_ILLEGAL);
        update_intr(s);
        return;
    }
    set_bit(s->irr, vector);
    if (level_trig) {
        set_bit(s->tmr, vector);
    } else {
        clear_bit(s->tmr, vector);
    }
    update_intr(s);
}

static void deliver_local(Lapic *s, uint32_t lvt, bool level_trig)
{
    if ((lvt & LVT_MASKED) || !sw_enabled(s)) {
        return;
    }
    switch ((lvt >> 8) & 7) {
    case APIC_DM_FIXED:
        accept(s, lvt & 0xff, level_trig);
        break;
    case APIC_DM_NMI:
        if (s->nmi) {
            s->nmi(s->opaque);
        }
        break;
    case APIC_DM_EXTINT:
        s->extint_pending = true;
        update_intr(s);
        break;
    default: /* SMI, INIT: not modelled */
        break;
    }
}

void lapic_deliver(Lapic *s, uint8_t dest, bool logical, unsigned mode,
                   uint8_t vector, bool level_trig)
{
    bool match;
    if (!logical) {
        match = dest == 0xff || dest == s->id;
    } else if ((s->dfr >> 28) == 0xf) { /* flat model */
        match = dest & (s->ldr >> 24);
    } else { /* cluster model: cluster in bits 7:4, members in 3:0 */
        uint8_t l = s->ldr >> 24;
        match = dest == 0xff || (((dest ^ l) & 0xf0) == 0 && (dest & l & 0xf));
    }
    if (!match || !hw_enabled(s)) {
        return;
    }
    switch (mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        accept(s, vector, level_trig);
        break;
    case APIC_DM_NMI:
        if (s->nmi) {
            s->nmi(s->opaque);
        }
        break;
    case APIC_DM_EXTINT:
        s->extint_pending = true;
        update_intr(s);
        break;
    default:
        break;
    }
}

int lapic_intr_ack(void *opaque)
{
    Lapic *s = opaque;
    int v = hw_enabled(s) ? deliverable(s) : -1;
    int r;
    if (v >= 0) {
        clear_bit(s->irr, v);
        set_bit(s->isr, v);
        r = v;
    } else if ((hw_enabled(s) && s->extint_pending) ||
               (pic_passes(s) && s->lint0)) {
        s->extint_pending = false;
        r = s->pic_ack ? s->pic_ack(s->pic) : -1;
    } else if (hw_enabled(s)) {
        r = s->svr & 0xff; /* spurious interrupt (SDM 11.9) */
    } else {
        r = -1;
    }
    update_intr(s);
    return r;
}

void lapic_set_lint0(Lapic *s, bool level)
{
    bool rise = level && !s->lint0;
    s->lint0 = level;
    uint32_t l = s->lvt[LVT_LINT0];
    if (rise && hw_enabled(s) && !(l & LVT_MASKED) &&
        ((l >> 8) & 7) == APIC_DM_NMI) {
        deliver_local(s, l, false);
    }
    update_intr(s);
}

void lapic_set_lint1(Lapic *s, bool level)
{
    bool rise = level && !s->lint1;
    s->lint1 = level;
    uint32_t l = s->lvt[LVT_LINT1];
    if (!hw_enabled(s)) {
        if (rise && s->nmi) {
            s->nmi(s->opaque); /* LINT1 is the NMI pin when disabled */
        }
        return;
    }
    if (rise && ((l >> 8) & 7) != APIC_DM_EXTINT) {
        deliver_local(s, l, false);
    }
}

/* ---- timer (SDM 11.5.4) ---- */

static unsigned divide_shift(const Lapic *s)
{
    unsigned v = (s->dcr & 3) | ((s->dcr >> 1) & 4);
    return (v + 1) & 7; /* 0b111: divide by 1 */
}

static int64_t period_ns(const Lapic *s)
{
    return (int64_t)s->initial_count << divide_shift(s);
}

static void timer_schedule(Lapic *s)
{
    uint32_t l = s->lvt[LVT_TIMER];
    if (TIMER_MODE(l) == TIMER_TSC_DEADLINE) {
        if (s->tsc_deadline) {
            timer_mod(s->timer, s->tsc_deadline);
        } else {
            timer_del(s->timer);
        }
        return;
    }
    if (!s->initial_count || s->count_start < 0) {
        timer_del(s->timer);
        return;
    }
    timer_mod(s->timer, s->count_start + period_ns(s));
}

static void timer_cb(void *opaque)
{
    Lapic *s = opaque;
    uint32_t l = s->lvt[LVT_TIMER];
    switch (TIMER_MODE(l)) {
    case TIMER_TSC_DEADLINE:
        s->tsc_deadline = 0;
        break;
    case TIMER_PERIODIC: {
        int64_t p = period_ns(s);
        int64_t t = now(s);
        s->count_start += p;
        if (s->count_start + p <= t) {
            /* Far behind (the host stalled): restart from now rather
               than fire a burst the guest would count as lost ticks. */
            s->count_start = t - (t - s->count_start) % p;
        }
        break;
    }
    default:
        s->count_start = -1; /* one-shot: stopped at 0 */
        break;
    }
    timer_schedule(s);
    deliver_local(s, l, false);
}

static uint32_t current_count(Lapic *s)
{
    uint32_t l = s->lvt[LVT_TIMER];
    if (TIMER_MODE(l) == TIMER_TSC_DEADLINE || !s->initial_count ||
        s->count_start < 0) {
        return 0;
    }
    int64_t el = (now(s) - s->count_start) >> divide_shift(s);
    if (el < 0) {
        el = 0;
    }
    if (el >= s->initial_count) {
        if (TIMER_MODE(l) != TIMER_PERIODIC) {
            return 0;
        }
        el %= s->initial_count;
    }
    return s->initial_count - (uint32_t)el;
}

/* ---- registers (SDM table 11-1) ---- */

static uint32_t reg_read(Lapic *s, unsigned reg)
{
    switch (reg) {
    case 0x02: return s->id << 24;
    case 0x03: return 0x00050014; /* version 0x14, 6 LVT entries */
    case 0x08: return s->tpr;
    case 0x09: return 0; /* APR */
    case 0x0a: return ppr(s);
    case 0x0b: return 0; /* EOI: write only */
    case 0x0d: return s->ldr;
    case 0x0e: return s->dfr;
    case 0x0f: return s->svr;
    case 0x28: return s->esr;
    case 0x30: return s->icr_lo & ~(1u << 12); /* delivered at once */
    case 0x31: return s->icr_hi;
    case 0x32: case 0x33: case 0x34: case 0x35: case 0x36: case 0x37:
        return s->lvt[reg - 0x32];
    case 0x38: return s->initial_count;
    case 0x39: return current_count(s);
    case 0x3e: return s->dcr;
    default:
        if (reg >= 0x10 && reg < 0x18) {
            return s->isr[reg - 0x10];
        }
        if (reg >= 0x18 && reg < 0x20) {
            return s->tmr[reg - 0x18];
        }
        if (reg >= 0x20 && reg < 0x28) {
            return s->irr[reg - 0x20];
        }
        return 0;
    }
}

static void do_eoi(Lapic *s)
{
    int v = highest(s->isr);
    if (v < 0) {
        return;
    }
    clear_bit(s->isr, v);
    bool level = test_bit(s->tmr, v);
    update_intr(s);
    if (level && s->eoi_broadcast) {
        s->eoi_broadcast(s->eoi_opaque, v);
    }
}

static void send_ipi(Lapic *s)
{
    unsigned mode = (s->icr_lo >> 8) & 7;
    uint8_t vector = s->icr_lo & 0xff;
    bool level_trig = s->icr_lo & LVT_LEVEL;
    switch ((s->icr_lo >> 18) & 3) {
    case 0: /* destination field */
        lapic_deliver(s, s->icr_hi >> 24, s->icr_lo & (1u << 11), mode,
                      vector, level_trig);
        break;
    case 1: /* self */
    case 2: /* all including self */
        if (mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) {
            accept(s, vector, level_trig);
        } else if (mode == APIC_DM_NMI && s->nmi) {
            s->nmi(s->opaque);
        }
        break;
    default: /* all excluding self: there is no other CPU */
        break;
    }
}

static void reg_write(Lapic *s, unsigned reg, uint32_t v)
{
    switch (reg) {
    case 0x02:
        s->id = v >> 24;
        break;
    case 0x08:
        s->tpr = v & 0xff;
        update_intr(s);
        break;
    case 0x0b:
        do_eoi(s);
        break;
    case 0x0d:
        s->ldr = v & 0xff000000u;
        break;
    case 0x0e:
        s->dfr = v | 0x0fffffffu;
        break;
    case 0x0f:
        s->svr = v & 0x3ff;
        if (!(s->svr & SVR_ENABLE)) {
            /* Software disable masks every LVT entry (SDM 11.4.7.2). */
            for (int i = 0; i < LAPIC_LVT_COUNT; i++) {
                s->lvt[i] |= LVT_MASKED;
            }
        }
        update_intr(s);
        break;
    case 0x28:
        /* A write latches the errors found since the last one. */
        s->esr = s->esr_pending;
        s->esr_pending = 0;
        break;
    case 0x30:
        s->icr_lo = v & 0x000ccfff;
        send_ipi(s);
        break;
    case 0x31:
        s->icr_hi = v & 0xff000000u;
        break;
    case 0x32: case 0x33: case 0x34: case 0x35: case 0x36: case 0x37: {
        int n = reg - 0x32;
        uint32_t old = s->lvt[n];
        v &= lvt_wmask[n];
        if (!(s->svr & SVR_ENABLE)) {
            v |= LVT_MASKED;
        }
        if (n == LVT_TIMER && TIMER_MODE(v) == 3) {
            v &= ~(3u << 17); /* reserved mode: keep one-shot */
        }
        s->lvt[n] = v;
        if (n == LVT_TIMER && TIMER_MODE(old) != TIMER_MODE(v)) {
            /* A mode change disarms the timer (SDM 11.5.4.1). */
            s->initial_count = 0;
            s->tsc_deadline = 0;
            s->count_start = -1;
            timer_schedule(s);
        }
        if (n == LVT_LINT0) {
            update_intr(s);
        }
        break;
    }
    case 0x38:
        if (TIMER_MODE(s->lvt[LVT_TIMER]) == TIMER_TSC_DEADLINE) {
            break; /* ignored in TSC-deadline mode */
        }
        s->initial_count = v;
        s->count_start = now(s);
        timer_schedule(s);
        break;
    case 0x3e: {
        /* Keep the current count running across a divider change. */
        uint32_t cur = current_count(s);
        s->dcr = v & 0xb;
        if (s->initial_count && s->count_start >= 0) {
            s->count_start = now(s) - ((int64_t)(s->initial_count - cur)
                                       << divide_shift(s));
            timer_schedule(s);
        }
        break;
    }
    case 0x03: case 0x09: case 0x0a: case 0x0c: case 0x39:
        break; /* read-only */
    default:
        if (reg >= 0x10 && reg < 0x28) {
            break; /* ISR, TMR, IRR: read-only */
        }
        mimic_log_guest("lapic: write %08x to reserved register %03x\n", v,
                        reg << 4);
        raise_error(s, ESR_ILLEGAL_REG);
        update_intr(s);
        break;
    }
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    Lapic *s = opaque;
    if (!hw_enabled(s)) {
        return 0xffffffffu;
    }
    uint32_t v = reg_read(s, off >> 4);
    unsigned sh = (off & 3) * 8;
    v >>= sh;
    return size >= 4 ? v : v & ((1u << (size * 8)) - 1);
}

static void mmio_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    Lapic *s = opaque;
    if (!hw_enabled(s)) {
        return;
    }
    if (size != 4 || (off & 0xf)) {
        mimic_log_guest("lapic: %u-byte write at %03x ignored\n", size,
                        (unsigned)off);
        return;
    }
    reg_write(s, off >> 4, (uint32_t)v);
}

static const MemOps lapic_ops = {
    .read = mmio_read, .write = mmio_write, .min = 1, .max = 4,
};

bool lapic_msr(void *opaque, uint32_t idx, uint64_t *val, bool wr)
{
    Lapic *s = opaque;
    switch (idx) {
    case 0x1b:
        if (!wr) {
            *val = s->base_msr;
            return true;
        }
        if (*val & ~0xfffff0900ull & 0xffffffffffull) {
            return false; /* reserved bits */
        }
        if (!(s->base_msr & BASE_EN) && (*val & BASE_EN) == 0) {
            s->base_msr = (s->base_msr & ~0xfffff000ull) |
                          (*val & 0xfffff000ull);
        } else {
            s->base_msr = (*val & (0xfffff000ull | BASE_EN)) |
                          (s->base_msr & BASE_BSP);
        }
        if (!(s->base_msr & BASE_EN)) {
            /* Globally disabled: the APIC comes back as after reset,
               but for its base (SDM 11.4.3). */
            timer_del(s->timer);
            s->svr = 0xff;
            for (int i = 0; i < LAPIC_LVT_COUNT; i++) {
                s->lvt[i] = LVT_MASKED;
            }
            memset(s->irr, 0, sizeof(s->irr));
            memset(s->isr, 0, sizeof(s->isr));
            s->extint_pending = false;
        }
        if (s->mmio && memregion_base(s->mmio) !=
                       (s->base_msr & 0xfffff000ull)) {
            memmap_move(s->dev.bus->mem, s->mmio, s->base_msr & 0xfffff000ull);
        }
        update_intr(s);
        return true;
    case 0x6e0:
        if (!wr) {
            *val = (uint64_t)s->tsc_deadline;
            return true;
        }
        if (TIMER_MODE(s->lvt[LVT_TIMER]) == TIMER_TSC_DEADLINE) {
            s->tsc_deadline = (int64_t)(*val > INT64_MAX ? INT64_MAX : *val);
            timer_schedule(s);
        }
        return true;
    case 0x808: /* the TPR, for the CPU's CR8 (SDM 10.8.6.1) */
        if (!wr) {
            *val = s->tpr;
            return true;
        }
        s->tpr = *val & 0xff;
        update_intr(s);
        return true;
    default:
        return false;
    }
}

static void lapic_reset(Device *dev)
{
    Lapic *s = (Lapic *)dev;
    s->base_msr = LAPIC_DEFAULT_BASE | BASE_EN | BASE_BSP;
    if (s->mmio && memregion_base(s->mmio) != LAPIC_DEFAULT_BASE) {
        memmap_move(dev->bus->mem, s->mmio, LAPIC_DEFAULT_BASE);
    }
    s->id = 0;
    s->tpr = 0;
    s->ldr = 0;
    s->dfr = 0xffffffffu;
    s->svr = 0xff;
    s->esr = s->esr_pending = 0;
    s->icr_lo = s->icr_hi = 0;
    memset(s->isr, 0, sizeof(s->isr));
    memset(s->irr, 0, sizeof(s->irr));
    memset(s->tmr, 0, sizeof(s->tmr));
    for (int i = 0; i < LAPIC_LVT_COUNT; i++) {
        s->lvt[i] = LVT_MASKED;
    }
    /* The BSP's LINT0 starts as virtual wire (ExtINT), so the 8259 reaches
       the CPU whatever the firmware does (as QEMU's pc). */
    s->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
    s->initial_count = 0;
    s->dcr = 0;
    s->count_start = -1;
    s->tsc_deadline = 0;
    s->extint_pending = false;
    timer_del(s->timer);
    update_intr(s);
}

static bool lapic_realize(Device *dev, GError **error)
{
    Lapic *s = (Lapic *)dev;
    s->timer = timer_new(dev->bus->clock, timer_cb, s);
    s->mmio = memmap_add_mmio(dev->bus->mem, "lapic", LAPIC_DEFAULT_BASE,
                              0x1000, &lapic_ops, s, 2);
    return true;
}

static void lapic_finalize(Device *dev)
{
    Lapic *s = (Lapic *)dev;
    timer_free(s->timer);
}

static bool lapic_post_load(void *obj, GError **error)
{
    Lapic *s = obj;
    if ((s->base_msr & ~0xfffff0900ull) || s->svr > 0x3ff ||
        TIMER_MODE(s->lvt[LVT_TIMER]) == 3) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "lapic: invalid base %llx, SVR %x or timer mode",
                    (unsigned long long)s->base_msr, s->svr);
        return false;
    }
    for (int i = 0; i < LAPIC_LVT_COUNT; i++) {
        s->lvt[i] &= lvt_wmask[i];
    }
    s->tpr &= 0xff;
    s->dcr &= 0xb;
    if (s->mmio && memregion_base(s->mmio) != (s->base_msr & 0xfffff000ull)) {
        memmap_move(s->dev.bus->mem, s->mmio, s->base_msr & 0xfffff000ull);
    }
    update_intr(s);
    return true;
}

static const StateDesc lapic_state = {
    .name = "lapic", .version = 1, .post_load = lapic_post_load,
    .fields = (const StateField[]) {
        STATE_U64(Lapic, base_msr), STATE_U32(Lapic, id),
        STATE_U32(Lapic, tpr), STATE_U32(Lapic, ldr), STATE_U32(Lapic, dfr),
        STATE_U32(Lapic, svr), STATE_U32(Lapic, esr),
        STATE_U32(Lapic, esr_pending), STATE_U32(Lapic, icr_lo),
        STATE_U32(Lapic, icr_hi), STATE_U32_ARRAY(Lapic, isr, 8),
        STATE_U32_ARRAY(Lapic, irr, 8), STATE_U32_ARRAY(Lapic, tmr, 8),
        STATE_U32_ARRAY(Lapic, lvt, LAPIC_LVT_COUNT),
        STATE_U32(Lapic, initial_count), STATE_U32(Lapic, dcr),
        STATE_I64(Lapic, count_start), STATE_I64(Lapic, tsc_deadline),
        STATE_BOOL(Lapic, lint0), STATE_BOOL(Lapic, lint1),
        STATE_BOOL(Lapic, extint_pending), STATE_BOOL(Lapic, intr),
        STATE_END },
};

const DeviceInfo lapic_info = {
    .name = "lapic", .size = sizeof(Lapic), .state = &lapic_state,
    .reset = lapic_reset, .realize = lapic_realize,
    .finalize = lapic_finalize,
};
