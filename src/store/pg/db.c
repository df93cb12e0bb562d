/*
 * db.c - the PostgreSQL backend's transactions, its rows helpers, and the
 * SQL driver the shared domains run on (pg.h).
 *
 * A transaction takes the writer lock at begin (PostgreSQL releases it only
 * after the commit is visible); its buffered writes (buffer.c) go out
 * before anything reads the log tables and at commit; a commit that wrote
 * delivery outcomes then releases their claims. A write outside a
 * transaction runs in one of its own (sql.c begins it), so it takes the
 * writer lock and commits durably, as SQLite's autocommit writes do.
 */
#include "store/pg/pg.h"

#include "core/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BEGIN_SQL                                                                                  \
    "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; "                                            \
    "SET LOCAL lock_timeout = '" PG_LOCK_TIMEOUT "'; "                                             \
    "SELECT pg_advisory_xact_lock(" PG_STR(PG_WRITER_LOCK) ")"
const char pg_begin_sql[] = BEGIN_SQL;
/* The last change number drawn so far, read under the writer lock: this
 * transaction's state writes take the next ones (none before the first),
 * numbered by the client (buffer.c), and the commit sets the sequence to
 * the last of them: one statement a transaction, not a nextval a state. */
#define LAST_CHANGE_SQL "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM number_changes"
static const char begin_tx_sql[] = BEGIN_SQL "; " LAST_CHANGE_SQL;
#define COMMIT_CHANGES_SQL "SELECT setval('number_changes', %llu); COMMIT"
static const char begin_state_sql[] = SN_STORE_BEGIN_STATE_SQL;
static const char side_begin_sql[] = "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE";

int pg_enter(pg_store *s, char *err, size_t errlen)
{
    return s->base.in_tx || s->scans > 0 ? SN_OK : pg_reconnect_if_lost(s, err, errlen);
}

int pg_enter_log(pg_store *s, char *err, size_t errlen)
{
    return s->base.in_tx ? pg_flush(s, err, errlen) : pg_enter(s, err, errlen);
}

int pg_reachable(sn_store *base)
{
    return PQstatus(pg_of(base)->conn) == CONNECTION_OK;
}

void pg_rollback(sn_store *base)
{
    pg_store *s = pg_of(base);
    pg_discard_buffers(s);
    s->written.n = 0; /* not written after all: the claims stay */
    if (s->base.in_tx && PQstatus(s->conn) == CONNECTION_OK &&
        PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    }
    s->base.in_tx = 0;
}

/* BEGIN, the writer lock, and the last change number drawn (s->tx_from). */
static int begin_tx(pg_store *s, char *err, size_t errlen)
{
    PGresult *r = PQexec(s->conn, begin_tx_sql);
    int rc = SN_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        rc = pg_fail(s, r, "begin", err, errlen);
    else
        s->tx_from = s->tx_seq = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return rc;
}

/* COMMIT; when the transaction wrote states, first set the change numbers'
 * sequence to the last one they took, in the same round trip: they took
 * (tx_from, tx_seq], and no other writer draws any before the writer lock
 * is released (a rollback, or a failed setval, leaves the sequence where it
 * was: the rows with those numbers are gone with it). A failed setval
 * leaves the transaction open: it is rolled back, so the handle ends
 * outside a transaction whatever happened, as after COMMIT. */
