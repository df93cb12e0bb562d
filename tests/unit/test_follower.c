/* test_follower.c - the follower against the writer's own index updates
 * (follower.c, invariant 3), step by step on one thread: follower.c is
 * included, and the store calls it makes are answered by a table of rows
 * here (number, state, change number), so each interleaving of a section
 * and a writer's commit is played in a chosen order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/date.h"
#include "follow/follower.c"

/* ---- the fake store --------------------------------------------------- */

#define ROWS 6000

static struct {
    sn_number_state st;
    uint64_t seq;
} rows[ROWS];
static size_t nrows;
static uint64_t last_seq;
static int fake_handle;

/* Every commit in order, for the standby's view: it has replayed those up
 * to `replayed` (a number's row there is its last commit up to it). */
static struct {
    sn_number_state st;
    uint64_t seq;
} hist[ROWS];
static size_t nhist;
static uint64_t replayed;

/* A commit writing st: its row takes the next change number. */
static void commit(const sn_number_state *st)
{
    if (nhist < ROWS) {
        hist[nhist].st = *st;
        hist[nhist++].seq = last_seq + 1;
    }
    size_t i = 0;
    while (i < nrows && rows[i].st.number != st->number)
        i++;
    if (i == nrows)
        nrows++;
    rows[i].st = *st;
    rows[i].seq = ++last_seq;
}

int sn_store_open(const char *path, const sn_rules *rules, sn_store **out, char *err, size_t errlen)
{
    (void)path, (void)rules, (void)err, (void)errlen;
    *out = (sn_store *)&fake_handle;
    return SN_OK;
}

void sn_store_close(sn_store *s)
{
    (void)s;
}

int sn_store_can_follow(const sn_store *s)
{
    (void)s;
    return 1;
}

int sn_store_listen(sn_store *s, char *err, size_t errlen)
{
    (void)s, (void)err, (void)errlen;
    return SN_OK;
}

/* No notifications here: the wake-up (stop) or a short timeout. */
int sn_store_wait_changes(sn_store *s, int timeout_ms, int wake_fd, int64_t ignore_session,
                          char *err, size_t errlen)
{
    struct pollfd p = {wake_fd, POLLIN, 0};
    (void)s, (void)ignore_session, (void)err, (void)errlen;
    return poll(&p, 1, timeout_ms < 20 ? timeout_ms : 20) > 0;
}

int sn_store_change_cursor(sn_store *s, uint64_t *seq, char *err, size_t errlen)
{
    (void)s, (void)err, (void)errlen;
    *seq = last_seq;
    return SN_OK;
}

/* Rows after `after` in change order: the lowest seq above the last one
 * handed out, each time (the table is small). */
int sn_store_changes_after(sn_store *s, uint64_t after, uint32_t limit,
                           int (*fn)(void *ctx, const sn_number_state *st, uint64_t seq), void *ctx,
                           char *err, size_t errlen)
{
    (void)s, (void)err, (void)errlen;
    for (uint32_t k = 0; k < limit; k++) {
        size_t best = nrows;
        for (size_t i = 0; i < nrows; i++)
            if (rows[i].seq > after && (best == nrows || rows[i].seq < rows[best].seq))
                best = i;
        if (best == nrows)
            break;
        after = rows[best].seq;
        int stop = fn(ctx, &rows[best].st, after);
        if (stop != 0)
            return stop;
    }
    return SN_OK;
}

/* The standby's rows after `after`: nothing unless it replayed `floor`. */
int sn_store_changes_after_floor(sn_store *s, uint64_t after, uint64_t floor, uint32_t limit,
                                 int (*fn)(void *ctx, const sn_number_state *st, uint64_t seq),
                                 void *ctx, char *err, size_t errlen)
{
    (void)s, (void)err, (void)errlen;
    if (replayed < floor)
        return SN_OK;
    for (uint32_t k = 0; k < limit; k++) {
        size_t best = nhist;
        for (size_t i = 0; i < nhist && hist[i].seq <= replayed; i++) {
            int later = 0; /* the number has a later commit the standby replayed */
            for (size_t j = i + 1; j < nhist && hist[j].seq <= replayed; j++)
                later |= hist[j].st.number == hist[i].st.number;
            if (!later && hist[i].seq > after && (best == nhist || hist[i].seq < hist[best].seq))
                best = i;
        }
        if (best == nhist)
            break;
        after = hist[best].seq;
        int stop = fn(ctx, &hist[best].st, after);
        if (stop != 0)
            return stop;
    }
    return SN_OK;
}

