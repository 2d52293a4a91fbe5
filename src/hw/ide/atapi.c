/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ATAPI CD-ROM: the PACKET protocol and the MMC commands that SeaBIOS
 * (El Torito boot) and Linux's sr/cdrom drivers issue.
 *
 * References: ATA/ATAPI-6 section 9.8 (PACKET protocol: interrupt reason
 * in the sector count register, byte count in the cylinder registers);
 * MMC-2 (T10/1228-D) for READ TOC, GET CONFIGURATION, GET EVENT STATUS
 * NOTIFICATION, MODE SENSE pages 01h and 2Ah; SPC for INQUIRY and
 * REQUEST SENSE.  Data is staged in the channel buffer; READs larger than
 * the buffer are refilled block by block as the host drains it.
 */
#include <string.h>

#include "bus/log.h"
#include "hw/ide/ide_internal.h"

#define SENSE_NONE 0
#define SENSE_NOT_READY 2
#define SENSE_ILLEGAL_REQUEST 5
#define SENSE_UNIT_ATTENTION 6

#define ASC_INV_OPCODE 0x20
#define ASC_LBA_OUT_OF_RANGE 0x21
#define ASC_INV_FIELD_IN_CDB 0x24
#define ASC_MEDIUM_MAY_HAVE_CHANGED 0x28
#define ASC_INCOMPATIBLE_FORMAT 0x30
#define ASC_MEDIUM_NOT_PRESENT 0x3a
#define ASC_MEDIA_REMOVAL_PREVENTED 0x53

#define IR_COD 0x01
#define IR_IO 0x02

static inline IdeDrive *cur(IdeChannel *ch)
{
    return &ch->drive[(ch->select >> 4) & 1];
}

