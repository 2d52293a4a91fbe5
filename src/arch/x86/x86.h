/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal interface of the x86 (P6-class, "pentium2") CPU core: the CPU
 * state, the pre-decoded instruction format of the translation blocks, the
 * lazy-flags machinery and the inline TLB fast path for memory accesses.
 *
 * Specification: Intel 64 and IA-32 Architectures Software Developer's
 * Manual (SDM), Vol. 2 (instruction set) and Vol. 3A (system programming).
 * See docs/x86.md for the design.
 */
#ifndef MIMIC_ARCH_X86_X86_H
#define MIMIC_ARCH_X86_X86_H

#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/codecache.h"
#include "arch/cpu.h"
#include "arch/x86/x87.h"
#include "bus/log.h"

/* Registers in encoding order (R8..R15 follow; see docs/x86.md, "The
   64-bit layout"). */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
#define X86_NREGS 16
/* Segment registers in encoding order. */
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_NONE = 7 };

/* EFLAGS */
#define F_CF 0x0001u
#define F_PF 0x0004u
#define F_AF 0x0010u
#define F_ZF 0x0040u
#define F_SF 0x0080u
#define F_TF 0x0100u
#define F_IF 0x0200u
#define F_DF 0x0400u
#define F_OF 0x0800u
#define F_IOPL 0x3000u
#define F_NT 0x4000u
#define F_RF 0x10000u
#define F_VM 0x20000u
#define F_AC 0x40000u
#define F_VIF 0x80000u
#define F_VIP 0x100000u
#define F_ID 0x200000u
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* CR0 / CR4 */
#define CR0_PE 0x1u
#define CR0_MP 0x2u
#define CR0_EM 0x4u
#define CR0_TS 0x8u
#define CR0_ET 0x10u
#define CR0_NE 0x20u
#define CR0_WP 0x10000u
#define CR0_AM 0x40000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u
#define CR4_VME 0x1u
#define CR4_PVI 0x2u
#define CR4_TSD 0x4u
#define CR4_DE 0x8u
#define CR4_PSE 0x10u
#define CR4_PAE 0x20u
#define CR4_MCE 0x40u
#define CR4_PGE 0x80u
#define CR4_PCE 0x100u
#define CR4_OSFXSR 0x200u
#define CR4_OSXMMEXCPT 0x400u
#define CR4_FSGSBASE 0x10000u
#define CR4_OSXSAVE 0x40000u
#define CR4_SUPPORTED_MASK 0x413bfu /* CR4_SUPPORTED in exec_system.c,
                                       with OSXMMEXCPT, FSGSBASE and
                                       OSXSAVE */

/* IA32_EFER (MSR C000_0080h) */
#define MSR_EFER 0xc0000080u
#define EFER_SCE 0x1u     /* SYSCALL/SYSRET */
#define EFER_LME 0x100u   /* long mode enable */
#define EFER_LMA 0x400u   /* long mode active (read-only) */
#define EFER_NXE 0x800u   /* execute-disable bit in PAE/4-level entries */

/* CPU models (cpu.c): what CPUID claims and the core honours. */
#define X86F_LM 0x1u      /* long mode, EFER.LME/LMA, 4-level paging */
#define X86F_NX 0x2u      /* EFER.NXE, XD bit */
#define X86F_SYSCALL 0x4u /* SYSCALL/SYSRET, EFER.SCE */
#define X86F_PDPE1GB 0x8u /* 1 GiB pages */
#define X86F_RDTSCP 0x10u /* RDTSCP, IA32_TSC_AUX */
#define X86F_LAHF_LM 0x20u /* LAHF/SAHF in 64-bit mode */
/* SSE family (exec_sse.c); CR4.OSXMMEXCPT is writable with SSE. */
#define X86F_SSE 0x40u
#define X86F_SSE2 0x80u
#define X86F_SSE3 0x100u
#define X86F_SSSE3 0x200u
#define X86F_SSE41 0x400u
#define X86F_SSE42 0x800u
#define X86F_POPCNT 0x1000u
#define X86F_XSAVE 0x2000u /* XSAVE/XRSTOR/XGETBV/XSETBV, x87+SSE */
#define X86F_FSGSBASE 0x4000u /* RD/WR FS/GS BASE, CR4.FSGSBASE */
/* Features of a model the core does not implement yet stay out of CPUID
   (the *_DONE masks name the implemented ones). */
#define X86F_LM_DONE X86F_LM /* 64-bit mode: exec_64.c */
#define X86F_SYSCALL_DONE X86F_SYSCALL
#define X86F_LAHF_LM_DONE X86F_LAHF_LM
typedef struct X86Model {
    const char *name;
    const char *description;
    uint32_t features;   /* X86F_* */
    uint32_t cpuid1_eax; /* family/model/stepping */
    uint8_t phys_bits;   /* MAXPHYADDR */
} X86Model;
extern const X86Model x86_models[];
extern const unsigned x86_n_models;

