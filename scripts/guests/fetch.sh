#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fetch the real guest software for Mimic's demo machine and boot tests from
# Debian 12's package archive (no other network): the i386 Linux kernel
# (linux-image-686:i386 resolved to linux-image-6.1.0-NN-686), its disk
# modules and the e1000 NIC driver (resolved with the package's own modules.dep) and a static i386
# busybox.  The package ships no modules.dep (depmod makes it at install
# time), so the dependencies come from each module's own .modinfo
# "depends=" field, the same data depmod reads.  Uses a private apt state
# (lists, cache, pkgcache) so dpkg and
# /etc/apt stay untouched; see /work/shared/GUESTS.md.  Idempotent: with a
# warm cache it returns at once.  Output under $CACHE/root:
#   vmlinuz  busybox  modules/<name>.ko  modules/order (insmod order)
set -eu
CACHE=${MIMIC_GUEST_CACHE:-$HOME/.cache/mimic/guests}
ROOT=$CACHE/root
STAMP=$ROOT/.fetched
MODS="crct10dif_generic crc64_rocksoft_generic ata_piix sd_mod sr_mod isofs
 vfat nls_cp437 nls_ascii nls_iso8859-1 nls_utf8 e1000"
# The other NIC drivers of the network test (RTL8139C+, NE2000 PCI and
# ISA, virtio-net over virtio-pci legacy and modern); init.sh leaves them
# to the test, so that other boots do not pay for them.
MODS="$MODS 8139cp 8139too ne2k-pci ne virtio_pci virtio_net"

if [ "$(cat "$STAMP" 2>/dev/null)" = "$MODS" ] && [ -s "$ROOT/vmlinuz" ] &&
   [ -x "$ROOT/busybox" ] && [ "${1:-}" != "--force" ]; then
    exit 0
fi

# The private apt state and its index (APT_OPTS).
. "$(dirname "$0")/apt.sh"

# linux-image-686:i386 is a metapackage: find the real kernel package.
# shellcheck disable=SC2086
KRX='^ *Depends: \(linux-image-[0-9][^: ]*-686\)\(:i386\)\{0,1\} *$'
KPKG=$(apt-cache $APT_OPTS depends linux-image-686:i386 </dev/null |
       sed -n "s/$KRX/\\1/p" | head -n 1)
if [ -z "$KPKG" ]; then
    echo "fetch.sh: cannot resolve linux-image-686:i386" >&2
    exit 1
fi
echo "fetch.sh: kernel package $KPKG" >&2

cd "$CACHE/debs"
for p in "$KPKG" busybox-static; do
    if ! ls "${p}"_*_i386.deb >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        apt-get $APT_OPTS download "$p:i386" </dev/null >&2
    fi
done
KDEB=$(ls "${KPKG}"_*_i386.deb | head -n 1)
BDEB=$(ls busybox-static_*_i386.deb | head -n 1)

TMP=$CACHE/tmp.$$
rm -rf "$TMP"
mkdir -p "$TMP/k" "$TMP/b"
trap 'rm -rf "$TMP"' EXIT
dpkg-deb --fsys-tarfile "$KDEB" | tar -x -C "$TMP/k" --wildcards \
    './boot/vmlinuz-*' \
    './lib/modules/*/kernel/drivers/ata/*' \
    './lib/modules/*/kernel/drivers/scsi/*' \
    './lib/modules/*/kernel/drivers/cdrom/*' \
    './lib/modules/*/kernel/fs/*' './lib/modules/*/kernel/lib/*' \
    './lib/modules/*/kernel/block/*' './lib/modules/*/kernel/crypto/*' \
    './lib/modules/*/kernel/drivers/net/ethernet/intel/e1000/*' \
    './lib/modules/*/kernel/drivers/net/ethernet/realtek/8139*' \
    './lib/modules/*/kernel/drivers/net/ethernet/8390/*' \
    './lib/modules/*/kernel/drivers/net/mii.ko*' \
    './lib/modules/*/kernel/drivers/net/virtio_net.ko*' \
    './lib/modules/*/kernel/drivers/net/net_failover.ko*' \
    './lib/modules/*/kernel/net/core/failover.ko*' \
    './lib/modules/*/kernel/drivers/virtio/*'
dpkg-deb --fsys-tarfile "$BDEB" | tar -x -C "$TMP/b" ./bin/busybox

KVER=$(ls "$TMP/k/lib/modules" | head -n 1)
MDIR=$TMP/k/lib/modules/$KVER

# Resolve the dependency closure in load order (dependencies first).
rm -rf "$TMP/out"
mkdir -p "$TMP/out/modules"
# shellcheck disable=SC2086
python3 - "$MDIR" "$TMP/out/modules" $MODS <<'PY'
import os, shutil, sys
mdir, out, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
import lzma, re
def load(path):
    if path.endswith('.xz'):
        return lzma.open(path).read()
    with open(path, 'rb') as f:
        return f.read()
byname = {}
for dirpath, _, files in os.walk(mdir):
    for base in files:
        for suf in ('.ko.xz', '.ko'):
            if base.endswith(suf):
                name = base[:-len(suf)].replace('-', '_')
                byname[name] = os.path.join(dirpath, base)
def depends(path):
    m = re.search(rb'\0depends=([^\0]*)\0', b'\0' + load(path))
    return [d for d in m.group(1).decode().split(',') if d] if m else []
order = []
def visit(name, stack=()):
    name = name.replace('-', '_')
    path = byname.get(name)
    if path is None:
        sys.exit('fetch.sh: module %s not found in the package' % name)
    if path in order or name in stack:
        return
    for d in depends(path):
        visit(d, stack + (name,))
    order.append(path)
for name in wanted:
    visit(name)
names = []
for path in order:
    base = os.path.basename(path)
    data = load(path)
    if base.endswith('.xz'):
        base = base[:-3]
    with open(os.path.join(out, base), 'wb') as f:
        f.write(data)
    names.append(base)
with open(os.path.join(out, 'order'), 'w') as f:
    f.write('\n'.join(names) + '\n')
PY
cp "$TMP"/k/boot/vmlinuz-* "$TMP/out/vmlinuz"
cp "$TMP/b/bin/busybox" "$TMP/out/busybox"
chmod 755 "$TMP/out/busybox"
echo "$KVER" >"$TMP/out/kernel-version"
rm -rf "$ROOT"
mv "$TMP/out" "$ROOT"
echo "$MODS" >"$STAMP"
echo "fetch.sh: guest software ready in $ROOT (kernel $KVER)" >&2
