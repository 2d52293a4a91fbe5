/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Standard VGA with the Bochs VBE extension (see vga.h).
 *
 * References: IBM VGA technical reference and the FreeVGA register
 * documentation (sequencer: map mask, character map select, memory mode
 * with chain-4 and odd/even; graphics controller: set/reset, data rotate
 * and function select, read map select, mode with write modes 0-3, read
 * modes 0-1, shift register modes, miscellaneous with memory map select,
 * bit mask; attribute controller with the flip-flop at 0x3c0 reset by
 * reading input status 1; DAC ports 0x3c7-0x3c9; CRTC start address,
 * offset, cursor start/end/location, maximum scan line with double scan,
 * the CGA address substitution bits of the mode control register).
 * Bochs VBE: the DISPI register set (QEMU's include/hw/display/bochs-vbe.h
 * names, OSDev "Bochs VBE Extensions") and QEMU's docs/specs/standard-vga
 * for the PCI variant: BAR 0 framebuffer, BAR 2 MMIO with the VGA ports
 * at 0x400, the DISPI registers at 0x500 + 2 * index and the QEMU
 * extended registers at 0x600.
 *
 * Rendering runs on a timer (and on screendump).  Dirty detection does
 * not depend on how VRAM was written: the LFB is ordinary RAM for the
 * CPU's fast path, so each frame compares the VRAM bytes feeding every
 * output line with a shadow copy of what was last rendered and redraws
 * only lines that changed (text mode compares character cells instead).
 * Any change of a display register or of the palette redraws the frame.
 * An unchanged screen costs one memcmp of the visible VRAM per frame.
 *
 * Pictures are rendered at the mode's own resolution (mode 13h is
 * 320x200, 80x25 text with 9-dot cells 720x400).  Not emulated:
 * horizontal pel panning, the doubled width of 40-column text, line
 * compare in text modes, the PEL mask, a big-endian framebuffer.
 */
#include "hw/display/vga.h"

#include <string.h>

#include "bus/log.h"
#include "hw/board.h"

#define RETRACE_NS (1000000000 / 60)
#define REFRESH_NS (1000000000 / 30)
#define CURSOR_BLINK_NS 266666666
#define CHAR_BLINK_NS 533333333
#define VGA_MASK 0x3ffff /* the 256 KiB of the four 64 KiB planes */
#define MAX_LINES 2048
#define TEXT_MAX_COLS 160
#define TEXT_MAX_ROWS 100

