/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * i8042 keyboard controller and PS/2 keyboard (see i8042.h).
 * Reference: IBM PC/AT technical reference (8042 commands 0x20/0x60 read/
 * write command byte, 0xa7-0xab, 0xad/0xae, 0xd0-0xd4, 0xfe; status bits
 * OBF, SYS, A2, AUXB) and the PS/2 keyboard commands (0xff reset, 0xf2
 * identify, 0xed LEDs, 0xf0 scan-code set, 0xf3 typematic, 0xf4/0xf5/
 * 0xf6 enable/disable/defaults, 0xee echo).  The keyboard sends scan code
 * set 1, 2 or 3 as the host selected (2 after reset); with command-byte
 * bit 6 set the controller translates every byte from the keyboard through
 * the 8042's set 2 to set 1 table (an 0xf0 prefix becomes bit 7 of the
 * next byte), replies included, as real controllers do (so the ID reads
 * 0xab 0x41).  Typematic repeat runs from the machine clock: the last key
 * pressed repeats after the delay and at the rate of the 0xf3 byte while
 * it is held.  The mouse is ps2mouse.c; controller commands 0xa7/0xa8
 * disable and enable it, 0xa9 tests its port, 0xd3 loops a byte back as
 * if from it and 0xd4 sends it one; its bytes raise IRQ12 when command
 * byte bit 1 allows.
 */
#include "hw/isa/i8042.h"

#include <string.h>

#include "bus/log.h"

#define KEY_SYSRQ 99  /* evdev: Print Screen */
#define KEY_PAUSE 119

#define ST_OBF 0x01
#define ST_SYS 0x04
#define ST_CMD 0x08
#define ST_INH 0x10
#define ST_AUXB 0x20
#define MODE_KBD_INT 0x01
#define MODE_AUX_INT 0x02
#define MODE_DISABLE_KBD 0x10
#define MODE_DISABLE_AUX 0x20
#define MODE_XLATE 0x40


/* The 8042's translation of scan code set 2 to set 1 (bytes 0x88 and up
   pass unchanged). */
static const uint8_t xlate_table[0x88] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58,
    0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a,
    0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c,
    0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e,
    0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60,
    0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e,
    0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b,
    0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45,
    0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
    0x80, 0x81, 0x82, 0x41, 0x54, 0x85, 0x86, 0x87,
};

static uint8_t xlate(uint8_t v)
{
    return v < sizeof(xlate_table) ? xlate_table[v] : v;
}

static void update(I8042 *s)
{
    if (!(s->status & ST_OBF)) {
        int v = -1;
        bool aux = false;
        if (s->kbd.count && !(s->mode & MODE_DISABLE_KBD)) {
            v = ps2_queue_pop(&s->kbd);
        } else if (s->aux.count && !(s->mode & MODE_DISABLE_AUX)) {
            v = ps2_queue_pop(&s->aux);
            aux = true;
        }
        if (v >= 0) {
            s->out = v;
            s->out_aux = aux;
            s->status |= ST_OBF;
            s->status = aux ? (s->status | ST_AUXB) : (s->status & ~ST_AUXB);
        }
    }
    bool obf = s->status & ST_OBF;
    irq_set(s->irq_kbd, obf && !s->out_aux && (s->mode & MODE_KBD_INT));
    irq_set(s->irq_aux, obf && s->out_aux && (s->mode & MODE_AUX_INT));
}

/* A byte from the controller itself (command replies, or 0xd2/0xd3
   written as if from a device) goes out at once, whatever the disable
   bits say. */
static void ctrl_reply_from(I8042 *s, uint8_t v, bool aux)
{
    s->out = v;
    s->out_aux = aux;
    s->status |= ST_OBF;
    s->status = aux ? (s->status | ST_AUXB) : (s->status & ~ST_AUXB);
    update(s);
}

static void ctrl_reply(I8042 *s, uint8_t v)
{
    ctrl_reply_from(s, v, false);
}

static void set_outport(I8042 *s, uint8_t v)
{
    uint8_t old = s->outport;
    s->outport = v;
    if ((old ^ v) & 2 && s->set_a20) {
        s->set_a20(s->opaque, v & 2);
    }
    if (!(v & 1) && s->reset) {
        s->reset(s->opaque);
    }
}

/* ---- the keyboard ---- */

/* A byte from the keyboard, through the controller's translation. */
static void kbd_put(I8042 *s, uint8_t v)
{
    if (s->mode & MODE_XLATE) {
        if (v == 0xf0) {
            s->xlate_break = true;
            return;
        }
        v = xlate(v) | (s->xlate_break ? 0x80 : 0);
        s->xlate_break = false;
    }
    ps2_queue_push(&s->kbd, v);
}

