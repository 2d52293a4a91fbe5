/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x86-user: run static i386 Linux ELF programs on Mimic's CPU core, for
 * the differential tests against qemu-i386 (tests/cpu/user-diff/).
 *
 * The program runs as Linux runs it: flat 32-bit protected mode, CPL 3,
 * paging on (identity map of RAM; the system area below 64 KiB is
 * supervisor-only), IOPL 0, IF set.  INT 0x80 goes through a DPL 3 IDT
 * interrupt gate (stack switch through the TSS) to a ring-0 stub
 * `hlt; iret`: when the CPU halts there the harness services the system
 * call from EAX/EBX/ECX/EDX, puts the result in EAX and lets the IRET
 * return to ring 3.  `--cpl0` runs the program at CPL 0 without paging
 * instead (the INT 0x80 frame then lands on the program's stack).
 * Only the pages of the PT_LOAD segments and the top 64 KiB (the initial
 * stack) are present for the program; an access elsewhere page-faults as
 * under Linux.  IDT vectors 3 (INT3), 4 (INTO) and 0x80 are DPL 3, as in
 * Linux.
 * System calls: write (4) to fd 1 or 2, exit (1), exit_group (252),
 * modify_ldt (123, writes only: an LDT of 256 entries), sigaltstack
 * (186; SA_ONSTACK handlers run on it),
 * sigaction (67) and rt_sigaction (174) (handler and SA_SIGINFO only: no
 * mask, no restorer); others return -ENOSYS.
 * An exception from ring 3 whose signal (Linux's mapping: #DE SIGFPE,
 * #DB/#BP SIGTRAP, #UD SIGILL, #NP/#SS/#AC SIGBUS, others SIGSEGV) has a
 * handler is delivered as Linux delivers it: a frame below the faulting
 * ESP (return address 0, signal number, then struct sigcontext with
 * trapno, err, eip and cr2; with SA_SIGINFO pointers to a siginfo with
 * Linux's si_code and si_addr and to a ucontext holding the
 * sigcontext), EIP at the handler, TF/DF/RF cleared.  The handlers of user-diff never
 * return (they dump the sigcontext and jump on), so there is no
 * sigreturn.  Any other exception ends the program with a message on
 * stderr.
 *
 * usage: x86-user [--cpl0] [-n MAXINSNS] PROG.elf...
 * The programs run one after another; their fd 1 output goes to stdout.
 * Exit status: 0 when every program exited through exit/exit_group with
 * status 0, else 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "../x86-rig.h"

#define RAM_SIZE (16u << 20)
#define GDT 0x800u
#define IDT 0x1000u          /* 256 gates: 0x1000..0x17ff */
#define EXC_STUBS 0x2000u    /* vector v: hlt at EXC_STUBS + v */
#define SYSCALL_STUB 0x2200u /* hlt; iret */
#define TSS 0x3000u
#define PD 0x4000u
#define PT 0x5000u           /* 4 page tables: 16 MiB */
#define LDT 0x9000u          /* 256 entries: 0x9000..0x97ff */
#define LDT_ENTRIES 256
#define KSTACK 0xf000u
#define LOW_END 0x10000u     /* programs may not load below this */
#define STACK_PAGES 16       /* the top 64 KiB: the initial stack */
#define NSIGS 65

typedef struct Sigs {
    uint32_t handler[NSIGS];
    bool siginfo[NSIGS];   /* SA_SIGINFO: an rt frame */
    bool onstack[NSIGS];   /* SA_ONSTACK */
    uint32_t alt_sp, alt_size;   /* sigaltstack; size 0: none */
} Sigs;

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static void set_gate(uint8_t *ram, int v, uint32_t off, int dpl)
{
    put32(ram + IDT + v * 8, (0x08u << 16) | (off & 0xffff));
    put32(ram + IDT + v * 8 + 4,
          (off & 0xffff0000u) | 0x8e00 | (uint32_t)dpl << 13);
}

static void sys_tables(uint8_t *ram)
{
    /* GDT: null, flat code (0x08), flat data (0x10). */
    put32(ram + GDT + 8, 0x0000ffff);
    put32(ram + GDT + 12, 0x00cf9a00);
    put32(ram + GDT + 16, 0x0000ffff);
    put32(ram + GDT + 20, 0x00cf9200);
    /* user code (0x1b), user data (0x23), busy TSS (0x28) */
    put32(ram + GDT + 24, 0x0000ffff);
    put32(ram + GDT + 28, 0x00cffa00);
    put32(ram + GDT + 32, 0x0000ffff);
    put32(ram + GDT + 36, 0x00cff200);
    put32(ram + GDT + 40, (TSS << 16) | 0x67);
    put32(ram + GDT + 44, 0x00008b00 | ((TSS >> 16) & 0xff));
    /* the LDT (0x30), filled by modify_ldt */
    put32(ram + GDT + 48, (LDT << 16) | (LDT_ENTRIES * 8 - 1));
    put32(ram + GDT + 52, 0x00008200 | ((LDT >> 16) & 0xff));
    put32(ram + TSS + 4, KSTACK);   /* ESP0 */
    put32(ram + TSS + 8, 0x10);     /* SS0 */
    /* I/O map base past the limit: no bitmap, so IN/OUT at IOPL 0 #GP, as
       under Linux (without it the bitmap would be the TSS itself) */
    put32(ram + TSS + 0x64, 0x68u << 16);
    /* identity map; user pages from LOW_END up */
    for (uint32_t t = 0; t < 4; t++) {
        put32(ram + PD + t * 4, (PT + t * 0x1000) | 7);
    }
    /* user pages are not present until a segment is loaded there */
    for (uint32_t p = 0; p < RAM_SIZE >> 12; p++) {
        bool sys = (p << 12) < LOW_END;
        bool stack = p >= (RAM_SIZE >> 12) - STACK_PAGES;
        put32(ram + PT + p * 4, sys ? (p << 12) | 3
                                    : stack ? (p << 12) | 7 : 0);
    }
    for (int v = 0; v < 256; v++) {
        set_gate(ram, v, EXC_STUBS + v, v == 3 || v == 4 ? 3 : 0);
        ram[EXC_STUBS + v] = 0xf4;
    }
    set_gate(ram, 0x80, SYSCALL_STUB, 3);
    ram[SYSCALL_STUB] = 0xf4;     /* hlt */
    ram[SYSCALL_STUB + 1] = 0xcf; /* iret */
}

/* Load PT_LOAD segments; returns the entry point or 0 on error. */
static uint32_t load_elf(uint8_t *ram, const char *path)
{
    gchar *buf;
    gsize len;
    GError *err = NULL;
    if (!g_file_get_contents(path, &buf, &len, &err)) {
        fprintf(stderr, "x86-user: %s\n", err->message);
        g_error_free(err);
        return 0;
    }
    const uint8_t *b = (const uint8_t *)buf;
    uint32_t entry = 0;
    if (len < 52 || memcmp(b, "\x7f" "ELF\x01\x01", 6) ||
        get16(b + 18) != 3 /* EM_386 */) {
        fprintf(stderr, "x86-user: %s: not an i386 ELF\n", path);
        goto out;
    }
    uint32_t phoff = get32(b + 28);
    unsigned phentsize = get16(b + 42), phnum = get16(b + 44);
    for (unsigned i = 0; i < phnum; i++) {
        uint64_t o = (uint64_t)phoff + (uint64_t)i * phentsize;
        if (phentsize < 32 || o + 32 > len) {
            fprintf(stderr, "x86-user: %s: bad program headers\n", path);
            goto out;
        }
        const uint8_t *ph = b + o;
        if (get32(ph) != 1 /* PT_LOAD */) {
            continue;
        }
        uint32_t off = get32(ph + 4), va = get32(ph + 8);
        uint32_t filesz = get32(ph + 16), memsz = get32(ph + 20);
        if (filesz > memsz || (uint64_t)off + filesz > len || va < LOW_END ||
            (uint64_t)va + memsz > RAM_SIZE) {
            fprintf(stderr, "x86-user: %s: segment outside 0x%x..0x%x\n",
                    path, LOW_END, RAM_SIZE);
            goto out;
        }
        memcpy(ram + va, b + off, filesz);
        memset(ram + va + filesz, 0, memsz - filesz);
        for (uint32_t p = va >> 12; memsz && p <= (va + memsz - 1) >> 12;
             p++) {
            put32(ram + PT + p * 4, (p << 12) | 7);
        }
    }
    entry = get32(b + 24);
out:
    g_free(buf);
    return entry;
}

/* Linux's signal for an exception vector (arch/x86/kernel/traps.c). */
static int vec_signal(int v)
{
    switch (v) {
    case 0: case 16: case 19:
        return 8;   /* SIGFPE */
    case 1: case 3:
        return 5;   /* SIGTRAP */
    case 6:
        return 4;   /* SIGILL */
    case 11: case 12: case 17:
        return 7;   /* SIGBUS */
    default:
        return 11;  /* SIGSEGV */
    }
}

/* Linux's si_code and si_addr for vector v. */
static uint32_t vec_si_code(int v, uint32_t err)
{
    switch (v) {
    case 0:
        return 1;   /* FPE_INTDIV */
    case 1:
        return 1;   /* TRAP_BRKPT */
    case 6:
        return 2;   /* ILL_ILLOPN */
    case 14:
        return err & 1 ? 2 : 1;   /* SEGV_ACCERR : SEGV_MAPERR */
    default:
        return 0x80;  /* SI_KERNEL */
    }
}

static uint32_t vec_si_addr(X86Cpu *x, int v, uint32_t eip)
{
    switch (v) {
    case 0: case 1: case 6:
        return eip;
    case 14:
        return x->cr2;
    default:
        return 0;
    }
}

static bool vec_has_err(int v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

/* Is the user page of linear address a present (the identity map)? */
static bool user_ok(Rig *r, uint32_t a, uint32_t len)
{
    for (uint32_t p = a >> 12; p <= (a + len - 1) >> 12; p++) {
        if (a + len < a || (p << 12) >= RAM_SIZE ||
            (get32(r->ram + PT + p * 4) & 5) != 5) {
            return false;
        }
    }
    return true;
}

/*
 * The CPU halted in the stub of vector v, at CPL 0 on the kernel stack
 * (the frame the exception pushed).  Deliver the signal to the program's
 * handler: returns false when there is none or the frame does not fit.
 */
static bool deliver(Rig *r, const Sigs *sigs, int v)
{
    X86Cpu *x = r->x;
    uint32_t k = x->regs[R_ESP];
    uint32_t err = 0;
    if (k < TSS + 0x68 || k > KSTACK - 20) {
        return false;
    }
    if (vec_has_err(v)) {
        err = get32(r->ram + k);
        k += 4;
    }
    uint32_t feip = get32(r->ram + k), fcs = get32(r->ram + k + 4);
    uint32_t ffl = get32(r->ram + k + 8), fesp = get32(r->ram + k + 12);
    uint32_t fss = get32(r->ram + k + 16);
    int sig = vec_signal(v);
    if ((fcs & 3) != 3 || !sigs->handler[sig]) {
        return false;
    }
    /* frame: return address, signal number, struct sigcontext (22 words);
       rt: return address, signal number, &info, &uc, siginfo (128
       bytes), ucontext (flags, link, stack, sigcontext, mask) */
    bool rt = sigs->siginfo[sig];
    uint32_t size = rt ? 16 + 128 + 20 + 22 * 4 + 8 : 8 + 22 * 4;
    uint32_t sp = fesp;
    if (sigs->onstack[sig] && sigs->alt_size &&
        fesp - sigs->alt_sp > sigs->alt_size) {
        sp = sigs->alt_sp + sigs->alt_size;   /* not on it yet: switch */
    }
    sp = ((sp - size + 4) & ~15u) - 4;
    if (!user_ok(r, sp, size)) {
        return false;
    }
    uint32_t scp = sp + 8;
    memset(r->ram + sp, 0, size);
    if (rt) {
        uint32_t info = sp + 16, uc = info + 128;
        put32(r->ram + sp + 8, info);
        put32(r->ram + sp + 12, uc);
        put32(r->ram + info, sig);
        put32(r->ram + info + 8, vec_si_code(v, err));
        put32(r->ram + info + 12, vec_si_addr(x, v, feip));
        scp = uc + 20;
    }
    uint32_t sc[22] = {
        x->seg[S_GS].sel, x->seg[S_FS].sel, x->seg[S_ES].sel,
        x->seg[S_DS].sel, x->regs[R_EDI], x->regs[R_ESI], x->regs[R_EBP],
        fesp, x->regs[R_EBX], x->regs[R_EDX], x->regs[R_ECX],
        x->regs[R_EAX], v, err, feip, fcs, ffl, fesp, fss, 0, 0,
        v == 14 ? x->cr2 : 0,
    };
    put32(r->ram + sp + 4, sig);
    for (int i = 0; i < 22; i++) {
        put32(r->ram + scp + 4 * i, sc[i]);
    }
    /* back to ring 3 through the IRET after the system call stub */
    put32(r->ram + k, sigs->handler[sig]);
    put32(r->ram + k + 4, 0x1b);     /* the flat user CS and SS, as Linux */
    put32(r->ram + k + 8, ffl & ~(F_TF | F_DF | F_RF));
    put32(r->ram + k + 12, sp);
    put32(r->ram + k + 16, 0x23);
    x->regs[R_ESP] = k;
    x->regs[R_EAX] = sig;
    x->regs[R_ECX] = 0;
    x->regs[R_EDX] = 0;
    x->rip = SYSCALL_STUB + 1;
    x->halted = false;
    return true;
}

/* modify_ldt's write: an LDT descriptor from a struct user_desc, as
   Linux's fill_ldt() builds it (DPL 3). */
static uint32_t write_ldt(Rig *r, uint32_t ud, bool oldmode)
{
    uint32_t n = get32(r->ram + ud), base = get32(r->ram + ud + 4);
    uint32_t limit = get32(r->ram + ud + 8), f = get32(r->ram + ud + 12);
    if (n >= LDT_ENTRIES || (((f >> 1) & 3) == 3 && (oldmode || !(f & 32)))) {
        return (uint32_t)-22;
    }
    uint32_t lo = (base << 16) | (limit & 0xffff);
    uint32_t hi = (base & 0xff000000u) | ((base >> 16) & 0xff) |
                  (limit & 0xf0000) | ((~f >> 3 & 1) << 9) |
                  (((f >> 1) & 3) << 10) | ((~f >> 5 & 1) << 15) |
                  ((f & 1) << 22) | ((f >> 4 & 1) << 23) |
                  (oldmode ? 0 : (f >> 6 & 1) << 20) | 0x7000;
    if (!base && !limit && (oldmode || (f & 0x7f) == 0x28)) {
        lo = hi = 0;   /* an empty entry */
    }
    put32(r->ram + LDT + n * 8, lo);
    put32(r->ram + LDT + n * 8 + 4, hi);
    return 0;
}

/* Run one program; returns its exit status, or -1. */
static int run_prog(Rig *r, const char *path, int64_t max_insns, bool cpl0)
{
    X86Cpu *x = r->x;
    memset(r->ram, 0, RAM_SIZE);
    sys_tables(r->ram);
    uint32_t entry = load_elf(r->ram, path);
    if (!entry) {
        return -1;
    }
    r->cpu->ops->reset(r->cpu);
    x->gdt.base = GDT;
    x->gdt.limit = 55;
    x->idt.base = IDT;
    x->idt.limit = 256 * 8 - 1;
    x->cr0 = CR0_PE | CR0_ET | (cpl0 ? 0 : CR0_PG);
    x->cr3 = PD;
    x->cpl = cpl0 ? 0 : 3;
    for (int s = 0; s < 6; s++) {
        uint16_t sel = s == S_CS ? 0x08 : 0x10;
        if (!cpl0) {
            sel = s == S_CS ? 0x1b : 0x23;
        }
        uint32_t d = GDT + (sel & ~7u);
        x86_desc_to_cache(&x->seg[s], sel, get32(r->ram + d),
                          get32(r->ram + d + 4));
    }
    x86_desc_to_cache(&x->tr, 0x28, get32(r->ram + GDT + 40),
                      get32(r->ram + GDT + 44));
    x86_desc_to_cache(&x->ldt, 0x30, get32(r->ram + GDT + 48),
                      get32(r->ram + GDT + 52));
    x86_mmu_mode_changed(x);
    memset(x->regs, 0, sizeof(x->regs));
    x->regs[R_ESP] = RAM_SIZE - 0x1000;  /* Linux: an argc/argv block */
    x->lf_op = LF_NONE;
    x->eflags = 0x202;   /* IF, as in Linux user mode (no IRQ comes) */
    x->rip = entry;
    x->halted = false;
    x->shutdown = false;
    x86_post_load_fixup(x);
    if (r->cpu->ops->flush_code) {
        r->cpu->ops->flush_code(r->cpu);
    }

    Sigs sigs = { { 0 } };
    int64_t left = max_insns;
    while (left > 0) {
        CpuExit why = CPU_EXIT_BUDGET;
        left -= r->cpu->ops->run(r->cpu, left < 100000 ? left : 100000, &why);
        if (why == CPU_EXIT_SHUTDOWN || x->shutdown) {
            fprintf(stderr, "x86-user: %s: triple fault\n", path);
            return -1;
        }
        if (why != CPU_EXIT_HALTED) {
            continue;
        }
        uint32_t at = x->rip - 1;
        if (at >= EXC_STUBS && at < EXC_STUBS + 256 && !cpl0 &&
            deliver(r, &sigs, at - EXC_STUBS)) {
            continue;
        }
        if (at != SYSCALL_STUB) {
            uint32_t sp = x->regs[R_ESP] & (RAM_SIZE - 16);
            fprintf(stderr, "x86-user: %s: exception %d (frame %08x %08x "
                    "%08x: [error code,] eip, cs)\n", path,
                    at >= EXC_STUBS && at < EXC_STUBS + 256
                        ? (int)(at - EXC_STUBS) : -1,
                    get32(r->ram + sp), get32(r->ram + sp + 4),
                    get32(r->ram + sp + 8));
            return -1;
        }
        uint32_t nr = x->regs[R_EAX], a = x->regs[R_EBX];
        uint32_t b = x->regs[R_ECX], c = x->regs[R_EDX];
        uint32_t ret = (uint32_t)-38; /* ENOSYS */
        switch (nr) {
        case 1:
        case 252:
            fflush(stdout);
            return (int)(a & 0xff);
        case 4:
            if (a != 1 && a != 2) {
                ret = (uint32_t)-9; /* EBADF */
            } else if (b >= RAM_SIZE || c > RAM_SIZE - b) {
                ret = (uint32_t)-14; /* EFAULT */
            } else {
                fwrite(r->ram + b, 1, c, a == 1 ? stdout : stderr);
                ret = c;
            }
            break;
        case 67: /* sigaction(sig, act, oact) */
            if (a == 0 || a >= NSIGS || a == 9 || a == 19) {
                ret = (uint32_t)-22; /* EINVAL */
            } else if ((b && !user_ok(r, b, 16)) ||
                       (c && !user_ok(r, c, 16))) {
                ret = (uint32_t)-14;
            } else {
                if (c) {
                    put32(r->ram + c, sigs.handler[a]);
                    memset(r->ram + c + 4, 0, 12);
                }
                if (b) {
                    uint32_t h = get32(r->ram + b);
                    sigs.handler[a] = h == 1 ? 0 : h;  /* SIG_IGN: none */
                    sigs.siginfo[a] = false;
                    sigs.onstack[a] = get32(r->ram + b + 8) & 0x08000000;
                }
                ret = 0;
            }
            break;
        case 123: /* modify_ldt(1 or 0x11, struct user_desc *, 16) */
            if ((a != 1 && a != 0x11) || c != 16 || !user_ok(r, b, 16)) {
                ret = (uint32_t)-22;
            } else {
                ret = write_ldt(r, b, a == 1);
            }
            break;
        case 186: /* sigaltstack(ss, oss): ss_sp, ss_flags, ss_size */
            if ((b && !user_ok(r, b, 12)) || (a && !user_ok(r, a, 12))) {
                ret = (uint32_t)-14;
            } else {
                if (b) {
                    put32(r->ram + b, sigs.alt_sp);
                    put32(r->ram + b + 4, sigs.alt_size ? 0 : 2);
                    put32(r->ram + b + 8, sigs.alt_size);
                }
                if (a) {
                    bool off = get32(r->ram + a + 4) & 2;  /* SS_DISABLE */
                    sigs.alt_sp = off ? 0 : get32(r->ram + a);
                    sigs.alt_size = off ? 0 : get32(r->ram + a + 8);
                }
                ret = 0;
            }
            break;
        case 174: /* rt_sigaction(sig, act, oact, 8) */
            if (a == 0 || a >= NSIGS || a == 9 || a == 19 ||
                x->regs[R_ESI] != 8) {
                ret = (uint32_t)-22; /* EINVAL */
            } else if ((b && !user_ok(r, b, 20)) ||
                       (c && !user_ok(r, c, 20))) {
                ret = (uint32_t)-14;
            } else {
                if (c) {
                    memset(r->ram + c, 0, 20);
                    put32(r->ram + c, sigs.handler[a]);
                    put32(r->ram + c + 4, sigs.siginfo[a] ? 4 : 0);
                }
                if (b) {
                    uint32_t h = get32(r->ram + b);
                    sigs.handler[a] = h == 1 ? 0 : h;
                    sigs.siginfo[a] = get32(r->ram + b + 4) & 4;
                    sigs.onstack[a] = get32(r->ram + b + 4) & 0x08000000;
                }
                ret = 0;
            }
            break;
        default:
            break;
        }
        x->regs[R_EAX] = ret;
        x->halted = false;
    }
    fprintf(stderr, "x86-user: %s: no exit after %lld instructions\n", path,
            (long long)max_insns);
    return -1;
}

int main(int argc, char **argv)
{
    int64_t max_insns = 200000000;
    bool cpl0 = false;
    int first = 1;
    for (;;) {
        if (first + 1 < argc && !strcmp(argv[first], "-n")) {
            max_insns = atoll(argv[first + 1]);
            first += 2;
        } else if (first < argc && !strcmp(argv[first], "--cpl0")) {
            cpl0 = true;
            first++;
        } else {
            break;
        }
    }
    if (first >= argc) {
        fprintf(stderr,
                "usage: x86-user [--cpl0] [-n MAXINSNS] PROG.elf...\n");
        return 2;
    }
    Rig r;
    rig_init(&r, RAM_SIZE);
    int status = 0;
    for (int i = first; i < argc; i++) {
        if (run_prog(&r, argv[i], max_insns, cpl0) != 0) {
            status = 1;
        }
    }
    rig_free(&r);
    return status;
}
