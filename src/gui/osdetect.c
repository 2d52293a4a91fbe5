/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OS detection for the new-machine wizard (docs/gui.md, "Wizard").
 * libosinfo reads the ISO's primary volume descriptor (volume, system,
 * publisher and application IDs, volume size) and matches it against
 * osinfo-db's media; the OS it names maps to a preset with the
 * database's resources and devices.  Our own volume ID table
 * (mimic_detect_os()) answers when libosinfo is not built in or does not
 * know the disc.
 */
#include "gui/osdetect.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/mimic.h"

G_DEFINE_QUARK(mimic-os-detect-error-quark, mimic_os_detect_error)

#define MIB (1024ull * 1024)

void mimic_os_guess_free(MimicOsGuess *g)
{
    if (!g) {
        return;
    }
    g_free(g->name);
    g_free(g->short_id);
    g_free(g->codename);
    g_free(g->arch);
    g_free(g->volume_id);
    g_free(g);
}

bool mimic_os_detect_has_osinfo(void)
{
#ifdef HAVE_LIBOSINFO
    return true;
#else
    return false;
#endif
}

/* A 64-bit system needs a CPU with long mode; the rest runs on the P6. */
static const char *cpu_for_arch(const char *arch)
{
    return arch && !strcmp(arch, "x86_64") ? "qemu64" : "pentium2";
}

char *mimic_os_guess_describe(const MimicOsGuess *g)
{
    GString *s = g_string_new(g->name ? g->name
                                      : mimic_preset_get(g->os)->label);
    if (g->codename && *g->codename) {
        g_string_append_printf(s, " (%s)", g->codename);
    }
    if (g->arch && *g->arch && strcmp(g->arch, "all")) {
        g_string_append_printf(s, " %s", g->arch);
    }
    return g_string_free(s, FALSE);
}

#ifdef HAVE_LIBOSINFO

/* libosinfo's PCI devices to the engine's models. */
static const struct {
    const char *vendor, *product, *model;
} pci_models[] = {
    { "8086", "100e", "e1000" },         { "10ec", "8139", "rtl8139" },
    { "10ec", "8029", "ne2k_pci" },      { "1022", "2000", "pcnet" },
    { "1af4", "1000", "virtio-net-pci" }, { "1af4", "1041", "virtio-net-pci" },
    { "8086", "2415", "ac97" },          { "8086", "2668", "hda" },
    { "8086", "293e", "hda" },           { "1274", "5000", "es1370" },
};

static const char *pci_model(OsinfoDevice *d)
{
    const char *bus = osinfo_device_get_bus_type(d);
    const char *v = osinfo_device_get_vendor_id(d);
    const char *p = osinfo_device_get_product_id(d);
    if (!v || !p || (bus && strcmp(bus, "pci"))) {
        return NULL;
    }
    /* The database writes "0x8086" or "8086". */
    if (g_str_has_prefix(v, "0x")) {
        v += 2;
    }
    if (g_str_has_prefix(p, "0x")) {
        p += 2;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(pci_models); i++) {
        if (!g_ascii_strcasecmp(v, pci_models[i].vendor) &&
            !g_ascii_strcasecmp(p, pci_models[i].product)) {
            return pci_models[i].model;
        }
    }
    return NULL;
}

static bool in_strv(const char *const *list, const char *s)
{
    for (; list && *list; list++) {
        if (!strcmp(*list, s)) {
            return true;
        }
    }
    return false;
}

/*
 * The first model of the preset's order (comma-separated) that the engine
 * emulates and the OS has a driver for; NULL when the OS lists no device
 * of the class we know (then the preset's own choice stands).
 */
static const char *pick_device(OsinfoOs *os, const char *klass,
                               const char *order,
                               const char *const *emulated)
{
    if (!order) {
        return NULL;
    }
    g_autoptr(OsinfoFilter) f = osinfo_filter_new();
    osinfo_filter_add_constraint(f, OSINFO_DEVICE_PROP_CLASS, klass);
    g_autoptr(OsinfoDeviceList) devs = osinfo_os_get_all_devices(os, f);
    g_auto(GStrv) want = g_strsplit(order, ",", -1);
    for (char **w = want; *w; w++) {
        if (!in_strv(emulated, *w)) {
            continue;
        }
        int n = osinfo_list_get_length(OSINFO_LIST(devs));
        for (int i = 0; i < n; i++) {
            OsinfoDevice *d = OSINFO_DEVICE(
                osinfo_list_get_nth(OSINFO_LIST(devs), i));
            const char *m = pci_model(d);
            if (m && !strcmp(m, *w)) {
                /* A static string of the engine's list. */
                for (const char *const *e = emulated; *e; e++) {
                    if (!strcmp(*e, *w)) {
                        return *e;
                    }
                }
            }
        }
    }
    return NULL;
}

