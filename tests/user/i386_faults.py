# SPDX-License-Identifier: GPL-2.0-or-later
"""A static i386 Linux program, assembled here byte by byte (no assembler
needed), for test_user.py: it installs an SA_SIGINFO handler (with its
own sa_restorer) for SIGSEGV, SIGILL, SIGFPE and SIGTRAP, then faults
six times (a store to an unmapped page, UD2, DIV by zero, INT3, HLT at
CPL 3, a load from 0xffff0000, where Mimic keeps its system tables); the handler logs the signal, si_code and si_addr and steps over
the faulting instruction through the ucontext's EIP; it also logs the
x87 control word from the frame's fpstate, and ST0 (pi, loaded before
the faults) must survive the handlers.  Then self-modifying
code: a routine in the RWX segment is called, its immediate rewritten,
called again; then it is called once more, overwritten by read() from a
pipe and called: the code read must run.  It writes its results, EBP,
ESI and ST0 (which must survive the handlers) and the handler log to
stdout and exits 0.

usage: i386_faults.py OUTPUT
"""
import struct
import sys

BASE = 0x08048000
CODE = BASE + 0x100    # code after the ELF and program headers
DATA = BASE + 0x400


def build():
    # the data area
    act = DATA            # struct sigaction: handler, flags, restorer, mask
    skip = DATA + 0x20    # bytes the handler steps over
    logptr = DATA + 0x24
    buf = BASE + 0x1000   # the self-modified routine: mov eax, imm32; ret
                          # (a page of its own)
    fds = DATA + 0x28     # pipe()
    newcode = DATA + 0x38  # mov eax, 3; ret: read() over buf
    tail = DATA + 0x40    # 28 bytes: two results, EBP, ESI, ST0, third
    log = DATA + 0x5c
    code = bytearray()

    def d32(v):
        return struct.pack('<I', v & 0xffffffff)

    def here():
        return CODE + len(code)

    # the handler at CODE (its address is known before the rest)
    code += b'\x8b\x44\x24\x08'                 # mov eax, [esp+8] (info)
    code += b'\x8b\x3d' + d32(logptr)           # mov edi, [logptr]
    code += b'\x8b\x4c\x24\x04'                 # mov ecx, [esp+4] (sig)
    code += b'\x88\x0f'                         # mov [edi], cl
    code += b'\x8b\x48\x08'                     # mov ecx, [eax+8] (code)
    code += b'\x88\x4f\x01'                     # mov [edi+1], cl
    code += b'\x8b\x48\x0c'                     # mov ecx, [eax+12] (addr)
    code += b'\x89\x4f\x02'                     # mov [edi+2], ecx
    code += b'\x8b\x54\x24\x0c'                 # mov edx, [esp+12] (uc)
    code += b'\x8b\x52\x60'                     # mov edx, [edx+20+76]
    code += b'\x66\x8b\x12'                     # mov dx, [edx] (fpstate cw)
    code += b'\x66\x89\x57\x06'                 # mov [edi+6], dx
    code += b'\x83\xc7\x08'                     # add edi, 8
    code += b'\x89\x3d' + d32(logptr)           # mov [logptr], edi
    code += b'\x8b\x44\x24\x0c'                 # mov eax, [esp+12] (uc)
    code += b'\x8b\x0d' + d32(skip)             # mov ecx, [skip]
    code += b'\x01\x48\x4c'                     # add [eax+20+56], ecx (EIP)
    code += b'\xc3'                             # ret (to the restorer)
    restorer = here()
    code += b'\xb8' + d32(173) + b'\xcd\x80'    # rt_sigreturn
    entry = here()
    for sig in (11, 4, 8, 5):
        code += b'\xb8' + d32(174)              # rt_sigaction(sig, act,
        code += b'\xbb' + d32(sig)              #   0, 8)
        code += b'\xb9' + d32(act)
        code += b'\x31\xd2'
        code += b'\xbe' + d32(8)
        code += b'\xcd\x80'
    code += b'\xbd' + d32(0x12345678)           # mov ebp, magic
    code += b'\xbe' + d32(0x9abcdef0)           # mov esi, magic
    code += b'\xd9\xeb'                         # fldpi (kept across)
    faults = [
        (10, b'\xc7\x05' + d32(0x10) + d32(1)),  # mov dword [0x10], 1
        (2, b'\x0f\x0b'),                       # ud2
        (2, b'\x31\xc9\xf7\xf1'),               # xor ecx, ecx; div ecx
        (0, b'\xcc'),                           # int3 (a trap: EIP after)
        (1, b'\xf4'),                           # hlt: #GP at CPL 3
        (5, b'\xa1' + d32(0xffff0000)),          # mov eax, [0xffff0000]
    ]
    for n, insn in faults:
        code += b'\xc7\x05' + d32(skip) + d32(n)
        code += insn
    for i in range(2):
        call = here()
        code += b'\xe8' + d32(buf - (call + 5))  # call buf
        code += b'\xa3' + d32(tail + 4 * i)     # mov [tail+4i], eax
        code += b'\xc7\x05' + d32(buf + 1) + d32(0x5eed)  # rewrite imm
    code += b'\x89\x2d' + d32(tail + 8)         # mov [tail+8], ebp
    code += b'\x89\x35' + d32(tail + 12)        # mov [tail+12], esi
    code += b'\xdd\x1d' + d32(tail + 16)        # fstp qword [tail+16]
    # buf translated again, then rewritten by read() from a pipe (the
    # kernel's write, not the CPU's) and called: the new code runs
    code += b'\xe8' + d32(buf - (here() + 5))    # call buf
    code += b'\xb8' + d32(42) + b'\xbb' + d32(fds) + b'\xcd\x80'
    code += b'\xb8' + d32(4) + b'\x8b\x1d' + d32(fds + 4)
    code += b'\xb9' + d32(newcode) + b'\xba' + d32(6) + b'\xcd\x80'
    code += b'\xb8' + d32(3) + b'\x8b\x1d' + d32(fds)
    code += b'\xb9' + d32(buf) + b'\xba' + d32(6) + b'\xcd\x80'
    code += b'\xe8' + d32(buf - (here() + 5))    # call buf
    code += b'\xa3' + d32(tail + 24)             # mov [tail+24], eax
    code += b'\xb8' + d32(4) + b'\xbb' + d32(1) + b'\xb9' + d32(tail)
    code += b'\x8b\x15' + d32(logptr)           # mov edx, [logptr]
    code += b'\x81\xea' + d32(tail)             # sub edx, tail
    code += b'\xcd\x80'                         # write(1, tail, edx)
    code += b'\xb8' + d32(1) + b'\x31\xdb\xcd\x80'  # exit(0)
    assert CODE + len(code) <= DATA

    img = bytearray(0x1010)
    img[CODE - BASE:CODE - BASE + len(code)] = code
    struct.pack_into('<5I', img, act - BASE, CODE, 0x04000004, restorer,
                     0, 0)
    struct.pack_into('<I', img, logptr - BASE, log)
    img[buf - BASE:buf - BASE + 6] = b'\xb8' + d32(1) + b'\xc3'
    img[newcode - BASE:newcode - BASE + 6] = b'\xb8' + d32(3) + b'\xc3'
    # ELF header and one RWX PT_LOAD covering the file and 8 KiB
    img[0:16] = b'\x7fELF\x01\x01\x01' + bytes(9)
    struct.pack_into('<HHIIIIIHHHHHH', img, 16, 2, 3, 1, entry, 52, 0, 0,
                     52, 32, 1, 0, 0, 0)
    struct.pack_into('<8I', img, 52, 1, 0, BASE, BASE, len(img), 0x2000,
                     7, 0x1000)
    return bytes(img)


if __name__ == '__main__':
    with open(sys.argv[1], 'wb') as f:
        f.write(build())
