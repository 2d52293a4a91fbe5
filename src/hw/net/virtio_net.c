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

#include <string.h>

#include "bus/log.h"
#include "hw/net/nic_util.h"

/* Feature bits */
#define F_CSUM 0
#define F_MAC 5
#define F_HOST_TSO4 11
#define F_STATUS 16
#define F_VERSION_1 32
#define HOST_FEATURES ((1ull << F_CSUM) | (1ull << F_MAC) | \
                       (1ull << F_HOST_TSO4) | (1ull << F_STATUS) | \
                       (1ull << F_VERSION_1))

/* Device status */
#define S_DRIVER_OK 4
#define S_NEEDS_RESET 0x40

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define DESC_F_INDIRECT 4
#define AVAIL_F_NO_INTERRUPT 1

#define HDR_F_NEEDS_CSUM 1
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

static size_t hdr_len(const VirtioNet *s)
{
    return modern(s) ? 12 : 10;
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

static void vq_notify(VirtioNet *s, VirtQueue *q)
{
    if (!(ld16(s, q->avail) & AVAIL_F_NO_INTERRUPT)) {
        s->isr |= 1;
        update_irq(s);
    }
}

/* ---- receive ---- */

static bool rx_frame(VirtioNet *s, const uint8_t *buf, size_t len)
{
    VirtQueue *q = &s->vq[0];
    if (!vq_ready(s, q) || s->link != LINK_UP) {
        return true; /* no driver: the frame is lost on the wire */
    }
    int head = vq_peek(s, q);
    if (head < 0) {
        return !!(s->status & S_NEEDS_RESET); /* wait for buffers */
    }
    Seg *segs = g_new(Seg, q->num);
    unsigned n;
    if (!vq_chain(s, q, head, segs, &n)) {
        g_free(segs);
        return true;
    }
    size_t hl = hdr_len(s), total = hl + len, room = 0;
    for (unsigned i = 0; i < n; i++) {
        if (segs[i].write) {
            room += segs[i].len;
        }
    }
    if (room < total) {
        /* Without mergeable buffers a frame must fit one chain. */
        g_free(segs);
        mimic_log_guest("virtio-net: receive buffer of %zu bytes too small "
                        "for a %zu-byte frame", room, total);
        vq_push(s, q, head, 0);
        vq_notify(s, q);
        return true;
    }
    memset(s->rxbuf, 0, hl);
    if (hl == 12) {
        nic_put_le16(s->rxbuf + 10, 1); /* num_buffers */
    }
    memcpy(s->rxbuf + hl, buf, len);
    size_t done = 0;
    for (unsigned i = 0; i < n && done < total; i++) {
        if (!segs[i].write) {
            continue;
        }
        size_t chunk = MIN((size_t)segs[i].len, total - done);
        memmap_write(mem_of(s), segs[i].addr, s->rxbuf + done, chunk);
        done += chunk;
    }
    g_free(segs);
    vq_push(s, q, head, total);
    vq_notify(s, q);
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
    if ((gso & 0x7f) == GSO_TCPV4 &&
        (s->guest_features & (1ull << F_HOST_TSO4)) &&
        nic_tcp_segment(f, len, gso_size, emit, s)) {
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
    if (used) {
        vq_notify(s, q);
    }
    s->in_tx = false;
}

static void queue_notify(VirtioNet *s, unsigned idx)
{
    if (idx == 1) {
        tx_run(s);
    } else if (idx == 0) {
        net_port_flush(s->port);
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
        net_port_flush(s->port);
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
            if (s->queue_sel == 0) {
                net_port_flush(s->port);
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
    s->rxbuf = g_malloc(BUF_SIZE + 64);
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
    g_free(s->rxbuf);
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
    net_port_init_link(s->port, s->link == LINK_UP);
    pci_update_mappings(&s->pci);
    update_irq(s);
    net_port_flush(s->port);
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
