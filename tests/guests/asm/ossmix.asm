; SPDX-License-Identifier: GPL-2.0-or-later
;
; A static i386 Linux program, hand-assembled as a whole ELF file, for
; test_sound_linux.py: it opens /dev/mixer (ALSA's OSS mixer emulation)
; and sets the master volume to 100% and PCM to the percentage given as
; its first argument (default 75: 0 dB on an AC'97 codec, whose PCM out
; has 5 bits with +12 dB at the top; 100 for a Sound Blaster 16), which
; also unmutes them: ALSA drivers load with their mixers muted.  A second
; argument, if any, is the capture gain (SOUND_MIXER_WRITE_IGAIN, ALSA's
; "Capture" control).  Exit status 0 on success.
; Build: nasm -f bin ossmix.asm -o ossmix
; (ELF format: the System V ABI i386 supplement, program header PT_LOAD;
;  OSS: soundcard.h SOUND_MIXER_WRITE_VOLUME/PCM/IGAIN = _IOWR('M', 0/4/12, int).)

bits 32
org 0x08048000

ehdr:
    db 0x7f, "ELF", 1, 1, 1, 0      ; 32-bit, little-endian, version 1
    times 8 db 0
    dw 2                            ; ET_EXEC
    dw 3                            ; EM_386
    dd 1
    dd start
    dd phdr - ehdr
    dd 0                            ; no section headers
    dd 0
    dw phdr - ehdr                  ; header size (52)
    dw 32                           ; program header size
    dw 1
    dw 0, 0, 0
phdr:
    dd 1                            ; PT_LOAD
    dd 0                            ; from offset 0 ...
    dd ehdr                         ; ... at the image base
    dd ehdr
    dd file_end - ehdr
    dd file_end - ehdr
    dd 5                            ; R+X
    dd 0x1000

SYS_EXIT equ 1
SYS_OPEN equ 5
SYS_IOCTL equ 54
MIXER_WRITE_VOLUME equ 0xc0044d00
MIXER_WRITE_PCM equ 0xc0044d04
MIXER_WRITE_IGAIN equ 0xc0044d0c

start:
    mov edi, 75                     ; PCM percentage
    mov esi, -1                     ; capture percentage: not set
    cmp dword [esp], 2              ; argc
    jb .open
    mov esi, [esp + 8]              ; argv[1]: decimal digits
    call number
    mov edi, eax
    mov esi, -1
    cmp dword [esp], 3
    jb .open
    mov esi, [esp + 12]             ; argv[2]: the capture gain
    call number
    mov esi, eax
.open:
    mov eax, SYS_OPEN
    mov ebx, path
    mov ecx, 2                      ; O_RDWR
    int 0x80
    test eax, eax
    js fail
    mov ebp, eax
    push dword 100 | 100 << 8       ; left | right << 8
    mov eax, SYS_IOCTL
    mov ebx, ebp
    mov ecx, MIXER_WRITE_VOLUME
    mov edx, esp
    int 0x80
    test eax, eax
    js fail
    mov eax, edi                    ; left | right << 8
    shl eax, 8
    or eax, edi
    mov [esp], eax
    mov eax, SYS_IOCTL
    mov ebx, ebp
    mov ecx, MIXER_WRITE_PCM
    mov edx, esp
    int 0x80
    test eax, eax
    js fail
    test esi, esi
    js .done
    mov eax, esi                    ; left | right << 8
    shl eax, 8
    or eax, esi
    mov [esp], eax
    mov eax, SYS_IOCTL
    mov ebx, ebp
    mov ecx, MIXER_WRITE_IGAIN
    mov edx, esp
    int 0x80
    test eax, eax
    js fail
.done:
    mov eax, SYS_EXIT
    xor ebx, ebx
    int 0x80
fail:
    mov eax, SYS_EXIT
    mov ebx, 1
    int 0x80

; The decimal number at esi, in eax (stops at the first non-digit).
number:
    xor eax, eax
.digit:
    movzx edx, byte [esi]
    sub edx, '0'
    cmp edx, 9
    ja .end
    imul eax, eax, 10
    add eax, edx
    inc esi
    jmp .digit
.end:
    ret

path: db "/dev/mixer", 0
file_end:
