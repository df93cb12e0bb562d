/* test_number.c - core/number.c: E.164 parsing (length limits 5..15, no
 * leading 0 country code, digits only, empty and lone '+'), the national forms
 * with a default country (China 11 digits starting 1, NANP 10 digits, other
 * countries with one trunk 0), default_cc 0 refusing national numbers,
 * formatting and its round trip, prefixes and country codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "core/number.h"

#include <stdio.h>
#include <string.h>

/* Sentinel written into *out before each parse: a rejection must leave it alone. */
#define UNTOUCHED 424242ull

/* Parse s with default country cc; on SN_OK return the number, otherwise
 * check the code is SN_ENUMBER, a message was written and *out untouched. */
static sn_number ok(const char *s, unsigned cc)
{
    char err[SN_ERRMSG_MAX] = "";
    sn_number n = UNTOUCHED;
    int rc = sn_number_parse(s, strlen(s), cc, &n, err, sizeof(err));
    if (rc != SN_OK)
        fail_msg("'%s' (default cc %u) rejected: %d %s", s, cc, rc, err);
    return n;
}

static void bad(const char *s, unsigned cc)
{
    char err[SN_ERRMSG_MAX] = "";
    sn_number n = UNTOUCHED;
    int rc = sn_number_parse(s, strlen(s), cc, &n, err, sizeof(err));
    if (rc != SN_ENUMBER)
        fail_msg("'%s' (default cc %u): expected SN_ENUMBER, got %d (value %llu)", s, cc, rc,
                 (unsigned long long)n);
    assert_int_equal(n, UNTOUCHED);
    assert_true(err[0] != '\0');
}

static void e164_valid(void **state)
{
    (void)state;
    assert_int_equal(ok("+8613812345678", 86), 8613812345678ull);
    assert_int_equal(ok("+8613812345678", 0), 8613812345678ull);
    assert_int_equal(ok("+8613812345678", 1), 8613812345678ull); /* E.164 ignores the default */
    assert_int_equal(ok("+12025550123", 86), 12025550123ull);
    assert_int_equal(ok("+447911123456", 0), 447911123456ull);
    assert_int_equal(ok("+12345", 0), 12345ull);                     /* 5 digits: the minimum */
    assert_int_equal(ok("+123456789012345", 0), 123456789012345ull); /* 15: the maximum */
    assert_int_equal(ok("+999999999999999", 0), 999999999999999ull);
    assert_int_equal(ok("+100000000000000", 0), 100000000000000ull); /* zeros after the first */
}

static void e164_invalid(void **state)
{
    (void)state;
    bad("+1234", 0); /* 4 digits: too short */
    bad("+1", 86);
    bad("+1234567890123456", 0); /* 16 digits: too long */
    bad("+12345678901234567890", 0);
    bad("+0123456789", 0); /* a country code never starts with 0 */
    bad("+08613812345678", 86);
    bad("+00000", 0);
    bad("+86 13812345678", 86); /* no separators */
    bad("+86-138-1234-5678", 86);
    bad("+8613812345678 ", 86);
    bad("+86138123456a8", 86);
    bad("++8613812345678", 86);
    bad("+", 0); /* lone '+' */
    bad("+", 86);
    bad("", 0); /* empty */
    bad("", 86);
}

static void empty_and_null_input(void **state)
{
    (void)state;
    char err[SN_ERRMSG_MAX] = "";
    sn_number n = UNTOUCHED;
    assert_int_equal(sn_number_parse(NULL, 0, 86, &n, err, sizeof(err)), SN_ENUMBER);
    assert_int_equal(n, UNTOUCHED);
    assert_non_null(strstr(err, "empty"));
    /* a length of 0 means empty, whatever the pointer holds */
    assert_int_equal(sn_number_parse("+8613812345678", 0, 86, &n, err, sizeof(err)), SN_ENUMBER);
    assert_int_equal(n, UNTOUCHED);
    /* only len bytes are read */
    assert_int_equal(sn_number_parse("+8613812345678XYZ", 14, 86, &n, err, sizeof(err)), SN_OK);
    assert_int_equal(n, 8613812345678ull);
    /* no message buffer is fine */
    assert_int_equal(sn_number_parse("+1", 2, 0, &n, NULL, 0), SN_ENUMBER);
}

