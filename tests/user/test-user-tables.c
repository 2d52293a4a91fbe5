/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 user-mode tables against the host's own, an x86-64 Linux:
 * the i386 and x86-64 system call numbers against the kernel headers'
 * <asm/unistd_32.h> and <asm/unistd_64.h> (read as text: they define the
 * same names); x86-64's struct stat from fstat/stat/newfstatat through
 * the user layer, byte for byte the host's; and ELF64 loading: the test
 * program itself (a PIE with PT_INTERP) loaded for the x86-64 table, its
 * initial stack's argv and auxiliary vector.
 */
#include "user/user.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Names the kernel headers spell differently: the generic call the
   number runs is the header's call of another name. */
static const char *header_name(const UserArch *a, const char *n)
{
    static const struct { const char *arch, *name, *header; } alias[] = {
        { "i386", "getrlimit", "ugetrlimit" }, /* 191: unsigned limits */
        { "x86_64", "_newselect", "select" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(alias); i++) {
        if (!strcmp(a->name, alias[i].arch) && !strcmp(n, alias[i].name)) {
            return alias[i].header;
        }
    }
    return n;
}

static GHashTable *read_header(const char *file)
{
    const char *dirs[] = { "/usr/include/x86_64-linux-gnu/asm",
                           "/usr/include/asm" };
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          NULL);
    for (size_t d = 0; d < G_N_ELEMENTS(dirs); d++) {
        g_autofree char *path = g_build_filename(dirs[d], file, NULL);
        g_autofree char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL)) {
            continue;
        }
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
            char name[64];
            unsigned nr;
            if (sscanf(*l, "#define __NR_%63s %u", name, &nr) == 2) {
                g_hash_table_insert(h, g_strdup(name),
                                    GUINT_TO_POINTER(nr + 1));
            }
        }
        break;
    }
    g_assert_cmpuint(g_hash_table_size(h), >, 300);
    return h;
}

static void check_numbers(const UserArch *a, const char *file)
{
    GHashTable *h = read_header(file);
    for (size_t i = 0; i < a->n_syscalls; i++) {
        const char *name = header_name(a, user_sys_name(a->syscalls[i].sys));
        gpointer v = g_hash_table_lookup(h, name);
        /* i386's 32-bit-uid calls (lchown32...) run the generic ones */
        g_autofree char *n32 = g_strconcat(name, "32", NULL);
        gpointer v32 = g_hash_table_lookup(h, n32);
        if (v32 && GPOINTER_TO_UINT(v32) - 1 == a->syscalls[i].nr) {
            v = v32;
        }
        if (!v) {
            g_test_message("%s: %s (%u) is not in %s", a->name, name,
                           a->syscalls[i].nr, file);
        }
        g_assert_nonnull(v);
        if (GPOINTER_TO_UINT(v) - 1 != a->syscalls[i].nr) {
            g_test_message("%s: %s is %u, the header says %u", a->name,
                           name, a->syscalls[i].nr, GPOINTER_TO_UINT(v) - 1);
        }
        g_assert_cmpuint(GPOINTER_TO_UINT(v) - 1, ==, a->syscalls[i].nr);
    }
    g_hash_table_destroy(h);
}

static void test_i386_numbers(void)
{
    check_numbers(&user_arch_i386, "unistd_32.h");
}

static void test_x86_64_numbers(void)
{
    check_numbers(&user_arch_x86_64, "unistd_64.h");
}

static UserThread *new_proc(const UserArch *a)
{
    UserProc *p = g_new0(UserProc, 1);
    p->arch = a;
    GError *err = NULL;
    g_assert_true(user_mem_init(p, &err));
    UserThread *t = g_new0(UserThread, 1);
    t->proc = p;
    t->tid = getpid();
    p->main = t;
    user_the_proc = p;
    user_self = t;
    return t;
}

static void free_proc(UserThread *t)
{
    UserProc *p = t->proc;
    munmap(p->guest_base, p->reserve_size);
    g_array_free(p->maps, true);
    g_hash_table_destroy(p->code_pages);
    g_free(p->exe_path);
    g_free(p);
    g_free(t);
    user_the_proc = NULL;
    user_self = NULL;
}

