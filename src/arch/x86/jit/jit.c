/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 JIT: the code buffer (W^X by dual mapping) and the translation
 * of a TBlock to x86-64 host code (jit.h, docs/jit.md).
 *
 * The generated function, called as void f(X86Cpu *cpu):
 *
 *     push rbx, r12, r13, r14, r15, rbp; sub rsp, 8   (17 bytes, the
 *     same for every block: chained blocks jump to host + 17)
 *     rbx = cpu, r12 = tb->insn, r13 scratch kept across the fast paths,
 *     r8-r11, r14, r15, rbp guest registers (the register cache)
 *   per instruction i (not inlined):
 *     cpu->cur = &insn[i]; cpu->rip = insn[i].ip + insn[i].len
 *     call insn[i].fn(cpu, &insn[i])
 *     if (cpu->tb_dirty | cpu->block_end) goto out   (not after the last)
 *   at the end, for most blocks: the exits to the next block (direct
 *   exits patched to their successor, the jump cache after RET and
 *   indirect jumps, the shared chaining code chain_stub as their slow
 *   path), else
 *   out:
 *     add rsp, 8; pop ...; ret
 *
 * which is the interpreter's loop unrolled, so faults (longjmp to x86_run
 * with cpu->cur), self-modifying code, interrupts raised by I/O and the
 * instruction count behave as there.
 */
#include "arch/x86/jit/jit.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && defined(__linux__)
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86/jit/asm.h"
#include "arch/x86/jit/jit_x87.h"
#include "arch/x86/jit/jit64.h"
#include "arch/x86/ops.h"

#define JIT_BUF_SIZE (32u << 20)

G_STATIC_ASSERT(offsetof(X86Cpu, block_end) ==
                offsetof(X86Cpu, tb_dirty) + 1);

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* Bumped in a child process after fork(): the code buffer is a shared
   mapping, so parent and child would write into each other's code; the
   child takes a buffer of its own (x86_jit_after_fork). */
unsigned x86_jit_fork_gen;

static void jit_atfork_child(void)
{
    x86_jit_fork_gen++;
}

static void jit_register_atfork(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        pthread_atfork(NULL, NULL, jit_atfork_child);
        g_once_init_leave(&once, 1);
    }
}

