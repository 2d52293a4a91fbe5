/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel High Definition Audio controller (ICH6, PCI 8086:2668) and a
 * generic codec.
 * References: Intel "High Definition Audio Specification" revision 1.0a:
 * chapter 3 (controller registers: GCAP, GCTL, STATESTS, INTCTL/INTSTS,
 * WALCLK, CORB and RIRB, immediate command, DMA position buffer, stream
 * descriptors SDnCTL/STS/LPIB/CBL/LVI/FMT/BDPL/BDPU, the 16-byte buffer
 * descriptor list entries with IOC), chapter 4.4 (command and response
 * transport), chapter 7 (codec verbs and parameters, widget types, amplifier
 * gain/mute, pin widget control, configuration default, stream format).
 *
 * The controller has 4 input and 4 output stream descriptors.  A running
 * stream moves what the elapsed virtual time is worth at the rate of its
 * FMT register, through the bounds-checked memmap_read/memmap_write, with a
 * timer at the end of each buffer for its interrupt (as the AC'97 does).
 * An output stream whose tag the codec's DAC carries plays into the audio
 * voice (16-bit, or the top 16 bits of 20/24/32-bit samples; the first two
 * channels); an input stream whose tag the ADC carries records the audio
 * device's input (audio_in_read(): a WAV file or the PulseAudio source)
 * through the ADC amplifier, once the in pin is enabled.
 *
 * The codec (address 0) is our own generic one, which Linux drives with
 * snd-hda-codec-generic: node 1 the audio function group, 2 a stereo DAC
 * with an output amplifier (mute, 64 steps of 1 dB, 0 dB at the top), 3
 * the line-out pin fed by 2; for hda-duplex also 4 a stereo ADC with an
 * input amplifier fed by 5, the line-in pin.  The DAC amplifier's gains
 * and mutes and the out pin's enable reach the voice.  Both pins sense
 * presence (chapter 7: pin capabilities, pin sense): the board plugs or
 * pulls their jacks (hda_set_jack), and a pin whose unsolicited response
 * the driver enabled then sends one with its tag (chapter 4.4: in the
 * RIRB, flagged by the extended response's bit 4).
 */
#include "hw/audio/hda.h"

#include <math.h>
#include <string.h>

#include "bus/log.h"
#include "hw/board.h"

/* Controller registers. */
#define GCAP 0x00
#define VMIN 0x02
#define VMAJ 0x03
#define OUTPAY 0x04
#define INPAY 0x06
#define GCTL 0x08
#define WAKEEN 0x0c
#define STATESTS 0x0e
#define GSTS 0x10
#define OUTSTRMPAY 0x18
#define INSTRMPAY 0x1a
#define INTCTL 0x20
#define INTSTS 0x24
#define WALCLK 0x30
#define SSYNC_OLD 0x34
#define SSYNC 0x38
#define CORBLBASE 0x40
#define CORBUBASE 0x44
#define CORBWP 0x48
#define CORBRP 0x4a
#define CORBCTL 0x4c
#define CORBSTS 0x4d
#define CORBSIZE 0x4e
#define RIRBLBASE 0x50
#define RIRBUBASE 0x54
#define RIRBWP 0x58
#define RINTCNT 0x5a
#define RIRBCTL 0x5c
#define RIRBSTS 0x5d
#define RIRBSIZE 0x5e
#define ICOI 0x60
#define IRII 0x64
#define ICIS 0x68
#define DPLBASE 0x70
#define DPUBASE 0x74
#define SD_BASE 0x80
#define SD_LEN 0x20
#define SD_ALIAS 0x2000 /* LPIB aliases at 0x2084 + 0x20 n */
#define MMIO_SIZE 0x4000

#define GCTL_CRST 0x1
#define INT_GIE 0x80000000u
#define INT_CIE 0x40000000u
#define CORBRP_RST 0x8000
#define RIRBWP_RST 0x8000
#define CORBCTL_CMEIE 0x1
#define CORBCTL_RUN 0x2
#define CORBSTS_CMEI 0x1
#define RIRBCTL_RINTCTL 0x1
#define RIRBCTL_RUN 0x2
#define RIRBCTL_ROIC 0x4
#define RIRBSTS_RINTFL 0x1
#define RIRBSTS_OIS 0x4
#define ICIS_ICB 0x1
#define ICIS_IRV 0x2

/* Stream descriptor bits. */
#define CTL_SRST 0x1
#define CTL_RUN 0x2
#define CTL_IOCE 0x4
#define CTL_FEIE 0x8
#define CTL_DEIE 0x10
#define CTL_MASK 0xff001f
#define STS_BCIS 0x04
#define STS_FIFOE 0x08
#define STS_DESE 0x10
#define STS_FIFORDY 0x20

#define PCI_COMMAND_MASTER 0x4

/* Codec nodes. */
#define NID_ROOT 0
#define NID_AFG 1
#define NID_DAC 2
#define NID_OUT 3
#define NID_ADC 4
#define NID_IN 5

/* Parameters (verb 0xF00). */
#define PAR_VENDOR_ID 0x00
#define PAR_REVISION_ID 0x02
#define PAR_NODE_COUNT 0x04
#define PAR_FG_TYPE 0x05
#define PAR_AFG_CAP 0x08
#define PAR_WIDGET_CAP 0x09
#define PAR_PCM 0x0a
#define PAR_STREAM 0x0b
#define PAR_PIN_CAP 0x0c
#define PAR_AMP_IN_CAP 0x0d
#define PAR_CONNLIST_LEN 0x0e
#define PAR_POWER_STATE 0x0f
#define PAR_AMP_OUT_CAP 0x12

/* Amplifiers: mute capable, 1 dB steps ((3 + 1) * 0.25 dB), 0..63 with
   63 at 0 dB. */
#define AMP_STEPS 63
#define AMP_CAP (0x80000000u | 3u << 16 | AMP_STEPS << 8 | AMP_STEPS)
#define AMP_MUTE 0x80

/* The codec's vendor ID: Red Hat's PCI vendor (what virtual codecs carry,
   so Linux binds its generic parser) and our own device number. */
#define CODEC_VENDOR 0x1af44d49u

static void hda_update_irq(Hda *s);
static void sd_run(Hda *s, int i);
static void sd_arm(Hda *s, int i);
static void update_voice(Hda *s);

static bool sd_is_output(int i)
{
    return i >= HDA_ISS;
}

/* ---- stream format ---- */

static int fmt_rate(uint16_t fmt)
{
    int base = (fmt & 0x4000) ? 44100 : 48000;
    int mult = MIN(((fmt >> 11) & 7) + 1, 4);
    int div = ((fmt >> 8) & 7) + 1;
    return base * mult / div;
}

static int fmt_bytes(uint16_t fmt) /* container bytes of a sample */
{
    switch ((fmt >> 4) & 7) {
    case 0:
        return 1;
    case 2: case 3: case 4:
        return 4;
    default:
        return 2;
    }
}

static int fmt_channels(uint16_t fmt)
{
    return (fmt & 0xf) + 1;
}

/* ---- codec ---- */

static float amp_gain(uint8_t v)
{
    if (v & AMP_MUTE) {
        return 0.0f;
    }
    int g = MIN(v & 0x7f, AMP_STEPS);
    return powf(10.0f, (float)(g - AMP_STEPS) / 20.0f);
}

static void apply_volume(Hda *s)
{
    if (!s->voice) {
        return;
    }
    HdaCodec *c = &s->codec;
    /* No output unless the pin drives it (Pin Widget Control, Out
       Enable). */
    bool off = !(c->pinctl[0] & 0x40);
    audio_voice_set_volume(s->voice, amp_gain(c->dac_amp[0]),
                           amp_gain(c->dac_amp[1]), off);
}

static void codec_reset(Hda *s)
{
    HdaCodec *c = &s->codec;
    *c = (HdaCodec){ 0 };
    c->dac_amp[0] = c->dac_amp[1] = AMP_MUTE;
    c->adc_amp[0] = c->adc_amp[1] = AMP_MUTE;
    c->dac_fmt = c->adc_fmt = 0x0011; /* 48 kHz, 16-bit, stereo */
    c->power = 3;
    /* Line out: jack, rear, green 1/8", presence detect (misc bit 0
       clear), association 1.  Line in: the same, blue, association 2. */
    c->config[0] = 0x01014010;
    c->config[1] = 0x01813020;
    c->subsys = 0x1af41100;
    apply_volume(s);
}

static bool node_exists(Hda *s, unsigned nid)
{
    return nid <= (s->duplex ? NID_IN : NID_OUT);
}

static uint32_t codec_param(Hda *s, unsigned nid, unsigned p)
{
    unsigned nodes = s->duplex ? 4 : 2;
    if (nid == NID_ROOT) {
        switch (p) {
        case PAR_VENDOR_ID:
            return CODEC_VENDOR + (s->duplex ? 1 : 0);
        case PAR_REVISION_ID:
            return 0x00100100;
        case PAR_NODE_COUNT:
            return NID_AFG << 16 | 1;
        default:
            return 0;
        }
    }
    if (nid == NID_AFG) {
        switch (p) {
        case PAR_NODE_COUNT:
            return NID_DAC << 16 | nodes;
        case PAR_FG_TYPE:
            return 0x01; /* audio function group */
        case PAR_PCM:
            return 0x000201ff; /* 16-bit, 8-96 kHz */
        case PAR_STREAM:
            return 0x1; /* PCM */
        case PAR_AMP_IN_CAP:
        case PAR_AMP_OUT_CAP:
            return AMP_CAP;
        case PAR_POWER_STATE:
            return 0xf;
        default:
            return 0;
        }
    }
    switch (p) {
    case PAR_WIDGET_CAP:
        switch (nid) {
        case NID_DAC: /* output, stereo, out amp, own amp and format */
            return 0x0 << 20 | 0x1d;
        case NID_OUT: /* pin, stereo, unsolicited, connection list */
            return 0x4 << 20 | 0x181;
        case NID_ADC: /* input, stereo, in amp, own amp and format, conn */
            return 0x1 << 20 | 0x11b;
        default: /* in pin, stereo, unsolicited */
            return 0x4 << 20 | 0x81;
        }
    case PAR_PCM:
        return (nid == NID_DAC || nid == NID_ADC) ? 0x000201ff : 0;
    case PAR_STREAM:
        return (nid == NID_DAC || nid == NID_ADC) ? 0x1 : 0;
    case PAR_PIN_CAP:
        /* Output or input, and presence detect (bit 2). */
        return nid == NID_OUT ? 0x14 : nid == NID_IN ? 0x24 : 0;
    case PAR_AMP_IN_CAP:
        return nid == NID_ADC ? AMP_CAP : 0;
    case PAR_AMP_OUT_CAP:
        return nid == NID_DAC ? AMP_CAP : 0;
    case PAR_CONNLIST_LEN:
        return (nid == NID_OUT || nid == NID_ADC) ? 1 : 0;
    case PAR_POWER_STATE:
        return 0xf;
    default:
        return 0;
    }
}

static uint8_t *amp_of(Hda *s, unsigned nid, bool output)
{
    if (nid == NID_DAC && output) {
        return s->codec.dac_amp;
    }
    if (nid == NID_ADC && !output) {
        return s->codec.adc_amp;
    }
    return NULL;
}

/* One verb to codec 0; the response. */
static uint32_t codec_verb(Hda *s, uint32_t cmd)
{
    HdaCodec *c = &s->codec;
    unsigned nid = (cmd >> 20) & 0x7f;
    uint32_t verb = cmd & 0xfffff;
    if (!node_exists(s, nid)) {
        return 0;
    }
    unsigned v4 = verb >> 16;
    uint16_t pay16 = verb & 0xffff;
    bool conv = nid == NID_DAC || nid == NID_ADC;
    int pin = nid == NID_OUT ? 0 : nid == NID_IN ? 1 : -1;
    switch (v4) {
    case 0x2: /* set converter format */
        if (nid == NID_DAC) {
            c->dac_fmt = pay16;
        } else if (nid == NID_ADC) {
            c->adc_fmt = pay16;
        }
        return 0;
    case 0xa: /* get converter format */
        return nid == NID_DAC ? c->dac_fmt : nid == NID_ADC ? c->adc_fmt : 0;
    case 0x3: /* set amplifier gain/mute: output, input or both */
        for (int dir = 0; dir < 2; dir++) {
            uint8_t *a = amp_of(s, nid, dir == 0);
            if (!(pay16 & (dir == 0 ? 0x8000 : 0x4000)) || !a ||
                (dir == 1 && (pay16 >> 8 & 0xf) != 0)) {
                continue;
            }
            if (pay16 & 0x2000) {
                a[0] = pay16 & 0xff;
            }
            if (pay16 & 0x1000) {
                a[1] = pay16 & 0xff;
            }
        }
        apply_volume(s);
        return 0;
    case 0xb: { /* get amplifier gain/mute */
        uint8_t *a = amp_of(s, nid, pay16 & 0x8000);
        if (!a || (pay16 & 0xf) != 0) {
            return 0;
        }
        return a[(pay16 & 0x2000) ? 0 : 1];
    }
    case 0x4: case 0x5: case 0xc: case 0xd: /* coefficients: none */
        return 0;
    default:
        break;
    }
    unsigned v12 = verb >> 8;
    uint8_t pay = verb & 0xff;
    switch (v12) {
    case 0xf00:
        return codec_param(s, nid, pay);
    case 0xf01: /* connection select: one entry */
    case 0x701:
        return 0;
    case 0xf02: /* connection list entries from pay */
        if (pay == 0 && nid == NID_OUT) {
            return NID_DAC;
        }
        if (pay == 0 && nid == NID_ADC) {
            return NID_IN;
        }
        return 0;
    case 0xf05:
        return nid == NID_AFG ? (uint32_t)c->power << 4 | c->power : 0;
    case 0x705:
        if (nid == NID_AFG) {
            c->power = pay & 3;
        }
        return 0;
    case 0xf06:
        return nid == NID_DAC ? c->dac_chan : nid == NID_ADC ? c->adc_chan
                                                             : 0;
    case 0x706:
        if (nid == NID_DAC) {
            c->dac_chan = pay;
        } else if (nid == NID_ADC) {
            c->adc_chan = pay;
        }
        return 0;
    case 0xf07:
        return pin >= 0 ? c->pinctl[pin] : 0;
    case 0x707:
        if (pin >= 0) {
            c->pinctl[pin] = pay & 0xe7;
            apply_volume(s);
        }
        return 0;
    case 0xf08:
        return pin >= 0 ? c->unsol[pin] : 0;
    case 0x708:
        if (pin >= 0) {
            c->unsol[pin] = pay & 0xbf;
        }
        return 0;
    case 0xf09: /* pin sense: presence detect in bit 31 */
        return pin >= 0 && !s->unplugged[pin] ? 0x80000000u : 0;
    case 0x709: /* execute pin sense: presence needs no trigger */
        return 0;
    case 0xf0c:
        return nid == NID_OUT ? c->eapd : 0;
    case 0x70c:
        if (nid == NID_OUT) {
            c->eapd = pay & 7;
        }
        return 0;
    case 0xf1c:
        return pin >= 0 ? c->config[pin] : 0;
    case 0x71c: case 0x71d: case 0x71e: case 0x71f:
        if (pin >= 0) {
            unsigned sh = 8 * (v12 - 0x71c);
            c->config[pin] = (c->config[pin] & ~(0xffu << sh)) |
                             (uint32_t)pay << sh;
        }
        return 0;
    case 0xf20:
        return nid == NID_AFG ? c->subsys : 0;
    case 0x720: case 0x721: case 0x722: case 0x723:
        if (nid == NID_AFG) {
            unsigned sh = 8 * (v12 - 0x720);
            c->subsys = (c->subsys & ~(0xffu << sh)) | (uint32_t)pay << sh;
        }
        return 0;
    case 0xf2d: /* converter channel count - 1 */
        return conv ? 1 : 0;
    case 0x7ff: /* function reset */
        if (nid == NID_AFG) {
            codec_reset(s);
        }
        return 0;
    default:
        return 0;
    }
}

/* ---- interrupts ---- */

static uint32_t sd_int(const HdaStream *d)
{
    return ((d->sts & STS_BCIS) && (d->ctl & CTL_IOCE)) ||
           ((d->sts & STS_FIFOE) && (d->ctl & CTL_FEIE)) ||
           ((d->sts & STS_DESE) && (d->ctl & CTL_DEIE));
}

static uint32_t intsts(Hda *s)
{
    uint32_t v = 0;
    for (int i = 0; i < HDA_NSD; i++) {
        if (sd_int(&s->sd[i])) {
            v |= 1u << i;
        }
    }
    bool cis = ((s->rirbsts & RIRBSTS_RINTFL) &&
                (s->rirbctl & RIRBCTL_RINTCTL)) ||
               ((s->rirbsts & RIRBSTS_OIS) && (s->rirbctl & RIRBCTL_ROIC)) ||
               ((s->corbsts & CORBSTS_CMEI) && (s->corbctl & CORBCTL_CMEIE)) ||
               (s->statests & s->wakeen);
    if (cis) {
        v |= INT_CIE;
    }
    if (v) {
        v |= INT_GIE;
    }
    return v;
}

static void hda_update_irq(Hda *s)
{
    uint32_t st = intsts(s);
    bool level = (s->intctl & INT_GIE) &&
                 (st & s->intctl & (INT_CIE | ((1u << HDA_NSD) - 1)));
    if (level != s->irq_level) {
        s->irq_level = level;
        if (pci_msi_enabled(&s->pci)) {
            if (level) {   /* a message for each new interrupt */
                pci_msi_notify(&s->pci);
            }
        } else if (s->set_irq) {
            s->set_irq(s->irq_opaque, level);
        }
    }
}

/* INTx follows the interrupt only while MSI is off. */
static void hda_drive_intx(Hda *s)
{
    if (s->set_irq) {
        s->set_irq(s->irq_opaque, s->irq_level && !pci_msi_enabled(&s->pci));
    }
}

/* ---- CORB / RIRB ---- */

static unsigned ring_entries(uint8_t size)
{
    switch (size & 3) {
    case 0:
        return 2;
    case 1:
        return 16;
    default:
        return 256;
    }
}

static uint64_t addr64(uint32_t lo, uint32_t hi, uint32_t align_mask)
{
    return ((uint64_t)hi << 32) | (lo & ~align_mask);
}

static void rirb_put(Hda *s, uint32_t resp, uint32_t resp_ex)
{
    unsigned n = ring_entries(s->rirbsize);
    s->rirbwp = (s->rirbwp + 1) % n;
    uint8_t e[8];
    for (int k = 0; k < 4; k++) {
        e[k] = resp >> (8 * k);
        e[4 + k] = resp_ex >> (8 * k);
    }
    memmap_write(s->dev.bus->mem,
                 addr64(s->rirblbase, s->rirbubase, 0x7f) + 8ull * s->rirbwp,
                 e, sizeof(e));
    unsigned cnt = s->rintcnt & 0xff ? s->rintcnt & 0xff : 256;
    if (++s->rirb_count >= cnt) {
        s->rirb_count = 0;
        s->rirbsts |= RIRBSTS_RINTFL;
    }
}

/* Run the command ring up to its write pointer (at most one lap). */
static void corb_process(Hda *s)
{
    if (s->in_corb || !(s->corbctl & CORBCTL_RUN) ||
        !(s->rirbctl & RIRBCTL_RUN) || !(s->gctl & GCTL_CRST) ||
        (s->corbrp & CORBRP_RST) ||
        !(pci_get_long(s->pci.config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        return;
    }
    s->in_corb = true;
    unsigned n = ring_entries(s->corbsize);
    bool any = false;
    for (unsigned guard = 0; guard < n; guard++) {
        unsigned wp = s->corbwp % n, rp = (s->corbrp & 0xff) % n;
        if (rp == wp) {
            break;
        }
        rp = (rp + 1) % n;
        uint8_t e[4];
        memmap_read(s->dev.bus->mem,
                    addr64(s->corblbase, s->corbubase, 0x7f) + 4ull * rp,
                    e, sizeof(e));
        s->corbrp = rp;
        uint32_t cmd = e[0] | e[1] << 8 | e[2] << 16 | (uint32_t)e[3] << 24;
        if ((cmd >> 28) != 0) {
            continue; /* no codec there: no response */
        }
        rirb_put(s, codec_verb(s, cmd), 0);
        any = true;
        if (!(s->rirbctl & RIRBCTL_RUN) || !(s->corbctl & CORBCTL_RUN)) {
            break; /* the guest's own DMA stopped a ring */
        }
    }
    if (any && s->rirb_count) {
        /* All responses in: the interrupt without waiting for RINTCNT. */
        s->rirb_count = 0;
        s->rirbsts |= RIRBSTS_RINTFL;
    }
    s->in_corb = false;
    hda_update_irq(s);
}

/* A jack of the codec's pin (0 line out, 1 line in) was plugged or
   pulled: the pin sense changes and, when the driver enabled it (verb
   0x708, bit 7), the codec sends an unsolicited response with the pin's
   tag in bits 31:26; the controller marks it in the extended response
   (bit 4, codec address 0) and files it in the RIRB like any response.
   Without a running RIRB the event is lost, as the link would drop it;
   the driver reads the pin sense again when it starts. */
void hda_set_jack(Hda *s, int pin, bool plugged)
{
    if (pin < 0 || pin > 1 || s->unplugged[pin] == !plugged) {
        return;
    }
    s->unplugged[pin] = !plugged;
    uint8_t en = s->codec.unsol[pin];
    if (!(en & 0x80) || !(s->rirbctl & RIRBCTL_RUN) ||
        !(s->gctl & GCTL_CRST) ||
        !(pci_get_long(s->pci.config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        return;
    }
    rirb_put(s, (uint32_t)(en & 0x3f) << 26, 0x10);
    s->rirb_count = 0;
    s->rirbsts |= RIRBSTS_RINTFL;
    hda_update_irq(s);
}

/* ---- streams ---- */

static int sd_frame_bytes(const HdaStream *d)
{
    return fmt_bytes(d->fmt) * fmt_channels(d->fmt);
}

static void sd_fetch(Hda *s, HdaStream *d)
{
    uint8_t e[16];
    uint64_t bdl = addr64(d->bdpl, d->bdpu, 0x7f);
    memmap_read(s->dev.bus->mem, bdl + 16ull * d->bde, e, sizeof(e));
    d->bde_addr = 0;
    for (int k = 7; k >= 0; k--) {
        d->bde_addr = d->bde_addr << 8 | e[k];
    }
    d->bde_len = e[8] | e[9] << 8 | e[10] << 16 | (uint32_t)e[11] << 24;
    d->bde_ioc = e[12] & 1;
}

static bool dac_stream(Hda *s, int i)
{
    HdaStream *d = &s->sd[i];
    unsigned tag = d->ctl >> 20 & 0xf;
    return sd_is_output(i) && tag && tag == (s->codec.dac_chan >> 4);
}

/* Convert whole frames to signed 16-bit stereo for the voice. */
static void play_frames(Hda *s, HdaStream *d, const uint8_t *p, size_t n)
{
    int bps = fmt_bytes(d->fmt), ch = fmt_channels(d->fmt);
    int fb = bps * ch;
    int16_t out[512];
    size_t k = 0;
    for (size_t f = 0; f + (size_t)fb <= n; f += fb) {
        for (int c = 0; c < 2; c++) {
            const uint8_t *q = p + f + (size_t)bps * (c < ch ? c : 0);
            int16_t v;
            if (bps == 1) {
                v = (int16_t)((q[0] - 128) << 8);
            } else if (bps == 2) {
                v = (int16_t)(q[0] | q[1] << 8);
            } else {
                v = (int16_t)(q[2] | q[3] << 8);
            }
            out[k++] = v;
        }
        if (k == G_N_ELEMENTS(out)) {
            audio_voice_write(s->voice, out, sizeof(out));
            k = 0;
        }
    }
    if (k) {
        audio_voice_write(s->voice, out, k * sizeof(int16_t));
    }
}

static bool adc_stream(Hda *s, int i)
{
    HdaStream *d = &s->sd[i];
    unsigned tag = d->ctl >> 20 & 0xf;
    return !sd_is_output(i) && s->ain && tag &&
           tag == (s->codec.adc_chan >> 4);
}

/* n bytes of input stream i in its format: from the line in through the
   ADC amplifier when the stream carries the ADC's tag, else silence.
   Bytes of a frame that did not fit wait in d->stage. */
static void record(Hda *s, int i, uint8_t *buf, uint32_t n)
{
    HdaStream *d = &s->sd[i];
    int bps = fmt_bytes(d->fmt), ch = fmt_channels(d->fmt);
    int fb = bps * ch;
    uint32_t off = MIN(n, (uint32_t)d->staged);
    memcpy(buf, d->stage, off);
    memmove(d->stage, d->stage + off, d->staged - off);
    d->staged -= off;
    bool live = adc_stream(s, i) && (s->codec.pinctl[1] & 0x20);
    float g[2] = { amp_gain(s->codec.adc_amp[0]),
                   amp_gain(s->codec.adc_amp[1]) };
    if (live) {
        audio_in_set_rate(s->ain, fmt_rate(d->fmt));
    }
    while (off < n) {
        int16_t in[2 * 128];
        uint8_t tmp[64 * 128];
        int frames = MIN((n - off + fb - 1) / fb, 128u);
        if (live) {
            audio_in_read(s->ain, in, frames);
        } else {
            memset(in, 0, sizeof(in));
        }
        uint8_t *q = tmp;
        for (int f = 0; f < frames; f++) {
            for (int c = 0; c < ch; c++) {
                int v = c < 2 ? (int)lrintf(in[2 * f + c] * g[c]) : 0;
                v = CLAMP(v, -32768, 32767);
                if (bps == 1) {
                    *q++ = (uint8_t)((v >> 8) + 128);
                } else if (bps == 2) {
                    *q++ = v;
                    *q++ = v >> 8;
                } else {
                    *q++ = 0;
                    *q++ = 0;
                    *q++ = v;
                    *q++ = v >> 8;
                }
            }
        }
        uint32_t made = (uint32_t)(frames * fb);
        uint32_t take = MIN(made, n - off);
        memcpy(buf + off, tmp, take);
        off += take;
        if (take < made) {
            memcpy(d->stage, tmp + take, made - take);
            d->staged = made - take;
        }
    }
}

/* Bytes of stream d moved through buf (its DMA). */
static void sd_transfer(Hda *s, int i, uint8_t *buf, uint32_t n)
{
    HdaStream *d = &s->sd[i];
    MemMap *mem = s->dev.bus->mem;
    uint64_t a = d->bde_addr + d->bde_off;
    if (!sd_is_output(i)) {
        record(s, i, buf, n);
        memmap_write(mem, a, buf, n);
        return;
    }
    memmap_read(mem, a, buf, n);
    if (!dac_stream(s, i)) {
        return;
    }
    int fb = sd_frame_bytes(d);
    uint32_t off = 0;
    if (d->staged) {
        uint32_t take = MIN(n, (uint32_t)(fb - d->staged));
        memcpy(d->stage + d->staged, buf, take);
        d->staged += take;
        off = take;
        if (d->staged == fb) {
            play_frames(s, d, d->stage, fb);
            d->staged = 0;
        }
    }
    uint32_t whole = (n - off) / fb * fb;
    play_frames(s, d, buf + off, whole);
    off += whole;
    if (off < n) {
        memcpy(d->stage, buf + off, n - off);
        d->staged = n - off;
    }
}

static bool sd_can_run(Hda *s, int i)
{
    HdaStream *d = &s->sd[i];
    return d->running && (d->ctl & CTL_RUN) && !(d->ctl & CTL_SRST) &&
           (s->gctl & GCTL_CRST) && d->cbl &&
           (pci_get_long(s->pci.config + PCI_COMMAND) & PCI_COMMAND_MASTER);
}

static void dpl_update(Hda *s, int i)
{
    if (s->dplbase & 1) {
        uint8_t p[4];
        uint32_t v = s->sd[i].lpib;
        for (int k = 0; k < 4; k++) {
            p[k] = v >> (8 * k);
        }
        memmap_write(s->dev.bus->mem,
                     addr64(s->dplbase, s->dpubase, 0x7f) + 8ull * i, p, 4);
    }
}

/* The current buffer is done: interrupt, then the next entry. */
static void sd_next(Hda *s, HdaStream *d)
{
    if (d->bde_ioc) {
        d->sts |= STS_BCIS;
    }
    d->bde = d->bde >= d->lvi ? 0 : d->bde + 1;
    d->bde_off = 0;
    sd_fetch(s, d);
}

static void sd_run(Hda *s, int i)
{
    if (!sd_can_run(s, i)) {
        return;
    }
    HdaStream *d = &s->sd[i];
    int rate = fmt_rate(d->fmt);
    int64_t now = clock_now(s->dev.bus->clock);
    int64_t due = (now - d->t0) * rate / 1000000000LL - d->frames;
    if (due <= 0) {
        return;
    }
    if (due > rate) {
        /* The host stalled (or time jumped): restart the timeline. */
        d->t0 = now;
        d->frames = 0;
        due = rate / 10;
    }
    d->frames += due;
    uint64_t bytes = (uint64_t)due * sd_frame_bytes(d);
    uint8_t buf[4096];
    /* Bound the walk: empty or tiny buffers would make it long (what is
       left over is dropped, as a starved FIFO would). */
    unsigned empty = 0;
    for (unsigned iter = 0; bytes > 0 && iter < 1024 && d->running;
         iter++) {
        uint32_t left = d->bde_len - MIN(d->bde_off, d->bde_len);
        if (left == 0) {
            if (++empty > d->lvi + 1u) {
                /* A whole lap of empty buffers: a descriptor error, the
                   stream stops. */
                d->sts |= STS_DESE;
                d->running = false;
                d->ctl &= ~CTL_RUN;
                update_voice(s);
                break;
            }
            sd_next(s, d);
            continue;
        }
        empty = 0;
        uint32_t n = (uint32_t)MIN(MIN(bytes, (uint64_t)left),
                                   (uint64_t)sizeof(buf));
        n = MIN(n, d->cbl - MIN(d->lpib, d->cbl));
        if (n > 0) {
            sd_transfer(s, i, buf, n);
            d->bde_off += n;
            d->lpib += n;
            bytes -= n;
        }
        if (d->bde_off >= d->bde_len) {
            sd_next(s, d);
        }
        if (d->lpib >= d->cbl) {
            /* The cyclic buffer wraps: back to the first entry. */
            d->lpib = 0;
            if (d->bde != 0 || d->bde_off != 0) {
                d->bde = 0;
                d->bde_off = 0;
                sd_fetch(s, d);
            }
        }
    }
    if (d->frames >= rate) {
        d->t0 += 1000000000LL;
        d->frames -= rate;
    }
    dpl_update(s, i);
    hda_update_irq(s);
}

/* Timer at the end of the current buffer (its interrupt on time). */
static void sd_arm(Hda *s, int i)
{
    if (!s->timer[i]) {
        return;
    }
    if (!sd_can_run(s, i)) {
        timer_del(s->timer[i]);
        return;
    }
    HdaStream *d = &s->sd[i];
    int rate = fmt_rate(d->fmt), fb = sd_frame_bytes(d);
    uint32_t left = d->bde_len - MIN(d->bde_off, d->bde_len);
    left = MIN(left, d->cbl - MIN(d->lpib, d->cbl));
    int64_t frames = d->frames + (left + fb - 1) / fb;
    int64_t t = d->t0 + (frames * 1000000000LL + rate - 1) / rate;
    timer_mod(s->timer[i], MAX(t, clock_now(s->dev.bus->clock) + 20000));
}

static void update_voice(Hda *s)
{
    if (!s->voice) {
        return;
    }
    bool on = false;
    for (int i = HDA_ISS; i < HDA_NSD; i++) {
        if (dac_stream(s, i) && sd_can_run(s, i)) {
            if (!on) {
                audio_voice_set_format(s->voice, fmt_rate(s->sd[i].fmt),
                                       AUDIO_FMT_S16, 2);
            }
            on = true;
        }
    }
    if (on != audio_voice_active(s->voice)) {
        audio_voice_set_active(s->voice, on);
    }
}

static void sd_timer(Hda *s, int i)
{
    sd_run(s, i);
    sd_arm(s, i);
}

#define SD_TIMER(n) \
    static void sd_timer##n(void *opaque) { sd_timer(opaque, n); }
SD_TIMER(0) SD_TIMER(1) SD_TIMER(2) SD_TIMER(3)
SD_TIMER(4) SD_TIMER(5) SD_TIMER(6) SD_TIMER(7)
static void (*const sd_timer_fn[HDA_NSD])(void *) = {
    sd_timer0, sd_timer1, sd_timer2, sd_timer3,
    sd_timer4, sd_timer5, sd_timer6, sd_timer7,
};

static void hda_pull(void *opaque)
{
    Hda *s = opaque;
    for (int i = HDA_ISS; i < HDA_NSD; i++) {
        sd_run(s, i);
        sd_arm(s, i);
    }
}

static void sd_reset(Hda *s, int i)
{
    HdaStream *d = &s->sd[i];
    uint32_t keep = d->ctl & CTL_SRST;
    *d = (HdaStream){ .ctl = keep, .sts = STS_FIFORDY };
    if (s->timer[i]) {
        timer_del(s->timer[i]);
    }
}

static void sd_write_ctl(Hda *s, int i, uint32_t v)
{
    HdaStream *d = &s->sd[i];
    uint32_t old = d->ctl;
    v &= CTL_MASK;
    if (v & CTL_SRST) {
        d->ctl = v;
        sd_reset(s, i);
        d->ctl = CTL_SRST;
    } else {
        d->ctl = v;
        if ((v & CTL_RUN) && !(old & CTL_RUN)) {
            d->running = true;
            d->t0 = clock_now(s->dev.bus->clock);
            d->frames = 0;
            d->staged = 0;
            sd_fetch(s, d);
        } else if (!(v & CTL_RUN) && (old & CTL_RUN)) {
            d->running = false;
        }
    }
    update_voice(s);
    sd_arm(s, i);
    hda_update_irq(s);
}

/* ---- controller reset ---- */

static void controller_reset(Hda *s)
{
    s->gctl &= ~GCTL_CRST;
    s->intctl = 0;
    s->wakeen = 0;
    s->statests = 0;
    s->gsts = 0;
    s->ssync = 0;
    s->corblbase = s->corbubase = s->rirblbase = s->rirbubase = 0;
    s->corbwp = s->corbrp = s->rirbwp = s->rintcnt = 0;
    s->corbctl = s->corbsts = s->rirbctl = s->rirbsts = 0;
    s->corbsize = s->rirbsize = 0x42; /* 256 entries, only size */
    s->rirb_count = 0;
    s->icoi = s->irii = 0;
    s->icis = 0;
    s->dplbase = s->dpubase = 0;
    for (int i = 0; i < HDA_NSD; i++) {
        s->sd[i].ctl = 0;
        sd_reset(s, i);
    }
    update_voice(s);
}

/* ---- MMIO ---- */

/* Width of the register at off, and its offset (0 when reserved). */
static unsigned reg_width(uint32_t off, uint32_t *base)
{
    static const struct { uint8_t off, w; } g[] = {
        { GCAP, 2 }, { VMIN, 1 }, { VMAJ, 1 }, { OUTPAY, 2 }, { INPAY, 2 },
        { GCTL, 4 }, { WAKEEN, 2 }, { STATESTS, 2 }, { GSTS, 2 },
        { OUTSTRMPAY, 2 }, { INSTRMPAY, 2 }, { INTCTL, 4 }, { INTSTS, 4 },
        { WALCLK, 4 }, { SSYNC_OLD, 4 }, { SSYNC, 4 }, { CORBLBASE, 4 },
        { CORBUBASE, 4 }, { CORBWP, 2 }, { CORBRP, 2 }, { CORBCTL, 1 },
        { CORBSTS, 1 }, { CORBSIZE, 1 }, { RIRBLBASE, 4 }, { RIRBUBASE, 4 },
        { RIRBWP, 2 }, { RINTCNT, 2 }, { RIRBCTL, 1 }, { RIRBSTS, 1 },
        { RIRBSIZE, 1 }, { ICOI, 4 }, { IRII, 4 }, { ICIS, 2 },
        { DPLBASE, 4 }, { DPUBASE, 4 },
    };
    if (off >= SD_ALIAS) {
        off -= SD_ALIAS;
        if (off >= SD_BASE && off < SD_BASE + HDA_NSD * SD_LEN &&
            (off - SD_BASE) % SD_LEN >= 4 && (off - SD_BASE) % SD_LEN < 8) {
            *base = off - (off - SD_BASE) % SD_LEN + 4 + SD_ALIAS;
            return 4;
        }
        return 0;
    }
    if (off >= SD_BASE && off < SD_BASE + HDA_NSD * SD_LEN) {
        static const uint8_t sdw[SD_LEN] = {
            [0] = 3, [3] = 1, [4] = 4, [8] = 4, [0xc] = 2, [0xe] = 2,
            [0x10] = 2, [0x12] = 2, [0x18] = 4, [0x1c] = 4,
        };
        uint32_t r = (off - SD_BASE) % SD_LEN, b = r;
        while (b > 0 && !sdw[b]) {
            b--;
        }
        if (sdw[b] && r < b + sdw[b]) {
            *base = off - r + b;
            return sdw[b];
        }
        return 0;
    }
    for (size_t k = 0; k < G_N_ELEMENTS(g); k++) {
        if (off >= g[k].off && off < (uint32_t)g[k].off + g[k].w) {
            *base = g[k].off;
            return g[k].w;
        }
    }
    return 0;
}

static uint32_t reg_read(Hda *s, uint32_t base)
{
    if (base >= SD_ALIAS) {
        base -= SD_ALIAS;
    }
    if (base >= SD_BASE) {
        int i = (base - SD_BASE) / SD_LEN;
        HdaStream *d = &s->sd[i];
        switch ((base - SD_BASE) % SD_LEN) {
        case 0:
            return d->ctl;
        case 3:
            return d->sts;
        case 4:
            return d->lpib;
        case 8:
            return d->cbl;
        case 0xc:
            return d->lvi;
        case 0xe:
            return sd_is_output(i) ? 0x4 : 0x4; /* FIFOW: 32 bytes */
        case 0x10: /* FIFOS */
            return sd_is_output(i) ? 0xff : 0x4f;
        case 0x12:
            return d->fmt;
        case 0x18:
            return d->bdpl;
        default:
            return d->bdpu;
        }
    }
    switch (base) {
    case GCAP: /* 4 output, 4 input, 0 bidirectional, 1 SDO, 64-bit */
        return HDA_OSS << 12 | HDA_ISS << 8 | 1;
    case VMIN:
        return 0;
    case VMAJ:
        return 1;
    case OUTPAY:
        return 0x3c;
    case INPAY:
        return 0x1d;
    case GCTL:
        return s->gctl;
    case WAKEEN:
        return s->wakeen;
    case STATESTS:
        return s->statests;
    case GSTS:
        return s->gsts;
    case INTCTL:
        return s->intctl;
    case INTSTS:
        return intsts(s);
    case WALCLK: /* 24 MHz */
        return (uint32_t)(clock_now(s->dev.bus->clock) * 3 / 125);
    case SSYNC_OLD:
    case SSYNC:
        return s->ssync;
    case CORBLBASE:
        return s->corblbase;
    case CORBUBASE:
        return s->corbubase;
    case CORBWP:
        return s->corbwp;
    case CORBRP:
        return s->corbrp;
    case CORBCTL:
        return s->corbctl;
    case CORBSTS:
        return s->corbsts;
    case CORBSIZE:
        return s->corbsize;
    case RIRBLBASE:
        return s->rirblbase;
    case RIRBUBASE:
        return s->rirbubase;
    case RIRBWP:
        return s->rirbwp;
    case RINTCNT:
        return s->rintcnt;
    case RIRBCTL:
        return s->rirbctl;
    case RIRBSTS:
        return s->rirbsts;
    case RIRBSIZE:
        return s->rirbsize;
    case ICOI:
        return s->icoi;
    case IRII:
        return s->irii;
    case ICIS:
        return s->icis;
    case DPLBASE:
        return s->dplbase;
    case DPUBASE:
        return s->dpubase;
    default:
        return 0;
    }
}

/* A guest write of value v to the register at base: bm marks the bytes
   it wrote (bit k = byte k) and v holds them in place. */
static void reg_write(Hda *s, uint32_t base, uint32_t v, uint32_t bm)
{
    uint32_t mask = 0;
    for (int k = 0; k < 4; k++) {
        if (bm & (1u << k)) {
            mask |= 0xffu << (8 * k);
        }
    }
    uint32_t merged = (reg_read(s, base) & ~mask) | (v & mask);
    v &= mask;
    if (base >= SD_ALIAS) {
        return; /* the LPIB alias is read-only */
    }
    if (base >= SD_BASE) {
        int i = (base - SD_BASE) / SD_LEN;
        HdaStream *d = &s->sd[i];
        bool reset = d->ctl & CTL_SRST;
        switch ((base - SD_BASE) % SD_LEN) {
        case 0:
            sd_write_ctl(s, i, merged);
            return;
        case 3:
            d->sts &= ~(v & (STS_BCIS | STS_FIFOE | STS_DESE));
            hda_update_irq(s);
            return;
        case 8:
            if (!d->running) {
                d->cbl = merged;
            }
            return;
        case 0xc:
            if (!d->running) {
                d->lvi = merged & 0xff;
            }
            return;
        case 0x12:
            if (!d->running || reset) {
                d->fmt = merged & 0x7f7f;
            }
            return;
        case 0x18:
            if (!d->running) {
                d->bdpl = merged & ~0x7fu;
            }
            return;
        case 0x1c:
            if (!d->running) {
                d->bdpu = merged;
            }
            return;
        default:
            return; /* LPIB, FIFOW, FIFOS */
        }
    }
    if (!(s->gctl & GCTL_CRST) && base != GCTL) {
        return; /* in reset, only CRST can be written */
    }
    switch (base) {
    case GCTL: {
        bool was = s->gctl & GCTL_CRST;
        s->gctl = merged & 0x103;
        if (!(s->gctl & GCTL_CRST)) {
            controller_reset(s);
            s->gctl = merged & 0x100;
        } else if (!was) {
            /* Out of reset: codec 0 asks for a status change. */
            s->statests |= 1;
        }
        break;
    }
    case WAKEEN:
        s->wakeen = merged & 0x7fff;
        break;
    case STATESTS:
        s->statests &= ~v;
        break;
    case GSTS:
        s->gsts &= ~(v & 2);
        break;
    case INTCTL:
        s->intctl = merged & (INT_GIE | INT_CIE | ((1u << HDA_NSD) - 1));
        break;
    case SSYNC_OLD:
    case SSYNC:
        s->ssync = merged & ((1u << HDA_NSD) - 1);
        break;
    case CORBLBASE:
        if (!(s->corbctl & CORBCTL_RUN)) {
            s->corblbase = merged & ~0x7fu;
        }
        break;
    case CORBUBASE:
        if (!(s->corbctl & CORBCTL_RUN)) {
            s->corbubase = merged;
        }
        break;
    case CORBWP:
        s->corbwp = merged & 0xff;
        corb_process(s);
        break;
    case CORBRP:
        if (merged & CORBRP_RST) {
            s->corbrp = CORBRP_RST;
        } else if (s->corbrp & CORBRP_RST) {
            s->corbrp = 0;
        }
        break;
    case CORBCTL:
        s->corbctl = merged & 3;
        corb_process(s);
        break;
    case CORBSTS:
        s->corbsts &= ~v;
        break;
    case CORBSIZE:
        s->corbsize = 0x40 | (merged & 3);
        break;
    case RIRBLBASE:
        if (!(s->rirbctl & RIRBCTL_RUN)) {
            s->rirblbase = merged & ~0x7fu;
        }
        break;
    case RIRBUBASE:
        if (!(s->rirbctl & RIRBCTL_RUN)) {
            s->rirbubase = merged;
        }
        break;
    case RIRBWP:
        if (v & RIRBWP_RST) {
            s->rirbwp = 0;
        }
        break;
    case RINTCNT:
        s->rintcnt = merged & 0xff;
        break;
    case RIRBCTL:
        s->rirbctl = merged & 7;
        corb_process(s);
        break;
    case RIRBSTS:
        s->rirbsts &= ~(v & (RIRBSTS_RINTFL | RIRBSTS_OIS));
        break;
    case RIRBSIZE:
        s->rirbsize = 0x40 | (merged & 3);
        break;
    case ICOI:
        s->icoi = merged;
        break;
    case IRII:
        break;
    case ICIS:
        if (v & ICIS_IRV) {
            s->icis &= ~ICIS_IRV;
        }
        if ((v & ICIS_ICB) && !s->in_corb) {
            s->in_corb = true;
            if ((s->icoi >> 28) == 0) {
                s->irii = codec_verb(s, s->icoi);
                s->icis |= ICIS_IRV;
            }
            s->in_corb = false;
        }
        break;
    case DPLBASE:
        s->dplbase = merged & ~0x7eu;
        break;
    case DPUBASE:
        s->dpubase = merged;
        break;
    default:
        break; /* read-only */
    }
    hda_update_irq(s);
}

static bool is_stream_reg(uint32_t base, int *i)
{
    if (base >= SD_ALIAS) {
        base -= SD_ALIAS;
    }
    if (base >= SD_BASE && base < SD_BASE + HDA_NSD * SD_LEN) {
        *i = (base - SD_BASE) / SD_LEN;
        return true;
    }
    return false;
}

static uint64_t hda_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    Hda *s = opaque;
    uint64_t v = 0;
    for (unsigned k = 0; k < size;) {
        uint32_t base;
        unsigned w = reg_width((uint32_t)(off + k), &base);
        if (!w) {
            k++;
            continue;
        }
        int i;
        if (is_stream_reg(base, &i)) {
            sd_run(s, i); /* the position as of now */
        }
        uint32_t r = reg_read(s, base);
        for (; k < size && off + k < (uint64_t)base + w; k++) {
            v |= (uint64_t)((r >> (8 * (off + k - base))) & 0xff) << (8 * k);
        }
    }
    return v;
}

static void hda_mmio_write(void *opaque, uint64_t off, uint64_t val,
                           unsigned size)
{
    Hda *s = opaque;
    for (unsigned k = 0; k < size;) {
        uint32_t base;
        unsigned w = reg_width((uint32_t)(off + k), &base);
        if (!w) {
            k++;
            continue;
        }
        uint32_t v = 0, bm = 0;
        for (; k < size && off + k < (uint64_t)base + w; k++) {
            unsigned b = off + k - base;
            v |= (uint32_t)((val >> (8 * k)) & 0xff) << (8 * b);
            bm |= 1u << b;
        }
        int i;
        if (is_stream_reg(base, &i)) {
            sd_run(s, i);
        }
        reg_write(s, base, v, bm);
    }
}

static const MemOps hda_mmio_ops = {
    .read = hda_mmio_read, .write = hda_mmio_write, .min = 1, .max = 4,
};

static void hda_config_written(PciFunc *f, uint32_t addr, uint32_t val,
                               unsigned len)
{
    Hda *s = f->owner;
    if (addr <= PCI_COMMAND + 1 && addr + len > PCI_COMMAND) {
        /* Bus mastering may have been switched. */
        update_voice(s);
        for (int i = 0; i < HDA_NSD; i++) {
            sd_arm(s, i);
        }
        corb_process(s);
    }
    if (pci_msi_control_written(f, addr, len)) {
        hda_drive_intx(s);
    }
}

/* ---- device ---- */

static bool hda_realize(Device *dev, GError **error)
{
    Hda *s = (Hda *)dev;
    if (!s->bus || !s->audio) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "intel-hda: not wired to a PCI bus and an audio device");
        return false;
    }
    /* ICH6 HD Audio: class 0x0403 (multimedia, HD Audio), rev 1. */
    pci_add_function(s->bus, &s->pci, s->devfn, 0x8086, 0x2668, 0x04030001,
                     s);
    /* The subsystem of QEMU-like virtual machines, as the AC'97 has. */
    pci_set_word(s->pci.config + PCI_SUBSYS_VENDOR, 0x1af4);
    pci_set_word(s->pci.config + PCI_SUBSYS_ID, 0x1100);
    s->pci.config[PCI_INTERRUPT_PIN] = 1; /* INTA# */
    if (s->msi) {
        pci_msi_init(&s->pci, 0x60);   /* ICH6: MSI at 0x60 */
    }
    g_autofree char *name = g_strdup_printf("%s.mmio", dev->id);
    s->mmio = memmap_add_mmio(dev->bus->mem, name, 0xfe000000ull +
                              (uint64_t)(s->devfn >> 3) * MMIO_SIZE,
                              MMIO_SIZE, &hda_mmio_ops, s, 3);
    pci_set_bar_mem(&s->pci, 0, s->mmio);
    s->pci.config_written = hda_config_written;
    s->voice = audio_voice_new(s->audio, "hda", hda_pull, s);
    if (s->duplex) {
        s->ain = audio_in_new(s->audio, "hda");
    }
    for (int i = 0; i < HDA_NSD; i++) {
        s->timer[i] = timer_new(dev->bus->clock, sd_timer_fn[i], s);
    }
    return true;
}

static void hda_reset(Device *dev)
{
    Hda *s = (Hda *)dev;
    pci_reset_function(&s->pci);
    pci_set_word(s->pci.config + PCI_STATUS,   /* the MSI capability */
                 s->pci.msi_cap ? PCI_STATUS_CAP_LIST : 0);
    s->gctl = 0;
    controller_reset(s);
    codec_reset(s);
    hda_update_irq(s);
}

static void hda_finalize(Device *dev)
{
    Hda *s = (Hda *)dev;
    for (int i = 0; i < HDA_NSD; i++) {
        timer_free(s->timer[i]);
    }
    audio_voice_free(s->voice);
    audio_in_free(s->ain);
}

static bool hda_post_load(void *obj, GError **error)
{
    Hda *s = obj;
    for (int i = 0; i < HDA_NSD; i++) {
        HdaStream *d = &s->sd[i];
        if (d->lvi > 255 || d->bde > 255 || (d->bdpl & 0x7f) ||
            d->staged >= sizeof(d->stage) ||
            d->staged >= sd_frame_bytes(d) || (d->ctl & ~CTL_MASK)) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                        "intel-hda: stream %d state out of range", i);
            return false;
        }
    }
    if (s->unplugged[0] > 1 || s->unplugged[1] > 1) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "intel-hda: jack state out of range");
        return false;
    }
    if ((s->corbsize & ~0x43) || (s->rirbsize & ~0x43)) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "intel-hda: ring size out of range");
        return false;
    }
    pci_update_mappings(&s->pci);
    apply_volume(s);
    update_voice(s);
    for (int i = 0; i < HDA_NSD; i++) {
        sd_arm(s, i);
    }
    /* The line follows the loaded state; a message already sent is in
       the local APIC's saved state, so none is sent again. */
    uint32_t st = intsts(s);
    s->irq_level = (s->intctl & INT_GIE) &&
                   (st & s->intctl & (INT_CIE | ((1u << HDA_NSD) - 1)));
    hda_drive_intx(s);
    return true;
}

