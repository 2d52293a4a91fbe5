/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PS/2 mouse behind the i8042's auxiliary port, driven through ports
 * 0x60/0x64 as a driver would (0xd4 to talk to the mouse), with motion
 * entering through i8042_pointer() as the engine's pointer events do.
 */
#include <limits.h>

#include "i8042-rig.h"
#include "state/state.h"

static void aux(Rig *r, uint8_t v)
{
    rig_cmd(r, 0xd4);
    rig_data(r, v);
}

static void set_rate(Rig *r, uint8_t rate)
{
    aux(r, 0xf3);
    aux(r, rate);
    rig_expect(r, 0xfa, 0xfa);
}

static void enable(Rig *r)
{
    aux(r, 0xf4);
    rig_expect(r, 0xfa);
}

static void test_reset_and_irq12(void)
{
    Rig *r = rig_new();
    aux(r, 0xff);
    /* The reply is the mouse's: AUXB set, IRQ12 and not IRQ1. */
    g_assert_cmphex(rig_status(r) & 0x21, ==, 0x21);
    g_assert_true(r->level[12]);
    g_assert_false(r->level[1]);
    rig_expect(r, 0xfa, 0xaa, 0x00);
    g_assert_false(r->level[12]);
    aux(r, 0xf2);
    rig_expect(r, 0xfa, 0x00);
    /* Status after reset: stream, disabled, 1:1, 4 counts/mm, 100/s. */
    aux(r, 0xe9);
    rig_expect(r, 0xfa, 0x00, 0x02, 100);
    /* Command byte bit 1 off: the byte is there, the interrupt is not. */
    rig_cmd(r, 0x60);
    rig_data(r, 0x45);
    aux(r, 0xf2);
    g_assert_cmphex(rig_status(r) & 0x21, ==, 0x21);
    g_assert_false(r->level[12]);
    rig_expect(r, 0xfa, 0x00);
    rig_free(r);
}

static void test_stream_packets(void)
{
    Rig *r = rig_new();
    /* Disabled: motion is not reported. */
    i8042_pointer(r->kbc, 5, 5, 0, 0);
    rig_expect_none(r);
    enable(r);
    /* Right 10 and up 5 (engine dy is down) with the left button. */
    int before = r->raised[12];
    i8042_pointer(r->kbc, 10, -5, 0, 0x01);
    g_assert_cmpint(r->raised[12], >, before);
    rig_expect(r, 0x09, 10, 5);
    /* Left 3 and down 2: sign bits 4 and 5, 9-bit two's complement. */
    i8042_pointer(r->kbc, -3, 2, 0, 0x01);
    rig_expect(r, 0x39, 0xfd, 0xfe);
    /* A button change alone is a packet; right and middle buttons. */
    i8042_pointer(r->kbc, 0, 0, 0, 0x06);
    rig_expect(r, 0x0e, 0, 0);
    /* A wheel turn on a plain mouse is no packet and is not kept. */
    i8042_pointer(r->kbc, 0, 0, 1, 0x06);
    rig_expect_none(r);
    g_assert_cmpint(r->kbc->mouse.dz, ==, 0);
    /* Status request shows the buttons as right, middle, left bits. */
    aux(r, 0xe9);
    rig_expect(r, 0xfa, 0x23, 0x02, 100);
    rig_free(r);
}

/* Regression: the line dropped between the bytes of a packet, so an
   edge-triggered 8259 saw only the first byte (SeaBIOS's IRQ12 handler
   then waited forever for the rest). */
static void test_irq_edge_per_byte(void)
{
    Rig *r = rig_new();
    enable(r);
    int before = r->raised[12];
    i8042_pointer(r->kbc, 1, 1, 0, 0);
    for (int i = 0; i < 3; i++) {
        g_assert_true(r->level[12]);
        g_assert_cmpint(r->raised[12], ==, before + i + 1);
        ioport_read(r->bus.io, 0x60, 1);
    }
    g_assert_false(r->level[12]);
    /* The keyboard's multi-byte codes likewise. */
    before = r->raised[1];
    i8042_key(r->kbc, 103, true);
    ioport_read(r->bus.io, 0x60, 1);
    ioport_read(r->bus.io, 0x60, 1);
    g_assert_cmpint(r->raised[1], ==, before + 2);
    rig_free(r);
}

