#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Network benchmark: Debian's i686 Linux (the test kernel and initramfs)
with one NIC on user networking (slirp), under Mimic and under
qemu-system-i386 (TCG) in the same run, same guest, same NIC model:

- download: the guest wgets a file of --size MiB from an HTTP server this
  script runs on the host's loopback (10.0.2.2 in the guest) to
  /dev/null, timed inside the guest (/proc/uptime around the wget);
- upload: the guest serves a file of --size MiB (made with dd in its
  tmpfs) with busybox httpd; the host fetches it through
  hostfwd=tcp:127.0.0.1:PORT-:8080, timed on the host from the request
  to the last byte, and checks its length.

Prints the throughput ratio Mimic/QEMU per model and direction (above 1:
Mimic is faster); MB/s are shown only beside it (on a shared machine a
rate alone says nothing), and so is the CPU time the emulator process
(all its threads) used for the transfer, which a loaded machine disturbs
less than the wall time.  Runs are interleaved (--runs N, median).

usage: bench/net.py MIMIC [QEMU] [--models e1000,virtio-net-pci]
                    [--size MiB] [--runs N] [--timeout S]
"""
import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'guests'))
os.environ.setdefault('MIMIC_SOURCE_ROOT', TOP)
import boottest  # noqa: E402

# The NIC drivers that init.sh leaves to the network test (e1000 is
# always loaded); kernel messages off the console first, so that none
# lands inside the line with the times.
MODULES = ('dmesg -n 1; for m in $(cat /lib/modules/order); do case $m in '
           'mii.ko|8139*|8390*|ne2k-pci.ko|virtio*|*failover.ko) '
           'insmod /lib/modules/$m;; esac; done; echo MODS-DONE')


def cpu_seconds(pid):
    """utime + stime of the whole process (every thread), in seconds."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def measure(exe, extra, model, http_port, size, timeout, log):
    """Boot, bring eth0 up, time both directions; return (down_s, up_s,
    down_cpu_s, up_cpu_s)."""
    fwd = boottest.free_port()
    argv = [exe] + extra + [
        '-display', 'none', '-serial', 'stdio', '-monitor', 'none',
        '-m', '384',
        '-netdev', 'user,id=n0,hostfwd=tcp:127.0.0.1:%d-:8080' % fwd,
        '-device', '%s,netdev=n0' % model,
        '-kernel', os.path.join(boottest.CACHE, 'vmlinuz'),
        '-initrd', os.path.join(boottest.CACHE, 'initrd.gz'),
        '-append', 'console=ttyS0,115200']
    e = boottest.Emulator(argv, log)
    try:
        boottest.linux_session(e, timeout)
        e.command(MODULES, 'MODS-DONE', 120)
        e.command('udhcpc -i eth0 -n -q -t 10 -T 2',
                  re.compile(r'lease of 10\.0\.2\.15 obtained'), 120)
        # Download, timed in the guest.
        c0 = cpu_seconds(e.proc.pid)
        m = e.command('a=$(cut -d" " -f1 /proc/uptime); wget -q -O /dev/null '
                      'http://10.0.2.2:%d/blob.bin; r=$?; '
                      'b=$(cut -d" " -f1 /proc/uptime); '
                      'echo "DL rc=$r $a $b END"' % http_port,
                      # END: the line may still be arriving when matched
                      re.compile(r'DL rc=(\d+) ([\d.]+) ([\d.]+) END'),
                      timeout)
        down_cpu = cpu_seconds(e.proc.pid) - c0
        if m.group(1) != '0':
            e.fail('%s: the guest wget failed (rc %s)' % (model, m.group(1)))
        down = float(m.group(3)) - float(m.group(2))
        if down <= 0:
            e.fail('%s: the guest timed the download at %.2f s'
                   % (model, down))
        # Upload: the host reads a file from the guest's httpd.
        e.command('mkdir -p /www && dd if=/dev/zero of=/www/up.bin bs=1M '
                  'count=%d 2>/dev/null && httpd -p 8080 -h /www && '
                  'echo HTTPD-UP' % size, 'HTTPD-UP', 120)
        t0 = time.monotonic()
        c0 = cpu_seconds(e.proc.pid)
        n = 0
        with urllib.request.urlopen('http://127.0.0.1:%d/up.bin' % fwd,
                                    timeout=timeout) as r:
            while True:
                chunk = r.read(1 << 20)
                if not chunk:
                    break
                n += len(chunk)
        up = time.monotonic() - t0
        up_cpu = cpu_seconds(e.proc.pid) - c0
        if n != size << 20:
            e.fail('%s: the upload gave %d bytes, want %d'
                   % (model, n, size << 20))
        return down, up, down_cpu, up_cpu
    finally:
        e.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('mimic')
    ap.add_argument('qemu', nargs='?', default='qemu-system-i386')
    ap.add_argument('--models', default='e1000,virtio-net-pci')
    ap.add_argument('--size', type=int, default=64, help='MiB')
    ap.add_argument('--runs', type=int, default=1)
    ap.add_argument('--timeout', type=float, default=900)
    args = ap.parse_args()
    qemu = shutil.which(args.qemu) or args.qemu
    if not os.access(qemu, os.X_OK):
        print('bench/net: %s not found; no ratio' % args.qemu)
        return 1
    mimic = (os.path.abspath(args.mimic) if os.sep in args.mimic
             else shutil.which(args.mimic) or args.mimic)
    boottest.ensure_images('kernel')
    tmp = tempfile.mkdtemp(prefix='mimic-bench-net-')
    with open(os.path.join(tmp, 'blob.bin'), 'wb') as f:
        for _ in range(args.size):
            f.write(os.urandom(1 << 20))
    srv = boottest.serve(tmp)
    mb = args.size * 1048576 / 1e6
    status = 0
    try:
        for model in args.models.split(','):
            res = {'mimic': [], 'qemu': []}
            for i in range(args.runs):
                for name, exe, extra in (('qemu', qemu, ['-accel', 'tcg']),
                                         ('mimic', mimic, [])):
                    log = os.path.join(tmp, '%s-%s-%d.log' % (name, model, i))
                    res[name].append(measure(exe, extra, model,
                                             srv.server_address[1],
                                             args.size, args.timeout, log))
            for d, what in ((0, 'download (host HTTP -> guest wget)'),
                            (1, 'upload (guest httpd -> host, hostfwd)')):
                m = mb / statistics.median(r[d] for r in res['mimic'])
                q = mb / statistics.median(r[d] for r in res['qemu'])
                mc = statistics.median(r[d + 2] for r in res['mimic'])
                qc = statistics.median(r[d + 2] for r in res['qemu'])
                print('net %s %s, %d MiB: Mimic/QEMU-TCG throughput = %.2fx '
                      '(Mimic %.1f MB/s, QEMU %.1f MB/s; CPU Mimic %.2f s, '
                      'QEMU %.2f s; median of %d)'
                      % (model, what, args.size, m / q, m, q, mc, qc,
                         args.runs), flush=True)
    except boottest.BootError as e:
        print('bench/net: a run failed; no ratio\n%s' % e)
        status = 1
    finally:
        srv.shutdown()
        if status == 0 and not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("bench/net: logs in %s" % tmp)
    return status


if __name__ == '__main__':
    sys.exit(main())
