; SPDX-License-Identifier: GPL-2.0-or-later
; A -bios ROM for jit-lockstep: 64-bit mode (the inline forms of
; src/arch/x86/jit/jit64.c against the interpreter's exec_64.c).
; Enters long mode (4-level paging: 0-2 MiB by 4 KiB pages, 2-12 MiB by
; 2 MiB pages, the same 0-2 MiB again at 0xffffffff80000000), then
;  1. every Jcc condition after ADD/SUB/AND/OR/XOR/CMP/TEST at 32 and
;     64 bits (register, memory and immediate operands), CMP/TEST at 8
;     and 16 bits, INC, DEC, NEG, SHL, SHR and SAR, and CMOVcc/SETcc
;     after some of them, over operand pairs at the edges (0, 1, 2^31 - 1, 2^31,
;     2^32 - 1, 2^63 - 1, 2^63, -1), one block per case;
;  2. an integer mix in a loop (R8-R15, rotates and shifts whose flags
;     are dead, NOT, NEG, BSWAP, IMUL, INC/DEC, LEA with SIB, RIP-
;     relative loads and stores, MOVZX/MOVSX/MOVSXD, ALU forms on
;     memory, 8/16-bit stores, PUSH/POP, CALL/RET);
;  3. a #PF in the middle of a block: a page unmapped before each round,
;     mapped again by the #PF handler, the store retried;
;  4. a #GP from a non-canonical address (the handler skips the load);
;  5. loads and stores that straddle a page boundary;
;  6. calls into the same code at 0xffffffff800e.... (64-bit RIPs above
;     4 GiB, chained) and FS/GS-based accesses.
; Results go into RBX, R14 and R15 and memory, which jit-lockstep
; compares.  Prints "LM DONE" on COM1 and halts.
;
; nasm -f bin -o lm-lockstep.rom lm-lockstep.asm (128 KiB)

%define PML4    0x10000
%define PDPT    0x11000
%define PD      0x12000
%define PT      0x13000
%define PDPT2   0x14000
%define IDT     0x15000
%define BUF     0x200000        ; data (2 MiB page)
%define HOLE    0x1f0000        ; a 4 KiB page unmapped each round
%define HIGH    0xffffffff80000000

section e000 vstart=0xe0000
bits 32
setup:
    mov edi, PML4
    xor eax, eax
    mov ecx, 0x6000 / 4
    rep stosd
    mov dword [PML4], PDPT | 3
    mov dword [PML4 + 511 * 8], PDPT2 | 3
    mov dword [PDPT], PD | 3
    mov dword [PDPT2 + 510 * 8], PD | 3
    mov dword [PD], PT | 3
    mov ecx, 1
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov [PD + ecx * 8], eax
    inc ecx
    cmp ecx, 6
    jne .pd
    xor ecx, ecx
.pt:
    mov eax, ecx
    shl eax, 12
    or eax, 3
    mov [PT + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jne .pt
    mov eax, cr4
    or eax, 0x20                ; PAE
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x100               ; LME
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp 0x18:lm64

bits 64
lm64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, 0x90000
    lea rax, [rel gp_handler]
    mov ecx, 13
    call set_gate
    lea rax, [rel pf_handler]
    mov ecx, 14
    call set_gate
    lidt [rel idtr]
    ; data: pseudo-random qwords
    mov rdi, BUF
    mov rax, 0x123456789abcdef1
    mov ecx, 4096
.fill:
    imul rax, rax, 0x5851f42d
    add rax, 0x14057b7e
    mov [rdi], rax
    add rdi, 8
    dec ecx
    jnz .fill
    xor ebx, ebx
    xor r14d, r14d
    xor r15d, r15d

; ---- 1. Jcc after each flag setter over edge operands ----
    xor r8d, r8d                ; i
.pi:
    xor r9d, r9d                ; j
.pj:
    lea r10, [rel vals]
    mov rax, [r10 + r8 * 8]
    mov rcx, [r10 + r9 * 8]
    mov [BUF + 0x8000], rcx
    mov rsi, BUF + 0x8000
    call jcc_cases
    inc r9d
    cmp r9d, 8
    jne .pj
    inc r8d
    cmp r8d, 8
    jne .pi

; ---- 2. integer mix ----
    mov r13d, 3000
    mov rsi, BUF
.mix:
    mov eax, r13d
    and eax, 0x3ff
    mov r8, [rsi + rax * 8]
    mov r9d, [rsi + rax * 4 + 12]
    movsxd r10, dword [rsi + rax * 2 + 6]
    movzx r11d, byte [rsi + rax + 3]
    movsx r12, word [rsi + rax + 5]
    ror r8, 13
    rol r9d, 7
    xor r8, r9
    shr r10, 3
    shl r11d, 5
    sar r12, 2
    add r8, r10
    sub r9, r11
    not r12
    and r10, r12
    or r11, r8
    bswap r9
    bswap r10d
    imul r8, r9
    imul r11d, r12d, 0x1234567
    lea r12, [r8 + r9 * 4 + 0x77]
    lea r10d, [r11 + r12 * 2 - 5]
    neg r10
    inc r11
    dec r12d
    add [rsi + rax * 8 + 0x2000], r8
    xor [rsi + rax * 8 + 0x2008], r9d
    sub qword [rsi + rax * 8 + 0x2010], 0x55
    cmp dword [rsi + rax * 4], 0x40000000
    jb .below
    add rbx, r10
.below:
    test [rsi + rax * 8 + 8], r11
    js .neg
    xor rbx, r11
.neg:
    mov [rsi + rax * 8 + 0x2018], r9b
    mov [rsi + rax * 8 + 0x2019], bh
    mov [rsi + rax * 8 + 0x201a], r10w
    mov word [rsi + rax * 8 + 0x201c], 0x1234
    cmp byte [rsi + rax + 0x100], 0x80
    jb .small
    inc r15
.small:
    mov [rel scratch], r12
    add r15, [rel scratch]
    mov qword [rel scratch + 8], -7
    add r15, [rel scratch + 8]
    push r8
    push r9
    push r10
    call mix_fn
    pop r11
    pop r9
    pop r8
    add rbx, r11
    add r14, r9
    rol rbx, 1
    mov eax, ebx
    add r14, rax
    dec r13d
    jnz .mix

; ---- 3. #PF in the middle of a block ----
    mov r13d, 200
.pf:
    mov dword [PT + (HOLE >> 12) * 8], 0   ; unmap HOLE
    mov rax, HOLE
    invlpg [rax]
    mov ecx, r13d
    and ecx, 0x1f
    add r14, rcx
    mov [rax + rcx * 8], r14    ; #PF, mapped by the handler, retried
    add r14, [rax + rcx * 8 + 8]
    xor r15, r14
    dec r13d
    jnz .pf

; ---- 4. #GP from a non-canonical address ----
    mov r13d, 100
    mov rcx, 0x0000800000000000
.gp:
    add r14, r13
    mov rax, [rcx]              ; 3 bytes: skipped by the handler
    add r15, r14
    dec r13d
    jnz .gp

; ---- 5. page-straddling loads and stores ----
    mov r13d, 500
.cross:
    mov rax, r13
    imul rax, rax, 0x10001
    mov [BUF + 0x3ffd], rax
    mov rdx, [BUF + 0x3ffb]
    add r14, rdx
    mov [BUF + 0x4ffe], r14d
    add r15d, [BUF + 0x4ffe]
    add [BUF + 0x5ffc], r15
    dec r13d
    jnz .cross

; ---- 6. code above 4 GiB; FS and GS bases ----
    mov ecx, 0xc0000100         ; FS.base
    mov eax, BUF + 0x6000
    xor edx, edx
    wrmsr
    mov ecx, 0xc0000101         ; GS.base
    mov eax, BUF + 0x7000
    wrmsr
    mov r13d, 1000
    mov rax, HIGH
    lea rdi, [rel high_fn]
    add rdi, rax
.high:
    call rdi
    dec r13d
    jnz .high

; ---- done ----
    lea rsi, [rel msg]
.out:
    mov al, [rsi]
    test al, al
    jz .done
    mov dx, 0x3f8
    out dx, al
    inc rsi
    jmp .out
.done:
    hlt
    jmp .done

mix_fn:
    mov r11, [rsp + 8]          ; the pushed r10
    xor r11, [rsp + 16]
    ret

; at 0xffffffff800e....: RIP-relative data, FS/GS accesses
high_fn:
    mov rax, [rel scratch + 16]
    add rax, r13
    mov [rel scratch + 16], rax
    add r14, rax
    mov rdx, [fs:r13 * 8]
    add [gs:r13 * 8], rdx
    xor r15, [gs:8]
    cmp r13d, 500
    jae .hi
    inc rbx
.hi:
    ret

; Every condition after one setter: %1 the setter (on rdx/edx from
; rax/eax, with rcx/ecx or [rsi] or an immediate).
%macro JCCS 1
%assign cc 0
%rep 16
    mov rdx, rax
    %1
    db 0x70 + cc, 4
    add rbx, cc + 1             ; 4 bytes
    rol rbx, 3
%assign cc cc + 1
%endrep
%endmacro

; The same with CMOVcc rbx, rdx and SETcc r11b after the setter.
%macro CMOVS 1
%assign cc 0
%rep 16
    mov rdx, rax
    %1
    db 0x48, 0x0f, 0x40 + cc, 0xda  ; cmovcc rbx, rdx
    db 0x41, 0x0f, 0x90 + cc, 0xc3  ; setcc r11b
    add rbx, r11
    rol rbx, 5
%assign cc cc + 1
%endrep
%endmacro

jcc_cases:
    CMOVS {add rdx, rcx}
    CMOVS {sub edx, ecx}
    CMOVS {cmp dl, cl}
    CMOVS {test rdx, rcx}
    CMOVS {inc rdx}
    CMOVS {shr rdx, 7}
    CMOVS {bt rdx, 3}
    JCCS {add rdx, rcx}
    JCCS {add edx, ecx}
    JCCS {sub rdx, rcx}
    JCCS {sub edx, ecx}
    JCCS {and rdx, rcx}
    JCCS {and edx, ecx}
    JCCS {or rdx, rcx}
    JCCS {xor edx, ecx}
    JCCS {cmp rdx, rcx}
    JCCS {cmp edx, ecx}
    JCCS {test rdx, rcx}
    JCCS {test edx, ecx}
    JCCS {cmp rdx, [rsi]}
    JCCS {cmp [rsi], edx}
    JCCS {add rdx, [rsi]}
    JCCS {cmp rdx, -2}
    JCCS {sub edx, 0x7fffffff}
    JCCS {test rdx, 0x80}
    JCCS {inc rdx}
    JCCS {neg edx}
    JCCS {shl rdx, 1}
    JCCS {shl edx, 13}
    JCCS {shr rdx, 7}
    JCCS {sar edx, 3}
    JCCS {dec edx}
    JCCS {cmp dl, cl}
    JCCS {cmp dx, [rsi]}
    JCCS {test dl, 0x81}
    JCCS {cmp byte [rsi], 0x80}
    JCCS {cmp ax, 0x7fff}
    JCCS {test dh, cl}
    ret

set_gate:                       ; vector rcx, handler rax
    mov rdi, rcx
    shl rdi, 4
    add rdi, IDT
    mov [rdi], ax
    mov word [rdi + 2], 0x18
    mov word [rdi + 4], 0x8e00  ; present, DPL 0, 64-bit interrupt gate
    shr rax, 16
    mov [rdi + 6], ax
    shr rax, 16
    mov [rdi + 8], eax
    mov dword [rdi + 12], 0
    ret

pf_handler:
    push rax
    mov rax, cr2
    add r15, rax
    mov dword [PT + (HOLE >> 12) * 8], HOLE | 3
    mov rax, HOLE
    invlpg [rax]
    pop rax
    add rsp, 8                  ; the error code
    iretq

gp_handler:
    add qword [rsp + 8], 3      ; past the faulting 3-byte load
    inc r14
    add rsp, 8
    iretq

    align 8
vals:
    dq 0, 1, 0x7fffffff, 0x80000000, 0xffffffff
    dq 0x7fffffffffffffff, 0x8000000000000000, -1
idtr:
    dw 32 * 16 - 1
    dq IDT
msg: db "LM DONE", 10, 0
    align 4096                  ; not on a page with code
scratch:
    dq 0, 0, 0, 0
    times 0x10000 - ($ - $$) db 0xff

section f000 vstart=0xf0000
bits 16
gdt:
    dq 0
    dq 0x00cf9a000000ffff   ; 0x08 flat code
    dq 0x00cf92000000ffff   ; 0x10 flat data
    dq 0x00af9a000000ffff   ; 0x18 64-bit code
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
    jmp setup
    times 0xfff0 - ($ - $$) db 0xff
bits 16
reset:
    jmp 0xf000:(start16 - 0xf0000)
    times 0x10000 - ($ - $$) db 0xff
