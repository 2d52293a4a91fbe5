/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * i8042 keyboard controller and PS/2 keyboard (see i8042.h).
 * Reference: IBM PC/AT technical reference (8042 commands 0x20/0x60 read/
 * write command byte, 0xa7-0xab, 0xad/0xae, 0xd0-0xd4, 0xfe; status bits
 * OBF, SYS, A2, AUXB) and the PS/2 keyboard commands (0xff reset, 0xf2
 * identify, 0xed LEDs, 0xf0 scan-code set, 0xf3 typematic, 0xf4/0xf5
 * enable/disable, 0xee echo).  Keys are reported as scan code set 2
 * translated to set 1 by the controller, which is what the BIOS and Linux
 * use; with translation switched off the keyboard still sends set 1
 * (logged once).  The mouse port answers the PS/2 mouse protocol's
 * commands but produces no movement yet.
 */
#include "hw/isa/i8042.h"

#include "engine/log.h"

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

static void q_push(Ps2Queue *q, uint8_t v)
{
    if (q->count < PS2_QUEUE) {
        q->data[(q->head + q->count) % PS2_QUEUE] = v;
        q->count++;
    }
}

static int q_pop(Ps2Queue *q)
{
    if (!q->count) {
        return -1;
    }
    uint8_t v = q->data[q->head];
    q->head = (q->head + 1) % PS2_QUEUE;
    q->count--;
    return v;
}

