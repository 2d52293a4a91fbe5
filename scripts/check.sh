#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make check: the whole test suite.
#  1. the optimized build runs every suite (real guests included);
#  2. an AddressSanitizer + UBSan build runs the unit-level suites;
#  3. a clang build runs the libFuzzer harness for 45 s.
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

# 3. libFuzzer on the qcow2/qcow open/read/check paths, under ASan+UBSan,
#    for a bounded time (45 s of fuzzing, killed at 60 s), starting from a
#    copy of tests/fuzz/corpus-qcow2 (new inputs are not kept), with a
#    fixed seed so that a run is reproducible. A crash
#    leaves its input as $FUZZ/crash-* and fails the check.
FUZZ=${3:-build-fuzz}
echo "== fuzz (libFuzzer, qcow2/qcow, 45 s)"
if command -v clang >/dev/null 2>&1; then
    if [ ! -f "$FUZZ/build.ninja" ]; then
        CC=clang meson setup "$FUZZ" -Dfuzz=true -Dgui=false \
            -Db_sanitize=address,undefined -Db_lundef=false \
            -Dbuildtype=debug -Dc_args=-fsanitize=fuzzer-no-link \
            >"$FUZZ.log" 2>&1 || { tail -20 "$FUZZ.log"; status=1; }
    fi
    if ninja -C "$FUZZ" tests/images/fuzz-qcow2 >>"$FUZZ.log" 2>&1; then
        corpus=$(mktemp -d)
        cp tests/fuzz/corpus-qcow2/* "$corpus"/
        if ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
           timeout 60 "$FUZZ/tests/images/fuzz-qcow2" -max_total_time=45 \
               -seed=1 -timeout=10 -max_len=65536 -rss_limit_mb=2048 \
               -artifact_prefix="$FUZZ/" "$corpus" >"$FUZZ/fuzz.log" 2>&1
        then
            tail -1 "$FUZZ/fuzz.log"
        else
            tail -40 "$FUZZ/fuzz.log"
            echo "fuzzing failed (inputs: $FUZZ/crash-* etc.)"
            status=1
        fi
        rm -rf "$corpus"
    else
        tail -30 "$FUZZ.log"
        echo "fuzz build failed"
        status=1
    fi
else
    echo "*** clang missing (make test-deps): libFuzzer run NOT done ***"
    status=1
fi

python3 scripts/tally.py "$BUILD/meson-logs/testlog.json" \
    "$ASAN/meson-logs/testlog.json" >"$BUILD/test-tally.txt" || status=1
cat "$BUILD/test-tally.txt"
exit $status
