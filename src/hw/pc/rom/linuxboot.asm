; SPDX-License-Identifier: GPL-2.0-or-later
;
; Mimic's Linux loader option ROM (genroms/linuxboot.bin).
;
; SeaBIOS runs it as a boot entry (the PnP header's bootstrap entry
; vector).  It copies the four items the board prepared through fw_cfg's
; DMA interface to the addresses fw_cfg names - the real-mode setup code
; (its header already filled in by the board, Linux boot protocol 2.02+),
; the protected-mode kernel, the initrd and the command line - and jumps
; to the setup code at (setup segment + 0x20):0 with the stack at the top
; of the setup segment, as Documentation/arch/x86/boot.rst describes.

bits 16
org 0

FW_CFG_SEL      equ 0x510
FW_CFG_DATA     equ 0x511
FW_CFG_DMA_HI   equ 0x514
FW_CFG_DMA_LO   equ 0x518
DESC            equ 0x7b00          ; DMA descriptor, physical address

rom_start:
        db 0x55, 0xaa
        db 1                        ; 512 bytes
        jmp short init
        times 0x18 - ($ - $$) db 0
        dw 0                        ; no PCI data structure
        dw pnp                      ; PnP expansion header

init:
        retf

pnp:
        db '$PnP'
        db 1                        ; revision
        db 2                        ; length / 16
        dw 0                        ; next header
        db 0
        db 0                        ; checksum (not used by SeaBIOS)
        dd 0                        ; device id
        dw 0                        ; manufacturer string
        dw name                     ; product name string
        db 0, 0, 0                  ; device type
        db 0x14                     ; indicators: boot device, IPL
        dw 0                        ; boot connection vector
        dw 0                        ; disconnect vector
        dw bev                      ; bootstrap entry vector
        dw 0
        dw 0

name:   db 'Linux (direct kernel boot)', 0

; in: ax = key; out: eax = little-endian dword item value
read32:
        mov dx, FW_CFG_SEL
        out dx, ax
        mov dx, FW_CFG_DATA
        in al, dx
        mov bl, al
        in al, dx
        mov bh, al
        in al, dx
        mov cl, al
        in al, dx
        mov ch, al
        movzx eax, cx
        shl eax, 16
        mov ax, bx
        ret

; in: si = key, edi = destination, ecx = length; DMA read
dma:
        jecxz .done
        xor ax, ax
        mov es, ax
        movzx edx, si
        shl edx, 16
        or edx, 0x0a                ; SELECT | READ
        bswap edx
        mov [es:DESC], edx
        bswap ecx
        mov [es:DESC + 4], ecx
        mov dword [es:DESC + 8], 0
        mov eax, edi
        bswap eax
        mov [es:DESC + 12], eax
        mov dx, FW_CFG_DMA_HI
        xor eax, eax
        out dx, eax
        mov eax, DESC
        bswap eax
        mov dx, FW_CFG_DMA_LO
        out dx, eax
.done:
        ret

; load(addr_key, size_key, data_key)
%macro LOAD 3
        mov ax, %1
        call read32
        push eax
        mov ax, %2
        call read32
        mov ecx, eax
        pop edi
        mov si, %3
        call dma
%endmacro

bev:
        cli
        cld
        xor ax, ax
        mov ss, ax
        mov sp, 0x7a00
        LOAD 0x07, 0x08, 0x11       ; kernel
        LOAD 0x0a, 0x0b, 0x12       ; initrd
        LOAD 0x13, 0x14, 0x15       ; command line
        LOAD 0x16, 0x17, 0x18       ; setup code
        mov ax, 0x16
        call read32
        shr eax, 4
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov sp, 0xfff0
        add ax, 0x20
        push ax
        push word 0
        retf

        times 511 - ($ - $$) db 0
        db 0                        ; checksum, set by the board
