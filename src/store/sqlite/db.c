/*
 * db.c - the SQLite backend's handle: transactions, closing, the statement
 * cache, the helpers its files run statements with, and the SQL driver the
 * shared domains run on (sqlite.h). open.c opens the file.
 *
 * Durability: journal_mode=WAL with synchronous=FULL (open.c), so a commit
 * that returned has been fsynced to the WAL (survives kill -9 and power
 * loss). Writers take the lock at BEGIN IMMEDIATE, so a transaction never
 * fails half-way for lack of a lock; the busy handler (open.c) waits for
 * another writer, up to SN_SQLITE_BUSY_TIMEOUT_MS.
 */
#include "store/sqlite/sqlite.h"

#include "core/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bind(sqlite3_stmt *q, const sn_sql_arg *args, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const sn_sql_arg *a = &args[i];
        int at = (int)i + 1;
        if (a->type == 'i')
            sqlite3_bind_int64(q, at, a->i);
        else if (a->p == NULL)
            sqlite3_bind_null(q, at);
        else if (a->type == 't')
            sqlite3_bind_text(q, at, a->p, a->len == SQL_NUL_TERMINATED ? -1 : (int)a->len,
                              SQLITE_STATIC);
        else
            sqlite3_bind_blob(q, at, a->p, (int)a->len, SQLITE_STATIC);
    }
}

/* Step q to its end (or until fn stops it); *changed gets the rows a write
 * changed. The caller resets or finalizes q. */
static int steps(sqlite_store *s, sqlite3_stmt *q, sn_sql_row_fn fn, void *ctx, uint64_t *changed,
                 const char *what, char *err, size_t errlen)
{
    sn_sql_row row = {&sn_sqlite_driver, q, 0};
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW)
        stop = fn != NULL ? fn(ctx, &row) : 0;
    if (!stop && rc != SQLITE_DONE)
        stop = sq_fail(s, what, err, errlen);
    if (changed != NULL)
        *changed = (uint64_t)sqlite3_changes(s->db);
    return stop;
}

static int run(sqlite_store *s, const char *sql, int once, const sn_sql_arg *args, size_t nargs,
               sn_sql_row_fn fn, void *ctx, uint64_t *changed, const char *what, char *err,
               size_t errlen)
{
    sqlite3_stmt *q = NULL;
    int rc;
    if (s->rows_events + s->rows_states > 0 && (rc = sq_rows_write(s, err, errlen)) != SN_OK)
        return rc;
    if (once && sq_prepare(s, sql, 0, &q) != SQLITE_OK) {
        sqlite3_finalize(q);
        return sq_fail(s, what, err, errlen);
    }
    if (!once && (q = sq_cached(s, sql, err, errlen)) == NULL)
        return SN_ESTORE;
    bind(q, args, nargs);
    rc = steps(s, q, fn, ctx, changed, what, err, errlen);
    if (once)
        sqlite3_finalize(q);
    else
        sqlite3_reset(q);
    return rc;
}

