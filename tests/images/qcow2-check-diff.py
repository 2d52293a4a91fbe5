#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Differential test of `mimic-img check` against `qemu-img check`.

Damaged qcow2 images are generated class by class: each case starts from
an image made by qemu-img/qemu-io (data, a compressed cluster, two internal
snapshots; v3 and v2 with 4 KiB clusters, v3 with 64 KiB clusters and
8-bit refcounts, v3 with 512-byte clusters and 64-bit refcounts) and
damages one structure, following the layout
in QEMU's docs/interop/qcow2.txt (L1/L2 entries and their reserved bits,
compressed descriptors, refcount table and blocks, the snapshot table,
header extensions, feature bits).  For every case:

1. `check --output=json` with both tools: the verdicts (exit code 0/1/2/3,
   corruptions > 0, leaks > 0) must be the same;
2. `check -r all` with both tools on two copies; after that, qemu-img must
   find the copy Mimic repaired as clean as the copy it repaired itself
   (what QEMU can repair, Mimic repairs too), and exactly as Mimic's own
   `check -r all` exit code said.

Usage: qcow2-check-diff.py MIMIC_IMG [CASE...]; exit 77 without qemu-img.
With MIMIC_QCHECK_REPORT=1 every case is printed, agreeing or not.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

QEMU_IMG = '/usr/bin/qemu-img'
QEMU_IO = '/usr/bin/qemu-io'
CS = 4096                      # cluster size of the base images
COPIED = 1 << 63
COMPRESSED = 1 << 62
OFF_MASK = 0x00fffffffffffe00


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def must(cmd):
    rc, out, err = run(cmd)
    if rc:
        sys.exit('setup failed: %s: %s%s' % (' '.join(cmd), out, err))
    return out


class Skip(Exception):
    """The class does not apply to this base image."""


def v3_only(m):
    if m.version < 3:
        raise Skip()


