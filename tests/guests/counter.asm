; SPDX-License-Identifier: GPL-2.0-or-later
; A deterministic test guest: a boot sector that counts on COM1.
; Each round it reads LBA 1 (through the BIOS), prints "N D\n" where N is
; its counter (kept in RAM) and D the number it found on the disk, then
; writes N to LBA 1.  A resumed machine continues with N+1; after loadvm
; the disk holds the snapshot's N again.  Built with nasm by the tests.
bits 16
org 0x7c00
start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    mov [drive], dl
    sti
    mov dword [count], 0
next:
    inc dword [count]
    mov ax, 0x0201            ; read 1 sector: C0 H0 S2 = LBA 1
    call disk
    mov eax, [count]
    call print_dec
    mov al, ' '
    call putc
    mov eax, [sector]
    call print_dec
    mov al, 10
    call putc
    mov eax, [count]
    mov [sector], eax
    mov ax, 0x0301            ; write it back
    call disk
    mov ecx, 20000
.delay:
    dec ecx
    jnz .delay
    jmp next

disk:
    mov cx, 0x0002
    xor dh, dh
    mov dl, [drive]
    mov bx, sector
    int 0x13
    ret

print_dec:                    ; eax
    mov di, buf + 10
.digit:
    dec di
    xor edx, edx
    mov ecx, 10
    div ecx
    add dl, '0'
    mov [di], dl
    test eax, eax
    jnz .digit
.out:
    mov al, [di]
    call putc
    inc di
    cmp di, buf + 10
    jb .out
    ret

putc:                         ; al
    push dx
    push ax
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop ax
    mov dx, 0x3f8
    out dx, al
    pop dx
    ret

drive: db 0
count: dd 0
buf: times 11 db 0
times 510 - ($ - $$) db 0
dw 0xaa55
sector:                       ; the 512-byte buffer right after the sector
