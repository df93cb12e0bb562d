/*
 * keylimits.h - per-key limits on checks: how many numbers one API key may
 * check a second and a day, counted in memory on the loop threads (checks
 * never touch the store) with one cache line of atomics per key.
 *
 * A second: a token bucket (kept as GCRA's one "theoretical arrival time")
 * refilled at the key's rate and holding SN_CHECK_BURST_S seconds of it. A
 * request of n numbers (a batch counts its items) takes n tokens when they
 * are there; a batch larger than the whole bucket is taken when the bucket
 * is full and leaves it in debt, so a key of any rate may send the largest
 * batch, and over time never checks more than its rate.
 * A day: the numbers counted on the calendar day of the deployment's zone;
 * a request that would pass the daily limit is refused whole and counts
 * nothing. The count is this node's (each serve process keeps its own) and
 * starts from zero when serve starts.
 * A refused request takes nothing from either count, and says how many
 * seconds to wait (Retry-After): until its numbers fit in the bucket, or
 * until the day ends. Thread-safe, lock-free.
 */
#ifndef SN_AUTH_KEYLIMITS_H
#define SN_AUTH_KEYLIMITS_H

#include <stdint.h>

#define SN_CHECK_RATE_DEFAULT 10000        /* numbers a second per key (serve --check-rate) */
#define SN_CHECK_DAILY_DEFAULT 10000000    /* numbers a day per key and node (--check-daily) */
#define SN_CHECK_RATE_MAX 100000000        /* the most a key or the server may set */
#define SN_CHECK_DAILY_MAX 1000000000000LL /* likewise, a day */
#define SN_CHECK_BURST_S 1                 /* the bucket holds this many seconds of the rate */

/* One key's limits (both > 0). */
typedef struct {
    uint32_t per_s;
    uint64_t per_day;
} sn_check_limits;

typedef enum {
    SN_LIMIT_OK = 0,
    SN_LIMIT_RATE = 1,  /* over the numbers a second */
    SN_LIMIT_DAILY = 2, /* over the numbers a day */
} sn_limit_verdict;

typedef struct sn_key_meters sn_key_meters;

/* Empty meters for every key id; NULL when out of memory. */
sn_key_meters *sn_key_meters_new(void);
void sn_key_meters_free(sn_key_meters *m);

/* Count n numbers (1 to SN_CHECK_RATE_MAX) checked with key `key` under
 * lim, at now_ns (a monotonic clock) on calendar day `day`, whose end is
 * day_left_s seconds away. SN_LIMIT_OK, or the limit that refused it with
 * the seconds to wait in *retry_s (at least 1). SN_LIMIT_OK as well when
 * memory for the key's meter could not be had (checks are never refused for
 * the server's own want). */
sn_limit_verdict sn_key_meter_take(sn_key_meters *m, uint32_t key, const sn_check_limits *lim,
                                   uint64_t n, int64_t now_ns, int32_t day, int64_t day_left_s,
                                   int64_t *retry_s);

#endif
