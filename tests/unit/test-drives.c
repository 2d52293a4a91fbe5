/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The drive layer (src/engine/drives.c) on its own, with a fake board:
 * opening by the machine's rules (a qcow2 magic never falls back to raw,
 * a guessed-raw image refuses a faked header, read-only, image locks),
 * names, "info block", change and eject against a fake tray (locks,
 * refused media), USB-style claim and release, and drive_add; then
 * drive_add + device_add usb-storage through the human monitor of a real
 * pc machine.
 */
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "engine/drives.h"
#include "engine/machine.h"
#include "hw/isa/fdc.h"

static char *tmpdir;

static char *tpath(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static void make_file(const char *path, size_t len, const void *head,
                      size_t head_len)
{
    g_autofree char *buf = g_malloc0(len);
    memcpy(buf, head, head_len);
    g_assert_true(g_file_set_contents(path, buf, len, NULL));
}

/* A device with a tray, as the board would attach it. */
typedef struct FakeTray {
    BlockDev *blk;
    bool locked, tray_open, refuse;
    int eject_requests, inserts;
} FakeTray;

static bool fake_eject(void *dev, bool force)
{
    FakeTray *t = dev;
    if (t->locked && !force) {
        t->eject_requests++;
        return false;
    }
    t->locked = false;
    t->blk = NULL;
    t->tray_open = true;
    return true;
}

static bool fake_insert(void *dev, BlockDev *blk, GError **error)
{
    FakeTray *t = dev;
    if (t->refuse) {
        g_set_error(error, MIMIC_ERROR, MIMIC_ERROR_CONFIG, "refused");
        return false;
    }
    t->blk = blk;
    t->tray_open = false;
    t->inserts++;
    return true;
}

static bool fake_locked(void *dev)
{
    return ((FakeTray *)dev)->locked;
}

static void fake_eject_request(void *dev)
{
    ((FakeTray *)dev)->eject_requests++;
}

static bool fake_tray_open(void *dev)
{
    return ((FakeTray *)dev)->tray_open;
}

static const DriveMediaOps fake_ops = {
    .eject = fake_eject, .insert = fake_insert, .locked = fake_locked,
    .eject_request = fake_eject_request, .tray_open = fake_tray_open,
};

static const uint8_t qcow2_magic[8] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };

static char *info(Drives *dr, const char *device)
{
    GString *s = g_string_new(NULL);
    drives_info(dr, device, s);
    return g_string_free(s, FALSE);
}

/* A qcow2 magic without a valid qcow2 behind it: without format= the
   drive refuses to open (never raw); format=raw opens it as raw. */