/* Exception vectors */
enum {
    EX_DE = 0, EX_DB = 1, EX_NMI = 2, EX_BP = 3, EX_OF = 4, EX_BR = 5,
    EX_UD = 6, EX_NM = 7, EX_DF = 8, EX_TS = 10, EX_NP = 11, EX_SS = 12,
    EX_GP = 13, EX_PF = 14, EX_MF = 16, EX_AC = 17, EX_XM = 19,
};

/* An XMM register (SSE), little-endian lanes. */
typedef union X86Xmm {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
    float f[4];
    double f64[2];
} __attribute__((aligned(16))) X86Xmm;

/* Segment descriptor cache; flags = descriptor bits 40..55 (access byte in
   bits 0..7, AVL/L/D/G in bits 12..15). */
typedef struct SegCache {
    uint64_t base;
    uint32_t limit;   /* byte granular, after G scaling */
    uint16_t sel;
    uint16_t flags;
    /* Derived: valid offsets [lo, hi], writable, readable. */
    uint32_t lo, hi;
    bool wok, rok;
} SegCache;

#define SEGF_TYPE 0x000f
#define SEGF_S 0x0010
#define SEGF_DPL 0x0060
#define SEGF_P 0x0080
#define SEGF_L 0x2000    /* 64-bit code segment (long mode) */
#define SEGF_DB 0x4000
#define SEGF_G 0x8000

typedef struct DescTable {
    uint64_t base;
    uint32_t limit;
} DescTable;

/* Lazy flags: the last flag-setting operation. */
enum {
    LF_NONE = 0, /* eflags holds the arithmetic flags */
    LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC,
};

typedef struct X86Cpu X86Cpu;
typedef struct X86Insn X86Insn;
typedef void (*X86Handler)(X86Cpu *cpu, const X86Insn *in);

/* One pre-decoded instruction. */
struct X86Insn {
    X86Handler fn;
    uint64_t ip;        /* offset of the first byte (with prefixes) */
    uint32_t imm;
    uint32_t imm2;      /* second immediate (ENTER, far pointer seg);
                           bits 63:32 of an imm64 or moffs64 */
    int32_t disp;
    uint8_t len;
    uint8_t osz;        /* operand size in bytes: 1, 2, 4 or 8 */
    uint8_t asz32;      /* 32- or 64-bit addressing (asz != 2) */
    uint8_t asz;        /* address size in bytes: 2, 4 or 8 */
    uint8_t rex;        /* the REX prefix (0x40-0x4F), 0 if none */
    uint8_t seg;        /* segment of the memory operand */
    uint8_t mod;        /* 3 = register operand */
    uint8_t reg;        /* ModRM.reg (with REX.R where it names a GPR) */
    uint8_t rm;         /* ModRM.rm (register number when mod == 3; with
                           REX.B where it names a GPR) */
    uint8_t base;       /* 0..15, X86_R_NONE, or X86_R_RIP */
    uint8_t index;      /* 0..15, or X86_R_NONE */
    uint8_t scale;
    uint8_t rep;        /* 0, 0xF2 or 0xF3 */
    uint8_t lock;
    uint8_t op;         /* opcode byte (second byte for 0F xx) */
    uint8_t op0f;       /* 1 if two-byte opcode */
    uint8_t modrm;      /* raw ModRM */
    uint8_t seg_ovr;    /* 1 if a segment override was given */
    uint8_t map;        /* 0, or 1 for 0F 38 xx and 2 for 0F 3A xx */
    uint8_t pfx;        /* SSE mandatory prefix: 0, 1 (66), 2 (F3),
                           3 (F2) */
};

/* X86Insn.base/index: no register; RIP-relative (64-bit mode). */
#define X86_R_NONE 16
#define X86_R_RIP 17
/* x86_decode's mode: the code segment's default size, or 64-bit mode. */
enum { X86_MODE16 = 0, X86_MODE32 = 1, X86_MODE64 = 2 };

#define TB_MAX_INSNS 48

typedef struct TBlock TBlock;
struct TBlock {
    CodeBlock cb;       /* phys, page2, chains, valid (arch/codecache.h) */
    uint64_t cs_base;
    uint64_t ip;
    uint32_t flags;     /* decode mode */
    uint64_t ip_next;   /* fall-through successor's IP */
    /* Successor cache (cpu.c): [0] the fall-through block, [1] the last
       other successor; key = cpu->tb_gen | tlb_user when it was made. */
    struct { TBlock *tb; uint32_t key; } link[2];
    /* The JIT (jit/jit.h): host code, or NULL; runs before translation. */
    void *host;
    uint32_t runs;
    uint16_t n;
    X86Insn insn[];
};

#define TB_HASH_SIZE 16384

