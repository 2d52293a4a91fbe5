#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn a binary file into a C array: bin2c.py IN OUT SYMBOL."""
import sys

data = open(sys.argv[1], "rb").read()
sym = sys.argv[3]
with open(sys.argv[2], "w") as f:
    f.write("/* Generated from %s by bin2c.py. */\n" % sys.argv[1].split("/")[-1])
    f.write("#include <stddef.h>\n#include <stdint.h>\n")
    f.write("extern const uint8_t %s[];\nextern const size_t %s_len;\n" % (sym, sym))
    f.write("const uint8_t %s[] = {\n" % sym)
    for i in range(0, len(data), 12):
        f.write("    " + ", ".join("0x%02x" % b for b in data[i:i + 12]) + ",\n")
    f.write("};\nconst size_t %s_len = %d;\n" % (sym, len(data)))
