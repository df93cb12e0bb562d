/* test_audit.c - the audit trail over a real SQLite store in a temporary
 * file: more records than one transaction takes (SN_AUDIT_BATCH_RECORDS)
 * and a buffer far smaller than them all end written, none lost, in order;
 * a batch's items packed and exported one record each, with the number's
 * keyed hash; the usage counted per verdict; the purge deletes more rows
 * than one of its transactions takes (SN_AUDIT_PURGE_BATCH), only those
 * past the retention. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "audit/audit.h"
#include "audit/export.h"
#include "core/errors.h"
#include "store/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char err[SN_ERRMSG_MAX];

typedef struct {
    char path[64];
    sn_secret secret;
} fixture;

static void remove_store(const char *path)
{
    char p[80];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    sn_store *s = NULL;
    snprintf(f->path, sizeof(f->path), "/tmp/sn-audit-%d.db", (int)getpid());
    remove_store(f->path);
    assert_int_equal(sn_store_open(f->path, NULL, &s, err, sizeof(err)), SN_OK);
    sn_store_close(s);
    memset(f->secret.key, 7, sizeof(f->secret.key));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    remove_store(f->path);
    free(f);
    return 0;
}

static int64_t now_ms(void)
{
    return (int64_t)time(NULL) * 1000;
}

static void count(const char *path, uint64_t *rows, uint64_t *items)
{
    sn_store *s = NULL;
    assert_int_equal(sn_store_open(path, NULL, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_audit_count(s, 0, INT64_MAX, rows, items, err, sizeof(err)), SN_OK);
    sn_store_close(s);
}

#define MANY (SN_AUDIT_BATCH_RECORDS * 2 + 17)

/* MANY records through a buffer of 100: every one written, ids in order. */
static void every_record_is_written_through_a_small_buffer(void **state)
{
    fixture *f = *state;
    sn_audit_options o = {f->path, &f->secret, 0, 100, 480};
    uint64_t rows, items;
    assert_int_equal(sn_audit_start(&o, err, sizeof(err)), SN_OK);
    assert_true(sn_audit_on());
    for (int i = 0; i < MANY; i++) {
        sn_audit_record r;
        memset(&r, 0, sizeof(r));
        r.at_ms = now_ms();
        r.route = "/v1/check";
        r.method = "POST";
        r.status = 200;
        r.who_kind = "app";
        snprintf(r.app, sizeof(r.app), "app-%d", i % 3);
        snprintf(r.request, sizeof(r.request), "r%d", i);
        r.verdict = i % 4;
        r.day = SN_DAY_NONE;
        sn_audit_add(&r);
    }
    sn_strbuf m = {0};
    sn_audit_metrics(&m);
    assert_non_null(strstr(m.s, "secondnum_audit_buffer 100\n"));
    free(m.s);
    sn_audit_stop();
    assert_false(sn_audit_on());
    count(f->path, &rows, &items);
    assert_int_equal(rows, MANY);
    assert_int_equal(items, 0);
}

typedef struct {
    sn_strbuf out;
    int first;
    size_t records;
    const uint8_t *only;
} exported;

static int export_row(void *ctx, const sn_audit_row *r)
{
    exported *e = ctx;
    e->records += sn_audit_export_row(&e->out, r, 1, "", e->only, &e->first);
    return 0;
}

