/* test_lifecycle.c - core/lifecycle.c, the timeline rules of PRODUCT.md:
 * the first event of every kind on an unseen number; every event kind from
 * every status (active, suspended, frozen, pool) accepted or rejected with
 * SN_ETRANSITION / SN_EAGING / SN_EORDER and the state untouched on
 * rejection; the minimum aging at its boundary (89 days rejected, 90 accepted,
 * for release and for activate-from-frozen) counted in jurisdiction calendar
 * days, including instants whose UTC day differs from the +08:00 or -05:00
 * day; tenure counting only activations; reclaim keeping the tenure; port_in
 * changing only the carrier; out-of-order and equal-time events; the history
 * limit; event and status names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "core/lifecycle.h"

#include <string.h>

#define N 8613812345678ull
#define DAY 86400LL
#define NSTATUS 5

static const sn_rules china = {86, 90, 480};
static const sn_rules us = {1, 45, -300};

/* An instant given as jurisdiction (+08:00) civil time. */
static int64_t cn(int y, int mo, int d, int h, int mi, int s)
{
    return sn_day_start(sn_day_from_civil(y, mo, d), 480) + h * 3600 + mi * 60 + s;
}

/* An instant given as UTC civil time. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    return (int64_t)sn_day_from_civil(y, mo, d) * DAY + h * 3600 + mi * 60;
}

static int apply_r(const sn_rules *r, sn_number_state *st, int kind, int64_t at, uint32_t carrier,
                   char *err)
{
    sn_event e = {st->number, at, carrier, (uint8_t)kind};
    return sn_lifecycle_apply(r, st, &e, err, SN_ERRMSG_MAX);
}

/* Apply an event that must be accepted. */
static void must(const sn_rules *r, sn_number_state *st, int kind, int64_t at, uint32_t carrier)
{
    char err[SN_ERRMSG_MAX] = "";
    int rc = apply_r(r, st, kind, at, carrier, err);
    if (rc != SN_OK)
        fail_msg("%s rejected: %d %s", sn_event_name(kind), rc, err);
}

static void assert_same_state(const sn_number_state *a, const sn_number_state *b)
{
    assert_int_equal(a->number, b->number);
    assert_int_equal(a->last_at, b->last_at);
    assert_int_equal(a->first_day, b->first_day);
    assert_int_equal(a->last_activation_day, b->last_activation_day);
    assert_int_equal(a->last_cancel_day, b->last_cancel_day);
    assert_int_equal(a->tenure, b->tenure);
    assert_int_equal(a->carrier, b->carrier);
    assert_int_equal(a->events, b->events);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->first_is_activation, b->first_is_activation);
}

/* A number in the given status. Activated 2020-01-01 by carrier 1; the latest
 * event is on 2024-01-01 10:00 +08:00 (the suspension or the cancellation),
 * or 2024-06-01 10:00 for the pool (released after cancel on 2024-01-01). */
static sn_number_state in_status(int status)
{
    sn_number_state st;
    sn_state_init(&st, N);
    if (status == SN_ST_UNSEEN)
        return st;
    must(&china, &st, SN_EV_ACTIVATE, cn(2020, 1, 1, 10, 0, 0), 1);
    if (status == SN_ST_SUSPENDED)
        must(&china, &st, SN_EV_SUSPEND, cn(2024, 1, 1, 10, 0, 0), 1);
    if (status == SN_ST_FROZEN || status == SN_ST_POOL)
        must(&china, &st, SN_EV_CANCEL, cn(2024, 1, 1, 10, 0, 0), 1);
    if (status == SN_ST_POOL)
        must(&china, &st, SN_EV_RELEASE, cn(2024, 6, 1, 10, 0, 0), 1);
    assert_int_equal(st.status, status);
    return st;
}

