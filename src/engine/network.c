/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A machine's network (see network.h).
 */
#include "engine/network.h"

#include <stdio.h>
#include <string.h>

#include <errno.h>

#include "engine/mimic.h"
#include "engine/net_tap.h"
#include "engine/net_user.h"

typedef struct Dump Dump;

typedef struct Backend {
    char *name;  /* the id, or "user.N" for a -net member */
    NetUser *user; /* one of user and tap */
    NetTap *tap;
    const NetBackendConfig *cfg;
    NetBackendConfig *own; /* netdev_add's configuration, or NULL */
    Dump *dump;
    bool used;
} Backend;

/* -object filter-dump: frames of a back end into a pcap file. */
struct Dump {
    char *id;
    FILE *f;
    uint32_t maxlen;
};

struct MachineNet {
    GPtrArray *backends; /* Backend * */
    GPtrArray *hubs;     /* NetHub * */
    bool sync;           /* -icount: slirp answers inside the send */
};

static NetPort *backend_port(const Backend *b)
{
    return b->user ? net_user_port(b->user) : net_tap_port(b->tap);
}

static void dump_free(Dump *d)
{
    if (d) {
        fclose(d->f);
        g_free(d->id);
        g_free(d);
    }
}

static void backend_free(gpointer p)
{
    Backend *b = p;
    if (b->dump) {
        net_port_set_dump(backend_port(b), NULL, NULL);
        dump_free(b->dump);
    }
    net_user_free(b->user);
    net_tap_free(b->tap);
    if (b->own) {
        g_free(b->own->kind);
        g_free(b->own->options);
        g_free(b->own->id);
        g_free(b->own);
    }
    g_free(b->name);
    g_free(b);
}

static bool backend_open(MachineNet *n, Backend *b, GError **error)
{
    if (!strcmp(b->cfg->kind, "tap")) {
        b->tap = net_tap_new(b->name, b->cfg->options, error);
        return b->tap != NULL;
    }
    b->user = net_user_new(b->name, b->cfg->options, error);
    if (b->user) {
        net_user_set_mode(b->user, n->sync ? NET_USER_SYNC : NET_USER_AUTO);
    }
    return b->user != NULL;
}

/* pcap (libpcap's classic format, LINKTYPE_ETHERNET), little-endian. */
static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
}

static void dump_frame(void *opaque, const uint8_t *buf, size_t len)
{
    Dump *d = opaque;
    int64_t us = g_get_real_time();
    size_t cap = MIN(len, (size_t)d->maxlen);
    uint8_t h[16];
    put32le(h, us / 1000000);
    put32le(h + 4, us % 1000000);
    put32le(h + 8, cap);
    put32le(h + 12, len);
    if (fwrite(h, 16, 1, d->f) != 1 || fwrite(buf, 1, cap, d->f) != cap) {
        return; /* a full disk loses frames, not the machine */
    }
    fflush(d->f);
}

static bool dump_attach(MachineNet *n, const NetFilterConfig *fc,
                        GError **error)
{
    Backend *b = NULL;
    for (guint i = 0; i < n->backends->len; i++) {
        Backend *c = g_ptr_array_index(n->backends, i);
        if (!strcmp(c->name, fc->netdev)) {
            b = c;
        }
    }
    if (!b) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "filter-dump %s: netdev '%s' does not exist", fc->id,
                    fc->netdev);
        return false;
    }
    if (b->dump) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "filter-dump %s: netdev '%s' already has a dump filter",
                    fc->id, fc->netdev);
        return false;
    }
    FILE *f = fopen(fc->file, "wb");
    if (!f) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "filter-dump %s: cannot create '%s': %s", fc->id,
                    fc->file, g_strerror(errno));
        return false;
    }
    Dump *d = g_new0(Dump, 1);
    d->id = g_strdup(fc->id);
    d->f = f;
    d->maxlen = fc->maxlen ? fc->maxlen : 65536;
    uint8_t h[24] = { 0 };
    put32le(h, 0xa1b2c3d4);
    h[4] = 2;  /* version 2.4 */
    h[6] = 4;
    put32le(h + 16, d->maxlen);
    put32le(h + 20, 1); /* Ethernet */
    if (fwrite(h, sizeof(h), 1, f) != 1 || fflush(f)) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "filter-dump %s: cannot write '%s': %s", fc->id,
                    fc->file, g_strerror(errno));
        dump_free(d);
        return false;
    }
    b->dump = d;
    net_port_set_dump(backend_port(b), dump_frame, d);
    return true;
}

static NetHub *hub_for(MachineNet *n, int vlan)
{
    for (guint i = 0; i < n->hubs->len; i++) {
        NetHub *h = g_ptr_array_index(n->hubs, i);
        if (net_hub_id(h) == vlan) {
            return h;
        }
    }
    NetHub *h = net_hub_new(vlan);
    g_ptr_array_add(n->hubs, h);
    return h;
}