class Img:
    """A qcow2 image in memory with just enough parsing to damage it."""

    def __init__(self, data):
        self.d = bytearray(data)
        self.cb = self.u32(20)
        self.cs = 1 << self.cb
        self.version = self.u32(4)
        self.size = self.u64(24)
        self.l1_size = self.u32(36)
        self.l1_off = self.u64(40)
        self.rt_off = self.u64(48)
        self.rt_cl = self.u32(56)
        self.nb_snap = self.u32(60)
        self.snap_off = self.u64(64)
        self.hdr_len = self.u32(100) if self.version >= 3 else 72
        self.order = self.u32(96) if self.version >= 3 else 4

    def u16(self, o):
        return struct.unpack_from('>H', self.d, o)[0]

    def u32(self, o):
        return struct.unpack_from('>I', self.d, o)[0]

    def u64(self, o):
        return struct.unpack_from('>Q', self.d, o)[0]

    def p16(self, o, v):
        struct.pack_into('>H', self.d, o, v & 0xffff)

    def p32(self, o, v):
        struct.pack_into('>I', self.d, o, v & 0xffffffff)

    def p64(self, o, v):
        struct.pack_into('>Q', self.d, o, v & 0xffffffffffffffff)

    def eof_cluster(self, extra=16):
        """An aligned offset well past the end of the file."""
        return ((len(self.d) + self.cs - 1) // self.cs + extra) * self.cs

    # L1/L2 ----------------------------------------------------------------
    def l1e_off(self, i):
        return self.l1_off + 8 * i

    def l2_entries(self):
        """(byte offset of the entry, entry) of every used active L2 entry."""
        out = []
        for i in range(self.l1_size):
            l2 = self.u64(self.l1e_off(i)) & OFF_MASK
            if not l2:
                continue
            for j in range(self.cs // 8):
                e = self.u64(l2 + 8 * j)
                if e:
                    out.append((l2 + 8 * j, e))
        return out

    def data_entry(self, copied=True):
        """An L2 entry of a normal data cluster, COPIED set or not."""
        for o, e in self.l2_entries():
            if e & COMPRESSED or not e & OFF_MASK:
                continue
            if bool(e & COPIED) == copied:
                return o, e
        raise RuntimeError('no such data entry')

    def compressed_entry(self):
        for o, e in self.l2_entries():
            if e & COMPRESSED:
                return o, e
        raise RuntimeError('no compressed entry')

    # refcounts (16-bit refcounts, as the base images have) ----------------
    def rc_loc(self, cluster):
        """(byte offset, bit shift, bits) of a cluster's refcount."""
        bits = 1 << self.order
        per = self.cs * 8 // bits
        rb = self.u64(self.rt_off + 8 * (cluster // per)) & ~511
        assert rb
        bit = (cluster % per) * bits
        if bits >= 8:
            return rb + bit // 8, 0, bits
        return rb + bit // 8, bit % 8, bits

    def rc(self, cluster):
        o, sh, bits = self.rc_loc(cluster)
        if bits >= 8:
            return int.from_bytes(self.d[o:o + bits // 8], 'big')
        return (self.d[o] >> sh) & ((1 << bits) - 1)

    def set_rc(self, cluster, v):
        o, sh, bits = self.rc_loc(cluster)
        if bits >= 8:
            self.d[o:o + bits // 8] = v.to_bytes(bits // 8, 'big')
        else:
            mask = ((1 << bits) - 1) << sh
            self.d[o] = (self.d[o] & ~mask) | ((v << sh) & mask)

    # snapshots ------------------------------------------------------------
    def snapshots(self):
        out, o = [], self.snap_off
        for _ in range(self.nb_snap):
            sn = {'l1_off': self.u64(o), 'l1_size': self.u32(o + 8),
                  'date': self.d[o + 16:o + 32],
                  'vmsize': self.u32(o + 32)}
            il, nl, xl = self.u16(o + 12), self.u16(o + 14), self.u32(o + 36)
            sn['extra'] = bytes(self.d[o + 40:o + 40 + xl])
            sn['id'] = bytes(self.d[o + 40 + xl:o + 40 + xl + il])
            sn['name'] = bytes(self.d[o + 40 + xl + il:
                                      o + 40 + xl + il + nl])
            sn['at'] = o
            out.append(sn)
            o += 40 + xl + il + nl
            o = (o + 7) & ~7
        return out

    def write_snapshots(self, snaps, count=None):
        """Serialize a (damaged) table over the old one, in place."""
        t = bytearray()
        for sn in snaps:
            t += struct.pack('>QIHH', sn['l1_off'], sn['l1_size'],
                             sn.get('id_len', len(sn['id'])),
                             len(sn['name']))
            t += sn['date']
            t += struct.pack('>II', sn['vmsize'],
                             sn.get('extra_len', len(sn['extra'])))
            t += sn['extra'] + sn['id'] + sn['name']
            t += bytes(-len(t) % 8)
        end = self.snap_off + len(t)
        if end > (self.snap_off // self.cs + 1) * self.cs:
            raise Skip()     # would outgrow its cluster (small clusters)
        self.d[self.snap_off:end] = t
        self.p32(60, len(snaps) if count is None else count)

    # header extensions ----------------------------------------------------
    def extensions(self):
        out, o = [], self.hdr_len
        while o + 8 <= self.cs:
            t, ln = self.u32(o), self.u32(o + 4)
            if t == 0:
                break
            out.append((o, t, ln))
            o += 8 + ((ln + 7) & ~7)
        return out


# Damage classes -----------------------------------------------------------
CASES = []


def case(fn):
    CASES.append((fn.__name__.replace('_', '-'), fn.__doc__.strip(), fn))
    return fn


@case
def clean(m):
    """the undamaged base image"""


@case
def l1_reserved_low(m):
    """L1 entry with reserved bit 1 set"""
    m.p64(m.l1e_off(0), m.u64(m.l1e_off(0)) | 2)


@case
def l1_reserved_high(m):
    """L1 entry with reserved bit 57 set"""
    m.p64(m.l1e_off(0), m.u64(m.l1e_off(0)) | (1 << 57))


@case
def l1_unaligned(m):
    """L1 entry pointing 512 bytes into a cluster"""
    m.p64(m.l1e_off(0), m.u64(m.l1e_off(0)) + 512)


@case
def l1_past_eof(m):
    """L1 entry pointing past the end of the file"""
    m.p64(m.l1e_off(0), COPIED | m.eof_cluster())


@case
def l1_copied_clear(m):
    """L1 entry of an unshared L2 table without COPIED"""
    for i in range(m.l1_size):
        e = m.u64(m.l1e_off(i))
        if e & COPIED:
            m.p64(m.l1e_off(i), e & ~COPIED)
            return
    raise RuntimeError('no COPIED L1 entry')


@case
def l1_points_at_rt(m):
    """L1 entry pointing at the refcount table"""
    m.p64(m.l1e_off(0), COPIED | m.rt_off)


@case
def l2_reserved_low(m):
    """data L2 entry with reserved bit 3 set"""
    o, e = m.data_entry()
    m.p64(o, e | 8)


@case
def l2_reserved_high(m):
    """data L2 entry with reserved bit 59 set"""
    o, e = m.data_entry()
    m.p64(o, e | (1 << 59))


@case
def l2_unaligned(m):
    """data L2 entry pointing 512 bytes into a cluster"""
    o, e = m.data_entry()
    m.p64(o, e + 512)


@case
def l2_zero_unaligned(m):
    """zero-flagged L2 entry with an unaligned offset"""
    v3_only(m)
    o, e = m.data_entry()
    m.p64(o, (e + 512) | 1)


@case
def l2_past_eof(m):
    """data L2 entry pointing past the end of the file"""
    o, e = m.data_entry()
    m.p64(o, COPIED | m.eof_cluster())


@case
def l2_copied_clear(m):
    """data L2 entry with refcount 1 but no COPIED"""
    o, e = m.data_entry(copied=True)
    m.p64(o, e & ~COPIED)


@case
def l2_copied_shared(m):
    """data L2 entry shared with a snapshot but with COPIED"""
    o, e = m.data_entry(copied=False)
    m.p64(o, e | COPIED)


@case
def l2_duplicate(m):
    """two L2 entries naming the same data cluster"""
    ents = [(o, e) for o, e in m.l2_entries()
            if not e & COMPRESSED and e & OFF_MASK and e & COPIED]
    m.p64(ents[1][0], ents[0][1])


@case
def l2_points_at_l1(m):
    """data L2 entry pointing at the active L1 table"""
    o, e = m.data_entry()
    m.p64(o, COPIED | (m.l1_off & ~(m.cs - 1)))


@case
def l2_points_at_refblock(m):
    """data L2 entry pointing at a refcount block"""
    o, e = m.data_entry()
    m.p64(o, COPIED | (m.u64(m.rt_off) & OFF_MASK))


@case
def l2_compressed_copied(m):
    """compressed L2 entry with COPIED set"""
    o, e = m.compressed_entry()
    m.p64(o, e | COPIED)


@case
def l2_compressed_past_eof(m):
    """compressed L2 entry whose data lies past the end of the file"""
    o, e = m.compressed_entry()
    x = 62 - (m.cb - 8)
    m.p64(o, (e & ~((1 << x) - 1)) | m.eof_cluster())


@case
def l2_compressed_sectors_max(m):
    """compressed L2 entry with the largest sector count"""
    o, e = m.compressed_entry()
    x = 62 - (m.cb - 8)
    m.p64(o, e | (((1 << (m.cb - 8)) - 1) << x))


@case
def rt_reserved(m):
    """refcount table entry with reserved bit 0 set"""
    m.p64(m.rt_off, m.u64(m.rt_off) | 1)


@case
def rt_unaligned(m):
    """refcount table entry pointing 512 bytes into a cluster"""
    m.p64(m.rt_off, m.u64(m.rt_off) + 512)


@case
def rt_past_eof(m):
    """used refcount table entry pointing past the end of the file"""
    m.p64(m.rt_off, m.eof_cluster())


@case
def rt_unused_past_eof(m):
    """unused refcount table entry pointing past the end of the file"""
    m.p64(m.rt_off + 8 * 5, m.eof_cluster())


@case
def rt_unused_reserved(m):
    """unused refcount table entry with only reserved bits"""
    m.p64(m.rt_off + 8 * 5, 0x3)


@case
def rt_unused_unaligned(m):
    """unused refcount table entry with an unaligned offset"""
    m.p64(m.rt_off + 8 * 5, m.cs * 3 + 512)


@case
def rt_unused_at_l1(m):
    """unused refcount table entry pointing at the L1 table"""
    m.p64(m.rt_off + 8 * 5, m.l1_off & ~(m.cs - 1))


@case
def rt_at_l2(m):
    """refcount table entry pointing at an L2 table"""
    m.p64(m.rt_off, m.u64(m.l1e_off(0)) & OFF_MASK)


@case
def rb_too_low(m):
    """data cluster with refcount 0"""
    o, e = m.data_entry()
    m.set_rc((e & OFF_MASK) // m.cs, 0)


@case
def rb_too_low_shared(m):
    """shared data cluster with refcount 1"""
    o, e = m.data_entry(copied=False)
    m.set_rc((e & OFF_MASK) // m.cs, 1)


@case
def rb_too_high(m):
    """unshared data cluster with refcount 2 (COPIED set)"""
    o, e = m.data_entry()
    m.set_rc((e & OFF_MASK) // m.cs, 2)


@case
def rb_too_high_shared(m):
    """shared data cluster with one refcount too many"""
    o, e = m.data_entry(copied=False)
    c = (e & OFF_MASK) // m.cs
    m.set_rc(c, m.rc(c) + 1)


@case
def rb_leak(m):
    """an unreferenced cluster with refcount 1 at the end"""
    end = (len(m.d) + m.cs - 1) // m.cs
    m.d += bytes(end * m.cs - len(m.d) + m.cs)
    m.set_rc(end, 1)


@case
def rb_past_eof(m):
    """refcount 1 for a cluster past the end of the file"""
    m.set_rc(len(m.d) // m.cs + 8, 1)


@case
def rb_metadata_zero(m):
    """the L1 table's cluster with refcount 0"""
    m.set_rc(m.l1_off // m.cs, 0)


@case
def rb_refblock_zero(m):
    """the refcount block's own refcount 0"""
    m.set_rc((m.u64(m.rt_off) & OFF_MASK) // m.cs, 0)


@case
def snap_offset_unaligned(m):
    """snapshot table offset not cluster aligned"""
    m.p64(64, m.snap_off + 8)


@case
def snap_offset_past_eof(m):
    """snapshot table offset past the end of the file"""
    m.p64(64, m.eof_cluster())


@case
def snap_count_plus_one(m):
    """one snapshot more in the header than in the table"""
    m.p32(60, m.nb_snap + 1)


@case
def snap_count_huge(m):
    """70000 snapshots in the header"""
    m.p32(60, 70000)


@case
def snap_extra_huge(m):
    """snapshot with 2000 bytes of extra data"""
    s = m.snapshots()
    s[0]['extra'] = s[0]['extra'] + bytes(2000 - len(s[0]['extra']))
    m.write_snapshots(s)


@case
def snap_extra_short(m):
    """v3 snapshot with 8 bytes of extra data (needs 16)"""
    v3_only(m)
    s = m.snapshots()
    s[0]['extra'] = s[0]['extra'][:8]
    m.write_snapshots(s)


@case
def snap_extra_none(m):
    """v3 snapshot without extra data"""
    v3_only(m)
    s = m.snapshots()
    s[1]['extra'] = b''
    m.write_snapshots(s)


@case
def snap_duplicate_id(m):
    """two snapshots with the same id"""
    s = m.snapshots()
    s[1]['id'] = s[0]['id']
    m.write_snapshots(s)


@case
def snap_duplicate_name(m):
    """two snapshots with the same name"""
    s = m.snapshots()
    s[1]['name'] = s[0]['name']
    m.write_snapshots(s)


@case
def snap_l1_unaligned(m):
    """snapshot L1 table offset not cluster aligned"""
    s = m.snapshots()
    s[0]['l1_off'] += 512
    m.write_snapshots(s)


@case
def snap_l1_past_eof(m):
    """snapshot L1 table past the end of the file"""
    s = m.snapshots()
    s[0]['l1_off'] = m.eof_cluster()
    m.write_snapshots(s)


@case
def snap_l1_size_huge(m):
    """snapshot L1 table of 2^28 entries"""
    s = m.snapshots()
    s[0]['l1_size'] = 1 << 28
    m.write_snapshots(s)


@case
def snap_l1_entry_past_eof(m):
    """snapshot L1 entry pointing past the end of the file"""
    s = m.snapshots()
    m.p64(s[0]['l1_off'], m.eof_cluster())


@case
def snap_id_len_huge(m):
    """snapshot id length running past the end of the file"""
    s = m.snapshots()
    m.p16(s[-1]['at'] + 12, 0xffff)


@case
def snap_table_refcount_zero(m):
    """the snapshot table's cluster with refcount 0"""
    m.set_rc(m.snap_off // m.cs, 0)


@case
def hdr_ext_len_huge(m):
    """header extension longer than the cluster"""
    m.d[m.hdr_len:m.hdr_len + 16] = struct.pack('>IIQ', 0x12345678,
                                                 0x7ffffff0, 0)


@case
def hdr_ext_len_tail(m):
    """header extension running 8 bytes past the cluster"""
    m.d[m.hdr_len:m.hdr_len + 8] = struct.pack('>II', 0x12345678,
                                               m.cs - m.hdr_len)


@case
def hdr_ext_unknown(m):
    """an unknown header extension"""
    m.d[m.hdr_len:m.hdr_len + 24] = struct.pack('>II', 0x12345678, 13) + \
        b'unknown-ext!!\0\0\0'


@case
def hdr_feature_table_odd(m):
    """feature name table with a length that is not a multiple of 48"""
    t = bytes([0, 0]) + b'dirty bit'.ljust(46, b'\0')
    t += bytes([0, 1]) + b'corr'
    m.d[m.hdr_len:m.hdr_len + 8 + 56] = struct.pack(
        '>II', 0x6803f857, len(t)) + t + bytes(-len(t) % 8)


@case
def hdr_incompat_unknown(m):
    """unknown incompatible feature bit 12"""
    v3_only(m)
    m.p64(72, m.u64(72) | (1 << 12))


@case
def hdr_compat_unknown(m):
    """unknown compatible feature bit 9"""
    v3_only(m)
    m.p64(80, m.u64(80) | (1 << 9))


@case
def hdr_autoclear_unknown(m):
    """unknown autoclear feature bit 7"""
    v3_only(m)
    m.p64(88, m.u64(88) | (1 << 7))


@case
def hdr_corrupt_bit(m):
    """corrupt bit set on a consistent image"""
    v3_only(m)
    m.p64(72, m.u64(72) | 2)


@case
def hdr_corrupt_bit_leak(m):
    """corrupt bit set and a leaked cluster"""
    v3_only(m)
    rb_leak(m)
    m.p64(72, m.u64(72) | 2)


@case
def hdr_dirty_leak(m):
    """lazy refcounts dirty bit set with a leaked cluster"""
    v3_only(m)
    rb_leak(m)
    m.p64(80, m.u64(80) | 1)
    m.p64(72, m.u64(72) | 1)


@case
def hdr_l1_overlaps_rt(m):
    """L1 table offset equal to the refcount table's"""
    m.p64(40, m.rt_off)


@case
def hdr_l1_size_small(m):
    """L1 size smaller than the virtual size needs"""
    m.p64(24, m.size * 4)


@case
def hdr_l1_unaligned(m):
    """L1 table offset not cluster aligned"""
    m.p64(40, m.l1_off + 512)


@case
def hdr_rt_unaligned(m):
    """refcount table offset not cluster aligned"""
    m.p64(48, m.rt_off + 512)


@case
def hdr_header_length_huge(m):
    """header length larger than a cluster"""
    v3_only(m)
    m.p32(100, m.cs + 8)


# Driver -------------------------------------------------------------------
def make_base(d, name, opts):
    base = os.path.join(d, name + '.qcow2')
    must([QEMU_IMG, 'create', '-q', '-f', 'qcow2', '-o', opts, base, '4M'])
    cs = int(opts.split('cluster_size=')[1].split(',')[0])
    must([QEMU_IO, '-c', 'write -P 0x11 0 64k',
          '-c', 'write -c -P 0x22 1M %d' % cs, base])
    must([QEMU_IMG, 'snapshot', '-c', 's1', base])
    must([QEMU_IO, '-c', 'write -P 0x33 8k 8k', '-c', 'write -P 0x44 2M 4k',
          base])
    must([QEMU_IMG, 'snapshot', '-c', 's2', base])
    must([QEMU_IO, '-c', 'write -P 0x55 3M 8k', '-c',
          'write -P 0x66 3584k 4k', base])
    with open(base, 'rb') as f:
        return f.read()


# Base images: (name, qemu-img create options).
BASES = [('v3', 'cluster_size=%d' % CS),
         ('v2', 'cluster_size=%d,compat=0.10' % CS),
         ('v3-64k-rc8', 'cluster_size=65536,refcount_bits=8'),
         ('v3-512-rc64', 'cluster_size=512,refcount_bits=64')]


def opens(tool, path):
    """Can the tool open the image read-only (info)?"""
    rc, out, err = run([tool, 'info', '--output=json', path])
    return rc == 0


def verdict(tool, path, repair=False):
    cmd = [tool, 'check', '--output=json']
    if repair:
        cmd += ['-r', 'all']
    rc, out, err = run(cmd + [path])
    v = {'rc': rc, 'corrupt': False, 'leaks': False,
         'err': err.strip().splitlines()[-1:] if err.strip() else []}
    if out.strip():
        try:
            j = json.loads(out)
            v['corrupt'] = j.get('corruptions', 0) > 0
            v['leaks'] = j.get('leaks', 0) > 0
        except ValueError:
            v['err'].append('unparseable JSON')
    return v


def key(v):
    if v['rc'] == 1:
        return (1,)          # check not completed: counts mean nothing
    return (v['rc'], v['corrupt'], v['leaks'])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    mimic = os.path.abspath(sys.argv[1])
    want = set(sys.argv[2:])
    if not (os.access(QEMU_IMG, os.X_OK) and os.access(QEMU_IO, os.X_OK)):
        print('*** %s or %s missing: qcow2 check NOT compared with QEMU ***'
              % (QEMU_IMG, QEMU_IO), file=sys.stderr)
        return 77
    verbose = os.environ.get('MIMIC_QCHECK_REPORT') == '1'
    d = tempfile.mkdtemp(prefix='qcheck-')
    try:
        agree_check = agree_repair = agree_open = 0
        bad = []
        n = 0
        for bname, bopts in BASES:
            base = make_base(d, bname, bopts)
            for name, doc, fn in CASES:
                if want and name not in want:
                    continue
                img = Img(base)
                try:
                    fn(img)
                except Skip:
                    continue
                n += 1
                name = bname + '/' + name
                p = os.path.join(d, name.replace('/', '-') + '.qcow2')
                with open(p, 'wb') as f:
                    f.write(img.d)
                q = verdict(QEMU_IMG, p)
                mv = verdict(mimic, p)
                ok1 = key(q) == key(mv)
                agree_check += ok1
                # Opening for reading (info): Mimic opens what QEMU opens.
                oq, om = opens(QEMU_IMG, p), opens(mimic, p)
                ok0 = oq == om
                agree_open += ok0
                # Repair on copies, then qemu-img judges both results.
                pq, pm = p + '.q', p + '.m'
                shutil.copy(p, pq)
                shutil.copy(p, pm)
                rq = verdict(QEMU_IMG, pq, repair=True)
                rm = verdict(mimic, pm, repair=True)
                aq = verdict(QEMU_IMG, pq)
                am = verdict(QEMU_IMG, pm)
                # What QEMU leaves clean, Mimic must leave clean; where
                # QEMU cannot repair, Mimic may do better but not worse.
                # Mimic's own verdict after its repair must be what
                # qemu-img then finds.
                ok2 = (am['rc'] == aq['rc'] or am['rc'] == 0) and \
                    rm['rc'] == am['rc']
                agree_repair += ok2
                good = ok0 and ok1 and ok2
                line = ('%-29s open q=%d m=%d %s | check q=%s m=%s %s | '
                        'repair q=%d->%d m=%d->%d %s'
                        % (name, oq, om, 'ok' if ok0 else 'DIFF',
                           key(q), key(mv), 'ok' if ok1 else 'DIFF',
                           rq['rc'], aq['rc'], rm['rc'], am['rc'],
                           'ok' if ok2 else 'DIFF'))
                if verbose or not good:
                    print(line)
                    if not good:
                        print('    %s; qemu: %s; mimic: %s; mimic -r: %s' %
                              (doc, q['err'], mv['err'], rm['err']))
                if not good:
                    bad.append(name)
        print('%d/%d damaged images: check verdict agrees with qemu-img; '
              '%d/%d: repair agrees; %d/%d: open (info) agrees'
              % (agree_check, n, agree_repair, n, agree_open, n))
        if bad:
            print('disagree: ' + ' '.join(bad))
            return 1
        return 0
    finally:
        if os.environ.get('MIMIC_QCHECK_KEEP') != '1':
            shutil.rmtree(d, ignore_errors=True)
        else:
            print('kept ' + d)


if __name__ == '__main__':
    sys.exit(main())
