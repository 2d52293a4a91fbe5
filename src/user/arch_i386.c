/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * i386 under the user layer: the syscall numbers (INT 0x80: EAX the
 * number, EBX ECX EDX ESI EDI EBP the arguments, EAX the result or
 * -errno), socketcall, set_thread_area, the CPU loop over the x86 core's
 * user-mode hook (src/arch/x86/user.c) and the signal frames (sigframe
 * and rt_sigframe).  Errno, signal and open-flag values are the generic
 * ones, the host's.
 *
 * Reference: the Linux kernel's arch/x86/entry/syscalls/syscall_32.tbl,
 * arch/x86/kernel/signal_32.c (struct sigframe, rt_sigframe and their
 * return trampolines), uapi asm/sigcontext.h (struct sigcontext_32),
 * asm/ldt.h (struct user_desc), traps.c (which exception gives which
 * signal and si_code).
 */
#include "user/arch_x86.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86/x86.h"

#define E(n, s) { n, US_##s }

static const UserSysEntry i386_syscalls[] = {
    E(1, exit), E(2, fork), E(3, read), E(4, write), E(5, open),
    E(6, close), E(7, waitpid), E(9, link), E(10, unlink), E(11, execve),
    E(12, chdir), E(13, time), E(14, mknod), E(15, chmod), E(19, lseek),
    E(20, getpid), E(27, alarm), E(29, pause), E(33, access), E(36, sync),
    E(37, kill), E(38, rename), E(39, mkdir), E(40, rmdir), E(41, dup),
    E(42, pipe), E(43, times), E(45, brk), E(54, ioctl), E(55, fcntl),
    E(57, setpgid), E(60, umask), E(63, dup2), E(64, getppid),
    E(65, getpgrp), E(66, setsid), E(77, getrusage),
    E(78, gettimeofday), E(83, symlink), E(85, readlink), E(91, munmap),
    E(92, truncate), E(93, ftruncate), E(94, fchmod), E(99, statfs),
    E(100, fstatfs), E(104, setitimer), E(105, getitimer), E(114, wait4),
    E(116, sysinfo), E(118, fsync), E(119, sigreturn), E(120, clone),
    E(122, uname), E(125, mprotect), E(132, getpgid), E(133, fchdir),
    E(136, personality), E(140, _llseek), E(142, _newselect),
    E(143, flock), E(144, msync), E(145, readv), E(146, writev),
    E(147, getsid), E(148, fdatasync), E(150, mlock), E(151, munlock),
    E(158, sched_yield), E(162, nanosleep), E(163, mremap), E(168, poll),
    E(172, prctl), E(173, rt_sigreturn), E(174, rt_sigaction),
    E(175, rt_sigprocmask), E(176, rt_sigpending),
    E(177, rt_sigtimedwait), E(179, rt_sigsuspend), E(180, pread64),
    E(181, pwrite64), E(183, getcwd), E(186, sigaltstack),
    E(187, sendfile), E(190, vfork), E(191, getrlimit), E(192, mmap2),
    E(193, truncate64), E(194, ftruncate64), E(195, stat64),
    E(196, lstat64), E(197, fstat64), E(198, lchown), E(199, getuid),
    E(200, getgid), E(201, geteuid), E(202, getegid), E(203, setreuid),
    E(204, setregid), E(205, getgroups), E(206, setgroups),
    E(207, fchown), E(208, setresuid), E(209, getresuid),
    E(210, setresgid), E(211, getresgid), E(212, chown), E(213, setuid),
    E(214, setgid), E(219, madvise), E(220, getdents64), E(221, fcntl64),
    E(224, gettid), E(238, tkill), E(239, sendfile64), E(240, futex),
    E(241, sched_setaffinity), E(242, sched_getaffinity),
    E(243, set_thread_area), E(250, fadvise64), E(252, exit_group),
    E(254, epoll_create), E(255, epoll_ctl), E(256, epoll_wait),
    E(258, set_tid_address), E(265, clock_gettime), E(266, clock_getres),
    E(267, clock_nanosleep), E(268, statfs64), E(269, fstatfs64),
    E(270, tgkill), E(295, openat), E(296, mkdirat), E(297, mknodat),
    E(298, fchownat), E(300, fstatat64), E(301, unlinkat),
    E(302, renameat), E(303, linkat), E(304, symlinkat),
    E(305, readlinkat), E(306, fchmodat), E(307, faccessat),
    E(308, pselect6), E(309, ppoll), E(311, set_robust_list),
    E(312, get_robust_list), E(318, getcpu), E(319, epoll_pwait),
    E(320, utimensat), E(328, eventfd2), E(329, epoll_create1),
    E(330, dup3), E(331, pipe2), E(340, prlimit64), E(353, renameat2),
    E(355, getrandom), E(359, socket), E(360, socketpair), E(361, bind),
    E(362, connect), E(363, listen), E(364, accept4),
    E(365, getsockopt), E(366, setsockopt), E(367, getsockname),
    E(368, getpeername), E(369, sendto), E(370, sendmsg),
    E(371, recvfrom), E(372, recvmsg), E(373, shutdown),
    E(375, membarrier), E(377, copy_file_range), E(383, statx),
    E(386, rseq), E(403, clock_gettime64), E(406, clock_getres_time64),
    E(407, clock_nanosleep_time64), E(412, utimensat_time64),
    E(413, pselect6_time64), E(414, ppoll_time64),
    E(421, rt_sigtimedwait_time64), E(422, futex_time64),
    E(435, clone3), E(436, close_range), E(439, faccessat2),
};

