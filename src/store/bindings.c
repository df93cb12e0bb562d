/*
 * bindings.c - which app accounts are bound to which numbers, in the SQL
 * both backends run (sql.h). Keyed by number first, so an event finds its
 * number's bindings in one range.
 */
#include "store/bindings.h"

#include "core/errors.h"
#include "store/backend.h"

static const char put_sql[] = "INSERT INTO bindings(number, app, account, bound_at, tenure) "
                              "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (number, app, account) "
                              "DO UPDATE SET bound_at = excluded.bound_at, tenure = "
                              "excluded.tenure";
static const char delete_sql[] =
    "DELETE FROM bindings WHERE number = $1 AND app = $2 AND account = $3";
static const char list_sql[] = "SELECT account, bound_at, tenure FROM bindings WHERE number = $1 "
                               "AND app = $2 ORDER BY account";
static const char of_number_sql[] =
    "SELECT b.app, b.account, b.bound_at, b.tenure, a.name, coalesce(a.display_name, '') "
    "FROM bindings b JOIN apps a ON a.id = b.app WHERE b.number = $1 ORDER BY a.name, b.bound_at";

int sn_store_put_binding(sn_store *s, const sn_binding *b, char *err, size_t errlen)
{
    s->any_bindings = 1;
    return sn_sql_write(s, put_sql,
                        SQL_ARGS(SQL_INT(b->number), SQL_INT(b->app),
                                 SQL_BYTES(b->account, SN_ACCOUNT_HASH_LEN), SQL_INT(b->bound_at),
                                 SQL_INT(b->tenure)),
                        NULL, "write binding", err, errlen);
}

int sn_store_delete_binding(sn_store *s, uint32_t app, sn_number n,
                            const uint8_t account[SN_ACCOUNT_HASH_LEN], int *found, char *err,
                            size_t errlen)
{
    uint64_t changed = 0;
    int rc = sn_sql_write(
        s, delete_sql, SQL_ARGS(SQL_INT(n), SQL_INT(app), SQL_BYTES(account, SN_ACCOUNT_HASH_LEN)),
        &changed, "delete binding", err, errlen);
    *found = rc == SN_OK && changed > 0;
    return rc;
}

typedef struct {
    sn_number number;
    uint32_t app;
    sn_binding_fn fn;
    sn_app_binding_fn app_fn;
    void *ctx;
} binding_rows;

/* account, bound_at, tenure from column c on */
static void read_binding(const sn_sql_row *row, int c, sn_binding *b)
{
    sn_sql_blob(row, c, b->account, SN_ACCOUNT_HASH_LEN);
    b->bound_at = sn_sql_int(row, c + 1);
    b->tenure = (uint32_t)sn_sql_int(row, c + 2);
}

static int binding_row(void *ctx, const sn_sql_row *row)
{
    binding_rows *r = ctx;
    sn_binding b = {.number = r->number, .app = r->app};
    read_binding(row, 0, &b);
    return r->fn(r->ctx, &b);
}

int sn_store_list_bindings(sn_store *s, uint32_t app, sn_number n, sn_binding_fn fn, void *ctx,
                           char *err, size_t errlen)
{
    binding_rows r = {n, app, fn, NULL, ctx};
    return sn_sql_read(s, list_sql, SQL_ARGS(SQL_INT(n), SQL_INT(app)), binding_row, &r,
                       "list bindings", err, errlen);
}

static int app_binding_row(void *ctx, const sn_sql_row *row)
{
    binding_rows *r = ctx;
    sn_binding b = {.number = r->number};
    b.app = (uint32_t)sn_sql_int(row, 0);
    read_binding(row, 1, &b);
    return r->app_fn(r->ctx, &b, sn_sql_str(row, 4, NULL), sn_sql_str(row, 5, NULL));
}

int sn_store_number_bindings(sn_store *s, sn_number n, sn_app_binding_fn fn, void *ctx, char *err,
                             size_t errlen)
{
    binding_rows r = {n, 0, NULL, fn, ctx};
    return sn_sql_read(s, of_number_sql, SQL_ARGS(SQL_INT(n)), app_binding_row, &r,
                       "bindings of a number", err, errlen);
}
