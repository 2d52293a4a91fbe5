/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 core under Linux user mode (src/user/arch_i386.c): a CPU in
 * flat 32-bit protected mode at CPL 3 with identity paging, whose
 * physical (= linear) address space is the user layer's reservation at
 * guest_base.
 *
 * The CPU runs as the system-mode core it is.  A private 64 KiB area
 * above the guest's window (X86U_HIDDEN, host memory of its own, in a
 * supervisor-only 4 MiB page: paging identity-maps the guest window with
 * user 4 MiB pages and nothing else) holds a page directory, a GDT laid
 * out as Linux's (TLS entries 6..8, user CS 0x73 and DS
 * 0x7b), an IDT whose every gate leads to a ring-0 stub "hlt; [add esp,
 * 4;] iret", a TSS and the ring-0 stack.  INT 0x80 (a DPL 3 gate, as are
 * INT3 and INTO) and every exception therefore enter ring 0 through the
 * core's own delivery and halt in the stub of their vector: run() returns,
 * x86_user_run() notes the vector and error code, lets the stub's IRET
 * return to ring 3 and hands the event to the user layer with the guest's
 * registers live in the CPU, the faulting (or next) instruction in rip.
 * INT 0x80 at CPL 3 without TF takes a shortcut: x86_h_int_imm sets
 * user_int80 and run() returns after it (the same state, no IDT trip).
 *
 * A guest access to a page the host has not mapped (or protected) faults
 * on the host; the user layer's fault handler calls x86_user_host_fault(),
 * which raises #PF with CR2 = the address.  Each CPU has its own memory
 * map, so the map's code-page marking keeps self-modifying code right for
 * the thread that writes its own code.  For code another thread wrote,
 * every CPU is in a registry: x86_user_code_written_all() posts the pages
 * to each CPU and asks it to stop at its next block boundary, where
 * x86_user_run() drops their blocks before the CPU runs another (the
 * user layer calls it when a write hits a page some CPU translated code
 * from: code_page reports those pages, which it write-protects).
 */
#include <errno.h>
#include <string.h>

#include "arch/x86/le.h"
#include "arch/x86/x86.h"
#include "bus/clock.h"
#include "bus/memory.h"

#define GDT_OFF 0x0000u
#define GDT_ENTRIES 32
#define IDT_OFF 0x0800u
#define STUB_OFF 0x1000u  /* vector v: its stub at STUB_OFF + 8 v */
#define TSS_OFF 0x1800u
#define PD_OFF 0x2000u    /* the page directory: 4 MiB pages */
#define KSTACK_OFF 0xfff0u

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_TSS 0x80
#define SEL_LDT 0x88

static bool has_err(int v)
{
    return v == EX_DF || (v >= EX_TS && v <= EX_PF) || v == EX_AC;
}

static void gdt_set(uint8_t *h, unsigned idx, uint32_t lo, uint32_t hi)
{
    le_put32(h + GDT_OFF + idx * 8, lo);
    le_put32(h + GDT_OFF + idx * 8 + 4, hi);
}

/* A flat descriptor up to limit (4 KiB units - 1) with access byte acc. */
static void gdt_flat(uint8_t *h, unsigned idx, uint32_t plimit, uint8_t acc)
{
    gdt_set(h, idx, plimit & 0xffff,
            (plimit & 0xf0000) | 0x00c00000u | (uint32_t)acc << 8);
}

static void map_window(X86User *u, uint64_t from, uint64_t to);

