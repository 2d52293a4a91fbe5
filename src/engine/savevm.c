/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine state file (see savevm.h and docs/state-format.md).
 *
 * A file is a 16-byte header followed by sections, each framed as
 *   "SECT" | u16 name length | name | u32 version | u64 length | payload |
 *   u32 CRC-32 of everything from the name length to the payload's end
 * and ended by the "end" section.  The loader first walks and checks the
 * whole file (framing, checksums, the configuration, the disks), and only
 * then restores the machine, so a bad file leaves a machine that was never
 * started untouched.  Device payloads come from the devices' state tables
 * (state/state.h); every post_load validates its values.
 *
 * Saving is deterministic: the same machine state gives the same bytes.
 */
#include "engine/savevm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <glib/gstdio.h>
#include "mimic-config.h"
#ifdef HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#include "engine/log.h"

#define SECT_MARK "SECT"
#define RAM_RUN_PAGES 256 /* pages per compressed record (1 MiB) */
/* ram/ sections: version 3 holds zstd frames, and a record whose length
   is its pages' size holds them as they are (1 and 2, zlib, are
   refused). */
#define RAM_SECTION_VERSION 3
#define PAGE 4096u
#define FP_SPAN (1u << 20) /* disk fingerprint: first and last MiB */

/* ---- checksums and RAM compression ----
 * Sections are checked with zlib's CRC-32 (libdeflate, when built in,
 * computes the same value several times faster).  RAM runs are zstd
 * frames (level 1: smaller than deflate's, and decoded about five times
 * faster than zlib streams, which ram/ sections before version 3 held). */

static uint32_t sect_crc(const uint8_t *p, size_t n)
{
#ifdef HAVE_LIBDEFLATE
    return libdeflate_crc32(0, p, n);
#else
    uint32_t crc = crc32(0, NULL, 0);
    while (n) { /* crc32() takes a uInt length */
        uInt k = n > (1u << 30) ? 1u << 30 : (uInt)n;
        crc = crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return crc;
#endif
}

#define RAM_ZSTD_LEVEL 1

typedef struct RamZ {
    ZSTD_CCtx *c;
    size_t cap;
    uint8_t *buf;
} RamZ;

static void ramz_init(RamZ *z, size_t max_in)
{
    z->c = ZSTD_createCCtx();
    z->cap = ZSTD_compressBound(max_in);
    z->buf = g_malloc(z->cap);
}

static void ramz_free(RamZ *z)
{
    ZSTD_freeCCtx(z->c);
    g_free(z->buf);
}

/* Compress n bytes into z->buf (one zstd frame); returns the length, or
   0 when zstd failed (out of memory): the run is then stored. */
static size_t ramz_compress(RamZ *z, const uint8_t *src, size_t n)
{
    if (!z->c) {
        return 0;
    }
    size_t r = ZSTD_compressCCtx(z->c, z->buf, z->cap, src, n,
                                 RAM_ZSTD_LEVEL);
    return ZSTD_isError(r) ? 0 : r;
}

/* Decode exactly zlen bytes (zstd frames) into exactly n bytes. */
static bool ram_uncompress(ZSTD_DCtx *d, uint8_t *dst, size_t n,
                           const uint8_t *src, size_t zlen)
{
    if (!d) {
        return false;
    }
    size_t r = ZSTD_decompressDCtx(d, dst, n, src, zlen);
    return !ZSTD_isError(r) && r == n;
}

/* RAM is compressed and inflated in independent runs: run worker(ctx)
   on this thread and up to three more (one per host CPU), each taking
   jobs from a shared counter until there are none left.  The result
   does not depend on the number of threads. */
static void run_parallel(GThreadFunc worker, gpointer ctx, guint njobs)
{
    guint n = MIN(MAX(g_get_num_processors(), 1), 4);
    n = MIN(n, MAX(njobs / 4, 1));
    GThread *th[4] = { NULL };
    for (guint t = 1; t < n; t++) {
        th[t] = g_thread_try_new("mimic-ram", worker, ctx, NULL);
    }
    worker(ctx);
    for (guint t = 1; t < n; t++) {
        if (th[t]) {
            g_thread_join(th[t]);
        }
    }
}

/* ---- little-endian helpers ---- */

static void put_u16(GByteArray *b, uint16_t v)
{
    uint8_t x[2] = { v, v >> 8 };
    g_byte_array_append(b, x, 2);
}

static void put_u32(GByteArray *b, uint32_t v)
{
    uint8_t x[4] = { v, v >> 8, v >> 16, v >> 24 };
    g_byte_array_append(b, x, 4);
}

static void put_u64(GByteArray *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static uint32_t get_u16(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

static uint32_t get_u32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* ---- writing sections ---- */

static void section_begin(GByteArray *f, const char *name, uint32_t version,
                          size_t *mark)
{
    g_byte_array_append(f, (const uint8_t *)SECT_MARK, 4);
    *mark = f->len;
    size_t n = strlen(name);
    put_u16(f, n);
    g_byte_array_append(f, (const uint8_t *)name, n);
    put_u32(f, version);
    put_u64(f, 0); /* length, patched by section_end */
}

static void section_end(GByteArray *f, size_t mark)
{
    size_t n = get_u16(f->data + mark);
    size_t len_at = mark + 2 + n + 4;
    uint64_t len = f->len - (len_at + 8);
    for (int i = 0; i < 8; i++) {
        f->data[len_at + i] = len >> (8 * i);
    }
    put_u32(f, sect_crc(f->data + mark, f->len - mark));
}

static void add_section(GByteArray *f, const char *name, uint32_t version,
                        const uint8_t *data, size_t len)
{
    size_t mark;
    section_begin(f, name, version, &mark);
    g_byte_array_append(f, data, len);
    section_end(f, mark);
}

/* ---- the pieces of a machine ---- */

static bool page_is_zero(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)p;
    for (unsigned i = 0; i < PAGE / 8; i += 4) {
        if (q[i] | q[i + 1] | q[i + 2] | q[i + 3]) {
            return false;
        }
    }
    return true;
}

/* The configuration lines a state is bound to; "info." lines are only
   informative and not compared. */
static char *config_text(MimicMachine *m)
{
    GString *s = g_string_new(NULL);
    const MachineConfig *cfg = m->cfg;
    g_string_append_printf(s, "board=%s\n", m->board_info->name);
    g_string_append_printf(s, "cpu=%s\n",
                           m->cpu ? m->cpu->ops->name : "none");
    g_string_append_printf(s, "ram=%" G_GUINT64_FORMAT "\n", cfg->ram_size);
    for (int i = 0; i < m->board.n_ram_blocks; i++) {
        const BoardRamBlock *rb = &m->board.ram_blocks[i];
        g_string_append_printf(s, "ram-block=%s %" G_GUINT64_FORMAT "\n",
                               rb->name, rb->size);
    }
    guint n = device_list_length(m->devices);
    for (guint i = 0; i < n; i++) {
        Device *d = device_list_nth(m->devices, i);
        g_string_append_printf(s, "device=%s %s\n", d->id, d->info->name);
    }
    for (int i = 0; i < m->board.n_roms; i++) {
        g_string_append_printf(s, "rom=%s %s\n", m->board.roms[i].name,
                               m->board.roms[i].sha256);
    }
    for (int i = 0; i < cfg->n_drives; i++) {
        const DriveConfig *d = &cfg->drives[i];
        g_string_append_printf(s, "drive=%d %s %d %s\n", i,
                               d->interface == DRIVE_IF_IDE ? "ide"
                               : d->interface == DRIVE_IF_FLOPPY ? "floppy"
                                                                 : "none",
                               d->index,
                               d->media == DRIVE_MEDIA_CDROM ? "cdrom"
                                                             : "disk");
    }
    g_string_append_printf(s, "info.mimic=%s\n", mimic_version());
    g_string_append_printf(s, "info.icount=%d\n", cfg->icount_shift);
    return g_string_free(s, FALSE);
}

/* size, mtime and a hash of the first and last MiB of an image file. */
static bool disk_fingerprint(BlockDev *blk, GString *out, GError **error)
{
    const char *path = blk_filename(blk);
    struct stat st;
    if (stat(path, &st) < 0) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO, "disk '%s': %s", path,
                    g_strerror(errno));
        return false;
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO, "disk '%s': %s", path,
                    g_strerror(errno));
        return false;
    }
    GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
    uint8_t *buf = g_malloc(FP_SPAN);
    off_t offs[2] = { 0, st.st_size > FP_SPAN ? st.st_size - FP_SPAN : 0 };
    for (int i = 0; i < 2; i++) {
        ssize_t r = pread(fd, buf, FP_SPAN, offs[i]);
        if (r > 0) {
            g_checksum_update(ck, buf, r);
        }
    }
    close(fd);
    g_free(buf);
    g_string_append_printf(out, "size=%lld mtime=%lld.%09ld sha256=%s",
                           (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                           (long)st.st_mtim.tv_nsec,
                           g_checksum_get_string(ck));
    g_checksum_free(ck);
    return true;
}

