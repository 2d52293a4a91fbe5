#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Linux's vesafb on the Bochs VBE framebuffer: Debian's i686 kernel booted
directly with vga=0x317 (the loader puts it in the setup header's vid_mode,
the kernel's real-mode setup sets VESA mode 0x117, 1024x768x16, through
SeaVGABIOS) and both consoles (console=ttyS0 console=tty0).  Passes when
ttyS0 says vesafb found the 1024x768x16 mode and a screendump is a
1024x768 picture with the kernel's boot text on many of its 16-pixel
character rows.  Needs only the kernel, not user space.

usage: test_vesafb.py EMULATOR
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402
from test_seabios import read_ppm  # noqa: E402

W, H, CH = 1024, 768, 16


def inked_rows(width, height, pixels):
    """Character rows (16 pixels high) that hold more than one colour."""
    rows = 0
    for r in range(height // CH):
        band = pixels[r * CH * width * 3:(r + 1) * CH * width * 3]
        rows += band != band[:3] * (len(band) // 3)
    return rows


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    boottest.ensure_images('kernel')
    cache = boottest.CACHE
    tmp = tempfile.mkdtemp(prefix='vesafb-')
    sock = os.path.join(tmp, 'mon.sock')
    shot = os.path.join(tmp, 'fb.ppm')
    emu = boottest.Emulator([exe, '-display', 'none', '-m', '256', '-net',
                             'none', '-serial', 'stdio', '-monitor',
                             'unix:%s,server=on,wait=off' % sock,
                             '-kernel', os.path.join(cache, 'vmlinuz'),
                             '-initrd', os.path.join(cache, 'initrd.gz'),
                             '-append',
                             'vga=0x317 console=ttyS0 console=tty0 ' + boottest.QUICK_APPEND])
    try:
        emu.wait_for('vesafb: mode is 1024x768x16', 120)
        emu.wait_for('fb0: VESA VGA frame buffer device', 60)
        mon = boottest.Monitor(sock)
        deadline = time.monotonic() + 60 * boottest.SCALE
        while True:
            mon.cmd('screendump %s' % shot)
            width, height, pixels = read_ppm(shot)
            rows = inked_rows(width, height, pixels)
            if (width, height) == (W, H) and rows >= 20:
                break
            if time.monotonic() > deadline:
                raise boottest.BootError(
                    'screendump is %dx%d with %d inked text rows (want '
                    '%dx%d, >= 20)' % (width, height, rows, W, H))
            time.sleep(0.5)
        mon.close()
    except (boottest.BootError, subprocess.SubprocessError) as e:
        print('FAIL: %s\n(files kept in %s)' % (e, tmp))
        return 1
    finally:
        emu.close()
    print('ok: vesafb: %dx%d screendump with %d inked text rows'
          % (width, height, rows))
    return 0


if __name__ == '__main__':
    sys.exit(main())
