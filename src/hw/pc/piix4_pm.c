/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PIIX4 power management function (see piix4_pm.h).
 * References: Intel 82371AB PIIX4 data sheet, section 3.4 (PCI function 3
 * configuration: PMBA 0x40, DEVACTB 0x58, PMREGMISC 0x80, SMBBA 0x90) and
 * section 7 (power management I/O: PMSTS 0x00, PMEN 0x02, PMCNTRL 0x04,
 * PMTMR 0x08, GPSTS 0x0c, GPEN 0x0e); ACPI 1.0b chapter 4.7 (the fixed
 * hardware registers, status bits cleared by writing ones, SCI).
 * The PM timer is derived from virtual time (24 bits, as the FADT that
 * SeaBIOS builds says: no TMR_VAL_EXT), so it is deterministic under
 * -icount.  TMR_STS is raised each time bit 23 of the timer toggles.
 * Sleep states other than soft off are not modelled: the firmware's
 * tables offer only S5 (the board hides S3 and S4 through fw_cfg
 * etc/system-states), and a guest that asks for one anyway is woken at
 * once (WAK_STS).  The SMBus controller is not modelled (SMBBA stays
 * writable, nothing decodes it).
 */
#include "hw/pc/piix4_pm.h"

#include "bus/log.h"

#define PMBA 0x40
#define DEVACTB 0x58
#define PMREGMISC 0x80
#define SMBBA 0x90
#define SMBHSTCFG 0xd2
#define PM_IO_LEN 64
#define SCI_EVENTS (PM1_TMR_STS | PM1_GBL_STS | PM1_PWRBTN_STS | PM1_RTC_STS)
#define APM_ACPI_DISABLE 0xf0
#define APM_ACPI_ENABLE 0xf1
#define NS 1000000000LL

static int64_t vnow(Piix4Pm *s)
{
    return clock_now(s->dev.bus->clock);
}

static int64_t ticks_at(int64_t ns)
{
    return (int64_t)((__int128)ns * PM_TIMER_FREQ / NS);
}

uint32_t piix4_pm_timer(Piix4Pm *s)
{
    return ticks_at(vnow(s)) & 0xffffff;
}

static void update_sci(Piix4Pm *s)
{
    bool level = (s->pm1_cnt & PM1_SCI_EN) &&
                 ((s->pm1_sts & s->pm1_en & SCI_EVENTS) ||
                  (s->gpe_sts & s->gpe_en));
    irq_set(s->sci, level);
}

/* Report bit-23 toggles of the timer in TMR_STS, and keep a timer armed
   for the next one while TMR_EN could turn it into an SCI. */
static void tmr_sync(Piix4Pm *s)
{
    int64_t epoch = ticks_at(vnow(s)) >> 23;
    if (epoch != s->tmr_epoch) {
        s->tmr_epoch = epoch;
        s->pm1_sts |= PM1_TMR_STS;
    }
    if ((s->pm1_en & PM1_TMR_STS) && (s->pm1_cnt & PM1_SCI_EN)) {
        __int128 t = (__int128)(epoch + 1) << 23;
        timer_mod(s->tmr_timer, (int64_t)((t * NS + PM_TIMER_FREQ - 1) /
                                          PM_TIMER_FREQ));
    } else {
        timer_del(s->tmr_timer);
    }
}

static void tmr_cb(void *opaque)
{
    Piix4Pm *s = opaque;
    tmr_sync(s);
    update_sci(s);
}

static void sleep_request(Piix4Pm *s, unsigned typ)
{
    if (typ == PIIX4_SLP_TYP_SOFF) {
        if (s->poweroff) {
            s->poweroff(s->opaque);
        }
        return;
    }
    if (typ == 5) {
        return; /* "working": nothing to enter */
    }
    mimic_log_unimp("piix4-pm: sleep type %u is not modelled; waking at once",
                    typ);
    s->pm1_sts |= PM1_WAK_STS;
}

static uint8_t pm_read_byte(Piix4Pm *s, unsigned off)
{
    switch (off) {
    case 0x00: case 0x01:
        tmr_sync(s);
        return s->pm1_sts >> (8 * (off & 1));
    case 0x02: case 0x03:
        return s->pm1_en >> (8 * (off & 1));
    case 0x04: case 0x05:
        return s->pm1_cnt >> (8 * (off & 1));
    case 0x08: case 0x09: case 0x0a: case 0x0b:
        return piix4_pm_timer(s) >> (8 * (off - 8));
    default:
        return 0; /* general purpose, processor and device registers */
    }
}

