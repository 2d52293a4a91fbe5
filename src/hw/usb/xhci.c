/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xHCI host controller (qemu-xhci): QEMU's PCI identity 1b36:000d,
 * class 0c0330, one interrupter (MSI when the guest enables it, else
 * INTA#), 16 device slots, eight root ports: 1-4 speak USB 2 and 5-8
 * USB 3 (two Supported Protocol capabilities say so).  The machine's
 * ports "1".."4" (-device ...,port=N) are pairs, as in QEMU: a device
 * with SuperSpeed descriptors (usb-storage) appears on USB3 port 4+N,
 * any other one on USB2 port N at high speed.
 *
 * References: eXtensible Host Controller Interface for Universal Serial
 * Bus (xHCI) 1.2: 4.6 commands, 4.9 TRB rings (4.9.2 link TRBs and the
 * cycle bit, 4.9.4 the event ring and its segment table), 4.10 transfers
 * (short packets, event data), 4.11 TRB formats, 4.17 interrupters,
 * 4.19 root hub ports, 5.3-5.6 registers, 6.2 contexts, 7.2 Supported
 * Protocol capability; USB 3.2 specification 9.6.2 (BOS).
 *
 * Model: the command ring and a transfer ring run when their doorbell is
 * written (synchronously: our devices answer at once), a timer retries
 * the endpoints a device NAKed (an interrupt endpoint with nothing new)
 * when the device wakes up and every XHCI_POLL_NS.  MFINDEX counts
 * microframes of the machine clock (deterministic under -icount).
 *
 * The rings and contexts live in guest memory and are untrusted: every
 * access goes through memmap_read/memmap_write (addresses outside RAM
 * read as ones and write nowhere); a doorbell or a pass walks at most
 * XHCI_KICK_TRBS TRBs in all (a ring of link TRBs that loops ends there
 * and the rest waits for the timer), the event ring segment table has at
 * most 2^ERSTMax entries of at most 4096 TRBs, a TRB moves at most
 * 64 KiB, and a full event ring drops events (logged) rather than
 * overwriting unread ones.  Isochronous and stream endpoints are not
 * emulated (their TRBs complete with a TRB Error; nothing uses them).
 */
#include "hw/usb/xhci.h"

#include <string.h>

#include "bus/log.h"

#define MMIO_SIZE 0x4000
#define CAPLENGTH 0x40
#define HCIVERSION 0x0100
#define OP_PORTS 0x400   /* from the operational base */
#define XECP 0x800       /* the extended capabilities */
#define RTSOFF 0x1000
#define DBOFF 0x2000
#define ERST_MAX 4       /* 2^4 segments */
#define XHCI_MSI_CAP 0x70

/* Operational registers. */
#define REG_USBCMD 0x00
#define REG_USBSTS 0x04
#define REG_PAGESIZE 0x08
#define REG_DNCTRL 0x14
#define REG_CRCR 0x18
#define REG_CRCR_HI 0x1c
#define REG_DCBAAP 0x30
#define REG_DCBAAP_HI 0x34
#define REG_CONFIG 0x38

#define CMD_RS (1u << 0)
#define CMD_HCRST (1u << 1)
#define CMD_INTE (1u << 2)
#define CMD_HSEE (1u << 3)
#define CMD_LHCRST (1u << 7)
#define CMD_CSS (1u << 8)
#define CMD_CRS (1u << 9)
#define CMD_EWE (1u << 10)
#define CMD_WMASK (CMD_RS | CMD_INTE | CMD_HSEE | CMD_EWE)

#define STS_HCH (1u << 0)
#define STS_HSE (1u << 2)
#define STS_EINT (1u << 3)
#define STS_PCD (1u << 4)
#define STS_SRE (1u << 10)
#define STS_W1C (STS_HSE | STS_EINT | STS_PCD | STS_SRE)

#define CRCR_RCS (1u << 0)
#define CRCR_CS (1u << 1)
#define CRCR_CA (1u << 2)
#define CRCR_CRR (1u << 3)

#define PORT_CCS (1u << 0)
#define PORT_PED (1u << 1)
#define PORT_PR (1u << 4)
#define PORT_PLS_SHIFT 5
#define PORT_PLS_MASK (0xfu << 5)
#define PORT_PP (1u << 9)
#define PORT_SPEED_SHIFT 10
#define PORT_SPEED_MASK (0xfu << 10)
#define PORT_PIC (3u << 14)
#define PORT_LWS (1u << 16)
#define PORT_CSC (1u << 17)
#define PORT_PEC (1u << 18)
#define PORT_WRC (1u << 19)
#define PORT_OCC (1u << 20)
#define PORT_PRC (1u << 21)
#define PORT_PLC (1u << 22)
#define PORT_CEC (1u << 23)
#define PORT_WAKE (7u << 25) /* WCE, WDE, WOE */
#define PORT_WPR (1u << 31)
#define PORT_CHANGES (PORT_CSC | PORT_PEC | PORT_WRC | PORT_OCC | PORT_PRC | \
                      PORT_PLC | PORT_CEC)

#define PLS_U0 0
#define PLS_U3 3
#define PLS_DISABLED 4
#define PLS_RXDETECT 5
#define PLS_POLLING 7
#define PLS_RESUME 15

/* Port speed IDs (the default PSI values, 7.2.2.1.1). */
#define SPEED_FULL 1
#define SPEED_HIGH 3
#define SPEED_SUPER 4

#define IMAN_IP (1u << 0)
#define IMAN_IE (1u << 1)
#define ERDP_EHB (1u << 3)

/* TRB dword 3. */
#define TRB_C (1u << 0)
#define TRB_TC (1u << 1)   /* link */
#define TRB_ENT (1u << 1)
#define TRB_ISP (1u << 2)
#define TRB_CH (1u << 4)
#define TRB_IOC (1u << 5)
#define TRB_IDT (1u << 6)
#define TRB_BSR (1u << 9)  /* Address Device */
#define TRB_DC (1u << 9)   /* Configure Endpoint */
#define TRB_DIR_IN (1u << 16)
#define TRB_TYPE(c) (((c) >> 10) & 0x3f)
#define TRB_EV_ED (1u << 2)

enum {
    TRB_NORMAL = 1, TRB_SETUP, TRB_DATA, TRB_STATUS, TRB_ISOCH, TRB_LINK,
    TRB_EVENT_DATA, TRB_NOOP,
    CMD_ENABLE_SLOT = 9, CMD_DISABLE_SLOT, CMD_ADDRESS_DEVICE,
    CMD_CONFIGURE_EP, CMD_EVALUATE_CTX, CMD_RESET_EP, CMD_STOP_EP,
    CMD_SET_TR_DEQUEUE, CMD_RESET_DEVICE, CMD_NOOP = 23,
    EV_TRANSFER = 32, EV_CMD_COMPLETION, EV_PORT_STATUS,
};

