/*
 * log.c - the PostgreSQL store's event log and number states (log.h).
 *
 * Inside a transaction (or a scan's snapshot), reads of states and events
 * come from read-ahead windows and this transaction's buffered writes
 * (buffer.c); elsewhere each is one statement. A batch's states (the
 * ledger's get_states) are one statement per STATES_PER_READ numbers, in or
 * out of a transaction; in one, the numbers found without a row are noted
 * for buffer.c (pg_note_absent: their first write may go by COPY).
 */
#include "store/pg/pg.h"

#include "core/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_ROWS 10000      /* rows per cursor fetch */
#define STATES_PER_READ 8192 /* numbers get_states asks for in one statement */

static const char state_window_sql[] = "SELECT number, " SN_STORE_STATE_COLUMNS " FROM numbers "
                                       "WHERE number >= $1 ORDER BY number LIMIT $2";
static const char states_of_sql[] = "SELECT number, " SN_STORE_STATE_COLUMNS " FROM numbers "
                                    "WHERE number = ANY ($1::bigint[]) ORDER BY number";
static const char scan_events_sql[] =
    "SELECT " SN_LOG_EVENT_COLUMNS " FROM events WHERE id BETWEEN $1 AND $2 ORDER BY id";
static const char event_window_sql[] =
    "SELECT " SN_LOG_EVENT_COLUMNS " FROM events WHERE id >= $1 ORDER BY id LIMIT $2";
/* Windows are used where rows cannot change between calls. */
static int read_ahead(const pg_store *s)
{
    return s->base.in_tx || s->snapshot;
}

static int get_state(sn_store *base, sn_number n, sn_number_state *out, char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    pg_window *w = &s->state_w;
    int rc;
    if (!read_ahead(s) || (s->base.in_tx && n > s->base.max_number))
        return sn_log_sql_get_state(base, n, out, err, errlen);
    sn_state_init(out, n);
    const pg_pending_state *ps = pg_pending_state_of(s, n);
    if (ps != NULL) {
        *out = ps->st;
        return SN_OK;
    }
    if (!pg_window_covers(w, (int64_t)n) &&
        (rc = pg_window_fill(s, w, state_window_sql, 0, (int64_t)n, "read state", err, errlen)) !=
            SN_OK)
        return rc;
    int i = pg_lower_bound(w->rows, w->first, 0, (int64_t)n);
    w->hits++;
    if (i < PQntuples(w->rows) && pg_int(w->rows, i, 0) == (int64_t)n) {
        sn_sql_row row = pg_row(w->rows, i);
        sn_store_read_state(&row, 0, out);
    }
    return SN_OK;
}

/* Ask for the states of numbers[ask[0..n)] (ascending) in one statement;
 * in a transaction, note those without a row (pg_note_absent). */
