/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "pc" board: an i440FX + PIIX3 PC as SeaBIOS expects it.
 *
 * Memory: RAM from 0 (the 0xa0000-0xbffff window belongs to the VGA, the
 * PAM windows at 0xc0000-0xfffff shadow the ROMs), RAM above 0xe0000000
 * moves to 4 GiB; the firmware at the top of the 32-bit space with its
 * last 128 KiB also at 0xe0000.  Devices: two 8259A PICs, 8254 PIT,
 * MC146818 RTC/CMOS, 8237 DMA, the 82078 floppy controller, COM1-COM4,
 * fw_cfg, port 0x92, the i8042 keyboard controller with a PS/2 keyboard,
 * the debug port, PCI bus with the i440FX host bridge, the PIIX3 ISA
 * bridge and IDE function, the PIIX4 power-management function (ACPI,
 * SCI on IRQ 9; SeaBIOS builds the ACPI tables from it), and a standard
 * VGA with SeaVGABIOS.
 * CMOS and fw_cfg carry the memory size, the e820 map, the boot order and
 * the serial console port.  Wiring follows the IBM PC/AT: IRQ0 PIT, IRQ4
 * COM1, IRQ3 COM2, IRQ6 and DMA channel 2 floppy, IRQ8 RTC.
 * Drives are the engine's (hw/drive.h): the board opens each IDE
 * position's and floppy drive's image through ctx->drives and attaches
 * its unit; names, change, eject and "info block" are the drive layer's.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bus/log.h"
#include "hw/board.h"
#include "hw/display/vga.h"
#include "hw/ide/piix_ide.h"
#include "hw/isa/debugcon.h"
#include "hw/audio/ac97.h"
#include "hw/audio/hda.h"
#include "hw/audio/opl3.h"
#include "hw/audio/pcspk.h"
#include "hw/audio/sb16.h"
#include "hw/isa/fdc.h"
#include "hw/isa/fw_cfg.h"
#include "hw/pc/loader.h"
#include "hw/isa/i8042.h"
#include "hw/isa/i8237.h"
#include "hw/isa/i8254.h"
#include "hw/isa/fpuerr.h"
#include "hw/isa/i8259.h"
#include "hw/isa/mc146818.h"
#include "hw/isa/port92.h"
#include "hw/isa/serial.h"
#include "hw/pc/i440fx.h"
#include "hw/pc/piix3.h"
#include "hw/intc/ioapic.h"
#include "hw/intc/lapic.h"
#include "hw/timer/hpet.h"
#include "hw/pc/piix4_pm.h"
#include "hw/net/e1000.h"
#include "hw/net/ne2000.h"
#include "hw/net/rtl8139.h"
#include "hw/net/virtio_net.h"
#include "hw/pci/pci.h"
#include "hw/usb/usb_bus.h"
#include "images/block.h"

#define LOWMEM_MAX 0xe0000000ull

struct BoardPrivate {
    BoardInstance *ctx;
    uint8_t *ram;
    uint64_t ram_size, below_4g, above_4g;
    uint8_t *bios;
    size_t bios_size;
    uint8_t *vga_hole;
    PciBus *pci;
    IrqLine **isa_irq;
    I8259 *pic;
    I8254 *pit;
    Mc146818 *rtc;
    FwCfg *fw_cfg;
    Port92 *port92;
    I8042 *kbc;
    Fdc *fdc;
    PiixIde *ide;
    int next_slot;   /* the next free PCI slot */
    int ac97_slot;
    int hda_slot;
    int ehci_slot;   /* -device usb-ehci */
    int xhci_slot;   /* -device qemu-xhci */
    Piix4Pm *pm;
    FpuErr *fpuerr;
    Piix3 *piix3;
    IrqLine *nic_irq[MIMIC_MAX_NICS];
    UsbBus *usb;
    uint8_t *nic_rom[MIMIC_MAX_NICS];
    /* APIC board (NULL with -machine apic=off / -no-hpet) */
    Lapic *lapic;
    Ioapic *ioapic;
    Hpet *hpet;
    IrqLine *pit_irq, *rtc_irq; /* cut by the HPET's legacy routing */
};

static const uint16_t com_base[4] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
static const int com_irq[4] = { 4, 3, 4, 3 };

/* The board's wiring to the CPU's pins. */
static void cpu_line(BoardPrivate *b, unsigned line, bool level)
{
    if (b->ctx->cpu) {
        b->ctx->cpu->ops->set_line(b->ctx->cpu, line, level);
    }
}

static void pic_to_cpu(void *opaque, bool level)
{
    BoardPrivate *b = opaque;
    if (b->lapic) {
        lapic_set_lint0(b->lapic, level); /* ExtINT through the APIC */
    } else {
        cpu_line(b, CPU_X86_INTR, level);
    }
}

static void set_a20(void *opaque, bool on)
{
    cpu_line(opaque, CPU_X86_A20, on);
}

static void set_ignne(void *opaque, bool level)
{
    cpu_line(opaque, CPU_X86_IGNNE, level);
}

static void cpu_output(void *opaque, unsigned line, bool level)
{
    BoardPrivate *b = opaque;
    if (line == CPU_X86_OUT_FERR) {
        fpuerr_set_ferr(b->fpuerr, level);
    }
}

static void request_reset(void *opaque)
{
    BoardPrivate *b = opaque;
    b->ctx->host.request_reset(b->ctx->host.opaque);
}

static void request_poweroff(void *opaque)
{
    BoardPrivate *b = opaque;
    b->ctx->host.request_poweroff(b->ctx->host.opaque);
}

static void rcr_reset(void *opaque, uint8_t v)
{
    request_reset(opaque);
}

static void cpu_shutdown(void *opaque)
{
    /* Triple fault: a reset, or with -no-reboot the engine quits. */
    request_reset(opaque);
}

static Device *pc_add_device(BoardInstance *ctx, const DeviceInfo *info,
                     const char *id)
{
    return device_new(ctx->devices, info, ctx->bus, id);
}

/* ---- APIC board: local APIC, I/O APIC, HPET (as QEMU's pc) ---- */

static void lapic_to_cpu(void *opaque, bool level)
{
    cpu_line(opaque, CPU_X86_INTR, level);
}

