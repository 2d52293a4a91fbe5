#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Linux's view of the PS/2 keyboard: boot the demo kernel and initramfs
(-kernel/-initrd, serial console) and read /proc/bus/input/devices: the
atkbd driver must have found an "AT Translated Set 2 keyboard" whose ID,
read through the i8042's translation, is 0xab41 (the input device's
Version), with LEDs.  (The demo initramfs carries no psmouse/mousedev
modules, so Linux's view of the mouse is not tested here; the mouse is
tested through SeaBIOS in test_mouse_bios.py.)
Runs against qemu-system-i386 (the oracle) now; with Mimic in the
'guests-linux' suite once Mimic runs the Linux guest's user space.

usage: test_linux_input.py EMULATOR
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
    boottest.ensure_images('kernel')
    tmp = tempfile.mkdtemp(prefix='linuxinput-')
    emu = boottest.Emulator(
        [exe, '-nographic', '-net', 'none',
         '-kernel', os.path.join(boottest.CACHE, 'vmlinuz'),
         '-initrd', os.path.join(boottest.CACHE, 'initrd.gz'),
         '-append', 'console=ttyS0,115200', '-m', '256'],
        os.path.join(tmp, 'serial.log'))
    try:
        boottest.linux_session(emu)
        emu.command('cat /proc/bus/input/devices',
                    re.compile(r'I: Bus=0011 Vendor=0001 Product=0001 '
                               r'Version=ab41\r?\nN: Name="AT Translated '
                               r'Set 2 keyboard"[\s\S]*?B: LED=7'))
        boottest.poweroff(emu)
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        print('(serial log kept in %s)' % tmp)
        return 1
    finally:
        emu.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print('ok: Linux found the AT keyboard (ID ab41, translated set 2)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
