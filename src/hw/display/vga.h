/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Standard VGA as a PCI device (1234:1111, QEMU's "std" VGA identity so
 * that SeaVGABIOS's vgabios-stdvga.bin drives it): the VGA register file,
 * the 0xa0000-0xbffff window onto four planes, the Bochs VBE (DISPI)
 * extension with a linear framebuffer in BAR 0 and QEMU's MMIO BAR 2,
 * SeaVGABIOS as the PCI expansion ROM, and rendering of text, planar,
 * CGA, 256-colour and VBE modes into the engine's display.
 *
 * VRAM layout (as QEMU's): byte 4*a+p is plane p at plane address a, so
 * chain-4 (mode 13h) and unchained 256-colour modes see a linear buffer,
 * and VBE modes use VRAM linearly from offset 0.
 */
#ifndef MIMIC_HW_DISPLAY_VGA_H
#define MIMIC_HW_DISPLAY_VGA_H

#include "bus/display.h"
#include "bus/device.h"
#include "hw/pci/pci.h"

#define VGA_VRAM_SIZE (16u << 20)

/* Bochs VBE (DISPI) registers, ports 0x1ce (index) / 0x1cf, 0x1d0 (data). */
#define VBE_DISPI_INDEX_ID 0x0
#define VBE_DISPI_INDEX_XRES 0x1
#define VBE_DISPI_INDEX_YRES 0x2
#define VBE_DISPI_INDEX_BPP 0x3
#define VBE_DISPI_INDEX_ENABLE 0x4
#define VBE_DISPI_INDEX_BANK 0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH 0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT 0x7
#define VBE_DISPI_INDEX_X_OFFSET 0x8
#define VBE_DISPI_INDEX_Y_OFFSET 0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xa
#define VBE_DISPI_INDEX_NB 0xa /* stored registers */
#define VBE_DISPI_ID0 0xb0c0
#define VBE_DISPI_ID5 0xb0c5
#define VBE_DISPI_ENABLED 0x01
#define VBE_DISPI_GETCAPS 0x02
#define VBE_DISPI_8BIT_DAC 0x20
#define VBE_DISPI_LFB_ENABLED 0x40
#define VBE_DISPI_NOCLEARMEM 0x80
/* What GETCAPS reports; 2560x1600x32 still fits the 16 MiB of VRAM. */
#define VBE_DISPI_MAX_XRES 2560
#define VBE_DISPI_MAX_YRES 1600
#define VBE_DISPI_MAX_BPP 32

/* Display-affecting registers; a change forces a full redraw. */
typedef struct VgaDispKey {
    uint8_t misc, seq1, seq3, seq4, gc5, gc6, ar_on;
    uint8_t crtc[25], ar[21];
    uint16_t vbe[VBE_DISPI_INDEX_NB];
    uint8_t blink_phase, cursor_phase;
} VgaDispKey;

typedef struct Vga {
    Device dev;
    PciFunc pci;
    PciBus *bus;
    Display *display;
    uint8_t *rom;
    size_t rom_size;
    MemRegion *rom_mr, *vram_mr, *mmio_mr;
    uint8_t *vram; /* VGA_VRAM_SIZE bytes */
    uint32_t vram_size;
    /* VGA registers */
    uint8_t misc;
    uint8_t seq_index, seq[8];
    uint8_t gc_index, gc[16];
    uint8_t crtc_index, crtc[32];
    uint8_t ar_index, ar[32];
    bool ar_flip;
    uint8_t dac_read, dac_write, dac_sub;
    uint8_t dac_state;
    uint8_t palette[768];
    uint8_t latch[4];
    uint8_t fcr;
    /* Bochs VBE */
    uint16_t vbe_index;
    uint16_t vbe_regs[VBE_DISPI_INDEX_NB];
    uint32_t vbe_byteorder; /* QEMU extended register at MMIO 0x604 */
    /* derived from vbe_regs by vbe_fixup() (not saved) */
    uint32_t vbe_start, vbe_line, vbe_bank_offset;
    /* rendering cache (not saved: post_load forces a full redraw) */
    uint8_t *shadow;        /* VRAM bytes as last rendered */
    uint32_t *cell_key;     /* text mode: what each cell shows */
    uint8_t *line_dirty;    /* scratch: one byte per output line */
    uint32_t pal16[16], pal256[256];
    VgaDispKey last_key;
    bool font_dirty;
    bool full_redraw;
    struct Timer *refresh;
} Vga;

extern const DeviceInfo vga_info;

/* Render the current frame into the display's back surface and flush
   (the refresh timer calls this; tests call it directly). */
void vga_update_display(Vga *s);

#endif
