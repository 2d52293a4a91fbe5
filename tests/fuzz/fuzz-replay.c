/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replays every file of a fuzz corpus directory through the libFuzzer
 * entry point it is linked with (fuzz-qcow2.c, fuzz-hmp.c, ...), so the
 * seeds and every checked-in crash reproducer run in the normal build.
 * usage: fuzz-replay-X CORPUS-DIR [TEST-PATH]
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *corpus;

static void test_replay(void)
{
    GError *err = NULL;
    GDir *d = g_dir_open(corpus, 0, &err);
    g_assert_no_error(err);
    const char *name;
    int n = 0;
    while ((name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(corpus, name, NULL);
        char *data;
        gsize len;
        g_assert_true(g_file_get_contents(p, &data, &len, NULL));
        g_test_message("replaying %s", name);
        LLVMFuzzerTestOneInput((const uint8_t *)data, len);
        g_free(data);
        n++;
    }
    g_dir_close(d);
    g_assert_cmpint(n, >, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    corpus = argc > 1 ? argv[1] : "corpus-qcow2";
    g_test_add_func(argc > 2 ? argv[2] : "/images/fuzz/qcow2-corpus-replay",
                    test_replay);
    return g_test_run();
}
