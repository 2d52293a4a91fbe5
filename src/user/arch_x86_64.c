/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x86-64 under the user layer: the system call numbers (SYSCALL: RAX the
 * number, RDI RSI RDX R10 R8 R9 the arguments, RAX the result; RCX and
 * R11 get RIP and RFLAGS), mmap flags, struct stat's layout, the
 * sigaction layout and SA_ bits, arch_prctl (the FS and GS bases), the
 * rt_sigframe with the 64-bit ucontext and the FXSAVE area, on the x86
 * core in long mode (src/arch/x86/user.c; the CPU loop is arch_i386.c's).
 * Errno, signal and open-flag values are the generic ones, the host's.
 * tests/user/test-user-tables.c checks the tables against the host's own
 * (an x86-64 Linux): the numbers against <asm/unistd_64.h>, struct stat
 * byte for byte against the host's fstat.
 *
 * Reference: the Linux kernel's arch/x86/entry/syscalls/syscall_64.tbl,
 * arch/x86/include/uapi/asm/stat.h (struct stat for x86-64),
 * include/linux/signal_types.h and uapi asm/signal.h (struct sigaction),
 * arch/x86/kernel/signal.c and uapi asm/sigcontext.h (struct rt_sigframe,
 * struct sigcontext_64), arch/x86/kernel/process_64.c (arch_prctl).
 */
#include "user/arch_x86.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "bus/log.h"

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
    return user_x86_cpu_new(t, model, true, error);
}

static void x86_64_cpu_list(GString *out)
{
    g_string_append(out, "qemu64 (the default)\nNehalem\nmax\n");
}

static void x86_64_cpu_start(UserThread *t, uint64_t pc, uint64_t sp)
{
    X86Cpu *x = XREGS(t);
    x->rip = pc;
    x->regs[R_ESP] = sp;
    x->regs[R_EDX] = 0; /* no atexit function */
}

static void x86_64_set_tls(UserThread *t, uint64_t tls)
{
    XREGS(t)->seg[S_FS].base = tls;
}

static void x86_64_cpu_clone(UserThread *child, UserThread *parent,
                             uint64_t sp, bool set_tls, uint64_t tls)
{
    if (child != parent) {
        x86_user_copy(XCPU(child)->u, XCPU(parent)->u);
    }
    X86Cpu *x = XREGS(child);
    if (sp) {
        x->regs[R_ESP] = sp;
    }
    if (set_tls) {
        x->seg[S_FS].base = tls;
    }
    x->regs[R_EAX] = 0;
}

/* ---- signals: struct rt_sigframe { pretcode; struct ucontext uc;
   struct siginfo info; } with the FXSAVE area below it ---- */

#define SA_RESTORER_X86 0x04000000u
#define F_UC 8          /* the ucontext */
#define UC_STACK 16
#define UC_MCONTEXT 40  /* struct sigcontext_64 */
#define UC_SIGMASK 296
#define F_INFO 312
#define F_SIZE 440
/* sigcontext_64: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip,
   eflags, cs/gs/fs/ss, err, trapno, oldmask, cr2, fpstate */
static const uint8_t sc_regs[16] = {
    8, 9, 10, 11, 12, 13, 14, 15, R_EDI, R_ESI, R_EBP, R_EBX, R_EDX, R_EAX,
    R_ECX, R_ESP,
};
#define SC_RIP 128
#define SC_EFLAGS 136
#define SC_CS 144
#define SC_ERR 152
#define SC_TRAPNO 160
#define SC_OLDMASK 168
#define SC_CR2 176
#define SC_FPSTATE 184
#define FIX_EFLAGS64 (F_ARITH | F_TF | F_DF | F_RF | F_AC)

