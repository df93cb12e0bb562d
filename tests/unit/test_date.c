/* test_date.c - core/date.c: RFC 3339 full-date parsing (leap years, month
 * and day ranges, exact length, digits only); date-time parsing with Z,
 * +08:00, -05:00, fractions and lowercase t/z, missing or bad offsets, bad
 * clock fields; jurisdiction days (sn_day_of across a day boundary in +08:00
 * and -05:00, sn_day_start); the civil-day conversion walked day by day from
 * 0001-01-01 to 9999-12-31 against an independent calendar (1970-01-01 = 0,
 * negative days, 2000, 9999-12-31); sn_tz_parse, sn_tz_format, sn_time_format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/date.h"
#include "core/errors.h"

#include <stdio.h>
#include <string.h>

#define DAY 86400
/* 2024-05-01T10:00:00Z */
#define T_2024_05_01_10Z 1714557600LL

static sn_day day_ok(const char *s)
{
    char err[SN_ERRMSG_MAX] = "";
    sn_day d = -777;
    int rc = sn_day_parse(s, strlen(s), &d, err, sizeof(err));
    if (rc != SN_OK)
        fail_msg("day '%s' rejected: %d %s", s, rc, err);
    return d;
}

static void day_bad(const char *s)
{
    char err[SN_ERRMSG_MAX] = "";
    sn_day d = -777;
    int rc = sn_day_parse(s, strlen(s), &d, err, sizeof(err));
    if (rc != SN_EDATE)
        fail_msg("day '%s': expected SN_EDATE, got %d (day %d)", s, rc, (int)d);
    assert_true(err[0] != '\0');
}

static int64_t time_ok(const char *s, int tz)
{
    char err[SN_ERRMSG_MAX] = "";
    int64_t t = -777;
    int rc = sn_time_parse(s, strlen(s), tz, &t, err, sizeof(err));
    if (rc != SN_OK)
        fail_msg("time '%s' rejected: %d %s", s, rc, err);
    return t;
}

static void time_bad(const char *s)
{
    char err[SN_ERRMSG_MAX] = "";
    int64_t t = -777;
    int rc = sn_time_parse(s, strlen(s), 480, &t, err, sizeof(err));
    if (rc != SN_EDATE)
        fail_msg("time '%s': expected SN_EDATE, got %d (%lld)", s, rc, (long long)t);
    assert_true(err[0] != '\0');
}

static void full_date_valid(void **state)
{
    (void)state;
    assert_int_equal(day_ok("1970-01-01"), 0);
    assert_int_equal(day_ok("1970-01-02"), 1);
    assert_int_equal(day_ok("1969-12-31"), -1);
    assert_int_equal(day_ok("2000-01-01"), 10957);
    assert_int_equal(day_ok("2000-02-29"), 11016); /* divisible by 400: leap */
    assert_int_equal(day_ok("2000-03-01"), 11017);
    assert_int_equal(day_ok("2024-02-29"), 19782);
    assert_int_equal(day_ok("2024-05-01"), 19844);
    assert_int_equal(day_ok("1600-02-29"), -135081);
    assert_int_equal(day_ok("0001-01-01"), -719162);
    assert_int_equal(day_ok("9999-12-31"), 2932896);
    /* only len bytes are read */
    sn_day d = 0;
    assert_int_equal(sn_day_parse("2024-05-01T10:00:00Z", 10, &d, NULL, 0), SN_OK);
    assert_int_equal(d, 19844);
}

static void full_date_invalid(void **state)
{
    (void)state;
    day_bad("2023-02-29"); /* not a leap year */
    day_bad("1900-02-29"); /* divisible by 100, not 400 */
    day_bad("2024-02-30");
    day_bad("2024-13-01"); /* month 13 */
    day_bad("2024-00-10"); /* month 00 */
    day_bad("2024-01-00"); /* day 00 */
    day_bad("2024-01-32");
    day_bad("2024-04-31");
    day_bad("0000-01-01"); /* before year 0001 */
    day_bad("2024-1-01");  /* wrong lengths */
    day_bad("2024-01-1");
    day_bad("24-01-01");
    day_bad("2024-01-010");
    day_bad("2024-01-01 ");
    day_bad("");
    day_bad("2024-05-01T10:00:00Z"); /* a date-time is not a date */
    day_bad("2024/01/01");           /* non-digits and wrong separators */
    day_bad("2024-01-0a");
    day_bad("20x4-01-01");
    day_bad("+024-01-01");
    day_bad("-024-01-01");
    day_bad(" 024-01-01");
    day_bad("2024--1-01");
    day_bad("2024-01-+1");
    char err[SN_ERRMSG_MAX];
    sn_day d = 5;
    assert_int_equal(sn_day_parse("2023-02-29", 10, &d, err, sizeof(err)), SN_EDATE);
    assert_non_null(strstr(err, "2023-02-29"));
    assert_int_equal(d, 5);
}