static void test_large_move_split(void)
{
    Rig *r = rig_new();
    enable(r);
    i8042_pointer(r->kbc, 1000, -700, 0, 0);
    int sx = 0, sy = 0, packets = 0;
    uint8_t p[3];
    while (rig_drain(r, p, 3) == 3) {
        g_assert_cmphex(p[0] & 0xc8, ==, 0x08); /* no overflow bits */
        sx += p[1] - ((p[0] << 4) & 0x100);
        sy += p[2] - ((p[0] << 3) & 0x100);
        packets++;
    }
    rig_expect_none(r);
    g_assert_cmpint(sx, ==, 1000);
    g_assert_cmpint(sy, ==, 700);
    g_assert_cmpint(packets, ==, 4); /* 255 counts a packet at most */
    /* Hostile sizes from the host side: clamped, never wrapped. */
    i8042_pointer(r->kbc, INT_MAX, INT_MIN, INT_MAX, ~0u);
    i8042_pointer(r->kbc, INT_MAX, INT_MIN, INT_MIN, 0);
    g_assert_true(ps2mouse_post_load(&r->kbc->mouse));
    uint8_t junk[256];
    for (int i = 0; i < 100000 && rig_drain(r, junk, 256); i++) {
    }
    rig_free(r);
}

static void test_intellimouse(void)
{
    Rig *r = rig_new();
    /* A wrong knock leaves a plain mouse. */
    set_rate(r, 200);
    set_rate(r, 80);
    set_rate(r, 100);
    aux(r, 0xf2);
    rig_expect(r, 0xfa, 0x00);
    /* 200, 100, 80: the wheel mouse, ID 3, 4-byte packets. */
    set_rate(r, 200);
    set_rate(r, 100);
    set_rate(r, 80);
    aux(r, 0xf2);
    rig_expect(r, 0xfa, 0x03);
    enable(r);
    i8042_pointer(r->kbc, 1, 0, 1, 0);   /* wheel up: Z = -1 */
    rig_expect(r, 0x08, 1, 0, 0xff);
    i8042_pointer(r->kbc, 0, 0, -2, 0);  /* wheel down twice: Z = +2 */
    rig_expect(r, 0x08, 0, 0, 0x02);
    /* 200, 200, 80 on top: the Explorer, ID 4, buttons 4 and 5. */
    set_rate(r, 200);
    set_rate(r, 200);
    set_rate(r, 80);
    aux(r, 0xf2);
    rig_expect(r, 0xfa, 0x04);
    enable(r);
    i8042_pointer(r->kbc, 0, 0, 1, 0x18);
    rig_expect(r, 0x08, 0, 0, 0x3f);
    /* Reset forgets the extensions. */
    aux(r, 0xff);
    rig_expect(r, 0xfa, 0xaa, 0x00);
    aux(r, 0xf2);
    rig_expect(r, 0xfa, 0x00);
    rig_free(r);
}

static void test_remote_mode(void)
{
    Rig *r = rig_new();
    aux(r, 0xf0);
    rig_expect(r, 0xfa);
    enable(r);
    i8042_pointer(r->kbc, 7, 0, 0, 0);
    i8042_pointer(r->kbc, 5, 3, 0, 0);
    rig_expect_none(r); /* remote: only on request */
    aux(r, 0xeb);
    rig_expect(r, 0xfa, 0x28, 12, 0xfd);
    aux(r, 0xeb);
    rig_expect(r, 0xfa, 0x08, 0, 0);
    aux(r, 0xe9);
    rig_expect(r, 0xfa, 0x60, 0x02, 100);
    /* Back to stream mode. */
    aux(r, 0xea);
    rig_expect(r, 0xfa);
    i8042_pointer(r->kbc, 1, 0, 0, 0);
    rig_expect(r, 0x08, 1, 0);
    rig_free(r);
}