/* Completion codes. */
enum {
    CC_SUCCESS = 1, CC_DATA_BUFFER = 2, CC_BABBLE = 3, CC_USB_XACT = 4,
    CC_TRB = 5, CC_STALL = 6, CC_NO_SLOTS = 9, CC_SLOT_NOT_ENABLED = 11,
    CC_EP_NOT_ENABLED = 12, CC_SHORT_PACKET = 13, CC_PARAMETER = 17,
    CC_CONTEXT_STATE = 19, CC_CMD_RING_STOPPED = 24, CC_STOPPED_LEN = 27,
};

enum { EP_DISABLED, EP_RUNNING, EP_HALTED, EP_STOPPED, EP_ERROR };
enum { SLOT_ENABLED, SLOT_DEFAULT, SLOT_ADDRESSED, SLOT_CONFIGURED };
enum { EPT_ISO_OUT = 1, EPT_CONTROL = 4, EPT_ISO_IN = 5 };

#define UFRAME_NS 125000
#define XHCI_KICK_TRBS 4096 /* TRBs a doorbell or a pass walks */
#define XHCI_POLL_NS 32000000 /* NAKed endpoints retried */
/* A walk that ran out of its budget goes on a frame later: a ring of
   link TRBs that loops costs the guest a bounded share of the host. */
#define BACKOFF_NS 1000000
#define ERST_SEG_MAX 4096

/* ---- guest memory ---- */

static uint64_t le64(const uint32_t *w)
{
    return w[0] | (uint64_t)w[1] << 32;
}

static void rd_words(Xhci *s, uint64_t addr, uint32_t *w, int n)
{
    uint8_t b[64];
    memmap_read(s->dev.bus->mem, addr, b, 4 * n);
    for (int i = 0; i < n; i++) {
        w[i] = usb_le32(b + 4 * i);
    }
}

static void wr_words(Xhci *s, uint64_t addr, const uint32_t *w, int n)
{
    uint8_t b[64];
    for (int i = 0; i < n; i++) {
        usb_put_le32(b + 4 * i, w[i]);
    }
    memmap_write(s->dev.bus->mem, addr, b, 4 * n);
}

/* ---- interrupter 0 and the event ring ---- */

static void update_irq(Xhci *s)
{
    bool level = (s->iman & IMAN_IP) && (s->iman & IMAN_IE) &&
                 (s->usbcmd & CMD_INTE);
    bool msi = pci_msi_enabled(&s->pci);
    if (msi && level) {
        /* The message clears IP once written (5.5.2.1): a driver on MSI
           leaves IMAN alone. */
        pci_msi_notify(&s->pci);
        s->iman &= ~IMAN_IP;
        level = false;
    }
    s->irq_level = level;
    if (s->set_irq) {
        s->set_irq(s->irq_opaque, level && !msi);
    }
}

static uint64_t er_enqueue(Xhci *s)
{
    return s->er_seg_base + 16ull * s->er_idx;
}

/* Interrupt when events wait and the handler is not busy (4.17.2). */
static void check_interrupt(Xhci *s)
{
    bool pending = s->er_seg_size &&
                   (s->erdp & ~0xfull) != er_enqueue(s);
    if (pending && !(s->erdp & ERDP_EHB)) {
        s->erdp |= ERDP_EHB;
        s->iman |= IMAN_IP;
        s->usbsts |= STS_EINT;
    }
    update_irq(s);
}

static void load_segment(Xhci *s)
{
    uint32_t e[4];
    rd_words(s, (s->erstba & ~0x3full) + 16ull * s->er_seg, e, 4);
    s->er_seg_base = le64(e) & ~0x3full;
    s->er_seg_size = e[2] & 0xffff;
    s->er_idx = 0;
    if (!s->er_seg_size || s->er_seg_size > ERST_SEG_MAX) {
        mimic_log_guest("xhci: event ring segment %u of %u TRBs", s->er_seg,
                        e[2] & 0xffff);
        s->er_seg_size = 0;
    }
}

static void er_init(Xhci *s)
{
    s->er_seg = 0;
    s->er_pcs = 1;
    s->er_full = 0;
    if (s->erstsz) {
        load_segment(s);
    } else {
        s->er_seg_size = 0;
        s->er_seg_base = 0;
        s->er_idx = 0;
    }
}

static void post_event(Xhci *s, uint64_t param, uint32_t status,
                       uint32_t ctrl)
{
    if (!(s->usbcmd & CMD_RS) || !s->er_seg_size) {
        return;
    }
    /* The position after this one, where the ring would look empty if
       the consumer still sits there: a full ring drops the event. */
    uint32_t seg = s->er_seg, idx = s->er_idx + 1;
    uint64_t next = s->er_seg_base + 16ull * idx;
    if (idx >= s->er_seg_size) {
        seg = seg + 1 < s->erstsz ? seg + 1 : 0;
        uint32_t e[2];
        rd_words(s, (s->erstba & ~0x3full) + 16ull * seg, e, 2);
        next = le64(e) & ~0x3full;
    }
    if (next == (s->erdp & ~0xfull)) {
        if (!s->er_full) {
            mimic_log_guest("xhci: event ring full, events dropped");
        }
        s->er_full = 1;
        return;
    }
    uint32_t w[4] = { (uint32_t)param, (uint32_t)(param >> 32), status,
                      (ctrl & ~TRB_C) | s->er_pcs };
    wr_words(s, er_enqueue(s), w, 3);
    wr_words(s, er_enqueue(s) + 12, &w[3], 1); /* the cycle bit last */
    s->events++;
    if (++s->er_idx >= s->er_seg_size) {
        if (++s->er_seg >= s->erstsz) {
            s->er_seg = 0;
            s->er_pcs ^= 1;
        }
        load_segment(s);
    }
    check_interrupt(s);
}

static void cmd_done(Xhci *s, uint64_t trb, unsigned cc, unsigned slot)
{
    post_event(s, trb, cc << 24, EV_CMD_COMPLETION << 10 | slot << 24);
}

static void xfer_event(Xhci *s, uint64_t trb, uint32_t residual,
                       unsigned cc, unsigned slot, unsigned dci,
                       uint32_t flags)
{
    post_event(s, trb, (residual & 0xffffff) | cc << 24,
               EV_TRANSFER << 10 | flags | dci << 16 | slot << 24);
}

/* ---- ports ---- */

static UsbDevice *port_device(Xhci *s, int i)
{
    UsbDevice *d = s->ports[i % XHCI_PAIRS].dev;
    return d && d->super_speed == (i >= XHCI_PAIRS) ? d : NULL;
}

static void port_set_change(Xhci *s, int i, uint32_t bits)
{
    uint32_t old = s->portsc[i];
    s->portsc[i] |= bits;
    if (bits & ~old & PORT_CHANGES) {
        s->usbsts |= STS_PCD;
        post_event(s, (uint64_t)(i + 1) << 24, CC_SUCCESS << 24,
                   EV_PORT_STATUS << 10);
    }
}