/* The resources for arch, else for "all", else the first; NULL: none. */
static OsinfoResources *find_resources(OsinfoResourcesList *list,
                                       const char *arch)
{
    OsinfoResources *all = NULL, *first = NULL;
    int n = list ? osinfo_list_get_length(OSINFO_LIST(list)) : 0;
    for (int i = 0; i < n; i++) {
        OsinfoResources *r = OSINFO_RESOURCES(
            osinfo_list_get_nth(OSINFO_LIST(list), i));
        const char *a = osinfo_resources_get_architecture(r);
        if (arch && a && !strcmp(a, arch)) {
            return r;
        }
        if (!all && (!a || !strcmp(a, "all"))) {
            all = r;
        }
        if (!first) {
            first = r;
        }
    }
    return all ? all : first;
}

static MimicOsType preset_of(OsinfoOs *os)
{
    const char *distro = osinfo_os_get_distro(os);
    const char *family = osinfo_os_get_family(os);
    /* FreeDOS is of the "linux" family in osinfo-db: the distro first. */
    if (distro && (!strcmp(distro, "freedos") || !strcmp(distro, "msdos"))) {
        return MIMIC_OS_DOS;
    }
    if (family && !strcmp(family, "win9x")) {
        return MIMIC_OS_WIN9X;
    }
    if (family && (!strcmp(family, "win16") || !strcmp(family, "msdos"))) {
        return MIMIC_OS_DOS;
    }
    if (family && !strcmp(family, "winnt")) {
        return MIMIC_OS_WINNT;
    }
    if (family && !strcmp(family, "linux")) {
        return MIMIC_OS_LINUX;
    }
    return MIMIC_OS_OTHER;
}

MimicOsGuess *mimic_os_guess_from_osinfo(OsinfoOs *os, const char *arch)
{
    MimicOsGuess *g = g_new0(MimicOsGuess, 1);
    OsinfoProduct *prod = OSINFO_PRODUCT(os);
    g->os = preset_of(os);
    g->from_osinfo = true;
    g->name = g_strdup(osinfo_product_get_name(prod));
    g->short_id = g_strdup(osinfo_product_get_short_id(prod));
    g->codename = g_strdup(osinfo_product_get_codename(prod));
    g->arch = g_strdup(arch);
    g->cpu = cpu_for_arch(arch);

    g_autoptr(OsinfoResourcesList) rec =
        osinfo_os_get_recommended_resources(os);
    g_autoptr(OsinfoResourcesList) min = osinfo_os_get_minimum_resources(os);
    OsinfoResources *r = find_resources(rec, arch);
    OsinfoResources *m = find_resources(min, arch);
    gint64 ram = r ? osinfo_resources_get_ram(r) : -1;
    if (ram <= 0 && m) {
        ram = osinfo_resources_get_ram(m);
    }
    gint64 storage = r ? osinfo_resources_get_storage(r) : -1;
    if (storage <= 0 && m) {
        storage = osinfo_resources_get_storage(m);
    }
    if (ram > 0) {
        /* Within what a PC of ours addresses (below the PCI hole without
           long mode) and half the host's memory. */
        guint64 cap = g->cpu && !strcmp(g->cpu, "qemu64") ? 8192 : 3072;
        unsigned host = mimic_host_memory_mib();
        if (host && host / 2 < cap) {
            cap = MAX(host / 2, 16);
        }
        g->memory_mib = (unsigned)CLAMP((guint64)ram / MIB, 16, cap);
    }
    if (storage > 0) {
        g->disk_mib = (unsigned)CLAMP((guint64)storage / MIB, 512,
                                      64 * 1024);
    }
    const MimicPreset *p = mimic_preset_get(g->os);
    g->sound = pick_device(os, "audio", p->sound, mimic_sound_cards());
    g->nic = pick_device(os, "net", p->nic, mimic_nic_models());
    return g;
}

/*
 * The database, read once (a few hundred XML files: in the thread).  One
 * identification at a time (osinfo_lock held by the caller): a cancelled
 * one may still be running when the next disc is chosen, and libosinfo
 * does not promise that its database may be searched from two threads.
 */
static GMutex osinfo_lock;

