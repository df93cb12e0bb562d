/*
 * unit.h - what every cmocka program shares: running its cases, or only
 * those whose name contains $CASE_FILTER (as the CLI and integration
 * suites do): CASE_FILTER=day_parse build/asan/tests/test_date
 */
#ifndef SN_TEST_UNIT_H
#define SN_TEST_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

/* cmocka_run_group_tests, filtered by $CASE_FILTER (a substring). */
#define sn_run_tests(tests)                                                                        \
    (sn_apply_case_filter(), cmocka_run_group_tests(tests, NULL, NULL))

static inline void sn_apply_case_filter(void)
{
    static char pattern[256];
    const char *f = getenv("CASE_FILTER");
    if (f != NULL && f[0] != '\0') {
        snprintf(pattern, sizeof(pattern), "*%s*", f);
        cmocka_set_test_filter(pattern);
    }
}

#endif
