/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * User-mode networking through libslirp (see net_user.h).
 * Reference: libslirp's libslirp.h (SlirpConfig version 1, SlirpCb with
 * timer_new; timer_mod takes milliseconds of the clock_get_ns clock).
 *
 * Threads: slirp runs on a thread of its own ("slirp"), which polls its
 * sockets and runs its timers, so host socket work never runs on the CPU's
 * thread.  The guest's frames go into slirp on the worker (the CPU and the
 * cards) itself whenever the thread is asleep in its poll, so that
 * slirp's answers reach the card inside the same call as before the
 * thread (see port_receive); otherwise they wait in a queue for the thread.
 * Frames slirp makes on its thread (data read from a host socket, timer
 * retransmissions) wait in a second queue for the worker's own poll
 * (net_user_dispatch), which an eventfd wakes.
 * Two locks: `lock` owns the Slirp and its timers (the thread holds it
 * except while it sleeps in poll; hostfwd_add/remove take it), `qlock`
 * the two queues (taken by both sides, never held for more than a
 * queue operation; taken inside `lock`, never the other way round).
 * Both queues are bounded: beyond TO_GUEST_SOFT frames waiting for the
 * worker the thread stops reading sockets (the guest is not taking
 * frames: a paused machine, a full ring); beyond the hard limits frames
 * are dropped, as a wire would.
 */
#include "engine/net_user.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <slirp/libslirp.h>

#include "bus/log.h"
#include "engine/mimic.h"

typedef struct UserTimer {
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms; /* -1: not armed */
} UserTimer;

#define TO_GUEST_SOFT 1024 /* frames for the worker: stop reading sockets */
#define TO_GUEST_MAX 8192  /* frames for the worker: drop beyond */
#define TO_SLIRP_MAX 4096  /* frames from the guest: drop beyond */

struct NetUser {
    Slirp *slirp;
    NetPort *port;
    GPtrArray *timers; /* UserTimer * */
    guint poll_base;   /* first slirp entry in the thread's array */
    struct in_addr dhcp_start;
    char *hostname, *domainname, *tftp, *bootfile;
    /* The slirp thread (see the top of this file). */
    GThread *thread;
    GMutex lock;       /* slirp, timers, quit */
    GMutex qlock;      /* to_slirp, to_guest, notified, dropped */
    GQueue to_slirp;   /* GBytes *: the guest's frames, for slirp */
    GQueue to_guest;   /* GBytes *: slirp's frames, for the worker */
    bool notified;     /* notify_fd written since the worker's last drain */
    bool on_worker;    /* with lock: the worker is inside slirp_input */
    bool kick_pending; /* worker: slirp was fed; the thread polls anew */
    NetUserMode mode;
    bool quit;
    int wake_fd;       /* eventfd the thread polls */
    int notify_fd;     /* eventfd the worker polls */
    guint worker_idx;  /* notify_fd's entry in the worker's array */
    uint64_t dropped;  /* frames the queues' hard limits dropped */
};

static int64_t now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

/* ---- slirp callbacks ---- */

static void kick(int fd)
{
    uint64_t one = 1;
    while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
}

static void drain_fd(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR) {
    }
}

/* With `lock` held.  On the slirp thread, a frame for the guest waits for
   the worker, which the first frame of a burst wakes; on the worker
   (an answer to the guest's frame) it goes to the port at once. */
static ssize_t cb_send_packet(const void *buf, size_t len,
                                    void *opaque)
{
    NetUser *u = opaque;
    if (u->on_worker) {
        net_send(u->port, buf, len); /* an answer inside port_receive */
        return len;
    }
    bool wake = false;
    g_mutex_lock(&u->qlock);
    if (g_queue_get_length(&u->to_guest) >= TO_GUEST_MAX) {
        u->dropped++;
    } else {
        g_queue_push_tail(&u->to_guest, g_bytes_new(buf, len));
        wake = !u->notified;
        u->notified = true;
    }
    g_mutex_unlock(&u->qlock);
    if (wake) {
        kick(u->notify_fd);
    }
    return len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    mimic_log_guest("user network: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    return g_get_monotonic_time() * 1000;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    NetUser *u = opaque;
    UserTimer *t = g_new0(UserTimer, 1);
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    g_ptr_array_add(u->timers, t);
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    NetUser *u = opaque;
    g_ptr_array_remove(u->timers, timer);
    g_free(timer);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    ((UserTimer *)timer)->expire_ms = expire_ms;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
    /* Called on the slirp thread, which fills its poll set anew on each
       round anyway. */
}

static const SlirpCb user_cb = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
};

