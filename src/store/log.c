/*
 * log.c - the event log and number states: the backend's own (backend.h),
 * but for the SQL both run (a state row, a duplicate check, disconnections,
 * and a number's events past SN_LOG_KEYED_EVENTS in events_more).
 */
#include "store/backend.h"

#include "core/errors.h"

#include <string.h>

static const char get_state_sql[] =
    "SELECT number, " SN_STORE_STATE_COLUMNS " FROM numbers WHERE number = $1";
static const char find_event_sql[] =
    "SELECT event_id FROM events WHERE id BETWEEN $1 AND $2 AND at = $3 AND kind = $4";

static const char more_append_sql[] =
    "INSERT INTO events_more(number, ordinal, at, kind, carrier, event_id, id6_hash, flags) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char more_find_sql[] =
    "SELECT event_id FROM events_more WHERE number = $1 AND at = $2 AND kind = $3";
static const char more_scan_sql[] =
    "SELECT at, ordinal, kind, carrier, event_id, id6_hash, flags FROM events_more "
    "WHERE number = $1 ORDER BY ordinal";

static const char disconnections_sql[] =
    "SELECT number, last_cancel_day, last_activation_day, tenure, first_is_activation "
    "FROM numbers WHERE number > $2 AND ((last_cancel_day <> $4 AND last_cancel_day >= $1) OR "
    "(last_activation_day <> $4 AND last_activation_day >= $1 AND "
    "(tenure > 1 OR first_is_activation = 0))) ORDER BY number LIMIT $3";

int sn_store_get_state(sn_store *s, sn_number n, sn_number_state *out, char *err, size_t errlen)
{
    return s->be->log->get_state(s, n, out, err, errlen);
}

int sn_store_get_states(sn_store *s, const sn_number *numbers, size_t n, sn_number_state *out,
                        char *err, size_t errlen)
{
    return s->be->log->get_states(s, numbers, n, out, err, errlen);
}

int sn_store_put_state(sn_store *s, const sn_number_state *st, int fresh, char *err, size_t errlen)
{
    return s->be->log->put_state(s, st, fresh, err, errlen);
}

/* Make the backend's buffered log writes visible to SQL on the log tables. */
static int sync_log(sn_store *s, char *err, size_t errlen)
{
    return s->be->log->sync != NULL ? s->be->log->sync(s, err, errlen) : SN_OK;
}

static int find_more(sn_store *s, const sn_log_event *e, int *found, char *err, size_t errlen);

int sn_store_find_event(sn_store *s, const sn_log_event *e, int *found, char *err, size_t errlen)
{
    int rc = s->be->log->find_event(s, e, found, err, errlen);
    if (rc != SN_OK || *found || !s->any_overflow || (rc = sync_log(s, err, errlen)) != SN_OK)
        return rc;
    return find_more(s, e, found, err, errlen);
}

int sn_store_append_event(sn_store *s, const sn_log_event *e, uint32_t ordinal, char *err,
                          size_t errlen)
{
    if (ordinal <= SN_LOG_KEYED_EVENTS)
        return s->be->log->append_event(s, e, ordinal, err, errlen);
    int rc = sync_log(s, err, errlen);
    if (rc == SN_OK)
        rc = sn_sql_write(s, more_append_sql,
                          SQL_ARGS(SQL_INT(e->ev.number), SQL_INT(ordinal), SQL_INT(e->ev.at),
                                   SQL_INT(e->ev.kind), SQL_INT(e->ev.carrier),
                                   SQL_TEXTN(e->event_id, e->event_id_len),
                                   SQL_BYTES(e->has_id6 ? e->id6_hash : NULL, SN_ID6_HASH_LEN),
                                   SQL_INT(e->flags)),
                          NULL, "append event", err, errlen);
    if (rc == SN_OK)
        s->any_overflow = 1;
    return rc;
}

int sn_store_scan_states(sn_store *s, sn_state_fn fn, void *ctx, char *err, size_t errlen)
{
    return s->be->log->scan_states(s, fn, ctx, err, errlen);
}

typedef struct {
    sn_number n;
    sn_event_fn fn;
    void *ctx;
    uint32_t last; /* the last ordinal handed out */
} event_scan;

static int keyed_event(void *ctx, const sn_log_event *e, uint32_t ordinal)
{
    event_scan *sc = ctx;
    sc->last = ordinal;
    return sc->fn(sc->ctx, e, ordinal);
}

