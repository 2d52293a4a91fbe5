; SPDX-License-Identifier: GPL-2.0-or-later
;
; lmtest: a bare long-mode test kernel on a raw disk image, booted by
; SeaBIOS (issue 17).  The boot sector loads the rest with INT 13h
; (AH=42h) to 0x7e00; the kernel then
;   - enters 32-bit protected mode, builds 4-level page tables (0-4 MiB
;     identity by two 2 MiB user pages, 4 MiB a 4 KiB execute-disable
;     page, the rest not present), sets CR4.PAE, EFER.LME/SCE/NXE, CR0.PG
;     and far-jumps to a 64-bit code segment,
;   - runs 64-bit integer code (REX registers, imm64, MOVSXD, CDQE/CQO,
;     64-bit MUL/IMUL/DIV/IDIV, shifts and rotates, RIP-relative LEA,
;     CMOV/SETcc, BSWAP, PUSH/POP of R8-R15, CALL/RET, CMPXCHG16B) and
;     prints each result,
;   - takes a #PF (a read of an unmapped page) and a #PF from a fetch of
;     the execute-disable page through 64-bit IDT gates on the IST1
;     stack of the 64-bit TSS, and a #GP(0) from a non-canonical address,
;     each returning with IRETQ,
;   - goes to ring 3 with SYSRET and back with SYSCALL (STAR, LSTAR,
;     SFMASK), and swaps GS bases with SWAPGS,
; printing "lmtest: ..." lines on COM1 and "LMTEST OK" (or "LMTEST FAIL
; <what>" at a self-check that does not hold).  tests/guests/
; test_lmtest.py compares every line with qemu-system-x86_64's.
;
; Build: nasm -f bin lmtest.asm -o lmtest.img

%define PML4        0x20000
%define PDPT        0x21000
%define PD          0x22000
%define PT          0x23000
%define IDT         0x24000
%define TSS         0x25000
%define STK         0x7000
%define IST1        0x6000
%define STK_USER    0x5000
%define SECTORS     16

%define SEL_CODE64  0x08
%define SEL_DATA    0x10
%define SEL_UCODE32 0x18
%define SEL_UDATA   0x20
%define SEL_UCODE64 0x28
%define SEL_CODE32  0x30
%define SEL_TSS     0x38

        bits 16
        org 0x7c00

boot:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7000
        mov si, dap
        mov ah, 0x42
        int 0x13
        jc .h
        jmp 0:stage2
.h:     hlt
        jmp .h

dap:    db 0x10, 0
        dw SECTORS
        dw 0x7e00, 0
        dq 1

        times 510 - ($ - $$) db 0
        dw 0xaa55

; ---------------------------------------------------------------------
stage2:
        lgdt [gdtr]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword SEL_CODE32:pm32

        align 8
gdt:
        dq 0
        dq 0x00af9a000000ffff           ; 0x08 code, 64-bit, DPL 0
        dq 0x00cf92000000ffff           ; 0x10 data, DPL 0
        dq 0x00cffa000000ffff           ; 0x18 code, 32-bit, DPL 3
        dq 0x00cff2000000ffff           ; 0x20 data, DPL 3
        dq 0x00affa000000ffff           ; 0x28 code, 64-bit, DPL 3
        dq 0x00cf9a000000ffff           ; 0x30 code, 32-bit, DPL 0
        dw 0x67, TSS & 0xffff           ; 0x38 64-bit TSS (16 bytes)
        db (TSS >> 16) & 0xff, 0x89, 0, 0
        dq 0
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dq gdt

; ---------------------------------------------------------------------
        bits 32
pm32:
        mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, STK
        cld
        ; page tables: clear 4 pages
        mov edi, PML4
        mov ecx, 4 * 1024
        xor eax, eax
        rep stosd
        mov dword [PML4], PDPT | 7
        mov dword [PDPT], PD | 7
        mov dword [PD], 0x000000 | 0x87        ; 2 MiB, user, RW
        mov dword [PD + 8], 0x200000 | 0x87
        mov dword [PD + 16], PT | 7            ; 4-6 MiB by 4 KiB pages
        mov dword [PT], 0x400000 | 3           ; execute-disable below
        mov dword [PT + 4], 0x80000000
        mov byte [0x400000], 0xc3              ; a RET there
        mov eax, cr4
        or eax, 0x20                           ; PAE
        mov cr4, eax
        mov eax, PML4
        mov cr3, eax
        mov ecx, 0xc0000080
        rdmsr
        or eax, 0x901                          ; LME, NXE, SCE
        wrmsr
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        jmp SEL_CODE64:lm64

; ---------------------------------------------------------------------
        bits 64
lm64:
        mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov rsp, STK
        ; IDT: every vector to unexpected, then #GP and #PF on IST1
        mov rdi, IDT
        xor ecx, ecx
.idt:   lea rax, [rel unexpected]
        xor edx, edx
        call set_gate
        inc ecx
        cmp ecx, 32
        jne .idt
        mov ecx, 13
        lea rax, [rel gp_handler]
        mov edx, 1
        call set_gate
        mov ecx, 14
        lea rax, [rel pf_handler]
        mov edx, 1
        call set_gate
        lidt [rel idtr]
        ; TSS: RSP0 and IST1
        mov qword [TSS + 4], STK
        mov qword [TSS + 0x24], IST1
        mov ax, SEL_TSS
        ltr ax

        lea rsi, [rel msg_lm]
        call puts

        ; ---- integer ----
        mov rax, 0x0123456789abcdef
        mov r8, rax
        add r8, r8                              ; 0x02468acf13579bde
        mov rdi, r8
        call put_line
        mov r9, -5
        movsxd r10, r9d
        mov rdi, r10
        call put_line
        mov eax, 0x80000000
        cdqe
        mov rdi, rax
        call put_line
        cqo
        mov rdi, rdx
        call put_line
        mov rax, 0xfedcba9876543210
        mov rbx, 0x1000000000000001
        mul rbx
        mov rdi, rdx
        call put_line
        mov rdi, rax
        call put_line
        mov rax, -1000000000000
        mov rcx, 7
        cqo
        idiv rcx
        mov rdi, rax
        call put_line
        mov rdi, rdx
        call put_line
        mov rdx, 5
        mov rax, 0x123456789
        mov rcx, 0x100000000
        div rcx                                 ; (5:...) / 2^32
        mov rdi, rax
        call put_line
        mov rax, 0x8000000000000001
        rol rax, 4
        mov rdi, rax
        call put_line
        sar rax, 8
        mov rdi, rax
        call put_line
        shr rax, 60
        mov rdi, rax
        call put_line
        mov r11, 0x1122334455667788
        bswap r11
        mov rdi, r11
        call put_line
        imul r12, r11, -3
        mov rdi, r12
        call put_line
        lea r13, [rel msg_lm]
        sub r13, msg_lm                         ; 0: RIP-relative = absolute
        mov rdi, r13
        call put_line
        mov r14, 7
        mov r15, 9
        cmp r14, r15
        cmovb r14, r15
        setb al
        movzx eax, al
        shl rax, 32
        or rax, r14
        mov rdi, rax
        call put_line
        push r8
        push r15
        pop rbx
        pop rcx
        sub rcx, rbx
        mov rdi, rcx
        call put_line
        ; CMPXCHG16B: equal, then not equal
        mov qword [cx16], 1
        mov qword [cx16 + 8], 2
        mov rax, 1
        mov rdx, 2
        mov rbx, 0x33
        mov rcx, 0x44
        cmpxchg16b [cx16]
        setz al
        movzx edi, al
        shl rdi, 8
        add rdi, [cx16]
        call put_line
        mov rax, 9
        cmpxchg16b [cx16]
        setz bl
        movzx edi, bl
        shl rdi, 8
        add rdi, rax
        call put_line
        ; strings (REP STOSQ/MOVSD/SCASB), bit ops, XADD, CMPXCHG, RCL
        lea rdi, [rel sbuf]
        mov rax, 0x0102030405060708
        mov ecx, 4
        rep stosq
        lea rsi, [rel sbuf]
        lea rdi, [rel sbuf + 36]
        mov ecx, 3
        rep movsd
        mov rdi, [rel sbuf + 40]
        call put_line
        lea rdi, [rel sbuf]
        mov al, 0x05
        mov ecx, 16
        repne scasb
        mov rdi, rcx
        call put_line
        mov rax, 0x8000
        bts rax, 63
        btr rax, 15
        mov rbx, 100
        bt qword [rel sbuf], rbx
        setc bl
        movzx ebx, bl
        or rax, rbx
        mov rdi, rax
        call put_line
        mov rax, 5
        lock xadd [rel sbuf], rax
        mov rdi, rax
        call put_line
        mov rax, [rel sbuf]
        mov rcx, 9
        cmpxchg [rel sbuf], rcx
        mov rdi, [rel sbuf]
        call put_line
        mov rax, 0x8000000000000001
        stc
        rcl rax, 1
        setc bl
        movzx ebx, bl
        xor rax, rbx
        mov rdi, rax
        call put_line
        bsr rdi, rax
        call put_line
        ; far RET and far JMP (same ring), LOOP, ENTER/LEAVE, SGDT,
        ; PUSH/POP FS, INVLPG
        lea rax, [rel after_retf]
        push SEL_CODE64
        push rax
        o64 retf
after_retf:
        jmp far [rel farptr]
after_jmpf:
        mov ax, cs
        movzx edi, ax
        call put_line
        mov ecx, 10
        xor eax, eax
.lp:    add eax, ecx
        loop .lp
        mov edi, eax
        call put_line
        mov rbp, 0x1234
        mov rbx, rsp
        enter 16, 1
        mov rdi, rbx
        sub rdi, rsp
        call put_line
        leave
        mov rdi, rbp
        call put_line
        sgdt [rel sbuf]
        mov rdi, [rel sbuf + 2]
        call put_line
        movzx edi, word [rel sbuf]
        call put_line
        mov ax, SEL_DATA
        mov fs, ax
        push fs
        pop rdi
        call put_line
        mov word [rel sbuf], SEL_DATA
        mov gs, [rel sbuf]
        mov [rel sbuf + 2], gs
        movzx edi, word [rel sbuf + 2]
        call put_line
        invlpg [0x200000]
        mov rdi, [0x200000]
        call put_line
        ; flags after 64-bit arithmetic
        mov rax, 0x7fffffffffffffff
        add rax, 1
        pushfq
        pop rdi
        and edi, 0x8d5
        call put_line

        ; ---- #PF on IST1: a read of a page that is not present ----
        mov qword [pf_count], 0
        mov rbx, 0x800000
        mov rax, [rbx]                          ; 3 bytes (48 8B 03)
        ; ---- #PF from a fetch of the execute-disable page ----
        mov rax, 0x400000
        call rax                                ; pf_handler returns
        ; ---- #GP(0): a non-canonical address ----
        mov rbx, 0x0000800000000000
        mov rax, [rbx]                          ; 3 bytes
        cmp qword [pf_count], 3
        jne fail_faults

        ; ---- SWAPGS ----
        mov ecx, 0xc0000101                     ; GS base
        mov eax, 0x1000
        xor edx, edx
        wrmsr
        mov ecx, 0xc0000102                     ; kernel GS base
        mov eax, 0x2000
        wrmsr
        swapgs
        mov ecx, 0xc0000101
        rdmsr
        shl rdx, 32
        or rax, rdx
        mov rdi, rax
        call put_line

        ; ---- SYSRET to ring 3, SYSCALL back ----
        mov ecx, 0xc0000081                     ; STAR
        xor eax, eax
        mov edx, (SEL_UCODE32 << 16) | SEL_CODE64
        wrmsr
        mov ecx, 0xc0000082                     ; LSTAR
        lea rax, [rel syscall_entry]
        xor edx, edx
        wrmsr
        mov ecx, 0xc0000084                     ; SFMASK: clear DF and AC
        mov eax, 0x40400
        wrmsr
        mov [saved_rsp], rsp
        lea rcx, [rel user]
        mov r11, 0x402                          ; DF set in ring 3
        o64 sysret
after_syscall:
        mov rsp, [saved_rsp]
        mov rdi, rbx                            ; ring 3's CS, SS
        call put_line
        mov rdi, r10                            ; RCX - user entry
        call put_line
        mov rdi, r11                            ; RFLAGS of ring 3
        and edi, 0x4c5                          ; AF undefined after OR
        call put_line
        pushfq
        pop rdi                                 ; DF cleared by SFMASK
        and edi, 0x400
        call put_line
        mov ax, cs
        movzx edi, ax
        call put_line

        cmp qword [pf_count], 3                 ; no stray #PF/#GP since
        jne fail_faults
        lea rsi, [rel msg_ok]
        call puts
.done:  hlt
        jmp .done

user:
        mov ax, cs
        mov bx, ss
        shl ebx, 16
        or bx, ax
        mov r8, 0x55
        syscall
.spin:  jmp .spin

syscall_entry:
        lea r10, [rel user]
        sub rcx, r10                            ; the offset after SYSCALL
        mov r10, rcx
        jmp after_syscall

fail_faults:
        lea rsi, [rel msg_fail_faults]
        call puts
.h:     hlt
        jmp .h

; #PF / #GP handlers (IST1): print vector, error code, CR2 and whether the
; stack is the IST one (and 16-byte aligned), then skip the instruction
; (3 bytes) or, for the fetch fault, return to the caller of the page.
pf_handler:
        push rax
        mov rdi, 14 << 32
        or rdi, [rsp + 8]                       ; error code
        call put_line
        mov rdi, cr2
        call put_line
        jmp fault_common
gp_handler:
        push rax
        mov rdi, 13 << 32
        or rdi, [rsp + 8]
        call put_line
fault_common:
        lea rax, [rsp + 8 + 8 + 5 * 8]          ; top of the frame
        mov rdi, rax
        call put_line                           ; = IST1
        inc qword [pf_count]
        mov rax, [rsp + 16]                     ; RIP
        cmp rax, 0x400000
        jne .skip
        mov rax, [rsp + 16 + 24]                ; RSP: pop the return address
        mov rdi, [rax]
        add qword [rsp + 16 + 24], 8
        mov [rsp + 16], rdi
        jmp .out
.skip:  add qword [rsp + 16], 3
.out:   pop rax
        add rsp, 8                              ; error code
        iretq

unexpected:
        lea rsi, [rel msg_unexpected]
        call puts
.h:     hlt
        jmp .h

; set_gate: vector ecx -> handler rax, IST edx (interrupt gate, DPL 0)
set_gate:
        push rdi
        mov rdi, rcx
        shl rdi, 4
        add rdi, IDT
        mov [rdi], ax
        mov word [rdi + 2], SEL_CODE64
        mov byte [rdi + 4], dl
        mov byte [rdi + 5], 0x8e
        shr rax, 16
        mov [rdi + 6], ax
        shr rax, 16
        mov [rdi + 8], eax
        mov dword [rdi + 12], 0
        pop rdi
        ret

; put_line: "lmtest: " and rdi as 16 hex digits
put_line:
        push rsi
        push rcx
        push rax
        lea rsi, [rel msg_prefix]
        call puts
        mov ecx, 16
.d:     rol rdi, 4
        mov eax, edi
        and eax, 15
        lea rsi, [rel hexdig]
        mov al, [rsi + rax]
        call putc
        dec ecx
        jnz .d
        mov al, 13
        call putc
        mov al, 10
        call putc
        pop rax
        pop rcx
        pop rsi
        ret

puts:
        mov al, [rsi]
        inc rsi
        test al, al
        jz .e
        call putc
        jmp puts
.e:     ret

putc:
        push rdx
        mov dx, 0x3f8
        out dx, al
        pop rdx
        ret

        align 16
idtr:   dw 32 * 16 - 1
        dq IDT
hexdig: db "0123456789abcdef"
farptr: dq after_jmpf                   ; m16:64 (nasm: REX.W)
        dw SEL_CODE64
msg_prefix: db "lmtest: ", 0
msg_lm: db "lmtest: long mode", 13, 10, 0
msg_ok: db "LMTEST OK", 13, 10, 0
msg_unexpected: db "LMTEST FAIL unexpected exception", 13, 10, 0
msg_fail_faults: db "LMTEST FAIL fault count", 13, 10, 0
        align 16
cx16:   dq 0, 0
sbuf:   times 8 dq 0
pf_count: dq 0
saved_rsp: dq 0

        times SECTORS * 512 + 512 - ($ - $$) db 0
