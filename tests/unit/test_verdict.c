/* test_verdict.c - core/verdict.c, the "Check semantics" of PRODUCT.md on
 * histories built through the lifecycle rules: never seen -> unknown;
 * activation after D -> reassigned, on D -> not; cancellation on or after D
 * -> disconnected, before D and still frozen -> unchanged; cancel then
 * reclaim -> unchanged; a first record that is not an activation -> unknown
 * before it, judged normally on and after it; a D in a gap with no
 * subscriber followed by an activation -> reassigned; porting keeps the
 * tenure; the same-day rules on jurisdiction (+08:00) days; sn_check_day
 * (future rejected, today accepted); sn_verdict_name; sn_verdict_explain
 * naming the deciding day. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "core/verdict.h"

#include <string.h>

static const sn_rules china = {86, 90, 480};

typedef struct {
    int kind;
    const char *at; /* RFC 3339 date-time, or a date meaning 10:00 that day in +08:00 */
} step;

static sn_day day(const char *s)
{
    sn_day d = 0;
    char err[SN_ERRMSG_MAX] = "";
    if (sn_day_parse(s, strlen(s), &d, err, sizeof(err)) != SN_OK)
        fail_msg("bad test date '%s': %s", s, err);
    return d;
}

static sn_number_state build(const step *steps, size_t n)
{
    sn_number_state st;
    sn_state_init(&st, 8613812345678ull);
    for (size_t i = 0; i < n; i++) {
        char err[SN_ERRMSG_MAX] = "";
        sn_event e = {st.number, 0, 1, (uint8_t)steps[i].kind};
        size_t len = strlen(steps[i].at);
        if (sn_time_parse(steps[i].at, len, china.tz_minutes, &e.at, err, sizeof(err)) != SN_OK)
            fail_msg("bad test time '%s': %s", steps[i].at, err);
        if (len == 10)
            e.at += 10 * 3600;
        int rc = sn_lifecycle_apply(&china, &st, &e, err, sizeof(err));
        if (rc != SN_OK)
            fail_msg("step %zu %s@%s rejected: %d %s", i, sn_event_name(steps[i].kind), steps[i].at,
                     rc, err);
    }
    return st;
}
#define STEPS(...) ((const step[]){__VA_ARGS__})
#define HISTORY(...) build(STEPS(__VA_ARGS__), sizeof(STEPS(__VA_ARGS__)) / sizeof(step))

static void expect(const sn_number_state *st, const char *d, sn_verdict v, sn_verdict_reason why)
{
    sn_verdict_reason got = (sn_verdict_reason)-1;
    sn_verdict r = sn_verdict_of(st, day(d), &got);
    if (r != v || got != why)
        fail_msg("D=%s: expected %s (reason %d), got %s (reason %d)", d, sn_verdict_name(v), why,
                 sn_verdict_name(r), got);
    /* the reason alone fixes the verdict; without a reason pointer the verdict is the same */
    assert_int_equal(sn_verdict_of(st, day(d), NULL), v);
}

#define A SN_EV_ACTIVATE
#define S SN_EV_SUSPEND
#define R SN_EV_RESUME
#define C SN_EV_CANCEL
#define RC SN_EV_RECLAIM
#define RL SN_EV_RELEASE
#define P SN_EV_PORT_IN

static void never_seen_is_unknown(void **state)
{
    (void)state;
    sn_number_state st;
    sn_state_init(&st, 8613812345678ull);
    expect(&st, "2024-01-01", SN_VERDICT_UNKNOWN, SN_WHY_NEVER_REPORTED);
    expect(&st, "0001-01-01", SN_VERDICT_UNKNOWN, SN_WHY_NEVER_REPORTED);
    sn_verdict_reason why = SN_WHY_SAME_TENURE;
    assert_int_equal(sn_verdict_of(NULL, day("2024-01-01"), &why), SN_VERDICT_UNKNOWN);
    assert_int_equal(why, SN_WHY_NEVER_REPORTED);
    assert_int_equal(sn_verdict_of(NULL, day("2024-01-01"), NULL), SN_VERDICT_UNKNOWN);
}

