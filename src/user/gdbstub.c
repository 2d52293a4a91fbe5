/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * -g PORT: a GDB remote-protocol stub for user mode.  It listens on the
 * loopback port, waits for one debugger before the program's first
 * instruction and serves it whenever a guest thread stops: at the start,
 * at a breakpoint, after a single step, or at a fault (SIGSEGV, SIGILL,
 * ...) before the guest sees it.  Architecture-neutral: the registers
 * (GDB's numbering and sizes), the pc, single stepping and the breakpoint
 * instruction come from the UserArch table.
 *
 * Packets: ? g G p P m M c C s S vCont (c, C, s, S) Z0 z0 qSupported
 * qXfer:features:read (the target description) qAttached D k; anything
 * else is answered empty ("not supported").  Breakpoints are the
 * architecture's trap instruction written into guest memory (text pages
 * too); memory reads show the original bytes.  One thread talks to GDB at
 * a time and GDB sees that one thread.  All-stop: while it is stopped the
 * other threads park at their next block boundary (a thread in a system
 * call parks when the call returns), and run on when GDB resumes.
 * Ctrl-C in GDB (the byte 0x03 while the program runs, read by a watcher
 * thread) stops the first thread that reaches a block boundary with
 * SIGINT, which GDB does not pass to the program by default.
 *
 * Reference: the GDB manual, "Remote Protocol" (packets, stop replies,
 * target descriptions, standard register sets).
 */
#include "user/user.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define GDB_MAX_BP 64
#define PKT_MAX 8192

typedef struct GdbBp {
    uint64_t addr;
    uint8_t saved[4];
} GdbBp;

static struct {
    int fd; /* the debugger's connection, -1 when none */
    GMutex lock; /* one stopped thread talks to GDB */
    GdbBp bp[GDB_MAX_BP];
    unsigned nbp;
    char in[PKT_MAX];
    uint8_t rbuf[4096];
    size_t rpos, rlen;
} gs = { .fd = -1 };

/* All-stop and Ctrl-C (lock order: gs.lock, then as.lock). */
static struct {
    GMutex lock;
    GCond cond;
    GPtrArray *threads; /* every guest thread (UserThread *) */
    bool stopped;       /* a thread serves GDB: the others park */
    bool running;       /* resumed: the watcher owns the connection */
    int interrupt;      /* Ctrl-C read: the first thread to check stops */
    int flag;           /* stopped || interrupt, read without the lock */
} as;

static void request_all(UserThread *except)
{
    for (guint i = 0; as.threads && i < as.threads->len; i++) {
        UserThread *o = g_ptr_array_index(as.threads, i);
        if (o != except) {
            o->proc->arch->cpu_exit_request(o);
        }
    }
}

void user_gdb_thread_add(UserThread *t)
{
    g_mutex_lock(&as.lock);
    if (!as.threads) {
        as.threads = g_ptr_array_new();
    }
    g_ptr_array_add(as.threads, t);
    g_mutex_unlock(&as.lock);
}

void user_gdb_thread_remove(UserThread *t)
{
    g_mutex_lock(&as.lock);
    if (as.threads) {
        g_ptr_array_remove_fast(as.threads, t);
    }
    g_mutex_unlock(&as.lock);
}

static int stop(UserThread *t, int sig);

/* At a block boundary (user_signal_check): park while another thread
   serves GDB; take a pending Ctrl-C. */
void user_gdb_check(UserThread *t)
{
    if (!__atomic_load_n(&as.flag, __ATOMIC_ACQUIRE)) {
        return;
    }
    g_mutex_lock(&as.lock);
    while (as.stopped) {
        g_cond_wait(&as.cond, &as.lock);
    }
    bool mine = as.interrupt;
    as.interrupt = 0;
    __atomic_store_n(&as.flag, as.stopped || as.interrupt, __ATOMIC_RELEASE);
    g_mutex_unlock(&as.lock);
    if (mine) {
        int deliver = stop(t, SIGINT);
        if (deliver) {
            kill(getpid(), deliver); /* GDB passed it on (signal SIGINT) */
        }
    }
}

