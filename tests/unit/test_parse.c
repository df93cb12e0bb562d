/* test_parse.c - number and date parsing edge cases (core/number.c, core/date.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/date.h"
#include "core/errors.h"
#include "core/number.h"

#include <string.h>

static char err[SN_ERRMSG_MAX];

static sn_number num(const char *s, unsigned cc, int want_rc)
{
    sn_number n = 0;
    int rc = sn_number_parse(s, strlen(s), cc, &n, err, sizeof(err));
    if (rc != want_rc)
        fail_msg("'%s' (cc %u): expected %d, got %d (%s)", s, cc, want_rc, rc, err);
    return n;
}

static void numbers(void **state)
{
    (void)state;
    char text[SN_NUMBER_TEXT_MAX];
    assert_int_equal(num("+8613812345678", 86, SN_OK), 8613812345678ull);
    assert_int_equal(num("13812345678", 86, SN_OK), 8613812345678ull);
    assert_int_equal(num("2025550123", 1, SN_OK), 12025550123ull);
    assert_int_equal(num("02079460000", 44, SN_OK), 442079460000ull); /* trunk 0 dropped */
    assert_int_equal(num("+12345", 0, SN_OK), 12345ull);               /* 5 digits: the minimum */
    assert_int_equal(num("+123456789012345", 0, SN_OK), 123456789012345ull);
    num("+1234", 0, SN_ENUMBER);            /* 4 digits */
    num("+1234567890123456", 0, SN_ENUMBER); /* 16 digits */
    num("+0861381234567", 0, SN_ENUMBER);   /* country code starting 0 */
    num("+86 13812345678", 86, SN_ENUMBER);
    num("+86-138", 86, SN_ENUMBER);
    num("+", 86, SN_ENUMBER);
    num("", 86, SN_ENUMBER);
    num("23812345678", 86, SN_ENUMBER);    /* Chinese mobile starts with 1 */
    num("1381234567", 86, SN_ENUMBER);     /* 10 digits */
    num("13812345678", 0, SN_ENUMBER);     /* national needs a country */
    num("1025550123", 1, SN_ENUMBER);      /* NANP area code starts 2-9 */
    num("2021550123", 1, SN_ENUMBER);      /* NANP exchange starts 2-9 */
    assert_int_equal(sn_number_format(8613812345678ull, text), 14);
    assert_string_equal(text, "+8613812345678");
    assert_int_equal(sn_number_format(123456789012345ull, text), 16);
    assert_string_equal(text, "+123456789012345");
    assert_true(sn_number_prefix_valid("+86138"));
    assert_false(sn_number_prefix_valid("+0"));
    assert_false(sn_number_prefix_valid("86138"));
    assert_false(sn_number_prefix_valid("+"));
}

