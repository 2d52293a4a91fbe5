#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""SeaBIOS boots from a usb-storage disk (PIIX3 UHCI).

Two raw disks built from tests/guests/asm/usb-boot.asm: an IDE disk whose
boot sector prints "IDE-BOOT" and a USB disk whose boot sector prints
"USB-BOOT"; each then reads its sector 2 through INT 13h and checks a
signature ("READ-OK").  Scenarios:
  1. both disks, the USB one with bootindex=1 on root port 1: SeaBIOS's
     bootorder file (fw_cfg) puts it first -> USB-BOOT, READ-OK;
  2. the same without bootindex: the IDE disk boots (bootindex matters);
  3. bootindex=1 on a disk behind the automatic hub (port 2.2, after
     -usbdevice tablet and keyboard) -> USB-BOOT;
  4. the USB disk alone with -nographic -boot menu=on: SeaBIOS offers the
     menu and boots the USB disk;
  5. both disks, the USB one with bootindex=1 on port 2 of a usb-ehci
     (SeaBIOS's EHCI driver; bootorder path /pci@i0cf8/usb@3/storage@2)
     -> USB-BOOT.
All runs use -icount 3 (deterministic time, see run()).
Run with qemu-system-i386 as the oracle: the same scenarios hold there.

usage: test_usb_boot.py EMULATOR USB-BOOTSECTOR IDE-BOOTSECTOR
"""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402


def make_disk(path, sectors_file):
    with open(sectors_file, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data)
        f.truncate(1 << 20)


def run(exe, args, expect, extra=()):
    # -icount: SeaBIOS polls its TDs against the PM timer with timeouts
    # down to 150 ms, a few CPU slices (frames run between slices) on a
    # loaded host.  Virtual time makes the boot deterministic.
    argv = [exe, '-icount', '3', '-m', '32', '-net', 'none'] + args
    if '-nographic' not in args:
        argv += ['-display', 'none', '-serial', 'stdio', '-monitor', 'none']
    emu = boottest.Emulator(argv)
    try:
        for pattern in extra:
            emu.wait_for(pattern, 60)
        m = emu.wait_for(re.compile(r'(USB|IDE)-BOOT dl=([0-9A-F]{2})'),
                         60)
        if m.group(0) != expect + ' dl=80':
            emu.fail('booted %r, expected %s from drive 80'
                     % (m.group(0), expect))
        emu.wait_for('READ-OK', 30)
        emu.wait_for('BOOT-DONE', 30)
    finally:
        emu.close()
    print('ok: %s' % expect, flush=True)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='usbboot-')
    try:
        usb = os.path.join(tmp, 'usb.img')
        ide = os.path.join(tmp, 'ide.img')
        make_disk(usb, sys.argv[2])
        make_disk(ide, sys.argv[3])
        ide_drive = ['-drive', 'file=%s,format=raw,if=ide,index=0' % ide]
        usb_drive = ['-drive', 'if=none,id=d0,file=%s,format=raw' % usb]
        run(exe, ide_drive + usb_drive +
            ['-device', 'piix3-usb-uhci',
             '-device', 'usb-storage,drive=d0,bootindex=1'], 'USB-BOOT')
        run(exe, ide_drive + usb_drive +
            ['-device', 'piix3-usb-uhci',
             '-device', 'usb-storage,drive=d0'], 'IDE-BOOT')
        run(exe, ide_drive + usb_drive +
            ['-usb', '-usbdevice', 'tablet', '-usbdevice', 'keyboard',
             '-device', 'usb-storage,drive=d0,bootindex=1'], 'USB-BOOT')
        run(exe, usb_drive +
            ['-nographic', '-boot', 'menu=on', '-usb',
             '-device', 'usb-storage,drive=d0'], 'USB-BOOT',
            extra=['Press ESC for boot menu'])
        run(exe, ide_drive + usb_drive +
            ['-device', 'usb-ehci,id=ehci',
             '-device', 'usb-storage,drive=d0,bus=ehci.0,port=2,'
             'bootindex=1'], 'USB-BOOT')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