/* The board's name for a configured model (QEMU's spellings); machine
   files of the GUI may name QEMU's models Mimic lacks: an e1000 then. */
static const char *nic_model_name(const char *m)
{
    static const char *const known[] = { "e1000", "rtl8139", "ne2k_pci",
                                         "ne2k_isa", "virtio-net-pci" };
    if (!m || !strcmp(m, "e1000-82540em")) {
        return "e1000";
    }
    if (!strcmp(m, "virtio")) {
        return "virtio-net-pci";
    }
    for (size_t i = 0; i < G_N_ELEMENTS(known); i++) {
        if (!strcmp(m, known[i])) {
            return known[i];
        }
    }
    fprintf(stderr, "mimic: warning: NIC model '%s' is not emulated; the "
            "machine gets an e1000 instead\n", m);
    return "e1000";
}

MachineNet *machine_net_new(const MachineConfig *cfg, BoardInstance *board,
                            GError **error)
{
    MachineNet *n = g_new0(MachineNet, 1);
    n->sync = cfg->icount_shift >= 0;
    n->backends = g_ptr_array_new_with_free_func(backend_free);
    n->hubs = g_ptr_array_new();
    board->n_nics = 0;
    /* QEMU's default: "-net nic -net user" unless any network option. */
    static const NetBackendConfig def_user = { .kind = (char *)"user",
                                               .options = (char *)"" };
    static const NicConfig def_nic = { 0 };
    int n_nics = cfg->n_nics, n_backends = cfg->n_netdevs;
    bool deflt = !cfg->net_none && n_nics == 0 && n_backends == 0;
    if (deflt) {
        n_nics = n_backends = 1;
    }
    int user_index = 0;
    for (int i = 0; i < n_backends; i++) {
        const NetBackendConfig *bc = deflt ? &def_user : &cfg->netdevs[i];
        Backend *b = g_new0(Backend, 1);
        b->cfg = bc;
        b->name = bc->id ? g_strdup(bc->id)
                         : g_strdup_printf("user.%d", user_index++);
        g_ptr_array_add(n->backends, b);
        if (!backend_open(n, b, error)) {
            machine_net_free(n);
            return NULL;
        }
    }
    /* Members of each -net hub: direct cable for one card and one back
       end, a hub otherwise. */
    int count_nic[256] = { 0 }, count_be[256] = { 0 };
    for (int i = 0; i < n_nics; i++) {
        const NicConfig *nc = deflt ? &def_nic : &cfg->nics[i];
        if (!nc->netdev && nc->vlan >= 0 && nc->vlan < 256) {
            count_nic[nc->vlan]++;
        }
    }
    for (guint i = 0; i < n->backends->len; i++) {
        Backend *b = g_ptr_array_index(n->backends, i);
        if (!b->cfg->id && b->cfg->vlan >= 0 && b->cfg->vlan < 256) {
            count_be[b->cfg->vlan]++;
        }
    }
    for (int i = 0; i < n_nics; i++) {
        const NicConfig *nc = deflt ? &def_nic : &cfg->nics[i];
        BoardNic *bn = &board->nics[board->n_nics++];
        bn->model = nic_model_name(nc->model);
        bn->iobase = nc->iobase;
        bn->irq = nc->irq;
        bn->revision = nc->revision;
        static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
        memcpy(bn->mac, base, 6);
        bn->mac[5] += i;
        if (nc->macaddr && !net_parse_mac(nc->macaddr, bn->mac)) {
            g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                        "network card %d: invalid MAC address '%s'", i,
                        nc->macaddr);
            machine_net_free(n);
            return NULL;
        }
        if (nc->netdev) {
            Backend *b = NULL;
            for (guint k = 0; k < n->backends->len; k++) {
                Backend *c = g_ptr_array_index(n->backends, k);
                if (c->cfg->id && !strcmp(c->cfg->id, nc->netdev)) {
                    b = c;
                }
            }
            if (!b) {
                g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                            "network card %d (%s): netdev '%s' does not "
                            "exist", i, bn->model, nc->netdev);
                machine_net_free(n);
                return NULL;
            }
            if (b->used) {
                g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                            "network card %d (%s): netdev '%s' is already "
                            "used by another card", i, bn->model,
                            nc->netdev);
                machine_net_free(n);
                return NULL;
            }
            b->used = true;
            bn->peer = backend_port(b);
            continue;
        }
        int v = nc->vlan;
        if (v < 0 || v > 255) {
            continue; /* "-device e1000" without netdev: no cable */
        }
        if (count_nic[v] == 1 && count_be[v] == 1) {
            for (guint k = 0; k < n->backends->len; k++) {
                Backend *c = g_ptr_array_index(n->backends, k);
                if (!c->cfg->id && c->cfg->vlan == v) {
                    c->used = true;
                    bn->peer = backend_port(c);
                }
            }
        } else {
            bn->peer = net_hub_add_port(hub_for(n, v));
        }
    }
    for (guint k = 0; k < n->backends->len; k++) {
        Backend *c = g_ptr_array_index(n->backends, k);
        if (c->used) {
            continue;
        }
        if (c->cfg->id) {
            fprintf(stderr, "mimic: warning: netdev %s has no network card "
                    "attached\n", c->name);
            continue;
        }
        NetPort *hp = net_hub_add_port(hub_for(n, c->cfg->vlan));
        net_port_connect(hp, backend_port(c));
        c->used = true;
    }
    for (guint i = 0; i < n->hubs->len; i++) {
        NetHub *h = g_ptr_array_index(n->hubs, i);
        int v = net_hub_id(h);
        if (!count_be[v]) {
            fprintf(stderr, "mimic: warning: hub %d is not connected to host "
                    "network\n", v);
        } else if (!count_nic[v]) {
            fprintf(stderr, "mimic: warning: hub %d has no network cards\n",
                    v);
        }
    }
    for (int i = 0; i < cfg->n_filters; i++) {
        if (!dump_attach(n, &cfg->filters[i], error)) {
            machine_net_free(n);
            return NULL;
        }
    }
    return n;
}

