; SPDX-License-Identifier: GPL-2.0-or-later
;
; mmtest: a bare test kernel for memory management and exceptions, on a
; raw disk image booted by SeaBIOS (like pmtest.asm).  The boot sector
; loads the rest with INT 13h (AH=42h) to 0x7e00, enters 32-bit protected
; mode and runs check groups.  Each group prints one line on COM1,
;   "mmtest: <group> ok"  or  "mmtest: <group> FAIL <what> <details>",
; and the last line is "MMTEST OK groups=N" or "MMTEST FAIL <group>
; <what> <details>" (the first failure).  A failing group does not stop
; the others: every group starts from a reset state (paging off, CR4 0,
; flat segments, a fresh IDT).
;
; Exceptions go through one handler that records vector, error code,
; EIP, CS, EFLAGS, (ESP, SS from ring 3), the handler's ESP and CR2, then
; resumes the test at the label given by TRY with the test's ESP.  All
; expected values follow the Intel SDM Vol. 3A (chapters 3-6: segment
; checks, paging, the error codes, fault vs trap EIPs, double fault).
;
; Build: nasm -f bin mmtest.asm -o mmtest.img
;
; Memory: image 0x7c00-0xfbff; stacks: main 0x7000, ring 3 0x6000, ring 0
; from the TSS 0x5800, SYSENTER 0x4800; IDT 0x20000; TSS 0x21000; paging
; structures 0x100000-0x106fff; test frames 0x200000-0x202fff, 2 MiB page
; 0x600000, 4 MiB page 0x800000.

%define IDT         0x20000
%define TSS         0x21000
%define TSS_X       0x21100     ; the exception task
%define PD          0x100000
%define PT0         0x101000
%define PT1         0x102000
%define PDPT        0x103000
%define XPD         0x104000
%define XPT0        0x105000
%define XPT1        0x106000
%define FR_A        0x200000
%define FR_B        0x201000
%define FR_C        0x202000
%define BIG2M       0x600000
%define BIG4M       0x800000
%define STK_MAIN    0x7000
%define STK_R3      0x6000
%define STK_R0      0x5800
%define STK_SE      0x4800
%define STK_X       0x3800
%define SECTORS     95

%define MARK_A      0xaaaa0001
%define MARK_B      0xbbbb0002
%define MARK_C      0xcccc0003
%define MARK_2M     0x22220004
%define MARK_4M     0x44440005

%define SEL_CODE    0x08
%define SEL_DATA    0x10
%define SEL_CODE3   0x18
%define SEL_DATA3   0x20
%define SEL_TSS     0x28
%define SEL_LIM     0x30        ; data, limit 0xfff
%define SEL_SLIM    0x38        ; data, limit 0x7fff (a stack)
%define SEL_ED32    0x40        ; expand-down, limit 0xfff, B=1
%define SEL_ED16    0x48        ; expand-down, limit 0xfff, B=0
%define SEL_CONF    0x50        ; conforming code, DPL 0
%define SEL_NP      0x58        ; data, not present
%define SEL_XO      0x60        ; execute-only code
%define SEL_RO      0x68        ; read-only data
%define SEL_SED     0x70        ; expand-down stack, limit 0x5fff, B=1
%define SEL_TSS_X   0x78        ; the exception task's TSS
%define SEL_CLIM    0x80        ; code, limit 0xffff
%define SEL_CGATE   0x88        ; call gate, DPL 3 (filled at run time)
%define SEL_CNP     0x90        ; code, not present
%define SEL_TSS_S   0x98        ; a TSS descriptor with limit 0x20
%define SEL_TSS_NP  0xa0        ; a TSS descriptor, not present
%define SEL_HI      0xa8        ; data, base 0x400000, limit 0xfff
%define GDT_LIMIT   0xaf

        bits 16
        org 0x7c00

boot:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7000
        mov si, dap
        mov ah, 0x42
        int 0x13
        jc .ioerr
        jmp 0:stage2
.ioerr:
        mov si, msg_ioerr
.p:     lodsb
        test al, al
        jz .h
        mov dx, 0x3f8
        out dx, al
        jmp .p
.h:     hlt
        jmp .h

dap:    db 0x10, 0
        dw SECTORS
        dw 0, 0x07e0
        dq 1
msg_ioerr: db "MMTEST FAIL disk read", 13, 10, 0

        times 510 - ($ - $$) db 0
        dw 0xaa55

; ---------------------------------------------------------------------
stage2:
        lgdt [gdtr]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword SEL_CODE:pm32

        align 8
gdt:
        dq 0
        dq 0x00cf9a000000ffff           ; 0x08 code, flat, DPL 0
        dq 0x00cf92000000ffff           ; 0x10 data, flat, DPL 0
        dq 0x00cffa000000ffff           ; 0x18 code, flat, DPL 3
        dq 0x00cff2000000ffff           ; 0x20 data, flat, DPL 3
        dw 0x67, TSS & 0xffff           ; 0x28 32-bit TSS
        db (TSS >> 16) & 0xff, 0x89, 0, 0
        dq 0x0040920000000fff           ; 0x30 data, limit 0xfff
        dq 0x0040920000007fff           ; 0x38 data, limit 0x7fff, B=1
        dq 0x0040960000000fff           ; 0x40 expand-down, B=1
        dq 0x0000960000000fff           ; 0x48 expand-down, B=0
        dq 0x00cf9e000000ffff           ; 0x50 conforming code, DPL 0
        dq 0x00cf12000000ffff           ; 0x58 data, not present
        dq 0x00cf98000000ffff           ; 0x60 execute-only code
        dq 0x00cf90000000ffff           ; 0x68 read-only data
        dq 0x0040960000005fff           ; 0x70 expand-down, B=1
        dw 0x67, TSS_X & 0xffff         ; 0x78 32-bit TSS
        db (TSS_X >> 16) & 0xff, 0x89, 0, 0
        dq 0x00409a000000ffff           ; 0x80 code, limit 0xffff
        dq 0                            ; 0x88 call gate
        dq 0x00cf1a000000ffff           ; 0x90 code, not present
        dw 0x20, TSS_X & 0xffff         ; 0x98 TSS, limit too small
        db (TSS_X >> 16) & 0xff, 0x89, 0, 0
        dw 0x67, TSS_X & 0xffff         ; 0xa0 TSS, not present
        db (TSS_X >> 16) & 0xff, 0x09, 0, 0
        dq 0x0040924000000fff           ; 0xa8 data, base 0x400000
gdt_end:
%if gdt_end - gdt - 1 != GDT_LIMIT
%error GDT_LIMIT
%endif
gdtr:   dw GDT_LIMIT
        dd gdt
idtr:   dw 256 * 8 - 1
        dd IDT

; ---- macros ---------------------------------------------------------
; Run the following code; an exception resumes at %1 with this ESP.
%macro TRY 1
        mov dword [exc_vec], -1
        mov dword [exc_count], 0
        mov [rec_esp], esp
        mov dword [recover], %1
%endmacro

; Check the outcome of a TRY: what, vector (-1: none), error code, EIP,
; CR2 (-1: not checked).
%macro EXPECT 5
        push dword %5
        push dword %4
        push dword %3
        push dword %2
        push dword %%s
        call expect
        jmp %%o
%%s:    db %1, 0
%%o:
%endmacro

; EAX must equal %2.
%macro CHK 2
        cmp eax, %2
        je %%ok
        mov ebx, %2
        mov esi, %%s
        jmp chk_fail
%%s:    db %1, 0
%%ok:
%endmacro

; Run a group: name, function.
%macro GROUP 2
        mov dword [cur_name], %%n
        mov dword [cur_fn], %2
        call run_group
        jmp %%o
%%n:    db %1, 0
%%o:
%endmacro

; Continue in ring 3 (CS 0x1b, SS:ESP 0x23:STK_R3, EFLAGS 2, DS=ES=0x23).
%macro RING3 0
        push dword SEL_DATA3 | 3
        push dword STK_R3
        push dword 2
        push dword SEL_CODE3 | 3
        push dword %%r3
        iretd
%%r3:   mov ax, SEL_DATA3 | 3
        mov ds, ax
        mov es, ax
%endmacro

; ---------------------------------------------------------------------
        bits 32
pm32:
        mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, STK_MAIN
        cld
        mov esi, msg_hello
        call puts

        ; the TSS: ring-0 stack for interrupts from ring 3, no I/O map
        mov edi, TSS
        mov ecx, 0x68 / 4
        xor eax, eax
        rep stosd
        mov dword [TSS + 4], STK_R0
        mov dword [TSS + 8], SEL_DATA
        mov word [TSS + 0x66], 0x68
        mov ax, SEL_TSS
        ltr ax

        GROUP "cpuid", g_cpuid
        GROUP "exc-fault-trap", g_fault_trap
        GROUP "exc-lock", g_lock
        GROUP "exc-double-fault", g_df
        GROUP "exc-sysenter", g_sysenter
        GROUP "seg-load", g_seg_load
        GROUP "seg-priv", g_seg_priv
        GROUP "seg-conforming", g_conforming
        GROUP "seg-tss-stack", g_tss_stack
        GROUP "seg-limit", g_seg_limit
        GROUP "seg-expand-down", g_expdown
        GROUP "seg-null-use", g_null_use
        GROUP "seg-cs-limit", g_cs_limit
        GROUP "seg-far", g_far
        GROUP "exc-task-checks", g_ts
        GROUP "exc-ac", g_ac
        GROUP "exc-gates", g_gates
        GROUP "exc-privileged", g_priv
        GROUP "exc-msr-cr", g_msr_cr
        GROUP "exc-df-task", g_df_task
        GROUP "seg-stack-push", g_stack_push
        GROUP "pg-4k", g_pg4k
        GROUP "pg-wp", g_pgwp
        GROUP "pg-user", g_pguser
        GROUP "pg-pse", g_pse
        GROUP "pg-pae", g_pae
        GROUP "pg-pae-rsvd", g_pae_rsvd
        GROUP "pg-fault-state", g_fault_state
        GROUP "exc-pf-in-delivery", g_pf_delivery
        GROUP "pg-seg-order", g_seg_order
        GROUP "pg-invlpg", g_invlpg
        GROUP "pg-global", g_global
        GROUP "pg-pdpte-rsvd", g_pdpte_rsvd
        GROUP "pg-pse-rsvd", g_pse_rsvd
        GROUP "exc-ac-sizes", g_ac_sizes
        GROUP "exc-ss-switch", g_ss_switch
        GROUP "exc-priority", g_priority

        cmp dword [groups_failed], 0
        jne .failed
        mov esi, msg_ok
        call puts
        mov eax, [groups_ok]
        call putdec
        mov esi, msg_nl
        call puts
        jmp halt
