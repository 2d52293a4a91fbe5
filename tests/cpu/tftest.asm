; SPDX-License-Identifier: GPL-2.0-or-later
;
; tftest: a one-sector boot program that triple-faults.  SeaBIOS boots it
; from a raw disk; it prints "TFTEST start" on COM1, enters protected
; mode with an empty IDT (limit 0) and executes INT3: the #GP for the
; vector beyond the IDT limit cannot be delivered either, so the CPU
; raises #DF, which fails the same way: shutdown (SDM Vol. 3A 6.15,
; "Interrupt 8").  The PC turns the shutdown into a reset, so SeaBIOS
; boots this sector again and it prints its banner a second time; with
; -no-reboot the emulator exits instead.
;
; Build: nasm -f bin tftest.asm -o tftest.img

        bits 16
        org 0x7c00

        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7000
        mov si, msg
.p:     lodsb
        test al, al
        jz .done
        mov bl, al
        mov dx, 0x3fd
.w:     in al, dx
        test al, 0x20
        jz .w
        mov al, bl
        mov dx, 0x3f8
        out dx, al
        jmp .p
.done:  lgdt [gdtr]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword 0x08:pm32

        bits 32
pm32:   mov ax, 0x10
        mov ds, ax
        mov ss, ax
        mov esp, 0x7000
        lidt [idtr]
        int3                            ; #GP -> #DF -> shutdown
        mov dx, 0x3f8                   ; never reached
        mov al, '!'
        out dx, al
.h:     hlt
        jmp .h

        align 8
gdt:    dq 0
        dq 0x00cf9a000000ffff
        dq 0x00cf92000000ffff
gdtr:   dw 3 * 8 - 1
        dd gdt
idtr:   dw 0
        dd 0
msg:    db "TFTEST start", 13, 10, 0

        times 510 - ($ - $$) db 0
        dw 0xaa55
        times 512 db 0
