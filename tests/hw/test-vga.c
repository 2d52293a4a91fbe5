/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The standard VGA and its Bochs VBE extension on a bare bus: registers
 * programmed as SeaVGABIOS programs them, pixels written through the
 * 0xa0000 window or the BAR 0 framebuffer, and the rendered surface
 * checked pixel by pixel; dirty rectangles; hostile register values; the
 * state table with VRAM.
 */
#include <string.h>

#include "hw/display/vga.h"

typedef struct Rig {
    MachineBuses bus;
    PciBus *pci;
    Display *display;
    DeviceList *devs;
    Vga *vga;
    int updates;
    int ux, uy, uw, uh;
} Rig;

static void on_update(void *opaque, int x, int y, int w, int h)
{
    Rig *r = opaque;
    r->updates++;
    r->ux = x;
    r->uy = y;
    r->uw = w;
    r->uh = h;
}

static const DisplayListener listener = { .update = on_update };

static Rig *rig_new(void)
{
    Rig *r = g_new0(Rig, 1);
    r->bus.mem = memmap_new();
    r->bus.io = ioport_new();
    r->bus.clock = clock_new(CLOCK_MODE_ICOUNT, 0);
    r->pci = pci_bus_new(&r->bus);
    pci_bus_register_ports(r->pci, r->bus.io);
    r->display = display_new();
    display_add_listener(r->display, &listener, r);
    r->devs = device_list_new();
    r->vga = (Vga *)device_new(r->devs, &vga_info, &r->bus, "vga");
    r->vga->bus = r->pci;
    r->vga->display = r->display;
    GError *err = NULL;
    g_assert_true(device_realize(DEVICE(r->vga), &err));
    g_assert_no_error(err);
    device_list_reset(r->devs);
    return r;
}

static void rig_free(Rig *r)
{
    device_list_free(r->devs);
    display_free(r->display);
    pci_bus_free(r->pci);
    clock_free(r->bus.clock);
    ioport_free(r->bus.io);
    memmap_free(r->bus.mem);
    g_free(r);
}

static void outb(Rig *r, uint16_t port, uint8_t v)
{
    ioport_write(r->bus.io, port, v, 1);
}

static uint8_t inb(Rig *r, uint16_t port)
{
    return ioport_read(r->bus.io, port, 1);
}

static void outw(Rig *r, uint16_t port, uint16_t v)
{
    ioport_write(r->bus.io, port, v, 2);
}

static void seq(Rig *r, int i, uint8_t v)
{
    outb(r, 0x3c4, i);
    outb(r, 0x3c5, v);
}

static void gc(Rig *r, int i, uint8_t v)
{
    outb(r, 0x3ce, i);
    outb(r, 0x3cf, v);
}

static void crtc(Rig *r, int i, uint8_t v)
{
    outb(r, 0x3d4, i);
    outb(r, 0x3d5, v);
}

static void attr(Rig *r, int i, uint8_t v)
{
    (void)inb(r, 0x3da);
    outb(r, 0x3c0, i);
    outb(r, 0x3c0, v);
}

static void attr_enable(Rig *r)
{
    (void)inb(r, 0x3da);
    outb(r, 0x3c0, 0x20);
}

static void dac(Rig *r, int i, uint8_t red, uint8_t green, uint8_t blue)
{
    outb(r, 0x3c8, i);
    outb(r, 0x3c9, red);
    outb(r, 0x3c9, green);
    outb(r, 0x3c9, blue);
}

static void dispi(Rig *r, uint16_t idx, uint16_t v)
{
    outw(r, 0x1ce, idx);
    outw(r, 0x1cf, v);
}

static uint16_t dispi_read(Rig *r, uint16_t idx)
{
    outw(r, 0x1ce, idx);
    return ioport_read(r->bus.io, 0x1cf, 2);
}

static void wrb(Rig *r, uint64_t addr, uint8_t v)
{
    memmap_write_sized(r->bus.mem, addr, v, 1);
}

static uint8_t rdb(Rig *r, uint64_t addr)
{
    return memmap_read_sized(r->bus.mem, addr, 1);
}

static uint32_t pixel(Rig *r, int x, int y)
{
    const DisplaySurface *s = display_lock(r->display);
    g_assert_cmpint(x, <, s->width);
    g_assert_cmpint(y, <, s->height);
    uint32_t v = s->data[(size_t)y * (s->stride / 4) + x] & 0xffffff;
    display_unlock(r->display);
    return v;
}

static void surface_size(Rig *r, int *w, int *h)
{
    const DisplaySurface *s = display_lock(r->display);
    *w = s->width;
    *h = s->height;
    display_unlock(r->display);
}

static void render(Rig *r)
{
    r->updates = 0;
    vga_update_display(r->vga);
}

