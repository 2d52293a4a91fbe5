/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Virtual clock and timers (see clock.h).  Timers sit in a binary
 * min-heap ordered by deadline, ties broken by insertion sequence so that
 * the firing order is deterministic.
 */
#include "bus/clock.h"

#include <string.h>
#include <time.h>
#include <glib.h>

struct Timer {
    Clock *clock;
    TimerCallback cb;
    void *opaque;
    int64_t deadline;
    uint64_t seq;
    int heap_index; /* -1 when not pending */
};

int64_t clock_host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

Clock *clock_new(ClockMode mode, int icount_shift)
{
    Clock *c = g_new0(Clock, 1);
    c->mode = mode;
    c->icount_shift = icount_shift < 0 ? 0 : MIN(icount_shift, 10);
    c->paused_at = 0; /* starts paused at virtual time 0 */
    c->last = c->floor = INT64_MIN;
    if (mode == CLOCK_MODE_REALTIME) {
        c->base_ns = clock_host_ns();
    }
    return c;
}

void clock_free(Clock *c)
{
    if (!c) {
        return;
    }
    for (int i = 0; i < c->heap_len; i++) {
        c->heap[i]->heap_index = -1;
    }
    for (int i = 0; i < c->all_len; i++) {
        c->all[i]->clock = NULL;
    }
    g_free(c->all);
    g_free(c->heap);
    g_free(c);
}

void clock_set_progress(Clock *c, const int64_t *progress)
{
    c->progress = progress;
}

int64_t clock_now(Clock *c)
{
    if (c->mode == CLOCK_MODE_ICOUNT) {
        int64_t n = c->icount + (c->progress ? *c->progress : 0);
        return c->base_ns + (n << c->icount_shift);
    }
    if (c->paused_at >= 0) {
        return c->paused_at;
    }
    int64_t v = clock_host_ns() - c->base_ns;
    /*
     * Causality: time never reads past a deadline whose timer has not
     * fired.  Timers fire between the CPU's slices; if the host stops the
     * worker thread for a while, the guest would otherwise read a clock
     * (TSC, HPET, PM timer) far ahead with none of the interrupts due in
     * between (Linux's check_timer() then gave up on the IO-APIC timer:
     * 160 ms of TSC without 4 ticks).  A timer re-armed at or before the
     * last firing round's time (clock_run_timers) does not hold time back,
     * so a timer re-armed with no delay cannot freeze the clock.
     */
    if (c->heap_len) {
        int64_t d = c->heap[0]->deadline;
        if (d < v && d > c->floor) {
            v = d;
        }
    }
    if (v < c->last) {
        v = c->last;
    }
    c->last = v;
    return v;
}

static void set_seen(Clock *c, int64_t ns)
{
    c->last = c->floor = ns;
}

void clock_pause(Clock *c)
{
    if (c->mode == CLOCK_MODE_REALTIME && c->paused_at < 0) {
        c->paused_at = clock_now(c);
    }
}

void clock_resume(Clock *c)
{
    if (c->mode == CLOCK_MODE_REALTIME && c->paused_at >= 0) {
        c->base_ns = clock_host_ns() - c->paused_at;
        set_seen(c, c->paused_at);
        c->paused_at = -1;
    }
}

void clock_set_now(Clock *c, int64_t ns)
{
    if (c->mode == CLOCK_MODE_ICOUNT) {
        c->base_ns = ns - (c->icount << c->icount_shift);
    } else if (c->paused_at >= 0) {
        c->paused_at = ns;
    } else {
        c->base_ns = clock_host_ns() - ns;
        set_seen(c, ns);
    }
}

void clock_warp_to(Clock *c, int64_t ns)
{
    int64_t now = clock_now(c);
    if (ns > now && c->mode == CLOCK_MODE_ICOUNT) {
        c->base_ns += ns - now;
    }
}

static bool earlier(const Timer *a, const Timer *b)
{
    return a->deadline < b->deadline ||
           (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_swap(Clock *c, int i, int j)
{
    Timer *t = c->heap[i];
    c->heap[i] = c->heap[j];
    c->heap[j] = t;
    c->heap[i]->heap_index = i;
    c->heap[j]->heap_index = j;
}

static void sift_up(Clock *c, int i)
{
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!earlier(c->heap[i], c->heap[p])) {
            break;
        }
        heap_swap(c, i, p);
        i = p;
    }
}

static void sift_down(Clock *c, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < c->heap_len && earlier(c->heap[l], c->heap[m])) {
            m = l;
        }
        if (r < c->heap_len && earlier(c->heap[r], c->heap[m])) {
            m = r;
        }
        if (m == i) {
            break;
        }
        heap_swap(c, i, m);
        i = m;
    }
}

