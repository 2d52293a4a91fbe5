/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Machine files <-> MachineConfig, OS presets, the library directory.
 *
 * A machine file is a GKeyFile (the freedesktop "Desktop Entry" syntax,
 * https://specifications.freedesktop.org/desktop-entry-spec/) written with
 * g_file_set_contents(), so a crash leaves the old file or the new one,
 * never half of one.  Reading is strict: an unknown group or key, a number
 * out of range or a word we do not know rejects the whole file with a
 * message naming it; the library then lists the other machines as usual.
 */
#include "gui/machine_file.h"
#include "engine/mimic.h"

#include <string.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

G_DEFINE_QUARK(mimic-machine-file-error-quark, mimic_machine_file_error)

#define GROUP_MACHINE "Machine"
#define GROUP_DRIVES "Drives"
#define MIB (1024ull * 1024ull)
#define MEMORY_MIN_MIB 1
#define MEMORY_MAX_MIB 65536
#define CPUS_MAX 16

/*
 * What each system has drivers for, best first: Linux takes HDA and
 * virtio-net; DOS and Windows 9x the Sound Blaster and the NE2000; the
 * e1000 last, as the board's default that every preset may fall back to.
 * Linux and Windows 2000/XP drive a USB tablet (usbhid, hidusb.sys), so
 * their pointer follows the host's with no grab.
 */
static const MimicPreset presets[MIMIC_OS_COUNT] = {
    [MIMIC_OS_LINUX] = { MIMIC_OS_LINUX, "linux", "Linux", 512, 8192,
                         "hda,ac97", "virtio-net-pci,e1000", "pentium2",
                         true },
    [MIMIC_OS_DOS] = { MIMIC_OS_DOS, "dos", "DOS / FreeDOS", 32, 512,
                       "sb16", "ne2k_pci,ne2k_isa,rtl8139,e1000",
                       "pentium2" },
    [MIMIC_OS_WIN9X] = { MIMIC_OS_WIN9X, "win9x", "Windows 95/98", 64, 2048,
                         "sb16", "ne2k_pci,rtl8139,e1000", "pentium2" },
    [MIMIC_OS_WINNT] = { MIMIC_OS_WINNT, "winnt", "Windows 2000/XP", 512,
                         10240, "ac97,sb16", "rtl8139,e1000", "pentium2",
                         true },
    [MIMIC_OS_OTHER] = { MIMIC_OS_OTHER, "other", "Other", 128, 2048,
                         NULL, "ne2k_pci,rtl8139,e1000", "pentium2" },
};

/* Names a machine file may hold (QEMU's); the engine may emulate fewer. */
static const char *const sound_cards[] = { "sb16", "ac97", "es1370",
                                           "adlib", "pcspk", "hda", NULL };
static const char *const nic_models[] = { "ne2k_pci", "e1000", "rtl8139",
                                          "pcnet", "ne2k_isa",
                                          "virtio-net-pci", NULL };
static const char *const formats[] = { "qcow2", "qcow", "raw", NULL };
/* Hard disk keys and their IDE index (bus * 2 + unit); index 2 is cdrom. */
static const struct {
    const char *key;
    int index;
} disk_keys[] = { { "hda", 0 }, { "hdb", 1 }, { "hdd", 3 } };

static const char *const machine_keys[] = {
    "name", "os", "memory", "cpus", "cpu", "boot", "sound", "nic", "net",
    "port-forwards", "usb", "tablet", "full-screen", "rtc-localtime", NULL };
static const char *const drive_keys[] = {
    "hda", "hda-format", "hdb", "hdb-format", "hdd", "hdd-format", "cdrom",
    "fda", "fdb", NULL };

const MimicPreset *mimic_preset_get(MimicOsType os)
{
    if ((unsigned)os >= MIMIC_OS_COUNT) {
        return &presets[MIMIC_OS_OTHER];
    }
    return &presets[os];
}

const MimicPreset *mimic_preset_find(const char *id)
{
    for (int i = 0; i < MIMIC_OS_COUNT; i++) {
        if (!g_strcmp0(presets[i].id, id)) {
            return &presets[i];
        }
    }
    return NULL;
}

static bool in_list(const char *const *list, const char *word)
{
    return word && g_strv_contains(list, word);
}

/* The first name of a comma-separated preference list in `have`. */
static const char *first_emulated(const char *prefs,
                                  const char *const *have)
{
    if (!prefs) {
        return NULL;
    }
    g_auto(GStrv) want = g_strsplit(prefs, ",", -1);
    for (int i = 0; want[i]; i++) {
        for (int k = 0; have[k]; k++) {
            if (!strcmp(want[i], have[k])) {
                return have[k];
            }
        }
    }
    return NULL;
}

const char *mimic_preset_sound(const MimicPreset *p)
{
    return first_emulated(p->sound, mimic_sound_cards());
}

const char *mimic_preset_nic(const MimicPreset *p)
{
    return first_emulated(p->nic, mimic_nic_models());
}

bool mimic_port_forward_valid(const char *rule, GError **error)
{
    g_autoptr(GRegex) re = g_regex_new(
        "^(tcp|udp):([0-9.]*):([0-9]{1,5})-([0-9.]*):([0-9]{1,5})$", 0, 0,
        NULL);
    g_autoptr(GMatchInfo) mi = NULL;
    bool ok = rule && g_regex_match(re, rule, 0, &mi);
    for (int i = 3; ok && i <= 5; i += 2) {
        g_autofree char *port = g_match_info_fetch(mi, i);
        unsigned long v = strtoul(port, NULL, 10);
        ok = v >= 1 && v <= 65535;
    }
    if (!ok) {
        g_set_error(error, MIMIC_MACHINE_FILE_ERROR,
                    MIMIC_MACHINE_FILE_ERROR_INVALID,
                    "port forward \"%s\": expected "
                    "tcp|udp:[host address]:host port-[guest address]:guest "
                    "port, e.g. tcp::2222-:22", rule ? rule : "");
    }
    return ok;
}

char **mimic_machine_port_forwards(const MachineConfig *cfg)
{
    GPtrArray *out = g_ptr_array_new();
    const char *opts = cfg->n_netdevs > 0 ? cfg->netdevs[0].options : NULL;
    g_auto(GStrv) parts = g_strsplit(opts ? opts : "", ",", -1);
    for (int i = 0; parts[i]; i++) {
        if (g_str_has_prefix(parts[i], "hostfwd=")) {
            g_ptr_array_add(out, g_strdup(parts[i] + 8));
        }
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

bool mimic_machine_set_port_forwards(MachineConfig *cfg,
                                     const char *const *rules, GError **error)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; rules && rules[i]; i++) {
        if (!mimic_port_forward_valid(rules[i], error)) {
            g_string_free(s, TRUE);
            return false;
        }
        g_string_append_printf(s, "%shostfwd=%s", s->len ? "," : "",
                               rules[i]);
    }
    if (cfg->n_netdevs > 0) {
        g_free(cfg->netdevs[0].options);
        cfg->netdevs[0].options = s->len ? g_string_free(s, FALSE) : NULL;
        if (!cfg->netdevs[0].options) {
            g_string_free(s, TRUE);
        }
    } else {
        g_string_free(s, TRUE);
    }
    return true;
}

bool mimic_machine_name_valid(const char *name, GError **error)
{
    if (!name || !*name) {
        g_set_error(error, MIMIC_MACHINE_FILE_ERROR,
                    MIMIC_MACHINE_FILE_ERROR_INVALID,
                    "the machine needs a name");
        return false;
    }
    if (!g_utf8_validate(name, -1, NULL)) {
        g_set_error(error, MIMIC_MACHINE_FILE_ERROR,
                    MIMIC_MACHINE_FILE_ERROR_INVALID,
                    "the name is not valid UTF-8");
        return false;
    }
    if (g_utf8_strlen(name, -1) > 64) {
        g_set_error(error, MIMIC_MACHINE_FILE_ERROR,
                    MIMIC_MACHINE_FILE_ERROR_INVALID,
                    "the name \"%s\" is longer than 64 characters", name);
        return false;
    }
    /*
     * Letters and digits of any script (the name is also the machine
     * file's name, which takes UTF-8 as it is); of the rest only a few
     * marks, so no '/', control character or shell surprise gets in.
     */
    for (const char *p = name; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        bool ok = c < 0x80 ? g_ascii_isalnum(c) || strchr(" ._-+()", c)
                           : g_unichar_isalnum(c) || g_unichar_ismark(c);
        if (!ok || c == 0) {
            g_set_error(error, MIMIC_MACHINE_FILE_ERROR,
                        MIMIC_MACHINE_FILE_ERROR_INVALID,
                        "the name \"%s\" may hold only letters, digits, "
                        "spaces and . _ - + ( )", name);
            return false;
        }
    }
    if (name[0] == '.' || name[0] == ' ') {
        g_set_error(error, MIMIC_MACHINE_FILE_ERROR,
                    MIMIC_MACHINE_FILE_ERROR_INVALID,
                    "the name \"%s\" may not start with a dot or a space",
                    name);
        return false;
    }
    return true;
}

MimicMachineFile *mimic_machine_file_new(const char *name, MimicOsType os)
{
    MimicMachineFile *mf = g_new0(MimicMachineFile, 1);
    mf->cfg = g_new0(MachineConfig, 1);
    machine_config_init(mf->cfg);
    g_free(mf->cfg->name);
    mf->cfg->name = g_strdup(name);
    mimic_machine_file_apply_preset(mf, os);
    return mf;
}

void mimic_machine_file_free(MimicMachineFile *mf)
{
    if (!mf) {
        return;
    }
    machine_config_free(mf->cfg);
    g_free(mf);
}

static void clear_sound(MachineConfig *cfg)
{
    for (int i = 0; i < cfg->n_soundhw; i++) {
        g_clear_pointer(&cfg->soundhw[i], g_free);
    }
    cfg->n_soundhw = 0;
}

static void clear_net(MachineConfig *cfg)
{
    for (int i = 0; i < cfg->n_nics; i++) {
        g_clear_pointer(&cfg->nics[i].model, g_free);
        g_clear_pointer(&cfg->nics[i].macaddr, g_free);
    }
    for (int i = 0; i < cfg->n_netdevs; i++) {
        g_clear_pointer(&cfg->netdevs[i].kind, g_free);
        g_clear_pointer(&cfg->netdevs[i].options, g_free);
    }
    cfg->n_nics = 0;
    cfg->n_netdevs = 0;
    cfg->net_none = false;
}

static void set_nic(MachineConfig *cfg, const char *model)
{
    clear_net(cfg);
    if (!model) {
        cfg->net_none = true;
        return;
    }
    cfg->nics[0].model = g_strdup(model);
    cfg->n_nics = 1;
    cfg->netdevs[0].kind = g_strdup("user");
    cfg->n_netdevs = 1;
}

void mimic_machine_set_sound(MachineConfig *cfg, const char *card)
{
    clear_sound(cfg);
    if (card) {
        cfg->soundhw[cfg->n_soundhw++] = g_strdup(card);
    }
}

void mimic_machine_set_nic(MachineConfig *cfg, const char *model)
{
    set_nic(cfg, model);
}

unsigned mimic_host_memory_mib(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0) {
        return 0;
    }
    return (unsigned)MIN((guint64)pages * (guint64)size / MIB, G_MAXUINT);
}

/* The machine file's "tablet": a usb-tablet among the USB devices. */
static int find_tablet(const MachineConfig *cfg)
{
    for (int i = 0; i < cfg->n_usb_devices; i++) {
        if (!g_strcmp0(cfg->usb_devices[i], "usb-tablet")) {
            return i;
        }
    }
    return -1;
}

bool mimic_machine_config_has_tablet(const MachineConfig *cfg)
{
    return find_tablet(cfg) >= 0;
}

void mimic_machine_config_set_tablet(MachineConfig *cfg, bool on)
{
    int i = find_tablet(cfg);
    if (on && i < 0 && cfg->n_usb_devices < MIMIC_MAX_USBDEV) {
        cfg->usb_devices[cfg->n_usb_devices++] = g_strdup("usb-tablet");
    } else if (!on && i >= 0) {
        g_free(cfg->usb_devices[i]);
        for (; i + 1 < cfg->n_usb_devices; i++) {
            cfg->usb_devices[i] = cfg->usb_devices[i + 1];
        }
        cfg->usb_devices[--cfg->n_usb_devices] = NULL;
    }
}

void mimic_machine_file_apply_preset(MimicMachineFile *mf, MimicOsType os)
{
    const MimicPreset *p = mimic_preset_get(os);
    MachineConfig *cfg = mf->cfg;
    mf->os = p->os;
    cfg->ram_size = (uint64_t)p->memory_mib * MIB;
    g_free(cfg->cpu_model);
    cfg->cpu_model = g_strdup(p->cpu);
    clear_sound(cfg);
    const char *sound = mimic_preset_sound(p);
    if (sound) {
        cfg->soundhw[cfg->n_soundhw++] = g_strdup(sound);
    }
    set_nic(cfg, mimic_preset_nic(p));
    mimic_machine_config_set_tablet(cfg, p->tablet);
    /* DOS and Windows 9x install from CD, then boot from the disk. */
    g_strlcpy(cfg->boot_order, "cd", sizeof(cfg->boot_order));
    cfg->rtc_localtime = os == MIMIC_OS_DOS || os == MIMIC_OS_WIN9X ||
                         os == MIMIC_OS_WINNT;
}

/* ---- writing ---- */

static const DriveConfig *find_drive(const MachineConfig *cfg,
                                     DriveInterface iface, int index)
{
    for (int i = 0; i < cfg->n_drives; i++) {
        if (cfg->drives[i].interface == iface &&
            cfg->drives[i].index == index) {
            return &cfg->drives[i];
        }
    }
    return NULL;
}

char *mimic_machine_file_to_data(const MimicMachineFile *mf, gsize *len)
{
    const MachineConfig *cfg = mf->cfg;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, GROUP_MACHINE, "name", cfg->name);
    g_key_file_set_string(kf, GROUP_MACHINE, "os",
                          mimic_preset_get(mf->os)->id);
    g_key_file_set_uint64(kf, GROUP_MACHINE, "memory", cfg->ram_size / MIB);
    g_key_file_set_integer(kf, GROUP_MACHINE, "cpus",
                           cfg->smp > 0 ? cfg->smp : 1);
    if (cfg->cpu_model) {
        g_key_file_set_string(kf, GROUP_MACHINE, "cpu", cfg->cpu_model);
    }
    g_key_file_set_string(kf, GROUP_MACHINE, "boot",
                          cfg->boot_order[0] ? cfg->boot_order : "cad");
    g_key_file_set_string_list(kf, GROUP_MACHINE, "sound",
                               (const char *const *)cfg->soundhw,
                               cfg->n_soundhw);
    g_key_file_set_string(kf, GROUP_MACHINE, "nic",
                          cfg->n_nics > 0 ? cfg->nics[0].model : "none");
    g_key_file_set_string(kf, GROUP_MACHINE, "net",
                          cfg->n_nics > 0 && cfg->n_netdevs > 0
                              ? cfg->netdevs[0].kind : "none");
    g_auto(GStrv) fwd = mimic_machine_port_forwards(cfg);
    if (fwd[0]) {
        g_key_file_set_string_list(kf, GROUP_MACHINE, "port-forwards",
                                   (const char *const *)fwd,
                                   g_strv_length(fwd));
    }
    g_key_file_set_boolean(kf, GROUP_MACHINE, "usb", cfg->usb);
    g_key_file_set_boolean(kf, GROUP_MACHINE, "tablet",
                           find_tablet(cfg) >= 0);
    g_key_file_set_boolean(kf, GROUP_MACHINE, "full-screen",
                           cfg->full_screen);
    g_key_file_set_boolean(kf, GROUP_MACHINE, "rtc-localtime",
                           cfg->rtc_localtime);
    for (size_t i = 0; i < G_N_ELEMENTS(disk_keys); i++) {
        const DriveConfig *d = find_drive(cfg, DRIVE_IF_IDE,
                                          disk_keys[i].index);
        if (d && d->media == DRIVE_MEDIA_DISK && d->file) {
            g_autofree char *fk = g_strdup_printf("%s-format",
                                                  disk_keys[i].key);
            g_key_file_set_string(kf, GROUP_DRIVES, disk_keys[i].key,
                                  d->file);
            /* Always an explicit format: an unnamed one is what the
             * content says now (a machine from the command line). */
            const char *fmt = d->format ? d->format
                                        : mimic_image_format(d->file, NULL);
            g_key_file_set_string(kf, GROUP_DRIVES, fk, fmt ? fmt : "raw");
        }
    }
    const DriveConfig *cd = find_drive(cfg, DRIVE_IF_IDE, 2);
    if (cd && cd->media == DRIVE_MEDIA_CDROM) {
        g_key_file_set_string(kf, GROUP_DRIVES, "cdrom",
                              cd->file ? cd->file : "");
    }
    for (int i = 0; i < 2; i++) {
        const DriveConfig *fd = find_drive(cfg, DRIVE_IF_FLOPPY, i);
        if (fd) {
            g_key_file_set_string(kf, GROUP_DRIVES, i ? "fdb" : "fda",
                                  fd->file ? fd->file : "");
        }
    }
    return g_key_file_to_data(kf, len, NULL);
}

/* ---- reading ---- */