/* Colour n of the standard 16 (6-bit DAC values 0/42/63 scaled). */
static uint32_t rgb6(uint8_t red, uint8_t green, uint8_t blue)
{
    return (uint32_t)(red << 2 | red >> 4) << 16 |
           (green << 2 | green >> 4) << 8 | (blue << 2 | blue >> 4);
}

/* Mode 13h register values as SeaVGABIOS's stdvga tables set them. */
static void set_mode13(Rig *r)
{
    outb(r, 0x3c2, 0x63);
    seq(r, 1, 0x01);
    seq(r, 2, 0x0f);
    seq(r, 3, 0x00);
    seq(r, 4, 0x0e);
    static const uint8_t cr[25] = {
        0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x0e, 0x8f, 0x28, 0x40, 0x96,
        0xb9, 0xa3, 0xff };
    crtc(r, 0x11, 0x00);
    for (int i = 0; i < 25; i++) {
        crtc(r, i, cr[i]);
    }
    for (int i = 0; i < 16; i++) {
        attr(r, i, i);
    }
    attr(r, 0x10, 0x41);
    attr(r, 0x12, 0x0f);
    attr(r, 0x13, 0x00);
    attr(r, 0x14, 0x00);
    gc(r, 5, 0x40);
    gc(r, 6, 0x05);
    gc(r, 8, 0xff);
    attr_enable(r);
}

/* Mode 12h: 640x480, 16 colours, planar. */
static void set_mode12(Rig *r)
{
    outb(r, 0x3c2, 0xe3);
    seq(r, 1, 0x01);
    seq(r, 2, 0x0f);
    seq(r, 3, 0x00);
    seq(r, 4, 0x06);
    static const uint8_t cr[25] = {
        0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7,
        0x04, 0xe3, 0xff };
    crtc(r, 0x11, 0x00);
    for (int i = 0; i < 25; i++) {
        crtc(r, i, cr[i]);
    }
    for (int i = 0; i < 16; i++) {
        attr(r, i, i);
        dac(r, i, (i & 4) ? 42 : 0, (i & 2) ? 42 : 0, (i & 1) ? 42 : 0);
    }
    attr(r, 0x10, 0x01);
    attr(r, 0x12, 0x0f);
    gc(r, 5, 0x00);
    gc(r, 6, 0x05);
    gc(r, 8, 0xff);
    attr_enable(r);
}

static void test_mode13(void)
{
    Rig *r = rig_new();
    set_mode13(r);
    dac(r, 1, 63, 0, 0);
    dac(r, 2, 0, 63, 0);
    dac(r, 200, 10, 20, 30);
    for (int x = 0; x < 320; x++) {
        wrb(r, 0xa0000 + 10 * 320 + x, x < 160 ? 1 : 2);
    }
    wrb(r, 0xa0000 + 199 * 320 + 319, 200);
    render(r);
    int w, h;
    surface_size(r, &w, &h);
    g_assert_cmpint(w, ==, 320);
    g_assert_cmpint(h, ==, 200);
    g_assert_cmphex(pixel(r, 0, 10), ==, 0xff0000);
    g_assert_cmphex(pixel(r, 159, 10), ==, 0xff0000);
    g_assert_cmphex(pixel(r, 160, 10), ==, 0x00ff00);
    g_assert_cmphex(pixel(r, 5, 11), ==, 0);
    g_assert_cmphex(pixel(r, 319, 199), ==, rgb6(10, 20, 30));
    /* Chain-4 reads see what was written. */
    g_assert_cmpuint(rdb(r, 0xa0000 + 10 * 320 + 170), ==, 2);

    /* An unchanged screen produces no update; one pixel updates one
       line. */
    render(r);
    g_assert_cmpint(r->updates, ==, 0);
    wrb(r, 0xa0000 + 50 * 320 + 7, 1);
    render(r);
    g_assert_cmpint(r->updates, ==, 1);
    g_assert_cmpint(r->uy, ==, 50);
    g_assert_cmpint(r->uh, ==, 1);
    g_assert_cmphex(pixel(r, 7, 50), ==, 0xff0000);
    /* A palette change redraws everything. */
    dac(r, 1, 0, 0, 63);
    render(r);
    g_assert_cmpint(r->uh, ==, 200);
    g_assert_cmphex(pixel(r, 7, 50), ==, 0x0000ff);
    /* The start address scrolls (by 4-byte units in chain-4). */
    crtc(r, 0x0c, (10 * 320 / 4) >> 8);
    crtc(r, 0x0d, (10 * 320 / 4) & 0xff);
    render(r);
    g_assert_cmphex(pixel(r, 160, 0), ==, 0x00ff00);
    /* Line compare at scan line 99 (row 49 of the doubled 200): row 50 on
       shows VRAM from address 0, so row 60 shows row 10 again. */
    crtc(r, 0x18, 99);
    crtc(r, 0x07, 0x0f); /* line compare bit 8 */
    crtc(r, 0x09, 0x01); /* line compare bit 9 */
    render(r);
    g_assert_cmphex(pixel(r, 160, 0), ==, 0x00ff00);
    g_assert_cmphex(pixel(r, 0, 60), ==, 0x0000ff);
    g_assert_cmphex(pixel(r, 160, 60), ==, 0x00ff00);
    g_assert_cmphex(pixel(r, 160, 61), ==, 0);
    rig_free(r);
}

