/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 JIT (docs/jit.md): translation blocks (TBlock) turned into
 * x86-64 host code that does what the dispatch loop of x86_run does for
 * the block, with hot instructions inlined and every other one a call to
 * its interpreter handler.  The code is entered from x86_run at a block
 * boundary, with the same bookkeeping after it: cpu->cur is the last
 * instruction started, and the code returns after it when it set
 * block_end or tb_dirty, or after the block's last instruction.
 * Exceptions longjmp out of it as out of a handler.
 *
 * Code lives in a buffer mapped twice (memfd): written through a RW view,
 * run through a RX view, never both at one address.  It is emptied when
 * the block cache is flushed; a block invalidated by a code write is no
 * longer found, so its code never runs again.
 */
#ifndef MIMIC_ARCH_X86_JIT_JIT_H
#define MIMIC_ARCH_X86_JIT_JIT_H

#include <glib.h>

#include "arch/x86/x86.h"

/* Why translated code returned to the loop (info jit). */
enum {
    JIT_EXIT_END,       /* after the block's last instruction */
    JIT_EXIT_BLOCK_END, /* an instruction ended the block (jump, I/O) */
    JIT_EXIT_DIRTY,     /* the block was invalidated (code write) */
    JIT_EXIT_FAULT,     /* an exception unwound it */
    JIT_EXIT_N
};

/* Runs of a block in the interpreter before it is translated. */
#define X86_JIT_THRESHOLD 2

/* The jump cache: the last block entered at each EIP (low bits), for the
   exits of indirect jumps and RET (jit.c).  key = tb_gen | tlb_user when
   it was entered, as TBlock.link's. */
#define X86_JIT_JC_SIZE 4096
typedef struct X86JitJc {
    uint32_t ip, key;
    TBlock *tb;
} X86JitJc;

typedef struct X86Jit X86Jit;
struct X86Jit {
    /* The code buffer: one memfd mapped RW and RX. */
    int fd;
    uint8_t *rw, *rx;
    size_t size, used;
    size_t cap;        /* bytes used for code (MIMIC_JIT_BUFFER caps it) */
    unsigned flushes_seen;   /* cpu->code.flushes when last emptied */
    unsigned fork_gen;       /* x86_jit_fork_gen when the buffer was made */
    unsigned threshold;      /* runs of a block before it is translated */
    bool inline_ops;         /* emit the simple instructions inline
                                (MIMIC_JIT_INLINE=0: every one a call) */
    bool chain;              /* chain blocks (MIMIC_JIT_CHAIN=0: never) */
    bool x87;                /* x87 stretches on the host FPU
                                (MIMIC_JIT_X87=0: handler calls) */
    uintptr_t chain_stub;    /* RX address of the shared chaining code */
    uintptr_t hcall_check;   /* its checks after a handler (a subroutine) */
    bool direct;             /* direct exits patched to their successor
                                (MIMIC_JIT_DIRECT=0: the chaining code) */
    int dx_key_off, dx_succ_off; /* patched fields, bytes before the end
                                    of a direct exit */
    uint64_t patched;        /* direct exits patched */
    X86JitJc *jc;            /* the jump cache (X86_JIT_JC_SIZE) */
    uint64_t chain_exits;    /* blocks that end in the chaining code */
    /* Statistics (info jit). */
    uint64_t blocks, insns, inlined, code_bytes_total, resets, full;
    uint64_t fused;          /* Jcc inline (flags recomputed or host) */
    uint64_t hfused;         /* of them on the host flags */
    uint64_t dead;           /* inlined without their (dead) flags */
    uint64_t runs, exits[JIT_EXIT_N], interp_runs;
    uint64_t translate_ns;
};

/* A JIT for cpu, or NULL (no x86-64 host, no memfd, no memory: the
   interpreter runs).  threshold: see X86Jit (MIMIC_JIT_THRESHOLD in the
   environment overrides it). */
X86Jit *x86_jit_new(unsigned threshold);
void x86_jit_free(X86Jit *jit);

/* At a block boundary: give tb host code (tb->host).  False if not
   translated (the buffer is full: a cache flush is requested, and the
   block runs in the interpreter this time). */
bool x86_jit_translate(X86Cpu *cpu, TBlock *tb);

/* After fork() (Linux user mode), before any host code runs in the
   child: a buffer of its own, the block cache flushed.  x86_run checks
   at its start (fork happens between runs). */
extern unsigned x86_jit_fork_gen;
void x86_jit_after_fork(X86Cpu *cpu);
static inline void x86_jit_check_fork(X86Cpu *cpu)
{
    if (G_UNLIKELY(cpu->jit->fork_gen != x86_jit_fork_gen)) {
        x86_jit_after_fork(cpu);
    }
}

/* Run tb's host code (see above for what it leaves in cpu). */
static inline void x86_jit_run(X86Cpu *cpu, TBlock *tb)
{
    X86JitJc *e = &cpu->jit->jc[tb->ip & (X86_JIT_JC_SIZE - 1)];
    e->ip = (uint32_t)tb->ip;
    e->key = cpu->tb_gen | (uint32_t)cpu->tlb_user;
    e->tb = tb;
    ((void (*)(X86Cpu *))tb->host)(cpu);
}

void x86_jit_info(X86Jit *jit, const X86Cpu *cpu, GString *out);

#endif
