; SPDX-License-Identifier: GPL-2.0-or-later
;
; A boot sector that plays a 1 kHz sine through the Sound Blaster 16 for
; test_sound.py: DSP reset (0xAA), DSP version (0xE1), the CT1745 master
; and voice volumes at 0 dB (mixer 0x30-0x33 = 0xF8), then 16-bit signed
; mono at 48000 Hz (0x41) by auto-init DMA on channel 5 (0xB6, mode 0x10)
; from a buffer of two 100 ms blocks at 0x10000 filled with a 48-sample
; sine of peak 16384 (-6 dBFS).  IRQ 5 (vector 0x0D) counts blocks and
; acknowledges at 0x22F; after 10 blocks it sends 0xD9 (exit auto-init)
; and, at the next block's end, prints "SB-DONE <blocks>" and halts.
; The sine table: round(16384 * sin(2 pi i / 48)), i = 0..47.
; Build: nasm -f bin -i tests/guests/asm/ sb16-tone.asm -o sb16-tone.bin

bits 16
org 0x7c00

SB equ 0x220
BUF_SEG equ 0x1000              ; physical 0x10000, 64 KiB aligned
BLOCK equ 4800                  ; samples per block: 100 ms at 48 kHz
BLOCKS equ 10

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    cld

    ; Fill the buffer: 2 blocks = 200 periods of the table.
    mov ax, BUF_SEG
    mov es, ax
    xor di, di
    mov cx, 2 * BLOCK / 48
.fill:
    push cx
    mov si, sine
    mov cx, 48
    rep movsw
    pop cx
    loop .fill

    ; DSP reset: 1, wait a few microseconds, 0, then 0xAA to read.
    mov dx, SB + 6
    mov al, 1
    out dx, al
    in al, 0x80
    in al, 0x80
    xor al, al
    out dx, al
    call dsp_read
    cmp al, 0xaa
    jne fail
    mov al, 0xe1                ; version
    call dsp_write
    call dsp_read
    mov ah, al
    call dsp_read
    xchg al, ah
    push ax
    mov si, msg_ver
    call puts
    pop ax
    push ax
    call puthex8
    pop ax
    mov al, ah
    call puthex8
    mov si, crlf
    call puts

    ; Mixer: master and voice, left and right, to 0 dB.
    mov bl, 0x30
.mix:
    mov dx, SB + 4
    mov al, bl
    out dx, al
    inc dx
    mov al, 0xf8
    out dx, al
    inc bl
    cmp bl, 0x34
    jb .mix

    ; IRQ 5 handler, unmasked at the master PIC.
    mov word [0x0d * 4], irq5
    mov word [0x0d * 4 + 2], 0
    in al, 0x21
    and al, ~0x20
    out 0x21, al

    ; DMA channel 5: single mode, auto-init, memory to device.
    mov al, 0x05                ; mask channel 5
    out 0xd4, al
    xor al, al
    out 0xd8, al                ; clear the flip-flop
    mov al, 0x59
    out 0xd6, al
    ; 16-bit channels count words: physical 0x10000 is word address
    ; 0x8000 with page bits 7-1 = 0 (page bit 0 is not used).
    xor al, al
    out 0xc4, al
    mov al, 0x80
    out 0xc4, al
    xor al, al
    out 0x8b, al
    mov ax, 2 * BLOCK - 1       ; words - 1
    out 0xc6, al
    mov al, ah
    out 0xc6, al
    mov al, 0x01                ; unmask channel 5
    out 0xd4, al

    ; DSP: 48000 Hz, 16-bit auto-init output, signed mono, BLOCK samples.
    mov al, 0x41
    call dsp_write
    mov al, 48000 >> 8
    call dsp_write
    mov al, 48000 & 0xff
    call dsp_write
    mov al, 0xb6
    call dsp_write
    mov al, 0x10
    call dsp_write
    mov al, (BLOCK - 1) & 0xff
    call dsp_write
    mov al, (BLOCK - 1) >> 8
    call dsp_write
    mov si, msg_play
    call puts

    sti
.wait:
    hlt
    cmp byte [done], 0
    je .wait
    mov si, msg_done
    call puts
    mov al, [blocks]
    call puthex8
    mov si, crlf
    call puts
.halt:
    cli
    hlt
    jmp .halt

fail:
    mov si, msg_fail
    call puts
    jmp start.halt

irq5:
    push ax
    push dx
    mov dx, SB + 0xf            ; acknowledge the 16-bit interrupt
    in al, dx
    inc byte [cs:blocks]
    cmp byte [cs:blocks], BLOCKS
    jne .not_last
    mov al, 0xd9                ; exit auto-init after the next block
    call dsp_write
.not_last:
    cmp byte [cs:blocks], BLOCKS + 1
    jne .eoi
    mov byte [cs:done], 1
.eoi:
    mov al, 0x20
    out 0x20, al
    pop dx
    pop ax
    iret

dsp_write:                      ; al -> DSP, when bit 7 of 0x22C is clear
    push dx
    push ax
    mov dx, SB + 0xc
.busy:
    in al, dx
    test al, 0x80
    jnz .busy
    pop ax
    out dx, al
    pop dx
    ret

dsp_read:                       ; al <- DSP, when bit 7 of 0x22E is set
    push dx
    mov dx, SB + 0xe
.empty:
    in al, dx
    test al, 0x80
    jz .empty
    mov dx, SB + 0xa
    in al, dx
    pop dx
    ret

blocks: db 0
done: db 0
msg_ver: db "SB-DSP ", 0
msg_play: db "SB-PLAY", 13, 10, 0
msg_done: db "SB-DONE ", 0
msg_fail: db "SB-FAIL", 13, 10, 0
crlf: db 13, 10, 0

sine:
    dw 0, 2139, 4240, 6270, 8192, 9974, 11585, 12998
    dw 14189, 15137, 15826, 16244, 16384, 16244, 15826, 15137
    dw 14189, 12998, 11585, 9974, 8192, 6270, 4240, 2139
    dw 0, -2139, -4240, -6270, -8192, -9974, -11585, -12998
    dw -14189, -15137, -15826, -16244, -16384, -16244, -15826, -15137
    dw -14189, -12998, -11585, -9974, -8192, -6270, -4240, -2139

%include "serial16.inc"

    times 510 - ($ - $$) db 0
    dw 0xaa55
