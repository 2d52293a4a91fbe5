/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Machine state files (docs/state-format.md) on real pc machines running
 * SeaBIOS in icount mode: save, load, save is byte-identical; a restored
 * machine runs on exactly like the original; hostile files (truncated at
 * every 4 KiB boundary, a flipped byte in each section, wrong versions,
 * bad values behind a valid checksum, another RAM size) are refused with a
 * message and leave the machine untouched.
 */
#include <string.h>
#include <zlib.h>
#include <glib/gstdio.h>

#include "engine/machine.h"
#include "engine/savevm.h"

static MimicMachine *make(uint64_t ram_mib)
{
    MachineConfig cfg;
    machine_config_init(&cfg);
    cfg.ram_size = ram_mib << 20;
    cfg.icount_shift = 3;
    cfg.display = DISPLAY_NONE;
    g_free(cfg.serial[0]);
    cfg.serial[0] = g_strdup("null");
    GError *err = NULL;
    MimicMachine *m = mimic_machine_new(&cfg, &err);
    g_assert_no_error(err);
    g_assert_nonnull(m);
    machine_config_clear(&cfg);
    return m;
}

/* n instructions as the worker runs them (the engine's own slice loop,
   on this thread). */
static void run_insns(MimicMachine *m, int64_t n)
{
    g_assert_true(machine_run_to_icount(m, m->clock->icount + n));
}

static GByteArray *save(MimicMachine *m)
{
    GError *err = NULL;
    GByteArray *f = machine_state_save(m, true, &err);
    g_assert_no_error(err);
    g_assert_nonnull(f);
    return f;
}

/* A state of SeaBIOS a few million instructions in, built once. */
static GByteArray *booted;

static GByteArray *booted_state(void)
{
    if (!booted) {
        MimicMachine *m = make(32);
        run_insns(m, 3000000);
        booted = save(m);
        mimic_machine_free(m);
    }
    return booted;
}

typedef struct {
    size_t start, name_at, payload, len; /* len: payload length */
    char name[64];
} Sect;
static int sections(const GByteArray *f, Sect *out, int max);

/* Byte-identical, else name the first section that differs. */
static void assert_same(GByteArray *a, GByteArray *b)
{
    if (a->len == b->len && memcmp(a->data, b->data, a->len) == 0) {
        return;
    }
    Sect sa[64], sb[64];
    int na = sections(a, sa, 64), nb = sections(b, sb, 64);
    for (int i = 0; i < MIN(na, nb); i++) {
        if (sa[i].len != sb[i].len ||
            memcmp(a->data + sa[i].payload, b->data + sb[i].payload,
                   sa[i].len) != 0) {
            size_t k = 0;
            while (k < MIN(sa[i].len, sb[i].len) &&
                   a->data[sa[i].payload + k] == b->data[sb[i].payload + k]) {
                k++;
            }
            g_error("states differ in section '%s' at payload byte %zu",
                    sa[i].name, k);
        }
    }
    g_error("states differ (%u and %u bytes)", a->len, b->len);
}

static void test_round_trip(void)
{
    GByteArray *f1 = booted_state();
    MimicMachine *m = make(32);
    GError *err = NULL;
    g_assert_true(machine_state_load(m, f1->data, f1->len,
                                     STATE_LOAD_CHECK_DISKS, &err));
    g_assert_no_error(err);
    GByteArray *f2 = save(m);
    assert_same(f1, f2);
    g_byte_array_unref(f2);
    mimic_machine_free(m);
}