/* A new code buffer: one memfd, a RW and a RX view. */
static bool map_buffer(X86Jit *jit)
{
    int fd = memfd_create("mimic-jit", MFD_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    if (ftruncate(fd, JIT_BUF_SIZE) < 0) {
        close(fd);
        return false;
    }
    /* The RX view near our own code if the kernel agrees, so that calls
       to the handlers are rel32. */
    uintptr_t hint = ((uintptr_t)&x86_jit_new & ~(uintptr_t)0xfffff) -
                     ((uintptr_t)JIT_BUF_SIZE << 3);
    void *rx = mmap((void *)hint, JIT_BUF_SIZE, PROT_READ | PROT_EXEC,
                    MAP_SHARED, fd, 0);
    void *rw = mmap(NULL, JIT_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                    fd, 0);
    if (rx == MAP_FAILED || rw == MAP_FAILED) {
        if (rx != MAP_FAILED) {
            munmap(rx, JIT_BUF_SIZE);
        }
        if (rw != MAP_FAILED) {
            munmap(rw, JIT_BUF_SIZE);
        }
        close(fd);
        return false;
    }
    jit->fd = fd;
    jit->rw = rw;
    jit->rx = rx;
    jit->size = JIT_BUF_SIZE;
    jit->used = 0;
    jit->fork_gen = x86_jit_fork_gen;
    return true;
}

static void unmap_buffer(X86Jit *jit)
{
    munmap(jit->rw, jit->size);
    munmap(jit->rx, jit->size);
    close(jit->fd);
}

X86Jit *x86_jit_new(unsigned threshold)
{
    const char *env = getenv("MIMIC_JIT_THRESHOLD");
    if (env && *env) {
        threshold = strtoul(env, NULL, 10);
    }
    jit_register_atfork();
    X86Jit *jit = g_new0(X86Jit, 1);
    jit->jc = g_new0(X86JitJc, X86_JIT_JC_SIZE);
    if (!map_buffer(jit)) {
        g_free(jit);
        return NULL;
    }
    jit->threshold = threshold;
    /* A small buffer for tests: it fills up and flushes all the time. */
    env = getenv("MIMIC_JIT_BUFFER");
    jit->cap = jit->size;
    if (env && *env) {
        jit->cap = CLAMP(strtoul(env, NULL, 10), 4096, jit->size);
    }
    env = getenv("MIMIC_JIT_INLINE");
    jit->inline_ops = !(env && !strcmp(env, "0"));
    env = getenv("MIMIC_JIT_CHAIN");
    jit->chain = !(env && !strcmp(env, "0"));
    env = getenv("MIMIC_JIT_X87");
    jit->x87 = !(env && !strcmp(env, "0"));
    env = getenv("MIMIC_JIT_DIRECT");
    jit->direct = !(env && !strcmp(env, "0"));
    jit->flushes_seen = ~0u;
    return jit;
}

void x86_jit_after_fork(X86Cpu *cpu)
{
    X86Jit *jit = cpu->jit;
    /* Every block's host code goes with the old buffer: the block cache
       is flushed (lookups miss at once) before anything runs. */
    x86_tb_flush(cpu);
    unmap_buffer(jit);
    jit->resets++;
    if (!map_buffer(jit)) {
        g_free(jit);
        cpu->jit = NULL; /* no buffer: the interpreter runs */
    }
}

void x86_jit_free(X86Jit *jit)
{
    if (!jit) {
        return;
    }
    unmap_buffer(jit);
    g_free(jit->jc);
    g_free(jit);
}

#define CPU_OFF(field) ((int32_t)offsetof(X86Cpu, field))

#define REG_OFF(r) (CPU_OFF(regs) + 8 * (int32_t)(r))

/* Guest registers cached in host registers within a block (all but
   ESP): loaded on first use, written back (zero-extended, as every
   32-bit write leaves them) before anything that could look at
   cpu->regs: a handler or C call, a memory access's fast path (whose
   slow path is a handler), a Jcc, the block's end.  After a call the
   cache is empty (the handler may have changed them; r8-r11 are the
   callee's).  Translation state, per thread (user-mode threads). */
static const int8_t greg_host[8] = {
    H_R8, H_R9, H_R10, H_R11, -1, H_R14, H_R15, H_RBP,
};
enum { RC_NONE, RC_CLEAN, RC_DIRTY };
static __thread uint8_t rc_state[8];

/* The host's flags hold those of the last inline flag-setting
   instruction (OF SF ZF PF, and CF but after INC/DEC): set by the
   instruction that computed them, cleared by the translation loop before
   every other one (emit_jcc uses them for the instruction right after). */
static __thread bool hflags;

/* dst32 = guest register g. */
static void gld(Asm *a, int dst, int g)
{
    int h = greg_host[g];
    if (h < 0) {
        a_ld32(a, dst, H_RBX, REG_OFF(g));
        return;
    }
    if (rc_state[g] == RC_NONE) {
        a_ld32(a, h, H_RBX, REG_OFF(g));
        rc_state[g] = RC_CLEAN;
    }
    a_op_rr(a, false, 0x89, h, dst); /* mov dst32, h32 */
}

/* guest register g = src (a zero-extended 32-bit value). */
static void gst(Asm *a, int g, int src)
{
    int h = greg_host[g];
    if (h < 0) {
        a_st64(a, H_RBX, REG_OFF(g), src);
        return;
    }
    a_op_rr(a, false, 0x89, src, h);
    rc_state[g] = RC_DIRTY;
}

/* The host register holding guest register g, loaded; -1 for ESP. */
static int greg(Asm *a, int g)
{
    int h = greg_host[g];
    if (h >= 0 && rc_state[g] == RC_NONE) {
        a_ld32(a, h, H_RBX, REG_OFF(g));
        rc_state[g] = RC_CLEAN;
    }
    return h;
}

static void rc_flush(Asm *a)
{
    for (int g = 0; g < 8; g++) {
        if (rc_state[g] == RC_DIRTY) {
            a_st64(a, H_RBX, REG_OFF(g), greg_host[g]);
            rc_state[g] = RC_CLEAN;
        }
    }
}

static void rc_drop(void)
{
    memset(rc_state, RC_NONE, sizeof(rc_state));
}

/* cpu->cur and cpu->rip as the loop leaves them before insn i's handler. */
static void emit_cur_rip(Asm *a, const TBlock *tb, int i)
{
    const X86Insn *in = &tb->insn[i];
    a_op_mem(a, true, 0x8d, H_RSI, H_R12, (int32_t)(i * sizeof(X86Insn)));
    a_st64(a, H_RBX, CPU_OFF(cur), H_RSI);
    uint64_t next = in->ip + in->len;
    if (next < 0x80000000u) {
        a_st64_imm(a, H_RBX, CPU_OFF(rip), (int32_t)next);
    } else {
        a_mov_ri(a, H_RAX, next);
        a_st64(a, H_RBX, CPU_OFF(rip), H_RAX);
    }
}

/* A 32-bit ALU operation as alu() in exec_alu.c does it: dst op= src
   (a register, or imm when src < 0) with the lazy flags set; opn is the
   ModRM.reg numbering (0 ADD, 1 OR, 4 AND, 5 SUB, 6 XOR, 7 CMP) or 8 for
   TEST.  The result is written back except for CMP and TEST. */
static void emit_alu32(Asm *a, int opn, int dst, int src, uint32_t imm,
                       bool dead)
{
    static const uint8_t host_op[9] = {
        [0] = 0x01, [1] = 0x09, [4] = 0x21, [5] = 0x29, [6] = 0x31,
        [7] = 0x29, [8] = 0x21,
    };
    int hd = greg(a, dst);
    int hs = src >= 0 ? greg(a, src) : -1;
    if (hd >= 0 && (src < 0 || hs >= 0)) {
        /* Both in host registers: the operation in place. */
        bool arith = opn == 0 || opn == 5 || opn == 7;
        bool wb = opn != 7 && opn != 8;
        if (dead && !wb) {
            return;
        }
        if (src < 0) {
            hs = H_RCX;
            a_mov_ri(a, H_RCX, imm);
        }
        if (dead) {
            a_alu32_rr(a, host_op[opn], hd, hs);
            rc_state[dst] = RC_DIRTY;
            return;
        }
        if (arith) {
            a_st64(a, H_RBX, CPU_OFF(lf_a), hd);
            a_st64(a, H_RBX, CPU_OFF(lf_b), hs);
        }
        int r = hd;
        if (!wb) {
            r = H_RAX;
            a_op_rr(a, false, 0x89, hd, H_RAX); /* mov eax, hd */
        }
        a_alu32_rr(a, host_op[opn], r, hs);
        if (arith) {
            a_st32_imm(a, H_RBX, CPU_OFF(lf_op), opn == 0 ? LF_ADD : LF_SUB);
        } else {
            a_st64_imm(a, H_RBX, CPU_OFF(lf_a), 0);
            a_st64_imm(a, H_RBX, CPU_OFF(lf_b), 0);
            a_st32_imm(a, H_RBX, CPU_OFF(lf_op), LF_LOGIC);
        }
        a_st64(a, H_RBX, CPU_OFF(lf_res), r);
        a_st8_imm(a, H_RBX, CPU_OFF(lf_size), 4);
        if (wb) {
            rc_state[dst] = RC_DIRTY;
        }
        hflags = true; /* only MOVs since the operation */
        return;
    }
    if (dead) {
        /* The flags are overwritten before anything reads them (flag
           liveness): only the result. */
        if (opn == 7 || opn == 8) {
            return;
        }
        gld(a, H_RAX, dst);
        if (src >= 0) {
            gld(a, H_RCX, src);
        } else {
            a_mov_ri(a, H_RCX, imm);
        }
        a_alu32_rr(a, host_op[opn], H_RAX, H_RCX);
        gst(a, dst, H_RAX);
        return;
    }
    gld(a, H_RAX, dst);
    if (src >= 0) {
        gld(a, H_RCX, src);
    } else {
        a_mov_ri(a, H_RCX, imm);
    }
    bool arith = opn == 0 || opn == 5 || opn == 7;
    if (arith) {
        a_st64(a, H_RBX, CPU_OFF(lf_a), H_RAX);
        a_st64(a, H_RBX, CPU_OFF(lf_b), H_RCX);
    }
    a_alu32_rr(a, host_op[opn], H_RAX, H_RCX);
    if (arith) {
        a_st32_imm(a, H_RBX, CPU_OFF(lf_op), opn == 0 ? LF_ADD : LF_SUB);
    } else {
        a_st64_imm(a, H_RBX, CPU_OFF(lf_a), 0);
        a_st64_imm(a, H_RBX, CPU_OFF(lf_b), 0);
        a_st32_imm(a, H_RBX, CPU_OFF(lf_op), LF_LOGIC);
    }
    a_st64(a, H_RBX, CPU_OFF(lf_res), H_RAX);
    a_st8_imm(a, H_RBX, CPU_OFF(lf_size), 4);
    if (opn != 7 && opn != 8) {
        gst(a, dst, H_RAX);
    }
    hflags = true;
}

/* A 32-bit addressing form over legacy registers (base and index 0-7 or
   none; never RIP-relative or REX registers): what emit_ea32 knows. */
static bool ea32_legacy(const X86Insn *in)
{
    return in->asz32 == 1 && in->asz == 4 &&
           (in->base < 8 || in->base == X86_R_NONE) &&
           (in->index < 8 || in->index == X86_R_NONE);
}

/* EAX = the effective address of a 32-bit addressing form. */
static void emit_ea32(Asm *a, const X86Insn *in)
{
    a_mov_ri(a, H_RAX, (uint32_t)in->disp);
    if (in->base < 8) {
        gld(a, H_RCX, in->base);
        a_alu32_rr(a, 0x01, H_RAX, H_RCX);
    }
    if (in->index < 8) {
        gld(a, H_RCX, in->index);
        if (in->scale) {
            a_shl32_ri(a, H_RCX, in->scale);
        }
        a_alu32_rr(a, 0x01, H_RAX, H_RCX);
    }
}

static bool alu_inlined(int opn)
{
    return opn != 2 && opn != 3; /* ADC and SBB need the carry */
}

/* What the lazy flags hold, as far as the translator knows at a point
   of the block: the last flag-setting instruction was one it inlined,
   with no handler call since that could have changed them. */
enum { FL_UNKNOWN, FL_ADD, FL_SUB, FL_LOGIC, FL_INCDEC };

/* The count of a shift or rotate by a constant on a 32-bit register
   (C1 / D1, not RCL/RCR), 1-31; 0 when the count is 0 (no effect); -1
   when not such an instruction. */
static int shift_count(const X86Insn *in)
{
    if (in->op0f || in->mod != 3 || in->reg == 2 || in->reg == 3 ||
        (in->op != 0xc1 && in->op != 0xd1)) {
        return -1;
    }
    return in->op == 0xd1 ? 1 : (int)(in->imm & 0x1f);
}

/* lf_cf = CF of the lazy state before an INC/DEC, as x86_cf() computes
   it: from what the translator knows (fl) or by lf_op. */
static void emit_save_cf(Asm *a, int fl)
{
    switch (fl) {
    case FL_INCDEC:
        return; /* lf_cf holds it already */
    case FL_LOGIC:
        a_st8_imm(a, H_RBX, CPU_OFF(lf_cf), 0);
        return;
    case FL_SUB: /* CF = a < b */
        a_ld32(a, H_RAX, H_RBX, CPU_OFF(lf_a));
        a_alu32_rm(a, 0x3b, H_RAX, H_RBX, CPU_OFF(lf_b));
        break;
    case FL_ADD: /* CF = res < a */
        a_ld32(a, H_RAX, H_RBX, CPU_OFF(lf_res));
        a_alu32_rm(a, 0x3b, H_RAX, H_RBX, CPU_OFF(lf_a));
        break;
    default: {
        /* lf_op LOGIC: 0; INC/DEC: lf_cf; anything else: x86_cf() (a C
           call: the register cache goes) */
        rc_flush(a);
        a_alu_mem_imm(a, false, 7, H_RBX, CPU_OFF(lf_op), LF_LOGIC);
        AsmFixup logic = a_jcc_fwd(a, CC_E);
        a_alu_mem_imm(a, false, 7, H_RBX, CPU_OFF(lf_op), LF_INC);
        AsmFixup keep1 = a_jcc_fwd(a, CC_E);
        a_alu_mem_imm(a, false, 7, H_RBX, CPU_OFF(lf_op), LF_DEC);
        AsmFixup keep2 = a_jcc_fwd(a, CC_E);
        a_mov_rr(a, H_RDI, H_RBX);
        a_call(a, (const void *)x86_cf);
        a_op_mem(a, false, 0x88, H_RAX, H_RBX, CPU_OFF(lf_cf)); /* mov al */
        AsmFixup done = a_jmp_fwd(a);
        a_bind(a, logic);
        a_st8_imm(a, H_RBX, CPU_OFF(lf_cf), 0);
        a_bind(a, keep1);
        a_bind(a, keep2);
        a_bind(a, done);
        rc_drop();
        return;
    }
    }
    a_setcc(a, CC_B, H_RAX);
    a_op_mem(a, false, 0x88, H_RAX, H_RBX, CPU_OFF(lf_cf)); /* mov al */
}

/* Emit insn inline if it is one of the simple forms the translator knows
   (32-bit operand size, registers 0-7, the legacy modes of the decode
   flags; no fault possible); false: call its handler. */
static bool emit_inline(Asm *a, const TBlock *tb, const X86Insn *in,
                        bool dead, int fl)
{
    if ((tb->flags & ~7u) || in->lock || in->osz != 4 || in->reg >= 8 ||
        in->rm >= 8) {
        return false;
    }
    int opn = (in->op >> 3) & 7;
    if (in->op0f && in->op == 0xaf && in->mod == 3 && dead) {
        /* IMUL r32, r32 with its flags dead */
        gld(a, H_RAX, in->reg);
        gld(a, H_RCX, in->rm);
        a_imul32_rr(a, H_RAX, H_RCX);
        gst(a, in->reg, H_RAX);
        return true;
    }
    if (in->fn == x86_h_mov_rr32) {
        int dst = in->op == 0x89 ? in->rm : in->reg;
        int src = in->op == 0x89 ? in->reg : in->rm;
        int hs = greg(a, src);
        if (hs >= 0) {
            gst(a, dst, hs);
            return true;
        }
        gld(a, H_RAX, src);
        gst(a, dst, H_RAX);
        return true;
    }
    if (in->fn == x86_h_mov_r_imm) {
        int h = greg_host[in->op & 7];
        if (h >= 0) {
            a_mov_ri(a, h, (uint32_t)in->imm);
            rc_state[in->op & 7] = RC_DIRTY;
            return true;
        }
        a_mov_ri(a, H_RAX, (uint32_t)in->imm);
        gst(a, in->op & 7, H_RAX);
        return true;
    }
    if (in->fn == x86_h_lea && in->mod != 3 && ea32_legacy(in)) {
        emit_ea32(a, in);
        gst(a, in->reg, H_RAX);
        return true;
    }
    if (in->fn == x86_h_test_rm_r && in->mod == 3) {
        emit_alu32(a, 8, in->rm, in->reg, 0, dead);
        return true;
    }
    if (in->op0f) {
        return false;
    }
    if (in->op >= 0x40 && in->op <= 0x4f) {
        /* INC/DEC r32 (legacy modes: not REX): CF kept in lf_cf. */
        int r = in->op & 7;
        if (dead) {
            int h = greg(a, r);
            if (h >= 0) {
                a_alu_ri(a, false, in->op < 0x48 ? 0 : 5, h, 1);
                rc_state[r] = RC_DIRTY;
                return true;
            }
            gld(a, H_RCX, r);
            a_alu_ri(a, false, in->op < 0x48 ? 0 : 5, H_RCX, 1);
            gst(a, r, H_RCX);
            return true;
        }
        emit_save_cf(a, fl);
        gld(a, H_RCX, r);
        a_st64(a, H_RBX, CPU_OFF(lf_a), H_RCX);
        a_alu_ri(a, false, in->op < 0x48 ? 0 : 5, H_RCX, 1);
        gst(a, r, H_RCX);
        a_st64(a, H_RBX, CPU_OFF(lf_res), H_RCX);
        a_st64_imm(a, H_RBX, CPU_OFF(lf_b), 1);
        a_st32_imm(a, H_RBX, CPU_OFF(lf_op),
                   in->op < 0x48 ? LF_INC : LF_DEC);
        a_st8_imm(a, H_RBX, CPU_OFF(lf_size), 4);
        hflags = true;
        return true;
    }
    if (in->op < 0x40 && in->mod == 3 && alu_inlined(opn) &&
        ((in->op & 7) == 1 || (in->op & 7) == 3)) {
        /* 01/09/21/29/31/39: rm op= reg; 03/0B/...: reg op= rm. */
        if (in->op & 2) {
            emit_alu32(a, opn, in->reg, in->rm, 0, dead);
        } else {
            emit_alu32(a, opn, in->rm, in->reg, 0, dead);
        }
        return true;
    }
    if (in->op < 0x40 && (in->op & 7) == 5 && alu_inlined(opn)) {
        emit_alu32(a, opn, R_EAX, -1, in->imm, dead); /* EAX op= imm */
        return true;
    }
    if ((in->op == 0x81 || in->op == 0x83) && in->mod == 3 &&
        alu_inlined(in->reg)) {
        emit_alu32(a, in->reg, in->rm, -1, in->imm, dead);
        return true;
    }
    if (in->op == 0xf7 && in->reg == 0 && in->mod == 3) {
        emit_alu32(a, 8, in->rm, -1, in->imm, dead); /* TEST r32, imm */
        return true;
    }
    if ((in->op == 0x69 || in->op == 0x6b) && in->mod == 3 && dead) {
        /* IMUL r32, r32, imm with its flags dead */
        int hs = greg(a, in->rm);
        int hd = greg_host[in->reg];
        if (hs >= 0 && hd >= 0) {
            a_imul32_rri(a, hd, hs, (int32_t)in->imm);
            rc_state[in->reg] = RC_DIRTY;
            return true;
        }
        gld(a, H_RCX, in->rm);
        a_imul32_rri(a, H_RAX, H_RCX, (int32_t)in->imm);
        gst(a, in->reg, H_RAX);
        return true;
    }
    int cnt = shift_count(in);
    if (cnt > 0 && dead) {
        /* ROL ROR SHL SHR SAL SAR r32, imm with the flags dead */
        int h = greg(a, in->rm);
        if (h >= 0) {
            a_shift32_ri(a, in->reg == 6 ? 4 : in->reg, h, (uint8_t)cnt);
            rc_state[in->rm] = RC_DIRTY;
            return true;
        }
        gld(a, H_RAX, in->rm);
        a_shift32_ri(a, in->reg == 6 ? 4 : in->reg, H_RAX, (uint8_t)cnt);
        gst(a, in->rm, H_RAX);
        return true;
    }
    return false;
}

/* The interpreter's bookkeeping and handler call for insn i. */
static void emit_call_insn(Asm *a, const TBlock *tb, int i)
{
    rc_flush(a);
    emit_cur_rip(a, tb, i);
    a_st8_imm(a, H_RBX, CPU_OFF(jit_hcall), 1);
    a_mov_rr(a, H_RDI, H_RBX);
    a_call(a, (const void *)tb->insn[i].fn);
    rc_drop();
}

#define SEG_OFF(s, f) (CPU_OFF(seg) + (int32_t)((s) * sizeof(SegCache) + \
                                               offsetof(SegCache, f)))
