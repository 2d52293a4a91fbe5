/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * -g all-stop and Ctrl-C (test_user.py drives the GDB remote protocol
 * itself): four threads count in counters[] without system calls while
 * the main thread waits in pthread_join; after an interrupt (0x03) every
 * counter must hold still while the debugger has the program stopped.
 * Built with the host's gcc -m32 -static -pthread.
 */
#include <pthread.h>

volatile unsigned counters[4];

static void *count(void *arg)
{
    volatile unsigned *c = arg;
    for (;;) {
        (*c)++;
    }
    return NULL;
}

int main(void)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        pthread_create(&th[i], NULL, count, (void *)&counters[i]);
    }
    pthread_join(th[0], NULL);
    return 0;
}
