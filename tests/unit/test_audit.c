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

#include "store_fixture.h"
#include "unit.h"

#include "audit/audit.h"
#include "audit/export.h"
#include "audit/group.h"
#include "core/errors.h"
#include "store/audit.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char err[SN_ERRMSG_MAX];

typedef struct {
    char path[4096];
    sn_secret secret;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    sn_store *s = NULL;
    sn_test_store_path(f->path, sizeof(f->path), "audit");
    sn_test_store_remove(f->path);
    assert_int_equal(sn_store_open(f->path, NULL, &s, err, sizeof(err)), SN_OK);
    sn_store_close(s);
    memset(f->secret.key, 7, sizeof(f->secret.key));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sn_test_store_remove(f->path);
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

/* A check's record as an app's request leaves it. */
static sn_audit_record check_record(void)
{
    sn_audit_record r;
    memset(&r, 0, sizeof(r));
    r.at_ms = now_ms();
    r.route = "/v1/check";
    r.method = "POST";
    r.status = 200;
    r.who_kind = "app";
    r.day = SN_DAY_NONE;
    return r;
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
        sn_audit_record r = check_record();
        snprintf(r.app, sizeof(r.app), "app-%d", i % 3);
        snprintf(r.request, sizeof(r.request), "r%d", i);
        r.verdict = i % 4;
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

/* A write's record goes in the write's own transaction: committed with
 * it (no record handed to the trail's thread), gone with a rollback,
 * counted once the writer says it committed; a record with items or a
 * verdict is refused; with the trail off nothing is written. */
static void a_write_record_goes_in_its_transaction(void **state)
{
    fixture *f = *state;
    sn_audit_options o = {f->path, &f->secret, 0, 100, 0};
    sn_store *s = NULL;
    uint64_t rows, items;
    sn_audit_record r = check_record();
    r.route = "/v1/events";
    r.who_kind = "carrier";
    r.verdict = -1;
    assert_int_equal(sn_audit_start(&o, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_open(f->path, NULL, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_audit_write_in_tx(s, &r, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_commit(s, err, sizeof(err)), SN_OK);
    sn_audit_written_in_tx(1);
    count(f->path, &rows, &items);
    assert_int_equal(rows, 1);
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_audit_write_in_tx(s, &r, err, sizeof(err)), SN_OK);
    sn_store_rollback(s);
    count(f->path, &rows, &items);
    assert_int_equal(rows, 1);
    sn_audit_record bad = r;
    bad.verdict = 2; /* a check's */
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_audit_write_in_tx(s, &bad, err, sizeof(err)), SN_EINVAL);
    sn_store_rollback(s);
    sn_strbuf m = {0};
    sn_audit_metrics(&m);
    assert_non_null(strstr(m.s, "secondnum_audit_written_total 1\n"));
    free(m.s);
    sn_audit_stop();
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_audit_write_in_tx(s, &r, err, sizeof(err)), SN_OK); /* the trail off */
    assert_int_equal(sn_store_commit(s, err, sizeof(err)), SN_OK);
    sn_store_close(s);
    count(f->path, &rows, &items);
    assert_int_equal(rows, 1);
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
    sn_audit_record r = check_record();
    r.route = "/v1/check/batch";
    snprintf(r.app, sizeof(r.app), "bank");
    r.verdict = -1;
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
        assert_int_equal(sn_store_audit_add(s, &r, NULL, err, sizeof(err)), SN_OK);
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

typedef struct {
    sn_audit_inquiry q[8];
    size_t n;
} inquiries;

static int inquiry(void *ctx, const sn_audit_inquiry *q)
{
    inquiries *l = ctx;
    if (l->n < 8)
        l->q[l->n] = *q;
    l->n++;
    return 0;
}

/* A batch row with x's hash at items 0 and 2 (a binding at 2) and y's at 1. */
static void add_batch_row(sn_store *s, int64_t at, const uint8_t *x, const uint8_t *y)
{
    uint8_t data[4 * SN_AUDIT_ITEM_BYTES];
    const uint8_t *hashes[3] = {x, y, x};
    sn_audit_row r;
    memset(&r, 0, sizeof(r));
    memset(data, 0, sizeof(data));
    for (int i = 0; i < 3; i++) {
        memcpy(data + i * SN_AUDIT_ITEM_BYTES, hashes[i], SN_AUDIT_HASH_LEN);
        data[i * SN_AUDIT_ITEM_BYTES + SN_AUDIT_HASH_LEN + 4] = i == 2 ? SN_AUDIT_NOT_CHECK : 1;
    }
    r.at = at;
    r.status = 200;
    r.day = SN_DAY_NONE;
    r.items = 4; /* the fourth has no number: all zeros */
    snprintf(r.route, sizeof(r.route), "/v1/check/batch");
    snprintf(r.app, sizeof(r.app), "bank");
    r.item_data = data;
    int pending = 0;
    assert_int_equal(sn_store_audit_add(s, &r, &pending, err, sizeof(err)), SN_OK);
    assert_int_equal(pending, 1); /* an app's answered batch waits for the indexer */
}

#define STEP 16 /* rows an indexer call may take, in the test */

/* A single row about x (a binding, the newest), and two that no list may
 * show: no app, and a refused request. */
static void add_single_rows(sn_store *s, int64_t at, const uint8_t *x)
{
    for (int i = 0; i < 3; i++) {
        sn_audit_row r;
        memset(&r, 0, sizeof(r));
        r.at = at;
        r.status = i == 2 ? 404 : 200;
        r.day = SN_DAY_NONE;
        r.has_number = 1;
        memcpy(r.number_hash, x, SN_AUDIT_HASH_LEN);
        snprintf(r.route, sizeof(r.route), "/v1/bindings");
        snprintf(r.app, sizeof(r.app), "%s", i == 1 ? "" : "bank");
        int pending = 1;
        assert_int_equal(sn_store_audit_add(s, &r, &pending, err, sizeof(err)), SN_OK);
        assert_int_equal(pending, 0); /* a single row is indexed as it is written */
    }
}

/* Batch rows are pending until the indexer unpacks them into audit_items:
 * an inquiry finds them alike before, between and after (each row once,
 * newest first), and single rows (by their own index) with them; the
 * indexer takes the rows it is given a call; single rows are never
 * pending; the purge takes pending rows along. */
static void pending_rows_are_found_before_and_after_indexing(void **state)
{
    fixture *f = *state;
    sn_store *s = NULL;
    uint8_t x[SN_AUDIT_HASH_LEN], y[SN_AUDIT_HASH_LEN];
    uint64_t n = 0, rows = 0, items = 0;
    int64_t at = now_ms();
    sn_audit_number_hash(&f->secret, 8613700000001ULL, x);
    sn_audit_number_hash(&f->secret, 8613700000002ULL, y);
    assert_int_equal(sn_store_open(f->path, NULL, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK);
    for (int i = 0; i < STEP + 2; i++)
        add_batch_row(s, i == 0 ? at - 200LL * 86400 * 1000 : at + i, x, y);
    add_single_rows(s, at + 100, x); /* ids STEP + 3 to + 5 */
    assert_int_equal(sn_store_commit(s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_audit_unindexed(s, &n, err, sizeof(err)), SN_OK);
    assert_int_equal(n, STEP + 2);
    for (int step = 0; step < 3; step++) {
        inquiries l = {.n = 0};
        assert_int_equal(
            sn_store_audit_inquiries(s, x, at, INT64_MAX, 8, inquiry, &l, err, sizeof(err)), SN_OK);
        assert_int_equal(l.n, 8); /* at most the limit */
        assert_int_equal(l.q[0].id, STEP + 3);
        assert_int_equal(l.q[0].kind, SN_AUDIT_KIND_BINDING);
        for (size_t i = 1; i < 8; i++)
            assert_int_equal(l.q[i].id, l.q[i - 1].id - 1);
        assert_int_equal(l.q[1].kind, SN_AUDIT_KIND_CHECK); /* the batch's first item's */
        assert_string_equal(l.q[1].app, "bank");
        l.n = 0;
        assert_int_equal(sn_store_audit_inquiries(s, y, at, 3, 8, inquiry, &l, err, sizeof(err)),
                         SN_OK);
        assert_int_equal(l.n, 1); /* row 2 (row 1 is older than at) */
        assert_int_equal(l.q[0].id, 2);
        if (step < 2) {
            assert_int_equal(sn_store_audit_index(s, STEP, &rows, err, sizeof(err)), SN_OK);
            assert_int_equal(rows, step == 0 ? STEP : 2);
        }
    }
    assert_int_equal(sn_store_audit_index(s, STEP, &rows, err, sizeof(err)), SN_OK);
    assert_int_equal(rows, 0);
    assert_int_equal(sn_store_audit_unindexed(s, &n, err, sizeof(err)), SN_OK);
    assert_int_equal(n, 0);
    /* a pending row past the retention goes with the purge */
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK);
    add_batch_row(s, at - 300LL * 86400 * 1000, x, y);
    assert_int_equal(sn_store_commit(s, err, sizeof(err)), SN_OK);
    assert_int_equal(
        sn_store_audit_purge(s, at - 180LL * 86400 * 1000, 100, &rows, err, sizeof(err)), SN_OK);
    assert_int_equal(rows, 2);
    assert_int_equal(sn_store_audit_unindexed(s, &n, err, sizeof(err)), SN_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sn_store_audit_count(s, 0, INT64_MAX, &rows, &items, err, sizeof(err)), SN_OK);
    assert_int_equal(rows, STEP + 4);
    sn_store_close(s);
}

/* The rows of audit_items (the index of batch items by number). */
static int64_t indexed_items(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit_items", -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A row of one number asked again and again (as a group row of single
 * checks is) and of numbers in no order, with items of no number among
 * them: the index holds each number of a row once, with its first item's
 * kind, and none for the items without one. */
static void a_row_indexes_each_number_once(void **state)
{
    fixture *f = *state;
    sn_store *s = NULL;
    enum { ITEMS = 1000, NUMBERS = 7 };
    uint8_t h[NUMBERS][SN_AUDIT_HASH_LEN], *data = calloc(ITEMS, SN_AUDIT_ITEM_BYTES);
    uint64_t rows = 0;
    int64_t at = now_ms();
    assert_non_null(data);
    for (int k = 0; k < NUMBERS; k++)
        sn_audit_number_hash(&f->secret, 8613700000100ULL + (uint64_t)k, h[k]);
    for (int i = 0; i < ITEMS; i++) { /* numbers 7i mod 11 (past 6: none); a binding first for 3 */
        int k = (i * 7) % 11;
        if (k < NUMBERS)
            sn_audit_item_put(data + (size_t)i * SN_AUDIT_ITEM_BYTES, h[k], SN_DAY_NONE,
                              k == 3 && i < 11 ? SN_AUDIT_NOT_CHECK : 1);
    }
    assert_int_equal(sn_store_open(f->path, NULL, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK);
    for (int r = 0; r < 2; r++) { /* the second: the first number alone */
        sn_audit_row row;
        memset(&row, 0, sizeof(row));
        row.at = at;
        row.status = 200;
        row.day = SN_DAY_NONE;
        row.items = r == 0 ? ITEMS : 1;
        snprintf(row.route, sizeof(row.route), "/v1/check/batch");
        snprintf(row.app, sizeof(row.app), "bank");
        row.item_data = data;
        int pending = 0;
        assert_int_equal(sn_store_audit_add(s, &row, &pending, err, sizeof(err)), SN_OK);
    }
    assert_int_equal(sn_store_commit(s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_audit_index(s, STEP, &rows, err, sizeof(err)), SN_OK);
    assert_int_equal(rows, 2);
    assert_int_equal(indexed_items(f->path), NUMBERS + 1);
    for (int k = 0; k < NUMBERS; k++) {
        inquiries l = {.n = 0};
        assert_int_equal(
            sn_store_audit_inquiries(s, h[k], at, INT64_MAX, 8, inquiry, &l, err, sizeof(err)),
            SN_OK);
        assert_int_equal(l.n, k == 0 ? 2 : 1);
        assert_int_equal(l.q[l.n - 1].id, 1);
        assert_int_equal(l.q[l.n - 1].kind, k == 3 ? SN_AUDIT_KIND_BINDING : SN_AUDIT_KIND_CHECK);
    }
    sn_store_close(s);
    free(data);
}

static uint64_t metric(const char *name)
{
    sn_strbuf m = {0};
    sn_audit_metrics(&m);
    const char *at = strstr(m.s, name);
    uint64_t v = at != NULL ? strtoull(at + strlen(name), NULL, 10) : UINT64_MAX;
    free(m.s);
    return v;
}

static void held_done(void *arg)
{
    (*(int *)arg)++;
}

/* Records handed over one every 0.5 ms are written together (a
 * transaction for those within SN_AUDIT_GROUP_MS), not one commit each; a
 * record holding a write's answer is committed without waiting for the
 * group to fill. */
static void records_are_grouped_into_transactions(void **state)
{
    fixture *f = *state;
    sn_audit_options o = {f->path, &f->secret, 0, 100000, 0};
    struct timespec pause = {0, 500000};
    int done = 0;
    assert_int_equal(sn_audit_start(&o, err, sizeof(err)), SN_OK);
    for (int i = 0; i < 200; i++) {
        sn_audit_record r = check_record();
        r.verdict = 1;
        if (i == 199) { /* a write's record: its answer waits for it */
            r.route = "/v1/events";
            r.verdict = -1;
            r.done = held_done;
            r.arg = &done;
        }
        sn_audit_add(&r);
        nanosleep(&pause, NULL);
    }
    for (int i = 0; i < 2000 && metric("\nsecondnum_audit_written_total ") < 200; i++)
        nanosleep(&pause, NULL); /* the held record: no group to wait for */
    assert_int_equal(metric("\nsecondnum_audit_written_total "), 200);
    assert_int_equal(done, 1);
    uint64_t tx = metric("\nsecondnum_audit_transactions_total ");
    print_message("200 records in %llu transactions\n", (unsigned long long)tx);
    assert_true(tx >= 1 && tx <= 60);
    sn_audit_stop();
}

/* The rows holding hash (a single row's, a batch's or a group's item). */
typedef struct {
    const uint8_t *hash;
    size_t rows;
    int64_t newest;
} holders;

static int holder(void *ctx, const sn_audit_row *r)
{
    holders *h = ctx;
    int has = r->has_number && memcmp(r->number_hash, h->hash, SN_AUDIT_HASH_LEN) == 0;
    for (uint32_t i = 0; i < r->items && !has; i++)
        has =
            memcmp(r->item_data + (size_t)i * SN_AUDIT_ITEM_BYTES, h->hash, SN_AUDIT_HASH_LEN) == 0;
    h->rows += has;
    h->newest = has ? r->id : h->newest;
    return 0;
}

/* The trail's own indexer: a batch's items and the checks' group rows are
 * indexed once the trail is idle, and found by number: one inquiry per
 * row that holds it, as a scan of every row finds them. */
static void the_trail_indexes_what_it_wrote(void **state)
{
    fixture *f = *state;
    sn_audit_options o = {f->path, &f->secret, 0, 1000, 0};
    sn_audit_item items[2] = {{8613700000001ULL, 19000, 3, 1}, {8613700000002ULL, 19001, 1, 1}};
    struct timespec pause = {0, 10000000};
    uint8_t x[SN_AUDIT_HASH_LEN];
    assert_int_equal(sn_audit_start(&o, err, sizeof(err)), SN_OK);
    for (int i = 0; i < 40; i++) {
        sn_audit_record r = check_record();
        snprintf(r.app, sizeof(r.app), "bank");
        r.has_number = 1;
        r.number = 8613700000001ULL + (uint64_t)(i % 4);
        r.verdict = 1;
        if (i == 39) {
            r.route = "/v1/check/batch";
            r.has_number = 0;
            r.items = items;
            r.nitems = 2;
        }
        sn_audit_add(&r);
    }
    for (int i = 0; i < 1000 && (metric("\nsecondnum_audit_written_total ") < 40 ||
                                 metric("\nsecondnum_audit_unindexed ") != 0);
         i++)
        nanosleep(&pause, NULL);
    assert_true(metric("\nsecondnum_audit_indexed_total ") >= 2); /* a group row, the batch */
    assert_int_equal(metric("\nsecondnum_audit_unindexed "), 0);
    sn_audit_stop();
    sn_store *s = NULL;
    uint64_t n = 1;
    inquiries l = {.n = 0};
    sn_audit_number_hash(&f->secret, 8613700000001ULL, x);
    holders h = {x, 0, 0};
    assert_int_equal(sn_store_open(f->path, NULL, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_audit_unindexed(s, &n, err, sizeof(err)), SN_OK);
    assert_int_equal(n, 0);
    assert_int_equal(
        sn_store_audit_inquiries(s, x, 0, INT64_MAX, 20, inquiry, &l, err, sizeof(err)), SN_OK);
    assert_int_equal(
        sn_store_audit_list(s, 0, INT64_MAX, NULL, 0, 1000, holder, &h, err, sizeof(err)), SN_OK);
    print_message("39 checks and a batch: %zu rows hold the number\n", h.rows);
    assert_true(h.rows >= 2 && h.rows <= 8);
    assert_int_equal(l.n, h.rows);
    assert_int_equal(l.q[0].id, h.newest);
    sn_store_close(s);
}

/* An indexer transaction takes at most SN_AUDIT_INDEX_ITEMS numbers, or
 * one row that alone has more. */
static void the_indexer_takes_a_share_of_items(void **state)
{
    fixture *f = *state;
    sn_store *s = NULL;
    uint32_t per = SN_AUDIT_INDEX_ITEMS / 3 + 1, big = SN_AUDIT_INDEX_ITEMS + 1;
    uint8_t *data = calloc(big, SN_AUDIT_ITEM_BYTES);
    uint64_t rows = 0;
    assert_non_null(data);
    for (uint32_t i = 0; i < big; i++)
        for (int b = 0; b < 4; b++) /* distinct non-zero hashes */
            data[(size_t)i * SN_AUDIT_ITEM_BYTES + b] = (uint8_t)((i + 1) >> (8 * b));
    assert_int_equal(sn_store_open(f->path, NULL, &s, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_store_begin(s, err, sizeof(err)), SN_OK);
    for (int i = 0; i < 5; i++) { /* three rows of a third of the share and one, then one past it */
        sn_audit_row r;
        memset(&r, 0, sizeof(r));
        r.at = now_ms();
        r.status = 200;
        r.day = SN_DAY_NONE;
        r.items = i < 4 ? per : big;
        snprintf(r.route, sizeof(r.route), "/v1/check/batch");
        snprintf(r.app, sizeof(r.app), "bank");
        r.item_data = data;
        assert_int_equal(sn_store_audit_add(s, &r, NULL, err, sizeof(err)), SN_OK);
    }
    assert_int_equal(sn_store_commit(s, err, sizeof(err)), SN_OK);
    static const uint64_t takes[] = {2, 2, 1, 0}; /* 2 x per fits; a third would not */
    for (size_t i = 0; i < sizeof(takes) / sizeof(takes[0]); i++) {
        assert_int_equal(sn_store_audit_index(s, SN_AUDIT_INDEX_ROWS, &rows, err, sizeof(err)),
                         SN_OK);
        assert_int_equal(rows, takes[i]);
    }
    sn_store_close(s);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_record_is_written_through_a_small_buffer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_write_record_goes_in_its_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(batch_items_are_exported_one_record_each, setup, teardown),
        cmocka_unit_test_setup_teardown(usage_counts_each_verdict, setup, teardown),
        cmocka_unit_test_setup_teardown(purge_crosses_its_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(records_are_grouped_into_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(the_trail_indexes_what_it_wrote, setup, teardown),
        cmocka_unit_test_setup_teardown(the_indexer_takes_a_share_of_items, setup, teardown),
        cmocka_unit_test_setup_teardown(a_row_indexes_each_number_once, setup, teardown),
        cmocka_unit_test_setup_teardown(pending_rows_are_found_before_and_after_indexing, setup,
                                        teardown),
    };
    return sn_run_tests(tests);
}