/* Stop the others for t (gs.lock held); wait (10 s at most) until none runs
   guest code. */
static void all_stop_begin(UserThread *t)
{
    g_mutex_lock(&as.lock);
    as.stopped = true;
    as.running = false;
    as.interrupt = 0; /* any stop answers a Ctrl-C */
    __atomic_store_n(&as.flag, 1, __ATOMIC_RELEASE);
    request_all(t);
    for (int tries = 0; tries < 10000; tries++) {
        bool busy = false;
        for (guint i = 0; as.threads && i < as.threads->len; i++) {
            UserThread *o = g_ptr_array_index(as.threads, i);
            busy |= o != t && __atomic_load_n(&o->in_cpu, __ATOMIC_ACQUIRE);
        }
        if (!busy) {
            break;
        }
        g_mutex_unlock(&as.lock);
        g_usleep(1000);
        g_mutex_lock(&as.lock);
        request_all(t);
    }
    g_mutex_unlock(&as.lock);
}

static void all_stop_end(bool resumed)
{
    g_mutex_lock(&as.lock);
    as.stopped = false;
    as.running = resumed;
    __atomic_store_n(&as.flag, as.interrupt, __ATOMIC_RELEASE);
    g_cond_broadcast(&as.cond);
    g_mutex_unlock(&as.lock);
}

/* The watcher: while the program runs, a byte from GDB is Ctrl-C. */
static gpointer watcher(gpointer opaque)
{
    (void)opaque;
    for (;;) {
        g_mutex_lock(&as.lock);
        while (!as.running && gs.fd >= 0) {
            g_cond_wait(&as.cond, &as.lock);
        }
        int fd = gs.fd;
        g_mutex_unlock(&as.lock);
        if (fd < 0) {
            return NULL;
        }
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        if (poll(&pf, 1, 100) <= 0) {
            continue;
        }
        g_mutex_lock(&as.lock);
        uint8_t c;
        if (as.running && gs.fd == fd &&
            recv(fd, &c, 1, MSG_DONTWAIT) == 1 && c == 0x03) {
            as.running = false;
            as.interrupt = 1;
            __atomic_store_n(&as.flag, 1, __ATOMIC_RELEASE);
            request_all(NULL);
        }
        g_mutex_unlock(&as.lock);
    }
}

bool user_gdb_attached(void)
{
    return gs.fd >= 0;
}

bool user_gdb_listen(const char *port, GError **error)
{
    char *end;
    long n = strtol(port, &end, 10);
    if (!*port || *end || n < 1 || n > 65535) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "-g needs a TCP port number, not '%s'", port);
        return false;
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)n),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (ls < 0 ||
        setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(ls, 1) < 0) {
        int e = errno;
        if (ls >= 0) {
            close(ls);
        }
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "-g %ld: cannot listen on 127.0.0.1:%ld: %s", n, n,
                    g_strerror(e));
        return false;
    }
    int fd;
    do {
        fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    int e = errno;
    close(ls);
    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "-g %ld: accept: %s", n, g_strerror(e));
        return false;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    g_mutex_init(&gs.lock);
    gs.fd = fd;
    return true;
}

static void disconnect(void)
{
    g_mutex_lock(&as.lock);
    if (gs.fd >= 0) {
        close(gs.fd);
        gs.fd = -1;
    }
    g_cond_broadcast(&as.cond); /* the watcher ends */
    g_mutex_unlock(&as.lock);
}

/* One byte from GDB, -1 when the connection is gone. */
static int get_byte(void)
{
    if (gs.rpos == gs.rlen) {
        ssize_t n;
        do {
            n = read(gs.fd, gs.rbuf, sizeof(gs.rbuf));
        } while (n < 0 && errno == EINTR);
        if (n <= 0) {
            return -1;
        }
        gs.rpos = 0;
        gs.rlen = (size_t)n;
    }
    return gs.rbuf[gs.rpos++];
}

