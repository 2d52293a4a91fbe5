/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signals, processes and threads of user mode.
 *
 * A guest handler is a host handler that only records the signal (and
 * its siginfo) and asks the CPU to stop; the CPU loop then calls
 * user_signal_check(), which builds the architecture's signal frame and
 * enters the guest handler.  SIG_IGN and SIG_DFL are the host's own, so
 * exec'd children and the parent's wait status see what the kernel would
 * show.  Guest faults (SIGSEGV from an unmapped page, SIGILL, SIGFPE,
 * SIGBUS, SIGTRAP from the CPU) go through user_signal_fault().  The
 * guest's blocked set is the host thread's mask, except for the fault
 * signals, which the emulator itself must always receive.
 *
 * fork is the host's fork (the whole emulator forks); clone with CLONE_VM
 * is one host thread per guest thread; futexes work on guest memory in
 * place.  Reference: signal(7), clone(2), futex(2).
 */
#include "user/user.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/futex.h>

#include "bus/log.h"

/* Pending signals of the process (host numbering), with their info. */
static volatile sig_atomic_t pending[65];
static siginfo_t pending_info[65];
static GMutex thread_lock;
static int nthreads = 1;

static bool is_fault_sig(int hs)
{
    return hs == SIGSEGV || hs == SIGBUS || hs == SIGILL || hs == SIGFPE ||
           hs == SIGTRAP;
}

static uint64_t host_mask_to_guest(const UserArch *a, const sigset_t *set)
{
    uint64_t m = 0;
    for (int hs = 1; hs <= 64; hs++) {
        if (sigismember(set, hs) == 1) {
            int gs = user_sig_to_guest(a, hs);
            if (gs >= 1 && gs <= 64) {
                m |= 1ull << (gs - 1);
            }
        }
    }
    return m;
}

static void guest_mask_to_host(const UserArch *a, uint64_t m, sigset_t *set)
{
    sigemptyset(set);
    for (int gs = 1; gs <= 64; gs++) {
        if (m & (1ull << (gs - 1))) {
            int hs = user_sig_to_host(a, gs);
            /* glibc's own signals (32, 33) stay free for the host */
            if (hs >= 1 && hs <= 64 && !is_fault_sig(hs) && hs != SIGKILL &&
                hs != SIGSTOP && hs != 32 && hs != 33) {
                sigaddset(set, hs);
            }
        }
    }
}

static void apply_mask(UserThread *t)
{
    sigset_t set;
    guest_mask_to_host(t->proc->arch, t->sigmask, &set);
    pthread_sigmask(SIG_SETMASK, &set, NULL);
}

static void host_handler(int hs, siginfo_t *info, void *uc)
{
    if (hs < 1 || hs > 64) {
        return;
    }
    pending_info[hs] = *info;
    pending[hs] = 1;
    if (user_self) {
        user_self->pending_signal = 1;
        user_self->proc->arch->cpu_exit_request(user_self);
    } else if (user_the_proc && user_the_proc->main) {
        user_the_proc->main->pending_signal = 1;
        user_the_proc->arch->cpu_exit_request(user_the_proc->main);
    }
}

void user_signal_sent(int hs, siginfo_t *info, void *uc)
{
    host_handler(hs, info, uc);
}

static const int default_ignored[] = { SIGCHLD, SIGWINCH, SIGURG, SIGCONT };

static bool ignored_by_default(int hs)
{
    for (size_t i = 0; i < G_N_ELEMENTS(default_ignored); i++) {
        if (default_ignored[i] == hs) {
            return true;
        }
    }
    return false;
}

G_NORETURN static void die_by(int hs)
{
    user_gdb_exit(0, hs);
    struct sigaction sa = { 0 };
    sa.sa_handler = SIG_DFL;
    sigaction(hs, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, hs);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    fflush(stdout);
    raise(hs);
    /* A signal that does not kill by default (a stop signal...). */
    _exit(128 + hs);
}

