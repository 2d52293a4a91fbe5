#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of Mimic's guest initramfs (busybox ash).  Mounts the kernel file
# systems, loads the disk modules in dependency order, mounts the first
# FAT partition on /mnt when one is found, prints the GUEST-READY marker on
# the console and runs a shell on it for the boot tests to type into.
# When the console is a serial port, the screen (tty1) gets a shell too.
# This script stays PID 1, so busybox's poweroff, reboot and halt (which
# signal PID 1: USR2, TERM, USR1) work without -f.
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
trap 'sync; poweroff -f' USR2
trap 'sync; reboot -f' TERM
trap 'sync; halt -f' USR1
# A shell on the screen as well, unless the console is already there.
# (The last word of "active" is /dev/console, as cttyhack reads it.)
console=$(cat /sys/class/tty/console/active 2>/dev/null)
case "${console##* }" in
tty[0-9]*) ;;
*)
    (
        trap - USR2 TERM USR1
        while :; do
            printf '\nMimic guest: a shell (also on the serial port); '
            printf 'type poweroff to turn the machine off.\n'
            setsid -c sh -l
            sleep 1
        done
    ) </dev/tty1 >/dev/tty1 2>&1 &
    ;;
esac
# The console's shell, started again should it exit.
while :; do
    setsid cttyhack sh &
    shell=$!
    # A signal interrupts wait (and runs its trap); wait again for the
    # shell until it has really gone.
    while kill -0 "$shell" 2>/dev/null; do
        wait "$shell"
    done
done
