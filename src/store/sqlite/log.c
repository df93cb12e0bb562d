/*
 * log.c - the SQLite store's event log and number states (log.h).
 *
 * A number's events are one key range (backend.h), so appends of a batch
 * sorted by number land at the right edge of the B-tree. Each state write
 * takes the handle's next change number (numbers.seq, read at begin under
 * the write lock), so the changes after a position can be read back in
 * order (the index snapshot's replay); one process writes at a time, so
 * there is nothing to listen for.
 */
#include "store/sqlite/sqlite.h"

#include "core/errors.h"

#include <string.h>

/* Numbers this close (a batch of new activations in a block of numbers
 * usually is) are read with one range scan: one B-tree descent for the run
 * instead of one per number. A scan steps over the rows between them too,
 * so the gap is kept small. */
#define RANGE_READ_GAP 4

#define STATE_SQL "SELECT number, " SN_STORE_STATE_COLUMNS " FROM numbers "
static const char state_range_sql[] = STATE_SQL "WHERE number BETWEEN $1 AND $2 ORDER BY number";
static const char scan_states_sql[] = STATE_SQL "ORDER BY number";
/* A state row is inserted (sq_insert_state_sql, rows.c) when the number
 * had none, and updated in place otherwise: INSERT OR REPLACE would delete
 * and insert, under a statement journal of its own. */
static const char update_state_sql[] =
    "UPDATE numbers SET status = $2, first_is_activation = $3, tenure = $4, carrier = $5, "
    "events = $6, first_day = $7, last_activation_day = $8, last_cancel_day = $9, last_at = $10, "
    "seq = $11 WHERE number = $1";
static const char cursor_sql[] = "SELECT coalesce(max(seq), 0) FROM numbers";
static const char changes_sql[] = "SELECT seq, number, " SN_STORE_STATE_COLUMNS " FROM numbers "
                                  "WHERE seq > $1 ORDER BY seq LIMIT $2";
static const char scan_events_sql[] =
    "SELECT " SN_LOG_EVENT_COLUMNS " FROM events WHERE id BETWEEN $1 AND $2 ORDER BY id";

typedef struct {
    const sn_number *numbers;
    sn_number_state *out;
    size_t n, k;
} range_read;

static int range_row(void *ctx, const sn_sql_row *row)
{
    range_read *r = ctx;
    sn_number got = (sn_number)sn_sql_int(row, 0);
    while (r->k < r->n && r->numbers[r->k] < got)
        r->k++;
    if (r->k < r->n && r->numbers[r->k] == got)
        sn_store_read_state(row, 0, &r->out[r->k]);
    return 0;
}

/* The states of numbers[0..n), ascending, all within RANGE_READ_GAP of
 * the previous one, with one range scan. */
static int read_state_range(sn_store *s, const sn_number *numbers, size_t n, sn_number_state *out,
                            char *err, size_t errlen)
{
    range_read r = {numbers, out, n, 0};
    for (size_t i = 0; i < n; i++)
        sn_state_init(&out[i], numbers[i]);
    return sn_sql_read(s, state_range_sql, SQL_ARGS(SQL_INT(numbers[0]), SQL_INT(numbers[n - 1])),
                       range_row, &r, "read states", err, errlen);
}

static int get_states(sn_store *s, const sn_number *numbers, size_t n, sn_number_state *out,
                      char *err, size_t errlen)
{
    int rc = SN_OK;
    for (size_t i = 0, j; rc == SN_OK && i < n; i = j) {
        for (j = i + 1; j < n && numbers[j] - numbers[j - 1] <= RANGE_READ_GAP; j++)
            ;
        if (j - i == 1 || (s->in_tx && numbers[i] > s->max_number))
            for (size_t k = i; rc == SN_OK && k < j; k++)
                rc = sn_log_sql_get_state(s, numbers[k], &out[k], err, errlen);
        else
            rc = read_state_range(s, numbers + i, j - i, out + i, err, errlen);
    }
    return rc;
}

/* ---- the log's operations ---------------------------------------------------- */

