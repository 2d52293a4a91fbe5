#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run one libFuzzer harness under ASan+UBSan.
#   scripts/fuzz.sh FUZZ_BUILD NAME SECONDS [keep]   (SECONDS 0: build only)
# NAME is the harness: qcow2 (tests/images/fuzz-qcow2), pc (the generic
# device fuzzer), hmp, qmp, machine-file, kernel (the -kernel loaders),
# state (the state-file loader) or elf (the ELF loader of user mode)
# (tests/fuzz/fuzz-NAME); its seeds are tests/fuzz/corpus-NAME.
# Sets up the clang fuzz build in FUZZ_BUILD when missing.  Without
# "keep", it starts from a copy of the seeds with a fixed seed (a
# reproducible, bounded slice: what make check runs); with "keep", new
# inputs accumulate in FUZZ_BUILD/corpus-NAME across runs.  A crash leaves
# its input as FUZZ_BUILD/crash-* and exits 1.  The last line says how
# many executions ran and the coverage reached.
set -u
FUZZ=$1
NAME=$2
SECS=$3
KEEP=${4:-}
case "$NAME" in
    qcow2) target=tests/images/fuzz-qcow2; maxlen=65536 ;;
    pc) target=tests/fuzz/fuzz-pc; maxlen=4096 ;;
    hmp|qmp|machine-file|kernel|elf) target=tests/fuzz/fuzz-$NAME; maxlen=65536 ;;
    state) target=tests/fuzz/fuzz-state; maxlen=1048576 ;;
    *) echo "fuzz.sh: unknown harness '$NAME'" >&2; exit 2 ;;
esac
if ! command -v clang >/dev/null 2>&1; then
    echo "*** clang missing (make test-deps): libFuzzer run NOT done ***"
    exit 1
fi
if [ ! -f "$FUZZ/build.ninja" ]; then
    CC=clang meson setup "$FUZZ" -Dfuzz=true -Dgui=false \
        -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debug -Dc_args=-fsanitize=fuzzer-no-link \
        >"$FUZZ.log" 2>&1 || { tail -20 "$FUZZ.log"; exit 1; }
fi
if ! ninja -C "$FUZZ" "$target" >>"$FUZZ.log" 2>&1; then
    tail -30 "$FUZZ.log"
    echo "fuzz build failed"
    exit 1
fi
[ "$SECS" = 0 ] && exit 0   # build only
if [ -n "$KEEP" ]; then
    corpus="$FUZZ/corpus-$NAME"
    mkdir -p "$corpus"
    cp -n tests/fuzz/corpus-"$NAME"/* "$corpus"/
    seed=0
else
    corpus=$(mktemp -d)
    cp tests/fuzz/corpus-"$NAME"/* "$corpus"/
    seed=1
fi
if [ "$NAME" = state ]; then
    # A whole state of the harness's own machine, made by the harness.
    MIMIC_FUZZ_STATE_SEED="$corpus/own-machine" "$FUZZ/$target" \
        >/dev/null 2>&1 || true
fi
log="$FUZZ/fuzz-$NAME.log"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
timeout $((SECS + 60)) "$FUZZ/$target" -max_total_time="$SECS" \
    -seed=$seed -timeout=10 -max_len=$maxlen -rss_limit_mb=2048 \
    -artifact_prefix="$FUZZ/" "$corpus" >"$log" 2>&1
rc=$?
[ -n "$KEEP" ] || rm -rf "$corpus"
if [ $rc -ne 0 ]; then
    tail -40 "$log"
    echo "fuzzing $NAME failed (inputs: $FUZZ/crash-* etc.)"
    exit 1
fi
echo "fuzz-$NAME: $(grep -E '^#[0-9]+' "$log" | tail -1)"
