/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A machine's network: the back ends and hubs that the configuration's
 * -net/-nic/-netdev/-device options describe, and the cards the board
 * must create for them.  QEMU's rules: without any network option the
 * machine gets one e1000 on user networking (as "-net nic -net user");
 * "-net none"/"-nic none" give none.  -net members meet on hub VLAN N;
 * -nic and -device/-netdev pairs are point to point.
 */
#ifndef MIMIC_ENGINE_NETWORK_H
#define MIMIC_ENGINE_NETWORK_H

#include <glib.h>

#include "bus/config.h"
#include "hw/board.h"

typedef struct MachineNet MachineNet;

/* Creates the back ends (binding host-forwarded ports) and fills
   board->nics.  NULL with an error for a bad configuration. */
MachineNet *machine_net_new(const MachineConfig *cfg, BoardInstance *board,
                            GError **error);
void machine_net_free(MachineNet *n);
/* Worker poll integration (see net_user.h). */
void machine_net_fill(MachineNet *n, GArray *fds, int *timeout_ms);
void machine_net_dispatch(MachineNet *n, GArray *fds, bool poll_error);
/* "info network" */
void machine_net_info(MachineNet *n, const BoardInstance *board,
                      GString *out);
/* hostfwd_add / hostfwd_remove: netdev id (or hub "user.N" name) NULL
   means the first user back end. */
bool machine_net_hostfwd(MachineNet *n, const char *netdev, const char *rule,
                         bool add, GError **error);

/* set_link NAME on|off: a card (e1000.0) or a back end (user.0, an id);
   a back end takes its card's link with it, as in QEMU. */
bool machine_net_set_link(MachineNet *n, BoardInstance *board,
                          const char *name, bool up, GError **error);

/* netdev_add TYPE,id=ID[,...] (user or tap; no card is attached) and
   netdev_del ID (a card on it loses its cable), as QEMU's monitor. */
bool machine_net_netdev_add(MachineNet *n, const char *spec, GError **error);
bool machine_net_netdev_del(MachineNet *n, BoardInstance *board,
                            const char *id, GError **error);
bool machine_net_find_backend(MachineNet *n, const char *id);

#endif
