/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Block layer core: opening images (format from the configuration, probing
 * only for read-only opens), backing chains with loop/depth limits, the
 * -snapshot temporary overlay, cache modes and the dispatch to the format
 * drivers (raw.c, qcow.c, qcow2*.c).
 */
#include "images/block_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

G_DEFINE_QUARK(mimic-block-error-quark, block_error)

static const BlockDriver *const drivers[] = {
    &block_qcow2_driver, &block_qcow_driver, &block_raw_driver, NULL,
};

const BlockDriver *blk_find_driver(const char *name)
{
    for (int i = 0; drivers[i]; i++) {
        if (!strcmp(drivers[i]->name, name)) {
            return drivers[i];
        }
    }
    return NULL;
}

static bool file_pread(BlockDev *bs, uint64_t off, void *buf, size_t len,
                       GError **error)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(bs->fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                        "%s: read error at %" G_GUINT64_FORMAT ": %s",
                        bs->filename, off, g_strerror(errno));
            return false;
        }
        if (n == 0) {
            /* Past the end of the host file reads as zeros. */
            memset(p, 0, len);
            return true;
        }
        if (bs->direct && (size_t)n < len) {
            /* O_DIRECT reads short only at the end of the file, and the
             * next offset would be unaligned. */
            memset(p + n, 0, len - (size_t)n);
            return true;
        }
        p += n;
        off += n;
        len -= n;
    }
    return true;
}

/*
 * Crash-consistency testing: with MIMIC_BLOCK_CRASH_AFTER=N in the
 * environment the process kills itself (SIGKILL) before its N+1st host
 * write, so tests can stop a writer at any point between metadata writes.
 */
static gint64 crash_left = -2;

static void crash_reset(void)
{
    crash_left = -2;   /* a forked child reads the environment again */
}

static void crash_point(void)
{
    gint64 left = crash_left;
    if (left == -2) {
        static gsize once;
        if (g_once_init_enter(&once)) {
            pthread_atfork(NULL, NULL, crash_reset);
            g_once_init_leave(&once, 1);
        }
        const char *e = g_getenv("MIMIC_BLOCK_CRASH_AFTER");
        left = e ? g_ascii_strtoll(e, NULL, 10) : -1;
    }
    if (left == -1) {
        crash_left = -1;
        return;
    }
    if (left == 0) {
        kill(getpid(), SIGKILL);
    }
    if (left > 0) {
        left--;
    }
    crash_left = left;
}

void blk_set_fault_inject(BlockDev *bs, BlockFaultInject *fi)
{
    bs->inject = fi;
}

/* Counts one operation; false (error set) if it is to fail. */
static bool inject_point(BlockDev *bs, unsigned op, uint64_t off,
                         GError **error)
{
    BlockFaultInject *fi = bs->inject;
    if (!fi || !(fi->ops & op)) {
        return true;
    }
    uint64_t n = fi->count++;
    if (fi->nth < 0 || n < (uint64_t)fi->nth ||
        (n > (uint64_t)fi->nth && !fi->sticky)) {
        return true;
    }
    fi->failed++;
    if (op == BLK_INJECT_FLUSH) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO, "%s: flush: %s",
                    bs->filename, g_strerror(fi->err));
    } else {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                    "%s: write error at %" G_GUINT64_FORMAT ": %s",
                    bs->filename, off, g_strerror(fi->err));
    }
    return false;
}

static bool file_pwrite(BlockDev *bs, uint64_t off, const void *buf,
                        size_t len, GError **error)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(bs->fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                        "%s: write error at %" G_GUINT64_FORMAT ": %s",
                        bs->filename, off, g_strerror(errno));
            return false;
        }
        p += n;
        off += n;
        len -= n;
    }
    return true;
}

static bool direct_aligned(uint64_t off, const void *buf, size_t len)
{
    return !((off | len | (uintptr_t)buf) & (BLOCK_DIRECT_ALIGN - 1));
}

