/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The OPL3 FM synthesizer on the pc board (src/hw/audio/opl3.c), driven
 * at the register level as a DOS game would: the AdLib timer detection
 * and the OPL3 status bits, a sine tone (a carrier with a silent
 * modulator) at the F-number's frequency and the carrier's level recorded
 * through the WAV backend, release to silence, frequency modulation
 * making harmonics, an octave by the block, the OPL3's right-only
 * output, the SB16's mirror of the ports, saved state, and a bounded fuzz
 * of the ports (under ASan and UBSan in make check).
 */
#include "pc-rig.h"

#include <glib/gstdio.h>
#include <math.h>

#include "bus/audio.h"
#include "hw/audio/opl3.h"

#define MS 1000000LL

static char *wav_path;

static void configure(MachineConfig *cfg)
{
    cfg->audiodevs[0].driver = g_strdup("wav");
    cfg->audiodevs[0].id = g_strdup("a0");
    cfg->audiodevs[0].path = g_strdup(wav_path);
    cfg->n_audiodevs = 1;
    cfg->soundhw[0] = g_strdup("sb16"); /* with its OPL3 at 0x388 */
    cfg->soundhw_audiodev[0] = g_strdup("a0");
    cfg->n_soundhw = 1;
}

static void w(MimicMachine *m, int bank, uint8_t reg, uint8_t v)
{
    ioport_write(m->io, 0x388 + 2 * bank, reg, 1);
    ioport_write(m->io, 0x389 + 2 * bank, v, 1);
}

static uint8_t status(MimicMachine *m)
{
    return ioport_read(m->io, 0x388, 1);
}

typedef struct Rec {
    int16_t *s; /* interleaved stereo at 48 kHz */
    size_t frames;
} Rec;

static void read_rec(Rec *r)
{
    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(wav_path, &data, &len, NULL));
    g_assert_cmpuint(len, >=, 44);
    r->frames = (len - 44) / 4;
    r->s = g_new(int16_t, 2 * r->frames + 2);
    memcpy(r->s, data + 44, 4 * r->frames);
    g_free(data);
}

