#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Real-firmware graphics test: SeaBIOS boots a hand-written boot sector
(tests/guests/vgaboot.asm, assembled by the build) from a raw hard-disk
image; it sets a graphics mode through SeaVGABIOS, draws a pattern and
prints "VGA-TEST OK" on COM1.  The screendump (PPM) must have the mode's
size and show exactly the pattern.

  vbe   : INT 10h AX=4F00/4F01 find 640x480x32 with LFB, AX=4F02 sets it
          (bit 14), the pattern is drawn through the linear framebuffer
          in BAR 0: pixel (x, y) = (x & 255, y & 255, 0x80).
  mode13: INT 10h AX=0013h, DAC entry i = (i>>2, (255-i)>>2, 32) (6-bit),
          pixel (x, y) = DAC[(x + 2y) & 255]; the picture is 320x200
          (an emulator that shows the doubled 640x400 also passes; 6-bit
          DAC values may scale to 8 bits by any rule within 3).

  mode12: INT 10h AX=0012h, attribute i -> DAC i = (4i, 63-4i, 2i),
          write mode 2 through the planes: pixel (x, y) =
          DAC[((x >> 3) + y) & 15].

usage: test_vga_boot.py EMULATOR VBE.BIN MODE13.BIN MODE12.BIN
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402
from test_seabios import read_ppm  # noqa: E402


def exp6(v):
    return (v << 2) | (v >> 4)


def expect_vbe(x, y):
    return (x & 255, y & 255, 0x80)


def expect_mode12(x, y):
    i = ((x >> 3) + y) & 15
    return (exp6(4 * i), exp6(63 - 4 * i), exp6(2 * i))


def expect_mode13(x, y):
    i = (x + 2 * y) & 255
    return (exp6(i >> 2), exp6((255 - i) >> 2), exp6(32))


CASES = {
    'vbe': ((640, 480), [(640, 480)], expect_vbe),
    'mode12': ((640, 480), [(640, 480)], expect_mode12),
    'mode13': ((320, 200), [(320, 200), (640, 400)], expect_mode13),
}


def run_case(exe, name, boot, tmp):
    (w, h), sizes, expect = CASES[name]
    img = os.path.join(tmp, name + '.img')
    with open(boot, 'rb') as f:
        sector = f.read()
    if len(sector) != 512 or sector[510:] != b'\x55\xaa':
        raise boottest.BootError('%s is not a boot sector' % boot)
    with open(img, 'wb') as f:
        f.write(sector + bytes(1024 * 1024 - 512))
    sock = os.path.join(tmp, name + '.sock')
    serial = os.path.join(tmp, name + '.serial')
    shot = os.path.join(tmp, name + '.ppm')
    emu = boottest.Emulator([exe, '-display', 'none', '-m', '32', '-net',
                             'none', '-hda', img, '-serial', 'file:' + serial,
                             '-monitor', 'unix:%s,server=on,wait=off' % sock],
                            os.path.join(tmp, name + '.log'))
    try:
        mon = boottest.Monitor(sock)
        deadline = time.monotonic() + 60 * boottest.SCALE
        out = b''
        while b'VGA-TEST' not in out or not out.endswith(b'\n'):
            if time.monotonic() > deadline:
                raise boottest.BootError('%s: no VGA-TEST marker on COM1 in'
                                         ' 60s; got %r' % (name, out))
            time.sleep(0.2)
            if os.path.exists(serial):
                with open(serial, 'rb') as f:
                    out = f.read()
        if b'VGA-TEST OK' not in out:
            raise boottest.BootError('%s: the guest reports %r' % (name, out))
        mon.cmd('screendump %s' % shot)
        mon.close()
    finally:
        emu.close()
    if not os.path.exists(shot):
        raise boottest.BootError('%s: screendump wrote nothing' % name)
    width, height, pixels = read_ppm(shot)
    if (width, height) not in sizes:
        raise boottest.BootError('%s: screendump is %dx%d, expected %dx%d'
                                 % (name, width, height, w, h))
    sx, sy = width // w, height // h
    bad = 0
    first = None
    for y in range(h):
        for x in range(w):
            o = 3 * ((y * sy) * width + x * sx)
            got = tuple(pixels[o:o + 3])
            want = expect(x, y)
            # A 6-bit DAC value v is 4v plus 0..3 in 8 bits, depending
            # on the emulator's scaling; one DAC step is 4.
            if any(abs(a - b) > 3 for a, b in zip(got, want)):
                bad += 1
                if first is None:
                    first = (x, y, got, want)
    if bad:
        x, y, got, want = first
        raise boottest.BootError('%s: %d of %d pixels differ; first at '
                                 '(%d, %d): %r, expected %r'
                                 % (name, bad, w * h, x, y, got, want))
    print('ok: %s: %dx%d screendump shows the pattern' % (name, width,
                                                          height))


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='vga-boot-')
    try:
        run_case(exe, 'vbe', sys.argv[2], tmp)
        run_case(exe, 'mode13', sys.argv[3], tmp)
        run_case(exe, 'mode12', sys.argv[4], tmp)
    except (boottest.BootError, subprocess.SubprocessError) as e:
        print('FAIL: %s\n(files kept in %s)' % (e, tmp))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