typedef struct TlbEntry {
    uint64_t tag_r;     /* linear page, or 1 when invalid */
    uint64_t tag_w;
    uintptr_t addend;   /* host = addend + linear */
    /* Physical page (code marking and fetch), with TLB_GLOBAL in bit 0
       for a global page (kept by x86_tlb_flush(, false)) and TLB_NX in
       bit 1 for an execute-disable page (a fetch walks, and faults): 32
       bytes an entry, a power of two for the fast path's index. */
    uint64_t phys;
} TlbEntry;

#define TLB_GLOBAL 1u
#define TLB_NX 2u
#define TLB_PHYS(e) ((e)->phys & ~(uint64_t)(TLB_GLOBAL | TLB_NX))

#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_INVALID 1u

/* Architectural state saved in snapshots (plain integers only).  Version
   3 saves the 64-bit layout (the *64 fields); versions 1 and 2 had the
   32-bit fields, which a load of such a file puts in the low halves. */
typedef struct X86State {
    uint32_t regs[8];
    uint32_t eip;
    uint32_t eflags;
    uint16_t seg_sel[6];
    uint32_t seg_base[6];
    uint32_t seg_limit[6];
    uint16_t seg_flags[6];
    uint32_t gdt_base, gdt_limit, idt_base, idt_limit;
    uint16_t ldt_sel, tr_sel;
    uint32_t ldt_base, ldt_limit, tr_base, tr_limit;
    uint16_t ldt_flags, tr_flags;
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];
    uint64_t tsc_offset;
    uint64_t apic_base, sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t mtrr_cap_def, mtrr_fixed[11], mtrr_var[16], pat, misc_enable;
    uint32_t a20_mask;
    uint8_t halted, nmi_pending, irq_line, inhibit;
    uint8_t ferr, ignne; /* version 2 */
    /* version 3 */
    uint64_t regs64[X86_NREGS], rip64, seg_base64[6];
    uint64_t gdt_base64, idt_base64, ldt_base64, tr_base64;
    uint64_t cr64[4]; /* CR0, CR2, CR3, CR4 */
    uint64_t dr64[8];
    uint8_t wide;     /* 1 when the fields above were loaded */
    /* version 4: long mode */
    uint64_t efer, star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux;
} X86State;

struct X86Cpu {
    Cpu base;
    CpuWiring bus;

    /* Hot state first. */
    /* Outside 64-bit mode every write keeps the upper halves zero: a
       32-bit write zero-extends, 8/16-bit writes merge (docs/x86.md). */
    uint64_t regs[X86_NREGS];
    uint64_t rip;        /* next instruction (during exec: after current) */
    uint32_t eflags;     /* non-arithmetic flags; arithmetic when LF_NONE */
    int lf_op;
    uint64_t lf_res, lf_a, lf_b;
    uint8_t lf_size;     /* bytes */
    uint8_t lf_cf;       /* carry for INC/DEC (preserved CF) */
    SegCache seg[6];
    uint8_t cpl;
    bool code32;
    bool ss32;
    bool pe;
    bool paging;
    bool tb_dirty;       /* current block invalidated: leave it */
    bool block_end;      /* an instruction asked to leave the block */
    const X86Insn *cur;  /* instruction executing */
    uint64_t a20_mask;
    /* Linear addresses outside 64-bit mode wrap at 4 GiB: the slow paths
       mask with this (the TLB only holds addresses below it). */
    uint64_t lin_mask;
    /* Long mode: EFER.LMA (lma) and CS.L with it (code64: 64-bit mode,
       where lin_mask is all ones); else compatibility or legacy mode. */
    bool lma;
    bool code64;
    TlbEntry tlb[2][TLB_SIZE]; /* [user] */
    int tlb_user;

    DescTable gdt, idt;
    SegCache ldt, tr;
    uint64_t cr0, cr2, cr3, cr4;
    uint64_t dr[8];
    uint64_t tsc_offset;
    uint64_t apic_base, sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t mtrr_cap_def, mtrr_fixed[11], mtrr_var[16], pat, misc_enable;
    /* Long-mode MSRs (FS/GS bases are seg[S_FS/S_GS].base). */
    uint64_t efer, star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux;
    uint64_t cr8;        /* CR8 when no local APIC keeps the TPR */
    const X86Model *model;
    uint64_t phys_mask;  /* (1 << MAXPHYADDR) - 1 */
    bool walk_nx;        /* the last page walk found an XD page */

    X87State fpu;
    /* SSE (exec_sse.c): XMM0-15 (8-15 in 64-bit mode only); MXCSR is
       fpu.mxcsr; XCR0 (XSETBV, bit 0 always set). */
    X86Xmm xmm[16];
    uint64_t xcr0;

    bool halted;
    bool nmi_pending;
    bool nmi_blocked;
    bool irq_line;
    bool inhibit;        /* STI / MOV SS shadow for the next instruction */
    bool ferr;           /* FERR# output asserted (x87 error, CR0.NE=0) */
    bool ignne;          /* IGNNE# input asserted */
    bool undone;         /* the instruction just run did not execute
                            (stopped at FERR#): not counted, no trap */
    atomic_int exit_req;
    int exc_depth;       /* nesting of exception delivery */
    int exc_class;       /* vector being delivered, -1 none */
    bool shutdown;

