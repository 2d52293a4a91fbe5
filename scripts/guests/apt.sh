# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by fetch.sh and fetch-deb.sh: a private apt state under $CACHE
# (lists, cache, pkgcache) for Debian 12's archive, so that dpkg and
# /etc/apt stay untouched, and APT_OPTS to use it; the index is refreshed
# at most once a day.  Needs CACHE set.  APT_ARCH (fetch-deb.sh sets it
# from PACKAGE:ARCH) adds a foreign architecture such as mipsel.
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$CACHE/apt/lists/partial" "$CACHE/apt/cache/archives/partial" \
    "$CACHE/debs"
APT_ARCHS=amd64,i386,mipsel,mips64el
APT_OPTS="-o APT::Architectures=$APT_ARCHS
 -o Dir::State::Lists=$CACHE/apt/lists
 -o Dir::Cache=$CACHE/apt/cache
 -o Dir::Cache::pkgcache=$CACHE/apt/cache/pkgcache.bin
 -o Dir::Cache::srcpkgcache=$CACHE/apt/cache/srcpkgcache.bin
 -o Dir::State::status=/var/lib/dpkg/status
 -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q"

# Refresh the index at most once a day; a failing security index is fine as
# long as the main index is there.
lists_ok() {
    ls "$CACHE"/apt/lists/*_dists_bookworm_main_binary-i386_Packages* \
        >/dev/null 2>&1 &&
    ls "$CACHE"/apt/lists/*_dists_bookworm_main_binary-"${APT_ARCH:-i386}"_Packages* \
        >/dev/null 2>&1
}
if ! lists_ok || [ -n "$(find "$CACHE/apt/lists" -maxdepth 0 -mmin +1440)" ]
then
    echo "fetch.sh: updating private apt index in $CACHE/apt" >&2
    # shellcheck disable=SC2086
    apt-get $APT_OPTS update </dev/null >&2 || true
    if ! lists_ok; then
        echo "fetch.sh: no bookworm i386 index; is Debian's archive" \
             "reachable?" >&2
        exit 1
    fi
fi

