#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Sequential and random 4 KiB reads/writes through Mimic's qcow2 driver
# and through `qemu-img bench` on the same files in the same run; prints
# Mimic/QEMU time ratios (below 1.0 = Mimic faster), never bare times.
# usage: bench/images.sh [BUILD_DIR] [COUNT]
set -eu
B=${1:-build}
N=${2:-20000}
MB="$B/tests/images/images-bench"
MI="$B/src/images/mimic-img"
Q=/usr/bin/qemu-img
[ -x "$Q" ] || { echo "qemu-img missing: no comparison possible" >&2; exit 77; }
[ -x "$MB" ] || { echo "build $MB first (ninja -C $B)" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SIZE=$((N * 4096))
RSTEP=$((4096 * 7919))      # a prime number of blocks: scattered offsets
qtime() {   # qemu-img bench prints "Run completed in X seconds."
    "$Q" bench "$@" 2>/dev/null | sed -n 's/.*completed in \([0-9.]*\).*/\1/p'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
for pat in seq rand; do
    step=4096
    [ "$pat" = rand ] && step=$RSTEP
    "$MI" create -f qcow2 "$T/m.qcow2" $SIZE >/dev/null
    "$MI" create -f qcow2 "$T/q.qcow2" $SIZE >/dev/null
    mw=$("$MB" qcow2 "$T/m.qcow2" write $N $step)
    qw=$(qtime -f qcow2 -t writeback -w -c $N -s 4096 -S $step -d 1 "$T/q.qcow2")
    mr=$("$MB" qcow2 "$T/m.qcow2" read $N $step)
    qr=$(qtime -f qcow2 -t writeback -c $N -s 4096 -S $step -d 1 "$T/q.qcow2")
    echo "qcow2 $pat 4K write: mimic/qemu time ratio $(ratio "$mw" "$qw")"
    echo "qcow2 $pat 4K read:  mimic/qemu time ratio $(ratio "$mr" "$qr")"
done
