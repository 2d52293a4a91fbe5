/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Long mode in the x86 core (issue 17 item 1): the CPU models, EFER and
 * the activation of IA-32e mode by MOV CR0 (SDM Vol. 3A 10.8.5), the
 * 4-level page walk with 2 MiB and 1 GiB pages, execute-disable and the
 * reserved bits (SDM Vol. 3A 4.5, tables 4-14 to 4-20), the long-mode
 * MSRs and their canonical checks, CPUID's extended leaves and the saved
 * state.
 *
 * The activation runs as a program (bytes below, nasm source beside
 * them) that stays in compatibility mode; the walks are checked by
 * calling the translation directly, catching its #PF through the CPU's
 * jump buffer.
 */
#include <setjmp.h>
#include <string.h>

#include <glib.h>

#include "arch/x86/ops.h"
#include "state/state.h"
#include "x86-rig.h"

#define RAM (8u << 20)
#define GDT 0x1000
#define CODE 0x2000
#define IDT 0x3000
#define STUBS 0x3800
#define PML4 0x10000
#define PDPT 0x11000
#define PD0 0x12000
#define PD1 0x13000
#define PT1 0x14000
#define PD3 0x16000

#define P 0x1ull
#define W 0x2ull
#define U 0x4ull
#define A 0x20ull
#define D 0x40ull
#define PS 0x80ull
#define XD (1ull << 63)

static void put64(Rig *r, uint32_t a, uint64_t v)
{
    rig_put32(r, a, (uint32_t)v);
    rig_put32(r, a + 4, v >> 32);
}

static uint64_t get64(Rig *r, uint32_t a)
{
    return rig_get32(r, a) | (uint64_t)rig_get32(r, a + 4) << 32;
}

/*
 * The tables: 0-4 MiB identity by two 2 MiB pages; 0x40000000 by 4 KiB
 * pages (0: supervisor RW -> 0x300000, 1: supervisor RO -> 0x301000,
 * 2: user RW XD -> 0x302000, 3: bit 45 set, reserved with MAXPHYADDR 40);
 * 0x80000000 a 1 GiB page at 0; 0xC0000000 a 2 MiB XD page at 4 MiB.
 */
static void tables(Rig *r)
{
    put64(r, PML4, PDPT | P | W | U);
    put64(r, PDPT + 0 * 8, PD0 | P | W | U);
    put64(r, PDPT + 1 * 8, PD1 | P | W | U);
    put64(r, PDPT + 2 * 8, 0 | P | W | PS);
    put64(r, PDPT + 3 * 8, PD3 | P | W | U);
    put64(r, PD0 + 0 * 8, 0x000000 | P | W | PS);
    put64(r, PD0 + 1 * 8, 0x200000 | P | W | PS);
    put64(r, PD1, PT1 | P | W | U);
    put64(r, PT1 + 0 * 8, 0x300000 | P | W);
    put64(r, PT1 + 1 * 8, 0x301000 | P);
    put64(r, PT1 + 2 * 8, 0x302000 | P | W | U | XD);
    put64(r, PT1 + 3 * 8, 0x303000 | P | W | (1ull << 45));
    put64(r, PD3, 0x400000 | P | W | U | PS | XD);
}

static void setup(Rig *r, const char *model, const uint8_t *prog, size_t n)
{
    rig_init_model(r, RAM, model);
    rig_flat(r, GDT, 0);
    rig_idt_hlt(r, IDT, STUBS, 32);
    rig_load(r, CODE, prog, n);
    r->x->rip = CODE;
    r->x->regs[R_ESP] = 0x8000;
    tables(r);
}

static void run_halt(Rig *r)
{
    r->x->halted = false;
    g_assert_cmpint(rig_run(r, 100000), ==, CPU_EXIT_HALTED);
}

