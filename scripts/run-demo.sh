#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make run: build the demo guest (Debian i686 Linux on an isolinux ISO) if
# needed, then start Mimic with it: with a display, the machine library
# opens with the demo machine "Debian Linux (demo)" in it (its machine file
# is written under $XDG_DATA_HOME/mimic/machines on first use; Start boots
# it); otherwise it runs headless in this terminal.
set -eu
BUILD=${1:-build}
MIMIC="$BUILD/src/mimic"
ISO=$(sh scripts/guests/build.sh --path iso)
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    MIMIC_DEMO_ISO="$ISO" exec "$MIMIC"
else
    echo "No display: running the demo headless (Ctrl-A x quits, Ctrl-A c: monitor)."
    exec "$MIMIC" -nographic -cdrom "$ISO" -boot d -m 256
fi
