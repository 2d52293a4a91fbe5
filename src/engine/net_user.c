/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * User-mode networking through libslirp (see net_user.h).
 * Reference: libslirp's libslirp.h (SlirpConfig version 1, SlirpCb with
 * timer_new; timer_mod takes milliseconds of the clock_get_ns clock).
 */
#include "engine/net_user.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <slirp/libslirp.h>

#include "bus/log.h"
#include "engine/mimic.h"

typedef struct UserTimer {
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms; /* -1: not armed */
} UserTimer;

struct NetUser {
    Slirp *slirp;
    NetPort *port;
    GPtrArray *timers; /* UserTimer * */
    guint poll_base;   /* first slirp entry in the worker's array */
    struct in_addr dhcp_start;
    char *hostname, *domainname, *tftp, *bootfile;
};

static int64_t now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

/* ---- slirp callbacks ---- */

static ssize_t cb_send_packet(const void *buf, size_t len,
                                    void *opaque)
{
    NetUser *u = opaque;
    net_send(u->port, buf, len);
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
    /* Everything runs on the worker thread, which polls again anyway. */
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

/* ---- frames from the guest ---- */

static bool port_receive(void *opaque, const uint8_t *buf, size_t len)
{
    NetUser *u = opaque;
    slirp_input(u->slirp, buf, len);
    net_batch_end(u->port); /* slirp answers at once (an ACK, more data) */
    return true;
}

static const NetPortOps user_port_ops = { .receive = port_receive };

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
    if (slirp_add_hostfwd(u->slirp, r.udp, r.haddr, r.hport, r.gaddr,
                          r.gport) < 0) {
        int e = errno;
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
    if (slirp_remove_hostfwd(u->slirp, r.udp, r.haddr, r.hport) < 0) {
        return fail(error, "hostfwd_remove: no %s forwarding of host port %d",
                    r.udp ? "UDP" : "TCP", r.hport);
    }
    return true;
}

NetUser *net_user_new(const char *name, const char *options, GError **error)
{
    NetUser *u = g_new0(NetUser, 1);
    u->timers = g_ptr_array_new();
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
    return u;
}

void net_user_free(NetUser *u)
{
    if (!u) {
        return;
    }
    if (u->slirp) {
        slirp_cleanup(u->slirp);
    }
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

/* ---- poll integration ---- */

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

void net_user_fill(NetUser *u, GArray *fds, int *timeout_ms)
{
    u->poll_base = fds->len;
    uint32_t t = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
    FillCtx fc = { u, fds };
    slirp_pollfds_fill(u->slirp, &t, add_poll, &fc);
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
    *timeout_ms = t == UINT32_MAX ? -1 : (int)MIN(t, (uint32_t)INT32_MAX);
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

void net_user_dispatch(NetUser *u, GArray *fds, bool poll_error)
{
    PollCtx pc = { u, fds };
    slirp_pollfds_poll(u->slirp, poll_error, get_revents, &pc);
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
    net_batch_end(u->port);
}