    jmp_buf jb;

    /* Translation cache. */
    CodeCache code;
    X86Insn scratch[TB_MAX_INSNS];
    /* Bumped (by 2) by every TLB or block-cache flush: a successor link
       made under another generation is stale (the mapping of its linear
       address, or the block itself, may have changed). */
    uint32_t tb_gen;
    TBlock *cur_tb;
    struct X86Jit *jit;  /* NULL: the interpreter runs every block */
    int exc_vec;         /* exception being raised */
    uint32_t exc_err;
    bool delivering;     /* inside exception delivery (double fault) */
    int deliver_vec;
    uint64_t tb_fetch_page; /* decoder: physical page of the block start */
    uint64_t tb_fetch_lpage;
    bool tb_fetch_cross;
    bool tb_fetch_first;
    uint64_t tb_page2;

    /* Debug (debug.c): breakpoints from DR7, traps pending for delivery
       after the current instruction (DR6 bits), the MOV SS shadow. */
    bool dbg_exec;        /* an instruction breakpoint is enabled */
    bool dbg_watch;       /* a data breakpoint is enabled */
    bool dbg_io;          /* an I/O breakpoint is enabled (CR4.DE) */
    bool dbg_defer;       /* last insn was MOV SS/POP SS: traps wait */
    bool soft_int;        /* the insn delivered INT n/INT3/INTO/INT1 */
    bool eip_fixed;       /* x86_raise keeps cpu->rip (new task's) */
    uint8_t dbg_hits;     /* data breakpoints hit by the current insn */
    uint32_t dbg_pending; /* DR6 bits of #DB traps not yet delivered */

    X86State st;          /* snapshot mirror */

    /* JIT block chaining (jit/jit.c): instructions of the blocks that
       translated code completed before the current one in this entry
       from x86_run, and the most it may complete before it returns
       (0: no chaining); chains taken (info jit). */
    int64_t jit_done, jit_limit;
    uint64_t jit_chains;
    /* A handler ran since the last chain (or x86_run entered the
       code): the chaining code checks the loop's conditions again. */
    bool jit_hcall;
    /* Linux user mode (user.c): linear address 0 in host memory, with
       4 GiB + 64 KiB reserved there (unmapped pages fault on the host
       and become #PF), so the JIT's 32-bit fast path adds it instead of
       looking up the TLB; NULL in system mode. */
    uint8_t *user_host;
    /* Linux user mode: INT 0x80 stopped the CPU as a system call
       (x86_h_int_imm), without the trip through the IDT. */
    bool user_int80;
};

/* ---- exceptions (cpu.c) ---- */
G_NORETURN void x86_raise(X86Cpu *cpu, int vec, uint32_t err);
G_NORETURN void x86_ud(X86Cpu *cpu);
#define GP0(cpu) x86_raise((cpu), EX_GP, 0)

/* A canonical 48-bit linear address: bits 63:47 all equal. */
static inline bool x86_canonical(uint64_t lin)
{
    return (uint64_t)(((int64_t)lin << 16) >> 16) == lin;
}

/* ---- lazy flags (exec_alu.c) ---- */
uint32_t x86_get_eflags(X86Cpu *cpu);
void x86_set_eflags(X86Cpu *cpu, uint32_t v, uint32_t mask);
bool x86_cf(X86Cpu *cpu);
bool x86_zf(X86Cpu *cpu);
bool x86_sf(X86Cpu *cpu);
bool x86_of(X86Cpu *cpu);
bool x86_pf(X86Cpu *cpu);
bool x86_cond(X86Cpu *cpu, int cc);
/* Make eflags hold every flag (LF_NONE). */
static inline void x86_flags_flush(X86Cpu *cpu)
{
    if (cpu->lf_op != LF_NONE) {
        cpu->eflags = x86_get_eflags(cpu);
        cpu->lf_op = LF_NONE;
    }
}
static inline void x86_set_lazy(X86Cpu *cpu, int op, unsigned size,
                                uint64_t res, uint64_t a, uint64_t b)
{
    cpu->lf_op = op;
    cpu->lf_size = size;
    cpu->lf_res = res;
    cpu->lf_a = a;
    cpu->lf_b = b;
}
extern const uint8_t x86_parity[256];

/* ---- memory (mmu.c) ---- */
uint64_t x86_tlb_fill(X86Cpu *cpu, uint64_t lin, int acc, bool user,
                      TlbEntry *e);
uint32_t x86_mem_read_slow(X86Cpu *cpu, uint64_t lin, unsigned size);
void x86_mem_write_slow(X86Cpu *cpu, uint64_t lin, uint32_t val,
                        unsigned size);
