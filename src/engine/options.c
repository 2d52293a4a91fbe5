/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line: QEMU-style options into a MachineConfig.
 *
 * One table lists every option, whether it takes an argument and its
 * handler; "-opt" and "--opt" are the same.  A bad option or value fails
 * with one line naming it.  Options that QEMU accepts but whose device
 * Mimic does not emulate yet print a one-line warning and are otherwise
 * left out (never silently dropped); legacy options are mapped to their
 * modern meaning with a note, as QEMU 7 does.
 * Reference: QEMU's qemu-options documentation (invocation).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mimic-config.h"
#include "bus/log.h"
#include "bus/net.h"
#include "engine/machine.h"
#include "engine/mimic.h"

typedef struct ParseCtx {
    MachineConfig *cfg;
    GString *out;
    MimicParseResult *result;
    bool nographic;
    bool display_set;
    bool serial_set;
    /* The option that added each drive, for messages ("-hdb", "-drive"). */
    char drive_opt[MIMIC_MAX_DRIVES][16];
    /* Accelerators in the order asked for (-accel, -enable-kvm, -machine
       accel=a:b); the first one available is used, as in QEMU. */
    AccelKind accels[8];
    int n_accels;
    char kvm_opt[32]; /* how KVM was first asked for, for the message */
    bool intel_hda;   /* -device intel-hda seen (its codec comes next) */
} ParseCtx;

typedef bool (*OptHandler)(ParseCtx *p, const char *opt, const char *arg,
                           GError **error);

typedef struct Option {
    const char *name;
    bool has_arg;
    OptHandler fn;
    const char *help;
} Option;

static bool fail(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static bool fail(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG, msg);
    return false;
}

static void warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mimic: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Size with an optional k/K/M/G/T suffix; plain numbers in `unit`.
   QEMU's rules (qemu_strtosz): decimal digits with an optional fraction,
   or a 0x hex integer; a fraction that is not zero needs a suffix other
   than b ("1.5G" yes, "1.5" and "1.5b" no); no exponent, inf or nan. */
static bool parse_size(const char *s, uint64_t unit, uint64_t *out)
{
    char *end;
    double v;
    bool fraction = false;
    if (!g_ascii_isdigit(*s)) {
        return false;
    }
    errno = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (!g_ascii_isxdigit(s[2])) {
            return false;
        }
        v = (double)g_ascii_strtoull(s, &end, 16);
    } else {
        end = (char *)s;
        while (g_ascii_isdigit(*end)) {
            end++;
        }
        if (*end == '.') {
            end++;
            while (g_ascii_isdigit(*end)) {
                fraction |= *end != '0';
                end++;
            }
        }
        g_autofree char *num = g_strndup(s, end - s);
        v = g_ascii_strtod(num, NULL);
    }
    if (errno || v < 0) {
        return false;
    }
    uint64_t mul = unit;
    bool suffix = true;
    switch (*end) {
    case '\0':
        suffix = false;
        break;
    case 'b': case 'B':
        mul = 1;
        suffix = false;
        end++;
        break;
    case 'k': case 'K':
        mul = 1ull << 10;
        end++;
        break;
    case 'm': case 'M':
        mul = 1ull << 20;
        end++;
        break;
    case 'g': case 'G':
        mul = 1ull << 30;
        end++;
        break;
    case 't': case 'T':
        mul = 1ull << 40;
        end++;
        break;
    default:
        return false;
    }
    if (suffix && (*end == 'i' || *end == 'B')) { /* MiB, MB */
        end++;
    }
    if (*end || (fraction && !suffix) || v * mul > 1e18) {
        return false;
    }
    *out = (uint64_t)(v * mul);
    return true;
}

static bool parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true")) {
        *out = true;
    } else if (!strcmp(s, "off") || !strcmp(s, "no") ||
               !strcmp(s, "false")) {
        *out = false;
    } else {
        return false;
    }
    return true;
}

/* Split "a=b,c=d" honouring QEMU's ",," escape; first key may be bare. */
static GPtrArray *split_opts(const char *s)
{
    GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
    GString *cur = g_string_new(NULL);
    for (const char *p = s;; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(cur, ',');
            p++;
        } else if (*p == ',' || *p == '\0') {
            g_ptr_array_add(parts, g_strdup(cur->str));
            g_string_truncate(cur, 0);
            if (!*p) {
                break;
            }
        } else {
            g_string_append_c(cur, *p);
        }
    }
    g_string_free(cur, TRUE);
    return parts;
}

/* Split "key=value" in place: *val points after the '='. */
static bool split_kv(char *item, const char *opt, const char **val,
                     GError **error)
{
    char *eq = strchr(item, '=');
    if (!eq) {
        return fail(error, "%s: expected key=value, got '%s'", opt, item);
    }
    *eq = '\0';
    *val = eq + 1;
    return true;
}

static bool check_file(const char *opt, const char *file, GError **error)
{
    if (!*file) {
        return fail(error, "%s: empty file name", opt);
    }
    if (g_file_test(file, G_FILE_TEST_IS_DIR)) {
        return fail(error, "%s: '%s' is a directory", opt, file);
    }
    if (access(file, R_OK) != 0) {
        return fail(error, "%s: could not open '%s': %s", opt, file,
                    g_strerror(errno));
    }
    return true;
}

static DriveConfig *find_drive(MachineConfig *cfg, DriveInterface itf,
                               int index)
{
    for (int i = 0; i < cfg->n_drives; i++) {
        if (cfg->drives[i].interface == itf && cfg->drives[i].index == index) {
            return &cfg->drives[i];
        }
    }
    return NULL;
}

static bool add_drive(ParseCtx *p, const char *opt, DriveConfig *d,
                      GError **error)
{
    MachineConfig *cfg = p->cfg;
    int max = d->interface == DRIVE_IF_IDE ? 4 :
              d->interface == DRIVE_IF_FLOPPY ? 2 : MIMIC_MAX_DRIVES;
    if (d->index < 0) {
        for (int i = 0; i < max; i++) {
            if (!find_drive(cfg, d->interface, i)) {
                d->index = i;
                break;
            }
        }
        if (d->index < 0) {
            return fail(error, "%s: no free %s slot", opt,
                        d->interface == DRIVE_IF_FLOPPY ? "floppy" : "IDE");
        }
    }
    if (d->index >= max) {
        return fail(error, "%s: index %d out of range (0-%d)", opt, d->index,
                    max - 1);
    }
    if (find_drive(cfg, d->interface, d->index)) {
        return fail(error, "%s: drive with index %d already in use", opt,
                    d->index);
    }
    if (cfg->n_drives >= MIMIC_MAX_DRIVES) {
        return fail(error, "%s: too many drives", opt);
    }
    if (d->file && !check_file(opt, d->file, error)) {
        return false;
    }
    g_strlcpy(p->drive_opt[cfg->n_drives], opt, sizeof(p->drive_opt[0]));
    cfg->drives[cfg->n_drives++] = *d;
    return true;
}

static bool drive_writes(const MachineConfig *cfg, const DriveConfig *d)
{
    return !d->readonly && !d->snapshot && !cfg->snapshot &&
           d->media != DRIVE_MEDIA_CDROM;
}

/* QEMU refuses (by its image locks) an image opened by two drives when
   one of them writes: the guest would corrupt it.  The same file however
   it is spelt (./x, a symlink): compared by device and inode. */
static bool check_shared_images(ParseCtx *p, GError **error)
{
    const MachineConfig *cfg = p->cfg;
    for (int i = 1; i < cfg->n_drives; i++) {
        const DriveConfig *a = &cfg->drives[i];
        struct stat sa;
        if (!a->file || stat(a->file, &sa)) {
            continue;
        }
        for (int j = 0; j < i; j++) {
            const DriveConfig *b = &cfg->drives[j];
            struct stat sb;
            if (!b->file || stat(b->file, &sb) || sa.st_dev != sb.st_dev ||
                sa.st_ino != sb.st_ino) {
                continue;
            }
            if (drive_writes(cfg, a) || drive_writes(cfg, b)) {
                return fail(error, "%s: '%s' is the image of %s already (an "
                            "image a drive writes cannot be opened by "
                            "another)", p->drive_opt[i], a->file,
                            p->drive_opt[j]);
            }
        }
    }
    return true;
}

static bool opt_legacy_drive(ParseCtx *p, const char *opt, const char *arg,
                             GError **error)
{
    DriveConfig d = { .index = -1, .cache = DRIVE_CACHE_WRITEBACK };
    if (!strcmp(opt, "fda") || !strcmp(opt, "fdb")) {
        d.interface = DRIVE_IF_FLOPPY;
        d.index = opt[2] - 'a';
    } else if (!strcmp(opt, "cdrom")) {
        d.interface = DRIVE_IF_IDE;
        d.index = 2;
        d.media = DRIVE_MEDIA_CDROM;
        d.readonly = true;
    } else {
        d.interface = DRIVE_IF_IDE;
        d.index = opt[2] - 'a';
    }
    d.file = g_strdup(arg);
    g_autofree char *o = g_strconcat("-", opt, NULL);
    if (!add_drive(p, o, &d, error)) {
        g_free(d.file);
        return false;
    }
    return true;
}

/* A -drive (or drive_add) option string; what names it in messages.  On
   failure d holds nothing to free. */
