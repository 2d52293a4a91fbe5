/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the x86 core's system features through CpuOps on a real
 * MemMap: hardware task switching (JMP/CALL/IRET through TSS descriptors
 * and task gates, IDT task gates with error codes, 16-bit TSS, LDT and
 * CR3 loads, busy bits, NT, CR0.TS, the fault checks), the debug
 * facilities (TF single-step with the MOV SS shadow and untraced INT n,
 * instruction breakpoints with RF, data breakpoints with R/W and LEN,
 * ICEBP, DR7.GD) and virtual-8086 mode (IOPL-sensitive instructions, the
 * I/O permission bitmap, interrupts to ring 0 and IRET back).
 *
 * The CPU starts in 32-bit flat protected mode set up from C (GDT at
 * 0x800, IDT at 0x1000 whose gates lead to stubs at 0x3000 + 16 * vector
 * that store the vector at 0x500 and halt).  The programs are assembled
 * with nasm; the source is next to the bytes.
 */
#include <string.h>

#include <glib.h>

#include "x86-rig.h"

#define RAM_SIZE (4u << 20)
#define GDT 0x800u
#define IDT 0x1000u
#define STUBS 0x3000u
#define VEC 0x500u           /* the stubs store the vector here */
#define STACK 0x9000u

#define put8 rig_put8
#define put16 rig_put16
#define put32 rig_put32
#define get16 rig_get16
#define get32 rig_get32

/* Stack slot i (dwords) above ESP (flat SS). */
static uint32_t stk(Rig *r, int i)
{
    return get32(r, r->x->seg[S_SS].base + r->x->regs[R_ESP] + 4 * i);
}

static void gdt_set(Rig *r, unsigned sel, uint32_t base, uint32_t limit,
                    uint8_t access, uint8_t flags)
{
    rig_desc_set(r, GDT, sel, base, limit, access, flags);
}

static uint8_t gdt_access(Rig *r, unsigned sel)
{
    return memmap_read_sized(r->mem, GDT + sel + 5, 1);
}

/* Gate of type (0xe interrupt, 0x5 task) and DPL for vector vec. */
static void idt_set(Rig *r, unsigned vec, uint16_t sel, uint32_t off,
                    unsigned type, unsigned dpl)
{
    rig_idt_gate(r, IDT, vec, sel, off, type, dpl);
}

static void load(Rig *r, uint32_t at, const uint8_t *p, size_t n)
{
    rig_load(r, at, p, n);
}

/* A 32-bit TSS at base: flat ring-0 segments, EFLAGS 2. */
static void tss32(Rig *r, uint32_t base, uint32_t eip, uint32_t esp)
{
    for (unsigned i = 0; i < 0x68; i += 4) {
        put32(r, base + i, 0);
    }
    put32(r, base + 0x20, eip);
    put32(r, base + 0x24, 2);
    put32(r, base + 0x38, esp);
    static const uint16_t segs[6] = { 0x10, 0x08, 0x10, 0x10, 0x10, 0x10 };
    for (int i = 0; i < 6; i++) {
        put32(r, base + 0x48 + 4 * i, segs[i]);
    }
}

/*
 * 32-bit flat protected mode at CPL 0, EIP eip, ESP STACK.  GDT: 0x08
 * code, 0x10 data (DPL 0); the tests add TSS descriptors from 0x28 on.
 * Every IDT vector has an interrupt gate (DPL 0) to its stub (SS: the
 * data segments are null after an interrupt from V86):
 *   mov dword [ss:0x500], vec ; hlt
 */
static void rig_pm32(Rig *r, uint32_t eip)
{
    X86Cpu *x = r->x;
    for (unsigned v = 0; v < 256; v++) {
        uint32_t s = STUBS + v * 16;
        static const uint8_t stub[] = { 0x36, 0xc7, 0x05, 0x00, 0x05, 0x00,
                                        0x00 };
        load(r, s, stub, sizeof(stub));
        put32(r, s + 7, v);
        put8(r, s + 11, 0xf4);
        idt_set(r, v, 0x08, s, 0xe, 0);
    }
    put32(r, VEC, 0xffffffffu);
    rig_flat(r, GDT, 0);
    x->gdt.limit = 0x77;
    x->idt = (DescTable){ IDT, 0x7ff };
    x->regs[R_ESP] = STACK;
    x->rip = eip;
}

static void run_halt(Rig *r)
{
    r->x->halted = false;
    CpuExit why = CPU_EXIT_BUDGET;
    r->cpu->ops->run(r->cpu, 100000, &why);
    g_assert_cmpint(why, ==, CPU_EXIT_HALTED);
}

/* Linear address the CPU halted after (HLT's successor). */
static uint32_t pc(Rig *r)
{
    return r->x->seg[S_CS].base + r->x->rip;
}

/*
 * bits 32, org 0x2000
 *   mov ax, 0x28
 *   ltr ax
 *   mov ebx, 0xb0b0
 *   jmp 0x30:0          ; JMP to TSS A
 *   mov [0x600], ebx    ; back from A
 *   hlt
 *   call 0x40:0         ; CALL through the task gate to B
 *   mov [0x604], eax
 *   hlt
 */
static const uint8_t ts_main[] = {
    0x66, 0xb8, 0x28, 0x00, 0x0f, 0x00, 0xd8, 0xbb, 0xb0, 0xb0, 0x00, 0x00,
    0xea, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x89, 0x1d, 0x00, 0x06, 0x00,
    0x00, 0xf4, 0x9a, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0xa3, 0x04, 0x06,
    0x00, 0x00, 0xf4,
};

/*
 * bits 32, org 0x2100
 *   mov ecx, 0xa1
 *   hlt
 *   jmp 0x28:0
 */
static const uint8_t ts_a[] = {
    0xb9, 0xa1, 0x00, 0x00, 0x00, 0xf4, 0xea, 0x00, 0x00, 0x00, 0x00, 0x28,
    0x00,
};

/*
 * bits 32, org 0x2200
 *   pushfd
 *   pop eax
 *   hlt
 *   iretd
 */
static const uint8_t ts_b[] = {
    0x9c, 0x58, 0xf4, 0xcf,
};

/*
 * bits 32, org 0x2000
 *   mov ax, 0x28
 *   ltr ax
 *   jmp 0x30:0
 *   hlt
 */
static const uint8_t ts_jmp[] = {
    0x66, 0xb8, 0x28, 0x00, 0x0f, 0x00, 0xd8, 0xea, 0x00, 0x00, 0x00, 0x00,
    0x30, 0x00, 0xf4,
};

/*
 * bits 32, org 0x2000
 *   mov ax, 0x28
 *   ltr ax
 *   pushfd
 *   or dword [esp], 0x4000
 *   popfd
 *   iretd               ; NT=1: to the back link
 */
static const uint8_t ts_iret[] = {
    0x66, 0xb8, 0x28, 0x00, 0x0f, 0x00, 0xd8, 0x9c, 0x81, 0x0c, 0x24, 0x00,
    0x40, 0x00, 0x00, 0x9d, 0xcf,
};

/*
 * bits 32, org 0x2000
 *   mov ax, 0x28
 *   ltr ax
 *   mov ax, 0x78        ; beyond the GDT limit: #GP(0x78)
 *   mov ds, ax
 *   hlt
 */
static const uint8_t ts_fault[] = {
    0x66, 0xb8, 0x28, 0x00, 0x0f, 0x00, 0xd8, 0x66, 0xb8, 0x78, 0x00, 0x8e,
    0xd8, 0xf4,
};

/*
 * bits 32, org 0x2300
 *   pop eax             ; error code pushed on the new task's stack
 *   pushfd
 *   pop ebx
 *   hlt
 */
static const uint8_t ts_handler[] = {
    0x58, 0x9c, 0x5b, 0xf4,
};

/*
 * bits 32, org 0x2400
 *   mov eax, [es:0x400000] ; through the new task's CR3
 *   mov ebx, [0]        ; DS from its LDT, base 0x9000
 *   hlt
 */
