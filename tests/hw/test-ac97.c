/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The AC'97 controller on the pc board (src/hw/audio/ac97.c): PCI
 * identity and BARs, the codec's defaults, VRA and rates, the CAS
 * semaphore, PCM out through a buffer descriptor list (interrupt on
 * completion at the buffer's end in virtual time, last-valid-buffer halt,
 * restart by moving LVI, reset registers, no DMA without bus mastering),
 * cold reset, saved state mid-stream, and a bounded fuzz of both BARs
 * with random descriptor lists (run under ASan and UBSan by make check).
 */
#include "pc-rig.h"

#include <glib/gstdio.h>

#include "hw/audio/ac97.h"

#define DEVFN (3 << 3)
#define NAM 0xc000
#define NABM 0xc400
#define PO 0x10
#define MS 1000000LL

/* in.path= of the audio device (test_pcm_in), or NULL. */
static const char *in_path;

static void configure(MachineConfig *cfg)
{
    cfg->audiodevs[0].in_path = g_strdup(in_path);
    cfg->audiodevs[0].driver = g_strdup("none");
    cfg->audiodevs[0].id = g_strdup("a0");
    cfg->n_audiodevs = 1;
    cfg->soundhw[0] = g_strdup("ac97");
    cfg->soundhw_audiodev[0] = g_strdup("a0");
    cfg->n_soundhw = 1;
    cfg->net_none = true;   /* the AC'97 alone, at 00:03.0 */
}

static Ac97 *ac_of(MimicMachine *m)
{
    Device *d = device_find(m->devices, "ac97");
    g_assert_nonnull(d);
    return (Ac97 *)d;
}

static MimicMachine *setup(void)
{
    MimicMachine *m = rig_new(configure);
    rig_pci_write(m, DEVFN, 0x10, NAM | 1, 4);
    rig_pci_write(m, DEVFN, 0x14, NABM | 1, 4);
    rig_pci_write(m, DEVFN, 0x04, 0x05, 2); /* I/O, bus master */
    ioport_write(m->io, NABM + 0x2c, 2, 4);  /* out of cold reset */
    return m;
}

static uint16_t nam_r(MimicMachine *m, int reg)
{
    return ioport_read(m->io, NAM + reg, 2);
}

static void nam_w(MimicMachine *m, int reg, uint16_t v)
{
    ioport_write(m->io, NAM + reg, v, 2);
}

static void put_bd(MimicMachine *m, uint32_t bdl, int i, uint32_t addr,
                   uint16_t samples, uint16_t flags)
{
    uint8_t *p = m->board.ram + bdl + 8 * i;
    p[0] = addr;
    p[1] = addr >> 8;
    p[2] = addr >> 16;
    p[3] = addr >> 24;
    p[4] = samples;
    p[5] = samples >> 8;
    p[6] = flags;
    p[7] = flags >> 8;
}

static void test_identity_codec(void)
{
    MimicMachine *m = setup();
    g_assert_cmphex(rig_pci_read(m, DEVFN, 0, 4), ==, 0x24158086);
    g_assert_cmphex(rig_pci_read(m, DEVFN, 8, 4) >> 8, ==, 0x040100);
    g_assert_cmpint(rig_pci_read(m, DEVFN, 0x3d, 1), ==, 1); /* INTA# */
    g_assert_cmphex(nam_r(m, 0x7c), ==, 0x8384);
    g_assert_cmphex(nam_r(m, 0x7e), ==, 0x7600);
    g_assert_cmphex(nam_r(m, 0x02), ==, 0x8000); /* master muted */
    g_assert_cmphex(nam_r(m, 0x18), ==, 0x8808);
    g_assert_cmphex(nam_r(m, 0x26) & 0xf, ==, 0xf);
    g_assert_cmphex(nam_r(m, 0x28) & 1, ==, 1); /* VRA */
    /* Without VRA the rate stays 48 kHz; with it, it follows. */
    nam_w(m, 0x2c, 22050);
    g_assert_cmpint(nam_r(m, 0x2c), ==, 48000);
    nam_w(m, 0x2a, 1);
    nam_w(m, 0x2c, 22050);
    g_assert_cmpint(nam_r(m, 0x2c), ==, 22050);
    nam_w(m, 0x02, 0x0000);
    nam_w(m, 0x00, 0); /* codec reset */
    g_assert_cmphex(nam_r(m, 0x02), ==, 0x8000);
    g_assert_cmpint(nam_r(m, 0x2c), ==, 48000);
    /* CAS: the first read gets 0 and takes it; a codec access frees it. */
    g_assert_cmpint(ioport_read(m->io, NABM + 0x34, 1), ==, 0);
    g_assert_cmpint(ioport_read(m->io, NABM + 0x34, 1), ==, 1);
    nam_r(m, 0x02);
    g_assert_cmpint(ioport_read(m->io, NABM + 0x34, 1), ==, 0);
    /* The primary codec is ready. */
    g_assert_cmphex(ioport_read(m->io, NABM + 0x30, 4) & 0x100, ==, 0x100);
    mimic_machine_free(m);
}

