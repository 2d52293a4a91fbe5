#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make run: build the demo guest (Debian i686 Linux on an isolinux ISO) if
# needed, then start Mimic with it: in the GUI when a display is reachable,
# otherwise headless in this terminal.
set -eu
BUILD=${1:-build}
MIMIC="$BUILD/src/mimic"
ISO=$(sh scripts/guests/build.sh --path iso)
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    exec "$MIMIC" -name "Demo: Debian i686" -cdrom "$ISO" -boot d -m 256
else
    echo "No display: running the demo headless (Ctrl-A x quits, Ctrl-A c: monitor)."
    exec "$MIMIC" -nographic -cdrom "$ISO" -boot d -m 256
fi