void sn_log_read_event(const sn_sql_row *row, sn_number n, sn_log_event *e)
{
    size_t len = 0;
    memset(e, 0, sizeof(*e));
    e->ev.number = n;
    e->ev.at = sn_sql_int(row, 0);
    e->ev.kind = (uint8_t)sn_sql_int(row, 2);
    e->ev.carrier = (uint32_t)sn_sql_int(row, 3);
    e->event_id = sn_sql_str(row, 4, &len);
    e->event_id_len = (uint32_t)len;
    e->has_id6 = (uint8_t)sn_sql_blob(row, 5, e->id6_hash, SN_ID6_HASH_LEN);
    e->flags = (uint8_t)sn_sql_int(row, 6);
}

static int more_event_row(void *ctx, const sn_sql_row *row)
{
    event_scan *sc = ctx;
    sn_log_event e;
    sn_log_read_event(row, sc->n, &e);
    return sc->fn(sc->ctx, &e, (uint32_t)sn_sql_int(row, 1));
}

/* The backend's keyed events, then, for a history that fills the key,
 * events_more. */
int sn_store_scan_events(sn_store *s, sn_number n, sn_event_fn fn, void *ctx, char *err,
                         size_t errlen)
{
    event_scan sc = {n, fn, ctx, 0};
    int rc = s->be->log->scan_events(s, n, keyed_event, &sc, err, errlen);
    if (rc != SN_OK || sc.last < SN_LOG_KEYED_EVENTS || (rc = sync_log(s, err, errlen)) != SN_OK)
        return rc;
    return sn_sql_read(s, more_scan_sql, SQL_ARGS(SQL_INT(n)), more_event_row, &sc, "scan events",
                       err, errlen);
}

typedef struct {
    sn_disconnection_fn fn;
    void *ctx;
    sn_day since;
} disconnection_rows;

/* A reissue is an activation that started a tenure after an earlier one, or
 * after a history that began with something else. */
static int disconnection_row(void *ctx, const sn_sql_row *row)
{
    disconnection_rows *r = ctx;
    sn_day cancelled = (sn_day)sn_sql_int(row, 1);
    sn_day activated = (sn_day)sn_sql_int(row, 2);
    int reissue = sn_sql_int(row, 3) > 1 || sn_sql_int(row, 4) == 0;
    if (cancelled == SN_DAY_NONE || cancelled < r->since)
        cancelled = SN_DAY_NONE;
    if (!reissue || activated == SN_DAY_NONE || activated < r->since)
        activated = SN_DAY_NONE;
    return r->fn(r->ctx, (sn_number)sn_sql_int(row, 0), cancelled, activated);
}

int sn_store_list_disconnections(sn_store *s, sn_day since, sn_number after, uint32_t limit,
                                 sn_disconnection_fn fn, void *ctx, char *err, size_t errlen)
{
    disconnection_rows r = {fn, ctx, since};
    int rc = s->be->log->sync != NULL ? s->be->log->sync(s, err, errlen) : SN_OK;
    if (rc != SN_OK)
        return rc;
    return sn_sql_read(
        s, disconnections_sql,
        SQL_ARGS(SQL_INT(since), SQL_INT(after), SQL_INT(limit), SQL_INT(SN_DAY_NONE)),
        disconnection_row, &r, "list disconnections", err, errlen);
}

const sn_sql_map sn_store_state_map = SN_SQL_MAP(
    sn_number_state, SQL_COL_INT(sn_number_state, number), SQL_COL_INT(sn_number_state, status),
    SQL_COL_INT(sn_number_state, first_is_activation), SQL_COL_INT(sn_number_state, tenure),
    SQL_COL_INT(sn_number_state, carrier), SQL_COL_INT(sn_number_state, events),
    SQL_COL_INT(sn_number_state, first_day), SQL_COL_INT(sn_number_state, last_activation_day),
    SQL_COL_INT(sn_number_state, last_cancel_day), SQL_COL_INT(sn_number_state, last_at));

void sn_store_read_state(const sn_sql_row *row, int c, sn_number_state *st)
{
    sn_sql_read_map(row, c, &sn_store_state_map, st);
}

int sn_store_change_row(void *ctx, const sn_sql_row *row)
{
    sn_change_rows *c = ctx;
    sn_number_state st;
    sn_store_read_state(row, 1, &st);
    return c->fn(c->ctx, &st, (uint64_t)sn_sql_int(row, 0));
}

int sn_store_read_seq(void *ctx, const sn_sql_row *row)
{
    *(uint64_t *)ctx = (uint64_t)sn_sql_int(row, 0);
    return 0;
}