.failed:
        mov esi, msg_final_fail
        call puts
        mov esi, failbuf
        call puts
        mov esi, msg_nl
        call puts
halt:   cli
        hlt
        jmp halt

; ---- the group machinery --------------------------------------------
run_group:
        pop dword [group_ret]
        mov esp, STK_MAIN
        call group_reset
        call [cur_fn]
        mov esp, STK_MAIN
        call group_reset
        mov esi, msg_pre
        call puts
        mov esi, [cur_name]
        call puts
        mov esi, msg_grp_ok
        call puts
        inc dword [groups_ok]
        jmp [group_ret]

; Paging off, CR4 0, GDT/IDT reloaded, flat segments, CPL 0.
group_reset:
        cli
        lgdt [cs:gdtr]
        mov eax, cr0
        and eax, ~0x80010000            ; PG, WP
        mov cr0, eax
        jmp SEL_CODE:.cs
.cs:    mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        xor eax, eax
        mov cr4, eax
        mov cr3, eax
        mov dword [recover], 0
        mov dword [TSS + 4], STK_R0
        mov dword [TSS + 8], SEL_DATA
        call build_idt
        lidt [idtr]
        ret

; "mmtest: <group> FAIL "; the first failure is also kept in failbuf
; ("<group> " and whatever is printed until fail_end).
fail_begin:
        mov esi, msg_pre
        call puts
        mov esi, [cur_name]
        call puts
        mov esi, msg_grp_fail
        call puts
        cmp dword [groups_failed], 0
        jne .r
        mov edi, failbuf
        mov esi, [cur_name]
.c:     lodsb
        test al, al
        jz .e
        stosb
        jmp .c
.e:     mov al, ' '
        stosb
        mov byte [edi], 0
        mov [capture], edi
.r:     ret

fail_end:
        mov dword [capture], 0
        mov esi, msg_nl
        call puts
        inc dword [groups_failed]
        mov esp, STK_MAIN
        call group_reset
        jmp [group_ret]

; EAX (got) != EBX (wanted); ESI = what.
chk_fail:
        mov esp, STK_MAIN
        push ebx
        push eax
        push esi
        call fail_begin
        pop esi
        call puts
        mov esi, msg_got
        call puts
        pop eax
        call puthex
        mov esi, msg_want
        call puts
        pop eax
        call puthex
        jmp fail_end

; [esp+4] what, [esp+8] vector, [esp+12] error, [esp+16] EIP, [esp+20] CR2
expect:
        mov dword [recover], 0
        mov eax, [esp + 8]
        cmp eax, [exc_vec]
        jne .bad
        cmp eax, -1
        je .ok
        cmp dword [exc_count], 1
        jne .bad
        mov eax, [esp + 12]
        cmp eax, -1
        je .e1
        cmp eax, [exc_err]
        jne .bad
.e1:    mov eax, [esp + 16]
        cmp eax, -1
        je .e2
        cmp eax, [exc_eip]
        jne .bad
.e2:    mov eax, [esp + 20]
        cmp eax, -1
        je .ok
        cmp eax, [exc_cr2]
        jne .bad
.ok:    ret 20
.bad:   mov esi, [esp + 4]
        mov esp, STK_MAIN
        push esi
        call fail_begin
        pop esi
        call puts
        call put_exc
        jmp fail_end

; " vec=.. err=.. eip=.. cr2=.. n=.."
put_exc:
        mov esi, msg_vec
        call puts
        mov eax, [exc_vec]
        call puthex
        mov esi, msg_err
        call puts
        mov eax, [exc_err]
        call puthex
        mov esi, msg_eip
        call puts
        mov eax, [exc_eip]
        call puthex
        mov esi, msg_cr2
        call puts
        mov eax, [exc_cr2]
        call puthex
        mov esi, msg_n
        call puts
        mov eax, [exc_count]
        call putdec
        ret

; ---- the exception handler ------------------------------------------
; Stubs push (0 for vectors without an error code) and the vector.
exc_common:
        pushfd                          ; the handler's EFLAGS
        mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        pop dword [exc_hefl]
        lea eax, [esp + 8]
        mov [exc_hesp], eax
        pop dword [exc_vec]
        pop dword [exc_err]
        pop dword [exc_eip]
        pop dword [exc_cs]
        pop dword [exc_efl]
        xor eax, eax
        mov [exc_esp], eax
        mov [exc_ss], eax
        test byte [exc_cs], 3
        jz .r0
        pop dword [exc_esp]
        pop dword [exc_ss]
.r0:    mov eax, cr2
        mov [exc_cr2], eax
        inc dword [exc_count]
        mov ax, SEL_DATA
        mov ss, ax
        mov esp, [rec_esp]
        mov fs, ax
        mov gs, ax
        cmp dword [recover], 0
        je .unexpected
        jmp [recover]
.unexpected:
        mov esp, STK_MAIN
        call fail_begin
        mov esi, msg_unexpected
        call puts
        call put_exc
        jmp fail_end

; Interrupt gates: every vector to its stub; 0x30 callable from ring 3.
build_idt:
        mov edi, IDT
        mov ebx, stubs
        xor ecx, ecx
.l:     mov eax, ebx
        cmp ecx, 0x40
        jb .g
        mov eax, stub_other
.g:     call set_gate
        add ebx, 16
        add edi, 8
        inc ecx
        cmp ecx, 256
        jb .l
        mov byte [IDT + 0x30 * 8 + 5], 0xee
        ret

; Interrupt gate (DPL 0) at [edi] to SEL_CODE:eax.
set_gate:
        mov [edi], ax
        mov word [edi + 2], SEL_CODE
        mov word [edi + 4], 0x8e00
        shr eax, 16
        mov [edi + 6], ax
        ret

; ---- output ---------------------------------------------------------
putc:   push edx
        push eax
        mov edx, [capture]
        test edx, edx
        jz .w0
        cmp edx, failbuf_end - 1
        jae .w0
        mov [edx], al
        mov byte [edx + 1], 0
        inc edx
        mov [capture], edx
.w0:    mov dx, 0x3fd
.w:     in al, dx
        test al, 0x20
        jz .w
        pop eax
        mov dx, 0x3f8
        out dx, al
        pop edx
        ret

puts:   push eax
.l:     lodsb
        test al, al
        jz .e
        call putc
        jmp .l
.e:     pop eax
        ret

; eax < 100
putdec: push eax
        push ecx
        push edx
        xor edx, edx
        mov ecx, 10
        div ecx
        test eax, eax
        jz .one
        add al, '0'
        call putc
.one:   mov al, dl
        add al, '0'
        call putc
        pop edx
        pop ecx
        pop eax
        ret

; eax as 8 hex digits
puthex: push ecx
        mov ecx, 8
.d:     rol eax, 4
        push eax
        and al, 15
        add al, '0'
        cmp al, '9'
        jbe .p
        add al, 7
.p:     call putc
        pop eax
        loop .d
        pop ecx
        ret

; ---- paging helpers -------------------------------------------------
; 32-bit paging: PD[0] -> PT0 (0-4 MiB identity, user, writable), PD[1]
; -> PT1 (empty), the rest not present; CR3 = PD.  Paging stays off.
pg32_build:
        mov edi, PD
        mov ecx, 3 * 1024
        xor eax, eax
        rep stosd
        mov dword [PD], PT0 | 7
        mov dword [PD + 4], PT1 | 7
        mov edi, PT0
        mov eax, 7
        mov ecx, 1024
.l:     stosd
        add eax, 0x1000
        loop .l
        mov eax, PD
        mov cr3, eax
        ret

paging_on:
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        jmp .f                          ; (a jump after the switch)
.f:     ret

markers:
        mov dword [FR_A], MARK_A
        mov dword [FR_B], MARK_B
        mov dword [FR_C], MARK_C
        mov dword [BIG2M + 0x10], MARK_2M
        mov dword [BIG4M + 0x1234], MARK_4M
        ret

set_wp: mov eax, cr0
        or eax, 0x10000
        mov cr0, eax
        ret

; =====================================================================
; Groups
; =====================================================================

; CPUID claims what the groups use: PSE, PAE, SEP, PGE.
g_cpuid:
        mov eax, 1
        cpuid
        mov eax, edx
        and eax, (1 << 3) | (1 << 6) | (1 << 11) | (1 << 13)
        CHK "features", (1 << 3) | (1 << 6) | (1 << 11) | (1 << 13)
        ret

; Faults save the EIP of the instruction, traps the next one (SDM 6.5,
; table 6-1).
g_fault_trap:
        TRY .de
        xor edx, edx
        mov eax, 1
        xor ecx, ecx
.de_i:  div ecx
.de:    EXPECT "de", 0, 0, .de_i, -1

        TRY .ud
.ud_i:  ud2
.ud:    EXPECT "ud2", 6, 0, .ud_i, -1

        TRY .br
        mov eax, 10
.br_i:  bound eax, [bounds]
.br:    EXPECT "bound", 5, 0, .br_i, -1

        TRY .brok                       ; in bounds: nothing
        mov eax, 5
        bound eax, [bounds]
.brok:  EXPECT "bound-in", -1, 0, -1, -1

        TRY .of
        mov al, 0x7f
        add al, 1                       ; OF = 1
        into
.of_n:  nop
.of:    EXPECT "into", 4, 0, .of_n, -1

        TRY .ofok
        xor eax, eax                    ; OF = 0
        into
.ofok:  EXPECT "into-no", -1, 0, -1, -1

        TRY .bp
        int3
.bp_n:  nop
.bp:    EXPECT "int3", 3, 0, .bp_n, -1

        TRY .bp2                        ; INT 3 (CD 03): also a trap
        int 3
.bp2_n: nop
.bp2:   EXPECT "int-3", 3, 0, .bp2_n, -1
        ret

; LOCK on an instruction that cannot be locked, or with a register
; destination: #UD (SDM Vol. 2, LOCK).
g_lock:
        mov dword [scratch], 5
        TRY .ok
        mov eax, 3
        lock add [scratch], eax
        lock xchg [scratch], eax        ; eax = 8, [scratch] = 3
        mov [r3_val], eax
.ok:    EXPECT "lock-add-mem", -1, 0, -1, -1
        mov eax, [r3_val]
        CHK "lock-xchg", 8
        mov eax, [scratch]
        CHK "lock-result", 3

        TRY .u2
.u2_i:  db 0xf0, 0x01, 0xd8             ; lock add eax, ebx
.u2:    EXPECT "lock-add-reg", 6, 0, .u2_i, -1

        TRY .u3
.u3_i:  db 0xf0, 0x90                   ; lock nop
.u3:    EXPECT "lock-nop", 6, 0, .u3_i, -1

        TRY .u1
