/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IDE channel: task-file registers and ATA commands for hard disks.
 * ATAPI packet commands live in atapi.c.  See ide.h for the model.
 *
 * Reference: ATA/ATAPI-6 (T13/1410D): 6.2 status and error registers,
 * 8.x command descriptions, 8.15 IDENTIFY DEVICE word layout, 9.x PIO and
 * DMA protocols.  Guest-supplied addresses and counts are range-checked;
 * a bad request ends with ABRT/IDNF as a real drive would.
 */
#include "hw/ide/ide.h"

#include <string.h>

#include "bus/log.h"
#include "hw/board.h"
#include "hw/ide/ide_internal.h"

static inline IdeDrive *cur(IdeChannel *ch)
{
    return &ch->drive[(ch->select >> 4) & 1];
}

void ide_set_irq(IdeChannel *ch)
{
    ch->irq_pending = true;
    if (!(ch->control & IDE_CTL_NIEN)) {
        irq_raise(ch->irq);
    }
}

static void ide_clear_irq(IdeChannel *ch)
{
    ch->irq_pending = false;
    irq_lower(ch->irq);
}

static void put_string(uint16_t *words, int first, int nwords,
                       const char *s)
{
    /* ATA strings: two characters per word, first in the high byte. */
    for (int i = 0; i < nwords * 2; i++) {
        char c = *s ? *s++ : ' ';
        if (i & 1) {
            words[first + i / 2] |= (uint8_t)c;
        } else {
            words[first + i / 2] = (uint16_t)((uint8_t)c) << 8;
        }
    }
}

static void words_to_buf(IdeChannel *ch, const uint16_t *w)
{
    for (int i = 0; i < 256; i++) {
        ch->buf[2 * i] = w[i];
        ch->buf[2 * i + 1] = w[i] >> 8;
    }
}

static void identify_hd(IdeChannel *ch, IdeDrive *d)
{
    uint16_t w[256] = { 0 };
    uint64_t n = d->nsectors;
    w[0] = 0x0040; /* fixed device */
    w[1] = d->cyls;
    w[3] = d->heads;
    w[6] = d->secs;
    put_string(w, 10, 10, d->serial);
    put_string(w, 23, 4, "1.0");
    put_string(w, 27, 20, "MIMIC HARDDISK");
    w[47] = 0x8000 | IDE_MAX_MULT;
    w[49] = (1 << 11) | (1 << 9) | (1 << 8); /* IORDY, LBA, DMA */
    w[50] = 0x4000;
    w[51] = 0x200;
    w[52] = 0x200;
    w[53] = 0x0007;
    w[54] = d->cyls;
    w[55] = d->heads;
    w[56] = d->secs;
    uint32_t chs = (uint32_t)d->cyls * d->heads * d->secs;
    w[57] = chs;
    w[58] = chs >> 16;
    w[59] = d->mult_sectors ? 0x100 | d->mult_sectors : 0;
    uint32_t lba28 = n > 0x0fffffff ? 0x0fffffff : n;
    w[60] = lba28;
    w[61] = lba28 >> 16;
    w[62] = 0x07;
    w[63] = 0x07 | (d->udma_mode == 0xff ? 0x100 << d->mdma_mode : 0);
    w[64] = 0x03;
    w[65] = 120;
    w[66] = 120;
    w[67] = 120;
    w[68] = 120;
    w[80] = 0x00f0; /* ATA/ATAPI-4 to -7 */
    w[81] = 0x0016;
    w[82] = (1 << 14) | (1 << 5); /* NOP, write cache */
    w[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10); /* FLUSH, LBA48 */
    w[84] = 1 << 14;
    w[85] = (1 << 14) | (d->write_cache ? 1 << 5 : 0);
    w[86] = (1 << 13) | (1 << 12) | (1 << 10);
    w[87] = 1 << 14;
    w[88] = 0x3f | (d->udma_mode != 0xff ? 0x100 << d->udma_mode : 0);
    w[93] = 1 | (1 << 14) | 0x2000;
    w[100] = n;
    w[101] = n >> 16;
    w[102] = n >> 32;
    w[103] = n >> 48;
    words_to_buf(ch, w);
}

static void identify_cd(IdeChannel *ch, IdeDrive *d)
{
    uint16_t w[256] = { 0 };
    /* ATAPI, CD-ROM, removable, accelerated DRQ, 12-byte packets. */
    w[0] = (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5);
    put_string(w, 10, 10, d->serial);
    put_string(w, 23, 4, "1.0");
    put_string(w, 27, 20, "MIMIC DVD-ROM");
    w[49] = (1 << 11) | (1 << 9) | (1 << 8);
    w[53] = 0x0007;
    w[62] = 0x07;
    w[63] = 0x07 | (d->udma_mode == 0xff ? 0x100 << d->mdma_mode : 0);
    w[64] = 0x03;
    w[65] = 180;
    w[66] = 180;
    w[67] = 180;
    w[68] = 180;
    w[71] = 30;
    w[72] = 30;
    w[80] = 0x001e; /* ATAPI-1 to -4 */
    w[88] = 0x3f | (d->udma_mode != 0xff ? 0x100 << d->udma_mode : 0);
    words_to_buf(ch, w);
}

static void set_signature(IdeChannel *ch, IdeDrive *d)
{
    ch->nsector = 1;
    ch->sector = 1;
    if (d->kind == IDE_CD) {
        ch->lcyl = 0x14;
        ch->hcyl = 0xeb;
    } else {
        ch->lcyl = 0;
        ch->hcyl = 0;
    }
    ch->select &= 0xf0; /* keep the device bit */
}

void ide_abort(IdeChannel *ch)
{
    ch->status = IDE_ST_DRDY | IDE_ST_ERR;
    ch->error = IDE_ERR_ABRT;
    ch->xfer = XFER_NONE;
    ide_set_irq(ch);
}

static void ide_cmd_done(IdeChannel *ch)
{
    ch->status = IDE_ST_DRDY | IDE_ST_DSC;
    ch->error = 0;
    ch->xfer = XFER_NONE;
    ide_set_irq(ch);
}

/* Start sending buf[0..len) to the host by PIO. */
void ide_pio_in(IdeChannel *ch, uint32_t len)
{
    ch->pos = 0;
    ch->end = len;
    ch->xfer = XFER_PIO_IN;
    ch->status = IDE_ST_DRDY | IDE_ST_DRQ | IDE_ST_DSC;
    ide_set_irq(ch);
}

static uint64_t taskfile_lba(IdeChannel *ch, IdeDrive *d, bool *ok)
{
    *ok = true;
    if (ch->lba48) {
        return ((uint64_t)ch->hob_hcyl << 40) | ((uint64_t)ch->hob_lcyl << 32) |
               ((uint64_t)ch->hob_sector << 24) | ((uint64_t)ch->hcyl << 16) |
               ((uint64_t)ch->lcyl << 8) | ch->sector;
    }
    if (ch->select & 0x40) {
        return ((uint64_t)(ch->select & 0x0f) << 24) |
               ((uint64_t)ch->hcyl << 16) | ((uint64_t)ch->lcyl << 8) |
               ch->sector;
    }
    /* CHS */
    unsigned cyl = ch->lcyl | (ch->hcyl << 8);
    unsigned head = ch->select & 0x0f;
    if (ch->sector == 0 || ch->sector > d->secs || head >= d->heads ||
        cyl >= d->cyls) {
        *ok = false;
        return 0;
    }
    return ((uint64_t)cyl * d->heads + head) * d->secs + ch->sector - 1;
}

static void taskfile_set_lba(IdeChannel *ch, IdeDrive *d, uint64_t lba)
{
    if (ch->lba48) {
        ch->sector = lba;
        ch->lcyl = lba >> 8;
        ch->hcyl = lba >> 16;
        ch->hob_sector = lba >> 24;
        ch->hob_lcyl = lba >> 32;
        ch->hob_hcyl = lba >> 40;
    } else if (ch->select & 0x40) {
        ch->sector = lba;
        ch->lcyl = lba >> 8;
        ch->hcyl = lba >> 16;
        ch->select = (ch->select & 0xf0) | ((lba >> 24) & 0x0f);
    } else if (d->heads && d->secs) {
        uint32_t cyl = lba / (d->heads * d->secs);
        uint32_t r = lba % (d->heads * d->secs);
        ch->hcyl = cyl >> 8;
        ch->lcyl = cyl;
        ch->select = (ch->select & 0xf0) | (r / d->secs);
        ch->sector = r % d->secs + 1;
    }
}

