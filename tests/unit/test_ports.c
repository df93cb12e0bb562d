/* test_ports.c - store/ports.c on a SQLite store: an authorisation made
 * and used up in one transaction leaves nothing (the begin read "no ports"
 * and the authorisation changed that); one committed earlier is seen by a
 * later transaction's clear; a clear with no authorisation anywhere (no
 * DELETE sent) and outside a transaction is not an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store_fixture.h"
#include "unit.h"

#include "core/errors.h"
#include "store/ports.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N1 8613800000001ULL
#define N2 8613800000002ULL

static char err[SN_ERRMSG_MAX];

typedef struct {
    sn_store *store;
    char path[4096];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    sn_test_store_path(f->path, sizeof(f->path), "ports");
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

static const sn_port port = {1, 2, 1, 1706716800};

static int has_port(sn_store *s, sn_number n)
{
    sn_port p;
    int rc = sn_store_port_get(s, n, &p, err, sizeof(err));
    assert_true(rc == SN_OK || rc == SN_ENOTFOUND);
    return rc == SN_OK;
}

static void authorised_and_used_up_in_one_transaction(void **state)
{
    sn_store *s = ((fixture *)*state)->store;
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK); /* no port yet */
    assert_int_equal(sn_store_port_authorize(s, N1, &port, err, sizeof(err)), SN_OK);
    assert_true(has_port(s, N1));
    assert_int_equal(sn_store_port_clear(s, N1, err, sizeof(err)), SN_OK);
    assert_false(has_port(s, N1));
    assert_int_equal(sn_store_commit(s, err, sizeof(err)), SN_OK);
    assert_false(has_port(s, N1));
}

static void committed_authorisation_cleared_later(void **state)
{
    sn_store *s = ((fixture *)*state)->store;
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_port_authorize(s, N1, &port, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_port_authorize(s, N2, &port, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_commit(s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK); /* reads: ports exist */
    assert_int_equal(sn_store_port_clear(s, N1, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_commit(s, err, sizeof(err)), SN_OK);
    assert_false(has_port(s, N1));
    assert_true(has_port(s, N2));
    assert_int_equal(sn_store_port_clear(s, N2, err, sizeof(err)), SN_OK); /* no transaction */
    assert_false(has_port(s, N2));
}

static void clear_without_any_port(void **state)
{
    sn_store *s = ((fixture *)*state)->store;
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_port_clear(s, N1, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_commit(s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_port_clear(s, N1, err, sizeof(err)), SN_OK);
    assert_false(has_port(s, N1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(authorised_and_used_up_in_one_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(committed_authorisation_cleared_later, setup, teardown),
        cmocka_unit_test_setup_teardown(clear_without_any_port, setup, teardown),
    };
    return sn_run_tests(tests);
}
