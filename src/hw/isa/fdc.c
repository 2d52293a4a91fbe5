/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 82078 floppy disk controller in PC/AT mode (see fdc.h).
 * References: Intel 82078 44-pin CHMOS single-chip floppy disk controller
 * data sheet (register set, "Command Set Summary", "Status Register
 * Encoding", result phase table for READ/WRITE DATA), NEC uPD765A data
 * sheet (the command set it inherits), IBM PC/AT technical reference (DOR
 * bit 3 gates the INT and DRQ lines).
 *
 * Commands execute as soon as their last byte arrives: a DMA transfer runs
 * at once through the 8237 (the guest programs the channel first, as the
 * data sheet asks; a channel that is not ready is an overrun, as on the
 * hardware), a non-DMA transfer runs byte by byte through the data port.
 * READ and WRITE always seek to the cylinder they name (SeaBIOS relies on
 * that implied seek).  Media have 512-byte MFM sectors; a command for
 * another size, FM recording or another data rate finds no sector.
 */
#include "hw/isa/fdc.h"

#include <string.h>

#include "bus/log.h"
#include "hw/board.h"

/* Register offsets from 0x3f0. */
#define REG_SRA 0
#define REG_SRB 1
#define REG_DOR 2
#define REG_TDR 3
#define REG_MSR 4 /* read; DSR on write */
#define REG_FIFO 5
#define REG_DIR 7 /* read; CCR on write */

#define DOR_SEL 0x03
#define DOR_NRESET 0x04
#define DOR_DMAGATE 0x08 /* PC/AT: enables INT and DRQ */

#define DSR_SWRESET 0x80
#define DSR_RATE 0x03

#define MSR_CB 0x10
#define MSR_NDMA 0x20
#define MSR_DIO 0x40
#define MSR_RQM 0x80

#define DIR_DSKCHG 0x80

#define ST0_EC 0x10
#define ST0_SE 0x20
#define ST0_ABN 0x40
#define ST0_INVALID 0x80
#define ST0_READY_CHANGE 0xc0

#define ST1_MA 0x01 /* missing address mark */
#define ST1_NW 0x02 /* not writable */
#define ST1_ND 0x04 /* no data (sector not found) */
#define ST1_OR 0x10 /* overrun/underrun */
#define ST1_DE 0x20 /* data error */
#define ST1_EN 0x80 /* end of cylinder */

#define ST2_DD 0x20

#define ST3_HD 0x04
#define ST3_TS 0x08
#define ST3_T0 0x10
#define ST3_RDY 0x20
#define ST3_WP 0x40

#define CMD_MT 0x80
#define CMD_MFM 0x40

#define RATE_500K 0
#define RATE_300K 1
#define RATE_250K 2
#define RATE_1M 3

#define FDC_VERSION 0x90 /* 82077AA and later */
#define FDC_PART_ID 0x41
#define CONFIG_DEFAULT 0x60 /* implied seeks (always done), FIFO off */
#define SECTOR_CODE 2       /* N for 512-byte sectors */

enum { FDC_PHASE_CMD, FDC_PHASE_EXEC, FDC_PHASE_RESULT };
enum { FDC_XFER_NONE, FDC_XFER_READ, FDC_XFER_WRITE, FDC_XFER_FORMAT };

typedef struct FdcFormat {
    uint8_t tracks, heads, spt, rate;
    FdcDriveType drive;
    const char *name;
} FdcFormat;

/* Smallest first: an odd size gets the first 3.5" format it fits in. */
static const FdcFormat formats[] = {
    { 40, 2, 9, RATE_300K, FDC_DRIVE_120, "360 KB" },
    { 80, 2, 9, RATE_250K, FDC_DRIVE_144, "720 KB" },
    { 80, 2, 15, RATE_500K, FDC_DRIVE_120, "1.2 MB" },
    { 80, 2, 18, RATE_500K, FDC_DRIVE_144, "1.44 MB" },
    { 80, 2, 21, RATE_500K, FDC_DRIVE_144, "1.68 MB" },
    { 82, 2, 21, RATE_500K, FDC_DRIVE_144, "1.72 MB" },
    { 80, 2, 36, RATE_1M, FDC_DRIVE_288, "2.88 MB" },
};

static uint64_t format_bytes(const FdcFormat *f)
{
    return (uint64_t)f->tracks * f->heads * f->spt * FDC_SECTOR;
}

static const FdcFormat *pick_format(uint64_t size, bool *exact)
{
    for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
        if (format_bytes(&formats[i]) == size) {
            *exact = true;
            return &formats[i];
        }
    }
    *exact = false;
    for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
        if (formats[i].drive != FDC_DRIVE_120 &&
            format_bytes(&formats[i]) >= size) {
            return &formats[i];
        }
    }
    return NULL;
}

static FdcDrive *unit_drive(Fdc *f, unsigned unit)
{
    FdcDrive *d = &f->drive[unit & 3];
    return d->present ? d : NULL;
}

