#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Save and resume of a running 64-bit machine (issue 17): the -bios ROM
tests/guests/asm/lm-savevm.asm runs in long mode with XMM0-XMM15, a
non-default MXCSR, R8-R15 and an FS base in use and prints "N HASH"
lines that depend only on its round count.

 1. A reference run prints lines 1..END.
 2. Run A is saved with `migrate file:` after line SAVE and quits.
 3. Run B resumes it (-incoming file:): the monitor shows long mode
    (EFER with LMA), MXCSR and the FS base as saved, the ROM does not
    start again (no line 1), and every line it prints up to END equals
    the reference's.

usage: test_savevm64.py EMULATOR ROM
"""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

LINE = re.compile(r'(?m)^(\d+) ([0-9a-f]{16})\r?\n')
END, SAVE = 60, 20


class Run:
    def __init__(self, exe, rom, tmp, name, extra=()):
        self.sock = os.path.join(tmp, name + '.mon')
        self.emu = boottest.Emulator(
            [exe, '-bios', rom, '-m', '64', '-display', 'none',
             '-serial', 'stdio', '-monitor',
             'unix:%s,server=on,wait=off' % self.sock] + list(extra))
        self.mon = boottest.Monitor(self.sock)

    def wait_line(self, n, timeout=300):
        self.emu.wait_for(re.compile(r'(?m)^%d [0-9a-f]{16}\r?\n' % n),
                          timeout)
        with self.emu.cond:
            return dict((int(a), b) for a, b in LINE.findall(self.emu.buf))

    def quit(self):
        self.mon.sock.sendall(b'quit\n')
        rc = self.emu.wait_exit(60)
        self.mon.close()
        self.emu.close()
        if rc != 0:
            raise boottest.BootError('quit: status %r' % rc)


def regs(mon):
    out = mon.cmd('info registers')
    want = {}
    for key in ('EFER', 'MXCSR', 'FS_BASE', 'R15', 'CS'):
        m = re.search(r'\b%s *=([0-9a-f]+)' % key, out)
        if not m:
            raise boottest.BootError('info registers has no %s: %r'
                                     % (key, out))
        want[key] = int(m.group(1), 16)
    return want


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    sib = os.path.join(os.path.dirname(exe), 'mimic-system-x86_64')
    if os.path.basename(exe) == 'mimic' and os.path.exists(sib):
        exe = sib
    rom = os.path.abspath(sys.argv[2])
    tmp = tempfile.mkdtemp(prefix='savevm64-')
    state = os.path.join(tmp, 'lm.state')
    runs = []
    try:
        r = Run(exe, rom, tmp, 'ref')
        runs.append(r)
        ref = r.wait_line(END)
        r.quit()
        if sorted(ref)[:END] != list(range(1, END + 1)):
            raise boottest.BootError('reference lines: %r' % sorted(ref))
        a = Run(exe, rom, tmp, 'a')
        runs.append(a)
        a.wait_line(SAVE)
        a.mon.cmd('stop')
        before = regs(a.mon)
        out = a.mon.cmd('migrate file:' + state)
        if out.strip():
            raise boottest.BootError('migrate said %r' % out)
        a.quit()
        if (not before['EFER'] & 0x400 or
                before['MXCSR'] & ~0x3f != 0x5fc0 or
                before['FS_BASE'] != 0x300000 or before['CS'] != 0x18):
            raise boottest.BootError('run A is not in the ROM\'s long '
                                     'mode: %r' % before)
        b = Run(exe, rom, tmp, 'b', ['-S', '-incoming', 'file:' + state])
        runs.append(b)
        after = regs(b.mon)
        if after != before:
            raise boottest.BootError('resumed registers %r, saved %r'
                                     % (after, before))
        b.mon.cmd('cont')
        got = b.wait_line(END)
        b.quit()
        if 1 in got:
            raise boottest.BootError('the resumed ROM started again')
        bad = [n for n in got if got[n] != ref.get(n)]
        if bad or len(got) < END - SAVE - 1:
            raise boottest.BootError('resumed lines differ from the '
                                     'reference at %r (%d lines)'
                                     % (bad[:5], len(got)))
        print('ok: %d lines after the resume equal the reference; EFER '
              '%x MXCSR %x FS_BASE %x kept' % (len(got), after['EFER'],
                                               after['MXCSR'],
                                               after['FS_BASE']))
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        for r in runs:
            r.emu.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
