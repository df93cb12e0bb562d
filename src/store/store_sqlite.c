/*
 * store_sqlite.c - the embedded store: one SQLite file in WAL mode.
 *
 * Schema (version 3; versions 1 and 2 are migrated at open):
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
 *   apps(id, name, webhook, subscription)    tenants, named by their app keys
 *   bindings(number, app, account, ...)      accounts as keyed hashes, with the
 *                            tenure they were made in; keyed by number first,
 *                            so an event finds its number's bindings in one range
 *   notices(id, app, number, kind, ...)      issued in the ledger's transaction;
 *                            id order is issue order (the pull feed's cursor)
 *   deliveries(notice, state, next_at, ...)  one per notice of an app with a
 *                            webhook: the durable retry queue
 * Version 3 (subscribers, docs/internals/subscribers.md):
 *   sms(id, number, state, body, ...)        text messages: the outbox driver
 *                            keeps them, a gateway's are erased once sent
 *   otp(number, code_hash, ...)              each number's one live sign-in
 *                            code, as a keyed hash, with its attempts and lockout
 *   rate_limits(bucket, win_start, hits)     fixed-window counters
 *   sessions(token_hash, number, tenure, ...) subscriber sessions (hashed tokens)
 *   requests(id, number, tenure, app, scope) unbind requests; their notices
 *                            carry notices.request
 *   complaints(id, number, app, ...)         with the period each level has
 *   apps.display_name        what subscribers see
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

#define SCHEMA_VERSION 3
#define BUSY_TIMEOUT_MS 10000
#define CACHE_KIB 131072

enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_GET_STATE,
    Q_GET_STATE_RANGE,
    Q_PUT_STATE,
    Q_FIND_EVENT,
    Q_APPEND_EVENT,
    Q_CARRIER_GET,
    Q_CARRIER_ADD,
    Q_SCAN_STATES,
    Q_SCAN_EVENTS,
    Q_MAX_NUMBER,
    Q_NOTICE_FLAGS,
    Q_COUNT
};

/* Statements of the notice tables, prepared on first use. */
enum {
    X_APP_GET,
    X_APP_ADD,
    X_APP_READ,
    X_APP_WEBHOOK,
    X_APP_SUBSCRIBE,
    X_BIND_PUT,
    X_BIND_DELETE,
    X_BIND_LIST,
    X_ISSUE_CANCELLED,
    X_ISSUE_REASSIGNED,
    X_ISSUE_SUBSCRIBED,
    X_ISSUE_DELIVERIES,
    X_MAX_NOTICE,
    X_OPEN_CANCELLATIONS,
    X_NOTICE_GET,
    X_NOTICE_ACK,
    X_DUE,
    X_DUE_LATER,
    X_DELIVERY_PUT,
    X_DELIVERY_COUNTS,
    X_NEXT_DELIVERY,
    X_DISCONNECTIONS,
    X_SMS_ADD,
    X_SMS_LIST,
    X_SMS_DUE,
    X_SMS_UPDATE,
    X_OTP_GET,
    X_OTP_PUT,
    X_OTP_DELETE,
    X_RATE_HIT,
    X_SESSION_PUT,
    X_SESSION_GET,
    X_SESSION_DELETE,
    X_NUMBER_BINDINGS,
    X_APP_DISPLAY_SET,
    X_APP_DISPLAY_GET,
    X_REQUEST_ADD,
    X_REQUEST_NOTICES,
    X_REQUEST_LIST,
    X_COMPLAINT_ADD,
    X_COMPLAINT_GET,
    X_COMPLAINT_RESOLVE,
    X_COUNT
};

static const char *const query_text[Q_COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_GET_STATE] = "SELECT status, first_is_activation, tenure, carrier, events, first_day, "
                    "last_activation_day, last_cancel_day, last_at FROM numbers WHERE number = ?1",
    [Q_GET_STATE_RANGE] = "SELECT number, status, first_is_activation, tenure, carrier, events, "
                          "first_day, last_activation_day, last_cancel_day, last_at FROM numbers "
                          "WHERE number BETWEEN ?1 AND ?2 ORDER BY number",
    [Q_PUT_STATE] = "INSERT OR REPLACE INTO numbers(number, status, first_is_activation, tenure, "
                    "carrier, events, first_day, last_activation_day, last_cancel_day, last_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [Q_FIND_EVENT] = "SELECT event_id FROM events WHERE id BETWEEN ?1 AND ?2 AND at = ?3 "
                     "AND kind = ?4",
    [Q_APPEND_EVENT] = "INSERT INTO events(id, at, kind, carrier, event_id, id6_hash, flags) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_CARRIER_GET] = "SELECT id FROM carriers WHERE name = ?1",
    [Q_CARRIER_ADD] = "INSERT INTO carriers(name) VALUES (?1)",
    [Q_SCAN_STATES] = "SELECT number, status, first_is_activation, tenure, carrier, events, "
                      "first_day, last_activation_day, last_cancel_day, last_at FROM numbers "
                      "ORDER BY number",
    [Q_MAX_NUMBER] = "SELECT max(number) FROM numbers",
    [Q_NOTICE_FLAGS] = "SELECT EXISTS (SELECT 1 FROM bindings), EXISTS (SELECT 1 FROM apps WHERE "
                       "sub_cancel = 1 OR sub_reissue = 1), EXISTS (SELECT 1 FROM notices WHERE "
                       "outcome = 0 AND deadline > 0)",
    [Q_SCAN_EVENTS] = "SELECT at, id, kind, carrier, event_id, id6_hash, flags FROM events "
                      "WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
};

