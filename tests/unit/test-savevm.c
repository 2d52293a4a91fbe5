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
#include <zstd.h>
#include <glib/gstdio.h>

#include "engine/machine.h"
#include "engine/savevm.h"

static MimicMachine *make_rtc(uint64_t ram_mib, const char *rtc_base)
{
    MachineConfig cfg;
    machine_config_init(&cfg);
    cfg.rtc_base = g_strdup(rtc_base);
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

static MimicMachine *make(uint64_t ram_mib)
{
    return make_rtc(ram_mib, NULL);
}

/* Machines whose runs are compared with each other: the RTC must not
   start from the host's clock, which ticks between their creations. */
#define FIXED_RTC "2020-01-01T00:00:00"

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
    /* ... also when decoded in place, into a machine the caller then
       discards (-incoming). */
    MimicMachine *fresh = make(32);
    GError *err2 = NULL;
    g_assert_false(machine_state_load(fresh, c->data, c->len,
                                      STATE_LOAD_DISCARD_ON_FAILURE, &err2));
    g_assert_nonnull(strstr(err2->message, "does not decompress"));
    g_clear_error(&err2);
    mimic_machine_free(fresh);
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

/* ---- every rule of docs/state-format.md, one mutation each ----
 * A state file is unpacked into its sections (name, version, payload) and
 * packed again with correct lengths, checksums and end marker, so that
 * each mutated file breaks exactly the rule under test. */

typedef struct {
    char name[256];
    uint32_t version;
    GByteArray *payload;
} USect;

static void usect_free(gpointer p)
{
    USect *u = p;
    g_byte_array_unref(u->payload);
    g_free(u);
}

static GPtrArray *unpack(const GByteArray *f)
{
    GPtrArray *l = g_ptr_array_new_with_free_func(usect_free);
    Sect s[64];
    int n = sections(f, s, 64);
    for (int i = 0; i < n; i++) {
        USect *u = g_new0(USect, 1);
        g_strlcpy(u->name, s[i].name, sizeof(u->name));
        u->version = le32(f->data + s[i].payload - 12);
        u->payload = g_byte_array_new();
        g_byte_array_append(u->payload, f->data + s[i].payload, s[i].len);
        g_ptr_array_add(l, u);
    }
    return l;
}

static USect *usect_dup(const USect *u)
{
    USect *c = g_new0(USect, 1);
    *c = *u;
    c->payload = g_byte_array_new();
    g_byte_array_append(c->payload, u->payload->data, u->payload->len);
    return c;
}

static void put_le(GByteArray *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t x = v >> (8 * i);
        g_byte_array_append(b, &x, 1);
    }
}

/* Sections named "end" get a correct count and offset. */
static GByteArray *pack(GPtrArray *l)
{
    GByteArray *f = g_byte_array_new();
    g_byte_array_append(f, (const uint8_t *)MIMIC_STATE_MAGIC, 8);
    put_le(f, MIMIC_STATE_FORMAT_VERSION, 4);
    put_le(f, 0, 4);
    for (guint i = 0; i < l->len; i++) {
        USect *u = l->pdata[i];
        if (!strcmp(u->name, "end")) {
            g_byte_array_set_size(u->payload, 0);
            put_le(u->payload, i, 4);
            put_le(u->payload, f->len, 8);
        }
        g_byte_array_append(f, (const uint8_t *)"SECT", 4);
        size_t mark = f->len, nl = strlen(u->name);
        put_le(f, nl, 2);
        g_byte_array_append(f, (const uint8_t *)u->name, nl);
        put_le(f, u->version, 4);
        put_le(f, u->payload->len, 8);
        g_byte_array_append(f, u->payload->data, u->payload->len);
        put_le(f, crc32(0, f->data + mark, f->len - mark), 4);
    }
    return f;
}

static int usect_find(GPtrArray *l, const char *name)
{
    for (guint i = 0; i < l->len; i++) {
        if (!strcmp(((USect *)l->pdata[i])->name, name)) {
            return i;
        }
    }
    g_error("no section '%s'", name);
}

