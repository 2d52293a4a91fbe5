; SPDX-License-Identifier: GPL-2.0-or-later
;
; A boot sector that plays a tone on the FM synthesizer (OPL2/OPL3 at
; 0x388) for test_sound.py: the AdLib detection (timer 1 must raise the
; status flags 0xC0, else "OPL-NONE"), then channel 0 with a silent
; modulator in additive mode and the carrier at 0 dB, sustained, attack
; 15, release 15, F-number 0x241 in block 4 (577 * 49716 / 2^16 =
; 437.71 Hz), keyed on; "OPL-ON", 18 BIOS ticks (about one second), key
; off, "OPL-OFF".
; Build: nasm -f bin -i tests/guests/asm/ opl-tone.asm -o opl-tone.bin

bits 16
org 0x7c00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    cld
    sti

    ; Detection: reset the timers, start timer 1 at 0xFF, wait, check.
    mov ax, 0x6004
    call opl
    mov ax, 0x8004
    call opl
    mov ax, 0xff02
    call opl
    mov ax, 0x2104
    call opl
    mov bx, [0x46c]
.tick:
    hlt                         ; one BIOS tick (55 ms) > 80 us
    cmp bx, [0x46c]
    je .tick
    mov dx, 0x388
    in al, dx
    and al, 0xe0
    cmp al, 0xc0
    je .found
    mov si, msg_none
    call puts
    jmp halt
.found:
    mov ax, 0x6004
    call opl
    mov ax, 0x8004
    call opl

    mov si, regs
    mov cx, (regs_end - regs) / 2
.reg:
    lodsw                       ; al: register, ah: value
    call opl
    loop .reg
    mov si, msg_on
    call puts

    mov bx, [0x46c]
.wait:
    hlt
    mov ax, [0x46c]
    sub ax, bx
    cmp ax, 18
    jb .wait

    mov ax, 0x12b0              ; key off (block 4, F-number high 2)
    call opl
    mov si, msg_off
    call puts
halt:
    cli
    hlt
    jmp halt

; Register al <- ah, with the delays an OPL2 needs after the index and
; the data writes (reads of the status port).
opl:
    push cx
    push dx
    mov dx, 0x388
    out dx, al
    mov cx, 6
.d1:
    in al, dx
    loop .d1
    inc dx
    mov al, ah
    out dx, al
    dec dx
    mov cx, 35
.d2:
    in al, dx
    loop .d2
    pop dx
    pop cx
    ret

; (register, value) pairs.
regs:
    db 0x01, 0x20               ; WSE
    db 0x20, 0x21               ; modulator: sustained, MULT 1
    db 0x40, 0x3f               ; modulator silent (-47 dB)
    db 0x60, 0xf0               ; attack 15, no decay
    db 0x80, 0x0f               ; sustain 0 dB, release 15
    db 0x23, 0x21               ; carrier: the same
    db 0x43, 0x00               ; carrier at 0 dB
    db 0x63, 0xf0
    db 0x83, 0x0f
    db 0xc0, 0x01               ; additive
    db 0xa0, 0x41               ; F-number 0x241
    db 0xb0, 0x32               ; key on, block 4, F-number high 2
regs_end:

msg_none: db "OPL-NONE", 13, 10, 0
msg_on:  db "OPL-ON", 13, 10, 0
msg_off: db "OPL-OFF", 13, 10, 0

%include "serial16.inc"

    times 510 - ($ - $$) db 0
    dw 0xaa55
