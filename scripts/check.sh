#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make check: the whole test suite.
#  1. the optimized build runs every suite (real guests included);
#  2. an AddressSanitizer + UBSan build runs the unit-level suites;
#  3. a clang build runs the libFuzzer harnesses (about 4 min in all).
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

# 3. libFuzzer under ASan+UBSan, each harness for a bounded time (killed
#    30 s after its budget), starting from a copy of its corpus in
#    tests/fuzz/ (new inputs are not kept), with a fixed seed so that a
#    run is reproducible.  A crash leaves its input as
#    $FUZZ/<harness>-crash-* and fails the check.  The harnesses: qcow2/qcow
#    open/read/check (45 s); the human monitor, QMP and the machine-file
#    parser (60 s each).  By hand: $FUZZ/tests/fuzz/fuzz-hmp CORPUS-DIR
#    -max_total_time=3600 and so on.
FUZZ=${3:-build-fuzz}
run_fuzz() { # name, ninja target, corpus directory, seconds
    corpus=$(mktemp -d)
    cp "$3"/* "$corpus"/
    if ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       timeout $(($4 + 30)) "$FUZZ/$2" -max_total_time="$4" \
           -seed=1 -timeout=10 -max_len=65536 -rss_limit_mb=2048 \
           -artifact_prefix="$FUZZ/$1-" "$corpus" >"$FUZZ/fuzz-$1.log" 2>&1
    then
        echo "$1: $(grep -E '^#[0-9]+.*(DONE|cov:)' "$FUZZ/fuzz-$1.log" | \
            tail -1)"
    else
        tail -40 "$FUZZ/fuzz-$1.log"
        echo "fuzzing $1 failed (inputs: $FUZZ/$1-crash-* etc.)"
        status=1
    fi
    rm -rf "$corpus"
}
echo "== fuzz (libFuzzer: qcow2/qcow 45 s, hmp, qmp, machine-file 60 s each)"
if command -v clang >/dev/null 2>&1; then
    if [ ! -f "$FUZZ/build.ninja" ]; then
        CC=clang meson setup "$FUZZ" -Dfuzz=true -Dgui=false \
            -Db_sanitize=address,undefined -Db_lundef=false \
            -Dbuildtype=debug -Dc_args=-fsanitize=fuzzer-no-link \
            >"$FUZZ.log" 2>&1 || { tail -20 "$FUZZ.log"; status=1; }
    fi
    if ninja -C "$FUZZ" tests/images/fuzz-qcow2 tests/fuzz/fuzz-hmp \
           tests/fuzz/fuzz-qmp tests/fuzz/fuzz-machine-file \
           >>"$FUZZ.log" 2>&1; then
        run_fuzz qcow2 tests/images/fuzz-qcow2 tests/fuzz/corpus-qcow2 45
        for h in hmp qmp machine-file; do
            run_fuzz $h tests/fuzz/fuzz-$h tests/fuzz/corpus-$h 60
        done
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