/* Two buffers of 480 samples (240 frames, 5 ms at 48 kHz) with IOC. */
static void start_two(MimicMachine *m, uint8_t cr)
{
    put_bd(m, 0x9000, 0, 0x20000, 480, 0x8000);
    put_bd(m, 0x9000, 1, 0x21000, 480, 0x8000);
    ioport_write(m->io, NABM + PO + 0, 0x9000, 4);
    ioport_write(m->io, NABM + PO + 5, 1, 1);
    ioport_write(m->io, NABM + PO + 0xb, cr, 1);
}

static void test_pcm_out(void)
{
    MimicMachine *m = setup();
    Ac97 *ac = ac_of(m);
    /* PIIX3 PIRQ routing: C -> IRQ 10, D -> IRQ 11; slot 3's INTA# is
       PIRQC ((slot - 1 + pin) & 3, as SeaBIOS and the DSDT assume). */
    rig_pic_init(m, 1 << 10 | 1 << 11);
    rig_pci_write(m, 1 << 3, 0x60, 0x0b0a8080, 4);
    g_assert_cmphex(rig_pci_read(m, 1 << 3, 0x60, 4), ==, 0x0b0a8080);
    start_two(m, 0x15); /* RPBM | LVBIE | IOCE */
    g_assert_cmphex(ioport_read(m->io, NABM + PO + 6, 2) & 1, ==, 0);
    g_assert_cmpint(ioport_read(m->io, NABM + PO + 8, 2), ==, 480);
    rig_advance(m, 2500000); /* half the first buffer */
    int picb = ioport_read(m->io, NABM + PO + 8, 2);
    g_assert_cmpint(picb, >=, 230);
    g_assert_cmpint(picb, <=, 250);
    g_assert_false(ac->irq_level);
    rig_advance(m, 3 * MS);
    g_assert_true(ac->irq_level);
    ioport_write(m->io, 0xa0, 0x0a, 1); /* OCW3: read the slave's IRR */
    g_assert_cmphex(ioport_read(m->io, 0xa0, 1) & 0x0c, ==, 0x04);
    uint16_t sr = ioport_read(m->io, NABM + PO + 6, 2);
    g_assert_cmphex(sr & 0x08, ==, 0x08); /* BCIS */
    g_assert_cmphex(ioport_read(m->io, NABM + 0x30, 4) & 0x40, ==, 0x40);
    g_assert_cmpint(ioport_read(m->io, NABM + PO + 4, 1), ==, 1); /* CIV */
    ioport_write(m->io, NABM + PO + 6, 0x1c, 2);
    g_assert_false(ac->irq_level);
    rig_advance(m, 6 * MS);
    sr = ioport_read(m->io, NABM + PO + 6, 2);
    g_assert_cmphex(sr & 0x0f, ==, 0x0f); /* DCH CELV LVBCI BCIS */
    g_assert_true(ac->irq_level);
    ioport_write(m->io, NABM + PO + 6, 0x1c, 2);
    g_assert_false(ac->irq_level);
    /* Halted at the last valid buffer; moving LVI goes on. */
    put_bd(m, 0x9000, 2, 0x22000, 480, 0x8000);
    ioport_write(m->io, NABM + PO + 5, 2, 1);
    sr = ioport_read(m->io, NABM + PO + 6, 2);
    g_assert_cmphex(sr & 0x03, ==, 0);
    g_assert_cmpint(ioport_read(m->io, NABM + PO + 4, 1), ==, 2);
    rig_advance(m, 6 * MS);
    g_assert_true(ac->irq_level);
    /* Reset registers. */
    ioport_write(m->io, NABM + PO + 0xb, 0x02, 1);
    g_assert_cmphex(ioport_read(m->io, NABM + PO + 6, 2), ==, 0x01);
    g_assert_cmpint(ioport_read(m->io, NABM + PO + 0, 4), ==, 0);
    g_assert_cmpint(ioport_read(m->io, NABM + PO + 4, 1), ==, 0);
    g_assert_false(ac->irq_level);
    mimic_machine_free(m);
}

