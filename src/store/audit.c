/*
 * audit.c - the audit trail's rows and the usage counters, in the SQL both
 * backends run (sql.h). Ids are the store's own (SQLite's rowid, a
 * PostgreSQL identity column): rows come from every serve node's audit
 * thread, never from the writer's max(id) + 1.
 */
#include "store/audit.h"

#include "core/errors.h"
#include "store/sql.h"

#include <stdio.h>
#include <string.h>

static const char add_sql[] =
    "INSERT INTO audit(at, status, day, items, route, method, who_kind, who, app, answer,"
    " request, number_hash, item_data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
    " $12, $13)";
static const char add_batch_sql[] =
    "INSERT INTO audit(at, status, day, items, route, method, who_kind, who, app, answer,"
    " request, number_hash, item_data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
    " $12, $13) RETURNING id";
/* SN_AUDIT_ITEMS_PER_INSERT rows (a duplicate number of a batch once);
 * 16 parameters, the most the PostgreSQL driver binds (pg/conn.c). */
static const char items_sql[] = "INSERT INTO audit_items(number_hash, at, audit, kind) VALUES"
                                " ($1, $2, $3, $4), ($5, $6, $7, $8), ($9, $10, $11, $12),"
                                " ($13, $14, $15, $16) ON CONFLICT DO NOTHING";
static const char item_sql[] = "INSERT INTO audit_items(number_hash, at, audit, kind) VALUES"
                               " ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
static const char purge_items_sql[] =
    "DELETE FROM audit_items WHERE audit IN (SELECT id FROM audit WHERE at < $1"
    " ORDER BY at, id LIMIT $2)";
/* Singles by audit_number, batch items by audit_items' key. */
static const char inquiries_sql[] =
    "SELECT q.at, q.id, coalesce(nullif(p.display_name, ''), q.app), q.kind FROM ("
    "SELECT at, id, app, CASE WHEN route LIKE '%binding%' THEN 1 ELSE 0 END AS kind FROM audit"
    " WHERE number_hash = $1 AND at >= $2 AND id < $3 AND app <> '' AND status < 300"
    " UNION ALL SELECT i.at, a.id, a.app, i.kind FROM audit_items i JOIN audit a ON a.id = i.audit"
    " WHERE i.number_hash = $1 AND i.at >= $2 AND i.audit < $3 AND a.app <> '' AND a.status < 300)"
    " q LEFT JOIN apps p ON p.name = q.app ORDER BY q.id DESC LIMIT $4";
static const char usage_add_sql[] =
    "INSERT INTO audit_usage(day, app, unknown, unchanged, disconnected, reassigned)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT(day, app) DO UPDATE SET"
    " unknown = audit_usage.unknown + excluded.unknown,"
    " unchanged = audit_usage.unchanged + excluded.unchanged,"
    " disconnected = audit_usage.disconnected + excluded.disconnected,"
    " reassigned = audit_usage.reassigned + excluded.reassigned";
static const char purge_sql[] = "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < $1"
                                " ORDER BY at, id LIMIT $2)";
#define AUDIT_COLUMNS                                                                              \
    "id, at, status, day, items, route, method, who_kind, who, app, answer, request,"              \
    " number_hash, item_data"
static const char list_sql[] = "SELECT " AUDIT_COLUMNS " FROM audit WHERE at >= $1 AND at < $2"
                               " AND id > $3 ORDER BY id LIMIT $4";
static const char list_app_sql[] = "SELECT " AUDIT_COLUMNS " FROM audit WHERE at >= $1 AND at < $2"
                                   " AND id > $3 AND app = $5 ORDER BY id LIMIT $4";
static const char count_sql[] =
    "SELECT count(*), coalesce(sum(items), 0) FROM audit WHERE at >= $1 AND at < $2";
static const char usage_sql[] =
    "SELECT day, app, unknown, unchanged, disconnected, reassigned FROM audit_usage"
    " WHERE day >= $1 AND day <= $2 ORDER BY day, app";
static const char usage_app_sql[] =
    "SELECT day, app, unknown, unchanged, disconnected, reassigned FROM audit_usage"
    " WHERE day >= $1 AND day <= $2 AND app = $3 ORDER BY day, app";

static const uint8_t no_hash[SN_AUDIT_HASH_LEN];

/* audit_items' rows of batch row id: the items with a number (a hash not
 * all zero), SN_AUDIT_ITEMS_PER_INSERT a statement, the rest one by one. */
