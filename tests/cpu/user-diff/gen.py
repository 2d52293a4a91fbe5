#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Differential tests of Mimic's x86 core against qemu-i386 (qemu-user).

A generator writes random but valid i386 instruction sequences into static
i386 ELF programs (one PT_LOAD, no assembler needed).  Each program holds
SEQS sequences; each sequence
  - reloads a 1 KiB data area from its own random template, sets ESP to a
    fixed stack, EFLAGS (arithmetic flags and DF) and the GPRs to random
    values (EBP points at the data area and is never written: it is the
    base of memory operands),
  - runs random instructions (ALU, shifts/rotates by 1/imm/CL, MUL/IMUL,
    DIV/IDIV with operands chosen so no #DE, BT*, BSF/BSR, SHLD/SHRD,
    CMOVcc/SETcc, XADD/CMPXCHG/CMPXCHG8B, string ops with small ECX and
    REP, PUSH/POP/PUSHF/POPF/PUSHA, LEA, MOVZX/MOVSX, BSWAP, LAHF/SAHF, BCD,
    short forward Jcc/JMP/LOOP*/JECXZ over a few instructions),
  - dumps the 8 GPRs, EFLAGS & (CF PF AF ZF SF OF DF) and the data area with
    write(1, ...) through INT 0x80.
Every program ends with exit_group(0).

FAULTS (--faults, default 0.25 of the sequences): the sequence ends with
an instruction that faults or traps (Seq.f_*).  Each program first
installs an SA_SIGINFO handler (rt_sigaction, SA_NODEFER, SA_ONSTACK
on a sigaltstack, so that stack faults can be delivered) for SIGILL,
SIGTRAP, SIGBUS, SIGFPE and SIGSEGV; it writes the record from the
sigcontext (GPRs, EFLAGS, trapno, err, EIP), si_signo/si_code/si_addr
and the 16 bytes below IMG_END (over FSAVE), then jumps to [RESUME], the
next sequence (it never returns: no sigreturn).  The image is padded to
IMG_END; the page above it, the page below BASE and HOLE are unmapped.

16-bit code (--code16, default 0.15 of the sequences; faults there too,
but no fetch faults, which would be CS limit violations): the body runs in a 16-bit code segment set up with modify_ldt,
entered and left with JMP FAR; each instruction has its 66/67 prefixes
toggled (to16) so that it does what it does in 32-bit code.

