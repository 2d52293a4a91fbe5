/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * User-mode networking through libslirp ("-netdev user", "-net user"):
 * the guest sees QEMU's 10.0.2.0/24 (gateway and host 10.0.2.2, DNS
 * 10.0.2.3, DHCP from 10.0.2.15), without privileges on the host.
 *
 * The slirp instance lives on the machine's worker thread: the worker's
 * poll step adds slirp's sockets to the descriptors it waits on
 * (net_user_fill) and hands the results back (net_user_dispatch), always
 * with the CPU's own timeout (0 while the guest runs), so slirp never
 * blocks the CPU.  Frames from the guest go straight into slirp_input;
 * frames from slirp go to the NIC through the port's queue.
 */
#ifndef MIMIC_ENGINE_NET_USER_H
#define MIMIC_ENGINE_NET_USER_H

#include <stdbool.h>
#include <glib.h>

#include "bus/net.h"

typedef struct NetUser NetUser;

/*
 * options: QEMU's "-netdev user" parameters after the type, comma
 * separated: net=ADDR[/MASK], host=, dhcpstart=, dns=, hostname=,
 * domainname=, restrict=on|off, hostfwd=[tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT
 * (repeatable), tftp=, bootfile=; id= and name= are accepted.
 */
NetUser *net_user_new(const char *name, const char *options, GError **error);
void net_user_free(NetUser *u);
NetPort *net_user_port(NetUser *u);

/* Worker poll integration: append slirp's descriptors to fds (GPollFD)
   and lower *timeout_ms (-1: infinite) to slirp's next timer; after the
   poll, dispatch with the same array. */
void net_user_fill(NetUser *u, GArray *fds, int *timeout_ms);
void net_user_dispatch(NetUser *u, GArray *fds, bool poll_error);

/* Monitor: hostfwd_add / hostfwd_remove with the rule's syntax. */
bool net_user_hostfwd_add(NetUser *u, const char *rule, GError **error);
bool net_user_hostfwd_remove(NetUser *u, const char *rule, GError **error);

#endif
