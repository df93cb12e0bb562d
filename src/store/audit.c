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
#include <stdlib.h>
#include <string.h>

static const char add_sql[] =
    "INSERT INTO audit(at, status, day, items, route, method, who_kind, who, app, answer,"
    " request, number_hash, item_data, item_meta) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " $10, $11, $12, $13, $14)";
static const char add_id_sql[] =
    "INSERT INTO audit(at, status, day, items, route, method, who_kind, who, app, answer,"
    " request, number_hash, item_data, item_meta) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " $10, $11, $12, $13, $14) RETURNING id";
static const char pending_add_sql[] = "INSERT INTO audit_pending(id) VALUES ($1)";
/* The indexer: the oldest pending rows (items -1: purged since) with
 * their items, then each one's items with a number ($3: a hash of zeros is
 * none) unpacked by the database itself from the packed items passed back
 * as a parameter ($5, one item a number already: distinct_items; k counts
 * the items; substr reads a blob on SQLite, a bytea on PostgreSQL), and
 * the row no longer pending, in one transaction. The items go back as a
 * parameter because a column read in substr is read whole again for each
 * item: 1,000 items of 13 KB made 13 MB of copies a row. */
static const char pending_sql[] =
    "SELECT p.id, coalesce(a.items, -1), coalesce(a.at, 0), a.item_data FROM audit_pending p"
    " LEFT JOIN audit a ON a.id = p.id ORDER BY p.id LIMIT $1";
static const char expand_sql[] =
    "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < $2)"
    " INSERT INTO audit_items(number_hash, at, audit, kind)"
    " SELECT substr($5, k.i * 13 + 1, 8), $6, $1,"
    " CASE WHEN substr($5, k.i * 13 + 13, 1) = $4 THEN 1 ELSE 0 END FROM k"
    " WHERE substr($5, k.i * 13 + 1, 8) <> $3 ORDER BY 1 ON CONFLICT DO NOTHING";
static const char pending_done_sql[] = "DELETE FROM audit_pending WHERE id = $1";
static const char unindexed_sql[] = "SELECT count(*) FROM audit_pending";
static const char purge_items_sql[] =
    "DELETE FROM audit_items WHERE audit IN (SELECT id FROM audit WHERE at < $1"
    " ORDER BY at, id LIMIT $2)";
static const char purge_pending_sql[] =
    "DELETE FROM audit_pending WHERE id IN (SELECT id FROM audit WHERE at < $1"
    " ORDER BY at, id LIMIT $2)";
/* The pending batch rows an inquiry reads whole (their items are matched
 * here, not yet indexed). */
static const char inquiries_pending_sql[] =
    "SELECT a.at, a.id, coalesce(nullif(p.display_name, ''), a.app), a.items, a.item_data"
    " FROM audit_pending q JOIN audit a ON a.id = q.id LEFT JOIN apps p ON p.name = a.app"
    " WHERE a.at >= $1 AND a.id < $2 AND a.app <> '' AND a.status < 300";
/* Single rows by the index audit_number, indexed batch items by
 * audit_items' key. */
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
    " number_hash, item_data, item_meta"
static const char list_sql[] = "SELECT " AUDIT_COLUMNS " FROM audit WHERE at >= $1 AND at < $2"
                               " AND id > $3 ORDER BY id LIMIT $4";
static const char list_app_sql[] = "SELECT " AUDIT_COLUMNS " FROM audit WHERE at >= $1 AND at < $2"
                                   " AND id > $3 AND app = $5 ORDER BY id LIMIT $4";
static const char count_sql[] =
    "SELECT coalesce(sum(CASE WHEN item_meta IS NULL THEN 1 ELSE items END), 0),"
    " coalesce(sum(CASE WHEN item_meta IS NULL THEN items ELSE 0 END), 0) FROM audit"
    " WHERE at >= $1 AND at < $2";
static const char usage_sql[] =
    "SELECT day, app, unknown, unchanged, disconnected, reassigned FROM audit_usage"
    " WHERE day >= $1 AND day <= $2 ORDER BY day, app";
static const char usage_app_sql[] =
    "SELECT day, app, unknown, unchanged, disconnected, reassigned FROM audit_usage"
    " WHERE day >= $1 AND day <= $2 AND app = $3 ORDER BY day, app";

static const uint8_t no_hash[SN_AUDIT_HASH_LEN];

/* Whether r waits in audit_pending once added. */
static int pends(const sn_audit_row *r)
{
    return r->items > 0 && r->app[0] != '\0' && r->status < 300;
}

