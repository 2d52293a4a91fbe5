#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Differential tests of Mimic's x86-64 core against the host CPU and
qemu-x86_64 (issue 17).

The 64-bit sibling of gen.py: random but valid x86-64 instruction
sequences in static ELF64 programs, run three times: natively on the host
(an x86-64 Linux machine: the hardware is the oracle), under
`mimic-x86_64 -cpu max` and under Debian's `qemu-x86_64 -cpu max`.
Mimic's records must be byte-identical to the host's; qemu's are compared
too, and where qemu differs from Mimic while Mimic equals the hardware,
the sequence is counted as a qemu deviation (the classes seen are listed
under fix_trapno and below), not a failure.

Each sequence
  - reloads a 1 KiB data area from its own template, sets RSP to a fixed
    stack, MXCSR to 0x1f80, RFLAGS (arithmetic flags and DF), the 14
    writable GPRs (not RSP, not RBP) to random 64-bit values and the 16
    XMM registers from the template (RBP points at the data area and is
    never written: it is the base of memory operands, with absolute (SIB,
    no base) and RIP-relative forms too),
  - runs random instructions: ALU/TEST/INC/DEC/NOT/NEG in 8/16/32/64-bit
    sizes over all 16 registers (REX.R/REX.B, SIL/DIL), shifts and
    rotates, SHLD/SHRD, MUL/IMUL, DIV/IDIV (operands chosen so no #DE),
    BT*, BSF/BSR, CMOVcc/SETcc, XADD/CMPXCHG/CMPXCHG16B, MOVSXD, MOVZX/
    MOVSX, CBW..CQO, LEA (RIP-relative too), PUSH/POP, BSWAP, POPCNT,
    XCHG, MOV r64,imm64, short forward Jcc/JMP, and SSE..SSE4.1 integer
    and SSE/SSE2 floating-point operations on XMM registers and memory,
  - dumps the 16 GPRs, RFLAGS & (CF PF AF ZF SF OF DF), MXCSR, the XMM
    registers and the data area with write(1, ...) through SYSCALL.

FAULTS (--faults, default 0.2 of the sequences): the sequence ends with an
instruction that faults or traps (#DE, #UD, #BP, #PF read and write, #GP
from a non-canonical address or HLT).  Each program installs an
SA_SIGINFO handler (with SA_RESTORER, which x86-64 Linux requires) for
SIGILL, SIGTRAP, SIGFPE and SIGSEGV that writes the record from the
ucontext's registers, XMM state (fpregs), trapno/err and
si_signo/si_code/si_addr, sets the ucontext's RIP to the next sequence
and returns through rt_sigreturn.

Undefined flags are tracked as gen.py does and forced to 0 (pushfq; and
qword [rsp], ~U; popfq) before an instruction reads them and before the
dump.  Results the SDM leaves undefined and vendors differ on are not
generated (32-bit BSF/BSR: with a zero source AMD keeps the register's
upper half, Intel clears it).

qemu-x86_64 7.2 deviations seen (all with Mimic equal to the hardware):
  - CMPXCHG16B changes CF/PF/AF/SF/OF (SDM CMPXCHG8B/CMPXCHG16B, "Flags
    Affected": only ZF);
  - SHLD/SHRD with an imm8 and a RIP-relative operand address from the
    end of the ModRM bytes, not of the instruction (SDM vol. 2 2.2.1.6);
  - with NaNs in both operands of an SSE arithmetic operation it returns
    the second operand's NaN (SDM vol. 1 4.8.3.5 and table 4-7: the
    first source operand's, quieted);
  - it aborts (an assertion on IOPL in its translator) or loops after
    some signal returns, so the rest of that program has no qemu records
    (reported as such).

usage: gen64.py --mimic build/src/user/mimic-x86_64 [-n SEQUENCES]
  [-s SEED] [--keep DIR] [--jobs J] [--reduce [--show-qemu]]
Prints failures and, last, `user-diff64: N passed, M failed`.  Exits 77
on a host that is not x86-64 Linux.
"""
import argparse
import concurrent.futures
import os
import platform
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import threading

BASE = 0x00400000
DUMP = BASE + 0x0e00          # 512 bytes: header then XMM registers
DATA = BASE + 0x1000          # data area, DATA_LEN bytes, right after
DATA_LEN = 0x400
RBP_VAL = DATA + 0x200
REC_LEN = 512 + DATA_LEN
STACK_TOP = BASE + 0x3800
CUR_SID = BASE + 0x0d00
RESUME = BASE + 0x0d08
MXCSR_INIT = BASE + 0x0d10    # 0x1f80, loaded by every sequence
ACT = BASE + 0x0d40           # struct sigaction (kernel layout)
TMPL = BASE + 0x4000          # per sequence: data template, XMM values
TMPL_LEN = DATA_LEN + 256
IMG_END = BASE + 0x100000
HOLE = 0x20000000             # unmapped under both
MAGIC = 0x34364455            # 'UD64'
SIGNALS = [4, 5, 8, 11]       # SIGILL SIGTRAP SIGFPE SIGSEGV
SA_SIGINFO, SA_NODEFER, SA_RESTORER = 4, 0x40000000, 0x04000000

# The flag bits and the flags each condition reads: gen.py's.
from gen import (AF, ALL6, CC_READS, CF, DF, DUMP_MASK, OF, PF,  # noqa: E402
                 SF, SZAP, ZF)
RSP, RBP = 4, 5
WREG = [r for r in range(16) if r not in (RSP, RBP)]
# ucontext gregs index of each register in dump order (rax rcx rdx rbx
# rsp rbp rsi rdi r8..r15): <sys/ucontext.h> REG_*
GREGS = [13, 14, 12, 11, 15, 10, 9, 8, 0, 1, 2, 3, 4, 5, 6, 7]
EDGE = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
        0x80000000, 0xffffffff, 0x100000000, 0x7fffffffffffffff,
        0x8000000000000000, 0xffffffffffffffff, 0x3f, 0x40, 0x41]
M64 = (1 << 64) - 1


def absm(reg, addr):
    """ModRM+SIB+disp32 of [addr] (no base, no index) for ModRM.reg."""
    return bytes([((reg & 7) << 3) | 4, 0x25]) + struct.pack('<i', addr)


def rexb(w, r, x, b):
    v = 0x40 | (8 if w else 0) | (4 if r & 8 else 0) | (2 if x & 8 else 0) \
        | (1 if b & 8 else 0)
    return b'' if v == 0x40 else bytes([v])


class Seq:
    def __init__(self, rng, at):
        self.r = rng
        self.at = at              # guest address of code[0]
        self.code = bytearray()
        self.names = []
        self.undef = 0
        self.depth = 0
        self.vec = None
        self.in_branch = False
        self.marks = []           # (code length, undef, names) per insn

    def val(self):
        r = self.r
        k = r.randrange(5)
        if k == 0:
            return r.choice(EDGE)
        if k == 1:
            return r.randrange(64)
        if k == 2:
            return r.getrandbits(32)
        return r.getrandbits(64)

    def emit(self, name, b, reads=0, writes=0, undef=0):
        if reads & self.undef:
            self.normalize()
        self.code += bytes(b)
        self.names.append(name)
        self.undef = (self.undef & ~writes) | undef
        if not self.in_branch:
            self.marks.append((len(self.code), self.undef, len(self.names)))

    def normalize(self):
        u = self.undef
        self.code += b'\x9c\x48\x81\x24\x24' + struct.pack('<i', ~u) + b'\x9d'
        self.names.append('normalize(%#x)' % u)
        self.undef = 0

    # ---- operands: (rex bits of the r/m side, ModRM..disp bytes) ----
    def mem(self, reg, tail=0):
        """[rbp+disp], [abs] or [rip+disp] inside the data area; tail is
        the number of immediate bytes after the ModRM part (RIP-relative
        displacements count from the end of the instruction)."""
        r = self.r
        k = r.randrange(4)
        if k == 0:
            return 0, bytes([0x40 | ((reg & 7) << 3) | 5, r.randrange(256)])
        if k == 1:
            d = r.randrange(-0x200, 0x200 - 16)
            return 0, bytes([0x80 | ((reg & 7) << 3) | 5]) + \
                struct.pack('<i', d)
        a = DATA + r.randrange(DATA_LEN - 16)
        if k == 2:
            return 0, absm(reg, a)
        return 0, ('rip', reg, a, tail)

    def reg(self, size):
        return self.r.choice(WREG)

    def rm(self, reg, size, allow_mem=True, tail=0):
        if allow_mem and self.r.randrange(2):
            return self.mem(reg, tail)
        return self.reg(size), bytes([0xc0 | ((reg & 7) << 3)])

    def insn(self, name, size, op, reg, rmv, tail=b'', reads=0, writes=0,
             undef=0, pre=b''):
        """Assemble prefix, REX, opcode, ModRM part, tail (immediate)."""
        b_ext, modrm = rmv
        if reads & self.undef:
            self.normalize()
        rex_needed = size == 1 and (reg in (4, 5, 6, 7) or
                                    (not isinstance(modrm, tuple) and
                                     modrm[0] >= 0xc0 and b_ext in (4, 5, 6,
                                                                    7)))
        p = (b'\x66' if size == 2 else b'') + pre
        rex = rexb(size == 8, reg, 0, b_ext)
        if rex_needed and not rex:
            rex = b'\x40'
        if isinstance(modrm, tuple):          # RIP-relative
            target = modrm[2]
            head = p + rex + bytes(op) + bytes([((reg & 7) << 3) | 5])
            end = self.at + len(self.code) + len(head) + 4 + len(tail)
            b = head + struct.pack('<i', target - end) + tail
        elif modrm[0] >= 0xc0:
            b = p + rex + bytes(op) + bytes(
                [0xc0 | ((reg & 7) << 3) | (b_ext & 7)]) + tail
        else:
            b = p + rex + bytes(op) + bytes(
                [modrm[0] & 0xc7 | ((reg & 7) << 3)]) + modrm[1:] + tail
        self.emit(name, b, reads, writes, undef)

    def size(self):
        return self.r.choice([8, 8, 4, 2, 1])

    def imm(self, size):
        return struct.pack('<Q', self.val())[:min(size, 4)]

    # ---- integer ----
    def i_alu(self):
        r = self.r
        op = r.randrange(8)
        names = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp']
        rd = CF if op in (2, 3) else 0
        ud = AF if op in (1, 4, 6) else 0
        s = self.size()
        w = s != 1
        form = r.randrange(3)
        if form == 0:
            self.insn(names[op], s, [op * 8 + w], self.reg(s), self.rm(0, s),
                      reads=rd, writes=ALL6, undef=ud)
        elif form == 1:
            self.insn(names[op], s, [op * 8 + 2 + w], self.reg(s),
                      self.rm(0, s), reads=rd, writes=ALL6, undef=ud)
        else:
            if s == 1:
                opc, t = [0x80], self.imm(1)
            elif r.randrange(2):
                opc, t = [0x83], self.imm(1)
            else:
                opc, t = [0x81], self.imm(2 if s == 2 else 4)
            self.insn(names[op], s, opc, op, self.rm(op, s, tail=len(t)), t,
                      reads=rd, writes=ALL6, undef=ud)

    def i_test(self):
        s = self.size()
        w = s != 1
        if self.r.randrange(2):
            self.insn('test', s, [0x84 + w], self.reg(s), self.rm(0, s),
                      writes=ALL6, undef=AF)
        else:
            t = self.imm(1 if s == 1 else 2 if s == 2 else 4)
            self.insn('test imm', s, [0xf6 + w], 0,
                      self.rm(0, s, tail=len(t)), t, writes=ALL6, undef=AF)

    def i_unary(self):
        s = self.size()
        op = self.r.randrange(4)      # inc dec (fe/ff) not neg (f6/f7)
        if op < 2:
            self.insn('inc/dec', s, [0xfe + (s != 1)], op, self.rm(op, s),
                      writes=ALL6 & ~CF)
        else:
            self.insn('not/neg', s, [0xf6 + (s != 1)], op, self.rm(op, s),
                      writes=ALL6 if op == 3 else 0)

    def count(self):
        r = self.r
        return r.choice([0, 1, 1, 2, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65,
                         r.randrange(256)])

    def i_shift(self):
        r = self.r
        s = self.size()
        op = r.choice([0, 1, 2, 3, 4, 5, 7])
        w = s != 1
        c = self.count()
        form = r.randrange(3)
        if form == 2:
            self.emit('mov cl', [0xb1, c])
        elif form == 1:
            c = 1
        mc = c & (63 if s == 8 else 31)
        bits = s * 8
        if op < 4:
            rd = CF if op >= 2 else 0
            if mc == 0:
                wr, ud = 0, 0
            else:
                wr, ud = CF | OF, 0 if mc == 1 else OF
                if op >= 2 and s < 4:
                    # RCL/RCR of 8/16 bits: the count modulo 9/17 rotates
                    # through CF; OF undefined unless that count is 1.
                    ud = 0 if mc % (bits + 1) == 1 else OF
        else:
            rd = 0
            if mc == 0:
                wr, ud = 0, 0
            else:
                wr = ALL6
                ud = AF | (0 if mc == 1 else OF)
                if op != 7 and mc > bits:
                    ud |= CF
                if mc >= bits:
                    ud |= OF
        if form == 0:
            self.insn('shift/%d' % op, s, [0xc0 + w], op,
                      self.rm(op, s, tail=1), bytes([c]), rd, wr, ud)
        elif form == 1:
            self.insn('shift1/%d' % op, s, [0xd0 + w], op, self.rm(op, s),
                      reads=rd, writes=wr, undef=ud)
        else:
            self.insn('shiftcl/%d' % op, s, [0xd2 + w], op, self.rm(op, s),
                      reads=rd, writes=wr, undef=ud)

    def i_shxd(self):
        r = self.r
        s = r.choice([4, 8, 8])
        right = r.randrange(2)
        c = self.count() & (63 if s == 8 else 31)
        u = AF | (0 if c == 1 else OF)
        wr = ALL6 if c else 0
        if r.randrange(2):
            self.insn('shld/shrd', s, [0x0f, 0xa4 + 8 * right], self.reg(s),
                      self.rm(0, s, tail=1), bytes([c]), 0, wr,
                      u if c else 0)
        else:
            self.emit('mov cl', [0xb1, c])
            self.insn('shld/shrd cl', s, [0x0f, 0xa5 + 8 * right],
                      self.reg(s), self.rm(0, s), writes=wr,
                      undef=u if c else 0)

    def i_mul(self):
        s = self.size()
        op = self.r.randrange(4, 6)
        self.insn('mul/imul', s, [0xf6 + (s != 1)], op, self.rm(op, s),
                  writes=ALL6, undef=SZAP)

    def i_imul2(self):
        r = self.r
        s = r.choice([2, 4, 8, 8])
        k = r.randrange(3)
        if k == 0:
            self.insn('imul2', s, [0x0f, 0xaf], self.reg(s), self.rm(0, s),
                      writes=ALL6, undef=SZAP)
        elif k == 1:
            self.insn('imul3 ib', s, [0x6b], self.reg(s),
                      self.rm(0, s, tail=1), self.imm(1), 0, ALL6, SZAP)
        else:
            t = self.imm(2 if s == 2 else 4)
            self.insn('imul3', s, [0x69], self.reg(s),
                      self.rm(0, s, tail=len(t)), t, 0, ALL6, SZAP)

    def movabs(self, reg, v):
        self.emit('mov r64', rexb(True, 0, 0, reg) + bytes([0xb8 + (reg & 7)])
                  + struct.pack('<Q', v & M64))

    def i_div(self):
        r = self.r
        s = r.choice([1, 2, 4, 8, 8])
        signed = r.randrange(2)
        bits = s * 8
        m = (1 << bits) - 1
        while True:
            d = self.val() & m
            if signed and d >> (bits - 1):
                d -= 1 << bits
            n = r.getrandbits(2 * bits)
            if r.randrange(2):
                n >>= r.randrange(2 * bits)
            if signed and n >> (2 * bits - 1):
                n -= 1 << (2 * bits)
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
            self.movabs(0, n & m)
            self.movabs(2, n >> bits)
        reg = r.choice([1, 3, 6, 7, 8, 9, 12, 15])
        self.movabs(reg, d)
        op = 6 + signed
        self.insn('div/idiv', s, [0xf6 + (s != 1)], op,
                  (reg, bytes([0xc0 | (op << 3)])), writes=ALL6, undef=ALL6)

    def i_bt(self):
        r = self.r
        s = r.choice([2, 4, 8, 8])
        op = r.randrange(4)
        u = OF | SF | AF | PF
        if r.randrange(2):
            self.insn('bt*', s, [0x0f, 0xa3 + 8 * op], self.reg(s),
                      self.rm(0, s, False), writes=CF | u, undef=u)
        else:
            self.insn('bt* imm', s, [0x0f, 0xba], 4 + op,
                      self.rm(4 + op, s, tail=1), self.imm(1), 0, CF | u, u)

    def i_bsx(self):
        # Not 32-bit: with a zero source the 64-bit register keeps its
        # upper half on AMD and has it cleared on Intel (the SDM leaves
        # the destination undefined), and the host CPU is the oracle.
        s = self.r.choice([2, 8])
        self.insn('bsf/bsr', s, [0x0f, 0xbc + self.r.randrange(2)],
                  self.reg(s), self.rm(0, s), writes=ALL6, undef=ALL6 & ~ZF)

    def i_popcnt(self):
        s = self.r.choice([2, 4, 8, 8])
        self.insn('popcnt', s, [0x0f, 0xb8], self.reg(s), self.rm(0, s),
                  writes=ALL6, pre=b'\xf3')

    def i_cmov(self):
        s = self.r.choice([2, 4, 8, 8])
        cc = self.r.randrange(16)
        self.insn('cmov%d' % cc, s, [0x0f, 0x40 + cc], self.reg(s),
                  self.rm(0, s), reads=CC_READS[cc])

    def i_setcc(self):
        cc = self.r.randrange(16)
        self.insn('set%d' % cc, 1, [0x0f, 0x90 + cc], 0, self.rm(0, 1),
                  reads=CC_READS[cc])

    def i_xadd(self):
        s = self.size()
        op = self.r.choice([0xc0, 0xb0])
        self.insn('xadd/cmpxchg', s, [0x0f, op + (s != 1)], self.reg(s),
                  self.rm(0, s), writes=ALL6)

    def i_cmpxchg16b(self):
        a = DATA + 16 * self.r.randrange(DATA_LEN // 16)
        self.emit('cmpxchg16b', b'\x48\x0f\xc7' + absm(1, a), 0, ZF, 0)

    def i_movx(self):
        r = self.r
        k = r.randrange(4)
        if k == 0:
            self.insn('movsxd', 8, [0x63], self.reg(8), self.rm(0, 4))
        else:
            s = r.choice([2, 4, 8])
            op = r.choice([0xb6, 0xb7, 0xbe, 0xbf])
            if s == 2 and op in (0xb7, 0xbf):
                op -= 1
            src = 1 if op in (0xb6, 0xbe) else 2
            rm = self.rm(0, src)
            self.insn('movzx/sx', s, [0x0f, op], self.reg(s), rm)

    def i_conv(self):
        k = self.r.randrange(6)
        b = [b'\x66\x98', b'\x98', b'\x48\x98', b'\x66\x99', b'\x99',
             b'\x48\x99'][k]
        self.emit('cbw..cqo', b)

    def i_lea(self):
        s = self.r.choice([4, 8, 8])
        self.insn('lea', s, [0x8d], self.reg(s), self.mem(0))

    def i_mov(self):
        r = self.r
        s = self.size()
        k = r.randrange(4)
        if k == 0:
            self.insn('mov', s, [0x88 + (s != 1)], self.reg(s), self.rm(0, s))
        elif k == 1:
            self.insn('mov', s, [0x8a + (s != 1)], self.reg(s), self.rm(0, s))
        elif k == 2:
            self.movabs(self.reg(8), self.val())
        else:
            t = self.imm(1 if s == 1 else 2 if s == 2 else 4)
            self.insn('mov imm', s, [0xc6 + (s != 1)], 0,
                      self.rm(0, s, tail=len(t)), t)

    def i_xchg(self):
        s = self.size()
        self.insn('xchg', s, [0x86 + (s != 1)], self.reg(s), self.rm(0, s))

    def i_bswap(self):
        reg = self.r.choice(WREG)
        s = self.r.choice([4, 8])
        self.emit('bswap', rexb(s == 8, 0, 0, reg) + bytes([0x0f,
                                                          0xc8 + (reg & 7)]))

    def i_push(self):
        r = self.r
        if self.depth >= 0x400:
            return self.i_pop()
        k = r.randrange(4)
        if k == 0:
            reg = r.randrange(16)
            self.emit('push', rexb(False, 0, 0, reg) +
                      bytes([0x50 + (reg & 7)]))
        elif k == 1:
            self.emit('push imm', b'\x68' + self.imm(4))
        elif k == 2:
            self.insn('push m', 4, [0xff], 6, self.mem(6))
        else:
            self.emit('pushfq', b'\x9c', ALL6)
        self.depth += 8

    def i_pop(self):
        if self.depth < 8:
            return self.i_push()
        if self.r.randrange(2):
            reg = self.r.choice(WREG)
            self.emit('pop', rexb(False, 0, 0, reg) + bytes([0x58 + (reg & 7)]))
        else:
            self.insn('pop m', 4, [0x8f], 0, self.mem(0))
        self.depth -= 8

    def i_branch(self):
        """A short forward Jcc/JMP over 1-3 instructions."""
        r = self.r
        cc = r.randrange(17)
        if cc < 16 and CC_READS[cc] & self.undef:
            self.normalize()
        at = len(self.code)
        self.code += b'\x00\x00'
        self.names.append('jcc%d' % cc if cc < 16 else 'jmp')
        undef = self.undef
        self.in_branch = True
        for _ in range(r.randrange(1, 4)):
            self.i_simple()
        if self.undef != undef:
            self.normalize()
            self.undef = undef
        self.in_branch = False
        dist = len(self.code) - at - 2
        if dist > 127:
            del self.code[at:]
            self.names.append('(branch dropped)')
            self.undef = undef
            return
        self.code[at] = 0x70 + cc if cc < 16 else 0xeb
        self.code[at + 1] = dist
        # the flags after the join: either path's
        self.undef = undef
        self.marks.append((len(self.code), self.undef, len(self.names)))

    # ---- SSE ----
    def xmm(self):
        return self.r.randrange(16)

    def amem(self):
        """A 16-byte aligned memory operand (legacy SSE forms #GP on
        unaligned ones)."""
        r = self.r
        k = r.randrange(3)
        if k == 0:
            return 0, bytes([0x45, (16 * r.randrange(-8, 8)) & 0xff])
        a = DATA + 16 * r.randrange(DATA_LEN // 16)
        if k == 1:
            return 0, absm(0, a)
        return 0, ('rip', 0, a, 0)

    def xrm(self, reg):
        if self.r.randrange(3) == 0:
            return self.amem()
        return self.r.randrange(16), bytes([0xc0 | ((reg & 7) << 3)])

    def sse(self, name, pre, op, reg, rmv, tail=b''):
        """SSE instruction: mandatory prefix, REX, 0f op, ModRM."""
        b_ext, modrm = rmv
        rex = rexb(False, reg, 0, b_ext)
        if isinstance(modrm, tuple):
            _, mreg, target, _ = modrm
            head = pre + rex + b'\x0f' + bytes(op) + bytes(
                [((reg & 7) << 3) | 5])
            end = self.at + len(self.code) + len(head) + 4 + len(tail)
            b = head + struct.pack('<i', target - end) + tail
        else:
            if modrm[0] >= 0xc0:
                modrm = bytes([0xc0 | ((reg & 7) << 3) | (b_ext & 7)])
            else:
                modrm = bytes([modrm[0] & 0xc7 | ((reg & 7) << 3)]) + \
                    modrm[1:]
            b = pre + rex + b'\x0f' + bytes(op) + modrm + tail
        self.emit(name, b)

    SSE_INT = [(b'\x66', [0xfe], 'paddd'), (b'\x66', [0xd4], 'paddq'),
               (b'\x66', [0xfc], 'paddb'), (b'\x66', [0xf9], 'psubw'),
               (b'\x66', [0xfb], 'psubq'), (b'\x66', [0xdb], 'pand'),
               (b'\x66', [0xeb], 'por'), (b'\x66', [0xef], 'pxor'),
               (b'\x66', [0xdf], 'pandn'), (b'\x66', [0x74], 'pcmpeqb'),
               (b'\x66', [0x66], 'pcmpgtd'), (b'\x66', [0xd5], 'pmullw'),
               (b'\x66', [0xe5], 'pmulhw'), (b'\x66', [0xf4], 'pmuludq'),
               (b'\x66', [0x60], 'punpcklbw'), (b'\x66', [0x6d],
                                                'punpckhqdq'),
               (b'\x66', [0x63], 'packsswb'), (b'\x66', [0x67], 'packuswb'),
               (b'\x66', [0xda], 'pminub'), (b'\x66', [0xee], 'pmaxsw'),
               (b'\x66', [0xe0], 'pavgb'), (b'\x66', [0xf6], 'psadbw'),
               (b'\x66', [0xec], 'paddsb'), (b'\x66', [0xd9], 'psubusw'),
               (b'\x66', [0x38, 0x00], 'pshufb'),
               (b'\x66', [0x38, 0x40], 'pmulld'),
               (b'\x66', [0x38, 0x1e], 'pabsd'),
               (b'\x66', [0x38, 0x29], 'pcmpeqq')]
    # Floating point: exact IEEE operations whose results do not depend on
    # NaN payload choice (the operand pool holds no NaN; invalid results
    # give the default NaN on both).
    SSE_FP = [(b'', [0x58], 'addps'), (b'\x66', [0x58], 'addpd'),
              (b'\xf3', [0x59], 'mulss'), (b'\xf2', [0x5c], 'subsd'),
              (b'\x66', [0x5e], 'divpd'), (b'', [0x5d], 'minps'),
              (b'\xf2', [0x5f], 'maxsd'), (b'\x66', [0x51], 'sqrtpd'),
              (b'', [0x54], 'andps'), (b'\x66', [0x57], 'xorpd'),
              (b'', [0x14], 'unpcklps'), (b'\xf3', [0x5a], 'cvtss2sd'),
              (b'\x66', [0x5a], 'cvtpd2ps'), (b'', [0x5b], 'cvtdq2ps'),
              (b'\xf3', [0x5b], 'cvttps2dq')]

    def i_sse(self):
        r = self.r
        k = r.randrange(8)
        if k < 4:
            pre, op, name = r.choice(self.SSE_INT)
            self.sse(name, pre, op, self.xmm(), self.xrm(0))
        elif k < 6:
            pre, op, name = r.choice(self.SSE_FP)
            # register operands only: memory holds random bit patterns
            self.sse(name, pre, op, self.xmm(),
                     (self.xmm(), b'\xc0'))
        elif k == 6:
            if r.randrange(2):
                self.sse('pshufd', b'\x66', [0x70], self.xmm(),
                         (self.xmm(), b'\xc0'), bytes([r.randrange(256)]))
            else:
                op = r.choice([(0x72, 2), (0x72, 4), (0x73, 2), (0x73, 3),
                               (0x73, 6), (0x73, 7), (0x71, 6), (0x71, 4)])
                self.sse('pshift imm', b'\x66', [op[0]], op[1],
                         (self.xmm(), b'\xc0'), bytes([r.randrange(80)]))
        else:
            kind = r.randrange(4)
            if kind == 0:       # movq r64 <-> xmm
                reg, x = r.choice(WREG), self.xmm()
                rex = rexb(True, x, 0, reg)
                self.emit('movq', b'\x66' + rex + b'\x0f' + bytes(
                    [r.choice([0x6e, 0x7e]),
                     0xc0 | ((x & 7) << 3) | (reg & 7)]))
            elif kind == 1:     # movdqu xmm <-> mem
                self.sse('movdqu', b'\xf3', [r.choice([0x6f, 0x7f])],
                         self.xmm(), self.mem(0))
            elif kind == 2:     # pmovmskb / movmskpd into a GPR
                reg, x = r.choice(WREG), self.xmm()
                rex = rexb(False, reg, 0, x)
                self.emit('pmovmskb', b'\x66' + rex + b'\x0f\xd7' + bytes(
                    [0xc0 | ((reg & 7) << 3) | (x & 7)]))
            else:               # cvtsi2sd xmm, r64
                reg, x = r.choice(WREG), self.xmm()
                rex = rexb(True, x, 0, reg)
                self.emit('cvtsi2sd', b'\xf2' + rex + b'\x0f\x2a' + bytes(
                    [0xc0 | ((x & 7) << 3) | (reg & 7)]))

    def i_simple(self):
        self.r.choice([self.i_alu, self.i_test, self.i_unary, self.i_mov,
                       self.i_lea, self.i_movx, self.i_cmov])()

    KINDS = ['i_alu'] * 5 + ['i_test', 'i_unary', 'i_unary', 'i_shift',
                             'i_shift', 'i_shxd', 'i_mul', 'i_imul2',
                             'i_div', 'i_bt', 'i_bsx', 'i_popcnt', 'i_cmov',
                             'i_setcc', 'i_xadd', 'i_cmpxchg16b', 'i_movx',
                             'i_conv', 'i_lea', 'i_mov', 'i_mov', 'i_xchg',
                             'i_bswap', 'i_push', 'i_pop', 'i_branch'] + \
        ['i_sse'] * 6

    def one(self):
        getattr(self, self.r.choice(self.KINDS))()

    # ---- faults: the last instruction of a sequence ----
    def fault(self):
        r = self.r
        if self.undef:
            self.normalize()
        k = r.randrange(6)
        if k == 0:                  # #DE: divide by zero
            reg = r.choice([1, 3, 9, 14])
            self.emit('xor', rexb(False, reg, 0, reg) + bytes(
                [0x31, 0xc0 | ((reg & 7) << 3) | (reg & 7)]), 0, ALL6, 0)
            s = r.choice([4, 8])
            self.insn('div 0', s, [0xf7], 6 + r.randrange(2),
                      (reg, bytes([0xc0 | ((6 + r.randrange(2)) << 3)])))
            self.vec = 0
        elif k == 1:
            self.emit('ud2', b'\x0f\x0b')
            self.vec = 6
        elif k == 2:
            self.emit('int3', b'\xcc')
            self.vec = 3
        elif k == 3:                # #PF read or write in the hole
            reg = r.choice(WREG)
            self.movabs(reg, HOLE + r.randrange(0x1000))
            op = r.choice([0x8b, 0x89])
            self.emit('mov [hole]', rexb(True, 0, 0, reg) + bytes([op]) +
                      ind(reg))
            self.vec = 14
        elif k == 4:                # #GP: non-canonical address
            reg = r.choice(WREG)
            self.movabs(reg, 0x0000800000000000 | r.getrandbits(40))
            self.emit('mov [noncanon]', rexb(True, 0, 0, reg) + b'\x8b' +
                      ind(reg))
            self.vec = 13
        else:                       # #GP: a privileged instruction
            self.emit('hlt', b'\xf4')
            self.vec = 13


def ind(reg):
    """ModRM (reg field 0) and SIB/disp of [reg] for any register."""
    if reg & 7 == 4:
        return b'\x04\x24'
    if reg & 7 == 5:
        return b'\x45\x00'
    return bytes([reg & 7])


def gen_sequence(rng, sid, at, ninsn, fault):
    """A sequence whose code starts at guest address at (after the
    per-sequence prologue, which layout() emits)."""
    s = Seq(rng, at)
    tmpl = TMPL + sid * TMPL_LEN
    c = s.code
    # cld; mov esi, tmpl; mov edi, DATA; mov ecx, DATA_LEN/8; rep movsq
    c += b'\xfc\xbe' + struct.pack('<I', tmpl)
    c += b'\xbf' + struct.pack('<I', DATA)
    c += b'\xb9' + struct.pack('<I', DATA_LEN // 8) + b'\xf3\x48\xa5'
    for x in range(16):                     # movdqu xmm, [tmpl+LEN+16x]
        c += b'\xf3' + rexb(False, x, 0, 0) + b'\x0f\x6f' + absm(
            x, tmpl + DATA_LEN + 16 * x)
    c += b'\xbc' + struct.pack('<I', STACK_TOP)         # mov esp
    c += b'\x0f\xae' + absm(2, MXCSR_INIT)              # ldmxcsr
    fl = 0x202 | (rng.getrandbits(32) & DUMP_MASK)
    c += b'\x68' + struct.pack('<I', fl) + b'\x9d'      # push; popfq
    for reg in WREG:
        s.movabs(reg, s.val())
    c += b'\xbd' + struct.pack('<I', RBP_VAL)
    s.names = ['init fl=%#x' % fl]
    s.marks = [(len(s.code), 0, 1)]
    for _ in range(ninsn):
        s.one()
    if fault:
        s.fault()
    s.sid = sid
    return s


def dump_code(sid):
    """Normalized flags assumed: store the registers, flags, XMM, write."""
    c = bytearray()
    for reg in range(16):                   # mov [DUMP+8r], r64
        c += rexb(True, reg, 0, 0) + b'\x89' + absm(reg, DUMP + 8 * reg)
    c += b'\x9c\x58\x48\x25' + struct.pack('<i', DUMP_MASK)  # pushf; pop
    c += b'\x48\x89' + absm(0, DUMP + 128)
    c += b'\xc7\x04\x25' + struct.pack('<iI', DUMP + 136, MAGIC)
    c += b'\xc7\x04\x25' + struct.pack('<iI', DUMP + 140, sid)
    for o in range(144, 256, 4):
        c += b'\xc7\x04\x25' + struct.pack('<iI', DUMP + o, 0)
    c += b'\x0f\xae' + absm(3, DUMP + 184)   # stmxcsr
    for x in range(16):                     # movdqu [DUMP+256+16x], xmm
        c += b'\xf3' + rexb(False, x, 0, 0) + b'\x0f\x7f' + absm(
            x, DUMP + 256 + 16 * x)
    c += write_code()
    return c


def write_code():
    # mov eax, 1; mov edi, 1; mov esi, DUMP; mov edx, REC_LEN; syscall
    return (b'\xb8\x01\x00\x00\x00\xbf\x01\x00\x00\x00\xbe' +
            struct.pack('<I', DUMP) + b'\xba' + struct.pack('<I', REC_LEN) +
            b'\x0f\x05')


def handler_code():
    """rdi signal, rsi siginfo, rdx ucontext (uc_mcontext at +40: 23
    gregs, then the fpregs pointer; XMM at fpregs+160)."""
    c = bytearray(b'\xfc\x49\x89\xd7')                 # cld; mov r15, rdx
    for i, g in enumerate(GREGS):           # mov rax,[rdx+40+8g]; mov [D],rax
        c += b'\x48\x8b\x82' + struct.pack('<i', 40 + 8 * g)
        c += b'\x48\x89' + absm(0, DUMP + 8 * i)
    c += b'\x48\x8b\x82' + struct.pack('<i', 40 + 8 * 17)   # eflags
    c += b'\x48\x25' + struct.pack('<i', DUMP_MASK)
    c += b'\x48\x89' + absm(0, DUMP + 128)
    c += b'\xc7\x04\x25' + struct.pack('<iI', DUMP + 136, MAGIC)
    c += b'\x8b\x04\x25' + struct.pack('<i', CUR_SID)       # mov eax,[sid]
    c += b'\x89' + absm(0, DUMP + 140)
    c += b'\x8b\x06\x89' + absm(0, DUMP + 144)              # si_signo
    c += b'\x8b\x46\x08\x89' + absm(0, DUMP + 148)          # si_code
    for g, o in ((20, 152), (19, 160), (16, 168)):          # trapno err rip
        c += b'\x48\x8b\x82' + struct.pack('<i', 40 + 8 * g)
        c += b'\x48\x89' + absm(0, DUMP + o)
    c += b'\x48\x8b\x46\x10\x48\x89' + absm(0, DUMP + 176)  # si_addr
    # mov rsi, [rdx+40+184]; add rsi, 160; mov edi, DUMP+256; mov ecx, 32;
    # rep movsq
    c += b'\x48\x8b\xb2' + struct.pack('<i', 40 + 184)
    c += b'\x8b\x46\x18\x89' + absm(0, DUMP + 184)      # mxcsr
    c += b'\x48\x81\xc6' + struct.pack('<i', 160)
    c += b'\xbf' + struct.pack('<I', DUMP + 256)
    c += b'\xb9\x20\x00\x00\x00\xf3\x48\xa5'
    c += write_code()
    # The handler returns through rt_sigreturn (its restorer) to [RESUME]:
    # mov rax, [RESUME]; mov [r15+40+8*REG_RIP], rax; ret.  (r15 holds
    # the ucontext: the write syscall's arguments clobber rdx.)
    c += b'\x48\x8b\x04\x25' + struct.pack('<i', RESUME)
    c += b'\x49\x89\x87' + struct.pack('<i', 40 + 8 * 16)
    # mov qword [r15+40+8*REG_EFL], 0x202: qemu-x86_64 7.2 can put a
    # corrupt EFLAGS (TF, IOPL) into the frame of a trap, which its
    # sigreturn then loads; the next sequence sets its own flags anyway.
    c += b'\x49\xc7\x87' + struct.pack('<iI', 40 + 8 * 17, 0x202)
    c += b'\xc3'
    return c


RESTORER = b'\xb8\x0f\x00\x00\x00\x0f\x05'    # rt_sigreturn


def layout(rng, first, nseq, ninsn_max, faults):
    """(ELF image, [Seq]) with nseq sequences generated in place."""
    tmpl = bytearray()
    for _ in range(nseq * TMPL_LEN // 8):
        tmpl += struct.pack('<Q', Seq(rng, 0).val() & M64)
    code_addr = TMPL + len(tmpl)
    code = bytearray()
    for sig in SIGNALS:     # rt_sigaction(sig, ACT, NULL, 8)
        code += b'\xb8\x0d\x00\x00\x00\xbf' + struct.pack('<I', sig)
        code += b'\xbe' + struct.pack('<I', ACT) + b'\x31\xd2'
        code += b'\x41\xba\x08\x00\x00\x00\x0f\x05'
    h = handler_code()
    code += b'\xe9' + struct.pack('<i', len(h) + len(RESTORER))
    handler = code_addr + len(code)
    code += h
    restorer = code_addr + len(code)
    code += RESTORER
    seqs = []
    for i in range(nseq):
        sid = first + i
        # mov dword [CUR_SID], sid; mov qword [RESUME], end (patched)
        head = len(code)
        code += b'\xc7\x04\x25' + struct.pack('<iI', CUR_SID, sid)
        code += b'\x48\xc7\x04\x25' + struct.pack('<ii', RESUME, 0)
        s = gen_sequence(rng, i, code_addr + len(code),
                         rng.randrange(1, ninsn_max + 1),
                         rng.random() < faults)
        s.sid = sid
        s.body = code_addr + len(code)
        if s.undef:
            s.normalize()
        code += s.code + dump_code(sid)
        struct.pack_into("<i", code, head + 19, code_addr + len(code))
        seqs.append(s)
    code += b'\xb8\xe7\x00\x00\x00\x31\xff\x0f\x05'     # exit_group(0)
    image = bytearray(TMPL - BASE) + tmpl + code
    if BASE + len(image) > IMG_END:
        raise SystemExit('user-diff64: image too big (fewer --per-elf)')
    image += bytearray(IMG_END - BASE - len(image))
    image[MXCSR_INIT - BASE:MXCSR_INIT - BASE + 4] = struct.pack('<I',
                                                                 0x1f80)
    image[ACT - BASE:ACT - BASE + 32] = struct.pack(
        '<QQQQ', handler, SA_SIGINFO | SA_NODEFER | SA_RESTORER, restorer,
        0)
    ehdr = struct.pack('<16sHHIQQQIHHHHHH', b'\x7fELF\x02\x01\x01', 2, 62,
                       1, code_addr, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack('<IIQQQQQQ', 1, 7, 0, BASE, BASE, len(image),
                       len(image), 0x1000)
    image[0:len(ehdr) + len(phdr)] = ehdr + phdr
    return bytes(image), seqs


def records(out):
    recs = {}
    for o in range(0, len(out) - REC_LEN + 1, REC_LEN):
        rec = out[o:o + REC_LEN]
        magic, sid = struct.unpack_from('<II', rec, 136)
        if magic == MAGIC:
            recs[sid] = rec
    return recs


REGS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'] + \
    ['r%d' % i for i in range(8, 16)] + ['rflags']


def describe(seq, q, m):
    lines = ['FAIL sequence %d:' % seq.sid]
    if m is None or q is None:
        lines.append('  no %s record' % ('Mimic' if m is None else 'qemu'))
    else:
        qv, mv = struct.unpack_from('<17Q', q), struct.unpack_from('<17Q', m)
        for i in range(17):
            if qv[i] != mv[i]:
                lines.append('  %s: qemu %016x mimic %016x' % (REGS[i], qv[i],
                                                              mv[i]))
        qf = struct.unpack_from('<IIQQQQ', q, 144)
        mf = struct.unpack_from('<IIQQQQ', m, 144)
        if qf != mf:
            lines.append('  signo/code/trapno/err/rip/addr: qemu %s mimic %s'
                         % ([hex(v) for v in qf], [hex(v) for v in mf]))
        qm, mm = struct.unpack_from('<I', q, 184), struct.unpack_from('<I', m,
                                                                       184)
        if qm != mm:
            lines.append('  mxcsr: qemu %08x mimic %08x' % (qm + mm))
        for x in range(16):
            o = 256 + 16 * x
            if q[o:o + 16] != m[o:o + 16]:
                lines.append('  xmm%d: qemu %s mimic %s' % (
                    x, q[o:o + 16][::-1].hex(), m[o:o + 16][::-1].hex()))
        for o in range(512, REC_LEN):
            if q[o] != m[o]:
                lines.append('  data+%#x: qemu %02x mimic %02x'
                             % (o - 512, q[o], m[o]))
                break
    lines.append('  insns: ' + '; '.join(seq.names))
    lines.append('  code: ' + seq.code.hex())
    return '\n'.join(lines)


def fix_trapno(q, seq):
    """EXCLUSIONS (QEMU 7.2 limitations), applied to qemu's record:
    - trapno: qemu-x86_64 may leave the frame's trapno unset; the vector
      the generator expects for the faulting instruction (SDM) stands in
      when qemu's trapno is not that vector (as gen.py does).
    - a load from a non-canonical address is #GP(0) (SDM vol. 3 6.15,
      "General Protection Exception"; Linux: SIGSEGV, si_code SI_KERNEL,
      si_addr 0, err 0); qemu-x86_64 reports it as a page fault
      (SEGV_MAPERR, err 4): for such sequences qemu's si_code and error
      code are replaced by Linux's.
    - MXCSR.DE (denormal operand, SDM vol. 1 11.5.2.2): qemu never sets
      it; the DE bit is cleared in both records (the unit test x86-sse
      checks DE against the host)."""
    if q is None:
        return q
    q = bytearray(q)
    struct.pack_into('<I', q, 184, struct.unpack_from('<I', q, 184)[0] & ~2)
    if struct.unpack_from('<I', q, 144)[0] and seq.vec is not None:
        trapno = struct.unpack_from('<Q', q, 152)[0]
        if trapno != seq.vec:
            struct.pack_into('<Q', q, 152, seq.vec)
        if seq.names[-1] == 'mov [noncanon]' and \
                struct.unpack_from('<I', q, 148)[0] == 1:
            struct.pack_into('<I', q, 148, 0x80)
            struct.pack_into('<Q', q, 160, 0)
    return bytes(q)


def fix_mimic(m):
    """Mimic's record with MXCSR.DE cleared (see fix_trapno)."""
    if m is None:
        return m
    m = bytearray(m)
    struct.pack_into('<I', m, 184, struct.unpack_from('<I', m, 184)[0] & ~2)
    return bytes(m)


def reduce(cmds, fixes, img, seq, d):
    """The first instruction of seq after which two engines (cmds, each
    an argv prefix; fixes, a function per engine applied to its record)
    differ: the image with seq's code cut after each instruction and its
    dump (and exit_group) appended there."""
    p = os.path.join(d, 'reduce.elf')
    prev_names = 1
    for off, undef, nnames in seq.marks:
        t = Seq(None, 0)
        t.code, t.undef = bytearray(seq.code[:off]), undef
        if t.undef:
            t.normalize()
        tail = t.code + dump_code(seq.sid) + \
            b'\xb8\xe7\x00\x00\x00\x31\xff\x0f\x05'
        im = bytearray(img)
        o = seq.body - BASE
        im[o:o + len(tail)] = tail
        with open(p, 'wb') as f:
            f.write(im)
        os.chmod(p, 0o755)
        a, b = [fix(records(run_bounded(cmd + [p], 1 << 24,
                                        60)).get(seq.sid))
                for cmd, fix in zip(cmds, fixes)]
        if a != b:
            if nnames == 1:
                return 'differs after the set-up:\n' + describe(seq, a, b)
            diff = [ln for ln in describe(seq, a, b).split('\n')[1:]
                    if not ln.startswith(('  insns', '  code'))]
            return 'first difference after: %s (bytes %s)\n%s' % (
                '; '.join(seq.names[prev_names:nnames]),
                seq.code[prev_off(seq, prev_names):off].hex(),
                '\n'.join(diff))
        prev_names = nnames
    return 'no difference in prefixes'


def run_bounded(cmd, limit, timeout=120):
    """The stdout of cmd, at most limit bytes: an engine that loops
    (qemu-x86_64 does on some programs) is killed there or at timeout."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    out = bytearray()
    try:
        while len(out) < limit:
            chunk = proc.stdout.read1(65536)
            if not chunk:
                break
            out += chunk
    finally:
        proc.kill()
        proc.wait()
        timer.cancel()
    return bytes(out[:limit])


def prev_off(seq, nnames):
    for off, _, n in seq.marks:
        if n == nnames:
            return off
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mimic', required=True)
    ap.add_argument('-n', type=int, default=3000)
    ap.add_argument('-s', type=int, default=1)
    ap.add_argument('--per-elf', type=int, default=150)
    ap.add_argument('--insns', type=int, default=40)
    ap.add_argument('--faults', type=float, default=0.2)
    ap.add_argument('--keep')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--show', type=int, default=10)
    ap.add_argument('--reduce', action='store_true',
                    help='find the first differing instruction of failures')
    ap.add_argument('--show-qemu', action='store_true',
                    help='with --reduce: also reduce qemu\'s deviations')
    a = ap.parse_args()
    if platform.machine() != 'x86_64' or sys.platform != 'linux':
        print('user-diff64: SKIPPED: the host CPU is the oracle and this '
              'host is not x86-64 Linux')
        return 77
    qemu = shutil.which('qemu-x86_64')
    if not qemu:
        print('user-diff64: qemu-x86_64 not found (Debian\'s qemu-user): '
              'comparing with the host CPU only')
    rng = random.Random(a.s)
    d = a.keep or tempfile.mkdtemp(prefix='user-diff64-')
    os.makedirs(d, exist_ok=True)
    files, seqs = [], {}
    sid = 0
    while sid < a.n:
        k = min(a.per_elf, a.n - sid)
        img, ss = layout(rng, sid, k, a.insns, a.faults)
        p = os.path.join(d, 'p%05d.elf' % len(files))
        with open(p, 'wb') as f:
            f.write(img)
        os.chmod(p, 0o755)
        files.append(p)
        for s in ss:
            seqs[s.sid] = s
            s.img = img
        sid += k

    def run(cmd):
        return run_bounded(cmd, (a.per_elf + 1) * REC_LEN)

    mimic = [a.mimic, '-cpu', 'max']
    qemu_cmd = [qemu, '-cpu', 'max'] if qemu else None
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        nouts = list(ex.map(lambda p: run([p]), files))
        qouts = list(ex.map(lambda p: run(qemu_cmd + [p]), files)) \
            if qemu else []
        mouts = list(ex.map(lambda p: run(mimic + [p]), files))
    nrecs = records(b''.join(nouts))
    qrecs = records(b''.join(qouts))
    mrecs = records(b''.join(mouts))
    passed = failed = shown = qdev = qmiss = 0
    vecs = {}
    same = lambda r: r  # noqa: E731
    for i in range(a.n):
        n, m = nrecs.get(i), mrecs.get(i)
        q = fix_trapno(qrecs.get(i), seqs[i])
        if n is None:
            print('user-diff64: the host produced no record for sequence %d'
                  % i)
            failed += 1
            continue
        if struct.unpack_from('<I', n, 144)[0]:
            v = struct.unpack_from('<Q', n, 152)[0]
            vecs[v] = vecs.get(v, 0) + 1
        if q is None:
            qmiss += qemu is not None
        elif fix_mimic(q) != fix_mimic(m):
            if m == n:
                qdev += 1
                if a.reduce and a.show_qemu:
                    print('qemu deviation in sequence %d: %s' % (i, reduce(
                        [qemu_cmd, mimic], [lambda r: fix_mimic(
                            fix_trapno(r, seqs[i])), fix_mimic],
                        seqs[i].img, seqs[i], d)))
        if m == n:
            passed += 1
            continue
        failed += 1
        if shown < a.show:
            print(describe(seqs[i], n, m).replace('qemu', 'host'))
            if a.reduce:
                print('  ' + reduce([[], mimic], [same, same], seqs[i].img,
                                    seqs[i], d))
            shown += 1
    if not a.keep:
        shutil.rmtree(d)
    print('user-diff64: faults by vector: %s' %
          ' '.join('%d:%d' % kv for kv in sorted(vecs.items())))
    print('user-diff64: qemu-x86_64 deviates (after the exclusions of '
          'fix_trapno) in %d sequences where Mimic equals the host CPU, '
          'and wrote no record for %d (it stopped on an earlier one)'
          % (qdev, qmiss))
    print('user-diff64: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