/*
 * bits 32, org 0x2000
 *   mov eax, cr4 / or eax, 0x20 / mov cr4, eax      ; PAE
 *   mov ecx, 0xc0000080 / rdmsr / or eax, 0x900 / wrmsr   ; LME NXE
 *   mov eax, 0x10000 / mov cr3, eax
 *   mov eax, cr0 / or eax, 0x80000000 / mov cr0, eax ; LMA
 *   rdmsr / mov [0x600], eax
 *   mov eax, [0x40000000] / mov [0x604], eax         ; 4 KiB page
 *   mov eax, [0x80005000] / mov [0x608], eax         ; 1 GiB page
 *   mov dword [0x40000004], 0x12345678
 *   hlt
 */
static const uint8_t activate[] = {
    0x0f, 0x20, 0xe0, 0x83, 0xc8, 0x20, 0x0f, 0x22, 0xe0, 0xb9, 0x80, 0x00,
    0x00, 0xc0, 0x0f, 0x32, 0x0d, 0x00, 0x09, 0x00, 0x00, 0x0f, 0x30, 0xb8,
    0x00, 0x00, 0x01, 0x00, 0x0f, 0x22, 0xd8, 0x0f, 0x20, 0xc0, 0x0d, 0x00,
    0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0x0f, 0x32, 0xa3, 0x00, 0x06, 0x00,
    0x00, 0xa1, 0x00, 0x00, 0x00, 0x40, 0xa3, 0x04, 0x06, 0x00, 0x00, 0xa1,
    0x00, 0x50, 0x00, 0x80, 0xa3, 0x08, 0x06, 0x00, 0x00, 0xc7, 0x05, 0x04,
    0x00, 0x00, 0x40, 0x78, 0x56, 0x34, 0x12, 0xf4,
};

/*
 * bits 32, org 0x2000
 *   mov ecx, 0xc0000080 / mov eax, 0x100 / xor edx, edx / wrmsr   ; LME
 *   mov eax, 0x10000 / mov cr3, eax
 *   mov eax, cr0 / or eax, 0x80000000 / mov cr0, eax ; no PAE: #GP(0)
 *   hlt
 */
static const uint8_t no_pae[] = {
    0xb9, 0x80, 0x00, 0x00, 0xc0, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x31, 0xd2,
    0x0f, 0x30, 0xb8, 0x00, 0x00, 0x01, 0x00, 0x0f, 0x22, 0xd8, 0x0f, 0x20,
    0xc0, 0x0d, 0x00, 0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0xf4,
};

/* Translate lin for acc (0 read, 1 write, 2 fetch); the #PF error code,
   or -1 with *pa when it translates. */
static int xlate(Rig *r, uint64_t lin, int acc, bool user, uint64_t *pa)
{
    X86Cpu *x = r->x;
    x->cur = NULL;
    x->lin_mask = ~(uint64_t)0; /* as in 64-bit mode: no 4 GiB wrap */
    if (setjmp(x->jb) == 0) {
        *pa = x86_translate(x, lin, acc, user);
        return -1;
    }
    g_assert_cmpint(x->exc_vec, ==, EX_PF);
    g_assert_cmphex(x->cr2, ==, lin);
    return x->exc_err;
}

static void activated(Rig *r, const char *model)
{
    setup(r, model, activate, sizeof(activate));
    rig_put32(r, 0x300000, 0xcafef00d);
    rig_put32(r, 0x5000, 0x5a5a5a5a);
    run_halt(r);
}