static void update_irq(Fdc *f)
{
    bool level = f->int_pending && (f->dor & DOR_NRESET) &&
                 (f->dor & DOR_DMAGATE);
    if (level != f->irq_level) {
        f->irq_level = level;
        irq_set(f->irq, level);
    }
}

static void raise_int(Fdc *f)
{
    f->int_pending = true;
    f->reset_sensei = 0; /* a new event replaces the reset statuses */
    update_irq(f);
}

static void lower_int(Fdc *f)
{
    f->int_pending = false;
    update_irq(f);
}

static void to_command_phase(Fdc *f)
{
    f->phase = FDC_PHASE_CMD;
    f->cmd_pos = 0;
    f->cmd_len = 0;
    f->xfer = FDC_XFER_NONE;
    f->data_pos = 0;
}

static void to_result_phase(Fdc *f, int len, bool with_int)
{
    f->phase = FDC_PHASE_RESULT;
    f->res_len = len;
    f->res_pos = 0;
    f->xfer = FDC_XFER_NONE;
    f->data_pos = 0;
    f->res_int = with_int;
    if (with_int) {
        raise_int(f);
    }
}

static void invalid_command(Fdc *f)
{
    f->res[0] = ST0_INVALID;
    to_result_phase(f, 1, false);
}

/* Step the head; a step with a medium in clears the disk-change line. */
static void drive_seek(FdcDrive *d, uint8_t track)
{
    if (d->track != track && d->blk) {
        d->media_changed = false;
    }
    d->track = track;
}

static void soft_reset(Fdc *f)
{
    to_command_phase(f);
    f->res_len = f->res_pos = 0;
    f->res_int = false;
    f->seek_pending = 0;
    f->data_pos = 0;
    for (int i = 0; i < FDC_UNITS; i++) {
        f->drive[i].track = 0;
    }
    if (!f->lock) {
        f->config = CONFIG_DEFAULT;
        f->pretrk = 0;
    }
    f->perp &= 0x3c; /* GAP and WGATE clear, the drive bits stay */
    f->int_pending = false;
}

/* Leaving reset: the controller polls the drives and reports a ready
   change for each of the four units. */
static void reset_done(Fdc *f)
{
    soft_reset(f);
    raise_int(f);
    f->reset_sensei = 4;
}

/* ---- media ---------------------------------------------------------- */

static bool read_sector(FdcDrive *d, uint32_t lba, uint8_t *buf)
{
    uint64_t off = (uint64_t)lba * FDC_SECTOR;
    int64_t size = blk_get_size(d->blk);
    memset(buf, 0, FDC_SECTOR);
    if (size < 0) {
        return false;
    }
    if (off >= (uint64_t)size) {
        return true; /* a short image reads as zeros past its end */
    }
    size_t len = MIN((uint64_t)FDC_SECTOR, (uint64_t)size - off);
    return blk_pread(d->blk, off, buf, len, NULL);
}

static bool write_sector(FdcDrive *d, uint32_t lba, const uint8_t *buf)
{
    return blk_pwrite(d->blk, (uint64_t)lba * FDC_SECTOR, buf, FDC_SECTOR,
                      NULL);
}

/*
 * Can the drive read or write at all: a medium, MFM recording at the
 * medium's data rate, a head the medium has, a track it has?  Returns the
 * ST1 bits of the failure, 0 when it can.
 */
static uint8_t medium_check(Fdc *f, FdcDrive *d, uint8_t head)
{
    if (!d || !d->blk || !(f->cmd[0] & CMD_MFM) ||
        (f->dsr & DSR_RATE) != d->rate || head >= d->heads ||
        d->track >= d->tracks) {
        return ST1_MA;
    }
    return 0;
}

/* The current sector's LBA, or ST1 bits when its ID is not on the track. */
static uint8_t sector_find(Fdc *f, FdcDrive *d, uint32_t *lba)
{
    if (f->x_c != d->track || f->x_h != f->x_head ||
        f->x_n != SECTOR_CODE || f->x_r < 1 || f->x_r > d->spt) {
        return ST1_ND;
    }
    *lba = ((uint32_t)d->track * d->heads + f->x_head) * d->spt + f->x_r - 1;
    return 0;
}

/*
 * After a sector: move the ID to the next one as the controller does.
 * Returns false when the sector was the last of the command (EOT on the
 * last side).
 */
static bool next_sector(Fdc *f, FdcDrive *d)
{
    if (f->x_r != f->x_eot) {
        f->x_r++;
        return true;
    }
    f->x_r = 1;
    if (f->x_mt && f->x_head == 0 && d->heads > 1) {
        f->x_head = 1;
        f->x_h ^= 1;
        return true;
    }
    if (f->x_mt) {
        f->x_h ^= 1;
    }
    f->x_c++;
    return false;
}

