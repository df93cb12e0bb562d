/* test_store_lock.c - two handles on one SQLite store and its one write
 * lock (store/sqlite/open.c's busy handler): the second handle's begin
 * waits while the first holds the lock and goes on once it is released,
 * and gives up with "database is locked" once SN_SQLITE_BUSY_TIMEOUT_MS
 * have passed, having written nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store_fixture.h"
#include "unit.h"

#include "core/errors.h"
#include "store/sqlite/sqlite.h"
#include "store/store.h"
#include "util/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

typedef struct {
    sn_store *holder, *waiter;
    char path[4096];
} fixture;

static int setup(void **state)
{
    char err[SN_ERRMSG_MAX];
    fixture *f = calloc(1, sizeof(*f));
    sn_test_store_path(f->path, sizeof(f->path), "lock");
    sn_test_store_remove(f->path);
    assert_int_equal(sn_store_open(f->path, NULL, &f->holder, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_open(f->path, NULL, &f->waiter, err, sizeof(err)), SN_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sn_store_close(f->waiter);
    sn_store_close(f->holder);
    sn_test_store_remove(f->path);
    free(f);
    return 0;
}

typedef struct {
    sn_store *s;
    atomic_int done;
    int rc;
    char err[SN_ERRMSG_MAX];
} begin_job;

static void *begin_then_commit(void *arg)
{
    begin_job *j = arg;
    j->rc = sn_store_begin(j->s, j->err, sizeof(j->err));
    if (j->rc == SN_OK)
        j->rc = sn_store_commit(j->s, j->err, sizeof(j->err));
    atomic_store(&j->done, 1);
    return NULL;
}

static void a_begin_waits_for_the_lock_and_then_goes_on(void **state)
{
    fixture *f = *state;
    char err[SN_ERRMSG_MAX];
    begin_job j = {f->waiter, 0, -1, ""};
    pthread_t t;
    assert_int_equal(sn_store_begin(f->holder, err, sizeof(err)), SN_OK);
    assert_int_equal(pthread_create(&t, NULL, begin_then_commit, &j), 0);
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    assert_int_equal(atomic_load(&j.done), 0); /* still waiting */
    assert_int_equal(sn_store_commit(f->holder, err, sizeof(err)), SN_OK);
    pthread_join(t, NULL);
    assert_int_equal(j.rc, SN_OK);
}

static void a_begin_gives_up_after_the_busy_timeout(void **state)
{
    fixture *f = *state;
    char err[SN_ERRMSG_MAX];
    assert_int_equal(sn_store_begin(f->holder, err, sizeof(err)), SN_OK);
    int64_t t0 = sn_monotonic_ms();
    int rc = sn_store_begin(f->waiter, err, sizeof(err));
    int64_t waited = sn_monotonic_ms() - t0;
    assert_int_not_equal(rc, SN_OK);
    assert_non_null(strstr(err, "locked"));
    assert_true(waited >= SN_SQLITE_BUSY_TIMEOUT_MS);
    sn_store_rollback(f->holder);
    /* the lock free again, the waiter's handle works */
    assert_int_equal(sn_store_begin(f->waiter, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_commit(f->waiter, err, sizeof(err)), SN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_begin_waits_for_the_lock_and_then_goes_on, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_begin_gives_up_after_the_busy_timeout, setup, teardown),
    };
    return sn_run_tests(tests);
}
