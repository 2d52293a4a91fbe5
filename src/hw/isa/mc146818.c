/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MC146818 RTC + CMOS (see mc146818.h).
 * Reference: Motorola MC146818A data sheet: registers A-D, BCD/binary and
 * 12/24-hour formats, update cycle (UIP is set 244 us before each update),
 * periodic rates, alarm with "don't care" values (0xc0-0xff).  The clock
 * is the guest's wall time at start (host time, UTC or local, or a given
 * date) plus virtual time elapsed, so it stops while the machine is paused
 * and is deterministic under -icount.
 */
#include "hw/isa/mc146818.h"

#include <time.h>

#include "bus/log.h"

#define REG_B_SET 0x80
#define REG_B_PIE 0x40
#define REG_B_AIE 0x20
#define REG_B_UIE 0x10
#define REG_B_DM 0x04
#define REG_B_24H 0x02
#define REG_C_IRQF 0x80
#define REG_C_PF 0x40
#define REG_C_AF 0x20
#define REG_C_UF 0x10
#define NS 1000000000LL

static int64_t vnow(Mc146818 *s)
{
    return clock_now(s->dev.bus->clock);
}

static int64_t guest_time(Mc146818 *s)
{
    int64_t d = vnow(s) - s->base_ns;
    return s->base_sec + (d >= 0 ? d / NS : -((-d + NS - 1) / NS));
}

static uint8_t to_reg(Mc146818 *s, int v)
{
    if (s->cmos[RTC_REG_B] & REG_B_DM) {
        return v;
    }
    return ((v / 10) << 4) | (v % 10);
}

static int from_reg(Mc146818 *s, uint8_t v)
{
    if (s->cmos[RTC_REG_B] & REG_B_DM) {
        return v;
    }
    return (v >> 4) * 10 + (v & 0x0f);
}

static void time_to_regs(Mc146818 *s)
{
    time_t t = guest_time(s);
    struct tm tm;
    gmtime_r(&t, &tm);
    s->cmos[0] = to_reg(s, tm.tm_sec);
    s->cmos[2] = to_reg(s, tm.tm_min);
    if (s->cmos[RTC_REG_B] & REG_B_24H) {
        s->cmos[4] = to_reg(s, tm.tm_hour);
    } else {
        int h = tm.tm_hour % 12;
        s->cmos[4] = to_reg(s, h ? h : 12) | (tm.tm_hour >= 12 ? 0x80 : 0);
    }
    s->cmos[6] = to_reg(s, tm.tm_wday + 1);
    s->cmos[7] = to_reg(s, tm.tm_mday);
    s->cmos[8] = to_reg(s, tm.tm_mon + 1);
    s->cmos[9] = to_reg(s, tm.tm_year % 100);
    s->cmos[RTC_CENTURY] = to_reg(s, (tm.tm_year + 1900) / 100);
}

static void regs_to_time(Mc146818 *s)
{
    struct tm tm = { 0 };
    tm.tm_sec = from_reg(s, s->cmos[0]);
    tm.tm_min = from_reg(s, s->cmos[2]);
    int h = from_reg(s, s->cmos[4] & 0x7f);
    if (!(s->cmos[RTC_REG_B] & REG_B_24H)) {
        h %= 12;
        if (s->cmos[4] & 0x80) {
            h += 12;
        }
    }
    tm.tm_hour = h;
    tm.tm_mday = from_reg(s, s->cmos[7]);
    tm.tm_mon = from_reg(s, s->cmos[8]) - 1;
    int century = from_reg(s, s->cmos[RTC_CENTURY]);
    if (century < 19 || century > 30) {
        century = 20;
    }
    tm.tm_year = century * 100 + from_reg(s, s->cmos[9]) - 1900;
    /* Out-of-range values from the guest: timegm normalizes them. */
    int64_t t = timegm(&tm);
    s->base_sec = t == -1 ? 0 : t;
    s->base_ns = vnow(s);
    s->last_sec = s->base_sec; /* the guest set this second itself */
}

