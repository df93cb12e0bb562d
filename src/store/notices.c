/*
 * notices.c - notices to apps and subscribers' unbind requests, in the SQL
 * both backends run (sql.h).
 *
 * Issuing inserts the notices with INSERT ... SELECT over the number's
 * bindings (and the subscribed apps), ids being max(id) + row_number()
 * under the writer's lock, then one pending delivery for each new notice
 * of an app with a webhook: the notices above the highest id before.
 */
#include "store/notices.h"

#include "core/errors.h"
#include "store/backend.h"

#include <string.h>

#define NEXT_IDS(order)                                                                            \
    "(SELECT coalesce(max(id), 0) FROM notices) + row_number() OVER (ORDER BY " order ")"
#define ISSUE_BINDING_SQL(kind, tenure_test)                                                       \
    "INSERT INTO notices(id, app, number, kind, source, event, event_at, tenure, account, "        \
    "created, deadline) SELECT " NEXT_IDS(                                                         \
        "app, account") ", app, number, " kind ", 1, $2, "                                         \
                        "$3, tenure, account, $5, $6 FROM bindings WHERE number = $1 "             \
                        "AND " tenure_test

/* Binding notices select bindings by tenure: the cancelled one, or below the new one. */
static const char issue_cancelled_sql[] = ISSUE_BINDING_SQL("1", "tenure = $4");
static const char issue_reassigned_sql[] = ISSUE_BINDING_SQL("2", "tenure < $4");
/* $7 = kind; subscribed apps that got no binding notice for this event */
static const char issue_subscribed_sql[] =
    "INSERT INTO notices(id, app, number, kind, source, event, event_at, tenure, account, "
    "created, deadline) SELECT " NEXT_IDS(
        "id") ", id, $1, $7, 2, $2, $3, $4, NULL, $5, 0 FROM "
              "apps WHERE (CASE $7 WHEN 1 THEN sub_cancel ELSE sub_reissue END) = 1 AND id NOT IN "
              "(SELECT app FROM bindings WHERE number = $1 AND (CASE $7 WHEN 1 THEN tenure = $4 "
              "ELSE "
              "tenure < $4 END))";
static const char issue_deliveries_sql[] =
    "INSERT INTO deliveries(notice, app, number, state, attempts, first_at, next_at) SELECT "
    "n.id, n.app, n.number, 0, 0, 0, $2 FROM notices n JOIN apps a ON a.id = n.app WHERE "
    "n.id > $1 AND a.webhook_url IS NOT NULL";
static const char max_notice_sql[] = "SELECT coalesce(max(id), 0) FROM notices";
static const char open_cancellations_sql[] =
    "SELECT count(DISTINCT app), coalesce(max(deadline), 0) FROM notices WHERE number = $1 AND "
    "kind = 1 AND source = 1 AND outcome = 0 AND deadline > $2";
#define LIST_SQL(app_test, filter)                                                                 \
    "SELECT " SN_SQL_NOTICE_COLUMNS " FROM notices n JOIN apps a ON a.id = n.app WHERE " app_test  \
    " n.id > $2" filter " ORDER BY n.id LIMIT $3"
#define OPEN_FILTER " AND n.outcome = 0 AND (n.deadline = 0 OR n.deadline >= $4)"
#define ACKED_FILTER " AND n.outcome <> 0"
#define OVERDUE_FILTER " AND n.outcome = 0 AND n.deadline > 0 AND n.deadline < $4"
/* One per sn_notice_filter, for all apps or one ($1); each takes all four
 * parameters, used or not. */
static const char *const list_sql[4][2] = {
    [SN_NOTICES_ALL] = {LIST_SQL("", ""), LIST_SQL("n.app = $1 AND", "")},
    [SN_NOTICES_OPEN] = {LIST_SQL("", OPEN_FILTER), LIST_SQL("n.app = $1 AND", OPEN_FILTER)},
    [SN_NOTICES_ACKNOWLEDGED] = {LIST_SQL("", ACKED_FILTER),
                                 LIST_SQL("n.app = $1 AND", ACKED_FILTER)},
    [SN_NOTICES_OVERDUE] = {LIST_SQL("", OVERDUE_FILTER),
                            LIST_SQL("n.app = $1 AND", OVERDUE_FILTER)},
};
static const char counts_sql[] =
    "SELECT coalesce(sum(CASE WHEN deadline = 0 OR deadline >= $1 THEN 1 ELSE 0 END), 0), "
    "coalesce(sum(CASE WHEN deadline > 0 AND deadline < $1 THEN 1 ELSE 0 END), 0) FROM notices "
    "WHERE outcome = 0";
