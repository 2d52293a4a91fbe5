/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Character device back ends (see chardev.h).
 *
 * Each back end is a pair of file descriptors: input watched on the
 * machine's GMainContext, output written without blocking for long.
 * "mon:stdio" multiplexes a serial port and the monitor on one terminal:
 * Ctrl-A c switches between them, Ctrl-A x quits (by SIGTERM, which the
 * program turns into an orderly quit), Ctrl-A h prints help, Ctrl-A
 * Ctrl-A sends a literal Ctrl-A — QEMU's keys.  The terminal is put in raw
 * mode while a stdio back end is open and restored when it closes.
 */
#include "bus/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>
#include <glib-unix.h>

typedef enum {
    CHR_NULL,
    CHR_STDIO,
    CHR_FILE,
    CHR_PTY,
    CHR_SOCKET,
    CHR_VC,
    CHR_MUX_MONITOR, /* the monitor side of a mon: back end */
} CharKind;

struct CharDev {
    CharKind kind;
    char *spec;
    GMainContext *ctx;
    int in_fd, out_fd;
    GSource *in_src;
    int listen_fd;
    GSource *listen_src;
    /* socket: the client went away while we wrote (EPIPE, ECONNRESET);
       nothing more is written and the client is dropped from the main
       loop, never from inside a frontend's callback */
    bool hung_up;
    GSource *drop_src;
    const CharFrontend *fe;
    void *fe_opaque;
    /* mon: multiplexing */
    bool mux;
    CharDev *mux_mon; /* the monitor side */
    CharDev *parent;  /* for CHR_MUX_MONITOR */
    bool focus_mon;
    bool escape;
    /* stdio */
    bool tty_saved;
    struct termios saved_tio;
    /* pty / vc */
    char *pty_path;
    int vc_peer;
};

#define CHARDEV_ERROR (g_quark_from_static_string("mimic-chardev-error"))

static gboolean on_input(gint fd, GIOCondition cond, gpointer data);

static void watch_input(CharDev *chr)
{
    if (chr->in_fd < 0 || chr->in_src) {
        return;
    }
    chr->in_src = g_unix_fd_source_new(chr->in_fd, G_IO_IN | G_IO_HUP |
                                                   G_IO_ERR);
    g_source_set_callback(chr->in_src, (GSourceFunc)(void (*)(void))on_input,
                          chr, NULL);
    g_source_attach(chr->in_src, chr->ctx);
}

static void unwatch_input(CharDev *chr)
{
    if (chr->in_src) {
        g_source_destroy(chr->in_src);
        g_source_unref(chr->in_src);
        chr->in_src = NULL;
    }
}

static CharDev *target(CharDev *chr)
{
    if (chr->mux && chr->focus_mon && chr->mux_mon) {
        return chr->mux_mon;
    }
    return chr;
}

static int frontend_room(CharDev *t)
{
    if (!t->fe || !t->fe->read) {
        return 4096; /* nobody listens: drain and drop */
    }
    return t->fe->can_read ? t->fe->can_read(t->fe_opaque) : 4096;
}

static void deliver(CharDev *t, const uint8_t *buf, int len)
{
    if (t->fe && t->fe->read && len > 0) {
        t->fe->read(t->fe_opaque, buf, len);
    }
}

static void mux_help(CharDev *chr)
{
    static const char help[] =
        "\r\nC-a h    print this help\r\n"
        "C-a x    exit emulator\r\n"
        "C-a c    switch between console and monitor\r\n"
        "C-a C-a  sends C-a\r\n";
    chardev_write(chr, help, sizeof(help) - 1);
}

/* Handle one byte on a mux; returns true when it was consumed. */
static bool mux_byte(CharDev *chr, uint8_t c)
{
    if (chr->escape) {
        chr->escape = false;
        switch (c) {
        case 'x':
            chardev_write(chr, "\r\nmimic: terminating on signal\r\n", 32);
            kill(getpid(), SIGTERM);
            return true;
        case 'c':
            chr->focus_mon = !chr->focus_mon;
            if (chr->focus_mon && chr->mux_mon && chr->mux_mon->fe &&
                chr->mux_mon->fe->event) {
                chr->mux_mon->fe->event(chr->mux_mon->fe_opaque,
                                        CHARDEV_EVENT_OPENED);
            }
            return true;
        case 'h':
        case '?':
            mux_help(chr);
            return true;
        case 0x01:
            return false; /* literal C-a */
        default:
            return true;
        }
    }
    if (c == 0x01) {
        chr->escape = true;
        return true;
    }
    return false;
}