static const StateField sd_fields[] = {
    STATE_U32(HdaStream, ctl), STATE_U8(HdaStream, sts),
    STATE_U32(HdaStream, lpib), STATE_U32(HdaStream, cbl),
    STATE_U16(HdaStream, lvi), STATE_U16(HdaStream, fmt),
    STATE_U32(HdaStream, bdpl), STATE_U32(HdaStream, bdpu),
    STATE_U16(HdaStream, bde), STATE_U32(HdaStream, bde_off),
    STATE_U64(HdaStream, bde_addr), STATE_U32(HdaStream, bde_len),
    STATE_U32(HdaStream, bde_ioc), STATE_I64(HdaStream, t0),
    STATE_I64(HdaStream, frames), STATE_BOOL(HdaStream, running),
    STATE_BYTES(HdaStream, stage, 64), STATE_U8(HdaStream, staged),
    STATE_END,
};

static const StateField codec_fields[] = {
    STATE_U16(HdaCodec, dac_fmt), STATE_U16(HdaCodec, adc_fmt),
    STATE_U8(HdaCodec, dac_chan), STATE_U8(HdaCodec, adc_chan),
    STATE_U8_ARRAY(HdaCodec, dac_amp, 2), STATE_U8_ARRAY(HdaCodec, adc_amp, 2),
    STATE_U8_ARRAY(HdaCodec, pinctl, 2), STATE_U8(HdaCodec, power),
    STATE_U8_ARRAY(HdaCodec, unsol, 2), STATE_U8(HdaCodec, eapd),
    STATE_U32_ARRAY(HdaCodec, config, 2), STATE_U32(HdaCodec, subsys),
    STATE_END,
};

