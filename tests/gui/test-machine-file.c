/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Machine files (src/gui/machine_file.c): the wizard's presets give the
 * machine files docs/gui.md promises, files round-trip through
 * MachineConfig, bad values are rejected with a message naming the key,
 * and a bad file never costs the library its other machines.
 */
#include <string.h>
#include <glib/gstdio.h>

#include "gui/machine_file.h"
#include "gui/osdetect.h"
#include "engine/mimic.h"

static char *to_data(const MimicMachineFile *mf)
{
    gsize len;
    return mimic_machine_file_to_data(mf, &len);
}

static GKeyFile *to_keyfile(const MimicMachineFile *mf)
{
    g_autofree char *data = to_data(mf);
    GKeyFile *kf = g_key_file_new();
    g_assert_true(g_key_file_load_from_data(kf, data, -1, 0, NULL));
    return kf;
}

typedef struct PresetCase {
    MimicOsType os;
    const char *os_id;
    const char *memory;
    /* In order of preference: the machine gets the first the engine
       emulates (mimic_sound_cards(), mimic_nic_models()). */
    const char *sound; /* NULL: none */
    const char *nic;
    const char *localtime;
    const char *tablet;
} PresetCase;

/* What docs/gui.md ("OS presets") promises for each system. */
static const PresetCase preset_cases[] = {
    { MIMIC_OS_LINUX, "linux", "512", "hda,ac97", "virtio-net-pci,e1000",
      "false", "true" },
    { MIMIC_OS_DOS, "dos", "32", "sb16", "ne2k_pci,ne2k_isa,rtl8139,e1000",
      "true", "false" },
    { MIMIC_OS_WIN9X, "win9x", "64", "sb16", "ne2k_pci,rtl8139,e1000",
      "true", "false" },
    { MIMIC_OS_WINNT, "winnt", "512", "ac97,sb16", "rtl8139,e1000", "true",
      "true" },
    { MIMIC_OS_OTHER, "other", "128", NULL, "ne2k_pci,rtl8139,e1000",
      "false", "false" },
};

/* The first of a preference list the engine has; NULL: none of them. */
static const char *first_of(const char *prefs, const char *const *have)
{
    g_auto(GStrv) want = g_strsplit(prefs ? prefs : "", ",", -1);
    for (int i = 0; want[i]; i++) {
        if (*want[i] && g_strv_contains(have, want[i])) {
            return g_intern_string(want[i]);
        }
    }
    return NULL;
}

static void test_preset(gconstpointer data)
{
    const PresetCase *pc = data;
    MimicNewMachine c = {
        .name = "Test box",
        .os = pc->os,
        .disk_path = "/images/test.qcow2",
        .disk_format = "qcow2",
        .cdrom = "/isos/install.iso",
        .boot = "dc",
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(MimicMachineFile) mf = mimic_machine_file_new_from_choices(
        &c, &err);
    g_assert_no_error(err);
    g_autoptr(GKeyFile) kf = to_keyfile(mf);
#define EXPECT(group, key, want)                                            \
    do {                                                                    \
        g_autofree char *v = g_key_file_get_value(kf, group, key, NULL);    \
        g_assert_cmpstr(v, ==, want);                                       \
    } while (0)
    EXPECT("Machine", "name", "Test box");
    EXPECT("Machine", "os", pc->os_id);
    EXPECT("Machine", "memory", pc->memory);
    const char *sound = first_of(pc->sound, mimic_sound_cards());
    const char *nic = first_of(pc->nic, mimic_nic_models());
    g_autofree char *sound_list = g_strdup_printf("%s;", sound);
    /* The e1000 is the board's default: every preset can fall back to it. */
    g_assert_nonnull(nic);
    EXPECT("Machine", "sound", sound ? sound_list : "");
    EXPECT("Machine", "nic", nic);
    EXPECT("Machine", "net", "user");
    EXPECT("Machine", "boot", "dc");
    EXPECT("Machine", "rtc-localtime", pc->localtime);
    EXPECT("Machine", "tablet", pc->tablet);
    /* The engine gets the tablet (a USB controller comes with it). */
    g_assert_cmpint(mf->cfg->n_usb_devices, ==,
                    !strcmp(pc->tablet, "true"));
    g_autofree char *line = mimic_machine_file_command_line(mf);
    g_assert_true((strstr(line, "-device usb-tablet") != NULL) ==
                  !strcmp(pc->tablet, "true"));
    EXPECT("Drives", "hda", "/images/test.qcow2");
    EXPECT("Drives", "hda-format", "qcow2");
    EXPECT("Drives", "cdrom", "/isos/install.iso");
#undef EXPECT
    /* Nothing else creeps in. */
    g_auto(GStrv) dkeys = g_key_file_get_keys(kf, "Drives", NULL, NULL);
    g_assert_cmpuint(g_strv_length(dkeys), ==, 3);
}

static void test_choices_memory_and_no_disk(void)
{
    MimicNewMachine c = { .name = "m", .os = MIMIC_OS_DOS,
                          .memory_mib = 16 };
    g_autoptr(MimicMachineFile) mf = mimic_machine_file_new_from_choices(
        &c, NULL);
    g_assert_nonnull(mf);
    g_assert_cmpuint(mf->cfg->ram_size, ==, 16u << 20);
    g_assert_cmpint(mf->cfg->n_drives, ==, 0);

    MimicNewMachine bad = { .name = "m", .os = MIMIC_OS_DOS,
                            .memory_mib = 100000 };
    g_autoptr(GError) err = NULL;
    g_assert_null(mimic_machine_file_new_from_choices(&bad, &err));
    g_assert_error(err, MIMIC_MACHINE_FILE_ERROR,
                   MIMIC_MACHINE_FILE_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "memory"));

    MimicNewMachine badboot = { .name = "m", .os = MIMIC_OS_DOS,
                                .boot = "cx" };
    g_clear_error(&err);
    g_assert_null(mimic_machine_file_new_from_choices(&badboot, &err));
    g_assert_nonnull(strstr(err->message, "boot"));

    MimicNewMachine badname = { .name = "../evil", .os = MIMIC_OS_DOS };
    g_clear_error(&err);
    g_assert_null(mimic_machine_file_new_from_choices(&badname, &err));
}

