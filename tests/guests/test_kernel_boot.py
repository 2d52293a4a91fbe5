#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Direct Linux boot: mimic -kernel/-initrd/-append with Debian's i686
kernel.  Passes when the kernel, started by our loader option ROM through
SeaBIOS, prints its banner and the firmware's e820 map on ttyS0 and has
found the initrd where the board put it.  (Booting on to the shell is the
'guests-linux' suite's job.)"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402


def main():
    emu = boottest.find_emulator(sys.argv[1])
    boottest.ensure_images('kernel')
    cache = boottest.CACHE
    e = boottest.Emulator([emu, '-nographic', '-m', '256', '-net', 'none',
                           '-kernel', os.path.join(cache, 'vmlinuz'),
                           '-initrd', os.path.join(cache, 'initrd.gz'),
                           '-append', 'console=ttyS0,115200'])
    try:
        e.wait_for('Booting from ROM', 60)
        e.wait_for('Linux version 6.1', 60)
        # RAM from 1 MiB to just below 256 MiB: SeaBIOS reserves the top
        # few KiB for the ACPI tables it builds (as QEMU's e820 shows).
        e.wait_for(re.compile(r'BIOS-e820: \[mem 0x0000000000100000-'
                              r'0x000000000ff[0-9a-f]{5}\] usable'), 60)
        e.wait_for('RAMDISK: [mem 0x', 60)
        print('ok: the kernel booted directly and sees its initrd')
    finally:
        e.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