#undef E

/* asm/mman.h: the generic values (the table only says which bits pass). */
static const UserMapEntry i386_mmap_flags[] = {
    { MAP_SHARED, 0x1 }, { MAP_PRIVATE, 0x2 }, { MAP_FIXED, 0x10 },
    { MAP_ANONYMOUS, 0x20 }, { MAP_GROWSDOWN, 0x100 },
    { MAP_NORESERVE, 0x4000 }, { MAP_FIXED_NOREPLACE, 0x100000 },
    { 0, 0 }
};

static const char i386_cpuinfo[] =
    "processor\t: 0\n"
    "vendor_id\t: GenuineIntel\n"
    "cpu family\t: 6\n"
    "model\t\t: 5\n"
    "model name\t: Pentium II (Deschutes)\n"
    "stepping\t: 2\n"
    "fpu\t\t: yes\n"
    "fpu_exception\t: yes\n"
    "cpuid level\t: 2\n"
    "wp\t\t: yes\n"
    "flags\t\t: fpu vme de pse tsc msr pae cx8 sep mtrr pge cmov mmx "
    "fxsr\n"
    "bogomips\t: 800.00\n\n";

/* The vDSO's code (Linux's vdso32 names): __kernel_vsyscall enters the
   kernel with INT 0x80 (AT_SYSINFO: glibc makes its system calls through
   it); the signal return trampolines as the kernel's. */
/* The time functions (vdso32's __vdso_*, cdecl): up to three stack
   arguments into EBX, ECX, EDX and the system call, no data page. */
#define I386_VDSO_CALL(nr)                                                   \
    0x53, 0x8b, 0x5c, 0x24, 0x08,   /* push %ebx; mov 8(%esp), %ebx */      \
    0x8b, 0x4c, 0x24, 0x0c,         /* mov 12(%esp), %ecx */                \
    0x8b, 0x54, 0x24, 0x10,         /* mov 16(%esp), %edx */                \
    0xb8, (nr) & 0xff, (nr) >> 8, 0, 0, 0xcd, 0x80, /* mov $nr; int */      \
    0x5b, 0xc3                      /* pop %ebx; ret */
static const uint8_t i386_vdso_code[] = {
    0xcd, 0x80, 0xc3, 0x90,                   /* int $0x80; ret */
    0x58, 0xb8, 119, 0, 0, 0, 0xcd, 0x80,     /* popl %eax; movl $119... */
    0xb8, 173, 0, 0, 0, 0xcd, 0x80, 0x90,     /* movl $173, %eax; int */
    I386_VDSO_CALL(265),                      /* 20: clock_gettime */
    I386_VDSO_CALL(78),                       /* 42: gettimeofday */
    I386_VDSO_CALL(13),                       /* 64: time */
    I386_VDSO_CALL(318),                      /* 86: getcpu */
    I386_VDSO_CALL(266),                      /* 108: clock_getres */
    I386_VDSO_CALL(403),                      /* 130: clock_gettime64 */
};
static const UserVdsoSym i386_vdso_syms[] = {
    { "__kernel_vsyscall", 0 }, { "__kernel_sigreturn", 4 },
    { "__kernel_rt_sigreturn", 12 }, { "__vdso_clock_gettime", 20 },
    { "__vdso_gettimeofday", 42 }, { "__vdso_time", 64 },
    { "__vdso_getcpu", 86 }, { "__vdso_clock_getres", 108 },
    { "__vdso_clock_gettime64", 130 },
};

#define CPU(t) XCPU(t)
#define X(t) XREGS(t)

/* The core translated code from the page at addr. */
static void code_page(void *opaque, uint64_t addr)
{
    user_code_page(opaque, addr);
}

void user_x86_code_written(UserProc *p, uint64_t addr, uint64_t len)
{
    (void)p;
    x86_user_code_written_all(addr, len);
}

static X86User *new_user(UserProc *p, const char *model, bool lm,
                         GError **error)
{
    X86User *u = x86_user_new_model(p->guest_base, p->arch->addr_limit,
                                    model, lm, error);
    if (u) {
        u->code_page = code_page;
        u->code_opaque = p;
    }
    return u;
}

bool user_x86_cpu_new(UserThread *t, const char *model, bool lm,
                      GError **error)
{
    X86User *u = new_user(t->proc, model, lm, error);
    if (!u) {
        return false;
    }
    UserX86Cpu *c = g_new0(UserX86Cpu, 1);
    c->u = u;
    t->cpu = c;
    return true;
}

static bool i386_cpu_init(UserThread *t, const char *model, GError **error)
{
    /* any of the x86 core's models (-cpu help); "any" is the default */
    if (!strcmp(model, "any")) {
        model = "pentium2";
    }
    return user_x86_cpu_new(t, model, false, error);
}

static void i386_cpu_list(GString *out)
{
    g_string_append(out, "pentium2 (the default)\npentium3 (SSE)\n"
                    "pentium4 (SSE2)\nqemu64\n"
                    "Nehalem (SSE to SSE4.2, POPCNT)\nmax\n");
}

static void i386_cpu_start(UserThread *t, uint64_t pc, uint64_t sp)
{
    /* ELF entry: EDX 0 (no atexit function), the others 0 too */
    x86_user_set_pc_sp(CPU(t)->u, (uint32_t)pc, (uint32_t)sp);
}

