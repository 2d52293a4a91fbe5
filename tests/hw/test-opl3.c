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

/* One operator at register offset slot: sustained, MULT 1, total level
   tl, instant attack, no decay, sine. */
static void op_setup(MimicMachine *m, int bank, int slot, uint8_t tl)
{
    w(m, bank, 0x20 + slot, 0x21);
    w(m, bank, 0x40 + slot, tl);
    w(m, bank, 0x60 + slot, 0xf0);
    w(m, bank, 0x80 + slot, 0x0f);
    w(m, bank, 0xe0 + slot, 0x00);
}

static void freq(MimicMachine *m, int bank, int c, unsigned fnum,
                 unsigned block, bool key)
{
    w(m, bank, 0xa0 + c, fnum & 0xff);
    w(m, bank, 0xb0 + c, (key ? 0x20 : 0) | block << 2 | fnum >> 8);
}

/* Share of channel 0's power over [a, b) at the harmonics of hz. */
static double harmonic_share(const Rec *r, size_t a, size_t b, double hz)
{
    double harm = 0;
    for (int h = 1; h * hz < 20000; h++) {
        harm += power_at(r, 0, a, b, h * hz);
    }
    return harm / power_total(r, 0, a, b);
}

#define SINE_DB (20 * log10(4096 / 32768.0 / sqrt(2))) /* -21.07 dBFS */

/* Rhythm mode (0xBD bit 5), each instrument keyed by its own bit, 150 ms
   apart: bass drum (channel 6, FM with a silent modulator: a sine at
   F-number 0x241 block 4, 437.71 Hz), tom-tom (channel 8's first
   operator alone: channel 8's F-number 0x241 block 5, 875.42 Hz), then
   snare drum, hi-hat and cymbal (channel 7's and 8's operators with the
   noise generator and the metal pattern: loud, but no tone: a good part
   of their power away from any harmonic of their channel's frequency). */
static void test_rhythm(void)
{
    wav_path = g_build_filename(g_get_tmp_dir(), "mimic-opl3-r.wav", NULL);
    MimicMachine *m = rig_new(configure);
    w(m, 0, 0x01, 0x20); /* WSE */
    op_setup(m, 0, 0x10, 0x3f); /* bass drum: modulator silent */
    op_setup(m, 0, 0x13, 0x00); /* carrier 0 dB */
    w(m, 0, 0xc6, 0x00);        /* FM */
    op_setup(m, 0, 0x11, 0x00); /* hi-hat */
    op_setup(m, 0, 0x14, 0x00); /* snare drum */
    op_setup(m, 0, 0x12, 0x00); /* tom-tom */
    op_setup(m, 0, 0x15, 0x00); /* cymbal */
    freq(m, 0, 6, 0x241, 4, false);
    freq(m, 0, 7, 0x241, 4, false);
    freq(m, 0, 8, 0x241, 5, false);
    w(m, 0, 0xbd, 0x20); /* rhythm mode, nothing keyed: silence */
    rig_advance(m, 50 * MS);
    static const uint8_t bits[5] = { 0x10, 0x04, 0x08, 0x01, 0x02 };
    for (int i = 0; i < 5; i++) {
        w(m, 0, 0xbd, 0x20 | bits[i]);
        rig_advance(m, 100 * MS);
        w(m, 0, 0xbd, 0x20);
        rig_advance(m, 50 * MS); /* release 15: silent in 3 ms */
    }
    mimic_machine_free(m);
    Rec r;
    read_rec(&r);
    g_assert_cmpuint(r.frames, >=, 48000 * 8 / 10);
    /* Before any key: silent, though channels 6-8 hold frequencies. */
    g_assert_cmpfloat(db(power_total(&r, 0, 480, 2400)), <, -90);
    static const char *names[5] = { "bass drum", "tom-tom", "snare drum",
                                    "hi-hat", "cymbal" };
    static const double hz[5] = { 437.71, 875.42, 437.71, 437.71, 875.42 };
    for (int i = 0; i < 5; i++) {
        size_t a = 2400 + 7200 * i + 480, b = a + 4320;
        double p = db(power_total(&r, 0, a, b));
        double share = harmonic_share(&r, a, b, hz[i]);
        double f = zc_freq(&r, 0, a, b);
        g_test_message("%s: %.2f dBFS, %.3f Hz by zero crossings, %.0f%% "
                       "at harmonics of %.2f Hz", names[i], p, f,
                       100 * share, hz[i]);
        if (i < 2) {
            /* Pitched: a pure sine at the channel's frequency, the
               carrier's full scale. */
            g_assert_cmpfloat(fabs(f - hz[i]), <, hz[i] * 0.002);
            g_assert_cmpfloat(fabs(p - SINE_DB), <, 0.5);
            g_assert_cmpfloat(share, >, 0.99);
        } else {
            /* Noise and metal: audible, and not a tone (a quarter of
               the power or more away from the harmonics; the snare drum
               keeps half in its operator's half-cycle square). */
            g_assert_cmpfloat(p, >, SINE_DB - 10);
            g_assert_cmpfloat(share, <, 0.75);
        }
        /* Silent after its release. */
        g_assert_cmpfloat(db(power_total(&r, 0, b + 960, b + 2400)), <, -90);
    }
    g_free(r.s);
    g_unlink(wav_path);
    g_free(wav_path);
}