/* A machine that ran elsewhere than the file's, and its own state. */
typedef struct {
    MimicMachine *m;
    GByteArray *before;
} Live;

static Live live_machine(void)
{
    Live l = { .m = make_rtc(32, FIXED_RTC) };
    run_insns(l.m, 2000000);
    l.before = save(l.m);
    return l;
}

static void live_free(Live *l)
{
    g_byte_array_unref(l->before);
    mimic_machine_free(l->m);
}

static void refused_packed(Live *l, GPtrArray *secs, const char *want)
{
    GByteArray *c = pack(secs);
    refused(l->m, l->before, c->data, c->len, want);
    g_byte_array_unref(c);
}

/* The helpers themselves: unpack then pack gives the file back. */
static void test_rules_pack(void)
{
    GByteArray *f = booted_state();
    GPtrArray *l = unpack(f);
    GByteArray *g = pack(l);
    assert_same(f, g);
    g_byte_array_unref(g);
    g_ptr_array_unref(l);
}

/* "config 1, clock 1, ram/ 3, cpu and dev/ the table's, timers 1,
   disks 1, end 1": any other version of any section is refused. */
static void test_rules_versions(void)
{
    GByteArray *f = booted_state();
    Live lv = live_machine();
    GPtrArray *base = unpack(f);
    for (guint i = 0; i < base->len; i++) {
        uint32_t v0 = ((USect *)base->pdata[i])->version;
        uint32_t bad[] = { v0 + 1, 0, 0x80000001u };
        for (guint k = 0; k < G_N_ELEMENTS(bad); k++) {
            GPtrArray *l = unpack(f);
            ((USect *)l->pdata[i])->version = bad[k];
            g_autofree char *want = g_strdup_printf("version %u", bad[k]);
            refused_packed(&lv, l, want);
            g_ptr_array_unref(l);
        }
    }
    g_test_message("wrong versions of %u sections refused", base->len);
    g_ptr_array_unref(base);
    live_free(&lv);
}

/* Nothing may follow a section's payload: one more byte in any section
   (a NUL, a newline, a letter) is refused. */
static void test_rules_trailing(void)
{
    GByteArray *f = booted_state();
    Live lv = live_machine();
    GPtrArray *base = unpack(f);
    const uint8_t extra[] = { 0, '\n', 'x' };
    for (guint i = 0; i < base->len; i++) {
        if (!strcmp(((USect *)base->pdata[i])->name, "end")) {
            continue; /* pack() rewrites its payload; see test_rules_end */
        }
        for (guint k = 0; k < G_N_ELEMENTS(extra); k++) {
            GPtrArray *l = unpack(f);
            g_byte_array_append(((USect *)l->pdata[i])->payload, &extra[k],
                                1);
            refused_packed(&lv, l, NULL);
            g_ptr_array_unref(l);
        }
    }
    /* ... also when the disks are not compared (loadvm). */
    GPtrArray *l = unpack(f);
    g_byte_array_append(((USect *)l->pdata[usect_find(l, "disks")])->payload,
                        (const uint8_t *)"\0x", 2);
    GByteArray *c = pack(l);
    GError *err = NULL;
    g_assert_false(machine_state_load(lv.m, c->data, c->len, 0, &err));
    g_assert_nonnull(strstr(err->message, "disks"));
    g_clear_error(&err);
    g_byte_array_unref(c);
    g_ptr_array_unref(l);
    g_ptr_array_unref(base);
    live_free(&lv);
}

/* "Sections, in the order they are written": every swap of two
   neighbours is refused, as is a section twice, one missing, an unknown
   one. */
