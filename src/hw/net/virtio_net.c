/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-net PCI (see virtio_net.h).
 * Reference: Virtual I/O Device (VIRTIO) Version 1.0, sections 2.4 (split
 * virtqueues), 4.1.4 (PCI capabilities: common, notify, ISR, device
 * configuration, PCI configuration access), 4.1.4.8 (the legacy
 * interface's I/O layout), 5.1 (the network device: feature bits,
 * configuration, struct virtio_net_hdr, checksum and segmentation
 * offload).
 *
 * The rings live in guest memory and are untrusted: ring sizes are powers
 * of two up to VIRTIO_NET_QUEUE_MAX, a driver that publishes more
 * available entries than the ring holds or a descriptor index outside it
 * breaks the queue (the device sets NEEDS_RESET and stops using it), a
 * descriptor chain is followed at most num steps, frames are bounded by
 * NET_MAX_FRAME, indirect descriptors (never offered) end the chain, and
 * every access goes through memmap_read/memmap_write.
 */
#include "hw/net/virtio_net.h"

#include <inttypes.h>
#include <string.h>

#include "bus/log.h"
#include "hw/net/nic_util.h"

/* Feature bits */
#define F_CSUM 0
#define F_GUEST_CSUM 1
#define F_MAC 5
#define F_GUEST_TSO4 7
#define F_HOST_TSO4 11
#define F_MRG_RXBUF 15
#define F_STATUS 16
#define F_EVENT_IDX 29
#define F_VERSION_1 32
#define HOST_FEATURES ((1ull << F_CSUM) | (1ull << F_GUEST_CSUM) | \
                       (1ull << F_MAC) | (1ull << F_GUEST_TSO4) | \
                       (1ull << F_HOST_TSO4) | (1ull << F_MRG_RXBUF) | \
                       (1ull << F_STATUS) | (1ull << F_EVENT_IDX) | \
                       (1ull << F_VERSION_1))

/* Device status */
#define S_DRIVER_OK 4
#define S_NEEDS_RESET 0x40

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define DESC_F_INDIRECT 4
#define AVAIL_F_NO_INTERRUPT 1

#define HDR_F_NEEDS_CSUM 1
#define HDR_F_DATA_VALID 2
#define GSO_TCPV4 1
#define LINK_UP 1

/* The memory BAR's windows (modern interface). */
#define BAR_COMMON 0x0000
#define BAR_ISR 0x1000
#define BAR_DEVICE 0x2000
#define BAR_NOTIFY 0x3000
#define BAR_SIZE 0x4000
#define NOTIFY_MULT 4
#define MODERN_BAR 4
#define LEGACY_CFG 0x14 /* device config in the legacy I/O BAR */

#define BUF_SIZE (NET_MAX_FRAME + 64)

static MemMap *mem_of(VirtioNet *s)
{
    return s->dev.bus->mem;
}

static uint16_t ld16(VirtioNet *s, uint64_t a)
{
    uint8_t b[2];
    memmap_read(mem_of(s), a, b, 2);
    return nic_le16(b);
}

static void st16(VirtioNet *s, uint64_t a, uint16_t v)
{
    uint8_t b[2];
    nic_put_le16(b, v);
    memmap_write(mem_of(s), a, b, 2);
}

static bool modern(const VirtioNet *s)
{
    return s->guest_features & (1ull << F_VERSION_1);
}

static bool has(const VirtioNet *s, int bit)
{
    return (s->guest_features >> bit) & 1;
}

static size_t hdr_len(const VirtioNet *s)
{
    return modern(s) || has(s, F_MRG_RXBUF) ? 12 : 10;
}

static void update_irq(VirtioNet *s)
{
    irq_set(s->irq, s->isr != 0);
}

static void device_reset(VirtioNet *s)
{
    s->guest_features = 0;
    s->dfselect = s->gfselect = 0;
    s->queue_sel = 0;
    s->status = 0;
    s->isr = 0;
    memset(s->vq, 0, sizeof(s->vq));
    for (int i = 0; i < VIRTIO_NET_QUEUES; i++) {
        s->vq[i].num = VIRTIO_NET_QUEUE_MAX;
    }
    s->lro_len = 0;
    update_irq(s);
}

/* ---- split virtqueues ---- */

static bool vq_ready(const VirtioNet *s, const VirtQueue *q)
{
    return (s->status & S_DRIVER_OK) && !(s->status & S_NEEDS_RESET) &&
           q->enabled && q->num;
}

static void vq_broken(VirtioNet *s, const char *why)
{
    mimic_log_guest("virtio-net: %s; the device needs a reset", why);
    s->status |= S_NEEDS_RESET;
    s->isr |= 2; /* configuration change tells the driver */
    s->generation++;
    update_irq(s);
}

