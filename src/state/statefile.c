/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine state file's format (docs/state-format.md): the header,
 * sections framed as
 *   "SECT" | u16 name length | name | u32 version | u64 length | payload |
 *   u32 CRC-32 of everything from the name length to the payload's end,
 * the end marker, RAM blocks as zstd-compressed (or stored) page records,
 * the form of the text sections, and the atomic write of a file.  It
 * knows nothing of machines: the engine (src/engine/savevm.c) decides
 * which sections a machine has and what they mean.
 */
#include "state/statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <glib/gstdio.h>
#include "mimic-config.h"
#ifdef HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#define SECT_MARK "SECT"
#define RAM_RUN_PAGES 256 /* pages per compressed record (1 MiB) */
/* ram/ sections: version 3 holds zstd frames, and a record whose length
   is its pages' size holds them as they are (1 and 2, zlib, are
   refused). */
#define RAM_SECTION_VERSION STATE_RAM_VERSION
#define PAGE 4096u

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
    size_t r = ZSTD_compressCCtx(z->c, z->buf, z->cap, src, n, RAM_ZSTD_LEVEL);
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
    GThread *th[4] = {NULL};
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

void state_put_u16(GByteArray *b, uint16_t v)
{
    uint8_t x[2] = {v, v >> 8};
    g_byte_array_append(b, x, 2);
}

void state_put_u32(GByteArray *b, uint32_t v)
{
    uint8_t x[4] = {v, v >> 8, v >> 16, v >> 24};
    g_byte_array_append(b, x, 4);
}

void state_put_u64(GByteArray *b, uint64_t v)
{
    state_put_u32(b, (uint32_t)v);
    state_put_u32(b, (uint32_t)(v >> 32));
}

