/*
 * pg.h - the PostgreSQL backend's handle and what its files share
 * (private to src/store/pg/). docs/internals/postgres.md explains the
 * choices; the files are layered so that none calls back up:
 *   conn.c     the connection: errors, statements (prepared once per
 *              connection, cached by the address of their SQL), typed
 *              arguments (sql.h), binary results, reconnecting, claim sets
 *   buffer.c   a transaction's buffered writes of events and states (COPY,
 *              a staging table for upserts, pipelines for few rows) and the
 *              read-ahead windows over them
 *   db.c       transactions: begin (the writer lock), commit, rollback;
 *              the SQL driver the shared domains run on (sql.h)
 *   log.c      events and number states (log.h)
 *   changes.c  following the changes (several nodes)
 *   deliveries.c  the due deliveries, claimed for one node of several
 *   open.c     connecting, the schema and its migrations, integrity, and
 *              the backend table that points a handle at all of the above
 *
 * Transactions and durability (store.h invariants):
 *   1. commit: COMMIT with synchronous_commit on (forced back on at connect
 *      if the server's default is off), so a returned commit is flushed to
 *      the WAL. A COMMIT that PostgreSQL turns into a ROLLBACK (the
 *      transaction had failed) is reported as a failure, never as success.
 *   2. all or nothing: one PostgreSQL transaction per sn_store transaction.
 *      A write outside a transaction runs in a transaction of its own.
 *   3. append-only log, state = replay: events are only INSERTed (COPY);
 *      events and states of a batch commit together.
 *   Writers are serialised like SQLite's BEGIN IMMEDIATE: begin takes a
 *   transaction-level advisory lock (waiting at most LOCK_TIMEOUT, SQLite's
 *   busy timeout), then reads the same facts SQLite reads at BEGIN (the
 *   highest number with a state, whether bindings, subscriptions or open
 *   notices exist) under READ COMMITTED, so they hold until commit.
 * Thread-safety: a handle (one connection) belongs to one thread at a time.
 */
#ifndef SN_STORE_PG_H
#define SN_STORE_PG_H

#include "store/backend.h"

#include <libpq-fe.h>

#define PG_STMT_SLOTS 256                  /* statements prepared per connection, at most */
#define PG_WRITER_LOCK 8317635505380681573 /* "sn-ledge": the advisory lock writers take */
/* A delivery's claim is the session advisory lock PG_CLAIM_LOCKS + notice id
 * ("snd" in the top bits; notice ids stay below 2^40). */
#define PG_CLAIM_LOCKS 8317695512962662400
#define PG_LOCK_TIMEOUT "10s"                  /* as SQLite's busy timeout */
#define PG_CHANGES_CHANNEL "secondnum_changes" /* NOTIFYed by each commit that wrote states */
#define PG_STR_(x) #x
#define PG_STR(x) PG_STR_(x)

/* An appended event waiting for the next flush (its event id copied). */
typedef struct {
    int64_t id, at;
    uint32_t carrier;
    uint8_t kind, flags, has_id6, has_event_id;
    uint32_t event_id_len;
    char event_id[SN_EVENT_ID_MAX];
    uint8_t id6_hash[SN_ID6_HASH_LEN];
} pg_pending_event;

/* A written state waiting for the next flush; fresh: no row existed when it
 * was written (its number was above every stored one), so COPY may insert it;
 * seq: its change number (the transaction's next, pg_store.tx_seq). */
typedef struct {
    sn_number_state st;
    uint64_t seq;
    int fresh;
} pg_pending_state;

/* A number get_states found no row for, in a transaction (writer lock
 * held): until this transaction writes it, no row can appear, so its first
 * state written may go by COPY (used: it was). */
typedef struct {
    sn_number number;
    int used;
} pg_absent;

typedef struct {
    unsigned char *data;
    size_t len, cap;
    int failed;
} pg_bytes_buf;

/* Read-ahead: the rows of a table from key lo on, fetched in one round trip
 * and kept while they cannot change under us (inside a transaction holding
 * the writer lock, or a read-only snapshot). Every stored row with a key in
 * [lo, hi] is in `rows`. This handle's own writes are looked up in the
 * buffers first, and a flush moves lo above every row it sent. */
