/*
 * deliveries.c - the durable queue of webhook deliveries, in the SQL both
 * backends run (sql.h). Fetching the due ones is the backend's own
 * (backend.h): PostgreSQL claims them for one node of several.
 */
#include "store/deliveries.h"

#include "core/errors.h"
#include "store/backend.h"

#include <stdio.h>
#include <string.h>

static const char update_sql[] = "UPDATE deliveries SET state = $2, attempts = $3, first_at = $4, "
                                 "next_at = $5, last_error = $6 WHERE notice = $1";
#define LIST_SQL(app_test)                                                                         \
    "SELECT " SN_SQL_DELIVERY_COLUMNS ", a.name FROM deliveries d JOIN apps a ON a.id = d.app "    \
    "WHERE " app_test " d.state = $2 AND d.notice > $3 ORDER BY d.notice LIMIT $4"
static const char *const list_sql[2] = {LIST_SQL(""), LIST_SQL("d.app = $1 AND")};
static const char counts_sql[] =
    "SELECT state, count(*) FROM deliveries WHERE app = $1 GROUP BY state";
/* Deliveries of an app without a webhook wait for one (setting it wakes
 * the deliverer): they are never due, so they do not count here. */
static const char totals_sql[] =
    "SELECT coalesce(sum(CASE WHEN state = 0 THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN "
    "state = 0 AND attempts > 0 THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN state = 2 THEN 1 "
    "ELSE 0 END), 0) FROM deliveries";
static const char next_sql[] =
    "SELECT coalesce(min(d.next_at), 0) FROM deliveries d JOIN apps a ON a.id = d.app WHERE "
    "d.state = 0 AND a.webhook_url IS NOT NULL";

#define DELIVERY_COLS                                                                              \
    SQL_COL_INT(sn_delivery, notice), SQL_COL_INT(sn_delivery, app),                               \
        SQL_COL_INT(sn_delivery, number), SQL_COL_INT(sn_delivery, state),                         \
        SQL_COL_INT(sn_delivery, attempts), SQL_COL_INT(sn_delivery, first_at_ms),                 \
        SQL_COL_INT(sn_delivery, next_at_ms), SQL_COL_TEXT(sn_delivery, last_error)
const sn_sql_map sn_sql_delivery_map = SN_SQL_MAP(sn_delivery, DELIVERY_COLS);
static const sn_sql_map listed_map =
    SN_SQL_MAP(sn_delivery, DELIVERY_COLS, SQL_COL_TEXT(sn_delivery, app_name));
SN_SQL_LIST(delivery_row, sn_delivery, sn_delivery_fn, listed_map)

void sn_sql_read_due(const sn_sql_row *row, sn_delivery *d, sn_notice *n, sn_app *a)
{
    sn_sql_read_map(row, 0, &sn_sql_delivery_map, d);
    sn_sql_read_map(row, SN_SQL_DELIVERY_NCOLUMNS, &sn_sql_notice_map, n);
    sn_sql_read_map(row, SN_SQL_DELIVERY_NCOLUMNS + SN_SQL_NOTICE_NCOLUMNS, &sn_sql_app_map, a);
    snprintf(d->app_name, sizeof(d->app_name), "%s", a->name);
}

int sn_store_due_deliveries(sn_store *s, const sn_due_query *q, sn_due_fn fn, void *ctx, char *err,
                            size_t errlen)
{
    return s->be->due_deliveries(s, q, fn, ctx, err, errlen);
}

int sn_store_update_delivery(sn_store *s, const sn_delivery *d, char *err, size_t errlen)
{
    int own, rc = sn_sql_begin(s, &own, err, errlen);
    if (rc == SN_OK)
        rc = s->be->sql->run(s, update_sql, 0,
                             SQL_ARGS(SQL_INT(d->notice), SQL_INT(d->state), SQL_INT(d->attempts),
                                      SQL_INT(d->first_at_ms), SQL_INT(d->next_at_ms),
                                      SQL_TEXT(d->last_error[0] != '\0' ? d->last_error : NULL)),
                             NULL, NULL, NULL, "update delivery", err, errlen);
    if (rc == SN_OK && s->be->delivery_written != NULL)
        rc = s->be->delivery_written(s, d->notice, err, errlen);
    return sn_sql_end(s, own, rc, err, errlen);
}

int sn_store_list_deliveries(sn_store *s, uint32_t app, int state, uint64_t after, uint32_t limit,
                             sn_delivery_fn fn, void *ctx, char *err, size_t errlen)
{
    delivery_row_list r = {fn, ctx};
    return sn_sql_read(s, list_sql[app != 0],
                       SQL_ARGS(SQL_INT(app), SQL_INT(state), SQL_INT(after), SQL_INT(limit)),
                       delivery_row, &r, "list deliveries", err, errlen);
}

static int count_row(void *ctx, const sn_sql_row *row)
{
    uint64_t *counts = ctx;
    int64_t state = sn_sql_int(row, 0);
    if (state >= 0 && state <= SN_DELIVERY_DEAD)
        counts[state] = (uint64_t)sn_sql_int(row, 1);
    return 0;
}

int sn_store_delivery_counts(sn_store *s, uint32_t app, uint64_t counts[3], char *err,
                             size_t errlen)
{
    counts[0] = counts[1] = counts[2] = 0;
    return sn_sql_read(s, counts_sql, SQL_ARGS(SQL_INT(app)), count_row, counts, "count deliveries",
                       err, errlen);
}

static int totals_row(void *ctx, const sn_sql_row *row)
{
    uint64_t *totals = ctx;
    for (int i = 0; i < 3; i++)
        totals[i] = (uint64_t)sn_sql_int(row, i);
    return 0;
}

int sn_store_delivery_totals(sn_store *s, uint64_t totals[3], char *err, size_t errlen)
{
    totals[0] = totals[1] = totals[2] = 0;
    return sn_sql_one(s, totals_sql, SQL_NO_ARGS, totals_row, totals, "count deliveries", err,
                      errlen);
}

static int next_row(void *ctx, const sn_sql_row *row)
{
    *(int64_t *)ctx = sn_sql_int(row, 0);
    return 0;
}

int sn_store_next_delivery(sn_store *s, int64_t *at_ms, char *err, size_t errlen)
{
    *at_ms = 0;
    int rc = sn_sql_one(s, next_sql, SQL_NO_ARGS, next_row, at_ms, "next delivery", err, errlen);
    return rc == SN_ENOTFOUND ? SN_OK : rc;
}
