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
    -incoming-force resumes despite changed disks; -incoming file: of a
    directory or a device is refused in one line, a FIFO is read after
    Mimic said it waits for a writer.
 4. savevm/loadvm/delvm/-loadvm on a qcow2 disk: loadvm rewinds RAM and
    disk, qemu-img lists the snapshot; a raw disk is refused; a loadvm
    that a device refuses leaves RAM (info ramhash) and the CPU as they
    were, and the guest counts on.

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
import zlib

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
    test_incoming_special(exe, tmp, disk, state)


def test_incoming_special(exe, tmp, disk, state):
    """-incoming file: of a directory or a device is refused in one line;
    a FIFO is read as a stream (as QEMU does) after Mimic said that it
    waits for a writer on it."""
    refused(exe, base_args(disk, 'raw', ['-incoming', 'file:' + tmp,
                                         '-incoming-force']),
            r"^mimic: -incoming file:%s: '%s' is a directory, not a state "
            r"file$" % (re.escape(tmp), re.escape(tmp)))
    refused(exe, base_args(disk, 'raw', ['-incoming', 'file:/dev/zero']),
            r"'/dev/zero' is not a regular file or a FIFO$")
    fifo = os.path.join(tmp, 'state.fifo')
    os.mkfifo(fifo)
    data = open(state, 'rb').read()
    for payload, want_rc in ((data, 0), (data[:len(data) // 2], 1)):
        argv = [a if a != 'none' else 'stdio' for a in base_args(disk, 'raw')]
        argv[argv.index('-serial') + 1] = 'null'
        argv[argv.index('-display') + 1] = 'none'
        p = subprocess.Popen([exe] + argv + ['-incoming', 'file:' + fifo,
                                             '-incoming-force', '-S'],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        first = p.stderr.readline()
        check('waiting for a writer on the FIFO' in first and fifo in first,
              'no word of the FIFO wait: %r' % first)
        with open(fifo, 'wb') as f:
            f.write(payload)
        try:
            out, err = p.communicate('quit\n', timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            raise Fail('-incoming file:FIFO did not finish')
        check(p.returncode == want_rc, 'FIFO (%d bytes): status %d, %r' %
              (len(payload), p.returncode, err))
        if want_rc:
            lines = err.strip().split('\n')
            check(len(lines) == 1 and 'truncated' in lines[0],
                  'truncated FIFO stream: %r' % err)
    os.unlink(fifo)
    print('ok: -incoming file: refuses a directory and /dev/zero in one '
          'line; a FIFO says it waits, then loads (or refuses a truncated '
          'stream)')


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

    test_damaged_snapshot(exe, tmp, q)

    raw = os.path.join(tmp, 'raw.img')
    shutil.copy(pristine, raw)
    r = Run(exe, tmp, raw, 'raw', name='r')
    reply = r.mon.cmd('savevm x')
    check('does not support snapshots' in reply, 'savevm on raw: %r' % reply)
    r.quit()
    print('ok: savevm refused on a raw disk: %s' % reply.strip())


def damage_pit(path):
    """Make every dev/pit section of a VM state inside a qcow2 image one
    that the i8254's post_load refuses (channel 0 mode 7), with a valid
    checksum: the device refuses after every earlier section was
    accepted.  Returns how many were found whole (contiguous)."""
    data = bytearray(open(path, 'rb').read())
    n = 0
    at = data.find(b'SECT\x07\x00dev/pit')
    while at >= 0:
        mark = at + 4
        plen = int.from_bytes(data[mark + 13:mark + 21], 'little')
        pay = mark + 21
        crc = int.from_bytes(data[pay + plen:pay + plen + 4], 'little')
        if zlib.crc32(bytes(data[mark:pay + plen])) == crc:
            data[pay + 4 + 2 + 7] = 7
            crc = zlib.crc32(bytes(data[mark:pay + plen]))
            data[pay + plen:pay + plen + 4] = crc.to_bytes(4, 'little')
            n += 1
        at = data.find(b'SECT\x07\x00dev/pit', at + 1)
    open(path, 'wb').write(data)
    return n


def mon_reply(mon, line):
    """One HMP command's whole reply (Monitor.cmd drops a first line that
    contains the command, as an error naming it does)."""
    mon.sock.sendall((line + '\n').encode())
    out = re.sub(r'\x1b\[[0-9;?]*[A-Za-z]', '', mon._read_prompt())
    out = mon.PROMPT_RX.sub('', out.replace('\r', ''))
    return '\n'.join(x for x in out.split('\n') if x.strip() != line)


def test_damaged_snapshot(exe, tmp, q):
    """loadvm of a snapshot whose VM state a device refuses: the running
    machine keeps its RAM (info ramhash) and CPU, and runs on."""
    q2 = os.path.join(tmp, 'damaged.qcow2')
    shutil.copy(q, q2)
    r = Run(exe, tmp, q2, 'qcow2', name='d')
    r.wait_count(50)
    reply = r.mon.cmd('savevm bad')
    check(reply.strip() == '', 'savevm said %r' % reply)
    r.quit()
    check(damage_pit(q2) >= 1, 'dev/pit not found whole in the image')
    r = Run(exe, tmp, q2, 'qcow2', name='d2')
    r.wait_count(80)
    r.mon.cmd('stop')
    regs = r.mon.cmd('info registers')
    before = r.mon.cmd('info ramhash')
    check('all ' in before, 'info ramhash: %r' % before)
    reply = mon_reply(r.mon, 'loadvm bad')
    check('i8254' in reply, 'loadvm of a damaged state said %r' % reply)
    after = r.mon.cmd('info ramhash')
    check(after == before, 'a refused loadvm changed RAM:\n%s\n%s' %
          (before, after))
    check(r.mon.cmd('info registers') == regs,
          'a refused loadvm changed the CPU')
    mark = len(r.out())
    r.mon.cmd('cont')
    n = lines_after(r, mark, 3)
    check(n[0][0] > 80, 'after a refused loadvm the guest restarted: %r' %
          (n,))
    r.quit()
    print('ok: loadvm refused by the i8254 (%s): RAM hash and registers '
          'unchanged, the guest counts on (%d)' % (reply.strip(), n[-1][0]))


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