/* ---- helpers ------------------------------------------------------------ */

static char err[SN_ERRMSG_MAX];

/* A state of n told apart by the day of its latest activation. */
static sn_number_state active_since(sn_number n, sn_day day)
{
    sn_number_state st;
    sn_state_init(&st, n);
    st.status = SN_ST_ACTIVE;
    st.first_is_activation = 1;
    st.first_day = sn_day_from_civil(2020, 1, 1);
    st.last_activation_day = day;
    st.events = 1;
    return st;
}

static sn_day indexed_day(sn_numindex *ix, sn_number n)
{
    sn_number_state out;
    assert_int_equal(sn_numindex_get(ix, n, &out), 1);
    return out.last_activation_day;
}

static int woken(sn_follower *f)
{
    uint64_t count = 0;
    return read(f->wake_fd, &count, sizeof(count)) == sizeof(count) && count > 0;
}

typedef struct {
    sn_numindex *ix;
    sn_follower *f;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    nrows = nhist = 0;
    last_seq = 0;
    replayed = 0;
    fx->ix = sn_numindex_new();
    assert_int_equal(sn_follower_open("fake", *state != NULL ? "standby" : NULL, fx->ix, &fx->f,
                                      err, sizeof(err)),
                     SN_OK);
    assert_non_null(fx->f);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    sn_follower_stop(fx->f);
    sn_numindex_free(fx->ix);
    free(fx);
    return 0;
}

static const sn_number N1 = 8613800000001ull;

/* ---- cases -------------------------------------------------------------- */

/* The hole the rewind closes: this node's writer commits day2, another node
 * commits day3 right after, a section reads day3 before the writer got the
 * lock, then the writer puts day2. The next section reads day3 again. */
static void a_newer_state_read_meanwhile_is_read_again(void **state)
{
    fixture *fx = *state;
    sn_day d1 = sn_day_from_civil(2023, 1, 1), d2 = d1 + 100, d3 = d1 + 200;
    sn_number_state s1 = active_since(N1, d1), s2 = active_since(N1, d2), s3 = active_since(N1, d3);
    sn_follow_mark m;
    commit(&s1);
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(indexed_day(fx->ix, N1), d1);
    sn_follower_mark(fx->f, &m);
    commit(&s2); /* the writer's commit */
    commit(&s3); /* another node's, right after */
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(indexed_day(fx->ix, N1), d3);
    assert_int_equal(sn_follower_position(fx->f), 3);
    sn_follower_index_own(fx->f, fx->ix, &m, &s2, 1, NULL, 1);
    assert_int_equal(indexed_day(fx->ix, N1), d2); /* behind, for the moment */
    assert_int_equal(sn_follower_position(fx->f), 1);
    assert_true(woken(fx->f));
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(indexed_day(fx->ix, N1), d3);
    assert_int_equal(sn_follower_position(fx->f), 3);
}

/* No section between the mark and the writer's puts: nothing to read again;
 * the next section reads the writer's own change once. */
static void no_section_meanwhile_no_rewind(void **state)
{
    fixture *fx = *state;
    sn_day d1 = sn_day_from_civil(2023, 1, 1);
    sn_number_state s1 = active_since(N1, d1), s2 = active_since(N1, d1 + 100);
    sn_follow_mark m;
    commit(&s1);
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    sn_follower_mark(fx->f, &m);
    commit(&s2);
    sn_follower_index_own(fx->f, fx->ix, &m, &s2, 1, NULL, 1);
    assert_int_equal(indexed_day(fx->ix, N1), d1 + 100);
    assert_int_equal(sn_follower_position(fx->f), 1);
    assert_false(woken(fx->f));
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(indexed_day(fx->ix, N1), d1 + 100);
    assert_int_equal(sn_follower_position(fx->f), 2);
}