static void test_rules_order(void)
{
    GByteArray *f = booted_state();
    Live lv = live_machine();
    GPtrArray *base = unpack(f);
    guint n = base->len;
    for (guint i = 0; i + 2 < n; i++) {
        GPtrArray *l = unpack(f);
        gpointer t = l->pdata[i];
        l->pdata[i] = l->pdata[i + 1];
        l->pdata[i + 1] = t;
        /* A swap with config first is refused for config's place. */
        refused_packed(&lv, l, i == 0 ? "config" : "out of order");
        g_ptr_array_unref(l);

        l = unpack(f);
        g_ptr_array_insert(l, i + 1, usect_dup(l->pdata[i]));
        refused_packed(&lv, l, "twice");
        g_ptr_array_unref(l);

        l = unpack(f);
        g_ptr_array_remove_index(l, i);
        refused_packed(&lv, l, i == 0 ? "config" : "no '");
        g_ptr_array_unref(l);
    }
    GPtrArray *l = unpack(f);
    USect *u = usect_dup(l->pdata[usect_find(l, "dev/pit")]);
    g_strlcpy(u->name, "dev/pit2", sizeof(u->name));
    g_ptr_array_insert(l, n - 1, u);
    refused_packed(&lv, l, "does not have");
    g_ptr_array_unref(l);
    /* The same file in order loads (into another machine). */
    l = unpack(f);
    GByteArray *c = pack(l);
    MimicMachine *m = make(32);
    GError *err = NULL;
    g_assert_true(machine_state_load(m, c->data, c->len, 0, &err));
    g_assert_no_error(err);
    mimic_machine_free(m);
    g_byte_array_unref(c);
    g_ptr_array_unref(l);
    g_ptr_array_unref(base);
    live_free(&lv);
}

/* Cut at every section boundary and inside every section's framing:
   "truncated"; a bad checksum in any section: "checksum". */
static void test_rules_framing(void)
{
    GByteArray *f = booted_state();
    Live lv = live_machine();
    Sect s[64];
    int n = sections(f, s, 64);
    for (int i = 0; i < n; i++) {
        size_t cuts[] = { s[i].start, s[i].start + 5, s[i].name_at + 3,
                          s[i].payload - 1, s[i].payload + s[i].len,
                          s[i].payload + s[i].len + 3 };
        for (guint k = 0; k < G_N_ELEMENTS(cuts); k++) {
            refused(lv.m, lv.before, f->data, cuts[k], "truncated");
        }
        GByteArray *c = copy(f);
        c->data[s[i].payload + s[i].len] ^= 1;
        refused(lv.m, lv.before, c->data, c->len, "checksum mismatch");
        g_byte_array_unref(c);
    }
    GByteArray *c = copy(f);
    c->data[12] = 1;
    refused(lv.m, lv.before, c->data, c->len, "header flags");
    g_byte_array_unref(c);
    /* Name length 0 and a name with a control character. */
    c = copy(f);
    c->data[s[1].name_at] = 0;
    refused(lv.m, lv.before, c->data, c->len, "name length");
    g_byte_array_unref(c);
    GPtrArray *l = unpack(f);
    ((USect *)l->pdata[1])->name[2] = '\t';
    refused_packed(&lv, l, "bad section name");
    g_ptr_array_unref(l);
    live_free(&lv);
}

/* The end marker's count and offset; the RAM block size; the clock's
   values; RAM records out of order; text sections' form. */
