/* test_reqlog.c - util/reqlog.c: the line's format (the time in RFC 3339
 * UTC with milliseconds, absent fields left out, escaping, fields cut
 * whole at their budget so the line stays JSON), and the writer: every
 * line added is in the file at close, from several threads at once; a
 * reopen splits the lines at the request; lines over
 * SN_REQLOG_BUFFER_BYTES while the reader is stuck are dropped, counted,
 * and said in the log, never blocking the adder. */
#include "unit.h"

#include "util/reqlog.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2026-12-06T05:53:49.123Z */
#define T0 ((int64_t)1796536429 * 1000000 + 123456)

static sn_reqlog_entry base(void)
{
    sn_reqlog_entry e = {"/v1/check", "POST", 200, 57, -1, NULL, 0, NULL, 0, NULL, 31};
    return e;
}

static const char *fmt(const sn_reqlog_entry *e, int64_t t)
{
    static char line[SN_REQLOG_LINE_MAX + 1];
    size_t n = sn_reqlog_format(e, t, line, SN_REQLOG_LINE_MAX);
    assert_true(n <= SN_REQLOG_LINE_MAX);
    assert_int_equal(line[n - 1], '\n');
    line[n] = '\0';
    return line;
}

static void test_minimal_line(void **state)
{
    (void)state;
    sn_reqlog_entry e = base();
    assert_string_equal(fmt(&e, T0),
                        "{\"time\":\"2026-12-06T05:53:49.123Z\",\"route\":\"/v1/check\","
                        "\"method\":\"POST\",\"status\":200,\"latency_us\":57,\"bytes\":31}\n");
}

static void test_every_field(void **state)
{
    (void)state;
    sn_reqlog_entry e = base();
    e.key = 12;
    e.app = "bank";
    e.session = 1;
    e.correlator = "abc-1:2";
    e.correlator_len = 7;
    e.client = "::1";
    assert_string_equal(fmt(&e, T0),
                        "{\"time\":\"2026-12-06T05:53:49.123Z\",\"route\":\"/v1/check\","
                        "\"method\":\"POST\",\"status\":200,\"latency_us\":57,\"key\":12,"
                        "\"app\":\"bank\",\"subscriber\":\"session\",\"correlator\":\"abc-1:2\","
                        "\"client\":\"::1\",\"bytes\":31}\n");
}

static void test_times(void **state)
{
    (void)state;
    sn_reqlog_entry e = base();
    assert_non_null(strstr(fmt(&e, 0), "\"1970-01-01T00:00:00.000Z\""));
    assert_non_null(
        strstr(fmt(&e, 951782400LL * 1000000 + 999999), "\"2000-02-29T00:00:00.999Z\""));
    /* the per-thread cache of the seconds is not fooled by a jump back */
    assert_non_null(strstr(fmt(&e, T0 + 1000), "\"2026-12-06T05:53:49.124Z\""));
    assert_non_null(strstr(fmt(&e, T0 - 1000000), "\"2026-12-06T05:53:48.123Z\""));
}

static void test_escaping(void **state)
{
    (void)state;
    sn_reqlog_entry e = base();
    e.app = "a\"b\\c\n\x01";
    e.correlator = "x\0y";
    e.correlator_len = 3;
    const char *s = fmt(&e, T0);
    assert_non_null(strstr(s, "\"app\":\"a\\\"b\\\\c\\u000a\\u0001\","));
    assert_non_null(strstr(s, "\"correlator\":\"x\\u0000y\","));
}

/* A field over its budget is cut at a whole character or escape: the
 * line stays one JSON object of SN_REQLOG_LINE_MAX bytes at most. */
static void test_cut_whole(void **state)
{
    (void)state;
    char big[1000];
    memset(big, '\n', sizeof(big) - 1); /* 6 bytes escaped each */
    big[sizeof(big) - 1] = '\0';
    sn_reqlog_entry e = base();
    e.app = big;
    e.correlator = big;
    e.correlator_len = sizeof(big) - 1;
    e.route = big;
    e.client = big;
    const char *s = fmt(&e, T0);
    json_t *j = json_loads(s, 0, NULL);
    assert_non_null(j);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "route"))),
                     SN_REQLOG_ROUTE_MAX / 6);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "correlator"))),
                     SN_REQLOG_CORRELATOR_MAX / 6);
    assert_int_equal(json_integer_value(json_object_get(j, "bytes")), 31);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "app"))), SN_REQLOG_APP_MAX / 6);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "client"))),
                     SN_REQLOG_CLIENT_MAX / 6);
    json_decref(j);
    /* a plain text: cut to its budget */
    memset(big, 'r', sizeof(big) - 1);
    e = base();
    e.route = big;
    j = json_loads(fmt(&e, T0), 0, NULL);
    assert_non_null(j);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "route"))), SN_REQLOG_ROUTE_MAX);
    json_decref(j);
}

static void test_absent_method_and_negative_values(void **state)
{
    (void)state;
    sn_reqlog_entry e = base();
    e.method = NULL;
    e.latency_us = -5;
    assert_non_null(strstr(fmt(&e, T0), "\"method\":\"OTHER\",\"status\":200,\"latency_us\":0,"));
}

/* ---- the writer ---------------------------------------------------------- */

static char dir[256];