static void fresh_state(void **state)
{
    (void)state;
    sn_number_state st;
    memset(&st, 0x5a, sizeof(st));
    sn_state_init(&st, N);
    assert_int_equal(st.number, N);
    assert_int_equal(st.status, SN_ST_UNSEEN);
    assert_int_equal(st.events, 0);
    assert_int_equal(st.tenure, 0);
    assert_int_equal(st.carrier, 0);
    assert_int_equal(st.first_is_activation, 0);
    assert_int_equal(st.first_day, SN_DAY_NONE);
    assert_int_equal(st.last_activation_day, SN_DAY_NONE);
    assert_int_equal(st.last_cancel_day, SN_DAY_NONE);
}

/* The first event the ledger sees is accepted whatever it is and sets the
 * status it implies; only an activation starts a known tenure. */
static void first_event_of_each_kind(void **state)
{
    (void)state;
    static const int implied[SN_EV_COUNT] = {
        [SN_EV_ACTIVATE] = SN_ST_ACTIVE, [SN_EV_SUSPEND] = SN_ST_SUSPENDED,
        [SN_EV_RESUME] = SN_ST_ACTIVE,   [SN_EV_CANCEL] = SN_ST_FROZEN,
        [SN_EV_RECLAIM] = SN_ST_ACTIVE,  [SN_EV_RELEASE] = SN_ST_POOL,
        [SN_EV_PORT_IN] = SN_ST_ACTIVE,  [SN_EV_PORT_OUT] = SN_ST_ACTIVE,
    };
    /* 2022-03-04T17:30:00Z is 2022-03-05 01:30 in +08:00: the jurisdiction day counts */
    const int64_t at = utc(2022, 3, 4, 17, 30);
    const sn_day d = sn_day_from_civil(2022, 3, 5);
    for (int k = SN_EV_ACTIVATE; k < SN_EV_COUNT; k++) {
        sn_number_state st;
        char err[SN_ERRMSG_MAX] = "";
        sn_state_init(&st, N);
        int rc = apply_r(&china, &st, k, at, 7, err);
        if (rc != SN_OK)
            fail_msg("first %s rejected: %d %s", sn_event_name(k), rc, err);
        assert_int_equal(st.status, implied[k]);
        assert_int_equal(st.number, N);
        assert_int_equal(st.events, 1);
        assert_int_equal(st.last_at, at);
        assert_int_equal(st.first_day, d);
        assert_int_equal(st.carrier, 7);
        assert_int_equal(st.first_is_activation, k == SN_EV_ACTIVATE);
        assert_int_equal(st.tenure, k == SN_EV_ACTIVATE ? 1 : 0);
        assert_int_equal(st.last_activation_day, k == SN_EV_ACTIVATE ? d : SN_DAY_NONE);
        assert_int_equal(st.last_cancel_day, k == SN_EV_CANCEL ? d : SN_DAY_NONE);
    }
}

/* Expected result of each event kind from each status when the event comes
 * `gap` after the latest one: a status when accepted, a code when rejected.
 * aged: the gap is past the minimum aging. */
static int expected(int kind, int status, int aged)
{
    switch (kind) {
    case SN_EV_ACTIVATE:
        if (status == SN_ST_POOL)
            return SN_ST_ACTIVE;
        if (status == SN_ST_FROZEN)
            return aged ? SN_ST_ACTIVE : SN_EAGING;
        return SN_ETRANSITION;
    case SN_EV_SUSPEND:
        return status == SN_ST_ACTIVE ? SN_ST_SUSPENDED : SN_ETRANSITION;
    case SN_EV_RESUME:
        return status == SN_ST_SUSPENDED ? SN_ST_ACTIVE : SN_ETRANSITION;
    case SN_EV_CANCEL:
        return status == SN_ST_ACTIVE || status == SN_ST_SUSPENDED ? SN_ST_FROZEN : SN_ETRANSITION;
    case SN_EV_RECLAIM:
        return status == SN_ST_FROZEN ? SN_ST_ACTIVE : SN_ETRANSITION;
    case SN_EV_RELEASE:
        if (status != SN_ST_FROZEN)
            return SN_ETRANSITION;
        return aged ? SN_ST_POOL : SN_EAGING;
    case SN_EV_PORT_IN:
    case SN_EV_PORT_OUT: /* the recipient is checked by the events service */
        return status == SN_ST_ACTIVE || status == SN_ST_SUSPENDED ? status : SN_ETRANSITION;
    }
    return -999;
}