static void test_rules_values(void)
{
    GByteArray *f = booted_state();
    Live lv = live_machine();
    Sect s[64];
    int n = sections(f, s, 64);
    GByteArray *c = copy(f);
    c->data[s[n - 1].payload] ^= 1; /* count */
    fix_crc(c, &s[n - 1]);
    refused(lv.m, lv.before, c->data, c->len, "bad end marker");
    g_byte_array_unref(c);
    c = copy(f);
    c->data[s[n - 1].payload + 4] ^= 1; /* offset */
    fix_crc(c, &s[n - 1]);
    refused(lv.m, lv.before, c->data, c->len, "bad end marker");
    g_byte_array_unref(c);

    GPtrArray *l = unpack(f);
    USect *ram = l->pdata[usect_find(l, "ram/pc.ram")];
    ram->payload->data[2] ^= 1; /* block size */
    refused_packed(&lv, l, "RAM block size mismatch");
    g_ptr_array_unref(l);

    /* Two records swapped: no longer ascending. */
    l = unpack(f);
    ram = l->pdata[usect_find(l, "ram/pc.ram")];
    const uint8_t *p = ram->payload->data + 8;
    size_t r1 = 16 + le32(p + 12), r2 = 16 + le32(p + r1 + 12);
    g_assert_cmpuint(le32(p + r1 + 8), >, 0);
    GByteArray *sw = g_byte_array_new();
    g_byte_array_append(sw, ram->payload->data, 8);
    g_byte_array_append(sw, p + r1, r2);
    g_byte_array_append(sw, p, r1);
    g_byte_array_append(sw, p + r1 + r2, ram->payload->len - 8 - r1 - r2);
    g_byte_array_unref(ram->payload);
    ram->payload = sw;
    refused_packed(&lv, l, "bad page record");
    g_ptr_array_unref(l);

    l = unpack(f);
    ((USect *)l->pdata[usect_find(l, "clock")])->payload->data[0] = 2;
    refused_packed(&lv, l, "out of range");
    g_ptr_array_unref(l);

    l = unpack(f);
    USect *cfg = l->pdata[usect_find(l, "config")];
    g_byte_array_append(cfg->payload, (const uint8_t *)"info.x", 6);
    refused_packed(&lv, l, "after its last line");
    g_ptr_array_unref(l);
    l = unpack(f);
    cfg = l->pdata[usect_find(l, "config")];
    g_byte_array_append(cfg->payload, (const uint8_t *)"info.x=\x01\n", 9);
    refused_packed(&lv, l, "byte 0x01");
    g_ptr_array_unref(l);
    /* info. lines are informative: one more still loads. */
    l = unpack(f);
    cfg = l->pdata[usect_find(l, "config")];
    g_byte_array_append(cfg->payload, (const uint8_t *)"info.x=1\n", 9);
    c = pack(l);
    MimicMachine *m = make(32);
    GError *err = NULL;
    g_assert_true(machine_state_load(m, c->data, c->len, 0, &err));
    g_assert_no_error(err);
    mimic_machine_free(m);
    g_byte_array_unref(c);
    g_ptr_array_unref(l);

    l = unpack(f);
    USect *dk = l->pdata[usect_find(l, "disks")];
    g_byte_array_append(dk->payload, (const uint8_t *)"drive=0 size=1\n", 15);
    c = pack(l);
    g_assert_false(machine_state_load(lv.m, c->data, c->len, 0, &err));
    g_assert_nonnull(strstr(err->message, "'disks' is corrupt"));
    g_clear_error(&err);
    g_byte_array_unref(c);
    g_ptr_array_unref(l);
    live_free(&lv);
}

/*
 * A load refused at any section, also one the CPU or a device refuses in
 * its post_load after earlier sections were accepted, leaves a running
 * machine exactly as it was (its state file and RAM hash unchanged), and
 * the machine then runs on as a twin that never saw the file.
 */
