/*
 * audit.c - what the audit trail (src/audit/trail.c) costs a request,
 * without HTTP around it: N check records (one a request, as a CAMARA
 * check leaves it) handed to the trail as fast as one thread can, then the
 * trail stopped (every record written), then what its indexer left pending
 * indexed (group rows' numbers, store/audit.h: the trail's later work, on
 * one thread, so its wall time is its CPU). Prints the wall time, the trail
 * thread's CPU time, the indexing time and the microseconds a record of
 * both; then the baseline of the
 * same run: the same rows inserted into the same table of a new store by
 * SQLite alone (one prepared INSERT, the same columns and values, the
 * store's pragmas, transactions of GROUP rows, what the trail commits at
 * 60,000 records/s), and the ratio of the two CPU times.
 *
 * build: make build/libsecondnum.a && cc -std=c11 -D_GNU_SOURCE -O2 -Isrc \
 *          bench/audit.c build/libsecondnum.a -lsodium -lsqlite3 -lcrypto -lpq -ljansson \
 *          -lcurl -lpthread -lm -o /tmp/audit_bench
 * usage: audit_bench N DIR [ITEMS]
 *   DIR: where the two stores are made (removed after); ITEMS: each record a
 *   batch check of ITEMS numbers (the trail only: its items a second, and
 *   the seconds its indexer then takes to index them all).
 */
#include "audit/audit.h"
#include "core/errors.h"
#include "store/store.h"
#include "../tests/unit/store_fixture.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GROUP 600 /* rows a baseline transaction: 10 ms of records at 60,000/s */

