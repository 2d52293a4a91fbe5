#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Regression test for issue 15 item 6: a socket client of the human
monitor, QMP or a serial port that disconnects while output is pending
must not kill Mimic (SIGPIPE), and a client that reconnects right after
the disconnect must be served.

For each of -monitor unix:, -qmp unix:, -monitor tcp: and -serial unix:
(the serial port carrying a mon: multiplexed monitor): connect, ask for a
lot of output without reading any of it, close the socket abruptly
(SO_LINGER 0, so TCP sends a reset), reconnect at once and run a command;
the answer must come and the process must still be alive.  Also -monitor
stdio whose stdout reader closed (SIGPIPE must be ignored process-wide),
and -serial tcp: carrying a running guest's output (the counting boot
sector of counter.asm, built with nasm); the other cases run with -S.

usage: test_chardev_hangup.py EMULATOR
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time


class Fail(Exception):
    pass


def connect(addr, timeout=20):
    deadline = time.monotonic() + timeout
    fam = socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET
    while True:
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.connect(addr)
            s.settimeout(20)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise Fail('cannot connect to %r' % (addr,))
            time.sleep(0.05)


def recv_until(s, needle, limit=20):
    buf = b''
    deadline = time.monotonic() + limit
    while needle not in buf:
        if time.monotonic() > deadline:
            raise Fail('no %r in %r' % (needle, buf[-300:]))
        data = s.recv(65536)
        if not data:
            raise Fail('connection closed, waiting for %r after %r' %
                       (needle, buf[-300:]))
        buf += data
    return buf