#define TLB_OFF(f) (CPU_OFF(tlb) + (int32_t)offsetof(TlbEntry, f))

/* ---- Linux user mode's direct fast path (user4) ----
   The block being translated is guest code of a user-mode CPU
   (cpu->user_host set, the block below X86U_HIDDEN): its memory
   accesses go straight to user_host + (uint32_t)(base + off), the
   host's protections standing for the TLB's (a fault becomes #PF;
   translated code on a writable page is write-protected on the host,
   src/user/mem.c).  Set per block by x86_jit_translate. */
static __thread bool jit_user_direct;

static void emit_user_host(Asm *a, int s)
{
    a_alu32_rm(a, 0x03, H_RAX, H_RBX, SEG_OFF(s, base)); /* wraps at 4 GiB */
    a_op_mem(a, true, 0x03, H_RAX, H_RBX, CPU_OFF(user_host));
}

static void emit_cur_rip(Asm *a, const TBlock *tb, int i);
static void emit_epilogue(Asm *a);

/* After a direct store in the middle of a block: a store to a page of
   translated code faulted on the host and asked every CPU to drop the
   page's blocks (exit_req, src/user/mem.c): leave the block after this
   instruction, as the TLB path's handler leaves it (tb_dirty), so that
   code the store changed further on in the block runs new. */
static void emit_user_store_exit(Asm *a, const TBlock *tb, int i)
{
    a_alu_mem_imm(a, false, 7, H_RBX, CPU_OFF(exit_req), 0);
    AsmFixup go_on = a_jcc_fwd(a, CC_E);
    emit_cur_rip(a, tb, i);
    emit_epilogue(a);
    a_bind(a, go_on);
}

/* The fast path of x86_seg_check + x86_read_lin/x86_write_lin for a
   4-byte access at the 32-bit offset in EAX through segment s: leaves
   the host address in RAX, or jumps to one of the fixups it adds to
   slow (a limit or right problem, a TLB miss, a page crossing; MMIO and
   code pages have no valid tag of the kind asked). */
#define TLB_ROW_SHIFT 15
G_STATIC_ASSERT(sizeof(TlbEntry) == 32);
G_STATIC_ASSERT(sizeof(((X86Cpu *)0)->tlb[0]) == 1u << TLB_ROW_SHIFT);

static void emit_fast_host(Asm *a, int s, bool store, AsmFixup *slow,
                           int *ns, unsigned size)
{
    /* off in [lo, hi], hi - off >= size - 1, the right to read or write */
    a_alu32_rm(a, 0x3b, H_RAX, H_RBX, SEG_OFF(s, lo));
    slow[(*ns)++] = a_jcc_fwd(a, CC_B);
    a_ld32(a, H_RCX, H_RBX, SEG_OFF(s, hi));
    a_alu32_rr(a, 0x29, H_RCX, H_RAX);
    slow[(*ns)++] = a_jcc_fwd(a, CC_B);
    if (size > 1) {
        a_alu_ri(a, false, 7, H_RCX, (int32_t)size - 1);
        slow[(*ns)++] = a_jcc_fwd(a, CC_B);
    }
    a_cmp8_mem_imm(a, H_RBX, store ? SEG_OFF(s, wok) : SEG_OFF(s, rok), 0);
    slow[(*ns)++] = a_jcc_fwd(a, CC_E);
    if (jit_user_direct) {
        emit_user_host(a, s);
        return;
    }
    /* lin = base + off; the entry of tlb[tlb_user][(lin >> 12) & 1023]
       (32-byte entries: (lin >> 7) & (1023 << 5)) */
    a_op_mem(a, true, 0x03, H_RAX, H_RBX, SEG_OFF(s, base));
    a_ld32(a, H_RDX, H_RBX, CPU_OFF(tlb_user));
    a_shl32_ri(a, H_RDX, TLB_ROW_SHIFT);
    a_mov_rr(a, H_RCX, H_RAX);
    a_shr32_ri(a, H_RCX, 12 - 5);
    a_alu_ri(a, false, 4, H_RCX, (TLB_SIZE - 1) << 5);
    a_op_rr(a, true, 0x01, H_RDX, H_RCX); /* add rcx, rdx */
    a_op_rr(a, true, 0x01, H_RBX, H_RCX); /* add rcx, rbx */
    /* The tag compared with the page of the last byte: a hit means it is
       lin's page too (the entry at lin's index never holds the next
       page, whose index differs), so the access does not cross. */
    a_mov_rr(a, H_RDX, H_RAX);
    if (size > 1) {
        a_alu_ri(a, true, 0, H_RDX, (int32_t)size - 1);
    }
    a_alu_ri(a, true, 4, H_RDX, -4096);
    a_op_mem(a, true, 0x3b, H_RDX, H_RCX,
             store ? TLB_OFF(tag_w) : TLB_OFF(tag_r));
    slow[(*ns)++] = a_jcc_fwd(a, CC_NE);
    a_op_mem(a, true, 0x03, H_RAX, H_RCX, TLB_OFF(addend));
}

/* 32-bit memory accesses inline with the handler call as slow path:
   MOV r32,[m] (8B), MOV [m],r32 (89) with 32-bit addressing, PUSH r32
   and POP r32 with a 32-bit stack.  The fast path cannot fault; anything
   unusual calls the handler, which redoes the instruction with every
   rule.  The fall-through is the next instruction; a handler call that
   ended the block jumps to *out (not after the last instruction). */
/* ADD/OR/AND/SUB/XOR/CMP r32, m32 (ADC and SBB need the carry). */
static bool alu_load(const X86Insn *in)
{
    return !in->op0f && in->op < 0x40 && (in->op & 7) == 3 &&
           in->mod != 3 && alu_inlined((in->op >> 3) & 7);
}