static const char schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE carriers(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind INTEGER NOT NULL,"
    " carrier INTEGER NOT NULL, event_id TEXT, id6_hash BLOB, flags INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE numbers(number INTEGER PRIMARY KEY, status INTEGER NOT NULL,"
    " first_is_activation INTEGER NOT NULL, tenure INTEGER NOT NULL, carrier INTEGER NOT NULL,"
    " events INTEGER NOT NULL, first_day INTEGER NOT NULL, last_activation_day INTEGER NOT NULL,"
    " last_cancel_day INTEGER NOT NULL, last_at INTEGER NOT NULL);"
    "CREATE TABLE api_keys(id INTEGER PRIMARY KEY, name TEXT NOT NULL, role INTEGER NOT NULL,"
    " carrier INTEGER NOT NULL, hash BLOB NOT NULL UNIQUE, revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE ranges(carrier INTEGER NOT NULL, prefix TEXT NOT NULL,"
    " PRIMARY KEY(carrier, prefix)) WITHOUT ROWID;";

/* Version 2: apps, bindings, notices, deliveries; events.flags (in
 * schema_sql for new stores, added by migrate_1_to_2 for old ones). */
static const char schema_v2_sql[] =
    "CREATE TABLE apps(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, webhook_url TEXT,"
    " webhook_secret TEXT, sub_cancel INTEGER NOT NULL DEFAULT 0,"
    " sub_reissue INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE bindings(number INTEGER NOT NULL, app INTEGER NOT NULL, account BLOB NOT NULL,"
    " bound_at INTEGER NOT NULL, tenure INTEGER NOT NULL, PRIMARY KEY(number, app, account))"
    " WITHOUT ROWID;"
    "CREATE INDEX bindings_app ON bindings(app, number);"
    "CREATE TABLE notices(id INTEGER PRIMARY KEY, app INTEGER NOT NULL, number INTEGER NOT NULL,"
    " kind INTEGER NOT NULL, source INTEGER NOT NULL, event INTEGER NOT NULL,"
    " event_at INTEGER NOT NULL, tenure INTEGER NOT NULL, account BLOB,"
    " created INTEGER NOT NULL, deadline INTEGER NOT NULL, outcome INTEGER NOT NULL DEFAULT 0,"
    " note TEXT, acked_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX notices_app ON notices(app, id);"
    "CREATE INDEX notices_open ON notices(number, deadline) WHERE outcome = 0;"
    "CREATE INDEX notices_due ON notices(deadline) WHERE outcome = 0 AND deadline > 0;"
    "CREATE TABLE deliveries(notice INTEGER PRIMARY KEY, app INTEGER NOT NULL,"
    " number INTEGER NOT NULL, state INTEGER NOT NULL, attempts INTEGER NOT NULL,"
    " first_at INTEGER NOT NULL, next_at INTEGER NOT NULL, last_error TEXT);"
    "CREATE INDEX deliveries_due ON deliveries(next_at, notice) WHERE state = 0;"
    "CREATE INDEX deliveries_order ON deliveries(app, number, notice) WHERE state = 0;"
    "CREATE INDEX deliveries_app ON deliveries(app, state, notice);";

/* Version 3: subscribers (in create_schema for new stores, migrate_2_to_3
 * for old ones; both run it after the version 2 tables exist). */
static const char schema_v3_sql[] =
    "ALTER TABLE notices ADD COLUMN request INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE apps ADD COLUMN display_name TEXT;"
    "CREATE INDEX notices_request ON notices(request) WHERE request > 0;"
    "CREATE TABLE sms(id INTEGER PRIMARY KEY, number INTEGER NOT NULL, purpose INTEGER NOT NULL,"
    " state INTEGER NOT NULL, lang TEXT NOT NULL, body TEXT, created INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0,"
    " sent_at INTEGER NOT NULL DEFAULT 0, error TEXT);"
    "CREATE INDEX sms_due ON sms(next_at, id) WHERE state = 0;"
    "CREATE INDEX sms_number ON sms(number, id);"
    "CREATE TABLE otp(number INTEGER PRIMARY KEY, code_hash BLOB NOT NULL,"
    " created INTEGER NOT NULL, expires INTEGER NOT NULL, attempts INTEGER NOT NULL,"
    " locked_until INTEGER NOT NULL, lang TEXT NOT NULL);"
    "CREATE TABLE rate_limits(bucket TEXT PRIMARY KEY, win_start INTEGER NOT NULL,"
    " hits INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE sessions(token_hash BLOB PRIMARY KEY, number INTEGER NOT NULL,"
    " tenure INTEGER NOT NULL, cancel_day INTEGER NOT NULL, created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL, lang TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE requests(id INTEGER PRIMARY KEY, number INTEGER NOT NULL,"
    " tenure INTEGER NOT NULL, app INTEGER NOT NULL, scope INTEGER NOT NULL,"
    " created INTEGER NOT NULL, deadline INTEGER NOT NULL);"
    "CREATE INDEX requests_number ON requests(number, tenure, id);"
    "CREATE TABLE complaints(id INTEGER PRIMARY KEY, number INTEGER NOT NULL,"
    " tenure INTEGER NOT NULL, app INTEGER NOT NULL, carrier INTEGER NOT NULL,"
    " kind INTEGER NOT NULL, body TEXT NOT NULL, created INTEGER NOT NULL,"
    " period INTEGER NOT NULL, resolved_at INTEGER NOT NULL DEFAULT 0,"
    " resolved_level INTEGER NOT NULL DEFAULT 0, resolution TEXT);"
    "CREATE INDEX complaints_number ON complaints(number, tenure, id);"
    "CREATE INDEX complaints_app ON complaints(app, id);";

#define ORDINAL_BITS 13 /* SN_MAX_EVENTS_PER_NUMBER = 2^13 - 1 */

static sqlite3_int64 event_key(sn_number n, uint32_t ordinal)
{
    return (sqlite3_int64)((n << ORDINAL_BITS) | ordinal);
}

typedef struct {
    struct sn_store base;
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    sqlite3_stmt *extra[X_COUNT];
    int in_tx;
    /* Inside a write transaction: no number above this has a state row, so
     * get_state can answer UNSEEN without a lookup (read after BEGIN
     * IMMEDIATE, when no other writer can add rows; raised by put_state). */
    sn_number max_number;
    /* Also read at BEGIN IMMEDIATE, kept up to date by this transaction's own
     * writes: does any binding, subscription or open notice exist? When not,
     * an event costs the notice machinery nothing (a bulk import before any
     * app joined runs at full speed). */
    int any_bindings, any_subscriptions, any_open_notices;
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
        (rc = exec_sql(s, schema_v2_sql, err, errlen)) != SN_OK ||
        (rc = exec_sql(s, schema_v3_sql, err, errlen)) != SN_OK ||
        (rc = meta_put(s, "schema_version", SCHEMA_VERSION, err, errlen)) != SN_OK ||
        (rc = meta_put(s, "country_code", (long)r->default_cc, err, errlen)) != SN_OK ||
        (rc = meta_put(s, "min_aging_days", (long)r->min_aging_days, err, errlen)) != SN_OK ||
        (rc = meta_put(s, "tz_minutes", r->tz_minutes, err, errlen)) != SN_OK) {
        exec_sql(s, "ROLLBACK", NULL, 0);
        return rc;
    }
    return exec_sql(s, "COMMIT", err, errlen);
}

/* Add what version 2 has to a version 1 store, in one transaction. */
static int migrate_1_to_2(sqlite_store *s, char *err, size_t errlen)
{
    int rc;
    if ((rc = exec_sql(s, "BEGIN IMMEDIATE", err, errlen)) != SN_OK)
        return rc;
    if ((rc = exec_sql(s, "ALTER TABLE events ADD COLUMN flags INTEGER NOT NULL DEFAULT 0",
                       err, errlen)) != SN_OK ||
        (rc = exec_sql(s, schema_v2_sql, err, errlen)) != SN_OK ||
        (rc = exec_sql(s, "UPDATE meta SET value = '2' WHERE key = 'schema_version'", err,
                       errlen)) != SN_OK) {
        exec_sql(s, "ROLLBACK", NULL, 0);
        return rc;
    }
    return exec_sql(s, "COMMIT", err, errlen);
}

/* Add what version 3 has to a version 2 store, in one transaction. */
static int migrate_2_to_3(sqlite_store *s, char *err, size_t errlen)
{
    int rc;
    if ((rc = exec_sql(s, "BEGIN IMMEDIATE", err, errlen)) != SN_OK)
        return rc;
    if ((rc = exec_sql(s, schema_v3_sql, err, errlen)) != SN_OK ||
        (rc = exec_sql(s, "UPDATE meta SET value = '3' WHERE key = 'schema_version'", err,
                       errlen)) != SN_OK) {
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
    if (version == 1 && (rc = migrate_1_to_2(s, err, errlen)) == SN_OK)
        version = 2;
    else if (version == 1)
        return rc;
    if (version == 2 && (rc = migrate_2_to_3(s, err, errlen)) == SN_OK)
        version = 3;
    else if (version == 2)
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
    for (int i = 0; i < X_COUNT; i++)
        sqlite3_finalize(s->extra[i]);
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
    if (rc == SQLITE_ROW) {
        q = s->q[Q_NOTICE_FLAGS];
        rc = sqlite3_step(q);
        s->any_bindings = sqlite3_column_int(q, 0);
        s->any_subscriptions = sqlite3_column_int(q, 1);
        s->any_open_notices = sqlite3_column_int(q, 2);
        sqlite3_reset(q);
    }
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

/* Numbers this close (a batch of new activations in a block of numbers
 * usually is) are read with one range scan: one B-tree descent for the run
 * instead of one per number. A scan steps over the rows between them too,
 * so the gap is kept small. */
#define RANGE_READ_GAP 4

/* The states of numbers[0..n), ascending, all within RANGE_READ_GAP of
 * the previous one. */
static int read_state_range(sqlite_store *s, const sn_number *numbers, size_t n,
                            sn_number_state *out, char *err, size_t errlen)
{
    sqlite3_stmt *q = s->q[Q_GET_STATE_RANGE];
    size_t k = 0;
    int rc;
    for (size_t i = 0; i < n; i++)
        sn_state_init(&out[i], numbers[i]);
    sqlite3_bind_int64(q, 1, (sqlite3_int64)numbers[0]);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)numbers[n - 1]);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        sn_number got = (sn_number)sqlite3_column_int64(q, 0);
        while (k < n && numbers[k] < got)
            k++;
        if (k < n && numbers[k] == got)
            read_state(q, 1, got, &out[k]);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? SN_OK : db_fail(s, err, errlen, "read states");
}

static int sqlite_get_states(sn_store *base, const sn_number *numbers, size_t n,
                             sn_number_state *out, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    int rc = SN_OK;
    for (size_t i = 0, j; rc == SN_OK && i < n; i = j) {
        for (j = i + 1; j < n && numbers[j] - numbers[j - 1] <= RANGE_READ_GAP; j++)
            ;
        if (j - i == 1 || (s->in_tx && numbers[i] > s->max_number))
            for (size_t k = i; rc == SN_OK && k < j; k++)
                rc = sqlite_get_state(base, numbers[k], &out[k], err, errlen);
        else
            rc = read_state_range(s, numbers + i, j - i, out + i, err, errlen);
    }
    return rc;
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
    sqlite3_bind_int(q, 7, e->flags);
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
        e.flags = (uint8_t)sqlite3_column_int(q, 6);
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

/* ---- apps, bindings, notices, deliveries ------------------------------ */

/* Prepare sql (cached per handle: these statements run often enough to keep,
 * rarely enough not to prepare at open). */
static sqlite3_stmt *cached(sqlite_store *s, int slot, const char *sql, char *err, size_t errlen)
{
    if (s->extra[slot] == NULL &&
        sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->extra[slot], NULL) !=
            SQLITE_OK) {
        db_fail(s, err, errlen, "prepare");
        return NULL;
    }
    return s->extra[slot];
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *q, int col)
{
    const char *t = (const char *)sqlite3_column_text(q, col);
    snprintf(dst, cap, "%s", t != NULL ? t : "");
}

