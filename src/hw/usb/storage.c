/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usb-storage: a USB mass-storage disk, bulk-only transport with the
 * SCSI commands a guest's disk driver uses, on a BlockDev of any format.
 * References: USB Mass Storage Class Bulk-Only Transport 1.0 (CBW/CSW
 * wrappers 5.1-5.2, class requests 3.1-3.2, the thirteen cases of 6.7);
 * SCSI Primary Commands (SPC-3: INQUIRY, REQUEST SENSE, MODE SENSE,
 * TEST UNIT READY, fixed sense data) and SCSI Block Commands (SBC-2: READ
 * and WRITE 6/10/16, READ CAPACITY 10/16, SYNCHRONIZE CACHE).
 *
 * The guest sets the transfer length (up to 4 GiB), so data moves through
 * one bounded buffer: reads are fetched and writes stored at most
 * USB_MSD_BUF bytes at a time.  A command that fails still runs its data
 * phase (IN: a zero-length packet ends it; OUT: the data is dropped) and
 * reports the failure in the CSW, which the host follows with REQUEST
 * SENSE.
 */
#include "hw/usb/storage.h"

#include <string.h>

#include "bus/log.h"

#define CBW_SIG 0x43425355
#define CSW_SIG 0x53425355
#define SECTOR 512

enum { MSD_CBW, MSD_DATA_IN, MSD_DATA_OUT, MSD_CSW };
enum { OP_NONE, OP_READ, OP_WRITE };

/* Sense keys and additional sense codes. */
#define SK_NOT_READY 0x02
#define SK_MEDIUM_ERROR 0x03
#define SK_ILLEGAL_REQUEST 0x05
#define SK_DATA_PROTECT 0x07
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_OUT_OF_RANGE 0x21
#define ASC_INVALID_FIELD 0x24
#define ASC_WRITE_PROTECTED 0x27
#define ASC_UNRECOVERED_READ 0x11
#define ASC_WRITE_ERROR 0x0c

static const uint8_t msd_dev_desc[18] = {
    18, USB_DT_DEVICE, 0x00, 0x02, 0, 0, 0, 8, 0xf4, 0x46, 0x01, 0x00,
    0x00, 0x00, 1, 2, 3, 1,
};

static const uint8_t msd_cfg_desc[] = {
    9, USB_DT_CONFIG, 32, 0, 1, 1, 0, 0xc0, 50,
    9, USB_DT_INTERFACE, 0, 0, 2, 0x08, 0x06, 0x50, 0,
    7, USB_DT_ENDPOINT, 0x81, 0x02, 64, 0, 0,
    7, USB_DT_ENDPOINT, 0x02, 0x02, 64, 0, 0,
};

/* At high speed: 64-byte EP0 and 512-byte bulk packets. */
static const uint8_t msd_hs_dev_desc[18] = {
    18, USB_DT_DEVICE, 0x00, 0x02, 0, 0, 0, 64, 0xf4, 0x46, 0x01, 0x00,
    0x00, 0x00, 1, 2, 3, 1,
};

static const uint8_t msd_hs_cfg_desc[] = {
    9, USB_DT_CONFIG, 32, 0, 1, 1, 0, 0xc0, 50,
    9, USB_DT_INTERFACE, 0, 0, 2, 0x08, 0x06, 0x50, 0,
    7, USB_DT_ENDPOINT, 0x81, 0x02, 0x00, 0x02, 0,
    7, USB_DT_ENDPOINT, 0x02, 0x02, 0x00, 0x02, 0,
};

/* At SuperSpeed: bcdUSB 3.00, EP0 of 2^9 bytes, 1024-byte bulk packets
   each with its companion (no bursts, no streams), and the BOS with the
   USB 2.0 extension and the SuperSpeed capability (USB 3.2 spec 9.6.2). */
static const uint8_t msd_ss_dev_desc[18] = {
    18, USB_DT_DEVICE, 0x00, 0x03, 0, 0, 0, 9, 0xf4, 0x46, 0x01, 0x00,
    0x00, 0x00, 1, 2, 3, 1,
};

static const uint8_t msd_ss_cfg_desc[] = {
    9, USB_DT_CONFIG, 44, 0, 1, 1, 0, 0xc0, 50,
    9, USB_DT_INTERFACE, 0, 0, 2, 0x08, 0x06, 0x50, 0,
    7, USB_DT_ENDPOINT, 0x81, 0x02, 0x00, 0x04, 0,
    6, 0x30, 0, 0, 0, 0,
    7, USB_DT_ENDPOINT, 0x02, 0x02, 0x00, 0x04, 0,
    6, 0x30, 0, 0, 0, 0,
};