int sq_exec_sql(sqlite_store *s, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return SN_OK;
    sn_fail(err, errlen, SN_ESTORE, "%s", msg != NULL ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return SN_ESTORE;
}

/* ---- the SQL driver -------------------------------------------------------- */

static int64_t col_int(const sn_sql_row *r, int col)
{
    return sqlite3_column_int64(r->result, col);
}

static const void *col_bytes(const sn_sql_row *r, int col, size_t *len)
{
    sqlite3_stmt *q = r->result;
    const void *p = sqlite3_column_type(q, col) == SQLITE_BLOB ? sqlite3_column_blob(q, col)
                                                               : sqlite3_column_text(q, col);
    *len = (size_t)sqlite3_column_bytes(q, col);
    return p;
}

static int driver_run(sn_store *base, const char *sql, int once, const sn_sql_arg *args,
                      size_t nargs, sn_sql_row_fn fn, void *ctx, uint64_t *changed,
                      const char *what, char *err, size_t errlen)
{
    return run(sq_of(base), sql, once, args, nargs, fn, ctx, changed, what, err, errlen);
}

const sn_sql_driver sn_sqlite_driver = {driver_run, col_int, col_bytes};

/* ---- transactions ---------------------------------------------------------- */

static const char begin_sql[] = "BEGIN IMMEDIATE";
static const char commit_sql[] = "COMMIT";
static const char rollback_sql[] = "ROLLBACK";
static const char begin_state_sql[] = SN_STORE_BEGIN_STATE_SQL;
static const char begin_seq_sql[] = "SELECT coalesce(max(seq), 0) FROM numbers";

/* Read after BEGIN IMMEDIATE, when no other writer can add rows. */
static int read_begin_state(void *ctx, const sn_sql_row *row)
{
    sn_store_read_begin_state(row, ctx);
    return 0;
}

/* The last change number, under the write lock: this transaction's state
 * writes take the next ones (log.c). */
static int read_begin_seq(void *ctx, const sn_sql_row *row)
{
    *(uint64_t *)ctx = (uint64_t)sn_sql_int(row, 0);
    return 0;
}

/* A statement of the handle's own (no arguments, no rows). */
static int statement(sqlite_store *s, const char *sql, const char *what, char *err, size_t errlen)
{
    return run(s, sql, 0, NULL, 0, NULL, NULL, NULL, what, err, errlen);
}

static void sq_rollback(sn_store *base)
{
    sqlite_store *s = sq_of(base);
    sq_rows_drop(s);
    if (s->base.in_tx && sqlite3_get_autocommit(s->db) == 0)
        statement(s, rollback_sql, "rollback", NULL, 0);
    s->base.in_tx = 0;
}

static int sq_begin(sn_store *base, char *err, size_t errlen)
{
    sqlite_store *s = sq_of(base);
    int rc = statement(s, begin_sql, "begin", err, errlen);
    if (rc != SN_OK)
        return rc;
    s->base.in_tx = 1;
    if (base->side_writer)
        return SN_OK;
    rc = sn_sql_one(base, begin_state_sql, SQL_NO_ARGS, read_begin_state, base, "begin", err,
                    errlen);
    if (rc == SN_OK)
        rc = sn_sql_one(base, begin_seq_sql, SQL_NO_ARGS, read_begin_seq, &s->seq, "begin", err,
                        errlen);
    s->seq_begin = s->seq;
    if (rc != SN_OK) {
        sq_rollback(base);
        return rc == SN_ENOTFOUND ? sn_fail(err, errlen, SN_ESTORE, "begin: no row") : rc;
    }
    return SN_OK;
}

static int sq_commit(sn_store *base, char *err, size_t errlen)
{
    sqlite_store *s = sq_of(base);
    if (s->rows_lost) /* a write failed that its caller did not see fail the transaction */
        return sn_fail(err, errlen, SN_ESTORE, "commit: rows of this transaction were not written");
    int rc = statement(s, commit_sql, "commit", err, errlen);
    if (rc != SN_OK && sqlite3_get_autocommit(s->db) == 0)
        return rc; /* still in the transaction: the caller rolls back */
    s->base.in_tx = 0;
    /* this process's writer took every change number after seq_begin up
     * to seq under the write lock (sn_store_last_commit_changes) */
    s->base.committed = (sn_store_commit_changes){0, 0, 0};
    if (rc == SN_OK && !base->side_writer)
        s->base.committed = (sn_store_commit_changes){s->seq_begin, s->seq, 0};
    return rc;
}

static int sq_relax_durability(sn_store *base, char *err, size_t errlen)
{
    return sq_exec_sql(sq_of(base), "PRAGMA synchronous = NORMAL", err, errlen);
}

static int integrity_row(void *ctx, const sn_sql_row *row)
{
    sn_sql_text(row, 0, ctx, SN_ERRMSG_MAX);
    return 0;
}

static int sq_integrity(sn_store *base, char *err, size_t errlen)
{
    char first[SN_ERRMSG_MAX] = "";
    int rc = run(sq_of(base), "PRAGMA integrity_check(1)", 1, SQL_NO_ARGS, integrity_row, first,
                 NULL, "integrity check", err, errlen);
    if (rc == SN_OK && strcmp(first, "ok") != 0)
        rc = sn_fail(err, errlen, SN_ESTORE, "integrity check: %s", first);
    return rc;
}

static void sq_close(sn_store *base)
{
    sqlite_store *s = sq_of(base);
    sq_rollback(base);
    sq_rows_free(s);
    for (int i = 0; i < SQ_CACHE_SLOTS; i++)
        sqlite3_finalize(s->cache[i].q);
    sqlite3_close(s->db);
    free(s);
}

/* Always reachable, change numbers but no listening, no claims to release. */
const sn_store_backend sn_sqlite_backend = {
    .name = "sqlite",
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .relax_durability = sq_relax_durability,
    .integrity = sq_integrity,
    .log = &sn_sqlite_log,
    .changes = &sn_sqlite_changes,
    .sql = &sn_sqlite_driver,
    .due_deliveries = sq_due_deliveries,
};