bool options_parse_drive(const char *what, const char *arg, DriveConfig *out,
                         GError **error)
{
    DriveConfig d = { .index = -1, .cache = DRIVE_CACHE_WRITEBACK };
    long bus = -1, unit = -1;
    GPtrArray *kv = split_opts(arg);
    bool ok = true;
    for (guint i = 0; ok && i < kv->len; i++) {
        char *item = g_ptr_array_index(kv, i);
        const char *k = item, *v = NULL;
        if (!split_kv(item, what, &v, error)) {
            ok = false;
            break;
        }
        long n;
        if (!strcmp(k, "file")) {
            g_free(d.file);
            d.file = g_strdup(v);
        } else if (!strcmp(k, "format")) {
            if (strcmp(v, "raw") && strcmp(v, "qcow") && strcmp(v, "qcow2")) {
                ok = fail(error, "%s: unknown format '%s' (raw, qcow, "
                          "qcow2)", what, v);
            }
            g_free(d.format);
            d.format = g_strdup(v);
        } else if (!strcmp(k, "if")) {
            if (!strcmp(v, "ide")) {
                d.interface = DRIVE_IF_IDE;
            } else if (!strcmp(v, "floppy")) {
                d.interface = DRIVE_IF_FLOPPY;
            } else if (!strcmp(v, "none")) {
                d.interface = DRIVE_IF_NONE;
            } else {
                ok = fail(error, "%s: interface '%s' is not supported "
                          "(ide, floppy, none)", what, v);
            }
        } else if (!strcmp(k, "index")) {
            if (!parse_int(v, 0, 7, &n)) {
                ok = fail(error, "%s: invalid index '%s'", what, v);
            }
            d.index = n;
        } else if (!strcmp(k, "bus")) {
            if (!parse_int(v, 0, 1, &bus)) {
                ok = fail(error, "%s: invalid bus '%s'", what, v);
            }
        } else if (!strcmp(k, "unit")) {
            if (!parse_int(v, 0, 1, &unit)) {
                ok = fail(error, "%s: invalid unit '%s'", what, v);
            }
        } else if (!strcmp(k, "media")) {
            if (!strcmp(v, "disk")) {
                d.media = DRIVE_MEDIA_DISK;
            } else if (!strcmp(v, "cdrom")) {
                d.media = DRIVE_MEDIA_CDROM;
                d.readonly = true;
            } else {
                ok = fail(error, "%s: invalid media '%s' (disk, cdrom)", what,
                          v);
            }
        } else if (!strcmp(k, "snapshot") || !strcmp(k, "readonly")) {
            bool b;
            if (!parse_bool(v, &b)) {
                ok = fail(error, "%s: %s: expected on or off, got '%s'", what,
                          k, v);
            }
            if (!strcmp(k, "snapshot")) {
                d.snapshot = b;
            } else {
                d.readonly = b;
            }
        } else if (!strcmp(k, "cache")) {
            if (!strcmp(v, "writeback")) {
                d.cache = DRIVE_CACHE_WRITEBACK;
            } else if (!strcmp(v, "writethrough")) {
                d.cache = DRIVE_CACHE_WRITETHROUGH;
            } else if (!strcmp(v, "none") || !strcmp(v, "directsync")) {
                d.cache = DRIVE_CACHE_NONE;
            } else if (!strcmp(v, "unsafe")) {
                d.cache = DRIVE_CACHE_UNSAFE;
            } else {
                ok = fail(error, "%s: invalid cache mode '%s'", what, v);
            }
        } else if (!strcmp(k, "file.locking") || !strcmp(k, "locking")) {
            bool b;
            if (!strcmp(v, "auto")) {
                b = true;   /* on, silently off where the host lacks OFD */
            } else if (!parse_bool(v, &b)) {
                ok = fail(error, "%s: %s: expected on, off or auto, "
                          "got '%s'", what, k, v);
            }
            d.no_locking = !b;
        } else if (!strcmp(k, "id")) {
            g_free(d.id);
            d.id = g_strdup(v);
        } else if (!strcmp(k, "aio")) {
            /* accepted */
        } else {
            ok = fail(error, "%s: unknown parameter '%s'", what, k);
        }
    }
    g_ptr_array_free(kv, TRUE);
    if (ok && (bus >= 0 || unit >= 0)) {
        d.index = (bus < 0 ? 0 : bus) * 2 + (unit < 0 ? 0 : unit);
    }
    if (ok && !d.file && d.media != DRIVE_MEDIA_CDROM) {
        ok = fail(error, "%s: a disk needs file=", what);
    }
    if (!ok) {
        drive_config_clear(&d);
        return false;
    }
    *out = d;
    return true;
}

static bool opt_drive(ParseCtx *p, const char *opt, const char *arg,
                      GError **error)
{
    DriveConfig d;
    if (!options_parse_drive("-drive", arg, &d, error)) {
        return false;
    }
    if (!add_drive(p, "-drive", &d, error)) {
        drive_config_clear(&d);
        return false;
    }
    return true;
}

static bool valid_boot_letters(const char *s)
{
    if (!*s || strlen(s) > 7) {
        return false;
    }
    for (const char *c = s; *c; c++) {
        if (!strchr("abcdnop", *c)) {
            return false;
        }
    }
    return true;
}

static bool opt_boot(ParseCtx *p, const char *opt, const char *arg,
                     GError **error)
{
    MachineConfig *cfg = p->cfg;
    if (!strchr(arg, '=')) {
        if (!valid_boot_letters(arg)) {
            return fail(error, "-boot: invalid boot device '%s' (use a, c, "
                        "d or n)", arg);
        }
        g_strlcpy(cfg->boot_order, arg, sizeof(cfg->boot_order));
        return true;
    }
    GPtrArray *kv = split_opts(arg);
    bool ok = true;
    for (guint i = 0; ok && i < kv->len; i++) {
        char *item = g_ptr_array_index(kv, i);
        char *eq = strchr(item, '=');
        const char *v = eq ? eq + 1 : "";
        if (eq) {
            *eq = '\0';
        }
        if (!strcmp(item, "order") || !strcmp(item, "once")) {
            if (!valid_boot_letters(v)) {
                ok = fail(error, "-boot: invalid boot device '%s' (use a, c, "
                          "d or n)", v);
            } else if (!strcmp(item, "order")) {
                g_strlcpy(cfg->boot_order, v, sizeof(cfg->boot_order));
            } else {
                g_strlcpy(cfg->boot_once, v, sizeof(cfg->boot_once));
            }
        } else if (!strcmp(item, "menu")) {
            if (!parse_bool(v, &cfg->boot_menu)) {
                ok = fail(error, "-boot: menu: expected on or off, got '%s'",
                          v);
            }
        } else if (!strcmp(item, "splash-time") ||
                   !strcmp(item, "reboot-timeout") ||
                   !strcmp(item, "strict") || !strcmp(item, "splash")) {
            /* accepted as QEMU does */
        } else {
            ok = fail(error, "-boot: unknown parameter '%s'", item);
        }
    }
    g_ptr_array_free(kv, TRUE);
    return ok;
}

static bool opt_m(ParseCtx *p, const char *opt, const char *arg,
                  GError **error)
{
    const char *s = g_str_has_prefix(arg, "size=") ? arg + 5 : arg;
    char *comma = strchr(s, ',');
    g_autofree char *v = comma ? g_strndup(s, comma - s) : g_strdup(s);
    uint64_t size;
    if (!parse_size(v, 1ull << 20, &size)) {
        return fail(error, "-m: invalid size '%s'", arg);
    }
    if (size < (1ull << 20)) {
        return fail(error, "-m: %s is too little memory (at least 1M)", arg);
    }
    if (size > (64ull << 30)) {
        return fail(error, "-m: %s is more memory than a 32-bit PC can "
                    "address (64G at most)", arg);
    }
    p->cfg->ram_size = size & ~0xfffull;
    return true;
}

static bool set_str(char **dst, const char *v)
{
    g_free(*dst);
    *dst = g_strdup(v);
    return true;
}

static bool opt_L(ParseCtx *p, const char *opt, const char *arg,
                  GError **error)
{
    MachineConfig *cfg = p->cfg;
    if (!g_file_test(arg, G_FILE_TEST_IS_DIR)) {
        return fail(error, "-L: '%s' is not a directory", arg);
    }
    if (cfg->n_bios_dirs >= MIMIC_MAX_BIOS_DIRS) {
        return fail(error, "-L: too many directories");
    }
    cfg->bios_dirs[cfg->n_bios_dirs++] = g_strdup(arg);
    return true;
}

static bool opt_bios(ParseCtx *p, const char *opt, const char *arg,
                     GError **error)
{
    return set_str(&p->cfg->bios_file, arg);
}

static bool opt_localtime(ParseCtx *p, const char *opt, const char *arg,
                          GError **error)
{
    p->cfg->rtc_localtime = true;
    return true;
}

static bool opt_rtc(ParseCtx *p, const char *opt, const char *arg,
                    GError **error)
{
    GPtrArray *kv = split_opts(arg);
    bool ok = true;
    for (guint i = 0; ok && i < kv->len; i++) {
        char *item = g_ptr_array_index(kv, i);
        const char *v = NULL;
        if (!split_kv(item, "-rtc", &v, error)) {
            ok = false;
            break;
        }
        if (!strcmp(item, "base")) {
            if (!strcmp(v, "utc")) {
                p->cfg->rtc_localtime = false;
            } else if (!strcmp(v, "localtime")) {
                p->cfg->rtc_localtime = true;
            } else {
                g_autoptr(GDateTime) dt = NULL;
                g_autofree char *iso = strchr(v, 'T') ?
                    g_strdup(v) : g_strconcat(v, "T00:00:00", NULL);
                if (!g_str_has_suffix(iso, "Z") && !strchr(iso + 10, '+')) {
                    char *t = iso;
                    iso = g_strconcat(t, "Z", NULL);
                    g_free(t);
                }
                dt = g_date_time_new_from_iso8601(iso, NULL);
                if (!dt) {
                    ok = fail(error, "-rtc: invalid base '%s' (utc, "
                              "localtime or YYYY-MM-DD[THH:MM:SS])", v);
                    break;
                }
            }
            set_str(&p->cfg->rtc_base, v);
        } else if (!strcmp(item, "clock")) {
            if (strcmp(v, "host") && strcmp(v, "rt") && strcmp(v, "vm")) {
                ok = fail(error, "-rtc: invalid clock '%s' (host, rt, vm)",
                          v);
            }
        } else if (!strcmp(item, "driftfix")) {
            if (strcmp(v, "none") && strcmp(v, "slew")) {
                ok = fail(error, "-rtc: invalid driftfix '%s' (none, slew)",
                          v);
            }
        } else {
            ok = fail(error, "-rtc: unknown parameter '%s'", item);
        }
    }
    g_ptr_array_free(kv, TRUE);
    return ok;
}

/* Sound cards QEMU knows; `emulated` marks those Mimic has. */
static const struct {
    const char *name;
    const char *desc;
    bool emulated;
    bool device_only; /* a -device codec, not a -soundhw name */
} sound_cards[] = {
    { "pcspk", "PC speaker", true },
    { "sb16", "Creative Sound Blaster 16", true },
    { "ac97", "Intel 82801AA AC97 Audio", true },
    { "es1370", "ENSONIQ AudioPCI ES1370", false },
    { "adlib", "Yamaha YM3812 (OPL2)", true },
    { "gus", "Gravis Ultrasound GF1", false },
    { "cs4231a", "CS4231A", false },
    { "hda", "Intel HD Audio", true },
    /* -device intel-hda -device hda-output: the codec without line in
       (hda-duplex and -soundhw hda are "hda"). */
    { "hda-output", "Intel HD Audio, output codec", true, true },
};

