; SPDX-License-Identifier: GPL-2.0-or-later
;
; A boot sector that plays a 1 kHz sine through the AC'97 controller
; (Intel 82801AA, PCI 8086:2415) for test_sound.py: it finds the function
; on bus 0, enables I/O and bus mastering, takes the link out of cold
; reset (GLOB_CNT), resets the codec, sets master and PCM out to 0 dB,
; enables variable rate audio and sets the front DAC to 24000 Hz, fills
; a 100 ms buffer at 0x10000 with 16-bit stereo (a 24-sample sine of
; peak 16384: 1 kHz), and queues
; it 11 times in a buffer descriptor list at 0x9000, each with IOC.  The
; PCI interrupt (its line as SeaBIOS routed it) counts buffers; when the
; controller halts after the last one (DCH) it prints "AC97-DONE <n>".
; The sine table: round(16384 * sin(2 pi i / 24)), i = 0..23.
; Build: nasm -f bin -i tests/guests/asm/ ac97-tone.asm -o ac97-tone.bin

bits 16
org 0x7c00

BUF_SEG equ 0x1000              ; buffer at physical 0x10000
FRAMES equ 2400                 ; 100 ms at 24 kHz
BDL equ 0x9000
BUFFERS equ 11

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    cld

    ; Find 8086:2415 on bus 0.
    mov ebx, 0x80000000
    mov cx, 32
.scan:
    mov eax, ebx
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0x24158086
    je .found
    add ebx, 0x800
    loop .scan
    jmp halt                    ; no AC'97: the test times out
.found:
    mov [pci], ebx
    mov al, 0x10
    call cfg_read
    and al, 0xfc
    mov [nam], ax
    mov al, 0x14
    call cfg_read
    and al, 0xfc
    mov [nabm], ax
    mov al, 0x3c
    call cfg_read
    mov [line], al
    mov al, 0x04                ; command: I/O and bus master
    call cfg_read
    or al, 0x05
    mov ecx, eax
    mov eax, [pci]
    or al, 0x04
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    mov eax, ecx
    out dx, eax

    ; Cold reset off, then the codec.
    mov bx, [nabm]
    lea dx, [bx + 0x2c]
    mov eax, 2
    out dx, eax
    mov si, codec_init
    mov cx, 5
.codec:
    lodsb                       ; register
    movzx dx, al
    add dx, [nam]
    lodsw                       ; value
    out dx, ax
    loop .codec

    ; The buffer: FRAMES stereo frames, 100 periods of 24 frames.
    mov ax, BUF_SEG
    mov es, ax
    xor di, di
    mov cx, FRAMES / 24
.period:
    mov si, sine
    mov bx, 24
.frame:
    lodsw
    stosw                       ; left
    stosw                       ; right
    dec bx
    jnz .frame
    loop .period

    ; The descriptor list: BUFFERS entries, each the same buffer, IOC.
    xor ax, ax
    mov es, ax
    mov di, BDL
    mov cx, BUFFERS
.bd:
    mov eax, 0x10000
    stosd
    mov ax, FRAMES * 2          ; length in samples
    stosw
    mov ax, 0x8000              ; IOC
    stosw
    loop .bd

    ; The interrupt: vector of the PIC input SeaBIOS routed INTA# to.
    mov bl, [line]
    mov al, bl                  ; IRQ 0-7: vector 8 + irq,
    add al, 8
    cmp bl, 8
    jb .vec
    add al, 0x70 - 16           ; IRQ 8-15: vector 0x70 + irq - 8
.vec:
    movzx si, al
    shl si, 2
    mov word [si], irq
    mov word [si + 2], 0
    xor al, al                  ; unmask every PIC input (SeaBIOS
    out 0x21, al                ; handles the others)
    out 0xa1, al

    ; PCM out: BDBAR, LVI, then run with IOC and LVB interrupts.
    mov bx, [nabm]
    lea dx, [bx + 0x10]
    mov eax, BDL
    out dx, eax
    lea dx, [bx + 0x15]
    mov al, BUFFERS - 1
    out dx, al
    mov si, msg_play
    call puts
    sti
    lea dx, [bx + 0x1b]
    mov al, 0x15                ; RPBM | LVBIE | IOCE
    out dx, al
.wait:
    hlt
    cmp byte [done], 0
    je .wait
    mov si, msg_done
    call puts
    mov al, [count]
    call puthex8
    mov si, crlf
    call puts
halt:
    cli
    hlt
    jmp halt


irq:
    push ax
    push dx
    mov dx, [cs:nabm]
    add dx, 0x16                ; PCM out status
    in ax, dx
    out dx, ax                  ; clear BCIS/LVBCI/FIFOE
    test al, 0x08               ; BCIS: a buffer completed
    jz .no_buf
    inc byte [cs:count]
.no_buf:
    test al, 0x01               ; DCH: halted after the last one
    jz .eoi
    mov byte [cs:done], 1
.eoi:
    mov al, 0x20                ; non-specific EOI to both PICs
    out 0xa0, al
    out 0x20, al
    pop dx
    pop ax
    iret

cfg_read:                       ; eax <- config dword at register al
    push dx
    movzx eax, al
    or eax, [pci]
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    pop dx
    ret

pci: dd 0
nam: dw 0
nabm: dw 0
line: db 0
count: db 0
done: db 0
msg_play: db "AC97-PLAY", 13, 10, 0
msg_done: db "AC97-DONE ", 0
; Codec writes: reset; master and PCM out at 0 dB, unmuted; VRA on;
; front DAC rate.
codec_init:
    db 0x00
    dw 0
    db 0x02
    dw 0x0000
    db 0x18
    dw 0x0808
    db 0x2a
    dw 1
    db 0x2c
    dw 24000
crlf: db 13, 10, 0

sine:
    dw 0, 4240, 8192, 11585, 14189, 15826, 16384, 15826
    dw 14189, 11585, 8192, 4240, 0, -4240, -8192, -11585
    dw -14189, -15826, -16384, -15826, -14189, -11585, -8192, -4240

%include "serial16.inc"

    times 510 - ($ - $$) db 0
    dw 0xaa55
