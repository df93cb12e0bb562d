/*
 * store_sqlite.c - the embedded store: one SQLite file in WAL mode.
 *
 * Schema (version 1):
 *   meta(key, value)         the jurisdiction rules the store was created with
 *   carriers(id, name)       reporting carriers
 *   events(id, at, kind, carrier, event_id, id6_hash)
 *                            the append-only log; id = number << 13 | ordinal,
 *                            ordinal being the event's position in its
 *                            number's history (1, 2, ...), so the log is
 *                            clustered by number in application order and a
 *                            number's history is one rowid range
 *   numbers(number, ...)     the current sn_number_state per number
 *   api_keys(id, ...)        API keys: name, role, carrier, hash, revoked
 *   ranges(carrier, prefix)  the number ranges each carrier owns
 * Both data tables are rowid tables keyed by those integers: one B-tree per
 * table, and a batch sorted by number appends at the right edge, where SQLite
 * splits pages without moving cells (WITHOUT ROWID tables are index B-trees,
 * which rebalance on every split: measured 1.6x slower here for imports).
 *
 * Durability: journal_mode=WAL with synchronous=FULL, so a commit that
 * returned has been fsynced to the WAL (survives kill -9 and power loss).
 * Writers take the lock at BEGIN IMMEDIATE, so a transaction never fails
 * half-way for lack of a lock; busy_timeout waits for another writer.
 * Thread-safety: a handle belongs to one thread at a time.
 */
#include "store/backend.h"

#include "core/errors.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 10000
#define CACHE_KIB 131072

enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_GET_STATE,
    Q_PUT_STATE,
    Q_FIND_EVENT,
    Q_APPEND_EVENT,
    Q_CARRIER_GET,
    Q_CARRIER_ADD,
    Q_SCAN_STATES,
    Q_SCAN_EVENTS,
    Q_MAX_NUMBER,
    Q_COUNT
};

static const char *const query_text[Q_COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_GET_STATE] = "SELECT status, first_is_activation, tenure, carrier, events, first_day, "
                    "last_activation_day, last_cancel_day, last_at FROM numbers WHERE number = ?1",
    [Q_PUT_STATE] = "INSERT OR REPLACE INTO numbers(number, status, first_is_activation, tenure, "
                    "carrier, events, first_day, last_activation_day, last_cancel_day, last_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [Q_FIND_EVENT] = "SELECT event_id FROM events WHERE id BETWEEN ?1 AND ?2 AND at = ?3 "
                     "AND kind = ?4",
    [Q_APPEND_EVENT] = "INSERT INTO events(id, at, kind, carrier, event_id, id6_hash) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_CARRIER_GET] = "SELECT id FROM carriers WHERE name = ?1",
    [Q_CARRIER_ADD] = "INSERT INTO carriers(name) VALUES (?1)",
    [Q_SCAN_STATES] = "SELECT number, status, first_is_activation, tenure, carrier, events, "
                      "first_day, last_activation_day, last_cancel_day, last_at FROM numbers "
                      "ORDER BY number",
    [Q_MAX_NUMBER] = "SELECT max(number) FROM numbers",
    [Q_SCAN_EVENTS] = "SELECT at, id, kind, carrier, event_id, id6_hash FROM events "
                      "WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
};

