/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two cascaded Intel 8237A DMA controllers with the PC's page registers:
 * channels 0-3 move bytes, 4-7 move 16-bit words (channel 4 cascades).
 * ISA devices (the floppy controller, Sound Blaster) call
 * i8237_transfer() to move data between a buffer and guest memory.
 */
#ifndef MIMIC_HW_ISA_I8237_H
#define MIMIC_HW_ISA_I8237_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/device.h"

typedef struct DmaChannel {
    uint16_t base_addr, base_count;
    uint16_t cur_addr, cur_count;
    uint8_t mode;
    uint8_t page, hpage;
} DmaChannel;

typedef struct DmaController {
    DmaChannel ch[4];
    uint8_t command, status, mask, request;
    bool flipflop;
} DmaController;

typedef struct I8237 {
    Device dev;
    DmaController c[2];
} I8237;

extern const DeviceInfo i8237_info;

/* Is the channel unmasked (a device may request a transfer)? */
bool i8237_channel_ready(I8237 *dma, int channel);
/*
 * Move up to len bytes between buf and guest memory for `channel`.
 * to_memory: a device-to-memory transfer (the channel's mode must be a
 * write transfer, else nothing moves).  Returns bytes moved; sets the
 * terminal-count status when the count runs out (auto-init reloads).
 */
int i8237_transfer(I8237 *dma, int channel, uint8_t *buf, int len,
                   bool to_memory);
/* Bytes the channel can still move before terminal count. */
int i8237_remaining(I8237 *dma, int channel);

#endif