static void lapic_nmi(void *opaque)
{
    cpu_line(opaque, CPU_X86_NMI, true);
    cpu_line(opaque, CPU_X86_NMI, false);
}

static void ioapic_to_lapic(void *opaque, uint8_t dest, bool logical,
                            unsigned mode, uint8_t vector, bool level_trig)
{
    BoardPrivate *b = opaque;
    lapic_deliver(b->lapic, dest, logical, mode, vector, level_trig);
}

/* A PCI message: a dword write into the local APIC's 0xfee00000 window
   (Intel SDM vol. 3, 11.11: destination in address bits 19:12, logical
   destination mode in bit 2; vector, delivery mode and trigger in the
   data).  Without an APIC, or elsewhere, the write lands nowhere. */
static void pci_msi_to_lapic(void *opaque, uint64_t addr, uint32_t data)
{
    BoardPrivate *b = opaque;
    if ((addr >> 20) != 0xfee || !b->lapic) {
        mimic_log_guest("pci: MSI to %#" G_GINT64_MODIFIER "x dropped", addr);
        return;
    }
    lapic_deliver(b->lapic, (addr >> 12) & 0xff, addr & 4, (data >> 8) & 7,
                  data & 0xff, data & 0x8000);
}

/* ISA IRQ n reaches the 8259 and I/O APIC pin n, but IRQ0 (the timer)
   is pin 2 (the MADT's override, fw_cfg etc/irq0-override). */
static void isa_irq_handler(void *opaque, int n, bool level)
{
    BoardPrivate *b = opaque;
    i8259_set_irq(b->pic, n, level);
    if (b->ioapic) {
        ioapic_set_irq(b->ioapic, n == 0 ? 2 : n, level);
    }
}

/* The PIT's and the RTC's outputs, unless the HPET has taken IRQ0/8. */
static void legacy_timer_irq(void *opaque, int n, bool level)
{
    BoardPrivate *b = opaque;
    if (!hpet_legacy(b->hpet)) {
        irq_set(b->isa_irq[n], level);
    }
}

static void hpet_line(void *opaque, int n, bool level)
{
    BoardPrivate *b = opaque;
    if (n < 16) {
        irq_set(b->isa_irq[n], level);
    } else if (b->ioapic) {
        ioapic_set_irq(b->ioapic, n, level);
    }
}

/* Legacy routing on: IRQ0/8 belong to the HPET (low until it drives
   them); off: the PIT's and the RTC's levels come back. */
static void hpet_legacy_changed(void *opaque, bool on)
{
    BoardPrivate *b = opaque;
    irq_set(b->isa_irq[0], on ? false : b->pit_irq->level);
    irq_set(b->isa_irq[8], on ? false : b->rtc_irq->level);
}

static bool apic_setup(BoardPrivate *b, GError **error)
{
    const MachineConfig *cfg = b->ctx->cfg;
    if (cfg->no_apic) {
        return true;
    }
    b->lapic = (Lapic *)pc_add_device(b->ctx, &lapic_info, "lapic");
    b->lapic->set_intr = lapic_to_cpu;
    b->lapic->nmi = lapic_nmi;
    b->lapic->opaque = b;
    b->ioapic = (Ioapic *)pc_add_device(b->ctx, &ioapic_info, "ioapic");
    b->ioapic->deliver = ioapic_to_lapic;
    b->ioapic->opaque = b;
    b->lapic->eoi_broadcast = ioapic_eoi;
    b->lapic->eoi_opaque = b->ioapic;
    return device_realize(DEVICE(b->lapic), error) &&
           device_realize(DEVICE(b->ioapic), error);
}

static bool hpet_setup(BoardPrivate *b, GError **error)
{
    if (b->ctx->cfg->no_hpet) {
        return true;
    }
    b->hpet = (Hpet *)pc_add_device(b->ctx, &hpet_info, "hpet");
    b->hpet->set_line = hpet_line;
    b->hpet->legacy_changed = hpet_legacy_changed;
    b->hpet->opaque = b;
    return device_realize(DEVICE(b->hpet), error);
}

static bool load_bios(BoardPrivate *b, GError **error)
{
    const MachineConfig *cfg = b->ctx->cfg;
    g_autofree char *path = NULL;
    if (cfg->bios_file && access(cfg->bios_file, F_OK) == 0) {
        /* A -bios name that exists from the current directory is that
           file, before the -L and data directories (QEMU's
           qemu_find_file tries the name as a path first). */
        path = g_strdup(cfg->bios_file);
    } else {
        path = board_find_firmware(
            cfg, cfg->bios_file ? cfg->bios_file : "bios-256k.bin", error);
    }
    if (!path) {
        return false;
    }
    uint8_t *data;
    size_t len;
    if (!board_load_file(cfg->bios_file ? "-bios" : "BIOS", path,
                         16 * 1024 * 1024, &data, &len, error)) {
        return false;
    }
    if (len < 0x20000 || len > 16 * 1024 * 1024 || (len & 0xffff)) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_FIRMWARE,
                    "BIOS '%s' has an invalid size (%zu bytes; a multiple of "
                    "64 KiB from 128 KiB to 16 MiB is needed)", path,
                    (size_t)len);
        g_free(data);
        return false;
    }
    b->bios = data;
    b->bios_size = len;
    return true;
}

