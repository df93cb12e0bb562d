/* test_verdict.c - every branch of the check semantics and the same-day
 * rules, on histories built through the lifecycle rules themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/errors.h"
#include "core/verdict.h"

#include <string.h>

static const sn_rules china = {86, 90, 480};

static sn_day day(int y, int m, int d)
{
    return sn_day_from_civil(y, m, d);
}

/* Apply "KIND@YYYY-MM-DD" steps, each at 10:00 local time. */
static sn_number_state history(const char *const *steps, size_t n)
{
    char err[SN_ERRMSG_MAX];
    sn_number_state st;
    sn_state_init(&st, 8613800000001ull);
    for (size_t i = 0; i < n; i++) {
        const char *at = strchr(steps[i], '@');
        sn_event e = {st.number, 0, 1, (uint8_t)sn_event_parse(steps[i], (size_t)(at - steps[i]))};
        assert_int_equal(sn_time_parse(at + 1, 10, china.tz_minutes, &e.at, err, sizeof(err)), SN_OK);
        e.at += 10 * 3600;
        if (sn_lifecycle_apply(&china, &st, &e, err, sizeof(err)) != SN_OK)
            fail_msg("%s: %s", steps[i], err);
    }
    return st;
}
#define HISTORY(...) history((const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *))

static void expect(const sn_number_state *st, sn_day d, sn_verdict v, sn_verdict_reason why)
{
    sn_verdict_reason got;
    sn_verdict r = sn_verdict_of(st, d, &got);
    char text[SN_DAY_TEXT_MAX];
    sn_day_format(d, text);
    if (r != v || got != why)
        fail_msg("%s: expected %s (%d), got %s (%d)", text, sn_verdict_name(v), why, sn_verdict_name(r), got);
}

static void never_reported(void **state)
{
    (void)state;
    sn_number_state st;
    sn_state_init(&st, 1);
    expect(&st, day(2024, 1, 1), SN_VERDICT_UNKNOWN, SN_WHY_NEVER_REPORTED);
    assert_int_equal(sn_verdict_of(NULL, day(2024, 1, 1), NULL), SN_VERDICT_UNKNOWN);
}

static void activation_after_on_and_before_the_date(void **state)
{
    (void)state;
    sn_number_state st = HISTORY("activate@2024-05-01");
    expect(&st, day(2024, 4, 30), SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
    expect(&st, day(2024, 5, 1), SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE); /* the contract day */
    expect(&st, day(2024, 5, 2), SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
}

static void cancellation_counts_from_its_own_day(void **state)
{
    (void)state;
    sn_number_state st = HISTORY("activate@2020-01-01", "cancel@2024-06-01");
    expect(&st, day(2023, 1, 1), SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&st, day(2024, 6, 1), SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&st, day(2024, 6, 2), SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    sn_number_state pool = HISTORY("activate@2020-01-01", "cancel@2024-01-01", "release@2024-04-01");
    expect(&pool, day(2023, 12, 31), SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
}

static void tenure_survives_suspension_reclaim_and_porting(void **state)
{
    (void)state;
    sn_number_state st = HISTORY("activate@2020-01-01", "suspend@2021-01-01", "resume@2021-02-01",
                                 "cancel@2022-01-01", "reclaim@2022-02-01", "port_in@2023-01-01");
    expect(&st, day(2020, 6, 1), SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
}

static void reissue_and_the_gap_before_it(void **state)
{
    (void)state;
    sn_number_state st = HISTORY("activate@2020-01-01", "cancel@2023-01-01", "release@2023-04-10",
                                 "activate@2023-06-01");
    expect(&st, day(2022, 1, 1), SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
    expect(&st, day(2023, 5, 1), SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER); /* in the gap */
    expect(&st, day(2023, 6, 1), SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    sn_number_state again = HISTORY("activate@2020-01-01", "cancel@2021-01-01", "activate@2021-05-01",
                                    "cancel@2024-01-01");
    expect(&again, day(2021, 6, 1), SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    expect(&again, day(2020, 6, 1), SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
}

static void first_record_not_an_activation(void **state)
{
    (void)state;
    sn_number_state st = HISTORY("suspend@2022-01-01");
    expect(&st, day(2021, 12, 31), SN_VERDICT_UNKNOWN, SN_WHY_BEFORE_FIRST_RECORD);
    expect(&st, day(2022, 1, 1), SN_VERDICT_UNCHANGED, SN_WHY_SAME_TENURE);
    sn_number_state cancelled = HISTORY("cancel@2022-01-01");
    expect(&cancelled, day(2021, 1, 1), SN_VERDICT_UNKNOWN, SN_WHY_BEFORE_FIRST_RECORD);
    expect(&cancelled, day(2022, 1, 1), SN_VERDICT_DISCONNECTED, SN_WHY_CANCELLED_SINCE);
    sn_number_state later = HISTORY("cancel@2022-01-01", "activate@2022-06-01");
    expect(&later, day(2021, 1, 1), SN_VERDICT_REASSIGNED, SN_WHY_ACTIVATED_AFTER);
}

static void future_dates_and_words(void **state)
{
    (void)state;
    char err[SN_ERRMSG_MAX], text[128];
    assert_int_equal(sn_check_day(day(2024, 1, 2), day(2024, 1, 1), err, sizeof(err)), SN_EFUTURE);
    assert_non_null(strstr(err, "2024-01-02 is in the future"));
    assert_int_equal(sn_check_day(day(2024, 1, 1), day(2024, 1, 1), err, sizeof(err)), SN_OK);
    assert_string_equal(sn_verdict_name(SN_VERDICT_REASSIGNED), "reassigned");
    assert_string_equal(sn_verdict_name(SN_VERDICT_DISCONNECTED), "disconnected");
    assert_string_equal(sn_verdict_name(SN_VERDICT_UNCHANGED), "unchanged");
    assert_string_equal(sn_verdict_name(SN_VERDICT_UNKNOWN), "unknown");
    sn_number_state st = HISTORY("activate@2020-01-01", "cancel@2024-06-01");
    sn_verdict_explain(&st, SN_WHY_CANCELLED_SINCE, text, sizeof(text));
    assert_non_null(strstr(text, "2024-06-01"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(never_reported),
        cmocka_unit_test(activation_after_on_and_before_the_date),
        cmocka_unit_test(cancellation_counts_from_its_own_day),
        cmocka_unit_test(tenure_survives_suspension_reclaim_and_porting),
        cmocka_unit_test(reissue_and_the_gap_before_it),
        cmocka_unit_test(first_record_not_an_activation),
        cmocka_unit_test(future_dates_and_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
