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

/*
 * The instructions 64-bit mode gained after the first slice (issue 17),
 * on data above 4 GiB (0x80_0000_0000 maps to 2 MiB by a PML4 entry of
 * its own, so a 32-bit truncation would read elsewhere):
 * bits 64, org 0x2100
 *   fninit / mov rbx, 0x8000000000
 *   fld qword [rbx+0x100] / fadd st0, st0 / fstp qword [rbx+0x108] ; x87
 *   movq mm0, rbx / movq [rbx+0x110], mm0 / emms        ; MMX, REX.W
 *   mov r9, 0x1122334455667788 / mov rax, r9
 *   shld rax, rbx, 8 / mov [rbx+0x118], rax             ; SHLD r64
 *   lea rsi, [rbx+0x120] / xchg rbx, rsi
 *   mov eax, 3 / xlatb / mov r10, rax / mov rbx, rsi    ; XLAT
 *   mov eax, 5 / mov cr8, rax / mov rcx, cr8            ; CR8 (no APIC)
 *   smsw rdx                                            ; all of CR0
 *   xor r11d, r11d / mov ss, r11d / mov r12d, ss        ; null SS, ring 0
 *   mov qword [rbx+0x128], 0x33 / mov word [rbx+0x130], 0x10
 *   lss r13, [rbx+0x128]                                ; m16:64
 *   hlt
 */
static const uint8_t gaps64[] = {
    0xdb, 0xe3, 0x48, 0xbb, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,
    0xdd, 0x83, 0x00, 0x01, 0x00, 0x00, 0xdc, 0xc0, 0xdd, 0x9b, 0x08, 0x01,
    0x00, 0x00, 0x48, 0x0f, 0x6e, 0xc3, 0x0f, 0x7f, 0x83, 0x10, 0x01, 0x00,
    0x00, 0x0f, 0x77, 0x49, 0xb9, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22,
    0x11, 0x4c, 0x89, 0xc8, 0x48, 0x0f, 0xa4, 0xd8, 0x08, 0x48, 0x89, 0x83,
    0x18, 0x01, 0x00, 0x00, 0x48, 0x8d, 0xb3, 0x20, 0x01, 0x00, 0x00, 0x48,
    0x87, 0xde, 0xb8, 0x03, 0x00, 0x00, 0x00, 0xd7, 0x49, 0x89, 0xc2, 0x48,
    0x89, 0xf3, 0xb8, 0x05, 0x00, 0x00, 0x00, 0x44, 0x0f, 0x22, 0xc0, 0x44,
    0x0f, 0x20, 0xc1, 0x48, 0x0f, 0x01, 0xe2, 0x45, 0x31, 0xdb, 0x41, 0x8e,
    0xd3, 0x41, 0x8c, 0xd4, 0x48, 0xc7, 0x83, 0x28, 0x01, 0x00, 0x00, 0x33,
    0x00, 0x00, 0x00, 0x66, 0xc7, 0x83, 0x30, 0x01, 0x00, 0x00, 0x10, 0x00,
    0x4c, 0x0f, 0xb2, 0xab, 0x28, 0x01, 0x00, 0x00, 0xf4,
};