static void assert_same_config(const MachineConfig *a, const MachineConfig *b)
{
    g_assert_cmpstr(a->name, ==, b->name);
    g_assert_cmpuint(a->ram_size, ==, b->ram_size);
    g_assert_cmpint(a->smp, ==, b->smp);
    g_assert_cmpstr(a->cpu_model, ==, b->cpu_model);
    g_assert_cmpstr(a->boot_order, ==, b->boot_order);
    g_assert_cmpint(a->n_soundhw, ==, b->n_soundhw);
    for (int i = 0; i < a->n_soundhw; i++) {
        g_assert_cmpstr(a->soundhw[i], ==, b->soundhw[i]);
    }
    g_assert_cmpint(a->n_nics, ==, b->n_nics);
    for (int i = 0; i < a->n_nics; i++) {
        g_assert_cmpstr(a->nics[i].model, ==, b->nics[i].model);
    }
    g_assert_cmpint(a->n_netdevs, ==, b->n_netdevs);
    g_assert_cmpint(a->usb, ==, b->usb);
    g_assert_cmpint(a->n_usb_devices, ==, b->n_usb_devices);
    for (int i = 0; i < a->n_usb_devices; i++) {
        g_assert_cmpstr(a->usb_devices[i], ==, b->usb_devices[i]);
    }
    g_assert_cmpint(a->full_screen, ==, b->full_screen);
    g_assert_cmpint(a->rtc_localtime, ==, b->rtc_localtime);
    g_assert_cmpint(a->n_drives, ==, b->n_drives);
    for (int i = 0; i < a->n_drives; i++) {
        /* Drives may come back in another order: match by slot. */
        const DriveConfig *da = &a->drives[i];
        const DriveConfig *db = NULL;
        for (int j = 0; j < b->n_drives; j++) {
            if (b->drives[j].interface == da->interface &&
                b->drives[j].index == da->index) {
                db = &b->drives[j];
            }
        }
        g_assert_nonnull(db);
        g_assert_cmpstr(da->file, ==, db->file);
        g_assert_cmpstr(da->format, ==, db->format);
        g_assert_cmpint(da->media, ==, db->media);
    }
}

static void test_round_trip(void)
{
    g_autoptr(MimicMachineFile) mf = mimic_machine_file_new(
        "Round (trip)", MIMIC_OS_WINNT);
    MachineConfig *cfg = mf->cfg;
    cfg->ram_size = 768ull << 20;
    cfg->smp = 2;
    cfg->usb = true;
    cfg->full_screen = true;
    g_strlcpy(cfg->boot_order, "cdn", sizeof(cfg->boot_order));
    cfg->soundhw[cfg->n_soundhw++] = g_strdup("adlib");
    DriveConfig *d = &cfg->drives[cfg->n_drives++];
    d->file = g_strdup("/a/b/disk one.qcow");
    d->format = g_strdup("qcow");
    d->interface = DRIVE_IF_IDE;
    d->index = 1;
    d->media = DRIVE_MEDIA_DISK;
    d = &cfg->drives[cfg->n_drives++];
    d->interface = DRIVE_IF_IDE;
    d->index = 2;
    d->media = DRIVE_MEDIA_CDROM;
    d->format = g_strdup("raw");
    d = &cfg->drives[cfg->n_drives++];
    d->file = g_strdup("/f/boot.img");
    d->format = g_strdup("raw");
    d->interface = DRIVE_IF_FLOPPY;
    d->index = 0;
    d->media = DRIVE_MEDIA_DISK;

    g_autofree char *data = to_data(mf);
    g_autoptr(GError) err = NULL;
    g_autoptr(MimicMachineFile) back = mimic_machine_file_from_data(
        data, strlen(data), &err);
    g_assert_no_error(err);
    g_assert_cmpint(back->os, ==, MIMIC_OS_WINNT);
    assert_same_config(mf->cfg, back->cfg);
    /* And the text is a fixed point. */
    g_autofree char *again = to_data(back);
    g_assert_cmpstr(data, ==, again);

    g_autofree char *cmd = mimic_machine_file_command_line(back);
    g_assert_nonnull(strstr(cmd, "-m 768"));
    g_assert_nonnull(strstr(cmd, "-smp 2"));
    g_assert_nonnull(strstr(cmd, "'file=/a/b/disk one.qcow,format=qcow,"
                                 "if=ide,index=1,media=disk'"));
    g_assert_nonnull(strstr(cmd, "-fda /f/boot.img"));
    g_assert_nonnull(strstr(cmd, "-boot order=cdn"));
    g_assert_nonnull(strstr(cmd, "-full-screen"));
}

/* Names in any script are machine names; path and control characters
   are not (the name is also the file's). */
