/*
 * complaints.c - subscribers' complaints, in the SQL both backends run
 * (sql.h).
 */
#include "store/complaints.h"

#include "core/errors.h"
#include "store/sql.h"

#include <stdio.h>
#include <string.h>

#define COMPLAINT_COLUMNS                                                                          \
    "c.id, c.number, c.tenure, c.app, c.carrier, c.kind, c.resolved_level, c.created, "            \
    "c.period, c.resolved_at, c.body, c.resolution, coalesce(a.name, ''), "                        \
    "coalesce(a.display_name, ''), coalesce(k.name, '') FROM complaints c LEFT JOIN apps a "       \
    "ON a.id = c.app LEFT JOIN carriers k ON k.id = c.carrier"
/* The level a complaint has reached by time T (its resolution, or now, $5):
 * one step per period, from the app (or the carrier when it names none);
 * sn_complaint_level_at's arithmetic. */
#define COMPLAINT_LEVEL_SQL                                                                        \
    "((CASE WHEN c.app = 0 THEN 1 ELSE 0 END) + (coalesce(nullif(c.resolved_at, 0), $5) - "        \
    "c.created) / c.period)"

static const char add_sql[] = "INSERT INTO complaints(id, number, tenure, app, carrier, kind, "
                              "body, created, period) VALUES ((SELECT coalesce(max(id), 0) + 1 "
                              "FROM complaints), $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
static const char get_sql[] = "SELECT " COMPLAINT_COLUMNS " WHERE c.id = $1";
static const char resolve_sql[] = "UPDATE complaints SET resolved_at = $2, resolved_level = $3, "
                                  "resolution = $4 WHERE id = $1 AND resolved_at = 0";

static const sn_sql_map complaint_map =
    SN_SQL_MAP(sn_complaint, SQL_COL_INT(sn_complaint, id), SQL_COL_INT(sn_complaint, number),
               SQL_COL_INT(sn_complaint, tenure), SQL_COL_INT(sn_complaint, app),
               SQL_COL_INT(sn_complaint, carrier), SQL_COL_INT(sn_complaint, kind),
               SQL_COL_INT(sn_complaint, resolved_level), SQL_COL_INT(sn_complaint, created),
               SQL_COL_INT(sn_complaint, period), SQL_COL_INT(sn_complaint, resolved_at),
               SQL_COL_TEXT(sn_complaint, text), SQL_COL_TEXT(sn_complaint, resolution),
               SQL_COL_TEXT(sn_complaint, app_name), SQL_COL_TEXT(sn_complaint, display),
               SQL_COL_TEXT(sn_complaint, carrier_name));
SN_SQL_LIST(complaint_row, sn_complaint, sn_complaint_fn, complaint_map)

int sn_store_add_complaint(sn_store *s, sn_complaint *c, char *err, size_t errlen)
{
    return sn_sql_insert_id(s, add_sql,
                            SQL_ARGS(SQL_INT(c->number), SQL_INT(c->tenure), SQL_INT(c->app),
                                     SQL_INT(c->carrier), SQL_INT(c->kind), SQL_TEXT(c->text),
                                     SQL_INT(c->created), SQL_INT(c->period > 0 ? c->period : 1)),
                            &c->id, "add complaint", err, errlen);
}

/* The filters combine freely (32 shapes): the statement is written per
 * call, and planned for its own filters. */
int sn_store_list_complaints(sn_store *s, const sn_complaint_query *q, sn_complaint_fn fn,
                             void *ctx, char *err, size_t errlen)
{
    complaint_row_list r = {fn, ctx};
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT " COMPLAINT_COLUMNS " WHERE c.id > $7%s%s%s%s%s ORDER BY c.id LIMIT $8",
             q->number != 0 ? " AND c.number = $1 AND c.tenure = $2" : "",
             q->app != 0 ? " AND c.app = $3" : "", q->carrier != 0 ? " AND c.carrier = $4" : "",
             q->min_level > 0 ? " AND " COMPLAINT_LEVEL_SQL " >= $6" : "",
             q->open_only ? " AND c.resolved_at = 0" : "");
    return sn_sql_read_once(s, sql,
                            SQL_ARGS(SQL_INT(q->number), SQL_INT(q->tenure), SQL_INT(q->app),
                                     SQL_INT(q->carrier), SQL_INT(q->now), SQL_INT(q->min_level),
                                     SQL_INT(q->after), SQL_INT(q->limit)),
                            complaint_row, &r, "list complaints", err, errlen);
}

int sn_store_get_complaint(sn_store *s, uint64_t id, sn_complaint *out, char *err, size_t errlen)
{
    return sn_sql_get(s, get_sql, SQL_ARGS(SQL_INT(id)), &complaint_map, out, "read complaint", err,
                      errlen, "no complaint %llu", (unsigned long long)id);
}

int sn_store_resolve_complaint(sn_store *s, uint64_t id, int level, const char *resolution,
                               int64_t at, char *err, size_t errlen)
{
    return sn_sql_write(
        s, resolve_sql,
        SQL_ARGS(SQL_INT(id), SQL_INT(at), SQL_INT(level + 1), SQL_TEXT(resolution)), NULL,
        "resolve complaint", err, errlen);
}
