/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest address space of user mode: one PROT_NONE host reservation of
 * addr_limit bytes at guest_base; guest mappings are host mappings made
 * with MAP_FIXED inside it, so a guest address A is the host address
 * guest_base + A and an access to an unmapped guest page faults on the
 * host (the CPU loop turns that into the guest's SIGSEGV).  A sorted list
 * of the guest's mappings answers munmap/mprotect, the free-space search
 * and /proc/self/maps.  The guest page size equals the host's (4 KiB) on
 * the architectures built here; a bigger guest page is rounded to it.
 *
 * Code pages: a CPU that translates guest code (the x86 core) tells
 * user_code_page() which pages it took code from; one the guest may write
 * is made read-only on the host (the guest's view is unchanged), so a
 * write to it from any thread, or from the emulator itself, faults on the
 * host: user_code_fault() gives the page its write permission back and
 * has every thread drop its translations of the page (arch->code_written)
 * before the write is retried.  The page is protected again when it is
 * translated again.  mmap, munmap and mprotect forget the pages they
 * cover (their host protection is set anew) under the same lock.
 */
#include "user/user.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

bool user_mem_init(UserProc *p, GError **error)
{
    /* Guard pages above the window catch accesses that straddle its
       end.  At least 4 GiB: the x86 JIT adds any 32-bit linear address
       to guest_base (x86_user_new_model), a fault standing for #PF. */
    uint64_t size = MAX(p->arch->addr_limit, 1ull << 32) + 0x10000;
    void *base = mmap(NULL, size, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot reserve %" G_GUINT64_FORMAT " MiB of address "
                    "space for the guest: %s", size >> 20,
                    g_strerror(errno));
        return false;
    }
    p->guest_base = base;
    p->reserve_size = size;
    p->maps = g_array_new(false, true, sizeof(UserMap));
    g_mutex_init(&p->mm_lock);
    g_mutex_init(&p->code_lock);
    p->code_pages = g_hash_table_new(g_direct_hash, g_direct_equal);
    return true;
}

bool user_range_ok(UserProc *p, uint64_t addr, uint64_t len)
{
    return addr <= p->arch->addr_limit && len <= p->arch->addr_limit - addr;
}

/* Guest code is read by the interpreter, never run by the host. */
static int host_prot(int prot)
{
    return (prot & (PROT_READ | PROT_WRITE)) |
           ((prot & PROT_EXEC) ? PROT_READ : 0);
}

/* Under code_lock: the pages of [addr, addr+len) are no longer
   protected code pages (their host protection is about to be set). */
static void code_forget(UserProc *p, uint64_t addr, uint64_t len)
{
    if (!g_hash_table_size(p->code_pages)) {
        return;
    }
    for (uint64_t a = addr & ~4095ull; a < addr + len; a += 4096) {
        g_hash_table_remove(p->code_pages, GSIZE_TO_POINTER(a >> 12));
    }
}

static uint64_t page_up(uint64_t v)
{
    return (v + 4095) & ~4095ull;
}

/* Remove [start, end) from the list, splitting mappings. */
static void maps_remove(UserProc *p, uint64_t start, uint64_t end)
{
    for (guint i = 0; i < p->maps->len;) {
        UserMap *m = &g_array_index(p->maps, UserMap, i);
        if (m->end <= start || m->start >= end) {
            i++;
            continue;
        }
        if (m->start < start && m->end > end) {
            UserMap tail = *m;
            tail.start = end;
            tail.offset += end - m->start;
            tail.name = g_strdup(m->name);
            m->end = start;
            g_array_insert_val(p->maps, i + 1, tail);
            return;
        }
        if (m->start < start) {
            m->end = start;
            i++;
        } else if (m->end > end) {
            m->offset += end - m->start;
            m->start = end;
            i++;
        } else {
            g_free(m->name);
            g_array_remove_index(p->maps, i);
        }
    }
}

static void maps_add(UserProc *p, uint64_t start, uint64_t end, int prot,
                     const char *name, uint64_t off)
{
    maps_remove(p, start, end);
    guint i = 0;
    while (i < p->maps->len &&
           g_array_index(p->maps, UserMap, i).start < start) {
        i++;
    }
    UserMap m = { start, end, prot, g_strdup(name), off };
    g_array_insert_val(p->maps, i, m);
}

static bool range_free(UserProc *p, uint64_t start, uint64_t end)
{
    for (guint i = 0; i < p->maps->len; i++) {
        UserMap *m = &g_array_index(p->maps, UserMap, i);
        if (m->start < end && m->end > start) {
            return false;
        }
    }
    return true;
}

/* A free range of len bytes in [floor, top), searching down from top;
   0 if none. */
static uint64_t find_free_below(UserProc *p, uint64_t top, uint64_t floor,
                                uint64_t len)
{
    for (int i = (int)p->maps->len - 1; i >= 0; i--) {
        UserMap *m = &g_array_index(p->maps, UserMap, i);
        if (m->start >= top) {
            continue;
        }
        if (m->end <= top && top - m->end >= len && top - len >= floor) {
            return top - len;
        }
        top = m->start;
    }
    return top >= floor && top - floor >= len ? top - len : 0;
}

/* A free range of len bytes: down from mmap_top, then (the window
   reaching higher than the stack: i386's 4 GiB) down from addr_limit to
   the stack's top. */
static uint64_t find_free(UserProc *p, uint64_t len)
{
    const UserArch *a = p->arch;
    uint64_t r = find_free_below(p, a->mmap_top, 0x10000, len);
    if (!r && a->addr_limit > a->stack_top + 0x10000) {
        r = find_free_below(p, a->addr_limit, a->stack_top + 0x10000, len);
    }
    return r;
}

int64_t user_mmap(UserProc *p, uint64_t addr, uint64_t len, int prot,
                  int flags, int fd, uint64_t off, const char *name)
{
    if (len == 0) {
        return -EINVAL;
    }
    len = page_up(len);
    if (len == 0 || (addr & 4095)) {
        return -EINVAL;
    }
    g_mutex_lock(&p->mm_lock);
    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    if (!fixed && addr &&
        (!user_range_ok(p, addr, len) || !range_free(p, addr, addr + len))) {
        addr = 0;
    }
    if (!addr && !fixed) {
        addr = find_free(p, len);
        if (!addr) {
            g_mutex_unlock(&p->mm_lock);
            return -ENOMEM;
        }
    }
    if (!user_range_ok(p, addr, len)) {
        g_mutex_unlock(&p->mm_lock);
        return -ENOMEM;
    }
    if ((flags & MAP_FIXED_NOREPLACE) && !range_free(p, addr, addr + len)) {
        g_mutex_unlock(&p->mm_lock);
        return -EEXIST;
    }
    flags &= ~(MAP_FIXED_NOREPLACE | MAP_GROWSDOWN | MAP_32BIT);
    g_mutex_lock(&p->code_lock);
    code_forget(p, addr, len);
    void *h = mmap(g2h(p, addr), len, host_prot(prot), flags | MAP_FIXED, fd,
                   (off_t)off);
    g_mutex_unlock(&p->code_lock);
    if (h == MAP_FAILED) {
        int e = errno;
        g_mutex_unlock(&p->mm_lock);
        return -e;
    }
    maps_add(p, addr, addr + len, prot, name, off);
    g_mutex_unlock(&p->mm_lock);
    return (int64_t)addr;
}

int64_t user_munmap(UserProc *p, uint64_t addr, uint64_t len)
{
    if ((addr & 4095) || len == 0) {
        return -EINVAL;
    }
    len = page_up(len);
    if (!user_range_ok(p, addr, len)) {
        return -EINVAL;
    }
    g_mutex_lock(&p->mm_lock);
    /* Back to the reservation's PROT_NONE, never a hole another host
       mapping could take. */
    g_mutex_lock(&p->code_lock);
    code_forget(p, addr, len);
    mmap(g2h(p, addr), len, PROT_NONE,
         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    g_mutex_unlock(&p->code_lock);
    maps_remove(p, addr, addr + len);
    g_mutex_unlock(&p->mm_lock);
    return 0;
}

int64_t user_mprotect(UserProc *p, uint64_t addr, uint64_t len, int prot)
{
    if (addr & 4095) {
        return -EINVAL;
    }
    len = page_up(len);
    if (!user_range_ok(p, addr, len)) {
        return -ENOMEM;
    }
    g_mutex_lock(&p->mm_lock);
    g_mutex_lock(&p->code_lock);
    code_forget(p, addr, len);
    int hr = mprotect(g2h(p, addr), len, host_prot(prot));
    g_mutex_unlock(&p->code_lock);
    if (hr < 0) {
        int e = errno;
        g_mutex_unlock(&p->mm_lock);
        return -e;
    }
    for (guint i = 0; i < p->maps->len; i++) {
        UserMap *m = &g_array_index(p->maps, UserMap, i);
        if (m->start >= addr && m->end <= addr + len) {
            m->prot = prot;
        }
    }
    g_mutex_unlock(&p->mm_lock);
    return 0;
}

int64_t user_brk(UserProc *p, uint64_t addr)
{
    if (addr < p->brk_start) {
        return (int64_t)p->brk_cur;
    }
    uint64_t need = page_up(addr);
    if (need > p->brk_mapped) {
        g_mutex_lock(&p->mm_lock);
        bool ok = user_range_ok(p, p->brk_mapped, need - p->brk_mapped) &&
                  range_free(p, p->brk_mapped, need);
        g_mutex_unlock(&p->mm_lock);
        if (!ok) {
            return (int64_t)p->brk_cur;
        }
        int64_t r = user_mmap(p, p->brk_mapped, need - p->brk_mapped,
                              PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0,
                              "[heap]");
        if (r < 0) {
            return (int64_t)p->brk_cur;
        }
        p->brk_mapped = need;
    } else if (addr < p->brk_cur) {
        /* A shrinking heap reads back as zeros when it grows again. */
        memset(g2h(p, addr), 0, MIN(p->brk_cur, p->brk_mapped) - addr);
    }
    p->brk_cur = addr;
    return (int64_t)addr;
}

int64_t user_mremap(UserProc *p, uint64_t old, uint64_t oldlen,
                    uint64_t newlen, int flags)
{
    if ((old & 4095) || newlen == 0) {
        return -EINVAL;
    }
    oldlen = page_up(oldlen);
    newlen = page_up(newlen);
    if (!user_range_ok(p, old, oldlen)) {
        return -EFAULT;
    }
    if (newlen <= oldlen) {
        if (newlen < oldlen) {
            user_munmap(p, old + newlen, oldlen - newlen);
        }
        return (int64_t)old;
    }
    int prot = PROT_READ | PROT_WRITE;
    g_mutex_lock(&p->mm_lock);
    for (guint i = 0; i < p->maps->len; i++) {
        UserMap *m = &g_array_index(p->maps, UserMap, i);
        if (m->start <= old && m->end > old) {
            prot = m->prot;
        }
    }
    bool grow = user_range_ok(p, old, newlen) &&
                range_free(p, old + oldlen, old + newlen);
    g_mutex_unlock(&p->mm_lock);
    if (grow) {
        int64_t r = user_mmap(p, old + oldlen, newlen - oldlen, prot,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0,
                              NULL);
        return r < 0 ? r : (int64_t)old;
    }
    if (!(flags & MREMAP_MAYMOVE)) {
        return -ENOMEM;
    }
    int64_t n = user_mmap(p, 0, newlen, prot | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL);
    if (n < 0) {
        return n;
    }
    memcpy(g2h(p, (uint64_t)n), g2h(p, old), oldlen);
    user_mprotect(p, (uint64_t)n, newlen, prot);
    user_munmap(p, old, oldlen);
    return n;
}

char *user_maps_text(UserProc *p)
{
    GString *s = g_string_new(NULL);
    int w = p->arch->is64 ? 16 : 8;
    g_mutex_lock(&p->mm_lock);
    for (guint i = 0; i < p->maps->len; i++) {
        UserMap *m = &g_array_index(p->maps, UserMap, i);
        g_string_append_printf(s, "%0*" G_GINT64_MODIFIER "x-%0*"
                               G_GINT64_MODIFIER "x %c%c%cp %08"
                               G_GINT64_MODIFIER "x 00:00 0",
                               w, m->start, w, m->end,
                               (m->prot & PROT_READ) ? 'r' : '-',
                               (m->prot & PROT_WRITE) ? 'w' : '-',
                               (m->prot & PROT_EXEC) ? 'x' : '-', m->offset);
        if (m->name) {
            g_string_append_printf(s, "%*s%s", 10, "", m->name);
        }
        g_string_append_c(s, '\n');
    }
    g_mutex_unlock(&p->mm_lock);
    return g_string_free(s, false);
}

uint64_t user_get_ulong(UserProc *p, uint64_t addr)
{
    return p->arch->is64 ? user_get64(p, addr) : user_get32(p, addr);
}

void user_put_ulong(UserProc *p, uint64_t addr, uint64_t v)
{
    if (p->arch->is64) {
        user_put64(p, addr, v);
    } else {
        user_put32(p, addr, (uint32_t)v);
    }
}

void user_put32(UserProc *p, uint64_t addr, uint32_t v)
{
    v = ug32(p, v);
    memcpy(g2h(p, addr), &v, 4);
}

uint32_t user_get32(UserProc *p, uint64_t addr)
{
    uint32_t v;
    memcpy(&v, g2h(p, addr), 4);
    return ug32(p, v);
}

void user_put64(UserProc *p, uint64_t addr, uint64_t v)
{
    v = ug64(p, v);
    memcpy(g2h(p, addr), &v, 8);
}

uint64_t user_get64(UserProc *p, uint64_t addr)
{
    uint64_t v;
    memcpy(&v, g2h(p, addr), 8);
    return ug64(p, v);
}

bool user_addr_mapped(UserProc *p, uint64_t addr)
{
    return user_addr_prot(p, addr) >= 0;
}

/* Under mm_lock: the protection of the mapping holding addr, or -1. */
static int prot_locked(UserProc *p, uint64_t addr)
{
    for (guint i = 0; i < p->maps->len; i++) {
        UserMap *m = &g_array_index(p->maps, UserMap, i);
        if (addr >= m->start && addr < m->end) {
            return m->prot;
        }
    }
    return -1;
}

int user_addr_prot(UserProc *p, uint64_t addr)
{
    g_mutex_lock(&p->mm_lock);
    int prot = prot_locked(p, addr);
    g_mutex_unlock(&p->mm_lock);
    return prot;
}

void user_code_page(UserProc *p, uint64_t addr)
{
    uint64_t page = addr & ~4095ull;
    if (!user_range_ok(p, page, 4096)) {
        return;
    }
    /* mm_lock first (mmap takes it before code_lock) */
    g_mutex_lock(&p->mm_lock);
    int prot = prot_locked(p, page);
    if (prot >= 0 && (prot & PROT_WRITE)) {
        g_mutex_lock(&p->code_lock);
        gpointer key = GSIZE_TO_POINTER(page >> 12);
        if (!g_hash_table_contains(p->code_pages, key) &&
            mprotect(g2h(p, page), 4096, PROT_READ) == 0) {
            g_hash_table_add(p->code_pages, key);
        }
        g_mutex_unlock(&p->code_lock);
    }
    g_mutex_unlock(&p->mm_lock);
}

bool user_code_fault(UserProc *p, uint64_t addr)
{
    uint64_t page = addr & ~4095ull;
    gpointer key = GSIZE_TO_POINTER(page >> 12);
    g_mutex_lock(&p->code_lock);
    bool mine = g_hash_table_remove(p->code_pages, key);
    if (mine) {
        /* the other threads drop their blocks before the write lands */
        if (p->arch->code_written) {
            p->arch->code_written(p, page, 4096);
        }
        mprotect(g2h(p, page), 4096, PROT_READ | PROT_WRITE);
    }
    g_mutex_unlock(&p->code_lock);
    return mine;
}

void user_code_unprotect(UserProc *p, uint64_t addr, uint64_t len)
{
    if (!len || !user_range_ok(p, addr, len) ||
        !g_hash_table_size(p->code_pages)) {
        return;
    }
    for (uint64_t a = addr & ~4095ull; a < addr + len; a += 4096) {
        user_code_fault(p, a);
    }
}

bool user_debug_write(UserProc *p, uint64_t addr, const void *buf,
                      size_t len)
{
    if (!user_range_ok(p, addr, len)) {
        return false;
    }
    const uint8_t *b = buf;
    uint64_t a = addr, end = addr + len;
    while (a < end) {
        uint64_t page = a & ~4095ull;
        size_t n = (size_t)MIN(end, page + 4096) - a;
        int prot = user_addr_prot(p, page);
        if (prot < 0) {
            return false;
        }
        user_code_fault(p, page);
        if (!(prot & PROT_WRITE)) {
            g_mutex_lock(&p->code_lock);
            mprotect(g2h(p, page), 4096, PROT_READ | PROT_WRITE);
            memcpy(g2h(p, a), b, n);
            mprotect(g2h(p, page), 4096, host_prot(prot));
            g_mutex_unlock(&p->code_lock);
        } else {
            memcpy(g2h(p, a), b, n);
        }
        a += n;
        b += n;
    }
    if (p->arch->code_written) {
        p->arch->code_written(p, addr, len);
    }
    return true;
}
