/*
 * clock.h - the monotonic clock, for intervals (ticks, progress, timings)
 * that wall-clock jumps must not stretch or shrink; and the wall clock,
 * read one way everywhere.
 */
#ifndef SN_CLOCK_H
#define SN_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC (an arbitrary origin). */
int64_t sn_monotonic_ms(void);

/* Microseconds on CLOCK_MONOTONIC. */
int64_t sn_monotonic_us(void);

/* Nanoseconds on CLOCK_MONOTONIC. */
int64_t sn_monotonic_ns(void);

/* Seconds since the epoch on CLOCK_REALTIME. Not time(): on Linux it reads
 * the kernel's coarse copy, which lags CLOCK_REALTIME by up to a tick, so a
 * time a client had just read (say, an event's "at") could look a second in
 * the future to the server. */
int64_t sn_wall_sec(void);

/* The CLOCK_REALTIME instant ms milliseconds from now: the deadline of a
 * pthread_cond_timedwait (whose condition variables keep that clock). */
struct timespec sn_realtime_in_ms(int64_t ms);

#endif