void machine_net_free(MachineNet *n)
{
    if (!n) {
        return;
    }
    for (guint i = 0; i < n->hubs->len; i++) {
        net_hub_free(g_ptr_array_index(n->hubs, i));
    }
    g_ptr_array_free(n->hubs, TRUE);
    g_ptr_array_free(n->backends, TRUE);
    g_free(n);
}

void machine_net_fill(MachineNet *n, GArray *fds, int *timeout_ms)
{
    for (guint i = 0; n && i < n->backends->len; i++) {
        Backend *b = g_ptr_array_index(n->backends, i);
        if (b->user) {
            net_user_fill(b->user, fds, timeout_ms);
        } else {
            net_tap_fill(b->tap, fds, timeout_ms);
        }
    }
}

void machine_net_dispatch(MachineNet *n, GArray *fds, bool poll_error)
{
    for (guint i = 0; n && i < n->backends->len; i++) {
        Backend *b = g_ptr_array_index(n->backends, i);
        if (b->user) {
            net_user_dispatch(b->user, fds, poll_error);
        } else if (!poll_error) {
            net_tap_dispatch(b->tap, fds);
        }
    }
}

static void describe_peer(GString *out, NetPort *peer)
{
    if (!peer) {
        return;
    }
    g_string_append(out, " \\ ");
    net_port_describe(peer, out);
    g_string_append_c(out, '\n');
}

void machine_net_info(MachineNet *n, const BoardInstance *board,
                      GString *out)
{
    if (!board->n_nics && (!n || !n->backends->len)) {
        g_string_append(out, "no network cards\n");
        return;
    }
    for (guint i = 0; n && i < n->hubs->len; i++) {
        NetHub *h = g_ptr_array_index(n->hubs, i);
        g_string_append_printf(out, "hub %d\n", net_hub_id(h));
        for (int k = 0; k < board->n_nics; k++) {
            const BoardNic *bn = &board->nics[k];
            NetPort *hp = bn->peer;
            for (guint j = 0; j < n->backends->len; j++) {
                Backend *b = g_ptr_array_index(n->backends, j);
                if (hp == backend_port(b)) {
                    hp = NULL;
                }
            }
            if (hp && bn->port && net_port_peer(bn->port) == hp &&
                g_str_has_prefix(net_port_name(hp), "hub")) {
                g_autofree char *want = g_strdup_printf("hub%dport",
                                                        net_hub_id(h));
                if (g_str_has_prefix(net_port_name(hp), want)) {
                    g_string_append_printf(out, " \\ %s: ",
                                           net_port_name(hp));
                    net_port_describe(bn->port, out);
                    g_string_append_c(out, '\n');
                }
            }
        }
        for (guint j = 0; j < n->backends->len; j++) {
            Backend *b = g_ptr_array_index(n->backends, j);
            NetPort *up = backend_port(b);
            NetPort *hp = net_port_peer(up);
            g_autofree char *want = g_strdup_printf("hub%dport",
                                                    net_hub_id(h));
            if (hp && g_str_has_prefix(net_port_name(hp), want)) {
                g_string_append_printf(out, " \\ %s: ", net_port_name(hp));
                net_port_describe(up, out);
                g_string_append_c(out, '\n');
            }
        }
    }
    for (int k = 0; k < board->n_nics; k++) {
        const BoardNic *bn = &board->nics[k];
        if (!bn->port) {
            continue;
        }
        NetPort *peer = net_port_peer(bn->port);
        if (peer && g_str_has_prefix(net_port_name(peer), "hub")) {
            continue;
        }
        net_port_describe(bn->port, out);
        g_string_append_c(out, '\n');
        describe_peer(out, peer);
    }
    for (guint j = 0; n && j < n->backends->len; j++) {
        Backend *b = g_ptr_array_index(n->backends, j);
        NetPort *up = backend_port(b);
        if (!net_port_peer(up)) {
            net_port_describe(up, out);
            g_string_append_c(out, '\n');
        }
    }
}

