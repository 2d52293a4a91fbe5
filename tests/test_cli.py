#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The mimic binary on bad command lines: one clear line, exit status 1.

Also checks the listings (-version, -h, -soundhw help) exit 0.
"""
import os
import socket
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
    # Networking: parse-time and machine-construction errors.
    (["-net", "nic,model=foo"], "unknown NIC model 'foo'"),
    (["-nic", "user,model=bogus"], "unknown NIC model 'bogus'"),
    (["-device", "e1001,netdev=n0"], "not a supported device"),
    (["-net", "nic,macaddr=52:54:00:12:34"], "invalid MAC address"),
    (["-nic", "user,mac=01:00:5e:00:00:01"], "invalid MAC address"),
    (["-net", "nic,macaddr=52:54:00:12:34:5g"], "invalid MAC address"),
    (["-netdev", "user,id=n0", "-netdev", "user,id=n0"],
     "duplicate netdev id 'n0'"),
    (["-netdev", "user"], "parameter 'id' is missing"),
    (["-net", "tap"], "'tap' network back end is not available"),
    (["-display", "none", "-netdev", "user,id=n0", "-device",
      "e1000,netdev=n1"], "netdev 'n1' does not exist"),
    (["-display", "none", "-netdev", "user,id=n0", "-device",
      "e1000,netdev=n0", "-device", "e1000,netdev=n0"],
     "netdev 'n0' is already used"),
    (["-display", "none", "-nic", "user,hostfwd=tcp::22x-:22"],
     "invalid host port '22x'"),
    (["-display", "none", "-nic", "user,hostfwd=tcp::2222-:0"],
     "invalid guest port"),
    (["-display", "none", "-nic", "user,hostfwd=icmp::2222-:22"],
     "invalid protocol 'icmp'"),
    (["-display", "none", "-nic", "user,restrict=maybe"],
     "invalid restrict 'maybe'"),
    (["-display", "none", "-nic", "user,frob=1"],
     "invalid parameter 'frob'"),
    (["-display", "none", "-nic", "user,hostfwd=tcp:127.0.0.1:BUSY-:22"],
     "cannot forward host TCP port"),
    (["-display", "none", "-nic", "user,hostfwd=udp:127.0.0.1:UBUSY-:53"],
     "cannot forward host UDP port"),
]

GOOD = [["-version"], ["-h"], ["-soundhw", "help"], ["-machine", "help"],
        ["-nic", "model=help"], ["-net", "nic,model=help"],
        ["-device", "help"], ["-netdev", "help"]]


def main():
    failed = 0
    # Ports that are in use, for the hostfwd cases (TCP listening, UDP
    # bound), held open while the cases run.
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    ubusy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ubusy.bind(("127.0.0.1", 0))
    with tempfile.TemporaryDirectory() as d:
        x = os.path.join(d, "x.img")
        open(x, "w").close()
        for args, expect in BAD:
            args = [a.replace("file=X", "file=" + x)
                    .replace("UBUSY", str(ubusy.getsockname()[1]))
                    .replace("BUSY", str(busy.getsockname()[1]))
                    for a in args]
            p = subprocess.run([MIMIC] + args, capture_output=True, text=True,
                               timeout=30, stdin=subprocess.DEVNULL)
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
