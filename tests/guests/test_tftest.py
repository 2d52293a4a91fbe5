#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Triple fault: boot tests/cpu/tftest.asm (one boot sector that prints
"TFTEST start" on COM1 and triple-faults in protected mode).  With
-no-reboot the emulator must exit with status 0 after one banner; without
it the shutdown resets the PC, SeaBIOS boots the sector again and the
banner comes a second time.  qemu-system-i386 runs it too (the oracle):
it exits with status 0 and reboots the same way.

usage: test_tftest.py EMULATOR TFTEST_IMG
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

BANNER = 'TFTEST start'


def start(exe, disk, extra):
    return boottest.Emulator([exe, '-nographic', '-m', '32', '-net', 'none']
                             + extra +
                             ['-drive', 'file=%s,format=raw,if=ide' % disk])


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='tftest-')
    disk = os.path.join(tmp, 'tftest.img')
    shutil.copyfile(sys.argv[2], disk)
    try:
        emu = start(exe, disk, ['-no-reboot'])
        try:
            emu.wait_for(BANNER, 60)
            status = emu.wait_exit(60)
            emu.reader.join(5)
            count = emu.buf.count(BANNER)
            print('-no-reboot: exit status %d, %d banner(s)' %
                  (status, count))
            if status != 0:
                emu.fail('exit status %d after the triple fault, expected 0'
                         % status)
            if count != 1:
                emu.fail('%d banners with -no-reboot, expected 1' % count)
        finally:
            emu.close()

        emu = start(exe, disk, [])
        try:
            emu.wait_for(BANNER, 60)
            emu.wait_for(BANNER, 60)
            print('reset: the boot sector ran again after the triple fault')
        finally:
            emu.close()
    except (boottest.BootError, subprocess.SubprocessError) as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('ok: triple fault exits with -no-reboot, resets without')
    return 0


if __name__ == '__main__':
    sys.exit(main())
