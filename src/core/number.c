/*
 * number.c - E.164 and national number parsing (see number.h).
 *
 * Strict on purpose: the ledger must never file an event under a number that
 * differs from the one the carrier meant. Thread-safe: no state.
 */
#include "core/number.h"

#include "core/errors.h"

#include <stdio.h>
#include <string.h>

#define E164_MIN_DIGITS 5
#define E164_MAX_DIGITS 15

static int all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static sn_number digits_value(const char *s, size_t len)
{
    sn_number v = 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (sn_number)(s[i] - '0');
    return v;
}

static unsigned count_digits(sn_number v)
{
    unsigned n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static sn_number pow10u(unsigned e)
{
    sn_number v = 1;
    while (e-- > 0)
        v *= 10;
    return v;
}

int sn_country_code_valid(unsigned cc)
{
    return cc >= 1 && cc <= 999;
}

static int parse_e164(const char *s, size_t len, sn_number *out, char *err, size_t errlen)
{
    const char *d = s + 1;
    size_t n = len - 1;
    if (n == 0 || !all_digits(d, n))
        return sn_fail(err, errlen, SN_ENUMBER,
                       "number '%.*s' has characters other than digits after '+'",
                       (int)(len > 32 ? 32 : len), s);
    if (d[0] == '0')
        return sn_fail(err, errlen, SN_ENUMBER, "number '%.*s': a country code never starts with 0",
                       (int)len, s);
    if (n < E164_MIN_DIGITS || n > E164_MAX_DIGITS)
        return sn_fail(err, errlen, SN_ENUMBER,
                       "number '%.*s' has %zu digits; E.164 allows %d to %d",
                       (int)(len > 32 ? 32 : len), s, n, E164_MIN_DIGITS, E164_MAX_DIGITS);
    *out = digits_value(d, n);
    return SN_OK;
}

static int parse_national(const char *s, size_t len, unsigned cc, sn_number *out, char *err,
                          size_t errlen)
{
    if (!all_digits(s, len))
        return sn_fail(err, errlen, SN_ENUMBER,
                       "number '%.*s' is neither E.164 (+ and digits) nor national digits",
                       (int)(len > 32 ? 32 : len), s);
    if (cc == 86) {
        if (len != 11 || s[0] != '1')
            return sn_fail(err, errlen, SN_ENUMBER,
                           "number '%.*s' is not a Chinese mobile number (11 digits starting "
                           "with 1) nor E.164",
                           (int)(len > 32 ? 32 : len), s);
    } else if (cc == 1) {
        if (len != 10 || s[0] < '2' || s[3] < '2')
            return sn_fail(err, errlen, SN_ENUMBER,
                           "number '%.*s' is not a NANP number (10 digits, area code and "
                           "exchange starting 2-9) nor E.164",
                           (int)(len > 32 ? 32 : len), s);
    } else {
        if (len > 1 && s[0] == '0') { /* one trunk prefix */
            s++;
            len--;
        }
        if (len == 0 || s[0] == '0')
            return sn_fail(err, errlen, SN_ENUMBER,
                           "number '%.*s' has no national significant digits", (int)len, s);
    }
    unsigned ccd = count_digits(cc);
    if (len + ccd < E164_MIN_DIGITS || len + ccd > E164_MAX_DIGITS)
        return sn_fail(err, errlen, SN_ENUMBER,
                       "number '%.*s' with country code %u is not 5 to 15 digits",
                       (int)(len > 32 ? 32 : len), s, cc);
    *out = (sn_number)cc * pow10u((unsigned)len) + digits_value(s, len);
    return SN_OK;
}

int sn_number_parse(const char *s, size_t len, unsigned default_cc, sn_number *out, char *err,
                    size_t errlen)
{
    if (s == NULL || len == 0)
        return sn_fail(err, errlen, SN_ENUMBER, "empty number");
    if (s[0] == '+')
        return parse_e164(s, len, out, err, errlen);
    if (default_cc == 0)
        return sn_fail(err, errlen, SN_ENUMBER, "number '%.*s' must be E.164 (start with +)",
                       (int)(len > 32 ? 32 : len), s);
    return parse_national(s, len, default_cc, out, err, errlen);
}

size_t sn_number_format(sn_number n, char *buf)
{
    /* by hand, two digits a step: this runs for every answer on the check
     * path, and a digit a step was a chain of 15 divisions */
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    static const uint64_t pow10[E164_MAX_DIGITS] = {
        1ull,           10ull,           100ull,           1000ull,           10000ull,
        100000ull,      1000000ull,      10000000ull,      100000000ull,      1000000000ull,
        10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull, 100000000000000ull};
    size_t len = 1; /* digits: at most E164_MAX_DIGITS, the lowest of a longer value */
    while (len < E164_MAX_DIGITS && n >= pow10[len])
        len++;
    char *q = buf + 1 + len;
    *q = '\0';
    for (size_t left = len; left > 0;) {
        if (left == 1) {
            *--q = (char)('0' + n % 10);
            break;
        }
        q -= 2;
        memcpy(q, pairs + 2 * (n % 100), 2);
        n /= 100;
        left -= 2;
    }
    buf[0] = '+';
    return len + 1;
}

int sn_number_prefix_valid(const char *p)
{
    size_t n = strlen(p);
    if (n < 2 || n > E164_MAX_DIGITS + 1 || p[0] != '+' || p[1] == '0')
        return 0;
    return all_digits(p + 1, n - 1);
}
