/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A 32-bit program for the SSE unit, built by the host's compiler with
 * -m32 -msse2 -mfpmath=sse -O2 -static (and again for -march=nehalem):
 * scalar and auto-vectorised floating point in every rounding mode,
 * conversions, integer vector loops, glibc's SSE2/SSE4.2 string functions
 * (picked by CPUID) and qsort.  tests/cpu/sse_prog.py runs it under
 * mimic-i386 and natively on the host; the outputs must be equal.
 */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 1024

static double da[N], db[N];
static float fa[N], fb[N];
static int32_t ia[N], ib[N];
static uint8_t ba[N], bb[N];
static uint32_t seed = 12345;

static uint32_t rnd(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 0x100000001b3ull;
    }
    return h;
}

int main(void)
{
    static const int modes[] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD,
                                 FE_TOWARDZERO };
    for (int i = 0; i < N; i++) {
        da[i] = (double)(int32_t)rnd() / (double)(rnd() % 1000 + 1);
        db[i] = (double)rnd() / 3.0e5 + 1e-3;
        fa[i] = (float)da[i] * 0.5f;
        fb[i] = (float)db[i] + 0.25f;
        ia[i] = (int32_t)rnd() - (1 << 30);
        ib[i] = (int32_t)(rnd() % 5000) - 2500;
        ba[i] = rnd();
        bb[i] = rnd();
    }
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        double s = 0, p = 1, q = 0;
        float fs = 0, fp = 0;
        for (int i = 0; i < N; i++) {
            s += da[i] / db[i];
            p *= 1.0 + 1e-7 * db[i];
            q += sqrt(db[i]) - (double)(int)db[i];
            fs += fa[i] * fb[i];
            fp += sqrtf(fb[i]) / (fa[i] + 1000.5f);
        }
        long long r = llrint(s / 7.0);
        printf("mode %d: %a %a %a %a %a %lld %d\n", m, s, p, q, (double)fs,
               (double)fp, r, (int)lrintf(fs));
    }
    fesetround(FE_TONEAREST);
    /* Vector loops (-O2 vectorises them with SSE2/SSE4). */
    double dmax = -INFINITY, dmin = INFINITY;
    int32_t imax = INT32_MIN, imin = INT32_MAX;
    int64_t isum = 0;
    unsigned bsum = 0, bmax = 0;
    for (int i = 0; i < N; i++) {
        da[i] = da[i] * 1.5 + db[i];
        fa[i] = fa[i] < fb[i] ? fb[i] - fa[i] : fa[i] * fb[i];
        ia[i] = ia[i] + ib[i] * 3;
        ba[i] = (uint8_t)(ba[i] + bb[i]) ^ (ba[i] > bb[i] ? 0x55 : 0);
        dmax = da[i] > dmax ? da[i] : dmax;
        dmin = da[i] < dmin ? da[i] : dmin;
        imax = ia[i] > imax ? ia[i] : imax;
        imin = ia[i] < imin ? ia[i] : imin;
        isum += ia[i] >> 3;
        bsum += ba[i];
        bmax = ba[i] > bmax ? ba[i] : bmax;
    }
    printf("vec: %a %a %d %d %lld %u %u\n", dmax, dmin, imax, imin,
           (long long)isum, bsum, bmax);
    /* Conversions, the edge cases included. */
    static const double conv[] = { 0.5, 1.5, 2.5, -0.5, -1.5, 2147483647.5,
                                   -2147483648.5, 1e10, -1e10, 3e-310,
                                   NAN, INFINITY, -0.0, 4294967296.0 };
    for (unsigned i = 0; i < sizeof(conv) / sizeof(conv[0]); i++) {
        volatile double d = conv[i];
        volatile float f = (float)d;
        printf("conv %u: %d %d %lld %a %a %d\n", i, (int)d, (int)lrint(d),
               (long long)(d > -9e18 && d < 9e18 ? (long long)d : 0),
               (double)f, (double)(float)(int)f, (int)f);
    }
    /* glibc's string functions (SSE2/SSSE3/SSE4.2 versions by CPUID). */
    static char text[4096];
    for (int i = 0; i < (int)sizeof(text) - 1; i++) {
        text[i] = 'a' + rnd() % 26;
    }
    text[4000] = 0;
    char *copy = malloc(4096);
    memcpy(copy, text, 4096);
    memmove(copy + 3, copy, 3000);
    printf("str: %zu %td %td %d %d %zu %zu\n", strlen(text),
           strchr(text, 'q') - text, strrchr(text, 'z') - text,
           memcmp(copy, text, 4000) > 0, strcmp(text + 1, copy + 7) > 0,
           strspn(text, "abcdefghijklm"), strcspn(text, "xyz"));
    printf("strstr: %td %p\n", strstr(text, "qa") ? strstr(text, "qa") - text
                                                    : -1,
           (void *)strstr(text, "zzzzzzzz"));
    memset(copy, 0x5a, 1000);
    uint64_t h = mix(1469598103934665603ull, copy, 4096);
    qsort(da, N, sizeof(da[0]), cmp_double);
    h = mix(h, da, sizeof(da));
    h = mix(h, fa, sizeof(fa));
    h = mix(h, ia, sizeof(ia));
    h = mix(h, ba, sizeof(ba));
    printf("hash: %016llx\n", (unsigned long long)h);
    free(copy);
    return 0;
}
