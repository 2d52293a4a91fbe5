/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Debug registers: DR0-DR3 breakpoint addresses qualified by DR7 (L/G
 * enables, R/W and LEN fields), hits reported in DR6 B0-B3.  Instruction
 * breakpoints are faults checked by the dispatch loop before the
 * instruction (suppressed by EFLAGS.RF); data breakpoints are traps: the
 * pages they cover get no TLB tags, so every access to them takes the
 * slow path (mmu.c), which records hits here; I/O breakpoints (CR4.DE)
 * are recorded by the I/O permission check; the loop delivers #DB after
 * the instruction.  While any breakpoint is enabled, TF or RF is set, or a
 * trap is pending, the loop runs one instruction at a time (cpu.c).
 *
 * Specification: SDM Vol. 3B chapter 17 (debug registers, 17.2; debug
 * exception conditions, 17.3).
 */
#include "arch/x86/ops.h"

/* Enabled breakpoint i: its R/W field (0 exec, 1 write, 2 I/O, 3 r/w). */
static int bp_rw(X86Cpu *cpu, int i)
{
    uint32_t dr7 = cpu->dr[7];
    if (!((dr7 >> (i * 2)) & 3)) {
        return -1;
    }
    return (dr7 >> (16 + i * 4)) & 3;
}

static unsigned bp_len(X86Cpu *cpu, int i)
{
    static const unsigned len[4] = { 1, 2, 8, 4 };
    return len[(cpu->dr[7] >> (18 + i * 4)) & 3];
}

void x86_dbg_update(X86Cpu *cpu)
{
    bool exec = false, watch = false, io = false;
    for (int i = 0; i < 4; i++) {
        int rw = bp_rw(cpu, i);
        if (rw == 0) {
            exec = true;
        } else if (rw == 1 || rw == 3) {
            watch = true;
        } else if (rw == 2 && (cpu->cr4 & CR4_DE)) {
            io = true; /* without CR4.DE, R/W = 10 is undefined */
        }
    }
    cpu->dbg_exec = exec;
    cpu->dbg_watch = watch;
    cpu->dbg_io = io;
    /* Pages newly watched must lose their TLB tags. */
    x86_tlb_flush(cpu, true);
}

unsigned x86_dbg_exec_match(X86Cpu *cpu, uint64_t lin)
{
    unsigned hits = 0;
    for (int i = 0; i < 4; i++) {
        if (bp_rw(cpu, i) == 0 && cpu->dr[i] == (lin & cpu->lin_mask)) {
            hits |= 1u << i;
        }
    }
    return hits;
}

bool x86_dbg_watched(X86Cpu *cpu, uint64_t lpage)
{
    for (int i = 0; i < 4; i++) {
        int rw = bp_rw(cpu, i);
        if (rw == 1 || rw == 3) {
            uint64_t a = cpu->dr[i] & ~(uint64_t)(bp_len(cpu, i) - 1);
            if ((a & ~(uint64_t)0xfff) == lpage) {
                return true;
            }
        }
    }
    return false;
}

void x86_dbg_access(X86Cpu *cpu, uint64_t lin, unsigned size, bool write)
{
    for (int i = 0; i < 4; i++) {
        int rw = bp_rw(cpu, i);
        if (rw == 3 || (rw == 1 && write)) {
            unsigned len = bp_len(cpu, i);
            uint64_t a = cpu->dr[i] & ~(uint64_t)(len - 1);
            /* [lin, lin+size) overlaps [a, a+len), modulo the linear
               address space */
            if (((lin - a) & cpu->lin_mask) < len ||
                ((a - lin) & cpu->lin_mask) < size) {
                cpu->dbg_hits |= 1u << i;
            }
        }
    }
}

void x86_dbg_io(X86Cpu *cpu, uint16_t port, unsigned size)
{
    for (int i = 0; i < 4; i++) {
        if (bp_rw(cpu, i) == 2) {
            unsigned len = bp_len(cpu, i);
            uint16_t a = cpu->dr[i] & ~(len - 1);
            if ((uint16_t)(port - a) < len || (uint16_t)(a - port) < size) {
                cpu->dbg_hits |= 1u << i;
            }
        }
    }
}