static void test_unicode_names(void)
{
    static const char *const good[] = { "Débian", "中文机器", "Ωmega 2",
                                        "Tëst (x86)", NULL };
    static const char *const bad[] = { "a/b", "tab\there", "x\xff",
                                       ".hidden", "semi;colon", NULL };
    for (int i = 0; good[i]; i++) {
        g_autoptr(GError) err = NULL;
        g_assert_true(mimic_machine_name_valid(good[i], &err));
        g_assert_no_error(err);
    }
    for (int i = 0; bad[i]; i++) {
        g_autoptr(GError) err = NULL;
        g_assert_false(mimic_machine_name_valid(bad[i], &err));
        g_assert_nonnull(err);
    }
    /* And such a machine goes to disk and back under its own name. */
    g_autofree char *dir = g_dir_make_tmp("mimic-mf-XXXXXX", NULL);
    g_autoptr(MimicMachineFile) mf = mimic_machine_file_new("Débian",
                                                            MIMIC_OS_LINUX);
    g_autoptr(GError) err = NULL;
    g_assert_true(mimic_machine_file_save(mf, dir, &err));
    g_autofree char *path = mimic_machine_file_path(dir, "Débian");
    g_autoptr(MimicMachineFile) back = mimic_machine_file_load(path, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(back->cfg->name, ==, "Débian");
    g_unlink(path);
    g_rmdir(dir);
}

/* User networking's port forwards: stored, given to the engine as
   hostfwd= options, checked. */
static void test_port_forwards(void)
{
    g_autoptr(MimicMachineFile) mf = mimic_machine_file_new("Fwd",
                                                            MIMIC_OS_LINUX);
    const char *const rules[] = { "tcp::2222-:22",
                                  "udp:127.0.0.1:5353-10.0.2.15:53", NULL };
    g_autoptr(GError) err = NULL;
    g_assert_true(mimic_machine_set_port_forwards(mf->cfg, rules, &err));
    g_assert_cmpstr(mf->cfg->netdevs[0].options, ==,
                    "hostfwd=tcp::2222-:22,"
                    "hostfwd=udp:127.0.0.1:5353-10.0.2.15:53");
    g_autofree char *data = to_data(mf);
    g_assert_nonnull(strstr(data, "port-forwards=tcp::2222-:22;"
                                  "udp:127.0.0.1:5353-10.0.2.15:53;\n"));
    g_autoptr(MimicMachineFile) back = mimic_machine_file_from_data(
        data, strlen(data), &err);
    g_assert_no_error(err);
    g_auto(GStrv) got = mimic_machine_port_forwards(back->cfg);
    g_assert_cmpuint(g_strv_length(got), ==, 2);
    g_assert_cmpstr(got[0], ==, rules[0]);
    g_assert_cmpstr(got[1], ==, rules[1]);
    g_autofree char *cmd = mimic_machine_file_command_line(back);
    g_assert_nonnull(strstr(cmd, "user,hostfwd=tcp::2222-:22,hostfwd="));
    static const char *const bad[] = { "tcp::0-:22", "tcp::2222-:99999",
                                       "icmp::1-:2", "tcp:2222:22", "",
                                       "tcp::22-:22,hostfwd=x", NULL };
    for (int i = 0; bad[i]; i++) {
        g_autoptr(GError) e = NULL;
        const char *const one[] = { bad[i], NULL };
        g_assert_false(mimic_machine_set_port_forwards(mf->cfg, one, &e));
        g_assert_nonnull(e);
        g_autofree char *file = g_strdup_printf(
            "[Machine]\nname=Fwd\nos=linux\nnic=e1000\nnet=user\n"
            "port-forwards=%s;\n", bad[i]);
        g_autoptr(GError) e2 = NULL;
        g_autoptr(MimicMachineFile) m2 = mimic_machine_file_from_data(
            file, strlen(file), &e2);
        g_assert_null(m2);
        g_assert_nonnull(strstr(e2->message, "port-forwards"));
    }
}

/* An image with an ISO 9660 primary volume descriptor naming `id`. */
static char *make_iso(const char *dir, const char *name, const char *id)
{
    g_autofree char *data = g_malloc0(18 * 2048);
    if (id) {
        char *pvd = data + 16 * 2048;
        pvd[0] = 1;
        memcpy(pvd + 1, "CD001", 5);
        pvd[6] = 1;
        memset(pvd + 40, ' ', 32);
        memcpy(pvd + 40, id, MIN(strlen(id), 32));
    }
    char *path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(path, data, 18 * 2048, NULL));
    return path;
}

/* The wizard proposes the system from an installation disc's volume ID. */
static void test_detect_os(void)
{
    static const struct {
        const char *id;
        MimicOsType os;
    } cases[] = {
        { "Debian 12.5.0 i386 n", MIMIC_OS_LINUX },
        { "Ubuntu 22.04 LTS amd64", MIMIC_OS_LINUX },
        { "MIMIC_DEMO", MIMIC_OS_LINUX },
        { "FREEDOS13", MIMIC_OS_DOS },
        { "WIN98 SE", MIMIC_OS_WIN9X },
        { "Windows_95", MIMIC_OS_WIN9X },
        { "WXPFPP_EN", MIMIC_OS_WINNT },
        { "W2KPRO", MIMIC_OS_WINNT },
        { "MY_BACKUP_DISC", MIMIC_OS_COUNT },
    };
    g_autofree char *dir = g_dir_make_tmp("mimic-os-XXXXXX", NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *iso = make_iso(dir, "a.iso", cases[i].id);
        g_autofree char *vid = NULL;
        g_assert_cmpint(mimic_detect_os(iso, &vid), ==, cases[i].os);
        g_assert_cmpstr(vid, ==, cases[i].id);
        g_unlink(iso);
    }
    /* No volume descriptor, no file: nothing detected, no ID. */
    g_autofree char *blank = make_iso(dir, "b.iso", NULL);
    g_autofree char *vid = NULL;
    g_assert_cmpint(mimic_detect_os(blank, &vid), ==, MIMIC_OS_COUNT);
    g_assert_null(vid);
    g_assert_cmpint(mimic_detect_os("/nonexistent.iso", &vid), ==,
                    MIMIC_OS_COUNT);
    g_unlink(blank);
    g_rmdir(dir);
}