static void test_activate(void)
{
    Rig r;
    activated(&r, "max");
    X86Cpu *x = r.x;
    g_assert_cmpint(rig_stub_vector(&r, STUBS, 32), ==, -1);
    g_assert_true(x->lma);
    g_assert_false(x->code64); /* CS.L = 0: compatibility mode */
    g_assert_cmphex(rig_get32(&r, 0x600), ==,
                    EFER_LME | EFER_LMA | EFER_NXE);
    g_assert_cmphex(rig_get32(&r, 0x604), ==, 0xcafef00d);
    g_assert_cmphex(rig_get32(&r, 0x608), ==, 0x5a5a5a5a);
    g_assert_cmphex(rig_get32(&r, 0x300004), ==, 0x12345678);
    /* Accessed in every level walked; dirty in the written PTE only. */
    g_assert_true(get64(&r, PML4) & A);
    g_assert_true(get64(&r, PDPT + 8) & A);
    g_assert_true(get64(&r, PD1) & A);
    g_assert_cmphex(get64(&r, PT1) & (A | D), ==, A | D);
    g_assert_cmphex(get64(&r, PDPT + 2 * 8) & (A | D), ==, A);
    g_assert_false(get64(&r, PD1) & D);
    rig_free(&r);
}

static void test_walk(void)
{
    Rig r;
    activated(&r, "max");
    uint64_t pa;
    g_assert_cmpint(xlate(&r, 0x40000123, 0, false, &pa), ==, -1);
    g_assert_cmphex(pa, ==, 0x300123);
    g_assert_cmpint(xlate(&r, 0x80123456, 2, false, &pa), ==, -1);
    g_assert_cmphex(pa, ==, 0x123456);
    g_assert_cmpint(xlate(&r, 0x00345678, 1, false, &pa), ==, -1);
    g_assert_cmphex(pa, ==, 0x345678);
    /* Execute-disable: reads go, fetches fault with P and I/D. */
    g_assert_cmpint(xlate(&r, 0x40002010, 0, true, &pa), ==, -1);
    g_assert_cmphex(pa, ==, 0x302010);
    g_assert_cmphex(xlate(&r, 0x40002010, 2, true, &pa), ==, 0x15);
    g_assert_cmphex(xlate(&r, 0xc0001000, 2, false, &pa), ==, 0x11);
    g_assert_cmpint(xlate(&r, 0xc0001000, 0, false, &pa), ==, -1);
    g_assert_cmphex(pa, ==, 0x401000);
    /* A reserved bit (45 > MAXPHYADDR 40): P and RSVD. */
    g_assert_cmphex(xlate(&r, 0x40003000, 0, false, &pa), ==, 0x9);
    /* Rights: user on a supervisor page; user write to read-only. */
    g_assert_cmphex(xlate(&r, 0x40000000, 0, true, &pa), ==, 0x5);
    put64(&r, PT1 + 8, 0x301000 | P | U);
    x86_tlb_flush(r.x, true);
    g_assert_cmphex(xlate(&r, 0x40001000, 1, true, &pa), ==, 0x7);
    /* Not present at the PML4 level; I/D only for fetches. */
    g_assert_cmphex(xlate(&r, 0x8000000000ull, 1, false, &pa), ==, 0x2);
    g_assert_cmphex(xlate(&r, 0x8000000000ull, 2, false, &pa), ==, 0x10);
    /* PS in a PML4E is reserved. */
    put64(&r, PML4 + 8, PDPT | P | W | PS);
    g_assert_cmphex(xlate(&r, 0x8000000000ull, 0, false, &pa), ==, 0x9);
    /* Without NXE bit 63 is reserved, and fetches carry no I/D. */
    r.x->efer &= ~(uint64_t)EFER_NXE;
    x86_tlb_flush(r.x, true);
    g_assert_cmphex(xlate(&r, 0x40002000, 0, false, &pa), ==, 0x9);
    g_assert_cmphex(xlate(&r, 0x10000000000ull, 2, false, &pa), ==, 0x0);
    rig_free(&r);
}

/* A data read of an XD page fills the TLB; a fetch there must still
   walk and fault. */