.u1_i:  db 0xf0, 0x89, 0xd8             ; lock mov eax, ebx
.u1:    EXPECT "lock-mov", 6, 0, .u1_i, -1
        ret

; A benign exception through a not-present gate gives #NP(vector*8+2+EXT);
; a contributory one during a contributory one gives #DF(0) (SDM 6.13,
; 6.15 "Interrupt 8", table 6-5).  The #DF's saved EIP is undefined.
g_df:
        and byte [IDT + 13 * 8 + 5], 0x7f       ; #GP gate not present
        TRY .df
        mov ax, SEL_DATA | 3
.df_i:  mov ds, ax                      ; #GP(0x10)
.df:    EXPECT "gp-np-gate", 8, 0, -1, -1
        call build_idt

        and byte [IDT + 6 * 8 + 5], 0x7f        ; #UD gate not present
        TRY .np
.np_i:  ud2
.np:    EXPECT "ud-np-gate", 11, 6 * 8 + 3, .np_i, -1
        ret

; SYSENTER from ring 3 to SYSENTER_CS:SYSENTER_EIP with SYSENTER_ESP, SS =
; CS + 8; SYSEXIT to CS + 16 | 3, SS CS + 24 | 3, EIP = EDX, ESP = ECX
; (SDM Vol. 2, SYSENTER/SYSEXIT).
g_sysenter:
        mov ecx, 0x174
        xor edx, edx
        mov eax, SEL_CODE
        wrmsr
        inc ecx
        mov eax, STK_SE
        wrmsr
        inc ecx
        mov eax, .entry
        wrmsr
        mov ecx, 0x174                  ; the MSRs read back
        rdmsr
        CHK "msr174", SEL_CODE
        mov ecx, 0x176
        rdmsr
        CHK "msr176", .entry

        TRY .back
        RING3
        mov ecx, STK_R3 - 0x100
        mov edx, .r3
        sysenter
.entry: mov eax, cs                     ; ring 0
        mov [se_cs], eax
        mov eax, ss
        mov [se_ss], eax
        mov [se_esp], esp
        pushfd
        pop eax
        mov [se_efl], eax
        sysexit
.r3:    mov eax, cs                     ; ring 3 again
        mov [r3_cs], eax
        mov eax, ss
        mov [r3_ss], eax
        mov [r3_esp], esp
        int 0x30
.back:  EXPECT "sysenter-return", 0x30, 0, .back, -1
        mov eax, [se_cs]
        CHK "sysenter-cs", SEL_CODE
        mov eax, [se_ss]
        CHK "sysenter-ss", SEL_DATA
        mov eax, [se_esp]
        CHK "sysenter-esp", STK_SE
        mov eax, [se_efl]
        and eax, 0x30200                ; VM, RF, IF cleared
        CHK "sysenter-eflags", 0
        mov eax, [r3_cs]
        CHK "sysexit-cs", SEL_CODE3 | 3
        mov eax, [r3_ss]
        CHK "sysexit-ss", SEL_DATA3 | 3
        mov eax, [r3_esp]
        CHK "sysexit-esp", STK_R3 - 0x100

        ; SYSEXIT from ring 3: #GP(0)
        TRY .gp
        RING3
        mov ecx, STK_R3
        mov edx, .gp
.gp_i:  sysexit
        int 0x30                        ; (reached only without the fault)
.gp:    EXPECT "sysexit-ring3", 13, 0, .gp_i, -1

        ; SYSENTER with SYSENTER_CS = 0: #GP(0)
        mov ecx, 0x174
        xor eax, eax
        xor edx, edx
        wrmsr
        TRY .gp0
.gp0_i: sysenter
.gp0:   EXPECT "sysenter-cs0", 13, 0, .gp0_i, -1
        ret

; Segment register loads (SDM Vol. 2 MOV, 3A 5.x): null into DS is fine,
; into SS #GP(0); selector beyond the GDT limit or in a missing LDT
; #GP(sel); not present #NP(sel) (#SS(sel) for SS); wrong type #GP(sel).
g_seg_load:
        xor eax, eax
        lldt ax                         ; no LDT (not the reset LDTR)
        TRY .n1
        xor eax, eax
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ax, SEL_DATA                ; TRY/EXPECT use DS
        mov ds, ax
.n1:    EXPECT "null-ds", -1, 0, -1, -1

        TRY .n2
        xor eax, eax
.n2_i:  mov ss, ax
.n2:    EXPECT "null-ss", 13, 0, .n2_i, -1

        TRY .b1
        mov ax, GDT_LIMIT + 1
.b1_i:  mov ds, ax
.b1:    EXPECT "beyond-gdt", 13, GDT_LIMIT + 1, .b1_i, -1

        TRY .b2
        mov ax, 0x403                   ; RPL ignored in the error code
.b2_i:  mov es, ax
.b2:    EXPECT "beyond-gdt-rpl", 13, 0x400, .b2_i, -1

        TRY .l1
        mov ax, 0x0c                    ; TI = 1, no LDT
.l1_i:  mov fs, ax
.l1:    EXPECT "ldt-null", 13, 0x0c, .l1_i, -1

        TRY .np
        mov ax, SEL_NP
.np_i:  mov ds, ax
.np:    EXPECT "not-present", 11, SEL_NP, .np_i, -1

        TRY .nps
        mov ax, SEL_NP
.nps_i: mov ss, ax
.nps:   EXPECT "not-present-ss", 12, SEL_NP, .nps_i, -1

        TRY .xo
        mov ax, SEL_XO
.xo_i:  mov ds, ax
.xo:    EXPECT "exec-only-ds", 13, SEL_XO, .xo_i, -1

        TRY .rc
        mov ax, SEL_CONF                ; readable code into DS: fine
        mov ds, ax
        mov eax, [ds:bounds + 4]
        mov bx, SEL_DATA
        mov ds, bx
        mov [r3_val], eax
.rc:    EXPECT "code-ds", -1, 0, -1, -1
        mov eax, [r3_val]
        CHK "code-ds-read", 5

        TRY .ro
        mov ax, SEL_RO
.ro_i:  mov ss, ax
.ro:    EXPECT "ro-ss", 13, SEL_RO, .ro_i, -1

        TRY .cs
        mov ax, SEL_CODE
.cs_i:  mov ss, ax
.cs:    EXPECT "code-ss", 13, SEL_CODE, .cs_i, -1

        TRY .wr                         ; write through read-only data
        mov ax, SEL_RO
        mov es, ax
.wr_i:  mov dword [es:scratch], 1
.wr:    EXPECT "ro-write", 13, 0, .wr_i, -1
        ret

; Privilege: a data segment with DPL < max(CPL, RPL) #GP(sel); SS needs
; RPL = DPL = CPL.
g_seg_priv:
        TRY .iret                       ; IRET to ring 3 nulls DS, ES with
        mov ebx, -1                     ; DPL < CPL (SDM Vol. 2A IRET)
        mov ecx, -1
        push dword SEL_DATA3 | 3
        push dword STK_R3
        push dword 2
        push dword SEL_CODE3 | 3
        push dword .iret3
        iretd
.iret3: mov ebx, ds
        mov ecx, es
        mov edx, ss
        int 0x30
.iret:  mov [r3_val], ecx
        mov [r3_ss], edx
        mov eax, ebx
        CHK "iret-nulls-ds", 0
        mov eax, [r3_val]
        CHK "iret-nulls-es", 0
        mov eax, [r3_ss]
        CHK "iret-ss", SEL_DATA3 | 3
        TRY .r0
        mov ax, SEL_DATA | 3            ; RPL 3 > DPL 0
.r0_i:  mov ds, ax
.r0:    EXPECT "rpl-ds", 13, SEL_DATA, .r0_i, -1

        TRY .s0
        mov ax, SEL_DATA3 | 3           ; DPL 3 stack at CPL 0
.s0_i:  mov ss, ax
.s0:    EXPECT "dpl-ss", 13, SEL_DATA3, .s0_i, -1

        TRY .d0                         ; DPL 3 data at CPL 0: fine
        mov ax, SEL_DATA3
        mov es, ax
.d0:    EXPECT "dpl3-es", -1, 0, -1, -1

        TRY .r3
        RING3
        mov ax, SEL_DATA                ; DPL 0 < CPL 3
.r3_i:  mov ds, ax
        int 0x30                        ; (reached only without the fault)
.r3:    EXPECT "cpl3-ds", 13, SEL_DATA, .r3_i, -1
        mov eax, [exc_cs]
        CHK "cpl3-ds-cs", SEL_CODE3 | 3
        mov eax, [exc_ss]
        CHK "cpl3-ds-ss", SEL_DATA3 | 3

        TRY .q3
        RING3
        mov ax, SEL_DATA3 | 3
        mov fs, ax
.q3_i:  mov ss, ax                      ; fine
        mov eax, ss
        mov [r3_ss], eax
        int 0x30
.q3:    EXPECT "cpl3-ss", 0x30, 0, -1, -1
        mov eax, [r3_ss]
        CHK "cpl3-ss-val", SEL_DATA3 | 3
        ret

; A far CALL from ring 3 into a DPL 0 conforming segment keeps CPL 3 (CS
; RPL = CPL, no stack switch); into a non-conforming DPL 0 segment it is
; #GP(sel) (SDM 5.8.1.2).
g_conforming:
        TRY .b
        RING3
        call SEL_CONF:.conf_fn          ; RPL 0 selector: CS gets RPL 3
        mov eax, cs
        mov [r3_cs], eax
.nc_i:  call SEL_CODE | 3:.conf_fn
        int 0x30                        ; (reached only without the fault)
.b:     EXPECT "call-nonconforming", 13, SEL_CODE, .nc_i, -1
        mov eax, [conf_cs]
        CHK "conforming-cs", SEL_CONF | 3
        mov eax, [conf_ss]
        CHK "conforming-ss", SEL_DATA3 | 3
        mov eax, [conf_esp]
        CHK "conforming-esp", STK_R3 - 8
        mov eax, [r3_cs]
        CHK "back-cs", SEL_CODE3 | 3
        ret
.conf_fn:
        mov eax, cs
        mov [conf_cs], eax
        mov eax, ss
        mov [conf_ss], eax
        mov [conf_esp], esp
        retf

; An interrupt from ring 3 switches to SS0:ESP0 of the TSS and pushes SS,
; ESP, EFLAGS, CS, EIP of ring 3 (SDM 6.12.1).
g_tss_stack:
        TRY .b
        RING3
        int 0x30
.n:     nop
.b:     EXPECT "int-from-ring3", 0x30, 0, .n, -1
        mov eax, [exc_hesp]
        CHK "handler-esp", STK_R0 - 20
        mov eax, [exc_cs]
        CHK "frame-cs", SEL_CODE3 | 3
        mov eax, [exc_efl]
        CHK "frame-eflags", 2
        mov eax, [exc_esp]
        CHK "frame-esp", STK_R3
        mov eax, [exc_ss]
        CHK "frame-ss", SEL_DATA3 | 3

        TRY .g                          ; a DPL 0 gate from ring 3
        RING3
