/* test_flatjson.c - the strict flat-object parser used by the check endpoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "http/flatjson.h"

#include <string.h>

static char err[SN_ERRMSG_MAX];

static int parse(const char *body, sn_flat_field *f)
{
    static char scratch[2048];
    f[0] = (sn_flat_field){"phoneNumber", NULL, 0, 0};
    f[1] = (sn_flat_field){"specifiedDate", NULL, 0, 0};
    return sn_flatjson_parse(body, strlen(body), f, 2, scratch, sizeof(scratch), err, sizeof(err));
}

static void accepts_both_fields(void **state)
{
    (void)state;
    sn_flat_field f[2];
    assert_int_equal(
        parse(" {\"phoneNumber\" : \"+8613800000001\",\n\"specifiedDate\":\"2024-05-01\"} ", f),
        SN_OK);
    assert_string_equal(f[0].value, "+8613800000001");
    assert_int_equal(f[0].len, 14);
    assert_string_equal(f[1].value, "2024-05-01");
}

static void absent_fields_are_null(void **state)
{
    (void)state;
    sn_flat_field f[2];
    assert_int_equal(parse("{}", f), SN_OK);
    assert_null(f[0].value);
    assert_null(f[1].value);
    assert_int_equal(parse("{\"specifiedDate\":\"2024-05-01\"}", f), SN_OK);
    assert_null(f[0].value);
}

static void decodes_escapes(void **state)
{
    (void)state;
    sn_flat_field f[2];
    assert_int_equal(parse("{\"phoneNumber\":\"\\u002b86\\/\\\"\\\\\\n\\ud83d\\ude00\"}", f),
                     SN_OK);
    assert_string_equal(f[0].value, "+86/\"\\\n\xf0\x9f\x98\x80");
}

static void rejects_with_reason(const char *body, const char *reason)
{
    sn_flat_field f[2];
    assert_int_equal(parse(body, f), SN_EINVAL);
    if (strstr(err, reason) == NULL)
        fail_msg("'%s': expected '%s' in '%s'", body, reason, err);
}

static void rejects_bad_bodies(void **state)
{
    (void)state;
    rejects_with_reason("", "empty");
    rejects_with_reason("   ", "empty");
    rejects_with_reason("[]", "not an array");
    rejects_with_reason("\"x\"", "not a string");
    rejects_with_reason("{\"x\":\"1\"}", "unknown property 'x'");
    rejects_with_reason("{\"phoneNumber\":1}", "must be a string, not a number");
    rejects_with_reason("{\"phoneNumber\":null}", "not null");
    rejects_with_reason("{\"phoneNumber\":true}", "not a boolean");
    rejects_with_reason("{\"phoneNumber\":{}}", "not an object");
    rejects_with_reason("{\"phoneNumber\":\"a\",\"phoneNumber\":\"b\"}", "appears twice");
    rejects_with_reason("{\"phoneNumber\":\"a\"", "expected ',' or '}'");
    rejects_with_reason("{\"phoneNumber\":\"a\"} x", "text after");
    rejects_with_reason("{\"phoneNumber\":\"a\",}", "property name");
    rejects_with_reason("{\"phoneNumber\" \"a\"}", "expected ':'");
    rejects_with_reason("{\"phoneNumber\":\"a\nb\"}", "malformed JSON string");
    rejects_with_reason("{\"phoneNumber\":\"\\x\"}", "malformed JSON string");
    rejects_with_reason("{\"phoneNumber\":\"\\ud800\"}", "malformed JSON string");
    rejects_with_reason("{\"phoneNumber\":\"unterminated}", "malformed JSON string");
}

static void long_values_do_not_overflow(void **state)
{
    (void)state;
    char body[4096], scratch[64];
    sn_flat_field f[1] = {{"phoneNumber", NULL, 0, 0}};
    memset(body, 'a', sizeof(body));
    memcpy(body, "{\"phoneNumber\":\"", 16);
    memcpy(body + sizeof(body) - 3, "\"}", 2);
    body[sizeof(body) - 1] = '\0';
    assert_int_equal(
        sn_flatjson_parse(body, strlen(body), f, 1, scratch, sizeof(scratch), err, sizeof(err)),
        SN_EINVAL);
}

/* A string is read a run of plain bytes at a time: whatever breaks a run
 * (an escape, a control character, a byte that never leads UTF-8) is found
 * at every position of values from 0 to 40 bytes long. */
