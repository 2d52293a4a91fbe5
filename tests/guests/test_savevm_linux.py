#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Determinism acceptance with Linux (suite guests-linux: needs Mimic to
run Linux user space).  In -icount mode the demo kernel and initramfs
boot straight into a shell loop that prints "COUNT N" on the serial port
(no typed input, so every run is the same instruction stream).  A run is
saved with `migrate file:` at some point and resumed in a new process; the
serial output of both halves must equal an uninterrupted run's, and the
resumed run must continue the count (no reboot).

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

END, SAVE = 3000, 1000
LOOP = 'i=0; while true; do i=$((i+1)); echo COUNT $i; done'


def argv(exe, sock, extra=()):
    return [exe, '-kernel', os.path.join(boottest.CACHE, 'vmlinuz'),
            '-initrd', os.path.join(boottest.CACHE, 'initrd.gz'),
            '-append', 'console=ttyS0 rdinit=/bin/busybox -- sh -c "%s"'
            % LOOP, '-m', '128', '-icount', '3', '-rtc',
            'base=2020-01-01T00:00:00', '-net', 'none', '-display', 'none',
            '-serial', 'stdio', '-monitor',
            'unix:%s,server=on,wait=off' % sock] + list(extra)


def upto(text, n):
    i = text.find('COUNT %d\n' % n)
    return text[:i + len('COUNT %d\n' % n)] if i >= 0 else text


def run(exe, tmp, name, until, extra=(), save=None):
    sock = os.path.join(tmp, name + '.mon')
    emu = boottest.Emulator(argv(exe, sock, extra))
    try:
        mon = boottest.Monitor(sock)
        emu.wait_for(re.compile(r'(?m)^COUNT %d\r?\n' % until), 600)
        if save:
            out = mon.cmd('migrate file:' + save)
            if out.strip():
                emu.fail('migrate said %r' % out)
            time.sleep(1)  # let the reader thread drain the serial pipe
        with emu.cond:
            text = emu.buf
        mon.sock.sendall(b'quit\n')
        emu.wait_exit(30)
        mon.close()
        return text.replace('\r', '')
    finally:
        emu.close()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    boottest.ensure_images('kernel')
    tmp = tempfile.mkdtemp(prefix='savevm-linux-')
    try:
        state = os.path.join(tmp, 'vm.state')
        ref = upto(run(exe, tmp, 'ref', END), END)
        half1 = run(exe, tmp, 'a', SAVE, save=state)
        half2 = run(exe, tmp, 'b', END, extra=['-incoming', 'file:' + state])
        if 'Linux version' in half2:
            print('FAIL: the resumed machine booted again')
            return 1
        first = re.search(r'COUNT (\d+)', half2)
        if not first or int(first.group(1)) < SAVE:
            print('FAIL: the count did not continue: %r' % half2[:200])
            return 1
        both = upto(half1 + half2, END)
        if both != ref:
            i = next((k for k, (x, y) in enumerate(zip(both, ref)) if x != y),
                     min(len(both), len(ref)))
            print('FAIL: output differs from an uninterrupted run at char %d'
                  ': %r vs %r' % (i, both[i:i + 60], ref[i:i + 60]))
            return 1
        print('ok: Linux saved near COUNT %d and resumed: output identical to '
              'an uninterrupted run up to COUNT %d' % (SAVE, END))
        return 0
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
