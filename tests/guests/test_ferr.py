#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The legacy x87 error path end to end: SeaBIOS boots
tests/guests/asm/ferr-dos.asm, which takes a pending x87 error once with
CR0.NE=0 (FERR# -> IRQ13 -> port 0xF0) and once with CR0.NE=1 (#MF) and
prints "FERR irq13=N at=XXXX mf=N at=XXXX es=N".  Each handler must run
once, the exception must end cleared (es=0), and #MF must be a fault on
the waiting FLD1.  Mimic, like a P6, asserts FERR# at the waiting
instruction and stops there, so IRQ13 returns to it too; QEMU raises
IRQ13 when the error happens, so only the counts are checked there (but
QEMU 7.2 with TCG aborts on FERR#, "tcg_handle_interrupt: assertion
failed: (qemu_mutex_iothread_locked())", so meson runs no oracle).

usage: test_ferr.py EMULATOR BOOTSECTOR
"""
import os
import re
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    qemu = 'qemu' in os.path.basename(exe)
    with open(sys.argv[2], 'rb') as f:
        mbr = f.read()
    wait1, wait2 = struct.unpack_from('<HH', mbr, 0x1f8)
    tmp = tempfile.mkdtemp(prefix='ferr-')
    disk = os.path.join(tmp, 'ferr.img')
    with open(disk, 'wb') as f:
        f.write(mbr)
        f.truncate(1 << 20)
    argv = [exe, '-display', 'none', '-serial', 'stdio', '-m', '16',
            '-net', 'none', '-drive', 'file=%s,format=raw,if=ide' % disk]
    if qemu:
        argv += ['-accel', 'tcg']
    emu = boottest.Emulator(argv)
    try:
        m = emu.wait_for(re.compile(r'FERR irq13=(\d) at=([0-9a-f]{4}) '
                                    r'mf=(\d) at=([0-9a-f]{4}) es=(\d)'), 60)
        n_irq, ip_irq, n_mf, ip_mf, es = m.groups()
        want = (n_irq == '1' and n_mf == '1' and es == '0' and
                int(ip_mf, 16) == wait2 and
                (qemu or int(ip_irq, 16) == wait1))
        if not want:
            emu.fail('wanted irq13=1 at=%04x mf=1 at=%04x es=0, got %r'
                     % (wait1, wait2, m.group(0)))
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        emu.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print('ok: %s' % m.group(0))
    return 0


if __name__ == '__main__':
    sys.exit(main())
