; SPDX-License-Identifier: GPL-2.0-or-later
; bench/state's guest: a boot sector that enters 32-bit protected mode,
; fills 64 MiB from 1 MiB with half-compressible pseudo-random data
; (4 random bits per byte), prints "R" on COM1 and halts.
bits 16
org 0x7c00
    cli
    xor ax, ax
    mov ds, ax
    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm
bits 32
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7c00
    in al, 0x92
    or al, 2
    and al, 0xfe
    out 0x92, al
    mov edi, 0x100000
    mov ecx, (64 << 20) / 4
    mov ebx, 12345
fill:
    imul ebx, ebx, 1103515245
    add ebx, 12345
    mov eax, ebx
    and eax, 0x0f0f0f0f
    stosd
    dec ecx
    jnz fill
    mov dx, 0x3f8
    mov al, 'R'
    out dx, al
    mov al, 10
    out dx, al
stop:
    hlt
    jmp stop
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff
    dq 0x00cf92000000ffff
gdtr:
    dw 23
    dd gdt
times 510 - ($ - $$) db 0
dw 0xaa55
