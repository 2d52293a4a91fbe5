/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MIPS under the user layer: the o32 (mipsel, mips) and n64 (mips64el,
 * mips64) ABIs.  Their syscall numbers (4000 + n, 5000 + n), errno,
 * signal, open and mmap values, the CPU loop that turns the core's
 * exceptions into system calls and signals, and the rt signal frame.
 *
 * Reference: the Linux kernel's arch/mips syscall tables
 * (syscall_o32.tbl, syscall_n64.tbl), uapi asm/errno.h, asm/signal.h,
 * asm/fcntl.h, asm/mman.h, asm/sigcontext.h, asm/ucontext.h and
 * signal.c's rt_sigframe; the MIPS psABI (o32: arguments 5..8 on the
 * stack at sp+16; v0 the result, a3 the error flag).
 */
#include "user/user.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/mips/mips.h"
#include "bus/log.h"

#define E(n, s) { n, US_##s }

static const UserSysEntry o32_syscalls[] = {
    E(1, exit), E(2, fork), E(3, read), E(4, write), E(5, open),
    E(6, close), E(7, waitpid), E(9, link), E(10, unlink), E(11, execve),
    E(12, chdir), E(13, time), E(14, mknod), E(15, chmod), E(16, lchown),
    E(19, lseek), E(20, getpid), E(23, setuid), E(24, getuid),
    E(27, alarm), E(29, pause), E(33, access), E(36, sync), E(37, kill),
    E(38, rename), E(39, mkdir), E(40, rmdir), E(41, dup), E(42, pipe),
    E(43, times), E(45, brk), E(46, setgid), E(47, getgid),
    E(49, geteuid), E(50, getegid), E(54, ioctl), E(55, fcntl),
    E(57, setpgid), E(60, umask), E(63, dup2), E(64, getppid),
    E(65, getpgrp), E(66, setsid), E(70, setreuid), E(71, setregid),
    E(75, setrlimit), E(76, getrlimit), E(77, getrusage),
    E(78, gettimeofday), E(80, getgroups), E(81, setgroups),
    E(83, symlink), E(85, readlink), E(90, mmap), E(91, munmap),
    E(92, truncate), E(93, ftruncate), E(94, fchmod), E(95, fchown),
    E(99, statfs), E(100, fstatfs), E(104, setitimer), E(105, getitimer),
    E(106, stat), E(107, lstat), E(108, fstat), E(114, wait4),
    E(116, sysinfo), E(118, fsync), E(119, sigreturn), E(120, clone),
    E(122, uname), E(125, mprotect), E(132, getpgid), E(133, fchdir),
    E(136, personality), E(140, _llseek), E(142, _newselect),
    E(143, flock), E(144, msync), E(145, readv), E(146, writev),
    E(147, cacheflush), E(149, sysmips), E(151, getsid),
    E(152, fdatasync), E(154, mlock), E(155, munlock),
    E(162, sched_yield), E(166, nanosleep), E(167, mremap),
    E(168, accept), E(169, bind), E(170, connect), E(171, getpeername),
    E(172, getsockname), E(173, getsockopt), E(174, listen),
    E(176, recvfrom), E(177, recvmsg), E(179, sendmsg), E(180, sendto), E(181, setsockopt),
    E(182, shutdown), E(183, socket), E(184, socketpair),
    E(185, setresuid), E(186, getresuid), E(188, poll),
    E(190, setresgid), E(191, getresgid), E(192, prctl),
    E(193, rt_sigreturn), E(194, rt_sigaction), E(195, rt_sigprocmask),
    E(196, rt_sigpending), E(197, rt_sigtimedwait), E(199, rt_sigsuspend),
    E(200, pread64), E(201, pwrite64), E(202, chown), E(203, getcwd),
    E(206, sigaltstack), E(207, sendfile), E(210, mmap2),
    E(211, truncate64), E(212, ftruncate64), E(213, stat64),
    E(255, statfs64), E(256, fstatfs64),
    E(214, lstat64), E(215, fstat64), E(218, madvise),
    E(219, getdents64), E(220, fcntl64), E(222, gettid), E(236, tkill),
    E(237, sendfile64), E(238, futex), E(239, sched_setaffinity),
    E(240, sched_getaffinity), E(246, exit_group), E(248, epoll_create),
    E(249, epoll_ctl), E(250, epoll_wait),
    E(252, set_tid_address), E(254, fadvise64), E(263, clock_gettime),
    E(264, clock_getres), E(265, clock_nanosleep), E(266, tgkill),
    E(283, set_thread_area), E(288, openat), E(289, mkdirat),
    E(290, mknodat), E(291, fchownat), E(293, fstatat64),
    E(294, unlinkat), E(295, renameat), E(296, linkat),
    E(297, symlinkat), E(298, readlinkat), E(299, fchmodat),
    E(300, faccessat), E(301, pselect6), E(302, ppoll),
    E(309, set_robust_list), E(310, get_robust_list), E(312, getcpu),
    E(313, epoll_pwait), E(316, utimensat), E(325, eventfd2),
    E(326, epoll_create1), E(327, dup3), E(328, pipe2),
    E(334, accept4), E(338, prlimit64), E(351, renameat2),
    E(353, getrandom), E(358, membarrier), E(360, copy_file_range),
    E(366, statx), E(367, rseq), E(403, clock_gettime64),
    E(406, clock_getres_time64), E(407, clock_nanosleep_time64),
    E(412, utimensat_time64), E(413, pselect6_time64),
    E(414, ppoll_time64), E(421, rt_sigtimedwait_time64),
    E(422, futex_time64), E(435, clone3), E(436, close_range),
    E(439, faccessat2),
};