static void error_messages_say_why(void **state)
{
    (void)state;
    char err[SN_ERRMSG_MAX];
    sn_number n;
    assert_int_equal(sn_number_parse("+0123456789", 11, 0, &n, err, sizeof(err)), SN_ENUMBER);
    assert_non_null(strstr(err, "never starts with 0"));
    assert_int_equal(sn_number_parse("+1234", 5, 0, &n, err, sizeof(err)), SN_ENUMBER);
    assert_non_null(strstr(err, "4 digits"));
    assert_int_equal(sn_number_parse("13812345678", 11, 0, &n, err, sizeof(err)), SN_ENUMBER);
    assert_non_null(strstr(err, "E.164"));
    /* a tiny buffer is truncated, never overflowed */
    char tiny[4] = {'x', 'x', 'x', 'x'};
    assert_int_equal(sn_number_parse("+1234", 5, 0, &n, tiny, sizeof(tiny)), SN_ENUMBER);
    assert_int_equal(tiny[3], '\0');
}

static void china_national(void **state)
{
    (void)state;
    assert_int_equal(ok("13812345678", 86), 8613812345678ull);
    assert_int_equal(ok("19912345678", 86), 8619912345678ull);
    assert_int_equal(ok("10000000000", 86), 8610000000000ull);
    bad("1381234567", 86);    /* 10 digits */
    bad("138123456789", 86);  /* 12 digits */
    bad("23812345678", 86);   /* does not start with 1 */
    bad("03812345678", 86);   /* no trunk prefix for Chinese mobiles */
    bad("8613812345678", 86); /* country code without '+' is not national */
    bad("138 1234 5678", 86);
    bad("1381234567a", 86);
}

static void nanp_national(void **state)
{
    (void)state;
    assert_int_equal(ok("2025550123", 1), 12025550123ull);
    assert_int_equal(ok("9999999999", 1), 19999999999ull);
    assert_int_equal(ok("2022000000", 1), 12022000000ull);
    bad("1025550123", 1);  /* area code starts with 1 */
    bad("0025550123", 1);  /* area code starts with 0 */
    bad("2021550123", 1);  /* exchange starts with 1 */
    bad("2020550123", 1);  /* exchange starts with 0 */
    bad("202555012", 1);   /* 9 digits */
    bad("20255501234", 1); /* 11 digits */
    bad("12025550123", 1); /* with the country code but no '+' */
    bad("202-555-0123", 1);
}

static void other_country_trunk_zero(void **state)
{
    (void)state;
    /* UK: one trunk 0 is dropped, or absent */
    assert_int_equal(ok("07911123456", 44), 447911123456ull);
    assert_int_equal(ok("7911123456", 44), 447911123456ull);
    /* France, Germany, a three-digit country code */
    assert_int_equal(ok("0612345678", 33), 33612345678ull);
    assert_int_equal(ok("015112345678", 49), 4915112345678ull);
    assert_int_equal(ok("0771234567", 355), 355771234567ull);
    bad("007911123456", 44); /* only one trunk 0 */
    bad("0", 44);            /* nothing after the trunk */
    bad("00", 44);
    /* length with the country code: 5 to 15 digits */
    assert_int_equal(ok("123", 44), 44123ull);  /* 2 + 3 = 5 */
    bad("12", 44);                              /* 2 + 2 = 4 */
    assert_int_equal(ok("0123", 44), 44123ull); /* trunk does not count */
    bad("012", 44);
    assert_int_equal(ok("1234567890123", 44), 441234567890123ull); /* 2 + 13 = 15 */
    bad("12345678901234", 44);                                     /* 2 + 14 = 16 */
    assert_int_equal(ok("01234567890123", 44), 441234567890123ull);
    assert_int_equal(ok("123456789012", 355), 355123456789012ull); /* 3 + 12 = 15 */
    bad("1234567890123", 355);
    bad("7911 123456", 44);
    bad("+", 44);
}

static void national_rejected_without_default_country(void **state)
{
    (void)state;
    bad("13812345678", 0);
    bad("2025550123", 0);
    bad("07911123456", 0);
    bad("8613812345678", 0);
    assert_int_equal(ok("+8613812345678", 0), 8613812345678ull);
}

