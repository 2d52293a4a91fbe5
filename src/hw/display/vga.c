/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Standard VGA (see vga.h).
 * Reference: IBM VGA technical reference / the FreeVGA register
 * documentation: sequencer (map mask, memory mode: chain-4 and odd/even),
 * graphics controller (set/reset, data rotate and logical operation, read
 * map select, mode: write modes 0-3 and read modes 0-1, miscellaneous:
 * memory map select, bit mask), attribute controller flip-flop at 0x3c0
 * reset by reading input status 1 (0x3da), DAC ports 0x3c7-0x3c9, CRTC
 * start address and cursor location.  Text modes are rendered with the
 * font the BIOS loaded into plane 2 (32 bytes per glyph), 8 dots wide and
 * as many lines as the CRTC's maximum scan line says.  Graphics modes and
 * the Bochs VBE extension are not rendered yet.
 */
#include "hw/display/vga.h"

#include <string.h>

#include "engine/log.h"
#include "hw/board.h"

#define REFRESH_NS (1000000000 / 60)

static uint8_t *plane(Vga *s, int p)
{
    return s->vram + p * VGA_PLANE_SIZE;
}

/* Offset of a window address within the planes, or -1 if not decoded. */
static int64_t window_offset(Vga *s, uint64_t addr)
{
    switch ((s->gc[6] >> 2) & 3) {
    case 0:
        return addr;                           /* a0000, 128 KiB */
    case 1:
        return addr < 0x10000 ? (int64_t)addr : -1; /* a0000, 64 KiB */
    case 2:
        return addr >= 0x10000 && addr < 0x18000 ? (int64_t)addr - 0x10000
                                                 : -1; /* b0000 */
    default:
        return addr >= 0x18000 ? (int64_t)addr - 0x18000 : -1; /* b8000 */
    }
}

static uint64_t vga_mem_read(void *opaque, uint64_t addr, unsigned size)
{
    Vga *s = opaque;
    int64_t off = window_offset(s, addr);
    if (off < 0) {
        return 0xff;
    }
    if (s->seq[4] & 8) { /* chain-4 */
        return plane(s, off & 3)[(off >> 2) & 0xffff];
    }
    if (!(s->seq[4] & 4)) { /* odd/even */
        int p = (s->gc[4] & 2) | (off & 1);
        return plane(s, p & 3)[(off >> 1) & 0xffff];
    }
    off &= 0xffff;
    for (int p = 0; p < 4; p++) {
        s->latch[p] = plane(s, p)[off];
    }
    if (!(s->gc[5] & 8)) { /* read mode 0 */
        return s->latch[s->gc[4] & 3];
    }
    /* read mode 1: colour compare */
    uint8_t res = 0xff;
    for (int p = 0; p < 4; p++) {
        if (s->gc[7] & (1 << p)) {
            uint8_t want = (s->gc[2] & (1 << p)) ? 0xff : 0;
            res &= ~(s->latch[p] ^ want);
        }
    }
    return res;
}

static uint8_t alu(Vga *s, uint8_t v, uint8_t latch)
{
    switch ((s->gc[3] >> 3) & 3) {
    case 1:
        return v & latch;
    case 2:
        return v | latch;
    case 3:
        return v ^ latch;
    }
    return v;
}

static void vga_mem_write(void *opaque, uint64_t addr, uint64_t val,
                          unsigned size)
{
    Vga *s = opaque;
    int64_t off = window_offset(s, addr);
    uint8_t v = val;
    if (off < 0) {
        return;
    }
    uint8_t mask = s->seq[2] & 0x0f;
    if (s->seq[4] & 8) {
        int p = off & 3;
        if (mask & (1 << p)) {
            plane(s, p)[(off >> 2) & 0xffff] = v;
            s->full_redraw = true;
        }
        return;
    }
    if (!(s->seq[4] & 4)) {
        int p = (off & 1) | 0;
        for (int q = p; q < 4; q += 2) {
            if (mask & (1 << q)) {
                plane(s, q)[(off >> 1) & 0xffff] = v;
            }
        }
        return;
    }
    off &= 0xffff;
    uint8_t bitmask = s->gc[8];
    int mode = s->gc[5] & 3;
    for (int p = 0; p < 4; p++) {
        if (!(mask & (1 << p))) {
            continue;
        }
        uint8_t d;
        switch (mode) {
        case 1:
            plane(s, p)[off] = s->latch[p];
            continue;
        case 2:
            d = alu(s, (v & (1 << p)) ? 0xff : 0, s->latch[p]);
            break;
        case 3: {
            uint8_t r = (v >> (s->gc[3] & 7)) | (v << (8 - (s->gc[3] & 7)));
            uint8_t sr = (s->gc[0] & (1 << p)) ? 0xff : 0;
            uint8_t bm = bitmask & r;
            plane(s, p)[off] = (sr & bm) | (s->latch[p] & ~bm);
            continue;
        }
        default: {
            uint8_t r = (v >> (s->gc[3] & 7)) | (v << (8 - (s->gc[3] & 7)));
            if (s->gc[1] & (1 << p)) {
                r = (s->gc[0] & (1 << p)) ? 0xff : 0;
            }
            d = alu(s, r, s->latch[p]);
            break;
        }
        }
        plane(s, p)[off] = (d & bitmask) | (s->latch[p] & ~bitmask);
    }
    s->full_redraw = true;
}

