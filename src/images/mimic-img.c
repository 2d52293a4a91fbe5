/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mimic-img: create, inspect, check, convert, resize, snapshot, rebase,
 * compare and map disk images through Mimic's block layer. Command line
 * and exit codes follow qemu-img's (check: 0 clean, 2 corrupt, 3 leaks
 * only, 1 error; compare: 0 identical, 1 different, 2 error).
 */
#include "images/block.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIMIC_IMG_VERSION "0.1.0"
#define COPY_CHUNK (1u << 20)

static const char *prog = "mimic-img";

static int fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int fail_err(GError *err)
{
    int r = fail("%s", err ? err->message : "unknown error");
    g_clear_error(&err);
    return r;
}

/* One option of a command: "-f" (with a value unless it is a flag),
 * "--output" (also "--output=VALUE"); ignored options have neither. */
typedef struct Opt {
    const char *name;
    const char **value;   /* takes an argument */
    bool *flag;           /* a flag */
} Opt;

/*
 * The command line of one command: options from opts in any order and up
 * to max_pos positional arguments (at least min_pos), into pos[].  From
 * the dash_pos-th positional on, an argument starting with '-' is
 * positional too (resize's "-1G").  Prints the error and returns false.
 */
static bool parse_args(const char *cmd, int argc, char **argv,
                       const Opt *opts, const char **pos, int min_pos,
                       int max_pos, int dash_pos, const char *expecting)
{
    int np = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] && !(dash_pos && np >= dash_pos)) {
            const Opt *o = opts;
            const char *eq = strchr(a, '=');
            size_t n = eq && a[1] == '-' ? (size_t)(eq - a) : strlen(a);
            for (; o->name; o++) {
                if (strlen(o->name) == n && !strncmp(o->name, a, n)) {
                    break;
                }
            }
            if (!o->name || (!o->value && n != strlen(a)) ||
                (o->value && n == strlen(a) && i + 1 >= argc)) {
                fail("%s: unknown or incomplete option '%s'", cmd, a);
                return false;
            }
            if (o->value) {
                *o->value = n != strlen(a) ? a + n + 1 : argv[++i];
            } else if (o->flag) {
                *o->flag = true;
            }
        } else if (np < max_pos) {
            pos[np++] = a;
        } else {
            fail("%s: too many arguments", cmd);
            return false;
        }
    }
    if (np < min_pos) {
        fail("%s: expecting %s", cmd, expecting);
        return false;
    }
    for (int i = np; i < max_pos; i++) {
        pos[i] = NULL;
    }
    return true;
}

/* --output=human|json */
static bool output_json(const char *cmd, const char *v, bool *json)
{
    if (v && strcmp(v, "json") && strcmp(v, "human")) {
        fail("%s: --output takes 'human' or 'json'", cmd);
        return false;
    }
    *json = v && !strcmp(v, "json");
    return true;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: mimic-img COMMAND [options]\n"
        "  create [-f fmt] [-b backing [-F fmt]] [-o opts] FILE [SIZE]\n"
        "      fmt: raw, qcow, qcow2; opts: cluster_size=N,\n"
        "      preallocation=off|metadata|full, lazy_refcounts=on|off,\n"
        "      compat=0.10|1.1, refcount_bits=N\n"
        "  info [-U] [--output=human|json] [--backing-chain] [-f fmt] FILE\n"
        "  check [-f fmt] [-r leaks|all] [--output=human|json] FILE\n"
        "  convert [-c] [-p] [-f fmt] [-O fmt] [-o opts] IN OUT\n"
        "  resize [-f fmt] FILE [+|-]SIZE\n"
        "  snapshot [-l | -c NAME | -a NAME | -d NAME] FILE\n"
        "  rebase [-u] [-f fmt] -b BACKING [-F fmt] FILE\n"
        "  compare [-f fmt] [-F fmt] FILE1 FILE2\n"
        "  map [--output=human|json] [-f fmt] FILE\n"
        "  --help, --version\n"
        "SIZE takes k, K, M, G, T suffixes (powers of 1024).\n"
        "-U (--force-share) reads an image that another process has open\n"
        "for writing; without it such an image is refused (image locks).\n");
}

/* Minimal getopt for "-x value" and flags, in any order. */
typedef struct Args {
    int argc;
    char **argv;
    char **pos;
    int npos;
} Args;