/* O_DIRECT: widen to aligned blocks through an aligned bounce buffer. */
static uint8_t *direct_bounce(uint64_t off, size_t len, uint64_t *a0,
                              size_t *alen)
{
    *a0 = off & ~(uint64_t)(BLOCK_DIRECT_ALIGN - 1);
    uint64_t a1 = (off + len + BLOCK_DIRECT_ALIGN - 1) &
                  ~(uint64_t)(BLOCK_DIRECT_ALIGN - 1);
    *alen = (size_t)(a1 - *a0);
    void *p = NULL;
    if (posix_memalign(&p, BLOCK_DIRECT_ALIGN, *alen)) {
        return NULL;
    }
    return p;
}

bool blk_file_pread(BlockDev *bs, uint64_t off, void *buf, size_t len,
                    GError **error)
{
    if (!bs->direct || direct_aligned(off, buf, len)) {
        return file_pread(bs, off, buf, len, error);
    }
    if (off > (uint64_t)INT64_MAX - len - BLOCK_DIRECT_ALIGN) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_RANGE,
                    "%s: read offset out of range", bs->filename);
        return false;
    }
    uint64_t a0;
    size_t alen;
    uint8_t *b = direct_bounce(off, len, &a0, &alen);
    if (!b) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                    "%s: out of memory for a bounce buffer", bs->filename);
        return false;
    }
    bool ok = file_pread(bs, a0, b, alen, error);
    if (ok) {
        memcpy(buf, b + (off - a0), len);
    }
    free(b);
    return ok;
}

bool blk_file_pwrite(BlockDev *bs, uint64_t off, const void *buf, size_t len,
                     GError **error)
{
    crash_point();
    if (off > (uint64_t)INT64_MAX - len - BLOCK_DIRECT_ALIGN) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_RANGE,
                    "%s: write offset out of range", bs->filename);
        return false;
    }
    bs->host_writes++;
    if (!inject_point(bs, BLK_INJECT_WRITE, off, error)) {
        return false;
    }
    bool ok;
    if (!bs->direct || direct_aligned(off, buf, len)) {
        ok = file_pwrite(bs, off, buf, len, error);
    } else {
        /* Read-modify-write of the partial first and last blocks; a
         * write that ends past the host file's end must not leave the
         * file longer than the write itself. */
        uint64_t a0;
        size_t alen;
        uint8_t *b = direct_bounce(off, len, &a0, &alen);
        if (!b) {
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                        "%s: out of memory for a bounce buffer",
                        bs->filename);
            return false;
        }
        uint64_t fsize = blk_file_size(bs);
        ok = file_pread(bs, a0, b, BLOCK_DIRECT_ALIGN, error);
        if (ok && alen > BLOCK_DIRECT_ALIGN) {
            ok = file_pread(bs, a0 + alen - BLOCK_DIRECT_ALIGN,
                            b + alen - BLOCK_DIRECT_ALIGN,
                            BLOCK_DIRECT_ALIGN, error);
        }
        if (ok) {
            memcpy(b + (off - a0), buf, len);
            ok = file_pwrite(bs, a0, b, alen, error);
        }
        free(b);
        uint64_t end = MAX(fsize, off + len);
        if (ok && a0 + alen > end && ftruncate(bs->fd, (off_t)end) < 0) {
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                        "%s: truncate: %s", bs->filename, g_strerror(errno));
            ok = false;
        }
    }
    if (ok && bs->inject && bs->inject->on_write) {
        bs->inject->on_write(bs, off, buf, len, bs->inject->opaque);
    }
    if (ok && bs->cache == BLOCK_CACHE_WRITETHROUGH) {
        return blk_file_sync(bs, error);
    }
    return ok;
}

