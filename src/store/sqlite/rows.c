/*
 * rows.c - a write transaction's new rows held back and written together
 * (sqlite.h): every event row, and the state row of a number that had
 * none, SQ_ROWS_CHUNK to an INSERT. Invariants: rows are held only inside
 * a transaction begun by sn_store_begin; db.c writes them before any other
 * statement on the handle and drops them at a rollback, so a statement
 * never sees the store without them and none outlives its transaction.
 */
#include "store/sqlite/sqlite.h"

#include "core/errors.h"
#include "core/limits.h"

#include <stdlib.h>
#include <string.h>

const char sq_insert_state_sql[] = "INSERT INTO numbers(number, " SN_STORE_STATE_COLUMNS
                                   ", seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const char sq_append_event_sql[] = "INSERT INTO events(id, at, kind, carrier, event_id, id6_hash, "
                                   "flags) VALUES ($1, $2, $3, $4, $5, $6, $7)";
/* The same INSERTs, SQ_ROWS_CHUNK rows each. */
#define TIMES4(r) r "," r "," r "," r
#define TIMES64(r) TIMES4(TIMES4(TIMES4(r)))
_Static_assert(SQ_ROWS_CHUNK == 64, "TIMES64 writes SQ_ROWS_CHUNK rows");
#define EVENT_COLUMNS 7
#define STATE_COLUMNS 11
static const char insert_events_sql[] = "INSERT INTO events(id, at, kind, carrier, event_id, "
                                        "id6_hash, flags) VALUES " TIMES64("(?,?,?,?,?,?,?)");
static const char insert_states_sql[] = "INSERT INTO numbers(number, " SN_STORE_STATE_COLUMNS
                                        ", seq) VALUES " TIMES64("(?,?,?,?,?,?,?,?,?,?,?)");

typedef struct {
    int64_t key, at;
    uint32_t carrier;
    uint8_t kind, flags, has_id6, has_event_id;
    uint8_t event_id_len;
    char event_id[SN_EVENT_ID_MAX];
    uint8_t id6_hash[SN_ID6_HASH_LEN];
} held_event;

typedef struct {
    sn_number_state st;
    uint64_t seq;
} held_state;

struct sq_rows { /* how many of each are held: the handle's rows_events, rows_states */
    held_event events[SQ_ROWS_MAX];
    held_state states[SQ_ROWS_MAX];
};

void sq_rows_drop(sqlite_store *s)
{
    s->rows_events = s->rows_states = 0;
    s->rows_lost = 0;
}

void sq_rows_free(sqlite_store *s)
{
    free(s->rows);
    s->rows = NULL;
    sq_rows_drop(s);
}

/* The rows' own room, made on the first row a handle holds back. */
static struct sq_rows *rows_of(sqlite_store *s)
{
    if (s->rows == NULL)
        s->rows = malloc(sizeof(*s->rows));
    return s->rows;
}

static void bind_event(sqlite3_stmt *q, int at, const void *row)
{
    const held_event *r = row;
    sqlite3_bind_int64(q, at, r->key);
    sqlite3_bind_int64(q, at + 1, r->at);
    sqlite3_bind_int64(q, at + 2, r->kind);
    sqlite3_bind_int64(q, at + 3, r->carrier);
    if (r->has_event_id)
        sqlite3_bind_text(q, at + 4, r->event_id, r->event_id_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, at + 4);
    if (r->has_id6)
        sqlite3_bind_blob(q, at + 5, r->id6_hash, SN_ID6_HASH_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, at + 5);
    sqlite3_bind_int64(q, at + 6, r->flags);
}

static void bind_state(sqlite3_stmt *q, int at, const void *row)
{
    const held_state *r = row;
    const sn_number_state *st = &r->st;
    const int64_t v[STATE_COLUMNS] = {
        (int64_t)st->number, st->status,  st->first_is_activation, st->tenure,
        st->carrier,         st->events,  st->first_day,           st->last_activation_day,
        st->last_cancel_day, st->last_at, (int64_t)r->seq};
    for (int i = 0; i < STATE_COLUMNS; i++)
        sqlite3_bind_int64(q, at + i, v[i]);
}

/* Run q once, reset; SN_OK or SN_ESTORE with what. */
static int step_once(sqlite_store *s, sqlite3_stmt *q, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_step(q) == SQLITE_DONE ? SN_OK : sq_fail(s, what, err, errlen);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q); /* no pointer into the rows outlives them */
    return rc;
}