/* 4-operator channels (OPL3 mode, 0x104 bit 0 pairs channels 0 and 3):
   the four operators follow channel 0's frequency and key (channel 3
   holds another frequency and no key).  AM-AM (both connection bits):
   operator 4 alone at 0 dB is a sine at 437.71 Hz at the carrier's full
   scale; FM-FM (neither): operator 3 at 0 dB modulates operator 4, the
   tone's power spreads over the harmonics; without the pairing channel
   0's own operators (silent) play alone. */
static void test_four_op(void)
{
    wav_path = g_build_filename(g_get_tmp_dir(), "mimic-opl3-4.wav", NULL);
    MimicMachine *m = rig_new(configure);
    w(m, 1, 0x05, 0x01); /* NEW */
    w(m, 1, 0x04, 0x01); /* channels 0 + 3: one 4-operator channel */
    op_setup(m, 0, 0x00, 0x3f); /* operator 1 */
    op_setup(m, 0, 0x03, 0x3f); /* operator 2 */
    op_setup(m, 0, 0x08, 0x3f); /* operator 3 */
    op_setup(m, 0, 0x0b, 0x00); /* operator 4 */
    w(m, 0, 0xc0, 0x31);        /* left + right, connection 1 */
    w(m, 0, 0xc3, 0x01);        /* connection 1: AM-AM */
    freq(m, 0, 3, 0x100, 2, false);
    freq(m, 0, 0, 0x241, 4, true);
    rig_advance(m, 200 * MS);
    w(m, 0, 0xc0, 0x30);        /* FM-FM */
    w(m, 0, 0xc3, 0x00);
    w(m, 0, 0x48, 0x00);        /* operator 3 at 0 dB */
    rig_advance(m, 200 * MS);
    w(m, 1, 0x04, 0x00);        /* two 2-operator channels again */
    rig_advance(m, 200 * MS);
    mimic_machine_free(m);
    Rec r;
    read_rec(&r);
    g_assert_cmpuint(r.frames, >=, 28800);
    size_t a = 2400, b = 9600;
    double f = zc_freq(&r, 0, a, b), p = db(power_total(&r, 0, a, b));
    g_test_message("AM-AM: %.3f Hz, %.2f dBFS", f, p);
    g_assert_cmpfloat(fabs(f - 437.71), <, 437.71 * 0.002);
    g_assert_cmpfloat(fabs(p - SINE_DB), <, 0.5);
    g_assert_cmpfloat(fabs(zc_freq(&r, 1, a, b) - f), <, 0.01);
    a = 9600 + 1200;
    b = 19200 - 1200;
    double f1 = power_at(&r, 0, a, b, 437.71), tot = power_total(&r, 0, a, b);
    double share = harmonic_share(&r, a, b, 437.71);
    g_test_message("FM-FM: fundamental %.1f dB of %.1f dB, %.0f%% at "
                   "harmonics", db(f1), db(tot), 100 * share);
    g_assert_cmpfloat(db(f1) - db(tot), <, -3);
    g_assert_cmpfloat(share, >, 0.9);
    /* Unpaired: channel 0's operators 1 and 2 (at -47 dB, FM) alone. */
    g_assert_cmpfloat(db(power_total(&r, 0, 19200 + 1200, 28800)), <,
                      SINE_DB - 40);
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
    g_test_add_func("/hw/opl3/rhythm", test_rhythm);
    g_test_add_func("/hw/opl3/four-op", test_four_op);
    g_test_add_func("/hw/opl3/fuzz", test_fuzz);
    return g_test_run();
}