static void finish(Fdc *f, uint8_t st0, uint8_t st1, uint8_t st2)
{
    f->res[0] = st0 | (f->x_head << 2) | f->x_unit;
    f->res[1] = st1;
    f->res[2] = st2;
    f->res[3] = f->x_c;
    f->res[4] = f->x_h;
    f->res[5] = f->x_r;
    f->res[6] = f->x_n;
    to_result_phase(f, 7, true);
}

static bool dma_ready(Fdc *f)
{
    return f->dma && (f->dor & DOR_DMAGATE) &&
           i8237_channel_ready(f->dma, f->dma_channel);
}

static bool non_dma(Fdc *f)
{
    return f->specify[1] & 1;
}

/* ---- READ DATA / WRITE DATA ----------------------------------------- */

static void rw_dma(Fdc *f, FdcDrive *d, bool write)
{
    /* Bounded: R grows by one per sector until it passes EOT or the
       track's last sector, on at most two sides. */
    for (;;) {
        uint32_t lba;
        uint8_t st1 = sector_find(f, d, &lba);
        if (st1) {
            finish(f, ST0_ABN, st1, 0);
            return;
        }
        if (!dma_ready(f)) {
            finish(f, ST0_ABN, ST1_OR, 0);
            return;
        }
        /* Terminal count in this sector ends the command after it (the
           rest of a sector written is zero-filled). */
        int rem = i8237_remaining(f->dma, f->dma_channel);
        bool tc = rem <= FDC_SECTOR;
        int want = tc ? rem : FDC_SECTOR;
        int moved;
        if (write) {
            memset(f->data, 0, FDC_SECTOR);
            moved = i8237_transfer(f->dma, f->dma_channel, f->data, want,
                                   false);
            if (moved < want) {
                finish(f, ST0_ABN, ST1_OR, 0);
                return;
            }
            if (!write_sector(d, lba, f->data)) {
                finish(f, ST0_ABN, ST1_DE, 0);
                return;
            }
        } else {
            if (!read_sector(d, lba, f->data)) {
                finish(f, ST0_ABN, ST1_DE, ST2_DD);
                return;
            }
            moved = i8237_transfer(f->dma, f->dma_channel, f->data, want,
                                   true);
            if (moved < want) {
                finish(f, ST0_ABN, ST1_OR, 0);
                return;
            }
        }
        bool more = next_sector(f, d);
        if (tc) {
            finish(f, 0, 0, 0);
            return;
        }
        if (!more) {
            /* EOT without terminal count. */
            finish(f, ST0_ABN, ST1_EN, 0);
            return;
        }
    }
}

/* Non-DMA: load the sector the data port reads next, or finish. */
static void pio_load(Fdc *f, FdcDrive *d)
{
    uint32_t lba;
    uint8_t st1 = sector_find(f, d, &lba);
    if (st1) {
        finish(f, ST0_ABN, st1, 0);
    } else if (!read_sector(d, lba, f->data)) {
        finish(f, ST0_ABN, ST1_DE, ST2_DD);
    }
    f->data_pos = 0;
}

static void start_pio(Fdc *f)
{
    f->phase = FDC_PHASE_EXEC;
    f->data_pos = 0;
    raise_int(f);
}

static void cmd_rw(Fdc *f, bool write)
{
    f->x_unit = f->cmd[1] & 3;
    f->x_head = (f->cmd[1] >> 2) & 1;
    f->x_c = f->cmd[2];
    f->x_h = f->cmd[3];
    f->x_r = f->cmd[4];
    f->x_n = f->cmd[5];
    f->x_eot = f->cmd[6];
    f->x_mt = f->cmd[0] & CMD_MT;
    f->last_eot = f->x_eot;
    FdcDrive *d = unit_drive(f, f->x_unit);
    if (d) {
        drive_seek(d, f->x_c); /* implied seek */
    }
    uint8_t st1 = medium_check(f, d, f->x_head);
    if (st1) {
        finish(f, ST0_ABN, st1, 0);
        return;
    }
    if (write && d->ro) {
        finish(f, ST0_ABN, ST1_NW, 0);
        return;
    }
    if (!non_dma(f)) {
        rw_dma(f, d, write);
        return;
    }
    uint32_t lba;
    st1 = sector_find(f, d, &lba);
    if (st1) {
        finish(f, ST0_ABN, st1, 0);
        return;
    }
    f->xfer = write ? FDC_XFER_WRITE : FDC_XFER_READ;
    if (!write && !read_sector(d, lba, f->data)) {
        finish(f, ST0_ABN, ST1_DE, ST2_DD);
        return;
    }
    start_pio(f);
}

static void cmd_read(Fdc *f)
{
    cmd_rw(f, false);
}

static void cmd_write(Fdc *f)
{
    cmd_rw(f, true);
}

/* ---- FORMAT TRACK --------------------------------------------------- */