static void system_tables(X86User *u)
{
    uint8_t *h = u->hidden;
    uint32_t hb = X86U_HIDDEN;
    uint32_t ulim = 0xfffff; /* flat, as Linux's: paging guards */
    gdt_flat(h, SEL_KCODE >> 3, 0xfffff, 0x9a);
    gdt_flat(h, SEL_KDATA >> 3, 0xfffff, 0x92);
    gdt_flat(h, X86U_SEL_UCODE >> 3, ulim, 0xfa);
    gdt_flat(h, X86U_SEL_UDATA >> 3, ulim, 0xf2);
    uint32_t ldt = X86U_LDT, ll = X86U_LDT_ENTRIES * 8 - 1;
    gdt_set(h, SEL_LDT >> 3, (ldt << 16) | (ll & 0xffff),
            (ldt & 0xff000000u) | ((ldt >> 16) & 0xff) | (ll & 0xf0000) |
            0x8200);
    uint32_t tss = hb + TSS_OFF;
    gdt_set(h, SEL_TSS >> 3, (tss << 16) | 0x67,
            (tss & 0xff000000u) | ((tss >> 16) & 0xff) | 0x8b00);
    le_put32(h + TSS_OFF + 4, hb + KSTACK_OFF); /* ESP0 */
    le_put32(h + TSS_OFF + 8, SEL_KDATA);       /* SS0 */
    /* no I/O bitmap: IN/OUT at IOPL 0 #GP, as under Linux */
    le_put32(h + TSS_OFF + 0x64, 0x68u << 16);
    /* Identity-mapped 4 MiB pages: the guest window for user mode, the
       last 4 MiB (this area) for the supervisor only, so that no user
       segment (glibc's TLS segment spans 4 GiB) reaches the tables. */
    map_window(u, 0, u->limit);
    le_put32(h + PD_OFF + 1023 * 4, (hb & 0xffc00000u) | 0x83);
    for (unsigned v = 0; v < 256; v++) {
        uint32_t off = hb + STUB_OFF + v * 8;
        unsigned dpl = (v == EX_BP || v == EX_OF || v == 0x80) ? 3 : 0;
        le_put32(h + IDT_OFF + v * 8, (SEL_KCODE << 16) | (off & 0xffff));
        le_put32(h + IDT_OFF + v * 8 + 4,
              (off & 0xffff0000u) | 0x8e00 | dpl << 13);
        uint8_t *s = h + STUB_OFF + v * 8;
        *s++ = 0xf4; /* hlt */
        if (has_err((int)v)) {
            *s++ = 0x83; /* add esp, 4 */
            *s++ = 0xc4;
            *s++ = 0x04;
        }
        *s = 0xcf; /* iret */
    }
}

/*
 * Long mode (x86-64 programs): Linux's x86-64 GDT (kernel CS 0x10 and DS
 * 0x18, user CS32 0x23, user DS 0x2b, user CS 0x33; STAR points SYSRET
 * there), a 64-bit TSS, 16-byte IDT gates to the same halting stubs
 * ("hlt; [add rsp, 8;] iretq"), SYSCALL's LSTAR at a stub "hlt; sysretq",
 * and 4-level paging with 2 MiB pages: the guest window for user mode,
 * the last 2 MiB below 4 GiB (this area and the LDT) for the supervisor.
 */
#define IDT64_OFF 0x3000u /* 256 16-byte gates */
#define PML4_OFF 0x4000u
#define PDPT_OFF 0x5000u
#define PD64_OFF 0x6000u  /* four page directories: 0..4 GiB */
#define SYSCALL_OFF 0xa000u
#define SEL64_KCODE 0x10
#define SEL64_KDATA 0x18
#define SEL64_UCODE32 0x23

static void system_tables64(X86User *u)
{
    uint8_t *h = u->hidden;
    uint32_t hb = X86U_HIDDEN;
    gdt_set(h, SEL64_KCODE >> 3, 0xffff, 0x00af9a00);
    gdt_set(h, SEL64_KDATA >> 3, 0xffff, 0x00cf9200);
    gdt_set(h, SEL64_UCODE32 >> 3, 0xffff, 0x00cffa00);
    gdt_set(h, X86U_SEL64_UDATA >> 3, 0xffff, 0x00cff200);
    gdt_set(h, X86U_SEL64_UCODE >> 3, 0xffff, 0x00affa00);
    uint32_t tss = hb + TSS_OFF;
    gdt_set(h, SEL_TSS >> 3, (tss << 16) | 0x67,
            (tss & 0xff000000u) | ((tss >> 16) & 0xff) | 0x8900);
    gdt_set(h, (SEL_TSS >> 3) + 1, 0, 0); /* base 63:32 */
    le_put32(h + TSS_OFF + 4, hb + KSTACK_OFF); /* RSP0 */
    le_put32(h + TSS_OFF + 8, 0);
    le_put32(h + TSS_OFF + 0x64, 0x68u << 16);
    le_put32(h + PML4_OFF, (hb + PDPT_OFF) | 0x7);
    for (uint32_t g = 0; g < 4; g++) {
        le_put32(h + PDPT_OFF + g * 8, (hb + PD64_OFF + g * 0x1000) | 0x7);
    }
    map_window(u, 0, u->limit);
    uint64_t top = (uint64_t)(X86U_LDT & 0xffe00000u) | 0x83;
    memcpy(h + PD64_OFF + 2047 * 8, &top, 8);
    for (unsigned v = 0; v < 256; v++) {
        uint32_t off = hb + STUB_OFF + v * 8;
        unsigned dpl = (v == EX_BP || v == EX_OF) ? 3 : 0;
        le_put32(h + IDT64_OFF + v * 16, (SEL64_KCODE << 16) | (off & 0xffff));
        le_put32(h + IDT64_OFF + v * 16 + 4,
              (off & 0xffff0000u) | 0x8e00 | dpl << 13);
        uint8_t *st = h + STUB_OFF + v * 8;
        *st++ = 0xf4; /* hlt */
        if (has_err((int)v)) {
            static const uint8_t add[4] = { 0x48, 0x83, 0xc4, 0x08 };
            memcpy(st, add, 4); /* add rsp, 8 */
            st += 4;
        }
        *st++ = 0x48; /* iretq */
        *st = 0xcf;
    }
    static const uint8_t sys[4] = { 0xf4, 0x48, 0x0f, 0x07 };
    memcpy(h + SYSCALL_OFF, sys, 4); /* hlt; sysretq */
}

