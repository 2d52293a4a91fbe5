#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every source file carries an SPDX licence line near its top."""
import os
import sys

EXT = (".c", ".h", ".py", ".sh", ".build", ".txt", ".ui", ".in")
SKIP_DIRS = {".git", "build", "po"}


def main():
    root = sys.argv[1]
    missing = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS
                   and not x.startswith("build")]
        for name in files:
            if not name.endswith(EXT) or name == "CMakeLists.txt":
                continue
            path = os.path.join(d, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                head = "".join(f.readline() for _ in range(3))
            if "SPDX-License-Identifier:" not in head:
                missing.append(os.path.relpath(path, root))
    for m in missing:
        print("no SPDX line:", m)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