/* The head of the next available chain, or -1 (none, or broken). */
static int vq_peek(VirtioNet *s, VirtQueue *q)
{
    uint16_t avail_idx = ld16(s, q->avail + 2);
    uint16_t pending = avail_idx - q->last_avail;
    if (pending == 0) {
        return -1;
    }
    if (pending > q->num) {
        vq_broken(s, "more available buffers than the ring holds");
        return -1;
    }
    uint16_t head = ld16(s, q->avail + 4 + 2u * (q->last_avail % q->num));
    if (head >= q->num) {
        vq_broken(s, "available descriptor index out of range");
        return -1;
    }
    return head;
}

typedef struct Seg {
    uint64_t addr;
    uint32_t len;
    bool write;
} Seg;

/* The chain from head: at most num descriptors; false when broken. */
static bool vq_chain(VirtioNet *s, VirtQueue *q, int head, Seg *segs,
                     unsigned *nsegs)
{
    unsigned i = head, n = 0;
    for (;;) {
        if (n >= q->num) {
            vq_broken(s, "descriptor chain longer than the ring");
            return false;
        }
        uint8_t d[16];
        memmap_read(mem_of(s), q->desc + 16ull * i, d, 16);
        uint16_t flags = nic_le16(d + 12);
        if (flags & DESC_F_INDIRECT) {
            vq_broken(s, "indirect descriptor (not offered)");
            return false;
        }
        segs[n].addr = nic_le64(d);
        segs[n].len = nic_le32(d + 8);
        segs[n].write = flags & DESC_F_WRITE;
        n++;
        if (!(flags & DESC_F_NEXT)) {
            break;
        }
        i = nic_le16(d + 14);
        if (i >= q->num) {
            vq_broken(s, "next descriptor index out of range");
            return false;
        }
    }
    *nsegs = n;
    return true;
}

static void vq_push(VirtioNet *s, VirtQueue *q, int head, uint32_t len)
{
    uint8_t e[8];
    nic_put_le32(e, head);
    nic_put_le32(e + 4, len);
    memmap_write(mem_of(s), q->used + 4 + 8ull * (q->used_idx % q->num), e,
                 8);
    q->used_idx++;
    st16(s, q->used + 2, q->used_idx);
    q->last_avail++;
}

/* Interrupt the driver for what was used since the last decision: as
   its used_event asks with EVENT_IDX (2.4.7.2: notify when the used
   index moved past it), else unless the available ring's flags say not
   to. */