/* Enter the guest's handler for host signal hs, or do the default. */
static void deliver(UserThread *t, int hs, const siginfo_t *info)
{
    UserProc *p = t->proc;
    const UserArch *a = p->arch;
    int gs = user_sig_to_guest(a, hs);
    if (gs < 1 || gs > 64) {
        return;
    }
    g_mutex_lock(&p->sig_lock);
    UserSigaction sa = p->sigact[gs];
    if (sa.handler > 1 && (sa.flags & a->sa_resethand)) {
        p->sigact[gs].handler = 0;
    }
    g_mutex_unlock(&p->sig_lock);
    if (sa.handler == 1) {
        return; /* SIG_IGN */
    }
    if (sa.handler == 0) {
        if (ignored_by_default(hs)) {
            return;
        }
        die_by(hs);
    }
    uint64_t old = t->restore_mask ? t->saved_mask : t->sigmask;
    t->restore_mask = false;
    if (!a->signal_enter(t, gs, &sa, info, old)) {
        die_by(SIGSEGV);
    }
    if (t->gdb_step) {
        /* -g: a step into a handler stops at its first instruction, as
           Linux's ptrace does */
        user_gdb_stepped(t);
    }
    t->sigmask |= sa.mask;
    if (!(sa.flags & a->sa_nodefer)) {
        t->sigmask |= 1ull << (gs - 1);
    }
    apply_mask(t);
}

/* After rt_sigsuspend: the mask before it comes back (deliver() puts it
   in the frame instead when a handler runs). */
static void restore_saved_mask(UserThread *t)
{
    if (t->restore_mask) {
        t->restore_mask = false;
        t->sigmask = t->saved_mask;
        apply_mask(t);
    }
}

void user_signal_check(UserThread *t)
{
    user_gdb_check(t);
    if (!t->pending_signal) {
        restore_saved_mask(t);
        return;
    }
    t->pending_signal = 0;
    for (int hs = 1; hs <= 64; hs++) {
        if (!pending[hs]) {
            continue;
        }
        int gs = user_sig_to_guest(t->proc->arch, hs);
        if (gs >= 1 && gs <= 64 && (t->sigmask & (1ull << (gs - 1)))) {
            continue; /* blocked: stays pending */
        }
        pending[hs] = 0;
        siginfo_t info = pending_info[hs];
        deliver(t, hs, &info);
    }
    restore_saved_mask(t);
}

void user_signal_fault(UserThread *t, int hs, int code, uint64_t addr)
{
    if (user_gdb_attached()) {
        /* the debugger sees it first: it may drop it or give another */
        int gsig = user_gdb_fault(t, hs);
        if (!gsig) {
            return;
        }
        if (gsig != hs) {
            code = 0; /* SI_USER */
            addr = 0;
        }
        hs = gsig;
    }
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    info.si_signo = hs;
    info.si_code = code;
    info.si_addr = (void *)(uintptr_t)addr;
    int gs = user_sig_to_guest(t->proc->arch, hs);
    /* A blocked or ignored fault signal kills, as the kernel does. */
    if ((t->sigmask & (1ull << (gs - 1))) ||
        t->proc->sigact[gs].handler == 1) {
        die_by(hs);
    }
    deliver(t, hs, &info);
}

void user_signals_init(UserProc *p)
{
    g_mutex_init(&p->sig_lock);
    /* Inherited dispositions: an ignored signal stays ignored. */
    for (int hs = 1; hs <= 64; hs++) {
        struct sigaction old;
        if (sigaction(hs, NULL, &old) == 0 && old.sa_handler == SIG_IGN) {
            int gs = user_sig_to_guest(p->arch, hs);
            if (gs >= 1 && gs <= 64) {
                p->sigact[gs].handler = 1;
            }
        }
    }
    sigset_t cur;
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    if (p->main) {
        p->main->sigmask = host_mask_to_guest(p->arch, &cur);
    }
}