static gpointer slirp_thread(gpointer opaque);

/* ---- frames from the guest ---- */

/* On the worker.  When slirp is free (the thread asleep in its poll, the
   usual case), the worker feeds it the frame itself, and slirp's answers
   (an ARP or DHCP reply, a TCP ACK, data it holds already) reach the card
   inside this call, with no thread hop: the guest's network stack never
   waits for a scheduler.  The thread is kicked when the card ends its
   burst (port_batch_end; at the latest at the worker's next poll step),
   to poll the sockets those frames may have created or made writable
   (or, their ACKs having made room, read again): once per burst, so that
   it does not take slirp from the worker in the middle of one.  When the
   thread holds slirp, the frame waits in its queue instead (sync mode,
   under -icount: the worker waits for slirp, so that slirp's answers
   reach the card at the same instruction in every run, as before the
   thread). */
static bool port_receive(void *opaque, const uint8_t *buf, size_t len)
{
    NetUser *u = opaque;
    if (u->mode == NET_USER_SYNC || !u->thread) {
        g_mutex_lock(&u->lock);
    } else if (u->mode == NET_USER_QUEUED || !g_mutex_trylock(&u->lock)) {
        bool wake = false;
        g_mutex_lock(&u->qlock);
        if (g_queue_get_length(&u->to_slirp) >= TO_SLIRP_MAX) {
            u->dropped++;
        } else {
            wake = g_queue_is_empty(&u->to_slirp);
            g_queue_push_tail(&u->to_slirp, g_bytes_new(buf, len));
        }
        g_mutex_unlock(&u->qlock);
        if (wake) {
            kick(u->wake_fd);
        }
        return true;
    }
    u->on_worker = true;
    slirp_input(u->slirp, buf, len);
    u->on_worker = false;
    g_mutex_unlock(&u->lock);
    u->kick_pending = true; /* once per burst, not per frame */
    net_batch_end(u->port);
    return true;
}

/* The card ended a burst of frames (its transmit run): the thread polls
   anew now, not in the middle of the burst. */
static void port_batch_end(void *opaque)
{
    NetUser *u = opaque;
    if (u->kick_pending) {
        u->kick_pending = false;
        kick(u->wake_fd);
    }
}

static const NetPortOps user_port_ops = { .receive = port_receive,
                                          .batch_end = port_batch_end };

/* ---- options ---- */

static bool fail(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static bool fail(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG, msg);
    return false;
}

static bool parse_addr(const char *s, struct in_addr *a)
{
    return inet_pton(AF_INET, s, a) == 1;
}

static bool parse_port(const char *s, int *port)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < 0 || v > 65535) {
        return false;
    }
    *port = v;
    return true;
}

typedef struct FwdRule {
    bool udp;
    struct in_addr haddr, gaddr;
    int hport, gport;
} FwdRule;

/* [tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT, or for removal
   [tcp|udp]:[HADDR]:HPORT. */
static bool parse_fwd(NetUser *u, const char *rule, bool removal,
                      FwdRule *r, GError **error)
{
    g_autofree char *s = g_strdup(rule);
    char *p = s;
    memset(r, 0, sizeof(*r));
    r->gaddr = u->dhcp_start;
    char *colon = strchr(p, ':');
    if (!colon) {
        return fail(error, "hostfwd: invalid rule '%s' (expected "
                    "[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport)",
                    rule);
    }
    *colon = 0;
    if (!strcmp(p, "udp")) {
        r->udp = true;
    } else if (*p && strcmp(p, "tcp")) {
        return fail(error, "hostfwd: invalid protocol '%s' in '%s' (tcp or "
                    "udp)", p, rule);
    }
    p = colon + 1;
    colon = strchr(p, ':');
    if (!colon) {
        return fail(error, "hostfwd: invalid rule '%s' (expected "
                    "[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport)",
                    rule);
    }
    *colon = 0;
    if (*p && !parse_addr(p, &r->haddr)) {
        return fail(error, "hostfwd: invalid host address '%s' in '%s'", p,
                    rule);
    }
    p = colon + 1;
    char *dash = strchr(p, '-');
    if (removal) {
        if (dash || !parse_port(p, &r->hport)) {
            return fail(error, "hostfwd: invalid host port in '%s'", rule);
        }
        return true;
    }
    if (!dash) {
        return fail(error, "hostfwd: invalid rule '%s' (expected "
                    "[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport)",
                    rule);
    }
    *dash = 0;
    if (!parse_port(p, &r->hport)) {
        return fail(error, "hostfwd: invalid host port '%s' in '%s'", p,
                    rule);
    }
    p = dash + 1;
    colon = strchr(p, ':');
    if (!colon) {
        return fail(error, "hostfwd: invalid rule '%s' (expected "
                    "[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport)",
                    rule);
    }
    *colon = 0;
    if (*p && !parse_addr(p, &r->gaddr)) {
        return fail(error, "hostfwd: invalid guest address '%s' in '%s'", p,
                    rule);
    }
    if (!parse_port(colon + 1, &r->gport) || r->gport == 0) {
        return fail(error, "hostfwd: invalid guest port '%s' in '%s'",
                    colon + 1, rule);
    }
    return true;
}

