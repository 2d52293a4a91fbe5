/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Self-modifying code inside one translated block (docs/user-mode.md,
 * "Speed"): a function on a writable and executable page stores a byte
 * where its argument points and then runs "mov $1, %eax".  Called on a
 * data byte until its block is hot (translated, its page write-protected
 * on the host), then on the immediate of that very instruction: the
 * patched instruction ("mov $2, %eax") must run.  Built by test_user.py
 * with the host's gcc -m32 -static.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
    static const unsigned char code[] = {
        0x53,                         /* push %ebx */
        0x8b, 0x5c, 0x24, 0x08,       /* mov 8(%esp), %ebx */
        0xc6, 0x03, 0x02,             /* movb $2, (%ebx) */
        0xb8, 0x01, 0x00, 0x00, 0x00, /* mov $1, %eax: byte 9 patched */
        0x5b,                         /* pop %ebx */
        0xc3,                         /* ret */
    };
    unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return 1;
    }
    memcpy(p, code, sizeof(code));
    int (*f)(volatile unsigned char *) =
        (int (*)(volatile unsigned char *))p;
    static volatile unsigned char data;
    for (int round = 0; round < 3; round++) {
        printf("round %d:", round);
        for (int i = 0; i < 8; i++) {
            printf(" %d", f(&data));
        }
        printf(" then %d\n", f(p + 9));
        p[9] = 1; /* back to "mov $1, %eax" */
    }
    return 0;
}