static const char schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE carriers(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind INTEGER NOT NULL,"
    " carrier INTEGER NOT NULL, event_id TEXT, id6_hash BLOB);"
    "CREATE TABLE numbers(number INTEGER PRIMARY KEY, status INTEGER NOT NULL,"
    " first_is_activation INTEGER NOT NULL, tenure INTEGER NOT NULL, carrier INTEGER NOT NULL,"
    " events INTEGER NOT NULL, first_day INTEGER NOT NULL, last_activation_day INTEGER NOT NULL,"
    " last_cancel_day INTEGER NOT NULL, last_at INTEGER NOT NULL);"
    "CREATE TABLE api_keys(id INTEGER PRIMARY KEY, name TEXT NOT NULL, role INTEGER NOT NULL,"
    " carrier INTEGER NOT NULL, hash BLOB NOT NULL UNIQUE, revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE ranges(carrier INTEGER NOT NULL, prefix TEXT NOT NULL,"
    " PRIMARY KEY(carrier, prefix)) WITHOUT ROWID;";

#define ORDINAL_BITS 13 /* SN_MAX_EVENTS_PER_NUMBER = 2^13 - 1 */

static sqlite3_int64 event_key(sn_number n, uint32_t ordinal)
{
    return (sqlite3_int64)((n << ORDINAL_BITS) | ordinal);
}

typedef struct {
    struct sn_store base;
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    int in_tx;
    /* Inside a write transaction: no number above this has a state row, so
     * get_state can answer UNSEEN without a lookup (read after BEGIN
     * IMMEDIATE, when no other writer can add rows; raised by put_state). */
    sn_number max_number;
} sqlite_store;

static sqlite_store *to_sqlite(sn_store *s)
{
    return (sqlite_store *)s;
}

static int db_fail(sqlite_store *s, char *err, size_t errlen, const char *what)
{
    return sn_fail(err, errlen, SN_ESTORE, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* Run a statement that returns no rows, then reset it. Callers bind every
 * parameter each time (NULLs included), so bindings are not cleared. */
static int step_done(sqlite_store *s, sqlite3_stmt *q, char *err, size_t errlen, const char *what)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? SN_OK : db_fail(s, err, errlen, what);
}

static int exec_sql(sqlite_store *s, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return SN_OK;
    sn_fail(err, errlen, SN_ESTORE, "%s", msg != NULL ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return SN_ESTORE;
}

static int meta_put(sqlite_store *s, const char *key, long value, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL;
    int rc;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO meta(key, value) VALUES (?1, ?2)", -1, &q, NULL) !=
        SQLITE_OK)
        return db_fail(s, err, errlen, "meta");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, value);
    rc = sqlite3_step(q) == SQLITE_DONE ? SN_OK : db_fail(s, err, errlen, "meta");
    sqlite3_finalize(q);
    return rc;
}

static int meta_get(sqlite_store *s, const char *key, long *value, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL;
    int rc;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1", -1, &q, NULL) !=
        SQLITE_OK)
        return db_fail(s, err, errlen, "meta");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) {
        *value = (long)sqlite3_column_int64(q, 0);
        rc = SN_OK;
    } else {
        rc = sn_fail(err, errlen, SN_ESTORE, "store has no '%s' setting: not a secondnum database?",
                     key);
    }
    sqlite3_finalize(q);
    return rc;
}

static int create_schema(sqlite_store *s, const sn_rules *r, char *err, size_t errlen)
{
    int rc;
    if ((rc = exec_sql(s, "BEGIN IMMEDIATE", err, errlen)) != SN_OK)
        return rc;
    if ((rc = exec_sql(s, schema_sql, err, errlen)) != SN_OK ||
        (rc = meta_put(s, "schema_version", SCHEMA_VERSION, err, errlen)) != SN_OK ||
        (rc = meta_put(s, "country_code", (long)r->default_cc, err, errlen)) != SN_OK ||
        (rc = meta_put(s, "min_aging_days", (long)r->min_aging_days, err, errlen)) != SN_OK ||
        (rc = meta_put(s, "tz_minutes", r->tz_minutes, err, errlen)) != SN_OK) {
        exec_sql(s, "ROLLBACK", NULL, 0);
        return rc;
    }
    return exec_sql(s, "COMMIT", err, errlen);
}

static int load_rules(sqlite_store *s, char *err, size_t errlen)
{
    long version, cc, aging, tz;
    int rc;
    if ((rc = meta_get(s, "schema_version", &version, err, errlen)) != SN_OK)
        return rc;
    if (version != SCHEMA_VERSION)
        return sn_fail(err, errlen, SN_ESTORE, "store schema version %ld, this build reads %d",
                       version, SCHEMA_VERSION);
    if ((rc = meta_get(s, "country_code", &cc, err, errlen)) != SN_OK ||
        (rc = meta_get(s, "min_aging_days", &aging, err, errlen)) != SN_OK ||
        (rc = meta_get(s, "tz_minutes", &tz, err, errlen)) != SN_OK)
        return rc;
    s->base.rules.default_cc = (unsigned)cc;
    s->base.rules.min_aging_days = (unsigned)aging;
    s->base.rules.tz_minutes = (int)tz;
    return SN_OK;
}