static const MemOps vga_mem_ops = {
    .read = vga_mem_read, .write = vga_mem_write, .min = 1, .max = 1,
};

static uint32_t vga_io_read(void *opaque, uint16_t off, unsigned size)
{
    Vga *s = opaque;
    uint16_t port = 0x3c0 + off;
    bool mono = !(s->misc & 1);
    if ((port >= 0x3d0 && port <= 0x3df && mono) ||
        (port >= 0x3b0 && port <= 0x3bf && !mono)) {
        return 0xff;
    }
    switch (port) {
    case 0x3c0:
        return s->ar_index;
    case 0x3c1:
        return s->ar[s->ar_index & 0x1f];
    case 0x3c2:
        return 0x10; /* switch sense */
    case 0x3c4:
        return s->seq_index;
    case 0x3c5:
        return s->seq[s->seq_index & 7];
    case 0x3c7:
        return s->dac_state;
    case 0x3c8:
        return s->dac_write;
    case 0x3c9: {
        uint8_t v = s->palette[s->dac_read * 3 + s->dac_sub];
        if (++s->dac_sub == 3) {
            s->dac_sub = 0;
            s->dac_read++;
        }
        return v;
    }
    case 0x3ca:
        return s->fcr;
    case 0x3cc:
        return s->misc;
    case 0x3ce:
        return s->gc_index;
    case 0x3cf:
        return s->gc[s->gc_index & 15];
    case 0x3b4: case 0x3d4:
        return s->crtc_index;
    case 0x3b5: case 0x3d5:
        return s->crtc[s->crtc_index & 31];
    case 0x3ba: case 0x3da: {
        /* Reading input status 1 resets the attribute flip-flop; the
           retrace bits toggle with virtual time. */
        s->ar_flip = false;
        int64_t t = clock_now(s->dev.bus->clock) % REFRESH_NS;
        uint8_t v = 0;
        if (t < REFRESH_NS / 20) {
            v |= 0x09; /* vertical retrace + display disabled */
        } else if ((t / 32000) & 1) {
            v |= 0x01;
        }
        return v;
    }
    }
    return 0xff;
}

static void vga_io_write(void *opaque, uint16_t off, uint32_t val,
                         unsigned size)
{
    Vga *s = opaque;
    uint16_t port = 0x3c0 + off;
    uint8_t v = val;
    if (size == 2 && (port == 0x3c4 || port == 0x3ce || port == 0x3d4 ||
                      port == 0x3b4)) {
        /* Word writes set index and data at once. */
        vga_io_write(s, off, v, 1);
        vga_io_write(s, off + 1, val >> 8, 1);
        return;
    }
    bool mono = !(s->misc & 1);
    if ((port >= 0x3d0 && port <= 0x3df && mono) ||
        (port >= 0x3b0 && port <= 0x3bf && !mono)) {
        return;
    }
    s->full_redraw = true;
    switch (port) {
    case 0x3c0:
        if (!s->ar_flip) {
            s->ar_index = v & 0x3f;
        } else {
            s->ar[s->ar_index & 0x1f] = v;
        }
        s->ar_flip = !s->ar_flip;
        return;
    case 0x3c2:
        s->misc = v;
        return;
    case 0x3c4:
        s->seq_index = v & 7;
        return;
    case 0x3c5:
        s->seq[s->seq_index & 7] = v;
        return;
    case 0x3c7:
        s->dac_read = v;
        s->dac_sub = 0;
        s->dac_state = 3;
        return;
    case 0x3c8:
        s->dac_write = v;
        s->dac_sub = 0;
        s->dac_state = 0;
        return;
    case 0x3c9:
        s->palette[s->dac_write * 3 + s->dac_sub] = v & 0x3f;
        if (++s->dac_sub == 3) {
            s->dac_sub = 0;
            s->dac_write++;
        }
        return;
    case 0x3ce:
        s->gc_index = v & 15;
        return;
    case 0x3cf:
        s->gc[s->gc_index & 15] = v;
        return;
    case 0x3b4: case 0x3d4:
        s->crtc_index = v & 31;
        return;
    case 0x3b5: case 0x3d5:
        if (s->crtc_index <= 7 && (s->crtc[0x11] & 0x80)) {
            /* CR0-7 are write-protected; CR7 bit 4 stays writable. */
            if (s->crtc_index == 7) {
                s->crtc[7] = (s->crtc[7] & ~0x10) | (v & 0x10);
            }
            return;
        }
        s->crtc[s->crtc_index & 31] = v;
        return;
    case 0x3ba: case 0x3da:
        s->fcr = v;
        return;
    }
}

