#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Regression test for issue 15 item 8, end to end: the human monitor's
line editor used to drop bytes >= 0x80, so "q\\xbe" ran as "q" (quit).

Over -monitor unix: and -monitor stdio (a pipe), junk lines that would
turn into a command if their high bytes were dropped are sent: each must
be refused with one line, and Mimic must go on (info status answers).
A valid UTF-8 line is an unknown command, named as typed.  Runs with -S:
no guest software is needed.

usage: test_monitor_bytes.py EMULATOR
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

JUNK = [b'q\xbe', b'\xffq', b'qu\x80it', b'stop\xc3', b'sys\xe2tem_reset']


class Fail(Exception):
    pass


class Reader:
    def __init__(self, recv):
        self.recv = recv
        self.buf = b''

    def until(self, needle, limit=20):
        deadline = time.monotonic() + limit
        while needle not in self.buf:
            if time.monotonic() > deadline:
                raise Fail('no %r in %r' % (needle, self.buf[-300:]))
            data = self.recv()
            if not data:
                raise Fail('connection closed, waiting for %r after %r' %
                           (needle, self.buf[-300:]))
            self.buf += data
        i = self.buf.index(needle) + len(needle)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out


def converse(send, rd, name):
    rd.until(b'(mimic) ')
    for junk in JUNK:
        send(junk + b'\n')
        out = rd.until(b'(mimic) ')
        if b'invalid UTF-8' not in out:
            raise Fail('%s: %r answered %r' % (name, junk, out))
    send('\u00e9t\u00e9\n'.encode())
    out = rd.until(b'(mimic) ')
    if 'unknown command: \'\u00e9t\u00e9\''.encode() not in out:
        raise Fail('%s: UTF-8 line answered %r' % (name, out))
    send(b'info status\n')
    out = rd.until(b'(mimic) ')
    if b'VM status: paused' not in out:
        raise Fail('%s: info status answered %r' % (name, out))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix='monbytes-')
    failed = 0
    try:
        path = os.path.join(tmp, 'mon.sock')
        p = subprocess.Popen([exe, '-S', '-display', 'none', '-monitor',
                              'unix:%s,server,nowait' % path],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while True:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(path)
                    break
                except OSError:
                    s.close()
                    if time.monotonic() > deadline:
                        raise Fail('no monitor socket')
                    time.sleep(0.05)
            s.settimeout(20)
            converse(s.sendall, Reader(lambda: s.recv(65536)), 'unix')
            s.close()
            time.sleep(0.2)
            if p.poll() is not None:
                raise Fail('unix: mimic ended with %d' % p.returncode)
            print('ok    monitor-unix')
        except (Fail, OSError) as e:
            print('FAIL  %s (exit %r)' % (e, p.poll()))
            failed += 1
        finally:
            if p.poll() is None:
                p.kill()
            p.wait()

        p = subprocess.Popen([exe, '-S', '-display', 'none', '-monitor',
                              'stdio'], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        try:
            def send(b):
                p.stdin.write(b)
                p.stdin.flush()
            converse(send, Reader(lambda: p.stdout.read1(65536)), 'stdio')
            send(b'quit\n')
            rc = p.wait(timeout=30)
            if rc != 0:
                raise Fail('stdio: quit ended with %d' % rc)
            print('ok    monitor-stdio')
        except (Fail, OSError, subprocess.TimeoutExpired) as e:
            print('FAIL  %s (exit %r)' % (e, p.poll()))
            failed += 1
        finally:
            if p.poll() is None:
                p.kill()
            p.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
