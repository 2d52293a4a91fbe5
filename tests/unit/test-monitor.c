/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The human monitor's commands on a machine without a board, and the
 * character devices it runs on (file output, a unix socket round trip).
 */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "engine/machine.h"

static const BoardType no_board = { .name = "none" };

static MimicMachine *fake_machine(void)
{
    MimicMachine *m = g_new0(MimicMachine, 1);
    m->mem = memmap_new();
    m->io = ioport_new();
    m->clock = clock_new(CLOCK_MODE_ICOUNT, 0);
    m->display = display_new();
    m->board_info = &no_board;
    g_mutex_init(&m->lock);
    g_cond_init(&m->cond);
    m->run_state = MIMIC_STATE_PAUSED;
    uint8_t *ram = g_malloc0(65536);
    memcpy(ram + 0x100, "Mimic!\x01\x02", 8);
    memmap_add_ram(m->mem, "ram", 0, 65536, ram, 0);
    return m;
}

static char *run(MimicMachine *m, const char *line)
{
    GString *out = g_string_new(NULL);
    monitor_execute(m, line, out);
    return g_string_free(out, FALSE);
}

static void test_commands(void)
{
    MimicMachine *m = fake_machine();
    g_autofree char *h = run(m, "help");
    g_assert_nonnull(strstr(h, "xp /fmt addr"));
    g_autofree char *hx = run(m, "help quit");
    g_assert_nonnull(strstr(hx, "quit the emulator"));
    g_assert_null(strstr(hx, "xp"));
    g_autofree char *st = run(m, "info status");
    g_assert_cmpstr(st, ==, "VM status: paused\n");
    machine_do_cont(m);
    g_autofree char *st2 = run(m, "info status");
    g_assert_cmpstr(st2, ==, "VM status: running\n");
    g_autofree char *st3 = run(m, "stop");
    g_assert_cmpint(m->run_state, ==, MIMIC_STATE_PAUSED);
    g_autofree char *xb = run(m, "xp /4xb 0x100");
    g_assert_cmpstr(xb, ==, "0000000000000100: 0x4d 0x69 0x6d 0x69\n");
    /* QEMU's spelling, the format joined to the name. */
    g_autofree char *xj = run(m, "xp/4xb 0x100");
    g_assert_cmpstr(xj, ==, xb);
    /* No CPU: no $pc, no disassembler. */
    g_autofree char *xpc = run(m, "x/2i $pc");
    g_assert_cmpstr(xpc, ==, "no CPU\n");
    g_autofree char *xi = run(m, "xp/2i 0x100");
    g_assert_cmpstr(xi, ==, "no disassembler\n");
    /* Issue 15 item 8: invalid UTF-8 is refused, not run as "q". */
    g_autofree char *bad = run(m, "q\xbe");
    g_assert_cmpstr(bad, ==, "invalid UTF-8 in the command line: refused\n");
    g_assert_false(m->quit_requested);
    g_autofree char *xs = run(m, "/4xb 0x100");
    g_assert_nonnull(strstr(xs, "unknown command"));
    g_autofree char *xw = run(m, "xp /2xw 0x100");
    g_assert_nonnull(strstr(xw, "0x696d694d"));
    g_autofree char *xc = run(m, "xp /3c 0x100");
    g_assert_nonnull(strstr(xc, "'M' 'i' 'm'"));
    g_autofree char *xd = run(m, "xp /1db 0x107");
    g_assert_nonnull(strstr(xd, " 2"));
    /* Unassigned memory reads as all ones. */
    g_autofree char *xu = run(m, "xp /1xh 0x200000");
    g_assert_nonnull(strstr(xu, "0xffff"));
    /* Bad input. */
    g_autofree char *u = run(m, "frob");
    g_assert_cmpstr(u, ==, "unknown command: 'frob'\n");
    g_autofree char *b1 = run(m, "xp /zz 0");
    g_assert_nonnull(strstr(b1, "invalid format"));
    g_autofree char *b2 = run(m, "xp /4xb");
    g_assert_nonnull(strstr(b2, "missing address"));
    g_autofree char *b3 = run(m, "xp /4xb 0xzz");
    g_assert_nonnull(strstr(b3, "invalid address"));
    g_autofree char *b4 = run(m, "xp /999999999xb 0");
    g_assert_nonnull(strstr(b4, "invalid format"));
    g_autofree char *b5 = run(m, "info \"unterminated");
    g_assert_nonnull(strstr(b5, "could not parse"));
    g_autofree char *b6 = run(m, "x /4xb 0");
    g_assert_nonnull(strstr(b6, "Cannot access memory"));
    g_autofree char *b7 = run(m, "sendkey ctrl-alt-delete");
    g_assert_nonnull(strstr(b7, "no keyboard"));
    g_autofree char *b8 = run(m, "sendkey ctrl-nosuchkey");
    g_assert_nonnull(strstr(b8, "unknown key: 'nosuchkey'"));
    /* Block and mouse commands on a machine without the hardware. */
    g_autofree char *hb = run(m, "help");
    g_assert_nonnull(strstr(hb, "change device filename [format]"));
    g_assert_nonnull(strstr(hb, "eject [-f] device"));
    g_assert_nonnull(strstr(hb, "mouse_move dx dy [dz]"));
    g_assert_nonnull(strstr(hb, "mouse_button state"));
    g_autofree char *ib = run(m, "info block");
    g_assert_cmpstr(ib, ==, "");
    g_autofree char *ib2 = run(m, "info block ide1-cd0");
    g_assert_cmpstr(ib2, ==, "Device 'ide1-cd0' not found\n");
    g_autofree char *ch = run(m, "change ide1-cd0 /nonexistent.iso");
    g_assert_cmpstr(ch, ==, "Device 'ide1-cd0' not found\n");
    g_autofree char *ch2 = run(m, "change");
    g_assert_nonnull(strstr(ch2, "usage"));
    g_autofree char *ej = run(m, "eject -f ide1-cd0");
    g_assert_cmpstr(ej, ==, "Device 'ide1-cd0' not found\n");
    g_autofree char *ej2 = run(m, "eject -f");
    g_assert_nonnull(strstr(ej2, "usage"));
    g_autofree char *mm = run(m, "mouse_move 1 2");
    g_assert_nonnull(strstr(mm, "no mouse"));
    g_autofree char *mm2 = run(m, "mouse_move 1 184467440737095516160");
    g_assert_nonnull(strstr(mm2, "invalid number"));
    g_autofree char *mb = run(m, "mouse_button 7");
    g_assert_nonnull(strstr(mb, "no mouse"));
    g_autofree char *mb2 = run(m, "mouse_button 4294967297");
    g_assert_nonnull(strstr(mb2, "invalid button state"));
    g_autofree char *s1 = run(m, "migrate");
    g_assert_nonnull(strstr(s1, "missing URI"));
    g_autofree char *s2 = run(m, "migrate tcp:localhost:4444");
    g_assert_nonnull(strstr(s2, "unsupported URI"));
    g_autofree char *s3 = run(m, "savevm s1");
    g_assert_nonnull(strstr(s3, "qcow2 disk is needed"));
    g_autofree char *s4 = run(m, "loadvm");
    g_assert_nonnull(strstr(s4, "missing snapshot name"));
    g_autofree char *s5 = run(m, "info snapshots");
    g_assert_nonnull(strstr(s5, "qcow2 disk is needed"));
    g_autofree char *s6 = run(m, "delvm s1");
    g_assert_nonnull(strstr(s6, "Error: "));
    /* The inventory of a machine without a board. */
    g_autofree char *iq = run(m, "info qtree");
    g_assert_cmpstr(iq, ==, "bus: main-system-bus\n  type none\n");
    g_autofree char *ir = run(m, "info roms");
    g_assert_cmpstr(ir, ==, "");
    g_autofree char *ic = run(m, "info cpus");
    g_assert_cmpstr(ic, ==, "no CPU\n");
    g_autofree char *in = run(m, "info network");
    g_assert_cmpstr(in, ==, "no network cards\n");
    g_autofree char *e = run(m, "   ");
    g_assert_cmpstr(e, ==, "");
    /* Screendump through the display. */
    g_autofree char *dir = g_dir_make_tmp("mimic-mon-XXXXXX", NULL);
    g_autofree char *png = g_build_filename(dir, "s.png", NULL);
    g_autofree char *cmd = g_strdup_printf("screendump %s", png);
    g_autofree char *sd = run(m, cmd);
    g_assert_cmpstr(sd, ==, "");
    g_assert_true(g_file_test(png, G_FILE_TEST_EXISTS));
    g_unlink(png);
    g_rmdir(dir);
    g_autofree char *q = run(m, "quit");
    g_assert_true(m->quit_requested);
}