static const uint8_t ts_ldt[] = {
    0x26, 0xa1, 0x00, 0x00, 0x40, 0x00, 0x8b, 0x1d, 0x00, 0x00, 0x00, 0x00,
    0xf4,
};

/*
 * bits 32, org 0x2000
 *   mov ax, 0x28
 *   ltr ax
 *   mov esi, 0x11112222
 *   jmp 0x38:0          ; to a 16-bit TSS
 *   hlt
 */
static const uint8_t ts_16[] = {
    0x66, 0xb8, 0x28, 0x00, 0x0f, 0x00, 0xd8, 0xbe, 0x22, 0x22, 0x11, 0x11,
    0xea, 0x00, 0x00, 0x00, 0x00, 0x38, 0x00, 0xf4,
};

/*
 * bits 32, org 0x2500
 *   hlt
 *   jmp 0x28:0
 */
static const uint8_t ts_16b[] = {
    0xf4, 0xea, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00,
};

/*
 * bits 32, org 0x2000
 *   mov edx, 0x10
 *   pushfd
 *   or dword [esp], 0x100
 *   popfd               ; TF=1 from here on: no trap after POPF
 *   mov eax, 1          ; trap (eip 0x2013)
 *   mov ss, dx          ; trap held back ...
 *   mov ebx, 2          ; ... to after this one (eip 0x201a)
 *   int 0x32            ; untraced handler, no trap
 *   nop                 ; trap (0x201d)
 *   pushfd              ; trap (0x201e)
 *   and dword [esp], ~0x100 ; trap (0x2025)
 *   popfd               ; TF was set: trap (0x2026)
 *   hlt
 */
static const uint8_t db_step[] = {
    0xba, 0x10, 0x00, 0x00, 0x00, 0x9c, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00,
    0x00, 0x9d, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x8e, 0xd2, 0xbb, 0x02, 0x00,
    0x00, 0x00, 0xcd, 0x32, 0x90, 0x9c, 0x81, 0x24, 0x24, 0xff, 0xfe, 0xff,
    0xff, 0x9d, 0xf4,
};

/*
 * bits 32, org 0x2800
 *   push eax
 *   push ebx
 *   mov ebx, [0x6fc]
 *   mov eax, [esp + 8]
 *   mov [0x700 + ebx * 4], eax
 *   mov eax, dr6
 *   mov [0x740 + ebx * 4], eax
 *   mov [0x780 + ebx * 4], ecx
 *   inc dword [0x6fc]
 *   xor eax, eax
 *   mov dr6, eax
 *   or dword [esp + 16], 0x10000  ; RF: resume past an insn breakpoint
 *   pop ebx
 *   pop eax
 *   iretd
 */
static const uint8_t db_handler[] = {
    0x50, 0x53, 0x8b, 0x1d, 0xfc, 0x06, 0x00, 0x00, 0x8b, 0x44, 0x24, 0x08,
    0x89, 0x04, 0x9d, 0x00, 0x07, 0x00, 0x00, 0x0f, 0x21, 0xf0, 0x89, 0x04,
    0x9d, 0x40, 0x07, 0x00, 0x00, 0x89, 0x0c, 0x9d, 0x80, 0x07, 0x00, 0x00,
    0xff, 0x05, 0xfc, 0x06, 0x00, 0x00, 0x31, 0xc0, 0x0f, 0x23, 0xf0, 0x81,
    0x4c, 0x24, 0x10, 0x00, 0x00, 0x01, 0x00, 0x5b, 0x58, 0xcf,
};

/*
 * bits 32, org 0x2900
 *   inc dword [0x6f8]
 *   pushfd
 *   pop dword [0x6f4]
 *   iretd
 */
static const uint8_t int32_handler[] = {
    0xff, 0x05, 0xf8, 0x06, 0x00, 0x00, 0x9c, 0x8f, 0x05, 0xf4, 0x06, 0x00,
    0x00, 0xcf,
};

/*
 * bits 32, org 0x2000
 *       mov esi, 2
 *       xor ecx, ecx
 *   loop:
 *       inc ecx             ; DR0 points here (0x2007)
 *       dec esi
 *       jnz loop
 *       hlt
 */
static const uint8_t db_exec[] = {
    0xbe, 0x02, 0x00, 0x00, 0x00, 0x31, 0xc9, 0x41, 0x4e, 0x75, 0xfc, 0xf4,
};

/*
 * bits 32, org 0x2000
 *   mov eax, [0x8004]   ; read: DR1 is write-only
 *   mov [0x8006], al    ; write inside DR1's dword: trap (eip 0x200a)
 *   mov al, [0x8101]    ; outside DR2's byte
 *   mov al, [0x8100]    ; DR2 read/write: trap (eip 0x2014)
 *   nop
 *   hlt
 */
static const uint8_t db_data[] = {
    0xa1, 0x04, 0x80, 0x00, 0x00, 0xa2, 0x06, 0x80, 0x00, 0x00, 0xa0, 0x01,
    0x81, 0x00, 0x00, 0xa0, 0x00, 0x81, 0x00, 0x00, 0x90, 0xf4,
};

/*
 * bits 32, org 0x2000
 *   nop
 *   db 0xf1             ; ICEBP: #DB trap, eip 0x2002
 *   hlt
 */
static const uint8_t db_icebp[] = {
    0x90, 0xf1, 0xf4,
};

/*
 * bits 32, org 0x2000
 *   mov eax, dr0        ; DR7.GD: #DB fault before the access
 *   hlt
 */
static const uint8_t db_gd[] = {
    0x0f, 0x21, 0xc0, 0xf4,
};

/*
 * bits 32, org 0x2000
 *   in al, 0x81         ; not DR3's port
 *   out 0x80, al        ; DR3: I/O breakpoint, trap (eip 0x2004)
 *   hlt
 */
static const uint8_t db_io[] = {
    0xe4, 0x81, 0xe6, 0x80, 0xf4,
};

/*
 * bits 32, org 0x2000
 *   mov edi, 0x8000
 *   mov ecx, 3
 *   pushfd
 *   or dword [esp], 0x100
 *   popfd
 *   rep stosb           ; a trap after each iteration: 0x2013 0x2013 0x2015
 *   pushfd              ; 0x2016
 *   and dword [esp], ~0x100 ; 0x201d
 *   popfd               ; 0x201e
 *   hlt
 */
static const uint8_t db_rep[] = {
    0xbf, 0x00, 0x80, 0x00, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0x9c, 0x81,
    0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0xf3, 0xaa, 0x9c, 0x81, 0x24,
    0x24, 0xff, 0xfe, 0xff, 0xff, 0x9d, 0xf4,
};

/*
 * bits 32, org 0x2000
 *   mov edi, 0x8000
 *   mov ecx, 5
 *   mov al, 0x5a
 *   rep stosb           ; DR1 = 0x8002: trap after the 3rd store (eip 0x200c)
 *   hlt
 */
static const uint8_t db_data_rep[] = {
    0xbf, 0x00, 0x80, 0x00, 0x00, 0xb9, 0x05, 0x00, 0x00, 0x00, 0xb0, 0x5a,
    0xf3, 0xaa, 0xf4,
};

/*
 * bits 16, org 0x2000
 *   cli
 *   sti
 *   pushf
 *   popf
 *   int 0x21
 *   iret
 */
static const uint8_t v86_sens[] = {
    0xfa, 0xfb, 0x9c, 0x9d, 0xcd, 0x21, 0xcf,
};

/*
 * bits 16, org 0x2000
 *   in al, 0x80         ; allowed
 *   in ax, 0x86         ; 0x86, 0x87 allowed
 *   in ax, 0x87         ; 0x88 denied: #GP
 *   hlt
 */
static const uint8_t v86_io[] = {
    0xe4, 0x80, 0xe5, 0x86, 0xe5, 0x87, 0xf4,
};