static bool db_has_short_id(OsinfoDb *db, const char *short_id)
{
    g_autoptr(OsinfoOsList) all = osinfo_db_get_os_list(db);
    int n = osinfo_list_get_length(OSINFO_LIST(all));
    for (int i = 0; i < n; i++) {
        OsinfoProduct *p = OSINFO_PRODUCT(
            osinfo_list_get_nth(OSINFO_LIST(all), i));
        const char *id = osinfo_product_get_short_id(p);
        if (id && !strcmp(id, short_id)) {
            return true;
        }
    }
    return false;
}

/*
 * Debian 12 (bookworm, June 2023) came after the osinfo-db that Debian 12
 * ships (0.20221130, which knows Debian up to 11 and "testing"); Mimic's
 * own guests are Debian 12, so its media are added when the database
 * lacks them: the installer's volume IDs ("Debian 12.5.0 i386 n" for
 * the netinst, "... i386 1" for DVD 1), derived from Debian 11 (so the
 * same drivers) with Debian 11's resources.  A newer osinfo-db that has
 * debian12 is used as it is.
 */
static void db_add_debian12(OsinfoDb *db)
{
    OsinfoOs *d11 = osinfo_db_get_os(db, "http://debian.org/debian/11");
    if (!d11 || db_has_short_id(db, "debian12")) {
        return;
    }
    g_autoptr(OsinfoOs) os = osinfo_os_new("http://debian.org/debian/12");
    OsinfoEntity *e = OSINFO_ENTITY(os);
    osinfo_entity_set_param(e, OSINFO_PRODUCT_PROP_SHORT_ID, "debian12");
    osinfo_entity_set_param(e, OSINFO_PRODUCT_PROP_NAME, "Debian 12");
    osinfo_entity_set_param(e, OSINFO_PRODUCT_PROP_VERSION, "12");
    osinfo_entity_set_param(e, OSINFO_PRODUCT_PROP_CODENAME, "bookworm");
    osinfo_entity_set_param(e, OSINFO_PRODUCT_PROP_VENDOR, "Debian Project");
    osinfo_entity_set_param(e, OSINFO_OS_PROP_FAMILY, "linux");
    osinfo_entity_set_param(e, OSINFO_OS_PROP_DISTRO, "debian");
    osinfo_product_add_related(OSINFO_PRODUCT(os),
                               OSINFO_PRODUCT_RELATIONSHIP_DERIVES_FROM,
                               OSINFO_PRODUCT(d11));
    g_autoptr(OsinfoResourcesList) min = osinfo_os_get_minimum_resources(d11);
    g_autoptr(OsinfoResourcesList) rec =
        osinfo_os_get_recommended_resources(d11);
    for (int i = 0; i < osinfo_list_get_length(OSINFO_LIST(min)); i++) {
        osinfo_os_add_minimum_resources(os, OSINFO_RESOURCES(
            osinfo_list_get_nth(OSINFO_LIST(min), i)));
    }
    for (int i = 0; i < osinfo_list_get_length(OSINFO_LIST(rec)); i++) {
        osinfo_os_add_recommended_resources(os, OSINFO_RESOURCES(
            osinfo_list_get_nth(OSINFO_LIST(rec), i)));
    }
    static const struct {
        const char *arch, *debian_arch, *kind;
    } media[] = {
        { "i686", "i386", "n" },      { "x86_64", "amd64", "n" },
        { "i686", "i386", "\\d+" }, { "x86_64", "amd64", "\\d+" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(media); i++) {
        g_autofree char *id = g_strdup_printf(
            "http://debian.org/debian/12/mimic-media-%zu", i);
        g_autoptr(OsinfoMedia) m = osinfo_media_new(id, media[i].arch);
        g_autofree char *vid = g_strdup_printf(
            "Debian 12\\.\\d+\\.\\d+ %s %s", media[i].debian_arch,
            media[i].kind);
        osinfo_entity_set_param(OSINFO_ENTITY(m), OSINFO_MEDIA_PROP_VOLUME_ID,
                                vid);
        osinfo_os_add_media(os, m);
    }
    osinfo_db_add_os(db, os);
}

static OsinfoDb *osinfo_db(void)
{
    static OsinfoLoader *loader;
    if (!loader) {
        g_autoptr(GError) err = NULL;
        loader = osinfo_loader_new();
        osinfo_loader_process_default_path(loader, &err);
        if (err) {
            /* A partial database still identifies what it has read. */
            g_debug("osinfo database: %s", err->message);
        }
        db_add_debian12(osinfo_loader_get_db(loader));
    }
    return osinfo_loader_get_db(loader);
}

static MimicOsGuess *identify_osinfo_locked(const char *path)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(OsinfoMedia) media =
        /* Not only bootable discs: a data DVD of an installer is one. */
        osinfo_media_create_from_location_with_flags(
            path, NULL, 0, &err);
    if (!media) {
        g_debug("libosinfo: %s: %s", path, err->message);
        return NULL;
    }
    if (!osinfo_db_identify_media(osinfo_db(), media)) {
        return NULL;
    }
    OsinfoOs *os = osinfo_media_get_os(media);
    if (!os) {
        return NULL;
    }
    MimicOsGuess *g = mimic_os_guess_from_osinfo(
        os, osinfo_media_get_architecture(media));
    g_object_unref(os);
    return g;
}

