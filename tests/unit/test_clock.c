/* test_clock.c - util/clock.c: the wall clock is never behind a
 * CLOCK_REALTIME read made before it (what a client's "now" is), across a
 * second boundary, where time()'s coarse copy lagged; the monotonic clocks
 * agree in their units and never go back; a deadline ms from now is a
 * normalized timespec that far ahead. */
#include "unit.h"

#include "util/clock.h"

#include <time.h>

/* Reads until the second turns twice (about 1-2 s): each sn_wall_sec() is
 * at least the seconds of a clock_gettime read just before it. time()
 * failed this within the first boundary on Linux. */
static void test_wall_never_behind_a_client_read(void **state)
{
    (void)state;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    time_t start = t.tv_sec;
    long reads = 0;
    do {
        clock_gettime(CLOCK_REALTIME, &t);
        int64_t w = sn_wall_sec();
        if (w < (int64_t)t.tv_sec)
            fail_msg("sn_wall_sec() %lld is behind the read before it (%lld.%09ld) after %ld reads",
                     (long long)w, (long long)t.tv_sec, t.tv_nsec, reads);
        reads++;
    } while (t.tv_sec < start + 2);
}

static void test_monotonic_units_and_order(void **state)
{
    (void)state;
    int64_t ms = sn_monotonic_ms(), us = sn_monotonic_us(), ns = sn_monotonic_ns();
    assert_true(us / 1000 >= ms);
    assert_true(ns / 1000 >= us);
    assert_true(ns / 1000000 - ms < 1000);
    int64_t last = sn_monotonic_ns();
    for (int i = 0; i < 100000; i++) {
        int64_t now = sn_monotonic_ns();
        assert_true(now >= last);
        last = now;
    }
}

static void test_deadline_is_normalized_and_ahead(void **state)
{
    (void)state;
    static const int64_t ms[] = {0, 1, 999, 1000, 1500, 60001};
    for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
        struct timespec before, d;
        clock_gettime(CLOCK_REALTIME, &before);
        d = sn_realtime_in_ms(ms[i]);
        assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
        int64_t ahead =
            ((int64_t)d.tv_sec - before.tv_sec) * 1000000000 + (d.tv_nsec - before.tv_nsec);
        assert_true(ahead >= ms[i] * 1000000);
        assert_true(ahead < ms[i] * 1000000 + 1000000000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wall_never_behind_a_client_read),
        cmocka_unit_test(test_monotonic_units_and_order),
        cmocka_unit_test(test_deadline_is_normalized_and_ahead),
    };
    return sn_run_tests(tests);
}