static void vq_notify(VirtioNet *s, VirtQueue *q)
{
    bool need;
    if (has(s, F_EVENT_IDX)) {
        uint16_t ev = ld16(s, q->avail + 4 + 2u * q->num);
        uint16_t old = q->signalled, now = q->used_idx;
        need = !q->signalled_valid ||
               (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
        q->signalled = now;
        q->signalled_valid = 1;
    } else {
        need = !(ld16(s, q->avail) & AVAIL_F_NO_INTERRUPT);
    }
    if (need) {
        s->isr |= 1;
        update_irq(s);
    }
}

/* With EVENT_IDX, the driver kicks once it makes available the entry
   after avail_event: the one the device will look at next. */
static void vq_set_avail_event(VirtioNet *s, VirtQueue *q)
{
    if (has(s, F_EVENT_IDX)) {
        st16(s, q->used + 4 + 8ull * q->num, q->last_avail);
    }
}

/* ---- receive ---- */

/* What goes into the guest's buffers: the header, then the frame. */
typedef struct RxSrc {
    const uint8_t *hdr;
    size_t hl;
    const uint8_t *buf;
    size_t len;
} RxSrc;

static void rx_copy(VirtioNet *s, uint64_t addr, const RxSrc *src,
                    size_t pos, size_t n)
{
    if (pos < src->hl) {
        size_t k = MIN(n, src->hl - pos);
        memmap_write(mem_of(s), addr, src->hdr + pos, k);
        addr += k;
        pos += k;
        n -= k;
    }
    if (n) {
        memmap_write(mem_of(s), addr, src->buf + (pos - src->hl), n);
    }
}

/* Walk the receive chain from head (at most num descriptors): the room
   in its device-writable buffers, or -1 when the chain is broken.  With
   src, the bytes of src from *pos on are written into it (*pos moves
   on). */
static int64_t rx_chain(VirtioNet *s, VirtQueue *q, unsigned head,
                        const RxSrc *src, size_t *pos)
{
    unsigned i = head, n = 0;
    int64_t room = 0;
    size_t total = src ? src->hl + src->len : 0;
    for (;;) {
        if (n++ >= q->num) {
            vq_broken(s, "descriptor chain longer than the ring");
            return -1;
        }
        uint8_t d[16];
        memmap_read(mem_of(s), q->desc + 16ull * i, d, 16);
        uint16_t flags = nic_le16(d + 12);
        if (flags & DESC_F_INDIRECT) {
            vq_broken(s, "indirect descriptor (not offered)");
            return -1;
        }
        if (flags & DESC_F_WRITE) {
            uint32_t len = nic_le32(d + 8);
            room += len;
            if (src && *pos < total) {
                size_t k = MIN((size_t)len, total - *pos);
                rx_copy(s, nic_le64(d), src, *pos, k);
                *pos += k;
            }
        }
        if (!(flags & DESC_F_NEXT)) {
            return room;
        }
        i = nic_le16(d + 14);
        if (i >= q->num) {
            vq_broken(s, "next descriptor index out of range");
            return -1;
        }
    }
}

/* Put one frame (virtio_net_hdr at hdr) in the receive queue: into one
   chain, or with MRG_RXBUF across as many as it takes (num_buffers in
   the header says how many).  false: not enough buffers yet (the frame
   waits); true: delivered, or lost as on a wire. */
static bool rx_put(VirtioNet *s, uint8_t *hdr, const uint8_t *buf,
                   size_t len)
{
    VirtQueue *q = &s->vq[0];
    bool mrg = has(s, F_MRG_RXBUF);
    RxSrc src = { hdr, hdr_len(s), buf, len };
    size_t total = src.hl + len;
    uint16_t pending = ld16(s, q->avail + 2) - q->last_avail;
    if (pending > q->num) {
        vq_broken(s, "more available buffers than the ring holds");
        return true;
    }
    /* How many chains the frame needs (each walk is bounded by num, and
       at most pending <= num chains are looked at). */
    unsigned chains = 0;
    uint64_t room = 0;
    while (room < total && (mrg || chains == 0)) {
        if (chains == pending) {
            vq_set_avail_event(s, q);
            return false;
        }
        uint16_t head = ld16(s, q->avail + 4 +
                             2u * ((q->last_avail + chains) % q->num));
        if (head >= q->num) {
            vq_broken(s, "available descriptor index out of range");
            return true;
        }
        int64_t r = rx_chain(s, q, head, NULL, NULL);
        if (r < 0) {
            return true;
        }
        room += r;
        chains++;
    }
    if (room < total) {
        /* Without mergeable buffers a frame must fit one chain. */
        mimic_log_guest("virtio-net: receive buffer of %" PRIu64 " bytes "
                        "too small for a %zu-byte frame", room, total);
        src.len = 0;
        src.hl = 0;
        total = 0;
    }
    if (src.hl == 12) {
        nic_put_le16(hdr + 10, chains); /* num_buffers */
    }
    size_t pos = 0;
    for (unsigned c = 0; c < chains; c++) {
        uint16_t head = ld16(s, q->avail + 4 +
                             2u * ((q->last_avail + c) % q->num));
        size_t before = pos;
        if (head >= q->num || rx_chain(s, q, head, &src, &pos) < 0) {
            return true; /* the guest changed the ring under us: broken */
        }
        uint8_t e[8];
        nic_put_le32(e, head);
        nic_put_le32(e + 4, pos - before);
        memmap_write(mem_of(s), q->used + 4 +
                     8ull * ((q->used_idx + c) % q->num), e, 8);
    }
    q->used_idx += chains;
    q->last_avail += chains;
    st16(s, q->used + 2, q->used_idx);
    vq_set_avail_event(s, q);
    vq_notify(s, q);
    return true;
}

/* One frame as the wire brought it: the checksum offload flag set when
   the driver takes it (GUEST_CSUM) and the checksums are right. */
static bool rx_plain(VirtioNet *s, const uint8_t *buf, size_t len)
{
    uint8_t hdr[12] = { 0 };
    if (has(s, F_GUEST_CSUM)) {
        NicRxCsum c;
        nic_rx_checksums(buf, len, &c);
        if (c.ip_ok && c.l4 && c.l4_ok) {
            hdr[0] = HDR_F_DATA_VALID;
        }
    }
    return rx_put(s, hdr, buf, len);
}

/* Receive coalescing (with GUEST_TSO4): consecutive in-order segments of
   one TCP connection that arrive in one burst from the back end (slirp
   answers a window's worth at once) go to the guest as one large TCP
   packet marked GSO_TCPV4 with the segments' size, as a host's GRO does
   for a tap device.  Only plain data segments (ACK, maybe PSH; no other
   flag; IPv4 without options; checksums checked) are merged, with equal
   headers apart from sequence number, window and PSH.  The merged frame
   gets its own lengths and checksums, so it is a valid frame too. */
#define LRO_MAX (14 + 65535)

typedef struct TcpSeg {
    size_t thl, hdr, payload; /* TCP header, all headers, data bytes */
    uint32_t seq;
} TcpSeg;

static bool lro_candidate(const uint8_t *f, size_t len, TcpSeg *t)
{
    if (len < 14 + 20 + 20 || nic_be16(f + 12) != 0x0800 || f[14] != 0x45 ||
        f[23] != 6 || (nic_be16(f + 20) & 0x3fff)) {
        return false;
    }
    size_t tot = nic_be16(f + 16);
    if (tot < 40 || 14 + tot > len) {
        return false;
    }
    const uint8_t *th = f + 34;
    t->thl = (th[12] >> 4) * 4u;
    if (t->thl < 20 || 20 + t->thl >= tot || (th[13] & ~0x08) != 0x10) {
        return false; /* no data, or a flag besides ACK and PSH */
    }
    t->hdr = 34 + t->thl;
    t->payload = 14 + tot - t->hdr;
    t->seq = (uint32_t)nic_be16(th + 4) << 16 | nic_be16(th + 6);
    NicRxCsum c;
    nic_rx_checksums(f, 14 + tot, &c);
    return c.ip_ok && c.l4 && c.l4_ok;
}

/* Deliver the frame being merged; false when the guest has no room. */
static bool lro_flush(VirtioNet *s)
{
    if (!s->lro_len) {
        return true;
    }
    uint8_t *f = s->lro;
    size_t len = s->lro_len;
    uint8_t hdr[12] = { 0 };
    hdr[0] = HDR_F_DATA_VALID;
    if (s->lro_segs > 1) {
        size_t thl = (f[34 + 12] >> 4) * 4u;
        nic_put_be16(f + 16, len - 14);
        nic_ipv4_checksums(f, len, true, true);
        hdr[1] = GSO_TCPV4;
        nic_put_le16(hdr + 2, 34 + thl);     /* hdr_len */
        nic_put_le16(hdr + 4, s->lro_mss);   /* gso_size */
    }
    if (!rx_put(s, hdr, f, len)) {
        return false;
    }
    s->lro_len = 0;
    return true;
}

/* Append to the frame being merged when f continues it. */
static bool lro_append(VirtioNet *s, const uint8_t *f, const TcpSeg *t)
{
    uint8_t *m = s->lro;
    if (!s->lro_len || s->lro_closed || t->seq != s->lro_next_seq ||
        t->payload > s->lro_mss || s->lro_len + t->payload > LRO_MAX ||
        t->hdr != s->lro_hdr ||
        memcmp(m, f, 16) != 0 ||                  /* MACs, type, TOS */
        memcmp(m + 20, f + 20, 4) != 0 ||         /* DF, TTL, protocol */
        memcmp(m + 26, f + 26, 8) != 0 ||         /* addresses */
        memcmp(m + 34, f + 34, 4) != 0 ||         /* ports */
        memcmp(m + 34 + 8, f + 34 + 8, 4) != 0 || /* ACK number */
        memcmp(m + 54, f + 54, t->hdr - 54) != 0) { /* TCP options */
        return false;
    }
    memcpy(m + s->lro_len, f + t->hdr, t->payload);
    s->lro_len += t->payload;
    s->lro_segs++;
    s->lro_next_seq += t->payload;
    m[34 + 13] |= f[34 + 13] & 0x08;       /* PSH */
    memcpy(m + 34 + 14, f + 34 + 14, 2);   /* the newest window */
    if (t->payload < s->lro_mss || (f[34 + 13] & 0x08)) {
        s->lro_closed = true; /* a short or pushed segment ends it */
    }
    return true;
}

static bool rx_frame(VirtioNet *s, const uint8_t *buf, size_t len)
{
    VirtQueue *q = &s->vq[0];
    if (!vq_ready(s, q) || s->link != LINK_UP) {
        s->lro_len = 0;
        return true; /* no driver: the frame is lost on the wire */
    }
    TcpSeg t;
    bool cand = has(s, F_GUEST_TSO4) && has(s, F_GUEST_CSUM) &&
                lro_candidate(buf, len, &t);
    if (cand && lro_append(s, buf, &t)) {
        return true;
    }
    if (!lro_flush(s)) {
        return !!(s->status & S_NEEDS_RESET); /* wait for buffers */
    }
    if (cand) {
        size_t flen = t.hdr + t.payload; /* without Ethernet padding */
        memcpy(s->lro, buf, flen);
        s->lro_len = flen;
        s->lro_hdr = t.hdr;
        s->lro_segs = 1;
        s->lro_mss = t.payload;
        s->lro_next_seq = t.seq + t.payload;
        s->lro_closed = (buf[34 + 13] & 0x08) != 0;
        return true;
    }
    if (!rx_plain(s, buf, len)) {
        return !!(s->status & S_NEEDS_RESET);
    }
    return true;
}

static bool vnet_receive(void *opaque, const uint8_t *buf, size_t len)
{
    VirtioNet *s = opaque;
    if (s->in_rx) {
        return false;
    }
    s->in_rx = true;
    bool r = rx_frame(s, buf, len);
    s->in_rx = false;
    return r;
}

/* The end of the back end's burst: what is being merged goes now. */
static void vnet_batch_end(void *opaque)
{
    VirtioNet *s = opaque;
    if (s->in_rx || !s->lro_len) {
        return;
    }
    s->in_rx = true;
    if (!vq_ready(s, &s->vq[0]) || s->link != LINK_UP) {
        s->lro_len = 0;
    } else {
        lro_flush(s);
    }
    s->in_rx = false;
}

/* The driver gave receive buffers (or started): what waits goes now. */
static void rx_kick(VirtioNet *s)
{
    vnet_batch_end(s);
    if (!s->lro_len) {
        net_port_flush(s->port);
        vnet_batch_end(s);
    }
}

static void vnet_link_changed(void *opaque, bool up)
{
    VirtioNet *s = opaque;
    s->link = up ? LINK_UP : 0;
    s->generation++;
    s->isr |= 2;
    update_irq(s);
}

static const NetPortOps vnet_port_ops = {
    .receive = vnet_receive, .link_changed = vnet_link_changed,
    .batch_end = vnet_batch_end,
};

/* ---- transmit ---- */

static void emit(void *opaque, uint8_t *p, size_t len)
{
    net_send(((VirtioNet *)opaque)->port, p, len);
}

static void tx_one(VirtioNet *s, uint8_t *p, size_t len)
{
    size_t hl = hdr_len(s);
    if (len < hl) {
        return;
    }
    uint8_t flags = p[0], gso = p[1];
    uint16_t gso_size = nic_le16(p + 4);
    uint16_t cstart = nic_le16(p + 6), coff = nic_le16(p + 8);
    uint8_t *f = p + hl;
    len -= hl;
    /* A back end that takes large frames gets the TSO frame whole, as
       one segment with its lengths and checksums filled in. */
    if ((gso & 0x7f) == GSO_TCPV4 && has(s, F_HOST_TSO4) &&
        nic_tcp_segment(f, len, net_port_peer_takes_large(s->port)
                        ? NET_MAX_FRAME : gso_size, emit, s)) {
        return;
    }
    if ((flags & HDR_F_NEEDS_CSUM) && (size_t)cstart + coff + 2 <= len) {
        uint16_t c = nic_csum_fold(nic_csum_add(0, f + cstart,
                                                len - cstart));
        nic_put_be16(f + cstart + coff, ~c);
    }
    net_send(s->port, f, len);
}

static void tx_run(VirtioNet *s)
{
    VirtQueue *q = &s->vq[1];
    if (s->in_tx || !vq_ready(s, q)) {
        return;
    }
    s->in_tx = true;
    Seg *segs = g_new(Seg, q->num);
    bool used = false;
    int head;
    /* At most num chains are ever pending (vq_peek checks it). */
    while ((head = vq_peek(s, q)) >= 0) {
        unsigned n;
        if (!vq_chain(s, q, head, segs, &n)) {
            break;
        }
        size_t len = 0;
        bool oversize = false;
        for (unsigned i = 0; i < n; i++) {
            if (segs[i].write) {
                continue;
            }
            if (len + segs[i].len > BUF_SIZE) {
                oversize = true;
                break;
            }
            memmap_read(mem_of(s), segs[i].addr, s->buf + len, segs[i].len);
            len += segs[i].len;
        }
        if (oversize) {
            mimic_log_guest("virtio-net: transmit frame over %d bytes "
                            "dropped", BUF_SIZE);
        } else {
            tx_one(s, s->buf, len);
        }
        vq_push(s, q, head, 0);
        used = true;
    }
    g_free(segs);
    vq_set_avail_event(s, q);
    if (used) {
        vq_notify(s, q);
    }
    s->in_tx = false;
    net_batch_end(s->port);
}

static void queue_notify(VirtioNet *s, unsigned idx)
{
    if (idx == 1) {
        tx_run(s);
    } else if (idx == 0) {
        rx_kick(s);
    }
}

/* ---- device configuration (MAC, status, queue pairs) ---- */

static uint32_t devcfg_read(VirtioNet *s, unsigned off, unsigned size)
{
    uint8_t cfg[12] = { 0 };
    memcpy(cfg, s->mac, 6);
    nic_put_le16(cfg + 6, s->link);
    nic_put_le16(cfg + 8, 1);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        if (off + i < sizeof(cfg)) {
            v |= (uint32_t)cfg[off + i] << (8 * i);
        }
    }
    return v;
}