/* The port's connection state from its device (reset, attach). */
static void port_connect(Xhci *s, int i)
{
    UsbDevice *d = port_device(s, i);
    uint32_t v = PORT_PP | (s->portsc[i] & (PORT_PIC | PORT_WAKE));
    if (d) {
        bool usb3 = i >= XHCI_PAIRS;
        unsigned speed = usb3 ? SPEED_SUPER
                       : d->high_speed ? SPEED_HIGH : SPEED_FULL;
        /* A USB3 port trains its link and enables itself; a USB2 port
           waits for a port reset. */
        v |= PORT_CCS | speed << PORT_SPEED_SHIFT |
             (usb3 ? PORT_PED | PLS_U0 << PORT_PLS_SHIFT
                   : PLS_POLLING << PORT_PLS_SHIFT);
    } else {
        v |= PLS_RXDETECT << PORT_PLS_SHIFT;
    }
    s->portsc[i] = v | (s->portsc[i] & PORT_CHANGES);
}

static void port_attach(UsbPort *port)
{
    Xhci *s = port->owner;
    UsbDevice *d = port->dev;
    int i = port->index + (d->super_speed ? XHCI_PAIRS : 0);
    port_connect(s, i);
    port_set_change(s, i, PORT_CSC);
    update_irq(s);
}

static void port_detach(UsbPort *port)
{
    Xhci *s = port->owner;
    UsbDevice *d = port->dev;
    int i = port->index + (d->super_speed ? XHCI_PAIRS : 0);
    port->dev = NULL; /* port_connect sees the port empty */
    port_connect(s, i);
    port->dev = d;
    port_set_change(s, i, PORT_CSC);
    update_irq(s);
}

static void port_write(Xhci *s, int i, uint32_t v)
{
    uint32_t nv = s->portsc[i];
    bool usb3 = i >= XHCI_PAIRS;
    UsbDevice *d = port_device(s, i);
    nv &= ~(v & PORT_CHANGES);
    nv = (nv & ~(PORT_PIC | PORT_WAKE)) | (v & (PORT_PIC | PORT_WAKE));
    if (v & PORT_PED) {
        nv &= ~PORT_PED; /* software may only disable */
        if (!usb3) {
            nv = (nv & ~PORT_PLS_MASK) | PLS_DISABLED << PORT_PLS_SHIFT;
        }
    }
    uint32_t change = 0;
    if (d && ((v & PORT_PR) || (usb3 && (v & PORT_WPR)))) {
        /* The reset completes at once. */
        usb_device_reset(d);
        nv = (nv & ~PORT_PLS_MASK) | PORT_PED | PLS_U0 << PORT_PLS_SHIFT;
        change |= PORT_PRC | (usb3 && (v & PORT_WPR) ? PORT_WRC : 0);
    } else if ((v & PORT_LWS) && d && (nv & PORT_PED)) {
        unsigned pls = (v & PORT_PLS_MASK) >> PORT_PLS_SHIFT;
        unsigned old = (nv & PORT_PLS_MASK) >> PORT_PLS_SHIFT;
        if (pls == PLS_U0 || pls == PLS_U3 || pls == PLS_RESUME ||
            pls == PLS_RXDETECT) {
            nv = (nv & ~PORT_PLS_MASK) | pls << PORT_PLS_SHIFT;
        }
        if (pls == PLS_U0 && (old == PLS_U3 || old == PLS_RESUME)) {
            change |= PORT_PLC; /* resume done */
        }
    }
    s->portsc[i] = nv;
    if (change) {
        port_set_change(s, i, change);
    }
    update_irq(s);
}

/* ---- slots and contexts ---- */

static XhciSlot *get_slot(Xhci *s, unsigned id)
{
    if (id < 1 || id > XHCI_SLOTS || !s->slot[id - 1].enabled) {
        return NULL;
    }
    return &s->slot[id - 1];
}

static UsbDevice *slot_device(Xhci *s, XhciSlot *sl)
{
    if (sl->port < 1 || sl->port > XHCI_PORTS ||
        !(s->portsc[sl->port - 1] & PORT_PED)) {
        return NULL;
    }
    return port_device(s, sl->port - 1);
}

/* Write an endpoint's state and dequeue pointer to the output context. */
static void ep_sync(Xhci *s, XhciSlot *sl, unsigned dci)
{
    XhciEp *ep = &sl->ep[dci - 1];
    uint64_t a = sl->ctx + 32ull * dci;
    uint32_t w[4];
    rd_words(s, a, w, 4);
    w[0] = (w[0] & ~7u) | ep->state;
    w[2] = ((uint32_t)ep->dequeue & ~0xfu) | ep->dcs;
    w[3] = (uint32_t)(ep->dequeue >> 32);
    wr_words(s, a, w, 4);
}

/* Take an endpoint context (w: 5 dwords) as the endpoint's. */
static void ep_load(XhciEp *ep, const uint32_t *w)
{
    *ep = (XhciEp){ 0 };
    ep->state = EP_RUNNING;
    ep->type = (w[1] >> 3) & 7;
    ep->maxp = w[1] >> 16;
    ep->dequeue = le64(&w[2]) & ~0xfull;
    ep->dcs = w[2] & 1;
}

static void slot_write_state(Xhci *s, XhciSlot *sl, uint8_t addr)
{
    uint32_t w[4];
    rd_words(s, sl->ctx, w, 4);
    w[3] = (uint32_t)sl->state << 27 | addr;
    if (sl->state <= SLOT_ADDRESSED) {
        w[0] = (w[0] & ~(0x1fu << 27)) | 1u << 27; /* context entries */
    }
    wr_words(s, sl->ctx, w, 4);
}

/* A control request on EP0 outside the transfer rings (SET_ADDRESS). */
static bool control_nodata(UsbDevice *d, const uint8_t setup[8])
{
    uint8_t b[8];
    memcpy(b, setup, 8);
    UsbPacket p = { .pid = USB_TOKEN_SETUP, .ep = 0, .data = b, .len = 8 };
    if (usb_handle_packet(d, &p) != USB_RET_SUCCESS) {
        return false;
    }
    p = (UsbPacket){ .pid = USB_TOKEN_IN, .ep = 0, .data = b, .len = 0 };
    return usb_handle_packet(d, &p) == USB_RET_SUCCESS;
}

static unsigned cmd_address(Xhci *s, unsigned id, const uint32_t *t)
{
    XhciSlot *sl = get_slot(s, id);
    bool bsr = t[3] & TRB_BSR;
    if (!sl) {
        return CC_SLOT_NOT_ENABLED;
    }
    if (sl->state > SLOT_DEFAULT || (bsr && sl->state == SLOT_DEFAULT)) {
        return CC_CONTEXT_STATE;
    }
    uint64_t in = le64(t) & ~0xfull;
    uint32_t ictl[2], islot[8], iep0[8], dcbaa[2];
    rd_words(s, in, ictl, 2);
    if ((ictl[1] & 3) != 3 || ictl[0]) {
        return CC_PARAMETER;
    }
    rd_words(s, in + 32, islot, 8);
    rd_words(s, in + 64, iep0, 8);
    unsigned port = (islot[1] >> 16) & 0xff;
    if (port < 1 || port > XHCI_PORTS) {
        return CC_PARAMETER;
    }
    sl->port = port;
    UsbDevice *d = slot_device(s, sl);
    if (!d) {
        return CC_USB_XACT;
    }
    rd_words(s, (s->dcbaap & ~0x3full) + 8ull * id, dcbaa, 2);
    sl->ctx = le64(dcbaa) & ~0x3full;
    uint8_t addr = 0;
    if (!bsr) {
        const uint8_t set_addr[8] = { 0, USB_REQ_SET_ADDRESS, id, 0,
                                      0, 0, 0, 0 };
        if (!control_nodata(d, set_addr)) {
            return CC_USB_XACT;
        }
        addr = id;
    }
    for (int i = 0; i < XHCI_EPS; i++) {
        sl->ep[i] = (XhciEp){ 0 };
    }
    sl->state = bsr ? SLOT_DEFAULT : SLOT_ADDRESSED;
    islot[3] = (uint32_t)sl->state << 27 | addr;
    wr_words(s, sl->ctx, islot, 8);
    iep0[0] = (iep0[0] & ~7u) | EP_RUNNING;
    wr_words(s, sl->ctx + 32, iep0, 8);
    ep_load(&sl->ep[0], iep0);
    return CC_SUCCESS;
}

