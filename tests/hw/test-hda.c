/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Intel HDA controller on the pc board (src/hw/audio/hda.c): PCI
 * identity, controller reset and codec discovery, verbs through the CORB
 * and RIRB and the immediate command registers, the generic codec's
 * widgets, an output stream through a buffer descriptor list (position,
 * interrupt on completion at each buffer's end in virtual time, the DMA
 * position buffer, wrap at CBL), the DAC amplifier reaching the voice,
 * no DMA without bus mastering, saved state mid-stream and a bounded fuzz
 * of the registers with random descriptor lists (under ASan and UBSan in
 * make check).
 */
#include "pc-rig.h"

#include <glib/gstdio.h>

#include "hw/audio/hda.h"

#define DEVFN (3 << 3)
#define BAR 0xfebf0000u
#define MS 1000000LL
#define CORB 0x10000
#define RIRB 0x11000
#define BDL 0x12000
#define DPL 0x13000
#define SD4 (0x80 + 4 * 0x20) /* the first output stream */

/* in.path= of the audio device (test_stream_in), or NULL. */
static const char *in_path;

static void configure(MachineConfig *cfg)
{
    cfg->audiodevs[0].in_path = g_strdup(in_path);
    cfg->audiodevs[0].driver = g_strdup("none");
    cfg->audiodevs[0].id = g_strdup("a0");
    cfg->n_audiodevs = 1;
    cfg->soundhw[0] = g_strdup("hda");
    cfg->soundhw_audiodev[0] = g_strdup("a0");
    cfg->n_soundhw = 1;
    cfg->net_none = true; /* the HDA alone, at 00:03.0 */
}

static Hda *hda_of(MimicMachine *m)
{
    Device *d = device_find(m->devices, "intel-hda");
    g_assert_nonnull(d);
    return (Hda *)d;
}

static uint32_t rd(MimicMachine *m, uint32_t reg, unsigned size)
{
    return memmap_read_sized(m->mem, BAR + reg, size);
}

static void wr(MimicMachine *m, uint32_t reg, uint32_t v, unsigned size)
{
    memmap_write_sized(m->mem, BAR + reg, v, size);
}

