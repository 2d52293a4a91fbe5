/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PS/2 mouse (see ps2mouse.h).
 * Reference: IBM PS/2 Hardware Interface Technical Reference, "Pointing
 * Device" (commands 0xe6-0xff, status request, 2:1 scaling table, 9-bit
 * two's complement movement with sign bits in the first byte); Microsoft
 * "Mouse and Keyboard Interface" notes on the IntelliMouse: setting the
 * sample rate to 200, 100, 80 turns on the wheel (ID 3, a fourth byte
 * with the Z movement), 200, 200, 80 after that the Explorer mode (ID 4,
 * Z in the low nibble, buttons 4 and 5 in bits 4 and 5).  Every command
 * is acknowledged with 0xfa; an unknown one gets 0xfe (resend), as real
 * mice do.
 */
#include "hw/isa/ps2mouse.h"

#include "bus/log.h"

#define ACK 0xfa
#define RESEND 0xfe
/* Movement that has not been reported is kept within this bound. */
#define MOTION_MAX (1 << 20)

static void reset_counters(Ps2Mouse *m)
{
    m->dx = m->dy = m->dz = 0;
}

static void set_defaults(Ps2Mouse *m)
{
    m->status = 0; /* stream mode, 1:1, reporting disabled */
    m->resolution = 2;
    m->sample_rate = 100;
    reset_counters(m);
}

void ps2mouse_reset(Ps2Mouse *m)
{
    uint8_t buttons = m->buttons; /* the user's fingers stay where they are */
    *m = (Ps2Mouse){ 0 };
    set_defaults(m);
    m->buttons = buttons;
}

static int clamp(int v, int lim)
{
    return v > lim ? lim : v < -lim ? -lim : v;
}

/* 2:1 scaling, from the technical reference's table. */
static int scale21(int d)
{
    static const int8_t small[6] = { 0, 1, 1, 3, 6, 9 };
    int a = d < 0 ? -d : d;
    int s = a < 6 ? small[a] : 2 * a;
    return d < 0 ? -s : s;
}

/* One movement packet; false when the queue has no room for it. */
static bool send_packet(Ps2Mouse *m, Ps2Queue *q, bool stream)
{
    unsigned need = m->type ? 4 : 3;
    if (ps2_queue_space(q) < need) {
        return false;
    }
    bool scaled = stream && (m->status & PS2M_STATUS_SCALE21);
    int lim = scaled ? 127 : 255;
    int dx = clamp(m->dx, lim), dy = clamp(m->dy, lim);
    int sx = scaled ? scale21(dx) : dx, sy = scaled ? scale21(dy) : dy;
    ps2_queue_push(q, 0x08 | (m->buttons & 7) | (sx < 0) << 4 |
                   (sy < 0) << 5);
    ps2_queue_push(q, sx & 0xff);
    ps2_queue_push(q, sy & 0xff);
    int dz = 0;
    if (m->type == 3) {
        dz = clamp(m->dz, 127);
        ps2_queue_push(q, dz & 0xff);
    } else if (m->type == 4) {
        dz = clamp(m->dz, 7);
        ps2_queue_push(q, (dz & 0x0f) | (m->buttons & 0x18) << 1);
    }
    m->dx -= dx;
    m->dy -= dy;
    /* A plain PS/2 mouse has no wheel: its turns are lost. */
    m->dz = m->type ? m->dz - dz : 0;
    return true;
}

static bool streaming(const Ps2Mouse *m)
{
    return (m->status & (PS2M_STATUS_ENABLED | PS2M_STATUS_REMOTE)) ==
           PS2M_STATUS_ENABLED && !m->wrap;
}

void ps2mouse_drain(Ps2Mouse *m, Ps2Queue *q)
{
    while (streaming(m) && (m->dx || m->dy || (m->type && m->dz))) {
        if (!send_packet(m, q, true)) {
            return;
        }
    }
}

void ps2mouse_event(Ps2Mouse *m, Ps2Queue *q, int dx, int dy, int dz,
                    unsigned buttons)
{
    if (!m->type) {
        dz = 0; /* a plain PS/2 mouse has no wheel */
    }
    bool changed = dx || dy || dz || (buttons & 0x1f) != m->buttons;
    m->buttons = buttons & 0x1f;
    m->dx = clamp(m->dx + clamp(dx, MOTION_MAX), MOTION_MAX);
    m->dy = clamp(m->dy - clamp(dy, MOTION_MAX), MOTION_MAX);
    m->dz = clamp(m->dz - clamp(dz, MOTION_MAX), MOTION_MAX);
    if (changed && streaming(m) && send_packet(m, q, true)) {
        ps2mouse_drain(m, q);
    }
}