static const UserSysEntry n64_syscalls[] = {
    E(0, read), E(1, write), E(2, open), E(3, close), E(4, stat),
    E(5, fstat), E(6, lstat), E(7, poll), E(8, lseek), E(9, mmap),
    E(10, mprotect), E(11, munmap), E(12, brk), E(13, rt_sigaction),
    E(14, rt_sigprocmask), E(15, ioctl), E(16, pread64), E(17, pwrite64),
    E(18, readv), E(19, writev), E(20, access), E(21, pipe),
    E(22, _newselect), E(23, sched_yield), E(24, mremap), E(25, msync),
    E(27, madvise), E(31, dup), E(32, dup2), E(33, pause),
    E(34, nanosleep), E(35, getitimer), E(36, setitimer), E(37, alarm),
    E(38, getpid), E(39, sendfile), E(40, socket), E(41, connect),
    E(42, accept), E(43, sendto), E(44, recvfrom), E(45, sendmsg),
    E(46, recvmsg), E(47, shutdown),
    E(48, bind), E(49, listen), E(50, getsockname), E(51, getpeername),
    E(52, socketpair), E(53, setsockopt), E(54, getsockopt), E(55, clone),
    E(56, fork), E(57, execve), E(58, exit), E(59, wait4), E(60, kill),
    E(61, uname), E(70, fcntl), E(71, flock), E(72, fsync),
    E(73, fdatasync), E(74, truncate), E(75, ftruncate), E(77, getcwd),
    E(78, chdir), E(79, fchdir), E(80, rename), E(81, mkdir),
    E(82, rmdir), E(84, link), E(85, unlink), E(86, symlink),
    E(87, readlink), E(88, chmod), E(89, fchmod), E(90, chown),
    E(91, fchown), E(92, lchown), E(93, umask), E(94, gettimeofday),
    E(95, getrlimit), E(96, getrusage), E(97, sysinfo), E(98, times),
    E(100, getuid), E(102, getgid), E(103, setuid), E(104, setgid),
    E(105, geteuid), E(106, getegid), E(107, setpgid), E(108, getppid),
    E(109, getpgrp), E(110, setsid), E(111, setreuid), E(112, setregid),
    E(113, getgroups), E(114, setgroups), E(115, setresuid),
    E(116, getresuid), E(117, setresgid), E(118, getresgid),
    E(119, getpgid), E(122, getsid), E(125, rt_sigpending),
    E(126, rt_sigtimedwait), E(128, rt_sigsuspend), E(129, sigaltstack),
    E(131, mknod), E(132, personality), E(134, statfs), E(135, fstatfs),
    E(146, mlock), E(147, munlock), E(153, prctl), E(155, setrlimit),
    E(157, sync), E(178, gettid), E(192, tkill), E(194, futex),
    E(195, sched_setaffinity), E(196, sched_getaffinity),
    E(197, cacheflush), E(199, sysmips), E(205, exit_group),
    E(207, epoll_create), E(208, epoll_ctl), E(209, epoll_wait),
    E(211, rt_sigreturn), E(212, set_tid_address), E(215, fadvise64),
    E(222, clock_gettime), E(223, clock_getres), E(224, clock_nanosleep),
    E(225, tgkill), E(242, set_thread_area), E(247, openat),
    E(248, mkdirat), E(249, mknodat), E(250, fchownat),
    E(252, newfstatat), E(253, unlinkat), E(254, renameat),
    E(255, linkat), E(256, symlinkat), E(257, readlinkat),
    E(258, fchmodat), E(259, faccessat), E(260, pselect6), E(261, ppoll),
    E(268, set_robust_list), E(269, get_robust_list), E(271, getcpu),
    E(272, epoll_pwait), E(275, utimensat), E(284, eventfd2),
    E(285, epoll_create1), E(286, dup3), E(287, pipe2),
    E(293, accept4), E(297, prlimit64), E(308, getdents64),
    E(311, renameat2), E(313, getrandom), E(318, membarrier),
    E(320, copy_file_range), E(326, statx), E(327, rseq),
    E(435, clone3), E(436, close_range), E(439, faccessat2),
};

#undef E