int sn_store_audit_add(sn_store *s, const sn_audit_row *r, int *pending, char *err, size_t errlen)
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
        SQL_BYTES(r->item_meta, r->item_meta_len),
    };
    size_t nargs = sizeof(args) / sizeof(args[0]);
    if (pending != NULL)
        *pending = 0;
    if (!pends(r))
        return sn_sql_write(s, add_sql, args, nargs, NULL, "audit", err, errlen);
    uint64_t id = 0;
    int rc = sn_sql_insert_id(s, add_id_sql, args, nargs, &id, "audit", err, errlen);
    if (rc != SN_OK)
        return rc;
    rc =
        sn_sql_write(s, pending_add_sql, SQL_ARGS(SQL_INT(id)), NULL, "audit pending", err, errlen);
    if (rc == SN_OK && pending != NULL)
        *pending = 1;
    return rc;
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
    int own, rc = sn_sql_begin(s, &own, err, errlen);
    if (rc == SN_OK)
        rc = sn_sql_write(s, purge_items_sql, SQL_ARGS(SQL_INT(before), SQL_INT(max)), NULL,
                          "audit items purge", err, errlen);
    if (rc == SN_OK)
        rc = sn_sql_write(s, purge_pending_sql, SQL_ARGS(SQL_INT(before), SQL_INT(max)), NULL,
                          "audit pending purge", err, errlen);
    if (rc == SN_OK)
        rc = sn_sql_write(s, purge_sql, SQL_ARGS(SQL_INT(before), SQL_INT(max)), purged,
                          "audit purge", err, errlen);
    return sn_sql_end(s, own, rc, err, errlen);
}

typedef struct {
    int64_t id[SN_AUDIT_INDEX_ROWS];
    int64_t items[SN_AUDIT_INDEX_ROWS]; /* -1: purged; 0: no items (its data ignored) */
    int64_t at[SN_AUDIT_INDEX_ROWS];
    size_t off[SN_AUDIT_INDEX_ROWS]; /* of its items in data */
    size_t n;
    int64_t weight; /* numbers to index: a batch row's items, 1 for another */
    uint8_t *data;  /* the rows' packed items, one after the other */
    size_t len, cap;
} pending_rows;

#define ENOUGH 1 /* pending_row: the transaction's share is taken */

/* The oldest pending rows up to SN_AUDIT_INDEX_ITEMS numbers (at least
 * one row), their items copied. */
static int pending_row(void *ctx, const sn_sql_row *row)
{
    pending_rows *p = ctx;
    size_t len = 0;
    int64_t items = sn_sql_int(row, 1), w = items > 0 ? items : 1;
    const uint8_t *data = row->driver->col_bytes(row, 3, &len);
    if (p->n > 0 && p->weight + w > SN_AUDIT_INDEX_ITEMS)
        return ENOUGH;
    if (data == NULL || items <= 0 || len != (size_t)items * SN_AUDIT_ITEM_BYTES)
        items = items < 0 ? -1 : 0, len = 0; /* purged, or nothing to index */
    if (p->len + len > p->cap) {
        size_t cap = p->cap ? p->cap : 65536;
        while (cap < p->len + len)
            cap *= 2;
        uint8_t *d = realloc(p->data, cap);
        if (d == NULL)
            return SN_ENOMEM;
        p->data = d;
        p->cap = cap;
    }
    if (len > 0)
        memcpy(p->data + p->len, data, len);
    p->id[p->n] = sn_sql_int(row, 0);
    p->items[p->n] = items;
    p->at[p->n] = sn_sql_int(row, 2);
    p->off[p->n++] = p->len;
    p->len += len;
    p->weight += w;
    return 0;
}

/* An item's number hash as a number whose order is the blob's, and its place. */
typedef struct {
    uint64_t hash;
    uint32_t at;
} item_key;