static bool disks_text(MimicMachine *m, bool flush, GString *s,
                       GError **error)
{
    for (int i = 0; i < MIMIC_MAX_DRIVES; i++) {
        BlockDev *blk = m->board.blk[i];
        if (!blk) {
            continue;
        }
        if (flush && !blk_flush(blk, error)) {
            g_prefix_error(error, "flushing disk '%s': ", blk_filename(blk));
            return false;
        }
        g_string_append_printf(s, "drive=%d ", i);
        if (!disk_fingerprint(blk, s, error)) {
            return false;
        }
        g_string_append_c(s, '\n');
    }
    return true;
}

typedef struct SaveRun {
    uint64_t start;
    uint32_t count;
    uint8_t *z;   /* the zstd frame, or NULL: stored as is */
    size_t zlen;
} SaveRun;

typedef struct RamSave {
    const BoardRamBlock *rb;
    GArray *runs;
    gint next;
} RamSave;

static gpointer ram_save_worker(gpointer data)
{
    RamSave *r = data;
    RamZ z;
    ramz_init(&z, RAM_RUN_PAGES * PAGE);
    for (;;) {
        gint i = g_atomic_int_add(&r->next, 1);
        if (i >= (gint)r->runs->len) {
            break;
        }
        SaveRun *run = &g_array_index(r->runs, SaveRun, i);
        size_t rawlen = (size_t)run->count * PAGE;
        size_t zlen = ramz_compress(&z, r->rb->host + run->start * PAGE,
                                    rawlen);
        /* Compression saving less than a quarter: decoding would cost
           more time at restore than the bytes saved; the run is stored
           (as it is when zstd fails). */
        if (zlen && zlen * 4 < rawlen * 3) {
            run->z = g_malloc(zlen);
            memcpy(run->z, z.buf, zlen);
            run->zlen = zlen;
        }
    }
    ramz_free(&z);
    return NULL;
}

static void save_ram_block(GByteArray *f, const BoardRamBlock *rb)
{
    size_t mark;
    char name[64];
    g_snprintf(name, sizeof(name), "ram/%s", rb->name);
    section_begin(f, name, RAM_SECTION_VERSION, &mark);
    put_u64(f, rb->size);
    uint64_t npages = rb->size / PAGE;
    RamSave r = { .rb = rb, .runs = g_array_new(FALSE, TRUE,
                                                sizeof(SaveRun)) };
    uint64_t p = 0;
    while (p < npages) {
        if (page_is_zero(rb->host + p * PAGE)) {
            p++;
            continue;
        }
        SaveRun run = { .start = p };
        while (p < npages && p - run.start < RAM_RUN_PAGES &&
               !page_is_zero(rb->host + p * PAGE)) {
            p++;
        }
        run.count = p - run.start;
        g_array_append_val(r.runs, run);
    }
    run_parallel(ram_save_worker, &r, r.runs->len);
    for (guint i = 0; i < r.runs->len; i++) {
        SaveRun *run = &g_array_index(r.runs, SaveRun, i);
        put_u64(f, run->start);
        put_u32(f, run->count);
        if (run->z) {
            put_u32(f, run->zlen);
            g_byte_array_append(f, run->z, run->zlen);
            g_free(run->z);
        } else {
            put_u32(f, run->count * PAGE);
            g_byte_array_append(f, rb->host + run->start * PAGE,
                                run->count * PAGE);
        }
    }
    g_array_unref(r.runs);
    put_u64(f, UINT64_MAX);
    put_u32(f, 0);
    put_u32(f, 0);
    section_end(f, mark);
}

