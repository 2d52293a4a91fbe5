#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""State benchmark: a 256 MB guest (bench/fill.asm: 64 MiB of
half-compressible data, the rest zero) saved with `migrate` and restored
with `-incoming`, under Mimic and under qemu-system-i386 in the same run.
Prints the ratios Mimic/QEMU of save time, restore time (process start
to running) and file size (times are wall-clock on a shared machine: only
the ratio means much).  Both use QEMU 7.2's `exec:` URIs; Mimic's `file:`
(with fsync) is shown too.

usage: bench/state.py MIMIC [QEMU] [--runs N]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'guests'))
os.environ.setdefault('MIMIC_SOURCE_ROOT', TOP)
import boottest  # noqa: E402


def start(exe, disk, sock, serial, extra):
    if os.path.exists(sock):
        os.unlink(sock)
    argv = [exe, '-drive', 'file=%s,format=raw' % disk, '-m', '256',
            '-display', 'none', '-serial', 'file:' + serial,
            '-monitor', 'unix:%s,server=on,wait=off' % sock] + extra
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL)
    return proc, boottest.Monitor(sock)


def wait_file(path, text, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and text in open(path, 'rb').read():
            return
        time.sleep(0.05)
    raise boottest.BootError('no %r in %s' % (text, path))


def stop(proc, mon):
    """quit through the monitor; QEMU may ignore a quit whose socket is
    closed at once, so wait a little and then end it."""
    try:
        mon.sock.sendall(b'quit\n')
        proc.wait(5)
    except Exception:
        proc.terminate()
        proc.wait(30)
    mon.close()


def one(exe, tmp, disk, uri_out, uri_in, path, restore=True):
    sock = os.path.join(tmp, 'mon')
    serial = os.path.join(tmp, 'serial')
    if os.path.exists(serial):
        os.unlink(serial)
    proc, mon = start(exe, disk, sock, serial, [])
    try:
        wait_file(serial, b'R\n')
        t0 = time.monotonic()
        out = mon.cmd('migrate ' + uri_out)
        while 'completed' not in mon.cmd('info migrate') and \
                'postmigrate' not in mon.cmd('info status'):
            time.sleep(0.01)
        save = time.monotonic() - t0
        if out.strip():
            raise boottest.BootError('migrate said %r' % out)
    finally:
        stop(proc, mon)
    size = os.path.getsize(path)
    if not restore:
        return save, float('nan'), size
    t0 = time.monotonic()
    proc, mon = start(exe, disk, sock, serial, ['-incoming', uri_in])
    try:
        while 'running' not in mon.cmd('info status'):
            time.sleep(0.005)
        restore = time.monotonic() - t0
    finally:
        stop(proc, mon)
    return save, restore, size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('mimic')
    ap.add_argument('qemu', nargs='?', default='qemu-system-i386')
    ap.add_argument('--runs', type=int, default=3)
    args = ap.parse_args()
    qemu = shutil.which(args.qemu) or args.qemu
    mimic = os.path.abspath(args.mimic)
    tmp = tempfile.mkdtemp(prefix='bench-state-')
    try:
        boot = os.path.join(tmp, 'fill.bin')
        subprocess.run(['nasm', '-f', 'bin', '-o', boot,
                        os.path.join(TOP, 'bench', 'fill.asm')], check=True)
        disk = os.path.join(tmp, 'disk.img')
        with open(disk, 'wb') as f:
            f.write(open(boot, 'rb').read())
            f.truncate(1 << 20)
        path = os.path.join(tmp, 'vm.state')
        ex_out, ex_in = '"exec:cat > %s"' % path, 'exec:cat %s' % path
        res = {'mimic': [], 'mimic-file': [], 'qemu': []}
        for _ in range(args.runs):
            if os.access(qemu, os.X_OK):
                res['qemu'].append(one(qemu, tmp, disk, ex_out, ex_in, path))
            res['mimic'].append(one(mimic, tmp, disk, ex_out, ex_in, path))
            res['mimic-file'].append(one(mimic, tmp, disk, 'file:' + path,
                                         'file:' + path, path))
    except boottest.BootError as e:
        print('bench/state: %s; no ratio' % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: [statistics.median(x[i] for x in v) for i in range(3)]
           for k, v in res.items() if v}
    for k, (s, r, z) in med.items():
        print('%-11s save %.3f s, restore %.3f s, file %.1f MiB' %
              (k, s, r, z / 2**20))
    if 'qemu' in med:
        q = med['qemu']
        for k in ('mimic', 'mimic-file'):
            m = med[k]
            print('%s/QEMU: save time %.2fx, restore time %.2fx, size %.2fx '
                  '(median of %d)' % (k, m[0] / q[0], m[1] / q[1],
                                      m[2] / q[2], args.runs))
    else:
        print('bench/state: %s not found; no ratio' % args.qemu)
    return 0


if __name__ == '__main__':
    sys.exit(main())