static void status_write(VirtioNet *s, uint8_t v)
{
    if (v == 0) {
        device_reset(s);
        return;
    }
    bool was_ok = s->status & S_DRIVER_OK;
    s->status = v | (s->status & S_NEEDS_RESET);
    if (!was_ok && (v & S_DRIVER_OK)) {
        rx_kick(s);
    }
}

/* ---- legacy I/O BAR ---- */

static VirtQueue *cur_q(VirtioNet *s)
{
    return s->queue_sel < VIRTIO_NET_QUEUES ? &s->vq[s->queue_sel] : NULL;
}

static uint32_t legacy_read(void *opaque, uint16_t off, unsigned size)
{
    VirtioNet *s = opaque;
    VirtQueue *q = cur_q(s);
    if (off >= LEGACY_CFG) {
        return devcfg_read(s, off - LEGACY_CFG, size);
    }
    switch (off) {
    case 0x00: return (uint32_t)HOST_FEATURES;
    case 0x04: return (uint32_t)s->guest_features;
    case 0x08: return q ? q->desc >> 12 : 0;
    case 0x0c: return q ? VIRTIO_NET_QUEUE_MAX : 0;
    case 0x0e: return s->queue_sel;
    case 0x12: return s->status;
    case 0x13: {
        uint8_t v = s->isr;
        s->isr = 0;
        update_irq(s);
        return v;
    }
    default: return 0;
    }
}