.g_i:   int 0x31
        int 0x30                        ; (reached only without the fault)
.g:     EXPECT "int-dpl0-gate", 13, 0x31 * 8 + 2, .g_i, -1
        mov eax, [exc_hesp]
        CHK "gp-handler-esp", STK_R0 - 20
        ret

; Limits: data beyond the limit #GP(0), stack (SS) beyond it #SS(0)
; (SDM 5.3).
g_seg_limit:
        mov ax, SEL_LIM                 ; (DS stays flat: TRY/EXPECT use it)
        mov fs, ax
        TRY .a
        mov eax, [fs:0xffc]             ; last dword: fine
        mov al, [fs:0xfff]
.a:     EXPECT "in-limit", -1, 0, -1, -1
        TRY .b
.b_i:   mov eax, [fs:0xffd]             ; crosses the limit
.b:     EXPECT "dword-over-limit", 13, 0, .b_i, -1
        mov ax, SEL_LIM
        mov fs, ax
        TRY .c
.c_i:   mov byte [fs:0x1000], 0
.c:     EXPECT "byte-over-limit", 13, 0, .c_i, -1

        mov ax, SEL_SLIM
        mov ss, ax
        TRY .d
        mov ebp, 0x8000
.d_i:   mov eax, [ebp]
.d:     EXPECT "ss-over-limit", 12, 0, .d_i, -1
        mov ax, SEL_SLIM
        mov ss, ax
        TRY .e
        mov ebx, 0x7ffe
.e_i:   mov ax, [ss:ebx + 1]            ; 0x7fff-0x8000
.e:     EXPECT "ss-override-over-limit", 12, 0, .e_i, -1
        ret

; Expand-down: valid offsets are limit+1 .. 0xffffffff (B=1) or 0xffff
; (B=0) (SDM 3.4.5.1).
g_expdown:
        mov ax, SEL_ED32
        mov es, ax
        TRY .a
        mov eax, [es:0x1000]
        mov eax, [es:0xfffffffc]
.a:     EXPECT "ed32-valid", -1, 0, -1, -1
        TRY .b
.b_i:   mov eax, [es:0x800]
.b:     EXPECT "ed32-below", 13, 0, .b_i, -1
        mov ax, SEL_ED32
        mov es, ax
        TRY .c
.c_i:   mov eax, [es:0xffe]             ; 0xffe-0x1001: partly below
.c:     EXPECT "ed32-straddle", 13, 0, .c_i, -1

        mov ax, SEL_ED16
        mov es, ax
        TRY .d
        mov eax, [es:0x1000]
        mov eax, [es:0xfffc]
.d:     EXPECT "ed16-valid", -1, 0, -1, -1
        TRY .e
.e_i:   mov eax, [es:0xfffd]            ; beyond 0xffff (B=0)
.e:     EXPECT "ed16-above", 13, 0, .e_i, -1
        mov ax, SEL_ED16
        mov es, ax
        TRY .f
.f_i:   mov eax, [es:0x10000]
.f:     EXPECT "ed16-far-above", 13, 0, .f_i, -1

        mov ax, SEL_SED                 ; expand-down stack
        mov ss, ax
        TRY .g
        push eax                        ; at 0x6ffc: fine
        pop eax
        mov ebp, 0x5000
.g_i:   mov eax, [ebp]
.g:     EXPECT "ed-stack-below", 12, 0, .g_i, -1
        ret

; A null selector can be loaded into DS, but a reference through it is
; #GP(0) (SDM 3.4.2, 5.4.1).
g_null_use:
        xor eax, eax
        mov es, ax
        TRY .a
.a_i:   mov eax, [es:0x1000]
.a:     EXPECT "null-read", 13, 0, .a_i, -1
        xor eax, eax
        mov fs, ax
        TRY .b
.b_i:   mov dword [fs:0x1000], 0
.b:     EXPECT "null-write", 13, 0, .b_i, -1
        ret

; A near jump beyond the CS limit: #GP(0) with the EIP of the jump; a far
; jump to an offset beyond the limit too (SDM Vol. 2A JMP).
g_cs_limit:
        mov word [0x12000], 0x30cd      ; landing pads: int 0x30
        mov word [0x10000], 0x30cd
        jmp SEL_CLIM:.in
.in:    TRY .a
        mov eax, 0x12000
.a_i:   jmp eax
.a:     EXPECT "near-jmp", 13, 0, .a_i, -1
        mov eax, [exc_cs]
        CHK "near-jmp-cs", SEL_CLIM
        TRY .b
.b_i:   jmp SEL_CLIM:0x10000
.b:     EXPECT "far-jmp", 13, 0, .b_i, -1
        TRY .c                          ; in the limit: fine
        jmp SEL_CLIM:.c
.c:     EXPECT "far-jmp-in", -1, 0, -1, -1
        ret

; Far transfers (SDM Vol. 2A JMP, CALL, RET, IRET): a not-present code
; segment #NP(sel); a data segment #GP(sel); a non-conforming segment of
; another DPL #GP(sel); RETF / IRET to an inner level #GP(sel).
g_far:
        TRY .a
.a_i:   jmp SEL_CNP:0
.a:     EXPECT "jmp-not-present", 11, SEL_CNP, .a_i, -1
        TRY .b
.b_i:   jmp SEL_DATA:0
.b:     EXPECT "jmp-data", 13, SEL_DATA, .b_i, -1
        TRY .c
.c_i:   call SEL_CODE3:.c               ; DPL 3 from CPL 0
.c:     EXPECT "call-outer", 13, SEL_CODE3, .c_i, -1
        TRY .d
        RING3
        push dword SEL_CODE
        push dword .d
.d_i:   retf
        int 0x30                        ; (reached only without the fault)
.d:     EXPECT "retf-inner", 13, SEL_CODE, .d_i, -1
        TRY .e
        RING3
        push dword 2
        push dword SEL_CODE
        push dword .e
.e_i:   iretd
        int 0x30                        ; (reached only without the fault)
.e:     EXPECT "iret-inner", 13, SEL_CODE, .e_i, -1
        ret

; Task switch checks through IDT task gates (SDM 7.3, table 7-1): a TSS
; limit below 0x67 #TS(sel), a not-present TSS #NP(sel), a busy one
; #GP(sel); the current task is untouched.
g_ts:
        mov dword [IDT + 0x32 * 8], SEL_TSS_S << 16
        mov dword [IDT + 0x32 * 8 + 4], 0x8500
        mov dword [IDT + 0x33 * 8], SEL_TSS_NP << 16
        mov dword [IDT + 0x33 * 8 + 4], 0x8500
        mov dword [IDT + 0x34 * 8], SEL_TSS << 16
        mov dword [IDT + 0x34 * 8 + 4], 0x8500
        TRY .a
.a_i:   int 0x32
.a:     EXPECT "tss-limit", 10, SEL_TSS_S, .a_i, -1
        TRY .b
.b_i:   int 0x33
.b:     EXPECT "tss-not-present", 11, SEL_TSS_NP, .b_i, -1
        TRY .c
.c_i:   int 0x34
.c:     EXPECT "tss-busy", 13, SEL_TSS, .c_i, -1
        str ax
        movzx eax, ax
        CHK "tr", SEL_TSS
        ret

; Alignment check: CR0.AM, EFLAGS.AC and CPL 3 make a misaligned access
; #AC(0), a fault (SDM 6.15, "Interrupt 17"); not at CPL 0, not without
; AC.
g_ac:
        mov eax, cr0
        or eax, 0x40000                 ; AM
        mov cr0, eax
        pushfd
        or dword [esp], 0x40000         ; AC
        popfd
        TRY .a
        mov eax, [0x1001]               ; CPL 0: no check
.a:     EXPECT "ac-cpl0", -1, 0, -1, -1
        TRY .b
        push dword SEL_DATA3 | 3
        push dword STK_R3
        push dword 0x40002              ; AC
        push dword SEL_CODE3 | 3
        push dword .b3
        iretd
.b3:    mov ax, SEL_DATA3 | 3
        mov ds, ax
        mov eax, [0x1000]               ; aligned: fine
.b_i:   mov eax, [0x1001]
        int 0x30                        ; (reached only without the fault)
.b:     EXPECT "ac-cpl3", 17, 0, .b_i, -1
        TRY .c
        RING3                           ; AC clear
        mov eax, [0x1001]
        int 0x30
.c:     EXPECT "ac-off", 0x30, 0, -1, -1
        ret

; Interrupt gates clear IF, TF, NT; trap gates keep IF (SDM 6.12.1.3).
; The PIC is masked first, so IF = 1 lets nothing in.
g_gates:
        mov al, 0xff
        out 0x21, al
        out 0xa1, al
        mov byte [IDT + 0x35 * 8 + 5], 0x8f     ; trap gate
        TRY .a
        sti
        int 0x35
.a:     EXPECT "trap-gate", 0x35, 0, .a, -1
        cli
        mov eax, [exc_hefl]
        and eax, 0x4300
        CHK "trap-gate-if", 0x200
        mov eax, [exc_efl]
        and eax, 0x200
        CHK "trap-gate-pushed-if", 0x200
        TRY .b
        sti
        pushfd
        or dword [esp], 0x4100          ; TF, NT
        popfd
.b_i:   int 0x36                        ; (TF: the INT is not traced)
.b:     EXPECT "int-gate", 0x36, 0, .b, -1
        cli
        mov eax, [exc_hefl]
        and eax, 0x4300
        CHK "int-gate-flags", 0
        mov eax, [exc_efl]
        and eax, 0x4300
        CHK "int-gate-pushed", 0x4300
        pushfd
        and dword [esp], ~0x4100
        popfd
        ret

; CPL 3 may not run privileged instructions, nor CLI/IN/OUT with IOPL 0
; and no I/O bitmap: #GP(0), a fault (SDM 5.9, 16.5, Vol. 2 each
; instruction).  RDTSC faults only with CR4.TSD.
%macro PRIV 2
        TRY %%r
        RING3
%%i:    %2
        int 0x30                        ; (reached only without the fault)
%%r:    EXPECT %1, 13, 0, %%i, -1
%endmacro
g_priv:
        PRIV "hlt", hlt
        PRIV "cli", cli
        PRIV "mov-cr0", {mov cr0, eax}
        PRIV "mov-from-cr3", {mov eax, cr3}
        PRIV "lgdt", {lgdt [gdtr]}
        PRIV "invlpg", {invlpg [0]}
        PRIV "wrmsr", wrmsr
        PRIV "mov-dr7", {mov eax, dr7}
        PRIV "in", {in al, 0x80}
        PRIV "out", {out 0x80, al}
        PRIV "clts", clts
        PRIV "ltr", {ltr ax}
        TRY .t
        RING3
        rdtsc                           ; CR4.TSD = 0: fine
        int 0x30