static unsigned cmd_configure(Xhci *s, unsigned id, const uint32_t *t)
{
    XhciSlot *sl = get_slot(s, id);
    if (!sl) {
        return CC_SLOT_NOT_ENABLED;
    }
    if (sl->state != SLOT_ADDRESSED && sl->state != SLOT_CONFIGURED) {
        return CC_CONTEXT_STATE;
    }
    uint32_t ictl[2] = { 0xfffffffcu, 0 };
    uint64_t in = le64(t) & ~0xfull;
    if (!(t[3] & TRB_DC)) {
        rd_words(s, in, ictl, 2);
    }
    for (unsigned dci = 2; dci <= XHCI_EPS; dci++) {
        if (ictl[0] & (1u << dci)) {
            sl->ep[dci - 1] = (XhciEp){ 0 };
            ep_sync(s, sl, dci);
        }
    }
    for (unsigned dci = 2; dci <= XHCI_EPS; dci++) {
        if (ictl[1] & (1u << dci)) {
            uint32_t w[8];
            rd_words(s, in + 32ull * (dci + 1), w, 8);
            w[0] = (w[0] & ~7u) | EP_RUNNING;
            wr_words(s, sl->ctx + 32ull * dci, w, 8);
            ep_load(&sl->ep[dci - 1], w);
        }
    }
    unsigned last = 1;
    for (unsigned dci = 2; dci <= XHCI_EPS; dci++) {
        if (sl->ep[dci - 1].state != EP_DISABLED) {
            last = dci;
        }
    }
    uint32_t w[4];
    rd_words(s, sl->ctx, w, 4);
    if (ictl[1] & 1) {
        uint32_t islot[3];
        rd_words(s, in + 32, islot, 3);
        w[1] = islot[1];
        w[2] = islot[2];
        w[0] = islot[0];
    }
    w[0] = (w[0] & ~(0x1fu << 27)) | last << 27;
    sl->state = last > 1 ? SLOT_CONFIGURED : SLOT_ADDRESSED;
    w[3] = (w[3] & 0xff) | (uint32_t)sl->state << 27;
    wr_words(s, sl->ctx, w, 4);
    return CC_SUCCESS;
}

static unsigned cmd_evaluate(Xhci *s, unsigned id, const uint32_t *t)
{
    XhciSlot *sl = get_slot(s, id);
    if (!sl) {
        return CC_SLOT_NOT_ENABLED;
    }
    if (sl->state == SLOT_ENABLED) {
        return CC_CONTEXT_STATE;
    }
    uint64_t in = le64(t) & ~0xfull;
    uint32_t ictl[2];
    rd_words(s, in, ictl, 2);
    if (ictl[1] & 1) {
        uint32_t islot[3], w[3];
        rd_words(s, in + 32, islot, 3);
        rd_words(s, sl->ctx, w, 3);
        w[1] = (w[1] & ~0xffffu) | (islot[1] & 0xffff);
        w[2] = (w[2] & 0x3fffff) | (islot[2] & ~0x3fffffu);
        wr_words(s, sl->ctx, w, 3);
    }
    if (ictl[1] & 2) {
        uint32_t iep[2], w[2];
        rd_words(s, in + 64, iep, 2);
        rd_words(s, sl->ctx + 32, w, 2);
        w[1] = (w[1] & 0xffff) | (iep[1] & 0xffff0000u);
        wr_words(s, sl->ctx + 32, w, 2);
        sl->ep[0].maxp = iep[1] >> 16;
    }
    return CC_SUCCESS;
}

static XhciEp *cmd_ep(Xhci *s, const uint32_t *t, XhciSlot **slp,
                      unsigned *dcip, unsigned *cc)
{
    unsigned dci = (t[3] >> 16) & 0x1f;
    XhciSlot *sl = get_slot(s, t[3] >> 24);
    *cc = !sl ? CC_SLOT_NOT_ENABLED : !dci ? CC_TRB : CC_SUCCESS;
    if (*cc != CC_SUCCESS) {
        return NULL;
    }
    *slp = sl;
    *dcip = dci;
    if (sl->ep[dci - 1].state == EP_DISABLED) {
        *cc = CC_EP_NOT_ENABLED;
        return NULL;
    }
    return &sl->ep[dci - 1];
}