static void test_planar(void)
{
    Rig *r = rig_new();
    set_mode12(r);
    render(r);
    int w, h;
    surface_size(r, &w, &h);
    g_assert_cmpint(w, ==, 640);
    g_assert_cmpint(h, ==, 480);
    Vga *v = r->vga;

    /* Write mode 0 with set/reset enabled on all planes: colour 12. */
    gc(r, 0, 0x0c);
    gc(r, 1, 0x0f);
    wrb(r, 0xa0000, 0x00);
    for (int x = 0; x < 8; x++) {
        g_assert_cmphex(v->vram[0 * 4 + (x & 3)] , ==,
                        (x & 3) >= 2 ? 0xff : 0x00);
    }
    gc(r, 1, 0x00);
    /* Write mode 0, plain data through map mask: plane 0 only. */
    seq(r, 2, 0x01);
    wrb(r, 0xa0001, 0xa5);
    seq(r, 2, 0x0f);
    g_assert_cmphex(v->vram[4 + 0], ==, 0xa5);
    g_assert_cmphex(v->vram[4 + 1], ==, 0x00);
    /* Data rotate by 4 and XOR with the latches. */
    (void)rdb(r, 0xa0001); /* latches: plane 0 = a5, others 0 */
    gc(r, 3, 0x18 | 4);
    wrb(r, 0xa0002, 0x0f); /* rotated: f0 */
    gc(r, 3, 0x00);
    g_assert_cmphex(v->vram[8 + 0], ==, 0xf0 ^ 0xa5);
    g_assert_cmphex(v->vram[8 + 1], ==, 0xf0);
    /* Write mode 2 with a bit mask: pixel 0 gets colour 5, the others
       keep the latched colour 12. */
    (void)rdb(r, 0xa0000);
    gc(r, 5, 0x02);
    gc(r, 8, 0x80);
    wrb(r, 0xa0000, 0x05);
    gc(r, 8, 0xff);
    /* Write mode 1: copy latches from 0xa0000 to 0xa0010. */
    gc(r, 5, 0x01);
    (void)rdb(r, 0xa0000);
    wrb(r, 0xa0010, 0x00);
    g_assert_cmpmem(v->vram + 0x10 * 4, 4, v->vram, 4);
    /* Write mode 3: set/reset colour 9 where rotated data has ones. */
    gc(r, 5, 0x03);
    gc(r, 0, 0x09);
    (void)rdb(r, 0xa0003); /* latches = 0 */
    wrb(r, 0xa0003, 0xf0);
    gc(r, 5, 0x00);
    render(r);
    g_assert_cmphex(pixel(r, 0, 0), ==, rgb6(42, 0, 42));   /* 5 */
    g_assert_cmphex(pixel(r, 1, 0), ==, rgb6(42, 0, 0));    /* 12 & 7 */
    g_assert_cmphex(pixel(r, 7, 0), ==, rgb6(42, 0, 0));
    g_assert_cmphex(pixel(r, 0x10 * 8, 0), ==, rgb6(42, 0, 42));
    g_assert_cmphex(pixel(r, 3 * 8 + 0, 0), ==, rgb6(0, 0, 42)); /* 9 */
    g_assert_cmphex(pixel(r, 3 * 8 + 4, 0), ==, 0);
    /* Read mode 1: colour compare against 9 finds the first 4 pixels of
       byte 3; with colour don't care 0 every bit matches. */
    gc(r, 5, 0x08);
    gc(r, 2, 0x09);
    gc(r, 7, 0x0f);
    g_assert_cmphex(rdb(r, 0xa0003), ==, 0xf0);
    gc(r, 7, 0x00);
    g_assert_cmphex(rdb(r, 0xa0003), ==, 0xff);
    /* Read mode 0 with read map select. */
    gc(r, 5, 0x00);
    gc(r, 4, 0x00);
    g_assert_cmphex(rdb(r, 0xa0001), ==, 0xa5);
    /* Colour plane enable masks planes out of the picture. */
    attr(r, 0x12, 0x03);
    attr_enable(r);
    render(r);
    g_assert_cmphex(pixel(r, 3 * 8, 0), ==, rgb6(0, 0, 42)); /* 9 & 3 */
    g_assert_cmphex(pixel(r, 1, 0), ==, 0);                  /* 12 & 3 */
    rig_free(r);
}