/* Resuming and running on gives what running on without a save gives. */
static void test_continues_identically(void)
{
    MimicMachine *a = make(32);
    run_insns(a, 3000000);
    GByteArray *mid = save(a);
    run_insns(a, 4000000);
    GByteArray *fa = save(a);

    MimicMachine *b = make(32);
    GError *err = NULL;
    g_assert_true(machine_state_load(b, mid->data, mid->len, 0, &err));
    g_assert_no_error(err);
    run_insns(b, 4000000);
    GByteArray *fb = save(b);
    /* The guest went somewhere in between: the states differ from mid. */
    g_assert_true(fa->len != mid->len ||
                  memcmp(fa->data, mid->data, mid->len) != 0);
    assert_same(fa, fb);
    g_byte_array_unref(mid);
    g_byte_array_unref(fa);
    g_byte_array_unref(fb);
    mimic_machine_free(a);
    mimic_machine_free(b);
}

/* Load must fail with a message and leave the machine as it was. */
static void refused(MimicMachine *m, GByteArray *before, const uint8_t *buf,
                    size_t len, const char *want)
{
    GError *err = NULL;
    g_assert_false(machine_state_load(m, buf, len, STATE_LOAD_CHECK_DISKS,
                                      &err));
    g_assert_nonnull(err);
    g_assert_cmpuint(strlen(err->message), >, 10);
    if (want && !strstr(err->message, want)) {
        g_error("expected '%s' in '%s'", want, err->message);
    }
    g_error_free(err);
    if (before) {
        GByteArray *now = save(m);
        assert_same(before, now);
        g_byte_array_unref(now);
    }
}

static int sections(const GByteArray *f, Sect *out, int max)
{
    size_t pos = 16;
    int n = 0;
    while (pos + 18 < f->len && n < max) {
        Sect *s = &out[n++];
        s->start = pos;
        s->name_at = pos + 4;
        size_t nl = f->data[pos + 4] | f->data[pos + 5] << 8;
        memcpy(s->name, f->data + pos + 6, MIN(nl, sizeof(s->name) - 1));
        s->name[MIN(nl, sizeof(s->name) - 1)] = 0;
        s->payload = pos + 6 + nl + 12;
        uint64_t l = 0;
        for (int i = 0; i < 8; i++) {
            l |= (uint64_t)f->data[pos + 6 + nl + 4 + i] << (8 * i);
        }
        s->len = l;
        pos = s->payload + l + 4;
    }
    return n;
}

static void fix_crc(GByteArray *f, const Sect *s)
{
    uint32_t c = crc32(0, f->data + s->name_at, s->payload + s->len -
                                                    s->name_at);
    for (int i = 0; i < 4; i++) {
        f->data[s->payload + s->len + i] = c >> (8 * i);
    }
}

static GByteArray *copy(GByteArray *f)
{
    GByteArray *c = g_byte_array_sized_new(f->len);
    g_byte_array_append(c, f->data, f->len);
    return c;
}

static void test_truncated(void)
{
    GByteArray *f = booted_state();
    MimicMachine *m = make(32);
    GByteArray *before = save(m);
    int n = 0;
    for (size_t len = 0; len < f->len; len += 4096) {
        /* Every cut is refused; that the machine was left untouched is
           checked on every 16th (a full save each: the slow part). */
        refused(m, n % 16 == 0 ? before : NULL, f->data, len, NULL);
        n++;
    }
    refused(m, before, f->data, f->len - 1, "truncated");
    refused(m, before, f->data, 100, "truncated");
    g_test_message("%d truncations of a %u-byte file refused", n, f->len);
    g_assert_cmpint(n, >=, 10);
    g_byte_array_unref(before);
    mimic_machine_free(m);
}

