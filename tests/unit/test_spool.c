/* test_spool.c - sorted runs in a temporary file merged back in the order
 * of application (feed/spool.h), against one sort of the same events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "feed/spool.h"
#include "ledger/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char err[SN_ERRMSG_MAX];

static const char *tmp_dir(void)
{
    const char *d = getenv("TMPDIR");
    return d != NULL && d[0] != '\0' ? d : "/tmp";
}

/* Event i: few numbers and times so ties happen; every third has an event
 * id, every fifth is a port_out naming a recipient. */
static sn_log_event event_of(uint32_t i, uint64_t *rnd, char ids[][16])
{
    sn_log_event e;
    memset(&e, 0, sizeof(e));
    *rnd = *rnd * 6364136223846793005ULL + 1442695040888963407ULL;
    e.ev.number = 8613800000000ULL + (*rnd >> 33) % 50;
    e.ev.at = 1700000000 + (int64_t)((*rnd >> 20) % 7);
    e.ev.kind = i % 5 == 0 ? SN_EV_PORT_OUT : SN_EV_ACTIVATE;
    e.index = i + 2;
    if (i % 3 == 0) {
        snprintf(ids[i], 16, "id%u", i);
        e.event_id = ids[i];
        e.event_id_len = (uint32_t)strlen(ids[i]);
    }
    if (e.ev.kind == SN_EV_PORT_OUT) {
        e.to = "cucc";
        e.to_len = 4;
    }
    return e;
}

static int by_application(const void *a, const void *b)
{
    return sn_ledger_event_cmp(a, b);
}

static void merged_runs_equal_one_sort(void **state)
{
    (void)state;
    enum { N = 1000, RUN = 77 };
    static char ids[N][16];
    sn_log_event all[N];
    sn_spool *sp;
    sn_feed_batch out;
    uint64_t rnd = 42;
    memset(&out, 0, sizeof(out));
    for (uint32_t i = 0; i < N; i++)
        all[i] = event_of(i, &rnd, ids);
    assert_int_equal(sn_spool_create(tmp_dir(), &sp, err, sizeof(err)), SN_OK);
    for (size_t at = 0; at < N; at += RUN) {
        size_t n = N - at < RUN ? N - at : RUN;
        qsort(all + at, n, sizeof(all[0]), by_application);
        assert_int_equal(sn_spool_add_run(sp, all + at, n, err, sizeof(err)), SN_OK);
    }
    assert_int_equal(sn_spool_runs(sp), (N + RUN - 1) / RUN);
    qsort(all, N, sizeof(all[0]), by_application);
    assert_int_equal(sn_spool_merge(sp, err, sizeof(err)), SN_OK);
    size_t got = 0;
    for (;;) {
        assert_int_equal(sn_spool_read(sp, &out, 64, err, sizeof(err)), SN_OK);
        if (out.n == 0)
            break;
        assert_true(out.n <= 64);
        for (size_t i = 0; i < out.n; i++, got++) {
            const sn_log_event *a = &out.items[i], *b = &all[got];
            assert_int_equal(a->index, b->index);
            assert_int_equal(a->ev.number, b->ev.number);
            assert_int_equal(a->ev.at, b->ev.at);
            assert_int_equal(a->event_id != NULL, b->event_id != NULL);
            if (b->event_id != NULL)
                assert_memory_equal(a->event_id, b->event_id, b->event_id_len);
            if (b->ev.kind == SN_EV_PORT_OUT)
                assert_memory_equal(a->to, "cucc", 4);
        }
    }
    assert_int_equal(got, N);
    sn_feed_batch_free(&out);
    sn_spool_free(sp);
}

static void runs_past_the_limit_are_refused(void **state)
{
    (void)state;
    sn_spool *sp;
    sn_log_event e;
    memset(&e, 0, sizeof(e));
    e.ev.number = 8613800000001ULL;
    e.ev.kind = SN_EV_ACTIVATE;
    assert_int_equal(sn_spool_create(tmp_dir(), &sp, err, sizeof(err)), SN_OK);
    for (int i = 0; i < SN_SPOOL_RUNS_MAX; i++)
        assert_int_equal(sn_spool_add_run(sp, &e, 1, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_spool_add_run(sp, &e, 1, err, sizeof(err)), SN_ELIMIT);
    assert_non_null(strstr(err, "raise --chunk-lines"));
    sn_spool_free(sp);
}

static void missing_directory_is_an_error(void **state)
{
    (void)state;
    sn_spool *sp = (sn_spool *)1;
    assert_int_equal(sn_spool_create("/nonexistent/dir", &sp, err, sizeof(err)), SN_EIO);
    assert_null(sp);
    assert_non_null(strstr(err, "/nonexistent/dir"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merged_runs_equal_one_sort),
        cmocka_unit_test(runs_past_the_limit_are_refused),
        cmocka_unit_test(missing_directory_is_an_error),
    };
    return sn_run_tests(tests);
}