/*
 * bits 16, org 0x2000
 *   mov ax, 0x1234
 *   int 0x40            ; IOPL 3: through the IDT to ring 0
 *   mov bx, ax          ; back in V86
 *   cli
 *   sti
 *   pushf
 *   pop cx
 *   int 0x41            ; again, to a stub that halts
 */
static const uint8_t v86_int[] = {
    0xb8, 0x34, 0x12, 0xcd, 0x40, 0x89, 0xc3, 0xfa, 0xfb, 0x9c, 0x59, 0xcd,
    0x41,
};

/*
 * bits 16, org 0x2000
 *   cli                 ; VME, IOPL 0: VIF = 0
 *   pushf
 *   pop ax              ; IF (= VIF) 0, IOPL 3
 *   sti                 ; VIF = 1
 *   pushf
 *   pop bx              ; IF 1
 *   int 0x21            ; redirection bit clear: IVT[21h] in V86
 *   mov dx, 0x4321
 *   int 0x22            ; bit set, IOPL 0: #GP (eip 0x200b)
 */
static const uint8_t v86_vme[] = {
    0xfa, 0x9c, 0x58, 0xfb, 0x9c, 0x5b, 0xcd, 0x21, 0xba, 0x21, 0x43, 0xcd,
    0x22,
};

/*
 * bits 16, org 0x2100
 *   pushf
 *   pop cx              ; VIF was cleared on the way in
 *   iret                ; VIF from the popped IF
 */
static const uint8_t v86_vme_handler[] = {
    0x9c, 0x59, 0xcf,
};

/*
 * bits 32, org 0x2000
 *   cli                 ; CPL 3, IOPL 0, PVI: VIF = 0
 *   pushfd
 *   pop eax
 *   sti                 ; VIF = 1
 *   pushfd
 *   pop ebx
 *   hlt                 ; #GP: the end of the test (eip 0x2006)
 */
static const uint8_t pvi[] = {
    0xfa, 0x9c, 0x58, 0xfb, 0x9c, 0x5b, 0xf4,
};

/*
 * bits 32, org 0x2600
 *   mov eax, ds         ; nulled on the way in
 *   mov [ss:0x540], eax
 *   mov eax, gs
 *   mov [ss:0x544], eax
 *   mov [ss:0x548], esp
 *   mov ax, 0x5678
 *   iretd               ; back to V86
 */
static const uint8_t v86_handler[] = {
    0x8c, 0xd8, 0x36, 0xa3, 0x40, 0x05, 0x00, 0x00, 0x8c, 0xe8, 0x36, 0xa3,
    0x44, 0x05, 0x00, 0x00, 0x36, 0x89, 0x25, 0x48, 0x05, 0x00, 0x00, 0x66,
    0xb8, 0x78, 0x56, 0xcf,
};

/* ---- task switching ---- */

#define TSS_MAIN 0x5000u
#define TSS_A 0x5100u
#define TSS_B 0x5200u
#define TSS_H 0x5300u

static void task_rig(Rig *r, const uint8_t *prog, size_t n)
{
    rig_init(r, RAM_SIZE);
    load(r, 0x2000, prog, n);
    rig_pm32(r, 0x2000);
    tss32(r, TSS_MAIN, 0, 0);
    gdt_set(r, 0x28, TSS_MAIN, 0x67, 0x89, 0);
    gdt_set(r, 0x30, TSS_A, 0x67, 0x89, 0);
    gdt_set(r, 0x38, TSS_B, 0x67, 0x89, 0);
    put32(r, GDT + 0x40, 0x38u << 16); /* task gate -> 0x38 */
    put32(r, GDT + 0x44, 0x8500);
}

static void test_task_jmp_call_iret(void)
{
    Rig r;
    task_rig(&r, ts_main, sizeof(ts_main));
    X86Cpu *x = r.x;
    load(&r, 0x2100, ts_a, sizeof(ts_a));
    load(&r, 0x2200, ts_b, sizeof(ts_b));
    tss32(&r, TSS_A, 0x2100, 0x8800);
    put32(&r, TSS_A + 0x28, 0xaaaa); /* EAX */
    tss32(&r, TSS_B, 0x2200, 0x8400);

    /* JMP to TSS A: A runs with its registers; main's state is saved. */
    run_halt(&r);
    g_assert_cmphex(pc(&r), ==, 0x2106);
    g_assert_cmphex(x->tr.sel, ==, 0x30);
    g_assert_cmphex(x->tr.flags & 0xf, ==, 0xb);
    g_assert_cmphex(x->regs[R_EAX], ==, 0xaaaa);
    g_assert_cmphex(x->regs[R_ESP], ==, 0x8800);
    g_assert_true(x->cr0 & CR0_TS);
    g_assert_false(x86_get_eflags(x) & F_NT);
    g_assert_cmphex(gdt_access(&r, 0x28), ==, 0x89); /* JMP: old freed */
    g_assert_cmphex(gdt_access(&r, 0x30), ==, 0x8b);
    g_assert_cmphex(get32(&r, TSS_MAIN + 0x20), ==, 0x2013); /* EIP */
    g_assert_cmphex(get32(&r, TSS_MAIN + 0x34), ==, 0xb0b0); /* EBX */
    g_assert_cmphex(get32(&r, TSS_MAIN + 0x38), ==, STACK);  /* ESP */
    g_assert_cmphex(get16(&r, TSS_MAIN + 0x4c), ==, 0x08);   /* CS */
    g_assert_cmphex(get16(&r, TSS_A), ==, 0);  /* no back link */

    /* JMP back to main. */
    run_halt(&r);
    g_assert_cmphex(pc(&r), ==, 0x201a);
    g_assert_cmphex(get32(&r, 0x600), ==, 0xb0b0);
    g_assert_cmphex(x->tr.sel, ==, 0x28);
    g_assert_cmphex(gdt_access(&r, 0x30), ==, 0x89);
    g_assert_cmphex(gdt_access(&r, 0x28), ==, 0x8b);
    g_assert_cmphex(get32(&r, TSS_A + 0x20), ==, 0x210d);
    g_assert_cmphex(get32(&r, TSS_A + 0x2c), ==, 0xa1); /* ECX */

    /* CALL through a task gate: nested (NT, back link, caller busy). */
    run_halt(&r);
    g_assert_cmphex(pc(&r), ==, 0x2203);
    g_assert_cmphex(x->tr.sel, ==, 0x38);
    g_assert_true(x->regs[R_EAX] & F_NT);
    g_assert_cmphex(get16(&r, TSS_B), ==, 0x28);
    g_assert_cmphex(gdt_access(&r, 0x38), ==, 0x8b);
    g_assert_cmphex(gdt_access(&r, 0x28), ==, 0x8b);

    /* IRET with NT: back to main, B freed, main's registers back. */
    run_halt(&r);
    g_assert_cmphex(pc(&r), ==, 0x2027);
    g_assert_cmphex(x->tr.sel, ==, 0x28);
    g_assert_cmphex(gdt_access(&r, 0x38), ==, 0x89);
    g_assert_cmphex(gdt_access(&r, 0x28), ==, 0x8b);
    g_assert_false(x86_get_eflags(x) & F_NT);
    g_assert_cmphex(get32(&r, 0x604), ==, 0x28);
    /* B's saved EFLAGS: NT cleared by the IRET */
    g_assert_false(get32(&r, TSS_B + 0x24) & F_NT);
    rig_free(&r);
}

/* Checks made before the switch fault in the old task. */
static void expect_fault(Rig *r, int vec, uint32_t err, uint32_t eip)
{
    run_halt(r);
    g_assert_cmpint(get32(r, VEC), ==, vec);
    g_assert_cmphex(stk(r, 0), ==, err);
    g_assert_cmphex(stk(r, 1), ==, eip);
}

