; SPDX-License-Identifier: GPL-2.0-or-later
;
; A two-sector raw disk for the USB boot test: the boot sector prints on
; COM1 which disk the BIOS booted ("USB-BOOT", or "IDE-BOOT" when built
; with -DIDE) and its drive number, then reads sector 2 (LBA 1) through
; INT 13h AH=02h and prints "READ-OK" when it holds the signature below,
; else "READ-ERR xx" (xx: AH), then "BOOT-DONE".
; Reference: IBM PC AT Technical Reference, INT 13h function 02h.
bits 16
org 0x7c00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    cld
    mov [drive], dl
    mov si, msg_boot
    call puts
    mov al, [drive]
    call puthex8
    mov si, msg_nl
    call puts
    mov ax, 0x0201          ; read one sector
    mov cx, 0x0002          ; cylinder 0, sector 2
    xor dh, dh
    mov dl, [drive]
    mov bx, 0x8000
    int 0x13
    jc .err
    mov si, 0x8000
    mov di, signature
    mov cx, sig_len
    repe cmpsb
    jne .bad
    mov si, msg_ok
    call puts
    jmp .done
.bad:
    xor ah, ah
.err:
    push ax
    mov si, msg_err
    call puts
    pop ax
    mov al, ah
    call puthex8
    mov si, msg_nl
    call puts
.done:
    mov si, msg_done
    call puts
halt:
    hlt
    jmp halt

%include "serial16.inc"

drive: db 0x80
%ifdef IDE
msg_boot: db 'IDE-BOOT dl=', 0
%else
msg_boot: db 'USB-BOOT dl=', 0
%endif
msg_nl: db 13, 10, 0
msg_ok: db 'READ-OK', 13, 10, 0
msg_err: db 'READ-ERR ', 0
msg_done: db 'BOOT-DONE', 13, 10, 0
%define SIG 'MIMIC-USB-BOOT-SECTOR-2'
signature: db SIG
sig_len equ $ - signature

times 510 - ($ - $$) db 0
dw 0xaa55

db SIG                      ; sector 2, compared with the copy above
times 1024 - ($ - $$) db 0