static bool x86_64_signal_enter(UserThread *t, int gsig,
                                const UserSigaction *sa,
                                const siginfo_t *info, uint64_t oldmask)
{
    UserProc *p = t->proc;
    UserX86Cpu *c = XCPU(t);
    X86Cpu *x = c->u->x;
    uint64_t sp = x->regs[R_ESP] - 128; /* the red zone */
    if ((sa->flags & p->arch->sa_onstack) && t->altstack_size &&
        !(x->regs[R_ESP] > t->altstack_sp &&
          x->regs[R_ESP] <= t->altstack_sp + t->altstack_size)) {
        sp = t->altstack_sp + t->altstack_size;
    }
    uint64_t fp = (sp - 512) & ~63ull;
    uint64_t f = ((fp - F_SIZE) & ~15ull) - 8;
    if (!(sa->flags & SA_RESTORER_X86) || !user_range_ok(p, f, fp + 512 - f)) {
        return false; /* x86-64 handlers need a restorer */
    }
    memset(g2h(p, f), 0, F_SIZE);
    /* the FXSAVE image: x87, MXCSR, XMM0-15 */
    uint8_t fx[512];
    x87_fxsave(&x->fpu, fx, 0xffff);
    memcpy(fx + 160, x->xmm, 256);
    memcpy(g2h(p, fp), fx, 512);
    user_put64(p, f, sa->restorer);
    uint64_t si = f + F_INFO;
    user_x86_put_siginfo(p, si, gsig, info);
    uint64_t uc = f + F_UC;
    user_put64(p, uc, 6); /* UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS */
    user_put64(p, uc + UC_STACK, t->altstack_sp);
    user_put32(p, uc + UC_STACK + 8, t->altstack_size ? 0 : 2);
    user_put64(p, uc + UC_STACK + 16, t->altstack_size);
    uint64_t sc = uc + UC_MCONTEXT;
    for (unsigned i = 0; i < 16; i++) {
        user_put64(p, sc + i * 8, x->regs[sc_regs[i]]);
    }
    user_put64(p, sc + SC_RIP, x->rip);
    /* a TF the debugger set is not the program's (Linux's
       TIF_FORCED_TF) */
    user_put64(p, sc + SC_EFLAGS,
               x86_get_eflags(x) & ~(t->gdb_step ? F_TF : 0u));
    user_put32(p, sc + SC_CS, x->seg[S_CS].sel);  /* cs, gs */
    user_put32(p, sc + SC_CS + 4, (uint32_t)x->seg[S_SS].sel << 16);
    user_put64(p, sc + SC_ERR, c->err);
    user_put64(p, sc + SC_TRAPNO, (uint64_t)c->trapno);
    user_put64(p, sc + SC_OLDMASK, oldmask);
    user_put64(p, sc + SC_CR2, x->cr2);
    user_put64(p, sc + SC_FPSTATE, fp);
    user_put64(p, uc + UC_SIGMASK, oldmask);
    x->regs[R_EDI] = (uint64_t)gsig;
    x->regs[R_ESI] = si;
    x->regs[R_EDX] = uc;
    x->regs[R_EAX] = 0;
    x->regs[R_ESP] = f;
    x->rip = sa->handler;
    x86_set_eflags(x, 0, F_TF | F_DF | F_RF);
    x->lf_op = LF_NONE;
    x87_finit(&x->fpu);
    x->fpu.mxcsr = 0x1f80;
    return true;
}

static uint64_t x86_64_sigreturn(UserThread *t, bool rt)
{
    UserProc *p = t->proc;
    X86Cpu *x = XREGS(t);
    (void)rt;
    uint64_t f = x->regs[R_ESP] - 8;
    if (!user_range_ok(p, f, F_SIZE)) {
        user_signal_fault(t, SIGSEGV, 0x80, 0);
        return t->sigmask;
    }
    uint64_t sc = f + F_UC + UC_MCONTEXT;
    for (unsigned i = 0; i < 16; i++) {
        x->regs[sc_regs[i]] = user_get64(p, sc + i * 8);
    }
    x->rip = user_get64(p, sc + SC_RIP);
    x86_set_eflags(x, (uint32_t)user_get64(p, sc + SC_EFLAGS),
                   FIX_EFLAGS64);
    x->lf_op = LF_NONE;
    uint64_t fp = user_get64(p, sc + SC_FPSTATE);
    if (fp && user_range_ok(p, fp, 512)) {
        uint8_t fx[512];
        memcpy(fx, g2h(p, fp), 512);
        if (x87_fxrstor(&x->fpu, fx, 0xffff) != X87_GP) {
            memcpy(x->xmm, fx + 160, 256);
        }
    }
    return user_get64(p, f + F_UC + UC_SIGMASK);
}