/* Store one sector ID (C, H, R, N) written by FORMAT TRACK. */
static bool format_sector(Fdc *f, FdcDrive *d, const uint8_t id[4])
{
    f->x_c = id[0];
    f->x_h = id[1];
    f->x_r = id[2];
    f->x_n = id[3];
    if (id[3] != SECTOR_CODE || id[2] < 1 || id[2] > d->spt) {
        mimic_log_unimp("fdc: FORMAT TRACK sector ID R=%u N=%u does not fit "
                        "the image's %u sectors of 512 bytes", id[2], id[3],
                        d->spt);
        return true;
    }
    uint32_t lba = ((uint32_t)d->track * d->heads + f->x_head) * d->spt +
                   id[2] - 1;
    uint8_t buf[FDC_SECTOR];
    memset(buf, f->x_fill, sizeof(buf));
    return write_sector(d, lba, buf);
}

static void cmd_format(Fdc *f)
{
    f->x_unit = f->cmd[1] & 3;
    f->x_head = (f->cmd[1] >> 2) & 1;
    f->x_n = f->cmd[2];
    f->x_left = f->cmd[3];
    f->x_fill = f->cmd[5];
    FdcDrive *d = unit_drive(f, f->x_unit);
    f->x_c = d ? d->track : 0;
    f->x_h = f->x_head;
    f->x_r = 1;
    uint8_t st1 = medium_check(f, d, f->x_head);
    if (st1) {
        finish(f, ST0_ABN, st1, 0);
        return;
    }
    if (d->ro) {
        finish(f, ST0_ABN, ST1_NW, 0);
        return;
    }
    if (f->x_left != d->spt) {
        mimic_log_unimp("fdc: FORMAT TRACK with %u sectors on a medium of "
                        "%u sectors per track", f->x_left, d->spt);
    }
    if (non_dma(f)) {
        f->xfer = FDC_XFER_FORMAT;
        if (!f->x_left) {
            finish(f, 0, 0, 0);
            return;
        }
        start_pio(f);
        return;
    }
    while (f->x_left) {
        if (!dma_ready(f)) {
            finish(f, ST0_ABN, ST1_OR, 0);
            return;
        }
        uint8_t id[4];
        bool tc = i8237_remaining(f->dma, f->dma_channel) <= 4;
        int moved = i8237_transfer(f->dma, f->dma_channel, id, 4, false);
        if (moved < 4) {
            /* Terminal count inside an ID ends the format. */
            finish(f, tc ? 0 : ST0_ABN, tc ? 0 : ST1_OR, 0);
            return;
        }
        if (!format_sector(f, d, id)) {
            finish(f, ST0_ABN, ST1_DE, 0);
            return;
        }
        f->x_left--;
        if (tc) {
            break;
        }
    }
    finish(f, 0, 0, 0);
}

/* ---- the other commands --------------------------------------------- */

static void cmd_read_id(Fdc *f)
{
    f->x_unit = f->cmd[1] & 3;
    f->x_head = (f->cmd[1] >> 2) & 1;
    FdcDrive *d = unit_drive(f, f->x_unit);
    f->x_c = d ? d->track : 0;
    f->x_h = f->x_head;
    f->x_r = 1;
    f->x_n = SECTOR_CODE;
    uint8_t st1 = medium_check(f, d, f->x_head);
    if (st1) {
        finish(f, ST0_ABN, st1, 0);
        return;
    }
    /* The disk turns: successive READ IDs see successive sectors. */
    d->sect = d->sect % d->spt + 1;
    f->x_r = d->sect;
    finish(f, 0, 0, 0);
}

static void cmd_specify(Fdc *f)
{
    f->specify[0] = f->cmd[1];
    f->specify[1] = f->cmd[2];
    to_command_phase(f);
}

static void cmd_sense_drive(Fdc *f)
{
    unsigned unit = f->cmd[1] & 3;
    uint8_t head = (f->cmd[1] >> 2) & 1;
    FdcDrive *d = unit_drive(f, unit);
    uint8_t st3 = unit | (head ? ST3_HD : 0);
    if (d) {
        st3 |= ST3_RDY | ST3_TS;
        if (d->track == 0) {
            st3 |= ST3_T0;
        }
        if (!d->blk || d->ro) {
            st3 |= ST3_WP;
        }
    }
    f->res[0] = st3;
    to_result_phase(f, 1, false);
}

static void seek_done(Fdc *f, unsigned unit, uint8_t st0)
{
    f->seek_st0[unit] = st0 | unit;
    f->seek_pending |= 1 << unit;
    to_command_phase(f);
    raise_int(f);
}

static void cmd_recalibrate(Fdc *f)
{
    unsigned unit = f->cmd[1] & 3;
    FdcDrive *d = unit_drive(f, unit);
    if (!d) {
        /* No track 0 signal after the step pulses: equipment check. */
        f->drive[unit].track = 0;
        seek_done(f, unit, ST0_SE | ST0_ABN | ST0_EC);
        return;
    }
    drive_seek(d, 0);
    seek_done(f, unit, ST0_SE);
}

/* Seek statuses carry no head bit (Linux checks ST0 & 0xf8 == 0x20). */
static void cmd_seek(Fdc *f)
{
    unsigned unit = f->cmd[1] & 3;
    FdcDrive *d = unit_drive(f, unit);
    if (d) {
        drive_seek(d, f->cmd[2]);
    } else {
        f->drive[unit].track = f->cmd[2];
    }
    seek_done(f, unit, ST0_SE);
}

