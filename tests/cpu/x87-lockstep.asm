; SPDX-License-Identifier: GPL-2.0-or-later
; A -bios ROM for jit-lockstep: stretches of x87 instructions, which the
; JIT runs on the host FPU (src/arch/x86/jit/jit_x87.c), in 32-bit
; protected mode with paging and CR0.NE:
;   1. precision control 24/53/64 bits x the four rounding modes, FLDCW
;      and FNINIT inside the stretch: 1/3, -1/3 and FIST of +-2.5 are
;      checked against the SDM's results (a table below);
;   2. x87 stack overflow and underflow (masked: QNaN indefinite, SF,
;      C1), FNSTSW AX, FNINIT in the middle;
;   3. a #PF on an x87 memory operand in the middle of a stretch (the
;      page's P or W bit cleared every few iterations; the handler sets
;      them again and the instruction is restarted), and an operand that
;      crosses into that page; FCOM + FNSTSW AX + SAHF + Jcc;
;      FPREM makes that stretch load the whole state (FRSTOR) rather
;      than the light form of the others;
;   4. an unmasked precision exception (#MF at the next waiting x87
;      instruction; the handler runs FNCLEX), FLDCW inside the stretch.
; Prints "X87 DONE" on COM1 if every result is the SDM's (else
; "X87 BAD") and halts.
;
; nasm -f bin -o x87-lockstep.rom x87-lockstep.asm (128 KiB)

%define DATA  0x20000
%define FPG   0x30000           ; the page whose mapping case 3 toggles
%define PGDIR 0x10000
%define PGTAB 0x11000
%define PTE   (PGTAB + (FPG >> 12) * 4)
%define BAD   (DATA + 0xf00)    ; count of wrong results
%define NPF   (DATA + 0xf04)    ; #PF taken
%define NMF   (DATA + 0xf08)    ; #MF taken
%define OUT   (DATA + 0x100)

section e000 vstart=0xe0000
bits 32
cases:
    lidt [idtr]
    ; identity map 0-4 MiB with 4 KiB pages
    mov edi, PGTAB
    mov eax, 3
    mov ecx, 1024
.pt:
    stosd
    add eax, 0x1000
    dec ecx
    jnz .pt
    mov edi, PGDIR
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PGDIR], PGTAB | 3
    mov eax, PGDIR
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80010020          ; PG, WP, NE
    and eax, ~0xc               ; EM, TS clear
    mov cr0, eax
    xor eax, eax
    mov [BAD], eax
    mov [NPF], eax
    mov [NMF], eax

; ---- 1. precision and rounding control ----
    xor ebx, ebx                ; cw index 0..11
    mov edi, OUT
.pcrc:
    fninit
    fldcw [cwtab + ebx * 2]
    fld1
    fidiv dword [three]         ; 1/3
    fld1
    fchs
    fidiv dword [three]         ; -1/3, 1/3
    fstp tword [edi + 10]
    fstp tword [edi]
    fld qword [two5]
    fist dword [edi + 20]
    fchs
    fistp dword [edi + 24]
    fninit
    ; compare the 28 bytes with the table
    lea esi, [ebx * 8]
    lea esi, [esi + esi * 2]    ; ebx * 24
    lea esi, [esi + ebx * 4]    ; ebx * 28
    add esi, expect
    push edi
    mov ecx, 28
    repe cmpsb
    pop edi
    je .ok1
    inc dword [BAD]
.ok1:
    add edi, 32
    inc ebx
    cmp ebx, 12
    jne .pcrc

; ---- 2. stack overflow and underflow ----
    mov ecx, 50
    xor edx, edx
.stk:
    fninit
    fld1
    fldpi
    fld1
    fldl2e
    fld1
    fldlg2
    fld1
    fldln2
    fld1                        ; the ninth: overflow
    fnstsw ax
    add edx, eax
    fadd st0, st7
    fxch st3
    fstp tword [OUT + 0x200]
    fninit                      ; FNINIT inside the stretch
    fld1
    fstp st0
    fstp st0                    ; underflow
    fnstsw ax
    add edx, eax
    fadd st0, st1               ; both empty
    fistp dword [OUT + 0x210]
    fnstsw ax
    add edx, eax
    fcompp
    fnstsw ax
    add edx, eax
    dec ecx
    jnz .stk
    mov [OUT + 0x214], edx

; ---- 3. #PF on x87 memory operands mid-stretch ----
    fninit
    fld1
    fstp qword [FPG + 8]
    fld1
    fstp qword [FPG - 8]
    xor ecx, ecx
    xor edx, edx
.pf:
    test ecx, 3
    jnz .mapped
    test ecx, 4
    jz .np
    and dword [PTE], ~2         ; read-only: the stores fault
    jmp .inv
.np:
    and dword [PTE], ~1         ; not present: every access faults
.inv:
    invlpg [FPG]
.mapped:
    mov [DATA], ecx
    fild dword [DATA]
    fsqrt
    fadd qword [FPG + 8]        ; #PF when not present
    fld qword [FPG - 4]         ; crosses into FPG
    fmul st0, st1
    fst qword [FPG + 16]        ; #PF when read-only
    fdivr qword [one]
    fld1                        ; FPREM: the stretch takes the full form
    fld st1
    fprem
    fstp st1
    fstp st0
    fxch st1
    fstp qword [FPG + 8]
    fcom qword [one]
    fnstsw ax
    fstp qword [OUT + 0x300]
    sahf
    jb .below
    inc edx
