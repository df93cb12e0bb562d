/* test_strbuf.c - the text helpers of util/strbuf.h that replace snprintf
 * on the request path: decimal text of any 64-bit value, and bounded
 * copies (cut to fit, NULL as empty). */
#include "unit.h"

#include "util/strbuf.h"

#include <inttypes.h>
#include <string.h>

static void decimal_text_of_any_value(void **state)
{
    (void)state;
    static const uint64_t values[] = {0,         7, 9, 10, 99, 100, 4294967295u, 8613800138000u,
                                      UINT64_MAX};
    char got[SN_U64_TEXT_MAX], want[32];
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        memset(got, 'x', sizeof(got));
        size_t n = sn_u64_text(values[i], got);
        snprintf(want, sizeof(want), "%" PRIu64, values[i]);
        assert_string_equal(got, want);
        assert_int_equal(n, strlen(want));
    }
    assert_int_equal(sn_u64_text(UINT64_MAX, got), SN_U64_TEXT_MAX - 1);
}

static void copies_are_cut_to_fit(void **state)
{
    (void)state;
    char dst[6];
    sn_text_copy(dst, sizeof(dst), "bank");
    assert_string_equal(dst, "bank");
    sn_text_copy(dst, sizeof(dst), "bank5");
    assert_string_equal(dst, "bank5");
    sn_text_copy(dst, sizeof(dst), "bank-of-x");
    assert_string_equal(dst, "bank-");
    sn_text_copy(dst, sizeof(dst), NULL);
    assert_string_equal(dst, "");
    sn_text_copy(dst, 1, "bank");
    assert_string_equal(dst, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decimal_text_of_any_value),
        cmocka_unit_test(copies_are_cut_to_fit),
    };
    return sn_run_tests(tests);
}