static void cmos_setup(BoardPrivate *b)
{
    const MachineConfig *cfg = b->ctx->cfg;
    Mc146818 *rtc = b->rtc;
    uint64_t kb_ext = b->below_4g > (1 << 20) ? (b->below_4g >> 10) - 1024
                                               : 0;
    if (kb_ext > 0xffff) {
        kb_ext = 0xffff;
    }
    mc146818_set_cmos(rtc, 0x15, 640 & 0xff);
    mc146818_set_cmos(rtc, 0x16, 640 >> 8);
    mc146818_set_cmos(rtc, 0x17, kb_ext);
    mc146818_set_cmos(rtc, 0x18, kb_ext >> 8);
    mc146818_set_cmos(rtc, 0x30, kb_ext);
    mc146818_set_cmos(rtc, 0x31, kb_ext >> 8);
    uint64_t above16 = b->below_4g > (16 << 20)
                       ? (b->below_4g - (16 << 20)) >> 16 : 0;
    if (above16 > 0xffff) {
        above16 = 0xffff;
    }
    mc146818_set_cmos(rtc, 0x34, above16);
    mc146818_set_cmos(rtc, 0x35, above16 >> 8);
    uint64_t high = b->above_4g >> 16;
    mc146818_set_cmos(rtc, 0x5b, high);
    mc146818_set_cmos(rtc, 0x5c, high >> 8);
    mc146818_set_cmos(rtc, 0x5d, high >> 16);
    mc146818_set_cmos(rtc, 0x5f, cfg->smp > 0 ? cfg->smp - 1 : 0);

    /* Floppy drive types (from the media) and equipment. */
    uint8_t fd = 0, nfd = 0;
    for (int i = 0; i < FDC_DRIVES; i++) {
        uint8_t type = fdc_cmos_type(b->fdc, i);
        if (type) {
            fd |= type << (i ? 0 : 4);
            nfd++;
        }
    }
    mc146818_set_cmos(rtc, 0x10, fd);
    mc146818_set_cmos(rtc, 0x14, (nfd ? 0x01 | ((nfd - 1) << 6) : 0) | 0x06);

    /* Boot order for SeaBIOS: nibbles 1 floppy, 2 disk, 3 CD, 4 net. */
    const char *order = cfg->boot_once[0] ? cfg->boot_once
                        : cfg->boot_order[0] ? cfg->boot_order : "cad";
    uint8_t nib[3] = { 0, 0, 0 };
    for (int i = 0; i < 3 && order[i]; i++) {
        switch (order[i]) {
        case 'a': case 'b':
            nib[i] = 1;
            break;
        case 'c':
            nib[i] = 2;
            break;
        case 'd':
            nib[i] = 3;
            break;
        default:
            nib[i] = 4;
            break;
        }
    }
    mc146818_set_cmos(rtc, 0x3d, nib[1] << 4 | nib[0]);
    mc146818_set_cmos(rtc, 0x38, nib[2] << 4 | 1 /* no floppy sig check */);

    /* Wall clock: host time (UTC or local), or the -rtc base date. */
    int64_t t = time(NULL);
    if (cfg->rtc_base && strcmp(cfg->rtc_base, "utc") &&
        strcmp(cfg->rtc_base, "localtime")) {
        g_autofree char *iso = strchr(cfg->rtc_base, 'T')
            ? g_strconcat(cfg->rtc_base, "Z", NULL)
            : g_strconcat(cfg->rtc_base, "T00:00:00Z", NULL);
        GDateTime *dt = g_date_time_new_from_iso8601(iso, NULL);
        if (dt) {
            t = g_date_time_to_unix(dt);
            g_date_time_unref(dt);
        }
    } else if (cfg->rtc_localtime) {
        struct tm tm;
        time_t now = t;
        localtime_r(&now, &tm);
        t += tm.tm_gmtoff;
    }
    mc146818_set_time(rtc, t);
}

static void fw_cfg_setup(BoardPrivate *b)
{
    const MachineConfig *cfg = b->ctx->cfg;
    FwCfg *f = b->fw_cfg;
    fw_cfg_add_i64(f, FW_CFG_RAM_SIZE, b->ram_size);
    fw_cfg_add_i16(f, FW_CFG_NB_CPUS, cfg->smp > 0 ? cfg->smp : 1);
    fw_cfg_add_i16(f, FW_CFG_MAX_CPUS, cfg->smp > 0 ? cfg->smp : 1);
    fw_cfg_add_i16(f, FW_CFG_NOGRAPHIC, cfg->display == DISPLAY_NOGRAPHIC);
    fw_cfg_add_i16(f, FW_CFG_BOOT_MENU, cfg->boot_menu);
    /* e820: RAM below the PCI hole and above 4 GiB. */
    uint8_t *e820 = g_malloc0(40);
    int n = 0;
    uint64_t ent[2][2] = { { 0, b->below_4g }, { 1ull << 32, b->above_4g } };
    for (int i = 0; i < 2; i++) {
        if (!ent[i][1]) {
            continue;
        }
        uint8_t *p = e820 + 20 * n++;
        for (int k = 0; k < 8; k++) {
            p[k] = ent[i][0] >> (8 * k);
            p[8 + k] = ent[i][1] >> (8 * k);
        }
        p[16] = 1; /* E820_RAM */
    }
    fw_cfg_add_file(f, "etc/e820", e820, 20 * n);
    uint8_t *menu = g_malloc0(2);
    menu[0] = cfg->boot_menu;
    fw_cfg_add_file(f, "etc/show-boot-menu", menu, 2);
    if (cfg->display == DISPLAY_NOGRAPHIC) {
        /* SeaBIOS mirrors its screen on this port (QEMU's -nographic). */
        uint8_t *port = g_malloc(2);
        port[0] = 0xf8;
        port[1] = 0x03;
        fw_cfg_add_file(f, "etc/sercon-port", port, 2);
    }
    /* Sleep states for SeaBIOS's own ACPI tables (one byte per state S0-S5,
       bit 7 = offered, low bits = SLP_TYP): only soft off (S5, SLP_TYP 0,
       which SeaBIOS always offers) is modelled, so hide S3 and S4. */
    static const uint8_t states[6] = { 0x80, 0, 0, 0x01, 0x02, 0x80 };
    fw_cfg_add_file(f, "etc/system-states", g_memdup2(states, 6), 6);
    if (b->ioapic) {
        /* SeaBIOS's MADT: ISA IRQ0 is I/O APIC pin 2 (as QEMU's pc). */
        uint8_t *ov = g_malloc0(8);
        ov[0] = 1;
        fw_cfg_add_file(f, "etc/irq0-override", ov, 8);
    }
    if (cfg->no_reboot) {
        uint8_t *t = g_malloc(8);
        for (int i = 0; i < 8; i++) {
            t[i] = 0xff; /* reboot-timeout -1: stay halted */
        }
        fw_cfg_add_file(f, "etc/boot-fail-wait", t, 4);
    }
    /* bootindex= of USB disks (-kernel brings its own bootorder). */
    char *order = cfg->kernel ? NULL : usb_bus_bootorder(b->usb);
    if (order) {
        fw_cfg_add_file(f, "bootorder", order, strlen(order));
    }
}

