#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build Mimic's guest images from the Debian software fetch.sh downloads:
#   initrd.gz     busybox initramfs (/init = init.sh, disk and e1000
#                 modules, udhcpc.script as
#                 /etc/udhcpc/default.script)
#   demo.iso      isolinux El Torito CD (isohybrid), kernel + initrd
#   demo-hdd.img  raw disk: syslinux MBR, one active FAT16 partition at
#                 LBA 2048, syslinux, kernel + initrd
#   floppy.img    1.44 MB FAT12, syslinux + COM32 test programs
#   vmlinuz64, initrd64.gz  Debian's amd64 kernel (linux-image-amd64) and
#                 a busybox-static:amd64 initramfs (the same /init; no
#                 modules), for the 64-bit boot test
# into ${MIMIC_GUEST_CACHE:-$HOME/.cache/mimic/guests}.  Reproducible
# (SOURCE_DATE_EPOCH, sorted cpio, gzip -n, mkfs.fat --invariant); no root,
# no loop devices.  Images are rebuilt only when an input is newer.
# usage: build.sh [all|iso|hdd|floppy|initrd|kernel|initrd64]
#        build.sh --path iso|hdd|floppy|initrd|kernel|initrd64
#   (--path builds that image if needed and prints its path on stdout, for
#    scripts/run-demo.sh and others; all progress goes to stderr)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${MIMIC_GUEST_CACHE:-$HOME/.cache/mimic/guests}
ROOT=$CACHE/root
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"
export MTOOLS_SKIP_CHECK=1 TZ=UTC LC_ALL=C
SYSLINUX_BIOS=/usr/lib/syslinux/modules/bios
ISOLINUX=/usr/lib/ISOLINUX
MBR=/usr/lib/syslinux/mbr/mbr.bin
APPEND="console=tty0 console=ttyS0,115200"
what=${1:-all}

need() {
    for f in "$@"; do
        if [ ! -e "$f" ]; then
            echo "build.sh: missing $f; run 'make test-deps'" >&2
            exit 1
        fi
    done
}

# up_to_date OUT IN...: OUT exists and is newer than every IN.
up_to_date() {
    out=$1
    shift
    [ -s "$out" ] || return 1
    for i in "$@"; do
        [ -n "$(find "$i" -newer "$out")" ] && return 1
    done
    return 0
}