static bool send_all(const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(gs.fd, s, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        s += w;
        n -= (size_t)w;
    }
    return true;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "$data#xx": the packet's data in gs.in (NUL-terminated), acknowledged;
   false when the connection is gone. */
static bool get_packet(void)
{
    for (;;) {
        int c;
        do {
            c = get_byte();
            if (c < 0) {
                return false;
            }
        } while (c != '$');
        size_t n = 0;
        uint8_t sum = 0;
        bool over = false;
        while ((c = get_byte()) >= 0 && c != '#') {
            sum += (uint8_t)c;
            if (n + 1 < sizeof(gs.in)) {
                gs.in[n++] = (char)c;
            } else {
                over = true;
            }
        }
        int h = c < 0 ? -1 : get_byte();
        int l = h < 0 ? -1 : get_byte();
        if (l < 0) {
            return false;
        }
        gs.in[n] = 0;
        if (!over && hexval(h) >= 0 && hexval(l) >= 0 &&
            (hexval(h) << 4 | hexval(l)) == sum) {
            return send_all("+", 1);
        }
        if (!send_all("-", 1)) {
            return false;
        }
    }
}

static bool put_packet(const char *data, size_t n)
{
    GString *s = g_string_sized_new(n + 4);
    uint8_t sum = 0;
    g_string_append_c(s, '$');
    for (size_t i = 0; i < n; i++) {
        sum += (uint8_t)data[i];
    }
    g_string_append_len(s, data, (gssize)n);
    g_string_append_printf(s, "#%02x", sum);
    bool ok = false;
    for (int tries = 0; tries < 5; tries++) {
        if (!send_all(s->str, s->len)) {
            break;
        }
        int c = get_byte();
        if (c == '+') {
            ok = true;
            break;
        }
        if (c < 0) {
            break;
        }
    }
    g_string_free(s, true);
    return ok;
}

static bool put_str(const char *s)
{
    return put_packet(s, strlen(s));
}

static void hex_append(GString *s, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g_string_append_printf(s, "%02x", b[i]);
    }
}

/* n hex-encoded bytes at s into out; false on a bad digit. */
static bool hex_decode(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int h = hexval(s[2 * i]), l = h < 0 ? -1 : hexval(s[2 * i + 1]);
        if (l < 0) {
            return false;
        }
        out[i] = (uint8_t)(h << 4 | l);
    }
    return true;
}

/* The guest's bytes of the breakpoint instruction. */
static void bp_bytes(const UserArch *a, uint8_t *out)
{
    for (unsigned i = 0; i < a->gdb_bp_len; i++) {
        unsigned sh = a->big_endian ? 8 * (a->gdb_bp_len - 1 - i) : 8 * i;
        out[i] = (uint8_t)(a->gdb_bp_insn >> sh);
    }
}

static GdbBp *bp_find(uint64_t addr)
{
    for (unsigned i = 0; i < gs.nbp; i++) {
        if (gs.bp[i].addr == addr) {
            return &gs.bp[i];
        }
    }
    return NULL;
}

static bool bp_insert(UserProc *p, uint64_t addr)
{
    const UserArch *a = p->arch;
    if (bp_find(addr)) {
        return true;
    }
    if (gs.nbp == GDB_MAX_BP || !user_range_ok(p, addr, a->gdb_bp_len) ||
        user_addr_prot(p, addr) < 0 ||
        user_addr_prot(p, addr + a->gdb_bp_len - 1) < 0) {
        return false;
    }
    GdbBp *b = &gs.bp[gs.nbp];
    uint8_t insn[4];
    bp_bytes(a, insn);
    memcpy(b->saved, g2h(p, addr), a->gdb_bp_len);
    if (!user_debug_write(p, addr, insn, a->gdb_bp_len)) {
        return false;
    }
    b->addr = addr;
    gs.nbp++;
    return true;
}

static bool bp_remove(UserProc *p, uint64_t addr)
{
    GdbBp *b = bp_find(addr);
    if (!b) {
        return false;
    }
    user_debug_write(p, addr, b->saved, p->arch->gdb_bp_len);
    *b = gs.bp[--gs.nbp];
    return true;
}