/* An ISO 9660 image whose primary volume descriptor has these IDs. */
static char *make_iso2(const char *dir, const char *name, const char *id,
                       const char *publisher)
{
    g_autofree char *path = make_iso(dir, name, id);
    gsize len;
    g_autofree char *data = NULL;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    unsigned char *pvd = (unsigned char *)data + 16 * 2048;
    if (publisher) {
        memset(pvd + 318, ' ', 128);
        memcpy(pvd + 318, publisher, MIN(strlen(publisher), 128));
    }
    /* Logical blocks of 2048 bytes; the root directory: one empty block
       (17), which a volume descriptor set terminator would hold. */
    pvd[128] = 0x00, pvd[129] = 0x08;
    pvd[156] = 34;
    pvd[158] = 17;
    pvd[166] = 0x00, pvd[167] = 0x08;
    g_assert_true(g_file_set_contents(path, data, len, NULL));
    return g_steal_pointer(&path);
}

static bool emulated(const char *const *list, const char *name)
{
    for (; list && *list; list++) {
        if (!strcmp(*list, name)) {
            return true;
        }
    }
    return false;
}

#ifdef HAVE_LIBOSINFO
static OsinfoDevice *pci_device(const char *klass, const char *vendor,
                                const char *product)
{
    g_autofree char *id = g_strdup_printf("http://pcisig.com/pci/%s/%s",
                                          vendor, product);
    OsinfoDevice *d = osinfo_device_new(id);
    OsinfoEntity *e = OSINFO_ENTITY(d);
    osinfo_entity_set_param(e, OSINFO_DEVICE_PROP_CLASS, klass);
    osinfo_entity_set_param(e, OSINFO_DEVICE_PROP_BUS_TYPE, "pci");
    osinfo_entity_set_param(e, OSINFO_DEVICE_PROP_VENDOR_ID, vendor);
    osinfo_entity_set_param(e, OSINFO_DEVICE_PROP_PRODUCT_ID, product);
    return d;
}

static OsinfoOs *make_os(const char *short_id, const char *family,
                         const char *distro)
{
    g_autofree char *id = g_strdup_printf("http://example.org/%s",
                                          short_id);
    OsinfoOs *os = osinfo_os_new(id);
    OsinfoEntity *e = OSINFO_ENTITY(os);
    osinfo_entity_set_param(e, OSINFO_PRODUCT_PROP_SHORT_ID, short_id);
    osinfo_entity_set_param(e, OSINFO_PRODUCT_PROP_NAME, short_id);
    osinfo_entity_set_param(e, OSINFO_OS_PROP_FAMILY, family);
    if (distro) {
        osinfo_entity_set_param(e, OSINFO_OS_PROP_DISTRO, distro);
    }
    return os;
}

static void add_resources(OsinfoOs *os, const char *arch, bool recommended,
                          gint64 ram, gint64 storage)
{
    g_autofree char *id = g_strdup_printf(
        "%s/%s/%s", osinfo_entity_get_id(OSINFO_ENTITY(os)), arch,
        recommended ? "rec" : "min");
    g_autoptr(OsinfoResources) r = osinfo_resources_new(id, arch);
    osinfo_resources_set_ram(r, ram);
    osinfo_resources_set_storage(r, storage);
    if (recommended) {
        osinfo_os_add_recommended_resources(os, r);
    } else {
        osinfo_os_add_minimum_resources(os, r);
    }
}

/* An OsinfoOs of the database becomes a preset with its resources. */
static void test_osinfo_mapping(void)
{
    unsigned host = mimic_host_memory_mib();
    /* A Linux with 1 GiB / 20 GiB recommended, drivers for ac97 and e1000
       (and a NIC we do not emulate). */
    g_autoptr(OsinfoOs) lin = make_os("testlinux1", "linux", "debian");
    osinfo_entity_set_param(OSINFO_ENTITY(lin), OSINFO_PRODUCT_PROP_CODENAME,
                            "bookworm");
    add_resources(lin, "all", false, 256 * 1048576ll, 2 * 1073741824ll);
    add_resources(lin, "all", true, 1073741824ll, 20 * 1073741824ll);
    g_autoptr(OsinfoDevice) ac97 = pci_device("audio", "8086", "2415");
    g_autoptr(OsinfoDevice) e1000 = pci_device("net", "8086", "100e");
    g_autoptr(OsinfoDevice) e1000e = pci_device("net", "8086", "10d3");
    osinfo_os_add_device(lin, ac97);
    osinfo_os_add_device(lin, e1000e);
    osinfo_os_add_device(lin, e1000);
    g_autoptr(MimicOsGuess) g = mimic_os_guess_from_osinfo(lin, "i686");
    g_assert_cmpint(g->os, ==, MIMIC_OS_LINUX);
    g_assert_true(g->from_osinfo);
    g_assert_cmpstr(g->short_id, ==, "testlinux1");
    g_assert_cmpuint(g->memory_mib, ==,
                     host && host / 2 < 1024 ? MAX(host / 2, 16) : 1024);
    g_assert_cmpuint(g->disk_mib, ==, 20 * 1024);
    g_assert_cmpstr(g->cpu, ==, "pentium2");
    /* The preset's order is hda, ac97: the OS has a driver for ac97. */
    g_assert_cmpstr(g->sound, ==,
                    emulated(mimic_sound_cards(), "ac97") ? "ac97" : NULL);
    /* virtio-net-pci, e1000: only e1000 is the OS's. */
    g_assert_cmpstr(g->nic, ==,
                    emulated(mimic_nic_models(), "e1000") ? "e1000" : NULL);
    g_autofree char *what = mimic_os_guess_describe(g);
    g_assert_cmpstr(what, ==, "testlinux1 (bookworm) i686");

    /* x86_64: the 64-bit CPU, the arch's own resources, memory capped. */
    add_resources(lin, "x86_64", true, 64 * 1073741824ll,
                  500 * 1073741824ll);
    g_autoptr(MimicOsGuess) g64 = mimic_os_guess_from_osinfo(lin, "x86_64");
    g_assert_cmpstr(g64->cpu, ==, "qemu64");
    g_assert_cmpuint(g64->memory_mib, ==,
                     host && host / 2 < 8192 ? MAX(host / 2, 16) : 8192);
    g_assert_cmpuint(g64->disk_mib, ==, 64 * 1024);

    /* Only minimum resources: those; none at all: the preset's (0). */
    g_autoptr(OsinfoOs) fd = make_os("freedos1.2", "linux", "freedos");
    add_resources(fd, "all", false, 32 * 1048576ll, 200 * 1048576ll);
    g_autoptr(MimicOsGuess) gfd = mimic_os_guess_from_osinfo(fd, "x86_64");
    g_assert_cmpint(gfd->os, ==, MIMIC_OS_DOS); /* "linux" in osinfo-db */
    g_assert_cmpuint(gfd->memory_mib, ==, 32);
    g_assert_cmpuint(gfd->disk_mib, ==, 512); /* at least 512 MiB */
    g_assert_null(gfd->sound);
    g_assert_null(gfd->nic);
    static const struct {
        const char *family, *distro;
        MimicOsType os;
    } families[] = {
        { "win9x", "win", MIMIC_OS_WIN9X },
        { "winnt", "win", MIMIC_OS_WINNT },
        { "msdos", "msdos", MIMIC_OS_DOS },
        { "freebsd", "freebsd", MIMIC_OS_OTHER },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(families); i++) {
        g_autoptr(OsinfoOs) os = make_os(families[i].family,
                                         families[i].family,
                                         families[i].distro);
        g_autoptr(MimicOsGuess) gi = mimic_os_guess_from_osinfo(os, NULL);
        g_assert_cmpint(gi->os, ==, families[i].os);
        g_assert_cmpuint(gi->memory_mib, ==, 0);
        g_assert_cmpuint(gi->disk_mib, ==, 0);
    }
}
#endif

