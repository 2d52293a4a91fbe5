#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The human monitor on a terminal: `-monitor stdio` with stdin a pty
(the way a person runs it) edits lines and keeps a history.  Typed:
"info statu", Left, "s", Enter (an edit in the middle: "info statsu" is
an unknown subcommand and lists them); then Up, BS, BS, "us", Enter (the
recalled line fixed: "info status" answers "VM status: paused"); then
Ctrl-P twice, Ctrl-A, Ctrl-K, "quit", Enter ends Mimic with status 0.

usage: test_monitor_tty.py EMULATOR
"""
import os
import pty
import select
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402


def read_until(fd, marker, deadline=30.0):
    out = b''
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if marker in out:
                return out
    raise AssertionError('no %r in %r' % (marker, out))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(exe, [exe, '-display', 'none', '-S', '-m', '32',
                       '-net', 'none', '-monitor', 'stdio'])
    status = None
    try:
        read_until(fd, b'(mimic) ')
        os.write(fd, b'info statu\x1b[Ds\r')
        # (A redraw of the line repeats the prompt: wait for answers.)
        read_until(fd, b'ramhash')
        os.write(fd, b'\x1b[A\x7f\x7fus\r')
        read_until(fd, b'VM status: paused')
        os.write(fd, b'\x10\x10\x01\x0bquit\r')
        end = time.monotonic() + 30
        while time.monotonic() < end:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(st)
                break
            try:
                os.read(fd, 4096)
            except OSError:
                pass
            time.sleep(0.1)
        assert status == 0, 'quit: status %r' % status
    except AssertionError as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        if status is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    print('ok: edited a line, recalled and fixed one, quit')
    return 0


if __name__ == '__main__':
    sys.exit(main())
