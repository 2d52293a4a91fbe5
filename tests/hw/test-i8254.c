/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PIT channel 0 in mode 4, Linux's one-shot tick: OUT drops for one
 * clock at the terminal count and rises again (the interrupt), and then
 * the channel has no further edge, so its timer is idle.  (It used to be
 * armed 2^32 - 1 ticks ahead, an hour: a state resumed past the pulse
 * then evaluated its pending timer there and IRQ0 never came again.)
 */
#include <glib.h>

#include "bus/clock.h"
#include "bus/device.h"
#include "bus/ioport.h"
#include "bus/irq.h"
#include "bus/memory.h"
#include "hw/isa/i8254.h"

static int rises, falls;
static bool level;

static void on_irq0(void *opaque, int n, bool l)
{
    if (l && !level) {
        rises++;
    } else if (!l && level) {
        falls++;
    }
    level = l;
}

static void test_mode4_one_shot(void)
{
    MemMap *mem = memmap_new();
    IoSpace *io = ioport_new();
    Clock *clk = clock_new(CLOCK_MODE_ICOUNT, 0); /* 1 ns a count */
    MachineBuses bus = { .mem = mem, .io = io, .clock = clk };
    DeviceList *devs = device_list_new();
    I8254 *pit = (I8254 *)device_new(devs, &i8254_info, &bus, "pit");
    IrqLine *irq0 = irq_new(on_irq0, NULL, 0);
    pit->irq0 = irq0;
    g_assert_true(device_realize(DEVICE(pit), NULL));

    /* Channel 0, LSB then MSB, mode 4, binary; count 100 (83.8 us). */
    ioport_write(io, 0x43, 0x38, 1);
    ioport_write(io, 0x40, 100, 1);
    ioport_write(io, 0x40, 0, 1);
    rises = falls = 0;
    level = pit->ch[0].irq_level;
    g_assert_true(level); /* OUT high while counting */
    int64_t pulse = timer_expire_time(pit->timer);
    g_assert_cmpint(pulse, >, 83000);
    g_assert_cmpint(pulse, <, 84000);

    /* Well past the pulse: both edges, then nothing more to come. */
    clk->icount = 1000000;
    while (clock_run_timers(clk)) {
    }
    g_assert_cmpint(falls, ==, 1);
    g_assert_cmpint(rises, ==, 1);
    g_assert_true(level);
    g_assert_cmpint(timer_expire_time(pit->timer), ==, CLOCK_NEVER);

    /* Mode 0 likewise: OUT rises at the terminal count and stays. */
    ioport_write(io, 0x43, 0x30, 1);
    ioport_write(io, 0x40, 50, 1);
    ioport_write(io, 0x40, 0, 1);
    g_assert_false(pit->ch[0].irq_level);
    clk->icount += 1000000;
    while (clock_run_timers(clk)) {
    }
    g_assert_true(pit->ch[0].irq_level);
    g_assert_cmpint(timer_expire_time(pit->timer), ==, CLOCK_NEVER);

    device_list_free(devs);
    irq_free(irq0);
    clock_free(clk);
    ioport_free(io);
    memmap_free(mem);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/i8254/mode4-one-shot", test_mode4_one_shot);
    return g_test_run();
}