static bool emit_mem32(Asm *a, const TBlock *tb, int i, AsmFixup *out,
                       bool *rip_set)
{
    const X86Insn *in = &tb->insn[i];
    enum { LOAD, STORE, PUSH, POP, CALL, RET, JMP, STORE_IMM, MOVZX,
           ALU_LOAD } kind;
    bool last = i + 1 == tb->n;
    unsigned size = 4;
    *rip_set = false;
    if (in->fn == x86_h_mov_load32) {
        kind = LOAD;
    } else if (in->fn == x86_h_mov_store32) {
        kind = STORE;
    } else if (in->fn == x86_h_push_r && !in->op0f) {
        kind = PUSH;
    } else if (in->fn == x86_h_pop_r && !in->op0f) {
        kind = POP;
    } else if (!in->op0f && in->op == 0xe8) {
        kind = CALL;
    } else if (!in->op0f && (in->op == 0xc3 || in->op == 0xc2) && last) {
        kind = RET;
    } else if (!in->op0f && (in->op == 0xe9 || in->op == 0xeb)) {
        kind = JMP;
    } else if (!in->op0f && (in->op == 0xc6 || in->op == 0xc7) &&
               in->mod != 3 && in->reg == 0) {
        kind = STORE_IMM; /* MOV r/m8, imm8 / MOV r/m32, imm32 */
        size = in->op == 0xc6 ? 1 : 4;
    } else if (in->op0f && (in->op == 0xb6 || in->op == 0xb7) &&
               in->mod != 3) {
        kind = MOVZX; /* MOVZX r32, m8 / m16 */
        size = in->op == 0xb6 ? 1 : 2;
    } else if (alu_load(in)) {
        kind = ALU_LOAD; /* ADD/OR/AND/SUB/XOR/CMP r32, m32 */
    } else {
        return false;
    }
    if ((tb->flags & ~7u) || in->lock ||
        in->osz != (kind == STORE_IMM ? size : 4)) {
        return false;
    }
    if ((kind == LOAD || kind == STORE || kind == STORE_IMM ||
         kind == MOVZX || kind == ALU_LOAD) &&
        (!ea32_legacy(in) || in->reg >= 8 || in->seg >= 6)) {
        return false;
    }
    AsmFixup slow[8];
    int ns = 0;
    int r = in->op & 7;
    /* The fast path reads cpu->regs, the slow path too: written back,
       but the cache stays (the slow path reloads it). */
    rc_flush(a);
    /* cpu->cur first: in Linux user mode a host fault on the guest's
       memory raises #PF from inside the fast path (x86_user_host_fault),
       and the exception takes the instruction from cur. */
    a_op_mem(a, true, 0x8d, H_RSI, H_R12, (int32_t)(i * sizeof(X86Insn)));
    a_st64(a, H_RBX, CPU_OFF(cur), H_RSI);
    switch (kind) {
    case LOAD:
    case STORE:
        emit_ea32(a, in);
        emit_fast_host(a, in->seg, kind == STORE, slow, &ns, 4);
        if (kind == STORE) {
            int h = greg_host[in->reg];
            if (h < 0 || rc_state[in->reg] == RC_NONE) {
                h = H_RDX;
                a_ld32(a, H_RDX, H_RBX, REG_OFF(in->reg));
            }
            a_st32(a, H_RAX, 0, h);
        } else {
            a_ld32(a, H_RAX, H_RAX, 0);
            a_st64(a, H_RBX, REG_OFF(in->reg), H_RAX);
        }
        break;
    case STORE_IMM:
        emit_ea32(a, in);
        emit_fast_host(a, in->seg, true, slow, &ns, size);
        if (size == 1) {
            a_st8_imm(a, H_RAX, 0, (uint8_t)in->imm);
        } else {
            a_st32_imm(a, H_RAX, 0, (uint32_t)in->imm);
        }
        break;
    case MOVZX:
        emit_ea32(a, in);
        emit_fast_host(a, in->seg, false, slow, &ns, size);
        if (size == 1) {
            a_ldzx8(a, H_RAX, H_RAX, 0);
        } else {
            a_ldzx16(a, H_RAX, H_RAX, 0);
        }
        a_st64(a, H_RBX, REG_OFF(in->reg), H_RAX);
        break;
    case ALU_LOAD: {
        /* dst op= [m] with the lazy flags as alu() leaves them (the
           registers are in cpu->regs: rc_flush above). */
        static const uint8_t host_op[8] = {
            [0] = 0x01, [1] = 0x09, [4] = 0x21, [5] = 0x29, [6] = 0x31,
            [7] = 0x29,
        };
        int opn = (in->op >> 3) & 7;
        bool arith = opn == 0 || opn == 5 || opn == 7;
        emit_ea32(a, in);
        emit_fast_host(a, in->seg, false, slow, &ns, 4);
        a_ld32(a, H_RCX, H_RAX, 0);
        a_ld32(a, H_RAX, H_RBX, REG_OFF(in->reg));
        if (arith) {
            a_st64(a, H_RBX, CPU_OFF(lf_a), H_RAX);
            a_st64(a, H_RBX, CPU_OFF(lf_b), H_RCX);
        }
        a_alu32_rr(a, host_op[opn], H_RAX, H_RCX);
        if (arith) {
            a_st32_imm(a, H_RBX, CPU_OFF(lf_op), opn == 0 ? LF_ADD : LF_SUB);
        } else {
            a_st64_imm(a, H_RBX, CPU_OFF(lf_a), 0);
            a_st64_imm(a, H_RBX, CPU_OFF(lf_b), 0);
            a_st32_imm(a, H_RBX, CPU_OFF(lf_op), LF_LOGIC);
        }
        a_st64(a, H_RBX, CPU_OFF(lf_res), H_RAX);
        a_st8_imm(a, H_RBX, CPU_OFF(lf_size), 4);
        if (opn != 7) {
            a_st64(a, H_RBX, REG_OFF(in->reg), H_RAX);
        }
        break;
    }
    case JMP: {
        /* x86_jump: the target within the CS limit (the handler raises
           #GP); in the middle of a block (tb.c follows jumps on the
           page) nothing else. */
        uint32_t target = (uint32_t)(in->ip + in->len + in->imm);
        a_mov_ri(a, H_RAX, target);
        a_alu32_rm(a, 0x3b, H_RAX, H_RBX, SEG_OFF(S_CS, limit));
        slow[ns++] = a_jcc_fwd(a, CC_A);
        if (last) {
            emit_cur_rip(a, tb, i);
            a_mov_ri(a, H_RAX, target);
            a_st64(a, H_RBX, CPU_OFF(rip), H_RAX);
            *rip_set = true;
        }
        break;
    }
    case PUSH:
        /* x86_push with a 32-bit stack: write below ESP, then ESP -= 4
           (PUSH ESP stores the old value). */
        a_cmp8_mem_imm(a, H_RBX, CPU_OFF(ss32), 0);
        slow[ns++] = a_jcc_fwd(a, CC_E);
        a_ld32(a, H_RAX, H_RBX, REG_OFF(R_ESP));
        a_alu_ri(a, false, 5, H_RAX, 4);
        a_mov_rr(a, H_R13, H_RAX); /* the new ESP (r13 is ours) */
        emit_fast_host(a, S_SS, true, slow, &ns, 4);
        if (greg_host[r] >= 0 && rc_state[r] != RC_NONE) {
            a_st32(a, H_RAX, 0, greg_host[r]); /* cached (clean) */
        } else {
            a_ld32(a, H_RDX, H_RBX, REG_OFF(r));
            a_st32(a, H_RAX, 0, H_RDX);
        }
        a_st64(a, H_RBX, REG_OFF(R_ESP), H_R13);
        break;
    case POP:
        /* x86_pop: read at ESP, ESP += 4, then the register (POP ESP
           keeps the value read). */
        a_cmp8_mem_imm(a, H_RBX, CPU_OFF(ss32), 0);
        slow[ns++] = a_jcc_fwd(a, CC_E);
        a_ld32(a, H_RAX, H_RBX, REG_OFF(R_ESP));
        emit_fast_host(a, S_SS, false, slow, &ns, 4);
        a_ld32(a, H_RCX, H_RAX, 0);
        a_ld32(a, H_RAX, H_RBX, REG_OFF(R_ESP));
        a_alu_ri(a, false, 0, H_RAX, 4);
        a_st64(a, H_RBX, REG_OFF(R_ESP), H_RAX);
        a_st64(a, H_RBX, REG_OFF(r), H_RCX);
        break;
    case CALL: {
        /* x86_h_call_rel: the target within the CS limit, then push the
           return address; in the middle of a block (tb.c follows calls
           on the page) nothing else, at its end EIP = target. */
        uint32_t ret = (uint32_t)(in->ip + in->len);
        uint32_t target = ret + (uint32_t)in->imm;
        a_mov_ri(a, H_RAX, target);
        a_alu32_rm(a, 0x3b, H_RAX, H_RBX, SEG_OFF(S_CS, limit));
        slow[ns++] = a_jcc_fwd(a, CC_A);
        a_cmp8_mem_imm(a, H_RBX, CPU_OFF(ss32), 0);
        slow[ns++] = a_jcc_fwd(a, CC_E);
        a_ld32(a, H_RAX, H_RBX, REG_OFF(R_ESP));
        a_alu_ri(a, false, 5, H_RAX, 4);
        a_mov_rr(a, H_R13, H_RAX);
        emit_fast_host(a, S_SS, true, slow, &ns, 4);
        a_st32_imm(a, H_RAX, 0, ret);
        a_st64(a, H_RBX, REG_OFF(R_ESP), H_R13);
        if (last) {
            emit_cur_rip(a, tb, i);
            a_mov_ri(a, H_RAX, target);
            a_st64(a, H_RBX, CPU_OFF(rip), H_RAX);
            *rip_set = true;
        }
        break;
    }
    case RET:
        /* x86_h_ret_near: read at ESP, the target within the CS limit,
           ESP += 4 (+ imm16), EIP = target. */
        a_cmp8_mem_imm(a, H_RBX, CPU_OFF(ss32), 0);
        slow[ns++] = a_jcc_fwd(a, CC_E);
        a_ld32(a, H_RAX, H_RBX, REG_OFF(R_ESP));
        emit_fast_host(a, S_SS, false, slow, &ns, 4);
        a_ld32(a, H_R13, H_RAX, 0);
        a_alu32_rm(a, 0x3b, H_R13, H_RBX, SEG_OFF(S_CS, limit));
        slow[ns++] = a_jcc_fwd(a, CC_A);
        a_ld32(a, H_RAX, H_RBX, REG_OFF(R_ESP));
        a_alu_ri(a, false, 0, H_RAX,
                 4 + (in->op == 0xc2 ? (int32_t)(in->imm & 0xffff) : 0));
        a_st64(a, H_RBX, REG_OFF(R_ESP), H_RAX);
        emit_cur_rip(a, tb, i);
        a_st64(a, H_RBX, CPU_OFF(rip), H_R13);
        *rip_set = true;
        break;
    }
    if (jit_user_direct && !last &&
        (kind == STORE || kind == STORE_IMM || kind == PUSH)) {
        emit_user_store_exit(a, tb, i);
    }
    AsmFixup done = a_jmp_fwd(a);
    for (int k = 0; k < ns; k++) {
        a_bind(a, slow[k]);
    }
    uint8_t cached[8];
    memcpy(cached, rc_state, sizeof(cached));
    emit_call_insn(a, tb, i);
    if (i + 1 < tb->n) {
        a_cmp16_mem_imm8(a, H_RBX, CPU_OFF(tb_dirty), 0);
        *out = a_jcc_fwd(a, CC_NE);
    }
    /* The handler call clobbered r8-r11: the cache as on the fast path
       (all clean after rc_flush) */
    for (int g = 0; g < 8; g++) {
        if (cached[g] != RC_NONE) {
            a_ld32(a, greg_host[g], H_RBX, REG_OFF(g));
        }
    }
    memcpy(rc_state, cached, sizeof(cached));
    a_bind(a, done);
    /* The register written (in cpu->regs on both paths); ESP is never
       cached. */
    if (kind == LOAD || kind == MOVZX ||
        (kind == ALU_LOAD && ((in->op >> 3) & 7) != 7)) {
        rc_state[in->reg] = RC_NONE;
    } else if (kind == POP) {
        rc_state[r] = RC_NONE;
    }
    return true;
}