static double seconds(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int new_store(const char *path)
{
    char err[SN_ERRMSG_MAX];
    sn_store *s = NULL;
    sn_test_store_remove(path);
    if (sn_store_open(path, NULL, &s, err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "audit_bench: %s\n", err);
        return -1;
    }
    sn_store_close(s);
    return 0;
}

/* The trail: n records (of nitems items each when not 0); *cpu gets the
 * process's CPU time less the handing-over thread's, the trail thread's. */
static int trail(const char *path, long n, uint32_t nitems, const sn_secret *secret, double *wall,
                 double *cpu)
{
    sn_audit_item *items = calloc(nitems ? nitems : 1, sizeof(*items));
    if (items == NULL)
        return -1;
    char err[SN_ERRMSG_MAX];
    sn_audit_options o = {path, secret, 0, SN_AUDIT_BUFFER_DEFAULT, 480};
    if (new_store(path) != 0 || sn_audit_start(&o, err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "audit_bench: %s\n", err);
        return -1;
    }
    double w0 = seconds(CLOCK_MONOTONIC), p0 = seconds(CLOCK_PROCESS_CPUTIME_ID),
           t0 = seconds(CLOCK_THREAD_CPUTIME_ID);
    for (long i = 0; i < n; i++) {
        sn_audit_record r;
        memset(&r, 0, sizeof(r));
        r.at_ms = (int64_t)time(NULL) * 1000;
        r.route = "/number-recycling/v0.2/check";
        r.method = "POST";
        r.status = 200;
        r.who_kind = "app";
        snprintf(r.who, sizeof(r.who), "%d", 2);
        snprintf(r.app, sizeof(r.app), "%s", "bench-app");
        r.has_number = 1;
        r.number = 8613800000000ULL + (uint64_t)i;
        r.day = 18262;
        r.verdict = (int)(i & 3);
        for (uint32_t k = 0; k < nitems; k++)
            items[k] = (sn_audit_item){8613800000000ULL + (uint64_t)i * nitems + k, 18262,
                                       (int8_t)(k & 3), 1};
        if (nitems > 0) {
            r.route = "/v1/check/batch";
            r.has_number = 0;
            r.items = items;
            r.nitems = nitems;
        }
        sn_audit_add(&r);
    }
    double t1 = seconds(CLOCK_THREAD_CPUTIME_ID);
    sn_audit_stop();
    *wall = seconds(CLOCK_MONOTONIC) - w0;
    *cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - p0 - (t1 - t0);
    free(items);
    return 0;
}

/* The indexer alone: every pending row of the trail's store indexed. */
static int index_all(const char *path, double *wall)
{
    char err[SN_ERRMSG_MAX];
    sn_store *s = NULL;
    uint64_t rows = 1;
    double w0 = seconds(CLOCK_MONOTONIC);
    int rc = sn_store_open(path, NULL, &s, err, sizeof(err));
    while (rc == SN_OK && rows > 0)
        rc = sn_store_audit_index(s, SN_AUDIT_INDEX_ROWS, &rows, err, sizeof(err));
    if (rc != SN_OK)
        fprintf(stderr, "audit_bench: %s\n", err);
    sn_store_close(s);
    *wall = seconds(CLOCK_MONOTONIC) - w0;
    return rc == SN_OK ? 0 : -1;
}

/* SQLite alone: the same rows (a multiplicative hash of the row's ordinal
 * in place of SipHash: as spread over the index, not as costly). */
static int baseline(const char *path, long n, double *cpu)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int rc = new_store(path) == 0 && sqlite3_open(path, &db) == SQLITE_OK &&
                     sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL", NULL,
                                  NULL, NULL) == SQLITE_OK &&
                     sqlite3_prepare_v2(db,
                                        "INSERT INTO audit(at, status, day, items, route, method,"
                                        " who_kind, who, app, answer, request, number_hash,"
                                        " item_data) VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8,"
                                        " ?9, ?10, ?11, NULL)",
                                        -1, &q, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    double p0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < n && rc == 0; i++) {
        if (i % GROUP == 0)
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        sqlite3_bind_int64(q, 1, (int64_t)time(NULL) * 1000);
        sqlite3_bind_int(q, 2, 200);
        sqlite3_bind_int(q, 3, 18262);
        sqlite3_bind_text(q, 4, "/number-recycling/v0.2/check", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 5, "POST", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 6, "app", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 7, "2", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 8, "bench-app", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 9, "unchanged", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 10, "", -1, SQLITE_TRANSIENT);
        uint64_t h = (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL; /* spread as SipHash's are */
        sqlite3_bind_blob(q, 11, &h, 8, SQLITE_TRANSIENT);
        rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(q);
        if ((i + 1) % GROUP == 0 || i + 1 == n)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    *cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - p0;
    if (rc != 0)
        fprintf(stderr, "audit_bench: baseline: %s\n", db ? sqlite3_errmsg(db) : "open");
    sqlite3_finalize(q);
    sqlite3_close(db);
    return rc;
}

int main(int argc, char **argv)
{
    if ((argc != 3 && argc != 4) || atol(argv[1]) <= 0 ||
        (argc == 4 && (atol(argv[3]) <= 0 || atol(argv[3]) > 100000))) {
        fprintf(stderr, "usage: audit_bench N DIR [ITEMS (1-100000)]\n");
        return 2;
    }
    long n = atol(argv[1]);
    uint32_t nitems = argc == 4 ? (uint32_t)atol(argv[3]) : 0;
    char a[4096], b[4096];
    sn_secret secret;
    double wall = 0, cpu = 0, base = 0;
    if (sodium_init() < 0)
        return 1;
    memset(secret.key, 7, sizeof(secret.key));
    snprintf(a, sizeof(a), "%s/trail.db", argv[2]);
    snprintf(b, sizeof(b), "%s/baseline.db", argv[2]);
    if (nitems > 0) {
        double indexed = 0;
        int rc = trail(a, n, nitems, &secret, &wall, &cpu) == 0 && index_all(a, &indexed) == 0;
        sn_test_store_remove(a);
        if (!rc)
            return 1;
        printf("%ld batch records of %u items: trail %.2f s wall, %.2f s CPU (%.0f items/s of "
               "its CPU); then indexed in %.2f s (%.0f items/s)\n",
               n, nitems, wall, cpu, (double)n * nitems / cpu, indexed,
               (double)n * nitems / indexed);
        return 0;
    }
    double indexed = 0;
    int rc = trail(a, n, 0, &secret, &wall, &cpu) == 0 && index_all(a, &indexed) == 0 &&
                     baseline(b, n, &base) == 0
                 ? 0
                 : 1;
    sn_test_store_remove(a);
    sn_test_store_remove(b);
    if (rc != 0)
        return rc;
    printf("%ld records: trail %.2f s wall, %.2f s CPU, then its rows' numbers indexed in %.2f s "
           "(%.2f us a record in all); SQLite alone %.2f s CPU (%.2f us a row); ratio %.2f\n",
           n, wall, cpu, indexed, (cpu + indexed) * 1e6 / (double)n, base, base * 1e6 / (double)n,
           (cpu + indexed) / base);
    return 0;
}