static int sqlite_app_id(sn_store *base, const char *name, int create, uint32_t *id, char *err,
                         size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_APP_GET, "SELECT id FROM apps WHERE name = ?1", err, errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *id = (uint32_t)sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return SN_OK;
    if (rc != SQLITE_DONE)
        return db_fail(s, err, errlen, "read app");
    if (!create)
        return sn_fail(err, errlen, SN_ENOTFOUND, "no app named '%s'", name);
    if ((q = cached(s, X_APP_ADD, "INSERT INTO apps(name) VALUES (?1)", err, errlen)) == NULL)
        return SN_ESTORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    if ((rc = step_done(s, q, err, errlen, "add app")) != SN_OK)
        return rc;
    *id = (uint32_t)sqlite3_last_insert_rowid(s->db);
    return SN_OK;
}

#define APP_COLUMNS "a.id, a.name, a.webhook_url, a.webhook_secret, a.sub_cancel, a.sub_reissue"

static void read_app(sqlite3_stmt *q, int c, sn_app *a)
{
    memset(a, 0, sizeof(*a));
    a->id = (uint32_t)sqlite3_column_int64(q, c);
    copy_text(a->name, sizeof(a->name), q, c + 1);
    copy_text(a->url, sizeof(a->url), q, c + 2);
    copy_text(a->secret, sizeof(a->secret), q, c + 3);
    a->sub_cancellations = (uint8_t)sqlite3_column_int(q, c + 4);
    a->sub_reissues = (uint8_t)sqlite3_column_int(q, c + 5);
}

static int sqlite_get_app(sn_store *base, uint32_t id, sn_app *out, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_APP_READ, "SELECT " APP_COLUMNS " FROM apps a WHERE a.id = ?1",
                             err, errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        read_app(q, 0, out);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return SN_OK;
    return rc == SQLITE_DONE ? sn_fail(err, errlen, SN_ENOTFOUND, "no app %u", id)
                             : db_fail(s, err, errlen, "read app");
}

static int sqlite_set_webhook(sn_store *base, uint32_t app, const char *url, const char *secret,
                              char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_APP_WEBHOOK,
                             "UPDATE apps SET webhook_url = ?2, webhook_secret = ?3 WHERE id = ?1",
                             err, errlen);
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, app);
    if (url != NULL) {
        sqlite3_bind_text(q, 2, url, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, secret, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(q, 2);
        sqlite3_bind_null(q, 3);
    }
    return step_done(s, q, err, errlen, "set webhook");
}

static int sqlite_set_subscription(sn_store *base, uint32_t app, int cancellations, int reissues,
                                   char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_APP_SUBSCRIBE,
                             "UPDATE apps SET sub_cancel = ?2, sub_reissue = ?3 WHERE id = ?1", err,
                             errlen);
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, app);
    sqlite3_bind_int(q, 2, cancellations != 0);
    sqlite3_bind_int(q, 3, reissues != 0);
    if (cancellations || reissues)
        s->any_subscriptions = 1;
    return step_done(s, q, err, errlen, "set subscription");
}

static int sqlite_put_binding(sn_store *base, const sn_binding *b, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_BIND_PUT,
                             "INSERT OR REPLACE INTO bindings(number, app, account, bound_at, "
                             "tenure) VALUES (?1, ?2, ?3, ?4, ?5)",
                             err, errlen);
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)b->number);
    sqlite3_bind_int64(q, 2, b->app);
    sqlite3_bind_blob(q, 3, b->account, SN_ACCOUNT_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, b->bound_at);
    sqlite3_bind_int64(q, 5, b->tenure);
    s->any_bindings = 1;
    return step_done(s, q, err, errlen, "write binding");
}

static int sqlite_delete_binding(sn_store *base, uint32_t app, sn_number n,
                                 const uint8_t account[SN_ACCOUNT_HASH_LEN], int *found, char *err,
                                 size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_BIND_DELETE,
                             "DELETE FROM bindings WHERE number = ?1 AND app = ?2 AND account = ?3",
                             err, errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)n);
    sqlite3_bind_int64(q, 2, app);
    sqlite3_bind_blob(q, 3, account, SN_ACCOUNT_HASH_LEN, SQLITE_STATIC);
    rc = step_done(s, q, err, errlen, "delete binding");
    *found = rc == SN_OK && sqlite3_changes(s->db) > 0;
    return rc;
}

static int sqlite_list_bindings(sn_store *base, uint32_t app, sn_number n,
                                int (*fn)(void *, const sn_binding *), void *ctx, char *err,
                                size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_BIND_LIST,
                             "SELECT account, bound_at, tenure FROM bindings WHERE number = ?1 "
                             "AND app = ?2 ORDER BY account",
                             err, errlen);
    int rc, stop = 0;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)n);
    sqlite3_bind_int64(q, 2, app);
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        sn_binding b = {.number = n, .app = app};
        if (sqlite3_column_bytes(q, 0) == SN_ACCOUNT_HASH_LEN)
            memcpy(b.account, sqlite3_column_blob(q, 0), SN_ACCOUNT_HASH_LEN);
        b.bound_at = sqlite3_column_int64(q, 1);
        b.tenure = (uint32_t)sqlite3_column_int64(q, 2);
        stop = fn(ctx, &b);
    }
    sqlite3_reset(q);
    if (stop)
        return stop;
    return rc == SQLITE_DONE ? SN_OK : db_fail(s, err, errlen, "list bindings");
}

/* Binding notices select bindings by tenure: the cancelled one, or below the new one. */
static const char issue_cancelled_sql[] =
    "INSERT INTO notices(app, number, kind, source, event, event_at, tenure, account, created, "
    "deadline) SELECT app, number, 1, 1, ?2, ?3, tenure, account, ?5, ?6 FROM bindings "
    "WHERE number = ?1 AND tenure = ?4 ORDER BY app, account";
static const char issue_reassigned_sql[] =
    "INSERT INTO notices(app, number, kind, source, event, event_at, tenure, account, created, "
    "deadline) SELECT app, number, 2, 1, ?2, ?3, tenure, account, ?5, ?6 FROM bindings "
    "WHERE number = ?1 AND tenure < ?4 ORDER BY app, account";
/* ?7 = kind; subscribed apps that got no binding notice for this event */
static const char issue_subscribed_sql[] =
    "INSERT INTO notices(app, number, kind, source, event, event_at, tenure, account, created, "
    "deadline) SELECT id, ?1, ?7, 2, ?2, ?3, ?4, NULL, ?5, 0 FROM apps "
    "WHERE (CASE ?7 WHEN 1 THEN sub_cancel ELSE sub_reissue END) = 1 AND id NOT IN "
    "(SELECT app FROM bindings WHERE number = ?1 AND "
    "(CASE ?7 WHEN 1 THEN tenure = ?4 ELSE tenure < ?4 END)) ORDER BY id";
static const char issue_deliveries_sql[] =
    "INSERT INTO deliveries(notice, app, number, state, attempts, first_at, next_at) "
    "SELECT n.id, n.app, n.number, 0, 0, 0, ?2 FROM notices n JOIN apps a ON a.id = n.app "
    "WHERE n.id > ?1 AND a.webhook_url IS NOT NULL";

static void bind_spec(sqlite3_stmt *q, const sn_notice_spec *spec)
{
    sqlite3_bind_int64(q, 1, (sqlite3_int64)spec->number);
    sqlite3_bind_int(q, 2, spec->event);
    sqlite3_bind_int64(q, 3, spec->event_at);
    sqlite3_bind_int64(q, 4, spec->tenure);
    sqlite3_bind_int64(q, 5, spec->created);
    sqlite3_bind_int64(q, 6, spec->deadline);
}

static int sqlite_issue_notices(sn_store *base, const sn_notice_spec *spec, size_t *issued,
                                char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    int cancelled = spec->kind == SN_NOTICE_CANCELLED;
    sqlite3_stmt *bq = cached(s, cancelled ? X_ISSUE_CANCELLED : X_ISSUE_REASSIGNED,
                              cancelled ? issue_cancelled_sql : issue_reassigned_sql, err, errlen);
    sqlite3_stmt *sq = cached(s, X_ISSUE_SUBSCRIBED, issue_subscribed_sql, err, errlen);
    sqlite3_stmt *dq = cached(s, X_ISSUE_DELIVERIES, issue_deliveries_sql, err, errlen);
    sqlite3_stmt *mq = cached(s, X_MAX_NOTICE, "SELECT coalesce(max(id), 0) FROM notices", err,
                              errlen);
    sqlite3_int64 last;
    int rc;
    *issued = 0;
    if (s->in_tx && !s->any_bindings && !s->any_subscriptions)
        return SN_OK;
    if (bq == NULL || sq == NULL || dq == NULL || mq == NULL)
        return SN_ESTORE;
    if (sqlite3_step(mq) != SQLITE_ROW) {
        sqlite3_reset(mq);
        return db_fail(s, err, errlen, "issue notices");
    }
    last = sqlite3_column_int64(mq, 0);
    sqlite3_reset(mq);
    bind_spec(bq, spec);
    if ((rc = step_done(s, bq, err, errlen, "issue notices")) != SN_OK)
        return rc;
    *issued += (size_t)sqlite3_changes(s->db);
    if (*issued > 0)
        s->any_open_notices = 1;
    if (s->in_tx && !s->any_subscriptions)
        goto deliveries;
    bind_spec(sq, spec);
    sqlite3_bind_int(sq, 7, spec->kind);
    if ((rc = step_done(s, sq, err, errlen, "issue notices")) != SN_OK)
        return rc;
    *issued += (size_t)sqlite3_changes(s->db);
deliveries:
    if (*issued == 0)
        return SN_OK;
    sqlite3_bind_int64(dq, 1, last);
    sqlite3_bind_int64(dq, 2, spec->now_ms);
    return step_done(s, dq, err, errlen, "queue deliveries");
}

