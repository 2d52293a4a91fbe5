/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x86-64 under the user layer: the tables that do not need the CPU (the
 * system call numbers, mmap flags, struct stat's layout, the sigaction
 * layout and SA_ bits).  Errno, signal and open-flag values are the
 * generic ones, the host's.
 *
 * Not there yet: the CPU side (a 64-bit user-mode X86User, the SYSCALL
 * entry, arch_prctl's FS/GS bases, the rt_sigframe with the 64-bit
 * ucontext and the FXSAVE area) and so mimic-x86_64 itself: glibc and
 * busybox for amd64 need SSE2, which the x86 core is getting
 * (docs/user-mode.md).  tests/user/test-user-tables.c checks these
 * tables against the host's own (an x86-64 Linux): the numbers against
 * <asm/unistd_64.h>, struct stat byte for byte against the host's fstat.
 *
 * Reference: the Linux kernel's arch/x86/entry/syscalls/syscall_64.tbl,
 * arch/x86/include/uapi/asm/stat.h (struct stat for x86-64),
 * include/linux/signal_types.h and uapi asm/signal.h (struct sigaction).
 */
#include "user/user.h"

#include <errno.h>
#include <sys/mman.h>

#define E(n, s) { n, US_##s }

static const UserSysEntry x86_64_syscalls[] = {
    E(0, read), E(1, write), E(2, open), E(3, close), E(4, stat),
    E(5, fstat), E(6, lstat), E(7, poll), E(8, lseek), E(9, mmap),
    E(10, mprotect), E(11, munmap), E(12, brk), E(13, rt_sigaction),
    E(14, rt_sigprocmask), E(15, rt_sigreturn), E(16, ioctl),
    E(17, pread64), E(18, pwrite64), E(19, readv), E(20, writev),
    E(21, access), E(22, pipe), E(23, _newselect), E(24, sched_yield),
    E(25, mremap), E(26, msync), E(28, madvise), E(32, dup), E(33, dup2),
    E(34, pause), E(35, nanosleep), E(36, getitimer), E(37, alarm),
    E(38, setitimer), E(39, getpid), E(40, sendfile), E(41, socket),
    E(42, connect), E(43, accept), E(44, sendto), E(45, recvfrom),
    E(46, sendmsg), E(47, recvmsg), E(48, shutdown), E(49, bind),
    E(50, listen), E(51, getsockname), E(52, getpeername),
    E(53, socketpair), E(54, setsockopt), E(55, getsockopt),
    E(56, clone), E(57, fork), E(58, vfork), E(59, execve), E(60, exit),
    E(61, wait4), E(62, kill), E(63, uname), E(72, fcntl), E(73, flock),
    E(74, fsync), E(75, fdatasync), E(76, truncate), E(77, ftruncate),
    E(79, getcwd), E(80, chdir), E(81, fchdir), E(82, rename),
    E(83, mkdir), E(84, rmdir), E(86, link), E(87, unlink),
    E(88, symlink), E(89, readlink), E(90, chmod), E(91, fchmod),
    E(92, chown), E(93, fchown), E(94, lchown), E(95, umask),
    E(96, gettimeofday), E(97, getrlimit), E(98, getrusage),
    E(99, sysinfo), E(100, times), E(102, getuid), E(104, getgid),
    E(105, setuid), E(106, setgid), E(107, geteuid), E(108, getegid),
    E(109, setpgid), E(110, getppid), E(111, getpgrp), E(112, setsid),
    E(113, setreuid), E(114, setregid), E(115, getgroups),
    E(116, setgroups), E(117, setresuid), E(118, getresuid),
    E(119, setresgid), E(120, getresgid), E(121, getpgid),
    E(124, getsid), E(127, rt_sigpending), E(128, rt_sigtimedwait),
    E(130, rt_sigsuspend), E(131, sigaltstack), E(133, mknod),
    E(135, personality), E(137, statfs), E(138, fstatfs), E(149, mlock),
    E(150, munlock), E(157, prctl), E(160, setrlimit), E(162, sync),
    E(170, sethostname), E(186, gettid), E(200, tkill), E(201, time),
    E(202, futex), E(203, sched_setaffinity), E(204, sched_getaffinity),
    E(213, epoll_create), E(217, getdents64), E(218, set_tid_address),
    E(221, fadvise64), E(228, clock_gettime), E(229, clock_getres),
    E(230, clock_nanosleep), E(231, exit_group), E(232, epoll_wait),
    E(233, epoll_ctl), E(234, tgkill), E(247, waitid), E(257, openat),
    E(258, mkdirat), E(259, mknodat), E(260, fchownat),
    E(262, newfstatat), E(263, unlinkat), E(264, renameat),
    E(265, linkat), E(266, symlinkat), E(267, readlinkat),
    E(268, fchmodat), E(269, faccessat), E(270, pselect6), E(271, ppoll),
    E(273, set_robust_list), E(274, get_robust_list), E(280, utimensat),
    E(281, epoll_pwait), E(288, accept4), E(290, eventfd2),
    E(291, epoll_create1), E(292, dup3), E(293, pipe2),
    E(302, prlimit64), E(309, getcpu), E(316, renameat2),
    E(318, getrandom), E(322, execveat), E(324, membarrier),
    E(326, copy_file_range), E(332, statx), E(334, rseq),
    E(435, clone3), E(436, close_range), E(439, faccessat2),
};

