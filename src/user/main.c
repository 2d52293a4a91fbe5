/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mimic-ARCH: run one Linux program built for another CPU.  The program's
 * name picks the architecture (mimic-mipsel, mimic-mips, mimic-mips64el,
 * mimic-mips64) or -arch NAME does; the options are QEMU user mode's:
 *   mimic-mipsel [-L sysroot] [-E var=val] [-U var] [-cpu model] [-strace]
 *                [-d items] [-0 argv0] [-g port] program [args...]
 * plus -binfmt (print a binfmt_misc registration line).  Command-line
 * errors and programs that cannot be loaded are one line and exit 1.
 */
#include "user/user.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "bus/log.h"
#include "mimic-config.h"

#ifndef MIMIC_USER_ARCH
#define MIMIC_USER_ARCH NULL
#endif

static const UserArch *const arches[] = {
    &user_arch_mipsel, &user_arch_mips, &user_arch_mips64el,
    &user_arch_mips64, &user_arch_i386, &user_arch_x86_64,
};

static const UserArch *arch_by_name(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(arches); i++) {
        if (!strcmp(arches[i]->name, name)) {
            return arches[i];
        }
    }
    return NULL;
}

static const char *prog = "mimic-user";

G_NORETURN static void die(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", prog, msg);
    exit(1);
}

static void usage(const UserArch *a)
{
    printf("usage: %s [options] program [arguments...]\n"
           "Linux user-mode emulation: runs a %s Linux program.\n\n"
           "Options:\n"
           "  -h, -help          print this help and exit\n"
           "  -version           print the version and exit\n"
           "  -L path            sysroot: the ELF interpreter and absolute "
           "paths are looked up\n"
           "                     there first (env MIMIC_LD_PREFIX)\n"
           "  -E var=value       set an environment variable of the program\n"
           "  -U var             remove an environment variable\n"
           "  -cpu model         the CPU model (-cpu help lists them; env "
           "MIMIC_CPU)\n"
           "  -strace            log the system calls (env MIMIC_STRACE)\n"
           "  -d item[,...]      log items (-d help lists them): unimp "
           "logs unsupported\n"
           "                     system calls once each\n"
           "  -D file            log to file instead of stderr\n"
           "  -0 argv0           the program's argv[0]\n"
           "  -g port            wait for GDB on TCP port (127.0.0.1) "
           "before the first\n"
           "                     instruction (target remote :port)\n"
           "  -binfmt            print a binfmt_misc registration line "
           "for this architecture\n",
           prog, a ? a->name : "foreign");
}

/* binfmt_misc: ":name:M::magic:mask:interpreter:flags" (the ELF header's
   class, data, version, type and machine). */
static void print_binfmt(const UserArch *a)
{
    uint8_t magic[20] = { 0x7f, 'E', 'L', 'F', a->is64 ? 2 : 1,
                          a->big_endian ? 2 : 1, 1, 0 };
    uint8_t mask[20] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00,
                         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                         0xfe, 0xff, 0xff, 0xff };
    /* e_type 2 or 3 (mask 0xfffe), e_machine */
    if (a->big_endian) {
        magic[16] = 0;
        magic[17] = 2;
        magic[18] = (uint8_t)(a->e_machine >> 8);
        magic[19] = (uint8_t)a->e_machine;
        mask[16] = 0xff;
        mask[17] = 0xfe;
    } else {
        magic[16] = 2;
        magic[17] = 0;
        magic[18] = (uint8_t)a->e_machine;
        magic[19] = (uint8_t)(a->e_machine >> 8);
    }
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    printf(":mimic-%s:M::", a->name);
    for (int i = 0; i < 20; i++) {
        printf("\\x%02x", magic[i]);
    }
    printf(":");
    for (int i = 0; i < 20; i++) {
        printf("\\x%02x", mask[i]);
    }
    printf(":%s:OCF\n", self ? self : prog);
}

/* The host fault handler: a guest access to an unmapped or protected
   page becomes the guest's fault; anything else is a real crash. */