static void test_x86_64_stat(void)
{
    UserThread *t = new_proc(&user_arch_x86_64);
    UserProc *p = t->proc;
    int64_t g = user_mmap(p, 0, 4096, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL);
    g_assert_cmpint(g, >, 0);
    /* the program's file (/proc/self/exe would be the guest's) */
    g_autofree char *path = g_file_read_link("/proc/self/exe", NULL);
    g_assert_nonnull(path);
    struct stat want;
    int fd = open(path, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fstat(fd, &want), ==, 0);
    g_assert_cmpuint(sizeof(want), ==, 144);
    strcpy(g2h(p, (uint64_t)g + 2048), path);
    /* fstat(fd, buf), stat(path, buf), newfstatat(AT_FDCWD, path, buf, 0) */
    const uint64_t calls[][5] = {
        { 5, (uint64_t)fd, (uint64_t)g },
        { 4, (uint64_t)g + 2048, (uint64_t)g },
        { 262, (uint64_t)(int64_t)AT_FDCWD, (uint64_t)g + 2048, (uint64_t)g,
          0 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(calls); i++) {
        uint64_t a[8] = { calls[i][1], calls[i][2], calls[i][3],
                          calls[i][4] };
        memset(g2h(p, (uint64_t)g), 0xa5, 144);
        g_assert_cmpint(user_syscall(t, calls[i][0], a), ==, 0);
        /* the atime may move between the calls: compare the rest */
        struct stat got;
        memcpy(&got, g2h(p, (uint64_t)g), sizeof(got));
        got.st_atim = want.st_atim;
        g_assert_cmpmem(&got, sizeof(got), &want, sizeof(want));
    }
    close(fd);
    free_proc(t);
}

/* The program itself (x86-64, PIE, PT_INTERP) loaded for the x86-64
   table: argv and the auxiliary vector on its stack. */
static void test_x86_64_load(void)
{
    UserThread *t = new_proc(&user_arch_x86_64);
    UserProc *p = t->proc;
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_assert_nonnull(self);
    char *argv[] = { self, (char *)"arg", NULL };
    char *envp[] = { (char *)"A=1", NULL };
    uint64_t pc = 0, sp = 0;
    GError *err = NULL;
    g_assert_true(user_load(p, self, argv, envp, NULL, &pc, &sp, &err));
    g_assert_cmpuint(sp % 16, ==, 0);
    g_assert_cmpuint(user_get64(p, sp), ==, 2); /* argc */
    g_assert_cmpstr(g2h(p, user_get64(p, sp + 16)), ==, "arg");
    g_assert_cmpuint(user_get64(p, sp + 24), ==, 0);
    g_assert_cmpstr(g2h(p, user_get64(p, sp + 32)), ==, "A=1");
    g_assert_cmpuint(user_get64(p, sp + 40), ==, 0);
    uint64_t entry = 0, phdr = 0, base = 0, phnum = 0, ehdr = 0;
    for (uint64_t q = sp + 48;; q += 16) {
        uint64_t type = user_get64(p, q), v = user_get64(p, q + 8);
        if (type == 0) {
            break;
        }
        entry = type == 9 ? v : entry;
        phdr = type == 3 ? v : phdr;
        phnum = type == 5 ? v : phnum;
        base = type == 7 ? v : base;
        ehdr = type == 33 ? v : ehdr;
    }
    g_assert_cmpuint(entry, ==, p->entry);
    g_assert_cmpuint(phdr, ==, p->phdr);
    /* the x86-64 vDSO: an ELF64 ET_DYN for x86-64 */
    g_assert_cmpuint(ehdr, ==, user_arch_x86_64.vdso_addr);
    g_assert_cmpmem(g2h(p, ehdr), 5, "\177ELF\2", 5);
    g_assert_cmpuint(*(uint16_t *)g2h(p, ehdr + 18), ==, 62);
    g_assert_cmpuint(base, !=, 0); /* the interpreter */
    /* the program headers at AT_PHDR are the file's */
    g_autofree char *file = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(self, &file, &len, NULL));
    uint64_t phoff;
    uint16_t phentsize;
    memcpy(&phoff, file + 32, 8);
    memcpy(&phentsize, file + 54, 2);
    g_assert_cmpuint(phnum * phentsize + phoff, <=, len);
    g_assert_cmpmem(g2h(p, phdr), phnum * phentsize, file + phoff,
                    phnum * phentsize);
    /* the first instruction is the interpreter's entry point */
    g_assert_cmpuint(pc, >=, base);
    g_assert_true(user_addr_mapped(p, pc));
    free_proc(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/user/tables/i386-numbers", test_i386_numbers);
    g_test_add_func("/user/tables/x86_64-numbers", test_x86_64_numbers);
    g_test_add_func("/user/tables/x86_64-stat", test_x86_64_stat);
    g_test_add_func("/user/tables/x86_64-load", test_x86_64_load);
    return g_test_run();
}
