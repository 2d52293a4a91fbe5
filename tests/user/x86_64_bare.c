/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mimic-x86_64 without a C library (docs/user-mode.md): SYSCALL with six
 * arguments, arch_prctl's FS base read back through %fs, mmap/munmap,
 * a SIGSEGV handler (rt_sigaction with a restorer) that reads the fault
 * address and the registers from the 64-bit ucontext and steps over the
 * store, a SIGUSR1 sent to itself, rt_sigreturn, exit_group.  Built by
 * test_user.py with the host's gcc -nostdlib -static; its output is
 * compared with the host's (an x86-64 Linux) and qemu-x86_64's.
 */
typedef unsigned long u64;

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "0"(n), "D"(a), "S"(b), "d"(c),
                     "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return r;
}

#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static void out(const char *s)
{
    long n = 0;
    while (s[n]) {
        n++;
    }
    sys3(1, 1, s, n);
}

static void hex(const char *label, u64 v)
{
    char b[40];
    int i = 0;
    while (label[i]) {
        b[i] = label[i];
        i++;
    }
    for (int k = 60; k >= 0; k -= 4) {
        b[i++] = "0123456789abcdef"[(v >> k) & 15];
    }
    b[i++] = '\n';
    b[i] = 0;
    out(b);
}

struct ksigaction {
    void (*handler)(int, void *, void *);
    u64 flags;
    void (*restorer)(void);
    u64 mask;
};

extern void restorer(void);
__asm__(".text\nrestorer:\n\tmov $15, %eax\n\tsyscall\n\thlt\n");

static volatile int usr1;
static long m; /* the mmap'd pages */
static u64 tls_block[4] = { 0x1122334455667788ul, 42 };

static void handler(int sig, void *info, void *ucv)
{
    u64 *uc = ucv;
    /* uc_mcontext starts at byte 40: r8..r15, rdi, rsi, rbp, rbx, rdx,
       rax, rcx, rsp, rip */
    u64 *gregs = uc + 5;
    if (sig == 11) {
        hex("segv at m + ", *(u64 *)((char *)info + 16) - (u64)m);
        hex("segv rax ", gregs[13]);
        hex("segv r12 ", gregs[4]);
        gregs[16] += 3; /* over "mov %eax, (%rdx)"... 3 bytes below */
    } else {
        usr1 = sig;
    }
}

void _start_c(void)
{
    hex("six args ", sys6(39, 1, 2, 3, 4, 5, 6) > 0);
    sys3(158, 0x1002, tls_block, 0);
    u64 v, base;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(v));
    sys3(158, 0x1003, &base, 0);
    hex("fs:0 ", v);
    hex("fs base is tls_block ", base == (u64)tls_block);
    m = sys6(9, 0, 8192, 3, 0x22, -1, 0);
    ((volatile char *)m)[4096] = 7;
    hex("mmap page ", ((volatile char *)m)[4096]);
    hex("munmap ", sys3(11, m, 8192, 0));
    struct ksigaction sa = { handler, 0x04000004, restorer, 0 };
    hex("sigaction ", sys6(13, 11, (long)&sa, 0, 8, 0, 0));
    hex("sigaction ", sys6(13, 10, (long)&sa, 0, 8, 0, 0));
    register u64 r12 __asm__("r12") = 0xabcdef;
    __asm__ volatile("mov $0x1234, %%eax\n\tmov %%eax, (%%rdx)\n\tnop"
                     : : "d"(m + 16), "r"(r12) : "rax", "memory");
    out("after the fault\n");
    sys3(62, sys3(39, 0, 0, 0), 10, 0);
    hex("usr1 ", usr1);
    sys3(231, 0, 0, 0);
}

__asm__(".globl _start\n_start:\n\tand $-16, %rsp\n\tcall _start_c\n\thlt\n");
