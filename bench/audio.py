#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Audio cost benchmark: bench/cpu.asm under Mimic without sound, and
built with -DSOUND under Mimic with `-soundhw pcspk,sb16 -audiodev wav`
while the guest keeps two streams playing (the PC speaker at 440 Hz and
the Sound Blaster 16 at 44.1 kHz by auto-init DMA): the mixer, the
resampler, the SB16's DMA and the WAV writer all run beside the CPU
phases.  Runs are interleaved; the results are the ratios of the medians
(with sound / without) of the wall time of the three phases and of the
emulator's CPU time (user + system, from /proc, the whole run): on a
shared machine the CPU time is the steadier of the two.  The issue
wants the cost under 5%.

usage: bench/audio.py MIMIC [--runs N] [--scale S] [--timeout T]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cpu  # noqa: E402  (bench/cpu.py: the ROM's phases)
import boottest  # noqa: E402  (tests/guests, put on the path by cpu)

TICK = os.sysconf('SC_CLK_TCK')


def run_once(exe, extra, rom, timeout):
    """Wall seconds of the phases, CPU seconds of the process, checksums."""
    argv = [exe] + extra + ['-bios', rom, '-m', '64', '-display', 'none',
                            '-serial', 'stdio', '-monitor', 'none']
    emu = boottest.Emulator(argv)
    try:
        emu.wait_for('CPU-BENCH START\n', timeout)
        t0 = time.monotonic()
        sums = []
        for p in cpu.PHASES:
            m = emu.wait_for(re.compile(p + r' ([0-9a-f]{8}(?: [0-9a-f]{8})?)'
                                        r'\n'), timeout)
            sums.append(m.group(1))
        wall = time.monotonic() - t0
        emu.wait_for('CPU-BENCH DONE', timeout)
        with open('/proc/%d/stat' % emu.proc.pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        cpu_s = (int(fields[11]) + int(fields[12])) / TICK
    finally:
        emu.close()
    return wall, cpu_s, sums


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('mimic')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--scale', type=int, default=1)
    ap.add_argument('--timeout', type=float, default=900)
    args = ap.parse_args()
    mimic = os.path.abspath(args.mimic)
    with tempfile.TemporaryDirectory(prefix='bench-audio-') as tmp:
        roms = {}
        for kind, defs in (('quiet', []), ('sound', ['-DSOUND'])):
            roms[kind] = os.path.join(tmp, kind + '.rom')
            subprocess.run(['nasm', '-f', 'bin', '-DSCALE=%d' % args.scale]
                           + defs + ['-o', roms[kind],
                                     os.path.join(HERE, 'cpu.asm')],
                           check=True)
        wav = os.path.join(tmp, 'out.wav')
        extra = {'quiet': [],
                 'sound': ['-soundhw', 'pcspk,sb16',
                           '-audiodev', 'wav,id=a0,path=' + wav]}
        walls = {'quiet': [], 'sound': []}
        cpus = {'quiet': [], 'sound': []}
        sums = {}
        for _ in range(args.runs):
            for kind in ('quiet', 'sound'):
                w, c, s = run_once(mimic, extra[kind], roms[kind],
                                   args.timeout)
                walls[kind].append(w)
                cpus[kind].append(c)
                if sums.setdefault(kind, s) != s:
                    print('bench/audio: checksums changed between runs')
                    return 1
        if sums['quiet'] != sums['sound']:
            print('bench/audio: checksums differ with sound: %r, %r'
                  % (sums['quiet'], sums['sound']))
            return 1
        size = os.path.getsize(wav)
    print('recorded %.1f s of audio in the last run' % ((size - 44) / 192000))
    for what, d in (('wall time of the phases', walls),
                    ('CPU time of the emulator', cpus)):
        q = statistics.median(d['quiet'])
        s = statistics.median(d['sound'])
        print('audio (scale %d), %s: with sound / without = %.3fx (%.2f s / '
              '%.2f s, median of %d)' % (args.scale, what, s / q, s, q,
                                         args.runs))
    return 0


if __name__ == '__main__':
    sys.exit(main())