static void test_nx_tlb(void)
{
    Rig r;
    activated(&r, "max");
    X86Cpu *x = r.x;
    x->cur = NULL;
    if (setjmp(x->jb) == 0) {
        g_assert_cmphex(x86_read_lin(x, 0xc0000000, 4), ==,
                        rig_get32(&r, 0x400000));
        x->rip = 0xc0000000;
        x86_tb_find(x);
        g_assert_not_reached();
    }
    g_assert_cmpint(x->exc_vec, ==, EX_PF);
    g_assert_cmphex(x->exc_err, ==, 0x11);
    rig_free(&r);
}

/* qemu64 has no 1 GiB pages: PS in a PDPTE is reserved. */
static void test_no_1g(void)
{
    Rig r;
    setup(&r, "qemu64", activate, sizeof(activate));
    /* The program reads 0x80000000 through a 2 MiB page first (it has no
       long-mode IDT for a fault), then the PDPTE becomes a 1 GiB page. */
    put64(&r, PDPT + 2 * 8, PD0 | P | W);
    run_halt(&r);
    put64(&r, PDPT + 2 * 8, 0 | P | W | PS);
    x86_tlb_flush(r.x, true);
    uint64_t pa;
    g_assert_cmphex(xlate(&r, 0x80005000, 0, false, &pa), ==, 0x9);
    g_assert_cmpint(xlate(&r, 0x40000000, 0, false, &pa), ==, -1);
    rig_free(&r);
}

static int run_insn(Rig *r, X86Handler fn, const X86Insn *in)
{
    X86Cpu *x = r->x;
    x->cur = NULL;
    if (setjmp(x->jb) == 0) {
        fn(x, in);
        return -1;
    }
    return x->exc_vec;
}

static int wrmsr(Rig *r, uint32_t idx, uint64_t v)
{
    X86Insn in = { 0 };
    r->x->regs[R_ECX] = idx;
    r->x->regs[R_EAX] = (uint32_t)v;
    r->x->regs[R_EDX] = v >> 32;
    return run_insn(r, x86_h_wrmsr, &in);
}

static int rdmsr(Rig *r, uint32_t idx, uint64_t *v)
{
    X86Insn in = { 0 };
    r->x->regs[R_ECX] = idx;
    int vec = run_insn(r, x86_h_rdmsr, &in);
    *v = (uint32_t)r->x->regs[R_EAX] | r->x->regs[R_EDX] << 32;
    return vec;
}

