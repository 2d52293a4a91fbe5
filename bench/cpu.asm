; SPDX-License-Identifier: GPL-2.0-or-later
; CPU benchmark guest (bench/cpu.py): a 128 KiB -bios ROM of our own that
; runs from the reset vector, enters 32-bit protected mode with paging
; (4 MiB PSE pages, identity), and runs three CPU-bound phases, printing
; a checksum of each on COM1:
;   int  integer ALU, multiplies, shifts, branches, calls (LCG hashing)
;   mem  a byte sieve of Eratosthenes over 4 MiB and REP MOVSD copies
;        with a strided checksum (TLB, loads/stores, string ops)
;   fpu  x87 FILD/FSQRT/FDIV/FADD/FMUL/FST in extended precision (all
;        correctly rounded, so any exact x87 gives the same bits)
; Lines: "CPU-BENCH START", "int XXXXXXXX", "mem XXXXXXXX",
; "fpu XXXXXXXX XXXXXXXX", "CPU-BENCH DONE"; then it halts with IF=0.
; SCALE (nasm -DSCALE=n, default 1) multiplies every phase's work.
; LONG (nasm -DLONG, bench/cpu.py --long): the same phases in 64-bit mode
; (4-level paging, the first GiB identity by 2 MiB pages); values stay in
; 32-bit registers, pointers are 64-bit, so the checksums are the same.
; SOUND (nasm -DSOUND, bench/audio.py) first starts two endless streams:
; the PC speaker at 440 Hz (PIT channel 2, port 0x61) and the Sound
; Blaster 16 playing 8-bit mono at 44100 Hz by auto-init DMA on channel 1
; from the ROM's own bytes at 0xf0000 (noise; the cost is what counts).
%ifndef SCALE
%define SCALE 1
%endif
; Each count can be given on its own (-DINT_ITERS=n...): the JIT's lock-step
; test (tests/cpu/jit-lockstep.c) runs a short version.
%ifndef INT_ITERS
%define INT_ITERS (16000000 * SCALE)
%endif
%ifndef SIEVE_ROUNDS
%define SIEVE_ROUNDS (3 * SCALE)
%endif
%ifndef SIEVE_SIZE
%define SIEVE_SIZE (4 << 20)
%endif
%ifndef COPY_ROUNDS
%define COPY_ROUNDS (24 * SCALE)
%endif
%ifndef FPU_ITERS
%define FPU_ITERS (1000000 * SCALE)
%endif

SIEVE   equ 0x400000        ; 4 MiB of flags
SRC     equ 0x800000        ; copy source / destination, 1 MiB each
DST     equ 0xa00000
PGDIR   equ 0x10000
VARS    equ 0x20000
STACK   equ 0x90000

; Pointer registers: 64-bit in long mode.
%ifdef LONG
%define PAX rax
%define PBX rbx
%define PCX rcx
%define PDX rdx
%define PSI rsi
%else
%define PAX eax
%define PBX ebx
%define PCX ecx
%define PDX edx
%define PSI esi
%endif

    times 0x10000 db 0xff   ; the first 64 KiB of the ROM: unused

section f000 vstart=0xf0000
bits 16
align 8
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
    mov fs, ax
    mov gs, ax
    mov esp, STACK
%ifdef LONG
    ; PML4, PDPT, PD: the first GiB identity by 2 MiB pages; long mode.
    mov edi, PGDIR
    xor eax, eax
    mov ecx, 3 * 1024
    rep stosd
    mov dword [PGDIR], PGDIR + 0x1003
    mov dword [PGDIR + 0x1000], PGDIR + 0x2003
    mov edi, PGDIR + 0x2000
    mov eax, 0x83
    mov ecx, 512
.pd:
    mov [edi], eax
    add eax, 0x200000
    add edi, 8
    loop .pd
    mov eax, cr4
    or eax, 0x20            ; PAE
    mov cr4, eax
    mov eax, PGDIR
    mov cr3, eax
    mov ecx, 0xc0000080     ; EFER.LME
    rdmsr
    or eax, 0x100
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp 0x18:lm64
bits 64
lm64:
%else
    ; Page directory: 0-16 MiB identity, 4 MiB pages, and the top 4 MiB
    ; (the ROM's alias) identity too.
    mov edi, PGDIR
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PGDIR + 0], 0x00000083
    mov dword [PGDIR + 4], 0x00400083
    mov dword [PGDIR + 8], 0x00800083
    mov dword [PGDIR + 12], 0x00c00083
    mov dword [PGDIR + 4092], 0xffc00083
    mov eax, cr4
    or eax, 0x10            ; PSE
    mov cr4, eax
    mov eax, PGDIR
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
%endif

%ifdef SOUND
    mov al, 0xb6                ; PIT channel 2, mode 3, 440 Hz
    out 0x43, al
    mov al, 2712 & 0xff
    out 0x42, al
    mov al, 2712 >> 8
    out 0x42, al
    in al, 0x61
    or al, 3
    out 0x61, al
    mov dx, 0x226               ; SB16 DSP reset
    mov al, 1
    out dx, al
    in al, 0x80
    xor al, al
    out dx, al
    mov al, 0x05                ; DMA channel 1: mask, auto-init read
    out 0x0a, al
    out 0x0c, al
    mov al, 0x59
    out 0x0b, al
    xor al, al                  ; address 0xf0000: page 0x0f, offset 0
    out 0x02, al
    out 0x02, al
    mov al, 0xff                ; 64 KiB
    out 0x03, al
    out 0x03, al
    mov al, 0x0f
    out 0x83, al
    mov al, 0x01
    out 0x0a, al
    mov esi, sb_cmds            ; rate 44100, 8-bit auto-init, 32 KiB
    mov ecx, sb_cmds_end - sb_cmds
    mov dx, 0x22c