.below:
    inc ecx
    cmp ecx, 64
    jne .pf
    mov [OUT + 0x308], edx

; ---- 4. unmasked exceptions: #MF, FLDCW inside the stretch ----
    mov ecx, 20
.mf:
    fninit
    fldcw [cw_pm]               ; precision exception unmasked
    fld1
    fidiv dword [three]         ; inexact: pending
    fld st0                     ; #MF here; the handler clears it
    fmul st0, st1               ; inexact: pending
    fldcw [cw_def]              ; #MF
    fld1
    fldcw [cw_pm]
    fidiv dword [three]
    fldcw [cw_def]              ; #MF again
    faddp st1, st0
    faddp st1, st0
    fstp qword [OUT + 0x400]
    dec ecx
    jnz .mf
    fninit

    cmp dword [BAD], 0
    jne .bad
    cmp dword [NPF], 16         ; one per toggle of the page
    jne .bad
    cmp dword [NMF], 60         ; three per round
    jne .bad
    mov esi, msg
    jmp .out
.bad:
    mov esi, msg_bad            ; with the counts, for diagnosis
    call puts
    mov eax, [BAD]
    call puthex
    mov eax, [NPF]
    call puthex
    mov eax, [NMF]
    call puthex
    mov esi, msg_nl
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

puts:
    mov al, [esi]
    test al, al
    jz .r
    mov dx, 0x3f8
    out dx, al
    inc esi
    jmp puts
.r:
    ret

puthex:                         ; EAX as 8 hex digits and a space
    mov ecx, 8
.d:
    rol eax, 4
    mov ebx, eax
    and ebx, 15
    push eax
    mov al, [hexd + ebx]
    mov dx, 0x3f8
    out dx, al
    pop eax
    dec ecx
    jnz .d
    mov al, ' '
    mov dx, 0x3f8
    out dx, al
    ret

pf:                             ; vector 14
    inc dword [NPF]
    or dword [PTE], 3
    invlpg [FPG]
    add esp, 4                  ; the error code
    iretd

mf:                             ; vector 16
    inc dword [NMF]
    fnclex
    iretd

align 4
three: dd 3
two5: dq 2.5
one: dq 1.0
cw_pm: dw 0x035f
cw_def: dw 0x037f
; PC (bits 9:8) 00 single, 10 double, 11 extended x RC (bits 11:10)
; nearest, down, up, toward zero; all exceptions masked
cwtab:
    dw 0x007f, 0x047f, 0x087f, 0x0c7f
    dw 0x027f, 0x067f, 0x0a7f, 0x0e7f
    dw 0x037f, 0x077f, 0x0b7f, 0x0f7f
; SDM results: 1/3 (mantissa, exponent), -1/3, FIST 2.5, FIST -2.5
%macro EXP 4
    dq %1
    dw 0x3ffd
    dq %2
    dw 0xbffd
    dd %3, %4
%endmacro
expect:
    EXP 0xaaaaab0000000000, 0xaaaaab0000000000, 2, -2   ; 24 nearest
    EXP 0xaaaaaa0000000000, 0xaaaaab0000000000, 2, -3   ; 24 down
    EXP 0xaaaaab0000000000, 0xaaaaaa0000000000, 3, -2   ; 24 up
    EXP 0xaaaaaa0000000000, 0xaaaaaa0000000000, 2, -2   ; 24 chop
    EXP 0xaaaaaaaaaaaaa800, 0xaaaaaaaaaaaaa800, 2, -2   ; 53 nearest
    EXP 0xaaaaaaaaaaaaa800, 0xaaaaaaaaaaaab000, 2, -3   ; 53 down
    EXP 0xaaaaaaaaaaaab000, 0xaaaaaaaaaaaaa800, 3, -2   ; 53 up
    EXP 0xaaaaaaaaaaaaa800, 0xaaaaaaaaaaaaa800, 2, -2   ; 53 chop
    EXP 0xaaaaaaaaaaaaaaab, 0xaaaaaaaaaaaaaaab, 2, -2   ; 64 nearest
    EXP 0xaaaaaaaaaaaaaaaa, 0xaaaaaaaaaaaaaaab, 2, -3   ; 64 down
    EXP 0xaaaaaaaaaaaaaaab, 0xaaaaaaaaaaaaaaaa, 3, -2   ; 64 up
    EXP 0xaaaaaaaaaaaaaaaa, 0xaaaaaaaaaaaaaaaa, 2, -2   ; 64 chop

align 8
idt:
    times 14 dq 0
    dw (pf - $$ + 0xe0000) & 0xffff, 0x08, 0x8e00, (pf - $$ + 0xe0000) >> 16      ; 14 #PF
    dq 0
    dw (mf - $$ + 0xe0000) & 0xffff, 0x08, 0x8e00, (mf - $$ + 0xe0000) >> 16      ; 16 #MF
idt_end:
idtr:
    dw idt_end - idt - 1
    dd idt
msg: db "X87 DONE", 10, 0
msg_bad: db "X87 BAD ", 0
msg_nl: db 10, 0
hexd: db "0123456789abcdef"
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