static void test_checks(void)
{
    Rig r;
    /* No PAE: MOV CR0 with LME is #GP(0) and nothing changes. */
    setup(&r, "qemu64", no_pae, sizeof(no_pae));
    run_halt(&r);
    g_assert_cmpint(rig_stub_vector(&r, STUBS, 32), ==, EX_GP);
    g_assert_false(r.x->lma);
    g_assert_false(r.x->cr0 & CR0_PG);
    rig_free(&r);

    activated(&r, "max");
    X86Insn in = { .reg = 4, .rm = R_EAX };
    /* Clearing CR4.PAE in long mode. */
    r.x->regs[R_EAX] = r.x->cr4 & ~(uint64_t)CR4_PAE;
    g_assert_cmpint(run_insn(&r, x86_h_mov_cr_r, &in), ==, EX_GP);
    g_assert_true(r.x->cr4 & CR4_PAE);
    /* EFER: LME cannot change under paging; LMA writes are ignored;
       reserved bits #GP. */
    uint64_t v;
    g_assert_cmpint(rdmsr(&r, MSR_EFER, &v), ==, -1);
    g_assert_cmphex(v, ==, EFER_LME | EFER_LMA | EFER_NXE);
    g_assert_cmpint(wrmsr(&r, MSR_EFER, EFER_NXE), ==, EX_GP);
    g_assert_cmpint(wrmsr(&r, MSR_EFER, EFER_LME | EFER_SCE), ==, -1);
    g_assert_cmpint(rdmsr(&r, MSR_EFER, &v), ==, -1);
    g_assert_cmphex(v, ==, EFER_LME | EFER_LMA | EFER_SCE);
    g_assert_cmpint(wrmsr(&r, MSR_EFER, EFER_LME | 0x2), ==, EX_GP);
    /* CR3 bits above MAXPHYADDR. */
    in.reg = 3;
    r.x->cr4 |= 0; /* unchanged */
    r.x->regs[R_EAX] = PML4;
    g_assert_cmpint(run_insn(&r, x86_h_mov_cr_r, &in), ==, -1);
    /* Leaving long mode from compatibility mode: PG off clears LMA. */
    in.reg = 0;
    r.x->regs[R_EAX] = r.x->cr0 & ~(uint64_t)CR0_PG;
    g_assert_cmpint(run_insn(&r, x86_h_mov_cr_r, &in), ==, -1);
    g_assert_false(r.x->lma);
    g_assert_cmpint(rdmsr(&r, MSR_EFER, &v), ==, -1);
    g_assert_cmphex(v, ==, EFER_LME | EFER_SCE);
    /* Long-mode MSRs and canonical addresses. */
    g_assert_cmpint(wrmsr(&r, 0xc0000082, 0xffff800000001000ull), ==, -1);
    g_assert_cmpint(rdmsr(&r, 0xc0000082, &v), ==, -1);
    g_assert_cmphex(v, ==, 0xffff800000001000ull);
    g_assert_cmpint(wrmsr(&r, 0xc0000082, 0x0000800000000000ull), ==,
                    EX_GP);
    g_assert_cmpint(wrmsr(&r, 0xc0000100, 0x7fff00001000ull), ==, -1);
    g_assert_cmphex(r.x->seg[S_FS].base, ==, 0x7fff00001000ull);
    g_assert_cmpint(wrmsr(&r, 0xc0000102, 0xfff0000000000000ull), ==,
                    EX_GP);
    g_assert_cmpint(wrmsr(&r, 0xc0000084, 0x12345678ffffull), ==, -1);
    g_assert_cmpint(rdmsr(&r, 0xc0000084, &v), ==, -1);
    g_assert_cmphex(v, ==, 0x5678ffffull);
    rig_free(&r);

    /* pentium2 has none of them. */
    rig_init(&r, RAM);
    g_assert_cmpint(wrmsr(&r, MSR_EFER, 0), ==, EX_GP);
    g_assert_cmpint(rdmsr(&r, 0xc0000082, &v), ==, EX_GP);
    rig_free(&r);
}

/* LTR in long mode: a 16-byte TSS descriptor, base bits 63:32 from its
   second half, whose type field must be 0; no 16-bit TSS. */
static void test_ltr16(void)
{
    Rig r;
    activated(&r, "max");
    X86Cpu *x = r.x;
    x->gdt.limit = 0x3f;
    rig_desc_set(&r, GDT, 0x18, 0x5000, 0x67, 0x89, 0);
    rig_put32(&r, GDT + 0x20, 0x1);      /* base 63:32 */
    rig_put32(&r, GDT + 0x24, 0);
    rig_desc_set(&r, GDT, 0x28, 0x5000, 0x67, 0x89, 0);
    rig_put32(&r, GDT + 0x30, 0);
    rig_put32(&r, GDT + 0x34, 0x900);    /* type in the second half */
    rig_desc_set(&r, GDT, 0x38, 0x5000, 0x2b, 0x81, 0); /* 16-bit TSS */
    X86Insn in = { .reg = 3, .mod = 3, .rm = R_EAX, .osz = 2 };
    x->regs[R_EAX] = 0x28;
    g_assert_cmpint(run_insn(&r, x86_h_sys_ldt_tr, &in), ==, EX_GP);
    g_assert_cmphex(x->exc_err, ==, 0x28);
    x->regs[R_EAX] = 0x38;
    g_assert_cmpint(run_insn(&r, x86_h_sys_ldt_tr, &in), ==, EX_GP);
    x->regs[R_EAX] = 0x18;
    g_assert_cmpint(run_insn(&r, x86_h_sys_ldt_tr, &in), ==, -1);
    g_assert_cmphex(x->tr.base, ==, 0x100005000ull);
    g_assert_cmphex(x->tr.limit, ==, 0x67);
    g_assert_cmphex(rig_get32(&r, GDT + 0x1c) & 0xf00, ==, 0xb00); /* busy */
    rig_free(&r);
}