stamp_tree() {
    find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

kernel() {
    "$HERE/fetch.sh"
    cp "$ROOT/vmlinuz" "$CACHE/vmlinuz.tmp"
    touch -d "@$SOURCE_DATE_EPOCH" "$CACHE/vmlinuz.tmp"
    if ! cmp -s "$CACHE/vmlinuz.tmp" "$CACHE/vmlinuz"; then
        mv "$CACHE/vmlinuz.tmp" "$CACHE/vmlinuz"
    else
        rm -f "$CACHE/vmlinuz.tmp"
    fi
}

initrd() {
    kernel
    out=$CACHE/initrd.gz
    up_to_date "$out" "$ROOT/.fetched" "$HERE/init.sh" "$HERE/mkcpio.py" \
        "$HERE/udhcpc.script" &&
        return 0
    st=$CACHE/stage-initrd
    rm -rf "$st"
    mkdir -p "$st/bin" "$st/dev" "$st/proc" "$st/sys" "$st/mnt" "$st/tmp" \
        "$st/lib/modules" "$st/sbin" "$st/usr/bin" "$st/usr/sbin" "$st/root"
    cp "$ROOT/busybox" "$st/bin/busybox"
    ln -s busybox "$st/bin/sh"
    cp "$HERE/init.sh" "$st/init"
    mkdir -p "$st/etc/udhcpc"
    cp "$HERE/udhcpc.script" "$st/etc/udhcpc/default.script"
    chmod 755 "$st/init" "$st/bin/busybox" "$st/etc/udhcpc/default.script"
    cp "$ROOT"/modules/* "$st/lib/modules/"
    python3 "$HERE/mkcpio.py" "$st" "$out" \
        --node /dev/console:600:c:5:1 --node /dev/null:666:c:1:3 \
        --node /dev/ttyS0:660:c:4:64 --node /dev/tty0:620:c:4:0
    rm -rf "$st"
    echo "build.sh: $out" >&2
}

# The amd64 guest: linux-image-amd64 (a metapackage) resolved to the real
# kernel package, both packages fetched by fetch-deb.sh.
initrd64() {
    . "$HERE/apt.sh"
    krx='^ *Depends: \(linux-image-[0-9][^: ]*-amd64\)\(:amd64\)\{0,1\} *$'
    # shellcheck disable=SC2086
    kpkg=$(apt-cache $APT_OPTS depends linux-image-amd64:amd64 </dev/null |
           sed -n "s/$krx/\\1/p" | head -n 1)
    if [ -z "$kpkg" ]; then
        echo "build.sh: cannot resolve linux-image-amd64" >&2
        exit 1
    fi
    kver=${kpkg#linux-image-}
    vml=$("$HERE/fetch-deb.sh" "$kpkg:amd64" "./boot/vmlinuz-$kver")
    bb=$("$HERE/fetch-deb.sh" busybox-static:amd64 ./bin/busybox)
    if ! cmp -s "$vml" "$CACHE/vmlinuz64"; then
        cp "$vml" "$CACHE/vmlinuz64"
    fi
    out=$CACHE/initrd64.gz
    up_to_date "$out" "$bb" "$HERE/init.sh" "$HERE/mkcpio.py" && return 0
    st=$CACHE/stage-initrd64
    rm -rf "$st"
    mkdir -p "$st/bin" "$st/dev" "$st/proc" "$st/sys" "$st/mnt" "$st/tmp" \
        "$st/sbin" "$st/usr/bin" "$st/usr/sbin" "$st/root"
    cp "$bb" "$st/bin/busybox"
    ln -s busybox "$st/bin/sh"
    cp "$HERE/init.sh" "$st/init"
    chmod 755 "$st/init" "$st/bin/busybox"
    python3 "$HERE/mkcpio.py" "$st" "$out" \
        --node /dev/console:600:c:5:1 --node /dev/null:666:c:1:3 \
        --node /dev/ttyS0:660:c:4:64 --node /dev/tty0:620:c:4:0
    rm -rf "$st"
    echo "build.sh: $out" >&2
}

iso() {
    initrd
    out=$CACHE/demo.iso
    up_to_date "$out" "$CACHE/initrd.gz" "$CACHE/vmlinuz" "$HERE/build.sh" &&
        return 0
    need "$ISOLINUX/isolinux.bin" "$ISOLINUX/isohdpfx.bin" \
        "$SYSLINUX_BIOS/ldlinux.c32"
    command -v xorriso >/dev/null || need /usr/bin/xorriso
    st=$CACHE/stage-iso
    rm -rf "$st"
    mkdir -p "$st/isolinux" "$st/boot"
    cp "$ISOLINUX/isolinux.bin" "$SYSLINUX_BIOS/ldlinux.c32" "$st/isolinux/"
    cp "$CACHE/vmlinuz" "$st/boot/vmlinuz"
    cp "$CACHE/initrd.gz" "$st/boot/initrd.gz"
    cat >"$st/isolinux/isolinux.cfg" <<CFG
SERIAL 0 115200
PROMPT 0
TIMEOUT 1
DEFAULT linux
LABEL linux
  KERNEL /boot/vmlinuz
  INITRD /boot/initrd.gz
  APPEND $APPEND
LABEL vga
  KERNEL /boot/vmlinuz
  INITRD /boot/initrd.gz
  APPEND console=tty0
CFG
    stamp_tree "$st"
    xorriso -as mkisofs -quiet -o "$out.tmp" -V MIMIC_DEMO -R -J \
        -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot \
        -boot-load-size 4 -boot-info-table \
        -isohybrid-mbr "$ISOLINUX/isohdpfx.bin" "$st" >&2
    mv "$out.tmp" "$out"
    rm -rf "$st"
    echo "build.sh: $out" >&2
}

# put_le32 FILE OFFSET VALUE: little-endian 32-bit write.
put_le32() {
    v=$3
    # shellcheck disable=SC2059
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((v & 255)) \
        $(((v >> 8) & 255)) $(((v >> 16) & 255)) $(((v >> 24) & 255)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# put_bytes FILE OFFSET BYTE...: raw bytes (decimal values).
put_bytes() {
    f=$1
    o=$2
    shift 2
    s=""
    for b in "$@"; do
        s="$s$(printf '\\%03o' "$b")"
    done
    # shellcheck disable=SC2059
    printf "$s" | dd of="$f" bs=1 seek="$o" conv=notrunc status=none
}

# chs LBA: the three CHS bytes of a partition entry (255 heads, 63 sectors).
chs() {
    c=$(($1 / (255 * 63)))
    h=$((($1 / 63) % 255))
    s=$(($1 % 63 + 1))
    [ "$c" -gt 1023 ] && { c=1023; h=254; s=63; }
    echo "$h $((s | ((c >> 2) & 0xc0))) $((c & 255))"
}

syslinux_cfg() {
    cat <<CFG
SERIAL 0 115200
PROMPT 0
TIMEOUT 1
DEFAULT linux
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND $APPEND
LABEL vga
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND console=tty0
CFG
}

hdd() {
    initrd
    out=$CACHE/demo-hdd.img
    up_to_date "$out" "$CACHE/initrd.gz" "$CACHE/vmlinuz" "$HERE/build.sh" &&
        return 0
    need "$MBR"
    for t in syslinux mcopy mkfs.fat; do
        command -v $t >/dev/null || need "/usr/bin/$t"
    done
    sectors=65536              # 32 MiB
    start=2048
    count=$((sectors - start))
    img=$out.tmp
    rm -f "$img"
    dd if=/dev/zero of="$img" bs=512 count=0 seek=$sectors status=none
    dd if="$MBR" of="$img" bs=440 count=1 conv=notrunc status=none
    put_le32 "$img" 440 $((0x4d494d43))            # disk signature "CMIM"
    # Partition entry 1: active, FAT16 (type 0x06), LBA start and count.
    # shellcheck disable=SC2046
    put_bytes "$img" 446 128 $(chs $start) 6 $(chs $((sectors - 1)))
    put_le32 "$img" 454 $start
    put_le32 "$img" 458 $count
    put_bytes "$img" 510 85 170
    mkfs.fat -F 16 --invariant -i 4d494d43 -n MIMIC-HDD -h $start \
        --offset $start -g 255/63 "$img" $((count / 2)) >/dev/null
    off=$((start * 512))
    st=$CACHE/stage-hdd
    rm -rf "$st"
    mkdir -p "$st"
    cp "$CACHE/vmlinuz" "$CACHE/initrd.gz" "$st/"
    syslinux_cfg >"$st/syslinux.cfg"
    echo "file put on the disk by the host" >"$st/hello.txt"
    stamp_tree "$st"
    syslinux --offset $off --install "$img"
    mcopy -m -i "$img@@$off" "$st/syslinux.cfg" "$st/vmlinuz" \
        "$st/initrd.gz" "$st/hello.txt" ::
    mv "$img" "$out"
    rm -rf "$st"
    echo "build.sh: $out" >&2
}

floppy() {
    out=$CACHE/floppy.img
    up_to_date "$out" "$HERE/build.sh" && return 0
    mkdir -p "$CACHE"
    img=$out.tmp
    rm -f "$img"
    mkfs.fat -C --invariant -i 4d494d43 -n MIMIC-FLOP "$img" 1440 >/dev/null
    syslinux --install "$img"
    st=$CACHE/stage-floppy
    rm -rf "$st"
    mkdir -p "$st"
    for m in cpuidtest meminfo pcitest libcom32 libutil libgpl poweroff; do
        need "$SYSLINUX_BIOS/$m.c32"
        cp "$SYSLINUX_BIOS/$m.c32" "$st/"
    done
    # A prompt the boot tests drive: they type "cpuid", "meminfo" and
    # "pcitest" in turn.  No TIMEOUT: it would rerun the default after
    # every program and race with the typing.
    cat >"$st/syslinux.cfg" <<CFG
SERIAL 0 115200
SAY MIMIC-FLOPPY: type cpuid, meminfo, pcitest or poweroff
PROMPT 1
DEFAULT cpuid
LABEL cpuid
  COM32 cpuidtest.c32
LABEL meminfo
  COM32 meminfo.c32
LABEL pcitest
  COM32 pcitest.c32
LABEL poweroff
  COM32 poweroff.c32
CFG
    stamp_tree "$st"
    mcopy -m -i "$img" "$st"/* ::
    mv "$img" "$out"
    rm -rf "$st"
    echo "build.sh: $out" >&2
}

mkdir -p "$CACHE"
if [ "$what" = "--path" ]; then
    what=${2:-iso}
    case $what in
        iso) f=demo.iso ;;
        hdd) f=demo-hdd.img ;;
        floppy) f=floppy.img ;;
        initrd) f=initrd.gz ;;
        kernel) f=vmlinuz ;;
        initrd64) f=initrd64.gz ;;
        *) echo "build.sh: --path iso|hdd|floppy|initrd|kernel|initrd64" >&2
           exit 2 ;;
    esac
    "$0" "$what" >&2
    echo "$CACHE/$f"
    exit 0
fi
case $what in
    all) iso; hdd; floppy ;;
    iso) iso ;;
    hdd) hdd ;;
    floppy) floppy ;;
    initrd) initrd ;;
    kernel) kernel ;;
    initrd64) initrd64 ;;
    *) echo "usage: build.sh [all|iso|hdd|floppy|initrd|kernel|initrd64]" >&2
       exit 2 ;;
esac
