; SPDX-License-Identifier: GPL-2.0-or-later
; A -bios ROM for jit-lockstep: what can make a chained block stale.
; Loops (so that the JIT links their blocks and chains them) that
;  1. rewrite the immediate of the block they call (on a page of its
;     own) every 16th time (self-modifying code into the next, chained
;     block);
;  2. rewrite an immediate of the block that is running, every 16th;
;  3. switch the page a linear address maps to between two copies of
;     a block with different immediates every 8th time, reloading CR3
;     (a TLB flush: the chain links of the old mapping must not be
;     followed);
;  4. switch it with INVLPG instead of a CR3 reload;
;  6. RET to alternating callers and an indirect JMP through a table
;     (the jump cache, several targets per exit);
;  7. a RET into the aliased page from a helper it calls (through a
;     register), the page switched with a CR3 reload every 8th time
;     (a jump-cache entry of the old mapping must not be followed);
;  8. a Jcc taken into a block on a page of its own, rewritten every
;     16th time (SMC into a patched direct successor);
;  9. loads and stores across a page boundary (their slow path, a
;     handler call) in the middle of a block whose registers stay in
;     host registers across them;
;  5. run with interrupts enabled: every 64th time an OUT to port 0x80
;     raises INTR during the block (jit-lockstep's device), and the test
;     raises it between its run() calls too; the handler (vector 0x20)
;     mixes the interrupted EIP and a count into EBX/ESI.
; Each result goes into EDX, rotated, so running stale code shows in the
; registers that jit-lockstep compares.  Prints "CHAIN DONE" on COM1 and
; halts.
;
; nasm -f bin -o chain-lockstep.rom chain-lockstep.asm (128 KiB)

PGDIR   equ 0x10000
RAM     equ 0x30000         ; the code below runs here (writable)
ALIAS   equ 0xc00000        ; linear 4 MiB page mapped to COPY_A or COPY_B
COPY_A  equ 0x400000
COPY_B  equ 0x800000
STRADDLE equ 0x70ffe        ; a dword across a page boundary

section e000 start=0 vstart=0xe0000
bits 32
setup:
    ; identity map 0-12 MiB with 4 MiB pages, ALIAS -> COPY_A
    mov edi, PGDIR
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PGDIR + 0], 0x00000083
    mov dword [PGDIR + 4], 0x00400083
    mov dword [PGDIR + 8], 0x00800083
    mov dword [PGDIR + 12], COPY_A | 0x83
    mov dword [PGDIR + 4092], 0xffc00083
    mov eax, cr4
    or eax, 0x10            ; PSE
    mov cr4, eax
    mov eax, PGDIR
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    ; the RAM code, and the two copies of the aliased block
    mov esi, ram_rom
    mov edi, RAM
    mov ecx, 0x2000 / 4
    rep movsd
    mov esi, alias_rom
    mov edi, COPY_A
    mov ecx, 16
    rep movsd
    mov esi, alias_rom
    mov edi, COPY_B
    mov ecx, 16
    rep movsd
    mov dword [COPY_B + 1], 0x5a5a5a5a  ; B's immediate differs
    mov dword [COPY_B + alias2_imm - alias_rom + 1], 0x3c3c3c3c
    jmp RAM

alias_rom:
    mov eax, 0x12345678     ; patched in COPY_B
    xor edx, eax
    rol edx, 7
    ret
    times 32 - ($ - alias_rom) db 0x90
alias2:                     ; at ALIAS + 32
    mov eax, helper7
    call eax
alias2_imm:
    mov eax, 0x11111111     ; patched in COPY_B
    xor edx, eax
    rol edx, 9
    ret
    times 64 - ($ - alias_rom) db 0x90

    times 0x8000 - ($ - $$) db 0xff
ram_rom:

section ram start=0x8000 vstart=RAM
ram:
    xor edx, edx
    ; 1. SMC into the called (next) block
    mov ecx, 3000
.l1:
    call callee
    test ecx, 15
    jnz .n1
    inc dword [callee + 1]
.n1:
    rol edx, 3
    dec ecx
    jnz .l1
    ; 2. SMC into the running block
    mov ecx, 3000
.l2:
    mov eax, 0              ; the immediate is rewritten below
    add edx, eax
    test ecx, 15
    jnz .n2
    mov [.l2 + 1], ecx
