#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Network boot: for the e1000, ne2k_pci, rtl8139 and virtio-net-pci
(iPXE's own drivers for each: intel, ns8390, realtek, virtio-net),
`-boot n` with nothing else
to boot; SeaBIOS runs the card's iPXE option ROM (Debian's ipxe-qemu),
iPXE gets an address and the boot file name from libslirp's DHCP
(`tftp=DIR,bootfile=FILE`), loads the file over slirp's TFTP and runs it:
a 16-bit PXE program made here, which writes a marker to COM1 and halts.

usage: test_netboot.py MIMIC"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

MARKER = b'MIMIC-NETBOOT-OK'
# Real mode at 0000:7C00: ds = 0, print the string at 7C17 to port 3F8,
# then cli; hlt forever.
NBP = (bytes.fromhex('31C08ED8BAF803BE177CAC84C07403EEEBF8FAF4EBFC90') +
       MARKER + b'\r\n\0')
MODELS = ['e1000', 'ne2k_pci', 'rtl8139', 'virtio-net-pci']


def main():
    exe = boottest.find_emulator(sys.argv[1])
    assert NBP.index(MARKER) == 0x17
    failed = 0
    with tempfile.TemporaryDirectory(prefix='mimic-netboot-') as d:
        with open(os.path.join(d, 'boot.nbp'), 'wb') as f:
            f.write(NBP)
        # The four machines run side by side: each spends most of its
        # time waiting (SeaBIOS's menu, iPXE's DHCP), little on the CPU.
        t0 = time.monotonic()
        emus = []
        try:
            for model in MODELS:
                emus.append(boottest.Emulator(
                    [exe, '-display', 'none', '-serial', 'stdio', '-m', '64',
                     '-boot', 'n', '-netdev',
                     'user,id=n0,tftp=%s,bootfile=boot.nbp' % d,
                     '-device', '%s,netdev=n0' % model],
                    os.path.join(d, model + '.log')))
            for model, e in zip(MODELS, emus):
                try:
                    e.wait_for(MARKER.decode(), 180)
                    print('ok: %s: iPXE booted the TFTP file to its marker '
                          '(%.1f s)' % (model, time.monotonic() - t0),
                          flush=True)
                except boottest.BootError as err:
                    print('FAIL: %s: %s' % (model, err), flush=True)
                    failed += 1
        finally:
            for e in emus:
                e.close()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
