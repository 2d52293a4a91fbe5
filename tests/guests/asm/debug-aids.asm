; SPDX-License-Identifier: GPL-2.0-or-later
; A 128 KiB "BIOS" (-bios) for the debugging aids test
; (tests/guests/test_debug_aids.py): from the reset vector it installs
; three IVT handlers, takes a software interrupt (INT 20h), a #UD (UD2)
; and a #DE (DIV by zero) at fixed addresses, prints "DEBUG-AIDS READY"
; on COM1, loads known values into EAX/EBX and halts with IF=0, so that
; the -d in_asm,int,cpu log stays short and the monitor sees a fixed
; state.  Fixed layout in segment F000 (linear 0xF0000 + offset):
;   0x0100 start, 0x0200 the three traps, 0x0300 marker, 0x0320 hang.
bits 16
    times 0x10000 db 0xff           ; the first 64 KiB (E000) unused

section seg_f000 vstart=0
    times 0x100 db 0x90
start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ds, ax
    mov word [0x00 * 4], de_handler
    mov word [0x00 * 4 + 2], 0xf000
    mov word [0x06 * 4], ud_handler
    mov word [0x06 * 4 + 2], 0xf000
    mov word [0x20 * 4], int20_handler
    mov word [0x20 * 4 + 2], 0xf000
    xor dx, dx
    mov ax, 1
    xor cx, cx
    jmp traps

    times 0x200 - ($ - $$) db 0x90
traps:
    int 0x20                        ; 0x200: software interrupt
    ud2                             ; 0x202: #UD, skipped by the handler
    div cx                          ; 0x204: #DE, skipped by the handler
    mov si, msg
    call puts
    jmp marker

puts:                               ; CS:SI, NUL-terminated, to COM1
    cs lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, 0x3f8
    mov al, ah
    out dx, al
    jmp puts
.done:
    ret

skip2:                              ; return past a 2-byte instruction
    push bp
    mov bp, sp
    add word [bp + 4], 2
    pop bp
    ret
ud_handler:
    call skip2
    iret
de_handler:
    call skip2
    iret
int20_handler:
    mov di, 0x2020
    iret

msg: db "DEBUG-AIDS READY", 13, 10, 0

    times 0x300 - ($ - $$) db 0x90
marker:
    mov eax, 0x12345678             ; 0x300
    mov ebx, 0xcafef00d             ; 0x306
    xor ecx, ecx                    ; 0x30c
    jmp hang

    times 0x320 - ($ - $$) db 0x90
hang:
    hlt                             ; 0x320
    jmp hang                        ; 0x321

    times 0xfff0 - ($ - $$) db 0xff
reset:
    jmp 0xf000:start                ; 0xfff0
    times 0x10000 - ($ - $$) db 0xff
