/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * EHCI host controller (usb-ehci): the USB2 function of Intel's 82801DB
 * (8086:24cd, class 0c0320), six root-hub ports, no companion
 * controllers.
 * References: Enhanced Host Controller Interface Specification for USB
 * 1.0 (2.2 capability registers, 2.3 operational registers, 3.5 qTD,
 * 3.6 queue head, 4.6-4.7 periodic schedule, 4.8-4.10 asynchronous
 * schedule and queue-head traversal, 4.2.2 port routing); USB 2.0
 * specification 11.24.2.7 (port status bits the driver maps to them).
 *
 * Our devices all have high-speed descriptors, so every device on a port
 * is a high-speed device and the port enables itself at the end of its
 * reset (a full-speed device on a real EHCI would be handed to a
 * companion controller; there is none, as in QEMU's usb-ehci without
 * companions).  A usb-hub (full speed only) is refused on these ports.
 *
 * Timing: passes run from a timer of the machine clock (deterministic
 * under -icount): one per millisecond (a frame) while a schedule is
 * enabled, one per microframe (125 us) for EHCI_BUSY_PASSES passes after
 * a pass that completed a transfer, so the driver's next request (a
 * disk's next command phase) is picked up soon.  FRINDEX
 * counts microframes from the clock; the periodic schedule runs once per
 * frame for the frame list entry of that frame (every microframe's
 * S-mask at once), the asynchronous ring is walked on every pass.
 *
 * The schedules live in guest memory and are untrusted: every descriptor
 * is read and written through memmap_read/memmap_write; a pass visits
 * each queue head at most once per round of the asynchronous ring, at
 * most EHCI_ROUNDS rounds while transfers complete, at most EHCI_STEPS
 * descriptors and EHCI_PASS_BYTES bytes in all; a frame's periodic list
 * visits at most EHCI_STEPS entries and each queue head once.  A qTD
 * moves at most 20 KiB (its five pages); a larger length or a buffer
 * past the fifth page halts it with a data buffer error.  Isochronous
 * transfers (iTD, siTD) are skipped with a log: no device needs them.
 */
#include "hw/usb/ehci.h"

#include <string.h>

#include "bus/log.h"

#define MMIO_SIZE 0x1000
#define CAPLENGTH 0x20
#define HCIVERSION 0x0100

/* Operational registers, from CAPLENGTH. */
#define REG_USBCMD 0x00
#define REG_USBSTS 0x04
#define REG_USBINTR 0x08
#define REG_FRINDEX 0x0c
#define REG_CTRLDSSEGMENT 0x10
#define REG_PERIODICLISTBASE 0x14
#define REG_ASYNCLISTADDR 0x18
#define REG_CONFIGFLAG 0x40
#define REG_PORTSC 0x44

#define CMD_RS (1u << 0)
#define CMD_HCRESET (1u << 1)
#define CMD_PSE (1u << 4)
#define CMD_ASE (1u << 5)
#define CMD_IAAD (1u << 6)
#define CMD_ITC_MASK (0xffu << 16)
#define CMD_WMASK (CMD_RS | CMD_PSE | CMD_ASE | CMD_IAAD | CMD_ITC_MASK)

#define STS_INT (1u << 0)
#define STS_ERRINT (1u << 1)
#define STS_PCD (1u << 2)
#define STS_FLR (1u << 3)
#define STS_HSE (1u << 4)
#define STS_IAA (1u << 5)
#define STS_W1C 0x3fu
#define STS_HALT (1u << 12)
#define STS_PSS (1u << 14)
#define STS_ASS (1u << 15)

#define PORT_CCS (1u << 0)
#define PORT_CSC (1u << 1)
#define PORT_PE (1u << 2)
#define PORT_PEC (1u << 3)
#define PORT_OCC (1u << 5)
#define PORT_FPR (1u << 6)
#define PORT_SUSP (1u << 7)
#define PORT_PR (1u << 8)
#define PORT_PP (1u << 12)
#define PORT_PO (1u << 13)
#define PORT_RW (PORT_FPR | PORT_SUSP | PORT_PR | PORT_PO | (0x3fu << 14) | \
                 (7u << 20)) /* indicators, test control, wake enables */
#define PORT_W1C (PORT_CSC | PORT_PEC | PORT_OCC)

