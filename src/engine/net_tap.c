/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tap back end (see net_tap.h).
 * Reference: Linux Documentation/networking/tuntap.rst (TUNSETIFF with
 * IFF_TAP | IFF_NO_PI: one read or write is one Ethernet frame).
 */
#include "engine/net_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if.h>
#include <linux/if_tun.h>

#include "engine/mimic.h"

struct NetTap {
    int fd;
    NetPort *port;
    char ifname[IFNAMSIZ];
    guint poll_index;
    uint8_t *buf;
};

static bool tap_receive(void *opaque, const uint8_t *buf, size_t len)
{
    NetTap *t = opaque;
    /* The interface takes a frame or drops it; never wait for it. */
    if (write(t->fd, buf, len) < 0 && errno != EAGAIN) {
        return true;
    }
    return true;
}

static const NetPortOps tap_ops = { .receive = tap_receive };

NetTap *net_tap_new(const char *name, const char *options, GError **error)
{
    g_autofree char *ifname = NULL;
    gchar **items = g_strsplit(options ? options : "", ",", -1);
    for (gchar **it = items; *it; it++) {
        if (!**it) {
            continue;
        }
        char *eq = strchr(*it, '=');
        const char *val = eq ? eq + 1 : "";
        size_t klen = eq ? (size_t)(eq - *it) : strlen(*it);
        g_autofree char *key = g_strndup(*it, klen);
        if (!strcmp(key, "ifname")) {
            g_free(ifname);
            ifname = g_strdup(val);
        } else if (!strcmp(key, "script") || !strcmp(key, "downscript")) {
            if (strcmp(val, "no")) {
                g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                            "netdev %s: tap %s='%s' is not supported (Mimic "
                            "runs no scripts: use %s=no and configure the "
                            "interface beforehand)", name, key, val, key);
                g_strfreev(items);
                return NULL;
            }
        } else if (strcmp(key, "id") && strcmp(key, "name")) {
            g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                        "netdev %s: unknown tap parameter '%s' (ifname, "
                        "script=no, downscript=no)", name, key);
            g_strfreev(items);
            return NULL;
        }
    }
    g_strfreev(items);
    if (ifname && strlen(ifname) >= IFNAMSIZ) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "netdev %s: interface name '%s' is too long (at most %d "
                    "characters)", name, ifname, IFNAMSIZ - 1);
        return NULL;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "netdev %s: cannot open /dev/net/tun: %s (this host "
                    "offers no tap interfaces; use -netdev user)", name,
                    g_strerror(errno));
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ifname) {
        g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    }
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "netdev %s: cannot attach to tap interface '%s': %s%s",
                    name, ifname ? ifname : "(new)", g_strerror(e),
                    e == EPERM ? " (needs CAP_NET_ADMIN, or an interface "
                    "made for this user: ip tuntap add NAME mode tap user "
                    "USER)" : "");
        return NULL;
    }
    NetTap *t = g_new0(NetTap, 1);
    t->fd = fd;
    g_strlcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
    t->buf = g_malloc(NET_MAX_FRAME);
    t->port = net_port_new(name, &tap_ops, t);
    g_autofree char *info = g_strdup_printf("ifname=%s,script=no,"
                                            "downscript=no", t->ifname);
    net_port_set_info(t->port, info);
    return t;
}

void net_tap_free(NetTap *t)
{
    if (!t) {
        return;
    }
    net_port_free(t->port);
    close(t->fd);
    g_free(t->buf);
    g_free(t);
}

NetPort *net_tap_port(NetTap *t)
{
    return t->port;
}

void net_tap_fill(NetTap *t, GArray *fds, int *timeout_ms)
{
    GPollFD p = { .fd = t->fd, .events = G_IO_IN };
    t->poll_index = fds->len;
    g_array_append_val(fds, p);
}

void net_tap_dispatch(NetTap *t, GArray *fds)
{
    if (t->poll_index >= fds->len ||
        !(g_array_index(fds, GPollFD, t->poll_index).revents & G_IO_IN)) {
        return;
    }
    /* A bounded batch per poll, so a busy interface cannot starve the
       CPU. */
    for (int i = 0; i < 64; i++) {
        ssize_t n = read(t->fd, t->buf, NET_MAX_FRAME);
        if (n <= 0) {
            break;
        }
        net_send(t->port, t->buf, n);
    }
    net_batch_end(t->port);
}