bool blk_file_sync(BlockDev *bs, GError **error)
{
    if (bs->cache == BLOCK_CACHE_UNSAFE || bs->read_only) {
        return true;
    }
    if (!inject_point(bs, BLK_INJECT_FLUSH, 0, error)) {
        return false;
    }
    if (fdatasync(bs->fd) < 0) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO, "%s: flush: %s",
                    bs->filename, g_strerror(errno));
        return false;
    }
    if (bs->inject && bs->inject->on_sync) {
        bs->inject->on_sync(bs, bs->inject->opaque);
    }
    return true;
}

uint64_t blk_file_size(BlockDev *bs)
{
    struct stat st;
    if (fstat(bs->fd, &st) < 0) {
        return 0;
    }
    return (uint64_t)st.st_size;
}

static const BlockDriver *probe_buf(const uint8_t *buf, size_t n)
{
    const BlockDriver *best = &block_raw_driver;
    int best_score = 1;
    for (int i = 0; drivers[i]; i++) {
        int s = drivers[i]->probe ? drivers[i]->probe(buf, n) : 0;
        if (s > best_score) {
            best_score = s;
            best = drivers[i];
        }
    }
    return best;
}

static const BlockDriver *probe_fd(int fd)
{
    /* Aligned and whole: the fd may have O_DIRECT. */
    uint8_t buf[BLOCK_DIRECT_ALIGN] __attribute__((aligned(BLOCK_DIRECT_ALIGN)));
    ssize_t n = pread(fd, buf, sizeof(buf), 0);
    if (n < 0) {
        n = 0;
    }
    return probe_buf(buf, MIN((size_t)n, BLOCK_PROBE_SIZE));
}

const char *blk_probe_format(const char *filename, GError **error)
{
    int fd = open(filename, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_NOT_FOUND,
                    "Could not open '%s': %s", filename, g_strerror(errno));
        return NULL;
    }
    const BlockDriver *d = probe_fd(fd);
    close(fd);
    return d->name;
}

/* What one open asks for; the public options plus the chain position. */
typedef struct OpenReq {
    BlockOpenOptions o;
    int depth;
    bool backing;        /* a backing file: a regular file, never probed
                            writable */
    BlockDev *child;     /* the image it backs */
} OpenReq;

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef SYSFS_MAGIC
#define SYSFS_MAGIC 0x62656572
#endif

/*
 * What an image may be on the host: a regular file (a block device too,
 * but not as a backing file), never a directory, FIFO, socket or character
 * device, and nothing of /proc or /sys (/proc/self/mem, environ, ... are
 * "regular files" that would hand the guest the host's secrets).
 */
static bool host_file_allowed(int fd, const char *filename, bool backing,
                              GError **error)
{
    struct stat st;
    struct statfs sfs;
    const char *why = NULL;
    if (fstat(fd, &st) < 0) {
        why = g_strerror(errno);
    } else if (S_ISDIR(st.st_mode)) {
        why = "it is a directory";
    } else if (S_ISBLK(st.st_mode) && backing) {
        why = "a device cannot be a backing file";
    } else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        why = "not a regular file or block device";
    } else if (fstatfs(fd, &sfs) == 0 &&
               (sfs.f_type == PROC_SUPER_MAGIC ||
                sfs.f_type == SYSFS_MAGIC)) {
        why = "files of /proc and /sys are not disk images";
    }
    if (why) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_OPEN,
                    "'%s' %s: %s", filename,
                    backing ? "refused as a backing file"
                            : "is not an image file", why);
        return false;
    }
    return true;
}

static bool take_locks(BlockDev *bs, const OpenReq *r, GError **error)
{
    if (r->o.no_locking) {
        return true;
    }
    unsigned perm = BLK_PERM_READ;
    unsigned shared = BLK_PERM_ALL & ~(BLK_PERM_WRITE | BLK_PERM_RESIZE);
    if (!bs->read_only) {
        /* As QEMU's: a raw image is written in place, a qcow/qcow2 image
         * also grows. */
        perm |= BLK_PERM_WRITE;
        if (bs->drv != &block_raw_driver) {
            perm |= BLK_PERM_RESIZE;
        } else {
            shared |= BLK_PERM_RESIZE;
        }
    }
    if (r->o.force_share) {
        shared = BLK_PERM_ALL;
    }
    return blk_file_lock(bs, perm, shared, error);
}