/* Values that differ from the host's (asm/errno.h). */
static const UserMapEntry mips_errnos[] = {
    { ENOMSG, 35 }, { EIDRM, 36 }, { ECHRNG, 37 }, { EL2NSYNC, 38 },
    { EL3HLT, 39 }, { EL3RST, 40 }, { ELNRNG, 41 }, { EUNATCH, 42 },
    { ENOCSI, 43 }, { EL2HLT, 44 }, { EDEADLK, 45 }, { ENOLCK, 46 },
    { EBADE, 50 }, { EBADR, 51 }, { EXFULL, 52 }, { ENOANO, 53 },
    { EBADRQC, 54 }, { EBADSLT, 55 }, { EBFONT, 59 }, { ENOSTR, 60 },
    { ENODATA, 61 }, { ETIME, 62 }, { ENOSR, 63 }, { ENONET, 64 },
    { ENOPKG, 65 }, { EREMOTE, 66 }, { ENOLINK, 67 }, { EADV, 68 },
    { ESRMNT, 69 }, { ECOMM, 70 }, { EPROTO, 71 }, { EDOTDOT, 73 },
    { EMULTIHOP, 74 }, { EBADMSG, 77 }, { ENAMETOOLONG, 78 },
    { EOVERFLOW, 79 }, { ENOTUNIQ, 80 }, { EBADFD, 81 }, { EREMCHG, 82 },
    { ELIBACC, 83 }, { ELIBBAD, 84 }, { ELIBSCN, 85 }, { ELIBMAX, 86 },
    { ELIBEXEC, 87 }, { EILSEQ, 88 }, { ENOSYS, 89 }, { ELOOP, 90 },
    { ERESTART, 91 }, { ESTRPIPE, 92 }, { ENOTEMPTY, 93 }, { EUSERS, 94 },
    { ENOTSOCK, 95 }, { EDESTADDRREQ, 96 }, { EMSGSIZE, 97 },
    { EPROTOTYPE, 98 }, { ENOPROTOOPT, 99 }, { EPROTONOSUPPORT, 120 },
    { ESOCKTNOSUPPORT, 121 }, { EOPNOTSUPP, 122 }, { EPFNOSUPPORT, 123 },
    { EAFNOSUPPORT, 124 }, { EADDRINUSE, 125 }, { EADDRNOTAVAIL, 126 },
    { ENETDOWN, 127 }, { ENETUNREACH, 128 }, { ENETRESET, 129 },
    { ECONNABORTED, 130 }, { ECONNRESET, 131 }, { ENOBUFS, 132 },
    { EISCONN, 133 }, { ENOTCONN, 134 }, { EUCLEAN, 135 },
    { ENOTNAM, 137 }, { ENAVAIL, 138 }, { EISNAM, 139 },
    { EREMOTEIO, 140 }, { ESHUTDOWN, 143 }, { ETOOMANYREFS, 144 },
    { ETIMEDOUT, 145 }, { ECONNREFUSED, 146 }, { EHOSTDOWN, 147 },
    { EHOSTUNREACH, 148 }, { EALREADY, 149 }, { EINPROGRESS, 150 },
    { ESTALE, 151 }, { ECANCELED, 158 }, { ENOMEDIUM, 159 },
    { EMEDIUMTYPE, 160 }, { ENOKEY, 161 }, { EKEYEXPIRED, 162 },
    { EKEYREVOKED, 163 }, { EKEYREJECTED, 164 }, { EOWNERDEAD, 165 },
    { ENOTRECOVERABLE, 166 }, { ERFKILL, 167 }, { EHWPOISON, 168 },
    { EDQUOT, 1133 }, { 0, 0 }
};

/* asm/signal.h */
static const UserMapEntry mips_signals[] = {
    { SIGBUS, 10 }, { SIGSYS, 12 }, { SIGUSR1, 16 }, { SIGUSR2, 17 },
    { SIGCHLD, 18 }, { SIGPWR, 19 }, { SIGWINCH, 20 }, { SIGURG, 21 },
    { SIGIO, 22 }, { SIGSTOP, 23 }, { SIGTSTP, 24 }, { SIGCONT, 25 },
    { SIGTTIN, 26 }, { SIGTTOU, 27 }, { SIGVTALRM, 28 }, { SIGPROF, 29 },
    { SIGXCPU, 30 }, { SIGXFSZ, 31 }, { SIGSTKFLT, 7 }, { 0, 0 }
};

/* asm/fcntl.h (host value, guest value) */
static const UserMapEntry mips_open_flags[] = {
    { O_APPEND, 0x0008 }, { O_DSYNC, 0x0010 }, { O_NONBLOCK, 0x0080 },
    { O_CREAT, 0x0100 }, { O_TRUNC, 0x0200 }, { O_EXCL, 0x0400 },
    { O_NOCTTY, 0x0800 }, { FASYNC, 0x1000 }, { 0100000, 0x2000 },
    { 04000000, 0x4000 }, { O_DIRECT, 0x8000 }, { O_DIRECTORY, 0x10000 },
    { O_NOFOLLOW, 0x20000 }, { O_NOATIME, 0x40000 },
    { O_CLOEXEC, 0x80000 }, { O_PATH, 0x200000 }, { 020000000, 0x400000 },
    { 0, 0 }
};

/* asm/mman.h */
static const UserMapEntry mips_mmap_flags[] = {
    { MAP_SHARED, 0x1 }, { MAP_PRIVATE, 0x2 }, { MAP_FIXED, 0x10 },
    { MAP_NORESERVE, 0x400 }, { MAP_ANONYMOUS, 0x800 },
    { MAP_GROWSDOWN, 0x1000 }, { MAP_FIXED_NOREPLACE, 0x100000 },
    { 0, 0 }
};

static const char mips32_cpuinfo[] =
    "system type\t\t: Mimic user mode\n"
    "machine\t\t\t: Unknown\n"
    "processor\t\t: 0\n"
    "cpu model\t\t: MIPS 24Kf V7.12  FPU V7.12\n"
    "BogoMIPS\t\t: 100.00\n"
    "wait instruction\t: yes\n"
    "microsecond timers\t: yes\n"
    "tlb_entries\t\t: 16\n"
    "extra interrupt vector\t: yes\n"
    "hardware watchpoint\t: no\n"
    "isa\t\t\t: mips1 mips2 mips32r1 mips32r2\n"
    "ASEs implemented\t:\n"
    "Options implemented\t: tlb 4kex 4k_cache prefetch mcheck ejtag llsc "
    "userlocal\n"
    "shadow register sets\t: 1\n"
    "kscratch registers\t: 0\n"
    "package\t\t\t: 0\n"
    "core\t\t\t: 0\n"
    "VCED exceptions\t\t: not available\n"
    "VCEI exceptions\t\t: not available\n\n";

