/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Network ports: the seam between a NIC model and a network back end.
 *
 * A NetPort is one end of a virtual cable.  Two ports are connected as
 * peers (a NIC and its back end), or several ports meet in a hub (QEMU's
 * "-net" VLAN semantics: a frame sent by one member reaches all others).
 * Everything runs on the machine's worker thread: NICs send from their
 * register handlers, back ends deliver from the worker's poll loop, so no
 * port needs a lock.  A receiver that cannot take a frame now (a full RX
 * ring) says so; the frame waits in the port's queue (bounded, oldest
 * kept, newer ones dropped) until the receiver calls net_port_flush().
 */
#ifndef MIMIC_BUS_NET_H
#define MIMIC_BUS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define NET_MAX_FRAME 65536 /* larger frames are dropped */
#define NET_QUEUE_MAX 512   /* frames waiting for one receiver */

typedef struct NetPort NetPort;
typedef struct NetHub NetHub;

typedef struct NetPortOps {
    /* Deliver one frame; false when the port cannot take it now (it is
       queued and offered again after net_port_flush()). */
    bool (*receive)(void *opaque, const uint8_t *buf, size_t len);
    /* Optional: told after net_port_set_link() changed this port. */
    void (*link_changed)(void *opaque, bool up);
    /* Optional: the sender ended a burst of frames (net_batch_end()); a
       receiver that holds frames back to merge them delivers them now. */
    void (*batch_end)(void *opaque);
} NetPortOps;

typedef struct NetStats {
    uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes, rx_dropped;
} NetStats;

/* name: "e1000.0", "user.0" (shown by "info network"). */
NetPort *net_port_new(const char *name, const NetPortOps *ops, void *opaque);
void net_port_free(NetPort *p); /* disconnects it first */
const char *net_port_name(const NetPort *p);
NetPort *net_port_peer(const NetPort *p);
const NetStats *net_port_stats(const NetPort *p);
/* Point to point; either may be NULL (no cable). */
void net_port_connect(NetPort *a, NetPort *b);
/* Send one frame from p to its peer (dropped without a peer, or when the
   link is down). */
void net_send(NetPort *p, const uint8_t *buf, size_t len);
/* A back end that takes frames of any size up to NET_MAX_FRAME (slirp:
   it ends the guest's TCP connections itself, so one large TCP segment
   is as good as the many a card would cut it into). */
void net_port_set_takes_large(NetPort *p, bool on);
/* Whether frames p sends may exceed the Ethernet MTU: its peer takes
   them (never through a hub). */
bool net_port_peer_takes_large(const NetPort *p);
/* p's sender (a back end) has sent what it had for now: its peer's
   batch_end hook runs (every member's peer, through a hub).  Back ends
   call it after each poll and after answering a frame, so a receiver
   never holds a frame beyond the sender's turn. */
void net_batch_end(NetPort *p);
/* The receiver p can take frames again: deliver what waits for it. */
void net_port_flush(NetPort *p);
/* Link state ("set_link"); frames are dropped while the link is down.
   The port's link_changed hook is called when the state changes. */
void net_port_set_link(NetPort *p, bool up);
/* The same without telling the port (a NIC restoring its saved state). */
void net_port_init_link(NetPort *p, bool up);
bool net_port_link(const NetPort *p);

/* A hub: net_hub_add_port() adds a member port (connect it to a card or a
   back end); frames from one member's peer reach every other member's. */
NetHub *net_hub_new(int id);
void net_hub_free(NetHub *h);
int net_hub_id(const NetHub *h);
NetPort *net_hub_add_port(NetHub *h);

/* A packet tap ("-object filter-dump"): fn sees every frame p sends
   (out) and every frame offered to p (in), before any queueing.  One per
   port; fn NULL removes it. */
typedef void (*NetDumpFn)(void *opaque, const uint8_t *buf, size_t len);
void net_port_set_dump(NetPort *p, NetDumpFn fn, void *opaque);
bool net_port_has_dump(const NetPort *p);

/* "info network" lines for a port and its peer. */
void net_port_describe(const NetPort *p, GString *out);
/* Back ends' own text (set by the back end, e.g. "net=10.0.2.0/24"). */
void net_port_set_info(NetPort *p, const char *info);

/* A station address from "52:54:00:12:34:56"; false when malformed or
   multicast. */
bool net_parse_mac(const char *s, uint8_t mac[6]);

#endif