static const char get_sql[] = "SELECT " SN_SQL_NOTICE_COLUMNS " FROM notices n JOIN apps a ON "
                              "a.id = n.app WHERE n.id = $1";
static const char ack_sql[] =
    "UPDATE notices SET outcome = $2, note = $3, acked_at = $4 WHERE id = $1";
static const char request_add_sql[] =
    "INSERT INTO requests(id, number, tenure, app, scope, created, deadline) VALUES ((SELECT "
    "coalesce(max(id), 0) + 1 FROM requests), $1, $2, $3, $4, $5, $6) RETURNING id";
/* one unbind_request per binding in scope that has none open already */
static const char request_notices_sql[] =
    "INSERT INTO notices(id, app, number, kind, source, event, event_at, tenure, account, "
    "created, deadline, request) SELECT " NEXT_IDS(
        "b.account") ", b.app, b.number, 3, 1, 0, "
                     "$5, b.tenure, b.account, $5, $6, $7 FROM bindings b WHERE b.number = $1 AND "
                     "b.app = $2 AND "
                     "(CASE $3 WHEN 1 THEN b.tenure < $4 ELSE b.tenure = $4 END) AND NOT EXISTS "
                     "(SELECT 1 FROM "
                     "notices n WHERE n.number = b.number AND n.outcome = 0 AND n.app = b.app AND "
                     "n.kind = 3 AND "
                     "n.account = b.account)";
static const char requests_sql[] =
    "SELECT r.id, r.number, r.tenure, r.app, r.scope, r.created, r.deadline, a.name, "
    "coalesce(a.display_name, ''), "
    "count(n.id), count(n.id) FILTER (WHERE n.outcome <> 0), count(n.id) FILTER (WHERE "
    "n.outcome = 1), count(n.id) FILTER (WHERE n.outcome = 2), count(n.id) FILTER (WHERE "
    "n.outcome = 3), count(n.id) FILTER (WHERE n.outcome = 4) FROM requests r JOIN apps a ON "
    "a.id = r.app LEFT JOIN notices n ON n.request = r.id WHERE r.number = $1 AND r.tenure = $2 "
    "GROUP BY r.id, a.id ORDER BY r.id DESC LIMIT $3";

const sn_sql_map sn_sql_notice_map = SN_SQL_MAP(
    sn_notice, SQL_COL_INT(sn_notice, id), SQL_COL_INT(sn_notice, app),
    SQL_COL_INT(sn_notice, number), SQL_COL_INT(sn_notice, kind), SQL_COL_INT(sn_notice, source),
    SQL_COL_INT(sn_notice, event), SQL_COL_INT(sn_notice, outcome),
    SQL_COL_BYTES(sn_notice, account, has_account), SQL_COL_INT(sn_notice, tenure),
    SQL_COL_INT(sn_notice, event_at), SQL_COL_INT(sn_notice, created),
    SQL_COL_INT(sn_notice, deadline), SQL_COL_INT(sn_notice, acked_at),
    SQL_COL_TEXT(sn_notice, note), SQL_COL_TEXT(sn_notice, app_name));
SN_SQL_LIST(notice_row, sn_notice, sn_notice_fn, sn_sql_notice_map)
static const sn_sql_map request_map = SN_SQL_MAP(
    sn_request, SQL_COL_INT(sn_request, id), SQL_COL_INT(sn_request, number),
    SQL_COL_INT(sn_request, tenure), SQL_COL_INT(sn_request, app), SQL_COL_INT(sn_request, scope),
    SQL_COL_INT(sn_request, created), SQL_COL_INT(sn_request, deadline),
    SQL_COL_TEXT(sn_request, app_name), SQL_COL_TEXT(sn_request, display),
    SQL_COL_INT(sn_request, notices), SQL_COL_INT(sn_request, acknowledged),
    SQL_COL_INT(sn_request, outcomes[SN_OUTCOME_UNBOUND]),
    SQL_COL_INT(sn_request, outcomes[SN_OUTCOME_REVERIFIED]),
    SQL_COL_INT(sn_request, outcomes[SN_OUTCOME_NOT_FOUND]),
    SQL_COL_INT(sn_request, outcomes[SN_OUTCOME_REFUSED]));