uint16_t state_get_u16(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

uint32_t state_get_u32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t state_get_u64(const uint8_t *p)
{
    return state_get_u32(p) | (uint64_t)state_get_u32(p + 4) << 32;
}

/* ---- writing sections ---- */

static void section_begin(GByteArray *f, const char *name, uint32_t version,
                          size_t *mark)
{
    g_byte_array_append(f, (const uint8_t *)SECT_MARK, 4);
    *mark = f->len;
    size_t n = strlen(name);
    state_put_u16(f, n);
    g_byte_array_append(f, (const uint8_t *)name, n);
    state_put_u32(f, version);
    state_put_u64(f, 0); /* length, patched by section_end */
}

static void section_end(GByteArray *f, size_t mark)
{
    size_t n = state_get_u16(f->data + mark);
    size_t len_at = mark + 2 + n + 4;
    uint64_t len = f->len - (len_at + 8);
    for (int i = 0; i < 8; i++) {
        f->data[len_at + i] = len >> (8 * i);
    }
    state_put_u32(f, sect_crc(f->data + mark, f->len - mark));
}

void state_section_add(GByteArray *f, const char *name, uint32_t version,
                       const uint8_t *data, size_t len)
{
    size_t mark;
    section_begin(f, name, version, &mark);
    g_byte_array_append(f, data, len);
    section_end(f, mark);
}

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

typedef struct SaveRun {
    uint64_t start;
    uint32_t count;
    uint8_t *z; /* the zstd frame, or NULL: stored as is */
    size_t zlen;
} SaveRun;

typedef struct RamSave {
    const StateRamBlock *rb;
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
        size_t zlen =
            ramz_compress(&z, r->rb->host + run->start * PAGE, rawlen);
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

void state_ram_save(GByteArray *f, const StateRamBlock *rb)
{
    size_t mark;
    char name[64];
    g_snprintf(name, sizeof(name), "ram/%s", rb->name);
    section_begin(f, name, RAM_SECTION_VERSION, &mark);
    state_put_u64(f, rb->size);
    uint64_t npages = rb->size / PAGE;
    RamSave r = {.rb = rb, .runs = g_array_new(FALSE, TRUE, sizeof(SaveRun))};
    uint64_t p = 0;
    while (p < npages) {
        if (page_is_zero(rb->host + p * PAGE)) {
            p++;
            continue;
        }
        SaveRun run = {.start = p};
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
        state_put_u64(f, run->start);
        state_put_u32(f, run->count);
        if (run->z) {
            state_put_u32(f, run->zlen);
            g_byte_array_append(f, run->z, run->zlen);
            g_free(run->z);
        } else {
            state_put_u32(f, run->count * PAGE);
            g_byte_array_append(f, rb->host + run->start * PAGE,
                                run->count * PAGE);
        }
    }
    g_array_unref(r.runs);
    state_put_u64(f, UINT64_MAX);
    state_put_u32(f, 0);
    state_put_u32(f, 0);
    section_end(f, mark);
}

bool state_invalid(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, STATE_ERROR, STATE_ERROR_INVALID, "%s", msg);
    return false;
}

/* A section whose layout has one version, and that version is not it. */
bool state_bad_version(GError **error, const char *name, uint32_t version,
                       uint32_t want)
{
    g_set_error(error, STATE_ERROR, STATE_ERROR_VERSION,
                "state section '%s' has version %u; this Mimic reads "
                "version %u",
                name, version, want);
    return false;
}

/* Walk the file: header, every section's framing and checksum, the end
   marker.  Fills secs (borrowing buf). */
bool state_file_parse(const uint8_t *buf, size_t len, GArray *secs,
                      GError **error)
{
    if (len < 16 || memcmp(buf, STATE_FILE_MAGIC, 8) != 0) {
        return state_invalid(error, "not a Mimic state file (bad magic)");
    }
    uint32_t ver = state_get_u32(buf + 8);
    if (ver != STATE_FILE_VERSION) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_VERSION,
                    "state file format version %u is not supported (this "
                    "Mimic reads version %d)",
                    ver, STATE_FILE_VERSION);
        return false;
    }
    if (state_get_u32(buf + 12) != 0) {
        return state_invalid(error, "state file has unknown header flags");
    }
    size_t pos = 16;
    for (;;) {
        size_t start = pos;
        if (len - pos < 4 + 2) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_TRUNCATED,
                        "state file is truncated at offset %zu (no end "
                        "marker)",
                        pos);
            return false;
        }
        if (memcmp(buf + pos, SECT_MARK, 4) != 0) {
            return state_invalid(error,
                                 "state file is corrupt at offset %zu (no "
                                 "section marker)",
                                 pos);
        }
        pos += 4;
        size_t mark = pos;
        size_t nlen = state_get_u16(buf + pos);
        pos += 2;
        if (nlen == 0 || nlen > 255) {
            return state_invalid(error,
                                 "state file is corrupt at offset %zu (bad "
                                 "section name length)",
                                 start);
        }
        if (len - pos < nlen + 4 + 8) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_TRUNCATED,
                        "state file is truncated in a section header at "
                        "offset %zu",
                        start);
            return false;
        }
        StateSection s = {0};
        memcpy(s.name, buf + pos, nlen);
        for (size_t i = 0; i < nlen; i++) {
            if (s.name[i] < 0x21 || s.name[i] > 0x7e) {
                return state_invalid(error,
                                     "state file is corrupt at offset %zu "
                                     "(bad section name)",
                                     start);
            }
        }
        pos += nlen;
        s.version = state_get_u32(buf + pos);
        pos += 4;
        s.len = state_get_u64(buf + pos);
        pos += 8;
        if (s.len > len - pos || len - pos - s.len < 4) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_TRUNCATED,
                        "state file is truncated in section '%s'", s.name);
            return false;
        }
        s.data = buf + pos;
        pos += s.len;
        uint32_t crc = sect_crc(buf + mark, pos - mark);
        if (crc != state_get_u32(buf + pos)) {
            return state_invalid(error,
                                 "state file is corrupt: checksum mismatch in "
                                 "section '%s'",
                                 s.name);
        }
        pos += 4;
        if (!strcmp(s.name, "end")) {
            if (s.version != 1) {
                return state_bad_version(error, s.name, s.version, 1);
            }
            if (s.len != 12 || state_get_u32(s.data) != secs->len ||
                state_get_u64(s.data + 4) != start) {
                return state_invalid(error,
                                     "state file is corrupt: bad end marker");
            }
            if (pos != len) {
                return state_invalid(
                    error,
                    "state file has %zu bytes of garbage after "
                    "the end marker",
                    len - pos);
            }
            return true;
        }
        for (guint i = 0; i < secs->len; i++) {
            if (!strcmp(g_array_index(secs, StateSection, i).name, s.name)) {
                return state_invalid(error, "state file has section '%s' twice",
                                     s.name);
            }
        }
        g_array_append_val(secs, s);
    }
}

StateSection *state_section_find(GArray *secs, const char *name)
{
    for (guint i = 0; i < secs->len; i++) {
        StateSection *s = &g_array_index(secs, StateSection, i);
        if (!strcmp(s->name, name)) {
            return s;
        }
    }
    return NULL;
}

/* A text section (config, disks): printable ASCII lines, each ended by a
   newline, each of the form key=value; nothing after the last newline. */
bool state_text_check(const StateSection *s, GError **error)
{
    const uint8_t *p = s->data, *end = s->data + s->len;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', end - p);
        if (!nl) {
            return state_invalid(error,
                                 "state section '%s' is corrupt: %zu bytes "
                                 "after its last line",
                                 s->name, (size_t)(end - p));
        }
        bool eq = false;
        for (const uint8_t *q = p; q < nl; q++) {
            if (*q < 0x20 || *q > 0x7e) {
                return state_invalid(error,
                                     "state section '%s' is corrupt: byte "
                                     "0x%02x at offset %zu",
                                     s->name, *q, (size_t)(q - s->data));
            }
            eq |= *q == '=' && q > p;
        }
        if (!eq) {
            return state_invalid(error,
                                 "state section '%s' is corrupt: line at "
                                 "offset %zu is not key=value",
                                 s->name, (size_t)(p - s->data));
        }
        p = nl + 1;
    }
    return true;
}

/* One RAM record to restore, and the zero gap before it (the last job
   of a block has no data: the gap up to the block's end). */
typedef struct RamJob {
    uint8_t *gap; /* first page of the zero gap */
    size_t gap_pages;
    uint8_t *dst;
    const uint8_t *data;
    uint32_t count, zlen;
    bool stored;      /* the pages as they are, not zstd frames */
    uint8_t *scratch; /* the decoded frame, until it is committed */
    uint64_t first;   /* page number, for messages */
    const char *section;
    bool anonymous; /* the block is a private anonymous mapping */
} RamJob;

/* Check a RAM section's records; append the restore jobs to jobs. */
static bool ram_check(const StateRamBlock *rb, const StateSection *s,
                      GArray *jobs, GError **error)
{
    const uint8_t *p = s->data, *end = s->data + s->len;
    if (s->version != RAM_SECTION_VERSION) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_VERSION,
                    "state section '%s' has version %u; this Mimic reads "
                    "version %d%s",
                    s->name, s->version, RAM_SECTION_VERSION,
                    s->version < RAM_SECTION_VERSION
                        ? " (zstd; older Mimic wrote zlib RAM, which cannot "
                          "be resumed here)"
                        : "");
        return false;
    }
    if (s->len < 8 || state_get_u64(p) != rb->size) {
        return state_invalid(
            error, "state section '%s': RAM block size mismatch", s->name);
    }
    p += 8;
    uint64_t npages = rb->size / PAGE, next = 0;
    for (;;) {
        if (end - p < 16) {
            return state_invalid(error, "state section '%s' is truncated",
                                 s->name);
        }
        uint64_t first = state_get_u64(p);
        uint32_t count = state_get_u32(p + 8), zlen = state_get_u32(p + 12);
        p += 16;
        RamJob j = {.gap = rb->host + next * PAGE,
                    .section = s->name,
                    .anonymous = rb->anonymous};
        if (first == UINT64_MAX) {
            if (count || zlen || p != end) {
                return state_invalid(
                    error, "state section '%s': bad end record", s->name);
            }
            j.gap_pages = npages - next;
            g_array_append_val(jobs, j);
            return true;
        }
        if (first < next || first >= npages || count == 0 ||
            count > RAM_RUN_PAGES || count > npages - first ||
            zlen > (size_t)(end - p)) {
            return state_invalid(error,
                                 "state section '%s': bad page record at page "
                                 "%" G_GUINT64_FORMAT,
                                 s->name, first);
        }
        /* Frames are decoded into scratch memory once every section
           was checked (decode_ram), before anything is committed. */
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

/* Decode the zstd frames into scratch memory (the machine's RAM is not
   touched): a frame that fails to decode despite its good checksum is
   refused before anything of the machine changed. */
static gpointer ram_decode_worker(gpointer data)
{
    RamRestore *r = data;
    ZSTD_DCtx *d = ZSTD_createDCtx();
    for (;;) {
        gint i = g_atomic_int_add(&r->next, 1);
        if (i >= (gint)r->jobs->len) {
            ZSTD_freeDCtx(d);
            return NULL;
        }
        RamJob *j = &g_array_index(r->jobs, RamJob, i);
        if (!j->count || j->stored) {
            continue;
        }
        size_t n = (size_t)j->count * PAGE;
        j->scratch = g_try_malloc(n);
        if (j->scratch && ram_uncompress(d, j->scratch, n, j->data, j->zlen)) {
            continue;
        }
        while (true) {
            gint old = g_atomic_int_get(&r->failed);
            if ((old && old <= i + 1) ||
                g_atomic_int_compare_and_exchange(&r->failed, old, i + 1)) {
                break;
            }
        }
    }
}

static void free_ram_jobs(GArray *jobs)
{
    for (guint i = 0; i < jobs->len; i++) {
        g_free(g_array_index(jobs, RamJob, i).scratch);
    }
    g_array_unref(jobs);
}

/* RAM is decoded in independent records (disjoint pages), so this runs
   on up to four threads; decoding is most of a restore. */
static bool decode_ram(GArray *jobs, GError **error)
{
    RamRestore r = {.jobs = jobs};
    run_parallel(ram_decode_worker, &r, jobs->len);
    if (r.failed) {
        const RamJob *j = &g_array_index(jobs, RamJob, r.failed - 1);
        if (!j->scratch) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_IO,
                        "state section '%s': out of memory for page data at "
                        "page %" G_GUINT64_FORMAT,
                        j->section, j->first);
            return false;
        }
        return state_invalid(error,
                             "state section '%s': page data at page "
                             "%" G_GUINT64_FORMAT " does not decompress",
                             j->section, j->first);
    }
    return true;
}

/* Zero the job's gap, then write its pages: stored, decoded in scratch
   memory, or (when they were not decoded beforehand) decoded in place.
   False: an in-place decode failed. */
static bool ram_job_run(const RamJob *j, ZSTD_DCtx *d)
{
    if (j->anonymous && j->gap_pages >= 16 &&
        ((uintptr_t)j->gap & (PAGE - 1)) == 0 &&
        madvise(j->gap, j->gap_pages * PAGE, MADV_DONTNEED) == 0) {
        /* Dropped pages of a private anonymous mapping read as zero:
           a fresh machine's untouched RAM is not even read. */
    } else {
        for (size_t q = 0; q < j->gap_pages; q++) {
            /* Untouched RAM reads as zero without being written (and so
               without being allocated by the host). */
            if (!page_is_zero(j->gap + q * PAGE)) {
                memset(j->gap + q * PAGE, 0, PAGE);
            }
        }
    }
    size_t n = (size_t)j->count * PAGE;
    if (!j->count) {
        return true;
    } else if (j->stored || j->scratch) {
        memcpy(j->dst, j->stored ? j->data : j->scratch, n);
        return true;
    }
    return ram_uncompress(d, j->dst, n, j->data, j->zlen);
}

