/*
 * clock.h - the monotonic clock, for intervals (ticks, progress, timings)
 * that wall-clock jumps must not stretch or shrink.
 */
#ifndef SN_CLOCK_H
#define SN_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC (an arbitrary origin). */
int64_t sn_monotonic_ms(void);

/* Microseconds on CLOCK_MONOTONIC. */
int64_t sn_monotonic_us(void);

/* Nanoseconds on CLOCK_MONOTONIC. */
int64_t sn_monotonic_ns(void);

#endif
