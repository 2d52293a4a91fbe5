/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Yamaha YMF262 (OPL3) FM synthesizer, compatible with the YM3812 (OPL2)
 * of the AdLib and the Sound Blaster's FM part.
 * References: Yamaha YMF262 and YM3812 application manuals: the register
 * map (0x01 test/WSE, 0x02-0x04 timers, 0x08 CSM/NTS, 0x20-0x35
 * AM/VIB/EGT/KSR/MULT, 0x40-0x55 KSL/TL, 0x60-0x75 AR/DR, 0x80-0x95
 * SL/RR, 0xA0-0xA8 F-number, 0xB0-0xB8 key on/block/F-number, 0xBD
 * depth/rhythm, 0xC0-0xC8 feedback/connection (and the OPL3's left/right
 * outputs), 0xE0-0xF5 waveform select; bank 1 at 0x38A/0x38B with 0x104
 * (4-operator connections) and 0x105 (NEW)); the status register (IRQ,
 * timer 1 and 2 flags; bits 1-2 zero on an OPL3, which is how drivers
 * tell it from an OPL2).
 *
 * The synthesis model (rendered at 48 kHz, the chip's 49716 Hz steps
 * scaled, so that no resampler runs; the voice rests while every
 * operator is silent): per operator a
 * phase accumulator (F-number << block times the multiple: f = F *
 * 49716 * 2^(block - 20) * MULT), a waveform (sine, half, absolute,
 * quarter; with NEW also alternating, camel, square and logarithmic saw),
 * and an envelope generator in dB (exponential attack, linear decay to
 * the sustain level in 3 dB steps, sustain or percussive decay, linear
 * release; rates 4 * R + the key scale offset, the data sheet's times:
 * attack 2826 ms and decay 39280 ms at rate 4, halved every 4 steps);
 * total level in 0.75 dB steps, key scale level (0, 1.5, 3, 6 dB per
 * octave), tremolo (3.7 Hz, 1 or 4.8 dB) and vibrato (6.1 Hz, 7 or 14
 * cents).  Channels are two operators: FM (the first modulates the
 * second's phase, up to 4 cycles at full scale) or additive, with
 * self-feedback on the first (pi/16 to 4 pi).  Output: each carrier at
 * full scale is 4096 of 32767, channels summed, stereo with NEW.
 * Timers: 80 and 320 us counters; their flags follow virtual time.
 *
 * Rhythm mode (0xBD bit 5; Arnost's "Programmer's Guide to Yamaha YMF
 * 262/OPL3", "Percussion mode"): channels 6-8 give up their melodic
 * voices to five instruments, each keyed by its own 0xBD bit (or the
 * channel's key): bass drum (bit 4) is channel 6 as a 2-operator
 * channel; hi-hat (bit 0) and snare drum (bit 3) are channel 7's
 * operators, tom-tom (bit 2) and top cymbal (bit 1) channel 8's, each
 * sounding alone at its channel's frequency: the tom-tom a plain
 * operator; the cymbal a "metal" square pattern from phase bits of the
 * hi-hat's and the cymbal's operators; the hi-hat that pattern broken by
 * the noise generator (a 23-bit LFSR stepped every sample); the snare
 * drum the hi-hat operator's phase (its half-cycle) broken by the noise.
 * 4-operator channels (OPL3 mode, 0x104 bits 0-5 pair channels 0-2 with
 * 3-5 and 9-11 with 12-14): the first channel's frequency, key and
 * feedback drive the four operators, its and its partner's connection
 * bits choose one of four algorithms: FM-FM (1>2>3>4), AM-FM
 * (1 + 2>3>4), FM-AM (1>2 + 3>4), AM-AM (1 + 2>3 + 4).
 * Not emulated: CSM.
 */
#include "hw/audio/opl3.h"

#include <math.h>
#include <string.h>

#include "hw/board.h"

enum { OPL_EG_OFF, OPL_EG_ATTACK, OPL_EG_DECAY, OPL_EG_SUSTAIN,
       OPL_EG_RELEASE };

/* Rendered at the mixer's rate, so that no resampler runs: the phase
   increments are the chip's scaled by 49716 / 48000. */
#define OUT_RATE 48000
#define ENV_ONE (1u << 20)          /* 1 dB */
#define ENV_MAX (96u * ENV_ONE)     /* silent */
#define WAVE_LEN 1024

/* Operator slots of the 18 two-operator channels: offsets into the
   0x20-0xF5 register groups. */
static const uint8_t slot_of_chan[9] = { 0, 1, 2, 8, 9, 10, 16, 17, 18 };

/* MULT: twice the multiple (0.5, 1, 2 ... 10, 12, 12, 15, 15). */
static const uint8_t mult2[16] = { 1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
                                   20, 24, 24, 30, 30 };

/* Key scale level base in dB by the F-number's top 4 bits (block 7). */
static const float ksl_db[16] = { 0.0f, 9.0f, 12.0f, 13.875f, 15.0f,
                                  16.125f, 16.875f, 17.625f, 18.0f, 18.75f,
                                  19.125f, 19.5f, 19.875f, 20.25f, 20.625f,
                                  21.0f };

static float sine_tab[WAVE_LEN];
/* Attenuation in 1/32 dB to a linear gain, 0 to 96 dB. */
#define DB_STEPS 32
static float gain_tab[96 * DB_STEPS + 1];

static void tables_init(void)
{
    static bool done;
    if (!done) {
        for (int i = 0; i < WAVE_LEN; i++) {
            sine_tab[i] = (float)sin(2 * M_PI * (i + 0.5) / WAVE_LEN);
        }
        for (int i = 0; i <= 96 * DB_STEPS; i++) {
            gain_tab[i] = (float)pow(10.0, -(double)i / DB_STEPS / 20.0);
        }
        gain_tab[96 * DB_STEPS] = 0.0f;
        done = true;
    }
}

/* Waveform w at index i of 1024. */
static float wave(int w, unsigned i)
{
    i &= WAVE_LEN - 1;
    float s = sine_tab[i];
    bool first = i < WAVE_LEN / 2;
    switch (w) {
    case 0:
        return s;
    case 1:
        return first ? s : 0.0f;
    case 2:
        return fabsf(s);
    case 3:
        return (i & (WAVE_LEN / 2 - 1)) < WAVE_LEN / 4 ? fabsf(s) : 0.0f;
    case 4:
        return first ? sine_tab[(2 * i) & (WAVE_LEN - 1)] : 0.0f;
    case 5:
        return first ? fabsf(sine_tab[(2 * i) & (WAVE_LEN - 1)]) : 0.0f;
    case 6:
        return first ? 1.0f : -1.0f;
    default: { /* logarithmic saw: exponential decay each half */
        float t = (float)(i & (WAVE_LEN / 2 - 1)) / (WAVE_LEN / 2);
        float v = powf(10.0f, -t * 96.0f / 20.0f * 0.5f);
        return first ? v : -v;
    }
    }
}

/* ---- register helpers ---- */

static bool opl3_mode(const Opl3 *s)
{
    return s->reg[1][0x05] & 1;
}

/* Channel c (0-17) register at group base (0xA0, 0xB0, 0xC0). */
static uint8_t chreg(const Opl3 *s, int c, int base)
{
    return s->reg[c / 9][base + c % 9];
}

/* Operator k (0 or 1) of channel c: its register offset and index. */
static int op_off(int c, int k)
{
    return slot_of_chan[c % 9] + 3 * k;
}

static uint8_t opreg(const Opl3 *s, int c, int k, int base)
{
    return s->reg[c / 9][base + op_off(c, k)];
}

static OplOp *op_of(Opl3 *s, int c, int k)
{
    return &s->op[2 * c + k];
}

/* Channel c (0-17) the first of a 4-operator pair (OPL3 mode, 0x104). */
static bool four_op_first(const Opl3 *s, int c)
{
    int i = c % 9;
    return opl3_mode(s) && i < 3 &&
           (s->reg[1][0x04] & (1 << (i + 3 * (c / 9))));
}

/* The channel whose frequency and key channel c's operators follow: the
   first of its 4-operator pair, else itself. */
static int lead_chan(const Opl3 *s, int c)
{
    int i = c % 9;
    return (i >= 3 && i < 6 && four_op_first(s, c - 3)) ? c - 3 : c;
}

static bool rhythm_mode(const Opl3 *s)
{
    return s->reg[0][0xbd] & 0x20;
}

static unsigned chan_fnum(const Opl3 *s, int c)
{
    c = lead_chan(s, c);
    return chreg(s, c, 0xa0) | (chreg(s, c, 0xb0) & 3) << 8;
}

static unsigned chan_block(const Opl3 *s, int c)
{
    return (chreg(s, lead_chan(s, c), 0xb0) >> 2) & 7;
}

/* Whether operator k of channel c is keyed: its channel's (or its
   4-operator lead's) 0xBn bit 5, or in rhythm mode its instrument's
   0xBD bit (bass drum both operators of channel 6; hi-hat, snare drum
   channel 7's; tom-tom, cymbal channel 8's). */
static bool op_key(const Opl3 *s, int c, int k)
{
    if (chreg(s, lead_chan(s, c), 0xb0) & 0x20) {
        return true;
    }
    if (c >= 6 && c <= 8 && rhythm_mode(s)) {
        static const uint8_t bits[3][2] = { { 0x10, 0x10 }, { 0x01, 0x08 },
                                            { 0x04, 0x02 } };
        return s->reg[0][0xbd] & bits[c - 6][k];
    }
    return false;
}

/* ---- envelope ---- */

/* Effective rate 0-63 of a 4-bit rate register value. */
static unsigned eff_rate(const Opl3 *s, int c, int k, unsigned r)
{
    if (r == 0) {
        return 0;
    }
    unsigned nts = (s->reg[0][0x08] >> 6) & 1;
    unsigned ksr = (chan_block(s, c) << 1) |
                   ((chan_fnum(s, c) >> (nts ? 8 : 9)) & 1);
    if (!(opreg(s, c, k, 0x20) & 0x10)) {
        ksr >>= 2;
    }
    return MIN(4 * r + ksr, 63u);
}

/* dB * 2^20 per sample of a linear decay/release at rate r. */
static uint32_t decay_step(unsigned r)
{
    double ms = 39280.0 / pow(2.0, ((double)r - 4) / 4.0);
    double step = 96.0 * ENV_ONE / (ms / 1000.0 * OUT_RATE);
    return (uint32_t)MAX(step, 1.0);
}

/* Fraction of the distance to 0 dB an attack at rate r covers in one
   sample (exponential, 96 dB to 0.1875 dB in the data sheet's time). */
static double attack_alpha(unsigned r)
{
    if (r >= 60) {
        return 1.0;
    }
    double ms = 2826.0 / pow(2.0, ((double)r - 4) / 4.0);
    return 1.0 - exp(-log(512.0) / (ms / 1000.0 * OUT_RATE));
}

static void env_step(Opl3 *s, int c, int k, OplOp *o)
{
    uint8_t ad = opreg(s, c, k, 0x60), sr = opreg(s, c, k, 0x80);
    unsigned sl = sr >> 4;
    uint32_t sl_env = (sl == 15 ? 93u : 3u * sl) * ENV_ONE;
    switch (o->stage) {
    case OPL_EG_ATTACK: {
        unsigned r = eff_rate(s, c, k, ad >> 4);
        if (r == 0) {
            break;
        }
        double a = attack_alpha(r);
        uint32_t d = (uint32_t)(o->env * a) + (a >= 1.0 ? 0 : 1);
        o->env = d >= o->env ? 0 : o->env - d;
        if (o->env == 0) {
            o->stage = OPL_EG_DECAY;
        }
        break;
    }
    case OPL_EG_DECAY: {
        unsigned r = eff_rate(s, c, k, ad & 15);
        if (r) {
            o->env = MIN(o->env + decay_step(r), sl_env);
        }
        if (o->env >= sl_env) {
            o->env = sl_env;
            o->stage = OPL_EG_SUSTAIN;
        }
        break;
    }
    case OPL_EG_SUSTAIN:
        if (opreg(s, c, k, 0x20) & 0x20) {
            break; /* EGT: held while the key is on */
        }
        /* percussive: on at the release rate */
        /* fall through */
    case OPL_EG_RELEASE: {
        unsigned r = eff_rate(s, c, k, sr & 15);
        if (r) {
            o->env = MIN(o->env + decay_step(r), ENV_MAX);
        }
        if (o->env >= ENV_MAX) {
            o->env = ENV_MAX;
            o->stage = OPL_EG_OFF;
        }
        break;
    }
    default:
        break;
    }
}

static void key_change(OplOp *o, bool was, bool now)
{
    if (was == now) {
        return;
    }
    if (now) {
        o->phase = 0;
        o->stage = OPL_EG_ATTACK;
    } else if (o->stage != OPL_EG_OFF) {
        o->stage = OPL_EG_RELEASE;
    }
}

/* ---- one sample ---- */

/* Linear gain of operator k of channel c now (envelope, TL, KSL, AM). */
static float op_gain(Opl3 *s, int c, int k, OplOp *o, float trem_db)
{
    uint8_t kt = opreg(s, c, k, 0x40);
    float db = (float)o->env / ENV_ONE + 0.75f * (kt & 63);
    unsigned ksl = kt >> 6;
    if (ksl) {
        float base = ksl_db[chan_fnum(s, c) >> 6] -
                     6.0f * (7 - (float)chan_block(s, c));
        if (base > 0) {
            static const float scale[4] = { 0, 0.5f, 0.25f, 1.0f };
            db += base * scale[ksl];
        }
    }
    if (opreg(s, c, k, 0x20) & 0x80) {
        db += trem_db;
    }
    return db >= 96.0f ? 0.0f : gain_tab[(int)(db * DB_STEPS + 0.5f)];
}

/* Phase step per output sample: the chip's F-number << block times the
   multiple per 49716 Hz sample, scaled to our rate. */
static uint32_t phase_inc(const Opl3 *s, int c, uint8_t am)
{
    uint64_t chip = (uint64_t)(chan_fnum(s, c) << chan_block(s, c)) *
                    mult2[am & 15] / 2;
    return (uint32_t)((chip * OPL3_RATE + OUT_RATE / 2) / OUT_RATE);
}

/* Advance operator k's phase by a sample; its phase before, 2^20 a
   cycle. */
static uint32_t op_advance(Opl3 *s, int c, int k, OplOp *o, float vib)
{
    uint8_t am = opreg(s, c, k, 0x20);
    uint32_t inc = phase_inc(s, c, am);
    if (am & 0x40) {
        inc = (uint32_t)(inc * vib);
    }
    uint32_t ph = o->phase;
    o->phase += inc;
    return ph;
}

/* Operator k's output at waveform index idx (1024 a cycle). */
static float op_wave(Opl3 *s, int c, int k, OplOp *o, int32_t idx,
                     float trem_db)
{
    if (o->stage == OPL_EG_OFF) {
        return 0.0f;
    }
    int ws = opreg(s, c, k, 0xe0) & (opl3_mode(s) ? 7 : 3);
    if (!opl3_mode(s) && !(s->reg[0][0x01] & 0x20)) {
        ws = 0; /* OPL2 without WSE: sine only */
    }
    return wave(ws, (unsigned)idx) * op_gain(s, c, k, o, trem_db);
}

/* One sample of operator k of channel c, its phase modulated by
   mod_cycles (cycles of its waveform). */
static float op_sample(Opl3 *s, int c, int k, float mod_cycles,
                       float trem_db, float vib)
{
    OplOp *o = op_of(s, c, k);
    env_step(s, c, k, o);
    uint32_t ph = op_advance(s, c, k, o, vib);
    return op_wave(s, c, k, o,
                   (int32_t)(ph >> 10) + (int32_t)lrintf(mod_cycles *
                                                         WAVE_LEN),
                   trem_db);
}

/* Self-feedback of channel c's first operator from its last two
   outputs (pi/16 to 4 pi), and storing the newest. */
static float fb_mod(const Opl3 *s, int c)
{
    static const float fbc[8] = { 0, 1.0f / 32, 1.0f / 16, 1.0f / 8, 0.25f,
                                  0.5f, 1, 2 };
    unsigned fbn = (chreg(s, c, 0xc0) >> 1) & 7;
    return fbc[fbn] * ((int16_t)s->fb[2 * c] + (int16_t)s->fb[2 * c + 1]) /
           2 / 32767.0f;
}

static void fb_store(Opl3 *s, int c, float a)
{
    s->fb[2 * c] = s->fb[2 * c + 1];
    s->fb[2 * c + 1] = (uint16_t)(int16_t)lrintf(a * 32767.0f);
}

/* A 2-operator channel: FM (the first modulates the second, 4 cycles at
   full scale) or additive. */
static float chan2(Opl3 *s, int c, float trem, float vib)
{
    float a = op_sample(s, c, 0, fb_mod(s, c), trem, vib);
    fb_store(s, c, a);
    if (chreg(s, c, 0xc0) & 1) {
        return a + op_sample(s, c, 1, 0, trem, vib);
    }
    return op_sample(s, c, 1, a * 4.0f, trem, vib);
}

/* A 4-operator channel: c and c + 3; the algorithm from both channels'
   connection bits. */
static float chan4(Opl3 *s, int c, float trem, float vib)
{
    int d = c + 3;
    float o1 = op_sample(s, c, 0, fb_mod(s, c), trem, vib);
    fb_store(s, c, o1);
    float o2, o3;
    switch ((chreg(s, c, 0xc0) & 1) | (chreg(s, d, 0xc0) & 1) << 1) {
    case 0: /* FM-FM: 1 > 2 > 3 > 4 */
        o2 = op_sample(s, c, 1, o1 * 4.0f, trem, vib);
        o3 = op_sample(s, d, 0, o2 * 4.0f, trem, vib);
        return op_sample(s, d, 1, o3 * 4.0f, trem, vib);
    case 1: /* AM-FM: 1 + 2 > 3 > 4 */
        o2 = op_sample(s, c, 1, 0, trem, vib);
        o3 = op_sample(s, d, 0, o2 * 4.0f, trem, vib);
        return o1 + op_sample(s, d, 1, o3 * 4.0f, trem, vib);
    case 2: /* FM-AM: 1 > 2 + 3 > 4 */
        o2 = op_sample(s, c, 1, o1 * 4.0f, trem, vib);
        o3 = op_sample(s, d, 0, 0, trem, vib);
        return o2 + op_sample(s, d, 1, o3 * 4.0f, trem, vib);
    default: /* AM-AM: 1 + 2 > 3 + 4 */
        o2 = op_sample(s, c, 1, 0, trem, vib);
        o3 = op_sample(s, d, 0, o2 * 4.0f, trem, vib);
        return o1 + o3 + op_sample(s, d, 1, 0, trem, vib);
    }
}

/* The rhythm section's hi-hat, snare drum, tom-tom and cymbal (channels
   7 and 8), with the noise generator; out: their sum per channel. */
static void rhythm(Opl3 *s, float trem, float vib, float *y7, float *y8)
{
    /* The noise: a 23-bit LFSR (taps 0 and 14), one step a sample. */
    uint32_t fbit = (s->noise ^ (s->noise >> 14)) & 1;
    s->noise = (s->noise >> 1) | fbit << 22;
    bool noise = s->noise & 1;
    OplOp *hh = op_of(s, 7, 0), *sd = op_of(s, 7, 1);
    OplOp *tt = op_of(s, 8, 0), *tc = op_of(s, 8, 1);
    for (int k = 0; k < 2; k++) {
        env_step(s, 7, k, op_of(s, 7, k));
        env_step(s, 8, k, op_of(s, 8, k));
    }
    /* Phases as waveform indices (10 bits a cycle). */
    unsigned phh = op_advance(s, 7, 0, hh, vib) >> 10;
    op_advance(s, 7, 1, sd, vib);
    unsigned ptt = op_advance(s, 8, 0, tt, vib) >> 10;
    unsigned ptc = op_advance(s, 8, 1, tc, vib) >> 10;
    /* The "metal" bit: phase bits of the hi-hat's and the cymbal's
       operators combined (their square waves ring-modulated). */
    bool metal = (((phh >> 2) ^ (phh >> 7)) | ((phh >> 3) ^ (ptc >> 5)) |
                  ((ptc >> 3) ^ (ptc >> 5))) & 1;
    /* Hi-hat: the metal pattern, its fine phase broken by the noise. */
    unsigned ihh = metal << 9 | ((metal ^ noise) ? 0xd0 : 0x34);
    /* Snare drum: the hi-hat operator's half-cycle, broken by noise. */
    unsigned half = (phh >> 8) & 1;
    unsigned isd = half << 9 | (half ^ noise) << 8;
    /* Cymbal: the metal pattern alone. */
    unsigned itc = metal << 9 | 0x80;
    *y7 = op_wave(s, 7, 0, hh, (int32_t)ihh, trem) +
          op_wave(s, 7, 1, sd, (int32_t)isd, trem);
    *y8 = op_wave(s, 8, 0, tt, (int32_t)ptt, trem) +
          op_wave(s, 8, 1, tc, (int32_t)itc, trem);
}

static void render(Opl3 *s, int16_t *out, int n)
{
    /* Tremolo 3.7 Hz triangle, vibrato 6.1 Hz. */
    uint8_t bd = s->reg[0][0xbd];
    float trem_depth = (bd & 0x80) ? 4.8f : 1.0f;
    float vib_cents = (bd & 0x40) ? 14.0f : 7.0f;
    int chans = opl3_mode(s) ? 18 : 9;
    float trem = 0, vib = 1;
    for (int i = 0; i < n; i++) {
        if ((s->lfo++ & 31) == 0 || i == 0) {
            /* The LFOs, updated every 32 samples (0.7 ms). */
            double t = (double)s->lfo / OUT_RATE;
            double tp = t * 3.7 - floor(t * 3.7);
            trem = trem_depth * (float)(tp < 0.5 ? 2 * tp : 2 - 2 * tp);
            vib = powf(2.0f, vib_cents / 1200.0f *
                             (float)sin(2 * M_PI * 6.1 * t));
        }
        float l = 0, r = 0;
        float y78[2] = { 0, 0 };
        bool rhy = rhythm_mode(s);
        if (rhy) {
            rhythm(s, trem, vib, &y78[0], &y78[1]);
        }
        for (int c = 0; c < chans; c++) {
            bool four = four_op_first(s, c);
            if (lead_chan(s, c) != c) {
                continue; /* played by its 4-operator lead */
            }
            float y;
            if (rhy && (c == 7 || c == 8)) {
                y = y78[c - 7];
            } else {
                bool off = true;
                for (int q = 0; q < (four ? 2 : 1); q++) {
                    for (int k = 0; k < 2; k++) {
                        off &= op_of(s, c + 3 * q, k)->stage == OPL_EG_OFF;
                    }
                }
                if (off) {
                    /* Phases go on, silently. */
                    for (int q = 0; q < (four ? 2 : 1); q++) {
                        int cc = c + 3 * q;
                        for (int k = 0; k < 2; k++) {
                            op_advance(s, cc, k, op_of(s, cc, k), vib);
                        }
                    }
                    continue;
                }
                y = four ? chan4(s, c, trem, vib) : chan2(s, c, trem, vib);
            }
            uint8_t fc = chreg(s, c, 0xc0);
            bool lon = true, ron = true;
            if (opl3_mode(s)) {
                lon = fc & 0x10;
                ron = fc & 0x20;
            }
            l += lon ? y : 0;
            r += ron ? y : 0;
        }
        out[2 * i] = (int16_t)CLAMP(lrintf(l * 4096.0f), -32768, 32767);
        out[2 * i + 1] = (int16_t)CLAMP(lrintf(r * 4096.0f), -32768, 32767);
    }
}

static void opl3_render_to(Opl3 *s, int64_t now)
{
    if (!audio_voice_active(s->voice)) {
        /* Resting (every operator silent): nothing to make. */
        s->t0 = now;
        s->frames = 0;
        return;
    }
    if (s->epoch != audio_epoch(s->audio)) {
        s->epoch = audio_epoch(s->audio);
        s->t0 = now;
        s->frames = 0;
        return;
    }
    int64_t due = (now - s->t0) * OUT_RATE / 1000000000LL - s->frames;
    if (due <= 0) {
        return;
    }
    if (due > OUT_RATE) { /* no mix for a second: start afresh */
        s->t0 = now;
        s->frames = 0;
        return;
    }
    int16_t buf[2 * 256];
    for (int64_t done = 0; done < due;) {
        int n = (int)MIN(due - done, (int64_t)256);
        render(s, buf, n);
        audio_voice_write(s->voice, buf, 4 * (size_t)n);
        done += n;
    }
    s->frames += due;
    if (s->frames >= OUT_RATE) {
        s->t0 += 1000000000LL;
        s->frames -= OUT_RATE;
    }
    /* All operators silent: the voice rests until the next key on. */
    bool on = false;
    for (int i = 0; i < 36 && !on; i++) {
        on = s->op[i].stage != OPL_EG_OFF;
    }
    if (!on) {
        audio_voice_set_active(s->voice, false);
    }
}

static void opl3_pull(void *opaque)
{
    Opl3 *s = opaque;
    opl3_render_to(s, clock_now(s->dev.bus->clock));
}

/* ---- timers ---- */

static void timers_update(Opl3 *s)
{
    int64_t now = clock_now(s->dev.bus->clock);
    uint8_t ctl = s->reg[0][0x04];
    static const int64_t unit[2] = { 80000, 320000 };
    for (int t = 0; t < 2; t++) {
        int64_t *start = t ? &s->t2_start : &s->t1_start;
        if (!(ctl & (1 << t))) {
            continue;
        }
        int64_t period = (256 - s->reg[0][0x02 + t]) * unit[t];
        if (now - *start >= period) {
            if (!(ctl & (0x40 >> t))) { /* not masked */
                s->status |= (0x40 >> t) | 0x80;
            }
            *start += (now - *start) / period * period;
        }
    }
}

/* ---- ports ---- */

uint8_t opl3_io_read(Opl3 *s, unsigned off)
{
    if ((off & 1) == 0 && (off & 2) == 0) {
        timers_update(s);
        return s->status; /* bits 1-2 zero: an OPL3 */
    }
    return 0xff;
}

static void reg_write(Opl3 *s, int bank, uint8_t r, uint8_t v)
{
    int64_t now = clock_now(s->dev.bus->clock);
    opl3_render_to(s, now); /* what the old values sounded like */
    if (bank == 0 && r == 0x04) {
        if (v & 0x80) {
            s->status = 0; /* IRQ reset; the other bits are ignored */
            return;
        }
        timers_update(s);
        for (int t = 0; t < 2; t++) {
            if ((v & (1 << t)) && !(s->reg[0][0x04] & (1 << t))) {
                *(t ? &s->t2_start : &s->t1_start) = now;
            }
        }
        s->reg[0][0x04] = v;
        return;
    }
    bool keyed[36];
    for (int i = 0; i < 36; i++) {
        keyed[i] = op_key(s, i / 2, i % 2);
    }
    s->reg[bank][r] = v;
    bool any = false;
    for (int i = 0; i < 36; i++) {
        bool k = op_key(s, i / 2, i % 2);
        key_change(&s->op[i], keyed[i], k);
        any |= k && !keyed[i];
    }
    if (any && !audio_voice_active(s->voice)) {
        s->t0 = now;
        s->frames = 0;
        audio_voice_set_active(s->voice, true);
    }
}

void opl3_io_write(Opl3 *s, unsigned off, uint8_t v)
{
    int bank = (off >> 1) & 1;
    if (!(off & 1)) {
        s->index[bank] = v;
        return;
    }
    reg_write(s, bank, s->index[bank], v);
}

static uint32_t opl3_read(void *opaque, uint16_t off, unsigned size)
{
    return opl3_io_read(opaque, off);
}

static void opl3_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    opl3_io_write(opaque, off, v);
}

static const IoRegion opl3_io[] = {
    { .base = 0x388, .len = 4, .min = 1, .max = 1, .read = opl3_read,
      .write = opl3_write, .name = "opl3" },
    { 0 },
};

static bool opl3_realize(Device *dev, GError **error)
{
    Opl3 *s = (Opl3 *)dev;
    if (!s->audio) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "opl3: not wired to an audio device");
        return false;
    }
    tables_init();
    s->voice = audio_voice_new(s->audio, "opl3", opl3_pull, s);
    audio_voice_set_format(s->voice, OUT_RATE, AUDIO_FMT_S16, 2);
    s->epoch = audio_epoch(s->audio);
    return true;
}

