/*
 * stats.c - the dashboard's read-only aggregates (stats.h), in the SQL
 * both backends run (sql.h): integer arithmetic for days, the log's keys
 * for reissues, no date functions (their names differ).
 */
#include "store/stats.h"

#include "core/errors.h"
#include "core/limits.h"
#include "store/sql.h"

#include <string.h>

#define DAY_SECONDS 86400

/* The log's rows wherever they are kept (events_more holds a number's
 * events past the 8,191 the events key holds). */
#define ALL_EVENTS                                                                                 \
    "(SELECT at, kind, flags FROM events UNION ALL SELECT at, kind, flags FROM events_more)"

static const char numbers_sql[] =
    "SELECT coalesce(k.name, ''), n.status, count(*) FROM numbers n LEFT JOIN carriers k "
    "ON k.id = n.carrier GROUP BY k.name, n.status ORDER BY 1, 2";
static const char events_sql[] = "SELECT (e.at + $3) / 86400, e.kind, count(*), "
                                 "sum(e.flags & 1) FROM " ALL_EVENTS " e "
                                 "WHERE e.at >= $1 AND e.at < $2 GROUP BY 1, 2 ORDER BY 1, 2";
/* A reissue is an activation whose number's previous event was a
 * cancellation (4) or a release (6). events.id = number << 13 | ordinal, so
 * that event is the row of id - 1: one key look-up per activation in the
 * window, no scan of the numbers' histories. (An activation past ordinal
 * 8,191, in events_more, is not looked at: no real history reaches it.) */
static const char reissues_sql[] =
    "SELECT (a.at + $3) / 86400, count(*), sum(a.flags & 1) FROM events a JOIN events p "
    "ON p.id = a.id - 1 WHERE a.kind = 1 AND a.at >= $1 AND a.at < $2 AND (a.id & 8191) > 1 "
    "AND p.kind IN (4, 6) GROUP BY 1 ORDER BY 1";
static const char notices_sql[] =
    "SELECT a.id, a.name, count(*), sum(CASE WHEN n.acked_at > 0 THEN 1 ELSE 0 END), "
    "sum(CASE WHEN n.acked_at = 0 AND n.outcome = 0 AND n.deadline > 0 AND n.deadline < $1 "
    "THEN 1 ELSE 0 END) FROM notices n JOIN apps a ON a.id = n.app GROUP BY a.id, a.name "
    "ORDER BY 1";
static const char ack_sql[] = "SELECT app, acked_at - created FROM notices WHERE acked_at > 0 "
                              "ORDER BY 1, 2";
static const char add_held_sql[] =
    "INSERT INTO guard_holds(day, held) VALUES ($1, $2) "
    "ON CONFLICT(day) DO UPDATE SET held = guard_holds.held + excluded.held";
static const char held_sql[] =
    "SELECT day, held FROM guard_holds WHERE day >= $1 AND day <= $2 ORDER BY day";
static const char complaints_sql[] = "SELECT id, app, carrier, kind, resolved_level, created, "
                                     "period, resolved_at FROM complaints ORDER BY id";

/* The caller's callback (one of stats.h's, by query) and its context. */
typedef struct {
    union {
        sn_stats_numbers_fn numbers;
        sn_stats_events_fn events;
        sn_stats_reissues_fn reissues;
        sn_stats_notices_fn notices;
        sn_stats_ack_fn ack;
        sn_stats_held_fn held;
        sn_complaint_fn complaint;
    } fn;
    void *ctx;
} stats_cb;

static int numbers_row(void *ctx, const sn_sql_row *row)
{
    stats_cb *cb = ctx;
    char name[SN_NAME_MAX + 1];
    sn_sql_text(row, 0, name, sizeof(name));
    return cb->fn.numbers(cb->ctx, name, (int)sn_sql_int(row, 1), (uint64_t)sn_sql_int(row, 2));
}

int sn_store_stats_numbers(sn_store *s, sn_stats_numbers_fn fn, void *ctx, char *err, size_t errlen)
{
    stats_cb cb = {.ctx = ctx};
    cb.fn.numbers = fn;
    return sn_sql_read(s, numbers_sql, SQL_NO_ARGS, numbers_row, &cb, "numbers by carrier", err,
                       errlen);
}

static int events_row(void *ctx, const sn_sql_row *row)
{
    stats_cb *cb = ctx;
    return cb->fn.events(cb->ctx, (sn_day)sn_sql_int(row, 0), (int)sn_sql_int(row, 1),
                         (uint64_t)sn_sql_int(row, 2), (uint64_t)sn_sql_int(row, 3));
}

static int64_t tz_seconds(const sn_store *s)
{
    return (int64_t)sn_store_rules(s)->tz_minutes * 60;
}