static int64_t do_sigaction(UserThread *t, uint64_t gsig, uint64_t gact,
                            uint64_t gold)
{
    UserProc *p = t->proc;
    const UserArch *a = p->arch;
    if (gsig < 1 || gsig > 64) {
        return -EINVAL;
    }
    int hs = user_sig_to_host(a, (int)gsig);
    if (gold) {
        if (!user_range_ok(p, gold, 32)) {
            return -EFAULT;
        }
        g_mutex_lock(&p->sig_lock);
        UserSigaction old = p->sigact[gsig];
        g_mutex_unlock(&p->sig_lock);
        a->sigaction_put(p, gold, &old);
    }
    if (!gact) {
        return 0;
    }
    if (hs == SIGKILL || hs == SIGSTOP) {
        return -EINVAL;
    }
    if (!user_range_ok(p, gact, 32)) {
        return -EFAULT;
    }
    UserSigaction sa;
    a->sigaction_get(p, gact, &sa);
    g_mutex_lock(&p->sig_lock);
    p->sigact[gsig] = sa;
    g_mutex_unlock(&p->sig_lock);
    if (hs < 1 || hs > 64 || hs == 32 || hs == 33) {
        return 0;
    }
    if (is_fault_sig(hs)) {
        return 0; /* the CPU loop's own handlers stay */
    }
    struct sigaction h = { 0 };
    if (sa.handler == 0) {
        h.sa_handler = SIG_DFL;
    } else if (sa.handler == 1) {
        h.sa_handler = SIG_IGN;
    } else {
        h.sa_sigaction = host_handler;
        h.sa_flags = SA_SIGINFO |
                     ((sa.flags & a->sa_restart) ? SA_RESTART : 0);
        sigfillset(&h.sa_mask);
    }
    sigaction(hs, &h, NULL);
    return 0;
}

static int64_t do_sigprocmask(UserThread *t, uint64_t how, uint64_t gset,
                              uint64_t gold, uint64_t size)
{
    UserProc *p = t->proc;
    if (gold) {
        if (!user_range_ok(p, gold, 8)) {
            return -EFAULT;
        }
        if (p->arch->is64) {
            user_put64(p, gold, t->sigmask);
        } else {
            user_put32(p, gold, (uint32_t)t->sigmask);
            user_put32(p, gold + 4, (uint32_t)(t->sigmask >> 32));
        }
    }
    if (!gset) {
        return 0;
    }
    if (!user_range_ok(p, gset, 8)) {
        return -EFAULT;
    }
    uint64_t m = p->arch->is64
                     ? user_get64(p, gset)
                     : (user_get32(p, gset) |
                        (uint64_t)user_get32(p, gset + 4) << 32);
    switch (how) {
    case 0: /* SIG_BLOCK (1 on MIPS: see the arch's remap below) */
        t->sigmask |= m;
        break;
    case 1:
        t->sigmask &= ~m;
        break;
    case 2:
        t->sigmask = m;
        break;
    default:
        return -EINVAL;
    }
    apply_mask(t);
    return 0;
}

G_NORETURN void user_exit_group(UserProc *p, int status)
{
    (void)p;
    user_gdb_exit(status, 0);
    fflush(stdout);
    fflush(stderr);
    _exit(status & 0xff);
}

/* ---- threads ---- */

typedef struct CloneStart {
    UserThread *child;
    uint64_t flags, ptid, ctid;
    GMutex lock;
    GCond cond;
    bool started;
} CloneStart;

static void *thread_main(void *opaque)
{
    CloneStart *cs = opaque;
    UserThread *t = cs->child;
    UserProc *p = t->proc;
    user_self = t;
    t->tid = gettid();
    if (cs->flags & CLONE_CHILD_SETTID) {
        user_put32(p, cs->ctid, (uint32_t)t->tid);
    }
    if (cs->flags & CLONE_PARENT_SETTID) {
        user_put32(p, cs->ptid, (uint32_t)t->tid);
    }
    g_mutex_lock(&cs->lock);
    cs->started = true;
    g_cond_signal(&cs->cond);
    g_mutex_unlock(&cs->lock);
    apply_mask(t);
    if (user_gdb_attached()) {
        user_gdb_thread_add(t);
        user_gdb_check(t); /* born while GDB has the others stopped */
    }
    p->arch->cpu_loop(t);
    return NULL;
}