.t:     EXPECT "rdtsc", 0x30, 0, -1, -1
        mov eax, cr4
        or eax, 4                       ; TSD
        mov cr4, eax
        PRIV "rdtsc-tsd", rdtsc
        ret

; MSRs that do not exist, CR0.NW without CD: #GP(0) (SDM Vol. 2B
; RDMSR/WRMSR, MOV CR).
g_msr_cr:
        ; (no check of a reserved CR4 bit here: QEMU 7.2 hangs on it)
        TRY .d
        mov eax, cr0
        and eax, ~0x40000000
        or eax, 0x20000000              ; NW without CD
.d_i:   mov cr0, eax
.d:     EXPECT "cr0-nw", 13, 0, .d_i, -1
        TRY .a
        mov ecx, 0x12345678
.a_i:   rdmsr
.a:     EXPECT "rdmsr-none", 13, 0, .a_i, -1
        TRY .b
        mov ecx, 0x12345678
        xor eax, eax
        xor edx, edx
.b_i:   wrmsr
.b:     EXPECT "wrmsr-none", 13, 0, .b_i, -1
        ret

; An exception through an IDT task gate runs in the task of TSS_X
; (task_handler): the error code is on the new task's stack, the faulting
; EIP/ESP are in the old task's TSS, the back link names it (SDM 6.12.2,
; 7.3).  The handler points the old task at the TRY label and IRETs to it.
; eax = the vector (the task's EAX), edi = the IDT entry to make a gate.
task_gate:
        push eax
        mov byte [gdt + SEL_TSS_X + 5], 0x89    ; not busy
        push edi
        mov edi, TSS_X
        mov ecx, 0x68 / 4
        xor eax, eax
        rep stosd
        pop edi
        pop eax
        mov [TSS_X + 0x28], eax                 ; EAX = vector
        mov dword [TSS_X + 0x20], task_handler  ; EIP
        mov dword [TSS_X + 0x24], 2             ; EFLAGS
        mov dword [TSS_X + 0x38], STK_X         ; ESP
        mov dword [TSS_X + 0x4c], SEL_CODE
        mov dword [TSS_X + 0x48], SEL_DATA
        mov dword [TSS_X + 0x50], SEL_DATA
        mov dword [TSS_X + 0x54], SEL_DATA
        mov dword [TSS_X + 0x58], SEL_DATA
        mov dword [TSS_X + 0x5c], SEL_DATA
        mov word [TSS_X + 0x66], 0x68
        mov dword [edi], SEL_TSS_X << 16        ; task gate
        mov dword [edi + 4], 0x8500
        ret

task_handler:
        mov [exc_vec], eax
        pop dword [exc_err]
        mov [exc_hesp], esp
        mov eax, [TSS + 0x20]           ; the old task's EIP ...
        mov [exc_eip], eax
        mov eax, [TSS + 0x38]           ; ... and ESP
        mov [exc_esp], eax
        movzx eax, word [TSS_X]         ; back link
        mov [exc_cs], eax
        mov eax, [TSS + 0x4c]           ; the old task's CS, SS
        mov [exc_ocs], eax
        mov eax, [TSS + 0x50]
        mov [exc_oss], eax
        pushfd
        pop dword [exc_efl]
        mov eax, cr2
        mov [exc_cr2], eax
        inc dword [exc_count]
        mov eax, [recover]              ; resume the old task at the label
        mov [TSS + 0x20], eax
        mov eax, [rec_esp]
        mov [TSS + 0x38], eax
        mov dword [TSS + 0x24], 2
        mov dword [TSS + 0x4c], SEL_CODE
        mov dword [TSS + 0x48], SEL_DATA
        mov dword [TSS + 0x50], SEL_DATA
        mov dword [TSS + 0x54], SEL_DATA
        mov dword [TSS + 0x58], SEL_DATA
        mov dword [TSS + 0x5c], SEL_DATA
        iretd                           ; NT = 1: back to the old task
        jmp task_handler

; #DF through a task gate: #GP through a not-present gate (SDM 6.15,
; "Interrupt 8": a task gate is the way to a sound stack).
g_df_task:
        mov eax, 8
        mov edi, IDT + 8 * 8
        call task_gate
        and byte [IDT + 13 * 8 + 5], 0x7f       ; #GP gate not present
        TRY .df
        mov ax, SEL_DATA | 3
.df_i:  mov ds, ax
.df:    EXPECT "df-task", 8, 0, -1, -1
        mov eax, [exc_cs]
        CHK "df-back-link", SEL_TSS
        mov eax, [exc_hesp]
        CHK "df-task-esp", STK_X
        mov eax, [exc_efl]
        and eax, 0x4000
        CHK "df-task-nt", 0x4000
        str ax
        movzx eax, ax
        CHK "tr-after-iret", SEL_TSS
        movzx eax, byte [gdt + SEL_TSS_X + 5]
        CHK "tss-x-not-busy", 0x89
        movzx eax, byte [gdt + SEL_TSS + 5]
        CHK "tss-busy", 0x8b
        ret

; A PUSH beyond the limit of SS: #SS(0), a fault (ESP unchanged).  The
; #SS goes through a task gate since the faulting stack cannot take the
; frame (SDM 6.15, "Interrupt 12").
g_stack_push:
        mov eax, 12
        mov edi, IDT + 12 * 8
        call task_gate
        TRY .a
        mov ax, SEL_SLIM                ; limit 0x7fff
        mov ss, ax
        mov esp, 0x8002
.a_i:   push eax                        ; 0x7ffe-0x8001
.a:     EXPECT "push-over-limit", 12, 0, .a_i, -1
        mov eax, [exc_esp]
        CHK "push-esp", 0x8002
        mov eax, 12
        mov edi, IDT + 12 * 8
        call task_gate
        TRY .b
        mov ax, SEL_SED                 ; expand-down, lowest 0x6000
        mov ss, ax
        mov esp, 0x6002
.b_i:   push eax                        ; 0x5ffe-0x6001
.b:     EXPECT "push-below-expand-down", 12, 0, .b_i, -1
        mov eax, [exc_esp]
        CHK "push-ed-esp", 0x6002
        ret

; 32-bit paging with 4 KiB pages: A on reads, A and D on writes (never D
; in a PDE that points to a page table); not-present PTE and PDE faults
; with the error code and CR2 (SDM 4.3, 4.7, 4.8).
g_pg4k:
        call markers
        call pg32_build
        mov dword [PT1], FR_A | 3
        mov dword [PT1 + 8], FR_B | 3
        call paging_on

        mov eax, [0x400000]
        CHK "read", MARK_A
        mov eax, [PT1]
        CHK "pte-after-read", FR_A | 0x23
        mov eax, [PD + 4]
        CHK "pde-after-read", PT1 | 0x27
        mov dword [0x400004], 0x1234
        mov eax, [PT1]
        CHK "pte-after-write", FR_A | 0x63
        mov eax, [FR_A + 4]
        CHK "write-landed", 0x1234
        mov eax, [PD + 4]
        CHK "pde-after-write", PT1 | 0x27
        mov eax, [PT1 + 8]
        CHK "pte-untouched", FR_B | 3

        TRY .a
.a_i:   mov eax, [0x401000]
.a:     EXPECT "pte-np-read", 14, 0, .a_i, 0x401000
        TRY .b
.b_i:   mov dword [0x401ff8], 0
.b:     EXPECT "pte-np-write", 14, 2, .b_i, 0x401ff8
        TRY .c
.c_i:   mov eax, [0x800010]
.c:     EXPECT "pde-np-read", 14, 0, .c_i, 0x800010
        TRY .d                          ; a dword straddling into a hole
.d_i:   mov eax, [0x402ffe]
.d:     EXPECT "straddle", 14, 0, .d_i, 0x403000

        ; instruction fetches: through a remapped page, from a hole, and
        ; an instruction straddling into a hole (EIP = its first byte)
        mov byte [FR_B + 0x100], 0xc3           ; ret
        mov word [FR_B + 0xffe], 0x11b8         ; mov eax, imm32 (cut)
        TRY .e
        mov eax, 0x402100
        call eax
.e:     EXPECT "fetch-mapped", -1, 0, -1, -1
        TRY .f
        mov eax, 0x401000
        call eax
.f:     EXPECT "fetch-np", 14, 0, 0x401000, 0x401000
        TRY .g
        mov eax, 0x402ffe
        call eax
.g:     EXPECT "fetch-straddle", 14, 0, 0x402ffe, 0x403000
        ret

; WP=0: supervisor writes to read-only pages succeed; WP=1: #PF(P|W)
; (SDM 4.6.1).
g_pgwp:
        call markers
        call pg32_build
        mov dword [PT1], FR_A | 1       ; read-only, supervisor
        mov dword [PT1 + 4], FR_B | 5   ; read-only, user
        call paging_on
        TRY .a
        mov dword [0x400000], 0x5151
        mov dword [0x401000], 0x6161
.a:     EXPECT "wp0-write", -1, 0, -1, -1
        mov eax, [FR_A]
        CHK "wp0-landed", 0x5151
        mov eax, [PT1]
        CHK "wp0-pte", FR_A | 0x61
        call set_wp
        invlpg [0x400000]
        invlpg [0x401000]
        TRY .b
.b_i:   mov dword [0x400008], 1
.b:     EXPECT "wp1-write", 14, 3, .b_i, 0x400008
        TRY .c
.c_i:   mov dword [0x40100c], 1
.c:     EXPECT "wp1-write-user-page", 14, 3, .c_i, 0x40100c
        TRY .d
        mov eax, [0x400000]
        mov [r3_val], eax
.d:     EXPECT "wp1-read", -1, 0, -1, -1
        mov eax, [r3_val]
        CHK "wp1-read-val", 0x5151
        ret

; Ring 3: supervisor pages #PF(P|U), read-only user pages on write
; #PF(P|W|U), not present #PF(U) (SDM 4.6, 4.7).
g_pguser:
        call markers
        call pg32_build
        mov dword [PT1], FR_A | 3       ; supervisor
        mov dword [PT1 + 12], FR_C | 5  ; user, read-only
        call paging_on

        TRY .a
        RING3
.a_i:   mov eax, [0x400000]
        int 0x30                        ; (reached only without the fault)
.a:     EXPECT "user-read-sup", 14, 5, .a_i, 0x400000
        TRY .a2
        RING3
        mov eax, 0x400000
        jmp eax
