/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * User-mode networking through libslirp ("-netdev user", "-net user"):
 * the guest sees QEMU's 10.0.2.0/24 (gateway and host 10.0.2.2, DNS
 * 10.0.2.3, DHCP from 10.0.2.15), without privileges on the host.
 *
 * The slirp instance lives on a thread of its own, which polls slirp's
 * sockets and runs its timers, so slirp never blocks the CPU.  The
 * guest's frames go into slirp on the worker when the thread is not using
 * it (slirp's answers reach the card at once), else through a bounded
 * queue to the thread; slirp's frames from its thread wait in a second
 * queue for the worker's poll step (net_user_fill adds an eventfd,
 * net_user_dispatch hands them to the port, with the CPU's own timeout:
 * 0 while the guest runs).
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

/* Worker poll integration: slirp runs on a thread of its own; fill
   appends the descriptor (GPollFD) that thread signals when it has frames
   for the guest (*timeout_ms is left alone), and dispatch, after the
   poll with the same array, hands every waiting frame to the port. */
void net_user_fill(NetUser *u, GArray *fds, int *timeout_ms);
void net_user_dispatch(NetUser *u, GArray *fds, bool poll_error);
/* How the guest's frames reach slirp.  AUTO (the default): on the
   worker when the thread is not using slirp, else queued for the thread.
   SYNC (the machine's choice under -icount): always on the worker,
   waiting for the thread to let go of slirp if need be, so slirp's
   answers reach the port inside the send in every run.  QUEUED: always
   through the thread (tests). */
typedef enum NetUserMode {
    NET_USER_AUTO, NET_USER_SYNC, NET_USER_QUEUED,
} NetUserMode;
void net_user_set_mode(NetUser *u, NetUserMode mode);
/* Frames dropped because a queue between the threads was full. */
uint64_t net_user_dropped(NetUser *u);

/* Monitor: hostfwd_add / hostfwd_remove with the rule's syntax. */
bool net_user_hostfwd_add(NetUser *u, const char *rule, GError **error);
bool net_user_hostfwd_remove(NetUser *u, const char *rule, GError **error);

#endif
