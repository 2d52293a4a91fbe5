#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test: ACPI power management with Linux (Debian's
linux-image-686 and the busybox initramfs from scripts/guests/build.sh).

`EMU -nographic -kernel vmlinuz -initrd initrd.gz -append console=ttyS0
-m 256`:
1. Linux finds the PM timer in the FADT (dmesg "ACPI: PM-Timer IO Port")
   and has the SCI on IRQ 9 (/proc/interrupts names "acpi" on line 9);
2. (not tested: the monitor's `system_powerdown` -> poweroff needs the
   ACPI button driver, button.ko, which the initramfs does not load; then
   Linux enables PWRBTN_EN and runs /sbin/poweroff on the press);
3. `reboot -f` resets the machine: Linux boots again to the marker;
4. `poweroff -f` ends the emulator with exit status 0.

usage: test_acpi_linux.py EMULATOR   (Mimic; qemu-system-i386 works too)
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402


def acpi_irq_count(emu):
    m = emu.command('grep acpi /proc/interrupts',
                    re.compile(r'\n\s*9:\s+(\d+)\s.*acpi'))
    return int(m.group(1))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    boottest.ensure_images('kernel')
    tmp = tempfile.mkdtemp(prefix='acpi-linux-')
    cache = boottest.CACHE
    emu = boottest.Emulator(
        [exe, '-nographic', '-kernel', os.path.join(cache, 'vmlinuz'),
         '-initrd', os.path.join(cache, 'initrd.gz'),
         '-append', 'console=ttyS0,115200 ' + boottest.QUICK_APPEND, '-m', '256'],
        os.path.join(tmp, 'serial.log'))
    try:
        boottest.linux_session(emu)
        emu.command('dmesg | grep PM-Timer',
                    re.compile(r'ACPI: PM-Timer IO Port: 0x[0-9a-f]+'))
        acpi_irq_count(emu)
        emu.send('reboot -f\n')
        boottest.linux_session(emu)
        print('ok: reboot -f reset the machine and Linux came back')
        emu.send('poweroff -f\n')
        rc = emu.wait_exit(60)
        if rc != 0:
            raise boottest.BootError('poweroff -f: exit status %d' % rc)
        print('ok: poweroff -f ended the emulator with status 0')
    except (boottest.BootError, subprocess.SubprocessError) as e:
        print('FAIL: %s\n(files kept in %s)' % (e, tmp))
        return 1
    finally:
        emu.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
