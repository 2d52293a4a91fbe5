; SPDX-License-Identifier: GPL-2.0-or-later
; A -bios ROM for jit-lockstep: SSE..SSE4.2 in loops of short blocks
; (packed and scalar floating point in each rounding mode, integer SIMD,
; shuffles, conversions to and from GPRs, PTEST/PCMPISTRI/COMISD flags
; feeding Jcc, loads and stores), in 32-bit protected mode with
; CR4.OSFXSR; MXCSR flags accumulate.  Prints "SSE DONE" on COM1 and
; halts.
;
; nasm -f bin -o sse-lockstep.rom sse-lockstep.asm (128 KiB)

%define BUF 0x20000

section e000 vstart=0xe0000
bits 32
cases:
    mov eax, cr4
    or eax, 0x600               ; OSFXSR, OSXMMEXCPT
    mov cr4, eax
    ; a buffer of pseudo-random dwords
    mov edi, BUF
    mov eax, 0x12345678
    mov ecx, 1024
.fill:
    imul eax, eax, 1103515245
    add eax, 12345
    mov [edi], eax
    add edi, 4
    dec ecx
    jnz .fill
    xor ebx, ebx                ; rounding mode 0..3
.mode:
    mov eax, ebx
    shl eax, 13
    or eax, 0x1f80
    mov [BUF + 0x1000], eax
    ldmxcsr [BUF + 0x1000]
    mov esi, BUF
    mov ecx, 200
    pxor xmm7, xmm7
.loop:
    movdqa xmm0, [esi]
    movdqu xmm1, [esi + 4]
    cvtdq2ps xmm2, xmm0
    cvtdq2pd xmm3, xmm1
    mulps xmm2, xmm2
    addps xmm7, xmm2
    sqrtpd xmm3, xmm3
    divsd xmm3, xmm2
    haddps xmm7, xmm2
    paddd xmm0, xmm1
    pmulld xmm0, xmm1
    pshufb xmm1, xmm0
    pshufd xmm4, xmm0, 0x1b
    punpcklbw xmm4, xmm1
    pmaxsw xmm4, xmm0
    pcmpeqb xmm5, xmm5
    psrlq xmm5, 7
    pand xmm4, xmm5
    ptest xmm4, xmm1
    jz .skip
    roundps xmm6, xmm7, 4
    cvtps2dq xmm6, xmm6
.skip:
    cvttsd2si eax, xmm3
    add edx, eax
    pmovmskb eax, xmm4
    xor edx, eax
    pcmpistri xmm1, xmm0, 0x0c
    adc edx, ecx
    comisd xmm3, xmm2
    jbe .le
    inc edx
.le:
    movdqa [esi + 0x2000], xmm4
    movss [esi + 0x2010], xmm7
    popcnt eax, edx
    add edx, eax
    add esi, 16
    dec ecx
    jnz .loop
    stmxcsr [BUF + 0x1004]
    add edx, [BUF + 0x1004]
    inc ebx
    cmp ebx, 4
    jne .mode
    mov esi, msg
.out:
    mov al, [esi]
    test al, al
    jz .done
    push edx
    mov dx, 0x3f8
    out dx, al
    pop edx
    inc esi
    jmp .out
.done:
    hlt
    jmp .done
msg: db "SSE DONE", 10, 0
    times 0x10000 - ($ - $$) db 0xff

section f000 vstart=0xf0000
bits 16
gdt:
    dq 0
    dq 0x00cf9a000000ffff   ; 0x08 flat code
    dq 0x00cf92000000ffff   ; 0x10 flat data
gdtr:
    dw gdtr - gdt - 1
    dd gdt
start16:
    cli
    mov ax, cs
    mov ds, ax
    o32 lgdt [gdtr - $$]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:pm32
bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x90000
    xor edx, edx
    jmp cases
    times 0xfff0 - ($ - $$) db 0xff
bits 16
reset:
    jmp 0xf000:(start16 - 0xf0000)
    times 0x10000 - ($ - $$) db 0xff
