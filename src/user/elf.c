/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ELF loader of user mode: the program's PT_LOAD segments, its
 * PT_INTERP (the dynamic loader, looked up under the -L sysroot first),
 * and the initial stack: argc, argv, envp and the auxiliary vector.
 *
 * The vDSO (when the architecture has one) is a one-page ELF shared
 * object built here around the architecture's code: a PT_LOAD and a
 * PT_DYNAMIC with a SysV hash table, symbol and string tables (no
 * versions: glibc accepts unversioned symbols), linked at 0 as Linux's.
 *
 * Reference: System V ABI ("Program Loading", "Process Initialization",
 * "Dynamic Section", "Hash Table");
 * the ELF headers are read field by field in the file's byte order with
 * every offset and size checked against the file and the guest window, so
 * a malformed file is one clear error, never a host fault.
 */
#include "user/user.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PT_LOAD 1
#define PT_INTERP 3
#define PT_PHDR 6
#define PF_X 1
#define PF_W 2
#define PF_R 4

enum {
    AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6,
    AT_BASE = 7, AT_FLAGS = 8, AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12,
    AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16,
    AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26,
    AT_EXECFN = 31, AT_SYSINFO = 32, AT_SYSINFO_EHDR = 33,
};

#define MAX_PHNUM 256

typedef struct Phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz, align;
} Phdr;

typedef struct Elf {
    const char *path;
    int fd;
    uint64_t size;
    bool is64, be;
    uint16_t type, machine, phnum, phentsize;
    uint32_t flags;
    uint64_t entry, phoff;
    Phdr ph[MAX_PHNUM];
} Elf;

static uint16_t rd16(const Elf *e, const uint8_t *b)
{
    return e->be ? (uint16_t)(b[0] << 8 | b[1]) : (uint16_t)(b[1] << 8 | b[0]);
}

static uint32_t rd32(const Elf *e, const uint8_t *b)
{
    return e->be ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                       (uint32_t)b[2] << 8 | b[3]
                 : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 |
                       (uint32_t)b[1] << 8 | b[0];
}

static uint64_t rd64(const Elf *e, const uint8_t *b)
{
    uint64_t hi = rd32(e, e->be ? b : b + 4), lo = rd32(e, e->be ? b + 4 : b);
    return hi << 32 | lo;
}

static bool fail(GError **error, const char *path, const char *what)
{
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: %s", path,
                what);
    return false;
}

static bool read_at(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (uint8_t *)buf + done, len - done,
                          (off_t)(off + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        done += (size_t)n;
    }
    return true;
}