bool net_user_hostfwd_add(NetUser *u, const char *rule, GError **error)
{
    FwdRule r;
    if (!parse_fwd(u, rule, false, &r, error)) {
        return false;
    }
    g_mutex_lock(&u->lock);
    int rc = slirp_add_hostfwd(u->slirp, r.udp, r.haddr, r.hport, r.gaddr,
                               r.gport);
    int e = errno;
    g_mutex_unlock(&u->lock);
    kick(u->wake_fd); /* the thread polls the new socket from now on */
    if (rc < 0) {
        return fail(error, "hostfwd: cannot forward host %s port %d: %s",
                    r.udp ? "UDP" : "TCP", r.hport,
                    e ? g_strerror(e) : "the port is in use");
    }
    return true;
}

bool net_user_hostfwd_remove(NetUser *u, const char *rule, GError **error)
{
    FwdRule r;
    if (!parse_fwd(u, rule, true, &r, error)) {
        return false;
    }
    g_mutex_lock(&u->lock);
    int rc = slirp_remove_hostfwd(u->slirp, r.udp, r.haddr, r.hport);
    g_mutex_unlock(&u->lock);
    kick(u->wake_fd);
    if (rc < 0) {
        return fail(error, "hostfwd_remove: no %s forwarding of host port %d",
                    r.udp ? "UDP" : "TCP", r.hport);
    }
    return true;
}

