#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Startup of the desktop application (issue 22's acceptance), measured
under Xvfb with a window manager and a fresh HOME:

1. `mimic` with no arguments: seconds from launch until the library
   window is mapped (xdotool search --sync --onlyvisible);
2. `mimic -display gtk -name bench -net none`: seconds from launch until
   the machine window shows the guest's first frame, read from the
   window dump test hook (MIMIC_GUI_WINDOW_DUMP: the guest's size is
   known once the first frame arrived).

usage: bench/gui_startup.py MIMIC [--runs N]   (median of N runs, default 5)
Not a test: the figures depend on the machine's load.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "gui"))
import xvfb_app as T  # noqa: E402


def timed(x, argv, env, until):
    t0 = time.monotonic()
    app = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL)
    try:
        T.APP = app
        T.wait_for("the window", until, 30)
        return time.monotonic() - t0
    finally:
        T.stop(app)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mimic")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mimic-bench-") as tmp:
        xvfb, display = T.start_xvfb(tmp)
        env = dict(os.environ, DISPLAY=display, HOME=tmp,
                   XDG_DATA_HOME=os.path.join(tmp, "data"),
                   XDG_CACHE_HOME=os.path.join(tmp, "cache"),
                   XDG_CONFIG_HOME=os.path.join(tmp, "config"),
                   NO_AT_BRIDGE="1", GTK_THEME="Adwaita",
                   GSETTINGS_BACKEND="memory")
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.pop("MIMIC_DEMO_ISO", None)
        wm = subprocess.Popen(["openbox", "--sm-disable"], env=env,
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        x = T.X(env)
        try:
            T.wait_for("the window manager", lambda: x.run(
                "xprop", "-root", "_NET_SUPPORTING_WM_CHECK",
                check=False).stdout.find("window id") >= 0)
            lib, frame = [], []
            for i in range(args.runs):
                lib.append(timed(x, [args.mimic], env,
                                 lambda: x.search("^Mimic$")))
                dump = os.path.join(tmp, "window-%d.txt" % i)
                e = dict(env, MIMIC_GUI_WINDOW_DUMP=dump)
                frame.append(timed(
                    x, [args.mimic, "-display", "gtk", "-name", "bench",
                        "-net", "none"], e,
                    lambda: "guest=0x0" not in
                    T.window_dump(dump).get("display", "guest=0x0")))
        finally:
            wm.terminate()
            xvfb.terminate()
    print("library window on screen: %.2f s (median of %d: %s)" % (
        statistics.median(lib), len(lib),
        " ".join("%.2f" % t for t in lib)))
    print("machine window, first guest frame: %.2f s (median of %d: %s)" % (
        statistics.median(frame), len(frame),
        " ".join("%.2f" % t for t in frame)))


if __name__ == "__main__":
    main()
