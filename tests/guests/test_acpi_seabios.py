#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Acceptance test: SeaBIOS (Debian's bios-256k.bin) finds the PIIX4
power-management function and builds ACPI tables for it (Mimic offers no
fw_cfg etc/table-loader, so SeaBIOS's own acpi_setup() runs).

`EMU -nographic -serial null -m 64 -net none -monitor unix:SOCK` with the SeaBIOS debug
log (port 0x402) on stderr (MIMIC_DEBUG_BIOS=1; with QEMU the test adds
-chardev/-device isa-debugcon).  Checks:
- the debug log says SeaBIOS initialised 00:01.3 8086:7113 and uses the PM
  timer at some port P;
- memory: the RSDP (found on a 16-byte boundary in 0xe0000-0xfffff, with
  a valid checksum) leads to an RSDT with a valid checksum that lists a
  FACP whose PM_TMR_BLK is P, whose PM1a_CNT_BLK is PM1a_EVT_BLK + 4,
  whose SCI is IRQ 9 and which has a DSDT;
- `info ioports` shows that the emulator decodes PM1a_EVT_BLK..+63 as the
  PIIX4 PM block (Mimic only; QEMU's HMP prints another format);
- `system_powerdown` while SeaBIOS (not an ACPI OS) runs changes nothing.

usage: test_acpi_seabios.py EMULATOR   (Mimic; qemu-system-i386 works too)
"""
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402


def checksum_ok(data):
    return sum(data) & 0xff == 0


def find_rsdp(mon):
    """Scan the BIOS area for "RSD PTR " (SeaBIOS puts it in the f-seg)."""
    for base in range(0xe0000, 0x100000, 0x1000):
        block = mon.xp_bytes(base, 0x1000)
        for off in range(0, len(block) - 20, 16):
            if block[off:off + 8] == b'RSD PTR ' and checksum_ok(
                    block[off:off + 20]):
                return base + off, block[off:off + 20]
    raise boottest.BootError('no RSDP with a valid checksum in '
                             '0xe0000-0xfffff')


def read_table(mon, addr, sig):
    head = mon.xp_bytes(addr, 36)
    if head[:4] != sig:
        raise boottest.BootError('table at 0x%x is %r, not %r' %
                                 (addr, head[:4], sig))
    length = struct.unpack_from('<I', head, 4)[0]
    if length < 36 or length > 0x10000:
        raise boottest.BootError('%r at 0x%x has length %d' %
                                 (sig, addr, length))
    data = mon.xp_bytes(addr, length)
    if not checksum_ok(data):
        raise boottest.BootError('%r at 0x%x: bad checksum' % (sig, addr))
    return data


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix='acpi-seabios-')
    sock = os.path.join(tmp, 'mon.sock')
    is_qemu = 'qemu' in os.path.basename(exe)
    # The serial console (SeaBIOS mirrors its screen there) goes to null so
    # that stdout holds only the debug log.
    argv = [exe, '-nographic', '-serial', 'null', '-m', '64', '-net', 'none',
            '-monitor', 'unix:%s,server=on,wait=off' % sock]
    if is_qemu:
        # QEMU's pc offers etc/table-loader; this test is about SeaBIOS's
        # own tables, so only the log part is meaningful there.
        argv += ['-chardev', 'stdio,id=dbg', '-device',
                 'isa-debugcon,chardev=dbg,iobase=0x402']
    os.environ['MIMIC_DEBUG_BIOS'] = '1'
    emu = boottest.Emulator(argv, os.path.join(tmp, 'stdout.log'))
    try:
        emu.wait_for('init bdf=00:01.3 id=8086:7113', 60)
        m = emu.wait_for(re.compile(r'Using pmtimer, ioport 0x([0-9a-f]+)'),
                         60)
        pmtmr = int(m.group(1), 16)
        emu.wait_for('enter handle_18', 60)  # boot failed: tables final
        mon = boottest.Monitor(sock)
        rsdp_addr, rsdp = find_rsdp(mon)
        rsdt_addr = struct.unpack_from('<I', rsdp, 16)[0]
        rsdt = read_table(mon, rsdt_addr, b'RSDT')
        entries = struct.unpack_from('<%dI' % ((len(rsdt) - 36) // 4),
                                     rsdt, 36)
        facp = None
        for e in entries:
            if mon.xp_bytes(e, 4) == b'FACP':
                facp = read_table(mon, e, b'FACP')
        if facp is None:
            raise boottest.BootError('RSDT at 0x%x lists no FACP (%s)' %
                                     (rsdt_addr, ' '.join('%x' % e
                                                          for e in entries)))
        dsdt, = struct.unpack_from('<I', facp, 40)
        sci, = struct.unpack_from('<H', facp, 46)
        evt, _, cnt, _, _, tmr, gpe0 = struct.unpack_from('<7I', facp, 56)
        tmr_len = facp[91]
        flags, = struct.unpack_from('<I', facp, 112)
        print('FADT: SCI %d PM1a_EVT 0x%x PM1a_CNT 0x%x PM_TMR 0x%x '
              '(%d bytes, %s-bit) GPE0 0x%x DSDT 0x%x' %
              (sci, evt, cnt, tmr, tmr_len,
               32 if flags & (1 << 8) else 24, gpe0, dsdt))
        if tmr != pmtmr:
            raise boottest.BootError('FADT PM_TMR_BLK 0x%x, but SeaBIOS '
                                     'uses 0x%x' % (tmr, pmtmr))
        if cnt != evt + 4 or sci != 9 or not dsdt:
            raise boottest.BootError('unexpected FADT contents')
        read_table(mon, dsdt, b'DSDT')
        if not is_qemu:
            ports = mon.cmd('info ioports')
            want = '%04x-%04x: piix4-pm' % (evt, evt + 63)
            if want not in ports:
                raise boottest.BootError('PM1a block not decoded: no %r in\n'
                                         '%s' % (want, ports))
        # No ACPI OS listens: the power button must leave the machine up.
        mon.cmd('system_powerdown')
        time.sleep(1)
        if emu.proc.poll() is not None:
            raise boottest.BootError('system_powerdown without an ACPI OS '
                                     'ended the emulator')
        mon.sock.sendall(b'quit\n')  # no prompt follows
        rc = emu.wait_exit(30)
        mon.close()
        if rc != 0:
            raise boottest.BootError('quit: exit status %d' % rc)
    except (boottest.BootError, subprocess.SubprocessError) as e:
        print('FAIL: %s\n(files kept in %s)' % (e, tmp))
        return 1
    finally:
        emu.close()
    print('ok: SeaBIOS built a FADT for the PIIX4 PM block at 0x%x' % evt)
    return 0


if __name__ == '__main__':
    sys.exit(main())