static void date_time_offsets(void **state)
{
    (void)state;
    const int64_t t = T_2024_05_01_10Z;
    assert_int_equal(time_ok("2024-05-01T10:00:00Z", 480), t);
    assert_int_equal(time_ok("2024-05-01T10:00:00Z", 0), t); /* an explicit offset wins */
    assert_int_equal(time_ok("2024-05-01T18:00:00+08:00", 0), t);
    assert_int_equal(time_ok("2024-05-01T05:00:00-05:00", 480), t);
    assert_int_equal(time_ok("2024-05-01T15:30:00+05:30", 0), t);
    assert_int_equal(time_ok("2024-05-01T10:00:00+00:00", 0), t);
    assert_int_equal(time_ok("2024-05-01T10:00:00-00:00", 0), t);
    assert_int_equal(time_ok("2024-05-02T02:00:00+16:00", 0), t);
    /* fractions are dropped, of any length */
    assert_int_equal(time_ok("2024-05-01T10:00:00.5Z", 0), t);
    assert_int_equal(time_ok("2024-05-01T10:00:00.999999999Z", 0), t);
    assert_int_equal(time_ok("2024-05-01T18:00:00.123+08:00", 0), t);
    /* lowercase t and z */
    assert_int_equal(time_ok("2024-05-01t10:00:00z", 0), t);
    assert_int_equal(time_ok("2024-05-01t18:00:00+08:00", 0), t);
    /* seconds and minutes count */
    assert_int_equal(time_ok("2024-05-01T10:59:59Z", 0), t + 3599);
    assert_int_equal(time_ok("2024-05-01T23:59:59Z", 0), t + 14 * 3600 - 1);
    assert_int_equal(time_ok("2024-05-01T00:00:00Z", 0), t - 10 * 3600);
    /* a leap second is folded into :59 */
    assert_int_equal(time_ok("2024-05-01T23:59:60Z", 0), t + 14 * 3600 - 1);
    /* range ends and before 1970 */
    assert_int_equal(time_ok("1970-01-01T00:00:00Z", 0), 0);
    assert_int_equal(time_ok("1969-12-31T23:59:59Z", 0), -1);
    assert_int_equal(time_ok("1970-01-01T08:00:00+08:00", 0), 0);
    assert_int_equal(time_ok("0001-01-01T00:00:00Z", 0), -62135596800LL);
    assert_int_equal(time_ok("9999-12-31T23:59:59Z", 0), 253402300799LL);
    assert_int_equal(time_ok("2024-02-29T12:00:00Z", 0), 19782LL * DAY + 12 * 3600);
}

static void full_date_as_time_is_start_of_jurisdiction_day(void **state)
{
    (void)state;
    assert_int_equal(time_ok("2024-05-01", 480), 19844LL * DAY - 8 * 3600);
    assert_int_equal(time_ok("2024-05-01", 0), 19844LL * DAY);
    assert_int_equal(time_ok("2024-05-01", -300), 19844LL * DAY + 5 * 3600);
    assert_int_equal(time_ok("1970-01-01", 0), 0);
    time_bad("2023-02-29");
    time_bad("2024-13-01");
}