/* Open and check the headers of an ELF file for this architecture. */
static bool elf_open(UserProc *p, Elf *e, const char *path, GError **error)
{
    const UserArch *a = p->arch;
    uint8_t h[64];
    struct stat st;

    memset(e, 0, sizeof(*e));
    e->path = path;
    e->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (e->fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "%s: %s", path, g_strerror(errno));
        return false;
    }
    if (fstat(e->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        return fail(error, path, "not a regular file");
    }
    e->size = (uint64_t)st.st_size;
    if (e->size < 52 || !read_at(e->fd, h, MIN(e->size, 64), 0) ||
        memcmp(h, "\177ELF", 4)) {
        return fail(error, path, "not an ELF file");
    }
    e->is64 = h[4] == 2;
    e->be = h[5] == 2;
    if ((h[4] != 1 && h[4] != 2) || (h[5] != 1 && h[5] != 2)) {
        return fail(error, path, "not an ELF file (bad class or data)");
    }
    e->type = rd16(e, h + 16);
    e->machine = rd16(e, h + 18);
    if (e->machine != a->e_machine || e->is64 != a->is64 ||
        e->be != a->big_endian) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: ELF file for another architecture (machine %u, "
                    "%d-bit, %s-endian), not %s", path, e->machine,
                    e->is64 ? 64 : 32, e->be ? "big" : "little", a->name);
        return false;
    }
    if (e->type != 2 && e->type != 3) {
        return fail(error, path, "not an executable or shared object");
    }
    if (e->is64) {
        if (e->size < 64) {
            return fail(error, path, "truncated ELF header");
        }
        e->entry = rd64(e, h + 24);
        e->phoff = rd64(e, h + 32);
        e->flags = rd32(e, h + 48);
        e->phentsize = rd16(e, h + 54);
        e->phnum = rd16(e, h + 56);
    } else {
        e->entry = rd32(e, h + 24);
        e->phoff = rd32(e, h + 28);
        e->flags = rd32(e, h + 36);
        e->phentsize = rd16(e, h + 42);
        e->phnum = rd16(e, h + 44);
    }
    const char *why = NULL;
    if (a->elf_ok && !a->elf_ok(e->flags, &why)) {
        return fail(error, path, why);
    }
    unsigned want = e->is64 ? 56 : 32;
    if (e->phentsize != want || e->phnum == 0 || e->phnum > MAX_PHNUM) {
        return fail(error, path, "bad program header table");
    }
    if (e->phoff > e->size ||
        e->size - e->phoff < (uint64_t)e->phnum * e->phentsize) {
        return fail(error, path, "truncated ELF file (program headers)");
    }
    uint8_t *buf = g_malloc((size_t)e->phnum * e->phentsize);
    if (!read_at(e->fd, buf, (size_t)e->phnum * e->phentsize, e->phoff)) {
        g_free(buf);
        return fail(error, path, "cannot read the program headers");
    }
    for (unsigned i = 0; i < e->phnum; i++) {
        const uint8_t *b = buf + i * e->phentsize;
        Phdr *ph = &e->ph[i];
        ph->type = rd32(e, b);
        if (e->is64) {
            ph->flags = rd32(e, b + 4);
            ph->offset = rd64(e, b + 8);
            ph->vaddr = rd64(e, b + 16);
            ph->filesz = rd64(e, b + 32);
            ph->memsz = rd64(e, b + 40);
            ph->align = rd64(e, b + 48);
        } else {
            ph->offset = rd32(e, b + 4);
            ph->vaddr = rd32(e, b + 8);
            ph->filesz = rd32(e, b + 16);
            ph->memsz = rd32(e, b + 20);
            ph->flags = rd32(e, b + 24);
            ph->align = rd32(e, b + 28);
        }
    }
    g_free(buf);
    return true;
}

/* Map the PT_LOAD segments at bias; returns the end of the image. */
static bool elf_map(UserProc *p, Elf *e, uint64_t *bias_out,
                    uint64_t *end_out, GError **error)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    unsigned nload = 0;

    for (unsigned i = 0; i < e->phnum; i++) {
        Phdr *ph = &e->ph[i];
        if (ph->type != PT_LOAD) {
            continue;
        }
        nload++;
        if (ph->filesz > ph->memsz) {
            return fail(error, e->path, "bad PT_LOAD (file size > memory "
                        "size)");
        }
        if (ph->offset > e->size || e->size - ph->offset < ph->filesz) {
            return fail(error, e->path, "truncated ELF file (a PT_LOAD "
                        "segment lies past its end)");
        }
        if (ph->memsz > p->arch->addr_limit ||
            ph->vaddr > p->arch->addr_limit - ph->memsz) {
            return fail(error, e->path, "PT_LOAD segment does not fit in "
                        "the guest address space");
        }
        if ((ph->vaddr & 4095) != (ph->offset & 4095)) {
            return fail(error, e->path, "misaligned PT_LOAD segment");
        }
        lo = MIN(lo, ph->vaddr & ~4095ull);
        hi = MAX(hi, ph->vaddr + ph->memsz);
    }
    if (!nload) {
        return fail(error, e->path, "no PT_LOAD segment");
    }
    uint64_t bias = 0;
    uint64_t span = ((hi + 4095) & ~4095ull) - lo;
    if (e->type == 3) {
        /* ET_DYN: somewhere free (the interpreter, a PIE). */
        int64_t r = user_mmap(p, 0, span, PROT_NONE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL);
        if (r < 0) {
            return fail(error, e->path, "no room in the guest address "
                        "space");
        }
        bias = (uint64_t)r - lo;
    }
    /* Map every page of the image read/write (segments may share a
       page), read the file parts, then give each page its protection (the
       union where two segments share it). */
    uint64_t mapped_end = 0;
    for (unsigned i = 0; i < e->phnum; i++) {
        Phdr *ph = &e->ph[i];
        if (ph->type != PT_LOAD || !ph->memsz) {
            continue;
        }
        uint64_t start = (bias + ph->vaddr) & ~4095ull;
        uint64_t end = (bias + ph->vaddr + ph->memsz + 4095) & ~4095ull;
        if (start < mapped_end) {
            start = mapped_end;
        }
        if (end > start &&
            user_mmap(p, start, end - start, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0,
                      e->path) < 0) {
            return fail(error, e->path, "cannot map a PT_LOAD segment");
        }
        mapped_end = MAX(mapped_end, end);
    }
    for (unsigned i = 0; i < e->phnum; i++) {
        Phdr *ph = &e->ph[i];
        if (ph->type == PT_LOAD && ph->filesz &&
            !read_at(e->fd, g2h(p, bias + ph->vaddr), ph->filesz,
                     ph->offset)) {
            return fail(error, e->path, "cannot read a PT_LOAD segment");
        }
    }
    uint64_t prev_end = 0;
    int prev_prot = 0;
    for (unsigned i = 0; i < e->phnum; i++) {
        Phdr *ph = &e->ph[i];
        if (ph->type != PT_LOAD || !ph->memsz) {
            continue;
        }
        uint64_t start = (bias + ph->vaddr) & ~4095ull;
        uint64_t end = (bias + ph->vaddr + ph->memsz + 4095) & ~4095ull;
        int prot = ((ph->flags & PF_R) ? PROT_READ : 0) |
                   ((ph->flags & PF_W) ? PROT_WRITE : 0) |
                   ((ph->flags & PF_X) ? PROT_EXEC : 0);
        user_mprotect(p, start, end - start, prot);
        if (start < prev_end) {
            user_mprotect(p, start, 4096, prot | prev_prot);
        }
        prev_end = end;
        prev_prot = prot;
    }
    *bias_out = bias;
    *end_out = bias + hi;
    return true;
}