static bool vbe_enabled(const Vga *s)
{
    return s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

static bool dac_8bit(const Vga *s)
{
    return s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC;
}

/* ---- Bochs VBE ---------------------------------------------------- */

static unsigned vbe_valid_bpp(unsigned bpp)
{
    switch (bpp) {
    case 4: case 8: case 15: case 16: case 24: case 32:
        return bpp;
    }
    return 8;
}

/*
 * Clamp the DISPI registers to what fits VRAM and compute the derived
 * start offset, line length and bank offset.  Registers are written back
 * clamped only while the interface is enabled (as QEMU does), so a BIOS
 * may stage values before it enables a mode.
 */
static void vbe_fixup(Vga *s)
{
    uint16_t *r = s->vbe_regs;
    unsigned bpp = vbe_valid_bpp(r[VBE_DISPI_INDEX_BPP]);
    unsigned xres = r[VBE_DISPI_INDEX_XRES] & ~7u;
    unsigned yres = r[VBE_DISPI_INDEX_YRES];
    xres = CLAMP(xres, 8u, (unsigned)VBE_DISPI_MAX_XRES);
    yres = CLAMP(yres, 1u, (unsigned)VBE_DISPI_MAX_YRES);
    /* bytes per pixel; 4 bpp is planar: 8 pixels per 4 VRAM bytes */
    unsigned bytes = bpp == 4 ? 0 : (bpp + 7) / 8;
    unsigned vw = MAX(r[VBE_DISPI_INDEX_VIRT_WIDTH] & ~7u, xres);
    uint32_t maxline = s->vram_size / yres;
    uint32_t line = bytes ? vw * bytes : vw / 2;
    if (line > maxline) {
        vw = bytes ? maxline / bytes : maxline * 2;
        vw = MAX(vw & ~7u, xres);
        line = bytes ? vw * bytes : vw / 2;
    }
    /* The virtual height is all of VRAM, whatever was written (as in
       QEMU): Linux's bochs driver pans with Y_OFFSET over buffers
       anywhere in VRAM without setting it. */
    unsigned vh = MIN(s->vram_size / line, 0xffffu);
    unsigned xo = MIN(r[VBE_DISPI_INDEX_X_OFFSET], vw - xres);
    unsigned yo = MIN(r[VBE_DISPI_INDEX_Y_OFFSET], vh - yres);
    if (bytes) {
        s->vbe_start = yo * line + xo * bytes;
    } else {
        xo &= ~7u;
        s->vbe_start = yo * line + xo / 2;
    }
    s->vbe_line = line;
    if (vbe_enabled(s)) {
        r[VBE_DISPI_INDEX_BPP] = bpp;
        r[VBE_DISPI_INDEX_XRES] = xres;
        r[VBE_DISPI_INDEX_YRES] = yres;
        r[VBE_DISPI_INDEX_VIRT_WIDTH] = vw;
        r[VBE_DISPI_INDEX_VIRT_HEIGHT] = vh;
        r[VBE_DISPI_INDEX_X_OFFSET] = xo;
        r[VBE_DISPI_INDEX_Y_OFFSET] = yo;
    }
    /* Banks are 64 KiB of CPU window; in planar 4 bpp they cover 4x VRAM. */
    uint32_t banks = s->vram_size >> 16;
    if (bpp == 4) {
        banks >>= 2;
    }
    r[VBE_DISPI_INDEX_BANK] &= banks - 1;
    s->vbe_bank_offset = vbe_enabled(s) ? (uint32_t)r[VBE_DISPI_INDEX_BANK]
                                              << 16
                                        : 0;
}

static uint16_t vbe_read_reg(Vga *s, unsigned idx)
{
    uint16_t *r = s->vbe_regs;
    if (idx == VBE_DISPI_INDEX_VIDEO_MEMORY_64K) {
        return s->vram_size >> 16;
    }
    if (idx >= VBE_DISPI_INDEX_NB) {
        return 0;
    }
    if (r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS) {
        switch (idx) {
        case VBE_DISPI_INDEX_XRES:
            return VBE_DISPI_MAX_XRES;
        case VBE_DISPI_INDEX_YRES:
            return VBE_DISPI_MAX_YRES;
        case VBE_DISPI_INDEX_BPP:
            return VBE_DISPI_MAX_BPP;
        }
    }
    return r[idx];
}

static void vbe_write_reg(Vga *s, unsigned idx, uint16_t val)
{
    uint16_t *r = s->vbe_regs;
    switch (idx) {
    case VBE_DISPI_INDEX_ID:
        if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5) {
            r[idx] = val;
        }
        return;
    case VBE_DISPI_INDEX_XRES:
    case VBE_DISPI_INDEX_YRES:
    case VBE_DISPI_INDEX_BPP:
    case VBE_DISPI_INDEX_VIRT_WIDTH:
    case VBE_DISPI_INDEX_VIRT_HEIGHT:
    case VBE_DISPI_INDEX_X_OFFSET:
    case VBE_DISPI_INDEX_Y_OFFSET:
    case VBE_DISPI_INDEX_BANK:
        r[idx] = val;
        vbe_fixup(s);
        return;
    case VBE_DISPI_INDEX_ENABLE: {
        bool was = vbe_enabled(s);
        r[idx] = val;
        if ((val & VBE_DISPI_ENABLED) && !was) {
            /* A new mode starts with an unscrolled virtual screen the
               size of the visible one. */
            r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
            r[VBE_DISPI_INDEX_VIRT_HEIGHT] = r[VBE_DISPI_INDEX_YRES];
            r[VBE_DISPI_INDEX_X_OFFSET] = 0;
            r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
            vbe_fixup(s);
            if (!(val & VBE_DISPI_NOCLEARMEM)) {
                memset(s->vram + s->vbe_start, 0,
                       (size_t)s->vbe_line * r[VBE_DISPI_INDEX_YRES]);
            }
        } else {
            vbe_fixup(s);
        }
        return;
    }
    default:
        mimic_log_guest("vga: write of %#x to unknown DISPI register %#x",
                        val, idx);
    }
}

static uint32_t vbe_io_read(void *opaque, uint16_t off, unsigned size)
{
    Vga *s = opaque;
    if (off == 0) {
        return s->vbe_index;
    }
    if (off == 3) {
        return 0xff; /* only there so that a word access to 0x1d0 fits */
    }
    return vbe_read_reg(s, s->vbe_index);
}

static void vbe_io_write(void *opaque, uint16_t off, uint32_t val,
                         unsigned size)
{
    Vga *s = opaque;
    if (off == 0) {
        s->vbe_index = val;
        return;
    }
    if (off == 3) {
        return;
    }
    vbe_write_reg(s, s->vbe_index, val);
}

/* ---- the legacy window at 0xa0000 ---------------------------------- */

