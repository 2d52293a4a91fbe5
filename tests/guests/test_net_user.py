#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""User-mode networking with the e1000, end to end, with Debian's i686
Linux (its e1000 driver loaded by the test initramfs) and busybox:

1. udhcpc gets 10.0.2.15 from libslirp's DHCP server through the NIC;
2. the guest wgets a random file from an HTTP server this test runs on
   the host's loopback, reached as 10.0.2.2; sha256 equal;
3. with hostfwd=tcp:127.0.0.1:PORT-:8080, the host fetches from a busybox
   httpd in the guest a known reply and the guest's own busybox binary
   (a large TCP transfer out of the guest: checksum and segmentation
   offloads of the e1000's transmit path); sha256 equal to the host's copy;
4. a second e1000 (eth1, MAC 52:54:00:12:34:57, sharing IRQ 11) on a
   restrict=on back end with net=10.0.3.0/24: DHCP works there, but the
   host's server is out of reach through it (10.0.3.2), while it stays
   reachable through eth0;
5. the other cards in the same boot, each on its own user back end with
   a hostfwd, driven by Debian's drivers (8139cp, ne2k-pci, virtio_net
   over virtio-pci modern, ne with io=0x300 irq=5, and 8139too on a
   second rtl8139 with revision=0x10, an RTL8139C): each card's driver
   is checked in sysfs; one at a time, the
   others down, udhcpc gets 10.0.2.15, a wget from the host's server is
   sha256 equal, the host reaches the guest httpd through the card's
   hostfwd; a filter-dump pcap of the virtio-net back end is parsed and
   holds the DHCP exchange (DISCOVER, OFFER of 10.0.2.15, REQUEST, ACK);
   virtio-net's driver took the offloads (checksums both ways, TSO,
   receive coalescing over mergeable buffers, event index), received
   merged frames, and the guest's busybox leaves through it sha256 equal;
6. set_link e1000.0 off/on in the monitor: the driver reports the link
   down, then up;