static uint32_t taskfile_count(IdeChannel *ch)
{
    if (ch->lba48) {
        uint32_t n = ch->nsector | (ch->hob_nsector << 8);
        return n ? n : 65536;
    }
    return ch->nsector ? ch->nsector : 256;
}

static bool disk_io(IdeChannel *ch, IdeDrive *d, uint64_t lba, uint32_t n,
                    bool write)
{
    GError *err = NULL;
    bool ok = write ? blk_pwrite(d->blk, lba * IDE_SECTOR, ch->buf,
                                 (size_t)n * IDE_SECTOR, &err)
                    : blk_pread(d->blk, lba * IDE_SECTOR, ch->buf,
                                (size_t)n * IDE_SECTOR, &err);
    if (!ok) {
        mimic_log_host("ide: %s error at sector %" G_GUINT64_FORMAT ": %s",
                        write ? "write" : "read", lba,
                        err ? err->message : "?");
        g_clear_error(&err);
    }
    return ok;
}

static void io_error(IdeChannel *ch, IdeDrive *d, uint64_t lba, bool write)
{
    taskfile_set_lba(ch, d, lba);
    ch->status = IDE_ST_DRDY | IDE_ST_ERR;
    ch->error = write ? IDE_ERR_ABRT : IDE_ERR_UNC;
    ch->xfer = XFER_NONE;
    ide_set_irq(ch);
}

/* Load the next PIO read block, or finish. */
static void pio_read_next(IdeChannel *ch, bool first)
{
    IdeDrive *d = cur(ch);
    if (ch->remaining == 0) {
        ch->xfer = XFER_NONE;
        ch->status = IDE_ST_DRDY | IDE_ST_DSC;
        return;
    }
    uint32_t n = MIN(ch->block, ch->remaining);
    if (!disk_io(ch, d, ch->lba, n, false)) {
        io_error(ch, d, ch->lba, false);
        return;
    }
    ch->lba += n;
    ch->remaining -= n;
    taskfile_set_lba(ch, d, ch->lba - 1);
    ide_pio_in(ch, n * IDE_SECTOR);
}

static void pio_write_next(IdeChannel *ch, bool first)
{
    uint32_t n = MIN(ch->block, ch->remaining);
    ch->pos = 0;
    ch->end = n * IDE_SECTOR;
    ch->xfer = XFER_PIO_OUT;
    ch->status = IDE_ST_DRDY | IDE_ST_DRQ | IDE_ST_DSC;
    if (!first) {
        ide_set_irq(ch);
    }
}

static void pio_write_block_done(IdeChannel *ch)
{
    IdeDrive *d = cur(ch);
    uint32_t n = ch->end / IDE_SECTOR;
    if (!disk_io(ch, d, ch->lba, n, true)) {
        io_error(ch, d, ch->lba, true);
        return;
    }
    ch->lba += n;
    ch->remaining -= n;
    taskfile_set_lba(ch, d, ch->lba - 1);
    if (ch->remaining) {
        pio_write_next(ch, false);
    } else {
        if (!d->write_cache) {
            blk_flush(d->blk, NULL);
        }
        ide_cmd_done(ch);
    }
}

static bool start_rw(IdeChannel *ch, IdeDrive *d, bool lba48)
{
    bool ok;
    ch->lba48 = lba48;
    uint64_t lba = taskfile_lba(ch, d, &ok);
    uint32_t n = taskfile_count(ch);
    if (!ok || lba >= d->nsectors || n > d->nsectors - lba) {
        ch->status = IDE_ST_DRDY | IDE_ST_ERR;
        ch->error = IDE_ERR_IDNF;
        ch->xfer = XFER_NONE;
        ide_set_irq(ch);
        return false;
    }
    ch->lba = lba;
    ch->remaining = n;
    return true;
}

