/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The raw block driver: reads, writes, ranges, -snapshot, format rule. */
#include <string.h>
#include <glib/gstdio.h>

#include "images/block.h"

static void test_raw(void)
{
    g_autofree char *dir = g_dir_make_tmp("mimic-raw-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "r.img", NULL);
    char data[10000];
    for (int i = 0; i < (int)sizeof(data); i++) {
        data[i] = i * 7;
    }
    g_assert_true(g_file_set_contents(path, data, sizeof(data), NULL));
    GError *err = NULL;

    /* Writable opens need a format; probing is for read-only use. */
    BlockOpenOptions none = { 0 };
    g_assert_null(blk_open(path, &none, &err));
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_FORMAT);
    g_clear_error(&err);

    BlockOpenOptions rw = { .format = "raw" };
    BlockDev *b = blk_open(path, &rw, &err);
    g_assert_no_error(err);
    g_assert_cmpint(blk_get_size(b), ==, sizeof(data));
    char buf[5000];
    g_assert_true(blk_pread(b, 4095, buf, 3000, NULL));
    g_assert_cmpmem(buf, 3000, data + 4095, 3000);
    g_assert_true(blk_pwrite(b, 9990, "0123456789", 10, NULL));
    g_assert_false(blk_pwrite(b, 9991, "0123456789", 10, &err));
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_RANGE);
    g_clear_error(&err);
    g_assert_false(blk_pread(b, UINT64_MAX - 2, buf, 10, &err));
    g_clear_error(&err);
    g_assert_true(blk_flush(b, NULL));
    blk_close(b);

    /* -snapshot: writes are visible, the file keeps its content. */
    BlockOpenOptions snap = { .format = "raw", .snapshot = true };
    b = blk_open(path, &snap, &err);
    g_assert_no_error(err);
    g_assert_true(blk_pwrite(b, 100, "XYZ", 3, NULL));
    g_assert_true(blk_pread(b, 98, buf, 7, NULL));
    g_assert_cmpmem(buf + 2, 3, "XYZ", 3);
    g_assert_cmphex((uint8_t)buf[0], ==, (uint8_t)data[98]);
    blk_close(b);
    g_autofree char *after = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(path, &after, &len, NULL));
    g_assert_cmpmem(after, 100, data, 100);
    g_assert_cmpmem(after + 100, 3, data + 100, 3);
    g_assert_cmpmem(after + 9990, 10, "0123456789", 10);

    /* Read-only refuses writes; missing files and directories fail. */
    BlockOpenOptions ro = { .read_only = true };
    b = blk_open(path, &ro, &err);
    g_assert_no_error(err);
    g_assert_false(blk_pwrite(b, 0, "a", 1, &err));
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_READ_ONLY);
    g_clear_error(&err);
    blk_close(b);
    g_assert_null(blk_open("/nonexistent/x", &ro, &err));
    g_clear_error(&err);
    g_assert_null(blk_open(dir, &ro, &err));
    g_clear_error(&err);
    g_unlink(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/images/raw/read-write-snapshot", test_raw);
    return g_test_run();
}
