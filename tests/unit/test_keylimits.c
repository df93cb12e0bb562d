/* test_keylimits.c - auth/keylimits.c: the per-second bucket (a burst of
 * one second's worth, refilled at the rate, Retry-After until the numbers
 * fit), a batch larger than the bucket (taken from a full one, leaving it in
 * debt), the daily count (refused whole, a new day starts again), a refusal
 * taking nothing from either count, keys apart, and exact counts when loops
 * take at once. */
#include "unit.h"

#include "auth/keylimits.h"

#include <pthread.h>

#define S 1000000000LL /* ns */
#define T0 (1000 * S)  /* a monotonic time */
#define DAY 20000

static sn_limit_verdict take(sn_key_meters *m, uint32_t key, uint32_t per_s, uint64_t per_day,
                             uint64_t n, int64_t now, int32_t day, int64_t *retry)
{
    sn_check_limits lim = {per_s, per_day};
    *retry = -1;
    return sn_key_meter_take(m, key, &lim, n, now, day, 3600, retry);
}

static void test_a_second_of_the_rate_then_429(void **state)
{
    (void)state;
    sn_key_meters *m = sn_key_meters_new();
    int64_t retry;
    for (int i = 0; i < 5; i++)
        assert_int_equal(take(m, 1, 5, 1000, 1, T0, DAY, &retry), SN_LIMIT_OK);
    assert_int_equal(take(m, 1, 5, 1000, 1, T0, DAY, &retry), SN_LIMIT_RATE);
    assert_int_equal(retry, 1); /* 0.2 s, rounded up */
    assert_int_equal(take(m, 1, 5, 1000, 1, T0 + S / 5 - 1, DAY, &retry), SN_LIMIT_RATE);
    assert_int_equal(take(m, 1, 5, 1000, 1, T0 + S / 5, DAY, &retry), SN_LIMIT_OK);
    /* refilled at the rate: after a whole second, five again */
    for (int i = 0; i < 5; i++)
        assert_int_equal(take(m, 1, 5, 1000, 1, T0 + 2 * S, DAY, &retry), SN_LIMIT_OK);
    assert_int_equal(take(m, 1, 5, 1000, 1, T0 + 2 * S, DAY, &retry), SN_LIMIT_RATE);
    /* a request of several numbers waits until all of them fit */
    assert_int_equal(take(m, 1, 5, 1000, 3, T0 + 2 * S + S / 5, DAY, &retry), SN_LIMIT_RATE);
    assert_int_equal(retry, 1);
    assert_int_equal(take(m, 1, 5, 1000, 3, T0 + 2 * S + 3 * S / 5, DAY, &retry), SN_LIMIT_OK);
    sn_key_meters_free(m);
}

static void test_a_batch_larger_than_the_bucket(void **state)
{
    (void)state;
    sn_key_meters *m = sn_key_meters_new();
    int64_t retry;
    /* 20 numbers at 5 a second: taken from a full bucket, 3 s in debt */
    assert_int_equal(take(m, 1, 5, 1000, 20, T0, DAY, &retry), SN_LIMIT_OK);
    assert_int_equal(take(m, 1, 5, 1000, 1, T0, DAY, &retry), SN_LIMIT_RATE);
    assert_int_equal(retry, 4); /* the bucket holds a number again 3.2 s later */
    assert_int_equal(take(m, 1, 5, 1000, 1, T0 + 3 * S + S / 5 - 1, DAY, &retry), SN_LIMIT_RATE);
    assert_int_equal(take(m, 1, 5, 1000, 1, T0 + 3 * S + S / 5, DAY, &retry), SN_LIMIT_OK);
    /* another big batch waits for a full bucket */
    assert_int_equal(take(m, 1, 5, 1000, 20, T0 + 3 * S + S / 5, DAY, &retry), SN_LIMIT_RATE);
    assert_int_equal(retry, 1); /* full at T0 + 4.2 s */
    assert_int_equal(take(m, 1, 5, 1000, 20, T0 + 4 * S + S / 5, DAY, &retry), SN_LIMIT_OK);
    /* over any long time, no more than the rate */
    sn_key_meters_free(m);
    m = sn_key_meters_new();
    uint64_t got = 0;
    for (int64_t t = 0; t < 100 * S; t += S / 100)
        if (take(m, 2, 50, UINT64_MAX >> 30, 10, T0 + t, DAY, &retry) == SN_LIMIT_OK)
            got += 10;
    assert_true(got <= 50 * 100 + 50 && got >= 50 * 100 - 50);
    sn_key_meters_free(m);
}

