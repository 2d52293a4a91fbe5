/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Standard VGA as a PCI device (1234:1111, QEMU's "std" VGA identity so
 * that SeaVGABIOS's vgabios-stdvga.bin drives it): the VGA register file,
 * four 64 KiB planes behind the 0xa0000-0xbffff window, SeaVGABIOS as the
 * PCI expansion ROM, and text-mode rendering into the engine's display.
 */
#ifndef MIMIC_HW_DISPLAY_VGA_H
#define MIMIC_HW_DISPLAY_VGA_H

#include "engine/display.h"
#include "hw/device.h"
#include "hw/pci/pci.h"

#define VGA_PLANE_SIZE 0x10000
#define VGA_VRAM_SIZE (16 << 20)

typedef struct Vga {
    Device dev;
    PciFunc pci;
    PciBus *bus;
    Display *display;
    uint8_t *rom;
    size_t rom_size;
    MemRegion *rom_mr, *vram_mr;
    uint8_t *vram; /* planes live at the start of VRAM */
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
    /* rendering cache */
    uint8_t shadow[80 * 50 * 2];
    uint16_t last_cursor;
    bool blink_on;
    bool full_redraw;
    struct Timer *refresh;
} Vga;

extern const DeviceInfo vga_info;

#endif
