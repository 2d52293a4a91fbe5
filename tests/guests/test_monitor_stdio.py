#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test: with `-S -monitor stdio -display none` Mimic stops
before running the guest and shows its HMP prompt "(mimic) " on stdio;
`quit` ends it with status 0.  The command line is the classic QEMU 0.x
seed line (old options -clock, -rtc-td-hack, -localtime, -enable-audio
must be accepted), with c.img and linux.iso created empty in a temp dir.

usage: test_monitor_stdio.py EMULATOR
"""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='monitor-')
    hda = os.path.join(tmp, 'c.img')
    iso = os.path.join(tmp, 'linux.iso')
    open(hda, 'wb').close()
    open(iso, 'wb').close()
    argv = [exe, '-clock', 'dynticks', '-rtc-td-hack', '-localtime',
            '-hda', hda, '-cdrom', iso, '-boot', 'd', '-m', '128',
            '-enable-audio', '-localtime', '-S', '-monitor', 'stdio',
            '-display', 'none']
    emu = boottest.Emulator(argv)
    try:
        emu.wait_for(re.compile(r'\(mimic\) '), 30)
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
    print('ok: stopped at "(mimic) " and quit')
    return 0


if __name__ == '__main__':
    sys.exit(main())