static void test_the_daily_count(void **state)
{
    (void)state;
    sn_key_meters *m = sn_key_meters_new();
    int64_t retry;
    assert_int_equal(take(m, 1, 1000, 10, 6, T0, DAY, &retry), SN_LIMIT_OK);
    assert_int_equal(take(m, 1, 1000, 10, 5, T0, DAY, &retry), SN_LIMIT_DAILY);
    assert_int_equal(retry, 3600); /* until the day ends */
    assert_int_equal(take(m, 1, 1000, 10, 4, T0, DAY, &retry), SN_LIMIT_OK); /* refused whole */
    assert_int_equal(take(m, 1, 1000, 10, 1, T0, DAY, &retry), SN_LIMIT_DAILY);
    assert_int_equal(take(m, 1, 1000, 10, 10, T0 + S, DAY + 1, &retry), SN_LIMIT_OK);
    assert_int_equal(take(m, 1, 1000, 10, 1, T0 + S, DAY + 1, &retry), SN_LIMIT_DAILY);
    {
        sn_check_limits lim = {1000, 10};
        assert_int_equal(sn_key_meter_take(m, 1, &lim, 1, T0 + 2 * S, DAY + 1, 0, &retry),
                         SN_LIMIT_DAILY);
        assert_int_equal(retry, 1); /* never 0 */
    }
    sn_key_meters_free(m);
}

static void test_a_refusal_takes_nothing(void **state)
{
    (void)state;
    sn_key_meters *m = sn_key_meters_new();
    int64_t retry;
    /* 1 a second, 3 a day: refusals by the rate leave the day's count alone */
    assert_int_equal(take(m, 1, 1, 3, 1, T0, DAY, &retry), SN_LIMIT_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(take(m, 1, 1, 3, 1, T0, DAY, &retry), SN_LIMIT_RATE);
    assert_int_equal(take(m, 1, 1, 3, 1, T0 + S, DAY, &retry), SN_LIMIT_OK);
    assert_int_equal(take(m, 1, 1, 3, 1, T0 + 2 * S, DAY, &retry), SN_LIMIT_OK);
    /* and a daily refusal leaves the bucket alone */
    assert_int_equal(take(m, 1, 1, 3, 1, T0 + 3 * S, DAY, &retry), SN_LIMIT_DAILY);
    assert_int_equal(take(m, 1, 1, 4, 1, T0 + 3 * S, DAY, &retry), SN_LIMIT_OK);
    sn_key_meters_free(m);
}

static void test_keys_apart(void **state)
{
    (void)state;
    sn_key_meters *m = sn_key_meters_new();
    int64_t retry;
    const uint32_t keys[] = {1, 2, 1023, 1024, 5000000, UINT32_MAX};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        assert_int_equal(take(m, keys[k], 2, 100, 2, T0, DAY, &retry), SN_LIMIT_OK);
        assert_int_equal(take(m, keys[k], 2, 100, 1, T0, DAY, &retry), SN_LIMIT_RATE);
    }
    assert_int_equal(take(m, 3, 2, 100, 2, T0, DAY, &retry), SN_LIMIT_OK);
    sn_key_meters_free(m);
}

#define THREADS 4
#define TRIES 50000

typedef struct {
    sn_key_meters *m;
    uint64_t ok;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    int64_t retry;
    for (int i = 0; i < TRIES; i++)
        if (take(r->m, 7, SN_CHECK_RATE_MAX, 100000, 1, T0 + i, DAY, &retry) == SN_LIMIT_OK)
            r->ok++;
    return NULL;
}

static void test_loops_at_once_count_exactly(void **state)
{
    (void)state;
    sn_key_meters *m = sn_key_meters_new();
    pthread_t t[THREADS];
    racer r[THREADS];
    uint64_t total = 0;
    for (int i = 0; i < THREADS; i++) {
        r[i] = (racer){m, 0};
        pthread_create(&t[i], NULL, race, &r[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        total += r[i].ok;
    }
    assert_int_equal(total, 100000); /* the day's limit, exactly */
    sn_key_meters_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_second_of_the_rate_then_429),
        cmocka_unit_test(test_a_batch_larger_than_the_bucket),
        cmocka_unit_test(test_the_daily_count),
        cmocka_unit_test(test_a_refusal_takes_nothing),
        cmocka_unit_test(test_keys_apart),
        cmocka_unit_test(test_loops_at_once_count_exactly),
    };
    return sn_run_tests(tests);
}
