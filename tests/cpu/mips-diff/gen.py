#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Differential tests of Mimic's MIPS core against qemu-user.

A generator writes random MIPS instruction sequences into static Linux
programs (one PT_LOAD, no assembler needed): o32 programs for mipsel and
mips (MIPS32r2; FR=1, or FR=0 when marked fp_abi "double" in
.MIPS.abiflags) and n64 programs for mips64el and mips64 (MIPS64r2,
FR=1), in both byte orders.  Each program holds SEQS sequences; each sequence
  - loads every GPR (but $30, the data base, and $29, the stack) and
    every FPR from its own random template, sets FCSR to a random
    rounding mode with the flags, causes and enables clear, and HI/LO;
  - runs random instructions: the ALU set (immediate and register forms,
    shifts and rotates, MUL/MULT/DIV with a nonzero divisor, MADD/MSUB,
    CLZ/CLO, EXT/INS, WSBH/SEB/SEH, MOVZ/MOVN, SLT...), the doubleword
    set on mips64el (DADDU, DSLL32, DMULT, DDIV, DEXT, DINS, DSBH,
    DSHD...), loads and stores of every width including LWL/LWR/SWL/SWR
    (and LDL/LDR/SDL/SDR), LL/SC, forward branches with their delay slots
    (BEQ, BNE, BLEZ, BGTZ, BLTZ, BGEZ, their likely forms, BLTZAL, BGEZAL,
    J, JAL, JALR, BC1F/BC1T), and the FPU (ADD/SUB/MUL/DIV/SQRT/ABS/NEG/
    MOV/RECIP/RSQRT in S and D, conversions between S, D, W and L,
    ROUND/TRUNC/CEIL/FLOOR, C.cond into condition codes, MOVF/MOVT,
    MOVZ/MOVN.fmt, MADD/MSUB/NMADD/NMSUB, MFC1/MTC1/MFHC1/MTHC1);
  - dumps the GPRs, HI, LO, the FPRs, FCSR and the data area with
    write(1, ...).
With --faults (half of the programs by default), sequences end with an
instruction that traps (a load from an unmapped page, an unaligned load,
BREAK, TEQ, ADD overflow, MFC0 in user mode, a floating-point divide by
zero with the exception enabled, a fault in a branch delay slot); the
program's SA_SIGINFO handler for SIGSEGV, SIGBUS, SIGILL, SIGFPE and
SIGTRAP records the signal, si_code, si_addr and the saved sc_pc, HI, LO,
FCSR and $8 from the rt signal frame, sets sc_pc to the next sequence and
returns through the kernel's trampoline (rt_sigreturn restores every
register, which the next dump shows).
Every program ends with exit_group(0).  Instructions whose result the
architecture leaves UNPREDICTABLE are not generated (a zero divisor, ADD
overflow traps, odd FPRs as doubles with FR=0).

Run as the meson test: gen.py --mimic DIR [-n PROGRAMS] [-s SEED]
  [--keep DIR]