static const char *size_str(uint64_t v, char *buf, size_t n)
{
    static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    double d = (double)v;
    int i = 0;
    while (d >= 1024 && i < 5) {
        d /= 1024;
        i++;
    }
    if (i == 0) {
        snprintf(buf, n, "%" G_GUINT64_FORMAT " B", v);
    } else {
        snprintf(buf, n, "%.3g %s", d, u[i]);
    }
    return buf;
}

static bool parse_opts(const char *o, BlockCreateOptions *co, GError **error)
{
    if (!o) {
        return true;
    }
    g_auto(GStrv) parts = g_strsplit(o, ",", -1);
    for (int i = 0; parts[i]; i++) {
        char *eq = strchr(parts[i], '=');
        if (!eq) {
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                        "Invalid option '%s'", parts[i]);
            return false;
        }
        *eq = 0;
        const char *k = parts[i], *v = eq + 1;
        uint64_t n;
        if (!strcmp(k, "cluster_size")) {
            if (!blk_parse_size(v, &n) || n > (1u << 30)) {
                goto bad;
            }
            co->cluster_size = (uint32_t)n;
        } else if (!strcmp(k, "preallocation")) {
            if (!strcmp(v, "off")) {
                co->prealloc = BLOCK_PREALLOC_OFF;
            } else if (!strcmp(v, "metadata")) {
                co->prealloc = BLOCK_PREALLOC_METADATA;
            } else if (!strcmp(v, "full") || !strcmp(v, "falloc")) {
                co->prealloc = BLOCK_PREALLOC_FULL;
            } else {
                goto bad;
            }
        } else if (!strcmp(k, "lazy_refcounts")) {
            if (strcmp(v, "on") && strcmp(v, "off")) {
                goto bad;
            }
            co->lazy_refcounts = !strcmp(v, "on");
        } else if (!strcmp(k, "compat")) {
            if (!strcmp(v, "0.10") || !strcmp(v, "v2")) {
                co->compat = 2;
            } else if (!strcmp(v, "1.1") || !strcmp(v, "v3")) {
                co->compat = 3;
            } else {
                goto bad;
            }
        } else if (!strcmp(k, "refcount_bits")) {
            if (!blk_parse_size(v, &n) || n > 64) {
                goto bad;
            }
            co->refcount_bits = (int)n;
        } else if (!strcmp(k, "backing_file")) {
            co->backing_file = g_intern_string(v);
        } else if (!strcmp(k, "backing_fmt")) {
            co->backing_format = g_intern_string(v);
        } else {
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                        "Unknown option '%s'", k);
            return false;
        }
        continue;
bad:
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                    "Invalid value '%s' for option '%s'", v, k);
        return false;
    }
    return true;
}

/* -U / --force-share: read an image another process has open for
 * writing (what is read may be inconsistent), as qemu-img -U. */
static bool force_share;

static BlockDev *open_ro(const char *file, const char *fmt, GError **error)
{
    BlockOpenOptions o = { .format = fmt, .read_only = true,
                           .force_share = force_share };
    return blk_open(file, &o, error);
}

static BlockDev *open_rw(const char *file, const char *fmt, GError **error)
{
    BlockOpenOptions o = { .format = fmt, .read_only = false };
    if (!fmt) {
        /* A tool run by a person on one image: the format is what its
         * content says, but only for formats carrying a magic number;
         * a raw image must be named explicitly to be written. */
        fmt = blk_probe_format(file, error);
        if (!fmt) {
            return NULL;
        }
        if (!strcmp(fmt, "raw")) {
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_INVALID,
                        "'%s': pass -f raw to modify a raw image", file);
            return NULL;
        }
        o.format = fmt;
    }
    return blk_open(file, &o, error);
}

