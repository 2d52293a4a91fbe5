/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Linux user-mode layer: runs one Linux program built for another CPU
 * as a host process.  Architecture-neutral: the ELF loader, the guest
 * address space (guest pages mapped into one host reservation at
 * guest_base), the system calls on generic numbers, errno and flag
 * translation; each guest architecture supplies a UserArch table (its
 * syscall numbers, errno values, signal numbers, ELF machine, and the CPU
 * loop that turns its syscall instruction into user_syscall()).
 *
 * Reference: the Linux kernel's per-architecture ABI headers (syscall
 * tables, asm/errno.h, asm/signal.h, asm/stat.h, asm/fcntl.h,
 * asm/mman.h); the System V ABI (ELF, the initial process stack and
 * auxiliary vector) and its MIPS and i386 processor supplements.
 */
#ifndef MIMIC_USER_H
#define MIMIC_USER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <glib.h>

/* Generic system call numbers: the per-arch tables map onto these. */
typedef enum {
    US_none = 0,
#define USER_SYSCALL(name) US_##name,
#include "user/syscalls.def"
#undef USER_SYSCALL
    US_count
} UserSys;

typedef struct UserProc UserProc;
typedef struct UserThread UserThread;

typedef struct UserSysEntry {
    uint16_t nr;
    uint16_t sys; /* UserSys */
} UserSysEntry;

/* A host value and its guest counterpart (flags, errno, signals). */
typedef struct UserMapEntry {
    int host;
    int guest;
} UserMapEntry;

/* A guest sigaction, decoded. */
typedef struct UserSigaction {
    uint64_t handler;
    uint64_t flags; /* guest SA_* values */
    uint64_t restorer;
    uint64_t mask;  /* guest signals 1..64, bit n-1 */
} UserSigaction;

/* A symbol of the vDSO: its offset into the vDSO's code. */
typedef struct UserVdsoSym {
    const char *name;
    uint16_t off;
} UserVdsoSym;

