/* test_metrics.c - util/metrics.c: the exposition's format (HELP and TYPE
 * before each family's samples, counters ending _total, cumulative
 * buckets ending at +Inf equal to _count, escaped label values), counts
 * summed exactly over threads that count at once, the latency buckets'
 * edges, and the bound on app names per thread (SN_METRICS_NAMES_MAX: the
 * next names count under SN_METRICS_OTHER), and names cut at
 * SN_METRICS_NAME_LEN (routes.c asserts that its table fits in
 * SN_METRICS_ROUTES_MAX). Counters are process-wide, so each case reads
 * what it added as a difference. */
#include "unit.h"

#include "util/metrics.h"

#include <stddef.h>

#include <pthread.h>
#include <string.h>

static const sn_metrics_route routes[] = {{"GET", "/a"}, {"POST", "/b"}, {"POST", "/c"}};

static char *scrape(void)
{
    sn_strbuf out = {0};
    sn_metrics_gauges g = {0};
    g.have_index = 1;
    g.index_numbers = 7;
    sn_metrics_write(&out, routes, 3, &g);
    assert_false(out.failed);
    assert_non_null(out.s);
    return out.s;
}

/* The value of the sample `series` (its name and labels exactly), 0 when
 * absent. */
static uint64_t value_of(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtoull(p + n + 1, NULL, 10);
        p = strchr(p, '\n');
        p = p != NULL ? p + 1 : NULL;
    }
    return 0;
}

static void test_format_help_type_and_samples(void **state)
{
    (void)state;
    sn_metrics_count_request(0, 200, 120);
    sn_metrics_count_check("fmt-app", SN_METRICS_API_NATIVE, 1);
    char *text = scrape(), *save = NULL, family[128] = "", type[32] = "";
    int helped = 0;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# HELP ", 7) == 0) {
            assert_int_equal(sscanf(line + 7, "%127s", family), 1);
            helped = 1;
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            char name[128];
            assert_int_equal(sscanf(line + 7, "%127s %31s", name, type), 2);
            assert_true(helped);
            assert_string_equal(name, family);
            assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
                        strcmp(type, "histogram") == 0);
            if (strcmp(type, "counter") == 0)
                assert_non_null(strstr(name, "_total"));
            helped = 0;
            continue;
        }
        /* a sample of the current family: name[{labels}] value */
        assert_int_equal(strncmp(line, family, strlen(family)), 0);
        const char *space = strrchr(line, ' ');
        assert_non_null(space);
        char *end;
        strtod(space + 1, &end);
        assert_true(*end == '\0' && end > space + 1);
        const char *brace = strchr(line, '{');
        if (brace != NULL && brace < space)
            assert_true(space[-1] == '}');
    }
    free(text);
    text = scrape();
    assert_true(value_of(text, "secondnum_index_numbers") == 7);
    assert_true(value_of(text, "secondnum_store_up") == 0);
    assert_null(strstr(text, "secondnum_notices_open")); /* have_store 0: left out */
    free(text);
}

static void test_histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    static const char b[] = "secondnum_http_request_duration_seconds_bucket{method=\"POST\","
                            "route=\"/c\",le=\"%s\"}";
    char series[256];
    char *before = scrape();
    sn_metrics_count_request(2, 200, 30);       /* <= 50 us */
    sn_metrics_count_request(2, 200, 50);       /* the edge: still <= 50 us */
    sn_metrics_count_request(2, 404, 2000000);  /* 2 s: <= 5 */
    sn_metrics_count_request(2, 200, 10000000); /* 10 s: +Inf only */
    char *after = scrape();
    snprintf(series, sizeof(series), b, "5e-05");
    assert_true(value_of(after, series) - value_of(before, series) == 2);
    snprintf(series, sizeof(series), b, "1");
    assert_true(value_of(after, series) - value_of(before, series) == 2);
    snprintf(series, sizeof(series), b, "5");
    assert_true(value_of(after, series) - value_of(before, series) == 3);
    snprintf(series, sizeof(series), b, "+Inf");
    uint64_t inf = value_of(after, series);
    assert_true(inf - value_of(before, series) == 4);
    assert_true(value_of(after, "secondnum_http_request_duration_seconds_count{method=\"POST\","
                                "route=\"/c\"}") == inf);
    assert_true(value_of(after, "secondnum_http_requests_total{method=\"POST\",route=\"/c\","
                                "status=\"404\"}") -
                    value_of(before, "secondnum_http_requests_total{method=\"POST\",route=\"/c\","
                                     "status=\"404\"}") ==
                1);
    free(before);
    free(after);
}

#define THREADS 4
#define PER_THREAD 20000