7. save and resume (every card's state): `migrate file:` with the link
   up, a new Mimic with -incoming, and the resumed guest fetches the file
   again and still answers through hostfwd.

usage: test_net_user.py MIMIC"""
import hashlib
import os
import re
import socket
import struct
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402


# The other cards: model, MAC, extra -device properties, the Linux
# driver that must take it, driver set-up typed in the guest.
CARDS = [('rtl8139', '52:54:00:00:01:01', '', '8139cp', None),
         ('ne2k_pci', '52:54:00:00:01:02', '', 'ne2k-pci', None),
         ('virtio-net-pci', '52:54:00:00:01:03', '', 'virtio_net', None),
         ('ne2k_isa', '52:54:00:00:01:04', ',iobase=0x300,irq=5', 'ne',
          'insmod /lib/modules/ne.ko io=0x300 irq=5'),
         # An RTL8139C (revision 0x10): 8139cp leaves it to 8139too, the
         # classic ring-buffer path.
         ('rtl8139', '52:54:00:00:01:05', ',revision=0x10', '8139too',
          None)]


def dhcp_in_pcap(path):
    """The DHCP message types (option 53) in a pcap file, in order, and
    the addresses offered; checks the file's own header first."""
    with open(path, 'rb') as f:
        data = f.read()
    magic, vmaj, vmin, _, _, snap, link = struct.unpack('<IHHiIII',
                                                        data[:24])
    if magic != 0xa1b2c3d4 or (vmaj, vmin) != (2, 4) or link != 1:
        raise ValueError('not a pcap file of Ethernet frames: %r' %
                         data[:24])
    types, offered, pos = [], [], 24
    while pos + 16 <= len(data):
        _, _, incl, orig = struct.unpack('<IIII', data[pos:pos + 16])
        frame = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        if len(frame) < 14 + 20 + 8 + 240 or frame[12:14] != b'\x08\x00':
            continue
        ihl = (frame[14] & 15) * 4
        if frame[23] != 17:
            continue
        udp = 14 + ihl
        sport, dport = struct.unpack('>HH', frame[udp:udp + 4])
        if {sport, dport} != {67, 68}:
            continue
        bootp = frame[udp + 8:]
        if bootp[236:240] != b'\x63\x82\x53\x63':
            continue
        opts = bootp[240:]
        i = 0
        while i + 1 < len(opts) and opts[i] != 255:
            if opts[i] == 0:
                i += 1
                continue
            if opts[i] == 53:
                types.append(opts[i + 2])
                if opts[i + 2] == 2:
                    offered.append(socket.inet_ntoa(bootp[16:20]))
            i += 2 + opts[i + 1]
    return types, offered


# The virtio-net features the driver must have taken (bit numbers of
# the virtio 1.0 spec): CSUM, GUEST_CSUM, MAC, GUEST_TSO4, HOST_TSO4,
# MRG_RXBUF, STATUS, RING_EVENT_IDX, VERSION_1.
VIRTIO_FEATURES = (0, 1, 5, 7, 11, 15, 16, 29, 32)


def virtio_fast_path(e, ifname, port, want):
    """virtio-net's offloads at work, after the card's download: the
    driver negotiated them; frames received were merged (GUEST_TSO4 over
    mergeable buffers: more than an Ethernet frame's bytes per packet);
    a large transfer out of the guest (TSO frames handed to slirp whole)
    arrives sha256 equal."""
    m = e.command('echo "F=$(cat /sys/class/net/%s/device/features)."'
                  % ifname, re.compile(r'F=([01]+)\.'), 30)
    bits = m.group(1)
    missing = [b for b in VIRTIO_FEATURES if b >= len(bits) or
               bits[b] != '1']
    if missing:
        e.fail('virtio-net: feature bits %r not negotiated (%s)'
               % (missing, bits))
    m = e.command('echo "RX $(cat /sys/class/net/%s/statistics/rx_packets) '
                  '$(cat /sys/class/net/%s/statistics/rx_bytes)."'
                  % (ifname, ifname), re.compile(r'RX (\d+) (\d+)\.'), 30)
    packets, nbytes = int(m.group(1)), int(m.group(2))
    if packets * 1514 >= nbytes:
        e.fail('virtio-net: %d bytes in %d packets: nothing was merged'
               % (nbytes, packets))
    data = urllib.request.urlopen('http://127.0.0.1:%d/bb' % port,
                                  timeout=600).read()
    if hashlib.sha256(data).digest() != hashlib.sha256(want).digest():
        e.fail('virtio-net: the guest busybox arrived different (%d bytes, '
               'want %d)' % (len(data), len(want)))
    print('ok: virtio-net negotiated %s; %d bytes in %d packets received '
          '(merged); %d bytes sent through hostfwd, sha256 equal'
          % (','.join(map(str, VIRTIO_FEATURES)), nbytes, packets,
             len(data)), flush=True)


def main():
    emu_path = boottest.find_emulator(sys.argv[1])
    boottest.ensure_images('kernel')
    cache = boottest.CACHE
    tmp = tempfile.mkdtemp(prefix='mimic-net-')
    blob = os.urandom(1536 * 1024 + 123)
    with open(os.path.join(tmp, 'blob.bin'), 'wb') as f:
        f.write(blob)
    srv = boottest.serve(tmp)
    http_port = srv.server_address[1]
    fwd_port = boottest.free_port()
    small = os.urandom(384 * 1024 + 7)
    with open(os.path.join(tmp, 'small.bin'), 'wb') as f:
        f.write(small)
    card_ports = [boottest.free_port() for _ in CARDS]
    pcap = os.path.join(tmp, 'virtio.pcap')
    cards_argv = []
    for i, (model, mac, props, _, _) in enumerate(CARDS):
        cards_argv += ['-netdev', 'user,id=c%d,hostfwd=tcp:127.0.0.1:%d-:8080'
                       % (i, card_ports[i]),
                       '-device', '%s,netdev=c%d,mac=%s%s' %
                       (model, i, mac, props)]
        if model == 'virtio-net-pci':
            cards_argv += ['-object', 'filter-dump,id=f%d,netdev=c%d,file=%s'
                           % (i, i, pcap)]
    sock = os.path.join(tmp, 'mon.sock')
    argv = [emu_path, '-display', 'none', '-serial', 'stdio', '-m', '256',
            '-monitor', 'unix:%s,server=on,wait=off' % sock,
            '-nic', 'user,model=e1000,hostfwd=tcp:127.0.0.1:%d-:8080' %
            fwd_port,
            '-netdev', 'user,id=r,net=10.0.3.0/24,restrict=on',
            '-device', 'e1000,netdev=r'] + cards_argv + [
            '-kernel', os.path.join(cache, 'vmlinuz'),
            '-initrd', os.path.join(cache, 'initrd.gz'),
            '-append', 'console=ttyS0,115200 ' + boottest.QUICK_APPEND]
    e = boottest.Emulator(argv, os.path.join(tmp, 'serial.log'))
    try:
        boottest.linux_session(e)
        # The other cards' drivers, which init.sh leaves out (ne: below,
        # with its io= and irq=).
        e.command('for m in $(cat /lib/modules/order); do case $m in '
                  'mii.ko|8139*|8390*|ne2k-pci.ko|virtio*|*failover.ko) '
                  'insmod /lib/modules/$m;; esac; done; echo MODS-DONE',
                  'MODS-DONE', 120)
        e.command('ls /sys/class/net', re.compile(r'eth0'), 60)
        e.command('udhcpc -i eth0 -n -q -t 10 -T 2',
                  re.compile(r'lease of 10\.0\.2\.15 obtained'), 120)
        e.command('ifconfig eth0',
                  re.compile(r'inet addr:10\.0\.2\.15\s+Bcast:\S+\s+'
                             r'Mask:255\.255\.255\.0'), 30)
        e.command('ping -c 2 -W 5 10.0.2.2',
                  re.compile(r'2 packets transmitted, 2 (packets )?received'),
                  60)
        print('ok: udhcpc got 10.0.2.15; ping 10.0.2.2 answers', flush=True)
        digest = hashlib.sha256(blob).hexdigest()
        t0 = time.monotonic()
        e.command('wget -q -O /tmp/blob.bin http://10.0.2.2:%d/blob.bin && '
                  'sha256sum /tmp/blob.bin' % http_port,
                  re.compile(digest + r'\s+/tmp/blob\.bin'), 600)
        print('ok: the guest fetched %d bytes from the host, sha256 equal '
              '(%.1f s with the checksum)' % (len(blob), time.monotonic() - t0),
              flush=True)
        e.command('mkdir -p /www && echo mimic-net-$((6*7)) > '
                  '/www/hello.txt && cp /bin/busybox /www/bb && '
                  'httpd -p 8080 -h /www && echo HTTPD-UP', 'HTTPD-UP', 30)
        url = 'http://127.0.0.1:%d/' % fwd_port
        reply = urllib.request.urlopen(url + 'hello.txt', timeout=120).read()
        if reply.strip() != b'mimic-net-42':
            e.fail('hostfwd: unexpected reply %r' % reply)
        print('ok: hostfwd reached the guest httpd: %r' % reply.strip(),
              flush=True)
        t0 = time.monotonic()
        data = urllib.request.urlopen(url + 'bb', timeout=600).read()
        dt = time.monotonic() - t0
        with open(os.path.join(cache, 'root', 'busybox'), 'rb') as f:
            want = want_bb = f.read()
        if hashlib.sha256(data).digest() != hashlib.sha256(want).digest():
            e.fail('hostfwd: the guest busybox arrived different (%d bytes, '
                   'want %d)' % (len(data), len(want)))
        print('ok: %d bytes from the guest through hostfwd, sha256 equal '
              '(%.1f s, %.0f KiB/s)' % (len(data), dt, len(data) / 1024 / dt),
              flush=True)

        # The second card, on a restricted network.
        e.command('cat /sys/class/net/eth1/address',
                  '52:54:00:12:34:57', 30)
        e.command('udhcpc -i eth1 -n -q -t 10 -T 2',
                  re.compile(r'lease of 10\.0\.3\.15 obtained'), 120)
        # Refused (1) or still waiting when timeout kills it (143); not
        # wget -T, which busybox 1.35's wget dies of (SIGSEGV, rc 139,
        # under QEMU too): that would have passed here for any network.
        e.command('timeout 10 wget -q -O /tmp/r.bin '
                  'http://10.0.3.2:%d/blob.bin; echo "restricted rc=$?."'
                  % http_port, re.compile(r'restricted rc=(1|143)\.'), 120)
        e.command('wget -q -O /tmp/r.bin http://10.0.2.2:%d/blob.bin; '
                  'echo "open rc=$?"' % http_port,
                  re.compile(r'open rc=0'), 300)
        print('ok: eth1 on restrict=on got 10.0.3.15 and cannot reach the '
              'host; eth0 still can', flush=True)

        # The other cards, one at a time (all on 10.0.2.15 of their own
        # back end): the others down, DHCP, a download, the hostfwd.
        small_digest = hashlib.sha256(small).hexdigest()
        for i, (model, mac, _, driver, setup) in enumerate(CARDS):
            t0 = time.monotonic()
            if setup:
                e.command(setup + '; echo SETUP-rc=$?', 'SETUP-rc=0', 60)
            out = e.command('IF=$(grep -l %s /sys/class/net/*/address | '
                            'cut -d/ -f5); echo "IF=$IF."' % mac,
                            re.compile(r'IF=(eth\d+)\.'), 30)
            ifname = out.group(1)
            e.command('readlink /sys/class/net/%s/device/driver' % ifname,
                      re.compile(r'/drivers/%s\r?\n' % re.escape(driver)),
                      30)
            e.command('for i in /sys/class/net/eth*; do ifconfig ${i##*/} '
                      'down; done; ifconfig %s up; echo DOWN-DONE' % ifname,
                      'DOWN-DONE', 30)
            e.command('udhcpc -i %s -n -q -t 10 -T 2' % ifname,
                      re.compile(r'lease of 10\.0\.2\.15 obtained'), 120)
            e.command('rm -f /tmp/s.bin; wget -q -O /tmp/s.bin '
                      'http://10.0.2.2:%d/small.bin && sha256sum /tmp/s.bin'
                      % http_port,
                      re.compile(small_digest + r'\s+/tmp/s\.bin'), 300)
            reply = urllib.request.urlopen(
                'http://127.0.0.1:%d/hello.txt' % card_ports[i],
                timeout=120).read()
            if reply.strip() != b'mimic-net-42':
                e.fail('%s: hostfwd: unexpected reply %r' % (model, reply))
            if model == 'virtio-net-pci':
                virtio_fast_path(e, ifname, card_ports[i], want_bb)
            print('ok: %s (%s, %s): DHCP 10.0.2.15, %d bytes fetched with '
                  'sha256 equal, hostfwd reached the guest httpd (%.1f s)' %
                  (model, driver, ifname, len(small), time.monotonic() - t0),
                  flush=True)
        types, offered = dhcp_in_pcap(pcap)
        if not {1, 2, 3, 5} <= set(types) or '10.0.2.15' not in offered:
            e.fail('filter-dump: the pcap has DHCP types %r, offers %r'
                   % (types, offered))
        print('ok: the filter-dump pcap holds the DHCP exchange (types %r, '
              'offered %s)' % (types, offered), flush=True)
        e.command('for i in /sys/class/net/eth*; do ifconfig ${i##*/} '
                  'down; done; ifconfig eth0 up; echo DOWN-DONE',
                  'DOWN-DONE', 30)
        e.command('udhcpc -i eth0 -n -q -t 10 -T 2',
                  re.compile(r'lease of 10\.0\.2\.15 obtained'), 120)

        # set_link: the driver sees the cable go and come back.
        mon = boottest.Monitor(sock)
        reply = mon.cmd('set_link e1000.0 off')
        if reply.strip():
            e.fail('set_link said %r' % reply)
        e.wait_for(re.compile(r'e1000: eth0 NIC Link is Down'), 60)
        e.command('cat /sys/class/net/eth0/carrier', re.compile(r'\n0\r?\n'),
                  30)
        mon.cmd('set_link e1000.0 on')
        e.wait_for(re.compile(r'e1000: eth0 NIC Link is Up'), 60)
        e.command('cat /sys/class/net/eth0/carrier', re.compile(r'\n1\r?\n'),
                  30)
        print('ok: set_link off/on: the guest saw the link go down and up',
              flush=True)

        # Save with the link up, resume in a new process.
        state = os.path.join(tmp, 'state.mimic')
        reply = mon.cmd('migrate file:%s' % state)
        if reply.strip():
            e.fail('migrate said %r' % reply)
        mon.sock.sendall(b'quit\n')
        e.wait_exit(60)
        e.close()
        os.unlink(sock)
        e = boottest.Emulator(argv + ['-incoming', 'file:' + state],
                              os.path.join(tmp, 'serial2.log'))
        # A newline typed while the state is still loading may be lost
        # (seen once in CI: no prompt in 60 s); type it again until the
        # shell answers, and say so when it took more than one.
        for attempt in range(12):
            e.send('\n')
            try:
                e.wait_for(boottest.PROMPT, 10)
                break
            except boottest.BootError:
                if attempt == 11:
                    raise
                print('note: no prompt 10 s after resuming; newline again',
                      flush=True)
        e.command('rm /tmp/blob.bin; wget -q -O /tmp/blob.bin '
                  'http://10.0.2.2:%d/blob.bin && sha256sum /tmp/blob.bin'
                  % http_port, re.compile(digest + r'\s+/tmp/blob\.bin'),
                  600)
        reply = urllib.request.urlopen(url + 'hello.txt', timeout=120).read()
        if reply.strip() != b'mimic-net-42':
            e.fail('hostfwd after resume: unexpected reply %r' % reply)
        print('ok: resumed from migrate file:, the guest fetched the file '
              'again and answered through hostfwd', flush=True)
        # Known issue (docs/design.md, Network): poweroff -f right after a
        # resume has hung in the kernel's device shutdown about once in
        # six runs; the network checks above are this test's business, so
        # a hang here is reported with the CPU state, and the machine quit.
        e.send('poweroff -f\n')
        try:
            rc = e.wait_exit(60)
        except boottest.BootError:
            mon = boottest.Monitor(sock)
            print('KNOWN ISSUE: poweroff -f after resume did not finish; CPU:'
                  '\n' + mon.cmd('info registers'), flush=True)
            mon.sock.sendall(b'quit\n')
            rc = e.wait_exit(30)
        if rc != 0:
            e.fail('the resumed machine ended with status %r' % rc)
    except boottest.BootError as err:
        print('FAIL: %s' % err, flush=True)
        return 1
    finally:
        e.close()
        srv.shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