static void run_matrix(int64_t gap, int aged)
{
    int seen_accept = 0, seen_transition = 0, seen_aging = 0;
    for (int s = SN_ST_ACTIVE; s < NSTATUS; s++) {
        for (int k = SN_EV_ACTIVATE; k < SN_EV_COUNT; k++) {
            sn_number_state st = in_status(s), before = st;
            char err[SN_ERRMSG_MAX] = "";
            int64_t at = st.last_at + gap;
            int rc = apply_r(&china, &st, k, at, 2, err);
            int want = expected(k, s, aged);
            if (want < 0) {
                if (rc != want)
                    fail_msg("%s from %s (+%lld s): expected %s, got %d", sn_event_name(k),
                             sn_status_name(s), (long long)gap, sn_error_name(want), rc);
                assert_same_state(&st, &before);
                assert_non_null(strstr(err, sn_event_name(k)));
                if (want == SN_ETRANSITION) {
                    assert_non_null(strstr(err, sn_status_name(s))); /* says where it stands */
                    seen_transition++;
                } else {
                    seen_aging++;
                }
            } else {
                if (rc != SN_OK)
                    fail_msg("%s from %s (+%lld s) rejected: %d %s", sn_event_name(k),
                             sn_status_name(s), (long long)gap, rc, err);
                assert_int_equal(st.status, want);
                assert_int_equal(st.events, before.events + 1);
                assert_int_equal(st.last_at, at);
                assert_int_equal(st.first_day, before.first_day);
                assert_int_equal(st.first_is_activation, before.first_is_activation);
                assert_int_equal(st.tenure, before.tenure + (k == SN_EV_ACTIVATE));
                assert_int_equal(st.last_activation_day, k == SN_EV_ACTIVATE
                                                             ? sn_day_of(at, 480)
                                                             : before.last_activation_day);
                assert_int_equal(st.last_cancel_day,
                                 k == SN_EV_CANCEL ? sn_day_of(at, 480) : before.last_cancel_day);
                assert_int_equal(st.carrier,
                                 k == SN_EV_ACTIVATE || k == SN_EV_PORT_IN ? 2u : before.carrier);
                seen_accept++;
            }
        }
    }
    /* 4 statuses x 8 kinds; allowed: activate from frozen and pool, suspend, resume, cancel
     * from 2, reclaim, release, port_in and port_out from 2 = 12, of which 2 need the aging */
    assert_int_equal(seen_accept + seen_transition + seen_aging, 4 * 8);
    assert_int_equal(seen_accept, aged ? 12 : 10);
    assert_int_equal(seen_aging, aged ? 0 : 2);
}

/* Every kind from every known status, long after the latest event (aging met). */
static void every_transition_when_aged(void **state)
{
    (void)state;
    run_matrix(200 * DAY, 1);
}

/* The same a day later: from frozen, activate and release fail on aging. */
static void every_transition_a_day_later(void **state)
{
    (void)state;
    run_matrix(DAY, 0);
}

/* At the same instant as the latest event: accepted (not out of order). */
static void every_transition_at_equal_time(void **state)
{
    (void)state;
    run_matrix(0, 0);
}

/* One second before the latest event: out of order from every status, whatever
 * the kind, even one that would otherwise be allowed. */
static void every_kind_out_of_order(void **state)
{
    (void)state;
    for (int s = SN_ST_ACTIVE; s < NSTATUS; s++) {
        for (int k = SN_EV_ACTIVATE; k < SN_EV_COUNT; k++) {
            sn_number_state st = in_status(s), before = st;
            char err[SN_ERRMSG_MAX] = "";
            int rc = apply_r(&china, &st, k, st.last_at - 1, 1, err);
            if (rc != SN_EORDER)
                fail_msg("%s from %s one second early: expected SN_EORDER, got %d",
                         sn_event_name(k), sn_status_name(s), rc);
            assert_same_state(&st, &before);
            assert_non_null(strstr(err, "out of order"));
        }
    }
    /* a year earlier too, and the message names the latest event's time */
    sn_number_state st = in_status(SN_ST_ACTIVE), before = st;
    char err[SN_ERRMSG_MAX] = "";
    assert_int_equal(apply_r(&china, &st, SN_EV_SUSPEND, cn(2019, 1, 1, 0, 0, 0), 1, err),
                     SN_EORDER);
    assert_same_state(&st, &before);
    assert_non_null(strstr(err, "2020-01-01T10:00:00+08:00"));
}