/*
 * 64-bit mode: a long REP STOSB stops after a round (64 Ki iterations)
 * and restarts itself, so the run loop sees its budget (and interrupts).
 *   bits 64, org 0x2100
 *   mov ecx, 200000 / mov edi, 0x100000 / mov al, 0x5a / rep stosb / hlt
 */
static const uint8_t rep64[] = {
    0xb9, 0x40, 0x0d, 0x03, 0x00, 0xbf, 0x00, 0x00, 0x10, 0x00, 0xb0, 0x5a,
    0xf3, 0xaa, 0xf4,
};

static void test_rep_rounds(void)
{
    Rig r;
    activated(&r, "max");
    X86Cpu *x = r.x;
    x->gdt.limit = 0x1f;
    rig_desc_set(&r, GDT, 0x18, 0, 0xfffff, 0x9a, 0xa); /* G, L */
    rig_load_seg(&r, S_CS, 0x18);
    x86_update_mode(x);
    g_assert_true(x->code64);
    rig_load(&r, 0x2100, rep64, sizeof(rep64));
    x->rip = 0x2100;
    x->halted = false;
    g_assert_cmpint(rig_run(&r, 4), ==, CPU_EXIT_BUDGET);
    g_assert_cmphex(x->regs[R_ECX], ==, 200000 - 65536);
    g_assert_cmphex(x->rip, ==, 0x210c); /* at the REP again */
    g_assert_cmpint(rig_run(&r, 100), ==, CPU_EXIT_HALTED);
    g_assert_cmphex(x->regs[R_ECX], ==, 0);
    g_assert_cmphex(x->regs[R_EDI], ==, 0x100000 + 200000);
    g_assert_cmphex(r.ram[0x100000 + 199999], ==, 0x5a);
    g_assert_cmphex(r.ram[0x100000 + 200000], ==, 0);
    rig_free(&r);
}

static void cpuid(Rig *r, uint32_t leaf, uint32_t out[4])
{
    r->x->regs[R_EAX] = leaf;
    x86_cpuid(r->x);
    for (int i = 0; i < 4; i++) {
        out[i] = r->x->regs[(int[]){ R_EAX, R_EBX, R_ECX, R_EDX }[i]];
    }
}