static gpointer ram_commit_worker(gpointer data)
{
    RamRestore *r = data;
    ZSTD_DCtx *d = ZSTD_createDCtx();
    for (;;) {
        gint i = g_atomic_int_add(&r->next, 1);
        if (i >= (gint)r->jobs->len) {
            ZSTD_freeDCtx(d);
            return NULL;
        }
        if (!ram_job_run(&g_array_index(r->jobs, RamJob, i), d)) {
            while (true) {
                gint old = g_atomic_int_get(&r->failed);
                if ((old && old <= i + 1) ||
                    g_atomic_int_compare_and_exchange(&r->failed, old,
                                                      i + 1)) {
                    break;
                }
            }
        }
    }
}

static bool commit_ram(GArray *jobs, GError **error)
{
    RamRestore r = {.jobs = jobs};
    run_parallel(ram_commit_worker, &r, jobs->len);
    if (r.failed) {
        const RamJob *j = &g_array_index(jobs, RamJob, r.failed - 1);
        return state_invalid(error,
                             "state section '%s': page data at page "
                             "%" G_GUINT64_FORMAT " does not decompress",
                             j->section, j->first);
    }
    return true;
}

bool state_file_write_atomic(const char *path, const void *data, size_t len,
                             GError **error)
{
    g_autofree char *tmp = g_strdup_printf("%s.tmp-XXXXXX", path);
    int fd = g_mkstemp_full(tmp, O_WRONLY, 0644);
    if (fd < 0) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_IO, "%s: %s", path,
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
            g_set_error(error, STATE_ERROR, STATE_ERROR_IO, "%s: %s", path,
                        g_strerror(e));
            return false;
        }
        p += w;
        left -= w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        int e = errno;
        g_unlink(tmp);
        g_set_error(error, STATE_ERROR, STATE_ERROR_IO, "%s: %s", path,
                    g_strerror(e));
        return false;
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        g_unlink(tmp);
        g_set_error(error, STATE_ERROR, STATE_ERROR_IO, "%s: %s", path,
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

/* ---- RAM loading, as an object the engine drives ---- */

struct StateRamLoad {
    GArray *jobs;
};

StateRamLoad *state_ram_load_new(void)
{
    StateRamLoad *l = g_new0(StateRamLoad, 1);
    l->jobs = g_array_new(FALSE, FALSE, sizeof(RamJob));
    return l;
}

bool state_ram_check(StateRamLoad *l, const StateRamBlock *rb,
                     const StateSection *s, GError **error)
{
    return ram_check(rb, s, l->jobs, error);
}

bool state_ram_decode(StateRamLoad *l, GError **error)
{
    return decode_ram(l->jobs, error);
}

bool state_ram_commit(StateRamLoad *l, GError **error)
{
    return commit_ram(l->jobs, error);
}

void state_ram_load_free(StateRamLoad *l)
{
    free_ram_jobs(l->jobs);
    g_free(l);
}

void state_file_begin(GByteArray *f)
{
    g_byte_array_append(f, (const uint8_t *)STATE_FILE_MAGIC, 8);
    state_put_u32(f, STATE_FILE_VERSION);
    state_put_u32(f, 0); /* flags */
}

void state_file_finish(GByteArray *f, unsigned nsect)
{
    uint8_t b[12];
    for (int i = 0; i < 4; i++) {
        b[i] = nsect >> (8 * i);
    }
    for (int i = 0; i < 8; i++) {
        b[4 + i] = (uint64_t)f->len >> (8 * i);
    }
    state_section_add(f, "end", 1, b, sizeof(b));
}
