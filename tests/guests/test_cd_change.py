#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test of CD-ROM media change through SeaBIOS: start with the
default empty ide1-cd0 and `-boot d`; SeaBIOS fails to boot from the CD
("Could not read from CDROM").  `info block` shows the empty drive;
`change ide1-cd0 demo.iso` inserts the disc, `system_reset` reboots, and
SeaBIOS must now boot ISOLINUX from it (its ATAPI code sees the UNIT
ATTENTION of the change first).  Works against qemu-system-i386 too.

usage: test_cd_change.py EMULATOR
"""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    boottest.ensure_images('iso')
    iso = os.path.join(boottest.CACHE, 'demo.iso')
    tmp = tempfile.mkdtemp(prefix='cdchange-')
    sock = os.path.join(tmp, 'mon.sock')
    argv = [exe, '-nographic', '-m', '64', '-net', 'none', '-boot', 'd',
            '-monitor', 'unix:%s,server=on,wait=off' % sock]
    emu = boottest.Emulator(argv)
    mon = None
    try:
        emu.wait_for('Could not read from CDROM', 120)
        mon = boottest.Monitor(sock)
        out = mon.cmd('info block ide1-cd0')
        if not re.search(r'ide1-cd0: \[not inserted\]', out):
            emu.fail('info block of the empty drive: %r' % out)
        out = mon.cmd('change ide1-cd0 %s' % iso)
        if out.strip():
            emu.fail('change answered %r' % out)
        out = mon.cmd('info block ide1-cd0')
        if not re.search(r'ide1-cd0 \(#block\d+\): %s \(raw, read-only\)'
                         % re.escape(iso), out):
            emu.fail('info block after the change: %r' % out)
        mon.cmd('system_reset')
        emu.wait_for('Booting from DVD/CD', 120)
        emu.wait_for('ISOLINUX', 120)
        mon.sock.sendall(b'quit\n')
        emu.wait_exit(30)
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        if mon:
            mon.close()
        emu.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print('ok: SeaBIOS booted the disc inserted with change')
    return 0


if __name__ == '__main__':
    sys.exit(main())