/* A section that ended before the writer's commit read older states: the
 * writer's are the newest, and a rewind only reads them again. */
static void an_older_section_leaves_the_writers_state(void **state)
{
    fixture *fx = *state;
    sn_day d1 = sn_day_from_civil(2023, 1, 1);
    sn_number_state s1 = active_since(N1, d1), s2 = active_since(N1, d1 + 100);
    sn_follow_mark m;
    sn_follower_mark(fx->f, &m);
    commit(&s1);
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK); /* before the writer's commit */
    commit(&s2);
    sn_follower_index_own(fx->f, fx->ix, &m, &s2, 1, NULL, 1);
    assert_int_equal(indexed_day(fx->ix, N1), d1 + 100);
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(indexed_day(fx->ix, N1), d1 + 100);
    assert_int_equal(sn_follower_position(fx->f), 2);
}

/* Invariant 5: the writer's commit took (1, 2] and the cursor stood at 1:
 * the cursor moves to 2 with the writer's puts, the thread is not woken,
 * the writer's session stops waking it, and nothing is read back. */
static void own_changes_are_not_read_back(void **state)
{
    fixture *fx = *state;
    sn_day d1 = sn_day_from_civil(2023, 1, 1);
    sn_number_state s1 = active_since(N1, d1), s2 = active_since(N1 + 1, d1);
    sn_store_commit_changes c = {1, 2, 77};
    sn_follow_mark m;
    commit(&s1); /* another node's */
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    sn_follower_mark(fx->f, &m);
    commit(&s2); /* the writer's */
    sn_follower_index_own(fx->f, fx->ix, &m, &s2, 1, &c, 1);
    assert_int_equal(sn_follower_position(fx->f), 2);
    assert_int_equal(atomic_load(&fx->f->own_session), 77);
    assert_false(woken(fx->f));
    uint64_t sections = atomic_load(&fx->f->sections);
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_follower_position(fx->f), 2);
    assert_int_equal(atomic_load(&fx->f->sections), sections + 1);
    assert_int_equal(sn_numindex_count(fx->ix), 2);
}

/* Another node's change (seq 2) came before the writer's (3), unread: the
 * cursor (1) is not below the writer's changes, so it stays, the thread is
 * woken, and reads both. */
static void own_changes_after_unread_ones_are_read(void **state)
{
    fixture *fx = *state;
    sn_day d1 = sn_day_from_civil(2023, 1, 1);
    sn_number_state s1 = active_since(N1, d1), s2 = active_since(N1 + 1, d1),
                    s3 = active_since(N1 + 2, d1);
    sn_store_commit_changes c = {2, 3, 77};
    sn_follow_mark m;
    commit(&s1);
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    sn_follower_mark(fx->f, &m);
    commit(&s2); /* another node's */
    commit(&s3); /* the writer's */
    sn_follower_index_own(fx->f, fx->ix, &m, &s3, 1, &c, 1);
    assert_int_equal(sn_follower_position(fx->f), 1);
    assert_int_equal(atomic_load(&fx->f->own_session), 0);
    assert_true(woken(fx->f));
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_follower_position(fx->f), 3);
    assert_int_equal(sn_numindex_count(fx->ix), 3);
}

/* The rewind (invariant 3) comes first: a section read the writer's change
 * and a newer one of another node before the writer's puts; the cursor goes
 * back, not forward, and the newer state wins again. */
static void a_due_rewind_is_not_skipped(void **state)
{
    fixture *fx = *state;
    sn_day d1 = sn_day_from_civil(2023, 1, 1), d2 = d1 + 100, d3 = d1 + 200;
    sn_number_state s1 = active_since(N1, d1), s2 = active_since(N1, d2), s3 = active_since(N1, d3);
    sn_store_commit_changes c = {1, 2, 77};
    sn_follow_mark m;
    commit(&s1);
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    sn_follower_mark(fx->f, &m);
    commit(&s2); /* the writer's */
    commit(&s3); /* another node's */
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    sn_follower_index_own(fx->f, fx->ix, &m, &s2, 1, &c, 1);
    assert_int_equal(sn_follower_position(fx->f), 1);
    assert_true(woken(fx->f));
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(indexed_day(fx->ix, N1), d3);
    assert_int_equal(sn_follower_position(fx->f), 3);
}

/* A transaction two batches shared: the first part's puts move nothing
 * (its states are not all the transaction's); the last part's do. */
static void a_shared_transaction_moves_with_its_last_part(void **state)
{
    fixture *fx = *state;
    sn_day d1 = sn_day_from_civil(2023, 1, 1);
    sn_number_state s1 = active_since(N1, d1), s2 = active_since(N1 + 1, d1);
    sn_store_commit_changes c = {0, 2, 77};
    sn_follow_mark m1, m2;
    sn_follower_mark(fx->f, &m1);
    sn_follower_mark(fx->f, &m2);
    commit(&s1);
    commit(&s2);
    sn_follower_index_own(fx->f, fx->ix, &m1, &s1, 1, &c, 0);
    assert_int_equal(sn_follower_position(fx->f), 0);
    assert_false(woken(fx->f));
    sn_follower_index_own(fx->f, fx->ix, &m2, &s2, 1, &c, 1);
    assert_int_equal(sn_follower_position(fx->f), 2);
    assert_int_equal(sn_numindex_count(fx->ix), 2);
}

/* The writer's commit took (2, 3]. Since its mark a section ended that read
 * only states no newer than the writer's: the last commit's change (2) and
 * then nothing (the once-a-second read). The writer's states are the
 * newest, so there is no rewind, and its own change is not read back; a
 * section that read a later commit (4) does rewind the next one (3, 4]. */
static void sections_of_older_states_do_not_rewind(void **state)
{
    fixture *fx = *state;
    sn_day d1 = sn_day_from_civil(2023, 1, 1);
    sn_number_state s1 = active_since(N1, d1), s2 = active_since(N1, d1 + 100),
                    s3 = active_since(N1, d1 + 200), s4 = active_since(N1, d1 + 300),
                    s5 = active_since(N1, d1 + 400);
    sn_store_commit_changes c3 = {2, 3, 77}, c4 = {3, 4, 77};
    sn_follow_mark m;
    commit(&s1);
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    sn_follower_mark(fx->f, &m);
    commit(&s2); /* the last transaction's, read by a section */
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK); /* reads nothing */
    commit(&s3);
    sn_follower_index_own(fx->f, fx->ix, &m, &s3, 1, &c3, 1);
    assert_false(woken(fx->f));
    assert_int_equal(sn_follower_position(fx->f), 3);
    assert_int_equal(indexed_day(fx->ix, N1), d1 + 200);
    sn_follower_mark(fx->f, &m);
    commit(&s4); /* the writer's */
    commit(&s5); /* another node's, read before the writer's puts */
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    sn_follower_index_own(fx->f, fx->ix, &m, &s4, 1, &c4, 1);
    assert_true(woken(fx->f));
    assert_int_equal(sn_follower_position(fx->f), 3);
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(indexed_day(fx->ix, N1), d1 + 400);
    assert_int_equal(sn_follower_position(fx->f), 5);
}

/* Catching up reads page after page, one section each, up to the last. */
static void catch_up_reads_every_page(void **state)
{
    fixture *fx = *state;
    sn_day d = sn_day_from_civil(2023, 1, 1);
    size_t n = 2 * PAGE_ROWS + 100;
    for (size_t i = 0; i < n; i++) {
        sn_number_state st = active_since(N1 + i, d);
        commit(&st);
    }
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_numindex_count(fx->ix), n);
    assert_int_equal(sn_follower_position(fx->f), n);
    assert_int_equal(atomic_load(&fx->f->sections), 3);
}

/* Without a follower (SQLite) the writer's states go straight in. */
static void without_a_follower_the_writer_puts(void **state)
{
    (void)state;
    sn_numindex *ix = sn_numindex_new();
    sn_number_state st = active_since(N1, sn_day_from_civil(2023, 1, 1));
    sn_follow_mark m;
    sn_follower_mark(NULL, &m);
    sn_follower_index_own(NULL, ix, &m, &st, 1, NULL, 1);
    assert_int_equal(indexed_day(ix, N1), st.last_activation_day);
    assert_int_equal(sn_follower_position(NULL), 0);
    sn_follower_stop(NULL);
    sn_numindex_free(ix);
}