/* Mimic's determinism extensions: icount_stop, info icount, info
   ramhash. */
static void test_icount_commands(void)
{
    MimicMachine *m = fake_machine();
    m->icount_stop = -1;
    uint8_t *ram = g_malloc0(65536);
    ram[5] = 7;
    m->board.ram_blocks[0] = (BoardRamBlock){ "pc.ram", ram, 65536 };
    m->board.n_ram_blocks = 1;
    g_autofree char *i0 = run(m, "info icount");
    g_assert_cmpstr(i0, ==, "icount: 0 instructions, shift 0, virtual time "
                    "0 ns\n");
    m->clock->icount = 1000;
    g_autofree char *e1 = run(m, "icount_stop zz");
    g_assert_nonnull(strstr(e1, "'zz' is not an instruction count"));
    g_autofree char *e2 = run(m, "icount_stop -5");
    g_assert_nonnull(strstr(e2, "is not an instruction count"));
    g_autofree char *e3 = run(m, "icount_stop 99999999999999999999999");
    g_assert_nonnull(strstr(e3, "is not an instruction count"));
    g_autofree char *e4 = run(m, "icount_stop 1000");
    g_assert_nonnull(strstr(e4, "already at 1000"));
    g_assert_cmpint(m->icount_stop, ==, -1);
    g_autofree char *ok = run(m, "icount_stop 0x1000");
    g_assert_cmpstr(ok, ==, "");
    g_assert_cmpint(m->icount_stop, ==, 4096);
    g_autofree char *i1 = run(m, "info icount");
    g_assert_cmpstr(i1, ==, "icount: 1000 instructions, shift 0, virtual "
                    "time 1000 ns\nstop at: 4096\n");
    g_autofree char *cl = run(m, "icount_stop");
    g_assert_cmpstr(cl, ==, "");
    g_assert_cmpint(m->icount_stop, ==, -1);
    /* The hash is SHA-256 of the block's bytes, and follows them. */
    g_autofree char *want = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
                                                        ram, 65536);
    g_autofree char *h1 = run(m, "info ramhash");
    g_autofree char *line = g_strdup_printf("pc.ram %s\nall %s\n", want,
                                            want);
    g_assert_cmpstr(h1, ==, line);
    ram[65535] ^= 1;
    g_autofree char *h2 = run(m, "info ramhash");
    g_assert_cmpstr(h2, !=, h1);
    /* Without -icount there is no instruction counter to stop at. */
    clock_free(m->clock);
    m->clock = clock_new(CLOCK_MODE_REALTIME, -1);
    g_autofree char *r1 = run(m, "icount_stop 5000");
    g_assert_nonnull(strstr(r1, "needs -icount"));
    g_autofree char *r2 = run(m, "info icount");
    g_assert_cmpstr(r2, ==, "icount: off (real-time clock)\n");
}

