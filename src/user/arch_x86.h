/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the i386 and x86-64 tables share (arch_i386.c): the thread's CPU
 * (the x86 core's user-mode state and the last trap), its creation with
 * the code-page hooks, the CPU loop that turns the core's events into
 * system calls and signals, and the GDB stub's view of the pc.
 */
#ifndef MIMIC_USER_ARCH_X86_H
#define MIMIC_USER_ARCH_X86_H

#include "user/user.h"
#include "arch/x86/x86.h"

typedef struct UserX86Cpu {
    X86User *u;
    int trapno;
    uint32_t err;
} UserX86Cpu;

#define XCPU(t) ((UserX86Cpu *)(t)->cpu)
#define XREGS(t) (XCPU(t)->u->x)

/* A CPU for t (model NULL: pentium2; lm: an x86-64 program). */
bool user_x86_cpu_new(UserThread *t, const char *model, bool lm,
                      GError **error);
void *user_x86_cpu_copy(UserThread *parent);
void user_x86_cpu_free(void *cpu);
void user_x86_exit_request(UserThread *t);
void user_x86_host_fault(UserThread *t, int hs, uint64_t addr, bool write);
void user_x86_code_written(UserProc *p, uint64_t addr, uint64_t len);
/* The kernel's siginfo for guest signal gsig (32- or 64-bit layout). */
void user_x86_put_siginfo(UserProc *p, uint64_t si, int gsig,
                          const siginfo_t *info);
/* GDB's registers after the general ones and the pc, common to i386 and
   amd64 target descriptions: eflags, the segments, the x87 stack and its
   control registers. */
#define USER_X86_GDB_XML_SEGS_X87 \
    "<reg name=\"eflags\" bitsize=\"32\" type=\"int32\"/>\n" \
    "<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n" \
    "<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n" \
    "<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n" \
    "<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n" \
    "<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n" \
    "<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n" \
    "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n" \
    "<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n" \
    "<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n" \
    "<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n" \
    "<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n" \
    "<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n" \
    "<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n" \
    "<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n" \
    "<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n" \
    "<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n" \
    "<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n" \
    "<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n" \
    "<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n" \
    "<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n" \
    "<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n" \
    "<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
/* The GDB stub's view (i386's register numbering: eax..edi, eip,
   eflags, cs ss ds es fs gs, st0..st7, fctrl..fop). */
unsigned user_x86_gdb_get_reg(UserThread *t, unsigned n, uint8_t *buf);
unsigned user_x86_gdb_set_reg(UserThread *t, unsigned n,
                              const uint8_t *buf);
uint64_t user_x86_get_pc(UserThread *t);
void user_x86_set_pc(UserThread *t, uint64_t pc);
void user_x86_gdb_step(UserThread *t, bool on);
/* Run t: sysvec is the event of a system call (0x80, X86U_SYSCALL). */
int user_x86_cpu_loop(UserThread *t, int sysvec,
                      void (*syscall)(UserThread *t));

#endif