static void do_command(Xhci *s, uint64_t at, const uint32_t *t)
{
    unsigned type = TRB_TYPE(t[3]), id = t[3] >> 24, cc = CC_SUCCESS;
    XhciSlot *sl = NULL;
    XhciEp *ep;
    unsigned dci = 0;
    switch (type) {
    case CMD_ENABLE_SLOT: {
        unsigned n = MIN(s->config & 0xff, (uint32_t)XHCI_SLOTS);
        id = 0;
        for (unsigned i = 0; i < n && !id; i++) {
            if (!s->slot[i].enabled) {
                s->slot[i] = (XhciSlot){ .enabled = 1 };
                id = i + 1;
            }
        }
        cc = id ? CC_SUCCESS : CC_NO_SLOTS;
        break;
    }
    case CMD_DISABLE_SLOT:
        if (get_slot(s, id)) {
            s->slot[id - 1] = (XhciSlot){ 0 };
        } else {
            cc = CC_SLOT_NOT_ENABLED;
        }
        break;
    case CMD_ADDRESS_DEVICE:
        cc = cmd_address(s, id, t);
        break;
    case CMD_CONFIGURE_EP:
        cc = cmd_configure(s, id, t);
        break;
    case CMD_EVALUATE_CTX:
        cc = cmd_evaluate(s, id, t);
        break;
    case CMD_RESET_EP:
        ep = cmd_ep(s, t, &sl, &dci, &cc);
        if (ep && ep->state != EP_HALTED) {
            cc = CC_CONTEXT_STATE;
        } else if (ep) {
            ep->state = EP_STOPPED;
            ep_sync(s, sl, dci);
        }
        break;
    case CMD_STOP_EP:
        ep = cmd_ep(s, t, &sl, &dci, &cc);
        if (ep && ep->state != EP_RUNNING) {
            cc = CC_CONTEXT_STATE;
        } else if (ep) {
            if (ep->nak) {
                /* The TD waiting for its device stops (4.6.9). */
                xfer_event(s, ep->dequeue, 0, CC_STOPPED_LEN, id, dci, 0);
            }
            ep->state = EP_STOPPED;
            ep->nak = 0;
            ep_sync(s, sl, dci);
        }
        break;
    case CMD_SET_TR_DEQUEUE:
        ep = cmd_ep(s, t, &sl, &dci, &cc);
        if (ep && ep->state != EP_STOPPED && ep->state != EP_ERROR) {
            cc = CC_CONTEXT_STATE;
        } else if (ep) {
            ep->dequeue = le64(t) & ~0xfull;
            ep->dcs = t[0] & 1;
            ep->edtla = 0;
            ep_sync(s, sl, dci);
        }
        break;
    case CMD_RESET_DEVICE:
        sl = get_slot(s, id);
        if (!sl) {
            cc = CC_SLOT_NOT_ENABLED;
        } else if (sl->state == SLOT_ENABLED || sl->state == SLOT_DEFAULT) {
            cc = CC_CONTEXT_STATE;
        } else {
            for (unsigned i = 2; i <= XHCI_EPS; i++) {
                if (sl->ep[i - 1].state != EP_DISABLED) {
                    sl->ep[i - 1] = (XhciEp){ 0 };
                    ep_sync(s, sl, i);
                }
            }
            UsbDevice *d = slot_device(s, sl);
            if (d) {
                usb_device_reset(d);
            }
            sl->state = SLOT_DEFAULT;
            slot_write_state(s, sl, 0);
        }
        break;
    case CMD_NOOP:
        id = 0;
        break;
    default:
        mimic_log_guest("xhci: command TRB type %u", type);
        cc = CC_TRB;
        id = 0;
        break;
    }
    cmd_done(s, at, cc, id);
}

static void run_commands(Xhci *s)
{
    if (!(s->usbcmd & CMD_RS)) {
        return;
    }
    s->crr = 1;
    while (s->crr) {
        if (s->kick_trbs >= XHCI_KICK_TRBS) {
            timer_mod(s->timer, clock_now(s->dev.bus->clock) + BACKOFF_NS);
            return;
        }
        s->kick_trbs++;
        s->trbs++;
        uint32_t t[4];
        rd_words(s, s->crcr, t, 4);
        if ((t[3] & TRB_C) != s->ccs) {
            return;
        }
        if (TRB_TYPE(t[3]) == TRB_LINK) {
            s->crcr = le64(t) & ~0x3full;
            if (t[3] & TRB_TC) {
                s->ccs ^= 1;
            }
            continue;
        }
        uint64_t at = s->crcr;
        s->crcr += 16;
        do_command(s, at, t);
    }
}

/* ---- transfers ---- */

/* One TRB's data with the device: USB_RET_NAK, or a completion code
   with *actual set. */
static int trb_transfer(Xhci *s, UsbDevice *d, XhciEp *ep, unsigned dci,
                        const uint32_t *t, size_t *actual)
{
    unsigned type = TRB_TYPE(t[3]);
    size_t len = t[2] & 0x1ffff;
    bool in;
    uint8_t pid;
    *actual = 0;
    if (len > XHCI_MAX_TRB_LEN) {
        mimic_log_guest("xhci: a TRB of %zu bytes", len);
        return CC_TRB;
    }
    if (dci == 1) {
        if (type == TRB_SETUP) {
            if (!(t[3] & TRB_IDT) || len != 8) {
                mimic_log_guest("xhci: a setup TRB without its 8 bytes");
                return CC_TRB;
            }
            usb_put_le32(s->buf, t[0]);
            usb_put_le32(s->buf + 4, t[1]);
            ep->dir_in = (s->buf[0] & USB_DIR_IN) != 0;
            pid = USB_TOKEN_SETUP;
            in = false;
        } else if (type == TRB_STATUS) {
            in = (t[3] & TRB_DIR_IN) != 0;
            pid = in ? USB_TOKEN_IN : USB_TOKEN_OUT;
            len = 0;
        } else {
            if (type == TRB_DATA) {
                ep->dir_in = (t[3] & TRB_DIR_IN) != 0;
            }
            in = ep->dir_in;
            pid = in ? USB_TOKEN_IN : USB_TOKEN_OUT;
        }
    } else {
        if (type != TRB_NORMAL || ep->type == EPT_ISO_OUT ||
            ep->type == EPT_ISO_IN || ep->type == EPT_CONTROL) {
            mimic_log_unimp("xhci: TRB type %u on endpoint type %u", type,
                            ep->type);
            return CC_TRB;
        }
        in = dci & 1;
        pid = in ? USB_TOKEN_IN : USB_TOKEN_OUT;
    }
    if (pid != USB_TOKEN_SETUP && len) {
        if (t[3] & TRB_IDT) {
            if (in || len > 8) {
                return CC_TRB;
            }
            usb_put_le32(s->buf, t[0]);
            usb_put_le32(s->buf + 4, t[1]);
        } else if (!in) {
            memmap_read(s->dev.bus->mem, le64(t), s->buf, len);
        }
    }
    UsbPacket p = { .pid = pid, .ep = dci / 2, .data = s->buf, .len = len };
    int r = usb_handle_packet(d, &p);
    if (r == USB_RET_NAK) {
        return USB_RET_NAK;
    }
    if (r == USB_RET_STALL) {
        return CC_STALL;
    }
    if (r != USB_RET_SUCCESS) {
        return r == USB_RET_BABBLE ? CC_BABBLE : CC_USB_XACT;
    }
    *actual = MIN(p.actual, len);
    if (in && *actual) {
        memmap_write(s->dev.bus->mem, le64(t), s->buf, *actual);
    }
    return CC_SUCCESS;
}

static void ep_halt(Xhci *s, XhciSlot *sl, unsigned dci)
{
    sl->ep[dci - 1].state = EP_HALTED;
    ep_sync(s, sl, dci);
}

/* Walk an endpoint's transfer ring until it is empty or the device
   NAKs. */