.a2:    EXPECT "user-fetch-sup", 14, 5, 0x400000, 0x400000
        TRY .b
        RING3
.b_i:   mov dword [0x403010], 1
        int 0x30                        ; (reached only without the fault)
.b:     EXPECT "user-write-ro", 14, 7, .b_i, 0x403010
        TRY .c
        RING3
.c_i:   mov eax, [0x401000]
        int 0x30                        ; (reached only without the fault)
.c:     EXPECT "user-read-np", 14, 4, .c_i, 0x401000
        TRY .d
        RING3
.d_i:   mov dword [0x401000], 0
        int 0x30                        ; (reached only without the fault)
.d:     EXPECT "user-write-np", 14, 6, .d_i, 0x401000
        TRY .e
        RING3
        mov eax, [0x403000]
        mov [r3_val], eax
        int 0x30
.e:     EXPECT "user-read-ok", 0x30, 0, -1, -1
        mov eax, [r3_val]
        CHK "user-read-val", MARK_C
        ; a supervisor PDE over a user PTE: supervisor
        and dword [PD + 4], ~4
        invlpg [0x403000]
        TRY .f
        RING3
.f_i:   mov eax, [0x403000]
        int 0x30                        ; (reached only without the fault)
.f:     EXPECT "user-read-sup-pde", 14, 5, .f_i, 0x403000
        ret

; PSE: a 4 MiB page (PDE.PS with CR4.PSE), A and D in the PDE (SDM 4.3).
g_pse:
        call markers
        call pg32_build
        mov dword [PD + 3 * 4], BIG4M | 0x83     ; 0xc00000 -> 0x800000
        mov dword [PD + 4 * 4], BIG4M | 0x81     ; read-only
        ; with CR4.PSE = 0 the PS bit is ignored: the PDE points to a page
        ; table at 0x800000, whose entry 1 maps 0xc01000 to FR_A
        mov dword [BIG4M + 4], FR_A | 3
        mov dword [FR_A + 0x234], 0x3456
        mov dword [BIG4M + 0x100000], 0x5a5a0001
        mov dword [0xd00000], 0x5a5a0002
        call paging_on
        mov eax, [0xc01234]
        CHK "pse-off-ps-ignored", 0x3456
        mov eax, cr0
        and eax, ~0x80000000
        mov cr0, eax
        mov dword [PD + 3 * 4], BIG4M | 0x83     ; A set by the walk: clear
        mov eax, cr4
        or eax, 0x10
        mov cr4, eax
        call paging_on
        mov eax, [0xc01234]
        CHK "read", MARK_4M
        mov eax, [PD + 3 * 4]
        CHK "pde-after-read", BIG4M | 0xa3
        mov dword [0xc01238], 0x4321
        mov eax, [PD + 3 * 4]
        CHK "pde-after-write", BIG4M | 0xe3
        mov eax, [0x1001238]            ; the same frame, read-only
        CHK "write-landed", 0x4321
        call set_wp
        TRY .a
.a_i:   mov dword [0x1000010], 0
.a:     EXPECT "ro-4m-write", 14, 3, .a_i, 0x1000010
        ; INVLPG of one address in a 4 MiB page drops the whole page's
        ; translation, however the TLB cached it (SDM 4.10.2.3, 4.10.4.1)
        mov eax, [0xd00000]
        CHK "4m-far-read", 0x5a5a0001
        mov dword [PD + 3 * 4], 0xc00000 | 0x83 ; identity now
        invlpg [0xc01234]
        mov eax, [0xd00000]
        CHK "4m-invlpg-whole-page", 0x5a5a0002
        ret

; PAE: CR3 -> 4 PDPTEs, 8-byte entries, 2 MiB pages, 4 KiB pages; with
; no NX (EFER.NXE cannot be set) bit 63 is reserved, and reserved bits
; give #PF with RSVD (bit 3) and P set (SDM 4.4, 4.7).
g_pae:
        call pae_build
        mov eax, [0x400010]
        CHK "2m-read", MARK_2M
        mov eax, [XPD + 16]
        CHK "2m-pde-after-read", BIG2M | 0xa3
        mov dword [0x400014], 0x77
        mov eax, [XPD + 16]
        CHK "2m-pde-after-write", BIG2M | 0xe3
        mov eax, [0x600000]
        CHK "4k-read", MARK_A
        mov eax, [XPT1]
        CHK "4k-pte-after-read", FR_A | 0x23
        mov eax, [XPD + 24]
        CHK "pde-after-read", XPT1 | 0x27
        mov dword [0x600004], 0x88
        mov eax, [XPT1]
        CHK "4k-pte-after-write", FR_A | 0x63
        mov eax, [FR_A + 4]
        CHK "4k-write-landed", 0x88
        mov eax, [0x602000]
        CHK "4k-read-c", MARK_C

        TRY .d
.d_i:   mov eax, [0x40000000]           ; PDPTE 1 not present
.d:     EXPECT "pdpte-np", 14, 0, .d_i, 0x40000000
        mov eax, [PDPT]                 ; bits 8:5 reserved: no A bit
        CHK "pdpte-untouched", XPD | 1
        ret

; PAE reserved bits: with no NX (EFER.NXE cannot be set) bit 63 is
; reserved, so are bits 20:13 of a 2 MiB PDE; the #PF has RSVD (bit 3) and
; P set, since every entry was present (SDM 4.7).
g_pae_rsvd:
        call pae_build
        TRY .a
.a_i:   mov eax, [0x601000]
.a:     EXPECT "pte-bit63", 14, 9, .a_i, 0x601000
        TRY .b
.b_i:   mov dword [0x601008], 0
.b:     EXPECT "pte-bit63-write", 14, 0x0b, .b_i, 0x601008
        TRY .c
.c_i:   mov eax, [0x800020]
.c:     EXPECT "2m-pde-bit13", 14, 9, .c_i, 0x800020
        TRY .e
        RING3
.e_i:   mov eax, [0x601000]             ; RSVD with U
        int 0x30                        ; (reached only without the fault)
.e:     EXPECT "pte-bit63-user", 14, 0x0d, .e_i, 0x601000
        ret

; PAE tables (see g_pae), CR4.PAE, CR3, paging on.
pae_build:
        call markers
        mov edi, PDPT
        mov ecx, 4 * 1024
        xor eax, eax
        rep stosd
        mov dword [PDPT], XPD | 1
        mov dword [XPD], XPT0 | 7               ; 0-2 MiB: 4 KiB pages
        mov dword [XPD + 8], 0x200000 | 0x87    ; 2-4 MiB: 2 MiB page
        mov dword [XPD + 16], BIG2M | 0x83      ; 4-6 MiB -> 6 MiB
        mov dword [XPD + 24], XPT1 | 7          ; 6-8 MiB
        mov dword [XPD + 32], BIG2M | 0x2083    ; 8 MiB: bit 13 reserved
        mov dword [XPT1], FR_A | 3
        mov dword [XPT1 + 8], FR_B | 3
        mov dword [XPT1 + 12], 0x80000000       ; bit 63
        mov dword [XPT1 + 16], FR_C | 3
        mov edi, XPT0
        mov eax, 7
        mov ecx, 512
.l:     stosd
        add edi, 4
        add eax, 0x1000
        loop .l
        mov eax, cr4
        or eax, 0x20
        mov cr4, eax
        mov eax, PDPT
        mov cr3, eax
        call paging_on

        ret

; A fault leaves no partial result: a dword store straddling into a
; read-only page (WP=1) writes neither page; REP MOVSD / STOSD that
; fault on a hole leave ECX, ESI, EDI at the faulting iteration (SDM Vol.
; 3A 6.5: faults are restartable; Vol. 2B REP).
g_fault_state:
        call markers
        call pg32_build
        mov dword [PT1], FR_A | 3
        mov dword [PT1 + 4], FR_B | 1           ; read-only
        call paging_on
        call set_wp
        mov dword [0x400ffc], 0x11223344
        TRY .a
.a_i:   mov dword [0x400ffe], 0xaabbccdd
.a:     EXPECT "straddle-ro", 14, 3, .a_i, 0x401000
        mov eax, [0x400ffc]
        CHK "straddle-first-page", 0x11223344
        mov eax, [0x401000]
        CHK "straddle-second-page", MARK_B

        mov dword [PT1 + 4], 0                  ; a hole at 0x401000
        invlpg [0x401000]
        mov edi, 0x400ff0
        mov ecx, 4
        mov eax, 0x5a5a5a5a
        rep stosd                       ; fill 0x400ff0-0x400fff first
        mov dword [0x400ff0], 0
        mov esi, scratch_src
        mov edi, 0x400ff0
        mov ecx, 8
        TRY .b
.b_i:   rep movsd
.b:     mov [r3_val], ecx
        mov [r3_esp], esi
        mov [r3_cs], edi
        EXPECT "rep-movsd", 14, 2, .b_i, 0x401000
        mov eax, [r3_val]
        CHK "rep-movsd-ecx", 4
        mov eax, [r3_esp]
        CHK "rep-movsd-esi", scratch_src + 16
        mov eax, [r3_cs]
        CHK "rep-movsd-edi", 0x401000
        mov eax, [0x400ffc]
        CHK "rep-movsd-copied", 4

        mov edi, 0x400ff8
        mov ecx, 5
        mov eax, 0x77
        TRY .c
.c_i:   rep stosd
.c:     mov [r3_val], ecx
        mov [r3_cs], edi
        EXPECT "rep-stosd", 14, 2, .c_i, 0x401000
        mov eax, [r3_val]
        CHK "rep-stosd-ecx", 3
        mov eax, [r3_cs]
        CHK "rep-stosd-edi", 0x401000
        mov eax, [0x400ffc]
        CHK "rep-stosd-stored", 0x77

        mov esi, 0x400ff8               ; a read straddling into the hole
        mov edi, scratch_src
        mov ecx, 4
        TRY .d
.d_i:   rep movsd
.d:     mov [r3_val], ecx
        EXPECT "rep-movsd-read", 14, 0, .d_i, 0x401000
        mov eax, [r3_val]
        CHK "rep-movsd-read-ecx", 2
        ret

; An interrupt from ring 3 whose TSS stack is not mapped: pushing the
; frame is a #PF (supervisor write, CR2 = ESP0 - 4); delivering that #PF
; faults the same way, and a #PF during a #PF is #DF(0) (SDM 6.15, table
; 6-5), here through a task gate.
g_pf_delivery:
        call pg32_build
        mov eax, 8
        mov edi, IDT + 8 * 8
        call task_gate
        mov dword [TSS_X + 0x1c], PD            ; CR3 of both tasks
        mov dword [TSS + 0x1c], PD
        mov dword [TSS + 4], 0x401000           ; ESP0 in a hole
        call paging_on
        TRY .df
        RING3
        int 0x30
