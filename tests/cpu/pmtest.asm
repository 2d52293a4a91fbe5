; SPDX-License-Identifier: GPL-2.0-or-later
;
; pmtest: a bare protected-mode test kernel on a raw disk image, booted by
; SeaBIOS.  The boot sector loads the rest of the image with INT 13h
; (AH=42h) to 0x7e00; the kernel then
;   - enters 32-bit protected mode and enables paging (0-4 MiB identity,
;     4-8 MiB on demand: three page faults fill it in, with CR2 and the
;     error codes checked),
;   - switches tasks through TSS descriptors: JMP to a 32-bit TSS (and JMP
;     back), CALL through a GDT task gate to a 16-bit TSS (which returns
;     with IRET, NT=1), INT through an IDT task gate to the same task,
;     checking busy bits, NT, CR0.TS and the back link,
;   - enters virtual-8086 mode with IRET; the V86 code prints through ports
;     the TSS I/O bitmap allows, takes #GP for CLI (IOPL 0) and for a port
;     the bitmap denies (the monitor skips them and IRETs back to V86), and
;     leaves V86 mode through INT 31h (#GP to the monitor, which checks the
;     V86 frame: ES/DS/FS/GS pushed, data segments nulled),
;   - single-steps five instructions with TF (#DB with DR6.BS and the
;     expected EIP each time; MOV SS holds the trap back one instruction;
;     INT n runs its handler untraced),
;   - hits an instruction breakpoint (DR0) twice in a loop, resuming with
;     RF, and a data breakpoint (DR1, 4-byte write watch) once,
; and prints "PMTEST OK faults=3 tasks=3 v86=1 steps=5 bps=3" on COM1, or
; "PMTEST FAIL ..." at the first thing that went wrong.
;
; Build: nasm -f bin pmtest.asm -o pmtest.img
;
; Memory: image 0x7c00-0xfbff; stacks below 0x7000; page directory
; 0x20000, page tables 0x21000 (0-4M) and 0x22000 (4-8M); IDT 0x23000;
; TSS A 0x24000 (32-bit), TSS B 0x24100 (16-bit); main TSS 0x30000 with an
; I/O bitmap; demand-paged frames 0x80000-0x82fff.

%define PD          0x20000
%define PT0         0x21000
%define PT1         0x22000
%define IDT         0x23000
%define TSS_A       0x24000
%define TSS_B       0x24100
%define TSS_MAIN    0x30000
%define IOMAP_OFF   0x68
%define TSS_MAIN_LIM (IOMAP_OFF + 0x2000)
%define FRAMES      0x80000
%define STK_MAIN    0x7000
%define STK_A       0x6800
%define STK_B       0x6000
%define STK_RING0   0x5800
%define STK_V86     0x5000
%define SECTORS     63

%define SEL_CODE    0x08
%define SEL_DATA    0x10
%define SEL_TSS_MAIN 0x28
%define SEL_TSS_A   0x30
%define SEL_TSS_B   0x38
%define SEL_GATE_B  0x40

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
        jc .ioerr
        jmp 0:stage2
.ioerr:
        mov si, msg_ioerr
.p:     lodsb
        test al, al
        jz .h
        mov dx, 0x3f8
        out dx, al
        jmp .p
.h:     hlt
        jmp .h

dap:    db 0x10, 0
        dw SECTORS
        dw 0x7e00, 0
        dq 1
msg_ioerr: db "PMTEST FAIL disk read", 13, 10, 0

        times 510 - ($ - $$) db 0
        dw 0xaa55

; ---------------------------------------------------------------------
stage2:
        lgdt [gdtr]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword SEL_CODE:pm32

        align 8
gdt:
        dq 0
        dq 0x00cf9a000000ffff           ; 0x08 code, flat, DPL 0
        dq 0x00cf92000000ffff           ; 0x10 data, flat, DPL 0
        dq 0
        dq 0