static BlockDev *open_req(const char *filename, const OpenReq *r,
                          GError **error)
{
    const BlockOpenOptions *o = &r->o;
    if (r->depth > BLOCK_MAX_CHAIN) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Backing chain of more than %d images at '%s'",
                    BLOCK_MAX_CHAIN, filename);
        return NULL;
    }
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is then
     * refused below. */
    int flags = (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK;
    int fd = -1;
    bool direct = false;
#ifdef O_DIRECT
    if (o->cache == BLOCK_CACHE_NONE) {
        fd = open(filename, flags | O_DIRECT);
        if (fd >= 0) {
            /* Some filesystems accept the flag but refuse the I/O. */
            void *p = NULL;
            if (!posix_memalign(&p, BLOCK_DIRECT_ALIGN, BLOCK_DIRECT_ALIGN) &&
                pread(fd, p, BLOCK_DIRECT_ALIGN, 0) >= 0) {
                direct = true;
            } else {
                close(fd);
                fd = -1;
            }
            free(p);
        }
        if (!direct && errno != ENOENT && errno != EACCES) {
            g_message("%s: cache=none: the host filesystem refuses O_DIRECT "
                      "(%s); using buffered I/O", filename,
                      g_strerror(errno));
        }
    }
#endif
    if (fd < 0) {
        fd = open(filename, flags);
    }
    if (fd < 0) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_OPEN,
                    "Could not open '%s': %s", filename, g_strerror(errno));
        return NULL;
    }
    struct stat st;
    if (!host_file_allowed(fd, filename, r->backing, error) ||
        fstat(fd, &st) < 0) {
        close(fd);
        return NULL;
    }
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    const BlockDriver *drv;
    bool probed = false;
    if (o->format) {
        drv = blk_find_driver(o->format);
        if (!drv) {
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FORMAT,
                        "Unknown image format '%s'", o->format);
            close(fd);
            return NULL;
        }
    } else {
        if (!o->read_only && !o->probe_writable) {
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_FORMAT,
                        "'%s': a writable image needs an explicit format",
                        filename);
            close(fd);
            return NULL;
        }
        drv = probe_fd(fd);
        probed = true;
    }
    BlockDev *bs = g_new0(BlockDev, 1);
    bs->drv = drv;
    bs->fd = fd;
    bs->filename = g_strdup(filename);
    bs->read_only = o->read_only;
    bs->cache = o->cache;
    bs->direct = direct;
    bs->chain_depth = r->depth;
    bs->repair = o->repair;
    bs->no_backing = o->no_backing;
    bs->probed_raw = probed && drv == &block_raw_driver && !o->read_only;
    bs->dev = (uint64_t)st.st_dev;
    bs->ino = (uint64_t)st.st_ino;
    bs->child = r->child;
    if (!take_locks(bs, r, error) || !drv->open(bs, error)) {
        if (bs->backing) {
            blk_close(bs->backing);
        }
        close(fd);
        g_free(bs->filename);
        g_free(bs);
        return NULL;
    }
    return bs;
}

static BlockDev *open_internal(const char *filename, const char *format,
                               bool read_only, BlockCacheMode cache,
                               bool no_locking, GError **error)
{
    OpenReq r = {
        .o = { .format = format, .read_only = read_only, .cache = cache,
               .no_locking = no_locking },
    };
    return open_req(filename, &r, error);
}