static void test_settings_and_scaling(void)
{
    Rig *r = rig_new();
    aux(r, 0xe8);
    aux(r, 3);
    rig_expect(r, 0xfa, 0xfa);
    set_rate(r, 40);
    aux(r, 0xe7);
    rig_expect(r, 0xfa);
    enable(r);
    aux(r, 0xe9);
    rig_expect(r, 0xfa, 0x30, 3, 40);
    /* 2:1 scaling in stream mode: 1->1, 2->1, 3->3, 4->6, 5->9, n->2n. */
    static const int in[] = { 1, 2, 3, 4, 5, 6, 40, -5 };
    static const int outv[] = { 1, 1, 3, 6, 9, 12, 80, -9 };
    for (size_t i = 0; i < G_N_ELEMENTS(in); i++) {
        uint8_t p[3];
        i8042_pointer(r->kbc, in[i], 0, 0, 0);
        g_assert_cmpint(rig_drain(r, p, 3), ==, 3);
        g_assert_cmpint(p[1] - ((p[0] << 4) & 0x100), ==, outv[i]);
    }
    /* Not in remote-mode reads. */
    aux(r, 0xf0);
    rig_expect(r, 0xfa);
    i8042_pointer(r->kbc, 5, 0, 0, 0);
    aux(r, 0xeb);
    rig_expect(r, 0xfa, 0x08, 5, 0);
    aux(r, 0xe6);
    rig_expect(r, 0xfa);
    aux(r, 0xe9);
    rig_expect(r, 0xfa, 0x60, 3, 40);
    /* Bad parameters are refused, the setting kept. */
    aux(r, 0xe8);
    aux(r, 9);
    rig_expect(r, 0xfa, 0xfe);
    aux(r, 0xf3);
    aux(r, 0);
    rig_expect(r, 0xfa, 0xfe);
    aux(r, 0xe9);
    rig_expect(r, 0xfa, 0x60, 3, 40);
    /* Set defaults. */
    aux(r, 0xf6);
    rig_expect(r, 0xfa);
    aux(r, 0xe9);
    rig_expect(r, 0xfa, 0x00, 2, 100);
    /* Unknown commands get "resend". */
    aux(r, 0x42);
    rig_expect(r, 0xfe);
    rig_free(r);
}

static void test_wrap_mode(void)
{
    Rig *r = rig_new();
    aux(r, 0xee);
    rig_expect(r, 0xfa);
    aux(r, 0x12);
    aux(r, 0xf2);
    rig_expect(r, 0x12, 0xf2);
    aux(r, 0xec);
    rig_expect(r, 0xfa);
    aux(r, 0xf2);
    rig_expect(r, 0xfa, 0x00);
    rig_free(r);
}

static void test_controller_aux_commands(void)
{
    Rig *r = rig_new();
    enable(r);
    /* 0xa9: the port tests good. */
    rig_cmd(r, 0xa9);
    rig_expect(r, 0x00);
    /* 0xa7 disables the port: command byte bit 5, nothing comes through
       until 0xa8. */
    rig_cmd(r, 0xa7);
    rig_cmd(r, 0x20);
    uint8_t cb = 0;
    g_assert_cmpint(rig_drain(r, &cb, 1), ==, 1);
    g_assert_cmphex(cb & 0x20, ==, 0x20);
    i8042_pointer(r->kbc, 4, 0, 0, 0);
    rig_expect_none(r);
    g_assert_false(r->level[12]);
    rig_cmd(r, 0xa8);
    g_assert_true(r->level[12]);
    rig_expect(r, 0x08, 4, 0);
    rig_cmd(r, 0x20);
    g_assert_cmpint(rig_drain(r, &cb, 1), ==, 1);
    g_assert_cmphex(cb & 0x20, ==, 0);
    /* Command byte bit 5 written directly works the same. */
    rig_cmd(r, 0x60);
    rig_data(r, cb | 0x20);
    i8042_pointer(r->kbc, 1, 0, 0, 0);
    rig_expect_none(r);
    rig_cmd(r, 0x60);
    rig_data(r, cb);
    rig_expect(r, 0x08, 1, 0);
    /* 0xd3 loops a byte back as the mouse's, with IRQ12 (Linux's AUX
       probe), even with the port disabled. */
    rig_cmd(r, 0xa7);
    int before = r->raised[12];
    rig_cmd(r, 0xd3);
    rig_data(r, 0x5a);
    g_assert_cmphex(rig_status(r) & 0x21, ==, 0x21);
    g_assert_cmpint(r->raised[12], ==, before + 1);
    rig_expect(r, 0x5a);
    /* 0xd2 does the same for the keyboard side. */
    rig_cmd(r, 0xd2);
    rig_data(r, 0xa5);
    g_assert_cmphex(rig_status(r) & 0x21, ==, 0x01);
    g_assert_true(r->level[1]);
    rig_expect(r, 0xa5);
    rig_free(r);
}