static const IoRegion vga_io = {
    .base = 0x3b0, .len = 0x30, .min = 1, .max = 2, .name = "vga",
};

static uint32_t vga_io_read_b(void *opaque, uint16_t off, unsigned size)
{
    return vga_io_read(opaque, off - 0x10, size);
}

static void vga_io_write_b(void *opaque, uint16_t off, uint32_t v,
                           unsigned size)
{
    vga_io_write(opaque, off - 0x10, v, size);
}

/* Default text colours when the DAC was never programmed: the EGA set. */
static uint32_t colour(Vga *s, int idx)
{
    uint8_t pal = s->ar[idx & 15] & 0x3f;
    if (s->ar[0x10] & 0x80) {
        pal = (pal & 0x0f) | ((s->ar[0x14] & 0x0f) << 4);
    } else {
        pal |= (s->ar[0x14] & 0x0c) << 4;
    }
    const uint8_t *c = s->palette + pal * 3;
    return ((c[0] << 2 | c[0] >> 4) << 16) | ((c[1] << 2 | c[1] >> 4) << 8) |
           (c[2] << 2 | c[2] >> 4);
}

static void render_text(Vga *s)
{
    int cols = s->crtc[1] + 1;
    int cheight = (s->crtc[9] & 0x1f) + 1;
    int vdisp = (s->crtc[0x12] | ((s->crtc[7] & 2) << 7) |
                 ((s->crtc[7] & 0x40) << 3)) + 1;
    if (cols < 8 || cols > 80 || cheight < 2 || vdisp < 100) {
        return;
    }
    int rows = MIN(vdisp / cheight, 50);
    int width = cols * 8, height = rows * cheight;
    Display *d = s->display;
    DisplaySurface *surf = display_back(d);
    if (surf->width != width || surf->height != height) {
        display_resize(d, width, height);
        surf = display_back(d);
        s->full_redraw = true;
    }
    uint16_t start = s->crtc[0x0d] | (s->crtc[0x0c] << 8);
    uint16_t cursor = s->crtc[0x0f] | (s->crtc[0x0e] << 8);
    bool cursor_on = !(s->crtc[0x0a] & 0x20);
    int cur_start = s->crtc[0x0a] & 0x1f, cur_end = s->crtc[0x0b] & 0x1f;
    /* Font select: sequencer register 3, map A for attribute bit 3 off. */
    int fa = ((s->seq[3] >> 2) & 3) | ((s->seq[3] >> 3) & 4);
    int fb = (s->seq[3] & 3) | ((s->seq[3] >> 2) & 4);
    const uint8_t *p0 = plane(s, 0), *p1 = plane(s, 1), *p2 = plane(s, 2);
    int stride = surf->stride / 4;
    bool any = false;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            int pitch = s->crtc[0x13] ? s->crtc[0x13] * 2 : cols;
            uint16_t a = (start + r * pitch + c) & 0xffff;
            uint8_t ch = p0[a], at = p1[a];
            int cell = r * cols + c;
            bool is_cursor = cursor_on && a == cursor && s->blink_on;
            uint8_t *sh = s->shadow + cell * 2;
            if (!s->full_redraw && sh[0] == ch && sh[1] == at && !is_cursor &&
                !(s->last_cursor == a)) {
                continue;
            }
            sh[0] = ch;
            sh[1] = at;
            any = true;
            int font = (at & 8) ? fb : fa;
            const uint8_t *glyph = p2 + font * 0x4000 + ch * 32;
            uint32_t fg = colour(s, at & 15), bg = colour(s, (at >> 4) & 7);
            for (int y = 0; y < cheight; y++) {
                uint8_t bits = glyph[y];
                if (is_cursor && y >= cur_start && y <= cur_end) {
                    bits = 0xff;
                }
                uint32_t *px = surf->data + (r * cheight + y) * stride +
                               c * 8;
                for (int x = 0; x < 8; x++) {
                    px[x] = (bits & (0x80 >> x)) ? fg : bg;
                }
            }
        }
    }
    if (any || s->full_redraw) {
        display_mark_dirty(d, 0, 0, width, height);
    }
    s->last_cursor = cursor;
    s->full_redraw = false;
}