static int64_t do_clone(UserThread *t, uint64_t flags, uint64_t sp,
                        uint64_t ptid, uint64_t tls, uint64_t ctid)
{
    UserProc *p = t->proc;
    if (!(flags & CLONE_VM) || (flags & CLONE_VFORK)) {
        /* fork or vfork: the whole emulator forks */
        pid_t pid = fork();
        if (pid < 0) {
            return -errno;
        }
        if (pid == 0) {
            if (flags & CLONE_CHILD_SETTID && ctid) {
                user_put32(p, ctid, (uint32_t)getpid());
            }
            if (flags & CLONE_CHILD_CLEARTID) {
                t->clear_child_tid = ctid;
            }
            if (sp) {
                p->arch->cpu_clone(t, t, sp, false, 0);
            }
            if (flags & CLONE_SETTLS) {
                p->arch->set_tls(t, tls);
            }
            return 0;
        }
        if ((flags & CLONE_PARENT_SETTID) && ptid) {
            user_put32(p, ptid, (uint32_t)pid);
        }
        return pid;
    }
    if (!(flags & CLONE_THREAD)) {
        return -EINVAL;
    }
    UserThread *c = g_new0(UserThread, 1);
    c->proc = p;
    c->sigmask = t->sigmask;
    c->cpu = p->arch->cpu_copy(t);
    p->arch->cpu_clone(c, t, sp, (flags & CLONE_SETTLS) != 0, tls);
    if (flags & CLONE_CHILD_CLEARTID) {
        c->clear_child_tid = ctid;
    }
    CloneStart cs = { c, flags, ptid, ctid };
    g_mutex_init(&cs.lock);
    g_cond_init(&cs.cond);
    g_mutex_lock(&thread_lock);
    nthreads++;
    g_mutex_unlock(&thread_lock);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1 << 20);
    /* The child starts with every signal blocked until it is set up. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&c->host, &attr, thread_main, &cs);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (e) {
        g_mutex_lock(&thread_lock);
        nthreads--;
        g_mutex_unlock(&thread_lock);
        return -e;
    }
    g_mutex_lock(&cs.lock);
    while (!cs.started) {
        g_cond_wait(&cs.cond, &cs.lock);
    }
    g_mutex_unlock(&cs.lock);
    int tid = c->tid;
    g_mutex_clear(&cs.lock);
    g_cond_clear(&cs.cond);
    return tid;
}

static void thread_exit(UserThread *t, int status)
{
    UserProc *p = t->proc;
    user_gdb_thread_remove(t);
    g_mutex_lock(&thread_lock);
    int left = --nthreads;
    g_mutex_unlock(&thread_lock);
    if (left == 0) {
        user_exit_group(p, status);
    }
    if (t->clear_child_tid && user_range_ok(p, t->clear_child_tid, 4)) {
        user_put32(p, t->clear_child_tid, 0);
        syscall(SYS_futex, g2h(p, t->clear_child_tid), FUTEX_WAKE, 1, NULL,
                NULL, 0);
    }
    if (p->arch->cpu_free) {
        /* no handler of this thread may look at the CPU any more */
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, NULL);
        void *cpu = t->cpu;
        t->cpu = NULL;
        p->arch->cpu_free(cpu);
    }
    pthread_exit(NULL);
}

