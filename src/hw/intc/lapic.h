/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The local APIC of the one x86 CPU (xAPIC, MMIO at the APIC base,
 * 0xFEE00000 after reset).  Intel SDM Vol. 3A, chapter 11 "Advanced
 * Programmable Interrupt Controller (APIC)".
 *
 * Inputs: lapic_set_lint0() (the 8259's INTR output: delivered as ExtINT
 * while LVT LINT0 says so, or straight to the CPU while the APIC is
 * globally disabled in IA32_APIC_BASE), lapic_set_lint1() (NMI),
 * lapic_deliver() (interrupt messages from the I/O APIC and MSI writes).
 * Output: set_intr (the CPU's INTR pin), nmi (the CPU's NMI pin); the CPU
 * reads the vector with lapic_intr_ack(), which runs the 8259's INTA
 * cycle for an ExtINT.  An EOI of a level-triggered vector is broadcast
 * through eoi_broadcast (to the I/O APIC).
 *
 * The timer counts at 1 GHz (the machine clock's nanosecond) divided by
 * the divide configuration register; one-shot, periodic and TSC-deadline
 * modes (the TSC runs at 1 GHz too: the deadline is kept in clock ns).
 */
#ifndef MIMIC_HW_INTC_LAPIC_H
#define MIMIC_HW_INTC_LAPIC_H

#include "bus/device.h"

#define LAPIC_DEFAULT_BASE 0xfee00000u
#define LAPIC_LVT_COUNT 6 /* timer, thermal, perf, LINT0, LINT1, error */

/* Delivery modes (SDM 11.6.1; the I/O APIC and MSI use the same codes). */
enum {
    APIC_DM_FIXED = 0,
    APIC_DM_LOWEST = 1,
    APIC_DM_SMI = 2,
    APIC_DM_NMI = 4,
    APIC_DM_INIT = 5,
    APIC_DM_STARTUP = 6,
    APIC_DM_EXTINT = 7,
};

typedef struct Lapic {
    Device dev;
    /* wiring (board) */
    void (*set_intr)(void *opaque, bool level);
    void (*nmi)(void *opaque);
    int (*pic_ack)(void *opaque); /* the 8259's INTA cycle */
    void *pic;
    void (*eoi_broadcast)(void *opaque, uint8_t vector);
    void *eoi_opaque;
    void *opaque;
    struct Timer *timer;
    MemRegion *mmio;
    /* state */
    uint64_t base_msr; /* IA32_APIC_BASE: base | EN (bit 11) | BSP (bit 8) */
    uint32_t id, tpr, ldr, dfr, svr, esr, esr_pending;
    uint32_t icr_lo, icr_hi;
    uint32_t isr[8], irr[8], tmr[8];
    uint32_t lvt[LAPIC_LVT_COUNT];
    uint32_t initial_count, dcr;
    int64_t count_start; /* clock ns when the current period began */
    int64_t tsc_deadline; /* clock ns, 0: disarmed */
    bool lint0, lint1;
    bool extint_pending; /* an ExtINT message from the I/O APIC */
    bool intr; /* last level driven on set_intr */
} Lapic;

extern const DeviceInfo lapic_info;

void lapic_set_lint0(Lapic *s, bool level);
void lapic_set_lint1(Lapic *s, bool level);
/* An interrupt message (SDM 11.6, 10.11 MSI): dest in APIC-ID form. */
void lapic_deliver(Lapic *s, uint8_t dest, bool logical, unsigned mode,
                   uint8_t vector, bool level_trig);
int lapic_intr_ack(void *opaque);
/* MSRs 0x1B (IA32_APIC_BASE) and 0x6E0 (IA32_TSC_DEADLINE, in clock ns),
   and 0x808 the TPR (the CPU's CR8 in 64-bit mode; not an MSR here);
   false: not an APIC MSR or a reserved value (#GP). */
bool lapic_msr(void *opaque, uint32_t idx, uint64_t *val, bool wr);

#endif
