#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Linux user mode: Mimic against QEMU's user mode, in the same run.

Runs CPU-bound work in Debian's busybox-static for each architecture
(mipsel, mips64el, i386, x86_64) under mimic-ARCH and qemu-ARCH, interleaved (--runs N,
median) so both see the same load, and prints the time ratio Mimic/QEMU
per workload and in total:
  - int:   sha256sum of a 4 MiB file (integer, rotates, loads/stores);
  - sort:  sort -n of 40,000 lines (comparisons, strings, malloc);
  - float: an awk loop of 200,000 floating-point steps (the FPU).
The outputs of both must be the same bytes (the script fails otherwise).
Not part of make check.

usage: bench/user.py BUILD_DIR_WITH_mimic-ARCH [--runs 3] [--arch mipsel]
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
FETCH = os.path.join(SRC, 'scripts', 'guests', 'fetch-deb.sh')


def fetch(pkg, member):
    p = subprocess.run(['sh', FETCH, pkg, member], capture_output=True,
                       text=True, check=True)
    return p.stdout.strip().split('\n')[-1]


def timed(cmd, cwd):
    t = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, check=True)
    return time.monotonic() - t, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('bindir')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--arch', default='mipsel,mips64el,i386,x86_64')
    args = ap.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix='bench-user-') as d:
        with open(os.path.join(d, 'blob'), 'wb') as f:
            f.write(bytes(rng.getrandbits(8) for _ in range(4 << 20)))
        with open(os.path.join(d, 'lines'), 'w') as f:
            for _ in range(40000):
                f.write('%d\n' % rng.randrange(1 << 30))
        work = {
            'int': ['sha256sum', 'blob'],
            'sort': ['sort', '-n', 'lines'],
            'float': ['awk', 'BEGIN { x = 0.5; for (i = 0; i < 200000; '
                      'i++) x = x * 1.000001 + 1 / (i + 1.5); '
                      'printf "%.9g\\n", x }'],
        }
        total = {'mimic': 0.0, 'qemu': 0.0}
        print('%-9s %-6s %10s %10s %8s' % ('arch', 'work', 'Mimic s',
                                           'QEMU s', 'ratio'))
        for arch in args.arch.split(','):
            deb = {'x86_64': 'amd64'}.get(arch, arch)   # Debian's name
            bb = fetch('busybox-static:' + deb, './bin/busybox')
            mimic = os.path.join(os.path.abspath(args.bindir), 'mimic-' + arch)
            qemu = shutil.which('qemu-' + arch)
            if not qemu:
                print('qemu-%s missing (Debian package qemu-user)' % arch)
                return 1
            for name, cmd in work.items():
                tm, tq = [], []
                for _ in range(args.runs):
                    a, out_m = timed([mimic, bb] + cmd, d)
                    b, out_q = timed([qemu, bb] + cmd, d)
                    if out_m != out_q:
                        print('%s %s: outputs differ: %r vs %r'
                              % (arch, name, out_m[:80], out_q[:80]))
                        return 1
                    tm.append(a)
                    tq.append(b)
                m, q = statistics.median(tm), statistics.median(tq)
                total['mimic'] += m
                total['qemu'] += q
                print('%-9s %-6s %10.3f %10.3f %8.2f' % (arch, name, m, q,
                                                         m / q))
        print('%-16s %10.3f %10.3f %8.2f' % ('total', total['mimic'],
                                             total['qemu'],
                                             total['mimic'] / total['qemu']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
