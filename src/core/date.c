/*
 * date.c - RFC 3339 parsing and day arithmetic (see date.h).
 *
 * Day numbers use a March-based year internally: with March first, the leap
 * day is the last day of the year and every month length follows a fixed
 * 153-days-per-5-months pattern, so conversion is a few integer operations
 * with no tables and no libc time functions (which depend on the process's
 * TZ and are not thread-safe everywhere). Thread-safe: no state.
 */
#include "core/date.h"

#include "core/errors.h"

#include <stdio.h>
#include <string.h>

#define SECONDS_PER_DAY 86400
#define DAYS_PER_400_YEARS 146097
/* Days from 0000-03-01 to 1970-01-01. */
#define EPOCH_SHIFT 719468

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_length(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

static int floor_div(int64_t a, int64_t b)
{
    return (int)(a >= 0 ? a / b : -((-a + b - 1) / b));
}

sn_day sn_day_from_civil(int year, int month, int mday)
{
    int y = month <= 2 ? year - 1 : year; /* year starting in March */
    int era = floor_div(y, 400);
    int year_of_era = y - era * 400;    /* 0..399 */
    int march_month = (month + 9) % 12; /* March = 0 ... February = 11 */
    int day_of_year = (153 * march_month + 2) / 5 + mday - 1;
    int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return (sn_day)(era * DAYS_PER_400_YEARS + day_of_era - EPOCH_SHIFT);
}

static void civil_from_day(sn_day day, int *year, int *month, int *mday)
{
    int64_t z = (int64_t)day + EPOCH_SHIFT;
    int era = floor_div(z, DAYS_PER_400_YEARS);
    int day_of_era = (int)(z - (int64_t)era * DAYS_PER_400_YEARS);
    int year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int march_month = (5 * day_of_year + 2) / 153;
    *mday = day_of_year - (153 * march_month + 2) / 5 + 1;
    *month = march_month < 10 ? march_month + 3 : march_month - 9;
    *year = year_of_era + era * 400 + (*month <= 2);
}

/* Read exactly n digits at s into *v. */
static int read_digits(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

/* "YYYY-MM-DD" at s (at least 10 chars available). */
static int parse_full_date(const char *s, sn_day *out)
{
    int y, m, d;
    if (!read_digits(s, 4, &y) || s[4] != '-' || !read_digits(s + 5, 2, &m) || s[7] != '-' ||
        !read_digits(s + 8, 2, &d))
        return 0;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > month_length(y, m))
        return 0;
    *out = sn_day_from_civil(y, m, d);
    return 1;
}

int sn_day_parse(const char *s, size_t len, sn_day *out, char *err, size_t errlen)
{
    if (len != 10 || !parse_full_date(s, out))
        return sn_fail(err, errlen, SN_EDATE, "'%.*s' is not a valid date (YYYY-MM-DD)",
                       (int)(len > 40 ? 40 : len), s);
    return SN_OK;
}

/* "+HH:MM", "-HH:MM" or "Z"/"z" at s with n chars; "+HHMM" too when
 * compact is set (the --tz flag, not RFC 3339 times). */
static int parse_offset(const char *s, size_t n, int compact, int *minutes)
{
    int h, m;
    if (n == 1 && (s[0] == 'Z' || s[0] == 'z')) {
        *minutes = 0;
        return 1;
    }
    if (n != 6 && !(compact && n == 5))
        return 0;
    if (s[0] != '+' && s[0] != '-')
        return 0;
    if (!read_digits(s + 1, 2, &h))
        return 0;
    if (n == 6 ? (s[3] != ':' || !read_digits(s + 4, 2, &m)) : !read_digits(s + 3, 2, &m))
        return 0;
    if (h > 23 || m > 59)
        return 0;
    *minutes = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
    return 1;
}

int sn_tz_parse(const char *s, int *minutes, char *err, size_t errlen)
{
    size_t n = 0;
    while (s[n] != '\0' && n < 8)
        n++;
    if (!parse_offset(s, n, 1, minutes))
        return sn_fail(err, errlen, SN_EDATE, "'%s' is not a UTC offset like +08:00 or Z", s);
    return SN_OK;
}

int sn_time_parse(const char *s, size_t len, int tz_minutes, int64_t *out, char *err, size_t errlen)
{
    sn_day day;
    int hh, mm, ss, off;
    size_t i = 19;

    if (len == 10) {
        if (!parse_full_date(s, &day))
            goto bad;
        *out = sn_day_start(day, tz_minutes);
        return SN_OK;
    }
    if (len < 20 || !parse_full_date(s, &day))
        goto bad;
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !read_digits(s + 11, 2, &hh) ||
        s[13] != ':' || !read_digits(s + 14, 2, &mm) || s[16] != ':' ||
        !read_digits(s + 17, 2, &ss))
        goto bad;
    if (hh > 23 || mm > 59 || ss > 60) /* 60: a leap second, folded into :59 */
        goto bad;
    if (ss == 60)
        ss = 59;
    if (s[i] == '.') {
        i++;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            goto bad;
    }
    if (!parse_offset(s + i, len - i, 0, &off))
        goto bad;
    *out = (int64_t)day * SECONDS_PER_DAY + hh * 3600 + mm * 60 + ss - (int64_t)off * 60;
    /* the offset can move the instant out of 0001..9999: outside the calendar we format */
    if (sn_day_of(*out, 0) < sn_day_from_civil(1, 1, 1) ||
        sn_day_of(*out, 0) > sn_day_from_civil(9999, 12, 31))
        goto bad;
    return SN_OK;
bad:
    return sn_fail(err, errlen, SN_EDATE,
                   "'%.*s' is not an RFC 3339 date (YYYY-MM-DD) or date-time with offset "
                   "(YYYY-MM-DDTHH:MM:SS+08:00)",
                   (int)(len > 40 ? 40 : len), s);
}