Undefined flags: the generator tracks, for each arithmetic flag, whether
its current value is architecturally defined (each instruction emitted
states which flags it writes and which of those it leaves undefined, for
the operand values it knows: shift counts are immediates or loaded into CL
just before).  Before any instruction that reads a flag whose value is
undefined (ADC/SBB, RCL/RCR, Jcc, SETcc, CMOVcc, LAHF, PUSHF, DAA, CMC...),
and before the final dump, it emits `pushfd; and dword [esp], ~U; popfd`
which forces the undefined flags to 0 on both engines, so they never reach
a register, memory or the dump.  Results that are undefined are avoided by
construction (16-bit SHLD/SHRD counts above 16, BSWAP r16, #DE).

Run as the meson test: gen.py --harness build/tests/cpu/x86-user
  [-n SEQUENCES] [-s SEED] [--keep DIR] [--jobs J]
Prints failures (with the instructions of the sequence) and, last,
`user-diff: N passed, M failed`.  Exits 77 when qemu-i386 is missing.
"""
import argparse
import concurrent.futures
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

BASE = 0x00400000
DUMP = BASE + 0x0fc0          # 64 bytes: regs, eflags, magic, seq id
DATA = BASE + 0x1000          # data area, DATA_LEN bytes
DATA_LEN = 0x400
EBP_VAL = DATA + 0x200
STACK_TOP = BASE + 0x3800     # stack grows down from here, 0x1000 used
FPOOL = BASE + 0x3800         # finite doubles (FPOOL_N), then floats
FPOOL_N = 96
TMPL = BASE + 0x4000          # data templates, one per sequence
FSAVE = DATA + DATA_LEN - 80  # the x87 stack is stored here at the dump
REC_LEN = 64 + DATA_LEN
MAGIC = 0x46494455            # 'UDIF'
ACT = BASE + 0xf90            # struct sigaction for the fault handler
RET_PTR = BASE + 0xf68        # far pointer back from 16-bit code
UDESC = BASE + 0xf70          # struct user_desc for modify_ldt
ALTSS = BASE + 0xf58          # stack_t for sigaltstack
CUR_SID = BASE + 0xfb0        # the running sequence's id
RESUME = BASE + 0xfb4         # where the fault handler goes on
IMG_END = BASE + 0x80000      # the image is padded to here: unmapped above
HOLE = 0x20000000             # unmapped under both engines
WINDOW = IMG_END - 16         # the fault handler copies it to FSAVE
SIGNALS = [4, 5, 7, 8, 11]    # SIGILL SIGTRAP SIGBUS SIGFPE SIGSEGV
LDT_DESCS = BASE + 0xe00      # struct user_desc for LDT_ENTRIES
# LDT entries each program makes (modify_ldt(1, ...)): (entry, base,
# limit, user_desc flags: seg_32bit 1, contents 2, read_exec_only 8,
# limit_in_pages 16, seg_not_present 32)
LDT_ENTRIES = [(1, 0x1000, 0xfffff, 1 | 16 | 32),   # data, not present
               (2, 0x10000, 0xfff, 1 | 4 | 8),      # code, execute-only
               (3, 0x10000, 0xfff, 1 | 4),          # code, readable
               (4, 0x10000, 0xfff, 1 | 8),          # data, read-only
               (5, 0x10000, 0xfff, 1),              # data, read/write
               (6, 0x10000, 0xfff, 1 | 4 | 32)]     # code, not present
# (entry, segment register or 'jmp', vector) of the loads that fault
# (SDM vol. 2 MOV, JMP): #NP(sel) for DS/ES not present, #SS(sel) for SS,
# #GP(sel) for execute-only into DS, code or read-only into SS, RPL !=
# CPL into SS, data as a JMP target; #NP(sel) for a not-present target.
LDT_FAULTS = [(1, 3, 11), (1, 0, 11), (1, 2, 12), (2, 3, 13), (2, 5, 13),
              (3, 2, 13), (4, 2, 13), (5, 2, 13), (5, 'jmp', 13),
              (4, 'jmp', 13), (6, 'jmp', 11)]
SA_NODEFER = 0x40000000
SA_SIGINFO = 4
SA_ONSTACK = 0x08000000
ALTSTACK = IMG_END - 0x4000   # sigaltstack, 8 KiB: stack faults need it
ALTSTACK_SIZE = 0x2000

CF, PF, AF, ZF, SF, OF, DF = 0x1, 0x4, 0x10, 0x40, 0x80, 0x800, 0x400
ALL6 = CF | PF | AF | ZF | SF | OF
SZAP = SF | ZF | AF | PF
DUMP_MASK = ALL6 | DF

# Flags read by condition code cc.
CC_READS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF,
            SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF]

WREG = [0, 1, 2, 3, 6, 7]     # writable 16/32-bit registers (not ESP/EBP)
EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI = range(8)

def _fpool():
    """Finite doubles and floats for the x87 loads (fixed seed)."""
    r = random.Random(12345)
    ds = [0.0, -0.0, 1.0, -1.0, 0.5, 0.1, 3.0, 1e10, -1e-10, 2.0 ** 60,
          12345.678, -7.0]
    while len(ds) < FPOOL_N:
        ds.append(r.choice([-1, 1]) * r.random() * 2.0 ** r.randrange(-40,
                                                                       41))
    b = b''.join(struct.pack('<d', d) for d in ds)
    return b + b''.join(struct.pack('<f', d) for d in ds)


FPOOL_BYTES = _fpool()

EDGE = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
        0x80000000, 0xffffffff, 0x10, 0x1f, 0x20, 0x21]


PREFIXES = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0xf0, 0xf2, 0xf3, 0x66, 0x67}


def to16(b):
    """One 32-bit-code instruction as the same instruction in 16-bit code:
    the operand- and address-size prefixes toggled (the ModRM, SIB and
    immediates keep their meaning)."""
    b = bytes(b)
    i, pre, o, a = 0, bytearray(), False, False
    while i < len(b) and b[i] in PREFIXES:
        if b[i] == 0x66:
            o = True
        elif b[i] == 0x67:
            a = True
        else:
            pre.append(b[i])
        i += 1
    return bytes(pre) + (b'' if o else b'\x66') + (b'' if a else b'\x67') \
        + b[i:]


class Seq:
    """Instruction emission with flag-definedness tracking."""

    def __init__(self, rng):
        self.r = rng
        self.code = bytearray()
        self.names = []
        self.undef = 0            # flags whose value is undefined now
        self.depth = 0            # bytes pushed since the sequence start
        self.in_block = False     # inside a skipped block: no stack ops
        self.marks = []           # (code length, undef, names, fdepth)
        self.vec = None           # the vector the last instruction raises
        self.mode16 = False       # the body runs in a 16-bit code segment
        self.init_len = 0         # bytes of 32-bit set-up before the body
        self.fdepth = 0           # x87 registers in use

    def val(self):
        r = self.r
        k = r.randrange(4)
        if k == 0:
            return r.choice(EDGE)
        if k == 1:
            return r.randrange(64)
        return r.getrandbits(32)

    def emit(self, name, b, reads=0, writes=0, undef=0):
        """Append one instruction (b: its bytes as in 32-bit code)."""
        if reads & self.undef:
            self.normalize()
        self.code += to16(b) if self.mode16 else bytes(b)
        self.names.append(name)
        self.undef = (self.undef & ~writes) | undef

    def normalize(self):
        u = self.undef
        # pushfd; and dword [esp], ~u; popfd
        for b in (b'\x9c', b'\x81\x24\x24' + struct.pack('<I', ~u & 0xffffffff),
                  b'\x9d'):
            self.code += to16(b) if self.mode16 else b
        self.names.append('normalize(%#x)' % u)
        self.undef = 0

    # ---- operands ----
    def mem(self, reg, size=4):
        """ModRM bytes for a memory operand inside the data area."""
        r = self.r
        k = r.randrange(4)
        if k == 0:
            a = DATA + r.randrange(DATA_LEN - 8)
            return bytes([(reg << 3) | 5]) + struct.pack('<I', a)
        if k == 1:
            return bytes([0x40 | (reg << 3) | 5, r.randrange(256)])
        if k == 2:
            d = r.randrange(-0x200, 0x200 - 8)
            return bytes([0x80 | (reg << 3) | 5]) + struct.pack('<i', d)
        # SIB, base EBP (mod 01: [ebp+disp8]), no index
        return bytes([0x44 | (reg << 3), 0x25, r.randrange(256)])

    def reg(self, size):
        return self.r.randrange(8) if size == 1 else self.r.choice(WREG)

    def rm(self, reg, size, allow_mem=True):
        if allow_mem and self.r.randrange(2):
            return self.mem(reg, size)
        return bytes([0xc0 | (reg << 3) | self.reg(size)])

    def size(self, allow8=True):
        k = self.r.randrange(5 if allow8 else 4)
        return [4, 4, 2, 4, 1][k]

    def pfx(self, size):
        return b'\x66' if size == 2 else b''

    def lock(self, b, at):
        """LOCK on a read-modify-write whose ModRM (b[at]) is memory."""
        if b[at] < 0xc0 and self.r.randrange(3) == 0:
            return b'\xf0' + b
        return b

    def imm(self, size):
        v = self.val()
        return struct.pack('<I', v)[:size]

    # ---- instruction kinds ----
    def i_alu(self):
        r = self.r
        op = r.randrange(8)
        rd = CF if op in (2, 3) else 0
        ud = AF if op in (1, 4, 6) else 0
        names = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp']
        s = self.size()
        w = s != 1
        form = r.randrange(4)
        if form == 0:
            b = bytes([op * 8 + w]) + self.rm(self.reg(s), s)
        elif form == 1:
            b = bytes([op * 8 + 2 + w]) + self.rm(self.reg(s), s)
        elif form == 2:
            if s == 1:
                b = b'\x80' + self.rm(op, s) + self.imm(1)
            elif r.randrange(2):
                b = b'\x83' + self.rm(op, s) + self.imm(1)
            else:
                b = b'\x81' + self.rm(op, s) + self.imm(s)
        else:
            b = bytes([op * 8 + 4 + w]) + self.imm(s)
        if form in (0, 2) and op != 7:
            b = self.lock(b, 1)
        self.emit(names[op], self.pfx(s) + b, rd, ALL6, ud)

    def i_test(self):
        s = self.size()
        w = s != 1
        if self.r.randrange(2):
            b = bytes([0x84 + w]) + self.rm(self.reg(s), s)
        elif self.r.randrange(2):
            b = bytes([0xf6 + w]) + self.rm(0, s) + self.imm(s)
        else:
            b = bytes([0xa8 + w]) + self.imm(s)
        self.emit('test', self.pfx(s) + b, 0, ALL6, AF)

    def i_incdec(self):
        s = self.size()
        op = self.r.randrange(2)
        if s != 1 and self.r.randrange(2):
            b = bytes([0x40 + op * 8 + self.reg(s)])
        else:
            b = self.lock(bytes([0xfe + (s != 1)]) + self.rm(op, s), 1)
        self.emit('inc/dec', self.pfx(s) + b, 0, ALL6 & ~CF, 0)

    def i_notneg(self):
        s = self.size()
        op = self.r.randrange(2, 4)
        b = self.lock(bytes([0xf6 + (s != 1)]) + self.rm(op, s), 1)
        self.emit('not/neg', self.pfx(s) + b, 0, ALL6 if op == 3 else 0, 0)

    def count(self):
        r = self.r
        return r.choice([0, 1, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33,
                         r.randrange(256)])

    def shift_flags(self, op, s, c):
        """(reads, writes, undef) of group-2 op `op` by count c."""
        c &= 31
        bits = s * 8
        if op in (0, 1, 2, 3):          # ROL ROR RCL RCR
            rd = CF if op >= 2 else 0
            if c == 0:
                return rd, 0, 0
            return rd, CF | OF, 0 if c == 1 else OF
        if c == 0:
            return 0, 0, 0
        ud = AF | (0 if c == 1 else OF)
        if op != 7 and c >= bits:       # SHL/SHR/SAL: CF undefined
            ud |= CF
        return 0, ALL6, ud

    def i_shift(self):
        r = self.r
        s = self.size()
        op = r.randrange(8)
        w = s != 1
        form = r.randrange(3)
        if form == 0:
            c = self.count()
            b = bytes([0xc0 + w]) + self.rm(op, s) + bytes([c])
        elif form == 1:
            c = 1
            b = bytes([0xd0 + w]) + self.rm(op, s)
        else:
            c = self.count()
            self.emit('mov cl', [0xb1, c])
            b = bytes([0xd2 + w]) + self.rm(op, s)
        rd, wr, ud = self.shift_flags(op, s, c)
        self.emit('shift/%d' % op, self.pfx(s) + b, rd, wr, ud)

    def i_shxd(self):
        r = self.r
        s = r.choice([2, 4, 4])
        right = r.randrange(2)
        c = self.count() & 31
        if s == 2 and c > 16:
            c = r.randrange(17)
        if r.randrange(2):
            b = bytes([0x0f, 0xa4 + 8 * right]) + self.rm(self.reg(s), s) \
                + bytes([c | (r.randrange(8) << 5)])
        else:
            self.emit('mov cl', [0xb1, c | (r.randrange(8) << 5)])
            b = bytes([0x0f, 0xa5 + 8 * right]) + self.rm(self.reg(s), s)
        if c == 0:
            self.emit('shld/shrd 0', self.pfx(s) + b)
        else:
            self.emit('shld/shrd', self.pfx(s) + b, 0, ALL6,
                      AF | (0 if c == 1 else OF))

    def i_mul(self):
        r = self.r
        s = self.size()
        op = r.randrange(4, 6)
        b = bytes([0xf6 + (s != 1)]) + self.rm(op, s)
        self.emit('mul/imul', self.pfx(s) + b, 0, ALL6, SZAP)

    def i_imul2(self):
        r = self.r
        s = self.size(False)
        k = r.randrange(3)
        if k == 0:
            b = b'\x0f\xaf' + self.rm(self.reg(s), s)
        elif k == 1:
            b = b'\x6b' + self.rm(self.reg(s), s) + self.imm(1)
        else:
            b = b'\x69' + self.rm(self.reg(s), s) + self.imm(s)
        self.emit('imul2/3', self.pfx(s) + b, 0, ALL6, SZAP)

    def i_div(self):
        r = self.r
        s = self.size()
        signed = r.randrange(2)
        bits = s * 8
        m = (1 << bits) - 1
        while True:
            d = self.val() & m
            if signed:
                d -= (1 << bits) if d >> (bits - 1) else 0
                n = r.getrandbits(2 * bits)
                n -= (1 << 2 * bits) if n >> (2 * bits - 1) else 0
                if r.randrange(2):
                    n >>= r.randrange(2 * bits)
            else:
                n = r.getrandbits(2 * bits)
                if r.randrange(2):
                    n >>= r.randrange(2 * bits)
            if d == 0:
                continue
            q = abs(n) // abs(d)
            if signed and (n < 0) != (d < 0):
                q = -q
            if signed and -(1 << (bits - 1)) <= q < (1 << (bits - 1)):
                break
            if not signed and 0 <= q <= m:
                break
        n &= (1 << 2 * bits) - 1
        d &= m
        if s == 1:
            self.emit('mov ax', b'\x66\xb8' + struct.pack('<H', n))
        else:
            self.emit('mov eax', self.pfx(s) + bytes([0xb8])
                      + struct.pack('<I', n & m)[:s])
            self.emit('mov edx', self.pfx(s) + bytes([0xba])
                      + struct.pack('<I', n >> bits)[:s])
        op = 6 + signed
        if r.randrange(2):
            reg = r.choice([1, 3, 5, 7] if s == 1 else [1, 3, 6, 7])
            self.emit('mov divisor', self.pfx(s) + bytes(
                [(0xb0 if s == 1 else 0xb8) + reg])
                + struct.pack('<I', d)[:s])
            b = bytes([0xf6 + (s != 1), 0xc0 | (op << 3) | reg])
        else:
            mb = self.mem(0, s)
            self.emit('mov [divisor]', self.pfx(s) + bytes(
                [0xc6 + (s != 1)]) + mb + struct.pack('<I', d)[:s])
            b = bytes([0xf6 + (s != 1)]) + mb[:1] + mb[1:]
            b = bytes([b[0], b[1] | (op << 3)]) + b[2:]
        self.emit('div/idiv', self.pfx(s) + b, 0, ALL6, ALL6)

    def i_bt(self):
        r = self.r
        s = r.choice([2, 4, 4])
        op = r.randrange(4)
        if r.randrange(2):
            b = bytes([0x0f, 0xa3 + 8 * op]) + self.rm(self.reg(s), s, False)
        else:
            b = b'\x0f\xba' + self.rm(4 + op, s) + self.imm(1)
            if op:
                b = self.lock(b, 2)
        u = OF | SF | AF | PF
        self.emit('bt*', self.pfx(s) + b, 0, CF | u, u)

    def i_bsx(self):
        s = self.r.choice([2, 4, 4])
        b = bytes([0x0f, 0xbc + self.r.randrange(2)]) + \
            self.rm(self.reg(s), s)
        self.emit('bsf/bsr', self.pfx(s) + b, 0, ALL6, ALL6 & ~ZF)

    def i_cmov(self):
        s = self.r.choice([2, 4, 4])
        cc = self.r.randrange(16)
        b = bytes([0x0f, 0x40 + cc]) + self.rm(self.reg(s), s)
        self.emit('cmov%d' % cc, self.pfx(s) + b, CC_READS[cc])

    def i_setcc(self):
        cc = self.r.randrange(16)
        b = bytes([0x0f, 0x90 + cc]) + self.rm(0, 1)
        self.emit('set%d' % cc, b, CC_READS[cc])

    def i_xadd(self):
        s = self.size()
        op = self.r.choice([0xc0, 0xb0])
        b = self.lock(bytes([0x0f, op + (s != 1)]) + self.rm(self.reg(s), s),
                      2)
        self.emit('xadd/cmpxchg', self.pfx(s) + b, 0, ALL6, 0)

    def i_cmpxchg8b(self):
        # EXCLUSION (QEMU bug): the SDM says CMPXCHG8B sets ZF and leaves
        # every other flag unchanged, and Mimic does (test x86
        # /cpu/x86/cmpxchg8b-flags).  Debian's qemu-i386 7.2 corrupts its
        # flag state after it: `xor edx,edx; cmpxchg8b (equal)` loses PF;
        # `inc eax; stc; cmpxchg8b (unequal)` sets PF and AF; in longer
        # sequences even DF, NT and TF came back wrong from a later PUSHF
        # (TF then killed qemu with SIGTRAP).  So ZF is captured with SETZ
        # right after it and all of EFLAGS is reloaded with PUSH imm; POPF.
        r = self.r
        self.emit('cmpxchg8b', self.lock(b'\x0f\xc7' + self.mem(1, 8), 2),
                  0, ALL6,
                  ALL6 & ~ZF)
        self.emit('setz', [0x0f, 0x94, 0xc0 | r.randrange(8)], ZF)
        fl = 0x202 | (r.getrandbits(32) & DUMP_MASK)
        self.emit('push fl', b'\x68' + struct.pack('<I', fl))
        self.emit('popf', b'\x9d', 0, ALL6, 0)

    def i_string(self):
        r = self.r
        s = self.size()
        w = s != 1
        op = r.choice([0xa4, 0xa6, 0xaa, 0xac, 0xae])
        n = r.randrange(13)
        self.emit('mov esi', b'\xbe' + struct.pack(
            '<I', DATA + r.randrange(0x100, 0x2d0)))
        self.emit('mov edi', b'\xbf' + struct.pack(
            '<I', DATA + r.randrange(0x100, 0x2d0)))
        self.emit('mov ecx', b'\xb9' + struct.pack('<I', n))
        rep = r.randrange(3)
        p = b''
        if rep == 1:
            p = b'\xf3'
        elif rep == 2 and op in (0xa6, 0xae):
            p = b'\xf2'
        else:
            rep = 0
        flags = op in (0xa6, 0xae) and not (rep and n == 0)
        self.emit('string %#x rep%d n%d' % (op, rep, n),
                  p + self.pfx(s) + bytes([op + w]), 0,
                  ALL6 if flags else 0, 0)

    def i_push(self):
        r = self.r
        if self.depth > 0x800:
            return self.i_pop()
        s = r.choice([2, 4, 4, 4])
        k = r.randrange(5)
        if k == 0:
            b = bytes([0x50 + r.randrange(8)])
        elif k == 1:
            b = b'\x6a' + self.imm(1)
        elif k == 2:
            b = b'\x68' + self.imm(s)
        elif k == 3:
            b = b'\xff' + self.mem(6, s)
        else:
            self.emit('pushf', self.pfx(s) + b'\x9c', ALL6)
            self.depth += s
            return
        self.emit('push', self.pfx(s) + b)
        self.depth += s

    def i_pop(self):
        r = self.r
        s = r.choice([2, 4, 4, 4])
        if self.depth < s:
            return self.i_push()
        if r.randrange(2):
            b = bytes([0x58 + r.choice(WREG)])
        else:
            b = b'\x8f' + self.mem(0, s)
        self.emit('pop', self.pfx(s) + b)
        self.depth -= s

    def i_pusha(self):
        if self.depth > 0x800:
            return self.i_pop()
        s = self.r.choice([2, 4])
        self.emit('pusha', self.pfx(s) + b'\x60')
        self.depth += 8 * s

    def i_popf(self):
        r = self.r
        reg = r.choice(WREG)
        self.emit('pushf', b'\x9c', ALL6)
        self.emit('pop', bytes([0x58 + reg]))
        # also IF and IOPL (ignored by POPF at CPL 3, IOPL 0) and ID
        self.emit('xor', b'\x81' + bytes([0xf0 + reg]) + struct.pack(
            '<I', r.getrandbits(32) & (DUMP_MASK | 0x203200)), 0, ALL6, AF)
        self.emit('push', bytes([0x50 + reg]))
        self.emit('popf', b'\x9d', 0, ALL6, 0)

    def i_lea(self):
        r = self.r
        s = r.choice([2, 4, 4])
        reg = self.reg(s)
        mod = r.randrange(3)
        if r.randrange(2):
            rm = r.randrange(8)
            b = bytes([(mod << 6) | (reg << 3) | rm])
            if rm == 4:
                b += bytes([r.randrange(256)])
                if mod == 0 and b[-1] & 7 == 5:
                    b += self.imm(4)
            elif mod == 0 and rm == 5:
                b += self.imm(4)
        else:
            b = bytes([(mod << 6) | (reg << 3) | 4, r.randrange(256)])
            if mod == 0 and b[-1] & 7 == 5:
                b += self.imm(4)
        b += [b'', self.imm(1), self.imm(4)][mod]
        self.emit('lea', self.pfx(s) + b'\x8d' + b)

    def i_movx(self):
        s = self.r.choice([2, 4, 4])
        op = self.r.choice([0xb6, 0xb7, 0xbe, 0xbf])
        if s == 2 and op & 1:
            s = 4
        src = 2 if op & 1 else 1
        b = bytes([0x0f, op]) + self.rm(self.reg(s), src)
        self.emit('movzx/sx', self.pfx(s) + b)

    def i_mov(self):
        r = self.r
        s = self.size()
        w = s != 1
        k = r.randrange(5)
        if k == 0:
            b = bytes([0x88 + w]) + self.rm(self.reg(s), s)
        elif k == 1:
            b = bytes([0x8a + w]) + self.rm(self.reg(s), s)
        elif k == 2:
            b = bytes([0xc6 + w]) + self.rm(0, s) + self.imm(s)
        elif k == 3:
            b = bytes([0xb0 + 8 * w + self.reg(s)]) + self.imm(s)
        else:
            if s != 1 and r.randrange(2):
                b = bytes([0x90 + r.choice(WREG)])
            else:
                b = bytes([0x86 + w]) + self.rm(self.reg(s), s)
        self.emit('mov/xchg', self.pfx(s) + b)

    def i_enter(self):
        """ENTER (nesting level 0-3: the frame pointers are copied from
        the data area below EBP) and LEAVE right after it."""
        r = self.r
        if self.depth > 0x700:
            return self.i_alu()
        self.emit('enter', b'\xc8' + struct.pack('<H', r.randrange(0x100))
                  + bytes([r.randrange(4)]))
        self.emit('leave', b'\xc9')

    def i_misc(self):
        r = self.r
        k = r.randrange(12)
        if k == 11:
            # The hint-NOP space: ENDBR32 (gcc -fcf-protection), then
            # 0F 19-1F with any operand, 0F 0D/18 (prefetches) with a
            # memory one; none of them touches memory or flags.
            c = r.randrange(3)
            if c == 0:
                self.emit('endbr32', b'\xf3\x0f\x1e\xfb')
            elif c == 1:
                op = r.randrange(0x19, 0x20)
                self.emit('hint nop', self.pfx(r.choice([2, 4])) +
                          bytes([0x0f, op]) + self.rm(r.randrange(8), 4))
            else:
                op = r.choice([0x0d, 0x18])
                self.emit('prefetch', bytes([0x0f, op]) +
                          self.mem(r.randrange(8)))
        elif k == 10:
            self.emit('mov ebx', b'\xbb' + struct.pack(
                '<I', DATA + r.randrange(DATA_LEN - 256)))
            self.emit('xlat', b'\xd7')
        elif k == 0:
            self.emit('bswap', bytes([0x0f, 0xc8 + r.choice(WREG)]))
        elif k == 1:
            self.emit('lahf', b'\x9f', SF | ZF | AF | PF | CF)
        elif k == 2:
            self.emit('sahf', b'\x9e', 0, SF | ZF | AF | PF | CF, 0)
        elif k == 3:
            self.emit('cmc', b'\xf5', CF, CF, 0)
        elif k == 4:
            self.emit('clc/stc', [r.choice([0xf8, 0xf9])], 0, CF, 0)
        elif k == 5:
            self.emit('cld/std', [r.choice([0xfc, 0xfd])])
        elif k == 6:
            self.emit('cbw/cwd', self.pfx(r.choice([2, 4]))
                      + bytes([r.choice([0x98, 0x99])]))
        elif k == 7:
            op = r.choice([0x27, 0x2f])
            self.emit('daa/das', [op], AF | CF, ALL6, OF)
        elif k == 8:
            op = r.choice([0x37, 0x3f])
            self.emit('aaa/aas', [op], AF, ALL6, OF | SF | ZF | PF)
        else:
            if r.randrange(2):
                self.emit('aam', [0xd4, r.choice([10, r.randrange(1, 256)])],
                          0, ALL6, OF | AF | CF)
            else:
                self.emit('aad', [0xd5, r.choice([10, r.randrange(256)])],
                          0, ALL6, OF | AF | CF)

    def i_x87(self):
        """x87 arithmetic on finite values (loads from FPOOL or integers);
        the stack never over- or underflows (depth tracked)."""
        r = self.r
        d = self.fdepth
        ops = []
        if d < 7 and not self.in_block:
            ops += ['fld', 'fld', 'fild', 'fconst']
        if d >= 1:
            ops += ['arith', 'arith', 'marith', 'unary', 'fist', 'fst']
            ops += ['fcomi']
            if not self.in_block:
                ops += ['fstp', 'fistp']
        if d >= 2:
            ops += ['arith', 'fxch', 'fcmov']
            if not self.in_block:
                ops += ['arithp']
        if not ops:
            return self.i_alu()
        k = r.choice(ops)
        i = r.randrange(max(d, 1))
        if k == 'fld':
            j = r.randrange(FPOOL_N)
            if r.randrange(2):
                b = b'\xdd\x05' + struct.pack('<I', FPOOL + 8 * j)
            else:
                b = b'\xd9\x05' + struct.pack('<I', FPOOL + 8 * FPOOL_N
                                               + 4 * j)
            self.emit('fld pool', b)
            self.fdepth += 1
        elif k == 'fild':
            self.emit('fild', b'\xdb' + self.mem(0, 4))
            self.fdepth += 1
        elif k == 'fconst':
            self.emit('fldconst', [0xd9, r.choice([0xe8, 0xeb, 0xec, 0xed,
                                                   0xee, 0xe9, 0xea])])
            self.fdepth += 1
        elif k == 'arith':
            op = r.choice([0, 1, 4, 5, 6, 7])   # add mul sub subr div divr
            pre = r.choice([0xd8, 0xdc])
            self.emit('farith', [pre, 0xc0 | (op << 3) | i])
        elif k == 'arithp':
            op = r.choice([0, 1, 4, 5, 6, 7])
            self.emit('farithp', [0xde, 0xc0 | (op << 3) | max(i, 1)])
            self.fdepth -= 1
        elif k == 'marith':
            op = r.choice([0, 1, 4, 5, 6, 7])
            j = r.randrange(FPOOL_N)
            if r.randrange(2):
                b = b'\xdc' + bytes([(op << 3) | 5]) + struct.pack(
                    '<I', FPOOL + 8 * j)
            else:
                b = b'\xd8' + bytes([(op << 3) | 5]) + struct.pack(
                    '<I', FPOOL + 8 * FPOOL_N + 4 * j)
            self.emit('farith mem', b)
        elif k == 'unary':
            op = r.choice([0xe0, 0xe1, 0xfc, 0xfa])  # fchs fabs frndint fsqrt
            if op == 0xfa:
                self.emit('fabs', [0xd9, 0xe1])
            self.emit('funary', [0xd9, op])
        elif k == 'fxch':
            self.emit('fxch', [0xd9, 0xc8 | max(i, 1)])
        elif k == 'fcomi':
            pop = not self.in_block and r.randrange(2)  # F(U)COMIP
            # EXCLUSION (QEMU bug): F(U)COMI(P) clear OF, SF and AF (SDM;
            # Mimic does, test /cpu/x86/fcomi-flags); qemu-i386 7.2 leaves
            # them unchanged.  So they are treated as undefined after it.
            self.emit('fcomi', [0xdf if pop else 0xdb,
                                r.choice([0xf0, 0xe8]) | i], 0, ALL6,
                      OF | SF | AF)
            self.fdepth -= pop
        elif k == 'fcmov':
            cc = r.randrange(8)
            rd = [CF, ZF, CF | ZF, PF][cc & 3]
            self.emit('fcmov', [0xda + (cc >> 2), 0xc0 | ((cc & 3) << 3)
                                | max(i, 1)], rd)
        elif k == 'fist':
            self.emit('fist', b'\xdb' + self.mem(2, 4))
        elif k == 'fistp':
            self.emit('fistp', b'\xdb' + self.mem(3, 4))
            self.fdepth -= 1
        elif k == 'fst':
            if r.randrange(2):
                self.emit('fst qword', b'\xdd' + self.mem(2, 8))
            else:
                self.emit('fst dword', b'\xd9' + self.mem(2, 4))
        elif k == 'fstp':
            self.emit('fstp qword', b'\xdd' + self.mem(3, 8))
            self.fdepth -= 1

    def i_branch(self):
        """A short forward branch over a few instructions."""
        r = self.r
        if self.in_block:
            return self.i_alu()
        k = r.randrange(6)
        if k <= 2:
            cc = r.randrange(16)
            op, rd, name = 0x70 + cc, CC_READS[cc], 'j%d' % cc
        elif k == 3:
            op, rd, name = 0xeb, 0, 'jmp'
        elif k == 4:
            op = r.choice([0xe0, 0xe1, 0xe2, 0xe3])
            rd, name = (ZF if op < 0xe2 else 0), 'loop/jecxz %#x' % op
        else:
            op, rd, name = 0xe2, 0, 'loop'
        if rd & self.undef:
            self.normalize()
        saved_code, saved_names, u0 = self.code, self.names, self.undef
        while True:
            self.code, self.names, self.undef = bytearray(), [], u0
            self.in_block = True
            for _ in range(r.randrange(1, 5)):
                self.one()
            self.in_block = False
            if len(self.code) < 128:
                break
        block, bnames, u1 = self.code, self.names, self.undef
        self.code, self.names, self.undef = saved_code, saved_names, u0
        self.emit(name, [op, len(block)], rd)
        self.code += block
        self.names += ['  ' + n for n in bnames]
        self.undef = u0 | u1


    # ---- faulting last instructions (see FAULTS in the module doc) ----
    def f_div(self):
        """#DE: divide by zero (register or memory) or quotient overflow."""
        r = self.r
        s = self.size()
        m = (1 << 8 * s) - 1
        signed = r.randrange(2)
        k = r.randrange(3)
        if k == 2:
            # overflow: unsigned with high half >= divisor, or MIN / -1
            if signed:
                d = m
                if s == 1:
                    self.emit('mov ax', b'\x66\xb8\x00\x80')
                else:
                    self.emit('mov eax', self.pfx(s) + b'\xb8' + struct.pack(
                        '<I', 1 << (8 * s - 1))[:s])
                    self.emit('mov edx', self.pfx(s) + b'\xba' + struct.pack(
                        '<I', m)[:s])
            else:
                d = r.randrange(1, 1 << (8 * s - 1))
                hi = r.randrange(d, m + 1)
                if s == 1:
                    self.emit('mov ah', b'\xb4' + bytes([hi]))
                else:
                    self.emit('mov edx', self.pfx(s) + b'\xba' + struct.pack(
                        '<I', hi)[:s])
        else:
            d = 0
        op = 6 + signed
        if k == 1:
            mb = self.mem(0, s)
            self.emit('mov [divisor]', self.pfx(s) + bytes(
                [0xc6 + (s != 1)]) + mb + struct.pack('<I', d)[:s])
            b = bytes([0xf6 + (s != 1), mb[0] | (op << 3)]) + mb[1:]
        else:
            reg = r.choice([1, 3, 5, 7] if s == 1 else [1, 3, 6, 7])
            self.emit('mov divisor', self.pfx(s) + bytes(
                [(0xb0 if s == 1 else 0xb8) + reg])
                + struct.pack('<I', d)[:s])
            b = bytes([0xf6 + (s != 1), 0xc0 | (op << 3) | reg])
        self.emit('FAULT div/idiv #DE', self.pfx(s) + b)
        self.vec = 0

    # EXCLUSION (QEMU bug): LOCK on MOV (f0 89 /m, f0 8b /m) and on XADD
    # with a register destination (f0 0f c1 c0) must #UD (SDM vol. 2
    # "LOCK": only the listed read-modify-write instructions, and only with
    # a memory destination); qemu-i386 7.2 executes them.  Mimic #UDs (test
    # x86 /cpu/x86/lock-ud); not generated here.
    UD = [b'\x0f\x0b', b'\xf0\x90', b'\x8d\xc0', b'\x8d\xd9', b'\x0f\xc7\xc9',
          b'\x62\xc0', b'\x62\xd3', b'\x66\x62\xc0', b'\xff\xf8', b'\xff\xff',
          b'\xff\xd8', b'\xff\xe8', b'\xfe\xd0', b'\xfe\xff', b'\x8e\xc8',
          b'\xf0\x01\xc0', b'\xf0\x31\xd8',
          b'\x0f\xff', b'\x0f\xb2\xc0', b'\x0f\xb4\xc1']
    PRIV = [b'\xf4', b'\xfa', b'\xfb', b'\xec', b'\xed', b'\x66\xed', b'\xee',
            b'\xef', b'\xe4\x60', b'\xe6\x80', b'\xe5\x40', b'\x6c', b'\x6d',
            b'\x6e', b'\x6f', b'\x0f\x22\xc0', b'\x0f\x20\xc0',
            b'\x0f\x20\xd8', b'\x0f\x22\xd8', b'\x0f\x21\xf8',
            b'\x0f\x23\xf8', b'\x0f\x06', b'\x0f\x08', b'\x0f\x09',
            b'\x0f\x32', b'\x0f\x30', b'\x0f\x01\x55\x00', b'\x0f\x01\x5d\x00',
            b'\x0f\x01\xf0', b'\x0f\x00\xd8', b'\x0f\x00\xd0',
            b'\x0f\x01\x7d\x00', b'\xf3\x6c', b'\xf3\x6e']

    def f_ud(self):
        """#UD: invalid encodings."""
        b = self.r.choice(self.UD)
        self.emit('FAULT ud %s' % b.hex(), b)
        self.vec = 6

    def f_priv(self):
        """#GP(0): privileged or IOPL-sensitive at CPL 3, IOPL 0."""
        b = self.r.choice(self.PRIV)
        self.emit('FAULT priv %s' % b.hex(), b)
        self.vec = 13

    def selector(self):
        """A selector past both engines' GDTs, or in the (absent) LDT."""
        r = self.r
        if r.randrange(2):
            return r.randrange(0x80 >> 3, 0x2000) << 3 | r.randrange(4)
        return r.randrange(16, 0x2000) << 3 | 4 | r.randrange(4)

    def f_ldt(self):
        """A descriptor check fault: a segment register loaded with one of
        the LDT entries the program made (LDT_ENTRIES)."""
        r = self.r
        n, sreg, vec = r.choice(LDT_FAULTS)
        sel = n << 3 | 4 | 3
        if n == 5:
            sel = n << 3 | 4 | r.randrange(3)     # RPL != CPL into SS
        if sreg == 'jmp':
            self.emit('FAULT jmp far %#x' % sel, b'\xea' + struct.pack(
                '<IH', 0, sel))
        else:
            self.emit('mov ax', b'\x66\xb8' + struct.pack('<H', sel))
            self.emit('FAULT mov sreg%d, %#x' % (sreg, sel),
                      bytes([0x8e, 0xc0 | sreg << 3]))
        self.vec = vec

    def f_sel(self):
        """#GP(selector) from segment loads and far transfers."""
        r = self.r
        if r.randrange(3) == 0:
            return self.f_ldt()
        sel = self.selector()
        self.vec = 13
        k = r.randrange(6)
        if k == 0:      # mov sreg, ax (SS may also get a null selector)
            sreg = r.choice([0, 2, 3, 4, 5])
            if sreg == 2 and r.randrange(3) == 0:
                sel = r.randrange(4)
            self.emit('mov ax', b'\x66\xb8' + struct.pack('<H', sel))
            self.emit('FAULT mov sreg%d, %#x' % (sreg, sel),
                      bytes([0x8e, 0xc0 | sreg << 3]))
        elif k == 1:    # push sel; pop sreg (ESP must stay)
            op = r.choice([b'\x1f', b'\x07', b'\x17', b'\x0f\xa1',
                           b'\x0f\xa9'])
            self.emit('push sel', b'\x68' + struct.pack('<I', sel))
            self.emit('FAULT pop sreg %s, %#x' % (op.hex(), sel), op)
        elif k == 2:    # lds/les/lss/lfs/lgs r, [ebp+d]
            d = r.randrange(-0x200, 0x1f0)
            self.emit('mov [far ptr]', b'\xc7\x85' + struct.pack(
                '<iI', d, self.val()))
            self.emit('mov [far sel]', b'\x66\xc7\x85' + struct.pack(
                '<iH', d + 4, sel))
            op = r.choice([b'\xc5', b'\xc4', b'\x0f\xb2', b'\x0f\xb4',
                           b'\x0f\xb5'])
            reg = r.choice(WREG)
            self.emit('FAULT lxs %s, %#x' % (op.hex(), sel),
                      op + bytes([0x85 | reg << 3]) + struct.pack('<i', d))
        elif k == 3:    # jmp/call far ptr16:32
            op = r.choice([b'\xea', b'\x9a'])
            self.emit('FAULT jmp/call far %#x' % sel,
                      op + struct.pack('<IH', self.val(), sel))
        else:           # jmp/call far [ebp+d]
            d = r.randrange(-0x200, 0x1f0)
            self.emit('mov [far ptr]', b'\xc7\x85' + struct.pack(
                '<iI', d, self.val()))
            self.emit('mov [far sel]', b'\x66\xc7\x85' + struct.pack(
                '<iH', d + 4, sel))
            reg = r.choice([3, 5])
            self.emit('FAULT jmp/call far [m] %#x' % sel,
                      bytes([0xff, 0x85 | reg << 3]) + struct.pack('<i', d))

    def fault_addr(self, size):
        r = self.r
        k = r.randrange(4)
        if k == 0:
            return HOLE + r.randrange(0x1000)
        if k == 1:
            return IMG_END + r.randrange(0x100)
        if k == 2:
            return IMG_END - r.randrange(1, size) if size > 1 else IMG_END
        return BASE - r.randrange(1, size) if size > 1 else BASE - 1

    def f_pf(self):
        """#PF: loads, stores, fetches, straddles, REP strings that run
        into an unmapped page (ECX/ESI/EDI show the iterations done)."""
        r = self.r
        self.vec = 14
        k = r.randrange(6)
        while self.mode16 and k == 2:
            k = r.randrange(6)      # a fetch there is past the CS limit
        if k == 0:      # load/store through ESI
            op, size = r.choice([(b'\x8b\x06', 4), (b'\x89\x06', 4),
                                 (b'\x66\x8b\x06', 2), (b'\x66\x89\x06', 2),
                                 (b'\x88\x06', 1), (b'\x0f\xb6\x06', 1),
                                 (b'\x0f\xbf\x06', 2), (b'\xff\x36', 4),
                                 (b'\x8f\x06', 4), (b'\x39\x06', 4),
                                 (b'\xdd\x06', 8), (b'\x01\x06', 4),
                                 (b'\xff\x06', 4), (b'\x86\x06', 1),
                                 (b'\x0f\xc1\x06', 4), (b'\xf0\x09\x06', 4),
                                 (b'\xd1\x26', 4),
                                 (b'\x0f\xb1\x06', 4)])
            a = self.fault_addr(size)
            self.emit('mov esi', b'\xbe' + struct.pack('<I', a))
            self.emit('FAULT mem %s [%#x]' % (op.hex(), a), op)
        elif k == 1:    # moffs
            op = r.choice([b'\xa1', b'\xa3', b'\xa0', b'\xa2'])
            size = 4 if op in (b'\xa1', b'\xa3') else 1
            a = self.fault_addr(size)
            self.emit('FAULT moffs %s %#x' % (op.hex(), a),
                      op + struct.pack('<I', a))
        elif k == 2:    # fetch: jmp/call/ret to an unmapped page
            a = r.choice([HOLE + r.randrange(0x1000), IMG_END,
                          IMG_END - 1])
            if a == IMG_END - 1:
                # mov eax, imm32 straddling into the unmapped page
                self.emit('mov byte [IMG_END-1], 0xb8',
                          b'\xc6\x05' + struct.pack('<I', a) + b'\xb8')
            op = r.choice([b'\xff\xe0', b'\xff\xd0', b'ret'])
            if op == b'ret':
                self.emit('push', b'\x68' + struct.pack('<I', a))
                self.emit('FAULT ret %#x' % a, b'\xc3')
            else:
                self.emit('mov eax', b'\xb8' + struct.pack('<I', a))
                self.emit('FAULT jmp/call eax %#x' % a, op)
        else:           # REP string running off the mapped pages
            s = self.size()
            op = r.choice([0xaa, 0xac, 0xa4, 0xa4, 0xa6, 0xae])
            down = r.randrange(4) == 0
            n = r.randrange(0, 12)
            if down:
                a = BASE + n * s    # runs down into BASE - 1
            else:
                a = IMG_END - n * s - r.randrange(s)
            src = op in (0xac, 0xa6) or (op == 0xa4 and r.randrange(2))
            other = DATA + r.randrange(0x100, 0x2d0)
            if op == 0xa6 or op == 0xae:
                # CMPS/SCAS with REPE on equal data would stop early
                pass
            self.emit('std' if down else 'cld', b'\xfd' if down else b'\xfc',
                      0, DF)
            self.emit('mov esi', b'\xbe' + struct.pack(
                '<I', a if src else other))
            self.emit('mov edi', b'\xbf' + struct.pack(
                '<I', other if src else a))
            self.emit('mov ecx', b'\xb9' + struct.pack(
                '<I', n + r.randrange(1, 8)))
            rep = r.choice([b'\xf3', b'\xf2']) if op in (0xa6, 0xae) \
                else b'\xf3'
            self.emit('FAULT rep string %#x s%d from %#x' % (op, s, a),
                      rep + self.pfx(s) + bytes([op + (s != 1)]))

    STACK_OPS = [  # (bytes, pushes: ESP at the unmapped page below BASE)
        (b'\x50', True), (b'\x66\x53', True), (b'\x6a\x11', True),
        (b'\x68\x44\x33\x22\x11', True), (b'\xff\x75\x00', True),
        (b'\x9c', True), (b'\x9a\x00\x00\x00\x00\x1f\x00', True),
        (b'\xe8\x00\x00\x00\x00', True), (b'\xff\xd3', True),
        (b'\xc8\x08\x00\x00', True), (b'\x0e', True), (b'\x0f\xa0', True),
        (b'\x58', False), (b'\x66\x5b', False), (b'\x8f\x45\x00', False),
        (b'\x9d', False), (b'\x61', False), (b'\xc3', False),
        (b'\xc2\x08\x00', False), (b'\x07', False), (b'\x0f\xa1', False),
        (b'leave', False)]

    # EXCLUSION (QEMU difference): PUSHA is not generated here: its first
    # store is EAX at ESP - 4 (SDM vol. 2 PUSHA, Operation), which is where
    # Mimic faults (CR2); qemu-i386 7.2 stores from the lowest address up
    # and reports ESP - 32.  POPA and the other pushes agree.
    def f_stack(self):
        """#PF from the stack: pushes with ESP at BASE (the page below is
        unmapped), pops with ESP at IMG_END, straddling or not; ESP must
        not move (the handler runs on the sigaltstack)."""
        r = self.r
        op, push = r.choice(self.STACK_OPS)
        # EXCLUSION (QEMU difference): in 16-bit code CALL EBX aims past the
        # CS limit, which is #GP(0) before the push (SDM vol. 2 CALL,
        # Operation: the limit check comes first; Mimic does that);
        # qemu-i386 7.2 pushes first and page-faults (x86-sys
        # /x86/segment/limits, "near call past the limit").
        while self.mode16 and op == b'\xff\xd3':
            op, push = r.choice(self.STACK_OPS)
        self.vec = 14
        if push:
            # the first store faults (or straddles): ESP - size < BASE
            size = 2 if op[:1] == b'\x66' else 4
            sp = BASE + r.randrange(0, size)
        else:
            sp = IMG_END - r.randrange(0, 4)
        if op == b'leave':
            # LEAVE: ESP = EBP, then the pop faults: ESP stays as it was
            self.emit('mov ebp', b'\xbd' + struct.pack('<I', sp))
            self.emit('mov esp', b'\xbc' + struct.pack('<I', STACK_TOP))
            self.emit('FAULT leave [%#x]' % sp, b'\xc9')
            return
        if op in (b'\xff\xd3',):
            self.emit('mov ebx', b'\xbb' + struct.pack('<I', DATA))
        self.emit('mov esp', b'\xbc' + struct.pack('<I', sp))
        self.emit('FAULT stack %s esp=%#x' % (op.hex(), sp), op)

    def f_bound(self):
        """#BR (or no fault when in range)."""
        r = self.r
        s = r.choice([2, 4])
        m = (1 << 8 * s) - 1
        d = r.randrange(-0x200, 0x1f0)
        lo, hi, v = self.val() & m, self.val() & m, self.val() & m
        self.emit('mov [bounds]', self.pfx(s) + b'\xc7\x85' + struct.pack(
            '<i', d) + struct.pack('<I', lo)[:s])
        self.emit('mov [bounds+s]', self.pfx(s) + b'\xc7\x85' + struct.pack(
            '<i', d + s) + struct.pack('<I', hi)[:s])
        reg = r.choice(WREG)
        self.emit('mov r', self.pfx(s) + bytes([0xb8 + reg])
                  + struct.pack('<I', v)[:s])
        self.emit('FAULT bound', self.pfx(s) + bytes([0x62, 0x85 | reg << 3])
                  + struct.pack('<i', d))
        self.vec = 5

    def f_trap(self):
        """INT3, INT 3, INTO, TF single-step (traps: EIP after),
        INT n through a DPL 0 gate (#GP(8n+2))."""
        r = self.r
        k = r.randrange(5)
        if k == 0:
            self.vec = 3
            self.emit('FAULT int3', r.choice([b'\xcc', b'\xcd\x03']))
        elif k == 1:
            fl = 0x202 | (r.getrandbits(32) & DUMP_MASK)
            self.emit('push fl', b'\x68' + struct.pack('<I', fl))
            self.emit('popf', b'\x9d', 0, ALL6, 0)
            self.emit('FAULT into of=%d' % (fl >> 11 & 1), b'\xce')
            self.vec = 4
        elif k == 2:
            n = r.choice([0, 1, 2, 5, 6, 8, 13, 14, 0x20, 0x81, 0xff])
            self.emit('FAULT int %#x' % n, bytes([0xcd, n]))
            self.vec = 13
        else:
            # EXCLUSION (QEMU bug): ICEBP (F1) is INT1, a #DB trap (SDM
            # vol. 2 "INT n/INTO/INT3/INT1"); qemu-i386 7.2 raises SIGILL
            # at it.  Not generated; test x86-sys /cpu/x86-sys/debug/icebp-gd.
            self.vec = 1
            self.emit('pushf', b'\x9c')
            self.emit('or [esp], TF', b'\x81\x0c\x24\x00\x01\x00\x00')
            self.emit('popf', b'\x9d')
            nxt = r.choice([b'\x90', b'\x40', b'\x8b\x45\x00', b'\x01\xc3'])
            self.emit('FAULT single-step %s' % nxt.hex(), nxt, 0, ALL6, 0)

    FAULTS = [(f_div, 3), (f_ud, 2), (f_priv, 2), (f_sel, 3), (f_pf, 5),
              (f_stack, 3), (f_bound, 1), (f_trap, 2)]

    def fault(self):
        """A last instruction that faults (or traps)."""
        if self.undef:
            self.normalize()
        fns = [k[0] for k in self.FAULTS]
        wts = [k[1] for k in self.FAULTS]
        self.r.choices(fns, wts)[0](self)
        self.marks.append((len(self.code), self.undef, len(self.names),
                           self.fdepth))

    KINDS = [
        (i_alu, 12), (i_test, 2), (i_incdec, 3), (i_notneg, 2),
        (i_shift, 8), (i_shxd, 3), (i_mul, 3), (i_imul2, 3), (i_div, 3),
        (i_bt, 3), (i_bsx, 2), (i_cmov, 3), (i_setcc, 2), (i_xadd, 3),
        (i_cmpxchg8b, 1), (i_string, 3), (i_push, 3), (i_pop, 3),
        (i_pusha, 1), (i_popf, 1), (i_lea, 2), (i_movx, 2), (i_mov, 4),
        (i_misc, 6), (i_branch, 4), (i_x87, 8), (i_enter, 1),
    ]

    def one(self):
        kinds = self.KINDS
        fns = [k[0] for k in kinds]
        wts = [k[1] for k in kinds]
        while True:
            f = self.r.choices(fns, wts)[0]
            if self.in_block and f in (Seq.i_push, Seq.i_pop, Seq.i_pusha,
                                       Seq.i_popf):
                continue
            if self.in_block and f is Seq.i_branch:
                continue
            break
        f(self)
        if not self.in_block:
            self.marks.append((len(self.code), self.undef, len(self.names),
                               self.fdepth))


def gen_sequence(rng, seq_id, tmpl_addr, ninsn, fault=False, mode16=False):
    s = Seq(rng)
    c = s.code
    # cld; mov esi, tmpl; mov edi, DATA; mov ecx, DATA_LEN/4; rep movsd
    c += b'\xfc\xbe' + struct.pack('<I', tmpl_addr)
    c += b'\xbf' + struct.pack('<I', DATA)
    c += b'\xb9' + struct.pack('<I', DATA_LEN // 4) + b'\xf3\xa5'
    c += b'\xbc' + struct.pack('<I', STACK_TOP)          # mov esp
    fl = 0x202 | (rng.getrandbits(32) & DUMP_MASK)   # IF as Linux
    c += b'\x68' + struct.pack('<I', fl) + b'\x9d'       # push; popfd
    for reg in WREG:
        c += bytes([0xb8 + reg]) + struct.pack('<I', s.val())
    c += b'\xbd' + struct.pack('<I', EBP_VAL)
    c += b'\xdb\xe3'                                    # fninit
    s.names.append('init fl=%#x' % fl)
    s.marks.append((len(s.code), 0, 1, 0))
    s.init_len = len(s.code)
    if mode16:
        s.mode16 = True
        s.names.append('(16-bit code)')
    for _ in range(ninsn):
        s.one()
    if fault:
        s.fault()
    s.sid = seq_id
    return s


def finish(s, seq_id):
    """Append the dump to sequence s."""
    if s.undef:
        s.normalize()
    for i in range(s.fdepth):                   # fstp tword [FSAVE + 10i]
        s.code += b'\xdb\x3d' + struct.pack('<I', FSAVE + 10 * i)
    # fnstsw [DUMP+44]; and word [DUMP+44], ~C1.  EXCLUSION (QEMU
    # limitation): with a precision exception C1 tells whether the result
    # was rounded up (SDM 8.1.3.3; Mimic does it, test x87
    # /cpu/x87/precision-rounding); qemu-i386 7.2 never
    # sets C1 there, so C1 is not compared.
    s.code += b'\xdd\x3d' + struct.pack('<I', DUMP + 44)
    s.code += b'\x66\x81\x25' + struct.pack('<IH', DUMP + 44, 0xfdff)
    for reg in range(8):                                 # mov [DUMP+4r], r
        c = s.code
        c += bytes([0x89, 0x05 | (reg << 3)]) + struct.pack('<I',
                                                          DUMP + 4 * reg)
    c += b'\x9c\x58\x25' + struct.pack('<I', DUMP_MASK)  # pushf; pop; and
    c += b'\xa3' + struct.pack('<I', DUMP + 32)
    c += b'\xc7\x05' + struct.pack('<II', DUMP + 36, MAGIC)
    c += b'\xc7\x05' + struct.pack('<II', DUMP + 40, seq_id)
    c += b'\x66\xc7\x05' + struct.pack('<IH', DUMP + 46, 0)  # no signal
    for o in range(48, 64, 4):
        c += b'\xc7\x05' + struct.pack('<II', DUMP + o, 0)
    c += b'\xb8\x04\x00\x00\x00\xbb\x01\x00\x00\x00'     # write(1, DUMP, n)
    c += b'\xb9' + struct.pack('<I', DUMP)
    c += b'\xba' + struct.pack('<I', REC_LEN) + b'\xcd\x80'


def make_elf(rng, first_id, nseq, ninsn_max, faults=0.0, code16=0.0):
    """Returns (elf bytes, {seq_id: Seq})."""
    tmpl = bytearray()
    for _ in range(nseq):
        for _ in range(DATA_LEN // 4):
            tmpl += struct.pack('<I', Seq(rng).val())
    seqs = {}
    for i in range(nseq):
        m16 = rng.random() < code16
        s = gen_sequence(rng, first_id + i, TMPL + i * DATA_LEN,
                         rng.randrange(1, ninsn_max + 1),
                         rng.random() < faults, m16)
        seqs[first_id + i] = s
    return tmpl, seqs


# sigcontext offsets of the registers in dump order (eax ecx edx ebx esp
# ebp esi edi), then eflags, trapno, err, eip, cr2
SC_REGS = [44, 40, 36, 32, 28, 24, 20, 16]
SC_EFLAGS, SC_TRAPNO, SC_ERR, SC_EIP = 64, 48, 52, 56


def handler_code():
    """The SA_SIGINFO signal handler: the faulting state from the
    sigcontext and siginfo into the record, the window at IMG_END - 16
    into FSAVE, write(1, DUMP, REC_LEN), jmp [RESUME].
    Entry: [esp+4] signal, [esp+8] siginfo, [esp+12] ucontext (its
    sigcontext at +20)."""
    c = bytearray(b'\xfc')                              # cld
    c += b'\x8b\x5c\x24\x0c\x83\xc3\x14'              # mov ebx,[esp+12]; add ebx,20
    c += b'\x8b\x74\x24\x08'                          # mov esi, [esp+8]
    for i, o in enumerate(SC_REGS):                     # mov eax, [ebx+o]
        c += bytes([0x8b, 0x43, o]) + b'\xa3' + struct.pack(
            '<I', DUMP + 4 * i)
    c += bytes([0x8b, 0x43, SC_EFLAGS]) + b'\x25' + struct.pack(
        '<I', DUMP_MASK) + b'\xa3' + struct.pack('<I', DUMP + 32)
    c += b'\xc7\x05' + struct.pack('<II', DUMP + 36, MAGIC)
    c += b'\xa1' + struct.pack('<I', CUR_SID) + b'\xa3' + struct.pack(
        '<I', DUMP + 40)
    c += b'\x66\xc7\x05' + struct.pack('<IH', DUMP + 44, 0)
    c += b'\x8a\x06\xa2' + struct.pack('<I', DUMP + 46)   # si_signo
    c += b'\x8a\x46\x08\xa2' + struct.pack('<I', DUMP + 47)  # si_code
    for o, d in ((SC_TRAPNO, 48), (SC_ERR, 52), (SC_EIP, 56)):
        c += bytes([0x8b, 0x43, o]) + b'\xa3' + struct.pack(
            '<I', DUMP + d)
    c += b'\x8b\x46\x0c\xa3' + struct.pack('<I', DUMP + 60)  # si_addr
    # mov esi, WINDOW; mov edi, FSAVE; mov ecx, 4; rep movsd
    c += b'\xbe' + struct.pack('<I', WINDOW) + b'\xbf' + struct.pack(
        '<I', FSAVE) + b'\xb9\x04\x00\x00\x00\xf3\xa5'
    c += b'\xb8\x04\x00\x00\x00\xbb\x01\x00\x00\x00'     # write(1, DUMP, n)
    c += b'\xb9' + struct.pack('<I', DUMP)
    c += b'\xba' + struct.pack('<I', REC_LEN) + b'\xcd\x80'
    c += b'\xff\x25' + struct.pack('<I', RESUME)          # jmp [RESUME]
    return c


def layout(tmpl, seqs):
    """An ELF image running the sequences (each finished with a dump),
    with a handler for the signals of faults installed first."""
    code_addr = TMPL + len(tmpl)
    code = bytearray()
    # sigaltstack(ALTSS, NULL)
    code += b'\xb8\xba\x00\x00\x00\xbb' + struct.pack('<I', ALTSS)
    code += b'\x31\xc9\xcd\x80'
    for sig in SIGNALS:     # rt_sigaction(sig, ACT, NULL, 8)
        code += b'\xb8\xae\x00\x00\x00\xbb' + struct.pack('<I', sig)
        code += b'\xb9' + struct.pack('<I', ACT) + b'\x31\xd2'
        code += b'\xbe\x08\x00\x00\x00\xcd\x80'
    for i in range(len(LDT_ENTRIES)):   # modify_ldt(1, LDT_DESCS + 16i, 16)
        code += b'\xb8\x7b\x00\x00\x00\xbb\x01\x00\x00\x00\xb9'
        code += struct.pack('<I', LDT_DESCS + 16 * i)
        code += b'\xba\x10\x00\x00\x00\xcd\x80'
    h = handler_code()
    code += b'\xe9' + struct.pack('<i', len(h))     # jmp over the handler
    handler = code_addr + len(code)
    code += h
    for s in seqs:
        c = Seq(None)
        c.code, c.undef = bytearray(s.code), s.undef
        c.fdepth = s.fdepth
        pre = bytearray()
        if s.mode16:
            # The body in a 16-bit code segment (LDT entry 0, selector 7,
            # based at the body, limit 0xffff): set up its descriptor
            # with modify_ldt(1, UDESC, 16) and the way back (RET_PTR:
            # the offset after the body and this CS); run the 32-bit
            # set-up, jmp far 7:0, the body, jmp far [RET_PTR] (no stack
            # use: ESP is the body's own); the dump runs in 32-bit code.
            body_at = code_addr + len(code) + 20 + 48 + s.init_len + 7
            back = body_at + len(c.code) - s.init_len + 8
            pre += b'\xc7\x05' + struct.pack('<II', UDESC + 4, body_at)
            pre += b'\xb8\x7b\x00\x00\x00\xbb\x01\x00\x00\x00'
            pre += b'\xb9' + struct.pack('<I', UDESC)
            pre += b'\xba\x10\x00\x00\x00\xcd\x80'
            pre += b'\xc7\x05' + struct.pack('<II', RET_PTR, back)
            pre += b'\x8c\x0d' + struct.pack('<I', RET_PTR + 4)
            assert len(pre) == 48
            c.code = (c.code[:s.init_len] + b'\xea\x00\x00\x00\x00\x07\x00'
                      + c.code[s.init_len:] + b'\x66\x67\xff\x2d'
                      + struct.pack('<I', RET_PTR))
        finish(c, s.sid)
        # mov dword [CUR_SID], sid; mov dword [RESUME], end of the sequence
        end = code_addr + len(code) + 20 + len(pre) + len(c.code)
        code += b'\xc7\x05' + struct.pack('<II', CUR_SID, s.sid)
        code += b'\xc7\x05' + struct.pack('<II', RESUME, end)
        code += pre + c.code
    code += b'\xb8\xfc\x00\x00\x00\x31\xdb\xcd\x80'      # exit_group(0)
    image = bytearray(TMPL - BASE) + tmpl + code
    if BASE + len(image) > IMG_END:
        raise SystemExit('user-diff: image too big (fewer --per-elf)')
    image += bytearray(IMG_END - BASE - len(image))
    image[FPOOL - BASE:FPOOL - BASE + len(FPOOL_BYTES)] = FPOOL_BYTES
    image[ACT - BASE:ACT - BASE + 20] = struct.pack(
        '<IIIII', handler, SA_SIGINFO | SA_NODEFER | SA_ONSTACK, 0, 0, 0)
    image[ALTSS - BASE:ALTSS - BASE + 12] = struct.pack(
        '<III', ALTSTACK, 0, ALTSTACK_SIZE)
    for i, (n, base, limit, fl) in enumerate(LDT_ENTRIES):
        o = LDT_DESCS - BASE + 16 * i
        image[o:o + 16] = struct.pack('<IIII', n, base, limit, fl)
    # struct user_desc: entry 0, base (set per sequence), limit 0xffff,
    # readable 16-bit code (contents 2, seg_32bit 0)
    image[UDESC - BASE:UDESC - BASE + 16] = struct.pack('<IIII', 0, 0,
                                                        0xffff, 2 << 1)
    ehdr = struct.pack('<16sHHIIIIIHHHHHH', b'\x7fELF\x01\x01\x01',
                       2, 3, 1, code_addr, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    phdr = struct.pack('<IIIIIIII', 1, 0, BASE, BASE, len(image),
                       len(image), 7, 0x1000)
    image[0:len(ehdr) + len(phdr)] = ehdr + phdr
    return bytes(image)


def run_both(qemu, harness, path):
    q = subprocess.run([qemu, path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120).stdout
    m = subprocess.run([harness, path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120).stdout
    return q, m


def reduce(qemu, harness, d, tmpl, s):
    """The first instruction of s after which the engines differ."""
    p = os.path.join(d, 'reduce.elf')
    prev, prev_off = 0, 0
    for off, undef, nnames, fdepth in s.marks:
        t = Seq(None)
        t.code, t.undef, t.sid = s.code[:off], undef, s.sid
        t.fdepth = fdepth
        t.mode16, t.init_len = s.mode16, s.init_len
        with open(p, 'wb') as f:
            f.write(layout(tmpl, [t]))
        os.chmod(p, 0o755)
        q, m = run_both(qemu, harness, p)
        if q != m:
            return describe(s.sid, t, q[:REC_LEN], m[:REC_LEN]).split(
                '  insns')[0] + '\n  first difference after: ' + '; '.join(
                s.names[prev:nnames]) + ' (bytes ' + \
                s.code[prev_off:off].hex() + ')'
        prev, prev_off = nnames, off
    return 'no difference in prefixes'


def records(out):
    recs = {}
    for o in range(0, len(out) - REC_LEN + 1, REC_LEN):
        rec = out[o:o + REC_LEN]
        magic, sid = struct.unpack_from('<II', rec, 36)
        if magic == MAGIC:
            recs[sid] = rec
    return recs


def fix_trapno(q, seq):
    """EXCLUSION (QEMU limitation): qemu-i386 7.2 stores -1 in
    sigcontext.trapno (the exception is gone by the time it builds the
    frame).  The vector the generator expects for the faulting instruction
    it emitted (from the SDM) stands in for it; the error code, EIP,
    registers, si_code and si_addr still come from qemu."""
    if q is None or q[46] == 0 or struct.unpack_from('<I', q, 48)[0] != \
            0xffffffff or seq.vec is None:
        return q
    return q[:48] + struct.pack('<I', seq.vec) + q[52:]


REGS = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eflags']


def describe(sid, seq, qrec, mrec):
    lines = ['FAIL sequence %d:' % sid]
    if mrec is None:
        lines.append('  no Mimic record')
    else:
        q = struct.unpack_from('<9I', qrec)
        m = struct.unpack_from('<9I', mrec)
        for i in range(9):
            if q[i] != m[i]:
                lines.append('  %s: qemu %08x mimic %08x' % (REGS[i], q[i],
                                                            m[i]))
        qf = struct.unpack_from('<BBIIII', qrec, 46)
        mf = struct.unpack_from('<BBIIII', mrec, 46)
        if qf != mf:
            lines.append('  signo/code/trapno/err/eip/addr: qemu %d %d %d %#x '
                         '%08x %08x mimic %d %d %d %#x %08x %08x' % (qf + mf))
        qs, ms = struct.unpack_from('<H', qrec, 44)[0], \
            struct.unpack_from('<H', mrec, 44)[0]
        if qs != ms:
            lines.append('  fsw: qemu %04x mimic %04x' % (qs, ms))
        for o in range(64, REC_LEN):
            if qrec[o] != mrec[o]:
                lines.append('  data+%#x: qemu %02x mimic %02x'
                             % (o - 64, qrec[o], mrec[o]))
                break
    lines.append('  insns: ' + '; '.join(seq.names))
    lines.append('  code: ' + seq.code.hex())
    return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--harness', required=True)
    ap.add_argument('-n', type=int, default=5000, help='sequences')
    ap.add_argument('-s', type=int, default=1, help='seed')
    ap.add_argument('--per-elf', type=int, default=100)
    ap.add_argument('--insns', type=int, default=40,
                    help='max instructions per sequence')
    ap.add_argument('--faults', type=float, default=0.25,
                    help='fraction of sequences that end with a fault')
    ap.add_argument('--code16', type=float, default=0.15,
                    help='fraction of sequences whose body runs in a '
                    '16-bit code segment')
    ap.add_argument('--keep', help='write the ELF files here')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--reduce', action='store_true',
                    help='find the first differing instruction of failures')
    ap.add_argument('--show', type=int, default=10,
                    help='failures to describe')
    a = ap.parse_args()
    qemu = shutil.which('qemu-i386')
    if not qemu:
        print('user-diff: SKIPPED: qemu-i386 not found; install Debian\'s '
              'qemu-user package (make deps)', file=sys.stderr)
        print('user-diff: SKIPPED: qemu-i386 not found')
        return 77
    rng = random.Random(a.s)
    d = a.keep or tempfile.mkdtemp(prefix='user-diff-')
    os.makedirs(d, exist_ok=True)
    files, seqs, tmpls = [], {}, {}
    sid = 0
    while sid < a.n:
        k = min(a.per_elf, a.n - sid)
        tmpl, ss = make_elf(rng, sid, k, a.insns, a.faults, a.code16)
        img = layout(tmpl, [ss[i] for i in sorted(ss)])
        for i in ss:
            tmpls[i] = tmpl
        p = os.path.join(d, 'p%05d.elf' % len(files))
        with open(p, 'wb') as f:
            f.write(img)
        os.chmod(p, 0o755)
        files.append(p)
        seqs.update(ss)
        sid += k

    def run_qemu(p):
        return subprocess.run([qemu, p], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=120).stdout

    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        fut = ex.submit(subprocess.run, [a.harness] + files,
                        stdout=subprocess.PIPE, timeout=600)
        qouts = list(ex.map(run_qemu, files))
        mres = fut.result()
    qrecs = records(b''.join(qouts))
    mrecs = records(mres.stdout)
    passed = failed = 0
    shown = 0
    for i in range(a.n):
        q, m = qrecs.get(i), mrecs.get(i)
        q = fix_trapno(q, seqs[i])
        if q is None:
            print('user-diff: qemu produced no record for sequence %d' % i)
            failed += 1
            continue
        if q == m:
            passed += 1
            continue
        failed += 1
        if shown < a.show:
            print(describe(i, seqs[i], q, m))
            if a.reduce:
                print('  ' + reduce(qemu, a.harness, d, tmpls[i], seqs[i]))
            shown += 1
    if not a.keep:
        shutil.rmtree(d)
    vecs = {}
    for i in range(a.n):
        q = fix_trapno(qrecs.get(i), seqs[i])
        if q is not None and q[46]:
            v = struct.unpack_from('<I', q, 48)[0]
            vecs[v] = vecs.get(v, 0) + 1
    print('user-diff: %d sequences in 16-bit code; faults by vector: %s'
          % (sum(1 for s in seqs.values() if s.mode16),
             ' '.join('%d:%d' % kv for kv in sorted(vecs.items()))))
    print('user-diff: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