int sn_store_stats_events(sn_store *s, int64_t from, int64_t to, sn_stats_events_fn fn, void *ctx,
                          char *err, size_t errlen)
{
    stats_cb cb = {.ctx = ctx};
    cb.fn.events = fn;
    return sn_sql_read(s, events_sql, SQL_ARGS(SQL_INT(from), SQL_INT(to), SQL_INT(tz_seconds(s))),
                       events_row, &cb, "events per day", err, errlen);
}

static int reissues_row(void *ctx, const sn_sql_row *row)
{
    stats_cb *cb = ctx;
    return cb->fn.reissues(cb->ctx, (sn_day)sn_sql_int(row, 0), (uint64_t)sn_sql_int(row, 1),
                           (uint64_t)sn_sql_int(row, 2));
}

int sn_store_stats_reissues(sn_store *s, int64_t from, int64_t to, sn_stats_reissues_fn fn,
                            void *ctx, char *err, size_t errlen)
{
    stats_cb cb = {.ctx = ctx};
    cb.fn.reissues = fn;
    return sn_sql_read(s, reissues_sql,
                       SQL_ARGS(SQL_INT(from), SQL_INT(to), SQL_INT(tz_seconds(s))), reissues_row,
                       &cb, "reissues per day", err, errlen);
}

static int notices_row(void *ctx, const sn_sql_row *row)
{
    stats_cb *cb = ctx;
    char name[SN_NAME_MAX + 1];
    sn_sql_text(row, 1, name, sizeof(name));
    return cb->fn.notices(cb->ctx, (uint32_t)sn_sql_int(row, 0), name, (uint64_t)sn_sql_int(row, 2),
                          (uint64_t)sn_sql_int(row, 3), (uint64_t)sn_sql_int(row, 4));
}

int sn_store_stats_notices(sn_store *s, int64_t now, sn_stats_notices_fn fn, void *ctx, char *err,
                           size_t errlen)
{
    stats_cb cb = {.ctx = ctx};
    cb.fn.notices = fn;
    return sn_sql_read(s, notices_sql, SQL_ARGS(SQL_INT(now)), notices_row, &cb, "notices per app",
                       err, errlen);
}

static int ack_row(void *ctx, const sn_sql_row *row)
{
    stats_cb *cb = ctx;
    return cb->fn.ack(cb->ctx, (uint32_t)sn_sql_int(row, 0), sn_sql_int(row, 1));
}

int sn_store_stats_ack_times(sn_store *s, sn_stats_ack_fn fn, void *ctx, char *err, size_t errlen)
{
    stats_cb cb = {.ctx = ctx};
    cb.fn.ack = fn;
    return sn_sql_read(s, ack_sql, SQL_NO_ARGS, ack_row, &cb, "acknowledgement times", err, errlen);
}

int sn_store_stats_add_held(sn_store *s, sn_day day, uint64_t n, char *err, size_t errlen)
{
    return sn_sql_write(s, add_held_sql, SQL_ARGS(SQL_INT(day), SQL_INT(n)), NULL,
                        "count a held reissue", err, errlen);
}

static int held_row(void *ctx, const sn_sql_row *row)
{
    stats_cb *cb = ctx;
    return cb->fn.held(cb->ctx, (sn_day)sn_sql_int(row, 0), (uint64_t)sn_sql_int(row, 1));
}

int sn_store_stats_held(sn_store *s, sn_day from, sn_day to, sn_stats_held_fn fn, void *ctx,
                        char *err, size_t errlen)
{
    stats_cb cb = {.ctx = ctx};
    cb.fn.held = fn;
    return sn_sql_read(s, held_sql, SQL_ARGS(SQL_INT(from), SQL_INT(to)), held_row, &cb,
                       "held reissues", err, errlen);
}

static int complaint_row(void *ctx, const sn_sql_row *row)
{
    stats_cb *cb = ctx;
    sn_complaint c;
    memset(&c, 0, sizeof(c));
    c.id = (uint64_t)sn_sql_int(row, 0);
    c.app = (uint32_t)sn_sql_int(row, 1);
    c.carrier = (uint32_t)sn_sql_int(row, 2);
    c.kind = (uint8_t)sn_sql_int(row, 3);
    c.resolved_level = (uint8_t)sn_sql_int(row, 4);
    c.created = sn_sql_int(row, 5);
    c.period = sn_sql_int(row, 6);
    c.resolved_at = sn_sql_int(row, 7);
    return cb->fn.complaint(cb->ctx, &c);
}

int sn_store_stats_complaints(sn_store *s, sn_complaint_fn fn, void *ctx, char *err, size_t errlen)
{
    stats_cb cb = {.ctx = ctx};
    cb.fn.complaint = fn;
    return sn_sql_read(s, complaints_sql, SQL_NO_ARGS, complaint_row, &cb, "complaints", err,
                       errlen);
}