static void format_values(void **state)
{
    (void)state;
    char buf[SN_NUMBER_TEXT_MAX];
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(sn_number_format(8613812345678ull, buf), 14);
    assert_string_equal(buf, "+8613812345678");
    assert_int_equal(sn_number_format(12345ull, buf), 6);
    assert_string_equal(buf, "+12345");
    assert_int_equal(sn_number_format(100000000000000ull, buf), 16);
    assert_string_equal(buf, "+100000000000000");
    /* the longest number fills the buffer exactly */
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(sn_number_format(999999999999999ull, buf), SN_NUMBER_TEXT_MAX - 1);
    assert_string_equal(buf, "+999999999999999");
    /* every length, and every power of ten and the number below it */
    char want[32];
    for (sn_number p = 10; p <= 1000000000000000ull; p *= 10) {
        for (sn_number n = p - 1; n <= p && n < 1000000000000000ull; n++) {
            snprintf(want, sizeof(want), "+%llu", (unsigned long long)n);
            assert_int_equal(sn_number_format(n, buf), strlen(want));
            assert_string_equal(buf, want);
        }
    }
    assert_int_equal(sn_number_format(0, buf), 2);
    assert_string_equal(buf, "+0");
}

static void format_parse_round_trip(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "+12345",           "+8613812345678",   "+12025550123", "+447911123456", "+123456789012345",
        "+999999999999999", "+100000000000000", "+10000",       "+3556000000",   "+90500000001",
    };
    char buf[SN_NUMBER_TEXT_MAX];
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        sn_number n = ok(texts[i], 0);
        size_t len = sn_number_format(n, buf);
        assert_int_equal(len, strlen(texts[i]));
        assert_string_equal(buf, texts[i]);
    }
    /* number -> text -> number over a spread of values of every length */
    for (sn_number n = 10000ull; n <= 999999999999999ull; n = n * 7 + 3) {
        char err[SN_ERRMSG_MAX];
        sn_number back = 0;
        size_t len = sn_number_format(n, buf);
        assert_int_equal(len, strlen(buf));
        assert_int_equal(sn_number_parse(buf, len, 0, &back, err, sizeof(err)), SN_OK);
        assert_int_equal(back, n);
    }
    /* national in, E.164 out */
    sn_number_format(ok("13812345678", 86), buf);
    assert_string_equal(buf, "+8613812345678");
    sn_number_format(ok("07911123456", 44), buf);
    assert_string_equal(buf, "+447911123456");
    sn_number_format(ok("2025550123", 1), buf);
    assert_string_equal(buf, "+12025550123");
}

static void prefixes_and_country_codes(void **state)
{
    (void)state;
    assert_true(sn_number_prefix_valid("+86138"));
    assert_true(sn_number_prefix_valid("+1"));
    assert_true(sn_number_prefix_valid("+123456789012345"));
    assert_false(sn_number_prefix_valid("+1234567890123456"));
    assert_false(sn_number_prefix_valid("+"));
    assert_false(sn_number_prefix_valid(""));
    assert_false(sn_number_prefix_valid("+0"));
    assert_false(sn_number_prefix_valid("+086"));
    assert_false(sn_number_prefix_valid("86138"));
    assert_false(sn_number_prefix_valid("+86 138"));
    assert_false(sn_number_prefix_valid("+86a"));

    assert_false(sn_country_code_valid(0));
    assert_true(sn_country_code_valid(1));
    assert_true(sn_country_code_valid(86));
    assert_true(sn_country_code_valid(999));
    assert_false(sn_country_code_valid(1000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(e164_valid),
        cmocka_unit_test(e164_invalid),
        cmocka_unit_test(empty_and_null_input),
        cmocka_unit_test(error_messages_say_why),
        cmocka_unit_test(china_national),
        cmocka_unit_test(nanp_national),
        cmocka_unit_test(other_country_trunk_zero),
        cmocka_unit_test(national_rejected_without_default_country),
        cmocka_unit_test(format_values),
        cmocka_unit_test(format_parse_round_trip),
        cmocka_unit_test(prefixes_and_country_codes),
    };
    return sn_run_tests(tests);
}
