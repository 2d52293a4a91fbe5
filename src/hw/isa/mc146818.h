/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Motorola MC146818 real-time clock and CMOS RAM (ports 0x70/0x71). */
#ifndef MIMIC_HW_ISA_MC146818_H
#define MIMIC_HW_ISA_MC146818_H

#include "bus/device.h"

#define RTC_REG_A 10
#define RTC_REG_B 11
#define RTC_REG_C 12
#define RTC_REG_D 13
#define RTC_CENTURY 0x32

typedef struct Mc146818 {
    Device dev;
    uint8_t cmos[128];
    uint8_t index;
    bool nmi_disabled;
    int64_t base_sec;  /* guest wall time (s since epoch) at base_ns */
    int64_t base_ns;   /* virtual time of base_sec */
    int64_t last_sec;  /* last second an update-ended event was raised */
    /* wiring */
    IrqLine *irq;
    struct Timer *periodic, *second;
} Mc146818;

extern const DeviceInfo mc146818_info;

/* Board set-up: CMOS bytes, and the guest's initial wall-clock time. */
void mc146818_set_cmos(Mc146818 *s, int index, uint8_t value);
void mc146818_set_time(Mc146818 *s, int64_t unix_seconds);

#endif