/*
 * Identifying a disc: libosinfo's database (Debian's osinfo-db) knows a
 * Debian 11 netinst and a Windows XP CD by their volume descriptor, a
 * Debian 12 netinst and DVD (added to the 2022 database, which lacks
 * them); errors for a file that is not an ISO or cannot be read.
 */
static void test_identify(void)
{
    g_autofree char *dir = g_dir_make_tmp("mimic-osid-XXXXXX", NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *deb = make_iso2(dir, "d.iso", "Debian 11.7.0 i386 n",
                                     NULL);
    g_autoptr(MimicOsGuess) g = mimic_os_identify(deb, &err);
    g_assert_no_error(err);
    g_assert_cmpint(g->os, ==, MIMIC_OS_LINUX);
    g_assert_cmpstr(g->volume_id, ==, "Debian 11.7.0 i386 n");
    if (mimic_os_detect_has_osinfo()) {
        g_assert_true(g->from_osinfo);
        g_assert_cmpstr(g->short_id, ==, "debian11");
        g_assert_cmpstr(g->arch, ==, "i686");
        g_assert_cmpstr(g->codename, ==, "bullseye");
        g_assert_cmpuint(g->disk_mib, ==, 20 * 1024);
    }
    g_autofree char *xp = make_iso2(dir, "x.iso", "WXPFPP_EN",
                                    "MICROSOFT CORPORATION");
    g_autoptr(MimicOsGuess) gx = mimic_os_identify(xp, &err);
    g_assert_no_error(err);
    g_assert_cmpint(gx->os, ==, MIMIC_OS_WINNT);
    if (mimic_os_detect_has_osinfo()) {
        g_assert_cmpstr(gx->short_id, ==, "winxp");
        g_assert_cmpuint(gx->memory_mib, ==, 512);
    }
    g_autofree char *d12 = make_iso2(dir, "e.iso", "Debian 12.5.0 i386 n",
                                     NULL);
    g_autoptr(MimicOsGuess) g12 = mimic_os_identify(d12, &err);
    g_assert_no_error(err);
    g_assert_cmpint(g12->os, ==, MIMIC_OS_LINUX);
    if (mimic_os_detect_has_osinfo()) {
        /* The database's own debian12, or ours added beside Debian 11. */
        g_assert_true(g12->from_osinfo);
        g_assert_cmpstr(g12->short_id, ==, "debian12");
        g_assert_cmpstr(g12->codename, ==, "bookworm");
        g_assert_cmpstr(g12->arch, ==, "i686");
        g_autofree char *what = mimic_os_guess_describe(g12);
        g_assert_cmpstr(what, ==, "Debian 12 (bookworm) i686");
        g_assert_cmpuint(g12->disk_mib, >=, 10 * 1024);
    }
    g_autofree char *d12dvd = make_iso2(dir, "f.iso",
                                        "Debian 12.1.0 amd64 1", NULL);
    g_autoptr(MimicOsGuess) g12d = mimic_os_identify(d12dvd, &err);
    g_assert_no_error(err);
    if (mimic_os_detect_has_osinfo()) {
        g_assert_cmpstr(g12d->short_id, ==, "debian12");
        g_assert_cmpstr(g12d->arch, ==, "x86_64");
        g_assert_cmpstr(g12d->cpu, ==, "qemu64");
    }
    g_autofree char *unk = make_iso2(dir, "u.iso", "MY_BACKUP_DISC", NULL);
    g_autoptr(MimicOsGuess) gu = mimic_os_identify(unk, &err);
    g_assert_no_error(err);
    g_assert_cmpint(gu->os, ==, MIMIC_OS_COUNT);
    g_assert_cmpstr(gu->volume_id, ==, "MY_BACKUP_DISC");
    /* A descriptor with an empty root directory record (libosinfo would
       trip a GLib critical on it): the table alone. */
    g_autofree char *bare = make_iso(dir, "z.iso", "Debian 11.7.0 i386 n");
    g_autoptr(MimicOsGuess) gz = mimic_os_identify(bare, &err);
    g_assert_no_error(err);
    g_assert_cmpint(gz->os, ==, MIMIC_OS_LINUX);
    g_assert_false(gz->from_osinfo);
    g_autofree char *blank = make_iso(dir, "b.iso", NULL);
    g_assert_true(mimic_file_has_iso_pvd(deb));
    g_assert_false(mimic_file_has_iso_pvd(blank));
    g_assert_false(mimic_file_has_iso_pvd("/nonexistent.iso"));
    g_assert_null(mimic_os_identify(blank, &err));
    g_assert_error(err, MIMIC_OS_DETECT_ERROR, MIMIC_OS_DETECT_ERROR_NOT_ISO);
    g_clear_error(&err);
    g_assert_null(mimic_os_identify("/nonexistent.iso", &err));
    g_assert_error(err, MIMIC_OS_DETECT_ERROR, MIMIC_OS_DETECT_ERROR_READ);
    const char *names[] = { "d.iso", "x.iso", "e.iso", "f.iso", "u.iso",
                            "z.iso", "b.iso" };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *p = g_build_filename(dir, names[i], NULL);
        g_unlink(p);
    }
    g_rmdir(dir);
}