static uint32_t ram32(MimicMachine *m, uint32_t a)
{
    uint8_t *p = m->board.ram + a;
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(MimicMachine *m, uint32_t a, uint32_t v)
{
    uint8_t *p = m->board.ram + a;
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
}

static MimicMachine *setup(void)
{
    MimicMachine *m = rig_new(configure);
    rig_pci_write(m, DEVFN, 0x10, BAR, 4);
    rig_pci_write(m, DEVFN, 0x04, 0x06, 2); /* memory, bus master */
    wr(m, 0x08, 1, 4); /* out of reset */
    return m;
}

/* Start both rings: 256 entries each. */
static void rings(MimicMachine *m)
{
    wr(m, 0x40, CORB, 4);
    wr(m, 0x44, 0, 4);
    wr(m, 0x4e, 2, 1);
    wr(m, 0x4a, 0x8000, 2); /* CORBRP reset */
    g_assert_cmphex(rd(m, 0x4a, 2), ==, 0x8000);
    wr(m, 0x4a, 0, 2);
    g_assert_cmphex(rd(m, 0x4a, 2), ==, 0);
    wr(m, 0x48, 0, 2);
    wr(m, 0x50, RIRB, 4);
    wr(m, 0x54, 0, 4);
    wr(m, 0x5e, 2, 1);
    wr(m, 0x58, 0x8000, 2);
    wr(m, 0x5a, 1, 2);
    wr(m, 0x5c, 3, 1); /* RIRB DMA run, response interrupt */
    wr(m, 0x4c, 2, 1); /* CORB run */
}

/* Send one verb through the CORB; its response from the RIRB. */
static uint32_t verb(MimicMachine *m, unsigned nid, uint32_t v)
{
    uint16_t wp = (rd(m, 0x48, 2) + 1) & 0xff;
    put32(m, CORB + 4 * wp, (uint32_t)nid << 20 | v);
    uint16_t rwp = rd(m, 0x58, 2);
    wr(m, 0x48, wp, 2);
    g_assert_cmpint(rd(m, 0x4a, 2), ==, wp); /* consumed */
    uint16_t nwp = rd(m, 0x58, 2);
    g_assert_cmpint(nwp, ==, (rwp + 1) & 0xff);
    g_assert_cmphex(rd(m, 0x5d, 1) & 1, ==, 1); /* RINTFL */
    wr(m, 0x5d, 1, 1);
    g_assert_cmphex(ram32(m, RIRB + 8 * nwp + 4), ==, 0); /* codec 0 */
    return ram32(m, RIRB + 8 * nwp);
}

static void test_identity_codec(void)
{
    MimicMachine *m = setup();
    Hda *h = hda_of(m);
    g_assert_cmphex(rig_pci_read(m, DEVFN, 0, 4), ==, 0x26688086);
    g_assert_cmphex(rig_pci_read(m, DEVFN, 8, 4) >> 8, ==, 0x040300);
    g_assert_cmpint(rig_pci_read(m, DEVFN, 0x3d, 1), ==, 1);
    g_assert_cmphex(rd(m, 0x00, 2), ==, 0x4401); /* 4 out, 4 in, 64-bit */
    g_assert_cmphex(rd(m, 0x02, 2), ==, 0x0100); /* version 1.0 */
    g_assert_cmphex(rd(m, 0x0e, 2), ==, 1);      /* codec 0 present */
    wr(m, 0x0e, 1, 2);
    g_assert_cmphex(rd(m, 0x0e, 2), ==, 0);
    /* Reset: registers cleared, CRST reads 0 until set again. */
    wr(m, 0x20, 0xc0000000, 4);
    wr(m, 0x08, 0, 4);
    g_assert_cmphex(rd(m, 0x08, 4) & 1, ==, 0);
    g_assert_cmphex(rd(m, 0x20, 4), ==, 0);
    wr(m, 0x20, 0xc0000000, 4); /* ignored in reset */
    g_assert_cmphex(rd(m, 0x20, 4), ==, 0);
    wr(m, 0x08, 1, 4);
    g_assert_cmphex(rd(m, 0x0e, 2), ==, 1);
    g_assert_cmphex(rd(m, 0x4e, 1), ==, 0x42);
    rings(m);
    /* Root: vendor, one function group at node 1. */
    g_assert_cmphex(verb(m, 0, 0xf0000), ==, 0x1af44d4a);
    g_assert_cmphex(verb(m, 0, 0xf0004), ==, 0x00010001);
    g_assert_cmphex(verb(m, 1, 0xf0005), ==, 1);          /* audio FG */
    g_assert_cmphex(verb(m, 1, 0xf0004), ==, 0x00020004); /* nodes 2-5 */
    g_assert_cmphex(verb(m, 2, 0xf0009) >> 20, ==, 0);    /* output */
    g_assert_cmphex(verb(m, 3, 0xf0009) >> 20, ==, 4);    /* pin */
    g_assert_cmphex(verb(m, 4, 0xf0009) >> 20, ==, 1);    /* input */
    g_assert_cmphex(verb(m, 3, 0xf0200), ==, 2);          /* 3 <- 2 */
    g_assert_cmphex(verb(m, 4, 0xf0200), ==, 5);          /* 4 <- 5 */
    g_assert_cmphex(verb(m, 2, 0xf000a) & 0x20000, ==, 0x20000);
    g_assert_cmphex(verb(m, 3, 0xf1c00), ==, 0x01014010);
    /* Amplifier: muted at reset; set left only, then both. */
    g_assert_cmphex(verb(m, 2, 0xba000), ==, 0x80);
    verb(m, 2, 0x3a000 | 0x20); /* out, left, gain 0x20 */
    g_assert_cmphex(verb(m, 2, 0xba000), ==, 0x20);
    g_assert_cmphex(verb(m, 2, 0xb8000), ==, 0x80);
    g_assert_cmphex(h->codec.dac_amp[0], ==, 0x20);
    verb(m, 2, 0x3b000 | 0x3f);
    g_assert_cmphex(verb(m, 2, 0xb8000), ==, 0x3f);
    /* Stream and format. */
    verb(m, 2, 0x70610);
    g_assert_cmphex(verb(m, 2, 0xf0600), ==, 0x10);
    verb(m, 2, 0x20011);
    g_assert_cmphex(verb(m, 2, 0xa0000), ==, 0x11);
    /* No node 6, no codec 1. */
    g_assert_cmphex(verb(m, 6, 0xf0000), ==, 0);
    /* The immediate command interface gives the same answers. */
    wr(m, 0x60, 0x000f0000, 4);
    wr(m, 0x68, 1, 2);
    g_assert_cmphex(rd(m, 0x68, 2) & 3, ==, 2); /* IRV, not busy */
    g_assert_cmphex(rd(m, 0x64, 4), ==, 0x1af44d4a);
    wr(m, 0x68, 2, 2);
    g_assert_cmphex(rd(m, 0x68, 2) & 2, ==, 0);
    mimic_machine_free(m);
}

/* Jack sensing: the pins detect presence; pulling and plugging a jack
   changes the pin sense and, once enabled, sends an unsolicited response
   (tag in bits 31:26, extended response bit 4) through the RIRB. */
static void test_jack(void)
{
    MimicMachine *m = setup();
    Hda *h = hda_of(m);
    rings(m);
    g_assert_cmphex(verb(m, 3, 0xf000c) & 0x14, ==, 0x14); /* out, detect */
    g_assert_cmphex(verb(m, 5, 0xf000c) & 0x24, ==, 0x24); /* in, detect */
    g_assert_cmphex(verb(m, 3, 0xf0009) & 0x80, ==, 0x80); /* unsol cap */
    g_assert_cmphex(verb(m, 3, 0xf1c00) & 0x100, ==, 0);   /* no NO_PRES */
    g_assert_cmphex(verb(m, 3, 0xf0900), ==, 0x80000000u); /* plugged */
    /* Not enabled yet: the sense changes, no response. */
    uint16_t wp = rd(m, 0x58, 2);
    hda_set_jack(h, 0, false);
    g_assert_cmpint(rd(m, 0x58, 2), ==, wp);
    g_assert_cmphex(verb(m, 3, 0xf0900), ==, 0);
    hda_set_jack(h, 0, true);
    /* Enabled with tag 5: a response on each change, none on a repeat. */
    verb(m, 3, 0x70885);
    g_assert_cmphex(verb(m, 3, 0xf0800), ==, 0x85);
    wp = rd(m, 0x58, 2);
    hda_set_jack(h, 0, false);
    hda_set_jack(h, 0, false);
    uint16_t nwp = rd(m, 0x58, 2);
    g_assert_cmpint(nwp, ==, (wp + 1) & 0xff);
    g_assert_cmphex(ram32(m, RIRB + 8 * nwp), ==, 5u << 26);
    g_assert_cmphex(ram32(m, RIRB + 8 * nwp + 4), ==, 0x10);
    g_assert_cmphex(rd(m, 0x5d, 1) & 1, ==, 1); /* RINTFL */
    g_assert_cmphex(rd(m, 0x24, 4) & 0x40000000, ==, 0x40000000); /* CIS */
    wr(m, 0x5d, 1, 1);
    g_assert_cmphex(verb(m, 3, 0xf0900), ==, 0);
    /* The line in, tag 0x3f; then plugged again. */
    verb(m, 5, 0x708bf);
    hda_set_jack(h, 1, false);
    nwp = rd(m, 0x58, 2);
    g_assert_cmphex(ram32(m, RIRB + 8 * nwp), ==, 0x3fu << 26);
    wr(m, 0x5d, 1, 1);
    hda_set_jack(h, 0, true);
    nwp = rd(m, 0x58, 2);
    g_assert_cmphex(ram32(m, RIRB + 8 * nwp), ==, 5u << 26);
    wr(m, 0x5d, 1, 1);
    g_assert_cmphex(verb(m, 3, 0xf0900), ==, 0x80000000u);
    /* A codec reset leaves the jacks as they are. */
    verb(m, 1, 0x7ff00);
    g_assert_cmphex(verb(m, 5, 0xf0900), ==, 0);
    g_assert_cmphex(verb(m, 5, 0xf0800), ==, 0);
    mimic_machine_free(m);
}

/* Two buffers of 960 bytes (240 frames, 5 ms at 48 kHz 16-bit stereo),
   each with IOC, on output stream 4 with tag 1. */
static void start_out(MimicMachine *m)
{
    for (int i = 0; i < 2; i++) {
        put32(m, BDL + 16 * i, 0x20000 + 0x1000 * i);
        put32(m, BDL + 16 * i + 4, 0);
        put32(m, BDL + 16 * i + 8, 960);
        put32(m, BDL + 16 * i + 12, 1);
    }
    wr(m, SD4 + 0x18, BDL, 4);
    wr(m, SD4 + 0x1c, 0, 4);
    wr(m, SD4 + 0x08, 1920, 4);
    wr(m, SD4 + 0x0c, 1, 2);
    wr(m, SD4 + 0x12, 0x0011, 2);
    wr(m, SD4 + 0x02, 0x10, 1);  /* tag 1 */
    wr(m, SD4, 0x06, 1);         /* RUN | IOCE */
}

static void test_stream_out(void)
{
    MimicMachine *m = setup();
    Hda *h = hda_of(m);
    rig_pic_init(m, 1 << 10 | 1 << 11);
    rig_pci_write(m, 1 << 3, 0x60, 0x0b0a8080, 4); /* PIRQC -> IRQ 10 */
    rings(m);
    verb(m, 2, 0x70610);              /* DAC on stream 1 */
    verb(m, 3, 0x70740);              /* line out enabled */
    verb(m, 2, 0x3b000 | 0x3f);       /* 0 dB */
    wr(m, 0x70, DPL | 1, 4);
    wr(m, 0x20, 0x80000000u | 1u << 4, 4); /* GIE, stream 4 */
    start_out(m);
    g_assert_true(h->sd[4].running);
    rig_advance(m, 2500000);
    uint32_t lpib = rd(m, SD4 + 4, 4);
    g_assert_cmpint(lpib, >=, 440);
    g_assert_cmpint(lpib, <=, 520);
    g_assert_cmpint(rd(m, 0x2004 + SD4, 4), ==, lpib); /* the alias */
    g_assert_cmpint(ram32(m, DPL + 8 * 4), ==, lpib);
    g_assert_false(h->irq_level);
    rig_advance(m, 3 * MS);
    g_assert_true(h->irq_level); /* first buffer done on time */
    ioport_write(m->io, 0xa0, 0x0a, 1); /* the slave's IRR */
    g_assert_cmphex(ioport_read(m->io, 0xa0, 1) & 0x04, ==, 0x04);
    g_assert_cmphex(rd(m, SD4 + 3, 1) & 4, ==, 4); /* BCIS */
    g_assert_cmphex(rd(m, 0x24, 4), ==, 0x80000000u | 1u << 4);
    wr(m, SD4 + 3, 4, 1);
    g_assert_false(h->irq_level);
    /* The second buffer, then the wrap back to the first. */
    rig_advance(m, 6 * MS);
    g_assert_true(h->irq_level);
    wr(m, SD4 + 3, 4, 1);
    lpib = rd(m, SD4 + 4, 4);
    g_assert_cmpint(lpib, <, 960);
    /* The DAC amplifier and the pin reach the voice (info audio shows
       its gains): 0 dB, -6 dB on the left, muted, pin off. */
    GString *info = g_string_new(NULL);
    audio_info(h->audio, info);
    g_assert_nonnull(strstr(info->str, "voice hda: playing, 48000 Hz"));
    g_assert_nonnull(strstr(info->str, "volume 100%/100%\n"));
    verb(m, 2, 0x3a000 | (0x3f - 6));
    g_string_truncate(info, 0);
    audio_info(h->audio, info);
    g_assert_nonnull(strstr(info->str, "volume 50%/100%\n"));
    verb(m, 3, 0x70700);
    g_string_truncate(info, 0);
    audio_info(h->audio, info);
    g_assert_nonnull(strstr(info->str, "50%/100%, muted"));
    verb(m, 3, 0x70740);
    verb(m, 2, 0x3b000 | 0x80);
    g_assert_cmphex(h->codec.dac_amp[1], ==, 0x80);
    g_string_truncate(info, 0);
    audio_info(h->audio, info);
    g_assert_nonnull(strstr(info->str, "volume 0%/0%\n"));
    g_string_free(info, TRUE);
    /* Stop halts the position. */
    wr(m, SD4, 0x04, 1);
    g_assert_false(h->sd[4].running);
    lpib = rd(m, SD4 + 4, 4);
    rig_advance(m, 10 * MS);
    g_assert_cmpint(rd(m, SD4 + 4, 4), ==, lpib);
    /* Stream reset clears the position. */
    wr(m, SD4, 0x01, 1);
    g_assert_cmphex(rd(m, SD4, 1) & 1, ==, 1);
    wr(m, SD4, 0x00, 1);
    g_assert_cmpint(rd(m, SD4 + 4, 4), ==, 0);
    mimic_machine_free(m);
}

/* Input stream 0 on the ADC's tag records the line in through the ADC
   amplifier; muted, it records silence. */
static void test_stream_in(void)
{
    /* Left 8000, right -4000. */
    g_autofree char *path = rig_dc_wav("mimic-hda-in.wav", 8000, -4000);
    in_path = path;
    MimicMachine *m = setup();
    in_path = NULL;
    rings(m);
    verb(m, 4, 0x70620);           /* ADC on stream 2 */
    verb(m, 5, 0x70720);           /* line in enabled */
    verb(m, 4, 0x37000 | 0x3f);    /* input amp, both, 0 dB */
    put32(m, BDL, 0x20000);
    put32(m, BDL + 4, 0);
    put32(m, BDL + 8, 960);
    put32(m, BDL + 12, 1);
    memset(m->board.ram + 0x20000, 0x55, 960);
    wr(m, 0x80 + 0x18, BDL, 4);
    wr(m, 0x80 + 0x08, 960, 4);
    wr(m, 0x80 + 0x0c, 0, 2);
    wr(m, 0x80 + 0x12, 0x0011, 2); /* 48 kHz 16-bit stereo */
    wr(m, 0x80 + 0x02, 0x20, 1);   /* tag 2 */
    wr(m, 0x80, 0x06, 1);
    rig_advance(m, 4 * MS);        /* 192 of the 240 frames */
    g_assert_cmpint(rd(m, 0x84, 4), >=, 700);
    const uint8_t *b = m->board.ram + 0x20000;
    /* Past the resampler-free start: the input's levels exactly. */
    for (int f = 0; f < 150; f++) {
        g_assert_cmpint((int16_t)(b[4 * f] | b[4 * f + 1] << 8), ==, 8000);
        g_assert_cmpint((int16_t)(b[4 * f + 2] | b[4 * f + 3] << 8), ==,
                        -4000);
    }
    /* Mute the left input: silence there from now on. */
    verb(m, 4, 0x36000 | 0x80);
    rig_advance(m, 5 * MS);        /* wraps into the buffer again */
    uint32_t lpib = rd(m, 0x84, 4);
    g_assert_cmpint(lpib, >, 8);
    g_assert_cmpint((int16_t)(b[0] | b[1] << 8), ==, 0);
    g_assert_cmpint((int16_t)(b[2] | b[3] << 8), ==, -4000);
    mimic_machine_free(m);
    g_unlink(path);
}

static void test_no_bus_master(void)
{
    MimicMachine *m = setup();
    rig_pci_write(m, DEVFN, 0x04, 0x02, 2); /* memory only */
    start_out(m);
    rig_advance(m, 20 * MS);
    g_assert_cmpint(rd(m, SD4 + 4, 4), ==, 0);
    rig_pci_write(m, DEVFN, 0x04, 0x06, 2);
    rig_advance(m, 2 * MS);
    g_assert_cmpint(rd(m, SD4 + 4, 4), >, 0);
    mimic_machine_free(m);
}

static void test_state(void)
{
    MimicMachine *m = setup();
    Hda *h = hda_of(m);
    rings(m);
    verb(m, 2, 0x70610);
    start_out(m);
    rig_advance(m, 2 * MS);
    GByteArray *a = g_byte_array_new();
    state_save(hda_info.state, h, a);
    GError *err = NULL;
    g_assert_true(state_load(hda_info.state, h, hda_info.state->version,
                             a->data, a->len, NULL, &err));
    g_assert_no_error(err);
    GByteArray *b = g_byte_array_new();
    state_save(hda_info.state, h, b);
    g_assert_cmpmem(a->data, a->len, b->data, b->len);
    uint32_t lpib = h->sd[4].lpib;
    rig_advance(m, 2 * MS); /* the restored stream goes on */
    g_assert_cmpint(rd(m, SD4 + 4, 4), >, lpib);
    h->sd[4].lvi = 300;
    GByteArray *c = g_byte_array_new();
    state_save(hda_info.state, h, c);
    g_assert_false(state_load(hda_info.state, h, hda_info.state->version,
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
    Hda *h = hda_of(m);
    GRand *r = g_rand_new_with_seed(2668);
    for (int i = 0; i < 0x4000; i++) {
        m->board.ram[CORB + i] = g_rand_int(r);
    }
    int n = g_test_slow() ? 2000000 : 200000;
    static const unsigned sizes[3] = { 1, 2, 4 };
    for (int i = 0; i < n; i++) {
        uint32_t k = g_rand_int(r) % 12;
        unsigned size = sizes[g_rand_int(r) % 3];
        uint32_t v = g_rand_int(r);
        uint32_t reg = g_rand_int(r) % 0x180;
        switch (k) {
        case 0: case 1: case 2:
            if (reg == 0x08 && !(v & 1)) {
                v |= 1; /* mostly out of reset */
            }
            wr(m, reg & ~(size - 1), v, size);
            break;
        case 3:
            rd(m, reg & ~(size - 1), size);
            break;
        case 4: /* a stream on the fuzzed lists */
            wr(m, 0x80 + 0x20 * (v & 7) + 0x18, CORB + (v & 0x3f80), 4);
            wr(m, 0x80 + 0x20 * (v & 7), 0x100006 | (v & 0xf00000), 4);
            break;
        case 5:
            rd(m, 0x2084 + 0x20 * (v & 7), 4);
            break;
        case 6:
            rig_advance(m, g_rand_int_range(r, 0, 20 * MS));
            break;
        case 7:
            m->board.ram[CORB + g_rand_int_range(r, 0, 0x4000)] = v;
            break;
        case 8: /* rings anywhere, including beyond RAM and over MMIO */
            wr(m, 0x40 + (v & 0x10), (v & 1) ? BAR : v, 4);
            wr(m, 0x4c, 2, 1);
            wr(m, 0x5c, 3, 1);
            wr(m, 0x48, v >> 8, 2);
            break;
        case 9:
            rig_pci_write(m, DEVFN, 0x04, v & 7, 2);
            break;
        case 10:
            wr(m, 0x70, v, 4); /* position buffer anywhere */
            break;
        default:
            wr(m, 0x60, v, 4); /* immediate command */
            wr(m, 0x68, 1, 2);
            break;
        }
        for (int s = 0; s < HDA_NSD; s++) {
            g_assert_cmpuint(h->sd[s].lvi, <=, 255);
            g_assert_cmpuint(h->sd[s].bde, <=, 255);
            g_assert_cmpuint(h->sd[s].staged, <, 64);
        }
    }
    g_rand_free(r);
    g_assert_cmphex(rig_pci_read(m, DEVFN, 0, 4), ==, 0x26688086);
    mimic_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/hda/identity-codec", test_identity_codec);
    g_test_add_func("/hw/hda/jack", test_jack);
    g_test_add_func("/hw/hda/stream-out", test_stream_out);
    g_test_add_func("/hw/hda/stream-in", test_stream_in);
    g_test_add_func("/hw/hda/no-bus-master", test_no_bus_master);
    g_test_add_func("/hw/hda/state", test_state);
    g_test_add_func("/hw/hda/fuzz", test_fuzz);
    return g_test_run();
}