static bool invalid(GError **error, const char *key, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static bool invalid(GError **error, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, MIMIC_MACHINE_FILE_ERROR,
                MIMIC_MACHINE_FILE_ERROR_INVALID, "%s: %s", key, msg);
    return false;
}

static bool check_keys(GKeyFile *kf, GError **error)
{
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (int g = 0; groups[g]; g++) {
        const char *const *known;
        if (!strcmp(groups[g], GROUP_MACHINE)) {
            known = machine_keys;
        } else if (!strcmp(groups[g], GROUP_DRIVES)) {
            known = drive_keys;
        } else {
            return invalid(error, groups[g], "unknown group");
        }
        g_auto(GStrv) keys = g_key_file_get_keys(kf, groups[g], NULL, NULL);
        for (int k = 0; keys && keys[k]; k++) {
            if (!in_list(known, keys[k])) {
                return invalid(error, keys[k], "unknown key in [%s]",
                               groups[g]);
            }
        }
    }
    if (!g_key_file_has_group(kf, GROUP_MACHINE)) {
        return invalid(error, GROUP_MACHINE, "the group is missing");
    }
    return true;
}

static bool get_uint(GKeyFile *kf, const char *key, guint64 min, guint64 max,
                     guint64 dflt, guint64 *out, GError **error)
{
    g_autofree char *s = g_key_file_get_value(kf, GROUP_MACHINE, key, NULL);
    if (!s) {
        *out = dflt;
        return true;
    }
    g_autoptr(GError) err = NULL;
    if (!g_ascii_string_to_unsigned(g_strstrip(s), 10, min, max, out,
                                    &err)) {
        return invalid(error, key, "\"%s\" is not a whole number from %"
                       G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT, s, min,
                       max);
    }
    return true;
}

static bool get_bool(GKeyFile *kf, const char *key, bool *out,
                     GError **error)
{
    g_autofree char *s = g_key_file_get_value(kf, GROUP_MACHINE, key, NULL);
    if (!s) {
        *out = false;
        return true;
    }
    if (!strcmp(s, "true")) {
        *out = true;
    } else if (!strcmp(s, "false")) {
        *out = false;
    } else {
        return invalid(error, key, "\"%s\" is neither true nor false", s);
    }
    return true;
}

static bool check_path(const char *key, const char *path, GError **error)
{
    if (!g_path_is_absolute(path)) {
        return invalid(error, key, "\"%s\" is not an absolute path", path);
    }
    if (strchr(path, ',')) {
        /* The command line could not express it (-drive file=a,b). */
        return invalid(error, key, "\"%s\": a comma in an image path is "
                       "not supported", path);
    }
    return true;
}

static DriveConfig *add_drive(MachineConfig *cfg, DriveInterface iface,
                              int index, DriveMedia media)
{
    DriveConfig *d = &cfg->drives[cfg->n_drives++];
    memset(d, 0, sizeof(*d));
    d->interface = iface;
    d->index = index;
    d->media = media;
    d->cache = DRIVE_CACHE_WRITEBACK;
    return d;
}

static bool parse_drives(GKeyFile *kf, MachineConfig *cfg, GError **error)
{
    for (size_t i = 0; i < G_N_ELEMENTS(disk_keys); i++) {
        const char *key = disk_keys[i].key;
        g_autofree char *fk = g_strdup_printf("%s-format", key);
        g_autofree char *file = g_key_file_get_string(kf, GROUP_DRIVES, key,
                                                      NULL);
        g_autofree char *fmt = g_key_file_get_string(kf, GROUP_DRIVES, fk,
                                                     NULL);
        if (!file) {
            if (fmt) {
                return invalid(error, fk, "a format without a %s image",
                               key);
            }
            continue;
        }
        if (!check_path(key, file, error)) {
            return false;
        }
        if (!fmt) {
            /* The format of a writable image is never guessed. */
            return invalid(error, fk, "missing (qcow2, qcow or raw)");
        }
        if (!in_list(formats, fmt)) {
            return invalid(error, fk, "unknown image format \"%s\" "
                           "(qcow2, qcow or raw)", fmt);
        }
        DriveConfig *d = add_drive(cfg, DRIVE_IF_IDE, disk_keys[i].index,
                                   DRIVE_MEDIA_DISK);
        d->file = g_steal_pointer(&file);
        d->format = g_steal_pointer(&fmt);
    }
    g_autofree char *cd = g_key_file_get_string(kf, GROUP_DRIVES, "cdrom",
                                                NULL);
    if (cd) {
        if (*cd && !check_path("cdrom", cd, error)) {
            return false;
        }
        DriveConfig *d = add_drive(cfg, DRIVE_IF_IDE, 2, DRIVE_MEDIA_CDROM);
        d->file = *cd ? g_steal_pointer(&cd) : NULL;
        d->readonly = true;
        d->format = g_strdup("raw");
    }
    for (int i = 0; i < 2; i++) {
        const char *key = i ? "fdb" : "fda";
        g_autofree char *fd = g_key_file_get_string(kf, GROUP_DRIVES, key,
                                                    NULL);
        if (!fd) {
            continue;
        }
        if (*fd && !check_path(key, fd, error)) {
            return false;
        }
        DriveConfig *d = add_drive(cfg, DRIVE_IF_FLOPPY, i,
                                   DRIVE_MEDIA_DISK);
        d->file = *fd ? g_steal_pointer(&fd) : NULL;
        d->format = g_strdup("raw");
    }
    return true;
}