static MimicOsGuess *identify_osinfo(const char *path)
{
    g_mutex_lock(&osinfo_lock);
    MimicOsGuess *g = identify_osinfo_locked(path);
    g_mutex_unlock(&osinfo_lock);
    return g;
}
#endif

bool mimic_file_has_iso_pvd(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return false;
    }
    unsigned char id[6];
    bool iso = fseek(f, 16 * 2048, SEEK_SET) == 0 &&
               fread(id, 1, sizeof(id), f) == sizeof(id) &&
               id[0] == 1 && !memcmp(id + 1, "CD001", 5);
    fclose(f);
    return iso;
}

MimicOsGuess *mimic_os_identify(const char *path, GError **error)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        g_set_error(error, MIMIC_OS_DETECT_ERROR, MIMIC_OS_DETECT_ERROR_READ,
                    "%s", g_strerror(e));
        return NULL;
    }
    unsigned char pvd[190];
    bool iso = fseek(f, 16 * 2048, SEEK_SET) == 0 &&
               fread(pvd, 1, sizeof(pvd), f) == sizeof(pvd) &&
               pvd[0] == 1 && !memcmp(pvd + 1, "CD001", 5);
    bool read_error = ferror(f);
    /*
     * libosinfo reads the root directory too (for a "ppc" directory) and
     * trips a GLib critical on an empty one: hand it only a descriptor
     * whose root directory record (bytes 156..189) is sane and inside
     * the file.
     */
    bool sane = false;
    if (iso) {
        guint32 block = pvd[128] | pvd[129] << 8;
        guint32 extent = pvd[158] | pvd[159] << 8 | pvd[160] << 16 |
                         (guint32)pvd[161] << 24;
        guint32 len = pvd[166] | pvd[167] << 8 | pvd[168] << 16 |
                      (guint32)pvd[169] << 24;
        sane = pvd[156] >= 34 && block == 2048 && len > 0 &&
               len <= 16 * 1024 * 1024 && extent > 0 &&
               fseek(f, 0, SEEK_END) == 0 &&
               (guint64)extent * block + len <= (guint64)ftell(f);
    }
    fclose(f);
    if (read_error) {
        g_set_error(error, MIMIC_OS_DETECT_ERROR, MIMIC_OS_DETECT_ERROR_READ,
                    "%s", "read error");
        return NULL;
    }
    if (!iso) {
        g_set_error_literal(error, MIMIC_OS_DETECT_ERROR,
                            MIMIC_OS_DETECT_ERROR_NOT_ISO,
                            "no ISO 9660 volume descriptor");
        return NULL;
    }
    g_autofree char *vid = NULL;
    MimicOsType table = mimic_detect_os(path, &vid);
    MimicOsGuess *g = NULL;
#ifdef HAVE_LIBOSINFO
    if (sane) {
        g = identify_osinfo(path);
    }
#else
    (void)sane;
#endif
    if (!g) {
        g = g_new0(MimicOsGuess, 1);
        g->os = table;
        g->cpu = table == MIMIC_OS_COUNT ? NULL : cpu_for_arch(NULL);
    }
    g->volume_id = g_steal_pointer(&vid);
    return g;
}

static void identify_thread(GTask *task, gpointer source, gpointer data,
                            GCancellable *cancellable)
{
    GError *err = NULL;
    MimicOsGuess *g = mimic_os_identify(data, &err);
    if (g) {
        g_task_return_pointer(task, g, (GDestroyNotify)mimic_os_guess_free);
    } else {
        g_task_return_error(task, err);
    }
}

void mimic_os_identify_async(const char *path, GCancellable *cancellable,
                             GAsyncReadyCallback done, gpointer user_data)
{
    GTask *task = g_task_new(NULL, cancellable, done, user_data);
    g_task_set_task_data(task, g_strdup(path), g_free);
    g_task_set_return_on_cancel(task, TRUE);
    g_task_run_in_thread(task, identify_thread);
    g_object_unref(task);
}

MimicOsGuess *mimic_os_identify_finish(GAsyncResult *res, GError **error)
{
    return g_task_propagate_pointer(G_TASK(res), error);
}