/* Every thread's X86User: cross-thread code invalidation. */
static GMutex registry_lock;
static GPtrArray *registry;
/* The process's LDT (modify_ldt), shared by the threads' CPUs at
   X86U_LDT, and how many entries have been written. */
static uint8_t *ldt_mem;
static uint32_t ldt_used;

static void page_marked(void *opaque, uint64_t page)
{
    X86User *u = opaque;
    u->marked_fn(u->marked_opaque, page); /* the TLB drops write pointers */
    if (u->code_page && page < u->limit) {
        u->code_page(u->code_opaque, page);
    }
}

static void post(X86User *u, uint64_t start, uint64_t end, bool all)
{
    if (all || u->npending == G_N_ELEMENTS(u->pending)) {
        u->pending_all = true;
    } else {
        u->pending[u->npending].start = start;
        u->pending[u->npending].end = end;
        u->npending++;
    }
    __atomic_store_n(&u->has_pending, 1, __ATOMIC_SEQ_CST);
    x86_user_exit_request(u);
}

static void post_all(uint64_t addr, uint64_t len, bool all)
{
    g_mutex_lock(&registry_lock);
    for (guint i = 0; registry && i < registry->len; i++) {
        post(g_ptr_array_index(registry, i), addr, addr + len, all);
    }
    g_mutex_unlock(&registry_lock);
}

void x86_user_code_written_all(uint64_t addr, uint64_t len)
{
    if (len && addr + len > addr) {
        post_all(addr, len, false);
    }
}

void x86_user_flush_all(void)
{
    post_all(0, 0, true);
}

typedef struct PageRange {
    uint64_t start, end;
    GArray *hit;
} PageRange;

static void collect_page(gpointer key, gpointer value, gpointer opaque)
{
    PageRange *r = opaque;
    uint64_t pg = (uint64_t)GPOINTER_TO_SIZE(key) << 12;
    (void)value;
    if (pg + 0x1000 > r->start && pg < r->end) {
        g_array_append_val(r->hit, pg);
    }
}

/* Drop the blocks of the code pages in [start, end). */
static void invalidate_range(X86User *u, uint64_t start, uint64_t end)
{
    if (end - start <= 16 * 0x1000) {
        for (uint64_t pg = start & ~0xfffull; pg < end; pg += 0x1000) {
            x86_code_write(u->x, pg, 0x1000);
        }
        return;
    }
    PageRange r = { start, end, g_array_new(false, false, sizeof(uint64_t)) };
    g_hash_table_foreach(u->x->code.pages, collect_page, &r);
    for (guint i = 0; i < r.hit->len; i++) {
        x86_code_write(u->x, g_array_index(r.hit, uint64_t, i), 0x1000);
    }
    g_array_free(r.hit, true);
}

/* In the owning thread, between blocks. */
static void run_pending(X86User *u)
{
    if (!__atomic_load_n(&u->has_pending, __ATOMIC_ACQUIRE)) {
        return;
    }
    g_mutex_lock(&registry_lock);
    __atomic_store_n(&u->has_pending, 0, __ATOMIC_RELAXED);
    if (u->pending_all) {
        x86_tb_flush(u->x);
    } else {
        for (unsigned i = 0; i < u->npending; i++) {
            invalidate_range(u, u->pending[i].start, u->pending[i].end);
        }
    }
    u->pending_all = false;
    u->npending = 0;
    g_mutex_unlock(&registry_lock);
}