GByteArray *machine_state_save(MimicMachine *m, bool with_disks,
                               GError **error)
{
    GByteArray *f = g_byte_array_new();
    unsigned nsect = 0;
    g_byte_array_append(f, (const uint8_t *)MIMIC_STATE_MAGIC, 8);
    put_u32(f, MIMIC_STATE_FORMAT_VERSION);
    put_u32(f, 0); /* flags */

    g_autofree char *cfg = config_text(m);
    add_section(f, "config", 1, (const uint8_t *)cfg, strlen(cfg));
    nsect++;

    GByteArray *b = g_byte_array_new();
    Clock *clk = m->clock;
    g_byte_array_append(b, (const uint8_t[]){ clk->mode, clk->icount_shift },
                        2);
    put_u64(b, clk->icount);
    put_u64(b, clock_now(clk));
    put_u64(b, clk->timer_seq);
    add_section(f, "clock", 1, b->data, b->len);
    nsect++;

    for (int i = 0; i < m->board.n_ram_blocks; i++) {
        save_ram_block(f, &m->board.ram_blocks[i]);
        nsect++;
    }

    if (m->cpu && m->cpu->ops->state) {
        g_byte_array_set_size(b, 0);
        state_save(m->cpu->ops->state, m->cpu, b);
        add_section(f, "cpu", m->cpu->ops->state->version, b->data, b->len);
        nsect++;
    }

    guint n = device_list_length(m->devices);
    for (guint i = 0; i < n; i++) {
        Device *d = device_list_nth(m->devices, i);
        if (!d->info->state) {
            continue;
        }
        g_byte_array_set_size(b, 0);
        state_save(d->info->state, d, b);
        char name[80];
        g_snprintf(name, sizeof(name), "dev/%s", d->id);
        add_section(f, name, d->info->state->version, b->data, b->len);
        nsect++;
    }

    /* Pending timers, last: they override what post_load rearmed. */
    g_byte_array_set_size(b, 0);
    int nt = clock_timer_count(clk);
    put_u32(b, nt);
    for (int i = 0; i < nt; i++) {
        Timer *t = clock_timer_nth(clk, i);
        put_u64(b, timer_expire_time(t));
        put_u64(b, timer_seq(t));
    }
    add_section(f, "timers", 1, b->data, b->len);
    nsect++;

    GString *disks = g_string_new(NULL);
    if (with_disks && !disks_text(m, true, disks, error)) {
        g_string_free(disks, TRUE);
        g_byte_array_unref(b);
        g_byte_array_unref(f);
        return NULL;
    }
    add_section(f, "disks", 1, (const uint8_t *)disks->str, disks->len);
    nsect++;
    g_string_free(disks, TRUE);

    g_byte_array_set_size(b, 0);
    put_u32(b, nsect);
    put_u64(b, f->len);
    add_section(f, "end", 1, b->data, b->len);
    g_byte_array_unref(b);
    return f;
}

/* ---- loading ---- */

typedef struct Section {
    char name[256];
    uint32_t version;
    const uint8_t *data;
    uint64_t len;
    bool used;
} Section;

static bool bad(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static bool bad(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID, "%s", msg);
    return false;
}

/* Walk the file: header, every section's framing and checksum, the end
   marker.  Fills secs (borrowing buf). */
static bool parse_file(const uint8_t *buf, size_t len, GArray *secs,
                       GError **error)
{
    if (len < 16 || memcmp(buf, MIMIC_STATE_MAGIC, 8) != 0) {
        return bad(error, "not a Mimic state file (bad magic)");
    }
    uint32_t ver = get_u32(buf + 8);
    if (ver != MIMIC_STATE_FORMAT_VERSION) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_VERSION,
                    "state file format version %u is not supported (this "
                    "Mimic reads version %d)", ver,
                    MIMIC_STATE_FORMAT_VERSION);
        return false;
    }
    if (get_u32(buf + 12) != 0) {
        return bad(error, "state file has unknown header flags");
    }
    size_t pos = 16;
    for (;;) {
        size_t start = pos;
        if (len - pos < 4 + 2) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_TRUNCATED,
                        "state file is truncated at offset %zu (no end "
                        "marker)", pos);
            return false;
        }
        if (memcmp(buf + pos, SECT_MARK, 4) != 0) {
            return bad(error, "state file is corrupt at offset %zu (no "
                       "section marker)", pos);
        }
        pos += 4;
        size_t mark = pos;
        size_t nlen = get_u16(buf + pos);
        pos += 2;
        if (nlen == 0 || nlen > 255) {
            return bad(error, "state file is corrupt at offset %zu (bad "
                       "section name length)", start);
        }
        if (len - pos < nlen + 4 + 8) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_TRUNCATED,
                        "state file is truncated in a section header at "
                        "offset %zu", start);
            return false;
        }
        Section s = { 0 };
        memcpy(s.name, buf + pos, nlen);
        for (size_t i = 0; i < nlen; i++) {
            if (s.name[i] < 0x21 || s.name[i] > 0x7e) {
                return bad(error, "state file is corrupt at offset %zu "
                           "(bad section name)", start);
            }
        }
        pos += nlen;
        s.version = get_u32(buf + pos);
        pos += 4;
        s.len = get_u64(buf + pos);
        pos += 8;
        if (s.len > len - pos || len - pos - s.len < 4) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_TRUNCATED,
                        "state file is truncated in section '%s'", s.name);
            return false;
        }
        s.data = buf + pos;
        pos += s.len;
        uint32_t crc = sect_crc(buf + mark, pos - mark);
        if (crc != get_u32(buf + pos)) {
            return bad(error, "state file is corrupt: checksum mismatch in "
                       "section '%s'", s.name);
        }
        pos += 4;
        if (!strcmp(s.name, "end")) {
            if (s.len != 12 || get_u32(s.data) != secs->len ||
                get_u64(s.data + 4) != start) {
                return bad(error, "state file is corrupt: bad end marker");
            }
            if (pos != len) {
                return bad(error, "state file has %zu bytes of garbage after "
                           "the end marker", len - pos);
            }
            return true;
        }
        for (guint i = 0; i < secs->len; i++) {
            if (!strcmp(g_array_index(secs, Section, i).name, s.name)) {
                return bad(error, "state file has section '%s' twice",
                           s.name);
            }
        }
        g_array_append_val(secs, s);
    }
}