static int has_schema(sqlite_store *s, int *yes, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE name = 'meta'", -1, &q,
                           NULL) != SQLITE_OK)
        return db_fail(s, err, errlen, "cannot read the database");
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(s, err, errlen, "cannot read the database");
    *yes = rc == SQLITE_ROW;
    return SN_OK;
}

static void sqlite_close(sn_store *base)
{
    sqlite_store *s = to_sqlite(base);
    if (s->in_tx)
        sqlite3_step(s->q[Q_ROLLBACK]);
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->q[i]);
    sqlite3_close(s->db);
    free(s);
}

static int sqlite_begin(sn_store *base, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = s->q[Q_MAX_NUMBER];
    int rc = step_done(s, s->q[Q_BEGIN], err, errlen, "begin");
    if (rc != SN_OK)
        return rc;
    s->in_tx = 1;
    rc = sqlite3_step(q);
    s->max_number = (sn_number)sqlite3_column_int64(q, 0); /* 0 for an empty table */
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return SN_OK;
    rc = db_fail(s, err, errlen, "begin");
    step_done(s, s->q[Q_ROLLBACK], NULL, 0, "rollback");
    s->in_tx = 0;
    return rc;
}

static int sqlite_commit(sn_store *base, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    int rc = step_done(s, s->q[Q_COMMIT], err, errlen, "commit");
    if (rc != SN_OK && sqlite3_get_autocommit(s->db) == 0)
        return rc; /* still in the transaction: the caller rolls back */
    s->in_tx = 0;
    return rc;
}

static void sqlite_rollback(sn_store *base)
{
    sqlite_store *s = to_sqlite(base);
    if (s->in_tx && sqlite3_get_autocommit(s->db) == 0)
        step_done(s, s->q[Q_ROLLBACK], NULL, 0, "rollback");
    s->in_tx = 0;
}

/* Columns status.. last_at start at column `c` of q. */
static void read_state(sqlite3_stmt *q, int c, sn_number n, sn_number_state *st)
{
    sn_state_init(st, n);
    st->status = (uint8_t)sqlite3_column_int(q, c);
    st->first_is_activation = (uint8_t)sqlite3_column_int(q, c + 1);
    st->tenure = (uint32_t)sqlite3_column_int64(q, c + 2);
    st->carrier = (uint32_t)sqlite3_column_int64(q, c + 3);
    st->events = (uint32_t)sqlite3_column_int64(q, c + 4);
    st->first_day = (sn_day)sqlite3_column_int64(q, c + 5);
    st->last_activation_day = (sn_day)sqlite3_column_int64(q, c + 6);
    st->last_cancel_day = (sn_day)sqlite3_column_int64(q, c + 7);
    st->last_at = sqlite3_column_int64(q, c + 8);
}

static int sqlite_get_state(sn_store *base, sn_number n, sn_number_state *out, char *err,
                            size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = s->q[Q_GET_STATE];
    int rc;
    if (s->in_tx && n > s->max_number) {
        sn_state_init(out, n);
        return SN_OK;
    }
    sqlite3_bind_int64(q, 1, (sqlite3_int64)n);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        read_state(q, 0, n, out);
    else
        sn_state_init(out, n);
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(s, err, errlen, "read state");
    return SN_OK;
}

static int sqlite_put_state(sn_store *base, const sn_number_state *st, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = s->q[Q_PUT_STATE];
    sqlite3_bind_int64(q, 1, (sqlite3_int64)st->number);
    sqlite3_bind_int(q, 2, st->status);
    sqlite3_bind_int(q, 3, st->first_is_activation);
    sqlite3_bind_int64(q, 4, st->tenure);
    sqlite3_bind_int64(q, 5, st->carrier);
    sqlite3_bind_int64(q, 6, st->events);
    sqlite3_bind_int64(q, 7, st->first_day);
    sqlite3_bind_int64(q, 8, st->last_activation_day);
    sqlite3_bind_int64(q, 9, st->last_cancel_day);
    sqlite3_bind_int64(q, 10, st->last_at);
    if (st->number > s->max_number)
        s->max_number = st->number;
    return step_done(s, q, err, errlen, "write state");
}

