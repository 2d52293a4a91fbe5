/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UHCI host controller, the USB function of the Intel 82371SB PIIX3.
 * References: Universal Host Controller Interface Design Guide 1.1
 * (chapter 2 registers, chapter 3 frame list, transfer descriptors and
 * queue heads, 3.4 schedule traversal); 82371FB/SB data sheet, USB
 * function PCI configuration (class 0c0300, SBRN at 0x60, LEGSUP at 0xc0).
 *
 * Frames run from a timer of the machine clock, one each millisecond of
 * virtual time while the controller runs, so -icount runs are
 * deterministic.  The schedule lives in guest memory and is untrusted:
 * every descriptor is read through memmap_read, one frame's walk visits
 * at most UHCI_FRAME_BUDGET descriptors and each queue head once per
 * round; the Linux driver's "full-speed bandwidth reclamation" loop of
 * queue heads is gone round again while the frame has moved less than
 * UHCI_FRAME_BYTES (a full-speed frame's worth) and the last round
 * retired a descriptor, as the hardware keeps using the rest of its
 * millisecond.  A transfer descriptor moves at most 1280 bytes (its
 * MaxLen field's limit).
 */
#include "hw/usb/uhci.h"

#include <string.h>

#include "bus/log.h"

/* I/O registers. */
#define REG_USBCMD 0x00
#define REG_USBSTS 0x02
#define REG_USBINTR 0x04
#define REG_FRNUM 0x06
#define REG_FLBASE_LO 0x08
#define REG_FLBASE_HI 0x0a
#define REG_SOFMOD 0x0c
#define REG_PORTSC1 0x10

#define CMD_RS 0x0001
#define CMD_HCRESET 0x0002
#define CMD_GRESET 0x0004
#define CMD_EGSM 0x0008
#define CMD_FGR 0x0010
#define CMD_MASK 0x00ff

#define STS_USBINT 0x0001
#define STS_ERRINT 0x0002
#define STS_RD 0x0004
#define STS_HSE 0x0008
#define STS_HCPE 0x0010
#define STS_HALTED 0x0020

#define INTR_TIMEOUT 0x0001
#define INTR_RESUME 0x0002
#define INTR_IOC 0x0004
#define INTR_SP 0x0008

#define PORT_CCS 0x0001
#define PORT_CSC 0x0002
#define PORT_PE 0x0004
#define PORT_PEC 0x0008
#define PORT_LS_J 0x0010 /* line status: D+ high (full speed idle) */
#define PORT_RD 0x0040
#define PORT_RSVD1 0x0080 /* always reads 1 */
#define PORT_LSDA 0x0100
#define PORT_PR 0x0200
#define PORT_SUSP 0x1000

/* Link pointers. */
#define LINK_T 0x1
#define LINK_Q 0x2
#define LINK_VF 0x4

/* TD control and status. */
#define TD_ACTLEN 0x7ff
#define TD_BITSTUFF (1u << 17)
#define TD_CRC_TIMEOUT (1u << 18)
#define TD_NAK (1u << 19)
#define TD_BABBLE (1u << 20)
#define TD_STALLED (1u << 22)
#define TD_ACTIVE (1u << 23)
#define TD_STATUS_MASK (0xffu << 16)
#define TD_IOC (1u << 24)
#define TD_CERR_SHIFT 27
#define TD_SPD (1u << 29)

#define TD_MAXLEN 1280
#define UHCI_FRAME_BUDGET 2048
#define UHCI_MAX_QH 128
/* Bytes a full-speed frame carries at most (12 Mb/s less overhead; the
   figure the UHCI design guide's bandwidth examples use). */
#define UHCI_FRAME_BYTES 1280
#define FRAME_NS 1000000

enum { TD_DONE, TD_SHORT, TD_NAKED, TD_STOPPED };

static void update_irq(Uhci *s)
{
    bool level = ((s->sts & STS_USBINT) && (s->intr & (INTR_IOC | INTR_SP)))
        || ((s->sts & STS_ERRINT) && (s->intr & INTR_TIMEOUT))
        || ((s->sts & STS_RD) && (s->intr & INTR_RESUME))
        || (s->sts & (STS_HSE | STS_HCPE));
    if (s->set_irq) {
        s->set_irq(s->irq_opaque, level);
    }
}

static uint32_t rd32(Uhci *s, uint32_t addr)
{
    uint8_t b[4];
    memmap_read(s->dev.bus->mem, addr, b, 4);
    return usb_le32(b);
}

static void wr32(Uhci *s, uint32_t addr, uint32_t v)
{
    uint8_t b[4];
    usb_put_le32(b, v);
    memmap_write(s->dev.bus->mem, addr, b, 4);
}

static UsbDevice *find_device(Uhci *s, uint8_t addr)
{
    for (int i = 0; i < UHCI_PORTS; i++) {
        UsbDevice *d = s->ports[i].dev;
        d = d && (s->portsc[i] & PORT_PE) ? usb_find_device(d, addr) : NULL;
        if (d) {
            return d;
        }
    }
    return NULL;
}

/* Run one transfer descriptor; *link gets its link pointer. */
static int run_td(Uhci *s, uint32_t addr, uint32_t *link)
{
    uint32_t ctrl = rd32(s, addr + 4);
    *link = rd32(s, addr);
    if (!(ctrl & TD_ACTIVE)) {
        return TD_STOPPED;
    }
    uint32_t token = rd32(s, addr + 8);
    uint32_t bufp = rd32(s, addr + 12);
    uint8_t pid = token & 0xff;
    uint8_t devaddr = (token >> 8) & 0x7f;
    uint8_t ep = (token >> 15) & 0xf;
    uint32_t maxlen = ((token >> 21) + 1) & 0x7ff; /* 0x7ff: zero bytes */
    s->tds_run++;
    uint32_t err = 0;
    UsbDevice *d = find_device(s, devaddr);
    uint8_t data[TD_MAXLEN];
    UsbPacket p = { .pid = pid, .ep = ep, .data = data, .len = maxlen };
    int r;
    if (maxlen > TD_MAXLEN) {
        mimic_log_guest("uhci: TD with MaxLen %u over %d", maxlen,
                        TD_MAXLEN);
        err = TD_BABBLE | TD_STALLED;
        r = USB_RET_BABBLE;
    } else if (pid != USB_TOKEN_IN && pid != USB_TOKEN_OUT &&
               pid != USB_TOKEN_SETUP) {
        mimic_log_guest("uhci: TD with unknown PID 0x%02x", pid);
        err = TD_STALLED;
        r = USB_RET_STALL;
    } else if (!d) {
        err = TD_CRC_TIMEOUT; /* nobody answers */
        r = USB_RET_NODEV;
    } else {
        if (pid != USB_TOKEN_IN) {
            memmap_read(s->dev.bus->mem, bufp, data, maxlen);
        }
        r = usb_handle_packet(d, &p);
        if (r == USB_RET_NAK) {
            if (!(ctrl & TD_NAK)) {
                wr32(s, addr + 4, ctrl | TD_NAK);
            }
            return TD_NAKED;
        }
        if (r == USB_RET_STALL) {
            err = TD_STALLED;
        } else if (r != USB_RET_SUCCESS) {
            err = TD_BABBLE | TD_STALLED;
        }
    }
    if (err) {
        /* The error count drops to zero and the TD retires. */
        ctrl &= ~(TD_ACTIVE | TD_STATUS_MASK | (3u << TD_CERR_SHIFT));
        ctrl |= err;
        wr32(s, addr + 4, ctrl);
        s->pending |= INTR_TIMEOUT;
        if (ctrl & TD_IOC) {
            s->pending |= INTR_IOC;
        }
        return TD_STOPPED;
    }
    size_t actual = MIN(p.actual, maxlen);
    s->frame_bytes += pid == USB_TOKEN_IN ? actual : maxlen;
    s->frame_tds++;
    if (pid == USB_TOKEN_IN && actual) {
        memmap_write(s->dev.bus->mem, bufp, data, actual);
    }
    ctrl &= ~(TD_ACTIVE | TD_STATUS_MASK | TD_ACTLEN);
    ctrl |= (actual - 1) & TD_ACTLEN;
    wr32(s, addr + 4, ctrl);
    if (ctrl & TD_IOC) {
        s->pending |= INTR_IOC;
    }
    if (pid == USB_TOKEN_IN && actual < maxlen && (ctrl & TD_SPD)) {
        s->pending |= INTR_SP;
        return TD_SHORT; /* the queue stops here for the driver */
    }
    return TD_DONE;
}

static void run_frame(Uhci *s)
{
    uint32_t link = rd32(s, (s->flbase & ~0xfffu) + (s->frnum & 0x3ff) * 4);
    uint32_t qh_seen[UHCI_MAX_QH];
    int n_qh = 0, budget = UHCI_FRAME_BUDGET;
    s->frames_run++;
    s->frame_bytes = 0;
    s->frame_tds = 0;
    uint32_t round_mark = 0;
    while (!(link & LINK_T) && budget-- > 0) {
        uint32_t addr = link & ~0xfu;
        if (!(link & LINK_Q)) {
            uint32_t next;
            run_td(s, addr, &next);
            link = next;
            continue;
        }
        /* A queue head: its element chain, then its horizontal link. */
        bool seen = false;
        for (int i = 0; i < n_qh; i++) {
            seen |= qh_seen[i] == addr;
        }
        if (seen && s->frame_bytes < UHCI_FRAME_BYTES &&
            s->frame_tds != round_mark) {
            /* Round the reclamation loop again (budget bounds it). */
            round_mark = s->frame_tds;
            n_qh = 0;
        } else if (seen || n_qh == UHCI_MAX_QH) {
            break;
        }
        qh_seen[n_qh++] = addr;
        uint32_t head = rd32(s, addr);
        uint32_t elem = rd32(s, addr + 4);
        while (!(elem & (LINK_T | LINK_Q)) && budget-- > 0) {
            uint32_t next;
            int r = run_td(s, elem & ~0xfu, &next);
            if (r != TD_DONE) {
                break;
            }
            elem = next;
            wr32(s, addr + 4, elem);
            if (!(elem & LINK_VF)) {
                break; /* breadth first: on to the next queue */
            }
        }
        link = head;
    }
    if (budget < 0) {
        mimic_log_guest("uhci: frame %u: schedule longer than %d entries",
                        s->frnum & 0x3ff, UHCI_FRAME_BUDGET);
    }
    s->frnum = (s->frnum + 1) & 0x7ff;
    if (s->pending & (INTR_IOC | INTR_SP)) {
        s->sts |= STS_USBINT;
    }
    if (s->pending & INTR_TIMEOUT) {
        s->sts |= STS_ERRINT;
    }
    s->pending = 0;
    update_irq(s);
}

static void frame_tick(void *opaque)
{
    Uhci *s = opaque;
    if (!(s->cmd & CMD_RS)) {
        return;
    }
    run_frame(s);
    int64_t now = clock_now(s->dev.bus->clock);
    s->frame_deadline += FRAME_NS;
    if (s->frame_deadline < now - 8 * FRAME_NS) {
        s->frame_deadline = now; /* far behind (a paused host): skip */
    }
    timer_mod(s->frame_timer, s->frame_deadline);
}

static void start_frames(Uhci *s)
{
    s->frame_deadline = clock_now(s->dev.bus->clock) + FRAME_NS;
    timer_mod(s->frame_timer, s->frame_deadline);
}

/* ---- ports ---- */

static int port_index(UsbPort *port)
{
    return port->index;
}

static void port_attach(UsbPort *port)
{
    Uhci *s = port->owner;
    int i = port_index(port);
    s->portsc[i] |= PORT_CCS | PORT_CSC | PORT_LS_J;
    if (s->cmd & CMD_EGSM) {
        s->sts |= STS_RD;
    }
    update_irq(s);
}

static void port_detach(UsbPort *port)
{
    Uhci *s = port->owner;
    int i = port_index(port);
    uint16_t v = s->portsc[i];
    if (v & PORT_PE) {
        v |= PORT_PEC;
    }
    v &= ~(PORT_CCS | PORT_PE | PORT_LS_J | PORT_SUSP);
    s->portsc[i] = v | PORT_CSC;
    if (s->cmd & CMD_EGSM) {
        s->sts |= STS_RD;
    }
    update_irq(s);
}

static void port_write(Uhci *s, int i, uint16_t v)
{
    uint16_t old = s->portsc[i];
    uint16_t nv = (old & ~(PORT_PE | PORT_RD | PORT_PR | PORT_SUSP)) |
                  (v & (PORT_PE | PORT_RD | PORT_PR | PORT_SUSP));
    nv &= ~(v & (PORT_CSC | PORT_PEC));
    UsbDevice *d = s->ports[i].dev;
    if (!d) {
        nv &= ~PORT_PE;
    }
    if (d && (nv & PORT_PR) != (old & PORT_PR)) {
        usb_device_reset(d); /* both edges of a port reset */
    }
    s->portsc[i] = nv;
}

/* ---- registers ---- */

static void hc_reset(Uhci *s)
{
    s->cmd = 0;
    s->sts = STS_HALTED;
    s->intr = 0;
    s->frnum = 0;
    s->flbase = 0;
    s->sof = 64;
    s->pending = 0;
    timer_del(s->frame_timer);
    for (int i = 0; i < UHCI_PORTS; i++) {
        s->portsc[i] = 0;
        if (s->ports[i].dev) {
            usb_device_reset(s->ports[i].dev);
            s->portsc[i] = PORT_CCS | PORT_CSC | PORT_LS_J;
        }
    }
    update_irq(s);
}

static uint32_t uhci_read(void *opaque, uint16_t off, unsigned size)
{
    Uhci *s = opaque;
    switch (off) {
    case REG_USBCMD:
        return s->cmd;
    case REG_USBSTS:
        return s->sts;
    case REG_USBINTR:
        return s->intr;
    case REG_FRNUM:
        return s->frnum;
    case REG_FLBASE_LO:
        return s->flbase & 0xf000;
    case REG_FLBASE_HI:
        return s->flbase >> 16;
    case REG_SOFMOD:
        return s->sof;
    default:
        if (off >= REG_PORTSC1 && off < REG_PORTSC1 + 2 * UHCI_PORTS) {
            return s->portsc[(off - REG_PORTSC1) / 2] | PORT_RSVD1;
        }
        return 0; /* bit 7 clear: no more ports (the drivers count them) */
    }
}

static void uhci_write(void *opaque, uint16_t off, uint32_t v,
                       unsigned size)
{
    Uhci *s = opaque;
    switch (off) {
    case REG_USBCMD: {
        uint16_t old = s->cmd;
        if (v & CMD_HCRESET) {
            hc_reset(s);
            return;
        }
        if ((v & CMD_GRESET) && !(old & CMD_GRESET)) {
            hc_reset(s);
        }
        s->cmd = v & CMD_MASK;
        if ((s->cmd & CMD_RS) && !(old & CMD_RS)) {
            s->sts &= ~STS_HALTED;
            start_frames(s);
        } else if (!(s->cmd & CMD_RS) && (old & CMD_RS)) {
            s->sts |= STS_HALTED;
            timer_del(s->frame_timer);
        }
        if (s->cmd & CMD_FGR) {
            s->sts &= ~STS_RD;
        }
        update_irq(s);
        return;
    }
    case REG_USBSTS:
        s->sts &= ~(v & 0x1f);
        update_irq(s);
        return;
    case REG_USBINTR:
        s->intr = v & 0xf;
        update_irq(s);
        return;
    case REG_FRNUM:
        s->frnum = v & 0x7ff;
        return;
    case REG_FLBASE_LO:
        s->flbase = (s->flbase & 0xffff0000u) | (v & 0xf000);
        return;
    case REG_FLBASE_HI:
        s->flbase = (s->flbase & 0xffff) | (v & 0xffff) << 16;
        return;
    case REG_SOFMOD:
        s->sof = v & 0x7f;
        return;
    default:
        if (off >= REG_PORTSC1 && off < REG_PORTSC1 + 2 * UHCI_PORTS) {
            port_write(s, (off - REG_PORTSC1) / 2, v);
        }
        return;
    }
}

/* ---- device ---- */

static bool uhci_realize(Device *dev, GError **error)
{
    Uhci *s = (Uhci *)dev;
    pci_add_function(s->bus, &s->pci, s->devfn, 0x8086, 0x7020, 0x0c030001,
                     s);
    s->pci.config[PCI_INTERRUPT_PIN] = 4; /* INTD#, as on the PIIX3 */
    s->pci.config[0x60] = 0x10;           /* SBRN: USB 1.0 */
    pci_set_word(s->pci.config + 0xc0, 0x2000); /* LEGSUP: PIRQD enable */
    s->pci.wmask[0xc0] = 0xff;
    s->pci.wmask[0xc1] = 0xff;
    s->io = (IoRegion){ .len = 0x20, .min = 2, .max = 2, .read = uhci_read,
                        .write = uhci_write, .name = "uhci" };
    pci_set_bar_io(&s->pci, 4, 0x20, &s->io, s);
    s->frame_timer = timer_new(dev->bus->clock, frame_tick, s);
    for (int i = 0; i < UHCI_PORTS; i++) {
        UsbPort *p = &s->ports[i];
        p->owner = s;
        p->index = i;
        g_snprintf(p->path, sizeof(p->path), "%d", i + 1);
        p->attach = port_attach;
        p->detach = port_detach;
    }
    hc_reset(s);
    return true;
}

static void uhci_reset(Device *dev)
{
    Uhci *s = (Uhci *)dev;
    pci_reset_function(&s->pci);
    pci_set_word(s->pci.config + 0xc0, 0x2000);
    hc_reset(s);
}

static void uhci_finalize(Device *dev)
{
    Uhci *s = (Uhci *)dev;
    timer_free(s->frame_timer);
}

static bool uhci_post_load(void *obj, GError **error)
{
    Uhci *s = obj;
    for (int i = 0; i < UHCI_PORTS; i++) {
        if (!s->ports[i].dev) {
            s->portsc[i] &= ~(PORT_CCS | PORT_PE);
        }
    }
    s->frnum &= 0x7ff;
    s->cmd &= CMD_MASK;
    pci_update_mappings(&s->pci);
    update_irq(s);
    return true;
}

static const StateDesc uhci_state = {
    .name = "uhci", .version = 1, .post_load = uhci_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(Uhci, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_U16(Uhci, cmd), STATE_U16(Uhci, sts), STATE_U16(Uhci, intr),
        STATE_U16(Uhci, frnum), STATE_U32(Uhci, flbase),
        STATE_U8(Uhci, sof), STATE_U8(Uhci, pending),
        STATE_U16_ARRAY(Uhci, portsc, UHCI_PORTS),
        STATE_I64(Uhci, frame_deadline),
        STATE_END },
};

const DeviceInfo uhci_info = {
    .name = "piix3-usb-uhci", .size = sizeof(Uhci), .state = &uhci_state,
    .realize = uhci_realize, .reset = uhci_reset,
    .finalize = uhci_finalize,
};