static Section *find_section(GArray *secs, const char *name)
{
    for (guint i = 0; i < secs->len; i++) {
        Section *s = &g_array_index(secs, Section, i);
        if (!strcmp(s->name, name)) {
            return s;
        }
    }
    return NULL;
}

static Section *need_section(GArray *secs, const char *name, GError **error)
{
    Section *s = find_section(secs, name);
    if (!s) {
        bad(error, "state file has no '%s' section", name);
        return NULL;
    }
    s->used = true;
    return s;
}

static bool check_config(MimicMachine *m, const Section *s, GError **error)
{
    g_autofree char *here = config_text(m);
    g_autofree char *saved = g_strndup((const char *)s->data, s->len);
    if (strlen(saved) != s->len) {
        return bad(error, "state file is corrupt: bad configuration text");
    }
    gchar **a = g_strsplit(saved, "\n", -1);
    gchar **b = g_strsplit(here, "\n", -1);
    int ia = 0, ib = 0;
    bool ok = true;
    for (;;) {
        while (a[ia] && g_str_has_prefix(a[ia], "info.")) {
            ia++;
        }
        while (b[ib] && g_str_has_prefix(b[ib], "info.")) {
            ib++;
        }
        if (!a[ia] || !b[ib]) {
            if (a[ia] || b[ib]) {
                ok = bad(error, "the state was saved from another machine "
                         "configuration: %s '%s'",
                         a[ia] ? "this machine lacks" : "this machine also has",
                         a[ia] ? a[ia] : b[ib]);
            }
            break;
        }
        if (strcmp(a[ia], b[ib]) != 0) {
            uint64_t x, y;
            if (sscanf(a[ia], "ram=%" G_GUINT64_FORMAT, &x) == 1 &&
                sscanf(b[ib], "ram=%" G_GUINT64_FORMAT, &y) == 1) {
                ok = bad(error, "the state was saved from a machine with "
                         "%" G_GUINT64_FORMAT " MiB of RAM; this machine "
                         "has %" G_GUINT64_FORMAT " MiB (-m)", x >> 20,
                         y >> 20);
            } else if (g_str_has_prefix(a[ia], "rom=") &&
                       g_str_has_prefix(b[ib], "rom=")) {
                ok = bad(error, "the state was saved with other firmware "
                         "(saved '%s', here '%s')", a[ia], b[ib]);
            } else {
                ok = bad(error, "the state was saved from another machine "
                         "configuration (saved '%s', here '%s')", a[ia],
                         b[ib]);
            }
            break;
        }
        ia++;
        ib++;
    }
    g_strfreev(a);
    g_strfreev(b);
    return ok;
}

static bool check_disks(MimicMachine *m, const Section *s, unsigned flags,
                        GError **error)
{
    GString *here = g_string_new(NULL);
    if (!disks_text(m, false, here, error)) {
        g_string_free(here, TRUE);
        return false;
    }
    g_autofree char *saved = g_strndup((const char *)s->data, s->len);
    bool ok = true;
    if (strcmp(saved, here->str) != 0) {
        gchar **a = g_strsplit(saved, "\n", -1);
        gchar **b = g_strsplit(here->str, "\n", -1);
        int i = 0;
        while (a[i] && b[i] && !strcmp(a[i], b[i])) {
            i++;
        }
        int drive = -1;
        const char *line = b[i] ? b[i] : a[i];
        if (line) {
            sscanf(line, "drive=%d", &drive);
        }
        const char *file = drive >= 0 && drive < MIMIC_MAX_DRIVES &&
                           m->board.blk[drive]
                               ? blk_filename(m->board.blk[drive])
                               : "?";
        g_autofree char *msg = g_strdup_printf(
            "disk '%s' changed since the state was saved", file);
        if (flags & STATE_LOAD_FORCE) {
            g_printerr("mimic: warning: %s (resuming anyway: "
                       "-incoming-force)\n", msg);
        } else {
            g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_STATE_DISKS,
                        "%s; the guest would see a different disk "
                        "(use -incoming-force to resume anyway)", msg);
            ok = false;
        }
        g_strfreev(a);
        g_strfreev(b);
    }
    g_string_free(here, TRUE);
    return ok;
}

/* One RAM record to restore, and the zero gap before it (the last job
   of a block has no data: the gap up to the block's end). */
typedef struct RamJob {
    uint8_t *gap;         /* first page of the zero gap */
    size_t gap_pages;
    uint8_t *dst;
    const uint8_t *data;
    uint32_t count, zlen;
    bool stored;          /* the pages as they are, not zstd frames */
    uint64_t first;       /* page number, for messages */
    const char *section;
    bool anonymous;       /* the block is a private anonymous mapping */
} RamJob;