typedef struct UserArch {
    const char *name;     /* "mipsel" */
    uint16_t e_machine;   /* EM_MIPS */
    bool is64;            /* ELFCLASS64, 64-bit longs and pointers */
    bool clone_ctid_first; /* clone(flags, sp, ptid, ctid, tls): x86-64's
                              order; else flags, sp, ptid, tls, ctid */
    bool big_endian;
    const char *platform; /* AT_PLATFORM */
    const char *default_cpu;
    uint64_t hwcap;
    uint64_t addr_limit; /* guest addresses stay below */
    uint64_t stack_top;
    uint64_t mmap_top;   /* mmap searches down from here */
    uint64_t elf_base;   /* where an ET_DYN program (the interpreter) goes */
    unsigned page_size;  /* the guest's page size */
    unsigned syscall_base; /* 4000 for o32, 5000 for n64, 0 for i386 */
    const UserSysEntry *syscalls;
    size_t n_syscalls;
    const UserMapEntry *errnos;   /* only values that differ */
    const UserMapEntry *signals;  /* only values that differ */
    const UserMapEntry *open_flags;
    const UserMapEntry *mmap_flags;
    /* Per-arch struct layouts: 0 MIPS's stat/stat64, 1 i386's stat64,
       2 x86-64's stat. */
    unsigned stat_kind;
    const char *cpuinfo; /* /proc/cpuinfo text */
    /* Check the ELF header flags (ABI, ISA level); NULL accepts all. */
    bool (*elf_ok)(uint32_t e_flags, const char **why);
    /* Create the CPU of the main thread (model NULL: default). */
    bool (*cpu_init)(UserThread *t, const char *model, GError **error);
    void (*cpu_list)(GString *out);
    /* Registers at the entry point. */
    void (*cpu_start)(UserThread *t, uint64_t pc, uint64_t sp);
    /* Run the thread until it exits; returns the exit status. */
    int (*cpu_loop)(UserThread *t);
    /* clone: a copy of parent's registers for the child (new stack, TLS
       and a zero return). */
    void (*cpu_clone)(UserThread *child, UserThread *parent, uint64_t sp,
                      bool set_tls, uint64_t tls);
    void (*set_tls)(UserThread *t, uint64_t tls);
    /* A new CPU state for a thread (a copy of parent's). */
    void *(*cpu_copy)(UserThread *parent);
    /* Free a CPU state of cpu_copy when its thread exits (NULL: kept). */
    void (*cpu_free)(void *cpu);
    /* Any thread/signal handler: make cpu_loop look at signals soon. */
    void (*cpu_exit_request)(UserThread *t);
    /* From the host fault handler, while t runs guest code: unwind to the
       CPU loop with the guest fault at addr (never returns). */
    void (*cpu_host_fault)(UserThread *t, int host_sig, uint64_t addr,
                           bool write);
    /* Build the signal frame and enter the handler; returns false if the
       frame cannot be written (the caller kills with SIGSEGV). */
    /* Guest SA_* bits. */
    uint32_t sa_siginfo, sa_onstack, sa_restart, sa_nodefer, sa_resethand;
    /* sigaction in guest memory <-> decoded. */
    void (*sigaction_get)(UserProc *p, uint64_t g, UserSigaction *sa);
    void (*sigaction_put)(UserProc *p, uint64_t g, const UserSigaction *sa);
    /* Build the signal frame (info: the host siginfo) and enter the
       handler; false if the frame cannot be written. */
    bool (*signal_enter)(UserThread *t, int gsig, const UserSigaction *sa,
                         const siginfo_t *info, uint64_t oldmask);
    /* rt_sigreturn/sigreturn: restore the registers; returns the saved
       mask. */
    uint64_t (*sigreturn)(UserThread *t, bool rt);

    /* Translated code (NULL for an interpreter): [addr, addr+len) was
       written; every thread's translations of it must go (gdbstub.c,
       the code pages of mem.c). */
    void (*code_written)(UserProc *p, uint64_t addr, uint64_t len);

    /* The GDB remote stub (gdbstub.c): registers in GDB's numbering, in
       the guest's byte order; get/set return the register's size in
       bytes, 0 for no such register. */
    const char *gdb_xml; /* target description, NULL for GDB's default */
    unsigned gdb_nregs;  /* in the 'g' packet */
    unsigned (*gdb_get_reg)(UserThread *t, unsigned n, uint8_t *buf);
    unsigned (*gdb_set_reg)(UserThread *t, unsigned n, const uint8_t *buf);
    uint64_t (*get_pc)(UserThread *t);
    void (*set_pc)(UserThread *t, uint64_t pc);
    /* Single step: NULL if the CPU loop runs one instruction while
       t->gdb_step is set and then calls user_gdb_stepped(). */
    void (*gdb_step)(UserThread *t, bool on);
    /* The breakpoint instruction (a value of gdb_bp_len bytes, stored in
       the guest's byte order) and how far past it the trap leaves the pc
       (i386's INT3: 1). */
    uint32_t gdb_bp_insn;
    uint8_t gdb_bp_len, gdb_bp_back;

    /* The vDSO (elf.c builds a one-page ELF shared object around the
       code; NULL: none): its exported symbols, which of them AT_SYSINFO
       names (-1: none), and its guest address (AT_SYSINFO_EHDR). */
    const uint8_t *vdso_code;
    uint16_t vdso_code_len;
    uint8_t vdso_nsyms;
    int8_t vdso_sysinfo;
    const UserVdsoSym *vdso_syms;
    uint64_t vdso_addr;
} UserArch;

/* A guest mapping (for munmap/mprotect bookkeeping and /proc/self/maps). */
typedef struct UserMap {
    uint64_t start, end;
    int prot;
    char *name; /* file path, "[stack]", "[heap]", or NULL */
    uint64_t offset;
} UserMap;

#define USER_NSIG 128