static void test_task_checks(void)
{
    Rig r;
    /* JMP to a busy TSS: #GP(sel) */
    task_rig(&r, ts_jmp, sizeof(ts_jmp));
    tss32(&r, TSS_A, 0x2100, 0x8800);
    gdt_set(&r, 0x30, TSS_A, 0x67, 0x8b, 0);
    expect_fault(&r, EX_GP, 0x30, 0x2007);
    g_assert_cmphex(r.x->tr.sel, ==, 0x28);
    rig_free(&r);

    /* a 32-bit TSS shorter than 0x68 bytes: #TS(sel) */
    task_rig(&r, ts_jmp, sizeof(ts_jmp));
    tss32(&r, TSS_A, 0x2100, 0x8800);
    gdt_set(&r, 0x30, TSS_A, 0x50, 0x89, 0);
    expect_fault(&r, EX_TS, 0x30, 0x2007);
    rig_free(&r);

    /* not present: #NP(sel) */
    task_rig(&r, ts_jmp, sizeof(ts_jmp));
    tss32(&r, TSS_A, 0x2100, 0x8800);
    gdt_set(&r, 0x30, TSS_A, 0x67, 0x09, 0);
    expect_fault(&r, EX_NP, 0x30, 0x2007);
    rig_free(&r);

    /* a data segment as the new CS: #TS(CS) in the new task */
    task_rig(&r, ts_jmp, sizeof(ts_jmp));
    tss32(&r, TSS_A, 0x2100, 0x8800);
    put32(&r, TSS_A + 0x4c, 0x10);
    run_halt(&r);
    g_assert_cmpint(get32(&r, VEC), ==, EX_TS);
    g_assert_cmphex(r.x->tr.sel, ==, 0x30);
    g_assert_cmphex(stk(&r, 0), ==, 0x10);
    g_assert_cmphex(stk(&r, 1), ==, 0x2100); /* the new task's EIP */
    g_assert_cmphex(r.x->regs[R_ESP], ==, 0x8800 - 16);
    g_assert_cmphex(get32(&r, TSS_MAIN + 0x20), ==, 0x200e);
    rig_free(&r);

    /* a not-present SS in the new task: #SS(SS) */
    task_rig(&r, ts_jmp, sizeof(ts_jmp));
    tss32(&r, TSS_A, 0x2100, 0x8800);
    gdt_set(&r, 0x48, 0, 0xfffff, 0x12, 0xc);
    put32(&r, TSS_A + 0x50, 0x48);
    run_halt(&r);
    g_assert_cmpint(get32(&r, VEC), ==, EX_SS);
    rig_free(&r);

    /* IRET with NT to a TSS that is not busy: #TS(back link) */
    task_rig(&r, ts_iret, sizeof(ts_iret));
    put16(&r, TSS_MAIN, 0x30);
    tss32(&r, TSS_A, 0x2100, 0x8800);
    expect_fault(&r, EX_TS, 0x30, 0x2010);
    rig_free(&r);
}

/* #GP through an IDT task gate: the handler task gets the error code. */
static void test_task_gate_exception(void)
{
    Rig r;
    task_rig(&r, ts_fault, sizeof(ts_fault));
    X86Cpu *x = r.x;
    load(&r, 0x2300, ts_handler, sizeof(ts_handler));
    tss32(&r, TSS_H, 0x2300, 0x8000);
    gdt_set(&r, 0x50, TSS_H, 0x67, 0x89, 0);
    idt_set(&r, EX_GP, 0x50, 0, 0x5, 0);
    run_halt(&r);
    g_assert_cmphex(x->tr.sel, ==, 0x50);
    g_assert_cmphex(x->regs[R_EAX], ==, 0x78);
    g_assert_cmphex(x->regs[R_ESP], ==, 0x8000);
    g_assert_true(x->regs[R_EBX] & F_NT);
    g_assert_cmphex(get16(&r, TSS_H), ==, 0x28);
    /* the old task resumes at the faulting instruction */
    g_assert_cmphex(get32(&r, TSS_MAIN + 0x20), ==, 0x200b);
    rig_free(&r);
}

/* The new task's CR3 and LDT are loaded from its TSS. */
static void test_task_ldt_cr3(void)
{
    Rig r;
    task_rig(&r, ts_jmp, sizeof(ts_jmp));
    X86Cpu *x = r.x;
    load(&r, 0x2400, ts_ldt, sizeof(ts_ldt));
    for (uint32_t i = 0; i < 1024; i++) {
        put32(&r, 0x11000 + 4 * i, (i << 12) | 3);
    }
    put32(&r, 0x10000, 0x11000 | 3);  /* main: 0-4M only */
    put32(&r, 0x12000, 0x11000 | 3);  /* task: 0-4M ... */
    put32(&r, 0x12004, 0x13000 | 3);  /* ... and 0x400000 -> 0x40000 */
    put32(&r, 0x13000, 0x40000 | 3);
    put32(&r, 0x40000, 0xcafe);
    put32(&r, 0x7000, 0x9000ffff);     /* LDT[0]: data, base 0x9000 */
    put32(&r, 0x7004, 0x00409200);
    put32(&r, 0x9000, 0xbeef);
    gdt_set(&r, 0x48, 0x7000, 0xf, 0x82, 0);
    tss32(&r, TSS_A, 0x2400, 0x8800);
    put32(&r, TSS_A + 0x1c, 0x12000);
    put32(&r, TSS_A + 0x60, 0x48);
    put32(&r, TSS_A + 0x54, 0x04);     /* DS = LDT[0] */
    x->cr3 = 0x10000;
    x->cr0 |= CR0_PG;
    x86_mmu_mode_changed(x);
    run_halt(&r);
    g_assert_cmphex(x->cr3, ==, 0x12000);
    g_assert_cmphex(x->ldt.sel, ==, 0x48);
    g_assert_cmphex(x->ldt.base, ==, 0x7000);
    g_assert_cmphex(x->seg[S_DS].base, ==, 0x9000);
    g_assert_cmphex(x->regs[R_EAX], ==, 0xcafe);
    g_assert_cmphex(x->regs[R_EBX], ==, 0xbeef);
    rig_free(&r);
}

/* A 16-bit TSS: 16-bit fields, no FS/GS (nulled), and back. */
static void test_task_16bit(void)
{
    Rig r;
    task_rig(&r, ts_16, sizeof(ts_16));
    X86Cpu *x = r.x;
    load(&r, 0x2500, ts_16b, sizeof(ts_16b));
    for (unsigned i = 0; i < 0x2c; i += 2) {
        put16(&r, TSS_B + i, 0);
    }
    put16(&r, TSS_B + 0x0e, 0x2500);  /* IP */
    put16(&r, TSS_B + 0x10, 2);       /* FLAGS */
    put16(&r, TSS_B + 0x1a, 0x8400);  /* SP */
    put16(&r, TSS_B + 0x1e, 0x3333);  /* SI */
    put16(&r, TSS_B + 0x22, 0x10);    /* ES */
    put16(&r, TSS_B + 0x24, 0x08);    /* CS */
    put16(&r, TSS_B + 0x26, 0x10);    /* SS */
    put16(&r, TSS_B + 0x28, 0x10);    /* DS */
    gdt_set(&r, 0x38, TSS_B, 0x2b, 0x81, 0);
    run_halt(&r);
    g_assert_cmphex(pc(&r), ==, 0x2501);
    g_assert_cmphex(x->tr.sel, ==, 0x38);
    g_assert_cmphex(x->tr.flags & 0xf, ==, 0x3);
    g_assert_cmphex(x->regs[R_ESI] & 0xffff, ==, 0x3333);
    g_assert_cmphex(x->regs[R_ESP] & 0xffff, ==, 0x8400);
    g_assert_cmphex(x->seg[S_FS].sel, ==, 0);
    g_assert_cmphex(x->seg[S_GS].sel, ==, 0);
    g_assert_cmphex(get32(&r, TSS_MAIN + 0x40), ==, 0x11112222);
    run_halt(&r);
    g_assert_cmphex(pc(&r), ==, 0x2014);
    g_assert_cmphex(x->tr.sel, ==, 0x28);
    g_assert_cmphex(x->regs[R_ESI], ==, 0x11112222);
    g_assert_cmphex(x->seg[S_FS].sel, ==, 0x10);
    g_assert_cmphex(get16(&r, TSS_B + 0x0e), ==, 0x2508);
    g_assert_cmphex(gdt_access(&r, 0x38), ==, 0x81);
    rig_free(&r);
}

