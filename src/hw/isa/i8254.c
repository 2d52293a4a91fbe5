/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 8254 PIT (see i8254.h).
 * Reference: Intel 8254 data sheet: "Control Word Format", "Read-Back
 * Command", "Mode Definitions" (modes 0-5), counter latch.  Counts are
 * derived from virtual time at 1.193182 MHz, so nothing runs per tick;
 * channel 0 arms one clock timer for its next output edge.
 */
#include "hw/isa/i8254.h"

#include "bus/log.h"

#define RW_LSB 1
#define RW_MSB 2
#define RW_WORD0 3
#define RW_WORD1 4

static int64_t ns_to_ticks(int64_t ns)
{
    return (int64_t)((__int128)ns * PIT_FREQ / 1000000000);
}

static int64_t ticks_to_ns(int64_t ticks)
{
    return (int64_t)(((__int128)ticks * 1000000000 + PIT_FREQ - 1) /
                     PIT_FREQ);
}

static int64_t now(I8254 *s)
{
    return clock_now(s->dev.bus->clock);
}

static int64_t elapsed(I8254 *s, PitChannel *c)
{
    return ns_to_ticks(now(s) - c->count_load_time);
}

static int get_count(I8254 *s, PitChannel *c)
{
    int64_t d = elapsed(s, c);
    int64_t counter;
    switch (c->mode) {
    case 0:
    case 1:
    case 4:
    case 5:
        counter = (c->count - d) & 0xffff;
        break;
    case 3:
        counter = c->count - ((2 * d) % c->count);
        break;
    default: /* 2 */
        counter = c->count - (d % c->count);
        break;
    }
    return counter;
}

static bool get_out(PitChannel *c, int64_t d)
{
    switch (c->mode) {
    default:
    case 0:
        return d >= c->count;
    case 1:
        return d < c->count;
    case 2:
        return (d % c->count) != 0 || d == 0;
    case 3:
        return (d % c->count) < ((c->count + 1) >> 1);
    case 4:
    case 5:
        return d != c->count;
    }
}

/* Ticks (from load) of the next output transition after d, or -1. */
static int64_t next_transition(PitChannel *c, int64_t d)
{
    uint64_t period = c->count;
    switch (c->mode) {
    default:
    case 0:
    case 1:
        /* int64_t: with the uint32_t count, -1 would become 2^32 - 1 */
        return d < c->count ? (int64_t)c->count : -1;
    case 2: {
        int64_t base = d - d % period;
        if (d - base == 0) {
            return base + 1;
        }
        return base + period;
    }
    case 3: {
        int64_t base = d - d % period;
        int64_t half = (period + 1) >> 1;
        return d - base < half ? base + half : base + period;
    }
    case 4:
    case 5:
        if (d < c->count) {
            return c->count;
        }
        return d == c->count ? (int64_t)c->count + 1 : -1;
    }
}

/* Evaluate channel 0's output at virtual time `at` and arm the timer for
   the next transition; a late timer replays each edge at its own time. */
static void irq_timer_update_at(I8254 *s, int64_t at)
{
    PitChannel *c = &s->ch[0];
    int64_t d = ns_to_ticks(at - c->count_load_time);
    bool out = c->gate ? get_out(c, d) : (c->mode == 0 ? get_out(c, d) : true);
    if (out != c->irq_level) {
        c->irq_level = out;
        irq_set(s->irq0, out);
    }
    int64_t next = (c->gate && !c->null_count) ? next_transition(c, d) : -1;
    if (next < 0) {
        timer_del(s->timer);
        return;
    }
    c->next_irq_time = c->count_load_time + ticks_to_ns(next);
    timer_mod(s->timer, c->next_irq_time);
}

static void irq_timer_update(I8254 *s)
{
    irq_timer_update_at(s, now(s));
}

static void pit_timer_cb(void *opaque)
{
    I8254 *s = opaque;
    irq_timer_update_at(s, s->ch[0].next_irq_time);
}

/* OUT of a channel at d ticks after its load: with the gate low, modes 2
   and 3 hold OUT high; mode 0 keeps its level (counting is not paused in
   this model); modes 1 and 5 only look at gate edges. */
static bool out_level(PitChannel *c, int64_t d)
{
    if (!c->gate && (c->mode == 2 || c->mode == 3)) {
        return true;
    }
    return get_out(c, d);
}

static void speaker_notify(I8254 *s)
{
    if (s->speaker_changed) {
        s->speaker_changed(s->speaker_opaque);
    }
}