static int cmd_create(int argc, char **argv)
{
    BlockCreateOptions co = { .format = "raw" };
    const char *opts = NULL;
    const char *pos[2];
    const Opt options[] = {
        { "-f", &co.format }, { "-b", &co.backing_file },
        { "-F", &co.backing_format }, { "-o", &opts }, { "-q" }, { "-u" },
        { NULL },
    };
    if (!parse_args("create", argc, argv, options, pos, 1, 2, 0,
                    "a file name")) {
        return 1;
    }
    int np = pos[1] ? 2 : 1;
    GError *err = NULL;
    if (!parse_opts(opts, &co, &err)) {
        return fail_err(err);
    }
    if (np == 2 && !blk_parse_size(pos[1], &co.size)) {
        return fail("create: invalid size '%s'", pos[1]);
    }
    if (np == 1 && !co.backing_file) {
        return fail("create: expecting a size");
    }
    if (co.backing_file && !co.backing_format) {
        /* A guessed backing format is how a raw backing file that its
         * guest wrote a header into becomes a window on host files. */
        return fail("create: backing file '%s' specified without its "
                    "format: add -F raw, -F qcow or -F qcow2",
                    co.backing_file);
    }
    if (strcmp(co.format, "raw") && strcmp(co.format, "qcow") &&
        strcmp(co.format, "qcow2")) {
        return fail("create: unknown format '%s'", co.format);
    }
    if (!blk_create(pos[0], &co, &err)) {
        return fail_err(err);
    }
    char sz[32];
    printf("Formatting '%s', fmt=%s size=%" G_GUINT64_FORMAT " (%s)\n",
           pos[0], co.format, co.size, size_str(co.size, sz, sizeof(sz)));
    return 0;
}

static void json_str(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            g_string_append_printf(out, "\\%c", *s);
        } else if ((unsigned char)*s < 0x20) {
            g_string_append_printf(out, "\\u%04x", *s);
        } else {
            g_string_append_c(out, *s);
        }
    }
    g_string_append_c(out, '"');
}

static void info_one(BlockDev *bs, const BlockInfo *in, bool json,
                     GString *out)
{
    char a[32], b[32];
    BlockSnapshotInfo *sn = NULL;
    int nsn = blk_snapshot_list(bs, &sn, NULL);
    if (nsn < 0) {
        nsn = 0;
    }
    if (json) {
        g_string_append(out, "{\n    \"virtual-size\": ");
        g_string_append_printf(out, "%" G_GUINT64_FORMAT, in->virtual_size);
        g_string_append(out, ",\n    \"filename\": ");
        json_str(out, blk_filename(bs));
        if (in->cluster_size) {
            g_string_append_printf(out, ",\n    \"cluster-size\": %u",
                                   in->cluster_size);
        }
        g_string_append(out, ",\n    \"format\": ");
        json_str(out, in->format);
        g_string_append_printf(out, ",\n    \"actual-size\": %"
                               G_GUINT64_FORMAT, in->disk_size);
        if (in->backing_file) {
            g_string_append(out, ",\n    \"backing-filename\": ");
            json_str(out, in->backing_file);
        }
        if (in->backing_format) {
            g_string_append(out, ",\n    \"backing-filename-format\": ");
            json_str(out, in->backing_format);
        }
        if (nsn) {
            g_string_append(out, ",\n    \"snapshots\": [");
            for (int i = 0; i < nsn; i++) {
                g_string_append(out, i ? ", {\"id\": " : "{\"id\": ");
                json_str(out, sn[i].id);
                g_string_append(out, ", \"name\": ");
                json_str(out, sn[i].name);
                g_string_append_printf(out, ", \"vm-state-size\": %"
                                       G_GUINT64_FORMAT "}",
                                       sn[i].vm_state_size);
            }
            g_string_append(out, "]");
        }
        if (!strcmp(in->format, "qcow2")) {
            g_string_append_printf(out, ",\n    \"format-specific\": {\n"
                "        \"type\": \"qcow2\",\n        \"data\": {\n"
                "            \"compat\": \"%s\",\n"
                "            \"lazy-refcounts\": %s,\n"
                "            \"refcount-bits\": %d,\n"
                "            \"corrupt\": %s\n        }\n    }",
                in->version >= 3 ? "1.1" : "0.10",
                in->lazy_refcounts ? "true" : "false", in->refcount_bits,
                in->corrupt ? "true" : "false");
        }
        g_string_append_printf(out, ",\n    \"dirty-flag\": %s\n}",
                               in->dirty ? "true" : "false");
    } else {
        g_string_append_printf(out, "image: %s\nfile format: %s\n"
                               "virtual size: %s (%" G_GUINT64_FORMAT
                               " bytes)\ndisk size: %s\n",
                               blk_filename(bs), in->format,
                               size_str(in->virtual_size, a, sizeof(a)),
                               in->virtual_size,
                               size_str(in->disk_size, b, sizeof(b)));
        if (in->cluster_size) {
            g_string_append_printf(out, "cluster_size: %u\n",
                                   in->cluster_size);
        }
        if (in->backing_file) {
            g_string_append_printf(out, "backing file: %s\n",
                                   in->backing_file);
        }
        if (in->backing_format) {
            g_string_append_printf(out, "backing file format: %s\n",
                                   in->backing_format);
        }
        if (nsn) {
            g_string_append(out, "Snapshot list:\nID        TAG"
                            "                 VM SIZE\n");
            for (int i = 0; i < nsn; i++) {
                g_string_append_printf(out, "%-9s %-19s %s\n", sn[i].id,
                                       sn[i].name,
                                       size_str(sn[i].vm_state_size, a,
                                                sizeof(a)));
            }
        }
        if (!strcmp(in->format, "qcow2")) {
            g_string_append_printf(out, "Format specific information:\n"
                                   "    compat: %s\n"
                                   "    lazy refcounts: %s\n"
                                   "    refcount bits: %d\n"
                                   "    corrupt: %s\n",
                                   in->version >= 3 ? "1.1" : "0.10",
                                   in->lazy_refcounts ? "true" : "false",
                                   in->refcount_bits,
                                   in->corrupt ? "true" : "false");
        }
    }
    blk_snapshot_list_free(sn, nsn);
}

