/*
 * deliveries.c - the due webhook deliveries of a PostgreSQL store, claimed
 * so that several nodes share them: each due delivery is claimed by one
 * connection (a session advisory lock, PG_CLAIM_LOCKS + notice id, taken on
 * the rows returned only), re-read in a new statement after claiming, and
 * released once its outcome commits (db.c) or the connection ends.
 * docs/internals/postgres.md explains why not FOR UPDATE.
 */
#include "store/pg/pg.h"

#include "core/errors.h"

#include <stdio.h>
#include <stdlib.h>

#define ATTEMPTS_COLUMN 4

/* The cursor (next_at, notice) is one row comparison: the B-tree on
 * (next_at, notice) seeks it directly. The claim is taken in the outer
 * query, so only on the rows returned (a volatile function is never pushed
 * into the LIMITed subquery). */
static const char due_sql[] = "SELECT q.*, pg_try_advisory_lock(" PG_STR(
    PG_CLAIM_LOCKS) " + q.notice) FROM (SELECT " SN_SQL_DUE_COLUMNS
                    " FROM deliveries d JOIN notices n ON n.id = d.notice JOIN apps a ON "
                    "a.id = d.app WHERE d.state = 0 AND (d.next_at, d.notice) > ($3, $4) AND "
                    "d.next_at <= $1 "
                    "AND d.number % $6 = $5 AND a.webhook_url IS NOT NULL AND NOT EXISTS (SELECT 1 "
                    "FROM "
                    "deliveries e WHERE e.state = 0 AND e.app = d.app AND e.number = d.number AND "
                    "e.notice < "
                    "d.notice) AND d.notice <> ALL ($7::bigint[]) ORDER BY d.next_at, d.notice "
                    "LIMIT $2) q";
/* A claimed delivery as it is now (a statement after the claim, so a
 * snapshot that sees what the node that held it before committed). */
static const char recheck_sql[] =
    "SELECT notice, attempts FROM deliveries WHERE notice = ANY ($1::bigint[]) AND state = 0";

/* Did the re-read find delivery `id` still pending with `attempts`? */
static int still_due(const PGresult *now, uint64_t id, int64_t attempts)
{
    for (int k = 0; k < PQntuples(now); k++)
        if ((uint64_t)pg_int(now, k, 0) == id)
            return pg_int(now, k, 1) == attempts;
    return 0;
}

/* The due query read its rows before taking their claims; a node that held
 * one of them may have written its outcome and released its claim in
 * between (it releases only after its commit is visible). Read the claimed
 * rows again in a new statement: those no longer pending, or attempted
 * since, are released, dropped from `claimed` and listed in *stale (the
 * caller's, empty), so they are not sent twice. */
static int recheck_claims(pg_store *s, const PGresult *due, int claimed_col, pg_id_set *stale,
                          char *err, size_t errlen)
{
    pg_id_set taken = {0};
    PGresult *now = NULL;
    char *ids = NULL;
    int rc = SN_OK;
    for (int i = 0; i < PQntuples(due) && rc == SN_OK; i++)
        if (pg_int(due, i, claimed_col))
            rc = pg_id_add(&taken, (uint64_t)pg_int(due, i, 0));
    if (rc != SN_OK || taken.n == 0)
        goto out;
    if ((ids = pg_id_array(&taken)) == NULL) {
        rc = SN_ENOMEM;
        goto out;
    }
    if ((now = pg_exec(s, recheck_sql, SQL_ARGS(SQL_TEXT(ids)), PGRES_TUPLES_OK, "due deliveries",
                       err, errlen)) == NULL) {
        rc = SN_ESTORE;
        goto out;
    }
    for (int i = 0; i < PQntuples(due) && rc == SN_OK; i++)
        if (pg_int(due, i, claimed_col) &&
            !still_due(now, (uint64_t)pg_int(due, i, 0), pg_int(due, i, ATTEMPTS_COLUMN)))
            rc = pg_id_add(stale, (uint64_t)pg_int(due, i, 0));
    if (rc == SN_OK && stale->n > 0 && (rc = pg_unclaim(s, stale, err, errlen)) == SN_OK)
        pg_id_remove_all(&s->claimed, stale);
out:
    if (rc == SN_ENOMEM)
        sn_fail(err, errlen, rc, "out of memory");
    PQclear(now);
    free(ids);
    free(taken.v);
    return rc;
}

/* Every claim taken is recorded, even past a stop: it is released when the
 * delivery's outcome is written. */
static int record_claims(pg_store *s, const PGresult *r, int claimed_col, char *err, size_t errlen)
{
    for (int i = 0; i < PQntuples(r); i++)
        if (pg_int(r, i, claimed_col) && pg_id_add(&s->claimed, (uint64_t)pg_int(r, i, 0)) != SN_OK)
            return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    return SN_OK;
}

static int hand_out(const PGresult *r, int claimed_col, const pg_id_set *stale, sn_due_fn fn,
                    void *ctx)
{
    int stop = 0;
    for (int i = 0; i < PQntuples(r) && !stop; i++) {
        sn_sql_row row = pg_row(r, i);
        sn_delivery d;
        sn_notice n;
        sn_app a;
        if (stale->n > 0 && pg_id_has(stale, (uint64_t)pg_int(r, i, 0)))
            continue; /* another node sent it meanwhile (recheck_claims) */
        sn_sql_read_due(&row, &d, &n, &a);
        d.claimed_elsewhere = !pg_int(r, i, claimed_col);
        stop = fn(ctx, &d, &n, &a);
    }
    return stop;
}

int pg_due_deliveries(sn_store *base, const sn_due_query *dq, sn_due_fn fn, void *ctx, char *err,
                      size_t errlen)
{
    enum { CLAIMED = SN_SQL_DUE_NCOLUMNS };
    pg_store *s = pg_of(base);
    pg_id_set stale = {0}; /* claimed, but sent by another node meanwhile */
    char *held;
    int rc;
    if ((rc = pg_enter(s, err, errlen)) != SN_OK)
        return rc;
    if ((held = pg_id_array(&s->claimed)) == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    PGresult *r =
        pg_exec(s, due_sql,
                SQL_ARGS(SQL_INT(dq->now_ms), SQL_INT(dq->limit), SQL_INT(dq->after_at_ms),
                         SQL_INT(dq->after_notice), SQL_INT(dq->part),
                         SQL_INT(dq->nparts > 0 ? dq->nparts : 1), SQL_TEXT(held)),
                PGRES_TUPLES_OK, "due deliveries", err, errlen);
    free(held);
    if (r == NULL)
        return SN_ESTORE;
    if ((rc = record_claims(s, r, CLAIMED, err, errlen)) == SN_OK &&
        (rc = recheck_claims(s, r, CLAIMED, &stale, err, errlen)) == SN_OK)
        rc = hand_out(r, CLAIMED, &stale, fn, ctx);
    PQclear(r);
    free(stale.v);
    return rc;
}

int pg_delivery_written(sn_store *base, uint64_t notice, char *err, size_t errlen)
{
    if (pg_id_add(&pg_of(base)->written, notice) != SN_OK)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    return SN_OK;
}