/* The 82078 at 0x3f0 (IRQ 6, DMA 2) with the configured floppy drives;
   always present, as on QEMU's pc. */
static bool fdc_setup(BoardPrivate *b, I8237 *dma, GError **error)
{
    BoardInstance *ctx = b->ctx;
    const MachineConfig *cfg = ctx->cfg;
    Fdc *fdc = (Fdc *)pc_add_device(ctx, &fdc_info, "fdc");
    fdc->irq = b->isa_irq[6];
    fdc->dma = dma;
    fdc->dma_channel = 2;
    for (int i = 0; i < cfg->n_drives; i++) {
        const DriveConfig *d = &cfg->drives[i];
        if (d->interface != DRIVE_IF_FLOPPY || d->index >= FDC_DRIVES) {
            continue;
        }
        BlockDev *blk;
        if (!ctx->drives.open(ctx->drives.opaque, i, &blk, error) ||
            !fdc_attach(fdc, d->index, blk, error)) {
            return false;
        }
        g_autofree char *where = g_strdup_printf("fdc unit %d", d->index);
        ctx->drives.attach(ctx->drives.opaque, i, NULL, where,
                           &fdc_media_ops, &fdc->drive[d->index]);
    }
    b->fdc = fdc;
    return device_realize(DEVICE(fdc), error);
}

/* The sound cards of cfg->soundhw, each on its audio device. */
static bool sound_setup(BoardPrivate *b, I8237 *dma, GError **error)
{
    BoardInstance *ctx = b->ctx;
    const MachineConfig *cfg = ctx->cfg;
    /* The OPL3 at 0x388: the SB16's FM part, or the AdLib's; one chip
       serves both. */
    Opl3 *opl = NULL;
    for (int i = 0; i < cfg->n_soundhw && !opl; i++) {
        if (!strcmp(cfg->soundhw[i], "sb16") ||
            !strcmp(cfg->soundhw[i], "adlib")) {
            opl = (Opl3 *)pc_add_device(ctx, &opl3_info, "opl3");
            opl->audio = ctx->audio[i];
            if (!device_realize(DEVICE(opl), error)) {
                return false;
            }
        }
    }
    for (int i = 0; i < cfg->n_soundhw; i++) {
        const char *model = cfg->soundhw[i];
        Device *d;
        if (!strcmp(model, "adlib")) {
            continue; /* the OPL3 above */
        }
        if (!strcmp(model, "pcspk")) {
            PcSpk *spk = (PcSpk *)pc_add_device(ctx, &pcspk_info, "pcspk");
            spk->pit = b->pit;
            spk->audio = ctx->audio[i];
            d = DEVICE(spk);
        } else if (!strcmp(model, "sb16")) {
            /* The Sound Blaster 16's defaults: 0x220, IRQ 5, DMA 1/5. */
            Sb16 *sb = (Sb16 *)pc_add_device(ctx, &sb16_info, "sb16");
            sb->irq = b->isa_irq[5];
            sb->dma = dma;
            sb->audio = ctx->audio[i];
            sb->opl = opl;
            d = DEVICE(sb);
        } else if (!strcmp(model, "ac97") || !strcmp(model, "hda") ||
                   !strcmp(model, "hda-output")) {
            continue; /* a PCI function: sound_setup_pci() */
        } else {
            /* A card QEMU has and Mimic not (es1370, adlib, ... from a
               machine file): the machine runs without it, as QEMU's
               -soundhw parser here warns. */
            g_printerr("mimic: warning: sound card '%s' is not emulated "
                       "yet; the machine runs without it\n", model);
            continue;
        }
        if (!device_realize(d, error)) {
            return false;
        }
    }
    return true;
}

/* INTA# of the AC'97 in its slot.  The PIIX board's swizzle, which
   SeaBIOS's routing and the DSDT's _PRT assume: PIRQ = (slot - 1 + pin)
   & 3, pin 0 = INTA# (slot 3: PIRQC). */
static void ac97_irq(void *opaque, bool level)
{
    BoardPrivate *b = opaque;
    piix3_set_pirq(b->piix3, (b->ac97_slot - 1) & 3, level);
}

static void hda_irq(void *opaque, bool level)
{
    BoardPrivate *b = opaque;
    piix3_set_pirq(b->piix3, (b->hda_slot - 1) & 3, level);
}

/* Intel HDA with its codec: "hda" (hda-duplex) or "hda-output". */
static bool hda_setup(BoardPrivate *b, int i, GError **error)
{
    BoardInstance *ctx = b->ctx;
    Hda *h = (Hda *)pc_add_device(ctx, &hda_info, "intel-hda");
    h->bus = b->pci;
    b->hda_slot = b->next_slot++;
    h->devfn = b->hda_slot << 3;
    h->duplex = !strcmp(ctx->cfg->soundhw[i], "hda");
    h->msi = b->lapic != NULL;
    h->set_irq = hda_irq;
    h->irq_opaque = b;
    h->audio = ctx->audio[i];
    return device_realize(DEVICE(h), error);
}

/* The PCI sound cards of cfg->soundhw. */
static bool sound_setup_pci(BoardPrivate *b, GError **error)
{
    BoardInstance *ctx = b->ctx;
    const MachineConfig *cfg = ctx->cfg;
    for (int i = 0; i < cfg->n_soundhw; i++) {
        if (g_str_has_prefix(cfg->soundhw[i], "hda")) {
            if (!hda_setup(b, i, error)) {
                return false;
            }
            continue;
        }
        if (strcmp(cfg->soundhw[i], "ac97")) {
            continue;
        }
        Ac97 *ac = (Ac97 *)pc_add_device(ctx, &ac97_info, "ac97");
        ac->bus = b->pci;
        b->ac97_slot = b->next_slot++;
        ac->devfn = b->ac97_slot << 3;
        ac->set_irq = ac97_irq;
        ac->irq_opaque = b;
        ac->audio = ctx->audio[i];
        if (!device_realize(DEVICE(ac), error)) {
            return false;
        }
    }
    return true;
}

/* The configured drive at IDE position pos (bus * 2 + unit), or -1. */
static int ide_drive_at(const MachineConfig *cfg, int pos)
{
    for (int i = 0; i < cfg->n_drives; i++) {
        if (cfg->drives[i].interface == DRIVE_IF_IDE &&
            cfg->drives[i].index == pos) {
            return i;
        }
    }
    return -1;
}