static void cmd_relative_seek(Fdc *f)
{
    unsigned unit = f->cmd[1] & 3;
    FdcDrive *d = &f->drive[unit];
    int t = d->track;
    t = (f->cmd[0] & 0x40) ? MIN(t + f->cmd[2], 255) : MAX(t - f->cmd[2], 0);
    if (d->present) {
        drive_seek(d, t);
    } else {
        d->track = t;
    }
    seek_done(f, unit, ST0_SE);
}

static void cmd_sense_int(Fdc *f)
{
    lower_int(f);
    if (f->reset_sensei) {
        unsigned unit = 4 - f->reset_sensei;
        f->reset_sensei--;
        f->res[0] = ST0_READY_CHANGE | unit;
        f->res[1] = f->drive[unit].track;
        to_result_phase(f, 2, false);
        return;
    }
    for (unsigned unit = 0; unit < FDC_UNITS; unit++) {
        if (f->seek_pending & (1 << unit)) {
            f->seek_pending &= ~(1 << unit);
            f->res[0] = f->seek_st0[unit];
            f->res[1] = f->drive[unit].track;
            to_result_phase(f, 2, false);
            return;
        }
    }
    invalid_command(f);
}

static void cmd_version(Fdc *f)
{
    f->res[0] = FDC_VERSION;
    to_result_phase(f, 1, false);
}

static void cmd_part_id(Fdc *f)
{
    f->res[0] = FDC_PART_ID;
    to_result_phase(f, 1, false);
}

static void cmd_configure(Fdc *f)
{
    f->config = f->cmd[2];
    f->pretrk = f->cmd[3];
    to_command_phase(f);
}

static void cmd_dumpreg(Fdc *f)
{
    for (int i = 0; i < FDC_UNITS; i++) {
        f->res[i] = f->drive[i].track;
    }
    f->res[4] = f->specify[0];
    f->res[5] = f->specify[1];
    f->res[6] = f->last_eot;
    f->res[7] = (f->lock ? 0x80 : 0) | (f->perp & 0x3f);
    f->res[8] = f->config;
    f->res[9] = f->pretrk;
    to_result_phase(f, 10, false);
}

static void cmd_perpendicular(Fdc *f)
{
    uint8_t v = f->cmd[1];
    if (v & 0x80) {
        f->perp = v & 0x3f; /* OW: the drive bits D0-D3 too */
    } else {
        f->perp = (f->perp & 0x3c) | (v & 0x03);
    }
    to_command_phase(f);
}

static void cmd_lock(Fdc *f)
{
    f->lock = f->cmd[0] & 0x80;
    f->res[0] = f->lock ? 0x10 : 0;
    to_result_phase(f, 1, false);
}

typedef struct FdcCommand {
    uint8_t value, mask, params;
    void (*run)(Fdc *f);
} FdcCommand;

static const FdcCommand commands[] = {
    { 0x06, 0x1f, 8, cmd_read },          /* READ DATA (MT, MFM, SK) */
    { 0x05, 0x1f, 8, cmd_write },         /* WRITE DATA (MT, MFM) */
    { 0x0a, 0xbf, 1, cmd_read_id },       /* READ ID (MFM) */
    { 0x0d, 0xbf, 5, cmd_format },        /* FORMAT TRACK (MFM) */
    { 0x03, 0xff, 2, cmd_specify },
    { 0x04, 0xff, 1, cmd_sense_drive },   /* SENSE DRIVE STATUS */
    { 0x07, 0xff, 1, cmd_recalibrate },
    { 0x08, 0xff, 0, cmd_sense_int },     /* SENSE INTERRUPT STATUS */
    { 0x0f, 0xff, 2, cmd_seek },
    { 0x8f, 0xbf, 2, cmd_relative_seek }, /* RELATIVE SEEK (DIR) */
    { 0x10, 0xff, 0, cmd_version },
    { 0x13, 0xff, 3, cmd_configure },
    { 0x0e, 0xff, 0, cmd_dumpreg },
    { 0x12, 0xff, 1, cmd_perpendicular },
    { 0x14, 0x7f, 0, cmd_lock },          /* LOCK / UNLOCK */
    { 0x18, 0xff, 0, cmd_part_id },
};

static const FdcCommand *find_command(uint8_t v)
{
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if ((v & commands[i].mask) == commands[i].value) {
            return &commands[i];
        }
    }
    return NULL;
}

/* ---- the data port -------------------------------------------------- */

static uint8_t msr(Fdc *f)
{
    if (!(f->dor & DOR_NRESET)) {
        return 0;
    }
    switch (f->phase) {
    case FDC_PHASE_EXEC:
        return MSR_RQM | MSR_NDMA | MSR_CB |
               (f->xfer == FDC_XFER_READ ? MSR_DIO : 0);
    case FDC_PHASE_RESULT:
        return MSR_RQM | MSR_DIO | MSR_CB;
    default:
        return MSR_RQM | (f->cmd_pos ? MSR_CB : 0);
    }
}

