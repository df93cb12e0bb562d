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
    assert_int_equal(parse(" {\"phoneNumber\" : \"+8613800000001\",\n\"specifiedDate\":\"2024-05-01\"} ", f), SN_OK);
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
    assert_int_equal(parse("{\"phoneNumber\":\"\\u002b86\\/\\\"\\\\\\n\\ud83d\\ude00\"}", f), SN_OK);
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
    assert_int_equal(sn_flatjson_parse(body, strlen(body), f, 1, scratch, sizeof(scratch), err,
                                       sizeof(err)),
                     SN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_both_fields),
        cmocka_unit_test(absent_fields_are_null),
        cmocka_unit_test(decodes_escapes),
        cmocka_unit_test(rejects_bad_bodies),
        cmocka_unit_test(long_values_do_not_overflow),
    };
    return sn_run_tests(tests);
}
