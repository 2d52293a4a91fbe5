; SPDX-License-Identifier: GPL-2.0-or-later
;
; A boot sector (MBR of a raw disk) that drives the PS/2 mouse through the
; BIOS's pointing-device services (INT 15h AX=C2xxh, as SeaBIOS implements
; them on top of the i8042) and reports on COM1:
;   "MOUSE-ID xx"        C204h after reset (00), after the IntelliMouse
;                        sample-rate knock 200/100/80 (03), after a reset
;   "MOUSE-ST ss rr hh"  C206h status: status byte, resolution, rate
;   "MOUSE-READY"        handler installed, mouse enabled, idling
;   "M ss xx yy"         one line per packet the BIOS hands the handler
;   "MOUSE-FAIL n"       a service returned CF=1 (n: which step)
; Reference: IBM PS/2 and PC BIOS Interface Technical Reference, INT 15h
; function C2h; SeaBIOS src/mouse.c (the far call pushes status, X, Y, Z).
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
    mov si, msg_hello
    call puts

    mov ax, 0xc205              ; initialise: 3-byte packets (resets)
    mov bh, 3
    mov byte [step], '1'
    int 0x15
    jc fail
    call show_id

    mov bh, 6                   ; sample rates 200, 100, 80
    call set_rate
    mov bh, 5
    call set_rate
    mov bh, 4
    call set_rate
    call show_id                ; 03: the wheel mouse answers

    mov ax, 0xc201              ; reset: a plain mouse again
    mov byte [step], '3'
    int 0x15
    jc fail
    call show_id

    mov ax, 0xc203              ; resolution 3 (8 counts/mm)
    mov bh, 3
    mov byte [step], '4'
    int 0x15
    jc fail
    mov bh, 2                   ; 40 reports/s
    call set_rate
    mov ax, 0xc206              ; status
    mov bh, 0
    mov byte [step], '5'
    int 0x15
    jc fail
    push dx
    push cx
    push bx
    mov si, msg_st
    call puts
    pop ax                      ; BL: status
    call puthex8
    call space
    pop ax                      ; CL: resolution
    call puthex8
    call space
    pop ax                      ; DL: sample rate
    call puthex8
    call crlf

    push cs
    pop es
    mov bx, handler
    mov ax, 0xc207              ; install the far handler
    mov byte [step], '6'
    int 0x15
    jc fail
    mov ax, 0xc200              ; enable
    mov bh, 1
    mov byte [step], '7'
    int 0x15
    jc fail
    mov si, msg_ready
    call puts
idle:
    sti
    hlt
    jmp idle

fail:
    mov si, msg_fail
    call puts
    mov al, [step]
    call putc
    call crlf
    jmp idle

set_rate:
    mov ax, 0xc202
    mov byte [step], '2'
    int 0x15
    jc fail
    ret

show_id:
    mov ax, 0xc204
    mov byte [step], '8'
    int 0x15
    jc fail
    mov si, msg_id
    call puts
    mov al, bh
    call puthex8
    jmp crlf

; Called far by the BIOS with status, X, Y, Z words on the stack.
handler:
    push bp
    mov bp, sp
    pusha
    push ds
    xor ax, ax
    mov ds, ax
    mov si, msg_m
    call puts
    mov ax, [bp + 12]
    call puthex8
    call space
    mov ax, [bp + 10]
    call puthex8
    call space
    mov ax, [bp + 8]
    call puthex8
    call crlf
    pop ds
    popa
    pop bp
    retf

space:
    mov al, ' '
    jmp putc

crlf:
    mov al, 13
    call putc
    mov al, 10
    jmp putc

%include "serial16.inc"

msg_hello: db 'MOUSE-TEST', 13, 10, 0
msg_id:    db 'MOUSE-ID ', 0
msg_st:    db 'MOUSE-ST ', 0
msg_ready: db 'MOUSE-READY', 13, 10, 0
msg_fail:  db 'MOUSE-FAIL ', 0
msg_m:     db 'M ', 0
step:      db 0

    times 446 - ($ - $$) db 0
    ; One partition entry so that nothing mistakes the disk for a floppy.
    db 0x80, 0, 2, 0, 0x01, 0, 0x20, 0
    dd 1, 2047
    times 510 - ($ - $$) db 0
    dw 0xaa55