static void pio_read_done(Fdc *f)
{
    FdcDrive *d = unit_drive(f, f->x_unit);
    if (!d || !d->blk) {
        finish(f, ST0_ABN, ST1_MA, 0); /* ejected under the head */
    } else if (!next_sector(f, d)) {
        finish(f, ST0_ABN, ST1_EN, 0); /* no TC without DMA */
    } else {
        pio_load(f, d);
    }
}

static void pio_write_done(Fdc *f)
{
    FdcDrive *d = unit_drive(f, f->x_unit);
    uint32_t lba;
    if (!d || !d->blk || d->ro) {
        finish(f, ST0_ABN, d && d->blk ? ST1_NW : ST1_MA, 0);
        return;
    }
    uint8_t st1 = sector_find(f, d, &lba);
    if (st1) {
        finish(f, ST0_ABN, st1, 0);
        return;
    }
    if (!write_sector(d, lba, f->data)) {
        finish(f, ST0_ABN, ST1_DE, 0);
        return;
    }
    if (!next_sector(f, d)) {
        finish(f, ST0_ABN, ST1_EN, 0);
        return;
    }
    st1 = sector_find(f, d, &lba);
    if (st1) {
        finish(f, ST0_ABN, st1, 0);
    }
    f->data_pos = 0;
}

static void pio_format_id(Fdc *f)
{
    FdcDrive *d = unit_drive(f, f->x_unit);
    if (!d || !d->blk || d->ro) {
        finish(f, ST0_ABN, d && d->blk ? ST1_NW : ST1_MA, 0);
        return;
    }
    if (!format_sector(f, d, f->data)) {
        finish(f, ST0_ABN, ST1_DE, 0);
        return;
    }
    f->data_pos = 0;
    if (--f->x_left == 0) {
        finish(f, 0, 0, 0);
    }
}

static uint8_t data_read(Fdc *f)
{
    if (!(f->dor & DOR_NRESET)) {
        return 0;
    }
    if (f->phase == FDC_PHASE_RESULT) {
        uint8_t v = f->res[f->res_pos++];
        if (f->res_int) {
            f->res_int = false;
            lower_int(f);
        }
        if (f->res_pos >= f->res_len) {
            to_command_phase(f);
        }
        return v;
    }
    if (f->phase == FDC_PHASE_EXEC && f->xfer == FDC_XFER_READ) {
        lower_int(f);
        uint8_t v = f->data[f->data_pos++];
        if (f->data_pos >= FDC_SECTOR) {
            pio_read_done(f);
        }
        return v;
    }
    mimic_log_guest("fdc: data register read with no byte to give");
    return 0;
}

static void data_write(Fdc *f, uint8_t v)
{
    if (!(f->dor & DOR_NRESET)) {
        mimic_log_guest("fdc: data register write during reset");
        return;
    }
    if (f->phase == FDC_PHASE_EXEC) {
        if (f->xfer == FDC_XFER_WRITE) {
            lower_int(f);
            f->data[f->data_pos++] = v;
            if (f->data_pos >= FDC_SECTOR) {
                pio_write_done(f);
            }
        } else if (f->xfer == FDC_XFER_FORMAT) {
            lower_int(f);
            f->data[f->data_pos++] = v;
            if (f->data_pos >= 4) {
                pio_format_id(f);
            }
        } else {
            mimic_log_guest("fdc: data register write during a read");
        }
        return;
    }
    if (f->phase == FDC_PHASE_RESULT) {
        mimic_log_guest("fdc: command byte 0x%02x during the result phase",
                        v);
        return;
    }
    const FdcCommand *c = find_command(f->cmd_pos ? f->cmd[0] : v);
    if (!c) {
        mimic_log_unimp("fdc: command 0x%02x", v);
        invalid_command(f);
        return;
    }
    f->cmd_len = 1 + c->params;
    f->cmd[f->cmd_pos++] = v;
    if (f->cmd_pos >= f->cmd_len) {
        c->run(f);
    }
}

/* ---- registers ------------------------------------------------------ */

static uint32_t fdc_read(void *opaque, uint16_t off, unsigned size)
{
    Fdc *f = opaque;
    FdcDrive *sel = unit_drive(f, f->dor & DOR_SEL);
    switch (off) {
    case REG_SRA:
        return (f->irq_level ? 0x80 : 0) |
               (f->drive[1].present ? 0 : 0x40);
    case REG_SRB:
        return 0xc0 | ((f->dor >> 4) & 0x03) | ((f->dor & 1) << 5);
    case REG_DOR:
        return f->dor;
    case REG_TDR:
        return f->tdr;
    case REG_MSR:
        return msr(f);
    case REG_FIFO:
        return data_read(f);
    case REG_DIR:
        return sel && sel->media_changed ? DIR_DSKCHG : 0;
    }
    return 0xff;
}