static bool parse_machine(GKeyFile *kf, MimicMachineFile *mf, GError **error)
{
    MachineConfig *cfg = mf->cfg;
    g_autofree char *name = g_key_file_get_string(kf, GROUP_MACHINE, "name",
                                                  NULL);
    if (!name) {
        return invalid(error, "name", "missing");
    }
    if (!mimic_machine_name_valid(name, error)) {
        g_prefix_error(error, "name: ");
        return false;
    }
    g_free(cfg->name);
    cfg->name = g_steal_pointer(&name);

    g_autofree char *os = g_key_file_get_string(kf, GROUP_MACHINE, "os",
                                                NULL);
    const MimicPreset *p = mimic_preset_find(os ? os : "other");
    if (!p) {
        return invalid(error, "os", "unknown OS type \"%s\" (linux, dos, "
                       "win9x, winnt, other)", os);
    }
    mf->os = p->os;

    guint64 v;
    if (!get_uint(kf, "memory", MEMORY_MIN_MIB, MEMORY_MAX_MIB, 128, &v,
                  error)) {
        return false;
    }
    cfg->ram_size = v * MIB;
    if (!get_uint(kf, "cpus", 1, CPUS_MAX, 1, &v, error)) {
        return false;
    }
    cfg->smp = (int)v;

    g_autofree char *cpu = g_key_file_get_string(kf, GROUP_MACHINE, "cpu",
                                                 NULL);
    if (cpu) {
        for (const char *c = cpu; *c; c++) {
            if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_') {
                return invalid(error, "cpu", "\"%s\" is not a CPU model "
                               "name", cpu);
            }
        }
        if (!*cpu) {
            return invalid(error, "cpu", "empty");
        }
        g_free(cfg->cpu_model);
        cfg->cpu_model = g_steal_pointer(&cpu);
    }

    g_autofree char *boot = g_key_file_get_string(kf, GROUP_MACHINE, "boot",
                                                  NULL);
    if (boot) {
        size_t n = strlen(boot);
        if (n == 0 || n >= sizeof(cfg->boot_order)) {
            return invalid(error, "boot", "\"%s\": one to %zu of the "
                           "letters a, c, d, n", boot,
                           sizeof(cfg->boot_order) - 1);
        }
        for (size_t i = 0; i < n; i++) {
            if (!strchr("acdn", boot[i]) || strchr(boot + i + 1, boot[i])) {
                return invalid(error, "boot", "\"%s\": each of the letters "
                               "a, c, d, n at most once", boot);
            }
        }
        g_strlcpy(cfg->boot_order, boot, sizeof(cfg->boot_order));
    }

    clear_sound(cfg);
    gsize n_sound = 0;
    g_auto(GStrv) sound = g_key_file_get_string_list(kf, GROUP_MACHINE,
                                                     "sound", &n_sound, NULL);
    for (gsize i = 0; sound && i < n_sound; i++) {
        if (!in_list(sound_cards, sound[i])) {
            return invalid(error, "sound", "unknown sound card \"%s\"",
                           sound[i]);
        }
        if (cfg->n_soundhw == MIMIC_MAX_SOUNDHW) {
            return invalid(error, "sound", "more than %d sound cards",
                           MIMIC_MAX_SOUNDHW);
        }
        cfg->soundhw[cfg->n_soundhw++] = g_strdup(sound[i]);
    }

    g_autofree char *nic = g_key_file_get_string(kf, GROUP_MACHINE, "nic",
                                                 NULL);
    g_autofree char *net = g_key_file_get_string(kf, GROUP_MACHINE, "net",
                                                 NULL);
    if (nic && strcmp(nic, "none") && !in_list(nic_models, nic)) {
        return invalid(error, "nic", "unknown network card \"%s\"", nic);
    }
    if (net && strcmp(net, "none") && strcmp(net, "user")) {
        return invalid(error, "net", "\"%s\": user or none", net);
    }
    bool has_nic = nic && strcmp(nic, "none");
    if (has_nic && net && !strcmp(net, "none")) {
        set_nic(cfg, nic);
        cfg->n_netdevs = 0;
        g_clear_pointer(&cfg->netdevs[0].kind, g_free);
    } else {
        set_nic(cfg, has_nic ? nic : NULL);
    }
    g_auto(GStrv) fwd = g_key_file_get_string_list(kf, GROUP_MACHINE,
                                                   "port-forwards", NULL,
                                                   NULL);
    if (fwd && fwd[0] && cfg->n_netdevs == 0) {
        return invalid(error, "port-forwards", "only with net=user");
    }
    if (fwd) {
        g_autoptr(GError) e = NULL;
        if (!mimic_machine_set_port_forwards(cfg, (const char *const *)fwd,
                                             &e)) {
            return invalid(error, "port-forwards", "%s", e->message);
        }
    }

    bool tablet;
    if (!get_bool(kf, "usb", &cfg->usb, error) ||
        !get_bool(kf, "tablet", &tablet, error) ||
        !get_bool(kf, "full-screen", &cfg->full_screen, error) ||
        !get_bool(kf, "rtc-localtime", &cfg->rtc_localtime, error)) {
        return false;
    }
    mimic_machine_config_set_tablet(cfg, tablet);
    return true;
}

MimicMachineFile *mimic_machine_file_from_data(const char *data, gsize len,
                                               GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, error)) {
        return NULL;
    }
    if (!check_keys(kf, error)) {
        return NULL;
    }
    g_autoptr(MimicMachineFile) mf = g_new0(MimicMachineFile, 1);
    mf->cfg = g_new0(MachineConfig, 1);
    machine_config_init(mf->cfg);
    g_strlcpy(mf->cfg->boot_order, "cad", sizeof(mf->cfg->boot_order));
    if (!parse_machine(kf, mf, error) || !parse_drives(kf, mf->cfg, error)) {
        return NULL;
    }
    return g_steal_pointer(&mf);
}