static int sound_card_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(sound_cards); i++) {
        if (!g_ascii_strcasecmp(name, sound_cards[i].name)) {
            return (int)i;
        }
    }
    return -1;
}

static void sound_card_help(GString *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(sound_cards); i++) {
        if (sound_cards[i].device_only) {
            continue;
        }
        g_string_append_printf(out, "%-11s %s%s\n", sound_cards[i].name,
                               sound_cards[i].desc,
                               sound_cards[i].emulated ? ""
                                                       : " (not emulated yet)");
    }
}

/* Add card `name` (playing through audiodev, NULL: the default). */
static bool add_sound_card(ParseCtx *p, const char *opt, const char *name,
                           const char *audiodev, GError **error)
{
    MachineConfig *cfg = p->cfg;
    int k = sound_card_find(name);
    if (k < 0 || (sound_cards[k].device_only && strcmp(opt, "-device"))) {
        return fail(error, "%s: unknown sound card '%s' (try -soundhw help)",
                    opt, name);
    }
    if (!sound_cards[k].emulated) {
        warn("%s %s: this sound card is not emulated yet; the machine runs "
             "without it", opt, name);
        return true;
    }
    for (int i = 0; i < cfg->n_soundhw; i++) {
        if (!strcmp(cfg->soundhw[i], sound_cards[k].name) ||
            (g_str_has_prefix(cfg->soundhw[i], "hda") &&
             g_str_has_prefix(sound_cards[k].name, "hda"))) {
            return fail(error, "%s: sound card '%s' given twice (one HDA "
                        "controller with one codec)", opt, name);
        }
    }
    if (cfg->n_soundhw >= MIMIC_MAX_SOUNDHW) {
        return fail(error, "%s: too many sound cards", opt);
    }
    cfg->soundhw_audiodev[cfg->n_soundhw] = g_strdup(audiodev);
    cfg->soundhw[cfg->n_soundhw++] = g_strdup(sound_cards[k].name);
    return true;
}

static bool add_all_sound_cards(ParseCtx *p, const char *opt, GError **error)
{
    for (size_t i = 0; i < G_N_ELEMENTS(sound_cards); i++) {
        bool have = false;
        for (int k = 0; k < p->cfg->n_soundhw; k++) {
            have |= !strcmp(p->cfg->soundhw[k], sound_cards[i].name);
        }
        if (sound_cards[i].emulated && !sound_cards[i].device_only &&
            !have &&
            !add_sound_card(p, opt, sound_cards[i].name, NULL, error)) {
            return false;
        }
    }
    return true;
}

static bool opt_soundhw(ParseCtx *p, const char *opt, const char *arg,
                        GError **error)
{
    if (!strcmp(arg, "?") || !strcmp(arg, "help")) {
        g_string_append(p->out, "Valid sound card names (comma separated):\n");
        sound_card_help(p->out);
        g_string_append(p->out, "\n-soundhw all will enable all of the "
                        "emulated cards above\n");
        *p->result = MIMIC_PARSE_EXIT;
        return true;
    }
    gchar **names = g_strsplit(arg, ",", -1);
    bool ok = true;
    for (gchar **n = names; *n && ok; n++) {
        if (!strcmp(*n, "all")) {
            ok = add_all_sound_cards(p, "-soundhw", error);
        } else {
            ok = add_sound_card(p, "-soundhw", *n, NULL, error);
        }
    }
    g_strfreev(names);
    return ok;
}

static bool opt_enable_audio(ParseCtx *p, const char *opt, const char *arg,
                             GError **error)
{
    /* The seed's legacy option: every sound card there is. */
    return add_all_sound_cards(p, "-enable-audio", error);
}

static const char *const audio_drivers[] = { "pa", "wav", "none" };

static bool audio_driver_known(const char *d)
{
    for (size_t i = 0; i < G_N_ELEMENTS(audio_drivers); i++) {
        if (!strcmp(d, audio_drivers[i])) {
            return true;
        }
    }
    return false;
}

/* -audiodev DRIVER,id=ID[,path=F][,server=S]; "driver=" may be spelt. */
static bool parse_audiodev(ParseCtx *p, const char *opt, GPtrArray *kv,
                           guint first, const char *driver, const char *id,
                           char **model, GError **error)
{
    MachineConfig *cfg = p->cfg;
    if (cfg->n_audiodevs >= MIMIC_MAX_AUDIODEV) {
        return fail(error, "%s: too many audio devices", opt);
    }
    AudioDevConfig ad = { 0 };
    bool ok = true;
    ad.driver = g_strdup(driver);
    ad.id = g_strdup(id);
    for (guint i = first; ok && i < kv->len; i++) {
        char *item = g_ptr_array_index(kv, i);
        const char *v = NULL;
        if (!split_kv(item, opt, &v, error)) {
            ok = false;
        } else if (!strcmp(item, "driver")) {
            set_str(&ad.driver, v);
        } else if (!strcmp(item, "id")) {
            set_str(&ad.id, v);
        } else if (!strcmp(item, "path")) {
            set_str(&ad.path, v);
        } else if (!strcmp(item, "server")) {
            set_str(&ad.server, v);
        } else if (!strcmp(item, "in.path")) {
            set_str(&ad.in_path, v); /* a WAV file to record from */
        } else if (model && !strcmp(item, "model")) {
            set_str(model, v);
        } else if (!g_str_has_prefix(item, "in.") &&
                   !g_str_has_prefix(item, "out.") &&
                   strcmp(item, "timer-period")) {
            ok = fail(error, "%s: unknown parameter '%s'", opt, item);
        }
    }
    if (ok && !ad.driver) {
        ok = fail(error, "%s: no driver given (pa, wav, none)", opt);
    } else if (ok && !audio_driver_known(ad.driver)) {
        ok = fail(error, "%s: unknown audio driver '%s' (pa, wav, none)", opt,
                  ad.driver);
    } else if (ok && !ad.id) {
        ok = fail(error, "%s: parameter 'id' is missing", opt);
    }
    for (int i = 0; ok && i < cfg->n_audiodevs; i++) {
        if (!strcmp(cfg->audiodevs[i].id, ad.id)) {
            ok = fail(error, "%s: duplicate id '%s'", opt, ad.id);
        }
    }
    if (ok && !strcmp(ad.driver, "wav") && !ad.path) {
        ad.path = g_strdup("qemu.wav"); /* QEMU's default file name */
    }
    if (!ok) {
        g_free(ad.driver);
        g_free(ad.id);
        g_free(ad.path);
        g_free(ad.server);
        g_free(ad.in_path);
        return false;
    }
    cfg->audiodevs[cfg->n_audiodevs++] = ad;
    return true;
}

static bool opt_audiodev(ParseCtx *p, const char *opt, const char *arg,
                         GError **error)
{
    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        g_string_append(p->out, "Available audio drivers:\npa\nwav\nnone\n");
        *p->result = MIMIC_PARSE_EXIT;
        return true;
    }
    GPtrArray *kv = split_opts(arg);
    const char *first = g_ptr_array_index(kv, 0);
    bool bare = !strchr(first, '=');
    bool ok = parse_audiodev(p, "-audiodev", kv, bare ? 1 : 0,
                             bare ? first : NULL, NULL, NULL, error);
    g_ptr_array_free(kv, TRUE);
    return ok;
}

/* -audio [driver=]DRIVER[,model=CARD][,id=..]: an audiodev and a card. */
static bool opt_audio(ParseCtx *p, const char *opt, const char *arg,
                      GError **error)
{
    if (!strcmp(arg, "help") || !strcmp(arg, "?") ||
        !strcmp(arg, "model=help")) {
        g_string_append(p->out, "Available audio drivers: pa wav none\n"
                        "Sound card models:\n");
        sound_card_help(p->out);
        *p->result = MIMIC_PARSE_EXIT;
        return true;
    }
    GPtrArray *kv = split_opts(arg);
    const char *first = g_ptr_array_index(kv, 0);
    bool bare = !strchr(first, '=');
    g_autofree char *model = NULL;
    /* The audiodev of -audio is "audio0" unless id= names it. */
    bool ok = parse_audiodev(p, "-audio", kv, bare ? 1 : 0,
                             bare ? first : NULL, "audio0", &model, error);
    g_ptr_array_free(kv, TRUE);
    if (ok && model) {
        ok = add_sound_card(p, "-audio", model,
                            p->cfg->audiodevs[p->cfg->n_audiodevs - 1].id,
                            error);
    }
    return ok;
}

/* -device of a sound card (opt_device dispatches). */
static bool opt_device_sound(ParseCtx *p, const char *arg, GError **error)
{
    GPtrArray *kv = split_opts(arg);
    const char *driver = g_ptr_array_index(kv, 0);
    const char *audiodev = NULL;
    bool ok = true;
    for (guint i = 1; ok && i < kv->len; i++) {
        char *item = g_ptr_array_index(kv, i);
        const char *v = NULL;
        if (!split_kv(item, "-device", &v, error)) {
            ok = false;
        } else if (!strcmp(item, "audiodev")) {
            audiodev = v;
        } else if (strcmp(item, "id") && strcmp(item, "iobase") &&
                   strcmp(item, "irq") && strcmp(item, "dma") &&
                   strcmp(item, "dma16")) {
            ok = fail(error, "-device %s: unknown parameter '%s'", driver,
                      item);
        }
    }
    if (ok) {
        int k = sound_card_find(driver);
        if (!sound_cards[k].emulated) {
            ok = fail(error, "-device %s: this sound card is not emulated "
                      "yet (try -device help)", driver);
        } else {
            ok = add_sound_card(p, "-device", driver, audiodev, error);
        }
    }
    g_ptr_array_free(kv, TRUE);
    return ok;
}

/* After parsing: every card's audiodev must exist. */
static bool check_audio(MachineConfig *cfg, GError **error)
{
    for (int i = 0; i < cfg->n_soundhw; i++) {
        const char *want = cfg->soundhw_audiodev[i];
        if (!want) {
            continue;
        }
        bool found = false;
        for (int k = 0; k < cfg->n_audiodevs; k++) {
            found |= !strcmp(cfg->audiodevs[k].id, want);
        }
        if (!found) {
            return fail(error, "-device %s,audiodev=%s: audiodev '%s' is "
                        "not defined (use -audiodev DRIVER,id=%s)",
                        cfg->soundhw[i], want, want, want);
        }
    }
    return true;
}