/* Check a RAM section's records; append the restore jobs to jobs. */
static bool check_ram(const BoardRamBlock *rb, const Section *s,
                      GArray *jobs, GError **error)
{
    const uint8_t *p = s->data, *end = s->data + s->len;
    if (s->version != RAM_SECTION_VERSION) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_VERSION,
                    "state section '%s' has version %u; this Mimic reads "
                    "version %d%s", s->name, s->version, RAM_SECTION_VERSION,
                    s->version < RAM_SECTION_VERSION
                        ? " (zstd; older Mimic wrote zlib RAM, which cannot "
                          "be resumed here)"
                        : "");
        return false;
    }
    if (s->len < 8 || get_u64(p) != rb->size) {
        return bad(error, "state section '%s': RAM block size mismatch",
                   s->name);
    }
    p += 8;
    uint64_t npages = rb->size / PAGE, next = 0;
    for (;;) {
        if (end - p < 16) {
            return bad(error, "state section '%s' is truncated", s->name);
        }
        uint64_t first = get_u64(p);
        uint32_t count = get_u32(p + 8), zlen = get_u32(p + 12);
        p += 16;
        RamJob j = { .gap = rb->host + next * PAGE, .section = s->name,
                     .anonymous = rb->anonymous };
        if (first == UINT64_MAX) {
            if (count || zlen || p != end) {
                return bad(error, "state section '%s': bad end record",
                           s->name);
            }
            j.gap_pages = npages - next;
            g_array_append_val(jobs, j);
            return true;
        }
        if (first < next || first >= npages || count == 0 ||
            count > RAM_RUN_PAGES || count > npages - first ||
            zlen > (size_t)(end - p)) {
            return bad(error, "state section '%s': bad page record at page "
                       "%" G_GUINT64_FORMAT, s->name, first);
        }
        /* The data is not inflated here: the checksum already vouches
           for the bytes; a stream that still fails to inflate is caught
           when restoring, before the CPU and devices are touched. */
        j.gap_pages = first - next;
        j.dst = rb->host + first * PAGE;
        j.data = p;
        j.count = count;
        j.zlen = zlen;
        j.stored = zlen == (size_t)count * PAGE;
        j.first = first;
        g_array_append_val(jobs, j);
        p += zlen;
        next = first + count;
    }
}

typedef struct RamRestore {
    GArray *jobs;
    gint next;   /* atomic: the next job to take */
    gint failed; /* atomic: lowest failed job + 1, or 0 */
} RamRestore;

static void ram_job_run(const RamJob *j)
{
    if (j->anonymous && j->gap_pages >= 16 &&
        ((uintptr_t)j->gap & (PAGE - 1)) == 0 &&
        madvise(j->gap, j->gap_pages * PAGE, MADV_DONTNEED) == 0) {
        /* Dropped pages of a private anonymous mapping read as zero:
           a fresh machine's untouched RAM is not even read. */
        return;
    }
    for (size_t q = 0; q < j->gap_pages; q++) {
        /* Untouched RAM reads as zero without being written (and so
           without being allocated by the host). */
        if (!page_is_zero(j->gap + q * PAGE)) {
            memset(j->gap + q * PAGE, 0, PAGE);
        }
    }
}

static gpointer ram_restore_worker(gpointer data)
{
    RamRestore *r = data;
    ZSTD_DCtx *d = ZSTD_createDCtx();
    for (;;) {
        gint i = g_atomic_int_add(&r->next, 1);
        if (i >= (gint)r->jobs->len) {
            ZSTD_freeDCtx(d);
            return NULL;
        }
        const RamJob *j = &g_array_index(r->jobs, RamJob, i);
        ram_job_run(j);
        bool ok = true;
        if (!j->count) {
            continue;
        } else if (j->stored) {
            memcpy(j->dst, j->data, j->zlen);
        } else {
            ok = ram_uncompress(d, j->dst, (size_t)j->count * PAGE, j->data,
                                j->zlen);
        }
        while (!ok) {
            gint old = g_atomic_int_get(&r->failed);
            if ((old && old <= i + 1) ||
                g_atomic_int_compare_and_exchange(&r->failed, old, i + 1)) {
                break;
            }
        }
    }
}

/* Restore the checked RAM: the jobs are independent (disjoint pages), so
   they run on up to four threads; inflating is most of a restore. */
static bool restore_ram(GArray *jobs, GError **error)
{
    RamRestore r = { .jobs = jobs };
    run_parallel(ram_restore_worker, &r, jobs->len);
    if (r.failed) {
        const RamJob *j = &g_array_index(jobs, RamJob, r.failed - 1);
        return bad(error, "state section '%s': page data at page "
                   "%" G_GUINT64_FORMAT " does not decompress", j->section,
                   j->first);
    }
    return true;
}

static bool load_desc(const StateDesc *desc, void *obj, const Section *s,
                      GError **error)
{
    size_t used = 0;
    if (!state_load(desc, obj, s->version, s->data, s->len, &used, error)) {
        return false;
    }
    if (used != s->len) {
        return bad(error, "state section '%s' has %" G_GUINT64_FORMAT
                   " bytes; version %u has %zu", s->name, s->len, s->version,
                   used);
    }
    return true;
}