static void fdc_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    Fdc *f = opaque;
    switch (off) {
    case REG_DOR: {
        uint8_t old = f->dor;
        f->dor = v;
        if (!(v & DOR_NRESET)) {
            soft_reset(f); /* held in reset */
        } else if (!(old & DOR_NRESET)) {
            reset_done(f);
        }
        update_irq(f);
        break;
    }
    case REG_TDR:
        f->tdr = v & 0x03;
        break;
    case REG_MSR: /* DSR */
        f->dsr = v & 0x7f;
        if ((v & DSR_SWRESET) && (f->dor & DOR_NRESET)) {
            reset_done(f);
        }
        break;
    case REG_FIFO:
        data_write(f, v);
        break;
    case REG_DIR: /* CCR: the data rate */
        f->dsr = (f->dsr & ~DSR_RATE) | (v & DSR_RATE);
        break;
    default:
        mimic_log_guest("fdc: write 0x%02x to read-only register %u", v,
                        off);
        break;
    }
}

/* 0x3f7 (0x3f6 belongs to the IDE controller). */
static uint32_t dir_read(void *opaque, uint16_t off, unsigned size)
{
    return fdc_read(opaque, REG_DIR, size);
}

static void ccr_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    fdc_write(opaque, REG_DIR, v, size);
}

/* ---- drives --------------------------------------------------------- */

static bool set_medium(Fdc *f, FdcDrive *d, BlockDev *blk, GError **error)
{
    d->blk = NULL;
    d->ro = false;
    d->tracks = 80;
    d->heads = 2;
    d->spt = 18;
    d->rate = RATE_500K;
    if (!blk) {
        return true;
    }
    int64_t size = blk_get_size(blk);
    bool exact = false;
    const FdcFormat *fmt = size >= 0 ? pick_format(size, &exact) : NULL;
    if (!fmt) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "floppy image '%s' (%" G_GINT64_FORMAT " bytes) is "
                    "larger than a 2.88 MB floppy", blk_filename(blk), size);
        return false;
    }
    if (!exact) {
        g_printerr("mimic: warning: floppy image '%s' (%" G_GINT64_FORMAT
                   " bytes) is not a standard size; using the %s format\n",
                   blk_filename(blk), size, fmt->name);
    }
    d->blk = blk;
    d->ro = blk_is_read_only(blk);
    d->tracks = fmt->tracks;
    d->heads = fmt->heads;
    d->spt = fmt->spt;
    d->rate = fmt->rate;
    if (d->type == FDC_DRIVE_NONE) {
        d->type = fmt->drive;
    }
    d->sect = 0;
    return true;
}

bool fdc_attach(Fdc *f, int unit, BlockDev *blk, GError **error)
{
    g_return_val_if_fail(unit >= 0 && unit < FDC_DRIVES, false);
    FdcDrive *d = &f->drive[unit];
    d->type = FDC_DRIVE_NONE;
    if (!set_medium(f, d, blk, error)) {
        return false;
    }
    if (d->type == FDC_DRIVE_NONE) {
        d->type = FDC_DRIVE_144;
    }
    d->present = true;
    d->media_changed = true; /* power-on: the line is set */
    return true;
}

bool fdc_change_media(Fdc *f, int unit, BlockDev *blk, GError **error)
{
    if (unit < 0 || unit >= FDC_DRIVES || !f->drive[unit].present) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "floppy drive %d is not connected", unit);
        return false;
    }
    FdcDrive *d = &f->drive[unit];
    if (!set_medium(f, d, blk, error)) {
        return false;
    }
    d->media_changed = true;
    return true;
}

/* The drive layer's hands on a floppy drive (dev: its FdcDrive).  No
   tray lock: a floppy leaves the drive when the user takes it. */
static bool media_eject(void *dev, bool force)
{
    FdcDrive *d = dev;
    set_medium(NULL, d, NULL, NULL);
    d->media_changed = true;
    return true;
}

static bool media_insert(void *dev, BlockDev *blk, GError **error)
{
    FdcDrive *d = dev, old = *d;
    if (!set_medium(NULL, d, blk, error)) {
        *d = old; /* refused: the old medium stays in */
        return false;
    }
    d->media_changed = true;
    return true;
}

const DriveMediaOps fdc_media_ops = {
    .eject = media_eject, .insert = media_insert,
};

uint8_t fdc_cmos_type(Fdc *f, int unit)
{
    if (unit < 0 || unit >= FDC_DRIVES || !f->drive[unit].present) {
        return 0;
    }
    switch (f->drive[unit].type) {
    case FDC_DRIVE_120:
        return 2;
    case FDC_DRIVE_288:
        return 5;
    default:
        return 4;
    }
}

/* ---- device --------------------------------------------------------- */