/* ---- debug ---- */

#define DB_COUNT 0x6fc
#define DB_EIP 0x700
#define DB_DR6 0x740
#define DB_ECX 0x780

static void debug_rig(Rig *r, const uint8_t *prog, size_t n)
{
    rig_init(r, RAM_SIZE);
    load(r, 0x2000, prog, n);
    load(r, 0x2800, db_handler, sizeof(db_handler));
    load(r, 0x2900, int32_handler, sizeof(int32_handler));
    rig_pm32(r, 0x2000);
    idt_set(r, EX_DB, 0x08, 0x2800, 0xe, 0);
    idt_set(r, 0x32, 0x08, 0x2900, 0xe, 0);
}

static void test_debug_single_step(void)
{
    Rig r;
    debug_rig(&r, db_step, sizeof(db_step));
    run_halt(&r);
    static const uint32_t eips[] = { 0x2013, 0x201a, 0x201d, 0x201e,
                                     0x2025, 0x2026 };
    g_assert_cmpint(get32(&r, DB_COUNT), ==, G_N_ELEMENTS(eips));
    for (unsigned i = 0; i < G_N_ELEMENTS(eips); i++) {
        g_assert_cmphex(get32(&r, DB_EIP + 4 * i), ==, eips[i]);
        g_assert_cmphex(get32(&r, DB_DR6 + 4 * i) & (DR6_BS | 0xf), ==,
                        DR6_BS);
    }
    g_assert_cmpint(get32(&r, 0x6f8), ==, 1);         /* INT 32h ran ... */
    g_assert_false(get32(&r, 0x6f4) & F_TF);           /* ... untraced */
    g_assert_false(x86_get_eflags(r.x) & F_TF);
    rig_free(&r);
}

/* REP string instructions trap after every iteration. */
static void test_debug_single_step_rep(void)
{
    Rig r;
    debug_rig(&r, db_rep, sizeof(db_rep));
    run_halt(&r);
    static const uint32_t eips[] = { 0x2013, 0x2013, 0x2015, 0x2016,
                                     0x201d, 0x201e };
    g_assert_cmpint(get32(&r, DB_COUNT), ==, G_N_ELEMENTS(eips));
    for (unsigned i = 0; i < G_N_ELEMENTS(eips); i++) {
        g_assert_cmphex(get32(&r, DB_EIP + 4 * i), ==, eips[i]);
    }
    /* ECX as each trap saw it */
    g_assert_cmphex(get32(&r, DB_ECX), ==, 2);
    g_assert_cmphex(get32(&r, DB_ECX + 4), ==, 1);
    g_assert_cmphex(get32(&r, DB_ECX + 8), ==, 0);
    g_assert_cmphex(r.x->regs[R_EDI], ==, 0x8003);
    rig_free(&r);
}

static void test_debug_exec_breakpoint(void)
{
    Rig r;
    debug_rig(&r, db_exec, sizeof(db_exec));
    r.x->dr[0] = 0x2007;
    r.x->dr[7] = 0x401;  /* L0, execute, length 1 */
    x86_dbg_update(r.x);
    run_halt(&r);
    /* A fault before the instruction each time round the loop; the
       handler's RF lets the instruction run once. */
    g_assert_cmpint(get32(&r, DB_COUNT), ==, 2);
    g_assert_cmphex(get32(&r, DB_EIP), ==, 0x2007);
    g_assert_cmphex(get32(&r, DB_EIP + 4), ==, 0x2007);
    g_assert_cmphex(get32(&r, DB_ECX), ==, 0);
    g_assert_cmphex(get32(&r, DB_ECX + 4), ==, 1);
    g_assert_cmphex(get32(&r, DB_DR6) & 0xf, ==, 1);
    g_assert_cmphex(r.x->regs[R_ECX], ==, 2);
    g_assert_cmphex(pc(&r), ==, 0x200c);
    rig_free(&r);
}

static void test_debug_data_breakpoint(void)
{
    Rig r;
    debug_rig(&r, db_data, sizeof(db_data));
    r.x->dr[1] = 0x8004;  /* write, 4 bytes */
    r.x->dr[2] = 0x8100;  /* read/write, 1 byte */
    r.x->dr[7] = 0x400 | (1 << 2) | (1 << 4) | (1u << 20) | (3u << 22) |
                 (3u << 24);
    x86_dbg_update(r.x);
    run_halt(&r);
    g_assert_cmpint(get32(&r, DB_COUNT), ==, 2);
    g_assert_cmphex(get32(&r, DB_EIP), ==, 0x200a);     /* trap: after */
    g_assert_cmphex(get32(&r, DB_DR6) & 0xf, ==, 2);
    g_assert_cmphex(get32(&r, DB_EIP + 4), ==, 0x2014);
    g_assert_cmphex(get32(&r, DB_DR6 + 4) & 0xf, ==, 4);
    rig_free(&r);
}

/* A data breakpoint inside REP STOSB: the trap follows that iteration,
   EIP at the REP (to restart it). */
static void test_debug_data_breakpoint_rep(void)
{
    Rig r;
    debug_rig(&r, db_data_rep, sizeof(db_data_rep));
    r.x->dr[1] = 0x8002;
    r.x->dr[7] = 0x400 | (1 << 2) | (1u << 20);  /* L1, write, 1 byte */
    x86_dbg_update(r.x);
    run_halt(&r);
    g_assert_cmpint(get32(&r, DB_COUNT), ==, 1);
    g_assert_cmphex(get32(&r, DB_EIP), ==, 0x200c);
    g_assert_cmphex(get32(&r, DB_ECX), ==, 2);
    g_assert_cmphex(get32(&r, DB_DR6) & 0xf, ==, 2);
    g_assert_cmphex(r.x->regs[R_EDI], ==, 0x8005);
    g_assert_cmphex(r.x->regs[R_ECX], ==, 0);
    g_assert_cmphex(memmap_read_sized(r.mem, 0x8004, 1), ==, 0x5a);
    rig_free(&r);
}

static void test_debug_icebp_gd(void)
{
    Rig r;
    rig_init(&r, RAM_SIZE);
    load(&r, 0x2000, db_icebp, sizeof(db_icebp));
    rig_pm32(&r, 0x2000);
    run_halt(&r);
    g_assert_cmpint(get32(&r, VEC), ==, EX_DB);
    g_assert_cmphex(stk(&r, 0), ==, 0x2002);  /* a trap */
    rig_free(&r);

    rig_init(&r, RAM_SIZE);
    load(&r, 0x2000, db_gd, sizeof(db_gd));
    rig_pm32(&r, 0x2000);
    r.x->dr[7] = 0x400 | DR7_GD;
    r.x->regs[R_EAX] = 0x1234;
    run_halt(&r);
    g_assert_cmpint(get32(&r, VEC), ==, EX_DB);
    g_assert_cmphex(stk(&r, 0), ==, 0x2000);  /* a fault */
    g_assert_true(r.x->dr[6] & DR6_BD);
    g_assert_false(r.x->dr[7] & DR7_GD);
    g_assert_cmphex(r.x->regs[R_EAX], ==, 0x1234);
    rig_free(&r);
}

static void test_debug_io_breakpoint(void)
{
    Rig r;
    debug_rig(&r, db_io, sizeof(db_io));
    r.x->cr4 |= CR4_DE;
    r.x->dr[3] = 0x80;
    r.x->dr[7] = 0x400 | (1 << 6) | (2u << 28);  /* L3, I/O, 1 byte */
    x86_dbg_update(r.x);
    run_halt(&r);
    g_assert_cmpint(get32(&r, DB_COUNT), ==, 1);
    g_assert_cmphex(get32(&r, DB_EIP), ==, 0x2004);
    g_assert_cmphex(get32(&r, DB_DR6) & 0xf, ==, 8);
    rig_free(&r);
}