/* Link pointers. */
#define LINK_T 1u
#define LINK_TYP(l) (((l) >> 1) & 3)
#define TYP_ITD 0
#define TYP_QH 1
#define TYP_SITD 2
#define TYP_FSTN 3

/* Queue head endpoint characteristics (dword 1). */
#define QH_DTC (1u << 14)

/* qTD token. */
#define QTD_ERR_PING (1u << 0)
#define QTD_XACT (1u << 3)
#define QTD_BABBLE (1u << 4)
#define QTD_BUFERR (1u << 5)
#define QTD_HALTED (1u << 6)
#define QTD_ACTIVE (1u << 7)
#define QTD_PID(t) (((t) >> 8) & 3)
#define QTD_CERR_MASK (3u << 10)
#define QTD_CPAGE_SHIFT 12
#define QTD_CPAGE_MASK (7u << 12)
#define QTD_IOC (1u << 15)
#define QTD_BYTES_SHIFT 16
#define QTD_BYTES(t) (((t) >> 16) & 0x7fff)
#define QTD_DT (1u << 31)

#define QTD_MAXBYTES 0x5000 /* five 4 KiB pages */
#define UFRAME_NS 125000
#define FRAME_NS 1000000
#define EHCI_STEPS 4096      /* descriptors a pass or a frame visits */
#define EHCI_MAX_QH 128      /* queue heads a round tells apart */
#define EHCI_ROUNDS 16       /* rounds of the async ring in one pass */
#define EHCI_PASS_BYTES (512 * 1024)
#define EHCI_BUSY_PASSES 16  /* microframe passes after a completion */

enum { XFER_DONE, XFER_SHORT, XFER_NAK, XFER_STOP };

static void update_irq(Ehci *s)
{
    bool level = (s->usbsts & s->usbintr & STS_W1C) != 0;
    if (s->set_irq) {
        s->set_irq(s->irq_opaque, level);
    }
}

static uint32_t rd32(Ehci *s, uint32_t addr)
{
    uint8_t b[4];
    memmap_read(s->dev.bus->mem, addr, b, 4);
    return usb_le32(b);
}

static void wr32(Ehci *s, uint32_t addr, uint32_t v)
{
    uint8_t b[4];
    usb_put_le32(b, v);
    memmap_write(s->dev.bus->mem, addr, b, 4);
}

static void rd_words(Ehci *s, uint32_t addr, uint32_t *w, int n)
{
    uint8_t b[48];
    memmap_read(s->dev.bus->mem, addr, b, 4 * n);
    for (int i = 0; i < n; i++) {
        w[i] = usb_le32(b + 4 * i);
    }
}

static UsbDevice *find_device(Ehci *s, uint8_t addr)
{
    for (int i = 0; i < EHCI_PORTS; i++) {
        UsbDevice *d = s->ports[i].dev;
        uint32_t p = s->portsc[i];
        if (d && (p & PORT_PE) && !(p & (PORT_PO | PORT_SUSP))) {
            d = usb_find_device(d, addr);
            if (d) {
                return d;
            }
        }
    }
    return NULL;
}

/* The clock's FRINDEX (14 bits of microframes) while running. */
static uint32_t cur_frindex(Ehci *s)
{
    if (!(s->usbcmd & CMD_RS)) {
        return s->frindex;
    }
    int64_t d = clock_now(s->dev.bus->clock) - s->frindex_ns;
    return (s->frindex + (uint32_t)(MAX(d, 0) / UFRAME_NS)) & 0x3fff;
}

/* ---- transfers ---- */

/* Copy between the qTD's pages (w[7..11]: page 0 with the current
   offset, then pages 1-4; cpage the current one) and buf. */
static void qtd_dma(Ehci *s, const uint32_t *w, unsigned cpage,
                    uint8_t *buf, size_t len, bool to_guest)
{
    size_t done = 0;
    uint32_t off = w[7] & 0xfff;
    while (done < len && cpage <= 4) {
        uint32_t addr = (w[7 + cpage] & ~0xfffu) + off;
        size_t n = MIN(len - done, (size_t)(0x1000 - off));
        if (to_guest) {
            memmap_write(s->dev.bus->mem, addr, buf + done, n);
        } else {
            memmap_read(s->dev.bus->mem, addr, buf + done, n);
        }
        done += n;
        off = 0;
        cpage++;
    }
}

