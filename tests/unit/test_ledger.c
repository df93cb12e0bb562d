/* test_ledger.c - batch application over a real SQLite store in a temporary
 * file: ordering, duplicates, rejections, the guard, the observer, and the
 * radix sort against the comparator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store_fixture.h"
#include "unit.h"

#include "core/errors.h"
#include "core/limits.h"
#include "ledger/ledger.h"
#include "store/sqlite/sqlite.h" /* SQ_ROWS_MAX, SQ_ROWS_CHUNK */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[SN_ERRMSG_MAX];

typedef struct {
    sn_store *store;
    char path[4096];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    sn_test_store_path(f->path, sizeof(f->path), "ledger");
    sn_test_store_remove(f->path);
    assert_int_equal(sn_store_open(f->path, NULL, &f->store, err, sizeof(err)), SN_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sn_store_close(f->store);
    sn_test_store_remove(f->path);
    free(f);
    return 0;
}

static sn_log_event ev(sn_number n, int kind, int y, int m, int d, uint32_t index, const char *id)
{
    sn_log_event e;
    memset(&e, 0, sizeof(e));
    e.ev.number = n;
    e.ev.kind = (uint8_t)kind;
    e.ev.at = sn_day_start(sn_day_from_civil(y, m, d), SN_DEFAULT_TZ_MINUTES);
    e.ev.carrier = 1;
    e.index = index;
    e.event_id = id;
    e.event_id_len = id ? (uint32_t)strlen(id) : 0;
    return e;
}

static void applies_per_number_in_time_order(void **state)
{
    fixture *f = *state;
    sn_ledger_report rep = {0};
    sn_log_event items[] = {
        ev(2, SN_EV_CANCEL, 2024, 3, 1, 0, "b2"),
        ev(1, SN_EV_ACTIVATE, 2024, 1, 1, 1, "a1"),
        ev(2, SN_EV_ACTIVATE, 2024, 1, 1, 2, "b1"),
        ev(1, SN_EV_SUSPEND, 2024, 2, 1, 3, "a2"),
    };
    assert_int_equal(sn_ledger_apply(f->store, items, 4, &rep, NULL, NULL, NULL, err, sizeof(err)),
                     SN_OK);
    assert_int_equal(rep.applied, 4);
    assert_int_equal(rep.nrejects, 0);
    sn_number_state st;
    assert_int_equal(sn_store_get_state(f->store, 2, &st, err, sizeof(err)), SN_OK);
    assert_int_equal(st.status, SN_ST_FROZEN);
    assert_int_equal(st.events, 2);
    sn_ledger_report_free(&rep);
}

static void duplicates_and_out_of_order(void **state)
{
    fixture *f = *state;
    sn_ledger_report rep = {0};
    sn_log_event a[] = {ev(1, SN_EV_ACTIVATE, 2024, 1, 1, 0, "a1"),
                        ev(1, SN_EV_SUSPEND, 2024, 3, 1, 1, "a2")};
    assert_int_equal(sn_ledger_apply(f->store, a, 2, &rep, NULL, NULL, NULL, err, sizeof(err)),
                     SN_OK);
    sn_log_event b[] = {ev(1, SN_EV_ACTIVATE, 2024, 1, 1, 0, "a1"),
                        ev(1, SN_EV_RESUME, 2024, 2, 1, 1, "a3"),
                        ev(1, SN_EV_SUSPEND, 2024, 3, 1, 2, NULL)};
    assert_int_equal(sn_ledger_apply(f->store, b, 3, &rep, NULL, NULL, NULL, err, sizeof(err)),
                     SN_OK);
    assert_int_equal(rep.applied, 2);
    assert_int_equal(rep.duplicates, 2); /* a1 by id, the suspend without an id */
    assert_int_equal(rep.nrejects, 1);
    assert_int_equal(rep.rejects[0].index, 1);
    assert_int_equal(rep.rejects[0].code, SN_EORDER);
    assert_int_equal(rep.rejects[0].ev.kind, SN_EV_RESUME);
    sn_ledger_report_free(&rep);
}

static int deny_even(void *ctx, const sn_number_state *st, const sn_log_event *e, char *why,
                     size_t len)
{
    (void)ctx;
    (void)st;
    return e->ev.number % 2 == 0 ? sn_fail(why, len, SN_EPERM, "not yours") : SN_OK;
}

typedef struct {
    size_t calls, states;
} seen;

static void observe(void *ctx, const sn_number_state *states, size_t n)
{
    seen *s = ctx;
    (void)states;
    s->calls++;
    s->states += n;
}

static void guard_and_observer(void **state)
{
    fixture *f = *state;
    sn_ledger_report rep = {0};
    sn_ledger_guard g = {deny_even, NULL, NULL};
    seen s = {0, 0};
    sn_log_event items[] = {ev(1, SN_EV_ACTIVATE, 2024, 1, 1, 0, NULL),
                            ev(2, SN_EV_ACTIVATE, 2024, 1, 1, 1, NULL),
                            ev(3, SN_EV_ACTIVATE, 2024, 1, 1, 2, NULL)};
    assert_int_equal(sn_ledger_apply(f->store, items, 3, &rep, &g, observe, &s, err, sizeof(err)),
                     SN_OK);
    assert_int_equal(rep.applied, 2);
    assert_int_equal(rep.nrejects, 1);
    assert_int_equal(rep.rejects[0].code, SN_EPERM);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.states, 2);
    sn_ledger_report_free(&rep);
}