%macro TSSDESC 3                        ; base, limit, type byte
        dw (%2) & 0xffff, (%1) & 0xffff
        db ((%1) >> 16) & 0xff, %3, ((%2) >> 16) & 0x0f, ((%1) >> 24) & 0xff
%endmacro
        TSSDESC TSS_MAIN, TSS_MAIN_LIM, 0x89   ; 0x28 main, 32-bit
        TSSDESC TSS_A, 0x67, 0x89              ; 0x30 task A, 32-bit
        TSSDESC TSS_B, 0x2b, 0x81              ; 0x38 task B, 16-bit
        dw 0, SEL_TSS_B                        ; 0x40 task gate -> B
        db 0, 0x85, 0, 0
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd gdt
idtr:   dw 256 * 8 - 1
        dd IDT

; ---------------------------------------------------------------------
        bits 32
pm32:
        mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, STK_MAIN
        cld

        ; IDT: every vector to its stub (unexpected), then the real ones
        mov edi, IDT
        mov ebx, stubs
        mov ecx, 256
.idt:   mov eax, ebx
        call set_gate
        add ebx, 16
        add edi, 8
        loop .idt
        mov edi, IDT + 1 * 8
        mov eax, db_handler
        call set_gate
        mov edi, IDT + 13 * 8
        mov eax, gp_handler
        call set_gate
        mov edi, IDT + 14 * 8
        mov eax, pf_handler
        call set_gate
        mov edi, IDT + 0x32 * 8
        mov eax, int32_handler
        call set_gate
        mov dword [IDT + 0x40 * 8], SEL_TSS_B << 16   ; task gate
        mov dword [IDT + 0x40 * 8 + 4], 0x8500
        lidt [idtr]

        mov esi, msg_hello
        call puts

; ---- paging with page faults ----------------------------------------
        mov edi, PD
        mov ecx, 3 * 1024
        xor eax, eax
        rep stosd                       ; PD, PT0, PT1 cleared
        mov dword [PD], PT0 | 7
        mov dword [PD + 4], PT1 | 7     ; present; its PTEs are not
        mov edi, PT0
        mov eax, 7
        mov ecx, 1024
.pt0:   stosd
        add eax, 0x1000
        loop .pt0
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax

        mov dword [0x400000], 0x11111111        ; #PF write
        mov dword [0x401010], 0x22222222        ; #PF write
        mov eax, [0x402000]                     ; #PF read: zeroed frame
        test eax, eax
        jnz fail_pf
        cmp dword [0x400000], 0x11111111        ; mapped now: no fault
        jne fail_pf
        cmp dword [FRAMES], 0x11111111
        jne fail_pf
        cmp dword [FRAMES + 0x1010], 0x22222222
        jne fail_pf
        cmp dword [faults], 3
        jne fail_pf
        ; accessed + dirty set in the first PTE
        mov eax, [PT1]
        and eax, 0x60
        cmp eax, 0x60
        jne fail_pf

