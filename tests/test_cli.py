#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The mimic binary on bad command lines: one clear line, exit status 1.

Also checks the listings (-version, -h, -soundhw help) exit 0.
"""
import hashlib
import os
import resource
import socket
import subprocess
import sys
import tempfile

MIMIC = os.path.abspath(sys.argv[1])

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
    (["-machine", "pc,apic=maybe"], "-machine apic=maybe: expected on or off"),
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
    # Issue 15 item 10: refused where QEMU refuses.
    (["-display", "none", "-hda", "x.img", "-hdb", "./x.img"],
     "-hdb: './x.img' is the image of -hda already"),
    (["-display", "none", "-drive", "file=x.img,format=raw", "-cdrom",
      "x.img"], "-cdrom: 'x.img' is the image of -drive already"),
    (["-display", "none", "-append", "console=ttyS0"],
     "-append only allowed with -kernel option"),
    (["-display", "none", "-initrd", "x.img"],
     "-initrd only allowed with -kernel option"),
    (["-display", "none", "-m", "1.5"], "-m: invalid size '1.5'"),
    (["-display", "none", "-accel", "kvm"],
     "-accel kvm: KVM is not available"),
    (["-display", "none", "-enable-kvm"], "-enable-kvm: KVM is not available"),
    (["-display", "none", "-machine", "accel=kvm"],
     "-machine accel=kvm: KVM is not available"),
    (["-audiodev", "alsa,id=a0"], "unknown audio driver 'alsa'"),
    (["-audiodev", "wav,path=x.wav"], "parameter 'id' is missing"),
    (["-audiodev", "none,id=a,frob=1"], "unknown parameter 'frob'"),
    (["-audiodev", "none,id=a", "-audiodev", "none,id=a"],
     "duplicate id 'a'"),
    (["-device", "sb16,audiodev=nope"], "audiodev 'nope' is not defined"),
    (["-device", "frob"], "unknown device 'frob'"),
    (["-device", "hda"], "unknown device 'hda'"),
    (["-device", "hda-duplex,audiodev=a0"], "no HDA bus"),
    (["-soundhw", "hda-output"], "unknown sound card 'hda-output'"),
    (["-device", "intel-hda", "-device", "hda-duplex", "-device",
      "hda-output"], "given twice"),
    (["-display", "none", "-audiodev", "none,id=a0,in.path=/nonexistent.wav",
      "-device", "AC97,audiodev=a0"], "in.path"),
    (["-display", "none", "-audiodev", "none,id=a0,in.path=/proc/version",
      "-device", "AC97,audiodev=a0"], "not a PCM WAV file"),
    (["-audio", "none,model=sb17"], "unknown sound card 'sb17'"),
    (["-soundhw", "sb16,sb16"], "given twice"),
    (["-display", "none", "-audiodev", "wav,id=a0,path=/proc/mimic.wav",
      "-soundhw", "pcspk"], "-audiodev wav: cannot create '/proc/mimic.wav'"),
    (["-display", "none", "-audiodev", "wav,id=a0,path=/nonexistent/d/x.wav",
      "-device", "sb16,audiodev=a0"], "cannot create"),
    # usb-ehci: buses and ports at machine construction.
    (["-display", "none", "-device", "usb-ehci,id=ehci", "-device",
      "usb-tablet,bus=usb-bus.0"], "bus 'usb-bus.0' not found (the machine "
     "has ehci.0)"),
    (["-display", "none", "-device", "usb-ehci,id=ehci", "-device",
      "usb-tablet,bus=ehci.0,port=7"], "port '7' does not exist on ehci.0"),
    (["-display", "none", "-usb", "-device", "usb-ehci", "-device",
      "usb-kbd,bus=usb-bus.1,port=1", "-device",
      "usb-mouse,bus=usb-bus.1,port=1"], "port 1 of usb-bus.1 is in use"),
    # qemu-xhci: ports 1-4, three buses named in the error.
    (["-display", "none", "-device", "qemu-xhci,id=xhci", "-device",
      "usb-tablet,bus=xhci.0,port=5"], "port '5' does not exist on xhci.0"),
    (["-display", "none", "-usb", "-device", "usb-ehci", "-device",
      "qemu-xhci", "-device", "usb-kbd,bus=x.0"], "bus 'x.0' not found "
     "(the machine has usb-bus.0, usb-bus.1 and usb-bus.2)"),
    (["-display", "none", "-device", "qemu-xhci,bus=pci.0"],
     "qemu-xhci: only id= is supported"),
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
    (["-net", "socket"], "'socket' network back end is not available"),
    (["-display", "none", "-netdev", "tap,id=t0,script=/etc/qemu-ifup",
      "-device", "e1000,netdev=t0"], "tap script='/etc/qemu-ifup' is not "
     "supported"),
    (["-display", "none", "-netdev", "tap,id=t0,ifname=" + "x" * 16,
      "-device", "e1000,netdev=t0"], "is too long"),
    (["-display", "none", "-netdev", "tap,id=t0,frob=1"],
     "unknown tap parameter 'frob'"),
    (["-object", "frob,id=x"], "unknown object type 'frob'"),
    (["-object", "filter-dump,id=f,netdev=n0"], "parameter 'file' is "
     "missing"),
    (["-display", "none", "-object", "filter-dump,id=f,netdev=n1,file=x.pcap",
      "-netdev", "user,id=n0", "-device", "e1000,netdev=n0"],
     "filter-dump f: netdev 'n1' does not exist"),
    (["-display", "none", "-object",
      "filter-dump,id=f,netdev=n0,file=/nonexistent/d/x.pcap",
      "-netdev", "user,id=n0", "-device", "rtl8139,netdev=n0"],
     "cannot create '/nonexistent/d/x.pcap'"),
    (["-device", "ne2k_isa,iobase=0x301"], "invalid iobase '0x301'"),
    (["-device", "ne2k_isa,irq=14"], "invalid irq '14'"),
    (["-device", "rtl8139,revision=0x30"], "invalid revision '0x30'"),
    (["-device", "e1000,revision=0x10"], "unknown property 'revision'"),
    (["-device", "virtio-net-pci,frob=1"], "unknown property 'frob'"),
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

# Issue 15 item 10: accepted where QEMU accepts (the fallbacks), with
# -S: the machine is built, then quit from the monitor.
STARTS = [
    ["-accel", "kvm", "-accel", "tcg"],
    ["-machine", "accel=kvm:tcg"],
    ["-snapshot", "-hda", "x.img", "-hdb", "./x.img"],
    ["-m", "1.5G"],
    ["-machine", "pc,apic=off", "-no-hpet"],
    ["-machine", "hpet=off"],
]

GOOD = [["-version"], ["-h"], ["-soundhw", "help"], ["-soundhw", "?"],
        ["-machine", "help"], ["-audiodev", "help"], ["-audio", "model=help"],
        ["-device", "help"], ["-nic", "model=help"],
        ["-net", "nic,model=help"], ["-netdev", "help"], ["-object", "help"]]


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


def monitor_session(d, args, commands):
    """Runs mimic -S with the monitor on stdio in directory d."""
    try:
        p = subprocess.run([MIMIC, "-S", "-display", "none", "-monitor",
                            "stdio"] + args, input=commands + "quit\n",
                           capture_output=True, text=True, timeout=60, cwd=d)
    except subprocess.TimeoutExpired:
        return None
    return p


def starts(d, args):
    p = monitor_session(d, args, "info status\n")
    ok = p is not None and p.returncode == 0 and "VM status" in p.stdout
    print(("ok    " if ok else "FAIL  ") + " ".join(args) + " starts" +
          ("" if ok or p is None else
           " -> " + repr(p.stderr.strip()) + f" (exit {p.returncode})"))
    return ok


def bios_from_cwd(d):
    """A relative -bios name is the file in the current directory before
    one of that name in a -L directory (QEMU's qemu_find_file)."""
    other = os.path.join(d, "L")
    os.mkdir(other)
    mine = bytes([0x11]) * 0x20000
    with open(os.path.join(d, "mybios.bin"), "wb") as f:
        f.write(mine)
    with open(os.path.join(other, "mybios.bin"), "wb") as f:
        f.write(bytes([0x22]) * 0x20000)
    p = monitor_session(d, ["-L", other, "-bios", "mybios.bin"],
                        "info roms\n")
    want = 'name="bios" size=0x020000 sha256=' + hashlib.sha256(mine).hexdigest()
    ok = p is not None and want in p.stdout
    print(("ok    " if ok else "FAIL  ") + "-bios mybios.bin from the current "
          "directory before -L" + ("" if ok or p is None else
                                   " -> " + repr(p.stdout[-300:])))
    return ok


TAP_ERROR = ("cannot open /dev/net/tun", "cannot attach to tap interface")


def tap_backend(d):
    """-netdev tap where the host allows it (the interface appears in
    "info network"), one clear line where it does not; and the refusal
    itself, forced by running without CAP_NET_ADMIN (setpriv when root)."""
    ifname = "mimtap%d" % (os.getpid() % 100000)
    args = ["-netdev", "tap,id=t0,ifname=%s,script=no,downscript=no" % ifname,
            "-device", "virtio-net-pci,netdev=t0"]
    p = monitor_session(d, args, "info network\n")
    if p is not None and p.returncode == 0:
        ok = "ifname=" + ifname in p.stdout
        what = "started, info network shows it"
    else:
        lines = [] if p is None else [l for l in p.stderr.splitlines()
                                      if l.strip()]
        ok = (p is not None and p.returncode == 1 and len(lines) == 1 and
              any(e in lines[0] for e in TAP_ERROR))
        what = "refused by the host: %r" % (lines[:1])
    print(("ok    " if ok else "FAIL  ") + "-netdev tap,ifname=%s: %s" %
          (ifname, what))
    drop = (["setpriv", "--inh-caps=-all", "--bounding-set=-all"]
            if os.geteuid() == 0 else [])
    q = subprocess.run(drop + [MIMIC, "-display", "none"] + args,
                       capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    lines = [l for l in q.stderr.splitlines() if l.strip()]
    ok2 = (q.returncode == 1 and len(lines) == 1 and
           any(e in lines[0] for e in TAP_ERROR))
    print(("ok    " if ok2 else "FAIL  ") + "-netdev tap without "
          "CAP_NET_ADMIN -> " + repr(q.stderr.strip()) +
          f" (exit {q.returncode})")
    return ok and ok2


def netdev_monitor(d, busy):
    """netdev_add / netdev_del in the human monitor and in QMP: errors
    are replies, the machine keeps running."""
    p = monitor_session(d, ["-netdev", "user,id=n0", "-device",
                            "ne2k_pci,netdev=n0"],
                        "netdev_add user,id=n9,net=10.0.9.0/24\n"
                        "info network\n"
                        "netdev_add user,id=n9\n"
                        "netdev_del n9\nnetdev_del n9\n"
                        "netdev_add user,id=n8,hostfwd=tcp:127.0.0.1:%d-:22\n"
                        "netdev_del n0\ninfo network\ninfo status\n" % busy)
    out = "" if p is None else p.stdout
    ok = (p is not None and p.returncode == 0 and "n9: " in out and
          "10.0.9.0" in out and "duplicate netdev id 'n9'" in out and
          "netdev 'n9' not found" in out and
          "cannot forward host TCP port" in out and "VM status" in out and
          out.count("ne2k_pci.0: ") == 2)
    print(("ok    " if ok else "FAIL  ") + "netdev_add/netdev_del in the "
          "monitor" + ("" if ok or p is None else " -> " + repr(out[-600:])))
    cmds = ['{"execute": "qmp_capabilities"}',
            '{"execute": "netdev_add", "arguments": {"type": "user", '
            '"id": "q1", "restrict": true}}',
            '{"execute": "netdev_del", "arguments": {"id": "q1"}}',
            '{"execute": "netdev_del", "arguments": {"id": "q1"}}',
            '{"execute": "netdev_add", "arguments": {"type": "bogus", '
            '"id": "q2"}}',
            '{"execute": "quit"}']
    try:
        q = subprocess.run([MIMIC, "-S", "-display", "none", "-qmp", "stdio"],
                           input="\n".join(cmds) + "\n", capture_output=True,
                           text=True, timeout=60, cwd=d)
        out = q.stdout
    except subprocess.TimeoutExpired:
        q, out = None, ""
    ok2 = (q is not None and out.count('"return": {}') >= 4 and
           "netdev 'q1' not found" in out and
           "unknown network back end type 'bogus'" in out)
    print(("ok    " if ok2 else "FAIL  ") + "netdev_add/netdev_del in QMP" +
          ("" if ok2 else " -> " + repr(out[-600:])))
    return ok and ok2


def main():
    failed = 0
    limit = None if is_asan(MIMIC) else limit_memory
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
        huge = os.path.join(d, "huge.bin")
        with open(huge, "wb") as f:
            f.truncate(64 << 30)  # sparse: 64 GiB of nothing
        kernel = os.path.join(d, "bzImage")
        fake_bzimage(kernel)
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        subst = {"HUGE": huge, "KERNEL": kernel, "FIFO": fifo, "DIR": d}
        for args, expect in BAD:
            args = [a.replace("file=X", "file=" + x)
                    .replace("UBUSY", str(ubusy.getsockname()[1]))
                    .replace("BUSY", str(busy.getsockname()[1]))
                    for a in args]
            args = [subst.get(a, a) for a in args]
            for k, v in subst.items():
                expect = expect.replace("'%s'" % k, "'%s'" % v)
            try:
                p = subprocess.run([MIMIC] + args, capture_output=True,
                                   text=True, timeout=30, cwd=d,
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
        for args in STARTS:
            failed += not starts(d, args)
        failed += not bios_from_cwd(d)
        for args in GOOD:
            p = subprocess.run([MIMIC] + args, capture_output=True, text=True,
                               timeout=30, stdin=subprocess.DEVNULL)
            ok = p.returncode == 0 and p.stdout.strip()
            print(("ok    " if ok else "FAIL  ") + " ".join(args))
            failed += not ok
        failed += not pa_unreachable(d)
        failed += not tap_backend(d)
        failed += not netdev_monitor(d, busy.getsockname()[1])
    total = len(BAD) + len(STARTS) + 4 + len(GOOD)
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