BlockDev *blk_open_backing(BlockDev *bs, const char *backing,
                           const char *backing_fmt, GError **error)
{
    g_autofree char *path = NULL;
    if (g_path_is_absolute(backing)) {
        path = g_strdup(backing);
    } else {
        g_autofree char *dir = g_path_get_dirname(bs->filename);
        path = g_build_filename(dir, backing, NULL);
    }
    /* A loop is the same host file met twice on the way down, whatever
     * path names it (./a, a, a symlink, a hard link). */
    struct stat st;
    if (stat(path, &st) == 0) {
        for (BlockDev *c = bs; c; c = c->child) {
            if (c->ino && c->dev == (uint64_t)st.st_dev &&
                c->ino == (uint64_t)st.st_ino) {
                g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                            "Backing file loop: '%s' is backed by '%s', "
                            "which is '%s' again", bs->filename, backing,
                            c->filename);
                return NULL;
            }
        }
    }
    GError *err = NULL;
    OpenReq r = {
        .o = { .format = backing_fmt, .read_only = true, .cache = bs->cache,
               .no_locking = !bs->locked },
        .depth = bs->chain_depth + 1,
        .backing = true,
        .child = bs->ino ? bs : NULL,
    };
    BlockDev *b = open_req(path, &r, &err);
    if (!b) {
        /* One prefix for the whole chain, not one per level. */
        if (!g_str_has_prefix(err->message, "Could not open backing file")) {
            g_propagate_prefixed_error(error, err,
                                       "Could not open backing file of "
                                       "'%s': ", bs->filename);
        } else {
            g_propagate_error(error, err);
        }
    }
    return b;
}

bool blk_read_backing(BlockDev *bs, uint64_t off, uint8_t *buf, size_t len,
                      GError **error)
{
    if (!bs->backing) {
        memset(buf, 0, len);
        return true;
    }
    uint64_t bsize = bs->backing->size;
    size_t n = 0;
    if (off < bsize) {
        n = (size_t)MIN((uint64_t)len, bsize - off);
        if (!bs->backing->drv->read(bs->backing, off, buf, n, error)) {
            return false;
        }
    }
    memset(buf + n, 0, len - n);
    return true;
}

BlockDev *blk_open(const char *filename, const BlockOpenOptions *opts,
                   GError **error)
{
    BlockOpenOptions def = { 0 };
    if (!opts) {
        opts = &def;
        def.read_only = true;
    }
    if (!opts->snapshot) {
        OpenReq r = { .o = *opts };
        return open_req(filename, &r, error);
    }
    /* -snapshot: the image is opened read-only as the backing file of a
     * temporary qcow2 overlay that receives all writes. */
    g_autofree char *abs = NULL;
    if (g_path_is_absolute(filename)) {
        abs = g_strdup(filename);
    } else {
        g_autofree char *cwd = g_get_current_dir();
        abs = g_build_filename(cwd, filename, NULL);
    }
    const char *fmt = opts->format;
    if (!fmt) {
        fmt = blk_probe_format(abs, error);
        if (!fmt) {
            return NULL;
        }
    }
    BlockDev *base = open_internal(abs, fmt, true, opts->cache,
                                   opts->no_locking, error);
    if (!base) {
        return NULL;
    }
    uint64_t size = base->size;
    blk_close(base);
    g_autofree char *tmpl = g_build_filename(g_get_tmp_dir(),
                                             "mimic-snapshot-XXXXXX", NULL);
    int tfd = g_mkstemp(tmpl);
    if (tfd < 0) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                    "Could not create temporary overlay: %s",
                    g_strerror(errno));
        return NULL;
    }
    close(tfd);
    BlockCreateOptions co = {
        .format = "qcow2", .size = size, .backing_file = abs,
        .backing_format = fmt,
    };
    if (!blk_create(tmpl, &co, error)) {
        unlink(tmpl);
        return NULL;
    }
    BlockDev *bs = open_internal(tmpl, "qcow2", false,
                                 opts->cache == BLOCK_CACHE_NONE ?
                                 BLOCK_CACHE_WRITEBACK : opts->cache,
                                 opts->no_locking, error);
    if (!bs) {
        unlink(tmpl);
        return NULL;
    }
    /* The overlay lives only as long as the device. */
    bs->overlay_path = g_strdup(tmpl);
    unlink(tmpl);
    return bs;
}

void blk_close(BlockDev *bs)
{
    if (!bs) {
        return;
    }
    if (bs->drv->close) {
        bs->drv->close(bs);
    }
    if (bs->backing) {
        blk_close(bs->backing);
    }
    if (bs->fd >= 0) {
        close(bs->fd);   /* drops its OFD locks */
    }
    g_free(bs->overlay_path);
    g_free(bs->filename);
    g_free(bs);
}

bool blk_create(const char *filename, const BlockCreateOptions *opts,
                GError **error)
{
    const BlockDriver *drv = blk_find_driver(opts->format ? opts->format
                                                          : "raw");
    if (!drv || !drv->create) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "Unknown image format '%s'", opts->format);
        return false;
    }
    return drv->create(filename, opts, error);
}

static bool check_range(BlockDev *bs, uint64_t offset, size_t len,
                        GError **error)
{
    if (offset > bs->size || len > bs->size - offset) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_RANGE,
                    "%s: access at %" G_GUINT64_FORMAT "+%zu past end of "
                    "device (%" G_GUINT64_FORMAT " bytes)",
                    bs->filename, offset, len, bs->size);
        return false;
    }
    return true;
}

bool blk_pread(BlockDev *bs, uint64_t offset, void *buf, size_t len,
               GError **error)
{
    if (!check_range(bs, offset, len, error)) {
        return false;
    }
    if (!len) {
        return true;
    }
    bs->rd_bytes += len;
    return bs->drv->read(bs, offset, buf, len, error);
}

void blk_io_counters(const BlockDev *bs, uint64_t *rd, uint64_t *wr)
{
    *rd = bs->rd_bytes;
    *wr = bs->wr_bytes;
}

/* The guard of every modifying operation. */
static bool writable(BlockDev *bs, GError **error)
{
    if (bs->read_only) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_READ_ONLY,
                    "%s: device is read-only", bs->filename);
        return false;
    }
    return true;
}

/*
 * QEMU's rule for an image whose format was guessed raw: its guest may not
 * write a first sector that would make the next guess another format
 * (a qcow2 header naming a host file as its backing file, say).
 */
static bool sector0_write_allowed(BlockDev *bs, uint64_t offset,
                                  const void *buf, size_t len, GError **error)
{
    uint8_t sec[BLOCK_PROBE_SIZE];
    if (!blk_file_pread(bs, 0, sec, sizeof(sec), error)) {
        return false;
    }
    size_t n = (size_t)MIN((uint64_t)len, sizeof(sec) - offset);
    memcpy(sec + offset, buf, n);
    const BlockDriver *d = probe_buf(sec, sizeof(sec));
    if (d != &block_raw_driver) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_DENIED,
                    "%s: write to sector 0 refused: it would make the image "
                    "look like %s, and its format was only guessed as raw "
                    "(give format=raw to allow such writes)",
                    bs->filename, d->name);
        return false;
    }
    return true;
}

bool blk_pwrite(BlockDev *bs, uint64_t offset, const void *buf, size_t len,
                GError **error)
{
    if (!writable(bs, error)) {
        return false;
    }
    if (!check_range(bs, offset, len, error)) {
        return false;
    }
    if (!len) {
        return true;
    }
    if (bs->probed_raw && offset < BLOCK_PROBE_SIZE &&
        !sector0_write_allowed(bs, offset, buf, len, error)) {
        return false;
    }
    bs->generation++;
    bs->wr_bytes += len;
    return bs->drv->write(bs, offset, buf, len, error);
}

bool blk_pwrite_compressed(BlockDev *bs, uint64_t offset, const void *buf,
                           size_t len, GError **error)
{
    if (!bs->drv->write_compressed) {
        return blk_pwrite(bs, offset, buf, len, error);
    }
    if (!writable(bs, error)) {
        return false;
    }
    if (!check_range(bs, offset, len, error)) {
        return false;
    }
    bs->generation++;
    return bs->drv->write_compressed(bs, offset, buf, len, error);
}

