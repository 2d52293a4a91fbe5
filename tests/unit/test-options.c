/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The QEMU-style command line parser: good lines and bad lines. */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "engine/mimic.h"

static char *tmpdir, *img, *iso, *lnk;

static bool parse(const char *line, MachineConfig *cfg, GError **err,
                  MimicParseResult *res, GString *out)
{
    gchar **argv;
    int argc;
    g_autofree char *full = g_strconcat("mimic ", line, NULL);
    g_assert_true(g_shell_parse_argv(full, &argc, &argv, NULL));
    machine_config_init(cfg);
    MimicParseResult r;
    bool ok = mimic_parse_args(argc, argv, cfg, res ? res : &r, out, err);
    g_strfreev(argv);
    return ok;
}

static char *subst(const char *line)
{
    GString *s = g_string_new(line);
    g_string_replace(s, "IMG", img, 0);
    g_string_replace(s, "ISO", iso, 0);
    g_string_replace(s, "LINK", lnk, 0);
    return g_string_free(s, FALSE);
}

/* -cpu: the models and their aliases; mimic-system-x86_64 defaults to
   qemu64 (issue 17 item 3). */
static void test_cpu_models(void)
{
    static const struct { const char *line, *model; } cases[] = {
        { "", "pentium2" }, { "-cpu qemu32", "pentium2" },
        { "-cpu qemu64", "qemu64" }, { "-cpu x86_64", "qemu64" },
        { "-cpu max", "max" }, { "-cpu qemu64,+syscall,nx=on", "qemu64" },
        { "-cpu max,+pdpe1gb", "max" },
        { "-cpu max,+rdtscp,fsgsbase=on", "max" },
    };
    MachineConfig cfg;
    GError *err = NULL;
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_true(parse(cases[i].line, &cfg, &err, NULL, out));
        g_assert_no_error(err);
        g_assert_cmpstr(cfg.cpu_model, ==, cases[i].model);
        machine_config_clear(&cfg);
    }
    char *argv64[] = { "/usr/bin/mimic-system-x86_64", "-m", "64", NULL };
    char *argv64b[] = { "mimic-system-x86_64", "-cpu", "pentium2", NULL };
    MimicParseResult res;
    machine_config_init(&cfg);
    g_assert_true(mimic_parse_args(3, argv64, &cfg, &res, out, &err));
    g_assert_cmpstr(cfg.cpu_model, ==, "qemu64");
    machine_config_clear(&cfg);
    machine_config_init(&cfg);
    g_assert_true(mimic_parse_args(3, argv64b, &cfg, &res, out, &err));
    g_assert_cmpstr(cfg.cpu_model, ==, "pentium2");
    machine_config_clear(&cfg);
    g_assert_true(parse("-cpu help", &cfg, &err, &res, out));
    g_assert_nonnull(strstr(out->str, "qemu64"));
    g_assert_nonnull(strstr(out->str, "max"));
    machine_config_clear(&cfg);
    g_string_free(out, TRUE);
}

static void test_seed_line(void)
{
    MachineConfig cfg;
    GError *err = NULL;
    GString *out = g_string_new(NULL);
    g_autofree char *line = subst("-clock dynticks -rtc-td-hack -localtime "
                                  "-hda IMG -cdrom ISO -boot d -m 128 "
                                  "-enable-audio -localtime");
    g_assert_true(parse(line, &cfg, &err, NULL, out));
    g_assert_no_error(err);
    g_assert_cmpuint(cfg.ram_size, ==, 128ull << 20);
    g_assert_true(cfg.rtc_localtime);
    g_assert_cmpstr(cfg.boot_order, ==, "d");
    g_assert_cmpint(cfg.n_drives, ==, 2);
    g_assert_cmpstr(cfg.drives[0].file, ==, img);
    g_assert_cmpint(cfg.drives[0].index, ==, 0);
    g_assert_cmpint(cfg.drives[1].media, ==, DRIVE_MEDIA_CDROM);
    g_assert_cmpint(cfg.drives[1].index, ==, 2);
    machine_config_clear(&cfg);
    g_string_free(out, TRUE);
}

static void test_good_lines(void)
{
    MachineConfig cfg;
    GError *err = NULL;
    GString *out = g_string_new(NULL);
    g_autofree char *l1 = subst("-drive file=IMG,format=qcow2,if=ide,"
                                "index=1,snapshot=on -m 1G -nographic "
                                "-icount shift=3 -no-reboot -S -name demo");
    g_assert_true(parse(l1, &cfg, &err, NULL, out));
    g_assert_no_error(err);
    g_assert_cmpuint(cfg.ram_size, ==, 1ull << 30);
    g_assert_cmpint(cfg.drives[0].index, ==, 1);
    g_assert_true(cfg.drives[0].snapshot);
    g_assert_cmpstr(cfg.drives[0].format, ==, "qcow2");
    g_assert_cmpint(cfg.display, ==, DISPLAY_NOGRAPHIC);
    g_assert_cmpstr(cfg.serial[0], ==, "mon:stdio");
    g_assert_cmpint(cfg.icount_shift, ==, 3);
    g_assert_true(cfg.no_reboot && cfg.start_paused);
    g_assert_cmpstr(cfg.name, ==, "demo");
    machine_config_clear(&cfg);

    g_assert_true(parse("--boot order=dc,menu=on -m 2048K -display none "
                        "-serial tcp:127.0.0.1:4444,server,nowait "
                        "-monitor unix:/tmp/x.sock,server=on,wait=off "
                        "-rtc base=2020-01-02", &cfg, &err, NULL, out));
    g_assert_no_error(err);
    g_assert_cmpstr(cfg.boot_order, ==, "dc");
    g_assert_true(cfg.boot_menu);
    g_assert_cmpint(cfg.display, ==, DISPLAY_NONE);
    g_assert_cmpstr(cfg.serial[0], ==, "tcp:127.0.0.1:4444,server,nowait");
    machine_config_clear(&cfg);

    /* A bare argument is the first disk. */
    g_autofree char *l3 = subst("IMG -fda ISO");
    g_assert_true(parse(l3, &cfg, &err, NULL, out));
    g_assert_cmpint(cfg.n_drives, ==, 2);
    g_assert_cmpint(cfg.drives[1].interface, ==, DRIVE_IF_FLOPPY);
    machine_config_clear(&cfg);

    /* Listings exit 0 with text. */
    MimicParseResult res;
    const char *listing[] = { "-soundhw help", "-soundhw ?", "-version", "-h",
                              "-machine help", "-cpu help", "-d help",
                              "-usbdevice help", "-device help",
                              "-display help" };
    for (size_t i = 0; i < G_N_ELEMENTS(listing); i++) {
        g_string_truncate(out, 0);
        g_assert_true(parse(listing[i], &cfg, &err, &res, out));
        g_assert_cmpint(res, ==, MIMIC_PARSE_EXIT);
        g_assert_cmpuint(out->len, >, 0);
        machine_config_clear(&cfg);
    }
    g_assert_nonnull(strstr(out->str, "gtk"));
    g_string_free(out, TRUE);
}

