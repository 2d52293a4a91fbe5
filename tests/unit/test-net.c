/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Network ports, hubs and the machine's network wiring (engine/net.c,
 * engine/network.c), and libslirp behind a port: an ARP request for the
 * gateway gets slirp's answer; slirp's own thread accepts a hostfwd
 * connection and the worker's poll step receives the frame it makes; a
 * flood of requests is answered or counted as dropped, never lost.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib.h>

#include "bus/net.h"
#include "engine/net_user.h"
#include "engine/network.h"

typedef struct Sink {
    GPtrArray *frames;
    bool busy;
    int links, last_link;
    int batches;
} Sink;

static bool sink_receive(void *opaque, const uint8_t *buf, size_t len)
{
    Sink *s = opaque;
    if (s->busy) {
        return false;
    }
    g_ptr_array_add(s->frames, g_bytes_new(buf, len));
    return true;
}

static void sink_link(void *opaque, bool up)
{
    Sink *s = opaque;
    s->links++;
    s->last_link = up;
}

static void sink_batch(void *opaque)
{
    ((Sink *)opaque)->batches++;
}

static const NetPortOps sink_ops = { .receive = sink_receive,
                                     .link_changed = sink_link,
                                     .batch_end = sink_batch };

static void sink_init(Sink *s)
{
    memset(s, 0, sizeof(*s));
    s->frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
}

static uint8_t frame_tag(Sink *s, guint i)
{
    gsize len;
    const uint8_t *p = g_bytes_get_data(s->frames->pdata[i], &len);
    return len ? p[0] : 0;
}

static void test_peer_queue_link(void)
{
    Sink a, b;
    sink_init(&a);
    sink_init(&b);
    NetPort *pa = net_port_new("a", &sink_ops, &a);
    NetPort *pb = net_port_new("b", &sink_ops, &b);
    net_port_connect(pa, pb);
    uint8_t f[60] = { 1 };
    net_send(pa, f, sizeof(f));
    g_assert_cmpuint(b.frames->len, ==, 1);
    g_assert_cmpuint(a.frames->len, ==, 0);
    net_batch_end(pa);
    g_assert_cmpint(b.batches, ==, 1);
    g_assert_cmpint(a.batches, ==, 0);
    g_assert_false(net_port_peer_takes_large(pa));
    net_port_set_takes_large(pb, true);
    g_assert_true(net_port_peer_takes_large(pa));
    g_assert_false(net_port_peer_takes_large(pb));
    /* A busy receiver: frames wait, in order, up to the queue's bound. */
    b.busy = true;
    for (int i = 0; i < NET_QUEUE_MAX + 10; i++) {
        f[0] = i;
        net_send(pa, f, sizeof(f));
    }
    g_assert_cmpuint(b.frames->len, ==, 1);
    g_assert_cmpuint(net_port_stats(pb)->rx_dropped, ==, 10);
    b.busy = false;
    net_port_flush(pb);
    g_assert_cmpuint(b.frames->len, ==, 1 + NET_QUEUE_MAX);
    g_assert_cmpuint(frame_tag(&b, 1), ==, 0);
    g_assert_cmpuint(frame_tag(&b, NET_QUEUE_MAX), ==,
                     (NET_QUEUE_MAX - 1) & 0xff);
    /* Link down: nothing crosses either way; the hook hears each change. */
    net_port_set_link(pb, false);
    net_port_set_link(pb, false);
    g_assert_cmpint(b.links, ==, 1);
    g_assert_cmpint(b.last_link, ==, 0);
    net_send(pa, f, sizeof(f));
    net_send(pb, f, sizeof(f));
    g_assert_cmpuint(b.frames->len, ==, 1 + NET_QUEUE_MAX);
    g_assert_cmpuint(a.frames->len, ==, 0);
    net_port_set_link(pb, true);
    g_assert_cmpint(b.links, ==, 2);
    net_send(pb, f, sizeof(f));
    g_assert_cmpuint(a.frames->len, ==, 1);
    /* Oversized and empty frames are dropped. */
    uint8_t *big = g_malloc0(NET_MAX_FRAME + 1);
    net_send(pb, big, NET_MAX_FRAME + 1);
    net_send(pb, big, 0);
    g_assert_cmpuint(a.frames->len, ==, 1);
    g_free(big);
    net_port_free(pa);
    g_assert_null(net_port_peer(pb));
    net_port_free(pb);
    g_ptr_array_free(a.frames, TRUE);
    g_ptr_array_free(b.frames, TRUE);
}