static void test_refused_leaves_machine(void)
{
    GByteArray *f = booted_state();
    Live lv = live_machine();
    GPtrArray *base = unpack(f);
    MimicMachine *scratch = make(32);
    int refusals = 0, late = 0;
    for (guint i = 0; i < base->len; i++) {
        const char *name = ((USect *)base->pdata[i])->name;
        if (!strcmp(name, "end")) {
            continue;
        }
        /* Every byte the same behind valid framing (0xff, 2, 0, 0x80):
           BOOL fields, modes and indices out of range, RAM records and
           text malformed.  The first pattern a scratch machine refuses
           is the one the live machine gets. */
        const uint8_t fill[] = { 0xff, 2, 0, 0x80 };
        GPtrArray *l = NULL;
        GByteArray *c = NULL;
        GError *err = NULL;
        for (guint k = 0; k < G_N_ELEMENTS(fill) && !c; k++) {
            l = unpack(f);
            GByteArray *pl = ((USect *)l->pdata[i])->payload;
            if (pl->len) {
                memset(pl->data, fill[k], pl->len);
            }
            c = pack(l);
            if (machine_state_load(scratch, c->data, c->len, 0, &err)) {
                mimic_machine_free(scratch); /* it took the file */
                scratch = make(32);
                g_byte_array_unref(c);
                g_ptr_array_unref(l);
                c = NULL;
            }
            g_clear_error(&err);
        }
        if (!c) {
            g_test_message("section '%s' accepts every filling", name);
            continue;
        }
        g_assert_false(machine_state_load(lv.m, c->data, c->len, 0, &err));
        g_test_message("'%s': %s", name, err->message);
        refusals++;
        /* Refused by the CPU's or a device's own load (fields or
           post_load), after the sections before it were accepted. */
        late += g_str_has_prefix(name, "dev/") || !strcmp(name, "cpu");
        g_clear_error(&err);
        GByteArray *now = save(lv.m);
        assert_same(lv.before, now);
        g_byte_array_unref(now);
        g_byte_array_unref(c);
        g_ptr_array_unref(l);
    }
    g_test_message("%d refusals, %d by the CPU or a device", refusals, late);
    g_assert_cmpint(late, >=, 5);
    /* A post_load refusal after every other section was accepted. */
    GPtrArray *l = unpack(f);
    USect *pit = l->pdata[usect_find(l, "dev/pit")];
    pit->payload->data[4 + 2 + 7] = 7; /* channel 0 mode */
    refused_packed(&lv, l, "i8254");
    g_ptr_array_unref(l);

    /* The twin is saved at the same point (as the live machine was,
       before the loads): a save is part of the run being compared. */
    MimicMachine *twin = make_rtc(32, FIXED_RTC);
    run_insns(twin, 2000000);
    g_byte_array_unref(save(twin));
    run_insns(twin, 1000000);
    run_insns(lv.m, 1000000);
    GByteArray *a = save(lv.m), *b = save(twin);
    assert_same(b, a);
    g_byte_array_unref(a);
    g_byte_array_unref(b);
    mimic_machine_free(twin);
    mimic_machine_free(scratch);
    g_ptr_array_unref(base);
    live_free(&lv);
}

/* ---- golden state files (tests/state/README.md) ----
 * A small machine (8 MiB, -icount 3, no disks) saved early in SeaBIOS's
 * POST.  The loader must take the checked-in file, and saving the loaded
 * machine must give it back: a change of the format on either side fails
 * here.  Two things are normalised, as they are not the format: the
 * firmware's hashes (rom= lines; the host's SeaBIOS may differ) and the
 * Mimic version (info.mimic); RAM sections are compared record by record
 * after decoding, since another zstd version may encode differently. */

#define GOLDEN_INSNS 200000
#define GOLDEN_FILE "pc-8m-icount3.state"

static MimicMachine *golden_machine(void)
{
    MachineConfig cfg;
    machine_config_init(&cfg);
    cfg.ram_size = 8 << 20;
    cfg.icount_shift = 3;
    cfg.display = DISPLAY_NONE;
    cfg.net_none = true;   /* the file predates the default NIC */
    cfg.no_apic = true;    /* ... and the APIC board */
    cfg.no_hpet = true;
    g_free(cfg.serial[0]);
    cfg.serial[0] = g_strdup("null");
    GError *err = NULL;
    MimicMachine *m = mimic_machine_new(&cfg, &err);
    g_assert_no_error(err);
    machine_config_clear(&cfg);
    return m;
}