def hang_up(s):
    """Close with unread input and pending output: TCP sends RST."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()


def flood_monitor(addr, prompt=b'(mimic) '):
    s = connect(addr)
    recv_until(s, prompt)
    # 400 x help is several MB of output; nothing of it is read.
    s.sendall(b'help\n' * 400)
    time.sleep(0.3)
    hang_up(s)


def check_monitor(addr, prompt=b'(mimic) '):
    s = connect(addr)
    recv_until(s, prompt)
    s.sendall(b'info status\n')
    out = recv_until(s, b'VM status')
    s.close()
    return out


def flood_qmp(addr):
    s = connect(addr)
    recv_until(s, b'\n')
    s.sendall(b'{"execute": "qmp_capabilities"}\n')
    recv_until(s, b'return')
    cmd = {'execute': 'human-monitor-command',
           'arguments': {'command-line': 'help'}}
    s.sendall((json.dumps(cmd) + '\n').encode() * 400)
    time.sleep(0.3)
    hang_up(s)


def check_qmp(addr):
    s = connect(addr)
    recv_until(s, b'\n')
    s.sendall(b'{"execute": "qmp_capabilities"}\n'
              b'{"execute": "query-status", "id": "after"}\n')
    out = recv_until(s, b'"after"')
    s.close()
    if b'"status"' not in out:
        raise Fail('query-status after reconnect: %r' % out)
    return out


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_case(exe, tmp, name, opts, flood, check, addr, paused=True):
    log = open(os.path.join(tmp, name + '.log'), 'w+')
    p = subprocess.Popen([exe] + (['-S'] if paused else []) +
                         ['-display', 'none'] + opts,
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        for round_ in range(3):
            flood(addr)
            check(addr)
        time.sleep(0.2)
        if p.poll() is not None:
            raise Fail('mimic ended (status %d)' % p.returncode)
        print('ok    %s' % name)
        return True
    except (Fail, OSError) as e:
        time.sleep(0.2)
        rc = p.poll()
        log.seek(0)
        why = ''
        if rc is not None and rc < 0:
            why = ' (killed by %s)' % signal.Signals(-rc).name
        print('FAIL  %s: %s; exit %r%s; log: %r' %
              (name, e, rc, why, log.read()[-500:]))
        return False
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        log.close()


def serial_guest_case(exe, tmp):
    """-serial tcp: carrying a guest's output (tests/guests/counter.asm
    counts on COM1): the client resets the connection while the guest
    writes, then a new client gets the output that follows."""
    here = os.path.dirname(os.path.abspath(__file__))
    boot = os.path.join(tmp, 'counter.bin')
    subprocess.run(['nasm', '-f', 'bin', '-o', boot,
                    os.path.join(here, 'counter.asm')], check=True)
    disk = os.path.join(tmp, 'counter.img')
    with open(disk, 'wb') as f:
        f.write(open(boot, 'rb').read())
        f.truncate(1 << 20)
    port = free_port()
    addr = ('127.0.0.1', port)

    def flood(addr):
        s = connect(addr)
        recv_until(s, b'\n')
        time.sleep(1)  # the guest writes on; nothing is read
        hang_up(s)
        time.sleep(0.5)

    def check(addr):
        s = connect(addr)
        out = recv_until(s, b'\n')
        out += recv_until(s, b'\n')
        s.close()
        return out
    return run_case(exe, tmp, 'serial-tcp-guest',
                    ['-drive', 'file=%s,format=raw' % disk, '-serial',
                     'tcp:127.0.0.1:%d,server,nowait' % port],
                    flood, check, addr, paused=False)


def stdio_case(exe):
    """-monitor stdio whose stdout reader went away: the process-wide
    SIGPIPE, not a socket's.  Commands still run; quit ends it with 0."""
    p = subprocess.Popen([exe, '-S', '-display', 'none', '-monitor', 'stdio'],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    try:
        os.set_blocking(p.stdout.fileno(), True)
        buf = b''
        while b'(mimic) ' not in buf:
            data = p.stdout.read1(4096)
            if not data:
                raise Fail('no prompt')
            buf += data
        p.stdout.close()
        p.stdin.write(b'help\n' * 20)
        p.stdin.flush()
        time.sleep(0.5)
        p.stdin.write(b'quit\n')
        p.stdin.close()
        rc = p.wait(timeout=30)
        if rc != 0:
            why = signal.Signals(-rc).name if rc < 0 else rc
            raise Fail('exit %s' % why)
        print('ok    monitor-stdio-closed-stdout')
        return True
    except (Fail, OSError, subprocess.TimeoutExpired) as e:
        print('FAIL  monitor-stdio-closed-stdout: %s' % e)
        return False
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix='hangup-')
    try:
        ok = True
        mon = os.path.join(tmp, 'mon.sock')
        ok &= run_case(exe, tmp, 'monitor-unix',
                       ['-monitor', 'unix:%s,server,nowait' % mon],
                       flood_monitor, check_monitor, mon)
        qmp = os.path.join(tmp, 'qmp.sock')
        ok &= run_case(exe, tmp, 'qmp-unix',
                       ['-qmp', 'unix:%s,server,nowait' % qmp],
                       flood_qmp, check_qmp, qmp)
        port = free_port()
        ok &= run_case(exe, tmp, 'monitor-tcp',
                       ['-monitor', 'tcp:127.0.0.1:%d,server,nowait' % port],
                       flood_monitor, check_monitor, ('127.0.0.1', port))
        ser = os.path.join(tmp, 'serial.sock')

        focus = []

        def flood_mux(addr):
            s = connect(addr)
            # The mux keeps its focus across clients (as QEMU's does):
            # Ctrl-A c once, for the first client.
            if not focus:
                s.sendall(b'\x01c')
                focus.append(True)
            s.sendall(b'\r')
            recv_until(s, b'(mimic) ')
            s.sendall(b'help\n' * 400)
            time.sleep(0.3)
            hang_up(s)

        def check_mux(addr):
            s = connect(addr)
            s.sendall(b'\ninfo status\n')
            out = recv_until(s, b'VM status')
            s.close()
            return out
        ok &= run_case(exe, tmp, 'serial-unix-mon',
                       ['-serial', 'mon:unix:%s,server,nowait' % ser],
                       flood_mux, check_mux, ser)
        ok &= stdio_case(exe)
        ok &= serial_guest_case(exe, tmp)
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