/* Offset of a window address in CPU address space, or -1. */
static int64_t window_offset(Vga *s, uint64_t addr)
{
    if (vbe_enabled(s)) {
        /* VBE banks: a 64 KiB window at 0xa0000. */
        return addr < 0x10000 ? (int64_t)(addr + s->vbe_bank_offset) : -1;
    }
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

/* Plane addresses the planar paths may reach. */
static uint32_t plane_mask(Vga *s)
{
    return vbe_enabled(s) ? (s->vram_size >> 2) - 1 : 0xffff;
}

static bool vbe_packed(Vga *s)
{
    return vbe_enabled(s) && s->vbe_regs[VBE_DISPI_INDEX_BPP] != 4;
}

static uint64_t vga_mem_read(void *opaque, uint64_t addr, unsigned size)
{
    Vga *s = opaque;
    int64_t off = window_offset(s, addr);
    if (off < 0) {
        return 0xff;
    }
    if (vbe_packed(s)) {
        return s->vram[off & (s->vram_size - 1)];
    }
    if (s->seq[4] & 8) { /* chain-4 */
        return s->vram[off & VGA_MASK];
    }
    if (!(s->seq[4] & 4)) { /* odd/even (sequencer memory mode) */
        int p = (s->gc[4] & 2) | (off & 1);
        return s->vram[((off >> 1) << 2 | p) & VGA_MASK];
    }
    uint32_t a = (off & plane_mask(s)) << 2;
    memcpy(s->latch, s->vram + a, 4);
    if (!(s->gc[5] & 8)) { /* read mode 0 */
        return s->latch[s->gc[4] & 3];
    }
    /* read mode 1: colour compare over the planes colour don't care
       selects */
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

static uint8_t rotate(Vga *s, uint8_t v)
{
    unsigned n = s->gc[3] & 7;
    return n ? (uint8_t)((v >> n) | (v << (8 - n))) : v;
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
    if (vbe_packed(s)) {
        s->vram[off & (s->vram_size - 1)] = v;
        return;
    }
    uint8_t mask = s->seq[2] & 0x0f;
    if (s->seq[4] & 8) { /* chain-4: plane = A1:A0 */
        if (mask & (1 << (off & 3))) {
            s->vram[off & VGA_MASK] = v;
            if ((off & 3) == 2) {
                s->font_dirty = true;
            }
        }
        return;
    }
    if (!(s->seq[4] & 4)) {
        /* Odd/even: even addresses reach planes 0 and 2, odd ones 1 and 3,
           at plane address A15:A1. */
        for (int q = off & 1; q < 4; q += 2) {
            if (mask & (1 << q)) {
                s->vram[((off >> 1) << 2 | q) & VGA_MASK] = v;
                s->font_dirty |= q == 2;
            }
        }
        return;
    }
    uint32_t a = (off & plane_mask(s)) << 2;
    uint8_t bitmask = s->gc[8];
    int mode = s->gc[5] & 3;
    if (mask & 4) {
        s->font_dirty = true;
    }
    for (int p = 0; p < 4; p++) {
        if (!(mask & (1 << p))) {
            continue;
        }
        uint8_t latch = s->latch[p], d, bm = bitmask;
        switch (mode) {
        case 1: /* latches straight through */
            s->vram[a + p] = latch;
            continue;
        case 2: /* CPU data bits 3-0 are the planes' colour */
            d = alu(s, (v & (1 << p)) ? 0xff : 0, latch);
            break;
        case 3: /* rotated CPU data ANDed with the bit mask; set/reset */
            bm &= rotate(s, v);
            d = alu(s, (s->gc[0] & (1 << p)) ? 0xff : 0, latch);
            break;
        default: {
            uint8_t r = rotate(s, v);
            if (s->gc[1] & (1 << p)) {
                r = (s->gc[0] & (1 << p)) ? 0xff : 0;
            }
            d = alu(s, r, latch);
            break;
        }
        }
        s->vram[a + p] = (d & bm) | (latch & ~bm);
    }
}

static const MemOps vga_mem_ops = {
    .read = vga_mem_read, .write = vga_mem_write, .min = 1, .max = 1,
};

/* ---- VGA ports ----------------------------------------------------- */

static uint32_t vga_io_read(void *opaque, uint16_t off, unsigned size)
{
    Vga *s = opaque;
    uint16_t port = 0x3c0 + off;
    bool mono = !(s->misc & 1);
    if (size == 2) {
        return vga_io_read(s, off, 1) | vga_io_read(s, off + 1, 1) << 8;
    }
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
    case 0x3c6:
        return 0xff; /* PEL mask */
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
        return dac_8bit(s) ? v : v & 0x3f;
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
           retrace bits follow virtual time. */
        s->ar_flip = false;
        int64_t t = clock_now(s->dev.bus->clock) % RETRACE_NS;
        uint8_t v = 0;
        if (t < RETRACE_NS / 20) {
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
    if (size == 2) {
        /* Word writes: index port first (index and data at once). */
        vga_io_write(s, off, v, 1);
        vga_io_write(s, off + 1, val >> 8, 1);
        return;
    }
    bool mono = !(s->misc & 1);
    if ((port >= 0x3d0 && port <= 0x3df && mono) ||
        (port >= 0x3b0 && port <= 0x3bf && !mono)) {
        return;
    }
    switch (port) {
    case 0x3c0:
        if (!s->ar_flip) {
            s->ar_index = v & 0x3f;
        } else if ((s->ar_index & 0x1f) <= 0x14) {
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
        s->palette[s->dac_write * 3 + s->dac_sub] = dac_8bit(s) ? v
                                                                : v & 0x3f;
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

static uint32_t vga_io_read_b(void *opaque, uint16_t off, unsigned size)
{
    return vga_io_read(opaque, off - 0x10, size);
}

static void vga_io_write_b(void *opaque, uint16_t off, uint32_t v,
                           unsigned size)
{
    vga_io_write(opaque, off - 0x10, v, size);
}

/* ---- MMIO BAR 2 (QEMU stdvga) --------------------------------------- */

#define MMIO_VGA 0x400
#define MMIO_DISPI 0x500
#define MMIO_QEXT 0x600
#define QEXT_SIZE 8
#define QEXT_LITTLE_ENDIAN 0x1e1e1e1e

static uint64_t vga_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    Vga *s = opaque;
    uint64_t v = 0;
    if (off >= MMIO_VGA && off < MMIO_VGA + 0x20) {
        for (unsigned i = 0; i < size && off + i < MMIO_VGA + 0x20; i++) {
            v |= (uint64_t)vga_io_read(s, off + i - MMIO_VGA, 1) << (8 * i);
        }
        return v;
    }
    if (off >= MMIO_DISPI && off < MMIO_DISPI + 2 * 0x0b) {
        for (unsigned i = 0; i < size; i++) {
            unsigned o = off + i - MMIO_DISPI;
            uint16_t r = vbe_read_reg(s, o >> 1);
            v |= (uint64_t)((r >> (8 * (o & 1))) & 0xff) << (8 * i);
        }
        return v;
    }
    if (off >= MMIO_QEXT && off < MMIO_QEXT + QEXT_SIZE) {
        uint32_t regs[2] = { QEXT_SIZE, s->vbe_byteorder };
        for (unsigned i = 0; i < size && off + i < MMIO_QEXT + QEXT_SIZE;
             i++) {
            unsigned o = off + i - MMIO_QEXT;
            v |= (uint64_t)((regs[o >> 2] >> (8 * (o & 3))) & 0xff)
                 << (8 * i);
        }
        return v;
    }
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static void vga_mmio_write(void *opaque, uint64_t off, uint64_t val,
                           unsigned size)
{
    Vga *s = opaque;
    if (off >= MMIO_VGA && off < MMIO_VGA + 0x20) {
        /* Bytes in little-endian order: index port first. */
        for (unsigned i = 0; i < size && off + i < MMIO_VGA + 0x20; i++) {
            vga_io_write(s, off + i - MMIO_VGA, val >> (8 * i), 1);
        }
        return;
    }
    if (off >= MMIO_DISPI && off < MMIO_DISPI + 2 * 0x0b) {
        unsigned o = off - MMIO_DISPI;
        if (size == 1) {
            /* Merge a byte into the register. */
            uint16_t r = vbe_read_reg(s, o >> 1);
            int sh = 8 * (o & 1);
            r = (r & ~(0xff << sh)) | ((val & 0xff) << sh);
            vbe_write_reg(s, o >> 1, r);
            return;
        }
        for (unsigned i = 0; i < size; i += 2) {
            vbe_write_reg(s, (o + i) >> 1, val >> (8 * i));
        }
        return;
    }
    if (off == MMIO_QEXT + 4 && size == 4) {
        if (val == QEXT_LITTLE_ENDIAN) {
            s->vbe_byteorder = val;
        } else {
            mimic_log_guest("vga: big-endian framebuffer (%#x) not "
                            "supported", (unsigned)val);
        }
    }
}

static const MemOps vga_mmio_ops = {
    .read = vga_mmio_read, .write = vga_mmio_write, .min = 1, .max = 4,
};

/* ---- rendering ------------------------------------------------------ */

static inline uint32_t dac_rgb(const Vga *s, unsigned idx, bool eight)
{
    const uint8_t *c = s->palette + (idx & 0xff) * 3;
    if (eight) {
        return (uint32_t)c[0] << 16 | c[1] << 8 | c[2];
    }
    uint8_t r = c[0] & 0x3f, g = c[1] & 0x3f, b = c[2] & 0x3f;
    return (uint32_t)(r << 2 | r >> 4) << 16 | (g << 2 | g >> 4) << 8 |
           (b << 2 | b >> 4);
}

/* Recompute both palettes; true if anything changed. */
static bool update_palettes(Vga *s)
{
    uint32_t p16[16], p256[256];
    bool eight = dac_8bit(s);
    for (int i = 0; i < 256; i++) {
        p256[i] = dac_rgb(s, i, eight);
    }
    for (int i = 0; i < 16; i++) {
        uint8_t pal = s->ar[i] & 0x3f;
        if (s->ar[0x10] & 0x80) {
            pal = (pal & 0x0f) | ((s->ar[0x14] & 0x0f) << 4);
        } else {
            pal |= (s->ar[0x14] & 0x0c) << 4;
        }
        p16[i] = p256[pal];
    }
    bool changed = memcmp(p16, s->pal16, sizeof(p16)) ||
                   memcmp(p256, s->pal256, sizeof(p256));
    memcpy(s->pal16, p16, sizeof(p16));
    memcpy(s->pal256, p256, sizeof(p256));
    return changed;
}

static void disp_key(Vga *s, VgaDispKey *k, int64_t now)
{
    memset(k, 0, sizeof(*k));
    k->misc = s->misc;
    k->seq1 = s->seq[1];
    k->seq3 = s->seq[3];
    k->seq4 = s->seq[4];
    k->gc5 = s->gc[5] & 0x60;
    k->gc6 = s->gc[6] & 1;
    k->ar_on = s->ar_index & 0x20;
    memcpy(k->crtc, s->crtc, sizeof(k->crtc));
    memcpy(k->ar, s->ar, sizeof(k->ar));
    memcpy(k->vbe, s->vbe_regs, sizeof(k->vbe));
    k->vbe[VBE_DISPI_INDEX_BANK] = 0; /* banking does not move the picture */
    k->vbe[VBE_DISPI_INDEX_ID] = 0;
    k->cursor_phase = (now / CURSOR_BLINK_NS) & 1;
    k->blink_phase = (now / CHAR_BLINK_NS) & 1;
}

static DisplaySurface *surface_for(Vga *s, int w, int h)
{
    Display *d = s->display;
    DisplaySurface *surf = display_back(d);
    if (surf->width != w || surf->height != h) {
        display_resize(d, w, h);
        surf = display_back(d);
        s->full_redraw = true;
    }
    return surf;
}

static void render_blank(Vga *s)
{
    DisplaySurface *surf = display_back(s->display);
    if (!s->full_redraw) {
        return;
    }
    memset(surf->data, 0, (size_t)surf->stride * surf->height);
    display_mark_dirty(s->display, 0, 0, surf->width, surf->height);
}

static int vga_vdisp(const Vga *s)
{
    return (s->crtc[0x12] | ((s->crtc[7] & 2) << 7) |
            ((s->crtc[7] & 0x40) << 3)) + 1;
}

static void render_text(Vga *s, const VgaDispKey *k)
{
    int cols = s->crtc[1] + 1;
    int cw = (s->seq[1] & 1) ? 8 : 9;
    int cheight = (s->crtc[9] & 0x1f) + 1;
    int rows = vga_vdisp(s) / cheight;
    cols = MIN(cols, TEXT_MAX_COLS);
    rows = CLAMP(rows, 1, TEXT_MAX_ROWS);
    int width = cols * cw, height = rows * cheight;
    DisplaySurface *surf = surface_for(s, width, height);
    if (s->font_dirty) {
        s->full_redraw = true;
    }
    uint16_t start = s->crtc[0x0d] | (s->crtc[0x0c] << 8);
    uint16_t cursor = s->crtc[0x0f] | (s->crtc[0x0e] << 8);
    int pitch = s->crtc[0x13] * 2;
    int cur_start = s->crtc[0x0a] & 0x1f;
    int cur_end = MIN(s->crtc[0x0b] & 0x1f, cheight - 1);
    bool cursor_on = !(s->crtc[0x0a] & 0x20) && k->cursor_phase &&
                     cur_start <= cur_end;
    bool blink_attr = s->ar[0x10] & 8;
    bool line_gfx = s->ar[0x10] & 4;
    /* Character map select: map B for attribute bit 3 clear, map A for
       bit 3 set; each map value selects an 8 KiB slot in plane 2. */
    uint8_t sr3 = s->seq[3];
    uint32_t font_base[2] = {
        (((sr3 >> 4) & 1) | ((sr3 << 1) & 6)) * 0x2000u,
        (((sr3 >> 5) & 1) | ((sr3 >> 1) & 6)) * 0x2000u,
    };
    const uint8_t *v = s->vram;
    int stride = surf->stride / 4;
    int dy0 = height, dy1 = 0, dx0 = width, dx1 = 0;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            uint16_t a = (start + r * pitch + c) & 0xffff;
            uint8_t ch = v[a << 2], at = v[(a << 2) | 1];
            bool is_cursor = cursor_on && a == cursor;
            bool hidden = blink_attr && (at & 0x80) && !k->blink_phase;
            uint32_t key = ch | at << 8 | (uint32_t)is_cursor << 16 |
                           (uint32_t)hidden << 17 | 1u << 18;
            uint32_t *ck = &s->cell_key[r * cols + c];
            if (!s->full_redraw && *ck == key) {
                continue;
            }
            *ck = key;
            uint32_t fg = s->pal16[at & 15];
            uint32_t bg = s->pal16[blink_attr ? (at >> 4) & 7 : at >> 4];
            uint32_t goff = font_base[(at >> 3) & 1] + ch * 32;
            for (int y = 0; y < cheight; y++) {
                uint8_t bits =
                    hidden ? 0 : v[(((goff + y) & 0xffff) << 2) | 2];
                if (is_cursor && y >= cur_start && y <= cur_end) {
                    bits = 0xff;
                }
                uint32_t *px = surf->data + (size_t)(r * cheight + y) *
                                                stride + c * cw;
                for (int x = 0; x < 8; x++) {
                    px[x] = (bits & (0x80 >> x)) ? fg : bg;
                }
                if (cw == 9) {
                    bool ninth = (is_cursor && y >= cur_start &&
                                  y <= cur_end) ||
                                 (line_gfx && ch >= 0xc0 && ch <= 0xdf &&
                                  (bits & 1));
                    px[8] = ninth ? fg : bg;
                }
            }
            dy0 = MIN(dy0, r * cheight);
            dy1 = MAX(dy1, (r + 1) * cheight);
            dx0 = MIN(dx0, c * cw);
            dx1 = MAX(dx1, (c + 1) * cw);
        }
    }
    if (dy0 < dy1) {
        display_mark_dirty(s->display, dx0, dy0, dx1 - dx0, dy1 - dy0);
    }
    s->font_dirty = false;
}

/* Graphics line formats. */
enum {
    FMT_PLANAR, /* 16 colours, 8 pixels per plane address */
    FMT_CGA,    /* 4 colours, 2 bits per pixel interleaved in planes 0/1 */
    FMT_256,    /* one byte per pixel through the DAC */
    FMT_RGB15,
    FMT_RGB16,
    FMT_RGB24,
    FMT_RGB32,
};

static uint32_t fmt_bytes(int fmt, int width)
{
    switch (fmt) {
    case FMT_PLANAR:
    case FMT_CGA:
        return (width + 7) / 8 * 4;
    case FMT_256:
        return width;
    case FMT_RGB15:
    case FMT_RGB16:
        return width * 2;
    case FMT_RGB24:
        return width * 3;
    default:
        return width * 4;
    }
}

static bool range_changed(Vga *s, uint32_t a, uint32_t len, uint32_t wrap)
{
    a &= wrap - 1;
    while (len) {
        uint32_t n = MIN(len, wrap - a);
        if (memcmp(s->vram + a, s->shadow + a, n)) {
            return true;
        }
        len -= n;
        a = 0;
    }
    return false;
}

static void range_commit(Vga *s, uint32_t a, uint32_t len, uint32_t wrap)
{
    a &= wrap - 1;
    while (len) {
        uint32_t n = MIN(len, wrap - a);
        memcpy(s->shadow + a, s->vram + a, n);
        len -= n;
        a = 0;
    }
}

static void draw_line(Vga *s, int fmt, uint32_t a, uint32_t wrap,
                      uint32_t *px, int width)
{
    const uint8_t *v = s->vram;
    uint32_t m = wrap - 1;
    uint8_t pmask = s->ar[0x12] & 0x0f;
    switch (fmt) {
    case FMT_PLANAR:
        for (int x = 0; x < width; x += 8, a += 4) {
            const uint8_t *p = v + (a & m);
            for (int b = 0; b < 8 && x + b < width; b++) {
                int sh = 7 - b;
                unsigned c = ((p[0] >> sh) & 1) | ((p[1] >> sh) & 1) << 1 |
                             ((p[2] >> sh) & 1) << 2 |
                             ((p[3] >> sh) & 1) << 3;
                px[x + b] = s->pal16[c & pmask];
            }
        }
        return;
    case FMT_CGA:
        for (int x = 0; x < width; x += 8, a += 4) {
            const uint8_t *p = v + (a & m);
            for (int b = 0; b < 8 && x + b < width; b++) {
                int lo = p[b >> 2], hi = p[2 + (b >> 2)];
                int sh = 6 - 2 * (b & 3);
                unsigned c = ((lo >> sh) & 3) | ((hi >> sh) & 3) << 2;
                px[x + b] = s->pal16[c & pmask];
            }
        }
        return;
    case FMT_256:
        for (int x = 0; x < width; x++) {
            px[x] = s->pal256[v[(a + x) & m]];
        }
        return;
    case FMT_RGB15:
    case FMT_RGB16:
        for (int x = 0; x < width; x++, a += 2) {
            unsigned w = v[a & m] | v[(a + 1) & m] << 8;
            unsigned r, g, b;
            if (fmt == FMT_RGB15) {
                r = (w >> 10) & 31;
                g = ((w >> 5) & 31) << 1 | ((w >> 9) & 1);
                b = w & 31;
            } else {
                r = w >> 11;
                g = (w >> 5) & 63;
                b = w & 31;
            }
            px[x] = (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 |
                    (b << 3 | b >> 2);
        }
        return;
    case FMT_RGB24:
        for (int x = 0; x < width; x++, a += 3) {
            px[x] = v[(a + 2) & m] << 16 | v[(a + 1) & m] << 8 | v[a & m];
        }
        return;
    default:
        if ((a & m) + (uint32_t)width * 4 <= wrap) {
            const uint8_t *p = v + (a & m);
            for (int x = 0; x < width; x++, p += 4) {
                px[x] = p[2] << 16 | p[1] << 8 | p[0];
            }
        }
        return;
    }
}

/*
 * Draw `height` lines of `width` pixels; line y starts at VRAM byte
 * s->line_addr[y] (modulo wrap).  Only lines whose VRAM bytes differ from
 * the shadow are drawn, unless a full redraw is due.
 */
static void render_lines(Vga *s, int fmt, int width, int height,
                         const uint32_t *line_addr, uint32_t wrap)
{
    DisplaySurface *surf = surface_for(s, width, height);
    uint32_t len = fmt_bytes(fmt, width);
    uint8_t *dirty = s->line_dirty;
    for (int y = 0; y < height; y++) {
        dirty[y] = s->full_redraw ||
                   range_changed(s, line_addr[y], len, wrap);
    }
    int stride = surf->stride / 4;
    int run = -1;
    for (int y = 0; y <= height; y++) {
        if (y < height && dirty[y]) {
            draw_line(s, fmt, line_addr[y], wrap,
                      surf->data + (size_t)y * stride, width);
            if (run < 0) {
                run = y;
            }
            continue;
        }
        if (run >= 0) {
            display_mark_dirty(s->display, 0, run, width, y - run);
            run = -1;
        }
    }
    for (int y = 0; y < height; y++) {
        if (dirty[y]) {
            range_commit(s, line_addr[y], len, wrap);
        }
    }
}

static void render_vbe(Vga *s)
{
    uint16_t *r = s->vbe_regs;
    int width = r[VBE_DISPI_INDEX_XRES], height = r[VBE_DISPI_INDEX_YRES];
    int fmt;
    switch (r[VBE_DISPI_INDEX_BPP]) {
    case 4:
        fmt = FMT_PLANAR;
        break;
    case 8:
        fmt = FMT_256;
        break;
    case 15:
        fmt = FMT_RGB15;
        break;
    case 16:
        fmt = FMT_RGB16;
        break;
    case 24:
        fmt = FMT_RGB24;
        break;
    default:
        fmt = FMT_RGB32;
        break;
    }
    uint32_t *addr = g_new(uint32_t, height);
    for (int y = 0; y < height; y++) {
        addr[y] = s->vbe_start + (uint32_t)y * s->vbe_line;
    }
    render_lines(s, fmt, width, height, addr, s->vram_size);
    g_free(addr);
}

static void render_graphics(Vga *s)
{
    int shift = (s->gc[5] >> 5) & 3;
    int dots = (s->crtc[1] + 1) * 8;
    int vdisp = vga_vdisp(s);
    bool dbl = s->crtc[9] >> 7;
    int per_row = shift == 1 ? 1 + dbl : ((s->crtc[9] & 0x1f) + 1) << dbl;
    int fmt = shift == 0 ? FMT_PLANAR : shift == 1 ? FMT_CGA : FMT_256;
    int width = fmt == FMT_256 ? dots / 2 : dots;
    int height = MIN(MAX(vdisp / per_row, 1), MAX_LINES);
    uint32_t start = (s->crtc[0x0d] | (s->crtc[0x0c] << 8)) << 2;
    uint32_t line_offset = s->crtc[0x13] << 3;
    uint8_t mode = s->crtc[0x17];
    int line_compare = s->crtc[0x18] | ((s->crtc[7] & 0x10) << 4) |
                       ((s->crtc[9] & 0x40) << 3);
    unsigned mask = (mode & 3) ^ 3;
    uint32_t *addr = g_new(uint32_t, height);
    uint32_t a1 = start;
    for (int y = 0; y < height; y++) {
        uint32_t a = a1;
        if (!(mode & 1)) {
            /* CGA: row bit 0 replaces address bit 13 (of the CPU byte
               address; bit 14 or 15 of VRAM) */
            int sh = 14 + ((mode >> 6) & 1);
            a = (a & ~(1u << sh)) | ((uint32_t)(y & 1) << sh);
        }
        if (!(mode & 2)) {
            a = (a & ~0x8000u) | ((uint32_t)(y & 2) << 14);
        }
        addr[y] = a & VGA_MASK;
        if ((y & mask) == mask) {
            a1 += line_offset;
        }
        /* Line compare (split screen): after that scan line the picture
           continues from address 0. */
        if (line_compare >= y * per_row && line_compare < (y + 1) * per_row) {
            a1 = 0;
        }
    }
    render_lines(s, fmt, width, height, addr, VGA_MASK + 1);
    g_free(addr);
}

void vga_update_display(Vga *s)
{
    if (!s->display) {
        return;
    }
    int64_t now = clock_now(s->dev.bus->clock);
    VgaDispKey k;
    disp_key(s, &k, now);
    if (memcmp(&k, &s->last_key, sizeof(k))) {
        /* Only the cursor phase changed: text mode redraws the cursor
           cells by their cell keys. */
        VgaDispKey a = k, b = s->last_key;
        a.cursor_phase = b.cursor_phase = 0;
        a.blink_phase = b.blink_phase = 0;
        if (memcmp(&a, &b, sizeof(a))) {
            s->full_redraw = true;
        }
        s->last_key = k;
    }
    if (update_palettes(s)) {
        s->full_redraw = true;
    }
    if (!(s->ar_index & 0x20) || (s->seq[1] & 0x20)) {
        render_blank(s);
    } else if (vbe_enabled(s)) {
        render_vbe(s);
    } else if (!(s->gc[6] & 1)) {
        render_text(s, &k);
    } else {
        render_graphics(s);
    }
    s->full_redraw = false;
    display_flush(s->display);
}

static void refresh_cb(void *opaque)
{
    Vga *s = opaque;
    vga_update_display(s);
    timer_mod(s->refresh, clock_now(s->dev.bus->clock) + REFRESH_NS);
}

static void refresh_hook(void *opaque)
{
    vga_update_display(opaque);
}

/* ---- device --------------------------------------------------------- */

static const IoRegion vga_io_table[] = {
    { .base = 0x3c0, .len = 0x20, .min = 1, .max = 2, .read = vga_io_read,
      .write = vga_io_write, .name = "vga" },
    { .base = 0x3b0, .len = 0x10, .min = 1, .max = 2, .read = vga_io_read_b,
      .write = vga_io_write_b, .name = "vga-mono" },
    /* 0x1ce index, 0x1cf data (x86), 0x1d0 data */
    { .base = 0x1ce, .len = 4, .min = 1, .max = 2, .read = vbe_io_read,
      .write = vbe_io_write, .name = "bochs-vbe" },
    { 0 },
};

static bool vga_realize(Device *dev, GError **error)
{
    Vga *s = (Vga *)dev;
    MemMap *mem = dev->bus->mem;
    s->vram_size = VGA_VRAM_SIZE;
    s->vram = g_malloc0(s->vram_size);
    s->shadow = g_malloc0(s->vram_size);
    s->cell_key = g_new0(uint32_t, TEXT_MAX_COLS * TEXT_MAX_ROWS);
    s->line_dirty = g_malloc0(MAX_LINES);
    memmap_add_mmio(mem, "vga-lowmem", 0xa0000, 0x20000, &vga_mem_ops, s, 1);
    pci_add_function(s->bus, &s->pci, 2 << 3, 0x1234, 0x1111, 0x03000002, s);
    s->vram_mr = memmap_add_ram(mem, "vga.vram", 0xe0000000ull,
                                s->vram_size, s->vram, 3);
    pci_set_bar_mem(&s->pci, 0, s->vram_mr);
    s->pci.config[PCI_BAR0] = 0x08; /* prefetchable */
    s->mmio_mr = memmap_add_mmio(mem, "vga.mmio", 0xfebf0000ull, 0x1000,
                                 &vga_mmio_ops, s, 3);
    pci_set_bar_mem(&s->pci, 2, s->mmio_mr);
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
    if (s->display) {
        display_set_refresh_hook(s->display, refresh_hook, s);
    }
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
    s->ar_index = 0;
    s->ar_flip = false;
    memset(s->vbe_regs, 0, sizeof(s->vbe_regs));
    s->vbe_regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    s->vbe_index = 0;
    s->vbe_byteorder = QEXT_LITTLE_ENDIAN;
    vbe_fixup(s);
    s->full_redraw = true;
    timer_mod(s->refresh, clock_now(dev->bus->clock) + REFRESH_NS);
}

static void vga_finalize(Device *dev)
{
    Vga *s = (Vga *)dev;
    if (s->display) {
        display_set_refresh_hook(s->display, NULL, NULL);
    }
    timer_free(s->refresh);
    g_free(s->vram);
    g_free(s->shadow);
    g_free(s->cell_key);
    g_free(s->line_dirty);
    g_free(s->rom);
}

static bool vga_post_load(void *obj, GError **error)
{
    Vga *s = obj;
    if (s->dac_sub > 2) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "vga: DAC component index %u", s->dac_sub);
        return false;
    }
    /* Every other index is masked where it is used and vbe_fixup() clamps the
       DISPI registers, so any loaded value is safe. */
    if (s->vbe_byteorder != QEXT_LITTLE_ENDIAN) {
        s->vbe_byteorder = QEXT_LITTLE_ENDIAN;
    }
    vbe_fixup(s);
    s->full_redraw = true;
    s->font_dirty = true;
    pci_update_mappings(&s->pci);
    return true;
}

static const StateDesc vga_state = {
    /* Version 3: video memory is no longer a field here; it is the
       board's RAM block "vga.vram" (its own, compressed, state section). */
    .name = "vga", .version = 3, .min_version = 3,
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
        STATE_U8(Vga, fcr), STATE_U16(Vga, vbe_index),
        STATE_U16_ARRAY(Vga, vbe_regs, VBE_DISPI_INDEX_NB),
        STATE_U32(Vga, vbe_byteorder), STATE_END },
};

const DeviceInfo vga_info = {
    .name = "vga", .size = sizeof(Vga), .io = vga_io_table,
    .state = &vga_state, .realize = vga_realize, .reset = vga_reset,
    .finalize = vga_finalize,
};
