#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test: Debian's i686 Linux drives Mimic's usb-ehci with its
own drivers (ehci-hcd + ehci-pci, usbhid + hid-generic + evdev,
usb-storage + sd_mod, vfat), in one boot; with --xhci the same on a
qemu-xhci (xhci-hcd + xhci-pci): the tablet on USB2 port 1 at 480 Mb/s,
the disks on the USB3 ports at 5000 Mb/s (SuperSpeed descriptors, BOS),
the hot-plugged one on port 4.

The initramfs is test_usb_linux.py's with the EHCI modules in place of
uhci-hcd.  The machine has `-device usb-ehci,id=ehci` and no UHCI (no
-usb), a usb-tablet on ehci.0 port 1 and a usb-storage disk on ehci.0
port 3: a FAT image the host wrote with mtools, holding 2 MiB of random
data (so bulk transfers span many 20 KiB qTDs).  The guest's /init, the
host following it through serial markers and the monitor:

1. /sys/bus/usb/devices lists 0627:0001 "QEMU USB Tablet" and 46f4:0001
   "QEMU USB HARDDRIVE" at 480 Mb/s behind the EHCI root hub (1d6b:0002);
   `info usb` lists both on their ports at 480 Mb/s;
2. the disk mounts, the data file's md5 is the host's, the guest writes
   a file and unmounts;
3. the guest opens its tablet's /dev/input/eventN; the host saves the
   machine (`migrate file:`) and resumes it in a new process
   (-incoming), then sends `mouse_move 100 200`: the ABS_X/ABS_Y values
   are the pixels scaled to 0..32767 (through an interrupt queue head of
   the periodic schedule of the resumed controller);
4. hot plug on the resumed machine: `drive_add` of a raw image and
   `device_add usb-storage,drive=d2,bus=ehci.0,port=5`: /dev/sdb appears
   with the image's md5; `device_del` takes it away again;
5. `poweroff -f`; the host reads the guest's file back with mtype.

usage: test_usb_ehci_linux.py EMULATOR [--xhci]
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402
import test_usb_linux as usbl  # noqa: E402

MODULES = ['ehci-pci', 'usbhid', 'hid-generic', 'evdev', 'usb-storage',
           'sd-mod', 'vfat', 'nls-cp437', 'nls-ascii', 'nls-iso8859-1']
GUEST_TEXT = 'written through ehci 42'

# What differs with --xhci: the controller, its driver, the disks' speed
# (USB3 ports), the hot-plug port (port pairs 1-4) and a second root hub.
HC = {
    'ehci': dict(module='ehci-pci', device='usb-ehci,id=ehci', bus='ehci.0',
                 disk_speed='480', plug_port='5', hubs=['1d6b:0002 480']),
    'xhci': dict(module='xhci-pci', device='qemu-xhci,id=xhci', bus='xhci.0',
                 disk_speed='5000', plug_port='4',
                 hubs=['1d6b:0002 480', '1d6b:0003 5000']),
}

INIT = usbl.INIT_PRELUDE + r'''wait_for '[ -b /dev/sda ]' sda
wait_for 'ls /sys/class/input/event* >/dev/null 2>&1' input
for d in /sys/bus/usb/devices/*; do
    [ -f $d/idVendor ] && echo "USBDEV $(cat $d/idVendor):$(cat $d/idProduct) $(cat $d/speed) $(cat $d/product)"
done
echo USB-LIST-DONE
mkdir -p /mnt
mount -t vfat /dev/sda /mnt && echo USB-MOUNTED
md5sum /mnt/data.bin | sed 's/^/USB-MD5 /'
echo "$(echo written through HCNAME) $((6 * 7))" > /mnt/guest.txt
umount /mnt && echo USB-UMOUNTED
ev=
for e in /sys/class/input/event*; do
    grep -q Tablet $e/device/name && ev=/dev/input/${e##*/}
done
echo "TABLET-EV $ev"
hexdump -n 48 -v -e '16/1 "%02x " "\n"' $ev > /tmp/ev &
pid=$!
wait_for "ls -l /proc/$pid/fd 2>/dev/null | grep -q event" open
echo TABLET-READY
wait $pid
sed 's/^/EV /' /tmp/ev
echo TABLET-DONE
read line
wait_for '[ -b /dev/sdb ]' plug && sleep 0.5
md5sum /dev/sdb | sed 's/^/USB-MD5-2 /'
echo USB-PLUGGED
read line
wait_for '[ ! -b /dev/sdb ]' unplug && echo USB-GONE
poweroff -f
'''