static int inline_flag_kind(const TBlock *tb, const X86Insn *in)
{
    if ((tb->flags & ~7u) || in->lock || in->osz != 4 || in->op0f) {
        return FL_UNKNOWN;
    }
    if (in->fn == x86_h_mov_rr32 || in->fn == x86_h_mov_r_imm ||
        in->fn == x86_h_lea || in->fn == x86_h_mov_load32 ||
        in->fn == x86_h_mov_store32 || in->fn == x86_h_push_r ||
        in->fn == x86_h_pop_r) {
        return -1; /* flags untouched */
    }
    if (in->fn == x86_h_test_rm_r || (in->op == 0xf7 && in->reg == 0)) {
        return FL_LOGIC;
    }
    if (in->op == 0xe8) {
        return -1; /* CALL: flags untouched */
    }
    if (in->op >= 0x40 && in->op <= 0x4f) {
        return FL_INCDEC;
    }
    int opn = in->op < 0x40 ? (in->op >> 3) & 7
              : in->op == 0x81 || in->op == 0x83 ? in->reg
                                                 : -1;
    switch (opn) {
    case 0:
        return FL_ADD;
    case 5:
    case 7:
        return FL_SUB;
    case 1:
    case 4:
    case 6:
        return FL_LOGIC;
    }
    return FL_UNKNOWN;
}

/* A Jcc rel (32-bit operand size) ending the block, its condition taken
   from host flags recomputed from the lazy fields when the translator
   knows their kind (fl); the CS limit check of x86_jump inline, the
   handler as the path that raises #GP.  False: not handled. */
static bool emit_jcc(Asm *a, const TBlock *tb, int i, int fl, bool hf,
                     AsmFixup *taken)
{
    const X86Insn *in = &tb->insn[i];
    bool jcc = in->op0f ? (in->op & 0xf0) == 0x80 : (in->op & 0xf0) == 0x70;
    int cc = in->op & 0xf;
    if (!jcc || i + 1 != tb->n || (tb->flags & ~7u) || in->osz != 4 ||
        in->lock || fl == FL_UNKNOWN ||
        (fl == FL_INCDEC && (cc == CC_B || cc == CC_AE || cc == CC_BE ||
                             cc == CC_A))) {
        return false;
    }
    rc_flush(a);
    emit_cur_rip(a, tb, i); /* the not-taken state */
    /* (MOVs and LEA: the host's flags are still those of the flag
       setter when hf) */
    switch (hf ? -1 : fl) {
    case FL_ADD:
        a_ld32(a, H_RAX, H_RBX, CPU_OFF(lf_a));
        a_alu32_rm(a, 0x03, H_RAX, H_RBX, CPU_OFF(lf_b));
        break;
    case FL_SUB:
        a_ld32(a, H_RAX, H_RBX, CPU_OFF(lf_a));
        a_alu32_rm(a, 0x3b, H_RAX, H_RBX, CPU_OFF(lf_b));
        break;
    case FL_LOGIC:
        a_ld32(a, H_RAX, H_RBX, CPU_OFF(lf_res));
        a_alu32_rr(a, 0x85, H_RAX, H_RAX);
        break;
    case FL_INCDEC: {
        /* lf_b is 1; INC or DEC again from lf_a gives OF SF ZF PF. */
        a_ld32(a, H_RAX, H_RBX, CPU_OFF(lf_a));
        a_cmp8_mem_imm(a, H_RBX, CPU_OFF(lf_op), LF_INC);
        AsmFixup dec = a_jcc_fwd(a, CC_NE);
        a_byte(a, 0xff);
        a_byte(a, 0xc0); /* inc eax */
        AsmFixup go = a_jmp_fwd(a);
        a_bind(a, dec);
        a_byte(a, 0xff);
        a_byte(a, 0xc8); /* dec eax */
        a_bind(a, go);
        break;
    }
    }
    AsmFixup not_taken = a_jcc_fwd(a, cc ^ 1);
    uint32_t target = (uint32_t)(in->ip + in->len + in->imm);
    a_mov_ri(a, H_RAX, target);
    a_alu32_rm(a, 0x3b, H_RAX, H_RBX, SEG_OFF(S_CS, limit));
    AsmFixup slow = a_jcc_fwd(a, CC_A);
    a_st64(a, H_RBX, CPU_OFF(rip), H_RAX);
    AsmFixup done = a_jmp_fwd(a);
    a_bind(a, slow);
    emit_call_insn(a, tb, i); /* raises #GP */
    a_bind(a, not_taken);
    if (taken) {
        *taken = done; /* the caller's exit for the taken path */
    } else {
        a_bind(a, done);
    }
    return true;
}

/* ---- Flag liveness ----

   An instruction's flag results are dead when, before anything could
   read them (a handler, an exit, a possible fault: the exception frame
   holds EFLAGS), an inlined instruction overwrites all six arithmetic
   flags; then the inline code computes only the result.  Classes: */
enum {
    FC_OTHER, /* may read the flags or fault, or a handler call */
    FC_NONE,  /* inline, reads no flag, cannot fault; writes none, or
                 some only when its own results are live (ROL/ROR) */
    FC_WRITE, /* writes all arithmetic flags, reads none, cannot fault */
};

static int flag_class(const TBlock *tb, const X86Insn *in)
{
    if ((tb->flags & ~7u) || in->lock || in->osz != 4 || in->reg >= 8 ||
        in->rm >= 8) {
        return FC_OTHER;
    }
    if (in->fn == x86_h_mov_rr32 || in->fn == x86_h_mov_r_imm ||
        (in->fn == x86_h_lea && in->mod != 3 && ea32_legacy(in))) {
        return FC_NONE;
    }
    if (in->op0f) {
        return in->op == 0xaf && in->mod == 3 ? FC_WRITE : FC_OTHER;
    }
    int cnt = shift_count(in);
    if (cnt >= 0) {
        return cnt == 0 || in->reg < 4 ? FC_NONE : FC_WRITE;
    }
    int opn = (in->op >> 3) & 7;
    if ((in->op < 0x40 && in->mod == 3 && alu_inlined(opn) &&
         ((in->op & 7) == 1 || (in->op & 7) == 3)) ||
        (in->op < 0x40 && (in->op & 7) == 5 && alu_inlined(opn)) ||
        ((in->op == 0x81 || in->op == 0x83) && in->mod == 3 &&
         alu_inlined(in->reg)) ||
        (in->op == 0x85 && in->mod == 3) ||
        (in->op == 0xf7 && in->reg == 0 && in->mod == 3) ||
        ((in->op == 0x69 || in->op == 0x6b) && in->mod == 3)) {
        return FC_WRITE;
    }
    return FC_OTHER;
}

static void flag_liveness(const TBlock *tb, bool *dead)
{
    bool overwritten = false; /* at the block's end: live */
    for (int i = tb->n - 1; i >= 0; i--) {
        dead[i] = overwritten;
        switch (flag_class(tb, &tb->insn[i])) {
        case FC_WRITE:
            overwritten = true;
            break;
        case FC_OTHER:
            overwritten = false;
            break;
        }
    }
}

/* ---- Block chaining ----

   Every block's code starts with the same 17-byte prologue (the entry
   from x86_run) and goes on at host + 17 with the frame it sets up, so a
   block that completed may jump straight into the next one's body.  A
   block whose last instruction leaves EIP at a successor that x86_run
   would look up (a direct or indirect near jump, call or return, a Jcc,
   or a fall-through after an inlined instruction) ends in exits
   (emit_exits) that do what the top of x86_run's loop does between two
   blocks and return to it (as after the block) whenever anything other
   than "run the next block" could happen: the block was invalidated or
   asked to end, the budget (jit_limit) is reached, an interrupt line,
   NMI, HLT, shutdown, exit request, STI/MOV SS shadow, TF/RF or a debug
   feature is on, a cache flush is pending.  Then a direct exit per fixed
   successor EIP (patched once the successor is known), the jump cache
   after an indirect jump or RET, and the chaining code as the slow path
   of both: it takes the successor x86_run's successor cache holds
   (tb->link[], filled by x86_run under the generation key tb_gen |
   tlb_user, which moves on every TLB or block-cache flush), with the
   checks x86_run makes on it: the same key, still valid, the same EIP,
   CS base and mode, EIP within the CS limit, and it must have host code.
   Patched exits check the key and valid on every pass, so invalidation
   and flushes need no unlinking. */

#define PROLOGUE_LEN 17
#define TB_OFF(f) ((int32_t)offsetof(TBlock, f))
#define LINK_SIZE ((int32_t)sizeof(((TBlock *)0)->link[0]))

G_STATIC_ASSERT(sizeof(((TBlock *)0)->link[0]) == 16);
G_STATIC_ASSERT(offsetof(X86Cpu, nmi_pending) ==
                offsetof(X86Cpu, halted) + 1);
G_STATIC_ASSERT(offsetof(X86Cpu, nmi_blocked) ==
                offsetof(X86Cpu, halted) + 2);
G_STATIC_ASSERT(offsetof(X86Cpu, irq_line) == offsetof(X86Cpu, halted) + 3);
G_STATIC_ASSERT(offsetof(X86Cpu, dbg_watch) ==
                offsetof(X86Cpu, dbg_exec) + 1);