static void make_dir(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/sn-reqlog.XXXXXX", t != NULL ? t : "/tmp");
    assert_non_null(mkdtemp(dir));
}

static size_t lines_in(const char *path, const char *needle)
{
    char buf[4096];
    size_t n = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (fgets(buf, sizeof(buf), f) != NULL)
        if (strstr(buf, needle) != NULL)
            n++;
    fclose(f);
    return n;
}

static void add(const char *route, int n)
{
    sn_reqlog_entry e = base();
    e.route = route;
    for (int i = 0; i < n; i++)
        sn_reqlog_add(&e);
}

/* 5000 lines, at a pace a loop thread answers (a burst of 500, a pause):
 * the writer keeps up, nothing is dropped. */
static void *adder(void *arg)
{
    for (int i = 0; i < 10; i++) {
        add(arg, 500);
        usleep(20000);
    }
    return NULL;
}

static void test_every_line_written_at_close(void **state)
{
    (void)state;
    char path[300], err[256];
    pthread_t t[4];
    make_dir();
    snprintf(path, sizeof(path), "%s/req.log", dir);
    assert_int_equal(sn_reqlog_open(path, err, sizeof(err)), 0);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, adder, "/threads");
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    sn_reqlog_close();
    assert_int_equal(lines_in(path, "\"route\":\"/threads\""), 20000);
    assert_int_equal(sn_reqlog_dropped(), 0);
    add("/after-close", 3); /* ignored, nothing to crash */
    assert_int_equal(lines_in(path, "after-close"), 0);
    unlink(path);
    rmdir(dir);
}

static void test_reopen_splits_at_the_request(void **state)
{
    (void)state;
    char path[300], old[300], err[256];
    make_dir();
    snprintf(path, sizeof(path), "%s/req.log", dir);
    snprintf(old, sizeof(old), "%s/req.log.1", dir);
    assert_int_equal(sn_reqlog_open(path, err, sizeof(err)), 0);
    add("/before", 1000);
    assert_int_equal(rename(path, old), 0);
    sn_reqlog_reopen();
    add("/after", 700);
    sn_reqlog_close();
    assert_int_equal(lines_in(old, "/before"), 1000);
    assert_int_equal(lines_in(old, "/after"), 0);
    assert_int_equal(lines_in(path, "/after"), 700);
    assert_int_equal(lines_in(path, "/before"), 0);
    unlink(path);
    unlink(old);
    rmdir(dir);
}

static void test_open_fails_clearly(void **state)
{
    (void)state;
    char err[256] = "";
    assert_int_not_equal(sn_reqlog_open("/nonexistent-dir/x/req.log", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "cannot open the request log /nonexistent-dir/x/req.log"));
    assert_false(sn_reqlog_on());
}

typedef struct {
    int fd;
    char *data;
    size_t len, cap;
} drain_arg;

static void *drain(void *arg)
{
    drain_arg *d = arg;
    int flags = fcntl(d->fd, F_GETFL);
    fcntl(d->fd, F_SETFL, flags & ~O_NONBLOCK);
    for (;;) {
        if (d->len + 65536 > d->cap) {
            d->cap = d->cap * 2 + 65536;
            d->data = realloc(d->data, d->cap);
        }
        ssize_t n = read(d->fd, d->data + d->len, 65536);
        if (n <= 0)
            break;
        d->len += (size_t)n;
    }
    return NULL;
}

/* The reader stuck: the adder is never held up; what does not fit is
 * dropped, counted, and said in the log once the reader goes on. */
static void test_over_the_bound_lines_are_dropped_and_said(void **state)
{
    (void)state;
    char path[300], err[256];
    drain_arg d = {0};
    pthread_t t;
    const int n = 3 * (int)(SN_REQLOG_BUFFER_BYTES / 100); /* lines are over 100 bytes */
    make_dir();
    snprintf(path, sizeof(path), "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    d.fd = open(path, O_RDONLY | O_NONBLOCK); /* a reader that does not read yet */
    assert_true(d.fd >= 0);
    assert_int_equal(sn_reqlog_open(path, err, sizeof(err)), 0);
    add("/flood", n); /* returns: nothing blocks the adder */
    uint64_t dropped = sn_reqlog_dropped();
    assert_true(dropped > 0);
    pthread_create(&t, NULL, drain, &d);
    sn_reqlog_close();
    pthread_join(t, NULL);
    close(d.fd);
    d.data = realloc(d.data, d.len + 1);
    d.data[d.len] = '\0';
    size_t written = 0, said = 0;
    for (char *p = d.data; (p = strstr(p, "\"route\":\"/flood\"")) != NULL; p++)
        written++;
    for (char *p = d.data; (p = strstr(p, "\"dropped\":")) != NULL; p++)
        said += strtoull(p + 10, NULL, 10);
    assert_int_equal(written + dropped, (size_t)n);
    assert_int_equal(said, dropped);
    assert_non_null(strstr(d.data, "request log lines dropped"));
    free(d.data);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_line),
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_cut_whole),
        cmocka_unit_test(test_absent_method_and_negative_values),
        cmocka_unit_test(test_every_line_written_at_close),
        cmocka_unit_test(test_reopen_splits_at_the_request),
        cmocka_unit_test(test_open_fails_clearly),
        cmocka_unit_test(test_over_the_bound_lines_are_dropped_and_said),
    };
    return sn_run_tests(tests);
}