static void notify(CharDev *chr, int event)
{
    if (chr->fe && chr->fe->event) {
        chr->fe->event(chr->fe_opaque, event);
    }
    if (chr->mux_mon && chr->mux_mon->fe && chr->mux_mon->fe->event) {
        chr->mux_mon->fe->event(chr->mux_mon->fe_opaque, event);
    }
}

/* A socket's peer is gone: forget it.  A server listens on (its listening
   source was never removed); the next client is accepted as usual. */
static void drop_client(CharDev *chr)
{
    if (chr->drop_src) {
        g_source_destroy(chr->drop_src);
        g_source_unref(chr->drop_src);
        chr->drop_src = NULL;
    }
    unwatch_input(chr);
    if (chr->in_fd >= 0) {
        close(chr->in_fd);
    }
    chr->in_fd = chr->out_fd = -1;
    chr->hung_up = false;
    chr->escape = false;
    notify(chr, CHARDEV_EVENT_CLOSED);
}

static gboolean on_drop(gpointer data)
{
    CharDev *chr = data;
    /* drop_client() destroys this source: keep it alive until we return. */
    GSource *self = g_source_ref(chr->drop_src);
    drop_client(chr);
    g_source_unref(self);
    return G_SOURCE_REMOVE;
}

/* Called where a write failed because the peer is gone: may be deep in a
   frontend (the monitor printing a reply), so the drop itself waits for
   the main loop. */
static void schedule_drop(CharDev *chr)
{
    chr->hung_up = true;
    if (!chr->drop_src) {
        chr->drop_src = g_idle_source_new();
        g_source_set_priority(chr->drop_src, G_PRIORITY_DEFAULT);
        g_source_set_callback(chr->drop_src, on_drop, chr, NULL);
        g_source_attach(chr->drop_src, chr->ctx);
    }
}

/* Whether a connected socket's peer has closed or reset the connection,
   without consuming its input. */
static bool peer_gone(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
    if (poll(&p, 1, 0) <= 0) {
        return false;
    }
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

static gboolean on_input(gint fd, GIOCondition cond, gpointer data)
{
    CharDev *chr = data;
    CharDev *t = target(chr);
    if (chr->hung_up) {
        /* Whatever the departed client still had in flight is not run. */
        drop_client(chr);
        return G_SOURCE_REMOVE;
    }
    int room = frontend_room(t);
    if (room <= 0) {
        /* The frontend is full: stop watching until it accepts input. */
        chr->in_src = NULL;
        return G_SOURCE_REMOVE;
    }
    uint8_t buf[256];
    ssize_t n = read(fd, buf, MIN((int)sizeof(buf), chr->mux ? 1 : room));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        /* Peer gone. */
        if (chr->kind == CHR_SOCKET) {
            drop_client(chr); /* destroys this source; GLib holds a ref */
        } else {
            chr->in_src = NULL;
        }
        return G_SOURCE_REMOVE;
    }
    if (n < 0) {
        return G_SOURCE_CONTINUE;
    }
    if (chr->mux) {
        for (ssize_t i = 0; i < n; i++) {
            if (!mux_byte(chr, buf[i])) {
                deliver(target(chr), &buf[i], 1);
            }
        }
    } else {
        deliver(t, buf, n);
    }
    return G_SOURCE_CONTINUE;
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) {
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
}