static void pm_write_byte(Piix4Pm *s, unsigned off, uint8_t v)
{
    unsigned sh = 8 * (off & 1);
    switch (off) {
    case 0x00: case 0x01:
        tmr_sync(s);
        s->pm1_sts &= ~((uint16_t)v << sh); /* write one to clear */
        break;
    case 0x02: case 0x03:
        s->pm1_en = (s->pm1_en & ~(0xff << sh)) | (v << sh);
        s->pm1_en &= SCI_EVENTS;
        tmr_sync(s);
        break;
    case 0x04:
        /* SCI_EN and BM_RLD; GBL_RLS (bit 2) would signal an SMI. */
        s->pm1_cnt = (s->pm1_cnt & 0xff00) | (v & 0x03);
        tmr_sync(s);
        break;
    case 0x05: {
        uint16_t hi = (uint16_t)v << 8;
        s->pm1_cnt = (s->pm1_cnt & 0x00ff) | (hi & ~PM1_SLP_EN & 0x1c00);
        if (hi & PM1_SLP_EN) {
            sleep_request(s, (s->pm1_cnt >> PM1_SLP_TYP_SHIFT) & 7);
        }
        break;
    }
    default:
        break; /* the timer is read-only; the rest is not modelled */
    }
}

/* Wider accesses byte by byte, except that PM_TMR is sampled once per
   access: a 32-bit read taken as four reads at four instants could go
   back in time (0x..ff then a carry), which SeaBIOS's 24-bit extension
   of the timer takes for a wrap (+4.7 s), timing out its USB polls. */
static uint32_t pm_io_read(void *opaque, uint16_t off, unsigned size)
{
    Piix4Pm *s = opaque;
    uint32_t tmr = piix4_pm_timer(s);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned o = off + i;
        uint8_t b = o >= 0x08 && o < 0x0c ? tmr >> (8 * (o - 0x08))
                                           : pm_read_byte(s, o);
        v |= (uint32_t)b << (8 * i);
    }
    update_sci(s); /* reading PM1_STS may have noticed a timer overflow */
    return v;
}

static void pm_io_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    Piix4Pm *s = opaque;
    for (unsigned i = 0; i < size; i++) {
        pm_write_byte(s, off + i, v >> (8 * i));
    }
    update_sci(s);
}

static const IoRegion pm_io_region = {
    .base = 0, .len = PM_IO_LEN, .min = 1, .max = 4, .read = pm_io_read,
    .write = pm_io_write, .name = "piix4-pm",
};

static uint32_t gpe_read(void *opaque, uint16_t off, unsigned size)
{
    Piix4Pm *s = opaque;
    uint16_t r = off < 2 ? s->gpe_sts : s->gpe_en;
    return r >> (8 * (off & 1)) & 0xff;
}

static void gpe_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    Piix4Pm *s = opaque;
    unsigned sh = 8 * (off & 1);
    if (off < 2) {
        s->gpe_sts &= ~((uint16_t)(v & 0xff) << sh);
    } else {
        s->gpe_en = (s->gpe_en & ~(0xff << sh)) | ((v & 0xff) << sh);
    }
    update_sci(s);
}

static uint32_t apm_read(void *opaque, uint16_t off, unsigned size)
{
    Piix4Pm *s = opaque;
    return off ? s->apm_sts : s->apm_cnt;
}

static void apm_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
    Piix4Pm *s = opaque;
    if (off) {
        s->apm_sts = v;
        return;
    }
    /* Without SMM, the chipset itself does what the SMI handler of a real
       board does for the FADT's ACPI_ENABLE / ACPI_DISABLE values. */
    s->apm_cnt = v;
    if (v == APM_ACPI_ENABLE) {
        s->pm1_cnt |= PM1_SCI_EN;
    } else if (v == APM_ACPI_DISABLE) {
        s->pm1_cnt &= ~PM1_SCI_EN;
    }
    tmr_sync(s);
    update_sci(s);
}

/* QEMU's PCI hot-plug ports, which SeaBIOS's own SSDT reads: no slot is
   hot-pluggable or removable here. */
static uint32_t hotplug_read(void *opaque, uint16_t off, unsigned size)
{
    return 0;
}

static void hotplug_write(void *opaque, uint16_t off, uint32_t v,
                          unsigned size)
{
}

static const IoRegion piix4_pm_io[] = {
    { .base = PIIX4_GPE0_BASE, .len = 4, .min = 1, .max = 1,
      .read = gpe_read, .write = gpe_write, .name = "piix4-gpe0" },
    { .base = 0xb2, .len = 2, .min = 1, .max = 1, .read = apm_read,
      .write = apm_write, .name = "apm" },
    { .base = 0xae00, .len = 16, .min = 1, .max = 4, .read = hotplug_read,
      .write = hotplug_write, .name = "pci-hotplug" },
    { 0 },
};