typedef struct {
    PGresult *rows; /* in key order; NULL: no window */
    int first;      /* rows before it fell below lo */
    int64_t lo, hi;
    int limit; /* rows the next fill asks for (0: its minimum) */
    int hits;  /* lookups this window answered */
} pg_window;

typedef struct {
    uint64_t *v;
    size_t n, cap;
} pg_id_set;

typedef struct {
    struct sn_store base;
    PGconn *conn;
    struct {
        const char *sql;
        int id;
    } prepared[PG_STMT_SLOTS]; /* this connection's prepared statements */
    int nprepared;
    int scans;   /* scan_states cursors open on this handle */
    int relaxed; /* relax_durability was called: reapplied after a reconnect */
    /* Deliveries this connection holds claims on (session advisory locks),
     * and those whose outcome the open transaction wrote: their claims are
     * released once it commits. */
    pg_id_set claimed, written;
    /* Inside a write transaction: base.max_number counting buffered
     * writes (backend.h), table_max the same for rows already sent. */
    sn_number table_max;
    pg_pending_event *events;
    size_t nevents, events_cap;
    int events_sorted;        /* the buffered events are in increasing id order */
    pg_pending_state *states; /* in increasing number order, each number once */
    size_t nstates, states_cap;
    pg_absent *absent; /* in increasing number order (get_states' last call) */
    size_t nabsent, absent_cap;
    pg_bytes_buf copy;
    int snapshot; /* a read-only snapshot of this handle's own is open (scans) */
    pg_window state_w, event_w;
    int notified;     /* this transaction sent its NOTIFY of changed states */
    uint64_t tx_from; /* the last change number drawn before this transaction */
    uint64_t tx_seq;  /* the last one this transaction's state writes took */
    int listen_pid;   /* the server process LISTENing for changes (0: none) */
} pg_store;

static inline pg_store *pg_of(sn_store *s)
{
    return (pg_store *)s;
}

/* ---- conn.c -------------------------------------------------------------- */

/* SN_ESTORE with `what` and PostgreSQL's primary message (or libpq's). */
int pg_fail(pg_store *s, const PGresult *r, const char *what, char *err, size_t errlen);
/* The first line of s, at most 400 bytes, for messages. */
int pg_line_len(const char *s);

/* Run sql (a static string, prepared once per connection) with args;
 * binary results. The result when its status is `want` (PG_RESULT: rows or
 * a command's); NULL with err filled otherwise. */
#define PG_RESULT PGRES_EMPTY_QUERY
PGresult *pg_exec(pg_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                  ExecStatusType want, const char *what, char *err, size_t errlen);
/* As pg_exec for SQL written per call (not prepared). */
PGresult *pg_exec_once(pg_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                       ExecStatusType want, const char *what, char *err, size_t errlen);
/* Prepare sql for args (when not yet) and give its statement name
 * (PG_NAME_MAX bytes), for pipelines. */
#define PG_NAME_MAX 16
int pg_prepared_name(pg_store *s, const char *sql, const sn_sql_arg *args, size_t nargs, char *name,
                     char *err, size_t errlen);
/* Parameters of args as libpq takes them (binary); ints holds the integers. */
typedef struct {
    const char *values[16];
    int lengths[16];
    int formats[16];
    char ints[16][8];
} pg_params;
void pg_params_of(const sn_sql_arg *args, size_t nargs, pg_params *p);
/* Run SQL text (no arguments; several statements allowed). */
int pg_exec_sql(pg_store *s, const char *sql, const char *what, char *err, size_t errlen);

/* Columns of binary results. */
int64_t pg_int(const PGresult *r, int row, int col); /* any integer width, NULL = 0 */
void pg_text(char *dst, size_t cap, const PGresult *r, int row, int col); /* "" for NULL */
int pg_blob(void *dst, size_t len, const PGresult *r, int row, int col);  /* exact length: 1 */
uint64_t pg_changed(const PGresult *r); /* rows a command changed */

/* Big-endian integers, for binary parameters and COPY. */
void pg_put_be(unsigned char *dst, uint64_t v, int bytes);

/* Session settings, at connect and after a reconnect. */
int pg_configure(pg_store *s, char *err, size_t errlen);
/* Outside a transaction, a connection found broken is reset once. */
int pg_reconnect_if_lost(pg_store *s, char *err, size_t errlen);