; ---- task switches --------------------------------------------------
        ; main TSS: ring-0 stack for V86 interrupts, I/O bitmap
        mov edi, TSS_MAIN
        mov ecx, IOMAP_OFF / 4
        xor eax, eax
        rep stosd
        mov dword [TSS_MAIN + 4], STK_RING0
        mov dword [TSS_MAIN + 8], SEL_DATA
        mov dword [TSS_MAIN + 0x1c], PD         ; CR3 (never saved)
        mov word [TSS_MAIN + 0x66], IOMAP_OFF
        mov edi, TSS_MAIN + IOMAP_OFF
        mov ecx, 0x2000 + 1
        mov al, 0xff
        rep stosb                       ; every port denied ...
        mov byte [TSS_MAIN + IOMAP_OFF + (0x3f8 >> 3)], 0  ; ... but COM1
        mov byte [TSS_MAIN + IOMAP_OFF + (0x80 >> 3)], 0xfe ; and 0x80
        ; task A: 32-bit TSS
        mov edi, TSS_A
        mov ecx, 0x68 / 4
        xor eax, eax
        rep stosd
        mov dword [TSS_A + 0x1c], PD            ; CR3
        mov dword [TSS_A + 0x20], task_a        ; EIP
        mov dword [TSS_A + 0x24], 2             ; EFLAGS
        mov dword [TSS_A + 0x38], STK_A         ; ESP
        mov dword [TSS_A + 0x48], SEL_DATA      ; ES
        mov dword [TSS_A + 0x4c], SEL_CODE      ; CS
        mov dword [TSS_A + 0x50], SEL_DATA      ; SS
        mov dword [TSS_A + 0x54], SEL_DATA      ; DS
        mov dword [TSS_A + 0x58], SEL_DATA      ; FS
        mov dword [TSS_A + 0x5c], SEL_DATA      ; GS
        ; task B: 16-bit TSS
        mov edi, TSS_B
        mov ecx, 0x2c / 4
        xor eax, eax
        rep stosd
        mov word [TSS_B + 0x0e], task_b         ; IP
        mov word [TSS_B + 0x10], 2              ; FLAGS
        mov word [TSS_B + 0x1a], STK_B          ; SP
        mov word [TSS_B + 0x22], SEL_DATA       ; ES
        mov word [TSS_B + 0x24], SEL_CODE       ; CS
        mov word [TSS_B + 0x26], SEL_DATA       ; SS
        mov word [TSS_B + 0x28], SEL_DATA       ; DS

        mov ax, SEL_TSS_MAIN
        ltr ax
        cmp byte [gdt + SEL_TSS_MAIN + 5], 0x8b ; LTR marks it busy
        jne fail_task

        mov ebp, 0x12345678
        jmp SEL_TSS_A:0                 ; JMP to a TSS
        cmp ebp, 0x12345678             ; our registers came back
        jne fail_task
        cmp dword [tasks], 1
        jne fail_task
        cmp byte [gdt + SEL_TSS_A + 5], 0x89    ; JMP left A: not busy
        jne fail_task
        mov eax, cr0
        test al, 8                      ; CR0.TS set by the switch
        jz fail_task
        clts

        call SEL_GATE_B:0               ; CALL through a task gate
        cmp dword [tasks], 2
        jne fail_task
        cmp byte [gdt + SEL_TSS_B + 5], 0x81    ; IRET freed B
        jne fail_task
        cmp word [TSS_B], SEL_TSS_MAIN  ; B's back link
        jne fail_task
        pushfd
        test dword [esp], 0x4000        ; our NT is clear again
        pop eax
        jnz fail_task

        int 0x40                        ; INT through an IDT task gate
        cmp dword [tasks], 3
        jne fail_task
        cmp byte [gdt + SEL_TSS_B + 5], 0x81
        jne fail_task
        clts

; ---- virtual-8086 mode ----------------------------------------------
        mov [saved_esp], esp
        push dword 0x3000               ; GS
        push dword 0x2000               ; FS
        push dword 0                    ; DS
        push dword 0x1000               ; ES
        push dword 0                    ; SS
        push dword STK_V86              ; ESP
        push dword 0x00020002           ; EFLAGS: VM, IOPL 0, IF 0
        push dword 0                    ; CS
        push dword v86_code             ; EIP
        iretd
v86_back:
        mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, [saved_esp]
        cmp dword [v86], 1
        jne fail_v86
        cmp dword [v86_cli], 1
        jne fail_v86
        cmp dword [v86_io], 1
        jne fail_v86
        cmp dword [v86_bad], 0
        jne fail_v86

; ---- single-step ----------------------------------------------------
        mov edx, SEL_DATA
        pushfd
        or dword [esp], 0x100
        popfd                           ; TF on: no trap after POPF
        mov eax, 1                      ; trap 1
step1:  mov ss, dx                      ; trap held back ...
        mov ebx, 2                      ; ... to here: trap 2
