#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fail when a source file includes a header of a layer it may not use.

The rules are those of docs/design.md ("Layers and who may include whom").
Each rule lists the project-header prefixes a layer may include; anything
else under src/ is a violation.  System headers (<...>) are not checked.
"""
import os
import re
import sys

# Who may include whom (docs/design.md, "Layers"): the bus is the bottom
# of the machine; arch and hw sit on it; the engine on all of them; the
# GUI and main.c see only the engine's public API and the configuration.
RULES = {
    "gui": ["engine/mimic.h", "bus/config.h", "gui/", "mimic-config.h"],
    "engine": ["engine/", "bus/", "arch/cpu.h", "hw/", "images/block.h",
               "state/state.h", "state/statefile.h", "mimic-config.h"],
    "arch": ["bus/", "arch/", "state/state.h", "mimic-config.h"],
    "hw": ["bus/", "hw/", "arch/cpu.h", "images/block.h", "state/state.h",
           "mimic-config.h"],
    "bus": ["bus/", "state/state.h", "mimic-config.h"],
    "images": ["images/", "mimic-config.h"],
    # Linux user mode runs the CPU cores directly, without a machine.
    "user": ["user/", "arch/", "bus/log.h", "mimic-config.h"],
    "state": ["state/", "mimic-config.h"],
    "main.c": ["engine/mimic.h", "bus/config.h", "gui/gui.h",
               "mimic-config.h"],
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(rel):
    if rel == "main.c":
        return "main.c"
    top = rel.split("/", 1)[0]
    return top if top in RULES else None


def main():
    src = sys.argv[1]
    bad = []
    checked = 0
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            layer = layer_of(rel)
            if layer is None:
                continue
            here = os.path.dirname(rel)
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    checked += 1
                    # A header next to the file ("foo.h") stays in the layer.
                    if "/" not in inc and os.path.exists(
                            os.path.join(src, here, inc)):
                        continue
                    if inc.startswith("../"):
                        bad.append(f"{rel}:{lineno}: relative include {inc}")
                        continue
                    if not any(inc == p or (p.endswith("/") and
                                            inc.startswith(p))
                               for p in RULES[layer]):
                        bad.append(f"{rel}:{lineno}: layer '{layer}' may "
                                   f"not include \"{inc}\"")
    for b in bad:
        print(b)
    print(f"checked {checked} includes, {len(bad)} violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