/* The TSS T bit: #DB (DR6.BT) before the new task's first instruction. */
static void test_debug_task_trap(void)
{
    Rig r;
    task_rig(&r, ts_jmp, sizeof(ts_jmp));
    tss32(&r, TSS_A, 0x2100, 0x8800);
    put16(&r, TSS_A + 0x64, 1);
    run_halt(&r);
    g_assert_cmpint(get32(&r, VEC), ==, EX_DB);
    g_assert_cmphex(r.x->tr.sel, ==, 0x30);
    g_assert_cmphex(stk(&r, 0), ==, 0x2100);
    g_assert_true(r.x->dr[6] & DR6_BT);
    rig_free(&r);
}

/* ---- virtual-8086 mode ---- */

#define RING0_SP 0x9000u

/* V86 at 0000:eip, IOPL iopl; ES/FS/GS 0x100/0x200/0x300; the TSS at
   0x5000 (ring-0 stack 0010:9000) has an I/O bitmap at 0x88 allowing
   0x80-0x87, below it the (clear) interrupt redirection bitmap. */
#define REDIR (TSS_MAIN + 0x68)
static void v86_rig(Rig *r, const uint8_t *prog, size_t n, unsigned iopl)
{
    rig_init(r, RAM_SIZE);
    load(r, 0x2000, prog, n);
    rig_pm32(r, 0x2000);
    X86Cpu *x = r->x;
    tss32(r, TSS_MAIN, 0, 0);
    put32(r, TSS_MAIN + 4, RING0_SP);
    put32(r, TSS_MAIN + 8, 0x10);
    put16(r, TSS_MAIN + 0x66, 0x88);
    for (unsigned i = 0; i < 32; i++) {
        put8(r, REDIR + i, 0);
    }
    for (unsigned i = 0; i <= 0x2000; i++) {
        put8(r, TSS_MAIN + 0x88 + i, 0xff);
    }
    put8(r, TSS_MAIN + 0x88 + 0x10, 0x00);
    gdt_set(r, 0x28, TSS_MAIN, 0x88 + 0x2000, 0x8b, 0);
    x86_desc_to_cache(&x->tr, 0x28, get32(r, GDT + 0x28),
                      get32(r, GDT + 0x2c));
    x->eflags = 0x20002 | (iopl << 12);
    static const uint16_t sels[6] = { 0x100, 0, 0x700, 0, 0x200, 0x300 };
    for (int s = 0; s < 6; s++) {
        x86_seg_set_real(x, s, sels[s]);
    }
    x->regs[R_ESP] = 0x0100; /* SS 0x700: linear 0x7100 */
    x86_post_load_fixup(x);
    g_assert_cmpint(x->cpl, ==, 3);
}

/* The ring-0 frame of an exception from V86 (with error code). */
static void check_v86_frame(Rig *r, int vec, uint32_t eip)
{
    X86Cpu *x = r->x;
    g_assert_cmpint(get32(r, VEC), ==, vec);
    g_assert_cmpint(x->cpl, ==, 0);
    g_assert_false(x86_get_eflags(x) & F_VM);
    g_assert_cmphex(x->seg[S_SS].sel, ==, 0x10);
    g_assert_cmphex(x->regs[R_ESP], ==, RING0_SP - 40);
    for (int s = 0; s < 6; s++) {
        if (s != S_CS && s != S_SS) {
            g_assert_cmphex(x->seg[s].sel, ==, 0);
        }
    }
    g_assert_cmphex(stk(r, 0), ==, 0);      /* error code */
    g_assert_cmphex(stk(r, 1), ==, eip);
    g_assert_cmphex(stk(r, 2), ==, 0);      /* CS */
    g_assert_true(stk(r, 3) & F_VM);
    g_assert_cmphex(stk(r, 5), ==, 0x700);  /* SS */
    g_assert_cmphex(stk(r, 6), ==, 0x100);  /* ES */
    g_assert_cmphex(stk(r, 7), ==, 0);      /* DS */
    g_assert_cmphex(stk(r, 8), ==, 0x200);  /* FS */
    g_assert_cmphex(stk(r, 9), ==, 0x300);  /* GS */
}

static void test_v86_iopl_sensitive(void)
{
    /* IOPL 0: CLI, STI, PUSHF, POPF, INT n, IRET each #GP(0). */
    static const uint32_t offs[] = { 0, 1, 2, 3, 4, 6 };
    for (unsigned i = 0; i < G_N_ELEMENTS(offs); i++) {
        Rig r;
        v86_rig(&r, v86_sens, sizeof(v86_sens), 0);
        r.x->rip = 0x2000 + offs[i];
        run_halt(&r);
        check_v86_frame(&r, EX_GP, 0x2000 + offs[i]);
        rig_free(&r);
    }
    /* IOPL 3: they run; INT 21h goes through the IDT (gate DPL 3). */
    Rig r;
    v86_rig(&r, v86_sens, sizeof(v86_sens), 3);
    idt_set(&r, 0x21, 0x08, STUBS + 0x21 * 16, 0xe, 3);
    run_halt(&r);
    g_assert_cmpint(get32(&r, VEC), ==, 0x21);
    g_assert_cmphex(stk(&r, 0), ==, 0x2006);  /* no error code */
    g_assert_true(stk(&r, 2) & F_IF);         /* STI ran */
    g_assert_cmphex(r.x->regs[R_ESP], ==, RING0_SP - 36);
    rig_free(&r);
}

static void test_v86_io_bitmap(void)
{
    Rig r;
    v86_rig(&r, v86_io, sizeof(v86_io), 3);  /* the bitmap, not IOPL */
    run_halt(&r);
    check_v86_frame(&r, EX_GP, 0x2004);
    rig_free(&r);
}

static void test_v86_int_iret(void)
{
    Rig r;
    v86_rig(&r, v86_int, sizeof(v86_int), 3);
    load(&r, 0x2600, v86_handler, sizeof(v86_handler));
    idt_set(&r, 0x40, 0x08, 0x2600, 0xe, 3);
    idt_set(&r, 0x41, 0x08, STUBS + 0x41 * 16, 0xe, 3);
    run_halt(&r);
    X86Cpu *x = r.x;
    g_assert_cmpint(get32(&r, VEC), ==, 0x41);
    g_assert_cmphex(get32(&r, 0x540), ==, 0);  /* DS, GS nulled */
    g_assert_cmphex(get32(&r, 0x544), ==, 0);
    g_assert_cmphex(get32(&r, 0x548), ==, RING0_SP - 36);
    g_assert_cmphex(x->regs[R_EBX] & 0xffff, ==, 0x5678); /* IRET to V86 */
    g_assert_cmphex(x->regs[R_ECX] & 0x3200, ==, 0x3200); /* IOPL 3, IF */
    g_assert_cmphex(stk(&r, 0), ==, 0x200d);
    g_assert_cmphex(stk(&r, 3), ==, 0x0100);              /* V86 SP */
    g_assert_cmphex(stk(&r, 4), ==, 0x700);               /* SS */
    g_assert_cmphex(stk(&r, 5), ==, 0x100);               /* ES again */
    g_assert_cmphex(stk(&r, 8), ==, 0x300);               /* GS */
    rig_free(&r);
}

/* VME (CR4.VME, IOPL 0): CLI/STI/PUSHF/POPF/IRET use VIF, INT n is
   redirected to the 8086 program's IVT unless its redirection bit is set. */
