/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Paging and the software TLB of the x86 core.
 *
 * The TLB is direct-mapped, one table for supervisor and one for user
 * accesses, indexed by linear page.  An entry caches a host address for
 * RAM pages (tag_r for reads and fetches, tag_w for writes); ROM, MMIO,
 * unassigned memory and pages holding translated code never get a write
 * tag, so those writes take the slow path through the memory map (which
 * calls the code-write hook for code pages).  Writes get a tag only when
 * the PTE's dirty bit is already set, so the first write sets D.
 *
 * Specification: SDM Vol. 3A chapter 4 (paging: 32-bit, PSE and PAE
 * modes, accessed/dirty flags, WP, global pages, #PF error codes).
 */
#include "arch/x86/ops.h"

#define PTE_P 0x1u
#define PTE_W 0x2u
#define PTE_U 0x4u
#define PTE_A 0x20u
#define PTE_D 0x40u
#define PTE_PS 0x80u
#define PTE_G 0x100u

/* PAE reserved bits (SDM 4.4.2, tables 4-8 to 4-11): MAXPHYADDR is the
   model's (36 for pentium2, which has no leaf 80000008h and no NX, so
   bits 63:36 are reserved in every PDE and PTE), see walk_pae. */
/* A PDPTE (table 4-8): bits 2:1, 8:5 and 63:MAXPHYADDR. */
#define PDPTE_RSVD 0x1e6ull
/* 32-bit paging, a 4 MiB PDE (table 4-4): CPUID does not claim PSE-36, so
   bits 21:13 are reserved. */
#define PSE_RSVD_4M 0x3fe000u

static uint64_t phys_rd(X86Cpu *cpu, uint64_t pa, unsigned size)
{
    return memmap_read_sized(cpu->bus.mem, pa & cpu->a20_mask, size);
}

static void phys_wr(X86Cpu *cpu, uint64_t pa, uint64_t v, unsigned size)
{
    memmap_write_sized(cpu->bus.mem, pa & cpu->a20_mask, v, size);
}

/*
 * PAE paging (3 levels after the PDPTE) and 4-level paging in long mode
 * (SDM 4.4, 4.5): one loop over the levels.  Reserved bits: above
 * MAXPHYADDR (bits 62:M under PAE, 51:M in long mode, whose bits 62:52
 * are ignored), bit 63 without EFER.NXE, 20:13 of a 2 MiB and 29:13 of a
 * 1 GiB page, PS in a PML4E and in a PDPTE without 1 GiB pages.  Rights
 * are the AND of R/W and U/S over the levels; XD (NXE) of any level makes
 * the page not executable.  Fetches report I/D in the error code with
 * NXE.
 */
static bool walk_pae(X86Cpu *cpu, uint64_t lin, int acc, bool user,
                     uint64_t *phys, bool *wok, uint32_t *err, bool set_ad,
                     bool *glob)
{
    bool write = acc == 1, fetch = acc == 2;
    bool wp = cpu->cr0 & CR0_WP;
    bool nxe = cpu->efer & EFER_NXE;
    uint32_t ecode = (write ? 2 : 0) | (user ? 4 : 0) |
                     (fetch && nxe ? 0x10 : 0);
    uint64_t amask = cpu->phys_mask & ~(uint64_t)0xfff;
    uint64_t rsvd = cpu->lma ? (0x000fffffffffffffull & ~cpu->phys_mask)
                             : (0x7fffffffffffffffull & ~cpu->phys_mask);
    if (!nxe) {
        rsvd |= 1ull << 63;
    }
    uint64_t table;
    int level;
    if (cpu->lma) {
        table = cpu->cr3 & amask;
        level = 4;
    } else {
        uint64_t pdpte = phys_rd(cpu, (cpu->cr3 & 0xffffffe0u) +
                                 ((lin >> 30) & 3) * 8, 8);
        if (!(pdpte & PTE_P)) {
            *err = ecode;
            return false;
        }
        table = pdpte & amask;
        level = 2;
    }
    uint64_t ent[4], ent_a[4];
    int n = 0;
    uint64_t rights = PTE_W | PTE_U;
    bool nx = false, big = false;
    uint64_t pa;
    for (;;) {
        unsigned shift = 12 + 9 * (level - 1);
        uint64_t a = table + ((lin >> shift) & 0x1ff) * 8;
        uint64_t e = phys_rd(cpu, a, 8);
        if (!(e & PTE_P)) {
            *err = ecode;
            return false;
        }
        uint64_t r = rsvd;
        big = false;
        if (e & PTE_PS) {
            if (level == 2) {
                big = true;
                r |= 0x1fe000ull;
            } else if (level == 3 &&
                       (cpu->model->features & X86F_PDPE1GB)) {
                big = true;
                r |= 0x3fffe000ull;
            } else if (level > 1) {
                r |= PTE_PS;
            }
        }
        if (e & r) {
            *err = ecode | 9; /* P, RSVD */
            return false;
        }
        rights &= e;
        nx = nx || (nxe && (e >> 63));
        ent[n] = e;
        ent_a[n++] = a;
        if (big || level == 1) {
            uint64_t off = (1ull << shift) - 1;
            pa = (e & amask & ~off) | (lin & off);
            break;
        }
        table = e & amask;
        level--;
    }
    if ((user && !(rights & PTE_U)) ||
        (write && !(rights & PTE_W) && (user || wp)) || (fetch && nx)) {
        *err = ecode | 1;
        return false;
    }
    uint64_t last = ent[n - 1];
    bool dirty = last & PTE_D;
    if (set_ad) {
        for (int i = 0; i < n; i++) {
            uint64_t e = ent[i];
            bool leaf = i == n - 1;
            if (!(e & PTE_A) || (leaf && write && !(e & PTE_D))) {
                e |= PTE_A | (leaf && write ? PTE_D : 0);
                phys_wr(cpu, ent_a[i], (uint32_t)e, 4);
            }
        }
        dirty = dirty || write;
    }
    *phys = pa;
    *wok = dirty && ((rights & PTE_W) || (!user && !wp));
    *glob = (cpu->cr4 & CR4_PGE) && (last & PTE_G);
    cpu->walk_nx = nx;
    return true;
}

/*
 * Walk the page tables.  acc: 0 read, 1 write, 2 fetch.  On success
 * returns true with *phys and *wok (a write may go straight to the page:
 * writable for this privilege and already dirty).  On a fault, *err has
 * the #PF error code.  set_ad: update accessed/dirty bits.  *glob: a
 * global page (G in the last entry, CR4.PGE on).
 */
static bool walk(X86Cpu *cpu, uint64_t lin, int acc, bool user,
                 uint64_t *phys, bool *wok, uint32_t *err, bool set_ad,
                 bool *glob)
{
    bool write = acc == 1;
    bool wp = cpu->cr0 & CR0_WP;
    uint32_t ecode = (write ? 2 : 0) | (user ? 4 : 0);
    if (cpu->cr4 & CR4_PAE) {
        return walk_pae(cpu, lin, acc, user, phys, wok, err, set_ad, glob);
    }
    uint32_t pde_a = (cpu->cr3 & ~0xfffu) + (lin >> 22) * 4;
    uint32_t pde = phys_rd(cpu, pde_a, 4);
    if (!(pde & PTE_P)) {
        *err = ecode;
        return false;
    }
    bool big = (pde & PTE_PS) && (cpu->cr4 & CR4_PSE);
    uint32_t rights = pde & (PTE_W | PTE_U);
    uint32_t pte_a = 0, pte = 0;
    uint64_t pa;
    if (big) {
        if (pde & PSE_RSVD_4M) {
            *err = ecode | 9; /* P, RSVD */
            return false;
        }
        pa = (pde & 0xffc00000u) | (lin & 0x3fffff);
    } else {
        pte_a = (pde & ~0xfffu) + ((lin >> 12) & 0x3ff) * 4;
        pte = phys_rd(cpu, pte_a, 4);
        if (!(pte & PTE_P)) {
            *err = ecode;
            return false;
        }
        rights &= pte & (PTE_W | PTE_U);
        pa = (pte & ~0xfffu) | (lin & 0xfff);
    }
    if ((user && !(rights & PTE_U)) ||
        (write && !(rights & PTE_W) && (user || wp))) {
        *err = ecode | 1;
        return false;
    }
    bool dirty = big ? (pde & PTE_D) : (pte & PTE_D);
    if (set_ad) {
        if (!(pde & PTE_A) || (big && write && !(pde & PTE_D))) {
            pde |= PTE_A | (big && write ? PTE_D : 0);
            phys_wr(cpu, pde_a, pde, 4);
        }
        if (!big && (!(pte & PTE_A) || (write && !(pte & PTE_D)))) {
            pte |= PTE_A | (write ? PTE_D : 0);
            phys_wr(cpu, pte_a, pte, 4);
        }
        dirty = dirty || write;
    }
    *phys = pa;
    *wok = dirty && ((rights & PTE_W) || (!user && !wp));
    *glob = (cpu->cr4 & CR4_PGE) && ((big ? pde : pte) & PTE_G);
    return true;
}

uint64_t x86_translate(X86Cpu *cpu, uint64_t lin, int acc, bool user)
{
    lin &= cpu->lin_mask;
    if (!cpu->paging) {
        return lin & cpu->a20_mask;
    }
    uint64_t pa;
    bool wok, glob;
    uint32_t err;
    if (!walk(cpu, lin, acc, user, &pa, &wok, &err, true, &glob)) {
        cpu->cr2 = lin;
        x86_raise(cpu, EX_PF, err);
    }
    return pa & cpu->a20_mask;
}

bool x86_translate_probe(X86Cpu *cpu, uint64_t lin, uint64_t *phys)
{
    lin &= cpu->lin_mask;
    if (!cpu->paging) {
        *phys = lin & cpu->a20_mask;
        return true;
    }
    bool wok, glob;
    uint32_t err;
    if (!walk(cpu, lin, 0, false, phys, &wok, &err, false, &glob)) {
        return false;
    }
    *phys &= cpu->a20_mask;
    return true;
}

/* Alignment checking (CR0.AM, EFLAGS.AC, CPL 3): user accesses then take
   the slow path (the fill gives no user tags; x86_set_eflags and CR0
   writes flush when it turns on), which raises #AC(0) for a misaligned
   data access (SDM Vol. 3A 6.15, "Interrupt 17"). */
static bool ac_on(const X86Cpu *cpu)
{
    return cpu->tlb_user && (cpu->cr0 & CR0_AM) && (cpu->eflags & F_AC);
}

static void ac_check(X86Cpu *cpu, uint64_t lin, unsigned size)
{
    if (G_UNLIKELY(ac_on(cpu)) && (lin & (size - 1))) {
        x86_raise(cpu, EX_AC, 0);
    }
}

/* For operands not accessed in one piece of their own size (CMPXCHG8B,
   x87 and MMX operands; SDM Vol. 3A table 6-7). */
void x86_ac_check(X86Cpu *cpu, uint64_t lin, unsigned align)
{
    ac_check(cpu, lin, align);
}

bool x86_pdptes_ok(X86Cpu *cpu, uint64_t cr3)
{
    for (unsigned i = 0; i < 4; i++) {
        uint64_t e = phys_rd(cpu, (cr3 & ~0x1fu) + i * 8, 8);
        if ((e & PTE_P) && (e & (PDPTE_RSVD | ~cpu->phys_mask))) {
            return false;
        }
    }
    return true;
}

/* Fill the TLB entry for lin after an access of type acc; returns the
   physical address (faults with #PF). */
uint64_t x86_tlb_fill(X86Cpu *cpu, uint64_t lin, int acc, bool user,
                      TlbEntry *e)
{
    lin &= cpu->lin_mask;
    uint64_t pa;
    bool wok = true, glob = false;
    cpu->walk_nx = false;
    if (cpu->paging) {
        uint32_t err;
        if (!walk(cpu, lin, acc, user, &pa, &wok, &err, true, &glob)) {
            cpu->cr2 = lin;
            x86_raise(cpu, EX_PF, err);
        }
    } else {
        pa = lin;
    }
    pa &= cpu->a20_mask;
    uint64_t page = pa & ~0xfffull;
    uint8_t *rp = memmap_page_read_ptr(cpu->bus.mem, page);
    uint8_t *wp = wok ? memmap_page_write_ptr(cpu->bus.mem, page) : NULL;
    uint64_t lpage = lin & ~(uint64_t)0xfff;
    e->tag_r = TLB_INVALID;
    e->tag_w = TLB_INVALID;
    e->phys = page | (glob ? TLB_GLOBAL : 0) | (cpu->walk_nx ? TLB_NX : 0);
    if (acc == 1) {
        if (wp) {
            e->addend = (uintptr_t)wp - lpage;
            e->tag_w = lpage;
            if (rp == wp) {
                e->tag_r = lpage;
            }
        }
    } else if (rp) {
        e->addend = (uintptr_t)rp - lpage;
        e->tag_r = lpage;
        if (wp == rp) {
            e->tag_w = lpage;
        }
    }
    if (G_UNLIKELY(cpu->dbg_watch) && x86_dbg_watched(cpu, lpage)) {
        e->tag_r = e->tag_w = TLB_INVALID; /* data breakpoint: slow path */
    }
    if (G_UNLIKELY(user && ac_on(cpu))) {
        e->tag_r = e->tag_w = TLB_INVALID; /* alignment checks */
    }
    return pa;
}

uint32_t x86_mem_read_slow(X86Cpu *cpu, uint64_t lin, unsigned size)
{
    lin &= cpu->lin_mask;
    ac_check(cpu, lin, size);
    if ((lin & 0xfff) + size > 0x1000) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            v |= x86_read_lin(cpu, lin + i, 1) << (8 * i);
        }
        return v;
    }
    bool user = cpu->tlb_user;
    TlbEntry *e = &cpu->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
    uint64_t pa = x86_tlb_fill(cpu, lin, 0, user, e);
    if (G_UNLIKELY(cpu->dbg_watch)) {
        x86_dbg_access(cpu, lin, size, false);
    }
    if (e->tag_r == (lin & ~(uint64_t)0xfff)) {
        return x86_ld_host((const uint8_t *)(e->addend + lin), size);
    }
    return memmap_read_sized(cpu->bus.mem, pa, size);
}

