; SPDX-License-Identifier: GPL-2.0-or-later
;
; A boot sector that plays a minimal ACPI OS (for test_acpi_button.py).
; First boot (CMOS byte 0x50 is not 0xa5): it sets that byte, prints
; "ACPI-BOOT1" and resets the machine through the PIIX reset control
; register (0xcf9 = 0x06, a hard reset); SeaBIOS starts again and boots
; this sector a second time.  Second boot: it prints "ACPI-BOOT2", finds the PIIX4 PM I/O base that SeaBIOS programmed (PCI 00:01.3,
; PMBA at config 0x40), turns ACPI on by writing the FADT's ACPI_ENABLE
; value (0xf1) to SMI_CMD (0xb2) and waits for SCI_EN, enables the power
; button event (PWRBTN_EN) and the SCI (IRQ 9, vector 0x71 with SeaBIOS's
; PIC set-up), prints "ACPI-READY" on COM1 and halts.  On the SCI it
; checks PWRBTN_STS, clears it, prints "ACPI-PWRBTN" and enters S5
; (SLP_TYP 0, SLP_EN), which must power the machine off (else it halts
; with interrupts off, and the test times out).
; Build: nasm -f bin acpi-button.asm -o acpi-button.bin

bits 16
org 0x7c00

CMOS_MARK equ 0x50              ; a CMOS byte that SeaBIOS leaves alone

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    cld

    ; Which boot is this?  CMOS RAM survives a reset.
    mov al, CMOS_MARK
    out 0x70, al
    in al, 0x71
    cmp al, 0xa5
    je .second_boot
    mov al, CMOS_MARK
    out 0x70, al
    mov al, 0xa5
    out 0x71, al
    mov si, msg_boot1
    call print
    mov al, 0x02                ; RCR: system reset type "hard" ...
    mov dx, 0xcf9
    out dx, al
    mov al, 0x06                ; ... and the reset itself
    out dx, al
    jmp fail                    ; not reached
.second_boot:
    mov al, CMOS_MARK
    out 0x70, al
    xor al, al
    out 0x71, al
    mov si, msg_boot2
    call print

    ; PMBA of bus 0, device 1, function 3.
    mov eax, 0x80000b40
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    and ax, 0xffc0
    jz fail
    mov [pmbase], ax

    ; ACPI on through SMI_CMD; SCI_EN must follow.
    mov al, 0xf1
    out 0xb2, al
    mov cx, 0xffff
.wait_sci_en:
    mov dx, [pmbase]
    add dx, 4
    in ax, dx
    test al, 1
    jnz .acpi_on
    loop .wait_sci_en
    jmp fail
.acpi_on:

    ; Clear every PM1 status bit, enable only the power button.
    mov dx, [pmbase]
    mov ax, 0xffff
    out dx, ax
    add dx, 2
    mov ax, 0x0100
    out dx, ax

    ; IRQ 9 = slave IRQ 1 = vector 0x71 (SeaBIOS: slave base 0x70).
    mov word [0x71 * 4], sci_handler
    mov word [0x71 * 4 + 2], 0
    in al, 0xa1
    and al, 0xfd
    out 0xa1, al
    in al, 0x21
    and al, 0xfb
    out 0x21, al

    mov si, msg_ready
    call print
    sti
.idle:
    hlt
    jmp .idle

sci_handler:
    pusha
    mov dx, [pmbase]
    in ax, dx
    test ax, 0x0100
    jz .eoi
    out dx, ax                  ; write ones to clear
    mov si, msg_pwrbtn
    call print
    mov dx, [pmbase]
    add dx, 4
    in ax, dx
    and ax, 0xe3ff              ; SLP_TYP = 0 (soft off)
    or ax, 0x2000               ; SLP_EN
    out dx, ax
.off:                           ; the power is gone; halt if it is not
    cli
    hlt
    jmp .off
.eoi:
    mov al, 0x20
    out 0xa0, al
    out 0x20, al
    popa
    iret

fail:
    mov si, msg_fail
    call print
.halt:
    cli
    hlt
    jmp .halt

; Print the NUL-terminated string at ds:si on COM1.
print:
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, 0x3fd
.busy:
    in al, dx
    test al, 0x20
    jz .busy
    mov al, ah
    mov dx, 0x3f8
    out dx, al
    jmp print
.done:
    ret

pmbase:       dw 0
msg_boot1:    db 13, 10, "ACPI-BOOT1", 13, 10, 0
msg_boot2:    db 13, 10, "ACPI-BOOT2", 13, 10, 0
msg_ready:    db "ACPI-READY", 13, 10, 0
msg_pwrbtn:   db "ACPI-PWRBTN", 13, 10, 0
msg_fail:     db 13, 10, "ACPI-FAIL", 13, 10, 0

    times 510 - ($ - $$) db 0
    dw 0xaa55