/* Event times before 1970 are negative instants and order the same way. */
static void events_before_1970(void **state)
{
    (void)state;
    char err[SN_ERRMSG_MAX] = "";
    sn_number_state st;
    sn_state_init(&st, N);
    must(&china, &st, SN_EV_ACTIVATE, cn(1965, 1, 1, 10, 0, 0), 1);
    must(&china, &st, SN_EV_SUSPEND, cn(1965, 2, 1, 10, 0, 0), 1);
    assert_int_equal(st.last_at, cn(1965, 2, 1, 10, 0, 0));
    assert_true(st.last_at < 0);
    assert_int_equal(st.first_day, sn_day_from_civil(1965, 1, 1));
    assert_int_equal(apply_r(&china, &st, SN_EV_RESUME, cn(1965, 1, 15, 10, 0, 0), 1, err),
                     SN_EORDER);
    must(&china, &st, SN_EV_CANCEL, cn(1965, 3, 1, 10, 0, 0), 1);
    assert_int_equal(apply_r(&china, &st, SN_EV_RELEASE, cn(1965, 5, 29, 10, 0, 0), 1, err),
                     SN_EAGING);
    must(&china, &st, SN_EV_RELEASE, cn(1965, 5, 30, 10, 0, 0), 1); /* 90 days after 1 March */
    assert_int_equal(st.status, SN_ST_POOL);
}

static void unknown_event_kind(void **state)
{
    (void)state;
    static const int kinds[] = {SN_EV_NONE, SN_EV_COUNT, 200, 255};
    for (int s = SN_ST_UNSEEN; s < NSTATUS; s++) {
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
            sn_number_state st = in_status(s), before = st;
            char err[SN_ERRMSG_MAX] = "";
            assert_int_equal(apply_r(&china, &st, kinds[i], st.last_at + DAY, 1, err), SN_EINVAL);
            assert_same_state(&st, &before);
        }
    }
}

/* Cancelled 2024-01-01 10:00 +08:00. 89 days later is 2024-03-30, 90 is 2024-03-31
 * (2024 is a leap year). Both release and activate-from-frozen obey the aging. */
static void aging_boundary_89_90(void **state)
{
    (void)state;
    static const int kinds[] = {SN_EV_RELEASE, SN_EV_ACTIVATE};
    for (size_t i = 0; i < 2; i++) {
        int k = kinds[i];
        sn_number_state st = in_status(SN_ST_FROZEN), before = st;
        char err[SN_ERRMSG_MAX] = "";
        /* the last second of day 89 */
        assert_int_equal(apply_r(&china, &st, k, cn(2024, 3, 30, 23, 59, 59), 1, err), SN_EAGING);
        assert_same_state(&st, &before);
        assert_non_null(strstr(err, "2024-01-01")); /* the cancellation day */
        assert_non_null(strstr(err, "2024-03-31")); /* the first allowed day */
        /* day 89 at the very time of day of the cancellation */
        assert_int_equal(apply_r(&china, &st, k, cn(2024, 3, 30, 10, 0, 0), 1, err), SN_EAGING);
        assert_same_state(&st, &before);
        /* the first second of day 90 */
        must(&china, &st, k, cn(2024, 3, 31, 0, 0, 0), 3);
        assert_int_equal(st.status, k == SN_EV_RELEASE ? SN_ST_POOL : SN_ST_ACTIVE);
    }
}