static uint64_t phdr_addr(Elf *e, uint64_t bias)
{
    for (unsigned i = 0; i < e->phnum; i++) {
        if (e->ph[i].type == PT_PHDR) {
            return e->ph[i].vaddr + bias;
        }
    }
    for (unsigned i = 0; i < e->phnum; i++) {
        Phdr *ph = &e->ph[i];
        if (ph->type == PT_LOAD && ph->offset <= e->phoff &&
            e->phoff - ph->offset < ph->filesz) {
            return ph->vaddr + bias + (e->phoff - ph->offset);
        }
    }
    return 0;
}

/* The interpreter's name from PT_INTERP (bounded, NUL-terminated). */
static char *elf_interp(Elf *e, GError **error)
{
    for (unsigned i = 0; i < e->phnum; i++) {
        Phdr *ph = &e->ph[i];
        if (ph->type != PT_INTERP) {
            continue;
        }
        if (ph->filesz < 2 || ph->filesz > 4096 || ph->offset > e->size ||
            e->size - ph->offset < ph->filesz) {
            fail(error, e->path, "bad PT_INTERP");
            return (char *)-1;
        }
        char *s = g_malloc0(ph->filesz + 1);
        /* as Linux: the segment's last byte must be the NUL */
        if (!read_at(e->fd, s, ph->filesz, ph->offset) ||
            s[ph->filesz - 1] != 0 || !s[0]) {
            g_free(s);
            fail(error, e->path, "bad PT_INTERP");
            return (char *)-1;
        }
        return s;
    }
    return NULL;
}

/* Stack building: strings from the top, then the vectors. */
typedef struct Stack {
    UserProc *p;
    uint64_t sp;
} Stack;

static uint64_t push_bytes(Stack *s, const void *data, size_t len)
{
    s->sp -= len;
    memcpy(g2h(s->p, s->sp), data, len);
    return s->sp;
}

/* The vDSO's layout (offsets into its page; ELF32 or ELF64 as the
   arch's programs). */
#define VD_CODE 0x400
#define DT_NULL 0
#define DT_HASH 4
#define DT_STRTAB 5
#define DT_SYMTAB 6
#define DT_STRSZ 10
#define DT_SYMENT 11
#define DT_SONAME 14

