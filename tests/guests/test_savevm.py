#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance tests of saving and resuming machines, with a deterministic
guest: tests/guests/counter.asm, a boot sector (SeaBIOS boots it from a
raw or qcow2 disk) that prints "N D" lines on COM1, N its counter in RAM
and D the number it last wrote to the disk.  All runs use -icount.

 1. migrate/-incoming: a run saved with `migrate file:` at some point and
    resumed in a new process continues the count without a reboot, and
    the serial output of both halves equals that of an uninterrupted run;
    the same with the exec: URIs of QEMU 7.2.
 2. kill -9 of the saving process during `migrate file:` never leaves a
    broken state file (the old one, or a complete new one).
 3. bad state files (truncated, corrupt, another -m) and changed disks are
    refused with a one-line "mimic: ..." message and exit status 1;
    -incoming-force resumes despite changed disks.
 4. savevm/loadvm/delvm/-loadvm on a qcow2 disk: loadvm rewinds RAM and
    disk, qemu-img lists the snapshot; a raw disk is refused.

usage: test_savevm.py EMULATOR
"""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LINE = re.compile(r'(?m)^(\d+) (\d+)\n')


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


class Run:
    """One Mimic process: serial on stdio, HMP on a unix socket."""

    def __init__(self, exe, tmp, disk, fmt, extra=(), name='m'):
        self.sock = os.path.join(tmp, name + '.mon')
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        argv = [exe, '-drive', 'file=%s,format=%s' % (disk, fmt),
                '-icount', '3', '-rtc', 'base=2020-01-01T00:00:00',
                '-m', '128', '-display', 'none', '-serial', 'stdio',
                '-monitor', 'unix:%s,server=on,wait=off' % self.sock]
        self.emu = boottest.Emulator(argv + list(extra))
        self.mon = boottest.Monitor(self.sock)

    def out(self):
        with self.emu.cond:
            return self.emu.buf

    def wait_count(self, n, timeout=120):
        """Wait for the line counting n; return the output so far."""
        self.emu.wait_for(re.compile(r'(?m)^%d \d+\n' % n), timeout)
        return self.out()

    def quit(self):
        self.mon.sock.sendall(b'quit\n')
        status = self.emu.wait_exit(30)
        check(status == 0, 'quit ended Mimic with status %s' % status)
        self.mon.close()
        self.emu.close()
        return self.out()

    def close(self):
        self.mon.close()
        self.emu.close()


def lines_after(r, mark, n=1, timeout=60, pred=None):
    """Wait until at least n complete lines (that satisfy pred) follow
    output position mark (the first one may be the tail of a line cut by
    a save); return the lines."""
    deadline = time.monotonic() + timeout * boottest.SCALE
    while True:
        c = counts(r.out()[mark:])
        if pred:
            c = [x for x in c if pred(x)]
        if len(c) >= n:
            return c
        if time.monotonic() > deadline or r.emu.eof:
            raise Fail('no output after position %d: %r' %
                       (mark, r.out()[-200:]))
        time.sleep(0.05)


def counts(text):
    return [(int(a), int(b)) for a, b in LINE.findall(text)]


def first_lines(text, n):
    return '\n'.join(text.split('\n')[:n])


def refused(exe, argv, want):
    """The command must fail with status 1 and one 'mimic: ' line."""
    p = subprocess.run([exe] + argv, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    err = p.stderr.strip().split('\n')
    check(p.returncode == 1, '%s: status %d, stderr %r' %
          (' '.join(argv), p.returncode, p.stderr))
    check(len(err) == 1 and err[0].startswith('mimic: ') and
          re.search(want, err[0]), 'want one "mimic: ...%s" line, got %r' %
          (want, p.stderr))
    print('ok: refused: %s' % err[0])


def base_args(disk, fmt, extra=()):
    return ['-drive', 'file=%s,format=%s' % (disk, fmt), '-icount', '3',
            '-rtc', 'base=2020-01-01T00:00:00', '-m', '128', '-display',
            'none', '-serial', 'null', '-monitor', 'none'] + list(extra)


def test_migrate(exe, tmp, pristine):
    END, SAVE = 700, 250
    ref_disk = os.path.join(tmp, 'ref.img')
    shutil.copy(pristine, ref_disk)
    r = Run(exe, tmp, ref_disk, 'raw', name='ref')
    r.wait_count(END)
    ref = first_lines(r.quit(), END)
    check(counts(ref)[:3] == [(1, 0), (2, 1), (3, 2)], 'guest did not count')

    for uri_out, uri_in in (('file:%s', 'file:%s'),
                            ('"exec:cat > %s"', 'exec:cat %s')):
        disk = os.path.join(tmp, 'run.img')
        shutil.copy(pristine, disk)
        state = os.path.join(tmp, 'vm.state')
        a = Run(exe, tmp, disk, 'raw', name='a')
        a.wait_count(SAVE)
        reply = a.mon.cmd('migrate ' + uri_out % state)
        check(reply.strip() == '', 'migrate said %r' % reply)
        st = a.mon.cmd('info status')
        check('paused (postmigrate)' in st, 'after migrate: %r' % st)
        time.sleep(0.3)
        half1 = a.out()
        time.sleep(0.5)
        check(a.out() == half1, 'the guest ran on after migrate')
        a.quit()
        b = Run(exe, tmp, disk, 'raw', extra=['-incoming', uri_in % state],
                name='b')
        half2 = first_lines(b.wait_count(END), END)
        b.quit()
        c2 = counts(half2)
        check(c2 and c2[0][0] > SAVE, 'resumed machine started over: %r' %
              half2[:40])
        both = first_lines(half1 + half2, END)
        check(both == ref, 'saved + resumed output differs from an '
              'uninterrupted run (first difference at char %d)' %
              next((i for i, (x, y) in enumerate(zip(both, ref)) if x != y),
                   min(len(both), len(ref))))
        print('ok: %s: saved at ~%d, resumed at %d, %d lines identical to '
              'an uninterrupted run' % (uri_out.split(':')[0].strip('"'),
                                        counts(half1)[-1][0], c2[0][0], END))
    return disk, state


def test_kill(exe, tmp, disk, state):
    """SIGKILL at various points of a save over an existing state file."""
    outcomes = {'old': 0, 'new': 0}
    for delay in (0, 0.001, 0.003, 0.01, 0.03, 0.1):
        old = hashlib.sha256(open(state, 'rb').read()).hexdigest()
        r = Run(exe, tmp, disk, 'raw', name='k',
                extra=['-incoming', 'file:' + state, '-incoming-force'])
        r.wait_count(counts_after(r))
        r.mon.sock.sendall(('migrate file:%s\n' % state).encode())
        if delay:
            time.sleep(delay)
        r.emu.proc.send_signal(signal.SIGKILL)
        r.emu.proc.wait()
        r.close()
        now = hashlib.sha256(open(state, 'rb').read()).hexdigest()
        if now == old:
            outcomes['old'] += 1
        else:
            outcomes['new'] += 1
        # Either way the file must load (full validation, -S: no run).
        p = load_only(exe, disk, state)
        check(p == 0, 'state file broken after kill -9 (delay %g)' % delay)
    print('ok: kill -9 during migrate: previous state intact %d times, new '
          'complete state %d times, never broken' %
          (outcomes['old'], outcomes['new']))


def counts_after(r):
    """A count a little past the one the machine resumed at."""
    return lines_after(r, 0)[-1][0] + 20


def load_only(exe, disk, state):
    """Load a state file (-S: paused) and quit through the monitor."""
    argv = [a if a != 'none' else 'stdio' for a in base_args(disk, 'raw')]
    argv[argv.index('-serial') + 1] = 'null'
    argv[argv.index('-display') + 1] = 'none'
    p = subprocess.run([exe] + argv + ['-incoming', 'file:' + state,
                                       '-incoming-force', '-S'],
                       input='quit\n', capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        print(p.stderr)
    return p.returncode


def test_refusals(exe, tmp, disk, state):
    data = open(state, 'rb').read()
    bad = os.path.join(tmp, 'bad.state')
    with open(bad, 'wb') as f:
        f.write(data[:len(data) // 2])
    refused(exe, base_args(disk, 'raw', ['-incoming', 'file:' + bad,
                                         '-incoming-force']), 'truncated')
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0x20
    with open(bad, 'wb') as f:
        f.write(flipped)
    refused(exe, base_args(disk, 'raw', ['-incoming', 'file:' + bad,
                                         '-incoming-force']),
            'checksum|corrupt')
    argv = base_args(disk, 'raw', ['-incoming', 'file:' + state,
                                   '-incoming-force'])
    argv[argv.index('-m') + 1] = '256'
    refused(exe, argv,
            '128 MiB of RAM; this machine has 256 MiB')
    refused(exe, base_args(disk, 'raw', ['-incoming', 'exec:false']),
            'exec:false')
    # Let the guest write to the disk after the save: then the state is
    # refused unless forced.
    r = Run(exe, tmp, disk, 'raw', name='w',
            extra=['-incoming', 'file:' + state, '-incoming-force'])
    r.wait_count(counts_after(r))
    r.quit()
    refused(exe, base_args(disk, 'raw', ['-incoming', 'file:' + state]),
            'changed since the state was saved.*-incoming-force')
    check(load_only(exe, disk, state) == 0, '-incoming-force did not load')
    print('ok: -incoming-force resumes a machine whose disk changed')


def test_snapshots(exe, tmp, pristine):
    q = os.path.join(tmp, 'snap.qcow2')
    subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2',
                    pristine, q], check=True)
    r = Run(exe, tmp, q, 'qcow2', name='s')
    r.wait_count(100)
    before = counts(r.out())[-1][0]
    reply = r.mon.cmd('savevm snap1')
    check(reply.strip() == '', 'savevm said %r' % reply)
    mark = len(r.out())
    after = lines_after(r, mark)[0][0]
    info = r.mon.cmd('info snapshots')
    check('snap1' in info, 'info snapshots: %r' % info)
    r.wait_count(after + 300)
    mark = len(r.out())
    reply = r.mon.cmd('loadvm snap1')
    check(reply.strip() == '', 'loadvm said %r' % reply)
    # Lines the guest printed before loadvm ran may still come first.
    rew = lines_after(r, mark, 3, pred=lambda c: c[0] < after + 100)
    n, d = rew[0]
    check(before <= n - 1 <= after, 'loadvm resumed at %d, the snapshot '
          'was taken between %d and %d' % (n, before, after))
    check(d == n - 1, 'after loadvm the disk holds %d, not the snapshot\'s '
          '%d' % (d, n - 1))
    print('ok: savevm at %d..%d, loadvm resumed at %d with the disk '
          'rewound' % (before, after, n))
    r.quit()
    lst = subprocess.run(['qemu-img', 'snapshot', '-l', q],
                         capture_output=True, text=True).stdout
    check('snap1' in lst, 'qemu-img snapshot -l: %r' % lst)
    chk = subprocess.run(['qemu-img', 'check', q], capture_output=True,
                         text=True)
    check(chk.returncode == 0, 'qemu-img check: %s' % chk.stdout)
    print('ok: qemu-img snapshot -l lists snap1; qemu-img check is clean')

    r = Run(exe, tmp, q, 'qcow2', extra=['-loadvm', 'snap1'], name='l')
    c = lines_after(r, 0)
    check(c[0][0] == n, '-loadvm started at %r, expected %d' % (c[0], n))
    check(c[0][1] == c[0][0] - 1, '-loadvm: disk holds %d' % c[0][1])
    reply = r.mon.cmd('delvm snap1')
    check(reply.strip() == '', 'delvm said %r' % reply)
    info = r.mon.cmd('info snapshots')
    check('snap1' not in info, 'delvm left %r' % info)
    r.quit()
    print('ok: -loadvm resumes at %d; delvm removes the snapshot' % c[0][0])

    raw = os.path.join(tmp, 'raw.img')
    shutil.copy(pristine, raw)
    r = Run(exe, tmp, raw, 'raw', name='r')
    reply = r.mon.cmd('savevm x')
    check('does not support snapshots' in reply, 'savevm on raw: %r' % reply)
    r.quit()
    print('ok: savevm refused on a raw disk: %s' % reply.strip())


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='savevm-')
    try:
        boot = os.path.join(tmp, 'counter.bin')
        subprocess.run(['nasm', '-f', 'bin', '-o', boot,
                        os.path.join(HERE, 'counter.asm')], check=True)
        pristine = os.path.join(tmp, 'pristine.img')
        with open(pristine, 'wb') as f:
            f.write(open(boot, 'rb').read())
            f.truncate(2 << 20)
        disk, state = test_migrate(exe, tmp, pristine)
        test_kill(exe, tmp, disk, state)
        test_refusals(exe, tmp, disk, state)
        test_snapshots(exe, tmp, pristine)
    except (Fail, boottest.BootError) as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