/* A batch's items: one record each, the hash of each number, the usage. */
static void batch_items_are_exported_one_record_each(void **state)
{
    fixture *f = *state;
    sn_audit_options o = {f->path, &f->secret, 0, 10, 0};
    sn_audit_item items[3] = {
        {8613700000001ULL, 19000, 3, 1}, {8613700000002ULL, 19001, 1, 1}, {0, SN_DAY_NONE, -1, 0}};
    sn_audit_record r;
    memset(&r, 0, sizeof(r));
    r.at_ms = now_ms();
    r.route = "/v1/check/batch";
    r.method = "POST";
    r.status = 200;
    r.who_kind = "app";
    snprintf(r.app, sizeof(r.app), "bank");
    r.verdict = -1;
    r.day = SN_DAY_NONE;
    r.items = items;
    r.nitems = 3;
    assert_int_equal(sn_audit_start(&o, err, sizeof(err)), SN_OK);
    sn_audit_add(&r);
    sn_audit_stop();

    sn_store *s = NULL;
    exported e = {{0}, 1, 0, NULL};
    uint8_t hash[SN_AUDIT_HASH_LEN];
    char hex[2 * SN_AUDIT_HASH_LEN + 1];
    assert_int_equal(sn_store_open(f->path, NULL, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(
        sn_store_audit_list(s, 0, INT64_MAX, "bank", 0, 10, export_row, &e, err, sizeof(err)),
        SN_OK);
    assert_int_equal(e.records, 3);
    assert_non_null(strstr(e.out.s, ",reassigned,"));
    assert_non_null(strstr(e.out.s, ",unchanged,"));
    assert_non_null(strstr(e.out.s, ",,,error,"));
    assert_null(strstr(e.out.s, "8613700000001"));
    sn_audit_number_hash(&f->secret, 8613700000002ULL, hash);
    sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
    free(e.out.s);
    e = (exported){{0}, 1, 0, hash};
    assert_int_equal(
        sn_store_audit_list(s, 0, INT64_MAX, NULL, 0, 10, export_row, &e, err, sizeof(err)), SN_OK);
    assert_int_equal(e.records, 1);
    assert_non_null(strstr(e.out.s, hex));
    free(e.out.s);
    sn_store_close(s);
}

static int usage_row(void *ctx, const sn_audit_usage *u)
{
    memcpy(ctx, u, sizeof(*u));
    return 0;
}

/* The usage counted by verdict from the same records (no error counted). */
static void usage_counts_each_verdict(void **state)
{
    fixture *f = *state;
    batch_items_are_exported_one_record_each(state);
    sn_store *s = NULL;
    sn_audit_usage u;
    memset(&u, 0, sizeof(u));
    assert_int_equal(sn_store_open(f->path, NULL, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_audit_usage(s, 0, 100000, "bank", usage_row, &u, err, sizeof(err)),
                     SN_OK);
    assert_string_equal(u.app, "bank");
    assert_int_equal(u.counts[3], 1); /* reassigned */
    assert_int_equal(u.counts[1], 1); /* unchanged */
    assert_int_equal(u.counts[0], 0);
    sn_store_close(s);
}

/* More old rows than one purge transaction takes: all of them go at start,
 * the recent ones stay. */
static void purge_crosses_its_batch(void **state)
{
    fixture *f = *state;
    sn_store *s = NULL;
    int64_t old = now_ms() - 200LL * 86400 * 1000;
    uint64_t rows, items;
    assert_int_equal(sn_store_open(f->path, NULL, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK);
    for (int i = 0; i < SN_AUDIT_PURGE_BATCH + 5; i++) {
        sn_audit_row r;
        memset(&r, 0, sizeof(r));
        r.at = i < SN_AUDIT_PURGE_BATCH + 2 ? old : now_ms();
        r.day = SN_DAY_NONE;
        snprintf(r.route, sizeof(r.route), "/healthz");
        assert_int_equal(sn_store_audit_add(s, &r, err, sizeof(err)), SN_OK);
    }
    assert_int_equal(sn_store_commit(s, err, sizeof(err)), SN_OK);
    sn_store_close(s);
    sn_audit_options o = {f->path, &f->secret, 180, 100, 0};
    assert_int_equal(sn_audit_start(&o, err, sizeof(err)), SN_OK);
    for (int i = 0; i < 100; i++) { /* the purge runs at start */
        count(f->path, &rows, &items);
        if (rows == 3)
            break;
        usleep(50000);
    }
    sn_audit_stop();
    count(f->path, &rows, &items);
    assert_int_equal(rows, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_record_is_written_through_a_small_buffer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(batch_items_are_exported_one_record_each, setup, teardown),
        cmocka_unit_test_setup_teardown(usage_counts_each_verdict, setup, teardown),
        cmocka_unit_test_setup_teardown(purge_crosses_its_batch, setup, teardown),
    };
    return sn_run_tests(tests);
}