/* Calendar days in the jurisdiction, not elapsed hours and not UTC days. */
static void aging_counts_jurisdiction_days(void **state)
{
    (void)state;
    static const int kinds[] = {SN_EV_RELEASE, SN_EV_ACTIVATE};
    for (size_t i = 0; i < 2; i++) {
        int k = kinds[i];
        char err[SN_ERRMSG_MAX] = "";
        sn_number_state st;

        /* Cancelled 2024-01-01T12:00Z (2024-01-01 20:00 +08:00). 2024-03-30T16:30Z is
         * 2024-03-31 00:30 +08:00: day 90 in the jurisdiction though day 89 in UTC. */
        sn_state_init(&st, N);
        must(&china, &st, SN_EV_ACTIVATE, utc(2020, 1, 1, 2, 0), 1);
        must(&china, &st, SN_EV_CANCEL, utc(2024, 1, 1, 12, 0), 1);
        assert_int_equal(st.last_cancel_day, sn_day_from_civil(2024, 1, 1));
        assert_int_equal(apply_r(&china, &st, k, utc(2024, 3, 30, 15, 59), 1, err), SN_EAGING);
        must(&china, &st, k, utc(2024, 3, 30, 16, 30), 1);

        /* Cancelled 2024-01-01T16:30Z (2024-01-02 00:30 +08:00). 2024-03-31T12:00Z is
         * 2024-03-31 20:00 +08:00: day 89 in the jurisdiction though day 90 in UTC. */
        sn_state_init(&st, N);
        must(&china, &st, SN_EV_ACTIVATE, utc(2020, 1, 1, 2, 0), 1);
        must(&china, &st, SN_EV_CANCEL, utc(2024, 1, 1, 16, 30), 1);
        assert_int_equal(st.last_cancel_day, sn_day_from_civil(2024, 1, 2));
        sn_number_state before = st;
        assert_int_equal(apply_r(&china, &st, k, utc(2024, 3, 31, 12, 0), 1, err), SN_EAGING);
        assert_same_state(&st, &before);
        assert_non_null(strstr(err, "2024-01-02"));
        must(&china, &st, k, utc(2024, 3, 31, 16, 0), 1); /* 2024-04-01 00:00 +08:00 */

        /* Cancelled at 23:00 on day 0, accepted at 00:30 on day 90: fewer than
         * 90 x 24 hours have passed, but 90 calendar days have. */
        sn_state_init(&st, N);
        must(&china, &st, SN_EV_ACTIVATE, cn(2020, 1, 1, 10, 0, 0), 1);
        must(&china, &st, SN_EV_CANCEL, cn(2024, 1, 1, 23, 0, 0), 1);
        int64_t when = cn(2024, 3, 31, 0, 30, 0);
        assert_true(when - st.last_at < 90 * DAY);
        must(&china, &st, k, when, 1);
    }
}

/* The US minimum aging of 45 days, in -05:00. */
static void aging_us_rules(void **state)
{
    (void)state;
    static const int kinds[] = {SN_EV_RELEASE, SN_EV_ACTIVATE};
    for (size_t i = 0; i < 2; i++) {
        int k = kinds[i];
        char err[SN_ERRMSG_MAX] = "";
        sn_number_state st;
        sn_state_init(&st, 12025550123ull);
        must(&us, &st, SN_EV_ACTIVATE, utc(2020, 1, 1, 15, 0), 1);
        /* 2024-01-02T03:00Z is 2024-01-01 22:00 -05:00 */
        must(&us, &st, SN_EV_CANCEL, utc(2024, 1, 2, 3, 0), 1);
        assert_int_equal(st.last_cancel_day, sn_day_from_civil(2024, 1, 1));
        /* 2024-02-15T04:00Z is 2024-02-14 23:00 -05:00: day 44 */
        assert_int_equal(apply_r(&us, &st, k, utc(2024, 2, 15, 4, 0), 1, err), SN_EAGING);
        /* 2024-02-15T06:00Z is 2024-02-15 01:00 -05:00: day 45 (day 44 in UTC) */
        must(&us, &st, k, utc(2024, 2, 15, 6, 0), 1);
    }
}

