#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Sum meson testlog.json files into one 'N passed, N failed, N skipped'."""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        try:
            r = json.loads(line)
        except ValueError:
            continue
        res = r.get("result", "")
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