static void date_time_invalid(void **state)
{
    (void)state;
    time_bad("2024-05-01T10:00:00");       /* missing offset */
    time_bad("2024-05-01T10:00:00.123");   /* fraction, then no offset */
    time_bad("2024-05-01T10:00:00.");      /* empty fraction */
    time_bad("2024-05-01T10:00:00.Z");
    time_bad("2024-05-01T10:00Z");         /* no seconds */
    time_bad("2024-05-01T24:00:00Z");      /* bad hour */
    time_bad("2024-05-01T25:00:00Z");
    time_bad("2024-05-01T1a:00:00Z");
    time_bad("2024-05-01T10:60:00Z");      /* bad minute */
    time_bad("2024-05-01T10:00:61Z");      /* bad second */
    time_bad("2024-05-01T10-00-00Z");
    time_bad("2024-05-01X10:00:00Z");
    time_bad("2023-02-29T10:00:00Z");      /* bad date inside */
    time_bad("2024-00-01T10:00:00Z");
    time_bad("2024-05-01T10:00:00+24:00"); /* bad offsets */
    time_bad("2024-05-01T10:00:00+08:60");
    time_bad("2024-05-01T10:00:00+8:00");
    time_bad("2024-05-01T10:00:00 08:00");
    time_bad("2024-05-01T10:00:00+08:00:00");
    time_bad("2024-05-01T10:00:00ZZ");
    time_bad("2024-05-01T10:00:00UTC");
    time_bad("2024-05-01T10:00:00Z ");
    time_bad("");
    time_bad("2024-05-0");
    time_bad("2024-05-01T");
    /* the output is left alone on failure, and the message names the input */
    char err[SN_ERRMSG_MAX];
    int64_t t = 99;
    assert_int_equal(sn_time_parse("2024-05-01T10:00:00", 19, 480, &t, err, sizeof(err)), SN_EDATE);
    assert_int_equal(t, 99);
    assert_non_null(strstr(err, "2024-05-01T10:00:00"));
}

static void day_of_across_boundaries(void **state)
{
    (void)state;
    const int64_t t16z = 1714579200LL; /* 2024-05-01T16:00:00Z */
    assert_int_equal(time_ok("2024-05-01T16:00:00Z", 0), t16z);
    assert_int_equal(sn_day_of(t16z, 480), 19845);     /* 2024-05-02 00:00 in +08:00 */
    assert_int_equal(sn_day_of(t16z - 1, 480), 19844); /* 2024-05-01 23:59:59 in +08:00 */
    assert_int_equal(sn_day_of(t16z, 0), 19844);       /* still 2024-05-01 in UTC */
    char buf[SN_DAY_TEXT_MAX];
    sn_day_format(sn_day_of(t16z, 480), buf);
    assert_string_equal(buf, "2024-05-02");
    /* -05:00: 2024-05-01T04:59:59Z is still 2024-04-30 */
    assert_int_equal(sn_day_of(time_ok("2024-05-01T04:59:59Z", 0), -300), 19843);
    assert_int_equal(sn_day_of(time_ok("2024-05-01T05:00:00Z", 0), -300), 19844);
    /* around the epoch, rounding towards minus infinity */
    assert_int_equal(sn_day_of(0, 0), 0);
    assert_int_equal(sn_day_of(DAY - 1, 0), 0);
    assert_int_equal(sn_day_of(DAY, 0), 1);
    assert_int_equal(sn_day_of(-1, 0), -1);
    assert_int_equal(sn_day_of(-DAY, 0), -1);
    assert_int_equal(sn_day_of(-DAY - 1, 0), -2);
    assert_int_equal(sn_day_of(0, -300), -1);
    assert_int_equal(sn_day_of(-8 * 3600, 480), 0);
    assert_int_equal(sn_day_of(-8 * 3600 - 1, 480), -1);
}

static void day_start(void **state)
{
    (void)state;
    assert_int_equal(sn_day_start(0, 0), 0);
    assert_int_equal(sn_day_start(0, 480), -8 * 3600);
    assert_int_equal(sn_day_start(0, -300), 5 * 3600);
    assert_int_equal(sn_day_start(19845, 480), 1714579200LL); /* 2024-05-02 in +08:00 */
    assert_int_equal(sn_day_start(-1, 0), -DAY);
    assert_int_equal(sn_day_start(2932896, 0), 253402214400LL);
    static const int zones[] = {-720, -300, -1, 0, 1, 330, 480, 840};
    static const sn_day days[] = {-719162, -135081, -1, 0, 1, 10957, 19782, 19845, 2932896};
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
            int64_t s = sn_day_start(days[i], zones[z]);
            assert_int_equal(sn_day_of(s, zones[z]), days[i]);
            assert_int_equal(sn_day_of(s + DAY - 1, zones[z]), days[i]);
            assert_int_equal(sn_day_of(s - 1, zones[z]), days[i] - 1);
            assert_int_equal(sn_day_start(days[i] + 1, zones[z]) - s, DAY);
        }
    }
}

static int test_leap(int y)
{
    return y % 400 == 0 || (y % 4 == 0 && y % 100 != 0);
}

/* Every day from 0001-01-01 to 9999-12-31, counted by an independent
 * calendar: from_civil, format and parse all agree with the count. */