static void test_flipped(void)
{
    GByteArray *f = booted_state();
    Sect s[64];
    int n = sections(f, s, 64);
    g_assert_cmpint(n, >=, 10);
    g_assert_cmpstr(s[0].name, ==, "config");
    g_assert_cmpstr(s[n - 1].name, ==, "end");
    MimicMachine *m = make(32);
    GByteArray *before = save(m);
    for (int i = 0; i < n; i++) {
        /* In the payload (or the header of an empty one), and in the
           checksum itself. */
        size_t at[] = { s[i].len ? s[i].payload + s[i].len / 2
                                 : s[i].payload - 1,
                        s[i].payload + s[i].len + 1, s[i].name_at + 2 };
        for (size_t k = 0; k < G_N_ELEMENTS(at); k++) {
            GByteArray *c = copy(f);
            c->data[at[k]] ^= 0x40;
            refused(m, before, c->data, c->len, NULL);
            g_byte_array_unref(c);
        }
    }
    GByteArray *c = copy(f);
    c->data[3] ^= 1;
    refused(m, before, c->data, c->len, "magic");
    g_byte_array_unref(c);
    c = copy(f);
    g_byte_array_append(c, (const uint8_t *)"x", 1);
    refused(m, before, c->data, c->len, "after the end marker");
    g_byte_array_unref(c);
    g_byte_array_unref(before);
    mimic_machine_free(m);
}

static void test_versions(void)
{
    GByteArray *f = booted_state();
    MimicMachine *m = make(32);
    GByteArray *before = save(m);
    GByteArray *c = copy(f);
    c->data[8] = 2;
    refused(m, before, c->data, c->len, "format version 2");
    g_byte_array_unref(c);

    Sect s[64];
    int n = sections(f, s, 64);
    for (int i = 0; i < n; i++) {
        if (strcmp(s[i].name, "dev/pit") != 0 && strcmp(s[i].name, "cpu")) {
            continue;
        }
        c = copy(f);
        c->data[s[i].payload - 12] = 99; /* the section version */
        fix_crc(c, &s[i]);
        refused(m, before, c->data, c->len, "version 99");
        g_byte_array_unref(c);
    }
    g_byte_array_unref(before);
    mimic_machine_free(m);
}

/* Valid framing and checksums around values post_load must reject. */
static void test_bad_values(void)
{
    GByteArray *f = booted_state();
    Sect s[64];
    int n = sections(f, s, 64);
    MimicMachine *m = make(32);
    int tried = 0;
    for (int i = 0; i < n; i++) {
        GByteArray *c = copy(f);
        const char *want = NULL;
        if (!strcmp(s[i].name, "dev/pit")) {
            /* Channel 0's mode: the 10th byte (after count, latch, 7 u8). */
            c->data[s[i].payload + 4 + 2 + 7] = 7;
            want = "i8254";
        } else if (!strcmp(s[i].name, "dev/serial0")) {
            c->data[s[i].payload + s[i].len - 2] = 200; /* rx_count */
            want = "serial";
        } else if (!strcmp(s[i].name, "timers")) {
            c->data[s[i].payload] ^= 1; /* timer count */
            want = "timers";
        } else if (!strcmp(s[i].name, "ram/pc.ram")) {
            c->data[s[i].payload + 8 + 8 + 4] ^= 0x10; /* zlib length */
            want = "ram/pc.ram";
        } else if (!strcmp(s[i].name, "config")) {
            c->data[s[i].payload + 6] ^= 1; /* board=pc -> board=pb */
            want = "configuration";
        } else {
            g_byte_array_unref(c);
            continue;
        }
        fix_crc(c, &s[i]);
        refused(m, NULL, c->data, c->len, want);
        tried++;
        g_byte_array_unref(c);
    }
    g_assert_cmpint(tried, ==, 5);
    mimic_machine_free(m);
}

static uint32_t le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* RAM that compresses little is stored as is (ram/ version 3): such a
   record restores exactly; older versions (zlib) and later ones are
   refused. */
