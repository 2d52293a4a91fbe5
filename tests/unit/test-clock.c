/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the virtual clock and timers. */
#include "bus/clock.h"

#include <glib.h>

static GString *order;

static void fire(void *opaque)
{
    g_string_append(order, opaque);
}

static void test_icount_order(void)
{
    Clock *c = clock_new(CLOCK_MODE_ICOUNT, 2);
    order = g_string_new(NULL);
    Timer *a = timer_new(c, fire, "a");
    Timer *b = timer_new(c, fire, "b");
    Timer *t = timer_new(c, fire, "c");
    timer_mod(a, 100);
    timer_mod(b, 40);
    timer_mod(t, 40);
    g_assert_cmpint(clock_next_deadline(c), ==, 40);
    c->icount = 9; /* 36 ns */
    g_assert_cmpint(clock_run_timers(c), ==, 0);
    c->icount = 10; /* 40 ns */
    g_assert_cmpint(clock_run_timers(c), ==, 2);
    g_assert_cmpstr(order->str, ==, "bc");
    g_assert_true(timer_pending(a));
    timer_del(a);
    g_assert_false(timer_pending(a));
    g_assert_cmpint(clock_next_deadline(c), ==, CLOCK_NEVER);
    clock_warp_to(c, 1000);
    g_assert_cmpint(clock_now(c), ==, 1000);
    timer_mod(a, 500);
    clock_run_timers(c);
    g_assert_cmpstr(order->str, ==, "bca");
    timer_free(a);
    timer_free(b);
    timer_free(t);
    clock_free(c);
    g_string_free(order, TRUE);
}

static void test_heap_many(void)
{
    Clock *c = clock_new(CLOCK_MODE_ICOUNT, 0);
    Timer *ts[200];
    order = g_string_new(NULL);
    GRand *r = g_rand_new_with_seed(42);
    for (int i = 0; i < 200; i++) {
        ts[i] = timer_new(c, fire, "");
        timer_mod(ts[i], g_rand_int_range(r, 0, 1000));
    }
    for (int i = 0; i < 100; i++) {
        timer_mod(ts[g_rand_int_range(r, 0, 200)],
                  g_rand_int_range(r, 0, 1000));
        timer_del(ts[g_rand_int_range(r, 0, 200)]);
    }
    int64_t last = -1;
    while (clock_next_deadline(c) != CLOCK_NEVER) {
        int64_t d = clock_next_deadline(c);
        g_assert_cmpint(d, >=, last);
        last = d;
        c->icount = d;
        clock_run_timers(c);
    }
    for (int i = 0; i < 200; i++) {
        timer_free(ts[i]);
    }
    g_rand_free(r);
    clock_free(c);
    g_string_free(order, TRUE);
}

static void test_realtime_pause(void)
{
    Clock *c = clock_new(CLOCK_MODE_REALTIME, 0);
    /* A new clock is paused at 0 until the machine starts. */
    g_assert_cmpint(clock_now(c), ==, 0);
    clock_resume(c);
    int64_t t0 = clock_now(c);
    g_assert_cmpint(t0, >=, 0);
    clock_pause(c);
    int64_t t1 = clock_now(c);
    g_assert_cmpint(clock_now(c), ==, t1);
    clock_set_now(c, 5000000);
    g_assert_cmpint(clock_now(c), ==, 5000000);
    clock_resume(c);
    g_assert_cmpint(clock_now(c), >=, 5000000);
    clock_free(c);
}

/* A periodic timer behind by several periods (the host stalled the
   machine) fires once per clock_run_timers call in real time, so the CPU
   runs between its firings; under icount every firing is due by the
   count and all of them happen at once. */
static int periodic_fired;
static Timer *periodic;
static int64_t periodic_next;

static void periodic_cb(void *opaque)
{
    periodic_fired++;
    periodic_next += 1000; /* 1 us period */
    timer_mod(periodic, periodic_next);
}

