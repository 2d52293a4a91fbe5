/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Sound Blaster 16 on the pc board (src/hw/audio/sb16.c): DSP reset,
 * version, identification, test register, speaker status, forced and
 * acknowledged interrupts, the mixer's configuration registers and SB Pro
 * aliases, 8-bit single-cycle DMA (the block's interrupt comes when its
 * samples have played, in virtual time), 16-bit auto-init with pause,
 * continue and exit, the direct DAC, saved state in the middle of a
 * stream, and a bounded register fuzz of the card and the PC speaker's
 * ports (run under ASan and UBSan by make check).
 */
#include "pc-rig.h"

#include "hw/audio/sb16.h"
#include "hw/isa/i8237.h"

#define SB 0x220
#define MS 1000000LL

static void configure(MachineConfig *cfg)
{
    cfg->audiodevs[0].driver = g_strdup("none");
    cfg->audiodevs[0].id = g_strdup("a0");
    cfg->n_audiodevs = 1;
    cfg->soundhw[0] = g_strdup("sb16");
    cfg->soundhw_audiodev[0] = g_strdup("a0");
    cfg->soundhw[1] = g_strdup("pcspk"); /* shares the mixer */
    cfg->n_soundhw = 2;
}

static Sb16 *sb_of(MimicMachine *m)
{
    Device *d = device_find(m->devices, "sb16");
    g_assert_nonnull(d);
    return (Sb16 *)d;
}

static void dsp_w(MimicMachine *m, uint8_t v)
{
    g_assert_cmphex(ioport_read(m->io, SB + 0xc, 1) & 0x80, ==, 0);
    ioport_write(m->io, SB + 0xc, v, 1);
}

static int dsp_r(MimicMachine *m)
{
    if (!(ioport_read(m->io, SB + 0xe, 1) & 0x80)) {
        return -1;
    }
    return ioport_read(m->io, SB + 0xa, 1);
}

static void dsp_reset(MimicMachine *m)
{
    ioport_write(m->io, SB + 6, 1, 1);
    ioport_write(m->io, SB + 6, 0, 1);
    g_assert_cmpint(dsp_r(m), ==, 0xaa);
}

static void mix_w(MimicMachine *m, uint8_t r, uint8_t v)
{
    ioport_write(m->io, SB + 4, r, 1);
    ioport_write(m->io, SB + 5, v, 1);
}

static uint8_t mix_r(MimicMachine *m, uint8_t r)
{
    ioport_write(m->io, SB + 4, r, 1);
    return ioport_read(m->io, SB + 5, 1);
}

/* The card's interrupt line (ISA IRQ 5) as it drives the 8259. */
static bool irq5(MimicMachine *m)
{
    IrqLine *l = sb_of(m)->irq;
    g_assert_cmpint(l->n, ==, 5);
    return l->level;
}

static void test_dsp_basics(void)
{
    MimicMachine *m = rig_new(configure);
    rig_pic_init(m, 1 << 5);
    dsp_reset(m);
    g_assert_cmpint(dsp_r(m), ==, -1);
    dsp_w(m, 0xe1);
    g_assert_cmpint(dsp_r(m), ==, 4);
    g_assert_cmpint(dsp_r(m), ==, 5);
    dsp_w(m, 0xe0);
    dsp_w(m, 0x5a);
    g_assert_cmpint(dsp_r(m), ==, 0xa5);
    dsp_w(m, 0xe4);
    dsp_w(m, 0x77);
    dsp_w(m, 0xe8);
    g_assert_cmpint(dsp_r(m), ==, 0x77);
    dsp_w(m, 0xd8);
    g_assert_cmpint(dsp_r(m), ==, 0x00);
    dsp_w(m, 0xd1);
    dsp_w(m, 0xd8);
    g_assert_cmpint(dsp_r(m), ==, 0xff);
    dsp_w(m, 0xe3);
    char c[64];
    int n = 0;
    int v;
    while ((v = dsp_r(m)) > 0 && n < 63) {
        c[n++] = v;
    }
    c[n] = 0;
    g_assert_true(g_str_has_prefix(c, "COPYRIGHT (C) CREATIVE"));
    /* Forced interrupts, acknowledged at 0x22E (8-bit), 0x22F (16). */
    g_assert_false(irq5(m));
    dsp_w(m, 0xf2);
    g_assert_true(irq5(m));
    g_assert_cmphex(mix_r(m, 0x82) & 3, ==, 1);
    ioport_read(m->io, SB + 0xe, 1);
    g_assert_false(irq5(m));
    dsp_w(m, 0xf3);
    g_assert_cmphex(mix_r(m, 0x82) & 3, ==, 2);
    g_assert_true(irq5(m));
    ioport_read(m->io, SB + 0xf, 1);
    g_assert_false(irq5(m));
    /* Mixer: IRQ 5, DMA 1 and 5; SB Pro master maps to 0x30/0x31. */
    g_assert_cmphex(mix_r(m, 0x80), ==, 0x02);
    g_assert_cmphex(mix_r(m, 0x81), ==, 0x22);
    mix_w(m, 0x22, 0xf7);
    g_assert_cmphex(mix_r(m, 0x30), ==, 0xf8);
    g_assert_cmphex(mix_r(m, 0x31), ==, 0x78);
    g_assert_cmphex(mix_r(m, 0x22), ==, 0xf7);
    mix_w(m, 0x00, 0);
    g_assert_cmphex(mix_r(m, 0x30), ==, 0xc0);
    mimic_machine_free(m);
}

