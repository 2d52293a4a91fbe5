#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test of the block and mouse monitor commands on the real
command line: `-S -monitor stdio -display none -hda c.img -cdrom a.iso`,
then `info block`, `eject`, `change` (good file, missing file, wrong
device), `mouse_move`/`mouse_button` with good and hostile arguments, and
`quit` with status 0.  The machine never runs (-S): the guest side of a
media change (UNIT ATTENTION, NOT READY) is tested in tests/hw.

usage: test_monitor_block.py EMULATOR
"""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

PROMPT = re.compile(r'\(mimic\) ')


def cmd(emu, line):
    """Send a monitor line; return its output up to the next prompt."""
    start = emu.pos
    emu.send(line + '\n')
    m = emu.wait_for(PROMPT, 30)
    text = emu.buf[start:m.start()].replace('\r', '')
    # Drop the echo of the command line itself, if any.
    if text.startswith(line):
        text = text[len(line):]
    return text.strip('\n')


def expect(emu, line, pattern):
    out = cmd(emu, line)
    if not re.search(pattern, out):
        emu.fail('%r answered %r, wanted /%s/' % (line, out, pattern))
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='monblock-')
    hda = os.path.join(tmp, 'c.img')
    a = os.path.join(tmp, 'a.iso')
    b = os.path.join(tmp, 'b.iso')
    with open(hda, 'wb') as f:
        f.truncate(1 << 20)
    for path, fill in ((a, b'\xaa'), (b, b'\xbb')):
        with open(path, 'wb') as f:
            f.write(fill * (4 * 2048))
    argv = [exe, '-S', '-monitor', 'stdio', '-display', 'none',
            '-drive', 'file=%s,format=raw,if=ide,index=0' % hda,
            '-cdrom', a, '-m', '64']
    emu = boottest.Emulator(argv)
    try:
        emu.wait_for(PROMPT, 30)
        out = expect(emu, 'info block',
                     r'ide1-cd0 \(#block\d+\): %s \(raw, read-only\)'
                     % re.escape(a))
        if not re.search(r'ide0-hd0 \(#block\d+\): %s \(raw\)'
                         % re.escape(hda), out):
            emu.fail('no hard disk in %r' % out)
        if 'Removable device: not locked, tray closed' not in out:
            emu.fail('no removable-device line in %r' % out)
        expect(emu, 'eject ide1-cd0', r'^$')
        expect(emu, 'info block ide1-cd0',
               r'ide1-cd0: \[not inserted\][\s\S]*tray open')
        expect(emu, 'change ide1-cd0 %s' % os.path.join(tmp, 'nope.iso'),
               r"Could not open '.*nope\.iso'")
        expect(emu, 'change ide1-cd0 %s raw' % b, r'^$')
        expect(emu, 'info block ide1-cd0',
               r'ide1-cd0 \(#block\d+\): %s \(raw, read-only\)[\s\S]*'
               r'tray closed' % re.escape(b))
        expect(emu, 'change ide0-hd0 %s' % b,
               r"Device 'ide0-hd0' is not removable")
        expect(emu, 'eject ide7-cd3', r"Device 'ide7-cd3' not found")
        expect(emu, 'eject', r'usage')
        expect(emu, 'change ide1-cd0', r'usage')
        expect(emu, 'mouse_move 10 -10', r'^$')
        expect(emu, 'mouse_move 10 -10 1', r'^$')
        expect(emu, 'mouse_button 1', r'^$')
        expect(emu, 'mouse_move 10', r'usage')
        expect(emu, 'mouse_move 1 999999999999999999999999',
               r'invalid number')
        expect(emu, 'mouse_button -5', r'invalid button state')
        expect(emu, 'info block', r'ide1-cd0')
        emu.send('quit\n')
        status = emu.wait_exit(30)
        if status != 0:
            emu.fail('quit ended the emulator with status %d' % status)
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        emu.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print('ok: info block, eject, change and the mouse commands answered')
    return 0


if __name__ == '__main__':
    sys.exit(main())