void *user_x86_cpu_copy(UserThread *parent)
{
    GError *err = NULL;
    X86User *pu = CPU(parent)->u;
    X86User *u = new_user(parent->proc, pu->x->model->name, pu->lm, &err);
    if (!u) {
        g_error("%s", err->message);
    }
    x86_user_copy(u, pu);
    UserX86Cpu *c = g_new0(UserX86Cpu, 1);
    c->u = u;
    return c;
}

void user_x86_cpu_free(void *cpu)
{
    UserX86Cpu *c = cpu;
    x86_user_free(c->u);
    g_free(c);
}

void user_x86_put_siginfo(UserProc *p, uint64_t si, int gsig,
                          const siginfo_t *info)
{
    /* the union after signo, errno, code: 8-byte aligned on x86-64 */
    uint64_t u = si + (p->arch->is64 ? 16 : 12);
    user_put32(p, si, (uint32_t)gsig);
    user_put32(p, si + 4, (uint32_t)info->si_errno);
    user_put32(p, si + 8, (uint32_t)info->si_code);
    int hs = info->si_signo;
    if (hs == SIGSEGV || hs == SIGBUS || hs == SIGILL || hs == SIGFPE ||
        hs == SIGTRAP) {
        user_put_ulong(p, u, (uint64_t)(uintptr_t)info->si_addr);
    } else {
        user_put32(p, u, (uint32_t)info->si_pid);
        user_put32(p, u + 4, (uint32_t)info->si_uid);
        if (hs == SIGCHLD) {
            user_put32(p, u + 8, (uint32_t)info->si_status);
        }
    }
}

/* struct user_desc at g: set the TLS descriptor, store a picked entry. */
static int set_tls_desc(UserThread *t, uint64_t g)
{
    UserProc *p = t->proc;
    if (!user_range_ok(p, g, 16)) {
        return -EFAULT;
    }
    uint32_t entry = user_get32(p, g);
    int r = x86_user_set_tls(CPU(t)->u, &entry, user_get32(p, g + 4),
                             user_get32(p, g + 8), user_get32(p, g + 12));
    if (r == 0) {
        user_put32(p, g, entry);
    }
    return r;
}

/* get_thread_area: struct user_desc at g from the entry it names. */
static int get_tls_desc(UserThread *t, uint64_t g)
{
    UserProc *p = t->proc;
    uint32_t base, limit, flags;
    if (!user_range_ok(p, g, 16)) {
        return -EFAULT;
    }
    int r = x86_user_get_tls(CPU(t)->u, user_get32(p, g), &base, &limit,
                             &flags);
    if (r == 0) {
        user_put32(p, g + 4, base);
        user_put32(p, g + 8, limit);
        user_put32(p, g + 12, flags);
    }
    return r;
}

/* modify_ldt(func, ptr, bytecount): 0 reads the LDT (every entry),
   2 the default one
   (zeros: 128 bytes, as a 64-bit kernel's), 1 and 0x11 write an entry
   (struct user_desc; 1 is the old mode). */
static int64_t modify_ldt(UserThread *t, uint32_t func, uint64_t g,
                          uint64_t count)
{
    UserProc *p = t->proc;
    switch (func) {
    case 0: {
        /* no LDT yet: 0; else bytecount bytes, zeros past its entries */
        count = MIN(count, (uint64_t)X86U_LDT_ENTRIES * 8);
        if (!user_range_ok(p, g, count)) {
            return -EFAULT;
        }
        g_autofree uint8_t *b = g_malloc0(count + 1);
        if (!x86_user_ldt_read(b, count)) {
            return 0;
        }
        memcpy(g2h(p, g), b, count);
        return (int64_t)count;
    }
    case 2:
        count = MIN(count, 128);
        if (!user_range_ok(p, g, count)) {
            return -EFAULT;
        }
        memset(g2h(p, g), 0, count);
        return (int64_t)count;
    case 1: case 0x11:
        if (count != 16) {
            return -EINVAL;
        }
        if (!user_range_ok(p, g, 16)) {
            return -EFAULT;
        }
        return x86_user_ldt_write(CPU(t)->u, user_get32(p, g),
                                  user_get32(p, g + 4), user_get32(p, g + 8),
                                  user_get32(p, g + 12), func == 1);
    default:
        return -ENOSYS;
    }
}

static void i386_set_tls(UserThread *t, uint64_t tls)
{
    set_tls_desc(t, tls);
}

static void i386_cpu_clone(UserThread *child, UserThread *parent,
                           uint64_t sp, bool set_tls, uint64_t tls)
{
    if (child != parent) {
        x86_user_copy(CPU(child)->u, CPU(parent)->u);
    }
    X86Cpu *x = X(child);
    if (sp) {
        x->regs[R_ESP] = (uint32_t)sp;
    }
    if (set_tls) {
        set_tls_desc(child, tls);
    }
    x->regs[R_EAX] = 0;
}

void user_x86_exit_request(UserThread *t)
{
    if (t->cpu) {
        x86_user_exit_request(CPU(t)->u);
    }
}

void user_x86_host_fault(UserThread *t, int hs, uint64_t addr, bool write)
{
    (void)hs;
    x86_user_host_fault(CPU(t)->u, addr, write, false);
}

/* ---- signals ---- */

#define SA_RESTORER_I386 0x04000000u

