/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the qcow2/qcow drivers: the input becomes a
 * temporary image file that is opened read-only (format probed), read
 * through and checked. Built with meson -Dfuzz=true (clang). The same
 * entry point is replayed over tests/fuzz/corpus-qcow2/ by
 * fuzz-replay.c in the normal build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "images/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/mimic-fuzz-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        return 0;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            break;
        }
        done += n;
    }
    close(fd);
    const char *fmts[] = { "qcow2", "qcow", NULL };
    for (int i = 0; fmts[i]; i++) {
        BlockOpenOptions o = { .format = fmts[i], .read_only = true };
        BlockDev *b = blk_open(path, &o, NULL);
        if (!b) {
            continue;
        }
        uint8_t buf[4096];
        uint64_t sz = blk_get_size(b);
        /* Bounded: the first 4 MiB and a few scattered reads. */
        for (uint64_t off = 0; off < sz && off < (4u << 20); off += 4096) {
            blk_pread(b, off, buf, MIN(4096, sz - off), NULL);
        }
        for (int k = 1; k <= 8 && sz; k++) {
            uint64_t off = sz / 9 * k;
            blk_pread(b, off, buf, MIN(4096, sz - off), NULL);
        }
        BlockCheckResult r;
        blk_check(b, BLOCK_CHECK_NONE, &r, NULL);
        BlockSnapshotInfo *l;
        int n = blk_snapshot_list(b, &l, NULL);
        if (n >= 0) {
            blk_snapshot_list_free(l, n);
        }
        blk_close(b);
    }
    unlink(path);
    return 0;
}