static void raise_flags(Mc146818 *s, uint8_t flags)
{
    s->cmos[RTC_REG_C] |= flags;
    /* PF/AF/UF (register C bits 6-4) pair with PIE/AIE/UIE (B bits 6-4). */
    uint8_t en = s->cmos[RTC_REG_B] & (REG_B_PIE | REG_B_AIE | REG_B_UIE);
    if (s->cmos[RTC_REG_C] & en & 0x70) {
        if (!(s->cmos[RTC_REG_C] & REG_C_IRQF)) {
            s->cmos[RTC_REG_C] |= REG_C_IRQF;
            irq_raise(s->irq);
        }
    }
}

static int64_t periodic_ns(Mc146818 *s)
{
    int rate = s->cmos[RTC_REG_A] & 0x0f;
    if (rate == 0) {
        return 0;
    }
    if (rate <= 2) {
        rate += 7;
    }
    return (NS << (rate - 1)) / 32768;
}

static void periodic_arm(Mc146818 *s)
{
    int64_t p = periodic_ns(s);
    if (p && (s->cmos[RTC_REG_B] & REG_B_PIE) &&
        ((s->cmos[RTC_REG_A] >> 4) & 7) == 2) {
        int64_t n = vnow(s);
        timer_mod(s->periodic, n - (n % p) + p);
    } else {
        timer_del(s->periodic);
    }
}

static void periodic_cb(void *opaque)
{
    Mc146818 *s = opaque;
    raise_flags(s, REG_C_PF);
    periodic_arm(s);
}

static bool alarm_matches(Mc146818 *s)
{
    time_to_regs(s);
    static const int pairs[3][2] = { { 1, 0 }, { 3, 2 }, { 5, 4 } };
    for (int i = 0; i < 3; i++) {
        uint8_t a = s->cmos[pairs[i][0]];
        if ((a & 0xc0) != 0xc0 && a != s->cmos[pairs[i][1]]) {
            return false;
        }
    }
    return true;
}

static void second_arm(Mc146818 *s)
{
    if (s->cmos[RTC_REG_B] & (REG_B_UIE | REG_B_AIE)) {
        int64_t into = (vnow(s) - s->base_ns) % NS;
        if (into < 0) {
            into += NS;
        }
        timer_mod(s->second, vnow(s) - into + NS);
    } else {
        timer_del(s->second);
    }
}

/* The update cycle of the current second, once: UF, and AF when the
   alarm matches.  Runs from the timer (UIE/AIE) and, for guests that
   poll register C with those interrupts off, when C is read. */
static void update_ended(Mc146818 *s)
{
    if (s->cmos[RTC_REG_B] & REG_B_SET) {
        return;
    }
    int64_t t = guest_time(s);
    if (t == s->last_sec) {
        return;
    }
    s->last_sec = t;
    uint8_t f = REG_C_UF;
    if (alarm_matches(s)) {
        f |= REG_C_AF;
    }
    raise_flags(s, f);
}

static void second_cb(void *opaque)
{
    Mc146818 *s = opaque;
    update_ended(s);
    second_arm(s);
}

static uint32_t rtc_read(void *opaque, uint16_t off, unsigned size)
{
    Mc146818 *s = opaque;
    if (off == 0) {
        return 0xff;
    }
    uint8_t i = s->index;
    switch (i) {
    case 0: case 2: case 4: case 6: case 7: case 8: case 9: case RTC_CENTURY:
        if (!(s->cmos[RTC_REG_B] & REG_B_SET)) {
            time_to_regs(s);
        }
        return s->cmos[i];
    case RTC_REG_A: {
        int64_t into = (vnow(s) - s->base_ns) % NS;
        if (into < 0) {
            into += NS;
        }
        bool uip = !(s->cmos[RTC_REG_B] & REG_B_SET) && into >= NS - 244000;
        return (s->cmos[RTC_REG_A] & 0x7f) | (uip ? 0x80 : 0);
    }
    case RTC_REG_C: {
        update_ended(s);
        uint8_t v = s->cmos[RTC_REG_C];
        s->cmos[RTC_REG_C] = 0;
        irq_lower(s->irq);
        return v;
    }
    case RTC_REG_D:
        return 0x80; /* valid RAM and time */
    default:
        return s->cmos[i];
    }
}