static int cmd_info(int argc, char **argv)
{
    const char *fmt = NULL, *file = NULL, *output = NULL;
    bool json = false, chain = false;
    const Opt options[] = {
        { "-f", &fmt }, { "--output", &output },
        { "--backing-chain", NULL, &chain }, { NULL },
    };
    if (!parse_args("info", argc, argv, options, &file, 1, 1, 0,
                    "a file name") ||
        !output_json("info", output, &json)) {
        return 1;
    }
    GError *err = NULL;
    BlockDev *bs = open_ro(file, fmt, &err);
    if (!bs) {
        return fail_err(err);
    }
    GString *out = g_string_new(NULL);
    if (json && chain) {
        g_string_append(out, "[");
    }
    int n = 0;
    for (BlockDev *b = bs; b; b = chain ? blk_backing(b) : NULL, n++) {
        BlockInfo in;
        if (!blk_get_info(b, &in, &err)) {
            blk_close(bs);
            g_string_free(out, true);
            return fail_err(err);
        }
        if (n) {
            g_string_append(out, json ? ",\n" : "\n");
        }
        info_one(b, &in, json, out);
        blk_info_clear(&in);
    }
    if (json && chain) {
        g_string_append(out, "]");
    }
    printf("%s%s", out->str, json ? "\n" : "");
    g_string_free(out, true);
    blk_close(bs);
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    const char *fmt = NULL, *file = NULL, *output = NULL, *repair = NULL;
    BlockCheckFix fix = BLOCK_CHECK_NONE;
    bool json = false;
    const Opt options[] = {
        { "-f", &fmt }, { "-r", &repair }, { "--output", &output }, { "-q" },
        { NULL },
    };
    if (!parse_args("check", argc, argv, options, &file, 1, 1, 0,
                    "a file name") ||
        !output_json("check", output, &json)) {
        return 1;
    }
    if (repair && !strcmp(repair, "leaks")) {
        fix = BLOCK_CHECK_FIX_LEAKS;
    } else if (repair && !strcmp(repair, "all")) {
        fix = BLOCK_CHECK_FIX_ALL;
    } else if (repair) {
        return fail("check: -r takes 'leaks' or 'all'");
    }
    GError *err = NULL;
    BlockDev *bs;
    if (fix) {
        BlockOpenOptions o = { .format = fmt, .repair = true };
        if (!o.format) {
            o.format = blk_probe_format(file, &err);
            if (!o.format) {
                return fail_err(err);
            }
        }
        bs = blk_open(file, &o, &err);
    } else {
        bs = open_ro(file, fmt, &err);
    }
    if (!bs) {
        return fail_err(err);
    }
    BlockCheckResult r;
    if (!blk_check(bs, fix, &r, &err)) {
        blk_close(bs);
        return fail_err(err);
    }
    uint64_t corrupt = r.corruptions - r.corruptions_fixed;
    uint64_t leaks = r.leaks - r.leaks_fixed;
    if (json) {
        printf("{\n    \"image-end-offset\": %" G_GUINT64_FORMAT ",\n"
               "    \"total-clusters\": %" G_GUINT64_FORMAT ",\n"
               "    \"allocated-clusters\": %" G_GUINT64_FORMAT ",\n"
               "    \"filename\": \"%s\",\n    \"format\": \"%s\",\n"
               "    \"corruptions\": %" G_GUINT64_FORMAT ",\n"
               "    \"leaks\": %" G_GUINT64_FORMAT ",\n"
               "    \"check-errors\": %" G_GUINT64_FORMAT "\n}\n",
               r.image_end_offset, r.total_clusters, r.allocated_clusters,
               file, blk_format_name(bs), corrupt, leaks, r.check_errors);
    } else {
        if (r.leaks_fixed || r.corruptions_fixed) {
            printf("The following inconsistencies were found and "
                   "repaired:\n\n    %" G_GUINT64_FORMAT " leaked clusters\n"
                   "    %" G_GUINT64_FORMAT " corruptions\n\n",
                   r.leaks_fixed, r.corruptions_fixed);
        }
        if (!corrupt && !leaks && !r.check_errors) {
            printf("No errors were found on the image.\n");
        }
        if (corrupt) {
            printf("\n%" G_GUINT64_FORMAT " errors were found on the image."
                   "\nData may be corrupted, or further writes to the "
                   "image may corrupt it.\n", corrupt);
        }
        if (leaks) {
            printf("\n%" G_GUINT64_FORMAT " leaked clusters were found on "
                   "the image.\nThis means waste of disk space, but no harm "
                   "to data.\n", leaks);
        }
        if (r.total_clusters) {
            printf("%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
                   " = %.2f%% allocated\n", r.allocated_clusters,
                   r.total_clusters,
                   100.0 * r.allocated_clusters / r.total_clusters);
            printf("Image end offset: %" G_GUINT64_FORMAT "\n",
                   r.image_end_offset);
        }
    }
    blk_close(bs);
    if (r.check_errors) {
        return 1;
    }
    if (corrupt) {
        return 2;
    }
    return leaks ? 3 : 0;
}