static const char mips64_cpuinfo[] =
    "system type\t\t: Mimic user mode\n"
    "machine\t\t\t: Unknown\n"
    "processor\t\t: 0\n"
    "cpu model\t\t: MIPS 5KE V1.0  FPU V1.0\n"
    "BogoMIPS\t\t: 100.00\n"
    "wait instruction\t: yes\n"
    "microsecond timers\t: yes\n"
    "tlb_entries\t\t: 32\n"
    "extra interrupt vector\t: yes\n"
    "hardware watchpoint\t: no\n"
    "isa\t\t\t: mips1 mips2 mips3 mips4 mips5 mips32r1 mips32r2 "
    "mips64r1 mips64r2\n"
    "ASEs implemented\t:\n"
    "Options implemented\t: tlb 4kex 4k_cache prefetch mcheck ejtag llsc "
    "userlocal\n"
    "shadow register sets\t: 1\n"
    "kscratch registers\t: 0\n"
    "package\t\t\t: 0\n"
    "core\t\t\t: 0\n"
    "VCED exceptions\t\t: not available\n"
    "VCEI exceptions\t\t: not available\n\n";

#define CPU(t) ((MipsCpu *)(t)->cpu)

/* e_flags: the ABI and the ISA level the core runs. */
#define EF_MIPS_ABI2 0x20
#define EF_MIPS_NAN2008 0x400
#define EF_MIPS_ARCH 0xf0000000u

static bool mips32_elf_ok(uint32_t f, const char **why)
{
    unsigned arch = f >> 28;
    if (f & EF_MIPS_ABI2) {
        *why = "n32 programs are not supported";
        return false;
    }
    if (arch == 9 || arch == 10) {
        *why = "MIPS release 6 programs are not supported";
        return false;
    }
    if (arch == 2 || arch == 3 || arch == 4 || arch == 6 || arch == 8) {
        *why = "a 64-bit MIPS program (ISA level in e_flags)";
        return false;
    }
    if (f & EF_MIPS_NAN2008) {
        *why = "IEEE 754-2008 NaN programs are not supported";
        return false;
    }
    return true;
}

static bool mips64_elf_ok(uint32_t f, const char **why)
{
    unsigned arch = f >> 28;
    if (f & EF_MIPS_ABI2) {
        *why = "n32 programs are not supported";
        return false;
    }
    if (arch == 9 || arch == 10) {
        *why = "MIPS release 6 programs are not supported";
        return false;
    }
    if (f & EF_MIPS_NAN2008) {
        *why = "IEEE 754-2008 NaN programs are not supported";
        return false;
    }
    return true;
}

static bool mips_cpu_init(UserThread *t, const char *model, GError **error)
{
    const UserArch *a = t->proc->arch;
    const MipsModel *m = mips_model_find(model, a->is64);
    if (!m) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "unknown CPU '%s' (try -cpu help)", model);
        return false;
    }
    MipsCpu *cpu = g_new0(MipsCpu, 1);
    mips_init(cpu, m, a->big_endian);
    cpu->mem_base = t->proc->guest_base;
    cpu->mem_limit = a->addr_limit;
    t->cpu = cpu;
    return true;
}

static void mips32_cpu_list(GString *out)
{
    mips_model_list(out, false);
}

static void mips64_cpu_list(GString *out)
{
    mips_model_list(out, true);
}

static void mips_cpu_start(UserThread *t, uint64_t pc, uint64_t sp)
{
    MipsCpu *cpu = CPU(t);
    mips_set_pc(cpu, pc);
    /* FR = 1 (64-bit FPRs) unless the program needs the FR = 0 pairs
       (fp_abi "double"), as QEMU's user mode chooses for a release 2 CPU
       with a 64-bit FPU (FPXX and unmarked programs run either way). */
    cpu->fr = t->proc->arch->is64 || t->proc->fp_abi != 1;
    cpu->gpr[29] = sp;
    cpu->gpr[25] = pc; /* t9: the PIC entry's own address */
}

static void *mips_cpu_copy(UserThread *parent)
{
    MipsCpu *c = g_new(MipsCpu, 1);
    memcpy(c, parent->cpu, sizeof(*c));
    c->exit_request = 0;
    return c;
}

static void mips_cpu_clone(UserThread *child, UserThread *parent,
                           uint64_t sp, bool set_tls, uint64_t tls)
{
    MipsCpu *c = CPU(child);
    if (child != parent) {
        memcpy(c, parent->cpu, sizeof(*c));
        c->exit_request = 0;
    }
    if (sp) {
        c->gpr[29] = sp;
    }
    if (set_tls) {
        c->userlocal = tls;
    }
    /* the child sees 0 from clone, past the syscall instruction */
    c->gpr[2] = 0;
    c->gpr[7] = 0;
}

static void mips_set_tls(UserThread *t, uint64_t tls)
{
    CPU(t)->userlocal = tls;
}

static void mips_exit_request(UserThread *t)
{
    if (t->cpu) {
        CPU(t)->exit_request = 1;
    }
}

static void mips_host_fault(UserThread *t, int hs, uint64_t addr, bool write)
{
    (void)hs;
    mips_fault_from_signal(CPU(t), addr, write);
}

/* ---- signal frames (arch/mips/kernel/signal.c's rt_sigframe) ---- */

static void mips_sigaction_get(UserProc *p, uint64_t g, UserSigaction *sa)
{
    sa->flags = user_get32(p, g);
    sa->restorer = 0;
    if (p->arch->is64) {
        sa->handler = user_get64(p, g + 8);
        sa->mask = user_get64(p, g + 16);
    } else {
        sa->handler = user_get32(p, g + 4);
        sa->mask = user_get32(p, g + 8) |
                   (uint64_t)user_get32(p, g + 12) << 32;
    }
}

static void mips_sigaction_put(UserProc *p, uint64_t g,
                               const UserSigaction *sa)
{
    user_put32(p, g, (uint32_t)sa->flags);
    if (p->arch->is64) {
        user_put32(p, g + 4, 0);
        user_put64(p, g + 8, sa->handler);
        user_put64(p, g + 16, sa->mask);
        user_put64(p, g + 24, 0);
    } else {
        user_put32(p, g + 4, (uint32_t)sa->handler);
        user_put32(p, g + 8, (uint32_t)sa->mask);
        user_put32(p, g + 12, (uint32_t)(sa->mask >> 32));
        user_put32(p, g + 16, 0);
        user_put32(p, g + 20, 0);
    }
}

/* Offsets inside the frame. */
#define RS_PAD 16
#define RS_INFO 24
#define RS_UC 152

typedef struct FrameLayout {
    unsigned uc_stack, mcontext, sigmask, size;
    unsigned sc_pc, sc_regs, sc_fpregs, sc_fcsr, sc_used_math, sc_hi, sc_lo;
} FrameLayout;

static const FrameLayout o32_frame = {
    .uc_stack = 8, .mcontext = 24, .sigmask = 24 + 592, .size = 896,
    .sc_pc = 8, .sc_regs = 16, .sc_fpregs = 272, .sc_fcsr = 532,
    .sc_used_math = 540, .sc_hi = 552, .sc_lo = 560,
};

static const FrameLayout n64_frame = {
    .uc_stack = 16, .mcontext = 40, .sigmask = 40 + 600, .size = 920,
    .sc_pc = 576, .sc_regs = 0, .sc_fpregs = 256, .sc_fcsr = 584,
    .sc_used_math = 588, .sc_hi = 512, .sc_lo = 544,
};

static bool mips_signal_enter(UserThread *t, int gsig,
                              const UserSigaction *sa, const siginfo_t *info,
                              uint64_t oldmask)
{
    UserProc *p = t->proc;
    MipsCpu *cpu = CPU(t);
    const bool is64 = p->arch->is64;
    const FrameLayout *L = is64 ? &n64_frame : &o32_frame;
    uint64_t sp = cpu->gpr[29];

    if ((sa->flags & p->arch->sa_onstack) && t->altstack_size &&
        !(sp > t->altstack_sp && sp <= t->altstack_sp + t->altstack_size)) {
        sp = t->altstack_sp + t->altstack_size;
    }
    uint64_t f = (sp - L->size) & ~15ull;
    if (!is64) {
        f = (uint32_t)f;
    }
    if (!user_range_ok(p, f, L->size)) {
        return false;
    }
    memset(g2h(p, f), 0, L->size);
    /* the return trampoline: li v0, __NR_rt_sigreturn; syscall */
    uint32_t nr = is64 ? 5211 : 4193;
    user_put32(p, f + RS_PAD, 0x24020000u | nr);
    user_put32(p, f + RS_PAD + 4, 0x0000000cu);

    /* siginfo: signo, code, errno (MIPS swaps the last two), then the
       union (8-aligned on 64-bit). */
    uint64_t si = f + RS_INFO;
    user_put32(p, si, (uint32_t)gsig);
    user_put32(p, si + 4, (uint32_t)info->si_code);
    user_put32(p, si + 8, (uint32_t)info->si_errno);
    uint64_t un = si + (is64 ? 16 : 12);
    int hs = info->si_signo;
    if (hs == SIGSEGV || hs == SIGBUS || hs == SIGILL || hs == SIGFPE ||
        hs == SIGTRAP) {
        user_put_ulong(p, un, (uint64_t)(uintptr_t)info->si_addr);
    } else {
        user_put32(p, un, (uint32_t)info->si_pid);
        user_put32(p, un + 4, (uint32_t)info->si_uid);
        if (hs == SIGCHLD) {
            user_put32(p, un + 8, (uint32_t)info->si_status);
        }
    }

    uint64_t uc = f + RS_UC;
    unsigned w = is64 ? 8 : 4;
    user_put_ulong(p, uc + L->uc_stack, t->altstack_sp);
    user_put_ulong(p, uc + L->uc_stack + w, t->altstack_size);
    user_put32(p, uc + L->uc_stack + 2 * w, t->altstack_size ? 0 : 2);
    uint64_t sc = uc + L->mcontext;
    user_put64(p, sc + L->sc_pc, cpu->pc);
    for (int i = 0; i < 32; i++) {
        user_put64(p, sc + L->sc_regs + i * 8, cpu->gpr[i]);
        user_put64(p, sc + L->sc_fpregs + i * 8, cpu->fpr[i]);
    }
    user_put32(p, sc + L->sc_fcsr, cpu->fcsr);
    user_put32(p, sc + L->sc_used_math, 1);
    user_put64(p, sc + L->sc_hi, cpu->hi);
    user_put64(p, sc + L->sc_lo, cpu->lo);
    uint64_t sm = uc + L->sigmask;
    if (is64) {
        user_put64(p, sm, oldmask);
    } else {
        user_put32(p, sm, (uint32_t)oldmask);
        user_put32(p, sm + 4, (uint32_t)(oldmask >> 32));
    }

    cpu->gpr[4] = (uint64_t)gsig;
    cpu->gpr[5] = si;
    cpu->gpr[6] = uc;
    cpu->gpr[29] = f;
    cpu->gpr[31] = f + RS_PAD;
    cpu->gpr[25] = sa->handler;
    mips_set_pc(cpu, is64 ? sa->handler
                          : (uint64_t)(int64_t)(int32_t)sa->handler);
    return true;
}

static uint64_t mips_sigreturn(UserThread *t, bool rt)
{
    UserProc *p = t->proc;
    MipsCpu *cpu = CPU(t);
    const bool is64 = p->arch->is64;
    const FrameLayout *L = is64 ? &n64_frame : &o32_frame;
    uint64_t f = cpu->gpr[29];
    if (!is64) {
        f = (uint32_t)f;
    }
    if (!user_range_ok(p, f, L->size)) {
        user_signal_fault(t, SIGSEGV, 1, f);
        return t->sigmask;
    }
    uint64_t uc = f + RS_UC, sc = uc + L->mcontext;
    for (int i = 1; i < 32; i++) {
        cpu->gpr[i] = user_get64(p, sc + L->sc_regs + i * 8);
        cpu->fpr[i] = user_get64(p, sc + L->sc_fpregs + i * 8);
    }
    cpu->fpr[0] = user_get64(p, sc + L->sc_fpregs);
    cpu->fcsr = user_get32(p, sc + L->sc_fcsr) & 0xfe83ffffu;
    cpu->hi = user_get64(p, sc + L->sc_hi);
    cpu->lo = user_get64(p, sc + L->sc_lo);
    if (!is64) {
        for (int i = 1; i < 32; i++) {
            cpu->gpr[i] = (uint64_t)(int64_t)(int32_t)cpu->gpr[i];
        }
        cpu->hi = (uint64_t)(int64_t)(int32_t)cpu->hi;
        cpu->lo = (uint64_t)(int64_t)(int32_t)cpu->lo;
    }
    uint64_t pc = user_get64(p, sc + L->sc_pc);
    mips_set_pc(cpu, is64 ? pc : (uint64_t)(int64_t)(int32_t)pc);
    uint64_t sm = uc + L->sigmask;
    (void)rt;
    return is64 ? user_get64(p, sm)
                : (user_get32(p, sm) | (uint64_t)user_get32(p, sm + 4) << 32);
}

/* ---- the CPU loop ---- */

/* BREAK and trap codes the kernel turns into SIGFPE (asm/break.h). */
static void break_signal(UserThread *t, unsigned code, uint64_t pc)
{
    if (code == 6) {
        user_signal_fault(t, SIGFPE, 2 /* FPE_INTOVF */, pc);
    } else if (code == 7) {
        user_signal_fault(t, SIGFPE, 1 /* FPE_INTDIV */, pc);
    } else {
        user_signal_fault(t, SIGTRAP, 1 /* TRAP_BRKPT */, pc);
    }
}

static void do_syscall(UserThread *t)
{
    UserProc *p = t->proc;
    MipsCpu *cpu = CPU(t);
    uint64_t a[8];
    uint64_t nr = cpu->gpr[2];
    uint64_t epc = cpu->exc_epc;

    mips_set_pc(cpu, epc + 4);
    if (p->arch->is64) {
        for (int i = 0; i < 8; i++) {
            a[i] = cpu->gpr[4 + i];
        }
    } else {
        for (int i = 0; i < 4; i++) {
            a[i] = (uint32_t)cpu->gpr[4 + i];
        }
        uint64_t sp = (uint32_t)cpu->gpr[29];
        for (int i = 4; i < 8; i++) {
            a[i] = 0;
        }
        /* o32: arguments 5..8 live on the stack at sp+16 */
        if (user_range_ok(p, sp + 16, 16)) {
            uint32_t v[4];
            if (sigsetjmp(t->syscall_jmp, 0) == 0) {
                t->in_syscall = true;
                memcpy(v, g2h(p, sp + 16), 16);
                t->in_syscall = false;
                for (int i = 0; i < 4; i++) {
                    a[4 + i] = ug32(p, v[i]);
                }
            } else {
                t->in_syscall = false;
            }
        }
    }
    t->has_ret2 = false;
    int64_t r = user_syscall(t, nr, a);
    if (r == USER_NORETURN) {
        return;
    }
    if (r < 0 && r > -4096) {
        cpu->gpr[2] = (uint64_t)user_errno_to_guest(p->arch, (int)-r);
        cpu->gpr[7] = 1;
    } else {
        cpu->gpr[2] = p->arch->is64 ? (uint64_t)r
                                    : (uint64_t)(int64_t)(int32_t)r;
        cpu->gpr[7] = 0;
        if (t->has_ret2) {
            cpu->gpr[3] = (uint64_t)t->ret2;
        }
    }
}


/* ---- the GDB stub's view: GDB's MIPS layout without a target
   description: r0..r31, sr, lo, hi, bad, cause, pc, f0..f31, fcsr, fir,
   each as wide as the ABI's registers (f0..f31 too). ---- */

static unsigned mips_gdb_reg_size(UserThread *t)
{
    return t->proc->arch->is64 ? 8 : 4;
}

static void put_reg(UserThread *t, uint8_t *buf, uint64_t v)
{
    unsigned w = mips_gdb_reg_size(t);
    for (unsigned i = 0; i < w; i++) {
        unsigned sh = t->proc->arch->big_endian ? 8 * (w - 1 - i) : 8 * i;
        buf[i] = (uint8_t)(v >> sh);
    }
}

static uint64_t get_reg(UserThread *t, const uint8_t *buf)
{
    unsigned w = mips_gdb_reg_size(t);
    uint64_t v = 0;
    for (unsigned i = 0; i < w; i++) {
        unsigned sh = t->proc->arch->big_endian ? 8 * (w - 1 - i) : 8 * i;
        v |= (uint64_t)buf[i] << sh;
    }
    return w == 4 ? (uint64_t)(int64_t)(int32_t)v : v;
}

