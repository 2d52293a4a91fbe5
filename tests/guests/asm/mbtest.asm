; SPDX-License-Identifier: GPL-2.0-or-later
;
; A Multiboot (version 1) test kernel that prints what its boot loader
; gave it on COM1, one fact per line, then "MB-DONE" and halts:
;   EAX <magic>            FLAGS <mbi flags>
;   MEM <lower> <upper>    (KiB, when flag 0)
;   CMDLINE <string>       (flag 2)
;   MODS <count>           then per module: MOD <size> <first 8 bytes> <string>
;   MMAP <base> <length> <type>   per entry (flag 6)
;   LOADER <name>          (flag 9)
; Assembled twice (tests/guests/meson.build): as a flat image whose header
; carries the load addresses (flag 16, the "a.out kludge") and, with
; -DELF, as an ELF32 executable whose header lacks them, so that the
; loader must read the program headers.  Multiboot Specification 0.6.96.
bits 32

LOAD    equ 0x100000

%ifdef ELF
        org LOAD - 0x1000           ; the ELF headers are one page before
elf:    db 0x7f, 'ELF', 1, 1, 1, 0
        times 8 db 0
        dw 2                        ; ET_EXEC
        dw 3                        ; EM_386
        dd 1
        dd start                    ; e_entry
        dd phdr - elf               ; e_phoff
        dd 0                        ; e_shoff
        dd 0
        dw 52                       ; e_ehsize
        dw 32                       ; e_phentsize
        dw 1                        ; e_phnum
        dw 0, 0, 0
phdr:   dd 1                        ; PT_LOAD
        dd 0x1000                   ; p_offset
        dd LOAD                     ; p_vaddr
        dd LOAD                     ; p_paddr
        dd image_end - LOAD         ; p_filesz
        dd bss_end - LOAD           ; p_memsz
        dd 7
        dd 0x1000
        times 0x1000 - ($ - elf) db 0
MBFLAGS equ 0x00000003
%else
        org LOAD
MBFLAGS equ 0x00010003
%endif

mbheader:
        dd 0x1badb002
        dd MBFLAGS
        dd -(0x1badb002 + MBFLAGS)
        dd mbheader                 ; header_addr
        dd LOAD                     ; load_addr
        dd image_end                ; load_end_addr
        dd bss_end                  ; bss_end_addr
        dd start                    ; entry_addr

start:
        mov ebp, eax
        mov edx, ebx
        ; The bss must be zero (checked before anything is stored there).
        cld
        mov edi, bss_start
        mov ecx, bss_end - bss_start
        xor al, al
        repe scasb
        jne bss_dirty
        mov esp, stack_top
        mov [saved_eax], ebp
        mov [saved_ebx], edx
        mov esi, s_eax
        call puts
        mov eax, [saved_eax]
        call hex32
        mov esi, s_flags
        call puts
        mov ebx, [saved_ebx]
        mov eax, [ebx]
        call hex32
        call nl
        test dword [ebx], 1
        jz .no_mem
        mov esi, s_mem
        call puts
        mov eax, [ebx + 4]
        call hex32
        call space
        mov eax, [ebx + 8]
        call hex32
        call nl
.no_mem:
        test dword [ebx], 4
        jz .no_cmd
        mov esi, s_cmd
        call puts
        mov esi, [ebx + 16]
        call puts
        call nl
.no_cmd:
        test dword [ebx], 8
        jz .no_mods
        mov esi, s_mods
        call puts
        mov eax, [ebx + 20]
        call hex32
        call nl
        mov ecx, [ebx + 20]
        mov ebp, [ebx + 24]
.mod:
        jecxz .no_mods
        push ecx
        mov esi, s_mod
        call puts
        mov eax, [ebp + 4]
        sub eax, [ebp]
        call hex32
        call space
        mov eax, [ebp]
        test eax, 0xfff             ; page-aligned (flag 0 asks for it)
        jnz mods_unaligned
        mov eax, [eax]
        call hex32
        mov eax, [ebp]
        mov eax, [eax + 4]
        call hex32
        call space
        mov esi, [ebp + 8]
        call puts
        call nl
        add ebp, 16
        pop ecx
        dec ecx
        jmp .mod
.no_mods:
        test dword [ebx], 0x40
        jz .no_mmap
        mov ebp, [ebx + 48]
        mov edi, ebp
        add edi, [ebx + 44]
.mmap:
        cmp ebp, edi
        jae .no_mmap
        mov esi, s_mmap
        call puts
        mov eax, [ebp + 8]
        call hex32
        mov eax, [ebp + 4]
        call hex32
        call space
        mov eax, [ebp + 16]
        call hex32
        mov eax, [ebp + 12]
        call hex32
        call space
        mov eax, [ebp + 20]
        call hex32
        call nl
        add ebp, [ebp]
        add ebp, 4
        jmp .mmap
.no_mmap:
        test dword [ebx], 0x200
        jz .done
        mov esi, s_loader
        call puts
        mov esi, [ebx + 64]
        call puts
        call nl
.done:
        mov esi, s_done
        call puts
halt:
        cli
        hlt
        jmp halt

bss_dirty:
        mov esi, s_bss
        call puts
        jmp halt

mods_unaligned:
        mov esi, s_unaligned
        call puts
        jmp halt

; COM1 output: putc (al), puts (esi), hex32 (eax), space, nl
putc:
        push edx
        push eax
        mov dx, 0x3fd
.wait:  in al, dx
        test al, 0x20
        jz .wait
        pop eax
        mov dx, 0x3f8
        out dx, al
        pop edx
        ret
puts:
        push eax
.next:  lodsb
        test al, al
        jz .end
        call putc
        jmp .next
.end:   pop eax
        ret
hex32:
        push ecx
        push eax
        mov ecx, 8
.digit: rol eax, 4
        push eax
        and al, 15
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'A' - '0' - 10
.out:   call putc
        pop eax
        loop .digit
        pop eax
        pop ecx
        ret
space:
        push eax
        mov al, ' '
        call putc
        pop eax
        ret
nl:
        push eax
        mov al, 10
        call putc
        pop eax
        ret

s_eax:      db 'EAX ', 0
s_flags:    db ' FLAGS ', 0
s_mem:      db 'MEM ', 0
s_cmd:      db 'CMDLINE ', 0
s_mods:     db 'MODS ', 0
s_mod:      db 'MOD ', 0
s_mmap:     db 'MMAP ', 0
s_loader:   db 'LOADER ', 0
s_done:     db 'MB-DONE', 10, 0
s_bss:      db 'BSS-NOT-ZERO', 10, 0
s_unaligned: db 'MOD-UNALIGNED', 10, 0

image_end:
        align 4
bss_start:
        ; not in the file: the loader must zero it
saved_eax   equ bss_start
saved_ebx   equ bss_start + 4
stack_bottom equ bss_start + 16
stack_top   equ stack_bottom + 4096
bss_end     equ stack_top + 4096