struct UserProc {
    const UserArch *arch;
    uint8_t *guest_base;
    uint64_t reserve_size;
    GMutex mm_lock;
    GArray *maps; /* UserMap, sorted by start */
    uint64_t brk_start, brk_cur, brk_mapped;
    char *exe_path;   /* host path of the program (/proc/self/exe) */
    char *sysroot;    /* -L */
    char *cpu_model;
    bool strace;
    uint64_t entry, phdr, phnum, phent, interp_base;
    int fp_abi; /* MIPS .MIPS.abiflags fp_abi (0: any, 1: double...) */
    /* Signals: the guest's handlers, in the guest's struct layout. */
    GMutex sig_lock;
    UserSigaction sigact[65];
    uint8_t unimp_seen[1024];
    UserThread *main;
    /* Pages some thread translated code from that the guest may write:
       write-protected on the host until a write (mem.c). */
    GMutex code_lock;
    GHashTable *code_pages;
};

struct UserThread {
    UserProc *proc;
    void *cpu; /* the architecture's CPU state */
    pthread_t host;
    int tid;
    uint64_t clear_child_tid;
    uint64_t sigmask; /* guest numbering, bit n-1 for signal n */
    volatile int pending_signal;
    uint64_t altstack_sp, altstack_size;
    /* A second result register (MIPS pipe: v1). */
    int64_t ret2;
    bool has_ret2;
    bool in_cpu; /* running guest code: a host fault is a guest fault */
    /* In a system call: a host fault on guest memory is -EFAULT. */
    bool in_syscall;
    sigjmp_buf syscall_jmp;
    /* rt_sigsuspend: the mask to restore after the handler. */
    bool restore_mask;
    uint64_t saved_mask;
    /* -g: single-stepping this thread */
    bool gdb_step;
};

/* user_syscall's result when the call set the registers itself
   (sigreturn). */
#define USER_NORETURN INT64_MIN
/* user_sys_signal/user_sys_thread: not one of mine. */
#define USER_NOT_MINE (-ENOSYS - 10000)



/* ---- memory (mem.c) ---- */
bool user_mem_init(UserProc *p, GError **error);
static inline void *g2h(UserProc *p, uint64_t addr)
{
    return p->guest_base + addr;
}
/* Is [addr, addr+len) inside the guest window? */
bool user_range_ok(UserProc *p, uint64_t addr, uint64_t len);
/* mmap inside the window: addr 0 picks a free place; returns the guest
   address or -errno. */
int64_t user_mmap(UserProc *p, uint64_t addr, uint64_t len, int prot,
                  int host_flags, int fd, uint64_t off, const char *name);
int64_t user_munmap(UserProc *p, uint64_t addr, uint64_t len);
int64_t user_mprotect(UserProc *p, uint64_t addr, uint64_t len, int prot);
int64_t user_brk(UserProc *p, uint64_t addr);
int64_t user_mremap(UserProc *p, uint64_t old, uint64_t oldlen,
                    uint64_t newlen, int flags);
char *user_maps_text(UserProc *p);
/* Does a guest mapping cover addr? */
bool user_addr_mapped(UserProc *p, uint64_t addr);
/* The guest's protection of the page at addr, -1 if unmapped. */
int user_addr_prot(UserProc *p, uint64_t addr);
/* Code pages (for a translating CPU): a thread translated code from the
   page at addr; if the guest may write it, it is write-protected on the
   host so that a write from any thread reaches code_written. */
void user_code_page(UserProc *p, uint64_t addr);
/* The host fault handler: addr (guest) is on such a page: unprotect it,
   tell code_written; false if it is not one. */
bool user_code_fault(UserProc *p, uint64_t addr);
/* Before the host kernel writes [addr, addr+len) (read()): the same for
   each protected page there. */
void user_code_unprotect(UserProc *p, uint64_t addr, uint64_t len);
/* A debugger's write: also into read-only (text) pages; false if a page
   is not mapped. */
bool user_debug_write(UserProc *p, uint64_t addr, const void *buf,
                      size_t len);

/* ---- the GDB remote stub (gdbstub.c) ---- */
/* -g PORT: listen on the loopback port and wait for GDB to attach. */
bool user_gdb_listen(const char *port, GError **error);
/* Is a debugger attached? */
bool user_gdb_attached(void);
/* The first stop, before the program's first instruction. */
void user_gdb_start(UserThread *t);
/* All-stop: the threads GDB's stops stop (added when -g is on), and the
   check at each block boundary (user_signal_check). */