static void bp_remove_all(UserProc *p)
{
    while (gs.nbp) {
        bp_remove(p, gs.bp[0].addr);
    }
}

/* m: guest memory as the program sees it (breakpoints hidden). */
static bool read_mem(UserProc *p, uint64_t addr, size_t len, uint8_t *out)
{
    if (!user_range_ok(p, addr, len)) {
        return false;
    }
    for (uint64_t pg = addr & ~4095ull; pg < addr + len; pg += 4096) {
        int prot = user_addr_prot(p, pg);
        if (prot < 0 || !(prot & (PROT_READ | PROT_EXEC))) {
            return false;
        }
    }
    memcpy(out, g2h(p, addr), len);
    for (unsigned i = 0; i < gs.nbp; i++) {
        for (unsigned k = 0; k < p->arch->gdb_bp_len; k++) {
            uint64_t b = gs.bp[i].addr + k;
            if (b >= addr && b < addr + len) {
                out[b - addr] = gs.bp[i].saved[k];
            }
        }
    }
    return true;
}

/* GDB's signal numbers (include/gdb/signals.def) for Linux's. */
static int sig_to_gdb(int hs)
{
    static const UserMapEntry map[] = {
        { SIGBUS, 10 }, { SIGUSR1, 30 }, { SIGUSR2, 31 }, { SIGCHLD, 20 },
        { SIGSTKFLT, 0 }, { SIGCONT, 19 }, { SIGSTOP, 17 }, { SIGTSTP, 18 },
        { SIGURG, 16 }, { SIGSYS, 12 }, { 0, 0 },
    };
    for (const UserMapEntry *m = map; m->host; m++) {
        if (m->host == hs) {
            return m->guest;
        }
    }
    return hs < 32 ? hs : 0;
}

static int sig_from_gdb(int g)
{
    static const UserMapEntry map[] = {
        { SIGBUS, 10 }, { SIGUSR1, 30 }, { SIGUSR2, 31 }, { SIGCHLD, 20 },
        { SIGCONT, 19 }, { SIGSTOP, 17 }, { SIGTSTP, 18 }, { SIGURG, 16 },
        { SIGSYS, 12 }, { 0, 0 },
    };
    for (const UserMapEntry *m = map; m->host; m++) {
        if (m->guest == g) {
            return m->host;
        }
    }
    return g >= 1 && g < 16 && g != 7 && g != 10 && g != 12 ? g : 0;
}

static bool send_xfer(const char *doc, const char *args)
{
    /* "target.xml:OFF,LEN" */
    const char *colon = strchr(args, ':');
    if (!doc || !colon || strncmp(args, "target.xml", (size_t)(colon - args))) {
        return put_str("E00");
    }
    unsigned long off = strtoul(colon + 1, NULL, 16);
    const char *comma = strchr(colon, ',');
    unsigned long len = comma ? strtoul(comma + 1, NULL, 16) : 0;
    size_t total = strlen(doc);
    if (off >= total) {
        return put_str("l");
    }
    len = MIN(len, MIN(total - off, PKT_MAX / 2));
    GString *s = g_string_new(off + len < total ? "m" : "l");
    g_string_append_len(s, doc + off, (gssize)len);
    bool ok = put_packet(s->str, s->len);
    g_string_free(s, true);
    return ok;
}

/* Parse "ADDR,LEN" (hex); false if malformed. */
static bool addr_len(const char *s, uint64_t *addr, uint64_t *len,
                     const char **rest)
{
    char *e;
    *addr = g_ascii_strtoull(s, &e, 16);
    if (e == s || *e != ',') {
        return false;
    }
    s = e + 1;
    *len = g_ascii_strtoull(s, &e, 16);
    if (e == s) {
        return false;
    }
    *rest = e;
    return true;
}

typedef enum { RUN_CONT, RUN_STEP, RUN_GONE } RunHow;

/* The debugger's turn: serve packets until a resume; *sig: the host
   signal to deliver on resuming (0 none). */