static int commit_tx(pg_store *s, char *err, size_t errlen)
{
    int wrote = s->tx_seq > s->tx_from, rc = SN_OK, committed = 0;
    uint64_t to = 0;
    char sql[sizeof(COMMIT_CHANGES_SQL) + 24];
    PGresult *r;
    snprintf(sql, sizeof(sql), COMMIT_CHANGES_SQL, (unsigned long long)s->tx_seq);
    if (!PQsendQuery(s->conn, wrote ? sql : "COMMIT"))
        return pg_fail(s, NULL, "commit", err, errlen);
    while ((r = PQgetResult(s->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK && PQntuples(r) == 1)
            to = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
        else if (st == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0)
            committed = 1;
        else if (st == PGRES_COMMAND_OK && rc == SN_OK)
            rc = sn_fail(err, errlen, SN_ESTORE, "commit: the transaction was rolled back");
        else if (rc == SN_OK)
            rc = pg_fail(s, r, "commit", err, errlen);
        PQclear(r);
    }
    if (rc == SN_OK && !committed)
        rc = pg_fail(s, NULL, "commit", err, errlen);
    if (!committed && PQstatus(s->conn) == CONNECTION_OK &&
        PQtransactionStatus(s->conn) != PQTRANS_IDLE)
        PQclear(PQexec(s->conn, "ROLLBACK"));
    s->base.committed = (sn_store_commit_changes){0, 0, 0};
    if (rc == SN_OK && wrote && to > s->tx_from)
        s->base.committed =
            (sn_store_commit_changes){s->tx_from, to, (int64_t)PQbackendPID(s->conn)};
    return rc;
}

int pg_begin(sn_store *base, char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    PGresult *r = NULL;
    int rc;
    if (s->base.in_tx || s->scans > 0)
        return sn_fail(err, errlen, SN_ESTORE,
                       "begin: a transaction or a scan is already open on this handle");
    if ((rc = pg_reconnect_if_lost(s, err, errlen)) != SN_OK)
        return rc;
    s->base.in_tx = 1;
    s->tx_from = s->tx_seq = 0;
    pg_discard_buffers(s);
    if (base->side_writer) { /* no ids of max(id) + 1, no log: no writer lock */
        if ((rc = pg_exec_sql(s, side_begin_sql, "begin", err, errlen)) != SN_OK)
            goto fail;
        return SN_OK;
    }
    if ((rc = begin_tx(s, err, errlen)) != SN_OK)
        goto fail;
    if ((r = pg_exec(s, begin_state_sql, SQL_NO_ARGS, PGRES_TUPLES_OK, "begin", err, errlen)) ==
        NULL) {
        rc = SN_ESTORE;
        goto fail;
    }
    sn_sql_row row = pg_row(r, 0);
    sn_store_read_begin_state(&row, base);
    s->table_max = s->base.max_number;
    PQclear(r);
    return SN_OK;
fail:
    pg_rollback(base);
    return rc;
}

int pg_commit(sn_store *base, char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    int rc;
    if (!s->base.in_tx)
        return sn_fail(err, errlen, SN_ESTORE, "commit: no transaction is open");
    if ((rc = pg_flush(s, err, errlen)) != SN_OK)
        return rc; /* still in the transaction: the caller rolls back */
    if (PQtransactionStatus(s->conn) == PQTRANS_INERROR)
        return sn_fail(err, errlen, SN_ESTORE, "commit: the transaction failed earlier");
    rc = commit_tx(s, err, errlen);
    /* COMMIT ends the transaction whatever its outcome (a lost connection
     * leaves the outcome unknown, reported as a failure) */
    s->base.in_tx = 0;
    pg_discard_buffers(s);
    if (rc == SN_OK)
        pg_release_claims(s);
    s->written.n = 0;
    return rc;
}

int pg_own_begin(pg_store *s, int *own, char *err, size_t errlen)
{
    *own = !s->base.in_tx;
    return *own ? pg_begin(&s->base, err, errlen) : SN_OK;
}

int pg_own_end(pg_store *s, int own, int rc, char *err, size_t errlen)
{
    if (!own)
        return rc;
    if (rc == SN_OK)
        rc = pg_commit(&s->base, err, errlen);
    if (rc != SN_OK)
        pg_rollback(&s->base);
    return rc;
}

int pg_relax_durability(sn_store *base, char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    int rc = pg_exec_sql(s, "SET synchronous_commit = off", "relax durability", err, errlen);
    if (rc == SN_OK)
        s->relaxed = 1;
    return rc;
}

void pg_close(sn_store *base)
{
    pg_store *s = pg_of(base);
    if (s->conn != NULL)
        pg_rollback(base);
    PQfinish(s->conn);
    free(s->events);
    free(s->states);
    free(s->absent);
    free(s->copy.data);
    free(s->claimed.v);
    free(s->written.v);
    free(s);
}

/* ---- the SQL driver ------------------------------------------------------------ */

static int64_t col_int(const sn_sql_row *r, int col)
{
    return pg_int(r->result, r->index, col);
}

static const void *col_bytes(const sn_sql_row *r, int col, size_t *len)
{
    const PGresult *res = r->result;
    if (PQgetisnull(res, r->index, col)) {
        *len = 0;
        return NULL;
    }
    *len = (size_t)PQgetlength(res, r->index, col);
    return PQgetvalue(res, r->index, col);
}

sn_sql_row pg_row(const PGresult *r, int i)
{
    return (sn_sql_row){&sn_pg_driver, (void *)r, i};
}

static int driver_run(sn_store *base, const char *sql, int once, const sn_sql_arg *args,
                      size_t nargs, sn_sql_row_fn fn, void *ctx, uint64_t *changed,
                      const char *what, char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    int rc = pg_enter(s, err, errlen), stop = 0;
    if (rc != SN_OK)
        return rc;
    PGresult *r = once ? pg_exec_once(s, sql, args, nargs, PG_RESULT, what, err, errlen)
                       : pg_exec(s, sql, args, nargs, PG_RESULT, what, err, errlen);
    if (r == NULL)
        return SN_ESTORE;
    for (int i = 0; fn != NULL && i < PQntuples(r) && !stop; i++) {
        sn_sql_row row = pg_row(r, i);
        stop = fn(ctx, &row);
    }
    if (changed != NULL)
        *changed = pg_changed(r);
    PQclear(r);
    return stop;
}

const sn_sql_driver sn_pg_driver = {driver_run, col_int, col_bytes};
