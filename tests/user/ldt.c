/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * i386 modify_ldt and get_thread_area (docs/user-mode.md): an LDT data
 * segment based at a variable, loaded into %fs from another thread too
 * (the LDT is the process's), read back through func 0; the default LDT
 * (func 2); a bad entry; glibc's TLS entry read back with
 * get_thread_area.  Built by test_user.py with the host's gcc -m32
 * -static -pthread; compared with qemu-i386 and with Linux's own where
 * the host runs i386 programs.
 */
#include <asm/ldt.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int target[4] = { 11, 22, 33, 44 };

static int read_fs(unsigned sel, int idx)
{
    int v;
    unsigned short old;
    __asm__ volatile("mov %%fs, %0" : "=r"(old));
    __asm__ volatile("mov %2, %%fs\n\tmovl %%fs:(,%1,4), %0\n\tmov %3, %%fs"
                     : "=&r"(v) : "r"(idx), "r"(sel), "r"(old) : "memory");
    return v;
}

static void *thread(void *arg)
{
    return (void *)(long)read_fs(*(unsigned *)arg, 3);
}

int main(void)
{
    struct user_desc d;
    memset(&d, 0, sizeof(d));
    d.entry_number = 5;
    d.base_addr = (unsigned long)target;
    d.limit = sizeof(target) - 1;
    d.seg_32bit = 1;
    long r = syscall(SYS_modify_ldt, 0x11, &d, sizeof(d));
    printf("write: %ld\n", r);
    unsigned sel = 5 << 3 | 7; /* LDT, RPL 3 */
    printf("fs:[1] = %d\n", read_fs(sel, 1));
    pthread_t th;
    void *res;
    pthread_create(&th, NULL, thread, &sel);
    pthread_join(th, &res);
    printf("other thread fs:[3] = %ld\n", (long)res);
    unsigned char buf[8 * 8];
    r = syscall(SYS_modify_ldt, 0, buf, sizeof(buf));
    printf("read: %ld bytes, entry 5 %02x%02x%02x%02x limit %d\n", r,
           buf[47], buf[46], buf[45], buf[44] & 0xf0, buf[40]);
    r = syscall(SYS_modify_ldt, 2, buf, sizeof(buf));
    int zeros = 1;
    for (unsigned i = 0; i < sizeof(buf); i++) {
        zeros &= buf[i] == 0;
    }
    printf("default: %ld bytes, zeros %d\n", r, zeros);
    d.entry_number = 9000;
    r = syscall(SYS_modify_ldt, 0x11, &d, sizeof(d));
    printf("entry 9000: %ld errno %d\n", r, r < 0 ? errno : 0);
    r = syscall(SYS_modify_ldt, 0x11, &d, 8);
    printf("short: %ld errno %d\n", r, r < 0 ? errno : 0);
    unsigned short gs;
    __asm__ volatile("mov %%gs, %0" : "=r"(gs));
    memset(&d, 0, sizeof(d));
    d.entry_number = gs >> 3;
    r = syscall(SYS_get_thread_area, &d);
    unsigned long tp;
    __asm__ volatile("movl %%gs:0, %0" : "=r"(tp));
    printf("get_thread_area: %ld, base is the thread pointer %d, limit "
           "%x, 32-bit %d, pages %d, present %d\n", r,
           d.base_addr == tp, d.limit, d.seg_32bit, d.limit_in_pages,
           !d.seg_not_present);
    d.entry_number = 1;
    r = syscall(SYS_get_thread_area, &d);
    printf("get_thread_area entry 1: %ld errno %d\n", r, r < 0 ? errno : 0);
    return 0;
}