int64_t i8042_typematic_delay_ns(uint8_t v)
{
    return (int64_t)(((v >> 5) & 3) + 1) * 250 * 1000 * 1000;
}

/* (8 + A) * 2^B * 4.17 ms, A = bits 0-2, B = bits 3-4 (30 to 2 cps). */
int64_t i8042_typematic_period_ns(uint8_t v)
{
    int a = v & 7, b = (v >> 3) & 3;
    return (int64_t)(8 + a) * (1 << b) * 1000000000 / 240;
}

static void repeat_stop(I8042 *s)
{
    s->repeat_key = 0;
    s->repeat_at = -1;
    if (s->repeat_timer) {
        timer_del(s->repeat_timer);
    }
}

static void kbd_defaults(I8042 *s)
{
    s->scancode_set = 2;
    s->typematic = 0x2b; /* 10.9 characters/s after 500 ms */
    s->leds = 0;
    repeat_stop(s);
}

static void kbd_command(I8042 *s, uint8_t v)
{
    if (s->kbd_cmd) {
        uint8_t c = s->kbd_cmd;
        s->kbd_cmd = 0;
        if (c == 0xed) {
            s->leds = v & 7;
        } else if (c == 0xf3) {
            s->typematic = v & 0x7f;
        } else if (c == 0xf0) {
            if (v == 0) {
                kbd_put(s, 0xfa);
                kbd_put(s, s->scancode_set);
                return;
            }
            if (v > 3) {
                kbd_put(s, 0xfe);
                return;
            }
            s->scancode_set = v;
            repeat_stop(s);
        }
        kbd_put(s, 0xfa);
        return;
    }
    switch (v) {
    case 0xed: case 0xf0: case 0xf3:
        s->kbd_cmd = v;
        kbd_put(s, 0xfa);
        return;
    case 0xee:
        kbd_put(s, 0xee);
        return;
    case 0xf2:
        kbd_put(s, 0xfa);
        kbd_put(s, 0xab);
        kbd_put(s, 0x83); /* MF2 keyboard; reads 0x41 when translated */
        return;
    case 0xf4:
        s->kbd_enabled = true;
        kbd_put(s, 0xfa);
        return;
    case 0xf5: /* defaults, then stop scanning */
        kbd_defaults(s);
        s->kbd_enabled = false;
        kbd_put(s, 0xfa);
        return;
    case 0xf6: /* defaults, keep scanning */
        kbd_defaults(s);
        s->kbd_enabled = true;
        kbd_put(s, 0xfa);
        return;
    case 0xff:
        s->kbd.count = 0;
        kbd_defaults(s);
        s->kbd_enabled = true;
        kbd_put(s, 0xfa);
        kbd_put(s, 0xaa);
        return;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc:
    case 0xfd:
        /* Set 3 per-key type commands: acknowledged, all keys stay
           typematic make/break. */
        kbd_put(s, 0xfa);
        return;
    default:
        mimic_log_guest("i8042: unknown keyboard command 0x%02x", v);
        kbd_put(s, 0xfe); /* resend: unknown command */
        return;
    }
}

static void aux_command(I8042 *s, uint8_t v)
{
    ps2mouse_write(&s->mouse, &s->aux, v);
}