static void set_features(IdeChannel *ch, IdeDrive *d)
{
    switch (ch->feature) {
    case 0x02: /* enable write cache */
        d->write_cache = true;
        break;
    case 0x82:
        d->write_cache = false;
        break;
    case 0x03: { /* transfer mode */
        uint8_t mode = ch->nsector & 7;
        switch (ch->nsector >> 3) {
        case 0: /* PIO default */
        case 1: /* PIO flow control */
            break;
        case 4: /* multiword DMA */
            d->mdma_mode = MIN(mode, 2);
            d->udma_mode = 0xff;
            break;
        case 8: /* Ultra DMA */
            d->udma_mode = MIN(mode, 5);
            break;
        default:
            ide_abort(ch);
            return;
        }
        break;
    }
    case 0x66: case 0xcc: case 0xaa: case 0x55: case 0x05: case 0x85:
    case 0x31: case 0x95: case 0x42: case 0xc2:
        break; /* accepted and ignored, as by many drives */
    default:
        ide_abort(ch);
        return;
    }
    ide_cmd_done(ch);
}

static void ata_command(IdeChannel *ch, uint8_t cmd)
{
    IdeDrive *d = cur(ch);
    ch->cmd = cmd;
    ch->error = 0;
    if (d->kind == IDE_NONE) {
        /* No device answers; the bus floats. */
        return;
    }
    if (d->kind == IDE_CD) {
        switch (cmd) {
        case 0xa0: /* PACKET */
            atapi_packet_start(ch);
            return;
        case 0xa1: /* IDENTIFY PACKET DEVICE */
            identify_cd(ch, d);
            ide_pio_in(ch, 512);
            return;
        case 0x08: /* DEVICE RESET */
            set_signature(ch, d);
            ch->status = 0;
            ch->error = 1;
            ch->xfer = XFER_NONE;
            return;
        case 0x90:
            break; /* handled below */
        case 0xef:
            set_features(ch, d);
            return;
        case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe5: case 0xe7:
        case 0x00:
            if (cmd == 0xe5) {
                ch->nsector = 0xff;
            }
            ide_cmd_done(ch);
            return;
        default:
            /* ATA commands on a packet device: abort with the signature so
               that drivers recognise ATAPI. */
            set_signature(ch, d);
            ide_abort(ch);
            return;
        }
    }
    switch (cmd) {
    case 0xec: /* IDENTIFY DEVICE */
        identify_hd(ch, d);
        ide_pio_in(ch, 512);
        return;
    case 0x20: case 0x21: /* READ SECTORS */
    case 0x24:            /* READ SECTORS EXT */
    case 0xc4:            /* READ MULTIPLE */
    case 0x29:            /* READ MULTIPLE EXT */
        if ((cmd == 0xc4 || cmd == 0x29) && !d->mult_sectors) {
            ide_abort(ch);
            return;
        }
        if (!start_rw(ch, d, cmd == 0x24 || cmd == 0x29)) {
            return;
        }
        ch->block = (cmd == 0xc4 || cmd == 0x29) ? d->mult_sectors : 1;
        pio_read_next(ch, true);
        return;
    case 0x30: case 0x31: case 0x34: case 0xc5: case 0x39:
        if ((cmd == 0xc5 || cmd == 0x39) && !d->mult_sectors) {
            ide_abort(ch);
            return;
        }
        if (blk_is_read_only(d->blk)) {
            ide_abort(ch);
            return;
        }
        if (!start_rw(ch, d, cmd == 0x34 || cmd == 0x39)) {
            return;
        }
        ch->block = (cmd == 0xc5 || cmd == 0x39) ? d->mult_sectors : 1;
        pio_write_next(ch, true);
        return;
    case 0xc8: case 0xc9: case 0x25: /* READ DMA (EXT) */
    case 0xca: case 0xcb: case 0x35: /* WRITE DMA (EXT) */ {
        bool wr = cmd == 0xca || cmd == 0xcb || cmd == 0x35;
        if (wr && blk_is_read_only(d->blk)) {
            ide_abort(ch);
            return;
        }
        if (!start_rw(ch, d, cmd == 0x25 || cmd == 0x35)) {
            return;
        }
        ch->xfer = wr ? XFER_DMA_OUT : XFER_DMA_IN;
        ch->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
        return;
    }
    case 0x40: case 0x41: case 0x42: /* READ VERIFY SECTORS (EXT) */
        if (start_rw(ch, d, cmd == 0x42)) {
            taskfile_set_lba(ch, d, ch->lba + ch->remaining - 1);
            ide_cmd_done(ch);
        }
        return;
    case 0xc6: /* SET MULTIPLE MODE */
        if (ch->nsector > IDE_MAX_MULT ||
            (ch->nsector & (ch->nsector - 1))) {
            ide_abort(ch);
            return;
        }
        d->mult_sectors = ch->nsector;
        ide_cmd_done(ch);
        return;
    case 0x91: /* INITIALIZE DEVICE PARAMETERS: accept the BIOS geometry */
        ide_cmd_done(ch);
        return;
    case 0xe7: case 0xea: /* FLUSH CACHE (EXT) */
        if (!blk_flush(d->blk, NULL)) {
            ide_abort(ch);
            return;
        }
        ide_cmd_done(ch);
        return;
    case 0xef:
        set_features(ch, d);
        return;
    case 0xf8: case 0x27: { /* READ NATIVE MAX ADDRESS (EXT) */
        ch->lba48 = cmd == 0x27;
        ch->select |= 0x40;
        taskfile_set_lba(ch, d, d->nsectors - 1);
        ide_cmd_done(ch);
        return;
    }
    case 0x90: /* EXECUTE DEVICE DIAGNOSTIC */
        set_signature(ch, d);
        ch->status = IDE_ST_DRDY | IDE_ST_DSC;
        ch->error = 0x01;
        ide_set_irq(ch);
        return;
    case 0x10: case 0x70: /* RECALIBRATE, SEEK */
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe5: case 0xe6:
    case 0x00: /* NOP is aborted by spec; drivers accept either */
        if (cmd == 0xe5) {
            ch->nsector = 0xff; /* active/idle */
        }
        if (cmd == 0x00) {
            ide_abort(ch);
            return;
        }
        ide_cmd_done(ch);
        return;
    default:
        mimic_log_unimp("ide: ATA command 0x%02x", cmd);
        ide_abort(ch);
        return;
    }
}