/* DMA channel ch (1 or 5) reading `count` units from physical addr. */
static void dma_setup(MimicMachine *m, int ch, uint32_t addr, uint32_t count,
                      bool autoinit)
{
    bool wide = ch >= 4;
    int c = ch & 3;
    uint16_t base = wide ? 0xc0 : 0x00;
    int sh = wide ? 1 : 0;
    uint16_t mask = wide ? 0xd4 : 0x0a, mode = wide ? 0xd6 : 0x0b;
    uint16_t ff = wide ? 0xd8 : 0x0c;
    static const uint16_t page8[4] = { 0x87, 0x83, 0x81, 0x82 };
    static const uint16_t page16[4] = { 0x8f, 0x8b, 0x89, 0x8a };
    ioport_write(m->io, mask, 4 | c, 1);
    ioport_write(m->io, ff, 0, 1);
    ioport_write(m->io, mode, 0x48 | (autoinit ? 0x10 : 0) | c, 1);
    uint32_t a = wide ? (addr >> 1) & 0xffff : addr & 0xffff;
    ioport_write(m->io, base + (c * 2 << sh), a & 0xff, 1);
    ioport_write(m->io, base + (c * 2 << sh), a >> 8, 1);
    ioport_write(m->io, base + ((c * 2 + 1) << sh), (count - 1) & 0xff, 1);
    ioport_write(m->io, base + ((c * 2 + 1) << sh), (count - 1) >> 8, 1);
    ioport_write(m->io, (wide ? page16 : page8)[c], addr >> 16, 1);
    ioport_write(m->io, mask, c, 1);
}

static void test_dma8_single(void)
{
    MimicMachine *m = rig_new(configure);
    rig_pic_init(m, 1 << 5);
    Sb16 *sb = sb_of(m);
    dsp_reset(m);
    for (int i = 0; i < 1000; i++) {
        m->board.ram[0x20000 + i] = 128 + (i & 1 ? 60 : -60);
    }
    dma_setup(m, 1, 0x20000, 1000, false);
    dsp_w(m, 0x40); /* time constant: 1e6 / (256 - 156) = 10000 Hz */
    dsp_w(m, 156);
    dsp_w(m, 0x14); /* 1000 bytes: 100 ms */
    dsp_w(m, (1000 - 1) & 0xff);
    dsp_w(m, (1000 - 1) >> 8);
    g_assert_true(sb->dma_on);
    g_assert_cmpint(sb->rate, ==, 10000);
    rig_advance(m, 95 * MS);
    g_assert_false(irq5(m));
    g_assert_true(sb->dma_on);
    rig_advance(m, 10 * MS);
    g_assert_true(irq5(m));
    g_assert_false(sb->dma_on); /* single-cycle: done */
    /* The i8237 moved all 1000 bytes: its count wrapped to 0xffff. */
    I8237 *dma = (I8237 *)device_find(m->devices, "dma");
    g_assert_cmpint(dma->c[0].ch[1].cur_count, ==, 0xffff);
    ioport_read(m->io, SB + 0xe, 1);
    g_assert_false(irq5(m));
    mimic_machine_free(m);
}

