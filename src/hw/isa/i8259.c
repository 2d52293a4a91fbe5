/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 8259A PIC pair (see i8259.h).
 * Reference: Intel 8259A data sheet: ICW1-ICW4, OCW1-OCW3, priority
 * rotation, special mask mode, poll command, auto-EOI; PIIX3 data sheet
 * for ELCR.  Edge-triggered inputs latch a rising edge in IRR;
 * level-triggered inputs follow the line.  An INTA with nothing pending
 * returns the spurious vector (IR7 of the unit).
 */
#include "hw/isa/i8259.h"

#include "bus/log.h"

static int priority(PicUnit *p, uint8_t mask)
{
    if (!mask) {
        return 8;
    }
    int prio = 0;
    while (!(mask & (1 << ((prio + p->priority_add) & 7)))) {
        prio++;
    }
    return prio;
}

/* Highest-priority pending (unmasked, not in service) IRQ, or -1. */
static int get_irq(PicUnit *p)
{
    uint8_t mask = p->irr & ~p->imr;
    int prio = priority(p, mask);
    if (prio == 8) {
        return -1;
    }
    uint8_t cur = p->isr;
    if (p->special_mask) {
        cur &= ~p->imr;
    }
    int cur_prio = priority(p, cur);
    if (prio < cur_prio) {
        return (prio + p->priority_add) & 7;
    }
    return -1;
}

/* Recompute the master's INTR output and tell the CPU when it changed
   (always when force). */
static void update_output(I8259 *s, bool force)
{
    PicUnit *m = &s->pic[0], *sl = &s->pic[1];
    /* Slave output drives master IR2 (edge: treat as level of output). */
    int irq2 = get_irq(sl);
    if (irq2 >= 0) {
        m->irr |= 1 << 2;
    } else if (!(m->elcr & 4)) {
        m->irr &= ~(1 << 2);
    }
    bool intr = get_irq(m) >= 0;
    if (intr != s->intr || force) {
        s->intr = intr;
        if (s->set_intr) {
            s->set_intr(s->intr_opaque, intr);
        }
    }
}

static void update(I8259 *s)
{
    update_output(s, false);
}

static void unit_set_irq(PicUnit *p, int irq, bool level)
{
    uint8_t bit = 1 << irq;
    if (p->elcr & bit) {
        if (level) {
            p->irr |= bit;
            p->last_irr |= bit;
        } else {
            p->irr &= ~bit;
            p->last_irr &= ~bit;
        }
    } else {
        if (level) {
            if (!(p->last_irr & bit)) {
                p->irr |= bit;
            }
            p->last_irr |= bit;
        } else {
            p->last_irr &= ~bit;
        }
    }
}

void i8259_set_irq(I8259 *s, int n, bool level)
{
    if (n < 0 || n > 15) {
        return;
    }
    unit_set_irq(&s->pic[n >> 3], n & 7, level);
    update(s);
}

void i8259_irq_handler(void *opaque, int n, bool level)
{
    i8259_set_irq(opaque, n, level);
}

static void intack(PicUnit *p, int irq)
{
    if (p->auto_eoi) {
        if (p->rotate_on_auto_eoi) {
            p->priority_add = (irq + 1) & 7;
        }
    } else {
        p->isr |= 1 << irq;
    }
    if (!(p->elcr & (1 << irq))) {
        p->irr &= ~(1 << irq);
    }
}

int i8259_intr_ack(void *opaque)
{
    I8259 *s = opaque;
    PicUnit *m = &s->pic[0], *sl = &s->pic[1];
    int irq = get_irq(m);
    int vector;
    if (irq >= 0) {
        intack(m, irq);
        if (irq == 2) {
            int irq2 = get_irq(sl);
            if (irq2 >= 0) {
                intack(sl, irq2);
            } else {
                irq2 = 7; /* spurious on the slave */
            }
            vector = sl->irq_base + irq2;
        } else {
            vector = m->irq_base + irq;
        }
    } else {
        vector = m->irq_base + 7; /* spurious IRQ7 */
    }
    update(s);
    return vector;
}

static void unit_reset(PicUnit *p)
{
    uint8_t elcr = p->elcr, elcr_mask = p->elcr_mask;
    *p = (PicUnit){ 0 };
    p->elcr = elcr;
    p->elcr_mask = elcr_mask;
}

static uint32_t poll_read(I8259 *s, PicUnit *p)
{
    int irq = get_irq(p);
    if (irq >= 0) {
        if (p == &s->pic[1]) {
            s->pic[0].isr &= ~(1 << 2);
            s->pic[0].irr &= ~(1 << 2);
        }
        p->irr &= ~(1 << irq);
        p->isr &= ~(1 << irq);
        update(s);
        return 0x80 | irq;
    }
    return 0;
}