Prints each difference (the register and the sequence's instructions)
and, last, `mips-diff: N passed, M failed`.  Exits 77 when qemu-mipsel
is missing.
"""
import argparse
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

SEQS = 24
BODY = 40
DATA_LEN = 1024
# --faults: the record the signal handler writes (after the dump), the
# resume address, the struct sigaction (the handler's third argument
# points at the ucontext: RS_UC 0)
REC = DATA_LEN + 8 * 67
REC_LEN = 64
RESUME = REC + REC_LEN
ACT = RESUME + 8
REC_END = REC + REC_LEN
RS_UC = 0


class Prog:
    def __init__(self, is64, rng, fr=True):
        self.is64 = is64
        self.fr = fr
        self.rng = rng
        self.base = 0x120000000 if is64 else 0x00400000
        self.code = []
        self.data = bytearray()
        # layout: code at base + 0x1000, data at base + 0x40000
        self.code_addr = self.base + 0x1000
        self.data_addr = self.base + 0x40000
        self.tmpl_addr = self.data_addr + 0x2000
        self.templates = bytearray()
        self.listing = []

    def pc(self):
        return self.code_addr + 4 * len(self.code)

    def emit(self, word, text=None):
        self.code.append(word & 0xffffffff)
        if text is not None:
            self.listing.append(text)


def R(op, rs, rt, rd, sa, fn):
    return (op << 26) | (rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | fn


def I(op, rs, rt, imm):
    return (op << 26) | (rs << 21) | (rt << 16) | (imm & 0xffff)


# 32-bit operations whose inputs must be sign-extended on MIPS64
SEXT = {'addu', 'subu', 'addiu', 'srl', 'sra', 'srlv', 'srav', 'rotr',
        'rotrv', 'mult', 'multu', 'mul', 'madd', 'maddu', 'msub', 'msubu',
        'clz', 'clo', 'wsbh', 'ext', 'ins'}

E = '<'   # the byte order of the program being built ('>' for mips, mips64)

DATA = 30          # the data base register, never written by the body
DEST = [r for r in range(1, 29)] + [31]
SRC = list(range(0, 29)) + [31]

INTERESTING = [0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
               0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe]

FPOOL = [0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.5, -2.5, 3.0, 0.1, 1e10, -1e10,
         1e-30, 3.4e38, 1e300, -1e-300, 123456.789, 2.0 ** 31, -2.0 ** 31,
         2.0 ** 31 + 0.5, 2.0 ** 63, 4.5, 5.5, -0.5, 1e-310,
         float('inf'), float('-inf'), 7.0 / 3.0, 1.0 / 3.0, 2.0 ** -126,
         0.75, 1e-45, 16777217.0]


def rand_val(rng, is64):
    k = rng.random()
    if k < 0.3:
        v = rng.choice(INTERESTING)
        if rng.random() < 0.5:
            v = (-v) & 0xffffffff
        v = v & 0xffffffff
        v = v - (1 << 32) if v & 0x80000000 else v
        return v & 0xffffffffffffffff
    if k < 0.5:
        v = rng.randrange(-300, 300)
        return v & 0xffffffffffffffff
    if is64 and rng.random() < 0.5:
        return rng.getrandbits(64)
    v = rng.getrandbits(32)
    v = v - (1 << 32) if v & 0x80000000 else v
    return v & 0xffffffffffffffff


def fp_bits(rng, single):
    if rng.random() < 0.1:
        return rng.getrandbits(32 if single else 64)
    v = rng.choice(FPOOL) * rng.choice([1, 1, 1, -1, 3, 0.25])
    if single:
        try:
            return struct.unpack('<I', struct.pack('<f', v))[0]
        except OverflowError:
            return 0x7f800000
    return struct.unpack('<Q', struct.pack('<d', v))[0]


class Gen:
    def __init__(self, prog):
        self.p = prog
        self.rng = prog.rng
        self.is64 = prog.is64
        self.fr = prog.fr

    # ---- pieces ----
    def li(self, r, v, text=True):
        """Load a 32-bit (sign-extended) constant."""
        p = self.p
        v &= 0xffffffff
        p.emit(I(0x0f, 0, r, v >> 16))
        p.emit(I(0x0d, r, r, v & 0xffff))

    def la64(self, r, addr):
        p = self.p
        if self.is64:
            # lui/ori the upper 32 bits, dsll 16 twice with ori
            hi = addr >> 32
            p.emit(I(0x0f, 0, r, 0))
            p.emit(I(0x0d, r, r, hi & 0xffff))
            p.emit(R(0, 0, r, r, 16, 0x38))      # dsll r, r, 16
            p.emit(I(0x0d, r, r, (addr >> 16) & 0xffff))
            p.emit(R(0, 0, r, r, 16, 0x38))
            p.emit(I(0x0d, r, r, addr & 0xffff))
        else:
            self.li(r, addr)

    def la_fixed(self, r):
        """A patchable load of an address: 6 instructions on mips64el,
        2 on mipsel; returns the position for patch_la()."""
        p = self.p
        pos = len(p.code)
        for _ in range(6 if self.is64 else 2):
            p.emit(0)
        return pos

    def patch_la(self, pos, r, addr):
        p = self.p
        if self.is64:
            ws = [I(0x0f, 0, r, 0), I(0x0d, r, r, (addr >> 32) & 0xffff),
                  R(0, 0, r, r, 16, 0x38),
                  I(0x0d, r, r, (addr >> 16) & 0xffff),
                  R(0, 0, r, r, 16, 0x38), I(0x0d, r, r, addr & 0xffff)]
        else:
            ws = [I(0x0f, 0, r, (addr >> 16) & 0xffff),
                  I(0x0d, r, r, addr & 0xffff)]
        p.code[pos:pos + len(ws)] = ws

    def fault(self):
        """An instruction that traps, at the end of a body; returns the
        instructions (some set up their operands first)."""
        g = self.rng
        t = g.choice([r for r in DEST if r not in (31,)])
        k = g.randrange(9)
        if k == 0:
            return [(I(0x23, 0, t, g.randrange(0x100, 0x7ff0) & ~3),
                     'lw unmapped')]
        if k == 1:
            return [(I(0x23 if g.random() < 0.5 else 0x21, DATA, t,
                       g.randrange(0, DATA_LEN - 8) | 1), 'unaligned')]
        # BREAK/TEQ codes 6 and 7 (overflow, divide by zero) raise SIGFPE
        # under Linux (traps.c, do_trap_or_bp; gcc's `teq rt, $0, 7`
        # after a division relies on it), as Mimic does; qemu-user 7.2
        # kills the program with an uncaught SIGTRAP instead, so the
        # programs leave them out.
        fpe = []
        if k == 2:
            code = g.choice([0, 1, 12, 0x3ff] + fpe)
            return [((code << 16) | 0x0d, 'break %d' % code)]
        if k == 3:
            code = g.choice([0, 5] + fpe)
            return [(R(0, 0, 0, 0, 0, 0x34) | (code << 6), 'teq %d' % code)]
        if k == 4:
            t2 = g.choice([r for r in DEST if r != t])
            return [(I(0x0f, 0, t, 0x7fff), 'lui'),
                    (I(0x0d, t, t, 0xffff), 'ori'),
                    (R(0, t, t, t2, 0, 0x20), 'add (overflow)')]
        if k == 5:
            return [((0x10 << 26) | (t << 16) | (12 << 11), 'mfc0')]
        if k == 6:
            # enable divide-by-zero and invalid, then 1.0 / 0.0
            rm = g.randrange(4)
            return [(I(0x09, 0, t, 0x0c00 | rm), 'li (enables)'),
                    ((0x11 << 26) | (6 << 21) | (t << 16) | (31 << 11),
                     'ctc1'),
                    (I(0x0f, 0, t, 0x3f80), 'lui 1.0f'),
                    ((0x11 << 26) | (4 << 21) | (t << 16) | (2 << 11),
                     'mtc1'),
                    ((0x11 << 26) | (4 << 21) | (0 << 16) | (4 << 11),
                     'mtc1 0'),
                    ((0x11 << 26) | (16 << 21) | (4 << 16) | (2 << 11) |
                     (0 << 6) | 3, 'div.s by zero')]
        if k == 7:
            # a fault in a branch delay slot: EPC names the branch
            return [(I(0x04, 0, 0, 1), 'beq (taken)'),
                    (I(0x23, 0, t, 0x400), 'lw unmapped (delay slot)'),
                    (0, 'nop')]
        return []

    def alu(self):
        """One random non-branch, non-memory integer instruction."""
        g = self.rng
        d, s, t = g.choice(DEST), g.choice(SRC), g.choice(SRC)
        sa = g.randrange(32)
        imm = g.choice([g.getrandbits(16), g.randrange(-8, 8) & 0xffff])
        is64 = self.is64
        c = []
        c += [(R(0, s, t, d, 0, f), n) for f, n in
              [(0x21, 'addu'), (0x23, 'subu'), (0x24, 'and'), (0x25, 'or'),
               (0x26, 'xor'), (0x27, 'nor'), (0x2a, 'slt'), (0x2b, 'sltu'),
               (0x04, 'sllv'), (0x06, 'srlv'), (0x07, 'srav'),
               (0x0a, 'movz'), (0x0b, 'movn')]]
        c += [(R(0, 1, t, d, 0, 0x06) | (1 << 6), 'rotrv')]
        c += [(R(0, 0, t, d, sa, 0x00), 'sll'), (R(0, 0, t, d, sa, 0x02),
              'srl'), (R(0, 0, t, d, sa, 0x03), 'sra'),
              (R(0, 1, t, d, sa, 0x02), 'rotr')]
        c += [(I(op, s, d, imm), n) for op, n in
              [(0x09, 'addiu'), (0x0a, 'slti'), (0x0b, 'sltiu'),
               (0x0c, 'andi'), (0x0d, 'ori'), (0x0e, 'xori')]]
        c += [(I(0x0f, 0, d, imm), 'lui')]
        c += [(R(0, s, t, 0, 0, 0x18), 'mult'), (R(0, s, t, 0, 0, 0x19),
              'multu'), (R(0, 0, 0, d, 0, 0x10), 'mfhi'),
              (R(0, 0, 0, d, 0, 0x12), 'mflo'), (R(0, s, 0, 0, 0, 0x11),
              'mthi'), (R(0, s, 0, 0, 0, 0x13), 'mtlo')]
        c += [(R(0x1c, s, t, d, 0, 0x02), 'mul'),
              (R(0x1c, s, t, 0, 0, 0x00), 'madd'),
              (R(0x1c, s, t, 0, 0, 0x01), 'maddu'),
              (R(0x1c, s, t, 0, 0, 0x04), 'msub'),
              (R(0x1c, s, t, 0, 0, 0x05), 'msubu'),
              (R(0x1c, s, d, d, 0, 0x20), 'clz'),
              (R(0x1c, s, d, d, 0, 0x21), 'clo')]
        lsb = g.randrange(32)
        size = g.randrange(1, 33 - lsb)
        c += [(R(0x1f, s, d, size - 1, lsb, 0x00), 'ext'),
              (R(0x1f, s, d, lsb + size - 1, lsb, 0x04), 'ins')]
        c += [(R(0x1f, 0, t, d, 0x02, 0x20), 'wsbh'),
              (R(0x1f, 0, t, d, 0x10, 0x20), 'seb'),
              (R(0x1f, 0, t, d, 0x18, 0x20), 'seh')]
        if is64:
            c += [(R(0, s, t, d, 0, f), n) for f, n in
                  [(0x2d, 'daddu'), (0x2f, 'dsubu'), (0x14, 'dsllv'),
                   (0x16, 'dsrlv'), (0x17, 'dsrav')]]
            c += [(R(0, 1, t, d, 0, 0x16) | (1 << 6), 'drotrv')]
            c += [(R(0, 0, t, d, sa, f), n) for f, n in
                  [(0x38, 'dsll'), (0x3a, 'dsrl'), (0x3b, 'dsra'),
                   (0x3c, 'dsll32'), (0x3e, 'dsrl32'), (0x3f, 'dsra32')]]
            c += [(R(0, 1, t, d, sa, 0x3a), 'drotr'),
                  (R(0, 1, t, d, sa, 0x3e), 'drotr32')]
            c += [(I(0x19, s, d, imm), 'daddiu')]
            c += [(R(0, s, t, 0, 0, 0x1c), 'dmult'),
                  (R(0, s, t, 0, 0, 0x1d), 'dmultu'),
                  (R(0x1c, s, d, d, 0, 0x24), 'dclz'),
                  (R(0x1c, s, d, d, 0, 0x25), 'dclo')]
            pos = g.randrange(32)
            sz = g.randrange(1, 33 - pos)
            c += [(R(0x1f, s, d, sz - 1, pos, 0x03), 'dext'),
                  (R(0x1f, s, d, pos + sz - 1, pos, 0x07), 'dins')]
            sz2 = g.randrange(33, 65 - pos) if pos < 32 else 33
            if pos + sz2 <= 64:
                c += [(R(0x1f, s, d, sz2 - 33, pos, 0x01), 'dextm')]
            pos2 = g.randrange(32)
            sz3 = g.randrange(1, 33 - pos2)
            c += [(R(0x1f, s, d, sz3 - 1, pos2, 0x02), 'dextu'),
                  (R(0x1f, s, d, pos2 + sz3 - 1, pos2, 0x06), 'dinsu')]
            c += [(R(0x1f, 0, t, d, 0x02, 0x24), 'dsbh'),
                  (R(0x1f, 0, t, d, 0x05, 0x24), 'dshd')]
        w, n = g.choice(c)
        if is64 and n in SEXT:
            return self.sext_sources(w, n) + [(w, n)]
        return [(w, n)]

    def sext_sources(self, w, n):
        """MIPS64: a 32-bit operation on a register that is not a
        sign-extended 32-bit value is UNPREDICTABLE (QEMU then computes
        on all 64 bits): sign-extend the sources first, and HI/LO for the
        accumulating ones."""
        op = w >> 26
        srcs = [(w >> 21) & 31]
        if op == 0 or (op == 0x1c and n not in ('clz', 'clo')) or \
                n == 'ins':
            srcs.append((w >> 16) & 31)
        pre = [(R(0, 0, r, r, 0, 0), 'sll (sext)') for r in set(srcs) if r]
        if n in ('madd', 'maddu', 'msub', 'msubu'):
            a, b = srcs[0], srcs[-1]
            pre += [(R(0, a, 0, 0, 0, 0x11), 'mthi'),
                    (R(0, b, 0, 0, 0, 0x13), 'mtlo')]
        return pre

    def div(self):
        """DIV/DIVU (and DDIV/DDIVU) with a nonzero divisor."""
        g = self.rng
        s, t = g.choice(SRC), g.choice(DEST)
        ops = [(0x1a, 'div'), (0x1b, 'divu')]
        if self.is64:
            ops += [(0x1e, 'ddiv'), (0x1f, 'ddivu')]
        f, n = g.choice(ops)
        pre = []
        if self.is64 and n in ('div', 'divu'):
            pre = [(R(0, 0, r, r, 0, 0), 'sll (sext)') for r in {s, t} if r]
        return pre + [(I(0x0d, t, t, 1), 'ori (divisor != 0)'),
                      (R(0, s, t, 0, 0, f), n)]

    def mem(self):
        g = self.rng
        d, t = g.choice(DEST), g.choice(SRC)
        ops = [(0x20, 1, 'lb', 'l'), (0x24, 1, 'lbu', 'l'),
               (0x21, 2, 'lh', 'l'), (0x25, 2, 'lhu', 'l'),
               (0x23, 4, 'lw', 'l'), (0x28, 1, 'sb', 's'),
               (0x29, 2, 'sh', 's'), (0x2b, 4, 'sw', 's'),
               (0x22, 1, 'lwl', 'l'), (0x26, 1, 'lwr', 'l'),
               (0x2a, 1, 'swl', 's'), (0x2e, 1, 'swr', 's')]
        if self.is64:
            ops += [(0x37, 8, 'ld', 'l'), (0x3f, 8, 'sd', 's'),
                    (0x27, 4, 'lwu', 'l'), (0x1a, 1, 'ldl', 'l'),
                    (0x1b, 1, 'ldr', 'l'), (0x2c, 1, 'sdl', 's'),
                    (0x2d, 1, 'sdr', 's')]
        op, al, n, kind = g.choice(ops)
        off = g.randrange(0, DATA_LEN - 8) & ~(al - 1)
        if g.random() < 0.08:
            # LL ... SC: the SC succeeds (nothing in between)
            sz = 8 if self.is64 and g.random() < 0.5 else 4
            off &= ~(sz - 1)
            ll, sc = (0x34, 0x3c) if sz == 8 else (0x30, 0x38)
            return [(I(ll, DATA, d, off), 'll'),
                    (I(0x09, d, d, g.randrange(-4, 5)), 'addiu'),
                    (I(sc, DATA, d, off), 'sc')]
        reg = d if kind == 'l' else t
        return [(I(op, DATA, reg, off), n + ' +%d' % off)]

    def fpu(self):
        g = self.rng
        is64 = self.is64

        def freg(double):
            r = g.randrange(32)
            if double and not self.fr:
                r &= ~1
            return r
        fmt = g.choice(['s', 'd'])
        dbl = fmt == 'd'
        fmtc = 16 if fmt == 's' else 17
        fd, fs, ft = freg(dbl), freg(dbl), freg(dbl)
        k = g.random()

        def cop1(fmt_, ft_, fs_, fd_, fn):
            return (0x11 << 26) | (fmt_ << 21) | (ft_ << 16) | (fs_ << 11) \
                | (fd_ << 6) | fn
        if k < 0.35:
            fn, n = g.choice([(0, 'add'), (1, 'sub'), (2, 'mul'), (3, 'div'),
                              (4, 'sqrt'), (5, 'abs'), (6, 'mov'),
                              (7, 'neg'), (0x15, 'recip'),
                              (0x16, 'rsqrt')])
            return [(cop1(fmtc, ft if fn < 4 else 0, fs, fd, fn),
                     '%s.%s' % (n, fmt))]
        if k < 0.55:
            # conversions
            choices = [(0x0c, 'round.w', False), (0x0d, 'trunc.w', False),
                       (0x0e, 'ceil.w', False), (0x0f, 'floor.w', False),
                       (0x24, 'cvt.w', False)]
            choices += [(0x21 if fmt == 's' else 0x20,
                         'cvt.d' if fmt == 's' else 'cvt.s', True)]
            if is64:
                choices += [(0x08, 'round.l', 'l'), (0x09, 'trunc.l', 'l'),
                            (0x0a, 'ceil.l', 'l'), (0x0b, 'floor.l', 'l'),
                            (0x25, 'cvt.l', 'l')]
            fn, n, other = g.choice(choices)
            if fn in (0x21, 0x20):
                fd = freg(True) if fn == 0x21 else freg(False)
            elif other == 'l':
                fd = freg(True)
            else:
                fd = freg(False)
            ins = [(cop1(fmtc, 0, fs, fd, fn), '%s.%s' % (n, fmt))]
            if g.random() < 0.5:
                # and back from an integer format
                src = 20 if other != 'l' else 21
                fd2 = freg(True)
                ins.append((cop1(src, 0, fd, fd2, g.choice([0x20, 0x21])),
                            'cvt.fmt.%s' % ('w' if src == 20 else 'l')))
            return ins
        if k < 0.68:
            cond = g.randrange(16)
            cc = g.randrange(8)
            return [((0x11 << 26) | (fmtc << 21) | (ft << 16) | (fs << 11) |
                     (cc << 8) | 0x30 | cond, 'c.%d.%s cc%d' % (cond, fmt,
                                                                cc))]
        if k < 0.76:
            cc = g.randrange(8)
            tf = g.randrange(2)
            if g.random() < 0.5:
                d, s = g.choice(DEST), g.choice(SRC)
                return [(R(0, s, (cc << 2) | tf, d, 0, 0x01), 'movf/t')]
            return [(cop1(fmtc, (cc << 2) | tf, fs, fd, 0x11),
                     'movf/t.%s' % fmt)]
        if k < 0.82:
            t = g.choice(SRC)
            return [(cop1(fmtc, t, fs, fd, g.choice([0x12, 0x13])),
                     'movz/n.%s' % fmt)]
        if k < 0.9:
            fr = freg(dbl)
            fn = g.choice([0x20, 0x28, 0x30, 0x38]) | (1 if dbl else 0)
            return [((0x13 << 26) | (fr << 21) | (ft << 16) | (fs << 11) |
                     (fd << 6) | fn, 'madd-family.%s' % fmt)]
        # moves between register files
        r, rt = g.randrange(32), g.choice(DEST)
        ch = [(0, 'mfc1', rt), (4, 'mtc1', g.choice(SRC))]
        if is64:
            ch += [(1, 'dmfc1', rt), (5, 'dmtc1', g.choice(SRC))]
            ch += [(3, 'mfhc1', rt), (7, 'mthc1', g.choice(SRC))]
        else:
            ch += [(3, 'mfhc1', rt), (7, 'mthc1', g.choice(SRC))]
        op, n, reg = g.choice(ch)
        if op in (3, 7) and not self.fr:
            r = r & ~1
        return [((0x11 << 26) | (op << 21) | (reg << 16) | (r << 11), n)]

    def simple(self):
        k = self.rng.random()
        if k < 0.45:
            return self.alu()
        if k < 0.5:
            return self.div()
        if k < 0.7:
            return self.mem()
        return self.fpu()

    def one(self):
        """A simple instruction or a branch with its delay slot."""
        g = self.rng
        if g.random() >= 0.15:
            return self.simple()
        # a forward branch over `skip` instructions, with a delay slot
        skip_body = []
        while len(skip_body) < g.randrange(1, 4):
            skip_body += self.simple()
        delay = self.simple()
        while len(delay) != 1:
            delay = self.simple()
        s, t = g.choice(SRC), g.choice(SRC)
        off = len(skip_body) + 1     # from the delay slot's successor
        kinds = [(I(0x04, s, t, off), 'beq'), (I(0x05, s, t, off), 'bne'),
                 (I(0x06, s, 0, off), 'blez'), (I(0x07, s, 0, off), 'bgtz'),
                 (I(0x14, s, t, off), 'beql'), (I(0x15, s, t, off), 'bnel'),
                 (I(0x16, s, 0, off), 'blezl'), (I(0x17, s, 0, off), 'bgtzl'),
                 (I(0x01, s, 0x00, off), 'bltz'),
                 (I(0x01, s, 0x01, off), 'bgez'),
                 (I(0x01, s, 0x02, off), 'bltzl'),
                 (I(0x01, s, 0x03, off), 'bgezl'),
                 (I(0x01, s, 0x10, off), 'bltzal'),
                 (I(0x01, s, 0x11, off), 'bgezal')]
        cc = g.randrange(8)
        for nd in (0, 1):
            for tf in (0, 1):
                kinds.append(((0x11 << 26) | (8 << 21) | (cc << 18) |
                              (nd << 17) | (tf << 16) | (off & 0xffff),
                              'bc1%s%s cc%d' % ('ft'[tf], 'l' if nd else '',
                                                cc)))
        w, n = g.choice(kinds)
        r = g.random()
        if r < 0.1:
            return ('J', g.choice([2, 3]), delay, skip_body)
        if r < 0.2:
            jr = g.choice([x for x in DEST if x != 31])
            jd = g.choice([x for x in DEST if x != jr])
            return ('JALR', (jr, jd), delay, skip_body)
        return [(w, n)] + delay + skip_body

    def place(self, item):
        p = self.p
        if isinstance(item, tuple):
            kind, arg, delay, skip = item
            target = p.pc() + 4 * (2 + len(skip))
            if kind == 'J':
                op = arg
                p.emit((op << 26) | ((target >> 2) & 0x3ffffff),
                       'j' if op == 2 else 'jal')
            else:
                r, d = arg
                n_la = 6 if self.is64 else 2
                target = p.pc() + 4 * (n_la + 2 + len(skip))
                self.la64(r, target) if self.is64 else self.li(r, target)
                p.listing.append('la r%d' % r)
                p.emit(R(0, r, 0, d, 0, 0x09), 'jalr')
            # the delay slot must not write the JALR/J target register
            for w, n in delay + skip:
                p.emit(w, n)
        else:
            for w, n in item:
                p.emit(w, n)


def build(is64, seed, nseq, trunc=None, faults=False):
    """trunc=(k, n): stop after sequence k, which keeps its first n
    instructions (to find the first one that differs)."""
    rng = random.Random(seed)
    # o32 programs: most without .MIPS.abiflags (FR=1, as QEMU runs
    # them), some marked fp_abi "double" (FR=0, even/odd pairs)
    fr = is64 or seed % 4 != 3
    p = Prog(is64, rng, fr)
    g = Gen(p)
    w = 8 if is64 else 4
    # per-sequence templates: 32 GPRs (8 bytes), hi, lo, 32 FPRs, fcsr
    tmpl_len = 8 * 32 + 16 + 8 * 32 + 8
    data = bytearray(rng.getrandbits(8) for _ in range(DATA_LEN))
    tmpls = bytearray()
    seq_listing = []
    for i in range(nseq):
        t = bytearray()
        def slot(v):
            # o32 loads the slot's first word: the same 32 bits twice
            if is64:
                return struct.pack(E + 'Q', v)
            return struct.pack(E + 'II', v & 0xffffffff, v & 0xffffffff)
        for r in range(32):
            t += slot(rand_val(rng, is64))
        t += slot(rand_val(rng, is64)) + slot(rand_val(rng, is64))
        for r in range(32):
            if fr or r % 2 == 0 and rng.random() < 0.5:
                t += struct.pack(E + 'Q', fp_bits(rng, False))
            else:
                t += struct.pack(E + 'II', fp_bits(rng, True),
                                 fp_bits(rng, True))
        t += slot(rng.randrange(4))
        tmpls += t
    tmpl_base = p.data_addr + 0x1000
    dump_off = DATA_LEN
    # the fault handler for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP
    act_pos = None
    if faults:
        g.la64(DATA, p.data_addr)
        act_pos = g.la_fixed(5)       # a1 <- the struct sigaction
        act = p.data_addr + ACT
        for sig in (11, 10, 4, 8, 5):
            p.emit(I(0x09, 0, 4, sig))
            p.emit(I(0x09, 0, 6, 0))
            p.emit(I(0x09, 0, 7, 16))
            p.emit(I(0x09, 0, 2, 5013 if is64 else 4194))
            p.emit(0x0000000c)
        g.patch_la(act_pos, 5, act)
    for i in range(nseq):
        start_listing = len(p.listing)
        tb = tmpl_base + i * tmpl_len
        resume_pos = None
        if faults:
            # clear the record, store where the handler resumes
            g.la64(DATA, p.data_addr)
            st = 0x3f if is64 else 0x2b
            for k in range(0, REC_LEN, 8):
                p.emit(I(0x2b, DATA, 0, REC + k))
                p.emit(I(0x2b, DATA, 0, REC + k + 4))
            resume_pos = g.la_fixed(1)
            p.emit(I(st, DATA, 1, RESUME))
        # $30 <- the template
        g.la64(DATA, tb)
        ld = 0x37 if is64 else 0x23
        ldc = 0x35
        # FCSR (rounding mode) and HI/LO first, through $1
        p.emit(I(ld, DATA, 1, 8 * 32 + 16 + 8 * 32))
        p.emit((0x11 << 26) | (6 << 21) | (1 << 16) | (31 << 11))  # ctc1
        p.emit(I(ld, DATA, 1, 8 * 32))
        p.emit(R(0, 1, 0, 0, 0, 0x11))     # mthi
        p.emit(I(ld, DATA, 1, 8 * 32 + 8))
        p.emit(R(0, 1, 0, 0, 0, 0x13))     # mtlo
        for r in range(32):
            if fr or r % 2 == 0:
                p.emit(I(ldc, DATA, r, 8 * 32 + 16 + 8 * r))
        for r in range(1, 32):
            if r == 30:
                continue
            p.emit(I(ld, DATA, r, 8 * r))
        g.la64(DATA, p.data_addr)
        del p.listing[start_listing:]
        items = [g.one() for _ in range(BODY)]
        if trunc and trunc[0] == i:
            items = items[:trunc[1]]
        for it in items:
            g.place(it)
        if faults and rng.random() < 0.75:
            for w_, n_ in g.fault():
                p.emit(w_, n_)
        seq_listing.append(list(p.listing[start_listing:]))
        if faults:
            g.patch_la(resume_pos, 1, p.pc())
        # dump
        st = 0x3f if is64 else 0x2b
        for r in range(32):
            p.emit(I(st, DATA, r, dump_off + 8 * r))
        p.emit(R(0, 0, 0, 1, 0, 0x10))     # mfhi $1
        p.emit(I(st, DATA, 1, dump_off + 8 * 32))
        p.emit(R(0, 0, 0, 1, 0, 0x12))     # mflo $1
        p.emit(I(st, DATA, 1, dump_off + 8 * 33))
        for r in range(32):
            if fr:
                p.emit(I(0x3d, DATA, r, dump_off + 8 * 34 + 8 * r))
            else:
                p.emit(I(0x39, DATA, r, dump_off + 8 * 34 + 4 * r))
        p.emit((0x11 << 26) | (2 << 21) | (1 << 16) | (31 << 11))  # cfc1
        p.emit(I(0x2b, DATA, 1, dump_off + 8 * 66))
        # write(1, data, DATA_LEN + dump)
        nr_write = 5001 if is64 else 4004
        p.emit(I(0x09, 0, 2, nr_write))
        p.emit(I(0x09, 0, 4, 1))
        p.emit(R(0, DATA, 0, 5, 0, 0x25))   # or a1, $30, $0
        p.emit(I(0x09, 0, 6, REC_END if faults else DATA_LEN + 8 * 67))
        p.emit(0x0000000c)
        if trunc and trunc[0] == i:
            break
    nr_exit = 5205 if is64 else 4246
    p.emit(I(0x09, 0, 2, nr_exit))
    p.emit(I(0x09, 0, 4, 0))
    p.emit(0x0000000c)
    if faults:
        handler = p.pc()
        emit_handler(g, p, is64)
        # struct sigaction: SA_SIGINFO | SA_NODEFER, the handler, no mask
        if is64:
            sa = struct.pack(E + 'IIQQQ', 0x40000008, 0, handler, 0, 0)
        else:
            sa = struct.pack(E + 'IIIIII', 0x40000008, handler, 0, 0, 0,
                             0)
        data[ACT:ACT + len(sa)] = sa
    return elf(p, data, tmpls, tmpl_base), seq_listing


def emit_handler(g, p, is64):
    """a0 = signal, a1 = siginfo, a2 = ucontext: copy the signal number,
    si_code, si_addr and the saved sc_pc, HI, LO, FCSR and $8 to the
    record, clear the saved FCSR, resume at [RESUME], return through the
    kernel's trampoline ($ra: rt_sigreturn restores every register)."""
    K, T = 26, 8
    g.la64(K, p.data_addr)
    if is64:
        sc, pc, hi, lo, fc, regs = 40, 576, 512, 544, 584, 0
        uni = 16
    else:
        sc, pc, hi, lo, fc, regs = 24, 8, 552, 560, 532, 16
        uni = 12
    sc += RS_UC
    p.emit(I(0x2b, K, 4, REC + 0))                       # sw a0
    p.emit(I(0x23, 5, T, 4))                             # lw si_code
    p.emit(I(0x2b, K, T, REC + 8))
    p.emit(I(0x23, 5, T, uni))                           # si_addr low
    p.emit(I(0x2b, K, T, REC + 16))
    if is64:
        p.emit(I(0x23, 5, T, uni + 4))
        p.emit(I(0x2b, K, T, REC + 20))
    for src, dst in ((pc, 24), (hi, 32), (lo, 40), (regs + 8 * 8, 56)):
        for half in (0, 4):
            p.emit(I(0x23, 6, T, sc + src + half))
            p.emit(I(0x2b, K, T, REC + dst + half))
    p.emit(I(0x23, 6, T, sc + fc))
    p.emit(I(0x2b, K, T, REC + 48))
    p.emit(I(0x2b, 6, 0, sc + fc))                       # saved FCSR = 0
    # sc_pc = [RESUME] (o32 stores the word; the 64-bit sc_pc holds it
    # sign-extended, in the guest's byte order)
    if is64:
        p.emit(I(0x23, K, T, RESUME))
        p.emit(I(0x2b, 6, T, sc + pc))
        p.emit(I(0x23, K, T, RESUME + 4))
        p.emit(I(0x2b, 6, T, sc + pc + 4))
    else:
        lo_off = 4 if E == '>' else 0
        p.emit(I(0x23, K, T, RESUME))
        p.emit(I(0x2b, 6, T, sc + pc + lo_off))
        p.emit(I(0x2b, 6, 0, sc + pc + 4 - lo_off))
    p.emit(R(0, 31, 0, 0, 0, 0x08))                      # jr ra
    p.emit(0)


def elf(p, data, tmpls, tmpl_base):
    code = b''.join(struct.pack(E + 'I', w) for w in p.code)
    img = bytearray(tmpl_base - p.base + len(tmpls))
    img[0x1000:0x1000 + len(code)] = code
    d = p.data_addr - p.base
    img[d:d + len(data)] = data
    t = tmpl_base - p.base
    img[t:t + len(tmpls)] = tmpls
    if len(code) > p.data_addr - p.code_addr:
        raise ValueError('code too long')
    entry = p.code_addr
    memsz = len(img) + 0x10000
    if not p.fr:
        # .MIPS.abiflags: version 0, MIPS32 release 2, 32-bit GPRs and
        # FPRs, fp_abi 1 (double: FR=0)
        img[0x800:0x818] = struct.pack(E + 'HBBBBBBIIII', 0, 32, 2, 1, 1, 0,
                                       1, 0, 0, 0, 0)
    if p.is64:
        eh = struct.pack(E + '4sBBBBB7sHHIQQQIHHHHHH', b'\x7fELF', 2,
                         1 if E == '<' else 2, 1, 0,
                         0, b'\0' * 7, 2, 8, 1, entry, 64, 0, 0x80000000,
                         64, 56, 1, 64, 0, 0)
        ph = struct.pack(E + 'IIQQQQQQ', 1, 7, 0, p.base, p.base, len(img),
                         memsz, 0x10000)
        hdr = eh + ph
    else:
        eh = struct.pack(E + '4sBBBBB7sHHIIIIIHHHHHH', b'\x7fELF', 1,
                         1 if E == '<' else 2, 1, 0,
                         0, b'\0' * 7, 2, 8, 1, entry, 52, 0, 0x70001000,
                         52, 32, 1, 40, 0, 0)
        ph = struct.pack(E + 'IIIIIIII', 1, 0, p.base, p.base, len(img), memsz,
                         7, 0x10000)
        if not p.fr:
            eh = eh[:44] + struct.pack(E + 'H', 2) + eh[46:]
            ph += struct.pack(E + 'IIIIIIII', 0x70000003, 0x800, p.base + 0x800,
                              p.base + 0x800, 24, 24, 4, 8)
        hdr = eh + ph
    img[0:len(hdr)] = hdr
    return bytes(img)


def names(is64):
    regs = ['r%d' % i for i in range(32)] + ['hi', 'lo']
    return regs


REC_NAMES = ['signo', 'si_code', 'si_addr', 'sc_pc', 'sc_mdhi', 'sc_mdlo',
             'sc_fpc_csr', 'sc_regs[8]']


def compare(a, b, is64, listing, faults=False):
    """Return a description of the first differences, or None."""
    rec = REC_END if faults else DATA_LEN + 8 * 67
    if a == b:
        return None
    out = []
    n = max(len(a), len(b)) // rec + 1
    for s in range(n):
        ra, rb = a[s * rec:(s + 1) * rec], b[s * rec:(s + 1) * rec]
        if ra == rb:
            continue
        out.append('sequence %d:' % s)
        if len(ra) != rec or len(rb) != rec:
            out.append('  output length %d (Mimic) vs %d (qemu)'
                       % (len(ra), len(rb)))
        else:
            regs = ra[DATA_LEN:], rb[DATA_LEN:]
            for i in range(34):
                f = E + ('Q' if is64 else 'I')
                va = struct.unpack_from(f, regs[0], 8 * i)[0]
                vb = struct.unpack_from(f, regs[1], 8 * i)[0]
                if va != vb:
                    out.append('  %s: %x (Mimic) vs %x (qemu)'
                               % (names(is64)[i], va, vb))
            for i in range(32):
                va = struct.unpack_from(E + 'Q', regs[0], 8 * 34 + 8 * i)[0]
                vb = struct.unpack_from(E + 'Q', regs[1], 8 * 34 + 8 * i)[0]
                if va != vb:
                    out.append('  fpr slot %d: %x (Mimic) vs %x (qemu)'
                               % (i, va, vb))
            fa = struct.unpack_from(E + 'I', regs[0], 8 * 66)[0]
            fb = struct.unpack_from(E + 'I', regs[1], 8 * 66)[0]
            if fa != fb:
                out.append('  fcsr: %08x (Mimic) vs %08x (qemu)' % (fa, fb))
            if faults:
                for k, nm in enumerate(REC_NAMES):
                    va = struct.unpack_from(E + 'Q', ra, REC + 8 * k)[0]
                    vb = struct.unpack_from(E + 'Q', rb, REC + 8 * k)[0]
                    if va != vb:
                        out.append('  handler %s: %x (Mimic) vs %x (qemu)'
                                   % (nm, va, vb))
            if ra[:DATA_LEN] != rb[:DATA_LEN]:
                off = next(i for i in range(DATA_LEN) if ra[i] != rb[i])
                out.append('  data differs from offset %d' % off)
        if s < len(listing):
            out.append('  instructions: ' + '; '.join(listing[s]))
        break
    return '\n'.join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mimic', required=True,
                    help='the directory with mimic-mipsel, mimic-mips64el')
    ap.add_argument('-n', type=int, default=40, help='programs per arch')
    ap.add_argument('-s', type=int, default=None, help='seed')
    ap.add_argument('--keep', default=None)
    ap.add_argument('--arch', default='mipsel,mips64el,mips,mips64')
    ap.add_argument('--faults', type=float, default=0.5,
                    help='share of the programs whose sequences end in a '
                    'trap caught by a signal handler')
    args = ap.parse_args()
    seed = args.s if args.s is not None else random.randrange(1 << 30)
    print('mips-diff: seed %d' % seed)
    passed = failed = 0
    tmp = args.keep or tempfile.mkdtemp(prefix='mips-diff-')
    os.makedirs(tmp, exist_ok=True)
    global E
    for arch in args.arch.split(','):
        is64 = arch.startswith('mips64')
        E = '<' if arch.endswith('el') else '>'
        qemu = shutil.which('qemu-' + arch)
        if not qemu:
            print('mips-diff: qemu-%s not found' % arch)
            return 77
        mimic = os.path.join(args.mimic, 'mimic-' + arch)
        for i in range(args.n):
            pseed = seed * 1000 + i
            faults = random.Random(pseed).random() < args.faults
            img, listing = build(is64, pseed, SEQS, faults=faults)
            path = os.path.join(tmp, '%s-%d' % (arch, pseed))
            with open(path, 'wb') as f:
                f.write(img)
            os.chmod(path, 0o755)
            # QEMU's default mips64el CPU (5KEf) never lets CTC1 change
            # FCSR's rounding mode (its FCR31 write mask): both run a
            # MIPS64R2-generic, whose FCSR is fully writable.
            cpu = ['-cpu', 'MIPS64R2-generic'] if is64 else []
            q = subprocess.run([qemu] + cpu + [path], capture_output=True,
                               timeout=60)
            m = subprocess.run([mimic] + cpu + [path], capture_output=True,
                               timeout=60)
            diff = compare(m.stdout, q.stdout, is64, listing, faults)
            if diff is None and m.returncode == q.returncode:
                passed += 1
                if not args.keep:
                    os.unlink(path)
            else:
                failed += 1
                print('FAIL %s (rc %d vs %d) %s' % (path, m.returncode,
                                                   q.returncode,
                                                   m.stderr.decode()[:200]))
                print(diff)
    if not args.keep and failed == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    print('mips-diff: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