static void test_dma16_auto(void)
{
    MimicMachine *m = rig_new(configure);
    rig_pic_init(m, 1 << 5);
    Sb16 *sb = sb_of(m);
    dsp_reset(m);
    dma_setup(m, 5, 0x40000, 4800, true);
    dsp_w(m, 0x41); /* 24000 Hz */
    dsp_w(m, 24000 >> 8);
    dsp_w(m, 24000 & 0xff);
    dsp_w(m, 0xb6); /* 16-bit auto-init, signed stereo, 2400 samples */
    dsp_w(m, 0x30);
    dsp_w(m, (2400 - 1) & 0xff);
    dsp_w(m, (2400 - 1) >> 8);
    g_assert_true(sb->dma16 && sb->dma_auto && sb->dma_stereo);
    /* 2400 samples stereo = 1200 frames = 50 ms per block. */
    int irqs = 0;
    for (int t = 0; t < 20; t++) {
        rig_advance(m, 10 * MS);
        if (irq5(m)) {
            irqs++;
            g_assert_cmphex(mix_r(m, 0x82) & 3, ==, 2);
            ioport_read(m->io, SB + 0xf, 1);
        }
    }
    g_assert_cmpint(irqs, ==, 4);
    /* Pause: time passes, no interrupt; continue: they come again. */
    dsp_w(m, 0xd5);
    rig_advance(m, 200 * MS);
    g_assert_false(irq5(m));
    dsp_w(m, 0xd6);
    rig_advance(m, 60 * MS);
    g_assert_true(irq5(m));
    ioport_read(m->io, SB + 0xf, 1);
    /* Exit auto-init: one more block, then it stops. */
    dsp_w(m, 0xd9);
    rig_advance(m, 60 * MS);
    g_assert_true(irq5(m));
    ioport_read(m->io, SB + 0xf, 1);
    g_assert_false(sb->dma_on);
    rig_advance(m, 200 * MS);
    g_assert_false(irq5(m));
    mimic_machine_free(m);
}

/* Saved in the middle of a block, loaded into a fresh machine: the block's
   interrupt comes at the same virtual time. */
static void test_state_mid_stream(void)
{
    MimicMachine *m = rig_new(configure);
    rig_pic_init(m, 1 << 5);
    dsp_reset(m);
    dma_setup(m, 1, 0x20000, 2000, true);
    dsp_w(m, 0x41);
    dsp_w(m, 20000 >> 8);
    dsp_w(m, 20000 & 0xff);
    dsp_w(m, 0xc6); /* 8-bit auto-init, unsigned mono, 2000 = 100 ms */
    dsp_w(m, 0x00);
    dsp_w(m, (2000 - 1) & 0xff);
    dsp_w(m, (2000 - 1) >> 8);
    rig_advance(m, 40 * MS);
    Sb16 *sb = sb_of(m);
    GByteArray *a = g_byte_array_new();
    state_save(sb16_info.state, sb, a);
    int64_t now = clock_now(m->clock);
    int64_t deadline = CLOCK_NEVER;
    for (int i = 0; i < clock_timer_count(m->clock); i++) {
        Timer *t = clock_timer_nth(m->clock, i);
        if (t == sb->timer) {
            deadline = timer_expire_time(t);
        }
    }
    g_assert_cmpint(deadline, >, now);
    g_assert_cmpint(deadline, <=, now + 61 * MS);

    MimicMachine *m2 = rig_new(configure);
    rig_pic_init(m2, 1 << 5);
    dma_setup(m2, 1, 0x20000, 2000, true);
    clock_set_now(m2->clock, now);
    Sb16 *sb2 = sb_of(m2);
    GError *err = NULL;
    state_load(sb16_info.state, sb2, sb16_info.state->version, a->data,
               a->len, NULL, &err);
    g_assert_no_error(err);
    timer_restore(sb2->timer, deadline, 0);
    g_assert_true(sb2->dma_on);
    rig_advance(m2, 55 * MS);
    g_assert_false(irq5(m2));
    rig_advance(m2, 10 * MS);
    g_assert_true(irq5(m2));
    /* A corrupt state is refused. */
    sb2->out_head = 200; /* out of range, saved then loaded back */
    GByteArray *c = g_byte_array_new();
    state_save(sb16_info.state, sb2, c);
    g_assert_false(state_load(sb16_info.state, sb2, sb16_info.state->version,
                              c->data, c->len, NULL, &err));
    g_assert_error(err, STATE_ERROR, STATE_ERROR_INVALID);
    g_clear_error(&err);
    g_byte_array_free(a, TRUE);
    g_byte_array_free(c, TRUE);
    mimic_machine_free(m);
    mimic_machine_free(m2);
}

