/*
 * keylimits.c - per-key check limits (see keylimits.h).
 *
 * Each key id has a meter of its own cache line (two keys never share one,
 * so loops checking for different keys never contend), found in a two-level
 * table by id: key ids are small and dense (max(id) + 1), and a chunk of
 * meters is made the first time one of its ids checks, installed with a
 * compare-and-swap. Ids past the table's end share meters by their
 * remainder (4,194,304 keys before that happens).
 */
#include "auth/keylimits.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000LL
#define METER_LINE 64         /* bytes: a cache line per meter */
#define METERS_PER_CHUNK 1024 /* meters made at once */
#define METER_CHUNKS 4096     /* chunks the table can hold */
#define DAY_SHIFT 40          /* day_count: day << DAY_SHIFT | numbers that day */
#define COUNT_MASK ((UINT64_C(1) << DAY_SHIFT) - 1)

typedef struct {
    _Atomic int64_t tat;        /* ns: when the bucket is full again (GCRA) */
    _Atomic uint64_t day_count; /* the day of the count, and the count */
    char pad[METER_LINE - sizeof(int64_t) - sizeof(uint64_t)];
} meter;

_Static_assert(sizeof(meter) == METER_LINE, "one meter per cache line");
_Static_assert(SN_CHECK_DAILY_MAX <= (long long)COUNT_MASK, "a day's count fits its bits");

struct sn_key_meters {
    meter *_Atomic chunks[METER_CHUNKS];
};

sn_key_meters *sn_key_meters_new(void)
{
    sn_key_meters *m = calloc(1, sizeof(*m));
    return m;
}

void sn_key_meters_free(sn_key_meters *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < METER_CHUNKS; i++)
        free(atomic_load(&m->chunks[i]));
    free(m);
}

/* Key id's meter, its chunk made when absent; NULL when out of memory. */
static meter *meter_of(sn_key_meters *m, uint32_t key)
{
    uint32_t slot = key % (METER_CHUNKS * METERS_PER_CHUNK);
    meter *_Atomic *chunk = &m->chunks[slot / METERS_PER_CHUNK];
    meter *c = atomic_load_explicit(chunk, memory_order_acquire);
    if (c == NULL) {
        meter *fresh = aligned_alloc(METER_LINE, METERS_PER_CHUNK * sizeof(meter));
        if (fresh == NULL)
            return NULL;
        memset(fresh, 0, METERS_PER_CHUNK * sizeof(meter));
        if (atomic_compare_exchange_strong_explicit(chunk, &c, fresh, memory_order_acq_rel,
                                                    memory_order_acquire))
            c = fresh;
        else
            free(fresh); /* another loop made it first: c is its chunk */
    }
    return &c[slot % METERS_PER_CHUNK];
}

/* Take n numbers from the day's count: 1, or 0 when they do not fit. */
static int take_daily(meter *mt, uint64_t n, uint64_t per_day, int32_t day)
{
    uint64_t old = atomic_load_explicit(&mt->day_count, memory_order_relaxed), next;
    do {
        uint64_t count = (int64_t)(old >> DAY_SHIFT) == (int64_t)day ? old & COUNT_MASK : 0;
        if (count + n > per_day)
            return 0;
        next = (uint64_t)day << DAY_SHIFT | (count + n);
    } while (!atomic_compare_exchange_weak_explicit(&mt->day_count, &old, next,
                                                    memory_order_relaxed, memory_order_relaxed));
    return 1;
}

/* Give back what take_daily took (the rate refused the request). */
static void give_daily(meter *mt, uint64_t n, int32_t day)
{
    uint64_t old = atomic_load_explicit(&mt->day_count, memory_order_relaxed), next;
    do {
        if ((int64_t)(old >> DAY_SHIFT) != (int64_t)day || (old & COUNT_MASK) < n)
            return; /* a new day began meanwhile: nothing of ours is left */
        next = old - n;
    } while (!atomic_compare_exchange_weak_explicit(&mt->day_count, &old, next,
                                                    memory_order_relaxed, memory_order_relaxed));
}

/* Take n numbers from the bucket: 0, or the nanoseconds to wait. */
static int64_t take_rate(meter *mt, uint64_t n, uint32_t per_s, int64_t now)
{
    const int64_t burst = SN_CHECK_BURST_S * NS_PER_S;
    int64_t cost = (int64_t)((n * (uint64_t)NS_PER_S + per_s - 1) / per_s);
    int64_t old = atomic_load_explicit(&mt->tat, memory_order_relaxed), next;
    do {
        int64_t start = old > now ? old : now;
        next = start + cost;
        /* the bucket not full, and these numbers not in it: wait until they
         * are, or for a batch larger than the bucket until it is full */
        if (old > now && next - now > burst)
            return cost <= burst ? next - burst - now : old - now;
    } while (!atomic_compare_exchange_weak_explicit(&mt->tat, &old, next, memory_order_relaxed,
                                                    memory_order_relaxed));
    return 0;
}

sn_limit_verdict sn_key_meter_take(sn_key_meters *m, uint32_t key, const sn_check_limits *lim,
                                   uint64_t n, int64_t now_ns, int32_t day, int64_t day_left_s,
                                   int64_t *retry_s)
{
    meter *mt = meter_of(m, key);
    if (mt == NULL)
        return SN_LIMIT_OK;
    if (!take_daily(mt, n, lim->per_day, day)) {
        *retry_s = day_left_s > 0 ? day_left_s : 1;
        return SN_LIMIT_DAILY;
    }
    int64_t wait = take_rate(mt, n, lim->per_s, now_ns);
    if (wait == 0)
        return SN_LIMIT_OK;
    give_daily(mt, n, day);
    *retry_s = (wait + NS_PER_S - 1) / NS_PER_S;
    if (*retry_s < 1)
        *retry_s = 1;
    return SN_LIMIT_RATE;
}
