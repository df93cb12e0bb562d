/*
 * deliveries.c - the due webhook deliveries of a SQLite store
 * (sn_store_due_deliveries). One node per SQLite store: nothing is ever
 * claimed elsewhere.
 */
#include "store/sqlite/sqlite.h"

#include "core/errors.h"

#include <stdio.h>

#define DUE_SQL(cursor)                                                                            \
    "SELECT " SN_SQL_DUE_COLUMNS                                                                   \
    " FROM deliveries d JOIN notices n ON n.id = d.notice JOIN apps a ON a.id = d.app "            \
    "WHERE d.state = 0 AND " cursor " AND d.next_at <= ?1 AND d.number % ?6 = ?5 AND "             \
    "a.webhook_url IS NOT NULL AND "                                                               \
    "NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.state = 0 AND e.app = d.app AND "              \
    "e.number = d.number AND e.notice < d.notice) ORDER BY d.next_at, d.notice LIMIT ?2"
static const char due_same_sql[] = DUE_SQL("d.next_at = ?3 AND d.notice > ?4");
static const char due_later_sql[] = DUE_SQL("d.next_at > ?3");

typedef struct {
    sn_due_fn fn;
    void *ctx;
    uint32_t n;
} due_rows;

static int due_row(void *ctx, const sn_sql_row *row)
{
    due_rows *r = ctx;
    sn_delivery d;
    sn_notice n;
    sn_app a;
    sn_sql_read_due(row, &d, &n, &a);
    r->n++;
    return r->fn(r->ctx, &d, &n, &a);
}

/* The cursor (next_at, notice) is applied in two index seeks, because
 * SQLite seeks a row-value comparison on its first column only, and
 * deliveries queued together share one next_at: first the rest of the
 * cursor's own next_at, then the later ones. */
int sq_due_deliveries(sn_store *base, const sn_due_query *dq, sn_due_fn fn, void *ctx, char *err,
                      size_t errlen)
{
    due_rows rows = {fn, ctx, 0};
    uint32_t nparts = dq->nparts > 0 ? dq->nparts : 1;
    int rc = sn_sql_read(base, due_same_sql,
                         SQL_ARGS(SQL_INT(dq->now_ms), SQL_INT(dq->limit), SQL_INT(dq->after_at_ms),
                                  SQL_INT(dq->after_notice), SQL_INT(dq->part), SQL_INT(nparts)),
                         due_row, &rows, "due deliveries", err, errlen);
    if (rc != SN_OK || rows.n >= dq->limit)
        return rc;
    return sn_sql_read(base, due_later_sql,
                       SQL_ARGS(SQL_INT(dq->now_ms), SQL_INT(dq->limit - rows.n),
                                SQL_INT(dq->after_at_ms), SQL_INT(0), SQL_INT(dq->part),
                                SQL_INT(nparts)),
                       due_row, &rows, "due deliveries", err, errlen);
}