static void data_read_done(IdeChannel *ch)
{
    if (ch->xfer != XFER_PIO_IN || ch->pos < ch->end) {
        return;
    }
    if (cur(ch)->kind == IDE_CD) {
        atapi_pio_in_done(ch);
    } else {
        pio_read_next(ch, false);
    }
}

static void data_write_done(IdeChannel *ch)
{
    if (ch->pos < ch->end) {
        return;
    }
    if (ch->xfer == XFER_PACKET) {
        atapi_packet_received(ch);
    } else if (ch->xfer == XFER_PIO_OUT) {
        pio_write_block_done(ch);
    }
}

uint32_t ide_cmd_read(IdeChannel *ch, unsigned off, unsigned size)
{
    IdeDrive *d = cur(ch);
    bool hob = ch->control & IDE_CTL_HOB;
    bool any = ch->drive[0].kind != IDE_NONE || ch->drive[1].kind != IDE_NONE;
    if (!any) {
        return 0xffffffff; /* no devices: pulled-up bus */
    }
    switch (off) {
    case 0: {
        if (ch->xfer != XFER_PIO_IN || size > 4) {
            return 0xffffffff;
        }
        uint32_t v = 0;
        for (unsigned i = 0; i < size && ch->pos < ch->end; i++) {
            v |= (uint32_t)ch->buf[ch->pos++] << (8 * i);
        }
        data_read_done(ch);
        return v;
    }
    case 1:
        return d->kind == IDE_NONE ? 0 : hob ? ch->hob_feature : ch->error;
    case 2:
        return hob ? ch->hob_nsector : ch->nsector;
    case 3:
        return hob ? ch->hob_sector : ch->sector;
    case 4:
        return hob ? ch->hob_lcyl : ch->lcyl;
    case 5:
        return hob ? ch->hob_hcyl : ch->hcyl;
    case 6:
        return ch->select | 0xa0;
    case 7:
        if (d->kind == IDE_NONE) {
            return 0;
        }
        ide_clear_irq(ch);
        return ch->status;
    }
    return 0xff;
}

