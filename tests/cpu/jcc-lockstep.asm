; SPDX-License-Identifier: GPL-2.0-or-later
; A -bios ROM for jit-lockstep: every condition code of Jcc after each
; flag-setting form the JIT inlines (ADD, SUB, AND, TEST, INC, DEC on
; registers) over operands at the edges (0, 1, 0x7fffffff, 0x80000000,
; 0xffffffff), in 32-bit protected mode.  Each case is a block ending in
; the Jcc, whose taken path skips an INC EDX; EDX is rotated after each,
; so a wrong branch shows in EIP at once and in EDX later.  Prints
; "JCC DONE" on COM1 and halts.
;
; nasm -f bin -o jcc-lockstep.rom jcc-lockstep.asm (128 KiB)

%define VAL(k) (((k) == 1) * 1 + ((k) == 2) * 0x7fffffff + \
                ((k) == 3) * 0x80000000 + ((k) == 4) * 0xffffffff)

; CASES op: 5 x 5 operand pairs x 16 conditions of "op" (eax, ecx).
%macro CASES 1
%assign i 0
%rep 5
%assign j 0
%rep 5
%assign cc 0
%rep 16
    mov eax, VAL(i)
    mov ecx, VAL(j)
    %1
    db 0x70 + cc, 1         ; jcc over the inc
    inc edx
    rol edx, 1
%assign cc cc + 1
%endrep
%assign j j + 1
%endrep
%assign i i + 1
%endrep
%endmacro

section e000 vstart=0xe0000
bits 32
cases:
    CASES {add eax, ecx}
    CASES {sub eax, ecx}
    CASES {and eax, ecx}
    CASES {test eax, ecx}
    CASES {inc eax}
    CASES {dec eax}
    mov esi, msg
.out:
    mov al, [esi]
    test al, al
    jz .done
    mov dx, 0x3f8
    out dx, al
    inc esi
    jmp .out
.done:
    hlt
    jmp .done
msg: db "JCC DONE", 10, 0
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
