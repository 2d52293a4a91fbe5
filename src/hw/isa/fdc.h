/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 82078 floppy disk controller (NEC uPD765 command set) as wired in
 * the PC/AT: ports 0x3f0-0x3f5 and 0x3f7, IRQ 6, ISA DMA channel 2, two
 * drives whose media are BlockDevs with 512-byte sectors.  The medium's
 * geometry (360K, 720K, 1.2M, 1.44M, 1.68M, 1.72M, 2.88M) comes from the
 * image size; the drive type (what CMOS register 0x10 reports) from the
 * medium present when the drive is attached.
 */
#ifndef MIMIC_HW_ISA_FDC_H
#define MIMIC_HW_ISA_FDC_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/device.h"
#include "hw/isa/i8237.h"
#include "hw/drive.h"
#include "images/block.h"

#define FDC_UNITS 4  /* drive selects the command set can name */
#define FDC_DRIVES 2 /* drives that can be attached (A: and B:) */
#define FDC_SECTOR 512

typedef enum {
    FDC_DRIVE_NONE = 0,
    FDC_DRIVE_120, /* 5.25" 1.2 MB (CMOS type 2) */
    FDC_DRIVE_144, /* 3.5" 1.44 MB (CMOS type 4) */
    FDC_DRIVE_288, /* 3.5" 2.88 MB (CMOS type 5) */
} FdcDriveType;

typedef struct FdcDrive {
    /* saved */
    uint8_t track;       /* present cylinder number (PCN) */
    uint8_t sect;        /* sector passing under the head (READ ID) */
    bool media_changed;  /* DSKCHG: set on insertion, cleared by a step */
    /* wiring and medium, not saved (they come from the configuration) */
    bool present;
    FdcDriveType type;
    BlockDev *blk;
    bool ro;
    uint8_t tracks, heads, spt, rate;
} FdcDrive;

typedef struct Fdc {
    Device dev;
    uint8_t dor, dsr, tdr;
    uint8_t phase;                /* FDC_PHASE_* */
    uint8_t cmd[16], cmd_len, cmd_pos;
    uint8_t res[16], res_len, res_pos;
    bool int_pending;             /* the INT output (before the DOR gate) */
    bool res_int;                 /* reading the result clears INT */
    uint8_t reset_sensei;         /* SENSE INTERRUPTs owed after a reset */
    uint8_t seek_pending;         /* units with a seek status to report */
    uint8_t seek_st0[FDC_UNITS];
    uint8_t specify[2];
    uint8_t config, pretrk, perp, last_eot;
    bool lock;
    /* execution phase of a non-DMA transfer */
    uint8_t xfer;                 /* FDC_XFER_* */
    uint8_t x_unit, x_head, x_c, x_h, x_r, x_n, x_eot, x_fill, x_left;
    bool x_mt;
    uint16_t data_pos;
    uint8_t data[FDC_SECTOR];
    FdcDrive drive[FDC_UNITS];
    /* wiring */
    IrqLine *irq;
    I8237 *dma;
    int dma_channel;
    IoRegion io[2];
    bool irq_level;
} Fdc;

extern const DeviceInfo fdc_info;

/*
 * Connect drive `unit` (0 or 1) before realize, with the medium `blk` or
 * none (an empty 1.44 MB drive).  The controller does not own blk.  Fails
 * when the image is larger than any floppy format.
 */
bool fdc_attach(Fdc *fdc, int unit, BlockDev *blk, GError **error);
/* Insert (blk) or eject (NULL) the medium of a connected drive. */
bool fdc_change_media(Fdc *fdc, int unit, BlockDev *blk, GError **error);
/* A floppy drive's media as the drive layer changes them (hw/drive.h);
   dev is &fdc->drive[unit] of an attached drive. */
extern const DriveMediaOps fdc_media_ops;
/* The CMOS register 0x10 nibble of a drive: 0 none, 2, 4 or 5. */
uint8_t fdc_cmos_type(Fdc *fdc, int unit);

#endif