/* Run the transaction of a queue head's overlay (w: the QH's 12
   dwords); write the results back to the overlay and the qTD. */
static int run_overlay(Ehci *s, uint32_t qh, uint32_t *w)
{
    uint32_t token = w[6], epchar = w[1];
    uint32_t bytes = QTD_BYTES(token);
    unsigned cpage = (token & QTD_CPAGE_MASK) >> QTD_CPAGE_SHIFT;
    unsigned pid = QTD_PID(token);
    uint32_t off = w[7] & 0xfff;
    uint32_t err = 0;
    int ret = XFER_DONE;
    s->qtds_run++;
    s->pass_steps++;
    if (bytes > QTD_MAXBYTES || cpage > 4 ||
        off + bytes > (5 - cpage) * 0x1000u) {
        mimic_log_guest("ehci: qTD of %u bytes from page %u offset %u "
                        "overruns its buffer", bytes, cpage, off);
        err = QTD_BUFERR;
    } else if (pid == 3) {
        mimic_log_guest("ehci: qTD with the reserved PID code");
        err = QTD_XACT;
    }
    UsbDevice *d = err ? NULL : find_device(s, epchar & 0x7f);
    if (!err && !d) {
        err = QTD_XACT; /* nobody answers: the error count runs out */
    }
    uint32_t actual = 0;
    if (!err) {
        static const uint8_t pids[] = { USB_TOKEN_OUT, USB_TOKEN_IN,
                                        USB_TOKEN_SETUP };
        uint8_t data[QTD_MAXBYTES];
        UsbPacket p = { .pid = pids[pid], .ep = (epchar >> 8) & 0xf,
                        .data = data, .len = bytes };
        if (pid != 1) {
            qtd_dma(s, w, cpage, data, bytes, false);
        }
        int r = usb_handle_packet(d, &p);
        if (r == USB_RET_NAK) {
            return XFER_NAK; /* tried again next pass */
        }
        if (r == USB_RET_STALL) {
            err = QTD_HALTED;
        } else if (r != USB_RET_SUCCESS) {
            err = QTD_BABBLE;
        } else {
            actual = MIN(p.actual, (size_t)bytes);
            if (pid == 1 && actual) {
                qtd_dma(s, w, cpage, data, actual, true);
            }
        }
    }
    if (err) {
        token &= ~(QTD_ACTIVE | QTD_CERR_MASK);
        token |= QTD_HALTED | (err & ~QTD_HALTED);
        s->pending |= STS_ERRINT;
        ret = XFER_STOP;
    } else {
        uint32_t maxp = (epchar >> 16) & 0x7ff;
        uint32_t pkts = maxp && actual ? (actual + maxp - 1) / maxp : 1;
        uint32_t pos = off + actual;
        unsigned npage = MIN(cpage + (pos >> 12), 4u);
        token &= ~(QTD_ACTIVE | QTD_CPAGE_MASK | (0x7fffu << 16));
        token |= (bytes - actual) << QTD_BYTES_SHIFT |
                 npage << QTD_CPAGE_SHIFT;
        if (pkts & 1) {
            token ^= QTD_DT;
        }
        w[7] = (w[7] & ~0xfffu) | (pos & 0xfff);
        if (pid == 1 && actual < bytes) {
            s->pending |= STS_INT; /* a short packet */
            ret = XFER_SHORT;
        }
        s->pass_bytes += actual ? actual : 1;
    }
    if (token & QTD_IOC) {
        s->pending |= STS_INT;
    }
    w[6] = token;
    wr32(s, qh + 24, token);
    wr32(s, qh + 28, w[7]);
    wr32(s, (w[3] & ~0x1fu) + 8, token);
    return ret;
}

/* Service one queue head: advance to its next active qTD and run it,
   again while transfers complete.  True when one did. */
