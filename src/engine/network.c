/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A machine's network (see network.h).
 */
#include "engine/network.h"

#include <stdio.h>
#include <string.h>

#include "engine/mimic.h"
#include "engine/net_user.h"

typedef struct Backend {
    char *name;  /* the id, or "user.N" for a -net member */
    NetUser *user;
    const NetBackendConfig *cfg;
    bool used;
} Backend;

struct MachineNet {
    GPtrArray *backends; /* Backend * */
    GPtrArray *hubs;     /* NetHub * */
};

static void backend_free(gpointer p)
{
    Backend *b = p;
    net_user_free(b->user);
    g_free(b->name);
    g_free(b);
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

MachineNet *machine_net_new(const MachineConfig *cfg, BoardContext *board,
                            GError **error)
{
    MachineNet *n = g_new0(MachineNet, 1);
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
        b->user = net_user_new(b->name, bc->options, error);
        if (!b->user) {
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
            bn->peer = net_user_port(b->user);
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
                    bn->peer = net_user_port(c->user);
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
        net_port_connect(hp, net_user_port(c->user));
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
        net_user_fill(b->user, fds, timeout_ms);
    }
}

void machine_net_dispatch(MachineNet *n, GArray *fds, bool poll_error)
{
    for (guint i = 0; n && i < n->backends->len; i++) {
        Backend *b = g_ptr_array_index(n->backends, i);
        net_user_dispatch(b->user, fds, poll_error);
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

void machine_net_info(MachineNet *n, const BoardContext *board,
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
                if (hp == net_user_port(b->user)) {
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
            NetPort *up = net_user_port(b->user);
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
        NetPort *up = net_user_port(b->user);
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

bool machine_net_set_link(MachineNet *n, BoardContext *board,
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
            NetPort *up_port = net_user_port(b->user);
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