static uint32_t be16(const uint8_t *p)
{
    return p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static uint64_t cd_blocks(IdeDrive *d)
{
    return d->blk ? blk_get_size(d->blk) / ATAPI_SECTOR : 0;
}

static void lba_to_msf(uint8_t *p, uint32_t lba)
{
    lba += 150;
    p[0] = lba / (60 * 75);
    p[1] = (lba / 75) % 60;
    p[2] = lba % 75;
}

static void atapi_ok(IdeChannel *ch)
{
    ch->status = IDE_ST_DRDY | IDE_ST_DSC;
    ch->error = 0;
    ch->nsector = IR_COD | IR_IO;
    ch->xfer = XFER_NONE;
    ide_set_irq(ch);
}

static void atapi_error(IdeChannel *ch, uint8_t key, uint8_t asc)
{
    IdeDrive *d = cur(ch);
    d->sense_key = key;
    d->asc = asc;
    d->ascq = 0;
    ch->status = IDE_ST_DRDY | IDE_ST_ERR;
    ch->error = key << 4;
    ch->nsector = IR_COD | IR_IO;
    ch->xfer = XFER_NONE;
    ch->packet_blocks = 0;
    ide_set_irq(ch);
}

/* Send the next PIO chunk of buf[pos..end). */
static void pio_chunk(IdeChannel *ch)
{
    uint32_t avail = ch->end - ch->pos;
    uint32_t n = MIN(avail, ch->byte_limit);
    ch->lcyl = n;
    ch->hcyl = n >> 8;
    ch->nsector = IR_IO;
    ch->xfer = XFER_PIO_IN;
    ch->packet_left = n;
    ch->status = IDE_ST_DRDY | IDE_ST_DRQ | IDE_ST_DSC;
    ide_set_irq(ch);
}

static bool refill_blocks(IdeChannel *ch)
{
    IdeDrive *d = cur(ch);
    uint32_t n = MIN(ch->packet_blocks, IDE_BUF_SIZE / ATAPI_SECTOR);
    GError *err = NULL;
    if (!d->blk || !blk_pread(d->blk, ch->packet_lba * ATAPI_SECTOR, ch->buf,
                              (size_t)n * ATAPI_SECTOR, &err)) {
        g_clear_error(&err);
        atapi_error(ch, 3 /* MEDIUM ERROR */, 0x11 /* unrecovered read */);
        return false;
    }
    ch->packet_lba += n;
    ch->packet_blocks -= n;
    ch->pos = 0;
    ch->end = n * ATAPI_SECTOR;
    return true;
}

/* Begin the data phase for buf[0..len) (len already cut to alloc). */
static void send_reply(IdeChannel *ch, uint32_t len)
{
    ch->pos = 0;
    ch->end = len;
    if (len == 0 && ch->packet_blocks == 0) {
        atapi_ok(ch);
        return;
    }
    if (ch->packet_dma) {
        ch->xfer = XFER_DMA_IN;
        ch->status = IDE_ST_DRDY | IDE_ST_DRQ | IDE_ST_DSC;
        return;
    }
    pio_chunk(ch);
}

void atapi_pio_in_done(IdeChannel *ch)
{
    /* The host drained one DRQ chunk. */
    if (ch->pos < ch->end) {
        pio_chunk(ch);
        return;
    }
    if (ch->packet_blocks) {
        if (refill_blocks(ch)) {
            pio_chunk(ch);
        }
        return;
    }
    atapi_ok(ch);
}

static bool dma_segment(IdeChannel *ch, uint64_t addr, uint32_t len,
                        void *opaque)
{
    while (len) {
        if (ch->pos == ch->end) {
            if (!ch->packet_blocks || !refill_blocks(ch)) {
                return false;
            }
        }
        uint32_t n = MIN(len, ch->end - ch->pos);
        memmap_write(ch->mem, addr, ch->buf + ch->pos, n);
        ch->pos += n;
        addr += n;
        len -= n;
    }
    return true;
}

bool atapi_dma_run(IdeChannel *ch, uint32_t prd_addr)
{
    uint64_t total = (uint64_t)(ch->end - ch->pos) +
                     (uint64_t)ch->packet_blocks * ATAPI_SECTOR;
    bool complete = ide_prd_walk(ch, prd_addr, total, dma_segment, NULL);
    if (ch->xfer == XFER_NONE) {
        return true; /* a read error ended the command */
    }
    if (!complete && (ch->pos < ch->end || ch->packet_blocks)) {
        return false;
    }
    atapi_ok(ch);
    return true;
}

void atapi_packet_start(IdeChannel *ch)
{
    ch->packet_dma = ch->feature & 1;
    uint32_t limit = ch->lcyl | (ch->hcyl << 8);
    if (limit == 0 || limit == 0xffff) {
        limit = 0xfffe;
    }
    ch->byte_limit = limit & ~1u;
    ch->pos = 0;
    ch->end = 12;
    ch->xfer = XFER_PACKET;
    ch->nsector = IR_COD;
    ch->status = IDE_ST_DRDY | IDE_ST_DRQ | IDE_ST_DSC;
}

static bool need_medium(IdeChannel *ch, IdeDrive *d)
{
    if (!d->blk || d->tray_open) {
        atapi_error(ch, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
        return false;
    }
    return true;
}

static void start_read(IdeChannel *ch, IdeDrive *d, uint64_t lba,
                       uint32_t n)
{
    if (!need_medium(ch, d)) {
        return;
    }
    uint64_t blocks = cd_blocks(d);
    if (lba > blocks || n > blocks - lba) {
        atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        return;
    }
    if (n == 0) {
        atapi_ok(ch);
        return;
    }
    ch->packet_lba = lba;
    ch->packet_blocks = n;
    if (refill_blocks(ch)) {
        send_reply(ch, ch->end);
    }
}

static uint32_t read_toc(IdeChannel *ch, IdeDrive *d, const uint8_t *cdb,
                         bool *ok)
{
    bool msf = cdb[1] & 2;
    int format = cdb[2] & 0x0f;
    if (format == 0 && (cdb[9] >> 6)) {
        format = cdb[9] >> 6;
    }
    uint8_t *b = ch->buf;
    uint32_t blocks = cd_blocks(d);
    memset(b, 0, 32);
    *ok = true;
    switch (format) {
    case 0: { /* TOC: one data track and the lead-out */
        int start = cdb[6];
        uint8_t *p = b + 4;
        b[2] = 1;
        b[3] = 1;
        if (start > 1 && start != 0xaa) {
            *ok = false;
            return 0;
        }
        if (start <= 1) {
            p[1] = 0x14;
            p[2] = 1;
            if (msf) {
                lba_to_msf(p + 5, 0);
            }
            p += 8;
        }
        p[1] = 0x14;
        p[2] = 0xaa;
        if (msf) {
            lba_to_msf(p + 5, blocks);
        } else {
            put_be32(p + 4, blocks);
        }
        p += 8;
        uint32_t len = p - b;
        put_be16(b, len - 2);
        return len;
    }
    case 1: /* session information */
        put_be16(b, 10);
        b[2] = 1;
        b[3] = 1;
        b[5] = 0x14;
        b[6] = 1;
        if (msf) {
            lba_to_msf(b + 9, 0);
        }
        return 12;
    default:
        *ok = false;
        return 0;
    }
}

static uint32_t mode_page(uint8_t *p, int page, IdeDrive *d)
{
    switch (page) {
    case 0x01: /* read error recovery */
        memset(p, 0, 8);
        p[0] = 0x01;
        p[1] = 6;
        p[3] = 5; /* read retry count */
        return 8;
    case 0x2a: /* CD/DVD capabilities and mechanical status */
        memset(p, 0, 22);
        p[0] = 0x2a;
        p[1] = 20;
        p[2] = 0x3b; /* reads CD-R/RW, DVD-ROM ... */
        p[4] = 0x71; /* audio play, composite, digital ports, multisession */
        p[5] = 0xff;
        p[6] = 0x2d | (d->locked ? 0x02 : 0); /* tray, eject, lock */
        p[7] = 0x00;
        put_be16(p + 8, 706);  /* max speed kB/s */
        put_be16(p + 10, 2);   /* volume levels */
        put_be16(p + 12, 512); /* buffer size */
        put_be16(p + 14, 706);
        return 22;
    }
    return 0;
}

static void mode_sense(IdeChannel *ch, IdeDrive *d, const uint8_t *cdb,
                       bool ten)
{
    int page = cdb[2] & 0x3f;
    int pc = cdb[2] >> 6;
    uint32_t hdr = ten ? 8 : 4;
    uint32_t alloc = ten ? be16(cdb + 7) : cdb[4];
    uint8_t *b = ch->buf;
    memset(b, 0, hdr);
    uint32_t len = hdr;
    if (pc == 3) {
        atapi_error(ch, SENSE_ILLEGAL_REQUEST, 0x39); /* saving unsupported */
        return;
    }
    if (page == 0x3f) {
        len += mode_page(b + len, 0x01, d);
        len += mode_page(b + len, 0x2a, d);
    } else {
        uint32_t n = mode_page(b + len, page, d);
        if (!n) {
            atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB);
            return;
        }
        len += n;
    }
    if (ten) {
        put_be16(b, len - 2);
        b[2] = 0x70; /* medium type: door closed, no disc type given */
    } else {
        b[0] = len - 1;
        b[1] = 0x70;
    }
    send_reply(ch, MIN(len, alloc));
}

static void get_configuration(IdeChannel *ch, IdeDrive *d, const uint8_t *cdb)
{
    uint32_t alloc = be16(cdb + 7);
    uint8_t *b = ch->buf;
    memset(b, 0, 32);
    bool media = d->blk && !d->tray_open;
    /* Profile by size, as drives do: DVD beyond a CD's capacity. */
    uint16_t profile = !media ? 0 :
                       cd_blocks(d) > 1000 * 1000 * 1000 / ATAPI_SECTOR
                       ? 0x0010 : 0x0008;
    put_be16(b + 6, profile);
    /* Feature 0: profile list. */
    put_be16(b + 8, 0x0000);
    b[10] = 0x03;
    b[11] = 8;
    put_be16(b + 12, 0x0010);
    b[14] = profile == 0x0010;
    put_be16(b + 16, 0x0008);
    b[18] = profile == 0x0008;
    uint32_t len = 20;
    put_be32(b, len - 4);
    send_reply(ch, MIN(len, alloc));
}

static void event_status(IdeChannel *ch, IdeDrive *d, const uint8_t *cdb)
{
    uint32_t alloc = be16(cdb + 7);
    uint8_t *b = ch->buf;
    if (!(cdb[1] & 1)) { /* only polled operation */
        atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB);
        return;
    }
    memset(b, 0, 8);
    uint32_t len;
    if (cdb[4] & 0x10) { /* media class */
        put_be16(b, 6);
        b[2] = 0x04;
        b[3] = 0x10;
        b[4] = d->media_event; /* reported once */
        d->media_event = ATAPI_EV_NONE;
        b[5] = (d->blk && !d->tray_open ? 2 : 0) | (d->tray_open ? 1 : 0);
        len = 8;
    } else {
        put_be16(b, 2);
        b[2] = 0x80; /* no event available */
        b[3] = 0x10;
        len = 4;
    }
    send_reply(ch, MIN(len, alloc));
}