static int read_states(pg_store *s, const sn_number *numbers, const size_t *ask, size_t n,
                       sn_number_state *out, char *err, size_t errlen)
{
    char *text = malloc(3 + n * 21), *p = text;
    if (text == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    *p++ = '{';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%llu", i ? "," : "", (unsigned long long)numbers[ask[i]]);
    strcpy(p, "}");
    PGresult *r = pg_exec(s, states_of_sql, SQL_ARGS(SQL_TEXT(text)), PGRES_TUPLES_OK,
                          "read states", err, errlen);
    free(text);
    if (r == NULL)
        return SN_ESTORE;
    int rc = SN_OK, rows = PQntuples(r), row = 0;
    for (size_t i = 0; i < n && rc == SN_OK; i++) {
        int64_t want = (int64_t)numbers[ask[i]];
        while (row < rows && pg_int(r, row, 0) < want)
            row++;
        if (row < rows && pg_int(r, row, 0) == want) {
            sn_sql_row sr = pg_row(r, row);
            sn_store_read_state(&sr, 0, &out[ask[i]]);
        } else if (s->base.in_tx) {
            rc = pg_note_absent(s, numbers[ask[i]], err, errlen);
        }
    }
    PQclear(r);
    return rc;
}

/* The states of a batch's numbers (the ledger's: ascending, each once):
 * this transaction's buffered ones from the buffer, those above every
 * stored number unseen without asking, the rest in one statement per
 * STATES_PER_READ numbers. Numbers out of order go one by one. */
static int get_states(sn_store *base, const sn_number *numbers, size_t n, sn_number_state *out,
                      char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    int rc = SN_OK;
    size_t nask = 0, *ask;
    for (size_t i = 1; i < n; i++)
        if (numbers[i] <= numbers[i - 1]) {
            for (size_t k = 0; rc == SN_OK && k < n; k++)
                rc = get_state(base, numbers[k], &out[k], err, errlen);
            return rc;
        }
    if (n == 0 || (rc = pg_enter(s, err, errlen)) != SN_OK)
        return rc;
    if ((ask = malloc(n * sizeof(*ask))) == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const pg_pending_state *ps = s->base.in_tx ? pg_pending_state_of(s, numbers[i]) : NULL;
        sn_state_init(&out[i], numbers[i]);
        if (ps != NULL)
            out[i] = ps->st;
        else if (!s->base.in_tx || numbers[i] <= s->base.max_number)
            ask[nask++] = i;
    }
    for (size_t i = 0; rc == SN_OK && i < nask; i += STATES_PER_READ)
        rc = read_states(s, numbers, ask + i,
                         nask - i < STATES_PER_READ ? nask - i : STATES_PER_READ, out, err, errlen);
    free(ask);
    return rc;
}

/* The buffer tells new rows from old by itself (pg_buffer_state). */
static int put_state(sn_store *base, const sn_number_state *st, int fresh, char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    (void)fresh;
    int own, rc = pg_own_begin(s, &own, err, errlen);
    if (rc == SN_OK)
        rc = pg_buffer_state(s, st, err, errlen);
    return pg_own_end(s, own, rc, err, errlen);
}

/* The logged events of n, from the window and the buffer, in id order:
 * rows [wfrom, wto) of the window then buffered events [bfrom, bto). */
typedef struct {
    const PGresult *rows;
    int wfrom, wto;
    size_t bfrom, bto;
} log_slice;

/* Fill the event window from n's first event: when n's events alone fill
 * it, read all of them; else drop the last number fetched (it may have more
 * rows than the window holds). */
static int fill_events(pg_store *s, int64_t lo, int64_t hi, char *err, size_t errlen)
{
    pg_window *w = &s->event_w;
    int rc = pg_window_fill(s, w, event_window_sql, 1, lo, "read events", err, errlen);
    if (rc != SN_OK || w->hi == INT64_MAX)
        return rc;
    int64_t last_start = w->hi & ~(int64_t)SN_LOG_KEYED_EVENTS;
    if (last_start > lo) {
        w->hi = last_start - 1;
        return SN_OK;
    }
    PGresult *r = pg_exec(s, scan_events_sql, SQL_ARGS(SQL_INT(lo), SQL_INT(hi)), PGRES_TUPLES_OK,
                          "read events", err, errlen);
    if (r == NULL)
        return SN_ESTORE;
    PQclear(w->rows);
    w->rows = r;
    w->first = 0;
    w->hi = hi;
    return SN_OK;
}

static int events_of(pg_store *s, sn_number n, log_slice *out, char *err, size_t errlen)
{
    pg_window *w = &s->event_w;
    int64_t lo = sn_log_event_key(n, 0), hi = sn_log_event_key(n, SN_LOG_KEYED_EVENTS);
    int rc;
    if (!s->events_sorted && (rc = pg_flush(s, err, errlen)) != SN_OK)
        return rc;
    if ((!pg_window_covers(w, lo) || !pg_window_covers(w, hi)) &&
        (rc = fill_events(s, lo, hi, err, errlen)) != SN_OK)
        return rc;
    w->hits++;
    out->rows = w->rows;
    out->wfrom = pg_lower_bound(w->rows, w->first, 1, lo);
    out->wto = pg_lower_bound(w->rows, out->wfrom, 1, hi + 1);
    size_t a = 0, b = s->nevents;
    while (a < b) { /* the buffer is in id order (checked above) */
        size_t mid = a + (b - a) / 2;
        if (s->events[mid].id < lo)
            a = mid + 1;
        else
            b = mid;
    }
    out->bfrom = out->bto = a;
    while (out->bto < s->nevents && s->events[out->bto].id <= hi)
        out->bto++;
    return SN_OK;
}

static const char *text_or_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static int find_in_window(pg_store *s, const sn_log_event *e, int *found, char *err, size_t errlen)
{
    log_slice sl;
    int rc = events_of(s, e->ev.number, &sl, err, errlen);
    if (rc != SN_OK)
        return rc;
    for (int i = sl.wfrom; i < sl.wto && !*found; i++)
        *found =
            sn_log_same_event(e, pg_int(sl.rows, i, 0), (int)pg_int(sl.rows, i, 2),
                              text_or_null(sl.rows, i, 4), (uint32_t)PQgetlength(sl.rows, i, 4));
    for (size_t i = sl.bfrom; i < sl.bto && !*found; i++) {
        const pg_pending_event *pe = &s->events[i];
        *found = sn_log_same_event(e, pe->at, pe->kind, pe->has_event_id ? pe->event_id : NULL,
                                   pe->event_id_len);
    }
    return SN_OK;
}

static int find_event(sn_store *base, const sn_log_event *e, int *found, char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    *found = 0;
    if (read_ahead(s))
        return find_in_window(s, e, found, err, errlen);
    return sn_log_sql_find_event(base, e, found, err, errlen);
}

static int append_event(sn_store *base, const sn_log_event *e, uint32_t ordinal, char *err,
                        size_t errlen)
{
    pg_store *s = pg_of(base);
    int own, rc;
    if (ordinal == 0 || ordinal > SN_LOG_KEYED_EVENTS)
        return sn_fail(err, errlen, SN_ELIMIT, "event ordinal %u out of range", ordinal);
    if ((rc = pg_own_begin(s, &own, err, errlen)) == SN_OK)
        rc = pg_buffer_event(s, e, ordinal, err, errlen);
    return pg_own_end(s, own, rc, err, errlen);
}

/* Fetch and hand out the cursor's rows until fn stops or the rows end. */
static int fetch_states(pg_store *s, const char *fetch, sn_state_fn fn, void *ctx, char *err,
                        size_t errlen)
{
    int rc = SN_OK, stop = 0;
    while (rc == SN_OK && !stop) {
        PGresult *r = PQexecParams(s->conn, fetch, 0, NULL, NULL, NULL, NULL, 1);
        int n = PQntuples(r);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = pg_fail(s, r, "scan states", err, errlen);
            n = 0;
        }
        for (int i = 0; i < n && !stop; i++) {
            sn_sql_row row = pg_row(r, i);
            sn_number_state st;
            sn_store_read_state(&row, 0, &st);
            stop = fn(ctx, &st);
        }
        PQclear(r);
        if (n < SCAN_ROWS)
            break;
    }
    return stop ? stop : rc;
}