static int add_items(sn_store *s, const sn_audit_row *r, int64_t id, char *err, size_t errlen)
{
    sn_sql_arg args[4 * SN_AUDIT_ITEMS_PER_INSERT];
    size_t n = 0;
    int rc = SN_OK;
    for (uint32_t i = 0; i < r->items && rc == SN_OK; i++) {
        const uint8_t *it = r->item_data + (size_t)i * SN_AUDIT_ITEM_BYTES;
        if (memcmp(it, no_hash, SN_AUDIT_HASH_LEN) == 0)
            continue;
        int kind = it[SN_AUDIT_HASH_LEN + 4] == SN_AUDIT_NOT_CHECK ? SN_AUDIT_KIND_BINDING
                                                                   : SN_AUDIT_KIND_CHECK;
        args[n++] = SQL_BYTES(it, SN_AUDIT_HASH_LEN);
        args[n++] = SQL_INT(r->at);
        args[n++] = SQL_INT(id);
        args[n++] = SQL_INT(kind);
        if (n == sizeof(args) / sizeof(args[0])) {
            rc = sn_sql_write(s, items_sql, args, n, NULL, "audit items", err, errlen);
            n = 0;
        }
    }
    for (size_t k = 0; k < n && rc == SN_OK; k += 4)
        rc = sn_sql_write(s, item_sql, args + k, 4, NULL, "audit items", err, errlen);
    return rc;
}

int sn_store_audit_add(sn_store *s, const sn_audit_row *r, char *err, size_t errlen)
{
    const sn_sql_arg args[] = {
        SQL_INT(r->at),
        SQL_INT(r->status),
        SQL_INT(r->day),
        SQL_INT(r->items),
        SQL_TEXT(r->route),
        SQL_TEXT(r->method),
        SQL_TEXT(r->who_kind),
        SQL_TEXT(r->who),
        SQL_TEXT(r->app),
        SQL_TEXT(r->answer),
        SQL_TEXT(r->request),
        r->has_number ? SQL_BYTES(r->number_hash, SN_AUDIT_HASH_LEN) : SQL_BYTES(NULL, 0),
        r->items > 0 ? SQL_BYTES(r->item_data, (size_t)r->items * SN_AUDIT_ITEM_BYTES)
                     : SQL_BYTES(NULL, 0),
    };
    size_t nargs = sizeof(args) / sizeof(args[0]);
    if (r->items == 0)
        return sn_sql_write(s, add_sql, args, nargs, NULL, "audit", err, errlen);
    uint64_t id = 0;
    int rc = sn_sql_insert_id(s, add_batch_sql, args, nargs, &id, "audit", err, errlen);
    return rc == SN_OK ? add_items(s, r, (int64_t)id, err, errlen) : rc;
}

int sn_store_audit_usage_add(sn_store *s, sn_day day, const char *app,
                             const uint64_t counts[SN_AUDIT_VERDICTS], char *err, size_t errlen)
{
    return sn_sql_write(s, usage_add_sql,
                        SQL_ARGS(SQL_INT(day), SQL_TEXT(app), SQL_INT(counts[0]),
                                 SQL_INT(counts[1]), SQL_INT(counts[2]), SQL_INT(counts[3])),
                        NULL, "audit usage", err, errlen);
}

int sn_store_audit_purge(sn_store *s, int64_t before, uint32_t max, uint64_t *purged, char *err,
                         size_t errlen)
{
    *purged = 0;
    int rc = sn_sql_write(s, purge_items_sql, SQL_ARGS(SQL_INT(before), SQL_INT(max)), NULL,
                          "audit items purge", err, errlen);
    if (rc != SN_OK)
        return rc;
    return sn_sql_write(s, purge_sql, SQL_ARGS(SQL_INT(before), SQL_INT(max)), purged,
                        "audit purge", err, errlen);
}

typedef struct {
    sn_audit_row_fn fn;
    void *ctx;
} list_ctx;

static int list_row(void *ctx, const sn_sql_row *row)
{
    list_ctx *l = ctx;
    sn_audit_row r;
    size_t len = 0;
    memset(&r, 0, sizeof(r));
    r.id = sn_sql_int(row, 0);
    r.at = sn_sql_int(row, 1);
    r.status = (int)sn_sql_int(row, 2);
    r.day = (sn_day)sn_sql_int(row, 3);
    r.items = (uint32_t)sn_sql_int(row, 4);
    sn_sql_text(row, 5, r.route, sizeof(r.route));
    sn_sql_text(row, 6, r.method, sizeof(r.method));
    sn_sql_text(row, 7, r.who_kind, sizeof(r.who_kind));
    sn_sql_text(row, 8, r.who, sizeof(r.who));
    sn_sql_text(row, 9, r.app, sizeof(r.app));
    sn_sql_text(row, 10, r.answer, sizeof(r.answer));
    sn_sql_text(row, 11, r.request, sizeof(r.request));
    r.has_number = sn_sql_blob(row, 12, r.number_hash, SN_AUDIT_HASH_LEN);
    r.item_data = row->driver->col_bytes(row, 13, &len);
    if (r.item_data == NULL || len != (size_t)r.items * SN_AUDIT_ITEM_BYTES) {
        r.items = 0; /* damaged or absent: the row alone */
        r.item_data = NULL;
    }
    return l->fn(l->ctx, &r);
}