static bool is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}


static int cmd_convert(int argc, char **argv)
{
    const char *ifmt = NULL, *ofmt = "raw", *opts = NULL;
    bool compress = false, progress = false;
    const char *pos[2];
    const Opt options[] = {
        { "-f", &ifmt }, { "-O", &ofmt }, { "-o", &opts },
        { "-c", NULL, &compress }, { "-p", NULL, &progress }, { NULL },
    };
    if (!parse_args("convert", argc, argv, options, pos, 2, 2, 0,
                    "input and output file names")) {
        return 1;
    }
    if (compress && strcmp(ofmt, "qcow2")) {
        return fail("convert: compression needs -O qcow2");
    }
    GError *err = NULL;
    BlockDev *in = open_ro(pos[0], ifmt, &err);
    if (!in) {
        return fail_err(err);
    }
    BlockCreateOptions co = { .format = ofmt, .size = blk_get_size(in) };
    if (!parse_opts(opts, &co, &err) || !blk_create(pos[1], &co, &err)) {
        blk_close(in);
        return fail_err(err);
    }
    BlockOpenOptions oo = { .format = ofmt };
    BlockDev *out = blk_open(pos[1], &oo, &err);
    if (!out) {
        blk_close(in);
        return fail_err(err);
    }
    uint64_t size = blk_get_size(in);
    BlockInfo oi;
    uint32_t chunk = COPY_CHUNK;
    if (blk_get_info(out, &oi, NULL)) {
        if (compress && oi.cluster_size) {
            chunk = oi.cluster_size;
        }
        blk_info_clear(&oi);
    }
    uint8_t *buf = g_malloc(chunk);
    int ret = 0;
    int last_pct = -1;
    for (uint64_t off = 0; off < size; off += chunk) {
        size_t n = (size_t)MIN((uint64_t)chunk, size - off);
        if (!blk_pread(in, off, buf, n, &err)) {
            ret = fail_err(err);
            break;
        }
        if (is_zero(buf, n)) {
            continue;   /* the new image reads zeros there already */
        }
        bool ok = compress && n == chunk
                  ? blk_pwrite_compressed(out, off, buf, n, &err)
                  : blk_pwrite(out, off, buf, n, &err);
        if (!ok) {
            ret = fail_err(err);
            break;
        }
        int pct = (int)(100.0 * (off + n) / size);
        if (progress && pct != last_pct) {
            printf("    (%d.00/100%%)\r", pct);
            fflush(stdout);
            last_pct = pct;
        }
    }
    if (progress) {
        printf("    (100.00/100%%)\n");
    }
    g_free(buf);
    if (!ret && !blk_flush(out, &err)) {
        ret = fail_err(err);
    }
    blk_close(out);
    blk_close(in);
    return ret;
}