static void *count_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        sn_metrics_count_request(1, 200, 80);
        sn_metrics_count_check("sum-app", SN_METRICS_API_BATCH, 3);
        sn_metrics_count_events(9, 2, 1, 0);
    }
    return NULL;
}

static void test_counts_summed_over_threads(void **state)
{
    (void)state;
    static const char req[] = "secondnum_http_requests_total{method=\"POST\",route=\"/b\","
                              "status=\"200\"}";
    static const char chk[] = "secondnum_checks_total{api=\"batch\",app=\"sum-app\","
                              "verdict=\"reassigned\"}";
    static const char ev[] = "secondnum_events_total{carrier=\"9\",outcome=\"applied\"}";
    pthread_t t[THREADS];
    char *before = scrape();
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, count_many, NULL), 0);
    char *during = scrape(); /* while they count: never more than the end */
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *after = scrape();
    assert_true(value_of(during, req) <= value_of(after, req));
    assert_true(value_of(after, req) - value_of(before, req) == THREADS * PER_THREAD);
    assert_true(value_of(after, chk) - value_of(before, chk) == THREADS * PER_THREAD);
    assert_true(value_of(after, ev) - value_of(before, ev) == 2 * THREADS * PER_THREAD);
    free(before);
    free(during);
    free(after);
}

static void *many_apps(void *arg)
{
    (void)arg;
    char name[32];
    for (int i = 0; i < SN_METRICS_NAMES_MAX + 5; i++) {
        snprintf(name, sizeof(name), "bound-%d", i);
        sn_metrics_count_check(name, SN_METRICS_API_CAMARA, 1);
    }
    return NULL;
}

static void test_apps_past_the_bound_count_as_other(void **state)
{
    (void)state;
    static const char other[] =
        "secondnum_checks_total{api=\"camara\",app=\"" SN_METRICS_OTHER "\",verdict=\"unchanged\"}";
    char series[128];
    pthread_t t;
    char *before = scrape();
    assert_int_equal(pthread_create(&t, NULL, many_apps, NULL), 0); /* a fresh thread's table */
    pthread_join(t, NULL);
    char *after = scrape();
    for (int i = 0; i < SN_METRICS_NAMES_MAX + 5; i++) {
        snprintf(series, sizeof(series),
                 "secondnum_checks_total{api=\"camara\",app=\"bound-%d\",verdict=\"unchanged\"}",
                 i);
        assert_true(value_of(after, series) == (i < SN_METRICS_NAMES_MAX ? 1u : 0u));
    }
    assert_true(value_of(after, other) - value_of(before, other) == 5);
    free(before);
    free(after);
}

static void test_label_values_escaped(void **state)
{
    (void)state;
    sn_metrics_count_check("we\"ird\\app", SN_METRICS_API_HASHED, 0);
    char *text = scrape();
    assert_true(value_of(text, "secondnum_checks_total{api=\"hashed\",app=\"we\\\"ird\\\\app\","
                               "verdict=\"unknown\"}") >= 1);
    free(text);
}

static void test_unmatched_and_other_status(void **state)
{
    (void)state;
    static const char s[] = "secondnum_http_requests_total{method=\"\",route=\"unmatched\","
                            "status=\"other\"}";
    char *before = scrape();
    sn_metrics_count_request(-1, 418, 10);
    sn_metrics_count_request(SN_METRICS_ROUTES_MAX + 3, 299, 10);
    char *after = scrape();
    assert_true(value_of(after, s) - value_of(before, s) == 2);
    free(before);
    free(after);
}

static void test_long_names_are_cut(void **state)
{
    (void)state;
    char name[SN_METRICS_NAME_LEN + 40], series[SN_METRICS_NAME_LEN + 128];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    sn_metrics_count_check(name, SN_METRICS_API_NATIVE, 2);
    sn_metrics_count_check(name, SN_METRICS_API_NATIVE, 2); /* the same slot again */
    name[SN_METRICS_NAME_LEN] = '\0';
    snprintf(series, sizeof(series),
             "secondnum_checks_total{api=\"native\",app=\"%s\",verdict=\"disconnected\"}", name);
    char *text = scrape();
    assert_true(value_of(text, series) == 2);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_help_type_and_samples),
        cmocka_unit_test(test_histogram_buckets_are_cumulative),
        cmocka_unit_test(test_counts_summed_over_threads),
        cmocka_unit_test(test_apps_past_the_bound_count_as_other),
        cmocka_unit_test(test_label_values_escaped),
        cmocka_unit_test(test_unmatched_and_other_status),
        cmocka_unit_test(test_long_names_are_cut),
    };
    return sn_run_tests(tests);
}