static void test_chardev_file_and_socket(void)
{
    GError *err = NULL;
    GMainContext *ctx = g_main_context_new();
    g_autofree char *dir = g_dir_make_tmp("mimic-chr-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "out.txt", NULL);
    g_autofree char *spec = g_strconcat("file:", path, NULL);
    CharDev *f = chardev_new(spec, ctx, &err);
    g_assert_no_error(err);
    chardev_printf(f, "hello %d\n", 42);
    chardev_free(f);
    g_autofree char *txt = NULL;
    g_assert_true(g_file_get_contents(path, &txt, NULL, NULL));
    g_assert_cmpstr(txt, ==, "hello 42\n");

    /* A monitor on a unix socket server: connect, type, read the reply. */
    MimicMachine *m = fake_machine();
    g_autofree char *sock = g_build_filename(dir, "mon.sock", NULL);
    g_autofree char *sspec = g_strconcat("unix:", sock, ",server,nowait",
                                         NULL);
    CharDev *s = chardev_new(sspec, ctx, &err);
    g_assert_no_error(err);
    Monitor *mon = monitor_new(m, s);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_strlcpy(sa.sun_path, sock, sizeof(sa.sun_path));
    g_assert_cmpint(connect(c, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    for (int i = 0; i < 20; i++) {
        g_main_context_iteration(ctx, FALSE);
    }
    g_assert_cmpint(write(c, "info status\n", 12), ==, 12);
    GString *got = g_string_new(NULL);
    for (int i = 0; i < 200 && !strstr(got->str, "VM status: paused"); i++) {
        g_main_context_iteration(ctx, FALSE);
        char buf[256];
        struct timeval tv = { 0, 10000 };
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ssize_t n = read(c, buf, sizeof(buf));
        if (n > 0) {
            g_string_append_len(got, buf, n);
        }
    }
    g_assert_nonnull(strstr(got->str, "(mimic) "));
    g_assert_nonnull(strstr(got->str, "VM status: paused"));
    g_string_free(got, TRUE);
    close(c);
    monitor_free(mon);
    chardev_free(s);
    g_unlink(sock);
    g_unlink(path);
    g_rmdir(dir);

    /* Bad specs are refused with a message. */
    const char *bad[] = { "bogus", "tcp:nohostport", "unix:", "file:/no/such/dir/x",
                          "tcp:127.0.0.1:1,server=maybe",
                          "unix:/tmp/x,flavour=on" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_null(chardev_new(bad[i], ctx, &err));
        g_assert_nonnull(err);
        g_clear_error(&err);
    }
    g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/monitor/commands", test_commands);
    g_test_add_func("/engine/monitor/icount", test_icount_commands);
    g_test_add_func("/engine/chardev/file-and-socket",
                    test_chardev_file_and_socket);
    return g_test_run();
}
