/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The program test_user.py debugs over -g (built with the host's
 * gcc -m32 -static -g): a function to break in, a global GDB changes, an
 * x87 value, and with an argument a store through a null pointer
 * (SIGSEGV reported to GDB first).
 */
#include <stdio.h>

int counter;
volatile double scale = 1.5;

__attribute__((noinline)) int add(int a, int b)
{
    counter++;
    return a + b;
}

int main(int argc, char **argv)
{
    int s = 0;
    for (int i = 0; i < 5; i++) {
        s = add(s, i);
    }
    printf("sum %d counter %d scaled %g\n", s, counter, s * scale);
    fflush(stdout);
    if (argc > 1) {
        *(volatile int *)(argv[1][0] == 'n' ? 0 : 16) = 1;
    }
    return 0;
}
