#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The mimic binary on bad command lines: one clear line, exit status 1.

Also checks the listings (-version, -h, -soundhw help) exit 0.
"""
import os
import resource
import subprocess
import sys
import tempfile

MIMIC = sys.argv[1]

BAD = [
    (["-frobnicate"], "-frobnicate: invalid option"),
    (["-m"], "requires an argument"),
    (["-m", "0"], "-m"),
    (["-m", "abc"], "invalid size 'abc'"),
    (["-boot", "z"], "invalid boot device 'z'"),
    (["-hda", "/nonexistent/c.img"], "could not open"),
    (["-cdrom", "/nonexistent/x.iso"], "could not open"),
    (["-drive", "file=/nonexistent,if=ide"], "could not open"),
    (["-drive", "file=X,if=scsi"], "interface 'scsi'"),
    (["-serial", "bogus"], "unknown character device"),
    (["-icount", "abc"], "invalid shift"),
    (["-smp", "0"], "invalid CPU count"),
    (["-accel", "foo"], "unknown accelerator"),
    (["-machine", "q35"], "unknown machine type"),
    (["-cpu", "486sx"], "unknown CPU model"),
    (["-display", "sdl"], "not available"),
    (["-soundhw", "sb17"], "unknown sound card"),
    (["-net", "bridge"], "unknown network type"),
    (["-d", "nonsense"], "unknown log item"),
    (["-display", "none", "-d", "int", "-D", "/nonexistent/dir/x.log"],
     "-D: cannot open log file"),
    (["-rtc", "base=yesterday"], "invalid base"),
    (["-L", "/nonexistent-dir"], "not a directory"),
    (["-vga", "cirrus"], "only std"),
    # Issue 15 item 7: endless, special or huge files are refused before
    # they are read (today's code reads /dev/zero until memory runs out;
    # the address-space limit below turns that into a failure).
    (["-display", "none", "-bios", "/dev/zero"],
     "-bios: '/dev/zero' is not a regular file"),
    (["-display", "none", "-bios", "HUGE"], "-bios: 'HUGE' is too large"),
    (["-display", "none", "-kernel", "/dev/zero"],
     "-kernel: '/dev/zero' is not a regular file"),
    (["-display", "none", "-kernel", "HUGE"], "-kernel: 'HUGE' is too large"),
    (["-display", "none", "-kernel", "KERNEL", "-initrd", "/dev/zero"],
     "-initrd: '/dev/zero' is not a regular file"),
    (["-display", "none", "-kernel", "KERNEL", "-initrd", "HUGE"],
     "-initrd: 'HUGE' is too large"),
    (["-display", "none", "-kernel", "KERNEL", "-initrd", "FIFO"],
     "-initrd: 'FIFO' is not a regular file"),
    (["-display", "none", "-kernel", "DIR"], "-kernel: 'DIR' is a directory"),
]

GOOD = [["-version"], ["-h"], ["-soundhw", "help"], ["-machine", "help"]]


def fake_bzimage(path):
    """A header the loader accepts (boot protocol 2.02, 4 setup sectors),
    so that it goes on to read the -initrd; never run."""
    k = bytearray(0x4000)
    k[0x1f1] = 4
    k[0x202:0x206] = b"HdrS"
    k[0x206:0x208] = (0x0202).to_bytes(2, "little")
    k[0x211] = 1
    with open(path, "wb") as f:
        f.write(k)


def is_asan(exe):
    with open(exe, "rb") as f:
        return b"__asan_init" in f.read()


def limit_memory():
    """At most 2 GiB of address space: a loader that reads /dev/zero
    fails fast instead of eating the host (not under ASan, which maps
    terabytes of shadow)."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def main():
    failed = 0
    limit = None if is_asan(MIMIC) else limit_memory
    with tempfile.TemporaryDirectory() as d:
        x = os.path.join(d, "x.img")
        open(x, "w").close()
        huge = os.path.join(d, "huge.bin")
        with open(huge, "wb") as f:
            f.truncate(64 << 30)  # sparse: 64 GiB of nothing
        kernel = os.path.join(d, "bzImage")
        fake_bzimage(kernel)
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        subst = {"HUGE": huge, "KERNEL": kernel, "FIFO": fifo, "DIR": d}
        for args, expect in BAD:
            args = [a.replace("file=X", "file=" + x) for a in args]
            args = [subst.get(a, a) for a in args]
            for k, v in subst.items():
                expect = expect.replace("'%s'" % k, "'%s'" % v)
            try:
                p = subprocess.run([MIMIC] + args, capture_output=True,
                                   text=True, timeout=30,
                                   stdin=subprocess.DEVNULL,
                                   preexec_fn=limit)
            except subprocess.TimeoutExpired:
                print("FAIL  " + " ".join(args) + " -> hangs")
                failed += 1
                continue
            lines = [l for l in p.stderr.splitlines() if l.strip()]
            ok = (p.returncode == 1 and len(lines) == 1 and
                  lines[0].startswith("mimic: ") and expect in lines[0])
            print(("ok    " if ok else "FAIL  ") + " ".join(args) + " -> " +
                  repr(p.stderr.strip()) + f" (exit {p.returncode})")
            failed += not ok
        for args in GOOD:
            p = subprocess.run([MIMIC] + args, capture_output=True, text=True,
                               timeout=30, stdin=subprocess.DEVNULL)
            ok = p.returncode == 0 and p.stdout.strip()
            print(("ok    " if ok else "FAIL  ") + " ".join(args))
            failed += not ok
    print(f"{len(BAD) + len(GOOD) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