/* An FPU register as the guest sees it (FR=0: odd singles are the high
   halves of even pairs). */
static uint64_t fpr_view(MipsCpu *cpu, unsigned i, bool is64)
{
    if (!cpu->fr && (i & 1)) {
        return cpu->fpr[i & ~1u] >> 32;
    }
    return is64 ? cpu->fpr[i] : (uint32_t)cpu->fpr[i];
}

static unsigned mips_gdb_get_reg(UserThread *t, unsigned n, uint8_t *buf)
{
    MipsCpu *cpu = CPU(t);
    bool is64 = t->proc->arch->is64;
    uint64_t v;
    if (n < 32) {
        v = cpu->gpr[n];
    } else if (n == 32) { /* Status: CU1, FR, user mode */
        v = (cpu->model->has_fpu ? 1u << 29 : 0) |
            (cpu->fr ? 1u << 26 : 0) | 0x10;
    } else if (n == 33) {
        v = cpu->lo;
    } else if (n == 34) {
        v = cpu->hi;
    } else if (n == 35) {
        v = cpu->exc_badvaddr;
    } else if (n == 36) {
        v = (uint64_t)cpu->exc_code << 2;
    } else if (n == 37) {
        v = cpu->pc;
    } else if (n < 70) {
        v = fpr_view(cpu, n - 38, is64);
    } else if (n == 70) {
        v = cpu->fcsr;
    } else if (n == 71) {
        v = cpu->fir;
    } else {
        return 0;
    }
    put_reg(t, buf, v);
    return mips_gdb_reg_size(t);
}

static unsigned mips_gdb_set_reg(UserThread *t, unsigned n,
                                 const uint8_t *buf)
{
    MipsCpu *cpu = CPU(t);
    uint64_t v = get_reg(t, buf);
    if (n < 32) {
        if (n) {
            cpu->gpr[n] = v;
        }
    } else if (n == 33) {
        cpu->lo = v;
    } else if (n == 34) {
        cpu->hi = v;
    } else if (n == 37) {
        mips_set_pc(cpu, v);
    } else if (n >= 38 && n < 70) {
        unsigned i = n - 38;
        if (!cpu->fr && (i & 1)) {
            uint64_t *p = &cpu->fpr[i & ~1u];
            *p = (*p & 0xffffffffull) | (uint64_t)(uint32_t)v << 32;
        } else if (!t->proc->arch->is64) {
            cpu->fpr[i] = (cpu->fpr[i] & ~0xffffffffull) | (uint32_t)v;
        } else {
            cpu->fpr[i] = v;
        }
    } else if (n == 70) {
        cpu->fcsr = (uint32_t)v;
    } else if (n >= 72) {
        return 0;
    } /* sr, bad, cause, fir: read-only */
    return mips_gdb_reg_size(t);
}

static uint64_t mips_get_pc(UserThread *t)
{
    return CPU(t)->pc;
}

static void mips_gdb_set_pc(UserThread *t, uint64_t pc)
{
    mips_set_pc(CPU(t), pc);
}

/* -d in_asm: each block of straight-line code once, as QEMU logs its
   translation blocks (up to a branch and its delay slot). */
static void trace_block(MipsCpu *cpu, uint64_t pc)
{
    static GHashTable *seen;
    static GMutex lock;
    UserProc *p = user_the_proc;
    g_mutex_lock(&lock);
    if (!seen) {
        seen = g_hash_table_new(g_int64_hash, g_int64_equal);
    }
    bool logged = g_hash_table_contains(seen, &pc);
    if (!logged) {
        g_hash_table_add(seen, g_memdup2(&pc, sizeof(pc)));
    }
    g_mutex_unlock(&lock);
    if (logged) {
        return;
    }
    GString *s = g_string_new("----------------\nIN: \n");
    int w = cpu->is64 ? 16 : 8;
    uint64_t a = pc;
    for (int i = 0; i < 64; i++, a += 4) {
        if (!user_range_ok(p, a, 4) || !user_addr_mapped(p, a)) {
            break;
        }
        uint32_t insn = user_get32(p, a);
        g_string_append_printf(s, "0x%0*" G_GINT64_MODIFIER "x:  ", w,
                               cpu->is64 ? a : (uint32_t)a);
        mips_disassemble(cpu, insn, a, s);
        g_string_append_c(s, '\n');
        if (i > 0 && mips_is_branch(user_get32(p, a - 4))) {
            break;
        }
    }
    g_string_append_c(s, '\n');
    mimic_log("%s", s->str);
    g_string_free(s, true);
}

