/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sst-run: run the SingleStepTests 80286 real-mode cases (MOO format, see
 * /work/shared/testdata/README.md) on the x86 core.  Each case: load the
 * registers and RAM, run from CS:IP until the HLT that follows the
 * instruction (or the one in the exception handler), compare registers,
 * flags (masked with metadata.json's flags-mask and without IOPL/NT) and
 * RAM.  Prints per-opcode results and, as its last line,
 * "sst: N passed, M failed".
 *
 * Usage: sst-run [-v] DIR-or-FILE...   (exit 77 when no data is found)
 *
 * Cases where a 386-class CPU legitimately differs from the 286 are
 * excluded with a reason (see exclusion()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <glib.h>

#include "arch/x86/x86.h"

/* ---- a tiny JSON reader: flattens metadata.json into path -> value ---- */

typedef struct Json {
    const char *p;
    GHashTable *out;
} Json;

static void js_ws(Json *j)
{
    while (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t') {
        j->p++;
    }
}

static char *js_string(Json *j)
{
    GString *s = g_string_new(NULL);
    j->p++;
    while (*j->p && *j->p != '"') {
        if (*j->p == '\\' && j->p[1]) {
            j->p++;
        }
        g_string_append_c(s, *j->p++);
    }
    if (*j->p == '"') {
        j->p++;
    }
    return g_string_free(s, FALSE);
}

static void js_value(Json *j, const char *path)
{
    js_ws(j);
    if (*j->p == '{' || *j->p == '[') {
        char close = *j->p == '{' ? '}' : ']';
        bool obj = close == '}';
        int idx = 0;
        j->p++;
        for (;;) {
            js_ws(j);
            if (*j->p == close) {
                j->p++;
                return;
            }
            if (!*j->p) {
                return;
            }
            char *key;
            if (obj) {
                key = js_string(j);
                js_ws(j);
                if (*j->p == ':') {
                    j->p++;
                }
            } else {
                key = g_strdup_printf("%d", idx++);
            }
            char *sub = g_strdup_printf("%s/%s", path, key);
            js_value(j, sub);
            g_free(sub);
            g_free(key);
            js_ws(j);
            if (*j->p == ',') {
                j->p++;
            }
        }
    }
    char *v;
    if (*j->p == '"') {
        v = js_string(j);
    } else {
        const char *start = j->p;
        while (*j->p && *j->p != ',' && *j->p != '}' && *j->p != ']' &&
               *j->p != ' ' && *j->p != '\n') {
            j->p++;
        }
        v = g_strndup(start, j->p - start);
    }
    g_hash_table_insert(j->out, g_strdup(path), v);
}

/* ---- the machine ---- */

#define RAM_SIZE (16u << 20)

static int no_intr(void *opaque)
{
    return -1;
}

typedef struct Regs {
    uint16_t v[14];
    uint16_t mask;
} Regs;

enum { RG_AX, RG_BX, RG_CX, RG_DX, RG_CS, RG_SS, RG_DS, RG_ES, RG_SP, RG_BP,
       RG_SI, RG_DI, RG_IP, RG_FLAGS };
static const char *const rg_names[14] = { "ax", "bx", "cx", "dx", "cs", "ss",
                                          "ds", "es", "sp", "bp", "si", "di",
                                          "ip", "flags" };

typedef struct Case {
    char *name;
    uint8_t bytes[16];
    unsigned nbytes;
    Regs init, fina;
    GArray *ram_init; /* of RamEnt */
    GArray *ram_fina;
    bool has_excp;
    uint8_t excp_vec;
    uint32_t excp_flag_addr;
    uint8_t hash[20];
} Case;

typedef struct RamEnt {
    uint32_t addr;
    uint8_t val;
} RamEnt;

static uint32_t rd32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void parse_state(const uint8_t *p, size_t len, Regs *r, GArray *ram)
{
    size_t off = 0;
    while (off + 8 <= len) {
        uint32_t n = rd32(p + off + 4);
        const uint8_t *pl = p + off + 8;
        if (off + 8 + n > len) {
            break;
        }
        if (!memcmp(p + off, "REGS", 4) && n >= 2) {
            r->mask = pl[0] | pl[1] << 8;
            unsigned k = 2;
            for (int i = 0; i < 14; i++) {
                if ((r->mask >> i) & 1 && k + 2 <= n) {
                    r->v[i] = pl[k] | pl[k + 1] << 8;
                    k += 2;
                }
            }
        } else if (!memcmp(p + off, "RAM ", 4) && n >= 4) {
            uint32_t cnt = rd32(pl);
            for (uint32_t i = 0; i < cnt && 4 + i * 5 + 5 <= n; i++) {
                RamEnt e = { rd32(pl + 4 + i * 5), pl[8 + i * 5] };
                g_array_append_val(ram, e);
            }
        }
        off += 8 + n;
    }
}

static bool parse_case(const uint8_t *p, size_t len, Case *c)
{
    memset(c, 0, sizeof(*c));
    c->ram_init = g_array_new(FALSE, FALSE, sizeof(RamEnt));
    c->ram_fina = g_array_new(FALSE, FALSE, sizeof(RamEnt));
    size_t off = 4;
    while (off + 8 <= len) {
        uint32_t n = rd32(p + off + 4);
        const uint8_t *pl = p + off + 8;
        if (off + 8 + n > len) {
            return false;
        }
        if (!memcmp(p + off, "NAME", 4) && n >= 4) {
            uint32_t l = rd32(pl);
            c->name = g_strndup((const char *)pl + 4, MIN(l, n - 4));
        } else if (!memcmp(p + off, "BYTS", 4) && n >= 4) {
            uint32_t l = MIN(rd32(pl), 16u);
            memcpy(c->bytes, pl + 4, MIN(l, n - 4));
            c->nbytes = l;
        } else if (!memcmp(p + off, "INIT", 4)) {
            parse_state(pl, n, &c->init, c->ram_init);
        } else if (!memcmp(p + off, "FINA", 4)) {
            parse_state(pl, n, &c->fina, c->ram_fina);
        } else if (!memcmp(p + off, "EXCP", 4) && n >= 5) {
            c->has_excp = true;
            c->excp_vec = pl[0];
            c->excp_flag_addr = rd32(pl + 1);
        } else if (!memcmp(p + off, "HASH", 4) && n >= 20) {
            memcpy(c->hash, pl, 20);
        }
        off += 8 + n;
    }
    return true;
}

static void free_case(Case *c)
{
    g_free(c->name);
    g_array_free(c->ram_init, TRUE);
    g_array_free(c->ram_fina, TRUE);
}

typedef struct BufFetch {
    const uint8_t *b;
    unsigned n;
} BufFetch;

static uint32_t buf_fetch(void *ctx, uint64_t off)
{
    BufFetch *f = ctx;
    return off < f->n ? f->b[off] : 0xf4;
}

/*
 * Cases a 386-class CPU executes differently from the 286, with the
 * reason; NULL if the case must pass.
 */
static const char *exclusion(const char *op, const char *status,
                             const Case *c)
{
    if (status && !strcmp(status, "fpu")) {
        return "ESC: the 286 rig had no coprocessor; Mimic has an x87";
    }
    if (status && !strcmp(status, "undefined")) {
        return "undefined encoding: the 286 aliases it, a P6 raises #UD";
    }
    /* An instruction running past offset FFFF: the 286 wraps IP, a 386
       raises #GP for the fetch beyond the limit. */
    if ((uint32_t)c->init.v[RG_IP] + c->nbytes > 0x10000) {
        return "instruction wraps at IP FFFF (286 wraps, 386 faults)";
    }
    if (c->nbytes - 1 > 10) {
        return "longer than 10 bytes (286 raises #GP, 386+ allow 15)";
    }
    X86Insn in;
    {
        BufFetch bf = { c->bytes, c->nbytes };
        x86_decode(NULL, &in, 0, false, buf_fetch, &bf, NULL);
    }
    if ((in.op == 0x8c || in.op == 0x8e) && !in.op0f && in.reg >= 4) {
        return "FS/GS do not exist on the 286 (#UD there)";
    }
    if (c->has_excp && c->excp_vec == 13) {
        static const uint8_t stack_ops[] = {
            0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x60, 0x61, 0x68,
            0x6a, 0x8f, 0x9a, 0x9c, 0x9d, 0xc2, 0xc3, 0xc8, 0xc9, 0xca,
            0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xe8, 0xff };
        bool stack = (in.op >= 0x50 && in.op <= 0x5f) ||
                     (in.mod != 3 && in.seg == S_SS && !in.seg_ovr &&
                      in.fn != x86_op_ud);
        for (unsigned i = 0; i < sizeof(stack_ops); i++) {
            stack = stack || in.op == stack_ops[i];
        }
        if (stack) {
            return "stack access past the SS limit (286 #GP, 386+ #SS)";
        }
    }
    /* Word string access at offset FFFF: the 286 splits it across the
       wrap, a 386 faults. */
    if (((in.op >= 0xa4 && in.op <= 0xaf) || (in.op >= 0x6c &&
        in.op <= 0x6f)) && (in.op & 1) &&
        (c->init.v[RG_SI] == 0xffff || c->init.v[RG_DI] == 0xffff ||
         (in.rep && (c->init.v[RG_SI] + 2u * c->init.v[RG_CX] > 0xffff ||
                     c->init.v[RG_DI] + 2u * c->init.v[RG_CX] > 0xffff ||
                     c->init.v[RG_SI] < 2u * c->init.v[RG_CX] ||
                     c->init.v[RG_DI] < 2u * c->init.v[RG_CX])))) {
        return "word string access at offset FFFF (286 wraps, 386 faults)";
    }
    /* LOCK on an instruction that cannot be locked: the 286 ignores the
       prefix, a 386 and later raise #UD. */
    for (unsigned i = 0; i < c->nbytes; i++) {
        uint8_t b = c->bytes[i];
        if (b == 0xf0) {
            bool valid;
            x86_decode_buf(c->bytes, c->nbytes, false, &valid);
            if (!valid) {
                return "LOCK with a register or unlockable instruction "
                       "(286 ignores it, 386+ raise #UD)";
            }
            break;
        }
        if (b != 0x26 && b != 0x2e && b != 0x36 && b != 0x3e && b != 0xf2 &&
            b != 0xf3) {
            break;
        }
    }
    return NULL;
}

typedef struct Runner {
    MemMap *mem;
    uint8_t *ram;
    IoSpace *io;
    Clock *clk;
    Cpu *cpu;
    GHashTable *meta;
    GHashTable *revoked;
    bool verbose;
    int passed, failed, excluded;
} Runner;

static void set_real_seg(X86Cpu *x, int s, uint16_t sel)
{
    SegCache *sc = &x->seg[s];
    sc->sel = sel;
    sc->base = (uint32_t)sel << 4;
    sc->limit = 0xffff;
    sc->flags = s == S_CS ? 0x9b : 0x93;
    sc->lo = 0;
    sc->hi = 0xffff;
    sc->wok = sc->rok = true;
}

/* Returns true if the case passed; fills why on failure. */
static bool run_case(Runner *r, const Case *c, uint32_t fmask, GString *why)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    X86Cpu *x = (X86Cpu *)r->cpu;
    const uint16_t *iv = c->init.v;
    static const int gpr[8] = { RG_AX, RG_CX, RG_DX, RG_BX, RG_SP, RG_BP,
                                RG_SI, RG_DI };
    for (int i = 0; i < 8; i++) {
        x->regs[i] = iv[gpr[i]];
    }
    set_real_seg(x, S_ES, iv[RG_ES]);
    set_real_seg(x, S_CS, iv[RG_CS]);
    set_real_seg(x, S_SS, iv[RG_SS]);
    set_real_seg(x, S_DS, iv[RG_DS]);
    set_real_seg(x, S_FS, 0);
    set_real_seg(x, S_GS, 0);
    x->rip = iv[RG_IP];
    x->lf_op = LF_NONE;
    x->eflags = (iv[RG_FLAGS] & 0x0fd5) | 2;
    x->cr0 = 0x60000010;
    x->idt.base = 0;
    x->idt.limit = 0x3ff;
    x->halted = false;
    x->inhibit = false;
    x86_update_mode(x);
    for (guint i = 0; i < c->ram_init->len; i++) {
        RamEnt *e = &g_array_index(c->ram_init, RamEnt, i);
        uint8_t v = e->val;
        memmap_write(r->mem, e->addr & (RAM_SIZE - 1), &v, 1);
    }
    CpuExit ex;
    int64_t total = 0;
    for (int round = 0; round < 64; round++) {
        total += r->cpu->ops->run(r->cpu, 2000, &ex);
        if (ex == CPU_EXIT_HALTED || ex == CPU_EXIT_SHUTDOWN) {
            break;
        }
    }
    bool ok = true;
    if (ex != CPU_EXIT_HALTED) {
        g_string_append_printf(why, " no HLT reached (exit %d)", ex);
        ok = false;
    }
    /* The 64-bit layout's rule outside 64-bit mode: upper halves stay
       zero, R8-R15 untouched (docs/x86.md). */
    for (int i = 0; i < X86_NREGS; i++) {
        if (x->regs[i] >> 32 || (i >= 8 && x->regs[i])) {
            g_string_append_printf(why, " register %d = %016" G_GINT64_MODIFIER
                                   "x (upper half set)", i, x->regs[i]);
            ok = false;
        }
    }
    if (x->rip >> 32) {
        g_string_append(why, " RIP upper half set");
        ok = false;
    }
    uint16_t got[14];
    got[RG_AX] = x->regs[R_EAX];
    got[RG_BX] = x->regs[R_EBX];
    got[RG_CX] = x->regs[R_ECX];
    got[RG_DX] = x->regs[R_EDX];
    got[RG_SP] = x->regs[R_ESP];
    got[RG_BP] = x->regs[R_EBP];
    got[RG_SI] = x->regs[R_ESI];
    got[RG_DI] = x->regs[R_EDI];
    got[RG_CS] = x->seg[S_CS].sel;
    got[RG_SS] = x->seg[S_SS].sel;
    got[RG_DS] = x->seg[S_DS].sel;
    got[RG_ES] = x->seg[S_ES].sel;
    got[RG_IP] = x->rip;
    got[RG_FLAGS] = x86_get_eflags(x);
    for (int i = 0; i < 14; i++) {
        uint16_t want = (c->fina.mask >> i) & 1 ? c->fina.v[i] : iv[i];
        uint16_t have = got[i];
        if (i == RG_FLAGS) {
            want &= fmask & 0x0fff;
            have &= fmask & 0x0fff;
        }
        if (want != have) {
            g_string_append_printf(why, " %s=%04x want %04x", rg_names[i],
                                   have, want);
            ok = false;
        }
    }
    /* The pushed flags word of an exception frame: at SS:SP+4 after the
       push (EXCP's address is rounded down to even and so unreliable). */
    uint16_t fss = (c->fina.mask >> RG_SS) & 1 ? c->fina.v[RG_SS]
                                               : iv[RG_SS];
    uint16_t fsp = (c->fina.mask >> RG_SP) & 1 ? c->fina.v[RG_SP]
                                               : iv[RG_SP];
    uint32_t flag_addr = ((uint32_t)fss << 4) + ((fsp + 4) & 0xffff);
    uint32_t flag_addr2 = ((uint32_t)fss << 4) + ((fsp + 5) & 0xffff);
    for (guint i = 0; i < c->ram_fina->len; i++) {
        RamEnt *e = &g_array_index(c->ram_fina, RamEnt, i);
        uint8_t v;
        memmap_read(r->mem, e->addr & (RAM_SIZE - 1), &v, 1);
        uint8_t want = e->val;
        if (c->has_excp && (e->addr == flag_addr || e->addr == flag_addr2)) {
            uint16_t m = (fmask & 0x0fff) >> (e->addr == flag_addr ? 0 : 8);
            v &= m;
            want &= m;
        }
        if (v != want) {
            g_string_append_printf(why, " [%05x]=%02x want %02x", e->addr, v,
                                   want);
            ok = false;
        }
    }
    /* Clean the RAM for the next case. */
    static const uint8_t zero;
    for (guint i = 0; i < c->ram_init->len; i++) {
        RamEnt *e = &g_array_index(c->ram_init, RamEnt, i);
        memmap_write(r->mem, e->addr & (RAM_SIZE - 1), &zero, 1);
    }
    for (guint i = 0; i < c->ram_fina->len; i++) {
        RamEnt *e = &g_array_index(c->ram_fina, RamEnt, i);
        memmap_write(r->mem, e->addr & (RAM_SIZE - 1), &zero, 1);
    }
    return ok;
}

static const char *meta_get(Runner *r, const char *op, const char *reg,
                            const char *field)
{
    char *k = reg ? g_strdup_printf("/opcodes/%s/reg/%s/%s", op, reg, field)
                  : g_strdup_printf("/opcodes/%s/%s", op, field);
    const char *v = g_hash_table_lookup(r->meta, k);
    g_free(k);
    return v;
}

static void run_file(Runner *r, const char *path)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        fprintf(stderr, "sst: cannot open %s\n", path);
        r->failed++;
        return;
    }
    GByteArray *buf = g_byte_array_new();
    uint8_t tmp[65536];
    int n;
    while ((n = gzread(gz, tmp, sizeof(tmp))) > 0) {
        g_byte_array_append(buf, tmp, n);
    }
    gzclose(gz);
    char *base = g_path_get_basename(path);
    char *op = g_strdup(base);
    char *dot = strchr(op, '.');
    *dot = 0;
    char *reg = NULL;
    if (g_ascii_isdigit(dot[1]) && dot[2] == '.') {
        reg = g_strndup(dot + 1, 1);
    }
    const char *status = meta_get(r, op, reg, "status");
    const char *fm = meta_get(r, op, reg, "flags-mask");
    uint32_t fmask = fm ? strtoul(fm, NULL, 10) : 0xffff;
    int pass = 0, fail = 0, excl = 0;
    const char *excl_reason = NULL;
    size_t off = 0;
    const uint8_t *p = buf->data;
    while (off + 8 <= buf->len) {
        uint32_t len = rd32(p + off + 4);
        if (off + 8 + len > buf->len) {
            break;
        }
        if (!memcmp(p + off, "TEST", 4)) {
            Case c;
            parse_case(p + off + 8, len, &c);
            char hex[41];
            for (int i = 0; i < 20; i++) {
                snprintf(hex + 2 * i, 3, "%02x", c.hash[i]);
            }
            const char *why_ex = exclusion(op, status, &c);
            uint32_t cmask = fmask;
            if (c.has_excp && c.excp_vec == 0) {
                /* #DE: the flags pushed are undefined (the 286 leaves
                   intermediate results in them). */
                cmask &= ~0x8d5u;
            }
            if (g_hash_table_contains(r->revoked, hex)) {
                why_ex = "revoked";
            }
            if (why_ex) {
                excl++;
                excl_reason = why_ex;
            } else {
                GString *why = g_string_new(NULL);
                if (run_case(r, &c, cmask, why)) {
                    pass++;
                } else {
                    fail++;
                    if (r->verbose || fail <= 2) {
                        printf("  FAIL %s (%s):%s\n", base,
                               c.name ? c.name : "?", why->str);
                    }
                }
                g_string_free(why, TRUE);
            }
            free_case(&c);
        }
        off += 8 + len;
    }
    printf("%-14s %4d passed %4d failed", base, pass, fail);
    if (excl) {
        printf(" %4d excluded (%s)", excl, excl_reason);
    }
    printf("\n");
    r->passed += pass;
    r->failed += fail;
    r->excluded += excl;
    g_free(reg);
    g_free(op);
    g_free(base);
    g_byte_array_free(buf, TRUE);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    Runner r = { 0 };
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    char *metadir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) {
            r.verbose = true;
            continue;
        }
        if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            GDir *d = g_dir_open(argv[i], 0, NULL);
            const char *name;
            GPtrArray *names = g_ptr_array_new();
            while (d && (name = g_dir_read_name(d))) {
                if (g_str_has_suffix(name, ".MOO.gz")) {
                    g_ptr_array_add(names, g_build_filename(argv[i], name,
                                                            NULL));
                }
            }
            if (d) {
                g_dir_close(d);
            }
            g_ptr_array_sort(names, cmp_str);
            for (guint k = 0; k < names->len; k++) {
                g_ptr_array_add(files, names->pdata[k]);
            }
            g_ptr_array_free(names, TRUE);
            if (!metadir) {
                metadir = g_path_get_dirname(argv[i]);
            }
        } else if (g_file_test(argv[i], G_FILE_TEST_EXISTS)) {
            g_ptr_array_add(files, g_strdup(argv[i]));
            if (!metadir) {
                char *d = g_path_get_dirname(argv[i]);
                metadir = g_path_get_dirname(d);
                g_free(d);
            }
        }
    }
    if (files->len == 0) {
        printf("sst: *** no SingleStepTests data found: SKIPPED ***\n");
        return 77;
    }
    r.meta = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    r.revoked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char *mpath = g_build_filename(metadir, "metadata.json", NULL);
    char *text;
    if (g_file_get_contents(mpath, &text, NULL, NULL)) {
        Json j = { text, r.meta };
        js_value(&j, "");
        g_free(text);
    } else {
        printf("sst: warning: %s not found, flags compared unmasked\n",
               mpath);
    }
    char *rpath = g_build_filename(metadir, "revocation_list.txt", NULL);
    if (g_file_get_contents(rpath, &text, NULL, NULL)) {
        char **lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
            g_strstrip(*l);
            if (**l && **l != '#') {
                g_hash_table_add(r.revoked, g_ascii_strdown(*l, -1));
            }
        }
        g_strfreev(lines);
        g_free(text);
    }

    r.mem = memmap_new();
    r.ram = g_malloc0(RAM_SIZE);
    memmap_add_ram(r.mem, "ram", 0, RAM_SIZE, r.ram, 0);
    r.io = ioport_new();
    r.clk = clock_new(CLOCK_MODE_ICOUNT, 0);
    CpuWiring bus = { .mem = r.mem, .io = r.io, .clock = r.clk,
                   .intr_ack = no_intr };
    const CpuOps *ops = cpu_find("pentium2");
    GError *err = NULL;
    r.cpu = ops->create(&bus, &err);
    for (guint i = 0; i < files->len; i++) {
        run_file(&r, files->pdata[i]);
    }
    printf("sst: %d excluded\n", r.excluded);
    printf("sst: %d passed, %d failed\n", r.passed, r.failed);
    return r.failed ? 1 : 0;
}
