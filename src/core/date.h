/*
 * date.h - RFC 3339 dates and times, and calendar days in a jurisdiction (pure).
 *
 * Two kinds of time exist in secondnum:
 *   - an instant, int64 seconds since 1970-01-01T00:00:00Z (event times);
 *   - a calendar day, sn_day = days since 1970-01-01 *in the jurisdiction's
 *     time zone* (check dates, aging). A day is what the timeline rules count.
 * The jurisdiction's zone is a fixed UTC offset in minutes (+08:00 for China).
 * Only the Gregorian calendar from year 0001 to 9999 is accepted.
 */
#ifndef SN_DATE_H
#define SN_DATE_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t sn_day;

/* "No such day" (no activation yet, no cancellation yet). Compares below every day. */
#define SN_DAY_NONE INT32_MIN

/* "YYYY-MM-DD" plus NUL. */
#define SN_DAY_TEXT_MAX 11
/* "YYYY-MM-DDTHH:MM:SS+HH:MM" plus NUL. */
#define SN_TIME_TEXT_MAX 26

/* Parse an RFC 3339 full-date "YYYY-MM-DD" (exactly) into a day number.
 * Rejects impossible dates (2023-02-29, 2024-13-01). SN_OK or SN_EDATE. */
int sn_day_parse(const char *s, size_t len, sn_day *out, char *err, size_t errlen);

/* Parse an event time: an RFC 3339 date-time with offset ("2024-05-01T10:00:00Z",
 * "...+08:00", optional fraction, which is dropped) or a full-date, which means
 * the start of that day in the jurisdiction (tz_minutes east of UTC).
 * The instant must fall within 0001-01-01..9999-12-31 UTC.
 * SN_OK or SN_EDATE. */
int sn_time_parse(const char *s, size_t len, int tz_minutes, int64_t *out, char *err,
                  size_t errlen);

/* Parse a UTC offset "+08:00", "-05:00", "Z" or "+0800" into minutes east. */
int sn_tz_parse(const char *s, int *minutes, char *err, size_t errlen);

/* The jurisdiction's calendar day of an instant. */
sn_day sn_day_of(int64_t unix_seconds, int tz_minutes);

/* The instant at which a jurisdiction day starts. */
int64_t sn_day_start(sn_day day, int tz_minutes);

/* Days from civil date (proleptic Gregorian); month 1-12, day 1-31, no checks. */
sn_day sn_day_from_civil(int year, int month, int mday);

/* "YYYY-MM-DD" into buf (SN_DAY_TEXT_MAX bytes); returns the length (10). */
size_t sn_day_format(sn_day day, char *buf);

/* "YYYY-MM-DDTHH:MM:SS+HH:MM" of an instant in the given zone (SN_TIME_TEXT_MAX bytes);
 * returns the length written (truncated at the buffer for years past 9999). */
size_t sn_time_format(int64_t unix_seconds, int tz_minutes, char *buf);

/* "YYYY-MM-DDTHH:MM:SSZ" of an instant (SN_TIME_TEXT_MAX bytes); returns the
 * length. */
size_t sn_utc_format(int64_t unix_seconds, char *buf);

/* "+08:00" (7 bytes with NUL). */
void sn_tz_format(int tz_minutes, char *buf);

#endif
