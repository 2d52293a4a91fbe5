/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Block-layer micro benchmark used by bench/images.sh: COUNT 4 KiB reads
 * or writes through Mimic's driver for FORMAT, offsets advancing by STEP
 * bytes modulo the image size (the access pattern of `qemu-img bench -S`).
 * Prints the elapsed seconds on stdout.
 * usage: images-bench FORMAT FILE read|write COUNT STEP
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/block.h"

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s FORMAT FILE read|write COUNT STEP\n",
                argv[0]);
        return 1;
    }
    bool wr = !strcmp(argv[3], "write");
    long count = atol(argv[4]);
    uint64_t step = strtoull(argv[5], NULL, 10);
    GError *err = NULL;
    BlockOpenOptions o = { .format = argv[1], .read_only = !wr };
    BlockDev *b = blk_open(argv[2], &o, &err);
    if (!b) {
        fprintf(stderr, "%s\n", err->message);
        return 1;
    }
    uint64_t size = blk_get_size(b);
    uint8_t buf[4096];
    memset(buf, 0xa5, sizeof(buf));
    uint64_t off = 0;
    gint64 t0 = g_get_monotonic_time();
    for (long i = 0; i < count; i++) {
        bool ok = wr ? blk_pwrite(b, off, buf, 4096, &err)
                     : blk_pread(b, off, buf, 4096, &err);
        if (!ok) {
            fprintf(stderr, "%s\n", err->message);
            return 1;
        }
        off = (off + step) % (size - 4096 + 1);
        off &= ~4095ULL;
    }
    if (wr) {
        blk_flush(b, NULL);
    }
    gint64 t1 = g_get_monotonic_time();
    blk_close(b);
    printf("%.6f\n", (t1 - t0) / 1e6);
    return 0;
}