static void remap(Piix4Pm *s)
{
    uint16_t base = pci_get_long(s->pci.config + PMBA) & 0xffc0;
    if (!(s->pci.config[PMREGMISC] & 1)) {
        base = 0;
    }
    if (base == s->io_mapped) {
        return;
    }
    IoSpace *io = s->dev.bus->io;
    if (s->io_mapped) {
        ioport_unregister(io, &pm_io_region, s);
    }
    if (base) {
        ioport_register_at(io, &pm_io_region, base, s);
    }
    s->io_mapped = base;
}

static void piix4_pm_config_written(PciFunc *f, uint32_t addr, uint32_t val,
                                    unsigned len)
{
    if ((addr < PMBA + 4 && addr + len > PMBA) ||
        (addr <= PMREGMISC && addr + len > PMREGMISC)) {
        remap(f->owner);
    }
}

bool piix4_pm_power_button(Piix4Pm *s)
{
    s->pm1_sts |= PM1_PWRBTN_STS;
    update_sci(s);
    return s->pm1_cnt & PM1_SCI_EN;
}

static bool piix4_pm_realize(Device *dev, GError **error)
{
    Piix4Pm *s = (Piix4Pm *)dev;
    s->tmr_timer = timer_new(dev->bus->clock, tmr_cb, s);
    s->pci.config_written = piix4_pm_config_written;
    pci_add_function(s->bus, &s->pci, PIIX4_PM_DEVFN, 0x8086, 0x7113,
                     0x06800003, s);
    uint8_t *w = s->pci.wmask;
    w[PMBA] = 0xc0;
    w[PMBA + 1] = 0xff;
    for (int r = DEVACTB; r < 0x6c; r++) {
        w[r] = 0xff; /* DEVACTA/B, DEVRESA-J */
    }
    w[DEVACTB + 3] = 0xfd; /* APMC_EN stays set: there is no SMM */
    w[PMREGMISC] = 0x01;
    w[SMBBA] = 0xf0;
    w[SMBBA + 1] = 0xff;
    w[SMBHSTCFG] = 0x0f;
    return true;
}

static void piix4_pm_reset(Device *dev)
{
    Piix4Pm *s = (Piix4Pm *)dev;
    uint8_t *c = s->pci.config;
    /* Keep the board's device-resource bits (COM port enables) across a
       reset: they describe the hardware, the firmware only reads them. */
    pci_set_word(c + PCI_COMMAND, 0);
    pci_set_word(c + PCI_STATUS, 0x0280);
    c[PCI_INTERRUPT_PIN] = 1;
    pci_set_long(c + PMBA, 1);
    pci_set_long(c + DEVACTB, 0x02000000);
    c[PMREGMISC] = 0;
    pci_set_long(c + SMBBA, 1);
    c[SMBHSTCFG] = 0;
    s->pm1_sts = s->pm1_en = s->pm1_cnt = 0;
    s->gpe_sts = s->gpe_en = 0;
    s->apm_cnt = s->apm_sts = 0;
    s->tmr_epoch = ticks_at(vnow(s)) >> 23;
    timer_del(s->tmr_timer);
    remap(s);
    update_sci(s);
}

static void piix4_pm_finalize(Device *dev)
{
    Piix4Pm *s = (Piix4Pm *)dev;
    timer_free(s->tmr_timer);
}

static bool piix4_pm_post_load(void *obj, GError **error)
{
    Piix4Pm *s = obj;
    s->pm1_en &= SCI_EVENTS;
    s->pm1_cnt &= 0x1c03;
    s->pci.config[DEVACTB + 3] |= 0x02;
    remap(s);
    tmr_sync(s);
    update_sci(s);
    return true;
}

static const StateDesc piix4_pm_state = {
    .name = "piix4-pm", .version = 1, .min_version = 1,
    .post_load = piix4_pm_post_load,
    .fields = (const StateField[]) {
        { .name = "config", .offset = offsetof(Piix4Pm, pci.config),
          .type = STATE_T_BYTES, .count = 256 },
        STATE_U16(Piix4Pm, pm1_sts), STATE_U16(Piix4Pm, pm1_en),
        STATE_U16(Piix4Pm, pm1_cnt), STATE_U16(Piix4Pm, gpe_sts),
        STATE_U16(Piix4Pm, gpe_en), STATE_U8(Piix4Pm, apm_cnt),
        STATE_U8(Piix4Pm, apm_sts), STATE_I64(Piix4Pm, tmr_epoch),
        STATE_END },
};

const DeviceInfo piix4_pm_info = {
    .name = "piix4-pm", .size = sizeof(Piix4Pm), .io = piix4_pm_io,
    .state = &piix4_pm_state, .reset = piix4_pm_reset,
    .realize = piix4_pm_realize, .finalize = piix4_pm_finalize,
};