static void test_realtime_catch_up(void)
{
    Clock *c = clock_new(CLOCK_MODE_REALTIME, 0);
    clock_set_now(c, 1000000);
    periodic = timer_new(c, periodic_cb, NULL);
    periodic_next = 1000;
    timer_mod(periodic, periodic_next);
    periodic_fired = 0;
    /* Paused at 1 ms: about 1000 periods behind. */
    g_assert_cmpint(clock_run_timers(c), ==, 1);
    g_assert_cmpint(periodic_fired, ==, 1);
    g_assert_cmpint(clock_run_timers(c), ==, 1);
    g_assert_cmpint(periodic_fired, ==, 2);
    g_assert_cmpint(clock_next_deadline(c), ==, 3000);
    timer_free(periodic);
    clock_free(c);

    c = clock_new(CLOCK_MODE_ICOUNT, 0);
    periodic = timer_new(c, periodic_cb, NULL);
    periodic_next = 1000;
    timer_mod(periodic, periodic_next);
    periodic_fired = 0;
    c->icount = 10500;
    g_assert_cmpint(clock_run_timers(c), ==, 10);
    g_assert_cmpint(clock_next_deadline(c), ==, 11000);
    timer_free(periodic);
    clock_free(c);
}

static Clock *zero_clock;
static Timer *zero_timer;
static int zero_fired;

static void zero_cb(void *opaque)
{
    zero_fired++;
    timer_mod(zero_timer, clock_now(zero_clock));   /* no delay at all */
}

/*
 * Real time after the host held the worker thread back: the clock reads
 * no further than the first timer that has not fired, then advances one
 * firing round at a time (each periodic tick is seen before the time
 * after it); a timer re-armed with no delay does not freeze it.
 */
static void test_realtime_causality(void)
{
    Clock *c = clock_new(CLOCK_MODE_REALTIME, 0);
    clock_resume(c);
    int64_t t0 = clock_now(c);
    periodic = timer_new(c, periodic_cb, NULL);
    periodic_fired = 0;
    periodic_next = t0 + 1000000;          /* ticks every 1 us from +1 ms */
    timer_mod(periodic, periodic_next);
    g_usleep(20000);                       /* the "stall": 20 ms */
    g_assert_cmpint(clock_now(c), ==, t0 + 1000000);
    g_assert_cmpint(clock_now(c), ==, t0 + 1000000);
    for (int i = 1; i <= 50; i++) {
        g_assert_cmpint(clock_run_timers(c), ==, 1);
        g_assert_cmpint(periodic_fired, ==, i);
        /* The next tick (re-armed into the past) bounds the clock. */
        g_assert_cmpint(clock_now(c), ==, t0 + 1000000 + i * 1000);
    }
    timer_free(periodic);
    /* Nothing pending: the clock is the host's again, and monotonic. */
    int64_t a = clock_now(c);
    g_assert_cmpint(a, >=, t0 + 20000000);

    zero_clock = c;
    zero_fired = 0;
    zero_timer = timer_new(c, zero_cb, NULL);
    timer_mod(zero_timer, clock_now(c));
    int64_t prev = clock_now(c);
    for (int i = 0; i < 5; i++) {
        g_usleep(2000);
        clock_run_timers(c);
        int64_t now = clock_now(c);
        g_assert_cmpint(now, >=, prev + 1000000);
        prev = now;
    }
    g_assert_cmpint(zero_fired, >=, 5);
    timer_free(zero_timer);
    clock_free(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/clock/icount-order", test_icount_order);
    g_test_add_func("/engine/clock/heap-many", test_heap_many);
    g_test_add_func("/engine/clock/realtime-pause", test_realtime_pause);
    g_test_add_func("/engine/clock/realtime-catch-up", test_realtime_catch_up);
    g_test_add_func("/engine/clock/realtime-causality",
                    test_realtime_causality);
    return g_test_run();
}