static bool opt_clock(ParseCtx *p, const char *opt, const char *arg,
                      GError **error)
{
    if (strcmp(arg, "dynticks") && strcmp(arg, "unix") &&
        strcmp(arg, "hpet") && strcmp(arg, "rtc") && strcmp(arg, "?")) {
        return fail(error, "-clock: unknown clock '%s'", arg);
    }
    /* QEMU dropped -clock; its timers are what dynticks meant. */
    return true;
}

static bool opt_no_hpet(ParseCtx *p, const char *opt, const char *arg,
                        GError **error)
{
    p->cfg->no_hpet = true;
    return true;
}

static bool opt_rtc_td_hack(ParseCtx *p, const char *opt, const char *arg,
                            GError **error)
{
    warn("-rtc-td-hack is a legacy option: it means -rtc driftfix=slew, "
         "which Mimic's RTC does by default");
    return true;
}

static bool opt_usb(ParseCtx *p, const char *opt, const char *arg,
                    GError **error)
{
    p->cfg->usb = true;
    return true;
}

static bool add_usb_device(ParseCtx *p, const char *opt, char *spec,
                           GError **error)
{
    if (p->cfg->n_usb_devices >= MIMIC_MAX_USBDEV) {
        g_free(spec);
        return fail(error, "%s: too many USB devices (at most %d)", opt,
                    MIMIC_MAX_USBDEV);
    }
    p->cfg->usb_devices[p->cfg->n_usb_devices++] = spec;
    return true;
}

/* -usbdevice tablet|mouse|keyboard|disk:FILE (QEMU's legacy names). */
static bool opt_usbdevice(ParseCtx *p, const char *opt, const char *arg,
                          GError **error)
{
    static const char *const devs[][2] = {
        { "tablet", "usb-tablet" }, { "mouse", "usb-mouse" },
        { "keyboard", "usb-kbd" }, { "disk:FILE", "usb-storage" },
    };
    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        for (size_t i = 0; i < G_N_ELEMENTS(devs); i++) {
            g_string_append_printf(p->out, "%s (%s)\n", devs[i][0],
                                   devs[i][1]);
        }
        *p->result = MIMIC_PARSE_EXIT;
        return true;
    }
    for (size_t i = 0; i < 3; i++) {
        if (!strcmp(arg, devs[i][0])) {
            return add_usb_device(p, "-usbdevice", g_strdup(devs[i][1]),
                                  error);
        }
    }
    if (g_str_has_prefix(arg, "disk:")) {
        /* A drive of its own, named for the device that uses it. */
        g_autofree char *id = g_strdup_printf("usbdisk%d",
                                              p->cfg->n_usb_devices);
        DriveConfig d = { .index = -1, .interface = DRIVE_IF_NONE,
                          .cache = DRIVE_CACHE_WRITEBACK };
        d.file = g_strdup(arg + 5);
        d.id = g_strdup(id);
        if (!add_drive(p, "-usbdevice disk", &d, error)) {
            g_free(d.file);
            g_free(d.id);
            return false;
        }
        return add_usb_device(p, "-usbdevice",
                              g_strdup_printf("usb-storage,drive=%s", id),
                              error);
    }
    return fail(error, "-usbdevice: unknown device '%s' (try -usbdevice "
                "help)", arg);
}

/* -device piix3-usb-uhci and -device usb-*; the board checks ports and
   drives (one line, exit 1). */
static const char *const usb_device_names[] = {
    "usb-tablet", "usb-mouse", "usb-kbd", "usb-storage", NULL,
};

static bool is_usb_device(const char *driver)
{
    if (!strcmp(driver, "piix3-usb-uhci") || !strcmp(driver, "usb-ehci") ||
        !strcmp(driver, "qemu-xhci")) {
        return true;
    }
    for (int i = 0; usb_device_names[i]; i++) {
        if (!strcmp(driver, usb_device_names[i])) {
            return true;
        }
    }
    return false;
}

static bool opt_device_usb(ParseCtx *p, const char *driver, const char *arg,
                           GError **error)
{
    if (!strcmp(driver, "piix3-usb-uhci")) {
        p->cfg->usb = true;
        if (strchr(arg, ',') && !g_str_has_prefix(strchr(arg, ','), ",id=")) {
            return fail(error, "-device piix3-usb-uhci: only id= is "
                        "supported");
        }
        return true;
    }
    /* usb-ehci: a controller of its own (usb_bus.c); without -usb the
       machine has no UHCI. */
    /* qemu-xhci likewise. */
    if (!strcmp(driver, "usb-ehci") || !strcmp(driver, "qemu-xhci")) {
        const char *rest = strchr(arg, ',');
        if (rest && (!g_str_has_prefix(rest, ",id=") ||
                     strchr(rest + 1, ','))) {
            return fail(error, "-device %s: only id= is supported", driver);
        }
        for (int i = 0; i < p->cfg->n_usb_devices; i++) {
            if (g_str_has_prefix(p->cfg->usb_devices[i], driver)) {
                return fail(error, "-device %s: one %s at most", driver,
                            driver);
            }
        }
    }
    if (!strcmp(driver, "usb-storage") && !strstr(arg, "drive=")) {
        return fail(error, "-device usb-storage: drive=ID is needed (the id "
                    "of a -drive if=none,id=ID,file=...)");
    }
    return add_usb_device(p, "-device", g_strdup(arg), error);
}

/* ---- network: -net, -nic, -netdev, -device ---- */

/* NIC models by QEMU's names: emulated ones, and QEMU's others, which get
   an e1000 with a warning (saved GUI machines may name them). */
static const char *const nic_models[] = {
    "e1000", "rtl8139", "ne2k_pci", "ne2k_isa", "virtio-net-pci", NULL };
static const char *const nic_models_later[] = {
    "pcnet", "i82551", "i82557b", "i82559er", "e1000e", "vmxnet3", NULL };
static const char *const net_backends[] = { "user", "tap", NULL };

static bool nic_model_help(ParseCtx *p)
{
    g_string_append(p->out, "Available NIC models:\n");
    for (int i = 0; nic_models[i]; i++) {
        g_string_append_printf(p->out, "%s\n", nic_models[i]);
    }
    *p->result = MIMIC_PARSE_EXIT;
    return true;
}

/* Check a model name; NULL means the board's default (e1000). */
static bool check_nic_model(const char *opt, char **model, GError **error)
{
    if (!*model) {
        return true;
    }
    if (!strcmp(*model, "e1000-82540em")) {
        set_str(model, "e1000");
    } else if (!strcmp(*model, "virtio")) {
        set_str(model, "virtio-net-pci");
    }
    for (int i = 0; nic_models[i]; i++) {
        if (!strcmp(*model, nic_models[i])) {
            return true;
        }
    }
    for (int i = 0; nic_models_later[i]; i++) {
        if (!strcmp(*model, nic_models_later[i])) {
            warn("%s: NIC model '%s' is not emulated yet; the machine gets "
                 "an e1000 instead", opt, *model);
            set_str(model, "e1000");
            return true;
        }
    }
    return fail(error, "%s: unknown NIC model '%s' (try model=help)", opt,
                *model);
}

static bool check_mac(const char *opt, const char *mac, GError **error)
{
    uint8_t b[6];
    if (!net_parse_mac(mac, b)) {
        return fail(error, "%s: invalid MAC address '%s' (expected "
                    "xx:xx:xx:xx:xx:xx, not multicast)", opt, mac);
    }
    return true;
}

static NetBackendConfig *find_netdev(MachineConfig *cfg, const char *id)
{
    for (int i = 0; i < cfg->n_netdevs; i++) {
        if (cfg->netdevs[i].id && !strcmp(cfg->netdevs[i].id, id)) {
            return &cfg->netdevs[i];
        }
    }
    return NULL;
}

/* A back end from "TYPE,opts..."; id NULL for -net (a hub member). */
static bool add_backend(ParseCtx *p, const char *opt, const char *kind,
                        const char *options, const char *id, int vlan,
                        GError **error)
{
    MachineConfig *cfg = p->cfg;
    bool known = false;
    for (int i = 0; net_backends[i]; i++) {
        known |= !strcmp(kind, net_backends[i]);
    }
    if (!known) {
        if (!strcmp(kind, "socket") || !strcmp(kind, "dump") ||
            !strcmp(kind, "vde") || !strcmp(kind, "l2tpv3")) {
            return fail(error, "%s: the '%s' network back end is not "
                        "available yet (user is)", opt, kind);
        }
        return fail(error, "%s: unknown network type '%s' (nic, user, "
                    "tap, none)", opt, kind);
    }
    if (id && find_netdev(cfg, id)) {
        return fail(error, "%s: duplicate netdev id '%s'", opt, id);
    }
    if (cfg->n_netdevs >= MIMIC_MAX_NICS) {
        return fail(error, "%s: too many network back ends (at most %d)",
                    opt, MIMIC_MAX_NICS);
    }
    NetBackendConfig *b = &cfg->netdevs[cfg->n_netdevs++];
    b->kind = g_strdup(kind);
    b->options = g_strdup(options ? options : "");
    b->id = g_strdup(id);
    b->vlan = vlan;
    return true;
}

static NicConfig *new_nic(MachineConfig *cfg, const char *opt,
                          GError **error)
{
    if (cfg->n_nics >= MIMIC_MAX_NICS) {
        fail(error, "%s: too many network cards (at most %d)", opt,
             MIMIC_MAX_NICS);
        return NULL;
    }
    return &cfg->nics[cfg->n_nics];
}