static void emit_epilogue(Asm *a)
{
    a_alu_ri(a, true, 0, H_RSP, 8);
    a_pop(a, H_RBP);
    a_pop(a, H_R15);
    a_pop(a, H_R14);
    a_pop(a, H_R13);
    a_pop(a, H_R12);
    a_pop(a, H_RBX);
    a_ret(a);
}

/* The checks that only a handler can make fail (inline code never
   halts, takes an interrupt line, sets TF...), as a subroutine: `call`ed
   when cpu->jit_hcall is set, it clears it and returns ZF=1 when the
   chain may go on (halted, nmi_pending; irq_line with IF, x86_run's
   condition; the STI/MOV SS shadow, shutdown, TF/RF, debug features, a
   pending cache flush: each makes it return ZF=0). */
static void emit_hcall_check(Asm *a)
{
    AsmFixup no[16];
    int n = 0;
    a_st8_imm(a, H_RBX, CPU_OFF(jit_hcall), 0);
    a_cmp16_mem_imm8(a, H_RBX, CPU_OFF(halted), 0);
    no[n++] = a_jcc_fwd(a, CC_NE);
    a_cmp8_mem_imm(a, H_RBX, CPU_OFF(irq_line), 0);
    AsmFixup no_irq = a_jcc_fwd(a, CC_E);
    a_test32_mem_imm(a, H_RBX, CPU_OFF(eflags), F_IF);
    no[n++] = a_jcc_fwd(a, CC_NE);
    a_bind(a, no_irq);
    a_cmp8_mem_imm(a, H_RBX, CPU_OFF(inhibit), 0);
    no[n++] = a_jcc_fwd(a, CC_NE);
    a_cmp8_mem_imm(a, H_RBX, CPU_OFF(shutdown), 0);
    no[n++] = a_jcc_fwd(a, CC_NE);
    a_test32_mem_imm(a, H_RBX, CPU_OFF(eflags), F_TF | F_RF);
    no[n++] = a_jcc_fwd(a, CC_NE);
    a_cmp16_mem_imm8(a, H_RBX, CPU_OFF(dbg_exec), 0); /* and dbg_watch */
    no[n++] = a_jcc_fwd(a, CC_NE);
    a_cmp8_mem_imm(a, H_RBX, CPU_OFF(dbg_io), 0);
    no[n++] = a_jcc_fwd(a, CC_NE);
    a_alu_mem_imm(a, false, 7, H_RBX, CPU_OFF(dbg_pending), 0);
    no[n++] = a_jcc_fwd(a, CC_NE);
    a_cmp8_mem_imm(a, H_RBX,
                   CPU_OFF(code) + (int32_t)offsetof(CodeCache, flush_pending),
                   0);
    no[n++] = a_jcc_fwd(a, CC_NE);
    a_alu32_rr(a, 0x31, H_RAX, H_RAX); /* xor eax, eax: ZF=1 */
    a_ret(a);
    for (int k = 0; k < n; k++) {
        a_bind(a, no[k]);
    }
    a_alu_ri(a, false, 1, H_RAX, 1); /* or eax, 1: ZF=0 */
    a_ret(a);
}

/* Patch the direct exit that ends at end_rx (a block's exit to a fixed
   EIP, emit_direct_exit) to jump into succ, which the chaining code just
   found for that EIP under the current key.  Called from the chaining
   code. */
static void jit_patch(X86Cpu *cpu, const TBlock *tb, uint8_t *end_rx,
                      const TBlock *succ)
{
    X86Jit *jit = cpu->jit;
    if (succ->cs_base != tb->cs_base || succ->flags != tb->flags ||
        !jit->dx_succ_off) {
        return;
    }
    uint8_t *end = end_rx - (jit->rx - jit->rw);
    uint32_t key = cpu->tb_gen | (uint32_t)cpu->tlb_user;
    uint64_t s = (uint64_t)(uintptr_t)succ;
    int32_t rel = (int32_t)((uint8_t *)succ->host + PROLOGUE_LEN - end_rx);
    memcpy(end - jit->dx_succ_off, &s, 8);
    memcpy(end - jit->dx_key_off, &key, 4);
    memcpy(end - 4, &rel, 4);
    jit->patched++;
}

/* The chaining code (rbx = cpu, rsi = the block that completed, r13 = the
   end of the direct exit to patch or 0; cur and rip are as x86_run finds
   them after the block). */
static void emit_chain_stub(Asm *a, uintptr_t hcall_check)
{
    AsmFixup out[24];
    int n = 0;
    a_cmp16_mem_imm8(a, H_RBX, CPU_OFF(tb_dirty), 0); /* and block_end */
    out[n++] = a_jcc_fwd(a, CC_NE);
    /* rcx = the instructions done with this block: within the budget? */
    a_ldzx16(a, H_RCX, H_RSI, TB_OFF(n));
    a_op_mem(a, true, 0x03, H_RCX, H_RBX, CPU_OFF(jit_done));
    a_op_mem(a, true, 0x3b, H_RCX, H_RBX, CPU_OFF(jit_limit));
    out[n++] = a_jcc_fwd(a, CC_GE);
    a_alu_mem_imm(a, false, 7, H_RBX, CPU_OFF(exit_req), 0);
    out[n++] = a_jcc_fwd(a, CC_NE);
    /* The rest changes only in handlers: checked when one ran. */
    a_cmp8_mem_imm(a, H_RBX, CPU_OFF(jit_hcall), 0);
    AsmFixup no_hcall = a_jcc_fwd(a, CC_E);
    a_call(a, (const void *)hcall_check);
    out[n++] = a_jcc_fwd(a, CC_NE);
    a_bind(a, no_hcall);
    /* rdi = &tb->link[rip != tb->ip_next] */
    a_ld64(a, H_RDX, H_RBX, CPU_OFF(rip));
    a_alu32_rr(a, 0x31, H_RAX, H_RAX);
    a_op_mem(a, true, 0x3b, H_RDX, H_RSI, TB_OFF(ip_next));
    a_setcc(a, CC_NE, H_RAX);
    a_shl32_ri(a, H_RAX, 4);
    a_lea_bi(a, H_RDI, H_RSI, H_RAX, TB_OFF(link));
    /* the key */
    a_ld32(a, H_RAX, H_RBX, CPU_OFF(tb_gen));
    a_alu32_rm(a, 0x0b, H_RAX, H_RBX, CPU_OFF(tlb_user));
    a_alu32_rm(a, 0x3b, H_RAX, H_RDI, 8);
    out[n++] = a_jcc_fwd(a, CC_NE);
    /* rax = the successor: there, valid, the same EIP, CS base, mode */
    a_ld64(a, H_RAX, H_RDI, 0);
    a_op_rr(a, true, 0x85, H_RAX, H_RAX);
    out[n++] = a_jcc_fwd(a, CC_E);
    a_cmp8_mem_imm(a, H_RAX, TB_OFF(cb) + (int32_t)offsetof(CodeBlock, valid),
                   0);
    out[n++] = a_jcc_fwd(a, CC_E);
    a_op_mem(a, true, 0x3b, H_RDX, H_RAX, TB_OFF(ip));
    out[n++] = a_jcc_fwd(a, CC_NE);
    a_ld64(a, H_R8, H_RAX, TB_OFF(cs_base));
    a_op_mem(a, true, 0x3b, H_R8, H_RBX, SEG_OFF(S_CS, base));
    out[n++] = a_jcc_fwd(a, CC_NE);
    a_ld32(a, H_R8, H_RAX, TB_OFF(flags));
    a_alu32_rm(a, 0x3b, H_R8, H_RSI, TB_OFF(flags));
    out[n++] = a_jcc_fwd(a, CC_NE);
    /* (no limit in 64-bit mode) */
    a_alu_ri(a, false, 4, H_R8, X86_TB_CODE64);
    AsmFixup code64 = a_jcc_fwd(a, CC_NE);
    a_alu32_rm(a, 0x3b, H_RDX, H_RBX, SEG_OFF(S_CS, limit));
    out[n++] = a_jcc_fwd(a, CC_A);
    a_bind(a, code64);
    a_ld64(a, H_R8, H_RAX, TB_OFF(host));
    a_op_rr(a, true, 0x85, H_R8, H_R8);
    out[n++] = a_jcc_fwd(a, CC_E);
    /* From a direct exit: patch it to jump here itself from now on
       (r12, r14, r15 are free between blocks: the next one loads its
       own). */
    a_op_rr(a, true, 0x85, H_R13, H_R13);
    AsmFixup no_patch = a_jcc_fwd(a, CC_E);
    a_mov_rr(a, H_R12, H_RAX);
    a_mov_rr(a, H_R14, H_RCX);
    a_mov_rr(a, H_R15, H_R8);
    a_mov_rr(a, H_RDI, H_RBX);
    a_mov_rr(a, H_RDX, H_R13);
    a_mov_rr(a, H_RCX, H_RAX);
    a_call(a, (const void *)jit_patch);
    a_mov_rr(a, H_RAX, H_R12);
    a_mov_rr(a, H_RCX, H_R14);
    a_mov_rr(a, H_R8, H_R15);
    a_bind(a, no_patch);
    /* go: the instructions done, the block running, into its body */
    a_st64(a, H_RBX, CPU_OFF(jit_done), H_RCX);
    a_st64(a, H_RBX, CPU_OFF(cur_tb), H_RAX);
    a_op_mem(a, true, 0xff, 0, H_RBX, CPU_OFF(jit_chains)); /* inc */
    a_alu_ri(a, true, 0, H_R8, PROLOGUE_LEN);
    a_jmp_r(a, H_R8);
    for (int k = 0; k < n; k++) {
        a_bind(a, out[k]);
    }
    emit_epilogue(a);
}

/* rsi = tb, r13 = end (0: nothing to patch); jmp chain_stub. */
static void emit_to_stub(Asm *a, const X86Jit *jit, const TBlock *tb,
                         uintptr_t end)
{
    if (end) {
        a_mov_ri(a, H_R13, end);
    } else {
        a_alu32_rr(a, 0x31, H_R13, H_R13);
    }
    a_mov_ri(a, H_RSI, (uint64_t)(uintptr_t)tb);
    a_jmp_to(a, jit->chain_stub);
}