static int sqlite_open_cancellations(sn_store *base, sn_number n, int64_t now, uint32_t *apps,
                                     int64_t *until, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_OPEN_CANCELLATIONS,
                             "SELECT count(DISTINCT app), coalesce(max(deadline), 0) FROM notices "
                             "WHERE number = ?1 AND kind = 1 AND source = 1 AND outcome = 0 AND "
                             "deadline > ?2",
                             err, errlen);
    int rc;
    if (s->in_tx && !s->any_open_notices) {
        *apps = 0;
        *until = 0;
        return SN_OK;
    }
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)n);
    sqlite3_bind_int64(q, 2, now);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *apps = (uint32_t)sqlite3_column_int64(q, 0);
        *until = sqlite3_column_int64(q, 1);
    }
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? SN_OK : db_fail(s, err, errlen, "read open notices");
}

#define NOTICE_COLUMNS                                                                         \
    "n.id, n.app, n.number, n.kind, n.source, n.event, n.outcome, n.account, n.tenure, "       \
    "n.event_at, n.created, n.deadline, n.acked_at, n.note, a.name"
#define NOTICE_NCOLUMNS 15

static void read_notice(sqlite3_stmt *q, int c, sn_notice *n)
{
    memset(n, 0, sizeof(*n));
    n->id = (uint64_t)sqlite3_column_int64(q, c);
    n->app = (uint32_t)sqlite3_column_int64(q, c + 1);
    n->number = (sn_number)sqlite3_column_int64(q, c + 2);
    n->kind = (uint8_t)sqlite3_column_int(q, c + 3);
    n->source = (uint8_t)sqlite3_column_int(q, c + 4);
    n->event = (uint8_t)sqlite3_column_int(q, c + 5);
    n->outcome = (uint8_t)sqlite3_column_int(q, c + 6);
    if (sqlite3_column_bytes(q, c + 7) == SN_ACCOUNT_HASH_LEN) {
        n->has_account = 1;
        memcpy(n->account, sqlite3_column_blob(q, c + 7), SN_ACCOUNT_HASH_LEN);
    }
    n->tenure = (uint32_t)sqlite3_column_int64(q, c + 8);
    n->event_at = sqlite3_column_int64(q, c + 9);
    n->created = sqlite3_column_int64(q, c + 10);
    n->deadline = sqlite3_column_int64(q, c + 11);
    n->acked_at = sqlite3_column_int64(q, c + 12);
    copy_text(n->note, sizeof(n->note), q, c + 13);
    copy_text(n->app_name, sizeof(n->app_name), q, c + 14);
}

/* Run a one-off query and call row(ctx, q) per row until it returns non-zero. */
static int each_row(sqlite_store *s, sqlite3_stmt *q, int (*row)(void *, sqlite3_stmt *),
                    void *ctx, char *err, size_t errlen, const char *what)
{
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW)
        stop = row(ctx, q);
    if (stop)
        return stop;
    return rc == SQLITE_DONE ? SN_OK : db_fail(s, err, errlen, what);
}

typedef struct {
    int (*fn)(void *, const sn_notice *);
    void *ctx;
} notice_rows;

static int notice_row(void *ctx, sqlite3_stmt *q)
{
    notice_rows *r = ctx;
    sn_notice n;
    read_notice(q, 0, &n);
    return r->fn(r->ctx, &n);
}

static int sqlite_list_notices(sn_store *base, const sn_notice_query *nq,
                               int (*fn)(void *, const sn_notice *), void *ctx, char *err,
                               size_t errlen)
{
    static const char *const filters[] = {
        [SN_NOTICES_ALL] = "",
        [SN_NOTICES_OPEN] = " AND n.outcome = 0 AND (n.deadline = 0 OR n.deadline >= ?4)",
        [SN_NOTICES_ACKNOWLEDGED] = " AND n.outcome != 0",
        [SN_NOTICES_OVERDUE] = " AND n.outcome = 0 AND n.deadline > 0 AND n.deadline < ?4",
    };
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = NULL;
    char sql[512];
    notice_rows rows = {fn, ctx};
    int rc;
    if (nq->filter > SN_NOTICES_OVERDUE)
        return sn_fail(err, errlen, SN_EINVAL, "bad notice filter");
    snprintf(sql, sizeof(sql),
             "SELECT " NOTICE_COLUMNS " FROM notices n JOIN apps a ON a.id = n.app "
             "WHERE %s n.id > ?2%s ORDER BY n.id LIMIT ?3",
             nq->app != 0 ? "n.app = ?1 AND" : "", filters[nq->filter]);
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, errlen, "list notices");
    if (nq->app != 0)
        sqlite3_bind_int64(q, 1, nq->app);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)nq->after);
    sqlite3_bind_int64(q, 3, nq->limit);
    if (nq->filter == SN_NOTICES_OPEN || nq->filter == SN_NOTICES_OVERDUE)
        sqlite3_bind_int64(q, 4, nq->now);
    rc = each_row(s, q, notice_row, &rows, err, errlen, "list notices");
    sqlite3_finalize(q);
    return rc;
}

static int sqlite_get_notice(sn_store *base, uint64_t id, sn_notice *out, char *err,
                             size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_NOTICE_GET,
                             "SELECT " NOTICE_COLUMNS " FROM notices n JOIN apps a ON a.id = n.app "
                             "WHERE n.id = ?1",
                             err, errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        read_notice(q, 0, out);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return SN_OK;
    return rc == SQLITE_DONE ? sn_fail(err, errlen, SN_ENOTFOUND, "no notice %llu",
                                       (unsigned long long)id)
                             : db_fail(s, err, errlen, "read notice");
}

static int sqlite_ack_notice(sn_store *base, uint64_t id, int outcome, const char *note,
                             int64_t at, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_NOTICE_ACK,
                             "UPDATE notices SET outcome = ?2, note = ?3, acked_at = ?4 "
                             "WHERE id = ?1",
                             err, errlen);
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    sqlite3_bind_int(q, 2, outcome);
    if (note != NULL)
        sqlite3_bind_text(q, 3, note, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 3);
    sqlite3_bind_int64(q, 4, at);
    return step_done(s, q, err, errlen, "acknowledge notice");
}

#define DELIVERY_COLUMNS                                                                       \
    "d.notice, d.app, d.number, d.state, d.attempts, d.first_at, d.next_at, d.last_error"

static void read_delivery(sqlite3_stmt *q, int c, sn_delivery *d)
{
    memset(d, 0, sizeof(*d));
    d->notice = (uint64_t)sqlite3_column_int64(q, c);
    d->app = (uint32_t)sqlite3_column_int64(q, c + 1);
    d->number = (sn_number)sqlite3_column_int64(q, c + 2);
    d->state = (uint8_t)sqlite3_column_int(q, c + 3);
    d->attempts = (uint32_t)sqlite3_column_int64(q, c + 4);
    d->first_at_ms = sqlite3_column_int64(q, c + 5);
    d->next_at_ms = sqlite3_column_int64(q, c + 6);
    copy_text(d->last_error, sizeof(d->last_error), q, c + 7);
}

typedef struct {
    int (*fn)(void *, const sn_delivery *, const sn_notice *, const sn_app *);
    void *ctx;
    uint32_t n;
} due_rows;

static int due_row(void *ctx, sqlite3_stmt *q)
{
    due_rows *r = ctx;
    sn_delivery d;
    sn_notice n;
    sn_app a;
    read_delivery(q, 0, &d);
    read_notice(q, 8, &n);
    read_app(q, 8 + NOTICE_NCOLUMNS, &a);
    snprintf(d.app_name, sizeof(d.app_name), "%s", a.name);
    r->n++;
    return r->fn(r->ctx, &d, &n, &a);
}

#define DUE_SQL(cursor)                                                                          \
    "SELECT " DELIVERY_COLUMNS ", " NOTICE_COLUMNS ", " APP_COLUMNS                              \
    " FROM deliveries d JOIN notices n ON n.id = d.notice JOIN apps a ON a.id = d.app "          \
    "WHERE d.state = 0 AND " cursor " AND d.next_at <= ?1 AND d.number % ?6 = ?5 AND "           \
    "a.webhook_url IS NOT NULL AND "                                                             \
    "NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.state = 0 AND e.app = d.app AND "            \
    "e.number = d.number AND e.notice < d.notice) ORDER BY d.next_at, d.notice LIMIT ?2"

/* The cursor (next_at, notice) is applied in two index seeks, because
 * SQLite seeks a row-value comparison on its first column only, and
 * deliveries queued together share one next_at: first the rest of the
 * cursor's own next_at, then the later ones. */