static bool run_qh(Ehci *s, uint32_t qh)
{
    uint32_t w[12];
    bool progress = false;
    rd_words(s, qh, w, 12);
    while (s->pass_steps < EHCI_STEPS && s->pass_bytes < EHCI_PASS_BYTES) {
        if (w[6] & QTD_HALTED) {
            break;
        }
        if (!(w[6] & QTD_ACTIVE)) {
            /* Advance the queue (EHCI 4.10.2): the alternate next qTD
               after a short packet, else the next one. */
            uint32_t next = w[4];
            if (QTD_BYTES(w[6]) && !(w[5] & LINK_T)) {
                next = w[5];
            }
            if (next & LINK_T) {
                break;
            }
            next &= ~0x1fu;
            uint32_t q[8];
            rd_words(s, next, q, 8);
            s->pass_steps++;
            if (!(q[2] & QTD_ACTIVE)) {
                break;
            }
            uint32_t token = q[2];
            if (!(w[1] & QH_DTC)) {
                token = (token & ~QTD_DT) | (w[6] & QTD_DT);
            }
            w[3] = next;
            w[4] = q[0];
            w[5] = q[1] & ~0x1eu; /* NakCnt */
            w[6] = token & ~QTD_ERR_PING;
            memcpy(&w[7], &q[3], 5 * sizeof(uint32_t));
            for (int i = 3; i < 12; i++) {
                wr32(s, qh + 4 * i, w[i]);
            }
        }
        int r = run_overlay(s, qh, w);
        if (r == XFER_NAK) {
            break;
        }
        progress = true;
        if (r == XFER_STOP) {
            break;
        }
    }
    return progress;
}

static void run_async(Ehci *s, bool *progress)
{
    uint32_t head = s->asynclistaddr & ~0x1fu;
    for (int round = 0; round < EHCI_ROUNDS; round++) {
        uint32_t seen[EHCI_MAX_QH];
        int n = 0;
        bool any = false;
        uint32_t addr = head;
        for (;;) {
            bool dup = false;
            for (int i = 0; i < n; i++) {
                dup |= seen[i] == addr;
            }
            if (dup || n == EHCI_MAX_QH || s->pass_steps >= EHCI_STEPS ||
                s->pass_bytes >= EHCI_PASS_BYTES) {
                break;
            }
            seen[n++] = addr;
            s->pass_steps++;
            any |= run_qh(s, addr);
            uint32_t link = rd32(s, addr);
            if (link & LINK_T || LINK_TYP(link) != TYP_QH) {
                mimic_log_guest("ehci: async ring entry 0x%08x is not a "
                                "queue head", link);
                break;
            }
            addr = link & ~0x1fu;
        }
        if (!any) {
            break;
        }
        *progress = true;
    }
}

static void run_periodic(Ehci *s, uint32_t frame)
{
    uint32_t link = rd32(s, (s->periodiclistbase & ~0xfffu) +
                            (frame & 0x3ff) * 4);
    uint32_t seen[EHCI_MAX_QH];
    int n = 0;
    for (int steps = 0; !(link & LINK_T); steps++) {
        uint32_t addr = link & ~0x1fu;
        if (steps == EHCI_STEPS) {
            mimic_log_guest("ehci: frame %u: periodic list longer than %d",
                            frame & 0x3ff, EHCI_STEPS);
            break;
        }
        switch (LINK_TYP(link)) {
        case TYP_QH: {
            bool dup = false;
            for (int i = 0; i < n; i++) {
                dup |= seen[i] == addr;
            }
            if (dup || n == EHCI_MAX_QH) {
                return; /* a loop: the frame ends */
            }
            seen[n++] = addr;
            run_qh(s, addr);
            break;
        }
        case TYP_ITD:
        case TYP_SITD:
            mimic_log_unimp("ehci: isochronous transfers (iTD/siTD) are "
                            "not emulated");
            break;
        default:
            break; /* FSTN: its normal path link is dword 0 too */
        }
        link = rd32(s, addr);
    }
}

/* Bring FRINDEX to the clock; the frames crossed run the periodic
   schedule (at most 8: a paused host does not replay its backlog). */
static void advance_frindex(Ehci *s, bool periodic)
{
    int64_t now = clock_now(s->dev.bus->clock);
    int64_t d = now - s->frindex_ns;
    if (d < UFRAME_NS) {
        return;
    }
    uint32_t uf = (uint32_t)MIN(d / UFRAME_NS, (int64_t)0x4000);
    uint32_t old = s->frindex;
    s->frindex = (old + uf) & 0x3fff;
    s->frindex_ns += (int64_t)uf * UFRAME_NS;
    if (((old & 0x2000) != (s->frindex & 0x2000)) || uf >= 0x2000) {
        s->pending |= STS_FLR;
    }
    uint32_t frames = (old + uf) / 8 - old / 8;
    frames = MIN(frames, 8u);
    for (uint32_t i = frames; periodic && i > 0; i--) {
        run_periodic(s, (s->frindex >> 3) - (i - 1));
    }
}

