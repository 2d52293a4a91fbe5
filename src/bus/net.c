/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Network ports and hubs (see net.h).  All on the worker thread.
 */
#include "bus/net.h"

#include <stdio.h>
#include <string.h>

typedef struct NetFrame {
    size_t len;
    uint8_t data[];
} NetFrame;

struct NetPort {
    char *name;
    char *info;
    const NetPortOps *ops;
    void *opaque;
    NetPort *peer;
    NetHub *hub;      /* member of this hub, or NULL */
    GQueue queue;     /* NetFrame * waiting for this port */
    bool link_down;
    bool flushing;
    bool takes_large;
    NetStats stats;
    NetDumpFn dump;
    void *dump_opaque;
};

struct NetHub {
    int id;
    GPtrArray *ports;
};

NetPort *net_port_new(const char *name, const NetPortOps *ops, void *opaque)
{
    NetPort *p = g_new0(NetPort, 1);
    p->name = g_strdup(name);
    p->ops = ops;
    p->opaque = opaque;
    g_queue_init(&p->queue);
    return p;
}

void net_port_free(NetPort *p)
{
    if (!p) {
        return;
    }
    net_port_connect(p, NULL);
    if (p->hub) {
        g_ptr_array_remove(p->hub->ports, p);
    }
    g_queue_clear_full(&p->queue, g_free);
    g_free(p->name);
    g_free(p->info);
    g_free(p);
}

const char *net_port_name(const NetPort *p)
{
    return p->name;
}

NetPort *net_port_peer(const NetPort *p)
{
    return p->peer;
}

const NetStats *net_port_stats(const NetPort *p)
{
    return &p->stats;
}

void net_port_connect(NetPort *a, NetPort *b)
{
    if (a && a->peer) {
        a->peer->peer = NULL;
        a->peer = NULL;
    }
    if (b && b->peer) {
        b->peer->peer = NULL;
        b->peer = NULL;
    }
    if (a && b) {
        a->peer = b;
        b->peer = a;
    }
}

void net_port_set_link(NetPort *p, bool up)
{
    bool changed = p->link_down == up;
    p->link_down = !up;
    if (changed && p->ops && p->ops->link_changed) {
        p->ops->link_changed(p->opaque, up);
    }
}

void net_port_init_link(NetPort *p, bool up)
{
    p->link_down = !up;
}

bool net_port_link(const NetPort *p)
{
    return !p->link_down;
}

void net_port_set_info(NetPort *p, const char *info)
{
    g_free(p->info);
    p->info = g_strdup(info);
}

/* Offer a frame to the receiving port r, queueing it when r is busy. */
static void deliver(NetPort *r, const uint8_t *buf, size_t len)
{
    if (r->dump) {
        r->dump(r->dump_opaque, buf, len);
    }
    if (!r->ops || !r->ops->receive) {
        return;
    }
    if (g_queue_is_empty(&r->queue) && !r->flushing &&
        r->ops->receive(r->opaque, buf, len)) {
        r->stats.rx_frames++;
        r->stats.rx_bytes += len;
        return;
    }
    if (g_queue_get_length(&r->queue) >= NET_QUEUE_MAX) {
        r->stats.rx_dropped++;
        return;
    }
    NetFrame *f = g_malloc(sizeof(*f) + len);
    f->len = len;
    memcpy(f->data, buf, len);
    g_queue_push_tail(&r->queue, f);
}

static void hub_forward(NetHub *h, NetPort *from, const uint8_t *buf,
                        size_t len)
{
    for (guint i = 0; i < h->ports->len; i++) {
        NetPort *m = g_ptr_array_index(h->ports, i);
        if (m != from && m->peer && !m->peer->link_down) {
            deliver(m->peer, buf, len);
        }
    }
}