static void days(void **state)
{
    (void)state;
    sn_day d;
    char text[SN_DAY_TEXT_MAX];
    assert_int_equal(sn_day_from_civil(1970, 1, 1), 0);
    assert_int_equal(sn_day_from_civil(1969, 12, 31), -1);
    assert_int_equal(sn_day_from_civil(2000, 3, 1) - sn_day_from_civil(2000, 2, 28), 2);
    assert_int_equal(sn_day_parse("2024-02-29", 10, &d, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_day_parse("2023-02-29", 10, &d, err, sizeof(err)), SN_EDATE);
    assert_int_equal(sn_day_parse("1900-02-29", 10, &d, err, sizeof(err)), SN_EDATE);
    assert_int_equal(sn_day_parse("2000-02-29", 10, &d, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_day_parse("2024-13-01", 10, &d, err, sizeof(err)), SN_EDATE);
    assert_int_equal(sn_day_parse("2024-00-10", 10, &d, err, sizeof(err)), SN_EDATE);
    assert_int_equal(sn_day_parse("2024-04-31", 10, &d, err, sizeof(err)), SN_EDATE);
    assert_int_equal(sn_day_parse("2024-4-01", 9, &d, err, sizeof(err)), SN_EDATE);
    assert_int_equal(sn_day_parse("2024/04/01", 10, &d, err, sizeof(err)), SN_EDATE);
    assert_int_equal(sn_day_parse("0000-01-01", 10, &d, err, sizeof(err)), SN_EDATE);
    /* every day from 1900 to 2100 formats back to itself */
    for (sn_day x = sn_day_from_civil(1900, 1, 1); x <= sn_day_from_civil(2100, 12, 31); x++) {
        sn_day_format(x, text);
        assert_int_equal(sn_day_parse(text, 10, &d, err, sizeof(err)), SN_OK);
        assert_int_equal(d, x);
    }
    sn_day_format(sn_day_from_civil(9999, 12, 31), text);
    assert_string_equal(text, "9999-12-31");
}

static int64_t t(const char *s, int tz, int want_rc)
{
    int64_t v = 0;
    int rc = sn_time_parse(s, strlen(s), tz, &v, err, sizeof(err));
    if (rc != want_rc)
        fail_msg("'%s': expected %d, got %d (%s)", s, want_rc, rc, err);
    return v;
}

static void times_and_zones(void **state)
{
    (void)state;
    char text[SN_TIME_TEXT_MAX];
    int tz;
    assert_int_equal(t("1970-01-01T00:00:00Z", 480, SN_OK), 0);
    assert_int_equal(t("1970-01-01T08:00:00+08:00", 0, SN_OK), 0);
    assert_int_equal(t("1970-01-01t00:00:00.999z", 0, SN_OK), 0);
    assert_int_equal(t("1970-01-01T00:00:00-05:00", 0, SN_OK), 5 * 3600);
    assert_int_equal(t("1970-01-02", 480, SN_OK), 86400 - 8 * 3600); /* midnight in +08:00 */
    assert_int_equal(t("2016-12-31T23:59:60Z", 0, SN_OK), t("2016-12-31T23:59:59Z", 0, SN_OK));
    t("2024-05-01T10:00:00", 480, SN_EDATE); /* no offset */
    t("2024-05-01T24:00:00Z", 480, SN_EDATE);
    t("2024-05-01T10:60:00Z", 480, SN_EDATE);
    t("2024-05-01T10:00:00.Z", 480, SN_EDATE);
    t("2024-05-01T10:00:00+24:00", 480, SN_EDATE);
    t("2024-05-01X10:00:00Z", 480, SN_EDATE);
    /* 16:00Z on 1 May is 2 May in +08:00 */
    assert_int_equal(sn_day_of(t("2024-05-01T16:00:00Z", 0, SN_OK), 480), sn_day_from_civil(2024, 5, 2));
    assert_int_equal(sn_day_of(t("2024-05-01T15:59:59Z", 0, SN_OK), 480), sn_day_from_civil(2024, 5, 1));
    assert_int_equal(sn_day_of(-1, 0), -1);
    assert_int_equal(sn_day_start(sn_day_from_civil(2024, 5, 2), 480), t("2024-05-01T16:00:00Z", 0, SN_OK));
    assert_int_equal(sn_tz_parse("+08:00", &tz, err, sizeof(err)), SN_OK);
    assert_int_equal(tz, 480);
    assert_int_equal(sn_tz_parse("-0530", &tz, err, sizeof(err)), SN_OK);
    assert_int_equal(tz, -330);
    assert_int_equal(sn_tz_parse("Z", &tz, err, sizeof(err)), SN_OK);
    assert_int_equal(tz, 0);
    assert_int_equal(sn_tz_parse("8", &tz, err, sizeof(err)), SN_EDATE);
    sn_time_format(t("2024-05-01T10:00:00+08:00", 0, SN_OK), 480, text);
    assert_string_equal(text, "2024-05-01T10:00:00+08:00");
    sn_time_format(0, 0, text);
    assert_string_equal(text, "1970-01-01T00:00:00Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers),
        cmocka_unit_test(days),
        cmocka_unit_test(times_and_zones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