static void fault_handler(int sig, siginfo_t *si, void *ucv)
{
    UserThread *t = user_self;
    UserProc *p = user_the_proc;
    uintptr_t a = (uintptr_t)si->si_addr;
    if (p && si->si_code <= 0) {
        user_signal_sent(sig, si, ucv); /* kill(), not a fault */
        return;
    }
    if (p && a >= (uintptr_t)p->guest_base &&
        a - (uintptr_t)p->guest_base < p->reserve_size &&
        user_code_fault(p, a - (uintptr_t)p->guest_base)) {
        return; /* a write to translated code: retried, now allowed */
    }
    if (t && p && a >= (uintptr_t)p->guest_base &&
        a - (uintptr_t)p->guest_base < p->reserve_size) {
        if (t->in_syscall) {
            siglongjmp(t->syscall_jmp, 1);
        }
        if (t->in_cpu) {
            bool write = false;
#if defined(__x86_64__)
            ucontext_t *uc = ucv;
            write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
#endif
            p->arch->cpu_host_fault(t, sig, a - (uintptr_t)p->guest_base,
                                    write);
        }
    }
    struct sigaction sa = { 0 };
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, NULL);
}

static void install_fault_handlers(void)
{
    static uint8_t altstack[65536];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
    sigaltstack(&ss, NULL);
    struct sigaction sa = { 0 };
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

/* A "#!" script: run its interpreter (a guest program) instead. */
static char **script_args(const char *path, char **argv, char **ipath)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char line[256];
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = 0;
    if (n < 3 || line[0] != '#' || line[1] != '!') {
        return NULL;
    }
    char *nl = strchr(line, '\n');
    if (!nl) {
        return NULL;
    }
    *nl = 0;
    char *s = g_strstrip(line + 2);
    char *arg = strpbrk(s, " \t");
    if (arg) {
        *arg++ = 0;
        arg = g_strstrip(arg);
    }
    GPtrArray *v = g_ptr_array_new();
    g_ptr_array_add(v, g_strdup(s));
    if (arg && *arg) {
        g_ptr_array_add(v, g_strdup(arg));
    }
    g_ptr_array_add(v, g_strdup(path));
    for (int i = 1; argv[i]; i++) {
        g_ptr_array_add(v, g_strdup(argv[i]));
    }
    g_ptr_array_add(v, NULL);
    *ipath = g_strdup(s);
    return (char **)g_ptr_array_free(v, false);
}

int main(int argc, char **argv)
{
    const UserArch *arch = NULL;
    const char *sysroot = g_getenv("MIMIC_LD_PREFIX");
    const char *cpu_model = g_getenv("MIMIC_CPU");
    const char *argv0 = NULL;
    const char *log_file = NULL;
    bool strace = g_getenv("MIMIC_STRACE") != NULL;
    bool binfmt = false;
    const char *gdb_port = NULL;
    uint32_t log_mask = 0;
    g_auto(GStrv) envp = g_get_environ();
    int i;

    g_autofree char *base = g_path_get_basename(argv[0]);
    if (g_str_has_prefix(base, "mimic-")) {
        arch = arch_by_name(base + 6);
        prog = argv[0][0] ? g_strdup(base) : prog;
    }
    if (!arch && MIMIC_USER_ARCH) {
        arch = arch_by_name(MIMIC_USER_ARCH);
        prog = g_strdup_printf("mimic-%s", MIMIC_USER_ARCH);
    }
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];
        if (o[1] == '-' && o[2] && strcmp(o, "--")) {
            o++; /* --option is -option */
        }
        if (!strcmp(o, "--")) {
            i++;
            break;
        }
        bool has_arg = i + 1 < argc;