static void refresh_cb(void *opaque)
{
    Vga *s = opaque;
    int64_t now = clock_now(s->dev.bus->clock);
    s->blink_on = (now / 266666666) & 1;
    bool graphics = s->gc[6] & 1;
    if ((s->ar_index & 0x20) && !graphics) {
        render_text(s);
    }
    display_flush(s->display);
    timer_mod(s->refresh, now + REFRESH_NS);
}

static const IoRegion vga_io_table[] = {
    { .base = 0x3c0, .len = 0x20, .min = 1, .max = 2, .read = vga_io_read,
      .write = vga_io_write, .name = "vga" },
    { .base = 0x3b0, .len = 0x10, .min = 1, .max = 2, .read = vga_io_read_b,
      .write = vga_io_write_b, .name = "vga-mono" },
    { 0 },
};

static bool vga_realize(Device *dev, GError **error)
{
    Vga *s = (Vga *)dev;
    (void)vga_io;
    MemMap *mem = dev->bus->mem;
    s->vram = g_malloc0(VGA_VRAM_SIZE);
    memmap_add_mmio(mem, "vga-lowmem", 0xa0000, 0x20000, &vga_mem_ops, s, 1);
    pci_add_function(s->bus, &s->pci, 2 << 3, 0x1234, 0x1111, 0x03000002, s);
    s->vram_mr = memmap_add_ram(mem, "vga.vram", 0xe0000000ull,
                                VGA_VRAM_SIZE, s->vram, 3);
    pci_set_bar_mem(&s->pci, 0, s->vram_mr);
    s->pci.config[PCI_BAR0] = 0x08; /* prefetchable */
    if (s->rom) {
        size_t rs = 0x10000;
        while (rs < s->rom_size) {
            rs <<= 1;
        }
        uint8_t *rom = g_malloc0(rs);
        memcpy(rom, s->rom, s->rom_size);
        g_free(s->rom);
        s->rom = rom;
        s->rom_size = rs;
        s->rom_mr = memmap_add_rom(mem, "vga.rom", 0xfeb00000ull, rs,
                                   s->rom, 3);
        pci_set_bar_mem(&s->pci, 6, s->rom_mr);
    }
    s->refresh = timer_new(dev->bus->clock, refresh_cb, s);
    return true;
}

static void vga_reset(Device *dev)
{
    Vga *s = (Vga *)dev;
    pci_reset_function(&s->pci);
    s->pci.config[PCI_BAR0] = 0x08;
    s->misc = 0x01;
    memset(s->seq, 0, sizeof(s->seq));
    memset(s->gc, 0, sizeof(s->gc));
    memset(s->crtc, 0, sizeof(s->crtc));
    memset(s->ar, 0, sizeof(s->ar));
    s->ar_flip = false;
    s->full_redraw = true;
    timer_mod(s->refresh, clock_now(dev->bus->clock) + REFRESH_NS);
}

static void vga_finalize(Device *dev)
{
    Vga *s = (Vga *)dev;
    timer_free(s->refresh);
    g_free(s->vram);
    g_free(s->rom);
}

static bool vga_post_load(void *obj, GError **error)
{
    Vga *s = obj;
    s->full_redraw = true;
    pci_update_mappings(&s->pci);
    return true;
}

static const StateDesc vga_state = {
    .name = "vga", .version = 1, .min_version = 1,
    .post_load = vga_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(Vga, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_U8(Vga, misc), STATE_U8(Vga, seq_index),
        STATE_U8_ARRAY(Vga, seq, 8), STATE_U8(Vga, gc_index),
        STATE_U8_ARRAY(Vga, gc, 16), STATE_U8(Vga, crtc_index),
        STATE_U8_ARRAY(Vga, crtc, 32), STATE_U8(Vga, ar_index),
        STATE_U8_ARRAY(Vga, ar, 32), STATE_BOOL(Vga, ar_flip),
        STATE_U8(Vga, dac_read), STATE_U8(Vga, dac_write),
        STATE_U8(Vga, dac_sub), STATE_U8(Vga, dac_state),
        STATE_U8_ARRAY(Vga, palette, 768), STATE_U8_ARRAY(Vga, latch, 4),
        STATE_U8(Vga, fcr), STATE_END },
};

const DeviceInfo vga_info = {
    .name = "vga", .size = sizeof(Vga), .io = vga_io_table,
    .state = &vga_state, .realize = vga_realize, .reset = vga_reset,
    .finalize = vga_finalize,
};
