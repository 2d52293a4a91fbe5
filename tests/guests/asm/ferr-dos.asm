; SPDX-License-Identifier: GPL-2.0-or-later
;
; A boot sector (MBR of a raw disk) that takes x87 errors the two ways a
; PC offers (tests/guests/test_ferr.py):
;  1. CR0.NE=0, the MS-DOS way: 1/0 with ZE unmasked leaves an exception
;     pending; the next waiting FLD1 asserts FERR#, the board raises IRQ13
;     (INT 75h behind the slave PIC); the handler writes port 0xF0 (IRQ13
;     off, IGNNE# on), sends the EOIs, FNCLEXes and returns to the FLD1,
;     which then runs.
;  2. CR0.NE=1: the same error is #MF, vector 16 (INT 10h's vector in real
;     mode, so it is borrowed for the test), a fault on the FLD1.
; Then it prints "FERR irq13=N at=XXXX mf=N at=XXXX es=N" on COM1: the
; handler counts, the IP each one saw on its stack, and the FSTSW ES bit
; after both (0).
; References: SDM Vol. 1 8.7 and Appendix D.2; PIIX3 data sheet, FERR#/
; IGNNE# and port F0h.
bits 16
org 0x7c00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    mov word [0x75 * 4], irq13
    mov [0x75 * 4 + 2], ax
    in al, 0xa1
    and al, ~0x20               ; IRQ13
    out 0xa1, al
    in al, 0x21
    and al, ~0x04               ; cascade
    out 0x21, al
    mov eax, cr0
    and eax, ~0x20              ; NE=0
    mov cr0, eax
    sti
    call make_error
wait1:
    fld1                        ; FERR# -> IRQ13 here
    fstp st0
    ; #MF: borrow vector 16 (INT 10h) for the test.
    cli
    push word [0x10 * 4]
    push word [0x10 * 4 + 2]
    mov word [0x10 * 4], mf
    mov word [0x10 * 4 + 2], 0
    mov eax, cr0
    or eax, 0x20                ; NE=1
    mov cr0, eax
    sti
    call make_error
wait2:
    fld1                        ; #MF here
    fstp st0
    cli
    mov eax, cr0
    and eax, ~0x20
    mov cr0, eax
    pop word [0x10 * 4 + 2]
    pop word [0x10 * 4]
    fstsw [status]

    mov si, msg_irq
    call puts
    mov al, [n_irq]
    call putdigit
    mov si, msg_at
    call puts
    mov ax, [ip_irq]
    call puthex16
    mov si, msg_mf
    call puts
    mov al, [n_mf]
    call putdigit
    mov si, msg_at
    call puts
    mov ax, [ip_mf]
    call puthex16
    mov si, msg_st
    call puts
    mov al, [status]
    shr al, 7                   ; ES
    call putdigit
    mov si, msg_nl
    call puts
.hang:
    hlt
    jmp .hang

make_error:
    fninit
    fldcw [cw]
    fld1
    fldz
    fdivp st1, st0              ; 1/0: ZE pending
    ret

irq13:
    push ax
    push bp
    mov bp, sp
    mov ax, [bp + 4]
    mov [ip_irq], ax
    inc byte [n_irq]
    xor al, al
    out 0xf0, al
    mov al, 0x20
    out 0xa0, al
    out 0x20, al
    fnclex
    pop bp
    pop ax
    iret

mf:
    push ax
    push bp
    mov bp, sp
    mov ax, [bp + 4]
    mov [ip_mf], ax
    inc byte [n_mf]
    fnclex
    pop bp
    pop ax
    iret

%include "serial16.inc"

putdigit:
    add al, '0'
    jmp putc

puthex16:
    mov cx, 4
.digit:
    rol ax, 4
    push ax
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '0' - 10
.out:
    call putc
    pop ax
    loop .digit
    ret

cw:     dw 0x037b               ; all masked but ZE
n_irq:  db 0
n_mf:   db 0
ip_irq: dw 0
ip_mf:  dw 0
status: dw 0
msg_irq: db "FERR irq13=", 0
msg_at:  db " at=", 0
msg_mf:  db " mf=", 0
msg_st:  db " es=", 0
msg_nl:  db 13, 10, 0
; The test compares the IPs with these.
times 0x1f8 - ($ - $$) db 0
    dw wait1, wait2
times 510 - ($ - $$) db 0
    dw 0xaa55
