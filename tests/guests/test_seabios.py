#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test: Mimic runs SeaBIOS (Debian's bios-256k.bin) to its
"No bootable device." message.

Part 1: `EMU -nographic -m 64 -net none`: the BIOS screen is mirrored on
COM1 (fw_cfg etc/sercon-port); wait for "SeaBIOS (version" and then
"No bootable device.".
Part 2: `-display none -monitor unix:SOCK`: poll VGA text memory with
`xp /4000xb 0xb8000` until it holds "No bootable device", take
`screendump` (PPM, netpbm P6), decode it and check the picture against the
text memory cell by cell (except the cursor cell): a cell with a visible
character (and foreground colour different from background) has ink, a
blank cell has none, and the row holding "SeaBIOS" has exactly the
expected pattern of inked cells.

usage: test_seabios.py EMULATOR   (Mimic; qemu-system-i386 works too)
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

COLS, ROWS = 80, 25
BLANK = (0x00, 0x20, 0xff)


def read_ppm(path):
    with open(path, 'rb') as f:
        data = f.read()
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            pos = data.index(b'\n', pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    magic, width, height, maxval = (fields[0], int(fields[1]),
                                    int(fields[2]), int(fields[3]))
    if magic != b'P6' or maxval != 255:
        raise boottest.BootError('not a P6/255 PPM: %r' % fields)
    pixels = data[pos:pos + width * height * 3]
    if len(pixels) != width * height * 3:
        raise boottest.BootError('short PPM: %d bytes' % len(pixels))
    return width, height, pixels


def cell_inked(width, pixels, cx, cy, cw, ch):
    """True when a glyph cell holds more than one colour (cursor lines at
    the bottom of the cell are ignored)."""
    colours = set()
    for y in range(cy * ch, cy * ch + ch - 2):
        row = y * width * 3
        for x in range(cx * cw, cx * cw + cw):
            colours.add(pixels[row + 3 * x:row + 3 * x + 3])
            if len(colours) > 1:
                return True
    return False


def part_serial(exe):
    emu = boottest.Emulator([exe, '-nographic', '-m', '64', '-net', 'none'])
    try:
        emu.wait_for('SeaBIOS (version', 60)
        emu.wait_for('No bootable device.', 60)
    finally:
        emu.close()
    print('ok: SeaBIOS banner and "No bootable device." on the serial port')


def part_screen(exe, tmp):
    sock = os.path.join(tmp, 'mon.sock')
    shot = os.path.join(tmp, 'shot.ppm')
    emu = boottest.Emulator([exe, '-display', 'none', '-m', '64', '-net',
                             'none', '-monitor',
                             'unix:%s,server=on,wait=off' % sock],
                            os.path.join(tmp, 'stdout.log'))
    try:
        mon = boottest.Monitor(sock)
        deadline = time.monotonic() + 60 * boottest.SCALE
        while True:
            vram = mon.xp_bytes(0xb8000, 4000)
            text = bytes(vram[0::2]).decode('latin-1')
            if 'No bootable device' in text:
                break
            if time.monotonic() > deadline:
                rows = [text[r * COLS:(r + 1) * COLS].rstrip()
                        for r in range(len(text) // COLS)]
                raise boottest.BootError(
                    'no "No bootable device" in VGA text memory after 60s;'
                    ' it holds (%d bytes):\n%s' % (len(vram),
                                                   '\n'.join(rows)))
            time.sleep(0.5)
        if len(vram) != 4000:
            raise boottest.BootError('xp returned %d bytes' % len(vram))
        out = mon.cmd('screendump %s' % shot)
        # Read the text again: the screen must match what is in memory
        # at the time of the screendump (SeaBIOS has stopped writing).
        if mon.xp_bytes(0xb8000, 4000) != vram:
            vram = mon.xp_bytes(0xb8000, 4000)
        # The BIOS data area holds the page-0 cursor (column, row) at
        # 0x450; the blinking cursor's cell is left out of the comparison.
        cursor = mon.xp_bytes(0x450, 2)
        mon.close()
    finally:
        emu.close()
    if not os.path.exists(shot):
        raise boottest.BootError('screendump wrote nothing: %r' % out)
    width, height, pixels = read_ppm(shot)
    if width % COLS or height % ROWS:
        raise boottest.BootError('%dx%d is not an 80x25 text screen' %
                                 (width, height))
    cw, ch = width // COLS, height // ROWS
    if len(set(pixels[i:i + 3] for i in range(0, len(pixels), 3))) < 2:
        raise boottest.BootError('screendump is blank (one colour)')
    expected = []
    got = []
    for r in range(ROWS):
        exp_row = ''
        got_row = ''
        for c in range(COLS):
            char, attr = vram[2 * (r * COLS + c)], vram[2 * (r * COLS + c)
                                                          + 1]
            visible = char not in BLANK and (attr & 0x0f) != (attr >> 4 & 7)
            exp_row += '#' if visible else '.'
            got_row += '#' if cell_inked(width, pixels, c, r, cw, ch) else '.'
        expected.append(exp_row)
        got.append(got_row)
    text = bytes(vram[0::2]).decode('latin-1')
    bios_row = next((r for r in range(ROWS)
                     if 'SeaBIOS' in text[r * COLS:(r + 1) * COLS]), None)
    if bios_row is None:
        raise boottest.BootError('no "SeaBIOS" in VGA text memory')
    if expected[bios_row] != got[bios_row]:
        raise boottest.BootError(
            'SeaBIOS row %d: text %r\nexpected ink %s\nscreen ink   %s' %
            (bios_row, text[bios_row * COLS:(bios_row + 1) * COLS],
             expected[bios_row], got[bios_row]))
    inked = sum(row.count('#') for row in expected)
    if inked < 20:
        raise boottest.BootError('only %d visible characters' % inked)
    bad = [(r, c) for r in range(ROWS) for c in range(COLS)
           if expected[r][c] != got[r][c] and (c, r) != tuple(cursor)]
    if bad:
        raise boottest.BootError(
            '%d cells disagree (first row,col %r)\nexpected:\n%s\nscreen:\n%s'
            % (len(bad), bad[0], '\n'.join(expected), '\n'.join(got)))
    print('ok: %dx%d screendump matches VGA text memory (%d inked cells)'
          % (width, height, inked))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='seabios-')
    try:
        part_serial(exe)
        part_screen(exe, tmp)
    except (boottest.BootError, subprocess.SubprocessError) as e:
        print('FAIL: %s\n(files kept in %s)' % (e, tmp))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