static void radix_sort_matches_the_comparator(void **state)
{
    (void)state;
    enum { N = 5000 };
    sn_log_event *items = calloc(N, sizeof(*items)), *sorted = NULL;
    uint64_t x = 42;
    for (uint32_t i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        items[i].ev.number = 8613800000000ull + (x >> 40) % 300;
        items[i].ev.at = (int64_t)((x >> 20) % 1000) - 500; /* negative times too */
        items[i].index = i;
    }
    assert_int_equal(sn_ledger_sort(items, N, &sorted), SN_OK);
    assert_non_null(sorted);
    for (size_t i = 1; i < N; i++)
        assert_true(sn_ledger_event_cmp(&sorted[i - 1], &sorted[i]) < 0);
    sn_log_event *again = NULL;
    assert_int_equal(sn_ledger_sort(sorted, N, &again), SN_OK);
    assert_null(again); /* already in order: nothing to do */
    free(sorted);
    free(items);
}

/* sn_store_get_states (range reads of close numbers, point reads of far
 * ones, inside and outside a transaction) agrees with sn_store_get_state,
 * and a batch over close numbers, some known, some new, applies as one
 * number at a time would. */
static void reads_close_and_far_numbers_alike(void **state)
{
    fixture *f = *state;
    sn_ledger_report rep = {0};
    const sn_number known[] = {100, 101, 103, 110, 200, 1000};
    sn_log_event items[6];
    for (uint32_t i = 0; i < 6; i++)
        items[i] = ev(known[i], SN_EV_ACTIVATE, 2024, 1, 1, i, NULL);
    assert_int_equal(sn_ledger_apply(f->store, items, 6, &rep, NULL, NULL, NULL, err, sizeof(err)),
                     SN_OK);
    const sn_number ask[] = {99, 100, 101, 102, 103, 104, 109, 110, 111, 150, 200, 999, 1000, 5000};
    enum { N = sizeof(ask) / sizeof(ask[0]) };
    sn_number_state got[N], one;
    for (int in_tx = 0; in_tx < 2; in_tx++) {
        if (in_tx)
            assert_int_equal(sn_store_begin(f->store, err, sizeof(err)), SN_OK);
        assert_int_equal(sn_store_get_states(f->store, ask, N, got, err, sizeof(err)), SN_OK);
        for (size_t i = 0; i < N; i++) {
            assert_int_equal(sn_store_get_state(f->store, ask[i], &one, err, sizeof(err)), SN_OK);
            assert_int_equal(got[i].number, ask[i]);
            assert_int_equal(got[i].status, one.status);
            assert_int_equal(got[i].events, one.events);
            assert_int_equal(got[i].first_day, one.first_day);
        }
        if (in_tx)
            sn_store_rollback(f->store);
    }
    assert_int_equal(got[1].status, SN_ST_ACTIVE);
    assert_int_equal(got[3].status, SN_ST_UNSEEN);
    /* cancel two known numbers, activate a new one between them and one above */
    sn_log_event next[] = {ev(100, SN_EV_CANCEL, 2024, 2, 1, 0, NULL),
                           ev(101, SN_EV_CANCEL, 2024, 2, 1, 1, NULL),
                           ev(102, SN_EV_ACTIVATE, 2024, 2, 1, 2, NULL),
                           ev(5000, SN_EV_ACTIVATE, 2024, 2, 1, 3, NULL)};
    assert_int_equal(sn_ledger_apply(f->store, next, 4, &rep, NULL, NULL, NULL, err, sizeof(err)),
                     SN_OK);
    assert_int_equal(rep.applied, 10);
    assert_int_equal(rep.nrejects, 0);
    assert_int_equal(sn_store_get_states(f->store, ask, N, got, err, sizeof(err)), SN_OK);
    assert_int_equal(got[1].status, SN_ST_FROZEN);
    assert_int_equal(got[1].events, 2);
    assert_int_equal(got[2].status, SN_ST_FROZEN);
    assert_int_equal(got[3].status, SN_ST_ACTIVE);
    assert_int_equal(got[3].events, 1);
    assert_int_equal(got[13].status, SN_ST_ACTIVE);
    sn_ledger_report_free(&rep);
}