static void i386_sigaction_get(UserProc *p, uint64_t g, UserSigaction *sa)
{
    sa->handler = user_get32(p, g);
    sa->flags = user_get32(p, g + 4);
    sa->restorer = user_get32(p, g + 8);
    sa->mask = user_get32(p, g + 12) | (uint64_t)user_get32(p, g + 16) << 32;
}

static void i386_sigaction_put(UserProc *p, uint64_t g,
                               const UserSigaction *sa)
{
    user_put32(p, g, (uint32_t)sa->handler);
    user_put32(p, g + 4, (uint32_t)sa->flags);
    user_put32(p, g + 8, (uint32_t)sa->restorer);
    user_put32(p, g + 12, (uint32_t)sa->mask);
    user_put32(p, g + 16, (uint32_t)(sa->mask >> 32));
}

/* struct sigcontext_32 */
enum {
    SC_GS = 0, SC_FS = 4, SC_ES = 8, SC_DS = 12, SC_EDI = 16, SC_ESI = 20,
    SC_EBP = 24, SC_ESP = 28, SC_EBX = 32, SC_EDX = 36, SC_ECX = 40,
    SC_EAX = 44, SC_TRAPNO = 48, SC_ERR = 52, SC_EIP = 56, SC_CS = 60,
    SC_EFLAGS = 64, SC_ESP_SIG = 68, SC_SS = 72, SC_FPSTATE = 76,
    SC_OLDMASK = 80, SC_CR2 = 84, SC_SIZE = 88,
};
/* Which register each general-purpose slot holds. */
static const struct { uint8_t off, reg; } sc_regs[] = {
    { SC_EDI, R_EDI }, { SC_ESI, R_ESI }, { SC_EBP, R_EBP },
    { SC_ESP, R_ESP }, { SC_EBX, R_EBX }, { SC_EDX, R_EDX },
    { SC_ECX, R_ECX }, { SC_EAX, R_EAX },
};
static const struct { uint8_t off, seg; } sc_segs[] = {
    { SC_GS, S_GS }, { SC_FS, S_FS }, { SC_ES, S_ES }, { SC_DS, S_DS },
};

/* struct rt_sigframe: pretcode, sig, pinfo, puc, siginfo (128), ucontext
   (flags, link, stack_t, sigcontext, sigmask), retcode[8]; struct
   sigframe: pretcode, sig, sigcontext, the unused fpstate (624),
   extramask, retcode[8].  Both end with the x87 state (the kernel's
   _fpstate_32, pointed to by sigcontext.fpstate). */
#define RT_INFO 16
#define RT_UC 144
#define UC_STACK 8
#define UC_MCONTEXT 20
#define UC_SIGMASK 108
#define RT_RETCODE 260
#define RT_FP 268
#define OLD_SC 8
#define OLD_EXTRAMASK 720
#define OLD_RETCODE 724
#define OLD_FP 732
/* struct _fpstate_32: the FNSAVE-format header (112 bytes, magic 0 =
   an FXSAVE image follows), then the 512-byte FXSAVE image. */
#define FP_SIZE 624
#define FP_FX 112

/* EFLAGS bits a sigreturn may change (FIX_EFLAGS). */
#define FIX_EFLAGS (F_ARITH | F_TF | F_DF | F_RF | F_AC)

/* The kernel's convert_from_fxsr(): the FNSAVE-format header from the
   FXSAVE image, which follows it. */
static void put_fpstate(UserProc *p, uint64_t fp, const X87State *st)
{
    uint8_t fx[512];
    x87_fxsave(st, fx, 0);
    uint8_t *h = g2h(p, fp);
    memset(h, 0, FP_FX);
    uint32_t v[7] = {
        0xffff0000u | (fx[0] | fx[1] << 8),          /* cw */
        0xffff0000u | (fx[2] | fx[3] << 8),          /* sw */
        0xffff0000u | st->ftw,                       /* full tag word */
        st->fip, (uint32_t)st->fcs | (uint32_t)st->fop << 16,
        st->fdp, 0xffff0000u | st->fds,
    };
    for (int i = 0; i < 7; i++) {
        user_put32(p, fp + i * 4, v[i]);
    }
    for (int i = 0; i < 8; i++) {
        memcpy(h + 28 + i * 10, fx + 32 + i * 16, 10);
    }
    h[108] = fx[2]; /* status */
    h[109] = fx[3];
    /* magic 0 (X86_FXSR_MAGIC): the FXSAVE image is there */
    memcpy(h + FP_FX, fx, 512);
}

static void put_sigcontext(UserThread *t, uint64_t sc, uint64_t fp,
                           uint64_t oldmask)
{
    UserProc *p = t->proc;
    X86Cpu *x = X(t);
    x86_flags_flush(x);
    for (size_t i = 0; i < G_N_ELEMENTS(sc_segs); i++) {
        user_put32(p, sc + sc_segs[i].off, x->seg[sc_segs[i].seg].sel);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(sc_regs); i++) {
        user_put32(p, sc + sc_regs[i].off, (uint32_t)x->regs[sc_regs[i].reg]);
    }
    user_put32(p, sc + SC_TRAPNO, (uint32_t)CPU(t)->trapno);
    user_put32(p, sc + SC_ERR, CPU(t)->err);
    user_put32(p, sc + SC_EIP, (uint32_t)x->rip);
    user_put32(p, sc + SC_CS, x->seg[S_CS].sel);
    /* a TF the debugger set is not the program's (Linux's
       TIF_FORCED_TF) */
    user_put32(p, sc + SC_EFLAGS, x->eflags & ~(t->gdb_step ? F_TF : 0u));
    user_put32(p, sc + SC_ESP_SIG, (uint32_t)x->regs[R_ESP]);
    user_put32(p, sc + SC_SS, x->seg[S_SS].sel);
    user_put32(p, sc + SC_FPSTATE, (uint32_t)fp);
    user_put32(p, sc + SC_OLDMASK, (uint32_t)oldmask);
    user_put32(p, sc + SC_CR2, (uint32_t)x->cr2);
    put_fpstate(p, fp, &x->fpu);
}