static void test_gaps(void)
{
    Rig r;
    activated(&r, "max");
    X86Cpu *x = r.x;
    put64(&r, PML4 + 8, 0x18000 | P | W);
    put64(&r, 0x18000, 0x17000 | P | W);
    put64(&r, 0x17000, 0x200000 | P | W | PS);
    put64(&r, 0x200100, 0x3ff8000000000000ull); /* 1.5 */
    r.ram[0x200123] = 0xab;
    x86_tlb_flush(x, true);
    x->gdt.limit = 0x1f;
    rig_desc_set(&r, GDT, 0x18, 0, 0xfffff, 0x9a, 0xa); /* G, L */
    rig_load_seg(&r, S_CS, 0x18);
    x86_update_mode(x);
    g_assert_true(x->code64);
    rig_load(&r, 0x2100, gaps64, sizeof(gaps64));
    x->rip = 0x2100;
    run_halt(&r);
    g_assert_cmpint(rig_stub_vector(&r, STUBS, 32), ==, -1);
    g_assert_cmphex(get64(&r, 0x200108), ==, 0x4008000000000000ull); /* 3 */
    g_assert_cmphex(get64(&r, 0x200110), ==, 0x8000000000ull);
    g_assert_cmphex(get64(&r, 0x200118), ==, 0x2233445566778800ull);
    g_assert_cmphex(x->regs[10], ==, 0xab);
    g_assert_cmphex(x->regs[R_ECX], ==, 5);
    g_assert_cmphex(x->cr8, ==, 5);
    g_assert_cmphex(x->regs[R_EDX], ==, x->cr0);
    g_assert_cmphex(x->regs[12], ==, 0);
    g_assert_cmphex(x->regs[13], ==, 0x33);
    g_assert_cmphex(x->seg[S_SS].sel, ==, 0x10);

    /* info registers: the 64-bit layout in long mode. */
    g_autoptr(GString) out = g_string_new(NULL);
    x86_dump_state(x, out);
    g_assert_nonnull(strstr(out->str, "R13=0000000000000033"));
    g_assert_nonnull(strstr(out->str, "RBX=0000008000000000"));
    g_assert_nonnull(strstr(out->str, "EFER=0000000000000d00"));
    g_assert_nonnull(strstr(out->str, "KERNEL_GS_BASE="));

    /* x/i: 64-bit code at a linear address above 4 GiB (mov rax, r9). */
    r.ram[0x200200] = 0x4c;
    r.ram[0x200201] = 0x89;
    r.ram[0x200202] = 0xc8;
    g_string_truncate(out, 0);
    int n = r.cpu->ops->disassemble(r.cpu, 0x8000000200ull, false, out);
    g_assert_cmpint(n, ==, 3);
    if (!strstr(out->str, ".byte")) { /* with Capstone */
        g_assert_nonnull(strstr(out->str, "rax, r9"));
    }
    rig_free(&r);
}

/*
 * 64-bit call gates (SDM Vol. 3A 5.8.3.1), RDTSCP with IA32_TSC_AUX and
 * the FSGSBASE instructions, in 64-bit mode.  GDT: 0x18 64-bit code DPL 0,
 * 0x20 a 16-byte call gate DPL 3 to 0x18:target, 0x30/0x38 64-bit code and
 * data DPL 3, 0x48 a call gate DPL 0; the TSS's RSP0 is 0x9000; a 64-bit
 * IDT whose stubs are "mov al, vector; hlt".
 *   bits 64, org 0x2100
 *   start:
 *           mov rsp, 0x8000
 *           xor r8d, r8d
 *           jmp far [rel p20]          ; phase 1: JMP through the gate
 *   back1:
 *           call far [rel p20]         ; phase 2: CALL, same privilege
 *           mov ecx, 0xc0000103        ; TSC_AUX
 *           mov eax, 0x1234
 *           xor edx, edx
 *           wrmsr
 *           xor ecx, ecx
 *           rdtscp
 *           mov r15, rcx
 *           mov rax, cr4
 *           bts eax, 16                ; CR4.FSGSBASE
 *           mov cr4, rax
 *           mov rax, 0x00007fff12345678
 *           wrfsbase rax
 *           rdfsbase r14
 *           mov rax, 0xffffffff9abcdef0
 *           wrgsbase eax               ; zero-extended
 *           rdgsbase r13
 *           push 0x3b                  ; to ring 3
 *           push 0x7000
 *           pushfq
 *           push 0x33
 *           lea rax, [rel ring3]
 *           push rax
 *           iretq
 *   ring3:
 *           call far [rel p20]         ; phase 3: CALL to ring 0
 *           mov [rel r3back], rsp
 *           call far [rel p48]         ; a DPL 0 gate: #GP(0x48)
 *           hlt
 *   target:
 *           inc r8d
 *           cmp r8d, 1
 *           je back1
 *           cmp r8d, 2
 *           jne .inner
 *           mov r9, [rsp]
 *           mov r10, [rsp + 8]
 *           o64 retf
 *   .inner:
 *           mov [0x620], rsp
 *           mov rax, [rsp]
 *           mov [0x600], rax
 *           mov rax, [rsp + 8]
 *           mov [0x608], rax
 *           mov rax, [rsp + 16]
 *           mov [0x610], rax
 *           mov rax, [rsp + 24]
 *           mov [0x618], rax
 *           mov ax, ss
 *           mov [0x628], ax
 *           o64 retf
 *   p20:    dq 0x1111
 *           dw 0x20
 *   p48:    dq 0
 *           dw 0x48
 *   r3back: dq 0
 */
