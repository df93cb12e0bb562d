/*
 * backend.h - what a storage backend fills in (private to src/store/).
 *
 * A backend embeds `struct sn_store` as the first member of its handle and
 * points it at its sn_store_backend: the handle's own operations, the log
 * (log.h: events and states, where the backends differ most), the one
 * delivery query that claims rows, and its SQL driver (sql.h), over which
 * the other domains (keys.c, apps.c, ...) are written once for both.
 * Adding a backend is a folder and one line in store.c.
 */
#ifndef SN_STORE_BACKEND_H
#define SN_STORE_BACKEND_H

#include "store/deliveries.h"
#include "store/log.h"
#include "store/sql.h"

typedef struct {
    const char *name;
    void (*close)(sn_store *s);
    int (*begin)(sn_store *s, char *err, size_t errlen);
    int (*commit)(sn_store *s, char *err, size_t errlen);
    void (*rollback)(sn_store *s);
    int (*reachable)(sn_store *s); /* NULL: always (an embedded store) */
    int (*relax_durability)(sn_store *s, char *err, size_t errlen);
    int (*integrity)(sn_store *s, char *err, size_t errlen);
    const sn_log_ops *log;
    const sn_changes_ops *changes; /* NULL: one process per store, nothing to follow */
    const sn_sql_driver *sql;
    /* deliveries.h: sn_store_due_deliveries */
    int (*due_deliveries)(sn_store *s, const sn_due_query *q, sn_due_fn fn, void *ctx, char *err,
                          size_t errlen);
    /* Told of each delivery outcome written in the open transaction (to
     * release its claim after the commit); NULL: nothing to do. */
    int (*delivery_written)(sn_store *s, uint64_t notice, char *err, size_t errlen);
} sn_store_backend;

struct sn_store {
    const sn_store_backend *be;
    sn_rules rules;
    int created;
    int in_tx; /* a transaction begun by sn_store_begin is open */
    /* Inside a write transaction: no number above max_number has a state
     * (counting this transaction's writes), so get_state answers UNSEEN
     * without asking. Read at begin, raised by put_state. */
    sn_number max_number;
    /* Read at begin (under the writer's lock) and kept up to date by the
     * transaction's own writes: does any binding, subscription or open
     * notice exist? When not, an event costs the notice machinery nothing
     * (a bulk import before any app joined runs at full speed). */
    int any_bindings, any_subscriptions, any_open_notices;
    /* Does any number have events beyond SN_LOG_KEYED_EVENTS (events_more)?
     * When not, a duplicate check never looks there. */
    int any_overflow;
    /* Does any port authorisation exist? When not, a port_in that moves a
     * number has none to use up (no DELETE: a round trip each on PostgreSQL). */
    int any_ports;
    /* sn_store_side_writer: transactions skip the writer's lock
     * (PostgreSQL) and the begin state (both backends). */
    int side_writer;
    /* Set by a backend with change numbers at each commit (log.h). */
    sn_store_commit_changes committed;
};

/* A state row: number, then SN_STORE_STATE_COLUMNS from column c + 1 on. */
#define SN_STORE_STATE_COLUMNS                                                                     \
    "status, first_is_activation, tenure, carrier, events, first_day, last_activation_day, "       \
    "last_cancel_day, last_at"
void sn_store_read_state(const sn_sql_row *row, int c, sn_number_state *st);

/* Rows of (seq, state columns) to a change callback, for the backends'
 * changes ops (log.h): sn_sql_read's row function, ctx a sn_change_rows. */
typedef struct {
    sn_change_fn fn;
    void *ctx;
} sn_change_rows;
int sn_store_change_row(void *ctx, const sn_sql_row *row);

/* A one-column row's integer into the uint64_t at ctx (a change number). */
int sn_store_read_seq(void *ctx, const sn_sql_row *row);
extern const sn_sql_map sn_store_state_map; /* the same, from column 0 */

/* The SQL a backend's begin runs to read max_number and those facts, in
 * one row, and the reader that sets them from it. */
#define SN_STORE_BEGIN_STATE_SQL                                                                   \
    "SELECT (SELECT coalesce(max(number), 0) FROM numbers), EXISTS (SELECT 1 FROM bindings), "     \
    "EXISTS (SELECT 1 FROM apps WHERE sub_cancel = 1 OR sub_reissue = 1), EXISTS (SELECT 1 "       \
    "FROM notices WHERE outcome = 0 AND deadline > 0), EXISTS (SELECT 1 FROM events_more), "       \
    "EXISTS (SELECT 1 FROM ports)"
void sn_store_read_begin_state(const sn_sql_row *row, sn_store *s);

/* ---- the log's SQL both backends run (log.c) -------------------------------
 * events.id = number << SN_LOG_ORDINAL_BITS | ordinal: a number's history
 * is one key range in log order. The key holds the first
 * SN_LOG_KEYED_EVENTS ordinals; a number's later events (a history no real
 * number reaches, but a feed could) go to events_more(number, ordinal, ...),
 * which log.c reads and writes for every backend. */
#define SN_LOG_ORDINAL_BITS 13
#define SN_LOG_KEYED_EVENTS 8191 /* 2^13 - 1 */
#define SN_LOG_EVENT_COLUMNS "at, id, kind, carrier, event_id, id6_hash, flags"
static inline int64_t sn_log_event_key(sn_number n, uint32_t ordinal)
{
    return (int64_t)((n << SN_LOG_ORDINAL_BITS) | ordinal);
}
/* An event row of SN_LOG_EVENT_COLUMNS (column 1, its key, is the caller's)
 * into *e, for number n; the event id points into the row. */
void sn_log_read_event(const sn_sql_row *row, sn_number n, sn_log_event *e);
/* A number's state with one statement (the in-transaction shortcut above
 * taken first). */
int sn_log_sql_get_state(sn_store *s, sn_number n, sn_number_state *out, char *err, size_t errlen);
/* sn_store_find_event with one statement. */
int sn_log_sql_find_event(sn_store *s, const sn_log_event *e, int *found, char *err, size_t errlen);
/* Does a logged event (at, kind, event id or NULL) match e as a duplicate? */
int sn_log_same_event(const sn_log_event *e, int64_t at, int kind, const char *id, uint32_t len);

/* The backends: sqlite/ for a file, pg/ for a postgres:// URL. */
int sn_store_sqlite_open(const char *path, const sn_rules *rules, sn_store **out, char *err,
                         size_t errlen);
int sn_store_pg_open(const char *url, const sn_rules *rules, sn_store **out, char *err,
                     size_t errlen);

#endif