static int sqlite_find_event(sn_store *base, const sn_log_event *e, int *found, char *err,
                             size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = s->q[Q_FIND_EVENT];
    int rc;
    *found = 0;
    sqlite3_bind_int64(q, 1, event_key(e->ev.number, 0));
    sqlite3_bind_int64(q, 2, event_key(e->ev.number, SN_MAX_EVENTS_PER_NUMBER));
    sqlite3_bind_int64(q, 3, e->ev.at);
    sqlite3_bind_int(q, 4, e->ev.kind);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0);
        int idlen = sqlite3_column_bytes(q, 0);
        if (e->event_id == NULL || id == NULL ||
            ((uint32_t)idlen == e->event_id_len && memcmp(id, e->event_id, (size_t)idlen) == 0)) {
            *found = 1;
            break;
        }
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(s, err, errlen, "find event");
    return SN_OK;
}

static int sqlite_append_event(sn_store *base, const sn_log_event *e, uint32_t ordinal, char *err,
                               size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = s->q[Q_APPEND_EVENT];
    if (ordinal == 0 || ordinal > SN_MAX_EVENTS_PER_NUMBER)
        return sn_fail(err, errlen, SN_ELIMIT, "event ordinal %u out of range", ordinal);
    sqlite3_bind_int64(q, 1, event_key(e->ev.number, ordinal));
    sqlite3_bind_int64(q, 2, e->ev.at);
    sqlite3_bind_int(q, 3, e->ev.kind);
    sqlite3_bind_int64(q, 4, e->ev.carrier);
    if (e->event_id != NULL)
        sqlite3_bind_text(q, 5, e->event_id, (int)e->event_id_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 5);
    if (e->has_id6)
        sqlite3_bind_blob(q, 6, e->id6_hash, SN_ID6_HASH_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 6);
    return step_done(s, q, err, errlen, "append event");
}

static int sqlite_carrier_id(sn_store *base, const char *name, int create, uint32_t *id,
                             char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = s->q[Q_CARRIER_GET];
    int rc;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *id = (uint32_t)sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return SN_OK;
    if (rc != SQLITE_DONE)
        return db_fail(s, err, errlen, "read carrier");
    if (!create)
        return sn_fail(err, errlen, SN_ENOTFOUND, "no carrier named '%s'", name);
    q = s->q[Q_CARRIER_ADD];
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    if ((rc = step_done(s, q, err, errlen, "add carrier")) != SN_OK)
        return rc;
    *id = (uint32_t)sqlite3_last_insert_rowid(s->db);
    return SN_OK;
}

static int sqlite_scan_states(sn_store *base, int (*fn)(void *, const sn_number_state *),
                              void *ctx, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = s->q[Q_SCAN_STATES];
    sn_number_state st;
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        read_state(q, 1, (sn_number)sqlite3_column_int64(q, 0), &st);
        stop = fn(ctx, &st);
    }
    sqlite3_reset(q);
    if (stop)
        return stop;
    return rc == SQLITE_DONE ? SN_OK : db_fail(s, err, errlen, "scan states");
}