/* A field of the vDSO's ELF structures, in the guest's byte order. */
static void vd_put(UserProc *p, uint64_t addr, uint64_t v, unsigned size)
{
    if (size == 8) {
        user_put64(p, addr, v);
    } else if (size == 4) {
        user_put32(p, addr, (uint32_t)v);
    } else if (size == 2) {
        uint16_t x = ug16(p, (uint16_t)v);
        memcpy(g2h(p, addr), &x, 2);
    } else {
        *(uint8_t *)g2h(p, addr) = (uint8_t)v;
    }
}

/* Map and build the vDSO; its address, 0 if none (or no room). */
static uint64_t map_vdso(UserProc *p, uint64_t *sysinfo)
{
    const UserArch *a = p->arch;
    bool w = a->is64;
    unsigned n = a->vdso_nsyms + 1; /* symbol 0 is STN_UNDEF */
    unsigned wsz = w ? 8 : 4, ehsz = w ? 64 : 52, phsz = w ? 56 : 32,
             symsz = w ? 24 : 16, dynsz = w ? 16 : 8;
    uint32_t vd_phdr = ehsz, vd_dyn = w ? 192 : 128, vd_hash = w ? 320 : 192;
    uint64_t v = a->vdso_addr;
    *sysinfo = 0;
    if (!a->vdso_code || vd_hash + (3 + n) * 4 + n * symsz > VD_CODE ||
        VD_CODE + a->vdso_code_len > 4096 ||
        user_mmap(p, v, 4096, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0,
                  "[vdso]") < 0) {
        return 0;
    }
    uint8_t *h = g2h(p, v);
    uint32_t symtab = vd_hash + (3 + n) * 4, strtab = symtab + n * symsz;
    /* the string table: "", the soname, the symbol names */
    GString *str = g_string_new(NULL);
    if (w) {
        g_string_append_len(str, "\0linux-vdso.so.1", 17);
    } else {
        g_string_append_len(str, "\0linux-gate.so.1", 17);
    }
    uint32_t soname = 1;
    g_string_append_c(str, 0);
    for (unsigned i = 1; i < n; i++) {
        const UserVdsoSym *sy = &a->vdso_syms[i - 1];
        uint64_t y = v + symtab + i * symsz;
        vd_put(p, y, str->len, 4);                      /* st_name */
        /* st_value, st_size, st_info (GLOBAL FUNC), st_other, st_shndx
           (1: defined in the object, relative to its load address; not
           SHN_ABS, whose value glibc takes as absolute) */
        vd_put(p, y + (w ? 8 : 4), VD_CODE + sy->off, wsz);
        vd_put(p, y + (w ? 16 : 8), 0, wsz);
        vd_put(p, y + (w ? 4 : 12), 0x12, 1);
        vd_put(p, y + (w ? 5 : 13), 0, 1);
        vd_put(p, y + (w ? 6 : 14), 1, 2);
        g_string_append(str, sy->name);
        g_string_append_c(str, 0);
        if ((int)i - 1 == a->vdso_sysinfo) {
            *sysinfo = v + VD_CODE + sy->off;
        }
    }
    if (strtab + str->len > VD_CODE) {
        g_string_free(str, true);
        user_munmap(p, v, 4096);
        return 0;
    }
    memcpy(h + strtab, str->str, str->len);
    /* the hash table: one bucket, every symbol in its chain */
    user_put32(p, v + vd_hash, 1);
    user_put32(p, v + vd_hash + 4, n);
    user_put32(p, v + vd_hash + 8, n - 1);
    for (unsigned i = 0; i < n; i++) {
        user_put32(p, v + vd_hash + 12 + i * 4, i ? i - 1 : 0);
    }
    const uint32_t dyn[][2] = {
        { DT_HASH, vd_hash }, { DT_STRTAB, strtab }, { DT_SYMTAB, symtab },
        { DT_STRSZ, (uint32_t)str->len }, { DT_SYMENT, symsz },
        { DT_SONAME, soname }, { DT_NULL, 0 },
    };
    g_string_free(str, true);
    for (unsigned i = 0; i < G_N_ELEMENTS(dyn); i++) {
        vd_put(p, v + vd_dyn + i * dynsz, dyn[i][0], wsz);
        vd_put(p, v + vd_dyn + i * dynsz + wsz, dyn[i][1], wsz);
    }
    /* program headers: PT_LOAD (the page, R+X), PT_DYNAMIC; as ELF32's
       fields (type, offset, vaddr, paddr, filesz, memsz, flags, align):
       ELF64 moves flags to the second place */
    const uint32_t ph[2][8] = {
        { PT_LOAD, 0, 0, 0, 4096, 4096, PF_R | PF_X, 4096 },
        { 2 /* PT_DYNAMIC */, vd_dyn, vd_dyn, vd_dyn,
          G_N_ELEMENTS(dyn) * dynsz, G_N_ELEMENTS(dyn) * dynsz, PF_R,
          wsz },
    };
    for (unsigned i = 0; i < 2; i++) {
        uint64_t o = v + vd_phdr + i * phsz;
        if (w) {
            vd_put(p, o, ph[i][0], 4);
            vd_put(p, o + 4, ph[i][6], 4);
            for (unsigned k = 1; k < 6; k++) {
                vd_put(p, o + k * 8, ph[i][k], 8);
            }
            vd_put(p, o + 48, ph[i][7], 8);
        } else {
            for (unsigned k = 0; k < 8; k++) {
                vd_put(p, o + k * 4, ph[i][k], 4);
            }
        }
    }
    /* the ELF header: ET_DYN, no sections */
    static const uint8_t ident[16] = { 0x7f, 'E', 'L', 'F', 1, 0, 1, 0 };
    memcpy(h, ident, 16);
    h[4] = w ? 2 : 1;
    h[5] = a->big_endian ? 2 : 1;
    vd_put(p, v + 16, 3 /* ET_DYN */, 2);
    vd_put(p, v + 18, a->e_machine, 2);
    vd_put(p, v + 20, 1, 4);                      /* e_version */
    vd_put(p, v + 24, 0, wsz);                    /* e_entry */
    vd_put(p, v + 24 + wsz, vd_phdr, wsz);        /* e_phoff */
    vd_put(p, v + 24 + 2 * wsz, 0, wsz);          /* e_shoff */
    vd_put(p, v + 24 + 3 * wsz, 0, 4);            /* e_flags */
    const uint16_t sizes[] = { ehsz, phsz, 2, w ? 64 : 40, 0, 0 };
    for (unsigned i = 0; i < G_N_ELEMENTS(sizes); i++) {
        vd_put(p, v + 28 + 3 * wsz + i * 2, sizes[i], 2);
    }
    memcpy(h + VD_CODE, a->vdso_code, a->vdso_code_len);
    user_mprotect(p, v, 4096, PROT_READ | PROT_EXEC);
    return v;
}