bool blk_change_backing(BlockDev *bs, const char *backing,
                        const char *backing_fmt, GError **error)
{
    if (!bs->drv->change_backing) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "Format %s cannot change its backing file",
                    bs->drv->name);
        return false;
    }
    if (!writable(bs, error)) {
        return false;
    }
    bs->generation++;
    return bs->drv->change_backing(bs, backing, backing_fmt, error);
}

bool blk_flush(BlockDev *bs, GError **error)
{
    if (bs->read_only) {
        return true;
    }
    if (bs->drv->flush) {
        return bs->drv->flush(bs, error);
    }
    return blk_file_sync(bs, error);
}

bool blk_discard(BlockDev *bs, uint64_t offset, uint64_t len, GError **error)
{
    if (!writable(bs, error)) {
        return false;
    }
    if (offset > bs->size || len > bs->size - offset) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_RANGE,
                    "%s: discard past end of device", bs->filename);
        return false;
    }
    if (!bs->drv->discard || !len) {
        return true;  /* discard is advisory */
    }
    bs->generation++;
    return bs->drv->discard(bs, offset, len, error);
}

bool blk_truncate(BlockDev *bs, uint64_t size, GError **error)
{
    if (!writable(bs, error)) {
        return false;
    }
    if (!bs->drv->truncate) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "%s: format %s does not support resizing",
                    bs->filename, bs->drv->name);
        return false;
    }
    bs->generation++;
    return bs->drv->truncate(bs, size, error);
}

int64_t blk_get_size(BlockDev *bs)
{
    return (int64_t)bs->size;
}

bool blk_is_read_only(BlockDev *bs)
{
    return bs->read_only;
}

const char *blk_format_name(BlockDev *bs)
{
    return bs->drv->name;
}

const char *blk_filename(BlockDev *bs)
{
    return bs->filename;
}

BlockDev *blk_backing(BlockDev *bs)
{
    return bs->backing;
}

uint64_t blk_fingerprint(BlockDev *bs)
{
    uint8_t hdr[512] = { 0 };
    struct stat st = { 0 };
    (void)blk_file_pread(bs, 0, hdr, sizeof(hdr), NULL);
    fstat(bs->fd, &st);
    /* FNV-1a over size, header, mtime and in-process generation. */
    uint64_t h = 1469598103934665603ULL;
    uint64_t vals[5] = { bs->size, (uint64_t)st.st_size,
                         (uint64_t)st.st_mtim.tv_sec,
                         (uint64_t)st.st_mtim.tv_nsec, bs->generation };
    const uint8_t *p = (const uint8_t *)vals;
    for (size_t i = 0; i < sizeof(vals); i++) {
        h = (h ^ p[i]) * 1099511628211ULL;
    }
    for (size_t i = 0; i < sizeof(hdr); i++) {
        h = (h ^ hdr[i]) * 1099511628211ULL;
    }
    if (bs->backing) {
        h ^= blk_fingerprint(bs->backing) * 31;
    }
    return h;
}

bool blk_get_info(BlockDev *bs, BlockInfo *info, GError **error)
{
    memset(info, 0, sizeof(*info));
    info->format = g_strdup(bs->drv->name);
    info->virtual_size = bs->size;
    struct stat st;
    if (fstat(bs->fd, &st) == 0) {
        info->disk_size = (uint64_t)st.st_blocks * 512;
    }
    if (bs->drv->info) {
        return bs->drv->info(bs, info, error);
    }
    return true;
}

void blk_info_clear(BlockInfo *info)
{
    g_free(info->format);
    g_free(info->backing_file);
    g_free(info->backing_format);
    memset(info, 0, sizeof(*info));
}

