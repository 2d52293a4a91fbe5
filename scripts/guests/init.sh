#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of Mimic's guest initramfs (busybox ash).  Mounts the kernel file
# systems, loads the disk modules in dependency order, mounts the first
# FAT partition on /mnt when one is found, prints the GUEST-READY marker on
# the console and runs a shell on it for the boot tests to type into.
/bin/busybox mkdir -p /proc /sys /dev /mnt /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
if [ -f /lib/modules/order ]; then
    for m in $(cat /lib/modules/order); do
        case $m in
        # the network test's other NIC drivers: loaded by that test
        mii.ko|8139*|8390*|ne2k-pci.ko|ne.ko|virtio*|*failover.ko) continue ;;
        esac
        insmod "/lib/modules/$m" 2>/dev/null
    done
fi
for d in /dev/sda1 /dev/sdb1 /dev/sda /dev/sdb; do
    if [ -b "$d" ] && mount -t vfat "$d" /mnt 2>/dev/null; then
        echo "GUEST-DISK $d mounted on /mnt"
        break
    fi
done
uname -a
echo GUEST-READY
export PS1='guest# '
exec setsid cttyhack sh