.df:    EXPECT "pf-pf-df", 8, 0, -1, 0x400ffc
        mov eax, [exc_cs]
        CHK "df-back-link", SEL_TSS

        ; the same #PF to a task: the interrupted ring-3 context is intact
        ; (CS, ESP; EIP of the INT, a fault), error code W (supervisor)
        mov eax, 14
        mov edi, IDT + 14 * 8
        call task_gate
        mov dword [TSS_X + 0x1c], PD
        TRY .pf
        RING3
.pf_i:  int 0x30
.pf:    EXPECT "pf-task", 14, 2, .pf_i, 0x400ffc
        mov eax, [exc_ocs]
        CHK "pf-old-cs", SEL_CODE3 | 3
        mov eax, [exc_esp]
        CHK "pf-old-esp", STK_R3
        mov eax, [exc_oss]
        CHK "pf-old-ss", SEL_DATA3 | 3

        ; the same through a call gate to ring 0
        mov eax, .cg_target
        mov [gdt + SEL_CGATE], ax
        mov word [gdt + SEL_CGATE + 2], SEL_CODE
        mov word [gdt + SEL_CGATE + 4], 0xec00  ; 32-bit call gate, DPL 3
        shr eax, 16
        mov [gdt + SEL_CGATE + 6], ax
        mov eax, 14
        mov edi, IDT + 14 * 8
        call task_gate
        mov dword [TSS_X + 0x1c], PD
        TRY .cg
        RING3
.cg_i:  call SEL_CGATE | 3:0
        int 0x30                        ; (reached only without the fault)
.cg:    EXPECT "callgate-pf-task", 14, 2, .cg_i, 0x400ffc
        mov eax, [exc_ocs]
        CHK "callgate-old-cs", SEL_CODE3 | 3
        mov eax, [exc_esp]
        CHK "callgate-old-esp", STK_R3
        mov eax, [exc_oss]
        CHK "callgate-old-ss", SEL_DATA3 | 3

        mov dword [TSS + 4], STK_R0     ; and with a mapped stack
        TRY .cg2
        RING3
        call SEL_CGATE | 3:0
.cg2:   EXPECT "callgate-ok", 0x30, 0, .cg_n, -1
        mov eax, [r3_cs]
        CHK "callgate-cs", SEL_CODE
        mov eax, [r3_esp]
        CHK "callgate-esp", STK_R0 - 16
        ret
.cg_target:
        mov eax, cs
        mov [r3_cs], eax
        mov [r3_esp], esp
        int 0x30
.cg_n:  jmp .cg_n

; Segmentation comes before paging: a limit violation in a segment whose
; base lies in a hole is #GP(0), not #PF; inside the limit it is the #PF
; (SDM 3.1, 6.9 priorities).
g_seg_order:
        call pg32_build
        call paging_on
        mov ax, SEL_HI                  ; base 0x400000 (a hole)
        mov fs, ax
        TRY .a
.a_i:   mov eax, [fs:0x800]
.a:     EXPECT "in-limit-pf", 14, 0, .a_i, 0x400800
        mov ax, SEL_HI
        mov fs, ax
        TRY .b
.b_i:   mov eax, [fs:0x1000]
.b:     EXPECT "over-limit-gp", 13, 0, .b_i, -1
        ret

; INVLPG flushes one entry: after two PTEs change, both pages still show
; the cached frames; INVLPG of one shows its new frame and leaves the
; other stale; a CR3 reload shows both (SDM 4.10.4.1).
g_invlpg:
        call markers
        call pg32_build
        mov dword [PT1], FR_A | 3
        mov dword [PT1 + 4], FR_B | 3
        call paging_on
        mov eax, [0x400000]
        CHK "first-a", MARK_A
        mov eax, [0x401000]
        CHK "first-b", MARK_B
        mov dword [PT1], FR_B | 3       ; swap the frames
        mov dword [PT1 + 4], FR_A | 3
        mov eax, [0x400000]
        CHK "stale-a", MARK_A
        mov eax, [0x401000]
        CHK "stale-b", MARK_B
        invlpg [0x400000]
        mov eax, [0x400000]
        CHK "flushed-a", MARK_B
        mov eax, [0x401000]
        CHK "still-stale-b", MARK_B
        mov eax, cr3
        mov cr3, eax
        mov eax, [0x401000]
        CHK "cr3-flushed-b", MARK_A
        ; a not-present mapping cached? no: a fault is never cached
        mov dword [PT1 + 8], 0
        TRY .a
.a_i:   mov eax, [0x402000]
.a:     EXPECT "np", 14, 0, .a_i, 0x402000
        mov dword [PT1 + 8], FR_C | 3
        mov eax, [0x402000]
        CHK "np-then-present", MARK_C
        ret

; Global pages (CR4.PGE, PTE.G): a CR3 reload keeps them, drops the
; others; toggling CR4.PGE flushes them too (SDM 4.10.2.4, 4.10.4.1).
g_global:
        call markers
        call pg32_build
        mov dword [PT1], FR_A | 0x103   ; global
        mov dword [PT1 + 4], FR_B | 3
        mov eax, cr4
        or eax, 0x80
        mov cr4, eax
        call paging_on
        mov eax, [0x400000]
        CHK "first-a", MARK_A
        mov eax, [0x401000]
        CHK "first-b", MARK_B
        mov dword [PT1], FR_B | 0x103
        mov dword [PT1 + 4], FR_A | 3
        mov eax, cr3
        mov cr3, eax
        mov eax, [0x401000]
        CHK "nonglobal-flushed", MARK_A
        mov eax, [0x400000]
        mov [r3_val], eax               ; checked last (see below)
        mov eax, cr4
        and eax, ~0x80
        mov cr4, eax
        or eax, 0x80
        mov cr4, eax
        mov eax, [0x400000]
        CHK "pge-toggle-flushed", MARK_B
        ; the global entry survived the CR3 reload (a TLB may drop
        ; entries at any time, SDM 4.10.1; Mimic's keeps them)
        mov eax, [r3_val]
        CHK "global-kept", MARK_A
        ret

; PAE: MOV CR3, MOV CR0 setting PG and MOV CR4 changing PGE load the
; four PDPTEs; a present one with a reserved bit (2:1, 8:5, 63:36) is
; #GP(0) and nothing changes; a not-present one may hold anything (SDM
; Vol. 3A 4.4.1, table 4-8).
g_pdpte_rsvd:
        call pae_build
        mov dword [PDPT + 0x20], XPD | 1
        mov dword [PDPT + 0x28], 0x1e6          ; not present: no check
        mov dword [PDPT + 0x2c], 0x80000000
        TRY .b
        mov eax, PDPT + 0x20
        mov cr3, eax
.b:     EXPECT "cr3-np-rsvd-ok", -1, 0, -1, -1
        mov eax, [0x400010]
        CHK "np-rsvd-read", MARK_2M
        mov eax, PDPT
        mov cr3, eax
        mov dword [PDPT + 0x20], XPD | 3        ; bit 1 reserved
        TRY .a
        mov eax, PDPT + 0x20
.a_i:   mov cr3, eax
.a:     EXPECT "cr3-pdpte-bit1", 13, 0, .a_i, -1
        mov eax, cr3
        CHK "cr3-kept", PDPT
        mov dword [PDPT + 0x20], XPD | 1
        mov dword [PDPT + 0x28], XPD | 1
        mov dword [PDPT + 0x2c], 0x80000000     ; bit 63, present
        TRY .h
        mov eax, PDPT + 0x20
.h_i:   mov cr3, eax
.h:     EXPECT "cr3-pdpte-bit63", 13, 0, .h_i, -1
        ; paging off, CR3 -> PDPTEs with bit 5 set: MOV CR0 (PG) faults
        mov eax, cr0
        and eax, ~0x80000000
        mov cr0, eax
        mov dword [PDPT + 0x2c], 0
        mov dword [PDPT + 0x28], XPD | 0x21
        mov eax, PDPT + 0x20
        mov cr3, eax                    ; paging off: loads nothing
        TRY .c
        mov eax, cr0
        or eax, 0x80000000
.c_i:   mov cr0, eax
.c:     EXPECT "cr0-pg-pdpte-bit5", 13, 0, .c_i, -1
        mov eax, cr0
        and eax, 0x80000000
        CHK "cr0-pg-clear", 0
        ; paging on, a PDPTE changed in memory: MOV CR4 (PGE) reloads
        mov eax, PDPT
        mov cr3, eax
        call paging_on
        mov dword [PDPT], XPD | 0x41
        TRY .d
        mov eax, cr4
        or eax, 0x80
.d_i:   mov cr4, eax
.d:     EXPECT "cr4-pge-pdpte-bit6", 13, 0, .d_i, -1
        mov eax, cr4
        mov dword [PDPT], XPD | 1
        CHK "cr4-kept", 0x20
        ret

; 32-bit paging, CR4.PSE: Mimic's CPUID does not claim PSE-36, so bits
; 21:13 of a 4 MiB PDE are reserved: #PF with P|RSVD (SDM Vol. 3A 4.3,
; table 4-4; 4.7).
g_pse_rsvd:
        call markers
        call pg32_build
        mov dword [PD + 3 * 4], BIG4M | 0x200083        ; bit 21
        mov dword [PD + 5 * 4], BIG4M | 0x83
        mov dword [PD + 6 * 4], BIG4M | 0x2083          ; bit 13
        mov eax, cr4
        or eax, 0x10
        mov cr4, eax
        call paging_on
        mov eax, [0x1401234]
        CHK "4m-read", MARK_4M
        TRY .a
.a_i:   mov eax, [0xc01234]
.a:     EXPECT "4m-bit21", 14, 9, .a_i, 0xc01234
        TRY .b
.b_i:   mov dword [0xc01234], 0
.b:     EXPECT "4m-bit21-write", 14, 0x0b, .b_i, 0xc01234
        TRY .c
.c_i:   mov eax, [0x1801234]
.c:     EXPECT "4m-bit13", 14, 9, .c_i, 0x1801234
        ret

; Ring 3 with EFLAGS.AC (CR0.AM set by the group).
%macro RING3AC 0
        push dword SEL_DATA3 | 3
        push dword STK_R3
        push dword 0x40002
        push dword SEL_CODE3 | 3
        push dword %%r3
        iretd
%%r3:   mov ax, SEL_DATA3 | 3
        mov ds, ax
        mov es, ax
%endmacro

