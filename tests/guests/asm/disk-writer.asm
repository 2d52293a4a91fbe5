; SPDX-License-Identifier: GPL-2.0-or-later
;
; A boot sector that writes its disk without end, for the crash-consistency
; test: round n writes 8 sectors at LBA 64 + (n * 7919) mod 16000 with INT
; 13h AH=43h (extended write), each sector filled with the round number,
; and prints "W nnnn" on COM1 after every 16 rounds.  Scattered writes into
; a fresh qcow2 image allocate clusters, L2 tables and refcount blocks all
; the time.  Reference: Phoenix/IBM BIOS Enhanced Disk Drive Specification,
; INT 13h AH=43h.
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
        mov [drive], dl
        xor bp, bp                  ; round number
round:
        ; Fill 8 sectors at 0x8000 with the round number.
        mov di, 0x8000
        mov cx, 8 * 256
        mov ax, bp
        rep stosw
        ; LBA = 64 + (bp * 7919) mod 16000
        mov ax, bp
        mov bx, 7919
        mul bx                      ; dx:ax
        mov bx, 16000
        div bx                      ; dx = remainder
        add dx, 64
        mov [dap_lba], dx
        mov si, dap
        mov ah, 0x43
        xor al, al
        mov dl, [drive]
        int 0x13
        jc fail
        inc bp
        test bp, 15
        jnz round
        mov al, 'W'
        call putc
        mov al, ' '
        call putc
        mov ax, bp
        xchg al, ah
        call puthex8
        mov al, ah
        call puthex8
        mov al, 10
        call putc
        jmp round
fail:
        mov si, msg_fail
        call puts
.halt:  hlt
        jmp .halt

%include "serial16.inc"

drive:  db 0x80
msg_fail: db 'WRITE-FAILED', 10, 0
align 4
dap:    db 16, 0
        dw 8                        ; sectors
        dw 0x8000, 0                ; buffer 0000:8000
dap_lba: dd 0, 0

times 510 - ($ - $$) db 0
dw 0xaa55