bool machine_state_load(MimicMachine *m, const uint8_t *buf, size_t len,
                        unsigned flags, GError **error)
{
    GArray *secs = g_array_new(FALSE, TRUE, sizeof(Section));
    GArray *ram_jobs = g_array_new(FALSE, FALSE, sizeof(RamJob));
    bool ok = false;
    if (!parse_file(buf, len, secs, error)) {
        goto out;
    }
    Section *cfg = need_section(secs, "config", error);
    if (!cfg || !check_config(m, cfg, error)) {
        goto out;
    }
    Section *clk = need_section(secs, "clock", error);
    if (!clk) {
        goto out;
    }
    if (clk->version != 1 || clk->len != 2 + 3 * 8) {
        bad(error, "state section 'clock' has an unknown layout");
        goto out;
    }
    int64_t icount = get_u64(clk->data + 2), now = get_u64(clk->data + 10);
    uint64_t seq = get_u64(clk->data + 18);
    if (clk->data[0] > CLOCK_MODE_ICOUNT || clk->data[1] > 10 ||
        icount < 0 || now < 0) {
        bad(error, "state section 'clock': values out of range");
        goto out;
    }
    Section *ram[BOARD_MAX_RAM_BLOCKS];
    for (int i = 0; i < m->board.n_ram_blocks; i++) {
        char name[64];
        g_snprintf(name, sizeof(name), "ram/%s", m->board.ram_blocks[i].name);
        ram[i] = need_section(secs, name, error);
        if (!ram[i] ||
            !check_ram(&m->board.ram_blocks[i], ram[i], ram_jobs, error)) {
            goto out;
        }
    }
    Section *cpu = NULL;
    if (m->cpu && m->cpu->ops->state) {
        cpu = need_section(secs, "cpu", error);
        if (!cpu) {
            goto out;
        }
        const StateDesc *d = m->cpu->ops->state;
        if (cpu->version < (uint32_t)d->min_version ||
            cpu->version > (uint32_t)d->version ||
            cpu->len != state_size(d, cpu->version)) {
            bad(error, "state section 'cpu': version %u or size "
                "%" G_GUINT64_FORMAT " does not match this Mimic's %s",
                cpu->version, cpu->len, d->name);
            goto out;
        }
    }
    guint ndev = device_list_length(m->devices);
    Section **devs = g_new0(Section *, ndev + 1);
    for (guint i = 0; i < ndev; i++) {
        Device *d = device_list_nth(m->devices, i);
        if (!d->info->state) {
            continue;
        }
        char name[80];
        g_snprintf(name, sizeof(name), "dev/%s", d->id);
        devs[i] = need_section(secs, name, error);
        if (!devs[i]) {
            g_free(devs);
            goto out;
        }
        const StateDesc *sd = d->info->state;
        if (devs[i]->version < (uint32_t)sd->min_version ||
            devs[i]->version > (uint32_t)sd->version) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_VERSION,
                        "state section '%s' has version %u; this Mimic reads "
                        "versions %d to %d", name, devs[i]->version,
                        sd->min_version, sd->version);
            g_free(devs);
            goto out;
        }
        if (devs[i]->len != state_size(sd, devs[i]->version)) {
            bad(error, "state section '%s' has %" G_GUINT64_FORMAT " bytes; "
                "version %u has %zu", name, devs[i]->len, devs[i]->version,
                state_size(sd, devs[i]->version));
            g_free(devs);
            goto out;
        }
    }
    Section *tim = need_section(secs, "timers", error);
    int nt = clock_timer_count(m->clock);
    if (!tim) {
        g_free(devs);
        goto out;
    }
    if (tim->version != 1 || tim->len < 4 || get_u32(tim->data) != (uint32_t)nt ||
        tim->len != 4 + 16ull * nt) {
        bad(error, "state section 'timers' does not match this machine's "
            "%d timers", nt);
        g_free(devs);
        goto out;
    }
    for (int i = 0; i < nt; i++) {
        if (get_u64(tim->data + 4 + 16 * i + 8) > seq) {
            bad(error, "state section 'timers': timer %d out of range", i);
            g_free(devs);
            goto out;
        }
    }
    Section *disks = need_section(secs, "disks", error);
    if (!disks) {
        g_free(devs);
        goto out;
    }
    if ((flags & STATE_LOAD_CHECK_DISKS) &&
        !check_disks(m, disks, flags, error)) {
        g_free(devs);
        goto out;
    }
    for (guint i = 0; i < secs->len; i++) {
        Section *s = &g_array_index(secs, Section, i);
        if (!s->used) {
            bad(error, "state file has section '%s', which this machine "
                "does not have", s->name);
            g_free(devs);
            goto out;
        }
    }

    /* Everything checked: restore. */
    m->clock->icount = m->clock->mode == CLOCK_MODE_ICOUNT ? icount : 0;
    clock_set_now(m->clock, now);
    m->clock->timer_seq = seq;
    if (!restore_ram(ram_jobs, error)) {
        g_free(devs);
        goto out;
    }
    if (cpu) {
        if (m->cpu->ops->flush_code) {
            m->cpu->ops->flush_code(m->cpu);
        }
        if (!load_desc(m->cpu->ops->state, m->cpu, cpu, error)) {
            g_free(devs);
            goto out;
        }
    }
    /* Reverse creation order: the interrupt controllers, created first,
       come last, so their saved input state wins over the lines that the
       other devices' post_load drive again. */
    for (guint i = ndev; i-- > 0;) {
        Device *d = device_list_nth(m->devices, i);
        if (devs[i] && !load_desc(d->info->state, d, devs[i], error)) {
            g_free(devs);
            goto out;
        }
    }
    g_free(devs);
    for (int i = 0; i < nt; i++) {
        const uint8_t *p = tim->data + 4 + 16 * i;
        timer_restore(clock_timer_nth(m->clock, i), get_u64(p),
                      get_u64(p + 8));
    }
    m->clock->timer_seq = seq;
    /* The mixers' timelines restart at the restored time (audio.h). */
    for (int i = 0; i < m->n_audio; i++) {
        audio_resync(m->audio[i]);
    }
    ok = true;
out:
    g_array_unref(ram_jobs);
    g_array_unref(secs);
    return ok;
}

/* ---- files and URIs ---- */

