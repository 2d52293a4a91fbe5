; SPDX-License-Identifier: GPL-2.0-or-later
;
; A boot sector that beeps for test_sound.py: it programs PIT channel 2
; for a 440 Hz square wave (mode 3, count 2712: 1193182 / 2712 =
; 439.97 Hz), opens the speaker gate and data bits in port 0x61, prints
; "SPK-ON", waits 18 BIOS timer ticks (about one second, with interrupts
; on), closes the gate, prints "SPK-OFF" and halts.
; Build: nasm -f bin -i tests/guests/asm/ pcspk-tone.asm -o pcspk-tone.bin

bits 16
org 0x7c00

PIT_COUNT equ 2712

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    cld
    sti

    mov al, 0xb6                ; channel 2, lobyte/hibyte, mode 3, binary
    out 0x43, al
    mov al, PIT_COUNT & 0xff
    out 0x42, al
    mov al, PIT_COUNT >> 8
    out 0x42, al
    in al, 0x61
    or al, 3                    ; gate 2 and speaker data on
    out 0x61, al
    mov si, msg_on
    call puts

    mov bx, [0x46c]             ; BIOS tick count (18.2 Hz)
.wait:
    hlt
    mov ax, [0x46c]
    sub ax, bx
    cmp ax, 18
    jb .wait

    in al, 0x61
    and al, 0xfc
    out 0x61, al
    mov si, msg_off
    call puts
.halt:
    cli
    hlt
    jmp .halt

msg_on:  db "SPK-ON", 13, 10, 0
msg_off: db "SPK-OFF", 13, 10, 0

%include "serial16.inc"

    times 510 - ($ - $$) db 0
    dw 0xaa55