static void legacy_write(void *opaque, uint16_t off, uint32_t v,
                         unsigned size)
{
    VirtioNet *s = opaque;
    VirtQueue *q = cur_q(s);
    switch (off) {
    case 0x04:
        s->guest_features = v & (uint32_t)HOST_FEATURES;
        break;
    case 0x08:
        if (!q) {
            break;
        }
        if (v == 0) {
            memset(q, 0, sizeof(*q));
            q->num = VIRTIO_NET_QUEUE_MAX;
            break;
        }
        /* The legacy layout: descriptors, available ring, then the used
           ring at the next 4 KiB boundary. */
        q->num = VIRTIO_NET_QUEUE_MAX;
        q->desc = (uint64_t)v << 12;
        q->avail = q->desc + 16u * q->num;
        q->used = (q->avail + 6 + 2u * q->num + 4095) & ~4095ull;
        q->enabled = 1;
        q->last_avail = q->used_idx = 0;
        q->signalled_valid = 0;
        break;
    case 0x0e:
        s->queue_sel = v;
        break;
    case 0x10:
        queue_notify(s, v & 0xffff);
        break;
    case 0x12:
        status_write(s, v);
        break;
    default:
        break;
    }
}

/* ---- modern memory BAR ---- */

static uint32_t common_read(VirtioNet *s, unsigned off, unsigned size)
{
    VirtQueue *q = cur_q(s);
    uint64_t v;
    switch (off & ~(size - 1)) {
    case 0x00: return s->dfselect;
    case 0x04:
        return s->dfselect < 2 ? (uint32_t)(HOST_FEATURES >>
                                            (32 * s->dfselect)) : 0;
    case 0x08: return s->gfselect;
    case 0x0c:
        return s->gfselect < 2 ? (uint32_t)(s->guest_features >>
                                            (32 * s->gfselect)) : 0;
    case 0x10: return 0xffff; /* no MSI-X vector */
    case 0x12: return VIRTIO_NET_QUEUES;
    case 0x14: return size == 1 ? s->status
                                : s->status | (uint32_t)s->generation << 8;
    case 0x15: return s->generation;
    case 0x16: return s->queue_sel;
    case 0x18: return q ? q->num : 0;
    case 0x1a: return 0xffff;
    case 0x1c: return q ? q->enabled : 0;
    case 0x1e: return q ? s->queue_sel : 0;
    case 0x20: case 0x24: v = q ? q->desc : 0; break;
    case 0x28: case 0x2c: v = q ? q->avail : 0; break;
    case 0x30: case 0x34: v = q ? q->used : 0; break;
    default: return 0;
    }
    return (off & 4) ? v >> 32 : (uint32_t)v;
}