static void activation_after_d_is_reassigned(void **state)
{
    (void)state;
    sn_number_state st = HISTORY({A, "2024-05-01"});
    expect(&st, "2024-04-30", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
    expect(&st, "2000-01-01", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
    expect(&st, "2024-05-02", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    expect(&st, "2030-01-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
}

/* Same-day rule: the activation day is the subscriber's own. */
static void activation_on_d_is_not_reassigned(void **state)
{
    (void)state;
    sn_number_state st = HISTORY({A, "2024-05-01T23:59:59+08:00"});
    expect(&st, "2024-05-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    /* a reissue on D itself: the new subscriber's own day */
    sn_number_state re = HISTORY({A, "2020-01-01"}, {C, "2023-01-01"}, {RL, "2023-04-10"},
                                 {A, "2023-06-01"});
    expect(&re, "2023-06-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    expect(&re, "2023-05-31", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
}

/* Days are the jurisdiction's (+08:00), not UTC's. */
static void days_are_jurisdiction_days(void **state)
{
    (void)state;
    /* 2024-04-30T17:00Z is 2024-05-01 01:00 in +08:00: activated on 05-01 */
    sn_number_state st = HISTORY({A, "2024-04-30T17:00:00Z"});
    expect(&st, "2024-04-30", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
    expect(&st, "2024-05-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    /* 2024-04-30T15:59:59Z is 2024-04-30 23:59:59 in +08:00: activated on 04-30 */
    sn_number_state early = HISTORY({A, "2024-04-30T15:59:59Z"});
    expect(&early, "2024-04-30", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    expect(&early, "2024-04-29", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
    /* cancelled 2024-05-31T17:00Z = 2024-06-01 01:00 in +08:00: on D=06-01, not after */
    sn_number_state c = HISTORY({A, "2020-01-01"}, {C, "2024-05-31T17:00:00Z"});
    expect(&c, "2024-06-01", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&c, "2024-06-02", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
}

/* Same-day rule: a cancellation on D counts as since D. */
static void cancellation_on_or_after_d_is_disconnected(void **state)
{
    (void)state;
    sn_number_state st = HISTORY({A, "2020-01-01"}, {C, "2024-06-01T00:00:00+08:00"});
    expect(&st, "2024-06-01", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&st, "2024-05-31", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&st, "2020-01-01", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    /* still cancelled once in the pool */
    sn_number_state pool = HISTORY({A, "2020-01-01"}, {C, "2024-01-01"}, {RL, "2024-04-01"});
    expect(&pool, "2024-01-01", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&pool, "2023-12-31", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    /* via suspension */
    sn_number_state sus = HISTORY({A, "2020-01-01"}, {S, "2024-01-01"}, {C, "2024-03-01"});
    expect(&sus, "2024-02-01", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    /* activated and cancelled on the same day D */
    sn_number_state same = HISTORY({A, "2024-05-01T09:00:00+08:00"}, {C, "2024-05-01T18:00:00+08:00"});
    expect(&same, "2024-05-01", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&same, "2024-04-30", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
}

/* Cancelled before D and not reissued: no change since D. */
static void cancellation_before_d_still_frozen_is_unchanged(void **state)
{
    (void)state;
    sn_number_state st = HISTORY({A, "2020-01-01"}, {C, "2024-06-01T23:59:59+08:00"});
    assert_int_equal(st.status, SN_ST_FROZEN);
    expect(&st, "2024-06-02", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    expect(&st, "2024-07-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    sn_number_state pool = HISTORY({A, "2020-01-01"}, {C, "2024-01-01"}, {RL, "2024-04-01"});
    expect(&pool, "2024-01-02", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
}

/* Reclaim during the freeze: the same subscriber, the same tenure. */
static void cancel_then_reclaim_is_unchanged(void **state)
{
    (void)state;
    sn_number_state st = HISTORY({A, "2020-01-01"}, {C, "2024-06-01"}, {RC, "2024-06-10"});
    expect(&st, "2024-06-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    expect(&st, "2024-05-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    expect(&st, "2024-06-05", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    expect(&st, "2024-06-10", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    expect(&st, "2024-07-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    /* cancelled again later: the latest cancellation decides */
    sn_number_state again = HISTORY({A, "2020-01-01"}, {C, "2021-01-01"}, {RC, "2021-02-01"},
                                    {C, "2024-01-01"});
    expect(&again, "2021-06-01", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&again, "2024-01-02", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
}

/* Suspension, resumption and porting do not break a tenure. */
static void suspension_and_porting_keep_the_tenure(void **state)
{
    (void)state;
    sn_number_state st = HISTORY({A, "2020-01-01"}, {P, "2021-01-01"});
    assert_int_equal(st.tenure, 1);
    expect(&st, "2020-06-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    expect(&st, "2021-01-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    sn_number_state all = HISTORY({A, "2020-01-01"}, {S, "2021-01-01"}, {P, "2021-01-15"},
                                  {R, "2021-02-01"}, {P, "2022-01-01"}, {C, "2022-05-01"},
                                  {RC, "2022-06-01"}, {S, "2023-01-01"});
    expect(&all, "2020-01-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    expect(&all, "2021-01-10", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    expect(&all, "2022-05-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    expect(&all, "2023-06-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
}

/* A D with no subscriber (frozen or in the pool) followed by an activation. */
static void gap_then_activation_is_reassigned(void **state)
{
    (void)state;
    sn_number_state st = HISTORY({A, "2020-01-01"}, {C, "2023-01-01"}, {RL, "2023-04-10"},
                                 {A, "2023-06-01"});
    expect(&st, "2022-01-01", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER); /* previous tenure */
    expect(&st, "2023-01-01", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER); /* cancel day */
    expect(&st, "2023-02-01", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER); /* frozen gap */
    expect(&st, "2023-05-01", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER); /* pool gap */
    expect(&st, "2023-06-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    /* reissued straight from the freeze, then cancelled again */
    sn_number_state two = HISTORY({A, "2020-01-01"}, {C, "2021-01-01"}, {A, "2021-05-01"},
                                  {C, "2024-01-01"});
    assert_int_equal(two.tenure, 2);
    expect(&two, "2020-06-01", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
    expect(&two, "2021-03-01", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER); /* frozen gap */
    expect(&two, "2021-05-01", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&two, "2024-01-01", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&two, "2024-01-02", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
}

/* A feed that begins mid-history: before the first record nothing is known. */
static void first_record_not_an_activation(void **state)
{
    (void)state;
    /* every non-activation kind as the first record, on 2022-01-01 */
    static const struct {
        int kind;
        sn_verdict on_day;
        sn_verdict_reason why;
    } cases[] = {
        {S, SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE},
        {R, SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE},
        {C, SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE},
        {RC, SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE},
        {RL, SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE}, /* in the pool; its cancellation came before */
        {P, SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sn_number_state st = HISTORY({cases[i].kind, "2022-01-01T12:00:00+08:00"});
        expect(&st, "2021-12-31", SN_VERDICT_UNKNOWN, SN_WHY_BEFORE_FIRST_RECORD);
        expect(&st, "2000-01-01", SN_VERDICT_UNKNOWN, SN_WHY_BEFORE_FIRST_RECORD);
        expect(&st, "2022-01-01", cases[i].on_day, cases[i].why);
    }
    /* after the first record it is judged normally */
    sn_number_state c = HISTORY({C, "2022-01-01"});
    expect(&c, "2022-01-02", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    sn_number_state s = HISTORY({S, "2022-01-01"}, {R, "2022-02-01"}, {C, "2022-06-01"});
    expect(&s, "2021-12-31", SN_VERDICT_UNKNOWN, SN_WHY_BEFORE_FIRST_RECORD);
    expect(&s, "2022-01-01", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&s, "2022-06-01", SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&s, "2022-06-02", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    /* an activation after D is known even when D is before the first record */
    sn_number_state later = HISTORY({C, "2022-01-01"}, {A, "2022-06-01"});
    expect(&later, "2021-01-01", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
    expect(&later, "2022-03-01", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
    expect(&later, "2022-06-01", SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    /* when the first record is an activation there is no "before" to be unsure of */
    sn_number_state a = HISTORY({A, "2022-01-01"}, {C, "2022-06-01"});
    expect(&a, "2021-12-31", SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
}

static void check_day_against_today(void **state)
{
    (void)state;
    char err[SN_ERRMSG_MAX] = "";
    sn_day today = day("2024-05-01");
    assert_int_equal(sn_check_day(today, today, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_check_day(today - 1, today, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_check_day(day("0001-01-01"), today, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_check_day(today + 1, today, err, sizeof(err)), SN_EFUTURE);
    assert_non_null(strstr(err, "2024-05-02"));
    assert_non_null(strstr(err, "2024-05-01"));
    assert_int_equal(sn_check_day(day("2030-01-01"), today, NULL, 0), SN_EFUTURE);
    char tiny[8];
    assert_int_equal(sn_check_day(today + 1, today, tiny, sizeof(tiny)), SN_EFUTURE);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

static void verdict_names(void **state)
{
    (void)state;
    assert_string_equal(sn_verdict_name(SN_VERDICT_REASSIGNED), "reassigned");
    assert_string_equal(sn_verdict_name(SN_VERDICT_DISCONNECTED), "disconnected");
    assert_string_equal(sn_verdict_name(SN_VERDICT_UNCHANGED), "unchanged");
    assert_string_equal(sn_verdict_name(SN_VERDICT_UNKNOWN), "unknown");
}

/* The explanation of each reason, as sn_verdict_of gives it, names the deciding day. */
static void explain_names_the_deciding_day(void **state)
{
    (void)state;
    char text[128];
    sn_verdict_reason why;

    sn_number_state re = HISTORY({A, "2020-01-01"}, {C, "2023-01-01"}, {RL, "2023-04-10"},
                                 {A, "2023-06-01"});
    assert_int_equal(sn_verdict_of(&re, day("2022-01-01"), &why), SN_VERDICT_REASSIGNED);
    sn_verdict_explain(&re, why, text, sizeof(text));
    assert_non_null(strstr(text, "2023-06-01"));

    sn_number_state dis = HISTORY({A, "2020-01-01"}, {C, "2024-06-01"});
    assert_int_equal(sn_verdict_of(&dis, day("2024-01-01"), &why), SN_VERDICT_DISCONNECTED);
    sn_verdict_explain(&dis, why, text, sizeof(text));
    assert_non_null(strstr(text, "2024-06-01"));

    sn_number_state mid = HISTORY({S, "2022-03-04"});
    assert_int_equal(sn_verdict_of(&mid, day("2022-03-03"), &why), SN_VERDICT_UNKNOWN);
    assert_int_equal(why, SN_WHY_BEFORE_FIRST_RECORD);
    sn_verdict_explain(&mid, why, text, sizeof(text));
    assert_non_null(strstr(text, "2022-03-04"));

    sn_number_state none;
    sn_state_init(&none, 8613812345678ull);
    assert_int_equal(sn_verdict_of(&none, day("2022-03-03"), &why), SN_VERDICT_UNKNOWN);
    text[0] = '\0';
    sn_verdict_explain(&none, why, text, sizeof(text));
    assert_true(strlen(text) > 0);

    assert_int_equal(sn_verdict_of(&dis, day("2024-07-01"), &why), SN_VERDICT_UNCHANGED);
    text[0] = '\0';
    sn_verdict_explain(&dis, why, text, sizeof(text));
    assert_true(strlen(text) > 0);

    /* a short buffer is truncated, never overflowed */
    char tiny[6];
    sn_verdict_explain(&re, SN_WHY_ACTIVATED_AFTER, tiny, sizeof(tiny));
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(never_seen_is_unknown),
        cmocka_unit_test(activation_after_d_is_reassigned),
        cmocka_unit_test(activation_on_d_is_not_reassigned),
        cmocka_unit_test(days_are_jurisdiction_days),
        cmocka_unit_test(cancellation_on_or_after_d_is_disconnected),
        cmocka_unit_test(cancellation_before_d_still_frozen_is_unchanged),
        cmocka_unit_test(cancel_then_reclaim_is_unchanged),
        cmocka_unit_test(suspension_and_porting_keep_the_tenure),
        cmocka_unit_test(gap_then_activation_is_reassigned),
        cmocka_unit_test(first_record_not_an_activation),
        cmocka_unit_test(check_day_against_today),
        cmocka_unit_test(verdict_names),
        cmocka_unit_test(explain_names_the_deciding_day),
    };
    return sn_run_tests(tests);
}