; #AC by operand size (SDM Vol. 3A 6.15 "Interrupt 17", table 6-7):
; words 2, CMPXCHG8B, 64-bit x87 and MMX operands 8, 80-bit x87 operands
; 8, FSTENV areas 4 with a 32-bit operand size, SGDT/SIDT operands 4.
g_ac_sizes:
        mov eax, cr0
        or eax, 0x40000                 ; AM
        and eax, ~0x0c                  ; EM, TS clear
        mov cr0, eax
        fninit
        mov dword [0x1008], 0
        mov dword [0x100c], 0
        mov dword [0x1010], 0
        TRY .w
        RING3AC
        mov ax, [0x1002]
.w_i:   mov ax, [0x1001]
        int 0x30
.w:     EXPECT "word", 17, 0, .w_i, -1
        TRY .x
        RING3AC
        xor eax, eax
        xor edx, edx
        cmpxchg8b [0x1008]
.x_i:   cmpxchg8b [0x1004]
        int 0x30
.x:     EXPECT "cmpxchg8b", 17, 0, .x_i, -1
        TRY .q
        RING3AC
        fld qword [0x1008]
        fstp st0
.q_i:   fld qword [0x100c]
        int 0x30
.q:     EXPECT "fld-m64", 17, 0, .q_i, -1
        TRY .s
        RING3AC
        fst qword [0x1008]
.s_i:   fst qword [0x1004]
        int 0x30
.s:     EXPECT "fst-m64", 17, 0, .s_i, -1
        TRY .t
        RING3AC
        fld tword [0x1008]
        fstp st0
.t_i:   fld tword [0x100c]
        int 0x30
.t:     EXPECT "fld-m80", 17, 0, .t_i, -1
        TRY .i
        RING3AC
        fild word [0x1002]
        fstp st0
.i_i:   fild word [0x1003]
        int 0x30
.i:     EXPECT "fild-m16", 17, 0, .i_i, -1
        TRY .e
        RING3AC
        fnstenv [0x1100]
.e_i:   fnstenv [0x1102]
        int 0x30
.e:     EXPECT "fnstenv-32", 17, 0, .e_i, -1
        TRY .m
        RING3AC
        movq mm0, [0x1008]
.m_i:   movq mm0, [0x1004]
        int 0x30
.m:     EXPECT "movq-m64", 17, 0, .m_i, -1
        emms
        TRY .g
        RING3AC
        sgdt [0x1104]
.g_i:   sidt [0x1102]
        int 0x30
.g:     EXPECT "sgdt-sidt", 17, 0, .g_i, -1
        mov eax, [0x1106]
        CHK "sgdt-base", gdt
        ret

; A stack switch whose frame does not fit in the new SS (from the TSS,
; limit 0xfff): #SS(new SS selector, EXT for an exception) with the
; ring-3 context intact; #SS goes to a task (SDM Vol. 2A INT n, CALL;
; Vol. 3A 6.12.1).  The frame that ends exactly at the limit fits.  An
; SS0 that is no writable data segment is #TS(SS0), EXT set while
; delivering an exception (SDM Vol. 3A 6.13).
g_ss_switch:
        mov dword [TSS + 8], SEL_LIM
        mov dword [TSS + 4], 0x1000             ; 20 bytes: 0xfec-0xfff
        TRY .ok
        RING3
        int 0x30
.ok:    EXPECT "frame-at-limit", 0x30, 0, -1, -1
        mov eax, [exc_hesp]
        CHK "frame-esp", 0x1000 - 20
        mov eax, 12
        mov edi, IDT + 12 * 8
        call task_gate
        mov dword [TSS + 4], 0x1010             ; 0xffc-0x100f
        TRY .a
        RING3
.a_i:   int 0x30
.a:     EXPECT "int-ss-limit", 12, SEL_LIM, .a_i, -1
        mov eax, [exc_ocs]
        CHK "int-old-cs", SEL_CODE3 | 3
        mov eax, [exc_esp]
        CHK "int-old-esp", STK_R3
        mov eax, [exc_oss]
        CHK "int-old-ss", SEL_DATA3 | 3
        mov eax, 12
        mov edi, IDT + 12 * 8
        call task_gate
        TRY .u
        RING3
.u_i:   ud2
.u:     EXPECT "ud-ss-limit-ext", 12, SEL_LIM | 1, .u_i, -1
        mov eax, .cg_target
        mov [gdt + SEL_CGATE], ax
        mov word [gdt + SEL_CGATE + 2], SEL_CODE
        mov word [gdt + SEL_CGATE + 4], 0xec00  ; 32-bit call gate, DPL 3
        shr eax, 16
        mov [gdt + SEL_CGATE + 6], ax
        mov eax, 12
        mov edi, IDT + 12 * 8
        call task_gate
        mov dword [TSS + 4], 0x100c             ; 16 bytes: 0xffc-0x100b
        TRY .c
        RING3
.c_i:   call SEL_CGATE | 3:0
        int 0x30
.c:     EXPECT "callgate-ss-limit", 12, SEL_LIM, .c_i, -1
        mov eax, [exc_esp]
        CHK "callgate-old-esp", STK_R3
        mov eax, [exc_oss]
        CHK "callgate-old-ss", SEL_DATA3 | 3
        ; SS0 not a writable data segment: #TS(SS0), EXT for an exception
        mov dword [TSS + 8], SEL_CODE
        mov dword [TSS + 4], STK_R0
        mov eax, 10
        mov edi, IDT + 10 * 8
        call task_gate
        TRY .t
        RING3
.t_i:   int 0x30
.t:     EXPECT "int-ts-ss", 10, SEL_CODE, .t_i, -1
        mov eax, 10
        mov edi, IDT + 10 * 8
        call task_gate
        TRY .v
        RING3
.v_i:   ud2
.v:     EXPECT "ud-ts-ss-ext", 10, SEL_CODE | 1, .v_i, -1
        ret
.cg_target:
        int 0x30
.cg_n:  jmp .cg_n

; Priorities (SDM Vol. 3A 6.9, table 6-2): a code breakpoint (priority
; 7) comes before the #PF of fetching the instruction (8); #NM from
; decoding (9) before the #PF of the operand (10); a single-step trap on
; the previous instruction (4) before an external interrupt (6) that the
; instruction let in (OUT unmasking a pending IRQ0; the PIC is moved to
; vectors 0x20-0x27 first).
g_priority:
        call pg32_build
        call paging_on
        xor eax, eax
        mov dr6, eax
        mov cr2, eax
        mov eax, 0x401000               ; a hole
        mov dr0, eax
        mov eax, 1                      ; L0, execute
        mov dr7, eax
        TRY .b
        mov eax, 0x401000
        jmp eax
.b:     EXPECT "bp-before-fetch-pf", 1, 0, 0x401000, 0
        mov eax, dr6
        and eax, 0x0f
        CHK "bp-dr6", 1
        xor eax, eax
        mov dr7, eax
        TRY .p
        mov eax, 0x401000
        jmp eax
.p:     EXPECT "fetch-pf", 14, 0, 0x401000, 0x401000
        mov eax, cr0
        or eax, 0x08                    ; TS
        mov cr0, eax
        xor eax, eax
        mov cr2, eax
        TRY .n
.n_i:   fld dword [0x402000]            ; a hole
.n:     EXPECT "nm-before-operand-pf", 7, 0, .n_i, 0
        clts

        mov al, 0x11                    ; ICW1: edge, cascade, ICW4
        out 0x20, al
        mov al, 0x20                    ; ICW2: vectors 0x20-0x27
        out 0x21, al
        mov al, 0x04
        out 0x21, al
        mov al, 0x01
        out 0x21, al
        mov al, 0xff
        out 0x21, al
        mov ecx, 0x10000000             ; wait for IRQ0 in the IRR
.w:     mov al, 0x0a
        out 0x20, al
        in al, 0x20
        test al, 1
        jnz .pend
        loop .w
        mov eax, 0
        CHK "irq0-pending", 1
.pend:  TRY .t
        mov al, 0xfe
        pushfd
        or dword [esp], 0x300           ; TF, IF (IRQ0 still masked)
        popfd
        out 0x21, al
.t_n:   nop
        nop
.t:     EXPECT "tf-before-intr", 1, 0, .t_n, -1
        mov eax, [exc_efl]
        and eax, 0x300
        CHK "tf-if-saved", 0x300
        TRY .i
        sti
        nop
        nop
        cli
.i:     EXPECT "intr-after", 0x20, 0, -1, -1
        mov al, 0x20                    ; EOI
        out 0x20, al
        mov al, 0xff
        out 0x21, al
        ret

; ---------------------------------------------------------------------
        align 16
stubs:                                  ; 16 bytes each
%assign v 0
%rep 0x40
%if v == 8 || (v >= 10 && v <= 14) || v == 17
        push strict dword v
        jmp near exc_common
%else
        push strict dword 0
        push strict dword v
        jmp near exc_common
%endif
        align 16
%assign v v + 1
%endrep
stub_other:
        push strict dword 0
        push strict dword 0xff
        jmp near exc_common

; ---- data -----------------------------------------------------------
        align 4
bounds:     dd 0, 5
scratch_src: dd 1, 2, 3, 4, 5, 6, 7, 8
scratch:    dd 0
recover:    dd 0
rec_esp:    dd 0
exc_vec:    dd 0
exc_err:    dd 0
exc_eip:    dd 0
exc_cs:     dd 0
exc_efl:    dd 0
exc_esp:    dd 0
exc_ss:     dd 0
exc_hesp:   dd 0
exc_cr2:    dd 0
exc_count:  dd 0
exc_ocs:    dd 0
exc_hefl:   dd 0
exc_oss:    dd 0
se_cs:      dd 0
se_ss:      dd 0
se_esp:     dd 0
se_efl:     dd 0
r3_cs:      dd 0
r3_ss:      dd 0
r3_esp:     dd 0
r3_val:     dd 0
conf_cs:    dd 0
conf_ss:    dd 0
conf_esp:   dd 0
cur_name:   dd 0
cur_fn:     dd 0
group_ret:  dd 0
groups_ok:  dd 0
groups_failed: dd 0
capture:    dd 0
failbuf:    times 200 db 0
failbuf_end:

msg_hello:  db "mmtest: protected mode", 13, 10, 0
msg_pre:    db "mmtest: ", 0
msg_grp_ok: db " ok", 13, 10, 0
msg_grp_fail: db " FAIL ", 0
msg_space:  db " ", 0
msg_ok:     db "MMTEST OK groups=", 0
msg_final_fail: db "MMTEST FAIL ", 0
msg_nl:     db 13, 10, 0
msg_got:    db " got=", 0
msg_want:   db " want=", 0
msg_vec:    db " vec=", 0
msg_err:    db " err=", 0
msg_eip:    db " eip=", 0
msg_cr2:    db " cr2=", 0
msg_n:      db " n=", 0
msg_unexpected: db "unexpected", 0

        times (SECTORS + 1) * 512 - ($ - $$) db 0
