#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test: Debian's i686 Linux drives Mimic's usb-ehci and
qemu-xhci with its own drivers (ehci-hcd + ehci-pci, xhci-hcd +
xhci-pci, usbhid + hid-generic + evdev, usb-storage + sd_mod, vfat), in
one boot.

The initramfs is test_usb_linux.py's with the EHCI modules in place of
uhci-hcd.  The machine has `-device usb-ehci,id=ehci` and no UHCI (no
-usb), a usb-tablet on ehci.0 port 1 and a usb-storage disk on ehci.0
port 3: a FAT image the host wrote with mtools, holding 2 MiB of random
data (so bulk transfers span many 20 KiB qTDs).  Beside it a
`-device qemu-xhci,id=xhci` with a usb-kbd on xhci.0 port 1 (USB2 port
1, 480 Mb/s) and a second FAT disk on xhci.0 port 2 (a SuperSpeed
device: USB3 port 6, 5000 Mb/s), its file xdata.bin.  The guest's /init, the
host following it through serial markers and the monitor:

1. /sys/bus/usb/devices lists 0627:0001 "QEMU USB Tablet" and 46f4:0001
   "QEMU USB HARDDRIVE" at 480 Mb/s behind the EHCI root hub (1d6b:0002),
   the xHCI's two root hubs (1d6b:0002 at 480, 1d6b:0003 at 5000), the
   keyboard at 480 and the xHCI's disk at 5000 Mb/s; `info usb` lists
   them on their ports at those speeds;
2. each disk mounts, its data file's md5 is the host's, the guest writes
   a file on each and unmounts;
3. the guest opens its tablet's /dev/input/eventN; the host saves the
   machine (`migrate file:`) and resumes it in a new process
   (-incoming), then sends `mouse_move 100 200`: the ABS_X/ABS_Y values
   are the pixels scaled to 0..32767 (through an interrupt queue head of
   the periodic schedule of the resumed controller);
4. hot plug on the resumed machine: `drive_add` of a raw image and
   `device_add usb-storage,drive=d2,bus=ehci.0,port=5`: /dev/sdc appears
   with the image's md5; `device_del` takes it away again; the same
   image on xhci.0 port 3 (SuperSpeed) after that;
5. `poweroff -f`; the host reads the guest's files back with mtype.

usage: test_usb_ehci_linux.py EMULATOR
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

MODULES = ['ehci-pci', 'xhci-pci', 'usbhid', 'hid-generic', 'evdev', 'usb-storage',
           'sd-mod', 'vfat', 'nls-cp437', 'nls-ascii', 'nls-iso8859-1']
GUEST_TEXT = 'written through ehci 42'
XHCI_TEXT = 'written through xhci 42'

