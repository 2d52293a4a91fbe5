#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Protected-mode workload: boot tests/cpu/pmtest.asm (a bare test kernel on
a raw disk image) through SeaBIOS and check the result line it prints on
COM1.  The kernel enables paging and takes three page faults, switches
tasks three times (JMP to a TSS, CALL through a task gate with IRET back,
INT through an IDT task gate), runs virtual-8086 code that traps to its
monitor and leaves through an interrupt, single-steps five instructions
and hits DR0/DR1 breakpoints; it prints "PMTEST FAIL <what>" at the first
check that does not hold.  qemu-system-i386 runs it too (the oracle for
the kernel).

usage: test_pmtest.py EMULATOR PMTEST_IMG
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

EXPECTED = 'PMTEST OK faults=3 tasks=3 v86=1 steps=5 bps=3'


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='pmtest-')
    img = os.path.join(tmp, 'pmtest.img')
    shutil.copyfile(sys.argv[2], img)
    argv = [exe, '-nographic', '-m', '32', '-net', 'none',
            '-drive', 'file=%s,format=raw,if=ide' % img]
    # Mimic: the kernel runs under the default engine, the JIT; its
    # "info jit" must show that translated code ran.
    mimic = 'mimic' in os.path.basename(exe)
    sock = os.path.join(tmp, 'mon.sock')
    if mimic:
        argv += ['-monitor', 'unix:%s,server=on,wait=off' % sock]
    emu = boottest.Emulator(argv)
    try:
        m = emu.wait_for(re.compile(r'PMTEST (OK|FAIL)[^\r\n]*\r?\n'), 120)
        line = m.group(0).strip()
        print('guest: ' + line)
        if line != EXPECTED:
            emu.fail('expected %r' % EXPECTED)
        if mimic:
            mon = boottest.Monitor(sock)
            info = mon.cmd('info jit')
            mon.close()
            print(info.strip())
            blocks = re.search(r'translated blocks: (\d+)', info)
            runs = re.search(r'block runs: (\d+) translated', info)
            if ('engine: jit' not in info or not blocks or
                    int(blocks.group(1)) == 0 or int(runs.group(1)) == 0):
                emu.fail('info jit: no translated code ran')
    except (boottest.BootError, subprocess.SubprocessError) as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        emu.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print('ok: ' + EXPECTED)
    return 0


if __name__ == '__main__':
    sys.exit(main())