step2:  int 0x32                        ; handler untraced, no trap
        nop                             ; trap 3
step3:  nop                             ; trap 4
step4:  nop                             ; trap 5: the handler clears TF
step5:  nop
        nop
        cmp dword [steps], 5
        jne fail_step
        cmp dword [int32s], 1
        jne fail_step
        pushfd
        test dword [esp], 0x100
        pop eax
        jnz fail_step

; ---- debug registers ------------------------------------------------
        mov eax, bp_insn
        mov dr0, eax                    ; instruction breakpoint
        mov eax, bp_data
        mov dr1, eax                    ; data breakpoint: writes, 4 bytes
        mov eax, (1 << 0) | (1 << 2) | (1 << 20) | (3 << 22)
        mov dr7, eax
        mov esi, 2
        xor ecx, ecx
bp_insn:
.l:     inc ecx                         ; #DB fault before it, twice
        dec esi
        jnz .l
        mov dword [bp_data + 2], 1      ; #DB trap after it
bp_after:
        xor eax, eax
        mov dr7, eax
        cmp ecx, 2
        jne fail_bp
        cmp dword [bps], 3
        jne fail_bp
        mov esi, bp_expect
        mov edi, bp_log
        mov ecx, 6
        repe cmpsd
        jne fail_bp

; ---- result ---------------------------------------------------------
        mov esi, msg_ok
        call puts
        mov eax, [faults]
        call putdec
        mov esi, msg_tasks
        call puts
        mov eax, [tasks]
        call putdec
        mov esi, msg_v86
        call puts
        mov eax, [v86]
        call putdec
        mov esi, msg_steps
        call puts
        mov eax, [steps]
        call putdec
        mov esi, msg_bps
        call puts
        mov eax, [bps]
        call putdec
        mov esi, msg_nl
        call puts
halt:   cli
        hlt
        jmp halt

fail_pf:   mov esi, msg_fail_pf
           jmp fail
fail_task: mov esi, msg_fail_task
           jmp fail
fail_v86:  mov esi, msg_fail_v86
           jmp fail
fail_step: mov esi, msg_fail_step
           jmp fail
fail_bp:   mov esi, msg_fail_bp
fail:   mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        push esi
        mov esi, msg_fail
        call puts
        pop esi
        call puts
        mov esi, msg_nl
        call puts
        jmp halt

; ---- helpers --------------------------------------------------------
; Interrupt gate at [edi] to SEL_CODE:eax.
set_gate:
        mov [edi], ax
        mov word [edi + 2], SEL_CODE
        mov word [edi + 4], 0x8e00
        shr eax, 16
        mov [edi + 6], ax
        ret

putc:   push edx
        push eax
        mov dx, 0x3fd
.w:     in al, dx
        test al, 0x20
        jz .w
        pop eax
        mov dx, 0x3f8
        out dx, al
        pop edx
        ret

puts:   push eax
.l:     lodsb
        test al, al
        jz .e
        call putc
        jmp .l
.e:     pop eax
        ret

; eax < 100
putdec: push eax
        push edx
        xor edx, edx
        mov ecx, 10
        div ecx
        test eax, eax
        jz .one
        add al, '0'
        call putc
.one:   mov al, dl
        add al, '0'
        call putc
        pop edx
        pop eax
        ret

; eax as 8 hex digits
puthex: push ecx
        mov ecx, 8
.d:     rol eax, 4
        push eax
        and al, 15
        add al, '0'
        cmp al, '9'
        jbe .p
        add al, 7
.p:     call putc
        pop eax
        loop .d
        pop ecx
        ret

; ---- tasks ----------------------------------------------------------
task_a:
        inc dword [tasks]
        str ax
        cmp ax, SEL_TSS_A
        jne fail_task
        pushfd
        test dword [esp], 0x4000        ; JMP: no nesting
        pop eax
        jnz fail_task
        cmp byte [gdt + SEL_TSS_MAIN + 5], 0x89 ; JMP freed main
        jne fail_task
        jmp SEL_TSS_MAIN:0              ; back
        jmp task_a