static void test_hub(void)
{
    Sink s[3];
    NetPort *p[3];
    NetHub *h = net_hub_new(0);
    for (int i = 0; i < 3; i++) {
        sink_init(&s[i]);
        g_autofree char *n = g_strdup_printf("dev%d", i);
        p[i] = net_port_new(n, &sink_ops, &s[i]);
        net_port_connect(p[i], net_hub_add_port(h));
    }
    uint8_t f[60] = { 7 };
    net_send(p[1], f, sizeof(f));
    g_assert_cmpuint(s[0].frames->len, ==, 1);
    g_assert_cmpuint(s[1].frames->len, ==, 0);
    g_assert_cmpuint(s[2].frames->len, ==, 1);
    net_port_set_link(p[2], false);
    net_send(p[0], f, sizeof(f));
    g_assert_cmpuint(s[1].frames->len, ==, 1);
    g_assert_cmpuint(s[2].frames->len, ==, 1);
    /* The end of a burst reaches every other member with its link up;
       large frames never go through a hub. */
    net_batch_end(p[0]);
    g_assert_cmpint(s[0].batches, ==, 0);
    g_assert_cmpint(s[1].batches, ==, 1);
    g_assert_cmpint(s[2].batches, ==, 0);
    net_port_set_takes_large(p[1], true);
    g_assert_false(net_port_peer_takes_large(p[0]));
    net_hub_free(h);
    for (int i = 0; i < 3; i++) {
        g_assert_null(net_port_peer(p[i]));
        net_port_free(p[i]);
        g_ptr_array_free(s[i].frames, TRUE);
    }
}

static void test_mac(void)
{
    uint8_t m[6];
    g_assert_true(net_parse_mac("52:54:00:AB:cd:0f", m));
    g_assert_cmphex(m[3], ==, 0xab);
    g_assert_cmphex(m[5], ==, 0x0f);
    g_assert_false(net_parse_mac("52:54:00:ab:cd", m));
    g_assert_false(net_parse_mac("52:54:00:ab:cd:0g", m));
    g_assert_false(net_parse_mac("52-54-00-ab-cd-0f", m));
    g_assert_false(net_parse_mac("01:00:5e:00:00:01", m)); /* multicast */
    g_assert_false(net_parse_mac("52:54:00:ab:cd:0f:", m));
    g_assert_false(net_parse_mac(NULL, m));
}

/* The configuration's wiring: QEMU's default, -net hubs, -nic none. */
static void test_wiring(void)
{
    MachineConfig cfg;
    BoardInstance b;
    GError *err = NULL;
    machine_config_init(&cfg);
    memset(&b, 0, sizeof(b));
    MachineNet *n = machine_net_new(&cfg, &b, &err);
    g_assert_no_error(err);
    g_assert_cmpint(b.n_nics, ==, 1);
    g_assert_cmpstr(b.nics[0].model, ==, "e1000");
    g_assert_cmphex(b.nics[0].mac[5], ==, 0x56);
    g_assert_cmpstr(net_port_name(b.nics[0].peer), ==, "user.0");
    machine_net_free(n);

    /* -net nic -net nic,macaddr=... -net user: a hub. */
    cfg.nics[0].model = g_strdup("e1000");
    cfg.nics[1].macaddr = g_strdup("52:54:00:00:00:09");
    cfg.n_nics = 2;
    cfg.netdevs[0].kind = g_strdup("user");
    cfg.netdevs[0].options = g_strdup("");
    cfg.n_netdevs = 1;
    memset(&b, 0, sizeof(b));
    n = machine_net_new(&cfg, &b, &err);
    g_assert_no_error(err);
    g_assert_cmpint(b.n_nics, ==, 2);
    g_assert_true(g_str_has_prefix(net_port_name(b.nics[0].peer), "hub0"));
    g_assert_true(g_str_has_prefix(net_port_name(b.nics[1].peer), "hub0"));
    g_assert_cmphex(b.nics[1].mac[5], ==, 0x09);
    machine_net_free(n);
    machine_config_clear(&cfg);

    machine_config_init(&cfg);
    cfg.net_none = true;
    memset(&b, 0, sizeof(b));
    n = machine_net_new(&cfg, &b, &err);
    g_assert_no_error(err);
    g_assert_cmpint(b.n_nics, ==, 0);
    GString *out = g_string_new(NULL);
    machine_net_info(n, &b, out);
    g_assert_cmpstr(out->str, ==, "no network cards\n");
    g_string_free(out, TRUE);
    machine_net_free(n);
    machine_config_clear(&cfg);
}

/* libslirp behind a port: ARP for the gateway 10.0.2.2 is answered with
   the gateway's MAC 52:55:0a:00:02:02. */