/* PIIX3 IDE with the configured disks and CD-ROMs (an empty CD-ROM drive
   at ide1-cd0 when none is given, as QEMU's pc has). */
static bool ide_setup(BoardPrivate *b, GError **error)
{
    BoardInstance *ctx = b->ctx;
    const BoardDrives *dr = &ctx->drives;
    PiixIde *ide = (PiixIde *)pc_add_device(ctx, &piix_ide_info, "ide");
    ide->bus = b->pci;
    ide_channel_init(&ide->ch[0], ctx->bus->mem, b->isa_irq[14]);
    ide_channel_init(&ide->ch[1], ctx->bus->mem, b->isa_irq[15]);
    for (int pos = 0; pos < 4; pos++) {
        int i = ide_drive_at(ctx->cfg, pos);
        IdeChannel *ch = &ide->ch[pos / 2];
        IdeDrive *unit = &ch->drive[pos % 2];
        g_autofree char *serial = g_strdup_printf("QM%05d", pos + 1);
        g_autofree char *where = g_strdup_printf("ide.%d unit %d", pos / 2,
                                                 pos % 2);
        if (i < 0) {
            if (pos == 2) {
                ide_attach(ch, 0, IDE_CD, NULL, serial);
                dr->attach(dr->opaque, -1, "ide1-cd0", where,
                           &ide_cd_media_ops, unit);
            }
            continue;
        }
        bool cd = ctx->cfg->drives[i].media == DRIVE_MEDIA_CDROM;
        BlockDev *blk;
        if (!dr->open(dr->opaque, i, &blk, error)) {
            return false;
        }
        if (!cd && !blk) {
            g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                        "IDE disk %d has no image file", pos);
            return false;
        }
        ide_attach(ch, pos % 2, cd ? IDE_CD : IDE_HD, blk, serial);
        dr->attach(dr->opaque, i, NULL, where, cd ? &ide_cd_media_ops : NULL,
                   unit);
    }
    b->ide = ide;
    return device_realize(DEVICE(ide), error);
}

/* PCI INTx to the PIIX3's PIRQ lines: slot d, pin INTA lands on PIRQ
   (d - 1) & 3, the swizzle SeaBIOS and the DSDT assume on i440FX. */
static void pci_intx(void *opaque, int slot, bool level)
{
    BoardPrivate *b = opaque;
    piix3_set_pirq(b->piix3, (slot - 1) & 3, level);
}

/* Network cards from the engine, at 00:03.0 onwards (QEMU's slots for
   the default NIC); the PCI sound cards come after them.  Each model's
   device is created by the one table entry below. */
/* iPXE from Debian's ipxe-qemu as the card's PCI expansion ROM (what
   QEMU loads by default), so that SeaBIOS offers network boot (-boot n).
   Without the package the card has no ROM: one warning when network
   boot was asked for. */
static void nic_rom(BoardPrivate *b, int i, const char *model, PciFunc *pf)
{
    static const char *const roms[][2] = {
        { "e1000", "pxe-e1000.rom" }, { "rtl8139", "pxe-rtl8139.rom" },
        { "ne2k_pci", "pxe-ne2k_pci.rom" },
        { "virtio-net-pci", "pxe-virtio.rom" } };
    const MachineConfig *cfg = b->ctx->cfg;
    const char *name = NULL;
    for (size_t k = 0; k < G_N_ELEMENTS(roms); k++) {
        if (!strcmp(roms[k][0], model)) {
            name = roms[k][1];
        }
    }
    GError *err = NULL;
    g_autofree char *path = name ? board_find_firmware(cfg, name, &err)
                                 : NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    if (!path || !board_load_file("NIC ROM", path, 1024 * 1024, &data, &len,
                                  &err)) {
        if (strchr(cfg->boot_order, 'n') || strchr(cfg->boot_once, 'n')) {
            fprintf(stderr, "mimic: warning: %s: no network boot ROM (%s)\n",
                    model, err ? err->message : "none for this model");
        }
        g_clear_error(&err);
        return;
    }
    size_t rs = 0x10000;
    while (rs < len) {
        rs <<= 1;
    }
    b->nic_rom[i] = g_malloc0(rs);
    memcpy(b->nic_rom[i], data, len);
    g_free(data);
    /* One iPXE image serves several cards (ne2k_pci's and virtio's carry
       IDs 0000:0000): put the card's IDs in the PCI data structure, as
       SeaBIOS matches them, and keep the image's byte sum 0 through the
       spare header byte 6 (as QEMU does). */
    uint8_t *r = b->nic_rom[i];
    size_t pcir = r[0x18] | r[0x19] << 8, img = r[2] * 512u;
    if (len >= 0x1a && r[0] == 0x55 && r[1] == 0xaa && pcir + 8 <= len &&
        img <= len && !memcmp(r + pcir, "PCIR", 4)) {
        uint8_t old = 0;
        for (size_t k = 0; k < img; k++) {
            old += r[k];
        }
        memcpy(r + pcir + 4, pf->config + PCI_VENDOR_ID, 4);
        uint8_t sum = 0;
        for (size_t k = 0; k < img; k++) {
            sum += r[k];
        }
        if (img > 6 && old == 0) {
            r[6] -= sum;
        }
    }
    g_autofree char *rname = g_strdup_printf("%s.%d.rom", model, i);
    MemRegion *mr = memmap_add_rom(b->ctx->bus->mem, rname,
                                   0xfe000000ull + (uint64_t)i * 0x100000,
                                   rs, b->nic_rom[i], 3);
    pci_set_bar_mem(pf, 6, mr);
}

