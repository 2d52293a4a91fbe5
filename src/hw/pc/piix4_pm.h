/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel 82371AB (PIIX4) function 3, power management, as QEMU's pc board
 * has it at 00:01.3 (8086:7113 revision 3) beside the PIIX3 functions:
 * the ACPI fixed hardware (PM1a event and control, the 3.579545 MHz PM
 * timer) at the I/O base the firmware programs in PMBA (config 0x40) and
 * enables with PMIOSE (config 0x80 bit 0), the GPE0 block at 0xafe0, and
 * the APM control/status ports 0xb2/0xb3 through which an ACPI OS turns
 * SCI_EN on.  The SCI is wired to ISA IRQ 9.  There is no SMM: APMC_EN is
 * reported as already set, so SeaBIOS skips its SMM set-up.
 */
#ifndef MIMIC_HW_PC_PIIX4_PM_H
#define MIMIC_HW_PC_PIIX4_PM_H

#include "bus/device.h"
#include "hw/pci/pci.h"

#define PIIX4_PM_DEVFN (1 << 3 | 3)
#define PIIX4_GPE0_BASE 0xafe0
#define PM_TIMER_FREQ 3579545

/* PM1 status/enable bits (ACPI 1.0b, 4.7.3.1). */
#define PM1_TMR_STS 0x0001
#define PM1_GBL_STS 0x0020
#define PM1_PWRBTN_STS 0x0100
#define PM1_RTC_STS 0x0400
#define PM1_WAK_STS 0x8000
/* PM1 control bits (ACPI 1.0b, 4.7.3.2.1). */
#define PM1_SCI_EN 0x0001
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN 0x2000
/* PIIX4 SLP_TYP encodings (82371AB data sheet, PMCNTRL). */
#define PIIX4_SLP_TYP_SOFF 0 /* S5, soft off */

typedef struct Piix4Pm {
    Device dev;
    PciFunc pci;
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint16_t gpe_sts, gpe_en;
    uint8_t apm_cnt, apm_sts;
    int64_t tmr_epoch; /* PM timer bit-23 toggles already reported */
    /* wiring */
    PciBus *bus;
    IrqLine *sci;
    void (*poweroff)(void *opaque); /* SLP_EN with SLP_TYP = soft off */
    void *opaque;
    /* derived */
    uint16_t io_mapped; /* PM I/O base currently decoded, 0 = none */
    struct Timer *tmr_timer;
} Piix4Pm;

extern const DeviceInfo piix4_pm_info;

/* The power button (monitor `system_powerdown`): PWRBTN_STS, and an SCI
   when the guest has enabled ACPI and the event.  Returns false when the
   guest has not enabled ACPI (SCI_EN clear), so nobody will listen. */
bool piix4_pm_power_button(Piix4Pm *s);
/* The current PM timer value (24 bits). */
uint32_t piix4_pm_timer(Piix4Pm *s);

#endif