static int item_key_cmp(const void *a, const void *b)
{
    const item_key *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* items[0..n) (SN_AUDIT_ITEM_BYTES each) rewritten in place to one item a
 * number (the first of each), in the hash's order, those without a number
 * (a hash of zeros) left out; *kept their count. The database would do
 * the same with the statement's ORDER BY and ON CONFLICT, at a sort and a
 * refused insert a duplicate: single checks of one number again and again
 * make a group row of one number's items. SN_OK or SN_ENOMEM. */
static int distinct_items(uint8_t *items, size_t n, size_t *kept)
{
    item_key *k = malloc((n + 1) * sizeof(*k));
    uint8_t *out = malloc(n * SN_AUDIT_ITEM_BYTES + 1);
    size_t m = 0, w = 0;
    if (k == NULL || out == NULL) {
        free(k);
        free(out);
        return SN_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *h = items + i * SN_AUDIT_ITEM_BYTES;
        uint64_t v = 0;
        for (int b = 0; b < SN_AUDIT_HASH_LEN; b++)
            v = v << 8 | h[b];
        if (v != 0)
            k[m++] = (item_key){v, (uint32_t)i};
    }
    qsort(k, m, sizeof(*k), item_key_cmp);
    for (size_t i = 0; i < m; i++)
        if (i == 0 || k[i].hash != k[i - 1].hash)
            memcpy(out + w++ * SN_AUDIT_ITEM_BYTES, items + (size_t)k[i].at * SN_AUDIT_ITEM_BYTES,
                   SN_AUDIT_ITEM_BYTES);
    memcpy(items, out, w * SN_AUDIT_ITEM_BYTES);
    *kept = w;
    free(k);
    free(out);
    return SN_OK;
}

/* Index pending row i of p (its items, one a number), then mark it done. */
static int index_row(sn_store *s, const pending_rows *p, size_t i, char *err, size_t errlen)
{
    static const uint8_t binding[1] = {SN_AUDIT_NOT_CHECK};
    size_t n = 0;
    int rc = SN_OK;
    if (p->items[i] > 0 && distinct_items(p->data + p->off[i], (size_t)p->items[i], &n) != SN_OK)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    if (n > 0)
        rc = sn_sql_write(s, expand_sql,
                          SQL_ARGS(SQL_INT(p->id[i]), SQL_INT((int64_t)n),
                                   SQL_BYTES(no_hash, SN_AUDIT_HASH_LEN), SQL_BYTES(binding, 1),
                                   SQL_BYTES(p->data + p->off[i], n * SN_AUDIT_ITEM_BYTES),
                                   SQL_INT(p->at[i])),
                          NULL, "audit items", err, errlen);
    if (rc == SN_OK)
        rc = sn_sql_write(s, pending_done_sql, SQL_ARGS(SQL_INT(p->id[i])), NULL, "audit pending",
                          err, errlen);
    return rc;
}

int sn_store_audit_index(sn_store *s, uint32_t max, uint64_t *rows, char *err, size_t errlen)
{
    pending_rows *p = calloc(1, sizeof(*p));
    *rows = 0;
    if (p == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    if (max > SN_AUDIT_INDEX_ROWS)
        max = SN_AUDIT_INDEX_ROWS;
    int own, rc = sn_sql_begin(s, &own, err, errlen);
    if (rc == SN_OK)
        rc = sn_sql_read(s, pending_sql, SQL_ARGS(SQL_INT(max)), pending_row, p, "audit pending",
                         err, errlen);
    if (rc == ENOUGH)
        rc = SN_OK;
    if (rc == SN_ENOMEM)
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n && rc == SN_OK; i++)
        rc = index_row(s, p, i, err, errlen);
    rc = sn_sql_end(s, own, rc, err, errlen);
    if (rc == SN_OK)
        *rows = p->n;
    free(p->data);
    free(p);
    return rc;
}

static int count_one(void *ctx, const sn_sql_row *row)
{
    *(uint64_t *)ctx = (uint64_t)sn_sql_int(row, 0);
    return 0;
}

int sn_store_audit_unindexed(sn_store *s, uint64_t *rows, char *err, size_t errlen)
{
    *rows = 0;
    int rc =
        sn_sql_one(s, unindexed_sql, SQL_NO_ARGS, count_one, rows, "audit pending", err, errlen);
    return rc == SN_ENOTFOUND ? SN_OK : rc;
}

int sn_audit_meta_read(const uint8_t *meta, size_t len, size_t *pos, uint32_t *offset_ms,
                       const char **request, size_t *request_len)
{
    size_t at = *pos;
    if (meta == NULL || at > len || len - at < SN_AUDIT_META_FIXED)
        return 0;
    uint32_t off = (uint32_t)meta[at] | (uint32_t)meta[at + 1] << 8;
    size_t n = meta[at + 2];
    if (off >= 1000 || len - at - SN_AUDIT_META_FIXED < n)
        return 0;
    *offset_ms = off;
    *request = (const char *)meta + at + SN_AUDIT_META_FIXED;
    *request_len = n;
    *pos = at + SN_AUDIT_META_FIXED + n;
    return 1;
}

/* Whether a group row's meta holds exactly a record for each item. */
static int meta_whole(const sn_audit_row *r)
{
    size_t pos = 0, n;
    uint32_t off;
    const char *req;
    for (uint32_t i = 0; i < r->items; i++)
        if (!sn_audit_meta_read(r->item_meta, r->item_meta_len, &pos, &off, &req, &n))
            return 0;
    return r->items > 0 && pos == r->item_meta_len;
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
    r.item_meta = row->driver->col_bytes(row, 14, &r.item_meta_len);
    if (r.item_data == NULL || len != (size_t)r.items * SN_AUDIT_ITEM_BYTES ||
        (r.item_meta != NULL && !meta_whole(&r))) {
        r.items = 0; /* damaged or absent: the row alone */
        r.item_data = NULL;
        r.item_meta = NULL;
        r.item_meta_len = 0;
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

/* An inquiry's answers gathered from both reads, then ordered. */
typedef struct {
    const uint8_t *hash;
    sn_audit_inquiry *q;
    size_t n, cap;
} inquiry_list;

static int push_inquiry(inquiry_list *l, const sn_sql_row *row, int kind)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        sn_audit_inquiry *q = realloc(l->q, cap * sizeof(*q));
        if (q == NULL)
            return SN_ENOMEM;
        l->q = q;
        l->cap = cap;
    }
    sn_audit_inquiry *q = &l->q[l->n++];
    memset(q, 0, sizeof(*q));
    q->at = sn_sql_int(row, 0);
    q->id = sn_sql_int(row, 1);
    sn_sql_text(row, 2, q->app, sizeof(q->app));
    q->kind = kind;
    return 0;
}

/* A batch row not yet indexed: an inquiry when one of its items has the
 * number (the first such item's kind, as the index keeps it). */
static int pending_inquiry(void *ctx, const sn_sql_row *row)
{
    inquiry_list *l = ctx;
    size_t len = 0;
    int64_t items = sn_sql_int(row, 3);
    const uint8_t *data = row->driver->col_bytes(row, 4, &len);
    if (data == NULL || items <= 0 || len != (size_t)items * SN_AUDIT_ITEM_BYTES)
        return 0;
    for (int64_t i = 0; i < items; i++) {
        const uint8_t *it = data + (size_t)i * SN_AUDIT_ITEM_BYTES;
        if (memcmp(it, l->hash, SN_AUDIT_HASH_LEN) == 0)
            return push_inquiry(l, row,
                                it[SN_AUDIT_HASH_LEN + 4] == SN_AUDIT_NOT_CHECK
                                    ? SN_AUDIT_KIND_BINDING
                                    : SN_AUDIT_KIND_CHECK);
    }
    return 0;
}

static int indexed_inquiry(void *ctx, const sn_sql_row *row)
{
    return push_inquiry(ctx, row, (int)sn_sql_int(row, 3));
}

static int newest_first(const void *a, const void *b)
{
    const sn_audit_inquiry *x = a, *y = b;
    return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

/* The pending rows are read before the indexed ones: a row the indexer
 * moves in between is then read twice (kept once), never missed. */
int sn_store_audit_inquiries(sn_store *s, const uint8_t hash[SN_AUDIT_HASH_LEN], int64_t since,
                             int64_t before, uint32_t limit, sn_audit_inquiry_fn fn, void *ctx,
                             char *err, size_t errlen)
{
    inquiry_list l = {hash, NULL, 0, 0};
    int rc = sn_sql_read(s, inquiries_pending_sql, SQL_ARGS(SQL_INT(since), SQL_INT(before)),
                         pending_inquiry, &l, "audit inquiries", err, errlen);
    if (rc == SN_OK)
        rc = sn_sql_read(s, inquiries_sql,
                         SQL_ARGS(SQL_BYTES(hash, SN_AUDIT_HASH_LEN), SQL_INT(since),
                                  SQL_INT(before), SQL_INT(limit)),
                         indexed_inquiry, &l, "audit inquiries", err, errlen);
    if (rc == SN_ENOMEM)
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    if (rc == SN_OK && l.n > 0)
        qsort(l.q, l.n, sizeof(*l.q), newest_first);
    uint32_t sent = 0;
    for (size_t i = 0; i < l.n && rc == SN_OK && sent < limit; i++)
        if (i == 0 || l.q[i].id != l.q[i - 1].id) {
            rc = fn(ctx, &l.q[i]);
            sent++;
        }
    free(l.q);
    return rc;
}

static int count_row(void *ctx, const sn_sql_row *row)
{
    uint64_t *n = ctx;
    n[0] = (uint64_t)sn_sql_int(row, 0);
    n[1] = (uint64_t)sn_sql_int(row, 1);
    return 0;
}

int sn_store_audit_count(sn_store *s, int64_t from, int64_t to, uint64_t *records, uint64_t *items,
                         char *err, size_t errlen)
{
    uint64_t n[2] = {0, 0};
    int rc = sn_sql_one(s, count_sql, SQL_ARGS(SQL_INT(from), SQL_INT(to)), count_row, n,
                        "audit count", err, errlen);
    *records = n[0];
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