static uint32_t i8042_read(void *opaque, uint16_t off, unsigned size)
{
    I8042 *s = opaque;
    if (off == 4) {
        return s->status;
    }
    uint8_t v = s->out;
    s->status &= ~(ST_OBF | ST_AUXB);
    /* Reading drops the interrupt; the next byte raises it anew, so that
       an edge-triggered PIC sees every byte of a packet or sequence. */
    irq_lower(s->irq_kbd);
    irq_lower(s->irq_aux);
    if (!s->aux.count) {
        ps2mouse_drain(&s->mouse, &s->aux); /* the rest of a big move */
    }
    update(s);
    return v;
}
static void i8042_write(void *opaque, uint16_t off, uint32_t val,
                        unsigned size)
{
    I8042 *s = opaque;
    uint8_t v = val;
    if (off == 4) {
        s->status |= ST_CMD;
        s->pending_cmd = 0;
        if (v >= 0x20 && v < 0x40) {
            ctrl_reply(s, v == 0x20 ? s->mode : 0);
            return;
        }
        switch (v) {
        case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
            s->pending_cmd = v;
            return;
        case 0xa7:
            s->mode |= MODE_DISABLE_AUX;
            return;
        case 0xa8:
            s->mode &= ~MODE_DISABLE_AUX;
            update(s);
            return;
        case 0xa9: case 0xab:
            ctrl_reply(s, 0x00);
            return;
        case 0xaa:
            s->status |= ST_SYS;
            ctrl_reply(s, 0x55);
            return;
        case 0xad:
            s->mode |= MODE_DISABLE_KBD;
            return;
        case 0xae:
            s->mode &= ~MODE_DISABLE_KBD;
            update(s);
            return;
        case 0xc0:
            ctrl_reply(s, 0x80); /* keyboard not inhibited */
            return;
        case 0xd0:
            ctrl_reply(s, s->outport);
            return;
        default:
            if (v >= 0xf0) {
                if (!(v & 1) && s->reset) {
                    s->reset(s->opaque); /* pulse the reset line */
                }
                return;
            }
            mimic_log_guest("i8042: unknown controller command 0x%02x", v);
            return;
        }
    }
    s->status &= ~ST_CMD;
    uint8_t pc = s->pending_cmd;
    s->pending_cmd = 0;
    switch (pc) {
    case 0x60:
        s->mode = v;
        update(s);
        return;
    case 0xd1:
        set_outport(s, v);
        return;
    case 0xd2:
        ctrl_reply_from(s, v, false);
        return;
    case 0xd3:
        ctrl_reply_from(s, v, true);
        return;
    case 0xd4:
        aux_command(s, v);
        update(s);
        return;
    default:
        s->mode &= ~MODE_DISABLE_KBD;
        kbd_command(s, v);
        update(s);
        return;
    }
}

/* Linux evdev codes to scan code set 1 (with 0xe0 prefix where needed). */
static unsigned evdev_to_set1(unsigned code)
{
    if (code >= 1 && code <= 88 && code != 84 && code != 85) {
        return code; /* the evdev numbering follows set 1 here */
    }
    switch (code) {
    case 96: return 0xe01c;  /* keypad enter */
    case 97: return 0xe01d;  /* right ctrl */
    case 98: return 0xe035;  /* keypad slash */
    case 100: return 0xe038; /* right alt */
    case 102: return 0xe047; /* home */
    case 103: return 0xe048; /* up */
    case 104: return 0xe049; /* page up */
    case 105: return 0xe04b; /* left */
    case 106: return 0xe04d; /* right */
    case 107: return 0xe04f; /* end */
    case 108: return 0xe050; /* down */
    case 109: return 0xe051; /* page down */
    case 110: return 0xe052; /* insert */
    case 111: return 0xe053; /* delete */
    case 125: return 0xe05b; /* left meta */
    case 126: return 0xe05c; /* right meta */
    case 127: return 0xe05d; /* menu */
    case 139: return 0xe05d; /* menu (KEY_MENU) */
    }
    return 0;
}

/* Set 1 make code (7 bits) to set 2: the translation table read
   backwards (the last match wins: F7 is 0x83, SysRq 0x84). */
static uint8_t set1_to_set2(uint8_t c)
{
    uint8_t r = 0;
    for (unsigned k = 0; k < sizeof(xlate_table); k++) {
        if (xlate_table[k] == c) {
            r = k;
        }
    }
    return r;
}

/* Set 3: mostly set 2's codes, without 0xe0 prefixes. */
static uint8_t set3_code(unsigned set1)
{
    static const struct { uint16_t set1; uint8_t set3; } diff[] = {
        { 0x01, 0x08 }, { 0x1d, 0x11 }, { 0x2b, 0x5c }, { 0x37, 0x7e },
        { 0x38, 0x19 }, { 0x3a, 0x14 }, { 0x3b, 0x07 }, { 0x3c, 0x0f },
        { 0x3d, 0x17 }, { 0x3e, 0x1f }, { 0x3f, 0x27 }, { 0x40, 0x2f },
        { 0x41, 0x37 }, { 0x42, 0x3f }, { 0x43, 0x47 }, { 0x44, 0x4f },
        { 0x45, 0x76 }, { 0x46, 0x5f }, { 0x4a, 0x84 }, { 0x4e, 0x7c },
        { 0x56, 0x13 }, { 0x57, 0x56 }, { 0x58, 0x5e },
        { 0xe01c, 0x79 }, { 0xe01d, 0x58 }, { 0xe035, 0x77 },
        { 0xe038, 0x39 }, { 0xe047, 0x6e }, { 0xe048, 0x63 },
        { 0xe049, 0x6f }, { 0xe04b, 0x61 }, { 0xe04d, 0x6a },
        { 0xe04f, 0x65 }, { 0xe050, 0x60 }, { 0xe051, 0x6d },
        { 0xe052, 0x67 }, { 0xe053, 0x64 }, { 0xe05b, 0x8b },
        { 0xe05c, 0x8c }, { 0xe05d, 0x8d },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(diff); i++) {
        if (diff[i].set1 == set1) {
            return diff[i].set3;
        }
    }
    return set1 > 0xff ? 0 : set1_to_set2(set1);
}