NetUser *net_user_new(const char *name, const char *options, GError **error)
{
    NetUser *u = g_new0(NetUser, 1);
    u->timers = g_ptr_array_new();
    g_mutex_init(&u->lock);
    g_mutex_init(&u->qlock);
    g_queue_init(&u->to_slirp);
    g_queue_init(&u->to_guest);
    u->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    u->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (u->wake_fd < 0 || u->notify_fd < 0) {
        int e = errno;
        net_user_free(u);
        fail(error, "-netdev user: eventfd: %s", g_strerror(e));
        return NULL;
    }
    SlirpConfig c = { .version = 1, .in_enabled = true };
    inet_pton(AF_INET, "10.0.2.0", &c.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &c.vnetmask);
    bool have_host = false, have_dhcp = false, have_dns = false;
    g_auto(GStrv) items = g_strsplit(options ? options : "", ",", -1);
    GPtrArray *fwds = g_ptr_array_new();
    bool ok = true;
    for (int i = 0; ok && items[i]; i++) {
        char *it = items[i];
        if (!*it) {
            continue;
        }
        char *eq = strchr(it, '=');
        const char *val = eq ? eq + 1 : "";
        if (eq) {
            *eq = 0;
        }
        if (!strcmp(it, "id") || !strcmp(it, "name") ||
            !strcmp(it, "vlan")) {
            continue;
        } else if (!strcmp(it, "net")) {
            g_autofree char *a = g_strdup(val);
            char *slash = strchr(a, '/');
            int bits = 24;
            if (slash) {
                *slash = 0;
                char *end;
                long b = strtol(slash + 1, &end, 10);
                if (*end || b < 8 || b > 30) {
                    struct in_addr m;
                    if (parse_addr(slash + 1, &m)) {
                        c.vnetmask = m;
                        bits = -1;
                    } else {
                        ok = fail(error, "-netdev user: invalid net mask "
                                  "'%s'", slash + 1);
                        break;
                    }
                } else {
                    bits = b;
                }
            }
            if (bits > 0) {
                c.vnetmask.s_addr = htonl(~0u << (32 - bits));
            }
            if (!parse_addr(a, &c.vnetwork)) {
                ok = fail(error, "-netdev user: invalid network '%s'", val);
            }
            c.vnetwork.s_addr &= c.vnetmask.s_addr;
        } else if (!strcmp(it, "host")) {
            ok = parse_addr(val, &c.vhost) ||
                 fail(error, "-netdev user: invalid host address '%s'", val);
            have_host = true;
        } else if (!strcmp(it, "dhcpstart")) {
            ok = parse_addr(val, &c.vdhcp_start) ||
                 fail(error, "-netdev user: invalid dhcpstart '%s'", val);
            have_dhcp = true;
        } else if (!strcmp(it, "dns")) {
            ok = parse_addr(val, &c.vnameserver) ||
                 fail(error, "-netdev user: invalid dns address '%s'", val);
            have_dns = true;
        } else if (!strcmp(it, "restrict")) {
            if (!strcmp(val, "on") || !strcmp(val, "yes") || !*val) {
                c.restricted = 1;
            } else if (!strcmp(val, "off") || !strcmp(val, "no")) {
                c.restricted = 0;
            } else {
                ok = fail(error, "-netdev user: invalid restrict '%s' (on or "
                          "off)", val);
            }
        } else if (!strcmp(it, "hostname")) {
            g_free(u->hostname);
            u->hostname = g_strdup(val);
        } else if (!strcmp(it, "domainname")) {
            g_free(u->domainname);
            u->domainname = g_strdup(val);
        } else if (!strcmp(it, "tftp")) {
            g_free(u->tftp);
            u->tftp = g_strdup(val);
        } else if (!strcmp(it, "bootfile")) {
            g_free(u->bootfile);
            u->bootfile = g_strdup(val);
        } else if (!strcmp(it, "hostfwd")) {
            g_ptr_array_add(fwds, (char *)val);
        } else if (!strcmp(it, "ipv4")) {
            ok = !strcmp(val, "on") ||
                 fail(error, "-netdev user: ipv4=%s is not supported", val);
        } else if (!strcmp(it, "ipv6")) {
            /* IPv6 is not offered; "off" is what we do. */
            ok = !strcmp(val, "off") ||
                 fail(error, "-netdev user: ipv6 is not supported yet");
        } else {
            ok = fail(error, "-netdev user: invalid parameter '%s'", it);
        }
    }
    uint32_t net = ntohl(c.vnetwork.s_addr);
    if (ok && !have_host) {
        c.vhost.s_addr = htonl(net | 2);
    }
    if (ok && !have_dhcp) {
        c.vdhcp_start.s_addr = htonl(net | 15);
    }
    if (ok && !have_dns) {
        c.vnameserver.s_addr = htonl(net | 3);
    }
    if (ok && ((c.vhost.s_addr & c.vnetmask.s_addr) != c.vnetwork.s_addr ||
               (c.vdhcp_start.s_addr & c.vnetmask.s_addr) !=
               c.vnetwork.s_addr ||
               (c.vnameserver.s_addr & c.vnetmask.s_addr) !=
               c.vnetwork.s_addr)) {
        ok = fail(error, "-netdev user: host, dhcpstart and dns must be in "
                  "the guest network");
    }
    if (!ok) {
        g_ptr_array_free(fwds, TRUE);
        net_user_free(u);
        return NULL;
    }
    u->dhcp_start = c.vdhcp_start;
    c.vhostname = u->hostname;
    c.vdomainname = u->domainname;
    c.tftp_path = u->tftp;
    c.bootfile = u->bootfile;
    u->slirp = slirp_new(&c, &user_cb, u);
    if (!u->slirp) {
        g_ptr_array_free(fwds, TRUE);
        net_user_free(u);
        fail(error, "-netdev user: libslirp could not start");
        return NULL;
    }
    u->port = net_port_new(name, &user_port_ops, u);
    net_port_set_takes_large(u->port, true);
    char net_s[INET_ADDRSTRLEN], mask_s[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &c.vnetwork, net_s, sizeof(net_s));
    inet_ntop(AF_INET, &c.vnetmask, mask_s, sizeof(mask_s));
    g_autofree char *info = g_strdup_printf(
        "type=user,net=%s,restrict=%s", net_s,
        c.restricted ? "on" : "off");
    net_port_set_info(u->port, info);
    for (guint i = 0; i < fwds->len; i++) {
        if (!net_user_hostfwd_add(u, g_ptr_array_index(fwds, i), error)) {
            g_prefix_error(error, "-netdev user: ");
            g_ptr_array_free(fwds, TRUE);
            net_user_free(u);
            return NULL;
        }
    }
    g_ptr_array_free(fwds, TRUE);
    u->thread = g_thread_try_new("slirp", slirp_thread, u, error);
    if (!u->thread) {
        g_prefix_error(error, "-netdev user: ");
        net_user_free(u);
        return NULL;
    }
    return u;
}