void ide_cmd_write(IdeChannel *ch, unsigned off, uint32_t val, unsigned size)
{
    if (off >= 1 && off <= 5) {
        ch->control &= ~IDE_CTL_HOB;
    }
    switch (off) {
    case 0:
        if (ch->xfer != XFER_PIO_OUT && ch->xfer != XFER_PACKET) {
            return;
        }
        for (unsigned i = 0; i < size && ch->pos < ch->end; i++) {
            ch->buf[ch->pos++] = val >> (8 * i);
        }
        data_write_done(ch);
        return;
    case 1:
        ch->hob_feature = ch->feature;
        ch->feature = val;
        return;
    case 2:
        ch->hob_nsector = ch->nsector;
        ch->nsector = val;
        return;
    case 3:
        ch->hob_sector = ch->sector;
        ch->sector = val;
        return;
    case 4:
        ch->hob_lcyl = ch->lcyl;
        ch->lcyl = val;
        return;
    case 5:
        ch->hob_hcyl = ch->hcyl;
        ch->hcyl = val;
        return;
    case 6:
        ch->select = (val & ~0xa0) | 0xa0;
        return;
    case 7:
        if (ch->status & IDE_ST_BSY) {
            return;
        }
        ide_clear_irq(ch);
        ata_command(ch, val);
        return;
    }
}

uint32_t ide_ctl_read(IdeChannel *ch)
{
    IdeDrive *d = cur(ch);
    if (ch->drive[0].kind == IDE_NONE && ch->drive[1].kind == IDE_NONE) {
        return 0xff;
    }
    return d->kind == IDE_NONE ? 0 : ch->status;
}

void ide_ctl_write(IdeChannel *ch, uint32_t val)
{
    bool was_reset = ch->control & IDE_CTL_SRST;
    if (!was_reset && (val & IDE_CTL_SRST)) {
        ch->status = IDE_ST_BSY | IDE_ST_DSC;
        ch->error = 0x01;
        ch->xfer = XFER_NONE;
    } else if (was_reset && !(val & IDE_CTL_SRST)) {
        /* End of software reset: both devices show their signature. */
        for (int i = 0; i < 2; i++) {
            IdeDrive *d = &ch->drive[i];
            d->mult_sectors = 0;
        }
        ch->select = 0xa0;
        set_signature(ch, &ch->drive[0]);
        ch->status = ch->drive[0].kind == IDE_CD ? 0
                                                 : IDE_ST_DRDY | IDE_ST_DSC;
        ch->error = 0x01;
    }
    ch->control = val;
    if (ch->irq_pending && !(val & IDE_CTL_NIEN)) {
        irq_raise(ch->irq);
    } else if (val & IDE_CTL_NIEN) {
        irq_lower(ch->irq);
    }
}

bool ide_dma_pending(const IdeChannel *ch, bool *to_memory)
{
    if (ch->xfer == XFER_DMA_IN || ch->xfer == XFER_DMA_OUT) {
        *to_memory = ch->xfer == XFER_DMA_IN;
        return true;
    }
    return false;
}

/* Walk a PRD table: call fn for each memory segment of up to total bytes. */
bool ide_prd_walk(IdeChannel *ch, uint32_t prd_addr, uint64_t total,
                  bool (*fn)(IdeChannel *, uint64_t addr, uint32_t len,
                             void *), void *opaque)
{
    /* A PRD table may not cross a 64 KiB boundary: at most 8192 entries. */
    for (unsigned i = 0; i < 8192 && total > 0; i++) {
        uint8_t e[8];
        memmap_read(ch->mem, prd_addr + 8 * i, e, 8);
        uint32_t addr = (e[0] | e[1] << 8 | e[2] << 16 | (uint32_t)e[3] << 24)
                        & ~1u;
        uint32_t len = (e[4] | e[5] << 8) & ~1u;
        if (len == 0) {
            len = 0x10000;
        }
        bool eot = e[7] & 0x80;
        uint32_t n = MIN((uint64_t)len, total);
        if (!fn(ch, addr, n, opaque)) {
            return false;
        }
        total -= n;
        if (eot) {
            break;
        }
    }
    return total == 0;
}

typedef struct DiskDma {
    IdeDrive *d;
    bool to_memory;
    bool failed;
} DiskDma;

/* Move one memory segment; stage through buf a chunk at a time. */
static bool disk_dma_segment(IdeChannel *ch, uint64_t addr, uint32_t len,
                             void *opaque)
{
    DiskDma *dd = opaque;
    while (len) {
        /* Whole sectors through the buffer; partial sectors pass through
           bounce space at the buffer's end. */
        uint32_t n = MIN(len, (uint32_t)IDE_BUF_SIZE);
        uint64_t byte = ch->lba * IDE_SECTOR + ch->pos;
        GError *err = NULL;
        bool ok;
        if (dd->to_memory) {
            ok = blk_pread(dd->d->blk, byte, ch->buf, n, &err);
            if (ok) {
                memmap_write(ch->mem, addr, ch->buf, n);
            }
        } else {
            memmap_read(ch->mem, addr, ch->buf, n);
            ok = blk_pwrite(dd->d->blk, byte, ch->buf, n, &err);
        }
        if (!ok) {
            g_clear_error(&err);
            dd->failed = true;
            return false;
        }
        ch->pos += n;
        addr += n;
        len -= n;
    }
    return true;
}