sn_day sn_day_of(int64_t unix_seconds, int tz_minutes)
{
    int64_t local = unix_seconds + (int64_t)tz_minutes * 60;
    return (sn_day)floor_div(local, SECONDS_PER_DAY);
}

int64_t sn_day_start(sn_day day, int tz_minutes)
{
    return (int64_t)day * SECONDS_PER_DAY - (int64_t)tz_minutes * 60;
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

size_t sn_day_format(sn_day day, char *buf)
{
    int y, m, d;
    civil_from_day(day, &y, &m, &d);
    if (y < 0 || y > 9999) { /* outside RFC 3339: no input ever makes one, but stay defined */
        int w = snprintf(buf, SN_DAY_TEXT_MAX, "%04d-%02d-%02d", y % 10000, m, d);
        return w < 0 ? 0 : (size_t)w;
    }
    put2(buf, y / 100); /* by hand: this runs for every answer on the check path */
    put2(buf + 2, y % 100);
    buf[4] = '-';
    put2(buf + 5, m);
    buf[7] = '-';
    put2(buf + 8, d);
    buf[10] = '\0';
    return 10;
}

void sn_tz_format(int tz_minutes, char *buf)
{
    int a = tz_minutes < 0 ? -tz_minutes : tz_minutes;
    snprintf(buf, 7, "%c%02d:%02d", tz_minutes < 0 ? '-' : '+', (a / 60) % 100, a % 60);
}

size_t sn_time_format(int64_t unix_seconds, int tz_minutes, char *buf)
{
    int64_t local = unix_seconds + (int64_t)tz_minutes * 60;
    sn_day day = (sn_day)floor_div(local, SECONDS_PER_DAY);
    int sec = (int)(local - (int64_t)day * SECONDS_PER_DAY);
    char tz[7];
    int y, m, d;
    civil_from_day(day, &y, &m, &d);
    sn_tz_format(tz_minutes, tz);
    int w = snprintf(buf, SN_TIME_TEXT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d%s", y, m, d, sec / 3600,
                     (sec / 60) % 60, sec % 60, tz_minutes == 0 ? "Z" : tz);
    if (w < 0)
        return 0;
    return (size_t)w < SN_TIME_TEXT_MAX ? (size_t)w : SN_TIME_TEXT_MAX - 1; /* what was written */
}

size_t sn_utc_format(int64_t t, char *buf)
{
    size_t n = sn_time_format(t, 0, buf);
    if (n >= 6 && strcmp(buf + n - 6, "+00:00") == 0) {
        buf[n - 6] = 'Z';
        buf[n - 5] = '\0';
        n -= 5;
    }
    return n;
}
