#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fetch one file of one Debian 12 package into the guest cache and print
# its path:  fetch-deb.sh PACKAGE[:ARCH] PATH-IN-PACKAGE
# e.g. fetch-deb.sh grub-invaders ./boot/invaders.exec (a Multiboot
# kernel).  Uses fetch.sh's private apt state (apt.sh); idempotent: with a
# warm cache it prints the path at once.  Output under
# $CACHE/extra/PACKAGE/.
set -eu
CACHE=${MIMIC_GUEST_CACHE:-$HOME/.cache/mimic/guests}
PKG=$1
FILE=$2
NAME=${PKG%%:*}
APT_ARCH=
DEBARCH='*'
OUT=$CACHE/extra/$NAME
case $PKG in
    *:*) APT_ARCH=${PKG#*:}; DEBARCH=$APT_ARCH
         # i386 keeps its old place; other architectures get their own
         [ "$APT_ARCH" = i386 ] || OUT=$CACHE/extra/$NAME-$APT_ARCH ;;
esac
if [ -s "$OUT/$FILE" ]; then
    echo "$OUT/$FILE"
    exit 0
fi
. "$(dirname "$0")/apt.sh"
cd "$CACHE/debs"
# shellcheck disable=SC2086
if ! ls "${NAME}"_*_$DEBARCH.deb >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    apt-get $APT_OPTS download "$PKG" </dev/null >&2
fi
# shellcheck disable=SC2086
DEB=$(ls "${NAME}"_*_$DEBARCH.deb | head -n 1)
mkdir -p "$OUT"
dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$OUT" "$FILE"
echo "$OUT/$FILE"
