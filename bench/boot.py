#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot benchmark: the demo ISO (isolinux + Debian's i386 Linux + busybox
initramfs) from power-on to the GUEST-READY marker, under Mimic and under
qemu-system-i386 (TCG) in the same run on the same machine.  Prints the
ratio Mimic/QEMU (never a bare time: a time alone says nothing on a shared
machine); the seconds are shown only next to it.

--kernel64: the 64-bit variant, Debian's amd64 kernel with the
busybox-static:amd64 initramfs (build.sh initrd64, as the mimic-kernel64
test) under mimic-system-x86_64 and qemu-system-x86_64.

usage: bench/boot.py MIMIC [QEMU] [--runs N] [--timeout S] [--kernel64]
"""
import argparse
import os
import shutil
import statistics
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'guests'))
os.environ.setdefault('MIMIC_SOURCE_ROOT', TOP)
import boottest  # noqa: E402


def boot_once(exe, extra, timeout, kernel64=False):
    if kernel64:
        argv = [exe] + extra + [
            '-nographic', '-kernel',
            os.path.join(boottest.CACHE, 'vmlinuz64'), '-initrd',
            os.path.join(boottest.CACHE, 'initrd64.gz'), '-append',
            'console=ttyS0,115200 ' + boottest.QUICK_APPEND, '-m', '256']
    else:
        argv = [exe] + extra + ['-nographic', '-cdrom',
                                os.path.join(boottest.CACHE, 'demo.iso'),
                                '-boot', 'd', '-m', '256']
    start = time.monotonic()
    emu = boottest.Emulator(argv)
    try:
        emu.wait_for('GUEST-READY', timeout)
        return time.monotonic() - start
    finally:
        emu.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('mimic')
    ap.add_argument('qemu', nargs='?', default=None)
    ap.add_argument('--runs', type=int, default=1)
    ap.add_argument('--timeout', type=float, default=600)
    ap.add_argument('--kernel64', action='store_true',
                    help="Debian's amd64 kernel on the 64-bit machines")
    args = ap.parse_args()
    k64 = args.kernel64
    if args.qemu is None:
        args.qemu = 'qemu-system-x86_64' if k64 else 'qemu-system-i386'
    qemu = shutil.which(args.qemu) or args.qemu
    if not os.access(qemu, os.X_OK):
        print('bench/boot: %s not found; no ratio' % args.qemu)
        return 1
    mimic = (os.path.abspath(args.mimic) if os.sep in args.mimic
             else shutil.which(args.mimic) or args.mimic)
    if k64:
        # mimic-system-x86_64 (default CPU qemu64) beside the given mimic.
        sib = os.path.join(os.path.dirname(mimic), 'mimic-system-x86_64')
        if os.path.basename(mimic) == 'mimic' and os.path.exists(sib):
            mimic = sib
    boottest.ensure_images('kernel64' if k64 else 'iso')
    times = {'mimic': [], 'qemu': []}
    try:
        # Interleave the runs so both see the same machine load.
        for _ in range(args.runs):
            times['qemu'].append(boot_once(qemu, ['-accel', 'tcg'],
                                           args.timeout, k64))
            times['mimic'].append(boot_once(mimic, [],
                                            args.timeout, k64))
    except boottest.BootError as e:
        print('bench/boot: a boot did not reach GUEST-READY; no ratio\n%s'
              % e)
        return 1
    m = statistics.median(times['mimic'])
    q = statistics.median(times['qemu'])
    print('boot %s to GUEST-READY: Mimic/QEMU-TCG = %.2fx '
          '(Mimic %.1f s, QEMU %.1f s, median of %d)'
          % ('amd64 kernel' if k64 else 'ISO', m / q, m, q, args.runs))
    return 0


if __name__ == '__main__':
    sys.exit(main())
