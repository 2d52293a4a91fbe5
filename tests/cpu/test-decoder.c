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
    "PAUSE", "FXSR",
    /* the SSE family (exec_sse.c, issue 17) */
    "SSE", "SSE2", "SSE3", "SSSE3", "SSE4_1", "SSE4_2", "POPCNT", "CLFSH",
    "XSAVE", NULL,
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

/* Codes of the SSE family by name, where iced's InstructionInfo data has
   no entry for them (most SSE codes): legacy-encoded (not V/E-prefixed)
   codes with an XMM operand, the SSE extensions on MMX registers and the
   SSE-era system and integer instructions; not AES, PCLMULQDQ, SHA, GFNI,
   SSE4A, Key Locker and the like, which Mimic does not implement. */
static bool sse_by_name(const char *code)
{
    static const char *const not_impl[] = {
        "Aes", "Gf2p8", "Insertq", "Extrq", "Loadiwkey", "Movntsd",
        "Movntss", "Pclmul", "Sha", "XOP", "Encodekey", "Xsaveopt",
        "Xsavec", "Xsaves", "Xrstors", "Xsave64", "Xrstor64", "Clflushopt",
        NULL,
    };
    static const char *const by_name[] = {
        "Popcnt_", "Crc32_", "Ldmxcsr_", "Stmxcsr_", "Lfence", "Mfence",
        "Sfence", "Clflush_", "Xsave_", "Xrstor_", "Xgetbv", "Xsetbv",
        "Fisttp_", "Pshufw_", "Movntq_", "Maskmovq_", "Pextrw_r32_mm",
        "Pinsrw_mm", "Pmovmskb_r32_mm", "Paddq_mm", "Psubq_mm",
        "Pmuludq_mm", "Pminub_mm", "Pmaxub_mm", "Pminsw_mm", "Pmaxsw_mm",
        "Pavgb_mm", "Pavgw_mm", "Pmulhuw_mm", "Psadbw_mm", "Pshufb_mm",
        "Phaddw_mm", "Phaddd_mm", "Phaddsw_mm", "Phsubw_mm", "Phsubd_mm",
        "Phsubsw_mm", "Pmaddubsw_mm", "Pmulhrsw_mm", "Psignb_mm",
        "Psignw_mm", "Psignd_mm", "Pabsb_mm", "Pabsw_mm", "Pabsd_mm",
        "Palignr_mm", NULL,
    };
    if (code[0] == 'V' || code[0] == 'E') {
        return false;
    }
    for (int i = 0; not_impl[i]; i++) {
        if (g_str_has_prefix(code, not_impl[i])) {
            return false;
        }
    }
    for (int i = 0; by_name[i]; i++) {
        if (g_str_has_prefix(code, by_name[i])) {
            return true;
        }
    }
    return strstr(code, "xmm") != NULL;
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
            if ((!fs || !features_ok(fs)) && !sse_by_name(code)) {
                g_strfreev(f);
                continue;
            }
        }
        /* Encodings with prefixes we never accept as meaningful
           (VEX/EVEX space, 64-bit) are outside the claimed set anyway. */
        bool valid;
        int len = x86_decode_buf(bytes, n, bits == 32 ? X86_MODE32
                                                      : X86_MODE16, &valid);
        checked++;
        /* The opcode map (opcodes.def) names every opcode that decodes. */
        if (valid && opi < n) {
            unsigned op = bytes[opi] == 0x0f && opi + 1 < n
                              ? 0x100u | bytes[opi + 1] : bytes[opi];
            if ((op == 0x138 || op == 0x13a) && opi + 2 < n) {
                op = (op == 0x138 ? 0x200u : 0x300u) | bytes[opi + 2];
            }
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

/* Features of the 64-bit vectors the decoder takes (issue 17): the
   legacy set (with the SSE family), X64 (REX, MOVSXD, CDQE, CMPXCHG16B,
   SWAPGS...), RDTSCP and SYSCALL. */
static const char *const claimed64[] = {
    "X64", "SYSCALL", "RDTSCP", "CMPXCHG16B", NULL,
};

static bool features_ok64(const char *list)
{
    char **parts = g_strsplit(list, ";", -1);
    bool ok = true;
    for (char **p = parts; *p; p++) {
        bool found = false;
        for (int i = 0; claimed[i]; i++) {
            found = found || !strcmp(*p, claimed[i]);
        }
        for (int i = 0; claimed64[i]; i++) {
            found = found || !strcmp(*p, claimed64[i]);
        }
        ok = ok && found;
    }
    g_strfreev(parts);
    return ok;
}

/*
 * 64-bit mode: every legacy-encoded instruction of
 * InstructionInfoTest_64.txt whose features are in the set above decodes
 * with iced's length, and the INVALID vectors of DecoderTestMisc64.txt
 * (lengths past 15 bytes) are refused.  Then hand-picked checks of the
 * fields: REX registers, RIP-relative addressing, operand and address
 * sizes, imm64, the opcodes that do not exist in 64-bit mode.
 */
static void test_decoder64(void)
{
    char *dir = data_dir();
    if (!dir) {
        g_test_skip("iced-x86 test data not found");
        return;
    }
    int checked = 0, bad = 0;
    const char *files[] = { "InstructionInfoTest_64.txt",
                            "DecoderTestMisc64.txt" };
    for (int fi = 0; fi < 2; fi++) {
        char *path = g_build_filename(dir, files[fi], NULL);
        char *text;
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        char **lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
            if (**l == '#' || !**l || strstr(*l, "decopt=")) {
                continue;
            }
            char **f = g_strsplit(*l, ",", 5);
            if (!f[0] || !f[1] || !f[2] || !f[3]) {
                g_strfreev(f);
                continue;
            }
            const char *code = g_strstrip(f[1]);
            bool want_valid = strcmp(code, "INVALID") != 0;
            if (fi == 0 && (strcmp(g_strstrip(f[2]), "Legacy") ||
                            (!features_ok64(g_strstrip(f[3])) &&
                             !sse_by_name(code)))) {
                g_strfreev(f);
                continue;
            }
            /* Not instructions (Declare*, Zero_bytes); FWAIT with the
               next x87 instruction as one (Mimic decodes WAIT alone: the
               same execution); UD0, #UD whatever its length; PADDQ mm,
               which iced files under MMX but the SDM under SSE2 (#UD on
               this CPU). */
            if (g_str_has_prefix(code, "Declare") ||
                !strcmp(code, "Zero_bytes") ||
                g_str_has_prefix(code, "Ud0") ||
                g_str_has_prefix(code, "Paddq_mm") ||
                (g_str_has_prefix(g_strstrip(f[0]), "9B ") &&
                 strcmp(code, "Wait"))) {
                g_strfreev(f);
                continue;
            }
            if (fi == 1 && want_valid) {
                g_strfreev(f);
                continue; /* Misc64's valid lines need more features */
            }
            uint8_t bytes[16];
            int n = parse_hex(f[0], bytes);
            bool lock = memchr(bytes, 0xf0, n) != NULL;
            if (lock && want_valid) {
                g_strfreev(f);
                continue; /* as in 16/32: misplaced LOCK is #UD here */
            }
            bool valid;
            int len = x86_decode_buf(bytes, n, X86_MODE64, &valid);
            checked++;
            if (valid != want_valid || (want_valid && len != n)) {
                bad++;
                if (bad <= 60) {
                    printf("# mismatch 64-bit %s: %s: got %s len %d\n",
                           f[0], code, valid ? "valid" : "invalid", len);
                }
            }
            g_strfreev(f);
        }
        g_strfreev(lines);
        g_free(text);
        g_free(path);
    }
    printf("# 64-bit: %d vectors checked, %d mismatches\n", checked, bad);
    g_assert_cmpint(checked, >, 1000);
    g_assert_cmpint(bad, ==, 0);
    g_free(dir);
}