static void test_stored_ram(void)
{
    MimicMachine *a = make(32);
    run_insns(a, 1000000);
    uint8_t *ram = a->board.ram_blocks[0].host;
    GRand *r = g_rand_new_with_seed(7);
    for (size_t i = 0; i < (3u << 20); i += 4) { /* at 16 MiB: free RAM */
        uint32_t v = g_rand_int(r);
        memcpy(ram + (16u << 20) + i, &v, 4);
    }
    g_rand_free(r);
    GByteArray *f = save(a);
    Sect s[64];
    int n = sections(f, s, 64), ri = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(s[i].name, "ram/pc.ram")) {
            ri = i;
        }
    }
    g_assert_cmpint(ri, >=, 0);
    g_assert_cmpuint(le32(f->data + s[ri].payload - 12), ==, 3);
    /* Walk the records: the random megabytes are stored. */
    size_t p = s[ri].payload + 8, stored = 0, deflated = 0;
    for (;;) {
        uint32_t count = le32(f->data + p + 8), zlen = le32(f->data + p + 12);
        if (count == 0) {
            break;
        }
        if (zlen == count * 4096u) {
            stored += count;
        } else {
            deflated += count;
        }
        p += 16 + zlen;
    }
    g_assert_cmpuint(stored, >=, 3 * 256);
    g_assert_cmpuint(deflated, >, 0);

    MimicMachine *b = make(32);
    /* Pages zero in the state but not in the loading machine are zeroed
       (pc.ram's gaps are dropped with madvise, not written). */
    uint8_t *bram = b->board.ram_blocks[0].host;
    g_assert_true(b->board.ram_blocks[0].anonymous);
    g_assert_true(ram[(24u << 20) + 4096] == 0);
    memset(bram + (24u << 20), 0xaa, 4u << 20);
    GError *err = NULL;
    g_assert_true(machine_state_load(b, f->data, f->len, 0, &err));
    g_assert_no_error(err);
    g_assert_cmpint(memcmp(ram, b->board.ram_blocks[0].host, 32u << 20), ==,
                    0);
    GByteArray *f2 = save(b);
    assert_same(f, f2);
    g_byte_array_unref(f2);

    GByteArray *before = save(b);
    GByteArray *c = copy(f);
    c->data[s[ri].payload - 12] = 2; /* the section version */
    fix_crc(c, &s[ri]);
    refused(b, before, c->data, c->len, "has version 2; this Mimic reads "
            "version 3 (zstd");
    g_byte_array_unref(c);
    c = copy(f);
    c->data[s[ri].payload - 12] = 4;
    fix_crc(c, &s[ri]);
    refused(b, before, c->data, c->len, "version 4");
    g_byte_array_unref(c);
    /* A corrupt frame behind a valid checksum: the first compressed
       record's first payload byte (the zstd magic). */
    c = copy(f);
    p = s[ri].payload + 8;
    while (le32(f->data + p + 12) == le32(f->data + p + 8) * 4096u) {
        p += 16 + le32(f->data + p + 12);
    }
    c->data[p + 16] ^= 0xff;
    fix_crc(c, &s[ri]);
    refused(b, NULL, c->data, c->len, "does not decompress");
    g_byte_array_unref(c);
    g_byte_array_unref(before);
    g_byte_array_unref(f);
    mimic_machine_free(a);
    mimic_machine_free(b);
}

static void test_other_ram_size(void)
{
    MimicMachine *big = make(512);
    run_insns(big, 1000000);
    GByteArray *f = save(big);
    mimic_machine_free(big);
    MimicMachine *m = make(256);
    GByteArray *before = save(m);
    refused(m, before, f->data, f->len, "512 MiB of RAM; this machine has "
            "256 MiB");
    g_byte_array_unref(before);
    g_byte_array_unref(f);
    mimic_machine_free(m);
}

/*
 * What mimic_machine_new() tells a front end (mimic.h) about a refused
 * -incoming state: MIMIC_ERROR_STATE_DISKS when a disk changed since the
 * save (-incoming-force then resumes), MIMIC_ERROR_STATE for any other
 * refusal (no file, a corrupt file, another machine).
 */