static int64_t do_futex(UserThread *t, const uint64_t *a, bool t64)
{
    UserProc *p = t->proc;
    int op = (int)a[1];
    int cmd = op & FUTEX_CMD_MASK;
    if (!user_range_ok(p, a[0], 4)) {
        return -EFAULT;
    }
    uint32_t val = (uint32_t)a[2];
    struct timespec ts, *pts = NULL;
    switch (cmd) {
    case FUTEX_WAIT: case FUTEX_WAIT_BITSET: case FUTEX_LOCK_PI:
    case FUTEX_WAIT_REQUEUE_PI:
        val = ug32(p, val); /* compared with memory in guest order */
        if (a[3]) {
            if (p->arch->is64 || t64) {
                ts.tv_sec = (time_t)user_get64(p, a[3]);
                ts.tv_nsec = (long)user_get64(p, a[3] + 8);
            } else {
                ts.tv_sec = (int32_t)user_get32(p, a[3]);
                ts.tv_nsec = (int32_t)user_get32(p, a[3] + 4);
            }
            pts = &ts;
        }
        break;
    case FUTEX_CMP_REQUEUE:
        break;
    default:
        break;
    }
    void *uaddr2 = NULL;
    if (cmd == FUTEX_REQUEUE || cmd == FUTEX_CMP_REQUEUE ||
        cmd == FUTEX_WAKE_OP) {
        if (!user_range_ok(p, a[4], 4)) {
            return -EFAULT;
        }
        uaddr2 = g2h(p, a[4]);
        /* val2 (the count) travels in the timeout slot */
        pts = (struct timespec *)(uintptr_t)(uint32_t)a[3];
    }
    uint32_t val3 = (uint32_t)a[5];
    if (cmd == FUTEX_CMP_REQUEUE) {
        val3 = ug32(p, val3);
    }
    long r = syscall(SYS_futex, g2h(p, a[0]), op, val, pts, uaddr2, val3);
    return r < 0 ? -errno : r;
}