static const uint8_t gates64[] = {
    0xbc, 0x00, 0x80, 0x00, 0x00, 0x45, 0x31, 0xc0, 0x48, 0xff, 0x2d, 0xd7,
    0x00, 0x00, 0x00, 0x48, 0xff, 0x1d, 0xd0, 0x00, 0x00, 0x00, 0xb9, 0x03,
    0x01, 0x00, 0xc0, 0xb8, 0x34, 0x12, 0x00, 0x00, 0x31, 0xd2, 0x0f, 0x30,
    0x31, 0xc9, 0x0f, 0x01, 0xf9, 0x49, 0x89, 0xcf, 0x0f, 0x20, 0xe0, 0x0f,
    0xba, 0xe8, 0x10, 0x0f, 0x22, 0xe0, 0x48, 0xb8, 0x78, 0x56, 0x34, 0x12,
    0xff, 0x7f, 0x00, 0x00, 0xf3, 0x48, 0x0f, 0xae, 0xd0, 0xf3, 0x49, 0x0f,
    0xae, 0xc6, 0x48, 0xc7, 0xc0, 0xf0, 0xde, 0xbc, 0x9a, 0xf3, 0x0f, 0xae,
    0xd8, 0xf3, 0x49, 0x0f, 0xae, 0xcd, 0x6a, 0x3b, 0x68, 0x00, 0x70, 0x00,
    0x00, 0x9c, 0x6a, 0x33, 0x48, 0x8d, 0x05, 0x03, 0x00, 0x00, 0x00, 0x50,
    0x48, 0xcf, 0x48, 0xff, 0x1d, 0x71, 0x00, 0x00, 0x00, 0x48, 0x89, 0x25,
    0x7e, 0x00, 0x00, 0x00, 0x48, 0xff, 0x1d, 0x6d, 0x00, 0x00, 0x00, 0xf4,
    0x41, 0xff, 0xc0, 0x41, 0x83, 0xf8, 0x01, 0x74, 0x82, 0x41, 0x83, 0xf8,
    0x02, 0x75, 0x0b, 0x4c, 0x8b, 0x0c, 0x24, 0x4c, 0x8b, 0x54, 0x24, 0x08,
    0x48, 0xcb, 0x48, 0x89, 0x24, 0x25, 0x20, 0x06, 0x00, 0x00, 0x48, 0x8b,
    0x04, 0x24, 0x48, 0x89, 0x04, 0x25, 0x00, 0x06, 0x00, 0x00, 0x48, 0x8b,
    0x44, 0x24, 0x08, 0x48, 0x89, 0x04, 0x25, 0x08, 0x06, 0x00, 0x00, 0x48,
    0x8b, 0x44, 0x24, 0x10, 0x48, 0x89, 0x04, 0x25, 0x10, 0x06, 0x00, 0x00,
    0x48, 0x8b, 0x44, 0x24, 0x18, 0x48, 0x89, 0x04, 0x25, 0x18, 0x06, 0x00,
    0x00, 0x66, 0x8c, 0xd0, 0x66, 0x89, 0x04, 0x25, 0x28, 0x06, 0x00, 0x00,
    0x48, 0xcb, 0x11, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x48, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00
};
#define GATE_TARGET 0x2184

static void gate64(Rig *r, uint32_t at, uint16_t sel, uint64_t off,
                   unsigned type, unsigned dpl)
{
    rig_put32(r, at, (off & 0xffff) | (uint32_t)sel << 16);
    rig_put32(r, at + 4, (off & 0xffff0000u) | 0x8000 | dpl << 13 |
                         type << 8);
    put64(r, at + 8, off >> 32);
}