.n2:
    rol edx, 5
    dec ecx
    jnz .l2
    ; 3. the aliased page switched, CR3 reloaded
    mov ecx, 3000
.l3:
    call ALIAS
    test ecx, 7
    jnz .n3
    mov eax, ecx
    shr eax, 3
    and eax, 1
    mov eax, [pde + eax * 4]
    mov [PGDIR + 12], eax
    mov eax, cr3
    mov cr3, eax
.n3:
    dec ecx
    jnz .l3
    ; 4. the same with INVLPG
    mov ecx, 3000
.l4:
    call ALIAS
    test ecx, 7
    jnz .n4
    mov eax, ecx
    shr eax, 3
    and eax, 1
    mov eax, [pde + eax * 4]
    mov [PGDIR + 12], eax
    invlpg [ALIAS]
.n4:
    dec ecx
    jnz .l4
    ; 6. RET to alternating callers, JMP through a table
    mov ecx, 3000
.l6:
    test ecx, 1
    jz .a6
    call mix6
    jmp .b6
.a6:
    call mix6
.b6:
    mov eax, ecx
    and eax, 3
    jmp [jtab + eax * 4]
.t0:
    add edx, 1
    jmp .n6
.t1:
    xor edx, 0x55
    jmp .n6
.t2:
    rol edx, 2
    jmp .n6
.t3:
    sub edx, ecx
.n6:
    dec ecx
    jnz .l6
    ; 7. RET into the aliased page, CR3 reloaded
    mov ecx, 3000
.l7:
    call ALIAS + 32
    test ecx, 7
    jnz .n7
    mov eax, ecx
    shr eax, 3
    and eax, 1
    mov eax, [pde + eax * 4]
    mov [PGDIR + 12], eax
    mov eax, cr3
    mov cr3, eax
.n7:
    dec ecx
    jnz .l7
    ; 8. SMC into a Jcc's patched successor
    mov ecx, 3000
.l8:
    test ecx, 1
    jnz target8
.back8:
    test ecx, 15
    jnz .n8
    inc dword [target8 + 1]
.n8:
    dec ecx
    jnz .l8
    ; 9. slow paths in the middle of a block
    mov ecx, 3000
    mov ebx, 0x1234567
    mov esi, STRADDLE
.l9:
    add ebx, ecx
    mov eax, [esi]
    add ebx, ecx
    add eax, ebx
    mov [esi], eax
    add edx, ebx
    xor edx, ecx
    rol edx, 1
    dec ecx
    jnz .l9
    ; 5. interrupts in a chained loop
    lidt [idtr]
    xor ebx, ebx
    xor esi, esi
    mov ecx, 20000
    sti
.l5:
    add edx, ecx
    rol edx, 1
    test ecx, 63
    jnz .n5
    out 0x80, al            ; INTR rises during this instruction
.n5:
    xor edx, ebx
    dec ecx
    jnz .l5
    cli
    add edx, esi
    ; done
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

    times 0x1000 - ($ - $$) db 0x90
callee:                     ; on a page of its own
    mov eax, 0x01000000     ; the immediate is incremented by the caller
    add edx, eax
    ret

pde:
    dd COPY_A | 0x83, COPY_B | 0x83
jtab:
    dd ram.t0, ram.t1, ram.t2, ram.t3

mix6:
    lea edx, [edx + edx * 4 + 1]
    ret

helper7:
    add edx, 3
    rol edx, 1
    ret

target8:
    mov eax, 0x00010000     ; the immediate is incremented by the loop
    add edx, eax
    rol edx, 1
    jmp ram.back8

irq:                        ; vector 0x20
    inc esi
    mov eax, [esp]          ; the interrupted EIP
    xor ebx, eax
    rol ebx, 3
    iretd

align 8
idt:
    times 0x20 dq 0
    dw (irq - $$ + RAM) & 0xffff, 0x08, 0x8e00, (irq - $$ + RAM) >> 16
                            ; a 32-bit interrupt gate, ring 0
idt_end:
idtr:
    dw idt_end - idt - 1
    dd idt
msg: db "CHAIN DONE", 10, 0
    times 0x2000 - ($ - $$) db 0xff

section f000 start=0x10000 vstart=0xf0000
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
    jmp setup
    times 0xfff0 - ($ - $$) db 0xff
bits 16
reset:
    jmp 0xf000:(start16 - 0xf0000)
    times 0x10000 - ($ - $$) db 0xff
