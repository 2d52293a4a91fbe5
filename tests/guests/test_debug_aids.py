#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The debugging aids on a small guest: tests/guests/asm/debug-aids.asm, a
128 KiB -bios ROM that takes INT 20h, a #UD and a #DE at fixed addresses,
prints "DEBUG-AIDS READY" on COM1 and halts with EAX=12345678
EBX=cafef00d.  Run with -d in_asm,int,cpu -D LOG and an HMP monitor:

- monitor: `info registers` shows the guest's registers, `x/3i` the code
  at the marker (virtual) and `xp/1i` the same bytes (physical), `x/2i
  $pc` the halt loop, `xp /5xb` the reset vector; bad input gives an
  error line, never a crash;
- the log file: "IN:" blocks with the code disassembled at linear
  addresses, one interrupt line per event ("v=20 ... i=1" for INT 20h,
  "v=06" and "v=00" for the faults, with CS:IP of the instruction), and
  CPU state dumps ("EIP=0000fff0" before the first block).

With qemu-system-i386 (the oracle of the ROM itself) only what QEMU
shares is checked: the marker, the registers, xp, and "IN:" blocks.

usage: test_debug_aids.py EMULATOR ROM
"""
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

MARKER = 0xf0300   # mov eax, 0x12345678 / mov ebx, 0xcafef00d / xor ecx, ecx
HANG = 0xf0320     # hlt / jmp hang


def expect(ok, what, text):
    if not ok:
        raise boottest.BootError('%s; got:\n%s' % (what, text[-3000:]))


def check_monitor(mon, qemu):
    # The marker is printed just before the halt loop: wait for it there.
    deadline = time.monotonic() + 30 * boottest.SCALE
    while True:
        regs = mon.cmd('info registers')
        if re.search(r'EIP=000003(2[01]|22)', regs):
            break
        expect(time.monotonic() < deadline, 'not in the halt loop', regs)
        time.sleep(0.2)
    expect('EAX=12345678' in regs and 'EBX=cafef00d' in regs,
           'info registers: EAX/EBX not the guest\'s', regs)
    xp = mon.xp_bytes(0xffff0, 5)
    expect(xp == bytes([0xea, 0x00, 0x01, 0x00, 0xf0]),
           'xp /5xb 0xffff0: not the reset vector', repr(xp))
    if qemu:
        return
    dis = mon.cmd('x/3i 0x%x' % MARKER)
    lines = [ln for ln in dis.split('\n') if ln.strip()]
    expect(len(lines) == 3, 'x/3i: three lines', dis)
    expect(re.match(r'0x0*f0300:\s+mov\s+eax, 0x12345678$', lines[0]) and
           re.match(r'0x0*f0306:\s+mov\s+ebx, 0xcafef00d$', lines[1]) and
           re.match(r'0x0*f030c:\s+xor\s+ecx, ecx$', lines[2]),
           'x/3i: the marker code, with addresses and lengths', dis)
    dis = mon.cmd('xp/1i 0x%x' % (MARKER + 6))
    expect(re.search(r'mov\s+ebx, 0xcafef00d', dis), 'xp/1i: physical', dis)
    dis = mon.cmd('x/2i $pc')
    expect(re.search(r'0x0*f032[12]:\s+(jmp|hlt)', dis), 'x/2i $pc', dis)
    for bad, msg in (('x/2i 0xzz', 'invalid address'),
                     ('x/2q 0', 'invalid format'), ('x/i', 'missing'),
                     ('xp/2i 0xfffffffffff0', '')):
        out = mon.cmd(bad)
        expect(msg in out, '%s: an error line' % bad, out)
    out = mon.cmd('info registers')
    expect('EAX=12345678' in out, 'the monitor survives bad input', out)


def check_log(log, qemu):
    expect('IN: ' in log, 'in_asm: no "IN:" block', log[:2000])
    expect(re.search(r'^0x000f0300:  ', log, re.M),
           'in_asm: no line for the marker at 0x000f0300', log[:3000])
    if qemu:
        return
    expect(re.search(r'^0xfffffff0:  ea 00 01 00 f0 +ljmp\s+0xf000:0x100$',
                     log, re.M), 'in_asm: the reset vector disassembled',
           log[:2000])
    expect(re.search(r'^0x000f0300:  66 b8 78 56 34 12 +mov\s+eax, '
                     r'0x12345678$', log, re.M),
           'in_asm: bytes and disassembly of the marker', log)
    ints = re.findall(r'^ *\d+: v=(\w\w) e=(\w{4}) i=(\d) cpl=0 '
                      r'IP=f000:(\w{8}) pc=(\w{8}) SP=0000:\w{8} EAX=\w{8}$',
                      log, re.M)
    expect(ints == [('20', '0000', '1', '00000200', '000f0200'),
                    ('06', '0000', '0', '00000202', '000f0202'),
                    ('00', '0000', '0', '00000204', '000f0204')],
           'int: INT 20h, #UD, #DE with their CS:IP (saw %r)' % ints, log)
    expect(re.search(r'^EIP=0000fff0 EFL=00000002 ', log, re.M),
           'cpu: the state before the first block', log[:2000])
    # A state dump follows each interrupt line.
    m = re.search(r'v=06 .*\nEAX=00000001 ', log)
    expect(m, 'int: the state after the #UD line', log)
    expect(log.count('\nCR0=') >= 10, 'cpu: a dump per block', log[:2000])


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    rom = os.path.abspath(sys.argv[2])
    qemu = 'qemu' in os.path.basename(exe)
    tmp = tempfile.mkdtemp(prefix='debug-aids-')
    log_path = os.path.join(tmp, 'trace.log')
    sock = os.path.join(tmp, 'mon.sock')
    argv = [exe, '-bios', rom, '-m', '16', '-display', 'none',
            '-serial', 'stdio', '-monitor',
            'unix:%s,server=on,wait=off' % sock,
            '-d', 'in_asm,int,cpu', '-D', log_path]
    if qemu:
        argv += ['-accel', 'tcg']
    emu = boottest.Emulator(argv)
    try:
        emu.wait_for('DEBUG-AIDS READY', 60)
        mon = boottest.Monitor(sock)
        check_monitor(mon, qemu)
        mon.sock.sendall(b'quit\n')
        emu.wait_exit(30)
        with open(log_path, errors='replace') as f:
            log = f.read()
        check_log(log, qemu)
    except boottest.BootError as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        emu.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print('ok: monitor info registers, x/i, xp; -d in_asm,int,cpu log')
    return 0


if __name__ == '__main__':
    sys.exit(main())