static void test_slirp_arp(void)
{
    GError *err = NULL;
    NetUser *u = net_user_new("user.0", "restrict=off", &err);
    g_assert_no_error(err);
    Sink s;
    sink_init(&s);
    NetPort *nic = net_port_new("nic", &sink_ops, &s);
    net_port_connect(nic, net_user_port(u));
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    uint8_t f[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    memcpy(f + 6, mac, 6);
    f[12] = 0x08;
    f[13] = 0x06;
    static const uint8_t arp[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
    memcpy(f + 14, arp, 8);
    memcpy(f + 22, mac, 6);
    memcpy(f + 28, "\x0a\x00\x02\x0f", 4);
    memcpy(f + 38, "\x0a\x00\x02\x02", 4);
    net_send(nic, f, sizeof(f));
    /* slirp answers on its thread: the worker's poll step takes it. */
    GArray *fds = g_array_new(FALSE, TRUE, sizeof(GPollFD));
    for (int i = 0; i < 50 && s.frames->len == 0; i++) {
        int t = 10;
        g_array_set_size(fds, 0);
        net_user_fill(u, fds, &t);
        g_poll((GPollFD *)fds->data, fds->len, t);
        net_user_dispatch(u, fds, false);
    }
    g_array_free(fds, TRUE);
    g_assert_cmpuint(s.frames->len, >=, 1);
    gsize len;
    const uint8_t *r = g_bytes_get_data(s.frames->pdata[0], &len);
    g_assert_cmpuint(len, >=, 42);
    g_assert_cmpmem(r, 6, mac, 6);
    g_assert_cmphex(r[12], ==, 0x08);
    g_assert_cmphex(r[13], ==, 0x06);
    g_assert_cmphex(r[21], ==, 2); /* reply */
    g_assert_cmpmem(r + 22, 6, "\x52\x55\x0a\x00\x02\x02", 6);
    g_assert_cmpmem(r + 28, 4, "\x0a\x00\x02\x02", 4);
    net_port_free(nic);
    net_user_free(u);
    g_ptr_array_free(s.frames, TRUE);

    /* Sync mode (-icount): the answer is there when net_send returns. */
    u = net_user_new("user.0", "restrict=on", &err);
    g_assert_no_error(err);
    net_user_set_mode(u, NET_USER_SYNC);
    sink_init(&s);
    nic = net_port_new("nic", &sink_ops, &s);
    net_port_connect(nic, net_user_port(u));
    for (int i = 0; i < 3; i++) {
        net_send(nic, f, sizeof(f));
        g_assert_cmpuint(s.frames->len, ==, i + 1);
        r = g_bytes_get_data(s.frames->pdata[i], &len);
        g_assert_cmphex(r[21], ==, 2);
    }
    g_assert_cmpint(s.batches, ==, 3);
    net_port_free(nic);
    net_user_free(u);
    g_ptr_array_free(s.frames, TRUE);

    /* Bad options are refused with one message. */
    g_assert_null(net_user_new("x", "hostfwd=tcp::1-:0", &err));
    g_assert_nonnull(strstr(err->message, "invalid guest port"));
    g_clear_error(&err);
    g_assert_null(net_user_new("x", "net=10.0.2.0/24,dhcpstart=10.0.3.9",
                               &err));
    g_assert_nonnull(strstr(err->message, "guest network"));
    g_clear_error(&err);
}

/* The worker's side of the slirp thread: poll its eventfd, take frames. */
static void slirp_pump(NetUser *u, Sink *s, guint want, int rounds)
{
    GArray *fds = g_array_new(FALSE, TRUE, sizeof(GPollFD));
    for (int i = 0; i < rounds && s->frames->len < want; i++) {
        int t = 20;
        g_array_set_size(fds, 0);
        net_user_fill(u, fds, &t);
        g_poll((GPollFD *)fds->data, fds->len, t);
        net_user_dispatch(u, fds, false);
    }
    g_array_free(fds, TRUE);
}

static void arp_request(uint8_t f[42], const uint8_t mac[6], uint8_t ip)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, mac, 6);
    f[12] = 0x08;
    f[13] = 0x06;
    static const uint8_t arp[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
    memcpy(f + 14, arp, 8);
    memcpy(f + 22, mac, 6);
    memcpy(f + 28, "\x0a\x00\x02\x0f", 4);
    memset(f + 32, 0, 6);
    memcpy(f + 38, "\x0a\x00\x02", 3);
    f[41] = ip;
}

/* A connection to a hostfwd port is accepted by slirp's thread (the
   worker never polls slirp's sockets now); what slirp sends towards the
   guest for it (an ARP request for 10.0.2.15, the guest being unknown
   yet, or the SYN to port 8080) reaches the card through the worker's
   poll step. */
static void test_slirp_thread_hostfwd(void)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(bind(ls, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    socklen_t alen = sizeof(a);
    g_assert_cmpint(getsockname(ls, (struct sockaddr *)&a, &alen), ==, 0);
    int port = ntohs(a.sin_port);
    close(ls);
    GError *err = NULL;
    g_autofree char *opts =
        g_strdup_printf("hostfwd=tcp:127.0.0.1:%d-:8080", port);
    NetUser *u = net_user_new("user.0", opts, &err);
    g_assert_no_error(err);
    Sink s;
    sink_init(&s);
    NetPort *nic = net_port_new("nic", &sink_ops, &s);
    net_port_connect(nic, net_user_port(u));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    fcntl(c, F_SETFL, O_NONBLOCK);
    int r = connect(c, (struct sockaddr *)&a, sizeof(a));
    g_assert_true(r == 0 || errno == EINPROGRESS);
    slirp_pump(u, &s, 1, 250);
    g_assert_cmpuint(s.frames->len, >=, 1);
    gsize len;
    const uint8_t *f = g_bytes_get_data(s.frames->pdata[0], &len);
    g_assert_cmpuint(len, >=, 42);
    if (f[12] == 0x08 && f[13] == 0x06) {
        g_assert_cmphex(f[21], ==, 1); /* request */
        g_assert_cmpmem(f + 38, 4, "\x0a\x00\x02\x0f", 4);
    } else {
        g_assert_cmphex(f[12], ==, 0x08);
        g_assert_cmphex(f[13], ==, 0x00);
        g_assert_cmpuint(len, >=, 54);
        g_assert_cmphex(f[23], ==, 6);                  /* TCP */
        g_assert_cmpuint(f[36] << 8 | f[37], ==, 8080); /* to the guest */
        g_assert_cmphex(f[47] & 0x02, ==, 0x02);        /* SYN */
    }
    g_assert_cmpuint(net_port_stats(net_user_port(u))->tx_frames, >=, 1);
    close(c);
    net_port_free(nic);
    net_user_free(u);
    g_ptr_array_free(s.frames, TRUE);
}

/* 10,000 ARP requests sent at once, all through the thread's queue
   (QUEUED mode) and then as the worker feeds them (AUTO): every one is
   either answered (one reply each) or counted as dropped by a full queue
   between the threads, whatever the threads' timing. */
static void slirp_flood(NetUserMode mode)
{
    GError *err = NULL;
    NetUser *u = net_user_new("user.0", "restrict=on", &err);
    g_assert_no_error(err);
    net_user_set_mode(u, mode);
    Sink s;
    sink_init(&s);
    NetPort *nic = net_port_new("nic", &sink_ops, &s);
    net_port_connect(nic, net_user_port(u));
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    enum { N = 10000 };
    for (int i = 0; i < N; i++) {
        uint8_t f[42];
        arp_request(f, mac, (i & 1) ? 2 : 3); /* the gateway, the DNS */
        net_send(nic, f, sizeof(f));
    }
    /* Until every frame is accounted for (or a generous bound passes). */
    for (int i = 0; i < 500; i++) {
        slirp_pump(u, &s, N, 1);
        if (s.frames->len + net_user_dropped(u) >= N) {
            break;
        }
    }
    g_test_message("%u answered, %" G_GUINT64_FORMAT " dropped", s.frames->len,
                   net_user_dropped(u));
    g_assert_cmpuint(s.frames->len + net_user_dropped(u), ==, N);
    g_assert_cmpuint(s.frames->len, >=, 1);
    for (guint i = 0; i < s.frames->len; i++) {
        gsize len;
        const uint8_t *r = g_bytes_get_data(s.frames->pdata[i], &len);
        g_assert_cmpuint(len, >=, 42);
        g_assert_cmphex(r[21], ==, 2);
        g_assert_cmpmem(r, 6, mac, 6);
    }
    net_port_free(nic);
    net_user_free(u);
    g_ptr_array_free(s.frames, TRUE);
}

static void test_slirp_thread_flood(void)
{
    slirp_flood(NET_USER_QUEUED);
    slirp_flood(NET_USER_AUTO);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/net/peer-queue-link", test_peer_queue_link);
    g_test_add_func("/engine/net/hub", test_hub);
    g_test_add_func("/engine/net/mac", test_mac);
    g_test_add_func("/engine/net/wiring", test_wiring);
    g_test_add_func("/engine/net/slirp-arp", test_slirp_arp);
    g_test_add_func("/engine/net/slirp-thread-hostfwd",
                    test_slirp_thread_hostfwd);
    g_test_add_func("/engine/net/slirp-thread-flood", test_slirp_thread_flood);
    return g_test_run();
}