static const struct {
    const char *line;
    const char *expect; /* in the message */
} bad_lines[] = {
    { "-frobnicate", "-frobnicate: invalid option" },
    { "-m", "-m: requires an argument" },
    { "-m 0", "-m" },
    { "-m abc", "invalid size 'abc'" },
    { "-m 12Q", "invalid size" },
    { "-m 1T", "64G at most" },
    { "-m -5", "invalid size" },
    { "-boot z", "invalid boot device 'z'" },
    { "-boot order=x", "invalid boot device" },
    { "-boot menu=maybe", "menu" },
    { "-hda /nonexistent/disk.img", "could not open '/nonexistent/disk.img'" },
    { "-cdrom /nonexistent.iso", "could not open" },
    { "-kernel /nonexistent/bzImage", "-kernel: could not open" },
    { "-drive file=IMG,if=scsi", "interface 'scsi'" },
    { "-drive file=IMG,index=9", "invalid index" },
    { "-drive file=IMG,format=vmdk", "unknown format 'vmdk'" },
    { "-drive file=IMG,bogus=1", "unknown parameter 'bogus'" },
    { "-drive if=ide", "needs file=" },
    { "-hda IMG -hda IMG", "already in use" },
    { "-serial bogus", "unknown character device 'bogus'" },
    { "-monitor file:", "unknown character device" },
    { "-icount abc", "invalid shift 'abc'" },
    { "-smp 0", "invalid CPU count" },
    { "-accel foo", "unknown accelerator 'foo'" },
    { "-machine q35", "unknown machine type 'q35'" },
    { "-cpu 486sx", "unknown CPU model" },
    { "-cpu qemu64,+avx512f", "feature 'avx512f' is not implemented" },
    { "-cpu pentium2,lm=on", "feature 'lm' is not implemented" },
    { "-cpu qemu64,-nx", "cannot be removed" },
    { "-cpu qemu64,+lm", "feature 'lm' is not implemented" },
    { "-cpu qemu64,+rdtscp", "feature 'rdtscp' is not implemented" },
    { "-cpu Nehalem,+fsgsbase", "feature 'fsgsbase' is not implemented" },
    { "-cpu qemu64,model=3", "unsupported property" },
    { "-display sdl", "'sdl' is not available" },
    { "-vga cirrus", "only std" },
    { "-soundhw sb17", "unknown sound card 'sb17'" },
    { "-net bridge", "unknown network type" },
    { "-usbdevice disk", "unknown device 'disk'" },
    { "-usbdevice disk:/nonexistent.img", "could not open" },
    { "-usbdevice disk:/", "is a directory" },
    { "-device usb-storage", "drive=ID is needed" },
    { "-device usb-ehci,bogus=1", "usb-ehci: only id= is supported" },
    { "-device usb-ehci,id=a,x=1", "only id= is supported" },
    { "-device usb-ehci -device usb-ehci,id=e", "one usb-ehci at most" },
    { "-device qemu-xhci -device qemu-xhci,id=x", "one qemu-xhci at most" },
    { "-d nonsense", "unknown log item 'nonsense'" },
    { "-rtc base=yesterday", "invalid base" },
    { "-L /nonexistent-dir", "not a directory" },
    { "-nographic -display none", "-nographic" },
    { "-incoming tcp:localhost:4444", "unsupported URI" },
    /* Issue 15 item 10: where QEMU refuses.  The same image for two
       drives when one of them writes, however the path is spelt. */
    { "-hda IMG -hdb IMG", "-hdb: 'IMG' is the image of -hda already" },
    { "-hda IMG -hdb ./c.img", "-hdb: './c.img' is the image of -hda" },
    { "-hda c.img -drive file=LINK,if=floppy", "is the image of -hda" },
    { "-hda IMG -cdrom IMG", "-cdrom: 'IMG' is the image of -hda" },
    { "-cdrom IMG -hda IMG", "-hda: 'IMG' is the image of -cdrom" },
    { "-drive file=IMG,snapshot=on -hdb IMG", "is the image of -drive" },
    { "-append console=ttyS0", "-append only allowed with -kernel" },
    { "-initrd IMG", "-initrd only allowed with -kernel" },
    /* QEMU: a fraction needs a unit; no exponents. */
    { "-m 1.5", "-m: invalid size '1.5'" },
    { "-m 0.5", "invalid size" },
    { "-m 1.5b", "invalid size" },
    { "-m 1e3", "invalid size" },
    { "-m inf", "invalid size" },
    /* No KVM in Mimic: say so unless a fallback was asked for. */
    { "-accel kvm", "-accel kvm: KVM is not available" },
    { "-enable-kvm", "-enable-kvm: KVM is not available" },
    { "-machine accel=kvm", "-machine accel=kvm: KVM is not available" },
    { "-machine pc,accel=kvm", "KVM is not available" },
    { "-machine accel=xen:kvm", "unknown accelerator 'xen'" },
};

static void test_bad_lines(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_lines); i++) {
        MachineConfig cfg;
        GError *err = NULL;
        GString *out = g_string_new(NULL);
        g_autofree char *line = subst(bad_lines[i].line);
        g_autofree char *expect = subst(bad_lines[i].expect);
        if (parse(line, &cfg, &err, NULL, out)) {
            g_error("'%s' accepted", line);
        }
        g_assert_nonnull(err);
        if (!strstr(err->message, expect)) {
            g_error("'%s': message '%s' lacks '%s'", line, err->message,
                    expect);
        }
        g_assert_null(strchr(err->message, '\n'));
        g_error_free(err);
        machine_config_clear(&cfg);
        g_string_free(out, TRUE);
    }
}