task_b:                                 ; 16-bit TSS, 32-bit code
        mov esp, STK_B
        inc dword [tasks]
        str ax
        cmp ax, SEL_TSS_B
        jne fail_task
        pushfd
        test dword [esp], 0x4000        ; CALL/INT: nested
        pop eax
        jz fail_task
        cmp byte [gdt + SEL_TSS_MAIN + 5], 0x8b ; caller stays busy
        jne fail_task
        iretd                           ; to the back-linked task
        jmp task_b

; ---- handlers -------------------------------------------------------
; #PF: map the faulting 4-8 MiB page to the next zeroed frame.
pf_handler:
        pushad
        mov edx, cr2
        cmp edx, 0x400000
        jb .bad
        cmp edx, 0x800000
        jae .bad
        mov ebx, [faults]
        cmp ebx, 3
        jae .bad
        mov eax, [esp + 32]             ; error code
        cmp eax, [pf_errs + ebx * 4]
        jne .bad
        shl ebx, 12
        add ebx, FRAMES
        mov edi, ebx
        mov ecx, 1024
        xor eax, eax
        rep stosd
        shr edx, 12
        and edx, 0x3ff
        or ebx, 7
        mov [PT1 + edx * 4], ebx
        inc dword [faults]
        popad
        add esp, 4
        iretd
.bad:   jmp fail_pf

; #GP: the V86 monitor.
gp_handler:
        test dword [esp + 12], 0x20000  ; from V86?
        jz .unexpected
        mov eax, ds                     ; data segments were nulled
        or ax, [esp]                    ; (error code 0)
        mov ebx, es
        or ax, bx
        mov ebx, fs
        or ax, bx
        mov ebx, gs
        or ax, bx
        jz .segs_ok
        mov eax, SEL_DATA
        mov ds, eax
        inc dword [v86_bad]
.segs_ok:
        mov eax, SEL_DATA
        mov ds, eax
        cmp esp, STK_RING0 - 40         ; the TSS ring-0 stack, full frame
        je .stack_ok
        inc dword [v86_bad]
.stack_ok:
        movzx eax, word [esp + 8]       ; CS:IP of the faulting insn
        shl eax, 4
        add eax, [esp + 4]
        mov bl, [eax]
        cmp bl, 0xfa                    ; CLI (IOPL 0)
        je .cli
        cmp bl, 0xe4                    ; IN AL, imm8 (port denied)
        je .in
        cmp bl, 0xcd                    ; INT n (IOPL 0): leave V86
        je .int
        inc dword [v86_bad]
        jmp fail_v86
.cli:   inc dword [v86_cli]
        inc dword [esp + 4]
        add esp, 4
        iretd                           ; back to V86
.in:    cmp byte [eax + 1], 0x84
        jne fail_v86
        inc dword [v86_io]
        add dword [esp + 4], 2
        add esp, 4
        iretd
.int:   cmp byte [eax + 1], 0x31
        jne fail_v86
        cmp dword [esp + 24], 0x1000    ; the V86 ES, DS, FS, GS
        jne fail_v86
        cmp dword [esp + 28], 0
        jne fail_v86
        cmp dword [esp + 32], 0x2000
        jne fail_v86
        cmp dword [esp + 36], 0x3000
        jne fail_v86
        inc dword [v86]
        jmp v86_back
.unexpected:
        push dword 13
        jmp unexpected

; #DB: single-step traps, then the breakpoints.
db_handler:
        push eax
        push ebx
        mov eax, dr6
        test eax, 0x4000                ; BS
        jnz .step
        mov ebx, [bps]                  ; a breakpoint: log EIP and B0-B3
        cmp ebx, 3
        jae .bad
        and eax, 15
        mov [bp_log + ebx * 8 + 4], eax
        mov eax, [esp + 8]
        mov [bp_log + ebx * 8], eax
        inc dword [bps]
        test byte [bp_log + ebx * 8 + 4], 1
        jz .clr
        or dword [esp + 16], 0x10000    ; RF: the insn runs this time