static void heap_remove(Clock *c, Timer *t)
{
    int i = t->heap_index;
    int last = --c->heap_len;
    t->heap_index = -1;
    if (i != last) {
        c->heap[i] = c->heap[last];
        c->heap[i]->heap_index = i;
        sift_down(c, i);
        sift_up(c, i);
    }
}

int64_t clock_next_deadline(Clock *c)
{
    return c->heap_len ? c->heap[0]->deadline : CLOCK_NEVER;
}

int clock_run_timers(Clock *c)
{
    int fired = 0;
    int64_t now = clock_now(c);
    uint64_t first_seq = c->timer_seq;
    while (c->heap_len && c->heap[0]->deadline <= now) {
        Timer *t = c->heap[0];
        if (c->mode == CLOCK_MODE_REALTIME && t->seq >= first_seq) {
            /* Armed by this call into the past: a periodic device
               catching up after the host kept us from running.  It
               fires at the next call, after the CPU has run, so each
               of its interrupts is taken rather than merged with the
               next in the interrupt controller (lost PIT ticks made
               Linux's jiffies fall behind the TSC). */
            break;
        }
        heap_remove(c, t);
        t->cb(t->opaque);
        fired++;
        if (fired > 100000) {
            break; /* a timer rearming in the past: don't spin forever */
        }
    }
    if (c->mode == CLOCK_MODE_REALTIME && c->paused_at < 0) {
        c->floor = now;
    }
    return fired;
}

Timer *timer_new(Clock *c, TimerCallback cb, void *opaque)
{
    Timer *t = g_new0(Timer, 1);
    t->clock = c;
    t->cb = cb;
    t->opaque = opaque;
    t->heap_index = -1;
    t->deadline = CLOCK_NEVER;
    if (c->all_len == c->all_cap) {
        c->all_cap = c->all_cap ? c->all_cap * 2 : 16;
        c->all = g_renew(Timer *, c->all, c->all_cap);
    }
    c->all[c->all_len++] = t;
    return t;
}

void timer_free(Timer *t)
{
    if (!t) {
        return;
    }
    Clock *c = t->clock;
    if (c) {
        timer_del(t);
        for (int i = 0; i < c->all_len; i++) {
            if (c->all[i] == t) {
                memmove(&c->all[i], &c->all[i + 1],
                        (c->all_len - i - 1) * sizeof(Timer *));
                c->all_len--;
                break;
            }
        }
    }
    g_free(t);
}

void timer_del(Timer *t)
{
    if (t->clock && t->heap_index >= 0) {
        heap_remove(t->clock, t);
    }
    t->deadline = CLOCK_NEVER;
}

void timer_mod(Timer *t, int64_t deadline)
{
    Clock *c = t->clock;
    if (t->heap_index >= 0) {
        heap_remove(c, t);
    }
    t->deadline = deadline;
    t->seq = c->timer_seq++;
    if (c->heap_len == c->heap_cap) {
        c->heap_cap = c->heap_cap ? c->heap_cap * 2 : 16;
        c->heap = g_renew(Timer *, c->heap, c->heap_cap);
    }
    t->heap_index = c->heap_len++;
    c->heap[t->heap_index] = t;
    sift_up(c, t->heap_index);
}

bool timer_pending(const Timer *t)
{
    return t->heap_index >= 0;
}

int64_t timer_expire_time(const Timer *t)
{
    return t->heap_index >= 0 ? t->deadline : CLOCK_NEVER;
}

int clock_timer_count(const Clock *c)
{
    return c->all_len;
}

Timer *clock_timer_nth(const Clock *c, int n)
{
    return n >= 0 && n < c->all_len ? c->all[n] : NULL;
}

uint64_t timer_seq(const Timer *t)
{
    return t->seq;
}

void timer_restore(Timer *t, int64_t deadline, uint64_t seq)
{
    Clock *c = t->clock;
    if (t->heap_index >= 0) {
        heap_remove(c, t);
    }
    t->deadline = CLOCK_NEVER;
    t->seq = seq;
    if (deadline == CLOCK_NEVER) {
        return;
    }
    t->deadline = deadline;
    if (c->heap_len == c->heap_cap) {
        c->heap_cap = c->heap_cap ? c->heap_cap * 2 : 16;
        c->heap = g_renew(Timer *, c->heap, c->heap_cap);
    }
    t->heap_index = c->heap_len++;
    c->heap[t->heap_index] = t;
    sift_up(c, t->heap_index);
}
