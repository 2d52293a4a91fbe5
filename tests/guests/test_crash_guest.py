#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Crash consistency with a real writer: a guest writes its qcow2 disk
without end (tests/guests/asm/disk-writer.asm: 8 sectors at scattered
LBAs, each sector filled with its round number, through the BIOS) and
Mimic is killed with SIGKILL at many points, on the same image, again and
again.  After every kill both `mimic-img check` and `qemu-img check` must
find no corruption (leaked clusters are allowed: exit status 0 or 3), and
every sector must read back either as zeros or as one round's pattern
(256 equal words): never another cluster's data, never a mix.

usage: test_crash_guest.py MIMIC MIMIC_IMG WRITER_BOOTSECTOR
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

QEMU_IMG = '/usr/bin/qemu-img'
KILLS = 16


def check_image(tool, img, what):
    p = subprocess.run([tool, 'check', img], capture_output=True, text=True)
    if p.returncode not in (0, 3):
        raise SystemExit('FAIL: %s check after %s (status %d):\n%s%s' %
                         (os.path.basename(tool), what, p.returncode,
                          p.stdout[-2000:], p.stderr[-2000:]))
    return p.returncode


def check_data(img_tool, img, raw, what):
    subprocess.run([img_tool, 'convert', '-f', 'qcow2', '-O', 'raw', img,
                    raw], check=True, capture_output=True)
    with open(raw, 'rb') as f:
        data = f.read()
    written = 0
    for lba in range(64, 64 + 16000 + 8):
        sec = data[lba * 512:(lba + 1) * 512]
        if sec == bytes(512):
            continue
        if sec != sec[:2] * 256:
            raise SystemExit('FAIL: after %s, sector %d holds neither '
                             'zeros nor one round: %r...' %
                             (what, lba, sec[:16]))
        written += 1
    return written


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    mimic = boottest.find_emulator(sys.argv[1])
    mimic_img = sys.argv[2]
    if not os.path.exists(QEMU_IMG):
        print('*** %s missing: crash test NOT run ***' % QEMU_IMG)
        return 77
    tmp = tempfile.mkdtemp(prefix='crash-guest-')
    try:
        base = os.path.join(tmp, 'base.raw')
        with open(sys.argv[3], 'rb') as f:
            mbr = f.read()
        with open(base, 'wb') as f:
            f.write(mbr)
            f.truncate(16 << 20)
        img = os.path.join(tmp, 'disk.qcow2')
        subprocess.run([mimic_img, 'convert', '-f', 'raw', '-O', 'qcow2',
                        '-o', 'cluster_size=4096', base, img], check=True,
                       capture_output=True)
        raw = os.path.join(tmp, 'out.raw')
        rng = random.Random(20261207)
        for i in range(KILLS):
            target = rng.randrange(1, 40)
            emu = boottest.Emulator([
                mimic, '-display', 'none', '-serial', 'stdio', '-m', '32',
                '-net', 'none', '-monitor', 'none',
                '-drive', 'file=%s,format=qcow2,if=ide' % img])
            try:
                seen = 0
                while seen < target:
                    emu.wait_for(re.compile(r'W [0-9A-F]{4}\n'), 120)
                    seen += 1
                # Anywhere within the next reports' writes.
                time.sleep(rng.random() * 0.05)
                os.kill(emu.proc.pid, signal.SIGKILL)
                emu.proc.wait()
            finally:
                emu.close()
            if 'WRITE-FAILED' in emu.buf:
                raise SystemExit('FAIL: the guest saw a write error after '
                                 '%d kills; its output:\n%s' %
                                 (i, emu.buf[-3000:]))
            what = 'kill %d (after %d reports)' % (i + 1, target)
            m = check_image(mimic_img, img, what)
            q = check_image(QEMU_IMG, img, what)
            n = check_data(QEMU_IMG, img, raw, what)
            print('ok: %s: mimic-img %s, qemu-img %s, %d sectors written' %
                  (what, 'leaks' if m == 3 else 'clean',
                   'leaks' if q == 3 else 'clean', n))
        print('PASS')
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