int sn_store_audit_list(sn_store *s, int64_t from, int64_t to, const char *app, int64_t after,
                        uint32_t limit, sn_audit_row_fn fn, void *ctx, char *err, size_t errlen)
{
    list_ctx l = {fn, ctx};
    if (app != NULL)
        return sn_sql_read(
            s, list_app_sql,
            SQL_ARGS(SQL_INT(from), SQL_INT(to), SQL_INT(after), SQL_INT(limit), SQL_TEXT(app)),
            list_row, &l, "audit list", err, errlen);
    return sn_sql_read(s, list_sql,
                       SQL_ARGS(SQL_INT(from), SQL_INT(to), SQL_INT(after), SQL_INT(limit)),
                       list_row, &l, "audit list", err, errlen);
}

typedef struct {
    sn_audit_inquiry_fn fn;
    void *ctx;
} inquiry_ctx;

static int inquiry_row(void *ctx, const sn_sql_row *row)
{
    inquiry_ctx *l = ctx;
    sn_audit_inquiry q;
    memset(&q, 0, sizeof(q));
    q.at = sn_sql_int(row, 0);
    q.id = sn_sql_int(row, 1);
    sn_sql_text(row, 2, q.app, sizeof(q.app));
    q.kind = (int)sn_sql_int(row, 3);
    return l->fn(l->ctx, &q);
}

int sn_store_audit_inquiries(sn_store *s, const uint8_t hash[SN_AUDIT_HASH_LEN], int64_t since,
                             int64_t before, uint32_t limit, sn_audit_inquiry_fn fn, void *ctx,
                             char *err, size_t errlen)
{
    inquiry_ctx l = {fn, ctx};
    return sn_sql_read(s, inquiries_sql,
                       SQL_ARGS(SQL_BYTES(hash, SN_AUDIT_HASH_LEN), SQL_INT(since), SQL_INT(before),
                                SQL_INT(limit)),
                       inquiry_row, &l, "audit inquiries", err, errlen);
}

static int count_row(void *ctx, const sn_sql_row *row)
{
    uint64_t *n = ctx;
    n[0] = (uint64_t)sn_sql_int(row, 0);
    n[1] = (uint64_t)sn_sql_int(row, 1);
    return 0;
}

int sn_store_audit_count(sn_store *s, int64_t from, int64_t to, uint64_t *rows, uint64_t *items,
                         char *err, size_t errlen)
{
    uint64_t n[2] = {0, 0};
    int rc = sn_sql_one(s, count_sql, SQL_ARGS(SQL_INT(from), SQL_INT(to)), count_row, n,
                        "audit count", err, errlen);
    *rows = n[0];
    *items = n[1];
    return rc == SN_ENOTFOUND ? SN_OK : rc;
}

typedef struct {
    sn_audit_usage_fn fn;
    void *ctx;
} usage_ctx;

static int usage_row(void *ctx, const sn_sql_row *row)
{
    usage_ctx *u = ctx;
    sn_audit_usage r;
    memset(&r, 0, sizeof(r));
    r.day = (sn_day)sn_sql_int(row, 0);
    sn_sql_text(row, 1, r.app, sizeof(r.app));
    for (int v = 0; v < SN_AUDIT_VERDICTS; v++)
        r.counts[v] = (uint64_t)sn_sql_int(row, 2 + v);
    return u->fn(u->ctx, &r);
}

int sn_store_audit_usage(sn_store *s, sn_day from, sn_day to, const char *app, sn_audit_usage_fn fn,
                         void *ctx, char *err, size_t errlen)
{
    usage_ctx u = {fn, ctx};
    if (app != NULL)
        return sn_sql_read(s, usage_app_sql, SQL_ARGS(SQL_INT(from), SQL_INT(to), SQL_TEXT(app)),
                           usage_row, &u, "audit usage", err, errlen);
    return sn_sql_read(s, usage_sql, SQL_ARGS(SQL_INT(from), SQL_INT(to)), usage_row, &u,
                       "audit usage", err, errlen);
}