static bool opt_net(ParseCtx *p, const char *opt, const char *arg,
                    GError **error)
{
    MachineConfig *cfg = p->cfg;
    GPtrArray *kv = split_opts(arg);
    const char *kind = g_ptr_array_index(kv, 0);
    bool ok = true;
    if (!strcmp(kind, "none")) {
        cfg->net_none = true;
    } else if (!strcmp(kind, "nic")) {
        NicConfig *n = new_nic(cfg, "-net nic", error);
        NicConfig tmp = { 0 };
        ok = n != NULL;
        for (guint i = 1; ok && i < kv->len; i++) {
            char *item = g_ptr_array_index(kv, i);
            const char *val = NULL;
            if (!split_kv(item, "-net nic", &val, error)) {
                ok = false;
                break;
            }
            if (!strcmp(item, "model")) {
                if (!strcmp(val, "help") || !strcmp(val, "?")) {
                    machine_config_nic_clear(&tmp);
                    g_ptr_array_free(kv, TRUE);
                    return nic_model_help(p);
                }
                set_str(&tmp.model, val);
            } else if (!strcmp(item, "macaddr")) {
                set_str(&tmp.macaddr, val);
                ok = check_mac("-net nic", val, error);
            } else if (!strcmp(item, "vlan")) {
                long v = 0;
                if (!parse_int(val, 0, 255, &v)) {
                    ok = fail(error, "-net nic: invalid vlan '%s'", val);
                }
                tmp.vlan = v;
            } else if (!strcmp(item, "netdev")) {
                set_str(&tmp.netdev, val);
            } else if (strcmp(item, "name") && strcmp(item, "id")) {
                ok = fail(error, "-net nic: unknown parameter '%s'", item);
            }
        }
        ok = ok && check_nic_model("-net nic", &tmp.model, error);
        if (ok) {
            *n = tmp;
            cfg->n_nics++;
        } else {
            machine_config_nic_clear(&tmp);
        }
    } else {
        /* -net user[,vlan=N][,...]: a back end on hub N. */
        long vlan = 0;
        GString *rest = g_string_new(NULL);
        for (guint i = 1; ok && i < kv->len; i++) {
            const char *item = g_ptr_array_index(kv, i);
            if (g_str_has_prefix(item, "vlan=")) {
                if (!parse_int(item + 5, 0, 255, &vlan)) {
                    ok = fail(error, "-net %s: invalid vlan '%s'", kind,
                              item + 5);
                }
                continue;
            }
            if (rest->len) {
                g_string_append_c(rest, ',');
            }
            g_string_append(rest, item);
        }
        g_autofree char *o = g_strdup_printf("-net %s", kind);
        ok = ok && add_backend(p, o, kind, rest->str, NULL, vlan, error);
        g_string_free(rest, TRUE);
    }
    g_ptr_array_free(kv, TRUE);
    return ok;
}

/* -netdev TYPE,id=ID[,...] */
static bool opt_netdev(ParseCtx *p, const char *opt, const char *arg,
                       GError **error)
{
    GPtrArray *kv = split_opts(arg);
    const char *kind = g_ptr_array_index(kv, 0);
    const char *id = NULL;
    GString *rest = g_string_new(NULL);
    for (guint i = 1; i < kv->len; i++) {
        const char *item = g_ptr_array_index(kv, i);
        if (g_str_has_prefix(item, "id=")) {
            id = item + 3;
            continue;
        }
        if (rest->len) {
            g_string_append_c(rest, ',');
        }
        g_string_append(rest, item);
    }
    bool ok;
    if (!strcmp(kind, "help") || !strcmp(kind, "?")) {
        g_string_append(p->out, "Available netdev backend types:\n");
        for (int i = 0; net_backends[i]; i++) {
            g_string_append_printf(p->out, "%s\n", net_backends[i]);
        }
        *p->result = MIMIC_PARSE_EXIT;
        ok = true;
    } else if (!id || !*id) {
        ok = fail(error, "-netdev %s: parameter 'id' is missing", kind);
    } else {
        g_autofree char *o = g_strdup_printf("-netdev %s", kind);
        ok = add_backend(p, o, kind, rest->str, id, -1, error);
    }
    g_string_free(rest, TRUE);
    g_ptr_array_free(kv, TRUE);
    return ok;
}

/* -object filter-dump,id=ID,netdev=NETDEV,file=PATH[,maxlen=N]: the
   only object type Mimic has.  The netdev is looked up when the machine
   is built (it may come later on the command line). */
static bool opt_object(ParseCtx *p, const char *opt, const char *arg,
                       GError **error)
{
    MachineConfig *cfg = p->cfg;
    GPtrArray *kv = split_opts(arg);
    const char *type = g_ptr_array_index(kv, 0);
    NetFilterConfig f = { 0 };
    bool ok = true;
    if (!strcmp(type, "help") || !strcmp(type, "?")) {
        g_string_append(p->out, "List of user creatable objects:\n"
                        "  filter-dump\n");
        *p->result = MIMIC_PARSE_EXIT;
        g_ptr_array_free(kv, TRUE);
        return true;
    }
    if (strcmp(type, "filter-dump")) {
        ok = fail(error, "-object: unknown object type '%s' (filter-dump)",
                  type);
    }
    for (guint i = 1; ok && i < kv->len; i++) {
        char *item = g_ptr_array_index(kv, i);
        const char *val = NULL;
        if (!split_kv(item, "-object filter-dump", &val, error)) {
            ok = false;
        } else if (!strcmp(item, "id")) {
            set_str(&f.id, val);
        } else if (!strcmp(item, "netdev")) {
            set_str(&f.netdev, val);
        } else if (!strcmp(item, "file")) {
            set_str(&f.file, val);
        } else if (!strcmp(item, "maxlen")) {
            long v = 0;
            if (!parse_int(val, 64, 65536, &v)) {
                ok = fail(error, "-object filter-dump: invalid maxlen '%s' "
                          "(64-65536)", val);
            }
            f.maxlen = v;
        } else if (strcmp(item, "queue") || strcmp(val, "all")) {
            ok = fail(error, "-object filter-dump: unknown parameter '%s'",
                      item);
        }
    }
    if (ok && (!f.id || !f.netdev || !f.file)) {
        ok = fail(error, "-object filter-dump: parameter '%s' is missing",
                  !f.id ? "id" : !f.netdev ? "netdev" : "file");
    }
    for (int i = 0; ok && i < cfg->n_filters; i++) {
        if (!strcmp(cfg->filters[i].id, f.id)) {
            ok = fail(error, "-object filter-dump: duplicate id '%s'", f.id);
        }
    }
    if (ok && cfg->n_filters >= MIMIC_MAX_NICS) {
        ok = fail(error, "-object filter-dump: too many filters (at most "
                  "%d)", MIMIC_MAX_NICS);
    }
    if (ok) {
        cfg->filters[cfg->n_filters++] = f;
    } else {
        g_free(f.id);
        g_free(f.netdev);
        g_free(f.file);
    }
    g_ptr_array_free(kv, TRUE);
    return ok;
}

/* -nic TYPE[,model=M][,mac=MAC][,backend options], -nic none,
   -nic model=help */
static bool opt_nic(ParseCtx *p, const char *opt, const char *arg,
                    GError **error)
{
    MachineConfig *cfg = p->cfg;
    GPtrArray *kv = split_opts(arg);
    const char *kind = g_ptr_array_index(kv, 0);
    bool ok = true;
    if (!strcmp(kind, "none")) {
        cfg->net_none = true;
        g_ptr_array_free(kv, TRUE);
        return true;
    }
    NicConfig tmp = { 0 };
    GString *rest = g_string_new(NULL);
    guint first = 1;
    if (strchr(kind, '=')) {
        first = 0; /* "-nic model=help": no type given */
        kind = "user";
    }
    for (guint i = first; ok && i < kv->len; i++) {
        const char *item = g_ptr_array_index(kv, i);
        if (g_str_has_prefix(item, "model=")) {
            const char *val = item + 6;
            if (!strcmp(val, "help") || !strcmp(val, "?")) {
                machine_config_nic_clear(&tmp);
                g_string_free(rest, TRUE);
                g_ptr_array_free(kv, TRUE);
                return nic_model_help(p);
            }
            set_str(&tmp.model, val);
        } else if (g_str_has_prefix(item, "mac=")) {
            set_str(&tmp.macaddr, item + 4);
            ok = check_mac("-nic", item + 4, error);
        } else {
            if (rest->len) {
                g_string_append_c(rest, ',');
            }
            g_string_append(rest, item);
        }
    }
    ok = ok && check_nic_model("-nic", &tmp.model, error);
    NicConfig *n = ok ? new_nic(cfg, "-nic", error) : NULL;
    if (n) {
        g_autofree char *id = g_strdup_printf("__nic%d", cfg->n_nics);
        g_autofree char *o = g_strdup_printf("-nic %s", kind);
        ok = add_backend(p, o, kind, rest->str, id, -1, error);
        if (ok) {
            tmp.netdev = g_strdup(id);
            *n = tmp;
            cfg->n_nics++;
        }
    } else {
        ok = false;
    }
    if (!ok) {
        machine_config_nic_clear(&tmp);
    }
    g_string_free(rest, TRUE);
    g_ptr_array_free(kv, TRUE);
    return ok;
}

static bool is_nic_model(const char *driver)
{
    bool is_nic = !strcmp(driver, "e1000-82540em");
    for (int i = 0; nic_models[i]; i++) {
        is_nic |= !strcmp(driver, nic_models[i]);
    }
    for (int i = 0; nic_models_later[i]; i++) {
        is_nic |= !strcmp(driver, nic_models_later[i]);
    }
    return is_nic;
}

/* ne2k_isa's iobase (0x200-0x3e0, 32-byte aligned) and irq (3-15). */
static bool parse_isa_prop(NicConfig *n, const char *item, const char *val,
                           GError **error)
{
    long v = 0;
    if (!strcmp(item, "iobase")) {
        char *end;
        errno = 0;
        v = strtol(val, &end, 0); /* 0x300 as QEMU writes it */
        if (errno || end == val || *end || v < 0x200 || v > 0x3e0 ||
            (v & 0x1f)) {
            return fail(error, "-device ne2k_isa: invalid iobase '%s' "
                        "(0x200-0x3e0, a multiple of 0x20)", val);
        }
        n->iobase = v;
        return true;
    }
    if (!parse_int(val, 3, 15, &v) || v == 8 || v == 13 || v == 14) {
        return fail(error, "-device ne2k_isa: invalid irq '%s' (3-15, not "
                    "8, 13 or 14)", val);
    }
    n->irq = v;
    return true;
}

/* rtl8139's revision (Mimic's own property): 0x20, the default, is the
   RTL8139C+ that Linux gives to 8139cp; 0x10 an RTL8139C, which 8139too
   drives. */
static bool parse_rtl_revision(NicConfig *n, const char *val, GError **error)
{
    if (strcmp(val, "0x10") && strcmp(val, "0x20")) {
        return fail(error, "-device rtl8139: invalid revision '%s' (0x10: "
                    "RTL8139C, 0x20: RTL8139C+)", val);
    }
    n->revision = strtol(val, NULL, 16);
    return true;
}