.sb:
    lodsb
    out dx, al
    loop .sb
%endif
    mov esi, msg_start
    call puts

; ---- integer ----
    mov ecx, INT_ITERS
    mov eax, 1
    xor ebx, ebx
.int_loop:
    imul eax, eax, 1103515245
    add eax, 12345
    mov edx, eax
    shr edx, 16
    xor ebx, edx
    rol ebx, 5
    test edx, 1
    jz .int_even
    add ebx, ecx
    jmp .int_next
.int_even:
    sub ebx, eax
.int_next:
    call mix
    dec ecx
    jnz .int_loop
    mov esi, msg_int
    call puts
    mov eax, ebx
    call puthex
    call putnl

; ---- memory ----
    xor ebp, ebp            ; checksum
    mov edx, SIEVE_ROUNDS
.sieve_round:
    mov edi, SIEVE
    mov ecx, SIEVE_SIZE / 4
    mov eax, 0x01010101
    rep stosd
    mov byte [SIEVE], 0
    mov byte [SIEVE + 1], 0
    mov ebx, 2
.sieve_outer:
    mov eax, ebx
    imul eax, ebx
    cmp eax, SIEVE_SIZE
    jae .sieve_count
    cmp byte [SIEVE + PBX], 0
    je .sieve_skip
.sieve_inner:
    mov byte [SIEVE + PAX], 0
    add eax, ebx
    cmp eax, SIEVE_SIZE
    jb .sieve_inner
.sieve_skip:
    inc ebx
    jmp .sieve_outer
.sieve_count:
    mov esi, SIEVE
    mov ecx, SIEVE_SIZE / 4
.count_loop:
    lodsd
    add ebp, eax            ; bytes are 0/1: sums the primes' flags
    rol ebp, 1
    dec ecx
    jnz .count_loop
    dec edx
    jnz .sieve_round

    mov edi, SRC            ; source: a pattern
    mov ecx, (1 << 20) / 4
    mov eax, 0x9e3779b9
.fill:
    stosd
    add eax, 0x7f4a7c15
    rol eax, 3
    dec ecx
    jnz .fill
    mov edx, COPY_ROUNDS
.copy_round:
    mov esi, SRC
    mov edi, DST
    mov ecx, (1 << 20) / 4
    rep movsd
    mov esi, DST            ; strided read and write back
    mov ecx, (1 << 20) / 64
.stride:
    mov eax, [PSI]
    add ebp, eax
    xor eax, edx
    mov [PSI + SRC - DST], eax  ; the next round copies it
    add esi, 64
    dec ecx
    jnz .stride
    dec edx
    jnz .copy_round
    mov esi, msg_mem
    call puts
    mov eax, ebp
    call puthex
    call putnl

; ---- x87 ----
    fninit
    fld1                    ; x
    mov ecx, FPU_ITERS
.fpu_loop:
    mov [VARS], ecx
    fild dword [VARS]       ; i, x
    fsqrt                   ; sqrt(i), x
    fld1
    fdivrp st1, st0         ; 1/sqrt(i), x
    faddp st1, st0          ; x + 1/sqrt(i)
    fmul qword [k_decay]
    fst qword [VARS + 8]
    dec ecx
    jnz .fpu_loop
    fld st0
    fmul dword [k_scale]
    fistp dword [VARS + 16]
    fstp qword [VARS + 24]
    mov esi, msg_fpu
    call puts
    mov eax, [VARS + 16]
    call puthex
    mov al, ' '
    call putc
    mov eax, [VARS + 24]
    xor eax, [VARS + 28]
    call puthex
    call putnl

    mov esi, msg_done
    call puts
.hang:
    hlt
    jmp .hang

mix:
    lea ebx, [PBX + PBX * 2]
    xor ebx, eax
    ret

; COM1 output, polled.
putc:
    push PDX
    push PAX
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop PAX
    mov dx, 0x3f8
    out dx, al
    pop PDX
    ret

puts:                       ; ESI: NUL-terminated
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

putnl:
    mov al, 10
    jmp putc

puthex:                     ; EAX as 8 hex digits
    push PCX
    push PBX
    mov ebx, eax
    mov ecx, 8
.digit:
    rol ebx, 4
    mov al, bl
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '0' - 10
.out:
    call putc
    dec ecx
    jnz .digit
    pop PBX
    pop PCX
    ret

align 8
k_decay: dq 0.99999
k_scale: dd 1048576.0
msg_start: db "CPU-BENCH START", 10, 0
%ifdef SOUND
sb_cmds: db 0x41, 44100 >> 8, 44100 & 0xff, 0xc6, 0x00, 0xff, 0x7f
sb_cmds_end:
%endif
msg_int: db "int ", 0
msg_mem: db "mem ", 0
msg_fpu: db "fpu ", 0
msg_done: db "CPU-BENCH DONE", 10, 0

    times 0xfff0 - ($ - $$) db 0xff
bits 16
reset:
    jmp 0xf000:(start16 - 0xf0000)
    times 0x10000 - ($ - $$) db 0xff