/* Mode 4 (CGA 320x200x4): even rows at b8000, odd rows at ba000. */
static void test_cga(void)
{
    Rig *r = rig_new();
    outb(r, 0x3c2, 0x63);
    seq(r, 1, 0x09);
    seq(r, 2, 0x03);
    seq(r, 3, 0x00);
    seq(r, 4, 0x02);
    static const uint8_t cr[25] = {
        0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96,
        0xb9, 0xa2, 0xff };
    for (int i = 0; i < 25; i++) {
        crtc(r, i, cr[i]);
    }
    static const uint8_t pal[4] = { 0x00, 0x13, 0x15, 0x17 };
    for (int i = 0; i < 4; i++) {
        attr(r, i, pal[i]);
        dac(r, pal[i], i * 20, 63 - i * 20, i * 5);
    }
    attr(r, 0x10, 0x01);
    attr(r, 0x12, 0x03);
    gc(r, 5, 0x30);
    gc(r, 6, 0x0f);
    attr_enable(r);
    /* row 0, bytes 0-1: colours 0 1 2 3 | 3 2 1 0 */
    wrb(r, 0xb8000, 0x1b);
    wrb(r, 0xb8001, 0xe4);
    /* row 1 (odd bank), row 2 (even bank, second line) */
    wrb(r, 0xba000, 0xff);
    wrb(r, 0xb8000 + 80, 0x55);
    render(r);
    int w, h;
    surface_size(r, &w, &h);
    g_assert_cmpint(w, ==, 320);
    g_assert_cmpint(h, ==, 200);
    for (int x = 0; x < 4; x++) {
        int c = x;
        g_assert_cmphex(pixel(r, x, 0), ==,
                        rgb6(c * 20, 63 - c * 20, c * 5));
        c = 3 - x;
        g_assert_cmphex(pixel(r, 4 + x, 0), ==,
                        rgb6(c * 20, 63 - c * 20, c * 5));
        g_assert_cmphex(pixel(r, x, 1), ==, rgb6(60, 3, 15));
        g_assert_cmphex(pixel(r, x, 2), ==, rgb6(20, 43, 5));
    }
    g_assert_cmphex(pixel(r, 8, 1), ==, rgb6(0, 63, 0));
    rig_free(r);
}

