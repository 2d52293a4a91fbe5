#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Boot every guest image (CD-ROM, hard disk, -kernel/-initrd, floppy) under
# an emulator with tests/guests/boottest.py.  The emulator defaults to
# Debian's qemu-system-i386 (the oracle); pass Mimic's binary to run the
# same checks on Mimic.  Builds the images first when the cache lacks them.
# usage: qemu-check.sh [EMULATOR] [SCENARIO...]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
EMU=${1:-qemu-system-i386}
[ $# -gt 0 ] && shift
SCENARIOS=${*:-iso hdd kernel floppy vga}
"$HERE/build.sh" all || exit 1
status=0
for s in $SCENARIOS; do
    MIMIC_SOURCE_ROOT=$TOP python3 "$TOP/tests/guests/boottest.py" "$s" \
        "$EMU"
    rc=$?
    [ $rc -ne 0 ] && status=$rc
done
exit $status