void i8254_speaker_get(I8254 *s, PcSpeakerState *st)
{
    PitChannel *c = &s->ch[2];
    st->gate = s->port61 & 1;
    st->data = s->port61 & 2;
    st->out2 = out_level(c, elapsed(s, c));
    st->mode = c->mode;
    st->count = c->count;
    /* A tone only comes from mode 3 (square wave) with a running gate;
       other modes give single edges that a sampler must follow. */
    st->tone_hz = (st->gate && st->data && c->mode == 3 && !c->null_count)
                  ? (double)PIT_FREQ / c->count : 0.0;
}

static void load_count(I8254 *s, int n, uint32_t val)
{
    PitChannel *c = &s->ch[n];
    if (val == 0) {
        val = 0x10000;
    }
    c->count_load_time = now(s);
    c->count = val;
    c->null_count = false;
    if (n == 0) {
        irq_timer_update(s);
    } else if (n == 2) {
        speaker_notify(s);
    }
}

static void latch_count(I8254 *s, PitChannel *c)
{
    if (!c->count_latched) {
        c->latched_count = get_count(s, c);
        c->count_latched = c->rw_mode;
    }
}

static uint16_t to_bcd(uint16_t v)
{
    v %= 10000;
    return (v % 10) | ((v / 10 % 10) << 4) | ((v / 100 % 10) << 8) |
           ((v / 1000) << 12);
}

static uint16_t from_bcd(uint16_t v)
{
    return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 +
           ((v >> 12) & 0xf) * 1000;
}

static uint32_t pit_read(void *opaque, uint16_t off, unsigned size)
{
    I8254 *s = opaque;
    if (off == 3) {
        return 0xff; /* the control word register is write-only */
    }
    PitChannel *c = &s->ch[off];
    if (c->status_latched) {
        c->status_latched = 0;
        return c->status;
    }
    if (c->count_latched) {
        uint16_t v = c->bcd ? to_bcd(c->latched_count) : c->latched_count;
        switch (c->count_latched) {
        case RW_LSB:
            c->count_latched = 0;
            return v & 0xff;
        case RW_MSB:
            c->count_latched = 0;
            return v >> 8;
        default: /* word: LSB first, then MSB */
            c->count_latched = RW_MSB;
            return v & 0xff;
        }
    }
    uint16_t v = get_count(s, c);
    if (c->bcd) {
        v = to_bcd(v);
    }
    switch (c->read_state) {
    case RW_LSB:
        return v & 0xff;
    case RW_MSB:
        return v >> 8;
    case RW_WORD0:
        c->read_state = RW_WORD1;
        return v & 0xff;
    default:
        c->read_state = RW_WORD0;
        return v >> 8;
    }
}

static void pit_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    I8254 *s = opaque;
    if (off == 3) {
        int n = v >> 6;
        if (n == 3) { /* read-back command */
            for (int i = 0; i < 3; i++) {
                if (!(v & (2 << i))) {
                    continue;
                }
                PitChannel *c = &s->ch[i];
                if (!(v & 0x20)) {
                    latch_count(s, c);
                }
                if (!(v & 0x10) && !c->status_latched) {
                    bool out = get_out(c, elapsed(s, c));
                    c->status = (out << 7) | (c->null_count << 6) |
                                (c->rw_mode << 4) | (c->mode << 1) | c->bcd;
                    c->status_latched = 1;
                }
            }
            return;
        }
        PitChannel *c = &s->ch[n];
        int access = (v >> 4) & 3;
        if (access == 0) {
            latch_count(s, c);
            return;
        }
        c->rw_mode = access;
        c->read_state = access;
        c->write_state = access;
        c->mode = (v >> 1) & 7;
        if (c->mode > 5) {
            c->mode -= 4; /* modes 6 and 7 alias 2 and 3 */
        }
        c->bcd = v & 1;
        c->null_count = true;
        if (n == 0) {
            irq_timer_update(s);
        } else if (n == 2) {
            speaker_notify(s);
        }
        return;
    }
    PitChannel *c = &s->ch[off];
    switch (c->write_state) {
    case RW_LSB:
        load_count(s, off, c->bcd ? from_bcd(v & 0xff) : (v & 0xff));
        break;
    case RW_MSB:
        load_count(s, off, c->bcd ? from_bcd((v & 0xff) << 8)
                                  : ((v & 0xff) << 8));
        break;
    case RW_WORD0:
        c->write_latch = v;
        c->write_state = RW_WORD1;
        break;
    default: {
        uint16_t w = c->write_latch | ((v & 0xff) << 8);
        load_count(s, off, c->bcd ? from_bcd(w) : w);
        c->write_state = RW_WORD0;
        break;
    }
    }
}