/* ---- the GDB stub's view: GDB's amd64 registers (the target
   description below): rax rbx rcx rdx rsi rdi rbp rsp r8..r15 rip, then
   i386's eflags..fop, then xmm0..xmm15 and mxcsr ---- */

#define V(n) "<vector id=\"" n
static const char x86_64_gdb_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n"
    "<architecture>i386:x86-64</architecture>\n"
    "<feature name=\"org.gnu.gdb.i386.core\">\n"
    "<reg name=\"rax\" bitsize=\"64\" type=\"int64\" regnum=\"0\"/>\n"
    "<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
    "<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
    "<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>\n"
    USER_X86_GDB_XML_SEGS_X87
    "</feature>\n"
    "<feature name=\"org.gnu.gdb.i386.sse\">\n"
    V("v4f") "\" type=\"ieee_single\" count=\"4\"/>\n"
    V("v2d") "\" type=\"ieee_double\" count=\"2\"/>\n"
    V("v16i8") "\" type=\"int8\" count=\"16\"/>\n"
    V("v8i16") "\" type=\"int16\" count=\"8\"/>\n"
    V("v4i32") "\" type=\"int32\" count=\"4\"/>\n"
    V("v2i64") "\" type=\"int64\" count=\"2\"/>\n"
    "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
    "<field name=\"v2_double\" type=\"v2d\"/>"
    "<field name=\"v16_int8\" type=\"v16i8\"/>"
    "<field name=\"v8_int16\" type=\"v8i16\"/>"
    "<field name=\"v4_int32\" type=\"v4i32\"/>"
    "<field name=\"v2_int64\" type=\"v2i64\"/>"
    "<field name=\"uint128\" type=\"uint128\"/></union>\n"
    "<flags id=\"i386_mxcsr\" size=\"4\">"
    "<field name=\"IE\" start=\"0\" end=\"0\"/>"
    "<field name=\"DE\" start=\"1\" end=\"1\"/>"
    "<field name=\"ZE\" start=\"2\" end=\"2\"/>"
    "<field name=\"OE\" start=\"3\" end=\"3\"/>"
    "<field name=\"UE\" start=\"4\" end=\"4\"/>"
    "<field name=\"PE\" start=\"5\" end=\"5\"/>"
    "<field name=\"DAZ\" start=\"6\" end=\"6\"/>"
    "<field name=\"IM\" start=\"7\" end=\"7\"/>"
    "<field name=\"DM\" start=\"8\" end=\"8\"/>"
    "<field name=\"ZM\" start=\"9\" end=\"9\"/>"
    "<field name=\"OM\" start=\"10\" end=\"10\"/>"
    "<field name=\"UM\" start=\"11\" end=\"11\"/>"
    "<field name=\"PM\" start=\"12\" end=\"12\"/>"
    "<field name=\"FZ\" start=\"15\" end=\"15\"/></flags>\n"
    "<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"40\"/>\n"
    "<reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm8\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm9\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm10\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm11\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm12\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm13\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm14\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"mxcsr\" bitsize=\"32\" type=\"i386_mxcsr\" "
    "group=\"vector\"/>\n"
    "</feature>\n"
    "</target>\n";
#undef V

/* GDB's order of the first eight against the core's (eax ecx edx ebx
   esp ebp esi edi). */
static const uint8_t gdb_gpr[8] = { R_EAX, R_EBX, R_ECX, R_EDX, R_ESI,
                                    R_EDI, R_EBP, R_ESP };