/* Every state through a server-side cursor, SCAN_ROWS per round trip, so
 * memory stays flat at any store size. A scan outside a transaction reads
 * one snapshot (REPEATABLE READ, read only), as SQLite's statement does; fn
 * may use the handle for reads meanwhile (and they read ahead). */
static int scan_states(sn_store *base, sn_state_fn fn, void *ctx, char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    char sql[256], fetch[64], close_sql[48];
    int rc, own = 0;
    if ((rc = pg_enter_log(s, err, errlen)) != SN_OK)
        return rc;
    if (!s->base.in_tx && s->scans == 0) {
        if ((rc = pg_exec_sql(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "scan states",
                              err, errlen)) != SN_OK)
            return rc;
        own = 1;
        s->snapshot = 1;
    }
    s->scans++;
    snprintf(sql, sizeof(sql),
             "DECLARE sn_scan%d NO SCROLL CURSOR FOR SELECT number, " SN_STORE_STATE_COLUMNS
             " FROM numbers ORDER BY number",
             s->scans);
    snprintf(fetch, sizeof(fetch), "FETCH FORWARD %d FROM sn_scan%d", SCAN_ROWS, s->scans);
    snprintf(close_sql, sizeof(close_sql), "CLOSE sn_scan%d", s->scans);
    if ((rc = pg_exec_sql(s, sql, "scan states", err, errlen)) == SN_OK) {
        rc = fetch_states(s, fetch, fn, ctx, err, errlen);
        if (PQtransactionStatus(s->conn) == PQTRANS_INTRANS)
            pg_exec_sql(s, close_sql, "scan states", NULL, 0);
    }
    s->scans--;
    if (own) {
        pg_exec_sql(s, rc == SN_OK ? "COMMIT" : "ROLLBACK", "scan states", NULL, 0);
        s->snapshot = 0;
        pg_discard_buffers(s);
    }
    return rc;
}

/* A number's events as scan_events hands them out: copied, so the callback
 * may use the handle (and move windows and buffers) meanwhile. */
typedef struct {
    sn_log_event *items;
    uint32_t *ordinals;
    char *ids;
    size_t n, idpos;
} event_list;

static void event_list_free(event_list *l)
{
    free(l->items);
    free(l->ordinals);
    free(l->ids);
}