void net_send(NetPort *p, const uint8_t *buf, size_t len)
{
    if (!p || p->link_down || len == 0 || len > NET_MAX_FRAME) {
        return;
    }
    p->stats.tx_frames++;
    p->stats.tx_bytes += len;
    if (p->dump) {
        p->dump(p->dump_opaque, buf, len);
    }
    NetPort *r = p->peer;
    if (!r || r->link_down) {
        return;
    }
    if (r->hub) {
        hub_forward(r->hub, r, buf, len);
    } else {
        deliver(r, buf, len);
    }
}

void net_port_set_takes_large(NetPort *p, bool on)
{
    p->takes_large = on;
}

bool net_port_peer_takes_large(const NetPort *p)
{
    return p && p->peer && !p->peer->hub && p->peer->takes_large;
}

static void batch_end_at(NetPort *r)
{
    if (r && !r->link_down && r->ops && r->ops->batch_end) {
        r->ops->batch_end(r->opaque);
    }
}

void net_batch_end(NetPort *p)
{
    NetPort *r = p ? p->peer : NULL;
    if (!r || r->link_down) {
        return;
    }
    if (!r->hub) {
        batch_end_at(r);
        return;
    }
    for (guint i = 0; i < r->hub->ports->len; i++) {
        NetPort *m = g_ptr_array_index(r->hub->ports, i);
        if (m != r) {
            batch_end_at(m->peer);
        }
    }
}

void net_port_flush(NetPort *p)
{
    if (p->flushing) {
        return; /* a receive handler flushing again: the loop below goes on */
    }
    p->flushing = true;
    while (!g_queue_is_empty(&p->queue)) {
        NetFrame *f = g_queue_peek_head(&p->queue);
        if (!p->ops->receive(p->opaque, f->data, f->len)) {
            break;
        }
        p->stats.rx_frames++;
        p->stats.rx_bytes += f->len;
        g_free(g_queue_pop_head(&p->queue));
    }
    p->flushing = false;
}

NetHub *net_hub_new(int id)
{
    NetHub *h = g_new0(NetHub, 1);
    h->id = id;
    h->ports = g_ptr_array_new();
    return h;
}

void net_hub_free(NetHub *h)
{
    if (!h) {
        return;
    }
    while (h->ports->len) {
        net_port_free(g_ptr_array_index(h->ports, 0));
    }
    g_ptr_array_free(h->ports, TRUE);
    g_free(h);
}

int net_hub_id(const NetHub *h)
{
    return h->id;
}

/* What a member's peer sends to a hub port, net_send() hands to
   hub_forward() directly; this hook only keeps the port well formed. */
static bool hub_port_receive(void *opaque, const uint8_t *buf, size_t len)
{
    return true;
}

static const NetPortOps hub_port_ops = { .receive = hub_port_receive };

NetPort *net_hub_add_port(NetHub *h)
{
    g_autofree char *name = g_strdup_printf("hub%dport%u", h->id,
                                            h->ports->len);
    NetPort *p = net_port_new(name, &hub_port_ops, h);
    p->hub = h;
    g_ptr_array_add(h->ports, p);
    return p;
}

void net_port_set_dump(NetPort *p, NetDumpFn fn, void *opaque)
{
    p->dump = fn;
    p->dump_opaque = opaque;
}

bool net_port_has_dump(const NetPort *p)
{
    return p->dump != NULL;
}

void net_port_describe(const NetPort *p, GString *out)
{
    g_string_append_printf(out, "%s: %s%s", p->name, p->info ? p->info : "",
                           p->link_down ? " (link down)" : "");
}

bool net_parse_mac(const char *s, uint8_t mac[6])
{
    unsigned b[6];
    char tail;
    if (!s || strlen(s) != 17 ||
        sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
               &b[4], &b[5], &tail) != 6) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        if (!g_ascii_isxdigit(s[3 * i]) || !g_ascii_isxdigit(s[3 * i + 1]) ||
            (i < 5 && s[3 * i + 2] != ':')) {
            return false;
        }
        mac[i] = b[i];
    }
    return !(mac[0] & 1); /* a station address is not multicast */
}