void atapi_packet_received(IdeChannel *ch)
{
    IdeDrive *d = cur(ch);
    uint8_t cdb[12];
    memcpy(cdb, ch->buf, 12);
    ch->packet_blocks = 0;
    uint8_t *b = ch->buf;
    uint8_t op = cdb[0];

    /* A changed medium is reported once to the first media command. */
    if (d->media_changed && op != 0x03 && op != 0x12 && op != 0x46 &&
        op != 0x4a) {
        d->media_changed = false;
        atapi_error(ch, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED);
        return;
    }
    switch (op) {
    case 0x00: /* TEST UNIT READY */
        if (need_medium(ch, d)) {
            atapi_ok(ch);
        }
        return;
    case 0x03: { /* REQUEST SENSE */
        memset(b, 0, 18);
        b[0] = 0x70;
        b[2] = d->sense_key;
        b[7] = 10;
        b[12] = d->asc;
        b[13] = d->ascq;
        if (d->sense_key == SENSE_UNIT_ATTENTION) {
            d->sense_key = SENSE_NONE;
        }
        send_reply(ch, MIN(18u, cdb[4]));
        d->sense_key = SENSE_NONE;
        d->asc = 0;
        return;
    }
    case 0x12: { /* INQUIRY */
        memset(b, 0, 36);
        b[0] = 0x05; /* CD/DVD */
        b[1] = 0x80; /* removable */
        b[2] = 0x00;
        b[3] = 0x21;
        b[4] = 31;
        memcpy(b + 8, "MIMIC   ", 8);
        memcpy(b + 16, "MIMIC DVD-ROM   ", 16);
        memcpy(b + 32, "1.0 ", 4);
        send_reply(ch, MIN(36u, cdb[4]));
        return;
    }
    case 0x1b: { /* START STOP UNIT */
        bool loej = cdb[4] & 2, start = cdb[4] & 1;
        if (loej) {
            if (!start) {
                if (d->locked) {
                    atapi_error(ch, SENSE_NOT_READY,
                                ASC_MEDIA_REMOVAL_PREVENTED);
                    return;
                }
                d->tray_open = true;
            } else {
                d->tray_open = false;
            }
        }
        atapi_ok(ch);
        return;
    }
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
        d->locked = cdb[4] & 1;
        atapi_ok(ch);
        return;
    case 0x25: /* READ CAPACITY */
        if (!need_medium(ch, d)) {
            return;
        }
        put_be32(b, cd_blocks(d) ? cd_blocks(d) - 1 : 0);
        put_be32(b + 4, ATAPI_SECTOR);
        send_reply(ch, 8);
        return;
    case 0x28: /* READ(10) */
        start_read(ch, d, be32(cdb + 2), be16(cdb + 7));
        return;
    case 0xa8: /* READ(12) */
        start_read(ch, d, be32(cdb + 2), be32(cdb + 6));
        return;
    case 0xbe: /* READ CD: user data only */
        if ((cdb[9] & 0xf8) != 0x10) {
            atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB);
            return;
        }
        start_read(ch, d, be32(cdb + 2),
                   (uint32_t)cdb[6] << 16 | cdb[7] << 8 | cdb[8]);
        return;
    case 0x2b: /* SEEK(10) */
        if (need_medium(ch, d)) {
            atapi_ok(ch);
        }
        return;
    case 0x43: { /* READ TOC/PMA/ATIP */
        if (!need_medium(ch, d)) {
            return;
        }
        bool ok;
        uint32_t len = read_toc(ch, d, cdb, &ok);
        if (!ok) {
            atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB);
            return;
        }
        send_reply(ch, MIN(len, be16(cdb + 7)));
        return;
    }
    case 0x46: /* GET CONFIGURATION */
        get_configuration(ch, d, cdb);
        return;
    case 0x4a: /* GET EVENT STATUS NOTIFICATION */
        event_status(ch, d, cdb);
        return;
    case 0x51: { /* READ DISC INFORMATION */
        if (!need_medium(ch, d)) {
            return;
        }
        memset(b, 0, 34);
        put_be16(b, 32);
        b[2] = 0x0e; /* complete disc, complete last session */
        b[3] = 1;
        b[4] = 1;
        b[5] = 1;
        b[6] = 1;
        send_reply(ch, MIN(34u, be16(cdb + 7)));
        return;
    }
    case 0x5a: /* MODE SENSE(10) */
        mode_sense(ch, d, cdb, true);
        return;
    case 0x1a: /* MODE SENSE(6) */
        mode_sense(ch, d, cdb, false);
        return;
    case 0xbd: /* MECHANISM STATUS */
        memset(b, 0, 8);
        put_be16(b + 6, 0);
        send_reply(ch, MIN(8u, be16(cdb + 8)));
        return;
    case 0xbb: /* SET CD SPEED */
        atapi_ok(ch);
        return;
    default:
        mimic_log_unimp("atapi: packet command 0x%02x", op);
        atapi_error(ch, SENSE_ILLEGAL_REQUEST, ASC_INV_OPCODE);
        return;
    }
}