static void test_v86_vme(void)
{
    Rig r;
    v86_rig(&r, v86_vme, sizeof(v86_vme), 0);
    X86Cpu *x = r.x;
    load(&r, 0x2100, v86_vme_handler, sizeof(v86_vme_handler));
    put32(&r, 0x21 * 4, 0x00002100);    /* IVT[21h] = 0000:2100 */
    put8(&r, REDIR + 0x22 / 8, 1u << (0x22 & 7));
    x->cr4 |= CR4_VME;
    run_halt(&r);
    check_v86_frame(&r, EX_GP, 0x200b);
    g_assert_cmphex(x->regs[R_EAX] & 0x3200, ==, 0x3000);
    g_assert_cmphex(x->regs[R_EBX] & 0x3200, ==, 0x3200);
    g_assert_cmphex(x->regs[R_ECX] & 0x3200, ==, 0x3000);
    g_assert_cmphex(x->regs[R_EDX] & 0xffff, ==, 0x4321);
    /* the real IF and IOPL never changed; VIF is set again */
    g_assert_cmphex(stk(&r, 3) & (F_IF | F_IOPL | F_VIF), ==, F_VIF);
    g_assert_cmphex(stk(&r, 4), ==, 0x100); /* IRET balanced the stack */
    rig_free(&r);

    /* STI with VIP pending: #GP */
    v86_rig(&r, v86_vme, sizeof(v86_vme), 0);
    r.x->cr4 |= CR4_VME;
    r.x->eflags |= F_VIP;
    r.x->rip = 0x2003;
    run_halt(&r);
    check_v86_frame(&r, EX_GP, 0x2003);
    rig_free(&r);

    /* without CR4.VME the same CLI faults */
    v86_rig(&r, v86_vme, sizeof(v86_vme), 0);
    run_halt(&r);
    check_v86_frame(&r, EX_GP, 0x2000);
    rig_free(&r);
}

/* IRET into V86 with VIF and VIP set (VME, IOPL 0): #GP before the
   first V86 instruction. */
static void test_v86_vme_vip_iret(void)
{
    Rig r;
    rig_init(&r, RAM_SIZE);
    static const uint8_t iretd[] = { 0xcf };
    load(&r, 0x2000, iretd, 1);
    rig_pm32(&r, 0x2000);
    X86Cpu *x = r.x;
    tss32(&r, TSS_MAIN, 0, 0);
    put32(&r, TSS_MAIN + 4, RING0_SP);
    put32(&r, TSS_MAIN + 8, 0x10);
    gdt_set(&r, 0x28, TSS_MAIN, 0x67, 0x8b, 0);
    x86_desc_to_cache(&x->tr, 0x28, get32(&r, GDT + 0x28),
                      get32(&r, GDT + 0x2c));
    x->cr4 |= CR4_VME;
    /* EIP CS EFLAGS ESP SS ES DS FS GS */
    static const uint32_t frame[] = { 0x1234, 0x0100, 0x2 | F_VM | F_VIF |
                                      F_VIP, 0x0200, 0x0700, 0, 0, 0, 0 };
    x->regs[R_ESP] = 0x7000;
    for (unsigned i = 0; i < G_N_ELEMENTS(frame); i++) {
        put32(&r, 0x7000 + 4 * i, frame[i]);
    }
    run_halt(&r);
    g_assert_cmpint(get32(&r, VEC), ==, EX_GP);
    g_assert_cmphex(stk(&r, 0), ==, 0);
    g_assert_cmphex(stk(&r, 1), ==, 0x1234);  /* the V86 instruction */
    g_assert_cmphex(stk(&r, 2), ==, 0x0100);
    g_assert_cmphex(stk(&r, 3) & (F_VM | F_VIF | F_VIP), ==,
                    F_VM | F_VIF | F_VIP);
    g_assert_cmphex(x->regs[R_ESP], ==, RING0_SP - 40);
    rig_free(&r);
}

/* PVI: CLI/STI at CPL 3 with IOPL 0 act on VIF. */
static void test_pvi(void)
{
    Rig r;
    rig_init(&r, RAM_SIZE);
    load(&r, 0x2000, pvi, sizeof(pvi));
    rig_pm32(&r, 0x2000);
    X86Cpu *x = r.x;
    gdt_set(&r, 0x18, 0, 0xfffff, 0xfa, 0xc);
    gdt_set(&r, 0x20, 0, 0xfffff, 0xf2, 0xc);
    tss32(&r, TSS_MAIN, 0, 0);
    put32(&r, TSS_MAIN + 4, RING0_SP);
    put32(&r, TSS_MAIN + 8, 0x10);
    gdt_set(&r, 0x28, TSS_MAIN, 0x67, 0x8b, 0);
    x86_desc_to_cache(&x->tr, 0x28, get32(&r, GDT + 0x28),
                      get32(&r, GDT + 0x2c));
    for (int s = 0; s < 6; s++) {
        uint16_t sel = s == S_CS ? 0x1b : 0x23;
        x86_desc_to_cache(&x->seg[s], sel, get32(&r, GDT + (sel & ~3)),
                          get32(&r, GDT + (sel & ~3) + 4));
    }
    x->regs[R_ESP] = 0x8000;
    x->cr4 |= CR4_PVI;
    x->eflags = 2 | F_VIF;
    x86_post_load_fixup(x);
    g_assert_cmpint(x->cpl, ==, 3);
    run_halt(&r);
    g_assert_cmpint(get32(&r, VEC), ==, EX_GP);   /* the HLT */
    g_assert_cmphex(stk(&r, 1), ==, 0x2006);
    g_assert_cmphex(x->regs[R_EAX] & (F_IF | F_VIF), ==, 0);
    g_assert_cmphex(x->regs[R_EBX] & (F_IF | F_VIF), ==, F_VIF);
    rig_free(&r);
}

/*
 * Segment limits and types (SDM Vol. 3A 5.3, 5.4; Vol. 2 for each
 * instruction: #GP(0), or #SS(0) through SS, and the instruction is not
 * committed).  Neither qemu-i386 nor Unicorn checks data segment limits,
 * so these are not in the differential tests.  GDT additions, all DPL 0
 * with base 0x20000 unless said:
 *   0x60 data RW expand-up, limit 0xfff, B=1
 *   0x68 data RW expand-down, limit 0xfff, B=0: offsets 0x1000..0xffff
 *   0x70 data read-only, limit 0xfff
 *   0x58 code 32-bit, base 0, limit 0x7005
 * Each program runs at 0x6000.  A vector of -1: no fault, it halts.
 */
typedef struct LimitCase {
    const char *what;
    uint8_t prog[32];
    uint8_t n;
    int vec;
    uint32_t eip;       /* of the faulting instruction */
    uint8_t cs[8];      /* code at 0x7000 (segment 0x58), if cs_n */
    uint8_t cs_n;
} LimitCase;

#define ES(sel) 0x66, 0xb8, sel, 0x00, 0x8e, 0xc0      /* mov ax, sel; mov es, ax */
#define SS(sel) 0x66, 0xb8, sel, 0x00, 0x8e, 0xd0      /* mov ax, sel; mov ss, ax */