static unsigned x86_64_gdb_get_reg(UserThread *t, unsigned n, uint8_t *buf)
{
    X86Cpu *x = XREGS(t);
    if (n < 17) {
        uint64_t v = n < 8 ? x->regs[gdb_gpr[n]] : n < 16 ? x->regs[n]
                                                        : x->rip;
        memcpy(buf, &v, 8);
        return 8;
    }
    if (n < 40) {
        return user_x86_gdb_get_reg(t, n - 8, buf); /* eflags..fop */
    }
    if (n < 56) {
        memcpy(buf, &x->xmm[n - 40], 16);
        return 16;
    }
    if (n == 56) {
        memcpy(buf, &x->fpu.mxcsr, 4);
        return 4;
    }
    return 0;
}

static unsigned x86_64_gdb_set_reg(UserThread *t, unsigned n,
                                   const uint8_t *buf)
{
    X86Cpu *x = XREGS(t);
    if (n < 17) {
        uint64_t v;
        memcpy(&v, buf, 8);
        if (n < 8) {
            x->regs[gdb_gpr[n]] = v;
        } else if (n < 16) {
            x->regs[n] = v;
        } else {
            x->rip = v;
        }
        return 8;
    }
    if (n < 40) {
        return user_x86_gdb_set_reg(t, n - 8, buf);
    }
    if (n < 56) {
        memcpy(&x->xmm[n - 40], buf, 16);
        return 16;
    }
    if (n == 56) {
        uint32_t v;
        memcpy(&v, buf, 4);
        x->fpu.mxcsr = v & 0xffff;
        return 4;
    }
    return 0;
}

/* ---- system calls ---- */

static int64_t arch_prctl(UserThread *t, uint64_t code, uint64_t addr)
{
    X86Cpu *x = XREGS(t);
    UserProc *p = t->proc;
    switch (code) {
    case 0x1001: /* ARCH_SET_GS */
    case 0x1002: /* ARCH_SET_FS */
        if (addr >= p->arch->addr_limit && addr >> 47) {
            return -EPERM;
        }
        x->seg[code == 0x1002 ? S_FS : S_GS].base = addr;
        return 0;
    case 0x1003: /* ARCH_GET_FS */
    case 0x1004: /* ARCH_GET_GS */
        if (!user_range_ok(p, addr, 8) || !user_addr_mapped(p, addr)) {
            return -EFAULT;
        }
        user_put64(p, addr, x->seg[code == 0x1003 ? S_FS : S_GS].base);
        return 0;
    default:
        return -EINVAL;
    }
}

static void x86_64_syscall(UserThread *t)
{
    X86Cpu *x = XREGS(t);
    uint64_t nr = x->regs[R_EAX];
    static const int argreg[6] = { R_EDI, R_ESI, R_EDX, 10, 8, 9 };
    uint64_t a[8] = { 0 };
    for (int i = 0; i < 6; i++) {
        a[i] = x->regs[argreg[i]];
    }
    int64_t r = nr == 158 ? arch_prctl(t, a[0], a[1]) : user_syscall(t, nr, a);
    if (r == USER_NORETURN) {
        return;
    }
    x->regs[R_EAX] = (uint64_t)r;
    /* as arch_i386.c: code the host or a mapping change may have
       replaced */
    if (r > 0 && (nr == 0 || nr == 17)) {
        x86_user_written(XCPU(t)->u, a[1], (uint64_t)r);
    }
    if (r >= 0 && (nr == 11 || nr == 10 || nr == 25)) {
        x86_user_code_written_all(a[0], a[1]);
    }
    if (r >= 0 && (nr == 9 || nr == 25)) {
        x86_user_code_written_all((uint64_t)r, nr == 9 ? a[1] : a[2]);
    }
}

/* The vDSO's code (Linux's vdso64 names, as glibc looks them up): each
   function makes its system call (no data page: the time comes from
   the host, a SYSCALL away). */