void x86_tlb_flush(X86Cpu *cpu, bool global);
void x86_tlb_flush_page(X86Cpu *cpu, uint64_t lin);
/* Translate for access acc (0 read, 1 write, 2 fetch); faults with #PF. */
uint64_t x86_translate(X86Cpu *cpu, uint64_t lin, int acc, bool user);
bool x86_translate_probe(X86Cpu *cpu, uint64_t lin, uint64_t *phys);
void x86_mmu_mode_changed(X86Cpu *cpu);
/* PAE: the PDPTEs at cr3 have no reserved bit set in a present entry (the
   check of MOV CR0/CR3/CR4 when they load the PDPTEs, SDM 4.4.1). */
bool x86_pdptes_ok(X86Cpu *cpu, uint64_t cr3);
/* #AC(0) if alignment checking is on and lin is not a multiple of align. */
void x86_ac_check(X86Cpu *cpu, uint64_t lin, unsigned align);
void x86_mem_listener(void *opaque, uint64_t start, uint64_t len);
/* System accesses (descriptor tables, TSS) are supervisor accesses. */
uint32_t x86_sys_read(X86Cpu *cpu, uint64_t lin, unsigned size);
void x86_sys_write(X86Cpu *cpu, uint64_t lin, uint32_t val, unsigned size);