static int sqlite_scan_events(sn_store *base, sn_number n,
                              int (*fn)(void *, const sn_log_event *, uint32_t), void *ctx,
                              char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = s->q[Q_SCAN_EVENTS];
    sn_log_event e;
    int rc, stop = 0;
    sqlite3_bind_int64(q, 1, event_key(n, 0));
    sqlite3_bind_int64(q, 2, event_key(n, SN_MAX_EVENTS_PER_NUMBER));
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        memset(&e, 0, sizeof(e));
        e.ev.number = n;
        e.ev.at = sqlite3_column_int64(q, 0);
        e.ev.kind = (uint8_t)sqlite3_column_int(q, 2);
        e.ev.carrier = (uint32_t)sqlite3_column_int64(q, 3);
        e.event_id = (const char *)sqlite3_column_text(q, 4);
        e.event_id_len = (uint32_t)sqlite3_column_bytes(q, 4);
        if (sqlite3_column_bytes(q, 5) == SN_ID6_HASH_LEN) {
            e.has_id6 = 1;
            memcpy(e.id6_hash, sqlite3_column_blob(q, 5), SN_ID6_HASH_LEN);
        }
        uint32_t ordinal = (uint32_t)sqlite3_column_int64(q, 1) & SN_MAX_EVENTS_PER_NUMBER;
        stop = fn(ctx, &e, ordinal);
    }
    sqlite3_reset(q);
    if (stop)
        return stop;
    return rc == SQLITE_DONE ? SN_OK : db_fail(s, err, errlen, "scan events");
}

static int sqlite_integrity(sn_store *base, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = NULL;
    int rc;
    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check(1)", -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, errlen, "integrity check");
    if (sqlite3_step(q) != SQLITE_ROW)
        rc = db_fail(s, err, errlen, "integrity check");
    else if (strcmp((const char *)sqlite3_column_text(q, 0), "ok") != 0)
        rc = sn_fail(err, errlen, SN_ESTORE, "integrity check: %s", sqlite3_column_text(q, 0));
    else
        rc = SN_OK;
    sqlite3_finalize(q);
    return rc;
}

/* Run a one-off statement: prepare, bind via fn, step to the end, finalize. */
static int run_once(sqlite_store *s, const char *sql, void (*bind)(sqlite3_stmt *, const void *),
                    const void *arg, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL;
    int rc;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, errlen, "prepare");
    bind(q, arg);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? SN_OK : db_fail(s, err, errlen, "write");
}

static void bind_key(sqlite3_stmt *q, const void *arg)
{
    const sn_api_key *k = arg;
    sqlite3_bind_text(q, 1, k->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, k->role);
    sqlite3_bind_int64(q, 3, k->carrier);
    sqlite3_bind_blob(q, 4, k->hash, SN_KEY_HASH_LEN, SQLITE_STATIC);
}

static int sqlite_add_key(sn_store *base, const sn_api_key *k, uint32_t *id, char *err,
                          size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    int rc = run_once(s, "INSERT INTO api_keys(name, role, carrier, hash) VALUES (?1, ?2, ?3, ?4)",
                      bind_key, k, err, errlen);
    if (rc == SN_OK)
        *id = (uint32_t)sqlite3_last_insert_rowid(s->db);
    return rc;
}

static int sqlite_list_keys(sn_store *base, int (*fn)(void *, const sn_api_key *), void *ctx,
                            char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = NULL;
    int rc, stop = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, name, role, carrier, hash, revoked FROM api_keys ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, errlen, "list keys");
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        sn_api_key k;
        memset(&k, 0, sizeof(k));
        k.id = (uint32_t)sqlite3_column_int64(q, 0);
        snprintf(k.name, sizeof(k.name), "%s", (const char *)sqlite3_column_text(q, 1));
        k.role = (uint8_t)sqlite3_column_int(q, 2);
        k.carrier = (uint32_t)sqlite3_column_int64(q, 3);
        if (sqlite3_column_bytes(q, 4) == SN_KEY_HASH_LEN)
            memcpy(k.hash, sqlite3_column_blob(q, 4), SN_KEY_HASH_LEN);
        k.revoked = (uint8_t)sqlite3_column_int(q, 5);
        stop = fn(ctx, &k);
    }
    sqlite3_finalize(q);
    if (stop)
        return stop;
    return rc == SQLITE_DONE ? SN_OK : sn_fail(err, errlen, SN_ESTORE, "list keys failed");
}

static void bind_id(sqlite3_stmt *q, const void *arg)
{
    sqlite3_bind_int64(q, 1, *(const uint32_t *)arg);
}

static int sqlite_revoke_key(sn_store *base, uint32_t id, int *found, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    int rc = run_once(s, "UPDATE api_keys SET revoked = 1 WHERE id = ?1", bind_id, &id, err,
                      errlen);
    *found = rc == SN_OK && sqlite3_changes(s->db) > 0;
    return rc;
}