MimicMachineFile *mimic_machine_file_load(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len;
    if (!g_file_get_contents(path, &data, &len, error)) {
        return NULL;
    }
    if (len > 64 * 1024) {
        g_set_error(error, MIMIC_MACHINE_FILE_ERROR,
                    MIMIC_MACHINE_FILE_ERROR_INVALID,
                    "larger than 64 KiB: not a machine file");
        return NULL;
    }
    MimicMachineFile *mf = mimic_machine_file_from_data(data, len, error);
    if (!mf) {
        return NULL;
    }
    /* NAME.mimic must hold NAME, or two files could claim one machine. */
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *expect = g_strdup_printf("%s.mimic", mf->cfg->name);
    if (strcmp(base, expect)) {
        g_set_error(error, MIMIC_MACHINE_FILE_ERROR,
                    MIMIC_MACHINE_FILE_ERROR_INVALID,
                    "name: \"%s\" does not match the file name",
                    mf->cfg->name);
        mimic_machine_file_free(mf);
        return NULL;
    }
    return mf;
}

char *mimic_library_dir(void)
{
    return g_build_filename(g_get_user_data_dir(), "mimic", "machines",
                            NULL);
}

char *mimic_machine_file_path(const char *dir, const char *name)
{
    g_autofree char *base = g_strdup_printf("%s.mimic", name);
    return g_build_filename(dir, base, NULL);
}

bool mimic_machine_file_save(const MimicMachineFile *mf, const char *dir,
                             GError **error)
{
    if (!mimic_machine_name_valid(mf->cfg->name, error)) {
        return false;
    }
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        g_set_error(error, MIMIC_MACHINE_FILE_ERROR,
                    MIMIC_MACHINE_FILE_ERROR_IO, "cannot create %s: %s", dir,
                    g_strerror(errno));
        return false;
    }
    gsize len;
    g_autofree char *data = mimic_machine_file_to_data(mf, &len);
    g_autofree char *path = mimic_machine_file_path(dir, mf->cfg->name);
    return g_file_set_contents(path, data, len, error);
}

/* ---- saved states ---- */

char *mimic_machine_state_path(const char *dir, const char *name)
{
    g_autofree char *base = g_strdup_printf("%s.state", name);
    return g_build_filename(dir, base, NULL);
}

bool mimic_machine_has_state(const char *dir, const char *name)
{
    g_autofree char *path = mimic_machine_state_path(dir, name);
    return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

bool mimic_machine_discard_state(const char *dir, const char *name,
                                 GError **error)
{
    g_autofree char *path = mimic_machine_state_path(dir, name);
    if (g_unlink(path) < 0 && errno != ENOENT) {
        int e = errno;
        g_set_error(error, MIMIC_MACHINE_FILE_ERROR,
                    MIMIC_MACHINE_FILE_ERROR_IO, "%s: %s", path,
                    g_strerror(e));
        return false;
    }
    return true;
}

MachineConfig *mimic_machine_resume_config(const MimicMachineFile *mf,
                                           const char *dir, bool force)
{
    MachineConfig *cfg = machine_config_copy(mf->cfg);
    g_autofree char *path = mimic_machine_state_path(dir, mf->cfg->name);
    g_free(cfg->incoming);
    cfg->incoming = g_strconcat("file:", path, NULL);
    cfg->incoming_force = force;
    return cfg;
}

bool mimic_machine_file_changes_state(const MimicMachineFile *a,
                                      const MimicMachineFile *b)
{
    MimicMachineFile tmp = { .os = a->os, .cfg = machine_config_copy(b->cfg) };
    tmp.cfg->full_screen = a->cfg->full_screen;
    gsize la, lb;
    g_autofree char *da = mimic_machine_file_to_data(a, &la);
    g_autofree char *db = mimic_machine_file_to_data(&tmp, &lb);
    machine_config_free(tmp.cfg);
    return la != lb || memcmp(da, db, la) != 0;
}

static int compare_machines(gconstpointer a, gconstpointer b)
{
    const MimicMachineFile *x = *(MimicMachineFile *const *)a;
    const MimicMachineFile *y = *(MimicMachineFile *const *)b;
    return g_utf8_collate(x->cfg->name, y->cfg->name);
}

GPtrArray *mimic_library_load(const char *dir, GPtrArray *errors)
{
    GPtrArray *machines = g_ptr_array_new_with_free_func(
        (GDestroyNotify)mimic_machine_file_free);
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &err);
    if (!d) {
        if (!g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT) &&
            errors) {
            g_ptr_array_add(errors, g_strdup(err->message));
        }
        return machines;
    }
    const char *entry;
    while ((entry = g_dir_read_name(d))) {
        if (!g_str_has_suffix(entry, ".mimic")) {
            continue;
        }
        g_autofree char *path = g_build_filename(dir, entry, NULL);
        g_autoptr(GError) e = NULL;
        MimicMachineFile *mf = mimic_machine_file_load(path, &e);
        if (mf) {
            g_ptr_array_add(machines, mf);
        } else if (errors) {
            g_ptr_array_add(errors, g_strdup_printf("%s: %s", entry,
                                                    e->message));
        }
    }
    g_ptr_array_sort(machines, compare_machines);
    return machines;
}

/* ---- the demo machine ---- */

MimicMachineFile *mimic_demo_machine_new(const char *iso, GError **error)
{
    MimicNewMachine c = {
        .name = MIMIC_DEMO_MACHINE_NAME,
        .os = MIMIC_OS_LINUX,
        .memory_mib = 256,
        .cdrom = iso,
        .boot = "d",
    };
    if (!iso || !*iso) {
        invalid(error, "cdrom", "the demo needs its CD image");
        return NULL;
    }
    MimicMachineFile *mf = mimic_machine_file_new_from_choices(&c, error);
    if (mf) {
        clear_sound(mf->cfg); /* the demo guest plays no sound */
    }
    return mf;
}

static DriveConfig *find_cdrom(MachineConfig *cfg)
{
    for (int i = 0; i < cfg->n_drives; i++) {
        if (cfg->drives[i].media == DRIVE_MEDIA_CDROM) {
            return &cfg->drives[i];
        }
    }
    return NULL;
}

