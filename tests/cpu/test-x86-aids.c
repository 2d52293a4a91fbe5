/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x87 error path and the honesty of CPUID, through CpuOps on a real
 * MemMap.
 *
 * FERR#/IRQ13 (SDM Vol. 1 8.7 and Appendix D.2): with CR0.NE=1 a pending
 * unmasked x87 exception is #MF (vector 16, a fault on the next waiting
 * x87/MMX instruction or WAIT); with CR0.NE=0 that instruction asserts
 * FERR# and the CPU waits for an interrupt, unless IGNNE# is asserted.
 * The rig plays the PC's logic (src/hw/isa/fpuerr.c): FERR# raises IRQ13
 * (vector 0x75), a write to port 0xF0 asserts IGNNE# until FERR# drops.
 *
 * CPUID: every feature bit leaf 1 claims has a test here that uses it
 * (a representative instruction does not #UD, its CR4 bit can be set);
 * unclaimed features (SSE, SSE2, MCE) fault.  A new claim without a
 * test fails /cpu/x86/cpuid/claims-tested.
 *
 * Programs are assembled with nasm; the source is next to the bytes.
 */
#include <string.h>

#include <glib.h>

#include "arch/cpu.h"
#include "bus/clock.h"
#include "bus/ioport.h"
#include "bus/memory.h"
#include "arch/x86/x86.h"

#define RAM_SIZE (16u << 20)

typedef struct Rig {
    MemMap *mem;
    uint8_t *ram;
    IoSpace *io;
    Clock *clk;
    Cpu *cpu;
    X86Cpu *x;
    /* The board's FERR# logic. */
    bool ferr, irq13, ignne;
    int ferr_rises, ferr_falls;
} Rig;

static Rig *cur_rig;

static int rig_intr_ack(void *opaque)
{
    Rig *r = opaque;
    if (!r->irq13) {
        return -1;
    }
    /* Edge-triggered PIC: the request is taken by the acknowledge. */
    r->irq13 = false;
    r->cpu->ops->set_line(r->cpu, CPU_X86_INTR, false);
    return 0x75;
}

static void rig_ferr(void *opaque, unsigned line, bool level)
{
    Rig *r = opaque;
    g_assert(level != r->ferr); /* the CPU reports changes only */
    r->ferr = level;
    if (level) {
        r->ferr_rises++;
        r->irq13 = true;
        r->cpu->ops->set_line(r->cpu, CPU_X86_INTR, true);
    } else {
        r->ferr_falls++;
        r->ignne = false;
        r->cpu->ops->set_line(r->cpu, CPU_X86_IGNNE, false);
    }
}

static uint32_t port_f0_read(void *opaque, uint16_t off, unsigned size)
{
    return 0xff;
}

static void port_f0_write(void *opaque, uint16_t off, uint32_t v,
                          unsigned size)
{
    Rig *r = opaque;
    if (r->ferr) {
        r->ignne = true;
        r->cpu->ops->set_line(r->cpu, CPU_X86_IGNNE, true);
    }
}

static uint32_t pic_read(void *opaque, uint16_t off, unsigned size)
{
    return 0;
}

static void pic_write(void *opaque, uint16_t off, uint32_t v, unsigned size)
{
}

static const IoRegion rig_io[] = {
    { .base = 0xf0, .len = 1, .min = 1, .max = 1, .read = port_f0_read,
      .write = port_f0_write, .name = "f0" },
    { .base = 0x20, .len = 2, .min = 1, .max = 1, .read = pic_read,
      .write = pic_write, .name = "pic1" },
    { .base = 0xa0, .len = 2, .min = 1, .max = 1, .read = pic_read,
      .write = pic_write, .name = "pic2" },
    { 0 },
};

static void rig_init(Rig *r)
{
    memset(r, 0, sizeof(*r));
    cur_rig = r;
    r->mem = memmap_new();
    r->ram = g_malloc0(RAM_SIZE);
    memmap_add_ram(r->mem, "ram", 0, RAM_SIZE, r->ram, 0);
    r->io = ioport_new();
    for (const IoRegion *io = rig_io; io->len; io++) {
        ioport_register(r->io, io, r);
    }
    r->clk = clock_new(CLOCK_MODE_ICOUNT, 0);
    CpuWiring bus = { .mem = r->mem, .io = r->io, .clock = r->clk,
                   .intr_ack = rig_intr_ack, .intr_opaque = r,
                   .output = rig_ferr, .output_opaque = r };
    GError *err = NULL;
    r->cpu = cpu_find("pentium2")->create(&bus, &err);
    g_assert_no_error(err);
    r->x = (X86Cpu *)r->cpu;
    /* Real mode at 0000:1000, stack at 0000:8000. */
    X86Cpu *x = r->x;
    x->seg[S_CS].sel = 0;
    x->seg[S_CS].base = 0;
    x->rip = 0x1000;
    x->regs[R_ESP] = 0x8000;
}

static void rig_free(Rig *r)
{
    r->cpu->ops->destroy(r->cpu);
    ioport_free(r->io);
    memmap_free(r->mem);
    clock_free(r->clk);
    g_free(r->ram);
}

static CpuExit rig_run(Rig *r, int64_t budget)
{
    CpuExit why = CPU_EXIT_BUDGET;
    r->cpu->ops->run(r->cpu, budget, &why);
    return why;
}

static void set_ivt(Rig *r, int vec, uint16_t ip)
{
    uint8_t e[4] = { ip & 0xff, ip >> 8, 0, 0 };
    memmap_write(r->mem, vec * 4, e, 4);
}

/* ---- FERR# / IRQ13 / #MF ---- */

/*
 *     org 0x1000
 *     fninit
 *     fldcw [cw]          ; all masked but ZE
 *     fld1
 *     fldz
 *     fdivp st1, st0      ; 1/0: ZE pending, no trap yet
 *     mov ax, 1
 * wait_insn:              ; 0x100f
 *     fld1                ; waiting: #MF, FERR#, or (IGNNE#) runs
 *     mov ax, 2
 *     hlt
 * cw: dw 0x037b
 *     times 0x100-($-$$) db 0
 * handler:                ; 0x1100: #MF or IRQ13
 *     mov bp, sp
 *     mov si, [bp]        ; the pushed IP
 *     inc bx
 *     mov al, 0
 *     out 0xf0, al        ; IRQ13 off, IGNNE# on
 *     mov al, 0x20
 *     out 0xa0, al
 *     out 0x20, al
 *     test cx, cx
 *     jz .keep
 *     fnclex              ; FERR# (and IGNNE#) off
 * .keep:
 *     iret
 */
static const uint8_t ferr_main[] = {
    0xdb, 0xe3, 0xd9, 0x2e, 0x15, 0x10, 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9,
    0xb8, 0x01, 0x00, 0xd9, 0xe8, 0xb8, 0x02, 0x00, 0xf4, 0x7b, 0x03 };
static const uint8_t ferr_handler[] = {
    0x89, 0xe5, 0x8b, 0x76, 0x00, 0x43, 0xb0, 0x00, 0xe6, 0xf0, 0xb0, 0x20,
    0xe6, 0xa0, 0xe6, 0x20, 0x85, 0xc9, 0x74, 0x02, 0xdb, 0xe2, 0xcf };
#define WAIT_INSN 0x100f

/* The waiting instruction at WAIT_INSN: fld1, fwait; nop, or emms. */
static const uint8_t wait_fld1[] = { 0xd9, 0xe8 };
static const uint8_t wait_fwait[] = { 0x9b, 0x90 };
static const uint8_t wait_emms[] = { 0x0f, 0x77 };

static void ferr_setup(Rig *r, const uint8_t *wait, bool ne, bool clear)
{
    rig_init(r);
    memmap_write(r->mem, 0x1000, ferr_main, sizeof(ferr_main));
    memmap_write(r->mem, WAIT_INSN, wait, 2);
    memmap_write(r->mem, 0x1100, ferr_handler, sizeof(ferr_handler));
    set_ivt(r, EX_MF, 0x1100);
    set_ivt(r, 0x75, 0x1100);
    if (ne) {
        r->x->cr0 |= CR0_NE;
    }
    r->x->eflags |= F_IF;
    r->x->regs[R_ECX] = clear;
}

static void test_mf_native(void)
{
    const uint8_t *waits[] = { wait_fld1, wait_fwait, wait_emms };
    for (size_t i = 0; i < G_N_ELEMENTS(waits); i++) {
        Rig r;
        ferr_setup(&r, waits[i], true, true);
        g_assert_cmpint(rig_run(&r, 1000), ==, CPU_EXIT_HALTED);
        g_assert_cmphex(r.x->regs[R_EBX] & 0xffff, ==, 1);  /* one #MF */
        g_assert_cmphex(r.x->regs[R_ESI] & 0xffff, ==, WAIT_INSN); /* fault */
        g_assert_cmphex(r.x->regs[R_EAX] & 0xffff, ==, 2);
        g_assert_cmpint(r.ferr_rises, ==, 0); /* NE=1: FERR# stays off */
        rig_free(&r);
    }
}

static void test_ferr_irq13(void)
{
    const uint8_t *waits[] = { wait_fld1, wait_fwait, wait_emms };
    for (size_t i = 0; i < G_N_ELEMENTS(waits); i++) {
        Rig r;
        ferr_setup(&r, waits[i], false, true);
        g_assert_cmpint(rig_run(&r, 1000), ==, CPU_EXIT_HALTED);
        /* IRQ13 taken at the waiting instruction, its IP pushed. */
        g_assert_cmphex(r.x->regs[R_EBX] & 0xffff, ==, 1);
        g_assert_cmphex(r.x->regs[R_ESI] & 0xffff, ==, WAIT_INSN);
        g_assert_cmphex(r.x->regs[R_EAX] & 0xffff, ==, 2);
        g_assert_cmpint(r.ferr_rises, ==, 1);
        /* FNCLEX deasserted FERR#, which dropped IGNNE#. */
        g_assert_cmpint(r.ferr_falls, ==, 1);
        g_assert_false(r.ferr);
        g_assert_false(r.x->ignne);
        g_assert_cmphex(r.x->fpu.fsw & X87_SW_ES, ==, 0);
        rig_free(&r);
    }
}

/* The handler only writes port 0xF0: IGNNE# lets the instruction run with
   the exception still pending and FERR# still asserted. */
static void test_ferr_ignne(void)
{
    Rig r;
    ferr_setup(&r, wait_fld1, false, false);
    g_assert_cmpint(rig_run(&r, 1000), ==, CPU_EXIT_HALTED);
    g_assert_cmphex(r.x->regs[R_EBX] & 0xffff, ==, 1);
    g_assert_cmphex(r.x->regs[R_EAX] & 0xffff, ==, 2);
    g_assert_cmpint(r.ferr_rises, ==, 1);
    g_assert_cmpint(r.ferr_falls, ==, 0);
    g_assert_true(r.ferr);
    g_assert_true(r.x->ignne);
    g_assert_cmphex(r.x->fpu.fsw & X87_SW_ES, !=, 0);
    rig_free(&r);
}

/* IF=0: nothing can take IRQ13, the CPU stays stopped before the waiting
   instruction (as a P6 in MS-DOS compatibility mode). */
static void test_ferr_frozen(void)
{
    Rig r;
    ferr_setup(&r, wait_fld1, false, true);
    r.x->eflags &= ~F_IF;
    CpuExit why;
    /* Six instructions ran; the waiting FLD1 did not (nor in icount). */
    g_assert_cmpint(r.cpu->ops->run(r.cpu, 1000, &why), ==, 6);
    g_assert_cmpint(why, ==, CPU_EXIT_HALTED);
    g_assert_cmphex(r.x->rip, ==, WAIT_INSN);
    g_assert_cmphex(r.x->regs[R_EAX] & 0xffff, ==, 1);
    g_assert_cmphex(r.x->regs[R_EBX] & 0xffff, ==, 0);
    g_assert_true(r.ferr);
    g_assert_cmpint(rig_run(&r, 1000), ==, CPU_EXIT_HALTED);
    g_assert_cmphex(r.x->rip, ==, WAIT_INSN);
    g_assert_cmpint(r.ferr_rises, ==, 1);
    /* A reset drops FERR# (the board resets its side). */
    r.cpu->ops->reset(r.cpu);
    g_assert_false(r.x->ferr);
    rig_free(&r);
}

/* Single-stepping into the stop: one #DB per instruction that ran, none
   for the waiting FLD1 the CPU stopped before. */
static void test_ferr_single_step(void)
{
    Rig r;
    ferr_setup(&r, wait_fld1, false, true);
    static const uint8_t db_handler[] = { 0x42, 0xcf }; /* inc dx; iret */
    memmap_write(r.mem, 0x1200, db_handler, sizeof(db_handler));
    set_ivt(&r, EX_DB, 0x1200);
    r.x->eflags = (r.x->eflags & ~F_IF) | F_TF;
    r.x->regs[R_EDX] = 0;
    g_assert_cmpint(rig_run(&r, 1000), ==, CPU_EXIT_HALTED);
    g_assert_cmphex(r.x->rip, ==, WAIT_INSN);
    g_assert_cmphex(r.x->regs[R_EDX] & 0xffff, ==, 6);
    g_assert_true(r.ferr);
    rig_free(&r);
}

/* The FERR# and IGNNE# pins are saved with the CPU. */
static void test_ferr_state(void)
{
    Rig r;
    ferr_setup(&r, wait_fld1, false, false);
    g_assert_cmpint(rig_run(&r, 1000), ==, CPU_EXIT_HALTED);
    g_assert_true(r.x->ferr && r.x->ignne);
    const StateDesc *sd = r.cpu->ops->state;
    GByteArray *buf = g_byte_array_new();
    state_save(sd, r.cpu, buf);
    r.cpu->ops->reset(r.cpu);
    g_assert_false(r.x->ferr || r.x->ignne);
    size_t used;
    GError *err = NULL;
    g_assert_true(state_load(sd, r.cpu, sd->version, buf->data, buf->len,
                             &used, &err));
    g_assert_no_error(err);
    g_assert_true(r.x->ferr && r.x->ignne);
    /* A version 2 file (32-bit fields, the pins) and a version 1 file
       (no pins) loaded into a fresh CPU: the same registers, the pins
       as the file says. */
    for (int v = 2; v >= 1; v--) {
        GByteArray *old = g_byte_array_new();
        state_save_version(sd, r.cpu, v, old);
        g_assert_cmpuint(old->len, ==, state_size(sd, v));
        Rig r2;
        rig_init(&r2);
        g_assert_true(state_load(sd, r2.cpu, v, old->data, old->len, &used,
                                 &err));
        g_assert_no_error(err);
        g_assert_cmpuint(used, ==, old->len);
        g_assert_true(r2.x->ferr == (v >= 2) && r2.x->ignne == (v >= 2));
        g_assert_cmphex(r2.x->rip, ==, r.x->rip);
        for (int i = 0; i < X86_NREGS; i++) {
            g_assert_cmphex(r2.x->regs[i], ==, r.x->regs[i]);
        }
        for (int i = 0; i < 6; i++) {
            g_assert_cmphex(r2.x->seg[i].base, ==, r.x->seg[i].base);
        }
        g_assert_cmphex(r2.x->cr0, ==, r.x->cr0);
        rig_free(&r2);
        /* The same file loaded after a save of the current version into
           the CPU that saved it: what that save left in the 64-bit
           fields must not leak into the older load. */
        uint64_t eax = r.x->regs[R_EAX];
        r.x->regs[R_EAX] = eax ^ 0x1234;
        GByteArray *cur = g_byte_array_new();
        state_save(sd, r.cpu, cur);
        g_assert_true(state_load(sd, r.cpu, v, old->data, old->len, &used,
                                 &err));
        g_assert_no_error(err);
        g_assert_cmphex(r.x->regs[R_EAX], ==, eax);
        g_byte_array_free(cur, TRUE);
        g_byte_array_free(old, TRUE);
    }
    /* A 64-bit value in a register: refused while there is no 64-bit
       mode (the 32-bit paths assume zero upper halves). */
    r.x->regs[3] = 0x100000000ull;
    GByteArray *wide = g_byte_array_new();
    state_save(sd, r.cpu, wide);
    g_assert_false(state_load(sd, r.cpu, sd->version, wide->data, wide->len,
                              &used, &err));
    g_assert_error(err, STATE_ERROR, STATE_ERROR_INVALID);
    g_clear_error(&err);
    g_byte_array_free(wide, TRUE);
    g_byte_array_free(buf, TRUE);
    rig_free(&r);
}

/* Regression: EMMS (0F 77) has no ModRM byte; it was decoded with one,
   eating the next instruction's first byte (found by the ferr tests). */
static void test_emms_length(void)
{
    static const uint8_t code[] = { 0x0f, 0x77, 0xb8, 0x02, 0x00, 0x90 };
    for (int code32 = 0; code32 < 2; code32++) {
        bool valid = false;
        g_assert_cmpint(x86_decode_buf(code, sizeof(code), code32, &valid),
                        ==, 2);
        g_assert_true(valid);
    }
}

/* ---- CPUID claims ---- */

/* fninit; fld1; fldpi; fsin; fstp st0; fstp st0 */
static const uint8_t p_fpu[] = {
    0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xeb, 0xd9, 0xfe, 0xdd, 0xd8, 0xdd, 0xd8 };
/* mov eax, cr4; or eax, 1; mov cr4, eax; mov ebx, cr4 */
static const uint8_t p_vme[] = {
    0x0f, 0x20, 0xe0, 0x66, 0x83, 0xc8, 0x01, 0x0f, 0x22, 0xe0, 0x0f, 0x20,
    0xe3 };
/* mov eax, 0xffff0ff0; mov dr6, eax; mov ebx, dr4 */
static const uint8_t p_de_off[] = {
    0x66, 0xb8, 0xf0, 0x0f, 0xff, 0xff, 0x0f, 0x23, 0xf0, 0x0f, 0x21, 0xe3 };
/* mov eax, cr4; or eax, 8; mov cr4, eax; mov ebx, cr4; mov ecx, dr4 */
static const uint8_t p_de_on[] = {
    0x0f, 0x20, 0xe0, 0x66, 0x83, 0xc8, 0x08, 0x0f, 0x22, 0xe0, 0x0f, 0x20,
    0xe3, 0x0f, 0x21, 0xe1 };
/* rdtsc; mov ebx, eax; mov ecx, edx; rdtsc */
static const uint8_t p_tsc[] = {
    0x0f, 0x31, 0x66, 0x89, 0xc3, 0x66, 0x89, 0xd1, 0x0f, 0x31 };
/*
 * mov ecx, 0x10; rdmsr; mov ecx, 0x174; mov eax, 0x1234; xor edx, edx;
 * wrmsr; xor eax, eax; rdmsr; mov ebx, eax;
 */
static const uint8_t p_msr[] = {
    0x66, 0xb9, 0x10, 0x00, 0x00, 0x00, 0x0f, 0x32, 0x66, 0xb9, 0x74, 0x01,
    0x00, 0x00, 0x66, 0xb8, 0x34, 0x12, 0x00, 0x00, 0x66, 0x31, 0xd2, 0x0f,
    0x30, 0x66, 0x31, 0xc0, 0x0f, 0x32, 0x66, 0x89, 0xc3 };
/*
 * mov eax, esi; mov cr3, eax; mov eax, cr4; or eax, edi; mov cr4, eax;
 * mov eax, cr0; or eax, 0x80000001; mov cr0, eax; mov di, 0xffff;
 */
static const uint8_t p_paging[] = {
    0x66, 0x89, 0xf0, 0x0f, 0x22, 0xd8, 0x0f, 0x20, 0xe0, 0x66, 0x09, 0xf8,
    0x0f, 0x22, 0xe0, 0x0f, 0x20, 0xc0, 0x66, 0x0d, 0x01, 0x00, 0x00, 0x80,
    0x0f, 0x22, 0xc0, 0xbf, 0xff, 0xff };
/*
 * mov si, 0x2000; mov eax, [si]; mov edx, [si+4]; mov ebx, 0x11111111;
 * mov ecx, 0x22222222; cmpxchg8b [si];
 */
static const uint8_t p_cx8[] = {
    0xbe, 0x00, 0x20, 0x66, 0x8b, 0x04, 0x66, 0x8b, 0x54, 0x04, 0x66, 0xbb,
    0x11, 0x11, 0x11, 0x11, 0x66, 0xb9, 0x22, 0x22, 0x22, 0x22, 0x0f, 0xc7,
    0x0c };
/* mov ecx, 0x174; mov eax, 8; xor edx, edx; wrmsr; sysenter */
static const uint8_t p_sep[] = {
    0x66, 0xb9, 0x74, 0x01, 0x00, 0x00, 0x66, 0xb8, 0x08, 0x00, 0x00, 0x00,
    0x66, 0x31, 0xd2, 0x0f, 0x30, 0x0f, 0x34 };
/*
 * mov ecx, 0xfe; rdmsr; mov ebx, eax; mov ecx, 0x2ff; rdmsr;
 * mov ecx, 0x200; rdmsr;
 */
static const uint8_t p_mtrr[] = {
    0x66, 0xb9, 0xfe, 0x00, 0x00, 0x00, 0x0f, 0x32, 0x66, 0x89, 0xc3, 0x66,
    0xb9, 0xff, 0x02, 0x00, 0x00, 0x0f, 0x32, 0x66, 0xb9, 0x00, 0x02, 0x00,
    0x00, 0x0f, 0x32 };
/* mov eax, cr4; or eax, 0x80; mov cr4, eax; mov ebx, cr4 */
static const uint8_t p_pge[] = {
    0x0f, 0x20, 0xe0, 0x66, 0x0d, 0x80, 0x00, 0x00, 0x00, 0x0f, 0x22, 0xe0,
    0x0f, 0x20, 0xe3 };
/*
 * xor eax, eax; mov ecx, 7; cmovz eax, ecx; fninit; fld1; fldz;
 * fcomi st0, st1; fcmovb st0, st1; fistp word [0x2000]; fstp st0;
 */
static const uint8_t p_cmov[] = {
    0x66, 0x31, 0xc0, 0x66, 0xb9, 0x07, 0x00, 0x00, 0x00, 0x66, 0x0f, 0x44,
    0xc1, 0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xee, 0xdb, 0xf1, 0xda, 0xc1, 0xdf,
    0x1e, 0x00, 0x20, 0xdd, 0xd8 };
/*
 * mov dword [0x2000], 0x01020304; movd mm0, [0x2000]; paddb mm0, mm0;
 * movd ebx, mm0; emms;
 */
static const uint8_t p_mmx[] = {
    0x66, 0xc7, 0x06, 0x00, 0x20, 0x04, 0x03, 0x02, 0x01, 0x0f, 0x6e, 0x06,
    0x00, 0x20, 0x0f, 0xfc, 0xc0, 0x0f, 0x7e, 0xc3, 0x0f, 0x77 };
/*
 * fninit; fldcw [0x2800]; fldpi; mov eax, cr4; or eax, 0x200 (OSFXSR);
 * mov cr4, eax; mov ebx, cr4; fxsave [0x2000]; fninit; fxrstor [0x2000];
 * fnstcw [0x2802]; fstp qword [0x2808]; mov si, 0x2001; fxsave [si]
 */
static const uint8_t p_fxsr[] = {
    0xdb, 0xe3, 0xd9, 0x2e, 0x00, 0x28, 0xd9, 0xeb, 0x0f, 0x20, 0xe0, 0x66,
    0x0d, 0x00, 0x02, 0x00, 0x00, 0x0f, 0x22, 0xe0, 0x0f, 0x20, 0xe3, 0x0f,
    0xae, 0x06, 0x00, 0x20, 0xdb, 0xe3, 0x0f, 0xae, 0x0e, 0x00, 0x20, 0xd9,
    0x3e, 0x02, 0x28, 0xdd, 0x1e, 0x08, 0x28, 0xbe, 0x01, 0x20, 0x0f, 0xae,
    0x04 };
/* ldmxcsr [0x2000] */
static const uint8_t p_ldmxcsr[] = { 0x0f, 0xae, 0x16, 0x00, 0x20 };
/* mov eax, cr4; or eax, 0x400 (OSXMMEXCPT); mov cr4, eax */
static const uint8_t p_cr4_osxmm[] = {
    0x0f, 0x20, 0xe0, 0x66, 0x0d, 0x00, 0x04, 0x00, 0x00, 0x0f, 0x22, 0xe0 };
/* movaps xmm0, xmm1 */
static const uint8_t p_sse[] = { 0x0f, 0x28, 0xc1 };
/* pxor xmm0, xmm0 */
static const uint8_t p_sse2[] = { 0x66, 0x0f, 0xef, 0xc0 };
/* mov eax, cr4; or eax, 0x40; mov cr4, eax */
static const uint8_t p_cr4_mce[] = {
    0x0f, 0x20, 0xe0, 0x66, 0x83, 0xc8, 0x40, 0x0f, 0x22, 0xe0 };
/* mov eax, 1; cpuid */
static const uint8_t p_cpuid1[] = {
    0x66, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2 };

/* Run p (real mode, CPL 0) followed by hlt; vectors 0-31 go to stubs
   "mov di, vec; hlt".  Returns the vector taken, or -1. */
static int run_snippet(Rig *r, const uint8_t *p, size_t len)
{
    memmap_write(r->mem, 0x1000, p, len);
    uint8_t hlt = 0xf4;
    memmap_write(r->mem, 0x1000 + len, &hlt, 1);
    for (int v = 0; v < 32; v++) {
        uint8_t stub[4] = { 0xbf, v, 0, 0xf4 };
        memmap_write(r->mem, 0x3000 + v * 4, stub, 4);
        set_ivt(r, v, 0x3000 + v * 4);
    }
    r->x->regs[R_EDI] = 0xffff;
    g_assert_cmpint(rig_run(r, 1000), ==, CPU_EXIT_HALTED);
    uint16_t di = r->x->regs[R_EDI];
    return di == 0xffff ? -1 : di;
}

#define RUN(r, name) run_snippet((r), p_##name, sizeof(p_##name))

static uint32_t cpuid_edx(void)
{
    Rig r;
    rig_init(&r);
    g_assert_cmpint(RUN(&r, cpuid1), ==, -1);
    uint32_t d = r.x->regs[R_EDX];
    g_assert_cmphex(r.x->regs[R_ECX], ==, 0); /* no SSE3 and later */
    rig_free(&r);
    return d;
}

static void check_fpu(Rig *r)
{
    g_assert_cmpint(RUN(r, fpu), ==, -1);
    g_assert_cmphex(r->x->fpu.fsw & 0x3800, ==, 0); /* TOP back to 0 */
}

static void check_vme(Rig *r)
{
    g_assert_cmpint(RUN(r, vme), ==, -1);
    g_assert_cmphex(r->x->regs[R_EBX] & CR4_VME, ==, CR4_VME);
}

/* DE: with CR4.DE, DR4/DR5 are reserved (#UD); without, DR4 is DR6. */
static void check_de(Rig *r)
{
    g_assert_cmpint(RUN(r, de_off), ==, -1);
    g_assert_cmphex(r->x->regs[R_EBX], ==, r->x->dr[6]);
    r->x->halted = false;
    r->x->rip = 0x1000;
    g_assert_cmpint(RUN(r, de_on), ==, EX_UD);
    g_assert_cmphex(r->x->regs[R_EBX] & CR4_DE, ==, CR4_DE);
}

static void check_tsc(Rig *r)
{
    g_assert_cmpint(RUN(r, tsc), ==, -1);
    uint64_t t0 = (uint64_t)r->x->regs[R_ECX] << 32 | r->x->regs[R_EBX];
    uint64_t t1 = (uint64_t)r->x->regs[R_EDX] << 32 | r->x->regs[R_EAX];
    g_assert_cmpuint(t1, >=, t0);
}

static void check_msr(Rig *r)
{
    g_assert_cmpint(RUN(r, msr), ==, -1);
    g_assert_cmphex(r->x->regs[R_EBX], ==, 0x1234);
}

/* Turn paging on with the PDE/PDPT at ESI and CR4 bits in EDI, then look
   linear 0x400123 up as the monitor does. */
static uint64_t paging_lookup(Rig *r, uint32_t cr3, uint32_t cr4)
{
    r->x->regs[R_ESI] = cr3;
    r->x->regs[R_EDI] = cr4;
    memmap_write(r->mem, 0x1000, p_paging, sizeof(p_paging));
    uint8_t hlt = 0xf4;
    memmap_write(r->mem, 0x1000 + sizeof(p_paging), &hlt, 1);
    g_assert_cmpint(rig_run(r, 1000), ==, CPU_EXIT_HALTED);
    g_assert_cmphex(r->x->cr4 & cr4, ==, cr4);
    uint64_t pa = ~0ull;
    g_assert_true(r->cpu->ops->virt_to_phys(r->cpu, 0x400123, &pa));
    return pa;
}

/* PSE: 4 MiB pages (PDE PS=1): 0-4M identity, 4M-8M -> 8M. */
static void check_pse(Rig *r)
{
    uint32_t pd[2] = { 0x00000083, 0x00800083 };
    memmap_write(r->mem, 0x10000, pd, sizeof(pd));
    g_assert_cmphex(paging_lookup(r, 0x10000, CR4_PSE), ==, 0x800123);
}

/* PAE: PDPT -> PD of 2 MiB pages (PS=1) -> 64-bit entries. */
static void check_pae(Rig *r)
{
    uint64_t pdpt[4] = { 0x11001 };
    uint64_t pd[3] = { 0x00000083, 0x00200083, 0x00a00083 };
    memmap_write(r->mem, 0x10000, pdpt, sizeof(pdpt));
    memmap_write(r->mem, 0x11000, pd, sizeof(pd));
    g_assert_cmphex(paging_lookup(r, 0x10000, CR4_PAE), ==, 0xa00123);
}

static void check_cx8(Rig *r)
{
    uint32_t v[2] = { 0xaaaaaaaa, 0xbbbbbbbb };
    memmap_write(r->mem, 0x2000, v, sizeof(v));
    g_assert_cmpint(RUN(r, cx8), ==, -1);
    memmap_read(r->mem, 0x2000, v, sizeof(v));
    g_assert_cmphex(v[0], ==, 0x11111111);
    g_assert_cmphex(v[1], ==, 0x22222222);
}

/* SEP: SYSENTER exists; in real mode it is #GP(0), not #UD. */
static void check_sep(Rig *r)
{
    g_assert_cmpint(RUN(r, sep), ==, EX_GP);
    g_assert_cmphex(r->x->sysenter_cs, ==, 8);
}

static void check_mtrr(Rig *r)
{
    g_assert_cmpint(RUN(r, mtrr), ==, -1);
    g_assert_cmphex(r->x->regs[R_EBX] & 0xff, !=, 0); /* variable MTRRs */
}

static void check_pge(Rig *r)
{
    g_assert_cmpint(RUN(r, pge), ==, -1);
    g_assert_cmphex(r->x->regs[R_EBX] & CR4_PGE, ==, CR4_PGE);
}

/* CMOV, and with FPU also FCMOVcc and FCOMI. */
static void check_cmov(Rig *r)
{
    g_assert_cmpint(RUN(r, cmov), ==, -1);
    g_assert_cmphex(r->x->regs[R_EAX], ==, 7);
    uint16_t w = 0;
    memmap_read(r->mem, 0x2000, &w, 2);
    g_assert_cmphex(w, ==, 1); /* 0 < 1: CF, so FCMOVB took st1 = 1 */
}

/* FXSR: FXSAVE/FXRSTOR round trip (FCW, the abridged tag word, ST0),
   CR4.OSFXSR can be set, a misaligned operand is #GP(0). */
static void check_fxsr(Rig *r)
{
    uint16_t cw = 0x0f7f; /* round toward zero, extended precision */
    memmap_write(r->mem, 0x2800, &cw, 2);
    g_assert_cmpint(RUN(r, fxsr), ==, EX_GP);
    g_assert_cmphex(r->x->rip, ==, 0x3000 + EX_GP * 4 + 4); /* the stub */
    g_assert_cmphex(r->x->regs[R_EBX] & CR4_OSFXSR, ==, CR4_OSFXSR);
    uint8_t img[8];
    memmap_read(r->mem, 0x2000, img, sizeof(img));
    g_assert_cmphex(img[0] | img[1] << 8, ==, 0x0f7f); /* FCW */
    g_assert_cmphex(img[4], ==, 0x80);                 /* ST0 = R7 valid */
    uint16_t got = 0;
    memmap_read(r->mem, 0x2802, &got, 2);
    g_assert_cmphex(got, ==, 0x0f7f); /* restored by FXRSTOR */
    double pi = 0;
    memmap_read(r->mem, 0x2808, &pi, sizeof(pi));
    g_assert_cmpfloat(pi, >, 3.14159);
    g_assert_cmpfloat(pi, <, 3.1416);
}

static void check_mmx(Rig *r)
{
    g_assert_cmpint(RUN(r, mmx), ==, -1);
    g_assert_cmphex(r->x->regs[R_EBX], ==, 0x02040608);
}

static const struct {
    int bit;
    const char *name;
    void (*check)(Rig *r);
} claims[] = {
    { 0, "fpu", check_fpu }, { 1, "vme", check_vme }, { 2, "de", check_de },
    { 3, "pse", check_pse }, { 4, "tsc", check_tsc }, { 5, "msr", check_msr },
    { 6, "pae", check_pae }, { 8, "cx8", check_cx8 }, { 11, "sep", check_sep },
    { 12, "mtrr", check_mtrr }, { 13, "pge", check_pge },
    { 15, "cmov", check_cmov }, { 23, "mmx", check_mmx },
    { 24, "fxsr", check_fxsr },
};

/* Every bit CPUID.1:EDX claims has a check here. */
static void test_claims_tested(void)
{
    uint32_t d = cpuid_edx();
    uint32_t tested = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(claims); i++) {
        tested |= 1u << claims[i].bit;
    }
    g_assert_cmphex(d & ~tested, ==, 0);
    g_assert_cmphex(d, !=, 0);
}