static void every_day_round_trips(void **state)
{
    (void)state;
    static const int lengths[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    sn_day expect = -719162; /* 0001-01-01 */
    long checked = 0;
    for (int y = 1; y <= 9999; y++) {
        for (int m = 1; m <= 12; m++) {
            int len = lengths[m - 1] + (m == 2 && test_leap(y));
            for (int d = 1; d <= len; d++, expect++, checked++) {
                char want[32], got[SN_DAY_TEXT_MAX];
                snprintf(want, sizeof(want), "%04d-%02d-%02d", y, m, d);
                sn_day c = sn_day_from_civil(y, m, d);
                size_t n = sn_day_format(expect, got);
                sn_day back = 0;
                int rc = sn_day_parse(got, n, &back, NULL, 0);
                if (c != expect || n != 10 || strcmp(got, want) != 0 || rc != SN_OK || back != expect)
                    fail_msg("%s: expected day %d; from_civil %d, format '%s' (%zu), parse rc %d -> %d",
                             want, (int)expect, (int)c, got, n, rc, (int)back);
            }
        }
    }
    assert_int_equal(expect - 1, 2932896); /* the last day checked was 9999-12-31 */
    assert_int_equal(checked, 3652059);
    assert_int_equal(sn_day_from_civil(1970, 1, 1), 0);
    assert_int_equal(sn_day_from_civil(1969, 12, 31), -1);
    assert_int_equal(sn_day_from_civil(2000, 1, 1), 10957);
    assert_int_equal(sn_day_from_civil(9999, 12, 31), 2932896);
}

static void day_format_values(void **state)
{
    (void)state;
    char buf[SN_DAY_TEXT_MAX];
    static const struct {
        sn_day d;
        const char *text;
    } cases[] = {
        {0, "1970-01-01"},      {-1, "1969-12-31"},     {-3487, "1960-06-15"},
        {-25508, "1900-03-01"}, {10957, "2000-01-01"},  {11016, "2000-02-29"},
        {19782, "2024-02-29"},  {19845, "2024-05-02"},  {-719162, "0001-01-01"},
        {2932896, "9999-12-31"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(sn_day_format(cases[i].d, buf), 10);
        assert_string_equal(buf, cases[i].text);
    }
}

static void tz_parse(void **state)
{
    (void)state;
    char err[SN_ERRMSG_MAX];
    int m = 12345;
    assert_int_equal(sn_tz_parse("+08:00", &m, err, sizeof(err)), SN_OK);
    assert_int_equal(m, 480);
    assert_int_equal(sn_tz_parse("-05:00", &m, err, sizeof(err)), SN_OK);
    assert_int_equal(m, -300);
    assert_int_equal(sn_tz_parse("+05:30", &m, err, sizeof(err)), SN_OK);
    assert_int_equal(m, 330);
    assert_int_equal(sn_tz_parse("-09:30", &m, err, sizeof(err)), SN_OK);
    assert_int_equal(m, -570);
    assert_int_equal(sn_tz_parse("+0800", &m, err, sizeof(err)), SN_OK);
    assert_int_equal(m, 480);
    assert_int_equal(sn_tz_parse("+14:00", &m, err, sizeof(err)), SN_OK);
    assert_int_equal(m, 840);
    m = 7;
    assert_int_equal(sn_tz_parse("Z", &m, err, sizeof(err)), SN_OK);
    assert_int_equal(m, 0);
    m = 7;
    assert_int_equal(sn_tz_parse("+00:00", &m, err, sizeof(err)), SN_OK);
    assert_int_equal(m, 0);

    static const char *const bad[] = {"", "08:00", "+8:00", "+08:0", "+08", "+24:00", "+08:60",
                                      "+08:00x", "+08:00:00", "UTC", "ZZ", "+08-00", "+0a:00",
                                      "*08:00", "+08000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        m = 12345;
        err[0] = '\0';
        if (sn_tz_parse(bad[i], &m, err, sizeof(err)) != SN_EDATE)
            fail_msg("offset '%s' accepted as %d", bad[i], m);
        assert_true(err[0] != '\0');
    }
}

static void tz_and_time_format(void **state)
{
    (void)state;
    char tz[7], buf[SN_TIME_TEXT_MAX];
    sn_tz_format(480, tz);
    assert_string_equal(tz, "+08:00");
    sn_tz_format(-300, tz);
    assert_string_equal(tz, "-05:00");
    sn_tz_format(330, tz);
    assert_string_equal(tz, "+05:30");
    sn_tz_format(-570, tz);
    assert_string_equal(tz, "-09:30");
    sn_tz_format(0, tz);
    assert_string_equal(tz, "+00:00");

    assert_int_equal(sn_time_format(0, 0, buf), 20);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(sn_time_format(T_2024_05_01_10Z, 480, buf), 25);
    assert_string_equal(buf, "2024-05-01T18:00:00+08:00");
    assert_int_equal(sn_time_format(T_2024_05_01_10Z, -300, buf), 25);
    assert_string_equal(buf, "2024-05-01T05:00:00-05:00");
    sn_time_format(T_2024_05_01_10Z, 330, buf);
    assert_string_equal(buf, "2024-05-01T15:30:00+05:30");
    sn_time_format(1714579200LL, 480, buf); /* 16:00Z is the next day in +08:00 */
    assert_string_equal(buf, "2024-05-02T00:00:00+08:00");
    sn_time_format(1714579199LL, 480, buf);
    assert_string_equal(buf, "2024-05-01T23:59:59+08:00");
    sn_time_format(-1, 0, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    sn_time_format(-1, 480, buf);
    assert_string_equal(buf, "1970-01-01T07:59:59+08:00");
    /* the longest text fills the buffer exactly */
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(sn_time_format(253402300799LL - 8 * 3600, 480, buf), SN_TIME_TEXT_MAX - 1);
    assert_string_equal(buf, "9999-12-31T23:59:59+08:00");
    sn_time_format(-62135596800LL, 0, buf);
    assert_string_equal(buf, "0001-01-01T00:00:00Z");
}

static void time_format_parse_round_trip(void **state)
{
    (void)state;
    static const int zones[] = {-720, -300, 0, 330, 480, 840};
    char buf[SN_TIME_TEXT_MAX];
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        /* from 1901 to 2100 in uneven steps that hit every second of a minute */
        for (int64_t t = -2177452800LL; t < 4102444800LL; t += 86400LL * 37 + 3607) {
            size_t n = sn_time_format(t, zones[z], buf);
            int64_t back = 0;
            char err[SN_ERRMSG_MAX];
            if (sn_time_parse(buf, n, 0, &back, err, sizeof(err)) != SN_OK || back != t)
                fail_msg("%lld in %d: '%s' parsed back as %lld (%s)", (long long)t, zones[z], buf,
                         (long long)back, err);
        }
    }
}

/* The calendar's edges: an offset cannot carry an instant past 9999-12-31
 * or before 0001-01-01, RFC 3339 offsets need their colon (the --tz flag may
 * omit it), and a formatted time never reports more than it wrote. */
static void calendar_edges_and_strict_offsets(void **state)
{
    (void)state;
    char err[SN_ERRMSG_MAX], text[SN_TIME_TEXT_MAX];
    int64_t t;
    int tz;
    assert_int_equal(sn_time_parse("9999-12-31T23:00:00-05:00", 25, 0, &t, err, sizeof(err)), SN_EDATE);
    assert_int_equal(sn_time_parse("0001-01-01T01:00:00+05:00", 25, 0, &t, err, sizeof(err)), SN_EDATE);
    assert_int_equal(sn_time_parse("9999-12-31T23:00:00Z", 20, 0, &t, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_time_parse("2024-05-01T10:00:00+0800", 24, 0, &t, err, sizeof(err)), SN_EDATE);
    assert_int_equal(sn_tz_parse("+0800", &tz, err, sizeof(err)), SN_OK);
    assert_int_equal(tz, 480);
    assert_int_equal(sn_time_parse("9999-12-31T23:59:59Z", 20, 0, &t, err, sizeof(err)), SN_OK);
    size_t n = sn_time_format(t, 480, text); /* year 10000 in +08:00: truncated */
    assert_int_equal(n, strlen(text));
    assert_true(n < SN_TIME_TEXT_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_date_valid),
        cmocka_unit_test(full_date_invalid),
        cmocka_unit_test(date_time_offsets),
        cmocka_unit_test(full_date_as_time_is_start_of_jurisdiction_day),
        cmocka_unit_test(date_time_invalid),
        cmocka_unit_test(day_of_across_boundaries),
        cmocka_unit_test(day_start),
        cmocka_unit_test(every_day_round_trips),
        cmocka_unit_test(day_format_values),
        cmocka_unit_test(tz_parse),
        cmocka_unit_test(tz_and_time_format),
        cmocka_unit_test(time_format_parse_round_trip),
        cmocka_unit_test(calendar_edges_and_strict_offsets),
    };
    return sn_run_tests(tests);
}
