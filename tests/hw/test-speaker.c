/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Port 0x61 and PIT channel 2 on the pc board (the PC speaker path):
 * bit 0 gates channel 2, bit 1 enables the speaker data, bit 5 reads
 * OUT2; the listener interface an audio device will use.
 */
#include "pc-rig.h"

#include "hw/isa/i8254.h"

#define US 1000LL

static int notified;

static void on_speaker(void *opaque)
{
    notified++;
}

static I8254 *pit_of(MimicMachine *m)
{
    Device *d = device_find(m->devices, "pit");
    g_assert_nonnull(d);
    return (I8254 *)d;
}

static bool out2(MimicMachine *m)
{
    return ioport_read(m->io, 0x61, 1) & 0x20;
}

static void program_ch2(MimicMachine *m, int mode, uint16_t count)
{
    ioport_write(m->io, 0x43, 0xb0 | mode << 1, 1); /* ch2, LSB+MSB */
    ioport_write(m->io, 0x42, count & 0xff, 1);
    ioport_write(m->io, 0x42, count >> 8, 1);
}

static void test_square_wave(void)
{
    MimicMachine *m = rig_new(NULL);
    I8254 *pit = pit_of(m);
    pit->speaker_changed = on_speaker;
    /* A beep: channel 2, mode 3, 1193 counts (1000.15 Hz), gate and data
       on, as a BIOS or Linux's pcspkr driver does. */
    program_ch2(m, 3, 1193);
    g_assert_cmpint(notified, >=, 1);
    int before = notified;
    ioport_write(m->io, 0x61, ioport_read(m->io, 0x61, 1) | 3, 1);
    g_assert_cmpint(notified, ==, before + 1);
    g_assert_cmphex(ioport_read(m->io, 0x61, 1) & 3, ==, 3);
    PcSpeakerState st;
    i8254_speaker_get(pit, &st);
    g_assert_true(st.gate && st.data);
    g_assert_cmpint(st.mode, ==, 3);
    g_assert_cmpint(st.count, ==, 1193);
    g_assert_cmpfloat(st.tone_hz, >, 1000.1);
    g_assert_cmpfloat(st.tone_hz, <, 1000.2);
    /* OUT2 on bit 5: high in the first half of each 1 ms period, low in
       the second, from the gate's rising edge on. */
    m->clock->icount += 125 * US; /* sample mid-quarter: no edge nearby */
    for (int i = 0; i < 20; i++) {
        bool first_half = (i % 4) < 2;
        g_assert_cmpint(out2(m), ==, first_half);
        m->clock->icount += 250 * US;
    }
    /* Data off: no tone, channel 2 still counts. */
    ioport_write(m->io, 0x61, ioport_read(m->io, 0x61, 1) & ~2, 1);
    i8254_speaker_get(pit, &st);
    g_assert_cmpfloat(st.tone_hz, ==, 0.0);
    /* Gate off: in mode 3 OUT2 goes (and stays) high. */
    ioport_write(m->io, 0x61, ioport_read(m->io, 0x61, 1) & ~1, 1);
    for (int i = 0; i < 8; i++) {
        m->clock->icount += 130 * US;
        g_assert_true(out2(m));
    }
    mimic_machine_free(m);
}

static void test_one_shot(void)
{
    /* Linux's PIT calibration (and SeaBIOS's TSC calibration): gate on,
       speaker off, mode 0; OUT2 rises when the count runs out. */
    MimicMachine *m = rig_new(NULL);
    ioport_write(m->io, 0x61, (ioport_read(m->io, 0x61, 1) & ~2) | 1, 1);
    program_ch2(m, 0, 11932); /* 10 ms */
    g_assert_false(out2(m));
    m->clock->icount += 9900 * US;
    g_assert_false(out2(m));
    m->clock->icount += 200 * US;
    g_assert_true(out2(m));
    /* Reading the count back through a latch: it has wrapped below 0. */
    ioport_write(m->io, 0x43, 0x80, 1);
    uint16_t c = ioport_read(m->io, 0x42, 1);
    c |= ioport_read(m->io, 0x42, 1) << 8;
    g_assert_cmpuint(c, >, 65000);
    /* The refresh toggle (bit 4) changes every 15 us. */
    bool r0 = ioport_read(m->io, 0x61, 1) & 0x10;
    m->clock->icount += 15085;
    g_assert_true(r0 != !!(ioport_read(m->io, 0x61, 1) & 0x10));
    mimic_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_file_test("/usr/share/seabios/bios-256k.bin", G_FILE_TEST_EXISTS)) {
        g_printerr("SKIP: Debian's seabios package is not installed\n");
        return 77;
    }
    g_test_add_func("/hw/speaker/square-wave", test_square_wave);
    g_test_add_func("/hw/speaker/one-shot", test_one_shot);
    return g_test_run();
}
