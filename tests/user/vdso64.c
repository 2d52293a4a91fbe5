/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86-64 vDSO (docs/user-mode.md): AT_SYSINFO_EHDR is an ELF64
 * shared object whose dynamic symbols (found through DT_HASH, as a
 * dynamic loader does) hold __vdso_clock_gettime, __vdso_gettimeofday,
 * __vdso_time and __vdso_getcpu, each agreeing with its system call;
 * glibc's dynamic loader took it as linux-vdso.so.1.  Built by
 * test_user.py with the host's gcc (dynamically linked) and compared
 * with the same program run natively.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "vdso-lookup.h"

static long diff_s(long a, long b)
{
    return a > b ? a - b : b - a;
}

int main(void)
{
    const Elf64_Ehdr *eh = (const void *)getauxval(AT_SYSINFO_EHDR);
    if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
        eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_DYN ||
        eh->e_machine != EM_X86_64) {
        printf("no vDSO\n");
        return 1;
    }
    static const char *const names[] = {
        "__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
        "__vdso_getcpu",
    };
    unsigned long fn[4];
    for (int i = 0; i < 4; i++) {
        fn[i] = lookup(eh, names[i]);
        printf("%s: %s\n", names[i], fn[i] ? "yes" : "no");
        if (!fn[i]) {
            return 1;
        }
    }
    struct timespec ts = { 0 }, sys_ts = { 0 };
    int r = ((int (*)(clockid_t, struct timespec *))fn[0])(CLOCK_REALTIME,
                                                          &ts);
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &sys_ts);
    printf("clock_gettime: %s\n",
           !r && diff_s(ts.tv_sec, sys_ts.tv_sec) < 5 ? "agrees" : "differs");
    r = ((int (*)(clockid_t, struct timespec *))fn[0])(12345, &ts);
    printf("clock_gettime of a bad clock: %s\n", r < 0 ? "fails" : "works");
    struct timeval tv = { 0 };
    r = ((int (*)(struct timeval *, void *))fn[1])(&tv, NULL);
    printf("gettimeofday: %s\n",
           !r && diff_s(tv.tv_sec, sys_ts.tv_sec) < 5 ? "agrees" : "differs");
    long t = ((long (*)(long *))fn[2])(NULL);
    printf("time: %s\n", diff_s(t, sys_ts.tv_sec) < 5 ? "agrees" : "differs");
    unsigned cpu = ~0u, sys_cpu = ~1u;
    r = ((int (*)(unsigned *, unsigned *, void *))fn[3])(&cpu, NULL, NULL);
    syscall(SYS_getcpu, &sys_cpu, NULL, NULL);
    printf("getcpu: %s\n", !r && cpu < 4096 ? "a CPU" : "fails");
    void *h = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
    printf("glibc loaded linux-vdso.so.1: %s\n", h ? "yes" : "no");
    return 0;
}
