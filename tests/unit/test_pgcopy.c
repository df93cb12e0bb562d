/* test_pgcopy.c - store/pg/buffer.c: how a flush's events are cut into
 * COPY statements (pg_event_run_end): the runs cover every event once, in
 * order; a run of one block (PG_COPY_PARTITION_NUMBERS numbers, a partition
 * of open.c's layout: +86138..., +1212...) is never cut; a run ends where
 * the block changes once it holds PG_COPY_SPLIT_ROWS rows, and not before
 * (a scattered feed is not sent one event per statement). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "store/pg/pg.h"

#include <string.h>

#define MAX_EVENTS 4096

static pg_pending_event ev[MAX_EVENTS];

/* Event i of number n (ordinal i), appended at ev[*k]. */
static void add(size_t *k, sn_number n, uint32_t ordinal)
{
    assert_true(*k < MAX_EVENTS);
    memset(&ev[*k], 0, sizeof(ev[*k]));
    ev[*k].id = sn_log_event_key(n, ordinal);
    (*k)++;
}

/* count events: numbers first, first + 1, ... two events each. */
static void add_numbers(size_t *k, sn_number first, size_t count)
{
    for (size_t i = 0; i < count / 2; i++) {
        add(k, first + i, 0);
        add(k, first + i, 1);
    }
}

/* The run ends from 0 on, into ends (at most max); their count. */
static size_t runs(size_t n, size_t *ends, size_t max)
{
    size_t from = 0, nruns = 0;
    while (from < n) {
        size_t to = pg_event_run_end(ev, n, from);
        assert_true(to > from);
        assert_true(to <= n);
        assert_true(nruns < max);
        ends[nruns++] = to;
        from = to;
    }
    return nruns;
}

static void block_is_one_partition(void **state)
{
    (void)state;
    /* +86138... and +86139... are two partitions (events_86_138, _139) */
    assert_int_equal(8613800000000 / PG_COPY_PARTITION_NUMBERS, 86138);
    assert_int_equal(8613999999999 / PG_COPY_PARTITION_NUMBERS, 86139);
    /* +1 212...: events_1_21 */
    assert_int_equal(12125550123 / PG_COPY_PARTITION_NUMBERS, 121);
}

static void one_block_is_one_run(void **state)
{
    (void)state;
    size_t k = 0, ends[8];
    add_numbers(&k, 8613800000000, 3000);
    assert_int_equal(runs(k, ends, 8), 1);
    assert_int_equal(ends[0], k);
}

static void runs_end_where_the_block_changes(void **state)
{
    (void)state;
    size_t k = 0, ends[8];
    add_numbers(&k, 8613800000000, 2 * PG_COPY_SPLIT_ROWS);
    add_numbers(&k, 8613999999000, PG_COPY_SPLIT_ROWS); /* +86139 */
    add_numbers(&k, 8615000000000, 2 * PG_COPY_SPLIT_ROWS);
    assert_int_equal(runs(k, ends, 8), 3);
    assert_int_equal(ends[0], 2 * PG_COPY_SPLIT_ROWS);
    assert_int_equal(ends[1], 3 * PG_COPY_SPLIT_ROWS);
    assert_int_equal(ends[2], 5 * PG_COPY_SPLIT_ROWS);
}

/* A feed spread thin (40 blocks of 10 events) is not one statement per
 * block: a run takes blocks until it holds PG_COPY_SPLIT_ROWS rows, then
 * ends where the next block starts. */
static void small_blocks_share_a_run(void **state)
{
    (void)state;
    size_t k = 0, ends[64];
    for (int b = 0; b < 40; b++)
        add_numbers(&k, (sn_number)(86110 + b) * PG_COPY_PARTITION_NUMBERS, 10);
    size_t n = runs(k, ends, 64);
    assert_int_equal(n, 2);
    assert_int_equal(ends[0], ((PG_COPY_SPLIT_ROWS + 9) / 10) * 10); /* whole blocks */
    assert_int_equal(ends[1], k);
}

/* Exactly PG_COPY_SPLIT_ROWS rows of one block, then another block: the
 * limit is reached at the block's end, so the run ends there; one row
 * fewer and the next block joins the run. */
static void split_rows_limit_crossed(void **state)
{
    (void)state;
    size_t k = 0, ends[8];
    add_numbers(&k, 8613800000000, PG_COPY_SPLIT_ROWS);
    add_numbers(&k, 8613900000000, 10);
    assert_int_equal(runs(k, ends, 8), 2);
    assert_int_equal(ends[0], PG_COPY_SPLIT_ROWS);
    k = 0;
    add_numbers(&k, 8613800000000, PG_COPY_SPLIT_ROWS - 2);
    add(&k, 8613800099999, 0);
    add_numbers(&k, 8613900000000, 10);
    assert_int_equal(runs(k, ends, 8), 1);
    assert_int_equal(ends[0], k);
}

static void single_event(void **state)
{
    (void)state;
    size_t k = 0, ends[2];
    add(&k, 447700900123, 0);
    assert_int_equal(runs(k, ends, 2), 1);
    assert_int_equal(pg_event_run_end(ev, 1, 0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(block_is_one_partition),
        cmocka_unit_test(one_block_is_one_run),
        cmocka_unit_test(runs_end_where_the_block_changes),
        cmocka_unit_test(small_blocks_share_a_run),
        cmocka_unit_test(split_rows_limit_crossed),
        cmocka_unit_test(single_event),
    };
    return sn_run_tests(tests);
}