static void strings_read_in_runs(void **state)
{
    (void)state;
    static const struct {
        const char *put, *decoded; /* decoded NULL: refused */
    } breaks[] = {{"\\\"", "\""}, {"\\\\", "\\"}, {"\\u00e9", "\xc3\xa9"}, {"\xc3\xa9", "\xc3\xa9"},
                  {"\x01", NULL}, {"\x1f", NULL}, {"\xc0", NULL},          {"\xc1", NULL},
                  {"\xf5", NULL}, {"\xff", NULL}};
    for (size_t b = 0; b < sizeof(breaks) / sizeof(breaks[0]); b++)
        for (size_t len = 1; len <= 40; len++)
            for (size_t k = 0; k < len; k++) {
                char as[64], value[64], want[64], body[160];
                sn_flat_field f[2];
                memset(as, 'a', len);
                as[len] = '\0';
                /* k plain bytes, the break, the rest of len plain */
                snprintf(value, sizeof(value), "%.*s%s%s", (int)k, as, breaks[b].put, as + k + 1);
                snprintf(want, sizeof(want), "%.*s%s%s", (int)k, as,
                         breaks[b].decoded ? breaks[b].decoded : "", as + k + 1);
                snprintf(body, sizeof(body), "{\"phoneNumber\":\"%s\"}", value);
                int rc = parse(body, f);
                if (breaks[b].decoded == NULL) {
                    if (rc != SN_EINVAL)
                        fail_msg("break %zu at %zu of %zu accepted", b, k, len);
                    continue;
                }
                if (rc != SN_OK || strcmp(f[0].value, want) != 0 || f[0].len != strlen(want))
                    fail_msg("break %zu at %zu of %zu: rc %d", b, k, len, rc);
            }
}

/* The decoded values and their NULs must fit the scratch, to the byte. */
static void scratch_fits_to_the_byte(void **state)
{
    (void)state;
    for (size_t len = 0; len <= 20; len++) {
        char body[64], scratch[64];
        sn_flat_field f[1] = {{"phoneNumber", NULL, 0, 0}};
        snprintf(body, sizeof(body), "{\"phoneNumber\":\"%.*s\"}", (int)len,
                 "12345678901234567890");
        size_t need = strlen("phoneNumber") + 1 + len + 1;
        assert_int_equal(
            sn_flatjson_parse(body, strlen(body), f, 1, scratch, need, err, sizeof(err)), SN_OK);
        assert_int_equal(f[0].len, len);
        assert_int_equal(
            sn_flatjson_parse(body, strlen(body), f, 1, scratch, need - 1, err, sizeof(err)),
            SN_EINVAL);
    }
}

/* An array's elements end where their text ends, whatever the strings in
 * them hold and wherever a string's quote falls against 8-byte words. */
static void array_elements_end_right(void **state)
{
    (void)state;
    for (size_t len = 0; len <= 24; len++)
        for (size_t k = 0; k <= len; k++) {
            char s[64], a[64], body[256];
            sn_flat_span items[4];
            size_t n = 0;
            memset(s, 'x', len);
            s[len] = '\0';
            /* an escaped quote, then an escaped backslash at k */
            snprintf(a, sizeof(a), "%.*s\\\"%s\\\\", (int)k, s, s + k);
            int at = snprintf(body, sizeof(body), "{\"items\":[{\"n\":\"%s\"},\"%s\",[\"%s\"]]}", a,
                              s, a);
            assert_int_equal(sn_flatjson_array(body, (size_t)at, "items", items, 4, 4, &n), SN_OK);
            assert_int_equal(n, 3);
            assert_int_equal(items[0].end - items[0].start, (long)strlen(a) + 8);
            assert_int_equal(items[1].end - items[1].start, (long)len + 2);
            assert_int_equal(items[2].end - items[2].start, (long)strlen(a) + 4);
            body[at - 3] = '\0'; /* the last string cut: unterminated */
            assert_int_equal(sn_flatjson_array(body, (size_t)at - 3, "items", items, 4, 4, &n),
                             SN_EINVAL);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_both_fields),
        cmocka_unit_test(absent_fields_are_null),
        cmocka_unit_test(decodes_escapes),
        cmocka_unit_test(rejects_bad_bodies),
        cmocka_unit_test(long_values_do_not_overflow),
        cmocka_unit_test(strings_read_in_runs),
        cmocka_unit_test(scratch_fits_to_the_byte),
        cmocka_unit_test(array_elements_end_right),
    };
    return sn_run_tests(tests);
}