static void test_cpuid(void)
{
    Rig r;
    uint32_t v[4];
    rig_init(&r, RAM);
    cpuid(&r, 0x80000000, v);
    g_assert_cmphex(v[0], ==, 0); /* pentium2: no extended leaves */
    cpuid(&r, 0x80000001, v);
    g_assert_cmphex(v[3], ==, 0);
    rig_free(&r);
    rig_init_model(&r, RAM, "qemu64");
    cpuid(&r, 0x80000000, v);
    g_assert_cmphex(v[0], >=, 0x80000008);
    cpuid(&r, 0x80000001, v);
    /* LM only once 64-bit mode executes (X86F_LM_DONE): a guest must
       not be told of a mode that would #UD on every instruction. */
    g_assert_cmpint(!!(v[3] & (1u << 29)), ==, !!X86F_LM_DONE);
    g_assert_true(v[3] & (1u << 20)); /* NX */
    g_assert_false(v[3] & (1u << 26)); /* no 1 GiB pages */
    g_assert_true(v[3] & (1u << 11));  /* SYSCALL */
    g_assert_true(v[2] & 1);           /* LAHF/SAHF in 64-bit mode */
    g_assert_false(v[3] & (1u << 27)); /* no RDTSCP (64-bit mode only) */
    cpuid(&r, 0x80000008, v);
    g_assert_cmphex(v[0] & 0xffff, ==, 0x3028); /* 40 physical, 48 linear */
    cpuid(&r, 1, v);
    /* qemu64's SSE family: SSE, SSE2, SSE3 (as QEMU's), no more. */
    g_assert_true(v[3] & (1u << 25));
    g_assert_true(v[3] & (1u << 26));
    g_assert_cmphex(v[2] & ((1u << 0) | (1u << 9) | (1u << 19) |
                            (1u << 20) | (1u << 23) | (1u << 26)), ==,
                    x86_sse_features(r.x) & X86F_SSE3 ? 1 : 0);
    rig_free(&r);
    rig_init_model(&r, RAM, "max");
    cpuid(&r, 0x80000001, v);
    g_assert_true(v[3] & (1u << 26));
    rig_free(&r);
    /* An unknown model is refused by create. */
    GError *err = NULL;
    CpuWiring bus = { .model = "pentium9" };
    g_assert_null(cpu_find("pentium2")->create(&bus, &err));
    g_assert_nonnull(err);
    g_error_free(err);
    g_assert_true(cpu_find("qemu64") == cpu_find("pentium2"));
    g_assert_true(cpu_find("max") == cpu_find("pentium2"));
    g_assert_null(cpu_find("pentium9"));
}

/* Save a long-mode CPU and load it into another: EFER, the MSRs and
   64-bit values come back; a pentium2 refuses them. */
static void test_state(void)
{
    Rig r, r2, r3;
    activated(&r, "max");
    r.x->regs[9] = 0x123456789abcdef0ull;
    r.x->lstar = 0xffffffff81000000ull;
    r.x->kernel_gs_base = 0xffff888000000000ull;
    r.x->star = 0x0023001000000000ull;
    const StateDesc *sd = r.cpu->ops->state;
    GByteArray *buf = g_byte_array_new();
    GError *err = NULL;
    size_t used;
    state_save(sd, r.cpu, buf);
    rig_init_model(&r2, RAM, "max");
    memcpy(r2.ram, r.ram, RAM); /* the page tables */
    g_assert_true(state_load(sd, r2.cpu, sd->version, buf->data, buf->len,
                             &used, &err));
    g_assert_no_error(err);
    g_assert_true(r2.x->lma);
    g_assert_cmphex(r2.x->efer, ==, EFER_LME | EFER_LMA | EFER_NXE);
    g_assert_cmphex(r2.x->regs[9], ==, 0x123456789abcdef0ull);
    g_assert_cmphex(r2.x->lstar, ==, 0xffffffff81000000ull);
    g_assert_cmphex(r2.x->kernel_gs_base, ==, 0xffff888000000000ull);
    g_assert_cmphex(r2.x->star, ==, 0x0023001000000000ull);
    uint64_t pa;
    g_assert_cmpint(xlate(&r2, 0x80005000, 0, false, &pa), ==, -1);
    g_assert_cmphex(pa, ==, 0x5000);
    rig_init(&r3, RAM);
    g_assert_false(state_load(sd, r3.cpu, sd->version, buf->data,
                              buf->len, &used, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_byte_array_unref(buf);
    rig_free(&r);
    rig_free(&r2);
    rig_free(&r3);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86/long/activate", test_activate);
    g_test_add_func("/x86/long/walk", test_walk);
    g_test_add_func("/x86/long/nx-tlb", test_nx_tlb);
    g_test_add_func("/x86/long/no-1g-pages", test_no_1g);
    g_test_add_func("/x86/long/checks", test_checks);
    g_test_add_func("/x86/long/ltr16", test_ltr16);
    g_test_add_func("/x86/long/rep-rounds", test_rep_rounds);
    g_test_add_func("/x86/long/cpuid", test_cpuid);
    g_test_add_func("/x86/long/state", test_state);
    return g_test_run();
}