/* false: a segment selector that cannot be loaded. */
static bool get_sigcontext(UserThread *t, uint64_t sc)
{
    UserProc *p = t->proc;
    X86User *u = CPU(t)->u;
    X86Cpu *x = u->x;
    for (size_t i = 0; i < G_N_ELEMENTS(sc_segs); i++) {
        uint16_t sel = (uint16_t)user_get32(p, sc + sc_segs[i].off);
        if (sel != x->seg[sc_segs[i].seg].sel &&
            !x86_user_set_seg(u, sc_segs[i].seg, sel)) {
            return false;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(sc_regs); i++) {
        x->regs[sc_regs[i].reg] = user_get32(p, sc + sc_regs[i].off);
    }
    x->rip = user_get32(p, sc + SC_EIP);
    x86_flags_flush(x);
    x->eflags = (x->eflags & ~FIX_EFLAGS) |
                (user_get32(p, sc + SC_EFLAGS) & FIX_EFLAGS);
    x->lf_op = LF_NONE;
    uint64_t fp = user_get32(p, sc + SC_FPSTATE);
    if (fp && user_range_ok(p, fp, FP_SIZE) &&
        user_get32(p, fp + 108) >> 16 == 0) {
        uint8_t fx[512];
        memcpy(fx, g2h(p, fp + FP_FX), 512);
        x87_fxrstor(&x->fpu, fx, 0);
    }
    return true;
}

static bool i386_signal_enter(UserThread *t, int gsig,
                              const UserSigaction *sa, const siginfo_t *info,
                              uint64_t oldmask)
{
    UserProc *p = t->proc;
    X86User *u = CPU(t)->u;
    X86Cpu *x = u->x;
    bool rt = (sa->flags & p->arch->sa_siginfo) != 0;
    unsigned size = (rt ? RT_FP : OLD_FP) + FP_SIZE;
    uint64_t sp = (uint32_t)x->regs[R_ESP];

    if ((sa->flags & p->arch->sa_onstack) && t->altstack_size &&
        !(sp > t->altstack_sp && sp <= t->altstack_sp + t->altstack_size)) {
        sp = t->altstack_sp + t->altstack_size;
    }
    /* at the handler's entry (sp + 4) is a multiple of 16, as after a
       call */
    uint64_t f = (((sp - size) + 4) & ~15ull) - 4;
    f = (uint32_t)f;
    if (!user_range_ok(p, f, size)) {
        return false;
    }
    memset(g2h(p, f), 0, size);
    uint32_t restorer = (sa->flags & SA_RESTORER_I386) ? (uint32_t)sa->restorer
                                                       : 0;
    user_put32(p, f + 4, (uint32_t)gsig);
    if (rt) {
        /* movl $173, %eax; int $0x80 */
        static const uint8_t ret[8] = { 0xb8, 173, 0, 0, 0, 0xcd, 0x80 };
        memcpy(g2h(p, f + RT_RETCODE), ret, 8);
        user_put32(p, f, restorer ? restorer : (uint32_t)(f + RT_RETCODE));
        user_put32(p, f + 8, (uint32_t)(f + RT_INFO));
        user_put32(p, f + 12, (uint32_t)(f + RT_UC));
        user_x86_put_siginfo(p, f + RT_INFO, gsig, info);
        uint64_t uc = f + RT_UC;
        user_put32(p, uc + UC_STACK, (uint32_t)t->altstack_sp);
        user_put32(p, uc + UC_STACK + 4, t->altstack_size ? 0 : 2);
        user_put32(p, uc + UC_STACK + 8, (uint32_t)t->altstack_size);
        put_sigcontext(t, uc + UC_MCONTEXT, f + RT_FP, oldmask);
        user_put32(p, uc + UC_SIGMASK, (uint32_t)oldmask);
        user_put32(p, uc + UC_SIGMASK + 4, (uint32_t)(oldmask >> 32));
        x->regs[R_EDX] = (uint32_t)(f + RT_INFO);
        x->regs[R_ECX] = (uint32_t)(f + RT_UC);
    } else {
        /* popl %eax; movl $119, %eax; int $0x80 */
        static const uint8_t ret[8] = { 0x58, 0xb8, 119, 0, 0, 0, 0xcd, 0x80 };
        memcpy(g2h(p, f + OLD_RETCODE), ret, 8);
        user_put32(p, f, restorer ? restorer : (uint32_t)(f + OLD_RETCODE));
        put_sigcontext(t, f + OLD_SC, f + OLD_FP, oldmask);
        user_put32(p, f + OLD_EXTRAMASK, (uint32_t)(oldmask >> 32));
        x->regs[R_EDX] = 0;
        x->regs[R_ECX] = 0;
    }
    x->regs[R_EAX] = (uint32_t)gsig;
    x->regs[R_ESP] = (uint32_t)f;
    x->rip = (uint32_t)sa->handler;
    x86_flags_flush(x);
    x->eflags &= ~(F_TF | F_DF | F_RF);
    x86_user_set_seg(u, S_DS, X86U_SEL_UDATA);
    x86_user_set_seg(u, S_ES, X86U_SEL_UDATA);
    x86_user_set_seg(u, S_SS, X86U_SEL_UDATA);
    x86_user_set_seg(u, S_CS, X86U_SEL_UCODE);
    x87_finit(&x->fpu); /* the handler starts with a clean x87 */
    return true;
}

static uint64_t i386_sigreturn(UserThread *t, bool rt)
{
    UserProc *p = t->proc;
    X86Cpu *x = X(t);
    uint64_t esp = (uint32_t)x->regs[R_ESP];
    uint64_t f = (uint32_t)(esp - (rt ? 4 : 8));
    unsigned size = rt ? RT_FP : OLD_FP;
    if (!user_range_ok(p, f, size)) {
        user_signal_fault(t, SIGSEGV, 0x80, 0);
        return t->sigmask;
    }
    uint64_t sc = rt ? f + RT_UC + UC_MCONTEXT : f + OLD_SC;
    uint64_t mask = rt ? (user_get32(p, f + RT_UC + UC_SIGMASK) |
                          (uint64_t)user_get32(p, f + RT_UC + UC_SIGMASK + 4)
                              << 32)
                       : (user_get32(p, sc + SC_OLDMASK) |
                          (uint64_t)user_get32(p, f + OLD_EXTRAMASK) << 32);
    if (!get_sigcontext(t, sc)) {
        user_signal_fault(t, SIGSEGV, 0x80, 0);
    }
    return mask;
}


/* ---- the GDB stub's view ---- */

/* GDB's i386 core registers (the 32-bit target description below):
   eax..edi, eip, eflags, cs ss ds es fs gs, st0..st7 (80 bits), then
   fctrl fstat ftag fiseg fioff foseg fooff fop. */
static const char i386_gdb_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n"
    "<architecture>i386</architecture>\n"
    "<feature name=\"org.gnu.gdb.i386.core\">\n"
    "<reg name=\"eax\" bitsize=\"32\" type=\"int32\" regnum=\"0\"/>\n"
    "<reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"edx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "<reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "<reg name=\"esi\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>\n"
    USER_X86_GDB_XML_SEGS_X87
    "</feature>\n"
    "</target>\n";

static const uint8_t gdb_segs[6] = { S_CS, S_SS, S_DS, S_ES, S_FS, S_GS };

unsigned user_x86_gdb_get_reg(UserThread *t, unsigned n, uint8_t *buf)
{
    X86Cpu *x = X(t);
    uint32_t v;
    if (n < 8) {
        v = (uint32_t)x->regs[n];
    } else if (n == 8) {
        v = (uint32_t)x->rip;
    } else if (n == 9) {
        v = x86_get_eflags(x);
    } else if (n < 16) {
        v = x->seg[gdb_segs[n - 10]].sel;
    } else if (n < 24) {
        uint8_t fx[512];
        x87_fxsave(&x->fpu, fx, 0);
        memcpy(buf, fx + 32 + (n - 16) * 16, 10);
        return 10;
    } else if (n < 32) {
        const X87State *f = &x->fpu;
        const uint32_t fp[8] = { f->fcw, f->fsw, f->ftw, f->fcs, f->fip,
                                 f->fds, f->fdp, f->fop };
        v = fp[n - 24];
    } else {
        return 0;
    }
    memcpy(buf, &v, 4); /* little-endian host and guest */
    return 4;
}

unsigned user_x86_gdb_set_reg(UserThread *t, unsigned n,
                              const uint8_t *buf)
{
    X86User *u = CPU(t)->u;
    X86Cpu *x = u->x;
    uint32_t v;
    memcpy(&v, buf, 4);
    if (n < 8) {
        x->regs[n] = v;
    } else if (n == 8) {
        x->rip = v;
    } else if (n == 9) {
        x86_set_eflags(x, v, FIX_EFLAGS);
        x->lf_op = LF_NONE;
    } else if (n < 16) {
        if (v != x->seg[gdb_segs[n - 10]].sel &&
            !x86_user_set_seg(u, gdb_segs[n - 10], (uint16_t)v)) {
            return 0;
        }
    } else if (n < 24) {
        uint8_t fx[512];
        x87_fxsave(&x->fpu, fx, 0);
        memcpy(fx + 32 + (n - 16) * 16, buf, 10);
        x87_fxrstor(&x->fpu, fx, 0);
        return 10;
    } else if (n < 32) {
        X87State *f = &x->fpu;
        switch (n) {
        case 24: f->fcw = (uint16_t)v; break;
        case 25: f->fsw = (uint16_t)v; break;
        case 26: f->ftw = (uint16_t)v; break;
        case 27: f->fcs = (uint16_t)v; break;
        case 28: f->fip = v; break;
        case 29: f->fds = (uint16_t)v; break;
        case 30: f->fdp = v; break;
        default: f->fop = (uint16_t)(v & 0x7ff); break;
        }
    } else {
        return 0;
    }
    return 4;
}

uint64_t user_x86_get_pc(UserThread *t)
{
    return XCPU(t)->u->lm ? X(t)->rip : (uint32_t)X(t)->rip;
}

void user_x86_set_pc(UserThread *t, uint64_t pc)
{
    X(t)->rip = XCPU(t)->u->lm ? pc : (uint32_t)pc;
}

/* EFLAGS.TF: #DB after the next instruction. */
void user_x86_gdb_step(UserThread *t, bool on)
{
    X86Cpu *x = X(t);
    x86_set_eflags(x, on ? F_TF : 0, F_TF);
}

/* ---- the CPU loop ---- */

/* socketcall(call, args): the direct system call of the same meaning. */
static int64_t socketcall(UserThread *t, uint32_t call, uint32_t args)
{
    static const struct { uint16_t nr; uint8_t n; } calls[] = {
        [1] = { 359, 3 }, [2] = { 361, 3 }, [3] = { 362, 3 },
        [4] = { 363, 2 }, [5] = { 364, 3 }, [6] = { 367, 3 },
        [7] = { 368, 3 }, [8] = { 360, 4 }, [9] = { 369, 4 },
        [10] = { 371, 4 }, [11] = { 369, 6 }, [12] = { 371, 6 },
        [13] = { 373, 2 }, [14] = { 366, 5 }, [15] = { 365, 5 },
        [16] = { 370, 3 }, [17] = { 372, 3 }, [18] = { 364, 4 },
    };
    UserProc *p = t->proc;
    if (call < 1 || call >= G_N_ELEMENTS(calls)) {
        return -EINVAL;
    }
    unsigned n = calls[call].n;
    if (!user_range_ok(p, args, n * 4)) {
        return -EFAULT;
    }
    uint64_t a[8] = { 0 };
    for (unsigned i = 0; i < n; i++) {
        a[i] = user_get32(p, args + i * 4);
    }
    /* accept, send and recv are accept4, sendto and recvfrom with zeros */
    return user_syscall(t, calls[call].nr, a);
}

/* The calls that read and write guest memory themselves: a bad pointer
   is EFAULT (user_syscall re-arms the jump for a call inside). */
static int64_t guarded_call(UserThread *t, uint32_t nr, const uint64_t *a)
{
    int64_t r;
    if (sigsetjmp(t->syscall_jmp, 0)) {
        r = -EFAULT;
    } else {
        t->in_syscall = true;
        r = nr == 102 ? socketcall(t, (uint32_t)a[0], (uint32_t)a[1])
            : nr == 244 ? get_tls_desc(t, a[0])
                        : modify_ldt(t, (uint32_t)a[0], a[1], a[2]);
    }
    t->in_syscall = false;
    return r;
}

static void do_syscall(UserThread *t)
{
    UserProc *p = t->proc;
    X86Cpu *x = X(t);
    uint32_t nr = (uint32_t)x->regs[R_EAX];
    static const int argreg[6] = { R_EBX, R_ECX, R_EDX, R_ESI, R_EDI,
                                   R_EBP };
    uint64_t a[8] = { 0 };
    for (int i = 0; i < 6; i++) {
        a[i] = (uint32_t)x->regs[argreg[i]];
    }
    int64_t r;
    uint64_t map_len = a[1];
    if (nr == 102 || nr == 244 || nr == 123) {
        r = guarded_call(t, nr, a);
    } else if (nr == 90) {
        /* the old mmap: its six arguments in a struct, a byte offset */
        if (!user_range_ok(p, a[0], 24)) {
            r = -EFAULT;
        } else {
            uint64_t m[8] = { 0 };
            for (int i = 0; i < 6; i++) {
                m[i] = user_get32(p, a[0] + i * 4);
            }
            if (m[5] & 0xfff) {
                r = -EINVAL;
            } else {
                m[5] >>= 12;
                map_len = m[1];
                r = user_syscall(t, 192, m);
                nr = 192;
            }
        }
    } else {
        r = user_syscall(t, nr, a);
    }
    if (r == USER_NORETURN) {
        return;
    }
    if (r < 0 && r > -4096) {
        r = -(int64_t)user_errno_to_guest(p->arch, (int)-r);
    }
    x->regs[R_EAX] = (uint32_t)r;
    /* read() and pread64() write guest memory on the host: code there
       must be translated again. */
    if (r > 0 && (nr == 3 || nr == 180)) {
        x86_user_written(CPU(t)->u, a[1], (uint64_t)r);
    }
    /* New mappings may hold other code at addresses already translated,
       in any thread (brk only maps fresh pages). */
    if (r >= 0 && (nr == 91 || nr == 125 || nr == 163)) {
        x86_user_code_written_all(a[0], a[1]);
    }
    if (r >= 0 && (nr == 192 || nr == 163)) {
        x86_user_code_written_all((uint32_t)r, nr == 192 ? map_len : a[2]);
    }
}

/* traps.c: SI_KERNEL for #GP, #NP, #SS, INT3 and INTO */
#define SI_KERNEL_CODE 0x80

int user_x86_cpu_loop(UserThread *t, int sysvec,
                      void (*syscall)(UserThread *t))
{
    UserProc *p = t->proc;
    UserX86Cpu *c = CPU(t);
    X86Cpu *x = c->u->x;
    uint64_t amask = c->u->lm ? ~0ull : 0xffffffffull;

    for (;;) {
        uint32_t err = 0;
        t->in_cpu = true;
        int v = x86_user_run(c->u, &err);
        t->in_cpu = false;
        if (v == sysvec) {
            syscall(t);
            user_signal_check(t);
            continue;
        }
        if (v >= 0 && mimic_log_enabled(LOG_INT)) {
            mimic_log("%s: exception %d at pc 0x%" G_GINT64_MODIFIER "x "
                      "error %x cr2 0x%" G_GINT64_MODIFIER "x\n",
                      p->arch->name, v, x->rip & amask, err, x->cr2 & amask);
        }
        if (v >= 0) {
            c->trapno = v;
            c->err = err;
        }
        uint64_t eip = x->rip & amask;
        switch (v) {
        case X86U_NONE:
            break;
        case EX_DE:
            user_signal_fault(t, SIGFPE, 1 /* FPE_INTDIV */, eip);
            break;
        case EX_DB:
            user_signal_fault(t, SIGTRAP, 2 /* TRAP_TRACE */, eip);
            break;
        case EX_BP:
            user_signal_fault(t, SIGTRAP, SI_KERNEL_CODE, 0);
            break;
        case EX_UD:
            user_signal_fault(t, SIGILL, 2 /* ILL_ILLOPN */, eip);
            break;
        case EX_XM: {
            /* SIMD floating point: the si_code of the unmasked flag */
            unsigned f = x->fpu.mxcsr & ~(x->fpu.mxcsr >> 7) & 0x3f;
            int code = (f & 1) ? 7 : (f & 4) ? 3 : (f & 8) ? 4
                       : (f & 16) ? 5 : (f & 32) ? 6 : 0;
            user_signal_fault(t, SIGFPE, code, eip);
            break;
        }
        case EX_MF: {
            unsigned sw = x->fpu.fsw & ~x->fpu.fcw & 0x3f;
            int code = (sw & 1) ? 7 : (sw & 4) ? 3 : (sw & 8) ? 4
                       : (sw & 16) ? 5 : (sw & 32) ? 6 : 0;
            user_signal_fault(t, SIGFPE, code, eip);
            break;
        }
        case EX_PF: {
            uint64_t a = x->cr2 & amask;
            bool mapped = user_addr_mapped(p, a);
            if (mapped && a >= X86U_LOW_LIMIT && x86_user_map_high(c->u)) {
                break; /* the window above 3 GiB, mapped now: again */
            }
            if (mapped) {
                c->err |= 1; /* a protection fault: P set, as Linux's */
            }
            user_signal_fault(t, SIGSEGV, mapped ? 2 : 1, a);
            break;
        }
        case EX_AC:
            user_signal_fault(t, SIGBUS, 1 /* BUS_ADRALN */, eip);
            break;
        case EX_NP: case EX_SS:
            user_signal_fault(t, SIGBUS, SI_KERNEL_CODE, 0);
            break;
        default: /* #GP, INTO, BOUND, an INT n without a user gate */
            user_signal_fault(t, SIGSEGV, SI_KERNEL_CODE, 0);
            break;
        }
        user_signal_check(t);
    }
    return 0;
}

static int i386_cpu_loop(UserThread *t)
{
    return user_x86_cpu_loop(t, 0x80, do_syscall);
}

const UserArch user_arch_i386 = {
    .name = "i386", .e_machine = 3, .is64 = false, .big_endian = false,
    .platform = "i686", .default_cpu = "pentium2",
    .hwcap = 0x0180b97fu, /* CPUID 1 EDX of the core (x86_cpuid) */
    /* the guest window: up to the 4 MiB page of the system area
       (src/arch/x86/user.c), as Linux gives i386 programs 4 GiB on a
       64-bit kernel; mmap searches below the stack first */
    .addr_limit = 0xffc00000ull, .stack_top = 0xbfff0000ull,
    .mmap_top = 0xb7000000ull, .elf_base = 0,
    .page_size = 4096, .syscall_base = 0,
    .syscalls = i386_syscalls, .n_syscalls = G_N_ELEMENTS(i386_syscalls),
    .mmap_flags = i386_mmap_flags, .stat_kind = 1,
    .cpuinfo = i386_cpuinfo, .elf_ok = NULL,
    .cpu_init = i386_cpu_init, .cpu_list = i386_cpu_list,
    .cpu_start = i386_cpu_start, .cpu_loop = i386_cpu_loop,
    .cpu_clone = i386_cpu_clone, .set_tls = i386_set_tls,
    .cpu_copy = user_x86_cpu_copy, .cpu_free = user_x86_cpu_free,
    .cpu_exit_request = user_x86_exit_request,
    .cpu_host_fault = user_x86_host_fault,
    .sa_siginfo = 0x4, .sa_onstack = 0x08000000, .sa_restart = 0x10000000,
    .sa_nodefer = 0x40000000, .sa_resethand = 0x80000000u,
    .sigaction_get = i386_sigaction_get,
    .sigaction_put = i386_sigaction_put,
    .signal_enter = i386_signal_enter, .sigreturn = i386_sigreturn,
    .code_written = user_x86_code_written,
    .gdb_xml = i386_gdb_xml, .gdb_nregs = 32,
    .gdb_get_reg = user_x86_gdb_get_reg, .gdb_set_reg = user_x86_gdb_set_reg,
    .get_pc = user_x86_get_pc, .set_pc = user_x86_set_pc,
    .gdb_step = user_x86_gdb_step,
    .gdb_bp_insn = 0xcc, .gdb_bp_len = 1, .gdb_bp_back = 1,
    .vdso_code = i386_vdso_code, .vdso_code_len = sizeof(i386_vdso_code),
    .vdso_syms = i386_vdso_syms, .vdso_nsyms = G_N_ELEMENTS(i386_vdso_syms),
    .vdso_sysinfo = 0, .vdso_addr = 0xbfffe000ull,
};
