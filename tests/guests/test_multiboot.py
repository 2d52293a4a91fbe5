#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""-kernel with Multiboot (version 1) kernels.

1. tests/guests/asm/mbtest.asm, built twice (a flat image whose header
   carries its load addresses, and an ELF32 file whose header does not),
   boots with -append and two modules (-initrd "MOD1 arg1 a,,b,MOD2") and
   prints what it was given on the serial port.  The test checks it
   against the Multiboot Specification 0.6.96 and the files: the magic,
   the flags, the command line ("KERNEL APPEND", as QEMU builds it), each
   module's size, first bytes, page alignment and string (",," is a
   comma), a zeroed bss, a memory map from the BIOS whose usable RAM at
   1 MiB agrees with mem_upper.
2. grub-invaders (Debian's package: a Multiboot game kernel) draws its
   invaders on the VGA text screen, read through the monitor.

Run with qemu-system-i386 as the oracle: the same checks pass there.

usage: test_multiboot.py EMULATOR AOUT_KERNEL ELF_KERNEL
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def boot_mbtest(exe, kernel, mods, tmp):
    initrd = '%s arg1 a,,b,%s' % (mods[0], mods[1])
    argv = [exe, '-display', 'none', '-serial', 'stdio', '-m', '64',
            '-net', 'none', '-monitor', 'none', '-kernel', kernel,
            '-append', 'hello world', '-initrd', initrd]
    emu = boottest.Emulator(argv)
    try:
        emu.wait_for(re.compile(r'MB-DONE|BSS-NOT-ZERO|MOD-UNALIGNED'), 120)
        out = emu.buf.replace('\r', '')
    finally:
        emu.close()
    check('BSS-NOT-ZERO' not in out, 'the bss was not zeroed')
    check('MOD-UNALIGNED' not in out, 'a module is not page-aligned')
    m = re.search(r'EAX ([0-9A-F]{8}) FLAGS ([0-9A-F]{8})', out)
    check(m and m.group(1) == '2BADB002', 'EAX: %s' % (m and m.group(1)))
    flags = int(m.group(2), 16)
    for bit, what in ((0, 'memory'), (2, 'command line'), (3, 'modules'),
                      (6, 'memory map')):
        check(flags >> bit & 1, 'flag %d (%s) missing: %x' % (bit, what,
                                                             flags))
    cmd = re.search(r'CMDLINE (.*)\n', out).group(1)
    check(cmd == kernel + ' hello world', 'cmdline %r' % cmd)
    check(re.search(r'MODS 00000002\n', out), 'not two modules')
    mods_seen = re.findall(r'MOD ([0-9A-F]{8}) ([0-9A-F]{16}) (.*)\n', out)
    want = [(mods[0], mods[0] + ' arg1 a,b'), (mods[1], mods[1])]
    for (size, head, string), (path, wstr) in zip(mods_seen, want):
        data = open(path, 'rb').read()
        check(int(size, 16) == len(data), '%s: size %s' % (path, size))
        lo = int(head[:8], 16).to_bytes(4, 'little')
        hi = int(head[8:], 16).to_bytes(4, 'little')
        check(lo + hi == data[:8], '%s: first bytes %s' % (path, head))
        check(string == wstr, 'module string %r' % string)
    mem = re.search(r'MEM ([0-9A-F]{8}) ([0-9A-F]{8})', out)
    upper = int(mem.group(2), 16)
    maps = [(int(b, 16), int(n, 16), int(t, 16)) for b, n, t in
            re.findall(r'MMAP ([0-9A-F]{16}) ([0-9A-F]{16}) ([0-9A-F]{8})',
                       out)]
    check((0, 0x9fc00, 1) in maps or any(b == 0 and t == 1
                                         for b, n, t in maps),
          'no usable RAM at 0 in %r' % maps)
    at1m = [n for b, n, t in maps if b == 0x100000 and t == 1]
    check(at1m and at1m[0] // 1024 == upper,
          'mem_upper %d KiB vs the map %r' % (upper, maps))
    print('ok: %s: %d modules, %d map entries, mem_upper %d KiB' %
          (os.path.basename(kernel), len(mods_seen), len(maps), upper))


def invaders(exe, tmp):
    fetch = os.path.join(SRC, 'scripts', 'guests', 'fetch-deb.sh')
    p = subprocess.run(['sh', fetch, 'grub-invaders', './boot/invaders.exec'],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise Fail('could not fetch grub-invaders: ' + p.stderr[-500:])
    kernel = p.stdout.strip().split('\n')[-1]
    sock = os.path.join(tmp, 'mon.sock')
    emu = boottest.Emulator([exe, '-display', 'none', '-serial', 'none',
                             '-m', '32', '-net', 'none', '-kernel', kernel,
                             '-monitor', 'unix:%s,server=on,wait=off' %
                             sock])
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        emu_mon = boottest.Monitor(sock)
        line = emu_mon.wait_screen(r'(-\*-.*){4}', 120)
        print('ok: grub-invaders: %s' % line.replace('\0', ' ').strip())
        emu_mon.close()
    finally:
        emu.close()


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='multiboot-')
    try:
        mod1 = os.path.join(tmp, 'mod1')
        mod2 = os.path.join(tmp, 'mod2')
        with open(mod1, 'wb') as f:
            f.write(b'module one data')
        with open(mod2, 'wb') as f:
            f.write(bytes((i * 7 + 3) & 0xff for i in range(10000)))
        for k in sys.argv[2:4]:
            kernel = os.path.join(tmp, os.path.basename(k))
            shutil.copy(k, kernel)
            boot_mbtest(exe, kernel, (mod1, mod2), tmp)
        invaders(exe, tmp)
    except (Fail, boottest.BootError, AttributeError) as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