void x86_mem_write_slow(X86Cpu *cpu, uint64_t lin, uint32_t val,
                        unsigned size)
{
    lin &= cpu->lin_mask;
    ac_check(cpu, lin, size);
    if ((lin & 0xfff) + size > 0x1000) {
        /* Check both pages before writing anything. */
        uint64_t second = (lin + size - 1) & ~(uint64_t)0xfff;
        x86_translate(cpu, lin, 1, cpu->tlb_user);
        x86_translate(cpu, second, 1, cpu->tlb_user);
        for (unsigned i = 0; i < size; i++) {
            x86_write_lin(cpu, lin + i, val >> (8 * i), 1);
        }
        return;
    }
    bool user = cpu->tlb_user;
    TlbEntry *e = &cpu->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
    uint64_t pa = x86_tlb_fill(cpu, lin, 1, user, e);
    if (G_UNLIKELY(cpu->dbg_watch)) {
        x86_dbg_access(cpu, lin, size, true);
    }
    if (e->tag_w == (lin & ~(uint64_t)0xfff)) {
        x86_st_host((uint8_t *)(e->addend + lin), val, size);
        return;
    }
    memmap_write_sized(cpu->bus.mem, pa, val, size);
}

/* Descriptor-table and TSS accesses are supervisor accesses (CPL 0). */
uint32_t x86_sys_read(X86Cpu *cpu, uint64_t lin, unsigned size)
{
    int save = cpu->tlb_user;
    cpu->tlb_user = 0;
    uint32_t v = x86_read_lin(cpu, lin, size);
    cpu->tlb_user = save;
    return v;
}