typedef struct Buf {
    const uint8_t *b;
    int n;
} Buf;

static uint32_t buf_byte(void *ctx, uint64_t off)
{
    Buf *b = ctx;
    g_assert_cmpint(off, <, b->n);
    return b->b[off];
}

static X86Insn dec64(const uint8_t *bytes, int n)
{
    X86Insn in;
    Buf b = { bytes, n };
    x86_decode(NULL, &in, 0, X86_MODE64, buf_byte, &b, NULL);
    g_assert_cmpint(in.len, ==, n);
    return in;
}

static void test_decoder64_fields(void)
{
    /* 4C 8B 44 8D 10: mov r8, [rbp+rcx*4+0x10] */
    X86Insn in = dec64((const uint8_t[]){ 0x4c, 0x8b, 0x44, 0x8d, 0x10 },
                       5);
    g_assert_cmpint(in.osz, ==, 8);
    g_assert_cmpint(in.asz, ==, 8);
    g_assert_cmpint(in.reg, ==, 8);
    g_assert_cmpint(in.base, ==, R_EBP);
    g_assert_cmpint(in.index, ==, R_ECX);
    g_assert_cmpint(in.scale, ==, 2);
    g_assert_cmpint(in.disp, ==, 0x10);
    g_assert_cmpint(in.seg, ==, S_SS);
    /* 43 8B 04 24: mov eax, [r12+r12]... REX.X: r12 is an index (SIB
       index 100 with X), REX.B base r12. */
    in = dec64((const uint8_t[]){ 0x43, 0x8b, 0x04, 0x24 }, 4);
    g_assert_cmpint(in.osz, ==, 4);
    g_assert_cmpint(in.base, ==, 12);
    g_assert_cmpint(in.index, ==, 12);
    /* 8B 05 disp32: mov eax, [rip+0x100]; 67: 32-bit address size. */
    in = dec64((const uint8_t[]){ 0x67, 0x8b, 0x05, 0x00, 0x01, 0, 0 }, 7);
    g_assert_cmpint(in.base, ==, X86_R_RIP);
    g_assert_cmpint(in.asz, ==, 4);
    g_assert_cmpint(in.disp, ==, 0x100);
    /* 8B 04 25 disp32: absolute (SIB without base or index). */
    in = dec64((const uint8_t[]){ 0x8b, 0x04, 0x25, 0x00, 0x10, 0, 0 }, 7);
    g_assert_cmpint(in.base, ==, X86_R_NONE);
    g_assert_cmpint(in.index, ==, X86_R_NONE);
    /* 49 BB imm64: mov r11, imm64 */
    in = dec64((const uint8_t[]){ 0x49, 0xbb, 0x88, 0x77, 0x66, 0x55, 0x44,
                                  0x33, 0x22, 0x11 }, 10);
    g_assert_cmphex(in.imm, ==, 0x55667788);
    g_assert_cmphex(in.imm2, ==, 0x11223344);
    g_assert_cmpint(in.rex, ==, 0x49);
    /* 41 50: push r8 (64-bit); 66 50: push ax. */
    in = dec64((const uint8_t[]){ 0x41, 0x50 }, 2);
    g_assert_cmpint(in.osz, ==, 8);
    in = dec64((const uint8_t[]){ 0x66, 0x50 }, 2);
    g_assert_cmpint(in.osz, ==, 2);
    /* A REX before another prefix is dropped: 48 66 89 C0 is mov ax, ax */
    in = dec64((const uint8_t[]){ 0x48, 0x66, 0x89, 0xc0 }, 4);
    g_assert_cmpint(in.osz, ==, 2);
    g_assert_cmpint(in.rex, ==, 0);
    /* Group opcodes keep the extension in reg: 49 81 C0 imm32 is add r8 */
    in = dec64((const uint8_t[]){ 0x49, 0x81, 0xc0, 1, 0, 0, 0 }, 7);
    g_assert_cmpint(in.reg, ==, 0);
    g_assert_cmpint(in.rm, ==, 8);
    g_assert_cmpint(in.osz, ==, 8);
    /* MOVSXD (63), CMPXCHG16B, SWAPGS, SYSCALL decode; i64 opcodes not. */
    bool valid;
    x86_decode_buf((const uint8_t[]){ 0x48, 0x63, 0xc1 }, 3, X86_MODE64,
                   &valid);
    g_assert_true(valid);
    x86_decode_buf((const uint8_t[]){ 0x48, 0x0f, 0xc7, 0x0e }, 4,
                   X86_MODE64, &valid);
    g_assert_true(valid);
    x86_decode_buf((const uint8_t[]){ 0x0f, 0x01, 0xf8 }, 3, X86_MODE64,
                   &valid);
    g_assert_true(valid);
    x86_decode_buf((const uint8_t[]){ 0x0f, 0x01, 0xf8 }, 3, X86_MODE32,
                   &valid);
    g_assert_false(valid);
    x86_decode_buf((const uint8_t[]){ 0x0f, 0x05 }, 2, X86_MODE64, &valid);
    g_assert_true(valid);
    static const uint8_t i64[] = { 0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f,
                                   0x27, 0x2f, 0x37, 0x3f, 0x60, 0x61, 0xce,
                                   0xd6 };
    for (size_t i = 0; i < sizeof(i64); i++) {
        x86_decode_buf(&i64[i], 1, X86_MODE64, &valid);
        g_assert_false(valid);
        x86_decode_buf(&i64[i], 1, X86_MODE32, &valid);
        g_assert_true(valid || i64[i] == 0xd6);
    }
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
    g_test_add_func("/cpu/x86/decoder/iced64", test_decoder64);
    g_test_add_func("/cpu/x86/decoder/fields64", test_decoder64_fields);
    return g_test_run();
}
