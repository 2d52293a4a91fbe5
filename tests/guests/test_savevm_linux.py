#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Determinism acceptance of issue 7 with Linux, at exact instruction
counts (suite guests-linux).  In -icount mode the demo kernel and
initramfs boot straight into a shell loop that prints "COUNT N" on the
serial port (no typed input, so every run executes the same instructions).

1. Reference run, uninterrupted: boot until the loop runs, read the
   counter (`info icount`), choose N and M > N after it, stop exactly at M
   (`icount_stop M`), take `info ramhash`; the serial output is read to the
   emulator's exit.
2. Run A: a new process stops exactly at N, saves (`migrate file:`) and
   quits.
3. Run B: a new process resumes from the file (-incoming), stops at M.
The serial output of A then B must equal the reference's byte for byte, and
B's RAM hash at M must equal the reference's.  Nothing depends on host
speed: N and M are instruction counts, and the output is compared at exit.

usage: test_savevm_linux.py EMULATOR
"""
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

LOOP = 'i=0; while true; do i=$((i+1)); echo COUNT $i; done'
STEP = 20000000  # instructions from the observed count to N, N to M


def argv(exe, sock, extra=()):
    return [exe, '-kernel', os.path.join(boottest.CACHE, 'vmlinuz'),
            '-initrd', os.path.join(boottest.CACHE, 'initrd.gz'),
            '-append', 'console=ttyS0 rdinit=/bin/busybox -- sh -c "%s"'
            % LOOP, '-m', '128', '-icount', '3', '-rtc',
            'base=2020-01-01T00:00:00', '-net', 'none', '-display', 'none',
            '-serial', 'stdio', '-S', '-monitor',
            'unix:%s,server=on,wait=off' % sock] + list(extra)


def icount(mon):
    out = mon.cmd('info icount')
    m = re.search(r'icount: (\d+) instructions', out)
    if not m:
        raise boottest.BootError('info icount said %r' % out)
    return int(m.group(1))


def ramhash(mon):
    out = mon.cmd('info ramhash')
    m = re.search(r'(?m)^all ([0-9a-f]{64})$', out)
    if not m:
        raise boottest.BootError('info ramhash said %r' % out)
    return m.group(1)


def stop_at(emu, mon, count, timeout=1800):
    """Run until the counter reaches count; check it stopped there."""
    out = mon.cmd('icount_stop %d' % count)
    if out.strip():
        emu.fail('icount_stop said %r' % out)
    mon.cmd('cont')
    deadline = time.monotonic() + timeout * boottest.SCALE
    while 'paused' not in mon.cmd('info status'):
        if time.monotonic() > deadline:
            emu.fail('did not stop at instruction %d' % count)
        time.sleep(0.5)
    got = icount(mon)
    if got != count:
        emu.fail('stopped at instruction %d, not %d' % (got, count))


def finish(emu, mon):
    """Quit and return the whole serial output (read to end of file)."""
    mon.sock.sendall(b'quit\n')
    status = emu.wait_exit(60)
    emu.reader.join(30)
    mon.close()
    if status != 0:
        emu.fail('exit status %s' % status)
    with emu.cond:
        return emu.buf.replace('\r', '')


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    boottest.ensure_images('kernel')
    tmp = tempfile.mkdtemp(prefix="savevm-linux-")
    emu = None
    try:
        state = os.path.join(tmp, 'vm.state')
        # 1. Reference.
        sock = os.path.join(tmp, 'ref.mon')
        emu = boottest.Emulator(argv(exe, sock))
        mon = boottest.Monitor(sock)
        mon.cmd('cont')
        emu.wait_for(re.compile(r'(?m)^COUNT 100\r?\n'), 1500)
        mon.cmd('stop')
        seen = icount(mon)
        n, m = seen + STEP, seen + 2 * STEP
        print('loop running at instruction %d: N=%d M=%d' % (seen, n, m))
        stop_at(emu, mon, m)
        ref_hash = ramhash(mon)
        ref = finish(emu, mon)
        emu.close()
        # 2. Run A: stop at N, save.
        sock = os.path.join(tmp, 'a.mon')
        emu = boottest.Emulator(argv(exe, sock))
        mon = boottest.Monitor(sock)
        stop_at(emu, mon, n)
        out = mon.cmd('migrate file:' + state)
        if out.strip():
            emu.fail('migrate said %r' % out)
        half1 = finish(emu, mon)
        emu.close()
        # 3. Run B: resume, stop at M.
        sock = os.path.join(tmp, 'b.mon')
        emu = boottest.Emulator(argv(exe, sock,
                                     ['-incoming', 'file:' + state]))
        mon = boottest.Monitor(sock)
        if icount(mon) != n:
            emu.fail('resumed at instruction %d, not %d' % (icount(mon), n))
        stop_at(emu, mon, m)
        b_hash = ramhash(mon)
        half2 = finish(emu, mon)
        emu.close()
        emu = None
        if 'Linux version' in half2:
            print('FAIL: the resumed machine booted again')
            return 1
        if not re.search(r'COUNT \d+', half2):
            print('FAIL: the resumed run printed no count: %r' % half2[:200])
            return 1
        both = half1 + half2
        if both != ref:
            i = next((k for k, (x, y) in enumerate(zip(both, ref)) if x != y),
                     min(len(both), len(ref)))
            print('FAIL: serial output differs from the uninterrupted run at '
                  'char %d of %d/%d: %r vs %r' % (i, len(both), len(ref),
                                                  both[i:i + 60],
                                                  ref[i:i + 60]))
            return 1
        if b_hash != ref_hash:
            print('FAIL: RAM at instruction %d differs: resumed %s, '
                  'uninterrupted %s' % (m, b_hash, ref_hash))
            return 1
        last = re.findall(r'COUNT (\d+)', ref)
        print('ok: saved at instruction %d, resumed in a new process: serial '
              'output (%d bytes, up to COUNT %s) and RAM hash at instruction '
              '%d equal the uninterrupted run\'s' %
              (n, len(ref), last[-1] if last else '?', m))
        return 0
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        return 1
    except OSError as e:  # the monitor socket closed under us
        print('FAIL: %s\n---- emulator output ----\n%s' %
              (e, emu.tail() if emu else ''))
        return 1
    finally:
        if emu:
            emu.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