/* -device MODEL,netdev=ID[,mac=MAC][,id=NAME] of a network card. */
static bool opt_device_nic(ParseCtx *p, const char *arg, GError **error)
{
    MachineConfig *cfg = p->cfg;
    GPtrArray *kv = split_opts(arg);
    const char *driver = g_ptr_array_index(kv, 0);
    NicConfig tmp = { 0 };
    tmp.model = g_strdup(driver);
    bool ok = true;
    for (guint i = 1; ok && i < kv->len; i++) {
        char *item = g_ptr_array_index(kv, i);
        const char *val = NULL;
        if (!split_kv(item, "-device", &val, error)) {
            ok = false;
        } else if (!strcmp(item, "netdev")) {
            set_str(&tmp.netdev, val);
        } else if (!strcmp(item, "mac")) {
            set_str(&tmp.macaddr, val);
            ok = check_mac("-device", val, error);
        } else if (!strcmp(driver, "ne2k_isa") &&
                   (!strcmp(item, "iobase") || !strcmp(item, "irq"))) {
            ok = parse_isa_prop(&tmp, item, val, error);
        } else if (!strcmp(driver, "rtl8139") && !strcmp(item, "revision")) {
            ok = parse_rtl_revision(&tmp, val, error);
        } else if (strcmp(item, "id") && strcmp(item, "bus") &&
                   strcmp(item, "addr")) {
            ok = fail(error, "-device %s: unknown property '%s'", driver,
                      item);
        }
    }
    ok = ok && check_nic_model("-device", &tmp.model, error);
    NicConfig *n = ok ? new_nic(cfg, "-device", error) : NULL;
    if (n) {
        tmp.vlan = -1;
        *n = tmp;
        cfg->n_nics++;
    } else {
        machine_config_nic_clear(&tmp);
        ok = false;
    }
    g_ptr_array_free(kv, TRUE);
    return ok;
}

/* -device: sound cards and network cards, the devices Mimic adds this
   way so far. */
static bool opt_device(ParseCtx *p, const char *opt, const char *arg,
                       GError **error)
{
    g_autofree char *driver = g_strndup(arg, strcspn(arg, ","));
    if (!strcmp(driver, "help") || !strcmp(driver, "?")) {
        g_string_append(p->out, "Sound devices:\n"
                        "name \"AC97\", bus PCI, desc \"Intel 82801AA "
                        "AC97 Audio\"\n"
                        "name \"sb16\", bus ISA, desc \"Creative Sound "
                        "Blaster 16\"\n"
                        "name \"intel-hda\", bus PCI, desc \"Intel HD "
                        "Audio Controller (ich6)\"\n"
                        "name \"hda-duplex\", bus HDA-BUS, desc \"HDA "
                        "Audio Codec, duplex (line-out, line-in)\"\n"
                        "name \"hda-output\", bus HDA-BUS, desc \"HDA "
                        "Audio Codec, output-only (line-out)\"\n"
                        "Network devices:\n");
        for (int i = 0; nic_models[i]; i++) {
            g_string_append_printf(p->out, "name \"%s\", bus %s\n",
                                   nic_models[i],
                                   strcmp(nic_models[i], "ne2k_isa") ? "PCI"
                                                                     : "ISA");
        }
        g_string_append(p->out, "USB devices:\n"
                        "name \"piix3-usb-uhci\", bus PCI\n"
                        "name \"usb-ehci\", bus PCI\n"
                        "name \"qemu-xhci\", bus PCI\n"
                        "name \"usb-kbd\", bus usb-bus\n"
                        "name \"usb-mouse\", bus usb-bus\n"
                        "name \"usb-storage\", bus usb-bus\n"
                        "name \"usb-tablet\", bus usb-bus\n");
        *p->result = MIMIC_PARSE_EXIT;
        return true;
    }
    /* Intel HDA: the controller, then its codec with the audiodev. */
    if (!strcmp(driver, "intel-hda")) {
        p->intel_hda = true;
        return true;
    }
    if (!strcmp(driver, "hda-duplex") || !strcmp(driver, "hda-output")) {
        if (!p->intel_hda) {
            return fail(error, "-device %s: no HDA bus (give -device "
                        "intel-hda first)", driver);
        }
        g_autofree char *as = g_strconcat(
            !strcmp(driver, "hda-duplex") ? "hda" : "hda-output",
            arg + strlen(driver), NULL);
        return opt_device_sound(p, as, error);
    }
    int k = sound_card_find(driver);
    if (k >= 0 && strcmp(sound_cards[k].name, "pcspk") &&
        !g_str_has_prefix(sound_cards[k].name, "hda")) {
        return opt_device_sound(p, arg, error);
    }
    if (is_nic_model(driver)) {
        return opt_device_nic(p, arg, error);
    }
    if (is_usb_device(driver)) {
        return opt_device_usb(p, driver, arg, error);
    }
    return fail(error, "-device: unknown device '%s' (not a supported "
                "device: try -device help)", driver);
}

static bool opt_nographic(ParseCtx *p, const char *opt, const char *arg,
                          GError **error)
{
    p->nographic = true;
    p->cfg->display = DISPLAY_NOGRAPHIC;
    return true;
}

static bool opt_display(ParseCtx *p, const char *opt, const char *arg,
                        GError **error)
{
    g_autofree char *kind = g_strndup(arg, strcspn(arg, ","));
    if (!strcmp(kind, "gtk")) {
        p->cfg->display = DISPLAY_GTK;
    } else if (!strcmp(kind, "none")) {
        p->cfg->display = DISPLAY_NONE;
    } else if (!strcmp(kind, "help")) {
        g_string_append(p->out, "Available display backend types:\n"
                        "none\ngtk\n");
        *p->result = MIMIC_PARSE_EXIT;
    } else {
        return fail(error, "-display: '%s' is not available (gtk, none)",
                    kind);
    }
    p->display_set = true;
    return true;
}

static bool opt_full_screen(ParseCtx *p, const char *opt, const char *arg,
                            GError **error)
{
    p->cfg->full_screen = true;
    return true;
}

static bool opt_vga(ParseCtx *p, const char *opt, const char *arg,
                    GError **error)
{
    if (!strcmp(arg, "std")) {
        return true;
    }
    return fail(error, "-vga: '%s' is not available (only std is emulated)",
                arg);
}

static bool validate_chardev(const char *opt, const char *spec,
                             GError **error)
{
    static const char *const kinds[] = {
        "stdio", "null", "none", "pty", "vc", "file:", "unix:", "tcp:",
        "mon:stdio", "mon:",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
        size_t n = strlen(kinds[i]);
        if (kinds[i][n - 1] == ':' ? !strncmp(spec, kinds[i], n) && spec[n]
                                   : !strcmp(spec, kinds[i])) {
            return true;
        }
    }
    return fail(error, "%s: unknown character device '%s' (stdio, null, "
                "pty, vc, file:PATH, unix:PATH, tcp:HOST:PORT, mon:stdio)",
                opt, spec);
}

static bool opt_serial(ParseCtx *p, const char *opt, const char *arg,
                       GError **error)
{
    MachineConfig *cfg = p->cfg;
    if (!validate_chardev("-serial", arg, error)) {
        return false;
    }
    if (!p->serial_set) {
        for (int i = 0; i < MIMIC_MAX_SERIAL; i++) {
            g_clear_pointer(&cfg->serial[i], g_free);
        }
        cfg->n_serial = 0;
        p->serial_set = true;
    }
    if (cfg->n_serial >= MIMIC_MAX_SERIAL) {
        return fail(error, "-serial: at most %d serial ports",
                    MIMIC_MAX_SERIAL);
    }
    cfg->serial[cfg->n_serial++] = g_strdup(arg);
    return true;
}

static bool opt_monitor(ParseCtx *p, const char *opt, const char *arg,
                        GError **error)
{
    if (!validate_chardev("-monitor", arg, error)) {
        return false;
    }
    return set_str(&p->cfg->monitor, arg);
}

static bool opt_qmp(ParseCtx *p, const char *opt, const char *arg,
                    GError **error)
{
    if (!validate_chardev("-qmp", arg, error)) {
        return false;
    }
    return set_str(&p->cfg->qmp, arg);
}

static bool opt_name(ParseCtx *p, const char *opt, const char *arg,
                     GError **error)
{
    const char *v = g_str_has_prefix(arg, "guest=") ? arg + 6 : arg;
    return set_str(&p->cfg->name, v);
}

static bool opt_snapshot(ParseCtx *p, const char *opt, const char *arg,
                         GError **error)
{
    p->cfg->snapshot = true;
    return true;
}

static bool opt_icount(ParseCtx *p, const char *opt, const char *arg,
                       GError **error)
{
    const char *v = g_str_has_prefix(arg, "shift=") ? arg + 6 : arg;
    g_autofree char *s = g_strndup(v, strcspn(v, ","));
    long n;
    if (!strcmp(s, "auto")) {
        n = 3;
    } else if (!parse_int(s, 0, 10, &n)) {
        return fail(error, "-icount: invalid shift '%s' (0-10)", s);
    }
    p->cfg->icount_shift = n;
    return true;
}

/* Queue an accelerator; how: the option, for the message. */
static bool set_accel(ParseCtx *p, const char *name, const char *how,
                      GError **error)
{
    AccelKind k;
    if (!strcmp(name, "tcg")) {
        k = ACCEL_TCG;
    } else if (!strcmp(name, "jit")) {
        k = ACCEL_JIT;
    } else if (!strcmp(name, "interp")) {
        k = ACCEL_INTERP;
    } else if (!strcmp(name, "kvm")) {
        k = ACCEL_KVM;
        if (!p->kvm_opt[0]) {
            g_strlcpy(p->kvm_opt, how, sizeof(p->kvm_opt));
        }
    } else if (!strcmp(name, "help")) {
        g_string_append(p->out, "Accelerators supported in Mimic:\ntcg\n"
                        "kvm\njit\ninterp\n");
        *p->result = MIMIC_PARSE_EXIT;
        return true;
    } else {
        return fail(error, "-accel: unknown accelerator '%s' (tcg, kvm, jit, "
                    "interp)",
                    name);
    }
    if (p->n_accels < (int)G_N_ELEMENTS(p->accels)) {
        p->accels[p->n_accels++] = k;
    }
    return true;
}

/* Mimic has no KVM back end: the CPU is always emulated.  Asked for KVM
   alone it refuses, as QEMU does where KVM cannot be used; with a later
   tcg in the list it falls back, as QEMU does. */
static bool choose_accel(ParseCtx *p, GError **error)
{
    for (int i = 0; i < p->n_accels; i++) {
        if (p->accels[i] != ACCEL_KVM) {
            if (i > 0) {
                warn("%s: KVM is not available (Mimic has no KVM support); "
                     "falling back to tcg", p->kvm_opt);
            }
            p->cfg->accel = p->accels[i];
            return true;
        }
    }
    if (p->n_accels) {
        return fail(error, "%s: KVM is not available (Mimic has no KVM "
                    "support; add -accel tcg to fall back to emulation)",
                    p->kvm_opt);
    }
    p->cfg->accel = ACCEL_TCG;
    return true;
}

