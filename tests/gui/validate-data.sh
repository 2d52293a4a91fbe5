#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Validate the desktop entry (desktop-file-validate, Desktop Entry spec
# 1.5) or the AppStream metainfo (appstreamcli validate).  Exit 77 (meson:
# skipped) when the validator is not installed.
kind=$1
file=$2
case $kind in
desktop) tool=desktop-file-validate; set -- "$file" ;;
metainfo) tool=appstreamcli; set -- validate --no-net "$file" ;;
*) echo "usage: $0 desktop|metainfo FILE" >&2; exit 2 ;;
esac
if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool is not installed (Debian: desktop-file-utils," \
         "appstream)" >&2
    exit 77
fi
exec "$tool" "$@"