bool mimic_library_ensure_demo(const char *dir, const char *iso,
                               bool *written, GError **error)
{
    if (written) {
        *written = false;
    }
    g_autofree char *path = mimic_machine_file_path(dir,
                                                    MIMIC_DEMO_MACHINE_NAME);
    g_autoptr(MimicMachineFile) mf = NULL;
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        mf = mimic_machine_file_load(path, NULL);
        if (!mf) {
            return true; /* the person's file: shown as bad, kept */
        }
        DriveConfig *cd = find_cdrom(mf->cfg);
        if (!cd || (cd->file && !strcmp(cd->file, iso)) ||
            (cd->file && g_file_test(cd->file, G_FILE_TEST_EXISTS))) {
            return true;
        }
        if (!check_path("cdrom", iso, error)) {
            return false;
        }
        g_free(cd->file);
        cd->file = g_strdup(iso);
    } else {
        mf = mimic_demo_machine_new(iso, error);
        if (!mf) {
            return false;
        }
    }
    if (!mimic_machine_file_save(mf, dir, error)) {
        return false;
    }
    if (written) {
        *written = true;
    }
    return true;
}

/* ---- the new-machine wizard's choices ---- */

char *mimic_default_disk_path(const char *name, const char *format)
{
    g_autofree char *base = g_strdup_printf("%s.%s", name, format);
    return g_build_filename(g_get_user_data_dir(), "mimic", "disks", base,
                            NULL);
}

MimicMachineFile *mimic_machine_file_new_from_choices(
    const MimicNewMachine *c, GError **error)
{
    if (!mimic_machine_name_valid(c->name, error)) {
        return NULL;
    }
    if ((unsigned)c->os >= MIMIC_OS_COUNT) {
        invalid(error, "os", "unknown OS type");
        return NULL;
    }
    g_autoptr(MimicMachineFile) mf = mimic_machine_file_new(c->name, c->os);
    if (c->memory_mib) {
        if (c->memory_mib < MEMORY_MIN_MIB || c->memory_mib > MEMORY_MAX_MIB) {
            invalid(error, "memory", "%u MiB is out of range (%d to %d)",
                    c->memory_mib, MEMORY_MIN_MIB, MEMORY_MAX_MIB);
            return NULL;
        }
        mf->cfg->ram_size = (uint64_t)c->memory_mib * MIB;
    }
    if (c->cpu) {
        for (const char *p = c->cpu; *p; p++) {
            if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_') {
                invalid(error, "cpu", "\"%s\" is not a CPU model name",
                        c->cpu);
                return NULL;
            }
        }
        if (*c->cpu) {
            g_free(mf->cfg->cpu_model);
            mf->cfg->cpu_model = g_strdup(c->cpu);
        }
    }
    if (c->disk_path) {
        if (!check_path("hda", c->disk_path, error)) {
            return NULL;
        }
        const char *fmt = c->disk_format ? c->disk_format : "qcow2";
        if (!in_list(formats, fmt)) {
            invalid(error, "hda-format", "unknown image format \"%s\"", fmt);
            return NULL;
        }
        DriveConfig *d = add_drive(mf->cfg, DRIVE_IF_IDE, 0,
                                   DRIVE_MEDIA_DISK);
        d->file = g_strdup(c->disk_path);
        d->format = g_strdup(fmt);
    }
    if (c->cdrom) {
        if (*c->cdrom && !check_path("cdrom", c->cdrom, error)) {
            return NULL;
        }
        DriveConfig *d = add_drive(mf->cfg, DRIVE_IF_IDE, 2,
                                   DRIVE_MEDIA_CDROM);
        d->file = *c->cdrom ? g_strdup(c->cdrom) : NULL;
        d->format = g_strdup("raw");
        d->readonly = true;
    }
    if (c->boot) {
        /* Round-trip through the file's own check of the boot letters. */
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_key_file_set_string(kf, GROUP_MACHINE, "name", c->name);
        g_key_file_set_string(kf, GROUP_MACHINE, "boot", c->boot);
        gsize len;
        g_autofree char *data = g_key_file_to_data(kf, &len, NULL);
        g_autoptr(MimicMachineFile) probe =
            mimic_machine_file_from_data(data, len, error);
        if (!probe) {
            return NULL;
        }
        g_strlcpy(mf->cfg->boot_order, c->boot, sizeof(mf->cfg->boot_order));
    }
    if (c->sound) {
        bool none = !strcmp(c->sound, "none");
        if (!none && !in_list(mimic_sound_cards(), c->sound)) {
            invalid(error, "sound", "\"%s\" is not emulated", c->sound);
            return NULL;
        }
        mimic_machine_set_sound(mf->cfg, none ? NULL : c->sound);
    }
    if (c->nic) {
        bool none = !strcmp(c->nic, "none");
        if (!none && !in_list(mimic_nic_models(), c->nic)) {
            invalid(error, "nic", "\"%s\" is not emulated", c->nic);
            return NULL;
        }
        set_nic(mf->cfg, none ? NULL : c->nic);
    }
    return g_steal_pointer(&mf);
}

/* ---- the equivalent command line ---- */

static void add_arg(GString *s, const char *arg)
{
    g_autofree char *q = g_shell_quote(arg);
    g_string_append_c(s, ' ');
    /* Plain words stay readable; anything else is quoted for the shell. */
    bool plain = *arg != 0;
    for (const char *p = arg; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-_=,./:+", *p)) {
            plain = false;
        }
    }
    g_string_append(s, plain ? arg : q);
}