static int no_intr(void *opaque)
{
    (void)opaque;
    return -1;
}

static X86User *user_new64(X86User *u);

/* Both modes: the user segments, the registers as Linux starts a
   process (FNINIT's x87), and the registry. */
static X86User *user_start(X86User *u, uint16_t ucode, uint16_t udata)
{
    X86Cpu *x = u->x;
    for (int s = 0; s < 6; s++) {
        uint16_t sel = s == S_CS ? ucode
                       : (s == S_FS || s == S_GS) ? 0 : udata;
        uint32_t d = sel & ~7u;
        x86_desc_to_cache(&x->seg[s], sel, le_get32(u->hidden + d),
                          le_get32(u->hidden + d + 4));
    }
    memset(x->regs, 0, sizeof(x->regs));
    x->lf_op = LF_NONE;
    x->eflags = 0x202;
    x87_finit(&x->fpu);
    x86_post_load_fixup(x);
    g_mutex_lock(&registry_lock);
    if (!registry) {
        registry = g_ptr_array_new();
    }
    g_ptr_array_add(registry, u);
    g_mutex_unlock(&registry_lock);
    return u;
}

X86User *x86_user_new(uint8_t *guest_base, uint64_t limit, GError **error)
{
    return x86_user_new_model(guest_base, limit, NULL, false, error);
}

X86User *x86_user_new_model(uint8_t *guest_base, uint64_t limit,
                            const char *model, bool lm, GError **error)
{
    X86User *u = g_new0(X86User, 1);
    u->limit = MIN(limit, X86U_LOW_LIMIT);
    u->limit_max = limit;
    u->guest_base = guest_base;
    u->lm = lm;
    u->mem = memmap_new();
    memmap_add_ram(u->mem, "guest", 0, u->limit, guest_base, 0);
    u->hidden = g_malloc0(X86U_HIDDEN_SIZE);
    memmap_add_ram(u->mem, "user-system", X86U_HIDDEN, X86U_HIDDEN_SIZE,
                   u->hidden, 1);
    g_mutex_lock(&registry_lock);
    if (!ldt_mem) {
        ldt_mem = g_malloc0(X86U_LDT_ENTRIES * 8);
    }
    g_mutex_unlock(&registry_lock);
    memmap_add_ram(u->mem, "user-ldt", X86U_LDT, X86U_LDT_ENTRIES * 8,
                   ldt_mem, 2);
    u->clock = clock_new(CLOCK_MODE_REALTIME, 0);
    CpuWiring bus = { .mem = u->mem, .clock = u->clock, .intr_ack = no_intr,
                      .model = model };
    const CpuOps *ops = cpu_find("pentium2");
    u->cpu = ops ? ops->create(&bus, error) : NULL;
    if (!u->cpu) {
        x86_user_free(u);
        return NULL;
    }
    u->x = (X86Cpu *)u->cpu;
    /* the user layer reserves 4 GiB + 64 KiB at guest_base (mem.c) */
    u->x->user_host = guest_base;
    u->marked_fn = u->x->code.page_marked;
    u->marked_opaque = u->x->code.opaque;
    u->x->code.page_marked = page_marked;
    u->x->code.opaque = u;
    X86Cpu *x = u->x;
    if (lm) {
        if (!(x->model->features & X86F_LM)) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "CPU model '%s' has no long mode", x->model->name);
            x86_user_free(u);
            return NULL;
        }
        return user_new64(u);
    }
    system_tables(u);

    x->gdt.base = X86U_HIDDEN + GDT_OFF;
    x->gdt.limit = GDT_ENTRIES * 8 - 1;
    x->idt.base = X86U_HIDDEN + IDT_OFF;
    x->idt.limit = 256 * 8 - 1;
    x->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_MP | CR0_PG;
    x->cr3 = X86U_HIDDEN + PD_OFF;
    x->cr4 = CR4_PSE;
    if (x86_sse_features(x) & X86F_SSE) {
        /* Linux enables SSE and #XM for its processes. */
        x->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    }
    x86_desc_to_cache(&x->tr, SEL_TSS, le_get32(u->hidden + SEL_TSS),
                      le_get32(u->hidden + SEL_TSS + 4));
    x86_desc_to_cache(&x->ldt, SEL_LDT, le_get32(u->hidden + SEL_LDT),
                      le_get32(u->hidden + SEL_LDT + 4));
    return user_start(u, X86U_SEL_UCODE, X86U_SEL_UDATA);
}

