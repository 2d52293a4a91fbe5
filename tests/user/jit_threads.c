/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cross-thread self-modifying code (docs/user-mode.md): a writer thread
 * writes a small function ("mov eax, v; [add eax, eax;] ret") into an
 * RWX page, in one of three places it reuses, and publishes v; the main
 * thread calls it and checks the result.  A translation cache that does
 * not see the other thread's writes returns an older function's result.
 * Built by test_user.py with the host's gcc -m32 -static -pthread.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define ROUNDS 600

static unsigned char *code;
static atomic_int ready, done;

static void *writer(void *arg)
{
    (void)arg;
    for (int v = 1; v <= ROUNDS; v++) {
        unsigned char f[8] = { 0xb8, 0, 0, 0, 0, 0xc3, 0x90, 0x90 };
        memcpy(f + 1, &v, 4);
        if (v & 1) {
            f[5] = 0x01; /* add eax, eax */
            f[6] = 0xc0;
            f[7] = 0xc3;
        }
        memcpy(code + (v % 3) * 8, f, 8);
        atomic_store(&ready, v);
        while (atomic_load(&done) != v) {
            sched_yield();
        }
    }
    return NULL;
}

int main(void)
{
    code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        return 2;
    }
    pthread_t th;
    pthread_create(&th, NULL, writer, NULL);
    int bad = 0;
    for (int v = 1; v <= ROUNDS; v++) {
        while (atomic_load(&ready) != v) {
            sched_yield();
        }
        int (*fn)(void) = (int (*)(void))(code + (v % 3) * 8);
        int r = fn();
        if (r != ((v & 1) ? 2 * v : v) && bad++ < 5) {
            printf("round %d: got %d\n", v, r);
        }
        atomic_store(&done, v);
    }
    pthread_join(th, NULL);
    printf("jit rounds %d, wrong %d\n", ROUNDS, bad);
    return bad != 0;
}