static void pic_write(I8259 *s, PicUnit *p, unsigned addr, uint8_t v)
{
    if (addr == 0) {
        if (v & 0x10) { /* ICW1 */
            uint8_t elcr = p->elcr, elcr_mask = p->elcr_mask;
            unit_reset(p);
            p->elcr = elcr;
            p->elcr_mask = elcr_mask;
            p->init_state = 1;
            p->init4 = v & 1;
            p->single = v & 2;
            if (v & 0x08) {
                mimic_log_guest("i8259: level-triggered mode via ICW1 "
                                "(use ELCR on a PC)");
            }
        } else if (v & 0x08) { /* OCW3 */
            if (v & 0x04) {
                p->poll = true;
            }
            if (v & 0x02) {
                p->read_reg_select = v & 1;
            }
            if (v & 0x40) {
                p->special_mask = (v >> 5) & 1;
            }
        } else { /* OCW2 */
            int cmd = v >> 5;
            switch (cmd) {
            case 0: /* rotate in auto EOI mode (clear) */
            case 4:
                p->rotate_on_auto_eoi = cmd >> 2;
                break;
            case 1: /* non-specific EOI */
            case 5: { /* rotate on non-specific EOI */
                int prio = priority(p, p->isr);
                if (prio != 8) {
                    int irq = (prio + p->priority_add) & 7;
                    p->isr &= ~(1 << irq);
                    if (cmd == 5) {
                        p->priority_add = (irq + 1) & 7;
                    }
                }
                break;
            }
            case 3: /* specific EOI */
                p->isr &= ~(1 << (v & 7));
                break;
            case 6: /* set priority */
                p->priority_add = (v + 1) & 7;
                break;
            case 7: /* rotate on specific EOI */
                p->isr &= ~(1 << (v & 7));
                p->priority_add = (v + 1) & 7;
                break;
            default:
                break;
            }
        }
    } else {
        switch (p->init_state) {
        case 0: /* OCW1 */
            p->imr = v;
            break;
        case 1:
            p->irq_base = v & 0xf8;
            p->init_state = p->single ? (p->init4 ? 3 : 0) : 2;
            break;
        case 2:
            p->init_state = p->init4 ? 3 : 0;
            break;
        case 3:
            p->special_fully_nested = (v >> 4) & 1;
            p->auto_eoi = (v >> 1) & 1;
            p->init_state = 0;
            break;
        }
    }
    update(s);
}

static uint32_t pic_read(I8259 *s, PicUnit *p, unsigned addr)
{
    if (p->poll) {
        p->poll = false;
        return poll_read(s, p);
    }
    if (addr == 0) {
        return p->read_reg_select ? p->isr : p->irr;
    }
    return p->imr;
}

static uint32_t master_read(void *opaque, uint16_t off, unsigned size)
{
    I8259 *s = opaque;
    return pic_read(s, &s->pic[0], off);
}

static void master_write(void *opaque, uint16_t off, uint32_t v,
                         unsigned size)
{
    I8259 *s = opaque;
    pic_write(s, &s->pic[0], off, v);
}

static uint32_t slave_read(void *opaque, uint16_t off, unsigned size)
{
    I8259 *s = opaque;
    return pic_read(s, &s->pic[1], off);
}

static void slave_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    I8259 *s = opaque;
    pic_write(s, &s->pic[1], off, v);
}

static uint32_t elcr_read(void *opaque, uint16_t off, unsigned size)
{
    I8259 *s = opaque;
    return s->pic[off].elcr;
}

static void elcr_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    I8259 *s = opaque;
    s->pic[off].elcr = v & s->pic[off].elcr_mask;
    update(s);
}

static void i8259_reset(Device *dev)
{
    I8259 *s = (I8259 *)dev;
    for (int i = 0; i < 2; i++) {
        unit_reset(&s->pic[i]);
    }
    /* IRQ 0, 1, 2, 8, 13 are always edge on the PIIX. */
    s->pic[0].elcr_mask = 0xf8;
    s->pic[1].elcr_mask = 0xde;
    update(s);
}

static const IoRegion i8259_io[] = {
    { .base = 0x20, .len = 2, .min = 1, .max = 1, .read = master_read,
      .write = master_write, .name = "pic1" },
    { .base = 0xa0, .len = 2, .min = 1, .max = 1, .read = slave_read,
      .write = slave_write, .name = "pic2" },
    { .base = 0x4d0, .len = 2, .min = 1, .max = 1, .read = elcr_read,
      .write = elcr_write, .name = "elcr" },
    { 0 },
};

static const StateField pic_unit_fields[] = {
    STATE_U8(PicUnit, irr), STATE_U8(PicUnit, imr), STATE_U8(PicUnit, isr),
    STATE_U8(PicUnit, last_irr), STATE_U8(PicUnit, priority_add),
    STATE_U8(PicUnit, irq_base), STATE_U8(PicUnit, read_reg_select),
    STATE_BOOL(PicUnit, poll), STATE_BOOL(PicUnit, special_mask),
    STATE_U8(PicUnit, init_state), STATE_BOOL(PicUnit, auto_eoi),
    STATE_BOOL(PicUnit, rotate_on_auto_eoi),
    STATE_BOOL(PicUnit, special_fully_nested), STATE_BOOL(PicUnit, init4),
    STATE_BOOL(PicUnit, single), STATE_U8(PicUnit, elcr),
    STATE_U8(PicUnit, elcr_mask), STATE_END,
};

static bool i8259_post_load(void *obj, GError **error)
{
    I8259 *s = obj;
    for (int i = 0; i < 2; i++) {
        if (s->pic[i].init_state > 3 || s->pic[i].priority_add > 7 ||
            s->pic[i].read_reg_select > 1) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                        "i8259: invalid controller state");
            return false;
        }
    }
    /* Drive the CPU's INTR pin whatever the saved level: devices loaded
       before us (their post_load drive their lines) went through the old
       controller state and may have left the pin at another level. */
    update_output(s, true);
    return true;
}

static const StateDesc i8259_state = {
    .name = "i8259", .version = 1, .min_version = 1,
    .post_load = i8259_post_load,
    .fields = (const StateField[]) {
        STATE_STRUCT_ARRAY(I8259, pic, 2, pic_unit_fields), STATE_END },
};

const DeviceInfo i8259_info = {
    .name = "i8259", .size = sizeof(I8259), .io = i8259_io,
    .state = &i8259_state, .reset = i8259_reset,
};
