#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The mimic binary on bad command lines: one clear line, exit status 1.

Also checks the listings (-version, -h, -soundhw help) exit 0.
"""
import os
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
    (["-audiodev", "alsa,id=a0"], "unknown audio driver 'alsa'"),
    (["-audiodev", "wav,path=x.wav"], "parameter 'id' is missing"),
    (["-audiodev", "none,id=a,frob=1"], "unknown parameter 'frob'"),
    (["-audiodev", "none,id=a", "-audiodev", "none,id=a"],
     "duplicate id 'a'"),
    (["-device", "sb16,audiodev=nope"], "audiodev 'nope' is not defined"),
    (["-device", "frob"], "unknown device 'frob'"),
    (["-device", "intel-hda"], "unknown device"),
    (["-device", "hda"], "not emulated yet"),
    (["-audio", "none,model=sb17"], "unknown sound card 'sb17'"),
    (["-soundhw", "sb16,sb16"], "given twice"),
    (["-display", "none", "-audiodev", "wav,id=a0,path=/proc/mimic.wav",
      "-soundhw", "pcspk"], "-audiodev wav: cannot create '/proc/mimic.wav'"),
    (["-display", "none", "-audiodev", "wav,id=a0,path=/nonexistent/d/x.wav",
      "-device", "sb16,audiodev=a0"], "cannot create"),
]

GOOD = [["-version"], ["-h"], ["-soundhw", "help"], ["-soundhw", "?"],
        ["-machine", "help"], ["-audiodev", "help"], ["-audio", "model=help"],
        ["-device", "help"]]


def pa_unreachable(d):
    """No PulseAudio server: one warning line, the machine runs (mute)."""
    p = subprocess.run([MIMIC, "-display", "none", "-net", "none",
                        "-audiodev", "pa,id=a0,server=unix:" +
                        os.path.join(d, "no-such-socket"),
                        "-soundhw", "pcspk", "-monitor", "stdio"],
                       input="info audio\nquit\n", capture_output=True,
                       text=True, timeout=60)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    ok = (p.returncode == 0 and len(lines) == 1 and
          "mimic: warning: audio: cannot connect to the PulseAudio server"
          in lines[0] and "runs mute" in lines[0] and
          "driver none" in p.stdout)
    print(("ok    " if ok else "FAIL  ") + "-audiodev pa without a server -> " +
          repr(p.stderr.strip()) + f" (exit {p.returncode})")
    return ok


def main():
    failed = 0
    with tempfile.TemporaryDirectory() as d:
        x = os.path.join(d, "x.img")
        open(x, "w").close()
        for args, expect in BAD:
            args = [a.replace("file=X", "file=" + x) for a in args]
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
        failed += not pa_unreachable(d)
    print(f"{len(BAD) + len(GOOD) + 1 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