/* A good file; each bad case replaces one line of it. */
static const char good_file[] =
    "[Machine]\n"
    "name=Good\n"
    "os=dos\n"
    "memory=32\n"
    "cpus=1\n"
    "boot=cd\n"
    "sound=sb16;\n"
    "nic=ne2k_pci\n"
    "net=user\n"
    "usb=false\n"
    "full-screen=false\n"
    "[Drives]\n"
    "hda=/disks/good.qcow2\n"
    "hda-format=qcow2\n"
    "cdrom=\n";

typedef struct BadCase {
    const char *find, *replace; /* replace the line starting with find */
    const char *key;            /* the message must name it */
} BadCase;

static const BadCase bad_cases[] = {
    { "memory=", "memory=0", "memory" },
    { "memory=", "memory=99999999", "memory" },
    { "memory=", "memory=32M", "memory" },
    { "memory=", "memory=-5", "memory" },
    { "cpus=", "cpus=17", "cpus" },
    { "os=", "os=beos", "os" },
    { "boot=", "boot=cz", "boot" },
    { "boot=", "boot=cc", "boot" },
    { "boot=", "boot=", "boot" },
    { "sound=", "sound=gus;", "sound" },
    { "nic=", "nic=3c509", "nic" },
    { "net=", "net=tap", "net" },
    { "usb=", "usb=yes", "usb" },
    { "full-screen=", "full-screen=1", "full-screen" },
    { "hda=", "hda=relative/path.qcow2", "hda" },
    { "hda=", "hda=/a,b.qcow2", "hda" },
    { "hda-format=", "hda-format=vmdk", "hda-format" },
    { "hda-format=", "colour=blue", "colour" },
    { "name=", "name=../../etc/passwd", "name" },
    { "name=", "name=", "name" },
    { "[Drives]", "[Extra]", "Extra" },
};

static char *apply_case(const BadCase *bc)
{
    g_auto(GStrv) lines = g_strsplit(good_file, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], bc->find)) {
            g_free(lines[i]);
            lines[i] = g_strdup(bc->replace);
            break;
        }
    }
    return g_strjoinv("\n", lines);
}

static void test_good_file(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(MimicMachineFile) mf = mimic_machine_file_from_data(
        good_file, strlen(good_file), &err);
    g_assert_no_error(err);
    g_assert_cmpuint(mf->cfg->ram_size, ==, 32u << 20);
    g_assert_cmpint(mf->cfg->n_drives, ==, 2);
}

static void test_bad_value(gconstpointer data)
{
    const BadCase *bc = data;
    g_autofree char *text = apply_case(bc);
    g_assert_cmpstr(text, !=, good_file);
    g_autoptr(GError) err = NULL;
    g_autoptr(MimicMachineFile) mf = mimic_machine_file_from_data(
        text, strlen(text), &err);
    g_assert_null(mf);
    g_assert_nonnull(err);
    g_test_message("%s -> %s", bc->replace, err->message);
    g_assert_nonnull(strstr(err->message, bc->key));
}

static void write_file(const char *dir, const char *name, const char *text)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(p, text, -1, NULL));
}

static char *read_file(const char *dir, const char *name)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
    return text;
}