static void test_state_round_trip(void)
{
    Rig *r = rig_new();
    set_rate(r, 200);
    set_rate(r, 100);
    set_rate(r, 80);
    aux(r, 0xf0);
    rig_expect(r, 0xfa);
    i8042_pointer(r->kbc, 3, -4, 1, 0x01);
    const StateDesc *st = i8042_info.state;
    GByteArray *a = g_byte_array_new();
    state_save(st, r->kbc, a);
    Rig *r2 = rig_new();
    GError *err = NULL;
    g_assert_true(state_load(st, r2->kbc, st->version, a->data, a->len,
                             NULL, &err));
    g_assert_no_error(err);
    aux(r2, 0xeb);
    rig_expect(r2, 0xfa, 0x09, 3, 4, 0xff);
    /* A mouse type no mouse has is refused. */
    r->kbc->mouse.type = 7;
    g_byte_array_set_size(a, 0);
    state_save(st, r->kbc, a);
    g_assert_false(state_load(st, r2->kbc, st->version, a->data, a->len,
                              NULL, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_byte_array_free(a, TRUE);
    rig_free(r);
    rig_free(r2);
}

static void test_fuzz(void)
{
    Rig *r = rig_new();
    GRand *g = g_rand_new_with_seed(4242);
    for (int i = 0; i < 200000; i++) {
        switch (g_rand_int_range(g, 0, 6)) {
        case 0:
            aux(r, g_rand_int(g));
            break;
        case 1:
            i8042_pointer(r->kbc, g_rand_int_range(g, -600, 600),
                          g_rand_int_range(g, -600, 600),
                          g_rand_int_range(g, -3, 3), g_rand_int(g));
            break;
        case 2:
            rig_cmd(r, g_rand_int(g));
            break;
        case 3:
            rig_data(r, g_rand_int(g));
            break;
        default:
            ioport_read(r->bus.io, g_rand_boolean(g) ? 0x60 : 0x64, 1);
            break;
        }
        g_assert_true(ps2_queue_valid(&r->kbc->aux));
        g_assert_true(ps2mouse_post_load(&r->kbc->mouse));
        /* Keep the controller from resetting the machine: no callback. */
    }
    g_rand_free(g);
    rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/ps2mouse/reset-and-irq12", test_reset_and_irq12);
    g_test_add_func("/hw/ps2mouse/stream-packets", test_stream_packets);
    g_test_add_func("/hw/ps2mouse/irq-edge-per-byte",
                    test_irq_edge_per_byte);
    g_test_add_func("/hw/ps2mouse/large-move-split", test_large_move_split);
    g_test_add_func("/hw/ps2mouse/intellimouse", test_intellimouse);
    g_test_add_func("/hw/ps2mouse/remote-mode", test_remote_mode);
    g_test_add_func("/hw/ps2mouse/settings-and-scaling",
                    test_settings_and_scaling);
    g_test_add_func("/hw/ps2mouse/wrap-mode", test_wrap_mode);
    g_test_add_func("/hw/ps2mouse/controller-aux-commands",
                    test_controller_aux_commands);
    g_test_add_func("/hw/ps2mouse/state-round-trip", test_state_round_trip);
    g_test_add_func("/hw/ps2mouse/fuzz", test_fuzz);
    return g_test_run();
}
