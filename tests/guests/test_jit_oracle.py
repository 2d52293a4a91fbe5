#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The interpreter as the JIT's oracle on a real guest (issue 16, suite
guests-linux).  Debian's i686 kernel boots under -icount twice, once with
-accel jit (translating every block on its first run) and once with
-accel interp.  Both stop at the same instruction counts (every STEP
instructions up to LAST) and at each stop the whole architectural state
the monitor shows (`info registers`, including EFLAGS, segments, control
registers and the FPU) and the RAM hash (`info ramhash`) must be equal.
-icount makes the instruction stream independent of host speed, so any
difference is an engine bug; the first differing checkpoint is reported.

usage: test_jit_oracle.py EMULATOR
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402
import time  # noqa: E402

from test_savevm_linux import argv, finish, icount, ramhash  # noqa: E402

STEP = 100000000
LAST = 600000000
STALL = 120  # seconds without a single instruction: the guest stopped


def stop_at(emu, mon, count):
    """Run to instruction count; fail early if the guest stops executing
    (an engine bug can leave it halted with interrupts off, where
    -icount's counter never reaches count)."""
    out = mon.cmd('icount_stop %d' % count)
    if out.strip():
        emu.fail('icount_stop said %r' % out)
    mon.cmd('cont')
    last, since = -1, time.monotonic()
    while 'paused' not in mon.cmd('info status'):
        now = icount(mon)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since > STALL * boottest.SCALE:
            emu.fail('the guest stopped executing at instruction %d '
                     '(registers:\n%s)' % (now, mon.cmd('info registers')))
        time.sleep(0.5)
    got = icount(mon)
    if got != count:
        emu.fail('stopped at instruction %d, not %d' % (got, count))


def run(exe, tmp, accel):
    """Checkpoints of one engine: [(count, registers, ram hash)]."""
    sock = os.path.join(tmp, accel + '.mon')
    emu = boottest.Emulator(argv(exe, sock, ['-accel', accel]))
    try:
        mon = boottest.Monitor(sock)
        states = []
        for count in range(STEP, LAST + 1, STEP):
            stop_at(emu, mon, count)
            states.append((count, mon.cmd('info registers'), ramhash(mon)))
        finish(emu, mon)
        return states
    finally:
        emu.close()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    boottest.ensure_images('kernel')
    tmp = tempfile.mkdtemp(prefix='jit-oracle-')
    env = dict(os.environ)
    try:
        os.environ['MIMIC_JIT_THRESHOLD'] = '0'
        jit = run(exe, tmp, 'jit')
        os.environ.clear()
        os.environ.update(env)
        interp = run(exe, tmp, 'interp')
        for (count, jregs, jhash), (_, iregs, ihash) in zip(jit, interp):
            if jregs != iregs:
                print('FAIL: registers differ at instruction %d\n'
                      '-- jit --\n%s\n-- interp --\n%s' %
                      (count, jregs, iregs))
                return 1
            if jhash != ihash:
                print('FAIL: RAM differs at instruction %d: jit %s, '
                      'interp %s' % (count, jhash, ihash))
                return 1
        print('ok: %d checkpoints up to instruction %d, registers and RAM '
              'equal under the JIT and the interpreter' % (len(jit), LAST))
        return 0
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        os.environ.clear()
        os.environ.update(env)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
