#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""savevm/loadvm acceptance of issue 7 with Linux on a qcow2 disk (suite
guests-linux).  The demo kernel and initramfs boot with a qcow2 overlay of
the demo hard disk (its FAT partition is mounted on /mnt by the guest's
init).  After `savevm`, the guest writes a file on the disk; after `loadvm`
the file is gone (from the page cache and, once the caches are dropped,
from the disk), the disk's old files are still there, and the shell goes
on answering.  `qemu-img snapshot -l` lists the snapshot, and `qemu-img
check` finds the image clean.

usage: test_loadvm_linux.py EMULATOR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

TAG = 'before-write'


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    qemu_img = shutil.which('qemu-img')
    if not qemu_img:
        print('SKIP: qemu-img not found (Debian package qemu-utils); it is '
              'the oracle that lists the snapshot')
        return 77
    boottest.ensure_images('all')
    tmp = tempfile.mkdtemp(prefix='loadvm-linux-')
    emu = None
    try:
        disk = os.path.join(tmp, 'disk.qcow2')
        subprocess.run([qemu_img, 'create', '-q', '-f', 'qcow2', '-F', 'raw',
                        '-b', os.path.join(boottest.CACHE, 'demo-hdd.img'),
                        disk], check=True)
        sock = os.path.join(tmp, 'mon')
        emu = boottest.Emulator(
            [exe, '-kernel', os.path.join(boottest.CACHE, 'vmlinuz'),
             '-initrd', os.path.join(boottest.CACHE, 'initrd.gz'),
             '-append', 'console=ttyS0,115200 ' + boottest.QUICK_APPEND, '-m', '256',
             '-drive', 'file=%s,format=qcow2,if=ide' % disk,
             '-net', 'none', '-display', 'none', '-serial', 'stdio',
             '-monitor', 'unix:%s,server=on,wait=off' % sock],
            os.path.join(tmp, 'serial.log'))
        mon = boottest.Monitor(sock)
        emu.wait_for('GUEST-DISK /dev/sda1 mounted on /mnt', 900)
        boottest.linux_session(emu, 900)
        emu.command('sync; echo SYNCED', '\nSYNCED')
        out = mon.cmd('savevm ' + TAG)
        if out.strip():
            emu.fail('savevm said %r' % out)
        if TAG not in mon.cmd('info snapshots'):
            emu.fail('info snapshots does not list %s' % TAG)
        emu.command('echo after the snapshot > /mnt/after.txt && sync && '
                    'cat /mnt/after.txt | tr a-z A-Z', 'AFTER THE SNAPSHOT')
        out = mon.cmd('loadvm ' + TAG)
        if out.strip():
            emu.fail('loadvm said %r' % out)
        if 'running' not in mon.cmd('info status'):
            emu.fail('the machine is not running after loadvm')
        # The shell is back where it was at savevm: waiting at its prompt.
        emu.command('echo ALIVE-$((6*7))', '\nALIVE-42')
        emu.command('ls /mnt/after.txt 2>&1 | tr a-z A-Z',
                    re.compile(r'NO SUCH FILE'))
        emu.command('echo 3 > /proc/sys/vm/drop_caches; ls /mnt/after.txt '
                    '2>&1 | tr a-z A-Z', re.compile(r'NO SUCH FILE'))
        emu.command('cat /mnt/hello.txt', 'file put on the disk by the host')
        emu.command('echo written after loadvm > /mnt/later.txt && sync && '
                    'umount /mnt && echo UMOUNT-OK', '\nUMOUNT-OK')
        mon.sock.sendall(b'quit\n')
        emu.wait_exit(60)
        mon.close()
        emu.close()
        emu = None
        snaps = subprocess.run([qemu_img, 'snapshot', '-l', disk],
                               capture_output=True, text=True)
        if snaps.returncode != 0 or TAG not in snaps.stdout:
            print('FAIL: qemu-img snapshot -l does not list %s: %s%s' %
                  (TAG, snaps.stdout, snaps.stderr))
            return 1
        check = subprocess.run([qemu_img, 'check', disk],
                               capture_output=True, text=True)
        if check.returncode != 0:
            print('FAIL: qemu-img check: %s%s' % (check.stdout,
                                                  check.stderr))
            return 1
        print('ok: savevm, a file written, loadvm: the file is gone, the '
              'shell answers; qemu-img lists the snapshot:\n' + snaps.stdout)
        return 0
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        return 1
    except OSError as e:  # the monitor socket closed under us
        print('FAIL: %s\n---- emulator output ----\n%s' %
              (e, emu.tail() if emu else ''))
        return 1
    finally:
        if emu:
            emu.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