#undef E

/* asm/mman.h: the generic values (MAP_32BIT passes as 0x40). */
static const UserMapEntry x86_64_mmap_flags[] = {
    { MAP_SHARED, 0x1 }, { MAP_PRIVATE, 0x2 }, { MAP_FIXED, 0x10 },
    { MAP_ANONYMOUS, 0x20 }, { MAP_32BIT, 0x40 }, { MAP_GROWSDOWN, 0x100 },
    { MAP_NORESERVE, 0x4000 }, { MAP_FIXED_NOREPLACE, 0x100000 },
    { 0, 0 }
};

/* struct sigaction: handler, flags, restorer, mask (8 bytes each). */
static void x86_64_sigaction_get(UserProc *p, uint64_t g, UserSigaction *sa)
{
    sa->handler = user_get64(p, g);
    sa->flags = user_get64(p, g + 8);
    sa->restorer = user_get64(p, g + 16);
    sa->mask = user_get64(p, g + 24);
}

static void x86_64_sigaction_put(UserProc *p, uint64_t g,
                                 const UserSigaction *sa)
{
    user_put64(p, g, sa->handler);
    user_put64(p, g + 8, sa->flags);
    user_put64(p, g + 16, sa->restorer);
    user_put64(p, g + 24, sa->mask);
}

static bool x86_64_cpu_init(UserThread *t, const char *model,
                            GError **error)
{
    (void)t;
    (void)model;
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                "x86-64 programs cannot run yet: the x86 core's 64-bit "
                "user mode (SSE2, the SYSCALL entry) is not there");
    return false;
}

static void x86_64_cpu_list(GString *out)
{
    g_string_append(out, "(none yet)\n");
}

const UserArch user_arch_x86_64 = {
    .name = "x86_64", .e_machine = 62, .is64 = true, .big_endian = false,
    .platform = "x86_64", .default_cpu = "qemu64",
    /* the guest window: as i386's 3 GiB (the loader, stack and mmap
       choose their addresses inside it) */
    .addr_limit = 0xc0000000ull, .stack_top = 0xbfff0000ull,
    .mmap_top = 0xb7000000ull, .elf_base = 0x7f000000ull,
    .page_size = 4096, .syscall_base = 0,
    .syscalls = x86_64_syscalls,
    .n_syscalls = G_N_ELEMENTS(x86_64_syscalls),
    .mmap_flags = x86_64_mmap_flags, .stat_kind = 2,
    .cpu_init = x86_64_cpu_init, .cpu_list = x86_64_cpu_list,
    .sa_siginfo = 0x4, .sa_onstack = 0x08000000, .sa_restart = 0x10000000,
    .sa_nodefer = 0x40000000, .sa_resethand = 0x80000000u,
    .sigaction_get = x86_64_sigaction_get,
    .sigaction_put = x86_64_sigaction_put,
};