void net_user_free(NetUser *u)
{
    if (!u) {
        return;
    }
    if (u->thread) {
        g_mutex_lock(&u->lock);
        u->quit = true;
        g_mutex_unlock(&u->lock);
        kick(u->wake_fd);
        g_thread_join(u->thread);
    }
    if (u->slirp) {
        slirp_cleanup(u->slirp);
    }
    g_queue_clear_full(&u->to_slirp, (GDestroyNotify)g_bytes_unref);
    g_queue_clear_full(&u->to_guest, (GDestroyNotify)g_bytes_unref);
    if (u->wake_fd >= 0) {
        close(u->wake_fd);
    }
    if (u->notify_fd >= 0) {
        close(u->notify_fd);
    }
    g_mutex_clear(&u->lock);
    g_mutex_clear(&u->qlock);
    net_port_free(u->port);
    for (guint i = 0; i < u->timers->len; i++) {
        g_free(g_ptr_array_index(u->timers, i));
    }
    g_ptr_array_free(u->timers, TRUE);
    g_free(u->hostname);
    g_free(u->domainname);
    g_free(u->tftp);
    g_free(u->bootfile);
    g_free(u);
}

NetPort *net_user_port(NetUser *u)
{
    return u->port;
}

/* ---- the slirp thread ---- */

typedef struct FillCtx {
    NetUser *u;
    GArray *fds;
} FillCtx;

static int add_poll(int fd, int events, void *opaque)
{
    FillCtx *fc = opaque;
    GPollFD p = { .fd = fd };
    if (events & SLIRP_POLL_IN) {
        p.events |= G_IO_IN;
    }
    if (events & SLIRP_POLL_OUT) {
        p.events |= G_IO_OUT;
    }
    if (events & SLIRP_POLL_PRI) {
        p.events |= G_IO_PRI;
    }
    if (events & SLIRP_POLL_ERR) {
        p.events |= G_IO_ERR;
    }
    if (events & SLIRP_POLL_HUP) {
        p.events |= G_IO_HUP;
    }
    g_array_append_val(fc->fds, p);
    return fc->fds->len - 1 - fc->u->poll_base;
}

typedef struct PollCtx {
    NetUser *u;
    GArray *fds;
} PollCtx;

static int get_revents(int idx, void *opaque)
{
    PollCtx *pc = opaque;
    guint i = pc->u->poll_base + idx;
    if (idx < 0 || i >= pc->fds->len) {
        return 0;
    }
    unsigned r = g_array_index(pc->fds, GPollFD, i).revents;
    int e = 0;
    if (r & G_IO_IN) {
        e |= SLIRP_POLL_IN;
    }
    if (r & G_IO_OUT) {
        e |= SLIRP_POLL_OUT;
    }
    if (r & G_IO_PRI) {
        e |= SLIRP_POLL_PRI;
    }
    if (r & G_IO_ERR) {
        e |= SLIRP_POLL_ERR;
    }
    if (r & G_IO_HUP) {
        e |= SLIRP_POLL_HUP;
    }
    return e;
}

/* With `lock` held: milliseconds to slirp's next timer, or -1. */
static int timers_timeout(NetUser *u, uint32_t t)
{
    int64_t now = now_ms();
    for (guint i = 0; i < u->timers->len; i++) {
        UserTimer *tm = g_ptr_array_index(u->timers, i);
        if (tm->expire_ms >= 0) {
            int64_t d = MAX(tm->expire_ms - now, 0);
            if (d < t) {
                t = d;
            }
        }
    }
    return t == UINT32_MAX ? -1 : (int)MIN(t, (uint32_t)INT32_MAX);
}

