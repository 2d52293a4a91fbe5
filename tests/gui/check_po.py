#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Check the translation set-up (GNU gettext manual, "po/POTFILES.in").

po/POTFILES is sorted and lists exactly the files with translatable
strings; every language in po/LINGUAS has a .po that msgfmt --check
accepts with no untranslated or fuzzy message left against a fresh
template from xgettext.  Exits 77 when the gettext tools are missing.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

root = sys.argv[1]
po = os.path.join(root, "po")
fail = []

potfiles = [l.strip() for l in open(os.path.join(po, "POTFILES"))
            if l.strip() and not l.startswith("#")]
if potfiles != sorted(potfiles):
    fail.append("po/POTFILES is not sorted")
MARK = re.compile(r'(\b_\(|\bN_\(|translatable="yes")')
want = []
for d in ("src/gui", "data/ui"):
    for name in sorted(os.listdir(os.path.join(root, d))):
        p = os.path.join(d, name)
        if name.endswith((".c", ".ui")) and \
                MARK.search(open(os.path.join(root, p)).read()):
            want.append(p)
for p in want:
    if p not in potfiles:
        fail.append(f"{p} has translatable strings but is not in POTFILES")
for p in potfiles:
    if not os.path.exists(os.path.join(root, p)):
        fail.append(f"POTFILES lists {p}, which does not exist")

if not shutil.which("xgettext") or not shutil.which("msgfmt"):
    print("SKIP: gettext tools missing (Debian: gettext)", file=sys.stderr)
    sys.exit(77 if not fail else 1)

with tempfile.TemporaryDirectory() as tmp:
    pot = os.path.join(tmp, "mimic.pot")
    subprocess.run(["xgettext", "--from-code=UTF-8", "--keyword=_",
                    "--keyword=N_", "--keyword=C_:1c,2", "--add-comments",
                    "-o", pot, "-D", root] + potfiles, check=True)
    for lang in open(os.path.join(po, "LINGUAS")).read().split():
        pofile = os.path.join(po, lang + ".po")
        merged = os.path.join(tmp, lang + ".po")
        subprocess.run(["msgmerge", "--quiet", "--no-fuzzy-matching", "-o",
                        merged, pofile, pot], check=True)
        r = subprocess.run(["msgfmt", "--check", "--statistics", "-o",
                            os.devnull, merged], capture_output=True,
                           text=True)
        print(lang, r.stderr.strip())
        if r.returncode != 0:
            fail.append(f"{lang}.po: msgfmt --check failed: {r.stderr}")
        elif "untranslated" in r.stderr or "fuzzy" in r.stderr:
            fail.append(f"{lang}.po is incomplete: {r.stderr.strip()}")

for f in fail:
    print("FAIL:", f)
sys.exit(1 if fail else 0)