/* One table's held rows: its INSERTs and how a row is bound. */
typedef struct {
    const char *chunk_sql, *one_sql, *what;
    int columns;
    size_t size; /* of a held row */
    void (*bind)(sqlite3_stmt *q, int at, const void *row);
} table_rows;

static const table_rows event_rows = {insert_events_sql, sq_append_event_sql, "append event",
                                      EVENT_COLUMNS,     sizeof(held_event),  bind_event};
static const table_rows state_rows = {insert_states_sql, sq_insert_state_sql, "write state",
                                      STATE_COLUMNS,     sizeof(held_state),  bind_state};

/* rows[0..n) of table t: SQ_ROWS_CHUNK to a statement, the rest one by one. */
static int write_rows(sqlite_store *s, const table_rows *t, const void *rows, size_t n, char *err,
                      size_t errlen)
{
    const char *row = rows;
    sqlite3_stmt *q = NULL;
    size_t i = 0;
    int rc = SN_OK;
    if (n >= SQ_ROWS_CHUNK && (q = sq_cached(s, t->chunk_sql, err, errlen)) == NULL)
        return SN_ESTORE;
    for (; rc == SN_OK && i + SQ_ROWS_CHUNK <= n; i += SQ_ROWS_CHUNK) {
        for (int k = 0; k < SQ_ROWS_CHUNK; k++)
            t->bind(q, k * t->columns + 1, row + (i + (size_t)k) * t->size);
        rc = step_once(s, q, t->what, err, errlen);
    }
    if (rc == SN_OK && i < n && (q = sq_cached(s, t->one_sql, err, errlen)) == NULL)
        return SN_ESTORE;
    for (; rc == SN_OK && i < n; i++) {
        t->bind(q, 1, row + i * t->size);
        rc = step_once(s, q, t->what, err, errlen);
    }
    return rc;
}

int sq_rows_write(sqlite_store *s, char *err, size_t errlen)
{
    size_t nevents = s->rows_events, nstates = s->rows_states;
    if (nevents + nstates == 0)
        return SN_OK;
    s->rows_events = s->rows_states = 0; /* the statements below run as any other (db.c) */
    int rc = write_rows(s, &event_rows, s->rows->events, nevents, err, errlen);
    if (rc == SN_OK)
        rc = write_rows(s, &state_rows, s->rows->states, nstates, err, errlen);
    sq_rows_drop(s);
    s->rows_lost = rc != SN_OK; /* the commit refuses (db.c) until a rollback */
    return rc;
}

/* Room for one more held row; SN_OK, or a failure to write those held. */
static int make_room(sqlite_store *s, size_t held, char *err, size_t errlen)
{
    return held < SQ_ROWS_MAX ? SN_OK : sq_rows_write(s, err, errlen);
}

int sq_rows_hold_state(sqlite_store *s, const sn_number_state *st, uint64_t seq, int *held,
                       char *err, size_t errlen)
{
    struct sq_rows *r;
    int rc;
    *held = 0;
    if (!s->base.in_tx || (r = rows_of(s)) == NULL)
        return SN_OK;
    if ((rc = make_room(s, s->rows_states, err, errlen)) != SN_OK)
        return rc;
    r->states[s->rows_states++] = (held_state){*st, seq};
    *held = 1;
    return SN_OK;
}

int sq_rows_hold_event(sqlite_store *s, const sn_log_event *e, uint32_t ordinal, int *held,
                       char *err, size_t errlen)
{
    struct sq_rows *r;
    int rc;
    *held = 0;
    if (!s->base.in_tx || e->event_id_len > SN_EVENT_ID_MAX || (r = rows_of(s)) == NULL)
        return SN_OK;
    if ((rc = make_room(s, s->rows_events, err, errlen)) != SN_OK)
        return rc;
    held_event *row = &r->events[s->rows_events++];
    *row = (held_event){sn_log_event_key(e->ev.number, ordinal),
                        e->ev.at,
                        e->ev.carrier,
                        e->ev.kind,
                        e->flags,
                        e->has_id6,
                        e->event_id != NULL,
                        (uint8_t)e->event_id_len,
                        {0},
                        {0}};
    if (e->event_id != NULL)
        memcpy(row->event_id, e->event_id, e->event_id_len);
    if (e->has_id6)
        memcpy(row->id6_hash, e->id6_hash, SN_ID6_HASH_LEN);
    *held = 1;
    return SN_OK;
}
