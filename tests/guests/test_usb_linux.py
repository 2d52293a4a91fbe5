#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test: Debian's i686 Linux drives Mimic's USB with its own
drivers (uhci-hcd, usbhid + hid-generic + evdev, usb-storage + sd_mod,
vfat), all in one boot.

The test builds an initramfs of its own with those modules from the same
kernel package as the other guest tests (the sound test's helpers resolve
their `depends=`), and runs with the PIIX3 UHCI (-usb), a usb-tablet on
port 1 and a usb-storage disk on port 2: a FAT image the host wrote with
mtools, holding 300 KiB of random data.  The guest's /init, the host
following it through serial markers and the monitor:

1. /sys/bus/usb/devices lists 0627:0001 "QEMU USB Tablet" and 46f4:0001
   "QEMU USB HARDDRIVE"; `info usb` lists both with their ports;
2. the disk mounts, the data file's md5 is the host's, the guest writes
   a file and unmounts;
3. the guest reads its tablet's /dev/input/eventN while the host sends
   `mouse_move 100 200` and `mouse_move 300 50`: the ABS_X/ABS_Y values
   are the pixels scaled to 0..32767 by the display's size (read from a
   screendump), as QEMU scales them;
   between the two, the machine is saved (`migrate file:`) and the rest
   runs in a new process resumed from it (-incoming);
4. `device_del disk1`: /dev/sda goes away; `drive_add 0
   if=none,id=d2,...` defines a drive on the running machine (a read-only
   raw image of random data) and `device_add
   usb-storage,drive=d2,id=disk2` plugs it in: a disk appears whose md5
   is the image's (behind a usb-hub that the machine puts on the last
   free root port, as QEMU does);
5. `poweroff -f`; the host reads the guest's file back with mcopy.

