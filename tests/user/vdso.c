/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The i386 vDSO (docs/user-mode.md): AT_SYSINFO_EHDR is an ELF shared
 * object whose dynamic symbols (found through DT_HASH, as a dynamic
 * loader does) hold __kernel_vsyscall at AT_SYSINFO, and the signal
 * return trampolines; __kernel_vsyscall makes a system call; the time
 * functions (__vdso_clock_gettime, ...64, gettimeofday, time) agree with
 * the system calls.  Built by
 * test_user.py with the host's gcc -m32 -static; its output is compared
 * with Linux's own where the host runs i386 programs.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "vdso-lookup.h"

int main(void)
{
    const Elf32_Ehdr *eh = (const void *)getauxval(AT_SYSINFO_EHDR);
    unsigned long sysinfo = getauxval(AT_SYSINFO);
    if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
        eh->e_type != ET_DYN || eh->e_machine != EM_386) {
        printf("no vDSO\n");
        return 1;
    }
    static const char *const names[] = {
        "__kernel_vsyscall", "__kernel_sigreturn", "__kernel_rt_sigreturn",
    };
    for (int i = 0; i < 3; i++) {
        printf("%s: %s\n", names[i], lookup(eh, names[i]) ? "yes" : "no");
    }
    unsigned long vs = lookup(eh, "__kernel_vsyscall");
    printf("AT_SYSINFO is __kernel_vsyscall: %s\n",
           vs && vs == sysinfo ? "yes" : "no");
    long pid = -1;
    if (vs) {
        __asm__ volatile("call *%1" : "=a"(pid) : "r"(vs), "0"(20L)
                         : "memory", "ecx", "edx");
    }
    printf("getpid through it: %s\n", pid == getpid() ? "same" : "differs");
    /* the time functions glibc looks for (vdso32's names) */
    unsigned long cg = lookup(eh, "__vdso_clock_gettime"),
                  cg64 = lookup(eh, "__vdso_clock_gettime64"),
                  gtod = lookup(eh, "__vdso_gettimeofday"),
                  tm = lookup(eh, "__vdso_time");
    struct timespec ts = { 0 }, sys_ts = { 0 };
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &sys_ts);
    int r = cg ? ((int (*)(clockid_t, struct timespec *))cg)(CLOCK_REALTIME,
                                                              &ts)
               : -1;
    printf("__vdso_clock_gettime: %s\n",
           !r && ts.tv_sec - sys_ts.tv_sec < 5 ? "agrees" : "differs");
    long long t64[2] = { 0, 0 };
    r = cg64 ? ((int (*)(clockid_t, long long *))cg64)(CLOCK_REALTIME, t64)
             : -1;
    printf("__vdso_clock_gettime64: %s\n",
           !r && t64[0] - sys_ts.tv_sec < 5 ? "agrees" : "differs");
    struct timeval tv = { 0 };
    r = gtod ? ((int (*)(struct timeval *, void *))gtod)(&tv, NULL) : -1;
    printf("__vdso_gettimeofday: %s\n",
           !r && tv.tv_sec - sys_ts.tv_sec < 5 ? "agrees" : "differs");
    long t = tm ? ((long (*)(long *))tm)(NULL) : 0;
    printf("__vdso_time: %s\n",
           t && t - sys_ts.tv_sec < 5 ? "agrees" : "differs");
    return 0;
}