char *mimic_machine_file_command_line(const MimicMachineFile *mf)
{
    const MachineConfig *cfg = mf->cfg;
    GString *s = g_string_new("mimic");
    add_arg(s, "-name");
    add_arg(s, cfg->name);
    add_arg(s, "-m");
    g_autofree char *mem = g_strdup_printf("%" G_GUINT64_FORMAT,
                                           (guint64)(cfg->ram_size / MIB));
    add_arg(s, mem);
    if (cfg->smp > 1) {
        g_autofree char *smp = g_strdup_printf("%d", cfg->smp);
        add_arg(s, "-smp");
        add_arg(s, smp);
    }
    if (cfg->cpu_model) {
        add_arg(s, "-cpu");
        add_arg(s, cfg->cpu_model);
    }
    for (int i = 0; i < cfg->n_drives; i++) {
        const DriveConfig *d = &cfg->drives[i];
        if (d->interface == DRIVE_IF_FLOPPY) {
            if (d->file) {
                add_arg(s, d->index ? "-fdb" : "-fda");
                add_arg(s, d->file);
            }
            continue;
        }
        if (d->media == DRIVE_MEDIA_CDROM) {
            if (d->file) {
                add_arg(s, "-cdrom");
                add_arg(s, d->file);
            }
            continue;
        }
        g_autofree char *opt = g_strdup_printf(
            "file=%s,format=%s,if=ide,index=%d,media=disk", d->file,
            d->format ? d->format : "raw", d->index);
        add_arg(s, "-drive");
        add_arg(s, opt);
    }
    if (cfg->boot_order[0]) {
        g_autofree char *b = g_strdup_printf("order=%s", cfg->boot_order);
        add_arg(s, "-boot");
        add_arg(s, b);
    }
    if (cfg->n_soundhw > 0) {
        GString *list = g_string_new(NULL);
        for (int i = 0; i < cfg->n_soundhw; i++) {
            g_string_append_printf(list, "%s%s", i ? "," : "",
                                   cfg->soundhw[i]);
        }
        add_arg(s, "-soundhw");
        add_arg(s, list->str);
        g_string_free(list, TRUE);
    }
    if (cfg->n_nics == 0 || cfg->net_none) {
        add_arg(s, "-net");
        add_arg(s, "none");
    } else {
        g_autofree char *nic = g_strdup_printf("nic,model=%s",
                                               cfg->nics[0].model);
        add_arg(s, "-net");
        add_arg(s, nic);
        if (cfg->n_netdevs > 0) {
            g_autofree char *be =
                cfg->netdevs[0].options
                    ? g_strdup_printf("%s,%s", cfg->netdevs[0].kind,
                                      cfg->netdevs[0].options)
                    : g_strdup(cfg->netdevs[0].kind);
            add_arg(s, "-net");
            add_arg(s, be);
        }
    }
    if (cfg->usb) {
        add_arg(s, "-usb");
    }
    if (find_tablet(cfg) >= 0) {
        add_arg(s, "-device");
        add_arg(s, "usb-tablet");
    }
    if (cfg->rtc_localtime) {
        add_arg(s, "-rtc");
        add_arg(s, "base=localtime");
    }
    if (cfg->full_screen) {
        add_arg(s, "-full-screen");
    }
    return g_string_free(s, FALSE);
}

/* ---- OS detection (the wizard's) ---- */

/*
 * Volume IDs of installation media, by a word they contain (any case).
 * A small table of our own: libosinfo's database would know more media
 * but would be a new build and run dependency of the GUI (docs/gui.md).
 */
static const struct {
    const char *word;
    MimicOsType os;
} volume_words[] = {
    { "debian", MIMIC_OS_LINUX },    { "ubuntu", MIMIC_OS_LINUX },
    { "fedora", MIMIC_OS_LINUX },    { "centos", MIMIC_OS_LINUX },
    { "rhel", MIMIC_OS_LINUX },      { "opensuse", MIMIC_OS_LINUX },
    { "linux", MIMIC_OS_LINUX },     { "archiso", MIMIC_OS_LINUX },
    { "alpine", MIMIC_OS_LINUX },    { "mimic demo", MIMIC_OS_LINUX },
    { "freedos", MIMIC_OS_DOS },     { "fd1", MIMIC_OS_DOS },
    { "msdos", MIMIC_OS_DOS },       { "win98", MIMIC_OS_WIN9X },
    { "win95", MIMIC_OS_WIN9X },     { "windows 98", MIMIC_OS_WIN9X },
    { "windows 95", MIMIC_OS_WIN9X },
    { "wxp", MIMIC_OS_WINNT },       { "winxp", MIMIC_OS_WINNT },
    { "windows xp", MIMIC_OS_WINNT },{ "w2k", MIMIC_OS_WINNT },
    { "win2000", MIMIC_OS_WINNT },   { "windows 2000", MIMIC_OS_WINNT },
};

MimicOsType mimic_detect_os(const char *iso_path, char **volume_id)
{
    if (volume_id) {
        *volume_id = NULL;
    }
    FILE *f = iso_path ? fopen(iso_path, "rb") : NULL;
    if (!f) {
        return MIMIC_OS_COUNT;
    }
    unsigned char pvd[72];
    bool ok = fseek(f, 16 * 2048, SEEK_SET) == 0 &&
              fread(pvd, 1, sizeof(pvd), f) == sizeof(pvd) &&
              pvd[0] == 1 && !memcmp(pvd + 1, "CD001", 5);
    fclose(f);
    if (!ok) {
        return MIMIC_OS_COUNT;
    }
    char id[33];
    for (int i = 0; i < 32; i++) {
        unsigned char c = pvd[40 + i];
        id[i] = c >= 0x20 && c < 0x7f ? (char)c : ' '; /* d-characters */
    }
    id[32] = 0;
    g_strstrip(id);
    if (!*id) {
        return MIMIC_OS_COUNT;
    }
    if (volume_id) {
        *volume_id = g_strdup(id);
    }
    g_autofree char *lower = g_ascii_strdown(id, -1);
    /* Separators as spaces: "Windows_XP", "WIN-98". */
    g_strdelimit(lower, "_-.", ' ');
    for (size_t i = 0; i < G_N_ELEMENTS(volume_words); i++) {
        if (strstr(lower, volume_words[i].word)) {
            return volume_words[i].os;
        }
    }
    return MIMIC_OS_COUNT;
}