static void test_text(void)
{
    Rig *r = rig_new();
    Vga *v = r->vga;
    /* Mode 3 (80x25, 9x16 cells) as SeaVGABIOS programs it. */
    outb(r, 0x3c2, 0x67);
    seq(r, 1, 0x00);
    seq(r, 3, 0x00);
    static const uint8_t cr[25] = {
        0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d,
        0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96,
        0xb9, 0xa3, 0xff };
    for (int i = 0; i < 25; i++) {
        crtc(r, i, cr[i]);
    }
    static const uint8_t ega[16][3] = {
        {0, 0, 0}, {0, 0, 42}, {0, 42, 0}, {0, 42, 42}, {42, 0, 0},
        {42, 0, 42}, {42, 21, 0}, {42, 42, 42}, {21, 21, 21},
        {21, 21, 63}, {21, 63, 21}, {21, 63, 63}, {63, 21, 21},
        {63, 21, 63}, {63, 63, 21}, {63, 63, 63} };
    static const uint8_t ega_attr[16] = { 0, 1, 2, 3, 4, 5, 0x14, 7, 0x38,
                                          0x39, 0x3a, 0x3b, 0x3c, 0x3d,
                                          0x3e, 0x3f };
    for (int i = 0; i < 16; i++) {
        attr(r, i, ega_attr[i]);
        dac(r, ega_attr[i], ega[i][0], ega[i][1], ega[i][2]);
    }
    attr(r, 0x10, 0x0c);
    attr(r, 0x12, 0x0f);
    /* Load a glyph for 'A' into plane 2 (font map 0) the way the BIOS
       does: sequential addressing, map mask 4, a0000 window. */
    seq(r, 2, 0x04);
    seq(r, 4, 0x07);
    gc(r, 4, 0x02);
    gc(r, 5, 0x00);
    gc(r, 6, 0x04);
    gc(r, 8, 0xff);
    for (int y = 0; y < 16; y++) {
        wrb(r, 0xa0000 + 'A' * 32 + y, y == 3 ? 0xff : (y & 1) ? 0x81 : 0);
    }
    /* Back to text addressing. */
    seq(r, 2, 0x03);
    seq(r, 4, 0x02);
    gc(r, 4, 0x00);
    gc(r, 5, 0x10);
    gc(r, 6, 0x0e);
    for (int i = 0; i < 2000; i++) {
        wrb(r, 0xb8000 + 2 * i, ' ');
        wrb(r, 0xb8000 + 2 * i + 1, 0x07);
    }
    wrb(r, 0xb8000 + 2 * 81, 'A');     /* row 1, column 1 */
    wrb(r, 0xb8000 + 2 * 81 + 1, 0x1e); /* yellow on blue */
    wrb(r, 0xb8000 + 2 * 82, 'A');
    wrb(r, 0xb8000 + 2 * 82 + 1, 0x9e); /* blinking */
    attr_enable(r);
    /* Cursor at row 0, column 5; lines 13-14. */
    crtc(r, 0x0e, 0);
    crtc(r, 0x0f, 5);
    r->bus.clock->icount = 300000000; /* cursor phase on, blink phase off */
    render(r);
    int w, h;
    surface_size(r, &w, &h);
    g_assert_cmpint(w, ==, 720);
    g_assert_cmpint(h, ==, 400);
    uint32_t yellow = rgb6(63, 63, 21), blue = rgb6(0, 0, 42);
    uint32_t grey = rgb6(42, 42, 42);
    int x0 = 9, y0 = 16;
    g_assert_cmphex(pixel(r, x0 + 0, y0 + 3), ==, yellow);
    g_assert_cmphex(pixel(r, x0 + 7, y0 + 3), ==, yellow);
    g_assert_cmphex(pixel(r, x0 + 8, y0 + 3), ==, blue); /* 9th dot */
    g_assert_cmphex(pixel(r, x0 + 0, y0 + 1), ==, yellow);
    g_assert_cmphex(pixel(r, x0 + 3, y0 + 1), ==, blue);
    g_assert_cmphex(pixel(r, x0 + 3, y0 + 2), ==, blue);
    /* The blinking character is hidden in this phase. */
    g_assert_cmphex(pixel(r, 2 * 9, y0 + 3), ==, blue);
    /* The cursor: lines 13 and 14 of cell (0, 5) in the foreground. */
    g_assert_cmphex(pixel(r, 5 * 9 + 2, 13), ==, grey);
    g_assert_cmphex(pixel(r, 5 * 9 + 2, 14), ==, grey);
    g_assert_cmphex(pixel(r, 5 * 9 + 2, 12), ==, 0);
    g_assert_cmphex(pixel(r, 5 * 9 + 2, 15), ==, 0);
    /* Next phase: cursor off, blinking character shown. */
    r->bus.clock->icount = 600000000;
    render(r);
    g_assert_cmphex(pixel(r, 5 * 9 + 2, 13), ==, 0);
    g_assert_cmphex(pixel(r, 2 * 9, y0 + 3), ==, yellow);
    /* Only the cells that changed were redrawn. */
    g_assert_cmpint(r->updates, ==, 1);
    g_assert_cmpint(r->uy, ==, 0);
    g_assert_cmpint(r->uh, <=, 32);
    /* Nothing changes: no update. */
    render(r);
    g_assert_cmpint(r->updates, ==, 0);
    /* A font change redraws the glyph. */
    seq(r, 2, 0x04);
    seq(r, 4, 0x07);
    gc(r, 5, 0x00);
    gc(r, 6, 0x04);
    wrb(r, 0xa0000 + 'A' * 32 + 3, 0x00);
    seq(r, 2, 0x03);
    seq(r, 4, 0x02);
    gc(r, 5, 0x10);
    gc(r, 6, 0x0e);
    render(r);
    g_assert_cmphex(pixel(r, x0, y0 + 3), ==, blue);
    (void)v;
    rig_free(r);
}

static void map_bars(Rig *r, uint32_t fb, uint32_t mmio)
{
    pci_config_write(r->pci, 2 << 3, PCI_BAR0, fb, 4);
    pci_config_write(r->pci, 2 << 3, PCI_BAR0 + 8, mmio, 4);
    pci_config_write(r->pci, 2 << 3, PCI_COMMAND, PCI_COMMAND_MEMORY |
                     PCI_COMMAND_IO, 2);
}