static void test_probe_refusal(void)
{
    g_autofree char *img = tpath("fake.qcow2");
    make_file(img, 64 * 1024, qcow2_magic, sizeof(qcow2_magic));
    MachineConfig cfg = { 0 };
    cfg.drives[0] = (DriveConfig){ .file = img, .interface = DRIVE_IF_IDE };
    cfg.drives[1] = (DriveConfig){ .file = img, .format = "raw",
        .interface = DRIVE_IF_IDE, .index = 1, .readonly = true };
    cfg.n_drives = 2;
    Drives *dr = drives_new(&cfg);
    BoardDrives b = drives_board(dr);
    BlockDev *blk = NULL;
    GError *err = NULL;
    g_assert_false(b.open(b.opaque, 0, &blk, &err));
    g_assert_nonnull(err);
    g_assert_null(blk);
    g_clear_error(&err);
    g_assert_null(drives_image(dr, 0));
    g_assert_true(b.open(b.opaque, 1, &blk, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(blk_format_name(blk), ==, "raw");
    g_assert_true(blk_is_read_only(blk));
    g_assert_true(drives_image(dr, 1) == blk);
    drives_free(dr);
}

/* A writable disk guessed raw refuses a faked header in sector 0; the
   same image with format=raw takes it.  A second machine cannot open an
   image the first one writes (image locks). */
static void test_guessed_raw_and_locks(void)
{
    g_autofree char *img = tpath("disk.img");
    make_file(img, 64 * 1024, "", 0);
    MachineConfig cfg = { 0 };
    cfg.drives[0] = (DriveConfig){ .file = img, .interface = DRIVE_IF_IDE,
        .cache = DRIVE_CACHE_UNSAFE };
    cfg.n_drives = 1;
    Drives *dr = drives_new(&cfg);
    BoardDrives b = drives_board(dr);
    BlockDev *blk = NULL;
    GError *err = NULL;
    g_assert_true(b.open(b.opaque, 0, &blk, &err));
    g_assert_no_error(err);
    uint8_t sec[512] = { 0 };
    memcpy(sec, qcow2_magic, sizeof(qcow2_magic));
    g_assert_false(blk_pwrite(blk, 0, sec, sizeof(sec), &err));
    g_assert_error(err, BLOCK_ERROR, BLOCK_ERROR_DENIED);
    g_clear_error(&err);
    b.attach(b.opaque, 0, NULL, "ide.0 unit 0", NULL, NULL);
    g_autofree char *want = g_strdup_printf(
        "ide0-hd0 (#block100): %s (raw)\n"
        "    Attached to:      ide.0 unit 0\n"
        "    Cache mode:       writeback, ignore flushes\n", img);
    g_autofree char *got = info(dr, NULL);
    g_assert_cmpstr(got, ==, want);
    /* A fixed disk is not removable. */
    g_assert_false(drives_eject(dr, "ide0-hd0", true, &err));
    g_assert_cmpstr(err->message, ==, "Device 'ide0-hd0' is not removable");
    g_clear_error(&err);

    /* A second machine: the image is locked. */
    MachineConfig cfg2 = cfg;
    cfg2.drives[0].format = "raw";
    Drives *dr2 = drives_new(&cfg2);
    BoardDrives b2 = drives_board(dr2);
    BlockDev *blk2 = NULL;
    g_assert_false(b2.open(b2.opaque, 0, &blk2, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    drives_free(dr);
    /* Free again, and with format=raw the header is the guest's to write. */
    g_assert_true(b2.open(b2.opaque, 0, &blk2, &err));
    g_assert_no_error(err);
    g_assert_true(blk_pwrite(blk2, 0, sec, sizeof(sec), &err));
    g_assert_no_error(err);
    drives_free(dr2);
}

/* change and eject on a removable drive with a tray the guest can lock;
   the board's own empty drive (index -1). */
static void test_change_eject(void)
{
    g_autofree char *a = tpath("a.iso");
    g_autofree char *c = tpath("c.iso");
    g_autofree char *fake = tpath("bad.qcow2");
    make_file(a, 8 * 2048, "A", 1);
    make_file(c, 8 * 2048, "C", 1);
    make_file(fake, 8 * 2048, qcow2_magic, sizeof(qcow2_magic));
    MachineConfig cfg = { 0 };
    cfg.drives[0] = (DriveConfig){ .file = a, .interface = DRIVE_IF_IDE,
        .index = 2, .media = DRIVE_MEDIA_CDROM, .readonly = true };
    cfg.n_drives = 1;
    Drives *dr = drives_new(&cfg);
    BoardDrives b = drives_board(dr);
    FakeTray t = { 0 }, empty = { .tray_open = false };
    GError *err = NULL;
    g_assert_true(b.open(b.opaque, 0, &t.blk, &err));
    b.attach(b.opaque, 0, NULL, "ide.1 unit 0", &fake_ops, &t);
    b.attach(b.opaque, -1, "ide1-cd1", "ide.1 unit 1", &fake_ops, &empty);
    g_assert_true(drives_have_removable(dr));

    g_autofree char *i0 = info(dr, "ide1-cd0");
    g_autofree char *w0 = g_strdup_printf(
        "ide1-cd0 (#block100): %s (raw, read-only)\n"
        "    Attached to:      ide.1 unit 0\n"
        "    Removable device: not locked, tray closed\n"
        "    Cache mode:       writeback\n", a);
    g_assert_cmpstr(i0, ==, w0);
    g_autofree char *i1 = info(dr, "ide1-cd1");
    g_assert_cmpstr(i1, ==, "ide1-cd1: [not inserted]\n"
                    "    Attached to:      ide.1 unit 1\n"
                    "    Removable device: not locked, tray closed\n");
    g_autofree char *none = info(dr, "ide9-cd9");
    g_assert_cmpstr(none, ==, "");

    /* A new medium; the drive's image follows. */
    g_assert_true(drives_change(dr, "ide1-cd0", c, NULL, &err));
    g_assert_no_error(err);
    g_assert_true(drives_image(dr, 0) == t.blk);
    g_assert_cmpstr(blk_filename(t.blk), ==, c);
    g_autofree char *i2 = info(dr, "ide1-cd0");
    g_assert_true(g_str_has_prefix(i2, "ide1-cd0 (#block101): "));

    /* Failures leave the medium in: no file, a qcow2 magic that is no
       qcow2 (never raw without format=), a medium the device refuses. */
    g_assert_false(drives_change(dr, "ide1-cd0", "/nonexistent.iso", NULL,
                                 &err));
    g_clear_error(&err);
    g_assert_false(drives_change(dr, "ide1-cd0", fake, NULL, &err));
    g_clear_error(&err);
    t.refuse = true;
    g_assert_false(drives_change(dr, "ide1-cd0", a, "raw", &err));
    g_assert_cmpstr(err->message, ==, "refused");
    g_clear_error(&err);
    t.refuse = false;
    g_assert_cmpstr(blk_filename(drives_image(dr, 0)), ==, c);
    g_assert_true(drives_image(dr, 0) == t.blk);
    g_assert_cmpint(t.inserts, ==, 1);

    /* The guest locks the tray: eject and change are refused and the
       guest is asked; force opens it. */
    t.locked = true;
    g_assert_false(drives_eject(dr, "ide1-cd0", false, &err));
    g_assert_cmpstr(err->message, ==, "Device 'ide1-cd0' is locked and "
                    "force was not specified, wait for tray to open and try "
                    "again");
    g_clear_error(&err);
    g_assert_false(drives_change(dr, "ide1-cd0", a, NULL, &err));
    g_assert_nonnull(strstr(err->message, "is locked"));
    g_clear_error(&err);
    g_assert_cmpint(t.eject_requests, ==, 2);
    g_autofree char *i3 = info(dr, "ide1-cd0");
    g_assert_nonnull(strstr(i3, "Removable device: locked, tray closed"));
    g_assert_true(drives_eject(dr, "ide1-cd0", true, &err));
    g_assert_no_error(err);
    g_assert_null(drives_image(dr, 0));
    g_autofree char *i4 = info(dr, "ide1-cd0");
    g_assert_cmpstr(i4, ==, "ide1-cd0: [not inserted]\n"
                    "    Attached to:      ide.1 unit 0\n"
                    "    Removable device: not locked, tray open\n");

    /* Names the layer does not know. */
    g_assert_false(drives_eject(dr, "nosuch", false, &err));
    g_assert_cmpstr(err->message, ==, "Device 'nosuch' not found");
    g_clear_error(&err);
    /* The empty drive takes a medium. */
    g_assert_true(drives_change(dr, "ide1-cd1", a, "raw", &err));
    g_assert_no_error(err);
    g_assert_cmpstr(blk_filename(empty.blk), ==, a);
    g_assert_true(blk_is_read_only(empty.blk));
    drives_free(dr);
}

/* if=none drives: a USB disk claims one (once), releases it at unplug;
   drive_add adds one at run time. */
static void test_claim_and_add(void)
{
    g_autofree char *u = tpath("u.img");
    g_autofree char *v = tpath("v.img");
    make_file(u, 64 * 1024, "", 0);
    make_file(v, 64 * 1024, "", 0);
    MachineConfig cfg = { 0 };
    cfg.drives[0] = (DriveConfig){ .file = u, .format = "raw",
        .interface = DRIVE_IF_NONE, .id = "d1", .readonly = true };
    cfg.drives[1] = (DriveConfig){ .format = "raw",
        .interface = DRIVE_IF_NONE, .id = "nofile" };
    cfg.n_drives = 2;
    Drives *dr = drives_new(&cfg);
    BoardDrives b = drives_board(dr);
    GError *err = NULL;
    BlockDev *blk = NULL;
    bool ro = false;
    g_assert_true(b.claim(b.opaque, "d1", &blk, &ro, &err));
    g_assert_no_error(err);
    g_assert_true(ro);
    g_assert_true(blk == drives_image(dr, 0));
    g_assert_false(b.claim(b.opaque, "d1", &blk, &ro, &err));
    g_assert_cmpstr(err->message, ==, "drive 'd1' is in use");
    g_clear_error(&err);
    g_assert_false(b.claim(b.opaque, "nofile", &blk, &ro, &err));
    g_assert_cmpstr(err->message, ==, "drive 'nofile' has no image");
    g_clear_error(&err);
    g_assert_false(b.claim(b.opaque, "zz", &blk, &ro, &err));
    g_assert_nonnull(strstr(err->message, "drive 'zz' not found"));
    g_clear_error(&err);
    g_autofree char *i0 = info(dr, "d1");
    g_assert_true(g_str_has_prefix(i0, "d1 (#block100): "));
    /* An if=none drive has no tray. */
    g_assert_false(drives_eject(dr, "d1", true, &err));
    g_assert_cmpstr(err->message, ==, "Device 'd1' is not removable");
    g_clear_error(&err);
    b.release(b.opaque, blk);
    g_assert_null(drives_image(dr, 0));
    g_assert_true(b.claim(b.opaque, "d1", &blk, &ro, &err));
    g_assert_no_error(err);

    /* drive_add */
    DriveConfig add = { .file = v, .interface = DRIVE_IF_NONE,
                        .id = "usbdisk1", .format = "raw" };
    g_assert_true(drives_add(dr, &add, &err));
    g_assert_no_error(err);
    g_assert_false(drives_add(dr, &add, &err));
    g_assert_cmpstr(err->message, ==, "Duplicate ID 'usbdisk1' for drive");
    g_clear_error(&err);
    DriveConfig ide = add;
    ide.interface = DRIVE_IF_IDE;
    ide.id = "x";
    g_assert_false(drives_add(dr, &ide, &err));
    g_clear_error(&err);
    DriveConfig missing = add;
    missing.id = "m";
    missing.file = "/nonexistent.img";
    g_assert_false(drives_add(dr, &missing, &err));
    g_clear_error(&err);
    g_autofree char *i1 = info(dr, "m");
    g_assert_cmpstr(i1, ==, "");
    g_autofree char *i2 = info(dr, "nofile");
    g_assert_cmpstr(i2, ==, "nofile: [not inserted]\n");
    g_assert_true(b.claim(b.opaque, "usbdisk1", &blk, &ro, &err));
    g_assert_no_error(err);
    g_assert_false(ro);
    g_assert_cmpstr(blk_filename(blk), ==, v);
    /* Only the configuration's drives bind a saved state. */
    g_assert_null(drives_image(dr, 2));
    drives_free(dr);
}

static char *mon(MimicMachine *m, const char *line)
{
    GString *out = g_string_new(NULL);
    monitor_execute(m, line, out);
    return g_string_free(out, FALSE);
}

/* The whole path on a pc: drive_add, then device_add usb-storage. */
static void test_hmp_drive_add(void)
{
    g_autofree char *v = tpath("hot.img");
    make_file(v, 1024 * 1024, "", 0);
    MachineConfig cfg;
    machine_config_init(&cfg);
    cfg.ram_size = 32 << 20;
    cfg.display = DISPLAY_NONE;
    cfg.usb = true;
    g_free(cfg.serial[0]);
    cfg.serial[0] = NULL;
    GError *err = NULL;
    MimicMachine *m = mimic_machine_new(&cfg, &err);
    g_assert_no_error(err);
    machine_config_clear(&cfg);

    g_autofree char *add = g_strdup_printf(
        "drive_add 0 if=none,id=usbdisk1,format=raw,file=%s", v);
    g_autofree char *r0 = mon(m, add);
    g_assert_cmpstr(r0, ==, "OK\n");
    g_autofree char *r1 = mon(m, add);
    g_assert_cmpstr(r1, ==, "Error: Duplicate ID 'usbdisk1' for drive\n");
    g_autofree char *r2 = mon(m, "drive_add 0 if=none,id=x,frob=1");
    g_assert_cmpstr(r2, ==, "Error: drive_add: unknown parameter 'frob'\n");
    g_autofree char *r3 = mon(m, "drive_add 0");
    g_assert_nonnull(strstr(r3, "usage"));
    g_autofree char *ib = mon(m, "info block usbdisk1");
    g_assert_true(g_str_has_prefix(ib, "usbdisk1 (#block"));
    g_autofree char *r4 = mon(m, "device_add usb-storage,drive=usbdisk1,"
                              "id=disk9");
    g_assert_cmpstr(r4, ==, "");
    g_autofree char *r5 = mon(m, "device_add usb-storage,drive=usbdisk1");
    g_assert_nonnull(strstr(r5, "drive 'usbdisk1' is in use"));
    g_autofree char *usb = mon(m, "info usb");
    g_assert_nonnull(strstr(usb, "ID: disk9"));
    g_autofree char *r6 = mon(m, "device_del disk9");
    g_assert_cmpstr(r6, ==, "");
    /* Unplugged: the image is closed, the drive can be plugged again. */
    g_autofree char *ib2 = mon(m, "info block usbdisk1");
    g_autofree char *closed = g_strdup_printf(
        "usbdisk1: %s (closed: no device uses it)\n", v);
    g_assert_cmpstr(ib2, ==, closed);
    g_autofree char *r7 = mon(m, "device_add usb-storage,drive=usbdisk1");
    g_assert_cmpstr(r7, ==, "");
    mimic_machine_free(m);
}

/* Floppies are removable on the pc: change, a medium of no floppy size
   refused (the old one stays), eject; the controller's disk-change line
   is set by each change. */
static void test_floppy_change(void)
{
    g_autofree char *a = tpath("a.fd");
    g_autofree char *b = tpath("b.fd");
    g_autofree char *big = tpath("big.img");
    make_file(a, 1474560, "A", 1);
    make_file(b, 737280, "B", 1);
    make_file(big, 4 * 1024 * 1024, "", 0);
    MachineConfig cfg;
    machine_config_init(&cfg);
    cfg.ram_size = 32 << 20;
    cfg.display = DISPLAY_NONE;
    g_free(cfg.serial[0]);
    cfg.serial[0] = NULL;
    cfg.drives[0] = (DriveConfig){ .file = g_strdup(a),
        .format = g_strdup("raw"), .interface = DRIVE_IF_FLOPPY };
    cfg.n_drives = 1;
    GError *err = NULL;
    MimicMachine *m = mimic_machine_new(&cfg, &err);
    g_assert_no_error(err);
    machine_config_clear(&cfg);
    Fdc *fdc = (Fdc *)device_find(m->devices, "fdc");
    g_assert_nonnull(fdc);
    g_assert_true(mimic_machine_capabilities(m) & MIMIC_CAP_CHANGE_MEDIA);

    g_autofree char *i0 = mon(m, "info block floppy0");
    g_autofree char *w0 = g_strdup_printf(
        "floppy0 (#block100): %s (raw)\n"
        "    Attached to:      fdc unit 0\n"
        "    Removable device: not locked, tray closed\n"
        "    Cache mode:       writeback\n", a);
    g_assert_cmpstr(i0, ==, w0);
    fdc->drive[0].media_changed = false;
    g_autofree char *chg = g_strdup_printf("change floppy0 %s raw", b);
    g_autofree char *r0 = mon(m, chg);
    g_assert_cmpstr(r0, ==, "");
    g_assert_true(fdc->drive[0].blk == drives_image(m->drives, 0));
    g_assert_cmpstr(blk_filename(fdc->drive[0].blk), ==, b);
    g_assert_cmpint(fdc->drive[0].spt, ==, 9);
    g_assert_true(fdc->drive[0].media_changed);

    g_autofree char *chg_big = g_strdup_printf("change floppy0 %s raw", big);
    g_autofree char *r1 = mon(m, chg_big);
    g_assert_nonnull(strstr(r1, "larger than a 2.88 MB floppy"));
    g_assert_cmpstr(blk_filename(fdc->drive[0].blk), ==, b);
    g_assert_cmpint(fdc->drive[0].spt, ==, 9);
    g_autofree char *i1 = mon(m, "info block floppy0");
    g_assert_true(g_str_has_prefix(i1, "floppy0 (#block101): "));

    g_autofree char *r2 = mon(m, "eject floppy0");
    g_assert_cmpstr(r2, ==, "");
    g_assert_null(fdc->drive[0].blk);
    g_assert_null(drives_image(m->drives, 0));
    g_autofree char *i2 = mon(m, "info block floppy0");
    g_assert_cmpstr(i2, ==, "floppy0: [not inserted]\n"
                    "    Attached to:      fdc unit 0\n"
                    "    Removable device: not locked, tray open\n");
    mimic_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("drives-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    g_test_add_func("/engine/drives/probe-refusal", test_probe_refusal);
    g_test_add_func("/engine/drives/guessed-raw-and-locks",
                    test_guessed_raw_and_locks);
    g_test_add_func("/engine/drives/change-eject", test_change_eject);
    g_test_add_func("/engine/drives/claim-and-add", test_claim_and_add);
    g_test_add_func("/engine/drives/hmp-drive-add", test_hmp_drive_add);
    g_test_add_func("/engine/drives/floppy-change", test_floppy_change);
    int rc = g_test_run();
    g_autoptr(GDir) d = g_dir_open(tmpdir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = tpath(name);
        g_unlink(p);
    }
    g_rmdir(tmpdir);
    return rc;
}