static int put_state(sn_store *s, const sn_number_state *st, int fresh, char *err, size_t errlen)
{
    uint64_t changed = 0, seq = ++sq_of(s)->seq; /* the state's change number */
    int held = 0, rc;
    if (st->number > s->max_number)
        s->max_number = st->number;
    if (fresh &&
        ((rc = sq_rows_hold_state(sq_of(s), st, seq, &held, err, errlen)) != SN_OK || held))
        return rc;
    rc = sn_sql_write(s, fresh ? sq_insert_state_sql : update_state_sql,
                      SQL_ARGS(SQL_INT(st->number), SQL_INT(st->status),
                               SQL_INT(st->first_is_activation), SQL_INT(st->tenure),
                               SQL_INT(st->carrier), SQL_INT(st->events), SQL_INT(st->first_day),
                               SQL_INT(st->last_activation_day), SQL_INT(st->last_cancel_day),
                               SQL_INT(st->last_at), SQL_INT(seq)),
                      &changed, "write state", err, errlen);
    if (rc == SN_OK && changed != 1)
        return sn_fail(err, errlen, SN_ESTORE, "write state: no row for a number with events");
    return rc;
}

static int append_event(sn_store *s, const sn_log_event *e, uint32_t ordinal, char *err,
                        size_t errlen)
{
    if (ordinal == 0 || ordinal > SN_LOG_KEYED_EVENTS)
        return sn_fail(err, errlen, SN_ELIMIT, "event ordinal %u out of range", ordinal);
    int held = 0, rc = sq_rows_hold_event(sq_of(s), e, ordinal, &held, err, errlen);
    if (rc != SN_OK || held)
        return rc;
    return sn_sql_write(s, sq_append_event_sql,
                        SQL_ARGS(SQL_INT(sn_log_event_key(e->ev.number, ordinal)),
                                 SQL_INT(e->ev.at), SQL_INT(e->ev.kind), SQL_INT(e->ev.carrier),
                                 SQL_TEXTN(e->event_id, e->event_id_len),
                                 SQL_BYTES(e->has_id6 ? e->id6_hash : NULL, SN_ID6_HASH_LEN),
                                 SQL_INT(e->flags)),
                        NULL, "append event", err, errlen);
}

SN_SQL_LIST(scan_row, sn_number_state, sn_state_fn, sn_store_state_map)

/* A scan reads every page of the numbers: the pages it cached are given
 * back after it (a serving node reads the store little once its index is
 * loaded, and would otherwise keep up to CACHE_KIB of them). */
static int scan_states(sn_store *s, sn_state_fn fn, void *ctx, char *err, size_t errlen)
{
    scan_row_list sc = {fn, ctx};
    int rc =
        sn_sql_read(s, scan_states_sql, SQL_NO_ARGS, scan_row, &sc, "scan states", err, errlen);
    sqlite3_db_release_memory(sq_of(s)->db);
    return rc;
}

typedef struct {
    sn_number n;
    sn_event_fn fn;
    void *ctx;
} event_scan;

static int event_row(void *ctx, const sn_sql_row *row)
{
    event_scan *sc = ctx;
    sn_log_event e;
    sn_log_read_event(row, sc->n, &e);
    return sc->fn(sc->ctx, &e, (uint32_t)sn_sql_int(row, 1) & SN_LOG_KEYED_EVENTS);
}

static int scan_events(sn_store *s, sn_number n, sn_event_fn fn, void *ctx, char *err,
                       size_t errlen)
{
    event_scan sc = {n, fn, ctx};
    return sn_sql_read(s, scan_events_sql,
                       SQL_ARGS(SQL_INT(sn_log_event_key(n, 0)),
                                SQL_INT(sn_log_event_key(n, SN_LOG_KEYED_EVENTS))),
                       event_row, &sc, "scan events", err, errlen);
}

const sn_log_ops sn_sqlite_log = {sn_log_sql_get_state,  get_states,   put_state,
                                  sn_log_sql_find_event, append_event, scan_states,
                                  scan_events,           NULL};

/* ---- changes (log.h): cursor and after; nothing to listen to ---------------- */

static int cursor(sn_store *s, uint64_t *seq, char *err, size_t errlen)
{
    *seq = 0;
    int rc =
        sn_sql_one(s, cursor_sql, SQL_NO_ARGS, sn_store_read_seq, seq, "read changes", err, errlen);
    return rc == SN_ENOTFOUND ? SN_OK : rc;
}

/* One process writes a SQLite store: every committed change is visible,
 * so the floor has nothing to wait for. */
static int after(sn_store *s, uint64_t since, uint64_t floor, uint32_t limit, sn_change_fn fn,
                 void *ctx, char *err, size_t errlen)
{
    sn_change_rows c = {fn, ctx};
    (void)floor;
    return sn_sql_read(s, changes_sql, SQL_ARGS(SQL_INT(since), SQL_INT(limit)),
                       sn_store_change_row, &c, "read changes", err, errlen);
}

const sn_changes_ops sn_sqlite_changes = {cursor, after, NULL, NULL};