/* PCM in records the input through the record gain into its buffers,
   with IOC at each buffer's end; muted (the reset value), silence. */
static void test_pcm_in(void)
{
    /* Left 8000, right -4000. */
    g_autofree char *path = rig_dc_wav("mimic-ac97-in.wav", 8000, -4000);
    in_path = path;
    MimicMachine *m = setup();
    in_path = NULL;
    Ac97 *ac = ac_of(m);
    nam_w(m, 0x1c, 0x0000); /* record gain 0 dB, unmuted */
    put_bd(m, 0x9000, 0, 0x20000, 480, 0x8000);
    put_bd(m, 0x9000, 1, 0x21000, 480, 0x8000);
    memset(m->board.ram + 0x20000, 0x55, 0x2000);
    ioport_write(m->io, NABM + 0x00, 0x9000, 4);
    ioport_write(m->io, NABM + 0x05, 1, 1);
    ioport_write(m->io, NABM + 0x0b, 0x15, 1);
    rig_advance(m, 6 * MS);
    g_assert_true(ac->irq_level);
    g_assert_cmphex(ioport_read(m->io, NABM + 0x06, 2) & 0x08, ==, 0x08);
    g_assert_cmphex(ioport_read(m->io, NABM + 0x30, 4) & 0x20, ==, 0x20);
    const uint8_t *b = m->board.ram + 0x20000;
    for (int f = 0; f < 240; f++) {
        g_assert_cmpint((int16_t)(b[4 * f] | b[4 * f + 1] << 8), ==, 8000);
        g_assert_cmpint((int16_t)(b[4 * f + 2] | b[4 * f + 3] << 8), ==,
                        -4000);
    }
    ioport_write(m->io, NABM + 0x06, 0x1c, 2);
    nam_w(m, 0x1c, 0x8000); /* muted */
    rig_advance(m, 6 * MS);
    g_assert_cmphex(ioport_read(m->io, NABM + 0x06, 2) & 0x0f, ==, 0x0f);
    b = m->board.ram + 0x21000; /* its first ms came before the mute */
    for (int f = 100; f < 240; f++) {
        g_assert_cmpint(b[4 * f] | b[4 * f + 1] << 8, ==, 0);
    }
    mimic_machine_free(m);
    g_unlink(path);
}

static void test_no_bus_master(void)
{
    MimicMachine *m = setup();
    rig_pci_write(m, DEVFN, 0x04, 0x01, 2); /* I/O only */
    start_two(m, 0x15);
    rig_advance(m, 20 * MS);
    g_assert_cmpint(ioport_read(m->io, NABM + PO + 8, 2), ==, 480);
    g_assert_false(ac_of(m)->irq_level);
    rig_pci_write(m, DEVFN, 0x04, 0x05, 2);
    rig_advance(m, 6 * MS);
    g_assert_true(ac_of(m)->irq_level);
    /* Cold reset: the boxes and the codec. */
    ioport_write(m->io, NABM + 0x2c, 0, 4);
    g_assert_false(ac_of(m)->irq_level);
    g_assert_cmphex(ioport_read(m->io, NABM + PO + 6, 2), ==, 0x01);
    g_assert_cmphex(nam_r(m, 0x02), ==, 0x8000);
    mimic_machine_free(m);
}