.clr:   xor eax, eax
        mov dr6, eax
        pop ebx
        pop eax
        iretd
.step:  mov ebx, [steps]
        cmp ebx, 5
        jae .bad
        mov eax, [esp + 8]              ; the next instruction
        cmp eax, [step_eips + ebx * 4]
        jne .bad
        inc dword [steps]
        xor eax, eax
        mov dr6, eax
        cmp dword [steps], 5
        jne .r
        and dword [esp + 16], ~0x100    ; TF off in the saved EFLAGS
.r:     pop ebx
        pop eax
        iretd
.bad:   mov esi, msg_fail_step
        jmp fail

int32_handler:
        push eax
        pushfd
        pop eax
        test eax, 0x100                 ; INT cleared TF
        pop eax
        jnz .bad
        inc dword [int32s]
        iretd
.bad:   mov esi, msg_fail_step
        jmp fail

; Unexpected exception: print the vector and the two dwords above it.
unexpected:
        mov ax, SEL_DATA
        mov ds, ax
        mov esi, msg_fail
        call puts
        mov esi, msg_exc
        call puts
        mov eax, [esp]
        call puthex
        mov al, ' '
        call putc
        mov eax, [esp + 4]
        call puthex
        mov al, ' '
        call putc
        mov eax, [esp + 8]
        call puthex
        mov esi, msg_nl
        call puts
        jmp halt

        align 16
stubs:                                  ; 16 bytes each
%assign v 0
%rep 256
        push strict dword v
        jmp near unexpected_trampoline
        align 16
%assign v v + 1
%endrep
unexpected_trampoline:
        jmp unexpected

; ---- V86 code -------------------------------------------------------
        bits 16
v86_code:
        mov si, msg_v86code
.p:     lodsb                           ; DS = 0
        test al, al
        jz .done
        mov bl, al
        mov dx, 0x3fd                   ; COM1: allowed by the bitmap
.w:     in al, dx
        test al, 0x20
        jz .w
        mov al, bl
        mov dx, 0x3f8
        out dx, al
        jmp .p
.done:  out 0x80, al                    ; allowed
        cli                             ; #GP: IOPL 0
        in al, 0x84                     ; #GP: denied by the bitmap
        int 0x31                        ; #GP: back to the monitor
        jmp $

; ---- data -----------------------------------------------------------
        align 4
faults:     dd 0
tasks:      dd 0
v86:        dd 0
v86_cli:    dd 0
v86_io:     dd 0
v86_bad:    dd 0
steps:      dd 0
int32s:     dd 0
saved_esp:  dd 0
pf_errs:    dd 2, 2, 0
step_eips:  dd step1, step2, step3, step4, step5
bps:        dd 0
        align 8                         ; DR1 watches this aligned dword
bp_data:    dd 0, 0
bp_log:     times 6 dd 0                ; EIP, DR6 & 15 of each #DB
bp_expect:  dd bp_insn, 1, bp_insn, 1, bp_after, 2

msg_hello:  db "pmtest: protected mode", 13, 10, 0
msg_v86code: db "pmtest: v86 mode", 13, 10, 0
msg_ok:     db "PMTEST OK faults=", 0
msg_tasks:  db " tasks=", 0
msg_v86:    db " v86=", 0
msg_steps:  db " steps=", 0
msg_bps:    db " bps=", 0
msg_nl:     db 13, 10, 0
msg_fail:   db "PMTEST FAIL ", 0
msg_exc:    db "exception ", 0
msg_fail_pf:   db "paging", 0
msg_fail_task: db "task switch", 0
msg_fail_v86:  db "v86", 0
msg_fail_step: db "single-step", 0
msg_fail_bp:   db "breakpoints", 0

        times (SECTORS + 1) * 512 - ($ - $$) db 0