static void set_half(uint64_t *p, unsigned off, uint32_t v)
{
    if (off & 4) {
        *p = (*p & 0xffffffffull) | (uint64_t)v << 32;
    } else {
        *p = (*p & ~0xffffffffull) | v;
    }
}

static void common_write(VirtioNet *s, unsigned off, uint32_t v,
                         unsigned size)
{
    VirtQueue *q = cur_q(s);
    switch (off & ~(size - 1)) {
    case 0x00: s->dfselect = v; break;
    case 0x08: s->gfselect = v; break;
    case 0x0c:
        if (s->gfselect < 2) {
            uint64_t m = 0xffffffffull << (32 * s->gfselect);
            s->guest_features = (s->guest_features & ~m) |
                                (((uint64_t)v << (32 * s->gfselect)) &
                                 HOST_FEATURES);
        }
        break;
    case 0x14: status_write(s, v); break;
    case 0x16: s->queue_sel = v; break;
    case 0x18:
        /* A power of two up to the maximum, or the queue stays unused. */
        if (q && !q->enabled) {
            q->num = (v && v <= VIRTIO_NET_QUEUE_MAX && !(v & (v - 1)))
                     ? v : 0;
        }
        break;
    case 0x1c:
        if (q && v == 1) {
            q->enabled = 1;
            q->last_avail = q->used_idx = 0;
            q->signalled_valid = 0;
            if (s->queue_sel == 0) {
                rx_kick(s);
            }
        }
        break;
    case 0x20: case 0x24: if (q) set_half(&q->desc, off, v); break;
    case 0x28: case 0x2c: if (q) set_half(&q->avail, off, v); break;
    case 0x30: case 0x34: if (q) set_half(&q->used, off, v); break;
    default: break;
    }
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    VirtioNet *s = opaque;
    if (off < BAR_COMMON + 0x40) {
        return common_read(s, off, size);
    }
    if (off >= BAR_ISR && off < BAR_ISR + 4) {
        uint8_t v = s->isr;
        s->isr = 0;
        update_irq(s);
        return v;
    }
    if (off >= BAR_DEVICE && off < BAR_DEVICE + 0x100) {
        return devcfg_read(s, off - BAR_DEVICE, size);
    }
    return 0;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    VirtioNet *s = opaque;
    if (off < BAR_COMMON + 0x40) {
        common_write(s, off, v, size);
    } else if (off >= BAR_NOTIFY && off < BAR_NOTIFY + 0x100) {
        queue_notify(s, (off - BAR_NOTIFY) / NOTIFY_MULT);
    }
}