static Device *nic_new(BoardPrivate *b, const BoardNic *bn, int i,
                       NetPort ***port, PciFunc **pf, GError **error)
{
    BoardInstance *ctx = b->ctx;
    g_autofree char *id = g_strdup_printf("%s.%d", bn->model, i);
    if (!strcmp(bn->model, "ne2k_isa")) {
        Ne2k *n = (Ne2k *)pc_add_device(ctx, &ne2k_isa_info, id);
        n->iobase = bn->iobase ? bn->iobase : 0x300;
        n->irq = b->isa_irq[bn->irq ? bn->irq : 9];
        memcpy(n->mac, bn->mac, 6);
        *port = &n->port;
        return DEVICE(n);
    }
    int slot = b->next_slot++;
    b->nic_irq[i] = irq_new(pci_intx, b, slot);
    if (!strcmp(bn->model, "e1000")) {
        E1000 *e = (E1000 *)pc_add_device(ctx, &e1000_info, id);
        e->bus = b->pci;
        e->devfn = slot << 3;
        e->irq = b->nic_irq[i];
        memcpy(e->mac, bn->mac, 6);
        *port = &e->port;
        *pf = &e->pci;
        return DEVICE(e);
    }
    if (!strcmp(bn->model, "rtl8139")) {
        Rtl8139 *r = (Rtl8139 *)pc_add_device(ctx, &rtl8139_info, id);
        r->bus = b->pci;
        r->devfn = slot << 3;
        r->irq = b->nic_irq[i];
        r->revision = bn->revision;
        memcpy(r->mac, bn->mac, 6);
        *port = &r->port;
        *pf = &r->pci;
        return DEVICE(r);
    }
    if (!strcmp(bn->model, "ne2k_pci")) {
        Ne2k *n = (Ne2k *)pc_add_device(ctx, &ne2k_pci_info, id);
        n->pci_bus = b->pci;
        n->devfn = slot << 3;
        n->irq = b->nic_irq[i];
        memcpy(n->mac, bn->mac, 6);
        *port = &n->port;
        *pf = &n->pci;
        return DEVICE(n);
    }
    if (!strcmp(bn->model, "virtio-net-pci")) {
        VirtioNet *v = (VirtioNet *)pc_add_device(ctx, &virtio_net_info, id);
        v->bus = b->pci;
        v->devfn = slot << 3;
        v->irq = b->nic_irq[i];
        memcpy(v->mac, bn->mac, 6);
        *port = &v->port;
        *pf = &v->pci;
        return DEVICE(v);
    }
    g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                "network card model '%s' is not available on the pc board",
                bn->model);
    return NULL;
}

static bool nic_setup(BoardPrivate *b, GError **error)
{
    BoardInstance *ctx = b->ctx;
    for (int i = 0; i < ctx->n_nics; i++) {
        BoardNic *bn = &ctx->nics[i];
        NetPort **port = NULL;
        PciFunc *pf = NULL;
        Device *d = nic_new(b, bn, i, &port, &pf, error);
        if (!d || !device_realize(d, error)) {
            return false;
        }
        if (pf) {
            nic_rom(b, i, bn->model, pf);
        }
        bn->port = *port;
        net_port_connect(bn->port, bn->peer);
    }
    return true;
}

/* ---- USB: the PIIX3's UHCI at 00:01.2 (INTD#: PIRQD) ---- */

static void usb_irq(void *opaque, bool level)
{
    BoardPrivate *b = opaque;
    piix3_set_pirq(b->piix3, 3, level);
}

/* A usb-ehci in the next free slot, INTA# (PIRQ as the swizzle says). */
static void ehci_irq(void *opaque, bool level)
{
    BoardPrivate *b = opaque;
    piix3_set_pirq(b->piix3, (b->ehci_slot - 1) & 3, level);
}

/* A qemu-xhci in the next free slot, INTA# likewise (when MSI is off). */
static void xhci_irq(void *opaque, bool level)
{
    BoardPrivate *b = opaque;
    piix3_set_pirq(b->piix3, (b->xhci_slot - 1) & 3, level);
}

static bool usb_setup(BoardPrivate *b, GError **error)
{
    if (!usb_bus_wanted(b->ctx->cfg)) {
        return true;
    }
    UsbBusWiring w = {
        .pci = b->pci, .devfn = 1 << 3 | 2, .set_irq = usb_irq,
        .opaque = b,
    };
    if (usb_bus_has_ehci(b->ctx->cfg)) {
        b->ehci_slot = b->next_slot++;
        w.ehci_devfn = b->ehci_slot << 3;
        w.ehci_set_irq = ehci_irq;
    }
    if (usb_bus_has_xhci(b->ctx->cfg)) {
        b->xhci_slot = b->next_slot++;
        w.xhci_devfn = b->xhci_slot << 3;
        w.xhci_set_irq = xhci_irq;
    }
    b->usb = usb_bus_create(b->ctx, &w, error);
    return b->usb != NULL;
}

static void pc_usb_info(BoardInstance *ctx, GString *out)
{
    BoardPrivate *b = ctx->board;
    if (b) {
        usb_bus_info(b->usb, out);
    }
}

static bool pc_device_add(BoardInstance *ctx, const char *spec,
                          GError **error)
{
    return usb_bus_device_add(((BoardPrivate *)ctx->board)->usb, spec, error);
}

static bool pc_device_del(BoardInstance *ctx, const char *id, GError **error)
{
    return usb_bus_device_del(((BoardPrivate *)ctx->board)->usb, id, error);
}

static bool pc_pointer_absolute(BoardInstance *ctx)
{
    BoardPrivate *b = ctx->board;
    return b && usb_bus_has_tablet(b->usb);
}

/* Pixels of the display to the tablet's 0..0x7fff, as QEMU scales. */
static void pc_send_pointer_abs(BoardInstance *ctx, int x, int y, int dz,
                                unsigned buttons)
{
    BoardPrivate *b = ctx->board;
    DisplaySurface *surf = ctx->display ? display_back(ctx->display) : NULL;
    int w = surf && surf->width > 0 ? surf->width : 640;
    int h = surf && surf->height > 0 ? surf->height : 480;
    x = CLAMP(x, 0, w);
    y = CLAMP(y, 0, h);
    usb_bus_pointer_abs(b->usb, (int)((int64_t)x * 0x7fff / w),
                        (int)((int64_t)y * 0x7fff / h), dz, buttons);
}