static void set_gate(I8254 *s, int n, bool gate)
{
    PitChannel *c = &s->ch[n];
    if (!c->gate && gate && (c->mode == 1 || c->mode == 5 || c->mode == 2 ||
                             c->mode == 3)) {
        /* A rising gate edge (re)starts counting in these modes. */
        c->count_load_time = now(s);
    }
    c->gate = gate;
    if (n == 0) {
        irq_timer_update(s);
    }
}

static uint32_t port61_read(void *opaque, uint16_t off, unsigned size)
{
    I8254 *s = opaque;
    PitChannel *c = &s->ch[2];
    bool out2 = out_level(c, elapsed(s, c));
    /* Bit 4 toggles with DRAM refresh, every 15.085 us. */
    bool refresh = (now(s) / 15085) & 1;
    return (s->port61 & 0x0f) | (refresh << 4) | (out2 << 5);
}

static void port61_write(void *opaque, uint16_t off, uint32_t v,
                         unsigned size)
{
    I8254 *s = opaque;
    uint8_t old = s->port61;
    s->port61 = v & 0x0f;
    set_gate(s, 2, v & 1);
    if ((old ^ s->port61) & 3) {
        speaker_notify(s);
    }
}

static void i8254_reset(Device *dev)
{
    I8254 *s = (I8254 *)dev;
    for (int i = 0; i < 3; i++) {
        PitChannel *c = &s->ch[i];
        *c = (PitChannel){ 0 };
        c->mode = 3;
        c->gate = i != 2;
        c->count = 0x10000;
        c->count_load_time = now(s);
    }
    s->port61 = 0;
    /* Counting starts at power-on in mode 3, as the BIOS expects. */
    s->ch[0].irq_level = false;
    irq_lower(s->irq0);
    irq_timer_update(s);
}

static bool i8254_realize(Device *dev, GError **error)
{
    I8254 *s = (I8254 *)dev;
    s->timer = timer_new(dev->bus->clock, pit_timer_cb, s);
    return true;
}

static void i8254_finalize(Device *dev)
{
    I8254 *s = (I8254 *)dev;
    timer_free(s->timer);
}

static bool i8254_post_load(void *obj, GError **error)
{
    I8254 *s = obj;
    for (int i = 0; i < 3; i++) {
        PitChannel *c = &s->ch[i];
        if (c->count == 0 || c->count > 0x10000 || c->mode > 5 ||
            c->rw_mode > 3 || c->read_state > RW_WORD1 ||
            c->write_state > RW_WORD1 || c->count_latched > RW_WORD1) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                        "i8254: channel %d state out of range", i);
            return false;
        }
    }
    s->ch[0].irq_level = !s->ch[0].irq_level; /* force a resync */
    irq_timer_update(s);
    return true;
}

static const IoRegion i8254_io[] = {
    { .base = 0x40, .len = 4, .min = 1, .max = 1, .read = pit_read,
      .write = pit_write, .name = "pit" },
    { .base = 0x61, .len = 1, .min = 1, .max = 1, .read = port61_read,
      .write = port61_write, .name = "port61" },
    { 0 },
};

static const StateField pit_channel_fields[] = {
    STATE_U32(PitChannel, count), STATE_U16(PitChannel, latched_count),
    STATE_U8(PitChannel, count_latched), STATE_U8(PitChannel, status_latched),
    STATE_U8(PitChannel, status), STATE_U8(PitChannel, read_state),
    STATE_U8(PitChannel, write_state), STATE_U8(PitChannel, write_latch),
    STATE_U8(PitChannel, rw_mode), STATE_U8(PitChannel, mode),
    STATE_U8(PitChannel, bcd), STATE_BOOL(PitChannel, gate),
    STATE_BOOL(PitChannel, null_count), STATE_I64(PitChannel, count_load_time),
    STATE_I64(PitChannel, next_irq_time), STATE_BOOL(PitChannel, irq_level),
    STATE_END,
};

static const StateDesc i8254_state = {
    .name = "i8254", .version = 1, .min_version = 1,
    .post_load = i8254_post_load,
    .fields = (const StateField[]) {
        STATE_STRUCT_ARRAY(I8254, ch, 3, pit_channel_fields),
        STATE_U8(I8254, port61), STATE_END },
};

const DeviceInfo i8254_info = {
    .name = "i8254", .size = sizeof(I8254), .io = i8254_io,
    .state = &i8254_state, .reset = i8254_reset, .realize = i8254_realize,
    .finalize = i8254_finalize,
};
