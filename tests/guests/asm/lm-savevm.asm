; SPDX-License-Identifier: GPL-2.0-or-later
; A 128 KiB -bios ROM for the 64-bit save/resume test
; (tests/guests/test_savevm64.py): from the reset vector it enters long
; mode (4-level paging, the first GiB identity by 2 MiB pages), turns on
; SSE (CR4.OSFXSR/OSXMMEXCPT) with a non-default MXCSR (round up, DAZ),
; puts 64-bit values in R8-R15, an FS base by WRMSR and patterns in
; XMM0-XMM15, and then loops for ever: each round mixes the XMM registers
; (integer and double-precision adds, whose rounding follows MXCSR.RC)
; and the upper GPRs, and every ROUNDS rounds prints "N HASH" on COM1,
; HASH folding XMM0-XMM15, R8-R15, the FS-relative word and MXCSR.  The
; lines depend only on the round count, so a run saved and resumed in
; another process prints what an uninterrupted run prints.
%ifndef ROUNDS
%define ROUNDS 4000
%endif
PML4    equ 0x10000
STACK   equ 0x90000
FSDATA  equ 0x300000

bits 16
    times 0x10000 db 0xff           ; the first 64 KiB unused

section f000 vstart=0xf0000
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff           ; 0x08 flat 32-bit code
    dq 0x00cf92000000ffff           ; 0x10 flat data
    dq 0x00af9a000000ffff           ; 0x18 64-bit code
gdtr:
    dw gdtr - gdt - 1
    dd gdt

start16:
    cli
    cld
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
    mov esp, STACK
    mov edi, PML4
    xor eax, eax
    mov ecx, 3 * 1024
    rep stosd
    mov dword [PML4], PML4 + 0x1003
    mov dword [PML4 + 0x1000], PML4 + 0x2003
    mov edi, PML4 + 0x2000
    mov eax, 0x83
    mov ecx, 512
.pd:
    mov [edi], eax
    add eax, 0x200000
    add edi, 8
    loop .pd
    mov eax, 0x620                  ; PAE, OSFXSR, OSXMMEXCPT
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xc0000080             ; EFER: LME, NXE
    rdmsr
    or eax, 0x900
    wrmsr
    mov eax, cr0
    and eax, ~0x4                   ; EM off
    or eax, 0x80000002              ; PG, MP
    mov cr0, eax
    jmp 0x18:lm64

bits 64
lm64:
    mov rsp, STACK
    ldmxcsr [rel mxcsr0]
    mov ecx, 0xc0000100             ; FS base
    mov eax, FSDATA
    xor edx, edx
    wrmsr
    mov qword [FSDATA + 8], 0x1234
    lea rsi, [rel pat]
    movdqu xmm0, [rsi + 0 * 16]
    movdqu xmm1, [rsi + 1 * 16]
    movdqu xmm2, [rsi + 2 * 16]
    movdqu xmm3, [rsi + 3 * 16]
    movdqu xmm4, [rsi + 0 * 16]
    movdqu xmm5, [rsi + 1 * 16]
    movdqu xmm6, [rsi + 2 * 16]
    movdqu xmm7, [rsi + 3 * 16]
    movdqu xmm8, [rsi + 2 * 16]
    movdqu xmm9, [rsi + 3 * 16]
    movdqu xmm10, [rsi + 0 * 16]
    movdqu xmm11, [rsi + 1 * 16]
    movdqu xmm12, [rsi + 3 * 16]
    movdqu xmm13, [rsi + 2 * 16]
    movdqu xmm14, [rsi + 1 * 16]
    movdqu xmm15, [rsi + 0 * 16]
    mov r8, 0x0123456789abcdef
    mov r9, 0xfedcba9876543210
    mov r10, 0x0f1e2d3c4b5a6978
    mov r11, 0x8796a5b4c3d2e1f0
    mov r12, 1
    mov r13, 3
    mov r14, 5
    mov r15, 7
    xor ebp, ebp                    ; lines printed
.line:
    mov ecx, ROUNDS
.round:
    paddq xmm0, xmm1
    pxor xmm1, xmm2
    addpd xmm2, xmm3                ; doubles, rounded up
    pshufd xmm3, xmm3, 0x39
    paddd xmm4, xmm5
    addpd xmm5, xmm6
    pxor xmm6, xmm7
    psrlq xmm7, 1
    paddq xmm8, xmm9
    mulpd xmm9, xmm10
    pxor xmm10, xmm11
    paddw xmm11, xmm12
    addsd xmm12, xmm13
    pshufd xmm13, xmm13, 0x93
    paddq xmm14, xmm15
    pxor xmm15, xmm0
    add r8, r9
    rol r9, 7
    xor r10, r8
    imul r11, r11, 0x5851f42d
    add r12, r13
    add r13, r14
    xor r14, r15
    add r15, [fs:8]
    dec ecx
    jnz .round
    inc ebp
    ; HASH: the XMM registers, the GPRs, MXCSR folded into RAX.
    sub rsp, 16 * 16
%assign i 0
%rep 16
    movdqu [rsp + i * 16], xmm %+ i
%assign i i + 1
%endrep
    xor eax, eax
    xor edx, edx
.fold:
    xor rax, [rsp + rdx * 8]
    rol rax, 5
    inc edx
    cmp edx, 32
    jb .fold
    add rsp, 16 * 16
    xor rax, r8
    xor rax, r9
    xor rax, r10
    xor rax, r11
    xor rax, r12
    xor rax, r13
    xor rax, r14
    xor rax, r15
    stmxcsr [rsp - 8]
    mov edx, [rsp - 8]
    xor rax, rdx
    mov rbx, rax
    mov eax, ebp
    call putdec
    mov al, ' '
    call putc
    mov rax, rbx
    call puthex64
    mov al, 10
    call putc
    jmp .line

putc:                               ; AL to COM1, polled
    push rdx
    push rax
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop rax
    mov dx, 0x3f8
    out dx, al
    pop rdx
    ret

putdec:                             ; EAX in decimal
    push rbx
    push rcx
    push rdx
    mov ebx, 10
    xor ecx, ecx
.div:
    xor edx, edx
    div ebx
    push rdx
    inc ecx
    test eax, eax
    jnz .div
.out:
    pop rax
    add al, '0'
    call putc
    loop .out
    pop rdx
    pop rcx
    pop rbx
    ret

puthex64:                           ; RAX as 16 hex digits
    push rcx
    push rdx
    mov rdx, rax
    mov ecx, 16
.digit:
    rol rdx, 4
    mov al, dl
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .put
    add al, 'a' - '0' - 10
.put:
    call putc
    loop .digit
    pop rdx
    pop rcx
    ret

align 16
pat:
    dq 0x3ff0000000000001, 0x400921fb54442d18   ; 1 + ulp, pi
    dq 0x3fb999999999999a, 0xbfd5555555555555   ; 0.1, -1/3
    dq 0x0000000100000003, 0x7ff0000000000000   ; integers, +inf
    dq 0x3e7ad7f29abcaf48, 0x4059000000000000   ; 1e-7, 100
mxcsr0:
    dd 0x5fc0                       ; RC up, DAZ, all masked

    times 0xfff0 - ($ - $$) db 0xff
bits 16
reset:
    jmp 0xf000:(start16 - 0xf0000)
    times 0x10000 - ($ - $$) db 0xff