/* The rest of x86_user_new_model for long mode. */
static X86User *user_new64(X86User *u)
{
    X86Cpu *x = u->x;
    system_tables64(u);
    x->gdt.base = X86U_HIDDEN + GDT_OFF;
    x->gdt.limit = GDT_ENTRIES * 8 - 1;
    x->idt.base = X86U_HIDDEN + IDT64_OFF;
    x->idt.limit = 256 * 16 - 1;
    x->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_MP | CR0_PG;
    x->cr3 = X86U_HIDDEN + PML4_OFF;
    x->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    x->efer = EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE;
    x->lma = true;
    x->star = (uint64_t)SEL64_UCODE32 << 48 | (uint64_t)SEL64_KCODE << 32;
    x->lstar = X86U_HIDDEN + SYSCALL_OFF;
    x->sfmask = F_TF | F_DF | F_IF | F_AC | F_NT | F_IOPL;
    x86_desc_to_cache(&x->tr, SEL_TSS, le_get32(u->hidden + SEL_TSS),
                      le_get32(u->hidden + SEL_TSS + 4));
    return user_start(u, X86U_SEL64_UCODE, X86U_SEL64_UDATA);
}

/* The page directory entries of the window [from, to): 4 MiB pages (i386)
   or 2 MiB pages (long mode), identity, user. */
static void map_window(X86User *u, uint64_t from, uint64_t to)
{
    if (u->lm) {
        for (uint64_t i = from >> 21; i < to >> 21; i++) {
            uint64_t e = (i << 21) | 0x87;
            memcpy(u->hidden + PD64_OFF + i * 8, &e, 8);
        }
    } else {
        for (uint64_t i = from >> 22; i < to >> 22; i++) {
            le_put32(u->hidden + PD_OFF + i * 4, (uint32_t)(i << 22) | 0x87);
        }
    }
}

bool x86_user_map_high(X86User *u)
{
    if (u->limit >= u->limit_max) {
        return false;
    }
    memmap_add_ram(u->mem, "guest-high", u->limit, u->limit_max - u->limit,
                   u->guest_base + u->limit, 0);
    map_window(u, u->limit, u->limit_max);
    u->limit = u->limit_max;
    x86_tlb_flush(u->x, true);
    return true;
}

void x86_user_free(X86User *u)
{
    g_mutex_lock(&registry_lock);
    if (registry) {
        g_ptr_array_remove_fast(registry, u);
    }
    g_mutex_unlock(&registry_lock);
    if (u->cpu) {
        u->cpu->ops->destroy(u->cpu);
    }
    memmap_free(u->mem);
    if (u->clock) {
        clock_free(u->clock);
    }
    g_free(u->hidden);
    g_free(u);
}

void x86_user_copy(X86User *dst, const X86User *src)
{
    X86Cpu *d = dst->x;
    const X86Cpu *s = src->x;
    memcpy(d->regs, s->regs, sizeof(d->regs));
    d->rip = s->rip;
    d->eflags = s->eflags;
    d->lf_op = s->lf_op;
    d->lf_res = s->lf_res;
    d->lf_a = s->lf_a;
    d->lf_b = s->lf_b;
    d->lf_size = s->lf_size;
    d->lf_cf = s->lf_cf;
    memcpy(d->seg, s->seg, sizeof(d->seg));
    d->fpu = s->fpu;
    memcpy(d->xmm, s->xmm, sizeof(d->xmm));
    /* the TLS entries (Linux copies them into the new thread) */
    memcpy(dst->hidden + GDT_OFF + 6 * 8, src->hidden + GDT_OFF + 6 * 8,
           3 * 8);
    x86_post_load_fixup(d);
}

void x86_user_set_pc_sp(X86User *u, uint32_t pc, uint32_t sp)
{
    u->x->rip = pc;
    u->x->regs[R_ESP] = sp;
}