static bool pc_init(BoardInstance *ctx, GError **error)
{
    const MachineConfig *cfg = ctx->cfg;
    MachineBuses *bus = ctx->bus;
    BoardPrivate *b = g_new0(BoardPrivate, 1);
    b->ctx = ctx;
    ctx->board = b;

    /* RAM */
    b->ram_size = cfg->ram_size;
    b->below_4g = MIN(b->ram_size, LOWMEM_MAX);
    b->above_4g = b->ram_size - b->below_4g;
    if ((1ull << 32) + b->above_4g > MEM_PHYS_LIMIT) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "-m: %" G_GUINT64_FORMAT " MiB does not fit the "
                    "%d-bit physical address space", b->ram_size >> 20,
                    MEM_PHYS_BITS);
        return false;
    }
    b->ram = mmap(NULL, b->ram_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (b->ram == MAP_FAILED) {
        b->ram = NULL;
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "-m: cannot allocate %" G_GUINT64_FORMAT " MiB of guest "
                    "RAM", b->ram_size >> 20);
        return false;
    }
    ctx->ram = b->ram;
    ctx->ram_size = b->ram_size;
    board_add_ram_block(ctx, "pc.ram", b->ram, b->ram_size);
    ctx->ram_blocks[ctx->n_ram_blocks - 1].anonymous = true;
    memmap_add_ram(bus->mem, "ram-below-4g", 0, b->below_4g, b->ram, 0);
    if (b->above_4g) {
        memmap_add_ram(bus->mem, "ram-above-4g", 1ull << 32, b->above_4g,
                       b->ram + b->below_4g, 0);
    }

    /* Firmware */
    if (!load_bios(b, error)) {
        return false;
    }
    board_add_rom(ctx, "bios", b->bios, b->bios_size);
    MemRegion *bios = memmap_add_rom(bus->mem, "bios",
                                     (1ull << 32) - b->bios_size,
                                     b->bios_size, b->bios, 0);

    /* Interrupt controllers and ISA devices. */
    b->pic = (I8259 *)pc_add_device(ctx, &i8259_info, "pic");
    b->pic->set_intr = pic_to_cpu;
    b->pic->intr_opaque = b;
    b->isa_irq = irq_new_array(isa_irq_handler, b, 16);
    if (!device_realize(DEVICE(b->pic), error) || !apic_setup(b, error)) {
        return false;
    }
    b->pit_irq = irq_new(legacy_timer_irq, b, 0);
    b->rtc_irq = irq_new(legacy_timer_irq, b, 8);
    b->pit = (I8254 *)pc_add_device(ctx, &i8254_info, "pit");
    b->pit->irq0 = b->pit_irq;
    b->rtc = (Mc146818 *)pc_add_device(ctx, &mc146818_info, "rtc");
    b->rtc->irq = b->rtc_irq;
    Device *dma = pc_add_device(ctx, &i8237_info, "dma");
    b->fw_cfg = (FwCfg *)pc_add_device(ctx, &fw_cfg_info, "fw_cfg");
    b->port92 = (Port92 *)pc_add_device(ctx, &port92_info, "port92");
    b->port92->set_a20 = set_a20;
    b->port92->reset = request_reset;
    b->port92->opaque = b;
    Device *dbg = pc_add_device(ctx, &debugcon_info, "debugcon");
    /* FERR# -> IRQ13, port 0xF0 -> IGNNE# (the legacy x87 error path). */
    b->fpuerr = (FpuErr *)pc_add_device(ctx, &fpuerr_info, "fpuerr");
    b->fpuerr->irq13 = b->isa_irq[13];
    b->fpuerr->set_ignne = set_ignne;
    b->fpuerr->opaque = b;
    b->kbc = (I8042 *)pc_add_device(ctx, &i8042_info, "i8042");
    b->kbc->irq_kbd = b->isa_irq[1];
    b->kbc->irq_aux = b->isa_irq[12];
    b->kbc->set_a20 = set_a20;
    b->kbc->reset = request_reset;
    b->kbc->opaque = b;
    Device *later[] = { DEVICE(b->pit), DEVICE(b->rtc), dma,
                        DEVICE(b->fw_cfg), DEVICE(b->port92), dbg,
                        DEVICE(b->kbc), DEVICE(b->fpuerr) };
    for (size_t i = 0; i < G_N_ELEMENTS(later); i++) {
        if (!device_realize(later[i], error)) {
            return false;
        }
    }
    if (!hpet_setup(b, error) || !fdc_setup(b, (I8237 *)dma, error)) {
        return false;
    }
    if (!sound_setup(b, (I8237 *)dma, error)) {
        return false;
    }
    for (int i = 0; i < MIMIC_MAX_SERIAL; i++) {
        if (!ctx->serial[i]) {
            continue;
        }
        g_autofree char *id = g_strdup_printf("serial%d", i);
        Serial *s = (Serial *)pc_add_device(ctx, &serial_info, id);
        s->base = com_base[i];
        s->irq = b->isa_irq[com_irq[i]];
        s->chr = ctx->serial[i];
        if (!device_realize(DEVICE(s), error)) {
            return false;
        }
    }

    /* PCI */
    b->pci = pci_bus_new(bus);
    pci_bus_register_ports(b->pci, bus->io);
    pci_bus_set_rcr_handler(b->pci, rcr_reset, b);
    pci_bus_set_msi_handler(b->pci, pci_msi_to_lapic, b);
    I440fx *host = (I440fx *)pc_add_device(ctx, &i440fx_info, "i440fx");
    host->bus = b->pci;
    if (!device_realize(DEVICE(host), error)) {
        return false;
    }
    i440fx_init_pam(host, bios);
    Piix3 *isa = (Piix3 *)pc_add_device(ctx, &piix3_info, "piix3");
    isa->bus = b->pci;
    isa->isa_irqs = b->isa_irq;
    b->piix3 = isa;
    if (!device_realize(DEVICE(isa), error)) {
        return false;
    }
    /* PIIX4 power management at 00:01.3: ACPI with the SCI on IRQ 9. */
    b->pm = (Piix4Pm *)pc_add_device(ctx, &piix4_pm_info, "piix4-pm");
    b->pm->bus = b->pci;
    b->pm->sci = b->isa_irq[9];
    b->pm->poweroff = request_poweroff;
    b->pm->opaque = b;
    if (!device_realize(DEVICE(b->pm), error)) {
        return false;
    }
    /* Device resource registers with the ISA decode enables, which the
       DSDT's _STA methods read (as QEMU's pc sets them): 0x5f bit 7
       parallel port (none here), 0x67 bit 3 COM A, bit 7 COM B. */
    b->pm->pci.config[0x5f] = 0x10;
    b->pm->pci.config[0x63] = 0x60;
    b->pm->pci.config[0x67] = (ctx->serial[0] ? 0x08 : 0) |
                              (ctx->serial[1] ? 0x90 : 0);

    /* Standard VGA with SeaVGABIOS as its expansion ROM (00:02.0). */
    g_autofree char *vgabios = board_find_firmware(cfg, "vgabios-stdvga.bin",
                                                   error);
    if (!vgabios) {
        return false;
    }
    Vga *vga = (Vga *)pc_add_device(ctx, &vga_info, "vga");
    vga->bus = b->pci;
    vga->display = ctx->display;
    size_t rom_len;
    if (!board_load_file("VGA BIOS", vgabios, 1024 * 1024, &vga->rom,
                         &rom_len, error)) {
        return false;
    }
    vga->rom_size = rom_len;
    board_add_rom(ctx, "vgabios", vga->rom, vga->rom_size);
    if (!device_realize(DEVICE(vga), error)) {
        return false;
    }
    board_add_ram_block(ctx, "vga.vram", vga->vram, VGA_VRAM_SIZE);
    if (!ide_setup(b, error)) {
        return false;
    }
    /* PCI slots from 3 on (0: host bridge, 1: PIIX3, 2: VGA). */
    b->next_slot = 3;
    if (!nic_setup(b, error) || !sound_setup_pci(b, error)) {
        return false;
    }
    if (!usb_setup(b, error)) {
        return false;
    }
    cmos_setup(b);
    fw_cfg_setup(b);
    if (cfg->kernel &&
        !loader_setup(b->fw_cfg, ctx, b->below_4g, error)) {
        return false;
    }

    /* CPU */
    const CpuOps *cpu_ops = cpu_find(cfg->cpu_model ? cfg->cpu_model
                                                    : "pentium2");
    if (!cpu_ops) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "CPU model '%s' is not available in this build (no x86 "
                    "CPU core is linked in yet)", cfg->cpu_model);
        return false;
    }
    CpuWiring cbus = {
        .mem = bus->mem, .io = bus->io, .clock = bus->clock,
        .intr_ack = i8259_intr_ack, .intr_opaque = b->pic,
        .shutdown = cpu_shutdown, .shutdown_opaque = b,
        .output = cpu_output, .output_opaque = b,
        .model = cfg->cpu_model,
        .engine = cfg->accel == ACCEL_INTERP ? CPU_ENGINE_INTERP
                  : cfg->accel == ACCEL_JIT  ? CPU_ENGINE_JIT
                                             : CPU_ENGINE_DEFAULT,
    };
    if (b->lapic) {
        b->lapic->pic_ack = i8259_intr_ack;
        b->lapic->pic = b->pic;
        cbus.intr_ack = lapic_intr_ack;
        cbus.intr_opaque = b->lapic;
        cbus.sysreg = lapic_msr;
        cbus.sysreg_opaque = b->lapic;
    }
    ctx->cpu = cpu_ops->create(&cbus, error);
    if (!ctx->cpu) {
        return false;
    }
    return true;
}