/* The thread starts from the cursor read at open and stops when asked. */
static void starts_and_stops(void **state)
{
    fixture *fx = *state;
    sn_number_state st = active_since(N1, sn_day_from_civil(2023, 1, 1));
    commit(&st);
    assert_int_equal(sn_follower_start(fx->f, err, sizeof(err)), SN_OK);
    for (int i = 0; i < 200 && sn_follower_position(fx->f) < 1; i++)
        usleep(10000);
    assert_int_equal(sn_follower_position(fx->f), 1);
    assert_int_equal(indexed_day(fx->ix, N1), st.last_activation_day);
}

/* Polling a standby (--follow), invariant 4: another node commits day2,
 * this node's writer day3 and puts it; the standby has replayed day2 only.
 * A section then must not put day2 over day3: it reads nothing until the
 * standby has the writer's commit. */
static void a_lagging_standby_never_puts_an_older_state(void **state)
{
    fixture *fx = *state;
    sn_day d1 = sn_day_from_civil(2023, 1, 1), d2 = d1 + 100, d3 = d1 + 200;
    sn_number_state s1 = active_since(N1, d1), s2 = active_since(N1, d2), s3 = active_since(N1, d3);
    sn_follow_mark m;
    assert_non_null(fx->f->head);
    commit(&s1);
    replayed = 1;
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(indexed_day(fx->ix, N1), d1);
    commit(&s2); /* another node's */
    sn_follower_mark(fx->f, &m);
    commit(&s3); /* this node's writer */
    sn_follower_index_own(fx->f, fx->ix, &m, &s3, 1, NULL, 1);
    assert_int_equal(indexed_day(fx->ix, N1), d3);
    replayed = 2; /* the standby has day2, not yet day3 */
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(indexed_day(fx->ix, N1), d3);
    assert_int_equal(sn_follower_position(fx->f), 1);
    replayed = 3;
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(indexed_day(fx->ix, N1), d3);
    assert_int_equal(sn_follower_position(fx->f), 3);
}

/* Polling: the first section reads --db's change number (the index was
 * loaded from there): the standby's rows count once it has replayed that
 * far, not before (they could be older than the loaded states). */
static void polling_reads_once_the_standby_is_as_far_as_the_load(void **state)
{
    fixture *fx = *state;
    sn_day d1 = sn_day_from_civil(2023, 1, 1);
    sn_number_state s1 = active_since(N1, d1), s2 = active_since(N1 + 1, d1);
    commit(&s1);
    commit(&s2);
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK); /* standby at 0 */
    assert_int_equal(sn_numindex_count(fx->ix), 0);
    replayed = 1;
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_numindex_count(fx->ix), 0);
    replayed = 2;
    assert_int_equal(catch_up(fx->f, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_numindex_count(fx->ix), 2);
    assert_int_equal(sn_follower_position(fx->f), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_newer_state_read_meanwhile_is_read_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(no_section_meanwhile_no_rewind, setup, teardown),
        cmocka_unit_test_setup_teardown(an_older_section_leaves_the_writers_state, setup, teardown),
        cmocka_unit_test_setup_teardown(own_changes_are_not_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(own_changes_after_unread_ones_are_read, setup, teardown),
        cmocka_unit_test_setup_teardown(a_due_rewind_is_not_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(a_shared_transaction_moves_with_its_last_part, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(sections_of_older_states_do_not_rewind, setup, teardown),
        cmocka_unit_test_setup_teardown(catch_up_reads_every_page, setup, teardown),
        cmocka_unit_test(without_a_follower_the_writer_puts),
        cmocka_unit_test_setup_teardown(starts_and_stops, setup, teardown),
        cmocka_unit_test_prestate_setup_teardown(a_lagging_standby_never_puts_an_older_state, setup,
                                                 teardown, (void *)"standby"),
        cmocka_unit_test_prestate_setup_teardown(
            polling_reads_once_the_standby_is_as_far_as_the_load, setup, teardown,
            (void *)"standby"),
    };
    return sn_run_tests(tests);
}