void sn_store_read_begin_state(const sn_sql_row *row, sn_store *s)
{
    s->max_number = (sn_number)sn_sql_int(row, 0); /* 0 for an empty table */
    s->any_bindings = sn_sql_int(row, 1) != 0;
    s->any_subscriptions = sn_sql_int(row, 2) != 0;
    s->any_open_notices = sn_sql_int(row, 3) != 0;
    s->any_overflow = sn_sql_int(row, 4) != 0;
    s->any_ports = sn_sql_int(row, 5) != 0;
}

static int state_row(void *ctx, const sn_sql_row *row)
{
    sn_store_read_state(row, 0, ctx);
    return 0;
}

int sn_log_sql_get_state(sn_store *s, sn_number n, sn_number_state *out, char *err, size_t errlen)
{
    sn_state_init(out, n);
    if (s->in_tx && n > s->max_number)
        return SN_OK;
    int rc = sn_sql_one(s, get_state_sql, SQL_ARGS(SQL_INT(n)), state_row, out, "read state", err,
                        errlen);
    return rc == SN_ENOTFOUND ? SN_OK : rc;
}

int sn_log_same_event(const sn_log_event *e, int64_t at, int kind, const char *id, uint32_t len)
{
    return at == e->ev.at && kind == e->ev.kind &&
           (e->event_id == NULL || id == NULL ||
            (len == e->event_id_len && memcmp(id, e->event_id, len) == 0));
}

typedef struct {
    const sn_log_event *e;
    int *found;
} event_match;

static int match_row(void *ctx, const sn_sql_row *row)
{
    event_match *m = ctx;
    size_t len = 0;
    const char *id = sn_sql_str(row, 0, &len);
    *m->found = sn_log_same_event(m->e, m->e->ev.at, m->e->ev.kind, id, (uint32_t)len);
    return *m->found;
}

/* sn_store_find_event in events_more. */
static int find_more(sn_store *s, const sn_log_event *e, int *found, char *err, size_t errlen)
{
    event_match m = {e, found};
    int rc = sn_sql_read(s, more_find_sql,
                         SQL_ARGS(SQL_INT(e->ev.number), SQL_INT(e->ev.at), SQL_INT(e->ev.kind)),
                         match_row, &m, "find event", err, errlen);
    return rc < 0 ? rc : SN_OK;
}

int sn_log_sql_find_event(sn_store *s, const sn_log_event *e, int *found, char *err, size_t errlen)
{
    event_match m = {e, found};
    *found = 0;
    int rc = sn_sql_read(s, find_event_sql,
                         SQL_ARGS(SQL_INT(sn_log_event_key(e->ev.number, 0)),
                                  SQL_INT(sn_log_event_key(e->ev.number, SN_LOG_KEYED_EVENTS)),
                                  SQL_INT(e->ev.at), SQL_INT(e->ev.kind)),
                         match_row, &m, "find event", err, errlen);
    return rc < 0 ? rc : SN_OK;
}

int sn_store_can_follow(const sn_store *s)
{
    return s->be->changes != NULL && s->be->changes->listen != NULL;
}

int sn_store_has_changes(const sn_store *s)
{
    return s->be->changes != NULL;
}

int sn_store_change_cursor(sn_store *s, uint64_t *seq, char *err, size_t errlen)
{
    return s->be->changes->cursor(s, seq, err, errlen);
}

int sn_store_changes_after(sn_store *s, uint64_t after, uint32_t limit, sn_change_fn fn, void *ctx,
                           char *err, size_t errlen)
{
    return s->be->changes->after(s, after, 0, limit, fn, ctx, err, errlen);
}

int sn_store_changes_after_floor(sn_store *s, uint64_t after, uint64_t floor, uint32_t limit,
                                 sn_change_fn fn, void *ctx, char *err, size_t errlen)
{
    return s->be->changes->after(s, after, floor, limit, fn, ctx, err, errlen);
}

int sn_store_listen(sn_store *s, char *err, size_t errlen)
{
    return s->be->changes->listen(s, err, errlen);
}

int sn_store_wait_changes(sn_store *s, int timeout_ms, int wake_fd, int64_t ignore_session,
                          char *err, size_t errlen)
{
    return s->be->changes->wait(s, timeout_ms, wake_fd, ignore_session, err, errlen);
}

void sn_store_last_commit_changes(const sn_store *s, sn_store_commit_changes *out)
{
    *out = s->committed;
}
