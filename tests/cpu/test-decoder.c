/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decoder conformance against the iced-x86 test vectors
 * (DecoderTest16/32.txt): for every encoding whose instruction needs only
 * CPUID features Mimic's CPU claims (per InstructionInfoTest_16/32.txt),
 * the decoder must agree on validity and length.  INVALID vectors must be
 * rejected.  Skips (77) when the data is absent.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "arch/x86/x86.h"

static const char *const claimed[] = {
    "INTEL8086", "INTEL8086_ONLY", "INTEL186", "INTEL286", "INTEL386",
    "INTEL486", "PENTIUM", "CMOV", "MMX", "FPU", "FPU287", "FPU387",
    "CPUID", "MSR", "TSC", "CX8", "SEP", "INTEL8086;FPU", "MULTIBYTENOP",
    "PAUSE", "FXSR", NULL,
};

static bool features_ok(const char *list)
{
    char **parts = g_strsplit(list, ";", -1);
    bool ok = true;
    for (char **p = parts; *p; p++) {
        bool found = false;
        for (int i = 0; claimed[i]; i++) {
            found = found || !strcmp(*p, claimed[i]);
        }
        ok = ok && found;
    }
    g_strfreev(parts);
    return ok;
}

static char *data_dir(void)
{
    const char *env = g_getenv("MIMIC_TESTDATA");
    if (env) {
        char *d = g_build_filename(env, "iced-x86", NULL);
        if (g_file_test(d, G_FILE_TEST_IS_DIR)) {
            return d;
        }
        g_free(d);
    }
    if (g_file_test("/work/shared/testdata/iced-x86", G_FILE_TEST_IS_DIR)) {
        return g_strdup("/work/shared/testdata/iced-x86");
    }
    return NULL;
}

static int parse_hex(const char *s, uint8_t *out)
{
    int n = 0;
    while (*s && n < 16) {
        while (*s == ' ') {
            s++;
        }
        if (!g_ascii_isxdigit(s[0]) || !g_ascii_isxdigit(s[1])) {
            break;
        }
        out[n++] = g_ascii_xdigit_value(s[0]) << 4 | g_ascii_xdigit_value(s[1]);
        s += 2;
    }
    return n;
}

static void run_mode(int bits)
{
    char *dir = data_dir();
    if (!dir) {
        g_test_skip("iced-x86 test data not found");
        return;
    }
    char *ipath = g_strdup_printf("%s/InstructionInfoTest_%d.txt", dir, bits);
    char *dpath = g_strdup_printf("%s/DecoderTest%d.txt", dir, bits);
    char *text;
    GHashTable *feat = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                             g_free);
    g_assert_true(g_file_get_contents(ipath, &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (**l == '#' || !**l) {
            continue;
        }
        char **f = g_strsplit(*l, ",", 5);
        if (f[0] && f[1] && f[2] && f[3]) {
            g_hash_table_replace(feat, g_strdup(g_strstrip(f[1])),
                                 g_strdup(g_strstrip(f[3])));
        }
        g_strfreev(f);
    }
    g_strfreev(lines);
    g_free(text);
    g_assert_true(g_file_get_contents(dpath, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    int checked = 0, bad = 0;
    for (char **l = lines; *l; l++) {
        if (**l == '#' || !**l) {
            continue;
        }
        /* The hint-NOP space (0F 18-1F) as a CPU without MPX, CET and
           the like decodes it: iced's ForceReservedNop option. */
        bool hint_nop = strstr(*l, "decopt=ForceReservedNop") != NULL;
        if (strstr(*l, "decopt=") && !hint_nop) {
            continue; /* needs non-default decoder options */
        }
        char **f = g_strsplit(*l, ",", 3);
        if (!f[0] || !f[1]) {
            g_strfreev(f);
            continue;
        }
        char *code = g_strstrip(f[1]);
        uint8_t bytes[16];
        int n = parse_hex(f[0], bytes);
        bool want_valid = strcmp(code, "INVALID") != 0;
        /* iced decodes a misplaced LOCK (and AMD's LOCK MOV CR8 alias);
           Mimic's decoder turns those into #UD, which the SingleStep
           tests check at execution. */
        bool lock = false;
        int opi = n;   /* index of the opcode byte, after the prefixes */
        for (int i = 0; i < n; i++) {
            opi = i;
            if (bytes[i] == 0xf0) {
                lock = true;
            }
            if (bytes[i] != 0xf0 && bytes[i] != 0x66 && bytes[i] != 0x67 &&
                bytes[i] != 0xf2 && bytes[i] != 0xf3 && bytes[i] != 0x26 &&
                bytes[i] != 0x2e && bytes[i] != 0x36 && bytes[i] != 0x3e &&
                bytes[i] != 0x64 && bytes[i] != 0x65) {
                break;
            }
        }
        if (lock) {
            g_strfreev(f);
            continue;
        }
        if (want_valid && !hint_nop) {
            const char *fs = g_hash_table_lookup(feat, code);
            if (!fs || !features_ok(fs)) {
                g_strfreev(f);
                continue;
            }
        }
        /* Encodings with prefixes we never accept as meaningful
           (VEX/EVEX space, 64-bit) are outside the claimed set anyway. */
        bool valid;
        int len = x86_decode_buf(bytes, n, bits == 32, &valid);
        checked++;
        /* The opcode map (opcodes.def) names every opcode that decodes. */
        if (valid && opi < n) {
            unsigned op = bytes[opi] == 0x0f && opi + 1 < n
                              ? 0x100u | bytes[opi + 1] : bytes[opi];
            if (!x86_opcode_name(op)) {
                bad++;
                printf("# %d-bit %s decodes but opcode %03x has no name in "
                       "opcodes.def\n", bits, f[0], op);
            }
        }
        if (valid != want_valid || (want_valid && len != n)) {
            bad++;
            if (bad <= 40) {
                g_test_message("%d-bit %s: %s: got %s len %d, want len %d",
                               bits, f[0], code, valid ? "valid" : "invalid",
                               len, n);
                printf("# mismatch %d-bit %s: %s: got %s len %d\n", bits,
                       f[0], code, valid ? "valid" : "invalid", len);
            }
        }
        g_strfreev(f);
    }
    printf("# %d-bit: %d vectors checked, %d mismatches\n", bits, checked,
           bad);
    g_strfreev(lines);
    g_free(text);
    g_hash_table_destroy(feat);
    g_free(ipath);
    g_free(dpath);
    g_free(dir);
    g_assert_cmpint(bad, ==, 0);
}

static void test_decoder16(void)
{
    run_mode(16);
}

static void test_decoder32(void)
{
    run_mode(32);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu/x86/decoder/iced16", test_decoder16);
    g_test_add_func("/cpu/x86/decoder/iced32", test_decoder32);
    return g_test_run();
}
