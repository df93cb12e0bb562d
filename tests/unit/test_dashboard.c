/* test_dashboard.c - the dashboard's pure parts: the nearest-rank position
 * of a percentile (service/dashboard.c) against sorted lists worked by
 * hand, and how coverage demand normalizes a name (service/demand.c):
 * trimmed, runs of spaces and tabs made one, ASCII letters lowered, other
 * bytes (Chinese) kept, SN_DEMAND_NAME_MAX bytes at most, no control
 * characters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "service/dashboard.h"
#include "service/demand.h"

#include <stdio.h>
#include <string.h>

static void rank_is_nearest_rank(void **state)
{
    (void)state;
    assert_int_equal(sn_dashboard_rank(1, 0.5), 0);
    assert_int_equal(sn_dashboard_rank(1, 0.95), 0);
    assert_int_equal(sn_dashboard_rank(2, 0.5), 0); /* the lower of two */
    assert_int_equal(sn_dashboard_rank(2, 0.95), 1);
    assert_int_equal(sn_dashboard_rank(3, 0.5), 1);
    assert_int_equal(sn_dashboard_rank(3, 0.95), 2);
    assert_int_equal(sn_dashboard_rank(20, 0.95), 18); /* ceil(19) - 1 */
    assert_int_equal(sn_dashboard_rank(21, 0.95), 19); /* ceil(19.95) - 1 */
    assert_int_equal(sn_dashboard_rank(100, 0.5), 49);
    assert_int_equal(sn_dashboard_rank(1000000, 0.95), 949999);
}

static void expect_name(const char *in, const char *want)
{
    char out[SN_DEMAND_NAME_MAX + 1], err[SN_ERRMSG_MAX] = "";
    int rc = sn_demand_normalize(in, out, err, sizeof(err));
    if (rc != SN_OK)
        fail_msg("'%s': %s", in, err);
    assert_string_equal(out, want);
}

static void expect_refused(const char *in)
{
    char out[SN_DEMAND_NAME_MAX + 1], err[SN_ERRMSG_MAX] = "";
    assert_int_equal(sn_demand_normalize(in, out, err, sizeof(err)), SN_EINVAL);
    assert_true(err[0] != '\0');
}

static void names_are_normalized(void **state)
{
    (void)state;
    expect_name("WeChat", "wechat");
    expect_name("  We   Chat\t", "we chat");
    expect_name("\tAli\t \tPay ", "ali pay");
    expect_name("微信 Pay", "微信 pay");
    expect_name("x", "x");
}

static void name_limits(void **state)
{
    (void)state;
    char name[SN_DEMAND_NAME_MAX + 8];
    memset(name, 'a', SN_DEMAND_NAME_MAX);
    name[SN_DEMAND_NAME_MAX] = '\0';
    expect_name(name, name); /* exactly the limit */
    name[SN_DEMAND_NAME_MAX] = 'a';
    name[SN_DEMAND_NAME_MAX + 1] = '\0';
    expect_refused(name); /* one byte past it */
    char padded[SN_DEMAND_NAME_MAX + 8];
    snprintf(padded, sizeof(padded), " %.*s  ", SN_DEMAND_NAME_MAX, name);
    name[SN_DEMAND_NAME_MAX] = '\0';
    expect_name(padded, name); /* spaces around do not count */
    expect_refused("");
    expect_refused("   \t ");
    expect_refused("a\x01"
                   "b");
    expect_refused("a\x7f"
                   "b");
    expect_refused("line\nbreak");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rank_is_nearest_rank),
        cmocka_unit_test(names_are_normalized),
        cmocka_unit_test(name_limits),
    };
    return sn_run_tests(tests);
}