/* The bytes a key sends in the current set; false if it has none. */
static bool key_bytes(I8042 *s, unsigned evdev, bool down, uint8_t *b,
                      int *n)
{
    *n = 0;
    int set = s->scancode_set;
    if (evdev == KEY_PAUSE) {
        static const uint8_t p1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
        static const uint8_t p2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14,
                                      0xf0, 0x77 };
        if (set == 3) {
            if (!down) {
                b[(*n)++] = 0xf0;
            }
            b[(*n)++] = 0x62;
            return true;
        }
        if (!down) {
            return true; /* Pause has no break code in sets 1 and 2 */
        }
        const uint8_t *p = set == 1 ? p1 : p2;
        *n = set == 1 ? sizeof(p1) : sizeof(p2);
        memcpy(b, p, *n);
        return true;
    }
    if (evdev == KEY_SYSRQ) {
        static const uint8_t m1[] = { 0xe0, 0x2a, 0xe0, 0x37 };
        static const uint8_t b1[] = { 0xe0, 0xb7, 0xe0, 0xaa };
        static const uint8_t m2[] = { 0xe0, 0x12, 0xe0, 0x7c };
        static const uint8_t b2[] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };
        if (set == 3) {
            if (!down) {
                b[(*n)++] = 0xf0;
            }
            b[(*n)++] = 0x57;
            return true;
        }
        const uint8_t *p = set == 1 ? (down ? m1 : b1) : (down ? m2 : b2);
        *n = set == 1 || down ? 4 : 6;
        memcpy(b, p, *n);
        return true;
    }
    unsigned sc = evdev_to_set1(evdev);
    if (!sc) {
        return false;
    }
    if (set == 3) {
        uint8_t c = set3_code(sc);
        if (!c) {
            return false;
        }
        if (!down) {
            b[(*n)++] = 0xf0;
        }
        b[(*n)++] = c;
        return true;
    }
    if (sc > 0xff) {
        b[(*n)++] = 0xe0;
    }
    if (set == 1) {
        b[(*n)++] = (sc & 0x7f) | (down ? 0 : 0x80);
        return true;
    }
    if (!down) {
        b[(*n)++] = 0xf0;
    }
    b[(*n)++] = set1_to_set2(sc & 0x7f);
    return true;
}

static bool send_key(I8042 *s, unsigned evdev, bool down)
{
    uint8_t b[8];
    int n;
    if (!s->kbd_enabled || !key_bytes(s, evdev, down, b, &n)) {
        return false;
    }
    if (ps2_queue_space(&s->kbd) < (unsigned)n) {
        mimic_log_guest("i8042: keyboard buffer overrun");
        return false;
    }
    for (int i = 0; i < n; i++) {
        kbd_put(s, b[i]);
    }
    update(s);
    return true;
}

static void repeat_arm(I8042 *s, int64_t deadline)
{
    s->repeat_at = deadline;
    timer_mod(s->repeat_timer, deadline);
}

static void repeat_cb(void *opaque)
{
    I8042 *s = opaque;
    if (!s->repeat_key) {
        return;
    }
    send_key(s, s->repeat_key, true);
    /* The cadence follows the deadlines, not the moment the timer ran, so
       the repeats are the same however late the host is. */
    repeat_arm(s, s->repeat_at + i8042_typematic_period_ns(s->typematic));
}

void i8042_key(I8042 *s, unsigned evdev, bool down)
{
    bool sent = send_key(s, evdev, down);
    if (down && sent && evdev != KEY_PAUSE && s->repeat_timer) {
        /* The last key pressed is the one that repeats. */
        s->repeat_key = evdev;
        repeat_arm(s, clock_now(s->dev.bus->clock) +
                   i8042_typematic_delay_ns(s->typematic));
    } else if (!down && evdev == s->repeat_key) {
        repeat_stop(s);
    }
}