bool x86_user_set_seg(X86User *u, int s, uint16_t sel)
{
    X86Cpu *x = u->x;
    uint32_t lo = 0, hi = 0;
    if (sel & ~3u) {
        unsigned idx = sel >> 3;
        if (idx >= ((sel & 4) ? X86U_LDT_ENTRIES : GDT_ENTRIES) ||
            (sel & 3) != 3) {
            return false;
        }
        const uint8_t *d = (sel & 4) ? ldt_mem + idx * 8
                                     : u->hidden + GDT_OFF + idx * 8;
        lo = le_get32(d);
        hi = le_get32(d + 4);
        /* present, a user code or data segment of DPL 3 */
        if (!(hi & 0x8000) || !(hi & 0x1000) || ((hi >> 13) & 3) != 3) {
            return false;
        }
        if (s == S_CS ? !(hi & 0x800) : s == S_SS ? (hi & 0xa00) != 0x200
                                                  : false) {
            return false;
        }
    } else if (s == S_CS || s == S_SS) {
        return false;
    }
    x86_desc_to_cache(&x->seg[s], sel, lo, hi);
    x86_post_load_fixup(x);
    return true;
}

uint16_t x86_user_get_seg(X86User *u, int s)
{
    return u->x->seg[s].sel;
}

/* struct user_desc's fields as a descriptor (Linux's fill_ldt: DPL 3,
   the accessed bit set); an "empty" one is zeros.  -EINVAL for a
   conforming code segment. */
static int encode_desc(uint32_t base, uint32_t limit, uint32_t flags,
                       bool oldmode, uint32_t *plo, uint32_t *phi)
{
    unsigned seg32 = flags & 1, contents = (flags >> 1) & 3,
             ro = (flags >> 3) & 1, pages = (flags >> 4) & 1,
             np = (flags >> 5) & 1, usable = (flags >> 6) & 1;
    bool empty = !base && !limit && contents == 0 && ro && !seg32 &&
                 !pages && np && !usable;
    *plo = *phi = 0;
    if (empty || (oldmode && !base && !limit)) {
        return 0;
    }
    if (contents == 3 && (oldmode || !np)) {
        return -EINVAL;
    }
    *plo = ((base & 0xffff) << 16) | (limit & 0xffff);
    *phi = (base & 0xff000000u) | ((base >> 16) & 0xff) |
           (limit & 0xf0000) | 0x100 | ((ro ^ 1) << 9) | (contents << 10) |
           ((np ^ 1) << 15) | (seg32 << 22) | (pages << 23) |
           ((oldmode ? 0 : usable) << 20) | 0x7000;
    return 0;
}

/* The other way (Linux's fill_user_desc): base, limit and the flags. */
static void decode_desc(uint32_t lo, uint32_t hi, uint32_t *base,
                        uint32_t *limit, uint32_t *flags)
{
    *base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
    *limit = (lo & 0xffff) | (hi & 0xf0000);
    unsigned type = (hi >> 8) & 0xf;
    *flags = ((hi >> 22) & 1) | ((type >> 2) << 1) |
             ((type & 2) ? 0 : 1u << 3) | (((hi >> 23) & 1) << 4) |
             ((hi & 0x8000) ? 0 : 1u << 5) | (((hi >> 20) & 1) << 6);
}

int x86_user_get_tls(X86User *u, uint32_t entry, uint32_t *base,
                     uint32_t *limit, uint32_t *flags)
{
    if (entry < X86U_TLS_FIRST || entry >= X86U_TLS_FIRST + 3) {
        return -EINVAL;
    }
    decode_desc(le_get32(u->hidden + GDT_OFF + entry * 8),
                le_get32(u->hidden + GDT_OFF + entry * 8 + 4), base, limit,
                flags);
    return 0;
}

/* Reload the segment registers that hold selector sel's descriptor. */
static void reload_segs(X86User *u, uint16_t sel)
{
    for (int s = 0; s < 6; s++) {
        if ((u->x->seg[s].sel & ~3u) == (sel & ~3u) && (sel & ~7u)) {
            x86_user_set_seg(u, s, u->x->seg[s].sel);
        }
    }
}

int x86_user_ldt_write(X86User *u, uint32_t entry, uint32_t base,
                       uint32_t limit, uint32_t flags, bool oldmode)
{
    uint32_t lo, hi;
    if (entry >= X86U_LDT_ENTRIES) {
        return -EINVAL;
    }
    int r = encode_desc(base, limit, flags, oldmode, &lo, &hi);
    if (r < 0) {
        return r;
    }
    g_mutex_lock(&registry_lock);
    le_put32(ldt_mem + entry * 8, lo);
    le_put32(ldt_mem + entry * 8 + 4, hi);
    ldt_used = MAX(ldt_used, entry + 1);
    g_mutex_unlock(&registry_lock);
    reload_segs(u, (uint16_t)(entry << 3 | 7));
    return 0;
}