static const MemOps vnet_mmio_ops = {
    .read = mmio_read, .write = mmio_write, .min = 1, .max = 4,
};

/* ---- PCI capabilities ---- */

static void add_cap(VirtioNet *s, uint8_t at, uint8_t next, uint8_t type,
                    uint32_t offset, uint32_t length)
{
    uint8_t *c = s->pci.config + at;
    c[0] = 0x09; /* vendor specific */
    c[1] = next;
    c[2] = type == 2 || type == 5 ? 20 : 16;
    c[3] = type;
    c[4] = MODERN_BAR;
    pci_set_long(c + 8, offset);
    pci_set_long(c + 12, length);
    if (type == 2) {
        pci_set_long(c + 16, NOTIFY_MULT);
    }
}

/* The PCI configuration access capability (4.1.4.7): the driver puts a
   BAR, offset and length in the capability and reads or writes its data
   field; the access goes to the BAR at that offset.  Only the modern BAR,
   aligned 1, 2 or 4-byte accesses inside it; anything else reads 0 and
   writes nothing. */
#define CFG_CAP 0x84
#define CFG_CAP_DATA (CFG_CAP + 16)

static bool cfg_window(VirtioNet *s, uint32_t *off, unsigned *len)
{
    const uint8_t *c = s->pci.config + CFG_CAP;
    *off = pci_get_long(c + 8);
    *len = pci_get_long(c + 12);
    return c[4] == MODERN_BAR && (*len == 1 || *len == 2 || *len == 4) &&
           !(*off & (*len - 1)) && *off < BAR_SIZE;
}

static bool touches_data(uint32_t addr, unsigned len)
{
    return addr < CFG_CAP_DATA + 4 && addr + len > CFG_CAP_DATA;
}

static void vnet_config_reading(PciFunc *f, uint32_t addr, unsigned len)
{
    VirtioNet *s = f->owner;
    uint32_t off;
    unsigned n;
    if (!touches_data(addr, len)) {
        return;
    }
    uint32_t v = cfg_window(s, &off, &n) ? mmio_read(s, off, n) : 0;
    pci_set_long(s->pci.config + CFG_CAP_DATA, v);
}

static void vnet_config_written(PciFunc *f, uint32_t addr, uint32_t val,
                                unsigned len)
{
    VirtioNet *s = f->owner;
    uint32_t off;
    unsigned n;
    (void)val;
    if (touches_data(addr, len) && cfg_window(s, &off, &n)) {
        uint32_t v = pci_get_long(s->pci.config + CFG_CAP_DATA);
        mmio_write(s, off, n == 4 ? v : v & ((1u << (8 * n)) - 1), n);
    }
}