static inline uint32_t x86_ld_host(const uint8_t *p, unsigned size)
{
    if (size == 1) {
        return *p;
    } else if (size == 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void x86_st_host(uint8_t *p, uint32_t v, unsigned size)
{
    if (size == 1) {
        *p = v;
    } else if (size == 2) {
        uint16_t w = v;
        memcpy(p, &w, 2);
    } else {
        memcpy(p, &v, 4);
    }
}

/* Linear-address accesses with the current privilege (inline TLB hit). */
static inline uint32_t x86_read_lin(X86Cpu *cpu, uint64_t lin, unsigned size)
{
    TlbEntry *e = &cpu->tlb[cpu->tlb_user][(lin >> 12) & (TLB_SIZE - 1)];
    if (G_LIKELY(e->tag_r == (lin & ~(uint64_t)0xfff) &&
                 (lin & 0xfff) <= 0x1000 - size)) {
        return x86_ld_host((const uint8_t *)(e->addend + lin), size);
    }
    return x86_mem_read_slow(cpu, lin, size);
}

static inline void x86_write_lin(X86Cpu *cpu, uint64_t lin, uint32_t v,
                                 unsigned size)
{
    TlbEntry *e = &cpu->tlb[cpu->tlb_user][(lin >> 12) & (TLB_SIZE - 1)];
    if (G_LIKELY(e->tag_w == (lin & ~(uint64_t)0xfff) &&
                 (lin & 0xfff) <= 0x1000 - size)) {
        x86_st_host((uint8_t *)(e->addend + lin), v, size);
        return;
    }
    x86_mem_write_slow(cpu, lin, v, size);
}

/* ---- segmentation (seg.c) ---- */
G_NORETURN void x86_seg_fault(X86Cpu *cpu, int seg);
uint64_t x86_seg_check_slow(X86Cpu *cpu, int s, uint32_t off, unsigned size,
                            bool write);
/* The linear address of s:off (base + off; outside 64-bit mode it may
   pass 4 GiB, and the memory slow path wraps it with lin_mask). */
static inline uint64_t x86_seg_check(X86Cpu *cpu, int s, uint32_t off,
                                     unsigned size, bool write)
{
    const SegCache *sc = &cpu->seg[s];
    if (G_LIKELY(off >= sc->lo && off <= sc->hi &&
                 sc->hi - off >= size - 1 && (write ? sc->wok : sc->rok))) {
        return sc->base + off;
    }
    return x86_seg_check_slow(cpu, s, off, size, write);
}

static inline uint32_t x86_rd(X86Cpu *cpu, int s, uint32_t off,
                              unsigned size)
{
    return x86_read_lin(cpu, x86_seg_check(cpu, s, off, size, false), size);
}

static inline void x86_wr(X86Cpu *cpu, int s, uint32_t off, uint32_t v,
                          unsigned size)
{
    x86_write_lin(cpu, x86_seg_check(cpu, s, off, size, true), v, size);
}

void x86_load_seg(X86Cpu *cpu, int s, uint16_t sel);
void x86_seg_set_real(X86Cpu *cpu, int s, uint16_t sel);
void x86_update_mode(X86Cpu *cpu);
void x86_post_load_fixup(X86Cpu *cpu);
/* Read the 8-byte descriptor for sel; false if outside its table. */
bool x86_read_desc(X86Cpu *cpu, uint16_t sel, uint32_t *lo, uint32_t *hi);
void x86_desc_to_cache(SegCache *sc, uint16_t sel, uint32_t lo, uint32_t hi);
void x86_far_jump(X86Cpu *cpu, uint16_t sel, uint32_t off, int osz,
                  bool call, uint32_t ret_eip);
void x86_far_ret(X86Cpu *cpu, int osz, uint16_t pop);
void x86_iret(X86Cpu *cpu, int osz);
/* Deliver interrupt/exception vec. kind: 0 exception, 1 software INT,
   2 external. */
void x86_interrupt(X86Cpu *cpu, int vec, int kind, bool has_err,
                   uint32_t err, uint32_t next_eip);
/* Hardware task switch to the TSS selected by sel (SDM Vol. 3A 7.3). */
enum { TS_JMP = 1, TS_CALL = 2, TS_IRET = 3, TS_INT = 4, TS_INT_EXT = 5 };
void x86_task_switch(X86Cpu *cpu, uint16_t sel, int reason,
                     uint32_t next_eip);

/* ---- stack helpers ---- */
static inline uint32_t x86_sp_mask(X86Cpu *cpu)
{
    return cpu->ss32 ? 0xffffffffu : 0xffffu;
}
static inline void x86_push(X86Cpu *cpu, uint32_t v, unsigned size)
{
    uint32_t mask = x86_sp_mask(cpu);
    uint32_t sp = (cpu->regs[R_ESP] - size) & mask;
    x86_wr(cpu, S_SS, sp, v, size);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | sp;
}
static inline uint32_t x86_pop(X86Cpu *cpu, unsigned size)
{
    uint32_t mask = x86_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & mask;
    uint32_t v = x86_rd(cpu, S_SS, sp, size);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | ((sp + size) & mask);
    return v;
}

/* ---- operands ---- */
static inline uint32_t x86_ea(X86Cpu *cpu, const X86Insn *in)
{
    uint32_t a = (uint32_t)in->disp;
    if (in->base < X86_R_NONE) {
        a += cpu->regs[in->base];
    }
    if (in->index < X86_R_NONE) {
        a += cpu->regs[in->index] << in->scale;
    }
    if (in->base == X86_R_RIP) {
        a += in->ip + in->len; /* the next instruction's RIP */
    }
    return in->asz32 ? a : (a & 0xffff);
}

static inline uint32_t x86_getreg(X86Cpu *cpu, int r, unsigned size)
{
    if (size == 4) {
        return (uint32_t)cpu->regs[r];
    } else if (size == 2) {
        return cpu->regs[r] & 0xffff;
    }
    return r < 4 ? cpu->regs[r] & 0xff : (cpu->regs[r - 4] >> 8) & 0xff;
}

/* A 32-bit write zero-extends; 8- and 16-bit writes merge. */
static inline void x86_setreg(X86Cpu *cpu, int r, uint32_t v, unsigned size)
{
    if (size == 4) {
        cpu->regs[r] = v;
    } else if (size == 2) {
        cpu->regs[r] = (cpu->regs[r] & ~(uint64_t)0xffff) | (v & 0xffff);
    } else if (r < 4) {
        cpu->regs[r] = (cpu->regs[r] & ~(uint64_t)0xff) | (v & 0xff);
    } else {
        cpu->regs[r - 4] = (cpu->regs[r - 4] & ~(uint64_t)0xff00) |
                           ((v & 0xff) << 8);
    }
}

static inline uint32_t x86_rm_read(X86Cpu *cpu, const X86Insn *in,
                                   unsigned size)
{
    if (in->mod == 3) {
        return x86_getreg(cpu, in->rm, size);
    }
    return x86_rd(cpu, in->seg, x86_ea(cpu, in), size);
}

static inline void x86_rm_write(X86Cpu *cpu, const X86Insn *in, uint32_t v,
                                unsigned size)
{
    if (in->mod == 3) {
        x86_setreg(cpu, in->rm, v, size);
    } else {
        x86_wr(cpu, in->seg, x86_ea(cpu, in), v, size);
    }
}

static inline uint32_t x86_mask(unsigned size)
{
    return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

static inline uint32_t x86_sign(unsigned size)
{
    return 1u << (size * 8 - 1);
}

/* Set eip for a near branch target (masked to 16 bits for o16). */
static inline void x86_jump(X86Cpu *cpu, uint32_t target, unsigned osz)
{
    if (osz != 4) {
        target &= 0xffff;
    }
    if (target > cpu->seg[S_CS].limit) {
        GP0(cpu);
    }
    cpu->rip = target;
}

/* ---- decoder (decode.c) ---- */
/* Decode one instruction at cs:eip; returns false on #UD-worthy bytes
   (the insn then holds a handler that raises #UD). Fetch faults longjmp. */
void x86_decode(X86Cpu *cpu, X86Insn *in, uint64_t ip, unsigned mode,
                uint32_t (*fetch)(void *ctx, uint64_t off), void *ctx,
                bool *ends_block);
/* Standalone length decoder for tests (mode as x86_decode's). */
int x86_decode_buf(const uint8_t *buf, int len, unsigned mode, bool *valid);
/* The mnemonic of opcode op (0x000-0x0ff, 0x100-0x1ff for 0F xx) in the
 * opcode map (opcodes.def), or NULL where the map has none (#UD). */
const char *x86_opcode_name(unsigned op);

/* ---- debug registers (debug.c) ---- */
#define DR6_BD 0x2000u
#define DR6_BS 0x4000u
#define DR6_BT 0x8000u
#define DR7_GD 0x2000u
/* Recompute dbg_exec/dbg_watch after a DR7 or DR0-3 change. */
void x86_dbg_update(X86Cpu *cpu);
/* Instruction breakpoints matching linear address lin (B0-B3 mask). */
unsigned x86_dbg_exec_match(X86Cpu *cpu, uint64_t lin);
/* A data breakpoint covers the linear page lpage: keep it off the TLB. */
bool x86_dbg_watched(X86Cpu *cpu, uint64_t lpage);
/* Slow-path data access: record data breakpoint hits. */
void x86_dbg_access(X86Cpu *cpu, uint64_t lin, unsigned size, bool write);
/* IN/OUT/INS/OUTS: record I/O breakpoint hits (CR4.DE, R/W = 10). */
void x86_dbg_io(X86Cpu *cpu, uint16_t port, unsigned size);

/* ---- translation blocks (tb.c) ---- */
/* The decode mode a block is keyed by (TBlock.flags). */
static inline uint32_t x86_tb_mode(const X86Cpu *cpu)
{
    return cpu->code32 | (cpu->pe << 1) |
           (((cpu->eflags & F_VM) != 0) << 2) | (cpu->code64 << 3);
}
void x86_tb_init(X86Cpu *cpu);
void x86_tb_free(X86Cpu *cpu);
void x86_tb_flush(X86Cpu *cpu);
TBlock *x86_tb_find(X86Cpu *cpu);
void x86_code_write(void *opaque, uint64_t paddr, unsigned len);

/* ---- handlers shared between files ---- */
void x86_op_ud(X86Cpu *cpu, const X86Insn *in);
void x86_op_unimpl64(X86Cpu *cpu, const X86Insn *in);
/* 64-bit mode (exec_64.c): every instruction decoded there runs here. */
void x86_h_exec64(X86Cpu *cpu, const X86Insn *in);
/* The handler for a 64-bit-mode instruction: x86_h_exec64 or one of the
   hot forms of exec_64.c. */
X86Handler x86_exec64_pick(const X86Insn *in);
void x86_interrupt64(X86Cpu *cpu, int vec, int kind, bool has_err,
                     uint32_t err);
/* The legacy map's handler of op (0x000-0x1ff), NULL if none. */
X86Handler x86_legacy_handler(unsigned op);
uint64_t x86_rdtsc(X86Cpu *cpu);
void x86_rdtscp(X86Cpu *cpu);
/* RDFSBASE RDGSBASE WRFSBASE WRGSBASE (F3 0F AE /0-/3, register form;
   exec_64.c): r = ModRM.reg, reg = the GPR, w = REX.W. */
void x86_fsgsbase(X86Cpu *cpu, unsigned r, unsigned reg, bool w);
void x86_cpuid(X86Cpu *cpu);
void x86_set_ferr(X86Cpu *cpu, bool level);
/* Diagnostics (cpu.c): the integer state as "info registers" shows it,
   and the -d cpu / in_asm log records. */
void x86_dump_state(X86Cpu *cpu, GString *out);
void x86_log_state(X86Cpu *cpu);
void x86_log_block(X86Cpu *cpu, const TBlock *tb);
void x86_set_cr0(X86Cpu *cpu, uint64_t v);
void x86_x87_op(X86Cpu *cpu, const X86Insn *in);
void x86_mmx_op(X86Cpu *cpu, const X86Insn *in);
void x86_h_mmx(X86Cpu *cpu, const X86Insn *in);
/* A waiting x87/MMX instruction found an x87 exception pending: #MF or
   FERR# (exec_system.c); true if the instruction goes on. */
bool x86_fpu_mf(X86Cpu *cpu);
/* XGETBV/XSETBV (exec_sse.c); raise #UD/#GP themselves. */
bool x86_xgetbv(X86Cpu *cpu);
bool x86_xsetbv(X86Cpu *cpu);
void x86_fwait(X86Cpu *cpu, const X86Insn *in);
/* SSE (exec_sse.c): validity of an SSE-map opcode (0x100-0x3ff) with its
   mandatory prefix (X86Insn.pfx) and ModRM: -1 #UD, else 1 if an imm8
   follows, 0 if not. */
int x86_sse_decode(unsigned op, unsigned pfx, uint8_t modrm);
/* The model's SSE features the core implements (X86F_SSE...). */
uint32_t x86_sse_features(const X86Cpu *cpu);
void x86_sse_dump(X86Cpu *cpu, GString *out);
/* FISTTP m16/m32/m64 (DF/DB/DD /1, SSE3): FISTP with truncation. */
void x86_fisttp(X86Cpu *cpu, const X86Insn *in);

/* ---- Linux user mode (user.c; the user layer's src/user/arch_i386.c) ----
 * A CPU at CPL 3 in flat 32-bit protected mode without paging over the
 * guest window [0, limit) at guest_base; the system tables live in a
 * private area at X86U_HIDDEN. */
#define X86U_HIDDEN 0xffff0000u
#define X86U_HIDDEN_SIZE 0x10000u
/* The process's LDT (modify_ldt), below the private area, in the same
   supervisor-only page. */
#define X86U_LDT 0xfffe0000u
#define X86U_LDT_ENTRIES 8192u
/* x86-64 programs: Linux's __USER_CS and __USER_DS. */
#define X86U_SEL64_UCODE 0x33
#define X86U_SEL64_UDATA 0x2b
#define X86U_SEL_UCODE 0x73
#define X86U_SEL_UDATA 0x7b
#define X86U_TLS_FIRST 6
enum { X86U_NONE = -1, X86U_SHUTDOWN = -2, X86U_SYSCALL = 0x100 };
typedef struct X86User {
    Cpu *cpu;
    X86Cpu *x;
    MemMap *mem;
    Clock *clock;
    uint8_t *hidden;
    uint64_t limit;     /* the window the CPU maps now */
    uint64_t limit_max; /* the window asked for (x86_user_map_high) */
    uint8_t *guest_base;
    bool lm; /* long mode: an x86-64 program */
    /* Told when the CPU first translates code from a page (the user layer
       write-protects it: user_code_page). */
    void (*code_page)(void *opaque, uint64_t addr);
    void *code_opaque;
    void (*marked_fn)(void *opaque, uint64_t page);
    void *marked_opaque;
    /* Invalidations other threads posted (x86_user_code_written_all):
       carried out by the owning thread in x86_user_run. */
    int has_pending; /* atomic */
    bool pending_all;
    unsigned npending;
    struct { uint64_t start, end; } pending[16];
} X86User;
X86User *x86_user_new(uint8_t *guest_base, uint64_t limit, GError **error);
/* A CPU of the model (-cpu; NULL: pentium2); an SSE model runs with
   CR4.OSFXSR and OSXMMEXCPT, as Linux sets them; lm: in long mode at
   CPL 3 in 64-bit code (SYSCALL returns X86U_SYSCALL from
   x86_user_run). */
X86User *x86_user_new_model(uint8_t *guest_base, uint64_t limit,
                            const char *model, bool lm, GError **error);
void x86_user_free(X86User *u);
/* A window above X86U_LOW_LIMIT costs each CPU's memory map 48 bytes per
   4 KiB page: it starts at X86U_LOW_LIMIT and the part above is mapped
   when the user layer asks (a #PF there on memory the guest mapped);
   false if it already was or there is none. */
#define X86U_LOW_LIMIT 0xc0000000ull
bool x86_user_map_high(X86User *u);
/* Registers, segments, x87 state and TLS entries of src (clone). */
void x86_user_copy(X86User *dst, const X86User *src);
void x86_user_set_pc_sp(X86User *u, uint32_t pc, uint32_t sp);
/* Load a user selector from the private GDT; false if not loadable. */
bool x86_user_set_seg(X86User *u, int s, uint16_t sel);
uint16_t x86_user_get_seg(X86User *u, int s);
/* set_thread_area's struct user_desc: entry (-1: pick and store), base,
   limit, the flag bits; 0 or -errno. */
int x86_user_set_tls(X86User *u, uint32_t *entry, uint32_t base,
                     uint32_t limit, uint32_t flags);
/* get_thread_area: the TLS entry's fields; 0 or -EINVAL. */
int x86_user_get_tls(X86User *u, uint32_t entry, uint32_t *base,
                     uint32_t *limit, uint32_t *flags);
/* modify_ldt: write an entry of the process's LDT (shared by every
   thread; oldmode: func 1); read its entries written so far (bytes). */
int x86_user_ldt_write(X86User *u, uint32_t entry, uint32_t base,
                       uint32_t limit, uint32_t flags, bool oldmode);
size_t x86_user_ldt_read(void *buf, size_t len);
/* Run until an event: X86U_NONE (budget, exit request), X86U_SHUTDOWN,
   or the vector taken (0x80: a system call), with its error code; the
   CPU is back in ring 3 at the faulting or next instruction. */
int x86_user_run(X86User *u, uint32_t *err);
/* From the host fault handler while the CPU runs: #PF at addr. */
G_NORETURN void x86_user_host_fault(X86User *u, uint64_t addr, bool write,
                                    bool present);
void x86_user_exit_request(X86User *u);
void x86_user_flush_code(X86User *u);
/* Every thread's CPU (any thread may call these): drop the blocks of
   [addr, addr + len) / all blocks, before the CPU runs its next block. */
void x86_user_code_written_all(uint64_t addr, uint64_t len);
void x86_user_flush_all(void);
/* The host wrote guest memory behind the CPU's back (a read() into it):
   drop the blocks translated from [addr, addr + len). */
void x86_user_written(X86User *u, uint64_t addr, uint64_t len);

#endif