/* A direct exit: rax = cpu->rip, rcx = jit_done with this block, the
   checks common to every successor made.  If rip is target: the checks
   particular to the successor, then a jmp patched into its body by the
   chaining code (jit_patch) the first time that finds it.  The fields the
   patch writes (the key, the successor) are checked on every pass, so a
   TLB or block-cache flush (the key moves) or an invalidated successor
   (valid) send the exit back to the chaining code, which patches it
   again; nothing needs unlinking.  The code buffer is emptied only with
   the block cache, so the successor's host code and TBlock outlive every
   exit patched to them. */
static void emit_direct_exit(Asm *a, X86Jit *jit, const TBlock *tb,
                             uint32_t target, bool known)
{
    AsmFixup to_stub[4];
    AsmFixup next = NULL;
    int n = 0;
    if (known) {
        /* rip is target */
    } else if (target < 0x80000000u) {
        a_alu_ri(a, true, 7, H_RAX, (int32_t)target); /* cmp rax, imm */
    } else {
        a_mov_ri(a, H_RDX, target);
        a_op_rr(a, true, 0x39, H_RDX, H_RAX); /* cmp rax, rdx */
    }
    if (!known) {
        next = a_jcc_fwd(a, CC_NE);
    }
    /* EIP within the CS limit */
    a_alu_mem_imm(a, false, 7, H_RBX, SEG_OFF(S_CS, limit), (int32_t)target);
    to_stub[n++] = a_jcc_fwd(a, CC_B);
    /* The key (patched) */
    a_ld32(a, H_RDX, H_RBX, CPU_OFF(tb_gen));
    a_alu32_rm(a, 0x0b, H_RDX, H_RBX, CPU_OFF(tlb_user));
    a_byte(a, 0x81);
    a_byte(a, 0xfa); /* cmp edx, imm32 */
    uint8_t *key_at = a->p;
    a_u32(a, 0);
    to_stub[n++] = a_jcc_fwd(a, CC_NE);
    /* The successor (patched), still valid */
    a_byte(a, 0x48);
    a_byte(a, 0xba); /* mov rdx, imm64 */
    uint8_t *succ_at = a->p;
    a_u64(a, (uint64_t)(uintptr_t)tb);
    a_cmp8_mem_imm(a, H_RDX, TB_OFF(cb) + (int32_t)offsetof(CodeBlock, valid),
                   0);
    to_stub[n++] = a_jcc_fwd(a, CC_E);
    a_st64(a, H_RBX, CPU_OFF(jit_done), H_RCX);
    a_st64(a, H_RBX, CPU_OFF(cur_tb), H_RDX);
    a_op_mem(a, true, 0xff, 0, H_RBX, CPU_OFF(jit_chains)); /* inc */
    a_byte(a, 0xe9);
    a_u32(a, 0); /* jmp rel32: to the next byte until patched */
    if (!a->full) {
        int koff = (int)(a->p - key_at), soff = (int)(a->p - succ_at);
        g_assert(!jit->dx_key_off || (jit->dx_key_off == koff &&
                                      jit->dx_succ_off == soff));
        jit->dx_key_off = koff;
        jit->dx_succ_off = soff;
    }
    uintptr_t end = a_here(a);
    for (int k = 0; k < n; k++) {
        a_bind(a, to_stub[k]);
    }
    emit_to_stub(a, jit, tb, end);
    if (next) {
        a_bind(a, next);
    }
}

/* The jump cache (rax = cpu->rip, rcx = jit_done with this block): the
   block last entered at this EIP, if entered under the current key, still
   valid, of this block's CS base and mode and EIP within the CS limit;
   else the chaining code. */
static void emit_jc_exit(Asm *a, X86Jit *jit, const TBlock *tb)
{
    AsmFixup miss[8];
    int n = 0;
    a_op_rr(a, false, 0x89, H_RAX, H_RDX); /* mov edx, eax */
    a_alu_ri(a, false, 4, H_RDX, X86_JIT_JC_SIZE - 1);
    a_shl32_ri(a, H_RDX, 4);
    a_mov_ri(a, H_RDI, (uint64_t)(uintptr_t)jit->jc);
    a_op_rr(a, true, 0x01, H_RDX, H_RDI); /* add rdi, rdx */
    a_alu32_rm(a, 0x3b, H_RAX, H_RDI, 0);
    miss[n++] = a_jcc_fwd(a, CC_NE);
    a_ld32(a, H_RDX, H_RBX, CPU_OFF(tb_gen));
    a_alu32_rm(a, 0x0b, H_RDX, H_RBX, CPU_OFF(tlb_user));
    a_alu32_rm(a, 0x3b, H_RDX, H_RDI, 4);
    miss[n++] = a_jcc_fwd(a, CC_NE);
    a_ld64(a, H_RDX, H_RDI, 8);
    a_cmp8_mem_imm(a, H_RDX, TB_OFF(cb) + (int32_t)offsetof(CodeBlock, valid),
                   0);
    miss[n++] = a_jcc_fwd(a, CC_E);
    a_alu32_rm(a, 0x3b, H_RAX, H_RBX, SEG_OFF(S_CS, limit));
    miss[n++] = a_jcc_fwd(a, CC_A);
    a_ld64(a, H_RSI, H_RDX, TB_OFF(cs_base));
    a_op_mem(a, true, 0x3b, H_RSI, H_RBX, SEG_OFF(S_CS, base));
    miss[n++] = a_jcc_fwd(a, CC_NE);
    a_alu_mem_imm(a, false, 7, H_RDX, TB_OFF(flags), (int32_t)tb->flags);
    miss[n++] = a_jcc_fwd(a, CC_NE);
    a_st64(a, H_RBX, CPU_OFF(jit_done), H_RCX);
    a_st64(a, H_RBX, CPU_OFF(cur_tb), H_RDX);
    a_op_mem(a, true, 0xff, 0, H_RBX, CPU_OFF(jit_chains)); /* inc */
    a_ld64(a, H_RDX, H_RDX, TB_OFF(host));
    a_alu_ri(a, true, 0, H_RDX, PROLOGUE_LEN);
    a_jmp_r(a, H_RDX);
    for (int k = 0; k < n; k++) {
        a_bind(a, miss[k]);
    }
}

/* The checks of the chaining code that do not depend on the successor
   (rcx = jit_done with this block; tb_dirty and block_end are set only by
   handlers, so they are looked at with the rest after one ran).  Adds the
   branches to the epilogue to out. */
static int emit_exit_checks(Asm *a, X86Jit *jit, const TBlock *tb,
                            AsmFixup *out)
{
    int n = 0;
    a_ld64(a, H_RCX, H_RBX, CPU_OFF(jit_done));
    a_alu_ri(a, true, 0, H_RCX, tb->n);
    a_op_mem(a, true, 0x3b, H_RCX, H_RBX, CPU_OFF(jit_limit));
    out[n++] = a_jcc_fwd(a, CC_GE);
    a_alu_mem_imm(a, false, 7, H_RBX, CPU_OFF(exit_req), 0);
    out[n++] = a_jcc_fwd(a, CC_NE);
    a_cmp8_mem_imm(a, H_RBX, CPU_OFF(jit_hcall), 0);
    AsmFixup no_hcall = a_jcc_fwd(a, CC_E);
    a_cmp16_mem_imm8(a, H_RBX, CPU_OFF(tb_dirty), 0); /* and block_end */
    out[n++] = a_jcc_fwd(a, CC_NE);
    a_call(a, (const void *)jit->hcall_check);
    out[n++] = a_jcc_fwd(a, CC_NE);
    a_bind(a, no_hcall);
    return n;
}

/* The end of a chainable block: a direct exit per fixed successor EIP
   (the fall-through, a direct branch's target), the jump cache after an
   indirect jump or RET, else the chaining code.  taken: the taken path of
   an inline Jcc ending the block (rip set), to bind to its own exit, or
   NULL.  Adds the branches to the epilogue to out. */
static int emit_exits(Asm *a, X86Jit *jit, const TBlock *tb, AsmFixup *out,
                      AsmFixup taken)
{
    const X86Insn *in = &tb->insn[tb->n - 1];
    bool direct = in->op0f ? (in->op & 0xf0) == 0x80
                           : (in->op & 0xf0) == 0x70 || in->op == 0xe8 ||
                                 in->op == 0xe9 || in->op == 0xeb ||
                                 (in->op >= 0xe0 && in->op <= 0xe3);
    uint64_t t1 = in->ip + in->len + in->imm;
    t1 &= in->osz == 2 ? 0xffff : 0xffffffff;
    int n = 0;
    if (tb->flags & X86_TB_CODE64) {
        /* 64-bit RIPs: the chaining code, which compares all 64 bits
           (the direct exits and the jump cache key on 32-bit EIPs). */
        g_assert(!taken);
        n += emit_exit_checks(a, jit, tb, &out[n]);
        a_ld64(a, H_RAX, H_RBX, CPU_OFF(rip));
        emit_to_stub(a, jit, tb, 0);
        return n;
    }
    if (taken) {
        /* not taken: rip is ip_next */
        n += emit_exit_checks(a, jit, tb, &out[n]);
        emit_direct_exit(a, jit, tb, (uint32_t)tb->ip_next, true);
        a_bind(a, taken);
        n += emit_exit_checks(a, jit, tb, &out[n]);
        emit_direct_exit(a, jit, tb, (uint32_t)t1, true);
        return n;
    }
    n += emit_exit_checks(a, jit, tb, &out[n]);
    a_ld64(a, H_RAX, H_RBX, CPU_OFF(rip));
    if (direct) {
        emit_direct_exit(a, jit, tb, (uint32_t)t1, false);
    }
    if (!direct || t1 != tb->ip_next) {
        emit_direct_exit(a, jit, tb, (uint32_t)tb->ip_next, false);
    }
    if (!direct) {
        emit_jc_exit(a, jit, tb);
    }
    emit_to_stub(a, jit, tb, 0);
    return n;
}

/* Whether the block may end in the chaining code: its last instruction
   leaves EIP at the next block and changes neither the mode nor CS
   (inlined, or one of these handlers). */