static void run_ep(Xhci *s, unsigned id, unsigned dci)
{
    XhciSlot *sl = &s->slot[id - 1];
    XhciEp *ep = &sl->ep[dci - 1];
    bool skip = false; /* the rest of a TD after a short packet */
    if (!(s->usbcmd & CMD_RS)) {
        return;
    }
    while (ep->state == EP_RUNNING) {
        if (s->kick_trbs >= XHCI_KICK_TRBS) {
            ep->nak = 1; /* the timer goes on */
            timer_mod(s->timer, clock_now(s->dev.bus->clock) + BACKOFF_NS);
            return;
        }
        s->kick_trbs++;
        s->trbs++;
        uint32_t t[4];
        rd_words(s, ep->dequeue, t, 4);
        if ((t[3] & TRB_C) != ep->dcs) {
            ep->nak = 0;
            return;
        }
        unsigned type = TRB_TYPE(t[3]);
        uint64_t at = ep->dequeue;
        bool chain = t[3] & TRB_CH;
        if (type == TRB_LINK) {
            ep->dequeue = le64(t) & ~0xfull;
            if (t[3] & TRB_TC) {
                ep->dcs ^= 1;
            }
            continue;
        }
        if (type == TRB_EVENT_DATA) {
            ep->dequeue += 16;
            if (t[3] & TRB_IOC) {
                xfer_event(s, le64(t), ep->edtla,
                           skip ? CC_SHORT_PACKET : CC_SUCCESS, id, dci,
                           TRB_EV_ED);
            }
            if (!chain) {
                ep->edtla = 0;
                skip = false;
            }
            continue;
        }
        if (skip) {
            ep->dequeue += 16;
            if (!chain) {
                ep->edtla = 0;
                skip = false;
            }
            continue;
        }
        if (type == TRB_NOOP) {
            ep->dequeue += 16;
            if (t[3] & TRB_IOC) {
                xfer_event(s, at, 0, CC_SUCCESS, id, dci, 0);
            }
            continue;
        }
        UsbDevice *d = slot_device(s, sl);
        size_t len = t[2] & 0x1ffff, actual = 0;
        int cc = d ? trb_transfer(s, d, ep, dci, t, &actual) : CC_USB_XACT;
        if (cc == USB_RET_NAK) {
            if (!ep->nak) {
                ep->nak = 1;
                if (!timer_pending(s->timer)) {
                    timer_mod(s->timer, clock_now(s->dev.bus->clock) +
                              XHCI_POLL_NS);
                }
            }
            return;
        }
        ep->nak = 0;
        ep->dequeue += 16;
        if (type == TRB_STATUS || type == TRB_SETUP) {
            len = 0;
        }
        ep->edtla = (ep->edtla + (uint32_t)actual) & 0xffffff;
        if (cc != CC_SUCCESS) {
            xfer_event(s, at, (uint32_t)(len - actual), cc, id, dci, 0);
            ep_halt(s, sl, dci);
            return;
        }
        if (actual < len) {
            if (t[3] & (TRB_ISP | TRB_IOC)) {
                xfer_event(s, at, (uint32_t)(len - actual), CC_SHORT_PACKET,
                           id, dci, 0);
            }
            skip = chain;
        } else if (t[3] & TRB_IOC) {
            xfer_event(s, at, 0, CC_SUCCESS, id, dci, 0);
        }
        if (!chain) {
            ep->edtla = 0;
        }
    }
}

void xhci_run_pass(Xhci *s)
{
    bool nak = false;
    s->kick_trbs = 0;
    if (!(s->usbcmd & CMD_RS)) {
        return;
    }
    if (s->crr) {
        run_commands(s);
    }
    for (unsigned id = 1; id <= XHCI_SLOTS; id++) {
        XhciSlot *sl = &s->slot[id - 1];
        for (unsigned dci = 1; sl->enabled && dci <= XHCI_EPS; dci++) {
            if (sl->ep[dci - 1].state == EP_RUNNING) {
                run_ep(s, id, dci);
                nak |= sl->ep[dci - 1].nak;
            }
        }
    }
    if (nak && !timer_pending(s->timer)) {
        timer_mod(s->timer, clock_now(s->dev.bus->clock) + XHCI_POLL_NS);
    }
}

static void tick(void *opaque)
{
    xhci_run_pass(opaque);
}

/* A device has news for an interrupt endpoint: a pass soon. */
static void port_wakeup(UsbPort *port)
{
    Xhci *s = port->owner;
    int64_t now = clock_now(s->dev.bus->clock);
    if ((s->usbcmd & CMD_RS) &&
        (!timer_pending(s->timer) || timer_expire_time(s->timer) > now)) {
        timer_mod(s->timer, now);
    }
}

static void doorbell(Xhci *s, unsigned n, uint32_t v)
{
    s->kick_trbs = 0;
    if (n == 0) {
        if ((v & 0xff) == 0) {
            run_commands(s);
        }
        return;
    }
    unsigned dci = v & 0xff;
    XhciSlot *sl = get_slot(s, n);
    if (!sl || dci < 1 || dci > XHCI_EPS) {
        mimic_log_guest("xhci: doorbell %u target %u", n, dci);
        return;
    }
    XhciEp *ep = &sl->ep[dci - 1];
    if (ep->state == EP_STOPPED) {
        /* The doorbell restarts a stopped endpoint (4.6.9). */
        ep->state = EP_RUNNING;
        ep_sync(s, sl, dci);
    }
    run_ep(s, n, dci);
}

/* ---- registers ---- */

static uint32_t cur_mfindex(Xhci *s)
{
    if (!(s->usbcmd & CMD_RS)) {
        return s->mfindex;
    }
    int64_t d = clock_now(s->dev.bus->clock) - s->mfindex_ns;
    return (uint32_t)(MAX(d, 0) / UFRAME_NS) & 0x3fff;
}

static void hc_reset(Xhci *s)
{
    s->usbcmd = 0;
    s->usbsts = STS_HCH;
    s->dnctrl = 0;
    s->config = 0;
    s->dcbaap = 0;
    s->crcr = 0;
    s->ccs = 0;
    s->crr = 0;
    s->iman = 0;
    s->imod = 4000; /* 1 ms */
    s->erstsz = 0;
    s->erstba = 0;
    s->erdp = 0;
    s->mfindex = 0;
    s->er_seg = s->er_seg_size = s->er_idx = 0;
    s->er_seg_base = 0;
    s->er_pcs = 1;
    s->er_full = 0;
    memset(s->slot, 0, sizeof(s->slot));
    timer_del(s->timer);
    for (int i = 0; i < XHCI_PORTS; i++) {
        s->portsc[i] = 0;
        if (port_device(s, i)) {
            usb_device_reset(port_device(s, i));
        }
        port_connect(s, i);
        if (s->portsc[i] & PORT_CCS) {
            s->portsc[i] |= PORT_CSC;
        }
    }
    update_irq(s);
}

static const uint32_t xecp[8] = {
    /* Supported Protocol: USB 2.0 on ports 1-4, next capability 4
       dwords on. */
    0x02000402, 0x20425355, 0x00000000 | XHCI_PAIRS << 8 | 1, 0,
    /* USB 3.0 on ports 5-8, the last capability. */
    0x03000002, 0x20425355, 0x00000000 | XHCI_PAIRS << 8 | (XHCI_PAIRS + 1),
    0,
};

static uint32_t op_read(Xhci *s, uint32_t off)
{
    if (off >= OP_PORTS && off < OP_PORTS + 16 * XHCI_PORTS) {
        return (off & 0xf) ? 0 : s->portsc[(off - OP_PORTS) / 16];
    }
    switch (off) {
    case REG_USBCMD:
        return s->usbcmd;
    case REG_USBSTS:
        return s->usbsts;
    case REG_PAGESIZE:
        return 1; /* 4 KiB */
    case REG_DNCTRL:
        return s->dnctrl;
    case REG_CRCR:
        return s->crr ? CRCR_CRR : 0; /* the pointer reads as 0 */
    case REG_DCBAAP:
        return (uint32_t)s->dcbaap;
    case REG_DCBAAP_HI:
        return (uint32_t)(s->dcbaap >> 32);
    case REG_CONFIG:
        return s->config;
    default:
        return 0;
    }
}