static int sqlite_due_deliveries(sn_store *base, int64_t now_ms, int64_t after_at_ms,
                                 uint64_t after_notice, uint32_t part, uint32_t nparts, uint32_t limit,
                                 int (*fn)(void *, const sn_delivery *, const sn_notice *,
                                           const sn_app *),
                                 void *ctx, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *same = cached(s, X_DUE, DUE_SQL("d.next_at = ?3 AND d.notice > ?4"), err, errlen);
    sqlite3_stmt *later = cached(s, X_DUE_LATER, DUE_SQL("d.next_at > ?3"), err, errlen);
    due_rows rows = {fn, ctx, 0};
    int rc;
    if (same == NULL || later == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(same, 1, now_ms);
    sqlite3_bind_int64(same, 2, limit);
    sqlite3_bind_int64(same, 3, after_at_ms);
    sqlite3_bind_int64(same, 4, (sqlite3_int64)after_notice);
    sqlite3_bind_int64(same, 5, part);
    sqlite3_bind_int64(same, 6, nparts > 0 ? nparts : 1);
    rc = each_row(s, same, due_row, &rows, err, errlen, "due deliveries");
    sqlite3_reset(same);
    if (rc != SN_OK || rows.n >= limit)
        return rc;
    sqlite3_bind_int64(later, 1, now_ms);
    sqlite3_bind_int64(later, 2, limit - rows.n);
    sqlite3_bind_int64(later, 3, after_at_ms);
    sqlite3_bind_int64(later, 5, part);
    sqlite3_bind_int64(later, 6, nparts > 0 ? nparts : 1);
    rc = each_row(s, later, due_row, &rows, err, errlen, "due deliveries");
    sqlite3_reset(later);
    return rc;
}


static int sqlite_relax_durability(sn_store *base, char *err, size_t errlen)
{
    return exec_sql(to_sqlite(base), "PRAGMA synchronous = NORMAL", err, errlen);
}

static int sqlite_update_delivery(sn_store *base, const sn_delivery *d, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_DELIVERY_PUT,
                             "UPDATE deliveries SET state = ?2, attempts = ?3, first_at = ?4, "
                             "next_at = ?5, last_error = ?6 WHERE notice = ?1",
                             err, errlen);
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)d->notice);
    sqlite3_bind_int(q, 2, d->state);
    sqlite3_bind_int64(q, 3, d->attempts);
    sqlite3_bind_int64(q, 4, d->first_at_ms);
    sqlite3_bind_int64(q, 5, d->next_at_ms);
    if (d->last_error[0] != '\0')
        sqlite3_bind_text(q, 6, d->last_error, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 6);
    return step_done(s, q, err, errlen, "update delivery");
}

typedef struct {
    int (*fn)(void *, const sn_delivery *);
    void *ctx;
} delivery_rows;

static int delivery_row(void *ctx, sqlite3_stmt *q)
{
    delivery_rows *r = ctx;
    sn_delivery d;
    read_delivery(q, 0, &d);
    copy_text(d.app_name, sizeof(d.app_name), q, 8);
    return r->fn(r->ctx, &d);
}

static int sqlite_list_deliveries(sn_store *base, uint32_t app, int state, uint64_t after,
                                  uint32_t limit, int (*fn)(void *, const sn_delivery *),
                                  void *ctx, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = NULL;
    delivery_rows rows = {fn, ctx};
    char sql[512];
    int rc;
    snprintf(sql, sizeof(sql),
             "SELECT " DELIVERY_COLUMNS ", a.name FROM deliveries d JOIN apps a ON a.id = d.app "
             "WHERE %s d.state = ?2 AND d.notice > ?3 ORDER BY d.notice LIMIT ?4",
             app != 0 ? "d.app = ?1 AND" : "");
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, errlen, "list deliveries");
    if (app != 0)
        sqlite3_bind_int64(q, 1, app);
    sqlite3_bind_int(q, 2, state);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)after);
    sqlite3_bind_int64(q, 4, limit);
    rc = each_row(s, q, delivery_row, &rows, err, errlen, "list deliveries");
    sqlite3_finalize(q);
    return rc;
}

static int count_row(void *ctx, sqlite3_stmt *q)
{
    uint64_t *counts = ctx;
    int state = sqlite3_column_int(q, 0);
    if (state >= 0 && state <= SN_DELIVERY_DEAD)
        counts[state] = (uint64_t)sqlite3_column_int64(q, 1);
    return 0;
}

static int sqlite_delivery_counts(sn_store *base, uint32_t app, uint64_t counts[3], char *err,
                                  size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_DELIVERY_COUNTS,
                             "SELECT state, count(*) FROM deliveries WHERE app = ?1 GROUP BY state",
                             err, errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    counts[0] = counts[1] = counts[2] = 0;
    sqlite3_bind_int64(q, 1, app);
    rc = each_row(s, q, count_row, counts, err, errlen, "count deliveries");
    sqlite3_reset(q);
    return rc;
}

static int sqlite_next_delivery(sn_store *base, int64_t *at_ms, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_NEXT_DELIVERY,
                             "SELECT coalesce(min(next_at), 0) FROM deliveries WHERE state = 0",
                             err, errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *at_ms = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? SN_OK : db_fail(s, err, errlen, "next delivery");
}

typedef struct {
    int (*fn)(void *, sn_number, sn_day, sn_day);
    void *ctx;
    sn_day since;
} disconnection_rows;

/* A reissue is an activation that started a tenure after an earlier one, or
 * after a history that began with something else. */
static int disconnection_row(void *ctx, sqlite3_stmt *q)
{
    disconnection_rows *r = ctx;
    sn_day cancelled = (sn_day)sqlite3_column_int64(q, 1);
    sn_day activated = (sn_day)sqlite3_column_int64(q, 2);
    int reissue = sqlite3_column_int64(q, 3) > 1 || !sqlite3_column_int(q, 4);
    if (cancelled == SN_DAY_NONE || cancelled < r->since)
        cancelled = SN_DAY_NONE;
    if (!reissue || activated == SN_DAY_NONE || activated < r->since)
        activated = SN_DAY_NONE;
    return r->fn(r->ctx, (sn_number)sqlite3_column_int64(q, 0), cancelled, activated);
}

static int sqlite_list_disconnections(sn_store *base, sn_day since, sn_number after,
                                      uint32_t limit,
                                      int (*fn)(void *, sn_number, sn_day, sn_day), void *ctx,
                                      char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_DISCONNECTIONS,
                             "SELECT number, last_cancel_day, last_activation_day, tenure, "
                             "first_is_activation FROM numbers WHERE number > ?2 AND "
                             "((last_cancel_day != ?4 AND last_cancel_day >= ?1) OR "
                             "(last_activation_day != ?4 AND last_activation_day >= ?1 AND "
                             "(tenure > 1 OR first_is_activation = 0))) ORDER BY number LIMIT ?3",
                             err, errlen);
    disconnection_rows rows = {fn, ctx, since};
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, since);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)after);
    sqlite3_bind_int64(q, 3, limit);
    sqlite3_bind_int64(q, 4, SN_DAY_NONE);
    rc = each_row(s, q, disconnection_row, &rows, err, errlen, "list disconnections");
    sqlite3_reset(q);
    return rc;
}

typedef struct {
    int (*fn)(void *, const sn_app_stats *);
    void *ctx;
} stats_rows;

static int stats_row(void *ctx, sqlite3_stmt *q)
{
    stats_rows *r = ctx;
    sn_app_stats st;
    memset(&st, 0, sizeof(st));
    st.app = (uint32_t)sqlite3_column_int64(q, 0);
    copy_text(st.name, sizeof(st.name), q, 1);
    st.webhook = sqlite3_column_type(q, 2) != SQLITE_NULL;
    st.bindings = (uint64_t)sqlite3_column_int64(q, 3);
    st.numbers = (uint64_t)sqlite3_column_int64(q, 4);
    st.notices = (uint64_t)sqlite3_column_int64(q, 5);
    st.acknowledged = (uint64_t)sqlite3_column_int64(q, 6);
    st.overdue = (uint64_t)sqlite3_column_int64(q, 7);
    st.pending = (uint64_t)sqlite3_column_int64(q, 8);
    st.dead = (uint64_t)sqlite3_column_int64(q, 9);
    return r->fn(r->ctx, &st);
}

static int sqlite_app_stats(sn_store *base, int64_t now,
                            int (*fn)(void *, const sn_app_stats *), void *ctx, char *err,
                            size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = NULL;
    stats_rows rows = {fn, ctx};
    int rc;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT a.id, a.name, a.webhook_url,"
            " (SELECT count(*) FROM bindings b WHERE b.app = a.id),"
            " (SELECT count(DISTINCT number) FROM bindings b WHERE b.app = a.id),"
            " (SELECT count(*) FROM notices n WHERE n.app = a.id),"
            " (SELECT count(*) FROM notices n WHERE n.app = a.id AND n.outcome != 0),"
            " (SELECT count(*) FROM notices n WHERE n.app = a.id AND n.outcome = 0 AND"
            "  n.deadline > 0 AND n.deadline < ?1),"
            " (SELECT count(*) FROM deliveries d WHERE d.app = a.id AND d.state = 0),"
            " (SELECT count(*) FROM deliveries d WHERE d.app = a.id AND d.state = 2)"
            " FROM apps a ORDER BY a.name",
            -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, errlen, "app stats");
    sqlite3_bind_int64(q, 1, now);
    rc = each_row(s, q, stats_row, &rows, err, errlen, "app stats");
    sqlite3_finalize(q);
    return rc;
}