void ehci_run_pass(Ehci *s)
{
    bool progress = false;
    s->pending = 0;
    s->pass_bytes = s->pass_steps = 0;
    s->passes++;
    advance_frindex(s, (s->usbcmd & CMD_PSE) != 0);
    if (s->usbcmd & CMD_ASE) {
        run_async(s, &progress);
    }
    if (s->iaa_pending) {
        /* The async ring was walked since the doorbell: nothing holds
           an unlinked queue head any more. */
        s->iaa_pending = 0;
        s->usbcmd &= ~CMD_IAAD;
        s->pending |= STS_IAA;
    }
    s->usbsts |= s->pending;
    update_irq(s);
    if (progress) {
        s->busy = EHCI_BUSY_PASSES;
    } else if (s->busy) {
        s->busy--;
    }
    if (s->usbcmd & (CMD_ASE | CMD_PSE)) {
        int64_t now = clock_now(s->dev.bus->clock);
        timer_mod(s->timer, now + (s->busy ? UFRAME_NS : FRAME_NS));
    }
}

static void tick(void *opaque)
{
    Ehci *s = opaque;
    if (s->usbcmd & CMD_RS) {
        ehci_run_pass(s);
    }
}

/* A pass within a microframe (the doorbell, a schedule switched on). */
static void kick(Ehci *s)
{
    if (!(s->usbcmd & CMD_RS)) {
        return;
    }
    int64_t soon = clock_now(s->dev.bus->clock) + UFRAME_NS;
    if (!timer_pending(s->timer) || timer_expire_time(s->timer) > soon) {
        timer_mod(s->timer, soon);
    }
}

/* ---- ports ---- */

static void port_change(Ehci *s)
{
    s->usbsts |= STS_PCD;
    update_irq(s);
}

static void port_attach(UsbPort *port)
{
    Ehci *s = port->owner;
    s->portsc[port->index] |= PORT_CCS | PORT_CSC;
    port_change(s);
}

static void port_detach(UsbPort *port)
{
    Ehci *s = port->owner;
    uint32_t v = s->portsc[port->index];
    if (v & PORT_PE) {
        v |= PORT_PEC;
    }
    v &= ~(PORT_CCS | PORT_PE | PORT_SUSP);
    s->portsc[port->index] = v | PORT_CSC;
    port_change(s);
}

static void port_write(Ehci *s, int i, uint32_t v)
{
    uint32_t old = s->portsc[i];
    uint32_t nv = (old & ~PORT_RW) | (v & PORT_RW);
    nv &= ~(v & PORT_W1C);
    if (!(v & PORT_PE)) {
        nv &= ~PORT_PE; /* software may only disable */
    }
    UsbDevice *d = s->ports[i].dev;
    if ((nv & PORT_PR) && !(old & PORT_PR)) {
        nv &= ~(PORT_PE | PORT_SUSP);
        if (d) {
            usb_device_reset(d);
        }
    }
    if (!(nv & PORT_PR) && (old & PORT_PR) && d) {
        /* The reset ends: a high-speed device enables the port. */
        usb_device_reset(d);
        nv |= PORT_PE;
    }
    if ((old & PORT_FPR) && !(nv & PORT_FPR)) {
        nv &= ~PORT_SUSP; /* resume signalling done */
    }
    if (!(nv & PORT_PE)) {
        nv &= ~PORT_SUSP;
    }
    if (!d) {
        nv &= ~(PORT_CCS | PORT_PE);
    }
    if ((nv & PORT_PO) && !(old & PORT_PO)) {
        mimic_log_guest("ehci: port %d handed to a companion controller, "
                        "which usb-ehci does not have", i + 1);
    }
    s->portsc[i] = nv | PORT_PP;
}

/* ---- registers ---- */

static void hc_reset(Ehci *s)
{
    s->usbcmd = 0x00080000; /* ITC: 8 microframes */
    s->usbsts = STS_HALT;
    s->usbintr = 0;
    s->frindex = 0;
    s->periodiclistbase = 0;
    s->asynclistaddr = 0;
    s->configflag = 0;
    s->iaa_pending = 0;
    s->busy = 0;
    timer_del(s->timer);
    for (int i = 0; i < EHCI_PORTS; i++) {
        /* CONFIGFLAG clear routes the ports to a companion. */
        s->portsc[i] = PORT_PP | PORT_PO;
        if (s->ports[i].dev) {
            usb_device_reset(s->ports[i].dev);
            s->portsc[i] |= PORT_CCS | PORT_CSC;
        }
    }
    update_irq(s);
}

