#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot-test driver for real guest software (Python 3, stdlib only).

Starts an emulator with a QEMU-style command line (qemu-system-i386 as the
oracle, or Mimic, which takes the same options), reads the guest's serial
console from the emulator's stdio, waits for markers with a timeout, types
commands and checks the answers, and talks to an HMP monitor on a unix
socket (screendump, sendkey, xp).  On a timeout it reports what was seen
(the last 40 lines).  The guest images come from scripts/guests/build.sh,
which is run when the cache lacks them.

usage: boottest.py SCENARIO EMULATOR
  SCENARIO: iso | hdd | hdd-snapshot | kernel | floppy | vga | kernel64 |
  kernel64-noapic | installer64
  (kernel64: Debian's amd64 kernel; EMULATOR is mimic, whose sibling
  mimic-system-x86_64 runs, or qemu-system-x86_64)
Exit status: 0 pass, 1 fail, 77 skip (emulator missing).
"""
import gzip
import hashlib
import http.server
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCROOT = os.environ.get('MIMIC_SOURCE_ROOT',
                         os.path.dirname(os.path.dirname(HERE)))
CACHE = os.environ.get('MIMIC_GUEST_CACHE',
                       os.path.expanduser('~/.cache/mimic/guests'))
# Timeouts only bound a failure; a slow machine may scale them up.
SCALE = float(os.environ.get('MIMIC_TEST_TIMEOUT_SCALE', '1'))
PROMPT = 'guest# '
# Kernel options for boots whose subject is not the CPU: skip the crypto
# self-tests, about 20 s of CPU-bound work in every Linux boot (70 s on a
# loaded host).  The guests-linux scenarios (kernel, iso, hdd, floppy)
# keep them: they are a good CPU test, and linux_session() fails a boot
# whose kernel reported a failed self-test.
QUICK_APPEND = 'cryptomgr.notests'


class BootError(Exception):
    """A guest did not do what a test expected."""


class Emulator:
    """One emulator process whose stdio is the guest's serial port."""

    def __init__(self, argv, log_path=None):
        self.argv = list(argv)
        self.buf = ''
        self.pos = 0            # start of the text not yet consumed
        self.cond = threading.Condition()
        self.eof = False
        self.log = open(log_path, 'w') if log_path else None
        print('+ ' + ' '.join(self.argv), flush=True)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            data = self.proc.stdout.read1(4096) if hasattr(
                self.proc.stdout, 'read1') else self.proc.stdout.read(4096)
            if not data:
                break
            text = data.decode('latin-1')
            if self.log:
                self.log.write(text)
                self.log.flush()
            with self.cond:
                self.buf += text
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def tail(self, lines=40):
        clean = re.sub(r'\x1b\[[0-9;?]*[A-Za-z]|\x1bc', '', self.buf)
        clean = clean.replace('\r', '')
        return '\n'.join(clean.split('\n')[-lines:])

    def fail(self, what):
        raise BootError('%s\n---- last 40 lines seen ----\n%s\n'
                        '---- end ----' % (what, self.tail()))

    def wait_for(self, pattern, timeout):
        """Wait for a regular expression (or plain string) in the output
        after the last match; return the match.  Fails on timeout/exit."""
        rx = re.compile(pattern if isinstance(pattern, re.Pattern)
                        else re.escape(pattern))
        deadline = time.monotonic() + timeout * SCALE
        with self.cond:
            while True:
                m = rx.search(self.buf, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                if self.eof:
                    try:
                        status = self.proc.wait(5)
                    except subprocess.TimeoutExpired:
                        status = 'unknown, output closed'
                    self.fail('emulator exited (status %s) before %r' %
                              (status, rx.pattern))
                left = deadline - time.monotonic()
                if left <= 0:
                    self.fail('timeout after %gs waiting for %r' %
                              (timeout * SCALE, rx.pattern))
                self.cond.wait(min(left, 1.0))

    def send(self, text):
        try:
            self.proc.stdin.write(text.encode('latin-1'))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.fail('emulator closed its input while sending %r' % text)

    def command(self, cmd, expect, timeout=30):
        """Type a shell command, wait for its answer and the next prompt."""
        self.send(cmd + '\n')
        m = self.wait_for(expect, timeout)
        self.wait_for(PROMPT, timeout)
        return m

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout * SCALE)
        except subprocess.TimeoutExpired:
            self.fail('emulator still running %gs later' % (timeout * SCALE))

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join(5)
        if self.log:
            self.log.close()


