#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""USB disk benchmark: Debian's i686 Linux (uhci-hcd or ehci-pci,
usb-storage, sd_mod from the test kernel's package, as
tests/guests/test_usb_linux.py) reads 64 MiB from a usb-storage disk with
`dd if=/dev/sda of=/dev/null bs=1M count=64`, under Mimic and under
qemu-system-i386 (TCG) in the same run with the same controller: the
PIIX3 UHCI (-usb) or, with --ehci, a usb-ehci (-device usb-ehci,id=ehci,
the disk on ehci.0) or, with --xhci, a qemu-xhci (-device
qemu-xhci,id=xhci, the disk on xhci.0 at SuperSpeed; xhci-pci).  The time is taken on the host between the guest's
serial markers around dd (no boot in it).  Prints the ratio Mimic/QEMU;
the seconds only beside it.

usage: bench/usb.py MIMIC [QEMU] [--ehci|--xhci] [--runs N] [--mib M]
                    [--timeout S]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'guests'))
os.environ.setdefault('MIMIC_SOURCE_ROOT', TOP)
import boottest  # noqa: E402
import test_usb_linux as usbl  # noqa: E402

INIT = r'''#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read m args; do
    insmod /lib/modules/$m.ko $args || echo "USB-INSMOD-FAIL $m"
done < /modules.order
i=0
while [ ! -b /dev/sda ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
echo DD-START
dd if=/dev/sda of=/dev/null bs=1M count=@MIB@ 2>&1 | sed 's/^/DD /'
echo DD-END
poweroff -f
'''


HC = {
    'uhci': ['-usb', '-device', 'usb-storage,drive=d0'],
    'ehci': ['-device', 'usb-ehci,id=ehci', '-device',
             'usb-storage,drive=d0,bus=ehci.0'],
    'xhci': ['-device', 'qemu-xhci,id=xhci', '-device',
             'usb-storage,drive=d0,bus=xhci.0'],
}
MODULE = {'uhci': 'uhci-hcd', 'ehci': 'ehci-pci', 'xhci': 'xhci-pci'}


def run_once(exe, extra, initrd, disk, mib, timeout, hc_name):
    hc = HC[hc_name]
    argv = [exe] + extra + [
        '-display', 'none', '-serial', 'stdio', '-m', '128', '-net', 'none',
        '-monitor', 'none',
        '-drive', 'if=none,id=d0,format=raw,file=' + disk] + hc + [
        '-kernel', os.path.join(boottest.CACHE, 'vmlinuz'),
        '-initrd', initrd,
        '-append', 'console=ttyS0,115200 ' + boottest.QUICK_APPEND]
    emu = boottest.Emulator(argv)
    try:
        emu.wait_for('DD-START', timeout)
        start = time.monotonic()
        emu.wait_for('DD-END', timeout)
        took = time.monotonic() - start
        out = emu.buf
    finally:
        emu.close()
    if '%d+0 records in' % mib not in out:
        raise boottest.BootError('dd did not read %d MiB:\n%s'
                                 % (mib, out[-2000:]))
    return took


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('mimic')
    ap.add_argument('qemu', nargs='?', default='qemu-system-i386')
    ap.add_argument('--ehci', action='store_true',
                    help='usb-ehci instead of the UHCI')
    ap.add_argument('--xhci', action='store_true',
                    help='qemu-xhci instead of the UHCI')
    ap.add_argument('--runs', type=int, default=1)
    ap.add_argument('--mib', type=int, default=64)
    ap.add_argument('--timeout', type=float, default=900)
    args = ap.parse_args()
    hc_name = 'xhci' if args.xhci else 'ehci' if args.ehci else 'uhci'
    qemu = shutil.which(args.qemu) or args.qemu
    if not os.access(qemu, os.X_OK):
        print('bench/usb: %s not found; no ratio' % args.qemu)
        return 1
    mimic = (os.path.abspath(args.mimic) if os.sep in args.mimic
             else shutil.which(args.mimic) or args.mimic)
    boottest.ensure_images('kernel')
    tmp = tempfile.mkdtemp(prefix='bench-usb-')
    try:
        usbl.MODULES[:] = [MODULE[hc_name], 'usb-storage', 'sd-mod']
        usbl.INIT = INIT.replace('@MIB@', str(args.mib))
        initrd = usbl.build_initrd(tmp)
        disk = os.path.join(tmp, 'disk.img')
        with open(disk, 'wb') as f:
            f.write(os.urandom(1 << 20) * (args.mib + 1))
        times = {'mimic': [], 'qemu': []}
        for _ in range(args.runs):
            times['qemu'].append(run_once(qemu, ['-accel', 'tcg'], initrd,
                                          disk, args.mib, args.timeout,
                                          hc_name))
            times['mimic'].append(run_once(mimic, [], initrd, disk,
                                           args.mib, args.timeout,
                                           hc_name))
    except boottest.BootError as e:
        print('bench/usb: a run did not finish its dd; no ratio\n%s' % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    m = statistics.median(times['mimic'])
    q = statistics.median(times['qemu'])
    print('usb-storage dd %d MiB (%s): Mimic/QEMU-TCG = %.2fx '
          '(Mimic %.1f s, QEMU %.1f s, median of %d)'
          % (args.mib, hc_name.upper(), m / q, m, q,
             args.runs))
    return 0


if __name__ == '__main__':
    sys.exit(main())