/* Aging runs from the latest cancellation, including one that was the
 * number's first record. */
static void aging_from_latest_cancellation(void **state)
{
    (void)state;
    char err[SN_ERRMSG_MAX] = "";
    sn_number_state st;
    sn_state_init(&st, N);
    must(&china, &st, SN_EV_ACTIVATE, cn(2020, 1, 1, 10, 0, 0), 1);
    must(&china, &st, SN_EV_CANCEL, cn(2021, 1, 1, 10, 0, 0), 1);
    must(&china, &st, SN_EV_RECLAIM, cn(2021, 2, 1, 10, 0, 0), 1);
    must(&china, &st, SN_EV_CANCEL, cn(2024, 1, 1, 10, 0, 0), 1);
    assert_int_equal(apply_r(&china, &st, SN_EV_RELEASE, cn(2024, 3, 1, 10, 0, 0), 1, err),
                     SN_EAGING);
    assert_int_equal(apply_r(&china, &st, SN_EV_ACTIVATE, cn(2024, 3, 30, 10, 0, 0), 1, err),
                     SN_EAGING);
    must(&china, &st, SN_EV_RELEASE, cn(2024, 3, 31, 10, 0, 0), 1);

    sn_state_init(&st, N);
    must(&china, &st, SN_EV_CANCEL, cn(2024, 1, 1, 10, 0, 0), 1); /* the first record */
    assert_int_equal(st.status, SN_ST_FROZEN);
    assert_int_equal(apply_r(&china, &st, SN_EV_ACTIVATE, cn(2024, 3, 30, 10, 0, 0), 1, err),
                     SN_EAGING);
    assert_int_equal(apply_r(&china, &st, SN_EV_RELEASE, cn(2024, 3, 30, 10, 0, 0), 1, err),
                     SN_EAGING);
    must(&china, &st, SN_EV_ACTIVATE, cn(2024, 3, 31, 10, 0, 0), 1);
    assert_int_equal(st.tenure, 1);

    /* a zero minimum aging lets a number go on the day it was cancelled */
    const sn_rules none = {86, 0, 480};
    sn_state_init(&st, N);
    must(&none, &st, SN_EV_ACTIVATE, cn(2024, 1, 1, 10, 0, 0), 1);
    must(&none, &st, SN_EV_CANCEL, cn(2024, 1, 1, 11, 0, 0), 1);
    must(&none, &st, SN_EV_RELEASE, cn(2024, 1, 1, 11, 0, 0), 1);
    assert_int_equal(st.status, SN_ST_POOL);
}