/* Power of channel c at hz over [a, b) (Goertzel), full-scale sine 0.5. */
static double power_at(const Rec *r, int c, size_t a, size_t b, double hz)
{
    double k = 2 * cos(2 * M_PI * hz / 48000), s1 = 0, s2 = 0;
    for (size_t i = a; i < b; i++) {
        double s0 = r->s[2 * i + c] / 32768.0 + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double n = (double)(b - a);
    return 2 * (s1 * s1 + s2 * s2 - k * s1 * s2) / (n * n);
}

static double power_total(const Rec *r, int c, size_t a, size_t b)
{
    double e = 0;
    for (size_t i = a; i < b; i++) {
        double x = r->s[2 * i + c] / 32768.0;
        e += x * x;
    }
    return e / (double)(b - a);
}

/* Rising zero crossings of channel c over [a, b): the frequency. */
static double zc_freq(const Rec *r, int c, size_t a, size_t b)
{
    double first = -1, last = -1;
    int n = 0;
    for (size_t i = a + 1; i < b; i++) {
        int x0 = r->s[2 * (i - 1) + c], x1 = r->s[2 * i + c];
        if (x0 < 0 && x1 >= 0) {
            double t = (double)(i - 1) + (double)-x0 / (x1 - x0);
            if (first < 0) {
                first = t;
            }
            last = t;
            n++;
        }
    }
    return n > 2 ? (n - 1) * 48000.0 / (last - first) : 0;
}

static double db(double p)
{
    return 10 * log10(p > 1e-20 ? p : 1e-20);
}

/* Channel 0: modulator (slot 0) and carrier (slot 3) at F-number fnum,
   block, keyed on. */
static void tone(MimicMachine *m, int bank, unsigned fnum, unsigned block,
                 uint8_t mod_tl, uint8_t conn)
{
    w(m, bank, 0x20, 0x21); /* sustained, MULT 1 */
    w(m, bank, 0x40, mod_tl);
    w(m, bank, 0x60, 0xf0); /* attack 15, no decay */
    w(m, bank, 0x80, 0x0f); /* sustain 0 dB, release 15 */
    w(m, bank, 0x23, 0x21);
    w(m, bank, 0x43, 0x00); /* carrier at 0 dB */
    w(m, bank, 0x63, 0xf0);
    w(m, bank, 0x83, 0x0f);
    w(m, bank, 0xc0, conn);
    w(m, bank, 0xa0, fnum & 0xff);
    w(m, bank, 0xb0, 0x20 | block << 2 | fnum >> 8);
}

static void test_detect(void)
{
    wav_path = g_build_filename(g_get_tmp_dir(), "mimic-opl3-d.wav", NULL);
    MimicMachine *m = rig_new(configure);
    /* The AdLib detection: reset the timers, start timer 1 at 0xFF
       (80 us), wait, and find both flags. */
    w(m, 0, 0x04, 0x60);
    w(m, 0, 0x04, 0x80);
    g_assert_cmphex(status(m) & 0xe0, ==, 0x00);
    w(m, 0, 0x02, 0xff);
    w(m, 0, 0x04, 0x21);
    rig_advance(m, 50000);
    g_assert_cmphex(status(m) & 0xe0, ==, 0x00);
    rig_advance(m, 50000);
    g_assert_cmphex(status(m) & 0xe0, ==, 0xc0);
    g_assert_cmphex(status(m) & 0x06, ==, 0x00); /* an OPL3 */
    w(m, 0, 0x04, 0x60);
    w(m, 0, 0x04, 0x80);
    g_assert_cmphex(status(m), ==, 0x00);
    /* Timer 2 (320 us units), masked: no flag. */
    w(m, 0, 0x03, 0xfe);
    w(m, 0, 0x04, 0x22 | 0x20);
    rig_advance(m, MS);
    g_assert_cmphex(status(m) & 0xe0, ==, 0x00);
    /* The SB16's mirror: 0x228 reads the same status. */
    w(m, 0, 0x04, 0x02);
    rig_advance(m, MS);
    g_assert_cmphex(ioport_read(m->io, 0x228, 1) & 0xa0, ==, 0xa0);
    g_assert_cmphex(ioport_read(m->io, 0x220, 1) & 0xa0, ==, 0xa0);
    mimic_machine_free(m);
    g_unlink(wav_path);
    g_free(wav_path);
}

static void test_tone(void)
{
    wav_path = g_build_filename(g_get_tmp_dir(), "mimic-opl3-t.wav", NULL);
    MimicMachine *m = rig_new(configure);
    /* Through the SB16's ports 0x220/0x221 (bank 0): a sine at F-number
       0x241, block 4: 577 * 49716 * 2^(4 - 20) = 437.71 Hz. */
    ioport_write(m->io, 0x220, 0x01, 1);
    ioport_write(m->io, 0x221, 0x20, 1); /* WSE */
    tone(m, 0, 0x241, 4, 0x3f, 0x01); /* additive: the modulator -47 dB */
    rig_advance(m, 500 * MS);
    w(m, 0, 0xb0, 0x10 | 0x02);          /* key off: release */
    rig_advance(m, 200 * MS);
    /* Octave up with block 5, FM by a loud modulator. */
    tone(m, 0, 0x241, 5, 0x00, 0x00);
    rig_advance(m, 300 * MS);
    w(m, 0, 0xb0, 0x00);
    rig_advance(m, 100 * MS);
    Opl3 *s = (Opl3 *)device_find(m->devices, "opl3");
    g_assert_nonnull(s);
    GByteArray *a = g_byte_array_new();
    state_save(opl3_info.state, s, a);
    GError *err = NULL;
    g_assert_true(state_load(opl3_info.state, s, opl3_info.state->version,
                             a->data, a->len, NULL, &err));
    g_assert_no_error(err);
    s->op[3].stage = 9;
    GByteArray *b = g_byte_array_new();
    state_save(opl3_info.state, s, b);
    g_assert_false(state_load(opl3_info.state, s, opl3_info.state->version,
                              b->data, b->len, NULL, &err));
    g_assert_error(err, STATE_ERROR, STATE_ERROR_INVALID);
    g_clear_error(&err);
    s->op[3].stage = 0;
    g_byte_array_free(a, TRUE);
    g_byte_array_free(b, TRUE);
    mimic_machine_free(m); /* closes the WAV file */
    Rec r;
    read_rec(&r);
    g_assert_cmpuint(r.frames, >=, 48000);
    /* The first tone: 437.71 Hz within 0.2%, the carrier's full scale
       (4096 of 32768 peak: -21.07 dBFS RMS; the modulator adds 0.04 dB),
       a pure sine. */
    size_t a0 = 4800, b0 = 24000;
    double hz = zc_freq(&r, 0, a0, b0);
    g_test_message("tone %.3f Hz, %.2f dBFS", hz,
                   db(power_total(&r, 0, a0, b0)));
    g_assert_cmpfloat(fabs(hz - 437.71), <, 437.71 * 0.002);
    g_assert_cmpfloat(fabs(db(power_total(&r, 0, a0, b0)) -
                           20 * log10(4096 / 32768.0 / sqrt(2))), <, 0.5);
    g_assert_cmpfloat(db(power_at(&r, 0, a0, b0, 2 * 437.71)) -
                      db(power_at(&r, 0, a0, b0, 437.71)), <, -40);
    g_assert_cmpfloat(fabs(zc_freq(&r, 1, a0, b0) - hz), <, 0.01);
    /* Released at rate 60 (2.4 ms for 96 dB): silent 50 ms later. */
    for (size_t i = 24000 + 2400; i < 24000 + 9600; i++) {
        g_assert_cmpint(abs(r.s[2 * i]), <, 8);
    }
    /* The FM tone: the octave (875.4 Hz) as its period, its energy
       spread by the modulator over the harmonics (all of it at multiples
       of 875.4 Hz, the fundamental holding less than half). */
    size_t a1 = 33600 + 2400, b1 = 33600 + 14400;
    double total = power_total(&r, 0, a1, b1), harm = 0;
    for (int h = 1; h * 875.42 < 20000; h++) {
        harm += power_at(&r, 0, a1, b1, h * 875.42);
    }
    double f1 = power_at(&r, 0, a1, b1, 875.42);
    g_test_message("FM: fundamental %.1f dB, harmonics %.1f dB of %.1f dB",
                   db(f1), db(harm), db(total));
    g_assert_cmpfloat(db(f1) - db(total), <, -3);
    g_assert_cmpfloat(fabs(db(harm) - db(total)), <, 1.5);
    g_free(r.s);
    g_unlink(wav_path);
    g_free(wav_path);
}

static void test_opl3_stereo(void)
{
    wav_path = g_build_filename(g_get_tmp_dir(), "mimic-opl3-s.wav", NULL);
    MimicMachine *m = rig_new(configure);
    w(m, 1, 0x05, 0x01);            /* NEW: OPL3 mode */
    tone(m, 1, 0x241, 4, 0x3f, 0x20); /* bank 1 channel 9, right only */
    rig_advance(m, 300 * MS);
    mimic_machine_free(m);
    Rec r;
    read_rec(&r);
    size_t a = 4800, b = 14400;
    g_assert_cmpfloat(fabs(zc_freq(&r, 1, a, b) - 437.71), <, 1.0);
    g_assert_cmpfloat(db(power_total(&r, 0, a, b)), <, -90);
    g_free(r.s);
    g_unlink(wav_path);
    g_free(wav_path);
}

static void test_fuzz(void)
{
    wav_path = g_build_filename(g_get_tmp_dir(), "mimic-opl3-f.wav", NULL);
    MimicMachine *m = rig_new(configure);
    Opl3 *s = (Opl3 *)device_find(m->devices, "opl3");
    GRand *r = g_rand_new_with_seed(262);
    int n = g_test_slow() ? 200000 : 20000;
    for (int i = 0; i < n; i++) {
        uint32_t v = g_rand_int(r);
        switch (v % 8) {
        case 0:
            rig_advance(m, g_rand_int_range(r, 0, 2 * MS));
            break;
        case 1:
            ioport_read(m->io, 0x388 + (v >> 8) % 4, 1);
            break;
        case 2:
            ioport_write(m->io, 0x220 + (v >> 8) % 16, v >> 16, 1);
            break;
        default:
            ioport_write(m->io, 0x388 + (v >> 8) % 4, v >> 16, 1);
            break;
        }
        for (int k = 0; k < 36; k++) {
            g_assert_cmpuint(s->op[k].stage, <=, 4);
            g_assert_cmpuint(s->op[k].env, <=, 96u << 20);
        }
    }
    g_rand_free(r);
    mimic_machine_free(m);
    g_unlink(wav_path);
    g_free(wav_path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/opl3/detect", test_detect);
    g_test_add_func("/hw/opl3/tone", test_tone);
    g_test_add_func("/hw/opl3/opl3-stereo", test_opl3_stereo);
    g_test_add_func("/hw/opl3/fuzz", test_fuzz);
    return g_test_run();
}
