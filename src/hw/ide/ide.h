/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IDE channel: two ATA/ATAPI devices behind one task file.
 *
 * A channel is the register interface of the legacy IDE ports (command
 * block 0x1f0-0x1f7 / 0x170-0x177, control block 0x3f6 / 0x376) with an
 * interrupt line; it holds a hard disk (ATA, PIO and DMA, LBA28/LBA48) or
 * a CD-ROM (ATAPI, the MMC commands SeaBIOS and Linux use) in each of the
 * master and slave positions.  Bus-master DMA (the PIIX function's BAR 4)
 * calls ide_dma_run() to move a DMA command's data through guest memory.
 *
 * References: ATA/ATAPI-6 (T13/1410D), sections 6 and 8 (register and
 * command descriptions); INF-8020i and MMC-2 for the packet commands.
 */
#ifndef MIMIC_HW_IDE_IDE_H
#define MIMIC_HW_IDE_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/irq.h"
#include "bus/memory.h"
#include "hw/drive.h"
#include "images/block.h"
#include "state/state.h"

#define IDE_SECTOR 512
#define ATAPI_SECTOR 2048
#define IDE_BUF_SIZE (256 * 512) /* largest PIO/DMA burst we stage */

typedef enum {
    IDE_NONE,
    IDE_HD,
    IDE_CD,
} IdeKind;

typedef enum {
    XFER_NONE,
    XFER_PIO_IN,     /* device -> host through the data port */
    XFER_PIO_OUT,    /* host -> device */
    XFER_PACKET,     /* receiving a 12-byte ATAPI packet */
    XFER_DMA_IN,     /* waiting for the bus master: device -> memory */
    XFER_DMA_OUT,    /* memory -> device */
} IdeXfer;

/* GET EVENT STATUS NOTIFICATION media event codes (MMC-2 table 5-13). */
#define ATAPI_EV_NONE 0
#define ATAPI_EV_EJECT_REQUEST 1
#define ATAPI_EV_NEW_MEDIA 2
#define ATAPI_EV_MEDIA_REMOVAL 3

typedef struct IdeDrive {
    IdeKind kind;
    BlockDev *blk;
    uint64_t nsectors; /* 512-byte sectors (HD) */
    uint16_t cyls, heads, secs;
    uint8_t mult_sectors; /* SET MULTIPLE */
    uint8_t sense_key, asc, ascq;
    bool media_changed; /* report UNIT ATTENTION once */
    uint8_t media_event; /* GESN media event to report: ATAPI_EV_* */
    bool tray_open;
    bool locked;
    bool write_cache;
    uint8_t udma_mode; /* 0xff: multiword */
    uint8_t mdma_mode;
    char serial[21];
} IdeDrive;

typedef struct IdeChannel {
    IdeDrive drive[2];
    IrqLine *irq;
    MemMap *mem;

    /* Task file (shared by both devices; HOB = previous values). */
    uint8_t feature, nsector, sector, lcyl, hcyl;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t select; /* device/head register */
    uint8_t status, error, control;
    bool irq_pending;
    bool lba48;

    /* Data transfer. */
    uint8_t xfer; /* IdeXfer */
    uint8_t cmd;
    uint32_t pos, end;   /* in buf */
    uint64_t lba;        /* next sector of a multi-block transfer */
    uint32_t remaining;  /* sectors left after the current block */
    uint32_t block;      /* sectors per DRQ block */
    /* ATAPI: bytes left to send, per-DRQ limit. */
    uint32_t packet_left, byte_limit;
    uint64_t packet_lba;      /* next CD block of a READ */
    uint32_t packet_blocks;   /* CD blocks left */
    bool packet_dma;
    uint8_t buf[IDE_BUF_SIZE];
} IdeChannel;

void ide_channel_init(IdeChannel *ch, MemMap *mem, IrqLine *irq);
/* Attach a drive; blk may be NULL for an empty CD-ROM drive. */
void ide_attach(IdeChannel *ch, int unit, IdeKind kind, BlockDev *blk,
                const char *serial);
/*
 * Put new CD media in and close the tray (blk NULL: take the medium out):
 * the guest sees UNIT ATTENTION (06/28/00) on its next media command and a
 * media event.  False when the unit is not a CD-ROM.  The caller owns the
 * old BlockDev and checks the lock (IdeDrive.locked) first if it cares.
 */
bool ide_cd_change(IdeChannel *ch, int unit, BlockDev *blk);
/*
 * Open the tray and remove the medium (the caller then closes the old
 * BlockDev).  A tray the guest locked (PREVENT ALLOW MEDIUM REMOVAL) stays
 * shut unless force: the guest gets an eject request event instead and
 * false is returned.  Also false when the unit is not a CD-ROM.
 */
bool ide_cd_eject(IdeChannel *ch, int unit, bool force);
/* A CD-ROM unit's media as the drive layer changes them (hw/drive.h);
   dev is the unit's IdeDrive. */
extern const DriveMediaOps ide_cd_media_ops;
void ide_channel_reset(IdeChannel *ch);

/* Command block (offset 0..7) and control block (offset 0 = 0x3f6). */
uint32_t ide_cmd_read(IdeChannel *ch, unsigned off, unsigned size);
void ide_cmd_write(IdeChannel *ch, unsigned off, uint32_t val,
                   unsigned size);
uint32_t ide_ctl_read(IdeChannel *ch);
void ide_ctl_write(IdeChannel *ch, uint32_t val);

/*
 * Bus master: is a DMA transfer waiting, and in which direction?  Runs the
 * whole transfer through the PRD table at prd_addr; returns true when the
 * device finished (the caller sets the BM interrupt bit), false on a PRD
 * table too short for the data (BM error/underrun semantics).
 */
bool ide_dma_pending(const IdeChannel *ch, bool *to_memory);
bool ide_dma_run(IdeChannel *ch, uint32_t prd_addr);

extern const StateField ide_channel_fields[];

#endif