static const LimitCase limit_cases[] = {
    { "dword read ending at the limit", { ES(0x60), 0x26, 0xa1, 0xfc, 0x0f,
      0, 0, 0xf4 }, 13, -1, 0 },
    { "dword read crossing the limit", { ES(0x60), 0x26, 0xa1, 0xfd, 0x0f,
      0, 0, 0xf4 }, 13, EX_GP, 0x6006 },
    { "byte write past the limit", { ES(0x60), 0x26, 0xa2, 0x00, 0x10, 0, 0,
      0xf4 }, 13, EX_GP, 0x6006 },
    { "expand-down: the limit itself", { ES(0x68), 0x26, 0xa0, 0xff, 0x0f,
      0, 0, 0xf4 }, 13, EX_GP, 0x6006 },
    { "expand-down: limit + 1", { ES(0x68), 0x26, 0xa1, 0x00, 0x10, 0, 0,
      0xf4 }, 13, -1, 0 },
    { "expand-down B=0: word crossing 0xffff", { ES(0x68), 0x66, 0x26, 0xa1,
      0xff, 0xff, 0, 0, 0xf4 }, 14, EX_GP, 0x6006 },
    { "expand-down B=0: past 0xffff", { ES(0x68), 0x26, 0xa0, 0x00, 0x00,
      0x01, 0, 0xf4 }, 13, EX_GP, 0x6006 },
    { "write to a read-only segment", { ES(0x70), 0x26, 0xa3, 0, 0, 0, 0,
      0xf4 }, 13, EX_GP, 0x6006 },
    { "read from a read-only segment", { ES(0x70), 0x26, 0xa1, 0, 0, 0, 0,
      0xf4 }, 13, -1, 0 },
    { "null ES", { ES(0x00), 0x26, 0xa1, 0, 0, 0, 0, 0xf4 }, 13, EX_GP,
      0x6006 },
    /* mov esp, 0xf00 ; mov ebp, 0xffe ; mov eax, [ebp] */
    { "SS: read crossing the limit", { SS(0x60), 0xbc, 0x00, 0x0f, 0, 0,
      0xbd, 0xfe, 0x0f, 0, 0, 0x8b, 0x45, 0x00, 0xf4 }, 20, EX_SS, 0x6010 },
    /* jmp far 0x58:0x7000 (at 0x7000: nop x3; mov eax, imm32 crossing the
       limit 0x7005) */
    { "CS: instruction crossing the limit", { 0xea, 0x00, 0x70, 0, 0, 0x58,
      0x00 }, 7, EX_GP, 0x7003 },
    /* jmp far 0x58:0x7010: past the limit, the JMP faults */
    { "CS: far jump past the limit", { 0xea, 0x10, 0x70, 0, 0, 0x58, 0x00 },
      7, EX_GP, 0x6000 },
    /* at 0x7000: call 0x7010 (past the limit): #GP(0) before the push
       (SDM vol. 2 CALL; qemu-i386 pushes first, see user-diff) */
    { "CS: near call past the limit", { 0xea, 0x00, 0x70, 0, 0, 0x58,
      0x00 }, 7, EX_GP, 0x7000, { 0xe8, 0x0b, 0, 0, 0 }, 5 },
};

static void limit_rig(Rig *r, const LimitCase *c)
{
    rig_init(r, RAM_SIZE);
    rig_pm32(r, 0x6000);
    gdt_set(r, 0x60, 0x20000, 0xfff, 0x92, 0x4);
    gdt_set(r, 0x68, 0x20000, 0xfff, 0x96, 0x0);
    gdt_set(r, 0x70, 0x20000, 0xfff, 0x90, 0x4);
    gdt_set(r, 0x58, 0, 0x7005, 0x9a, 0x4);
    static const uint8_t cs_code[] = { 0x90, 0x90, 0x90, 0xb8, 1, 2, 3, 4,
                                       0xf4 };
    load(r, 0x7000, c->cs_n ? c->cs : cs_code,
         c->cs_n ? c->cs_n : sizeof(cs_code));
    load(r, 0x6000, c->prog, c->n);
}

static void test_segment_limits(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(limit_cases); i++) {
        const LimitCase *c = &limit_cases[i];
        Rig r;
        limit_rig(&r, c);
        g_test_message("%s", c->what);
        run_halt(&r);
        X86Cpu *x = r.x;
        uint32_t vec = get32(&r, x->seg[S_SS].base + VEC);
        if (c->vec < 0) {
            g_assert_cmphex(vec, ==, 0xffffffffu);
            g_assert_cmphex(pc(&r), ==, 0x6000u + c->n);
        } else {
            g_assert_cmpint(vec, ==, c->vec);
            g_assert_cmphex(stk(&r, 0), ==, 0);       /* error code */
            g_assert_cmphex(stk(&r, 1), ==, c->eip);
            /* nothing pushed before the fault: the frame sits on STACK */
            g_assert_cmphex(x->regs[R_ESP] + 16, ==,
                            x->seg[S_SS].base ? 0xf00 : STACK);
        }
        rig_free(&r);
    }
}

/*
 * A fault leaves the instruction uncommitted: POP EAX whose read crosses
 * the SS limit keeps ESP and EAX; REP STOSB running past the ES limit
 * stops with the iterations done counted in ECX/EDI (SDM Vol. 2 REP: the
 * fault is taken with the registers of the failing iteration).
 *   SS 0x60, mov esp, 0xffe ; mov eax, 0x11223344 ; pop eax
 *   ES 0x60, mov edi, 0xffc ; mov ecx, 8 ; mov al, 0x5a ; cld ; rep stosb
 */
static void test_segment_fault_commit(void)
{
    static const LimitCase pop = { "pop", { SS(0x60), 0xbc, 0xfe, 0x0f, 0,
        0, 0xb8, 0x44, 0x33, 0x22, 0x11, 0x58, 0xf4 }, 18, EX_SS, 0x6010 };
    Rig r;
    limit_rig(&r, &pop);
    run_halt(&r);
    g_assert_cmpint(get32(&r, r.x->seg[S_SS].base + VEC), ==, EX_SS);
    g_assert_cmphex(stk(&r, 1), ==, 0x6010);
    g_assert_cmphex(r.x->regs[R_ESP] + 16, ==, 0xffe);
    g_assert_cmphex(r.x->regs[R_EAX], ==, 0x11223344);
    rig_free(&r);

    static const LimitCase stos = { "rep stosb", { ES(0x60), 0xbf, 0xfc,
        0x0f, 0, 0, 0xb9, 8, 0, 0, 0, 0xb0, 0x5a, 0xfc, 0xf3, 0xaa, 0xf4 },
        21, EX_GP, 0x6013 };
    limit_rig(&r, &stos);
    run_halt(&r);
    g_assert_cmpint(get32(&r, VEC), ==, EX_GP);
    g_assert_cmphex(stk(&r, 0), ==, 0);
    g_assert_cmphex(stk(&r, 1), ==, 0x6013);
    g_assert_cmphex(r.x->regs[R_ECX], ==, 4);
    g_assert_cmphex(r.x->regs[R_EDI], ==, 0x1000);
    g_assert_cmphex(get32(&r, 0x20ffc), ==, 0x5a5a5a5a);
    g_assert_cmphex(get32(&r, 0x21000), ==, 0);
    rig_free(&r);
}

#undef ES
#undef SS

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86/task/jmp-call-iret", test_task_jmp_call_iret);
    g_test_add_func("/x86/segment/limits", test_segment_limits);
    g_test_add_func("/x86/segment/fault-commit", test_segment_fault_commit);
    g_test_add_func("/x86/task/checks", test_task_checks);
    g_test_add_func("/x86/task/gate-exception", test_task_gate_exception);
    g_test_add_func("/x86/task/ldt-cr3", test_task_ldt_cr3);
    g_test_add_func("/x86/task/16bit", test_task_16bit);
    g_test_add_func("/x86/debug/single-step", test_debug_single_step);
    g_test_add_func("/x86/debug/single-step-rep",
                    test_debug_single_step_rep);
    g_test_add_func("/x86/debug/exec-breakpoint",
                    test_debug_exec_breakpoint);
    g_test_add_func("/x86/debug/data-breakpoint",
                    test_debug_data_breakpoint);
    g_test_add_func("/x86/debug/data-breakpoint-rep",
                    test_debug_data_breakpoint_rep);
    g_test_add_func("/x86/debug/icebp-gd", test_debug_icebp_gd);
    g_test_add_func("/x86/debug/io-breakpoint", test_debug_io_breakpoint);
    g_test_add_func("/x86/debug/task-trap", test_debug_task_trap);
    g_test_add_func("/x86/v86/iopl-sensitive", test_v86_iopl_sensitive);
    g_test_add_func("/x86/v86/io-bitmap", test_v86_io_bitmap);
    g_test_add_func("/x86/v86/int-iret", test_v86_int_iret);
    g_test_add_func("/x86/v86/vme", test_v86_vme);
    g_test_add_func("/x86/v86/vme-vip-iret", test_v86_vme_vip_iret);
    g_test_add_func("/x86/pvi", test_pvi);
    return g_test_run();
}