static void rtc_write(void *opaque, uint16_t off, uint32_t val,
                      unsigned size)
{
    Mc146818 *s = opaque;
    if (off == 0) {
        s->index = val & 0x7f;
        s->nmi_disabled = val & 0x80;
        return;
    }
    uint8_t i = s->index;
    switch (i) {
    case 0: case 2: case 4: case 6: case 7: case 8: case 9: case RTC_CENTURY:
        if (!(s->cmos[RTC_REG_B] & REG_B_SET)) {
            time_to_regs(s);
        }
        s->cmos[i] = val;
        if (!(s->cmos[RTC_REG_B] & REG_B_SET)) {
            regs_to_time(s);
        }
        break;
    case RTC_REG_A:
        s->cmos[i] = val & 0x7f;
        periodic_arm(s);
        break;
    case RTC_REG_B: {
        bool was_set = s->cmos[RTC_REG_B] & REG_B_SET;
        if (!was_set && (val & REG_B_SET)) {
            time_to_regs(s); /* freeze the registers */
        }
        if (((val ^ s->cmos[RTC_REG_B]) & (REG_B_DM | REG_B_24H))) {
            time_to_regs(s);
            s->cmos[RTC_REG_B] = (s->cmos[RTC_REG_B] & ~(REG_B_DM |
                                  REG_B_24H)) | (val & (REG_B_DM | REG_B_24H));
            if (!(val & REG_B_SET)) {
                time_to_regs(s);
            }
        }
        s->cmos[RTC_REG_B] = val;
        if (val & REG_B_SET) {
            s->cmos[RTC_REG_B] &= ~REG_B_UIE;
        }
        if (was_set && !(val & REG_B_SET)) {
            regs_to_time(s);
        }
        periodic_arm(s);
        second_arm(s);
        break;
    }
    case RTC_REG_C:
    case RTC_REG_D:
        break; /* read-only */
    default:
        s->cmos[i] = val;
        break;
    }
}

void mc146818_set_cmos(Mc146818 *s, int index, uint8_t value)
{
    if (index >= 0 && index < 128) {
        s->cmos[index] = value;
    }
}

void mc146818_set_time(Mc146818 *s, int64_t unix_seconds)
{
    s->base_sec = unix_seconds;
    s->base_ns = vnow(s);
    s->last_sec = unix_seconds;
}

static void mc146818_reset(Device *dev)
{
    Mc146818 *s = (Mc146818 *)dev;
    s->cmos[RTC_REG_A] = 0x26;
    s->cmos[RTC_REG_B] = REG_B_24H;
    s->cmos[RTC_REG_C] = 0;
    s->cmos[RTC_REG_D] = 0x80;
    irq_lower(s->irq);
    timer_del(s->periodic);
    timer_del(s->second);
}

static bool mc146818_realize(Device *dev, GError **error)
{
    Mc146818 *s = (Mc146818 *)dev;
    s->periodic = timer_new(dev->bus->clock, periodic_cb, s);
    s->second = timer_new(dev->bus->clock, second_cb, s);
    return true;
}

static void mc146818_finalize(Device *dev)
{
    Mc146818 *s = (Mc146818 *)dev;
    timer_free(s->periodic);
    timer_free(s->second);
}

static bool mc146818_post_load(void *obj, GError **error)
{
    Mc146818 *s = obj;
    if (s->index > 127) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "mc146818: index out of range");
        return false;
    }
    periodic_arm(s);
    second_arm(s);
    return true;
}

static const IoRegion mc146818_io[] = {
    { .base = 0x70, .len = 2, .min = 1, .max = 1, .read = rtc_read,
      .write = rtc_write, .name = "rtc" },
    { 0 },
};

static const StateDesc mc146818_state = {
    .name = "mc146818", .version = 1, .min_version = 1,
    .post_load = mc146818_post_load,
    .fields = (const StateField[]) {
        STATE_U8_ARRAY(Mc146818, cmos, 128), STATE_U8(Mc146818, index),
        STATE_BOOL(Mc146818, nmi_disabled), STATE_I64(Mc146818, base_sec),
        STATE_I64(Mc146818, base_ns), STATE_I64(Mc146818, last_sec),
        STATE_END },
};

const DeviceInfo mc146818_info = {
    .name = "mc146818", .size = sizeof(Mc146818), .io = mc146818_io,
    .state = &mc146818_state, .reset = mc146818_reset,
    .realize = mc146818_realize, .finalize = mc146818_finalize,
};