/* The sample-rate knock that switches on the wheel and extra buttons. */
static void knock(Ps2Mouse *m, uint8_t rate)
{
    switch (m->detect) {
    case 0:
        m->detect = rate == 200 ? 1 : 0;
        break;
    case 1:
        m->detect = rate == 100 ? 2 : rate == 200 ? 3 : 0;
        break;
    case 2:
        if (rate == 80) {
            m->type = 3;
        }
        m->detect = 0;
        break;
    case 3:
        if (rate == 80) {
            m->type = 4;
        }
        m->detect = 0;
        break;
    default:
        m->detect = 0;
        break;
    }
}

void ps2mouse_write(Ps2Mouse *m, Ps2Queue *q, uint8_t v)
{
    if (m->cmd) {
        uint8_t c = m->cmd;
        m->cmd = 0;
        if (c == 0xe8) {
            if (v > 3) {
                ps2_queue_push(q, RESEND);
                return;
            }
            m->resolution = v;
        } else {
            if (v == 0) {
                ps2_queue_push(q, RESEND);
                return;
            }
            m->sample_rate = v;
            knock(m, v);
        }
        ps2_queue_push(q, ACK);
        return;
    }
    if (m->wrap && v != 0xec && v != 0xff) {
        ps2_queue_push(q, v); /* wrap mode: everything else is echoed */
        return;
    }
    switch (v) {
    case 0xe6:
        m->status &= ~PS2M_STATUS_SCALE21;
        break;
    case 0xe7:
        m->status |= PS2M_STATUS_SCALE21;
        break;
    case 0xe8: case 0xf3:
        m->cmd = v;
        break;
    case 0xe9: { /* status request: buttons as right, middle, left */
        uint8_t b = m->buttons;
        ps2_queue_push(q, ACK);
        ps2_queue_push(q, m->status | (b & PS2M_BUTTON_LEFT) << 2 |
                       (b & PS2M_BUTTON_MIDDLE) >> 1 |
                       (b & PS2M_BUTTON_RIGHT) >> 1);
        ps2_queue_push(q, m->resolution);
        ps2_queue_push(q, m->sample_rate);
        return;
    }
    case 0xea:
        m->status &= ~PS2M_STATUS_REMOTE;
        reset_counters(m);
        break;
    case 0xeb: /* read data: a packet whatever the mode */
        ps2_queue_push(q, ACK);
        if (!send_packet(m, q, false)) {
            mimic_log_guest("ps2mouse: read data with a full queue");
        }
        reset_counters(m);
        return;
    case 0xec:
        m->wrap = false;
        break;
    case 0xee:
        m->wrap = true;
        reset_counters(m);
        break;
    case 0xf0:
        m->status |= PS2M_STATUS_REMOTE;
        reset_counters(m);
        break;
    case 0xf2:
        ps2_queue_push(q, ACK);
        ps2_queue_push(q, m->type);
        reset_counters(m);
        return;
    case 0xf4:
        m->status |= PS2M_STATUS_ENABLED;
        reset_counters(m);
        break;
    case 0xf5:
        m->status &= ~PS2M_STATUS_ENABLED;
        reset_counters(m);
        break;
    case 0xf6:
        set_defaults(m);
        break;
    case 0xff:
        ps2mouse_reset(m);
        ps2_queue_push(q, ACK);
        ps2_queue_push(q, 0xaa); /* self-test passed */
        ps2_queue_push(q, 0x00); /* ID */
        return;
    default:
        mimic_log_guest("ps2mouse: unknown command 0x%02x", v);
        ps2_queue_push(q, RESEND);
        return;
    }
    ps2_queue_push(q, ACK);
}

bool ps2mouse_post_load(Ps2Mouse *m)
{
    m->status &= PS2M_STATUS_REMOTE | PS2M_STATUS_ENABLED |
                 PS2M_STATUS_SCALE21;
    m->buttons &= 0x1f;
    return m->resolution <= 3 && (m->type == 0 || m->type == 3 ||
                                  m->type == 4) &&
           m->detect <= 3 && (m->cmd == 0 || m->cmd == 0xe8 ||
                              m->cmd == 0xf3) &&
           m->dx >= -MOTION_MAX && m->dx <= MOTION_MAX &&
           m->dy >= -MOTION_MAX && m->dy <= MOTION_MAX &&
           m->dz >= -MOTION_MAX && m->dz <= MOTION_MAX;
}

const StateField ps2mouse_fields[] = {
    STATE_U8(Ps2Mouse, status), STATE_U8(Ps2Mouse, resolution),
    STATE_U8(Ps2Mouse, sample_rate), STATE_U8(Ps2Mouse, type),
    STATE_U8(Ps2Mouse, detect), STATE_U8(Ps2Mouse, cmd),
    STATE_BOOL(Ps2Mouse, wrap), STATE_U8(Ps2Mouse, buttons),
    STATE_I32(Ps2Mouse, dx), STATE_I32(Ps2Mouse, dy),
    STATE_I32(Ps2Mouse, dz), STATE_END,
};