bool state_write_file_atomic(const char *path, const void *data, size_t len,
                             GError **error)
{
    g_autofree char *tmp = g_strdup_printf("%s.tmp-XXXXXX", path);
    int fd = g_mkstemp_full(tmp, O_WRONLY, 0644);
    if (fd < 0) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO, "%s: %s", path,
                    g_strerror(errno));
        return false;
    }
    const uint8_t *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, MIN(left, (size_t)1 << 24));
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            int e = errno;
            close(fd);
            g_unlink(tmp);
            g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO, "%s: %s", path,
                        g_strerror(e));
            return false;
        }
        p += w;
        left -= w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        int e = errno;
        g_unlink(tmp);
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO, "%s: %s", path,
                    g_strerror(e));
        return false;
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        g_unlink(tmp);
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO, "%s: %s", path,
                    g_strerror(e));
        return false;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return true;
}

static bool spawn_shell(const char *cmd, int *in_fd, int *out_fd, GPid *pid,
                        GError **error)
{
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    return g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, pid,
                                    in_fd, out_fd, NULL, error);
}

static bool wait_shell(const char *cmd, GPid pid, GError **error)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            status = -1;
            break;
        }
    }
    g_spawn_close_pid(pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO,
                    "the command failed (%s %d)",
                    WIFEXITED(status) ? "exit status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status)
                                      : WTERMSIG(status));
        return false;
    }
    return true;
}

static bool migrate_exec(const char *cmd, const GByteArray *f, GError **error)
{
    int in_fd;
    GPid pid;
    signal(SIGPIPE, SIG_IGN);
    if (!spawn_shell(cmd, &in_fd, NULL, &pid, error)) {
        return false;
    }
    const uint8_t *p = f->data;
    size_t left = f->len;
    bool ok = true;
    while (left) {
        ssize_t w = write(in_fd, p, MIN(left, (size_t)1 << 20));
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            ok = false;
            break;
        }
        p += w;
        left -= w;
    }
    close(in_fd);
    if (!wait_shell(cmd, pid, error)) {
        return false;
    }
    if (!ok) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO,
                    "the command did not read the whole state");
    }
    return ok;
}

bool machine_migrate(MimicMachine *m, const char *uri, GError **error)
{
    bool file = g_str_has_prefix(uri, "file:");
    bool exec = g_str_has_prefix(uri, "exec:");
    if (!file && !exec) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "migrate: unsupported URI '%s' (use file:PATH or "
                    "exec:COMMAND)", uri);
        return false;
    }
    machine_do_stop(m);
    GByteArray *f = machine_state_save(m, true, error);
    if (!f) {
        g_prefix_error(error, "migrate %s: ", uri);
        return false;
    }
    bool ok = file ? state_write_file_atomic(uri + 5, f->data, f->len, error)
                   : migrate_exec(uri + 5, f, error);
    g_byte_array_unref(f);
    if (!ok) {
        g_prefix_error(error, "migrate %s: ", uri);
    }
    if (ok) {
        m->postmigrate = true; /* as QEMU: stays paused after migration */
    }
    return ok;
}

static GByteArray *read_exec(const char *cmd, GError **error)
{
    int out_fd;
    GPid pid;
    if (!spawn_shell(cmd, NULL, &out_fd, &pid, error)) {
        return NULL;
    }
    GByteArray *b = g_byte_array_new();
    uint8_t chunk[65536];
    for (;;) {
        ssize_t r = read(out_fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        g_byte_array_append(b, chunk, r);
    }
    close(out_fd);
    if (!wait_shell(cmd, pid, error)) {
        g_byte_array_unref(b);
        return NULL;
    }
    return b;
}

bool machine_incoming(MimicMachine *m, const char *uri, bool force,
                      GError **error)
{
    GByteArray *b = NULL;
    if (g_str_has_prefix(uri, "file:")) {
        /* Mapped, not read: no copy and no fresh buffer to fault in. */
        GMappedFile *mf = g_mapped_file_new(uri + 5, FALSE, error);
        if (!mf) {
            g_prefix_error(error, "-incoming: ");
            return false;
        }
        bool ok = machine_state_load(
            m, (const uint8_t *)g_mapped_file_get_contents(mf),
            g_mapped_file_get_length(mf),
            STATE_LOAD_CHECK_DISKS | (force ? STATE_LOAD_FORCE : 0), error);
        if (!ok) {
            g_prefix_error(error, "-incoming %s: ", uri);
        }
        g_mapped_file_unref(mf);
        return ok;
    } else if (g_str_has_prefix(uri, "exec:")) {
        b = read_exec(uri + 5, error);
        if (!b) {
            g_prefix_error(error, "-incoming %s: ", uri);
            return false;
        }
    } else {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "-incoming: unsupported URI '%s' (use file:PATH or "
                    "exec:COMMAND)", uri);
        return false;
    }
    bool ok = machine_state_load(m, b->data, b->len,
                                 STATE_LOAD_CHECK_DISKS |
                                 (force ? STATE_LOAD_FORCE : 0), error);
    if (!ok) {
        g_prefix_error(error, "-incoming %s: ", uri);
    }
    g_byte_array_unref(b);
    return ok;
}

/* ---- named snapshots (qcow2) ---- */

/* The disks that take part; the first qcow2 one holds the VM state.
   Refuses when a writable disk cannot take snapshots. */
static int snapshot_disks(MimicMachine *m, BlockDev **out, GError **error)
{
    int n = 0;
    for (int i = 0; i < MIMIC_MAX_DRIVES; i++) {
        BlockDev *blk = m->board.blk[i];
        if (!blk) {
            continue;
        }
        bool qcow2 = !strcmp(blk_format_name(blk), "qcow2");
        if (!qcow2) {
            if (!blk_is_read_only(blk)) {
                g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                            "Device '%s' is writable but does not support "
                            "snapshots (format %s; only qcow2 does)",
                            blk_filename(blk), blk_format_name(blk));
                return -1;
            }
            continue;
        }
        out[n++] = blk;
    }
    if (n == 0) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "no disk can hold snapshots (a qcow2 disk is needed)");
        return -1;
    }
    return n;
}

