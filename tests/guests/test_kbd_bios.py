#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test of the PS/2 keyboard without Linux: SeaBIOS boots a
hand-written boot sector (tests/guests/asm/kbd-bios.asm) that prints what
INT 16h AH=10h returns for each key.  Keys typed with the monitor's
`sendkey` must arrive with the scan and character codes of a PC keyboard
(set 2 from the keyboard, translated to set 1 by the i8042, decoded by the
BIOS).  Then `sendkey b 800` holds B for 800 ms of machine time: with the
default typematic setting (500 ms delay, 10.9/s) that is the press and
four repeats, 5 B's in all, before the next key.  qemu-system-i386 (the
oracle) has no typematic repeat: run it with the third argument
`no-typematic`.

usage: test_kbd_bios.py EMULATOR BOOTSECTOR [no-typematic]
"""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

KEY = re.compile(r'K ([0-9A-F]{4})\r?\n')

# sendkey name -> INT 16h AH=10h result (scan << 8 | ASCII)
KEYS = [('a', 0x1e61), ('shift-a', 0x1e41), ('up', 0x48e0),
        ('f7', 0x4100), ('1', 0x0231), ('ret', 0x1c0d), ('esc', 0x011b),
        ('ctrl-c', 0x2e03), ('delete', 0x53e0), ('kp_enter', 0xe00d),
        ('spc', 0x3920), ('f12', 0x8600)]


def next_key(emu):
    return int(emu.wait_for(KEY, 60).group(1), 16)


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    typematic = len(sys.argv) == 3
    tmp = tempfile.mkdtemp(prefix='kbdbios-')
    disk = os.path.join(tmp, 'kbd.img')
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
        emu.wait_for('KBD-READY', 60)
        mon = boottest.Monitor(sock)
        for name, want in KEYS:
            out = mon.cmd('sendkey ' + name)
            if out.strip():
                emu.fail('sendkey %s answered %r' % (name, out))
            got = next_key(emu)
            if got != want:
                emu.fail('sendkey %s read as %04x, wanted %04x'
                         % (name, got, want))
        if typematic:
            # The press and repeats at 500, 592, 683 and 775 ms; the
            # release at 800 ms comes before the next (867 ms).  C is sent
            # once five B's are there: it releases B if B is still down,
            # so whenever it arrives, the next key must be C.
            mon.cmd('sendkey b 800')
            for i in range(5):
                got = next_key(emu)
                if got != 0x3062:
                    emu.fail('key %04x where B number %d was due'
                             % (got, i + 1))
            mon.cmd('sendkey c')
            got = next_key(emu)
            if got != 0x2e63:
                emu.fail('key %04x after 5 B\'s, wanted C (2E63)' % got)
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
    print('ok: sendkey keys read through INT 16h%s'
          % (', typematic repeat counted' if typematic else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