static uint32_t op_read(Ehci *s, uint32_t off)
{
    switch (off) {
    case REG_USBCMD:
        return s->usbcmd;
    case REG_USBSTS:
        return s->usbsts;
    case REG_USBINTR:
        return s->usbintr;
    case REG_FRINDEX:
        return cur_frindex(s);
    case REG_PERIODICLISTBASE:
        return s->periodiclistbase;
    case REG_ASYNCLISTADDR:
        return s->asynclistaddr;
    case REG_CONFIGFLAG:
        return s->configflag;
    default:
        if (off >= REG_PORTSC && off < REG_PORTSC + 4 * EHCI_PORTS) {
            return s->portsc[(off - REG_PORTSC) / 4];
        }
        return 0; /* CTRLDSSEGMENT: 32-bit addressing */
    }
}

static uint64_t ehci_read(void *opaque, uint64_t addr, unsigned size)
{
    Ehci *s = opaque;
    uint32_t off = addr & ~3u, v;
    switch (off) {
    case 0x00:
        v = CAPLENGTH | HCIVERSION << 16;
        break;
    case 0x04: /* HCSPARAMS: N_PORTS, no port power control, no
                  companions */
        v = EHCI_PORTS;
        break;
    case 0x08: /* HCCPARAMS: 32-bit, 1024-entry frame list, no EECP */
    case 0x0c: /* HCSP-PORTROUTE */
        v = 0;
        break;
    default:
        v = off >= CAPLENGTH ? op_read(s, off - CAPLENGTH) : 0;
        break;
    }
    v >>= (addr & 3) * 8;
    return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

static void op_write(Ehci *s, uint32_t off, uint32_t v)
{
    switch (off) {
    case REG_USBCMD: {
        if (v & CMD_HCRESET) {
            hc_reset(s);
            return;
        }
        uint32_t old = s->usbcmd;
        s->usbcmd = (old & ~CMD_WMASK) | (v & CMD_WMASK);
        if ((s->usbcmd & CMD_RS) && !(old & CMD_RS)) {
            s->usbsts &= ~STS_HALT;
            s->frindex_ns = clock_now(s->dev.bus->clock);
        } else if (!(s->usbcmd & CMD_RS) && (old & CMD_RS)) {
            s->frindex = cur_frindex(s);
            s->usbsts |= STS_HALT;
            s->usbsts &= ~(STS_ASS | STS_PSS);
            timer_del(s->timer);
        }
        if (s->usbcmd & CMD_RS) {
            s->usbsts = (s->usbsts & ~(STS_ASS | STS_PSS)) |
                        (s->usbcmd & CMD_ASE ? STS_ASS : 0) |
                        (s->usbcmd & CMD_PSE ? STS_PSS : 0);
        }
        if ((s->usbcmd & CMD_IAAD) && !(old & CMD_IAAD)) {
            s->iaa_pending = 1;
        }
        if (s->usbcmd & (CMD_ASE | CMD_PSE) || s->iaa_pending) {
            kick(s);
        }
        update_irq(s);
        return;
    }
    case REG_USBSTS:
        s->usbsts &= ~(v & STS_W1C);
        update_irq(s);
        return;
    case REG_USBINTR:
        s->usbintr = v & STS_W1C;
        update_irq(s);
        return;
    case REG_FRINDEX:
        if (s->usbsts & STS_HALT) {
            s->frindex = v & 0x3fff;
        }
        return;
    case REG_PERIODICLISTBASE:
        s->periodiclistbase = v & ~0xfffu;
        return;
    case REG_ASYNCLISTADDR:
        s->asynclistaddr = v & ~0x1fu;
        return;
    case REG_CONFIGFLAG: {
        bool on = v & 1, was = s->configflag & 1;
        s->configflag = on;
        for (int i = 0; on != was && i < EHCI_PORTS; i++) {
            s->portsc[i] = on ? s->portsc[i] & ~PORT_PO
                              : s->portsc[i] | PORT_PO;
        }
        return;
    }
    default:
        if (off >= REG_PORTSC && off < REG_PORTSC + 4 * EHCI_PORTS) {
            port_write(s, (off - REG_PORTSC) / 4, v);
        }
        return;
    }
}

static void ehci_write(void *opaque, uint64_t addr, uint64_t v,
                       unsigned size)
{
    Ehci *s = opaque;
    if (addr < CAPLENGTH) {
        return; /* capability registers are read-only */
    }
    if (size != 4 || (addr & 3)) {
        mimic_log_guest("ehci: %u-byte write at 0x%x ignored", size,
                        (unsigned)addr);
        return;
    }
    op_write(s, (uint32_t)addr - CAPLENGTH, (uint32_t)v);
}

static const MemOps ehci_mmio_ops = {
    .read = ehci_read, .write = ehci_write, .min = 1, .max = 4,
};

/* ---- device ---- */

static bool ehci_realize(Device *dev, GError **error)
{
    Ehci *s = (Ehci *)dev;
    pci_add_function(s->bus, &s->pci, s->devfn, 0x8086, 0x24cd, 0x0c032010,
                     s);
    s->pci.config[PCI_INTERRUPT_PIN] = 1;
    s->pci.config[0x60] = 0x20; /* SBRN: USB 2.0 */
    s->pci.config[0x61] = 0x20; /* FLADJ: 60000 clocks per frame */
    s->pci.wmask[0x61] = 0x3f;
    g_autofree char *name = g_strdup_printf("%s.mmio", dev->id);
    s->mmio = memmap_add_mmio(dev->bus->mem, name, 0xfc000000ull +
                              (uint64_t)(s->devfn >> 3) * 0x20000,
                              MMIO_SIZE, &ehci_mmio_ops, s, 3);
    pci_set_bar_mem(&s->pci, 0, s->mmio);
    s->timer = timer_new(dev->bus->clock, tick, s);
    for (int i = 0; i < EHCI_PORTS; i++) {
        UsbPort *p = &s->ports[i];
        p->owner = s;
        p->index = i;
        p->high_speed = true;
        g_snprintf(p->path, sizeof(p->path), "%d", i + 1);
        p->attach = port_attach;
        p->detach = port_detach;
    }
    hc_reset(s);
    return true;
}

static void ehci_reset(Device *dev)
{
    Ehci *s = (Ehci *)dev;
    pci_reset_function(&s->pci);
    s->pci.config[0x61] = 0x20;
    hc_reset(s);
}

static void ehci_finalize(Device *dev)
{
    Ehci *s = (Ehci *)dev;
    timer_free(s->timer);
}

static bool ehci_post_load(void *obj, GError **error)
{
    Ehci *s = obj;
    for (int i = 0; i < EHCI_PORTS; i++) {
        if (!s->ports[i].dev) {
            s->portsc[i] &= ~(PORT_CCS | PORT_PE);
        }
        s->portsc[i] |= PORT_PP;
    }
    s->frindex &= 0x3fff;
    s->usbcmd &= CMD_WMASK;
    s->usbintr &= STS_W1C;
    s->iaa_pending = s->iaa_pending != 0;
    s->busy = MIN(s->busy, EHCI_BUSY_PASSES);
    s->periodiclistbase &= ~0xfffu;
    s->asynclistaddr &= ~0x1fu;
    s->configflag &= 1;
    pci_update_mappings(&s->pci);
    update_irq(s);
    return true;
}

static const StateDesc ehci_state = {
    .name = "usb-ehci", .version = 1, .post_load = ehci_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(Ehci, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_U32(Ehci, usbcmd), STATE_U32(Ehci, usbsts),
        STATE_U32(Ehci, usbintr), STATE_U32(Ehci, frindex),
        STATE_U32(Ehci, periodiclistbase), STATE_U32(Ehci, asynclistaddr),
        STATE_U32(Ehci, configflag),
        STATE_U32_ARRAY(Ehci, portsc, EHCI_PORTS),
        STATE_I64(Ehci, frindex_ns), STATE_U8(Ehci, iaa_pending),
        STATE_U8(Ehci, busy),
        STATE_END },
};

const DeviceInfo ehci_info = {
    .name = "usb-ehci", .size = sizeof(Ehci), .state = &ehci_state,
    .realize = ehci_realize, .reset = ehci_reset,
    .finalize = ehci_finalize,
};