/* ---- subscribers: SMS, sign-in, requests, complaints (schema version 3) ---- */

static void copy_lang(char *dst, sqlite3_stmt *q, int col)
{
    const char *t = (const char *)sqlite3_column_text(q, col);
    snprintf(dst, SN_LANG_LEN + 1, "%s", t != NULL ? t : "");
}

#define SMS_COLUMNS                                                                            \
    "id, number, purpose, state, lang, body, created, attempts, next_at, sent_at, error"

static void read_sms(sqlite3_stmt *q, sn_sms_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->id = (uint64_t)sqlite3_column_int64(q, 0);
    m->number = (sn_number)sqlite3_column_int64(q, 1);
    m->purpose = (uint8_t)sqlite3_column_int(q, 2);
    m->state = (uint8_t)sqlite3_column_int(q, 3);
    copy_lang(m->lang, q, 4);
    copy_text(m->text, sizeof(m->text), q, 5);
    m->created = sqlite3_column_int64(q, 6);
    m->attempts = (uint32_t)sqlite3_column_int64(q, 7);
    m->next_at_ms = sqlite3_column_int64(q, 8);
    m->sent_at = sqlite3_column_int64(q, 9);
    copy_text(m->error, sizeof(m->error), q, 10);
}

static int sqlite_sms_add(sn_store *base, const sn_sms_msg *m, uint64_t *id, char *err,
                          size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_SMS_ADD,
                             "INSERT INTO sms(number, purpose, state, lang, body, created, "
                             "next_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                             err, errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)m->number);
    sqlite3_bind_int(q, 2, m->purpose);
    sqlite3_bind_int(q, 3, m->state);
    sqlite3_bind_text(q, 4, m->lang, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, m->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, m->created);
    sqlite3_bind_int64(q, 7, m->next_at_ms);
    if ((rc = step_done(s, q, err, errlen, "queue sms")) == SN_OK)
        *id = (uint64_t)sqlite3_last_insert_rowid(s->db);
    return rc;
}

typedef struct {
    int (*fn)(void *, const sn_sms_msg *);
    void *ctx;
} sms_rows;

static int sms_row(void *ctx, sqlite3_stmt *q)
{
    sms_rows *r = ctx;
    sn_sms_msg m;
    read_sms(q, &m);
    return r->fn(r->ctx, &m);
}

static int sqlite_sms_list(sn_store *base, sn_number n, int state, uint64_t after, uint32_t limit,
                           int (*fn)(void *, const sn_sms_msg *), void *ctx, char *err,
                           size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_SMS_LIST,
                             "SELECT " SMS_COLUMNS " FROM sms WHERE (?1 = 0 OR number = ?1) AND "
                             "(?2 < 0 OR state = ?2) AND id > ?3 ORDER BY id LIMIT ?4",
                             err, errlen);
    sms_rows rows = {fn, ctx};
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)n);
    sqlite3_bind_int(q, 2, state);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)after);
    sqlite3_bind_int64(q, 4, limit);
    rc = each_row(s, q, sms_row, &rows, err, errlen, "list sms");
    sqlite3_reset(q);
    return rc;
}

static int sqlite_sms_due(sn_store *base, int64_t now_ms, uint32_t limit,
                          int (*fn)(void *, const sn_sms_msg *), void *ctx, char *err,
                          size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_SMS_DUE,
                             "SELECT " SMS_COLUMNS " FROM sms WHERE state = 0 AND next_at <= ?1 "
                             "ORDER BY next_at, id LIMIT ?2",
                             err, errlen);
    sms_rows rows = {fn, ctx};
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, now_ms);
    sqlite3_bind_int64(q, 2, limit);
    rc = each_row(s, q, sms_row, &rows, err, errlen, "due sms");
    sqlite3_reset(q);
    return rc;
}

static int sqlite_sms_update(sn_store *base, const sn_sms_msg *m, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_SMS_UPDATE,
                             "UPDATE sms SET state = ?2, attempts = ?3, next_at = ?4, sent_at = ?5, "
                             "error = ?6, body = CASE WHEN ?2 IN (1, 2) THEN NULL ELSE body END "
                             "WHERE id = ?1",
                             err, errlen);
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)m->id);
    sqlite3_bind_int(q, 2, m->state);
    sqlite3_bind_int64(q, 3, m->attempts);
    sqlite3_bind_int64(q, 4, m->next_at_ms);
    sqlite3_bind_int64(q, 5, m->sent_at);
    if (m->error[0] != '\0')
        sqlite3_bind_text(q, 6, m->error, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 6);
    return step_done(s, q, err, errlen, "update sms");
}

static int sqlite_otp_get(sn_store *base, sn_number n, sn_otp *out, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_OTP_GET,
                             "SELECT code_hash, created, expires, attempts, locked_until, lang "
                             "FROM otp WHERE number = ?1",
                             err, errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)n);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        out->number = n;
        if (sqlite3_column_bytes(q, 0) == SN_SECRET_HASH_LEN)
            memcpy(out->code_hash, sqlite3_column_blob(q, 0), SN_SECRET_HASH_LEN);
        out->created = sqlite3_column_int64(q, 1);
        out->expires = sqlite3_column_int64(q, 2);
        out->attempts = (uint32_t)sqlite3_column_int64(q, 3);
        out->locked_until = sqlite3_column_int64(q, 4);
        copy_lang(out->lang, q, 5);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return SN_OK;
    return rc == SQLITE_DONE ? sn_fail(err, errlen, SN_ENOTFOUND, "no code")
                             : db_fail(s, err, errlen, "read code");
}

static int sqlite_otp_put(sn_store *base, const sn_otp *o, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_OTP_PUT,
                             "INSERT OR REPLACE INTO otp(number, code_hash, created, expires, "
                             "attempts, locked_until, lang) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                             err, errlen);
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)o->number);
    sqlite3_bind_blob(q, 2, o->code_hash, SN_SECRET_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, o->created);
    sqlite3_bind_int64(q, 4, o->expires);
    sqlite3_bind_int64(q, 5, o->attempts);
    sqlite3_bind_int64(q, 6, o->locked_until);
    sqlite3_bind_text(q, 7, o->lang, -1, SQLITE_STATIC);
    return step_done(s, q, err, errlen, "write code");
}

static int sqlite_otp_delete(sn_store *base, sn_number n, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_OTP_DELETE, "DELETE FROM otp WHERE number = ?1", err, errlen);
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)n);
    return step_done(s, q, err, errlen, "delete code");
}

static int sqlite_rate_hit(sn_store *base, const char *bucket, int64_t window, uint32_t *count,
                           char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_RATE_HIT,
                             "INSERT INTO rate_limits(bucket, win_start, hits) VALUES (?1, ?2, 1) "
                             "ON CONFLICT(bucket) DO UPDATE SET hits = CASE WHEN win_start = ?2 "
                             "THEN hits + 1 ELSE 1 END, win_start = ?2 RETURNING hits",
                             err, errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_text(q, 1, bucket, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, window);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *count = (uint32_t)sqlite3_column_int64(q, 0);
    if (rc == SQLITE_ROW)
        rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? SN_OK : db_fail(s, err, errlen, "rate limit");
}

static int sqlite_session_put(sn_store *base, const sn_session *ses, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_SESSION_PUT,
                             "INSERT INTO sessions(token_hash, number, tenure, cancel_day, created, "
                             "expires, lang) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                             err, errlen);
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_blob(q, 1, ses->token_hash, SN_SECRET_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)ses->number);
    sqlite3_bind_int64(q, 3, ses->tenure);
    sqlite3_bind_int64(q, 4, ses->cancel_day);
    sqlite3_bind_int64(q, 5, ses->created);
    sqlite3_bind_int64(q, 6, ses->expires);
    sqlite3_bind_text(q, 7, ses->lang, -1, SQLITE_STATIC);
    return step_done(s, q, err, errlen, "write session");
}