size_t x86_user_ldt_read(void *buf, size_t len)
{
    g_mutex_lock(&registry_lock);
    len = ldt_mem ? MIN(len, (size_t)ldt_used * 8) : 0;
    memcpy(buf, ldt_mem, len);
    g_mutex_unlock(&registry_lock);
    return len;
}

int x86_user_set_tls(X86User *u, uint32_t *entry, uint32_t base,
                     uint32_t limit, uint32_t flags)
{
    unsigned n = *entry;
    if (n == 0xffffffffu) {
        for (n = X86U_TLS_FIRST; n < X86U_TLS_FIRST + 3; n++) {
            uint8_t *d = u->hidden + GDT_OFF + n * 8;
            if (!le_get32(d) && !le_get32(d + 4)) {
                break;
            }
        }
        if (n == X86U_TLS_FIRST + 3) {
            return -ESRCH;
        }
        *entry = n;
    }
    if (n < X86U_TLS_FIRST || n >= X86U_TLS_FIRST + 3) {
        return -EINVAL;
    }
    uint32_t lo, hi;
    if (((flags >> 1) & 3) == 3) {
        return -EINVAL;
    }
    encode_desc(base, limit, flags, false, &lo, &hi);
    gdt_set(u->hidden, n, lo, hi);
    /* a segment register holding the entry sees the new descriptor */
    reload_segs(u, (uint16_t)(n << 3 | 3));
    return 0;
}

int x86_user_run(X86User *u, uint32_t *err)
{
    X86Cpu *x = u->x;
    for (;;) {
        run_pending(u);
        CpuExit why = CPU_EXIT_BUDGET;
        u->cpu->ops->run(u->cpu, 1 << 22, &why);
        if (x->shutdown || why == CPU_EXIT_SHUTDOWN) {
            x->shutdown = false;
            return X86U_SHUTDOWN;
        }
        if (x->user_int80) {
            x->user_int80 = false;
            *err = 0;
            return 0x80;
        }
        if (x->cpl == 3) {
            return X86U_NONE;
        }
        if (!x->halted) {
            continue; /* stopped before the stub (an exit request) */
        }
        uint64_t at = x->rip - 1 - (X86U_HIDDEN + STUB_OFF);
        int v;
        if (u->lm && x->rip - 1 == X86U_HIDDEN + SYSCALL_OFF) {
            v = X86U_SYSCALL;
        } else if (at >= 256 * 8 || at % 8) {
            return X86U_SHUTDOWN;
        } else {
            v = (int)(at / 8);
        }
        uint32_t esp = (uint32_t)x->regs[R_ESP] - X86U_HIDDEN;
        *err = v >= 0 && has_err(v) && esp < X86U_HIDDEN_SIZE - 4
                   ? le_get32(u->hidden + esp) : 0;
        x->halted = false;
        /* the stub's IRET back to ring 3 */
        for (int i = 0; x->cpl != 3; i++) {
            if (i > 16 || x->shutdown) {
                return X86U_SHUTDOWN;
            }
            u->cpu->ops->run(u->cpu, 1, &why);
        }
        return v;
    }
}

G_NORETURN void x86_user_host_fault(X86User *u, uint64_t addr, bool write,
                         bool present)
{
    X86Cpu *x = u->x;
    x->cr2 = addr;
    x86_raise(x, EX_PF, 4 | (write ? 2 : 0) | (present ? 1 : 0));
}

void x86_user_exit_request(X86User *u)
{
    u->cpu->ops->exit_request(u->cpu);
}

void x86_user_flush_code(X86User *u)
{
    x86_tb_flush(u->x);
}

void x86_user_written(X86User *u, uint64_t addr, uint64_t len)
{
    if (!len || addr >= u->limit) {
        return;
    }
    uint64_t end = MIN(addr + len, u->limit);
    for (uint64_t pg = addr & ~0xfffull; pg < end; pg += 0x1000) {
        if (memmap_is_code(u->mem, pg)) {
            x86_code_write(u->x, pg, 1);
        }
    }
}
