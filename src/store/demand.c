/*
 * demand.c - coverage demand (demand.h), in the SQL both backends run
 * (sql.h).
 */
#include "store/demand.h"

#include "core/errors.h"
#include "core/limits.h"
#include "store/sql.h"

#include <stdio.h>

static const char add_sql[] = "INSERT INTO app_demand(name, number, tenure, created) "
                              "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
static const char count_sql[] =
    "SELECT (SELECT count(*) FROM app_demand WHERE number = $1 AND tenure = $2), "
    "(SELECT count(*) FROM app_demand WHERE name = $3), (SELECT count(*) FROM app_demand "
    "WHERE name = $3 AND number = $1 AND tenure = $2)";
static const char known_sql[] = "SELECT count(*) FROM apps WHERE lower(name) = $1 "
                                "OR lower(coalesce(display_name, '')) = $1";
static const char top_sql[] = "SELECT name, count(*), min(created), max(created) FROM app_demand "
                              "GROUP BY name ORDER BY 2 DESC, 1 LIMIT $1";

int sn_store_demand_add(sn_store *s, const char *name, sn_number number, uint32_t tenure,
                        int64_t at, int *added, char *err, size_t errlen)
{
    uint64_t changed = 0;
    int rc = sn_sql_write(s, add_sql,
                          SQL_ARGS(SQL_TEXT(name), SQL_INT(number), SQL_INT(tenure), SQL_INT(at)),
                          &changed, "ask for an app", err, errlen);
    *added = changed > 0;
    return rc;
}

typedef struct {
    uint64_t a, b, c;
} three_counts;

static int read_three(void *ctx, const sn_sql_row *row)
{
    three_counts *t = ctx;
    t->a = (uint64_t)sn_sql_int(row, 0);
    t->b = (uint64_t)sn_sql_int(row, 1);
    t->c = (uint64_t)sn_sql_int(row, 2);
    return 0;
}

int sn_store_demand_count(sn_store *s, sn_number number, uint32_t tenure, const char *name,
                          uint64_t *mine, uint64_t *votes, int *asked, char *err, size_t errlen)
{
    three_counts t = {0, 0, 0};
    int rc = sn_sql_one(s, count_sql, SQL_ARGS(SQL_INT(number), SQL_INT(tenure), SQL_TEXT(name)),
                        read_three, &t, "count app requests", err, errlen);
    *mine = t.a;
    *votes = t.b;
    *asked = t.c > 0;
    return rc;
}

static int read_one(void *ctx, const sn_sql_row *row)
{
    *(int *)ctx = sn_sql_int(row, 0) > 0;
    return 0;
}

int sn_store_demand_known(sn_store *s, const char *name, int *known, char *err, size_t errlen)
{
    *known = 0;
    return sn_sql_one(s, known_sql, SQL_ARGS(SQL_TEXT(name)), read_one, known, "find an app", err,
                      errlen);
}

typedef struct {
    sn_demand_fn fn;
    void *ctx;
} top_list;

static int top_row(void *ctx, const sn_sql_row *row)
{
    top_list *l = ctx;
    char name[SN_NAME_MAX + 1];
    sn_sql_text(row, 0, name, sizeof(name));
    return l->fn(l->ctx, name, (uint64_t)sn_sql_int(row, 1), sn_sql_int(row, 2),
                 sn_sql_int(row, 3));
}

int sn_store_demand_top(sn_store *s, uint32_t limit, sn_demand_fn fn, void *ctx, char *err,
                        size_t errlen)
{
    top_list l = {fn, ctx};
    return sn_sql_read(s, top_sql, SQL_ARGS(SQL_INT(limit)), top_row, &l, "coverage demand", err,
                       errlen);
}