/* The golden file with this machine's rom= and info.mimic lines. */
static GByteArray *golden_normalised(const GByteArray *golden,
                                     const GByteArray *here)
{
    GPtrArray *g = unpack(golden), *h = unpack(here);
    USect *gc = g->pdata[usect_find(g, "config")];
    USect *hc = h->pdata[usect_find(h, "config")];
    g_autofree char *gt = g_strndup((char *)gc->payload->data,
                                    gc->payload->len);
    g_autofree char *ht = g_strndup((char *)hc->payload->data,
                                    hc->payload->len);
    gchar **gl = g_strsplit(gt, "\n", -1), **hl = g_strsplit(ht, "\n", -1);
    GString *out = g_string_new(NULL);
    int hi = 0;
    for (int i = 0; gl[i] && gl[i][0]; i++) {
        const char *line = gl[i];
        bool rom = g_str_has_prefix(line, "rom="),
             ver = g_str_has_prefix(line, "info.mimic=");
        if (rom || ver) {
            while (hl[hi] && !g_str_has_prefix(hl[hi], rom ? "rom=" :
                                               "info.mimic=")) {
                hi++;
            }
            g_assert_nonnull(hl[hi]);
            line = hl[hi++];
        }
        g_string_append_printf(out, "%s\n", line);
    }
    g_byte_array_set_size(gc->payload, 0);
    g_byte_array_append(gc->payload, (guint8 *)out->str, out->len);
    g_string_free(out, TRUE);
    g_strfreev(gl);
    g_strfreev(hl);
    GByteArray *r = pack(g);
    g_ptr_array_unref(g);
    g_ptr_array_unref(h);
    return r;
}

/* A RAM section's records, decoded: "first count" headers and pages. */
static GByteArray *ram_decoded(const USect *u)
{
    GByteArray *out = g_byte_array_new();
    const uint8_t *p = u->payload->data, *end = p + u->payload->len;
    g_byte_array_append(out, p, 8); /* block size */
    p += 8;
    for (;;) {
        g_assert_cmpint(end - p, >=, 16);
        uint32_t count = le32(p + 8), zlen = le32(p + 12);
        g_byte_array_append(out, p, 12);
        p += 16;
        if (!count) {
            break;
        }
        size_t n = (size_t)count * 4096;
        guint at = out->len;
        g_byte_array_set_size(out, at + n);
        if (zlen == n) {
            memcpy(out->data + at, p, n);
        } else {
            size_t r = ZSTD_decompress(out->data + at, n, p, zlen);
            g_assert_false(ZSTD_isError(r));
            g_assert_cmpuint(r, ==, n);
        }
        p += zlen;
    }
    return out;
}

/* Section by section; with alt, the section named alt_name is compared
   with alt's instead of want's. */
static void assert_same_format_but(const GByteArray *want,
                                   const GByteArray *got,
                                   const GByteArray *alt,
                                   const char *alt_name)
{
    GPtrArray *a = unpack(want), *b = unpack(got);
    GPtrArray *c = alt ? unpack(alt) : NULL;
    g_assert_cmpuint(a->len, ==, b->len);
    for (guint i = 0; i < a->len; i++) {
        USect *x = a->pdata[i], *y = b->pdata[i];
        if (c && !strcmp(x->name, alt_name)) {
            x = NULL;
            for (guint j = 0; j < c->len && !x; j++) {
                USect *z = c->pdata[j];
                x = strcmp(z->name, alt_name) ? NULL : z;
            }
            g_assert_nonnull(x);
        } else if (c && !strcmp(x->name, "end")) {
            continue; /* its checksum covers the section taken from alt */
        }
        g_assert_cmpstr(x->name, ==, y->name);
        if (x->version != y->version) {
            g_error("section '%s': golden version %u, now %u", x->name,
                    x->version, y->version);
        }
        GByteArray *px = x->payload, *py = y->payload;
        bool ram = g_str_has_prefix(x->name, "ram/");
        if (ram) {
            px = ram_decoded(x);
            py = ram_decoded(y);
        }
        if (px->len != py->len ||
            (px->len && memcmp(px->data, py->data, px->len))) {
            guint k = 0;
            while (k < MIN(px->len, py->len) && px->data[k] == py->data[k]) {
                k++;
            }
            g_error("section '%s' differs from the golden file at byte %u "
                    "(%u and %u bytes%s)", x->name, k, px->len, py->len,
                    ram ? ", decoded" : "");
        }
        if (ram) {
            g_byte_array_unref(px);
            g_byte_array_unref(py);
        }
    }
    g_ptr_array_unref(a);
    g_ptr_array_unref(b);
    if (c) {
        g_ptr_array_unref(c);
    }
}