static uint32_t rt_read(Xhci *s, uint32_t off)
{
    switch (off) {
    case 0x00:
        return cur_mfindex(s);
    case 0x20:
        return s->iman;
    case 0x24:
        return s->imod;
    case 0x28:
        return s->erstsz;
    case 0x30:
        return (uint32_t)s->erstba;
    case 0x34:
        return (uint32_t)(s->erstba >> 32);
    case 0x38:
        return (uint32_t)s->erdp;
    case 0x3c:
        return (uint32_t)(s->erdp >> 32);
    default:
        return 0;
    }
}

static uint32_t reg_read(Xhci *s, uint32_t off)
{
    switch (off) {
    case 0x00:
        return CAPLENGTH | HCIVERSION << 16;
    case 0x04: /* HCSPARAMS1: MaxSlots, MaxIntrs, MaxPorts */
        return XHCI_SLOTS | 1u << 8 | (uint32_t)XHCI_PORTS << 24;
    case 0x08: /* HCSPARAMS2: ERST Max, no scratchpad buffers */
        return ERST_MAX << 4;
    case 0x0c:
        return 0;
    case 0x10: /* HCCPARAMS1: 64-bit addressing, 32-byte contexts */
        return 1u | (XECP / 4) << 16;
    case 0x14:
        return DBOFF;
    case 0x18:
        return RTSOFF;
    case 0x1c:
        return 0;
    }
    if (off >= CAPLENGTH && off < XECP) {
        return op_read(s, off - CAPLENGTH);
    }
    if (off >= XECP && off < XECP + sizeof(xecp)) {
        return xecp[(off - XECP) / 4];
    }
    if (off >= RTSOFF && off < DBOFF) {
        return rt_read(s, off - RTSOFF);
    }
    return 0; /* doorbells read as 0 */
}

static uint64_t xhci_read(void *opaque, uint64_t addr, unsigned size)
{
    Xhci *s = opaque;
    uint32_t v = reg_read(s, (uint32_t)addr & ~3u);
    v >>= (addr & 3) * 8;
    return size >= 4 ? v : v & ((1u << (size * 8)) - 1);
}

static void usbcmd_write(Xhci *s, uint32_t v)
{
    if (v & CMD_HCRST) {
        hc_reset(s);
        return;
    }
    uint32_t old = s->usbcmd, running = cur_mfindex(s);
    s->usbcmd = v & CMD_WMASK;
    if ((s->usbcmd & CMD_RS) && !(old & CMD_RS)) {
        s->usbsts &= ~STS_HCH;
        s->mfindex_ns = clock_now(s->dev.bus->clock) -
                        (int64_t)s->mfindex * UFRAME_NS;
    } else if (!(s->usbcmd & CMD_RS) && (old & CMD_RS)) {
        s->mfindex = running;
        s->usbsts |= STS_HCH;
        s->crr = 0;
        timer_del(s->timer);
    }
    if (v & (CMD_CSS | CMD_CRS)) {
        mimic_log_unimp("xhci: save/restore state is not emulated");
    }
    update_irq(s);
}

static void op_write(Xhci *s, uint32_t off, uint32_t v)
{
    if (off >= OP_PORTS && off < OP_PORTS + 16 * XHCI_PORTS) {
        if (!(off & 0xf)) {
            port_write(s, (off - OP_PORTS) / 16, v);
        }
        return;
    }
    switch (off) {
    case REG_USBCMD:
        usbcmd_write(s, v);
        return;
    case REG_USBSTS:
        s->usbsts &= ~(v & STS_W1C);
        update_irq(s);
        return;
    case REG_DNCTRL:
        s->dnctrl = v & 0xffff;
        return;
    case REG_CRCR:
        if (s->crr) {
            if (v & (CRCR_CS | CRCR_CA)) {
                s->crr = 0;
                cmd_done(s, s->crcr, CC_CMD_RING_STOPPED, 0);
            }
            return;
        }
        s->crcr = (s->crcr & ~0xffffffffull) | (v & ~0x3fu);
        s->ccs = v & CRCR_RCS;
        return;
    case REG_CRCR_HI:
        if (!s->crr) {
            s->crcr = (s->crcr & 0xffffffffull) | (uint64_t)v << 32;
        }
        return;
    case REG_DCBAAP:
        s->dcbaap = (s->dcbaap & ~0xffffffffull) | (v & ~0x3fu);
        return;
    case REG_DCBAAP_HI:
        s->dcbaap = (s->dcbaap & 0xffffffffull) | (uint64_t)v << 32;
        return;
    case REG_CONFIG:
        s->config = MIN(v & 0xff, (uint32_t)XHCI_SLOTS);
        return;
    default:
        return;
    }
}

static void rt_write(Xhci *s, uint32_t off, uint32_t v)
{
    switch (off) {
    case 0x20:
        s->iman = (s->iman & ~(v & IMAN_IP) & ~IMAN_IE) | (v & IMAN_IE);
        update_irq(s);
        return;
    case 0x24:
        s->imod = v;
        return;
    case 0x28:
        s->erstsz = v & 0xffff;
        if (s->erstsz > 1u << ERST_MAX) {
            mimic_log_guest("xhci: ERSTSZ %u over ERST Max", s->erstsz);
            s->erstsz = 1u << ERST_MAX;
        }
        return;
    case 0x30:
    case 0x34:
        if (off == 0x30) {
            s->erstba = (s->erstba & ~0xffffffffull) | (v & ~0x3fu);
        } else {
            s->erstba = (s->erstba & 0xffffffffull) | (uint64_t)v << 32;
        }
        er_init(s); /* writing ERSTBA starts the event ring */
        return;
    case 0x38:
        s->erdp = (s->erdp & ~0xffffffffull & ~(uint64_t)ERDP_EHB) |
                  (v & ~0xfu) | (s->erdp & ERDP_EHB & ~v) | (v & 7);
        s->er_full = 0;
        check_interrupt(s);
        return;
    case 0x3c:
        s->erdp = (s->erdp & 0xffffffffull) | (uint64_t)v << 32;
        return;
    default:
        return;
    }
}

static void xhci_write(void *opaque, uint64_t addr, uint64_t v,
                       unsigned size)
{
    Xhci *s = opaque;
    uint32_t off = (uint32_t)addr;
    if (size != 4 || (off & 3)) {
        mimic_log_guest("xhci: %u-byte write at 0x%x ignored", size, off);
        return;
    }
    if (off >= CAPLENGTH && off < XECP) {
        op_write(s, off - CAPLENGTH, (uint32_t)v);
    } else if (off >= RTSOFF && off < DBOFF) {
        rt_write(s, off - RTSOFF, (uint32_t)v);
    } else if (off >= DBOFF && off <= DBOFF + 4 * XHCI_SLOTS) {
        doorbell(s, (off - DBOFF) / 4, (uint32_t)v);
    }
}

