#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""CPU benchmark: bench/cpu.asm (a -bios ROM of our own: 32-bit protected
mode with paging, then an integer, a memory and an x87 phase) under Mimic
and under qemu-system-i386 (TCG) in the same run on the same machine.
Each phase prints a checksum on COM1; the two emulators must agree.  The
time of each phase is taken between the guest's serial lines as they
arrive (no boot, no firmware), and only the ratio Mimic/QEMU is the
result (a time alone says nothing on a shared machine).

--long: the 64-bit variant, the same phases in long mode (nasm -DLONG;
the same checksums) under mimic-system-x86_64 and qemu-system-x86_64.

usage: bench/cpu.py MIMIC [QEMU] [--runs N] [--scale S] [--timeout T]
                    [--long]
"""
import argparse
import os
import re
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

PHASES = ('int', 'mem', 'fpu')


def run_once(exe, extra, rom, timeout):
    """Run the ROM once; return ({phase: seconds}, {phase: checksum})."""
    argv = [exe] + extra + ['-bios', rom, '-m', '64', '-display', 'none',
                            '-serial', 'stdio', '-monitor', 'none']
    emu = boottest.Emulator(argv)
    times, sums = {}, {}
    try:
        emu.wait_for('CPU-BENCH START\n', timeout)
        t = time.monotonic()
        for p in PHASES:
            m = emu.wait_for(re.compile(p + r' ([0-9a-f]{8}(?: [0-9a-f]{8})?)'
                                        r'\n'), timeout)
            now = time.monotonic()
            times[p] = now - t
            sums[p] = m.group(1)
            t = now
        emu.wait_for('CPU-BENCH DONE', timeout)
    finally:
        emu.close()
    return times, sums


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('mimic')
    ap.add_argument('qemu', nargs='?', default=None)
    ap.add_argument('--runs', type=int, default=1)
    ap.add_argument('--scale', type=int, default=2,
                    help='work per phase (nasm -DSCALE); default 2')
    ap.add_argument('--timeout', type=float, default=900)
    ap.add_argument('--long', action='store_true',
                    help='the phases in 64-bit mode, on the x86_64 machines')
    args = ap.parse_args()
    if args.qemu is None:
        args.qemu = 'qemu-system-x86_64' if args.long else 'qemu-system-i386'
    qemu = shutil.which(args.qemu) or args.qemu
    if not os.access(qemu, os.X_OK):
        print('bench/cpu: %s not found; no ratio' % args.qemu)
        return 1
    mimic = (os.path.abspath(args.mimic) if os.sep in args.mimic
             else shutil.which(args.mimic) or args.mimic)
    if args.long:
        # mimic-system-x86_64 (default CPU qemu64) beside the given mimic.
        sib = os.path.join(os.path.dirname(mimic), 'mimic-system-x86_64')
        if os.path.basename(mimic) == 'mimic' and os.path.exists(sib):
            mimic = sib
    with tempfile.TemporaryDirectory(prefix='bench-cpu-') as tmp:
        rom = os.path.join(tmp, 'cpu.rom')
        subprocess.run(['nasm', '-f', 'bin', '-DSCALE=%d' % args.scale] +
                       (['-DLONG'] if args.long else []) +
                       ['-o', rom, os.path.join(TOP, 'bench', 'cpu.asm')],
                       check=True)
        times = {'mimic': [], 'qemu': []}
        sums = {}
        try:
            # Interleave the runs so both see the same machine load.
            for _ in range(args.runs):
                for who, exe, extra in (('qemu', qemu, ['-accel', 'tcg']),
                                        ('mimic', mimic, [])):
                    t, s = run_once(exe, extra, rom, args.timeout)
                    times[who].append(t)
                    if sums.setdefault(who, s) != s:
                        print('bench/cpu: %s gave different checksums in '
                              'two runs: %r, %r' % (who, sums[who], s))
                        return 1
        except boottest.BootError as e:
            print('bench/cpu: a run did not finish; no ratio\n%s' % e)
            return 1
    if sums['mimic'] != sums['qemu']:
        print('bench/cpu: checksums differ: Mimic %r, QEMU %r; no ratio'
              % (sums['mimic'], sums['qemu']))
        return 1
    print('checksums agree: ' + ', '.join('%s %s' % (p, sums['qemu'][p])
                                          for p in PHASES))
    total = {}
    for who in times:
        total[who] = statistics.median(sum(t.values()) for t in times[who])
    for p in PHASES:
        m = statistics.median(t[p] for t in times['mimic'])
        q = statistics.median(t[p] for t in times['qemu'])
        print('  %-4s Mimic/QEMU-TCG = %5.2fx (Mimic %.2f s, QEMU %.2f s)'
              % (p, m / q, m, q))
    print('cpu%s (scale %d): Mimic/QEMU-TCG = %.2fx (Mimic %.2f s, QEMU '
          '%.2f s, median of %d)'
          % (' 64-bit' if args.long else '', args.scale,
             total['mimic'] / total['qemu'], total['mimic'], total['qemu'],
             args.runs))
    return 0


if __name__ == '__main__':
    sys.exit(main())