static bool fdc_realize(Device *dev, GError **error)
{
    Fdc *f = (Fdc *)dev;
    f->io[0] = (IoRegion){ .base = 0x3f0, .len = 6, .min = 1, .max = 1,
                           .read = fdc_read, .write = fdc_write,
                           .name = "fdc" };
    f->io[1] = (IoRegion){ .base = 0x3f7, .len = 1, .min = 1, .max = 1,
                           .read = dir_read, .write = ccr_write,
                           .name = "fdc-dir" };
    ioport_register(dev->bus->io, &f->io[0], f);
    ioport_register(dev->bus->io, &f->io[1], f);
    return true;
}

static void fdc_reset(Device *dev)
{
    Fdc *f = (Fdc *)dev;
    /* The controller out of reset with DMA and INT enabled, as the PC
       BIOS leaves it and as SeaBIOS expects to find it. */
    f->dor = DOR_NRESET | DOR_DMAGATE;
    f->dsr = RATE_500K;
    f->tdr = 0;
    f->specify[0] = f->specify[1] = 0;
    f->lock = false;
    f->perp = 0;
    f->last_eot = 0;
    f->reset_sensei = 0;
    soft_reset(f);
    for (int i = 0; i < FDC_UNITS; i++) {
        f->drive[i].sect = 0;
    }
    update_irq(f);
}

static bool fdc_post_load(void *obj, GError **error)
{
    Fdc *f = obj;
    bool bad = f->phase > FDC_PHASE_RESULT ||
               f->cmd_len > sizeof(f->cmd) || f->cmd_pos > f->cmd_len ||
               (f->phase == FDC_PHASE_CMD && f->cmd_pos &&
                f->cmd_pos >= f->cmd_len) ||
               f->res_len > sizeof(f->res) || f->res_pos > f->res_len ||
               (f->phase == FDC_PHASE_RESULT && f->res_pos >= f->res_len) ||
               f->xfer > FDC_XFER_FORMAT ||
               (f->phase == FDC_PHASE_EXEC && f->xfer == FDC_XFER_NONE) ||
               f->data_pos >= FDC_SECTOR ||
               (f->xfer == FDC_XFER_FORMAT &&
                (f->data_pos >= 4 || !f->x_left)) ||
               f->x_unit >= FDC_UNITS || f->x_head > 1 ||
               f->reset_sensei > 4 || f->seek_pending > 0x0f;
    if (!bad && f->phase == FDC_PHASE_CMD && f->cmd_pos) {
        const FdcCommand *c = find_command(f->cmd[0]);
        bad = !c || f->cmd_len != 1 + c->params;
    }
    if (bad) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "fdc: controller state out of range");
        return false;
    }
    f->irq_level = !f->irq_level; /* force the line to be driven */
    update_irq(f);
    return true;
}

static const StateField fdc_drive_fields[] = {
    STATE_U8(FdcDrive, track), STATE_U8(FdcDrive, sect),
    STATE_BOOL(FdcDrive, media_changed), STATE_END,
};

static const StateDesc fdc_state = {
    .name = "fdc", .version = 1, .min_version = 1,
    .post_load = fdc_post_load,
    .fields = (const StateField[]) {
        STATE_U8(Fdc, dor), STATE_U8(Fdc, dsr), STATE_U8(Fdc, tdr),
        STATE_U8(Fdc, phase),
        STATE_U8_ARRAY(Fdc, cmd, 16), STATE_U8(Fdc, cmd_len),
        STATE_U8(Fdc, cmd_pos),
        STATE_U8_ARRAY(Fdc, res, 16), STATE_U8(Fdc, res_len),
        STATE_U8(Fdc, res_pos),
        STATE_BOOL(Fdc, int_pending), STATE_BOOL(Fdc, res_int),
        STATE_U8(Fdc, reset_sensei), STATE_U8(Fdc, seek_pending),
        STATE_U8_ARRAY(Fdc, seek_st0, FDC_UNITS),
        STATE_U8_ARRAY(Fdc, specify, 2),
        STATE_U8(Fdc, config), STATE_U8(Fdc, pretrk), STATE_U8(Fdc, perp),
        STATE_U8(Fdc, last_eot), STATE_BOOL(Fdc, lock),
        STATE_U8(Fdc, xfer), STATE_U8(Fdc, x_unit), STATE_U8(Fdc, x_head),
        STATE_U8(Fdc, x_c), STATE_U8(Fdc, x_h), STATE_U8(Fdc, x_r),
        STATE_U8(Fdc, x_n), STATE_U8(Fdc, x_eot), STATE_U8(Fdc, x_fill),
        STATE_U8(Fdc, x_left), STATE_BOOL(Fdc, x_mt),
        STATE_U16(Fdc, data_pos), STATE_BYTES(Fdc, data, FDC_SECTOR),
        STATE_STRUCT_ARRAY(Fdc, drive, FDC_UNITS, fdc_drive_fields),
        STATE_END },
};

const DeviceInfo fdc_info = {
    .name = "fdc", .size = sizeof(Fdc), .state = &fdc_state,
    .realize = fdc_realize, .reset = fdc_reset,
};