void user_gdb_thread_add(UserThread *t);
void user_gdb_thread_remove(UserThread *t);
void user_gdb_check(UserThread *t);
/* A guest fault or trap (host signal hs): stop and ask GDB; returns the
   host signal to deliver (0: none). */
int user_gdb_fault(UserThread *t, int hs);
/* After one instruction with t->gdb_step set (CPU loops that step
   themselves); a signal GDB resumes with is dropped. */
void user_gdb_stepped(UserThread *t);
/* The program ends: exit status or killing signal. */
void user_gdb_exit(int status, int hs);

/* ---- ELF loading (elf.c) ---- */
/* Load the program and its interpreter, build the stack; sets pc/sp. */
bool user_load(UserProc *p, const char *path, char **argv, char **envp,
               const char *argv0, uint64_t *pc, uint64_t *sp,
               GError **error);

/* ---- system calls (syscall.c) ---- */
/* The file for guest path g under the -L sysroot (absolute symbolic links
   re-rooted there); NULL if it is not there. */
char *user_sysroot_path(UserProc *p, const char *g);
/* nr: the guest's number; returns the result or -(host errno). */
int64_t user_syscall(UserThread *t, uint64_t nr, const uint64_t a[8]);
/* Parts of the dispatcher in signal.c: USER_NOT_MINE if not theirs. */
int64_t user_sys_signal(UserThread *t, UserSys sys, const uint64_t a[8]);
int64_t user_sys_thread(UserThread *t, UserSys sys, const uint64_t a[8]);
/* Guest errno value of a host errno. */
int user_errno_to_guest(const UserArch *arch, int host);
int user_sig_to_guest(const UserArch *arch, int host);
int user_sig_to_host(const UserArch *arch, int guest);
/* Deliver pending host signals to the guest between instructions. */
void user_signal_check(UserThread *t);
/* A guest fault (SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP with si_code and
   address): deliver to the guest handler or die as the signal. */
void user_signal_fault(UserThread *t, int host_sig, int code, uint64_t addr);
void user_signals_init(UserProc *p);
/* A fault signal (SIGSEGV, SIGBUS) sent by kill/tgkill rather than raised
   by an access: the guest's handler or default action, as for others. */
void user_signal_sent(int hs, siginfo_t *info, void *uc);
G_NORETURN void user_exit_group(UserProc *p, int status);

/* Byte order of the guest. */
static inline uint16_t ug16(const UserProc *p, uint16_t v)
{
    return p->arch->big_endian ? GUINT16_FROM_BE(v) : GUINT16_FROM_LE(v);
}
static inline uint32_t ug32(const UserProc *p, uint32_t v)
{
    return p->arch->big_endian ? GUINT32_FROM_BE(v) : GUINT32_FROM_LE(v);
}
static inline uint64_t ug64(const UserProc *p, uint64_t v)
{
    return p->arch->big_endian ? GUINT64_FROM_BE(v) : GUINT64_FROM_LE(v);
}
/* Guest "long" and pointers: 4 or 8 bytes. */
uint64_t user_get_ulong(UserProc *p, uint64_t addr);
void user_put_ulong(UserProc *p, uint64_t addr, uint64_t v);
void user_put32(UserProc *p, uint64_t addr, uint32_t v);
uint32_t user_get32(UserProc *p, uint64_t addr);
void user_put64(UserProc *p, uint64_t addr, uint64_t v);
uint64_t user_get64(UserProc *p, uint64_t addr);

extern const UserArch user_arch_mipsel, user_arch_mips, user_arch_mips64el,
    user_arch_mips64;
extern const UserArch user_arch_i386;
/* Tables only, no CPU yet (arch_x86_64.c). */
extern const UserArch user_arch_x86_64;
/* The name of a generic system call ("read"), for -strace and tests. */
const char *user_sys_name(UserSys sys);

/* The process's one UserProc (signal handlers need it). */
extern UserProc *user_the_proc;
extern __thread UserThread *user_self;

#endif