bool blk_check(BlockDev *bs, BlockCheckFix fix, BlockCheckResult *res,
               GError **error)
{
    memset(res, 0, sizeof(*res));
    if (fix && bs->read_only) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_READ_ONLY,
                    "%s: cannot repair a read-only image", bs->filename);
        return false;
    }
    if (!bs->drv->check) {
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                    "This image format does not support checks");
        return false;
    }
    return bs->drv->check(bs, fix, res, error);
}

uint64_t blk_block_status(BlockDev *bs, uint64_t offset, uint64_t len,
                          int *flags, GError **error)
{
    if (offset >= bs->size) {
        *flags = 0;
        return 0;
    }
    len = MIN(len, bs->size - offset);
    if (!bs->drv->block_status) {
        *flags = BLOCK_MAP_DATA;
        return len;
    }
    return bs->drv->block_status(bs, offset, len, flags, error);
}

static bool no_snapshots(BlockDev *bs, GError **error)
{
    g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_UNSUPPORTED,
                "Format %s does not support internal snapshots",
                bs->drv->name);
    return false;
}

/* A modifying snapshot operation: the format has it and the image is
 * writable. */
static bool snapshots_writable(BlockDev *bs, bool supported, GError **error)
{
    return supported ? writable(bs, error) : no_snapshots(bs, error);
}

bool blk_snapshot_create(BlockDev *bs, const char *name,
                         uint64_t vm_clock_nsec, uint64_t vm_state_size,
                         GError **error)
{
    if (!snapshots_writable(bs, bs->drv->snapshot_create != NULL, error)) {
        return false;
    }
    bs->generation++;
    return bs->drv->snapshot_create(bs, name, vm_clock_nsec, vm_state_size,
                                    error);
}

bool blk_snapshot_apply(BlockDev *bs, const char *name, GError **error)
{
    if (!snapshots_writable(bs, bs->drv->snapshot_apply != NULL, error)) {
        return false;
    }
    bs->generation++;
    return bs->drv->snapshot_apply(bs, name, error);
}

bool blk_snapshot_delete(BlockDev *bs, const char *name, GError **error)
{
    if (!snapshots_writable(bs, bs->drv->snapshot_delete != NULL, error)) {
        return false;
    }
    bs->generation++;
    return bs->drv->snapshot_delete(bs, name, error);
}

int blk_snapshot_list(BlockDev *bs, BlockSnapshotInfo **list, GError **error)
{
    *list = NULL;
    if (!bs->drv->snapshot_list) {
        return 0;
    }
    return bs->drv->snapshot_list(bs, list, error);
}

void blk_snapshot_list_free(BlockSnapshotInfo *list, int n)
{
    for (int i = 0; i < n; i++) {
        g_free(list[i].id);
        g_free(list[i].name);
    }
    g_free(list);
}

bool blk_vmstate_write(BlockDev *bs, uint64_t offset, const void *buf,
                       size_t len, GError **error)
{
    if (!snapshots_writable(bs, bs->drv->vmstate_rw != NULL, error)) {
        return false;
    }
    return bs->drv->vmstate_rw(bs, offset, (uint8_t *)buf, len, true, error);
}

bool blk_vmstate_read(BlockDev *bs, uint64_t offset, void *buf, size_t len,
                      GError **error)
{
    if (!bs->drv->vmstate_rw) {
        return no_snapshots(bs, error);
    }
    return bs->drv->vmstate_rw(bs, offset, buf, len, false, error);
}

bool blk_parse_size(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (!s || !*s || *s == '-') {
        return false;
    }
    errno = 0;
    double v = g_ascii_strtod(s, &end);
    if (errno || end == s || v < 0) {
        return false;
    }
    double mult = 1;
    switch (*end) {
    case '\0': break;
    case 'b': case 'B': mult = 1; end++; break;
    case 'k': case 'K': mult = 1024.0; end++; break;
    case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: return false;
    }
    if (*end) {
        return false;
    }
    v *= mult;
    if (v >= 9.2e18) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}