bool user_load(UserProc *p, const char *path, char **argv, char **envp,
               const char *argv0, uint64_t *pc, uint64_t *sp,
               GError **error)
{
    const UserArch *a = p->arch;
    Elf *e = g_new(Elf, 1), *ie = NULL;
    uint64_t bias = 0, end = 0, ibias = 0, iend = 0;
    bool ok = false;
    char *interp = NULL;

    if (!elf_open(p, e, path, error) || !elf_map(p, e, &bias, &end, error)) {
        goto out;
    }
    interp = elf_interp(e, error);
    if (interp == (char *)-1) {
        interp = NULL;
        goto out;
    }
    *pc = e->entry + bias;
    if (interp) {
        char *ipath = p->sysroot ? user_sysroot_path(p, interp) : NULL;
        if (!ipath) {
            ipath = p->sysroot ? g_build_filename(p->sysroot, interp, NULL)
                               : g_strdup(interp);
        }
        ie = g_new(Elf, 1);
        GError *err = NULL;
        bool iok = elf_open(p, ie, ipath, &err) &&
                   elf_map(p, ie, &ibias, &iend, &err);
        if (!iok) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                        "%s: interpreter %s", path, err->message);
            g_error_free(err);
            g_free(ipath);
            goto out;
        }
        g_free(ipath);
        *pc = ie->entry + ibias;
        p->interp_base = ibias;
    }
    /* MIPS: the FP ABI of .MIPS.abiflags picks the FPU register mode. */
    for (unsigned i = 0; i < e->phnum; i++) {
        uint8_t af[24];
        if (e->ph[i].type == 0x70000003 && e->ph[i].filesz >= 24 &&
            e->ph[i].offset <= e->size - 24 &&
            read_at(e->fd, af, 24, e->ph[i].offset)) {
            p->fp_abi = af[7];
        }
    }
    p->entry = e->entry + bias;
    p->phdr = phdr_addr(e, bias);
    p->phnum = e->phnum;
    p->phent = e->phentsize;
    p->brk_start = p->brk_cur = p->brk_mapped = (end + 4095) & ~4095ull;

    /* The stack: 8 MiB below stack_top. */
    uint64_t ssize = 8u << 20;
    if (user_mmap(p, a->stack_top - ssize, ssize, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0,
                  "[stack]") < 0) {
        fail(error, path, "cannot map the stack");
        goto out;
    }
    Stack s = { p, a->stack_top - 16 };
    unsigned w = a->is64 ? 8 : 4;
    int argc = g_strv_length(argv), envc = g_strv_length(envp);
    uint64_t execfn = push_bytes(&s, path, strlen(path) + 1);
    uint64_t *av = g_new(uint64_t, argc + 1), *ev = g_new(uint64_t, envc + 1);
    for (int i = argc - 1; i >= 0; i--) {
        const char *str = (i == 0 && argv0) ? argv0 : argv[i];
        av[i] = push_bytes(&s, str, strlen(str) + 1);
    }
    for (int i = envc - 1; i >= 0; i--) {
        ev[i] = push_bytes(&s, envp[i], strlen(envp[i]) + 1);
    }
    uint64_t plat = push_bytes(&s, a->platform, strlen(a->platform) + 1);
    uint8_t rnd[16];
    for (int i = 0; i < 16; i++) {
        rnd[i] = (uint8_t)g_random_int();
    }
    s.sp &= ~15ull;
    uint64_t random = push_bytes(&s, rnd, 16);
    uint64_t sysinfo;
    uint64_t vdso = map_vdso(p, &sysinfo);
    uint64_t aux[][2] = {
        /* AT_IGNORE (1, left out) where there is no vDSO */
        { sysinfo ? AT_SYSINFO : 1, sysinfo },
        { vdso ? AT_SYSINFO_EHDR : 1, vdso },
        { AT_PHDR, p->phdr }, { AT_PHENT, p->phent },
        { AT_PHNUM, p->phnum }, { AT_PAGESZ, a->page_size },
        { AT_BASE, ie ? ibias : 0 }, { AT_FLAGS, 0 },
        { AT_ENTRY, p->entry }, { AT_UID, getuid() }, { AT_EUID, geteuid() },
        { AT_GID, getgid() }, { AT_EGID, getegid() },
        { AT_HWCAP, a->hwcap }, { AT_CLKTCK, 100 }, { AT_SECURE, 0 },
        { AT_RANDOM, random }, { AT_PLATFORM, plat },
        { AT_EXECFN, execfn }, { AT_NULL, 0 },
    };
    size_t naux = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(aux); i++) {
        if (aux[i][0] != 1) {
            aux[naux][0] = aux[i][0];
            aux[naux++][1] = aux[i][1];
        }
    }
    size_t nwords = 1 + argc + 1 + envc + 1 + naux * 2;
    s.sp -= nwords * w;
    s.sp &= ~15ull;
    uint64_t q = s.sp;
    user_put_ulong(p, q, argc);
    q += w;
    for (int i = 0; i < argc; i++, q += w) {
        user_put_ulong(p, q, av[i]);
    }
    user_put_ulong(p, q, 0);
    q += w;
    for (int i = 0; i < envc; i++, q += w) {
        user_put_ulong(p, q, ev[i]);
    }
    user_put_ulong(p, q, 0);
    q += w;
    for (size_t i = 0; i < naux; i++) {
        user_put_ulong(p, q, aux[i][0]);
        user_put_ulong(p, q + w, aux[i][1]);
        q += 2 * w;
    }
    g_free(av);
    g_free(ev);
    *sp = s.sp;
    ok = true;
out:
    if (e->fd > 0) {
        close(e->fd);
    }
    if (ie && ie->fd > 0) {
        close(ie->fd);
    }
    g_free(e);
    g_free(ie);
    g_free(interp);
    return ok;
}