static void pc_destroy(BoardInstance *ctx)
{
    BoardPrivate *b = ctx->board;
    if (!b) {
        return;
    }
    if (ctx->cpu) {
        ctx->cpu->ops->destroy(ctx->cpu);
        ctx->cpu = NULL;
    }
    usb_bus_free(b->usb);
    irq_free_array(b->isa_irq, 16);
    irq_free(b->pit_irq);
    irq_free(b->rtc_irq);
    for (int i = 0; i < MIMIC_MAX_NICS; i++) {
        irq_free(b->nic_irq[i]);
        g_free(b->nic_rom[i]);
    }
    pci_bus_free(b->pci);
    if (b->ram) {
        munmap(b->ram, b->ram_size);
    }
    g_free(b->bios);
    g_free(b);
    ctx->board = NULL;
}

static void pc_send_key(BoardInstance *ctx, unsigned evdev, bool down)
{
    BoardPrivate *b = ctx->board;
    if (b && usb_bus_key(b->usb, evdev, down)) {
        return; /* a USB keyboard takes the keys, as in QEMU */
    }
    if (b && b->kbc) {
        i8042_key(b->kbc, evdev, down);
    }
}

static void pc_send_pointer(BoardInstance *ctx, int dx, int dy, int dz,
                            unsigned buttons)
{
    BoardPrivate *b = ctx->board;
    if (b && usb_bus_pointer_rel(b->usb, dx, dy, dz, buttons)) {
        return;
    }
    if (b && b->kbc) {
        i8042_pointer(b->kbc, dx, dy, dz, buttons);
    }
}

static void pc_powerdown(BoardInstance *ctx)
{
    BoardPrivate *b = ctx->board;
    if (b && b->pm && !piix4_pm_power_button(b->pm)) {
        mimic_log_guest("system_powerdown: the guest has not enabled ACPI; "
                        "nobody answers the power button");
    }
}

/* The monitor's audio_jack: the jacks of the HDA codec. */
static bool pc_audio_jack(BoardInstance *ctx, const char *jack, bool plugged,
                          GError **error)
{
    Device *d = device_find(ctx->devices, "intel-hda");
    int pin = !strcmp(jack, "line-out") ? 0 : !strcmp(jack, "line-in") ? 1
                                                                       : -1;
    if (!d || pin < 0 || (pin == 1 && !((Hda *)d)->duplex)) {
        g_set_error(error, BOARD_ERROR, BOARD_ERROR_CONFIG,
                    "no jack '%s' (the HDA codec has line-out, and line-in "
                    "with hda-duplex)", jack);
        return false;
    }
    hda_set_jack((Hda *)d, pin, plugged);
    return true;
}

const BoardType pc_board = {
    .name = "pc",
    .description = "Standard PC (i440FX + PIIX, 1996)",
    .init = pc_init,
    .destroy = pc_destroy,
    .send_key = pc_send_key,
    .send_pointer = pc_send_pointer,
    .powerdown = pc_powerdown,
    .usb_info = pc_usb_info,
    .device_add = pc_device_add,
    .device_del = pc_device_del,
    .audio_jack = pc_audio_jack,
    .pointer_absolute = pc_pointer_absolute,
    .send_pointer_abs = pc_send_pointer_abs,
};