static int mips_cpu_loop(UserThread *t)
{
    UserProc *p = t->proc;
    MipsCpu *cpu = CPU(t);

    if (mimic_log_enabled(LOG_IN_ASM)) {
        cpu->trace_block = trace_block;
    }

    for (;;) {
        int64_t n;
        t->in_cpu = true;
        bool step = t->gdb_step;
        MipsRunExit why = mips_run(cpu, step ? 1 : 1 << 22, &n);
        t->in_cpu = false;
        if (why == MIPS_RUN_EXCEPTION) {
            uint64_t epc = cpu->exc_epc, bad = cpu->exc_badvaddr;
            if (cpu->exc_code != MIPS_EXC_SYS && mimic_log_enabled(LOG_INT)) {
                uint32_t insn = 0;
                if (user_range_ok(p, epc, 4) && user_addr_mapped(p, epc)) {
                    insn = user_get32(p, epc);
                }
                mimic_log("mips: exception %d at pc 0x%" G_GINT64_MODIFIER
                          "x (insn %08x) badvaddr 0x%" G_GINT64_MODIFIER
                          "x\n", cpu->exc_code, epc, insn, bad);
            }
            switch (cpu->exc_code) {
            case MIPS_EXC_SYS:
                do_syscall(t);
                break;
            case MIPS_EXC_BP:
                break_signal(t, (cpu->exc_insn >> 16) & 0x3ff, epc);
                break;
            case MIPS_EXC_TR:
                break_signal(t, (cpu->exc_insn >> 26) == 0
                                    ? (cpu->exc_insn >> 6) & 0x3ff : 0,
                             epc);
                break;
            case MIPS_EXC_OV:
                user_signal_fault(t, SIGFPE, 2 /* FPE_INTOVF */, epc);
                break;
            case MIPS_EXC_RI:
            case MIPS_EXC_CPU:
                user_signal_fault(t, SIGILL, 1 /* ILL_ILLOPC */, epc);
                break;
            case MIPS_EXC_ADEL:
            case MIPS_EXC_ADES:
                if ((p->arch->is64 ? bad : (uint32_t)bad) >=
                    p->arch->addr_limit) {
                    user_signal_fault(t, SIGSEGV, 1, bad);
                } else {
                    user_signal_fault(t, SIGBUS, 1 /* BUS_ADRALN */, bad);
                }
                break;
            case MIPS_EXC_TLBL:
            case MIPS_EXC_TLBS:
                user_signal_fault(t, SIGSEGV,
                                  user_addr_mapped(p, bad) ? 2 : 1, bad);
                break;
            case MIPS_EXC_FPE: {
                unsigned c = (cpu->fcsr >> FCSR_CAUSE_SHIFT) & 0x3f;
                int code = (c & FP_V) ? 7 : (c & FP_Z) ? 3 : (c & FP_O) ? 4
                           : (c & FP_U) ? 5 : (c & FP_I) ? 6 : 0;
                user_signal_fault(t, SIGFPE, code, epc);
                break;
            }
            default:
                user_signal_fault(t, SIGILL, 0, epc);
                break;
            }
        }
        if (step && t->gdb_step && why != MIPS_RUN_REQUEST) {
            user_gdb_stepped(t); /* -g: one instruction done */
        }
        user_signal_check(t);
    }
    return 0;
}

#define MIPS_COMMON                                                          \
    .e_machine = 8, .page_size = 4096, .hwcap = 0,                           \
    .errnos = mips_errnos, .signals = mips_signals,                          \
    .open_flags = mips_open_flags, .mmap_flags = mips_mmap_flags,            \
    .stat_kind = 0, .cpu_init = mips_cpu_init,                               \
    .cpu_start = mips_cpu_start, .cpu_loop = mips_cpu_loop,                  \
    .cpu_clone = mips_cpu_clone, .set_tls = mips_set_tls,                    \
    .cpu_copy = mips_cpu_copy, .cpu_exit_request = mips_exit_request,        \
    .cpu_host_fault = mips_host_fault, .sa_siginfo = 0x8,                    \
    .sa_onstack = 0x08000000, .sa_restart = 0x10000000,                      \
    .sa_nodefer = 0x40000000, .sa_resethand = 0x80000000u,                   \
    .sigaction_get = mips_sigaction_get,                                     \
    .sigaction_put = mips_sigaction_put,                                     \
    .signal_enter = mips_signal_enter, .sigreturn = mips_sigreturn,        \
    .gdb_nregs = 72, .gdb_get_reg = mips_gdb_get_reg,                        \
    .gdb_set_reg = mips_gdb_set_reg, .get_pc = mips_get_pc,                  \
    .set_pc = mips_gdb_set_pc, .gdb_bp_insn = 0x0000000d /* BREAK */,        \
    .gdb_bp_len = 4

#define MIPS32                                                               \
    MIPS_COMMON, .is64 = false, .default_cpu = "24Kf",                       \
    .addr_limit = 0x80000000ull, .stack_top = 0x7fff0000ull,                 \
    .mmap_top = 0x77000000ull, .syscall_base = 4000,                         \
    .syscalls = o32_syscalls, .n_syscalls = G_N_ELEMENTS(o32_syscalls),      \
    .cpuinfo = mips32_cpuinfo, .elf_ok = mips32_elf_ok,                      \
    .cpu_list = mips32_cpu_list

#define MIPS64                                                               \
    MIPS_COMMON, .is64 = true, .default_cpu = "5KEf",                        \
    .addr_limit = 1ull << 40, .stack_top = 0xfffff00000ull,                  \
    .mmap_top = 0xff00000000ull, .syscall_base = 5000,                       \
    .syscalls = n64_syscalls, .n_syscalls = G_N_ELEMENTS(n64_syscalls),      \
    .cpuinfo = mips64_cpuinfo, .elf_ok = mips64_elf_ok,                      \
    .cpu_list = mips64_cpu_list

const UserArch user_arch_mipsel = {
    .name = "mipsel", .big_endian = false, .platform = "mips", MIPS32 };
const UserArch user_arch_mips = {
    .name = "mips", .big_endian = true, .platform = "mips", MIPS32 };
const UserArch user_arch_mips64el = {
    .name = "mips64el", .big_endian = false, .platform = "mips64", MIPS64 };
const UserArch user_arch_mips64 = {
    .name = "mips64", .big_endian = true, .platform = "mips64", MIPS64 };