static MimicMachine *incoming(const char *disk, const char *state,
                              bool force, GError **err)
{
    MachineConfig cfg;
    machine_config_init(&cfg);
    cfg.ram_size = 32 << 20;
    cfg.icount_shift = 3;
    cfg.display = DISPLAY_NONE;
    g_free(cfg.serial[0]);
    cfg.serial[0] = g_strdup("null");
    if (disk) {
        DriveConfig *d = &cfg.drives[cfg.n_drives++];
        d->file = g_strdup(disk);
        d->format = g_strdup("raw");
        d->interface = DRIVE_IF_IDE;
        d->media = DRIVE_MEDIA_DISK;
    }
    if (state) {
        cfg.incoming = g_strconcat("file:", state, NULL);
        cfg.incoming_force = force;
    }
    MimicMachine *m = mimic_machine_new(&cfg, err);
    machine_config_clear(&cfg);
    return m;
}

static void test_incoming_errors(void)
{
    g_autofree char *dir = g_dir_make_tmp("mimic-incoming-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_autofree char *disk = g_build_filename(dir, "disk.img", NULL);
    g_autofree char *state = g_build_filename(dir, "m.state", NULL);
    g_autofree char *none = g_build_filename(dir, "none.state", NULL);
    g_autofree char *zeros = g_malloc0(1 << 20);
    g_assert_true(g_file_set_contents(disk, zeros, 1 << 20, NULL));

    GError *err = NULL;
    MimicMachine *m = incoming(disk, NULL, false, &err);
    g_assert_no_error(err);
    run_insns(m, 1000000);
    GByteArray *f = save(m);
    mimic_machine_free(m);
    g_assert_true(g_file_set_contents(state, (const char *)f->data, f->len,
                                      NULL));

    /* The very machine resumes. */
    m = incoming(disk, state, false, &err);
    g_assert_no_error(err);
    mimic_machine_free(m);

    g_assert_null(incoming(disk, none, false, &err));
    g_assert_error(err, MIMIC_ERROR, MIMIC_ERROR_STATE);
    g_clear_error(&err);
    /* Another machine: this one has no disk. */
    g_assert_null(incoming(NULL, state, false, &err));
    g_assert_error(err, MIMIC_ERROR, MIMIC_ERROR_STATE);
    g_test_message("%s", err->message);
    g_clear_error(&err);

    /* A changed disk (its contents, so its fingerprint). */
    zeros[0] = 1;
    g_assert_true(g_file_set_contents(disk, zeros, 1 << 20, NULL));
    g_assert_null(incoming(disk, state, false, &err));
    g_assert_error(err, MIMIC_ERROR, MIMIC_ERROR_STATE_DISKS);
    g_assert_nonnull(strstr(err->message, "-incoming-force"));
    g_clear_error(&err);
    m = incoming(disk, state, true, &err);
    g_assert_no_error(err);
    mimic_machine_free(m);

    /* A corrupt file: its last byte (the end section's checksum). */
    f->data[f->len - 1] ^= 0xff;
    g_assert_true(g_file_set_contents(state, (const char *)f->data, f->len,
                                      NULL));
    g_assert_null(incoming(disk, state, true, &err));
    g_assert_error(err, MIMIC_ERROR, MIMIC_ERROR_STATE);
    g_clear_error(&err);

    g_byte_array_unref(f);
    g_assert_cmpint(g_remove(state), ==, 0);
    g_assert_cmpint(g_remove(disk), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/savevm/incoming-errors", test_incoming_errors);
    g_test_add_func("/savevm/round-trip", test_round_trip);
    g_test_add_func("/savevm/continues-identically",
                    test_continues_identically);
    g_test_add_func("/savevm/truncated", test_truncated);
    g_test_add_func("/savevm/flipped", test_flipped);
    g_test_add_func("/savevm/versions", test_versions);
    g_test_add_func("/savevm/bad-values", test_bad_values);
    g_test_add_func("/savevm/other-ram-size", test_other_ram_size);
    g_test_add_func("/savevm/stored-ram", test_stored_ram);
    int r = g_test_run();
    if (booted) {
        g_byte_array_unref(booted);
    }
    return r;
}
