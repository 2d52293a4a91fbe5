#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A guest may not turn its probed-raw disk into a qcow2 image.

The boot sector tests/guests/asm/probe-write.asm writes a qcow2 header over
its own sector 0 through the BIOS, then an ordinary sector 1.  With the
disk given without format= (guessed raw), the first write must fail in the
guest and leave the file as it was, the second must succeed.  With
format=raw the user has said what the image is, and both writes go
through; the next start without format= then finds a qcow2 magic on a
file that is no qcow2 image and must refuse it (never fall back to raw),
and the file must again be left as it was.  Run with qemu-system-i386 as
the oracle for the guessed-raw case (QEMU refuses the same write).

usage: test_probe_write.py EMULATOR BOOTSECTOR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

MAGIC = b'QFI\xfb'


def run(exe, disk, fmt):
    spec = 'file=%s,if=ide,index=0,media=disk' % disk
    if fmt:
        spec += ',format=' + fmt
    argv = [exe, '-display', 'none', '-serial', 'stdio', '-m', '32',
            '-net', 'none', '-monitor', 'none', '-drive', spec]
    emu = boottest.Emulator(argv)
    try:
        emu.wait_for('PROBE-DONE', 120)
        # The emulator's own lines (stderr) land amid the guest's serial
        # output: keep them apart.
        log = re.findall(r'mimic: [^\n]*\n', emu.buf)
        return re.sub(r'mimic: [^\n]*\n', '', emu.buf), ''.join(log)
    finally:
        emu.close()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    is_qemu = 'qemu' in os.path.basename(exe)
    tmp = tempfile.mkdtemp(prefix='probewrite-')
    try:
        disk = os.path.join(tmp, 'guest.img')
        with open(sys.argv[2], 'rb') as f:
            mbr = f.read()
        with open(disk, 'wb') as f:
            f.write(mbr)
            f.truncate(1 << 20)

        out, log = run(exe, disk, None)
        if not re.search(r'W0-ERR', out) or not re.search(r'W1-OK', out):
            print(out + log)
            raise SystemExit('FAIL: guessed raw: the sector-0 header write '
                             'was not refused, or sector 1 failed')
        if not is_qemu and 'write to sector 0 refused' not in log:
            print(out + log)
            raise SystemExit('FAIL: guessed raw: the refusal was not '
                             'reported to the user')
        with open(disk, 'rb') as f:
            data = f.read(1024)
        if data[:512] != mbr:
            raise SystemExit('FAIL: sector 0 changed on a guessed-raw disk')
        if data[512:516] != MAGIC:
            raise SystemExit('FAIL: the ordinary write to sector 1 is '
                             'missing')
        print('guessed raw: header write refused, sector 1 written')

        out, log = run(exe, disk, 'raw')
        if not re.search(r'W0-OK', out):
            print(out)
            raise SystemExit('FAIL: format=raw: sector-0 write refused')
        with open(disk, 'rb') as f:
            data = f.read()
        if data[:4] != MAGIC:
            raise SystemExit('FAIL: format=raw: sector 0 not written')
        print('format=raw: the write goes through')

        if not is_qemu:
            # Now the file carries a magic but is no valid qcow2 image:
            # without format= it must be refused, not attached as raw.
            p = subprocess.run(
                [exe, '-display', 'none', '-serial', 'none', '-m', '32',
                 '-net', 'none', '-monitor', 'none', '-S',
                 '-drive', 'file=%s,if=ide' % disk],
                capture_output=True, text=True, timeout=60)
            with open(disk, 'rb') as f:
                after = f.read()
            if p.returncode != 1 or 'guest.img' not in p.stderr:
                raise SystemExit('FAIL: broken qcow2 not refused (status '
                                 '%d): %s' % (p.returncode, p.stderr))
            if after != data:
                raise SystemExit('FAIL: the refused image changed')
            print('broken qcow2 refused: ' + p.stderr.strip().split('\n')[0])
        print('PASS')
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