static const uint8_t msd_bos_desc[] = {
    5, USB_DT_BOS, 22, 0, 2,
    7, 0x10, 2, 0, 0, 0, 0,
    10, 0x10, 3, 0, 0x0e, 0x00, 1, 10, 0x20, 0x00,
};

static const char *const msd_strings[] = { "QEMU", "QEMU USB HARDDRIVE",
                                           "@serial" };

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static uint64_t msd_sectors(UsbStorage *s)
{
    int64_t size = s->blk ? blk_get_size(s->blk) : 0;
    return size > 0 ? (uint64_t)size / SECTOR : 0;
}

static bool msd_read_only(UsbStorage *s)
{
    return s->read_only || !s->blk || blk_is_read_only(s->blk);
}

static void fail(UsbStorage *s, uint8_t key, uint8_t asc)
{
    s->status = 1;
    s->sense_key = key;
    s->sense_asc = asc;
}

/* Answer with a small response of len bytes (already in buf). */
static void respond(UsbStorage *s, size_t len)
{
    s->buf_len = MIN(len, (size_t)s->h_left);
    s->buf_pos = 0;
}

static void mode_sense(UsbStorage *s, const uint8_t *cb, bool ten)
{
    unsigned page = cb[2] & 0x3f;
    uint8_t *b = s->buf;
    size_t hdr = ten ? 8 : 4;
    memset(b, 0, 64);
    size_t len = hdr;
    if (page == 0x08 || page == 0x3f) {
        /* Caching mode page: write cache enabled (WCE). */
        b[len] = 0x08;
        b[len + 1] = 0x12;
        b[len + 2] = 0x04;
        len += 20;
    } else if (page != 0x00) {
        fail(s, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    uint8_t wp = msd_read_only(s) ? 0x80 : 0;
    if (ten) {
        b[0] = (len - 2) >> 8;
        b[1] = len - 2;
        b[3] = wp;
    } else {
        b[0] = len - 1;
        b[2] = wp;
    }
    size_t alloc = ten ? (cb[7] << 8 | cb[8]) : cb[4];
    respond(s, MIN(len, alloc));
}

static void inquiry(UsbStorage *s, const uint8_t *cb)
{
    uint8_t *b = s->buf;
    size_t alloc = cb[3] << 8 | cb[4];
    memset(b, 0, 96);
    if (cb[1] & 1) { /* EVPD */
        if (cb[2] == 0x00) {
            b[3] = 2;
            b[4] = 0x00;
            b[5] = 0x80;
            respond(s, MIN(alloc, 6));
        } else if (cb[2] == 0x80) {
            b[1] = 0x80;
            b[3] = 8;
            memcpy(b + 4, "MIMIC001", 8);
            respond(s, MIN(alloc, 12));
        } else {
            fail(s, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        }
        return;
    }
    b[0] = 0x00;  /* direct-access block device */
    b[1] = s->removable ? 0x80 : 0;
    b[2] = 0x05;  /* SPC-3 */
    b[3] = 0x02;  /* response data format */
    b[4] = 31;
    memcpy(b + 8, "QEMU    ", 8);
    memcpy(b + 16, "QEMU HARDDISK   ", 16);
    memcpy(b + 32, "2.5+", 4);
    respond(s, MIN(alloc, 36));
}

/* READ/WRITE: check the range and start the transfer. */
static void rw_start(UsbStorage *s, uint64_t lba, uint64_t count, bool write)
{
    uint64_t total = msd_sectors(s);
    if (!s->blk) {
        fail(s, SK_NOT_READY, 0x3a); /* medium not present */
        return;
    }
    if (lba > total || count > total - lba) {
        fail(s, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        return;
    }
    if (write && msd_read_only(s)) {
        fail(s, SK_DATA_PROTECT, ASC_WRITE_PROTECTED);
        return;
    }
    s->op = write ? OP_WRITE : OP_READ;
    s->lba = lba;
    s->sectors_left = count;
    s->buf_len = s->buf_pos = 0;
}

static void scsi_command(UsbStorage *s, const uint8_t *cb, unsigned cb_len)
{
    uint8_t *b = s->buf;
    s->status = 0;
    s->op = OP_NONE;
    s->buf_len = s->buf_pos = 0;
    if (cb[0] != 0x03) { /* REQUEST SENSE reads the last command's */
        s->sense_key = s->sense_asc = 0;
    }
    switch (cb[0]) {
    case 0x00: /* TEST UNIT READY */
    case 0x1b: /* START STOP UNIT */
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
    case 0x2f: /* VERIFY(10) */
        if (!s->blk) {
            fail(s, SK_NOT_READY, 0x3a);
        }
        break;
    case 0x03: /* REQUEST SENSE (fixed format) */
        memset(b, 0, 18);
        b[0] = 0x70;
        b[2] = s->sense_key;
        b[7] = 10;
        b[12] = s->sense_asc;
        s->sense_key = s->sense_asc = 0;
        respond(s, MIN(18, cb[4]));
        break;
    case 0x12:
        inquiry(s, cb);
        break;
    case 0x1a: /* MODE SENSE(6) */
        mode_sense(s, cb, false);
        break;
    case 0x5a: /* MODE SENSE(10) */
        mode_sense(s, cb, true);
        break;
    case 0x25: { /* READ CAPACITY(10) */
        uint64_t n = msd_sectors(s);
        put_be32(b, n ? (n - 1 > 0xffffffffu ? 0xffffffffu : n - 1) : 0);
        put_be32(b + 4, SECTOR);
        respond(s, 8);
        break;
    }
    case 0x9e: /* SERVICE ACTION IN(16) */
        if ((cb[1] & 0x1f) != 0x10) { /* READ CAPACITY(16) only */
            fail(s, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
            break;
        } else {
            uint64_t n = msd_sectors(s);
            n = n ? n - 1 : 0;
            memset(b, 0, 32);
            put_be32(b, n >> 32);
            put_be32(b + 4, n);
            put_be32(b + 8, SECTOR);
            respond(s, MIN(32, be32(cb + 10)));
        }
        break;
    case 0x08: /* READ(6) */
    case 0x0a: { /* WRITE(6) */
        uint64_t lba = (cb[1] & 0x1f) << 16 | cb[2] << 8 | cb[3];
        rw_start(s, lba, cb[4] ? cb[4] : 256, cb[0] == 0x0a);
        break;
    }
    case 0x28: /* READ(10) */
    case 0x2a: /* WRITE(10) */
        rw_start(s, be32(cb + 2), cb[7] << 8 | cb[8], cb[0] == 0x2a);
        break;
    case 0x88: /* READ(16) */
    case 0x8a: /* WRITE(16) */
        rw_start(s, be64(cb + 2), be32(cb + 10), cb[0] == 0x8a);
        break;
    case 0x35: /* SYNCHRONIZE CACHE(10) */
    case 0x91: { /* SYNCHRONIZE CACHE(16) */
        GError *err = NULL;
        if (s->blk && !msd_read_only(s) && !blk_flush(s->blk, &err)) {
            mimic_log_guest("%s: flush failed: %s", s->usb.dev.id,
                            err->message);
            g_clear_error(&err);
            fail(s, SK_MEDIUM_ERROR, ASC_WRITE_ERROR);
        }
        break;
    }
    default:
        fail(s, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
        break;
    }
    (void)cb_len;
}

static int msd_cbw(UsbStorage *s, UsbPacket *p)
{
    const uint8_t *c = p->data;
    if (p->len != 31 || usb_le32(c) != CBW_SIG || (c[13] & 0xf) != 0 ||
        c[14] < 1 || c[14] > 16) {
        mimic_log_guest("%s: invalid CBW (%zu bytes)", s->usb.dev.id,
                        p->len);
        return USB_RET_STALL;
    }
    s->tag = usb_le32(c + 4);
    s->h_left = usb_le32(c + 8);
    s->dir_in = (c[12] & 0x80) != 0;
    uint8_t cb[16] = { 0 };
    memcpy(cb, c + 15, c[14]);
    scsi_command(s, cb, c[14]);
    if (s->h_left == 0) {
        s->mode = MSD_CSW;
    } else {
        s->mode = s->dir_in ? MSD_DATA_IN : MSD_DATA_OUT;
        /* A write that the host sends as IN (or a read as OUT) is a
           phase error of the command: the data goes nowhere. */
        if ((s->op == OP_WRITE && s->dir_in) ||
            (s->op == OP_READ && !s->dir_in)) {
            s->op = OP_NONE;
            s->buf_len = 0;
            s->status = 2;
        }
        if (!s->dir_in) {
            s->buf_len = 0;
        }
    }
    p->actual = 31;
    return USB_RET_SUCCESS;
}

/* Fetch the next piece of a READ into buf. */
static void read_more(UsbStorage *s)
{
    uint32_t n = MIN(s->sectors_left, (uint64_t)(USB_MSD_BUF / SECTOR));
    n = MIN(n, (s->h_left + SECTOR - 1) / SECTOR);
    if (n == 0) {
        return;
    }
    GError *err = NULL;
    if (!blk_pread(s->blk, s->lba * SECTOR, s->buf, (size_t)n * SECTOR,
                   &err)) {
        mimic_log_guest("%s: read error: %s", s->usb.dev.id, err->message);
        g_clear_error(&err);
        memset(s->buf, 0, (size_t)n * SECTOR);
        fail(s, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ);
    }
    s->lba += n;
    s->sectors_left -= n;
    s->buf_len = n * SECTOR;
    s->buf_pos = 0;
}

/* Store the whole sectors collected in buf. */
static void write_out(UsbStorage *s)
{
    uint32_t n = s->buf_len / SECTOR;
    if (n == 0) {
        return;
    }
    GError *err = NULL;
    if (!blk_pwrite(s->blk, s->lba * SECTOR, s->buf, (size_t)n * SECTOR,
                    &err)) {
        mimic_log_guest("%s: write error: %s", s->usb.dev.id, err->message);
        g_clear_error(&err);
        fail(s, SK_MEDIUM_ERROR, ASC_WRITE_ERROR);
    }
    s->lba += n;
    s->sectors_left -= n;
    s->buf_len = 0;
}

/* A packet may be larger than what the buffer holds (EHCI moves up to
   20 KiB at once): it takes from successive fills. */
static int msd_data_in(UsbStorage *s, UsbPacket *p)
{
    size_t n = 0;
    while (n < p->len && s->h_left > 0) {
        if (s->buf_pos == s->buf_len && s->op == OP_READ &&
            s->sectors_left > 0) {
            read_more(s);
        }
        size_t k = MIN(p->len - n, (size_t)(s->buf_len - s->buf_pos));
        k = MIN(k, (size_t)s->h_left);
        if (k == 0) {
            break;
        }
        memcpy(p->data + n, s->buf + s->buf_pos, k);
        s->buf_pos += k;
        s->h_left -= k;
        n += k;
    }
    p->actual = n;
    if (s->h_left == 0 || n < p->len) {
        s->mode = MSD_CSW; /* done, or a short packet ends the phase */
    }
    return USB_RET_SUCCESS;
}

static int msd_data_out(UsbStorage *s, UsbPacket *p)
{
    size_t n = MIN(p->len, (size_t)s->h_left);
    size_t pos = 0;
    while (s->op == OP_WRITE && s->sectors_left > 0 && pos < n) {
        size_t chunk = MIN(s->sectors_left,
                           (uint64_t)(USB_MSD_BUF / SECTOR)) * SECTOR;
        if (s->buf_len >= chunk) {
            break; /* only a forged state gets here */
        }
        size_t take = MIN(n - pos, chunk - s->buf_len);
        memcpy(s->buf + s->buf_len, p->data + pos, take);
        s->buf_len += take;
        pos += take;
        if (s->buf_len == chunk) {
            write_out(s);
        }
    }
    s->h_left -= n;
    p->actual = n;
    if (s->h_left == 0) {
        if (s->op == OP_WRITE) {
            write_out(s);
        }
        s->mode = MSD_CSW;
    }
    return USB_RET_SUCCESS;
}

static int msd_csw(UsbStorage *s, UsbPacket *p)
{
    if (p->len < 13) {
        return USB_RET_STALL;
    }
    uint8_t *w = p->data;
    usb_put_le32(w, CSW_SIG);
    usb_put_le32(w + 4, s->tag);
    usb_put_le32(w + 8, s->h_left);
    w[12] = s->status;
    p->actual = 13;
    s->mode = MSD_CBW;
    s->op = OP_NONE;
    return USB_RET_SUCCESS;
}

static int msd_data(UsbDevice *d, UsbPacket *p)
{
    UsbStorage *s = (UsbStorage *)d;
    if (p->pid == USB_TOKEN_OUT && p->ep == 2) {
        if (s->mode == MSD_CBW) {
            return msd_cbw(s, p);
        }
        if (s->mode == MSD_DATA_OUT) {
            return msd_data_out(s, p);
        }
        return USB_RET_STALL;
    }
    if (p->pid == USB_TOKEN_IN && p->ep == 1) {
        if (s->mode == MSD_DATA_IN) {
            return msd_data_in(s, p);
        }
        if (s->mode == MSD_CSW) {
            return msd_csw(s, p);
        }
        return USB_RET_STALL;
    }
    return USB_RET_STALL;
}

static void msd_class_reset(UsbDevice *d)
{
    UsbStorage *s = (UsbStorage *)d;
    s->mode = MSD_CBW;
    s->op = OP_NONE;
    s->h_left = 0;
    s->buf_len = s->buf_pos = 0;
    s->status = 0;
}

static int msd_control(UsbDevice *d, const UsbSetup *s, uint8_t *buf,
                       size_t room)
{
    if ((s->type & USB_TYPE_MASK) != USB_TYPE_CLASS) {
        return USB_RET_STALL;
    }
    switch (s->request) {
    case 0xff: /* Bulk-Only Mass Storage Reset */
        msd_class_reset(d);
        return 0;
    case 0xfe: /* Get Max LUN */
        buf[0] = 0;
        return MIN(room, 1);
    default:
        return USB_RET_STALL;
    }
}

const UsbDeviceClass usb_storage_class = {
    .name = "usb-storage", .product = "QEMU USB MSD",
    .speed = USB_SPEED_FULL, .dev_desc = msd_dev_desc,
    .cfg_desc = msd_cfg_desc, .cfg_len = sizeof(msd_cfg_desc),
    .hs_dev_desc = msd_hs_dev_desc, .hs_cfg_desc = msd_hs_cfg_desc,
    .hs_cfg_len = sizeof(msd_hs_cfg_desc),
    .ss_dev_desc = msd_ss_dev_desc, .ss_cfg_desc = msd_ss_cfg_desc,
    .ss_cfg_len = sizeof(msd_ss_cfg_desc), .bos_desc = msd_bos_desc,
    .bos_len = sizeof(msd_bos_desc),
    .strings = msd_strings, .n_strings = 3,
    .control = msd_control, .data = msd_data, .reset = msd_class_reset,
};

static bool msd_realize(Device *dev, GError **error)
{
    UsbStorage *s = (UsbStorage *)dev;
    s->usb.cls = &usb_storage_class;
    s->buf = g_malloc0(USB_MSD_BUF);
    msd_class_reset(&s->usb);
    return true;
}

static void msd_reset(Device *dev)
{
    usb_device_reset((UsbDevice *)dev);
}

static void msd_finalize(Device *dev)
{
    UsbStorage *s = (UsbStorage *)dev;
    g_free(s->buf);
}

static bool msd_post_load(void *obj, GError **error)
{
    UsbStorage *s = obj;
    if (!usb_device_post_load(&s->usb, error)) {
        return false;
    }
    if (s->mode > MSD_CSW || s->op > OP_WRITE ||
        s->buf_len > USB_MSD_BUF || s->buf_pos > s->buf_len ||
        s->status > 2 || s->dir_in > 1 ||
        (s->op != OP_NONE && !s->blk)) {
        g_set_error(error, STATE_ERROR, 0, "usb-storage: invalid state");
        return false;
    }
    return true;
}

static const StateDesc usb_storage_state = {
    .name = "usb-storage", .version = 1, .post_load = msd_post_load,
    .fields = (const StateField[]) {
        USB_DEVICE_STATE_FIELDS(UsbStorage),
        STATE_U8(UsbStorage, mode), STATE_U8(UsbStorage, op),
        STATE_U8(UsbStorage, status), STATE_U8(UsbStorage, dir_in),
        STATE_U8(UsbStorage, sense_key), STATE_U8(UsbStorage, sense_asc),
        STATE_U32(UsbStorage, tag), STATE_U32(UsbStorage, h_left),
        STATE_U64(UsbStorage, lba), STATE_U64(UsbStorage, sectors_left),
        STATE_U32(UsbStorage, buf_len), STATE_U32(UsbStorage, buf_pos),
        STATE_BUFFER(UsbStorage, buf, USB_MSD_BUF),
        STATE_END },
};

const DeviceInfo usb_storage_info = {
    .name = "usb-storage", .size = sizeof(UsbStorage),
    .state = &usb_storage_state, .realize = msd_realize,
    .reset = msd_reset, .finalize = msd_finalize,
};