INIT = usbl.INIT_PRELUDE + r'''wait_for '[ -b /dev/sda ] && [ -b /dev/sdb ]' sda
wait_for 'ls /sys/class/input/event* >/dev/null 2>&1' input
for d in /sys/bus/usb/devices/*; do
    [ -f $d/idVendor ] && echo "USBDEV $(cat $d/idVendor):$(cat $d/idProduct) $(cat $d/speed) $(cat $d/product)"
done
echo USB-LIST-DONE
mkdir -p /mnt
# Which disk is which: the EHCI's holds data.bin, the xHCI's xdata.bin.
for d in sda sdb; do
    mount -t vfat /dev/$d /mnt && echo USB-MOUNTED $d
    if [ -f /mnt/data.bin ]; then
        md5sum /mnt/data.bin | sed 's/^/USB-MD5 /'
        echo "$(echo written through ehci) $((6 * 7))" > /mnt/guest.txt
    else
        md5sum /mnt/xdata.bin | sed 's/^/USB-XMD5 /'
        echo "$(echo written through xhci) $((6 * 7))" > /mnt/guest.txt
    fi
    umount /mnt
done
echo USB-UMOUNTED
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
wait_for '[ -b /dev/sdc ]' plug && sleep 0.5
md5sum /dev/sdc | sed 's/^/USB-MD5-2 /'
echo USB-PLUGGED
read line
wait_for '[ ! -b /dev/sdc ]' unplug && echo USB-GONE
read line
wait_for '[ -b /dev/sdc ]' plug3 && sleep 0.5
md5sum /dev/sdc | sed 's/^/USB-MD5-3 /'
echo USB-PLUGGED-3
read line
wait_for '[ ! -b /dev/sdc ]' unplug3 && echo USB-GONE-3
poweroff -f
'''


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    boottest.ensure_images('kernel')
    tmp = tempfile.mkdtemp(prefix='usb-ehci-linux-')
    usbl.MODULES[:] = MODULES
    usbl.INIT = INIT
    initrd = usbl.build_initrd(tmp)
    data = os.urandom(2 * 1024 * 1024)
    with open(os.path.join(tmp, 'data.bin'), 'wb') as f:
        f.write(data)
    xdata = os.urandom(3 * 1024 * 1024)
    with open(os.path.join(tmp, 'xdata.bin'), 'wb') as f:
        f.write(xdata)
    disk2 = os.path.join(tmp, 'disk2.img')
    raw2 = os.urandom(1024 * 1024)
    with open(disk2, 'wb') as f:
        f.write(raw2)
    disk = os.path.join(tmp, 'disk.img')
    subprocess.run(['mkfs.fat', '-C', disk, '8192'], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(['mcopy', '-i', disk, os.path.join(tmp, 'data.bin'),
                    '::data.bin'], check=True)
    xdisk = os.path.join(tmp, 'xdisk.img')
    subprocess.run(['mkfs.fat', '-C', xdisk, '8192'], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(['mcopy', '-i', xdisk, os.path.join(tmp, 'xdata.bin'),
                    '::xdata.bin'], check=True)
    def start(name, extra=()):
        sock = os.path.join(tmp, name + '.sock')
        e = boottest.Emulator(
            [exe, '-display', 'none', '-serial', 'stdio', '-m', '128',
             '-net', 'none',
             '-monitor', 'unix:%s,server=on,wait=off' % sock,
             '-device', 'usb-ehci,id=ehci',
             '-device', 'usb-tablet,id=tablet,bus=ehci.0,port=1',
             '-drive', 'if=none,id=d1,format=raw,file=' + disk,
             '-device', 'usb-storage,drive=d1,id=disk1,bus=ehci.0,port=3',
             '-device', 'qemu-xhci,id=xhci',
             '-device', 'usb-kbd,id=kbd,bus=xhci.0,port=1',
             '-drive', 'if=none,id=d3,format=raw,file=' + xdisk,
             '-device', 'usb-storage,drive=d3,id=disk3,bus=xhci.0,port=2',
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
        usbl.check(len(re.findall(r'USBDEV 1d6b:0002 480 ', text)) == 2,
                   'not two USB 2.0 root hubs in /sys/bus/usb/devices')
        usbl.check(re.search(r'USBDEV 1d6b:0003 5000 ', text),
                   'no xHCI USB 3.0 root hub in /sys/bus/usb/devices')
        usbl.check(re.search(r'USBDEV 0627:0001 480 QEMU USB Keyboard', text),
                   'no keyboard on the xHCI in /sys/bus/usb/devices')
        usbl.check(re.search(r'USBDEV 46f4:0001 5000 QEMU USB HARDDRIVE',
                             text), 'no SuperSpeed disk in /sys/bus/usb/devices')
        usbl.check(re.search(r'USBDEV 0627:0001 480 QEMU USB Tablet', text),
                   'no high-speed tablet in /sys/bus/usb/devices')
        usbl.check(re.search(r'USBDEV 46f4:0001 480 QEMU USB HARDDRIVE',
                             text), 'no high-speed disk in /sys/bus/usb/devices')
        info = mon.cmd('info usb')
        print(info.strip())
        usbl.check(re.search(r'Port 1, Speed 480 Mb/s, Product QEMU USB '
                             r'Tablet, ID: tablet', info) and
                   re.search(r'Port 3, Speed 480 Mb/s, .*ID: disk1', info)
                   and re.search(r'Port 1, Speed 480 Mb/s, .*ID: kbd', info)
                   and re.search(r'Port 2, Speed 5000 Mb/s, .*ID: disk3',
                                 info),
                   'info usb: ' + info)
        print('ok: the guest lists the EHCI\'s tablet and disk at 480 Mb/s, '
              'the xHCI\'s keyboard at 480 and disk at 5000 Mb/s', flush=True)
        text = usbl.upto(emu, 'USB-UMOUNTED', 120)
        want = hashlib.md5(data).hexdigest()
        usbl.check(text.count('USB-MOUNTED') == 2,
                   'the FAT disks did not both mount')
        usbl.check('USB-MD5 %s' % want in text, 'data.bin md5 differs')
        xwant = hashlib.md5(xdata).hexdigest()
        usbl.check('USB-XMD5 %s' % xwant in text,
                   'xdata.bin md5 differs (the xHCI\'s disk)')
        print('ok: mounted the host-written FAT disks, md5 %s and %s'
              % (want, xwant), flush=True)
        emu.wait_for('TABLET-READY', 60)
        state = os.path.join(tmp, 'ehci.state')
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
        out = mon.cmd('device_add usb-storage,drive=d2,id=disk2,bus=ehci.0,'
                      'port=5')
        usbl.check('Error' not in out, 'device_add: ' + out)
        emu.send('\n')
        text = usbl.upto(emu, 'USB-PLUGGED', 60)
        usbl.check('USB-MD5-2 %s' % hashlib.md5(raw2).hexdigest() in text,
                   'the hot-plugged disk reads differently')
        mon.cmd('device_del disk2')
        emu.send('\n')
        emu.wait_for('USB-GONE', 60)
        print('ok: device_add and device_del of a disk on ehci.0',
              flush=True)
        # The same on the resumed xHCI: a SuperSpeed disk on pair 3.
        out = mon.cmd('drive_add 0 if=none,id=d4,format=raw,readonly=on,'
                      'file=' + disk2)
        usbl.check(out.strip() == 'OK', 'drive_add: ' + out)
        out = mon.cmd('device_add usb-storage,drive=d4,id=disk4,bus=xhci.0,'
                      'port=3')
        usbl.check('Error' not in out, 'device_add: ' + out)
        usbl.check(re.search(r'Port 3, Speed 5000 Mb/s, .*ID: disk4',
                             mon.cmd('info usb')), 'disk4 not at 5000 Mb/s')
        emu.send('\n')
        text = usbl.upto(emu, 'USB-PLUGGED-3', 60)
        usbl.check('USB-MD5-3 %s' % hashlib.md5(raw2).hexdigest() in text,
                   'the disk hot-plugged on the xHCI reads differently')
        mon.cmd('device_del disk4')
        emu.send('\n')
        emu.wait_for('USB-GONE-3', 60)
        print('ok: device_add and device_del of a disk on xhci.0',
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
    if got.stdout.strip() != GUEST_TEXT:
        print('FAIL: the guest\'s file reads %r' % got.stdout)
        return 1
    got = subprocess.run(['mtype', '-i', xdisk, '::guest.txt'],
                         capture_output=True, text=True)
    if got.stdout.strip() != XHCI_TEXT:
        print('FAIL: the guest\'s file on the xHCI disk reads %r'
              % got.stdout)
        return 1
    print('ok: the host reads the guest\'s files: %r, %r'
          % (GUEST_TEXT, XHCI_TEXT))
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