static const StateDesc hda_state = {
    .name = "intel-hda", .version = 2, .min_version = 1,
    .post_load = hda_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(Hda, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_U32(Hda, gctl), STATE_U32(Hda, intctl),
        STATE_U16(Hda, wakeen), STATE_U16(Hda, statests),
        STATE_U16(Hda, gsts), STATE_U32(Hda, ssync),
        STATE_U32(Hda, corblbase), STATE_U32(Hda, corbubase),
        STATE_U32(Hda, rirblbase), STATE_U32(Hda, rirbubase),
        STATE_U16(Hda, corbwp), STATE_U16(Hda, corbrp),
        STATE_U16(Hda, rirbwp), STATE_U16(Hda, rintcnt),
        STATE_U8(Hda, corbctl), STATE_U8(Hda, corbsts),
        STATE_U8(Hda, corbsize), STATE_U8(Hda, rirbctl),
        STATE_U8(Hda, rirbsts), STATE_U8(Hda, rirbsize),
        STATE_U16(Hda, rirb_count), STATE_U32(Hda, icoi),
        STATE_U32(Hda, irii), STATE_U16(Hda, icis),
        STATE_U32(Hda, dplbase), STATE_U32(Hda, dpubase),
        STATE_STRUCT_ARRAY(Hda, sd, HDA_NSD, sd_fields),
        STATE_STRUCT(Hda, codec, codec_fields),
        STATE_U8_ARRAY(Hda, unplugged, 2, STATE_V(2)), STATE_END },
};

const DeviceInfo hda_info = {
    .name = "intel-hda", .size = sizeof(Hda), .state = &hda_state,
    .realize = hda_realize, .reset = hda_reset, .finalize = hda_finalize,
};
