/*
 * test_coverage.c - the carriers' ranges in memory (service/coverage.h):
 * no range covers everything, a number is covered by any prefix of it and
 * only by its prefixes, a reload replaces the set.
 */
#include "store_fixture.h"
#include "unit.h"

#include "core/errors.h"
#include "service/coverage.h"
#include "store/keys.h"

#include <string.h>
#include <unistd.h>

static char err[SN_ERRMSG_MAX];

typedef struct {
    sn_store *store;
    sn_coverage *cv;
    char path[4096];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    sn_test_store_path(f->path, sizeof(f->path), "coverage");
    sn_test_store_remove(f->path);
    assert_int_equal(sn_store_open(f->path, NULL, &f->store, err, sizeof(err)), SN_OK);
    f->cv = sn_coverage_new();
    assert_non_null(f->cv);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sn_coverage_free(f->cv);
    sn_store_close(f->store);
    sn_test_store_remove(f->path);
    free(f);
    return 0;
}

static sn_number num(const char *text)
{
    sn_number n;
    assert_int_equal(sn_number_parse(text, strlen(text), 0, &n, err, sizeof(err)), SN_OK);
    return n;
}

static void add_range(fixture *f, const char *carrier, const char *prefix)
{
    uint32_t id;
    assert_int_equal(sn_store_carrier_id(f->store, carrier, 1, &id, err, sizeof(err)), SN_OK);
    if (prefix != NULL)
        assert_int_equal(sn_store_add_range(f->store, id, prefix, err, sizeof(err)), SN_OK);
}

static void no_range_covers_every_number(void **state)
{
    fixture *f = *state;
    assert_true(sn_coverage_covers(NULL, num("+12025550123")));
    assert_true(sn_coverage_covers(f->cv, num("+12025550123")));
    add_range(f, "rangeless", NULL); /* a carrier without a range */
    assert_int_equal(sn_coverage_load(f->cv, f->store, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_coverage_count(f->cv), 0);
    assert_true(sn_coverage_covers(f->cv, num("+8613800000001")));
}

static void a_number_is_covered_by_its_prefixes_only(void **state)
{
    fixture *f = *state;
    add_range(f, "cmcc", "+86138");
    add_range(f, "cmcc", "+86139");
    add_range(f, "att", "+1202555");
    add_range(f, "one", "+4930123456"); /* a whole number as its own range */
    assert_int_equal(sn_coverage_load(f->cv, f->store, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_coverage_count(f->cv), 4);
    assert_true(sn_coverage_covers(f->cv, num("+8613800000001")));
    assert_true(sn_coverage_covers(f->cv, num("+8613912345678")));
    assert_true(sn_coverage_covers(f->cv, num("+12025550123")));
    assert_true(sn_coverage_covers(f->cv, num("+4930123456")));
    assert_false(sn_coverage_covers(f->cv, num("+8613712345678")));
    assert_false(sn_coverage_covers(f->cv, num("+12025560123")));
    assert_false(sn_coverage_covers(f->cv, num("+493012345"))); /* shorter than the range */
    assert_false(sn_coverage_covers(f->cv, num("+49301")));     /* a prefix of a range */
}

static void a_reload_replaces_the_set(void **state)
{
    fixture *f = *state;
    add_range(f, "cmcc", "+86138");
    assert_int_equal(sn_coverage_load(f->cv, f->store, err, sizeof(err)), SN_OK);
    assert_false(sn_coverage_covers(f->cv, num("+4930123456")));
    add_range(f, "de", "+49");
    assert_false(sn_coverage_covers(f->cv, num("+4930123456"))); /* until the reload */
    assert_int_equal(sn_coverage_load(f->cv, f->store, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_coverage_count(f->cv), 2);
    assert_true(sn_coverage_covers(f->cv, num("+4930123456")));
    assert_true(sn_coverage_covers(f->cv, num("+8613800000001")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(no_range_covers_every_number, setup, teardown),
        cmocka_unit_test_setup_teardown(a_number_is_covered_by_its_prefixes_only, setup, teardown),
        cmocka_unit_test_setup_teardown(a_reload_replaces_the_set, setup, teardown),
    };
    return sn_run_tests(tests);
}