static void opl3_reset(Device *dev)
{
    Opl3 *s = (Opl3 *)dev;
    memset(s->reg, 0, sizeof(s->reg));
    memset(s->index, 0, sizeof(s->index));
    memset(s->fb, 0, sizeof(s->fb));
    for (int i = 0; i < 36; i++) {
        s->op[i] = (OplOp){ .env = ENV_MAX, .stage = OPL_EG_OFF };
    }
    s->status = 0;
    s->lfo = 0;
    s->noise = 1;
    s->t0 = clock_now(dev->bus->clock);
    s->frames = 0;
    if (s->voice) {
        audio_voice_set_active(s->voice, false);
    }
}

static void opl3_finalize(Device *dev)
{
    Opl3 *s = (Opl3 *)dev;
    audio_voice_free(s->voice);
}

static bool opl3_post_load(void *obj, GError **error)
{
    Opl3 *s = obj;
    for (int i = 0; i < 36; i++) {
        if (s->op[i].stage > OPL_EG_RELEASE || s->op[i].env > ENV_MAX) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                        "opl3: operator %d state out of range", i);
            return false;
        }
    }
    if (s->noise == 0 || s->noise >= 1u << 23) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "opl3: noise generator state out of range");
        return false;
    }
    bool on = false;
    for (int i = 0; i < 36; i++) {
        on |= s->op[i].stage != OPL_EG_OFF;
    }
    audio_voice_set_active(s->voice, on);
    return true;
}

static const StateField op_fields[] = {
    STATE_U32(OplOp, phase), STATE_U32(OplOp, env), STATE_U8(OplOp, stage),
    STATE_END,
};

static const StateDesc opl3_state = {
    .name = "opl3", .version = 2, .min_version = 1,
    .post_load = opl3_post_load,
    .fields = (const StateField[]) {
        STATE_BYTES(Opl3, reg, 512), STATE_U8_ARRAY(Opl3, index, 2),
        STATE_STRUCT_ARRAY(Opl3, op, 36, op_fields),
        STATE_U16_ARRAY(Opl3, fb, 36),
        STATE_U32(Opl3, lfo), STATE_U8(Opl3, status),
        STATE_I64(Opl3, t1_start), STATE_I64(Opl3, t2_start),
        STATE_I64(Opl3, t0), STATE_I64(Opl3, frames),
        STATE_U32(Opl3, noise, STATE_V(2)), STATE_END },
};

const DeviceInfo opl3_info = {
    .name = "opl3", .size = sizeof(Opl3), .io = opl3_io,
    .state = &opl3_state, .realize = opl3_realize, .reset = opl3_reset,
    .finalize = opl3_finalize,
};