/*
 * Any value to any port, with time passing and the DMA controller in any
 * state: nothing may crash (ASan/UBSan in make check) and the device's
 * invariants hold.  Bounded: a fixed number of operations, fixed seed.
 */
static void test_fuzz(void)
{
    MimicMachine *m = rig_new(configure);
    rig_pic_init(m, 1 << 5);
    Sb16 *sb = sb_of(m);
    GRand *r = g_rand_new_with_seed(19);
    int n = g_test_slow() ? 2000000 : 200000;
    for (int i = 0; i < n; i++) {
        uint32_t k = g_rand_int(r);
        switch (k % 16) {
        case 0: /* a command byte with plausible arguments */
            ioport_write(m->io, SB + 0xc, g_rand_int(r) & 0xff, 1);
            break;
        case 1:
            ioport_write(m->io, SB + 6, g_rand_int(r) & 1, 1);
            break;
        case 2:
            mix_w(m, g_rand_int(r) & 0xff, g_rand_int(r) & 0xff);
            break;
        case 3:
            mix_r(m, g_rand_int(r) & 0xff);
            break;
        case 4:
            dma_setup(m, g_rand_boolean(r) ? 1 : 5,
                      g_rand_int(r) & 0xffffff, (g_rand_int(r) & 0xffff) + 1,
                      g_rand_boolean(r));
            break;
        case 5:
            rig_advance(m, g_rand_int_range(r, 0, 30 * MS));
            break;
        case 6:
            ioport_write(m->io, SB + (g_rand_int(r) & 15),
                         g_rand_int(r) & 0xff, 1);
            break;
        case 7:
            ioport_read(m->io, SB + (g_rand_int(r) & 15), 1);
            break;
        case 8: /* the PC speaker's side: port 0x61, PIT channel 2 */
            ioport_write(m->io, 0x61, g_rand_int(r) & 0xff, 1);
            break;
        case 9:
            ioport_write(m->io, 0x43, 0x80 | (g_rand_int(r) & 0x3f), 1);
            ioport_write(m->io, 0x42, g_rand_int(r) & 0xff, 1);
            ioport_write(m->io, 0x42, g_rand_int(r) & 0xff, 1);
            break;
        default: /* mostly DSP data: commands get their arguments */
            ioport_write(m->io, SB + 0xc, g_rand_int(r) & 0xff, 1);
            break;
        }
        g_assert_cmpuint(sb->out_head, <, SB16_FIFO);
        g_assert_cmpuint(sb->out_len, <=, SB16_FIFO);
        g_assert_cmpuint(sb->nargs, <=, 4);
        g_assert_cmpuint(sb->dma_left, <=, sb->dma_block);
        g_assert_cmpuint(sb->rate, >=, 1000);
    }
    /* It still works afterwards. */
    dsp_reset(m);
    dsp_w(m, 0xe1);
    g_assert_cmpint(dsp_r(m), ==, 4);
    g_rand_free(r);
    mimic_machine_free(m);
}

static void configure_unknown(MachineConfig *cfg)
{
    configure(cfg);
    cfg->soundhw[2] = g_strdup("es1370"); /* e.g. from a machine file */
    cfg->n_soundhw = 3;
}

/* A card Mimic does not emulate is skipped with a warning, the others
   are there. */
static void test_unknown_card(void)
{
    MimicMachine *m = rig_new(configure_unknown);
    g_assert_nonnull(device_find(m->devices, "sb16"));
    g_assert_nonnull(device_find(m->devices, "pcspk"));
    mimic_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/sb16/dsp-basics", test_dsp_basics);
    g_test_add_func("/hw/sb16/dma8-single", test_dma8_single);
    g_test_add_func("/hw/sb16/dma16-auto", test_dma16_auto);
    g_test_add_func("/hw/sb16/state-mid-stream", test_state_mid_stream);
    g_test_add_func("/hw/sb16/fuzz", test_fuzz);
    g_test_add_func("/hw/sb16/unknown-card-skipped", test_unknown_card);
    return g_test_run();
}