def main():
    args = sys.argv[1:]
    name = 'xhci' if '--xhci' in args else 'ehci'
    args = [a for a in args if a != '--xhci']
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    hc = HC[name]
    guest_text = GUEST_TEXT.replace('ehci', name)
    exe = boottest.find_emulator(args[0])
    boottest.ensure_images('kernel')
    tmp = tempfile.mkdtemp(prefix='usb-%s-linux-' % name)
    usbl.MODULES[:] = [hc['module']] + MODULES[1:]
    usbl.INIT = INIT.replace('HCNAME', name)
    initrd = usbl.build_initrd(tmp)
    data = os.urandom(2 * 1024 * 1024)
    with open(os.path.join(tmp, 'data.bin'), 'wb') as f:
        f.write(data)
    disk2 = os.path.join(tmp, 'disk2.img')
    raw2 = os.urandom(1024 * 1024)
    with open(disk2, 'wb') as f:
        f.write(raw2)
    disk = os.path.join(tmp, 'disk.img')
    subprocess.run(['mkfs.fat', '-C', disk, '8192'], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(['mcopy', '-i', disk, os.path.join(tmp, 'data.bin'),
                    '::data.bin'], check=True)
    def start(name, extra=()):
        sock = os.path.join(tmp, name + '.sock')
        e = boottest.Emulator(
            [exe, '-display', 'none', '-serial', 'stdio', '-m', '128',
             '-net', 'none',
             '-monitor', 'unix:%s,server=on,wait=off' % sock,
             '-device', hc['device'],
             '-device', 'usb-tablet,id=tablet,bus=%s,port=1' % hc['bus'],
             '-drive', 'if=none,id=d1,format=raw,file=' + disk,
             '-device', 'usb-storage,drive=d1,id=disk1,bus=%s,port=3'
             % hc['bus'],
             '-kernel', os.path.join(boottest.CACHE, 'vmlinuz'),
             '-initrd', initrd,
             '-append', 'console=ttyS0,115200 ' + boottest.QUICK_APPEND] +
            list(extra), os.path.join(tmp, name + '.log'))
        return e, sock

    emu, sock = start('a')
    mon = None
    try:
        mon = boottest.Monitor(sock)
        text = usbl.upto(emu, 'USB-LIST-DONE', 600)
        usbl.check('USB-INSMOD-FAIL' not in text, 'a module did not load')
        usbl.check('USB-TIMEOUT' not in text,
                   'a USB device did not appear')
        for hub in hc['hubs']:
            usbl.check(re.search(r'USBDEV %s ' % hub, text),
                       'no root hub %s in /sys/bus/usb/devices' % hub)
        usbl.check(re.search(r'USBDEV 0627:0001 480 QEMU USB Tablet', text),
                   'no high-speed tablet in /sys/bus/usb/devices')
        usbl.check(re.search(r'USBDEV 46f4:0001 %s QEMU USB HARDDRIVE'
                             % hc['disk_speed'], text),
                   'no %s Mb/s disk in /sys/bus/usb/devices'
                   % hc['disk_speed'])
        info = mon.cmd('info usb')
        print(info.strip())
        usbl.check(re.search(r'Port 1, Speed 480 Mb/s, Product QEMU USB '
                             r'Tablet, ID: tablet', info) and
                   re.search(r'Port 3, Speed %s Mb/s, .*ID: disk1'
                             % hc['disk_speed'], info),
                   'info usb: ' + info)
        print('ok: the guest lists the tablet at 480 Mb/s and the disk at '
              '%s Mb/s' % hc['disk_speed'], flush=True)
        text = usbl.upto(emu, 'USB-UMOUNTED', 120)
        want = hashlib.md5(data).hexdigest()
        usbl.check('USB-MOUNTED' in text, 'the FAT disk did not mount')
        usbl.check('USB-MD5 %s' % want in text, 'data.bin md5 differs')
        print('ok: mounted the host-written FAT disk, md5 %s' % want,
              flush=True)
        emu.wait_for('TABLET-READY', 60)
        state = os.path.join(tmp, name + '.state')
        out = mon.cmd('migrate file:' + state)
        usbl.check(not out.strip(), 'migrate: ' + out)
        mon.close()
        emu.close()
        emu, sock = start('b', ['-incoming', 'file:' + state])
        mon = boottest.Monitor(sock)
        w, h = usbl.display_size(mon, tmp)
        text = emu.buf[emu.pos:]
        mon.cmd('mouse_move 100 200')
        text += usbl.upto(emu, 'TABLET-DONE', 60)
        ev = usbl.abs_events(text)
        want_ev = [('x', 100 * 0x7fff // w), ('y', 200 * 0x7fff // h)]
        print('display %dx%d, events %s' % (w, h, ev))
        usbl.check(ev == want_ev, 'tablet events %s, want %s'
                   % (ev, want_ev))
        usbl.check('Linux version' not in text, 'the resumed machine booted')
        print('ok: the tablet position reached evdev after a save and '
              'resume', flush=True)
        out = mon.cmd('drive_add 0 if=none,id=d2,format=raw,readonly=on,'
                      'file=' + disk2)
        usbl.check(out.strip() == 'OK', 'drive_add: ' + out)
        out = mon.cmd('device_add usb-storage,drive=d2,id=disk2,bus=%s,'
                      'port=%s' % (hc['bus'], hc['plug_port']))
        usbl.check('Error' not in out, 'device_add: ' + out)
        emu.send('\n')
        text = usbl.upto(emu, 'USB-PLUGGED', 60)
        usbl.check('USB-MD5-2 %s' % hashlib.md5(raw2).hexdigest() in text,
                   'the hot-plugged disk reads differently')
        mon.cmd('device_del disk2')
        emu.send('\n')
        emu.wait_for('USB-GONE', 60)
        print('ok: device_add and device_del of a disk on ' + hc['bus'],
              flush=True)
        rc = emu.wait_exit(60)
        usbl.check(rc == 0, 'exit status %d' % rc)
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        print(emu.tail())
        return 1
    finally:
        if mon:
            mon.close()
        emu.close()
    got = subprocess.run(['mtype', '-i', disk, '::guest.txt'],
                         capture_output=True, text=True)
    if got.stdout.strip() != guest_text:
        print('FAIL: the guest\'s file reads %r' % got.stdout)
        return 1
    print('ok: the host reads the guest\'s file: %r' % guest_text)
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