/* Append one event; its id goes to l->ids (sized beforehand). */
static void event_list_add(event_list *l, sn_number n, int64_t id, int64_t at, int kind,
                           uint32_t carrier, const char *event_id, uint32_t idlen,
                           const uint8_t *id6, int flags)
{
    sn_log_event *e = &l->items[l->n];
    memset(e, 0, sizeof(*e));
    e->ev.number = n;
    e->ev.at = at;
    e->ev.kind = (uint8_t)kind;
    e->ev.carrier = carrier;
    if (event_id != NULL) {
        memcpy(l->ids + l->idpos, event_id, idlen);
        l->ids[l->idpos + idlen] = '\0';
        e->event_id = l->ids + l->idpos;
        e->event_id_len = idlen;
        l->idpos += idlen + 1;
    }
    if (id6 != NULL) {
        e->has_id6 = 1;
        memcpy(e->id6_hash, id6, SN_ID6_HASH_LEN);
    }
    e->flags = (uint8_t)flags;
    l->ordinals[l->n++] = (uint32_t)id & SN_LOG_KEYED_EVENTS;
}

static int collect_events(pg_store *s, sn_number n, const log_slice *sl, event_list *l, char *err,
                          size_t errlen)
{
    const PGresult *r = sl->rows;
    size_t count = (size_t)(sl->wto - sl->wfrom) + (sl->bto - sl->bfrom), bytes = 1;
    for (int i = sl->wfrom; i < sl->wto; i++)
        bytes += (size_t)PQgetlength(r, i, 4) + 1;
    for (size_t i = sl->bfrom; i < sl->bto; i++)
        bytes += s->events[i].event_id_len + 1;
    memset(l, 0, sizeof(*l));
    l->items = malloc((count > 0 ? count : 1) * sizeof(*l->items));
    l->ordinals = malloc((count > 0 ? count : 1) * sizeof(*l->ordinals));
    l->ids = malloc(bytes);
    if (l->items == NULL || l->ordinals == NULL || l->ids == NULL) {
        event_list_free(l);
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    }
    for (int i = sl->wfrom; i < sl->wto; i++) {
        uint8_t id6[SN_ID6_HASH_LEN];
        int has6 = pg_blob(id6, SN_ID6_HASH_LEN, r, i, 5);
        event_list_add(l, n, pg_int(r, i, 1), pg_int(r, i, 0), (int)pg_int(r, i, 2),
                       (uint32_t)pg_int(r, i, 3), text_or_null(r, i, 4),
                       (uint32_t)PQgetlength(r, i, 4), has6 ? id6 : NULL, (int)pg_int(r, i, 6));
    }
    for (size_t i = sl->bfrom; i < sl->bto; i++) {
        const pg_pending_event *pe = &s->events[i];
        event_list_add(l, n, pe->id, pe->at, pe->kind, pe->carrier,
                       pe->has_event_id ? pe->event_id : NULL, pe->event_id_len,
                       pe->has_id6 ? pe->id6_hash : NULL, pe->flags);
    }
    return SN_OK;
}

static int scan_events(sn_store *base, sn_number n, sn_event_fn fn, void *ctx, char *err,
                       size_t errlen)
{
    pg_store *s = pg_of(base);
    PGresult *r = NULL;
    event_list l;
    log_slice sl = {NULL, 0, 0, 0, 0};
    int rc, stop = 0;
    if (read_ahead(s)) {
        rc = events_of(s, n, &sl, err, errlen);
    } else if ((rc = pg_enter(s, err, errlen)) == SN_OK) {
        r = pg_exec(s, scan_events_sql,
                    SQL_ARGS(SQL_INT(sn_log_event_key(n, 0)),
                             SQL_INT(sn_log_event_key(n, SN_LOG_KEYED_EVENTS))),
                    PGRES_TUPLES_OK, "scan events", err, errlen);
        rc = r == NULL ? SN_ESTORE : SN_OK;
        sl.rows = r;
        sl.wto = r != NULL ? PQntuples(r) : 0;
    }
    if (rc == SN_OK)
        rc = collect_events(s, n, &sl, &l, err, errlen);
    PQclear(r);
    if (rc != SN_OK)
        return rc;
    for (size_t i = 0; i < l.n && !stop; i++)
        stop = fn(ctx, &l.items[i], l.ordinals[i]);
    event_list_free(&l);
    return stop;
}

/* Send the buffered writes before SQL reads the log tables. */
static int sync_log(sn_store *base, char *err, size_t errlen)
{
    return pg_enter_log(pg_of(base), err, errlen);
}

const sn_log_ops sn_pg_log = {get_state,    get_states,  put_state,   find_event,
                              append_event, scan_states, scan_events, sync_log};
