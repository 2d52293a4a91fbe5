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

%include "fwcfg.inc"

name:   db 'Linux (direct kernel boot)', 0

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