void i8042_pointer(I8042 *s, int dx, int dy, int dz, unsigned buttons)
{
    ps2mouse_event(&s->mouse, &s->aux, dx, dy, dz, buttons);
    update(s);
}

static void i8042_reset(Device *dev)
{
    I8042 *s = (I8042 *)dev;
    s->status = ST_INH;
    s->mode = MODE_KBD_INT | MODE_AUX_INT | MODE_XLATE | 0x04;
    s->outport = 0x03; /* A20 on, not in reset */
    s->pending_cmd = 0;
    s->kbd_cmd = s->aux_cmd = 0;
    s->kbd_enabled = true;
    s->aux_enabled = false;
    s->xlate_break = false;
    kbd_defaults(s);
    s->kbd = (Ps2Queue){ 0 };
    s->aux = (Ps2Queue){ 0 };
    ps2mouse_reset(&s->mouse);
    irq_lower(s->irq_kbd);
    irq_lower(s->irq_aux);
}

static bool i8042_realize(Device *dev, GError **error)
{
    I8042 *s = (I8042 *)dev;
    s->repeat_timer = timer_new(dev->bus->clock, repeat_cb, s);
    return true;
}

static void i8042_finalize(Device *dev)
{
    I8042 *s = (I8042 *)dev;
    timer_free(s->repeat_timer);
    s->repeat_timer = NULL;
}

static bool i8042_post_load(void *obj, GError **error)
{
    I8042 *s = obj;
    if (!ps2_queue_valid(&s->kbd) || !ps2_queue_valid(&s->aux) ||
        s->scancode_set < 1 || s->scancode_set > 3 ||
        !ps2mouse_post_load(&s->mouse)) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "i8042: state out of range");
        return false;
    }
    s->typematic &= 0x7f;
    s->xlate_break = false;
    if (s->repeat_timer) {
        timer_del(s->repeat_timer);
        if (s->repeat_key && s->repeat_at >= 0) {
            timer_mod(s->repeat_timer, s->repeat_at);
        } else {
            s->repeat_key = 0;
        }
    }
    update(s);
    return true;
}

static uint32_t i8042_status_read(void *opaque, uint16_t off, unsigned size)
{
    return i8042_read(opaque, 4, size);
}

static void i8042_cmd_write(void *opaque, uint16_t off, uint32_t v,
                            unsigned size)
{
    i8042_write(opaque, 4, v, size);
}

/* 0x60 data; 0x64 status/command (0x61 belongs to the PIT's port B). */
static const IoRegion i8042_io[] = {
    { .base = 0x60, .len = 1, .min = 1, .max = 1, .read = i8042_read,
      .write = i8042_write, .name = "i8042-data" },
    { .base = 0x64, .len = 1, .min = 1, .max = 1, .read = i8042_status_read,
      .write = i8042_cmd_write, .name = "i8042-cmd" },
    { 0 },
};

static const StateField ps2_queue_fields[] = {
    STATE_U8_ARRAY(Ps2Queue, data, PS2_QUEUE), STATE_U8(Ps2Queue, head),
    STATE_U8(Ps2Queue, count), STATE_END,
};

/* Version 2: typematic repeat and the mouse. */
static const StateDesc i8042_state = {
    .name = "i8042", .version = 2, .min_version = 1,
    .post_load = i8042_post_load,
    .fields = (const StateField[]) {
        STATE_U8(I8042, status), STATE_U8(I8042, mode),
        STATE_U8(I8042, outport), STATE_U8(I8042, pending_cmd),
        STATE_U8(I8042, out), STATE_U8(I8042, out_aux),
        STATE_U8(I8042, kbd_cmd), STATE_U8(I8042, aux_cmd),
        STATE_BOOL(I8042, kbd_enabled), STATE_BOOL(I8042, aux_enabled),
        STATE_U8(I8042, leds), STATE_U8(I8042, scancode_set),
        STATE_STRUCT(I8042, kbd, ps2_queue_fields),
        STATE_STRUCT(I8042, aux, ps2_queue_fields),
        STATE_U8(I8042, typematic, STATE_V(2)),
        STATE_U16(I8042, repeat_key, STATE_V(2)),
        STATE_U64(I8042, repeat_at, STATE_V(2)),
        STATE_STRUCT(I8042, mouse, ps2mouse_fields, STATE_V(2)),
        STATE_END },
};

const DeviceInfo i8042_info = {
    .name = "i8042", .size = sizeof(I8042), .io = i8042_io,
    .state = &i8042_state, .reset = i8042_reset,
    .realize = i8042_realize, .finalize = i8042_finalize,
};