static bool opt_accel(ParseCtx *p, const char *opt, const char *arg,
                      GError **error)
{
    g_autofree char *a = g_strndup(arg, strcspn(arg, ","));
    g_autofree char *how = g_strconcat("-accel ", a, NULL);
    return set_accel(p, a, how, error);
}

static bool opt_enable_kvm(ParseCtx *p, const char *opt, const char *arg,
                           GError **error)
{
    return set_accel(p, "kvm", "-enable-kvm", error);
}

static bool opt_machine(ParseCtx *p, const char *opt, const char *arg,
                        GError **error)
{
    gchar **items = g_strsplit(arg, ",", -1);
    g_autofree char *m = NULL;
    bool ok = true;
    for (int i = 0; ok && items[i]; i++) {
        const char *it = items[i];
        if (i == 0 && !strchr(it, '=')) {
            m = g_strdup(it);
        } else if (g_str_has_prefix(it, "type=")) {
            g_free(m);
            m = g_strdup(it + 5);
        } else if (g_str_has_prefix(it, "accel=")) {
            gchar **names = g_strsplit(it + 6, ":", -1);
            for (int k = 0; ok && names[k]; k++) {
                g_autofree char *how = g_strconcat("-machine accel=",
                                                   names[k], NULL);
                ok = set_accel(p, names[k], how, error);
            }
            g_strfreev(names);
        } else if (g_str_has_prefix(it, "apic=") ||
                   g_str_has_prefix(it, "hpet=")) {
            const char *v = strchr(it, '=') + 1;
            bool on = !strcmp(v, "on") || !strcmp(v, "true");
            if (!on && strcmp(v, "off") && strcmp(v, "false")) {
                ok = fail(error, "-machine %s: expected on or off", it);
            } else if (it[0] == 'a') {
                p->cfg->no_apic = !on;
            } else {
                p->cfg->no_hpet = !on;
            }
        }
        /* other properties: accepted, as before */
    }
    g_strfreev(items);
    if (!ok) {
        return false;
    }
    if (!m) {
        return true; /* -machine accel=...: the default type */
    }
    if (!strcmp(m, "help") || !strcmp(m, "?")) {
        g_string_append(p->out, "Supported machines are:\npc      Standard "
                        "PC (i440FX + PIIX, 1996) (default)\n");
        *p->result = MIMIC_PARSE_EXIT;
        return true;
    }
    if (strcmp(m, "pc") && !g_str_has_prefix(m, "pc-i440fx")) {
        return fail(error, "-machine: unknown machine type '%s' (try "
                    "-machine help)", m);
    }
    return set_str(&p->cfg->machine_type, "pc");
}

/*
 * CPU models (-cpu NAME[,+FEATURE|-FEATURE|FEATURE=on|off...]): the x86
 * core's models (src/arch/x86/cpu.c, x86_models).  The engine does not
 * see the arch layer, so the names are listed here too; qemu32 and
 * pentiumpro are pentium2, x86_64 is qemu64.  A feature flag is accepted
 * only when it asks for what the model already is: there is no CPUID
 * editing, so a bit the CPU does not honour can never be claimed.
 */
typedef struct CpuModelInfo {
    const char *name, *model, *description;
    const char *features; /* " lm nx syscall " style, spaces around */
} CpuModelInfo;

static const CpuModelInfo cpu_models[] = {
    { "pentium2", "pentium2", "Intel Pentium II (P6 family, x87, MMX); the "
      "default of mimic", " fpu vme de pse tsc msr pae cx8 sep mtrr pge cmov mmx "
      "fxsr " },
    { "qemu32", "pentium2", "alias of pentium2", NULL },
    { "pentiumpro", "pentium2", "alias of pentium2", NULL },
    /* The SSE family (src/arch/x86/exec_sse.c, docs/x86.md "SSE"). */
    { "pentium3", "pentium3", "Intel Pentium III (pentium2 with SSE)",
      " fpu vme de pse tsc msr pae cx8 sep mtrr pge cmov mmx fxsr sse " },
    { "pentium4", "pentium4", "Intel Pentium 4 (SSE, SSE2)",
      " fpu vme de pse tsc msr pae cx8 sep mtrr pge cmov mmx fxsr sse sse2 "
      "clflush " },
    { "Nehalem", "Nehalem", "Intel Core i7 class x86-64 (SSE to SSE4.2, "
      "POPCNT)", " fpu vme de pse tsc msr pae cx8 sep mtrr pge cmov mmx "
      "fxsr sse sse2 clflush pni sse3 ssse3 sse4.1 sse4_1 sse4.2 sse4_2 "
      "popcnt nx syscall lahf_lm " },
    { "qemu64", "qemu64", "x86-64 in progress: long mode runs an integer "
      "subset, CPUID has no LM bit yet; SSE to SSE3; the default of "
      "mimic-system-x86_64", " fpu vme de pse tsc msr pae cx8 sep mtrr "
      "pge cmov mmx fxsr sse sse2 clflush pni sse3 nx syscall lahf_lm " },
    { "x86_64", "qemu64", "alias of qemu64", NULL },
    { "max", "max", "all features the core implements (Nehalem, XSAVE, "
      "1 GiB pages, RDTSCP, FSGSBASE)", " fpu vme de pse tsc msr pae cx8 "
      "sep mtrr pge cmov mmx fxsr sse sse2 clflush pni sse3 ssse3 sse4.1 "
      "sse4_1 sse4.2 sse4_2 popcnt xsave nx syscall lahf_lm pdpe1gb rdtscp "
      "fsgsbase " },
};

static const CpuModelInfo *cpu_model_info(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cpu_models); i++) {
        if (!strcmp(cpu_models[i].name, name)) {
            const CpuModelInfo *m = &cpu_models[i];
            /* An alias: the features of the model it names. */
            for (size_t j = 0; !m->features && j < G_N_ELEMENTS(cpu_models);
                 j++) {
                if (!strcmp(cpu_models[j].name, m->model)) {
                    m = &cpu_models[j];
                }
            }
            return m;
        }
    }
    return NULL;
}

static bool opt_cpu(ParseCtx *p, const char *opt, const char *arg,
                    GError **error)
{
    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        g_string_append(p->out, "Available CPUs:\n");
        for (size_t i = 0; i < G_N_ELEMENTS(cpu_models); i++) {
            g_string_append_printf(p->out, "x86 %-12s %s\n",
                                   cpu_models[i].name,
                                   cpu_models[i].description);
        }
        *p->result = MIMIC_PARSE_EXIT;
        return true;
    }
    g_auto(GStrv) parts = g_strsplit(arg, ",", -1);
    const CpuModelInfo *m = cpu_model_info(parts[0]);
    if (!m) {
        return fail(error, "-cpu: unknown CPU model '%s' (try -cpu help)",
                    parts[0]);
    }
    for (int i = 1; parts[i]; i++) {
        const char *f = parts[i];
        bool on = true;
        g_autofree char *name = NULL;
        if (f[0] == '+' || f[0] == '-') {
            on = f[0] == '+';
            name = g_strdup(f + 1);
        } else {
            const char *eq = strchr(f, '=');
            if (!eq || (strcmp(eq + 1, "on") && strcmp(eq + 1, "off"))) {
                return fail(error, "-cpu: unsupported property '%s' (only "
                            "+FEATURE, -FEATURE, FEATURE=on|off)", f);
            }
            on = !strcmp(eq + 1, "on");
            name = g_strndup(f, eq - f);
        }
        g_autofree char *key = g_strdup_printf(" %s ", name);
        bool has = strstr(m->features, key) != NULL;
        if (on && !has) {
            return fail(error, "-cpu: feature '%s' is not implemented by "
                        "CPU model %s", name, m->name);
        }
        if (!on && has) {
            return fail(error, "-cpu: feature '%s' cannot be removed from "
                        "CPU model %s", name, m->name);
        }
    }
    return set_str(&p->cfg->cpu_model, m->model);
}

static bool opt_smp(ParseCtx *p, const char *opt, const char *arg,
                    GError **error)
{
    long n;
    g_autofree char *s = g_strndup(arg, strcspn(arg, ","));
    const char *v = g_str_has_prefix(s, "cpus=") ? s + 5 : s;
    if (!parse_int(v, 1, 1, &n)) {
        return fail(error, "-smp: invalid CPU count '%s' (Mimic emulates one "
                    "CPU)", arg);
    }
    p->cfg->smp = n;
    return true;
}

static bool opt_kernel(ParseCtx *p, const char *opt, const char *arg,
                       GError **error)
{
    g_autofree char *o = g_strconcat("-", opt, NULL);
    /* A Multiboot kernel's -initrd is a list of "module args" separated
       by commas: the board's loader checks each module. */
    bool module_list = !strcmp(opt, "initrd") && strpbrk(arg, ", ") &&
                       !g_file_test(arg, G_FILE_TEST_EXISTS);
    if (!module_list && !check_file(o, arg, error)) {
        return false;
    }
    return set_str(!strcmp(opt, "kernel") ? &p->cfg->kernel
                                          : &p->cfg->initrd, arg);
}

static bool opt_append(ParseCtx *p, const char *opt, const char *arg,
                       GError **error)
{
    return set_str(&p->cfg->append, arg);
}

static bool opt_flag(ParseCtx *p, const char *opt, const char *arg,
                     GError **error)
{
    MachineConfig *cfg = p->cfg;
    if (!strcmp(opt, "no-reboot")) {
        cfg->no_reboot = true;
    } else if (!strcmp(opt, "no-shutdown")) {
        cfg->no_shutdown = true;
    } else if (!strcmp(opt, "S")) {
        cfg->start_paused = true;
    }
    return true;
}

static bool opt_incoming(ParseCtx *p, const char *opt, const char *arg,
                         GError **error)
{
    if (!strcmp(opt, "loadvm")) {
        if (!*arg) {
            return fail(error, "-loadvm: missing snapshot name");
        }
        return set_str(&p->cfg->loadvm, arg);
    }
    if (!g_str_has_prefix(arg, "file:") && !g_str_has_prefix(arg, "exec:")) {
        return fail(error, "-incoming: unsupported URI '%s' (use file:PATH "
                    "or exec:COMMAND)", arg);
    }
    return set_str(&p->cfg->incoming, arg);
}

static bool opt_incoming_force(ParseCtx *p, const char *opt,
                               const char *arg, GError **error)
{
    p->cfg->incoming_force = true;
    return true;
}