bool ide_dma_run(IdeChannel *ch, uint32_t prd_addr)
{
    IdeDrive *d = cur(ch);
    if (ch->xfer != XFER_DMA_IN && ch->xfer != XFER_DMA_OUT) {
        return false;
    }
    if (d->kind == IDE_CD) {
        return atapi_dma_run(ch, prd_addr);
    }
    DiskDma dd = { d, ch->xfer == XFER_DMA_IN, false };
    uint64_t total = (uint64_t)ch->remaining * IDE_SECTOR;
    ch->pos = 0; /* bytes done, relative to ch->lba */
    bool complete = ide_prd_walk(ch, prd_addr, total, disk_dma_segment, &dd);
    uint64_t done_sectors = ch->pos / IDE_SECTOR;
    if (dd.failed) {
        io_error(ch, d, ch->lba + done_sectors, !dd.to_memory);
        return true;
    }
    if (!complete) {
        /* PRD table shorter than the command: the drive keeps waiting. */
        ch->lba += done_sectors;
        ch->remaining -= done_sectors;
        return false;
    }
    ch->lba += ch->remaining;
    taskfile_set_lba(ch, d, ch->lba - 1);
    ch->remaining = 0;
    ch->pos = 0;
    ide_cmd_done(ch);
    return true;
}

void ide_channel_init(IdeChannel *ch, MemMap *mem, IrqLine *irq)
{
    memset(ch, 0, sizeof(*ch));
    ch->mem = mem;
    ch->irq = irq;
}

static void guess_geometry(IdeDrive *d)
{
    uint64_t n = d->nsectors;
    d->heads = 16;
    d->secs = 63;
    uint64_t cyls = n / (16 * 63);
    d->cyls = cyls > 16383 ? 16383 : cyls < 2 ? 2 : cyls;
}

void ide_attach(IdeChannel *ch, int unit, IdeKind kind, BlockDev *blk,
                const char *serial)
{
    IdeDrive *d = &ch->drive[unit & 1];
    memset(d, 0, sizeof(*d));
    d->kind = kind;
    d->blk = blk;
    d->udma_mode = 2;
    d->write_cache = true;
    g_strlcpy(d->serial, serial ? serial : "MM00000", sizeof(d->serial));
    if (kind == IDE_HD && blk) {
        d->nsectors = blk_get_size(blk) / IDE_SECTOR;
        guess_geometry(d);
    }
}

static bool cd_change(IdeDrive *d, BlockDev *blk)
{
    if (d->kind != IDE_CD) {
        return false;
    }
    d->blk = blk;
    d->media_changed = true;
    d->media_event = blk ? ATAPI_EV_NEW_MEDIA : ATAPI_EV_MEDIA_REMOVAL;
    d->tray_open = false;
    return true;
}

static bool cd_eject(IdeDrive *d, bool force)
{
    if (d->kind != IDE_CD) {
        return false;
    }
    if (d->locked && !force) {
        d->media_event = ATAPI_EV_EJECT_REQUEST;
        return false;
    }
    d->locked = false;
    bool had = d->blk != NULL;
    d->blk = NULL;
    d->tray_open = true;
    if (had) {
        d->media_event = ATAPI_EV_MEDIA_REMOVAL;
    }
    return true;
}

bool ide_cd_change(IdeChannel *ch, int unit, BlockDev *blk)
{
    return cd_change(&ch->drive[unit & 1], blk);
}

bool ide_cd_eject(IdeChannel *ch, int unit, bool force)
{
    return cd_eject(&ch->drive[unit & 1], force);
}

/* The drive layer's hands on a CD-ROM unit (dev: its IdeDrive). */
static bool media_eject(void *dev, bool force)
{
    return cd_eject(dev, force);
}

