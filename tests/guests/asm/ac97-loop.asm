; SPDX-License-Identifier: GPL-2.0-or-later
;
; A boot sector that records 1.1 s through the AC'97 controller's PCM in
; box and plays it back through PCM out, for test_sound.py (scenario
; ac97-rec: the recording source is the audio device's input, a WAV file
; or PulseAudio's default source).  It finds 8086:2415 on bus 0, enables
; I/O and bus mastering, takes the link out of cold reset, resets the
; codec, sets master and PCM out to 0 dB and the record gain to 0 dB
; (unmuted), enables variable rate audio with both the front DAC and the
; L/R ADC at 24000 Hz, and builds a descriptor list at 0x9000 of 11
; buffers of 100 ms (2400 stereo frames) one after the other from
; 0x10000.  PCM in runs the list to its last valid buffer (polling for
; DCH, no interrupts), prints "AC97-PLAY", then PCM out plays the same
; list and "AC97-LOOP-DONE" follows when it halted.
; Build: nasm -f bin -i tests/guests/asm/ ac97-loop.asm -o ac97-loop.bin

bits 16
org 0x7c00

FRAMES equ 2400                 ; 100 ms at 24 kHz
BUF_BYTES equ FRAMES * 4
BDL equ 0x9000
BUFFERS equ 11

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
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
    mov cx, 7
.codec:
    lodsb                       ; register
    movzx dx, al
    add dx, [nam]
    lodsw                       ; value
    out dx, ax
    loop .codec

    ; The descriptor list: BUFFERS consecutive buffers, no IOC.
    mov di, BDL
    mov cx, BUFFERS
    mov ebx, 0x10000
.bd:
    mov eax, ebx
    stosd
    mov ax, FRAMES * 2          ; length in samples
    stosw
    xor ax, ax
    stosw
    add ebx, BUF_BYTES
    loop .bd

    ; PCM in (box 0x00), then PCM out (box 0x10), each to its end.
    mov si, msg_rec
    call puts
    mov di, 0x00
    call run_box
    mov si, msg_play
    call puts
    mov di, 0x10
    call run_box
    mov si, msg_done
    call puts
halt:
    cli
    hlt
    jmp halt

; Run the list on the box at NABM + di, polling until it halts (DCH).
run_box:
    mov bx, [nabm]
    add bx, di
    lea dx, [bx]
    mov eax, BDL
    out dx, eax
    lea dx, [bx + 5]
    mov al, BUFFERS - 1
    out dx, al
    lea dx, [bx + 0xb]
    mov al, 0x01                ; RPBM
    out dx, al
    lea dx, [bx + 6]
.poll:
    in ax, dx
    test al, 0x01               ; DCH
    jz .poll
    ret

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
msg_rec: db "AC97-REC", 13, 10, 0
msg_play: db "AC97-PLAY", 13, 10, 0
msg_done: db "AC97-LOOP-DONE", 13, 10, 0
; Codec writes: reset; master, PCM out and record gain at 0 dB, unmuted;
; VRA on; front DAC and L/R ADC rates.
codec_init:
    db 0x00
    dw 0
    db 0x02
    dw 0x0000
    db 0x18
    dw 0x0808
    db 0x1c
    dw 0x0000
    db 0x2a
    dw 1
    db 0x2c
    dw 24000
    db 0x32
    dw 24000

%include "serial16.inc"

    times 510 - ($ - $$) db 0
    dw 0xaa55
