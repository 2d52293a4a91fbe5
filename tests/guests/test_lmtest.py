#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Long mode: boot tests/cpu/lmtest.asm (a bare test kernel on a raw disk
image) through SeaBIOS with a 64-bit CPU model and check the lines it
prints on COM1: 64-bit integer results, the #PF/#GP frames taken through
64-bit IDT gates on an IST stack, SWAPGS and a SYSRET/SYSCALL round trip,
then "LMTEST OK".  When qemu-system-x86_64 is given and found, it runs the
same image as the oracle and every line must be equal (the values are
QEMU's, not hard-coded here).

usage: test_lmtest.py EMULATOR LMTEST_IMG [QEMU]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

LINE = re.compile(r'(lmtest: [^\r\n]*|LMTEST (OK|FAIL)[^\r\n]*)\r?\n')


def run(exe, img, extra):
    """Boot the image; return its lines up to the final one."""
    tmp = tempfile.mkdtemp(prefix='lmtest-')
    disk = os.path.join(tmp, 'lmtest.img')
    shutil.copyfile(img, disk)
    emu = boottest.Emulator([exe] + extra +
                            ['-nographic', '-m', '32', '-net', 'none',
                             '-drive', 'file=%s,format=raw,if=ide' % disk])
    lines = []
    try:
        while True:
            m = emu.wait_for(LINE, 120)
            line = m.group(1).strip()
            lines.append(line)
            if line.startswith('LMTEST'):
                return lines
    finally:
        emu.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    img = sys.argv[2]
    try:
        lines = run(exe, img, ['-cpu', 'qemu64'])
        for line in lines:
            print('mimic: ' + line, flush=True)
        if lines[-1] != 'LMTEST OK':
            print('FAIL: %s' % lines[-1])
            return 1
        qexe = shutil.which(sys.argv[3]) if len(sys.argv) == 4 else None
        if not qexe:
            print('NOTE: qemu-system-x86_64 not found: Mimic was NOT '
                  'compared with the QEMU oracle')
            return 0
        qlines = run(qexe, img, [])
        bad = 0
        for i, (a, b) in enumerate(zip(lines, qlines)):
            if a != b:
                print('FAIL line %d: mimic %r, qemu %r' % (i, a, b))
                bad += 1
        if len(lines) != len(qlines):
            print('FAIL: %d lines, qemu %d' % (len(lines), len(qlines)))
            bad += 1
        if bad:
            return 1
    except (boottest.BootError, subprocess.SubprocessError) as e:
        print('FAIL: %s' % e)
        return 1
    print('ok: %d lines equal to qemu-system-x86_64\'s' % len(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
