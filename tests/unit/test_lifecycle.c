/* test_lifecycle.c - every event from every status: accepted or rejected with
 * the right code, the state unchanged on rejection; the minimum aging at its
 * boundary in jurisdiction days; ordering; tenure and carrier bookkeeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/errors.h"
#include "core/lifecycle.h"

#include <string.h>

static const sn_rules china = {86, 90, 480};
static char err[SN_ERRMSG_MAX];

static int64_t at(int y, int m, int d, int hour)
{
    return sn_day_start(sn_day_from_civil(y, m, d), china.tz_minutes) + hour * 3600;
}

static sn_event ev(int kind, int64_t when, uint32_t carrier)
{
    return (sn_event){8613800000001ull, when, carrier, (uint8_t)kind};
}

/* A number in `status`, last event on 2024-01-01 (cancelled that day when frozen). */
static sn_number_state in_status(int status)
{
    sn_number_state st;
    sn_state_init(&st, 8613800000001ull);
    assert_int_equal(sn_lifecycle_apply(&china, &st, &(sn_event){st.number, at(2020, 1, 1, 9), 1, SN_EV_ACTIVATE}, err, sizeof(err)), SN_OK);
    sn_event steps[3];
    int n = 0;
    if (status == SN_ST_SUSPENDED)
        steps[n++] = ev(SN_EV_SUSPEND, at(2024, 1, 1, 9), 1);
    if (status == SN_ST_FROZEN || status == SN_ST_POOL)
        steps[n++] = ev(SN_EV_CANCEL, at(2024, 1, 1, 9), 1);
    if (status == SN_ST_POOL)
        steps[n++] = ev(SN_EV_RELEASE, at(2024, 6, 1, 9), 1);
    for (int i = 0; i < n; i++)
        assert_int_equal(sn_lifecycle_apply(&china, &st, &steps[i], err, sizeof(err)), SN_OK);
    assert_int_equal(st.status, status);
    return st;
}

/* Expected outcome of each event (rows) from each status (columns):
 * a status when accepted, or a negative code when rejected. Events come
 * 200 days after the latest, so aging never stands in the way here. */
static void every_transition_from_every_status(void **state)
{
    (void)state;
    static const int statuses[] = {SN_ST_ACTIVE, SN_ST_SUSPENDED, SN_ST_FROZEN, SN_ST_POOL};
    static const int expect[SN_EV_COUNT][4] = {
        /*               active          suspended       frozen          pool           */
        [SN_EV_ACTIVATE] = {SN_ETRANSITION, SN_ETRANSITION, SN_ST_ACTIVE, SN_ST_ACTIVE},
        [SN_EV_SUSPEND] = {SN_ST_SUSPENDED, SN_ETRANSITION, SN_ETRANSITION, SN_ETRANSITION},
        [SN_EV_RESUME] = {SN_ETRANSITION, SN_ST_ACTIVE, SN_ETRANSITION, SN_ETRANSITION},
        [SN_EV_CANCEL] = {SN_ST_FROZEN, SN_ST_FROZEN, SN_ETRANSITION, SN_ETRANSITION},
        [SN_EV_RECLAIM] = {SN_ETRANSITION, SN_ETRANSITION, SN_ST_ACTIVE, SN_ETRANSITION},
        [SN_EV_RELEASE] = {SN_ETRANSITION, SN_ETRANSITION, SN_ST_POOL, SN_ETRANSITION},
        [SN_EV_PORT_IN] = {SN_ST_ACTIVE, SN_ST_SUSPENDED, SN_ETRANSITION, SN_ETRANSITION},
    };
    for (int k = SN_EV_ACTIVATE; k < SN_EV_COUNT; k++) {
        for (int s = 0; s < 4; s++) {
            sn_number_state st = in_status(statuses[s]), before = st;
            sn_event e = ev(k, st.last_at + 200 * 86400, 2);
            int rc = sn_lifecycle_apply(&china, &st, &e, err, sizeof(err));
            if (expect[k][s] < 0) {
                if (rc != expect[k][s])
                    fail_msg("%s from %s: expected code %d, got %d", sn_event_name(k),
                             sn_status_name(statuses[s]), expect[k][s], rc);
                assert_memory_equal(&st, &before, sizeof(st));
                assert_non_null(strstr(err, sn_event_name(k)));
            } else {
                if (rc != SN_OK)
                    fail_msg("%s from %s rejected: %s", sn_event_name(k), sn_status_name(statuses[s]), err);
                assert_int_equal(st.status, expect[k][s]);
                assert_int_equal(st.events, before.events + 1);
                assert_int_equal(st.last_at, e.at);
            }
        }
    }
}