bool machine_net_hostfwd(MachineNet *n, const char *netdev, const char *rule,
                         bool add, GError **error)
{
    for (guint i = 0; n && i < n->backends->len; i++) {
        Backend *b = g_ptr_array_index(n->backends, i);
        if (!b->user && (!netdev || strcmp(b->name, netdev))) {
            continue;
        }
        if (!b->user) {
            g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                        "netdev '%s' is not a user network back end",
                        netdev);
            return false;
        }
        if (!netdev || !strcmp(b->name, netdev)) {
            return add ? net_user_hostfwd_add(b->user, rule, error)
                       : net_user_hostfwd_remove(b->user, rule, error);
        }
    }
    g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                netdev ? "no user network back end named '%s'"
                       : "no user network back end%s", netdev ? netdev : "");
    return false;
}

bool machine_net_set_link(MachineNet *n, BoardInstance *board,
                          const char *name, bool up, GError **error)
{
    for (int k = 0; k < board->n_nics; k++) {
        NetPort *p = board->nics[k].port;
        if (p && !strcmp(net_port_name(p), name)) {
            net_port_set_link(p, up);
            return true;
        }
    }
    for (guint i = 0; n && i < n->backends->len; i++) {
        Backend *b = g_ptr_array_index(n->backends, i);
        if (!strcmp(b->name, name)) {
            NetPort *up_port = backend_port(b);
            net_port_set_link(up_port, up);
            NetPort *peer = net_port_peer(up_port);
            for (int k = 0; peer && k < board->n_nics; k++) {
                if (board->nics[k].port == peer) {
                    net_port_set_link(peer, up);
                }
            }
            return true;
        }
    }
    g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                "client '%s' not found", name);
    return false;
}

bool machine_net_netdev_add(MachineNet *n, const char *spec, GError **error)
{
    if (!n) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "netdev_add: this machine has no network");
        return false;
    }
    gchar **items = g_strsplit(spec, ",", -1);
    const char *kind = items[0] ? items[0] : "";
    const char *id = NULL;
    GString *rest = g_string_new(NULL);
    for (gchar **it = items + (items[0] ? 1 : 0); *it; it++) {
        if (g_str_has_prefix(*it, "id=")) {
            id = *it + 3;
            continue;
        }
        g_string_append_printf(rest, "%s%s", rest->len ? "," : "", *it);
    }
    bool ok = false;
    if (strcmp(kind, "user") && strcmp(kind, "tap")) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "netdev_add: unknown network back end type '%s' (user, "
                    "tap)", kind);
    } else if (!id || !*id) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "netdev_add: parameter 'id' is missing");
    } else if (machine_net_find_backend(n, id)) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "netdev_add: duplicate netdev id '%s'", id);
    } else {
        Backend *b = g_new0(Backend, 1);
        b->own = g_new0(NetBackendConfig, 1);
        b->own->kind = g_strdup(kind);
        b->own->options = g_strdup(rest->str);
        b->own->id = g_strdup(id);
        b->own->vlan = -1;
        b->cfg = b->own;
        b->name = g_strdup(id);
        ok = backend_open(n, b, error);
        if (ok) {
            g_ptr_array_add(n->backends, b);
        } else {
            backend_free(b);
        }
    }
    g_string_free(rest, TRUE);
    g_strfreev(items);
    return ok;
}

bool machine_net_find_backend(MachineNet *n, const char *id)
{
    for (guint i = 0; n && i < n->backends->len; i++) {
        Backend *b = g_ptr_array_index(n->backends, i);
        if (b->cfg->id && !strcmp(b->name, id)) {
            return true;
        }
    }
    return false;
}

bool machine_net_netdev_del(MachineNet *n, BoardInstance *board,
                            const char *id, GError **error)
{
    for (guint i = 0; n && i < n->backends->len; i++) {
        Backend *b = g_ptr_array_index(n->backends, i);
        if (!b->cfg->id || strcmp(b->name, id)) {
            continue;
        }
        NetPort *p = backend_port(b);
        for (int k = 0; k < board->n_nics; k++) {
            if (board->nics[k].peer == p) {
                board->nics[k].peer = NULL; /* the card keeps no cable */
            }
        }
        g_ptr_array_remove_index(n->backends, i);
        return true;
    }
    g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                "netdev_del: netdev '%s' not found", id);
    return false;
}
