/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * I/O APIC (see ioapic.h).  Redirection entry (82093AA datasheet 3.2.4):
 * vector 7:0, delivery mode 10:8, destination mode 11, delivery status
 * 12 (read-only), polarity 13, Remote IRR 14 (read-only), trigger mode 15
 * (1 = level), mask 16, destination 63:56.
 */
#include "hw/intc/ioapic.h"

#include "bus/log.h"

#define RE_DELIVS (1ull << 12)
#define RE_REMOTE_IRR (1ull << 14)
#define RE_LEVEL (1ull << 15)
#define RE_MASKED (1ull << 16)
#define RE_RO (RE_DELIVS | RE_REMOTE_IRR)
#define RE_WMASK (0xff00000000000000ull | 0x1ffffull)

static void service(Ioapic *s, int pin)
{
    uint64_t e = s->redir[pin];
    if (!(s->level & (1u << pin)) || (e & RE_MASKED)) {
        return;
    }
    bool level_trig = e & RE_LEVEL;
    if (level_trig) {
        if (e & RE_REMOTE_IRR) {
            return;
        }
        s->redir[pin] |= RE_REMOTE_IRR;
    }
    if (s->deliver) {
        s->deliver(s->opaque, e >> 56, e & (1u << 11), (e >> 8) & 7,
                   e & 0xff, level_trig);
    }
}

void ioapic_set_irq(Ioapic *s, int pin, bool level)
{
    if (pin < 0 || pin >= IOAPIC_PINS) {
        return;
    }
    uint32_t bit = 1u << pin;
    bool was = s->level & bit;
    if (level) {
        s->level |= bit;
    } else {
        s->level &= ~bit;
    }
    /* Edge: a rising edge sends once; level: sent while asserted and no
       EOI outstanding. */
    if (level && (!was || (s->redir[pin] & RE_LEVEL))) {
        service(s, pin);
    }
}

void ioapic_eoi(void *opaque, uint8_t vector)
{
    Ioapic *s = opaque;
    for (int i = 0; i < IOAPIC_PINS; i++) {
        uint64_t e = s->redir[i];
        if ((e & RE_LEVEL) && (e & RE_REMOTE_IRR) && (e & 0xff) == vector) {
            s->redir[i] &= ~RE_REMOTE_IRR;
            service(s, i);
        }
    }
}

static uint32_t data_read(Ioapic *s)
{
    switch (s->sel) {
    case 0x00: return s->id << 24;
    case 0x01: return ((IOAPIC_PINS - 1) << 16) | 0x11;
    case 0x02: return s->id << 24; /* arbitration ID */
    default:
        if (s->sel >= 0x10 && s->sel < 0x10 + 2 * IOAPIC_PINS) {
            uint64_t e = s->redir[(s->sel - 0x10) / 2];
            return (s->sel & 1) ? e >> 32 : (uint32_t)e;
        }
        return 0;
    }
}

static void data_write(Ioapic *s, uint32_t v)
{
    if (s->sel == 0x00) {
        s->id = (v >> 24) & 0xf;
        return;
    }
    if (s->sel < 0x10 || s->sel >= 0x10 + 2 * IOAPIC_PINS) {
        return;
    }
    int pin = (s->sel - 0x10) / 2;
    uint64_t e = s->redir[pin];
    if (s->sel & 1) {
        e = (e & 0xffffffffull) | ((uint64_t)v << 32);
    } else {
        e = (e & ~0xffffffffull) | v;
    }
    s->redir[pin] = (e & RE_WMASK & ~RE_RO) | (s->redir[pin] & RE_RO);
    if (!(s->redir[pin] & RE_LEVEL)) {
        s->redir[pin] &= ~RE_REMOTE_IRR;
    }
    /* Unmasking an asserted level pin sends it. */
    if (s->redir[pin] & RE_LEVEL) {
        service(s, pin);
    }
}

static uint64_t ioapic_read(void *opaque, uint64_t off, unsigned size)
{
    Ioapic *s = opaque;
    switch (off) {
    case 0x00: return s->sel;
    case 0x10: return data_read(s);
    default: return 0;
    }
}

static void ioapic_write(void *opaque, uint64_t off, uint64_t v,
                         unsigned size)
{
    Ioapic *s = opaque;
    switch (off) {
    case 0x00:
        s->sel = v & 0xff;
        break;
    case 0x10:
        data_write(s, (uint32_t)v);
        break;
    default:
        mimic_log_guest("ioapic: write %08x at +%02x ignored\n",
                        (uint32_t)v, (unsigned)off);
        break;
    }
}

static const MemOps ioapic_ops = {
    .read = ioapic_read, .write = ioapic_write, .min = 4, .max = 4,
};

static void ioapic_reset(Device *dev)
{
    Ioapic *s = (Ioapic *)dev;
    s->id = 0;
    s->sel = 0;
    for (int i = 0; i < IOAPIC_PINS; i++) {
        s->redir[i] = RE_MASKED;
    }
}

static bool ioapic_realize(Device *dev, GError **error)
{
    Ioapic *s = (Ioapic *)dev;
    memmap_add_mmio(dev->bus->mem, "ioapic", IOAPIC_DEFAULT_BASE, 0x1000,
                    &ioapic_ops, s, 2);
    return true;
}

static bool ioapic_post_load(void *obj, GError **error)
{
    Ioapic *s = obj;
    s->sel &= 0xff;
    s->id &= 0xf;
    s->level &= (1u << IOAPIC_PINS) - 1;
    for (int i = 0; i < IOAPIC_PINS; i++) {
        s->redir[i] &= RE_WMASK | RE_RO;
    }
    return true;
}

static const StateDesc ioapic_state = {
    .name = "ioapic", .version = 1, .post_load = ioapic_post_load,
    .fields = (const StateField[]) {
        STATE_U32(Ioapic, id), STATE_U32(Ioapic, sel),
        STATE_U32(Ioapic, level),
        STATE_U64_ARRAY(Ioapic, redir, IOAPIC_PINS), STATE_END },
};

const DeviceInfo ioapic_info = {
    .name = "ioapic", .size = sizeof(Ioapic), .state = &ioapic_state,
    .reset = ioapic_reset, .realize = ioapic_realize,
};
