#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Linux's view of the PS/2 keyboard: boot the demo kernel and initramfs
(-kernel/-initrd, serial console) and read /proc/bus/input/devices: the
atkbd driver must have found an "AT Translated Set 2 keyboard" whose ID,
read through the i8042's translation, is 0xab41 (the input device's
Version), with LEDs.  (The demo initramfs carries no psmouse/mousedev
modules, so Linux's view of the mouse is not tested here; the mouse is
tested through SeaBIOS in test_mouse_bios.py.)

The same boot runs tests/guests/asm/endbr32 (given as the second
argument; appended to the initramfs as a second cpio archive, which Linux
unpacks over the first): a user program that executes ENDBR32 and the
other hint NOPs, as gcc -m32 -fcf-protection code does, must print
ENDBR32-OK rather than die of SIGILL (issue 14, item 6).
Runs against qemu-system-i386 (the oracle) now; with Mimic in the
'guests-linux' suite once Mimic runs the Linux guest's user space.

usage: test_linux_input.py EMULATOR [ENDBR32-PROGRAM]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402


HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def initrd_with(tmp, prog):
    """The demo initramfs followed by a cpio archive holding /endbr32."""
    st = os.path.join(tmp, 'extra')
    os.makedirs(st)
    shutil.copy(prog, os.path.join(st, 'endbr32'))
    os.chmod(os.path.join(st, 'endbr32'), 0o755)
    extra = os.path.join(tmp, 'extra.gz')
    subprocess.run([sys.executable,
                    os.path.join(SRC, 'scripts', 'guests', 'mkcpio.py'),
                    st, extra], check=True)
    out = os.path.join(tmp, 'initrd.gz')
    with open(out, 'wb') as f:
        for part in (os.path.join(boottest.CACHE, 'initrd.gz'), extra):
            with open(part, 'rb') as g:
                f.write(g.read())
    return out


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    boottest.ensure_images('kernel')
    tmp = tempfile.mkdtemp(prefix='linuxinput-')
    prog = sys.argv[2] if len(sys.argv) == 3 else None
    initrd = (initrd_with(tmp, prog) if prog
              else os.path.join(boottest.CACHE, 'initrd.gz'))
    emu = boottest.Emulator(
        [exe, '-nographic', '-net', 'none',
         '-kernel', os.path.join(boottest.CACHE, 'vmlinuz'),
         '-initrd', initrd,
         '-append', 'console=ttyS0,115200 ' + boottest.QUICK_APPEND, '-m', '256'],
        os.path.join(tmp, 'serial.log'))
    try:
        boottest.linux_session(emu)
        emu.command('cat /proc/bus/input/devices',
                    re.compile(r'I: Bus=0011 Vendor=0001 Product=0001 '
                               r'Version=ab41\r?\nN: Name="AT Translated '
                               r'Set 2 keyboard"[\s\S]*?B: LED=7'))
        if prog:
            emu.command('/endbr32; echo "endbr32 status $?"',
                        re.compile(r'ENDBR32-OK\r?\n[\s\S]*?'
                                   r'endbr32 status 0'))
        boottest.poweroff(emu)
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        print('(serial log kept in %s)' % tmp)
        return 1
    finally:
        emu.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print('ok: Linux found the AT keyboard (ID ab41, translated set 2)' +
          ('; ENDBR32 and hint NOPs ran' if prog else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