#define VDSO_SYSCALL(nr) 0xb8, (nr) & 0xff, (nr) >> 8, 0, 0, 0x0f, 0x05, 0xc3
static const uint8_t x86_64_vdso_code[] = {
    VDSO_SYSCALL(228), /* clock_gettime */
    VDSO_SYSCALL(96),  /* gettimeofday */
    VDSO_SYSCALL(201), /* time */
    VDSO_SYSCALL(309), /* getcpu */
    VDSO_SYSCALL(229), /* clock_getres */
};
static const UserVdsoSym x86_64_vdso_syms[] = {
    { "__vdso_clock_gettime", 0 }, { "__vdso_gettimeofday", 8 },
    { "__vdso_time", 16 }, { "__vdso_getcpu", 24 },
    { "__vdso_clock_getres", 32 },
};

static int x86_64_cpu_loop(UserThread *t)
{
    return user_x86_cpu_loop(t, X86U_SYSCALL, x86_64_syscall);
}

const UserArch user_arch_x86_64 = {
    .name = "x86_64", .e_machine = 62, .is64 = true,
    .clone_ctid_first = true, .big_endian = false,
    .platform = "x86_64", .default_cpu = "qemu64",
    /* the guest window: below 4 GiB up to the 2 MiB page of the system
       area (src/arch/x86/user.c; the loader, stack and mmap choose
       their addresses below 3 GiB first) */
    .addr_limit = 0xffe00000ull, .stack_top = 0xbfff0000ull,
    .mmap_top = 0xb7000000ull, .elf_base = 0x7f000000ull,
    .page_size = 4096, .syscall_base = 0,
    .syscalls = x86_64_syscalls,
    .n_syscalls = G_N_ELEMENTS(x86_64_syscalls),
    .mmap_flags = x86_64_mmap_flags, .stat_kind = 2,
    .cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\n"
               "cpu family\t: 15\nmodel\t\t: 107\n"
               "model name\t: QEMU Virtual CPU version 2.5+\n"
               "flags\t\t: fpu de pse tsc msr pae mce cx8 apic sep mtrr pge "
               "mca cmov pat pse36 clflush mmx fxsr sse sse2 syscall nx lm "
               "pni\n\n",
    .cpu_init = x86_64_cpu_init, .cpu_list = x86_64_cpu_list,
    .cpu_start = x86_64_cpu_start, .cpu_loop = x86_64_cpu_loop,
    .cpu_clone = x86_64_cpu_clone, .set_tls = x86_64_set_tls,
    .cpu_copy = user_x86_cpu_copy, .cpu_free = user_x86_cpu_free,
    .cpu_exit_request = user_x86_exit_request,
    .cpu_host_fault = user_x86_host_fault,
    .code_written = user_x86_code_written,
    .signal_enter = x86_64_signal_enter, .sigreturn = x86_64_sigreturn,
    .gdb_xml = x86_64_gdb_xml, .gdb_nregs = 57,
    .gdb_get_reg = x86_64_gdb_get_reg, .gdb_set_reg = x86_64_gdb_set_reg,
    .get_pc = user_x86_get_pc, .set_pc = user_x86_set_pc,
    .gdb_step = user_x86_gdb_step,
    .gdb_bp_insn = 0xcc, .gdb_bp_len = 1, .gdb_bp_back = 1,
    .sa_siginfo = 0x4, .sa_onstack = 0x08000000, .sa_restart = 0x10000000,
    .sa_nodefer = 0x40000000, .sa_resethand = 0x80000000u,
    .sigaction_get = x86_64_sigaction_get,
    .sigaction_put = x86_64_sigaction_put,
    .vdso_code = x86_64_vdso_code, .vdso_code_len = sizeof(x86_64_vdso_code),
    .vdso_syms = x86_64_vdso_syms,
    .vdso_nsyms = G_N_ELEMENTS(x86_64_vdso_syms),
    .vdso_sysinfo = -1, .vdso_addr = 0xbfffe000ull,
};
