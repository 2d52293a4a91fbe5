; SPDX-License-Identifier: GPL-2.0-or-later
;
; Mimic's Multiboot (version 1) loader option ROM (genroms/multiboot.bin).
;
; SeaBIOS runs it as a boot entry, like linuxboot.asm.  The board
; (pc/multiboot.c) prepared three items behind fw_cfg: the low block (a
; flat GDT, its GDTR, a 32-bit entry stub and the Multiboot information
; structure with its strings, at MB_LOW), the kernel image (its load
; address, its size including the zeroed bss) and the modules.  This ROM
; copies them with fw_cfg DMA, asks the BIOS for the memory map (INT 15h
; E820) into the information structure's mmap buffer, then enters
; protected mode and jumps to the stub, which loads flat segments, sets
; EAX = 0x2BADB002 and EBX = the information structure and jumps to the
; kernel's entry point (Multiboot Specification 0.6.96, section 3.2).

bits 16
org 0


MB_LOW          equ 0x8000          ; keep in step with pc/multiboot.c
MB_GDTR         equ MB_LOW + 0x18
MB_STUB         equ MB_LOW + 0x20
MB_INFO         equ MB_LOW + 0x100
MB_MMAP         equ 0x9000
MB_MMAP_MAX     equ 64              ; entries of 24 bytes

%include "fwcfg.inc"

name:   db 'Multiboot kernel', 0

bev:
        cli
        cld
        xor ax, ax
        mov ss, ax
        mov sp, 0x7a00
        LOAD 0x16, 0x17, 0x18       ; the low block
        LOAD 0x07, 0x08, 0x11       ; the kernel
        LOAD 0x0a, 0x0b, 0x12       ; the modules
        ; The memory map, as the BIOS reports it, in Multiboot's layout:
        ; each entry is its size (20) followed by the E820 entry.
        xor ax, ax
        mov es, ax
        mov ds, ax
        mov di, MB_MMAP + 4
        xor ebx, ebx
        xor si, si                  ; bytes of mmap so far
.e820:
        mov eax, 0xe820
        mov edx, 0x534d4150         ; 'SMAP'
        mov ecx, 20
        int 0x15
        jc .mapped
        cmp eax, 0x534d4150
        jne .mapped
        ; mem_lower and mem_upper: the usable RAM at 0 and at 1 MiB, as
        ; the map says (firmware keeps tables at the top of RAM).
        cmp dword [di + 16], 1
        jne .sized
        cmp dword [di + 4], 0
        jne .sized
        mov eax, [di + 8]
        shr eax, 10
        cmp dword [di], 0
        jne .upper
        mov [MB_INFO + 4], eax
.upper:
        cmp dword [di], 0x100000
        jne .sized
        mov [MB_INFO + 8], eax
.sized:
        mov dword [di - 4], 20
        add di, 24
        add si, 24
        test ebx, ebx
        jz .mapped
        cmp si, MB_MMAP_MAX * 24
        jb .e820
.mapped:
        movzx eax, si
        mov [MB_INFO + 44], eax     ; mmap_length
        test eax, eax
        jnz .pm
        and byte [MB_INFO], ~0x40   ; no map: clear flag 6
.pm:
        cli
        o32 lgdt [MB_GDTR]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword 0x08:MB_STUB

        times 511 - ($ - $$) db 0
        db 0                        ; checksum, set by the board