static void test_claim(gconstpointer data)
{
    size_t i = GPOINTER_TO_SIZE(data);
    if (!(cpuid_edx() & (1u << claims[i].bit))) {
        g_test_skip("not claimed");
        return;
    }
    Rig r;
    rig_init(&r);
    claims[i].check(&r);
    rig_free(&r);
}

/* What is not claimed is not there: SSE and SSE2 instructions (LDMXCSR,
   the rest of 0F AE beside FXSAVE/FXRSTOR) are #UD, the CR4 bits of MCE
   and OSXMMEXCPT are reserved (#GP). */
static void test_unclaimed(void)
{
    uint32_t d = cpuid_edx();
    static const struct {
        int bit;
        const uint8_t *p;
        size_t len;
        int vec;
    } absent[] = {
        { 25, p_sse, sizeof(p_sse), EX_UD },
        { 25, p_ldmxcsr, sizeof(p_ldmxcsr), EX_UD },
        { 26, p_sse2, sizeof(p_sse2), EX_UD },
        { 7, p_cr4_mce, sizeof(p_cr4_mce), EX_GP },
        { 25, p_cr4_osxmm, sizeof(p_cr4_osxmm), EX_GP },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(absent); i++) {
        g_assert_cmphex(d & (1u << absent[i].bit), ==, 0);
        Rig r;
        rig_init(&r);
        g_assert_cmpint(run_snippet(&r, absent[i].p, absent[i].len), ==,
                        absent[i].vec);
        rig_free(&r);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu/x86/ferr/mf-native", test_mf_native);
    g_test_add_func("/cpu/x86/ferr/irq13", test_ferr_irq13);
    g_test_add_func("/cpu/x86/ferr/ignne", test_ferr_ignne);
    g_test_add_func("/cpu/x86/ferr/frozen", test_ferr_frozen);
    g_test_add_func("/cpu/x86/ferr/single-step", test_ferr_single_step);
    g_test_add_func("/cpu/x86/ferr/state", test_ferr_state);
    g_test_add_func("/cpu/x86/decoder/emms-length", test_emms_length);
    g_test_add_func("/cpu/x86/cpuid/claims-tested", test_claims_tested);
    for (size_t i = 0; i < G_N_ELEMENTS(claims); i++) {
        g_autofree char *path =
            g_strdup_printf("/cpu/x86/cpuid/%s", claims[i].name);
        g_test_add_data_func(path, GSIZE_TO_POINTER(i), test_claim);
    }
    g_test_add_func("/cpu/x86/cpuid/unclaimed", test_unclaimed);
    return g_test_run();
}