static bool media_insert(void *dev, BlockDev *blk, GError **error)
{
    if (!cd_change(dev, blk)) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "the IDE unit is not a CD-ROM drive");
        return false;
    }
    return true;
}

static bool media_locked(void *dev)
{
    return ((IdeDrive *)dev)->locked;
}

static void media_eject_request(void *dev)
{
    ((IdeDrive *)dev)->media_event = ATAPI_EV_EJECT_REQUEST;
}

static bool media_tray_open(void *dev)
{
    return ((IdeDrive *)dev)->tray_open;
}

const DriveMediaOps ide_cd_media_ops = {
    .eject = media_eject, .insert = media_insert, .locked = media_locked,
    .eject_request = media_eject_request, .tray_open = media_tray_open,
};

void ide_channel_reset(IdeChannel *ch)
{
    ch->control = 0;
    ch->xfer = XFER_NONE;
    ch->select = 0xa0;
    ch->irq_pending = false;
    irq_lower(ch->irq);
    for (int i = 0; i < 2; i++) {
        ch->drive[i].mult_sectors = 0;
        ch->drive[i].sense_key = 0;
        ch->drive[i].asc = 0;
    }
    set_signature(ch, &ch->drive[0]);
    ch->status = ch->drive[0].kind == IDE_HD ? IDE_ST_DRDY | IDE_ST_DSC : 0;
    ch->error = 0x01;
}

static const StateField ide_drive_fields[] = {
    STATE_U8(IdeDrive, mult_sectors), STATE_U8(IdeDrive, sense_key),
    STATE_U8(IdeDrive, asc), STATE_U8(IdeDrive, ascq),
    STATE_BOOL(IdeDrive, media_changed), STATE_BOOL(IdeDrive, tray_open),
    STATE_BOOL(IdeDrive, locked), STATE_BOOL(IdeDrive, write_cache),
    STATE_U8(IdeDrive, udma_mode), STATE_U8(IdeDrive, mdma_mode),
    STATE_END,
};

const StateField ide_channel_fields[] = {
    STATE_STRUCT_ARRAY(IdeChannel, drive, 2, ide_drive_fields),
    STATE_U8(IdeChannel, feature), STATE_U8(IdeChannel, nsector),
    STATE_U8(IdeChannel, sector), STATE_U8(IdeChannel, lcyl),
    STATE_U8(IdeChannel, hcyl), STATE_U8(IdeChannel, hob_feature),
    STATE_U8(IdeChannel, hob_nsector), STATE_U8(IdeChannel, hob_sector),
    STATE_U8(IdeChannel, hob_lcyl), STATE_U8(IdeChannel, hob_hcyl),
    STATE_U8(IdeChannel, select), STATE_U8(IdeChannel, status),
    STATE_U8(IdeChannel, error), STATE_U8(IdeChannel, control),
    STATE_BOOL(IdeChannel, irq_pending), STATE_BOOL(IdeChannel, lba48),
    STATE_U8(IdeChannel, xfer), STATE_U8(IdeChannel, cmd),
    STATE_U32(IdeChannel, pos), STATE_U32(IdeChannel, end),
    STATE_U64(IdeChannel, lba), STATE_U32(IdeChannel, remaining),
    STATE_U32(IdeChannel, block), STATE_U32(IdeChannel, packet_left),
    STATE_U32(IdeChannel, byte_limit), STATE_U64(IdeChannel, packet_lba),
    STATE_U32(IdeChannel, packet_blocks), STATE_BOOL(IdeChannel, packet_dma),
    STATE_BYTES(IdeChannel, buf, IDE_BUF_SIZE),
    STATE_END,
};

/* Validate a loaded channel: positions inside the buffer, known modes. */
bool ide_channel_post_load(IdeChannel *ch, GError **error)
{
    if (ch->end > IDE_BUF_SIZE || ch->pos > ch->end ||
        ch->xfer > XFER_DMA_OUT || ch->block > IDE_MAX_MULT ||
        ch->drive[0].mult_sectors > IDE_MAX_MULT ||
        ch->drive[1].mult_sectors > IDE_MAX_MULT ||
        ch->drive[0].media_event > ATAPI_EV_MEDIA_REMOVAL ||
        ch->drive[1].media_event > ATAPI_EV_MEDIA_REMOVAL) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID,
                    "ide: transfer state out of range");
        return false;
    }
    return true;
}