static bool snapshot_exists(BlockDev *blk, const char *name,
                            BlockSnapshotInfo *info_out)
{
    BlockSnapshotInfo *l;
    int n = blk_snapshot_list(blk, &l, NULL);
    bool found = false;
    for (int i = 0; i < n; i++) {
        if (!strcmp(l[i].name, name) || !strcmp(l[i].id, name)) {
            found = true;
            if (info_out) {
                *info_out = l[i];
                info_out->id = g_strdup(l[i].id);
                info_out->name = g_strdup(l[i].name);
            }
            break;
        }
    }
    if (n > 0) {
        blk_snapshot_list_free(l, n);
    }
    return found;
}

bool machine_savevm(MimicMachine *m, const char *name, GError **error)
{
    BlockDev *disks[MIMIC_MAX_DRIVES];
    int n = snapshot_disks(m, disks, error);
    if (n < 0) {
        return false;
    }
    bool was_running = m->run_state == MIMIC_STATE_RUNNING;
    machine_do_stop(m);
    GByteArray *f = machine_state_save(m, false, error);
    bool ok = f != NULL;
    for (int i = 0; ok && i < n; i++) {
        ok = blk_flush(disks[i], error);
        if (ok && snapshot_exists(disks[i], name, NULL)) {
            ok = blk_snapshot_delete(disks[i], name, error);
        }
    }
    if (ok) {
        ok = blk_vmstate_write(disks[0], 0, f->data, f->len, error);
    }
    for (int i = 0; ok && i < n; i++) {
        ok = blk_snapshot_create(disks[i], name, clock_now(m->clock),
                                 i == 0 ? f->len : 0, error) &&
             blk_flush(disks[i], error);
    }
    if (f) {
        g_byte_array_unref(f);
    }
    if (was_running) {
        machine_do_cont(m);
    }
    return ok;
}

bool machine_loadvm(MimicMachine *m, const char *name, GError **error)
{
    BlockDev *disks[MIMIC_MAX_DRIVES];
    int n = snapshot_disks(m, disks, error);
    if (n < 0) {
        return false;
    }
    BlockSnapshotInfo info = { 0 };
    if (!snapshot_exists(disks[0], name, &info)) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "Snapshot '%s' does not exist in device '%s'", name,
                    blk_filename(disks[0]));
        return false;
    }
    g_free(info.id);
    g_free(info.name);
    for (int i = 1; i < n; i++) {
        if (!snapshot_exists(disks[i], name, NULL)) {
            g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                        "Snapshot '%s' does not exist in device '%s'", name,
                        blk_filename(disks[i]));
            return false;
        }
    }
    if (info.vm_state_size == 0 || info.vm_state_size > ((uint64_t)1 << 40)) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "snapshot '%s' has no VM state", name);
        return false;
    }
    bool was_running = m->run_state == MIMIC_STATE_RUNNING;
    machine_do_stop(m);
    bool ok = true;
    for (int i = 0; ok && i < n; i++) {
        ok = blk_snapshot_apply(disks[i], name, error);
    }
    uint8_t *buf = ok ? g_try_malloc(info.vm_state_size) : NULL;
    if (ok && !buf) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_IO,
                    "snapshot '%s': cannot allocate its VM state", name);
        ok = false;
    }
    ok = ok && blk_vmstate_read(disks[0], 0, buf, info.vm_state_size, error);
    ok = ok && machine_state_load(m, buf, info.vm_state_size, 0, error);
    g_free(buf);
    if (!ok) {
        g_prefix_error(error, "loadvm %s: ", name);
        return false; /* the machine stays paused */
    }
    if (was_running) {
        machine_do_cont(m);
    }
    return true;
}

bool machine_delvm(MimicMachine *m, const char *name, GError **error)
{
    BlockDev *disks[MIMIC_MAX_DRIVES];
    int n = snapshot_disks(m, disks, error);
    if (n < 0) {
        return false;
    }
    bool any = false;
    for (int i = 0; i < n; i++) {
        if (snapshot_exists(disks[i], name, NULL)) {
            if (!blk_snapshot_delete(disks[i], name, error)) {
                return false;
            }
            any = true;
        }
    }
    if (!any) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG,
                    "Snapshot '%s' not found", name);
    }
    return any;
}

void machine_info_snapshots(MimicMachine *m, GString *out)
{
    BlockDev *disks[MIMIC_MAX_DRIVES];
    GError *err = NULL;
    int n = snapshot_disks(m, disks, &err);
    if (n < 0) {
        g_string_append_printf(out, "%s\n", err->message);
        g_error_free(err);
        return;
    }
    BlockSnapshotInfo *l;
    int k = blk_snapshot_list(disks[0], &l, NULL);
    if (k <= 0) {
        g_string_append(out, "There is no snapshot available.\n");
        return;
    }
    g_string_append(out, "List of snapshots present on all disks:\n");
    g_string_append_printf(out, "%-10s%-17s%8s%20s%15s\n", "ID", "TAG",
                           "VM SIZE", "DATE", "VM CLOCK");
    for (int i = 0; i < k; i++) {
        bool everywhere = true;
        for (int j = 1; j < n; j++) {
            everywhere &= snapshot_exists(disks[j], l[i].name, NULL);
        }
        if (!everywhere) {
            continue;
        }
        g_autoptr(GDateTime) dt =
            g_date_time_new_from_unix_local(l[i].date_sec);
        g_autofree char *date = dt ? g_date_time_format(dt, "%F %T")
                                   : g_strdup("?");
        uint64_t ns = l[i].vm_clock_nsec;
        g_autofree char *size = g_format_size_full(l[i].vm_state_size,
                                                   G_FORMAT_SIZE_IEC_UNITS);
        g_string_append_printf(out, "%-10s%-17s%8s%20s %02u:%02u:%02u.%03u\n",
                               "--", l[i].name, size, date,
                               (unsigned)(ns / 3600000000000ull),
                               (unsigned)(ns / 60000000000ull % 60),
                               (unsigned)(ns / 1000000000ull % 60),
                               (unsigned)(ns / 1000000ull % 1000));
    }
    blk_snapshot_list_free(l, k);
}
