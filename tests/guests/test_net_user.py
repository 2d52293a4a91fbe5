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
5. set_link e1000.0 off/on in the monitor: the driver reports the link
   down, then up;
6. save and resume: `migrate file:` with the link up, a new Mimic with
   -incoming, and the resumed guest fetches the file again and still
   answers through hostfwd.

usage: test_net_user.py MIMIC"""
import hashlib
import http.server
import os
import re
import socket
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def serve(directory):
    handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(  # noqa
        *a, directory=directory, **kw)
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def main():
    emu_path = boottest.find_emulator(sys.argv[1])
    boottest.ensure_images('kernel')
    cache = boottest.CACHE
    tmp = tempfile.mkdtemp(prefix='mimic-net-')
    blob = os.urandom(1536 * 1024 + 123)
    with open(os.path.join(tmp, 'blob.bin'), 'wb') as f:
        f.write(blob)
    srv = serve(tmp)
    http_port = srv.server_address[1]
    fwd_port = free_port()
    sock = os.path.join(tmp, 'mon.sock')
    argv = [emu_path, '-display', 'none', '-serial', 'stdio', '-m', '256',
            '-monitor', 'unix:%s,server=on,wait=off' % sock,
            '-nic', 'user,model=e1000,hostfwd=tcp:127.0.0.1:%d-:8080' %
            fwd_port,
            '-netdev', 'user,id=r,net=10.0.3.0/24,restrict=on',
            '-device', 'e1000,netdev=r',
            '-kernel', os.path.join(cache, 'vmlinuz'),
            '-initrd', os.path.join(cache, 'initrd.gz'),
            '-append', 'console=ttyS0,115200']
    e = boottest.Emulator(argv, os.path.join(tmp, 'serial.log'))
    try:
        boottest.linux_session(e)
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
            want = f.read()
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
        e.command('wget -T 10 -q -O /tmp/r.bin http://10.0.3.2:%d/blob.bin; '
                  'echo "restricted rc=$?"' % http_port,
                  re.compile(r'restricted rc=[1-9]'), 120)
        e.command('wget -q -O /tmp/r.bin http://10.0.2.2:%d/blob.bin; '
                  'echo "open rc=$?"' % http_port,
                  re.compile(r'open rc=0'), 300)
        print('ok: eth1 on restrict=on got 10.0.3.15 and cannot reach the '
              'host; eth0 still can', flush=True)

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