static const MemOps xhci_mmio_ops = {
    .read = xhci_read, .write = xhci_write, .min = 1, .max = 4,
};

/* ---- device ---- */

static void xhci_config_written(PciFunc *f, uint32_t addr, uint32_t val,
                                unsigned len)
{
    (void)val;
    if (pci_msi_control_written(f, addr, len)) {
        update_irq(f->owner);
    }
}

static bool xhci_realize(Device *dev, GError **error)
{
    Xhci *s = (Xhci *)dev;
    (void)error;
    /* QEMU's qemu-xhci: Red Hat's 1b36:000d, USB xHCI, revision 1. */
    pci_add_function(s->bus, &s->pci, s->devfn, 0x1b36, 0x000d, 0x0c033001,
                     s);
    s->pci.config[PCI_INTERRUPT_PIN] = 1;
    s->pci.config[0x60] = 0x30; /* SBRN: USB 3.0 */
    s->pci.config[0x61] = 0x20; /* FLADJ */
    pci_msi_init(&s->pci, XHCI_MSI_CAP);
    s->pci.config_written = xhci_config_written;
    g_autofree char *name = g_strdup_printf("%s.mmio", dev->id);
    s->mmio = memmap_add_mmio(dev->bus->mem, name, 0xfc000000ull +
                              (uint64_t)(s->devfn >> 3) * 0x20000,
                              MMIO_SIZE, &xhci_mmio_ops, s, 3);
    pci_set_bar_mem(&s->pci, 0, s->mmio);
    s->timer = timer_new(dev->bus->clock, tick, s);
    for (int i = 0; i < XHCI_PAIRS; i++) {
        UsbPort *p = &s->ports[i];
        p->owner = s;
        p->index = i;
        p->high_speed = true;
        p->super_speed = true;
        g_snprintf(p->path, sizeof(p->path), "%d", i + 1);
        p->attach = port_attach;
        p->detach = port_detach;
        p->wakeup = port_wakeup;
    }
    hc_reset(s);
    return true;
}

static void xhci_reset(Device *dev)
{
    Xhci *s = (Xhci *)dev;
    pci_reset_function(&s->pci);
    pci_set_word(s->pci.config + PCI_STATUS, PCI_STATUS_CAP_LIST);
    s->pci.config[0x61] = 0x20;
    s->irq_level = false;
    hc_reset(s);
}

static void xhci_finalize(Device *dev)
{
    Xhci *s = (Xhci *)dev;
    timer_free(s->timer);
}

static bool xhci_post_load(void *obj, GError **error)
{
    Xhci *s = obj;
    (void)error;
    s->usbcmd &= CMD_WMASK;
    s->usbsts &= STS_W1C | STS_HCH;
    s->config = MIN(s->config & 0xff, (uint32_t)XHCI_SLOTS);
    s->ccs &= 1;
    s->crr = s->crr != 0;
    s->iman &= IMAN_IP | IMAN_IE;
    s->erstsz = MIN(s->erstsz, 1u << ERST_MAX);
    s->er_pcs &= 1;
    s->er_full = s->er_full != 0;
    if (s->er_seg >= s->erstsz || s->er_seg_size > ERST_SEG_MAX ||
        s->er_idx >= MAX(s->er_seg_size, 1u)) {
        s->er_seg = s->er_idx = s->er_seg_size = 0;
    }
    s->mfindex &= 0x3fff;
    bool nak = false;
    for (int i = 0; i < XHCI_SLOTS; i++) {
        XhciSlot *sl = &s->slot[i];
        sl->enabled = sl->enabled != 0;
        sl->state = MIN(sl->state, (uint8_t)SLOT_CONFIGURED);
        if (sl->port > XHCI_PORTS) {
            sl->port = 0;
        }
        for (int j = 0; j < XHCI_EPS; j++) {
            XhciEp *ep = &sl->ep[j];
            ep->state = MIN(ep->state, (uint8_t)EP_ERROR);
            ep->type &= 7;
            ep->dcs &= 1;
            ep->nak = ep->nak != 0;
            ep->dir_in = ep->dir_in != 0;
            ep->edtla &= 0xffffff;
            nak |= ep->nak;
        }
    }
    for (int i = 0; i < XHCI_PORTS; i++) {
        /* A device that is not there (or is now) changes the port. */
        if (!port_device(s, i) != !(s->portsc[i] & PORT_CCS)) {
            port_connect(s, i);
            s->portsc[i] |= PORT_CSC;
        }
        s->portsc[i] |= PORT_PP;
    }
    pci_update_mappings(&s->pci);
    s->irq_level = false;
    update_irq(s);
    if (nak && (s->usbcmd & CMD_RS)) {
        timer_mod(s->timer, clock_now(s->dev.bus->clock) + UFRAME_NS);
    }
    return true;
}

static const StateField xhci_ep_fields[] = {
    STATE_U8(XhciEp, state), STATE_U8(XhciEp, type), STATE_U8(XhciEp, dcs),
    STATE_U8(XhciEp, nak), STATE_U8(XhciEp, dir_in),
    STATE_U16(XhciEp, maxp), STATE_U64(XhciEp, dequeue),
    STATE_U32(XhciEp, edtla), STATE_END,
};

static const StateField xhci_slot_fields[] = {
    STATE_U8(XhciSlot, enabled), STATE_U8(XhciSlot, state),
    STATE_U8(XhciSlot, port), STATE_U64(XhciSlot, ctx),
    STATE_STRUCT_ARRAY(XhciSlot, ep, XHCI_EPS, xhci_ep_fields), STATE_END,
};

static const StateDesc xhci_state = {
    .name = "qemu-xhci", .version = 1, .post_load = xhci_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(Xhci, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_U32(Xhci, usbcmd), STATE_U32(Xhci, usbsts),
        STATE_U32(Xhci, dnctrl), STATE_U32(Xhci, config),
        STATE_U64(Xhci, dcbaap), STATE_U64(Xhci, crcr),
        STATE_U8(Xhci, ccs), STATE_U8(Xhci, crr),
        STATE_U32_ARRAY(Xhci, portsc, XHCI_PORTS),
        STATE_U32(Xhci, iman), STATE_U32(Xhci, imod),
        STATE_U32(Xhci, erstsz), STATE_U64(Xhci, erstba),
        STATE_U64(Xhci, erdp), STATE_U32(Xhci, er_seg),
        STATE_U32(Xhci, er_seg_size), STATE_U32(Xhci, er_idx),
        STATE_U64(Xhci, er_seg_base), STATE_U8(Xhci, er_pcs),
        STATE_U8(Xhci, er_full), STATE_U32(Xhci, mfindex),
        STATE_I64(Xhci, mfindex_ns),
        STATE_STRUCT_ARRAY(Xhci, slot, XHCI_SLOTS, xhci_slot_fields),
        STATE_END },
};

const DeviceInfo xhci_info = {
    .name = "qemu-xhci", .size = sizeof(Xhci), .state = &xhci_state,
    .realize = xhci_realize, .reset = xhci_reset,
    .finalize = xhci_finalize,
};
