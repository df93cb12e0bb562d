/* test_routename.c - a path against a route pattern (sn_route_matches):
 * exact paths, one {id} segment with and without a suffix, the paths that
 * must not match (a prefix, a longer path, an empty or a two-segment id, a
 * wrong suffix), and every pattern of the route table against its own
 * path and a path one byte off. */
#include "unit.h"

#include "http/routename.h"

#include <string.h>

static int match(const char *pattern, const char *path, char *param, size_t cap)
{
    const char *p = NULL;
    size_t n = 0;
    int m = sn_route_matches(pattern, h2o_iovec_init(path, strlen(path)), &p, &n);
    param[0] = '\0';
    if (m && p != NULL && n < cap) {
        memcpy(param, p, n);
        param[n] = '\0';
    }
    return m;
}

static void exact_paths(void **state)
{
    (void)state;
    char id[64];
    assert_true(match("/v1/check", "/v1/check", id, sizeof(id)));
    assert_false(match("/v1/check", "/v1/chec", id, sizeof(id)));
    assert_false(match("/v1/check", "/v1/check/batch", id, sizeof(id)));
    assert_false(match("/v1/check", "/v1/checks", id, sizeof(id)));
    assert_false(match("/v1/check", "/v1/chEck", id, sizeof(id)));
    assert_false(match("/v1/check", "", id, sizeof(id)));
    assert_true(match("/", "/", id, sizeof(id)));
}

static void one_id_segment(void **state)
{
    (void)state;
    char id[64];
    assert_true(match("/v1/notices/{id}", "/v1/notices/42", id, sizeof(id)));
    assert_string_equal(id, "42");
    assert_true(match("/v1/notices/{id}/ack", "/v1/notices/n-7/ack", id, sizeof(id)));
    assert_string_equal(id, "n-7");
    assert_false(match("/v1/notices/{id}", "/v1/notices/", id, sizeof(id)));
    assert_false(match("/v1/notices/{id}/ack", "/v1/notices//ack", id, sizeof(id)));
    assert_false(match("/v1/notices/{id}/ack", "/v1/notices/ack", id, sizeof(id)));
    assert_false(match("/v1/notices/{id}", "/v1/notices/4/2", id, sizeof(id)));
    assert_false(match("/v1/notices/{id}/ack", "/v1/notices/42/acks", id, sizeof(id)));
    assert_false(match("/v1/notices/{id}/ack", "/v1/notices/42/nack", id, sizeof(id)));
    assert_false(match("/v1/notices/{id}", "/v1/notice/42", id, sizeof(id)));
    assert_false(match("/v1/notices/{id}", "/v1/notices", id, sizeof(id)));
}

/* Each route's pattern matches its own path ({id} as "7"), and not that
 * path with its last byte changed (with "/x" after it where the pattern
 * ends with its id). */
static void every_route_matches_its_own_path(void **state)
{
    (void)state;
    char path[256], id[64];
    for (size_t r = 0; r < sn_nroutes; r++) {
        const char *pat = sn_routes[r].path, *brace = strstr(pat, "{id}");
        if (brace != NULL)
            snprintf(path, sizeof(path), "%.*s7%s", (int)(brace - pat), pat, brace + 4);
        else
            snprintf(path, sizeof(path), "%s", pat);
        assert_true(match(pat, path, id, sizeof(id)));
        if (brace != NULL)
            assert_string_equal(id, "7");
        if (brace != NULL && brace[4] == '\0')
            strcat(path, "/x");
        else
            path[strlen(path) - 1] ^= 0x20;
        assert_false(match(pat, path, id, sizeof(id)));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_paths),
        cmocka_unit_test(one_id_segment),
        cmocka_unit_test(every_route_matches_its_own_path),
    };
    return sn_run_tests(tests);
}