static GByteArray *golden_read(const char *name)
{
    g_autofree char *path = g_build_filename(
        g_getenv("MIMIC_SOURCE_ROOT") ? g_getenv("MIMIC_SOURCE_ROOT") : ".",
        "tests", "state", name, NULL);
    GError *err = NULL;
    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(path, &data, &len, &err));
    g_assert_no_error(err);
    return g_byte_array_new_take((guint8 *)data, len);
}

/* Load golden file `name` into a fresh golden machine, save again and
   compare with it; with `expect`, the CPU section with that file's (the
   same machine state in today's format; the other sections hold the
   host's time of the save, so they are compared with `name`'s). */
static void golden_check(const char *name, const char *expect)
{
    GError *err = NULL;
    GByteArray *golden = golden_read(name);
    GByteArray *expected = golden_read(expect ? expect : name);
    MimicMachine *m = golden_machine();
    GByteArray *fresh = save(m);
    GByteArray *want = golden_normalised(golden, fresh);
    GByteArray *want_again = golden_normalised(expected, fresh);
    g_assert_true(machine_state_load(m, want->data, want->len,
                                     STATE_LOAD_CHECK_DISKS, &err));
    g_assert_no_error(err);
    g_assert_cmpint(m->clock->icount, ==, GOLDEN_INSNS);
    GByteArray *again = save(m);
    assert_same_format_but(want, again, expect ? want_again : NULL, "cpu");
    /* ... and the machine runs on from it. */
    run_insns(m, 100000);
    g_byte_array_unref(again);
    g_byte_array_unref(want);
    g_byte_array_unref(want_again);
    g_byte_array_unref(fresh);
    g_byte_array_unref(golden);
    g_byte_array_unref(expected);
    mimic_machine_free(m);
}

static void test_golden(void)
{
    if (g_getenv("MIMIC_REGENERATE_GOLDEN")) {
        g_autofree char *path = g_build_filename(
            g_getenv("MIMIC_SOURCE_ROOT") ? g_getenv("MIMIC_SOURCE_ROOT")
                                          : ".",
            "tests", "state", GOLDEN_FILE, NULL);
        GError *err = NULL;
        MimicMachine *m = golden_machine();
        run_insns(m, GOLDEN_INSNS);
        GByteArray *f = save(m);
        g_assert_true(state_write_file_atomic(path, f->data, f->len, &err));
        g_assert_no_error(err);
        g_test_message("wrote %s (%u bytes)", path, f->len);
        g_byte_array_unref(f);
        mimic_machine_free(m);
    }
    golden_check(GOLDEN_FILE, NULL);
}

/* The same state written by Mimic with version 2 of the CPU section (the
   32-bit registers): it loads into the 64-bit layout and saves as
   today's golden file does. */
static void test_golden_cpu2(void)
{
    golden_check("pc-8m-icount3-cpu2.state", GOLDEN_FILE);
}

/* Version 3 of the CPU section (the 64-bit layout without EFER and the
   long-mode MSRs) loads and saves as today's golden file. */
static void test_golden_cpu3(void)
{
    golden_check("pc-8m-icount3-cpu3.state", GOLDEN_FILE);
}

/* Version 4 of the CPU section (before the XMM registers and XCR0 of
   version 5) loads and saves as today's golden file. */