static void test_state(void)
{
    MimicMachine *m = setup();
    start_two(m, 0x15);
    rig_advance(m, 2 * MS);
    Ac97 *ac = ac_of(m);
    GByteArray *a = g_byte_array_new();
    state_save(ac97_info.state, ac, a);
    GError *err = NULL;
    g_assert_true(state_load(ac97_info.state, ac, ac97_info.state->version,
                             a->data, a->len, NULL, &err));
    g_assert_no_error(err);
    GByteArray *b = g_byte_array_new();
    state_save(ac97_info.state, ac, b);
    g_assert_cmpmem(a->data, a->len, b->data, b->len);
    rig_advance(m, 4 * MS); /* the restored stream goes on */
    g_assert_true(ac->irq_level);
    ac->box[1].civ = 40;
    GByteArray *c = g_byte_array_new();
    state_save(ac97_info.state, ac, c);
    g_assert_false(state_load(ac97_info.state, ac, ac97_info.state->version,
                              c->data, c->len, NULL, &err));
    g_assert_error(err, STATE_ERROR, STATE_ERROR_INVALID);
    g_clear_error(&err);
    g_byte_array_free(a, TRUE);
    g_byte_array_free(b, TRUE);
    g_byte_array_free(c, TRUE);
    mimic_machine_free(m);
}

static void test_fuzz(void)
{
    MimicMachine *m = setup();
    Ac97 *ac = ac_of(m);
    GRand *r = g_rand_new_with_seed(97);
    /* Random descriptor lists anywhere in the first MiB and beyond RAM. */
    for (int i = 0; i < 32 * 8; i++) {
        m->board.ram[0x9000 + i] = g_rand_int(r);
    }
    int n = g_test_slow() ? 2000000 : 200000;
    static const unsigned sizes[3] = { 1, 2, 4 };
    for (int i = 0; i < n; i++) {
        uint32_t k = g_rand_int(r) % 12;
        unsigned size = sizes[g_rand_int(r) % 3];
        uint32_t v = g_rand_int(r);
        switch (k) {
        case 0: case 1: case 2:
            ioport_write(m->io, NABM + (g_rand_int(r) & 63), v, size);
            break;
        case 3:
            ioport_read(m->io, NABM + (g_rand_int(r) & 63), size);
            break;
        case 4:
            ioport_write(m->io, NAM + (g_rand_int(r) & 255), v, size);
            break;
        case 5:
            ioport_read(m->io, NAM + (g_rand_int(r) & 255), size);
            break;
        case 6:
            rig_advance(m, g_rand_int_range(r, 0, 20 * MS));
            break;
        case 7:
            m->board.ram[0x9000 + g_rand_int_range(r, 0, 256)] = v;
            break;
        case 8: /* a list of short buffers, then run */
            ioport_write(m->io, NABM + PO, 0x9000 + (v & 0xf8), 4);
            ioport_write(m->io, NABM + PO + 0xb, 0x1d, 1);
            break;
        case 9:
            rig_pci_write(m, DEVFN, 0x04, v & 7, 2);
            break;
        case 10:
            ioport_write(m->io, NABM + PO, v, 4); /* BDL anywhere */
            break;
        default:
            ioport_write(m->io, NABM + PO + 5, v & 31, 1);
            break;
        }
        for (int b = 0; b < 3; b++) {
            g_assert_cmpuint(ac->box[b].civ, <=, 31);
            g_assert_cmpuint(ac->box[b].lvi, <=, 31);
            g_assert_cmpuint(ac->box[b].piv, <=, 31);
        }
        g_assert_cmpuint(ac->codec[0x2c / 2], >=, 8000);
        g_assert_cmpuint(ac->codec[0x2c / 2], <=, 48000);
    }
    g_rand_free(r);
    /* Still answers. */
    g_assert_cmphex(rig_pci_read(m, DEVFN, 0, 4), ==, 0x24158086);
    mimic_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/ac97/identity-codec", test_identity_codec);
    g_test_add_func("/hw/ac97/pcm-out", test_pcm_out);
    g_test_add_func("/hw/ac97/pcm-in", test_pcm_in);
    g_test_add_func("/hw/ac97/no-bus-master", test_no_bus_master);
    g_test_add_func("/hw/ac97/state", test_state);
    g_test_add_func("/hw/ac97/fuzz", test_fuzz);
    return g_test_run();
}