static int sqlite_session_get(sn_store *base, const uint8_t hash[SN_SECRET_HASH_LEN],
                              sn_session *out, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_SESSION_GET,
                             "SELECT number, tenure, cancel_day, created, expires, lang FROM "
                             "sessions WHERE token_hash = ?1",
                             err, errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_blob(q, 1, hash, SN_SECRET_HASH_LEN, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        memcpy(out->token_hash, hash, SN_SECRET_HASH_LEN);
        out->number = (sn_number)sqlite3_column_int64(q, 0);
        out->tenure = (uint32_t)sqlite3_column_int64(q, 1);
        out->cancel_day = (sn_day)sqlite3_column_int64(q, 2);
        out->created = sqlite3_column_int64(q, 3);
        out->expires = sqlite3_column_int64(q, 4);
        copy_lang(out->lang, q, 5);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return SN_OK;
    return rc == SQLITE_DONE ? sn_fail(err, errlen, SN_ENOTFOUND, "no session")
                             : db_fail(s, err, errlen, "read session");
}

static int sqlite_session_delete(sn_store *base, const uint8_t hash[SN_SECRET_HASH_LEN], char *err,
                                 size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q =
        cached(s, X_SESSION_DELETE, "DELETE FROM sessions WHERE token_hash = ?1", err, errlen);
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_blob(q, 1, hash, SN_SECRET_HASH_LEN, SQLITE_STATIC);
    return step_done(s, q, err, errlen, "delete session");
}

/* Rate-limit windows are at most an hour long: rows two hours old are dead. */
static void bind_now(sqlite3_stmt *q, const void *arg)
{
    sqlite3_bind_int64(q, 1, *(const int64_t *)arg);
}

static int sqlite_subscriber_purge(sn_store *base, int64_t now, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    int rc = run_once(s, "DELETE FROM sessions WHERE expires < ?1", bind_now, &now, err, errlen);
    if (rc == SN_OK)
        rc = run_once(s, "DELETE FROM otp WHERE expires < ?1 AND locked_until < ?1", bind_now,
                      &now, err, errlen);
    if (rc == SN_OK)
        rc = run_once(s, "DELETE FROM rate_limits WHERE win_start < ?1 - 7200", bind_now, &now,
                      err, errlen);
    return rc;
}

typedef struct {
    int (*fn)(void *, const sn_binding *, const char *, const char *);
    void *ctx;
    sn_number n;
} number_binding_rows;

static int number_binding_row(void *ctx, sqlite3_stmt *q)
{
    number_binding_rows *r = ctx;
    sn_binding b = {.number = r->n};
    b.app = (uint32_t)sqlite3_column_int64(q, 0);
    if (sqlite3_column_bytes(q, 1) == SN_ACCOUNT_HASH_LEN)
        memcpy(b.account, sqlite3_column_blob(q, 1), SN_ACCOUNT_HASH_LEN);
    b.bound_at = sqlite3_column_int64(q, 2);
    b.tenure = (uint32_t)sqlite3_column_int64(q, 3);
    return r->fn(r->ctx, &b, (const char *)sqlite3_column_text(q, 4),
                 (const char *)sqlite3_column_text(q, 5));
}

static int sqlite_number_bindings(sn_store *base, sn_number n,
                                  int (*fn)(void *, const sn_binding *, const char *, const char *),
                                  void *ctx, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_NUMBER_BINDINGS,
                             "SELECT b.app, b.account, b.bound_at, b.tenure, a.name, "
                             "coalesce(a.display_name, '') FROM bindings b JOIN apps a ON "
                             "a.id = b.app WHERE b.number = ?1 ORDER BY a.name, b.bound_at",
                             err, errlen);
    number_binding_rows rows = {fn, ctx, n};
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)n);
    rc = each_row(s, q, number_binding_row, &rows, err, errlen, "bindings of a number");
    sqlite3_reset(q);
    return rc;
}

static int sqlite_set_app_display(sn_store *base, uint32_t app, const char *display, char *err,
                                  size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_APP_DISPLAY_SET,
                             "UPDATE apps SET display_name = nullif(?2, '') WHERE id = ?1", err,
                             errlen);
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, app);
    sqlite3_bind_text(q, 2, display, -1, SQLITE_STATIC);
    return step_done(s, q, err, errlen, "set display name");
}

static int sqlite_app_display(sn_store *base, uint32_t app, char display[SN_DISPLAY_NAME_MAX + 1],
                              char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_APP_DISPLAY_GET,
                             "SELECT coalesce(display_name, '') FROM apps WHERE id = ?1", err,
                             errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, app);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        copy_text(display, SN_DISPLAY_NAME_MAX + 1, q, 0);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return SN_OK;
    return rc == SQLITE_DONE ? sn_fail(err, errlen, SN_ENOTFOUND, "no app %u", app)
                             : db_fail(s, err, errlen, "read display name");
}

/* One unbind_request per binding in scope that has none open already. */
static const char request_notices_sql[] =
    "INSERT INTO notices(app, number, kind, source, event, event_at, tenure, account, created, "
    "deadline, request) SELECT b.app, b.number, 3, 1, 0, ?5, b.tenure, b.account, ?5, ?6, ?7 "
    "FROM bindings b WHERE b.number = ?1 AND b.app = ?2 AND "
    "(CASE ?3 WHEN 1 THEN b.tenure < ?4 ELSE b.tenure = ?4 END) AND NOT EXISTS (SELECT 1 FROM "
    "notices n WHERE n.number = b.number AND n.outcome = 0 AND n.app = b.app AND n.kind = 3 AND "
    "n.account = b.account) ORDER BY b.account";

static int sqlite_add_request(sn_store *base, sn_request *r, int64_t now_ms, size_t *issued,
                              char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *rq = cached(s, X_REQUEST_ADD,
                              "INSERT INTO requests(number, tenure, app, scope, created, deadline) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                              err, errlen);
    sqlite3_stmt *nq = cached(s, X_REQUEST_NOTICES, request_notices_sql, err, errlen);
    sqlite3_stmt *dq = cached(s, X_ISSUE_DELIVERIES, issue_deliveries_sql, err, errlen);
    sqlite3_stmt *mq = cached(s, X_MAX_NOTICE, "SELECT coalesce(max(id), 0) FROM notices", err,
                              errlen);
    sqlite3_int64 last;
    int rc;
    *issued = 0;
    if (rq == NULL || nq == NULL || dq == NULL || mq == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(rq, 1, (sqlite3_int64)r->number);
    sqlite3_bind_int64(rq, 2, r->tenure);
    sqlite3_bind_int64(rq, 3, r->app);
    sqlite3_bind_int(rq, 4, r->scope);
    sqlite3_bind_int64(rq, 5, r->created);
    sqlite3_bind_int64(rq, 6, r->deadline);
    if ((rc = step_done(s, rq, err, errlen, "add request")) != SN_OK)
        return rc;
    r->id = (uint64_t)sqlite3_last_insert_rowid(s->db);
    if (sqlite3_step(mq) != SQLITE_ROW) {
        sqlite3_reset(mq);
        return db_fail(s, err, errlen, "add request");
    }
    last = sqlite3_column_int64(mq, 0);
    sqlite3_reset(mq);
    sqlite3_bind_int64(nq, 1, (sqlite3_int64)r->number);
    sqlite3_bind_int64(nq, 2, r->app);
    sqlite3_bind_int(nq, 3, r->scope);
    sqlite3_bind_int64(nq, 4, r->tenure);
    sqlite3_bind_int64(nq, 5, r->created);
    sqlite3_bind_int64(nq, 6, r->deadline);
    sqlite3_bind_int64(nq, 7, (sqlite3_int64)r->id);
    if ((rc = step_done(s, nq, err, errlen, "issue unbind requests")) != SN_OK)
        return rc;
    *issued = (size_t)sqlite3_changes(s->db);
    if (*issued == 0)
        return SN_OK;
    s->any_open_notices = 1;
    sqlite3_bind_int64(dq, 1, last);
    sqlite3_bind_int64(dq, 2, now_ms);
    return step_done(s, dq, err, errlen, "queue deliveries");
}

typedef struct {
    int (*fn)(void *, const sn_request *);
    void *ctx;
    sn_number n;
    uint32_t tenure;
} request_rows;

static int request_row(void *ctx, sqlite3_stmt *q)
{
    request_rows *rr = ctx;
    sn_request r;
    memset(&r, 0, sizeof(r));
    r.number = rr->n;
    r.tenure = rr->tenure;
    r.id = (uint64_t)sqlite3_column_int64(q, 0);
    r.app = (uint32_t)sqlite3_column_int64(q, 1);
    r.scope = (uint8_t)sqlite3_column_int(q, 2);
    r.created = sqlite3_column_int64(q, 3);
    r.deadline = sqlite3_column_int64(q, 4);
    copy_text(r.app_name, sizeof(r.app_name), q, 5);
    copy_text(r.display, sizeof(r.display), q, 6);
    r.notices = (uint32_t)sqlite3_column_int64(q, 7);
    r.acknowledged = (uint32_t)sqlite3_column_int64(q, 8);
    for (int i = SN_OUTCOME_UNBOUND; i <= SN_OUTCOME_REFUSED; i++)
        r.outcomes[i] = (uint32_t)sqlite3_column_int64(q, 8 + i);
    return rr->fn(rr->ctx, &r);
}

#define SN_REQUESTS_LISTED 500 /* newest first; older ones are history */

static int sqlite_list_requests(sn_store *base, sn_number n, uint32_t tenure,
                                int (*fn)(void *, const sn_request *), void *ctx, char *err,
                                size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(
        s, X_REQUEST_LIST,
        "SELECT r.id, r.app, r.scope, r.created, r.deadline, a.name, coalesce(a.display_name, ''), "
        "count(n.id), coalesce(sum(n.outcome != 0), 0), coalesce(sum(n.outcome = 1), 0), "
        "coalesce(sum(n.outcome = 2), 0), coalesce(sum(n.outcome = 3), 0), "
        "coalesce(sum(n.outcome = 4), 0) FROM requests r JOIN apps a ON a.id = r.app "
        "LEFT JOIN notices n ON n.request = r.id WHERE r.number = ?1 AND r.tenure = ?2 "
        "GROUP BY r.id ORDER BY r.id DESC LIMIT ?3",
        err, errlen);
    request_rows rows = {fn, ctx, n, tenure};
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)n);
    sqlite3_bind_int64(q, 2, tenure);
    sqlite3_bind_int64(q, 3, SN_REQUESTS_LISTED);
    rc = each_row(s, q, request_row, &rows, err, errlen, "list requests");
    sqlite3_reset(q);
    return rc;
}