/* Claim sets (delivery ids). */
int pg_id_add(pg_id_set *set, uint64_t id);
int pg_id_has(const pg_id_set *set, uint64_t id);
char *pg_id_array(const pg_id_set *set); /* "{1,2,3}", malloc'd; NULL when out of memory */
void pg_id_remove_all(pg_id_set *set, pg_id_set *gone);
/* Release the claims of the deliveries whose outcomes the last commit wrote. */
void pg_release_claims(pg_store *s);
/* Release the claims on ids. */
int pg_unclaim(pg_store *s, const pg_id_set *ids, char *err, size_t errlen);

/* ---- buffer.c ------------------------------------------------------------- */

/* Send every buffered write (then windows move past it; a transaction that
 * wrote states notifies the followers once). */
int pg_flush(pg_store *s, char *err, size_t errlen);
int pg_buffer_event(pg_store *s, const sn_log_event *e, uint32_t ordinal, char *err, size_t errlen);
int pg_buffer_state(pg_store *s, const sn_number_state *st, char *err, size_t errlen);
/* Note that n has no row (numbers noted in increasing order; a number
 * not above the last noted one starts the list again). */
int pg_note_absent(pg_store *s, sn_number n, char *err, size_t errlen);
/* The buffered state of n, or NULL. */
const pg_pending_state *pg_pending_state_of(const pg_store *s, sn_number n);
/* Buffers and windows last as long as the transaction (or snapshot). */
void pg_discard_buffers(pg_store *s);
/* A flush's events (in key order) go by COPY in runs: a run ends where the
 * number's block of PG_COPY_PARTITION_NUMBERS changes (a partition of
 * open.c's layout: +86 and 3 national digits, +1 and 2) once it holds
 * PG_COPY_SPLIT_ROWS rows. pg_event_run_end: the end of the run of ev[0, n)
 * that starts at from (< n). */
#define PG_COPY_PARTITION_NUMBERS 100000000
#define PG_COPY_SPLIT_ROWS 256
size_t pg_event_run_end(const pg_pending_event *ev, size_t n, size_t from);

/* Windows: fill from key on with sql ($1 key, $2 limit; the key in
 * column col); the first row at or after key; drop what is below key. */
int pg_window_fill(pg_store *s, pg_window *w, const char *sql, int col, int64_t key,
                   const char *what, char *err, size_t errlen);
int pg_window_covers(const pg_window *w, int64_t key);
int pg_lower_bound(const PGresult *r, int first, int col, int64_t key);
void pg_window_clear(pg_window *w);

/* ---- db.c ---------------------------------------------------------------- */

extern const char pg_begin_sql[]; /* BEGIN, then the writer lock */

int pg_begin(sn_store *base, char *err, size_t errlen);
int pg_commit(sn_store *base, char *err, size_t errlen);
void pg_rollback(sn_store *base);
int pg_reachable(sn_store *base);
int pg_relax_durability(sn_store *base, char *err, size_t errlen);
void pg_close(sn_store *base);

/* Before a statement outside a transaction (or scan): check the connection.
 * Inside, buffered writes stay buffered: only statements reading numbers or
 * events see them, and those send them first (pg_enter_log). */
int pg_enter(pg_store *s, char *err, size_t errlen);
int pg_enter_log(pg_store *s, char *err, size_t errlen);

/* Writes outside a transaction run in one of their own, so they take the
 * writer lock and commit durably, as SQLite's autocommit writes do. */
int pg_own_begin(pg_store *s, int *own, char *err, size_t errlen);
int pg_own_end(pg_store *s, int own, int rc, char *err, size_t errlen);

/* The SQL driver of the shared domains (sql.h); a row of a result. */
extern const sn_sql_driver sn_pg_driver;
sn_sql_row pg_row(const PGresult *r, int i);

/* deliveries.c */
int pg_due_deliveries(sn_store *base, const sn_due_query *q, sn_due_fn fn, void *ctx, char *err,
                      size_t errlen);
int pg_delivery_written(sn_store *base, uint64_t notice, char *err, size_t errlen);

/* log.c, changes.c */
extern const sn_log_ops sn_pg_log;
extern const sn_changes_ops sn_pg_changes;

#endif