static void test_gates(void)
{
    Rig r;
    activated(&r, "max");
    X86Cpu *x = r.x;
    put64(&r, PD0 + 0 * 8, 0x000000 | P | W | U | PS);
    x86_tlb_flush(x, true);
    x->gdt.limit = 0x5f;
    rig_desc_set(&r, GDT, 0x18, 0, 0xfffff, 0x9a, 0xa);
    gate64(&r, GDT + 0x20, 0x18, GATE_TARGET, 12, 3);
    rig_desc_set(&r, GDT, 0x30, 0, 0xfffff, 0xfa, 0xa);
    rig_desc_set(&r, GDT, 0x38, 0, 0xfffff, 0xf2, 0xc);
    gate64(&r, GDT + 0x48, 0x18, GATE_TARGET, 12, 0);
    for (unsigned v = 0; v < 32; v++) {
        gate64(&r, IDT + v * 16, 0x18, STUBS + v * 4, 14, 0);
        rig_put32(&r, STUBS + v * 4, 0x90f400b0u | v << 8);
    }
    x->idt.base = IDT;
    x->idt.limit = 32 * 16 - 1;
    x->tr.base = 0x5000;
    x->tr.limit = 0x67;
    put64(&r, 0x5004, 0x9000); /* RSP0 */
    rig_load_seg(&r, S_CS, 0x18);
    x86_update_mode(x);
    rig_load(&r, 0x2100, gates64, sizeof(gates64));
    x->rip = 0x2100;
    run_halt(&r);
    /* Stopped in the #GP stub: the DPL 0 gate from ring 3. */
    g_assert_cmphex(x->regs[R_EAX] & 0xff, ==, EX_GP);
    g_assert_cmphex(get64(&r, x->regs[R_ESP]), ==, 0x48);
    g_assert_cmphex(x->regs[R_ESP], ==, 0x9000 - 6 * 8);
    /* Phase 1 (JMP) and 2 (CALL at CPL 0): the return address and CS. */
    g_assert_cmphex(x->regs[8], ==, 3);
    g_assert_cmphex(x->regs[9], ==, 0x2116);
    g_assert_cmphex(x->regs[10], ==, 0x18);
    /* Phase 3: ring 3 to ring 0 on RSP0: RIP, CS, RSP, SS, 8 bytes each,
       and a null SS. */
    g_assert_cmphex(get64(&r, 0x620), ==, 0x9000 - 32);
    g_assert_cmphex(get64(&r, 0x600), ==, 0x2175);
    g_assert_cmphex(get64(&r, 0x608), ==, 0x33);
    g_assert_cmphex(get64(&r, 0x610), ==, 0x7000);
    g_assert_cmphex(get64(&r, 0x618), ==, 0x3b);
    g_assert_cmphex(rig_get16(&r, 0x628), ==, 0);
    /* Back in ring 3 by RETF with REX.W: the old stack. */
    g_assert_cmphex(get64(&r, 0x21fa), ==, 0x7000);
    /* RDTSCP's ECX; RDFSBASE and RDGSBASE (32 bits zero-extended). */
    g_assert_cmphex(x->regs[15], ==, 0x1234);
    g_assert_cmphex(x->regs[14], ==, 0x00007fff12345678ull);
    g_assert_cmphex(x->regs[13], ==, 0x9abcdef0ull);
    g_assert_cmphex(x->seg[S_FS].base, ==, 0x00007fff12345678ull);

    /* A non-canonical WRFSBASE is #GP(0); the FSGSBASE forms are #UD
       without CR4.FSGSBASE; an upper half with a type is #GP(sel). */
    static const uint8_t wrfs[] = { 0xf3, 0x48, 0x0f, 0xae, 0xd0, 0xf4 };
    static const uint8_t call20[] = { 0x48, 0xff, 0x1c, 0x25, 0x00, 0x07,
                                      0x00, 0x00, 0xf4 };
    rig_load(&r, 0x2400, wrfs, sizeof(wrfs));
    rig_load(&r, 0x2500, call20, sizeof(call20));
    put64(&r, 0x700, 0);
    rig_put16(&r, 0x708, 0x20);
    struct { uint32_t at; uint64_t rax, cr4; int vec; } cases[] = {
        { 0x2400, 0x0000800000000000ull, CR4_FSGSBASE, EX_GP },
        { 0x2400, 0x1000, 0, EX_UD },
        { 0x2400, 0x1000, CR4_FSGSBASE, -1 },
        { 0x2500, 0, CR4_FSGSBASE, -2 },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        rig_load_seg(&r, S_CS, 0x18);
        x->cpl = 0;
        x86_update_mode(x);
        x->regs[R_EAX] = cases[i].rax;
        x->regs[R_ESP] = 0x8000;
        x->cr4 = (x->cr4 & ~(uint64_t)CR4_FSGSBASE) | cases[i].cr4;
        x->rip = cases[i].at;
        if (cases[i].vec == -2) {
            put64(&r, GDT + 0x28, 0x100ull << 32); /* type 1 above */
        }
        run_halt(&r);
        if (cases[i].vec >= 0) {
            g_assert_cmphex(x->regs[R_EAX] & 0xff, ==, cases[i].vec);
        } else if (cases[i].vec == -1) {
            g_assert_cmphex(x->seg[S_FS].base, ==, 0x1000);
        } else {
            g_assert_cmphex(x->regs[R_EAX] & 0xff, ==, EX_GP);
            g_assert_cmphex(get64(&r, x->regs[R_ESP]), ==, 0x20);
        }
    }
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
    g_assert_false(v[3] & (1u << 27)); /* no RDTSCP (as QEMU's qemu64) */
    cpuid(&r, 0x80000008, v);
    g_assert_cmphex(v[0] & 0xffff, ==, 0x3028); /* 40 physical, 48 linear */
    cpuid(&r, 1, v);
    /* qemu64's SSE family: SSE, SSE2, SSE3 (as QEMU's), no more. */
    g_assert_true(v[3] & (1u << 25));
    g_assert_true(v[3] & (1u << 26));
    g_assert_cmphex(v[2] & ((1u << 0) | (1u << 9) | (1u << 19) |
                            (1u << 20) | (1u << 23) | (1u << 26)), ==,
                    x86_sse_features(r.x) & X86F_SSE3 ? 1 : 0);
    g_assert_true(v[2] & (1u << 13)); /* CMPXCHG16B */
    rig_free(&r);
    rig_init(&r, RAM);
    cpuid(&r, 1, v);
    g_assert_false(v[2] & (1u << 13)); /* pentium2: no CMPXCHG16B */
    rig_free(&r);
    /* qemu64: no RDTSCP (#UD, also outside 64-bit mode), no leaf 7. */
    rig_init_model(&r, RAM, "qemu64");
    X86Insn rdtscp = { .reg = 7, .mod = 3, .rm = 1 };
    g_assert_cmpint(run_insn(&r, x86_h_sys_desc_tables, &rdtscp), ==, EX_UD);
    cpuid(&r, 0, v);
    g_assert_cmphex(v[0], <, 7);
    rig_free(&r);
    rig_init_model(&r, RAM, "max");
    cpuid(&r, 0x80000001, v);
    g_assert_true(v[3] & (1u << 26));
    g_assert_true(v[3] & (1u << 27)); /* RDTSCP */
    r.x->regs[R_ECX] = 0;
    cpuid(&r, 7, v);
    g_assert_cmphex(v[1], ==, 1); /* FSGSBASE only */
    /* RDTSCP in 32-bit code: the TSC and TSC_AUX. */
    r.x->tsc_aux = 0xabcd;
    r.x->regs[R_ECX] = 0xffffffff00000000ull;
    g_assert_cmpint(run_insn(&r, x86_h_sys_desc_tables, &rdtscp), ==, -1);
    g_assert_cmphex(r.x->regs[R_ECX], ==, 0xabcd);
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
    g_test_add_func("/x86/long/gaps", test_gaps);
    g_test_add_func("/x86/long/cpuid", test_cpuid);
    g_test_add_func("/x86/long/gates", test_gates);
    g_test_add_func("/x86/long/state", test_state);
    return g_test_run();
}