static void test_library_keeps_others(void)
{
    g_autofree char *dir = g_dir_make_tmp("mimic-lib-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_autoptr(MimicMachineFile) a = mimic_machine_file_new("Alpha",
                                                           MIMIC_OS_LINUX);
    g_autoptr(MimicMachineFile) b = mimic_machine_file_new("Beta",
                                                           MIMIC_OS_DOS);
    g_assert_true(mimic_machine_file_save(b, dir, NULL));
    g_assert_true(mimic_machine_file_save(a, dir, NULL));
    BadCase bc = { "memory=", "memory=lots", "memory" };
    g_autofree char *bad = apply_case(&bc);
    write_file(dir, "Good.mimic", bad); /* a bad value */
    write_file(dir, "Garbage.mimic", "\x01\x02 not a key file [");
    /* A good file under another machine's name. */
    write_file(dir, "Imposter.mimic", good_file);
    write_file(dir, "notes.txt", "not a machine");

    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) ms = mimic_library_load(dir, errors);
    g_assert_cmpuint(ms->len, ==, 2);
    g_assert_cmpstr(((MimicMachineFile *)ms->pdata[0])->cfg->name, ==,
                    "Alpha");
    g_assert_cmpstr(((MimicMachineFile *)ms->pdata[1])->cfg->name, ==,
                    "Beta");
    g_assert_cmpuint(errors->len, ==, 3);
    bool saw_memory = false;
    for (guint i = 0; i < errors->len; i++) {
        const char *e = errors->pdata[i];
        g_test_message("%s", e);
        saw_memory |= g_str_has_prefix(e, "Good.mimic: memory");
    }
    g_assert_true(saw_memory);

    /* Saving another machine leaves every file as it was. */
    g_autofree char *alpha_before = read_file(dir, "Alpha.mimic");
    g_autoptr(MimicMachineFile) c = mimic_machine_file_new("Gamma",
                                                           MIMIC_OS_WIN9X);
    g_assert_true(mimic_machine_file_save(c, dir, NULL));
    g_autofree char *bad_after = read_file(dir, "Good.mimic");
    g_assert_cmpstr(bad_after, ==, bad);
    g_autofree char *alpha_after = read_file(dir, "Alpha.mimic");
    g_assert_cmpstr(alpha_after, ==, alpha_before);
    g_autoptr(GPtrArray) ms2 = mimic_library_load(dir, NULL);
    g_assert_cmpuint(ms2->len, ==, 3);

    /* A name that is not a file name is refused before anything is made. */
    g_autoptr(MimicMachineFile) evil = mimic_machine_file_new("x",
                                                              MIMIC_OS_DOS);
    g_free(evil->cfg->name);
    evil->cfg->name = g_strdup("../escape");
    g_autoptr(GError) err = NULL;
    g_assert_false(mimic_machine_file_save(evil, dir, &err));
    g_assert_nonnull(err);

    const char *names[] = { "Alpha.mimic", "Beta.mimic", "Gamma.mimic",
                            "Good.mimic", "Garbage.mimic", "Imposter.mimic",
                            "notes.txt" };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *p = g_build_filename(dir, names[i], NULL);
        g_assert_cmpint(g_unlink(p), ==, 0);
    }
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/*
 * make run's demo machine: written when missing with the CD image and
 * boot order the demo needs; a changed demo is kept as the person left it
 * except for a CD image that is gone; a demo file that does not load is
 * never overwritten.
 */
static void test_demo(void)
{
    g_autofree char *dir = g_dir_make_tmp("mimic-demo-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_autofree char *iso = g_build_filename(dir, "demo.iso", NULL);
    g_assert_true(g_file_set_contents(iso, "", 0, NULL));
    const char *file = MIMIC_DEMO_MACHINE_NAME ".mimic";
    bool written = false;
    g_autoptr(GError) err = NULL;

    g_assert_true(mimic_library_ensure_demo(dir, iso, &written, &err));
    g_assert_no_error(err);
    g_assert_true(written);
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autoptr(MimicMachineFile) mf = mimic_machine_file_load(path, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(mf->cfg->name, ==, "Debian Linux (demo)");
    g_assert_cmpint(mf->os, ==, MIMIC_OS_LINUX);
    g_assert_cmpuint(mf->cfg->ram_size, ==, 256u << 20);
    g_assert_cmpstr(mf->cfg->boot_order, ==, "d");
    g_assert_cmpint(mf->cfg->n_drives, ==, 1);
    g_assert_cmpint(mf->cfg->drives[0].media, ==, DRIVE_MEDIA_CDROM);
    g_assert_cmpstr(mf->cfg->drives[0].file, ==, iso);
    g_autofree char *first = read_file(dir, file);
    g_assert_nonnull(strstr(first, "cdrom=" ));

    /* Present and fine: left alone, even when the person changed it. */
    g_assert_nonnull(strstr(first, "memory=256\n"));
    GString *edit = g_string_new(first);
    g_string_replace(edit, "memory=256\n", "memory=128\n", 1);
    g_autofree char *changed = g_string_free(edit, FALSE);
    write_file(dir, file, changed);
    g_assert_true(mimic_library_ensure_demo(dir, iso, &written, &err));
    g_assert_false(written);
    g_autofree char *kept = read_file(dir, file);
    g_assert_cmpstr(kept, ==, changed);

    /* Its CD image is gone: pointed at the new one, the rest kept. */
    g_autofree char *iso2 = g_build_filename(dir, "demo2.iso", NULL);
    g_assert_true(g_file_set_contents(iso2, "", 0, NULL));
    g_assert_cmpint(g_unlink(iso), ==, 0);
    g_assert_true(mimic_library_ensure_demo(dir, iso2, &written, &err));
    g_assert_true(written);
    g_autoptr(MimicMachineFile) mf2 = mimic_machine_file_load(path, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(mf2->cfg->drives[0].file, ==, iso2);
    g_assert_cmpuint(mf2->cfg->ram_size, ==, 128u << 20);

    /* A demo file that does not load is the person's: never rewritten. */
    write_file(dir, file, "[Machine]\nname=Debian Linux (demo)\nmemory=0\n");
    g_assert_true(mimic_library_ensure_demo(dir, iso2, &written, &err));
    g_assert_false(written);
    g_autofree char *bad = read_file(dir, file);
    g_assert_cmpstr(bad, ==, "[Machine]\nname=Debian Linux (demo)\nmemory=0\n");

    /* No CD image named: an error, nothing written. */
    g_assert_cmpint(g_unlink(path), ==, 0);
    g_assert_false(mimic_library_ensure_demo(dir, "", &written, &err));
    g_assert_nonnull(err);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

    g_assert_cmpint(g_unlink(iso2), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/*
 * Saved states: NAME.state beside the machine file; the library loads the
 * machine and says nothing about the state file; the resume configuration
 * is the machine's plus -incoming file:PATH; discarding removes the file
 * and nothing else, and discarding none is no error.
 */
static void test_saved_state(void)
{
    g_autofree char *dir = g_dir_make_tmp("mimic-state-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_autoptr(GError) err = NULL;
    MimicNewMachine c = { .name = "Saver (1)", .os = MIMIC_OS_DOS,
                          .cdrom = "/srv/dos.iso", .boot = "dc" };
    g_autoptr(MimicMachineFile) mf = mimic_machine_file_new_from_choices(
        &c, &err);
    g_assert_no_error(err);
    g_assert_true(mimic_machine_file_save(mf, dir, &err));
    g_autofree char *path = mimic_machine_state_path(dir, "Saver (1)");
    g_autofree char *want = g_build_filename(dir, "Saver (1).state", NULL);
    g_assert_cmpstr(path, ==, want);
    g_assert_false(mimic_machine_has_state(dir, "Saver (1)"));
    g_assert_true(mimic_machine_discard_state(dir, "Saver (1)", &err));
    g_assert_no_error(err);

    write_file(dir, "Saver (1).state", "\x89MIMIC\r\n");
    g_assert_true(mimic_machine_has_state(dir, "Saver (1)"));
    g_assert_false(mimic_machine_has_state(dir, "Saver"));
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) ms = mimic_library_load(dir, errors);
    g_assert_cmpuint(ms->len, ==, 1);
    g_assert_cmpuint(errors->len, ==, 0);

    for (int force = 0; force < 2; force++) {
        MachineConfig *rc = mimic_machine_resume_config(mf, dir, force);
        g_autofree char *uri = g_strconcat("file:", want, NULL);
        g_assert_cmpstr(rc->incoming, ==, uri);
        g_assert_cmpint(rc->incoming_force, ==, force);
        /* Otherwise the very machine the file describes. */
        MimicMachineFile same = { .os = mf->os, .cfg = rc };
        g_autofree char *a = to_data(mf);
        g_autofree char *b = to_data(&same);
        g_assert_cmpstr(a, ==, b);
        g_assert_null(mf->cfg->incoming);
        machine_config_free(rc);
    }

    g_autofree char *before = read_file(dir, "Saver (1).mimic");
    g_assert_true(mimic_machine_discard_state(dir, "Saver (1)", &err));
    g_assert_no_error(err);
    g_assert_false(mimic_machine_has_state(dir, "Saver (1)"));
    g_assert_false(g_file_test(want, G_FILE_TEST_EXISTS));
    g_autofree char *after = read_file(dir, "Saver (1).mimic");
    g_assert_cmpstr(before, ==, after);

    /* A directory where the state should be cannot be discarded. */
    g_assert_cmpint(g_mkdir(want, 0700), ==, 0);
    g_assert_false(mimic_machine_has_state(dir, "Saver (1)"));
    g_assert_false(mimic_machine_discard_state(dir, "Saver (1)", &err));
    g_assert_error(err, MIMIC_MACHINE_FILE_ERROR,
                   MIMIC_MACHINE_FILE_ERROR_IO);
    g_assert_nonnull(strstr(err->message, "Saver (1).state"));
    g_assert_cmpint(g_rmdir(want), ==, 0);

    g_autofree char *mpath = g_build_filename(dir, "Saver (1).mimic", NULL);
    g_assert_cmpint(g_unlink(mpath), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* Which settings changes make a saved state unusable. */
static void test_changes_state(void)
{
    g_autoptr(MimicMachineFile) a = mimic_machine_file_new("m",
                                                           MIMIC_OS_LINUX);
    g_autoptr(MimicMachineFile) b = g_new0(MimicMachineFile, 1);
    b->os = a->os;
    b->cfg = machine_config_copy(a->cfg);
    g_assert_false(mimic_machine_file_changes_state(a, b));
    /* Neither the OS type nor full screen reach the engine. */
    b->os = MIMIC_OS_WIN9X;
    b->cfg->full_screen = !a->cfg->full_screen;
    g_assert_false(mimic_machine_file_changes_state(a, b));
    b->cfg->ram_size = a->cfg->ram_size * 2;
    g_assert_true(mimic_machine_file_changes_state(a, b));
    b->cfg->ram_size = a->cfg->ram_size;
    g_assert_false(mimic_machine_file_changes_state(a, b));
    b->cfg->rtc_localtime = !a->cfg->rtc_localtime;
    g_assert_true(mimic_machine_file_changes_state(a, b));
    b->cfg->rtc_localtime = a->cfg->rtc_localtime;
    b->cfg->usb = !a->cfg->usb;
    g_assert_true(mimic_machine_file_changes_state(a, b));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(preset_cases); i++) {
        g_autofree char *path = g_strdup_printf(
            "/gui/machine-file/preset/%s", preset_cases[i].os_id);
        g_test_add_data_func(path, &preset_cases[i], test_preset);
    }
    g_test_add_func("/gui/machine-file/choices",
                    test_choices_memory_and_no_disk);
    g_test_add_func("/gui/machine-file/round-trip", test_round_trip);
    g_test_add_func("/gui/machine-file/unicode-names", test_unicode_names);
    g_test_add_func("/gui/machine-file/port-forwards", test_port_forwards);
    g_test_add_func("/gui/machine-file/detect-os", test_detect_os);
#ifdef HAVE_LIBOSINFO
    g_test_add_func("/gui/os-detect/osinfo-mapping", test_osinfo_mapping);
#endif
    g_test_add_func("/gui/os-detect/identify", test_identify);
    g_test_add_func("/gui/machine-file/good", test_good_file);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path = g_strdup_printf(
            "/gui/machine-file/reject/%zu-%s", i, bad_cases[i].key);
        g_test_add_data_func(path, &bad_cases[i], test_bad_value);
    }
    g_test_add_func("/gui/machine-file/library-keeps-others",
                    test_library_keeps_others);
    g_test_add_func("/gui/machine-file/demo", test_demo);
    g_test_add_func("/gui/machine-file/saved-state", test_saved_state);
    g_test_add_func("/gui/machine-file/changes-state", test_changes_state);
    return g_test_run();
}
