#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# mimic-img command line: create/info/check/convert/resize/snapshot/
# rebase/compare/map, checked against Debian's qemu-img where present
# (exit 77 with a loud message when it is missing).
set -eu
M="$1"
Q=/usr/bin/qemu-img
if [ ! -x "$Q" ]; then
    echo "*** $Q missing: mimic-img interop NOT tested ***" >&2
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
# Acceptance: verbatim.
"$M" create -f qcow c.img 500M >/dev/null
"$Q" info c.img | grep -q '^file format: qcow$' || fail "qcow format"
"$Q" info c.img | grep -q '^virtual size: 500 MiB' || fail "qcow size"
for o in "compat=0.10" "compat=1.1" "cluster_size=512" \
         "cluster_size=2M,lazy_refcounts=on" "preallocation=metadata" \
         "preallocation=full,cluster_size=64k"; do
    "$M" create -f qcow2 -o "$o" q.qcow2 3M >/dev/null
    "$Q" check q.qcow2 >/dev/null || fail "qemu-img check ($o)"
    "$M" check q.qcow2 >/dev/null || fail "mimic-img check ($o)"
done
"$M" create -f raw r.raw 1M >/dev/null
[ "$(stat -c %s r.raw)" = 1048576 ] || fail "raw size"
# Backing files, convert (also compressed), compare, map, rebase.
head -c 1048576 /dev/urandom > d.raw
"$M" convert -f raw -O qcow2 d.raw base.qcow2
"$M" create -f qcow2 -b base.qcow2 -F qcow2 top.qcow2 >/dev/null
"$Q" compare top.qcow2 d.raw >/dev/null || fail "backing compare"
"$M" convert -c -f qcow2 -O qcow2 top.qcow2 comp.qcow2
"$Q" check comp.qcow2 >/dev/null || fail "compressed check"
"$Q" compare -f qcow2 -F raw comp.qcow2 d.raw >/dev/null || fail "comp"
"$M" compare -f qcow2 -F raw comp.qcow2 d.raw >/dev/null || fail "mcmp"
"$M" map top.qcow2 >/dev/null || fail "map"
"$M" info --output=json --backing-chain top.qcow2 | grep -q '"format"' ||
    fail "info json"
"$M" rebase -b "" -f qcow2 top.qcow2 || fail "rebase"
"$Q" compare -f qcow2 -F raw top.qcow2 d.raw >/dev/null || fail "rebased"
"$Q" check top.qcow2 >/dev/null || fail "rebased check"
# Snapshots and resize.
"$M" snapshot -c s1 comp.qcow2 || fail "snapshot -c"
"$Q" snapshot -l comp.qcow2 | grep -q s1 || fail "snapshot visible"
"$M" snapshot -d s1 comp.qcow2 || fail "snapshot -d"
"$Q" check comp.qcow2 >/dev/null || fail "check after snapshots"
"$M" resize base.qcow2 +3M >/dev/null || fail "resize"
"$Q" info base.qcow2 | grep -q 'virtual size: 4 MiB' || fail "resized"
"$Q" check base.qcow2 >/dev/null || fail "resize check"
# Check exit codes agree with qemu-img's: leaks only -> 3.
"$Q" create -f qcow2 l.qcow2 1M >/dev/null
python3 - <<'PY'
import struct
f = open('l.qcow2', 'r+b')
h = f.read(104)
rt = struct.unpack('>Q', h[48:56])[0]
f.seek(rt); rb = struct.unpack('>Q', f.read(8))[0]
f.seek(rb + 2 * 10); f.write(struct.pack('>H', 1))
f.seek(10 * 65536 + 65535); f.write(b'\0')
PY
set +e
"$Q" check l.qcow2 >/dev/null 2>&1; q=$?
"$M" check l.qcow2 >/dev/null 2>&1; m=$?
set -e
[ "$q" = 3 ] && [ "$m" = 3 ] || fail "leak exit codes qemu=$q mimic=$m"
"$M" check -r leaks l.qcow2 >/dev/null || fail "repair leaks"
"$Q" check l.qcow2 >/dev/null || fail "repaired"
# A corrupt-marked image: refused for writing, repaired by check -r all.
"$Q" create -f qcow2 k.qcow2 1M >/dev/null
python3 - <<'PY'
import struct
f = open('k.qcow2', 'r+b')
f.seek(72); v = struct.unpack('>Q', f.read(8))[0]
f.seek(72); f.write(struct.pack('>Q', v | 2))
PY
if "$M" snapshot -c s k.qcow2 2>/dev/null; then fail "corrupt image written"; fi
"$M" check -r all k.qcow2 >/dev/null || fail "repair corrupt bit"
"$Q" info k.qcow2 | grep -q 'corrupt: false' || fail "corrupt bit kept"
# Errors: one line, exit 1.
set +e
"$M" create -f qcow2 x.qcow2 12Q 2>err.txt; e=$?
set -e
[ "$e" = 1 ] && [ "$(wc -l < err.txt)" = 1 ] || fail "error line"
# A backing file without its format is refused (never probed later).
set +e
"$M" create -f qcow2 -b c.img nofmt.qcow2 2>err.txt; e=$?
set -e
[ "$e" = 1 ] && [ ! -e nofmt.qcow2 ] && grep -q -- '-F' err.txt ||
    fail "create -b without -F"
# Locks: while QEMU holds an image for writing, mimic-img info is refused
# with QEMU's message and -U reads it anyway (the lock bytes are QEMU's).
QS=/usr/bin/qemu-system-i386
if [ -x "$QS" ]; then
    "$M" create -f qcow2 held.qcow2 1M >/dev/null
    "$QS" -S -display none -nodefaults -monitor none \
        -drive file=held.qcow2,format=qcow2,if=none,id=d0 &
    qpid=$!
    i=0
    while ! grep -q "$(stat -c %i held.qcow2) 201 201" /proc/locks; do
        i=$((i + 1)); [ $i -lt 100 ] || { kill $qpid; fail "qemu lock"; }
        sleep 0.1
    done
    set +e
    "$M" info held.qcow2 >/dev/null 2>err.txt; e=$?
    set -e
    "$M" info -U held.qcow2 >/dev/null || { kill $qpid; fail "info -U"; }
    kill $qpid; wait $qpid 2>/dev/null || true
    [ "$e" = 1 ] && grep -q 'Failed to get shared "write" lock' err.txt ||
        fail "info of an image QEMU writes"
    "$M" info held.qcow2 >/dev/null || fail "info after QEMU left"
else
    echo "*** $QS missing: locks against QEMU NOT tested ***" >&2
fi
"$M" --version | grep -q mimic-img || fail "version"
"$M" --help | grep -q create || fail "help"
echo "mimic-img cli: all passed"