/* Issue 15 item 10: what QEMU accepts next to what it refuses. */
static void test_qemu_verdicts(void)
{
    static const struct {
        const char *line;
        uint64_t ram;
    } good[] = {
        /* Read-only or snapshot users of one image may share it. */
        { "-cdrom IMG -drive file=./c.img,if=floppy,readonly=on", 0 },
        { "-snapshot -hda IMG -hdb LINK", 0 },
        { "-drive file=IMG,snapshot=on -drive file=IMG,snapshot=on,index=1",
          0 },
        { "-kernel IMG -initrd ISO -append x=1", 0 },
        { "-m 1.5G", 3ull << 29 },
        { "-m 128.0", 128ull << 20 },
        { "-m 1500.5k", 1536512 & ~0xfffull },
        { "-m 0x80", 128ull << 20 },
        { "-accel kvm -accel tcg", 0 },
        { "-enable-kvm -accel tcg", 0 },
        { "-machine accel=kvm:tcg", 0 },
        { "-machine pc,accel=kvm:tcg", 0 },
        { "-machine type=pc,accel=tcg", 0 },
        { "-accel tcg -accel kvm", 0 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        MachineConfig cfg;
        GError *err = NULL;
        GString *out = g_string_new(NULL);
        g_autofree char *line = subst(good[i].line);
        if (!parse(line, &cfg, &err, NULL, out)) {
            g_error("'%s' refused: %s", line, err->message);
        }
        g_assert_cmpint(cfg.accel, ==, ACCEL_TCG);
        if (good[i].ram) {
            g_assert_cmpuint(cfg.ram_size, ==, good[i].ram);
        }
        machine_config_clear(&cfg);
        g_string_free(out, TRUE);
    }
    /* The engine: -accel jit and -accel interp (and after a refused
       kvm, as tcg). */
    static const struct {
        const char *line;
        AccelKind accel;
    } engines[] = {
        { "-accel jit", ACCEL_JIT },
        { "-accel interp", ACCEL_INTERP },
        { "-accel kvm -accel interp", ACCEL_INTERP },
        { "-machine accel=kvm:jit", ACCEL_JIT },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(engines); i++) {
        MachineConfig cfg;
        GError *err = NULL;
        GString *out = g_string_new(NULL);
        if (!parse(engines[i].line, &cfg, &err, NULL, out)) {
            g_error("'%s' refused: %s", engines[i].line, err->message);
        }
        g_assert_cmpint(cfg.accel, ==, engines[i].accel);
        machine_config_clear(&cfg);
        g_string_free(out, TRUE);
    }
}

/* The network options in QEMU's spellings, as the config records them. */
static void test_network_lines(void)
{
    MachineConfig cfg;
    GError *err = NULL;
    GString *out = g_string_new(NULL);
    g_assert_true(parse("-nic user,model=e1000,mac=52:54:00:aa:bb:cc,"
                        "hostfwd=tcp::2222-:22,restrict=on", &cfg, &err,
                        NULL, out));
    g_assert_no_error(err);
    g_assert_cmpint(cfg.n_nics, ==, 1);
    g_assert_cmpint(cfg.n_netdevs, ==, 1);
    g_assert_cmpstr(cfg.nics[0].model, ==, "e1000");
    g_assert_cmpstr(cfg.nics[0].macaddr, ==, "52:54:00:aa:bb:cc");
    g_assert_nonnull(cfg.nics[0].netdev);
    g_assert_cmpstr(cfg.nics[0].netdev, ==, cfg.netdevs[0].id);
    g_assert_cmpstr(cfg.netdevs[0].kind, ==, "user");
    g_assert_cmpstr(cfg.netdevs[0].options, ==,
                    "hostfwd=tcp::2222-:22,restrict=on");
    machine_config_clear(&cfg);

    g_assert_true(parse("-netdev user,id=n0,hostfwd=udp::5353-:53 "
                        "-device e1000,netdev=n0", &cfg, &err, NULL, out));
    g_assert_no_error(err);
    g_assert_cmpstr(cfg.netdevs[0].id, ==, "n0");
    g_assert_cmpstr(cfg.netdevs[0].options, ==, "hostfwd=udp::5353-:53");
    g_assert_cmpstr(cfg.nics[0].netdev, ==, "n0");
    MachineConfig *copy = machine_config_copy(&cfg);
    g_assert_cmpstr(copy->nics[0].netdev, ==, "n0");
    g_assert_cmpstr(copy->netdevs[0].id, ==, "n0");
    machine_config_free(copy);
    machine_config_clear(&cfg);

    g_assert_true(parse("-net nic,model=e1000,vlan=1 -net user,vlan=1,"
                        "dhcpstart=10.0.2.20", &cfg, &err, NULL, out));
    g_assert_no_error(err);
    g_assert_cmpint(cfg.nics[0].vlan, ==, 1);
    g_assert_null(cfg.nics[0].netdev);
    g_assert_null(cfg.netdevs[0].id);
    g_assert_cmpint(cfg.netdevs[0].vlan, ==, 1);
    g_assert_cmpstr(cfg.netdevs[0].options, ==, "dhcpstart=10.0.2.20");
    machine_config_clear(&cfg);

    g_assert_true(parse("-nic none", &cfg, &err, NULL, out));
    g_assert_true(cfg.net_none);
    g_assert_cmpint(cfg.n_nics, ==, 0);
    machine_config_clear(&cfg);

    MimicParseResult res = MIMIC_PARSE_OK;
    g_string_truncate(out, 0);
    g_assert_true(parse("-nic model=help", &cfg, &err, &res, out));
    g_assert_cmpint(res, ==, MIMIC_PARSE_EXIT);
    g_assert_nonnull(strstr(out->str, "e1000"));
    machine_config_clear(&cfg);
    g_string_free(out, TRUE);
}

static void test_config_copy(void)
{
    MachineConfig cfg;
    GString *out = g_string_new(NULL);
    g_autofree char *line = subst("-hda IMG -kernel IMG -append x=1 -name n");
    g_assert_true(parse(line, &cfg, NULL, NULL, out));
    MachineConfig *c = machine_config_copy(&cfg);
    machine_config_clear(&cfg);
    g_assert_cmpstr(c->drives[0].file, ==, img);
    g_assert_cmpstr(c->append, ==, "x=1");
    g_assert_cmpstr(c->name, ==, "n");
    machine_config_free(c);
    g_string_free(out, TRUE);
}

/* The sound spellings: the HDA controller and its codec, -audio with a
   model, -soundhw all, the WAV input. */
static void test_sound_lines(void)
{
    static const struct {
        const char *line;
        const char *cards; /* soundhw[] joined by ',' */
        const char *audiodev; /* of the first card */
    } t[] = {
        { "-device intel-hda -device hda-duplex,audiodev=a0 "
          "-audiodev wav,id=a0,path=x.wav", "hda", "a0" },
        { "-audiodev none,id=b -device intel-hda "
          "-device hda-output,audiodev=b", "hda-output", "b" },
        { "-audio pa,model=hda", "hda", "audio0" },
        { "-audio wav,path=x.wav,model=hda", "hda", "audio0" },
        { "-soundhw hda,adlib", "hda,adlib", NULL },
        { "-soundhw all", "pcspk,sb16,ac97,adlib,hda", NULL },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
        MachineConfig cfg;
        GError *err = NULL;
        GString *out = g_string_new(NULL);
        g_assert_true(parse(t[i].line, &cfg, &err, NULL, out));
        g_assert_no_error(err);
        GString *cards = g_string_new(NULL);
        for (int k = 0; k < cfg.n_soundhw; k++) {
            g_string_append_printf(cards, "%s%s", k ? "," : "",
                                   cfg.soundhw[k]);
        }
        g_assert_cmpstr(cards->str, ==, t[i].cards);
        g_assert_cmpstr(cfg.soundhw_audiodev[0], ==, t[i].audiodev);
        g_string_free(cards, TRUE);
        machine_config_clear(&cfg);
        g_string_free(out, TRUE);
    }
    MachineConfig cfg;
    GError *err = NULL;
    GString *out = g_string_new(NULL);
    g_assert_true(parse("-audiodev wav,id=a0,path=o.wav,in.path=i.wav "
                        "-device AC97,audiodev=a0", &cfg, &err, NULL, out));
    g_assert_cmpstr(cfg.audiodevs[0].in_path, ==, "i.wav");
    machine_config_clear(&cfg);
    g_string_free(out, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("mimic-opts-XXXXXX", NULL);
    img = g_build_filename(tmpdir, "c.img", NULL);
    iso = g_build_filename(tmpdir, "linux.iso", NULL);
    g_file_set_contents(img, "", 0, NULL);
    g_file_set_contents(iso, "", 0, NULL);
    /* Another spelling of IMG; relative names ("c.img", "./c.img") are
       IMG too. */
    lnk = g_build_filename(tmpdir, "link.img", NULL);
    g_assert_cmpint(symlink("c.img", lnk), ==, 0);
    g_assert_cmpint(g_chdir(tmpdir), ==, 0);
    g_test_add_func("/engine/options/seed-line", test_seed_line);
    g_test_add_func("/engine/options/cpu-models", test_cpu_models);
    g_test_add_func("/engine/options/good-lines", test_good_lines);
    g_test_add_func("/engine/options/bad-lines", test_bad_lines);
    g_test_add_func("/engine/options/config-copy", test_config_copy);
    g_test_add_func("/engine/options/qemu-verdicts", test_qemu_verdicts);
    g_test_add_func("/engine/options/network-lines", test_network_lines);
    g_test_add_func("/engine/options/sound-lines", test_sound_lines);
    int rc = g_test_run();
    g_unlink(img);
    g_unlink(iso);
    g_unlink(lnk);
    g_rmdir(tmpdir);
    return rc;
}
