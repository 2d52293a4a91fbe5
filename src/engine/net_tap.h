/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tap back end ("-netdev tap,id=ID,ifname=NAME,script=no"): frames
 * go to and come from a Linux TAP interface (/dev/net/tun, IFF_TAP,
 * IFF_NO_PI).  Creating or attaching to an interface needs CAP_NET_ADMIN
 * or an interface made beforehand for this user (ip tuntap add ... user
 * U); where the host refuses, the error says so in one line.  No
 * configuration scripts are run (script=no and downscript=no only).
 * Polling as the user back end (net_user.h): the worker thread's poll.
 */
#ifndef MIMIC_ENGINE_NET_TAP_H
#define MIMIC_ENGINE_NET_TAP_H

#include <stdbool.h>
#include <glib.h>

#include "bus/net.h"

typedef struct NetTap NetTap;

/* options: ifname=NAME, script=no, downscript=no (id=, name= too). */
NetTap *net_tap_new(const char *name, const char *options, GError **error);
void net_tap_free(NetTap *t);
NetPort *net_tap_port(NetTap *t);
void net_tap_fill(NetTap *t, GArray *fds, int *timeout_ms);
void net_tap_dispatch(NetTap *t, GArray *fds);

#endif