/* The tenure counts activations and nothing else. */
static void tenure_counts_activations_only(void **state)
{
    (void)state;
    static const struct {
        int kind;
        int y, m, d;
        unsigned tenure;
        int status;
    } steps[] = {
        {SN_EV_ACTIVATE, 2020, 1, 1, 1, SN_ST_ACTIVE},
        {SN_EV_SUSPEND, 2020, 2, 1, 1, SN_ST_SUSPENDED},
        {SN_EV_PORT_IN, 2020, 2, 15, 1, SN_ST_SUSPENDED},
        {SN_EV_RESUME, 2020, 3, 1, 1, SN_ST_ACTIVE},
        {SN_EV_PORT_IN, 2020, 4, 1, 1, SN_ST_ACTIVE},
        {SN_EV_CANCEL, 2020, 5, 1, 1, SN_ST_FROZEN},
        {SN_EV_RECLAIM, 2020, 5, 20, 1, SN_ST_ACTIVE},
        {SN_EV_CANCEL, 2020, 6, 1, 1, SN_ST_FROZEN},
        {SN_EV_RELEASE, 2020, 10, 1, 1, SN_ST_POOL},
        {SN_EV_ACTIVATE, 2020, 11, 1, 2, SN_ST_ACTIVE}, /* reissue from the pool */
        {SN_EV_CANCEL, 2021, 1, 1, 2, SN_ST_FROZEN},
        {SN_EV_ACTIVATE, 2021, 6, 1, 3, SN_ST_ACTIVE}, /* reissue straight from the freeze */
        {SN_EV_SUSPEND, 2021, 7, 1, 3, SN_ST_SUSPENDED},
        {SN_EV_CANCEL, 2021, 8, 1, 3, SN_ST_FROZEN},
        {SN_EV_RECLAIM, 2021, 8, 2, 3, SN_ST_ACTIVE},
    };
    sn_number_state st;
    sn_state_init(&st, N);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        must(&china, &st, steps[i].kind, cn(steps[i].y, steps[i].m, steps[i].d, 10, 0, 0), 1);
        if (st.tenure != steps[i].tenure || st.status != steps[i].status)
            fail_msg("step %zu (%s): tenure %u status %s, expected %u %s", i,
                     sn_event_name(steps[i].kind), st.tenure, sn_status_name(st.status),
                     steps[i].tenure, sn_status_name(steps[i].status));
        assert_int_equal(st.events, i + 1);
    }
    assert_int_equal(st.last_activation_day, sn_day_from_civil(2021, 6, 1));
    assert_int_equal(st.last_cancel_day, sn_day_from_civil(2021, 8, 1));
    assert_int_equal(st.first_day, sn_day_from_civil(2020, 1, 1));
    assert_int_equal(st.first_is_activation, 1);

    /* a history that starts mid-tenure has no known tenure until an activation */
    sn_state_init(&st, N);
    must(&china, &st, SN_EV_SUSPEND, cn(2020, 1, 1, 10, 0, 0), 1);
    must(&china, &st, SN_EV_RESUME, cn(2020, 2, 1, 10, 0, 0), 1);
    must(&china, &st, SN_EV_CANCEL, cn(2020, 3, 1, 10, 0, 0), 1);
    assert_int_equal(st.tenure, 0);
    assert_int_equal(st.last_activation_day, SN_DAY_NONE);
    must(&china, &st, SN_EV_ACTIVATE, cn(2020, 7, 1, 10, 0, 0), 1);
    assert_int_equal(st.tenure, 1);
    assert_int_equal(st.first_is_activation, 0);
    assert_int_equal(st.first_day, sn_day_from_civil(2020, 1, 1));
}

/* A reclaim during the freeze gives the number back to the same subscriber. */
static void reclaim_keeps_tenure(void **state)
{
    (void)state;
    sn_number_state st = in_status(SN_ST_FROZEN);
    sn_number_state before = st;
    must(&china, &st, SN_EV_RECLAIM, cn(2024, 1, 20, 10, 0, 0), 1);
    assert_int_equal(st.status, SN_ST_ACTIVE);
    assert_int_equal(st.tenure, before.tenure);
    assert_int_equal(st.tenure, 1);
    assert_int_equal(st.last_activation_day, before.last_activation_day);
    assert_int_equal(st.last_activation_day, sn_day_from_civil(2020, 1, 1));
    assert_int_equal(st.last_cancel_day, sn_day_from_civil(2024, 1, 1));
    assert_int_equal(st.carrier, before.carrier);
    /* reclaimed on the cancellation day itself, and past the minimum aging */
    st = in_status(SN_ST_FROZEN);
    must(&china, &st, SN_EV_RECLAIM, st.last_at, 1);
    assert_int_equal(st.tenure, 1);
    st = in_status(SN_ST_FROZEN);
    must(&china, &st, SN_EV_RECLAIM, cn(2025, 1, 1, 0, 0, 0), 1);
    assert_int_equal(st.tenure, 1);
    assert_int_equal(st.status, SN_ST_ACTIVE);
}