SN_SQL_LIST(request_row, sn_request, sn_request_fn, request_map)

static int read_int64(void *ctx, const sn_sql_row *row)
{
    *(int64_t *)ctx = sn_sql_int(row, 0);
    return 0;
}

/* Run a write in the open transaction; *changed gets the rows it changed. */
static int command(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                   uint64_t *changed, const char *what, char *err, size_t errlen)
{
    return s->be->sql->run(s, sql, 0, args, nargs, NULL, NULL, changed, what, err, errlen);
}

/* A pending delivery for each notice above `last` of an app with a webhook. */
static int queue_deliveries(sn_store *s, int64_t last, int64_t now_ms, char *err, size_t errlen)
{
    uint64_t n;
    return command(s, issue_deliveries_sql, SQL_ARGS(SQL_INT(last), SQL_INT(now_ms)), &n,
                   "queue deliveries", err, errlen);
}

/* Issue what spec asks for, inside the open transaction. */
static int issue(sn_store *s, const sn_notice_spec *spec, size_t *issued, char *err, size_t errlen)
{
    const char *binding_sql =
        spec->kind == SN_NOTICE_CANCELLED ? issue_cancelled_sql : issue_reassigned_sql;
    int64_t last = 0;
    uint64_t n = 0;
    int rc =
        sn_sql_one(s, max_notice_sql, SQL_NO_ARGS, read_int64, &last, "issue notices", err, errlen);
    if (rc != SN_OK || (rc = command(s, binding_sql,
                                     SQL_ARGS(SQL_INT(spec->number), SQL_INT(spec->event),
                                              SQL_INT(spec->event_at), SQL_INT(spec->tenure),
                                              SQL_INT(spec->created), SQL_INT(spec->deadline)),
                                     &n, "issue notices", err, errlen)) != SN_OK)
        return rc;
    *issued += (size_t)n;
    if (*issued > 0)
        s->any_open_notices = 1;
    if (s->any_subscriptions) {
        rc = command(s, issue_subscribed_sql,
                     SQL_ARGS(SQL_INT(spec->number), SQL_INT(spec->event), SQL_INT(spec->event_at),
                              SQL_INT(spec->tenure), SQL_INT(spec->created),
                              SQL_INT(spec->deadline), SQL_INT(spec->kind)),
                     &n, "issue notices", err, errlen);
        if (rc != SN_OK)
            return rc;
        *issued += (size_t)n;
    }
    return *issued == 0 ? SN_OK : queue_deliveries(s, last, spec->now_ms, err, errlen);
}

int sn_store_issue_notices(sn_store *s, const sn_notice_spec *spec, size_t *issued, char *err,
                           size_t errlen)
{
    int own, rc;
    *issued = 0;
    if (s->in_tx && !s->any_bindings && !s->any_subscriptions)
        return SN_OK;
    if ((rc = sn_sql_begin(s, &own, err, errlen)) != SN_OK)
        return rc;
    /* a transaction of its own read the facts afresh: with no binding and
     * no subscription anywhere, nothing is issued */
    if (s->any_bindings || s->any_subscriptions)
        rc = issue(s, spec, issued, err, errlen);
    return sn_sql_end(s, own, rc, err, errlen);
}

typedef struct {
    uint32_t *apps;
    int64_t *until;
} open_count;

static int open_row(void *ctx, const sn_sql_row *row)
{
    open_count *o = ctx;
    *o->apps = (uint32_t)sn_sql_int(row, 0);
    *o->until = sn_sql_int(row, 1);
    return 0;
}

int sn_store_open_cancellations(sn_store *s, sn_number n, int64_t now, uint32_t *apps,
                                int64_t *until, char *err, size_t errlen)
{
    open_count o = {apps, until};
    *apps = 0;
    *until = 0;
    if (s->in_tx && !s->any_open_notices)
        return SN_OK;
    int rc = sn_sql_one(s, open_cancellations_sql, SQL_ARGS(SQL_INT(n), SQL_INT(now)), open_row, &o,
                        "read open notices", err, errlen);
    return rc == SN_ENOTFOUND ? SN_OK : rc;
}

