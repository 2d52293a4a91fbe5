/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The 8259 pair's INTR output across a state load: whatever lines the
 * devices loaded before the controller drove through its old state, the
 * CPU's pin ends at the level the loaded controller computes (a pin left
 * high made the guest take spurious IRQ7s, one left low stalled it in
 * HLT with an interrupt pending).
 */
#include <glib.h>

#include "bus/clock.h"
#include "bus/device.h"
#include "bus/ioport.h"
#include "bus/memory.h"
#include "hw/isa/i8259.h"
#include "state/state.h"

typedef struct {
    MemMap *mem;
    IoSpace *io;
    Clock *clock;
    MachineBuses bus;
    DeviceList *devs;
    I8259 *pic;
    int pin;    /* the CPU's INTR pin as the controller last drove it */
    int calls;
} Rig;

static void on_intr(void *opaque, bool level)
{
    Rig *r = opaque;
    r->pin = level;
    r->calls++;
}

static void rig_init(Rig *r)
{
    r->mem = memmap_new();
    r->io = ioport_new();
    r->clock = clock_new(CLOCK_MODE_ICOUNT, 0);
    r->bus = (MachineBuses){ .mem = r->mem, .io = r->io, .clock = r->clock };
    r->devs = device_list_new();
    r->pic = (I8259 *)device_new(r->devs, &i8259_info, &r->bus, "pic");
    r->pic->set_intr = on_intr;
    r->pic->intr_opaque = r;
    g_assert_true(device_realize(DEVICE(r->pic), NULL));
    r->pin = 0;
    /* The BIOS's initialisation of the master: edge, vectors 0x08,
       slave on IR2, 8086 mode; every line unmasked. */
    ioport_write(r->io, 0x20, 0x11, 1);
    ioport_write(r->io, 0x21, 0x08, 1);
    ioport_write(r->io, 0x21, 0x04, 1);
    ioport_write(r->io, 0x21, 0x01, 1);
    ioport_write(r->io, 0x21, 0x00, 1);
}

static void rig_free(Rig *r)
{
    device_list_free(r->devs);
    clock_free(r->clock);
    ioport_free(r->io);
    memmap_free(r->mem);
}

static void load(Rig *r, GByteArray *st)
{
    size_t used;
    GError *err = NULL;
    g_assert_true(state_load(i8259_info.state, r->pic,
                             i8259_info.state->version, st->data, st->len,
                             &used, &err));
    g_assert_no_error(err);
}

static void test_load_drives_pin(void)
{
    Rig r;
    rig_init(&r);
    g_assert_cmpint(r.pin, ==, 0);
    GByteArray *idle = g_byte_array_new();
    state_save(i8259_info.state, r.pic, idle);

    /* IRQ 3 pending: the pin goes high.  Save that too. */
    i8259_set_irq(r.pic, 3, true);
    g_assert_cmpint(r.pin, ==, 1);
    GByteArray *pending = g_byte_array_new();
    state_save(i8259_info.state, r.pic, pending);

    /* Loading the idle controller lowers the pin it had raised. */
    load(&r, idle);
    g_assert_cmpint(r.pin, ==, 0);

    /* And loading the pending one raises it again, even when a device's
       post_load has just lowered it through the old state. */
    r.pin = 0;
    load(&r, pending);
    g_assert_cmpint(r.pin, ==, 1);
    int calls = r.calls;
    load(&r, pending);
    g_assert_cmpint(r.pin, ==, 1);
    g_assert_cmpint(r.calls, ==, calls + 1); /* driven on every load */

    /* The acknowledge gives IRQ 3's vector and the pin drops. */
    g_assert_cmpint(i8259_intr_ack(r.pic), ==, 0x08 + 3);
    g_assert_cmpint(r.pin, ==, 0);
    g_byte_array_unref(idle);
    g_byte_array_unref(pending);
    rig_free(&r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/i8259/load-drives-pin", test_load_drives_pin);
    return g_test_run();
}
