#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write a reproducible gzip'd cpio "newc" archive (Linux initramfs format,
Documentation/driver-api/early-userspace/buffer-format.rst) from a directory,
plus device nodes given on the command line, without needing root.

Entries are sorted, owned by 0:0, dated SOURCE_DATE_EPOCH; gzip carries no
name or time (like gzip -n).

usage: mkcpio.py DIR OUT.gz [--node PATH:MODE:c|b:MAJOR:MINOR]...
"""
import gzip
import os
import stat
import sys


def header(ino, mode, nlink, mtime, size, rmaj=0, rmin=0, namesize=0):
    fields = [ino, mode, 0, 0, nlink, mtime, size, 0, 0, rmaj, rmin,
              namesize, 0]
    return b'070701' + b''.join(b'%08X' % f for f in fields)


def pad(n):
    return b'\0' * ((4 - n % 4) % 4)


def main():
    src, out = sys.argv[1], sys.argv[2]
    nodes = []
    args = sys.argv[3:]
    while args:
        if args[0] != '--node' or len(args) < 2:
            sys.exit(__doc__)
        path, mode, kind, maj, mnr = args[1].split(':')
        kbit = stat.S_IFCHR if kind == 'c' else stat.S_IFBLK
        nodes.append((path.lstrip('/'), kbit | int(mode, 8), int(maj),
                      int(mnr)))
        args = args[2:]
    mtime = int(os.environ.get('SOURCE_DATE_EPOCH', '0'))
    entries = []
    for dirpath, dirs, files in os.walk(src):
        for name in dirs + files:
            full = os.path.join(dirpath, name)
            entries.append(os.path.relpath(full, src))
    entries.sort()
    blob = bytearray()
    ino = 1

    def emit(name, mode, data=b'', rmaj=0, rmin=0, nlink=1):
        nonlocal ino
        nm = name.encode() + b'\0'
        blob.extend(header(ino, mode, nlink, mtime, len(data), rmaj, rmin,
                           len(nm)))
        blob.extend(nm)
        blob.extend(pad(110 + len(nm)))
        blob.extend(data)
        blob.extend(pad(len(data)))
        ino += 1

    for name in entries:
        full = os.path.join(src, name)
        st = os.lstat(full)
        perm = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            emit(name, stat.S_IFLNK | 0o777, os.readlink(full).encode())
        elif stat.S_ISDIR(st.st_mode):
            emit(name, stat.S_IFDIR | perm, nlink=2)
        elif stat.S_ISREG(st.st_mode):
            with open(full, 'rb') as f:
                emit(name, stat.S_IFREG | perm, f.read())
    for path, mode, maj, mnr in sorted(nodes):
        emit(path, mode, rmaj=maj, rmin=mnr)
    emit('TRAILER!!!', 0, nlink=1)
    blob.extend(b'\0' * ((512 - len(blob) % 512) % 512))
    with open(out + '.tmp', 'wb') as raw:
        with gzip.GzipFile(filename='', mode='wb', fileobj=raw, mtime=0,
                           compresslevel=9) as gz:
            gz.write(bytes(blob))
    os.replace(out + '.tmp', out)


if __name__ == '__main__':
    main()
