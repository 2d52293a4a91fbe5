/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtual clock and its timers.
 *
 * Virtual time is in nanoseconds.  In real-time mode it follows the host's
 * monotonic clock while the machine runs and stands still while it is
 * paused; it never reads past the deadline of a timer that has not fired
 * (after the host held the worker thread back, time catches up one firing
 * round at a time, so the guest sees its interrupts in order).  In deterministic mode (-icount SHIFT) it advances by 2^SHIFT ns
 * per executed guest instruction: the engine adds the count each CPU
 * run() returns to clock->icount, the time read inside a run() counts the
 * running block whole (Clock.progress), and a halted CPU warps time to
 * the next deadline, so a run is reproducible bit for bit.
 *
 * Timers live in a binary min-heap.  All timer calls happen on the
 * machine's worker thread.
 */
#ifndef MIMIC_BUS_CLOCK_H
#define MIMIC_BUS_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    CLOCK_MODE_REALTIME,
    CLOCK_MODE_ICOUNT,
} ClockMode;

typedef struct Timer Timer;
typedef void (*TimerCallback)(void *opaque);

typedef struct Clock {
    ClockMode mode;
    int icount_shift;
    /* Instructions executed (icount mode): the engine adds what each
       CpuOps.run() returns. */
    int64_t icount;
    /* Instructions of the run() in progress not yet in icount, counting
       the whole block being executed: a CPU's own counter, wired by the
       engine (clock_set_progress), so time read by a device inside a
       block is that of the block's end, as with a charged count. */
    const int64_t *progress;
    /* private */
    int64_t base_ns;   /* icount: time at icount == 0; realtime: offset */
    int64_t paused_at; /* realtime: virtual time when paused, or -1 */
    int64_t last;      /* realtime: the latest time read (monotonic) */
    int64_t floor;     /* realtime: time of the last clock_run_timers */
    Timer **heap;
    int heap_len, heap_cap;
    uint64_t timer_seq; /* tie-break: deterministic firing order */
    Timer **all;        /* every live timer, in creation order (state) */
    int all_len, all_cap;
} Clock;

#define CLOCK_NEVER INT64_MAX

Clock *clock_new(ClockMode mode, int icount_shift);
/* icount mode: where the running CPU keeps its progress (NULL: none). */
void clock_set_progress(Clock *c, const int64_t *progress);
void clock_free(Clock *clock);
int64_t clock_now(Clock *clock);
/* Real-time mode: stop/restart the passage of virtual time. */
void clock_pause(Clock *clock);
void clock_resume(Clock *clock);
/* Set the current virtual time (restore from a snapshot). */
void clock_set_now(Clock *clock, int64_t ns);
/* Icount: advance time to ns (a halted CPU sleeping until a deadline). */
void clock_warp_to(Clock *clock, int64_t ns);
/* Earliest timer deadline, or CLOCK_NEVER. */
int64_t clock_next_deadline(Clock *clock);
/* Fire every timer whose deadline has passed; returns how many fired.
   In real-time mode a timer that a callback of this call re-armed at a
   deadline already passed waits for the next call (the engine then runs
   a short slice first: one firing per slice while a device catches up). */
int clock_run_timers(Clock *clock);
/* Host monotonic nanoseconds. */
int64_t clock_host_ns(void);

Timer *timer_new(Clock *clock, TimerCallback cb, void *opaque);
void timer_free(Timer *timer);
void timer_mod(Timer *timer, int64_t deadline_ns);
void timer_del(Timer *timer);
bool timer_pending(const Timer *timer);
int64_t timer_expire_time(const Timer *timer); /* CLOCK_NEVER if idle */

/*
 * Saved state: the timers of a machine are identified by their creation
 * index (a machine of the same configuration creates them in the same
 * order).  timer_restore() sets a timer's deadline (CLOCK_NEVER: idle) and
 * tie-break sequence exactly, without bumping clock->timer_seq.
 */
int clock_timer_count(const Clock *clock);
Timer *clock_timer_nth(const Clock *clock, int n);
uint64_t timer_seq(const Timer *timer);
void timer_restore(Timer *timer, int64_t deadline_ns, uint64_t seq);

#endif
