/* test_csv.c - in-place CSV splitting and quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "feed/csv.h"

#include <string.h>

static char err[SN_ERRMSG_MAX];

static size_t split(char *line, sn_csv_field *f, int expect_rc)
{
    size_t n = 0;
    assert_int_equal(sn_csv_split(line, strlen(line), f, SN_CSV_FIELDS_MAX, &n, err, sizeof(err)),
                     expect_rc);
    return n;
}

static void plain_and_empty_fields(void **state)
{
    (void)state;
    char line[] = "+8613800000001,activate,,2024-01-01\r";
    sn_csv_field f[SN_CSV_FIELDS_MAX];
    assert_int_equal(split(line, f, SN_OK), 4);
    assert_int_equal(f[0].len, 14);
    assert_memory_equal(f[1].s, "activate", 8);
    assert_int_equal(f[2].len, 0);
    assert_int_equal(f[3].len, 10); /* the CR is not part of the field */
    char empty[] = "";
    assert_int_equal(split(empty, f, SN_OK), 1);
    assert_int_equal(f[0].len, 0);
}

static void quoted_fields(void **state)
{
    (void)state;
    char line[] = "\"a,b\",\"say \"\"hi\"\"\",\"\"";
    sn_csv_field f[SN_CSV_FIELDS_MAX];
    assert_int_equal(split(line, f, SN_OK), 3);
    assert_int_equal(f[0].len, 3);
    assert_memory_equal(f[0].s, "a,b", 3);
    assert_int_equal(f[1].len, 8);
    assert_memory_equal(f[1].s, "say \"hi\"", 8);
    assert_int_equal(f[2].len, 0);
}

static void malformed_lines(void **state)
{
    (void)state;
    sn_csv_field f[SN_CSV_FIELDS_MAX];
    char a[] = "\"open,b";
    split(a, f, SN_EINVAL);
    assert_non_null(strstr(err, "unterminated quote in column 1"));
    char b[] = "a,b\"c";
    split(b, f, SN_EINVAL);
    assert_non_null(strstr(err, "stray quote in column 2"));
    char c[] = "\"a\"b";
    split(c, f, SN_EINVAL);
    char d[] = "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17";
    split(d, f, SN_ELIMIT);
    char big[SN_CSV_LINE_MAX + 10];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    split(big, f, SN_ELIMIT);
}

static void quoting_for_output(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(sn_csv_quote("plain", 5, buf, sizeof(buf)), 5);
    assert_string_equal(buf, "plain");
    assert_int_equal(sn_csv_quote("a,\"b\"", 5, buf, sizeof(buf)), 9);
    assert_string_equal(buf, "\"a,\"\"b\"\"\"");
    assert_int_equal(sn_csv_quote("a,b", 3, buf, 3), 5); /* truncated, length still reported */
    assert_int_equal(strlen(buf), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_and_empty_fields),
        cmocka_unit_test(quoted_fields),
        cmocka_unit_test(malformed_lines),
        cmocka_unit_test(quoting_for_output),
    };
    return sn_run_tests(tests);
}
