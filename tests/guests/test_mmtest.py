#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Memory management and exceptions: boot tests/cpu/mmtest.asm (a bare
test kernel on a raw disk image) through SeaBIOS and check the lines it
prints on COM1: one per check group ("mmtest: <group> ok" or "mmtest:
<group> FAIL <check> <details>") and a final "MMTEST OK groups=N".

With EMULATOR = Mimic every line must be the expected one; when a
qemu-system-i386 is given and found, it runs the same image as the oracle
and Mimic's lines must equal QEMU's, except for the groups where QEMU is
known to deviate from the Intel SDM (QEMU_DEVIATIONS: there QEMU's line
must show exactly that deviation, and Mimic's the SDM behaviour).  With
EMULATOR = qemu-system-i386 (the oracle test) QEMU's lines must be the
expected ones with those deviations; it skips (77) when QEMU is missing.

usage: test_mmtest.py EMULATOR MMTEST_IMG [QEMU]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boottest  # noqa: E402

GROUPS = [
    'cpuid', 'exc-fault-trap', 'exc-lock', 'exc-double-fault',
    'exc-sysenter', 'seg-load', 'seg-priv', 'seg-conforming',
    'seg-tss-stack', 'seg-limit', 'seg-expand-down', 'seg-null-use',
    'seg-cs-limit', 'seg-far', 'exc-task-checks', 'exc-ac', 'exc-gates',
    'exc-privileged', 'exc-msr-cr', 'exc-df-task', 'seg-stack-push',
    'pg-4k', 'pg-wp', 'pg-user', 'pg-pse', 'pg-pae', 'pg-pae-rsvd',
    'pg-fault-state', 'exc-pf-in-delivery', 'pg-seg-order', 'pg-invlpg', 'pg-global',
    'pg-pdpte-rsvd', 'pg-pse-rsvd', 'exc-ac-sizes', 'exc-ss-switch',
    'exc-priority',
]
EXPECTED = ['mmtest: %s ok' % g for g in GROUPS] + \
    ['MMTEST OK groups=%d' % len(GROUPS)]

# Where QEMU (TCG) does not do what the SDM says: group -> (the check that
# fails under QEMU, the SDM reference).  The checks of a group after the
# first failing one are not compared with QEMU, so each such check is the
# last of its group where possible.
QEMU_DEVIATIONS = {
    'exc-lock': ('lock-mov',
                 'QEMU runs LOCK MOV without #UD; SDM Vol. 2A "LOCK": #UD '
                 'for an instruction not in the lockable list'),
    'exc-double-fault': ('ud-np-gate',
                         'QEMU pushes #NP error code 0x32 for a not-present '
                         'gate met while delivering #UD; SDM Vol. 3A 6.13: '
                         'EXT (bit 0) is set, 0x33'),
    'seg-load': ('ro-write',
                 'QEMU does not check data accesses against the segment '
                 'type; SDM Vol. 3A 5.5, Vol. 2B MOV: #GP(0) for a write '
                 'to a non-writable segment'),
    'seg-limit': ('dword-over-limit',
                  'QEMU does not check data segment limits; SDM Vol. 3A '
                  '5.3: #GP(0) (#SS(0) for SS) beyond the limit'),
    'seg-expand-down': ('ed32-below',
                        'QEMU does not check limits of expand-down '
                        'segments; SDM Vol. 3A 3.4.5.1, 5.3'),
    'seg-null-use': ('null-read',
                     'QEMU lets a memory access through a null selector '
                     'pass; SDM Vol. 3A 3.4.2, Vol. 2B MOV: #GP(0)'),
    'seg-cs-limit': ('near-jmp',
                     'QEMU jumps beyond the CS limit; SDM Vol. 2A JMP: '
                     '#GP(0) if the target is beyond the code segment '
                     'limit'),
    'exc-ac': ('ac-cpl3',
               'QEMU has no alignment check; SDM Vol. 3A 6.15 '
               '"Interrupt 17": #AC(0) for a misaligned access at CPL 3 '
               'with CR0.AM and EFLAGS.AC'),
    'exc-msr-cr': ('cr0-nw',
                   'QEMU sets CR0.NW with CD clear, and reads an MSR that '
                   'does not exist as 0; SDM Vol. 2B MOV CR: #GP(0) for NW '
                   'without CD, RDMSR: #GP(0) for an unimplemented MSR'),
    'pg-seg-order': ('over-limit-gp',
                     'QEMU does not check data segment limits, so the '
                     'access reaches paging (#PF); SDM Vol. 3A 5.3, 3.1: '
                     'segmentation first, #GP(0)'),
    'seg-stack-push': ('push-over-limit',
                       'QEMU does not check PUSH against the SS limit; SDM '
                       'Vol. 3A 5.3, Vol. 2B PUSH: #SS(0)'),
    'pg-pae': ('pdpte-untouched',
               'QEMU sets bit 5 (A) in a PAE PDPTE; SDM Vol. 3A 4.4.1, '
               'table 4-8: bits 8:5 of a PDPTE are reserved, the '
               'processor does not set an accessed flag there'),
    'pg-pae-rsvd': ('pte-bit63',
                    'QEMU reports a reserved-bit #PF with error code 8 '
                    '(no P); SDM Vol. 3A 4.7: RSVD can be set only with P, '
                    'error code 9'),
    'pg-pdpte-rsvd': ('cr3-pdpte-bit1',
                      'QEMU loads PDPTEs with reserved bits at MOV CR3 '
                      '(it checks them at each walk instead); SDM Vol. 3A '
                      '4.4.1: #GP(0) at MOV CR3/CR0/CR4 when a present '
                      'PDPTE sets a reserved bit'),
    'pg-pse-rsvd': ('4m-bit21',
                    'QEMU reports a reserved-bit #PF with error code 8 '
                    '(no P); SDM Vol. 3A 4.7: error code 9'),
    'exc-ac-sizes': ('word',
                     'QEMU has no alignment check; SDM Vol. 3A 6.15 '
                     '"Interrupt 17", table 6-7'),
    'exc-ss-switch': ('int-ss-limit',
                      'QEMU pushes the frame of a stack switch without '
                      'checking the new SS limit; SDM Vol. 2A INT n: '
                      '#SS(new SS selector) if the new stack has no room'),
    'pg-global': ('global-kept',
                  'QEMU drops global TLB entries on MOV CR3 (allowed: SDM '
                  'Vol. 3A 4.10.1, a TLB may drop entries at any time); '
                  'Mimic keeps them as 4.10.4.1 describes'),
}

LINE = re.compile(r'(mmtest: [^\r\n]*|MMTEST (OK|FAIL)[^\r\n]*)\r?\n')


def run(exe, img):
    """Boot the image; return the group lines and the final line."""
    tmp = tempfile.mkdtemp(prefix='mmtest-')
    disk = os.path.join(tmp, 'mmtest.img')
    shutil.copyfile(img, disk)
    emu = boottest.Emulator([exe, '-nographic', '-m', '32', '-net', 'none',
                             '-drive', 'file=%s,format=raw,if=ide' % disk])
    lines = []
    try:
        while True:
            m = emu.wait_for(LINE, 120)
            line = m.group(1).strip()
            print('guest: ' + line, flush=True)
            if line == 'mmtest: protected mode':
                continue
            lines.append(line)
            if line.startswith('MMTEST'):
                return lines
    finally:
        emu.close()
        shutil.rmtree(tmp, ignore_errors=True)


def deviation_ok(group, line):
    check = QEMU_DEVIATIONS[group][0]
    return line.startswith('mmtest: %s FAIL %s ' % (group, check))


def check_qemu(lines):
    """QEMU's lines: the expected ones but for the known deviations."""
    bad = []
    if len(lines) != len(EXPECTED):
        return ['%d lines, expected %d' % (len(lines), len(EXPECTED))]
    for g, want, got in zip(GROUPS, EXPECTED, lines):
        if g in QEMU_DEVIATIONS:
            if not deviation_ok(g, got):
                bad.append('%r: expected the known QEMU deviation %r '
                           '(or has QEMU been fixed? then update '
                           'QEMU_DEVIATIONS)' % (got, QEMU_DEVIATIONS[g][0]))
        elif got != want:
            bad.append('%r, expected %r' % (got, want))
    first = next(g for g in GROUPS if g in QEMU_DEVIATIONS)
    final = 'MMTEST FAIL %s %s ' % (first, QEMU_DEVIATIONS[first][0])
    if not lines[-1].startswith(final):
        bad.append('final %r, expected it to start with %r' %
                   (lines[-1], final))
    return bad


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    exe = boottest.find_emulator(sys.argv[1])
    img = sys.argv[2]
    is_qemu = 'qemu' in os.path.basename(exe)
    try:
        lines = run(exe, img)
    except (boottest.BootError, subprocess.SubprocessError) as e:
        print('FAIL: %s' % e)
        return 1

    bad = []
    if is_qemu:
        for g, (check, why) in QEMU_DEVIATIONS.items():
            print('note: QEMU deviates from the SDM in %s/%s: %s' %
                  (g, check, why))
        bad = check_qemu(lines)
    else:
        if lines != EXPECTED:
            for i, want in enumerate(EXPECTED):
                got = lines[i] if i < len(lines) else '(missing)'
                if got != want:
                    bad.append('%r, expected %r' % (got, want))
        qemu = sys.argv[3] if len(sys.argv) == 4 else None
        qexe = shutil.which(qemu) if qemu else None
        if not qexe:
            print('NOTE ' + '!' * 60)
            print('NOTE: qemu-system-i386 (%r) not found: Mimic was NOT '
                  'compared with the QEMU oracle' % qemu)
            print('NOTE ' + '!' * 60)
        else:
            try:
                qlines = run(qexe, img)
            except (boottest.BootError, subprocess.SubprocessError) as e:
                print('FAIL: the QEMU oracle: %s' % e)
                return 1
            if len(qlines) != len(lines):
                bad.append('QEMU printed %d lines, Mimic %d' %
                           (len(qlines), len(lines)))
            for g, ml, ql in zip(GROUPS, lines, qlines):
                if g in QEMU_DEVIATIONS and deviation_ok(g, ql):
                    print('note: %s: QEMU deviates from the SDM (%s); '
                          'Mimic: %r' % (g, QEMU_DEVIATIONS[g][1], ml))
                elif ml != ql:
                    bad.append('group %s: Mimic %r, QEMU %r' % (g, ml, ql))
            if not bad:
                print('ok: Mimic agrees with QEMU on every group but the '
                      '%d known QEMU deviations' % len(QEMU_DEVIATIONS))
    for b in bad:
        print('FAIL: ' + b)
    if bad:
        return 1
    if is_qemu:
        print('ok: QEMU printed the expected lines but for its %d known '
              'deviations from the SDM' % len(QEMU_DEVIATIONS))
    else:
        print('ok: ' + lines[-1])
    return 0


if __name__ == '__main__':
    sys.exit(main())