int64_t user_sys_signal(UserThread *t, UserSys sys, const uint64_t a[8])
{
    UserProc *p = t->proc;
    const UserArch *arch = p->arch;
    switch (sys) {
    case US_rt_sigaction:
        return do_sigaction(t, a[0], a[1], a[2]);
    case US_rt_sigprocmask: {
        uint64_t how = a[0];
        if (arch->e_machine == 8) {
            /* MIPS: SIG_BLOCK 1, SIG_UNBLOCK 2, SIG_SETMASK 3 */
            how = how - 1;
        }
        return do_sigprocmask(t, how, a[1], a[2], a[3]);
    }
    case US_rt_sigreturn: case US_sigreturn: {
        t->sigmask = arch->sigreturn(t, sys == US_rt_sigreturn);
        apply_mask(t);
        t->pending_signal = 1;
        return USER_NORETURN;
    }
    case US_rt_sigpending: {
        sigset_t set;
        sigpending(&set);
        uint64_t m = host_mask_to_guest(arch, &set);
        for (int hs = 1; hs <= 64; hs++) {
            if (pending[hs]) {
                int gs = user_sig_to_guest(arch, hs);
                m |= 1ull << (gs - 1);
            }
        }
        if (!user_range_ok(p, a[0], 8)) {
            return -EFAULT;
        }
        user_put32(p, a[0], (uint32_t)m);
        user_put32(p, a[0] + 4, (uint32_t)(m >> 32));
        return 0;
    }
    case US_rt_sigsuspend: {
        if (!user_range_ok(p, a[0], 8)) {
            return -EFAULT;
        }
        uint64_t m = arch->is64 ? user_get64(p, a[0])
                                : (user_get32(p, a[0]) |
                                   (uint64_t)user_get32(p, a[0] + 4) << 32);
        uint64_t old = t->sigmask;
        sigset_t set;
        guest_mask_to_host(arch, m, &set);
        sigsuspend(&set);
        /* The CPU loop delivers the signal after -EINTR is in the
           registers: the handler runs with the suspend mask, its frame
           saves the old one (the kernel's saved_sigmask). */
        t->sigmask = m;
        t->saved_mask = old;
        t->restore_mask = true;
        return -EINTR;
    }
    case US_sigaltstack: {
        unsigned w = arch->is64 ? 8 : 4;
        if (a[1]) {
            if (!user_range_ok(p, a[1], 3 * w)) {
                return -EFAULT;
            }
            /* MIPS stack_t: ss_sp, ss_size, ss_flags */
            user_put_ulong(p, a[1], t->altstack_sp);
            user_put_ulong(p, a[1] + w, t->altstack_size);
            user_put32(p, a[1] + 2 * w, t->altstack_size ? 0 : 2);
        }
        if (a[0]) {
            if (!user_range_ok(p, a[0], 3 * w)) {
                return -EFAULT;
            }
            uint32_t fl = user_get32(p, a[0] + 2 * w);
            if (fl & 2) {
                t->altstack_sp = t->altstack_size = 0;
            } else {
                t->altstack_sp = user_get_ulong(p, a[0]);
                t->altstack_size = user_get_ulong(p, a[0] + w);
            }
        }
        return 0;
    }
    case US_kill: case US_tkill: case US_tgkill: {
        int gs = (int)(sys == US_tgkill ? a[2] : a[1]);
        int hs = gs ? user_sig_to_host(arch, gs) : 0;
        long r;
        if (sys == US_kill) {
            r = kill((pid_t)(int32_t)a[0], hs);
        } else if (sys == US_tkill) {
            r = syscall(SYS_tkill, (pid_t)a[0], hs);
        } else {
            r = syscall(SYS_tgkill, (pid_t)a[0], (pid_t)a[1], hs);
        }
        if (r < 0) {
            return -errno;
        }
        /* A signal to ourselves is seen before the next instruction: the
           CPU loop delivers it once the result is in the registers (a
           frame built here would save the registers without it). */
        return 0;
    }
    case US_alarm:
        return alarm((unsigned)a[0]);
    case US_pause:
        pause();
        return -EINTR;
    case US_setitimer: case US_getitimer: {
        unsigned w = arch->is64 ? 8 : 4;
        struct itimerval nv, ov;
        if (sys == US_setitimer && a[1]) {
            if (!user_range_ok(p, a[1], 4 * w)) {
                return -EFAULT;
            }
            nv.it_interval.tv_sec = (time_t)user_get_ulong(p, a[1]);
            nv.it_interval.tv_usec = (long)user_get_ulong(p, a[1] + w);
            nv.it_value.tv_sec = (time_t)user_get_ulong(p, a[1] + 2 * w);
            nv.it_value.tv_usec = (long)user_get_ulong(p, a[1] + 3 * w);
        }
        int r = sys == US_setitimer
                    ? setitimer((int)a[0], &nv, &ov)
                    : getitimer((int)a[0], &ov);
        if (r < 0) {
            return -errno;
        }
        uint64_t g = sys == US_setitimer ? a[2] : a[1];
        if (g && user_range_ok(p, g, 4 * w)) {
            user_put_ulong(p, g, (uint64_t)ov.it_interval.tv_sec);
            user_put_ulong(p, g + w, (uint64_t)ov.it_interval.tv_usec);
            user_put_ulong(p, g + 2 * w, (uint64_t)ov.it_value.tv_sec);
            user_put_ulong(p, g + 3 * w, (uint64_t)ov.it_value.tv_usec);
        }
        return 0;
    }
    default:
        return USER_NOT_MINE;
    }
}

int64_t user_sys_thread(UserThread *t, UserSys sys, const uint64_t a[8])
{
    UserProc *p = t->proc;
    switch (sys) {
    case US_exit:
        thread_exit(t, (int)a[0]);
        return 0;
    case US_exit_group:
        user_exit_group(p, (int)a[0]);
    case US_fork:
        return do_clone(t, SIGCHLD, 0, 0, 0, 0);
    case US_vfork:
        return do_clone(t, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
    case US_clone:
        /* MIPS and i386: flags, stack, parent tid, tls, child tid;
           x86-64: flags, stack, parent tid, child tid, tls */
        if (t->proc->arch->clone_ctid_first) {
            return do_clone(t, a[0], a[1], a[2], a[4], a[3]);
        }
        return do_clone(t, a[0], a[1], a[2], a[3], a[4]);
    case US_clone3:
        return -ENOSYS;
    case US_set_thread_area:
        p->arch->set_tls(t, a[0]);
        return 0;
    case US_futex: case US_futex_time64:
        return do_futex(t, a, sys == US_futex_time64);
    default:
        return USER_NOT_MINE;
    }
}