static void test_golden_cpu4(void)
{
    golden_check("pc-8m-icount3-cpu4.state", GOLDEN_FILE);
}

/*
 * What mimic_machine_new() tells a front end (mimic.h) about a refused
 * -incoming state: MIMIC_ERROR_STATE_DISKS when a disk changed since the
 * save (-incoming-force then resumes), MIMIC_ERROR_STATE for any other
 * refusal (no file, a corrupt file, another machine).
 */
static MimicMachine *incoming_snap(const char *disk, const char *state,
                                   bool force, bool snapshot, GError **err)
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
    cfg.snapshot = snapshot;
    MimicMachine *m = mimic_machine_new(&cfg, err);
    machine_config_clear(&cfg);
    return m;
}

static MimicMachine *incoming(const char *disk, const char *state,
                              bool force, GError **err)
{
    return incoming_snap(disk, state, force, false, err);
}

/* -snapshot: migrate fingerprints the image the command line names (the
   temporary overlay is already unlinked), a process started with the
   same command line resumes, and a change of that image is caught. */
static void test_snapshot_migrate(void)
{
    g_autofree char *dir = g_dir_make_tmp("mimic-snapmig-XXXXXX", NULL);
    g_autofree char *disk = g_build_filename(dir, "disk.img", NULL);
    g_autofree char *state = g_build_filename(dir, "m.state", NULL);
    g_autofree char *uri = g_strconcat("file:", state, NULL);
    g_autofree char *zeros = g_malloc0(1 << 20);
    g_assert_true(g_file_set_contents(disk, zeros, 1 << 20, NULL));

    GError *err = NULL;
    MimicMachine *m = incoming_snap(disk, NULL, false, true, &err);
    g_assert_no_error(err);
    run_insns(m, 1000000);
    /* A guest write goes to the overlay, not to disk.img. */
    uint8_t sector[512] = { 0x55 };
    g_assert_true(blk_pwrite(drives_image(m->drives, 0), 0, sector, 512, &err));
    g_assert_no_error(err);
    g_assert_true(machine_migrate(m, uri, &err));
    g_assert_no_error(err);
    mimic_machine_free(m);

    m = incoming_snap(disk, state, false, true, &err);
    g_assert_no_error(err);
    mimic_machine_free(m);

    zeros[0] = 1;
    g_assert_true(g_file_set_contents(disk, zeros, 1 << 20, NULL));
    g_assert_null(incoming_snap(disk, state, false, true, &err));
    g_assert_error(err, MIMIC_ERROR, MIMIC_ERROR_STATE_DISKS);
    g_assert_nonnull(strstr(err->message, disk));
    g_clear_error(&err);

    g_assert_cmpint(g_remove(state), ==, 0);
    g_assert_cmpint(g_remove(disk), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
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
    g_assert_nonnull(strstr(err->message, "this machine lacks 'drive=0 ide "
                            "0 disk'"));
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
    g_test_add_func("/savevm/snapshot-migrate", test_snapshot_migrate);
    g_test_add_func("/savevm/golden", test_golden);
    g_test_add_func("/savevm/golden-cpu2", test_golden_cpu2);
    g_test_add_func("/savevm/golden-cpu3", test_golden_cpu3);
    g_test_add_func("/savevm/golden-cpu4", test_golden_cpu4);
    g_test_add_func("/savevm/rules/pack", test_rules_pack);
    g_test_add_func("/savevm/rules/versions", test_rules_versions);
    g_test_add_func("/savevm/rules/trailing-bytes", test_rules_trailing);
    g_test_add_func("/savevm/rules/order", test_rules_order);
    g_test_add_func("/savevm/rules/framing", test_rules_framing);
    g_test_add_func("/savevm/rules/values", test_rules_values);
    g_test_add_func("/savevm/refused-leaves-machine",
                    test_refused_leaves_machine);
    int r = g_test_run();
    if (booted) {
        g_byte_array_unref(booted);
    }
    return r;
}