usage: test_usb_linux.py EMULATOR
"""
import glob
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402
import test_sound_linux as snd  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
MODULES = ['uhci-hcd', 'usbhid', 'hid-generic', 'evdev', 'usb-storage',
           'sd-mod', 'vfat', 'nls-cp437', 'nls-ascii', 'nls-iso8859-1']
GUEST_TEXT = 'written by the guest 42'

# The start of /init (test_usb_ehci_linux.py's too): busybox, the
# modules, wait_for.
INIT_PRELUDE = r'''#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp
while read m args; do
    insmod /lib/modules/$m.ko $args || echo "USB-INSMOD-FAIL $m"
done < /modules.order
# wait_for CONDITION WHAT: poll up to 30 s
wait_for() {
    i=0
    while [ $i -lt 300 ]; do
        eval "$1" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "USB-TIMEOUT $2"
    return 1
}
'''

INIT = INIT_PRELUDE + r'''wait_for '[ -b /dev/sda ]' sda
wait_for 'ls /sys/class/input/event* >/dev/null 2>&1' input
for d in /sys/bus/usb/devices/*; do
    [ -f $d/idVendor ] && echo "USBDEV $(cat $d/idVendor):$(cat $d/idProduct) $(cat $d/product)"
done
echo USB-LIST-DONE
mkdir -p /mnt
mount -t vfat /dev/sda /mnt && echo USB-MOUNTED
md5sum /mnt/data.bin | sed 's/^/USB-MD5 /'
echo "$(echo written by the guest) $((6 * 7))" > /mnt/guest.txt
umount /mnt && echo USB-UMOUNTED
ev=
for e in /sys/class/input/event*; do
    grep -q Tablet $e/device/name && ev=/dev/input/${e##*/}
done
echo "TABLET-EV $ev"
# busybox's cat and dd do not see evdev's events (sendfile?); hexdump
# reads them: one report is X, Y and SYN_REPORT, 3 x 16 bytes.  The
# host moves once the reader has the device open (a report with nobody
# reading is gone).
read_report() {
    hexdump -n 48 -v -e '16/1 "%02x " "\n"' $ev > /tmp/ev &
    pid=$!
    wait_for "ls -l /proc/$pid/fd 2>/dev/null | grep -q event" open
    echo $1
    wait $pid
    sed 's/^/EV /' /tmp/ev
}
read_report TABLET-READY
read_report TABLET-ONE
echo TABLET-DONE
read line
wait_for '[ ! -b /dev/sda ]' unplug && echo USB-GONE
read line
wait_for '[ -b /dev/sda ] || [ -b /dev/sdb ]' plug
dev=/dev/sda
[ -b /dev/sdb ] && dev=/dev/sdb
sleep 0.5
md5sum $dev | sed 's/^/USB-MD5-2 /'
echo USB-END
poweroff -f
'''


def build_initrd(tmp):
    cache = boottest.CACHE
    with open(os.path.join(cache, 'root', 'kernel-version')) as f:
        kver = f.read().strip()
    debs = glob.glob(os.path.join(cache, 'debs',
                                  'linux-image-%s_*.deb' % kver))
    if not debs:
        raise RuntimeError('no package of kernel %s in %s' % (kver, cache))
    k = os.path.join(tmp, 'k')
    os.makedirs(k)
    p1 = subprocess.Popen(['dpkg-deb', '--fsys-tarfile', debs[0]],
                          stdout=subprocess.PIPE)
    subprocess.run(['tar', '-x', '-C', k, '--wildcards'] +
                   ['./lib/modules/*/kernel/%s/*' % d for d in
                    ('drivers/usb', 'drivers/hid', 'drivers/input',
                     'drivers/scsi', 'fs/fat', 'fs/nls', 'lib', 'block',
                     'crypto')], stdin=p1.stdout, check=True)
    p1.wait()
    paths = snd.module_paths(os.path.join(k, 'lib', 'modules'))
    order = snd.load_order(paths, MODULES)
    print('modules: ' + ' '.join(order))
    st = os.path.join(tmp, 'stage')
    for d in ('bin', 'dev', 'proc', 'sys', 'lib/modules'):
        os.makedirs(os.path.join(st, d))
    shutil.copy(os.path.join(cache, 'root', 'busybox'),
                os.path.join(st, 'bin', 'busybox'))
    os.symlink('busybox', os.path.join(st, 'bin', 'sh'))
    for n in order:
        shutil.copy(paths[n], os.path.join(st, 'lib', 'modules', n + '.ko'))
    with open(os.path.join(st, 'modules.order'), 'w') as f:
        # usb-storage waits a second before scanning a new disk by default
        f.write(''.join(n + (' delay_use=0' if n == 'usb-storage' else '')
                        + '\n' for n in order))
    with open(os.path.join(st, 'init'), 'w') as f:
        f.write(INIT)
    for f in ('init', 'bin/busybox'):
        os.chmod(os.path.join(st, f), 0o755)
    out = os.path.join(tmp, 'usb-initrd.gz')
    subprocess.run([sys.executable,
                    os.path.join(SRC, 'scripts', 'guests', 'mkcpio.py'),
                    st, out, '--node', '/dev/console:600:c:5:1',
                    '--node', '/dev/null:666:c:1:3',
                    '--node', '/dev/ttyS0:660:c:4:64'], check=True)
    return out


def upto(emu, marker, timeout):
    """Wait for marker; the output since the previous marker."""
    start = emu.pos
    m = emu.wait_for(marker, timeout)
    return emu.buf[start:m.end()]


def check(cond, what):
    if not cond:
        raise boottest.BootError(what)


def display_size(mon, tmp):
    path = os.path.join(tmp, 'screen.ppm')
    mon.cmd('screendump ' + path)
    with open(path, 'rb') as f:
        head = f.read(64).split()
    return int(head[1]), int(head[2])


def abs_events(text):
    """ABS_X / ABS_Y values of the guest's evdev dump (16-byte i386
    struct input_event: timeval, type, code, value)."""
    data = bytes(int(t, 16) for ln in re.findall(r'^EV(.*)$', text, re.M)
                 for t in ln.split())
    out = []
    for i in range(0, len(data) - 15, 16):
        typ, code, value = struct.unpack_from('<HHi', data, i + 8)
        if typ == 3 and code in (0, 1):
            out.append(('xy'[code], value))
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    boottest.ensure_images('kernel')
    tmp = tempfile.mkdtemp(prefix='usb-linux-')
    initrd = build_initrd(tmp)
    data = os.urandom(300 * 1024)
    with open(os.path.join(tmp, 'data.bin'), 'wb') as f:
        f.write(data)
    disk1 = os.path.join(tmp, 'disk1.img')
    subprocess.run(['mkfs.fat', '-C', disk1, '4096'], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(['mcopy', '-i', disk1, os.path.join(tmp, 'data.bin'),
                    '::data.bin'], check=True)
    disk2 = os.path.join(tmp, 'disk2.img')
    raw2 = os.urandom(1024 * 1024)
    with open(disk2, 'wb') as f:
        f.write(raw2)
    def start(name, extra=()):
        sock = os.path.join(tmp, name + '.sock')
        e = boottest.Emulator(
            [exe, '-display', 'none', '-serial', 'stdio', '-m', '128',
             '-net', 'none', '-monitor', 'unix:%s,server=on,wait=off' % sock,
             '-usb', '-device', 'usb-tablet,id=tablet,bus=usb-bus.0,port=1',
             '-drive', 'if=none,id=d1,format=raw,file=' + disk1,
             '-device', 'usb-storage,drive=d1,id=disk1,port=2',
             '-kernel', os.path.join(boottest.CACHE, 'vmlinuz'),
             '-initrd', initrd, '-append', 'console=ttyS0,115200 ' + boottest.QUICK_APPEND] +
            list(extra), os.path.join(tmp, name + '.log'))
        return e, sock

    emu, sock = start('a')
    mon = None
    try:
        mon = boottest.Monitor(sock)
        text = upto(emu, 'USB-LIST-DONE', 600)
        check('USB-INSMOD-FAIL' not in text, 'a module did not load')
        check('USB-TIMEOUT' not in text, 'a USB device did not appear')
        check(re.search(r'USBDEV 0627:0001 QEMU USB Tablet', text),
              'no tablet in /sys/bus/usb/devices')
        check(re.search(r'USBDEV 46f4:0001 QEMU USB HARDDRIVE', text),
              'no disk in /sys/bus/usb/devices')
        info = mon.cmd('info usb')
        print(info.strip())
        check(re.search(r'Port 1, .*QEMU USB Tablet, ID: tablet', info) and
              re.search(r'Port 2, .*ID: disk1', info), 'info usb: ' + info)
        print('ok: the guest lists the tablet and the disk', flush=True)
        text = upto(emu, 'USB-UMOUNTED', 120)
        want = hashlib.md5(data).hexdigest()
        check('USB-MOUNTED' in text, 'the FAT disk did not mount')
        check('USB-MD5 %s' % want in text, 'data.bin md5 differs')
        print('ok: mounted the host-written FAT disk, md5 %s' % want,
              flush=True)
        emu.wait_for('TABLET-READY', 60)
        w, h = display_size(mon, tmp)
        moves = [(100, 200), (300, 50)]
        text = emu.buf[emu.pos:]
        mon.cmd('mouse_move %d %d' % moves[0])
        text += upto(emu, 'TABLET-ONE', 60)
        # Save the running machine (the guest waits on the tablet) and
        # go on in a new process: the rest runs on the resumed machine.
        state = os.path.join(tmp, 'usb.state')
        out = mon.cmd('migrate file:' + state)
        check(not out.strip(), 'migrate: ' + out)
        text += emu.buf[emu.pos:]
        mon.close()
        emu.close()
        emu, sock = start('b', ['-incoming', 'file:' + state])
        mon = boottest.Monitor(sock)
        sizes = [(w, h), display_size(mon, tmp)]
        mon.cmd('mouse_move %d %d' % moves[1])
        text += upto(emu, 'TABLET-DONE', 60)
        check('Linux version' not in text, 'the resumed machine booted')
        ev = abs_events(text)
        print('display %s, events %s' % (sizes, ev))
        want_ev = []
        for (x, y), (sw, sh) in zip(moves, sizes):
            want_ev += [('x', x * 0x7fff // sw), ('y', y * 0x7fff // sh)]
        check(ev == want_ev, 'tablet events %s, want %s' % (ev, want_ev))
        print('ok: tablet positions reached evdev (the second after a save '
              'and resume)', flush=True)
        mon.cmd('device_del disk1')
        emu.send('\n')
        emu.wait_for('USB-GONE', 60)
        print('ok: device_del: the disk is gone', flush=True)
        out = mon.cmd('drive_add 0 if=none,id=d2,format=raw,readonly=on,'
                      'file=' + disk2)
        check(out.strip() == 'OK', 'drive_add: ' + out)
        out = mon.cmd('device_add usb-storage,drive=d2,id=disk2')
        check('Error' not in out, 'device_add: ' + out)
        # One root port was left: a hub took it and the disk is behind.
        info = mon.cmd('info usb')
        check(re.search(r'Port 2, .*QEMU USB Hub', info) and
              re.search(r'Port 2\.1, .*ID: disk2', info), 'info usb: ' + info)
        emu.send('\n')
        text = upto(emu, 'USB-END', 120)
        check('USB-MD5-2 %s' % hashlib.md5(raw2).hexdigest() in text,
              'the hot-plugged disk reads differently')
        print('ok: device_add: a new disk with the image\'s md5',
              flush=True)
        rc = emu.wait_exit(60)
        check(rc == 0, 'exit status %d' % rc)
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        print(emu.tail())
        return 1
    finally:
        if mon:
            mon.close()
        emu.close()
    got = subprocess.run(['mtype', '-i', disk1, '::guest.txt'],
                         capture_output=True, text=True)
    if got.stdout.strip() != GUEST_TEXT:
        print('FAIL: the guest\'s file reads %r' % got.stdout)
        return 1
    print('ok: the host reads the guest\'s file: %r' % GUEST_TEXT)
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