static bool opt_d(ParseCtx *p, const char *opt, const char *arg,
                  GError **error)
{
    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        mimic_log_help(p->out);
        *p->result = MIMIC_PARSE_EXIT;
        return true;
    }
    uint32_t mask;
    if (!mimic_log_parse(arg, &mask, error)) {
        return false;
    }
    return set_str(&p->cfg->log_items, arg);
}

static bool opt_D(ParseCtx *p, const char *opt, const char *arg,
                  GError **error)
{
    return set_str(&p->cfg->log_file, arg);
}

static bool opt_version(ParseCtx *p, const char *opt, const char *arg,
                        GError **error)
{
    g_string_append_printf(p->out, "Mimic emulator version %s\n"
                           "Copyright (c) the Mimic developers; "
                           "GPL-2.0-or-later\n", MIMIC_VERSION);
    *p->result = MIMIC_PARSE_EXIT;
    return true;
}

static bool opt_help(ParseCtx *p, const char *opt, const char *arg,
                     GError **error);

static const Option options[] = {
    { "hda", true, opt_legacy_drive, "FILE  primary master IDE disk" },
    { "hdb", true, opt_legacy_drive, "FILE  primary slave IDE disk" },
    { "hdc", true, opt_legacy_drive, "FILE  secondary master IDE disk" },
    { "hdd", true, opt_legacy_drive, "FILE  secondary slave IDE disk" },
    { "cdrom", true, opt_legacy_drive, "FILE  CD-ROM image (secondary master)" },
    { "fda", true, opt_legacy_drive, "FILE  first floppy image" },
    { "fdb", true, opt_legacy_drive, "FILE  second floppy image" },
    { "drive", true, opt_drive,
      "file=,format=,if=ide|floppy,index=,media=disk|cdrom,snapshot=on|off" },
    { "boot", true, opt_boot, "[order=]DRIVES[,once=,menu=on|off]  a c d n" },
    { "m", true, opt_m, "SIZE  RAM size (MiB, or with K/M/G suffix)" },
    { "L", true, opt_L, "DIR  look for firmware in DIR first" },
    { "bios", true, opt_bios, "FILE  BIOS image" },
    { "localtime", false, opt_localtime, " RTC in local time" },
    { "rtc", true, opt_rtc, "base=utc|localtime|DATE[,clock=,driftfix=]" },
    { "full-screen", false, opt_full_screen, " start in full screen" },
    { "soundhw", true, opt_soundhw, "CARDS  sound cards (help lists)" },
    { "enable-audio", false, opt_enable_audio, " (legacy) all sound cards" },
    { "audiodev", true, opt_audiodev, "pa|wav|none,id=ID[,path=F][,server=S]"
      "[,in.path=WAV]  audio backend (in.path: what the guest records)" },
    { "audio", true, opt_audio, "pa|wav|none[,model=CARD]  backend and card" },
    { "device", true, opt_device,
      "sb16|AC97|intel-hda|hda-duplex|hda-output[,audiodev=ID] | "
      "e1000,netdev=ID[,mac=] | usb-tablet|usb-mouse|usb-kbd|"
      "usb-storage,drive=ID[,port=N][,bootindex=N] | piix3-usb-uhci | "
      "usb-ehci[,id=ID] | qemu-xhci[,id=ID]  "
      "add a device "
      "(help lists)" },
    { "usb", false, opt_usb, " USB controller" },
    { "no-hpet", false, opt_no_hpet, " no HPET (as -machine hpet=off)" },
    { "usbdevice", true, opt_usbdevice, "NAME  USB device (help lists)" },
    { "net", true, opt_net, "nic[,model=,macaddr=]|user[,...]|none  "
      "network card / back end on a hub" },
    { "nic", true, opt_nic, "user[,model=,mac=,hostfwd=...]|none  network "
      "card with its back end" },
    { "object", true, opt_object, "filter-dump,id=ID,netdev=ID,file=PATH"
      "[,maxlen=N]  capture a back end's frames into a pcap file" },
    { "netdev", true, opt_netdev, "user,id=ID[,hostfwd=,restrict=,...]  "
      "network back end" },
    { "nographic", false, opt_nographic,
      " no window; serial port and monitor on the terminal" },
    { "display", true, opt_display, "gtk|none  display" },
    { "vga", true, opt_vga, "std  graphics card" },
    { "serial", true, opt_serial, "DEV  serial port (stdio, pty, file:, "
      "unix:, tcp:, null)" },
    { "monitor", true, opt_monitor, "DEV  human monitor" },
    { "qmp", true, opt_qmp, "DEV  JSON control protocol" },
    { "name", true, opt_name, "NAME  machine name" },
    { "snapshot", false, opt_snapshot, " write to temporary overlays" },
    { "icount", true, opt_icount, "SHIFT  deterministic time: 2^SHIFT ns per "
      "instruction" },
    { "accel", true, opt_accel, "tcg|jit|interp|kvm  accelerator" },
    { "enable-kvm", false, opt_enable_kvm, " same as -accel kvm" },
    { "machine", true, opt_machine, "pc|help  machine type" },
    { "M", true, opt_machine, NULL },
    { "cpu", true, opt_cpu, "MODEL|help  CPU model" },
    { "smp", true, opt_smp, "1  CPU count" },
    { "kernel", true, opt_kernel, "FILE  Linux kernel (bzImage)" },
    { "initrd", true, opt_kernel, "FILE  initial ram disk" },
    { "append", true, opt_append, "CMDLINE  kernel command line" },
    { "no-reboot", false, opt_flag, " exit instead of rebooting" },
    { "no-shutdown", false, opt_flag, " stop instead of exiting on "
      "power-off" },
    { "S", false, opt_flag, " start paused" },
    { "incoming", true, opt_incoming, "URI  resume from a saved state" },
    { "incoming-force", false, opt_incoming_force,
      " resume even if the disks changed since the save" },
    { "loadvm", true, opt_incoming, "NAME  start from a snapshot" },
    { "clock", true, opt_clock, "dynticks  (legacy, accepted)" },
    { "rtc-td-hack", false, opt_rtc_td_hack, " (legacy) -rtc driftfix=slew" },
    { "d", true, opt_d, "ITEMS  log items (help lists)" },
    { "D", true, opt_D, "FILE  log file" },
    { "version", false, opt_version, " print the version" },
    { "h", false, opt_help, " this help" },
    { "help", false, opt_help, NULL },
};

static bool opt_help(ParseCtx *p, const char *opt, const char *arg,
                     GError **error)
{
    g_string_append(p->out,
        "usage: mimic [options] [disk_image]\n\n"
        "Mimic, a PC emulator. Options follow QEMU's spelling:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        if (options[i].help) {
            g_string_append_printf(p->out, "  -%s%s%s\n", options[i].name,
                                   options[i].has_arg ? " " : "",
                                   options[i].help);
        }
    }
    *p->result = MIMIC_PARSE_EXIT;
    return true;
}

bool mimic_parse_args(int argc, char **argv, MachineConfig *cfg,
                      MimicParseResult *result, GString *out, GError **error)
{
    ParseCtx p = { .cfg = cfg, .out = out, .result = result };
    *result = MIMIC_PARSE_OK;
    /* Run as mimic-system-x86_64 (a link to mimic): a 64-bit CPU by
       default, as qemu-system-x86_64; -cpu still picks any model. */
    if (argc > 0 && argv[0] && g_str_has_suffix(argv[0], "x86_64")) {
        set_str(&cfg->cpu_model, "qemu64");
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            /* A bare argument is the first hard disk, as in QEMU. */
            if (!opt_legacy_drive(&p, "hda", a, error)) {
                return false;
            }
            continue;
        }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const Option *o = NULL;
        for (size_t k = 0; k < G_N_ELEMENTS(options); k++) {
            if (!strcmp(options[k].name, name)) {
                o = &options[k];
                break;
            }
        }
        if (!o) {
            return fail(error, "%s: invalid option", a);
        }
        const char *arg = NULL;
        if (o->has_arg) {
            if (i + 1 >= argc) {
                return fail(error, "%s: requires an argument", a);
            }
            arg = argv[++i];
        }
        if (!o->fn(&p, name, arg, error)) {
            return false;
        }
        if (*result == MIMIC_PARSE_EXIT) {
            return true;
        }
    }
    if (p.intel_hda) {
        bool codec = false;
        for (int k = 0; k < cfg->n_soundhw; k++) {
            codec |= g_str_has_prefix(cfg->soundhw[k], "hda");
        }
        if (!codec) {
            warn("-device intel-hda: no codec (add -device hda-duplex or "
                 "hda-output); the machine runs without it");
        }
    }
    if (p.nographic) {
        /* QEMU: serial port and monitor multiplexed on the terminal. */
        if (!p.serial_set) {
            g_free(cfg->serial[0]);
            cfg->serial[0] = g_strdup("mon:stdio");
        }
        if (p.display_set) {
            return fail(error, "-nographic cannot be used with -display");
        }
    } else if (!p.serial_set && (cfg->display == DISPLAY_NONE)) {
        g_free(cfg->serial[0]);
        cfg->serial[0] = g_strdup("null");
    }
    if (!check_audio(cfg, error)) {
        return false;
    }
    if (cfg->monitor && !strcmp(cfg->monitor, "stdio") && cfg->serial[0] &&
        (!strcmp(cfg->serial[0], "stdio") ||
         !strcmp(cfg->serial[0], "mon:stdio"))) {
        return fail(error, "-monitor stdio: stdio is already used by the "
                    "serial port");
    }
    /* QEMU's words. */
    if (!cfg->kernel && cfg->append) {
        return fail(error, "-append only allowed with -kernel option");
    }
    if (!cfg->kernel && cfg->initrd) {
        return fail(error, "-initrd only allowed with -kernel option");
    }
    return check_shared_images(&p, error) && choose_accel(&p, error);
}

/* ---- the emulated device lists, for the GUI (mimic.h) ---- */

const char *const *mimic_nic_models(void)
{
    return nic_models;
}

const char *const *mimic_sound_cards(void)
{
    static const char *names[G_N_ELEMENTS(sound_cards) + 1];
    static gsize done;
    if (g_once_init_enter(&done)) {
        size_t n = 0;
        for (size_t i = 0; i < G_N_ELEMENTS(sound_cards); i++) {
            if (sound_cards[i].emulated) {
                names[n++] = sound_cards[i].name;
            }
        }
        names[n] = NULL;
        g_once_init_leave(&done, 1);
    }
    return names;
}

const char *mimic_sound_card_description(const char *name)
{
    int k = name ? sound_card_find(name) : -1;
    return k >= 0 ? sound_cards[k].desc : NULL;
}
