#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test: reset through port 0xcf9, the ACPI power button and
S5 power-off on real firmware and the real CPU, without Linux.

A boot sector (tests/guests/asm/acpi-button.asm, built by meson)
first resets the machine through the PIIX reset control register (0xcf9):
SeaBIOS must start again and boot it a second time ("ACPI-BOOT1", then
"ACPI-BOOT2", told apart by a CMOS byte).  Then it plays a minimal ACPI
OS: it finds the PM I/O base SeaBIOS programmed into
the PIIX4 PM function, turns ACPI on through SMI_CMD, enables the power
button event and the SCI on IRQ 9, and prints "ACPI-READY".  The test
then presses the power button with the monitor's `system_powerdown`; the
guest takes the SCI, sees PWRBTN_STS, prints "ACPI-PWRBTN" and writes
SLP_TYP=0 (soft off) + SLP_EN, which must end the emulator with exit
status 0 (otherwise the guest halts with interrupts off and the wait for
the exit times out).

`EMU -nographic -m 64 -net none -drive file=IMG,format=raw,if=ide
-monitor unix:SOCK`

usage: test_acpi_button.py EMULATOR [BOOT.BIN]
  (Mimic; qemu-system-i386 works too; without BOOT.BIN the boot sector is
  assembled here)
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='acpi-button-')
    if len(sys.argv) == 3:
        boot = sys.argv[2]  # built by meson
    else:
        nasm = shutil.which('nasm')
        if not nasm:
            print('FAIL: nasm is not installed (a build dependency)')
            return 1
        boot = os.path.join(tmp, 'acpi-button.bin')
        subprocess.run([nasm, '-f', 'bin', os.path.join(HERE, 'asm',
                                                        'acpi-button.asm'),
                        '-o', boot], check=True)
    img = os.path.join(tmp, 'disk.img')
    with open(boot, 'rb') as f:
        sector = f.read()
    if len(sector) != 512 or sector[510:] != b'\x55\xaa':
        print('FAIL: the boot sector is not 512 bytes with a signature')
        return 1
    with open(img, 'wb') as f:
        f.write(sector)
        f.truncate(1 << 20)
    sock = os.path.join(tmp, 'mon.sock')
    emu = boottest.Emulator(
        [exe, '-nographic', '-m', '64', '-net', 'none',
         '-drive', 'file=%s,format=raw,if=ide' % img,
         '-monitor', 'unix:%s,server=on,wait=off' % sock],
        os.path.join(tmp, 'serial.log'))
    try:
        emu.wait_for('ACPI-BOOT1', 60)
        emu.wait_for('SeaBIOS (version', 60)
        emu.wait_for('ACPI-BOOT2', 60)
        emu.wait_for('ACPI-READY', 30)
        mon = boottest.Monitor(sock)
        mon.cmd('system_powerdown')
        emu.wait_for('ACPI-PWRBTN', 30)
        rc = emu.wait_exit(30)
        mon.close()
        if rc != 0:
            raise boottest.BootError('S5 power-off: exit status %d' % rc)
    except (boottest.BootError, subprocess.SubprocessError) as e:
        print('FAIL: %s\n(files kept in %s)' % (e, tmp))
        return 1
    finally:
        emu.close()
    print('ok: 0xcf9 reset -> SeaBIOS again; power button -> SCI -> '
          'guest S5 -> exit status 0')
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