int sn_store_list_notices(sn_store *s, const sn_notice_query *q, sn_notice_fn fn, void *ctx,
                          char *err, size_t errlen)
{
    notice_row_list r = {fn, ctx};
    if (q->filter > SN_NOTICES_OVERDUE)
        return sn_fail(err, errlen, SN_EINVAL, "bad notice filter");
    return sn_sql_read(
        s, list_sql[q->filter][q->app != 0],
        SQL_ARGS(SQL_INT(q->app), SQL_INT(q->after), SQL_INT(q->limit), SQL_INT(q->now)),
        notice_row, &r, "list notices", err, errlen);
}

int sn_store_get_notice(sn_store *s, uint64_t id, sn_notice *out, char *err, size_t errlen)
{
    return sn_sql_get(s, get_sql, SQL_ARGS(SQL_INT(id)), &sn_sql_notice_map, out, "read notice",
                      err, errlen, "no notice %llu", (unsigned long long)id);
}

int sn_store_ack_notice(sn_store *s, uint64_t id, int outcome, const char *note, int64_t at,
                        char *err, size_t errlen)
{
    return sn_sql_write(s, ack_sql,
                        SQL_ARGS(SQL_INT(id), SQL_INT(outcome), SQL_TEXT(note), SQL_INT(at)), NULL,
                        "acknowledge notice", err, errlen);
}

static int add_request(sn_store *s, sn_request *r, int64_t now_ms, size_t *issued, char *err,
                       size_t errlen)
{
    uint64_t n = 0;
    int64_t last = 0;
    int rc = s->be->sql->run(s, request_add_sql, 0,
                             SQL_ARGS(SQL_INT(r->number), SQL_INT(r->tenure), SQL_INT(r->app),
                                      SQL_INT(r->scope), SQL_INT(r->created), SQL_INT(r->deadline)),
                             read_int64, &last, NULL, "add request", err, errlen);
    if (rc != SN_OK)
        return rc;
    r->id = (uint64_t)last;
    if ((rc = sn_sql_one(s, max_notice_sql, SQL_NO_ARGS, read_int64, &last, "add request", err,
                         errlen)) != SN_OK ||
        (rc = command(s, request_notices_sql,
                      SQL_ARGS(SQL_INT(r->number), SQL_INT(r->app), SQL_INT(r->scope),
                               SQL_INT(r->tenure), SQL_INT(r->created), SQL_INT(r->deadline),
                               SQL_INT(r->id)),
                      &n, "issue unbind requests", err, errlen)) != SN_OK)
        return rc;
    *issued = (size_t)n;
    if (n == 0)
        return SN_OK;
    s->any_open_notices = 1;
    return queue_deliveries(s, last, now_ms, err, errlen);
}

int sn_store_add_request(sn_store *s, sn_request *r, int64_t now_ms, size_t *issued, char *err,
                         size_t errlen)
{
    int own, rc = sn_sql_begin(s, &own, err, errlen);
    *issued = 0;
    if (rc != SN_OK)
        return rc;
    return sn_sql_end(s, own, add_request(s, r, now_ms, issued, err, errlen), err, errlen);
}

int sn_store_list_requests(sn_store *s, sn_number n, uint32_t tenure, sn_request_fn fn, void *ctx,
                           char *err, size_t errlen)
{
    request_row_list r = {fn, ctx};
    return sn_sql_read(s, requests_sql,
                       SQL_ARGS(SQL_INT(n), SQL_INT(tenure), SQL_INT(SN_REQUESTS_LISTED)),
                       request_row, &r, "list requests", err, errlen);
}

static int counts_row(void *ctx, const sn_sql_row *row)
{
    uint64_t *n = ctx;
    n[0] = (uint64_t)sn_sql_int(row, 0);
    n[1] = (uint64_t)sn_sql_int(row, 1);
    return 0;
}

int sn_store_notice_counts(sn_store *s, int64_t now, uint64_t *open, uint64_t *overdue, char *err,
                           size_t errlen)
{
    uint64_t n[2] = {0, 0};
    int rc = sn_sql_one(s, counts_sql, SQL_ARGS(SQL_INT(now)), counts_row, n, "count notices", err,
                        errlen);
    *open = n[0];
    *overdue = n[1];
    return rc;
}