typedef struct {
    uint32_t carrier;
    const char *prefix;
} range_arg;

static void bind_range(sqlite3_stmt *q, const void *arg)
{
    const range_arg *r = arg;
    sqlite3_bind_int64(q, 1, r->carrier);
    sqlite3_bind_text(q, 2, r->prefix, -1, SQLITE_STATIC);
}

static int sqlite_add_range(sn_store *base, uint32_t carrier, const char *prefix, char *err,
                            size_t errlen)
{
    range_arg r = {carrier, prefix};
    return run_once(to_sqlite(base), "INSERT OR IGNORE INTO ranges(carrier, prefix) VALUES (?1, ?2)",
                    bind_range, &r, err, errlen);
}

static int sqlite_list_ranges(sn_store *base,
                              int (*fn)(void *, uint32_t, const char *, const char *), void *ctx,
                              char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = NULL;
    int rc, stop = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT c.id, c.name, r.prefix FROM carriers c LEFT JOIN ranges r "
                           "ON r.carrier = c.id ORDER BY c.id, r.prefix",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, errlen, "list ranges");
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW)
        stop = fn(ctx, (uint32_t)sqlite3_column_int64(q, 0),
                  (const char *)sqlite3_column_text(q, 1), (const char *)sqlite3_column_text(q, 2));
    sqlite3_finalize(q);
    if (stop)
        return stop;
    return rc == SQLITE_DONE ? SN_OK : sn_fail(err, errlen, SN_ESTORE, "list ranges failed");
}

static const sn_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .get_state = sqlite_get_state,
    .put_state = sqlite_put_state,
    .find_event = sqlite_find_event,
    .append_event = sqlite_append_event,
    .carrier_id = sqlite_carrier_id,
    .scan_states = sqlite_scan_states,
    .scan_events = sqlite_scan_events,
    .integrity = sqlite_integrity,
    .add_key = sqlite_add_key,
    .list_keys = sqlite_list_keys,
    .revoke_key = sqlite_revoke_key,
    .add_range = sqlite_add_range,
    .list_ranges = sqlite_list_ranges,
};

static int configure(sqlite_store *s, char *err, size_t errlen)
{
    char sql[128];
    int rc;
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d; PRAGMA temp_store = MEMORY;", CACHE_KIB);
    if ((rc = exec_sql(s, sql, err, errlen)) != SN_OK)
        return rc;
    if ((rc = exec_sql(s, "PRAGMA journal_mode = WAL", err, errlen)) != SN_OK)
        return rc;
    return exec_sql(s, "PRAGMA synchronous = FULL", err, errlen);
}

int sn_store_sqlite_open(const char *path, const sn_rules *rules, sn_store **out, char *err,
                         size_t errlen)
{
    sqlite_store *s = calloc(1, sizeof(*s));
    int rc, exists = 0;
    static const sn_rules defaults = {SN_DEFAULT_CC, SN_DEFAULT_MIN_AGING_DAYS,
                                      SN_DEFAULT_TZ_MINUTES};
    if (s == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    s->base.ops = &sqlite_ops;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = sn_fail(err, errlen, SN_ESTORE, "cannot open %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    if ((rc = configure(s, err, errlen)) != SN_OK || (rc = has_schema(s, &exists, err, errlen)) != SN_OK)
        goto fail;
    if (!exists) {
        if ((rc = create_schema(s, rules != NULL ? rules : &defaults, err, errlen)) != SN_OK)
            goto fail;
        s->base.created = 1;
    }
    if ((rc = load_rules(s, err, errlen)) != SN_OK)
        goto fail;
    for (int i = 0; i < Q_COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, query_text[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i],
                               NULL) != SQLITE_OK) {
            rc = db_fail(s, err, errlen, "prepare");
            goto fail;
        }
    }
    *out = &s->base;
    return SN_OK;
fail:
    if (rc == SN_ESTORE && err != NULL && strstr(err, "not a database") != NULL)
        sn_fail(err, errlen, SN_ESTORE, "%s is not a SQLite database", path);
    sqlite_close(&s->base);
    return rc;
}