static void stdio_raw(CharDev *chr)
{
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &chr->saved_tio)) {
        return;
    }
    struct termios t = chr->saved_tio;
    t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL |
                   IXON);
    t.c_oflag |= OPOST;
    t.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN | ISIG);
    t.c_cflag &= ~(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
    chr->tty_saved = true;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
    CharDev *chr = data;
    int c = accept(fd, NULL, NULL);
    if (c < 0) {
        return G_SOURCE_CONTINUE;
    }
    if (chr->in_fd >= 0 && (chr->hung_up || peer_gone(chr->in_fd))) {
        /* A client that reconnects at once may be seen before its old
           connection's end is. */
        drop_client(chr);
    }
    if (chr->in_fd >= 0) {
        close(c); /* one client at a time */
        return G_SOURCE_CONTINUE;
    }
    set_nonblock(c);
    chr->in_fd = chr->out_fd = c;
    watch_input(chr);
    if (chr->fe && chr->fe->event) {
        chr->fe->event(chr->fe_opaque, CHARDEV_EVENT_OPENED);
    }
    return G_SOURCE_CONTINUE;
}

typedef struct SockOpts {
    bool server, wait, nodelay;
} SockOpts;

static bool parse_sock_opts(gchar **parts, SockOpts *o, const char *spec,
                            GError **error)
{
    o->server = false;
    o->wait = true;
    o->nodelay = false;
    for (gchar **p = parts; *p; p++) {
        char *eq = strchr(*p, '=');
        const char *v = eq ? eq + 1 : "on";
        g_autofree char *k = eq ? g_strndup(*p, eq - *p) : g_strdup(*p);
        bool on = !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true");
        bool off = !strcmp(v, "off") || !strcmp(v, "no") ||
                   !strcmp(v, "false");
        if (!on && !off) {
            g_set_error(error, CHARDEV_ERROR, 0, "'%s': bad value '%s'", spec,
                        v);
            return false;
        }
        if (!strcmp(k, "server")) {
            o->server = on;
        } else if (!strcmp(k, "wait")) {
            o->wait = on;
        } else if (!strcmp(k, "nowait")) {
            o->wait = false;
        } else if (!strcmp(k, "nodelay")) {
            o->nodelay = on;
        } else if (!strcmp(k, "telnet") || !strcmp(k, "reconnect")) {
            /* accepted; plain byte stream */
        } else {
            g_set_error(error, CHARDEV_ERROR, 0, "'%s': unknown option '%s'",
                        spec, k);
            return false;
        }
    }
    return true;
}

static int open_socket(const char *addr, bool is_unix, const SockOpts *o,
                       const char *spec, GError **error)
{
    int fd = -1;
    char *host = NULL;
    if (is_unix) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(addr) >= sizeof(sa.sun_path) || !*addr) {
            g_set_error(error, CHARDEV_ERROR, 0, "'%s': bad socket path",
                        spec);
            return -1;
        }
        strcpy(sa.sun_path, addr);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (o->server) {
            unlink(addr);
            if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
                listen(fd, 1)) {
                goto fail;
            }
        } else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
            goto fail;
        }
        return fd;
    }
    const char *colon = strrchr(addr, ':');
    if (!colon) {
        g_set_error(error, CHARDEV_ERROR, 0, "'%s': expected HOST:PORT", spec);
        return -1;
    }
    host = g_strndup(addr, colon - addr);
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = o->server ? AI_PASSIVE : 0 };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res);
    if (rc) {
        g_set_error(error, CHARDEV_ERROR, 0, "'%s': %s", spec,
                    gai_strerror(rc));
        g_free(host);
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (o->server) {
        rc = bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1);
    } else {
        rc = connect(fd, res->ai_addr, res->ai_addrlen);
    }
    freeaddrinfo(res);
    g_free(host);
    host = NULL;
    if (rc) {
        goto fail;
    }
    if (o->nodelay) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
fail:
    g_set_error(error, CHARDEV_ERROR, 0, "'%s': %s", spec, g_strerror(errno));
    if (fd >= 0) {
        close(fd);
    }
    return -1;
}

static CharDev *chr_alloc(CharKind kind, const char *spec, GMainContext *ctx)
{
    CharDev *chr = g_new0(CharDev, 1);
    chr->kind = kind;
    chr->spec = g_strdup(spec);
    chr->ctx = ctx;
    chr->in_fd = chr->out_fd = chr->listen_fd = chr->vc_peer = -1;
    return chr;
}

