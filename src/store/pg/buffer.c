/*
 * buffer.c - a transaction's buffered writes of events and states, and the
 * read-ahead windows that answer the ledger's reads (pg.h).
 *
 * Inside a transaction, appended events and written states are buffered
 * and sent in one go before SQL that reads those tables, at commit, or every
 * BUFFER_ROWS rows. Each of three groups goes by binary COPY when it holds
 * COPY_MIN_ROWS rows or more: events straight into `events` (all new: the
 * ledger found no such event before appending), states of numbers that had
 * no row straight into `numbers`, and the other states into a temporary
 * staging table, applied with one INSERT ... SELECT ... ON CONFLICT that
 * empties it. Smaller groups go together as one pipeline of prepared
 * statements. A write error is reported by that later call (the batch fails
 * all the same).
 * The staging table (STAGE_TABLE, ON COMMIT DELETE ROWS) lives as long as
 * its connection: the statement that starts its COPY creates it when it is
 * missing (a new or re-made connection, or a rolled back transaction that
 * had created it), so nothing tracks it. Every state written takes a new
 * change number (numbers.seq), the transaction's next (tx_seq), sent with
 * the row: no nextval a state. The writer lock makes them visible in
 * increasing order (changes.c), and a transaction's are one run: db.c
 * reads the last one drawn at begin and sets the sequence to the last one
 * taken in the COMMIT's round trip, so the node's follower need not read
 * them back (sn_store_last_commit_changes, follow/follower.c invariant 5).
 * Events go by COPY into the partitioned `events` (schema 10, open.c),
 * which routes each row to the partition of its number's prefix. A flush
 * sends them in key order (sorted first when they were buffered out of
 * order), one COPY statement per partition once it holds PG_COPY_SPLIT_ROWS
 * rows (pg.h): a COPY keeps a tuple slot per row it buffers for each partition it
 * fills, and PostgreSQL 15 registers each with the statement's resource
 * owner at a cost growing with the square of those of one table, so a COPY
 * spread over 40 partitions took twice what one per partition takes
 * (BENCHMARKS.md). The split is for speed only: the server routes every
 * row whatever the partitions are.
 * Where rows cannot change between calls (in a transaction, under the
 * writer lock, or a snapshot), get_state, find_event and scan_events read
 * ahead: the next rows in key order in one round trip, answering the
 * following calls (the ledger and verify walk numbers in order); the
 * buffers are looked up first, and a flush moves the windows past what it
 * sent.
 */
#include "store/pg/pg.h"

#include "core/errors.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_ROWS 65536       /* buffered events or states before a flush */
#define COPY_MIN_ROWS 64        /* a group with fewer rows goes in the pipeline */
#define PIPELINE_MAX 512        /* statements per pipeline sync */
#define COPY_CHUNK (256 * 1024) /* COPY bytes handed to libpq at once */
#define WINDOW_MIN 64           /* rows a read-ahead window starts with */
#define WINDOW_MAX 8192         /* and grows to while it pays */

static const char append_event_sql[] =
    "INSERT INTO events(id, at, kind, carrier, event_id, id6_hash, flags) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)";
static const char put_state_sql[] =
    "INSERT INTO numbers(number, " SN_STORE_STATE_COLUMNS
    ", seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
    "ON CONFLICT (number) DO UPDATE SET status = EXCLUDED.status, first_is_activation "
    "= EXCLUDED.first_is_activation, tenure = EXCLUDED.tenure, carrier = EXCLUDED.carrier, "
    "events = EXCLUDED.events, first_day = EXCLUDED.first_day, last_activation_day = "
    "EXCLUDED.last_activation_day, last_cancel_day = EXCLUDED.last_cancel_day, last_at = "
    "EXCLUDED.last_at, seq = EXCLUDED.seq"; /* the row's new change number */
/* The staging table: the columns of numbers, created when missing, then
 * filled by COPY. */
#define STAGE_TABLE "sn_staged_states"
#define STATE_COPY_COLUMNS                                                                         \
    "(number, last_at, status, first_is_activation, tenure, carrier, events, first_day, "          \
    "last_activation_day, last_cancel_day, seq)"
