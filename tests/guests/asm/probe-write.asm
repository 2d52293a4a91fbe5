; SPDX-License-Identifier: GPL-2.0-or-later
;
; A boot sector (MBR of a raw disk) that plays the guest of the
; CVE-2008-2004 class: it writes a qcow2 header over its own sector 0 with
; INT 13h AH=03h, then an ordinary write to sector 1, and prints on COM1
;   "W0-OK" or "W0-ERR xx"  (xx: the BIOS status in AH), then
;   "W1-OK" or "W1-ERR xx", then "PROBE-DONE".
; An emulator that guessed the disk raw must refuse the first write (QEMU
; does); with format=raw it is the user's choice and goes through.
; Reference: IBM PC AT Technical Reference, INT 13h function 03h.
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
    ; The sector to write: zeros, then "QFI\xfb", version 3.
    mov di, 0x8000
    mov cx, 512
    xor al, al
    rep stosb
    mov si, qcow2_magic
    mov di, 0x8000
    mov cx, 8
    rep movsb
    mov si, msg_w0
    call puts
    mov cl, 1               ; sector 1 = LBA 0
    call write_one
    mov si, msg_w1
    call puts
    mov cl, 2               ; sector 2 = LBA 1
    call write_one
    mov si, msg_done
    call puts
halt:
    hlt
    jmp halt

; Write the buffer at 0:0x8000 to cylinder 0, head 0, sector cl; print
; "OK" or "ERR xx" and a newline.
write_one:
    mov ax, 0x0301
    mov ch, 0
    mov dh, 0
    mov dl, [drive]
    mov bx, 0x8000
    int 0x13
    jc .err
    mov si, msg_ok
    call puts
    ret
.err:
    push ax
    mov si, msg_err
    call puts
    pop ax
    mov al, ah
    call puthex8
    mov al, 13
    call putc
    mov al, 10
    call putc
    ret

%include "serial16.inc"

drive: db 0x80
qcow2_magic: db 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3
msg_w0: db 'W0-', 0
msg_w1: db 'W1-', 0
msg_ok: db 'OK', 13, 10, 0
msg_err: db 'ERR ', 0
msg_done: db 'PROBE-DONE', 13, 10, 0

times 510 - ($ - $$) db 0
dw 0xaa55
