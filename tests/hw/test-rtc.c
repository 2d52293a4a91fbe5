/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MC146818 RTC on the pc board, driven through ports 0x70/0x71 as a
 * guest does, in -icount mode (virtual time): -rtc base=DATE and
 * -localtime from the command line, BCD/binary and 12/24-hour formats,
 * SET, UIP timing, periodic, alarm (with don't-care values) and
 * update-ended interrupts on IRQ 8.
 */
#include <stdlib.h>
#include <time.h>

#include "pc-rig.h"

#include "hw/isa/mc146818.h"

#define NS 1000000000LL

static const char *const *rig_args;

static void configure_args(MachineConfig *cfg)
{
    int argc = 1;
    char *argv[16] = { (char *)"mimic" };
    for (const char *const *a = rig_args; a && *a; a++) {
        argv[argc++] = (char *)*a;
    }
    MimicParseResult res;
    GError *err = NULL;
    g_assert_true(mimic_parse_args(argc, argv, cfg, &res, NULL, &err));
    g_assert_no_error(err);
}

static MimicMachine *rtc_machine(const char *const *args)
{
    rig_args = args;
    return rig_new(configure_args);
}

static Mc146818 *rtc_of(MimicMachine *m)
{
    Device *d = device_find(m->devices, "rtc");
    g_assert_nonnull(d);
    return (Mc146818 *)d;
}

static uint8_t rd(MimicMachine *m, int i)
{
    ioport_write(m->io, 0x70, i, 1);
    return ioport_read(m->io, 0x71, 1);
}

static void wr(MimicMachine *m, int i, uint8_t v)
{
    ioport_write(m->io, 0x70, i, 1);
    ioport_write(m->io, 0x71, v, 1);
}

static int bcd(uint8_t v)
{
    return (v >> 4) * 10 + (v & 15);
}

/* The RTC's time (BCD, 24-hour mode) as seconds since the epoch. */
static int64_t rtc_seconds(MimicMachine *m)
{
    struct tm tm = { 0 };
    tm.tm_sec = bcd(rd(m, 0));
    tm.tm_min = bcd(rd(m, 2));
    tm.tm_hour = bcd(rd(m, 4));
    tm.tm_mday = bcd(rd(m, 7));
    tm.tm_mon = bcd(rd(m, 8)) - 1;
    tm.tm_year = bcd(rd(m, RTC_CENTURY)) * 100 + bcd(rd(m, 9)) - 1900;
    return timegm(&tm);
}

static void test_base_date(void)
{
    static const char *const args[] = { "-rtc", "base=2006-06-17T16:01:21",
                                        NULL };
    MimicMachine *m = rtc_machine(args);
    /* Power-on formats: BCD, 24-hour. */
    g_assert_cmphex(rd(m, RTC_REG_B) & 0x06, ==, 0x02);
    g_assert_cmphex(rd(m, 0), ==, 0x21);
    g_assert_cmphex(rd(m, 2), ==, 0x01);
    g_assert_cmphex(rd(m, 4), ==, 0x16);
    g_assert_cmphex(rd(m, 6), ==, 7); /* a Saturday */
    g_assert_cmphex(rd(m, 7), ==, 0x17);
    g_assert_cmphex(rd(m, 8), ==, 0x06);
    g_assert_cmphex(rd(m, 9), ==, 0x06);
    g_assert_cmphex(rd(m, RTC_CENTURY), ==, 0x20);
    /* Virtual time moves it: an hour and 40 s later. */
    m->clock->icount += 3640 * NS;
    g_assert_cmphex(rd(m, 0), ==, 0x01);
    g_assert_cmphex(rd(m, 2), ==, 0x02);
    g_assert_cmphex(rd(m, 4), ==, 0x17);
    /* Binary. */
    wr(m, RTC_REG_B, 0x06);
    g_assert_cmphex(rd(m, 4), ==, 17);
    g_assert_cmphex(rd(m, 0), ==, 1);
    /* 12-hour BCD: 17 h is 5 PM (bit 7). */
    wr(m, RTC_REG_B, 0x00);
    g_assert_cmphex(rd(m, 4), ==, 0x85);
    /* Writing 12-hour 11 AM, read back in 24-hour mode. */
    wr(m, 4, 0x11);
    wr(m, RTC_REG_B, 0x02);
    g_assert_cmphex(rd(m, 4), ==, 0x11);
    mimic_machine_free(m);

    /* A date alone means midnight. */
    static const char *const args2[] = { "-rtc", "base=1999-12-31", NULL };
    m = rtc_machine(args2);
    g_assert_cmphex(rd(m, 0), ==, 0);
    g_assert_cmphex(rd(m, 4), ==, 0);
    g_assert_cmphex(rd(m, 9), ==, 0x99);
    g_assert_cmphex(rd(m, RTC_CENTURY), ==, 0x19);
    m->clock->icount += 86400 * NS;
    g_assert_cmphex(rd(m, 9), ==, 0x00);
    g_assert_cmphex(rd(m, RTC_CENTURY), ==, 0x20);
    g_assert_cmphex(rd(m, 8), ==, 0x01);
    mimic_machine_free(m);
}

static void test_localtime_vs_utc(void)
{
    /* A zone without daylight saving, 5 hours behind UTC. */
    g_autofree char *old_tz = g_strdup(g_getenv("TZ"));
    g_setenv("TZ", "EST5", TRUE);
    tzset();
    static const char *const utc[] = { "-rtc", "base=utc", NULL };
    static const char *const local[] = { "-localtime", NULL };
    static const char *const local2[] = { "-rtc", "base=localtime", NULL };
    MimicMachine *mu = rtc_machine(utc);
    int64_t host = time(NULL);
    int64_t tu = rtc_seconds(mu);
    MimicMachine *ml = rtc_machine(local);
    int64_t tl = rtc_seconds(ml);
    MimicMachine *ml2 = rtc_machine(local2);
    int64_t tl2 = rtc_seconds(ml2);
    /* The runs start within seconds of each other; the hours differ. */
    g_assert_cmpint(llabs(tu - host), <=, 60);
    g_assert_cmpint(llabs(tu - 5 * 3600 - tl), <=, 60);
    g_assert_cmpint(llabs(tl2 - tl), <=, 60);
    mimic_machine_free(mu);
    mimic_machine_free(ml);
    mimic_machine_free(ml2);
    if (old_tz) {
        g_setenv("TZ", old_tz, TRUE);
    } else {
        g_unsetenv("TZ");
    }
    tzset();
}

static void test_set_and_uip(void)
{
    static const char *const args[] = { "-rtc", "base=2020-02-28T23:59:58",
                                        NULL };
    MimicMachine *m = rtc_machine(args);
    /* SET freezes the registers; the guest's time takes effect on
       clearing it. */
    wr(m, RTC_REG_B, 0x82);
    wr(m, 0, 0x05);
    wr(m, 2, 0x04);
    wr(m, 4, 0x03);
    wr(m, 7, 0x02);
    wr(m, 8, 0x01);
    wr(m, 9, 0x30);
    m->clock->icount += 5 * NS;
    g_assert_cmphex(rd(m, 0), ==, 0x05);
    g_assert_cmphex(rd(m, RTC_REG_A) & 0x80, ==, 0); /* no UIP while SET */
    wr(m, RTC_REG_B, 0x02);
    g_assert_cmpint(rtc_seconds(m), ==, 1893553445); /* 2030-01-02 3:04:05 */
    /* UIP: set in the 244 us before each update, clear otherwise.  Walk
       in 100 us steps to the next update. */
    bool uip_before = false;
    int steps = 0;
    uint8_t sec = rd(m, 0);
    while (rd(m, 0) == sec) {
        uip_before = rd(m, RTC_REG_A) & 0x80;
        m->clock->icount += 100000;
        g_assert_cmpint(++steps, <=, 10001);
    }
    g_assert_cmphex(rd(m, 0), ==, 0x06);
    g_assert_true(uip_before);
    m->clock->icount += NS / 2;
    g_assert_cmphex(rd(m, RTC_REG_A) & 0x80, ==, 0);
    /* Leap day. */
    static const char *const args2[] = { "-rtc", "base=2020-02-28T23:59:58",
                                         NULL };
    MimicMachine *m2 = rtc_machine(args2);
    m2->clock->icount += 3 * NS;
    g_assert_cmphex(rd(m2, 7), ==, 0x29);
    g_assert_cmphex(rd(m2, 8), ==, 0x02);
    mimic_machine_free(m2);
    mimic_machine_free(m);
}

/* Periodic interrupts seen on IRQ 8 (vector 0x70) in one virtual second
   with rate select `rate`. */
static int periodic_count(int rate)
{
    static const char *const args[] = { "-rtc", "base=2010-01-01", NULL };
    MimicMachine *m = rtc_machine(args);
    rig_pic_init(m, 1 << 8);
    Mc146818 *rtc = rtc_of(m);
    wr(m, RTC_REG_A, 0x20 | rate);
    (void)rd(m, RTC_REG_C);
    wr(m, RTC_REG_B, 0x42); /* PIE */
    int64_t end = clock_now(m->clock) + NS;
    int n = 0;
    while (clock_now(m->clock) < end) {
        int64_t d = clock_next_deadline(m->clock);
        rig_advance(m, MIN(d, end) - clock_now(m->clock));
        if (fake->intr) {
            g_assert_true(rtc->irq->level);
            g_assert_cmphex(rig_pic_ack(m), ==, 0x70);
            g_assert_cmphex(rd(m, RTC_REG_C) & 0xc0, ==, 0xc0);
            g_assert_false(rtc->irq->level);
            n++;
        }
    }
    mimic_machine_free(m);
    return n;
}

static void test_periodic(void)
{
    g_assert_cmpint(periodic_count(6), ==, 1024);  /* 976.5625 us */
    g_assert_cmpint(periodic_count(15), ==, 2);
    g_assert_cmpint(periodic_count(3), ==, 8192);
    g_assert_cmpint(periodic_count(1), ==, 256);   /* 1, 2 alias 8, 9 */
    g_assert_cmpint(periodic_count(0), ==, 0);     /* none */
}

static void test_alarm_and_update(void)
{
    static const char *const args[] = { "-rtc", "base=2006-06-17T16:01:21",
                                        NULL };
    MimicMachine *m = rtc_machine(args);
    rig_pic_init(m, 1 << 8);
    Mc146818 *rtc = rtc_of(m);
    /* Alarm at 16:01:25. */
    wr(m, 1, 0x25);
    wr(m, 3, 0x01);
    wr(m, 5, 0x16);
    (void)rd(m, RTC_REG_C);
    wr(m, RTC_REG_B, 0x22); /* AIE */
    rig_advance(m, 3 * NS + NS / 2); /* 16:01:24.5 */
    g_assert_false(rtc->irq->level);
    g_assert_false(fake->intr);
    rig_advance(m, NS / 2); /* 16:01:25 */
    g_assert_true(rtc->irq->level);
    g_assert_cmphex(rig_pic_ack(m), ==, 0x70);
    g_assert_cmphex(rd(m, RTC_REG_C) & 0xa0, ==, 0xa0);
    g_assert_cmphex(rd(m, 0), ==, 0x25);
    /* Don't-care hour and minute: every minute at second 30. */
    wr(m, 1, 0x30);
    wr(m, 3, 0xc0);
    wr(m, 5, 0xff);
    int alarms = 0;
    for (int i = 0; i < 120; i++) {
        rig_advance(m, NS);
        if (rtc->irq->level) {
            g_assert_cmphex(rd(m, 0), ==, 0x30);
            g_assert_cmphex(rd(m, RTC_REG_C) & 0xa0, ==, 0xa0);
            alarms++;
        }
    }
    g_assert_cmpint(alarms, ==, 2); /* 16:01:30 and 16:02:30 */
    /* Update-ended interrupts: one a second. */
    wr(m, RTC_REG_B, 0x12); /* UIE */
    (void)rd(m, RTC_REG_C);
    int updates = 0;
    for (int i = 0; i < 5; i++) {
        rig_advance(m, NS);
        if (rtc->irq->level) {
            g_assert_cmphex(rd(m, RTC_REG_C) & 0x90, ==, 0x90);
            updates++;
        }
    }
    g_assert_cmpint(updates, ==, 5);
    /* With the interrupts off a guest polling register C still sees UF
       once per second, and no IRQ. */
    wr(m, RTC_REG_B, 0x02);
    (void)rd(m, RTC_REG_C);
    m->clock->icount += NS;
    g_assert_cmphex(rd(m, RTC_REG_C) & 0x90, ==, 0x10);
    g_assert_cmphex(rd(m, RTC_REG_C), ==, 0);
    g_assert_false(rtc->irq->level);
    mimic_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_file_test("/usr/share/seabios/bios-256k.bin", G_FILE_TEST_EXISTS)) {
        g_printerr("SKIP: Debian's seabios package is not installed\n");
        return 77;
    }
    g_test_add_func("/hw/rtc/base-date", test_base_date);
    g_test_add_func("/hw/rtc/localtime-vs-utc", test_localtime_vs_utc);
    g_test_add_func("/hw/rtc/set-and-uip", test_set_and_uip);
    g_test_add_func("/hw/rtc/periodic", test_periodic);
    g_test_add_func("/hw/rtc/alarm-and-update", test_alarm_and_update);
    return g_test_run();
}
