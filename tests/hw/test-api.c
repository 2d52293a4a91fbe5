/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The typed engine API (mimic.h, engine/api.c) on a running pc machine
 * (stand-in CPU, real worker thread): save state, snapshots, media, and
 * the capabilities the GUI shows its menus from. Each call's done arrives
 * on the main context with a GError or NULL: nothing is parsed from
 * monitor text.
 */
#include <glib/gstdio.h>

#include "pc-rig.h"

#include "bus/audio.h"
#include "images/block.h"
#include "bus/net.h"

static char *tmpdir;

typedef struct Result {
    bool called;
    GError *error;
    GPtrArray *names;
} Result;

static void on_done(MimicMachine *m, const GError *error, gpointer data)
{
    Result *r = data;
    r->called = true;
    r->error = error ? g_error_copy(error) : NULL;
}

static void on_list(MimicMachine *m, GPtrArray *list, const GError *error,
                    gpointer data)
{
    Result *r = data;
    r->called = true;
    r->error = error ? g_error_copy(error) : NULL;
    r->names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; list && i < list->len; i++) {
        const MimicSnapshot *s = g_ptr_array_index(list, i);
        g_ptr_array_add(r->names, g_strdup(s->name));
    }
}

static void wait_result(Result *r)
{
    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (!r->called && g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    g_assert_true(r->called);
}

static void clear(Result *r)
{
    g_clear_error(&r->error);
    if (r->names) {
        g_ptr_array_unref(r->names);
    }
    memset(r, 0, sizeof(*r));
}

static const char *disk_format;
static char *disk_path;

static void with_disk(MachineConfig *cfg)
{
    DriveConfig *d = &cfg->drives[cfg->n_drives++];
    memset(d, 0, sizeof(*d));
    d->file = g_strdup(disk_path);
    d->format = g_strdup(disk_format);
    d->interface = DRIVE_IF_IDE;
    d->index = 0;
    d->media = DRIVE_MEDIA_DISK;
    DriveConfig *cd = &cfg->drives[cfg->n_drives++];
    memset(cd, 0, sizeof(*cd));
    cd->interface = DRIVE_IF_IDE;
    cd->index = 2;
    cd->media = DRIVE_MEDIA_CDROM;
    cd->readonly = true;
}

static MimicMachine *start(const char *format)
{
    disk_format = format;
    g_free(disk_path);
    disk_path = g_build_filename(tmpdir, !strcmp(format, "raw") ? "d.img"
                                                                : "d.qcow2",
                                 NULL);
    BlockCreateOptions co = { .format = format, .size = 1 << 20 };
    g_assert_true(blk_create(disk_path, &co, NULL));
    MimicMachine *m = rig_new(with_disk);
    GError *err = NULL;
    g_assert_true(mimic_machine_start(m, &err));
    g_assert_no_error(err);
    return m;
}

static void finish(MimicMachine *m)
{
    mimic_machine_quit(m);
    mimic_machine_wait(m);
    mimic_machine_free(m);
    g_unlink(disk_path);
}

static void test_caps(void)
{
    MimicMachine *m = start("raw");
    MimicCaps c = mimic_machine_capabilities(m);
    g_assert_true(c & MIMIC_CAP_SAVE_STATE);
    g_assert_true(c & MIMIC_CAP_CHANGE_MEDIA);
    g_assert_true(c & MIMIC_CAP_EJECT_MEDIA);
    g_assert_false(c & MIMIC_CAP_SNAPSHOTS);   /* a writable raw disk */
    finish(m);
    m = start("qcow2");
    g_assert_true(mimic_machine_capabilities(m) & MIMIC_CAP_SNAPSHOTS);
    finish(m);
}

static void test_snapshots(void)
{
    MimicMachine *m = start("qcow2");
    Result r = { 0 };
    mimic_machine_snapshot_list(m, on_list, &r);
    wait_result(&r);
    g_assert_no_error(r.error);
    g_assert_cmpuint(r.names->len, ==, 0);
    clear(&r);

    mimic_machine_snapshot_save(m, "first", on_done, &r);
    wait_result(&r);
    g_assert_no_error(r.error);
    clear(&r);
    mimic_machine_snapshot_save(m, "second", on_done, &r);
    wait_result(&r);
    clear(&r);

    mimic_machine_snapshot_list(m, on_list, &r);
    wait_result(&r);
    g_assert_cmpuint(r.names->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(r.names, 0), ==, "first");
    g_assert_cmpstr(g_ptr_array_index(r.names, 1), ==, "second");
    clear(&r);

    mimic_machine_snapshot_load(m, "first", on_done, &r);
    wait_result(&r);
    g_assert_no_error(r.error);
    clear(&r);
    mimic_machine_snapshot_load(m, "nonesuch", on_done, &r);
    wait_result(&r);
    g_assert_nonnull(r.error);
    clear(&r);
    mimic_machine_snapshot_delete(m, "first", on_done, &r);
    wait_result(&r);
    g_assert_no_error(r.error);
    clear(&r);

    mimic_machine_snapshot_list(m, on_list, &r);
    wait_result(&r);
    g_assert_cmpuint(r.names->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(r.names, 0), ==, "second");
    clear(&r);
    finish(m);

    /* A raw disk cannot hold them: an error, not an empty list. */
    m = start("raw");
    mimic_machine_snapshot_list(m, on_list, &r);
    wait_result(&r);
    g_assert_nonnull(r.error);
    clear(&r);
    mimic_machine_snapshot_save(m, "x", on_done, &r);
    wait_result(&r);
    g_assert_nonnull(r.error);
    clear(&r);
    finish(m);
}

static void test_save_state(void)
{
    MimicMachine *m = start("raw");
    g_autofree char *state = g_build_filename(tmpdir, "m.state", NULL);
    Result r = { 0 };
    mimic_machine_save_state(m, state, on_done, &r);
    wait_result(&r);
    g_assert_no_error(r.error);
    g_assert_true(g_file_test(state, G_FILE_TEST_IS_REGULAR));
    clear(&r);
    /* A directory that does not exist: an error, the machine goes on. */
    mimic_machine_save_state(m, "/nonexistent-dir/m.state", on_done, &r);
    wait_result(&r);
    g_assert_nonnull(r.error);
    clear(&r);
    g_assert_cmpint(mimic_machine_get_state(m), !=, MIMIC_STATE_STOPPED);
    finish(m);
    g_unlink(state);
}

static void test_media(void)
{
    MimicMachine *m = start("raw");
    g_autofree char *iso = g_build_filename(tmpdir, "cd.iso", NULL);
    g_autofree char *zeros = g_malloc0(64 * 2048);
    g_assert_true(g_file_set_contents(iso, zeros, 64 * 2048, NULL));
    Result r = { 0 };
    mimic_machine_change_media(m, "ide1-cd0", iso, "raw", on_done, &r);
    wait_result(&r);
    g_assert_no_error(r.error);
    clear(&r);
    mimic_machine_eject_media(m, "ide1-cd0", false, on_done, &r);
    wait_result(&r);
    g_assert_no_error(r.error);
    clear(&r);
    mimic_machine_change_media(m, "nonesuch", iso, "raw", on_done, &r);
    wait_result(&r);
    g_assert_nonnull(r.error);
    g_assert_nonnull(strstr(r.error->message, "nonesuch"));
    clear(&r);
    mimic_machine_change_media(m, "ide1-cd0", "/nonexistent.iso", "raw",
                               on_done, &r);
    wait_result(&r);
    g_assert_nonnull(r.error);
    clear(&r);
    finish(m);
    g_unlink(iso);
}

static void two_audiodevs(MachineConfig *cfg)
{
    for (int i = 0; i < 2; i++) {
        cfg->audiodevs[i].driver = g_strdup("none");
        cfg->audiodevs[i].id = g_strdup(i ? "a1" : "a0");
        cfg->soundhw_audiodev[i] = g_strdup(i ? "a1" : "a0");
    }
    cfg->n_audiodevs = 2;
    cfg->soundhw[0] = g_strdup("sb16");
    cfg->soundhw[1] = g_strdup("hda");
    cfg->n_soundhw = 2;
}

/* The window's mute toggle reaches every audio output. */
static void test_audio_mute(void)
{
    MimicMachine *m = rig_new(two_audiodevs);
    g_assert_cmpint(m->n_audio, ==, 2);
    g_assert_false(mimic_machine_get_audio_muted(m));
    mimic_machine_set_audio_muted(m, true);
    g_assert_true(mimic_machine_get_audio_muted(m));
    for (int i = 0; i < m->n_audio; i++) {
        g_assert_true(audio_muted(m->audio[i]));
    }
    mimic_machine_set_audio_muted(m, false);
    g_assert_false(audio_muted(m->audio[1]));
    mimic_machine_free(m);
}

/* The machine window's switches: a NIC's cable, the sound's mute. */
static void with_nic_and_sound(MachineConfig *cfg)
{
    cfg->nics[0].model = g_strdup("e1000");
    cfg->n_nics = 1;
    cfg->netdevs[0].kind = g_strdup("user");
    cfg->n_netdevs = 1;
    cfg->soundhw[0] = g_strdup("sb16");
    cfg->n_soundhw = 1;
    cfg->audiodevs[0].driver = g_strdup("none");
    cfg->audiodevs[0].id = g_strdup("a0");
    cfg->n_audiodevs = 1;
}

static void with_nothing(MachineConfig *cfg)
{
    cfg->net_none = true;
}

static void test_link_and_mute(void)
{
    MimicMachine *m = rig_new(with_nic_and_sound);
    GError *err = NULL;
    g_assert_true(mimic_machine_start(m, &err));
    MimicCaps c = mimic_machine_capabilities(m);
    g_assert_true(c & MIMIC_CAP_NETWORK);
    g_assert_true(c & MIMIC_CAP_SOUND);
    Result r = { 0 };
    for (int i = 0; i < 2; i++) {
        mimic_machine_set_link(m, i == 1, on_done, &r);
        wait_result(&r);
        g_assert_no_error(r.error);
        clear(&r);
        /* The worker has done it (done came after): the NIC's port. */
        g_assert_nonnull(m->board.nics[0].port);
        g_assert_cmpint(net_port_link(m->board.nics[0].port), ==, i == 1);
        mimic_machine_set_mute(m, i == 0, on_done, &r);
        wait_result(&r);
        g_assert_no_error(r.error);
        clear(&r);
        g_assert_true(mimic_machine_get_audio_muted(m) == (i == 0));
    }
    mimic_machine_quit(m);
    mimic_machine_wait(m);
    mimic_machine_free(m);

    /* No NIC: the cable cannot be switched, and says why. */
    m = rig_new(with_nothing);
    g_assert_true(mimic_machine_start(m, &err));
    c = mimic_machine_capabilities(m);
    g_assert_false(c & MIMIC_CAP_NETWORK);
    g_assert_false(c & MIMIC_CAP_SOUND);
    mimic_machine_set_link(m, false, on_done, &r);
    wait_result(&r);
    g_assert_nonnull(r.error);
    g_assert_nonnull(strstr(r.error->message, "no network card"));
    clear(&r);
    mimic_machine_quit(m);
    mimic_machine_wait(m);
    mimic_machine_free(m);
}

/* ---- the absolute pointer, the I/O counters, a hot-plugged USB disk ---- */

typedef struct IoResult {
    bool called;
    bool ok;
    MimicIoStatus st;
} IoResult;

static void on_io(MimicMachine *m, const MimicIoStatus *st,
                  const GError *error, gpointer data)
{
    IoResult *r = data;
    r->called = true;
    r->ok = st && !error;
    if (st) {
        r->st = *st;
    }
}

static MimicIoStatus io_status(MimicMachine *m)
{
    IoResult r = { 0 };
    mimic_machine_query_io_status(m, on_io, &r);
    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (!r.called && g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    g_assert_true(r.called);
    g_assert_true(r.ok);
    return r.st;
}

static char *monitor_text;

static void on_monitor(MimicMachine *m, const char *out, gpointer data)
{
    monitor_text = g_strdup(out);
}

static char *monitor(MimicMachine *m, const char *line)
{
    monitor_text = NULL;
    mimic_machine_monitor_command(m, line, on_monitor, NULL);
    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (!monitor_text && g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    g_assert_nonnull(monitor_text);
    return monitor_text;
}

static void with_usb_tablet(MachineConfig *cfg)
{
    with_disk(cfg);
    cfg->usb = true;
    cfg->usb_devices[cfg->n_usb_devices++] = g_strdup("usb-tablet,id=tab");
}

static void test_io_and_usb(void)
{
    /* No USB: a relative mouse, no USB disk. */
    MimicMachine *m = start("raw");
    g_assert_false(mimic_machine_capabilities(m) & MIMIC_CAP_USB);
    MimicIoStatus a = io_status(m);
    g_assert_false(a.pointer_absolute);
    g_assert_true(a.have_network ==
                  !!(mimic_machine_capabilities(m) & MIMIC_CAP_NETWORK));
    /* The disk counters count what reaches the image. */
    mimic_machine_pause(m);
    while (mimic_machine_get_state(m) != MIMIC_STATE_PAUSED) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    uint8_t buf[4096] = { 0 };
    BlockDev *blk = drives_image(m->drives, 0);
    g_assert_nonnull(blk);
    g_assert_true(blk_pwrite(blk, 8192, buf, sizeof(buf), NULL));
    g_assert_true(blk_pread(blk, 0, buf, 512, NULL));
    MimicIoStatus b = io_status(m);
    g_assert_cmpuint(b.disk_written_bytes - a.disk_written_bytes, ==, 4096);
    g_assert_cmpuint(b.disk_read_bytes - a.disk_read_bytes, ==, 512);
    Result r = { 0 };
    g_autofree char *img = g_build_filename(tmpdir, "stick.img", NULL);
    BlockCreateOptions co = { .format = "raw", .size = 1 << 20 };
    g_assert_true(blk_create(img, &co, NULL));
    mimic_machine_usb_disk_connect(m, img, "raw", false, on_done, &r);
    wait_result(&r);
    g_assert_nonnull(r.error);
    g_assert_nonnull(strstr(r.error->message, "no USB controller"));
    clear(&r);
    finish(m);

    /* A tablet: the pointer is absolute, in pixels of the screen. */
    disk_format = "raw";
    BlockCreateOptions dco = { .format = "raw", .size = 1 << 20 };
    g_assert_true(blk_create(disk_path, &dco, NULL));
    m = rig_new(with_usb_tablet);
    g_assert_true(mimic_machine_start(m, NULL));
    g_assert_true(mimic_machine_capabilities(m) & MIMIC_CAP_USB);
    g_assert_true(io_status(m).pointer_absolute);
    mimic_machine_send_pointer_abs(m, 100000, 100000, 0, 0);
    g_autofree char *st = monitor(m, "info state tab");
    g_assert_nonnull(strstr(st, "  x = 0x7fff\n"));
    g_assert_nonnull(strstr(st, "  y = 0x7fff\n"));
    g_assert_nonnull(strstr(st, "  buttons = 0x0\n"));
    mimic_machine_send_pointer_abs(m, 0, 0, 0, 1);
    g_free(st);
    st = monitor(m, "info state tab");
    g_assert_nonnull(strstr(st, "  x = 0x0\n"));
    g_assert_nonnull(strstr(st, "  buttons = 0x1\n"));
    /* Hot-plug: a good image reaches the bus; a missing one says so. */
    mimic_machine_usb_disk_connect(m, img, "raw", true, on_done, &r);
    wait_result(&r);
    g_assert_no_error(r.error);
    clear(&r);
    g_autofree char *usb = monitor(m, "info usb");
    g_assert_nonnull(strstr(usb, "USB MSD"));
    g_autofree char *gone = g_build_filename(tmpdir, "nosuch.img", NULL);
    mimic_machine_usb_disk_connect(m, gone, "raw", false, on_done, &r);
    wait_result(&r);
    g_assert_nonnull(r.error);
    clear(&r);
    finish(m);
    g_unlink(img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("mimic-api-XXXXXX", NULL);
    g_test_add_func("/engine/api/capabilities", test_caps);
    g_test_add_func("/engine/api/snapshots", test_snapshots);
    g_test_add_func("/engine/api/save-state", test_save_state);
    g_test_add_func("/engine/api/media", test_media);
    g_test_add_func("/engine/api/audio-mute", test_audio_mute);
    g_test_add_func("/engine/api/link-and-mute", test_link_and_mute);
    g_test_add_func("/engine/api/io-and-usb", test_io_and_usb);
    int ret = g_test_run();
    g_rmdir(tmpdir);
    return ret;
}