static void test_vbe_lfb(void)
{
    Rig *r = rig_new();
    g_assert_cmphex(pci_config_read(r->pci, 2 << 3, 0, 4), ==, 0x11111234);
    /* BAR 0 is 16 MiB of prefetchable memory, BAR 2 4 KiB. */
    pci_config_write(r->pci, 2 << 3, PCI_BAR0, 0xffffffff, 4);
    g_assert_cmphex(pci_config_read(r->pci, 2 << 3, PCI_BAR0, 4), ==,
                    0xff000008);
    pci_config_write(r->pci, 2 << 3, PCI_BAR0 + 8, 0xffffffff, 4);
    g_assert_cmphex(pci_config_read(r->pci, 2 << 3, PCI_BAR0 + 8, 4), ==,
                    0xfffff000);
    map_bars(r, 0xfd000000, 0xfebf0000);

    g_assert_cmphex(dispi_read(r, VBE_DISPI_INDEX_ID), ==, 0xb0c5);
    dispi(r, VBE_DISPI_INDEX_ID, 0xb0c0);
    g_assert_cmphex(dispi_read(r, VBE_DISPI_INDEX_ID), ==, 0xb0c0);
    /* 0x1d0 is a data port too. */
    outw(r, 0x1ce, VBE_DISPI_INDEX_ID);
    outw(r, 0x1d0, 0xb0c4);
    g_assert_cmphex(ioport_read(r->bus.io, 0x1d0, 2), ==, 0xb0c4);
    g_assert_cmpuint(dispi_read(r, VBE_DISPI_INDEX_VIDEO_MEMORY_64K), ==,
                     256);
    dispi(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_GETCAPS);
    g_assert_cmpuint(dispi_read(r, VBE_DISPI_INDEX_XRES), >=, 1920);
    g_assert_cmpuint(dispi_read(r, VBE_DISPI_INDEX_YRES), >=, 1200);
    g_assert_cmpuint(dispi_read(r, VBE_DISPI_INDEX_BPP), ==, 32);
    dispi(r, VBE_DISPI_INDEX_ENABLE, 0);

    /* 800x600x32 with the LFB. */
    dispi(r, VBE_DISPI_INDEX_XRES, 800);
    dispi(r, VBE_DISPI_INDEX_YRES, 600);
    dispi(r, VBE_DISPI_INDEX_BPP, 32);
    dispi(r, VBE_DISPI_INDEX_ENABLE,
          VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    attr_enable(r);
    g_assert_cmpuint(dispi_read(r, VBE_DISPI_INDEX_VIRT_WIDTH), ==, 800);
    for (int y = 0; y < 600; y++) {
        for (int x = 0; x < 800; x += 50) {
            memmap_write_sized(r->bus.mem, 0xfd000000 + (y * 800 + x) * 4,
                               (x * 0x010203 + y) & 0xffffff, 4);
        }
    }
    render(r);
    int w, h;
    surface_size(r, &w, &h);
    g_assert_cmpint(w, ==, 800);
    g_assert_cmpint(h, ==, 600);
    g_assert_cmphex(pixel(r, 0, 0), ==, 0);
    g_assert_cmphex(pixel(r, 100, 7), ==, (100 * 0x010203 + 7) & 0xffffff);
    g_assert_cmphex(pixel(r, 750, 599), ==,
                    (750 * 0x010203 + 599) & 0xffffff);
    g_assert_cmphex(pixel(r, 101, 7), ==, 0);
    /* Dirty lines only. */
    render(r);
    g_assert_cmpint(r->updates, ==, 0);
    memmap_write_sized(r->bus.mem, 0xfd000000 + (300 * 800 + 3) * 4,
                       0x123456, 4);
    render(r);
    g_assert_cmpint(r->updates, ==, 1);
    g_assert_cmpint(r->uy, ==, 300);
    g_assert_cmpint(r->uh, ==, 1);
    g_assert_cmphex(pixel(r, 3, 300), ==, 0x123456);

    /* The MMIO BAR: DISPI registers at 0x500 + 2 * index, VGA ports at
       0x400, QEMU extended registers at 0x600. */
    g_assert_cmpuint(memmap_read_sized(r->bus.mem, 0xfebf0500 + 2, 2), ==,
                     800);
    g_assert_cmpuint(memmap_read_sized(r->bus.mem, 0xfebf0500 + 4, 2), ==,
                     600);
    g_assert_cmpuint(memmap_read_sized(r->bus.mem, 0xfebf0500 + 0x14, 2),
                     ==, 256);
    g_assert_cmpuint(memmap_read_sized(r->bus.mem, 0xfebf0600, 4), ==, 8);
    g_assert_cmphex(memmap_read_sized(r->bus.mem, 0xfebf0604, 4), ==,
                    0x1e1e1e1e);
    memmap_write_sized(r->bus.mem, 0xfebf0408, 0x05, 1); /* DAC index */
    g_assert_cmpuint(inb(r, 0x3c8), ==, 5);

    /* Panning: the virtual height is all of VRAM; y offset 100 through
       MMIO. */
    g_assert_cmpuint(dispi_read(r, VBE_DISPI_INDEX_VIRT_HEIGHT), ==,
                     VGA_VRAM_SIZE / 3200);
    memmap_write_sized(r->bus.mem, 0xfebf0500 + 2 * VBE_DISPI_INDEX_Y_OFFSET,
                       100, 2);
    render(r);
    g_assert_cmphex(pixel(r, 3, 200), ==, 0x123456);

    /* 16 bpp and 8 bpp with banked access through 0xa0000. */
    dispi(r, VBE_DISPI_INDEX_ENABLE, 0);
    dispi(r, VBE_DISPI_INDEX_BPP, 16);
    dispi(r, VBE_DISPI_INDEX_XRES, 640);
    dispi(r, VBE_DISPI_INDEX_YRES, 480);
    dispi(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    /* cleared on enable without NOCLEARMEM */
    g_assert_cmphex(memmap_read_sized(r->bus.mem,
                                      0xfd000000 + (7 * 800 + 100) * 4, 4),
                    ==, 0);
    dispi(r, VBE_DISPI_INDEX_BANK, 1);
    /* byte 0x10000 = pixel 32768 = (128, 51) */
    memmap_write_sized(r->bus.mem, 0xa0000, 0xf800, 2);
    render(r);
    surface_size(r, &w, &h);
    g_assert_cmpint(w, ==, 640);
    g_assert_cmpint(h, ==, 480);
    g_assert_cmphex(pixel(r, 128, 51), ==, 0xff0000);
    g_assert_cmphex(rdb(r, 0xfd010001), ==, 0xf8);

    /* 15, 24 and 8 bpp pixel formats. */
    static const struct { int bpp; uint32_t raw; int n; uint32_t rgb; }
    fmts[] = {
        { 15, 0x7c1f, 2, 0xff00ff }, { 15, 0x03e0, 2, 0x00ff00 },
        { 24, 0x123456, 3, 0x123456 }, { 8, 9, 1, 0x0c1824 },
    };
    dac(r, 9, 3, 6, 9);
    for (size_t i = 0; i < G_N_ELEMENTS(fmts); i++) {
        dispi(r, VBE_DISPI_INDEX_ENABLE, 0);
        dispi(r, VBE_DISPI_INDEX_BPP, fmts[i].bpp);
        dispi(r, VBE_DISPI_INDEX_ENABLE,
              VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
        uint32_t off = (10 * 640 + 5) * fmts[i].n;
        for (int b = 0; b < fmts[i].n; b++) {
            wrb(r, 0xfd000000 + off + b, fmts[i].raw >> (8 * b));
        }
        render(r);
        g_assert_cmphex(pixel(r, 5, 10), ==, fmts[i].rgb);
        g_assert_cmphex(pixel(r, 6, 10), ==, 0);
    }
    /* The 8-bit DAC: values are used as they are. */
    dispi(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED |
          VBE_DISPI_LFB_ENABLED | VBE_DISPI_8BIT_DAC | VBE_DISPI_NOCLEARMEM);
    dac(r, 9, 0x80, 0x81, 0xfe);
    render(r);
    g_assert_cmphex(pixel(r, 5, 10), ==, 0x8081fe);
    rig_free(r);
}

static void test_hostile(void)
{
    Rig *r = rig_new();
    map_bars(r, 0xfd000000, 0xfebf0000);
    attr_enable(r);
    dispi(r, VBE_DISPI_INDEX_XRES, 0xffff);
    dispi(r, VBE_DISPI_INDEX_YRES, 0xffff);
    dispi(r, VBE_DISPI_INDEX_BPP, 0x1234);
    dispi(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED |
          VBE_DISPI_NOCLEARMEM);
    g_assert_cmpuint(dispi_read(r, VBE_DISPI_INDEX_XRES), <=, 2560);
    g_assert_cmpuint(dispi_read(r, VBE_DISPI_INDEX_YRES), <=, 1600);
    g_assert_cmpuint(dispi_read(r, VBE_DISPI_INDEX_BPP), ==, 8);
    render(r);
    dispi(r, VBE_DISPI_INDEX_BPP, 32);
    dispi(r, VBE_DISPI_INDEX_VIRT_WIDTH, 0xfff8);
    dispi(r, VBE_DISPI_INDEX_VIRT_HEIGHT, 0xffff);
    dispi(r, VBE_DISPI_INDEX_X_OFFSET, 0xffff);
    dispi(r, VBE_DISPI_INDEX_Y_OFFSET, 0xffff);
    uint32_t vw = dispi_read(r, VBE_DISPI_INDEX_VIRT_WIDTH);
    uint32_t vh = dispi_read(r, VBE_DISPI_INDEX_VIRT_HEIGHT);
    uint32_t xo = dispi_read(r, VBE_DISPI_INDEX_X_OFFSET);
    uint32_t yo = dispi_read(r, VBE_DISPI_INDEX_Y_OFFSET);
    uint32_t xres = dispi_read(r, VBE_DISPI_INDEX_XRES);
    uint32_t yres = dispi_read(r, VBE_DISPI_INDEX_YRES);
    g_assert_cmpuint((uint64_t)vw * 4 * vh, <=, VGA_VRAM_SIZE);
    g_assert_cmpuint(xo + xres, <=, vw);
    g_assert_cmpuint(yo + yres, <=, vh);
    render(r);
    int w, h;
    surface_size(r, &w, &h);
    g_assert_cmpint(w, ==, (int)xres);
    g_assert_cmpint(h, ==, (int)yres);
    dispi(r, VBE_DISPI_INDEX_BANK, 0xffff);
    g_assert_cmpuint(dispi_read(r, VBE_DISPI_INDEX_BANK), <, 256);
    memmap_write_sized(r->bus.mem, 0xaffff, 0x5a, 1);
    g_assert_cmpuint(r->vga->vram[VGA_VRAM_SIZE - 1], ==, 0x5a);
    /* Unknown index, huge index. */
    dispi(r, 0x7fff, 1);
    g_assert_cmpuint(dispi_read(r, 0x7fff), ==, 0);

    /* Random writes to every VGA, DISPI and MMIO register and the window,
       rendering now and then: nothing may crash or read out of VRAM. */
    GRand *rnd = g_rand_new_with_seed(4);
    for (int i = 0; i < 200000; i++) {
        uint32_t v = g_rand_int(rnd);
        switch (g_rand_int_range(rnd, 0, 6)) {
        case 0:
            outb(r, 0x3b0 + g_rand_int_range(rnd, 0, 0x30), v);
            break;
        case 1:
            dispi(r, g_rand_int_range(rnd, 0, 12), v);
            break;
        case 2:
            wrb(r, 0xa0000 + g_rand_int_range(rnd, 0, 0x20000), v);
            break;
        case 3:
            (void)rdb(r, 0xa0000 + g_rand_int_range(rnd, 0, 0x20000));
            break;
        case 4:
            memmap_write_sized(r->bus.mem,
                               0xfebf0000 + g_rand_int_range(rnd, 0, 0x1000),
                               v, 1u << g_rand_int_range(rnd, 0, 3));
            break;
        default:
            (void)inb(r, 0x3b0 + g_rand_int_range(rnd, 0, 0x30));
            break;
        }
        if ((i & 1023) == 0) {
            if (g_rand_boolean(rnd)) {
                attr_enable(r);
            }
            r->bus.clock->icount += g_rand_int_range(rnd, 0, 100000000);
            render(r);
        }
    }
    g_rand_free(rnd);
    rig_free(r);
}

/* 1920x1200x32: an unchanged screen is detected (no update) and its cost
   is reported, not asserted (tests never fail on timing). */
static void test_unchanged_frame(void)
{
    Rig *r = rig_new();
    map_bars(r, 0xfd000000, 0xfebf0000);
    dispi(r, VBE_DISPI_INDEX_XRES, 1920);
    dispi(r, VBE_DISPI_INDEX_YRES, 1200);
    dispi(r, VBE_DISPI_INDEX_BPP, 32);
    dispi(r, VBE_DISPI_INDEX_ENABLE,
          VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    attr_enable(r);
    for (int i = 0; i < 1920 * 1200; i += 7) {
        r->vga->vram[i * 4] = i;
    }
    int64_t t0 = g_get_monotonic_time();
    render(r);
    int64_t t1 = g_get_monotonic_time();
    g_assert_cmpint(r->updates, ==, 1);
    g_assert_cmpint(r->uh, ==, 1200);
    const int n = 20;
    for (int i = 0; i < n; i++) {
        render(r);
        g_assert_cmpint(r->updates, ==, 0);
    }
    int64_t t2 = g_get_monotonic_time();
    g_test_message("1920x1200x32: full frame %.2f ms, unchanged frame "
                   "%.3f ms", (t1 - t0) / 1000.0,
                   (t2 - t1) / 1000.0 / n);
    rig_free(r);
}

static void test_state(void)
{
    Rig *r = rig_new();
    Vga *v = r->vga;
    set_mode13(r);
    dac(r, 3, 1, 2, 3);
    wrb(r, 0xa0000 + 1234, 3);
    v->vram[VGA_VRAM_SIZE - 1] = 0x77;
    const StateDesc *st = vga_info.state;
    GByteArray *a = g_byte_array_new();
    state_save(st, v, a);
    g_assert_cmpuint(a->len, ==, state_size(st, st->version));
    /* Video memory is not in the table: the board saves it as its RAM
       block "vga.vram" (compressed), restored before the registers. */
    g_assert_cmpuint(a->len, <, 4096);
    seq(r, 4, 0);
    dac(r, 3, 9, 9, 9);
    GError *err = NULL;
    g_assert_true(state_load(st, v, st->version, a->data, a->len, NULL,
                             &err));
    g_assert_no_error(err);
    g_assert_cmpuint(v->vram[1234], ==, 3);
    g_assert_cmpuint(v->vram[VGA_VRAM_SIZE - 1], ==, 0x77);
    g_assert_cmpuint(v->seq[4], ==, 0x0e);
    render(r);
    g_assert_cmphex(pixel(r, 1234 % 320, 1234 / 320), ==, rgb6(1, 2, 3));
    /* Truncated input is refused. */
    g_assert_false(state_load(st, v, st->version, a->data, a->len - 1, NULL,
                              &err));
    g_clear_error(&err);
    g_byte_array_free(a, TRUE);
    rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hw/vga/mode13h", test_mode13);
    g_test_add_func("/hw/vga/planar-write-modes", test_planar);
    g_test_add_func("/hw/vga/cga-mode4", test_cga);
    g_test_add_func("/hw/vga/text-font-cursor", test_text);
    g_test_add_func("/hw/vga/vbe-lfb", test_vbe_lfb);
    g_test_add_func("/hw/vga/hostile-registers", test_hostile);
    g_test_add_func("/hw/vga/unchanged-frame", test_unchanged_frame);
    g_test_add_func("/hw/vga/state", test_state);
    return g_test_run();
}
