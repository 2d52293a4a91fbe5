; SPDX-License-Identifier: GPL-2.0-or-later
;
; A boot sector that sets a graphics mode through the VGA BIOS, draws a
; pattern the test can recompute, reports on COM1 and halts.
;
; Default build: VBE.  INT 10h AX=4F00 gives the mode list; AX=4F01 finds
; a 640x480 mode with 32 bits per pixel and a linear framebuffer; AX=4F02
; sets it with bit 14 (LFB).  The pattern is drawn through the LFB from
; flat protected mode: pixel (x, y) = R x&255, G y&255, B 0x80.
;
; -DMODE12: INT 10h AX=0012h (640x480x16 planar), attribute i -> DAC i,
; DAC i = (4i, 63-4i, 2i), write mode 2: pixel (x, y) = ((x>>3) + y) & 15.
;
; -DMODE13: INT 10h AX=0013h, DAC entry i = (i>>2, (255-i)>>2, 32) in
; 6-bit values, pixel (x, y) = (x + 2y) & 255 at a000:0.
;
; COM1 gets "VGA-TEST OK" when the picture is complete, or
; "VGA-TEST FAIL" when the BIOS refused.
bits 16
org 0x7c00

VBEINFO equ 0x8000
MODEINFO equ 0x8200

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    cld
    ; COM1: 115200 8N1
    mov dx, 0x3fb
    mov al, 0x80
    out dx, al
    mov dx, 0x3f8
    mov al, 1
    out dx, al
    inc dx
    xor al, al
    out dx, al
    mov dx, 0x3fb
    mov al, 3
    out dx, al

%ifdef MODE12
    mov ax, 0x0012
    int 0x10
    ; attribute palette i -> DAC i, DAC i = (4i, 63 - 4i, 2i)
    mov dx, 0x3da
    in al, dx
    mov dx, 0x3c0
    xor cx, cx
.attr:
    mov al, cl
    out dx, al
    out dx, al
    inc cx
    cmp cx, 16
    jne .attr
    mov al, 0x20
    out dx, al
    mov dx, 0x3c8
    xor al, al
    out dx, al
    inc dx
    xor cx, cx
.dac12:
    mov al, cl
    shl al, 2
    out dx, al
    mov al, 63
    sub al, cl
    sub al, cl
    sub al, cl
    sub al, cl
    out dx, al
    mov al, cl
    shl al, 1
    out dx, al
    inc cx
    cmp cx, 16
    jne .dac12
    ; write mode 2: each byte written sets 8 pixels to its low 4 bits
    mov dx, 0x3ce
    mov ax, 0x0205
    out dx, ax
    mov ax, 0xff08
    out dx, ax
    mov ax, 0xa000
    mov es, ax
    xor di, di
    xor bx, bx
.row12:
    xor cx, cx
.col12:
    mov al, cl
    add al, bl
    mov ah, [es:di]              ; load the latches
    stosb
    inc cx
    cmp cx, 80
    jne .col12
    inc bx
    cmp bx, 480
    jne .row12
    mov si, msg_ok
    call puts16
    jmp halt16
%elifdef MODE13
    mov ax, 0x0013
    int 0x10
    mov dx, 0x3c8
    xor al, al
    out dx, al
    inc dx
    xor cx, cx
.dac:
    mov al, cl
    shr al, 2
    out dx, al
    mov al, 255
    sub al, cl
    shr al, 2
    out dx, al
    mov al, 32
    out dx, al
    inc cx
    cmp cx, 256
    jne .dac
    mov ax, 0xa000
    mov es, ax
    xor di, di
    xor bx, bx
.row:
    xor cx, cx
.col:
    mov ax, bx
    add ax, ax
    add ax, cx
    stosb
    inc cx
    cmp cx, 320
    jne .col
    inc bx
    cmp bx, 200
    jne .row
    mov si, msg_ok
    call puts16
    jmp halt16
%else
    mov di, VBEINFO
    mov dword [di], 'VBE2'
    mov ax, 0x4f00
    int 0x10
    cmp ax, 0x004f
    jne fail
    mov si, [VBEINFO + 14]
    mov ax, [VBEINFO + 16]
    mov fs, ax
.next:
    mov cx, [fs:si]
    cmp cx, 0xffff
    je fail
    add si, 2
    push si
    push fs
    push cx
    mov ax, 0x4f01
    mov di, MODEINFO
    int 0x10
    pop cx
    pop fs
    pop si
    cmp ax, 0x004f
    jne .next
    test byte [MODEINFO], 0x80        ; linear framebuffer available
    jz .next
    cmp word [MODEINFO + 18], 640
    jne .next
    cmp word [MODEINFO + 20], 480
    jne .next
    cmp byte [MODEINFO + 25], 32
    jne .next
    mov bx, cx
    or bx, 0x4000
    mov ax, 0x4f02
    int 0x10
    cmp ax, 0x004f
    jne fail

    cli
    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm

bits 32
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov edi, [MODEINFO + 40]          ; PhysBasePtr
    movzx ebp, word [MODEINFO + 16]   ; BytesPerScanLine
    xor ebx, ebx
.row:
    xor ecx, ecx
    mov esi, edi
.col:
    movzx eax, cl
    shl eax, 8
    mov al, bl
    shl eax, 8
    mov al, 0x80
    mov [esi], eax
    add esi, 4
    inc ecx
    cmp ecx, 640
    jne .col
    add edi, ebp
    inc ebx
    cmp ebx, 480
    jne .row
    mov esi, msg_ok
.puts:
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov al, ah
    mov dx, 0x3f8
    out dx, al
    jmp .puts
.done:
    cli
    hlt
    jmp .done

bits 16
gdt:
    dq 0
    dq 0x00cf9a000000ffff
    dq 0x00cf92000000ffff
gdtr:
    dw gdtr - gdt - 1
    dd gdt
%endif

fail:
    mov si, msg_fail
    call puts16
halt16:
    cli
    hlt
    jmp halt16

puts16:
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov al, ah
    mov dx, 0x3f8
    out dx, al
    jmp puts16
.done:
    ret

msg_ok: db "VGA-TEST OK", 13, 10, 0
msg_fail: db "VGA-TEST FAIL", 13, 10, 0

    times 510 - ($ - $$) db 0
    dw 0xaa55
