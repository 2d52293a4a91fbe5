; SPDX-License-Identifier: GPL-2.0-or-later
;
; A boot sector (MBR of a raw disk) that prints every key the BIOS reads
; with INT 16h AH=10h (extended keyboard read) on COM1 as "K ssaa" (scan
; code, ASCII), after "KBD-READY".  The BIOS sees the keyboard through the
; i8042's translation to scan code set 1, so this checks what a BIOS or a
; DOS program gets from the keyboard.
; Reference: IBM PC AT Technical Reference, INT 16h function 10h.
bits 16
org 0x7c00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    mov si, msg_ready
    call puts
next:
    mov ah, 0x10
    int 0x16
    push ax
    mov si, msg_k
    call puts
    pop ax
    push ax
    mov al, ah
    call puthex8
    pop ax
    call puthex8
    mov al, 13
    call putc
    mov al, 10
    call putc
    jmp next

%include "serial16.inc"

msg_ready: db 'KBD-READY', 13, 10, 0
msg_k:     db 'K ', 0

    times 446 - ($ - $$) db 0
    db 0x80, 0, 2, 0, 0x01, 0, 0x20, 0
    dd 1, 2047
    times 510 - ($ - $$) db 0
    dw 0xaa55