CharDev *chardev_new(const char *spec, GMainContext *ctx, GError **error)
{
    CharDev *chr = NULL;
    bool mux = false;
    const char *s = spec;
    if (g_str_has_prefix(s, "mon:")) {
        mux = true;
        s += 4;
    }
    if (!strcmp(s, "null") || !strcmp(s, "none")) {
        chr = chr_alloc(CHR_NULL, spec, ctx);
    } else if (!strcmp(s, "stdio")) {
        chr = chr_alloc(CHR_STDIO, spec, ctx);
        chr->in_fd = dup(STDIN_FILENO);
        chr->out_fd = STDOUT_FILENO;
        set_nonblock(chr->in_fd);
        stdio_raw(chr);
    } else if (g_str_has_prefix(s, "file:")) {
        int fd = open(s + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            g_set_error(error, CHARDEV_ERROR, 0, "cannot open '%s': %s",
                        s + 5, g_strerror(errno));
            return NULL;
        }
        chr = chr_alloc(CHR_FILE, spec, ctx);
        chr->out_fd = fd;
    } else if (!strcmp(s, "pty")) {
        int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m < 0 || grantpt(m) || unlockpt(m)) {
            g_set_error(error, CHARDEV_ERROR, 0, "pty: %s",
                        g_strerror(errno));
            if (m >= 0) {
                close(m);
            }
            return NULL;
        }
        chr = chr_alloc(CHR_PTY, spec, ctx);
        chr->in_fd = chr->out_fd = m;
        chr->pty_path = g_strdup(ptsname(m));
        struct termios t;
        if (tcgetattr(m, &t) == 0) {
            cfmakeraw(&t);
            tcsetattr(m, TCSANOW, &t);
        }
        set_nonblock(m);
        fprintf(stderr, "char device redirected to %s\n", chr->pty_path);
    } else if (!strcmp(s, "vc") || g_str_has_prefix(s, "vc:")) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
            g_set_error(error, CHARDEV_ERROR, 0, "vc: %s", g_strerror(errno));
            return NULL;
        }
        chr = chr_alloc(CHR_VC, spec, ctx);
        chr->in_fd = chr->out_fd = sv[0];
        chr->vc_peer = sv[1];
        set_nonblock(sv[0]);
    } else if (g_str_has_prefix(s, "unix:") || g_str_has_prefix(s, "tcp:")) {
        bool is_unix = s[0] == 'u';
        gchar **parts = g_strsplit(s + (is_unix ? 5 : 4), ",", -1);
        SockOpts o;
        if (!parts[0] || !*parts[0]) {
            g_set_error(error, CHARDEV_ERROR, 0, "'%s': missing address",
                        spec);
            g_strfreev(parts);
            return NULL;
        }
        if (!parse_sock_opts(parts + 1, &o, spec, error)) {
            g_strfreev(parts);
            return NULL;
        }
        int fd = open_socket(parts[0], is_unix, &o, spec, error);
        g_strfreev(parts);
        if (fd < 0) {
            return NULL;
        }
        chr = chr_alloc(CHR_SOCKET, spec, ctx);
        if (o.server) {
            chr->listen_fd = fd;
            if (o.wait) {
                fprintf(stderr, "mimic: waiting for connection on %s\n", spec);
                int c = accept(fd, NULL, NULL);
                if (c >= 0) {
                    set_nonblock(c);
                    chr->in_fd = chr->out_fd = c;
                }
            }
            chr->listen_src = g_unix_fd_source_new(fd, G_IO_IN);
            g_source_set_callback(chr->listen_src,
                                  (GSourceFunc)(void (*)(void))on_accept,
                                  chr, NULL);
            g_source_attach(chr->listen_src, ctx);
        } else {
            set_nonblock(fd);
            chr->in_fd = chr->out_fd = fd;
        }
    } else {
        g_set_error(error, CHARDEV_ERROR, 0,
                    "unknown character device '%s'", spec);
        return NULL;
    }
    chr->mux = mux;
    watch_input(chr);
    return chr;
}

CharDev *chardev_mux_monitor(CharDev *chr)
{
    if (!chr->mux_mon) {
        chr->mux_mon = chr_alloc(CHR_MUX_MONITOR, chr->spec, chr->ctx);
        chr->mux_mon->parent = chr;
        chr->mux = true;
    }
    return chr->mux_mon;
}

void chardev_free(CharDev *chr)
{
    if (!chr) {
        return;
    }
    unwatch_input(chr);
    if (chr->drop_src) {
        g_source_destroy(chr->drop_src);
        g_source_unref(chr->drop_src);
    }
    if (chr->listen_src) {
        g_source_destroy(chr->listen_src);
        g_source_unref(chr->listen_src);
    }
    if (chr->tty_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &chr->saved_tio);
    }
    if (chr->in_fd >= 0) {
        close(chr->in_fd);
    }
    if (chr->out_fd >= 0 && chr->out_fd != chr->in_fd &&
        chr->out_fd != STDOUT_FILENO) {
        close(chr->out_fd);
    }
    if (chr->listen_fd >= 0) {
        close(chr->listen_fd);
    }
    if (chr->vc_peer >= 0) {
        close(chr->vc_peer);
    }
    if (chr->mux_mon) {
        g_free(chr->mux_mon->spec);
        g_free(chr->mux_mon);
    }
    g_free(chr->pty_path);
    g_free(chr->spec);
    g_free(chr);
}

void chardev_set_frontend(CharDev *chr, const CharFrontend *fe, void *opaque)
{
    chr->fe = fe;
    chr->fe_opaque = opaque;
    if (fe && fe->event && (chr->out_fd >= 0 || chr->kind == CHR_MUX_MONITOR)) {
        /* Monitors print their banner once the back end is there; a mux
           monitor only when it has the focus. */
        if (chr->kind != CHR_MUX_MONITOR) {
            fe->event(opaque, CHARDEV_EVENT_OPENED);
        }
    }
}

int chardev_write(CharDev *chr, const void *buf, int len)
{
    if (!chr || len <= 0) {
        return len;
    }
    if (chr->kind == CHR_MUX_MONITOR) {
        CharDev *p = chr->parent;
        /* The monitor writes only while it has the terminal. */
        return p->focus_mon ? chardev_write_raw_(p, buf, len) : len;
    }
    if (chr->mux && chr->focus_mon) {
        return len; /* the guest's output waits while the monitor is up */
    }
    return chardev_write_raw_(chr, buf, len);
}

int chardev_write_raw_(CharDev *chr, const void *buf, int len)
{
    const uint8_t *p = buf;
    int done = 0;
    int spins = 0;
    if (chr->out_fd < 0 || chr->hung_up) {
        return len;
    }
    while (done < len) {
        ssize_t n;
        if (chr->kind == CHR_SOCKET) {
            /* MSG_NOSIGNAL: a departed client is an EPIPE, not a SIGPIPE,
               whatever the process does with the signal. */
            n = send(chr->out_fd, p + done, len - done, MSG_NOSIGNAL);
        } else {
            n = write(chr->out_fd, p + done, len - done);
        }
        if (n > 0) {
            done += n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR) &&
                   spins++ < 100) {
            g_usleep(1000); /* a slow reader: wait at most ~0.1 s */
        } else {
            if (n < 0 && chr->kind == CHR_SOCKET &&
                (errno == EPIPE || errno == ECONNRESET ||
                 errno == ENOTCONN)) {
                schedule_drop(chr);
            }
            break; /* gone or too slow: drop the rest */
        }
    }
    return len;
}

void chardev_printf(CharDev *chr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    chardev_write(chr, s, strlen(s));
}

void chardev_accept_input(CharDev *chr)
{
    if (chr->kind == CHR_MUX_MONITOR) {
        chr = chr->parent;
    }
    watch_input(chr);
}

bool chardev_is_tty(CharDev *chr)
{
    if (chr->kind == CHR_MUX_MONITOR) {
        chr = chr->parent;
    }
    return chr->kind == CHR_STDIO ? isatty(STDIN_FILENO) :
           chr->kind == CHR_PTY || chr->kind == CHR_VC;
}

const char *chardev_spec(CharDev *chr)
{
    return chr->spec;
}

const char *chardev_pty_path(CharDev *chr)
{
    return chr->pty_path;
}

int chardev_vc_fd(CharDev *chr)
{
    if (chr->kind == CHR_MUX_MONITOR) {
        chr = chr->parent;
    }
    return chr->vc_peer;
}