void x86_sys_write(X86Cpu *cpu, uint64_t lin, uint32_t val, unsigned size)
{
    int save = cpu->tlb_user;
    cpu->tlb_user = 0;
    x86_write_lin(cpu, lin, val, size);
    cpu->tlb_user = save;
}

void x86_tlb_flush(X86Cpu *cpu, bool global)
{
    cpu->tb_gen += 2;
    /* global false (MOV CR3, a task switch): entries of global pages stay
       (SDM 4.10.4.1); CR4 writes, paging mode changes: all go. */
    for (int u = 0; u < 2; u++) {
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            if (!global && (cpu->tlb[u][i].phys & TLB_GLOBAL)) {
                continue;
            }
            cpu->tlb[u][i].tag_r = TLB_INVALID;
            cpu->tlb[u][i].tag_w = TLB_INVALID;
        }
    }
}

void x86_tlb_flush_page(X86Cpu *cpu, uint64_t lin)
{
    lin &= cpu->lin_mask;
    cpu->tb_gen += 2;
    if (cpu->cr4 & (CR4_PSE | CR4_PAE)) {
        /* The address may lie in a large page that filled several 4 KiB
           entries: drop every entry inside the 4 MiB (2 MiB) frame. */
        uint64_t frame = ~(uint64_t)(cpu->lma ? 0x3fffffff
                                     : (cpu->cr4 & CR4_PAE) ? 0x1fffff
                                                            : 0x3fffff);
        for (int u = 0; u < 2; u++) {
            for (unsigned i = 0; i < TLB_SIZE; i++) {
                TlbEntry *e = &cpu->tlb[u][i];
                if (((e->tag_r ^ lin) & frame) == 0 ||
                    ((e->tag_w ^ lin) & frame) == 0) {
                    e->tag_r = TLB_INVALID;
                    e->tag_w = TLB_INVALID;
                }
            }
        }
        return;
    }
    for (int u = 0; u < 2; u++) {
        TlbEntry *e = &cpu->tlb[u][(lin >> 12) & (TLB_SIZE - 1)];
        e->tag_r = TLB_INVALID;
        e->tag_w = TLB_INVALID;
    }
}

void x86_mmu_mode_changed(X86Cpu *cpu)
{
    cpu->paging = (cpu->cr0 & CR0_PG) && (cpu->cr0 & CR0_PE);
    x86_tlb_flush(cpu, true);
}

void x86_mem_listener(void *opaque, uint64_t start, uint64_t len)
{
    X86Cpu *cpu = opaque;
    x86_tlb_flush(cpu, true);
    /* Blocks translated from memory that moved are stale too. */
    x86_tb_flush(cpu);
}