static int cmd_resize(int argc, char **argv)
{
    const char *fmt = NULL;
    const char *pos[2];
    const Opt options[] = {
        { "-f", &fmt }, { "--shrink" }, { "-q" }, { NULL },
    };
    if (!parse_args("resize", argc, argv, options, pos, 2, 2, 1,
                    "a file name and a size")) {
        return 1;
    }
    GError *err = NULL;
    BlockDev *bs = open_rw(pos[0], fmt, &err);
    if (!bs) {
        return fail_err(err);
    }
    const char *s = pos[1];
    int sign = 0;
    if (*s == '+' || *s == '-') {
        sign = *s == '+' ? 1 : -1;
        s++;
    }
    uint64_t v, cur = blk_get_size(bs), nsize;
    if (!blk_parse_size(s, &v)) {
        blk_close(bs);
        return fail("resize: invalid size '%s'", pos[1]);
    }
    if (sign < 0 && v > cur) {
        blk_close(bs);
        return fail("resize: the image would have a negative size");
    }
    nsize = sign > 0 ? cur + v : sign < 0 ? cur - v : v;
    if (!blk_truncate(bs, nsize, &err)) {
        blk_close(bs);
        return fail_err(err);
    }
    blk_close(bs);
    printf("Image resized.\n");
    return 0;
}

static int cmd_snapshot(int argc, char **argv)
{
    char op = 0;
    const char *name = NULL, *file = NULL, *fmt = NULL;
    const char *create = NULL, *apply = NULL, *del = NULL;
    bool list = false;
    const Opt options[] = {
        { "-l", NULL, &list }, { "-c", &create }, { "-a", &apply },
        { "-d", &del }, { "-f", &fmt }, { NULL },
    };
    if (!parse_args("snapshot", argc, argv, options, &file, 1, 1, 0,
                    "-l, -c, -a or -d and a file name")) {
        return 1;
    }
    if ((list + !!create + !!apply + !!del) != 1) {
        return fail("snapshot: expecting one of -l, -c, -a or -d");
    }
    op = list ? 'l' : create ? 'c' : apply ? 'a' : 'd';
    name = create ? create : apply ? apply : del;
    GError *err = NULL;
    BlockDev *bs = op == 'l' ? open_ro(file, fmt, &err)
                             : open_rw(file, fmt, &err);
    if (!bs) {
        return fail_err(err);
    }
    bool ok = true;
    if (op == 'l') {
        BlockSnapshotInfo *l;
        int n = blk_snapshot_list(bs, &l, &err);
        ok = n >= 0;
        if (ok && n) {
            printf("Snapshot list:\nID        TAG                 VM SIZE"
                   "                DATE     VM CLOCK\n");
            for (int i = 0; i < n; i++) {
                char sz[32];
                GDateTime *d = g_date_time_new_from_unix_local(l[i].date_sec);
                g_autofree char *ds = d ? g_date_time_format(
                    d, "%Y-%m-%d %H:%M:%S") : g_strdup("?");
                if (d) {
                    g_date_time_unref(d);
                }
                uint64_t ms = l[i].vm_clock_nsec / 1000000;
                printf("%-9s %-19s %-10s %s %02" G_GUINT64_FORMAT ":%02"
                       G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT ".%03"
                       G_GUINT64_FORMAT "\n", l[i].id, l[i].name,
                       size_str(l[i].vm_state_size, sz, sizeof(sz)), ds,
                       ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                       ms % 1000);
            }
        }
        if (ok) {
            blk_snapshot_list_free(l, n);
        }
    } else if (op == 'c') {
        ok = blk_snapshot_create(bs, name, 0, 0, &err);
    } else if (op == 'a') {
        ok = blk_snapshot_apply(bs, name, &err);
    } else {
        ok = blk_snapshot_delete(bs, name, &err);
    }
    blk_close(bs);
    return ok ? 0 : fail_err(err);
}