static int sqlite_add_complaint(sn_store *base, sn_complaint *c, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_COMPLAINT_ADD,
                             "INSERT INTO complaints(number, tenure, app, carrier, kind, body, "
                             "created, period) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                             err, errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)c->number);
    sqlite3_bind_int64(q, 2, c->tenure);
    sqlite3_bind_int64(q, 3, c->app);
    sqlite3_bind_int64(q, 4, c->carrier);
    sqlite3_bind_int(q, 5, c->kind);
    sqlite3_bind_text(q, 6, c->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, c->created);
    sqlite3_bind_int64(q, 8, c->period > 0 ? c->period : 1);
    if ((rc = step_done(s, q, err, errlen, "add complaint")) == SN_OK)
        c->id = (uint64_t)sqlite3_last_insert_rowid(s->db);
    return rc;
}

#define COMPLAINT_COLUMNS                                                                      \
    "c.id, c.number, c.tenure, c.app, c.carrier, c.kind, c.resolved_level, c.created, "        \
    "c.period, c.resolved_at, c.body, c.resolution, coalesce(a.name, ''), "                    \
    "coalesce(a.display_name, ''), coalesce(k.name, '') FROM complaints c LEFT JOIN apps a "   \
    "ON a.id = c.app LEFT JOIN carriers k ON k.id = c.carrier"

static void read_complaint(sqlite3_stmt *q, sn_complaint *c)
{
    memset(c, 0, sizeof(*c));
    c->id = (uint64_t)sqlite3_column_int64(q, 0);
    c->number = (sn_number)sqlite3_column_int64(q, 1);
    c->tenure = (uint32_t)sqlite3_column_int64(q, 2);
    c->app = (uint32_t)sqlite3_column_int64(q, 3);
    c->carrier = (uint32_t)sqlite3_column_int64(q, 4);
    c->kind = (uint8_t)sqlite3_column_int(q, 5);
    c->resolved_level = (uint8_t)sqlite3_column_int(q, 6);
    c->created = sqlite3_column_int64(q, 7);
    c->period = sqlite3_column_int64(q, 8);
    c->resolved_at = sqlite3_column_int64(q, 9);
    copy_text(c->text, sizeof(c->text), q, 10);
    copy_text(c->resolution, sizeof(c->resolution), q, 11);
    copy_text(c->app_name, sizeof(c->app_name), q, 12);
    copy_text(c->display, sizeof(c->display), q, 13);
    copy_text(c->carrier_name, sizeof(c->carrier_name), q, 14);
}

typedef struct {
    int (*fn)(void *, const sn_complaint *);
    void *ctx;
} complaint_rows;

static int complaint_row(void *ctx, sqlite3_stmt *q)
{
    complaint_rows *r = ctx;
    sn_complaint c;
    read_complaint(q, &c);
    return r->fn(r->ctx, &c);
}

/* The level a complaint has reached by time T (its resolution, or now):
 * one step per period, from the app (or the carrier when it names none). */
#define COMPLAINT_LEVEL_SQL                                                                    \
    "((c.app = 0) + (coalesce(nullif(c.resolved_at, 0), ?5) - c.created) / c.period)"

static int sqlite_list_complaints(sn_store *base, const sn_complaint_query *cq,
                                  int (*fn)(void *, const sn_complaint *), void *ctx, char *err,
                                  size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = NULL;
    complaint_rows rows = {fn, ctx};
    char sql[1024];
    int rc;
    snprintf(sql, sizeof(sql),
             "SELECT " COMPLAINT_COLUMNS " WHERE c.id > ?7%s%s%s%s%s ORDER BY c.id LIMIT ?8",
             cq->number != 0 ? " AND c.number = ?1 AND c.tenure = ?2" : "",
             cq->app != 0 ? " AND c.app = ?3" : "", cq->carrier != 0 ? " AND c.carrier = ?4" : "",
             cq->min_level > 0 ? " AND " COMPLAINT_LEVEL_SQL " >= ?6" : "",
             cq->open_only ? " AND c.resolved_at = 0" : "");
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, errlen, "list complaints");
    if (cq->number != 0) {
        sqlite3_bind_int64(q, 1, (sqlite3_int64)cq->number);
        sqlite3_bind_int64(q, 2, cq->tenure);
    }
    if (cq->app != 0)
        sqlite3_bind_int64(q, 3, cq->app);
    if (cq->carrier != 0)
        sqlite3_bind_int64(q, 4, cq->carrier);
    if (cq->min_level > 0) {
        sqlite3_bind_int64(q, 5, cq->now);
        sqlite3_bind_int(q, 6, cq->min_level);
    }
    sqlite3_bind_int64(q, 7, (sqlite3_int64)cq->after);
    sqlite3_bind_int64(q, 8, cq->limit);
    rc = each_row(s, q, complaint_row, &rows, err, errlen, "list complaints");
    sqlite3_finalize(q);
    return rc;
}

static int sqlite_get_complaint(sn_store *base, uint64_t id, sn_complaint *out, char *err,
                                size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q =
        cached(s, X_COMPLAINT_GET, "SELECT " COMPLAINT_COLUMNS " WHERE c.id = ?1", err, errlen);
    int rc;
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        read_complaint(q, out);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return SN_OK;
    return rc == SQLITE_DONE ? sn_fail(err, errlen, SN_ENOTFOUND, "no complaint %llu",
                                       (unsigned long long)id)
                             : db_fail(s, err, errlen, "read complaint");
}

static int sqlite_resolve_complaint(sn_store *base, uint64_t id, int level, const char *resolution,
                                    int64_t at, char *err, size_t errlen)
{
    sqlite_store *s = to_sqlite(base);
    sqlite3_stmt *q = cached(s, X_COMPLAINT_RESOLVE,
                             "UPDATE complaints SET resolved_at = ?2, resolved_level = ?3, "
                             "resolution = ?4 WHERE id = ?1 AND resolved_at = 0",
                             err, errlen);
    if (q == NULL)
        return SN_ESTORE;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(q, 2, at);
    sqlite3_bind_int(q, 3, level + 1);
    if (resolution != NULL)
        sqlite3_bind_text(q, 4, resolution, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 4);
    return step_done(s, q, err, errlen, "resolve complaint");
}

static const sn_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .get_state = sqlite_get_state,
    .get_states = sqlite_get_states,
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
    .app_id = sqlite_app_id,
    .get_app = sqlite_get_app,
    .set_webhook = sqlite_set_webhook,
    .set_subscription = sqlite_set_subscription,
    .put_binding = sqlite_put_binding,
    .delete_binding = sqlite_delete_binding,
    .list_bindings = sqlite_list_bindings,
    .issue_notices = sqlite_issue_notices,
    .open_cancellations = sqlite_open_cancellations,
    .list_notices = sqlite_list_notices,
    .get_notice = sqlite_get_notice,
    .ack_notice = sqlite_ack_notice,
    .due_deliveries = sqlite_due_deliveries,
    .update_delivery = sqlite_update_delivery,
    .relax_durability = sqlite_relax_durability,
    .list_deliveries = sqlite_list_deliveries,
    .delivery_counts = sqlite_delivery_counts,
    .next_delivery = sqlite_next_delivery,
    .list_disconnections = sqlite_list_disconnections,
    .app_stats = sqlite_app_stats,
    .sms_add = sqlite_sms_add,
    .sms_list = sqlite_sms_list,
    .sms_due = sqlite_sms_due,
    .sms_update = sqlite_sms_update,
    .otp_get = sqlite_otp_get,
    .otp_put = sqlite_otp_put,
    .otp_delete = sqlite_otp_delete,
    .rate_hit = sqlite_rate_hit,
    .session_put = sqlite_session_put,
    .session_get = sqlite_session_get,
    .session_delete = sqlite_session_delete,
    .subscriber_purge = sqlite_subscriber_purge,
    .number_bindings = sqlite_number_bindings,
    .set_app_display = sqlite_set_app_display,
    .app_display = sqlite_app_display,
    .add_request = sqlite_add_request,
    .list_requests = sqlite_list_requests,
    .add_complaint = sqlite_add_complaint,
    .list_complaints = sqlite_list_complaints,
    .get_complaint = sqlite_get_complaint,
    .resolve_complaint = sqlite_resolve_complaint,
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