/* With `lock` held. */
static void timers_run(NetUser *u)
{
    int64_t now = now_ms();
    /* A timer callback may free or add timers: look again each time. */
    for (bool fired = true; fired;) {
        fired = false;
        for (guint i = 0; i < u->timers->len; i++) {
            UserTimer *tm = g_ptr_array_index(u->timers, i);
            if (tm->expire_ms >= 0 && tm->expire_ms <= now) {
                tm->expire_ms = -1;
                tm->cb(tm->cb_opaque);
                fired = true;
                break;
            }
        }
    }
}

static gpointer slirp_thread(gpointer opaque)
{
    NetUser *u = opaque;
    GArray *fds = g_array_sized_new(FALSE, TRUE, sizeof(GPollFD), 32);
    g_mutex_lock(&u->lock);
    while (!u->quit) {
        g_array_set_size(fds, 0);
        GPollFD w = { .fd = u->wake_fd, .events = G_IO_IN };
        g_array_append_val(fds, w);
        u->poll_base = fds->len;
        g_mutex_lock(&u->qlock);
        bool sockets = g_queue_get_length(&u->to_guest) < TO_GUEST_SOFT;
        g_mutex_unlock(&u->qlock);
        uint32_t t = UINT32_MAX;
        if (sockets) {
            FillCtx fc = { u, fds };
            slirp_pollfds_fill(u->slirp, &t, add_poll, &fc);
        }
        int timeout = timers_timeout(u, t);
        g_mutex_unlock(&u->lock);
        int r = g_poll((GPollFD *)fds->data, fds->len, timeout);
        if (r > 0 && g_array_index(fds, GPollFD, 0).revents) {
            drain_fd(u->wake_fd);
        }
        g_mutex_lock(&u->lock);
        if (u->quit) {
            break;
        }
        if (sockets) {
            PollCtx pc = { u, fds };
            slirp_pollfds_poll(u->slirp, r < 0, get_revents, &pc);
        }
        timers_run(u);
        /* The guest's frames, in order; slirp's answers queue up for
           the worker meanwhile (cb_send_packet). */
        for (;;) {
            g_mutex_lock(&u->qlock);
            GQueue in = u->to_slirp;
            g_queue_init(&u->to_slirp);
            g_mutex_unlock(&u->qlock);
            if (g_queue_is_empty(&in)) {
                break;
            }
            GBytes *b;
            while ((b = g_queue_pop_head(&in))) {
                gsize len;
                const uint8_t *p = g_bytes_get_data(b, &len);
                slirp_input(u->slirp, p, len);
                g_bytes_unref(b);
            }
        }
    }
    g_mutex_unlock(&u->lock);
    g_array_free(fds, TRUE);
    return NULL;
}

/* ---- the worker's side ---- */

void net_user_fill(NetUser *u, GArray *fds, int *timeout_ms)
{
    if (u->kick_pending) {
        u->kick_pending = false;
        kick(u->wake_fd);
    }
    u->worker_idx = fds->len;
    GPollFD p = { .fd = u->notify_fd, .events = G_IO_IN };
    g_array_append_val(fds, p);
}

void net_user_dispatch(NetUser *u, GArray *fds, bool poll_error)
{
    if (u->worker_idx < fds->len &&
        g_array_index(fds, GPollFD, u->worker_idx).fd == u->notify_fd &&
        g_array_index(fds, GPollFD, u->worker_idx).revents) {
        drain_fd(u->notify_fd);
    }
    g_mutex_lock(&u->qlock);
    GQueue out = u->to_guest;
    bool resume = g_queue_get_length(&out) >= TO_GUEST_SOFT;
    g_queue_init(&u->to_guest);
    u->notified = false;
    g_mutex_unlock(&u->qlock);
    if (resume) {
        kick(u->wake_fd); /* the thread reads its sockets again */
    }
    if (g_queue_is_empty(&out)) {
        return;
    }
    GBytes *b;
    while ((b = g_queue_pop_head(&out))) {
        gsize len;
        const uint8_t *p = g_bytes_get_data(b, &len);
        net_send(u->port, p, len);
        g_bytes_unref(b);
    }
    net_batch_end(u->port);
}

void net_user_set_mode(NetUser *u, NetUserMode mode)
{
    u->mode = mode;
}

uint64_t net_user_dropped(NetUser *u)
{
    g_mutex_lock(&u->qlock);
    uint64_t n = u->dropped;
    g_mutex_unlock(&u->qlock);
    return n;
}