#define NEED_ARG()                                                           \
    do {                                                                     \
        if (!has_arg) {                                                      \
            die("option '%s' needs an argument", o);                         \
        }                                                                    \
    } while (0)
        if (!strcmp(o, "-h") || !strcmp(o, "-help")) {
            usage(arch);
            return 0;
        } else if (!strcmp(o, "-version")) {
            printf("%s version " MIMIC_VERSION " (Mimic Linux user mode)\n",
                   prog);
            return 0;
        } else if (!strcmp(o, "-L")) {
            NEED_ARG();
            sysroot = argv[++i];
        } else if (!strcmp(o, "-E")) {
            NEED_ARG();
            g_auto(GStrv) kv = g_strsplit(argv[++i], ",", -1);
            for (char **k = kv; *k; k++) {
                char *eq = strchr(*k, '=');
                if (!eq) {
                    die("-E needs var=value, not '%s'", *k);
                }
                *eq = 0;
                envp = g_environ_setenv(envp, *k, eq + 1, true);
            }
        } else if (!strcmp(o, "-U")) {
            NEED_ARG();
            g_auto(GStrv) kv = g_strsplit(argv[++i], ",", -1);
            for (char **k = kv; *k; k++) {
                envp = g_environ_unsetenv(envp, *k);
            }
        } else if (!strcmp(o, "-cpu")) {
            NEED_ARG();
            cpu_model = argv[++i];
        } else if (!strcmp(o, "-strace")) {
            strace = true;
        } else if (!strcmp(o, "-d")) {
            NEED_ARG();
            GError *err = NULL;
            if (!mimic_log_parse(argv[++i], &log_mask, &err)) {
                die("%s", err->message);
            }
            if (!strcmp(argv[i], "help")) {
                GString *s = g_string_new(NULL);
                mimic_log_help(s);
                fputs(s->str, stdout);
                return 0;
            }
        } else if (!strcmp(o, "-D")) {
            NEED_ARG();
            log_file = argv[++i];
        } else if (!strcmp(o, "-0")) {
            NEED_ARG();
            argv0 = argv[++i];
        } else if (!strcmp(o, "-arch")) {
            NEED_ARG();
            arch = arch_by_name(argv[++i]);
            if (!arch) {
                die("unknown architecture '%s'", argv[i]);
            }
            prog = g_strdup_printf("mimic-%s", argv[i]);
        } else if (!strcmp(o, "-binfmt")) {
            binfmt = true;
        } else if (!strcmp(o, "-g")) {
            NEED_ARG();
            gdb_port = argv[++i];
        } else {
            die("unknown option '%s' (try -help)", argv[i]);
        }
    }
    if (!arch) {
        die("no architecture: run as mimic-ARCH or give -arch ARCH "
            "(mipsel, mips, mips64el, mips64, i386, x86_64)");
    }
    if (binfmt) {
        print_binfmt(arch);
        return 0;
    }
    if (cpu_model && !strcmp(cpu_model, "help")) {
        GString *s = g_string_new("Available CPUs:\n");
        arch->cpu_list(s);
        fputs(s->str, stdout);
        return 0;
    }
    if (i >= argc) {
        die("no program given (try -help)");
    }
    if (gdb_port && !arch->gdb_nregs) {
        die("-g is not supported for %s yet", arch->name);
    }
    if (log_mask) {
        mimic_log_set_mask(log_mask);
    }
    if (log_file) {
        GError *err = NULL;
        if (!mimic_log_set_file(log_file, &err)) {
            die("%s", err->message);
        }
    }

    char **gargv = argv + i;
    const char *path = gargv[0];
    g_autofree char *ipath = NULL;
    char **sargv = script_args(path, gargv, &ipath);
    if (sargv) {
        gargv = sargv;
        path = ipath;
        argv0 = NULL;
    }

    UserProc *p = g_new0(UserProc, 1);
    user_the_proc = p;
    p->arch = arch;
    p->sysroot = sysroot ? g_strdup(sysroot) : NULL;
    p->cpu_model = cpu_model ? g_strdup(cpu_model) : NULL;
    p->strace = strace;
    GError *err = NULL;
    if (!user_mem_init(p, &err)) {
        die("%s", err->message);
    }
    UserThread *t = g_new0(UserThread, 1);
    t->proc = p;
    t->tid = getpid();
    p->main = t;
    user_self = t;
    if (!arch->cpu_init(t, cpu_model ? cpu_model : arch->default_cpu,
                        &err)) {
        die("%s", err->message);
    }
    /* A program not found as given is looked up in the sysroot. */
    char *lpath = g_strdup(path);
    if (p->sysroot && path[0] == '/' && access(path, F_OK) < 0) {
        g_free(lpath);
        lpath = g_build_filename(p->sysroot, path, NULL);
    }
    p->exe_path = lpath;
    uint64_t pc, sp;
    if (!user_load(p, lpath, gargv, envp, argv0, &pc, &sp, &err)) {
        die("%s", err->message);
    }
    user_signals_init(p);
    install_fault_handlers();
    arch->cpu_start(t, pc, sp);
    if (gdb_port) {
        if (!user_gdb_listen(gdb_port, &err)) {
            die("%s", err->message);
        }
        user_gdb_start(t);
    }
    int status = arch->cpu_loop(t);
    user_exit_group(p, status);
}