/* port_in moves the carrier of record and nothing else. */
static void port_in_changes_carrier_only(void **state)
{
    (void)state;
    static const int from[] = {SN_ST_ACTIVE, SN_ST_SUSPENDED};
    for (size_t i = 0; i < 2; i++) {
        sn_number_state st = in_status(from[i]), before = st;
        int64_t at = st.last_at + 5 * DAY;
        must(&china, &st, SN_EV_PORT_IN, at, 42);
        assert_int_equal(st.carrier, 42);
        assert_int_equal(before.carrier, 1);
        /* the bookkeeping every event does */
        assert_int_equal(st.last_at, at);
        assert_int_equal(st.events, before.events + 1);
        /* and nothing else */
        st.carrier = before.carrier;
        st.last_at = before.last_at;
        st.events = before.events;
        assert_same_state(&st, &before);
    }
    /* activation sets the carrier of record to the one that reports it */
    sn_number_state st = in_status(SN_ST_POOL);
    must(&china, &st, SN_EV_ACTIVATE, st.last_at + DAY, 9);
    assert_int_equal(st.carrier, 9);
}

static void history_limit(void **state)
{
    (void)state;
    sn_number_state st = in_status(SN_ST_ACTIVE);
    char err[SN_ERRMSG_MAX] = "";
    st.events = SN_MAX_EVENTS_PER_NUMBER - 1;
    must(&china, &st, SN_EV_SUSPEND, st.last_at + DAY, 1);
    assert_int_equal(st.events, SN_MAX_EVENTS_PER_NUMBER);
    sn_number_state before = st;
    assert_int_equal(apply_r(&china, &st, SN_EV_RESUME, st.last_at + DAY, 1, err), SN_ELIMIT);
    assert_same_state(&st, &before);
}

static void event_and_status_names(void **state)
{
    (void)state;
    static const char *const names[SN_EV_COUNT] = {
        NULL,      "activate", "suspend", "resume",   "cancel",
        "reclaim", "release",  "port_in", "port_out",
    };
    for (int k = SN_EV_ACTIVATE; k < SN_EV_COUNT; k++) {
        assert_string_equal(sn_event_name(k), names[k]);
        assert_int_equal(sn_event_parse(names[k], strlen(names[k])), k);
    }
    assert_null(sn_event_name(SN_EV_NONE));
    assert_null(sn_event_name(SN_EV_COUNT));
    assert_null(sn_event_name(-1));
    assert_null(sn_event_name(255));
    static const char *const bad[] = {"",          "Activate",  "ACTIVATE", "activ",
                                      "activatex", "activate ", "port-in",  "portin",
                                      "port_in_",  "none",      "cancelled"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sn_event_parse(bad[i], strlen(bad[i])) != SN_EV_NONE)
            fail_msg("'%s' parsed as an event", bad[i]);
    /* only len bytes count */
    assert_int_equal(sn_event_parse("cancel,2024", 6), SN_EV_CANCEL);
    assert_int_equal(sn_event_parse("cancel", 3), SN_EV_NONE);

    assert_string_equal(sn_status_name(SN_ST_UNSEEN), "unseen");
    assert_string_equal(sn_status_name(SN_ST_ACTIVE), "active");
    assert_string_equal(sn_status_name(SN_ST_SUSPENDED), "suspended");
    assert_string_equal(sn_status_name(SN_ST_FROZEN), "frozen");
    assert_string_equal(sn_status_name(SN_ST_POOL), "pool");
    assert_non_null(sn_status_name(5));
    assert_non_null(sn_status_name(-1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fresh_state),
        cmocka_unit_test(first_event_of_each_kind),
        cmocka_unit_test(every_transition_when_aged),
        cmocka_unit_test(every_transition_a_day_later),
        cmocka_unit_test(every_transition_at_equal_time),
        cmocka_unit_test(every_kind_out_of_order),
        cmocka_unit_test(events_before_1970),
        cmocka_unit_test(unknown_event_kind),
        cmocka_unit_test(aging_boundary_89_90),
        cmocka_unit_test(aging_counts_jurisdiction_days),
        cmocka_unit_test(aging_us_rules),
        cmocka_unit_test(aging_from_latest_cancellation),
        cmocka_unit_test(tenure_counts_activations_only),
        cmocka_unit_test(reclaim_keeps_tenure),
        cmocka_unit_test(port_in_changes_carrier_only),
        cmocka_unit_test(history_limit),
        cmocka_unit_test(event_and_status_names),
    };
    return sn_run_tests(tests);
}