static int count_change(void *ctx, const sn_number_state *st, uint64_t seq)
{
    (void)st;
    (void)seq;
    (*(int *)ctx)++;
    return 0;
}

/* A number's first state is a new row, a later one updates that row and
 * takes a new change number (one row per number in the changes after);
 * an update of a row that is not there fails and writes nothing. */
static void states_are_inserted_then_updated(void **state)
{
    fixture *f = *state;
    sn_ledger_report rep = {0};
    sn_log_event first[] = {ev(7, SN_EV_ACTIVATE, 2024, 1, 1, 0, NULL)};
    sn_log_event later[] = {ev(7, SN_EV_SUSPEND, 2024, 2, 1, 0, NULL),
                            ev(8, SN_EV_ACTIVATE, 2024, 2, 1, 1, NULL)};
    uint64_t seq0 = 0, seq1 = 0, seq2 = 0;
    assert_int_equal(sn_store_change_cursor(f->store, &seq0, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_ledger_apply(f->store, first, 1, &rep, NULL, NULL, NULL, err, sizeof(err)),
                     SN_OK);
    assert_int_equal(sn_store_change_cursor(f->store, &seq1, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_ledger_apply(f->store, later, 2, &rep, NULL, NULL, NULL, err, sizeof(err)),
                     SN_OK);
    assert_int_equal(rep.applied, 3);
    assert_int_equal(sn_store_change_cursor(f->store, &seq2, err, sizeof(err)), SN_OK);
    assert_int_equal(seq1, seq0 + 1);
    assert_int_equal(seq2, seq1 + 2);
    int rows = 0;
    assert_int_equal(
        sn_store_changes_after(f->store, 0, 100, count_change, &rows, err, sizeof(err)), SN_OK);
    assert_int_equal(rows, 2); /* numbers 7 and 8, each once */
    sn_number_state st;
    assert_int_equal(sn_store_get_state(f->store, 7, &st, err, sizeof(err)), SN_OK);
    assert_int_equal(st.status, SN_ST_SUSPENDED);
    assert_int_equal(st.events, 2);

    sn_number_state absent;
    assert_int_equal(sn_store_get_state(f->store, 9, &absent, err, sizeof(err)), SN_OK);
    absent.events = 1;
    absent.status = SN_ST_ACTIVE;
    assert_int_equal(sn_store_begin(f->store, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_put_state(f->store, &absent, 0, err, sizeof(err)), SN_ESTORE);
    assert_non_null(strstr(err, "no row"));
    /* a new row for a number that has one: refused, at the latest by the
     * commit (new rows are held back and written together, sqlite.h) */
    int rc = sn_store_put_state(f->store, &st, 1, err, sizeof(err));
    if (rc == SN_OK)
        rc = sn_store_commit(f->store, err, sizeof(err));
    assert_int_equal(rc, SN_ESTORE);
    assert_non_null(strstr(err, "UNIQUE"));
    sn_store_rollback(f->store);
    assert_int_equal(sn_store_get_state(f->store, 9, &absent, err, sizeof(err)), SN_OK);
    assert_int_equal(absent.events, 0);
    sn_ledger_report_free(&rep);
}

enum { HELD_N = 2 * SQ_ROWS_MAX + SQ_ROWS_CHUNK + 7 };
static char held_ids[HELD_N][SN_EVENT_ID_MAX]; /* the longest ids */

static int count_event(void *ctx, const sn_log_event *e, uint32_t ordinal)
{
    int *n = ctx;
    assert_int_equal(ordinal, (uint32_t)*n + 1);
    if (ordinal == 1) { /* the activation, with the longest id, whole */
        assert_int_equal(e->event_id_len, SN_EVENT_ID_MAX);
        assert_memory_equal(e->event_id, held_ids[HELD_N - 1], SN_EVENT_ID_MAX);
    } else {
        assert_int_equal(e->event_id_len, 0);
    }
    (*n)++;
    return 0;
}

/* New event and state rows held back in a transaction (sqlite.h): more
 * than SQ_ROWS_MAX, so written when full, in chunks and one by one, and
 * read back inside the transaction (state reads, event scans, an update of
 * a held state); a rollback drops those not yet written, and a held row
 * that cannot be written fails the transaction, leaving nothing of it. */
static void held_rows_are_written_read_and_dropped(void **state)
{
    fixture *f = *state;
    enum { N = HELD_N };
    sn_ledger_report rep = {0};
    char(*ids)[SN_EVENT_ID_MAX] = held_ids;
    sn_log_event *items = calloc(N, sizeof(*items));
    assert_non_null(items);
    for (uint32_t i = 0; i < N; i++) {
        memset(ids[i], 'e', SN_EVENT_ID_MAX);
        snprintf(ids[i] + 1, 12, "%010u", i); /* its NUL overwritten below */
        ids[i][11] = 'e';
        items[i] = ev(8613800000000ull + i, SN_EV_ACTIVATE, 2024, 1, 1, i, NULL);
        items[i].event_id = ids[i];
        items[i].event_id_len = SN_EVENT_ID_MAX;
    }
    assert_int_equal(sn_store_begin(f->store, err, sizeof(err)), SN_OK);
    assert_int_equal(
        sn_ledger_apply_in_tx(f->store, items, N, &rep, NULL, NULL, NULL, err, sizeof(err)), SN_OK);
    sn_number_state st;
    for (uint32_t i = 0; i < N; i += 97) { /* read inside the transaction */
        assert_int_equal(sn_store_get_state(f->store, items[i].ev.number, &st, err, sizeof(err)),
                         SN_OK);
        assert_int_equal(st.status, SN_ST_ACTIVE);
    }
    for (uint32_t i = 0; i < N; i++) /* every state held again updated in the same one */
        items[i] = ev(8613800000000ull + i, SN_EV_SUSPEND, 2024, 2, 1, i, NULL);
    assert_int_equal(
        sn_ledger_apply_in_tx(f->store, items, N, &rep, NULL, NULL, NULL, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_commit(f->store, err, sizeof(err)), SN_OK);
    assert_int_equal(rep.applied, 2 * N);
    for (uint32_t i = 0; i < N; i += 89) {
        assert_int_equal(sn_store_get_state(f->store, items[i].ev.number, &st, err, sizeof(err)),
                         SN_OK);
        assert_int_equal(st.status, SN_ST_SUSPENDED);
        assert_int_equal(st.events, 2);
    }
    int events = 0;
    items[0] = ev(8613800000000ull + N - 1, SN_EV_ACTIVATE, 2024, 1, 1, 0, NULL);
    assert_int_equal(
        sn_store_scan_events(f->store, items[0].ev.number, count_event, &events, err, sizeof(err)),
        SN_OK);
    assert_int_equal(events, 2); /* the activation with its id; the suspension has none */

    /* dropped by a rollback */
    sn_number_state fresh;
    sn_state_init(&fresh, 8613900000000ull);
    fresh.status = SN_ST_ACTIVE;
    fresh.events = 1;
    assert_int_equal(sn_store_begin(f->store, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_put_state(f->store, &fresh, 1, err, sizeof(err)), SN_OK);
    sn_store_rollback(f->store);
    assert_int_equal(sn_store_get_state(f->store, fresh.number, &st, err, sizeof(err)), SN_OK);
    assert_int_equal(st.status, SN_ST_UNSEEN);

    /* a held row that cannot be written: the transaction fails whole */
    assert_int_equal(sn_store_begin(f->store, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_put_state(f->store, &fresh, 1, err, sizeof(err)), SN_OK);
    st.number = 8613800000000ull; /* has a row */
    int rc = sn_store_put_state(f->store, &st, 1, err, sizeof(err));
    if (rc == SN_OK)
        rc = sn_store_commit(f->store, err, sizeof(err));
    assert_int_equal(rc, SN_ESTORE);
    sn_store_rollback(f->store);
    assert_int_equal(sn_store_get_state(f->store, fresh.number, &st, err, sizeof(err)), SN_OK);
    assert_int_equal(st.status, SN_ST_UNSEEN);

    /* the same failure met by a read whose caller goes on: the commit is refused */
    sn_number_state dup = st;
    dup.number = 8613800000000ull;
    assert_int_equal(sn_store_begin(f->store, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_put_state(f->store, &fresh, 1, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_put_state(f->store, &dup, 1, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_get_state(f->store, fresh.number, &st, err, sizeof(err)), SN_ESTORE);
    assert_int_equal(sn_store_commit(f->store, err, sizeof(err)), SN_ESTORE);
    assert_non_null(strstr(err, "not written"));
    sn_store_rollback(f->store);
    assert_int_equal(sn_store_get_state(f->store, fresh.number, &st, err, sizeof(err)), SN_OK);
    assert_int_equal(st.status, SN_ST_UNSEEN);
    free(items);
    sn_ledger_report_free(&rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(applies_per_number_in_time_order, setup, teardown),
        cmocka_unit_test_setup_teardown(states_are_inserted_then_updated, setup, teardown),
        cmocka_unit_test_setup_teardown(reads_close_and_far_numbers_alike, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicates_and_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(guard_and_observer, setup, teardown),
        cmocka_unit_test_setup_teardown(held_rows_are_written_read_and_dropped, setup, teardown),
        cmocka_unit_test(radix_sort_matches_the_comparator),
    };
    return sn_run_tests(tests);
}