static int cmd_rebase(int argc, char **argv)
{
    const char *fmt = NULL, *backing = NULL, *bfmt = NULL, *file = NULL;
    bool unsafe = false;
    const Opt options[] = {
        { "-u", NULL, &unsafe }, { "-f", &fmt }, { "-b", &backing },
        { "-F", &bfmt }, { NULL },
    };
    if (!parse_args("rebase", argc, argv, options, &file, 1, 1, 0,
                    "-b BACKING and a file name")) {
        return 1;
    }
    if (!backing) {
        return fail("rebase: expecting -b BACKING and a file name");
    }
    GError *err = NULL;
    if (!fmt) {
        fmt = blk_probe_format(file, &err);
        if (!fmt) {
            return fail_err(err);
        }
    }
    if (strcmp(fmt, "qcow2")) {
        return fail("rebase: only qcow2 images can be rebased");
    }
    if (!unsafe) {
        /* Safe mode: copy into the image every cluster where the old and
         * the new backing chains differ and the image has no data. */
        BlockOpenOptions o = { .format = fmt };
        BlockDev *bs = blk_open(file, &o, &err);
        if (!bs) {
            return fail_err(err);
        }
        BlockDev *nb = NULL;
        if (*backing) {
            g_autofree char *path = NULL;
            if (g_path_is_absolute(backing)) {
                path = g_strdup(backing);
            } else {
                g_autofree char *dir = g_path_get_dirname(file);
                path = g_build_filename(dir, backing, NULL);
            }
            nb = open_ro(path, bfmt, &err);
            if (!nb) {
                blk_close(bs);
                return fail_err(err);
            }
        }
        uint64_t size = blk_get_size(bs), nsize = nb ? blk_get_size(nb) : 0;
        uint8_t *a = g_malloc(65536), *b = g_malloc(65536);
        bool ok = true;
        for (uint64_t off = 0; ok && off < size; off += 65536) {
            size_t n = (size_t)MIN(65536, size - off);
            int flags;
            uint64_t m = blk_block_status(bs, off, n, &flags, &err);
            if (!m) {
                ok = false;
                break;
            }
            if (m >= n && !(flags & (BLOCK_MAP_BACKING | BLOCK_MAP_ZERO))) {
                continue;
            }
            ok = blk_pread(bs, off, a, n, &err);
            memset(b, 0, n);
            if (ok && nb && off < nsize) {
                ok = blk_pread(nb, off, b, (size_t)MIN(n, nsize - off),
                               &err);
            }
            if (ok && memcmp(a, b, n)) {
                ok = blk_pwrite(bs, off, a, n, &err);
            }
        }
        g_free(a);
        g_free(b);
        blk_close(nb);
        blk_close(bs);
        if (!ok) {
            return fail_err(err);
        }
    }
    BlockOpenOptions o = { .format = fmt, .no_backing = true };
    BlockDev *bs = blk_open(file, &o, &err);
    if (!bs) {
        return fail_err(err);
    }
    bool ok = blk_change_backing(bs, backing, bfmt, &err);
    blk_close(bs);
    return ok ? 0 : fail_err(err);
}

static int cmd_compare(int argc, char **argv)
{
    const char *f1 = NULL, *f2 = NULL;
    const char *pos[2];
    const Opt options[] = {
        { "-f", &f1 }, { "-F", &f2 }, { "-q" }, { "-s" }, { NULL },
    };
    if (!parse_args("compare", argc, argv, options, pos, 2, 2, 0,
                    "two file names")) {
        return 2;
    }
    GError *err = NULL;
    BlockDev *a = open_ro(pos[0], f1, &err);
    BlockDev *b = a ? open_ro(pos[1], f2, &err) : NULL;
    if (!b) {
        blk_close(a);
        fail_err(err);
        return 2;
    }
    uint64_t sa = blk_get_size(a), sb = blk_get_size(b);
    uint64_t common = MIN(sa, sb), total = MAX(sa, sb);
    uint8_t *x = g_malloc(COPY_CHUNK), *y = g_malloc(COPY_CHUNK);
    int ret = 0;
    for (uint64_t off = 0; off < total; off += COPY_CHUNK) {
        size_t n = (size_t)MIN((uint64_t)COPY_CHUNK, total - off);
        memset(x, 0, n);
        memset(y, 0, n);
        if (off < common || off < sa) {
            if (!blk_pread(a, off, x, (size_t)MIN(n, sa > off ? sa - off : 0),
                           &err)) {
                ret = 2;
                break;
            }
        }
        if (off < sb) {
            if (!blk_pread(b, off, y, (size_t)MIN(n, sb - off), &err)) {
                ret = 2;
                break;
            }
        }
        if (memcmp(x, y, n)) {
            size_t k = 0;
            while (x[k] == y[k]) {
                k++;
            }
            printf("Content mismatch at offset %" G_GUINT64_FORMAT "!\n",
                   off + k);
            ret = 1;
            break;
        }
    }
    if (ret == 0) {
        printf("Images are identical.\n");
    } else if (ret == 2) {
        fail_err(err);
    }
    g_free(x);
    g_free(y);
    blk_close(a);
    blk_close(b);
    return ret;
}

