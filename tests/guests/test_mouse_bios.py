#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test of the PS/2 mouse without Linux: SeaBIOS boots a
hand-written boot sector (tests/guests/asm/mouse-bios.asm) from a raw
disk; the program uses the BIOS pointing-device services (INT 15h C2xxh:
reset, ID, the IntelliMouse sample-rate knock, resolution, rate, status,
handler, enable) and prints what it gets on COM1.  Then the monitor's
`mouse_move` and `mouse_button` must arrive as packets at the program's
handler, through the i8042, IRQ12 and the slave PIC.  Works against
qemu-system-i386 too (the oracle), which must print the same lines.

usage: test_mouse_bios.py EMULATOR BOOTSECTOR
"""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

PACKET = re.compile(r'M ([0-9A-F]{2}) ([0-9A-F]{2}) ([0-9A-F]{2})\r?\n')


def packet(emu):
    m = emu.wait_for(PACKET, 60)
    return tuple(int(g, 16) for g in m.groups())


def signed9(low, sign):
    return low - 256 if sign else low


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='mousebios-')
    disk = os.path.join(tmp, 'mouse.img')
    with open(sys.argv[2], 'rb') as f:
        mbr = f.read()
    with open(disk, 'wb') as f:
        f.write(mbr)
        f.truncate(1 << 20)
    sock = os.path.join(tmp, 'mon.sock')
    argv = [exe, '-display', 'none', '-serial', 'stdio', '-m', '64',
            '-net', 'none', '-drive', 'file=%s,format=raw,if=ide' % disk,
            '-monitor', 'unix:%s,server=on,wait=off' % sock]
    emu = boottest.Emulator(argv)
    mon = None
    try:
        emu.wait_for('MOUSE-TEST', 60)
        # Reset: ID 0; the 200/100/80 knock: ID 3; reset again: ID 0.
        for want in ('00', '03', '00'):
            emu.wait_for(re.compile(r'MOUSE-(?:ID %s|FAIL \d)' % want), 30)
            if emu.buf[emu.pos - 7:emu.pos - 2] == 'FAIL ':
                emu.fail('a BIOS mouse service failed')
        # Status after resolution 3 and 40 reports/s, before enabling.
        emu.wait_for('MOUSE-ST 00 03 28', 30)
        emu.wait_for('MOUSE-READY', 30)
        mon = boottest.Monitor(sock)
        steps = [('mouse_move 5 -3', (0x08, 0x05, 0x03)),
                 ('mouse_button 1', (0x09, 0x00, 0x00)),
                 ('mouse_move -2 4', (0x39, 0xfe, 0xfc)),
                 ('mouse_button 0', (0x08, 0x00, 0x00))]
        for line, want in steps:
            out = mon.cmd(line)
            if out.strip():
                emu.fail('%r answered %r' % (line, out))
            got = packet(emu)
            if got != want:
                emu.fail('%r gave packet %02x %02x %02x, wanted '
                         '%02x %02x %02x' % ((line,) + got + want))
        # A move larger than one packet holds: split, nothing lost.
        mon.cmd('mouse_move 300 -200')
        sx = sy = 0
        while sx < 300 or sy < 200:
            st, x, y = packet(emu)
            if not st & 0x08 or st & 0xc0:
                emu.fail('bad status byte %02x' % st)
            sx += signed9(x, st & 0x10)
            sy += signed9(y, st & 0x20)
            if sx > 300 or sy > 200:
                emu.fail('moved %d,%d, more than 300,200' % (sx, sy))
        mon.sock.sendall(b'quit\n')
        status = emu.wait_exit(30)
        if status != 0:
            emu.fail('quit ended the emulator with status %d' % status)
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        if mon:
            mon.close()
        emu.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print('ok: the BIOS mouse services and monitor mouse events reached '
          'the guest')
    return 0


if __name__ == '__main__':
    sys.exit(main())
