#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test: with `-S -monitor stdio -display none` Mimic stops
before running the guest and shows its HMP prompt "(mimic) " on stdio;
`quit` ends it with status 0.  The command line is the classic QEMU 0.x
seed line (old options -clock, -rtc-td-hack, -localtime, -enable-audio
must be accepted), with c.img and linux.iso created empty in a temp dir.
Before quitting, the machine's inventory: `info qtree` lists the board's
devices, each with its saved-state section or the reason it has none;
`info roms` names the BIOS with the SHA-256 of SeaBIOS's file as Debian
installs it; `info cpus` shows the CPU at the reset vector; `info network`
shows the default e1000 on user networking; hostfwd_add on a busy port
answers an error and the emulator runs on.

usage: test_monitor_stdio.py EMULATOR
"""
import hashlib
import os
import re
import shutil
import socket
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
        emu.send('info qtree\n')
        m = emu.wait_for(re.compile(r'bus: main-system-bus(.*?)\(mimic\) ',
                                    re.S), 30)
        tree = m.group(1)
        devs = re.findall(r'dev: (\S+), id "([^"]+)"', tree)
        names = [d[0] for d in devs]
        for want in ('i8259', 'i8254', 'mc146818', 'i8042', 'serial',
                     'piix-ide', 'vga', 'piix4-pm'):
            if want not in names:
                emu.fail('info qtree lacks %s: %s' % (want, names))
        if len(re.findall(r'^    state ', tree, re.M)) != len(devs):
            emu.fail('a device without a state line:\n' + tree)
        # Mimic's debugging extensions: a device's state fields with their
        # values, and the clock's timers.  Before the first instruction
        # the PIT's channel 0 is in its reset mode 3 with count 0x10000.
        emu.send('info state pit\n')
        emu.wait_for(re.compile(r'i8254 version \d+\r?\n'), 30)
        emu.wait_for(re.compile(r'  ch\[0\]\.count = 0x10000\r?\n'), 30)
        emu.wait_for(re.compile(r'  ch\[0\]\.mode = 0x3\r?\n'), 30)
        emu.send('info state nosuch\n')
        emu.wait_for(re.compile(r"no saved state for 'nosuch'\r?\n"
                                r'info state cpu\|[a-z]'), 30)
        emu.send('info timers\n')
        emu.wait_for(re.compile(r'clock realtime, now 0 ns\r?\n'
                                r'(timer \d+: (idle|in \d+ ns)\r?\n)+'), 30)
        emu.send('info roms\n')
        m = emu.wait_for(re.compile(r'name="bios" size=0x([0-9a-f]+) '
                                    r'sha256=([0-9a-f]{64})'), 30)
        bios = '/usr/share/seabios/bios-256k.bin'
        if os.path.exists(bios):
            data = open(bios, 'rb').read()
            if (int(m.group(1), 16) != len(data) or
                    m.group(2) != hashlib.sha256(data).hexdigest()):
                emu.fail('info roms: %s is not %s' % (m.group(0), bios))
        emu.send('info cpus\n')
        emu.wait_for(re.compile(r'\* CPU #0: pc=0xfffffff0 '), 30)
        # QEMU's pc default: an e1000 on user networking.
        emu.send('info network\n')
        emu.wait_for(re.compile(r'e1000\.0: type=nic,model=e1000,'
                                r'macaddr=52:54:00:12:34:56\s+\\ user\.0: '
                                r'type=user,net=10\.0\.2\.0'), 30)
        # hostfwd_add on a busy port answers an error; Mimic runs on.
        busy = socket.socket()
        busy.bind(('127.0.0.1', 0))
        busy.listen(1)
        emu.send('hostfwd_add tcp:127.0.0.1:%d-:22\n' %
                 busy.getsockname()[1])
        emu.wait_for(re.compile(r'Error: hostfwd: cannot forward host TCP '
                                r'port \d+'), 30)
        busy.close()
        emu.send('info status\n')
        emu.wait_for(re.compile(r'VM status: paused'), 30)
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