static bool chainable(const TBlock *tb, bool last_inline)
{
    const X86Insn *in = &tb->insn[tb->n - 1];
    if (tb->flags & ~(7u | X86_TB_CODE64)) {
        return false;
    }
    if (last_inline) {
        return true;
    }
    /* By opcode: x86_specialise() swaps the handlers of some. */
    if (in->op0f) {
        return (in->op & 0xf0) == 0x80; /* Jcc rel16/32 */
    }
    return (in->op & 0xf0) == 0x70 ||                  /* Jcc rel8 */
           in->op == 0xe8 || in->op == 0xe9 || in->op == 0xeb ||
           in->op == 0xc2 || in->op == 0xc3 ||         /* RET near */
           (in->op >= 0xe0 && in->op <= 0xe3) ||       /* LOOPcc, JCXZ */
           (in->op == 0xff && (in->reg == 2 || in->reg == 4));
}

/* ---- x87 stretches (jit_x87.c): what it borrows from here ---- */

static void rc_flush_drop(Asm *a)
{
    rc_flush(a);
    rc_drop();
}

static const JitX87Helpers jit_x87_helpers = {
    .flush_regs = rc_flush_drop,
    .ea_ok = ea32_legacy,
    .ea32 = emit_ea32,
    .fast_host = emit_fast_host,
    .call_insn = emit_call_insn,
};

bool x86_jit_translate(X86Cpu *cpu, TBlock *tb)
{
    X86Jit *jit = cpu->jit;
    if (jit->flushes_seen != cpu->code.flushes) {
        /* The block cache was emptied since: so can the code be. */
        jit->flushes_seen = cpu->code.flushes;
        jit->used = 0;
        jit->resets++;
    }
    uint64_t t0 = now_ns();
    if (jit->used == 0) {
        Asm sa = {
            .p = jit->rw,
            .end = jit->rw + jit->cap,
            .delta = jit->rx - jit->rw,
        };
        jit->hcall_check = a_here(&sa);
        emit_hcall_check(&sa);
        jit->chain_stub = a_here(&sa);
        emit_chain_stub(&sa, jit->hcall_check);
        jit->used = (sa.p - jit->rw + 15) & ~(size_t)15;
    }
    Asm a = {
        .p = jit->rw + jit->used,
        .end = jit->rw + jit->cap,
        .delta = jit->rx - jit->rw,
    };
    uint8_t *start = a.p;
    jit_user_direct = cpu->user_host && tb->cb.phys < X86U_LDT;
    AsmFixup out[TB_MAX_INSNS + 8];
    int nout = 0;

    a_push(&a, H_RBX);
    a_push(&a, H_R12);
    a_push(&a, H_R13);
    a_push(&a, H_R14);
    a_push(&a, H_R15);
    a_push(&a, H_RBP);
    a_alu_ri(&a, true, 5, H_RSP, 8); /* rsp 16-aligned for the calls */
    a_mov_rr(&a, H_RBX, H_RDI);
    /* (a full buffer stops short: the block is dropped below) */
    g_assert(a.full || a.p - start == PROLOGUE_LEN);
    a_mov_ri(&a, H_R12, (uint64_t)(uintptr_t)tb->insn);
    bool inlined = false;
    bool last_inline = false;
    AsmFixup taken = NULL;
    int fl = FL_UNKNOWN;
    bool dead[TB_MAX_INSNS];
    flag_liveness(tb, dead);
    rc_drop();
    hflags = false;
    for (int i = 0; i < tb->n; i++) {
        int kind = dead[i] ? -1 : inline_flag_kind(tb, &tb->insn[i]);
        last_inline = i + 1 == tb->n;
        bool hf = hflags; /* (consumed here: the hooks below emit
                             code that changes the host flags) */
        hflags = false;
        /* (x87 stretches take 32-bit addressing forms and segment
           limits: not in 64-bit blocks) */
        int n87 = jit->inline_ops && jit->x87 &&
                          !(tb->flags & X86_TB_CODE64)
                      ? x86_jit_x87_stretch(&a, tb, i, &jit_x87_helpers,
                                            &out[nout])
                      : 0;
        if (n87 > 0) { /* x87 on the host FPU: cur and rip as inline */
            nout++;
            i += n87 - 1;
            jit->inlined += n87;
            fl = FL_UNKNOWN;
            inlined = true;
            last_inline = i + 1 == tb->n;
            continue;
        }
        if (jit->inline_ops && (tb->flags & X86_TB_CODE64)) {
            /* 64-bit mode: jit64.c's forms (its own inline code). */
            int r64 = x86_jit64_emit(&a, tb, i, out, &nout);
            if (r64 != JIT64_NO) {
                inlined = r64 == JIT64_INLINE;
                jit->inlined++;
                continue;
            }
        }
        if (jit->inline_ops &&
            emit_jcc(&a, tb, i, fl, hf,
                     jit->chain && jit->direct &&
                             !(tb->flags & X86_TB_CODE64) ? &taken
                                                          : NULL)) {
            inlined = false; /* cur and rip are set */
            jit->inlined++;
            jit->fused++;
            jit->hfused += hf;
            continue;
        }
        inlined = jit->inline_ops &&
                  emit_inline(&a, tb, &tb->insn[i], dead[i], fl);
        jit->dead += inlined && dead[i];
        if (inlined) {
            fl = kind >= 0 ? kind : fl;
            jit->inlined++;
            continue;
        }
        bool rip_set;
        if (jit->inline_ops && emit_mem32(&a, tb, i, &out[nout], &rip_set)) {
            /* Inline with a handler call as its slow path: cur and rip
               are only right after that path (or set by the fast path
               of a CALL or RET that ends the block). */
            inlined = !rip_set;
            nout += i + 1 < tb->n;
            jit->inlined++;
            if (alu_load(&tb->insn[i])) {
                fl = FL_UNKNOWN; /* the handler's or ours: recomputed */
            }
            continue;
        }
        fl = FL_UNKNOWN; /* a handler call */
        last_inline = false;
        emit_call_insn(&a, tb, i);
        if (i + 1 < tb->n) {
            a_cmp16_mem_imm8(&a, H_RBX, CPU_OFF(tb_dirty), 0);
            out[nout++] = a_jcc_fwd(&a, CC_NE);
        }
    }
    rc_flush(&a);
    if (inlined) {
        /* The last instruction ran inline: leave cur and rip as its
           handler call would have. */
        emit_cur_rip(&a, tb, tb->n - 1);
    }
    if (jit->chain && chainable(tb, last_inline)) {
        if (jit->direct) {
            nout += emit_exits(&a, jit, tb, &out[nout], taken);
        } else {
            emit_to_stub(&a, jit, tb, 0);
        }
        jit->chain_exits++;
    } else if (taken) {
        out[nout++] = taken;
    }
    for (int k = 0; k < nout; k++) {
        a_bind(&a, out[k]);
    }
    emit_epilogue(&a);

    if (a.full) {
        /* Empty the block cache at the next boundary; the code with it. */
        jit->full++;
        x86_tb_flush(cpu);
        return false;
    }
    size_t len = a.p - start;
    tb->host = jit->rx + (start - jit->rw);
    jit->used = (jit->used + len + 15) & ~(size_t)15;
    jit->blocks++;
    jit->insns += tb->n;
    jit->code_bytes_total += len;
    jit->translate_ns += now_ns() - t0;
    return true;
}

void x86_jit_info(X86Jit *jit, const X86Cpu *cpu, GString *out)
{
    (void)cpu;
    if (!jit) {
        g_string_append(out, "engine: interpreter\n");
        return;
    }
    g_string_append_printf(out,
        "engine: jit (translate after %u runs)\n"
        "translated blocks: %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
        " instructions, %" G_GUINT64_FORMAT " inlined, %" G_GUINT64_FORMAT
        " of them without their dead flags)\n"
        "code bytes: %zu in use of %zu, %" G_GUINT64_FORMAT
        " emitted in all\n"
        "buffer resets: %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
        " when full)\n"
        "translation time: %.3f ms\n"
        "block runs: %" G_GUINT64_FORMAT " translated, %" G_GUINT64_FORMAT
        " interpreted\n"
        "Jcc inline: %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
        " on the host flags of the instruction before)\n"
        "exits: end %" G_GUINT64_FORMAT ", block_end %" G_GUINT64_FORMAT
        ", smc %" G_GUINT64_FORMAT ", fault %" G_GUINT64_FORMAT "\n"
        "blocks invalidated: %" G_GUINT64_FORMAT "\n"
        "chaining: %" G_GUINT64_FORMAT " blocks end in it, %"
        G_GUINT64_FORMAT " chains taken (%.1f%% of translated block runs)\n"
        "direct exits patched: %" G_GUINT64_FORMAT "\n",
        jit->threshold, jit->blocks, jit->insns, jit->inlined, jit->dead,
        jit->used,
        jit->size, jit->code_bytes_total, jit->resets, jit->full,
        jit->translate_ns / 1e6, jit->runs, jit->interp_runs, jit->fused,
        jit->hfused,
        jit->exits[JIT_EXIT_END], jit->exits[JIT_EXIT_BLOCK_END],
        jit->exits[JIT_EXIT_DIRTY], jit->exits[JIT_EXIT_FAULT],
        (guint64)cpu->code.invalidated, jit->chain_exits,
        (guint64)cpu->jit_chains,
        100.0 * cpu->jit_chains /
            MAX(1.0, (double)(cpu->jit_chains + jit->runs)),
        jit->patched);
    /* x87 stretches (jit_x87.c; process-wide counters) */
    g_string_append_printf(out,
        "x87 on the host FPU: %s, %" G_GUINT64_FORMAT " stretches (%"
        G_GUINT64_FORMAT " instructions), %" G_GUINT64_FORMAT
        " state loads\n", jit->x87 ? "on" : "off", x86_jit_x87_stretches,
        x86_jit_x87_native, x86_jit_x87_loads);
}

#else /* not an x86-64 Linux host: the interpreter only */

X86Jit *x86_jit_new(unsigned threshold)
{
    (void)threshold;
    return NULL;
}

void x86_jit_free(X86Jit *jit)
{
    (void)jit;
}

unsigned x86_jit_fork_gen;

void x86_jit_after_fork(X86Cpu *cpu)
{
    (void)cpu;
}

bool x86_jit_translate(X86Cpu *cpu, TBlock *tb)
{
    (void)cpu;
    (void)tb;
    return false;
}

void x86_jit_info(X86Jit *jit, const X86Cpu *cpu, GString *out)
{
    (void)jit;
    (void)cpu;
    g_string_append(out, "engine: interpreter (no JIT on this host)\n");
}

#endif