class Monitor:
    """HMP monitor on a unix socket (-monitor unix:PATH,server=on,wait=off).
    Works with QEMU's "(qemu) " and Mimic's "(mimic) " prompts."""

    PROMPT_RX = re.compile(r'\((?:qemu|mimic)\) $')

    def __init__(self, path, timeout=30):
        deadline = time.monotonic() + timeout * SCALE
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise BootError('no monitor on %s' % path)
                time.sleep(0.1)
        self.sock.settimeout(timeout * SCALE)
        self._read_prompt()

    def _read_prompt(self):
        data = ''
        while not self.PROMPT_RX.search(data):
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise BootError('monitor prompt timed out; saw %r' %
                                data[-400:])
            if not chunk:
                raise BootError('monitor closed; saw %r' % data[-400:])
            data += chunk.decode('latin-1')
        return data

    def cmd(self, line):
        """Run one HMP command; return its output without echo/prompt."""
        self.sock.sendall((line + '\n').encode())
        out = self._read_prompt()
        out = re.sub(r'\x1b\[[0-9;?]*[A-Za-z]', '', out).replace('\r', '')
        out = self.PROMPT_RX.sub('', out)
        lines = out.split('\n')
        if lines and line in lines[0]:
            lines = lines[1:]
        return '\n'.join(lines)

    def xp_bytes(self, addr, count):
        """Read guest physical memory with `xp /Nxb ADDR`."""
        out = self.cmd('xp /%dxb 0x%x' % (count, addr))
        vals = []
        for ln in out.split('\n'):
            if ':' not in ln:
                continue
            for tok in ln.split(':', 1)[1].split():
                if tok.startswith('0x'):
                    vals.append(int(tok, 16))
        return bytes(vals[:count])

    KEYS = {' ': 'spc', '\n': 'ret', '-': 'minus', '.': 'dot',
            '/': 'slash', '=': 'equal', ',': 'comma', ';': 'semicolon',
            "'": 'apostrophe', '_': 'shift-minus', '>': 'shift-dot',
            '|': 'shift-backslash', '&': 'shift-7', '*': 'shift-8'}

    def type_text(self, text):
        """Type text on the guest keyboard with `sendkey`."""
        for ch in text:
            if ch.isalnum() and ch.isascii():
                key = ('shift-' + ch.lower()) if ch.isupper() else ch
            elif ch in self.KEYS:
                key = self.KEYS[ch]
            else:
                raise BootError('no sendkey name for %r' % ch)
            self.cmd('sendkey ' + key)

    def screen_text(self):
        """The 80x25 VGA text page at 0xb8000 as 25 lines."""
        chars = self.xp_bytes(0xb8000, 4000)[0::2].decode('latin-1')
        return [chars[r * 80:(r + 1) * 80] for r in range(len(chars) // 80)]

    def wait_screen(self, rx, timeout):
        """Poll VGA text memory until a line matches rx."""
        rx = re.compile(rx)
        deadline = time.monotonic() + timeout * SCALE
        while True:
            lines = self.screen_text()
            for ln in lines:
                if rx.search(ln):
                    return ln
            if time.monotonic() > deadline:
                raise BootError('timeout after %gs waiting for %r on the '
                                'screen; it shows:\n%s' %
                                (timeout * SCALE, rx.pattern,
                                 '\n'.join(ln.rstrip() for ln in lines)))
            time.sleep(0.5)

    def close(self):
        self.sock.close()


def free_port():
    """A TCP port on 127.0.0.1 that is free now (for hostfwd)."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def serve(directory):
    """An HTTP server for directory on 127.0.0.1 (a guest's wget target),
    in a daemon thread; srv.server_address[1] is its port."""
    handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(  # noqa
        *a, directory=directory, **kw)
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def ensure_images(what='all'):
    names = {'iso': ['demo.iso'], 'hdd': ['demo-hdd.img'],
             'hdd-snapshot': ['demo-hdd.img'],
             'kernel': ['vmlinuz', 'initrd.gz'],
             'vga': ['vmlinuz', 'initrd.gz'], 'floppy': ['floppy.img'],
             'kernel64': ['vmlinuz64', 'initrd64.gz'],
             'kernel64-noapic': ['vmlinuz64', 'initrd64.gz'],
             'installer64': [],
             'all': ['demo.iso', 'demo-hdd.img', 'floppy.img', 'vmlinuz',
                     'initrd.gz']}[what]
    if all(os.path.exists(os.path.join(CACHE, n)) for n in names):
        return
    build = os.path.join(SRCROOT, 'scripts', 'guests', 'build.sh')
    target = {'kernel': 'initrd', 'vga': 'initrd', 'kernel64': 'initrd64',
              'kernel64-noapic': 'initrd64',
              'hdd-snapshot': 'hdd'}.get(what, what)
    print('+ %s %s' % (build, target), flush=True)
    subprocess.run([build, target], check=True, stdin=subprocess.DEVNULL)


def find_emulator(path):
    exe = shutil.which(path) if os.sep not in path else path
    if not exe or not os.access(exe, os.X_OK):
        print('SKIP ' + '!' * 60, flush=True)
        print('SKIP: emulator %r not found: this boot test did NOT run'
              % path, flush=True)
        print('SKIP ' + '!' * 60, flush=True)
        sys.exit(77)
    return os.path.abspath(exe) if os.sep in exe else exe


def linux_session(emu, boot_timeout=480, machine='i686'):
    emu.wait_for('GUEST-READY', boot_timeout)
    emu.wait_for(PROMPT, 60)
    # The kernel's crypto self-tests (testmgr) run the CPU hard: a wrong
    # result is printed as "alg: self-tests for X using Y failed (rc=N)".
    bad = re.search(r'alg: [^\n]*failed[^\n]*', emu.buf)
    if bad:
        emu.fail('the guest kernel reported a failed self-test: %r'
                 % bad.group(0))
    emu.command('uname -m', re.compile(r'\n%s\r?\n' % machine))


def self_test(emu, busybox=None, gzip=True):
    """The issue's CPU self-test: results computed in the guest, on
    Mimic's CPU (integer, memory and x87 work), equal the host's.
    busybox: the host's copy of the guest's /bin/busybox; gzip=False
    leaves out the (slow) gzip round trip."""
    with open(busybox or os.path.join(CACHE, 'root', 'busybox'), 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    emu.command('sha256sum /bin/busybox', digest, 120)
    if gzip:
        emu.command('gzip -c /bin/busybox | gunzip -c | sha256sum', digest,
                    300)
    # busybox awk has no math library: + - * / and int() on doubles (the
    # x87 on i386).
    x, y = 1.0, 0.0
    for i in range(1, 300):
        x = x * 1.0001 + i / 7
        y = y + 1 / (i * i) - x / 1e9
    want = '%.6f %.9f %d' % (x, y, int(x * 1000) % 1009)
    emu.command("awk 'BEGIN{x=1; y=0; for(i=1;i<300;i++) "
                "{x=x*1.0001+i/7; y=y+1/(i*i)-x/1e9}; "
                "printf \"%.6f %.9f %d\\n\", x, y, int(x*1000)%1009}'",
                want, 60)
    # 64-bit shell arithmetic (busybox ash: C semantics, % truncates).
    want = '%d %d %d' % (123456789 * 987654321, 0x7fffffffffffffff // 12345,
                         -(9876543210 % 97))
    emu.command('echo $((123456789*987654321)) '
                '$((0x7fffffffffffffff / 12345)) $((-9876543210 % 97))',
                want, 30)


def apic_check(emu):
    """The APIC board in use (Mimic's default, as QEMU's pc): interrupts
    through the I/O APIC and the local APIC timer ticking."""
    emu.command('grep -c IO-APIC /proc/interrupts',
                re.compile(r'\n([1-9][0-9]*)\r?\n'))
    counts = []
    for _ in range(2):
        m = emu.command('grep LOC: /proc/interrupts; sleep 1',
                        re.compile(r'LOC:\s+(\d+)\s'))
        counts.append(int(m.group(1)))
    if not 0 < counts[0] < counts[1]:
        raise BootError('local APIC timer not ticking: LOC %r' % counts)
    # Issue 17: the timers agree (the TSC is watched against the HPET,
    # both from the machine clock), so the TSC is never marked unstable.
    emu.command("dmesg | grep -ci unstable",
                re.compile(r'\n0\r?\n'))


def poweroff(emu):
    emu.send('poweroff -f\n')
    rc = emu.wait_exit(60)
    if rc != 0:
        raise BootError('poweroff ended the emulator with status %r, not 0'
                        % rc)


def scenario_iso(exe, tmp):
    emu = Emulator([exe, '-nographic', '-cdrom',
                    os.path.join(CACHE, 'demo.iso'), '-boot', 'd',
                    '-m', '256'], os.path.join(tmp, 'serial.log'))
    try:
        emu.wait_for('ISOLINUX', 60)
        linux_session(emu)
        emu.command('cat /proc/cmdline', 'console=ttyS0,115200')
        poweroff(emu)
    finally:
        emu.close()


def cpio_newc(files):
    """A cpio archive (newc) of {name: (mode, bytes)}."""
    out = bytearray()
    for ino, (name, (mode, data)) in enumerate(
            list(files.items()) + [('TRAILER!!!', (0, b''))]):
        nb = name.encode() + b'\0'
        hdr = '070701' + ''.join('%08x' % v for v in (
            ino + 1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        out += hdr.encode() + nb
        out += b'\0' * (-len(out) % 4)
        out += data
        out += b'\0' * (-len(out) % 4)
    return bytes(out)


def scenario_kernel(exe, tmp):
    # -cpu Nehalem (issue 17): the i686 kernel with SSE to SSE4.2 (FXSAVE
    # context switches, the TSC-deadline timer, SSE crypto/xor code); the
    # other scenarios keep the default pentium2.
    initrd = os.path.join(CACHE, 'initrd.gz')
    prog = os.environ.get('MIMIC_SSE_PROG')
    want = None
    if prog and os.path.exists(prog):
        # A 32-bit SSE2 program (-msse2 -mfpmath=sse, static) in a second
        # cpio archive after the first (the kernel unpacks both): its
        # output in the guest must equal the host's.
        want = hashlib.sha256(subprocess.run(
            [prog], stdout=subprocess.PIPE, check=True,
            timeout=60).stdout).hexdigest()
        with open(prog, 'rb') as f:
            extra = gzip.compress(cpio_newc({'sse-prog': (0o100755,
                                                          f.read())}))
        combined = os.path.join(tmp, 'initrd-sse.gz')
        with open(initrd, 'rb') as f, open(combined, 'wb') as g:
            g.write(f.read() + extra)
        initrd = combined
    emu = Emulator([exe, '-nographic', '-cpu', 'Nehalem',
                    '-kernel', os.path.join(CACHE, 'vmlinuz'),
                    '-initrd', initrd,
                    '-append', 'console=ttyS0,115200', '-m', '256'],
                   os.path.join(tmp, 'serial.log'))
    try:
        linux_session(emu)
        if want:
            emu.command('/sse-prog | sha256sum', want, 120)
        emu.command("grep -c 'sse4_2.*popcnt\\|popcnt.*sse4_2' "
                    "/proc/cpuinfo", re.compile(r'\n1\r?\n'))
        emu.command('dmesg | grep -c "x87 FPU will use FXSAVE"',
                    re.compile(r'\n1\r?\n'))
        apic_check(emu)
        self_test(emu)
        poweroff(emu)
    finally:
        emu.close()


def kernel64_argv(exe, append, sock):
    """Debian's amd64 kernel and build.sh's initrd64 on the 64-bit CPU:
    mimic-system-x86_64 (default model qemu64) next to the given mimic,
    or the given emulator (qemu-system-x86_64, the oracle); HMP on a
    unix socket."""
    sib = os.path.join(os.path.dirname(exe), 'mimic-system-x86_64')
    if os.path.basename(exe) == 'mimic' and os.path.exists(sib):
        exe = sib
    return [exe, '-nographic',
            '-kernel', os.path.join(CACHE, 'vmlinuz64'),
            '-initrd', os.path.join(CACHE, 'initrd64.gz'),
            '-append', 'console=ttyS0,115200 %s %s' % (QUICK_APPEND, append),
            '-m', '256', '-monitor', 'unix:%s,server=on,wait=off' % sock]


def scenario_kernel64(exe, tmp):
    """Issue 17: Debian's amd64 kernel (linux-image-amd64) with a
    busybox-static:amd64 initramfs; the self-test, the APIC board in use
    (IO-APIC lines, LOC ticks), then a save (`migrate file:`) of the
    running 64-bit guest and its resume (-incoming) in a new process:
    the shell, its variables, the local APIC timer and the self-test
    (without gzip; awk's floating point is SSE: XMM and MXCSR state) work
    on."""
    sock = os.path.join(tmp, 'a.mon')
    argv = kernel64_argv(exe, '', sock)
    emu = Emulator(argv, os.path.join(tmp, 'serial.log'))
    state = os.path.join(tmp, 'kernel64.state')
    try:
        linux_session(emu, machine='x86_64')
        self_test(emu, os.path.join(CACHE, 'extra', 'busybox-static-amd64',
                                    'bin', 'busybox'))
        apic_check(emu)
        emu.command('SAVED=before-save; echo $SAVED-set', 'before-save-set')
        mon = Monitor(sock)
        out = mon.cmd('migrate file:' + state)
        if out.strip():
            emu.fail('migrate said %r' % out)
        mon.sock.sendall(b'quit\n')
        rc = emu.wait_exit(60)
        mon.sock.close()
        if rc != 0:
            emu.fail('quit after the save ended with status %r' % rc)
    finally:
        emu.close()
    sock = os.path.join(tmp, 'b.mon')
    emu = Emulator(kernel64_argv(exe, '', sock) + ['-incoming',
                                                   'file:' + state],
                   os.path.join(tmp, 'serial-resumed.log'))
    try:
        emu.send('\n')
        emu.wait_for(PROMPT, 60)
        emu.command('echo $SAVED-resumed', 'before-save-resumed')
        emu.command('uname -m', re.compile(r'\nx86_64\r?\n'))
        m = emu.command('grep LOC: /proc/interrupts; sleep 1; '
                        'grep LOC: /proc/interrupts',
                        re.compile(r'LOC:\s+(\d+)\s[^\n]*\n[^\n]*'
                                   r'LOC:\s+(\d+)\s'))
        if not int(m.group(1)) < int(m.group(2)):
            emu.fail('local APIC timer stopped after the resume')
        self_test(emu, os.path.join(CACHE, 'extra', 'busybox-static-amd64',
                                    'bin', 'busybox'), gzip=False)
        if 'Linux version' in emu.buf:
            emu.fail('the resumed guest booted again')
        poweroff(emu)
    finally:
        emu.close()


def scenario_kernel64_noapic(exe, tmp):
    """Issue 17: the amd64 kernel with `noapic nolapic`: PIC-only
    interrupts (XT-PIC lines, no local APIC timer), the shell and
    poweroff."""
    emu = Emulator(kernel64_argv(exe, 'noapic nolapic',
                                 os.path.join(tmp, 'a.mon')),
                   os.path.join(tmp, 'serial.log'))
    try:
        linux_session(emu, machine='x86_64')
        emu.command('grep -c XT-PIC /proc/interrupts',
                    re.compile(r'\n([1-9][0-9]*)\r?\n'))
        emu.command('grep -c IO-APIC /proc/interrupts',
                    re.compile(r'\n0\r?\n'))
        emu.command('echo $((123456789*987654321))',
                    str(123456789 * 987654321))
        poweroff(emu)
    finally:
        emu.close()


DI_PKG = 'debian-installer-12-netboot-amd64'
DI_DIR = ('./usr/lib/debian-installer/images/12/amd64/text/'
          'debian-installer/amd64/')
ANSI = re.compile(r'\x1b(?:\[[0-9;?]*[A-Za-z]|[()][0-9A-Za-z]|[=>78])')


def installer_files():
    """The text installer's linux and initrd.gz from Debian's package,
    fetched into the guest cache by scripts/guests/fetch-deb.sh."""
    fetch = os.path.join(SRCROOT, 'scripts', 'guests', 'fetch-deb.sh')
    out = []
    for name in ('linux', 'initrd.gz'):
        p = subprocess.run([fetch, DI_PKG, DI_DIR + name], check=True,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           text=True)
        out.append(p.stdout.strip().split('\n')[-1])
    return out


def scenario_installer64(exe, tmp):
    """Issue 17: Debian 12's netboot installer (amd64, text frontend) with
    -kernel/-initrd and console=ttyS0 reaches its first dialog, the
    language choice, on the serial console (newt's screen, read without
    its escape sequences)."""
    kernel, initrd = installer_files()
    sib = os.path.join(os.path.dirname(exe), 'mimic-system-x86_64')
    if os.path.basename(exe) == 'mimic' and os.path.exists(sib):
        exe = sib
    emu = Emulator([exe, '-nographic', '-kernel', kernel, '-initrd', initrd,
                    '-append', 'console=ttyS0,115200', '-m', '1024'],
                   os.path.join(tmp, 'serial.log'))
    rx = re.compile(r'Select a language|Choose the language')
    deadline = time.monotonic() + 2400 * SCALE
    try:
        while True:
            with emu.cond:
                text = ANSI.sub(' ', emu.buf)
                eof = emu.eof
            if rx.search(re.sub(r' +', ' ', text)):
                break
            if eof or time.monotonic() > deadline:
                emu.fail('the installer showed no language dialog')
            time.sleep(1)
        if re.search(r'Kernel panic|BUG:|Oops', emu.buf):
            emu.fail('the installer\'s kernel reported a crash')
    finally:
        emu.close()


HDD_OFFSET = 2048 * 512


def scenario_hdd(exe, tmp):
    disk = os.path.join(tmp, 'hdd.img')
    shutil.copyfile(os.path.join(CACHE, 'demo-hdd.img'), disk)
    emu = Emulator([exe, '-nographic', '-hda', disk, '-m', '256'],
                   os.path.join(tmp, 'serial.log'))
    try:
        emu.wait_for('SYSLINUX', 60)
        emu.wait_for('GUEST-DISK /dev/sda1 mounted on /mnt', 180)
        linux_session(emu)
        emu.command('cat /mnt/hello.txt', 'file put on the disk by the host')
        emu.command('echo written by the guest > /mnt/guest.txt && sync '
                    '&& umount /mnt && echo WROTE-OK', '\nWROTE-OK')
        poweroff(emu)
    finally:
        emu.close()
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1')
    got = subprocess.run(['mtype', '-i', '%s@@%d' % (disk, HDD_OFFSET),
                          '::guest.txt'], capture_output=True, text=True,
                         env=env)
    if 'written by the guest' not in got.stdout:
        raise BootError('the guest\'s file is not on the disk: %r %r' %
                        (got.stdout, got.stderr))


def scenario_hdd_snapshot(exe, tmp):
    """-drive ...,snapshot=on: the guest writes to the disk and reads its
    write back, but the image file is unchanged after poweroff."""
    disk = os.path.join(tmp, 'hdd.img')
    shutil.copyfile(os.path.join(CACHE, 'demo-hdd.img'), disk)
    with open(disk, 'rb') as f:
        before = hashlib.sha256(f.read()).hexdigest()
    emu = Emulator([exe, '-nographic', '-drive',
                    'file=%s,format=raw,if=ide,snapshot=on' % disk,
                    '-m', '256'], os.path.join(tmp, 'serial.log'))
    try:
        emu.wait_for('GUEST-DISK /dev/sda1 mounted on /mnt', 480)
        linux_session(emu)
        emu.command('echo snapshot-write > /mnt/snap.txt && sync && '
                    'echo 3 > /proc/sys/vm/drop_caches && cat /mnt/snap.txt '
                    '| tr a-z A-Z', 'SNAPSHOT-WRITE')
        poweroff(emu)
    finally:
        emu.close()
    with open(disk, 'rb') as f:
        after = hashlib.sha256(f.read()).hexdigest()
    if after != before:
        raise BootError('snapshot=on: the image file changed')


def scenario_floppy(exe, tmp):
    emu = Emulator([exe, '-nographic', '-fda',
                    os.path.join(CACHE, 'floppy.img'), '-boot', 'a',
                    '-m', '64'], os.path.join(tmp, 'serial.log'))
    try:
        emu.wait_for('MIMIC-FLOPPY', 60)
        emu.wait_for('boot:', 30)
        for cmd, expect in (('cpuid', re.compile(r'Family +=')),
                            ('meminfo', 'INT 15 88'),
                            ('pcitest', 'PCI bus position')):
            emu.send(cmd + '\r')
            emu.wait_for(expect, 60)
            if cmd == 'pcitest':
                # pcitest pages its output; Enter goes on.
                while True:
                    m = emu.wait_for(re.compile(r'Press Enter|boot:'), 60)
                    if m.group(0) == 'boot:':
                        break
                    emu.send('\r')
            else:
                emu.wait_for('boot:', 60)
    finally:
        emu.close()


def scenario_vga(exe, tmp):
    """Console on the VGA text screen only, keyboard input by sendkey;
    the kernel told `noapic nolapic` (the 8259-only path of old guests).
    no-scroll keeps vgacon from hardware scrolling (moving the CRTC start
    address), so the visible page stays at 0xb8000 where xp reads it."""
    sock = os.path.join(tmp, 'mon.sock')
    emu = Emulator([exe, '-display', 'none', '-serial', 'stdio', '-monitor',
                    'unix:%s,server=on,wait=off' % sock,
                    '-kernel', os.path.join(CACHE, 'vmlinuz'),
                    '-initrd', os.path.join(CACHE, 'initrd.gz'),
                    '-append', 'console=tty0 no-scroll noapic nolapic',
                    '-m', '256'],
                   os.path.join(tmp, 'stdout.log'))
    try:
        mon = Monitor(sock)
        mon.wait_screen(r'^GUEST-READY', 480)
        mon.wait_screen(r'^guest# ', 60)
        mon.type_text('uname -m\n')
        mon.wait_screen(r'^i686 *$', 60)
        # Typed on the VGA console, answered on the serial port.
        mon.type_text('echo sendkey-ok > /dev/ttyS0\n')
        emu.wait_for('sendkey-ok', 60)
        shot = os.path.join(tmp, 'vga.ppm')
        mon.cmd('screendump ' + shot)
        if not os.path.getsize(shot):
            raise BootError('empty screendump')
        mon.type_text('poweroff -f\n')
        rc = emu.wait_exit(60)
        if rc != 0:
            raise BootError('poweroff: exit status %r, not 0' % rc)
        mon.close()
    finally:
        emu.close()


SCENARIOS = {'vga': scenario_vga, 'iso': scenario_iso,
             'hdd-snapshot': scenario_hdd_snapshot,
             'kernel': scenario_kernel, 'kernel64': scenario_kernel64,
             'kernel64-noapic': scenario_kernel64_noapic,
             'installer64': scenario_installer64,
             'hdd': scenario_hdd, 'floppy': scenario_floppy}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SCENARIOS:
        print(__doc__, file=sys.stderr)
        return 2
    name, emulator = sys.argv[1], sys.argv[2]
    exe = find_emulator(emulator)
    ensure_images(name)
    tmp = tempfile.mkdtemp(prefix='boottest-')
    start = time.monotonic()
    try:
        SCENARIOS[name](exe, tmp)
    except BootError as e:
        print('FAIL %s under %s: %s' % (name, exe, e), flush=True)
        print('(serial log kept in %s)' % tmp)
        return 1
    print('PASS %s under %s (%.1f s)' % (name, exe,
                                         time.monotonic() - start))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