static int cmd_map(int argc, char **argv)
{
    const char *fmt = NULL, *file = NULL, *output = NULL;
    bool json = false;
    const Opt options[] = { { "-f", &fmt }, { "--output", &output }, { NULL } };
    if (!parse_args("map", argc, argv, options, &file, 1, 1, 0,
                    "a file name") ||
        !output_json("map", output, &json)) {
        return 1;
    }
    GError *err = NULL;
    BlockDev *bs = open_ro(file, fmt, &err);
    if (!bs) {
        return fail_err(err);
    }
    uint64_t size = blk_get_size(bs), off = 0;
    uint64_t run_start = 0;
    int run_flags = -1;
    if (json) {
        printf("[");
    } else {
        printf("%-16s%-16s%s\n", "Offset", "Length", "Mapped to/Kind");
    }
    bool first = true;
    while (off <= size) {
        int flags = -2;
        uint64_t n = 0;
        if (off < size) {
            n = blk_block_status(bs, off, size - off, &flags, &err);
            if (!n) {
                blk_close(bs);
                return fail_err(err);
            }
        }
        if (flags != run_flags && run_flags >= 0) {
            uint64_t len = off - run_start;
            bool data = run_flags & BLOCK_MAP_DATA;
            bool zero = run_flags & BLOCK_MAP_ZERO;
            if (json) {
                printf("%s{ \"start\": %" G_GUINT64_FORMAT ", \"length\": %"
                       G_GUINT64_FORMAT ", \"depth\": %d, \"zero\": %s, "
                       "\"data\": %s}", first ? "" : ",\n", run_start, len,
                       (run_flags & BLOCK_MAP_BACKING) ? 1 : 0,
                       zero ? "true" : "false", data ? "true" : "false");
            } else if (data || (run_flags & BLOCK_MAP_BACKING)) {
                printf("%#-16" G_GINT64_MODIFIER "x%#-16" G_GINT64_MODIFIER
                       "x%s\n", run_start, len,
                       data ? file : "backing file");
            }
            first = false;
        }
        if (flags != run_flags) {
            run_start = off;
            run_flags = flags;
        }
        if (off == size) {
            break;
        }
        off += n;
    }
    if (json) {
        printf("]\n");
    }
    blk_close(bs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
        !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("mimic-img version " MIMIC_IMG_VERSION "\n");
        return 0;
    }
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
    }
    int kept = 2;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-U") || !strcmp(argv[i], "--force-share")) {
            force_share = true;
        } else {
            argv[kept++] = argv[i];
        }
    }
    argc = kept;
    argv[argc] = NULL;
    argc--;
    argv++;
    if (!strcmp(cmd, "create")) {
        return cmd_create(argc, argv);
    } else if (!strcmp(cmd, "info")) {
        return cmd_info(argc, argv);
    } else if (!strcmp(cmd, "check")) {
        return cmd_check(argc, argv);
    } else if (!strcmp(cmd, "convert")) {
        return cmd_convert(argc, argv);
    } else if (!strcmp(cmd, "resize")) {
        return cmd_resize(argc, argv);
    } else if (!strcmp(cmd, "snapshot")) {
        return cmd_snapshot(argc, argv);
    } else if (!strcmp(cmd, "rebase")) {
        return cmd_rebase(argc, argv);
    } else if (!strcmp(cmd, "compare")) {
        return cmd_compare(argc, argv);
    } else if (!strcmp(cmd, "map")) {
        return cmd_map(argc, argv);
    }
    return fail("unknown command '%s' (try --help)", cmd);
}