static void first_event_of_each_kind_is_accepted(void **state)
{
    (void)state;
    static const int implied[SN_EV_COUNT] = {
        [SN_EV_ACTIVATE] = SN_ST_ACTIVE, [SN_EV_SUSPEND] = SN_ST_SUSPENDED, [SN_EV_RESUME] = SN_ST_ACTIVE,
        [SN_EV_CANCEL] = SN_ST_FROZEN,   [SN_EV_RECLAIM] = SN_ST_ACTIVE,    [SN_EV_RELEASE] = SN_ST_POOL,
        [SN_EV_PORT_IN] = SN_ST_ACTIVE,
    };
    for (int k = SN_EV_ACTIVATE; k < SN_EV_COUNT; k++) {
        sn_number_state st;
        sn_state_init(&st, 8613800000001ull);
        sn_event e = ev(k, at(2022, 3, 4, 10), 7);
        assert_int_equal(sn_lifecycle_apply(&china, &st, &e, err, sizeof(err)), SN_OK);
        assert_int_equal(st.status, implied[k]);
        assert_int_equal(st.first_day, sn_day_from_civil(2022, 3, 4));
        assert_int_equal(st.first_is_activation, k == SN_EV_ACTIVATE);
        assert_int_equal(st.tenure, k == SN_EV_ACTIVATE ? 1 : 0);
        assert_int_equal(st.carrier, 7);
        assert_int_equal(st.last_cancel_day, k == SN_EV_CANCEL ? sn_day_from_civil(2022, 3, 4) : SN_DAY_NONE);
    }
}

/* Cancelled 2024-01-01 (+08:00); 90 days later is 2024-03-31. */
static void minimum_aging_boundary(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        int kind = k == 0 ? SN_EV_RELEASE : SN_EV_ACTIVATE;
        sn_number_state st = in_status(SN_ST_FROZEN), before = st;
        sn_event early = ev(kind, at(2024, 3, 30, 23), 1);
        assert_int_equal(sn_lifecycle_apply(&china, &st, &early, err, sizeof(err)), SN_EAGING);
        assert_non_null(strstr(err, "2024-03-31"));
        assert_memory_equal(&st, &before, sizeof(st));
        /* 16:30Z on 30 March is 00:30 on 31 March in the jurisdiction: day 90. */
        sn_event on_time = ev(kind, sn_day_start(sn_day_from_civil(2024, 3, 30), 0) + 16 * 3600 + 1800, 1);
        assert_int_equal(sn_lifecycle_apply(&china, &st, &on_time, err, sizeof(err)), SN_OK);
    }
}