static RunHow serve(UserThread *t, int stop_sig, int *sig)
{
    UserProc *p = t->proc;
    const UserArch *a = p->arch;
    uint8_t reg[16];
    char stop[32];
    snprintf(stop, sizeof(stop), "S%02x", sig_to_gdb(stop_sig) & 0xff);
    *sig = 0;
    if (!put_str(stop)) {
        return RUN_GONE;
    }
    while (get_packet()) {
        const char *in = gs.in;
        GString *out = g_string_new(NULL);
        RunHow how = RUN_GONE + 1;
        uint64_t addr, len;
        const char *rest;
        switch (in[0]) {
        case '?':
            g_string_append(out, stop);
            break;
        case 'g':
            for (unsigned n = 0; n < a->gdb_nregs; n++) {
                hex_append(out, reg, a->gdb_get_reg(t, n, reg));
            }
            break;
        case 'G': {
            const char *s = in + 1;
            for (unsigned n = 0; n < a->gdb_nregs && *s; n++) {
                unsigned sz = a->gdb_get_reg(t, n, reg);
                if (strlen(s) < 2 * sz || !hex_decode(s, reg, sz)) {
                    break;
                }
                a->gdb_set_reg(t, n, reg);
                s += 2 * sz;
            }
            g_string_append(out, "OK");
            break;
        }
        case 'p': {
            unsigned n = (unsigned)strtoul(in + 1, NULL, 16);
            unsigned sz = a->gdb_get_reg(t, n, reg);
            if (sz) {
                hex_append(out, reg, sz);
            } else {
                g_string_append(out, "E45");
            }
            break;
        }
        case 'P': {
            char *e;
            unsigned n = (unsigned)strtoul(in + 1, &e, 16);
            unsigned sz = a->gdb_get_reg(t, n, reg);
            if (sz && *e == '=' && strlen(e + 1) >= 2 * sz &&
                hex_decode(e + 1, reg, sz) && a->gdb_set_reg(t, n, reg)) {
                g_string_append(out, "OK");
            } else {
                g_string_append(out, "E45");
            }
            break;
        }
        case 'm':
            if (addr_len(in + 1, &addr, &len, &rest) && len <= PKT_MAX / 2) {
                uint8_t *b = g_malloc(len + 1);
                if (read_mem(p, addr, len, b)) {
                    hex_append(out, b, len);
                } else {
                    g_string_append(out, "E14");
                }
                g_free(b);
            } else {
                g_string_append(out, "E01");
            }
            break;
        case 'M':
            if (addr_len(in + 1, &addr, &len, &rest) && *rest == ':' &&
                len <= PKT_MAX / 2 && strlen(rest + 1) >= 2 * len) {
                uint8_t *b = g_malloc(len + 1);
                bool ok = hex_decode(rest + 1, b, len) &&
                          user_debug_write(p, addr, b, len);
                g_free(b);
                g_string_append(out, ok ? "OK" : "E14");
            } else {
                g_string_append(out, "E01");
            }
            break;
        case 'Z': case 'z':
            if (in[1] == '0' && in[2] == ',' &&
                addr_len(in + 3, &addr, &len, &rest)) {
                bool ok = in[0] == 'Z' ? bp_insert(p, addr)
                                       : (bp_remove(p, addr), true);
                g_string_append(out, ok ? "OK" : "E22");
            }
            break;
        case 'c': case 's': case 'C': case 'S': {
            const char *s = in + 1;
            if (in[0] == 'C' || in[0] == 'S') {
                char *e;
                *sig = sig_from_gdb((int)strtol(s, &e, 16));
                s = *e == ';' ? e + 1 : "";
            }
            if (*s) {
                a->set_pc(t, g_ascii_strtoull(s, NULL, 16));
            }
            how = (in[0] == 's' || in[0] == 'S') ? RUN_STEP : RUN_CONT;
            break;
        }
        case 'v':
            if (!strcmp(in, "vCont?")) {
                g_string_append(out, "vCont;c;C;s;S");
            } else if (g_str_has_prefix(in, "vCont;")) {
                /* one thread: the first action is ours */
                const char *act = in + 6;
                if (act[0] == 'C' || act[0] == 'S') {
                    *sig = sig_from_gdb((int)strtol(act + 1, NULL, 16));
                }
                how = (act[0] == 's' || act[0] == 'S') ? RUN_STEP : RUN_CONT;
            }
            break;
        case 'q':
            if (g_str_has_prefix(in, "qSupported")) {
                g_string_append_printf(out, "PacketSize=%x%s", PKT_MAX,
                                       a->gdb_xml ? ";qXfer:features:read+"
                                                  : "");
            } else if (g_str_has_prefix(in, "qXfer:features:read:")) {
                g_string_free(out, true);
                if (!send_xfer(a->gdb_xml, in + 20)) {
                    return RUN_GONE;
                }
                continue;
            } else if (!strcmp(in, "qAttached")) {
                g_string_append(out, "0");
            } else if (!strcmp(in, "qC")) {
                g_string_append_printf(out, "QC%x", t->tid);
            }
            break;
        case 'H': case 'T':
            g_string_append(out, "OK");
            break;
        case 'D':
            bp_remove_all(p);
            put_str("OK");
            g_string_free(out, true);
            disconnect();
            return RUN_GONE;
        case 'k':
            disconnect();
            user_exit_group(p, 0);
        default:
            break;
        }
        if (how <= RUN_GONE) {
            g_string_free(out, true);
            return how;
        }
        bool ok = put_packet(out->str, out->len);
        g_string_free(out, true);
        if (!ok) {
            break;
        }
    }
    disconnect();
    return RUN_GONE;
}

