/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between ide.c (ATA) and atapi.c (packet commands). */
#ifndef MIMIC_HW_IDE_IDE_INTERNAL_H
#define MIMIC_HW_IDE_IDE_INTERNAL_H

#include "hw/ide/ide.h"

#define IDE_ST_BSY 0x80
#define IDE_ST_DRDY 0x40
#define IDE_ST_DF 0x20
#define IDE_ST_DSC 0x10
#define IDE_ST_DRQ 0x08
#define IDE_ST_ERR 0x01

#define IDE_ERR_ABRT 0x04
#define IDE_ERR_IDNF 0x10
#define IDE_ERR_UNC 0x40

#define IDE_CTL_NIEN 0x02
#define IDE_CTL_SRST 0x04
#define IDE_CTL_HOB 0x80

#define IDE_MAX_MULT 16

void ide_set_irq(IdeChannel *ch);
void ide_abort(IdeChannel *ch);
void ide_pio_in(IdeChannel *ch, uint32_t len);
bool ide_prd_walk(IdeChannel *ch, uint32_t prd_addr, uint64_t total,
                  bool (*fn)(IdeChannel *, uint64_t addr, uint32_t len,
                             void *), void *opaque);
bool ide_channel_post_load(IdeChannel *ch, GError **error);

void atapi_packet_start(IdeChannel *ch);
void atapi_packet_received(IdeChannel *ch);
void atapi_pio_in_done(IdeChannel *ch);
bool atapi_dma_run(IdeChannel *ch, uint32_t prd_addr);

#endif