static const char stage_states_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS " STAGE_TABLE
    " ON COMMIT DELETE ROWS AS SELECT number, " SN_STORE_STATE_COLUMNS
    ", seq FROM numbers WITH NO DATA; COPY " STAGE_TABLE STATE_COPY_COLUMNS
    " FROM STDIN (FORMAT binary)";
/* One statement: the staged rows, with their change numbers, leave the
 * staging table and land in numbers, in number order. */
static const char apply_staged_sql[] =
    "WITH staged AS (DELETE FROM " STAGE_TABLE
    " RETURNING *) INSERT INTO numbers(number, " SN_STORE_STATE_COLUMNS
    ", seq) SELECT number, " SN_STORE_STATE_COLUMNS ", seq FROM staged ORDER BY "
    "number ON CONFLICT (number) DO UPDATE SET status = EXCLUDED.status, first_is_activation "
    "= EXCLUDED.first_is_activation, tenure = EXCLUDED.tenure, carrier = EXCLUDED.carrier, "
    "events = EXCLUDED.events, first_day = EXCLUDED.first_day, last_activation_day = "
    "EXCLUDED.last_activation_day, last_cancel_day = EXCLUDED.last_cancel_day, last_at = "
    "EXCLUDED.last_at, seq = EXCLUDED.seq";
static const char notify_sql[] = "SELECT pg_notify('" PG_CHANGES_CHANNEL "', '')";

/* ---- read-ahead windows ---------------------------------------------------- */

void pg_window_clear(pg_window *w)
{
    PQclear(w->rows);
    memset(w, 0, sizeof(*w));
}

int pg_window_covers(const pg_window *w, int64_t key)
{
    return w->rows != NULL && key >= w->lo && key <= w->hi;
}

