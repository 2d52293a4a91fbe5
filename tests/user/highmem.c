/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A guest address space above 3 GiB (docs/user-mode.md): an mmap hint
 * at 0xd0000000 is honoured, MAP_FIXED at 0xf0000000 maps memory that
 * holds what is written, and PROT_NONE reservations of 256 MiB add up to
 * more than 3 GiB.  Built by test_user.py with the host's gcc -m32
 * -static and -m64; compared with the same program under Linux.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
    void *hint = (void *)(uintptr_t)0xd0000000u;
    void *p = mmap(hint, 65536, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("hint 0xd0000000: %s\n", p == hint ? "taken" : "not taken");
    if (p != MAP_FAILED) {
        munmap(p, 65536);
    }
    void *f = (void *)(uintptr_t)0xf0000000u;
    unsigned char *q = mmap(f, 65536, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if ((void *)q != f) {
        printf("MAP_FIXED 0xf0000000: fails\n");
        return 1;
    }
    for (int i = 0; i < 65536; i++) {
        q[i] = (unsigned char)(i * 7);
    }
    unsigned sum = 0;
    for (int i = 0; i < 65536; i++) {
        sum = sum * 31 + q[i];
    }
    printf("MAP_FIXED 0xf0000000: sum %08x\n", sum);
    munmap(q, 65536);
    unsigned mib = 0;
    uintptr_t top = 0;
    for (int i = 0; i < 64; i++) {
        void *r = mmap(NULL, 256u << 20, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r == MAP_FAILED) {
            break;
        }
        mib += 256;
        if ((uintptr_t)r + (256u << 20) - 1 > top) {
            top = (uintptr_t)r + (256u << 20) - 1;
        }
    }
    printf("reserved more than 3 GiB: %s\n", mib > 3072 ? "yes" : "no");
    printf("a reservation above 3 GiB: %s\n",
           top > 0xc0000000u ? "yes" : "no");
    return 0;
}
