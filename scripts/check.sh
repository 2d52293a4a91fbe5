#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make check: the whole test suite.
#  1. the optimized build runs every suite (real guests included);
#  2. an AddressSanitizer + UBSan build runs the unit-level suites;
#  3. a clang build runs each libFuzzer harness for a bounded time.
# Writes the combined tally to $BUILD/test-tally.txt and prints it last.
set -u
BUILD=${1:-build}
ASAN=${2:-build-asan}
UNIT_SUITES="unit state images cpu hw monitor"
status=0

if [ ! -f "$ASAN/build.ninja" ]; then
    meson setup "$ASAN" -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debug -Dgui=false >/dev/null || status=1
fi

# The guest images first, once: fetch.sh and build.sh are incremental
# (a changed module list or init.sh rebuilds what depends on it), so a
# warm cache from an older checkout is brought up to date instead of
# being used stale (the tests only build images that are missing).
# initrd64 (Debian's amd64 kernel and busybox) is for mimic-kernel64.
echo "== guest images"
if ! { sh scripts/guests/fetch.sh && sh scripts/guests/build.sh all &&
        sh scripts/guests/build.sh initrd64; } \
        >"$BUILD/guest-images.log" 2>&1 </dev/null; then
    tail -20 "$BUILD/guest-images.log"
    echo "guest images not brought up to date (the boot tests will say)"
fi

echo "== tests (optimized build)"
meson test -C "$BUILD" --print-errorlogs --num-processes 2 \
    --no-rebuild || status=1

echo "== tests (AddressSanitizer + UBSan build)"
if ninja -C "$ASAN" >"$ASAN.log" 2>&1; then
    args=""
    for s in $UNIT_SUITES; do args="$args --suite $s"; done
    # shellcheck disable=SC2086
    # Leak reports are not what this run is for (glib keeps caches alive
    # to exit); memory errors and undefined behaviour abort the test.
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C "$ASAN" --print-errorlogs --num-processes 2 --no-rebuild \
        --timeout-multiplier 4 $args || status=1
else
    tail -50 "$ASAN.log"
    echo "sanitizer build failed"
    status=1
fi

# 3. libFuzzer harnesses under ASan+UBSan for a bounded time each, from a
#    copy of their seed corpus (tests/fuzz/corpus-*) with a fixed seed, so
#    a run is reproducible (scripts/fuzz.sh; long runs: make fuzz-pc).
#    qcow2: the qcow2/qcow open/read/check paths; pc: the generic device
#    fuzzer over the whole pc board; hmp, qmp, machine-file: the human
#    monitor, QMP and the machine-file parser; kernel: the -kernel
#    loaders (bzImage, Multiboot a.out and ELF); state: the state-file
#    loader; elf (20 s): the ELF loader of user mode.  A crash leaves
#    its input as $FUZZ/crash-* and fails the check.  They run two at a
#    time (one per core), so the eight take about four minutes.
FUZZ=${3:-build-fuzz}
S=${FUZZ_SECS:-60}
HARNESSES="qcow2:$S pc:$S hmp:$S qmp:$S machine-file:$S kernel:$S state:$S
    elf:$((S / 3))"
for h in $HARNESSES; do
    sh scripts/fuzz.sh "$FUZZ" "${h%%:*}" 0 || status=1
done
# Two at a time (one per core); each one's output is printed whole.
set -- $HARNESSES
while [ $# -gt 0 ]; do
    pids=""
    for h in "$1" "${2:-}"; do
        [ -n "$h" ] || continue
        sh scripts/fuzz.sh "$FUZZ" "${h%%:*}" "${h##*:}" \
            >"$FUZZ/run-${h%%:*}.out" 2>&1 &
        pids="$pids $!:$h"
    done
    for p in $pids; do
        h=${p#*:}
        wait "${p%%:*}" || status=1
        echo "== fuzz (libFuzzer, ${h%%:*}, ${h##*:} s)"
        cat "$FUZZ/run-${h%%:*}.out"
    done
    shift; [ $# -gt 0 ] && shift
done

python3 scripts/tally.py "$BUILD/meson-logs/testlog.json" \
    "$ASAN/meson-logs/testlog.json" >"$BUILD/test-tally.txt" || status=1
cat "$BUILD/test-tally.txt"
exit $status
