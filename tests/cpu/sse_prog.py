#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A 32-bit SSE program (tests/cpu/sse-prog.c, built by the host's gcc
with -m32 -msse2 -mfpmath=sse -O2 -static and again with -march=nehalem)
under mimic-i386 -cpu pentium4 / -cpu Nehalem: its output must equal the
host's, which runs the same file natively.  Also: -cpu pentium2 (no SSE)
stops it with SIGILL, as a Pentium II would.

usage: sse_prog.py MIMIC_I386 PROG_SSE2 PROG_NEHALEM
"""
import subprocess
import sys


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return p.returncode, p.stdout.decode(errors='replace')


def main():
    mimic, prog2, prog42 = sys.argv[1:4]
    failed = False
    for prog, cpu in ((prog2, 'pentium4'), (prog42, 'Nehalem')):
        hrc, host = run([prog])
        if hrc != 0:
            print(f'{prog}: the host cannot run it (exit {hrc})')
            if prog == prog2:
                return 77
            continue
        mrc, out = run([mimic, '-cpu', cpu, prog])
        lines = len(host.splitlines())
        if mrc != 0 or out != host:
            failed = True
            print(f'FAIL {prog} -cpu {cpu}: exit {mrc}')
            for a, b in zip(host.splitlines(), out.splitlines()):
                if a != b:
                    print(f'  host : {a}\n  mimic: {b}')
        else:
            print(f'ok {prog} -cpu {cpu}: {lines} lines equal to the host')
    rc, _ = run([mimic, '-cpu', 'pentium2', prog2])
    if rc != -4 and rc != 128 + 4:
        failed = True
        print(f'FAIL -cpu pentium2: exit {rc}, expected SIGILL')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