static void update(I8042 *s)
{
    if (!(s->status & ST_OBF)) {
        int v = -1;
        bool aux = false;
        if (s->kbd.count && !(s->mode & MODE_DISABLE_KBD)) {
            v = q_pop(&s->kbd);
        } else if (s->aux.count && !(s->mode & MODE_DISABLE_AUX)) {
            v = q_pop(&s->aux);
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

/* A byte from the controller itself (command replies) goes out at once. */
static void ctrl_reply(I8042 *s, uint8_t v)
{
    s->out = v;
    s->out_aux = false;
    s->status = (s->status | ST_OBF) & ~ST_AUXB;
    update(s);
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

static void kbd_command(I8042 *s, uint8_t v)
{
    if (s->kbd_cmd) {
        uint8_t c = s->kbd_cmd;
        s->kbd_cmd = 0;
        if (c == 0xed) {
            s->leds = v & 7;
        } else if (c == 0xf0) {
            if (v == 0) {
                q_push(&s->kbd, 0xfa);
                q_push(&s->kbd, s->scancode_set);
                return;
            }
            if (v >= 1 && v <= 3) {
                s->scancode_set = v;
            }
        }
        q_push(&s->kbd, 0xfa);
        return;
    }
    switch (v) {
    case 0xed: case 0xf0: case 0xf3:
        s->kbd_cmd = v;
        q_push(&s->kbd, 0xfa);
        return;
    case 0xee:
        q_push(&s->kbd, 0xee);
        return;
    case 0xf2:
        q_push(&s->kbd, 0xfa);
        q_push(&s->kbd, 0xab);
        q_push(&s->kbd, 0x83);
        return;
    case 0xf4:
        s->kbd_enabled = true;
        q_push(&s->kbd, 0xfa);
        return;
    case 0xf5:
        s->kbd_enabled = false;
        q_push(&s->kbd, 0xfa);
        return;
    case 0xf6:
        s->kbd_enabled = true;
        s->scancode_set = 2;
        q_push(&s->kbd, 0xfa);
        return;
    case 0xff:
        s->kbd.count = 0;
        s->kbd_enabled = true;
        s->scancode_set = 2;
        q_push(&s->kbd, 0xfa);
        q_push(&s->kbd, 0xaa);
        return;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc:
    case 0xfd:
        q_push(&s->kbd, 0xfa);
        return;
    default:
        q_push(&s->kbd, 0xfe); /* resend: unknown command */
        return;
    }
}

static void aux_command(I8042 *s, uint8_t v)
{
    if (s->aux_cmd) {
        s->aux_cmd = 0;
        q_push(&s->aux, 0xfa);
        return;
    }
    switch (v) {
    case 0xe8: case 0xf3:
        s->aux_cmd = v;
        q_push(&s->aux, 0xfa);
        return;
    case 0xe9: /* status request */
        q_push(&s->aux, 0xfa);
        q_push(&s->aux, s->aux_enabled ? 0x20 : 0);
        q_push(&s->aux, 2);
        q_push(&s->aux, 100);
        return;
    case 0xeb: /* read data: an empty packet */
        q_push(&s->aux, 0xfa);
        q_push(&s->aux, 0x08);
        q_push(&s->aux, 0);
        q_push(&s->aux, 0);
        return;
    case 0xf2:
        q_push(&s->aux, 0xfa);
        q_push(&s->aux, 0x00);
        return;
    case 0xf4:
        s->aux_enabled = true;
        q_push(&s->aux, 0xfa);
        return;
    case 0xf5:
        s->aux_enabled = false;
        q_push(&s->aux, 0xfa);
        return;
    case 0xff:
        s->aux_enabled = false;
        q_push(&s->aux, 0xfa);
        q_push(&s->aux, 0xaa);
        q_push(&s->aux, 0x00);
        return;
    default:
        q_push(&s->aux, 0xfa);
        return;
    }
}

static uint32_t i8042_read(void *opaque, uint16_t off, unsigned size)
{
    I8042 *s = opaque;
    if (off == 4) {
        return s->status;
    }
    uint8_t v = s->out;
    s->status &= ~(ST_OBF | ST_AUXB);
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
        if (!(v & MODE_XLATE)) {
            mimic_log_unimp("i8042: untranslated scan codes (set 2)");
        }
        update(s);
        return;
    case 0xd1:
        set_outport(s, v);
        return;
    case 0xd2:
        q_push(&s->kbd, v);
        update(s);
        return;
    case 0xd3:
        q_push(&s->aux, v);
        update(s);
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
    if (code >= 1 && code <= 88 && code != 84 && code != 85 && code != 86) {
        return code; /* the evdev numbering follows set 1 here */
    }
    switch (code) {
    case 86: return 0x56;
    case 96: return 0xe01c;  /* keypad enter */
    case 97: return 0xe01d;  /* right ctrl */
    case 98: return 0xe035;  /* keypad slash */
    case 99: return 0xe037;  /* sysrq */
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
    }
    return 0;
}

void i8042_key(I8042 *s, unsigned evdev, bool down)
{
    unsigned sc = evdev_to_set1(evdev);
    if (!sc || !s->kbd_enabled) {
        return;
    }
    if (sc > 0xff) {
        q_push(&s->kbd, 0xe0);
    }
    q_push(&s->kbd, (sc & 0x7f) | (down ? 0 : 0x80));
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
    s->scancode_set = 2;
    s->kbd = (Ps2Queue){ 0 };
    s->aux = (Ps2Queue){ 0 };
    irq_lower(s->irq_kbd);
    irq_lower(s->irq_aux);
}

static bool i8042_post_load(void *obj, GError **error)
{
    I8042 *s = obj;
    if (s->kbd.head >= PS2_QUEUE || s->kbd.count > PS2_QUEUE ||
        s->aux.head >= PS2_QUEUE || s->aux.count > PS2_QUEUE) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "i8042: queue state out of range");
        return false;
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

static const StateDesc i8042_state = {
    .name = "i8042", .version = 1, .min_version = 1,
    .post_load = i8042_post_load,
    .fields = (const StateField[]) {
        STATE_U8(I8042, status), STATE_U8(I8042, mode),
        STATE_U8(I8042, outport), STATE_U8(I8042, pending_cmd),
        STATE_U8(I8042, out), STATE_U8(I8042, out_aux),
        STATE_U8(I8042, kbd_cmd), STATE_U8(I8042, aux_cmd),
        STATE_BOOL(I8042, kbd_enabled), STATE_BOOL(I8042, aux_enabled),
        STATE_U8(I8042, leds), STATE_U8(I8042, scancode_set),
        STATE_STRUCT(I8042, kbd, ps2_queue_fields),
        STATE_STRUCT(I8042, aux, ps2_queue_fields), STATE_END },
};

const DeviceInfo i8042_info = {
    .name = "i8042", .size = sizeof(I8042), .io = i8042_io,
    .state = &i8042_state, .reset = i8042_reset,
};