int pg_lower_bound(const PGresult *r, int first, int col, int64_t key)
{
    int lo = first, hi = PQntuples(r);
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (pg_int(r, mid, col) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Nothing below key stays in the window (those rows may have been written). */
static void window_trim(pg_window *w, int col, int64_t key)
{
    if (w->rows == NULL || key <= w->lo)
        return;
    if (key > w->hi) {
        PQclear(w->rows);
        w->rows = NULL;
        return;
    }
    w->lo = key;
    w->first = pg_lower_bound(w->rows, w->first, col, key);
}

/* A window that answered most of its lookups doubles for the next fill;
 * one that answered few (sparse lookups) shrinks back. */
int pg_window_fill(pg_store *s, pg_window *w, const char *sql, int col, int64_t key,
                   const char *what, char *err, size_t errlen)
{
    PGresult *r;
    if (w->limit == 0)
        w->limit = WINDOW_MIN;
    else if (w->rows != NULL && w->hits * 4 >= PQntuples(w->rows) && w->limit < WINDOW_MAX)
        w->limit *= 2;
    else if (w->rows != NULL && w->hits * 16 < PQntuples(w->rows) && w->limit > WINDOW_MIN)
        w->limit = w->limit / 4 > WINDOW_MIN ? w->limit / 4 : WINDOW_MIN;
    if ((r = pg_exec(s, sql, SQL_ARGS(SQL_INT(key), SQL_INT(w->limit)), PGRES_TUPLES_OK, what, err,
                     errlen)) == NULL)
        return SN_ESTORE;
    PQclear(w->rows);
    int n = PQntuples(r);
    w->rows = r;
    w->first = 0;
    w->hits = 0;
    w->lo = key;
    w->hi = n < w->limit ? INT64_MAX : pg_int(r, n - 1, col);
    return SN_OK;
}

/* ---- COPY ------------------------------------------------------------------ */

static void buf_put(pg_bytes_buf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap > 0 ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (d == NULL) {
            b->failed = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

static void buf_be(pg_bytes_buf *b, uint64_t v, int bytes)
{
    unsigned char tmp[8];
    pg_put_be(tmp, v, bytes);
    buf_put(b, tmp, (size_t)bytes);
}

/* One binary COPY field: its length, then its bytes; NULL is length -1. */
static void field_int(pg_bytes_buf *b, int64_t v, int bytes)
{
    buf_be(b, (uint64_t)bytes, 4);
    buf_be(b, (uint64_t)v, bytes);
}

static void field_bytes(pg_bytes_buf *b, const void *data, size_t len)
{
    buf_be(b, data != NULL ? (uint64_t)len : 0xffffffffu, 4);
    if (data != NULL)
        buf_put(b, data, len);
}

/* Hand what the buffer holds to libpq. */
static int copy_send(pg_store *s, pg_bytes_buf *b, char *err, size_t errlen)
{
    if (b->failed)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    if (b->len > 0 && PQputCopyData(s->conn, (const char *)b->data, (int)b->len) != 1)
        return pg_fail(s, NULL, "copy", err, errlen);
    b->len = 0;
    return SN_OK;
}

typedef void (*copy_row_fn)(pg_store *s, pg_bytes_buf *b, size_t i);

static void copy_event_row(pg_store *s, pg_bytes_buf *b, size_t i)
{
    const pg_pending_event *e = &s->events[i];
    buf_be(b, 7, 2);
    field_int(b, e->id, 8);
    field_int(b, e->at, 8);
    field_int(b, (int32_t)e->carrier, 4);
    field_int(b, e->kind, 2);
    field_int(b, e->flags, 2);
    field_bytes(b, e->has_event_id ? e->event_id : NULL, e->event_id_len);
    field_bytes(b, e->has_id6 ? e->id6_hash : NULL, SN_ID6_HASH_LEN);
}

static void copy_state_row(pg_store *s, pg_bytes_buf *b, size_t i)
{
    const sn_number_state *st = &s->states[i].st;
    buf_be(b, 11, 2);
    field_int(b, (int64_t)st->number, 8);
    field_int(b, st->last_at, 8);
    field_int(b, st->status, 2);
    field_int(b, st->first_is_activation, 2);
    field_int(b, (int32_t)st->tenure, 4);
    field_int(b, (int32_t)st->carrier, 4);
    field_int(b, (int32_t)st->events, 4);
    field_int(b, st->first_day, 4);
    field_int(b, st->last_activation_day, 4);
    field_int(b, st->last_cancel_day, 4);
    field_int(b, (int64_t)s->states[i].seq, 8);
}

/* COPY rows [from, to) for which keep(s, i) holds (all when keep is NULL)
 * in PostgreSQL's binary COPY format. */
static int copy_rows(pg_store *s, const char *sql, size_t from, size_t to, copy_row_fn row,
                     int (*keep)(pg_store *, size_t), const char *what, char *err, size_t errlen)
{
    static const unsigned char header[] = "PGCOPY\n\377\r\n";
    pg_bytes_buf *b = &s->copy;
    PGresult *r = PQexec(s->conn, sql);
    int rc = SN_OK;
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        rc = pg_fail(s, r, what, err, errlen);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    b->len = 0;
    b->failed = 0;
    buf_put(b, header, sizeof(header)); /* the signature ends with its NUL byte */
    buf_be(b, 0, 4);                    /* flags */
    buf_be(b, 0, 4);                    /* header extension length */
    for (size_t i = from; i < to && rc == SN_OK; i++) {
        if (keep == NULL || keep(s, i))
            row(s, b, i);
        if (b->len >= COPY_CHUNK)
            rc = copy_send(s, b, err, errlen);
    }
    buf_be(b, 0xffff, 2); /* trailer */
    if (rc == SN_OK)
        rc = copy_send(s, b, err, errlen);
    if (PQputCopyEnd(s->conn, rc == SN_OK ? NULL : "aborted by the client") != 1 && rc == SN_OK)
        rc = pg_fail(s, NULL, what, err, errlen);
    while ((r = PQgetResult(s->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == SN_OK)
            rc = pg_fail(s, r, what, err, errlen);
        PQclear(r);
    }
    return rc;
}

static int is_fresh(pg_store *s, size_t i)
{
    return s->states[i].fresh;
}

/* ---- pipelines ------------------------------------------------------------------ */

/* Read the results of `sent` pipelined statements and the sync after them;
 * the first failure goes to err. Leaves pipeline mode. */
static int pipeline_end(pg_store *s, int sent, int rc, char *err, size_t errlen)
{
    int ends = 0, synced = 0;
    if (PQpipelineSync(s->conn) != 1) {
        rc = rc != SN_OK ? rc : pg_fail(s, NULL, "pipeline", err, errlen);
        synced = 1; /* nothing to wait for */
    }
    while (!synced) {
        PGresult *r = PQgetResult(s->conn);
        if (r == NULL) {
            /* one NULL ends each statement's results; more means a lost connection */
            if (++ends > sent || PQstatus(s->conn) != CONNECTION_OK)
                break;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC)
            synced = 1;
        else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && rc == SN_OK)
            rc = pg_fail(s, r, "write", err, errlen);
        PQclear(r);
    }
    if (PQexitPipelineMode(s->conn) != 1 && rc == SN_OK)
        rc = pg_fail(s, NULL, "pipeline", err, errlen);
    return rc;
}

#define EVENT_NARGS 7
#define STATE_NARGS 11

static void event_args(const pg_pending_event *e, sn_sql_arg *a)
{
    a[0] = SQL_INT(e->id);
    a[1] = SQL_INT(e->at);
    a[2] = SQL_INT(e->kind);
    a[3] = SQL_INT(e->carrier);
    a[4] = SQL_TEXTN(e->has_event_id ? e->event_id : NULL, e->event_id_len);
    a[5] = SQL_BYTES(e->has_id6 ? e->id6_hash : NULL, SN_ID6_HASH_LEN);
    a[6] = SQL_INT(e->flags);
}

static void state_args(const sn_number_state *st, uint64_t seq, sn_sql_arg *a)
{
    a[0] = SQL_INT(st->number);
    a[1] = SQL_INT(st->status);
    a[2] = SQL_INT(st->first_is_activation);
    a[3] = SQL_INT(st->tenure);
    a[4] = SQL_INT(st->carrier);
    a[5] = SQL_INT(st->events);
    a[6] = SQL_INT(st->first_day);
    a[7] = SQL_INT(st->last_activation_day);
    a[8] = SQL_INT(st->last_cancel_day);
    a[9] = SQL_INT(st->last_at);
    a[10] = SQL_INT((int64_t)seq);
}

/* Queue one statement in the pipeline (prepared beforehand: preparing is a
 * round trip of its own, which a pipeline cannot hold). */
static int send(pg_store *s, const char *sql, const sn_sql_arg *args, size_t nargs, char *err,
                size_t errlen)
{
    char name[PG_NAME_MAX];
    pg_params p;
    int rc = pg_prepared_name(s, sql, args, nargs, name, err, errlen);
    pg_params_of(args, nargs, &p);
    if (rc == SN_OK &&
        PQsendQueryPrepared(s->conn, name, (int)nargs, p.values, p.lengths, p.formats, 1) != 1)
        rc = pg_fail(s, NULL, "write", err, errlen);
    return rc;
}

static int prepare_writes(pg_store *s, char *err, size_t errlen)
{
    static const pg_pending_event no_event;
    static const sn_number_state no_state;
    sn_sql_arg ev[EVENT_NARGS], st[STATE_NARGS];
    char name[PG_NAME_MAX];
    event_args(&no_event, ev);
    state_args(&no_state, 0, st);
    int rc = pg_prepared_name(s, append_event_sql, ev, EVENT_NARGS, name, err, errlen);
    return rc != SN_OK ? rc
                       : pg_prepared_name(s, put_state_sql, st, STATE_NARGS, name, err, errlen);
}

/* The groups of buffered rows (send_buffers): events, states of numbers
 * that had no row, the other states. */
enum { GROUP_EVENTS = 1, GROUP_FRESH = 2, GROUP_STALE = 4 };

static int in_groups(const pg_store *s, size_t i, int groups)
{
    return (groups & (s->states[i].fresh ? GROUP_FRESH : GROUP_STALE)) != 0;
}

/* Send the buffered rows of `groups` as prepared INSERTs, PIPELINE_MAX per
 * round trip. */
static int pipeline_rows(pg_store *s, int groups, char *err, size_t errlen)
{
    size_t ie = groups & GROUP_EVENTS ? 0 : s->nevents, is = 0;
    int rc = prepare_writes(s, err, errlen);
    while (is < s->nstates && !in_groups(s, is, groups))
        is++;
    while (rc == SN_OK && (ie < s->nevents || is < s->nstates)) {
        int sent = 0;
        if (PQenterPipelineMode(s->conn) != 1)
            return pg_fail(s, NULL, "pipeline", err, errlen);
        for (; rc == SN_OK && sent < PIPELINE_MAX && (ie < s->nevents || is < s->nstates);) {
            sn_sql_arg args[STATE_NARGS];
            if (ie < s->nevents) {
                event_args(&s->events[ie++], args);
                rc = send(s, append_event_sql, args, EVENT_NARGS, err, errlen);
            } else {
                state_args(&s->states[is].st, s->states[is].seq, args);
                is++;
                rc = send(s, put_state_sql, args, STATE_NARGS, err, errlen);
                while (is < s->nstates && !in_groups(s, is, groups))
                    is++;
            }
            sent += rc == SN_OK;
        }
        rc = pipeline_end(s, sent, rc, err, errlen);
    }
    return rc;
}

/* ---- flushing --------------------------------------------------------------------- */

/* Wake the nodes following the changes (LISTEN): PostgreSQL delivers the
 * notification at commit, and only once per transaction. */
static int notify_changes(pg_store *s, char *err, size_t errlen)
{
    PGresult *r = pg_exec(s, notify_sql, SQL_NO_ARGS, PGRES_TUPLES_OK, "notify", err, errlen);
    if (r == NULL)
        return SN_ESTORE;
    PQclear(r);
    s->notified = 1;
    return SN_OK;
}

static int is_stale(pg_store *s, size_t i)
{
    return !s->states[i].fresh;
}

/* The states of numbers that had a row: COPY into the staging table, then
 * one upsert of them all from there. */
static int stage_states(pg_store *s, char *err, size_t errlen)
{
    int rc = copy_rows(s, stage_states_sql, 0, s->nstates, copy_state_row, is_stale, "write states",
                       err, errlen);
    PGresult *r = rc != SN_OK ? NULL
                              : pg_exec(s, apply_staged_sql, SQL_NO_ARGS, PGRES_COMMAND_OK,
                                        "write states", err, errlen);
    if (r == NULL)
        return rc != SN_OK ? rc : SN_ESTORE;
    PQclear(r);
    return SN_OK;
}

static int event_id_cmp(const void *a, const void *b)
{
    int64_t x = ((const pg_pending_event *)a)->id, y = ((const pg_pending_event *)b)->id;
    return (x > y) - (x < y);
}

/* Whether two event keys are in the same block of PG_COPY_PARTITION_NUMBERS
 * numbers (the same partition of the schema's layout). */
static int same_block(int64_t a, int64_t b)
{
    return (a >> SN_LOG_ORDINAL_BITS) / PG_COPY_PARTITION_NUMBERS ==
           (b >> SN_LOG_ORDINAL_BITS) / PG_COPY_PARTITION_NUMBERS;
}

size_t pg_event_run_end(const pg_pending_event *ev, size_t n, size_t from)
{
    size_t to = from + 1;
    while (to < n && (to - from < PG_COPY_SPLIT_ROWS || same_block(ev[to - 1].id, ev[to].id)))
        to++;
    return to;
}

/* The buffered events by COPY in key order, one statement per run
 * (pg_event_run_end): one COPY fills one partition (the top comment). */
static int copy_events(pg_store *s, char *err, size_t errlen)
{
    static const char sql[] = "COPY events(id, at, carrier, kind, flags, event_id, id6_hash) "
                              "FROM STDIN (FORMAT binary)";
    size_t from = 0;
    int rc = SN_OK;
    if (!s->events_sorted)
        qsort(s->events, s->nevents, sizeof(*s->events), event_id_cmp);
    s->events_sorted = 1;
    while (rc == SN_OK && from < s->nevents) {
        size_t to = pg_event_run_end(s->events, s->nevents, from);
        rc = copy_rows(s, sql, from, to, copy_event_row, NULL, "append events", err, errlen);
        from = to;
    }
    return rc;
}

/* Each group by COPY when it is large, the small ones in one pipeline. */
static int send_buffers(pg_store *s, size_t fresh, char *err, size_t errlen)
{
    size_t stale = s->nstates - fresh;
    int piped = 0, rc = SN_OK;
    if (s->nevents >= COPY_MIN_ROWS)
        rc = copy_events(s, err, errlen);
    else if (s->nevents > 0)
        piped |= GROUP_EVENTS;
    if (rc == SN_OK && fresh >= COPY_MIN_ROWS)
        rc = copy_rows(s, "COPY numbers" STATE_COPY_COLUMNS " FROM STDIN (FORMAT binary)", 0,
                       s->nstates, copy_state_row, is_fresh, "write states", err, errlen);
    else if (fresh > 0)
        piped |= GROUP_FRESH;
    if (rc == SN_OK && stale >= COPY_MIN_ROWS)
        rc = stage_states(s, err, errlen);
    else if (stale > 0)
        piped |= GROUP_STALE;
    if (rc == SN_OK && piped != 0)
        rc = pipeline_rows(s, piped, err, errlen);
    return rc;
}

int pg_flush(pg_store *s, char *err, size_t errlen)
{
    size_t fresh = 0;
    int64_t max_event = -1;
    if (s->nevents == 0 && s->nstates == 0)
        return SN_OK;
    for (size_t i = 0; i < s->nstates; i++)
        fresh += (size_t)s->states[i].fresh;
    for (size_t i = 0; i < s->nevents; i++)
        if (s->events[i].id > max_event)
            max_event = s->events[i].id;
    int rc = send_buffers(s, fresh, err, errlen);
    if (rc == SN_OK && s->nstates > 0 && s->states[s->nstates - 1].st.number > s->table_max)
        s->table_max = s->states[s->nstates - 1].st.number;
    if (rc == SN_OK && s->nstates > 0)
        window_trim(&s->state_w, 0, (int64_t)s->states[s->nstates - 1].st.number + 1);
    if (rc == SN_OK && max_event >= 0)
        window_trim(&s->event_w, 1, max_event + 1);
    if (rc == SN_OK && s->nstates > 0 && !s->notified)
        rc = notify_changes(s, err, errlen);
    s->nevents = 0;
    s->nstates = 0;
    s->events_sorted = 1;
    return rc;
}

/* An event id longer than a feed allows is not worth a buffer slot: it is
 * written at once, after what is buffered. */
static int write_long_event(pg_store *s, const sn_log_event *e, uint32_t ordinal, char *err,
                            size_t errlen)
{
    int64_t key = sn_log_event_key(e->ev.number, ordinal);
    int rc = pg_flush(s, err, errlen);
    if (rc != SN_OK)
        return rc;
    window_trim(&s->event_w, 1, key + 1);
    PGresult *r = pg_exec(s, append_event_sql,
                          SQL_ARGS(SQL_INT(key), SQL_INT(e->ev.at), SQL_INT(e->ev.kind),
                                   SQL_INT(e->ev.carrier), SQL_TEXTN(e->event_id, e->event_id_len),
                                   SQL_BYTES(e->has_id6 ? e->id6_hash : NULL, SN_ID6_HASH_LEN),
                                   SQL_INT(e->flags)),
                          PGRES_COMMAND_OK, "append event", err, errlen);
    if (r == NULL)
        return SN_ESTORE;
    PQclear(r);
    return SN_OK;
}

int pg_buffer_event(pg_store *s, const sn_log_event *e, uint32_t ordinal, char *err, size_t errlen)
{
    pg_pending_event *pe;
    int rc;
    if (e->event_id != NULL && e->event_id_len > SN_EVENT_ID_MAX)
        return write_long_event(s, e, ordinal, err, errlen);
    if (s->nevents >= BUFFER_ROWS && (rc = pg_flush(s, err, errlen)) != SN_OK)
        return rc;
    pe = sn_grow(s->events, &s->events_cap, s->nevents, sizeof(*s->events), 1024);
    if (pe == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    s->events = pe;
    pe = &s->events[s->nevents];
    pe->id = sn_log_event_key(e->ev.number, ordinal);
    s->events_sorted = s->nevents == 0 || (s->events_sorted && pe->id > pe[-1].id);
    s->nevents++;
    pe->at = e->ev.at;
    pe->carrier = e->ev.carrier;
    pe->kind = e->ev.kind;
    pe->flags = e->flags;
    pe->has_id6 = e->has_id6 != 0;
    if (pe->has_id6)
        memcpy(pe->id6_hash, e->id6_hash, SN_ID6_HASH_LEN);
    pe->has_event_id = e->event_id != NULL;
    pe->event_id_len = e->event_id != NULL ? e->event_id_len : 0;
    if (pe->event_id_len > 0)
        memcpy(pe->event_id, e->event_id, pe->event_id_len);
    return SN_OK;
}

int pg_note_absent(pg_store *s, sn_number n, char *err, size_t errlen)
{
    if (s->nabsent > 0 && n <= s->absent[s->nabsent - 1].number)
        s->nabsent = 0;
    pg_absent *a = sn_grow(s->absent, &s->absent_cap, s->nabsent, sizeof(*s->absent), 1024);
    if (a == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    s->absent = a;
    s->absent[s->nabsent++] = (pg_absent){n, 0};
    return SN_OK;
}

/* Whether n was noted without a row and not written since (then it is now). */
static int take_absent(pg_store *s, sn_number n)
{
    size_t lo = 0, hi = s->nabsent;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->absent[mid].number < n)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == s->nabsent || s->absent[lo].number != n || s->absent[lo].used)
        return 0;
    s->absent[lo].used = 1;
    return 1;
}

int pg_buffer_state(pg_store *s, const sn_number_state *st, char *err, size_t errlen)
{
    pg_pending_state *ps;
    int rc;
    if (s->base.side_writer) /* no writer lock: its change numbers would not be its own */
        return sn_fail(err, errlen, SN_ESTORE, "write state: not on a side writer's handle");
    /* each number at most once per flush, in increasing order: a number
     * written again (or out of order) first sends what is buffered */
    if ((s->nstates > 0 && st->number <= s->states[s->nstates - 1].st.number) ||
        s->nstates >= BUFFER_ROWS)
        if ((rc = pg_flush(s, err, errlen)) != SN_OK)
            return rc;
    ps = sn_grow(s->states, &s->states_cap, s->nstates, sizeof(*s->states), 1024);
    if (ps == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    s->states = ps;
    ps = &s->states[s->nstates++];
    ps->st = *st;
    ps->seq = ++s->tx_seq;
    ps->fresh = st->number > s->table_max || take_absent(s, st->number);
    if (st->number > s->base.max_number)
        s->base.max_number = st->number;
    return SN_OK;
}

const pg_pending_state *pg_pending_state_of(const pg_store *s, sn_number n)
{
    size_t lo = 0, hi = s->nstates;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->states[mid].st.number < n)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->nstates && s->states[lo].st.number == n ? &s->states[lo] : NULL;
}

void pg_discard_buffers(pg_store *s)
{
    s->nevents = 0;
    s->nstates = 0;
    s->nabsent = 0;
    s->events_sorted = 1;
    s->notified = 0;
    pg_window_clear(&s->state_w);
    pg_window_clear(&s->event_w);
}