static bool vnet_realize(Device *dev, GError **error)
{
    VirtioNet *s = (VirtioNet *)dev;
    s->buf = g_malloc(BUF_SIZE + 64);
    s->lro = g_malloc(LRO_MAX + 64);
    pci_add_function(s->bus, &s->pci, s->devfn, 0x1af4, 0x1000, 0x02000000,
                     s);
    pci_set_word(s->pci.config + PCI_SUBSYS_VENDOR, 0x1af4);
    pci_set_word(s->pci.config + PCI_SUBSYS_ID, 1); /* network */
    s->pci.config[PCI_INTERRUPT_PIN] = 1;
    s->pci.config[PCI_STATUS] |= 0x10; /* capability list */
    s->pci.config[0x34] = 0x40;
    add_cap(s, 0x40, 0x50, 1, BAR_COMMON, 0x38);
    add_cap(s, 0x50, 0x60, 3, BAR_ISR, 4);
    add_cap(s, 0x60, 0x70, 4, BAR_DEVICE, 12);
    add_cap(s, 0x70, CFG_CAP, 2, BAR_NOTIFY,
            NOTIFY_MULT * VIRTIO_NET_QUEUES);
    /* iPXE's driver wants this one even when it maps the BAR itself. */
    add_cap(s, CFG_CAP, 0x00, 5, 0, 0);
    s->pci.wmask[CFG_CAP + 4] = 0xff;
    pci_set_long(s->pci.wmask + CFG_CAP + 8, 0xffffffff);
    pci_set_long(s->pci.wmask + CFG_CAP + 12, 0xffffffff);
    pci_set_long(s->pci.wmask + CFG_CAP_DATA, 0xffffffff);
    s->pci.config_written = vnet_config_written;
    s->pci.config_reading = vnet_config_reading;
    s->io = (IoRegion){ .len = 0x40, .min = 1, .max = 4, .read = legacy_read,
                        .write = legacy_write, .name = "virtio-net-io" };
    pci_set_bar_io(&s->pci, 0, 0x40, &s->io, s);
    g_autofree char *name = g_strdup_printf("%s.mmio", dev->id);
    s->mmio = memmap_add_mmio(dev->bus->mem, name, 0xfc000000ull +
                              (uint64_t)(s->devfn >> 3) * 0x20000, BAR_SIZE,
                              &vnet_mmio_ops, s, 3);
    pci_set_bar_mem(&s->pci, MODERN_BAR, s->mmio);
    s->port = net_port_new(dev->id, &vnet_port_ops, s);
    g_autofree char *info = g_strdup_printf(
        "type=nic,model=virtio-net-pci,macaddr=%02x:%02x:%02x:%02x:%02x:%02x",
        s->mac[0], s->mac[1], s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
    net_port_set_info(s->port, info);
    return true;
}

static void vnet_reset(Device *dev)
{
    VirtioNet *s = (VirtioNet *)dev;
    pci_reset_function(&s->pci);
    s->link = net_port_link(s->port) ? LINK_UP : 0;
    device_reset(s);
}

static void vnet_finalize(Device *dev)
{
    VirtioNet *s = (VirtioNet *)dev;
    net_port_free(s->port);
    g_free(s->buf);
    g_free(s->lro);
}

static bool vnet_post_load(void *obj, GError **error)
{
    VirtioNet *s = obj;
    for (int i = 0; i < VIRTIO_NET_QUEUES; i++) {
        uint16_t n = s->vq[i].num;
        if (n > VIRTIO_NET_QUEUE_MAX || (n & (n - 1))) {
            g_set_error(error, STATE_ERROR, 0,
                        "virtio-net: invalid queue size %u", n);
            return false;
        }
    }
    s->guest_features &= HOST_FEATURES;
    s->link &= LINK_UP;
    s->lro_len = 0;
    for (int i = 0; i < VIRTIO_NET_QUEUES; i++) {
        s->vq[i].signalled_valid = 0;
    }
    net_port_init_link(s->port, s->link == LINK_UP);
    pci_update_mappings(&s->pci);
    update_irq(s);
    rx_kick(s);
    return true;
}

static const StateField vq_fields[] = {
    STATE_U64(VirtQueue, desc), STATE_U64(VirtQueue, avail),
    STATE_U64(VirtQueue, used), STATE_U16(VirtQueue, num),
    STATE_U16(VirtQueue, enabled), STATE_U16(VirtQueue, last_avail),
    STATE_U16(VirtQueue, used_idx), STATE_END,
};

static const StateDesc vnet_state = {
    .name = "virtio-net", .version = 1, .min_version = 1,
    .post_load = vnet_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(VirtioNet, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_U64(VirtioNet, guest_features),
        STATE_U32(VirtioNet, dfselect), STATE_U32(VirtioNet, gfselect),
        STATE_U16(VirtioNet, queue_sel), STATE_U8(VirtioNet, status),
        STATE_U8(VirtioNet, isr), STATE_U8(VirtioNet, generation),
        STATE_U16(VirtioNet, link),
        STATE_STRUCT_ARRAY(VirtioNet, vq, VIRTIO_NET_QUEUES, vq_fields),
        STATE_END },
};

const DeviceInfo virtio_net_info = {
    .name = "virtio-net-pci", .size = sizeof(VirtioNet),
    .state = &vnet_state, .realize = vnet_realize, .reset = vnet_reset,
    .finalize = vnet_finalize,
};