/* Stop thread t with host signal sig; returns the signal to deliver. */
static int stop(UserThread *t, int sig)
{
    UserProc *p = t->proc;
    const UserArch *a = p->arch;
    g_mutex_lock(&gs.lock);
    if (gs.fd < 0) {
        g_mutex_unlock(&gs.lock);
        return sig;
    }
    t->gdb_step = false;
    if (a->gdb_step) {
        a->gdb_step(t, false);
    }
    int deliver = 0;
    all_stop_begin(t);
    RunHow how = serve(t, sig, &deliver);
    all_stop_end(how != RUN_GONE);
    if (how == RUN_GONE) {
        bp_remove_all(p);
        disconnect();
        deliver = sig == SIGTRAP ? 0 : sig;
    } else if (how == RUN_STEP) {
        t->gdb_step = true;
        if (a->gdb_step) {
            a->gdb_step(t, true);
        }
    }
    g_mutex_unlock(&gs.lock);
    return deliver;
}

void user_gdb_start(UserThread *t)
{
    if (user_gdb_attached()) {
        user_gdb_thread_add(t);
        /* the watcher takes no signal meant for the guest's threads */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        g_thread_unref(g_thread_new("gdb-watch", watcher, NULL));
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        stop(t, SIGTRAP);
    }
}

int user_gdb_fault(UserThread *t, int hs)
{
    UserProc *p = t->proc;
    const UserArch *a = p->arch;
    if (hs == SIGTRAP && a->gdb_bp_back) {
        /* past our breakpoint instruction: back onto it */
        uint64_t pc = a->get_pc(t) - a->gdb_bp_back;
        g_mutex_lock(&gs.lock);
        bool ours = bp_find(pc) != NULL;
        g_mutex_unlock(&gs.lock);
        if (ours) {
            a->set_pc(t, pc);
        }
    }
    return stop(t, hs);
}

void user_gdb_stepped(UserThread *t)
{
    stop(t, SIGTRAP); /* a signal given with the resume is dropped */
}

void user_gdb_exit(int status, int hs)
{
    if (!user_gdb_attached()) {
        return;
    }
    char s[8];
    snprintf(s, sizeof(s), hs ? "X%02x" : "W%02x",
             hs ? sig_to_gdb(hs) & 0xff : status & 0xff);
    put_str(s);
    disconnect();
}