static void shorter_aging_for_the_us(void **state)
{
    (void)state;
    const sn_rules us = {1, 45, -300};
    sn_number_state st;
    sn_state_init(&st, 12025550123ull);
    int64_t t0 = sn_day_start(sn_day_from_civil(2024, 1, 1), us.tz_minutes);
    assert_int_equal(sn_lifecycle_apply(&us, &st, &(sn_event){st.number, t0, 1, SN_EV_CANCEL}, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_lifecycle_apply(&us, &st, &(sn_event){st.number, t0 + 44 * 86400, 1, SN_EV_ACTIVATE}, err, sizeof(err)), SN_EAGING);
    assert_int_equal(sn_lifecycle_apply(&us, &st, &(sn_event){st.number, t0 + 45 * 86400, 1, SN_EV_ACTIVATE}, err, sizeof(err)), SN_OK);
}

static void order_and_bookkeeping(void **state)
{
    (void)state;
    sn_number_state st = in_status(SN_ST_ACTIVE);
    uint32_t tenure = st.tenure;
    /* older than the latest event: rejected; the same instant: accepted */
    assert_int_equal(sn_lifecycle_apply(&china, &st, &(sn_event){st.number, st.last_at - 1, 1, SN_EV_SUSPEND}, err, sizeof(err)), SN_EORDER);
    assert_non_null(strstr(err, "out of order"));
    assert_int_equal(sn_lifecycle_apply(&china, &st, &(sn_event){st.number, st.last_at, 1, SN_EV_SUSPEND}, err, sizeof(err)), SN_OK);
    /* port_in changes the carrier of record, nothing else */
    int64_t t = st.last_at + 86400;
    assert_int_equal(sn_lifecycle_apply(&china, &st, &(sn_event){st.number, t, 9, SN_EV_PORT_IN}, err, sizeof(err)), SN_OK);
    assert_int_equal(st.carrier, 9);
    assert_int_equal(st.status, SN_ST_SUSPENDED);
    assert_int_equal(st.tenure, tenure);
    /* cancel then reclaim keeps the tenure; a reissue starts a new one */
    assert_int_equal(sn_lifecycle_apply(&china, &st, &(sn_event){st.number, t + 86400, 9, SN_EV_CANCEL}, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_lifecycle_apply(&china, &st, &(sn_event){st.number, t + 2 * 86400, 9, SN_EV_RECLAIM}, err, sizeof(err)), SN_OK);
    assert_int_equal(st.tenure, tenure);
    assert_int_equal(sn_lifecycle_apply(&china, &st, &(sn_event){st.number, t + 3 * 86400, 9, SN_EV_CANCEL}, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_lifecycle_apply(&china, &st, &(sn_event){st.number, t + 100 * 86400, 3, SN_EV_ACTIVATE}, err, sizeof(err)), SN_OK);
    assert_int_equal(st.tenure, tenure + 1);
    assert_int_equal(st.carrier, 3);
    assert_int_equal(st.last_activation_day, sn_day_of(t + 100 * 86400, china.tz_minutes));
}

static void history_limit(void **state)
{
    (void)state;
    sn_number_state st = in_status(SN_ST_ACTIVE);
    st.events = SN_MAX_EVENTS_PER_NUMBER;
    assert_int_equal(sn_lifecycle_apply(&china, &st, &(sn_event){st.number, st.last_at + 1, 1, SN_EV_SUSPEND}, err, sizeof(err)), SN_ELIMIT);
}

static void event_names(void **state)
{
    (void)state;
    for (int k = SN_EV_ACTIVATE; k < SN_EV_COUNT; k++)
        assert_int_equal(sn_event_parse(sn_event_name(k), strlen(sn_event_name(k))), k);
    assert_int_equal(sn_event_parse("Activate", 8), SN_EV_NONE);
    assert_int_equal(sn_event_parse("activ", 5), SN_EV_NONE);
    assert_int_equal(sn_event_parse("", 0), SN_EV_NONE);
    assert_null(sn_event_name(0));
    assert_null(sn_event_name(SN_EV_COUNT));
    assert_string_equal(sn_status_name(SN_ST_FROZEN), "frozen");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_transition_from_every_status),
        cmocka_unit_test(first_event_of_each_kind_is_accepted),
        cmocka_unit_test(minimum_aging_boundary),
        cmocka_unit_test(shorter_aging_for_the_us),
        cmocka_unit_test(order_and_bookkeeping),
        cmocka_unit_test(history_limit),
        cmocka_unit_test(event_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
