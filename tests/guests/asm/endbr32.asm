; SPDX-License-Identifier: GPL-2.0-or-later
;
; A static i386 Linux program, hand-assembled as a whole ELF file, for
; test_linux_input.py: what a program built with gcc -m32
; -fcf-protection runs at start-up and in every function, ENDBR32
; (F3 0F 1E FB), and the rest of the hint-NOP space a P6 decodes as NOP
; (0F 18-1F /r with register and memory operands, 0F 0D prefetches), with
; the hint NOPs' memory operands pointing at unmapped memory (they access
; nothing: no #PF).  Prints "ENDBR32-OK" and exits 0; an #UD would kill it
; with SIGILL instead (issue 14, item 6).
; Build: nasm -f bin endbr32.asm -o endbr32
; (Intel SDM Vol. 2: ENDBR32, NOP r/m, PREFETCHh; AMD: PREFETCHW.)

bits 32
org 0x08048000

SYS_EXIT equ 1
SYS_WRITE equ 4

ehdr:
    db 0x7f, "ELF", 1, 1, 1, 0      ; 32-bit, little-endian, version 1
    times 8 db 0
    dw 2                            ; ET_EXEC
    dw 3                            ; EM_386
    dd 1
    dd start
    dd phdr - ehdr
    dd 0                            ; no section headers
    dd 0
    dw phdr - ehdr                  ; header size (52)
    dw 32                           ; program header size
    dw 1
    dw 0, 0, 0
phdr:
    dd 1                            ; PT_LOAD
    dd 0                            ; from offset 0 ...
    dd ehdr                         ; ... at the image base
    dd ehdr
    dd file_end - ehdr
    dd file_end - ehdr
    dd 5                            ; R+X
    dd 0x1000

start:
    db 0xf3, 0x0f, 0x1e, 0xfb       ; endbr32
    db 0xf3, 0x0f, 0x1e, 0xfa       ; endbr64 (a hint NOP here too)
    mov esi, 0x10                   ; an unmapped address
    db 0x0f, 0x18, 0x06             ; prefetchnta [esi]
    db 0x0f, 0x18, 0x0e             ; prefetcht0 [esi]
    db 0x0f, 0x0d, 0x0e             ; prefetchw [esi]
    db 0x0f, 0x19, 0x06             ; nop [esi] (0F 19 .. 0F 1E)
    db 0x0f, 0x1a, 0xc0
    db 0x0f, 0x1b, 0x06
    db 0x0f, 0x1c, 0x06
    db 0x0f, 0x1d, 0x06
    db 0x0f, 0x1e, 0x06
    db 0x0f, 0x1f, 0x44, 0x00, 0x00 ; nopl 0(eax,eax,1): gcc's padding
    db 0x66, 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0 ; nopw 0(eax,eax,1)
    call func
    mov eax, SYS_WRITE
    mov ebx, 1
    mov ecx, msg
    mov edx, msg_end - msg
    int 0x80
    mov eax, SYS_EXIT
    xor ebx, ebx
    int 0x80

func:
    db 0xf3, 0x0f, 0x1e, 0xfb       ; endbr32: the first insn of a function
    ret

msg: db "ENDBR32-OK", 10
msg_end:
file_end:
