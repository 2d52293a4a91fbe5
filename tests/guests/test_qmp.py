#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test of QMP (-qmp unix:PATH,server,nowait) with the counting
boot sector of tests/guests/counter.asm: greeting, qmp_capabilities,
query-status, stop (the serial output stands still, STOP event), cont
(RESUME), human-monitor-command, system_reset (RESET; the guest counts
from 1 again), system_powerdown (POWERDOWN), malformed input (an error
reply, the session goes on), quit (SHUTDOWN, exit status 0).

usage: test_qmp.py EMULATOR
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


class Qmp:
    def __init__(self, path, timeout=30):
        deadline = time.monotonic() + timeout * boottest.SCALE
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise Fail('no QMP socket at %s' % path)
                time.sleep(0.1)
        self.sock.settimeout(30 * boottest.SCALE)
        self.buf = b''
        self.events = []

    def recv(self):
        while b'\n' not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise Fail('QMP connection closed')
            self.buf += data
        line, self.buf = self.buf.split(b'\n', 1)
        msg = json.loads(line.decode())
        check(isinstance(msg, dict), 'QMP sent %r' % msg)
        return msg

    def reply(self):
        """The next reply; events seen on the way are kept."""
        while True:
            msg = self.recv()
            if 'event' in msg:
                check('timestamp' in msg, 'event without timestamp: %r' % msg)
                self.events.append(msg)
                continue
            return msg

    def cmd(self, name, args=None, raw=None):
        if raw is None:
            req = {'execute': name}
            if args is not None:
                req['arguments'] = args
            req['id'] = name
            raw = json.dumps(req).encode()
        self.sock.sendall(raw)
        r = self.reply()
        if raw is not None and name and 'return' in r:
            check(r.get('id') == name, 'reply id %r for %s' %
                  (r.get('id'), name))
        return r

    def event(self, name, timeout=30):
        deadline = time.monotonic() + timeout * boottest.SCALE
        while True:
            for i, e in enumerate(self.events):
                if e['event'] == name:
                    del self.events[i]
                    return e
            if time.monotonic() > deadline:
                raise Fail('no %s event (saw %r)' % (name, self.events))
            self.events.append(self.recv())


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='qmp-')
    emu = None
    try:
        boot = os.path.join(tmp, 'counter.bin')
        subprocess.run(['nasm', '-f', 'bin', '-o', boot,
                        os.path.join(HERE, 'counter.asm')], check=True)
        disk = os.path.join(tmp, 'disk.img')
        with open(disk, 'wb') as f:
            f.write(open(boot, 'rb').read())
            f.truncate(2 << 20)
        sock = os.path.join(tmp, 'qmp.sock')
        emu = boottest.Emulator([
            exe, '-drive', 'file=%s,format=raw' % disk, '-icount', '3',
            '-display', 'none', '-serial', 'stdio',
            '-qmp', 'unix:%s,server,nowait' % sock])
        q = Qmp(sock)
        greeting = q.recv()
        check('QMP' in greeting and 'version' in greeting['QMP'],
              'greeting %r' % greeting)
        r = q.cmd('query-status')
        check(r.get('error', {}).get('class') == 'CommandNotFound',
              'before negotiation: %r' % r)
        check('return' in q.cmd('qmp_capabilities'), 'negotiation failed')
        emu.wait_for(re.compile(r'(?m)^50 \d+\n'), 60)
        r = q.cmd('query-status')['return']
        check(r['status'] == 'running' and r['running'], 'status %r' % r)

        check('return' in q.cmd('stop'), 'stop failed')
        q.event('STOP')
        check(q.cmd('query-status')['return']['status'] == 'paused',
              'not paused after stop')
        time.sleep(0.3)
        with emu.cond:
            frozen = emu.buf
        time.sleep(0.5)
        with emu.cond:
            check(emu.buf == frozen, 'the guest ran while stopped')
        r = q.cmd('human-monitor-command', {'command-line': 'info status'})
        check(r.get('return') == 'VM status: paused\n', 'hmp: %r' % r)

        check('return' in q.cmd('cont'), 'cont failed')
        q.event('RESUME')
        emu.wait_for(re.compile(r'(?m)^%d \d+\n' %
                                (int(re.findall(r'(?m)^(\d+) ', frozen)[-1])
                                 + 5)), 60)
        print('ok: stop froze the guest, cont resumed it')

        check('return' in q.cmd('system_reset'), 'system_reset failed')
        e = q.event('RESET')
        check(e.get('data', {}).get('guest') is False, 'RESET %r' % e)
        emu.wait_for(re.compile(r'(?m)^1 \d+\n'), 60)
        print('ok: system_reset: RESET event, the guest counts from 1 again')

        check('return' in q.cmd('system_powerdown'), 'powerdown failed')
        q.event('POWERDOWN')

        # The typed commands (the same engine functions as the GUI's):
        # change the CD, eject it, and migrate to a file.
        iso = os.path.join(tmp, 'cd.iso')
        with open(iso, 'wb') as f:
            f.truncate(64 * 2048)
        r = q.cmd('blockdev-change-medium',
                  {'device': 'ide1-cd0', 'filename': iso, 'format': 'raw'})
        check('return' in r, 'blockdev-change-medium: %r' % r)
        r = q.cmd('human-monitor-command', {'command-line': 'info block'})
        check(iso in r.get('return', ''), 'the CD is not in: %r' % r)
        check('return' in q.cmd('eject', {'device': 'ide1-cd0'}),
              'eject failed')
        r = q.cmd('blockdev-change-medium',
                  {'device': 'nonesuch', 'filename': iso})
        check('nonesuch' in r.get('error', {}).get('desc', ''),
              'a bad device: %r' % r)
        r = q.cmd('migrate', {'uri': 'file:' + os.path.join(tmp, 'm.st')})
        check('return' in r and os.path.getsize(os.path.join(tmp, 'm.st')),
              'migrate: %r' % r)
        r = q.cmd('migrate', {'uri': 'file:/nonexistent-dir/m.st'})
        check('error' in r, 'migrate to a missing directory: %r' % r)
        check('return' in q.cmd('cont'), 'cont after migrate failed')
        print('ok: blockdev-change-medium, eject and migrate')

        for raw in (b'{"execute": }', b'nonsense\n', b'[1, 2]',
                    b'{"execute": "no-such-command"}',
                    b'{"execute": "stop", "arguments": []}'):
            r = q.cmd(None, raw=raw)
            check('error' in r and r['error'].get('desc'),
                  'no error for %r: %r' % (raw, r))
        r = q.cmd('query-status')
        check(r['return']['running'], 'session broken after bad input')
        print('ok: malformed input got error replies; the session goes on')

        check('return' in q.cmd('quit'), 'quit failed')
        e = q.event('SHUTDOWN')
        check(e['data']['reason'] == 'host-qmp-quit', 'SHUTDOWN %r' % e)
        status = emu.wait_exit(30)
        check(status == 0, 'exit status %s' % status)
        print('ok: quit: SHUTDOWN event, exit status 0')
    except (Fail, boottest.BootError, OSError, ValueError, KeyError) as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        if emu:
            emu.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
