/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The GTK front end's entry points, called by main() (src/main.c).
 *
 * mimic_gui_main() runs a GtkApplication (org.mimic.Mimic): with a NULL
 * config it opens the machine library; with a config it opens a machine
 * window for it directly, as QEMU's GTK display does.
 */
#ifndef MIMIC_GUI_GUI_H
#define MIMIC_GUI_GUI_H

#include <stdbool.h>

#include "bus/config.h"

int mimic_gui_main(int argc, char **argv, MachineConfig *cfg_or_null);
/* True when a display can be opened (initialises GTK if so). */
bool mimic_gui_available(void);

#endif
